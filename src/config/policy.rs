//! The shop's rules, as the domain's [`Policy`]: its time zone and currency,
//! which SKUs are well-formed, how far ahead and how long a session may be,
//! the four-eyes rule, when reminders and the heads-up go out, and the money
//! guards (`guards`, read here after the currency their budgets are in).
//!
//! These are the settings a business owner (not an operator) decides, and
//! they are read into the one typed value every use case is judged by, so a
//! rule has one source. The reminder offsets and the heads-up live here
//! although `.env.example` lists them under the scheduler: they become the
//! policy's `SchedulePolicy`, and one part building one `Policy` keeps it
//! from being assembled in two places.

use chrono_tz::Tz;

use super::env::{parse_bool, Env};
use super::ConfigError;
use crate::domain::{Currency, Policy, SchedulePolicy, SkuRules, WindowRules};

pub const BUSINESS_TIME_ZONE: &str = "BUSINESS_TIME_ZONE";
pub const CURRENCY: &str = "CURRENCY";
pub const SKU_PATTERN: &str = "SKU_PATTERN";
pub const SKU_MAX_LEN: &str = "SKU_MAX_LEN";
pub const APPROVAL_CUTOFF_MINUTES: &str = "APPROVAL_CUTOFF_MINUTES";
pub const MIN_LEAD_MINUTES: &str = "MIN_LEAD_MINUTES";
pub const MAX_SESSION_HOURS: &str = "MAX_SESSION_HOURS";
pub const ALLOW_SELF_APPROVAL: &str = "ALLOW_SELF_APPROVAL";
pub const REMINDER_OFFSETS: &str = "REMINDER_OFFSETS";
pub const HEADS_UP_MINUTES: &str = "HEADS_UP_MINUTES";

pub(super) fn read(env: &Env<'_>) -> Result<Policy, ConfigError> {
    let time_zone = env.parse(
        BUSINESS_TIME_ZONE,
        "Asia/Jakarta",
        "an IANA time zone such as Asia/Jakarta",
        |v| v.parse::<Tz>().ok(),
    )?;
    let currency = env.parse(
        CURRENCY,
        "IDR",
        "an ISO 4217 code such as IDR or USD",
        |v| Currency::from_code(v).ok(),
    )?;
    let sku = sku_rules(env)?;
    let approval_cutoff = minutes(env, APPROVAL_CUTOFF_MINUTES, "60", 7 * 24 * 60)?;
    let min_lead = minutes(env, MIN_LEAD_MINUTES, "5", 7 * 24 * 60)?;
    let max_hours = env.parse(
        MAX_SESSION_HOURS,
        "24",
        "a whole number of hours from 1 to 168",
        |v| v.parse::<i64>().ok().filter(|n| (1..=168).contains(n)),
    )?;
    let allow_self_approval =
        env.parse(ALLOW_SELF_APPROVAL, "false", "true or false", parse_bool)?;
    let reminder_offsets = env.parse(
        REMINDER_OFFSETS,
        "24h,6h,1h,15m",
        "a comma-separated list of durations such as 24h,6h,1h,15m",
        parse_offsets,
    )?;
    let heads_up_lead = minutes(env, HEADS_UP_MINUTES, "15", 24 * 60)?;
    let guards = super::guards::read(env, &currency)?;
    Ok(Policy {
        sku,
        window: WindowRules {
            min_lead,
            max_duration: chrono::Duration::hours(max_hours),
        },
        approval_cutoff,
        four_eyes: !allow_self_approval,
        currency,
        time_zone,
        schedule: SchedulePolicy {
            reminder_offsets,
            heads_up_lead,
            // What the shop can do is asked of it once it is connected (`runtime`).
            shop: SchedulePolicy::default().shop,
        },
        guards,
    })
}

/// The pattern is checked by building the rules, which needs a valid length
/// first; a refused pattern carries the regex engine's reason.
fn sku_rules(env: &Env<'_>) -> Result<SkuRules, ConfigError> {
    let max_len = env.parse(SKU_MAX_LEN, "40", "a whole number from 1 to 100", |v| {
        v.parse::<usize>().ok().filter(|n| (1..=100).contains(n))
    })?;
    let pattern = env
        .optional(SKU_PATTERN)
        .unwrap_or_else(|| SkuRules::default().pattern().to_owned());
    SkuRules::new(&pattern, max_len).map_err(|e| ConfigError::Invalid {
        var: SKU_PATTERN,
        value: pattern.clone(),
        expected: format!("a regular expression ({e})"),
    })
}

fn minutes(
    env: &Env<'_>,
    var: &'static str,
    default: &str,
    max: i64,
) -> Result<chrono::Duration, ConfigError> {
    let n = env.parse(
        var,
        default,
        &format!("a whole number of minutes from 0 to {max}"),
        |v| v.parse::<i64>().ok().filter(|n| (0..=max).contains(n)),
    )?;
    Ok(chrono::Duration::minutes(n))
}

/// `24h,6h,1h,15m` -> durations, largest first; each 1 minute to 7 days.
fn parse_offsets(v: &str) -> Option<Vec<chrono::Duration>> {
    let mut offsets = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (number, unit) = part.split_at(part.len().checked_sub(1)?);
        let n: i64 = number.trim().parse().ok()?;
        let minutes = match unit {
            "m" => n,
            "h" => n.checked_mul(60)?,
            "d" => n.checked_mul(24 * 60)?,
            _ => return None,
        };
        if !(1..=7 * 24 * 60).contains(&minutes) {
            return None;
        }
        offsets.push(chrono::Duration::minutes(minutes));
    }
    offsets.sort_by(|a, b| b.cmp(a));
    offsets.dedup();
    Some(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn a_shop_in_jakarta_selling_in_rupiah_with_four_eyes_is_the_default() {
        let policy = read_with(&[], read).unwrap();
        assert_eq!(policy.time_zone, chrono_tz::Asia::Jakarta);
        assert_eq!(policy.currency.code(), "IDR");
        assert_eq!(policy.approval_cutoff, chrono::Duration::minutes(60));
        assert_eq!(policy.window.min_lead, chrono::Duration::minutes(5));
        assert_eq!(policy.window.max_duration, chrono::Duration::hours(24));
        assert!(policy.four_eyes);
        assert_eq!(policy.schedule.heads_up_lead, chrono::Duration::minutes(15));
        assert_eq!(policy.schedule.reminder_offsets.len(), 4);
    }

    #[test]
    fn malformed_values_name_the_variable_and_what_is_expected() {
        let err = read_with(&[(BUSINESS_TIME_ZONE, "Mars/Olympus")], read).unwrap_err();
        assert_eq!(
            err.to_string(),
            "BUSINESS_TIME_ZONE=\"Mars/Olympus\" is not valid: expected an IANA time zone such as Asia/Jakarta."
        );
        let err = read_with(&[(APPROVAL_CUTOFF_MINUTES, "-5")], read).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: APPROVAL_CUTOFF_MINUTES,
                ..
            }
        ));
        let err = read_with(&[(SKU_PATTERN, "[A-Z")], read).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: SKU_PATTERN,
                ..
            }
        ));
    }

    #[test]
    fn reminder_offsets_are_read_largest_first() {
        let policy = read_with(&[(REMINDER_OFFSETS, "15m, 1d,2h")], read).unwrap();
        let minutes: Vec<i64> = policy
            .schedule
            .reminder_offsets
            .iter()
            .map(|d| d.num_minutes())
            .collect();
        assert_eq!(minutes, [1440, 120, 15]);
        for bad in ["15", "2w", "0m", "x,1h"] {
            let err = read_with(&[(REMINDER_OFFSETS, bad)], read).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        var: REMINDER_OFFSETS,
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn self_approval_can_be_allowed_for_tiny_teams() {
        let policy = read_with(&[(ALLOW_SELF_APPROVAL, "true")], read).unwrap();
        assert!(!policy.four_eyes);
    }
}
