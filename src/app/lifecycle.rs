//! Moving a session through its statuses: submit, withdraw, approve, reject,
//! revoke, cancel.

use std::collections::HashMap;

use serde_json::json;

use super::checks::{item_problems, skus_of};
use super::system::LogEntry;
use super::{lock_session, AppError, Core, Desk, SessionView};
use super::{notices, outbox};
use crate::catalog::{Freshness, Product};
use crate::domain::rules::{self, RuleViolation};
use crate::domain::status::transition;
use crate::domain::window::format_local;
use crate::domain::{Action, ActivityKind, Actor, Policy, Reason, Sku, Status};
use crate::store::sessions::StatusChange;
use crate::store::{activity, items, sessions, ItemRecord, SessionRecord};

/// How often submit re-reads a draft that changed while the catalog was asked.
const SUBMIT_ATTEMPTS: usize = 3;

impl Desk {
    /// Sends a draft with exactly six valid items to the approvers.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn submit(&self, actor: &Actor, session_id: i64) -> Result<SessionView, AppError> {
        for _ in 0..SUBMIT_ATTEMPTS {
            // Ask the catalog about the items as they are now, without holding
            // the lock; if they changed meanwhile, look again.
            let (seen, seen_items) = self.core.read(session_id).await?;
            transition(seen.status, Action::Submit, actor.roles)?;
            rules::check_submittable(seen_items.len())?;
            let products = self
                .core
                .products(&skus_of(&seen_items), Freshness::AllowCached)
                .await?;

            let mut tx = self.core.pool.begin().await?;
            let session = lock_session(&mut tx, session_id).await?;
            if session.version != seen.version {
                continue;
            }
            let next = transition(session.status, Action::Submit, actor.roles)?;
            rules::check_before_deadline(
                self.core.clock.now(),
                session.window.starts_at(),
                &self.core.policy,
            )?;
            // Said now rather than at the approver's press, which would leave
            // the session to expire.
            self.core
                .check_free(&mut tx, session_id, &session.window)
                .await?;
            let checked = self
                .check_money(&mut tx, &session, &seen_items, &products)
                .await;
            self.core.record_prices(products.values()).await;
            checked?;
            let change = StatusChange {
                submitted_by: Some(&actor.id),
                submitted_by_name: Some(&actor.name),
                rejection_reason: Some(None),
                ..StatusChange::default()
            };
            let entry = LogEntry {
                actor,
                kind: ActivityKind::Submitted,
                details: json!({ "version": session.version }),
            };
            let view = self
                .core
                .record_status_change(&mut tx, &session, next, change, entry)
                .await?;
            outbox::enqueue(&mut tx, &view, &[notices::approval_card(&view)]).await?;
            tx.commit().await?;
            tracing::info!("submitted for approval");
            self.core.deliver_card_now(&view).await;
            return Ok(view);
        }
        Err(AppError::unexpected(anyhow::anyhow!(
            "session {session_id} kept changing while it was being submitted"
        )))
    }

    /// Takes a pending session back to draft so its items can change.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn withdraw(&self, actor: &Actor, session_id: i64) -> Result<SessionView, AppError> {
        self.simple_transition(
            actor,
            session_id,
            Action::Withdraw,
            ActivityKind::Withdrawn,
            None,
            None,
        )
        .await
    }

    /// Approves what the approver saw (`seen_version`) and locks it read-only.
    ///
    /// The catalog is asked live (not from the cache) because this is the
    /// last check before the sale goes public.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn approve(
        &self,
        actor: &Actor,
        session_id: i64,
        seen_version: i32,
    ) -> Result<SessionView, AppError> {
        let (seen, seen_items) = self.core.read(session_id).await?;
        if matches!(seen.status, Status::Approved | Status::Live) && actor.roles.approver {
            return Err(self.already_approved(session_id).await);
        }
        transition(seen.status, Action::Approve, actor.roles)?;
        rules::check_version(seen_version, seen.version)?;
        let products = self
            .core
            .products(&skus_of(&seen_items), Freshness::Live)
            .await?;

        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        if matches!(session.status, Status::Approved | Status::Live) && actor.roles.approver {
            // Another approver won the race.
            drop(tx);
            return Err(self.already_approved(session_id).await);
        }
        let next = transition(session.status, Action::Approve, actor.roles)?;
        rules::check_version(seen_version, session.version)?;
        rules::check_before_deadline(
            self.core.clock.now(),
            session.window.starts_at(),
            &self.core.policy,
        )?;
        let editors =
            activity::editors(&mut tx, session_id, &ActivityKind::content_shaping()).await?;
        rules::check_four_eyes(&actor.id, &editors, &self.core.policy)?;
        // Items cannot change outside draft, so the version check above
        // guarantees these are the items the catalog was asked about.
        if let Err(refused) = check_items(&seen_items, &products, &self.core.policy) {
            // The row lock is not needed to tell the approvers why.
            drop(tx);
            self.core.show_unsellable(session_id, &products).await;
            return Err(refused);
        }
        let guarded = self
            .check_money(&mut tx, &session, &seen_items, &products)
            .await;
        self.core.record_prices(products.values()).await;
        guarded?;
        self.core
            .check_free(&mut tx, session_id, &session.window)
            .await?;
        let change = StatusChange {
            approved_by: Some(&actor.id),
            ..StatusChange::default()
        };
        let entry = LogEntry {
            actor,
            kind: ActivityKind::Approved,
            details: json!({ "version": seen_version }),
        };
        let view = self
            .core
            .record_status_change(&mut tx, &session, next, change, entry)
            .await?;
        tx.commit().await?;
        tracing::info!("approved");
        self.core
            .after_change(&view, actor, ActivityKind::Approved, None)
            .await;
        Ok(view)
    }

    /// Sends a pending session back to draft with a reason for the editors.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn reject(
        &self,
        actor: &Actor,
        session_id: i64,
        reason: &str,
    ) -> Result<SessionView, AppError> {
        self.reject_at(actor, session_id, None, reason).await
    }

    /// Rejects what a card showed: refused, like an approval, when the session changed since
    /// (`seen_version` is the card's), so approvers reject what they saw.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn reject_seen(
        &self,
        actor: &Actor,
        session_id: i64,
        seen_version: i32,
        reason: &str,
    ) -> Result<SessionView, AppError> {
        self.reject_at(actor, session_id, Some(seen_version), reason)
            .await
    }

    async fn reject_at(
        &self,
        actor: &Actor,
        session_id: i64,
        seen_version: Option<i32>,
        reason: &str,
    ) -> Result<SessionView, AppError> {
        let reason = rules::require_reason(reason)?;
        self.simple_transition(
            actor,
            session_id,
            Action::Reject,
            ActivityKind::Rejected,
            Some(reason),
            seen_version,
        )
        .await
    }

    /// Unlocks an approved session (before it goes live) so it can be edited again.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn revoke(
        &self,
        actor: &Actor,
        session_id: i64,
        reason: Option<&str>,
    ) -> Result<SessionView, AppError> {
        self.simple_transition(
            actor,
            session_id,
            Action::Revoke,
            ActivityKind::Revoked,
            optional_reason(reason)?,
            None,
        )
        .await
    }

    /// Calls a session off for good.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn cancel(
        &self,
        actor: &Actor,
        session_id: i64,
        reason: Option<&str>,
    ) -> Result<SessionView, AppError> {
        self.simple_transition(
            actor,
            session_id,
            Action::Cancel,
            ActivityKind::Cancelled,
            optional_reason(reason)?,
            None,
        )
        .await
    }

    /// A status change that needs nothing but the status machine: lock, decide,
    /// write, log.
    async fn simple_transition(
        &self,
        actor: &Actor,
        session_id: i64,
        action: Action,
        kind: ActivityKind,
        reason: Option<String>,
        seen_version: Option<i32>,
    ) -> Result<SessionView, AppError> {
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        let next = transition(session.status, action, actor.roles)?;
        if let Some(seen) = seen_version {
            rules::check_version(seen, session.version)?;
        }
        let change = StatusChange {
            // Only a rejection leaves a reason on the draft for the editors.
            rejection_reason: (action == Action::Reject).then_some(reason.as_deref()),
            ..StatusChange::default()
        };
        let entry = LogEntry {
            actor,
            kind,
            details: json!({
                "from": session.status.as_str(),
                "to": next.as_str(),
                "reason": reason,
            }),
        };
        let view = self
            .core
            .record_status_change(&mut tx, &session, next, change, entry)
            .await?;
        if action == Action::Reject {
            // The submitter hears of it even if the chat is down right now.
            let notice = notices::rejected(&view, actor, reason.as_deref().unwrap_or_default());
            outbox::enqueue(&mut tx, &view, &[notice]).await?;
        }
        tx.commit().await?;
        tracing::info!(
            from = session.status.as_str(),
            to = next.as_str(),
            "status changed"
        );
        self.core
            .after_change(&view, actor, kind, reason.as_deref())
            .await;
        Ok(view)
    }

    /// Who approved the session and when, from its log, for a second approver.
    async fn already_approved(&self, session_id: i64) -> AppError {
        let entries = match self.core.pool.acquire().await {
            Ok(mut conn) => activity::list_all(&mut conn, session_id).await,
            Err(e) => return e.into(),
        };
        match entries {
            Ok(entries) => {
                let approval = entries
                    .iter()
                    .rev()
                    .find(|e| e.action == ActivityKind::Approved.as_str());
                AppError::AlreadyApproved {
                    session_id,
                    by: approval.map_or_else(|| "someone".to_owned(), |e| e.actor_name.clone()),
                    at: approval.map_or_else(String::new, |e| {
                        format_local(e.at, self.core.policy.time_zone)
                    }),
                }
            }
            Err(e) => e.into(),
        }
    }
}

impl Core {
    /// The session and its items, read without a lock.
    pub(super) async fn read(
        &self,
        session_id: i64,
    ) -> Result<(SessionRecord, Vec<ItemRecord>), AppError> {
        let mut conn = self.pool.acquire().await?;
        let session = sessions::get(&mut conn, session_id)
            .await?
            .ok_or(AppError::SessionNotFound(session_id))?;
        let items = items::list(&mut conn, session_id).await?;
        Ok((session, items))
    }
}

impl Desk {
    /// Whether `actor` may do `action` to the session as it is now (e.g. before
    /// showing a form whose submit would be refused anyway).
    pub async fn check_allowed(
        &self,
        actor: &Actor,
        session_id: i64,
        action: Action,
    ) -> Result<(), AppError> {
        let session = self.core.view(session_id).await?;
        transition(session.status, action, actor.roles)?;
        Ok(())
    }

    /// Whether `actor` may start a draft: asked before a platform opens a
    /// draft or import form, so nobody fills a form only to be refused.
    pub fn check_draft_allowed(&self, actor: &Actor) -> Result<(), AppError> {
        crate::domain::status::start_draft(actor.roles)?;
        Ok(())
    }

    /// As [`Desk::check_allowed`], and the session is still at the version a card showed.
    pub async fn check_allowed_at(
        &self,
        actor: &Actor,
        session_id: i64,
        action: Action,
        seen_version: i32,
    ) -> Result<(), AppError> {
        let session = self.core.view(session_id).await?;
        transition(session.status, action, actor.roles)?;
        rules::check_version(seen_version, session.version)?;
        Ok(())
    }

    /// True the first time a platform event (e.g. a Discord interaction id) is
    /// seen; adapters ignore an event for which this is false.
    pub async fn first_delivery(&self, platform: &str, event_id: &str) -> Result<bool, AppError> {
        let mut conn = self.core.pool.acquire().await?;
        Ok(crate::store::events::record(&mut conn, platform, event_id).await?)
    }
}

fn optional_reason(reason: Option<&str>) -> Result<Option<String>, RuleViolation> {
    Reason::optional(reason)
        .map(|r| r.map(Reason::into_string))
        .map_err(RuleViolation::Reason)
}

impl Desk {
    /// Every item against the catalog (as `check_items`) and the money guards
    /// (lines and budgets, less what approvers overrode), all problems at once.
    async fn check_money(
        &self,
        conn: &mut sqlx::PgConnection,
        session: &SessionRecord,
        items: &[ItemRecord],
        products: &HashMap<Sku, Product>,
    ) -> Result<(), AppError> {
        let mut problems = item_problems(items, products, &self.core.policy)?;
        problems.extend(
            self.core
                .guard_problems(conn, session, items, products)
                .await?,
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AppError::InvalidItems(problems))
        }
    }
}

fn check_items(
    items: &[ItemRecord],
    products: &HashMap<Sku, Product>,
    policy: &Policy,
) -> Result<(), AppError> {
    let problems = item_problems(items, products, policy)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::InvalidItems(problems))
    }
}
