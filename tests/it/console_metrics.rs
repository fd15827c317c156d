//! The console is a chat platform like Discord, so its commands show up in
//! `/metrics` the same way: `flashsale_commands_total{command,outcome}`.

use std::time::Duration;

use sqlx::PgPool;

use crate::console_session::{dev_storefront, Console};

const STEP: Duration = Duration::from_secs(30);

/// A loopback port nothing listens on right now.
async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// The value of one sample line, e.g. `name{labels}`; `None` when absent.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[sqlx::test]
async fn console_commands_are_counted_by_name_and_outcome_like_discord_ones(pool: PgPool) {
    let store = dev_storefront().await;
    let addr = format!("127.0.0.1:{}", free_port().await);
    let mut console = Console::start(&pool, &store, &[("HTTP_ADDR", &addr)]).await;

    console
        .send(r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 12:00" end:"tomorrow 18:00""#)
        .await;
    console.expect("Drafted #", STEP).await;
    console.send("/flashsale submit session:1").await;
    console.expect("needs exactly 6", STEP).await;
    console.send("/flashsale view session:999").await;
    console.expect("999", STEP).await;
    // A file that cannot be read is the person's to fix: refused, not done.
    console.send("/flashsale import path:nowhere.xlsx").await;
    console.expect("Could not read", STEP).await;

    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |command: &str, outcome: &str| {
        sample(
            &metrics,
            &format!(
                "flashsale_commands_total{{command=\"flashsale {command}\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(count("draft", "ok"), Some(1.0), "{metrics}");
    assert_eq!(count("submit", "refused"), Some(1.0), "{metrics}");
    assert_eq!(count("view", "refused"), Some(1.0), "{metrics}");
    assert_eq!(count("draft", "refused"), None, "{metrics}");
    assert_eq!(count("import", "refused"), Some(1.0), "{metrics}");
    assert_eq!(count("import", "ok"), None, "{metrics}");
    assert!(
        sample(&metrics, "flashsale_interaction_seconds_count").is_some_and(|n| n >= 4.0),
        "{metrics}"
    );
    console.finish().await;
}
