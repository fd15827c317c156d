//! A session's title, as people see it on cards and in lists.

use std::fmt;

use super::text::{self, HiddenCharacter, Lines};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("The title is empty: give the session a name such as \"Midnight Deals\".")]
    Empty,
    #[error("The title is {len} characters long: allowed at most {max}.")]
    TooLong { len: usize, max: usize },
    #[error("The title {0}: type or paste plain text.")]
    Hidden(#[from] HiddenCharacter),
}

impl Title {
    pub const MAX_LEN: usize = 100;

    /// Trims and collapses inner runs of whitespace (a pasted title often has
    /// them); refuses what `text::plain` refuses.
    pub fn parse(raw: &str) -> Result<Title, TitleError> {
        let title = text::plain(raw, Lines::One)?;
        let len = title.chars().count();
        if len == 0 {
            return Err(TitleError::Empty);
        }
        if len > Self::MAX_LEN {
            return Err(TitleError::TooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        Ok(Title(title))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_inner_spaces_collapsed() {
        assert_eq!(
            Title::parse("  Midnight \t Deals ").map(|t| t.to_string()),
            Ok("Midnight Deals".to_owned())
        );
    }

    #[test]
    fn a_nul_or_an_escape_sequence_in_a_title_is_refused_by_name() {
        assert_eq!(
            Title::parse("Midnight\0Deals").map_err(|e| e.to_string()),
            Err("The title contains a NUL character (U+0000) after \"Midnight\": type or paste plain text.".to_owned())
        );
        assert!(matches!(
            Title::parse("\u{1b}[2J\u{1b}[HDeals"),
            Err(TitleError::Hidden(_))
        ));
    }

    #[test]
    fn blank_title_is_refused() {
        assert_eq!(Title::parse("   "), Err(TitleError::Empty));
    }

    #[test]
    fn title_of_101_characters_is_refused() {
        assert_eq!(
            Title::parse(&"x".repeat(101)),
            Err(TitleError::TooLong { len: 101, max: 100 })
        );
        assert!(Title::parse(&"x".repeat(100)).is_ok());
    }
}
