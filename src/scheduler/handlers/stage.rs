//! The stage job, on a shop that schedules sales (`Capabilities::schedules_sales`):
//! keeps what the shop holds in step with the session before it goes live.
//!
//! An approval arms it (due at once); a revoke, cancel or expiry of a session
//! that had one re-arms it (`app::system`). It runs in the sale's writer
//! section like every storefront write and decides from the session read
//! there (`domain::sale::StageDecision`): approved and its end ahead, the
//! sale is handed to the shop, which switches it on at the start and off at
//! the end by its own clock, so a bot that is down at midnight no longer
//! makes the sale late; no longer approved, whatever was staged comes off.
//! A revoke that commits while the stage call is in flight is caught by
//! reading the session again before the section is left, as the publish job
//! does. Going live (confirmed by reading the shopper's view) and ending stay
//! the publish and end jobs'.

use std::time::Duration;

use serde_json::json;

use super::{Handled, JobOutcome, TakenOff};
use crate::app::{job_notices, SessionView};
use crate::domain::sale::{shown, SalePhase, Shown, StageDecision};
use crate::domain::ActivityKind;
use crate::scheduler::writer::Section;
use crate::scheduler::Scheduler;
use crate::store::jobs::ClaimedJob;
use crate::storefront::{SaleWrite, StorefrontError};

impl Scheduler {
    pub(super) async fn stage(&self, job: &ClaimedJob) -> Handled {
        let mut section = self.enter(job.session_id).await?;
        let outcome = self.stage_in(&mut section, job).await;
        section.leave().await;
        outcome
    }

    async fn stage_in(&self, section: &mut Section, job: &ClaimedJob) -> Handled {
        let facts = section.facts().await?;
        let view = self.app.get(job.session_id).await?;
        match facts.stage() {
            StageDecision::LeaveToJobs => Ok(JobOutcome::Done),
            StageDecision::Unstage => self.unstage(job, &view).await,
            StageDecision::Stage => {
                let Some(write) = self.job_write(job, false).await? else {
                    return Ok(JobOutcome::LostLease);
                };
                let staged = self.stage_sale(job, &view, &write).await;
                // Revoked or cancelled while the call was out: take it off
                // again before the section is left.
                let now = section.facts().await?;
                if now.stage() == StageDecision::Unstage {
                    let now = self.app.get(job.session_id).await?;
                    return self.unstage(job, &now).await;
                }
                match staged {
                    Ok(phase) => {
                        let details = json!({
                            "idempotency_key": write.key,
                            "revision": write.revision,
                            "phase": format!("{phase:?}").to_lowercase(),
                        });
                        self.app
                            .log_system_event(view.id, ActivityKind::Staged, details)
                            .await?;
                        Ok(JobOutcome::Done)
                    }
                    Err(e) if e.is_transient() => {
                        if job.attempt == self.config.alert_after_failures {
                            let alert = job_notices::stage_failing(&view, job.attempt, &e);
                            self.app.notify(view.id, alert).await?;
                        }
                        Ok(JobOutcome::Retry {
                            after: self.wait_before(job.attempt, e.retry_after()),
                            reason: e.to_string(),
                        })
                    }
                    Err(e) => {
                        // Not a verdict on the session: the publish job tries
                        // the usual way at the start and fails it if the shop
                        // refuses then too.
                        tracing::error!(error = %e, "the shop refused to stage the sale");
                        self.app
                            .notify(view.id, job_notices::stage_refused(&view, &e))
                            .await?;
                        Ok(JobOutcome::Failed(e.to_string()))
                    }
                }
            }
        }
    }

    /// Hands the sale to the shop (`put_sale`: a newer write that won makes
    /// this writer decide once more with a new revision) and reads it back:
    /// staged means the shop knows it and has not ended it (before the start
    /// it shows the regular prices; after a late approval, already the flash
    /// ones).
    async fn stage_sale(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        write: &SaleWrite,
    ) -> Result<SalePhase, StorefrontError> {
        self.put_sale(job, view, write).await?;
        match self.storefront.read_back(view.id).await? {
            Some(sale) if sale.phase != SalePhase::Ended => Ok(sale.phase),
            _ => Err(StorefrontError::NotReadBack),
        }
    }

    /// Takes a staged sale off the shop (its session is no longer approved),
    /// with a write of its own, confirmed by reading it back. Nothing staged,
    /// nothing to do.
    async fn unstage(&self, job: &ClaimedJob, view: &SessionView) -> Handled {
        let on_shop = match self.storefront.read_back(view.id).await {
            Ok(sale) => shown(sale.as_ref()) == Shown::Up,
            Err(e) => return self.unstage_failed(job, view, e).await,
        };
        if !on_shop {
            return Ok(JobOutcome::Done);
        }
        match self.take_off(job, view, ActivityKind::Unstaged).await? {
            TakenOff::Down => Ok(JobOutcome::Done),
            TakenOff::LostLease => Ok(JobOutcome::LostLease),
            TakenOff::StillUp => {
                self.unstage_failed(job, view, StorefrontError::still_shown_after_end())
                    .await
            }
            TakenOff::Failed(e) => self.unstage_failed(job, view, e).await,
        }
    }

    async fn unstage_failed(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        e: StorefrontError,
    ) -> Handled {
        tracing::warn!(error = %e, "could not take the staged sale off the shop");
        if job.attempt == 1 || job.attempt == self.config.alert_after_failures {
            self.app
                .notify(view.id, job_notices::unstage_failed(view, &e))
                .await?;
        }
        // Until it is off: a staged sale goes live by the shop's clock.
        let after = self
            .wait_before(job.attempt, e.retry_after())
            .min(Duration::from_secs(30));
        Ok(JobOutcome::Retry {
            after,
            reason: e.to_string(),
        })
    }
}
