//! Platform events already handled (interaction ids), so a redelivered or
//! double-clicked event changes nothing twice.

use sqlx::PgConnection;

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
