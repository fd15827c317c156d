//! Button presses on cards and submitted forms.
//!
//! Buttons go through `app::buttons` (shared with every adapter): the id is
//! parsed strictly, the interaction id makes a double delivery act once, and
//! `app` refuses whatever is not allowed (a non-approver, the four-eyes rule,
//! a stale or forged card). `app` also edits the card and tells the submitter;
//! the presser gets a private answer.
//!
//! Approve asks the catalog live, so its answer is deferred first. Reject must
//! answer with a form (a form cannot follow a deferral), and deciding to show
//! it only reads the database.

use std::collections::HashMap;

use poise::serenity_prelude as serenity;
use serenity::{
    ComponentInteraction, CreateInteractionResponse, CreateInteractionResponseMessage, Interaction,
    ModalInteraction,
};

use super::forms::{self, FormId};
use super::input::{actor_of, PLATFORM};
use super::render::Rendered;
use super::Data;
use crate::app::buttons::{self, PressOutcome};
use crate::app::headlines;
use crate::app::{DraftInput, SessionView};
use crate::chat::buttons::{ButtonId, CardAction};
use crate::domain::Actor;

/// Handles the interactions poise does not: buttons and forms. Every one is
/// answered, privately: one from another server (or a DM) with a refusal,
/// one that is not ours (an id without our `fs:` prefix) like a damaged one.
pub async fn handle(ctx: &serenity::Context, data: &Data, interaction: &Interaction) {
    let handled = match interaction {
        Interaction::Component(press) if press.guild_id != Some(data.guild) => {
            not_here(ctx, press.id, &press.token, press.guild_id).await
        }
        Interaction::Modal(form) if form.guild_id != Some(data.guild) => {
            not_here(ctx, form.id, &form.token, form.guild_id).await
        }
        Interaction::Component(press) => on_press(ctx, data, press).await,
        Interaction::Modal(form) => on_form(ctx, data, form).await,
        _ => Ok(()),
    };
    if let Err(e) = handled {
        // Either the first answer failed (e.g. a redelivered interaction) and
        // nothing was done, or the press was handled and only the reply failed.
        tracing::warn!(error = %e, "could not answer an interaction");
    }
}

/// The refusal for a button or form from outside the configured server.
async fn not_here(
    ctx: &serenity::Context,
    id: serenity::InteractionId,
    token: &str,
    guild: Option<serenity::GuildId>,
) -> Result<(), serenity::Error> {
    tracing::info!(
        ?guild,
        "refused an interaction from outside the configured server"
    );
    let text = crate::platforms::discord::commands::Stopped::NotOurGuild.to_string();
    let reply = CreateInteractionResponseMessage::new()
        .ephemeral(true)
        .content(text)
        .allowed_mentions(serenity::CreateAllowedMentions::new());
    ctx.http
        .create_interaction_response(
            id,
            token,
            &CreateInteractionResponse::Message(reply),
            vec![],
        )
        .await
}

fn defer() -> CreateInteractionResponse {
    CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))
}

async fn on_press(
    ctx: &serenity::Context,
    data: &Data,
    press: &ComponentInteraction,
) -> Result<(), serenity::Error> {
    let custom_id = press.data.custom_id.as_str();
    let actor = actor_of(press.member.as_ref(), &press.user, data.roles);
    let approving = matches!(ButtonId::parse(custom_id), Ok(b) if b.action == CardAction::Approve);
    if approving {
        // A redelivered interaction fails here (already answered) and stops.
        press.create_response(ctx, defer()).await?;
    }
    match pressed(data, &actor, &press.id.to_string(), custom_id).await {
        Pressed::Form(form) if !approving => {
            press
                .create_response(ctx, CreateInteractionResponse::Modal(form))
                .await
        }
        Pressed::Form(_) => {
            let reply = already_handled();
            press
                .edit_response(ctx, reply.edit_response())
                .await
                .map(drop)
        }
        Pressed::Reply(reply) if approving => press
            .edit_response(ctx, reply.edit_response())
            .await
            .map(drop),
        Pressed::Reply(reply) => {
            press
                .create_response(ctx, CreateInteractionResponse::Message(reply.response()))
                .await
        }
    }
}

/// What a card button press answers with.
#[derive(Debug)]
pub enum Pressed {
    /// Reject: ask for the reason.
    Form(serenity::CreateModal),
    /// Anything else: a private reply (an approval, a refusal, "already handled").
    Reply(Rendered),
}

/// A press by `actor`; `event_id` (the interaction id) makes a redelivery act once.
pub async fn pressed(data: &Data, actor: &Actor, event_id: &str, custom_id: &str) -> Pressed {
    match buttons::press_button(&data.app, actor, PLATFORM, event_id, custom_id).await {
        PressOutcome::NeedsReason {
            session_id,
            version,
        } => Pressed::Form(forms::reject(session_id, version)),
        PressOutcome::Approved(view) => Pressed::Reply(approved(data, &view)),
        PressOutcome::AlreadyHandled => Pressed::Reply(already_handled()),
        PressOutcome::Refused(e) => Pressed::Reply(data.render.error(&e)),
    }
}

fn approved(data: &Data, view: &SessionView) -> Rendered {
    let headline = headlines::approved(view.id, view.window.starts_at());
    data.render.session(view, &data.render.text(&headline))
}

pub(super) fn already_handled() -> Rendered {
    Rendered::text("This was already handled.")
}

async fn on_form(
    ctx: &serenity::Context,
    data: &Data,
    form: &ModalInteraction,
) -> Result<(), serenity::Error> {
    // Every form calls a use case (a paste asks the catalog): answer first.
    form.create_response(ctx, defer()).await?;
    let actor = actor_of(form.member.as_ref(), &form.user, data.roles);
    let reply = match FormId::parse(&form.data.custom_id) {
        None => {
            Rendered::text("This form is not one of ours or is damaged; run the command again.")
        }
        Some(id) => {
            let values = forms::values(&form.data);
            submitted(data, &actor, &form.id.to_string(), id, &values).await
        }
    };
    form.edit_response(ctx, reply.edit_response()).await?;
    Ok(())
}

/// What a submitted form does; `event_id` makes a redelivered submit act once.
pub async fn submitted(
    data: &Data,
    actor: &Actor,
    event_id: &str,
    id: FormId,
    values: &HashMap<String, String>,
) -> Rendered {
    let app = &data.app;
    let text = |input: &str| values.get(input).cloned().unwrap_or_default();
    if let FormId::Reject {
        session_id,
        version,
    } = id
    {
        let reason = text(forms::REASON);
        return match buttons::reject_with_reason(
            app, actor, PLATFORM, event_id, session_id, version, &reason,
        )
        .await
        {
            Ok(Some(view)) => data.render.session(&view, &headlines::rejected(session_id)),
            Ok(None) => already_handled(),
            Err(e) => data.render.error(&e),
        };
    }
    // The first time this interaction id is seen, and only then, the form acts: a
    // redelivered submit (a gateway replay, a second process) changes nothing twice.
    match app.desk.first_delivery(PLATFORM, event_id).await {
        Ok(true) => {}
        Ok(false) => return already_handled(),
        Err(e) => return data.render.error(&e),
    }
    match id {
        FormId::Draft => {
            let input = DraftInput {
                title: text(forms::TITLE),
                start: text(forms::START),
                end: text(forms::END),
                notes: values.get(forms::NOTES).cloned(),
            };
            match app.desk.create_draft(actor, &input).await {
                Ok(view) => data
                    .render
                    .session(&view, &data.render.text(&headlines::drafted(view.id))),
                Err(e) => data.render.error(&e),
            }
        }
        FormId::Paste { session_id } => {
            match app
                .desk
                .add_pasted(actor, session_id, &text(forms::LINES))
                .await
            {
                Ok(report) => data.render.batch(&headlines::pasted(session_id), &report),
                Err(e) => data.render.error(&e),
            }
        }
        FormId::Reject { .. } => already_handled(),
    }
}
