//! Housekeeping: handled events (interaction ids, digest claims) are
//! forgotten after their retention, and finished jobs and delivered posts of
//! settled sessions after theirs, by the database clock; nothing a session
//! can still need goes.

use flashsale_bot::app::PrunedWork;
use flashsale_bot::domain::JobKind;
use flashsale_bot::store::events::RETENTION_DAYS;
use flashsale_bot::store::jobs;
use sqlx::PgPool;

use crate::support::app::*;

async fn events(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select event_id from processed_event order by event_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn handled_events_older_than_the_retention_are_pruned(pool: PgPool) {
    let t = TestApp::new(pool).await;
    assert_eq!(RETENTION_DAYS, 7);
    for (id, age_days) in [
        ("a-fresh", 0),
        ("b-six-days", 6),
        ("c-eight-days", 8),
        ("d-a-year", 365),
    ] {
        sqlx::query(
            "insert into processed_event (platform, event_id, processed_at) \
             values ('discord', $1, now() - make_interval(days => $2))",
        )
        .bind(id)
        .bind(age_days)
        .execute(&t.pool)
        .await
        .unwrap();
    }

    assert_eq!(t.app.operations.prune_processed_events().await.unwrap(), 2);
    assert_eq!(events(&t.pool).await, ["a-fresh", "b-six-days"]);
    // The daily job does the same (and a second run finds nothing to do).
    t.app.operations.prune().await;
    assert_eq!(events(&t.pool).await, ["a-fresh", "b-six-days"]);
}

/// A session row as the past left it: `status`, its window ending
/// `ended_days` ago (negative: ahead), last changed `changed_days` ago.
async fn past_session(pool: &PgPool, status: &str, ended_days: i32, changed_days: i32) -> i64 {
    sqlx::query_scalar(
        "insert into session (title, starts_at, ends_at, status, created_by, created_by_name, \
             updated_at, ended_at) \
         values ('Old sale', now() - make_interval(days => $2, hours => 2), \
             now() - make_interval(days => $2), $1, 'u1', 'Ann', \
             now() - make_interval(days => $3), \
             case when $1 = 'ended' then now() - make_interval(days => $2) end) \
         returning id",
    )
    .bind(status)
    .bind(ended_days)
    .bind(changed_days)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A job of `session` in `state`, last changed `days` ago; `kind` names it.
async fn job(pool: &PgPool, session: i64, kind: &str, state: &str, days: i32) {
    sqlx::query(
        "insert into job (session_id, kind, due_at, next_attempt_at, state, idempotency_key, \
             updated_at, created_at) \
         values ($1, $2, now() - make_interval(days => $4), now() - make_interval(days => $4), \
             $3, gen_random_uuid(), now() - make_interval(days => $4), now() - make_interval(days => $4))",
    )
    .bind(session)
    .bind(kind)
    .bind(state)
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
}

/// A post of `session` in `state`, written `written_days` ago and (when
/// sent) sent `sent_days` ago; `event` names it.
async fn post(
    pool: &PgPool,
    session: i64,
    event: &str,
    state: &str,
    written_days: i32,
    sent_days: i32,
) {
    sqlx::query(
        "insert into outbox (session_id, event, version, channel, message, state, created_at, sent_at) \
         values ($1, $2, 1, 'announcements', '{}'::jsonb, $3, now() - make_interval(days => $4), \
             case when $3 = 'sent' then now() - make_interval(days => $5) end)",
    )
    .bind(session)
    .bind(event)
    .bind(state)
    .bind(written_days)
    .bind(sent_days)
    .execute(pool)
    .await
    .unwrap();
}

async fn jobs_left(pool: &PgPool) -> Vec<(i64, String, String)> {
    sqlx::query_as("select session_id, kind, state from job order by session_id, kind")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn posts_left(pool: &PgPool) -> Vec<(i64, String, String)> {
    sqlx::query_as("select session_id, event, state from outbox order by session_id, event")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn rows(rows: &[(i64, &str, &str)]) -> Vec<(i64, String, String)> {
    rows.iter()
        .map(|(s, k, st)| (*s, k.to_string(), st.to_string()))
        .collect()
}

#[sqlx::test]
async fn finished_jobs_and_delivered_posts_of_settled_sessions_are_pruned_after_the_retention(
    pool: PgPool,
) {
    let t = TestApp::new(pool).await;
    assert_eq!(t.app.operations.queue_retention_days(), 30);
    let p = &t.pool;

    // Settled: ended 40 days ago, nothing waiting.
    let settled = past_session(p, "ended", 40, 40).await;
    for (kind, state, days) in [
        ("publish", "done", 40),
        ("end", "done", 40),
        ("reminder_1h", "cancelled", 45),
        ("heads_up", "failed", 40),
        ("repair", "done", 20), // finished within the retention
    ] {
        job(p, settled, kind, state, days).await;
    }
    post(p, settled, "a-live", "sent", 40, 40).await;
    post(p, settled, "b-refused", "refused", 40, 0).await;
    post(p, settled, "c-sent-lately", "sent", 40, 20).await;
    post(p, settled, "d-pending", "pending", 40, 0).await;
    post(p, settled, "e-sending", "sending", 40, 0).await;

    // Every other final status settles the same way.
    let cancelled = past_session(p, "cancelled", 50, 45).await;
    job(p, cancelled, "expire", "cancelled", 45).await;
    let failed = past_session(p, "failed", 50, 45).await;
    job(p, failed, "publish", "failed", 45).await;
    post(p, failed, "publish_failed", "sent", 45, 45).await;

    // Final, but a job of it still waits: nothing of it goes.
    let waiting = past_session(p, "ended", 40, 40).await;
    job(p, waiting, "publish", "done", 40).await;
    job(p, waiting, "repair", "pending", 40).await;
    post(p, waiting, "ended", "sent", 40, 40).await;
    let running = past_session(p, "expired", 40, 40).await;
    job(p, running, "expire", "running", 40).await;
    job(p, running, "reminder_1h", "cancelled", 40).await;

    // Final, but its window or its last change is within the retention.
    let lately_ended = past_session(p, "ended", 10, 10).await;
    job(p, lately_ended, "reminder_1h", "cancelled", 40).await;
    post(p, lately_ended, "approved", "sent", 40, 40).await;
    let lately_changed = past_session(p, "cancelled", 40, 5).await;
    job(p, lately_changed, "publish", "cancelled", 40).await;

    // Not final: a live sale and an approved one ahead keep everything, even
    // rows that finished long ago (a re-plan must find them).
    let live = past_session(p, "live", -1, 40).await;
    job(p, live, "publish", "done", 40).await;
    post(p, live, "live", "sent", 40, 40).await;
    let ahead = past_session(p, "approved", -3, 40).await;
    job(p, ahead, "reminder:1440", "done", 40).await;
    let draft = past_session(p, "draft", 40, 40).await;
    job(p, draft, "reminder_1h", "cancelled", 40).await;

    let pruned = t.app.operations.prune_finished_work().await.unwrap();
    assert_eq!((pruned.jobs, pruned.posts), (6, 3));

    assert_eq!(
        jobs_left(p).await,
        rows(&[
            (settled, "repair", "done"),
            (waiting, "publish", "done"),
            (waiting, "repair", "pending"),
            (running, "expire", "running"),
            (running, "reminder_1h", "cancelled"),
            (lately_ended, "reminder_1h", "cancelled"),
            (lately_changed, "publish", "cancelled"),
            (live, "publish", "done"),
            (ahead, "reminder:1440", "done"),
            (draft, "reminder_1h", "cancelled"),
        ])
    );
    assert_eq!(
        posts_left(p).await,
        rows(&[
            (settled, "c-sent-lately", "sent"),
            (settled, "d-pending", "pending"),
            (settled, "e-sending", "sending"),
            (waiting, "ended", "sent"),
            (lately_ended, "approved", "sent"),
            (live, "live", "sent"),
        ])
    );

    // The daily job does the same (and a second run finds nothing to do).
    t.app.operations.prune().await;
    assert_eq!(jobs_left(p).await.len(), 10);
    assert_eq!(posts_left(p).await.len(), 6);

    // The kept `done` job of the session ahead is what a re-plan upserts
    // against: the unchanged plan leaves it done instead of running it again.
    let due: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select due_at from job where session_id = $1")
            .bind(ahead)
            .fetch_one(p)
            .await
            .unwrap();
    let mut conn = p.acquire().await.unwrap();
    let reminder = JobKind::Reminder {
        minutes_before: 1440,
    };
    jobs::apply_plan(&mut conn, ahead, &[(reminder, due)])
        .await
        .unwrap();
    let state: String = sqlx::query_scalar("select state from job where session_id = $1")
        .bind(ahead)
        .fetch_one(p)
        .await
        .unwrap();
    assert_eq!(state, "done");
}

#[sqlx::test]
async fn the_queue_retention_is_configurable(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let p = &t.pool;
    let settled = past_session(p, "ended", 10, 10).await;
    job(p, settled, "publish", "done", 10).await;
    post(p, settled, "live", "sent", 10, 10).await;

    assert_eq!(
        t.app.operations.prune_finished_work().await.unwrap(),
        PrunedWork::default()
    );
    assert_eq!(jobs_left(p).await.len(), 1);

    let week = t.app.clone().with_queue_retention(7);
    let pruned = week.operations.prune_finished_work().await.unwrap();
    assert_eq!((pruned.jobs, pruned.posts), (1, 1));
    assert!(jobs_left(p).await.is_empty());
    assert!(posts_left(p).await.is_empty());
}

#[sqlx::test]
async fn a_large_history_is_pruned_batch_by_batch(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let p = &t.pool;
    // More posts than one batch, on settled sessions.
    let batch = i64::from(flashsale_bot::store::housekeeping::BATCH);
    let settled = past_session(p, "ended", 40, 40).await;
    sqlx::query(
        "insert into outbox (session_id, event, version, channel, message, state, created_at, sent_at) \
         select $1, 'live', v, 'announcements', '{}'::jsonb, 'sent', \
             now() - interval '40 days', now() - interval '40 days' \
         from generate_series(1, $2) v",
    )
    .bind(settled)
    .bind(batch + 7)
    .execute(p)
    .await
    .unwrap();
    let pruned = t.app.operations.prune_finished_work().await.unwrap();
    assert_eq!(i64::try_from(pruned.posts).unwrap(), batch + 7);
    assert!(posts_left(p).await.is_empty());
}
