//! The jobs table: plans follow status changes, replicas share the work
//! exactly once, leases expire, and late writers are fenced off.

use std::time::Duration;

use flashsale_bot::app::SystemOutcome;
use flashsale_bot::chat::{Channel, Mention};
use flashsale_bot::domain::{Action, ActivityKind, Status};
use flashsale_bot::render::{Held, Picture};
use flashsale_bot::store::jobs;
use sqlx::PgPool;

use crate::support::app::{at, test_now};
use crate::support::golive::*;

fn pending(jobs: &[(String, String)]) -> Vec<&str> {
    jobs.iter()
        .filter(|(_, s)| s == "pending")
        .map(|(k, _)| k.as_str())
        .collect()
}

#[sqlx::test]
async fn each_status_has_its_planned_jobs(pool: PgPool) {
    let g = GoLive::new(pool).await;
    // Test clock: 17:00 in Jakarta; tomorrow 00:00 starts in 7h, approval
    // closes in 6h, so the 24h and 6h reminders are not in the future.
    let draft = g.t.draft_with(6).await;
    assert_eq!(
        pending(&g.jobs_of(draft.id).await),
        ["expire", "reminder:15", "reminder:60"]
    );

    let approved =
        g.t.app
            .desk
            .approve(
                &g.t.bob,
                draft.id,
                g.t.app
                    .desk
                    .submit(&g.t.alice, draft.id)
                    .await
                    .unwrap()
                    .version,
            )
            .await
            .unwrap();
    assert_eq!(
        pending(&g.jobs_of(approved.id).await),
        ["end", "heads_up", "publish"]
    );

    g.t.app
        .desk
        .revoke(&g.t.bob, draft.id, Some("price change"))
        .await
        .unwrap();
    assert_eq!(
        pending(&g.jobs_of(draft.id).await),
        ["expire", "reminder:15", "reminder:60"]
    );

    g.t.app
        .desk
        .cancel(&g.t.alice, draft.id, None)
        .await
        .unwrap();
    assert!(pending(&g.jobs_of(draft.id).await).is_empty());
}

#[sqlx::test]
async fn re_approval_gets_a_fresh_idempotency_key(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let first = g.t.approved().await;
    let first_key = g.job(first.id, "publish").await.key;
    g.t.app.desk.revoke(&g.t.bob, first.id, None).await.unwrap();
    let again = g.t.app.desk.submit(&g.t.alice, first.id).await.unwrap();
    g.t.app
        .desk
        .approve(&g.t.bob, first.id, again.version)
        .await
        .unwrap();

    assert_ne!(
        g.job(first.id, "publish").await.key,
        first_key,
        "the content may have changed"
    );
}

#[sqlx::test]
async fn two_schedulers_publish_fifty_due_sessions_exactly_once_each(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let mut ids = Vec::new();
    for hour in 0..50 {
        // Back-to-back one-hour sessions from tomorrow 00:00 (approved windows may not overlap).
        let start = chrono::NaiveDateTime::parse_from_str(&at(1, "00:00"), "%Y-%m-%d %H:%M")
            .unwrap()
            + chrono::Duration::hours(hour);
        let end = start + chrono::Duration::hours(1);
        let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
        let session = g.t.submitted_at(&fmt(start), &fmt(end)).await;
        g.t.app
            .desk
            .approve(&g.t.bob, session.id, session.version)
            .await
            .unwrap();
        ids.push(session.id);
    }
    sqlx::query("update job set next_attempt_at = now(), due_at = now() where kind = 'publish'")
        .execute(&g.t.pool)
        .await
        .unwrap();

    let (stop_a, a) = g.spawn_loop(g.scheduler("replica-a"));
    let (stop_b, b) = g.spawn_loop(g.scheduler("replica-b"));
    for id in &ids {
        g.wait_for_status(*id, "live", 30).await;
        g.wait_for_notices(*id).await;
    }
    stop_a.send(true).unwrap();
    stop_b.send(true).unwrap();
    a.await.unwrap();
    b.await.unwrap();

    for id in &ids {
        assert_eq!(g.publishes(*id).len(), 1, "session {id}");
    }
    let workers: Vec<String> =
        sqlx::query_scalar("select distinct claimed_by from job where kind = 'publish'")
            .fetch_all(&g.t.pool)
            .await
            .unwrap();
    assert!(!workers.is_empty());
    let went_live: i64 =
        sqlx::query_scalar("select count(*) from activity where action = 'went_live'")
            .fetch_one(&g.t.pool)
            .await
            .unwrap();
    assert_eq!(went_live, 50);
    let announced = g.t.chat.posts_to(Channel::Announcements).len();
    assert_eq!(announced, 50, "one now-live message per session");
}

#[sqlx::test]
async fn a_job_whose_worker_died_is_taken_over_once_and_the_late_writer_is_fenced_off(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    // A worker claims the job and "dies" without finishing.
    let dead = jobs::claim_due(&g.t.pool, "dead-worker", Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let stale_fence = dead[0].fence();
    assert!(
        g.scheduler("b").run_due_now().await.unwrap() == 0,
        "the lease is still held"
    );
    g.expire_lease(session.id, "publish").await;

    assert_eq!(g.scheduler("b").run_due_now().await.unwrap(), 1);

    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Live
    );
    let job = g.job(session.id, "publish").await;
    assert_eq!((job.state.as_str(), job.attempts), ("done", 2));
    assert_eq!(g.publishes(session.id).len(), 1);
    // The dead worker wakes up and tries to record its outcome: refused.
    let mut conn = g.t.pool.acquire().await.unwrap();
    assert!(!jobs::finish(&mut conn, stale_fence).await.unwrap());
    assert!(
        !jobs::retry_later(&mut conn, stale_fence, Duration::ZERO, "late")
            .await
            .unwrap()
    );
    let late =
        g.t.app
            .operations
            .system_transition(
                stale_fence,
                session.id,
                Action::End,
                ActivityKind::Ended,
                serde_json::json!({}),
                |_| Vec::new(),
            )
            .await
            .unwrap();
    assert!(matches!(late, SystemOutcome::LostLease), "{late:?}");
    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Live
    );
    assert_eq!(g.job(session.id, "publish").await.state, "done");
}

#[sqlx::test]
async fn a_job_of_a_kind_this_code_does_not_know_is_given_up_with_why_and_holds_nothing_up(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    // Written by a newer version, or by hand.
    sqlx::query(
        "insert into job (session_id, kind, due_at, next_attempt_at, idempotency_key) \
         values ($1, 'refund', now() - interval '1 minute', now() - interval '1 minute', gen_random_uuid())",
    )
    .bind(session.id)
    .execute(&g.t.pool)
    .await
    .unwrap();

    let claimed = jobs::claim_due(&g.t.pool, "a", Duration::from_secs(60), 10)
        .await
        .unwrap();

    let kinds: Vec<String> = claimed.iter().map(|j| j.kind.to_string()).collect();
    assert_eq!(kinds, ["publish"]);
    let unknown = g.job(session.id, "refund").await;
    assert_eq!(unknown.state, "failed", "not claimed again at every lease");
    assert!(
        unknown
            .last_error
            .as_deref()
            .is_some_and(|e| e.ends_with("has kind \"refund\"")),
        "{:?}",
        unknown.last_error
    );
}

#[sqlx::test]
async fn graceful_shutdown_hands_claimed_jobs_back(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    jobs::claim_due(&g.t.pool, "leaving", Duration::from_secs(60), 10)
        .await
        .unwrap();

    assert_eq!(jobs::release_all(&g.t.pool, "leaving").await.unwrap(), 1);

    assert_eq!(
        g.scheduler("other").run_due_now().await.unwrap(),
        1,
        "runs at once elsewhere"
    );
    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Live
    );
}

#[sqlx::test]
async fn reminders_say_what_is_missing_and_mention_who_must_act_in_one_message(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let incomplete = g.t.draft_with(4).await;
    let waiting = g.t.submitted_at(&at(2, "00:00"), &at(2, "06:00")).await;
    g.make_due(incomplete.id, "reminder:60").await;
    g.make_due(waiting.id, "reminder:60").await;

    assert_eq!(g.scheduler("a").run_due_now().await.unwrap(), 2);

    let posts = g.t.chat.posts_to(Channel::Announcements);
    assert_eq!(posts.len(), 1, "reminders due together go out together");
    let message = &posts[0].message;
    let text = message.text.render(|_, _| "<when>".to_owned());
    assert!(
        text.contains(&format!(
            "#{} \"Midnight Deals\" needs 2 more SKUs and submission; approval closes <when>",
            incomplete.id
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "#{} \"Midnight Deals\" is waiting for approval",
            waiting.id
        )),
        "{text}"
    );
    assert_eq!(message.mentions, [Mention::Editors, Mention::Approvers]);
    assert_eq!(g.job(incomplete.id, "reminder:60").await.state, "done");
}

#[sqlx::test]
async fn an_approved_session_is_not_nagged(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.draft_with(6).await;
    // A reminder already claimed when the session got approved: it finds nothing to say.
    g.make_due(session.id, "reminder:60").await;
    let claimed = jobs::claim_due(&g.t.pool, "slow", Duration::from_secs(60), 10)
        .await
        .unwrap();
    let submitted = g.t.app.desk.submit(&g.t.alice, session.id).await.unwrap();
    g.t.app
        .desk
        .approve(&g.t.bob, session.id, submitted.version)
        .await
        .unwrap();
    g.expire_lease(session.id, "reminder:60").await;
    assert_eq!(claimed.len(), 1);

    assert_eq!(g.scheduler("a").run_due_now().await.unwrap(), 1);

    assert!(g.t.chat.posts_to(Channel::Announcements).is_empty());
    assert!(!pending(&g.jobs_of(session.id).await)
        .iter()
        .any(|k| k.starts_with("reminder")));
}

#[sqlx::test]
async fn an_unapproved_session_expires_at_the_deadline(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.submitted().await;
    g.make_due(session.id, "expire").await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Expired
    );
    let notice = &g.t.chat.posts_to(Channel::Announcements)[0].message;
    assert!(notice
        .text
        .render(|_, _| String::new())
        .contains("will not go live"));
    assert_eq!(notice.mentions, [Mention::Editors]);
    assert!(
        pending(&g.jobs_of(session.id).await).is_empty(),
        "no reminders after expiry"
    );
}

#[sqlx::test]
async fn the_heads_up_announces_an_armed_session(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "heads_up").await;

    g.scheduler("a").run_due_now().await.unwrap();

    let posts = g.t.chat.posts_to(Channel::Announcements);
    assert_eq!(posts.len(), 1);
    assert!(posts[0]
        .message
        .text
        .render(|_, _| "<t>".into())
        .starts_with(&format!("Armed: #{}", session.id)));
}

#[sqlx::test]
async fn the_heads_up_alerts_approvers_when_stock_ran_out(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.t.catalog.set_stock("FS-004", 2).await;
    g.make_due(session.id, "heads_up").await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert!(g.t.chat.posts_to(Channel::Announcements).is_empty());
    let alert =
        g.t.chat
            .posts_to(Channel::Approvals)
            .into_iter()
            .find(|p| p.message.card.is_none())
            .unwrap();
    assert_eq!(alert.message.mentions, [Mention::Approvers]);
    let text = alert.message.text.render(|_, _| "<t>".into());
    assert!(
        text.starts_with(&format!("Urgent: #{}", session.id)),
        "{text}"
    );
    assert!(text.contains("FS-004 has 2 units in stock"), "{text}");
}

#[sqlx::test]
async fn a_publish_for_a_session_cancelled_meanwhile_does_nothing(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let claimed = jobs::claim_due(&g.t.pool, "slow", Duration::from_secs(60), 10)
        .await
        .unwrap();
    g.t.app
        .desk
        .cancel(&g.t.bob, session.id, Some("promo cancelled"))
        .await
        .unwrap();
    g.expire_lease(session.id, "publish").await;
    assert_eq!(claimed.len(), 1);

    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(
        g.t.app.queries.get(session.id).await.unwrap().status,
        Status::Cancelled
    );
    assert!(g.publishes(session.id).is_empty());
}

#[sqlx::test]
async fn the_daily_digest_lists_the_sessions_and_is_posted_once_across_replicas(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let first = g.t.approved().await;
    let second = g.t.draft_at("tomorrow 15:00", "tomorrow 18:00").await;

    // Two replicas' cron jobs fire at the same time.
    tokio::join!(
        g.t.app.operations.post_digest(),
        g.t.app.operations.post_digest()
    );

    let posts = g.t.chat.posts_to(Channel::Announcements);
    assert_eq!(posts.len(), 1, "one digest a day");
    let text = posts[0]
        .message
        .text
        .render(|at, _| at.format("%H:%M").to_string());
    assert_eq!(
        text,
        format!(
            "Daily digest, today and tomorrow:\n\
             • #{} \"Midnight Deals\" · Approved · 6/6 SKUs · 17:00 → 05:00\n  \
             (free: 05:00 → 08:00)\n\
             • #{} \"Midnight Deals\" · Draft · 0/6 SKUs · 08:00 → 11:00",
            first.id, second.id
        )
    );
}

#[sqlx::test]
async fn a_digest_the_chat_could_not_take_at_cron_time_is_posted_once_when_it_is_back(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    g.t.approved().await;
    let digests = |g: &GoLive| posts_with(g, Channel::Announcements, "Daily digest").len();
    // Cron time on two replicas, while the chat is down.
    g.t.chat.set_down(true);
    tokio::join!(
        g.t.app.operations.post_digest(),
        g.t.app.operations.post_digest()
    );
    assert_eq!(digests(&g), 0, "the chat is down");

    // The chat comes back: whichever scheduler looks next posts it, once.
    g.t.chat.set_down(false);
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&g.t.pool)
        .await
        .unwrap();
    g.scheduler("a").run_due_now().await.unwrap();
    g.scheduler("b").run_due_now().await.unwrap();
    assert_eq!(digests(&g), 1);

    // The cron firing again that day (a restarted replica) posts no second one.
    g.t.app.operations.post_digest().await;
    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(digests(&g), 1);
}

/// Only sessions that really run count as busy: a cancelled one leaves its
/// time free, and one an approver stopped holds the storefront only until it
/// was stopped, in the digest's text and in its picture.
#[sqlx::test]
async fn the_digest_counts_a_stopped_session_busy_only_until_it_was_stopped(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let stopped = g.t.approved().await;
    let cancelled = g.t.draft_at("tomorrow 12:00", "tomorrow 14:00").await;
    g.t.app
        .desk
        .cancel(&g.t.alice, cancelled.id, None)
        .await
        .unwrap();
    let later = g.t.submitted_at("tomorrow 15:00", "tomorrow 18:00").await;
    g.t.app
        .desk
        .approve(&g.t.bob, later.id, later.version)
        .await
        .unwrap();
    // Live, then stopped by an approver and ended on the storefront.
    g.make_due(stopped.id, "publish").await;
    let scheduler = g.scheduler("a");
    scheduler.run_due_now().await.unwrap();
    g.t.clock.set(chrono::Utc::now());
    g.t.app
        .desk
        .stop(&g.t.bob, stopped.id, "wrong price on FS-002")
        .await
        .unwrap();
    scheduler.run_due_now().await.unwrap();
    assert_eq!(
        g.t.app.queries.get(stopped.id).await.unwrap().status,
        Status::Ended
    );
    let ended_at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select ended_at from session where id = $1")
            .bind(stopped.id)
            .fetch_one(&g.t.pool)
            .await
            .unwrap();
    let ended_at = ended_at.expect("the end is recorded");
    assert!((chrono::Utc::now() - ended_at).num_seconds().abs() < 60);
    // The test cannot wait for tomorrow: the sale went live and stopped now,
    // before its planned start. Place the stop two hours into the sale, as if
    // it had run from its start.
    sqlx::query("update session set ended_at = starts_at + interval '2 hours' where id = $1")
        .bind(stopped.id)
        .execute(&g.t.pool)
        .await
        .unwrap();
    g.t.clock.set(test_now());

    g.t.app.operations.post_digest().await;

    let posts = g.t.chat.posts_to(Channel::Announcements);
    let digest = posts
        .iter()
        .find(|p| {
            p.message
                .text
                .render(|_, _| String::new())
                .starts_with("Daily digest")
        })
        .expect("the digest");
    let jakarta = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&chrono_tz::Asia::Jakarta)
            .format("%H:%M")
            .to_string()
    };
    assert_eq!(
        digest.message.text.render(|at, _| jakarta(at)),
        format!(
            "Daily digest, today and tomorrow:\n\
             • #{} \"Midnight Deals\" · Ended · 6/6 SKUs · 00:00 → 12:00 (stopped early 02:00)\n\
             • #{} \"Midnight Deals\" · Cancelled · 0/6 SKUs · 12:00 → 14:00\n  \
             (free: 02:00 → 15:00)\n\
             • #{} \"Midnight Deals\" · Approved · 6/6 SKUs · 15:00 → 18:00",
            stopped.id, cancelled.id, later.id
        )
    );
    let Some(Picture::Day(sheet)) = &digest.message.picture else {
        panic!("the digest has its timeline: {:?}", digest.message.picture);
    };
    let held: Vec<(i64, Held)> = sheet.bars.iter().map(|b| (b.session_id, b.held)).collect();
    assert_eq!(
        held,
        [
            (
                stopped.id,
                Held::Until(stopped.window.starts_at() + chrono::Duration::hours(2))
            ),
            (cancelled.id, Held::Nothing),
            (later.id, Held::Window),
        ]
    );
}

#[sqlx::test]
async fn the_scheduler_stops_when_nobody_can_stop_it_any_more(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let (stop, handle) = g.spawn_loop(g.scheduler("orphan"));

    drop(stop);

    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("the loop kept running after its shutdown sender was dropped")
        .unwrap();
}
