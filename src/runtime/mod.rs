//! The one place that wires the bot: config -> database -> services (catalog,
//! storefront, `app::Services`) -> the chosen chat adapter -> scheduler,
//! reconciler, digest, the HTTP listener, leadership and shutdown.
//!
//! `main.rs` only picks the run mode; each mode is a module here
//! (`discord`, `slack`, `console`) that takes from its adapter only what the platform
//! needs (for Discord: the poise framework and the `Chat`). Adapters start
//! no long-running task of their own. Kept in the library so tests and the
//! bench start the same parts.

pub mod console;
pub mod discord;
pub mod shop;
pub mod slack;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::app::{Services as AppServices, SystemClock};
use crate::catalog::CatalogError;
use crate::chat::Chat;
use crate::config::Config;
use crate::http::{self, Readiness};
use crate::scheduler::{digest, Scheduler, SchedulerConfig};
use crate::store::{self, PgPool};
use crate::storefront::StorefrontError;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_cron_scheduler::JobScheduler;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Not a `#[source]`: its text already carries sqlx's causes, and a
    /// chain printed with `{:#}` would say each of them again.
    #[error("could not connect to the database (DATABASE_URL): {0}")]
    Database(sqlx::Error),
    /// The cause is text, not a source, so that it is said once.
    #[error("could not reach the database at {host} (DATABASE_URL): {cause}")]
    DatabaseUnreachable { host: String, cause: String },
    /// Checked before the migrations, whose own advisory lock would be left
    /// behind on a pooled backend the same way (`store::presence::detect_pooling`).
    #[error(
        "DATABASE_URL leads to a pooler in transaction (or statement) mode: it hands a connection's \
         Postgres backend to other clients between transactions, so the session-level locks the bot \
         holds (presence, leadership, migrations) and its LISTEN would not stay with it. Connect \
         directly to Postgres or through a pooler in session mode (pgbouncer: pool_mode = session); \
         see README, Connection pooling"
    )]
    TransactionPooling,
    #[error("could not tell how connections to the database are pooled: {0}")]
    PoolingCheck(#[source] store::StoreError),
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
    /// The cause follows in the chain, so it is not repeated here.
    #[error("could not start the health and metrics listener on HTTP_ADDR={addr}")]
    Http {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Why a run mode stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Discord(#[from] crate::platforms::discord::DiscordError),
    #[error(transparent)]
    Slack(#[from] slack::SlackError),
    #[error(transparent)]
    Console(crate::platforms::console::ConsoleError),
}

/// What every run mode needs.
#[derive(Clone)]
pub struct Services {
    pub config: Config,
    pub pool: PgPool,
    pub app: AppServices,
    pub shop: shop::Shop,
}

/// How long start-up waits for the database before saying why it cannot reach it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects with a bounded pool, checks that its connections keep their
/// backend (no transaction pooling) and applies pending migrations.
pub async fn connect_database(config: &Config) -> Result<PgPool, StartupError> {
    let options: PgConnectOptions = config
        .database_url
        .expose_secret()
        .parse()
        .map_err(StartupError::Database)?;
    let pool = match PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.clone())
        .await
    {
        Ok(pool) => pool,
        // The pool says only that it waited; one direct attempt says why
        // (refused, no such host, wrong password), and the host is named.
        Err(sqlx::Error::PoolTimedOut) => {
            let direct =
                tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options));
            let cause = match direct.await {
                Ok(Err(e)) => e.to_string(),
                Ok(Ok(_)) | Err(_) => {
                    format!("no connection within {} s", CONNECT_TIMEOUT.as_secs())
                }
            };
            return Err(StartupError::DatabaseUnreachable {
                host: format!("{}:{}", options.get_host(), options.get_port()),
                cause,
            });
        }
        // No such host, a refused TLS handshake: where, and why, once.
        Err(e @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_))) => {
            return Err(StartupError::DatabaseUnreachable {
                host: format!("{}:{}", options.get_host(), options.get_port()),
                cause: e.to_string(),
            });
        }
        Err(e) => return Err(StartupError::Database(e)),
    };
    // Refuse rather than spin: behind a transaction pooler every presence
    // check would fail (or pass on a backend that is not this process's)
    // and the scheduler would re-take its lock and re-claim its own jobs
    // without end.
    match store::presence::detect_pooling(&pool)
        .await
        .map_err(StartupError::PoolingCheck)?
    {
        store::presence::Pooling::PerConnection => {}
        store::presence::Pooling::PerTransaction => {
            pool.close().await;
            return Err(StartupError::TransactionPooling);
        }
    }
    store::migrate(&pool)
        .await
        .map_err(StartupError::Migrations)?;
    Ok(pool)
}

/// Connects the database and builds the service around the given chat.
pub async fn build(config: Config, chat: Arc<dyn Chat>) -> Result<Services, StartupError> {
    let pool = connect_database(&config).await?;
    build_with_chat(config, pool, chat).await
}

/// For run modes that need the database before their chat exists. Connects
/// the shop first: what it can do by itself decides the jobs sales get.
pub async fn build_with_chat(
    mut config: Config,
    pool: PgPool,
    chat: Arc<dyn Chat>,
) -> Result<Services, StartupError> {
    let shop = shop::connect(&config).await?;
    config.policy.schedule.shop = shop.sales.capabilities();
    let app = AppServices::new(
        pool.clone(),
        shop.catalog.clone(),
        config.policy.clone(),
        Arc::new(SystemClock),
        chat,
    )
    .with_queue_retention(config.queue_retention_days)
    .with_coverage(config.coverage.clone());
    Ok(Services {
        config,
        pool,
        app,
        shop,
    })
}

/// The work every bot process does besides answering chat: the scheduler
/// (jobs and the outbox), the reconciler and the daily digest.
pub struct Background {
    shutdown: watch::Sender<bool>,
    scheduler: JoinHandle<()>,
    reconciler: JoinHandle<()>,
    digest: Option<JobScheduler>,
}

pub async fn start_background(services: &Services) -> Result<Background, StartupError> {
    let scheduler = Scheduler::new(
        services.pool.clone(),
        services.app.operations.clone(),
        services.shop.sales.clone(),
        SchedulerConfig {
            poll: services.config.scheduler_poll,
            lease: services.config.scheduler_lease,
            heartbeat: services.config.scheduler_heartbeat,
            watch_every: services.config.sold_out_check,
            ..SchedulerConfig::default()
        },
    );
    let (shutdown, stop) = watch::channel(false);
    let reconciler = tokio::spawn(scheduler.clone().reconcile_loop(stop.clone()));
    let scheduler = tokio::spawn(scheduler.run(stop));
    // Housekeeping runs with the daily digest; once at start too, so that
    // a bot with the digest off (DAILY_DIGEST_CRON=off) still prunes.
    let operations = services.app.operations.clone();
    tokio::spawn(async move { operations.prune().await });
    let digest = match &services.config.daily_digest_cron {
        Some(cron) => Some(
            digest::start(
                services.app.operations.clone(),
                cron,
                services.config.policy.time_zone,
            )
            .await
            .map_err(StartupError::Digest)?,
        ),
        None => None,
    };
    Ok(Background {
        shutdown,
        scheduler,
        reconciler,
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
        if let Err(e) = self.reconciler.await {
            tracing::error!(error = %e, "reconciler task failed");
        }
    }
}

/// The health, readiness and metrics listener (`crate::http`), while it runs.
pub struct HttpServer {
    addr: std::net::SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts the listener on `HTTP_ADDR`, or nothing when it is `off`. Binding
/// happens here, so a taken port stops start-up with a clear error.
pub async fn start_http(
    services: &Services,
    readiness: Readiness,
) -> Result<Option<HttpServer>, StartupError> {
    let Some(addr) = services.config.http_addr else {
        return Ok(None);
    };
    let failed = |source| StartupError::Http { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(failed)?;
    let addr = listener.local_addr().map_err(failed)?;
    let (shutdown, mut stop) = watch::channel(false);
    let feed = services
        .config
        .calendar_feed_token
        .clone()
        .map(|token| http::CalendarFeed::new(services.app.queries.clone(), token));
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        };
        if let Err(e) = http::serve_with(listener, readiness, feed, stopped).await {
            tracing::error!(error = %e, "the health and metrics listener failed");
        }
    });
    tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
    Ok(Some(HttpServer {
        addr,
        shutdown,
        task,
    }))
}

impl HttpServer {
    /// Where it listens (the real port when `HTTP_ADDR` asked for port 0).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops taking requests and waits for those in flight.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the health and metrics listener did not stop cleanly");
        }
    }
}

/// Every run mode's last step: no new jobs (running ones finish or are handed
/// back), then the health listener, so `/readyz` answers until the work is done.
pub async fn stop(background: Background, http: Option<HttpServer>) {
    background.stop().await;
    if let Some(http) = http {
        http.stop().await;
    }
}

/// Resolves on SIGTERM (what systemd and container runtimes send) or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for SIGTERM; only Ctrl-C stops the bot");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
