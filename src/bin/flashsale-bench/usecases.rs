//! Use-case throughput and latency under 50 concurrent actors, and the
//! six-slot race.

use std::time::{Duration, Instant};

use flashsale_bot::app::{AppError, Front, ItemEdit};
use flashsale_bot::domain::Actor;
use flashsale_bot::domain::RuleViolation;
use serde_json::json;

use crate::setup::{draft, editor, item, Bench, SKUS};
use crate::{option, quantile, Figure};

const ACTORS: i64 = 50;

pub async fn measure(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    let secs = option(args, "--secs", 10)?;
    let bench = Bench::start("usecases").await?;
    let mut figures = throughput(&bench, secs).await?;
    figures.push(race(&bench).await?);
    figures.push(peak_memory());
    Ok(figures)
}

/// 50 actors, each on its own session holding three items, loop
/// add_item -> update_item -> get -> remove_item (which leaves the session
/// as it was) for `secs` seconds. The catalog cache is warmed first.
pub(crate) async fn throughput(bench: &Bench, secs: u64) -> anyhow::Result<Vec<Figure>> {
    eprintln!("use cases: {ACTORS} actors for {secs} s...");
    let sessions = editor_sessions(bench.app(), ACTORS).await?;
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let (latencies, errors) = edit_loop(bench.app(), sessions, until).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let ops = latencies.len() as f64 / elapsed;
    let (p50, p99) = (quantile(&latencies, 0.5), quantile(&latencies, 0.99));
    Ok(vec![
        Figure {
            name: "use-case throughput",
            value: format!(
                "{ops:.0} ops/s ({} ops, {errors} errors, {ACTORS} actors, {secs} s)",
                latencies.len()
            ),
            target: ">= 1,000 ops/s on 2 cores",
            met: Some(ops >= 1000.0 && errors == 0),
            json: json!({ "ops_per_sec": ops, "ops": latencies.len(), "errors": errors, "actors": ACTORS, "secs": secs }),
        },
        Figure {
            name: "use-case latency p50 / p99",
            value: format!("{p50:.1} / {p99:.1} ms"),
            target: "p99 < 20 ms",
            met: Some(p99 < 20.0),
            json: json!({ "p50_ms": p50, "p99_ms": p99 }),
        },
    ])
}

/// Each `(editor, session)` loops add_item -> update_item -> get ->
/// remove_item (which leaves the session as it was) on its own task until
/// `until`. Returns every operation's latency in ms and the errors.
pub async fn edit_loop(
    app: &Front,
    sessions: Vec<(Actor, i64)>,
    until: Instant,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut tasks = Vec::new();
    for (who, id) in sessions {
        let app = app.clone();
        let fourth = item(&app, SKUS[3])?;
        let change = ItemEdit::from_options(SKUS[3], Some(45), None, &app.policy)?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < until {
                let t = Instant::now();
                errors += usize::from(app.desk.add_item(&who, id, &fourth).await.is_err());
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                errors += usize::from(app.desk.update_item(&who, id, &change).await.is_err());
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                errors += usize::from(app.queries.get(id).await.is_err());
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                errors += usize::from(app.desk.remove_item(&who, id, SKUS[3]).await.is_err());
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_by(f64::total_cmp);
    Ok((latencies, errors))
}

/// The editors of the load and their sessions: each a draft of its own
/// holding three items, in slots from 1000. The catalog cache is warmed for
/// the SKU the loop adds.
pub async fn editor_sessions(app: &Front, count: i64) -> anyhow::Result<Vec<(Actor, i64)>> {
    let mut sessions = Vec::new();
    for i in 0..count {
        let who = editor(&format!("actor{i}"));
        let view = draft(app, &who, 1000 + i, 3).await?;
        sessions.push((who, view.id));
    }
    if let Some((who, id)) = sessions.first() {
        app.desk.add_item(who, *id, &item(app, SKUS[3])?).await?;
        app.desk.remove_item(who, *id, SKUS[3]).await?;
    }
    Ok(sessions)
}

/// Rounds of 40 sessions with five items each and five editors per session
/// adding a different sixth SKU at once: 200 concurrent add_item per round.
async fn race(bench: &Bench) -> anyhow::Result<Figure> {
    const ROUNDS: i64 = 5;
    const SESSIONS: i64 = 40;
    const RACERS: usize = 5;
    eprintln!(
        "six-slot race: {ROUNDS} rounds of {} concurrent adds...",
        SESSIONS as usize * RACERS
    );
    let owner = editor("owner");
    let mut bad_sessions = 0;
    let mut wrong_refusals = 0;
    for round in 0..ROUNDS {
        let mut ids = Vec::new();
        for s in 0..SESSIONS {
            ids.push(
                draft(bench.app(), &owner, 2000 + round * SESSIONS + s, 5)
                    .await?
                    .id,
            );
        }
        let mut tasks = Vec::new();
        for id in &ids {
            for r in 0..RACERS {
                let (app, id) = (bench.app().clone(), *id);
                let who = editor(&format!("racer{r}"));
                let sku = ["FS-006", "FS-007", "FS-008", "FS-009", "FS-010"][r];
                let sixth = item(&app, sku)?;
                tasks.push(tokio::spawn(async move {
                    (id, app.desk.add_item(&who, id, &sixth).await)
                }));
            }
        }
        let mut winners = std::collections::HashMap::<i64, usize>::new();
        for task in tasks {
            let (id, result) = task.await?;
            match result {
                Ok(_) => *winners.entry(id).or_default() += 1,
                Err(AppError::Rule(RuleViolation::SessionFull { .. })) => {}
                Err(_) => wrong_refusals += 1,
            }
        }
        for id in &ids {
            let items = bench.app().queries.get(*id).await?.items.len();
            if winners.get(id).copied().unwrap_or(0) != 1 || items != 6 {
                bad_sessions += 1;
            }
        }
    }
    let ok = bad_sessions == 0 && wrong_refusals == 0;
    Ok(Figure {
        name: "six-slot race",
        value: format!(
            "{ROUNDS} rounds x {} concurrent add_item: {} sessions without exactly one winner, {wrong_refusals} unexpected errors",
            SESSIONS as usize * RACERS,
            bad_sessions
        ),
        target: "exactly one winner each, every time",
        met: Some(ok),
        json: json!({ "rounds": ROUNDS, "sessions_per_round": SESSIONS, "racers": RACERS,
                      "bad_sessions": bad_sessions, "unexpected_errors": wrong_refusals }),
    })
}

/// Peak resident memory of this process so far (it holds the app and the dev storefront).
fn peak_memory() -> Figure {
    let peak = crate::process::rss_kib(std::process::id(), "VmHWM:");
    Figure {
        name: "memory: peak RSS during the use-case run",
        value: peak.map_or("unknown".to_owned(), |k| {
            format!(
                "{:.1} MB (bench process: app + dev storefront)",
                k as f64 / 1024.0
            )
        }),
        target: "(reported)",
        met: None,
        json: json!({ "peak_rss_kib": peak }),
    }
}
