//! What use cases return: a session as people should see it, with prices computed.
//!
//! Views are platform-neutral; each chat adapter decides how they look.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::AppError;
use crate::domain::approval_deadline;
use crate::domain::guards::{line_giveaway, GuardOverride};
use crate::domain::{ActorId, DiscountPercent, Money, Policy, Quantity, Sku, Status, Window};
use crate::store::overrides::{self, OverrideRecord};
use crate::store::{items, sessions, ItemRecord, SessionRecord};
use crate::storefront::{SaleLine, SaleRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: i64,
    pub title: String,
    pub window: Window,
    pub status: Status,
    /// Cards carry it, so an approval can be refused when the session changed since.
    pub version: i32,
    pub approval_deadline: DateTime<Utc>,
    pub created_by: ActorId,
    pub created_by_name: String,
    pub submitted_by: Option<ActorId>,
    /// The submitter's display name (none for a session never submitted).
    pub submitted_by_name: Option<String>,
    pub approved_by: Option<ActorId>,
    pub rejection_reason: Option<String>,
    pub notes: Option<String>,
    pub items: Vec<ItemView>,
    /// What the session gives away, its budget and the overrides given.
    pub money: Box<SessionMoney>,
}

/// The session's money: what it gives away against its budget, and what
/// approvers allowed against the money guards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionMoney {
    /// Sum over lines of quantity x (price - flash price); `None` without items.
    pub giveaway: Option<Money>,
    /// The session budget (`GUARD_SESSION_BUDGET`), if one is set.
    pub budget: Option<Money>,
    /// The budget less the give-away (negative: over it).
    pub budget_left: Option<Money>,
    pub overrides: Vec<OverrideView>,
}

/// An approver's override, as cards show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideView {
    /// `FS-003 at 70%`, or `the budget (IDR 1,200,000)`.
    pub covers: String,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A line's money as the guards saw it when the line was validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMoney {
    /// The lowest price of the reference period (the 30-day low), the price
    /// a real discount is shown against.
    pub reference: Option<Money>,
    pub unit_cost: Option<Money>,
    /// The flash price less the unit cost, per unit (where the cost is known).
    pub margin: Option<Money>,
    /// The guards' flags: suspicious, shown, not refused.
    pub flags: Vec<String>,
    /// An approver overrode a refusal of this SKU at this discount.
    pub overridden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView {
    pub slot: i16,
    pub sku: Sku,
    pub product_name: String,
    pub base_price: Money,
    pub discount: DiscountPercent,
    pub flash_price: Money,
    pub quantity: Quantity,
    /// Stock the catalog reported when the item was last validated.
    pub stock_seen: i64,
    pub money: LineMoney,
}

/// A session in a list: enough for a calendar line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummaryView {
    pub id: i64,
    pub title: String,
    pub window: Window,
    pub status: Status,
    pub item_count: i64,
    pub approval_deadline: DateTime<Utc>,
    /// When it ended, for an ended session (earlier than the window's end when it was stopped).
    pub ended_at: Option<DateTime<Utc>>,
}

impl SessionSummaryView {
    /// The part of its window for which the session holds the storefront, or
    /// `None` when it leaves its time free: a cancelled, expired or failed
    /// session never ran, so its slot is free for another.
    ///
    /// A session an approver stopped early holds the storefront only until it
    /// really ended: that is what shoppers saw, and what a marketer planning
    /// the day expects (the rest of the slot is empty and a sale could use it).
    /// Counting it until its planned end would report a busy storefront that
    /// is empty; not counting it at all would hide that a sale did run then.
    /// A session ended on time holds its whole window (its end may be logged
    /// a moment after the planned end; the window is what was planned).
    pub fn holds(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (start, planned_end) = (self.window.starts_at(), self.window.ends_at());
        match self.status {
            Status::Cancelled | Status::Expired | Status::Failed => None,
            Status::Ended => {
                let end = self.ended_at.map_or(planned_end, |e| e.min(planned_end));
                (end > start).then_some((start, end))
            }
            Status::Draft | Status::PendingApproval | Status::Approved | Status::Live => {
                Some((start, planned_end))
            }
        }
    }

    /// When it was stopped, if it ended before its planned end.
    pub fn stopped_early_at(&self) -> Option<DateTime<Utc>> {
        self.ended_at
            .filter(|at| self.status == Status::Ended && *at < self.window.ends_at())
    }
}

impl SessionView {
    /// What the storefront is sent to publish this session.
    pub fn sale_request(&self) -> SaleRequest {
        let lines: Vec<SaleLine<'_>> = self
            .items
            .iter()
            .map(|i| SaleLine {
                sku: &i.sku,
                name: &i.product_name,
                discount: i.discount,
                base_price: &i.base_price,
                quantity: i.quantity,
            })
            .collect();
        SaleRequest::new(self.id, &self.title, &self.window, &lines)
    }

    pub fn skus(&self) -> Vec<Sku> {
        self.items.iter().map(|i| i.sku.clone()).collect()
    }

    pub fn item(&self, sku: &Sku) -> Option<&ItemView> {
        self.items.iter().find(|i| &i.sku == sku)
    }
}

pub(super) fn item_view(
    record: &ItemRecord,
    overrides: &[OverrideRecord],
    policy: &Policy,
) -> ItemView {
    let money = |minor: i64| Money::from_minor(minor, policy.currency.clone());
    let base_price = money(record.base_price_minor);
    let flash_price = base_price.discounted(record.discount);
    ItemView {
        slot: record.slot,
        sku: record.sku.clone(),
        product_name: record.product_name.clone(),
        money: LineMoney {
            reference: record.reference_minor.map(money),
            unit_cost: record.unit_cost_minor.map(money),
            margin: record
                .unit_cost_minor
                .map(|cost| money(flash_price.minor().saturating_sub(cost))),
            flags: record.guard_flags.clone(),
            overridden: overrides.iter().any(|o| {
                matches!(&o.covers, GuardOverride::Line { sku, discount }
                    if *sku == record.sku && *discount == record.discount)
            }),
        },
        flash_price,
        base_price,
        discount: record.discount,
        quantity: record.quantity,
        stock_seen: record.stock_seen,
    }
}

fn session_money(
    items: &[ItemRecord],
    overrides: &[OverrideRecord],
    policy: &Policy,
) -> SessionMoney {
    let currency = &policy.currency;
    let giveaway = (!items.is_empty()).then(|| {
        let minor = items.iter().fold(0i64, |sum, i| {
            let price = Money::from_minor(i.base_price_minor, currency.clone());
            sum.saturating_add(line_giveaway(&price, i.discount, i.quantity).minor())
        });
        Money::from_minor(minor, currency.clone())
    });
    let budget = policy.guards.session_budget.clone();
    let budget_left = budget.as_ref().map(|b| {
        let given = giveaway.as_ref().map_or(0, Money::minor);
        Money::from_minor(b.minor().saturating_sub(given), currency.clone())
    });
    SessionMoney {
        giveaway,
        budget,
        budget_left,
        overrides: overrides
            .iter()
            .map(|o| OverrideView {
                covers: match &o.covers {
                    GuardOverride::Line { sku, discount } => format!("{sku} at {discount}"),
                    GuardOverride::Budget { giveaway } => format!("the budget ({giveaway})"),
                },
                reason: o.reason.clone(),
                by: o.actor_name.clone(),
                at: o.at,
            })
            .collect(),
    }
}

pub(super) fn session_view(
    session: SessionRecord,
    items: &[ItemRecord],
    overrides: &[OverrideRecord],
    policy: &Policy,
) -> Result<SessionView, AppError> {
    let money = Box::new(session_money(items, overrides, policy));
    let items = items
        .iter()
        .map(|i| item_view(i, overrides, policy))
        .collect();
    Ok(SessionView {
        id: session.id,
        title: session.title,
        approval_deadline: approval_deadline(session.window.starts_at(), policy),
        window: session.window,
        status: session.status,
        version: session.version,
        created_by: session.created_by,
        created_by_name: session.created_by_name,
        submitted_by: session.submitted_by,
        submitted_by_name: session.submitted_by_name,
        approved_by: session.approved_by,
        rejection_reason: session.rejection_reason,
        notes: session.notes,
        items,
        money,
    })
}

/// Reads the session and its items on `conn` (inside the caller's transaction,
/// so the view shows exactly what is about to be committed).
pub(super) async fn load(
    conn: &mut PgConnection,
    id: i64,
    policy: &Policy,
) -> Result<SessionView, AppError> {
    let session = sessions::get(conn, id)
        .await?
        .ok_or(AppError::SessionNotFound(id))?;
    let items = items::list(&mut *conn, id).await?;
    let overrides = overrides::list(conn, id, &policy.currency).await?;
    session_view(session, &items, &overrides, policy)
}

pub(super) fn summary_view(
    summary: sessions::SessionSummary,
    policy: &Policy,
) -> SessionSummaryView {
    let s = summary.session;
    SessionSummaryView {
        id: s.id,
        title: s.title,
        approval_deadline: approval_deadline(s.window.starts_at(), policy),
        window: s.window,
        status: s.status,
        item_count: summary.item_count,
        ended_at: s.ended_at,
    }
}
