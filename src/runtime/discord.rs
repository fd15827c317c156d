//! `flashsale-bot run` in Discord: the wiring around the Discord adapter.
//!
//! Order: the database first (fail fast), then the app's services with a chat on
//! Discord's REST API, then the health listener and the background work
//! (scheduler, reconciler, digest), which every process runs. Then the process
//! campaigns for leadership (`crate::leader`): only the leader opens the
//! gateway, because Discord delivers each interaction to every connected
//! client. A leader that loses its lock's connection shuts its shards down and
//! campaigns again with a new client; followers only stand by.

use std::sync::{Arc, OnceLock};

use poise::serenity_prelude as serenity;
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;

use crate::config::Config;
use crate::http::{ChatState, Readiness};
use crate::leader::{self, LeaderConfig};
use crate::platforms::discord::{self, DiscordError};
use crate::render::Painter;

use super::{shutdown_signal, RunError, StartupError};

/// Runs the bot in Discord until the process is told to stop.
pub async fn run(config: Config) -> Result<(), RunError> {
    let discord = config.discord.clone().ok_or(DiscordError::NotConfigured)?;
    let pool = super::connect_database(&config).await?;
    let lock_options: PgConnectOptions = config
        .database_url
        .expose_secret()
        .parse()
        .map_err(StartupError::Database)?;

    if discord.api_base.is_some() {
        discord::check_local_gateway(&discord::http(&discord).build()).await?;
    }
    // Posting needs no gateway: every process (leader or not) posts the
    // scheduler's messages through this REST client.
    let chat = discord::chat(
        &discord,
        config.policy.time_zone,
        Painter::new(config.policy.time_zone, config.picture_font_dir.clone()),
    );
    let services = super::build_with_chat(config, pool, Arc::new(chat)).await?;
    // Health, readiness and metrics, in every process (first: a taken port
    // stops start-up before any work begins).
    let readiness = Readiness::new(services.pool.clone());
    let http_server = super::start_http(&services, readiness.clone()).await?;
    // Reminders, go-live and the digest run in every process, leader or not.
    let background = super::start_background(&services).await?;

    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    let leader_config = LeaderConfig::default();
    let outcome = loop {
        crate::metrics::set_leader(false);
        readiness.set_chat_state(ChatState::Standby);
        tracing::info!(leader = false, "chat state: standing by for leadership");
        let mut term = tokio::select! {
            term = leader::campaign(&lock_options, &leader_config) => term,
            _ = stop.wait_for(|stopping| *stopping) => break Ok(()),
        };
        crate::metrics::set_leader(true);
        // Not ready until Discord says READY (the framework's setup).
        readiness.set_chat_state(ChatState::Disconnected);
        tracing::info!(leader = true, "chat state: leader, connecting to Discord");
        let register_failed: Arc<OnceLock<String>> = Arc::default();
        let framework = discord::framework(
            &discord,
            &services.app.front(),
            register_failed.clone(),
            readiness.clone(),
        );
        let mut client = match serenity::ClientBuilder::new_with_http(
            discord::http(&discord).build(),
            discord::intents(),
        )
        .framework(framework)
        .await
        {
            Ok(client) => client,
            Err(e) => {
                term.resign().await;
                break Err(DiscordError::from(e));
            }
        };
        let shards = client.shard_manager.clone();
        let connection = client.start();
        tokio::pin!(connection);
        let (connected, step_down) = tokio::select! {
            connected = &mut connection => (connected, false),
            _ = term.lost() => {
                tracing::warn!("stepping down: closing the Discord gateway and campaigning again");
                shards.shutdown_all().await;
                (connection.await, true)
            }
            _ = stop.wait_for(|stopping| *stopping) => {
                shards.shutdown_all().await;
                (connection.await, false)
            }
        };
        term.resign().await;
        if step_down {
            if let Err(e) = connected {
                tracing::warn!(error = %e, "the Discord client ended with an error while stepping down");
            }
            continue;
        }
        if let Some(reason) = register_failed.get() {
            break Err(DiscordError::Register {
                guild: discord.guild_id,
                reason: reason.clone(),
            });
        }
        break connected.map_err(DiscordError::from);
    };
    readiness.set_chat_state(ChatState::Disconnected);
    super::stop(background, http_server).await;
    Ok(outcome?)
}
