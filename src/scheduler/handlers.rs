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

use serde_json::json;

mod publish;

use super::{backoff, Scheduler};
use crate::app::cards::ended;
use crate::app::{SessionView, SystemOutcome};
use crate::chat::{Channel, Mention, Message, Text, TimeStyle};
use crate::domain::{Action, ActivityKind, JobKind, Status, MAX_ITEMS};
use crate::metrics;
use crate::store::jobs::{self, ClaimedJob, Fence};

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
                let wait = self.wait_before(job.attempt, None);
                self.retry_later(job.fence(), wait, &error).await;
            }
        }
    }

    /// Ends the sale on the storefront at `ends_at` (or when an approver stopped it).
    async fn end(&self, job: &ClaimedJob) -> Result<(), String> {
        let view = self.session(job).await?;
        match view.status {
            Status::Live => {}
            Status::Ended => return self.announce_end(job, &view).await,
            _ => return self.finish(job.fence()).await,
        }
        if let Err(e) = self
            .storefront
            .end(view.id, &job.idempotency_key.to_string())
            .await
        {
            if e.is_transient() {
                let wait = self.wait_before(job.attempt, e.retry_after());
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
            SystemOutcome::Changed(done) => self.announce_end(job, &done).await,
            SystemOutcome::NotApplicable(_) => self.finish(job.fence()).await,
            SystemOutcome::LostLease => Ok(()),
        }
    }

    async fn announce_end(&self, job: &ClaimedJob, view: &SessionView) -> Result<(), String> {
        // The end job is due at `ends_at` unless `stop` moved it earlier (to
        // the database's now), so its due time tells an early end without
        // reading any clock.
        let early = job.due_at + chrono::Duration::seconds(5) < view.window.ends_at();
        let how = if early { " early" } else { "" };
        self.post(Channel::Announcements, &ended(view, how)).await;
        self.app
            .update_card(view, Text::from(format!("Ended{how}")))
            .await;
        self.finish(job.fence()).await
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
