//! A benchmark, not a test: how fast the Discord adapter acknowledges an
//! `add-sku` interaction while the catalog stalls for 10 s. It runs only when
//! asked (`scripts/bench.sh` does) and asserts nothing about speed: it prints
//! the figures and writes them to target/bench/interaction.json (under CARGO_TARGET_DIR when set).

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use crate::support::catalog::CatalogServer;
use crate::support::fake_discord::story::{alice, Story};

const INTERACTIONS: usize = 50;

#[sqlx::test]
#[ignore = "benchmark: run by scripts/bench.sh"]
async fn bench_interaction_acknowledgement_with_a_stalled_catalog(pool: PgPool) {
    let stalled = CatalogServer::stalling(Duration::from_secs(10)).await;
    // The catalog timeout is longer than the stall, so every add-sku really waits 10 s.
    let url = stalled.url().to_string();
    let story = Story::start_with(
        pool,
        &[("STOREFRONT_URL", &url), ("CATALOG_TIMEOUT_MS", "15000")],
    )
    .await;
    let start = chrono::Utc::now() + chrono::Duration::hours(3);
    let session = story
        .draft(
            &alice(),
            "Ack bench",
            start,
            start + chrono::Duration::hours(1),
        )
        .await;

    let mut acks = Vec::new();
    for i in 0..INTERACTIONS {
        let sku = format!("FS-{:03}", i % 12 + 1);
        let ix = story.fake.slash(
            &alice(),
            "add-sku",
            &[
                ("session", json!(session.to_string())),
                ("sku", json!(sku)),
                ("discount", json!(30)),
                ("quantity", json!(1)),
            ],
        );
        let first = story.fake.callback(&ix).await;
        acks.push(first.at.duration_since(ix.sent_at).as_secs_f64() * 1000.0);
    }
    acks.sort_by(f64::total_cmp);
    let q = |p: f64| acks[((acks.len() as f64 * p).ceil() as usize).clamp(1, acks.len()) - 1];
    let (p50, p99, max) = (q(0.5), q(0.99), acks[acks.len() - 1]);
    println!(
        "| interaction acknowledgement (add-sku, catalog stalled 10 s) | p50 {p50:.1} / p99 {p99:.1} / max {max:.1} ms over {INTERACTIONS} | always < 1 s, p99 < 100 ms | {} |",
        if max < 1000.0 && p99 < 100.0 { "met" } else { "MISSED" }
    );
    let report = json!({
        "figure": "interaction acknowledgement",
        "interactions": INTERACTIONS,
        "catalog_stall_secs": 10,
        "p50_ms": p50, "p99_ms": p99, "max_ms": max,
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    // Where cargo builds, as flashsale-bench writes its results.json.
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            std::path::PathBuf::from,
        )
        .join("bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("interaction.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    drop(stalled);
    story.finish().await;
}
