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
    template_import_form, uploaded_file, FormId, UploadedFile, Values,
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
use crate::chat::buttons::ButtonIdError;
use crate::chat::{Message, Text};
use crate::domain::Actor;
use crate::metrics;
use crate::platforms::download::{self, download_request, DownloadError};
use secrecy::{ExposeSecret, SecretString};

/// Slack's answers to `chat.postEphemeral` that mean the bot cannot speak in
/// that channel (it is not a member, or cannot see the channel at all).
const NOT_A_MEMBER: &[&str] = &["not_in_channel", "channel_not_found"];

/// Who to answer and where: the person who acted, the channel they acted in,
/// and the envelope's `response_url` when it has one (slash commands,
/// button presses), the way to answer where the bot is not a member.
struct To<'a> {
    channel: &'a str,
    user: &'a str,
    response_url: Option<&'a str>,
}

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
    /// The workspace the bot token belongs to (`auth.test`): envelopes from
    /// any other are refused.
    team: String,
}

impl SlackInbound {
    pub fn new(
        app: Front,
        api: SlackApi,
        roles: SlackRoles,
        renderer: Renderer,
        approvals_channel: impl Into<String>,
        bot_token: SecretString,
        team: impl Into<String>,
    ) -> SlackInbound {
        SlackInbound {
            app,
            api,
            roles,
            renderer,
            approvals_channel: approvals_channel.into(),
            downloads: reqwest::Client::new(),
            bot_token,
            team: team.into(),
        }
    }

    /// Whether the envelope comes from our workspace. A slash command says so
    /// in `team_id`, an interaction in `team.id` (or the user's `team_id`);
    /// an envelope that names no team is not trusted either.
    fn ours(&self, envelope: &Envelope) -> bool {
        let p = &envelope.payload;
        let team = p["team_id"]
            .as_str()
            .or(p["team"]["id"].as_str())
            .or(p["user"]["team_id"].as_str());
        team == Some(self.team.as_str())
    }

    /// Who acted: `slack:<user>` with the roles Slack's user groups give now.
    async fn actor(&self, user: &str, name: &str) -> Result<Actor, AppError> {
        self.roles
            .actor(user, name)
            .await
            .map_err(AppError::unexpected)
    }

    /// Only the person sees it, in their channel; where the bot is not a
    /// member, through the envelope's `response_url` (or else a direct
    /// message), with how to invite the bot.
    async fn tell(&self, to: &To<'_>, message: &Message) {
        let rendered = self.renderer.message(message);
        let refused = match self
            .api
            .post_ephemeral(to.channel, to.user, &rendered)
            .await
        {
            Ok(()) => return,
            Err(e) if e.code().is_some_and(|c| NOT_A_MEMBER.contains(&c)) => e,
            // Not tried again: an answer whose call timed out (`InDoubt`) may
            // be on the person's screen already, and the rest would fail again.
            Err(e) => {
                let (channel, user) = (to.channel, to.user);
                tracing::warn!(error = %e, channel, user, "could not answer in Slack");
                return;
            }
        };
        let invite = Text::from(
            "(I am not a member of the channel you asked in, so only you see this, here. \
             To hear from me there, invite me: type `/invite @flashsale-bot` in that channel.)",
        );
        let mut elsewhere = message.clone();
        elsewhere.text = message.text.clone().line(invite);
        let rendered = self.renderer.message(&elsewhere);
        let answered = match to.response_url {
            Some(url) => self.api.respond(url, &rendered).await,
            None => self.api.post_direct(to.user, &rendered).await,
        };
        if let Err(e) = answered {
            let (channel, user) = (to.channel, to.user);
            tracing::warn!(error = %e, first = %refused, channel, user, "could not answer in Slack, not even outside the channel");
        }
    }

    async fn tell_text(&self, to: &To<'_>, text: Text) {
        let message = Message {
            text,
            ..Message::default()
        };
        self.tell(to, &message).await;
    }

    async fn refuse(&self, to: &To<'_>, error: &AppError) {
        self.tell_text(to, error.message()).await;
    }

    /// `/flashsale <text>`.
    async fn command(&self, envelope: &Envelope) {
        let p = &envelope.payload;
        let (text, user, channel) = (
            str_of(p, "text"),
            str_of(p, "user_id"),
            str_of(p, "channel_id"),
        );
        let to = To {
            channel,
            user,
            response_url: p["response_url"].as_str(),
        };
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
                return self.tell_text(&to, said).await;
            }
            // `draft` alone opens the form rather than listing what is missing;
            // a file comes through Slack's file form, not a path on the bot's
            // machine. Either form only for someone who may draft.
            Err(_) if text.trim() == "draft" => {
                return self
                    .draft_form(&to, name, trigger, draft_form(channel))
                    .await;
            }
            Err(_) if text.trim() == "import" => {
                return self
                    .draft_form(&to, name, trigger, import_form(channel))
                    .await;
            }
            Err(_) if text.split_whitespace().eq(["template", "import"]) => {
                return self
                    .draft_form(&to, name, trigger, template_import_form(channel))
                    .await;
            }
            Err(e) => return self.tell_text(&to, Text::from(format!("✗ {e}"))).await,
        };
        let metric = command.name();
        if !self.first(&to, &envelope.event_id()).await {
            return;
        }
        let answered = match self.actor(user, name).await {
            Ok(actor) => command_line::run(&self.app, &actor, command).await,
            Err(e) => Err(e),
        };
        let outcome = answered
            .as_ref()
            .map_or_else(AppError::outcome_label, |_| "ok");
        metrics::command(metric, outcome, Some(started.elapsed()));
        match answered {
            Ok(answer) => self.answer(&to, name, trigger, answer).await,
            Err(e) => self.refuse(&to, &e).await,
        }
    }

    async fn answer(&self, to: &To<'_>, name: &str, trigger: &str, answer: Answer) {
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
                for (file_name, bytes) in files {
                    if let Err(e) = self
                        .api
                        .upload_file(to.channel, &file_name, bytes, None)
                        .await
                    {
                        tracing::warn!(error = %e, file = %file_name, "could not upload an export to Slack");
                        let said = format!(
                            "Sorry, the file {file_name} could not be uploaded to Slack; try again."
                        );
                        return self.tell_text(to, Text::from(said)).await;
                    }
                }
                text_message(Text::from(headline))
            }
            Answer::ForPlatform(Command::PasteSkus { session }) => {
                return self.paste_form(to, trigger, session).await;
            }
            Answer::ForPlatform(Command::Import { .. }) => {
                return self
                    .draft_form(to, name, trigger, import_form(to.channel))
                    .await;
            }
            // A slash command carries no file: the file comes through the form.
            Answer::ForPlatform(Command::TemplateImport { .. }) => {
                return self
                    .draft_form(to, name, trigger, template_import_form(to.channel))
                    .await;
            }
            Answer::ForPlatform(_) => text_message(help_text(self.app.policy.time_zone.name())),
        };
        self.tell(to, &message).await;
    }

    /// The draft or import form, once the person may draft: the role is
    /// checked before the form opens, as Discord does, so nobody fills a form
    /// only to be refused.
    async fn draft_form(&self, to: &To<'_>, name: &str, trigger: &str, form: Value) {
        let allowed = match self.actor(to.user, name).await {
            Ok(actor) => self.app.desk.check_draft_allowed(&actor),
            Err(e) => Err(e),
        };
        match allowed {
            Ok(()) => self.open(to, trigger, form).await,
            Err(e) => self.refuse(to, &e).await,
        }
    }

    /// The paste form, once the person may edit the session.
    async fn paste_form(&self, to: &To<'_>, trigger: &str, session: i64) {
        let allowed = match self.actor(to.user, "").await {
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
                self.open(to, trigger, paste_form(to.channel, session))
                    .await
            }
            Err(e) => self.refuse(to, &e).await,
        }
    }

    async fn open(&self, to: &To<'_>, trigger: &str, view: Value) {
        if let Err(e) = self.api.open_view(trigger, &view).await {
            tracing::warn!(error = %e, "could not open a Slack form");
            let said = "Sorry, the form could not be opened (Slack allows 3 seconds); try again.";
            self.tell_text(to, Text::from(said)).await;
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
        let to = To {
            channel: &channel,
            user,
            response_url: p["response_url"].as_str(),
        };
        let Some(action) = p["actions"].get(0) else {
            return;
        };
        let id = str_of(action, "action_id");
        // Our buttons carry their id twice (`action_id` and `value`); a press
        // where they differ was not made on a card of ours, so it is refused
        // rather than acted on as either.
        if action["value"].as_str() != Some(id) {
            let forged = AppError::Button(ButtonIdError(id.chars().take(100).collect()));
            tracing::warn!(action_id = %id, value = %action["value"], user, "a button's value does not match its action id; refused");
            return self.refuse(&to, &forged).await;
        }
        let actor = match self.actor(user, name).await {
            Ok(actor) => actor,
            Err(e) => return self.refuse(&to, &e).await,
        };
        match press_button(&self.app, &actor, PLATFORM, &envelope.event_id(), id).await {
            PressOutcome::Approved(view) => {
                let said = headlines::approved(view.id, view.window.starts_at());
                self.tell_text(&to, said).await;
            }
            PressOutcome::NeedsReason {
                session_id,
                version,
            } => {
                let form = reason_form(&channel, session_id, version);
                self.open(&to, str_of(p, "trigger_id"), form).await;
            }
            PressOutcome::AlreadyHandled => {}
            PressOutcome::Refused(e) => self.refuse(&to, &e).await,
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
        // A submission has no `response_url` of its own: where the channel
        // refuses, the answer goes by direct message.
        let to = To {
            channel: &channel,
            user,
            response_url: None,
        };
        let actor = match self.actor(user, name).await {
            Ok(actor) => actor,
            Err(e) => return self.refuse(&to, &e).await,
        };
        let event = envelope.event_id();
        let value = |key: &str| values.text(key);
        match FormId::parse(callback) {
            Some(FormId::Draft) => {
                if !self.first(&to, &event).await {
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
                        self.answer(&to, name, "", answer).await;
                    }
                    Err(e) => self.refuse(&to, &e).await,
                }
            }
            Some(FormId::Paste { session }) => {
                if !self.first(&to, &event).await {
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
                        self.answer(&to, name, "", answer).await;
                    }
                    Err(e) => self.refuse(&to, &e).await,
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
                        self.tell_text(&to, said).await;
                    }
                    Ok(None) => {}
                    Err(e) => self.refuse(&to, &e).await,
                }
            }
            Some(FormId::TemplateImport) => {
                if !self.first(&to, &event).await {
                    return;
                }
                match self.import_template(&actor, view, &values).await {
                    Ok(saved) => {
                        let said = format!("Saved template {}", saved.summary());
                        self.tell_text(&to, Text::from(said)).await;
                    }
                    Err(e) => self.refuse(&to, &e).await,
                }
            }
            Some(FormId::Import) => {
                if !self.first(&to, &event).await {
                    return;
                }
                match self.import(&actor, view, &values).await {
                    Ok(answer) => self.answer(&to, name, "", answer).await,
                    Err(e) => self.refuse(&to, &e).await,
                }
            }
            None => {
                let said = "This form is not one of ours or is damaged; open it again.";
                self.tell_text(&to, Text::from(said)).await;
            }
        }
    }

    /// The template import form: only editors, and the file's declared size,
    /// are checked before anything is downloaded, as for a session import.
    async fn import_template(
        &self,
        actor: &Actor,
        view: &Value,
        values: &Map<String, Value>,
    ) -> Result<crate::app::week::TemplateView, AppError> {
        self.app.desk.check_draft_allowed(actor)?;
        let file = uploaded_file(view).ok_or_else(|| {
            AppError::unexpected(anyhow::anyhow!(
                "a template import form came without its file"
            ))
        })?;
        let bytes = self.download(&file).await?;
        let sheet = Some(values.text("sheet")).filter(|s| !s.trim().is_empty());
        self.app
            .desk
            .import_template(
                actor,
                &values.text("name"),
                &file.name,
                &bytes,
                sheet.as_deref(),
            )
            .await
    }

    /// A file from a form, read with the bot token from its private URL once
    /// its declared size is allowed.
    async fn download(&self, file: &UploadedFile) -> Result<Vec<u8>, AppError> {
        let too_big = |e| AppError::from(ImportError::from(e));
        crate::import::check_size(&file.name, file.size).map_err(too_big)?;
        let request = self
            .downloads
            .get(&file.url)
            .bearer_auth(self.bot_token.expose_secret());
        match download_request(request, &file.name, download::TIMEOUT).await {
            Ok(bytes) => Ok(bytes),
            Err(DownloadError::File(e)) => Err(too_big(e)),
            Err(e) => Err(AppError::unexpected(e)),
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
        let bytes = self.download(&file).await?;
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
    async fn first(&self, to: &To<'_>, event: &str) -> bool {
        match self.app.desk.first_delivery(PLATFORM, event).await {
            Ok(first) => first,
            Err(e) => {
                self.refuse(to, &e).await;
                false
            }
        }
    }
}

#[async_trait]
impl SocketHandler for SlackInbound {
    fn ack_payload(&self, envelope: &Envelope) -> Option<Value> {
        if envelope.interaction_type() != Some("view_submission") || !self.ours(envelope) {
            return None;
        }
        let view = &envelope.payload["view"];
        let errors = form_errors(str_of(view, "callback_id"), &form_values(view), &self.app)?;
        Some(json!({ "response_action": "errors", "errors": errors }))
    }

    async fn handle(&self, envelope: Envelope) {
        if !self.ours(&envelope) {
            // Not answered: an answer would go to a workspace we do not serve.
            tracing::warn!(envelope = %envelope.envelope_id, team = %envelope.payload["team_id"].as_str().or(envelope.payload["team"]["id"].as_str()).unwrap_or("none"), "refused an envelope from another Slack workspace");
            return;
        }
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
