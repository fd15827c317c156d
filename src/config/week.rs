//! Planning the week: how far ahead the coverage alarm looks, when before a
//! slot it speaks, and the token that opens the calendar feed.

use secrecy::SecretString;

use super::env::Env;
use super::ConfigError;
use crate::app::week::CoverageSettings;

pub const COVERAGE_HORIZON_HOURS: &str = "COVERAGE_HORIZON_HOURS";
pub const COVERAGE_REMINDER_HOURS: &str = "COVERAGE_REMINDER_HOURS";
pub const CALENDAR_FEED_TOKEN: &str = "CALENDAR_FEED_TOKEN";

/// A token shorter than this could be guessed; 32 characters of a random
/// string (e.g. `openssl rand -hex 24`) cannot.
const MIN_TOKEN_LEN: usize = 32;

#[derive(Debug)]
pub(super) struct Week {
    pub(super) coverage: CoverageSettings,
    pub(super) calendar_feed_token: Option<SecretString>,
}

pub(super) fn read(env: &Env<'_>) -> Result<Week, ConfigError> {
    let horizon_hours = env.parse(COVERAGE_HORIZON_HOURS, "48", "hours from 1 to 336", |v| {
        v.parse::<u32>().ok().filter(|n| (1..=336).contains(n))
    })?;
    let reminder_hours = env.parse(
        COVERAGE_REMINDER_HOURS,
        "24,6",
        &format!("hours before a slot separated by commas, each from 1 to {COVERAGE_HORIZON_HOURS} ({horizon_hours}), e.g. 24,6"),
        |v| {
            let hours: Option<Vec<u32>> = v
                .split(',')
                .map(|h| h.trim().parse::<u32>().ok().filter(|n| (1..=horizon_hours).contains(n)))
                .collect();
            hours.filter(|h| !h.is_empty())
        },
    )?;
    let calendar_feed_token = match env.optional(CALENDAR_FEED_TOKEN) {
        None => None,
        Some(token)
            if token.chars().count() >= MIN_TOKEN_LEN
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Some(SecretString::from(token))
        }
        Some(_) => {
            return Err(ConfigError::Invalid {
                var: CALENDAR_FEED_TOKEN,
                // A secret: never echoed, even when refused.
                value: "(hidden)".to_owned(),
                expected: format!(
                    "at least {MIN_TOKEN_LEN} letters, digits, - or _ (e.g. from openssl rand -hex 24), or unset to turn the feed off"
                ),
            });
        }
    };
    Ok(Week {
        coverage: CoverageSettings {
            horizon_hours,
            reminder_hours,
        },
        calendar_feed_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn week(vars: &[(&str, &str)]) -> Result<Week, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |k: &str| vars.get(k).cloned();
        read(&Env::new(&lookup))
    }

    #[test]
    fn defaults_watch_two_days_and_remind_a_day_and_six_hours_before() {
        let w = week(&[]).unwrap();
        assert_eq!(w.coverage, CoverageSettings::default());
        assert!(w.calendar_feed_token.is_none());
    }

    #[test]
    fn reminders_must_fall_within_the_horizon() {
        let w = week(&[
            (COVERAGE_HORIZON_HOURS, "72"),
            (COVERAGE_REMINDER_HOURS, "48, 12"),
        ])
        .unwrap();
        assert_eq!(w.coverage.reminder_hours, vec![48, 12]);
        assert!(week(&[(COVERAGE_REMINDER_HOURS, "72,6")]).is_err());
        assert!(week(&[(COVERAGE_REMINDER_HOURS, "soon")]).is_err());
    }

    #[test]
    fn a_short_feed_token_is_refused_without_showing_it() {
        let e = week(&[(CALENDAR_FEED_TOKEN, "secret")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(CALENDAR_FEED_TOKEN) && !e.contains("secret\""),
            "{e}"
        );
        assert!(week(&[(CALENDAR_FEED_TOKEN, &"a".repeat(32))])
            .unwrap()
            .calendar_feed_token
            .is_some());
    }
}
