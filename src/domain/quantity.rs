//! How many units of one item are offered at the flash price.
//!
//! Only plain digits are accepted: "1,000" and "1.000" mean a thousand in some
//! countries and one in others, and guessing wrong sells the wrong amount of stock.

use std::fmt;

use super::text::quoted_number;

/// A number of units between 1 and [`Quantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// Far above any real flash sale; it catches a pasted SKU or price in the wrong field.
    pub const MAX: u32 = 100_000;

    pub fn new(value: i64) -> Result<Self, QuantityError> {
        if value < 1 {
            return Err(QuantityError::TooSmall {
                value: quoted_number(value),
            });
        }
        match u32::try_from(value) {
            Ok(units) if units <= Self::MAX => Ok(Quantity(units)),
            _ => Err(QuantityError::TooLarge {
                value: quoted_number(value),
            }),
        }
    }

    /// Accepts plain digits with optional surrounding spaces.
    pub fn parse(raw: &str) -> Result<Self, QuantityError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(QuantityError::Empty);
        }
        // A leading minus is read so that "-5" is answered as too small, not as gibberish.
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return match digits.parse::<i64>() {
                Ok(value) => Self::new(if negative { -value } else { value }),
                // Only overflow fails here; it is quoted as typed, cut short.
                Err(_) if negative => Err(QuantityError::TooSmall {
                    value: quoted_number(trimmed),
                }),
                Err(_) => Err(QuantityError::TooLarge {
                    value: quoted_number(trimmed),
                }),
            };
        }
        if is_decimal_point_number(digits) {
            return Err(QuantityError::NotWhole {
                raw: trimmed.to_owned(),
            });
        }
        Err(QuantityError::NotANumber {
            raw: trimmed.to_owned(),
        })
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// `2.5`: digits around one dot. A comma is left to `NotANumber`, whose message asks
/// for digits only, since "1,000" is far more likely a thousands separator.
fn is_decimal_point_number(s: &str) -> bool {
    let Some((whole, fraction)) = s.split_once('.') else {
        return false;
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction)
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("Quantity {value} is too small: allowed 1-{max} units.", max = Quantity::MAX)]
    TooSmall { value: String },
    #[error("Quantity {value} is too large: allowed 1-{max} units.", max = Quantity::MAX)]
    TooLarge { value: String },
    #[error("Quantity \"{raw}\" is not a whole number: allowed 1-{max} whole units, e.g. 50.", max = Quantity::MAX)]
    NotWhole { raw: String },
    #[error("Quantity \"{raw}\" is not a plain number: write digits only, without separators, e.g. 1000 (allowed 1-{max} units).", max = Quantity::MAX)]
    NotANumber { raw: String },
    #[error("Quantity is empty: give a number of units from 1 to {max}, e.g. 50.", max = Quantity::MAX)]
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_digits_with_surrounding_spaces_are_accepted() {
        for (raw, expected) in [("1", 1), (" 50 ", 50), ("0100", 100), ("100000", 100_000)] {
            assert_eq!(
                Quantity::parse(raw).map(Quantity::get),
                Ok(expected),
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let not_a_number = |raw: &str| QuantityError::NotANumber { raw: raw.into() };
        for (raw, expected) in [
            ("", QuantityError::Empty),
            ("  ", QuantityError::Empty),
            ("0", QuantityError::TooSmall { value: "0".into() }),
            ("-5", QuantityError::TooSmall { value: "-5".into() }),
            (
                "100001",
                QuantityError::TooLarge {
                    value: "100001".into(),
                },
            ),
            (
                "99999999999999999999",
                QuantityError::TooLarge {
                    value: "999999999999…".into(),
                },
            ),
            ("2.5", QuantityError::NotWhole { raw: "2.5".into() }),
            ("1,000", not_a_number("1,000")),
            ("1 000", not_a_number("1 000")),
            ("+5", not_a_number("+5")),
            ("ten", not_a_number("ten")),
            ("50 units", not_a_number("50 units")),
        ] {
            assert_eq!(Quantity::parse(raw), Err(expected), "input {raw:?}");
        }
    }

    #[test]
    fn quantity_of_zero_is_refused() {
        assert_eq!(
            Quantity::new(0),
            Err(QuantityError::TooSmall { value: "0".into() })
        );
    }

    #[test]
    fn values_beyond_u32_are_too_large_not_wrapped() {
        assert_eq!(
            Quantity::new(i64::from(u32::MAX) + 2),
            Err(QuantityError::TooLarge {
                value: "4294967297".into()
            })
        );
    }

    #[test]
    fn a_quantity_displays_as_the_bare_number() {
        assert_eq!(Quantity::new(1500).unwrap().to_string(), "1500");
    }

    #[test]
    fn messages_say_what_is_wrong_and_what_is_allowed() {
        for (error, message) in [
            (QuantityError::TooSmall { value: "0".into() }, "Quantity 0 is too small: allowed 1-100000 units."),
            (QuantityError::TooLarge { value: "200000".into() }, "Quantity 200000 is too large: allowed 1-100000 units."),
            (
                QuantityError::NotWhole { raw: "2.5".into() },
                "Quantity \"2.5\" is not a whole number: allowed 1-100000 whole units, e.g. 50.",
            ),
            (
                QuantityError::NotANumber { raw: "1,000".into() },
                "Quantity \"1,000\" is not a plain number: write digits only, without separators, e.g. 1000 (allowed 1-100000 units).",
            ),
            (QuantityError::Empty, "Quantity is empty: give a number of units from 1 to 100000, e.g. 50."),
        ] {
            assert_eq!(error.to_string(), message);
        }
    }
}
