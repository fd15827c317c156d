//! Go-live lateness: N approved sessions fall due within S seconds of each
//! other; W separate scheduler processes (this binary in `worker` mode) share
//! the database. Lateness = the publish request's arrival at the storefront
//! minus the job's due time. Also counts early, missed and double publishes.
//!
//! `golive-loaded` measures the same while E editors (default 50) run use
//! cases against the same database: in the first worker process, on the
//! pool its scheduler uses, as they would on the replica that holds the
//! Discord gateway. The load starts before the first job falls due and runs
//! until after the last; its latency is reported beside the lateness.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use flashsale_bot::chat::RecordingChat;
use flashsale_bot::config::Config;
use flashsale_bot::runtime;
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

use crate::setup::{approver, draft, editor, Bench};
use crate::usecases::{edit_loop, editor_sessions};
use crate::{option, quantile, Figure};

/// The sessions a worker's editors edit (`id,id,...`), when it carries the load.
const EDITOR_SESSIONS: &str = "BENCH_EDITOR_SESSIONS";
/// How long the editors edit, in seconds.
const EDITOR_SECS: &str = "BENCH_EDITOR_SECS";

/// A scheduler process, as a bot process runs it (scheduler and reconciler,
/// production settings): configured from the environment, runs until its
/// stdin closes. With `BENCH_EDITOR_SESSIONS` it also runs the editors' load
/// on the same pool and prints its latencies as one JSON line when done.
pub async fn worker() -> anyhow::Result<()> {
    // Logs to stderr: stdout carries the editors' figures.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let config = Config::from_env()?;
    let pool = runtime::connect_database(&config).await?;
    let services =
        runtime::build_with_chat(config, pool.clone(), Arc::new(RecordingChat::new())).await?;
    let storefront = services.shop.sales.clone();
    let app = services.app.front();
    let mut scheduler_config = SchedulerConfig::default();
    // For comparisons only: BENCH_LOOKAHEAD_MS=0 claims jobs when due, as before the lookahead.
    if let Some(ms) = std::env::var("BENCH_LOOKAHEAD_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        scheduler_config.lookahead = Duration::from_millis(ms);
    }
    let scheduler = Scheduler::new(pool, services.app.operations, storefront, scheduler_config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let reconciling = tokio::spawn(scheduler.clone().reconcile_loop(stopped.clone()));
    let running = tokio::spawn(scheduler.run(stopped));
    if let Ok(ids) = std::env::var(EDITOR_SESSIONS) {
        let secs: u64 = std::env::var(EDITOR_SECS)
            .ok()
            .and_then(|s| s.parse().ok())
            .context("BENCH_EDITOR_SECS must be a whole number")?;
        let sessions = ids
            .split(',')
            .enumerate()
            .map(|(i, id)| Ok((editor(&format!("actor{i}")), id.parse::<i64>()?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let actors = sessions.len();
        let started = Instant::now();
        let (latencies, errors) =
            edit_loop(&app, sessions, started + Duration::from_secs(secs)).await?;
        let report = json!({
            "actors": actors,
            "ops": latencies.len(),
            "errors": errors,
            "ops_per_sec": latencies.len() as f64 / started.elapsed().as_secs_f64(),
            "p50_ms": quantile(&latencies, 0.5),
            "p99_ms": quantile(&latencies, 0.99),
        });
        println!("{report}");
    }
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    let _ = stop.send(true);
    running.await?;
    reconciling.await?;
    Ok(())
}

/// Lateness on an otherwise idle database.
pub async fn measure(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    lateness(args, 0).await
}

/// Lateness while `--editors` (default 50) editors run use cases.
pub async fn measure_loaded(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    let editors = option(args, "--editors", 50)? as i64;
    lateness(args, editors).await
}

/// Before the first publish falls due: time for the processes to start and
/// the load to reach its pace.
const LEAD_SECS: u64 = 3;

/// With `--history` in `args`, the database first gets a long history
/// (`setup::fill_history`), to compare with an empty one.
pub(crate) async fn lateness(args: &[String], editors: i64) -> anyhow::Result<Vec<Figure>> {
    let sessions = option(args, "--sessions", 200)? as i64;
    let spread = option(args, "--spread-secs", 3)?;
    let workers = option(args, "--workers", 2)?;
    let bench = Bench::start(if editors > 0 {
        "golive_loaded"
    } else {
        "golive"
    })
    .await?;
    let pool = bench.services.pool.clone();
    if args.iter().any(|a| a == "--history") {
        eprintln!("go-live: writing a long history first...");
        crate::setup::fill_history(&pool).await?;
    }
    eprintln!("go-live: preparing {sessions} approved sessions...");
    let (alice, bob) = (editor("editor"), approver());
    let mut ids = Vec::new();
    for slot in 0..sessions {
        let view = draft(bench.app(), &alice, slot, 6).await?;
        let submitted = bench.app().desk.submit(&alice, view.id).await?;
        bench
            .app()
            .desk
            .approve(&bob, view.id, submitted.version)
            .await?;
        ids.push(view.id);
    }

    let load = if editors > 0 {
        eprintln!("go-live: preparing {editors} editors' sessions...");
        let ids: Vec<String> = editor_sessions(bench.app(), editors)
            .await?
            .into_iter()
            .map(|(_, id)| id.to_string())
            .collect();
        Some(ids.join(","))
    } else {
        None
    };

    // Due within `spread` seconds, starting LEAD_SECS from now by the database clock.
    let due: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "update job set next_attempt_at = now() + make_interval(secs => $3) \
             + make_interval(secs => $1::float8 * (session_id % $2) / $2) \
         where kind = 'publish' and session_id = any($4) returning session_id, next_attempt_at",
    )
    .bind(spread as f64)
    .bind(sessions)
    .bind(LEAD_SECS as f64)
    .bind(&ids)
    .fetch_all(&pool)
    .await?;
    let due: HashMap<i64, DateTime<Utc>> = due.into_iter().collect();

    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for n in 0..workers {
        let mut command = tokio::process::Command::new(&exe);
        command
            .arg("worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        for (k, v) in &bench.env {
            command.env(k, v);
        }
        if let (0, Some(ids)) = (n, &load) {
            // Editing from before the first due time until after the last.
            command
                .env(EDITOR_SESSIONS, ids)
                .env(EDITOR_SECS, (LEAD_SECS + spread + 3).to_string())
                .stdout(Stdio::piped());
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
    // The loaded worker says how its editors fared once their time is up.
    let mut edits = None;
    if let Some(stdout) = children.first_mut().and_then(|c| c.stdout.take()) {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(
            Duration::from_secs(LEAD_SECS + spread + 60),
            lines.next_line(),
        )
        .await;
        if let Ok(Ok(Some(line))) = line {
            edits = Some(serde_json::from_str::<Value>(&line)?);
        }
    }
    // Which process published what: `claimed_by` is "<pid>-<random>".
    let pids: Vec<Option<u32>> = children.iter().map(|c| c.id()).collect();
    for mut child in children {
        drop(child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    }
    let publisher: HashMap<i64, usize> = sqlx::query_as::<_, (i64, Option<String>)>(
        "select session_id, claimed_by from job where kind = 'publish' and session_id = any($1)",
    )
    .bind(&ids)
    .fetch_all(&pool)
    .await?
    .into_iter()
    .filter_map(|(id, by)| {
        let pid: u32 = by?.split('-').next()?.parse().ok()?;
        Some((id, pids.iter().position(|p| *p == Some(pid))?))
    })
    .collect();

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
    let loaded = editors > 0;
    // The same lateness split by the process that published: with editors,
    // the first carries them and the second shares only the machine.
    let by_process: Vec<Value> = (0..workers as usize)
        .map(|n| {
            let mut late: Vec<f64> = ids
                .iter()
                .filter(|id| publisher.get(id) == Some(&n))
                .filter_map(|id| {
                    Some(
                        (*first_arrival.get(id)? - *due.get(id)?).num_microseconds()? as f64
                            / 1000.0,
                    )
                })
                .collect();
            late.sort_by(f64::total_cmp);
            json!({ "process": n, "published": late.len(),
                    "p50_ms": quantile(&late, 0.5), "p99_ms": quantile(&late, 0.99),
                    "max_ms": late.last().copied().unwrap_or(f64::NAN) })
        })
        .collect();
    let mut figures = vec![
        Figure {
            name: if loaded {
                "go-live lateness with 50 editors p50 / p99 / max"
            } else {
                "go-live lateness p50 / p99 / max"
            },
            value: format!("{p50:.1} / {p99:.1} / {max:.1} ms ({sessions} sessions, {workers} scheduler processes{})",
                if loaded { format!(", {editors} editors on the first") } else { String::new() }),
            target: if loaded { "p99 <= 10 ms" } else { "p99 <= 50 ms" },
            met: Some(p99 <= if loaded { 10.0 } else { 50.0 }),
            json: json!({ "p50_ms": p50, "p99_ms": p99, "max_ms": max, "sessions": sessions,
                          "spread_secs": spread, "scheduler_processes": workers, "editors": editors }),
        },
        Figure {
            name: "go-live lateness by publishing process p50 / p99 / max",
            value: by_process
                .iter()
                .map(|p| {
                    format!(
                        "#{}: {:.1} / {:.1} / {:.1} ms ({} sessions)",
                        p["process"],
                        p["p50_ms"].as_f64().unwrap_or(f64::NAN),
                        p["p99_ms"].as_f64().unwrap_or(f64::NAN),
                        p["max_ms"].as_f64().unwrap_or(f64::NAN),
                        p["published"]
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            target: "(reported)",
            met: None,
            json: json!(by_process),
        },
        Figure {
            name: if loaded {
                "go-live with 50 editors early / missed / published twice"
            } else {
                "go-live early / missed / published twice"
            },
            value: format!("{early} / {missed} / {twice}"),
            target: "0 / 0 / 0",
            met: Some(early == 0 && missed == 0 && twice == 0),
            json: json!({ "early": early, "missed": missed, "published_twice": twice }),
        },
    ];
    if loaded {
        let edits = edits.context("the loaded worker reported no use-case figures")?;
        figures.push(Figure {
            name: "use cases during that go-live p50 / p99",
            value: format!(
                "{:.1} / {:.1} ms ({:.0} ops/s, {} errors)",
                edits["p50_ms"].as_f64().unwrap_or(f64::NAN),
                edits["p99_ms"].as_f64().unwrap_or(f64::NAN),
                edits["ops_per_sec"].as_f64().unwrap_or(f64::NAN),
                edits["errors"]
            ),
            target: "(reported)",
            met: None,
            json: edits,
        });
    }
    Ok(figures)
}
