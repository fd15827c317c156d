//! The "one writer per sale" rows of `flashsale-bench faults` (issue 23,
//! cases 1-4): orderings in which the publish and end jobs, the reconciler
//! and people's commands used to write to the storefront from their own
//! reading of the state. Each row is staged as its example in
//! `tests/it/one_writer.rs`, on a fresh database and dev storefront, but run
//! by a real scheduler loop and reconcile loop with the production settings
//! (10 s lease, 2 s heartbeat, 1 s retry base, 500 ms lookahead, a reconcile
//! round every 2 s), and sampled every 10 ms: whether the storefront shows
//! the sale up, and the session's status.
//!
//! What each row reports is the time the storefront showed what the database
//! did not decide:
//!
//! - stop with a slow read-back (429 with `Retry-After: 5` on the GET after
//!   the DELETE, or the DELETE's answer held 3 s): the time from the stop
//!   until the storefront shows the sale down, and how long it was up again
//!   afterwards (target: down within 2 s, then never up again);
//! - revoke in the lookahead: the publish is claimed 500 ms ahead and the
//!   revoke lands while it waits for its start: how long the sale was up at
//!   all (target 0; at most the one call in flight, 500 ms);
//! - overdue window: the whole window passed with no scheduler running; the
//!   loops start after the end: how long anything was up (target <= 1 s,
//!   expected 0), the status (`failed`), one "could not go live" alert and no
//!   "now live";
//! - end-time race: a live sale reaches its planned end while the reconciler
//!   runs; the end's DELETE is applied and its answer held 3 s, so a
//!   reconcile round (every 2 s) lands while the database still says live:
//!   time up after the end (target <= 1 s) and false alarms (target 0).
//!
//! Every row also counts publishes applied after the decision (re-publishes),
//! false alarms (alerts saying the sale was "published again" or that
//! "publishing it again failed") and the outcome posts.
//!
//! Each row samples on after it settled for longer than a reconcile round
//! (3 s), so a reconciler that undid the outcome would be seen.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use flashsale_bot::chat::Channel;
use flashsale_bot::devstore::Faults;
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use serde_json::json;
use sqlx::PgPool;

use crate::setup::{approver, draft, editor, Bench};
use crate::Figure;

#[derive(Clone, Copy)]
enum Race {
    StopReadBack429,
    StopDeleteStalled,
    RevokeInLookahead,
    OverdueWindow,
    PlannedEnd,
}

impl Race {
    fn name(self) -> &'static str {
        match self {
            Race::StopReadBack429 => "stop, read-back 429 with Retry-After 5",
            Race::StopDeleteStalled => "stop, DELETE's answer held 3 s",
            Race::RevokeInLookahead => "revoke while the publish waits in its lookahead",
            Race::OverdueWindow => "overdue window: loops started 30 s after the end",
            Race::PlannedEnd => "planned end, DELETE's answer held 3 s, reconciler every 2 s",
        }
    }
}

const ALL: [Race; 5] = [
    Race::StopReadBack429,
    Race::StopDeleteStalled,
    Race::RevokeInLookahead,
    Race::OverdueWindow,
    Race::PlannedEnd,
];

/// Gives up on a row after this long.
const LIMIT: Duration = Duration::from_secs(60);

/// Sampling goes on this long after the outcome settled: longer than one
/// reconcile round, so a round that undid it would be seen.
const TAIL: Duration = Duration::from_secs(3);

struct Sample {
    at: Instant,
    up: bool,
    status: String,
}

/// What one row saw.
struct Seen {
    samples: Vec<Sample>,
    /// Publishes applied (non-replay PUTs answered 200) after the row's
    /// decision: the go-live of a live sale is not counted.
    republishes: usize,
    false_alarms: usize,
    /// The outcome posts the row expects (see `Race::value`).
    posts: usize,
    settled: bool,
    /// When the row's decision was made (the stop, the revoke), or the loops started.
    decided: Instant,
    /// When the window ended, on this process's clock (overdue, planned end).
    end_at: Option<Instant>,
    /// How long before the publish's start the revoke came.
    lead: Option<Duration>,
    /// The alerts the row expects (overdue: "could not go live").
    alerts: usize,
    /// How often the writer ran a repair the reconciler asked for: shows
    /// whether a round asked for one in the race (and its repair put nothing back).
    repairs: i64,
    /// Reconciler comparisons that finished in the gap (see `run`).
    gap_rounds: u64,
}

impl Seen {
    fn last_status(&self) -> &str {
        self.samples.last().map_or("", |s| s.status.as_str())
    }

    /// How long the storefront showed the sale up after `from`.
    fn up_after(&self, from: Instant) -> Duration {
        self.samples
            .windows(2)
            .filter(|w| w[1].up && w[1].at > from)
            .map(|w| w[1].at - w[0].at.max(from))
            .sum()
    }

    /// The first sample after `from` that shows the sale down.
    fn first_down_after(&self, from: Instant) -> Option<Instant> {
        self.samples
            .iter()
            .find(|s| s.at >= from && !s.up)
            .map(|s| s.at)
    }
}

pub async fn measure() -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for race in ALL {
        eprintln!("faults: {}...", race.name());
        // A database and storefront of its own, as for the other fault rows.
        let bench = Bench::start("races").await?;
        let figure = run(&bench, race)
            .await
            .with_context(|| format!("scenario {:?}", race.name()))?;
        figures.push(figure);
    }
    Ok(figures)
}

async fn run(bench: &Bench, race: Race) -> anyhow::Result<Figure> {
    let app = bench.app();
    let pool = &bench.services.pool;
    let view = draft(app, &editor("editor"), 0, 6).await?;
    let submitted = app.desk.submit(&editor("editor"), view.id).await?;
    let id = app
        .desk
        .approve(&approver(), view.id, submitted.version)
        .await?
        .id;
    let config = SchedulerConfig {
        worker_id: "bench-races".to_owned(),
        ..SchedulerConfig::default()
    };
    let storefront = bench.services.shop.sales.clone();
    let operations = bench.services.app.operations.clone();
    let scheduler = Scheduler::new(pool.clone(), operations, storefront, config);
    let live = matches!(
        race,
        Race::StopReadBack429 | Race::StopDeleteStalled | Race::PlannedEnd
    );
    if live {
        // Live before the loops start, as `GoLive::live` makes it.
        sqlx::query(
            "update job set next_attempt_at = now() where session_id = $1 and kind = 'publish'",
        )
        .bind(id)
        .execute(pool)
        .await?;
        scheduler.run_due_now().await?;
        anyhow::ensure!(
            status(pool, id).await? == "live",
            "the sale did not go live"
        );
    }
    // What happens before the loops start.
    let mut end_at = None;
    match race {
        Race::StopReadBack429 | Race::StopDeleteStalled | Race::RevokeInLookahead => {}
        Race::OverdueWindow => {
            // Every bot was down from before the start until after the end.
            end_at = Some(window_from_now(pool, id, -120.0, -30.0).await?);
        }
        Race::PlannedEnd => {
            end_at = Some(window_from_now(pool, id, -60.0, 2.0).await?);
            // The end's DELETE is applied at once; its answer comes 3 s later,
            // so at least one reconcile round starts while the database
            // still says live and the storefront says ended.
            bench.store.set_faults(Faults {
                stall_next: 1,
                stall_secs: 3,
                method: Some("DELETE".to_owned()),
                ..Faults::default()
            });
        }
    }
    // The go-live (if any) is not a re-publish; the chat's earlier posts are not this row's.
    let puts_before = applied(bench, id, "PUT");
    let posts_before = bench.chat.posts().len();
    let start_at = match race {
        // Claimed a lookahead (500 ms) before its start, as in production:
        // the loop sleeps until then and claims it.
        Race::RevokeInLookahead => Some(window_from_now(pool, id, 1.5, 3600.0).await?),
        _ => None,
    };

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(scheduler.clone().run(stopped.clone()));
    let reconciling = tokio::spawn(scheduler.clone().reconcile_loop(stopped));

    let mut decided = Instant::now();
    let mut lead = None;
    match race {
        Race::StopReadBack429 | Race::StopDeleteStalled => {
            // The loops have looked once and a reconcile round has begun.
            tokio::time::sleep(Duration::from_millis(500)).await;
            bench.store.set_faults(match race {
                // Two: whichever of the end's read-back and a reconcile
                // round's read comes first, the read-back is throttled.
                Race::StopReadBack429 => Faults {
                    fail_next: 2,
                    status: Some(429),
                    retry_after_secs: Some(5),
                    method: Some("GET".to_owned()),
                    ..Faults::default()
                },
                _ => Faults {
                    stall_next: 1,
                    stall_secs: 3,
                    method: Some("DELETE".to_owned()),
                    ..Faults::default()
                },
            });
            decided = Instant::now();
            app.desk
                .stop(&approver(), id, "bench: wrong prices")
                .await?;
        }
        Race::RevokeInLookahead => {
            let start_at = start_at.context("no start")?;
            // The loop claims the publish, enters the writer section, reads
            // the body and waits for the start: revoke then.
            loop {
                let state: String = sqlx::query_scalar(
                    "select state from job where session_id = $1 and kind = 'publish'",
                )
                .bind(id)
                .fetch_one(pool)
                .await?;
                if state == "running" {
                    break;
                }
                if Instant::now() >= start_at {
                    bail!("the publish was not claimed ahead of its start");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            decided = Instant::now();
            lead = Some(start_at.saturating_duration_since(decided));
            app.desk
                .revoke(&approver(), id, Some("bench: wrong SKU"))
                .await?;
        }
        Race::OverdueWindow | Race::PlannedEnd => {}
    }

    // Settled: the outcome each row expects, in the database and the
    // channel; then sampled on for `TAIL`, and never before a reconcile
    // round after the start (revoke) could have put something up.
    let not_before = start_at.map_or(decided, |s| s + Duration::from_secs(2));
    let (wanted, channel, settled_status): (&str, Channel, &[&str]) = match race {
        Race::StopReadBack429 | Race::StopDeleteStalled => {
            ("has ended early", Channel::Announcements, &["ended"])
        }
        // A revoked draft whose start passes expires: either is "not live".
        Race::RevokeInLookahead => ("", Channel::Announcements, &["draft", "expired"]),
        Race::OverdueWindow => ("could not go live", Channel::Approvals, &["failed"]),
        Race::PlannedEnd => ("has ended", Channel::Announcements, &["ended"]),
    };
    let mut samples = Vec::new();
    let mut settled_at: Option<Instant> = None;
    let started = Instant::now();
    let mut status_now = String::new();
    // Reconciler comparisons that finished while the storefront showed the
    // sale down and the database still said live: the rounds that landed in
    // the race this row stages.
    let mut gap_rounds = 0;
    let mut gap_count: Option<u64> = None;
    loop {
        let up = bench
            .store
            .sale(id)
            .is_some_and(|sale| sale["status"] != "ended");
        let read = sqlx::query_scalar("select status from session where id = $1")
            .bind(id)
            .fetch_one(pool);
        if let Ok(Ok(now)) = tokio::time::timeout(Duration::from_millis(50), read).await {
            status_now = now;
        }
        if !up && status_now == "live" {
            let now = reconciled_total();
            gap_rounds += gap_count.map_or(0, |before| now.saturating_sub(before));
            gap_count = Some(now);
        } else {
            gap_count = None;
        }
        let at = Instant::now();
        let settled = !up
            && settled_status.contains(&status_now.as_str())
            && at >= not_before
            && (wanted.is_empty() || posts(bench, posts_before, id, channel, &[wanted]) > 0);
        samples.push(Sample {
            at,
            up,
            status: status_now.clone(),
        });
        if settled {
            settled_at.get_or_insert(at);
        } else {
            settled_at = None;
        }
        if settled_at.is_some_and(|s| at - s >= TAIL) || started.elapsed() > LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    let _ = running.await;
    let _ = reconciling.await;

    let seen = Seen {
        samples,
        republishes: applied(bench, id, "PUT").saturating_sub(puts_before),
        false_alarms: posts(
            bench,
            posts_before,
            id,
            Channel::Approvals,
            &["published again", "publishing it again failed"],
        ),
        posts: match race {
            // A revoked session has no outcome post; "now live" must not come.
            Race::RevokeInLookahead | Race::OverdueWindow => posts(
                bench,
                posts_before,
                id,
                Channel::Announcements,
                &["is now live"],
            ),
            _ => posts(bench, posts_before, id, channel, &[wanted]),
        },
        settled: settled_at.is_some(),
        decided,
        end_at,
        lead,
        alerts: posts(bench, posts_before, id, channel, &[wanted]),
        repairs: sqlx::query_scalar(
            "select coalesce(sum(claims), 0)::int8 from job \
             where session_id = $1 and kind = 'repair'",
        )
        .bind(id)
        .fetch_one(pool)
        .await?,
        gap_rounds,
    };
    Ok(figure(race, &seen))
}

fn figure(race: Race, seen: &Seen) -> Figure {
    let Seen {
        decided,
        end_at,
        lead,
        alerts,
        repairs,
        gap_rounds,
        ..
    } = *seen;
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let status = seen.last_status().to_owned();
    let counts = format!(
        "{} re-publish · {} false alarm · {repairs} repair run · status {status}",
        seen.republishes, seen.false_alarms
    );
    let (value, target, met, data) = match race {
        Race::StopReadBack429 | Race::StopDeleteStalled => {
            let down = seen.first_down_after(decided).map(|at| at - decided);
            let again = down.map_or(Duration::ZERO, |d| seen.up_after(decided + d));
            (
                format!(
                    "down {} after the stop, up again {} · {gap_rounds} reconcile round in the gap · {counts} · {} \"ended early\"",
                    down.map_or("never".to_owned(), s),
                    s(again),
                    seen.posts
                ),
                "down <= 2 s after the stop, never up again, 0 false alarms, 1 post",
                down.is_some_and(|d| d <= Duration::from_secs(2))
                    && again.is_zero()
                    && seen.republishes == 0
                    && seen.false_alarms == 0
                    && seen.posts == 1
                    && seen.settled,
                json!({
                    "down_after_stop_s": down.map(|d| d.as_secs_f64()),
                    "up_again_s": again.as_secs_f64(),
                }),
            )
        }
        Race::RevokeInLookahead => {
            let up = seen.up_after(decided);
            (
                format!(
                    "up {} (revoked {} before the start) · {counts} · {} \"now live\"",
                    s(up),
                    lead.map_or("?".to_owned(), s),
                    seen.posts
                ),
                "up 0 s (at most the one call in flight, 0.5 s), no \"now live\"",
                up <= Duration::from_millis(500)
                    && seen.posts == 0
                    && seen.false_alarms == 0
                    && seen.settled,
                json!({
                    "up_s": up.as_secs_f64(),
                    "revoke_before_start_s": lead.map(|d| d.as_secs_f64()),
                }),
            )
        }
        Race::OverdueWindow | Race::PlannedEnd => {
            let from = end_at.unwrap_or(decided);
            let up = seen.up_after(from);
            let extra = if matches!(race, Race::OverdueWindow) {
                format!(
                    "{alerts} \"could not go live\" · {} \"now live\"",
                    seen.posts
                )
            } else {
                format!(
                    "{gap_rounds} reconcile round in the gap · {} \"has ended\"",
                    seen.posts
                )
            };
            let outcome = if matches!(race, Race::OverdueWindow) {
                status == "failed" && alerts == 1 && seen.posts == 0
            } else {
                status == "ended" && seen.posts == 1
            };
            (
                format!("up {} after the end · {counts} · {extra}", s(up)),
                if matches!(race, Race::OverdueWindow) {
                    "up <= 1 s after the end, failed, 1 alert, no \"now live\""
                } else {
                    "up <= 1 s after the end, 0 false alarms, 1 post"
                },
                up <= Duration::from_secs(1)
                    && seen.republishes == 0
                    && seen.false_alarms == 0
                    && outcome
                    && seen.settled,
                json!({ "up_after_end_s": up.as_secs_f64(), "alerts": alerts }),
            )
        }
    };
    let mut data = data;
    if let Some(map) = data.as_object_mut() {
        map.insert("fault".to_owned(), json!(race.name()));
        map.insert("republishes".to_owned(), json!(seen.republishes));
        map.insert("false_alarms".to_owned(), json!(seen.false_alarms));
        map.insert("posts".to_owned(), json!(seen.posts));
        map.insert("status".to_owned(), json!(status));
        map.insert("repair_runs".to_owned(), json!(repairs));
        map.insert("reconcile_rounds_in_gap".to_owned(), json!(gap_rounds));
        map.insert("settled".to_owned(), json!(seen.settled));
    }
    Figure {
        name: race.name(),
        value: if seen.settled {
            value
        } else {
            format!("{value} · did not settle in {} s", LIMIT.as_secs())
        },
        target,
        met: Some(met),
        json: data,
    }
}

/// Sessions compared by the reconciler in this process so far (all
/// findings), from the process's metrics.
fn reconciled_total() -> u64 {
    flashsale_bot::metrics::render()
        .lines()
        .filter(|l| l.starts_with("flashsale_reconcile_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Moves the session's window to start and end these many seconds from now
/// (by the database clock), its publish and end jobs due at them, as
/// `GoLive::window_from_now` in the tests; returns when (on this process's
/// clock) the moved edge the row cares about comes: the end, or for a
/// window in the future, the start.
async fn window_from_now(pool: &PgPool, id: i64, start: f64, end: f64) -> anyhow::Result<Instant> {
    let before = Instant::now();
    let (to_start, to_end): (f64, f64) = sqlx::query_as(
        "update session set starts_at = now() + make_interval(secs => $2), \
             ends_at = now() + make_interval(secs => $3) where id = $1 \
         returning extract(epoch from starts_at - now())::float8, \
             extract(epoch from ends_at - now())::float8",
    )
    .bind(id)
    .bind(start)
    .bind(end)
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "update job j set due_at = case j.kind when 'end' then s.ends_at else s.starts_at end, \
             next_attempt_at = case j.kind when 'end' then s.ends_at else s.starts_at end \
         from session s \
         where s.id = j.session_id and j.session_id = $1 and j.kind in ('publish', 'end')",
    )
    .bind(id)
    .execute(pool)
    .await?;
    // `now()` is the statement's start: counted from before it was sent.
    let edge = if to_start > 0.0 { to_start } else { to_end };
    Ok(offset(before, edge))
}

/// `base` moved by `secs`, which may be negative.
fn offset(base: Instant, secs: f64) -> Instant {
    let d = Duration::from_secs_f64(secs.abs());
    if secs >= 0.0 {
        base + d
    } else {
        base.checked_sub(d).unwrap_or(base)
    }
}

async fn status(pool: &PgPool, id: i64) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("select status from session where id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?,
    )
}

/// The storefront's writes with `method` for the session that were applied:
/// not replays, not refused.
fn applied(bench: &Bench, id: i64, method: &str) -> usize {
    let path = format!("/api/flash-sales/{id}");
    bench
        .store
        .calls()
        .iter()
        .filter(|c| c.method == method && c.path == path && !c.replay && c.status < 300)
        .count()
}

/// Posts since `from` to `channel` about session `id` that contain any of `wanted`.
fn posts(bench: &Bench, from: usize, id: i64, channel: Channel, wanted: &[&str]) -> usize {
    let tag = format!("#{id} ");
    bench.chat.posts()[from..]
        .iter()
        .filter(|p| p.channel == channel)
        .map(|p| p.message.text.render(|_, _| String::new()))
        .filter(|t| t.contains(&tag) && wanted.iter().any(|w| t.contains(w)))
        .count()
}
