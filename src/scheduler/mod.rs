//! The scheduler: runs every session's due jobs (reminders, heads-up,
//! publish, end, expiry) on time and exactly once, from any number of bot
//! processes sharing one database.
//!
//! One loop per process. It sleeps until the earliest due job (asking the
//! database how long that is, so every replica follows one clock), wakes
//! early on a NOTIFY when a plan changes, and polls every few seconds as a
//! backstop because a notification sent while disconnected is lost. Jobs are
//! claimed with `FOR UPDATE SKIP LOCKED`, a lease and an attempt number
//! (`store::jobs`); outcomes are written only while the attempt still owns
//! the job. A process killed mid-job loses its presence lock with its
//! connection (`store::presence`) and its lease runs out; at whichever comes
//! first, any replica runs the job again with the same idempotency key.
//!
//! Time: the database's clock is the only one the scheduler reads (due jobs,
//! leases, retry windows, the due time `stop` sets, go-live lateness); the
//! app's `Clock` is for rules checked when a person acts. `crate::clock` says
//! why.
//!
//! The same loop has the outbox delivered (`app::outbox`, timed by
//! `outbox`): the notices a status change wrote in its own transaction go to
//! the chat until it takes them.
//!
//! Beside it runs the reconciler (`reconcile`), which reads every sale that
//! should be up or lately came down back from the storefront and repairs what
//! differs, whatever the jobs missed.
//!
//! Every storefront write is made by one writer per sale (`writer`): the
//! publish, end and repair jobs each hold the session's writer section and
//! decide from the state they read inside it; the reconciler only reads, and
//! asks for a repair when the storefront disagrees.
//!
//! Layout: `handlers` (what each kind of job does), `writer` (the section
//! every storefront write is made in), `outbox` (when notices are
//! delivered), `reconcile` (storefront vs database), `backoff` (retry waits),
//! `timing` (a database time on this process's clock), `presence` (this
//! process's presence lock while the loop runs),
//! `digest` (the daily digest, driven by tokio-cron-scheduler).

mod backoff;
pub mod digest;
mod handlers;
mod outbox;
mod presence;
mod reconcile;
mod timing;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use reconcile::Finding;

use crate::app::Operations;
use crate::domain::JobKind;
use crate::store::jobs::{self, ClaimedJob};
use crate::store::queue::{self, NOTIFY_CHANNEL};
use crate::store::{PgPool, StoreError};
use crate::storefront::Storefront;
use presence::PresentKey;

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Names this process in `job.claimed_by`.
    pub worker_id: String,
    /// How long a claim lasts without a heartbeat before another replica may
    /// take the job over.
    pub lease: Duration,
    /// How often a running job renews its lease; well under `lease`.
    pub heartbeat: Duration,
    /// How often the reconciler compares a session with the storefront.
    pub reconcile_every: Duration,
    /// The longest sleep between looks at the jobs table.
    pub poll: Duration,
    /// How long before its due time a job may be claimed. The claim and the
    /// reads a job needs (the session, for a publish) happen before the due
    /// time, and the job acts on the due time itself, so a database busy with
    /// editors' work does not make a sale late.
    pub lookahead: Duration,
    /// Jobs claimed at once.
    pub batch: i64,
    /// Approvers are alerted when a publish has failed this many times.
    pub alert_after_failures: i32,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// How long shutdown waits for running jobs before handing them back.
    pub shutdown_grace: Duration,
    /// How often a live sale's units sold are counted, on a shop that does
    /// not cap the flash quantity: the most a line can oversell by is what
    /// sells in this time plus one round of calls.
    pub watch_every: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> SchedulerConfig {
        SchedulerConfig {
            worker_id: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            lease: Duration::from_secs(10),
            heartbeat: Duration::from_secs(2),
            reconcile_every: Duration::from_secs(2),
            poll: Duration::from_secs(5),
            lookahead: Duration::from_millis(500),
            watch_every: Duration::from_secs(2),
            batch: 50,
            alert_after_failures: 3,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

#[derive(Clone)]
pub struct Scheduler {
    pool: PgPool,
    app: Operations,
    storefront: Arc<dyn Storefront>,
    config: Arc<SchedulerConfig>,
    present: PresentKey,
    /// When this process last woke the other loops after a claim.
    told: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
    /// Writer sections this process may still enter (`writer`).
    writers: Arc<tokio::sync::Semaphore>,
}

impl Scheduler {
    pub fn new(
        pool: PgPool,
        app: Operations,
        storefront: Arc<dyn Storefront>,
        config: SchedulerConfig,
    ) -> Scheduler {
        Scheduler {
            writers: writer::section_permits(&pool),
            pool,
            app,
            storefront,
            config: Arc::new(config),
            present: PresentKey::absent(),
            told: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// Runs until `shutdown` turns true, then stops claiming, lets running
    /// jobs finish (up to the grace period) and hands unfinished claims back.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // Released only after the claims are handed back (below), so nobody
        // takes over a job this process is still finishing.
        // Taken before the first claim, so that claim carries the key.
        let (leave, leaving) = watch::channel(false);
        let first = self.take_presence().await;
        let presence = tokio::spawn(self.clone().keep_present(first, leaving));
        let mut listener = self.listen().await;
        let mut running = JoinSet::new();
        // One delivery at a time per process keeps a session's notices in order.
        let mut delivering: Option<tokio::task::JoinHandle<()>> = None;
        // Failed claims in a row: while the database is out, wait longer
        // (capped at the poll interval) instead of spinning.
        let mut failures: i32 = 0;
        tracing::info!(worker = %self.config.worker_id, "scheduler started");
        while !*shutdown.borrow() {
            // Reap what finished; a panicking job must not stop the loop.
            while let Some(result) = running.try_join_next() {
                if let Err(e) = result {
                    tracing::error!(error = %e, "a job task failed");
                }
            }
            let claimed = match self.claim().await {
                Ok(claimed) => {
                    if failures > 0 {
                        tracing::info!(
                            failed_attempts = failures,
                            "database reachable again; scheduler resumed"
                        );
                        if listener.is_none() {
                            listener = self.listen().await;
                        }
                    }
                    failures = 0;
                    claimed
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = self.database_backoff(failures);
                    if failures == 1 {
                        tracing::error!(error = %e, "could not claim jobs: database unreachable? retrying with backoff");
                    } else {
                        tracing::warn!(error = %e, attempt = failures, wait_ms = wait.as_millis() as u64, "could not claim jobs; will retry");
                    }
                    // Not the listener: its reconnect fails at once while the
                    // database is out, which would make this loop spin.
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        // A dropped sender means nobody can stop us any more: stop now.
                        changed = shutdown.changed() => if changed.is_err() { break },
                    }
                    continue;
                }
            };
            let full_batch = claimed.len() as i64 >= self.config.batch;
            let claimed_any = !claimed.is_empty();
            self.start_jobs(claimed, &mut running);
            if claimed_any {
                self.tell_others_of_claims().await;
            }
            if delivering.as_ref().is_none_or(|d| d.is_finished()) {
                let this = self.clone();
                delivering = Some(tokio::spawn(async move {
                    if let Err(e) = this.app.deliver_due(&this).await {
                        tracing::warn!(error = %e, "could not claim outbox posts");
                    }
                }));
            }
            if full_batch {
                continue;
            }
            let wait = self.wait_for_next().await;
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = notified(&mut listener) => {}
                // A job that ends may have set its retry time or written a
                // notice after `wait` was chosen: look again.
                Some(_) = running.join_next(), if !running.is_empty() => {}
                // A dropped sender means nobody can stop us any more: stop now
                // (`changed` would return at once forever and spin the loop).
                changed = shutdown.changed() => if changed.is_err() { break },
            }
        }
        if let Some(delivering) = delivering {
            let _ = tokio::time::timeout(self.config.shutdown_grace, delivering).await;
        }
        self.shut_down(running).await;
        let _ = leave.send(true);
        if let Err(e) = presence.await {
            tracing::warn!(error = %e, "the presence task failed");
        }
    }

    /// Claims and runs one batch of due jobs to completion, then delivers the
    /// notices that are due; for tests and tools. Returns the jobs run.
    pub async fn run_due_now(&self) -> Result<usize, StoreError> {
        let claimed = self.claim().await?;
        let count = claimed.len();
        let mut running = JoinSet::new();
        self.start_jobs(claimed, &mut running);
        while running.join_next().await.is_some() {}
        while self.app.deliver_due(self).await? > 0 {}
        Ok(count)
    }

    /// The wait before trying the database again after `failures` failures
    /// in a row: from 250 ms up to the poll interval, so an outage is neither
    /// hammered nor outlasted by much.
    fn database_backoff(&self, failures: i32) -> Duration {
        let floor = Duration::from_millis(250);
        backoff::delay(
            failures,
            floor,
            self.config.poll.max(floor),
            rand::random::<f64>(),
        )
    }

    /// After claiming: wakes the other loops, so a loop that slept a whole
    /// poll learns that a job runs and watches its claimer's presence from
    /// then on (`queue::time_until_next` brings it back every heartbeat while
    /// anything runs). Once a heartbeat is enough for that, which keeps a
    /// burst of claims at go-live from waking every loop for each one.
    async fn tell_others_of_claims(&self) {
        let now = tokio::time::Instant::now();
        if let Ok(mut last) = self.told.lock() {
            if last.is_some_and(|at| now.duration_since(at) < self.config.heartbeat) {
                return;
            }
            *last = Some(now);
        }
        if let Err(e) = queue::wake_schedulers(&self.pool).await {
            tracing::debug!(error = %e, "could not wake the other schedulers; their poll will");
        }
    }

    /// Claims what is due, and what falls due within the lookahead.
    async fn claim(&self) -> Result<Vec<ClaimedJob>, StoreError> {
        jobs::claim_due_within(
            &self.pool,
            &self.config.worker_id,
            self.present.get(),
            self.config.lease,
            self.config.batch,
            self.config.lookahead,
        )
        .await
    }

    /// Reminders due together go out as one message; every other job runs on
    /// its own. Each acts at its due time (`due`), never before.
    fn start_jobs(&self, claimed: Vec<ClaimedJob>, running: &mut JoinSet<()>) {
        // Measured from now, after the claim returned: a moment late, never early.
        let now = tokio::time::Instant::now();
        let due = |job: &ClaimedJob| {
            now + Duration::from_micros(u64::try_from(job.starts_in_us).unwrap_or(0))
        };
        let (reminders, others): (Vec<_>, Vec<_>) = claimed
            .into_iter()
            .partition(|job| matches!(job.kind, JobKind::Reminder { .. }));
        if let Some(last) = reminders.iter().map(due).max() {
            let this = self.clone();
            running.spawn(async move {
                tokio::time::sleep_until(last).await;
                this.remind(&reminders).await
            });
        }
        for job in others {
            let this = self.clone();
            let due = due(&job);
            running.spawn(async move { this.run_job(job, due).await });
        }
    }

    async fn wait_for_next(&self) -> Duration {
        match queue::time_until_next(&self.pool, self.config.heartbeat).await {
            // A due job that could not be claimed is held by another replica
            // right now: look again shortly rather than spinning.
            // Woken a lookahead early: that job can be claimed then.
            Ok(Some(wait)) => wait
                .saturating_sub(self.config.lookahead)
                .clamp(Duration::from_millis(5), self.config.poll),
            Ok(None) => self.config.poll,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the next due time");
                self.config.poll
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = match PgListener::connect_with(&self.pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "no LISTEN connection; polling only");
                return None;
            }
        };
        match listener.listen(NOTIFY_CHANNEL).await {
            Ok(()) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN failed; polling only");
                None
            }
        }
    }

    async fn shut_down(&self, mut running: JoinSet<()>) {
        tracing::info!(jobs = running.len(), "scheduler stopping: no more claims");
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
        }
        match jobs::release_all(&self.pool, &self.config.worker_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "handed unfinished jobs back"),
            Err(e) => {
                tracing::warn!(error = %e, "could not hand jobs back; their leases will expire")
            }
        }
        match self.app.release_posts(&self.config.worker_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "handed undelivered posts back"),
            Err(e) => {
                tracing::warn!(error = %e, "could not hand posts back; their leases will expire")
            }
        }
        tracing::info!("scheduler stopped");
    }
}

/// Waits for a NOTIFY; without a listener, never returns (the poll wakes us).
async fn notified(listener: &mut Option<PgListener>) {
    let Some(l) = listener else {
        return std::future::pending().await;
    };
    if let Err(e) = l.recv().await {
        // sqlx reconnects by itself; give it a moment instead of spinning.
        tracing::warn!(error = %e, "LISTEN connection failed");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
