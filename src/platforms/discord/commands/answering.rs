//! How a command answers: deferring within Discord's three seconds, the
//! redelivery check, the private reply or refusal, and the metrics and log
//! line for every answered command. The commands themselves are in the
//! parent module.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Instant;

use poise::serenity_prelude as serenity;
use serenity::{CreateInteractionResponse, CreateModal};

use super::super::input::{self, ArgError, PLATFORM};
use super::super::render::Rendered;
use super::super::{Ctx, Error};
use crate::app::{AppError, Front, SessionView};
use crate::domain::Actor;
use crate::metrics;

/// Why a command could not do what was asked.
pub(super) enum Failure {
    App(AppError),
    Arg(ArgError),
}

/// Why the framework's checks stop a command before it answers at all.
#[derive(Debug, thiserror::Error)]
pub(in crate::platforms::discord) enum Stopped {
    /// From another server the bot is in, or a DM.
    #[error("Flash sales are run from the team's own server: this bot answers nothing here.")]
    NotOurGuild,
    /// The gateway delivered this interaction again; the first delivery answers it.
    #[error("this interaction was delivered before")]
    Redelivered,
}

/// The framework's `command_check` (commands and autocomplete, every level
/// of `/flashsale`): only the configured server gets an answer, so a server
/// the bot was also added to cannot read sessions or unreleased prices.
pub(in crate::platforms::discord) async fn in_our_guild(
    ctx: poise::Context<'_, super::super::Data, Error>,
) -> Result<bool, Error> {
    if ctx.guild_id() == Some(ctx.data().guild) {
        Ok(true)
    } else {
        Err(Box::new(Stopped::NotOurGuild))
    }
}

/// The `/flashsale` group's check, run once per command before anything
/// answers: a redelivered interaction (a gateway replay) is recognised
/// here, by its id, and never deferred or answered a second time.
pub(in crate::platforms::discord) async fn first_time(
    ctx: poise::Context<'_, super::super::Data, Error>,
) -> Result<bool, Error> {
    let poise::Context::Application(app) = ctx else {
        return Ok(true);
    };
    if app.interaction_type == poise::CommandInteractionType::Autocomplete {
        return Ok(true);
    }
    let event_id = app.interaction.id.to_string();
    match ctx
        .data()
        .app
        .desk
        .first_delivery(PLATFORM, &event_id)
        .await
    {
        Ok(true) => Ok(true),
        Ok(false) => Err(Box::new(Stopped::Redelivered)),
        Err(e) => Err(Box::new(e)),
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::App(e)
    }
}

impl From<ArgError> for Failure {
    fn from(e: ArgError) -> Failure {
        Failure::Arg(e)
    }
}

/// What a command answers with, as a reply only its caller sees.
pub(super) trait IntoReply {
    fn into_reply(self) -> poise::CreateReply;
}

impl IntoReply for Rendered {
    fn into_reply(self) -> poise::CreateReply {
        self.reply()
    }
}

/// Text with files attached: the exports.
pub(super) struct WithFiles(
    pub(super) String,
    pub(super) Vec<serenity::CreateAttachment>,
);

impl IntoReply for WithFiles {
    fn into_reply(self) -> poise::CreateReply {
        let WithFiles(text, files) = self;
        files
            .into_iter()
            .fold(Rendered::text(text).reply(), |reply, file| {
                reply.attachment(file)
            })
    }
}

pub(super) fn actor(ctx: Ctx<'_>) -> Actor {
    let i = ctx.interaction;
    input::actor_of(i.member.as_deref(), &i.user, ctx.data().roles)
}

/// Sends the reply, or the refusal as its text; both private.
pub(super) async fn answer(
    ctx: Ctx<'_>,
    outcome: Result<impl IntoReply, Failure>,
) -> Result<(), Error> {
    let (reply, label) = match outcome {
        Ok(reply) => (reply.into_reply(), "ok"),
        Err(Failure::App(e)) => {
            let label = e.outcome_label();
            (ctx.data().render.error(&e).reply(), label)
        }
        Err(Failure::Arg(e)) => (Rendered::text(e.to_string()).reply(), "refused"),
    };
    ctx.send(reply).await?;
    answered(ctx, label).await;
    Ok(())
}

/// `answer` for a command refused before it had anything to reply with.
pub(super) async fn refuse(ctx: Ctx<'_>, failure: impl Into<Failure>) -> Result<(), Error> {
    answer(ctx, Err::<Rendered, _>(failure.into())).await
}

/// Answers what `work` makes of the command, deferring first so that
/// Discord's three seconds are met however slow the work turns out to be.
pub(super) async fn deferred<R: IntoReply>(
    ctx: Ctx<'_>,
    work: impl Future<Output = Result<R, Failure>>,
) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    answer(ctx, work.await).await
}

/// `deferred` for work that changes something. A redelivered interaction
/// never gets here (see `first_time`), so the work runs once.
pub(super) async fn changing<R: IntoReply>(
    ctx: Ctx<'_>,
    work: impl Future<Output = Result<R, Failure>>,
) -> Result<(), Error> {
    deferred(ctx, work).await
}

/// `changing` for a use case on one session: `change` gets the app, the
/// member and the parsed session, and gives back the session as it is now
/// with the headline to show above it.
pub(super) async fn session_change<'a, F, Fut>(
    ctx: Ctx<'a>,
    session: &str,
    change: F,
) -> Result<(), Error>
where
    F: FnOnce(&'a Front, Actor, i64) -> Fut,
    Fut: Future<Output = Result<(SessionView, String), AppError>>,
{
    changing(ctx, async {
        let id = input::session_id(session)?;
        let (view, headline) = change(&ctx.data().app, actor(ctx), id).await?;
        Ok(ctx.data().render.session(&view, &headline))
    })
    .await
}

/// The framework's `pre_command` hook: when the command arrived, for the
/// interaction latency metric.
pub(in crate::platforms::discord) async fn arrived(
    ctx: poise::Context<'_, super::super::Data, Error>,
) {
    ctx.set_invocation_data(Instant::now()).await;
}

/// Counts an answered command (a failure to answer is counted by `on_error`).
pub(super) async fn answered(ctx: Ctx<'_>, outcome: &str) {
    let took = poise::Context::Application(ctx)
        .invocation_data::<Instant>()
        .await
        .map(|arrived| arrived.elapsed());
    let command = &ctx.command().qualified_name;
    metrics::command(command, outcome, took);
    // One line per command with who, what, how it ended and how long it took;
    // the use case's own span adds the session.
    tracing::info!(
        command = %command,
        actor = %ctx.interaction.user.id,
        outcome,
        ms = took.map(|t| t.as_millis() as u64),
        "command answered"
    );
}

/// Opens a form as the first (and only) answer to the command.
pub(super) async fn open_form(ctx: Ctx<'_>, form: CreateModal) -> Result<(), Error> {
    ctx.interaction
        .create_response(
            ctx.serenity_context(),
            CreateInteractionResponse::Modal(form),
        )
        .await?;
    // Tell poise the interaction is answered, so it never answers it again.
    ctx.has_sent_initial_response.store(true, Ordering::SeqCst);
    answered(ctx, "ok").await;
    Ok(())
}
