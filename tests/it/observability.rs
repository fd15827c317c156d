//! The operations listener: `/healthz`, `/readyz` and `/metrics`, and secrets
//! kept out of what the bot prints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use flashsale_bot::chat::RecordingChat;
use flashsale_bot::config::Config;
use flashsale_bot::devstore::Faults;
use flashsale_bot::http::{ChatState, Readiness};
use flashsale_bot::runtime;
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::support::golive::GoLive;
use crate::support::ops::{connected, get, listen};

/// A pool whose database is gone: it points at a port nothing listens on.
async fn pool_without_database() -> PgPool {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/flashsale"))
        .unwrap()
}

#[sqlx::test]
async fn healthz_answers_ok_whatever_the_database_says(pool: PgPool) {
    let up = listen(connected(pool)).await;
    assert_eq!(get(format!("{up}/healthz")).await, (200, "ok".to_owned()));
    let down = listen(connected(pool_without_database().await)).await;
    assert_eq!(get(format!("{down}/healthz")).await, (200, "ok".to_owned()));
}

#[sqlx::test]
async fn readyz_is_ready_with_a_migrated_database_and_a_connected_chat(pool: PgPool) {
    let base = listen(connected(pool)).await;
    let (status, body) = get(format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["chat"], "connected");
}

#[sqlx::test]
async fn readyz_counts_standing_by_as_ready_and_disconnected_as_not(pool: PgPool) {
    let readiness = Readiness::new(pool);
    let base = listen(readiness.clone()).await;

    let (status, body) = get(format!("{base}/readyz")).await;
    assert_eq!(status, 503, "a bot starts disconnected: {body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["failed"]["chat"], "disconnected");
    assert!(body["failed"].get("database").is_none(), "{body}");

    readiness.set_chat_state(ChatState::Standby);
    let (status, body) = get(format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("standby"), "{body}");
}

#[tokio::test]
async fn readyz_names_the_database_when_it_cannot_be_reached() {
    let base = listen(connected(pool_without_database().await)).await;
    let started = std::time::Instant::now();
    let (status, body) = get(format!("{base}/readyz")).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the probe must not hang"
    );
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], false);
    assert!(body["failed"]["database"].is_string(), "{body}");
    assert!(body["failed"].get("chat").is_none(), "{body}");
}

#[sqlx::test(migrations = false)]
async fn readyz_names_the_migrations_when_the_database_was_not_migrated(pool: PgPool) {
    let base = listen(connected(pool)).await;
    let (status, body) = get(format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let why = body["failed"]["migrations"].as_str().unwrap_or_default();
    assert!(why.contains("flashsale-bot migrate"), "{body}");
    assert!(body["failed"].get("database").is_none(), "{body}");
}

/// The families and samples of a Prometheus text exposition, checked line by
/// line against the format: `# HELP`/`# TYPE` comments and `name{labels} value`.
fn parse_prometheus(text: &str) -> (HashMap<String, String>, HashMap<String, f64>) {
    let mut types = HashMap::new();
    let mut samples = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        let (series, value) = line.rsplit_once(' ').expect("a sample: series value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name in {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(
                    labels.starts_with('{') && labels.ends_with('}'),
                    "labels in {line}"
                );
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|base| types.get(*base).map(String::as_str) == Some("histogram"))
            .unwrap_or(name);
        assert!(types.contains_key(family), "no # TYPE before {line}");
        samples.insert(series.to_owned(), value);
    }
    (types, samples)
}

#[sqlx::test]
async fn metrics_parse_as_prometheus_text_and_count_a_publish(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let base = listen(connected(g.t.pool.clone())).await;
    let (status, before) = get(format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    let (_, before) = parse_prometheus(&before);
    let done = r#"flashsale_jobs_total{kind="publish",outcome="done"}"#;
    let publish_calls = r#"flashsale_storefront_seconds_count{call="publish"}"#;
    let value =
        |samples: &HashMap<String, f64>, series: &str| samples.get(series).copied().unwrap_or(0.0);

    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(g.scheduler("metrics"));
    g.wait_for_status(session.id, "live", 10).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    let (types, after) = parse_prometheus(&text);
    for (family, kind) in [
        ("flashsale_jobs_total", "counter"),
        ("flashsale_interaction_seconds", "histogram"),
        ("flashsale_golive_lateness_seconds", "histogram"),
        ("flashsale_storefront_seconds", "histogram"),
        ("flashsale_leader", "gauge"),
    ] {
        assert_eq!(
            types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
    // Other tests in this process count too: compare, do not expect exact totals.
    assert!(value(&after, done) > value(&before, done), "{text}");
    assert!(
        value(&after, publish_calls) > value(&before, publish_calls),
        "{text}"
    );
    assert!(value(&after, "flashsale_golive_lateness_seconds_count") >= 1.0);
}

#[sqlx::test]
async fn storefront_failures_and_publish_retries_are_counted(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let base = listen(connected(g.t.pool.clone())).await;
    let scrape = || async { parse_prometheus(&get(format!("{base}/metrics")).await.1).1 };
    let errors = r#"flashsale_storefront_errors_total{call="publish",kind="status_5xx"}"#;
    let retries = r#"flashsale_jobs_total{kind="publish",outcome="retry"}"#;
    let value =
        |samples: &HashMap<String, f64>, series: &str| samples.get(series).copied().unwrap_or(0.0);
    let before = scrape().await;

    let session = g.t.approved().await;
    g.store.set_faults(Faults {
        fail_next: 2,
        status: Some(500),
        ..Faults::default()
    });
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(g.scheduler("metrics-faults"));
    g.wait_for_status(session.id, "live", 10).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    let after = scrape().await;
    assert!(value(&after, errors) - value(&before, errors) >= 2.0);
    assert!(value(&after, retries) - value(&before, retries) >= 2.0);
}

#[sqlx::test]
async fn the_listener_starts_on_http_addr_and_stops_with_the_bot(pool: PgPool) {
    let config = Config::from_lookup(|var| match var {
        "DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/unused".to_owned()),
        "HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
        // Every run mode needs the shop's secret; nothing listens on its
        // default URL here, so the bot starts publishing at the start.
        "STOREFRONT_WEBHOOK_SECRET" => Some(flashsale_bot::devstore::test_secret()),
        "STOREFRONT_URL" => Some("http://127.0.0.1:9/".to_owned()),
        _ => None,
    })
    .unwrap();
    let services = runtime::build_with_chat(config, pool.clone(), Arc::new(RecordingChat::new()))
        .await
        .unwrap();
    let server = runtime::start_http(&services, connected(pool))
        .await
        .unwrap()
        .expect("HTTP_ADDR is set");
    let base = format!("http://{}", server.addr());
    assert_eq!(get(format!("{base}/healthz")).await.0, 200);
    assert_eq!(get(format!("{base}/readyz")).await.0, 200);

    tokio::time::timeout(Duration::from_secs(5), server.stop())
        .await
        .expect("the listener stops promptly");
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
}

#[test]
fn http_addr_off_disables_the_listener_and_a_bad_one_is_named() {
    let with = |addr: &'static str| {
        Config::from_lookup(move |var| match var {
            "DATABASE_URL" => Some("postgres://postgres@127.0.0.1/x".to_owned()),
            "HTTP_ADDR" => Some(addr.to_owned()),
            _ => None,
        })
    };
    assert_eq!(with("off").unwrap().http_addr, None);
    assert_eq!(
        with("0.0.0.0:9100").unwrap().http_addr,
        Some("0.0.0.0:9100".parse().unwrap())
    );
    let err = with("localhost").unwrap_err().to_string();
    assert!(err.contains("HTTP_ADDR"), "{err}");
}

#[test]
fn config_debug_output_hides_every_secret() {
    let config = Config::from_lookup(|var| {
        let value = match var {
            "DATABASE_URL" => "postgres://bot:db-password-1@db/flashsale",
            "STOREFRONT_WEBHOOK_SECRET" => "whsec_c2VjcmV0LXdlYmhvb2sta2V5",
            "DISCORD_TOKEN" => "discord-token-xyz.abc",
            "DISCORD_GUILD_ID"
            | "DISCORD_ANNOUNCEMENTS_CHANNEL_ID"
            | "DISCORD_APPROVALS_CHANNEL_ID"
            | "DISCORD_EDITOR_ROLE_ID"
            | "DISCORD_APPROVER_ROLE_ID" => "1234",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap();
    assert!(config.discord.is_some());
    for shown in [format!("{config:?}"), format!("{config:#?}")] {
        for secret in [
            "db-password-1",
            "c2VjcmV0LXdlYmhvb2sta2V5",
            "discord-token-xyz",
        ] {
            assert!(!shown.contains(secret), "{secret} printed in {shown}");
        }
    }
}

#[sqlx::test]
async fn the_discord_bot_is_ready_after_ready_and_counts_its_commands(pool: PgPool) {
    use crate::support::fake_discord::story::{carol, Story};
    use serde_json::json;

    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let story = Story::start_with(pool, &[("HTTP_ADDR", &addr.to_string())]).await;
    let base = format!("http://{addr}");

    // Commands are registered in the framework's setup, on READY; the bot
    // says connected right after, which may be a moment after the fake saw it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(format!("{base}/readyz")).await;
        if status == 200 {
            assert!(body.contains("\"chat\":\"connected\""), "{body}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    story.run(&carol(), "help", &[]).await;
    story
        .run(&carol(), "view", &[("session", json!("Midnight"))])
        .await;

    // A command is counted once its answer was sent, a moment after the fake
    // Discord received it: scrape until the last one shows.
    let refused = r#"flashsale_commands_total{command="flashsale view",outcome="refused"}"#;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let samples = loop {
        let (_, samples) = parse_prometheus(&get(format!("{base}/metrics")).await.1);
        if samples.contains_key(refused) || tokio::time::Instant::now() > deadline {
            break samples;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let count = |series: &str| samples.get(series).copied().unwrap_or(0.0);
    assert_eq!(
        count(r#"flashsale_commands_total{command="flashsale help",outcome="ok"}"#),
        1.0,
        "{samples:#?}"
    );
    assert_eq!(count(refused), 1.0, "{samples:#?}");
    assert_eq!(count("flashsale_interaction_seconds_count"), 2.0);
    assert_eq!(count("flashsale_leader"), 1.0);
    story.finish().await;
}
