//! Start-up wiring shared by every run mode (Discord, console): connect and
//! migrate the database, build the catalog client and the `FlashSales` service.
//!
//! Kept in the library so that `main.rs` stays a short sequence and tests can
//! start the same parts.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;

use crate::app::{FlashSales, SystemClock};
use crate::catalog::{CachedCatalog, Catalog, CatalogError, HttpCatalog};
use crate::chat::Chat;
use crate::config::Config;
use crate::scheduler::{digest, Scheduler, SchedulerConfig};
use crate::store::{self, PgPool};
use crate::storefront::{HttpStorefront, Storefront, StorefrontError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_cron_scheduler::JobScheduler;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not connect to the database (DATABASE_URL): {0}")]
    Database(#[source] sqlx::Error),
    #[error("could not apply the migrations: {0}")]
    Migrations(#[source] sqlx::migrate::MigrateError),
    #[error("could not set up the catalog client (STOREFRONT_URL): {0}")]
    Catalog(#[source] CatalogError),
    #[error("STOREFRONT_WEBHOOK_SECRET is not set: expected the whsec_... secret the storefront verifies publish calls with")]
    MissingWebhookSecret,
    #[error("could not set up the storefront client: {0}")]
    Storefront(#[source] StorefrontError),
    #[error("could not start the daily digest (DAILY_DIGEST_CRON): {0}")]
    Digest(#[source] tokio_cron_scheduler::JobSchedulerError),
}

/// What every run mode needs.
#[derive(Clone)]
pub struct Services {
    pub config: Config,
    pub pool: PgPool,
    pub app: FlashSales,
}

/// Connects with a bounded pool and applies pending migrations.
pub async fn connect_database(config: &Config) -> Result<PgPool, StartupError> {
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(5))
        .connect(config.database_url.expose_secret())
        .await
        .map_err(StartupError::Database)?;
    store::migrate(&pool)
        .await
        .map_err(StartupError::Migrations)?;
    Ok(pool)
}

pub fn catalog(config: &Config) -> Result<Arc<dyn Catalog>, StartupError> {
    let http = HttpCatalog::new(
        config.storefront_url.clone(),
        config.policy.currency.clone(),
        config.catalog_timeout,
    )
    .map_err(StartupError::Catalog)?;
    Ok(Arc::new(CachedCatalog::new(http, config.catalog_cache_ttl)))
}

/// Connects the database and builds the service around the given chat.
pub async fn build(config: Config, chat: Arc<dyn Chat>) -> Result<Services, StartupError> {
    let pool = connect_database(&config).await?;
    build_with_chat(config, pool, chat)
}

/// For run modes that need the database before their chat exists.
pub fn build_with_chat(
    config: Config,
    pool: PgPool,
    chat: Arc<dyn Chat>,
) -> Result<Services, StartupError> {
    let app = FlashSales::new(
        pool.clone(),
        catalog(&config)?,
        config.policy.clone(),
        Arc::new(SystemClock),
        chat,
    );
    Ok(Services { config, pool, app })
}

pub fn storefront(config: &Config) -> Result<Arc<dyn Storefront>, StartupError> {
    let secret = config
        .storefront_webhook_secret
        .as_ref()
        .ok_or(StartupError::MissingWebhookSecret)?;
    let client = HttpStorefront::new(
        config.storefront_url.clone(),
        secret,
        config.storefront_timeout,
    )
    .map_err(StartupError::Storefront)?;
    Ok(Arc::new(client))
}

/// The work every bot process does besides answering chat: the scheduler
/// and the daily digest.
pub struct Background {
    shutdown: watch::Sender<bool>,
    scheduler: JoinHandle<()>,
    digest: Option<JobScheduler>,
}

pub async fn start_background(services: &Services) -> Result<Background, StartupError> {
    let scheduler = Scheduler::new(
        services.pool.clone(),
        services.app.clone(),
        storefront(&services.config)?,
        SchedulerConfig {
            poll: services.config.scheduler_poll,
            ..SchedulerConfig::default()
        },
    );
    let (shutdown, stop) = watch::channel(false);
    let scheduler = tokio::spawn(scheduler.run(stop));
    let digest = match &services.config.daily_digest_cron {
        Some(cron) => Some(
            digest::start(services.app.clone(), cron)
                .await
                .map_err(StartupError::Digest)?,
        ),
        None => None,
    };
    Ok(Background {
        shutdown,
        scheduler,
        digest,
    })
}

impl Background {
    /// Graceful stop: no new claims, running jobs finish or are handed back.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Some(mut digest) = self.digest {
            if let Err(e) = digest.shutdown().await {
                tracing::warn!(error = %e, "daily digest did not stop cleanly");
            }
        }
        if let Err(e) = self.scheduler.await {
            tracing::error!(error = %e, "scheduler task failed");
        }
    }
}
