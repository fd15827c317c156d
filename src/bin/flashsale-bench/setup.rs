//! What every measurement needs: a throwaway database, the dev storefront on
//! loopback, and the bot's service configured like production; and, for the
//! figures taken with and without one, a long history (`history` and
//! `golive --history` both write it).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use flashsale_bot::app::{AppError, DraftInput, Front, NewItem, SessionView};
use flashsale_bot::chat::RecordingChat;
use flashsale_bot::config::Config;
use flashsale_bot::devstore::{self, DevStore, DevStoreConfig};
use flashsale_bot::domain::{Actor, ActorId, Roles};
use flashsale_bot::runtime::{self, Services};
use reqwest::Url;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

pub struct Bench {
    pub store: DevStore,
    /// The environment a bot process would get (also passed to child processes).
    pub env: Vec<(&'static str, String)>,
    pub services: Services,
    /// What a chat adapter gets of `services`: the desk and the queries.
    front: Front,
    /// What the bot said, for figures that time the channel.
    pub chat: Arc<RecordingChat>,
}

impl Bench {
    pub async fn start(label: &str) -> anyhow::Result<Bench> {
        let admin_url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
        let url = fresh_database(&admin_url, label).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let store = devstore::spawn(
            listener,
            DevStoreConfig {
                products: devstore::sample_catalog()?,
                webhook_secret: devstore::test_secret(),
                // The benches move jobs to "now": publish at the start.
                schedules_sales: false,
                state_file: None,
            },
        )
        .await?;
        let mut env = vec![
            ("DATABASE_URL", url),
            ("STOREFRONT_URL", store.url()),
            ("STOREFRONT_WEBHOOK_SECRET", devstore::test_secret()),
            ("APPROVAL_CUTOFF_MINUTES", "0".to_owned()),
            ("CATALOG_CACHE_TTL_SECS", "600".to_owned()),
            ("DAILY_DIGEST_CRON", "off".to_owned()),
            // BENCH_RUST_LOG: what the bot processes log (to stderr), e.g. for a profile.
            (
                "RUST_LOG",
                std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            ),
        ];
        // The pool size is the one setting worth comparing between runs.
        if let Ok(size) = std::env::var("DATABASE_MAX_CONNECTIONS") {
            env.push(("DATABASE_MAX_CONNECTIONS", size));
        }
        let lookup: HashMap<&str, String> = env.iter().cloned().collect();
        let config = Config::from_lookup(|k| lookup.get(k).cloned())?;
        let pool = runtime::connect_database(&config).await?;
        let chat = Arc::new(RecordingChat::new());
        let services = runtime::build_with_chat(config, pool, chat.clone()).await?;
        Ok(Bench {
            store,
            env,
            front: services.app.front(),
            services,
            chat,
        })
    }

    /// What a chat adapter gets: the desk and the queries.
    pub fn app(&self) -> &Front {
        &self.front
    }
}

pub fn editor(name: &str) -> Actor {
    Actor::new(ActorId::new("bench", name), name, Roles::EDITOR)
}

pub fn approver() -> Actor {
    Actor::new(
        ActorId::new("bench", "approver"),
        "approver",
        Roles::APPROVER,
    )
}

/// 30 % off, 10 units of `sku`.
pub fn item(app: &Front, sku: &str) -> Result<NewItem, AppError> {
    NewItem::from_options(sku, 30, 10, &app.policy)
}

pub const SKUS: [&str; 6] = ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"];

/// A one-hour draft in slot `slot` (back to back from the day after
/// tomorrow), holding the first `items` of `SKUS`.
pub async fn draft(
    app: &Front,
    who: &Actor,
    slot: i64,
    items: usize,
) -> anyhow::Result<SessionView> {
    let first: NaiveDate = (app.clock.now() + chrono::Duration::days(2)).date_naive();
    let start = first.and_hms_opt(0, 0, 0).context("midnight")? + chrono::Duration::hours(slot);
    let end = start + chrono::Duration::hours(1);
    let mut view = app
        .desk
        .create_draft(
            who,
            &DraftInput {
                title: format!("Bench {slot}"),
                start: start.format("%Y-%m-%d %H:%M").to_string(),
                end: end.format("%Y-%m-%d %H:%M").to_string(),
                notes: None,
            },
        )
        .await?;
    for sku in SKUS.iter().take(items) {
        view = app.desk.add_item(who, view.id, &item(app, sku)?).await?;
    }
    Ok(view)
}

/// A migrated database of its own on the server of `admin_url`; returns its URL.
pub(crate) async fn fresh_database(admin_url: &str, label: &str) -> anyhow::Result<String> {
    let name = format!("flashsale_bench_{label}_{}", std::process::id());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
    // The name is built from a fixed label and our pid: nothing user-typed.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name}"
    )))
    .execute(&admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&admin)
        .await?;
    let mut url = Url::parse(admin_url)?;
    url.set_path(&name);
    Ok(url.to_string())
}

/// A year and more of history: sessions that ended long ago, with the jobs
/// they ran and ten log entries each.
pub async fn fill_history(pool: &PgPool) -> anyhow::Result<()> {
    for statement in [
        "insert into session (title, starts_at, ends_at, status, created_by, created_by_name, updated_at) \
         select 'Past ' || g, now() - make_interval(days => 400) + make_interval(hours => g * 3), \
                now() - make_interval(days => 400) + make_interval(hours => g * 3 + 2), 'ended', \
                'bench', 'Bench', now() - interval '2 days' \
         from generate_series(1, 100000) g",
        "insert into job (session_id, kind, due_at, next_attempt_at, state, idempotency_key, claims, updated_at) \
         select s.id, k, s.starts_at, s.starts_at, 'done', gen_random_uuid(), 1, now() - interval '2 days' \
         from session s cross join (values ('publish'), ('end'), ('heads_up')) as v(k)",
        "insert into activity (session_id, actor_id, actor_name, action, details) \
         select s.id, 'bench', 'Bench', 'item_added', '{}'::jsonb from session s cross join generate_series(1, 10)",
        // Settled as a real history is: vacuumed and analysed, and written
        // out, so neither autovacuum nor a checkpoint runs during the
        // measurement that follows.
        "vacuum (analyze)",
        "checkpoint",
    ] {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}
