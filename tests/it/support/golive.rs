//! Go-live set-up: a `TestApp`, the dev storefront on loopback (it verifies
//! signatures with the standardwebhooks crate and records every call) and
//! schedulers with short retry waits. Tests make a job due "now" by the
//! database clock instead of waiting for real start times.

use std::sync::Arc;
use std::time::Duration;

use flashsale_bot::chat::Channel;
use flashsale_bot::devstore::{self, Faults, RecordedCall};
use flashsale_bot::scheduler::{Scheduler, SchedulerConfig};
use flashsale_bot::storefront::HttpStorefront;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::watch;

use super::app::TestApp;
use super::storefront::{dev_storefront, CheckedStore};

pub struct GoLive {
    pub t: TestApp,
    /// Checks every call against docs/storefront-api.yaml when the test is done.
    pub store: CheckedStore,
    /// The shop schedules sales: approvals stage them, the start confirms them.
    pub staged: bool,
}

/// Fast retries so stories with failures finish in well under a second.
pub fn fast_config(worker: &str) -> SchedulerConfig {
    SchedulerConfig {
        worker_id: worker.to_owned(),
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(200),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(100),
        shutdown_grace: Duration::from_secs(2),
        ..SchedulerConfig::default()
    }
}

impl GoLive {
    pub async fn new(pool: PgPool) -> GoLive {
        let t = TestApp::new(pool).await;
        let store = dev_storefront().await;
        GoLive {
            t,
            store,
            staged: false,
        }
    }

    /// With a shop that schedules sales (the dev storefront says so), as the
    /// runtime sets it up after asking: the policy plans staging and the
    /// schedulers' client knows it.
    pub async fn staged(pool: PgPool) -> GoLive {
        let mut policy = super::app::test_policy();
        policy.schedule.shop.schedules_sales = true;
        let t = TestApp::with_policy(pool, policy).await;
        let store = dev_storefront().await;
        GoLive {
            t,
            store,
            staged: true,
        }
    }

    pub fn scheduler(&self, worker: &str) -> Scheduler {
        self.scheduler_with(fast_config(worker), Duration::from_secs(2))
    }

    pub fn scheduler_with(
        &self,
        config: SchedulerConfig,
        storefront_timeout: Duration,
    ) -> Scheduler {
        Scheduler::new(
            self.t.pool.clone(),
            self.t.app.operations.clone(),
            Arc::new(self.storefront(storefront_timeout)),
            config,
        )
    }

    /// A client of the dev storefront, as a scheduler has.
    pub fn storefront(&self, timeout: Duration) -> HttpStorefront {
        HttpStorefront::new(
            self.store.url().parse().unwrap(),
            &SecretString::from(devstore::test_secret()),
            timeout,
        )
        .unwrap()
        .with_scheduled_sales(self.staged)
    }

    /// Runs a scheduler loop in the background until the returned sender is dropped or sent `true`.
    pub fn spawn_loop(
        &self,
        scheduler: Scheduler,
    ) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(scheduler.run(stopped));
        (stop, handle)
    }

    /// A live session, published by one scheduler run, its notices delivered.
    pub async fn live(&self) -> i64 {
        let session = self.t.approved().await;
        self.make_due(session.id, "publish").await;
        self.scheduler("a").run_due_now().await.unwrap();
        assert_eq!(
            self.status(session.id).await,
            flashsale_bot::domain::Status::Live
        );
        session.id
    }

    /// The storefront handles its next `method` call, then holds the answer
    /// back for `secs`.
    pub fn stall_next(&self, method: &str, secs: u64) {
        self.store.set_faults(Faults {
            stall_secs: secs,
            stall_next: 1,
            method: Some(method.to_owned()),
            ..Faults::default()
        });
    }

    /// Whether the storefront shows the session's sale to shoppers.
    pub fn up_on_storefront(&self, session_id: i64) -> bool {
        self.store
            .sale(session_id)
            .is_some_and(|sale| sale["status"] != "ended")
    }

    pub async fn status(&self, session_id: i64) -> flashsale_bot::domain::Status {
        self.t.app.queries.get(session_id).await.unwrap().status
    }

    /// Moves the session's window to start and end these many seconds from
    /// now (by the database clock), with its publish and end jobs due at
    /// them: as if no bot had been running while the window came and, for
    /// negative offsets, went.
    pub async fn window_from_now(&self, session_id: i64, start: f64, end: f64) {
        sqlx::query(
            "update session set starts_at = now() + make_interval(secs => $2), \
                 ends_at = now() + make_interval(secs => $3) where id = $1",
        )
        .bind(session_id)
        .bind(start)
        .bind(end)
        .execute(&self.t.pool)
        .await
        .unwrap();
        sqlx::query(
            "update job j set due_at = case j.kind when 'end' then s.ends_at else s.starts_at end, \
                 next_attempt_at = case j.kind when 'end' then s.ends_at else s.starts_at end \
             from session s \
             where s.id = j.session_id and j.session_id = $1 and j.kind in ('publish', 'end')",
        )
        .bind(session_id)
        .execute(&self.t.pool)
        .await
        .unwrap();
    }

    /// Waits (at most 30 s) until the database clock is past the session's start.
    pub async fn wait_for_db_clock_past_start(&self, session_id: i64) {
        self.wait_for_db_clock(
            "select now() > starts_at from session where id = $1",
            session_id,
        )
        .await;
    }

    /// Waits (at most 30 s) until the database clock is past the session's end.
    pub async fn wait_for_db_clock_past(&self, session_id: i64) {
        self.wait_for_db_clock(
            "select now() > ends_at from session where id = $1",
            session_id,
        )
        .await;
    }

    async fn wait_for_db_clock(&self, past: &'static str, session_id: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let past: bool = sqlx::query_scalar(past)
                .bind(session_id)
                .fetch_one(&self.t.pool)
                .await
                .unwrap();
            if past {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the database's clock never got past: {past}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Makes the session's `kind` job run now (by the database clock), plus
    /// `offset` seconds. Its planned `due_at` stays, so later re-plans see no change.
    pub async fn make_due_in(&self, session_id: i64, kind: &str, offset_secs: f64) {
        let moved = sqlx::query(
            "update job set next_attempt_at = now() + make_interval(secs => $3) \
             where session_id = $1 and kind = $2 and state = 'pending'",
        )
        .bind(session_id)
        .bind(kind)
        .bind(offset_secs)
        .execute(&self.t.pool)
        .await
        .unwrap();
        assert_eq!(
            moved.rows_affected(),
            1,
            "no pending {kind} job for session {session_id}"
        );
    }

    pub async fn make_due(&self, session_id: i64, kind: &str) {
        self.make_due_in(session_id, kind, 0.0).await;
    }

    /// Ends the lease on the session's running `kind` job now, by the database
    /// clock: its worker "died" without waiting for a short lease to run out
    /// (which a loaded machine could stretch or shorten at random).
    pub async fn expire_lease(&self, session_id: i64, kind: &str) {
        let expired = sqlx::query(
            "update job set claimed_until = now() - interval '1 millisecond' \
             where session_id = $1 and kind = $2 and state = 'running'",
        )
        .bind(session_id)
        .bind(kind)
        .execute(&self.t.pool)
        .await
        .unwrap();
        assert_eq!(
            expired.rows_affected(),
            1,
            "no running {kind} job for session {session_id}"
        );
    }

    /// The storefront handles its next call, then holds the answer back for
    /// `secs` (a publish applied whose answer comes too late).
    pub fn stall_next_call(&self, secs: u64) {
        self.store.set_faults(Faults {
            stall_secs: secs,
            stall_next: 1,
            ..Faults::default()
        });
    }

    /// The storefront answers its next `calls` calls with `status` without handling them.
    pub fn fail_next_calls(&self, calls: u32, status: u16) {
        self.store.set_faults(Faults {
            fail_next: calls,
            status: Some(status),
            ..Faults::default()
        });
    }

    /// Waits (at most 5 s) until the session's `kind` job has run at least
    /// once and is in `state`.
    pub async fn wait_for_job(&self, session_id: i64, kind: &str, state: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let job = self.job(session_id, kind).await;
            if job.state == state && job.attempts >= 1 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the {kind} job stayed {} after {} attempts",
                job.state,
                job.attempts
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Publish calls the storefront received for the session that were not replays.
    /// Waits until the session's PUT has reached the storefront and been
    /// applied (its answer may still be held back).
    pub async fn wait_for_put(&self, session_id: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.store.sale(session_id).is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the PUT never arrived"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn publishes(&self, session_id: i64) -> Vec<RecordedCall> {
        let path = format!("/api/flash-sales/{session_id}");
        self.store
            .calls()
            .into_iter()
            .filter(|c| c.method == "PUT" && c.path == path && !c.replay)
            .collect()
    }

    pub async fn job(&self, session_id: i64, kind: &str) -> JobRow {
        sqlx::query_as("select state, attempts, last_error, idempotency_key::text as key from job where session_id = $1 and kind = $2")
            .bind(session_id)
            .bind(kind)
            .fetch_one(&self.t.pool)
            .await
            .unwrap()
    }

    pub async fn jobs_of(&self, session_id: i64) -> Vec<(String, String)> {
        sqlx::query_as("select kind, state from job where session_id = $1 order by kind")
            .bind(session_id)
            .fetch_all(&self.t.pool)
            .await
            .unwrap()
    }

    /// Waits (at most 5 s) until every notice written for the session has
    /// left the outbox for the chat: status changes commit before their
    /// notices are delivered.
    pub async fn wait_for_notices(&self, session_id: i64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from outbox where session_id = $1 and state in ('pending', 'sending')",
            )
            .bind(session_id)
            .fetch_one(&self.t.pool)
            .await
            .unwrap();
            if waiting == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{waiting} notices of session {session_id} still wait to be posted"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (at most `secs`) until the session reaches `status`.
    pub async fn wait_for_status(&self, session_id: i64, status: &str, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let now: String = sqlx::query_scalar("select status from session where id = $1")
                .bind(session_id)
                .fetch_one(&self.t.pool)
                .await
                .unwrap();
            if now == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "session {session_id} stayed {now}, expected {status}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct JobRow {
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub key: String,
}

/// The texts posted to `channel` that contain `needle`.
pub fn posts_with(g: &GoLive, channel: Channel, needle: &str) -> Vec<String> {
    g.t.chat
        .posts_to(channel)
        .into_iter()
        .map(|p| p.message.text.render(|_, _| String::new()))
        .filter(|text| text.contains(needle))
        .collect()
}

/// How many "now live" posts the announcements channel has.
pub fn now_live_posts(g: &GoLive) -> usize {
    posts_with(g, Channel::Announcements, "is now live").len()
}
