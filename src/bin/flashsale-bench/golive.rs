//! Go-live lateness: N approved sessions fall due within S seconds of each
//! other; W separate scheduler processes (this binary in `worker` mode) share
//! the database. Lateness = the publish request's arrival at the storefront
//! minus the job's due time. Also counts early, missed and double publishes.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use flashsale_bot::chat::RecordingChat;
use flashsale_bot::config::Config;
use flashsale_bot::runtime;
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use serde_json::json;

use crate::setup::{approver, draft, editor, Bench};
use crate::{option, quantile, Figure};

/// A scheduler process: configured from the environment, runs until its stdin closes.
pub async fn worker() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let pool = runtime::connect_database(&config).await?;
    let storefront = runtime::storefront(&config)?;
    let services = runtime::build_with_chat(config, pool.clone(), Arc::new(RecordingChat::new()))?;
    let scheduler = Scheduler::new(pool, services.app, storefront, SchedulerConfig::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler.run(stopped));
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    let _ = stop.send(true);
    running.await?;
    Ok(())
}

pub async fn measure(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    let sessions = option(args, "--sessions", 200)? as i64;
    let spread = option(args, "--spread-secs", 3)?;
    let workers = option(args, "--workers", 2)?;
    let bench = Bench::start("golive").await?;
    let pool = bench.services.pool.clone();
    eprintln!("go-live: preparing {sessions} approved sessions...");
    let (alice, bob) = (editor("editor"), approver());
    let mut ids = Vec::new();
    for slot in 0..sessions {
        let view = draft(bench.app(), &alice, slot, 6).await?;
        let submitted = bench.app().submit(&alice, view.id).await?;
        bench
            .app()
            .approve(&bob, view.id, submitted.version)
            .await?;
        ids.push(view.id);
    }

    // Due within `spread` seconds, starting 3 s from now by the database clock.
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
        for (k, v) in &bench.env {
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
    for call in bench
        .store
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
    let mut lateness: Vec<f64> = ids
        .iter()
        .filter_map(|id| {
            Some((*first_arrival.get(id)? - *due.get(id)?).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    lateness.sort_by(f64::total_cmp);
    if lateness.is_empty() {
        bail!("no session was published");
    }
    let missed = ids.len() - lateness.len();
    let twice = applied.values().filter(|n| **n > 1).count();
    let early = lateness.iter().filter(|l| **l < 0.0).count();
    let (p50, p99, max) = (
        quantile(&lateness, 0.5),
        quantile(&lateness, 0.99),
        lateness[lateness.len() - 1],
    );
    Ok(vec![
        Figure {
            name: "go-live lateness p50 / p99 / max",
            value: format!("{p50:.1} / {p99:.1} / {max:.1} ms ({sessions} sessions, {workers} scheduler processes)"),
            target: "p99 <= 50 ms",
            met: Some(p99 <= 50.0),
            json: json!({ "p50_ms": p50, "p99_ms": p99, "max_ms": max, "sessions": sessions,
                          "spread_secs": spread, "scheduler_processes": workers }),
        },
        Figure {
            name: "go-live early / missed / published twice",
            value: format!("{early} / {missed} / {twice}"),
            target: "0 / 0 / 0",
            met: Some(early == 0 && missed == 0 && twice == 0),
            json: json!({ "early": early, "missed": missed, "published_twice": twice }),
        },
    ])
}
