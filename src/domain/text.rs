//! The one rule for free text people type: titles, notes and reasons.
//!
//! Such text is shown on cards, in lists, in the console and in the activity
//! log, and stored in Postgres (which refuses a NUL). Characters that are not
//! there to be read are refused, never silently dropped, so what a person
//! sees afterwards is what they typed: control characters (NUL, BEL, ESC
//! sequences that would drive a terminal), text-direction overrides (which
//! make "gpj.exe" read as "exe.jpg") and zero-width characters, except a
//! single joiner between two visible characters as emoji and some scripts
//! need. Line breaks are text in notes and reasons (a CR or CR LF becomes a
//! line feed); a one-line field turns every run of whitespace into a space.

use std::fmt;

/// Whether the field keeps line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A title: whitespace runs (line breaks too) become one space.
    One,
    /// Notes and reasons: line breaks stay (CR LF and CR become LF), tabs stay.
    Many,
}

/// A character free text may not hold, and where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("contains {kind} (U+{code:04X}) {place}")]
pub struct HiddenCharacter {
    kind: Kind,
    code: u32,
    place: Place,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nul,
    Control,
    Direction,
    ZeroWidth,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Nul => "a NUL character",
            Kind::Control => "a control character",
            Kind::Direction => "a hidden text-direction mark",
            Kind::ZeroWidth => "a zero-width character",
        })
    }
}

/// Where the character was: after a short, clean prefix of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place(String);

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("at the start")
        } else {
            write!(f, "after \"{}\"", self.0)
        }
    }
}

/// Characters of the text before the refused one that the refusal quotes.
const QUOTED_PREFIX: usize = 20;

/// Applies the rule: the text cleaned of line-ending and whitespace
/// differences (and trimmed), or the first character it may not hold.
pub fn plain(raw: &str, lines: Lines) -> Result<String, HiddenCharacter> {
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let kind = match c {
            '\0' => Some(Kind::Nul),
            '\n' | '\r' | '\t' => None,
            c if c.is_control() => Some(Kind::Control),
            '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}' => Some(Kind::Direction),
            '\u{200B}' | '\u{2060}' | '\u{FEFF}' => Some(Kind::ZeroWidth),
            // A joiner is text between two visible characters, and nowhere else.
            '\u{200C}' | '\u{200D}' => {
                let visible = |n: Option<&char>| n.is_some_and(|n| !is_invisible(*n));
                let alone = i > 0 && visible(chars.get(i - 1)) && visible(chars.get(i + 1));
                (!alone).then_some(Kind::ZeroWidth)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            let before: String = chars[..i].iter().collect();
            let before = before.split_whitespace().collect::<Vec<_>>().join(" ");
            let skip = before.chars().count().saturating_sub(QUOTED_PREFIX);
            let quoted: String = before.chars().skip(skip).collect();
            return Err(HiddenCharacter {
                kind,
                code: u32::from(c),
                place: Place(if skip > 0 {
                    format!("…{}", quoted.trim_start())
                } else {
                    quoted
                }),
            });
        }
    }
    Ok(match lines {
        Lines::One => raw.split_whitespace().collect::<Vec<_>>().join(" "),
        Lines::Many => raw
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .trim()
            .to_owned(),
    })
}

/// A session's notes: optional free text under the one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotesError {
    #[error("The notes {0}: type or paste plain text.")]
    Hidden(#[from] HiddenCharacter),
}

impl Notes {
    /// Notes are free text but not a novel: longer ones are cut here (the
    /// form allows no more).
    pub const MAX_LEN: usize = 1000;

    /// Blank notes are no notes.
    pub fn parse(raw: &str) -> Result<Option<Notes>, NotesError> {
        let notes = plain(raw, Lines::Many)?;
        Ok((!notes.is_empty()).then(|| Notes(notes.chars().take(Self::MAX_LEN).collect())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

/// At most `max` characters of `raw` for quoting bad input back, with control
/// characters shown as `?` and an ellipsis when cut: a 300-character SKU or a
/// 19-digit number is not echoed whole.
pub fn excerpt(raw: &str, max: usize) -> String {
    let mut out: String = raw
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() || is_invisible(c) && c != ' ' {
                '?'
            } else {
                c
            }
        })
        .collect();
    if raw.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// Digits of a number quoted back in a refusal: at most 12, so a pasted
/// 2^63 or a phone number is not echoed whole.
pub fn quoted_number(number: impl fmt::Display) -> String {
    excerpt(&number.to_string(), 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_not_there_to_be_read_are_refused_saying_which_and_where() {
        let cases = [
            (
                "Midnight\0Deals",
                "contains a NUL character (U+0000) after \"Midnight\"",
            ),
            (
                "\u{7}Ding",
                "contains a control character (U+0007) at the start",
            ),
            (
                "Sale \u{1b}[31mRED",
                "contains a control character (U+001B) after \"Sale\"",
            ),
            (
                "Sale \u{9b}31m",
                "contains a control character (U+009B) after \"Sale\"",
            ),
            (
                "gpj\u{202E}exe.",
                "contains a hidden text-direction mark (U+202E) after \"gpj\"",
            ),
            (
                "a\u{2066}b",
                "contains a hidden text-direction mark (U+2066) after \"a\"",
            ),
            (
                "Mid\u{200B}night",
                "contains a zero-width character (U+200B) after \"Mid\"",
            ),
            (
                "Mid\u{200D}\u{200D}night",
                "contains a zero-width character (U+200D) after \"Mid\"",
            ),
            (
                "\u{FEFF}Sale",
                "contains a zero-width character (U+FEFF) at the start",
            ),
            (
                "A very long title that goes on and on\u{7}",
                "contains a control character (U+0007) after \"…that goes on and on\"",
            ),
        ];
        for (raw, expected) in cases {
            for lines in [Lines::One, Lines::Many] {
                assert_eq!(
                    plain(raw, lines).map_err(|e| e.to_string()),
                    Err(expected.to_owned()),
                    "{raw:?}"
                );
            }
        }
    }

    #[test]
    fn line_breaks_are_text_in_notes_and_spaces_in_a_title() {
        assert_eq!(
            plain(" a\r\nb\rc\td ", Lines::Many),
            Ok("a\nb\nc\td".into())
        );
        assert_eq!(plain(" a\r\nb\rc\td ", Lines::One), Ok("a b c d".into()));
    }

    #[test]
    fn a_joiner_inside_an_emoji_or_a_word_is_text() {
        let family = "Family 👨\u{200D}👩\u{200D}👧 deals";
        assert_eq!(plain(family, Lines::One), Ok(family.to_owned()));
        assert_eq!(
            plain("می\u{200C}خواهم", Lines::One),
            Ok("می\u{200C}خواهم".into())
        );
    }

    #[test]
    fn an_excerpt_is_short_and_shows_no_control_characters() {
        assert_eq!(excerpt("FS-001", 20), "FS-001");
        assert_eq!(
            excerpt(&"A".repeat(300), 20),
            format!("{}…", "A".repeat(20))
        );
        assert_eq!(excerpt("a\u{1b}[2Jb", 20), "a?[2Jb");
    }
}
