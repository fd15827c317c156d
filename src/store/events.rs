//! Platform events already handled (interaction ids), so a redelivered or
//! double-clicked event changes nothing twice.
//!
//! Rows are kept for [`RETENTION_DAYS`] and then pruned: a Discord
//! interaction can only be answered for 15 minutes and is redelivered, if at
//! all, within that time. A week leaves room for a replica that was down.
//! (The daily digest once claimed its day here, before it was posted; it is
//! an outbox post now, recorded when the chat took it.)

use sqlx::PgConnection;

/// How long a handled event is remembered.
pub const RETENTION_DAYS: i32 = 7;

use super::StoreError;

/// Records the event; true when it was new, false when it was seen before.
/// The primary key decides, so two replicas racing on one event cannot both win.
pub async fn record(
    conn: &mut PgConnection,
    platform: &str,
    event_id: &str,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "insert into processed_event (platform, event_id) values ($1, $2) on conflict do nothing",
    )
    .bind(platform)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Forgets events handled more than [`RETENTION_DAYS`] ago (by the database
/// clock); returns how many.
pub async fn prune(conn: &mut PgConnection) -> Result<u64, StoreError> {
    let deleted = sqlx::query(
        "delete from processed_event where processed_at < now() - make_interval(days => $1)",
    )
    .bind(RETENTION_DAYS)
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
