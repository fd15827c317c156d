//! One writer per sale: the orderings that broke "one truth" when the
//! publish and end jobs, the reconciler and people's commands each wrote to
//! the storefront from their own reading of the state (issue "One writer per
//! sale", cases 1-6). Each scenario runs the real scheduler against the real
//! dev storefront and Postgres, and ends by reading the storefront's sale, the
//! session and the channel's posts and checking that they agree.

use std::time::Duration;

use flashsale_bot::app::{AppError, SystemOutcome};
use flashsale_bot::chat::Channel;
use flashsale_bot::devstore::Faults;
use flashsale_bot::domain::{Action, ActivityKind, JobKind, Status};
use flashsale_bot::scheduler::{Finding, SchedulerConfig};
use flashsale_bot::store::jobs;
use serde_json::json;
use sqlx::PgPool;

use crate::support::golive::*;

/// The storefront's writes for the session (PUT or DELETE) that were
/// applied: not replays, not refused.
fn applied_writes(g: &GoLive, session_id: i64, method: &str) -> usize {
    let path = format!("/api/flash-sales/{session_id}");
    g.store
        .calls()
        .into_iter()
        .filter(|c| c.method == method && c.path == path && !c.replay && c.status < 300)
        .count()
}

/// Every session may be checked again at once.
async fn lift_reconcile_leases(g: &GoLive) {
    sqlx::query("update session set reconcile_lease_until = null")
        .execute(&g.t.pool)
        .await
        .unwrap();
}

// Case 1: an overdue sale goes live after its end and stays "live" for good.

#[sqlx::test]
async fn an_overdue_sale_whose_window_passed_is_missed_not_published(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.t.approved().await.id;
    // Every bot was down from before the start until after the end.
    g.window_from_now(id, -120.0, -30.0).await;

    // One claim returns both jobs, as for a bot started again.
    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Failed);
    assert_eq!(
        applied_writes(&g, id, "PUT"),
        0,
        "nothing published after its end"
    );
    assert!(!g.up_on_storefront(id));
    assert_eq!(g.t.activity_count(id, "missed").await, 1);
    assert_eq!(
        posts_with(&g, Channel::Approvals, "could not go live").len(),
        1
    );
    assert_eq!(now_live_posts(&g), 0);
    for (kind, state) in g.jobs_of(id).await {
        assert!(
            !matches!(state.as_str(), "pending" | "running"),
            "{kind} is still {state}"
        );
    }
}

#[sqlx::test]
async fn an_overdue_sale_is_missed_whichever_of_its_jobs_runs_first(pool: PgPool) {
    for first in ["end", "publish"] {
        let g = GoLive::new(pool.clone()).await;
        let id = g.t.approved().await.id;
        g.window_from_now(id, -120.0, -30.0).await;
        let other = if first == "end" { "publish" } else { "end" };
        // Only `first` is due: the other waits a minute more.
        sqlx::query(
            "update job set next_attempt_at = now() + interval '1 minute' \
             where session_id = $1 and kind = $2",
        )
        .bind(id)
        .bind(other)
        .execute(&g.t.pool)
        .await
        .unwrap();
        g.scheduler("a").run_due_now().await.unwrap();
        // The other runs too if the first left it waiting (a missed
        // session's plan cancels its publish).
        sqlx::query(
            "update job set next_attempt_at = now() \
             where session_id = $1 and kind = $2 and state = 'pending'",
        )
        .bind(id)
        .bind(other)
        .execute(&g.t.pool)
        .await
        .unwrap();
        g.scheduler("b").run_due_now().await.unwrap();

        assert_eq!(g.status(id).await, Status::Failed, "{first} first");
        assert_eq!(applied_writes(&g, id, "PUT"), 0, "{first} first");
        assert_eq!(g.t.activity_count(id, "missed").await, 1, "{first} first");
    }
}

#[sqlx::test]
async fn a_publish_retry_that_lands_after_the_end_marks_it_missed_and_puts_nothing_up(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let id = g.t.approved().await.id;
    g.window_from_now(id, -60.0, 60.0).await;
    // The first PUT fails, and its retry comes only after the window.
    g.fail_next_calls(1, 503);
    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(g.status(id).await, Status::Approved);
    g.window_from_now(id, -120.0, -1.0).await;
    g.make_due(id, "publish").await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Failed);
    assert_eq!(applied_writes(&g, id, "PUT"), 0);
    assert!(!g.up_on_storefront(id));
    let missed = posts_with(&g, Channel::Approvals, "could not go live");
    assert_eq!(missed.len(), 1);
    assert!(missed[0].contains("publishing kept failing"), "{missed:?}");
}

#[sqlx::test]
async fn a_late_publish_inside_its_window_goes_live_and_says_how_late(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.t.approved().await.id;
    g.window_from_now(id, -600.0, 600.0).await;

    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Live);
    let live = posts_with(&g, Channel::Announcements, "is now live");
    assert_eq!(live.len(), 1);
    assert!(live[0].contains("10 min after its start"), "{live:?}");
}

#[sqlx::test]
async fn a_session_that_goes_live_always_has_an_end_that_will_run(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.t.approved().await.id;
    // Its end job already ran and found nothing to end (the old order of case 1).
    sqlx::query("update job set state = 'done' where session_id = $1 and kind = 'end'")
        .bind(id)
        .execute(&g.t.pool)
        .await
        .unwrap();

    g.make_due(id, "publish").await;
    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Live);
    assert_eq!(g.job(id, "end").await.state, "pending");
    g.make_due(id, "end").await;
    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
}

#[sqlx::test]
async fn a_live_session_past_its_end_whose_end_job_is_gone_is_ended_by_a_repair(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    g.window_from_now(id, -120.0, -5.0).await;
    sqlx::query("update job set state = 'done' where session_id = $1 and kind = 'end'")
        .bind(id)
        .execute(&g.t.pool)
        .await
        .unwrap();

    let found = g.scheduler("b").reconcile_now().await.unwrap();
    assert_eq!(found, [(id, Finding::RepairAsked)]);
    // The repair re-arms the end; the end takes it down and ends it.
    g.scheduler("b").run_due_now().await.unwrap();
    g.scheduler("b").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
    assert_eq!(posts_with(&g, Channel::Announcements, "has ended").len(), 1);
    assert_eq!(applied_writes(&g, id, "PUT"), 1, "only the go-live");
}

// Case 2: the reconciler undoes an approver's stop.

#[sqlx::test]
async fn a_stop_whose_read_back_is_throttled_stays_stopped(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    // The DELETE is applied; the read-back after it answers 429 for a while.
    g.store.set_faults(Faults {
        fail_next: 1,
        status: Some(429),
        retry_after_secs: Some(30),
        method: Some("GET".to_owned()),
        ..Faults::default()
    });
    g.t.app
        .desk
        .stop(&g.t.bob, id, "wrong prices")
        .await
        .unwrap();
    g.scheduler("a").run_due_now().await.unwrap();
    assert_eq!(g.status(id).await, Status::Live, "not confirmed yet");
    assert!(!g.up_on_storefront(id));

    // A reconcile round sees "live here, gone there": it must not put it back.
    lift_reconcile_leases(&g).await;
    let found = g.scheduler("b").reconcile_now().await.unwrap();
    assert_eq!(found, [(id, Finding::Agrees)]);
    g.scheduler("b").run_due_now().await.unwrap();
    assert!(!g.up_on_storefront(id));

    // The end's retry (same key and revision: a replay) confirms and ends it.
    g.make_due(id, "end").await;
    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
    assert_eq!(applied_writes(&g, id, "PUT"), 1, "only the go-live");
    assert_eq!(applied_writes(&g, id, "DELETE"), 1);
    assert!(posts_with(&g, Channel::Approvals, "published again").is_empty());
    assert_eq!(
        posts_with(&g, Channel::Announcements, "has ended early").len(),
        1
    );
}

#[sqlx::test]
async fn a_repair_asked_while_a_stop_is_in_flight_never_republishes(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    // The stop's DELETE is applied, its answer held back 2 s.
    g.stall_next("DELETE", 2);
    g.t.app
        .desk
        .stop(&g.t.bob, id, "wrong prices")
        .await
        .unwrap();
    let a = g.scheduler("a");
    let ending = tokio::spawn(async move { a.run_due_now().await });
    wait_until(|| !g.up_on_storefront(id)).await;

    // A repair is asked for whatever the reconciler read, and waits for the
    // writer; the one it runs sees the session stopping or ended.
    jobs::arm_repair(&g.t.pool, id).await.unwrap();
    g.scheduler("b").run_due_now().await.unwrap();
    ending.await.unwrap().unwrap();
    g.scheduler("b").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
    assert_eq!(applied_writes(&g, id, "PUT"), 1, "only the go-live");
}

// Case 3: the reconciler races the end job at the planned end.

#[sqlx::test]
async fn a_reconcile_round_right_after_the_end_neither_republishes_nor_alarms(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;
    // The end is due now; its DELETE is applied and the answer held back.
    g.window_from_now(id, -60.0, 5.0).await;
    g.make_due(id, "end").await;
    g.stall_next("DELETE", 1);
    let a = g.scheduler("a");
    let ending = tokio::spawn(async move { a.run_due_now().await });
    wait_until(|| !g.up_on_storefront(id)).await;

    // The round reads "ended there, live here" before the end committed.
    lift_reconcile_leases(&g).await;
    let found = g.scheduler("b").reconcile_now().await.unwrap();
    assert_eq!(found, [(id, Finding::RepairAsked)]);
    g.scheduler("b").run_due_now().await.unwrap();
    ending.await.unwrap().unwrap();

    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
    assert_eq!(applied_writes(&g, id, "PUT"), 1, "only the go-live");
    assert!(posts_with(&g, Channel::Approvals, "again").is_empty());
    assert_eq!(posts_with(&g, Channel::Announcements, "has ended").len(), 1);
}

// Case 4: a revoke or cancel in the last moments still publishes.

#[sqlx::test]
async fn a_revoke_while_the_publish_waits_for_its_start_publishes_nothing(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.t.approved().await.id;
    // Claimed 2 s ahead: the publish reads the session and waits for its start.
    g.make_due_in(id, "publish", 2.0).await;
    let config = SchedulerConfig {
        lookahead: Duration::from_secs(3),
        ..fast_config("a")
    };
    let a = g.scheduler_with(config, Duration::from_secs(2));
    let publishing = tokio::spawn(async move { a.run_due_now().await });
    g.wait_for_job(id, "publish", "running").await;

    g.t.app
        .desk
        .revoke(&g.t.bob, id, Some("wrong SKU"))
        .await
        .unwrap();
    publishing.await.unwrap().unwrap();

    assert_eq!(g.status(id).await, Status::Draft);
    assert_eq!(
        g.store.calls().iter().filter(|c| c.method == "PUT").count(),
        0
    );
    assert!(!g.up_on_storefront(id));
    assert_eq!(now_live_posts(&g), 0);
}

#[sqlx::test]
async fn a_cancel_while_the_put_is_in_flight_takes_the_sale_down_before_the_writer_leaves(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let id = g.t.approved().await.id;
    g.make_due(id, "publish").await;
    g.stall_next("PUT", 1);
    let a = g.scheduler("a");
    let publishing = tokio::spawn(async move { a.run_due_now().await });
    g.wait_for_put(id).await;

    g.t.app
        .desk
        .cancel(&g.t.bob, id, Some("supplier pulled out"))
        .await
        .unwrap();
    publishing.await.unwrap().unwrap();

    assert_eq!(g.status(id).await, Status::Cancelled);
    assert!(!g.up_on_storefront(id));
    assert_eq!(g.t.activity_count(id, "taken_down").await, 1);
    assert_eq!(now_live_posts(&g), 0);
}

// Case 5: a second stop loses its notice.

#[sqlx::test]
async fn a_second_stop_is_logged_and_announced_and_the_sale_comes_down_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let id = g.live().await;

    g.t.app
        .desk
        .stop(&g.t.bob, id, "wrong prices")
        .await
        .unwrap();
    g.t.app
        .desk
        .stop(&g.t.carol, id, "supplier called")
        .await
        .unwrap();
    g.scheduler("a").run_due_now().await.unwrap();

    assert_eq!(g.status(id).await, Status::Ended);
    assert!(!g.up_on_storefront(id));
    assert_eq!(g.t.activity_count(id, "stopped").await, 2);
    let stopping = posts_with(&g, Channel::Announcements, "is stopping");
    assert_eq!(stopping.len(), 2, "{stopping:?}");
    assert!(stopping.iter().any(|p| p.contains("wrong prices")));
    assert!(stopping.iter().any(|p| p.contains("supplier called")));
    assert_eq!(applied_writes(&g, id, "DELETE"), 1);
    assert_eq!(
        posts_with(&g, Channel::Announcements, "has ended early").len(),
        1
    );
}

// Case 6: lock order.

#[sqlx::test]
async fn a_stop_against_the_ends_commit_never_deadlocks(pool: PgPool) {
    let g = GoLive::new(pool).await;
    for round in 0..25 {
        let id = g.live().await;
        g.make_due(id, "end").await;
        let claimed = jobs::claim_due(&g.t.pool, "end", Duration::from_secs(60), 10)
            .await
            .unwrap();
        let end = claimed
            .iter()
            .find(|j| j.session_id == id && j.kind == JobKind::End)
            .expect("the end job is claimed");
        let (stopped, ended) = tokio::join!(
            g.t.app.desk.stop(&g.t.bob, id, "wrong prices"),
            g.t.app.operations.system_transition(
                end.fence(),
                id,
                Action::End,
                ActivityKind::Ended,
                json!({}),
                |_| Vec::new(),
            )
        );
        if let Err(e) = &stopped {
            assert!(e.is_user_error(), "round {round}: stop failed: {e:?}");
        }
        match ended {
            Ok(SystemOutcome::Changed(_) | SystemOutcome::LostLease) => {}
            Ok(SystemOutcome::NotApplicable(v)) => panic!("round {round}: {:?}", v.status),
            Err(e) => panic!("round {round}: the end's commit failed: {e:?}"),
        }
        // Whichever won, the session ends before the next round.
        if g.status(id).await == Status::Live {
            g.make_due(id, "end").await;
            g.scheduler("a").run_due_now().await.unwrap();
        }
        assert_eq!(g.status(id).await, Status::Ended, "round {round}");
    }
}

#[sqlx::test]
async fn a_reject_or_withdraw_against_the_expiry_never_deadlocks(pool: PgPool) {
    let g = GoLive::new(pool).await;
    for round in 0..25 {
        let id = g.t.submitted().await.id;
        g.make_due(id, "expire").await;
        let claimed = jobs::claim_due(&g.t.pool, "expire", Duration::from_secs(60), 10)
            .await
            .unwrap();
        let expire = claimed
            .iter()
            .find(|j| j.session_id == id && j.kind == JobKind::Expire)
            .expect("the expiry is claimed");
        let person = async {
            if round % 2 == 0 {
                g.t.app.desk.reject(&g.t.bob, id, "prices too deep").await
            } else {
                g.t.app.desk.withdraw(&g.t.alice, id).await
            }
        };
        let (acted, expired) = tokio::join!(
            person,
            g.t.app.operations.system_transition(
                expire.fence(),
                id,
                Action::Expire,
                ActivityKind::Expired,
                json!({}),
                |_| Vec::new(),
            )
        );
        if let Err(e) = &acted {
            assert!(e.is_user_error(), "round {round}: {e:?}");
        }
        if let Err(e) = &expired {
            panic!("round {round}: the expiry's commit failed: {e:?}");
        }
        let _: Result<_, AppError> =
            g.t.app
                .desk
                .cancel(&g.t.alice, id, Some("next round"))
                .await;
    }
}

/// Waits (at most 10 s) until `done` holds.
async fn wait_until(done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never happened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
