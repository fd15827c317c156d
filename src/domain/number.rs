//! The one parser for the whole numbers people and platforms hand us as text: session and card
//! ids in button and form ids, a session typed as `#12`, a platform's message ids.

use std::str::FromStr;

/// Digits only, above zero: no sign, no spaces, no `+`, nothing `str::parse` would forgive. A
/// number too big for `T` is `None` like any other malformed one.
pub fn positive<T: FromStr + PartialOrd + Default>(raw: &str) -> Option<T> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok().filter(|n| *n > T::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_digits_above_zero_are_numbers() {
        assert_eq!(positive::<i64>("12"), Some(12));
        assert_eq!(
            positive::<u64>("1234567890123456789"),
            Some(1234567890123456789)
        );
        assert_eq!(positive::<i32>("007"), Some(7));
    }

    #[test]
    fn signs_spaces_zero_and_overflow_are_refused() {
        for bad in [
            "",
            "0",
            "00",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.0",
            "1e3",
            "١٢",
            "99999999999",
        ] {
            assert_eq!(positive::<i32>(bad), None, "{bad:?}");
        }
    }
}
