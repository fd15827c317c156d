//! An approver's override of a money guard: one SKU at one discount, or the
//! session's budget, with a reason; never for a session they edited or
//! submitted (the four-eyes rule approvals follow).

use serde_json::json;

use super::{lock_session, view, AppError, Desk, SessionView};
use crate::domain::guards::GuardOverride;
use crate::domain::rules::{self, RuleViolation};
use crate::domain::{ActivityKind, Actor, DiscountPercent, Policy, Sku, Status};
use crate::store::{activity, items, overrides, sessions};

/// What an override is for, as given: an SKU at a discount, or the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideInput {
    /// `None`: the session's (and the day's) budget.
    pub sku: Option<Sku>,
    /// The discount a line override covers; required with an SKU.
    pub discount: Option<DiscountPercent>,
    pub reason: String,
}

impl OverrideInput {
    /// From typed text (a console or Slack command, Discord's options):
    /// the SKU by the rules, the discount as typed items take it.
    pub fn parse(
        sku: Option<&str>,
        discount: Option<&str>,
        reason: &str,
        policy: &Policy,
    ) -> Result<OverrideInput, AppError> {
        let sku = sku
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Sku::parse(s, &policy.sku))
            .transpose()?;
        let discount = discount
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(DiscountPercent::parse)
            .transpose()?;
        Ok(OverrideInput {
            sku,
            discount,
            reason: reason.to_owned(),
        })
    }
}

impl Desk {
    /// Allows what a hard money guard refused in the session, with a reason
    /// kept in the log and shown on the card. A line override covers that
    /// SKU at that discount only; a budget override the session's give-away
    /// as it is now.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn override_guard(
        &self,
        actor: &Actor,
        session_id: i64,
        input: &OverrideInput,
    ) -> Result<SessionView, AppError> {
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        let editors =
            activity::editors(&mut tx, session_id, &ActivityKind::content_shaping()).await?;
        let reason = rules::check_override(
            &actor.id,
            actor.roles.approver,
            &editors,
            &self.core.policy,
            &input.reason,
        )?;
        if !matches!(session.status, Status::Draft | Status::PendingApproval) {
            return Err(RuleViolation::OverrideTooLate {
                status: session.status.label().to_lowercase(),
            }
            .into());
        }
        let covers = match &input.sku {
            Some(sku) => GuardOverride::Line {
                sku: sku.clone(),
                discount: input.discount.ok_or(RuleViolation::OverrideNeedsDiscount)?,
            },
            None => GuardOverride::Budget {
                giveaway: self.core.giveaway(&items::list(&mut tx, session_id).await?),
            },
        };
        overrides::insert(&mut tx, session_id, &covers, &reason, actor).await?;
        let details = match &covers {
            GuardOverride::Line { sku, discount } => json!({
                "sku": sku.as_str(),
                "discount_percent": discount.get(),
                "reason": reason,
            }),
            GuardOverride::Budget { giveaway } => json!({
                "giveaway_minor": giveaway.minor(),
                "reason": reason,
            }),
        };
        // A new version: a card showing the session before the override is stale.
        sessions::record_edit(
            &mut tx,
            session_id,
            actor,
            ActivityKind::GuardOverridden.as_str(),
            details,
        )
        .await?;
        let view = view::load(&mut tx, session_id, &self.core.policy).await?;
        tx.commit().await?;
        tracing::info!("money guard overridden");
        self.core.refresh_card(session_id).await;
        Ok(view)
    }
}
