//! The money guards' settings (`domain::guards::GuardRules`): the reference
//! period of a real discount, what counts as a recent raise, the margin
//! floor, the budgets and what counts as unusually deep.
//!
//! Part of the shop's `Policy`, read after its currency: the budgets are
//! amounts in that currency's major units, typed as people write prices.

use super::env::Env;
use super::ConfigError;
use crate::domain::guards::GuardRules;
use crate::domain::{Currency, Money};

pub const GUARD_REFERENCE_DAYS: &str = "GUARD_REFERENCE_DAYS";
pub const GUARD_RAISED_DAYS: &str = "GUARD_RAISED_DAYS";
pub const GUARD_RAISED_TOLERANCE_PERCENT: &str = "GUARD_RAISED_TOLERANCE_PERCENT";
pub const GUARD_MARGIN_FLOOR_PERCENT: &str = "GUARD_MARGIN_FLOOR_PERCENT";
pub const GUARD_SESSION_BUDGET: &str = "GUARD_SESSION_BUDGET";
pub const GUARD_DAILY_BUDGET: &str = "GUARD_DAILY_BUDGET";
pub const GUARD_DEEP_POINTS: &str = "GUARD_DEEP_POINTS";
pub const GUARD_DEEP_MIN_SAMPLES: &str = "GUARD_DEEP_MIN_SAMPLES";

pub(super) fn read(env: &Env<'_>, currency: &Currency) -> Result<GuardRules, ConfigError> {
    let whole = |var: &'static str, default: &str, range: std::ops::RangeInclusive<u32>| {
        env.parse(
            var,
            default,
            &format!("a whole number from {} to {}", range.start(), range.end()),
            |v| v.parse::<u32>().ok().filter(|n| range.contains(n)),
        )
    };
    let budget = |var: &'static str| {
        env.parse(
            var,
            "off",
            &format!(
                "off, or an amount in {} such as {}",
                currency.code(),
                if currency.exponent() == 0 {
                    "5000000"
                } else {
                    "5000.00"
                }
            ),
            |v| {
                if v.eq_ignore_ascii_case("off") {
                    Some(None)
                } else {
                    Money::parse_major(v, currency)
                        .filter(|m| m.minor() > 0)
                        .map(Some)
                }
            },
        )
    };
    let deep_points = whole(GUARD_DEEP_POINTS, "20", 1..=89)?;
    Ok(GuardRules {
        reference_days: whole(GUARD_REFERENCE_DAYS, "30", 1..=365)?,
        raised_days: whole(GUARD_RAISED_DAYS, "7", 1..=90)?,
        raised_tolerance_percent: whole(GUARD_RAISED_TOLERANCE_PERCENT, "5", 0..=100)?,
        margin_floor_percent: whole(GUARD_MARGIN_FLOOR_PERCENT, "5", 0..=1000)?,
        session_budget: budget(GUARD_SESSION_BUDGET)?,
        daily_budget: budget(GUARD_DAILY_BUDGET)?,
        // 1..=89 fits a u8.
        deep_points: u8::try_from(deep_points).unwrap_or(u8::MAX),
        deep_min_samples: whole(GUARD_DEEP_MIN_SAMPLES, "3", 1..=100)? as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    fn idr() -> Currency {
        Currency::from_code("IDR").unwrap()
    }

    #[test]
    fn without_settings_the_defaults_hold_and_budgets_are_off() {
        let rules = read_with(&[], |env| read(env, &idr())).unwrap();
        assert_eq!(rules, GuardRules::default());
    }

    #[test]
    fn budgets_are_amounts_in_the_currencys_major_units() {
        let rules = read_with(
            &[
                (GUARD_SESSION_BUDGET, "5,000,000"),
                (GUARD_DAILY_BUDGET, "12000000"),
            ],
            |env| read(env, &idr()),
        )
        .unwrap();
        assert_eq!(rules.session_budget.map(|m| m.minor()), Some(5_000_000));
        assert_eq!(rules.daily_budget.map(|m| m.minor()), Some(12_000_000));
        let usd = Currency::from_code("USD").unwrap();
        let rules = read_with(&[(GUARD_SESSION_BUDGET, "2500.50")], |env| read(env, &usd)).unwrap();
        assert_eq!(rules.session_budget.map(|m| m.minor()), Some(250_050));
    }

    #[test]
    fn a_bad_setting_is_refused_naming_the_variable_and_what_is_allowed() {
        let cases = [
            (
                GUARD_SESSION_BUDGET,
                "12.5",
                "GUARD_SESSION_BUDGET",
                "off, or an amount in IDR such as 5000000",
            ),
            (
                GUARD_DAILY_BUDGET,
                "0",
                "GUARD_DAILY_BUDGET",
                "off, or an amount in IDR",
            ),
            (
                GUARD_REFERENCE_DAYS,
                "0",
                "GUARD_REFERENCE_DAYS",
                "a whole number from 1 to 365",
            ),
            (
                GUARD_DEEP_POINTS,
                "90",
                "GUARD_DEEP_POINTS",
                "a whole number from 1 to 89",
            ),
            (
                GUARD_MARGIN_FLOOR_PERCENT,
                "-1",
                "GUARD_MARGIN_FLOOR_PERCENT",
                "a whole number from 0 to 1000",
            ),
        ];
        for (var, value, named, expected) in cases {
            let err = read_with(&[(var, value)], |env| read(env, &idr())).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(named) && text.contains(expected),
                "{var}={value}: {text}"
            );
        }
    }
}
