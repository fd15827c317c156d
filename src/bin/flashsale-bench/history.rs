//! A long history must not slow the rounds that run every 2 s on every
//! replica: the reconciler's candidate scan, timed on an empty database and
//! again with 100,000 ended sessions, their 300,000 finished jobs and
//! 1,000,000 log rows (the issue "One writer per sale", Scale).

use std::time::{Duration, Instant};

use flashsale_bot::store::reconcile;
use sqlx::PgPool;

use crate::setup::Bench;
use crate::{quantile, Figure};

/// Rounds timed per database state.
const ROUNDS: usize = 300;

pub async fn measure() -> anyhow::Result<Vec<Figure>> {
    let bench = Bench::start("history").await?;
    let pool = &bench.services.pool;
    let empty = scan_ms(pool).await?;
    fill(pool).await?;
    let loaded = scan_ms(pool).await?;
    let p50 = |s: &[f64]| quantile(s, 0.5);
    let p99 = |s: &[f64]| quantile(s, 0.99);
    let ratio = p99(&loaded) / p99(&empty);
    Ok(vec![Figure {
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
    }])
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

/// A year and more of history: sessions that ended long ago, with the jobs
/// they ran and ten log entries each.
async fn fill(pool: &PgPool) -> anyhow::Result<()> {
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
        "analyze",
    ] {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}
