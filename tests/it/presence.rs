//! Presence: a process that dies (its connection to Postgres closes) loses
//! its claims at once, not one lease later; a live one keeps them for its
//! whole lease. The lease stays the backstop (`convergence.rs`).

use std::time::{Duration, Instant};

use flashsale_bot::scheduler::SchedulerConfig;
use flashsale_bot::store::jobs::{self, ClaimedJob};
use flashsale_bot::store::presence::{self, Presence};
use flashsale_bot::store::sale;
use flashsale_bot::store::{outbox, queue};
use flashsale_bot::storefront::{SaleWrite, Storefront};
use sqlx::PgPool;

use crate::support::golive::*;

/// Longer than any test here waits: only presence can free a claim in time.
const LEASE: Duration = Duration::from_secs(600);

/// Claims what is due as a scheduler does: stamped with a presence key its
/// caller holds (and drops, to die).
async fn claim_as_a_scheduler(g: &GoLive) -> (Presence, Vec<ClaimedJob>) {
    let presence = Presence::hold(&g.t.pool).await.unwrap();
    let claimed = jobs::claim_due_within(
        &g.t.pool,
        "dying",
        Some(presence.key()),
        LEASE,
        10,
        Duration::ZERO,
    )
    .await
    .unwrap();
    (presence, claimed)
}

/// Closes the presence connection, as a killed process's closes, and waits
/// until Postgres has let the lock go (its backend exits a moment after the
/// socket closes).
async fn die(g: &GoLive, presence: Presence) {
    let key = presence.key();
    presence.release().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while presence::is_present(&g.t.pool, key).await.unwrap() {
        assert!(
            Instant::now() < deadline,
            "the lock outlived its connection"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[sqlx::test]
async fn a_claim_of_a_process_that_is_gone_is_taken_over_before_its_lease_runs_out(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let (dying, first) = claim_as_a_scheduler(&g).await;
    assert_eq!(first.len(), 1);
    assert!(presence::is_present(&g.t.pool, dying.key()).await.unwrap());
    assert!(
        jobs::claim_due(&g.t.pool, "other", LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "its process is alive: the claim holds"
    );

    die(&g, dying).await;

    let taken = jobs::claim_due(&g.t.pool, "other", LEASE, 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1, "taken over without waiting for the lease");
    assert!(taken[0].claim > first[0].claim);
    let mut conn = g.t.pool.acquire().await.unwrap();
    assert!(
        !jobs::finish(&mut conn, first[0].fence()).await.unwrap(),
        "the old claim is fenced off"
    );
}

#[sqlx::test]
async fn a_claim_without_a_presence_key_waits_for_its_lease(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    // A tool's claim (no key) next to a scheduler whose presence comes and goes.
    jobs::claim_due(&g.t.pool, "tool", LEASE, 10).await.unwrap();
    let passer_by = Presence::hold(&g.t.pool).await.unwrap();
    die(&g, passer_by).await;

    assert!(jobs::claim_due(&g.t.pool, "other", LEASE, 10)
        .await
        .unwrap()
        .is_empty());
}

#[sqlx::test]
async fn the_next_look_is_due_at_once_when_a_running_jobs_process_is_gone(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    let (dying, _) = claim_as_a_scheduler(&g).await;
    let recheck = Duration::from_secs(30);
    let alive = queue::time_until_next(&g.t.pool, recheck)
        .await
        .unwrap()
        .unwrap();
    assert!(
        alive > Duration::from_secs(20) && alive <= recheck,
        "a running job is looked at again within the recheck, not the lease: {alive:?}"
    );

    die(&g, dying).await;

    let gone = queue::time_until_next(&g.t.pool, recheck)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone, Duration::ZERO);
}

#[sqlx::test]
async fn a_post_whose_deliverer_is_gone_is_claimed_again_at_once(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    let mut tx = g.t.pool.begin().await.unwrap();
    let message = serde_json::json!({ "text": [] });
    outbox::enqueue(
        &mut tx,
        session.id,
        "test",
        1,
        outbox::Destination::Announcements,
        &message,
        Duration::ZERO,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let dying = Presence::hold(&g.t.pool).await.unwrap();
    let first = outbox::claim_due(&g.t.pool, "dying", Some(dying.key()), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(outbox::claim_due(&g.t.pool, "other", None, LEASE, 10)
        .await
        .unwrap()
        .is_empty());

    die(&g, dying).await;

    let taken = outbox::claim_due(&g.t.pool, "other", None, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert!(taken[0].claim > first[0].claim);
}

#[sqlx::test]
async fn a_killed_schedulers_publish_goes_live_long_before_its_lease(pool: PgPool) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    g.make_due(session.id, "publish").await;
    // A scheduler claims the publish as the loop does, puts the sale up, and
    // is killed: its connection closes, its lease has ten minutes to run.
    let (dying, claimed) = claim_as_a_scheduler(&g).await;
    let view = g.t.app.queries.get(session.id).await.unwrap();
    let storefront = g.storefront(Duration::from_secs(2));
    storefront
        .publish(&view.sale_request(), &written(&g, &claimed[0]).await)
        .await
        .unwrap();
    dying.release().await;
    let killed = Instant::now();

    let config = SchedulerConfig {
        lease: LEASE,
        heartbeat: Duration::from_millis(500),
        poll: Duration::from_secs(300),
        ..fast_config("survivor")
    };
    let (stop, handle) = g.spawn_loop(g.scheduler_with(config, Duration::from_secs(2)));
    g.wait_for_status(session.id, "live", 15).await;
    let taken_over = killed.elapsed();
    g.wait_for_notices(session.id).await;
    stop.send(true).unwrap();
    handle.await.unwrap();

    assert!(
        taken_over < Duration::from_secs(5),
        "live {taken_over:?} after the kill"
    );
    assert!(g
        .store
        .sale(session.id)
        .is_some_and(|sale| sale["status"] != "ended"));
    assert_eq!(g.publishes(session.id).len(), 1, "the retry was a replay");
    assert_eq!(now_live_posts(&g), 1);
}

#[sqlx::test]
async fn a_loop_asleep_for_a_whole_poll_takes_over_from_a_claimer_whose_connection_vanished(
    pool: PgPool,
) {
    let g = GoLive::new(pool).await;
    let session = g.t.approved().await;
    // A looks at its own claims again only after a minute: only B can
    // notice in time, and only if A's claim woke it.
    let config = |worker, heartbeat| SchedulerConfig {
        lease: LEASE,
        heartbeat,
        poll: Duration::from_secs(300),
        ..fast_config(worker)
    };
    let (a_config, b_config) = (
        config("a", Duration::from_secs(60)),
        config("b", Duration::from_millis(500)),
    );
    // B looks once, finds nothing due and sleeps for its poll.
    let (stop_b, b) = g.spawn_loop(g.scheduler_with(b_config, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A starts, claims the publish (waking B) and its PUT is applied with
    // the answer held back.
    g.stall_next_call(5);
    g.make_due(session.id, "publish").await;
    let (stop_a, a) = g.spawn_loop(g.scheduler_with(a_config, Duration::from_secs(10)));
    g.wait_for_job(session.id, "publish", "running").await;
    g.wait_for_put(session.id).await;

    // A's connections are cut (a failover, a dying host's sockets): its
    // presence lock, and the sale's writer section it holds.
    let cut: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(l.pid) from pg_locks l \
         where l.locktype = 'advisory' and l.objsubid = 2 and ( \
             (l.classid = $1 and l.objid::int8::int4 in ( \
                 select claimed_presence from job where session_id = $3 and kind = 'publish')) \
          or (l.classid = $2 and l.objid::int8 = $3))",
    )
    .bind(presence::NAMESPACE)
    .bind(sale::NAMESPACE)
    .bind(session.id)
    .fetch_all(&g.t.pool)
    .await
    .unwrap();
    assert_eq!(cut, [true, true]);
    let cut_at = Instant::now();
    g.wait_for_status(session.id, "live", 10).await;
    let taken_over = cut_at.elapsed();
    g.wait_for_notices(session.id).await;
    stop_a.send(true).unwrap();
    stop_b.send(true).unwrap();
    a.await.unwrap();
    b.await.unwrap();

    // A's own answer comes only 5 s after its PUT: B finished the job.
    assert!(
        taken_over < Duration::from_secs(3),
        "live {taken_over:?} after the cut"
    );
    assert_eq!(g.publishes(session.id).len(), 1, "B's PUT was a replay");
    assert_eq!(now_live_posts(&g), 1);
}

/// The write a scheduler draws for its claim before it calls the storefront
/// (`jobs::sale_write`), so a take-over repeats its key and revision.
async fn written(g: &GoLive, job: &ClaimedJob) -> SaleWrite {
    let write = jobs::sale_write(&g.t.pool, job.fence(), false)
        .await
        .unwrap()
        .expect("the claim still owns the job");
    SaleWrite {
        key: write.key.to_string(),
        revision: write.revision,
    }
}
