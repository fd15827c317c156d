//! The storefront writer's section of a sale: one writer at a time per
//! session, deciding from state it reads inside the section.
//!
//! Every storefront write for a session (publish, end, repair, take-down) is
//! made inside a section that holds a transaction-scoped advisory lock on
//! `(NAMESPACE, session id)`. The lock lives on the section's own connection
//! and goes with it: a writer that commits, rolls back, is dropped or whose
//! process dies releases it, so a crash never leaves a sale locked. People's
//! commands do not take it (a `stop` must not wait behind a stalled PUT):
//! they commit their change, and the writer re-reads the session right
//! before each call, so at most one call already in flight can act on a
//! state a command has just left; the revision the call carries
//! (`next_revision`) makes sure it cannot undo what comes after it.
//!
//! Lock order: a section's lock is taken before any row lock, and nothing
//! inside a section waits for it again; row locks (session, then job, then
//! outbox) are taken by short transactions of their own.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use super::StoreError;
use crate::domain::Status;

/// The advisory-lock namespace of sale writers ("SALE"); presence locks use
/// another (`store::presence::NAMESPACE`).
pub const NAMESPACE: i32 = 0x5341_4C45;

/// Draws the next revision (the `sale_revision` sequence): larger than any
/// drawn before, and never drawn again even if the caller's transaction rolls back.
pub async fn next_revision(conn: impl sqlx::PgExecutor<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("select nextval('sale_revision')")
        .fetch_one(conn)
        .await?)
}

/// The exclusive right to write a session's sale to the storefront.
pub struct WriterSection {
    tx: Transaction<'static, Postgres>,
    session_id: i64,
}

/// What a writer decides from: the session as committed right now, and the
/// database's clock at the same read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleState {
    pub status: Status,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub stop_requested_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// `clock_timestamp()`, not the transaction's start: the section may
    /// have been held for a while.
    pub now: DateTime<Utc>,
}

impl WriterSection {
    /// Waits until no other writer holds `session_id`'s section, then holds it.
    pub async fn enter(pool: &PgPool, session_id: i64) -> Result<WriterSection, StoreError> {
        let mut tx = pool.begin().await?;
        let objid = i32::try_from(session_id)
            .map_err(|_| StoreError::Corrupt(format!("session id {session_id} is out of range")))?;
        sqlx::query("select pg_advisory_xact_lock($1, $2)")
            .bind(NAMESPACE)
            .bind(objid)
            .execute(&mut *tx)
            .await?;
        Ok(WriterSection { tx, session_id })
    }

    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// The session as committed now (not as of the section's start), with
    /// the database clock; `None` if it does not exist.
    pub async fn read(&mut self) -> Result<Option<SaleState>, StoreError> {
        type Row = (
            String,
            DateTime<Utc>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            i32,
            DateTime<Utc>,
        );
        let row: Option<Row> = sqlx::query_as(
            "select status, starts_at, ends_at, stop_requested_at, version, clock_timestamp() as now \
             from session where id = $1",
        )
        .bind(self.session_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some((status, starts_at, ends_at, stop_requested_at, version, now)) = row else {
            return Ok(None);
        };
        let Some(status) = Status::from_stored(&status) else {
            return Err(StoreError::Unknown {
                table: "session",
                id: self.session_id,
                column: "status",
                value: status,
            });
        };
        Ok(Some(SaleState {
            status,
            starts_at,
            ends_at,
            stop_requested_at,
            version,
            now,
        }))
    }

    /// Leaves the section (the lock goes with the transaction). Dropping the
    /// section leaves it too, when its connection goes back to the pool.
    pub async fn leave(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
