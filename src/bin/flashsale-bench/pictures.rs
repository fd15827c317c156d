//! How long the bot takes to draw a card's picture (SVG built, rasterised,
//! PNG encoded) and the digest's, one after another on this machine, with the
//! fonts already loaded (they load once per process).

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use flashsale_bot::app::cards::sale_picture;
use flashsale_bot::app::{pictures, ListRange};
use flashsale_bot::render::{Painter, Picture};
use serde_json::json;

use crate::setup::{draft, editor, Bench};
use crate::{option, quantile, Figure};

pub async fn measure(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    let rounds = option(args, "--pictures", 200)?.max(1) as usize;
    let bench = Bench::start("pictures").await?;
    let app = bench.app();
    let who = editor("painter");
    let mut sessions = Vec::new();
    for slot in 0..3 {
        sessions.push(draft(app, &who, slot, 6).await?);
    }
    let font_dir = bench.services.config.picture_font_dir.clone();
    let painter = Painter::new(app.policy.time_zone, font_dir);
    let sale = sale_picture(&sessions[0]);
    let from = sessions[0].window.starts_at() - Duration::hours(1);
    let listed = app
        .queries
        .list(ListRange::Between(from, from + Duration::days(2)))
        .await?;
    let first_day = from.with_timezone(&app.policy.time_zone).date_naive();
    let day = Picture::Day(Arc::new(pictures::day_sheet(first_day, &listed)));

    eprintln!("pictures: {rounds} sale and {rounds} digest pictures...");
    // The first picture loads the fonts; it is not what a card waits for.
    let bytes = painter.png(&sale)?.len();
    let sale_ms = time(&painter, &sale, rounds)?;
    let day_ms = time(&painter, &day, rounds)?;
    Ok(vec![
        figure("picture: sale card p50 / p99", &sale_ms, bytes),
        figure(
            "picture: digest p50 / p99",
            &day_ms,
            painter.png(&day)?.len(),
        ),
    ])
}

/// Milliseconds per picture, sorted.
fn time(painter: &Painter, picture: &Picture, rounds: usize) -> anyhow::Result<Vec<f64>> {
    let mut ms = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        painter.png(picture)?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

fn figure(name: &'static str, ms: &[f64], bytes: usize) -> Figure {
    let (p50, p99) = (quantile(ms, 0.5), quantile(ms, 0.99));
    Figure {
        name,
        value: format!(
            "{p50:.1} / {p99:.1} ms ({} pictures, PNG {} KB)",
            ms.len(),
            bytes / 1024
        ),
        target: "p99 < 50 ms on 2 cores",
        met: Some(p99 < 50.0),
        json: json!({ "p50_ms": p50, "p99_ms": p99, "pictures": ms.len(), "png_bytes": bytes }),
    }
}
