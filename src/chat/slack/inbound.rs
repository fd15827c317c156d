//! What people do in Slack, turned into use cases: `/flashsale ...` commands,
//! card buttons and the forms (modals).
//!
//! Thin like the other adapters: the command's text goes through the shared
//! command line (`app::command_line`), a press through `app::buttons`, and
//! the answer comes back as the app's view, rendered here as Block Kit and
//! sent only to the person who acted (`chat.postEphemeral`). Public posts
//! (cards, reminders, "now live") are the outbound side's (`SlackChat`).
//!
//! Every envelope is acknowledged by the socket loop before any of this runs.
//! A form's fields are checked in `ack_payload` (pure, no IO), so a bad
//! title or an empty reason shows under its field, Slack's way; `handle` runs
//! the same check again and does nothing for a refused form. Each slash
//! command and form submission acts once per event id (`trigger:<id>`), so a
//! redelivered envelope changes nothing twice.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::api::SlackApi;
use super::render::Renderer;
use super::roles::SlackRoles;
use super::socket::{Envelope, EnvelopeKind, SocketHandler};
use super::PLATFORM;
use crate::app::buttons::{press_button, reject_with_reason, PressOutcome};
use crate::app::cards::session_card;
use crate::app::command_line::parser::{parse_line, Command, Input};
use crate::app::command_line::{self, Answer};
use crate::app::{
    headlines, parse_paste, ActivityPage, AppError, BatchReport, DraftFields, FlashSales,
    ImportError, ImportTarget, InputError, ListView,
};
use crate::chat::download::{self, download_request, DownloadError};
use crate::chat::{Message, Text, TimeStyle};
use crate::domain::{Actor, Notes, Reason, Title, Window, MAX_ITEMS};
use crate::metrics;
use secrecy::{ExposeSecret, SecretString};

/// Form (modal) ids: `callback_id`s, parsed strictly when submitted.
const DRAFT_FORM: &str = "fs:draft";
const PASTE_FORM: &str = "fs:paste";
const REASON_FORM: &str = "fs:reason";
const IMPORT_FORM: &str = "fs:import";

/// The Slack side of the bot's inbound traffic.
pub struct SlackInbound {
    app: FlashSales,
    api: SlackApi,
    roles: SlackRoles,
    renderer: Renderer,
    /// Named in the answer to `submit` (`<#C123>`).
    approvals_channel: String,
    /// Reads an imported file from its private URL, with the bot token.
    downloads: reqwest::Client,
    bot_token: SecretString,
}

impl SlackInbound {
    pub fn new(
        app: FlashSales,
        api: SlackApi,
        roles: SlackRoles,
        renderer: Renderer,
        approvals_channel: impl Into<String>,
        bot_token: SecretString,
    ) -> SlackInbound {
        SlackInbound {
            app,
            api,
            roles,
            renderer,
            approvals_channel: approvals_channel.into(),
            downloads: reqwest::Client::new(),
            bot_token,
        }
    }

    /// Who acted: `slack:<user>` with the roles Slack's user groups give now.
    async fn actor(&self, user: &str, name: &str) -> Result<Actor, AppError> {
        self.roles
            .actor(user, name)
            .await
            .map_err(AppError::unexpected)
    }

    /// Only `user` sees it, in `channel`.
    async fn tell(&self, channel: &str, user: &str, message: &Message) {
        let rendered = self.renderer.message(message);
        if let Err(e) = self.api.post_ephemeral(channel, user, &rendered).await {
            tracing::warn!(error = %e, channel, user, "could not answer in Slack");
        }
    }

    async fn tell_text(&self, channel: &str, user: &str, text: Text) {
        let message = Message {
            text,
            ..Message::default()
        };
        self.tell(channel, user, &message).await;
    }

    async fn refuse(&self, channel: &str, user: &str, error: &AppError) {
        self.tell_text(channel, user, error.message()).await;
    }

    /// `/flashsale <text>`.
    async fn command(&self, envelope: &Envelope) {
        let p = &envelope.payload;
        let (text, user, channel) = (
            str_of(p, "text"),
            str_of(p, "user_id"),
            str_of(p, "channel_id"),
        );
        let name = str_of(p, "user_name");
        let trigger = str_of(p, "trigger_id");
        let started = std::time::Instant::now();
        let line = format!("/flashsale {}", text.trim());
        let command = match parse_line(&line) {
            Ok(Input::Flashsale(command)) => command,
            Ok(Input::Help) => Command::Help,
            Ok(_) => {
                let said = Text::from("That is not a /flashsale command. Try ")
                    .command("help", &[])
                    .plain(".");
                return self.tell_text(channel, user, said).await;
            }
            // `draft` alone opens the form rather than listing what is missing.
            Err(_) if text.trim() == "draft" => {
                return self.open(channel, user, trigger, draft_form(channel)).await;
            }
            // A file comes through Slack's file form, not a path on the bot's machine.
            Err(_) if text.trim() == "import" => {
                return self
                    .open(channel, user, trigger, import_form(channel))
                    .await;
            }
            Err(e) => {
                return self
                    .tell_text(channel, user, Text::from(format!("✗ {e}")))
                    .await
            }
        };
        let metric = command.name();
        match self
            .app
            .first_delivery(PLATFORM, &envelope.event_id())
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => return self.refuse(channel, user, &e).await,
        }
        let answered = match self.actor(user, name).await {
            Ok(actor) => {
                let approvals = format!("<#{}>", self.approvals_channel);
                command_line::run(&self.app, &actor, command, &approvals).await
            }
            Err(e) => Err(e),
        };
        let outcome = answered
            .as_ref()
            .map_or_else(AppError::outcome_label, |_| "ok");
        metrics::command(metric, outcome, Some(started.elapsed()));
        match answered {
            Ok(answer) => self.answer(channel, user, trigger, answer).await,
            Err(e) => self.refuse(channel, user, &e).await,
        }
    }

    async fn answer(&self, channel: &str, user: &str, trigger: &str, answer: Answer) {
        let message = match answer {
            Answer::Session { headline, view } => Message {
                text: headline,
                card: Some(session_card(&view)),
                ..Message::default()
            },
            Answer::Card(view) => Message {
                card: Some(session_card(&view)),
                ..Message::default()
            },
            Answer::Sessions(list) => text_message(list_text(&list)),
            Answer::Said(text) => text_message(text),
            Answer::Log(page) => text_message(log_text(&page)),
            Answer::Batch { headline, report } => Message {
                text: batch_text(&headline, &report),
                card: Some(session_card(&report.session)),
                ..Message::default()
            },
            Answer::Files { headline, files } => {
                for (name, bytes) in files {
                    if let Err(e) = self.api.upload_file(channel, &name, bytes, None).await {
                        tracing::warn!(error = %e, file = %name, "could not upload an export to Slack");
                        let said = format!(
                            "Sorry, the file {name} could not be uploaded to Slack; try again."
                        );
                        return self.tell_text(channel, user, Text::from(said)).await;
                    }
                }
                text_message(Text::from(headline))
            }
            Answer::ForPlatform(Command::PasteSkus { session }) => {
                return self.paste_form(channel, user, trigger, session).await;
            }
            Answer::ForPlatform(Command::Import { .. }) => {
                return self
                    .open(channel, user, trigger, import_form(channel))
                    .await;
            }
            Answer::ForPlatform(_) => text_message(help_text()),
        };
        self.tell(channel, user, &message).await;
    }

    /// The paste form, once the person may edit the session.
    async fn paste_form(&self, channel: &str, user: &str, trigger: &str, session: i64) {
        let allowed = match self.actor(user, "").await {
            Ok(actor) => {
                self.app
                    .check_allowed(&actor, session, crate::domain::Action::EditItems)
                    .await
            }
            Err(e) => Err(e),
        };
        match allowed {
            Ok(()) => {
                self.open(channel, user, trigger, paste_form(channel, session))
                    .await
            }
            Err(e) => self.refuse(channel, user, &e).await,
        }
    }

    async fn open(&self, channel: &str, user: &str, trigger: &str, view: Value) {
        if let Err(e) = self.api.open_view(trigger, &view).await {
            tracing::warn!(error = %e, "could not open a Slack form");
            let said = "Sorry, the form could not be opened (Slack allows 3 seconds); try again.";
            self.tell_text(channel, user, Text::from(said)).await;
        }
    }

    /// A card button.
    async fn press(&self, envelope: &Envelope) {
        let p = &envelope.payload;
        let user = str_of(&p["user"], "id");
        let name = p["user"]["username"]
            .as_str()
            .or(p["user"]["name"].as_str())
            .unwrap_or_default();
        let channel = p["channel"]["id"]
            .as_str()
            .or(p["container"]["channel_id"].as_str())
            .unwrap_or(&self.approvals_channel)
            .to_owned();
        let Some(action) = p["actions"].get(0) else {
            return;
        };
        let id = str_of(action, "action_id");
        let actor = match self.actor(user, name).await {
            Ok(actor) => actor,
            Err(e) => return self.refuse(&channel, user, &e).await,
        };
        match press_button(&self.app, &actor, PLATFORM, &envelope.event_id(), id).await {
            PressOutcome::Approved(view) => {
                let said = headlines::approved(view.id, view.window.starts_at());
                self.tell_text(&channel, user, said).await;
            }
            PressOutcome::NeedsReason {
                session_id,
                version,
            } => {
                let form = reason_form(&channel, session_id, version);
                self.open(&channel, user, str_of(p, "trigger_id"), form)
                    .await;
            }
            PressOutcome::AlreadyHandled => {}
            PressOutcome::Refused(e) => self.refuse(&channel, user, &e).await,
        }
    }

    /// A submitted form: the use case, unless `ack_payload` already refused it.
    async fn submitted(&self, envelope: &Envelope) {
        let p = &envelope.payload;
        let view = &p["view"];
        let callback = str_of(view, "callback_id");
        let values = form_values(view);
        if form_errors(callback, &values, &self.app).is_some() {
            return;
        }
        let user = str_of(&p["user"], "id");
        let name = p["user"]["username"]
            .as_str()
            .or(p["user"]["name"].as_str())
            .unwrap_or_default();
        let channel = view["private_metadata"]
            .as_str()
            .filter(|c| super::is_slack_id(c, &['C', 'G', 'D']))
            .unwrap_or(&self.approvals_channel)
            .to_owned();
        let actor = match self.actor(user, name).await {
            Ok(actor) => actor,
            Err(e) => return self.refuse(&channel, user, &e).await,
        };
        let event = envelope.event_id();
        let value = |key: &str| values.text(key);
        match FormId::parse(callback) {
            Some(FormId::Draft) => {
                if !self.first(&channel, user, &event).await {
                    return;
                }
                let input = crate::app::DraftInput {
                    title: value("title"),
                    start: value("start"),
                    end: value("end"),
                    notes: Some(value("notes")).filter(|n| !n.trim().is_empty()),
                };
                match self.app.create_draft(&actor, &input).await {
                    Ok(view) => {
                        let answer = Answer::Session {
                            headline: headlines::drafted(view.id),
                            view,
                        };
                        self.answer(&channel, user, "", answer).await;
                    }
                    Err(e) => self.refuse(&channel, user, &e).await,
                }
            }
            Some(FormId::Paste { session }) => {
                if !self.first(&channel, user, &event).await {
                    return;
                }
                match self.app.add_pasted(&actor, session, &value("lines")).await {
                    Ok(report) => {
                        let answer = Answer::Batch {
                            headline: headlines::pasted(session),
                            report,
                        };
                        self.answer(&channel, user, "", answer).await;
                    }
                    Err(e) => self.refuse(&channel, user, &e).await,
                }
            }
            Some(FormId::Reason { session, version }) => {
                let reason = value("reason");
                let rejected = reject_with_reason(
                    &self.app, &actor, PLATFORM, &event, session, version, &reason,
                )
                .await;
                match rejected {
                    Ok(Some(view)) => {
                        let said = Text::from(headlines::rejected(view.id));
                        self.tell_text(&channel, user, said).await;
                    }
                    Ok(None) => {}
                    Err(e) => self.refuse(&channel, user, &e).await,
                }
            }
            Some(FormId::Import) => {
                if !self.first(&channel, user, &event).await {
                    return;
                }
                match self.import(&actor, view, &values).await {
                    Ok(answer) => self.answer(&channel, user, "", answer).await,
                    Err(e) => self.refuse(&channel, user, &e).await,
                }
            }
            None => {
                let said = "This form is not one of ours or is damaged; open it again.";
                self.tell_text(&channel, user, Text::from(said)).await;
            }
        }
    }

    /// The import form: who may import and the file's declared size are
    /// checked before anything is downloaded; then the file, read with the
    /// bot token from its private URL, goes to the use case.
    async fn import(
        &self,
        actor: &Actor,
        view: &Value,
        values: &Map<String, Value>,
    ) -> Result<Answer, AppError> {
        let target = import_target(values)?;
        self.app.check_import_allowed(actor, &target).await?;
        let Some(file) = uploaded_file(view) else {
            return Err(AppError::unexpected(anyhow::anyhow!(
                "an import form came without its file"
            )));
        };
        let too_big = |e| AppError::from(ImportError::from(e));
        crate::import::check_size(&file.name, file.size).map_err(too_big)?;
        let request = self
            .downloads
            .get(&file.url)
            .bearer_auth(self.bot_token.expose_secret());
        let bytes = match download_request(request, &file.name, download::TIMEOUT).await {
            Ok(bytes) => bytes,
            Err(DownloadError::File(e)) => return Err(too_big(e)),
            Err(e) => return Err(AppError::unexpected(e)),
        };
        let sheet = Some(values.text("sheet")).filter(|s| !s.trim().is_empty());
        let report = self
            .app
            .import(actor, &file.name, &bytes, sheet.as_deref(), target)
            .await?;
        Ok(Answer::Session {
            headline: report.headline(),
            view: report.session,
        })
    }

    /// True the first time this event is seen; a refusal is told.
    async fn first(&self, channel: &str, user: &str, event: &str) -> bool {
        match self.app.first_delivery(PLATFORM, event).await {
            Ok(first) => first,
            Err(e) => {
                self.refuse(channel, user, &e).await;
                false
            }
        }
    }
}

#[async_trait]
impl SocketHandler for SlackInbound {
    fn ack_payload(&self, envelope: &Envelope) -> Option<Value> {
        if envelope.interaction_type() != Some("view_submission") {
            return None;
        }
        let view = &envelope.payload["view"];
        let errors = form_errors(str_of(view, "callback_id"), &form_values(view), &self.app)?;
        Some(json!({ "response_action": "errors", "errors": errors }))
    }

    async fn handle(&self, envelope: Envelope) {
        match envelope.kind {
            EnvelopeKind::SlashCommand => self.command(&envelope).await,
            EnvelopeKind::Interactive => match envelope.interaction_type() {
                Some("block_actions") => self.press(&envelope).await,
                Some("view_submission") => self.submitted(&envelope).await,
                other => tracing::debug!(kind = ?other, "ignored a Slack interaction"),
            },
        }
    }
}

/// Which form was submitted, from its `callback_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormId {
    Draft,
    Import,
    Paste { session: i64 },
    Reason { session: i64, version: i32 },
}

impl FormId {
    fn parse(raw: &str) -> Option<FormId> {
        use crate::domain::number::positive;
        if raw == DRAFT_FORM {
            return Some(FormId::Draft);
        }
        if raw == IMPORT_FORM {
            return Some(FormId::Import);
        }
        if let Some(session) = raw
            .strip_prefix(PASTE_FORM)
            .and_then(|r| r.strip_prefix(':'))
        {
            return Some(FormId::Paste {
                session: positive(session)?,
            });
        }
        let rest = raw.strip_prefix(REASON_FORM)?.strip_prefix(':')?;
        let (session, version) = rest.split_once(':')?;
        Some(FormId::Reason {
            session: positive(session)?,
            version: positive(version)?,
        })
    }
}

/// A form's fields by block id (each block holds one input, its action id the same).
fn form_values(view: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(blocks) = view["state"]["values"].as_object() {
        for (block, actions) in blocks {
            let value = actions
                .as_object()
                .and_then(|a| a.values().next())
                .and_then(|input| input["value"].as_str())
                .unwrap_or_default();
            out.insert(block.clone(), Value::String(value.to_owned()));
        }
    }
    out
}

trait Values {
    fn text(&self, key: &str) -> String;
}

impl Values for Map<String, Value> {
    fn text(&self, key: &str) -> String {
        self.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// The field errors of a submitted form, by block id, or `None` when it may
/// go to the use case. Pure (the app's policy and clock only): it runs before
/// the ack. What needs the database (the session's state, roles) is the use
/// case's to refuse, after.
fn form_errors(callback: &str, values: &Map<String, Value>, app: &FlashSales) -> Option<Value> {
    let mut errors = Map::new();
    match FormId::parse(callback)? {
        FormId::Draft => {
            if let Err(e) = Title::parse(&values.text("title")) {
                errors.insert("title".into(), e.to_string().into());
            }
            let policy = app.policy();
            let now = app.clock().now();
            let (start, end) = (values.text("start"), values.text("end"));
            if let Err(e) = Window::parse_start(&start, policy.time_zone, now) {
                errors.insert("start".into(), e.to_string().into());
            } else if let Err(e) =
                Window::parse(&start, &end, policy.time_zone, now, &policy.window)
            {
                errors.insert("end".into(), e.to_string().into());
            }
            let notes = values.text("notes");
            if !notes.trim().is_empty() {
                if let Err(e) = Notes::parse(&notes) {
                    errors.insert("notes".into(), e.to_string().into());
                }
            }
        }
        FormId::Import => {
            if let Err(e) = import_target(values) {
                errors.insert(
                    "session".into(),
                    e.message().render(|_, _| String::new()).into(),
                );
            }
        }
        FormId::Paste { .. } => {
            if let Err(e) = parse_paste(&values.text("lines")) {
                errors.insert("lines".into(), e.to_string().into());
            }
        }
        FormId::Reason { .. } => {
            if let Err(e) = Reason::parse(&values.text("reason")) {
                let said = match e {
                    crate::domain::ReasonError::Empty => {
                        "A reason is required: tell the editors what to change.".to_owned()
                    }
                    other => other.to_string(),
                };
                errors.insert("reason".into(), said.into());
            }
        }
    }
    (!errors.is_empty()).then_some(Value::Object(errors))
}

/// Where an import goes: the draft in `session`, or a new draft from the
/// optional title and times (the file's cells fill what is left blank).
fn import_target(values: &Map<String, Value>) -> Result<ImportTarget, AppError> {
    let session = values.text("session");
    let session = match session.trim().trim_start_matches('#') {
        "" => None,
        id => Some(
            crate::domain::number::positive(id)
                .ok_or_else(|| AppError::from(InputError::NotASession(session.clone())))?,
        ),
    };
    let field = |key: &str| Some(values.text(key)).filter(|v| !v.trim().is_empty());
    let fields = DraftFields {
        title: field("title"),
        start: field("start"),
        end: field("end"),
    };
    Ok(ImportTarget::from_options(session, fields)?)
}

/// The file a `file_input` carried: Slack's name, size and private URL.
struct UploadedFile {
    name: String,
    size: u64,
    url: String,
}

fn uploaded_file(view: &Value) -> Option<UploadedFile> {
    let file = view["state"]["values"]["file"]["file"]["files"].get(0)?;
    Some(UploadedFile {
        name: file["name"].as_str()?.to_owned(),
        size: file["size"].as_u64().unwrap_or_default(),
        url: file["url_private_download"]
            .as_str()
            .or(file["url_private"].as_str())?
            .to_owned(),
    })
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

fn text_message(text: Text) -> Message {
    Message {
        text,
        ..Message::default()
    }
}

fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text })
}

/// One input block: block and action id `id`.
fn input(id: &str, label: &str, placeholder: &str, multiline: bool, optional: bool) -> Value {
    json!({
        "type": "input",
        "block_id": id,
        "optional": optional,
        "label": plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": id,
            "multiline": multiline,
            "placeholder": plain(placeholder),
        },
    })
}

/// A modal; `channel` (where the form was asked for) comes back with the
/// submission, so the answer goes there.
fn modal(callback: String, title: &str, submit: &str, channel: &str, blocks: Vec<Value>) -> Value {
    json!({
        "type": "modal",
        "callback_id": callback,
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "private_metadata": channel,
        "blocks": blocks,
    })
}

fn draft_form(channel: &str) -> Value {
    modal(
        DRAFT_FORM.to_owned(),
        "New flash sale",
        "Draft",
        channel,
        vec![
            input(
                "title",
                "Title (1-100 characters)",
                "Midnight Deals",
                false,
                false,
            ),
            input("start", "Start", "tomorrow 00:00", false, false),
            input("end", "End", "tomorrow 02:00", false, false),
            input(
                "notes",
                "Notes",
                "Anything approvers should know",
                true,
                true,
            ),
        ],
    )
}

fn import_form(channel: &str) -> Value {
    let file = json!({
        "type": "input",
        "block_id": "file",
        "label": plain("Spreadsheet (.xlsx, .xls, .ods or .csv, at most 2 MiB)"),
        "element": {
            "type": "file_input",
            "action_id": "file",
            "filetypes": ["xlsx", "xls", "ods", "csv"],
            "max_files": 1,
        },
    });
    modal(
        IMPORT_FORM.to_owned(),
        "Import a spreadsheet",
        "Import",
        channel,
        vec![
            file,
            input(
                "session",
                "Into draft # (blank: a new draft)",
                "12",
                false,
                true,
            ),
            input(
                "title",
                "New draft's title (blank: the file's)",
                "Midnight Deals",
                false,
                true,
            ),
            input(
                "start",
                "Start (blank: the file's)",
                "tomorrow 00:00",
                false,
                true,
            ),
            input(
                "end",
                "End (blank: the file's)",
                "tomorrow 02:00",
                false,
                true,
            ),
            input("sheet", "Sheet (blank: the first)", "Sheet1", false, true),
        ],
    )
}

fn paste_form(channel: &str, session: i64) -> Value {
    modal(
        format!("{PASTE_FORM}:{session}"),
        &format!("SKUs for #{session}"),
        "Add",
        channel,
        vec![input(
            "lines",
            &format!("Up to {MAX_ITEMS} lines: SKU, discount, quantity"),
            "FS-001 30% 50",
            true,
            false,
        )],
    )
}

fn reason_form(channel: &str, session: i64, version: i32) -> Value {
    modal(
        format!("{REASON_FORM}:{session}:{version}"),
        &format!("Reject #{session}"),
        "Reject",
        channel,
        vec![input(
            "reason",
            "Why? The editors are told.",
            "FS-004 is in another sale",
            true,
            false,
        )],
    )
}

/// The calendar page as lines, free time between sessions.
fn list_text(list: &ListView) -> Text {
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
fn escape_title(title: &str) -> String {
    super::render::truncate(title, 80)
}

fn log_text(page: &ActivityPage) -> Text {
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

fn batch_text(headline: &str, report: &BatchReport) -> Text {
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

/// `/flashsale help` in Slack's words: the one slash command and its options.
fn help_text() -> Text {
    let mut text = Text::from(
        "Flash sales from Slack: type `/flashsale <command> option:value ...`. \
         `/flashsale draft` alone opens a form; `/flashsale add-sku session:12` alone opens \
         the paste form; `/flashsale import` opens the file form. Approvers use the buttons \
         on the card in the approvals channel.\n\
         Examples:",
    );
    for example in crate::app::command_line::parser::examples() {
        // Files come and go as Slack files, not paths on the bot's machine.
        let example = match example.split_once(" path:").or(example.split_once(" dir:")) {
            Some((command, _)) => command,
            None => example,
        };
        text = text.plain(format!("\n• `{example}`"));
    }
    text.plain(
        "\n`/flashsale export session:3` uploads the .csv and .xlsx here; \
         `/flashsale log session:3 export:true` the log as .csv.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_ids_are_parsed_strictly() {
        assert_eq!(FormId::parse("fs:draft"), Some(FormId::Draft));
        assert_eq!(
            FormId::parse("fs:paste:12"),
            Some(FormId::Paste { session: 12 })
        );
        assert_eq!(
            FormId::parse("fs:reason:12:3"),
            Some(FormId::Reason {
                session: 12,
                version: 3
            })
        );
        for bad in [
            "",
            "fs:paste",
            "fs:paste:0",
            "fs:paste:-1",
            "fs:reason:12",
            "fs:reason:a:1",
            "xx:draft",
        ] {
            assert_eq!(FormId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn forms_stay_within_slack_limits() {
        for form in [
            draft_form("C1"),
            import_form("C1"),
            paste_form("C1", 123456),
            reason_form("C1", 123456, 99),
        ] {
            let title = form["title"]["text"].as_str().unwrap_or_default();
            assert!(title.chars().count() <= 24, "{title}");
            assert!(form["callback_id"].as_str().unwrap_or_default().len() <= 255);
        }
    }

    #[test]
    fn values_are_read_by_block() {
        let view = json!({"state": {"values": {
            "title": {"title": {"type": "plain_text_input", "value": "Lunch"}},
            "notes": {"notes": {"type": "plain_text_input", "value": null}},
        }}});
        let values = form_values(&view);
        assert_eq!(values.text("title"), "Lunch");
        assert_eq!(values.text("notes"), "");
    }
}
