//! The discount of one flash-sale item, in whole percent.
//!
//! Whole percent keeps the flash price exact in integer money and matches the database
//! CHECK (1..90); the 90% ceiling protects the shop from a typo selling stock for free.

use std::fmt;

use super::text::quoted_number;

/// A discount between [`DiscountPercent::MIN`] and [`DiscountPercent::MAX`] percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DiscountPercent(u8);

impl DiscountPercent {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 90;

    pub fn new(value: i64) -> Result<Self, DiscountError> {
        match u8::try_from(value) {
            Ok(percent) if (Self::MIN..=Self::MAX).contains(&percent) => {
                Ok(DiscountPercent(percent))
            }
            _ => Err(DiscountError::OutOfRange {
                value: quoted_number(value),
            }),
        }
    }

    /// Accepts what people type in chat: `30`, ` 30 `, `30%`, `30 %`.
    pub fn parse(raw: &str) -> Result<Self, DiscountError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DiscountError::Empty);
        }
        let number = trimmed.strip_suffix('%').map_or(trimmed, str::trim_end);
        // The sign is split off by hand so that "-5" reads as a number out of range,
        // not as gibberish, and "+5" is refused like any other stray character.
        let (negative, digits) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number),
        };
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return match digits.parse::<i64>() {
                Ok(value) => Self::new(if negative { -value } else { value }),
                // Only overflow fails here; it is quoted as typed, cut short.
                Err(_) => Err(DiscountError::OutOfRange {
                    value: quoted_number(number),
                }),
            };
        }
        if is_decimal(digits) {
            return Err(DiscountError::NotWhole {
                raw: trimmed.to_owned(),
            });
        }
        Err(DiscountError::NotANumber {
            raw: trimmed.to_owned(),
        })
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// `50.5`, `50,5`, `.5`: a number with one decimal separator (either convention).
fn is_decimal(s: &str) -> bool {
    let Some((whole, fraction)) = s.split_once(['.', ',']) else {
        return false;
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction)
}

impl fmt::Display for DiscountPercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscountError {
    #[error("Discount {value}% is out of range: allowed {min}-{max}%.", min = DiscountPercent::MIN, max = DiscountPercent::MAX)]
    OutOfRange { value: String },
    #[error("Discount \"{raw}\" is not a whole percent: allowed {min}-{max}, e.g. 30 or 30%.", min = DiscountPercent::MIN, max = DiscountPercent::MAX)]
    NotWhole { raw: String },
    #[error("Discount \"{raw}\" is not a number: give a whole percent from {min} to {max}, e.g. 30 or 30%.", min = DiscountPercent::MIN, max = DiscountPercent::MAX)]
    NotANumber { raw: String },
    #[error("Discount is empty: give a whole percent from {min} to {max}, e.g. 30 or 30%.", min = DiscountPercent::MIN, max = DiscountPercent::MAX)]
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_ways_of_writing_a_percent_are_accepted() {
        for (raw, expected) in [
            ("30", 30),
            (" 30 ", 30),
            ("30%", 30),
            ("30 %", 30),
            (" 30 % ", 30),
            ("1", 1),
            ("90%", 90),
            ("007", 7),
        ] {
            assert_eq!(
                DiscountPercent::parse(raw).map(DiscountPercent::get),
                Ok(expected),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let not_a_number = |raw: &str| DiscountError::NotANumber { raw: raw.into() };
        let not_whole = |raw: &str| DiscountError::NotWhole { raw: raw.into() };
        let out_of_range = |value: &str| DiscountError::OutOfRange {
            value: value.into(),
        };
        for (raw, expected) in [
            ("", DiscountError::Empty),
            ("   ", DiscountError::Empty),
            ("%", not_a_number("%")),
            ("abc", not_a_number("abc")),
            ("+5", not_a_number("+5")),
            ("3 0", not_a_number("3 0")),
            ("30%%", not_a_number("30%%")),
            ("1.2.3", not_a_number("1.2.3")),
            ("50.5", not_whole("50.5")),
            ("50,5%", not_whole("50,5%")),
            (".5", not_whole(".5")),
            ("-5", out_of_range("-5")),
            ("0", out_of_range("0")),
            ("91", out_of_range("91")),
            ("95%", out_of_range("95")),
            ("300", out_of_range("300")),
            ("99999999999999999999", out_of_range("999999999999…")),
        ] {
            assert_eq!(DiscountPercent::parse(raw), Err(expected), "input {raw:?}");
        }
    }

    #[test]
    fn discount_of_ninety_one_is_refused() {
        assert_eq!(
            DiscountPercent::new(91),
            Err(DiscountError::OutOfRange { value: "91".into() })
        );
    }

    #[test]
    fn the_bounds_are_inclusive() {
        assert_eq!(DiscountPercent::new(1).map(DiscountPercent::get), Ok(1));
        assert_eq!(DiscountPercent::new(90).map(DiscountPercent::get), Ok(90));
        assert!(DiscountPercent::new(0).is_err());
        assert!(DiscountPercent::new(i64::MIN).is_err());
    }

    #[test]
    fn a_discount_displays_with_a_percent_sign() {
        assert_eq!(DiscountPercent::new(30).unwrap().to_string(), "30%");
    }

    #[test]
    fn messages_say_what_is_wrong_and_what_is_allowed() {
        for (error, message) in [
            (DiscountError::OutOfRange { value: "95".into() }, "Discount 95% is out of range: allowed 1-90%."),
            (
                DiscountError::NotWhole { raw: "50.5".into() },
                "Discount \"50.5\" is not a whole percent: allowed 1-90, e.g. 30 or 30%.",
            ),
            (
                DiscountError::NotANumber { raw: "abc".into() },
                "Discount \"abc\" is not a number: give a whole percent from 1 to 90, e.g. 30 or 30%.",
            ),
            (DiscountError::Empty, "Discount is empty: give a whole percent from 1 to 90, e.g. 30 or 30%."),
        ] {
            assert_eq!(error.to_string(), message);
        }
    }
}
