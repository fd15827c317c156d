//! Answers only the person who acted sees, in Slack's words: the calendar,
//! a log page, a batch report, help. Times and commands stay typed (`Text`);
//! the renderer writes them Slack's way.

use crate::app::{help, ActivityPage, BatchReport, ListView};
use crate::chat::{Message, Text, TimeStyle};
use crate::domain::MAX_ITEMS;

pub(super) fn text_message(text: Text) -> Message {
    Message {
        text,
        ..Message::default()
    }
}

/// The calendar page as lines, free time between sessions.
pub(super) fn list_text(list: &ListView) -> Text {
    let text = sessions_text(list);
    match &list.uncovered {
        Some(uncovered) => text.line(uncovered.clone()),
        None => text,
    }
}

fn sessions_text(list: &ListView) -> Text {
    if list.rows.is_empty() {
        return Text::from("No sessions here. Start one with ")
            .command("draft", &[])
            .plain(".");
    }
    let page = if list.pages > 1 {
        format!(" · page {} of {}", list.page, list.pages)
    } else {
        String::new()
    };
    let mut text = Text::from(format!(
        "{}{page} · {} in all",
        list.range.heading(),
        list.total
    ));
    for row in &list.rows {
        if let Some(free) = &row.free_before {
            text = text
                .plain(format!("\n· free {}: ", free.length_label()))
                .time(free.from, TimeStyle::Full)
                .plain(" → ")
                .time(free.to, TimeStyle::Full);
        }
        let s = &row.session;
        text = text
            .plain(format!(
                "\n#{} {} · {} · {}/{MAX_ITEMS} SKUs · ",
                s.id,
                escape_title(&s.title),
                s.status.label(),
                s.item_count
            ))
            .time(s.window.starts_at(), TimeStyle::Full);
    }
    if list.page < list.pages {
        text = text
            .plain("\nNext: ")
            .command("list", &[("page", (list.page + 1).to_string())]);
    }
    text
}

/// Titles are typed by people; the renderer escapes text, so this only keeps them short.
pub(super) fn escape_title(title: &str) -> String {
    super::render::truncate(title, 80)
}

pub(super) fn log_text(page: &ActivityPage) -> Text {
    let mut text = Text::from(format!(
        "Activity of #{} · page {} of {} · {} entries",
        page.session_id, page.page, page.pages, page.total
    ));
    if page.entries.is_empty() {
        text = text.plain("\nNo activity yet.");
    }
    for entry in &page.entries {
        text = text
            .plain("\n")
            .time(entry.at, TimeStyle::Full)
            .plain(format!(" {} ", entry.actor_name));
        text.0.extend(entry.what.0.iter().cloned());
    }
    if page.page < page.pages {
        text = text.plain("\nNext: ").command(
            "log",
            &[
                ("session", page.session_id.to_string()),
                ("page", (page.page + 1).to_string()),
            ],
        );
    }
    text
}

pub(super) fn batch_text(headline: &str, report: &BatchReport) -> Text {
    let mut text = Text::from(format!(
        "{headline} Added {} of {} lines.",
        report.added(),
        report.lines.len()
    ));
    for line in &report.lines {
        let outcome = match &line.result {
            Ok(()) => "added".to_owned(),
            Err(e) => e.to_string(),
        };
        text = text.plain(format!("\nline {}: {}: {outcome}", line.line_no, line.sku));
    }
    text
}

/// `/flashsale help` in Slack's words: the one slash command with examples
/// of its options (`app::help`), what comes through Slack's forms left out.
pub(super) fn help_text(zone: &str) -> Text {
    let mut text = Text::from(format!(
        "Flash sales from Slack: type `/flashsale <command> option:value ...`. \
         `/flashsale draft` alone opens a form; `/flashsale add-sku session:12` alone opens \
         the paste form; `/flashsale import` opens the file form; exports and logs come back \
         as files here.\n{}\n{}",
        help::ABOUT,
        help::times(zone)
    ));
    for group in help::GROUPS {
        text = text.plain(format!("\n*{}*", group.title));
        for entry in group.entries {
            let line = match entry.command {
                Some(command) => format!(
                    "\n• `{}` {}",
                    command.example(help::Files::Uploaded).slash(),
                    entry.does
                ),
                None => format!("\n• {}", entry.does),
            };
            text = text.plain(line);
        }
    }
    text
}
