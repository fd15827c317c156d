//! Rich-enough text: plain runs, typed times and commands to type next,
//! rendered by each adapter in its own way (a Discord timestamp, a console's
//! business-zone time; a command in the syntax the platform's users type).

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
    /// A command worth typing next, e.g. `list` or `add-sku session:12`: the
    /// use cases name the command, the adapter writes it its platform's way.
    Command(CommandHint),
}

/// A `/flashsale` subcommand and the options that make it ready to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandHint {
    pub name: String,
    pub options: Vec<(String, String)>,
}

impl CommandHint {
    /// `/flashsale add-sku session:12`: how it is typed where commands are
    /// slash commands with `name:value` options (Discord, the console, Slack).
    pub fn slash(&self) -> String {
        let mut out = format!("/flashsale {}", self.name);
        for (name, value) in &self.options {
            out.push_str(&format!(" {name}:{value}"));
        }
        out
    }
}

/// At most `max` characters; a cut ends in `…` and never splits a character.
/// Every platform has its limits; this is how each adapter keeps to them.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A dash for a blank title, label or field: platforms refuse empty ones.
pub fn non_empty(s: &str) -> &str {
    if s.trim().is_empty() {
        "—"
    } else {
        s
    }
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

    /// A command to type next; `options` as `(name, value)`.
    pub fn command(mut self, name: &str, options: &[(&str, String)]) -> Text {
        self.0.push(Span::Command(CommandHint {
            name: name.to_owned(),
            options: options
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
        }));
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

    /// Renders with `time` deciding how each time looks and commands in
    /// their slash form (logs, exports: text read outside any chat).
    pub fn render(&self, time: impl Fn(DateTime<Utc>, TimeStyle) -> String) -> String {
        self.render_with(time, CommandHint::slash)
    }

    /// Renders with the adapter deciding how times and commands look.
    pub fn render_with(
        &self,
        time: impl Fn(DateTime<Utc>, TimeStyle) -> String,
        command: impl Fn(&CommandHint) -> String,
    ) -> String {
        self.0
            .iter()
            .map(|span| match span {
                Span::Plain(s) => s.clone(),
                Span::Time(at, style) => time(*at, *style),
                Span::Command(hint) => command(hint),
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
