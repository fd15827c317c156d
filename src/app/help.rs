//! What `help` says, written once for every platform: what a session is,
//! the time formats, and each `/flashsale` command with an example and what
//! it does, in three groups (drafting, approval, looking).
//!
//! Adapters render it in their own syntax: Discord names each command (its
//! options are picked in Discord's own form); the console and Slack type an
//! example with its options (`CommandHint`), Slack leaving out what comes
//! with an uploaded file. What only one platform has (the console's own
//! commands, Slack's forms) stays with that adapter.

use crate::chat::CommandHint;

/// What a session is and who does what, before the commands.
pub const ABOUT: &str = "A session is a time slot with exactly six SKUs. Editors draft and \
                         submit; approvers approve or reject from the card in the approvals channel.";

/// The time formats commands accept, in `zone` as the platform shows it.
pub fn times(zone: &str) -> String {
    format!(
        "Times are typed in {zone} as `YYYY-MM-DD HH:MM`, `today HH:MM`, `tomorrow HH:MM` or \
         `HH:MM` (today)."
    )
}

/// Commands that belong together, under a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpGroup {
    pub title: &'static str,
    pub entries: &'static [HelpEntry],
}

/// One line of help: a command, or something done with a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpEntry {
    /// `None`: no command, a button on a card.
    pub command: Option<HelpCommand>,
    /// What it does, in a few words, after the command.
    pub does: &'static str,
}

/// A `/flashsale` subcommand and the options of its example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpCommand {
    /// The subcommand, e.g. `add-sku`.
    pub name: &'static str,
    pub args: &'static [HelpArg],
}

/// An option of an example, with the value shown for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpArg {
    /// Typed with the command on every platform.
    Typed(&'static str, &'static str),
    /// Given with a file: typed with its path where files are paths, filled
    /// in the upload's form where files are uploaded.
    WithFile(&'static str, &'static str),
    /// A file or folder on the bot's machine: only where files are paths.
    Path(&'static str, &'static str),
}

/// How a platform's people hand the bot a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// As a path on the bot's machine (the console).
    Paths,
    /// As an upload with a form of its own (Discord, Slack).
    Uploaded,
}

impl HelpCommand {
    /// The example, with the options a platform whose files arrive so types.
    pub fn example(&self, files: Files) -> CommandHint {
        let options = self
            .args
            .iter()
            .filter_map(|arg| match (*arg, files) {
                (HelpArg::Typed(name, value), _)
                | (HelpArg::WithFile(name, value) | HelpArg::Path(name, value), Files::Paths) => {
                    Some((name.to_owned(), quoted(value)))
                }
                (HelpArg::WithFile(..) | HelpArg::Path(..), Files::Uploaded) => None,
            })
            .collect();
        CommandHint {
            name: self.name.to_owned(),
            options,
        }
    }
}

/// A value with a space goes in double quotes, as the command line reads it.
fn quoted(value: &str) -> String {
    if value.contains(' ') {
        format!("\"{value}\"")
    } else {
        value.to_owned()
    }
}

const fn command(name: &'static str, args: &'static [HelpArg], does: &'static str) -> HelpEntry {
    HelpEntry {
        command: Some(HelpCommand { name, args }),
        does,
    }
}

use HelpArg::{Path, Typed, WithFile};

/// Every `/flashsale` command, once.
pub const GROUPS: &[HelpGroup] = &[
    HelpGroup {
        title: "Drafting (editors)",
        entries: &[
            command(
                "draft",
                &[
                    Typed("title", "Midnight Deals"),
                    Typed("start", "tomorrow 00:00"),
                    Typed("end", "tomorrow 12:00"),
                ],
                "a new session (title, start, end, optional notes)",
            ),
            command(
                "add-sku",
                &[
                    Typed("session", "3"),
                    Typed("sku", "FS-001"),
                    Typed("discount", "30"),
                    Typed("quantity", "50"),
                ],
                "one SKU; with the session alone, paste up to six lines `SKU discount quantity`",
            ),
            command(
                "edit-sku",
                &[
                    Typed("session", "3"),
                    Typed("sku", "FS-001"),
                    Typed("discount", "25"),
                ],
                "change a SKU's discount or quantity",
            ),
            command(
                "remove-sku",
                &[Typed("session", "3"), Typed("sku", "FS-001")],
                "take a SKU out",
            ),
            command(
                "clone",
                &[Typed("session", "3"), Typed("start", "2026-12-04 00:00")],
                "a new draft with another session's SKUs at a new start",
            ),
            command(
                "import",
                &[
                    Path("path", "Flash sale 27 Nov.xlsx"),
                    WithFile("start", "tomorrow 00:00"),
                    WithFile("end", "tomorrow 12:00"),
                ],
                "a spreadsheet (.xlsx, .xls, .ods, .csv): a new draft, or more SKUs for a draft",
            ),
            command(
                "submit",
                &[Typed("session", "3")],
                "for approval (exactly six SKUs)",
            ),
            command(
                "withdraw",
                &[Typed("session", "3")],
                "a pending session back to draft",
            ),
            command(
                "cancel",
                &[Typed("session", "3"), Typed("reason", "moved to Friday")],
                "call it off",
            ),
        ],
    },
    HelpGroup {
        title: "Approval (approvers)",
        entries: &[
            HelpEntry {
                command: None,
                does:
                    "Approve or Reject on the card in the approvals channel (not your own sessions)",
            },
            command(
                "revoke",
                &[Typed("session", "3"), Typed("reason", "price error")],
                "an approved session back to draft before it goes live",
            ),
            command(
                "override",
                &[
                    Typed("session", "3"),
                    Typed("sku", "FS-003"),
                    Typed("discount", "70"),
                    Typed("reason", "clearance, cost written off"),
                ],
                "allow a line a money guard refused (leave out sku and discount for the budget)",
            ),
            command(
                "stop",
                &[
                    Typed("session", "3"),
                    Typed("reason", "wrong price on FS-002"),
                ],
                "end a live sale now",
            ),
        ],
    },
    HelpGroup {
        title: "Looking (anyone)",
        entries: &[
            command("view", &[Typed("session", "3")], "one session"),
            command(
                "list",
                &[Typed("range", "week"), Typed("page", "2")],
                "upcoming, today or this week, 10 a page",
            ),
            command(
                "log",
                &[Typed("session", "3"), Typed("page", "2")],
                "what happened to a session, page by page (`export:true` as CSV)",
            ),
            command(
                "export",
                &[Typed("session", "3"), Path("dir", "exports")],
                "a session as .csv and .xlsx",
            ),
            command("help", &[], "this list"),
        ],
    },
    HelpGroup {
        title: "Planning the week",
        entries: &[
            command(
                "slots",
                &[],
                "the recurring slots, and what covers each one in the next 48 hours",
            ),
            command(
                "slot add",
                &[
                    Typed("days", "daily"),
                    Typed("start", "00:00"),
                    Typed("end", "02:00"),
                ],
                "approvers: a recurring slot (daily, weekdays, weekends or mon,wed,fri)",
            ),
            command(
                "slot remove",
                &[Typed("slot", "2")],
                "approvers: stop watching a slot",
            ),
            command(
                "slot skip",
                &[
                    Typed("slot", "1"),
                    Typed("date", "2026-12-24"),
                    Typed("reason", "Christmas Eve, no sale"),
                ],
                "approvers: leave one day's slot empty on purpose (no alarm)",
            ),
            command(
                "plan",
                &[Typed("week", "next"), Typed("template", "midnight")],
                "editors: draft the empty slots of a week (or days:N) from a template or from:last-week",
            ),
            command("templates", &[], "the saved templates and their lines"),
            command(
                "template save",
                &[Typed("name", "midnight"), Typed("session", "12")],
                "editors: a session's lines as a template",
            ),
            command(
                "template delete",
                &[Typed("name", "midnight")],
                "editors: delete a template",
            ),
            command(
                "template export",
                &[Typed("name", "midnight")],
                "a template as .csv, in the layout import reads",
            ),
            command(
                "template import",
                &[Path("path", "midnight.xlsx"), Typed("name", "midnight")],
                "editors: a spreadsheet's lines as a template",
            ),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::command_line::parser::{parse_line, Input};

    fn commands() -> impl Iterator<Item = HelpCommand> {
        GROUPS
            .iter()
            .flat_map(|g| g.entries)
            .filter_map(|e| e.command)
    }

    #[test]
    fn every_example_is_a_command_the_command_line_takes() {
        for command in commands() {
            let typed = command.example(Files::Paths).slash();
            let parsed = parse_line(&typed);
            assert!(
                matches!(&parsed, Ok(Input::Flashsale(c)) if c.name() == format!("flashsale {}", command.name)),
                "{typed}: {parsed:?}"
            );
        }
    }

    #[test]
    fn the_examples_are_the_ones_the_command_line_gives_in_its_refusals() {
        let mut help: Vec<String> = commands()
            .map(|c| c.example(Files::Paths).slash())
            .collect();
        let mut refusals: Vec<String> = crate::app::command_line::parser::examples()
            .map(str::to_owned)
            .collect();
        help.sort_unstable();
        refusals.sort_unstable();
        assert_eq!(help, refusals);
    }

    #[test]
    fn every_subcommand_is_in_help_once() {
        let mut names: Vec<&str> = commands().map(|c| c.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a command twice");
        // The command line's own table of commands, by their examples.
        // A command's name is the words before its first option (`slot add`).
        let mut subcommands: Vec<String> = crate::app::command_line::parser::examples()
            .filter_map(|e| e.strip_prefix("/flashsale "))
            .map(|rest| {
                rest.split_whitespace()
                    .take_while(|w| !w.contains(':'))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        subcommands.sort_unstable();
        assert_eq!(names, subcommands);
    }

    #[test]
    fn uploads_leave_out_paths_and_what_the_upload_form_asks() {
        let import = commands().find(|c| c.name == "import").expect("import");
        assert_eq!(
            import.example(Files::Paths).slash(),
            r#"/flashsale import path:"Flash sale 27 Nov.xlsx" start:"tomorrow 00:00" end:"tomorrow 12:00""#
        );
        assert_eq!(import.example(Files::Uploaded).slash(), "/flashsale import");
        let export = commands().find(|c| c.name == "export").expect("export");
        assert_eq!(
            export.example(Files::Uploaded).slash(),
            "/flashsale export session:3"
        );
    }
}
