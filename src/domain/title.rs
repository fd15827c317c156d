//! A session's title, as people see it on cards and in lists.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("The title is empty: give the session a name such as \"Midnight Deals\".")]
    Empty,
    #[error("The title is {len} characters long: allowed at most {max}.")]
    TooLong { len: usize, max: usize },
}

impl Title {
    pub const MAX_LEN: usize = 100;

    /// Trims and collapses inner runs of whitespace (a pasted title often has them).
    pub fn parse(raw: &str) -> Result<Title, TitleError> {
        let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
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
