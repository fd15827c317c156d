//! A long history must not slow what runs every 2 s on every replica, nor
//! what people and the go-live wait for: the reconciler's candidate scan,
//! use-case latency and go-live lateness, each on an empty database and
//! again with 100,000 ended sessions, their 300,000 finished jobs and
//! 1,000,000 log rows (the issue "One writer per sale", Scale).

use std::time::{Duration, Instant};

use flashsale_bot::store::reconcile;
use sqlx::PgPool;

use crate::setup::{fill_history, Bench};
use crate::{quantile, Figure};

/// Rounds timed per database state.
const ROUNDS: usize = 300;

/// Seconds of use cases per database state.
const USE_CASE_SECS: u64 = 5;
/// Sessions published per go-live run.
const GO_LIVE_SESSIONS: &str = "100";

pub async fn measure() -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start("history").await?;
    let pool = &bench.services.pool;
    let empty = scan_ms(pool).await?;
    let empty_use_cases = use_case_p99(&bench).await?;
    fill_history(pool).await?;
    let loaded = scan_ms(pool).await?;
    let loaded_use_cases = use_case_p99(&bench).await?;
    let go_live = |history: bool| async move {
        let mut args = vec!["--sessions".to_owned(), GO_LIVE_SESSIONS.to_owned()];
        if history {
            args.push("--history".to_owned());
        }
        let figures = crate::golive::lateness(&args, 0).await?;
        p99_of(&figures, "p99_ms")
    };
    let empty_go_live = go_live(false).await?;
    let loaded_go_live = go_live(true).await?;
    let p50 = |s: &[f64]| quantile(s, 0.5);
    let p99 = |s: &[f64]| quantile(s, 0.99);
    let ratio = p99(&loaded) / p99(&empty);
    let use_case_ratio = loaded_use_cases / empty_use_cases;
    let go_live_ratio = loaded_go_live / empty_go_live;
    Ok(vec![
        Figure {
            name: "use-case p99 with that history / without",
            value: format!(
                "{loaded_use_cases:.1} / {empty_use_cases:.1} ms: ratio {use_case_ratio:.2}"
            ),
            target: "ratio <= 1.2",
            met: Some(use_case_ratio <= 1.2),
            json: serde_json::json!({ "loaded_p99_ms": loaded_use_cases, "empty_p99_ms": empty_use_cases, "ratio": use_case_ratio }),
        },
        Figure {
            name: "go-live lateness p99 with that history / without",
            value: format!(
                "{loaded_go_live:.1} / {empty_go_live:.1} ms: ratio {go_live_ratio:.2} ({GO_LIVE_SESSIONS} sessions)"
            ),
            target: "ratio <= 1.2",
            met: Some(go_live_ratio <= 1.2),
            json: serde_json::json!({ "loaded_p99_ms": loaded_go_live, "empty_p99_ms": empty_go_live, "ratio": go_live_ratio }),
        },
        Figure {
        name: "reconcile scan, 100k ended sessions + 1M log rows",
        value: format!(
            "p50 {:.2} ms, p99 {:.2} ms (empty database: p50 {:.2}, p99 {:.2}); p99 ratio {ratio:.2}",
            p50(&loaded),
            p99(&loaded),
            p50(&empty),
            p99(&empty)
        ),
        target: "p99 ratio <= 1.2",
        met: Some(ratio <= 1.2),
        json: serde_json::json!({
            "rounds": ROUNDS,
            "loaded_p50_ms": p50(&loaded), "loaded_p99_ms": p99(&loaded),
            "empty_p50_ms": p50(&empty), "empty_p99_ms": p99(&empty),
            "ratio_p99": ratio,
        }),
        },
    ])
}

/// Use-case latency p99 (ms) over `USE_CASE_SECS` of 50 editors.
async fn use_case_p99(bench: &Bench) -> anyhow::Result<f64> {
    let figures = crate::usecases::throughput(bench, USE_CASE_SECS).await?;
    p99_of(&figures, "p99_ms")
}

/// The first figure's `key` in its data.
fn p99_of(figures: &[Figure], key: &str) -> anyhow::Result<f64> {
    figures
        .iter()
        .find_map(|f| f.json.get(key).and_then(serde_json::Value::as_f64))
        .ok_or_else(|| anyhow::anyhow!("no {key} among the figures"))
}

/// The time of one round's candidate claim, `ROUNDS` times, sorted (ms).
async fn scan_ms(pool: &PgPool) -> anyhow::Result<Vec<f64>> {
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        reconcile::claim_due(pool, Duration::from_secs(2), 20).await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}
