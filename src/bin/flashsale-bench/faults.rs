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

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use flashsale_bot::chat::Channel;
use flashsale_bot::devstore::Faults;
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use flashsale_bot::store::jobs;
use serde_json::json;

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
        }
    }
}

const ALL: [Fault; 7] = [
    Fault::None,
    Fault::ServerErrors,
    Fault::RetryAfter5,
    Fault::Hang,
    Fault::ReadBack404,
    Fault::KilledMidPublish,
    Fault::EndRefused,
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
        let measured = scenario(&bench, slot as i64, fault)
            .await
            .with_context(|| format!("scenario {:?}", fault.name()))?;
        rows.push((fault, measured));
    }
    let met =
        |m: &Measured| m.divergence <= Duration::from_secs(10) && m.publishes <= 1 && m.posts == 1;
    Ok(rows
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
        .collect())
}

async fn scenario(bench: &Bench, slot: i64, fault: Fault) -> anyhow::Result<Measured> {
    let app = bench.app();
    let pool = &bench.services.pool;
    let view = draft(app, &editor("editor"), slot, 6).await?;
    let submitted = app.submit(&editor("editor"), view.id).await?;
    let view = app.approve(&approver(), view.id, submitted.version).await?;
    let id = view.id;
    let config = SchedulerConfig {
        worker_id: format!("bench-{slot}"),
        ..SchedulerConfig::default()
    };
    let storefront = flashsale_bot::runtime::storefront(&bench.services.config)?;
    let scheduler = Scheduler::new(pool.clone(), app.clone(), storefront.clone(), config);
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
        Fault::KilledMidPublish => {
            // A worker claims the job, sends the PUT (it is applied), and dies.
            sqlx::query(publish_due).bind(id).execute(pool).await?;
            let claimed = jobs::claim_due(pool, "killed", Duration::from_secs(10), 1).await?;
            let Some(job) = claimed.first() else {
                bail!("the publish job was not due");
            };
            storefront
                .publish(&view.sale_request(), &job.idempotency_key.to_string())
                .await?;
        }
        Fault::EndRefused => {
            sqlx::query(publish_due).bind(id).execute(pool).await?;
            scheduler.run_due_now().await?;
            app.stop(&approver(), id, "bench: refused end").await?;
            store_faults.fail_next = 2;
            store_faults.status = Some(400);
            store_faults.method = Some("DELETE".to_owned());
            watch_end = true;
        }
    }
    let posts_before = bench.chat.posts().len();
    bench.store.set_faults(store_faults);
    sqlx::query(publish_due).bind(id).execute(pool).await?;
    let started = Instant::now();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler.clone().run(stopped.clone()));
    let reconciling = tokio::spawn(scheduler.clone().reconcile_loop(stopped));

    let wanted = if watch_end {
        "has ended"
    } else {
        "is now live"
    };
    let mut divergence = Duration::ZERO;
    let mut to_post = None;
    let mut last = Instant::now();
    loop {
        let up = bench
            .store
            .sale(id)
            .is_some_and(|sale| sale["status"] != "ended");
        let status: String = sqlx::query_scalar("select status from session where id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
        let live_here = status == "live";
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
