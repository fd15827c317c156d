//! One person at the console: who they are acting as, what their next line
//! means (a command, a pasted line, a reject reason) and which use case it runs.
//!
//! Replies go to the same queue as the chat's posts, so a card the app posted
//! while handling a command prints before the command's own answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::chat::Shared;
use super::replies::{error, help};
use crate::app::buttons::{press_button, reject_with_reason, PressOutcome};
use crate::app::cards::session_card;
use crate::app::command_line::parser::{
    parse_line, Command, Input, PasteBuffer, PasteStep, Press, RoleChoice,
};
use crate::app::command_line::{self, Answer};
use crate::app::headlines;
use crate::app::{AppError, DraftFields, Front, ImportError, ImportTarget};
use crate::domain::{Action, Actor, ActorId, Roles};
use crate::metrics;
use chrono::{DateTime, Utc};

/// The platform part of console actor ids (`console:alice`) and event ids.
pub const PLATFORM: &str = "console";
/// Who acts until `as` says otherwise.
const DEFAULT_USER: &str = "you";

/// Whether the console goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Quit,
}

enum Mode {
    Command,
    /// Lines are pasted items for this session until an empty line or `.`.
    Paste {
        session_id: i64,
        buffer: PasteBuffer,
    },
    /// The next line is why this session is rejected; `version` is the pressed card's.
    Reason {
        session_id: i64,
        version: i32,
    },
    /// The reason was typed: `yes` rejects, anything else keeps the session pending. A line typed
    /// by mistake (`as carol`) must not reach the team as a rejection reason.
    ConfirmReject {
        session_id: i64,
        version: i32,
        reason: String,
    },
}

pub(super) struct Session {
    app: Front,
    shared: Arc<Shared>,
    actor: Actor,
    /// Roles given with `as`, so a later `as alice` keeps alice's roles.
    roles: HashMap<String, Roles>,
    mode: Mode,
    /// Event ids must be unique across runs: the events table remembers them
    /// so a redelivered press acts once.
    run_id: String,
    events: u64,
}

impl Session {
    pub(super) fn new(app: Front, shared: Arc<Shared>) -> Session {
        Session {
            app,
            shared,
            actor: Actor::new(
                ActorId::new(PLATFORM, DEFAULT_USER),
                DEFAULT_USER,
                Roles::BOTH,
            ),
            roles: HashMap::new(),
            mode: Mode::Command,
            run_id: uuid::Uuid::new_v4().simple().to_string(),
            events: 0,
        }
    }

    /// What the prompt says in the current mode.
    pub(super) fn prompt(&self) -> String {
        match self.mode {
            Mode::Command => format!("{}> ", self.actor.name),
            Mode::Paste { .. } => "paste> ".to_owned(),
            Mode::Reason { .. } => "reason> ".to_owned(),
            Mode::ConfirmReject { .. } => "yes/no> ".to_owned(),
        }
    }

    pub(super) fn whoami(&self) -> String {
        let roles = match (self.actor.roles.editor, self.actor.roles.approver) {
            (true, true) => "editor and approver",
            (true, false) => "editor",
            (false, true) => "approver",
            (false, false) => "no role",
        };
        format!("Acting as {} ({roles}).", self.actor.name)
    }

    fn say(&self, text: impl Into<String>) {
        // Only fails once the console loop is gone, and then nobody is reading.
        let _ = self.shared.say(text);
    }

    fn next_event(&mut self) -> String {
        self.events += 1;
        format!("{}-{}", self.run_id, self.events)
    }

    /// Handles one line in the current mode.
    pub(super) async fn handle(&mut self, line: &str) -> Flow {
        match std::mem::replace(&mut self.mode, Mode::Command) {
            Mode::Paste {
                session_id,
                mut buffer,
            } => match buffer.push(line) {
                PasteStep::More => self.mode = Mode::Paste { session_id, buffer },
                PasteStep::Done(text) => self.paste(session_id, &text).await,
            },
            Mode::Reason {
                session_id,
                version,
            } => self.reason(session_id, version, line),
            Mode::ConfirmReject {
                session_id,
                version,
                reason,
            } => {
                if matches!(line.trim().to_lowercase().as_str(), "yes" | "y") {
                    self.reject(session_id, version, &reason).await;
                } else {
                    self.say(format!(
                        "Not rejected: #{session_id} is still waiting for approval."
                    ));
                }
            }
            Mode::Command => match parse_line(line) {
                Ok(input) => return self.input(input).await,
                Err(e) => self.say(format!("✗ {e}")),
            },
        }
        Flow::Continue
    }

    async fn input(&mut self, input: Input) -> Flow {
        match input {
            Input::Nothing => {}
            Input::Quit => return Flow::Quit,
            Input::Help => self.say(help(self.shared.renderer.time_zone.name())),
            Input::WhoAmI => self.say(self.whoami()),
            Input::As { name, roles } => {
                let roles = match roles {
                    Some(RoleChoice::Editor) => Roles::EDITOR,
                    Some(RoleChoice::Approver) => Roles::APPROVER,
                    Some(RoleChoice::Both) => Roles::BOTH,
                    None => self.roles.get(&name).copied().unwrap_or(Roles::BOTH),
                };
                self.roles.insert(name.clone(), roles);
                self.actor = Actor::new(ActorId::new(PLATFORM, &name), name, roles);
                self.say(self.whoami());
            }
            Input::Press(press) => self.press(press).await,
            Input::Flashsale(command) => self.command(command).await,
        }
        Flow::Continue
    }

    async fn command(&mut self, command: Command) {
        // Owned handles, so a command may switch the mode (paste) while using them.
        let (app, actor, shared) = (self.app.clone(), self.actor.clone(), self.shared.clone());
        let (app, actor, r) = (&app, &actor, &shared.renderer);
        let now = app.clock.now();
        let (name, started) = (command.name(), Instant::now());
        // What only a terminal does (paste mode, files on this machine, its
        // own help) is here; every other command is the shared command line's.
        let reply: Result<String, AppError> = match command {
            Command::PasteSkus { session } => {
                // Refuse now rather than after the person pasted six lines.
                match app
                    .desk
                    .check_allowed(actor, session, Action::EditItems)
                    .await
                {
                    Ok(()) => {
                        self.mode = Mode::Paste {
                            session_id: session,
                            buffer: PasteBuffer::new(),
                        };
                        Ok(format!(
                            "Paste up to six lines `SKU discount quantity` for #{session} (e.g. FS-001 30% 50), \
                             then an empty line or a line with a single `.`."
                        ))
                    }
                    Err(e) => Err(e),
                }
            }
            Command::Import {
                path,
                session,
                title,
                start,
                end,
                sheet,
            } => match ImportTarget::from_options(session, DraftFields { title, start, end }) {
                Err(e) => Err(AppError::from(e)),
                Ok(target) => match read_file(&path).await {
                    Err(e) => Err(AppError::File {
                        action: "read",
                        path: path.clone(),
                        reason: e.to_string(),
                    }),
                    Ok(Err(too_large)) => Err(AppError::from(ImportError::from(too_large))),
                    Ok(Ok(bytes)) => app
                        .desk
                        .import(actor, &path, &bytes, sheet.as_deref(), target)
                        .await
                        .map(|report| {
                            r.session(&r.text(&report.headline(), now), &report.session, now)
                        }),
                },
            },
            Command::Export { session, ref dir } | Command::LogExport { session, ref dir } => {
                let dir = dir.clone();
                let log = matches!(command, Command::LogExport { .. });
                match command_line::run(app, actor, command).await {
                    Ok(Answer::Files { files, .. }) => write_files(dir.as_deref(), files)
                        .await
                        .map(|paths| {
                            if log {
                                format!("The activity log of #{session}: {}", paths.join(", "))
                            } else {
                                format!("Exported #{session}:\n  {}", paths.join("\n  "))
                            }
                        })
                        .map_err(|e| AppError::File {
                            action: if log {
                                "write the file into"
                            } else {
                                "write the files into"
                            },
                            path: dir.unwrap_or_else(|| DEFAULT_EXPORT_DIR.to_owned()),
                            reason: e.to_string(),
                        }),
                    Ok(_) => Ok(String::new()),
                    Err(e) => Err(e),
                }
            }
            Command::TemplateImport { path, name, sheet } => match read_file(&path).await {
                Err(e) => Err(AppError::File {
                    action: "read",
                    path: path.clone(),
                    reason: e.to_string(),
                }),
                Ok(Err(too_large)) => Err(AppError::from(ImportError::from(too_large))),
                Ok(Ok(bytes)) => app
                    .desk
                    .import_template(actor, &name, &path, &bytes, sheet.as_deref())
                    .await
                    .map(|saved| format!("Saved template {}", saved.summary())),
            },
            Command::TemplateExport { ref dir, .. } => {
                let dir = dir.clone();
                match command_line::run(app, actor, command).await {
                    Ok(Answer::Files { headline, files }) => write_files(dir.as_deref(), files)
                        .await
                        .map(|paths| format!("{headline} {}", paths.join(", ")))
                        .map_err(|e| AppError::File {
                            action: "write the file into",
                            path: dir.unwrap_or_else(|| DEFAULT_EXPORT_DIR.to_owned()),
                            reason: e.to_string(),
                        }),
                    Ok(_) => Ok(String::new()),
                    Err(e) => Err(e),
                }
            }
            Command::Help => Ok(help(r.time_zone.name())),
            // The approvals channel is printed above, under "── #approvals".
            command => command_line::run(app, actor, command)
                .await
                .map(|answer| self.render(answer, now)),
        };
        let outcome = reply
            .as_ref()
            .map_or_else(AppError::outcome_label, |_| "ok");
        metrics::command(name, outcome, Some(started.elapsed()));
        self.say(reply.unwrap_or_else(|e| error(&e)));
    }

    /// A shared command's answer, as the console prints it.
    fn render(&self, answer: Answer, now: DateTime<Utc>) -> String {
        let r = &self.shared.renderer;
        match answer {
            Answer::Session { headline, view } => r.session(&r.text(&headline, now), &view, now),
            Answer::Card(view) => r.card(&session_card(&view), now),
            Answer::Sessions(list) => r.list(&list, now),
            Answer::Said(text) => r.text(&text, now),
            Answer::Log(page) => r.log(&page, now),
            Answer::Batch { headline, report } => r.batch(&headline, &report, now),
            // Files and the platform's own commands are handled before `run`.
            Answer::Files { headline, .. } => headline,
            Answer::ForPlatform(_) => help(r.time_zone.name()),
        }
    }

    async fn paste(&mut self, session_id: i64, text: &str) {
        let now = self.app.clock.now();
        let reply = match self
            .app
            .desk
            .add_pasted(&self.actor, session_id, text)
            .await
        {
            Ok(report) => self
                .shared
                .renderer
                .batch(&headlines::pasted(session_id), &report, now),
            Err(e) => error(&e),
        };
        self.say(reply);
    }

    async fn press(&mut self, press: Press) {
        let button = match self.shared.find_button(&press) {
            Ok(button) => button,
            Err(e) => return self.say(format!("✗ {e}")),
        };
        let event = self.next_event();
        let outcome = press_button(&self.app, &self.actor, PLATFORM, &event, &button.id).await;
        match outcome {
            PressOutcome::Approved(view) => {
                let headline = headlines::approved(view.id, view.window.starts_at());
                let now = self.app.clock.now();
                self.say(self.shared.renderer.text(&headline, now));
            }
            PressOutcome::NeedsReason {
                session_id,
                version,
            } => {
                self.mode = Mode::Reason {
                    session_id,
                    version,
                };
                self.say(format!(
                    "Reason? Why #{session_id} is rejected, on one line (an empty line cancels)."
                ));
            }
            PressOutcome::AlreadyHandled => {
                self.say("That press was handled already; nothing changed.")
            }
            // A stale card was refreshed by `press_button`.
            PressOutcome::Refused(e) => self.say(error(&e)),
        }
    }

    /// The line after `press reject`: the reason, to be confirmed.
    fn reason(&mut self, session_id: i64, version: i32, reason: &str) {
        let reason = reason.trim();
        if reason.is_empty() {
            return self.say(format!(
                "Not rejected: no reason given. #{session_id} is still waiting for approval."
            ));
        }
        self.say(format!(
            "Reject #{session_id} with the reason \"{reason}\"? The submitter is told it. \
             Type yes to reject; anything else keeps it waiting for approval."
        ));
        self.mode = Mode::ConfirmReject {
            session_id,
            version,
            reason: reason.to_owned(),
        };
    }

    async fn reject(&mut self, session_id: i64, version: i32, reason: &str) {
        let event = self.next_event();
        let reply = match reject_with_reason(
            &self.app,
            &self.actor,
            PLATFORM,
            &event,
            session_id,
            version,
            reason,
        )
        .await
        {
            Ok(Some(view)) => headlines::rejected(view.id),
            Ok(None) => "That rejection was handled already; nothing changed.".to_owned(),
            Err(e) => error(&e),
        };
        self.say(reply);
    }
}

/// A file to import: its bytes, or the size refusal when it is too large to read.
async fn read_file(path: &str) -> std::io::Result<Result<Vec<u8>, crate::import::FileError>> {
    use tokio::io::AsyncReadExt;
    let size = tokio::fs::metadata(path).await?.len();
    if let Err(too_large) = crate::import::check_size(path, size) {
        return Ok(Err(too_large));
    }
    let mut bytes = Vec::new();
    // Capped again while reading, in case the file grows meanwhile.
    tokio::fs::File::open(path)
        .await?
        .take(crate::import::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await?;
    Ok(Ok(bytes))
}

/// Where `export` writes without `dir:`: an ignored folder of the working directory (the checkout,
/// under scripts/start.sh), so exports neither litter the checkout root nor show up in `git status`.
pub const DEFAULT_EXPORT_DIR: &str = ".local/exports";

/// Writes each file into `dir` (default: [`DEFAULT_EXPORT_DIR`]) and returns their paths.
async fn write_files(
    dir: Option<&str>,
    files: Vec<(String, Vec<u8>)>,
) -> std::io::Result<Vec<String>> {
    let dir = std::path::PathBuf::from(
        dir.map(str::trim)
            .filter(|d| !d.is_empty())
            .unwrap_or(DEFAULT_EXPORT_DIR),
    );
    tokio::fs::create_dir_all(&dir).await?;
    let mut paths = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = dir.join(name);
        tokio::fs::write(&path, bytes).await?;
        paths.push(path.display().to_string());
    }
    Ok(paths)
}
