//! Why a session was rejected, cancelled, revoked or stopped: shown to the
//! editors, on the card and in the activity log.

use std::fmt;

use super::text::{self, HiddenCharacter, Lines};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonError {
    #[error("A reason is required: tell the editors what to change.")]
    Empty,
    #[error("The reason is {len} characters long: allowed at most {max}.")]
    TooLong { len: usize, max: usize },
    #[error("The reason {0}: type or paste plain text.")]
    Hidden(#[from] HiddenCharacter),
}

impl Reason {
    /// Room for a few sentences; an embed field holds 1024 characters.
    pub const MAX_LEN: usize = 1000;

    pub fn parse(raw: &str) -> Result<Reason, ReasonError> {
        let reason = text::plain(raw, Lines::Many)?;
        let len = reason.chars().count();
        if len == 0 {
            return Err(ReasonError::Empty);
        }
        if len > Self::MAX_LEN {
            return Err(ReasonError::TooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        Ok(Reason(reason))
    }

    /// For the actions where a reason may be left out: blank is `None`.
    pub fn optional(raw: Option<&str>) -> Result<Option<Reason>, ReasonError> {
        match raw.map(Reason::parse) {
            None | Some(Err(ReasonError::Empty)) => Ok(None),
            Some(parsed) => parsed.map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_keeps_its_lines_and_is_trimmed() {
        assert_eq!(
            Reason::parse("  wrong prices\r\nfix FS-002 ").map(Reason::into_string),
            Ok("wrong prices\nfix FS-002".to_owned())
        );
    }

    #[test]
    fn a_reason_over_the_limit_is_refused_with_the_limit() {
        assert_eq!(
            Reason::parse(&"x".repeat(1001)).map_err(|e| e.to_string()),
            Err("The reason is 1001 characters long: allowed at most 1000.".to_owned())
        );
        assert!(Reason::parse(&"x".repeat(1000)).is_ok());
    }

    #[test]
    fn a_left_out_or_blank_optional_reason_is_none_but_a_bad_one_is_refused() {
        assert_eq!(Reason::optional(None), Ok(None));
        assert_eq!(Reason::optional(Some("  ")), Ok(None));
        assert!(matches!(
            Reason::optional(Some("bell\u{7}")),
            Err(ReasonError::Hidden(_))
        ));
    }
}
