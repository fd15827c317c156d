//! The Discord adapter: `/flashsale` commands, card buttons and forms in, the
//! chat port's messages out, on poise and serenity.
//!
//! The adapter is thin: it turns a member and their options into an `Actor`
//! and an app call, and the app's answer into a Discord message. No SQL and
//! no business rule lives here; refusals come from `app` as they are.
//!
//! Layout:
//! - `mod.rs` (this file): what `runtime::discord` wires: the framework (with
//!   its `Data` and error handling), the REST client and the `Chat`.
//! - `commands`: the slash commands, one use case each.
//! - `interactions`: Approve/Reject presses and submitted forms.
//! - `forms`: the forms (modals) and their ids.
//! - `download`: an attachment, fetched with a timeout and a size cap.
//! - `autocomplete`: session and SKU suggestions.
//! - `input`: member -> `Actor`, option parsing.
//! - `render`: `Message`/`Card`/`Text` -> Discord builders, within Discord's limits.
//! - `replies`: session, list, log, paste report, help and refusal replies.
//! - `chat`: `DiscordChat`, the `Chat` implementation (post and edit in channels).

mod autocomplete;
mod chat;
pub mod commands;
pub mod forms;
pub mod input;
pub mod interactions;
pub mod render;
mod replies;

use std::sync::{Arc, OnceLock};

use poise::serenity_prelude as serenity;
use secrecy::ExposeSecret;
use serenity::{ChannelId, GatewayIntents, GuildId, HttpBuilder, RoleId};

pub use super::download;
pub use chat::{nonce_text, DiscordChat};
pub use input::RoleIds;
pub use render::{Rendered, Renderer};

use crate::app::Front;
use crate::config::{DiscordConfig, DISCORD_TOKEN};
use crate::http::{ChatState, Readiness};
use crate::render::Painter;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Ctx<'a> = poise::ApplicationContext<'a, Data, Error>;

/// What every command and interaction needs: the service and how to talk.
pub struct Data {
    /// The use cases; every refusal comes from here.
    pub app: Front,
    /// Which member roles make an editor or an approver.
    pub roles: RoleIds,
    /// How replies look: the business zone and the role mentions.
    pub render: Renderer,
    /// Named in the answer to submit, so the editor knows where the card went.
    pub approvals_channel: ChannelId,
    /// The one server the bot answers in; any other (and DMs) is refused.
    pub guild: GuildId,
    /// Fetches import attachments (each request with its own timeout).
    pub downloads: reqwest::Client,
}

impl Data {
    pub fn new(app: Front, discord: &DiscordConfig) -> Data {
        let roles = roles(discord);
        Data {
            render: renderer(app.policy.time_zone, roles),
            app,
            roles,
            approvals_channel: ChannelId::new(discord.approvals_channel_id),
            guild: GuildId::new(discord.guild_id),
            downloads: reqwest::Client::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("{DISCORD_TOKEN} is not set: the bot needs a Discord bot token to run in Discord (see docs/discord.md).")]
    NotConfigured,
    #[error("Discord failed")]
    Discord(#[from] serenity::Error),
    #[error(
        "DISCORD_API_BASE is set (test mode) but the gateway it names is not on this machine: {0}"
    )]
    GatewayNotLocal(String),
    #[error("could not register the commands in guild {guild} (DISCORD_GUILD_ID): {reason}")]
    Register { guild: u64, reason: String },
}

/// The `Chat` every process posts through, leader or not: Discord's REST API
/// needs no gateway.
pub fn chat(discord: &DiscordConfig, time_zone: chrono_tz::Tz, painter: Painter) -> DiscordChat {
    DiscordChat::new(
        Arc::new(http(discord).build()),
        ChannelId::new(discord.announcements_channel_id),
        ChannelId::new(discord.approvals_channel_id),
        renderer(time_zone, roles(discord)),
        painter,
    )
}

fn roles(discord: &DiscordConfig) -> RoleIds {
    RoleIds {
        editor: RoleId::new(discord.editor_role_id),
        approver: RoleId::new(discord.approver_role_id),
    }
}

fn renderer(time_zone: chrono_tz::Tz, roles: RoleIds) -> Renderer {
    Renderer {
        time_zone,
        editor_role: roles.editor,
        approver_role: roles.approver,
    }
}

/// Discord's REST API, or in test mode a fake one on `DISCORD_API_BASE`
/// (serenity's rate limiter would still call discord.com, so it is off there).
pub fn http(discord: &DiscordConfig) -> HttpBuilder {
    let builder = HttpBuilder::new(discord.token.expose_secret());
    match &discord.api_base {
        Some(base) => builder
            .proxy(base.origin().ascii_serialization())
            .ratelimiter_disabled(true),
        None => builder,
    }
}

/// The poise framework for one term of leadership: a new one per client,
/// since a framework is consumed by the client it is given to. `Data` is
/// handed over when Discord says it is ready, after the commands are
/// registered; a failed registration is kept in `register_failed` and stops
/// the client.
pub fn framework(
    discord: &DiscordConfig,
    app: &Front,
    register_failed: Arc<OnceLock<String>>,
    readiness: Readiness,
) -> poise::Framework<Data, Error> {
    let guild = GuildId::new(discord.guild_id);
    let register_globally = discord.register_globally;
    let data = Data::new(app.clone(), discord);
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            // Nothing a reply says pings anyone unless it says so itself.
            allowed_mentions: Some(serenity::CreateAllowedMentions::new()),
            on_error: |error| Box::pin(on_error(error)),
            pre_command: |ctx| Box::pin(commands::arrived(ctx)),
            command_check: Some(|ctx| Box::pin(commands::in_our_guild(ctx))),
            event_handler: |framework, event| {
                Box::pin(async move {
                    if let serenity::FullEvent::InteractionCreate { interaction } = event {
                        interactions::handle(
                            framework.serenity_context,
                            framework.user_data,
                            interaction,
                        )
                        .await;
                    }
                    Ok(())
                })
            },
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let commands = &framework.options().commands;
                if let Err(e) = poise::builtins::register_in_guild(ctx, commands, guild).await {
                    // Without commands the bot is useless: stop instead of idling.
                    let _ = register_failed.set(e.to_string());
                    framework.shard_manager().shutdown_all().await;
                    return Err(e.into());
                }
                tracing::info!(guild = %guild, "commands registered");
                // READY, and the commands are there: the gateway is up.
                readiness.set_chat_state(ChatState::Connected);
                if register_globally {
                    // Global commands reach every server but can take a while to
                    // appear; a failure here is worth a warning, not a stop, since
                    // the guild commands above already work.
                    match poise::builtins::register_globally(ctx, commands).await {
                        Ok(()) => tracing::info!("commands registered globally"),
                        Err(e) => {
                            tracing::warn!(error = %e, "could not register the commands globally")
                        }
                    }
                }
                Ok(data)
            })
        })
        .build()
}

/// Slash commands, buttons and forms arrive without any privileged intent;
/// `GUILDS` keeps the guild (roles, channels) in the cache.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
}

/// In test mode serenity falls back to the real gateway when the fake one's
/// `GET /gateway` fails (it asks while the client is built): ask first, the
/// same way, and refuse a failure or anything not on loopback.
pub async fn check_local_gateway(http: &serenity::Http) -> Result<(), DiscordError> {
    let gateway = http.get_gateway().await?;
    let local = reqwest::Url::parse(&gateway.url)
        .ok()
        .and_then(|url| url.host_str().map(is_loopback))
        .unwrap_or(false);
    if local {
        Ok(())
    } else {
        Err(DiscordError::GatewayNotLocal(gateway.url))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Commands answer refusals themselves; what reaches here is a failure to
/// talk to Discord, a command stopped by a check (another server, a
/// redelivery), or poise's own checks, answered by its defaults.
async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => apologise(ctx, &error).await,
        poise::FrameworkError::CommandCheckFailed {
            error: Some(error),
            ctx,
            ..
        } => match error.downcast_ref::<commands::Stopped>() {
            Some(commands::Stopped::Redelivered) => tracing::debug!(
                command = %ctx.command().qualified_name,
                interaction = %ctx.id(),
                "ignored a redelivered command; its first delivery answers it"
            ),
            Some(stopped @ commands::Stopped::NotOurGuild) => {
                refuse_elsewhere(ctx, &stopped.to_string()).await
            }
            None => apologise(ctx, &error).await,
        },
        poise::FrameworkError::GuildOnly { ctx, .. } => {
            refuse_elsewhere(ctx, &commands::Stopped::NotOurGuild.to_string()).await
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "could not report a framework error");
            }
        }
    }
}

/// A private refusal, except to autocomplete, which cannot show one.
async fn refuse_elsewhere(ctx: poise::Context<'_, Data, Error>, text: &str) {
    tracing::info!(
        command = %ctx.command().qualified_name,
        guild = ?ctx.guild_id(),
        actor = %ctx.author().id,
        "refused a command from outside the configured server"
    );
    if let poise::Context::Application(app) = ctx {
        if app.interaction_type == poise::CommandInteractionType::Autocomplete {
            return;
        }
    }
    crate::metrics::command(&ctx.command().qualified_name, "refused", None);
    let reply = poise::CreateReply::default().ephemeral(true).content(text);
    if let Err(e) = ctx.send(reply).await {
        tracing::warn!(error = %e, "could not answer a command from another server");
    }
}

async fn apologise(ctx: poise::Context<'_, Data, Error>, error: &Error) {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    tracing::error!(%reference, command = %ctx.command().qualified_name, error = %error, "a command failed");
    crate::metrics::command(&ctx.command().qualified_name, "error", None);
    let apology = format!(
        "Sorry, something went wrong while answering. Reference: {reference}. \
         Check with /flashsale view before trying again."
    );
    let _ = ctx
        .send(
            poise::CreateReply::default()
                .ephemeral(true)
                .content(apology),
        )
        .await;
}
