//! The operations listener (`HTTP_ADDR`): health, readiness and metrics for
//! whatever runs the bot (systemd, Kubernetes, a load balancer, Prometheus).
//!
//! - `GET /healthz`: the process is alive and answering; always 200 `ok`.
//! - `GET /readyz`: 200 when the database answers, every embedded migration
//!   is applied, and the chat is connected or standing by (another replica
//!   leads); otherwise 503 with a JSON body naming the failing checks.
//! - `GET /metrics`: Prometheus text format (see `metrics`).
//! - `GET /calendar/<token>.ics`: the calendar feed of approved sessions and
//!   uncovered slots (`app::week`), only when `CALENDAR_FEED_TOKEN` is set
//!   and only with that token; anything else is a plain 404, so a wrong
//!   token tells a guesser nothing.
//!
//! Nothing here changes state; the listener only reads.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use secrecy::{ExposeSecret, SecretString};

use crate::app::Queries;
use crate::metrics;
use crate::store::PgPool;

/// How long a readiness probe waits for the database.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the chat connection stands, as the run mode sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatState {
    /// Not (yet, or no longer) connected: not ready.
    Disconnected,
    /// Connected and answering (the console always is).
    Connected,
    /// Deliberately not connected: another replica leads. Ready.
    Standby,
}

impl ChatState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Disconnected => "disconnected",
            ChatState::Connected => "connected",
            ChatState::Standby => "standby",
        }
    }
}

/// What `/readyz` looks at; cheap to clone and share with the run mode.
#[derive(Clone)]
pub struct Readiness {
    /// The bot's own pool, so a probe sees what the bot sees.
    pool: PgPool,
    /// Set by the run mode as the chat connects, stands by or drops.
    chat: Arc<watch::Sender<ChatState>>,
}

impl Readiness {
    /// Starts `Disconnected`; the run mode says when that changes.
    pub fn new(pool: PgPool) -> Readiness {
        Readiness {
            pool,
            chat: Arc::new(watch::Sender::new(ChatState::Disconnected)),
        }
    }

    pub fn set_chat_state(&self, state: ChatState) {
        self.chat.send_replace(state);
    }

    pub fn chat_state(&self) -> ChatState {
        *self.chat.borrow()
    }

    /// Runs every check; `Ok` when all pass, else the failing ones with why.
    /// Either way with the chat state the answer was based on.
    pub async fn check(&self) -> (ChatState, Result<(), Vec<(&'static str, String)>>) {
        // Read once: the state may change while the database is asked.
        let chat = self.chat_state();
        let mut failed = Vec::new();
        match tokio::time::timeout(DB_TIMEOUT, migrations_pending(&self.pool)).await {
            Err(_) => {
                failed.push(("database", format!("no answer within {DB_TIMEOUT:?}")));
                failed.push(("migrations", "unknown: the database did not answer".into()));
            }
            Ok(Err(e)) => {
                failed.push(("database", e.to_string()));
                failed.push(("migrations", "unknown: the database did not answer".into()));
            }
            Ok(Ok(pending)) if !pending.is_empty() => {
                failed.push((
                    "migrations",
                    format!("not applied: {pending:?}; run `flashsale-bot migrate`"),
                ));
            }
            Ok(Ok(_)) => {}
        }
        if chat == ChatState::Disconnected {
            failed.push(("chat", "disconnected".into()));
        }
        if failed.is_empty() {
            (chat, Ok(()))
        } else {
            (chat, Err(failed))
        }
    }
}

/// Versions of embedded migrations not (successfully) applied to the database.
/// Doubles as the database check: it is one query.
async fn migrations_pending(pool: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    // A missing table means nothing was migrated yet, not an unreachable database.
    let table: Option<String> = sqlx::query_scalar("select to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    let applied: HashSet<i64> = match table {
        None => HashSet::new(),
        Some(_) => sqlx::query_scalar("select version from _sqlx_migrations where success")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
    };
    Ok(sqlx::migrate!("./migrations")
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}

/// The routes, for `serve` and for tests that bring their own listener.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(readiness)
}

async fn readyz(State(readiness): State<Readiness>) -> Response {
    let (chat, checked) = readiness.check().await;
    let chat = chat.as_str();
    match checked {
        Ok(()) => (StatusCode::OK, Json(json!({ "ready": true, "chat": chat }))).into_response(),
        Err(failed) => {
            let checks: serde_json::Map<String, serde_json::Value> = failed
                .into_iter()
                .map(|(check, why)| (check.to_owned(), why.into()))
                .collect();
            tracing::debug!(?checks, "not ready");
            let body = json!({ "ready": false, "chat": chat, "failed": checks });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

async fn metrics_text() -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::render(),
    )
        .into_response()
}

/// Serves the routes on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    readiness: Readiness,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, readiness, None, shutdown).await
}

/// As [`serve`], with the calendar feed when one is configured.
pub async fn serve_with(
    listener: TcpListener,
    readiness: Readiness,
    feed: Option<CalendarFeed>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router_with(readiness, feed))
        .with_graceful_shutdown(shutdown)
        .await
}

/// What the calendar feed reads, and the token that opens it.
#[derive(Clone)]
pub struct CalendarFeed {
    queries: Queries,
    /// `CALENDAR_FEED_TOKEN`: the feed's only guard, so it never prints.
    token: Arc<SecretString>,
}

impl CalendarFeed {
    pub fn new(queries: Queries, token: SecretString) -> CalendarFeed {
        CalendarFeed {
            queries,
            token: Arc::new(token),
        }
    }
}

/// The routes, with `/calendar/<token>.ics` when `feed` is given.
pub fn router_with(readiness: Readiness, feed: Option<CalendarFeed>) -> Router {
    let routes = router(readiness);
    match feed {
        Some(feed) => routes.merge(
            Router::new()
                .route("/calendar/{file}", get(calendar))
                .with_state(feed),
        ),
        None => routes,
    }
}

async fn calendar(State(feed): State<CalendarFeed>, Path(file): Path<String>) -> Response {
    let given = file.strip_suffix(".ics").unwrap_or(&file);
    if !same_secret(given.as_bytes(), feed.token.expose_secret().as_bytes()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match feed.queries.calendar_feed().await {
        Ok(ics) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            ics,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "could not build the calendar feed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Compares every byte whatever the first difference, so the time an
/// answer takes does not tell how much of a guessed token was right.
fn same_secret(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
