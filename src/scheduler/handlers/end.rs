//! The end job: takes the sale off the storefront at its end (or when an
//! approver stopped it) and only then marks the session ended.
//!
//! It runs in the sale's writer section and decides from the session read
//! there (`domain::sale::EndDecision`): an end that finds the session still
//! approved after its window marks it missed, so an overdue publish can never
//! follow it. A take-down is confirmed by reading the sale back; a refused or
//! unconfirmed one is retried with approvers told, never assumed.

use std::time::Duration;

use serde_json::json;

use super::{Handled, JobOutcome};
use crate::app::{job_notices, SessionView, SystemOutcome};
use crate::domain::sale::EndDecision;
use crate::domain::{Action, ActivityKind};
use crate::scheduler::writer::Section;
use crate::scheduler::Scheduler;
use crate::store::jobs::ClaimedJob;
use crate::storefront::{SaleWrite, StorefrontError};

impl Scheduler {
    /// Ends the sale on the storefront at `ends_at` (or when an approver
    /// stopped it), and only when the storefront confirms it is off marks the
    /// session ended: a refused or unconfirmed take-down is retried, never
    /// assumed. Made in the sale's writer section, from the session read
    /// there: an end that finds the session still approved after its window
    /// marks it missed, so an overdue publish can never follow it.
    pub(super) async fn end(&self, job: &ClaimedJob) -> Handled {
        let mut section = self.enter(job.session_id).await?;
        let outcome = self.end_in(&mut section, job).await;
        section.leave().await;
        outcome
    }

    async fn end_in(&self, section: &mut Section, job: &ClaimedJob) -> Handled {
        let facts = section.facts().await?;
        match facts.end() {
            // Ended already (a re-run: its notice is in the outbox), or never live.
            EndDecision::Nothing => return Ok(JobOutcome::Done),
            EndDecision::NotYet => {
                // Claimed before its publish could run: the end comes at the end.
                let after = (facts.window.ends_at() - facts.now)
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                return Ok(JobOutcome::Retry {
                    after,
                    reason: "the session is not live yet".to_owned(),
                });
            }
            EndDecision::Missed => {
                let view = self.app.get(job.session_id).await?;
                return self.missed(job, &view, &facts).await;
            }
            EndDecision::End => {}
        }
        let view = self.app.get(job.session_id).await?;
        let Some(write) = self.job_write(job, false).await? else {
            return Ok(JobOutcome::LostLease);
        };
        let down = match self.end_on_storefront(job, view.id, write).await {
            Ok(down) => down,
            Err(e) => return self.end_not_confirmed(job, &view, e).await,
        };
        if !down {
            let e = StorefrontError::still_shown_after_end();
            return self.end_not_confirmed(job, &view, e).await;
        }
        let early = self.ended_early(job, &view);
        let details = json!({ "attempt": job.attempt, "early": early });
        let change = self
            .app
            .system_transition(
                job.fence(),
                view.id,
                Action::End,
                ActivityKind::Ended,
                details,
                |done| vec![job_notices::ended(done, early)],
            )
            .await?;
        if let SystemOutcome::Changed(done) = &change {
            self.app
                .update_card(done, job_notices::ended_outcome(early))
                .await;
        }
        Ok(JobOutcome::after(&change))
    }

    /// The DELETE of this decision, confirmed by reading the sale back; true
    /// when it is off the shop. If the storefront answers that a newer write
    /// won, or still shows the sale after a DELETE it took (a replay of our
    /// key answered as before, while a newer write put it back), this writer
    /// decides afresh once with a new revision and key.
    async fn end_on_storefront(
        &self,
        job: &ClaimedJob,
        session_id: i64,
        write: SaleWrite,
    ) -> Result<bool, StorefrontError> {
        let mut write = write;
        for fresh in [false, true] {
            if fresh {
                write = match self.job_write(job, true).await {
                    Ok(Some(write)) => write,
                    // Taken over: the new owner decides.
                    Ok(None) => return Ok(false),
                    Err(e) => return Err(StorefrontError::unreachable(e.to_string())),
                };
            }
            match self.storefront.end(session_id, &write).await {
                Ok(()) if self.confirmed_down(session_id).await? => return Ok(true),
                Ok(()) => tracing::warn!(
                    revision = write.revision,
                    "ended, but the storefront still shows the sale"
                ),
                Err(StorefrontError::Superseded { applied }) if !fresh => tracing::warn!(
                    applied,
                    ours = write.revision,
                    "a newer write was applied; ending with a new revision"
                ),
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// The end job is due at `ends_at` unless `stop` moved it earlier (to the
    /// database's now), so its due time tells an early end without reading
    /// any clock.
    fn ended_early(&self, job: &ClaimedJob, view: &SessionView) -> bool {
        job.due_at + chrono::Duration::seconds(5) < view.window.ends_at()
    }

    /// The sale could not be confirmed off the storefront: it stays live here
    /// (that is what shoppers see), approvers hear why, and the end is retried.
    async fn end_not_confirmed(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        e: StorefrontError,
    ) -> Handled {
        let after = self.wait_before(job.attempt, e.retry_after());
        let alert = if !e.is_transient() {
            Some(job_notices::end_refused(view, &e))
        } else if job.attempt == self.config.alert_after_failures {
            Some(job_notices::end_failing(view, job.attempt, &e))
        } else {
            None
        };
        if let Some(alert) = alert {
            self.app.notify(view.id, alert).await?;
        }
        Ok(JobOutcome::Retry {
            after,
            reason: e.to_string(),
        })
    }
}
