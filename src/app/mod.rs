//! The use cases editors and approvers run, independent of any chat platform.
//!
//! The use cases are split by audience: `Desk` (what editors and approvers
//! do), `Queries` (what people read) and `Operations` (what the scheduler
//! needs); a chat adapter gets the first two as a `Front`. Each use case takes an
//! `Actor` and plain input, asks `domain` for every decision, asks the
//! catalog for facts, and writes the result together with its activity entry
//! in one transaction that starts by locking the session row. It returns a
//! `SessionView` (or a list) that adapters render, or an `AppError` that they
//! show as it is.
//!
//! Catalog calls happen before the transaction, never while the session row
//! is locked, so a slow catalog cannot hold locks or pool connections: the
//! facts are fetched first and the rules are then checked against the locked,
//! current state.

mod announce;
pub mod buttons;
pub mod calendar;
pub mod cards;
mod checks;
pub mod command_line;
mod digest;
mod drafting;
mod error;
mod export;
mod guarding;
pub mod headlines;
pub mod help;
mod import;
mod input;
mod intake;
pub mod job_notices;
mod lifecycle;
mod log;
pub mod notices;
mod outbox;
mod overlap;
mod overriding;
mod paste;
pub mod pictures;
mod queries;
mod system;
mod view;
pub mod week;

use std::sync::Arc;

use sqlx::PgConnection;

use crate::catalog::Catalog;
use crate::chat::{Chat, Text};
use crate::domain::Policy;
use crate::store::{sessions, PgPool, SessionRecord};

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use calendar::{FreeSlot, ListRange, ListRow, ListView};
pub use drafting::{DraftInput, ItemChange, ItemEdit, ItemInput, NewItem};
pub use error::AppError;
pub use export::{log_file_name, ExportFiles};
pub use import::{
    BadRow, DraftFields, ImportError, ImportReport, ImportTarget, RowProblem, SessionProblem,
};
pub use input::{InputError, PasteError};
pub use notices::Notice;
pub use outbox::{Deliverer, PostLease};
pub use overriding::OverrideInput;
pub use paste::{parse_paste, BatchReport, LineOutcome, PastedLine};
pub use queries::{ActivityEntry, ActivityPage, ProductSuggestion};
pub use system::SystemOutcome;
pub use view::{ItemView, LineMoney, OverrideView, SessionMoney, SessionSummaryView, SessionView};
pub use week::WeekError;

/// `QUEUE_RETENTION_DAYS`'s default (`config`).
pub const DEFAULT_QUEUE_RETENTION_DAYS: u32 = 30;

/// What every service runs with. Shared, never handed out: a caller reaches
/// the database, the catalog, the clock and the chat only through a service's
/// use cases. The pieces several services share (the approval card's edits,
/// the outbox's delivery, status changes) are `Core`'s, private to `app`.
#[derive(Clone)]
struct Core {
    pool: PgPool,
    catalog: Arc<dyn Catalog>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    /// Where approval cards and notices go; the platform is chosen at start-up.
    chat: Arc<dyn Chat>,
    /// How far ahead the coverage alarm looks and when it speaks (`week`).
    coverage: week::CoverageSettings,
}

impl Core {
    /// The session with its items and computed flash prices.
    async fn view(&self, session_id: i64) -> Result<SessionView, AppError> {
        let mut conn = self.pool.acquire().await?;
        view::load(&mut conn, session_id, &self.policy).await
    }
}

/// What editors and approvers do: draft, fill, submit, approve, reject,
/// revoke, cancel and stop sessions (`drafting`, `paste`, `import`,
/// `lifecycle`, `system`'s stop), and the checks an adapter makes before it
/// opens a form. Every change is one transaction with its activity entry.
#[derive(Clone)]
pub struct Desk {
    core: Core,
}

/// What people read: a session, the calendar, the activity log, catalog
/// suggestions and the exports. Nothing here writes.
#[derive(Clone)]
pub struct Queries {
    core: Core,
}

/// What the bot does by itself, for the scheduler: scheduled status changes,
/// alerts, the outbox's delivery, card redraws and housekeeping.
#[derive(Clone)]
pub struct Operations {
    core: Core,
    /// Days finished jobs and delivered posts are kept (`QUEUE_RETENTION_DAYS`).
    queue_retention_days: u32,
}

/// The three services, built together from one set of parts; `runtime`
/// hands each to whoever needs it (a chat adapter gets the `Front`).
#[derive(Clone)]
pub struct Services {
    pub desk: Desk,
    pub queries: Queries,
    pub operations: Operations,
}

/// What a chat adapter may call: the desk and the queries, nothing of the
/// scheduler's. The policy and the clock come along for parsing input at the
/// edge (an SKU by the rules, "tomorrow 00:00" in the business zone); the
/// use cases check again what they decide.
#[derive(Clone)]
pub struct Front {
    pub desk: Desk,
    pub queries: Queries,
    pub policy: Policy,
    pub clock: Arc<dyn Clock>,
}

/// What one housekeeping run of the work queues deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunedWork {
    pub jobs: u64,
    pub posts: u64,
}

impl Services {
    pub fn new(
        pool: PgPool,
        catalog: Arc<dyn Catalog>,
        policy: Policy,
        clock: Arc<dyn Clock>,
        chat: Arc<dyn Chat>,
    ) -> Services {
        let core = Core {
            pool,
            catalog,
            policy,
            clock,
            chat,
            coverage: week::CoverageSettings::default(),
        };
        Services {
            desk: Desk { core: core.clone() },
            queries: Queries { core: core.clone() },
            operations: Operations {
                core,
                queue_retention_days: DEFAULT_QUEUE_RETENTION_DAYS,
            },
        }
    }

    /// Keeps finished jobs and delivered posts `days` days (the configured
    /// `QUEUE_RETENTION_DAYS`; without this call, the default 30).
    pub fn with_queue_retention(mut self, days: u32) -> Services {
        self.operations.queue_retention_days = days;
        self
    }

    /// Watches slots `settings.horizon_hours` ahead and reminds at
    /// `settings.reminder_hours` before them (`COVERAGE_*`; without this
    /// call, 48 hours and 24 and 6 hours).
    pub fn with_coverage(mut self, settings: week::CoverageSettings) -> Services {
        self.desk.core.coverage = settings.clone();
        self.queries.core.coverage = settings.clone();
        self.operations.core.coverage = settings;
        self
    }

    /// The part a chat adapter gets.
    pub fn front(&self) -> Front {
        Front {
            desk: self.desk.clone(),
            queries: self.queries.clone(),
            policy: self.desk.core.policy.clone(),
            clock: self.desk.core.clock.clone(),
        }
    }
}

impl Desk {
    /// Redraws the session's approval card if it is behind the session (a
    /// press on an old card was refused: the person then sees the current one).
    pub async fn refresh_card(&self, session_id: i64) -> bool {
        self.core.refresh_card(session_id).await
    }
}

impl Operations {
    /// The session with its items as the database holds it now.
    pub async fn get(&self, session_id: i64) -> Result<SessionView, AppError> {
        self.core.view(session_id).await
    }

    /// Days finished jobs and delivered posts are kept.
    pub fn queue_retention_days(&self) -> u32 {
        self.queue_retention_days
    }

    /// After a status change the scheduler made: the approval card shows it
    /// (see `Core::update_card`).
    pub(crate) async fn update_card(&self, view: &SessionView, outcome: Text) -> bool {
        self.core.update_card(view, outcome).await
    }
}

/// Locks the session row for the rest of the transaction, or says it does not exist.
async fn lock_session(conn: &mut PgConnection, id: i64) -> Result<SessionRecord, AppError> {
    sessions::lock(conn, id)
        .await?
        .ok_or(AppError::SessionNotFound(id))
}
