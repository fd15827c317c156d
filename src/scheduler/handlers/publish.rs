//! The publish job: put the sale on the storefront at `starts_at`, confirm it
//! by reading it back, mark the session live and announce it; retry what may
//! pass for as long as the sale could still run; and make sure a sale that
//! must not be up (its session stopped being approved, or publishing failed)
//! is taken down again.
//!
//! All of it happens in the sale's writer section (`scheduler::writer`), and
//! the decision is made from the session read right before the PUT: a
//! revoke or cancel that commits before that read is obeyed; one that
//! commits while the PUT is in flight (the one call a writer can have out)
//! finds the sale taken down again before the section is left.
//!
//! On a shop that schedules sales the sale was staged at approval (`stage`)
//! and the shop switches it on by its own clock: here the job confirms it
//! from the shopper's view (the flash prices apply) and announces it, and
//! puts it up the usual way only if the shop does not have it.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Handled, JobOutcome, TakenOff};
use crate::app::job_notices::{self, MissedBecause, TakeDown};
use crate::app::{AppError, SessionView, SystemOutcome};
use crate::domain::sale::{PublishDecision, SaleFacts, SalePhase};
use crate::domain::{Action, ActivityKind, Status};
use crate::metrics;
use crate::scheduler::writer::Section;
use crate::scheduler::{timing, Scheduler};
use crate::store::db_now;
use crate::store::jobs::{self, ClaimedJob};
use crate::storefront::{SaleWrite, StorefrontError};

/// How long a staged sale may still show as scheduled at its start before
/// the publish job calls it not shown (and retries), and how often it reads.
const CONFIRM_FOR: Duration = Duration::from_secs(3);
const CONFIRM_EVERY: Duration = Duration::from_millis(100);

impl Scheduler {
    /// Publishes at `starts_at`, confirms by reading the sale back, marks the
    /// session live and announces it.
    ///
    /// The job may be claimed a little before its due time (`due`, by the
    /// scheduler's lookahead): the section is entered, the sale's body read
    /// and its write drawn first, and only the session's status is read again
    /// after the wait, right before the PUT.
    pub(super) async fn publish(&self, job: &ClaimedJob, due: tokio::time::Instant) -> Handled {
        // Lateness is the database clock's (at the claim) plus the time this
        // handler has taken since: no replica's wall clock is involved.
        let started = Instant::now();
        let mut section = self.enter(job.session_id).await?;
        let outcome = self.publish_in(&mut section, job, due, started).await;
        section.leave().await;
        outcome
    }

    async fn publish_in(
        &self,
        section: &mut Section,
        job: &ClaimedJob,
        due: tokio::time::Instant,
        started: Instant,
    ) -> Handled {
        let mut view = self.app.get(job.session_id).await?;
        let Some(write) = self.job_write(job, false).await? else {
            return Ok(JobOutcome::LostLease);
        };
        let read = started.elapsed();
        // Claimed ahead: place the due time on our clock as tightly as the
        // database allows (`timing`); a job claimed late acts at once.
        let due = if job.starts_in_us > 0 {
            timing::local_instant_of(&self.pool, job.acts_at, due).await
        } else {
            due
        };
        tokio::time::sleep_until(due).await;
        // How late this task ran after its timer: the runtime's share of lateness.
        let woke_late = tokio::time::Instant::now().saturating_duration_since(due);
        let facts = section.facts().await?;
        let late = match facts.publish() {
            PublishDecision::Publish { late } => late.to_std().unwrap_or_default(),
            PublishDecision::AlreadyLive => return Ok(JobOutcome::Done),
            // Re-armed after a revoke or cancel (see `Core::replan` in `app::system`): an
            // earlier attempt may have reached the storefront.
            PublishDecision::NotApproved if job.attempt > 1 => {
                let now = self.app.get(job.session_id).await?;
                return self.take_down_if_published(job, &now).await;
            }
            PublishDecision::NotApproved => return Ok(JobOutcome::Done),
            PublishDecision::Missed => return self.missed(job, &view, &facts).await,
        };
        if section.version() != Some(view.version) {
            // Changed and approved again since the body was read (it cannot
            // be edited while approved): read the body it now has.
            view = self.app.get(job.session_id).await?;
        }
        if self.storefront.capabilities().schedules_sales {
            // Staged: the shop switches the sale on by its own clock. Confirm
            // it from the shopper's view; put it up only if it is not there
            // (the stage failed, or someone removed it on the shop).
            match self.confirm_shown_live(view.id).await {
                Ok(true) => {
                    return self.went_live(job, &view, &write.key, late, started).await;
                }
                Ok(false) => tracing::warn!("the staged sale is not on the shop; putting it up"),
                Err(e) => return self.publish_failed_for_now(job, &view, e).await,
            }
        }
        let published = async {
            let put = Instant::now();
            self.put_sale(job, &view, &write).await?;
            // Where a late publish lost its time: negative `due_in_ms` is
            // lateness at the end of the claim, then the session read.
            tracing::debug!(
                due_in_ms = job.starts_in_us as f64 / 1000.0,
                read_ms = read.as_secs_f64() * 1000.0,
                waited_ms = (put - started - read).as_secs_f64() * 1000.0,
                woke_late_ms = woke_late.as_secs_f64() * 1000.0,
                put_ms = put.elapsed().as_secs_f64() * 1000.0,
                "publish timing"
            );
            // Accepted is not shown: only a sale read back counts as up. Not
            // there yet is worth another try (the same key makes the PUT a
            // replay), not a verdict.
            match self.confirmed_down(view.id).await? {
                false => Ok(()),
                true => Err(StorefrontError::NotReadBack),
            }
        }
        .await;
        let e = match published {
            Ok(()) => return self.went_live(job, &view, &write.key, late, started).await,
            Err(e) => e,
        };
        if !e.is_transient() {
            // The storefront refused the sale itself: retrying cannot help.
            return self.give_up_publishing(job, &view, &e).await;
        }
        self.publish_failed_for_now(job, &view, e).await
    }

    /// Whether the shop shows the sale live to shoppers (its flash prices
    /// applying), reading it for up to [`CONFIRM_FOR`]: the shop's clock and
    /// the database's may differ by a little, so a sale still scheduled at
    /// the first read is read again. `false` when the shop does not have it
    /// (or ended it): it must be put up. Still scheduled after that is an
    /// error worth retrying, never taken for live.
    async fn confirm_shown_live(&self, session_id: i64) -> Result<bool, StorefrontError> {
        let until = Instant::now() + CONFIRM_FOR;
        loop {
            match self.storefront.read_back(session_id).await? {
                Some(sale) if sale.phase == SalePhase::Live => return Ok(true),
                Some(sale) if sale.phase == SalePhase::Scheduled => {
                    if Instant::now() >= until {
                        return Err(StorefrontError::NotReadBack);
                    }
                    tokio::time::sleep(CONFIRM_EVERY).await;
                }
                _ => return Ok(false),
            }
        }
    }

    /// The PUT of this decision; when the storefront answers that a newer
    /// write won, this writer (holding the section, having just read the
    /// session) decides afresh once, with a new revision.
    pub(super) async fn put_sale(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        match self.storefront.publish(&view.sale_request(), write).await {
            Err(StorefrontError::Superseded { applied }) => {
                tracing::warn!(
                    applied,
                    ours = write.revision,
                    "a newer write was applied; publishing with a new revision"
                );
                let fresh = self
                    .job_write(job, true)
                    .await
                    .map_err(|e| StorefrontError::unreachable(e.to_string()))?
                    .ok_or(StorefrontError::Superseded { applied })?;
                self.storefront.publish(&view.sale_request(), &fresh).await
            }
            other => other,
        }
    }

    async fn went_live(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        key: &str,
        late: Duration,
        started: Instant,
    ) -> Handled {
        let details = json!({ "attempt": job.attempt, "idempotency_key": key, "late_seconds": late.as_secs() });
        let change = self
            .app
            .system_transition(
                job.fence(),
                view.id,
                Action::GoLive,
                ActivityKind::WentLive,
                details,
                |live| vec![job_notices::live(live, late)],
            )
            .await?;
        match &change {
            SystemOutcome::Changed(live) => {
                let late = (job.claimed_at - job.due_at).num_milliseconds() as f64 / 1000.0
                    + started.elapsed().as_secs_f64();
                metrics::golive_lateness(late);
                tracing::info!(late_ms = (late * 1000.0) as i64, "published");
                self.app
                    .update_card(live, job_notices::live_outcome(live))
                    .await;
                Ok(JobOutcome::Done)
            }
            SystemOutcome::NotApplicable(now) => {
                tracing::warn!(
                    status = now.status.as_str(),
                    "published, but the session moved on meanwhile"
                );
                // Live: another worker got there first. Anything else:
                // revoked or cancelled while the publish was in flight.
                if now.status != Status::Live {
                    self.take_down(job, now).await?;
                }
                Ok(JobOutcome::Done)
            }
            SystemOutcome::LostLease => Ok(JobOutcome::LostLease),
        }
    }

    /// The window passed while the session was approved and not up: it is
    /// marked failed (missed), with one post saying why, and a sale an
    /// earlier attempt may have put up comes down. Shared by the publish
    /// and end jobs, whichever reads the session first: both tell the same
    /// story, from whether publishing was tried and failed.
    pub(super) async fn missed(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        facts: &SaleFacts,
    ) -> Handled {
        let why = if jobs::publish_failed_before(&self.pool, view.id).await? {
            MissedBecause::PublishingFailed
        } else {
            MissedBecause::NoBotRan
        };
        let details =
            json!({ "attempt": job.attempt, "job": job.kind.as_stored(), "reason": why.says() });
        let change = self
            .app
            .system_transition(
                job.fence(),
                view.id,
                Action::Miss,
                ActivityKind::Missed,
                details,
                |failed| vec![job_notices::missed(failed, why, facts.now)],
            )
            .await?;
        match &change {
            SystemOutcome::Changed(failed) => {
                self.app
                    .update_card(failed, job_notices::missed_outcome())
                    .await;
                // An earlier publish attempt may have put it up, its answer lost.
                if let Ok(false) = self.confirmed_down(failed.id).await {
                    self.take_down(job, failed).await?;
                }
                Ok(JobOutcome::Done)
            }
            SystemOutcome::NotApplicable(_) => Ok(JobOutcome::Done),
            SystemOutcome::LostLease => Ok(JobOutcome::LostLease),
        }
    }

    /// Asks the storefront whether an earlier attempt of this publish put the
    /// sale up, and if so takes it down.
    async fn take_down_if_published(&self, job: &ClaimedJob, now: &SessionView) -> Handled {
        match self.confirmed_down(now.id).await {
            Ok(true) => Ok(JobOutcome::Done),
            Ok(false) => {
                self.take_down(job, now).await?;
                Ok(JobOutcome::Done)
            }
            Err(e) if e.is_transient() => Ok(JobOutcome::Retry {
                after: self.wait_before(job.attempt, e.retry_after()),
                reason: e.to_string(),
            }),
            Err(e) => {
                // The reconciler keeps asking; approvers hear it now.
                let alert = job_notices::take_down_unknown(now, &e);
                self.app.notify(now.id, alert).await?;
                Ok(JobOutcome::Done)
            }
        }
    }

    /// The sale is up although its session is not live: take it down and tell
    /// approvers. One try here, made in the writer's section with a write of
    /// its own (a new decision: a new key and revision); if it does not come
    /// down (or cannot be confirmed down), the reconciler finds it and asks
    /// for a repair, so no task sleeps on a storefront's `Retry-After`.
    async fn take_down(&self, job: &ClaimedJob, now: &SessionView) -> Result<(), AppError> {
        let alert = match self.take_off(job, now, ActivityKind::TakenDown).await? {
            TakenOff::LostLease => return Ok(()),
            TakenOff::Down => {
                tracing::warn!(session = now.id, "published sale taken down again");
                job_notices::take_down(now, TakeDown::Done)
            }
            TakenOff::StillUp => job_notices::take_down(now, TakeDown::StillUp),
            TakenOff::Failed(e) => {
                tracing::error!(session = now.id, error = %e, "could not take the sale down");
                job_notices::take_down(now, TakeDown::Failed(&e))
            }
        };
        self.app.notify(now.id, alert).await
    }

    /// A transient failure: retry while the sale can still run. The wait is
    /// the backoff (or `Retry-After`), capped so that a retry still lands
    /// inside the window; a retry that lands at or after the end finds the
    /// window passed (`SaleFacts::publish`) and marks the session missed.
    async fn publish_failed_for_now(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        e: StorefrontError,
    ) -> Handled {
        // The database's clock decides whether the window is over, like every
        // due time (`crate::clock`), read after the calls that failed.
        let now = db_now(&self.pool).await?;
        let left = (view.window.ends_at() - now)
            .to_std()
            .unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return self.give_up_publishing(job, view, &e).await;
        }
        let asked = self.wait_before(job.attempt, e.retry_after());
        let after = asked.min(left / 2).max(self.config.retry_base.min(left));
        if job.attempt == self.config.alert_after_failures {
            let alert = if self.storefront.capabilities().schedules_sales {
                job_notices::not_shown_at_start(view, job.attempt, &e)
            } else {
                job_notices::publish_failing(view, job.attempt, &e)
            };
            self.app.notify(view.id, alert).await?;
        }
        Ok(JobOutcome::Retry {
            after,
            reason: e.to_string(),
        })
    }

    /// Publishing will not succeed: the session becomes `failed`, approvers
    /// hear why, and a sale an earlier attempt may have put up comes down, so
    /// the storefront agrees with "will not go live".
    async fn give_up_publishing(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        e: &StorefrontError,
    ) -> Handled {
        tracing::error!(error = %e, "publish failed for good");
        let details = json!({ "attempt": job.attempt, "error": e.to_string() });
        let change = self
            .app
            .system_transition(
                job.fence(),
                view.id,
                Action::PublishFailed,
                ActivityKind::PublishFailed,
                details,
                |failed| vec![job_notices::publish_failed(failed, e)],
            )
            .await?;
        match &change {
            SystemOutcome::Changed(failed) => {
                self.app
                    .update_card(failed, job_notices::publish_failed_outcome(e))
                    .await;
                if let Ok(false) = self.confirmed_down(failed.id).await {
                    self.take_down(job, failed).await?;
                }
                Ok(JobOutcome::Failed(e.to_string()))
            }
            SystemOutcome::NotApplicable(_) => Ok(JobOutcome::Failed(e.to_string())),
            SystemOutcome::LostLease => Ok(JobOutcome::LostLease),
        }
    }
}
