//! The repair job: asked for by the reconciler when the storefront showed
//! something the database does not say, and run by the sale's one writer.
//!
//! It decides again from what it reads inside the writer section, not from
//! what the reconciler saw: the session may have moved on (stopped, ended,
//! gone live) since, and its end may have come. So it never puts back a sale
//! that is stopping, stopped, ended, cancelled or past its end
//! (`domain::sale`); a live session whose sale must come down is its end
//! job's (which also marks it ended), and the repair only makes sure that
//! job will run. Otherwise it reads the sale, and writes only if it still
//! differs: a put-back or a take-down with a write of its own (a new
//! decision: a new key and revision), confirmed by reading it back. Approvers
//! hear what was found and whether the repair worked.

use serde_json::json;

use super::{Handled, JobOutcome};
use crate::app::job_notices;
use crate::domain::sale::{RepairDecision, Shown};
use crate::domain::ActivityKind;
use crate::metrics;
use crate::scheduler::writer::Section;
use crate::scheduler::{Finding, Scheduler};
use crate::store::jobs::{self, ClaimedJob};

impl Scheduler {
    pub(super) async fn repair(&self, job: &ClaimedJob) -> Handled {
        let mut section = self.enter(job.session_id).await?;
        let outcome = self.repair_in(&mut section, job).await;
        section.leave().await;
        let (outcome, finding) = outcome?;
        metrics::reconciled(finding.label());
        Ok(outcome)
    }

    async fn repair_in(
        &self,
        section: &mut Section,
        job: &ClaimedJob,
    ) -> Result<(JobOutcome, Finding), crate::app::AppError> {
        let facts = section.facts().await?;
        let wanted = match facts.repair() {
            RepairDecision::LeaveToPublish => return Ok((JobOutcome::Done, Finding::Agrees)),
            RepairDecision::ArmEnd => {
                let mut conn = self.pool.acquire().await?;
                if jobs::ensure_end_armed(&mut conn, job.session_id, facts.window.ends_at()).await?
                {
                    tracing::warn!("a live session's end job was not going to run; re-armed");
                }
                return Ok((JobOutcome::Done, Finding::Agrees));
            }
            RepairDecision::Show(wanted) => wanted,
        };
        let shown = match self.confirmed_down(job.session_id).await {
            Ok(true) => Shown::Down,
            Ok(false) => Shown::Up,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sale back; the reconciler asks again");
                return Ok((JobOutcome::Done, Finding::Unreadable));
            }
        };
        if shown == wanted {
            return Ok((JobOutcome::Done, Finding::Agrees));
        }
        let view = self.app.get(job.session_id).await?;
        let repair = match wanted {
            Shown::Up => &PUT_BACK,
            Shown::Down => &TAKE_OFF,
        };
        tracing::warn!("{}; repairing", repair.found);
        let Some(write) = self.job_write(job, true).await? else {
            return Ok((JobOutcome::LostLease, Finding::Unrepaired));
        };
        let applied = match wanted {
            Shown::Up => self.storefront.publish(&view.sale_request(), &write).await,
            Shown::Down => self.storefront.end(view.id, &write).await,
        };
        let repaired = match applied {
            Ok(()) => self
                .confirmed_down(view.id)
                .await
                .map(|down| down == (wanted == Shown::Down)),
            Err(e) => Err(e),
        };
        match repaired {
            Ok(true) => {
                let details = json!({
                    "status": view.status.as_str(),
                    "idempotency_key": write.key,
                    "revision": write.revision,
                });
                self.app
                    .log_system_event(view.id, repair.done_kind, details)
                    .await?;
                // Said once per session version (the notice's key).
                let alert = job_notices::repaired(&view, wanted);
                self.app.notify(view.id, alert).await?;
                Ok((JobOutcome::Done, repair.finding))
            }
            outcome => {
                let alert = job_notices::repair_failed(&view, wanted, outcome.as_ref().err());
                self.app.notify(view.id, alert).await?;
                // The reconciler's next round asks again if it still differs.
                Ok((JobOutcome::Done, Finding::Unrepaired))
            }
        }
    }
}

/// One direction of a repair: the same steps, logged and counted differently
/// (what it says is `app::job_notices::{repaired, repair_failed}`).
struct Repair {
    /// What the log says was found.
    found: &'static str,
    /// The activity logged when it worked.
    done_kind: ActivityKind,
    finding: Finding,
}

/// A live sale is missing on the storefront: publish it again.
const PUT_BACK: Repair = Repair {
    found: "a live sale is missing on the storefront",
    done_kind: ActivityKind::Republished,
    finding: Finding::Republished,
};

/// A sale is up although its session is not live: end it there.
const TAKE_OFF: Repair = Repair {
    found: "a sale is up on the storefront for a session that is not live",
    done_kind: ActivityKind::TakenDown,
    finding: Finding::TakenDown,
};
