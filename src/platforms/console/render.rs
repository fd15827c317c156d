//! How a chat `Message` looks in a terminal: plain lines, cards as boxes.
//!
//! `app::cards` decides what a card says; this file decides only how it
//! looks here: a box of box-drawing characters at a fixed width (long names
//! wrap inside it), the tone as a symbol, times in the business time zone
//! with how far away they are, mentions as `@approvers`, and buttons as
//! `[1 Approve] [2 Reject]` so they can be pressed by number or label.
//! Widths count characters; wide characters (CJK, emoji) may push a box edge
//! out by a column, which is harmless in a terminal.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use crate::chat::{Button, Card, CommandHint, Mention, Message, Text, TimeStyle, Tone};

/// Total width of a card box, borders included; narrow enough for a split terminal.
pub const DEFAULT_WIDTH: usize = 72;
/// Below this a box has no room for its content.
const MIN_WIDTH: usize = 30;

/// Renders for one business time zone at one width.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub time_zone: Tz,
    /// Total width of a card box, borders included.
    pub width: usize,
}

impl Renderer {
    pub fn new(time_zone: Tz) -> Renderer {
        Renderer {
            time_zone,
            width: DEFAULT_WIDTH,
        }
    }

    /// `Fri 27 Nov 00:00 WIB`, `in 7h`, or both: `Fri 27 Nov 00:00 WIB (in 7h)`.
    /// The year shows only when it is not this year.
    pub fn time(&self, at: DateTime<Utc>, style: TimeStyle, now: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.time_zone);
        let full = if local.year() == now.with_timezone(&self.time_zone).year() {
            local.format("%a %d %b %H:%M %Z").to_string()
        } else {
            local.format("%a %d %b %Y %H:%M %Z").to_string()
        };
        match style {
            TimeStyle::Full => full,
            TimeStyle::Relative => relative(at - now),
            TimeStyle::FullAndRelative => format!("{full} ({})", relative(at - now)),
        }
    }

    pub fn text(&self, text: &Text, now: DateTime<Utc>) -> String {
        // The console speaks Discord's commands and options (`parser`).
        text.render_with(|at, style| self.time(at, style, now), CommandHint::slash)
    }

    /// A whole message: mentions and text, then the card, then the buttons.
    pub fn message(&self, message: &Message, now: DateTime<Utc>) -> String {
        let mentions: Vec<String> = message.mentions.iter().map(mention).collect();
        let text = self.text(&message.text, now);
        let mut out = match (mentions.is_empty(), text.is_empty()) {
            (true, _) => text,
            (false, true) => mentions.join(" "),
            (false, false) => format!("{} {text}", mentions.join(" ")),
        };
        if let Some(card) = &message.card {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&self.card(card, now));
        }
        if !message.buttons.is_empty() {
            out.push('\n');
            out.push_str(&buttons(&message.buttons));
        }
        out
    }

    /// The card as a box: tone and title with the status, description, fields, footer.
    pub fn card(&self, card: &Card, now: DateTime<Utc>) -> String {
        let inner = self.width.max(MIN_WIDTH) - 4;
        let mut out = vec![format!("╭{}╮", "─".repeat(inner + 2))];
        let row = |line: &str| {
            format!(
                "│ {line}{} │",
                " ".repeat(inner.saturating_sub(width(line)))
            )
        };
        let rule = format!("├{}┤", "─".repeat(inner + 2));

        let status = card.status.as_str();
        let mut heading = wrap(&format!("{} {}", tone_symbol(card.tone), card.title), inner);
        // The status sits right-aligned on the last title line, or on a line of its own.
        let last = heading.pop().unwrap_or_default();
        if width(&last) + 2 + width(status) <= inner {
            heading.push(format!(
                "{last}{}{status}",
                " ".repeat(inner - width(&last) - width(status))
            ));
        } else {
            heading.push(last);
            heading.push(format!(
                "{}{status}",
                " ".repeat(inner.saturating_sub(width(status)))
            ));
        }
        out.extend(heading.iter().map(|l| row(l)));

        let mut body: Vec<String> = Vec::new();
        if let Some(description) = card.description.as_ref().filter(|d| !d.is_empty()) {
            body.extend(wrap(&self.text(description, now), inner));
        }
        for field in &card.fields {
            body.extend(wrap(&field.name, inner));
            let value = self.text(&field.value, now);
            body.extend(
                wrap(&value, inner - 2)
                    .into_iter()
                    .map(|l| format!("  {l}")),
            );
        }
        if !body.is_empty() {
            out.push(rule.clone());
            out.extend(body.iter().map(|l| row(l)));
        }
        if let Some(footer) = card.footer.as_ref().filter(|f| !f.is_empty()) {
            out.push(rule);
            out.extend(wrap(footer, inner).iter().map(|l| row(l)));
        }
        out.push(format!("╰{}╯", "─".repeat(inner + 2)));
        out.join("\n")
    }
}

/// `[1 Approve] [2 Reject]`: the numbers are what `press 1` refers to.
pub fn buttons(buttons: &[Button]) -> String {
    buttons
        .iter()
        .enumerate()
        .map(|(i, b)| format!("[{} {}]", i + 1, b.label))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `@approvers`, `@editors`, `@alice` (console users), or the full id for
/// people from another platform.
pub fn mention(mention: &Mention) -> String {
    match mention {
        Mention::Approvers => "@approvers".to_owned(),
        Mention::Editors => "@editors".to_owned(),
        Mention::User(id) => {
            let id = id.as_str();
            format!("@{}", id.strip_prefix("console:").unwrap_or(id))
        }
    }
}

/// One character that says how a card feels; all single-width, so boxes stay square.
pub fn tone_symbol(tone: Tone) -> char {
    match tone {
        Tone::Neutral => '○',
        Tone::Attention => '◆',
        Tone::Success => '✓',
        Tone::Live => '▶',
        Tone::Danger => '✗',
    }
}

/// `in 7h`, `in 1h 30m`, `2d 3h ago`, `just now`; rounded to the minute.
pub fn relative(d: Duration) -> String {
    // Half a minute or more rounds up, so "in 7h" is not shown as "in 6h 59m".
    let minutes = (d.num_seconds() + 30).div_euclid(60);
    if minutes == 0 {
        return if d > Duration::zero() {
            "in under a minute"
        } else {
            "just now"
        }
        .to_owned();
    }
    let span = span(minutes.abs());
    if minutes > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// `45m`, `7h`, `1h 30m`, `2d 3h` (minutes are dropped once days show).
pub fn span(minutes: i64) -> String {
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if mins > 0 && days == 0 {
        parts.push(format!("{mins}m"));
    }
    if parts.is_empty() {
        "0m".to_owned()
    } else {
        parts.join(" ")
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Word-wraps each line of `text` to at most `max` characters; a word longer
/// than a line is cut, never dropped.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let room = if line.is_empty() {
                    max
                } else {
                    max.saturating_sub(width(&line) + 1)
                };
                if word.len() <= room {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.extend(word);
                    break;
                }
                if line.is_empty() {
                    // A word longer than a whole line: cut it.
                    let rest = word.split_off(max);
                    out.push(word.into_iter().collect());
                    word = rest;
                } else {
                    out.push(std::mem::take(&mut line));
                }
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ButtonStyle, Field};
    use chrono::TimeZone;

    fn renderer() -> Renderer {
        Renderer::new(chrono_tz::Asia::Jakarta)
    }

    /// Thursday 2026-11-26 17:00 in Jakarta.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
    }

    fn card(title: &str, fields: Vec<Field>) -> Card {
        Card {
            title: title.to_owned(),
            status: "Pending approval".to_owned(),
            tone: Tone::Attention,
            description: Some(Text::from("6 of 6 SKUs")),
            fields,
            footer: Some("version 7 · drafted by alice".to_owned()),
        }
    }

    #[test]
    fn times_show_the_business_zone_and_how_far_away_they_are() {
        let r = renderer();
        let midnight = Utc.with_ymd_and_hms(2026, 11, 26, 17, 0, 0).unwrap();
        assert_eq!(
            r.time(midnight, TimeStyle::Full, now()),
            "Fri 27 Nov 00:00 WIB"
        );
        assert_eq!(r.time(midnight, TimeStyle::Relative, now()), "in 7h");
        assert_eq!(
            r.time(midnight, TimeStyle::FullAndRelative, now()),
            "Fri 27 Nov 00:00 WIB (in 7h)"
        );
        let next_year = Utc.with_ymd_and_hms(2027, 1, 2, 3, 0, 0).unwrap();
        assert_eq!(
            r.time(next_year, TimeStyle::Full, now()),
            "Sat 02 Jan 2027 10:00 WIB"
        );
    }

    #[test]
    fn a_text_with_times_renders_each_time_in_place() {
        let text = Text::new()
            .plain("#3 is waiting for approval, due ")
            .time(now() + Duration::minutes(90), TimeStyle::Relative)
            .plain(", started ")
            .time(now() - Duration::hours(50), TimeStyle::Relative)
            .plain(".");
        assert_eq!(
            renderer().text(&text, now()),
            "#3 is waiting for approval, due in 1h 30m, started 2d 2h ago."
        );
    }

    #[test]
    fn a_card_is_a_square_box_with_status_fields_and_footer() {
        let fields = vec![Field {
            name: "1. FS-001 · Kopi Arabika Gayo 250 g".to_owned(),
            value: Text::from("IDR 149,500 → IDR 104,650 (-30%) · 50 units · stock 420"),
            inline: false,
        }];
        let out = renderer().card(&card("#3 Midnight Deals", fields), now());
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines.iter().all(|l| l.chars().count() == DEFAULT_WIDTH),
            "{out}"
        );
        assert!(lines[0].starts_with('╭') && lines[lines.len() - 1].starts_with('╰'));
        assert!(
            lines[1].starts_with("│ ◆ #3 Midnight Deals")
                && lines[1].ends_with("Pending approval │")
        );
        assert!(
            out.contains("│   IDR 149,500 → IDR 104,650 (-30%) · 50 units · stock 420"),
            "{out}"
        );
        assert!(out.contains("│ version 7 · drafted by alice"));
    }

    #[test]
    fn long_titles_and_names_wrap_inside_the_box() {
        let long = "Kemeja Batik Wanita Lengan Panjang Edisi Spesial Ramadhan Warna Biru Tua";
        let fields = vec![Field {
            name: format!("1. FS-013 · {long}"),
            value: Text::from("x".repeat(200)),
            inline: false,
        }];
        let out = renderer().card(&card(&format!("#12 {long} {long}"), fields), now());
        assert!(
            out.lines().all(|l| l.chars().count() == DEFAULT_WIDTH),
            "{out}"
        );
        let flat: String = out
            .lines()
            .map(|l| l.trim_matches(['│', ' ']))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains("Warna Biru Tua"), "nothing is cut off: {out}");
        assert_eq!(
            out.matches('x').count(),
            200,
            "an overlong word is split, not dropped"
        );
        assert!(out.contains("Pending approval │"));
    }

    #[test]
    fn a_message_shows_mentions_text_card_and_numbered_buttons() {
        let message = Message {
            text: Text::from("#3 \"Midnight Deals\" is waiting for approval."),
            card: Some(card("#3 Midnight Deals", vec![])),
            buttons: vec![
                Button {
                    id: "fs:approve:3:7".into(),
                    label: "Approve".into(),
                    style: ButtonStyle::Success,
                },
                Button {
                    id: "fs:reject:3:7".into(),
                    label: "Reject".into(),
                    style: ButtonStyle::Danger,
                },
            ],
            mentions: vec![
                Mention::Approvers,
                Mention::User(crate::domain::ActorId::new("console", "alice")),
            ],
            picture: None,
            dedupe_key: None,
        };
        let out = renderer().message(&message, now());
        assert!(
            out.starts_with("@approvers @alice #3 \"Midnight Deals\" is waiting for approval.\n╭"),
            "{out}"
        );
        assert!(out.ends_with("╯\n[1 Approve] [2 Reject]"), "{out}");
    }

    #[test]
    fn wrapping_keeps_words_whole_and_cuts_only_overlong_ones() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("a\n\nb", 5), vec!["a", "", "b"]);
        assert_eq!(relative(Duration::seconds(-20)), "just now");
        assert_eq!(relative(Duration::seconds(20)), "in under a minute");
        assert_eq!(relative(Duration::minutes(-45)), "45m ago");
    }
}
