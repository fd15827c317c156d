//! `flashsale-bot run` in Slack: the wiring around the Slack adapter.
//!
//! Order: the database first (fail fast), then the app's services with a chat on
//! Slack's Web API, the health listener and the background work (every
//! process runs them), then the Socket Mode connection. Slack hands each
//! envelope to one of the app's open connections, so every replica connects
//! and none needs to lead (unlike Discord's gateway). Readiness follows the
//! connection: ready while Slack's `hello` holds.

use std::sync::Arc;

use crate::config::Config;
use crate::http::{ChatState, Readiness};
use crate::platforms::slack::{
    Pictures, Renderer, SlackApi, SlackApiError, SlackChat, SlackInbound, SlackRoles, SocketMode,
    SocketState,
};
use crate::render::Painter;

use super::{shutdown_signal, RunError};

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("SLACK_BOT_TOKEN is not set: the bot needs a Slack bot token to run in Slack (see docs/slack.md).")]
    NotConfigured,
    #[error("could not set up the Slack client (SLACK_API_BASE): {0}")]
    Client(#[source] SlackApiError),
    #[error("Slack did not say which workspace SLACK_BOT_TOKEN belongs to (auth.test): {0}")]
    Team(#[source] SlackApiError),
    #[error("Slack closed the Socket Mode connection for good: {0} (check SLACK_APP_TOKEN, an xapp- token with connections:write)")]
    SocketStopped(String),
}

/// Runs the bot in Slack until the process is told to stop.
pub async fn run(config: Config) -> Result<(), RunError> {
    let slack = config.slack.clone().ok_or(SlackError::NotConfigured)?;
    let zone = config.policy.time_zone;
    let api = SlackApi::new(&slack.api_base, &slack.bot_token).map_err(SlackError::Client)?;
    // Which workspace the token is for, so an envelope from another is refused.
    let team = api.team_id().await.map_err(SlackError::Team)?;
    let renderer = Renderer::new(&slack, zone);
    let chat = SlackChat::new(
        api.clone(),
        slack.announcements_channel_id.clone(),
        slack.approvals_channel_id.clone(),
        renderer.clone(),
    )
    // Cards' and "now live"'s pictures follow them into their threads.
    .with_pictures(Pictures::new(
        api.clone(),
        Painter::new(zone, config.picture_font_dir.clone()),
    ));
    let services = super::build(config, Arc::new(chat)).await?;
    let readiness = Readiness::new(services.pool.clone());
    readiness.set_chat_state(ChatState::Disconnected);
    let http_server = super::start_http(&services, readiness.clone()).await?;
    let background = super::start_background(&services).await?;

    let roles = SlackRoles::new(Arc::new(api.clone()), &slack);
    let inbound = SlackInbound::new(
        services.app.front(),
        api,
        roles,
        renderer,
        slack.approvals_channel_id.clone(),
        slack.bot_token.clone(),
        team,
    );
    let socket = SocketMode::new(&slack.api_base, &slack.app_token, Arc::new(inbound))
        .map_err(SlackError::Client)?
        .spawn();
    let mut state = socket.state();
    let outcome = loop {
        tokio::select! {
            _ = shutdown_signal() => {
                tracing::info!("shutting down");
                break Ok(());
            }
            changed = state.changed() => {
                if changed.is_err() {
                    break Ok(());
                }
                let now = state.borrow_and_update().clone();
                match now {
                    SocketState::Connected { connection } => {
                        tracing::info!(connection, "chat state: connected to Slack");
                        readiness.set_chat_state(ChatState::Connected);
                    }
                    SocketState::Connecting => readiness.set_chat_state(ChatState::Disconnected),
                    SocketState::Stopped { why } => break Err(SlackError::SocketStopped(why)),
                }
            }
        }
    };
    readiness.set_chat_state(ChatState::Disconnected);
    socket.shutdown().await;
    super::stop(background, http_server).await;
    Ok(outcome?)
}
