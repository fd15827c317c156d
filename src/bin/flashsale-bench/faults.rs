//! Convergence under faults: for each fault, on a fresh database and dev
//! storefront, one approved session falls due
//! while the dev storefront misbehaves; a scheduler loop and the reconciler
//! (production settings: 10 s lease, 2 s heartbeat, 1 s retry base) do their
//! work. Sampled every 10 ms from the due time until the storefront, the
//! database and the channel agree:
//!
//! - divergence window: the time during which the storefront shows the sale
//!   up while the database says it is not live, or the other way round;
//! - time to post: from the due time (or the stop) to the channel post that
//!   reports the outcome;
//! - publishes applied (non-replay PUTs) and posts made, which must be 1 each.
//!
//! Two rows go beyond one in-process scheduler:
//!
//! - Postgres restart: the bench's own server (`PG_DIR`/`PG_PORT`, as
//!   `scripts/pg.sh` exports them) is stopped (`pg_ctl -m fast`) as the PUT
//!   arrives at the storefront and started again 2 s later; without those
//!   variables the row says it was not measured;
//! - leader killed with two replicas: two real `flashsale-bot console`
//!   processes (release build, next to this binary) share the database; the
//!   one that claimed the publish has its PUT held by the storefront and is
//!   killed (SIGKILL) once the sale is up, and the other must finish the job.
//!   Posts are read from both processes' output.
//!
//! The rows of the races between writers (a stop with a slow read-back, a
//! revoke in the lookahead, an overdue window, the end-time race) follow,
//! with their own figures and targets: see `races.rs`.
//!
//! "Worker killed mid-publish" is in process: while the surviving scheduler
//! runs, a claim stamped with a presence key, the PUT applied, then the
//! presence connection closed, as a kill closes a process's sockets.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use flashsale_bot::chat::Channel;
use flashsale_bot::devstore::Faults;
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use flashsale_bot::store::jobs;
use flashsale_bot::store::presence::Presence;
use flashsale_bot::storefront::SaleWrite;
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use crate::setup::{approver, draft, editor, Bench};
use crate::Figure;

/// What a scenario does before the scheduler starts.
#[derive(Clone, Copy)]
enum Fault {
    None,
    ServerErrors,
    RetryAfter5,
    Hang,
    ReadBack404,
    KilledMidPublish,
    EndRefused,
    PostgresRestart,
    LeaderKilled,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::None => "no fault",
            Fault::ServerErrors => "storefront 500 x3",
            Fault::RetryAfter5 => "429 with Retry-After 5",
            Fault::Hang => "hang past the 5 s timeout",
            Fault::ReadBack404 => "read-back 404 after the PUT",
            Fault::KilledMidPublish => "worker killed mid-publish",
            Fault::EndRefused => "early end refused (400 x2)",
            Fault::PostgresRestart => "Postgres restarted mid-publish",
            Fault::LeaderKilled => "leader killed mid-publish, two replicas",
        }
    }
}

const ALL: [Fault; 9] = [
    Fault::None,
    Fault::ServerErrors,
    Fault::RetryAfter5,
    Fault::Hang,
    Fault::ReadBack404,
    Fault::KilledMidPublish,
    Fault::EndRefused,
    Fault::PostgresRestart,
    Fault::LeaderKilled,
];

/// Gives up on a scenario after this long.
const LIMIT: Duration = Duration::from_secs(60);

struct Measured {
    divergence: Duration,
    to_post: Option<Duration>,
    publishes: usize,
    posts: usize,
}

pub async fn measure() -> anyhow::Result<Vec<Figure>> {
    let mut rows = Vec::new();
    for (slot, fault) in ALL.into_iter().enumerate() {
        eprintln!("faults: {}...", fault.name());
        // A database and a storefront of its own: an earlier scenario's sale
        // must not take this one's fault (the reconciler reads it back too).
        let bench = Bench::start("faults").await?;
        let measured = match fault {
            Fault::PostgresRestart if PgServer::from_env().is_none() => {
                eprintln!("faults: PG_DIR/PG_PORT not set (scripts/pg.sh); not measured");
                continue;
            }
            Fault::LeaderKilled => leader_killed(&bench).await,
            _ => scenario(&bench, slot as i64, fault).await,
        }
        .with_context(|| format!("scenario {:?}", fault.name()))?;
        rows.push((fault, measured));
    }
    let met =
        |m: &Measured| m.divergence <= Duration::from_secs(10) && m.publishes <= 1 && m.posts == 1;
    let mut figures: Vec<Figure> = rows
        .into_iter()
        .map(|(fault, m)| Figure {
            name: fault.name(),
            value: format!(
                "divergence {:.2} s · post after {} · {} publish / {} post",
                m.divergence.as_secs_f64(),
                m.to_post
                    .map_or("never".to_owned(), |d| format!("{:.2} s", d.as_secs_f64())),
                m.publishes,
                m.posts
            ),
            target: "divergence <= 10 s, one publish, one post",
            met: Some(met(&m)),
            json: json!({
                "fault": fault.name(),
                "divergence_s": m.divergence.as_secs_f64(),
                "to_post_s": m.to_post.map(|d| d.as_secs_f64()),
                "publishes": m.publishes,
                "posts": m.posts,
            }),
        })
        .collect();
    // The races between writers (issue 23, cases 1-4) have targets of their own.
    figures.extend(crate::races::measure().await?);
    Ok(figures)
}

async fn scenario(bench: &Bench, slot: i64, fault: Fault) -> anyhow::Result<Measured> {
    let app = bench.app();
    let pool = &bench.services.pool;
    let view = draft(app, &editor("editor"), slot, 6).await?;
    let submitted = app.desk.submit(&editor("editor"), view.id).await?;
    let view = app
        .desk
        .approve(&approver(), view.id, submitted.version)
        .await?;
    let id = view.id;
    let config = SchedulerConfig {
        worker_id: format!("bench-{slot}"),
        ..SchedulerConfig::default()
    };
    let storefront = bench.services.shop.sales.clone();
    let operations = bench.services.app.operations.clone();
    let scheduler = Scheduler::new(pool.clone(), operations, storefront.clone(), config);
    let publish_due =
        "update job set next_attempt_at = now() where session_id = $1 and kind = 'publish'";
    let mut store_faults = Faults::default();
    let mut watch_end = false;
    match fault {
        Fault::None => {}
        Fault::ServerErrors => {
            store_faults.fail_next = 3;
            store_faults.status = Some(500);
        }
        Fault::RetryAfter5 => {
            store_faults.fail_next = 1;
            store_faults.status = Some(429);
            store_faults.retry_after_secs = Some(5);
        }
        Fault::Hang => {
            store_faults.stall_next = 1;
            store_faults.stall_secs = 8;
        }
        Fault::ReadBack404 => {
            store_faults.fail_next = 1;
            store_faults.status = Some(404);
            store_faults.method = Some("GET".to_owned());
        }
        // Set up below, once the surviving scheduler runs.
        Fault::KilledMidPublish => {}
        Fault::PostgresRestart => {
            // The PUT is applied and its answer held back while the server goes down.
            store_faults.stall_next = 1;
            store_faults.stall_secs = 1;
            store_faults.method = Some("PUT".to_owned());
        }
        Fault::LeaderKilled => bail!("measured by leader_killed"),
        Fault::EndRefused => {
            sqlx::query(publish_due).bind(id).execute(pool).await?;
            scheduler.run_due_now().await?;
            app.desk.stop(&approver(), id, "bench: refused end").await?;
            store_faults.fail_next = 2;
            store_faults.status = Some(400);
            store_faults.method = Some("DELETE".to_owned());
            watch_end = true;
        }
    }
    let posts_before = bench.chat.posts().len();
    bench.store.set_faults(store_faults);
    let killed = matches!(fault, Fault::KilledMidPublish);
    if !killed {
        sqlx::query(publish_due).bind(id).execute(pool).await?;
    }
    let mut started = Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler.clone().run(stopped.clone()));
    let reconciling = tokio::spawn(scheduler.clone().reconcile_loop(stopped));
    if killed {
        // The surviving scheduler has looked once and sleeps (nothing is
        // due). Another worker claims the publish as a scheduler does
        // (production lease, its presence key), its PUT is applied, and it
        // dies: its connections close, as a killed process's do. The window
        // runs from the PUT.
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query(publish_due).bind(id).execute(pool).await?;
        let presence = Presence::hold(pool).await?;
        let lease = SchedulerConfig::default().lease;
        let claimed = jobs::claim_due_within(
            pool,
            "killed",
            Some(presence.key()),
            lease,
            1,
            Duration::ZERO,
        )
        .await?;
        let Some(job) = claimed.first() else {
            bail!("the publish job was not due, or the survivor took it first");
        };
        // As a scheduler does after it claims (`Scheduler::tell_others_of_claims`).
        flashsale_bot::store::queue::wake_schedulers(pool).await?;
        started = Instant::now();
        storefront
            .publish(&view.sale_request(), &{
                // Drawn for the claim before the call, as a scheduler does.
                let write = jobs::sale_write(pool, job.fence(), false)
                    .await?
                    .context("the claim lost the job")?;
                SaleWrite {
                    key: write.key.to_string(),
                    revision: write.revision,
                }
            })
            .await?;
        presence.release().await;
    }

    // Stopped as the PUT arrives (the storefront holds its answer back).
    let mut restart = match fault {
        Fault::PostgresRestart => Some(PgServer::from_env().context("PG_DIR/PG_PORT are not set")?),
        _ => None,
    };
    let mut restarting = None;

    let wanted = if watch_end {
        "has ended"
    } else {
        "is now live"
    };
    let mut divergence = Duration::ZERO;
    let mut to_post = None;
    let mut last = Instant::now();
    // While the server is down the database's answer is the last one read.
    let mut status = String::new();
    loop {
        let up = bench
            .store
            .sale(id)
            .is_some_and(|sale| sale["status"] != "ended");
        let read = sqlx::query_scalar("select status from session where id = $1")
            .bind(id)
            .fetch_one(pool);
        if let Ok(Ok(now)) = tokio::time::timeout(Duration::from_millis(50), read).await {
            status = now;
        }
        let live_here = status == "live";
        if up {
            if let Some(server) = restart.take() {
                restarting = Some(tokio::spawn(async move {
                    server.restart(Duration::from_secs(2)).await
                }));
            }
        }
        let now = Instant::now();
        if up != live_here {
            divergence += now - last;
        }
        last = now;
        let posted = posts_of(bench, posts_before, id, wanted);
        if posted > 0 && to_post.is_none() {
            to_post = Some(started.elapsed());
        }
        let settled = if watch_end {
            !up && status == "ended"
        } else {
            up && live_here
        };
        if (settled && to_post.is_some()) || started.elapsed() > LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A moment for anything that would go out twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(true);
    let _ = running.await;
    let _ = reconciling.await;
    if let Some(restarting) = restarting {
        restarting.await??;
    }
    let path = format!("/api/flash-sales/{id}");
    let publishes = bench
        .store
        .calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.path == path && c.status == 200 && !c.replay)
        .count();
    Ok(Measured {
        divergence,
        to_post,
        publishes: if watch_end { 0 } else { publishes },
        posts: posts_of(bench, posts_before, id, wanted),
    })
}

/// The bench's own Postgres server, as `scripts/pg.sh` started it.
#[derive(Clone)]
struct PgServer {
    dir: String,
    port: String,
}

impl PgServer {
    fn from_env() -> Option<PgServer> {
        let dir = std::env::var("PG_DIR").ok()?;
        let port = std::env::var("PG_PORT").ok()?;
        std::path::Path::new("scripts/pg.sh")
            .exists()
            .then_some(PgServer { dir, port })
    }

    /// Stops the server (fast shutdown: sessions are cut), waits `down`,
    /// starts it again on the same port.
    async fn restart(&self, down: Duration) -> anyhow::Result<()> {
        self.pg("pg_stop \"$PG_DIR\"").await?;
        eprintln!("faults: Postgres stopped");
        tokio::time::sleep(down).await;
        self.pg("pg_start \"$PG_DIR\" \"$PG_PORT\"").await?;
        eprintln!("faults: Postgres started");
        Ok(())
    }

    async fn pg(&self, call: &str) -> anyhow::Result<()> {
        let status = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(format!("source scripts/pg.sh && {call}"))
            .env("PG_DIR", &self.dir)
            .env("PG_PORT", &self.port)
            .stdout(Stdio::null())
            .status()
            .await?;
        anyhow::ensure!(status.success(), "`{call}` failed: {status}");
        Ok(())
    }
}

/// Two real bot processes share the database; the one that claimed the
/// publish is killed (SIGKILL) once its PUT is applied and while the
/// storefront holds the answer back; the other must take the job over.
async fn leader_killed(bench: &Bench) -> anyhow::Result<Measured> {
    let exe = crate::process::bot_exe()?;
    let app = bench.app();
    let pool = &bench.services.pool;
    let view = draft(app, &editor("editor"), 0, 6).await?;
    let submitted = app.desk.submit(&editor("editor"), view.id).await?;
    let id = app
        .desk
        .approve(&approver(), view.id, submitted.version)
        .await?
        .id;

    let lines = Arc::new(Mutex::new(Vec::<(usize, Instant, String)>::new()));
    let mut replicas = Vec::new();
    for n in 0..2 {
        let mut command = tokio::process::Command::new(&exe);
        command
            .arg("console")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env("HTTP_ADDR", "127.0.0.1:0")
            .kill_on_drop(true);
        for (k, v) in &bench.env {
            command.env(k, v);
        }
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, ready) = tokio::sync::oneshot::channel();
        let lines = lines.clone();
        tokio::spawn(async move {
            let mut out = tokio::io::BufReader::new(stdout).lines();
            let mut tx = Some(tx);
            while let Ok(Some(line)) = out.next_line().await {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
                if let Ok(mut lines) = lines.lock() {
                    lines.push((n, Instant::now(), line));
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .context("a replica did not start")??;
        replicas.push(child);
    }

    // The PUT is applied at once; its answer is held for longer than the test.
    bench.store.set_faults(Faults {
        stall_next: 1,
        stall_secs: 60,
        method: Some("PUT".to_owned()),
        ..Faults::default()
    });
    sqlx::query(
        "update job set next_attempt_at = now() where session_id = $1 and kind = 'publish'",
    )
    .bind(id)
    .execute(pool)
    .await?;
    let started = Instant::now();
    let mut divergence = Duration::ZERO;
    let mut last = Instant::now();
    let mut killed = false;
    let mut to_post = None;
    let tag = format!("#{id} ");
    let now_live = |lines: &Mutex<Vec<(usize, Instant, String)>>| -> Vec<Instant> {
        lines.lock().map_or_else(
            |_| Vec::new(),
            |lines| {
                lines
                    .iter()
                    .filter(|(_, _, l)| l.contains(&tag) && l.contains("is now live"))
                    .map(|(_, at, _)| *at)
                    .collect()
            },
        )
    };
    loop {
        let up = bench
            .store
            .sale(id)
            .is_some_and(|sale| sale["status"] != "ended");
        let (status, claimed_by): (String, Option<String>) = sqlx::query_as(
            "select s.status, j.claimed_by from session s \
             join job j on j.session_id = s.id and j.kind = 'publish' where s.id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await?;
        let now = Instant::now();
        if up != (status == "live") {
            divergence += now - last;
        }
        last = now;
        if up && !killed {
            // `claimed_by` is "<pid>-<random>": kill the process that holds the job.
            let pid = claimed_by
                .as_deref()
                .and_then(|w| w.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
                .context("the publish job names no worker")?;
            let holder = replicas
                .iter_mut()
                .find(|c| c.id() == Some(pid))
                .context("no replica holds the publish job")?;
            holder.start_kill()?;
            holder.wait().await?;
            killed = true;
            eprintln!("faults: killed replica {pid} mid-publish");
        }
        if let Some(first) = now_live(&lines).first() {
            to_post.get_or_insert(*first - started);
        }
        if (status == "live" && up && to_post.is_some()) || started.elapsed() > LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A moment for anything that would go out twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for mut replica in replicas {
        drop(replica.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(10), replica.wait()).await;
    }
    let path = format!("/api/flash-sales/{id}");
    let publishes = bench
        .store
        .calls()
        .iter()
        .filter(|c| c.method == "PUT" && c.path == path && !c.replay)
        .count();
    Ok(Measured {
        divergence,
        to_post,
        publishes,
        posts: now_live(&lines).len(),
    })
}

/// Posts since `from` to the announcements about session `id` saying `wanted`.
fn posts_of(bench: &Bench, from: usize, id: i64, wanted: &str) -> usize {
    let tag = format!("#{id} ");
    bench.chat.posts()[from..]
        .iter()
        .filter(|p| p.channel == Channel::Announcements)
        .map(|p| p.message.text.render(|_, _| String::new()))
        .filter(|t| t.starts_with(&tag) && t.contains(wanted))
        .count()
}
