//! The storefront, the database and the channel tell one story after every
//! fault: each scenario injects a fault into the dev storefront or the chat,
//! lets the scheduler (or the reconciler) work, and ends by reading the
//! storefront's state, the session and the posts, and checking that they
//! agree, with exactly one post per state change.

use std::time::Duration;

use flashsale_bot::app::Notice;
use flashsale_bot::chat::{Channel, InDoubt, Text};
use flashsale_bot::devstore::Faults;
use flashsale_bot::domain::Status;
use flashsale_bot::scheduler::{Finding, SchedulerConfig};
use flashsale_bot::store::jobs;
use sqlx::PgPool;

use crate::support::app::at;
use crate::support::golive::*;

#[sqlx::test]
async fn a_read_back_that_misses_a_published_sale_is_retried_and_the_sale_goes_live(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // The PUT is applied; the read-back right after it answers 404 once.
    g.store.set_faults(Faults {
        fail_next: 1,
        status: Some(404),
        method: Some("GET".to_owned()),
        ..Faults::default()
    });
    g.make_due(session.id, "publish").await;
    let scheduler = g.scheduler("a");

    scheduler.run_due_now().await.unwrap();
    assert_eq!(g.status(session.id).await, Status::Approved, "not failed");
    assert_eq!(g.job(session.id, "publish").await.state, "pending");
    g.make_due(session.id, "publish").await;
    scheduler.run_due_now().await.unwrap();

    assert_eq!(g.status(session.id).await, Status::Live);
    assert!(g.up_on_storefront(session.id));
    assert_eq!(now_live_posts(&g), 1);
    assert!(posts_with(&g, Channel::Approvals, "could not be published").is_empty());
}

#[sqlx::test]
async fn a_publish_that_fails_for_good_takes_the_sale_down_again(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // The sale is up (a PUT applied), but the read-back keeps failing with an
    // answer that retrying cannot fix.
    g.store.set_faults(Faults {
        fail_next: 1,
        status: Some(422),
        method: Some("GET".to_owned()),
        ..Faults::default()
    });
    g.make_due(session.id, "publish").await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(session.id).await, Status::Failed);
    assert!(
        !g.up_on_storefront(session.id),
        "the storefront must agree with \"will not go live\""
    );
    assert_eq!(
        posts_with(&g, Channel::Approvals, "could not be published").len(),
        1
    );
    assert_eq!(
        posts_with(&g, Channel::Approvals, "taken down again").len(),
        1
    );
    assert_eq!(now_live_posts(&g), 0);
}

#[sqlx::test]
async fn a_long_retry_after_is_capped_to_the_window_and_the_sale_still_goes_live(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.store.set_faults(Faults {
        fail_next: 1,
        status: Some(429),
        retry_after_secs: Some(100 * 24 * 3600),
        ..Faults::default()
    });
    g.make_due(session.id, "publish").await;
    let scheduler = g.scheduler("a");

    scheduler.run_due_now().await.unwrap();

    assert_eq!(g.status(session.id).await, Status::Approved, "not given up");
    let retry_in_window: bool = sqlx::query_scalar(
        "select j.next_attempt_at < s.ends_at from job j join session s on s.id = j.session_id \
         where j.session_id = $1 and j.kind = 'publish' and j.state = 'pending'",
    )
    .bind(session.id)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();
    assert!(
        retry_in_window,
        "the retry must land while the sale can run"
    );
    g.make_due(session.id, "publish").await;
    scheduler.run_due_now().await.unwrap();
    assert_eq!(g.status(session.id).await, Status::Live);
    assert!(g.up_on_storefront(session.id));
    assert_eq!(now_live_posts(&g), 1);
}

#[sqlx::test]
async fn an_end_the_storefront_refuses_keeps_the_sale_live_here_and_alerts_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    g.t.app
        .desk
        .stop(&g.t.bob, id, "supplier recall")
        .await
        .unwrap();
    g.store.set_faults(Faults {
        fail_next: 2,
        status: Some(400),
        method: Some("DELETE".to_owned()),
        ..Faults::default()
    });
    let scheduler = g.scheduler("a");

    scheduler.run_due_now().await.unwrap();
    g.make_due(id, "end").await;
    scheduler.run_due_now().await.unwrap();

    assert_eq!(
        g.status(id).await,
        Status::Live,
        "still live there, so here"
    );
    assert!(g.up_on_storefront(id));
    assert_eq!(g.job(id, "end").await.state, "pending", "still trying");
    assert_eq!(
        posts_with(&g, Channel::Approvals, "refused to end").len(),
        1,
        "told once"
    );
    assert!(posts_with(&g, Channel::Announcements, "has ended").is_empty());

    // The storefront takes it now.
    g.make_due(id, "end").await;
    scheduler.run_due_now().await.unwrap();
    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
    assert_eq!(
        posts_with(&g, Channel::Announcements, "has ended early").len(),
        1
    );
}

#[sqlx::test]
async fn a_404_to_the_end_call_counts_only_when_the_sale_is_really_gone(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    // The storefront answers 404 without having ended anything, also to the
    // fresh DELETE the end job sends when it still reads the sale up.
    g.store.set_faults(Faults {
        fail_next: 2,
        status: Some(404),
        method: Some("DELETE".to_owned()),
        ..Faults::default()
    });
    g.make_due(id, "end").await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert!(g.up_on_storefront(id));
    assert_eq!(g.status(id).await, Status::Live, "the read says it is up");
    assert!(posts_with(&g, Channel::Announcements, "has ended").is_empty());
}

#[sqlx::test]
async fn a_retry_runs_on_its_backoff_not_on_the_next_poll(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.fail_next_calls(1, 500);
    g.make_due(session.id, "publish").await;
    // A poll and a lease so long that only a wake-up can make the retry in time.
    let config = SchedulerConfig {
        poll: Duration::from_secs(300),
        lease: Duration::from_secs(120),
        retry_base: Duration::from_millis(200),
        retry_cap: Duration::from_millis(200),
        ..fast_config("a")
    };
    let (stop, handle) = g.spawn_loop(g.scheduler_with(config, Duration::from_secs(2)));

    g.wait_for_status(session.id, "live", 20).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert_eq!(g.job(session.id, "publish").await.attempts, 2);
    assert!(g.up_on_storefront(session.id));
    assert_eq!(now_live_posts(&g), 1);
}

#[sqlx::test]
async fn a_dead_workers_job_is_taken_over_within_one_lease(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let lease = Duration::from_secs(2);
    // A worker claims the publish and dies (kill -9): no heartbeat follows.
    jobs::claim_due(&g.t.pool, "killed", lease, 10)
        .await
        .unwrap();
    let config = SchedulerConfig {
        lease,
        heartbeat: Duration::from_millis(500),
        poll: Duration::from_secs(300),
        ..fast_config("b")
    };
    let (stop, handle) = g.spawn_loop(g.scheduler_with(config, Duration::from_secs(2)));

    // The loop sleeps until the lease runs out by the database clock.
    g.wait_for_status(session.id, "live", 15).await;
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert!(g.up_on_storefront(session.id));
    assert_eq!(g.publishes(session.id).len(), 1);
    assert_eq!(now_live_posts(&g), 1);
}

#[sqlx::test]
async fn a_slow_but_live_worker_keeps_its_job_by_heartbeat(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    // The PUT takes 3 s, the lease is 1 s: only the heartbeat keeps the claim.
    g.stall_next_call(3);
    let config = |worker| SchedulerConfig {
        lease: Duration::from_secs(1),
        heartbeat: Duration::from_millis(200),
        ..fast_config(worker)
    };
    let (stop_a, a) = g.spawn_loop(g.scheduler_with(config("a"), Duration::from_secs(10)));
    g.wait_for_job(session.id, "publish", "running").await;
    let (stop_b, b) = g.spawn_loop(g.scheduler_with(config("b"), Duration::from_secs(10)));

    g.wait_for_status(session.id, "live", 15).await;
    g.wait_for_notices(session.id).await;
    stop_a.send(true).unwrap();
    stop_b.send(true).unwrap();
    a.await.unwrap();
    b.await.unwrap();

    let claims: i64 =
        sqlx::query_scalar("select claims from job where session_id = $1 and kind = 'publish'")
            .bind(session.id)
            .fetch_one(&g.t.pool)
            .await
            .unwrap();
    assert_eq!(claims, 1, "nobody took over a job whose worker was alive");
    assert_eq!(now_live_posts(&g), 1);
}

#[sqlx::test]
async fn a_now_live_the_chat_could_not_take_is_posted_once_when_it_is_back(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.t.chat.set_down(true);
    g.make_due(session.id, "publish").await;

    // Two replicas, one after the other, while the chat is down.
    g.scheduler("a").run_due_now().await.unwrap();
    g.scheduler("b").run_due_now().await.unwrap();
    assert_eq!(g.status(session.id).await, Status::Live);
    assert!(g.up_on_storefront(session.id));
    assert_eq!(now_live_posts(&g), 0, "the chat is down");

    // The chat comes back; a restarted process delivers what waited, once.
    g.t.chat.set_down(false);
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&g.t.pool)
        .await
        .unwrap();
    g.scheduler("restarted").run_due_now().await.unwrap();
    g.scheduler("other").run_due_now().await.unwrap();

    assert_eq!(now_live_posts(&g), 1);
    let sent: i64 = sqlx::query_scalar(
        "select count(*) from outbox where session_id = $1 and event = 'live' and state = 'sent'",
    )
    .bind(session.id)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();
    assert_eq!(sent, 1);
}

#[sqlx::test]
async fn a_state_change_and_its_notice_commit_together_once_per_version(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    // The publish job runs again (a crash before it was marked done): the
    // change is made already and writes no second notice.
    sqlx::query("update job set state = 'pending', next_attempt_at = now() where session_id = $1 and kind = 'publish'")
        .bind(id)
        .execute(&g.t.pool)
        .await
        .unwrap();

    g.scheduler("again").run_due_now().await.unwrap();

    let notices: Vec<String> =
        sqlx::query_scalar("select event from outbox where session_id = $1 order by id")
            .bind(id)
            .fetch_all(&g.t.pool)
            .await
            .unwrap();
    // The approval card, written with the submit, then "now live" once.
    assert_eq!(notices, ["card", "live"]);
    assert_eq!(now_live_posts(&g), 1);
}

#[sqlx::test]
async fn fencing_tokens_only_grow_when_a_running_job_is_replanned(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    g.make_due(id, "end").await;
    let stale = jobs::claim_due(&g.t.pool, "slow", Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
    // `stop` moves the running end job: it is pending again, attempts reset.
    g.t.app
        .desk
        .stop(&g.t.bob, id, "wrong prices")
        .await
        .unwrap();
    let fresh = jobs::claim_due(&g.t.pool, "fresh", Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(fresh.len(), 1);

    assert_eq!(fresh[0].attempt, 1, "a new plan counts its tries afresh");
    assert!(fresh[0].claim > stale[0].claim, "the token never repeats");
    let mut conn = g.t.pool.acquire().await.unwrap();
    assert!(!jobs::finish(&mut conn, stale[0].fence()).await.unwrap());
    assert!(jobs::finish(&mut conn, fresh[0].fence()).await.unwrap());
}

#[sqlx::test]
async fn the_reconciler_puts_back_a_live_sale_missing_on_the_storefront(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    g.store.forget_sale(id);

    let found = g.scheduler("a").reconcile_now().await.unwrap();
    g.scheduler("a").run_due_now().await.unwrap();

    // The round only reads, and asks the sale's writer for a repair.
    assert_eq!(found, [(id, Finding::RepairAsked)]);
    assert!(g.up_on_storefront(id));
    assert_eq!(g.status(id).await, Status::Live);
    assert!(g.t.activity_count(id, "republished").await == 1);
    assert_eq!(
        posts_with(&g, Channel::Approvals, "was published again").len(),
        1
    );
    // The next round finds them agreeing, and says nothing more.
    sqlx::query("update session set reconcile_lease_until = null")
        .execute(&g.t.pool)
        .await
        .unwrap();
    assert_eq!(
        g.scheduler("b").reconcile_now().await.unwrap(),
        [(id, Finding::Agrees)]
    );
}

#[sqlx::test]
async fn the_reconciler_takes_down_a_sale_whose_session_was_cancelled(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // A publish attempt whose answer was lost: the sale is up, the job
    // does not know, and the session is cancelled meanwhile.
    g.stall_next_call(2);
    g.make_due(session.id, "publish").await;
    g.scheduler_with(fast_config("a"), Duration::from_millis(300))
        .run_due_now()
        .await
        .unwrap();
    assert!(g.up_on_storefront(session.id));
    g.t.app
        .desk
        .cancel(&g.t.bob, session.id, Some("supplier pulled out"))
        .await
        .unwrap();
    // The publish job, re-armed to clean up, is lost (say, with its process).
    sqlx::query("update job set state = 'cancelled' where session_id = $1 and kind = 'publish'")
        .bind(session.id)
        .execute(&g.t.pool)
        .await
        .unwrap();

    let found = g.scheduler("a").reconcile_now().await.unwrap();
    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(found, [(session.id, Finding::RepairAsked)]);
    assert!(!g.up_on_storefront(session.id));
    assert_eq!(g.t.activity_count(session.id, "taken_down").await, 1);
    assert_eq!(
        posts_with(&g, Channel::Approvals, "it was taken down").len(),
        1
    );
}

#[sqlx::test]
async fn the_reconciler_leaves_agreeing_sessions_alone(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    let calls_before = g.store.calls().len();

    let found = g.scheduler("a").reconcile_now().await.unwrap();

    assert_eq!(found, [(id, Finding::Agrees)]);
    let calls: Vec<String> = g.store.calls()[calls_before..]
        .iter()
        .map(|c| c.method.clone())
        .collect();
    assert_eq!(calls, ["GET"], "read, never assume, and touch nothing");
    assert!(posts_with(&g, Channel::Approvals, "storefront").is_empty());
}

fn reminder_posts(g: &GoLive, session_id: i64) -> usize {
    posts_with(g, Channel::Announcements, &format!("#{session_id} ")).len()
}

async fn outbox_events(g: &GoLive, session_id: i64) -> Vec<(String, String)> {
    sqlx::query_as("select event, state from outbox where session_id = $1 order by id")
        .bind(session_id)
        .fetch_all(&g.t.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_reminder_the_chat_could_not_take_is_posted_once_when_it_is_back(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let waiting = g.t.submitted_at(&at(2, "00:00"), &at(2, "06:00")).await;
    g.t.chat.set_down(true);
    g.make_due(waiting.id, "reminder:60").await;

    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(reminder_posts(&g, waiting.id), 0, "the chat is down");
    assert_eq!(g.job(waiting.id, "reminder:60").await.state, "done");

    // The chat comes back; whichever process looks next delivers it, once.
    g.t.chat.set_down(false);
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&g.t.pool)
        .await
        .unwrap();
    g.scheduler("b").run_due_now().await.unwrap();
    g.scheduler("c").run_due_now().await.unwrap();

    let posts = posts_with(&g, Channel::Announcements, "is waiting for approval");
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].starts_with("Reminder:"), "{}", posts[0]);
    assert_eq!(
        outbox_events(&g, waiting.id).await,
        [
            ("card".to_owned(), "sent".to_owned()),
            ("reminder:60".to_owned(), "sent".to_owned())
        ]
    );
}

#[sqlx::test]
async fn a_reminder_job_that_runs_twice_reminds_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let incomplete = g.t.draft_with(4).await;
    g.make_due(incomplete.id, "reminder:60").await;
    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(reminder_posts(&g, incomplete.id), 1);

    // The job runs again (as after a crash before it was marked done).
    sqlx::query(
        "update job set state = 'pending', next_attempt_at = now() \
         where session_id = $1 and kind = 'reminder:60'",
    )
    .bind(incomplete.id)
    .execute(&g.t.pool)
    .await
    .unwrap();
    g.scheduler("b").run_due_now().await.unwrap();

    assert_eq!(g.job(incomplete.id, "reminder:60").await.state, "done");
    assert_eq!(reminder_posts(&g, incomplete.id), 1, "said once");
    assert_eq!(
        outbox_events(&g, incomplete.id).await,
        [("reminder:60".to_owned(), "sent".to_owned())]
    );
}

#[sqlx::test]
async fn a_heads_up_the_chat_could_not_take_is_posted_once_when_it_is_back(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.t.chat.set_down(true);
    g.make_due(session.id, "heads_up").await;
    g.scheduler("a").run_due_now().await.unwrap();
    assert!(posts_with(&g, Channel::Announcements, "Armed").is_empty());

    g.t.chat.set_down(false);
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&g.t.pool)
        .await
        .unwrap();
    // Run again too: the same version's heads-up is not written twice.
    sqlx::query("update job set state = 'pending', next_attempt_at = now() where session_id = $1 and kind = 'heads_up'")
        .bind(session.id)
        .execute(&g.t.pool)
        .await
        .unwrap();
    g.scheduler("b").run_due_now().await.unwrap();

    assert_eq!(posts_with(&g, Channel::Announcements, "Armed").len(), 1);
}

/// Makes every waiting outbox post due now (its backoff is not the story).
async fn outbox_due_now(g: &GoLive) {
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&g.t.pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn an_approval_card_the_chat_could_not_take_is_posted_once_when_it_is_back(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let draft = g.t.draft_with(6).await;
    g.t.chat.set_down(true);

    let submitted = g.t.app.desk.submit(&g.t.alice, draft.id).await.unwrap();
    assert_eq!(submitted.status, Status::PendingApproval);
    assert!(
        g.t.chat.posts_to(Channel::Approvals).is_empty(),
        "the chat is down"
    );
    assert_eq!(
        outbox_events(&g, draft.id).await,
        [("card".to_owned(), "pending".to_owned())]
    );

    // The chat comes back; whichever process looks next posts it, once.
    g.t.chat.set_down(false);
    outbox_due_now(&g).await;
    g.scheduler("a").run_due_now().await.unwrap();
    g.scheduler("b").run_due_now().await.unwrap();

    let cards = g.t.chat.posts_to(Channel::Approvals);
    assert_eq!(cards.len(), 1);
    assert!(!cards[0].message.buttons.is_empty(), "Approve and Reject");
    // The session knows where its card is: the approval edits it in place.
    g.t.app
        .desk
        .approve(&g.t.bob, draft.id, submitted.version)
        .await
        .unwrap();
    let card = &g.t.chat.posts_to(Channel::Approvals)[0];
    let last = card.edits.last().expect("the approval edited the card");
    assert!(last.buttons.is_empty(), "an approved card is read-only");
}

#[sqlx::test]
async fn a_card_that_arrives_after_its_session_moved_on_is_redrawn_at_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let draft = g.t.draft_with(6).await;
    g.t.chat.set_down(true);
    g.t.app.desk.submit(&g.t.alice, draft.id).await.unwrap();
    // Withdrawn while the card still waits for the chat.
    let withdrawn = g.t.app.desk.withdraw(&g.t.alice, draft.id).await.unwrap();
    assert_eq!(withdrawn.status, Status::Draft);

    g.t.chat.set_down(false);
    outbox_due_now(&g).await;
    g.scheduler("a").run_due_now().await.unwrap();

    let cards = g.t.chat.posts_to(Channel::Approvals);
    assert_eq!(cards.len(), 1);
    let shown = cards[0].edits.last().expect("redrawn after posting");
    assert!(shown.buttons.is_empty(), "nothing left to approve");
    let text = shown.text.render(|_, _| String::new());
    assert!(text.contains("Draft"), "{text}");
}

#[sqlx::test]
async fn a_card_the_chat_takes_at_once_is_posted_by_the_submit_itself(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let submitted = g.t.submitted().await;

    // No scheduler has run: the submit posted it.
    assert_eq!(g.t.chat.posts_to(Channel::Approvals).len(), 1);
    assert_eq!(
        outbox_events(&g, submitted.id).await,
        [("card".to_owned(), "sent".to_owned())]
    );
    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(g.t.chat.posts_to(Channel::Approvals).len(), 1, "not twice");
}

#[sqlx::test]
async fn a_card_edit_the_chat_could_not_take_is_redrawn_when_it_is_back(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let submitted = g.t.submitted().await;
    g.t.chat.set_down(true);
    g.t.app
        .desk
        .approve(&g.t.bob, submitted.id, submitted.version)
        .await
        .unwrap();
    g.t.chat.set_down(false);
    let card = g.t.chat.posts_to(Channel::Approvals).remove(0);
    assert!(card.edits.is_empty(), "the approval's edit was lost");
    assert!(
        !card.message.buttons.is_empty(),
        "the card still offers Approve"
    );
    // A change's own edit follows it at once: a fresh one is left alone.
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 0);

    sqlx::query("update session set updated_at = now() - interval '1 minute' where id = $1")
        .bind(submitted.id)
        .execute(&g.t.pool)
        .await
        .unwrap();
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 1);

    let card = g.t.chat.posts_to(Channel::Approvals).remove(0);
    let shown = card.edits.last().expect("the card was redrawn");
    assert!(shown.buttons.is_empty(), "an approved card is read-only");
    assert_eq!(
        shown.card.as_ref().map(|c| c.status.as_str()),
        Some("Approved")
    );
    assert_eq!(
        g.t.app.operations.redraw_stale_cards().await.unwrap(),
        0,
        "the card and the database agree now"
    );
}

/// Makes the session's last change older than the stale-card grace, as if
/// the reconciler's round came a minute later.
async fn changed_a_while_ago(g: &GoLive, session_id: i64, ago: &str) {
    sqlx::query("update session set updated_at = now() - $2::interval where id = $1")
        .bind(session_id)
        .bind(ago)
        .execute(&g.t.pool)
        .await
        .unwrap();
}

/// A submitted session whose approval the chat did not take: its card still
/// offers Approve, and is behind.
async fn approved_while_the_chat_was_down(g: &GoLive) -> i64 {
    let submitted = g.t.submitted().await;
    g.t.chat.set_down(true);
    g.t.app
        .desk
        .approve(&g.t.bob, submitted.id, submitted.version)
        .await
        .unwrap();
    g.t.chat.set_down(false);
    submitted.id
}

#[sqlx::test]
async fn a_card_edit_the_chat_refuses_for_good_is_given_up_and_holds_no_newer_card_back(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    // 25 cards someone deleted in the chat, each behind its session (withdrawn
    // while the chat was down), older than any other stale card.
    sqlx::query(
        "insert into session (title, starts_at, ends_at, status, created_by, created_by_name, \
             card_channel, card_message, card_status, card_version, updated_at) \
         select 'Gone ' || n, now() + interval '2 days', now() + interval '2 days 1 hour', \
             'draft', 'test:alice', 'alice', 'Approvals', 'deleted-' || n, 'pending_approval', 1, \
             now() - interval '10 minutes' \
         from generate_series(1, 25) as n",
    )
    .execute(&g.t.pool)
    .await
    .unwrap();
    // And one card left behind by an approval the chat did not take, newer.
    let id = approved_while_the_chat_was_down(&g).await;
    changed_a_while_ago(&g, id, "1 minute").await;

    // Two rounds of the reconciler: the first meets 20 deleted cards (its
    // limit) and gives each up; the second reaches the approved session's.
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 0);
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 1);

    let card = g.t.chat.posts_to(Channel::Approvals).remove(0);
    let shown = card.edits.last().expect("the approved card was redrawn");
    assert_eq!(
        shown.card.as_ref().map(|c| c.status.as_str()),
        Some("Approved")
    );
    let lost: Vec<String> = sqlx::query_scalar(
        "select card_lost_reason from session where card_lost_at is not null order by id",
    )
    .fetch_all(&g.t.pool)
    .await
    .unwrap();
    assert_eq!(lost.len(), 25, "every refused card is recorded as lost");
    assert!(lost[0].contains("unknown message"), "{}", lost[0]);
    // No retry loop: later rounds ask the chat nothing.
    let edits = g.t.chat.edit_calls();
    for _ in 0..3 {
        assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 0);
    }
    assert_eq!(g.t.chat.edit_calls(), edits);
}

#[sqlx::test]
async fn after_its_card_was_lost_the_next_state_change_posts_a_fresh_card(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = approved_while_the_chat_was_down(&g).await;
    let first = g.t.chat.posts_to(Channel::Approvals).remove(0);
    g.t.chat.delete(&first.reference);
    changed_a_while_ago(&g, id, "1 minute").await;
    // The reconciler's redraw is refused for good: the card is lost, and
    // nothing is posted in its place yet.
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 0);
    assert_eq!(g.t.chat.posts_to(Channel::Approvals).len(), 1);

    // The session still works; its next change posts a fresh card.
    let revoked =
        g.t.app
            .desk
            .revoke(&g.t.bob, id, Some("prices change tomorrow"))
            .await
            .unwrap();
    assert_eq!(revoked.status, Status::Draft);
    let cards = g.t.chat.posts_to(Channel::Approvals);
    assert_eq!(cards.len(), 2, "a fresh card in place of the lost one");
    let fresh = &cards[1];
    assert_eq!(
        fresh.message.card.as_ref().map(|c| c.status.as_str()),
        Some("Draft")
    );
    assert!(fresh.message.buttons.is_empty());
    assert!(cards[0].edits.is_empty(), "the lost card is not touched");
    assert_eq!(
        g.t.app.operations.redraw_stale_cards().await.unwrap(),
        0,
        "up to date"
    );

    // The change after that edits the fresh card in place.
    g.t.app.desk.cancel(&g.t.alice, id, None).await.unwrap();
    let cards = g.t.chat.posts_to(Channel::Approvals);
    assert_eq!(cards.len(), 2, "no third card");
    let shown = cards[1].edits.last().expect("the fresh card was edited");
    assert_eq!(
        shown.card.as_ref().map(|c| c.status.as_str()),
        Some("Cancelled")
    );
}

#[sqlx::test]
async fn a_fresh_card_whose_answer_is_lost_is_not_posted_again_and_approvers_are_asked(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    // Slack: a repeat would show twice, and only history could tell.
    g.t.chat.set_in_doubt(InDoubt::Stop);
    let id = approved_while_the_chat_was_down(&g).await;
    let first = g.t.chat.posts_to(Channel::Approvals).remove(0);
    g.t.chat.delete(&first.reference);
    changed_a_while_ago(&g, id, "1 minute").await;
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 0);

    // The revoke's fresh card reaches the channel, but its answer is lost.
    g.t.chat.lose_answers(1);
    g.t.app
        .desk
        .revoke(&g.t.bob, id, Some("prices change tomorrow"))
        .await
        .unwrap();
    let cards = |g: &GoLive| {
        g.t.chat
            .posts_to(Channel::Approvals)
            .into_iter()
            .filter(|p| p.message.card.is_some())
            .count()
    };
    assert_eq!(cards(&g), 2, "the lost card and the fresh one");
    let version: i32 = sqlx::query_scalar("select version from session where id = $1")
        .bind(id)
        .fetch_one(&g.t.pool)
        .await
        .unwrap();
    let fresh: String = sqlx::query_scalar(
        "select state from outbox where session_id = $1 and event = 'card' and version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();
    assert_eq!(fresh, "unconfirmed", "kept, not tried again");

    // Delivering what is due (the request to check) posts no third card.
    g.t.deliver_notices().await;
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&g.t.pool)
        .await
        .unwrap();
    g.t.deliver_notices().await;
    assert_eq!(cards(&g), 2, "no card posted again");
    let asked = g.t.checks_asked();
    assert_eq!(asked.len(), 1, "approvers asked once: {asked:?}");
}

#[sqlx::test]
async fn the_stale_card_scan_reads_only_cards_that_are_behind_through_its_index(pool: PgPool) {
    let g = GoLive::new(pool).await;
    // A year of history: 20,000 sessions, their cards up to date.
    sqlx::query(
        "insert into session (title, starts_at, ends_at, status, created_by, created_by_name, \
             card_channel, card_message, card_status, card_version, updated_at) \
         select 'Old ' || n, now() - make_interval(days => n % 365 + 1), \
             now() - make_interval(days => n % 365 + 1) + interval '1 hour', \
             'ended', 'test:alice', 'alice', 'Approvals', 'card-' || n, 'ended', 1, \
             now() - make_interval(days => n % 365 + 1) \
         from generate_series(1, 20000) as n",
    )
    .execute(&g.t.pool)
    .await
    .unwrap();
    let behind = approved_while_the_chat_was_down(&g).await;
    changed_a_while_ago(&g, behind, "1 minute").await;
    sqlx::query("analyze session")
        .execute(&g.t.pool)
        .await
        .unwrap();

    let plan: serde_json::Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "explain (format json) {}",
        flashsale_bot::store::sessions::STALE_CARDS
    )))
    .bind(5.0_f64)
    .bind(20_i64)
    .fetch_one(&g.t.pool)
    .await
    .unwrap();

    let plan = plan.to_string();
    assert!(
        !plan.contains("Seq Scan"),
        "the whole table is read: {plan}"
    );
    assert!(plan.contains("session_card_behind"), "{plan}");
    // And the scan still finds the one card that is behind.
    assert_eq!(g.t.app.operations.redraw_stale_cards().await.unwrap(), 1);
}

#[sqlx::test]
async fn a_slow_post_keeps_its_lease_by_heartbeat_and_is_posted_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.t.app
        .operations
        .notify(
            session.id,
            Notice::alert("slow", Text::from("Check the prices of #1")),
        )
        .await
        .unwrap();
    // Each post takes 3 s (a slow chat); the lease
    // is 1 s: only the heartbeat keeps the claim.
    g.t.chat.set_post_delay(Duration::from_secs(3));
    let calls_before = g.t.chat.post_calls();
    let config = |worker| SchedulerConfig {
        lease: Duration::from_secs(1),
        heartbeat: Duration::from_millis(200),
        ..fast_config(worker)
    };
    let a = g.scheduler_with(config("a"), Duration::from_secs(2));
    let posting = tokio::spawn(async move { a.run_due_now().await });
    wait_for_outbox_state(&g, session.id, "slow", "sending").await;

    // Another replica looks after the lease would have run out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    g.scheduler_with(config("b"), Duration::from_secs(2))
        .run_due_now()
        .await
        .unwrap();
    posting.await.unwrap().unwrap();

    assert_eq!(
        g.t.chat.post_calls() - calls_before,
        1,
        "nobody else posted it"
    );
    assert_eq!(
        posts_with(&g, Channel::Approvals, "Check the prices").len(),
        1
    );
    let (state, claims): (String, i64) =
        sqlx::query_as("select state, claims from outbox where session_id = $1 and event = 'slow'")
            .bind(session.id)
            .fetch_one(&g.t.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), claims), ("sent", 1));
}

async fn wait_for_outbox_state(g: &GoLive, session_id: i64, event: &str, state: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now: String =
            sqlx::query_scalar("select state from outbox where session_id = $1 and event = $2")
                .bind(session_id)
                .bind(event)
                .fetch_one(&g.t.pool)
                .await
                .unwrap();
        if now == state {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the {event} post stayed {now}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn a_sessions_posts_go_out_in_the_order_they_were_written(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.t.chat.set_down(true);
    for (event, said) in [
        ("first", "First: FS-002 is sold out"),
        ("second", "Second: fixed"),
    ] {
        g.t.app
            .operations
            .notify(session.id, Notice::alert(event, Text::from(said)))
            .await
            .unwrap();
    }
    g.scheduler("a").run_due_now().await.unwrap();
    g.t.chat.set_down(false);
    // The first waits out a longer backoff than the second.
    sqlx::query(
        "update outbox set next_attempt_at = now() + case event when 'first' then interval '1 hour' else interval '0' end \
         where session_id = $1 and state = 'pending'",
    )
    .bind(session.id)
    .execute(&g.t.pool)
    .await
    .unwrap();

    g.scheduler("b").run_due_now().await.unwrap();
    assert!(
        posts_with(&g, Channel::Approvals, "Second").is_empty(),
        "the second waits for the first"
    );

    outbox_due_now(&g).await;
    g.scheduler("c").run_due_now().await.unwrap();
    let said: Vec<String> =
        g.t.chat
            .posts_to(Channel::Approvals)
            .into_iter()
            .map(|p| p.message.text.render(|_, _| String::new()))
            .filter(|text| text.starts_with("First") || text.starts_with("Second"))
            .collect();
    assert_eq!(said, ["First: FS-002 is sold out", "Second: fixed"]);
}
