//! What the bot itself does to sessions: planning their jobs, and the status
//! changes the scheduler makes (go-live, failure, end, expiry).
//!
//! Each scheduled change commits only while the job that causes it still
//! holds its lease (`Fence`): the job row is locked in the same transaction
//! as the session row, so a replica that lost the job cannot change the session.

use std::borrow::Cow;

use serde_json::{json, Value};
use sqlx::PgConnection;

use super::checks::{item_problems, skus_of};
use super::notices::Notice;
use super::outbox;
use super::{lock_session, view, AppError, Core, Desk, Operations, SessionView};
use crate::catalog::Freshness;
use crate::chat::{Channel, Message, Text};
use crate::domain::rules::{self, RuleViolation};
use crate::domain::schedule::planned_jobs;
use crate::domain::status::transition;
use crate::domain::{Action, ActivityKind, Actor, JobKind, Roles, Status, Window};
use crate::store::jobs::{self, Fence};
use crate::store::sessions::StatusChange;
use crate::store::{activity, db_now, sessions, SessionRecord};

/// What became of a scheduled status change.
#[derive(Debug)]
pub enum SystemOutcome {
    /// The session moved on.
    Changed(SessionView),
    /// The status machine does not allow it from where the session is (for
    /// example it was cancelled, or a retry finds the change already made).
    NotApplicable(SessionView),
    /// This worker no longer owns the job; someone else will record the outcome.
    LostLease,
}

/// The activity entry a status change appends.
pub(super) struct LogEntry<'a> {
    pub actor: &'a Actor,
    pub kind: ActivityKind,
    pub details: Value,
}

impl Core {
    /// Replaces the session's future jobs with those its new status implies.
    pub(super) async fn replan(
        &self,
        conn: &mut PgConnection,
        session_id: i64,
        status: Status,
        window: &Window,
    ) -> Result<(), AppError> {
        let plan = planned_jobs(status, window, &self.policy, self.clock.now());
        jobs::apply_plan(conn, session_id, &plan).await?;
        // Whenever a session becomes live its end will run, whatever its end
        // job did before (a run that found it not yet live is `done`, and an
        // unchanged plan would leave it so).
        if status == Status::Live {
            jobs::ensure_end_armed(conn, session_id, window.ends_at()).await?;
        }
        // Revoke or cancel while a publish waits for its retry: an earlier
        // attempt may have put the sale up (its answer lost), so the publish
        // job runs once more, finds the session no longer approved, and takes
        // the sale down if the storefront has it. Re-approval cannot reuse the
        // job: a retried publish is past its start, hence past the deadline.
        if !matches!(status, Status::Approved | Status::Live) {
            jobs::rearm_if_tried(conn, session_id, JobKind::Publish).await?;
        }
        // A shop that schedules sales holds the sale from its approval on:
        // the stage job hands it over when the session becomes approved, and
        // takes it off when an approved session stops being so before going
        // live (revoke, cancel; an edit needs a revoke first). Going live and
        // ending are the publish and end jobs' business.
        if self.policy.schedule.shop.schedules_sales {
            match status {
                Status::Approved => {
                    jobs::arm_stage(conn, session_id, false).await?;
                }
                Status::Live | Status::Ended => {}
                _ => {
                    jobs::arm_stage(conn, session_id, true).await?;
                }
            }
        }
        Ok(())
    }

    /// Writes a status change decided under the session lock: the status (and
    /// what comes with it), the jobs the new status implies and the activity
    /// entry, all in the caller's transaction; returns the session as that
    /// transaction now holds it.
    pub(super) async fn record_status_change(
        &self,
        conn: &mut PgConnection,
        session: &SessionRecord,
        next: Status,
        change: StatusChange<'_>,
        entry: LogEntry<'_>,
    ) -> Result<SessionView, AppError> {
        sessions::set_status(conn, session.id, next, change).await?;
        self.replan(conn, session.id, next, &session.window).await?;
        activity::append(
            conn,
            session.id,
            entry.actor,
            entry.kind.as_str(),
            entry.details,
        )
        .await?;
        view::load(conn, session.id, &self.policy).await
    }
}

impl Operations {
    /// A status change made by the scheduler for the job behind `fence`,
    /// with the notices that report it (built from the changed session),
    /// committed together: the change is never made without its notices
    /// reaching the outbox, nor announced without being made.
    ///
    /// Lock order, as everywhere: the session row first, then its job rows
    /// (people's commands lock the session and then re-plan its jobs; taking
    /// the job first here could deadlock a `stop` against an end's commit).
    #[tracing::instrument(skip_all, fields(session = session_id, job = fence.id, fence = fence.token, action = ?action))]
    pub async fn system_transition(
        &self,
        fence: Fence,
        session_id: i64,
        action: Action,
        kind: ActivityKind,
        details: Value,
        notices: impl FnOnce(&SessionView) -> Vec<Notice>,
    ) -> Result<SystemOutcome, AppError> {
        let system = Actor::system();
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        if !jobs::still_owned(&mut tx, fence).await? {
            return Ok(SystemOutcome::LostLease);
        }
        let Ok(next) = transition(session.status, action, Roles::SYSTEM) else {
            let current = view::load(&mut tx, session_id, &self.core.policy).await?;
            return Ok(SystemOutcome::NotApplicable(current));
        };
        let entry = LogEntry {
            actor: &system,
            kind,
            details,
        };
        let view = self
            .core
            .record_status_change(&mut tx, &session, next, StatusChange::default(), entry)
            .await?;
        outbox::enqueue(&mut tx, &view, &notices(&view)).await?;
        tx.commit().await?;
        tracing::info!(
            from = session.status.as_str(),
            to = next.as_str(),
            "scheduled status change"
        );
        Ok(SystemOutcome::Changed(view))
    }

    /// Finishes scheduled jobs and writes the notices they leave (a reminder),
    /// in one transaction and each only while its claim still owns the job:
    /// a notice is written exactly when its job is done, so neither a crash
    /// nor a job taken over can say it twice or not at all. The notice is
    /// keyed by the session's version at that moment. Returns, per job,
    /// whether it was finished here.
    pub async fn finish_jobs_with_notices(
        &self,
        done: &[(Fence, i64, Option<Notice>)],
    ) -> Result<Vec<bool>, AppError> {
        let mut tx = self.core.pool.begin().await?;
        let mut finished = Vec::with_capacity(done.len());
        for (fence, session_id, notice) in done {
            let owned = jobs::finish(&mut tx, *fence).await?;
            if let (true, Some(notice)) = (owned, notice) {
                let Some(session) = sessions::get(&mut tx, *session_id).await? else {
                    return Err(AppError::SessionNotFound(*session_id));
                };
                outbox::enqueue_at(&mut tx, *session_id, session.version, notice).await?;
            }
            finished.push(owned);
        }
        tx.commit().await?;
        Ok(finished)
    }

    /// Asks the catalog, live, whether every item can still be sold as
    /// approved: known, active, in stock, the same price, and within the
    /// money guards and budgets (prices and costs move between approval and
    /// the sale; what an approver overrode stays allowed).
    pub async fn recheck_items(&self, session_id: i64) -> Result<Vec<RuleViolation>, AppError> {
        let (session, items) = self.core.read(session_id).await?;
        let products = self
            .core
            .products(&skus_of(&items), Freshness::Live)
            .await?;
        let mut problems = item_problems(&items, &products, &self.core.policy)?;
        let guarded = {
            let mut conn = self.core.pool.acquire().await?;
            self.core
                .guard_problems(&mut conn, &session, &items, &products)
                .await
        };
        self.core.record_prices(products.values()).await;
        problems.extend(guarded?);
        Ok(problems)
    }

    /// Asks the stage job to hand an approved session's sale to the shop
    /// again (the heads-up, before the start, on a shop that schedules sales).
    pub async fn restage(&self, session_id: i64) -> Result<(), AppError> {
        let mut conn = self.core.pool.acquire().await?;
        jobs::arm_stage(&mut conn, session_id, false).await?;
        Ok(())
    }

    /// Logs, as the bot, something the scheduler did outside the status
    /// machine (taking a sale back off the storefront).
    pub async fn log_system_event(
        &self,
        session_id: i64,
        kind: ActivityKind,
        details: Value,
    ) -> Result<(), AppError> {
        let mut conn = self.core.pool.acquire().await?;
        activity::append(
            &mut conn,
            session_id,
            &Actor::system(),
            kind.as_str(),
            details,
        )
        .await?;
        Ok(())
    }
}

impl Desk {
    /// An approver ends a live sale early: the end job is moved to now (it
    /// ends the sale on the storefront and marks it ended), with the reason
    /// logged and announced. The session is marked stopping, so no repair
    /// puts its sale back. A second stop (by anyone) is logged and announced
    /// with its own reason, and leaves the end job alone: moving it again
    /// would give a take-down already under way a new key, and send it twice.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn stop(
        &self,
        actor: &Actor,
        session_id: i64,
        reason: &str,
    ) -> Result<SessionView, AppError> {
        let reason = rules::require_reason(reason)?;
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        transition(session.status, Action::Stop, actor.roles)?;
        let earlier_stops =
            activity::count_of(&mut tx, session_id, ActivityKind::Stopped.as_str()).await?;
        if sessions::request_stop(&mut tx, session_id).await? {
            // Due by the database's clock, the one the scheduler compares with:
            // the replica's clock may be ahead or behind (`crate::clock`).
            let end_now = vec![(JobKind::End, db_now(&mut *tx).await?)];
            jobs::apply_plan(&mut tx, session_id, &end_now).await?;
        }
        activity::append(
            &mut tx,
            session_id,
            actor,
            ActivityKind::Stopped.as_str(),
            json!({ "reason": reason }),
        )
        .await?;
        let view = view::load(&mut tx, session_id, &self.core.policy).await?;
        let (event, also) = match earlier_stops {
            0 => (Cow::Borrowed("stopping"), ""),
            n => (Cow::Owned(format!("stopping:{}", n + 1)), " too"),
        };
        let notice = Message {
            text: Text::from(format!("{} is stopping #{} \"", actor.name, view.id))
                .typed(view.title.clone())
                .plain(format!("\" early{also}: "))
                .typed(reason),
            ..Message::default()
        };
        let notice = Notice::new(event, Channel::Announcements, notice);
        outbox::enqueue(&mut tx, &view, &[notice]).await?;
        tx.commit().await?;
        tracing::info!("stop requested");
        Ok(view)
    }
}
