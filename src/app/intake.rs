//! The way into a draft, shared by every entry point: typing (`drafting`),
//! importing a file (`import`) and cloning a session (`paste`).
//!
//! A new draft's fields are checked here, once: title, window in the
//! business time zone, approval deadline, notes (`check_draft`). So is an
//! item: its text parsed into domain values (`parse_item`), and the
//! catalog's product checked for it (`checked_product`), giving the
//! `CheckedItem` that the store writes and the activity log describes. A rule
//! added here holds for every entry point. What differs stays with each:
//! typing answers the first problem, an import lists every problem of every
//! row by its row number, all or nothing.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

use super::guarding::GuardCapture;
use super::{view, AppError, Core, Desk, InputError, SessionView};
use crate::catalog::Product;
use crate::domain::guards::{Finding, GuardedLine};
use crate::domain::rules::{self, RuleViolation};
use crate::domain::status;
use crate::domain::{
    ActivityKind, Actor, DiscountPercent, Notes, Policy, Quantity, Sku, Status, Title, Window,
};
use crate::store::items::{self, ItemWrite};
use crate::store::{activity, sessions, ItemRecord, SessionRecord};

/// A new draft's fields as given, before any check.
pub(super) struct DraftText<'a> {
    pub title: &'a str,
    pub when: When<'a>,
    /// `None`: no notes given.
    pub notes: Option<&'a str>,
}

/// How a new draft's window was given.
pub(super) enum When<'a> {
    /// Typed in the business time zone (`YYYY-MM-DD HH:MM`, `tomorrow HH:MM`,
    /// ...); `None`: not given at all (a file without a Start cell).
    Typed {
        start: Option<&'a str>,
        end: Option<&'a str>,
    },
    /// Instants already resolved: a clone's new start and its source's length.
    Instants {
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
}

/// A new draft whose every field passed the checks: what the store writes.
#[derive(Debug, Clone)]
pub(super) struct NewDraft {
    pub title: Title,
    pub window: Window,
    pub notes: Option<Notes>,
}

/// Why a new draft's fields are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DraftProblem {
    Input(InputError),
    Rule(RuleViolation),
    /// No start (or end) was given at all.
    MissingTime {
        field: &'static str,
    },
}

impl From<DraftProblem> for AppError {
    fn from(problem: DraftProblem) -> AppError {
        match problem {
            DraftProblem::Input(e) => AppError::Input(e),
            DraftProblem::Rule(e) => AppError::Rule(e),
            // Typing and cloning always give both times.
            DraftProblem::MissingTime { field } => AppError::unexpected(anyhow::anyhow!(
                "a draft reached its checks without a {field} time"
            )),
        }
    }
}

/// What typing is told: the first problem, as `check_draft` orders them.
fn first_problem(problems: Vec<DraftProblem>) -> AppError {
    match problems.into_iter().next() {
        Some(problem) => problem.into(),
        None => AppError::unexpected(anyhow::anyhow!("a draft was refused without a problem")),
    }
}

/// Checks a new draft's fields: the title, the window (the window rules,
/// then the approval deadline), the notes. Every problem is collected, in
/// that order, so an import can list them all; typing answers the first.
pub(super) fn check_draft(
    policy: &Policy,
    now: DateTime<Utc>,
    given: DraftText<'_>,
) -> Result<NewDraft, Vec<DraftProblem>> {
    let mut problems = Vec::new();
    let title = Title::parse(given.title)
        .map_err(|e| problems.push(DraftProblem::Input(e.into())))
        .ok();
    let window = match given.when {
        When::Typed { start, end } => {
            if start.is_none() {
                problems.push(DraftProblem::MissingTime { field: "start" });
            }
            if end.is_none() {
                problems.push(DraftProblem::MissingTime { field: "end" });
            }
            start.zip(end).map(|(start, end)| {
                Window::parse(start, end, policy.time_zone, now, &policy.window)
            })
        }
        When::Instants { starts_at, ends_at } => Some(Window::new_in(
            starts_at,
            ends_at,
            policy.time_zone,
            now,
            &policy.window,
        )),
    };
    let window = window
        .and_then(|w| {
            w.map_err(|e| problems.push(DraftProblem::Input(e.into())))
                .ok()
        })
        // A draft that could never be approved in time is refused now, not at submit.
        .filter(|w| {
            rules::check_before_deadline(now, w.starts_at(), policy)
                .map_err(|e| problems.push(DraftProblem::Rule(e)))
                .is_ok()
        });
    let notes = match given.notes {
        Some(raw) => Notes::parse(raw)
            .map_err(|e| problems.push(DraftProblem::Input(e.into())))
            .ok(),
        None => Some(None),
    };
    match (title, window, notes) {
        (Some(title), Some(window), Some(notes)) if problems.is_empty() => Ok(NewDraft {
            title,
            window,
            notes,
        }),
        _ => Err(problems),
    }
}

impl Desk {
    /// A new draft by `actor`, answering the first problem: what `create_draft`
    /// and `clone_session` do. Logged as `drafted`.
    pub(super) async fn draft_from(
        &self,
        actor: &Actor,
        given: DraftText<'_>,
    ) -> Result<SessionView, AppError> {
        status::start_draft(actor.roles)?;
        let draft =
            check_draft(&self.core.policy, self.core.clock.now(), given).map_err(first_problem)?;
        let mut tx = self.core.pool.begin().await?;
        let session = self.insert_draft(&mut tx, actor, &draft).await?;
        activity::append(
            &mut tx,
            session.id,
            actor,
            ActivityKind::Drafted.as_str(),
            json!({
                "title": draft.title.as_str(),
                "starts_at": draft.window.starts_at(),
                "ends_at": draft.window.ends_at(),
                "notes": draft.notes.as_ref().map(Notes::as_str),
            }),
        )
        .await?;
        let view = view::load(&mut tx, session.id, &self.core.policy).await?;
        tx.commit().await?;
        tracing::info!(session = view.id, "draft created");
        Ok(view)
    }

    /// Writes a checked draft and plans its jobs, in the caller's transaction.
    pub(super) async fn insert_draft(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        draft: &NewDraft,
    ) -> Result<SessionRecord, AppError> {
        self.core.check_free(&mut *conn, 0, &draft.window).await?;
        let session = sessions::insert(
            &mut *conn,
            draft.title.as_str(),
            &draft.window,
            draft.notes.as_ref().map(Notes::as_str),
            actor,
        )
        .await?;
        self.core
            .replan(conn, session.id, Status::Draft, &draft.window)
            .await?;
        Ok(session)
    }
}

/// An item's three values parsed, each on its own, so an import can report
/// every one that is wrong; `ItemInput::parse` answers the first.
pub(super) struct ItemFields {
    pub sku: Result<Sku, InputError>,
    pub discount: Result<DiscountPercent, InputError>,
    pub quantity: Result<Quantity, InputError>,
}

/// Parses an item as typed in text (a console or Slack command, a pasted
/// line, a spreadsheet row).
pub(super) fn parse_item(sku: &str, discount: &str, quantity: &str, policy: &Policy) -> ItemFields {
    ItemFields {
        sku: Sku::parse(sku, &policy.sku).map_err(InputError::from),
        discount: DiscountPercent::parse(discount).map_err(InputError::from),
        quantity: Quantity::parse(quantity).map_err(InputError::from),
    }
}

/// The catalog's product for an item, once the rules accept it for this
/// quantity (known, active, enough stock).
pub(super) fn checked_product(
    sku: &Sku,
    quantity: Quantity,
    product: Option<Product>,
) -> Result<Product, RuleViolation> {
    rules::check_stock(sku, quantity, super::checks::stock_facts(product.as_ref()))?;
    product.ok_or_else(|| RuleViolation::UnknownSku {
        sku: sku.to_string(),
    })
}

/// An item that passed every check, with the catalog facts seen now.
#[derive(Debug, Clone)]
pub(super) struct CheckedItem {
    pub sku: Sku,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
    pub product: Product,
    /// What the money guards saw (`Core::guard_items` fills it).
    pub guard: GuardCapture,
}

impl CheckedItem {
    /// What the store writes for it.
    pub fn write<'a>(&'a self, actor: &'a Actor) -> ItemWrite<'a> {
        ItemWrite {
            sku: &self.sku,
            discount: self.discount,
            quantity: self.quantity,
            product_name: &self.product.name,
            base_price_minor: self.product.price.minor(),
            stock_seen: self.product.stock,
            reference_minor: self.guard.reference_minor,
            unit_cost_minor: self.guard.unit_cost_minor,
            guard_flags: &self.guard.flags,
            by: &actor.id,
        }
    }

    /// How the activity log describes it once written into `slot`.
    pub fn details(&self, slot: i16) -> serde_json::Value {
        json!({
            "sku": self.sku.as_str(),
            "slot": slot,
            "discount_percent": self.discount.get(),
            "quantity": self.quantity.get(),
            "product_name": self.product.name,
            "base_price_minor": self.product.price.minor(),
            "stock_seen": self.product.stock,
            "guard_flags": self.guard.flags,
        })
    }
}

impl Core {
    /// The money guards on items about to enter a draft (`session_id`, or a
    /// new one): keeps on each what the guards saw (`CheckedItem::guard`)
    /// and answers, per item, the hard findings no override covers.
    pub(super) async fn guard_items(
        &self,
        conn: &mut PgConnection,
        session_id: Option<i64>,
        items: &mut [CheckedItem],
    ) -> Result<Vec<Vec<Finding>>, AppError> {
        let lines: Vec<(GuardedLine, &Product)> = items
            .iter()
            .map(|i| {
                let line = GuardedLine {
                    sku: i.sku.clone(),
                    discount: i.discount,
                    quantity: i.quantity,
                };
                (line, &i.product)
            })
            .collect();
        let verdicts = self.guard_lines(conn, session_id, &lines).await?;
        Ok(items
            .iter_mut()
            .zip(verdicts)
            .map(|(item, verdict)| {
                item.guard = verdict.capture;
                verdict.refused
            })
            .collect())
    }

    /// The money guards on one item about to enter `session_id`: the first
    /// hard finding no override covers refuses it (with the numbers); flags
    /// are kept on the item.
    pub(super) async fn guard_item(
        &self,
        conn: &mut PgConnection,
        session_id: i64,
        item: &mut CheckedItem,
    ) -> Result<(), AppError> {
        let refused = self
            .guard_items(conn, Some(session_id), std::slice::from_mut(item))
            .await?;
        match refused.into_iter().flatten().next() {
            Some(finding) => Err(RuleViolation::Guard(Box::new(finding)).into()),
            None => Ok(()),
        }
    }
}

/// Writes checked items in order, each into the lowest free slot, in the
/// caller's transaction (which holds the session lock).
pub(super) async fn write_items(
    conn: &mut PgConnection,
    session_id: i64,
    items: &[&CheckedItem],
    actor: &Actor,
) -> Result<Vec<ItemRecord>, AppError> {
    let writes: Vec<ItemWrite<'_>> = items.iter().map(|item| item.write(actor)).collect();
    Ok(items::insert_all(conn, session_id, &writes).await?)
}
