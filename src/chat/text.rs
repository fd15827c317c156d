//! Rich-enough text: plain runs, typed times and commands to type next,
//! rendered by each adapter in its own way (a Discord timestamp, a console's
//! business-zone time; a command in the syntax the platform's users type).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Channel;

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
    /// Text a person typed (a title, notes, a reason): shown as typed, never
    /// read as markup, so `[click](https://…)` cannot become a masked link.
    /// Each adapter escapes it its platform's way.
    Typed(String),
    /// One of the bot's channels, which the adapter writes as a reference
    /// people can click (`<#C123>` in Slack) or as its name.
    Channel(Channel),
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

    /// What a person typed, to be shown as text and never as markup.
    pub fn typed(mut self, s: impl Into<String>) -> Text {
        let s = s.into();
        if !s.is_empty() {
            self.0.push(Span::Typed(s));
        }
        self
    }

    /// A reference to one of the bot's channels.
    pub fn channel(mut self, channel: Channel) -> Text {
        self.0.push(Span::Channel(channel));
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

    /// Renders with the adapter deciding how times and commands look; typed
    /// text as it was typed, a channel as `#name` (a console, logs).
    pub fn render_with(
        &self,
        time: impl Fn(DateTime<Utc>, TimeStyle) -> String,
        command: impl Fn(&CommandHint) -> String,
    ) -> String {
        self.render_escaped(time, command, str::to_owned)
    }

    /// As [`Text::render_with`], with `typed` turning what people typed into
    /// text the platform shows literally (Discord escapes its markdown).
    pub fn render_escaped(
        &self,
        time: impl Fn(DateTime<Utc>, TimeStyle) -> String,
        command: impl Fn(&CommandHint) -> String,
        typed: impl Fn(&str) -> String,
    ) -> String {
        self.0
            .iter()
            .map(|span| match span {
                Span::Plain(s) => s.clone(),
                Span::Typed(s) => typed(s),
                Span::Time(at, style) => time(*at, *style),
                Span::Command(hint) => command(hint),
                Span::Channel(channel) => format!("#{}", channel.name()),
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

/// `text` with what Discord-style markdown would read as formatting escaped
/// by a backslash, so what a person typed shows as typed: `[`/`]` (so no
/// masked link), `*`, `_`, `~`, `` ` ``, `|` and `\\` anywhere; a heading
/// (`# `), quote (`>`) or list marker (`- `) only where a line starts, the
/// one place they mean something (so `#12` or `FS-001` stay as they are).
/// Discord shows an escaped character without its backslash. Mentions are
/// left to `allowed_mentions`.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let block_marker = line_start
            && match c {
                '>' => true,
                '-' | '+' => next == Some(' '),
                '#' => {
                    let rest = chars[i..].iter().find(|&&h| h != '#');
                    rest == Some(&' ')
                }
                _ => false,
            };
        if block_marker || matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_markdown_cannot_make_a_masked_link() {
        let typed = "[click](https://evil.example) **now** ||x||";
        let escaped = escape_markdown(typed);
        assert_eq!(
            escaped,
            "\\[click\\](https://evil.example) \\*\\*now\\*\\* \\|\\|x\\|\\|"
        );
        // Discord reads `\\]` as a bracket, so `](` no longer closes a link text.
        assert!(!escaped.contains("[click]("), "{escaped}");
    }

    #[test]
    fn block_markers_are_escaped_only_where_a_line_starts() {
        assert_eq!(escape_markdown("#12 FS-001 - a > b"), "#12 FS-001 - a > b");
        assert_eq!(
            escape_markdown("# Big\n> quote\n - item\n## x"),
            "\\# Big\n\\> quote\n \\- item\n\\## x"
        );
    }

    #[test]
    fn typed_text_goes_through_the_adapters_escape_and_plain_text_does_not() {
        let text = Text::from("Notes: ")
            .typed("[a](b)")
            .plain(" in ")
            .channel(Channel::Approvals);
        let shown = text.render_escaped(|_, _| String::new(), CommandHint::slash, escape_markdown);
        assert_eq!(shown, "Notes: \\[a\\](b) in #approvals");
        assert_eq!(
            text.render(|_, _| String::new()),
            "Notes: [a](b) in #approvals"
        );
    }
}
