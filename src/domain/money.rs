//! Prices as integer minor units of one currency.
//!
//! Floats cannot hold 0.1 exactly, and a flash price that is off by one rupiah between
//! the card an approver saw and the storefront is a support ticket. So every amount is an
//! `i64` of minor units, and rounding happens once, in integer arithmetic, half-up.

use std::fmt;

use super::discount::DiscountPercent;

/// Currencies we know the decimal places of, so configuration can name just the code.
const KNOWN: &[(&str, u8)] = &[
    ("IDR", 0),
    ("JPY", 0),
    ("KRW", 0),
    ("VND", 0),
    ("USD", 2),
    ("EUR", 2),
    ("SGD", 2),
    ("MYR", 2),
    ("PHP", 2),
    ("THB", 2),
    ("GBP", 2),
    ("AUD", 2),
];

/// No currency in use has more than 4 decimal places; more would be a config typo.
const MAX_EXPONENT: u8 = 4;

/// An ISO 4217 code and how many decimal places its minor unit has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Currency {
    /// Three upper-case ASCII letters, e.g. `IDR`.
    code: String,
    /// Decimal places of the minor unit: 0 for IDR, 2 for USD.
    exponent: u8,
}

impl Currency {
    /// For a currency we do not know, or to override what we know.
    pub fn new(code: &str, exponent: u8) -> Result<Currency, CurrencyError> {
        let code = canonical_code(code)?;
        if exponent > MAX_EXPONENT {
            return Err(CurrencyError::BadExponent { exponent });
        }
        Ok(Currency { code, exponent })
    }

    pub fn from_code(code: &str) -> Result<Currency, CurrencyError> {
        let code = canonical_code(code)?;
        match KNOWN.iter().find(|(known, _)| *known == code) {
            Some(&(_, exponent)) => Ok(Currency { code, exponent }),
            None => Err(CurrencyError::Unknown { code }),
        }
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

fn canonical_code(raw: &str) -> Result<String, CurrencyError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(CurrencyError::BadCode {
            code: raw.trim().to_owned(),
        })
    }
}

fn known_codes() -> String {
    KNOWN
        .iter()
        .map(|(code, _)| *code)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("Currency code \"{code}\" is not valid: use a three-letter code such as IDR or USD.")]
    BadCode { code: String },
    #[error(
        "Currency exponent {exponent} is not supported: allowed 0-{MAX_EXPONENT} decimal places."
    )]
    BadExponent { exponent: u8 },
    #[error("Currency {code} is not one we know: known are {}; for another, also give its number of decimal places.", known_codes())]
    Unknown { code: String },
}

/// An amount in minor units (rupiah, cents) of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> &Currency {
        &self.currency
    }

    /// An amount typed in major units (`5000000`, `1234.50`), with at most
    /// the currency's decimal places and no sign; `None` otherwise (a setting
    /// names what it expects).
    pub fn parse_major(raw: &str, currency: &Currency) -> Option<Money> {
        let raw = raw.trim().replace([',', '_'], "");
        let (whole, fraction) = raw.split_once('.').unwrap_or((&raw, ""));
        let exponent = usize::from(currency.exponent);
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > exponent {
            return None;
        }
        let scale = 10_i64.checked_pow(u32::from(currency.exponent))?;
        let padded = format!("{fraction:0<exponent$}");
        let fraction_minor: i64 = if exponent == 0 {
            0
        } else {
            padded.parse().ok()?
        };
        let minor = whole
            .parse::<i64>()
            .ok()?
            .checked_mul(scale)?
            .checked_add(fraction_minor)?;
        Some(Money::from_minor(minor, currency.clone()))
    }

    /// The flash price: `minor * (100 - discount) / 100`, rounded half-up to the minor unit.
    pub fn discounted(&self, discount: DiscountPercent) -> Money {
        let kept = i128::from(100 - discount.get());
        let scaled = i128::from(self.minor) * kept;
        // Half-up on the magnitude (half away from zero), so a negative amount, which
        // should never occur, mirrors the positive one instead of drifting.
        let magnitude = (scaled.abs() + 50) / 100;
        let rounded = if scaled < 0 { -magnitude } else { magnitude };
        // kept <= 99, so |rounded| <= |minor| and the result always fits back in i64.
        let minor = i64::try_from(rounded).unwrap_or(self.minor);
        Money {
            minor,
            currency: self.currency.clone(),
        }
    }
}

impl fmt::Display for Money {
    /// `IDR 149,500`, `USD 1,234.50`: code, then the amount with comma thousands.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        // unsigned_abs: i64::MIN has no positive i64 counterpart.
        let magnitude = self.minor.unsigned_abs();
        let scale = 10_u64.pow(u32::from(self.currency.exponent));
        let whole = group_thousands(magnitude / scale);
        write!(f, "{} {sign}{whole}", self.currency.code)?;
        if self.currency.exponent > 0 {
            let width = usize::from(self.currency.exponent);
            write!(f, ".{:0width$}", magnitude % scale)?;
        }
        Ok(())
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idr() -> Currency {
        Currency::from_code("IDR").unwrap()
    }

    fn usd() -> Currency {
        Currency::from_code("usd").unwrap()
    }

    fn pct(value: i64) -> DiscountPercent {
        DiscountPercent::new(value).unwrap()
    }

    #[test]
    fn major_units_parse_exactly_within_the_currencys_decimals() {
        let cases: &[(&str, bool, Option<i64>)] = &[
            ("5000000", true, Some(5_000_000)),
            ("5,000,000", true, Some(5_000_000)),
            (" 1234.5 ", false, Some(123_450)),
            ("1234.50", false, Some(123_450)),
            ("0.07", false, Some(7)),
            ("1234.505", false, None),
            ("12.5", true, None),
            ("-5", true, None),
            ("", true, None),
            (".5", false, None),
            ("1e6", true, None),
            ("99999999999999999999", true, None),
        ];
        for (raw, rupiah, expected) in cases {
            let currency = if *rupiah { idr() } else { usd() };
            assert_eq!(
                Money::parse_major(raw, &currency).map(|m| m.minor()),
                *expected,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn known_codes_carry_their_decimal_places() {
        for (code, exponent) in [
            ("IDR", 0),
            ("jpy", 0),
            (" KRW ", 0),
            ("VND", 0),
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
        ] {
            assert_eq!(
                Currency::from_code(code).map(|c| c.exponent()),
                Ok(exponent),
                "code {code:?}"
            );
        }
        assert_eq!(Currency::from_code(" sgd ").unwrap().code(), "SGD");
    }

    #[test]
    fn bad_or_unknown_codes_are_refused() {
        assert_eq!(
            Currency::from_code("US"),
            Err(CurrencyError::BadCode { code: "US".into() })
        );
        assert_eq!(
            Currency::from_code("US1"),
            Err(CurrencyError::BadCode { code: "US1".into() })
        );
        assert_eq!(
            Currency::from_code("ÜSD"),
            Err(CurrencyError::BadCode {
                code: "ÜSD".into()
            })
        );
        assert_eq!(
            Currency::from_code("XYZ"),
            Err(CurrencyError::Unknown { code: "XYZ".into() })
        );
        assert_eq!(
            Currency::new("xyz", 3).map(|c| (c.code().to_owned(), c.exponent())),
            Ok(("XYZ".into(), 3))
        );
        assert_eq!(
            Currency::new("XYZ", 5),
            Err(CurrencyError::BadExponent { exponent: 5 })
        );
    }

    #[test]
    fn discounted_rounds_half_up_in_integers() {
        for (minor, percent, expected) in [
            (1005, 50, 503), // 502.5 rounds up
            (999, 33, 669),  // 669.33 rounds down
            (1, 50, 1),      // 0.5 rounds up
            (1, 90, 0),      // 0.1 rounds down
            (150_000, 90, 15_000),
            (149_999, 1, 148_499), // 148499.01
            (0, 30, 0),
            (i64::MAX, 1, 9_131_138_316_486_228_049), // no overflow: i128 inside
        ] {
            let price = Money::from_minor(minor, idr()).discounted(pct(percent));
            assert_eq!(price.minor(), expected, "{minor} at {percent}%");
            assert_eq!(price.currency(), &idr());
        }
    }

    #[test]
    fn a_negative_price_rounds_symmetrically_without_panicking() {
        assert_eq!(
            Money::from_minor(-1005, idr()).discounted(pct(50)).minor(),
            -503
        );
        assert_eq!(
            Money::from_minor(i64::MIN, idr())
                .discounted(pct(1))
                .minor(),
            -9_131_138_316_486_228_050
        );
    }

    #[test]
    fn money_displays_with_code_thousands_and_decimals() {
        for (minor, currency, text) in [
            (149_500, idr(), "IDR 149,500"),
            (0, idr(), "IDR 0"),
            (999, idr(), "IDR 999"),
            (1_000, idr(), "IDR 1,000"),
            (1_234_567_890, idr(), "IDR 1,234,567,890"),
            (123_450, usd(), "USD 1,234.50"),
            (5, usd(), "USD 0.05"),
            (-123_450, usd(), "USD -1,234.50"),
            (12_345, Currency::new("BHD", 3).unwrap(), "BHD 12.345"),
            (i64::MIN, idr(), "IDR -9,223,372,036,854,775,808"),
        ] {
            assert_eq!(Money::from_minor(minor, currency).to_string(), text);
        }
    }

    #[test]
    fn messages_say_what_is_wrong_and_what_is_allowed() {
        assert_eq!(
            CurrencyError::BadCode { code: "US".into() }.to_string(),
            "Currency code \"US\" is not valid: use a three-letter code such as IDR or USD."
        );
        assert_eq!(
            CurrencyError::BadExponent { exponent: 5 }.to_string(),
            "Currency exponent 5 is not supported: allowed 0-4 decimal places."
        );
        assert_eq!(
            CurrencyError::Unknown { code: "XYZ".into() }.to_string(),
            "Currency XYZ is not one we know: known are IDR, JPY, KRW, VND, USD, EUR, SGD, MYR, PHP, THB, GBP, AUD; \
             for another, also give its number of decimal places."
        );
    }
}
