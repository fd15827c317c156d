//! The use cases editors and approvers run, independent of any chat platform.
//!
//! `FlashSales` is the service every adapter calls. Each use case takes an
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
mod delivery;
mod drafting;
mod error;
mod export;
pub mod headlines;
pub mod help;
mod import;
mod intake;
pub mod job_notices;
mod lifecycle;
mod log;
pub mod notices;
mod paste;
pub mod pictures;
mod queries;
mod system;
mod view;

use std::sync::Arc;

use sqlx::PgConnection;

use crate::catalog::Catalog;
use crate::chat::Chat;
use crate::domain::Policy;
use crate::store::{sessions, PgPool, SessionRecord};

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use calendar::{FreeSlot, ListRow, ListView};
pub use delivery::PostLease;
pub use drafting::{DraftInput, ItemChange, ItemEdit, ItemInput, NewItem};
pub use error::{AppError, InputError};
pub use export::{log_file_name, ExportFiles};
pub use import::{
    BadRow, DraftFields, ImportError, ImportReport, ImportTarget, RowProblem, SessionProblem,
};
pub use notices::Notice;
pub use paste::{parse_paste, BatchReport, LineOutcome, PasteError, PastedLine};
pub use queries::{ActivityEntry, ActivityPage, ListRange, ProductSuggestion};
pub use system::SystemOutcome;
pub use view::{ItemView, SessionSummaryView, SessionView};

/// `QUEUE_RETENTION_DAYS`'s default (`config`).
pub const DEFAULT_QUEUE_RETENTION_DAYS: u32 = 30;

/// The flash-sale service: the use cases, with what they need to run.
#[derive(Clone)]
pub struct FlashSales {
    pool: PgPool,
    catalog: Arc<dyn Catalog>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    /// Where approval cards and notices go; the platform is chosen at start-up.
    chat: Arc<dyn Chat>,
    /// Days finished jobs and delivered posts are kept (`QUEUE_RETENTION_DAYS`).
    queue_retention_days: u32,
}

/// What one housekeeping run of the work queues deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunedWork {
    pub jobs: u64,
    pub posts: u64,
}

impl FlashSales {
    pub fn new(
        pool: PgPool,
        catalog: Arc<dyn Catalog>,
        policy: Policy,
        clock: Arc<dyn Clock>,
        chat: Arc<dyn Chat>,
    ) -> FlashSales {
        FlashSales {
            pool,
            catalog,
            policy,
            clock,
            chat,
            queue_retention_days: DEFAULT_QUEUE_RETENTION_DAYS,
        }
    }

    /// Keeps finished jobs and delivered posts `days` days (the configured
    /// `QUEUE_RETENTION_DAYS`; without this call, the default 30).
    pub fn with_queue_retention(mut self, days: u32) -> FlashSales {
        self.queue_retention_days = days;
        self
    }

    pub fn queue_retention_days(&self) -> u32 {
        self.queue_retention_days
    }

    pub fn chat(&self) -> &Arc<dyn Chat> {
        &self.chat
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// Locks the session row for the rest of the transaction, or says it does not exist.
async fn lock_session(conn: &mut PgConnection, id: i64) -> Result<SessionRecord, AppError> {
    sessions::lock(conn, id)
        .await?
        .ok_or(AppError::SessionNotFound(id))
}
