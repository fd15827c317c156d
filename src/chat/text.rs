//! Rich-enough text: plain runs and typed times, rendered by each adapter.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeStyle {
    /// Date and time, e.g. "Friday, 27 November 2026 00:00".
    Full,
    /// Relative to now, e.g. "in 7 hours".
    Relative,
    /// Both, as adapters see fit (e.g. "27 Nov 00:00 (in 7 hours)").
    FullAndRelative,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    Plain(String),
    Time(DateTime<Utc>, TimeStyle),
}

/// A line or paragraph of message text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Text(pub Vec<Span>);

impl Text {
    pub fn new() -> Text {
        Text(Vec::new())
    }

    pub fn plain(mut self, s: impl Into<String>) -> Text {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Span::Plain(s));
        }
        self
    }

    pub fn time(mut self, at: DateTime<Utc>, style: TimeStyle) -> Text {
        self.0.push(Span::Time(at, style));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends another text, as a new line when this one is not empty.
    pub fn line(mut self, other: Text) -> Text {
        if !self.0.is_empty() && !other.0.is_empty() {
            self.0.push(Span::Plain("\n".to_owned()));
        }
        self.0.extend(other.0);
        self
    }

    /// Renders with `time` deciding how each time looks.
    pub fn render(&self, time: impl Fn(DateTime<Utc>, TimeStyle) -> String) -> String {
        self.0
            .iter()
            .map(|span| match span {
                Span::Plain(s) => s.clone(),
                Span::Time(at, style) => time(*at, *style),
            })
            .collect()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new().plain(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new().plain(s)
    }
}
