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
use crate::store::{self, PgPool};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not connect to the database (DATABASE_URL): {0}")]
    Database(#[source] sqlx::Error),
    #[error("could not apply the migrations: {0}")]
    Migrations(#[source] sqlx::migrate::MigrateError),
    #[error("could not set up the catalog client (STOREFRONT_URL): {0}")]
    Catalog(#[source] CatalogError),
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
