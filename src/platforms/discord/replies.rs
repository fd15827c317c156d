//! What the slash commands answer, as Discord messages: a session with its
//! card, the calendar list, the activity log, the per-line report of a paste
//! or clone, help, and refusals.
//!
//! These are presentation only; the words of a session card come from
//! `app::cards`, refusals from the `AppError` text as it is.

use chrono::{DateTime, Utc};

use super::render::{limits, truncate, EmbedField, EmbedParts, Rendered, Renderer};
use crate::app::cards::session_card;
use crate::app::help;
use crate::app::{
    ActivityEntry, ActivityPage, AppError, BatchReport, ListView, SessionSummaryView, SessionView,
};
use crate::chat::Tone;
use crate::domain::Status;

/// Room kept free at the end of a description for "… and N more".
const MORE_NOTE: usize = 120;
/// One log line or report line stays readable and leaves room for the rest.
const LINE: usize = 250;

impl Renderer {
    /// A private answer showing the session as a card under `headline`.
    pub fn session(&self, view: &SessionView, headline: &str) -> Rendered {
        Rendered {
            content: truncate(headline, limits::CONTENT),
            embeds: vec![self.card(&session_card(view))],
            ..Rendered::default()
        }
    }

    /// Refusals say what the use case said; internal failures are already an
    /// apology with a reference (the cause is in the log, not in chat).
    pub fn error(&self, error: &AppError) -> Rendered {
        Rendered::text(self.text(&error.message()))
    }

    /// The calendar: one entry per session in start order, with the free
    /// time between sessions that will (or did) run (`app::calendar`).
    pub fn list(&self, list: &ListView) -> Rendered {
        let entries: Vec<String> = list
            .rows
            .iter()
            .map(|row| {
                let mut entry = String::new();
                if let Some(free) = &row.free_before {
                    entry.push_str(&format!(
                        "*· free {}: {} ·*\n",
                        free.length_label(),
                        self.local_span(free.from, free.to)
                    ));
                }
                entry.push_str(&self.list_entry(&row.session));
                entry
            })
            .collect();
        let description = if entries.is_empty() {
            "Nothing here. Start one with `/flashsale draft`.".to_owned()
        } else {
            fit_lines(
                &entries,
                "\n\n",
                "use `range: today` or `week` to narrow it down",
            )
        };
        let description = match &list.uncovered {
            Some(uncovered) => format!("{description}\n\n{}", self.text(uncovered)),
            None => description,
        };
        let mut title = format!("{} ({})", list.range.heading(), list.total);
        if list.pages > 1 {
            title.push_str(&format!(" · page {} of {}", list.page, list.pages));
        }
        let mut footer = format!("Times in {}", self.time_zone.name());
        if let Some(next) = list.next_page_command() {
            footer.push_str(&format!(" · next: {next}"));
        }
        neutral_embed(title, description, footer)
    }

    fn list_entry(&self, s: &SessionSummaryView) -> String {
        let (start, end) = (s.window.starts_at(), s.window.ends_at());
        let mut entry = format!(
            "**#{}** {} · {} · {}/{}\n<t:{}:f> → <t:{}:t> ({})",
            s.id,
            truncate(&s.title, 100),
            s.status.label(),
            s.item_count,
            crate::domain::MAX_ITEMS,
            start.timestamp(),
            end.timestamp(),
            self.local_span(start, end)
        );
        // The deadline only matters while approval is still ahead.
        if matches!(s.status, Status::Draft | Status::PendingApproval) {
            entry.push_str(&format!(
                " · approve by <t:{}:R>",
                s.approval_deadline.timestamp()
            ));
        }
        entry
    }

    /// `Fri 27 Nov 00:00–12:00 WIB`, or both dates when the span crosses midnight.
    pub fn local_span(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
        crate::domain::window::format_span(from, to, self.time_zone)
    }

    /// One page of the activity log, oldest first.
    pub fn log(&self, page: &ActivityPage) -> Rendered {
        let lines: Vec<String> = page.entries.iter().map(|e| self.log_line(e)).collect();
        let description = if lines.is_empty() {
            "No activity yet.".to_owned()
        } else {
            fit_lines(&lines, "\n", "ask for the next page")
        };
        let mut footer = format!("{} entries", page.total);
        if page.page < page.pages {
            footer.push_str(&format!(
                " · next: /flashsale log session:{} page:{}",
                page.session_id,
                page.page + 1
            ));
        }
        let title = format!(
            "Activity of #{} · page {} of {}",
            page.session_id, page.page, page.pages
        );
        neutral_embed(title, description, footer)
    }

    fn log_line(&self, entry: &ActivityEntry) -> String {
        let what = self.text(&entry.what);
        truncate(
            &format!(
                "<t:{}:f> **{}** {what}",
                entry.at.timestamp(),
                truncate(&entry.actor_name, 60)
            ),
            LINE,
        )
    }

    /// Per line what was added and what was refused and why, with the card.
    pub fn batch(&self, headline: &str, report: &BatchReport) -> Rendered {
        let lines: Vec<String> = report
            .lines
            .iter()
            .map(|l| {
                let sku = truncate(&l.sku, 40);
                match &l.result {
                    Ok(()) => format!("✅ line {} · {sku} added", l.line_no),
                    Err(e) => truncate(&format!("❌ line {} · {sku}: {e}", l.line_no), LINE * 2),
                }
            })
            .collect();
        let content = format!(
            "{headline}\nAdded {} of {} lines.\n{}",
            report.added(),
            report.lines.len(),
            lines.join("\n")
        );
        Rendered {
            content: truncate(&content, limits::CONTENT),
            embeds: vec![self.card(&session_card(&report.session))],
            ..Rendered::default()
        }
    }

    /// The commands and the time formats they accept (`app::help`), each
    /// command by its name: Discord asks for its options in its own form.
    pub fn help(&self) -> Rendered {
        let zone = format!("**{}**", self.time_zone.name());
        let fields = help::GROUPS
            .iter()
            .map(|group| {
                let lines: Vec<String> = group
                    .entries
                    .iter()
                    .map(|entry| match entry.command {
                        Some(command) => format!("`/flashsale {}` {}", command.name, entry.does),
                        None => entry.does.to_owned(),
                    })
                    .collect();
                EmbedField {
                    name: group.title.to_owned(),
                    value: truncate(&lines.join("\n"), limits::FIELD_VALUE),
                    inline: false,
                }
            })
            .collect();
        let embed = EmbedParts {
            title: "Flash sales: commands".to_owned(),
            description: Some(format!("{}\n{}", help::ABOUT, help::times(&zone))),
            colour: super::render::tone_colour(Tone::Neutral),
            fields,
            footer: None,
        }
        .build();
        Rendered {
            embeds: vec![embed],
            ..Rendered::default()
        }
    }
}

/// Joins whole entries while they fit an embed description, then says how many were left out.
fn fit_lines(entries: &[String], separator: &str, hint: &str) -> String {
    let budget = limits::EMBED_DESCRIPTION - MORE_NOTE;
    let mut out = String::new();
    let mut used = 0;
    for (shown, entry) in entries.iter().enumerate() {
        let cost = entry.chars().count()
            + if shown == 0 {
                0
            } else {
                separator.chars().count()
            };
        if used + cost > budget {
            return format!("{out}\n… and {} more: {hint}.", entries.len() - shown);
        }
        if shown > 0 {
            out.push_str(separator);
        }
        out.push_str(entry);
        used += cost;
    }
    out
}

/// A plain listing (the calendar, a log page): one neutral embed.
fn neutral_embed(title: String, description: String, footer: String) -> Rendered {
    let embed = EmbedParts {
        title,
        description: Some(description),
        colour: super::render::tone_colour(Tone::Neutral),
        fields: vec![],
        footer: Some(footer),
    }
    .build();
    Rendered {
        embeds: vec![embed],
        ..Rendered::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_stop_at_a_whole_entry_and_say_how_many_are_left() {
        let entries: Vec<String> = (0..100)
            .map(|i| format!("{i:03}{}", "x".repeat(97)))
            .collect();
        let text = fit_lines(&entries, "\n", "narrow it down");
        assert!(text.chars().count() <= limits::EMBED_DESCRIPTION);
        let shown = text.lines().filter(|l| l.ends_with('x')).count();
        assert!(text.ends_with(&format!("… and {} more: narrow it down.", 100 - shown)));
    }
}
