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
use super::forms::{
    draft_form, form_errors, form_values, import_form, import_target, paste_form, reason_form,
    uploaded_file, FormId, Values,
};
use super::render::Renderer;
use super::replies::{batch_text, help_text, list_text, log_text, text_message};
use super::roles::SlackRoles;
use super::socket::{Envelope, EnvelopeKind, SocketHandler};
use super::PLATFORM;
use crate::app::buttons::{press_button, reject_with_reason, PressOutcome};
use crate::app::cards::session_card;
use crate::app::command_line::parser::{parse_line, Command, Input};
use crate::app::command_line::{self, Answer};
use crate::app::{headlines, AppError, Front, ImportError};
use crate::chat::{Message, Text};
use crate::domain::Actor;
use crate::metrics;
use crate::platforms::download::{self, download_request, DownloadError};
use secrecy::{ExposeSecret, SecretString};

/// The Slack side of the bot's inbound traffic.
pub struct SlackInbound {
    app: Front,
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
        app: Front,
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
        if !self.first(channel, user, &envelope.event_id()).await {
            return;
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
            // A slash command carries no file; the import form is for sessions.
            Answer::ForPlatform(Command::TemplateImport { .. }) => text_message(
                Text::from(
                    "A Slack command cannot carry a file: save a template from a session instead, ",
                )
                .command(
                    "template save",
                    &[
                        ("name", "midnight".to_owned()),
                        ("session", "12".to_owned()),
                    ],
                )
                .plain(" (import the file into a draft first with /flashsale import)."),
            ),
            Answer::ForPlatform(_) => text_message(help_text(self.app.policy.time_zone.name())),
        };
        self.tell(channel, user, &message).await;
    }

    /// The paste form, once the person may edit the session.
    async fn paste_form(&self, channel: &str, user: &str, trigger: &str, session: i64) {
        let allowed = match self.actor(user, "").await {
            Ok(actor) => {
                self.app
                    .desk
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
        let (user, name) = person(p);
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
        let (user, name) = person(p);
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
                match self.app.desk.create_draft(&actor, &input).await {
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
                match self
                    .app
                    .desk
                    .add_pasted(&actor, session, &value("lines"))
                    .await
                {
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
        self.app.desk.check_import_allowed(actor, &target).await?;
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
            .desk
            .import(actor, &file.name, &bytes, sheet.as_deref(), target)
            .await?;
        Ok(Answer::Session {
            headline: report.headline(),
            view: report.session,
        })
    }

    /// True the first time this event is seen; a refusal is told.
    async fn first(&self, channel: &str, user: &str, event: &str) -> bool {
        match self.app.desk.first_delivery(PLATFORM, event).await {
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

/// Who pressed or submitted: Slack's user id and the name it shows.
fn person(payload: &Value) -> (&str, &str) {
    let user = &payload["user"];
    let name = user["username"].as_str().or(user["name"].as_str());
    (str_of(user, "id"), name.unwrap_or_default())
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}
