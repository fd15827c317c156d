//! Medusa's amounts, exactly.
//!
//! Medusa stores money as major units (`149500` rupiah, `1234.5` dollars)
//! and answers them as JSON numbers (`amount`) or decimal strings
//! (`raw_amount.value`); it takes them only as JSON numbers. The bot holds
//! integer minor units ([`Money`]). Both directions go through decimal text,
//! never through f64 arithmetic: an amount with more decimals than the
//! currency has is refused instead of rounded, and an amount that would not
//! survive as a JSON number is refused instead of sent changed.

use serde_json::{Number, Value};

use crate::domain::Money;

/// Why an amount could not be converted exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    #[error("{text} has more decimals than the currency's {exponent}")]
    TooFine { text: String, exponent: u8 },
    #[error("{0} is too large")]
    TooLarge(String),
    #[error("{0} cannot be sent to Medusa as an exact JSON number")]
    NotExact(String),
}

/// The amount as Medusa takes it: a JSON number of major units. Whole for a
/// currency without decimals; otherwise the shortest decimal that reads back
/// as the same number, which is checked to be the exact amount.
pub fn to_medusa(money: &Money) -> Result<Number, AmountError> {
    let exponent = money.currency().exponent();
    if exponent == 0 {
        return Ok(Number::from(money.minor()));
    }
    let decimal = major_text(money.minor(), exponent);
    let number = decimal
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or_else(|| AmountError::NotExact(decimal.clone()))?;
    // serde_json writes the shortest text that reads back as the same f64:
    // the decimal itself whenever it has at most 15 significant digits.
    match from_text(&number.to_string(), exponent) {
        Ok(back) if back == money.minor() => Ok(number),
        _ => Err(AmountError::NotExact(decimal)),
    }
}

/// Minor units from one of Medusa's amounts: a JSON number or a decimal
/// string of major units (a `raw_*` value).
pub fn from_medusa(value: &Value, exponent: u8) -> Result<i64, AmountError> {
    match value {
        Value::Number(n) => from_text(&n.to_string(), exponent),
        Value::String(s) => from_text(s.trim(), exponent),
        other => Err(AmountError::NotANumber(other.to_string())),
    }
}

/// `minor` as a major-unit decimal: 149500 with 0 decimals is `149500`,
/// 123450 with 2 is `1234.50`.
pub fn major_text(minor: i64, exponent: u8) -> String {
    let width = usize::from(exponent);
    if width == 0 {
        return minor.to_string();
    }
    let sign = if minor < 0 { "-" } else { "" };
    let digits = format!("{:0>w$}", minor.unsigned_abs(), w = width + 1);
    let (whole, fraction) = digits.split_at(digits.len() - width);
    format!("{sign}{whole}.{fraction}")
}

/// Minor units from decimal text, with an optional sign, fraction and
/// exponent (`1e6`, which serde_json writes for large floats).
fn from_text(text: &str, exponent: u8) -> Result<i64, AmountError> {
    let bad = || AmountError::NotANumber(text.to_owned());
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, power) = match unsigned.split_once(['e', 'E']) {
        Some((m, p)) => (m, p.parse::<i32>().map_err(|_| bad())?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !is_digits(whole) || !is_digits(fraction) {
        return Err(bad());
    }
    let mut digits = format!("{whole}{fraction}");
    // Where the minor unit's point falls among `digits`, counted from the right.
    let fraction_len = i32::try_from(fraction.len()).map_err(|_| bad())?;
    let mut scale = i32::from(exponent)
        .checked_add(power)
        .and_then(|s| s.checked_sub(fraction_len))
        .ok_or_else(bad)?;
    while scale < 0 {
        // Digits below the minor unit must all be zero.
        match digits.pop() {
            Some('0') => scale += 1,
            Some(_) => {
                return Err(AmountError::TooFine {
                    text: text.to_owned(),
                    exponent,
                })
            }
            None => break,
        }
    }
    let too_large = || AmountError::TooLarge(text.to_owned());
    let significant = digits.trim_start_matches('0');
    if significant.len() > 19 {
        return Err(too_large());
    }
    let mut value: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| bad())?
    };
    if value != 0 {
        let factor = 10_i128
            .checked_pow(u32::try_from(scale).map_err(|_| too_large())?)
            .ok_or_else(too_large)?;
        value = value.checked_mul(factor).ok_or_else(too_large)?;
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;
    use serde_json::json;

    fn money(minor: i64, code: &str) -> Money {
        Money::from_minor(minor, Currency::from_code(code).unwrap())
    }

    #[test]
    fn medusa_amounts_read_as_exact_minor_units() {
        let cases: &[(Value, u8, Result<i64, ()>)] = &[
            (json!(149500), 0, Ok(149_500)),
            (json!("149500"), 0, Ok(149_500)),
            (json!("149500.000"), 0, Ok(149_500)),
            (json!(1234.5), 2, Ok(123_450)),
            (json!("1234.50"), 2, Ok(123_450)),
            (json!(0.07), 2, Ok(7)),
            (json!(10.1), 2, Ok(1_010)),
            (json!(1e6), 0, Ok(1_000_000)),
            (json!("1.5e3"), 0, Ok(1_500)),
            (json!("-0.05"), 2, Ok(-5)),
            (json!("149500.5"), 0, Err(())),
            (json!(0.001), 2, Err(())),
            (json!("12,5"), 2, Err(())),
            (json!(""), 0, Err(())),
            (json!(".5"), 2, Err(())),
            (json!(null), 0, Err(())),
            (json!("99999999999999999999"), 0, Err(())),
            (json!("1e400"), 0, Err(())),
        ];
        for (value, exponent, expected) in cases {
            assert_eq!(
                from_medusa(value, *exponent).map_err(|_| ()),
                *expected,
                "{value} with {exponent} decimals"
            );
        }
    }

    #[test]
    fn too_fine_an_amount_says_so() {
        assert_eq!(
            from_medusa(&json!("149500.5"), 0),
            Err(AmountError::TooFine {
                text: "149500.5".into(),
                exponent: 0
            })
        );
    }

    #[test]
    fn amounts_go_to_medusa_as_numbers_that_read_back_the_same() {
        for (minor, code) in [
            (0, "IDR"),
            (149_500, "IDR"),
            (104_650, "IDR"),
            (123_450, "USD"),
            (7, "USD"),
            (1_010, "USD"),
            (99_999_999_999, "USD"),
        ] {
            let m = money(minor, code);
            let sent = to_medusa(&m).expect("exact");
            let exponent = m.currency().exponent();
            assert_eq!(from_medusa(&Value::Number(sent), exponent), Ok(minor));
        }
        assert_eq!(
            to_medusa(&money(149_500, "IDR")).unwrap().to_string(),
            "149500"
        );
        assert_eq!(
            to_medusa(&money(123_450, "USD")).unwrap().to_string(),
            "1234.5"
        );
    }

    #[test]
    fn an_amount_a_json_number_cannot_hold_is_refused_not_rounded() {
        // 18 significant digits: f64 keeps about 15.
        let refused = to_medusa(&money(123_456_789_012_345_678, "USD"));
        assert!(
            matches!(refused, Err(AmountError::NotExact(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn major_text_places_the_point_by_the_exponent() {
        assert_eq!(major_text(149_500, 0), "149500");
        assert_eq!(major_text(123_450, 2), "1234.50");
        assert_eq!(major_text(5, 2), "0.05");
        assert_eq!(major_text(-5, 2), "-0.05");
    }
}
