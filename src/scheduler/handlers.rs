//! What each kind of job does when it is due.
//!
//! Every handler starts from the session as stored, so a job whose session
//! moved on (cancelled, revoked, already live) does nothing harmful, and says
//! how it ended as a [`JobOutcome`], which `run_job` records in one place
//! (job state, metrics, log). A status change and the notices that report it
//! commit together (`Operations::system_transition` writes them to the
//! outbox); `app::outbox` delivers them. So a job re-run after a crash
//! finds the change made and its notice already written, and the team hears
//! about it exactly once.
//!
//! While a handler runs, a heartbeat renews the job's lease, so a live but
//! slow worker keeps its job and a dead one loses it within one lease.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use serde_json::json;

mod end;
mod publish;
mod repair;
mod stage;
mod watch;

use super::{backoff, Scheduler};
use crate::app::{job_notices, notices, AppError, SessionView, SystemOutcome};
use crate::domain::sale::Shown;
use crate::domain::{Action, ActivityKind, JobKind, Status};
use crate::metrics;
use crate::store::jobs::{self, ClaimedJob, Fence};
use crate::storefront::StorefrontError;

/// How a handler left its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum JobOutcome {
    /// Nothing more to do.
    Done,
    /// Try again after `after` (a storefront that may recover).
    Retry { after: Duration, reason: String },
    /// Not a failure, not finished: look again after `after` (the watch,
    /// for as long as its sale runs). Logged quietly.
    Again { after: Duration },
    /// Give up for good; the handler has told whoever must know.
    Failed(String),
    /// Another worker owns the job now: record nothing.
    LostLease,
}

impl JobOutcome {
    fn label(&self) -> &'static str {
        match self {
            JobOutcome::Done => "done",
            JobOutcome::Retry { .. } => "retry",
            JobOutcome::Again { .. } => "again",
            JobOutcome::Failed(_) => "failed",
            JobOutcome::LostLease => "lost_lease",
        }
    }

    /// A status change's outcome: done unless the lease was lost meanwhile.
    fn after(change: &SystemOutcome) -> JobOutcome {
        match change {
            SystemOutcome::LostLease => JobOutcome::LostLease,
            SystemOutcome::Changed(_) | SystemOutcome::NotApplicable(_) => JobOutcome::Done,
        }
    }
}

/// What a take-off came to (`Scheduler::take_off`).
pub(super) enum TakenOff {
    Down,
    /// The shop took the end but still shows the sale.
    StillUp,
    Failed(StorefrontError),
    /// The job's claim was lost: the new owner decides.
    LostLease,
}

/// What a handler returns: an outcome, or an internal failure (the database,
/// a bug) that is retried with backoff.
pub(super) type Handled = Result<JobOutcome, AppError>;

/// The metric label of a job kind: reminders share one, whatever their offset.
fn metric_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Publish => "publish",
        JobKind::End => "end",
        JobKind::Expire => "expire",
        JobKind::HeadsUp => "heads_up",
        JobKind::Reminder { .. } => "reminder",
        JobKind::Repair => "repair",
        JobKind::Stage => "stage",
        JobKind::Watch => "watch",
    }
}

impl Scheduler {
    #[tracing::instrument(skip_all, fields(job = job.id, session = job.session_id, kind = %job.kind, attempt = job.attempt, fence = job.claim))]
    pub(super) async fn run_job(&self, job: ClaimedJob, due: tokio::time::Instant) {
        let kind = job.kind;
        if kind != JobKind::Publish {
            // A publish prepares first and waits itself (`publish`).
            tokio::time::sleep_until(due).await;
        }
        let started = Instant::now();
        let handled = async {
            match kind {
                JobKind::Publish => self.publish(&job, due).await,
                JobKind::End => self.end(&job).await,
                JobKind::Expire => self.expire(&job).await,
                JobKind::HeadsUp => self.heads_up(&job).await,
                JobKind::Repair => self.repair(&job).await,
                JobKind::Stage => self.stage(&job).await,
                JobKind::Watch => self.watch(&job).await,
                JobKind::Reminder { .. } => {
                    self.remind(std::slice::from_ref(&job)).await;
                    Ok(JobOutcome::Done)
                }
            }
        };
        let handled = tokio::select! {
            handled = handled => handled,
            never = self.heartbeat(job.fence()) => match never {},
        };
        let metric_kind = metric_kind(kind);
        let outcome = match handled {
            Ok(outcome) => outcome,
            Err(error) => {
                metrics::job(metric_kind, "error");
                tracing::error!(outcome = "error", %error, "job failed; retrying later");
                let after = self.wait_before(job.attempt, None);
                self.record(
                    &job,
                    JobOutcome::Retry {
                        after,
                        reason: error.to_string(),
                    },
                )
                .await;
                return;
            }
        };
        // A reminder's handler records itself (reminders run in batches).
        if matches!(kind, JobKind::Reminder { .. }) {
            return;
        }
        metrics::job(metric_kind, outcome.label());
        if matches!(outcome, JobOutcome::Again { .. }) {
            tracing::debug!(ms = started.elapsed().as_millis() as u64, "job looked");
        } else {
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                outcome = outcome.label(),
                "job ran"
            );
        }
        self.record(&job, outcome).await;
    }

    /// Writes what became of the job, fenced by its claim.
    async fn record(&self, job: &ClaimedJob, outcome: JobOutcome) {
        let fence = job.fence();
        let result = async {
            let mut conn = self.pool.acquire().await?;
            match &outcome {
                JobOutcome::Done => jobs::finish(&mut conn, fence).await,
                JobOutcome::Retry { after, reason } => {
                    tracing::warn!(reason, wait_ms = after.as_millis() as u64, "will retry");
                    jobs::retry_later(&mut conn, fence, *after, reason).await
                }
                JobOutcome::Again { after } => {
                    jobs::retry_later(&mut conn, fence, *after, "looking again").await
                }
                JobOutcome::Failed(reason) => jobs::fail(&mut conn, fence, reason).await,
                JobOutcome::LostLease => Ok(true),
            }
        };
        match result.await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                job = fence.id,
                "lease lost before the outcome could be recorded"
            ),
            Err(e) => tracing::warn!(
                job = fence.id,
                error = %e,
                "could not record the outcome; the lease will expire and the job run again"
            ),
        }
    }

    /// Renews the job's lease every `heartbeat` for as long as it runs.
    async fn heartbeat(&self, fence: Fence) -> Infallible {
        let mut owned = true;
        loop {
            tokio::time::sleep(self.config.heartbeat).await;
            if !owned {
                continue;
            }
            match jobs::renew(&self.pool, fence, self.config.lease).await {
                Ok(true) => {}
                Ok(false) => {
                    // Taken over (or re-planned): the handler's writes will be
                    // refused by the fence; nothing to renew any more.
                    tracing::warn!(job = fence.id, "lease lost while the job ran");
                    owned = false;
                }
                Err(e) => {
                    tracing::warn!(job = fence.id, error = %e, "could not renew the lease")
                }
            }
        }
    }

    /// Takes the sale off the shop for a session that must not show it:
    /// an end with a write of its own (a new decision: a new key and
    /// revision), confirmed by reading it back, and `kind` logged when it
    /// came off. What to tell people is the caller's.
    pub(super) async fn take_off(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        kind: ActivityKind,
    ) -> Result<TakenOff, AppError> {
        let Some(write) = self.job_write(job, true).await? else {
            // Taken over: the new owner decides.
            return Ok(TakenOff::LostLease);
        };
        let down = match self.storefront.end(view.id, &write).await {
            Ok(()) => self.confirmed_down(view.id).await,
            Err(e) => Err(e),
        };
        match down {
            Ok(true) => {
                let details = json!({
                    "status": view.status.as_str(),
                    "idempotency_key": write.key,
                    "revision": write.revision,
                });
                self.app.log_system_event(view.id, kind, details).await?;
                Ok(TakenOff::Down)
            }
            Ok(false) => Ok(TakenOff::StillUp),
            Err(e) => Ok(TakenOff::Failed(e)),
        }
    }

    /// Reads the sale back: true when it is gone or ended on the storefront.
    pub(super) async fn confirmed_down(&self, session_id: i64) -> Result<bool, StorefrontError> {
        let sale = self.storefront.read_back(session_id).await?;
        Ok(crate::domain::sale::shown(sale.as_ref()) == Shown::Down)
    }

    /// At the approval deadline an unapproved session will not go live.
    async fn expire(&self, job: &ClaimedJob) -> Handled {
        let details = json!({ "attempt": job.attempt });
        let change = self
            .app
            .system_transition(
                job.fence(),
                job.session_id,
                Action::Expire,
                ActivityKind::Expired,
                details,
                |view| vec![job_notices::expired(view)],
            )
            .await?;
        if let SystemOutcome::Changed(view) = &change {
            self.app
                .update_card(view, job_notices::expired_outcome())
                .await;
        }
        Ok(JobOutcome::after(&change))
    }

    /// Shortly before start: check the catalog again and tell the team. The
    /// post is a notice keyed by the session's version, which stays put while
    /// it is approved: a re-run says nothing twice, a chat that is down delays it.
    async fn heads_up(&self, job: &ClaimedJob) -> Handled {
        let view = self.app.get(job.session_id).await?;
        if view.status != Status::Approved {
            return Ok(JobOutcome::Done);
        }
        let notice = match self.app.recheck_items(view.id).await {
            Ok(problems) if problems.is_empty() => job_notices::armed(&view),
            Ok(problems) => job_notices::heads_up_problems(&view, &problems),
            Err(e) => job_notices::heads_up_unchecked(&view, &e),
        };
        self.app.notify(view.id, notice).await?;
        // A staged sale is checked on the shop too before its start: the
        // stage job reads it back and hands it over again if the shop lost or
        // changed it. What the re-check found is for people to decide (a
        // revoke takes the staged sale off).
        if self.storefront.capabilities().schedules_sales {
            self.app.restage(view.id).await?;
        }
        Ok(JobOutcome::Done)
    }

    /// Reminders due together: per session, a line saying what is missing,
    /// mentioning who must act; delivered together as one post
    /// (`notices::reminder_post`). Approved sessions get no nagging. Each
    /// line is written to the outbox in the transaction that finishes its
    /// job, so it is said exactly once however often the job is tried.
    pub(super) async fn remind(&self, batch: &[ClaimedJob]) {
        let mut batch = batch.to_vec();
        batch.sort_by_key(|job| (job.session_id, job.id));
        let mut done = Vec::new();
        for job in &batch {
            let view = match self.app.get(job.session_id).await {
                Ok(view) => view,
                Err(error) => {
                    metrics::job("reminder", "error");
                    tracing::warn!(job = job.id, %error, "could not read the session to remind; retrying later");
                    let after = self.wait_before(job.attempt, None);
                    let reason = error.to_string();
                    self.record(job, JobOutcome::Retry { after, reason }).await;
                    continue;
                }
            };
            let line = notices::reminder_line(&view, job.kind);
            done.push((job.fence(), job.session_id, line));
        }
        if done.is_empty() {
            return;
        }
        match self.app.finish_jobs_with_notices(&done).await {
            Ok(finished) => {
                for ((fence, _, _), finished) in done.iter().zip(finished) {
                    if finished {
                        metrics::job("reminder", "done");
                    } else {
                        metrics::job("reminder", "lost_lease");
                        tracing::warn!(
                            job = fence.id,
                            "lease lost before the reminder could be recorded"
                        );
                    }
                }
            }
            Err(error) => {
                // Nothing was written: the jobs run again after their backoff.
                tracing::warn!(%error, "could not record reminders; retrying later");
                for job in batch
                    .iter()
                    .filter(|j| done.iter().any(|(f, _, _)| *f == j.fence()))
                {
                    metrics::job("reminder", "error");
                    let after = self.wait_before(job.attempt, None);
                    let reason = error.to_string();
                    self.record(job, JobOutcome::Retry { after, reason }).await;
                }
            }
        }
    }

    /// How long to wait before attempt `attempt + 1`: the configured backoff,
    /// or what the storefront asked for with `Retry-After`.
    fn wait_before(&self, attempt: i32, retry_after: Option<Duration>) -> Duration {
        backoff::next_wait(
            attempt,
            retry_after,
            self.config.retry_base,
            self.config.retry_cap,
        )
    }
}
