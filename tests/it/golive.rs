//! Go-live on time, exactly once: publish, retries, end, stop.

use std::sync::Arc;
use std::time::Duration;

use flashsale_bot::chat::{Channel, Mention};
use flashsale_bot::devstore::{self, Faults};
use flashsale_bot::domain::Status;
use flashsale_bot::scheduler::Scheduler;
use flashsale_bot::storefront::HttpStorefront;
use secrecy::SecretString;
use sqlx::PgPool;

use crate::support::golive::*;

#[sqlx::test]
async fn publish_happens_when_due_signed_confirmed_and_announced_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due_in(session.id, "publish", 0.3).await;
    let due: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "select next_attempt_at from job where session_id = $1 and kind = 'publish'",
    )
    .bind(session.id)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();
    let (stop, handle) = g.spawn_loop(g.scheduler("a"));

    g.wait_for_status(session.id, "live", 10).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    let publishes = g.publishes(session.id);
    assert_eq!(publishes.len(), 1);
    let put = &publishes[0];
    // The dev storefront verified the Standard Webhooks signature with the
    // crate; a bad one would have been answered 401.
    assert_eq!(put.status, 200);
    assert!(
        put.at >= due,
        "published before it was due: {} < {due}",
        put.at
    );
    assert_eq!(
        put.webhook_id.as_deref(),
        Some(g.job(session.id, "publish").await.key.as_str())
    );
    let body = put.body.as_ref().unwrap();
    assert_eq!(body["session_id"], session.id);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    for (sent, item) in items.iter().zip(&session.items) {
        assert_eq!(sent["sku"], item.sku.as_str());
        assert_eq!(sent["discount_percent"], 30);
        assert_eq!(sent["flash_price_minor"], item.flash_price.minor());
        assert_eq!(sent["quantity"], 10);
    }
    let read_back = g
        .store
        .calls()
        .iter()
        .filter(|c| c.method == "GET" && c.path.ends_with(&format!("/{}", session.id)))
        .count();
    assert_eq!(read_back, 1, "the sale was read back once to confirm");
    let live = g.t.chat.posts_to(Channel::Announcements);
    assert_eq!(
        live.iter()
            .filter(|p| p.message.dedupe_key.as_deref() == Some(&*format!("live:{}", session.id)))
            .count(),
        1
    );
    assert_eq!(g.job(session.id, "publish").await.state, "done");
    let card = &g.t.chat.posts_to(Channel::Approvals)[0];
    assert_eq!(
        card.edits.last().unwrap().card.as_ref().unwrap().status,
        "Live"
    );
}

#[sqlx::test]
async fn three_server_errors_then_success_publishes_once_and_alerts_approvers(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.fail_next_calls(3, 500);
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(g.scheduler("a"));

    g.wait_for_status(session.id, "live", 10).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert_eq!(g.job(session.id, "publish").await.attempts, 4);
    let statuses: Vec<u16> = g
        .store
        .calls()
        .iter()
        .filter(|c| c.method == "PUT")
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [500, 500, 500, 200]);
    let alerts =
        g.t.chat
            .posts_to(Channel::Approvals)
            .into_iter()
            .filter(|p| p.message.card.is_none())
            .collect::<Vec<_>>();
    assert_eq!(alerts.len(), 1, "one alert after the third failure");
    assert_eq!(alerts[0].message.mentions, [Mention::Approvers]);
    assert!(alerts[0]
        .message
        .text
        .render(|_, _| String::new())
        .contains("has failed 3 times"));
    let announcements = g.t.chat.posts_to(Channel::Announcements);
    assert_eq!(
        announcements
            .iter()
            .filter(|p| p.message.dedupe_key.is_some())
            .count(),
        1
    );
}

/// What people read about a storefront nobody can reach names no address
/// and quotes no HTTP library: approvers get a reference to the log line.
#[sqlx::test]
async fn an_unreachable_storefront_is_alerted_without_its_address(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // Nothing listens on the discard port.
    let nowhere = HttpStorefront::new(
        "http://127.0.0.1:9/".parse().unwrap(),
        &SecretString::from(devstore::test_secret()),
        Duration::from_secs(2),
    )
    .unwrap();
    let scheduler = Scheduler::new(
        g.t.pool.clone(),
        g.t.app.operations.clone(),
        Arc::new(nowhere),
        fast_config("a"),
    );
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(scheduler);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let alert = loop {
        if let Some(alert) = posts_with(&g, Channel::Approvals, "has failed 3 times").pop() {
            break alert;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no alert after three failed publishes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert!(
        alert.contains("(the storefront could not be reached, reference "),
        "{alert}"
    );
    crate::support::assert_no_transport_details(&alert);
}

#[sqlx::test]
async fn too_many_requests_waits_as_long_as_retry_after_says(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.store.set_faults(Faults {
        fail_next: 1,
        status: Some(429),
        retry_after_secs: Some(2),
        ..Faults::default()
    });
    g.make_due(session.id, "publish").await;

    g.scheduler("a").run_due_now().await.unwrap();

    let waits: f64 = sqlx::query_scalar(
        "select extract(epoch from next_attempt_at - updated_at)::float8 from job where session_id = $1 and kind = 'publish'",
    )
    .bind(session.id)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();
    assert!(
        (1.9..=2.1).contains(&waits),
        "waited {waits}s instead of Retry-After: 2"
    );
    let job = g.job(session.id, "publish").await;
    assert_eq!(job.state, "pending");
    assert!(job.last_error.unwrap().contains("429"));
    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Approved
    );
}

#[sqlx::test]
async fn a_stalled_storefront_times_out_and_the_retry_does_not_publish_twice(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.stall_next_call(3);
    g.make_due(session.id, "publish").await;
    let scheduler = g.scheduler_with(fast_config("a"), Duration::from_millis(300));
    let (stop, handle) = g.spawn_loop(scheduler);

    g.wait_for_status(session.id, "live", 10).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    let job = g.job(session.id, "publish").await;
    assert!(job.attempts >= 2, "the stalled attempt was retried");
    let puts: Vec<_> = g
        .store
        .calls()
        .into_iter()
        .filter(|c| c.method == "PUT")
        .collect();
    assert!(puts.len() >= 2);
    assert!(
        puts.iter()
            .all(|c| c.webhook_id.as_deref() == Some(job.key.as_str())),
        "same idempotency key on every retry"
    );
    assert_eq!(
        g.publishes(session.id).len(),
        1,
        "the storefront applied it once"
    );
}

#[sqlx::test]
async fn a_refused_publish_is_not_retried_and_fails_the_session_with_an_alert(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.fail_next_calls(1, 400);
    g.make_due(session.id, "publish").await;

    g.scheduler("a").run_due_now().await.unwrap();

    let job = g.job(session.id, "publish").await;
    assert_eq!((job.state.as_str(), job.attempts), ("failed", 1));
    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Failed
    );
    let alert =
        g.t.chat
            .posts_to(Channel::Approvals)
            .into_iter()
            .find(|p| p.message.card.is_none())
            .unwrap();
    assert!(alert
        .message
        .text
        .render(|_, _| String::new())
        .contains("will not go live"));
    assert_eq!(
        g.jobs_of(session.id)
            .await
            .iter()
            .filter(|(_, s)| s == "pending")
            .count(),
        0,
        "no end job left"
    );
    assert_eq!(
        g.t.activity_actions(session.id)
            .await
            .last()
            .map(String::as_str),
        Some("publish_failed")
    );
}

#[sqlx::test]
async fn at_the_end_the_sale_is_ended_on_the_storefront_and_announced(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let scheduler = g.scheduler("a");
    scheduler.run_due_now().await.unwrap();
    g.make_due(session.id, "end").await;

    scheduler.run_due_now().await.unwrap();

    let view = g.t.app.queries.get(session.id).await.unwrap();
    assert_eq!(view.status, Status::Ended);
    let deletes = g
        .store
        .calls()
        .into_iter()
        .filter(|c| c.method == "DELETE")
        .count();
    assert_eq!(deletes, 1);
    assert!(g.store.sale(session.id).unwrap()["ended_at"].is_string());
    let ended = g.t.chat.posts_to(Channel::Announcements);
    assert!(ended
        .iter()
        .any(|p| p.message.dedupe_key.as_deref() == Some(&*format!("ended:{}", session.id))));
    assert_eq!(
        g.t.activity_actions(session.id)
            .await
            .iter()
            .rev()
            .take(2)
            .collect::<Vec<_>>(),
        ["ended", "went_live"]
    );
}

#[sqlx::test]
async fn an_approver_stops_a_live_sale_early_with_a_reason(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let scheduler = g.scheduler("a");
    scheduler.run_due_now().await.unwrap();
    // The stop moves the end job to "now" by the app's clock; use real time here.
    g.t.clock.set(chrono::Utc::now());

    let refused =
        g.t.app
            .desk
            .stop(&g.t.alice, session.id, "oops")
            .await
            .unwrap_err();
    assert!(
        refused.to_string().starts_with("Only approvers"),
        "{refused}"
    );
    let blank =
        g.t.app
            .desk
            .stop(&g.t.bob, session.id, "  ")
            .await
            .unwrap_err();
    assert_eq!(
        blank.to_string(),
        "A reason is required: tell the editors what to change."
    );
    g.t.app
        .desk
        .stop(&g.t.bob, session.id, "wrong price on FS-002")
        .await
        .unwrap();
    scheduler.run_due_now().await.unwrap();

    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Ended
    );
    let log = g.t.activity_actions(session.id).await;
    assert_eq!(log[log.len() - 2..], ["stopped", "ended"]);
    assert_eq!(
        g.store
            .calls()
            .iter()
            .filter(|c| c.method == "DELETE")
            .count(),
        1
    );
}

/// Revoke is allowed until go-live, so it can land while the publish request
/// is in flight: the sale then reaches the storefront for a session that is a
/// draft again, and must come down.
#[sqlx::test]
async fn a_sale_revoked_while_it_was_being_published_is_taken_down_again(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // The storefront applies the publish, then holds its answer back.
    g.stall_next_call(1);
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(g.scheduler("a"));
    wait_until(5, || g.publishes(session.id).len() == 1).await;

    g.t.app
        .desk
        .revoke(&g.t.bob, session.id, Some("wrong banner"))
        .await
        .unwrap();
    let path = format!("/api/flash-sales/{}", session.id);
    wait_until(5, || {
        g.store
            .calls()
            .iter()
            .any(|c| c.method == "DELETE" && c.path == path && c.status == 200)
    })
    .await;
    g.wait_for_job(session.id, "publish", "done").await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert_taken_down(&g, session.id).await;
    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Draft
    );
    let actions = g.t.activity_actions(session.id).await;
    assert!(!actions.contains(&"went_live".to_owned()), "{actions:?}");
    assert_eq!(
        take_down_alerts(&g),
        [format!(
            "#{} \"Midnight Deals\" became draft while it was being published: \
             it reached the storefront and was taken down again.",
            session.id
        )]
    );
}

/// Polls `done` every 20 ms for at most `secs` seconds.
async fn wait_until(secs: u64, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not done within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A scheduler whose retries wait long enough for a person to act in between.
fn patient_scheduler(g: &GoLive) -> flashsale_bot::scheduler::Scheduler {
    let config = flashsale_bot::scheduler::SchedulerConfig {
        retry_base: Duration::from_secs(30),
        retry_cap: Duration::from_secs(30),
        ..fast_config("a")
    };
    g.scheduler_with(config, Duration::from_millis(300))
}

/// The storefront applied the publish but its answer came too late, so the
/// bot waits to retry; an approver cancels meanwhile. The sale is up all the
/// same, and must come down.
#[sqlx::test]
async fn a_sale_cancelled_while_its_publish_awaits_a_retry_is_taken_down(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.stall_next_call(1);
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(patient_scheduler(&g));
    g.wait_for_job(session.id, "publish", "pending").await;
    assert_eq!(
        g.publishes(session.id).len(),
        1,
        "the timed-out PUT was applied"
    );

    g.t.app
        .desk
        .cancel(&g.t.bob, session.id, Some("supplier pulled out"))
        .await
        .unwrap();
    g.wait_for_job(session.id, "publish", "done").await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert_taken_down(&g, session.id).await;
    assert!(
        take_down_alerts(&g)
            .iter()
            .any(|a| a.contains("became cancelled while it was being published")),
        "{:?}",
        take_down_alerts(&g)
    );
}

/// The same cancel after a publish that the storefront refused with a 500:
/// nothing went up, so nothing is taken down and nobody is alerted.
#[sqlx::test]
async fn a_cancelled_publish_that_never_reached_the_storefront_is_left_alone(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.fail_next_calls(1, 500);
    g.make_due(session.id, "publish").await;
    let (stop, handle) = g.spawn_loop(patient_scheduler(&g));
    g.wait_for_job(session.id, "publish", "pending").await;

    g.t.app
        .desk
        .cancel(&g.t.bob, session.id, Some("supplier pulled out"))
        .await
        .unwrap();
    g.wait_for_job(session.id, "publish", "done").await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert!(g.store.sale(session.id).is_none());
    let path = format!("/api/flash-sales/{}", session.id);
    let methods: Vec<String> = g
        .store
        .calls()
        .into_iter()
        .filter(|c| c.path == path)
        .map(|c| format!("{} {}", c.method, c.status))
        .collect();
    assert_eq!(
        methods,
        ["PUT 500", "GET 404"],
        "asked, found nothing, did nothing"
    );
    assert!(!g
        .t
        .activity_actions(session.id)
        .await
        .contains(&"taken_down".to_owned()));
    assert!(take_down_alerts(&g).is_empty());
}

fn take_down_alerts(g: &GoLive) -> Vec<String> {
    g.t.chat
        .posts_to(Channel::Approvals)
        .into_iter()
        .map(|p| p.message.text.render(|_, _| String::new()))
        .filter(|text| text.contains("while it was being published"))
        .collect()
}

/// The sale is ended on the storefront, and the log says the bot did it.
async fn assert_taken_down(g: &GoLive, session_id: i64) {
    let sale = g.store.sale(session_id).expect("the sale is known");
    assert!(
        !sale["ended_at"].is_null(),
        "ended on the storefront: {sale}"
    );
    let actions = g.t.activity_actions(session_id).await;
    assert!(actions.contains(&"taken_down".to_owned()), "{actions:?}");
}
