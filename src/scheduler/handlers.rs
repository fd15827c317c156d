//! What each kind of job does when it is due.
//!
//! Every handler starts from the session as stored, so a job whose session
//! moved on (cancelled, revoked, already live) does nothing harmful. The
//! status change commits before the announcement is posted and the job is
//! only marked done after it: a crash in between re-runs the job, which finds
//! the change made and posts again under the same dedupe key, so the team
//! hears about it once.

use std::cell::Cell;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use super::{backoff, Scheduler};
use crate::app::cards::{ended, now_live};
use crate::app::{SessionView, SystemOutcome};
use crate::chat::{Channel, Mention, Message, Text, TimeStyle};
use crate::domain::{Action, ActivityKind, JobKind, Status, MAX_ITEMS};
use crate::metrics;
use crate::store::jobs::{self, ClaimedJob, Fence};
use crate::storefront::{SaleRequest, StorefrontError};

/// How often a sale that went up after its session was withdrawn is asked to
/// come down before a person is asked to do it.
const TAKE_DOWN_ATTEMPTS: u32 = 3;

tokio::task_local! {
    /// How the running job ended when its handler returned `Ok`: "done",
    /// "retry" (rescheduled) or "failed" (given up), for the jobs metric.
    static JOB_FATE: Cell<&'static str>;
}

/// Notes the running job's fate; outside `run_job` (reminder batches) it is a no-op.
fn set_fate(fate: &'static str) {
    let _ = JOB_FATE.try_with(|cell| cell.set(fate));
}

/// The metric label of a job kind: reminders share one, whatever their offset.
fn metric_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Publish => "publish",
        JobKind::End => "end",
        JobKind::Expire => "expire",
        JobKind::HeadsUp => "heads_up",
        JobKind::Reminder { .. } => "reminder",
    }
}

impl Scheduler {
    #[tracing::instrument(skip_all, fields(job = job.id, session = job.session_id, kind = %job.kind, attempt = job.attempt))]
    pub(super) async fn run_job(&self, job: ClaimedJob) {
        let started = std::time::Instant::now();
        let kind = JobKind::from_stored(&job.kind);
        let handled = async {
            match kind {
                Some(JobKind::Publish) => self.publish(&job).await,
                Some(JobKind::End) => self.end(&job).await,
                Some(JobKind::Expire) => self.expire(&job).await,
                Some(JobKind::HeadsUp) => self.heads_up(&job).await,
                Some(JobKind::Reminder { .. }) => {
                    self.remind(vec![job.clone()]).await;
                    Ok(())
                }
                None => Err(format!("unknown job kind {:?}", job.kind)),
            }
        };
        // `retry_later` and `fail` below say when a handled job did not end "done".
        let (outcome, fate) = JOB_FATE
            .scope(Cell::new("done"), async {
                let outcome = handled.await;
                (outcome, JOB_FATE.with(Cell::get))
            })
            .await;
        let ms = started.elapsed().as_millis() as u64;
        let metric_kind = kind.map_or("unknown", metric_kind);
        // `remind` counts its jobs itself, batched or not.
        let counted = !matches!(kind, Some(JobKind::Reminder { .. }));
        match outcome {
            Ok(()) => {
                if counted {
                    metrics::job(metric_kind, fate);
                }
                tracing::info!(ms, outcome = fate, "job ran");
            }
            Err(error) => {
                if counted {
                    metrics::job(metric_kind, "error");
                }
                // An internal failure (database, a bug): try again later.
                tracing::error!(ms, outcome = "error", %error, "job failed; retrying later");
                let wait = backoff::next_wait(
                    job.attempt,
                    None,
                    self.config.retry_base,
                    self.config.retry_cap,
                );
                self.retry_later(job.fence(), wait, &error).await;
            }
        }
    }

    /// Publishes at `starts_at`, confirms by reading the sale back, marks the
    /// session live and announces it.
    async fn publish(&self, job: &ClaimedJob) -> Result<(), String> {
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
                        let late = (Utc::now() - job.due_at).num_milliseconds() as f64 / 1000.0;
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
                let wait = backoff::next_wait(
                    job.attempt,
                    e.retry_after(),
                    self.config.retry_base,
                    self.config.retry_cap,
                );
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
                    let wait = backoff::next_wait(
                        i32::try_from(attempt).unwrap_or(i32::MAX),
                        e.retry_after(),
                        self.config.retry_base,
                        self.config.retry_cap,
                    );
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
        let wait = backoff::next_wait(
            job.attempt,
            e.retry_after(),
            self.config.retry_base,
            self.config.retry_cap,
        );
        let retry_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
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

    /// Ends the sale on the storefront at `ends_at` (or when an approver stopped it).
    async fn end(&self, job: &ClaimedJob) -> Result<(), String> {
        let view = self.session(job).await?;
        match view.status {
            Status::Live => {}
            Status::Ended => return self.announce_end(job.fence(), &view).await,
            _ => return self.finish(job.fence()).await,
        }
        if let Err(e) = self
            .storefront
            .end(view.id, &job.idempotency_key.to_string())
            .await
        {
            if e.is_transient() {
                let wait = backoff::next_wait(
                    job.attempt,
                    e.retry_after(),
                    self.config.retry_base,
                    self.config.retry_cap,
                );
                if job.attempt == self.config.alert_after_failures {
                    self.alert_approvers(Text::from(format!(
                        "Ending #{} \"{}\" on the storefront has failed {} times ({e}); still retrying.",
                        view.id, view.title, job.attempt
                    )))
                    .await;
                }
                self.retry_later(job.fence(), wait, &e.to_string()).await;
                return Ok(());
            }
            // The storefront refused: it ends the sale at its own ends_at anyway.
            self.alert_approvers(Text::from(format!(
                "The storefront refused to end #{} \"{}\" ({e}); it is marked ended here.",
                view.id, view.title
            )))
            .await;
        }
        let details = json!({ "attempt": job.attempt });
        match self
            .transition(
                job.fence(),
                view.id,
                Action::End,
                ActivityKind::Ended,
                details,
            )
            .await?
        {
            SystemOutcome::Changed(done) => self.announce_end(job.fence(), &done).await,
            SystemOutcome::NotApplicable(_) => self.finish(job.fence()).await,
            SystemOutcome::LostLease => Ok(()),
        }
    }

    async fn announce_end(&self, fence: Fence, view: &SessionView) -> Result<(), String> {
        let early = view.window.ends_at() > Utc::now() + chrono::Duration::seconds(5);
        let how = if early { " early" } else { "" };
        self.post(Channel::Announcements, &ended(view, how)).await;
        self.app
            .update_card(view, Text::from(format!("Ended{how}")))
            .await;
        self.finish(fence).await
    }

    /// At the approval deadline an unapproved session will not go live.
    async fn expire(&self, job: &ClaimedJob) -> Result<(), String> {
        let details = json!({ "attempt": job.attempt });
        match self
            .transition(
                job.fence(),
                job.session_id,
                Action::Expire,
                ActivityKind::Expired,
                details,
            )
            .await?
        {
            SystemOutcome::Changed(view) => {
                let message = Message {
                    text: Text::from(format!(
                        "#{} \"{}\" was not approved by its deadline and will not go live. Clone it to a new start to try again.",
                        view.id, view.title
                    )),
                    mentions: vec![Mention::Editors],
                    dedupe_key: Some(format!("expired:{}", view.id)),
                    ..Message::default()
                };
                self.post(Channel::Announcements, &message).await;
                self.app
                    .update_card(&view, Text::from("Expired: not approved in time"))
                    .await;
                self.finish(job.fence()).await
            }
            SystemOutcome::NotApplicable(_) => self.finish(job.fence()).await,
            SystemOutcome::LostLease => Ok(()),
        }
    }

    /// Shortly before start: check the catalog again and tell the team.
    async fn heads_up(&self, job: &ClaimedJob) -> Result<(), String> {
        let view = self.session(job).await?;
        if view.status != Status::Approved {
            return self.finish(job.fence()).await;
        }
        let starts = view.window.starts_at();
        match self.app.recheck_items(view.id).await {
            Ok(problems) if problems.is_empty() => {
                let message = Message {
                    text: Text::new()
                        .plain(format!("Armed: #{} \"{}\" goes live ", view.id, view.title))
                        .time(starts, TimeStyle::FullAndRelative)
                        .plain(". Catalog and stock checked."),
                    dedupe_key: Some(format!("heads-up:{}", job.id)),
                    ..Message::default()
                };
                self.post(Channel::Announcements, &message).await;
            }
            Ok(problems) => {
                let mut text = Text::new()
                    .plain(format!(
                        "Urgent: #{} \"{}\" goes live ",
                        view.id, view.title
                    ))
                    .time(starts, TimeStyle::Relative)
                    .plain(", but:");
                for problem in problems {
                    text = text.plain(format!("\n- {problem}"));
                }
                text = text.plain("\nRevoke it and fix the items, or cancel it.");
                self.alert_approvers(text).await;
            }
            Err(e) => {
                self.alert_approvers(Text::from(format!(
                    "Could not re-check #{} \"{}\" before go-live: {e}",
                    view.id, view.title
                )))
                .await;
            }
        }
        self.finish(job.fence()).await
    }

    /// Reminders due together: one message saying, per session, what is
    /// missing, mentioning who must act. Approved sessions get no nagging.
    pub(super) async fn remind(&self, mut batch: Vec<ClaimedJob>) {
        batch.sort_by_key(|job| (job.session_id, job.id));
        let mut lines = Vec::new();
        let mut mentions = Vec::new();
        for job in &batch {
            let Ok(view) = self.app.get(job.session_id).await else {
                continue;
            };
            let (what, who) = match view.status {
                Status::Draft => {
                    let missing = MAX_ITEMS.saturating_sub(view.items.len());
                    let what = match missing {
                        0 => "has its six SKUs and needs submission".to_owned(),
                        1 => "needs 1 more SKU and submission".to_owned(),
                        n => format!("needs {n} more SKUs and submission"),
                    };
                    (what, Mention::Editors)
                }
                Status::PendingApproval => {
                    ("is waiting for approval".to_owned(), Mention::Approvers)
                }
                _ => continue,
            };
            lines.push(
                Text::new()
                    .plain(format!(
                        "• #{} \"{}\" {what}; approval closes ",
                        view.id, view.title
                    ))
                    .time(view.approval_deadline, TimeStyle::Relative),
            );
            if !mentions.contains(&who) {
                mentions.push(who);
            }
        }
        // Editors first, then approvers, whatever order the sessions came in.
        mentions.sort_by_key(|m| !matches!(m, Mention::Editors));
        if !lines.is_empty() {
            let ids: Vec<String> = batch
                .iter()
                .map(|j| format!("{}.{}", j.id, j.attempt))
                .collect();
            let text = lines
                .into_iter()
                .fold(Text::from("Reminder:"), |text, line| text.line(line));
            let message = Message {
                text,
                mentions,
                dedupe_key: Some(format!("reminders:{}", ids.join(","))),
                ..Message::default()
            };
            self.post(Channel::Announcements, &message).await;
        }
        for job in &batch {
            match self.finish(job.fence()).await {
                Ok(()) => metrics::job("reminder", "done"),
                Err(e) => {
                    metrics::job("reminder", "error");
                    tracing::warn!(job = job.id, error = %e, "could not record a reminder as sent");
                }
            }
        }
    }

    async fn session(&self, job: &ClaimedJob) -> Result<SessionView, String> {
        self.app
            .get(job.session_id)
            .await
            .map_err(|e| e.to_string())
    }

    async fn transition(
        &self,
        fence: Fence,
        session_id: i64,
        action: Action,
        kind: ActivityKind,
        details: serde_json::Value,
    ) -> Result<SystemOutcome, String> {
        self.app
            .system_transition(fence, session_id, action, kind, details)
            .await
            .map_err(|e| e.to_string())
    }

    async fn alert_approvers(&self, text: Text) {
        let message = Message {
            text,
            mentions: vec![Mention::Approvers],
            ..Message::default()
        };
        self.post(Channel::Approvals, &message).await;
    }

    async fn post(&self, channel: Channel, message: &Message) {
        if let Err(e) = self.app.chat().post(channel, message).await {
            tracing::warn!(error = %e, ?channel, "could not post");
        }
    }

    async fn finish(&self, fence: Fence) -> Result<(), String> {
        let mut conn = self.pool.acquire().await.map_err(|e| e.to_string())?;
        if !jobs::finish(&mut conn, fence)
            .await
            .map_err(|e| e.to_string())?
        {
            tracing::warn!(
                job = fence.job_id,
                "lease lost before the job could be marked done"
            );
        }
        Ok(())
    }

    async fn retry_later(&self, fence: Fence, wait: Duration, error: &str) {
        set_fate("retry");
        let result = async {
            let mut conn = self.pool.acquire().await?;
            jobs::retry_later(&mut conn, fence, wait, error).await
        };
        if let Err(e) = result.await {
            tracing::warn!(job = fence.job_id, error = %e, "could not reschedule; the lease will expire");
        }
    }

    async fn fail(&self, fence: Fence, error: &str) {
        set_fate("failed");
        let result = async {
            let mut conn = self.pool.acquire().await?;
            jobs::fail(&mut conn, fence, error).await
        };
        if let Err(e) = result.await {
            tracing::warn!(job = fence.job_id, error = %e, "could not record the failure");
        }
    }
}
