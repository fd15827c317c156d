//! `flashsale-bench`: measures what "on time" means for flash-sale go-live.
//!
//!   flashsale-bench golive [--sessions N] [--spread-secs S] [--workers W]
//!
//! Needs `DATABASE_URL` (a server where it may create a throwaway database;
//! `scripts/bench.sh` starts one). It starts the dev storefront on loopback,
//! approves N back-to-back sessions, makes their publish jobs due within S
//! seconds of each other, starts W separate scheduler *processes* (this same
//! binary, `worker` mode) on the one database, and reports go-live lateness:
//! the publish request's arrival at the storefront minus the job's due time.
//! It also checks that every session was published exactly once.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use flashsale_bot::app::{DraftInput, FlashSales, ItemInput};
use flashsale_bot::chat::RecordingChat;
use flashsale_bot::config::Config;
use flashsale_bot::devstore::{self, DevStoreConfig};
use flashsale_bot::domain::{Actor, ActorId, Roles};
use flashsale_bot::runtime;
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use reqwest::Url;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

const SKUS: [&str; 6] = ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("golive") => golive(&args[1..]).await,
        Some("worker") => worker().await,
        _ => {
            eprintln!(
                "usage: flashsale-bench golive [--sessions N] [--spread-secs S] [--workers W]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = outcome {
        eprintln!("flashsale-bench: {e:#}");
        std::process::exit(1);
    }
}

fn option(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} needs a whole number")),
    }
}

/// A scheduler process: configured from the environment, runs until killed.
async fn worker() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let pool = runtime::connect_database(&config).await?;
    let storefront = runtime::storefront(&config)?;
    let services = runtime::build_with_chat(config, pool.clone(), Arc::new(RecordingChat::new()))?;
    let scheduler = Scheduler::new(pool, services.app, storefront, SchedulerConfig::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler.run(stopped));
    // The parent closes our stdin to ask us to stop.
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    let _ = stop.send(true);
    running.await?;
    Ok(())
}

async fn golive(args: &[String]) -> anyhow::Result<()> {
    let sessions = option(args, "--sessions", 200)? as i64;
    let spread = option(args, "--spread-secs", 3)?;
    let workers = option(args, "--workers", 2)?;
    let admin_url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    let (url, pool) = fresh_database(&admin_url).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let store = devstore::spawn(
        listener,
        DevStoreConfig {
            products: devstore::sample_catalog()?,
            webhook_secret: devstore::test_secret(),
        },
    )
    .await?;
    let env = [
        ("DATABASE_URL", url.clone()),
        ("STOREFRONT_URL", store.url()),
        ("STOREFRONT_WEBHOOK_SECRET", devstore::test_secret()),
        ("APPROVAL_CUTOFF_MINUTES", "0".to_owned()),
        ("LOG_FORMAT", "text".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let lookup: HashMap<&str, String> = env.iter().cloned().collect();
    let config = Config::from_lookup(|k| lookup.get(k).cloned())?;
    let services = runtime::build_with_chat(config, pool.clone(), Arc::new(RecordingChat::new()))?;
    eprintln!("preparing {sessions} approved sessions...");
    let ids = approve_sessions(&services.app, sessions).await?;

    // Due times spread over `spread` seconds, starting 3 s from now by the database clock.
    let due: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "update job set next_attempt_at = now() + interval '3 seconds' \
             + make_interval(secs => $1::float8 * (session_id % $2) / $2) \
         where kind = 'publish' returning session_id, next_attempt_at",
    )
    .bind(spread as f64)
    .bind(sessions)
    .fetch_all(&pool)
    .await?;
    let due: HashMap<i64, DateTime<Utc>> = due.into_iter().collect();

    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for _ in 0..workers {
        let mut command = tokio::process::Command::new(&exe);
        command
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &env {
            command.env(k, v);
        }
        children.push(
            command
                .spawn()
                .context("could not start a worker process")?,
        );
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(spread + 60);
    loop {
        let live: i64 = sqlx::query_scalar("select count(*) from session where status = 'live'")
            .fetch_one(&pool)
            .await?;
        if live >= sessions || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for mut child in children {
        drop(child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    }

    let mut first_arrival: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut applied: HashMap<i64, usize> = HashMap::new();
    for call in store
        .calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.status == 200)
    {
        let Some(id) = call
            .path
            .rsplit('/')
            .next()
            .and_then(|s| s.parse::<i64>().ok())
        else {
            continue;
        };
        if !call.replay {
            *applied.entry(id).or_default() += 1;
        }
        first_arrival.entry(id).or_insert(call.at);
    }
    let mut lateness_ms: Vec<f64> = ids
        .iter()
        .filter_map(|id| {
            Some((*first_arrival.get(id)? - *due.get(id)?).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    lateness_ms.sort_by(f64::total_cmp);
    let missed = ids.len() - lateness_ms.len();
    let duplicated = applied.values().filter(|n| **n > 1).count();
    let early = lateness_ms.iter().filter(|l| **l < 0.0).count();
    if lateness_ms.is_empty() {
        bail!("no session was published");
    }
    let pct = |p: f64| {
        lateness_ms
            [((lateness_ms.len() as f64 * p).ceil() as usize).clamp(1, lateness_ms.len()) - 1]
    };
    let report = serde_json::json!({
        "figure": "go-live lateness",
        "date": Utc::now().to_rfc3339(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "commit": std::env::var("FLASHSALE_COMMIT").unwrap_or_else(|_| "unknown".to_owned()),
        "sessions": sessions,
        "spread_secs": spread,
        "scheduler_processes": workers,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": lateness_ms[lateness_ms.len() - 1],
        "early": early,
        "missed": missed,
        "published_twice": duplicated,
        "target": "p99 <= 50 ms, no duplicate, no miss",
    });
    println!("| figure | value |\n|---|---|");
    println!("| sessions / scheduler processes | {sessions} / {workers} |");
    println!("| go-live lateness p50 | {:.1} ms |", pct(0.50));
    println!("| go-live lateness p99 | {:.1} ms |", pct(0.99));
    println!(
        "| go-live lateness max | {:.1} ms |",
        lateness_ms[lateness_ms.len() - 1]
    );
    println!("| published early / missed / twice | {early} / {missed} / {duplicated} |");
    let met = pct(0.99) <= 50.0 && missed == 0 && duplicated == 0 && early == 0;
    println!(
        "| target p99 <= 50 ms, no duplicate, no miss | {} |",
        if met { "met" } else { "MISSED" }
    );
    std::fs::create_dir_all("target/bench")?;
    std::fs::write(
        "target/bench/golive.json",
        serde_json::to_string_pretty(&report)?,
    )?;
    eprintln!("written target/bench/golive.json");
    store.shutdown().await;
    Ok(())
}

/// A throwaway database on the server of `admin_url`, migrated.
async fn fresh_database(admin_url: &str) -> anyhow::Result<(String, PgPool)> {
    let name = format!("flashsale_bench_{}", std::process::id());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
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
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect(url.as_str())
        .await?;
    flashsale_bot::store::migrate(&pool).await?;
    Ok((url.to_string(), pool))
}

/// Back-to-back one-hour sessions from the day after tomorrow, each with six
/// items, submitted by one person and approved by another.
async fn approve_sessions(app: &FlashSales, n: i64) -> anyhow::Result<Vec<i64>> {
    let editor = Actor::new(ActorId::new("bench", "editor"), "editor", Roles::EDITOR);
    let approver = Actor::new(
        ActorId::new("bench", "approver"),
        "approver",
        Roles::APPROVER,
    );
    let first: NaiveDate = (Utc::now() + chrono::Duration::days(2)).date_naive();
    let mut ids = Vec::new();
    for i in 0..n {
        let start = first.and_hms_opt(0, 0, 0).context("midnight")? + chrono::Duration::hours(i);
        let end = start + chrono::Duration::hours(1);
        let draft = app
            .create_draft(
                &editor,
                &DraftInput {
                    title: format!("Bench {i}"),
                    start: start.format("%Y-%m-%d %H:%M").to_string(),
                    end: end.format("%Y-%m-%d %H:%M").to_string(),
                    notes: None,
                },
            )
            .await?;
        for sku in SKUS {
            let item = ItemInput {
                sku: sku.to_owned(),
                discount: "30".to_owned(),
                quantity: "10".to_owned(),
            };
            app.add_item(&editor, draft.id, &item).await?;
        }
        let submitted = app.submit(&editor, draft.id).await?;
        app.approve(&approver, draft.id, submitted.version).await?;
        ids.push(draft.id);
    }
    Ok(ids)
}
