//! Shopify's amounts, exactly: `Money` and `Decimal` are decimal text in
//! major units (`"149500.0"`, `"1234.50"`); the bot holds integer minor
//! units. Both directions go through the digits, never through f64: an
//! amount finer than the currency is refused, not rounded.

/// Why an amount could not be read exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("{0:?} is not a decimal amount")]
    NotADecimal(String),
    #[error("{text} has more decimals than the currency's {exponent}")]
    TooFine { text: String, exponent: u8 },
    #[error("{0} is too large")]
    TooLarge(String),
}

/// Minor units from Shopify's decimal text (`"1234.50"`, `"149500.0"`,
/// `"-0.05"`); zeros past the currency's decimals are fine, other digits
/// there are refused.
pub fn parse_decimal(text: &str, exponent: u8) -> Result<i64, DecimalError> {
    let bad = || DecimalError::NotADecimal(text.to_owned());
    let trimmed = text.trim();
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    let places = usize::from(exponent);
    let (kept, beyond) = fraction.split_at(fraction.len().min(places));
    if beyond.bytes().any(|b| b != b'0') {
        return Err(DecimalError::TooFine {
            text: text.to_owned(),
            exponent,
        });
    }
    let too_large = || DecimalError::TooLarge(text.to_owned());
    let minor_text = format!("{whole}{kept:0<places$}");
    let significant = minor_text.trim_start_matches('0');
    let value: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| too_large())?
    };
    Ok(if negative { -value } else { value })
}

/// `minor` as Shopify takes a `Money`/`Decimal`: 149500 with 0 decimals is
/// `149500`, 123450 with 2 is `1234.50`.
pub fn decimal_text(minor: i64, exponent: u8) -> String {
    let width = usize::from(exponent);
    if width == 0 {
        return minor.to_string();
    }
    let sign = if minor < 0 { "-" } else { "" };
    let digits = format!("{:0>w$}", minor.unsigned_abs(), w = width + 1);
    let (whole, fraction) = digits.split_at(digits.len() - width);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_decimals_read_as_exact_minor_units() {
        let cases: &[(&str, u8, Result<i64, ()>)] = &[
            ("149500.0", 0, Ok(149_500)),
            ("149500", 0, Ok(149_500)),
            ("1234.50", 2, Ok(123_450)),
            ("1234.5", 2, Ok(123_450)),
            ("0.07", 2, Ok(7)),
            ("-0.05", 2, Ok(-5)),
            ("1234.500", 2, Ok(123_450)),
            ("149500.5", 0, Err(())),
            ("0.001", 2, Err(())),
            ("12,5", 2, Err(())),
            ("", 0, Err(())),
            (".5", 2, Err(())),
            ("99999999999999999999", 0, Err(())),
        ];
        for (text, exponent, expected) in cases {
            assert_eq!(
                parse_decimal(text, *exponent).map_err(|_| ()),
                *expected,
                "{text} with {exponent} decimals"
            );
        }
    }

    #[test]
    fn amounts_go_to_shopify_as_text_that_reads_back_the_same() {
        for (minor, exponent) in [(0, 0), (149_500, 0), (123_450, 2), (7, 2), (5, 3)] {
            let text = decimal_text(minor, exponent);
            assert_eq!(parse_decimal(&text, exponent), Ok(minor), "{text}");
        }
        assert_eq!(decimal_text(123_450, 2), "1234.50");
        assert_eq!(decimal_text(5, 2), "0.05");
    }
}
