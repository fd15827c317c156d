//! The real `flashsale-bot console` process killed (SIGKILL) or quit in the
//! middle of a go-live, then started again: the storefront, the database and
//! the channel end up agreeing, with one publish and one "now live".

use std::time::Duration;

use sqlx::PgPool;

use crate::console_session::Console;
use crate::support::golive::GoLive;

/// A short lease, so a killed process's job is taken over within seconds.
const ENV: [(&str, &str); 3] = [
    ("SCHEDULER_LEASE_SECS", "2"),
    ("SCHEDULER_HEARTBEAT_SECS", "1"),
    ("STOREFRONT_TIMEOUT_MS", "15000"),
];

const STEP: Duration = Duration::from_secs(30);

async fn status(g: &GoLive, id: i64) -> String {
    sqlx::query_scalar("select status from session where id = $1")
        .bind(id)
        .fetch_one(&g.t.pool)
        .await
        .unwrap()
}

async fn sent_notices(g: &GoLive, id: i64, event: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from outbox where session_id = $1 and event = $2 and state = 'sent'",
    )
    .bind(id)
    .bind(event)
    .fetch_one(&g.t.pool)
    .await
    .unwrap()
}

/// Waits until the notice is recorded as sent (the console prints a post a
/// moment before its process writes that down).
async fn wait_sent(g: &GoLive, id: i64, event: &str) {
    let deadline = tokio::time::Instant::now() + STEP;
    while sent_notices(g, id, event).await < 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{event} never recorded as sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn now_live_lines(lines: &[String]) -> usize {
    lines.iter().filter(|l| l.contains("is now live")).count()
}

#[sqlx::test]
async fn a_bot_killed_mid_publish_is_taken_over_after_restart_and_says_now_live_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // The storefront applies the PUT, then holds its answer back.
    g.stall_next_call(5);
    let first = Console::start(&g.t.pool, &g.store, &ENV).await;
    g.make_due(session.id, "publish").await;
    g.wait_for_job(session.id, "publish", "running").await;
    g.wait_for_put(session.id).await;

    let before = first.kill().await;
    // Up on the storefront, approved here: the divergence a restart must end.
    assert_eq!(status(&g, session.id).await, "approved");
    let mut second = Console::start(&g.t.pool, &g.store, &ENV).await;
    second.expect("is now live", STEP).await;

    assert_eq!(status(&g, session.id).await, "live");
    assert!(g
        .store
        .sale(session.id)
        .is_some_and(|s| s["status"] != "ended"));
    assert_eq!(g.publishes(session.id).len(), 1, "the retry was a replay");
    assert_eq!(now_live_lines(&before), 0);
    wait_sent(&g, session.id, "live").await;
    assert_eq!(sent_notices(&g, session.id, "live").await, 1);
    second.finish().await;
}

#[sqlx::test]
async fn a_killed_bots_publish_is_taken_over_at_once_not_after_its_lease(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // A lease far longer than the test: only the killed process's presence
    // lock, gone with its connection, can hand the job over in time.
    let env = [
        ("SCHEDULER_LEASE_SECS", "600"),
        ("SCHEDULER_HEARTBEAT_SECS", "1"),
        ("STOREFRONT_TIMEOUT_MS", "15000"),
    ];
    g.stall_next_call(5);
    let first = Console::start(&g.t.pool, &g.store, &env).await;
    g.make_due(session.id, "publish").await;
    g.wait_for_job(session.id, "publish", "running").await;
    g.wait_for_put(session.id).await;

    first.kill().await;
    let killed = std::time::Instant::now();
    let mut second = Console::start(&g.t.pool, &g.store, &env).await;
    second.expect("is now live", STEP).await;

    assert!(
        killed.elapsed() < Duration::from_secs(20),
        "live {:?} after the kill, with a 600 s lease",
        killed.elapsed()
    );
    assert_eq!(status(&g, session.id).await, "live");
    assert_eq!(g.publishes(session.id).len(), 1, "the retry was a replay");
    wait_sent(&g, session.id, "live").await;
    assert_eq!(sent_notices(&g, session.id, "live").await, 1);
    second.finish().await;
}

#[sqlx::test]
async fn a_bot_quit_mid_publish_posts_now_live_once_after_restart(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.stall_next_call(3);
    let mut first = Console::start(&g.t.pool, &g.store, &ENV).await;
    g.make_due(session.id, "publish").await;
    g.wait_for_job(session.id, "publish", "running").await;

    // `quit` while the PUT waits: the publish finishes during shutdown, but
    // the console is closed by then and cannot print "now live".
    first.send("quit").await;
    first.expect("Bye.", STEP).await;
    g.wait_for_status(session.id, "live", 30).await;
    let before = first.kill().await;
    let delivered_before = sent_notices(&g, session.id, "live").await;
    let mut second = Console::start(&g.t.pool, &g.store, &ENV).await;
    if delivered_before == 0 {
        second.expect("is now live", STEP).await;
    }

    assert_eq!(
        now_live_lines(&before) + now_live_lines(second.transcript()),
        1,
        "before: {before:#?}\nafter: {:#?}\ndelivered before restart: {delivered_before}",
        second.transcript()
    );
    wait_sent(&g, session.id, "live").await;
    assert_eq!(sent_notices(&g, session.id, "live").await, 1);
    assert!(g
        .store
        .sale(session.id)
        .is_some_and(|s| s["status"] != "ended"));
    second.finish().await;
}

#[sqlx::test]
async fn a_bot_down_for_a_whole_window_says_the_sale_was_missed_and_publishes_nothing(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // A window that opens in 3 s and closes 2 s later.
    g.window_from_now(session.id, 3.0, 5.0).await;
    // Every bot process is stopped before the start...
    let first = Console::start(&g.t.pool, &g.store, &ENV).await;
    first.kill().await;
    // ...and one is started again after the end.
    g.wait_for_db_clock_past(session.id).await;
    let mut second = Console::start(&g.t.pool, &g.store, &ENV).await;
    second.expect("could not go live", STEP).await;

    assert_eq!(status(&g, session.id).await, "failed");
    assert!(
        g.publishes(session.id).is_empty(),
        "nothing published after its end"
    );
    assert!(g.store.sale(session.id).is_none());
    wait_sent(&g, session.id, "missed").await;
    assert_eq!(sent_notices(&g, session.id, "missed").await, 1);
    assert_eq!(now_live_lines(second.transcript()), 0);
    second.finish().await;
}
