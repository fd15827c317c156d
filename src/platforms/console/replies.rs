//! What the console answers the person who typed a command: a session with
//! its card, the calendar list, the activity log, the per-line report of a
//! paste or clone, help, and refusals.
//!
//! Presentation only: the words of a session card come from `app::cards`,
//! refusals are the `AppError` text as it is (internal failures are already an
//! apology with a reference id; the cause is in the log on stderr).

use chrono::{DateTime, Utc};

use super::render::Renderer;
use crate::app::cards::session_card;
use crate::app::help;
use crate::app::{ActivityEntry, ActivityPage, AppError, BatchReport, ListView, SessionView};
use crate::chat::{CommandHint, TimeStyle};
use crate::domain::{Status, MAX_ITEMS};

impl Renderer {
    /// A headline, then the session's card.
    pub fn session(&self, headline: &str, view: &SessionView, now: DateTime<Utc>) -> String {
        format!("{headline}\n{}", self.card(&session_card(view), now))
    }

    /// One line per session in start order: id, title, status, SKUs, window,
    /// the approval deadline while approval is still ahead, and between
    /// sessions the free time (`app::calendar`, as Discord shows it).
    pub fn list(&self, list: &ListView, now: DateTime<Utc>) -> String {
        let sessions = self.sessions(list, now);
        match &list.uncovered {
            Some(uncovered) => format!("{sessions}\n{}", self.text(uncovered, now)),
            None => sessions,
        }
    }

    fn sessions(&self, list: &ListView, now: DateTime<Utc>) -> String {
        if list.rows.is_empty() {
            return "No sessions here. Start one with /flashsale draft.".to_owned();
        }
        let sessions = if list.total == 1 {
            "session"
        } else {
            "sessions"
        };
        let page = if list.pages > 1 {
            format!(" · page {} of {}", list.page, list.pages)
        } else {
            String::new()
        };
        let mut out = format!(
            "{}{page} · {} {sessions}, times in {}:",
            list.range.heading(),
            list.total,
            self.time_zone.name()
        );
        for row in &list.rows {
            if let Some(free) = &row.free_before {
                out.push_str(&format!(
                    "\n  · free {}: {} ·",
                    free.length_label(),
                    self.local_span(free.from, free.to)
                ));
            }
            let s = &row.session;
            out.push_str(&format!(
                "\n  #{} {} · {} · {}/{MAX_ITEMS} SKUs · {}",
                s.id,
                s.title,
                s.status.label(),
                s.item_count,
                self.local_span(s.window.starts_at(), s.window.ends_at()),
            ));
            if matches!(s.status, Status::Draft | Status::PendingApproval) {
                out.push_str(&format!(
                    " · approve by {}",
                    self.time(s.approval_deadline, TimeStyle::FullAndRelative, now)
                ));
            }
        }
        if let Some(next) = list.next_page_command() {
            out.push_str(&format!("\nNext: {next}"));
        }
        out
    }

    /// `Fri 27 Nov 00:00–12:00 WIB`, or both dates when the span crosses midnight.
    pub fn local_span(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
        crate::domain::window::format_span(from, to, self.time_zone)
    }

    /// One page of the activity log, oldest first, and how to see the next.
    pub fn log(&self, page: &ActivityPage, now: DateTime<Utc>) -> String {
        let entries = if page.total == 1 { "entry" } else { "entries" };
        let mut out = format!(
            "Activity of #{} · page {} of {} · {} {entries}",
            page.session_id, page.page, page.pages, page.total
        );
        if page.entries.is_empty() {
            out.push_str("\n  No activity yet.");
        }
        for entry in &page.entries {
            out.push_str(&format!("\n  {}", self.log_line(entry, now)));
        }
        if page.page < page.pages {
            out.push_str(&format!(
                "\nNext: /flashsale log session:{} page:{}",
                page.session_id,
                page.page + 1
            ));
        }
        out
    }

    fn log_line(&self, entry: &ActivityEntry, now: DateTime<Utc>) -> String {
        let at = entry
            .at
            .with_timezone(&self.time_zone)
            .format("%a %d %b %H:%M");
        let what = self.text(&entry.what, now);
        format!("{at}  {}  {what}", entry.actor_name)
    }

    /// Per line what was added and what was refused and why, then the card.
    pub fn batch(&self, headline: &str, report: &BatchReport, now: DateTime<Utc>) -> String {
        let mut out = format!(
            "{headline}\nAdded {} of {} lines:",
            report.added(),
            report.lines.len()
        );
        for line in &report.lines {
            match &line.result {
                Ok(()) => {
                    out.push_str(&format!("\n  ✓ line {} · {} added", line.line_no, line.sku))
                }
                Err(e) => out.push_str(&format!("\n  ✗ line {} · {}: {e}", line.line_no, line.sku)),
            }
        }
        out.push('\n');
        out.push_str(&self.card(&session_card(&report.session), now));
        out
    }
}

/// A refusal as the use case worded it, with commands as the console types them.
/// (Refusals carry no times; if one did, it would show in UTC.)
pub fn error(error: &AppError) -> String {
    let said = error.message().render_with(
        |at, _| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        CommandHint::slash,
    );
    format!("✗ {said}")
}

/// Everything the console understands: the commands (`app::help`), each
/// as an example typed here with what it does, then the console's own.
pub fn help(time_zone: &str) -> String {
    let mut out = format!(
        "{}\n{}\nValues with spaces go in double quotes (\\\" for a quote inside); \
         the `/flashsale` in front of a command may be left out.",
        help::ABOUT,
        help::times(time_zone)
    );
    for group in help::GROUPS {
        out.push_str(&format!("\n\n{}:", group.title));
        for entry in group.entries {
            match entry.command {
                Some(command) => out.push_str(&format!(
                    "\n  {}\n      {}",
                    command.example(help::Files::Paths).slash(),
                    entry.does
                )),
                None => out.push_str(&format!(
                    "\n  {}\n      here: `press approve 3`, `press reject 3` (see Console below)",
                    entry.does
                )),
            }
        }
    }
    out.push_str(
        "

Pasting after `/flashsale add-sku session:3`: one line per SKU, ended by an empty line
or a line with a single `.`

Console:
  as <name> [editor|approver|both]   act as someone else (default: you, both roles)
  whoami                             who you are acting as
  press <button> [session]           press a button of the latest card (of that session),
                                     e.g. `press approve 3`, or by its number: `press 1`
  help                               this list
  quit                               leave (Ctrl-D works too)",
    );
    out
}
