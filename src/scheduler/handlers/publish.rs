//! The publish job: put the sale on the storefront at `starts_at`, confirm it,
//! mark the session live and announce it; retry what may pass, give up on
//! what cannot; and take a sale down again when its session stopped being
//! approved while it was going up.

use serde_json::json;

use crate::app::cards::now_live;
use crate::app::{SessionView, SystemOutcome};
use crate::chat::{Channel, Text, TimeStyle};
use crate::domain::{Action, ActivityKind, Status};
use crate::metrics;
use crate::scheduler::Scheduler;
use crate::store::db_now;
use crate::store::jobs::{ClaimedJob, Fence};
use crate::storefront::{SaleRequest, StorefrontError};

/// How often a sale that went up after its session was withdrawn is asked to
/// come down before a person is asked to do it.
const TAKE_DOWN_ATTEMPTS: i32 = 3;

impl Scheduler {
    /// Publishes at `starts_at`, confirms by reading the sale back, marks the
    /// session live and announces it.
    pub(super) async fn publish(&self, job: &ClaimedJob) -> Result<(), String> {
        // Lateness is the database clock's (at the claim) plus the time this
        // handler has taken since: no replica's wall clock is involved.
        let started = std::time::Instant::now();
        let view = self.session(job).await?;
        match view.status {
            Status::Approved => {}
            Status::Live => return self.announce_live(job.fence(), &view).await,
            // Re-armed after a revoke or cancel (see `FlashSales::replan`): an
            // earlier attempt may have reached the storefront.
            _ if job.attempt > 1 => return self.take_down_if_published(job, &view).await,
            _ => return self.finish(job.fence()).await,
        }
        let key = job.idempotency_key.to_string();
        let published = async {
            self.storefront
                .publish(&SaleRequest::from_view(&view), &key)
                .await?;
            match self.storefront.read_back(view.id).await? {
                Some(sale) if sale["session_id"] == view.id => Ok(()),
                _ => Err(StorefrontError::Malformed(
                    "the published sale could not be read back".to_owned(),
                )),
            }
        }
        .await;
        match published {
            Ok(()) => {
                let details = json!({ "attempt": job.attempt, "idempotency_key": key });
                match self
                    .transition(
                        job.fence(),
                        view.id,
                        Action::GoLive,
                        ActivityKind::WentLive,
                        details,
                    )
                    .await?
                {
                    SystemOutcome::Changed(live) => {
                        let late = (job.claimed_at - job.due_at).num_milliseconds() as f64 / 1000.0
                            + started.elapsed().as_secs_f64();
                        metrics::golive_lateness(late);
                        tracing::info!(late_ms = (late * 1000.0) as i64, "published");
                        self.announce_live(job.fence(), &live).await
                    }
                    SystemOutcome::NotApplicable(now) => {
                        tracing::warn!(
                            status = now.status.as_str(),
                            "published, but the session moved on meanwhile"
                        );
                        // Live: another worker got there first. Anything else:
                        // revoked or cancelled while the publish was in flight.
                        if now.status != Status::Live {
                            self.take_down(job, &now).await;
                        }
                        self.finish(job.fence()).await
                    }
                    SystemOutcome::LostLease => Ok(()),
                }
            }
            Err(e) if e.is_transient() => self.publish_failed_for_now(job, &view, e).await,
            Err(e) => {
                // The storefront refused the sale itself: retrying cannot help.
                self.give_up_publishing(job, &view, &e).await
            }
        }
    }

    /// Asks the storefront whether an earlier attempt of this publish put the
    /// sale up, and if so takes it down.
    async fn take_down_if_published(
        &self,
        job: &ClaimedJob,
        now: &SessionView,
    ) -> Result<(), String> {
        match self.storefront.read_back(now.id).await {
            Ok(Some(_)) => self.take_down(job, now).await,
            Ok(None) => {}
            Err(e) if e.is_transient() => {
                let wait = self.wait_before(job.attempt, e.retry_after());
                self.retry_later(job.fence(), wait, &e.to_string()).await;
                return Ok(());
            }
            Err(e) => {
                self.alert_approvers(Text::from(format!(
                    "#{} \"{}\" became {} while its publish was being retried, and the storefront \
                     could not say whether the sale is up ({e}). Check flash sale {} there.",
                    now.id,
                    now.title,
                    now.status.label().to_lowercase(),
                    now.id
                )))
                .await;
            }
        }
        self.finish(job.fence()).await
    }

    /// The sale reached the storefront after its session stopped being
    /// approved: take it down again, or the storefront would sell what nobody
    /// approves any more. The publish job is finished either way (its next
    /// attempt would see a session that is not approved and do nothing), so the
    /// call is retried here, briefly; if it still fails a person must act.
    async fn take_down(&self, job: &ClaimedJob, now: &SessionView) {
        // Derived from the publish job's key, so a re-run sends the same id.
        let key = format!("{}-take-down", job.idempotency_key);
        let mut outcome = Ok(());
        for attempt in 1..=TAKE_DOWN_ATTEMPTS {
            outcome = self.storefront.end(now.id, &key).await;
            match &outcome {
                Err(e) if e.is_transient() && attempt < TAKE_DOWN_ATTEMPTS => {
                    let wait = self.wait_before(attempt, e.retry_after());
                    tokio::time::sleep(wait).await;
                }
                _ => break,
            }
        }
        let what = format!(
            "#{} \"{}\" became {} while it was being published",
            now.id,
            now.title,
            now.status.label().to_lowercase()
        );
        match outcome {
            Ok(()) => {
                tracing::warn!(session = now.id, "published sale taken down again");
                let details = json!({ "status": now.status.as_str(), "idempotency_key": key });
                if let Err(e) = self
                    .app
                    .log_system_event(now.id, ActivityKind::TakenDown, details)
                    .await
                {
                    tracing::error!(error = %e, "could not log the take-down");
                }
                self.alert_approvers(Text::from(format!(
                    "{what}: it reached the storefront and was taken down again."
                )))
                .await;
            }
            Err(e) => {
                tracing::error!(session = now.id, error = %e, "could not take the sale down");
                self.alert_approvers(Text::from(format!(
                    "{what}, and it is on the storefront: taking it down failed ({e}). \
                     Remove flash sale {} from the storefront by hand.",
                    now.id
                )))
                .await;
            }
        }
    }

    async fn announce_live(&self, fence: Fence, view: &SessionView) -> Result<(), String> {
        self.post(Channel::Announcements, &now_live(view)).await;
        let outcome = Text::new()
            .plain("Live since ")
            .time(view.window.starts_at(), TimeStyle::Relative);
        self.app.update_card(view, outcome).await;
        self.finish(fence).await
    }

    async fn publish_failed_for_now(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        e: StorefrontError,
    ) -> Result<(), String> {
        let wait = self.wait_before(job.attempt, e.retry_after());
        // Whether a retry still fits in the window is the database clock's
        // call, like every due time (`crate::clock`).
        let now = db_now(&self.pool).await.map_err(|e| e.to_string())?;
        let retry_at = now + chrono::Duration::from_std(wait).unwrap_or_default();
        if retry_at >= view.window.ends_at() {
            return self.give_up_publishing(job, view, &e).await;
        }
        tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "publish failed; will retry");
        if job.attempt == self.config.alert_after_failures {
            let alert = Text::new()
                .plain(format!(
                    "Publishing #{} \"{}\" has failed {} times ({e}). Still retrying until the sale would end, ",
                    view.id, view.title, job.attempt
                ))
                .time(view.window.ends_at(), TimeStyle::Relative)
                .plain(".");
            self.alert_approvers(alert).await;
        }
        self.retry_later(job.fence(), wait, &e.to_string()).await;
        Ok(())
    }

    async fn give_up_publishing(
        &self,
        job: &ClaimedJob,
        view: &SessionView,
        e: &StorefrontError,
    ) -> Result<(), String> {
        tracing::error!(error = %e, "publish failed for good");
        let details = json!({ "attempt": job.attempt, "error": e.to_string() });
        match self
            .transition(
                job.fence(),
                view.id,
                Action::PublishFailed,
                ActivityKind::PublishFailed,
                details,
            )
            .await?
        {
            SystemOutcome::Changed(failed) => {
                self.alert_approvers(Text::from(format!(
                    "#{} \"{}\" could not be published and will not go live: {e}.",
                    failed.id, failed.title
                )))
                .await;
                self.app
                    .update_card(&failed, Text::from(format!("Failed to publish: {e}")))
                    .await;
            }
            SystemOutcome::NotApplicable(_) | SystemOutcome::LostLease => {}
        }
        self.fail(job.fence(), &e.to_string()).await;
        Ok(())
    }
}
