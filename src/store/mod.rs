//! Postgres storage: the only module that writes SQL.
//!
//! Functions take a `&mut PgConnection` so the caller (a use case in `app`)
//! decides the transaction: every mutation locks the session row first
//! (`sessions::lock`), then reads, writes and appends its activity entry in
//! the same transaction. Constraint violations are mapped back to the domain
//! rule they protect, so a race lost in the database reads like any other
//! refusal.

pub mod activity;
pub mod events;
pub mod housekeeping;
pub mod items;
pub mod jobs;
pub mod outbox;
pub mod overrides;
pub mod presence;
pub mod prices;
pub mod queue;
pub mod reconcile;
pub mod sale;
pub mod sessions;
pub mod week;

use crate::domain::RuleViolation;

pub use activity::ActivityRecord;
pub use items::ItemRecord;
pub use sessions::SessionRecord;

pub type PgPool = sqlx::PgPool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused a write because it would break a rule.
    #[error(transparent)]
    Violation(#[from] RuleViolation),
    /// A stored value the code does not understand (a bug or a bad manual edit).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A stored value of a known set (a job's kind, a session's status) that
    /// this code does not know: written by a newer version, or by hand.
    #[error("stored data is not valid: {table} {id} has {column} {value:?}")]
    Unknown {
        table: &'static str,
        id: i64,
        column: &'static str,
        value: String,
    },
    /// Every presence key drawn was taken (`presence`): practically never.
    #[error("no free presence key")]
    NoPresenceKey,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The name of the constraint a database error violated, if any.
fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// Runs the embedded migrations (`migrations/`).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations").run(pool).await
}

/// The database's clock as it runs (`clock_timestamp()`), read with the
/// lightest statement there is: what `scheduler::timing` samples to map a
/// due time onto a process's own clock.
pub async fn db_clock_reading(pool: &PgPool) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    Ok(sqlx::query_scalar("select clock_timestamp()")
        .fetch_one(pool)
        .await?)
}

/// The database's clock: the one every replica shares, and so the authority
/// for due times, leases and anything the scheduler compares (`crate::clock`).
/// Inside a transaction this is the transaction's start time.
pub async fn db_now(
    conn: impl sqlx::PgExecutor<'_>,
) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    Ok(sqlx::query_scalar("select now()").fetch_one(conn).await?)
}
