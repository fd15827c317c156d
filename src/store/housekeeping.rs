//! Housekeeping of the work queues: finished `job` rows and delivered (or
//! refused) `outbox` rows are deleted once nothing can need them again, so
//! the tables hold recent work, not every session there ever was.
//!
//! A row is old enough when it finished more than the retention ago
//! (`QUEUE_RETENTION_DAYS`), and only rows of a **settled** session go: one
//! in a final status (no action leads out of it, so no re-plan), whose
//! window, end and last change are all older than the retention, and that
//! has no job waiting or running. That matters because both tables key a
//! row by its session: a job is unique per (session, kind) and a re-plan
//! upserts it, leaving a `done` job of an unchanged plan alone (a deleted
//! one would come back `pending` and run again); a post is unique per
//! (session, event, version), so a deleted post written again would go out
//! twice. Pending, running and sending rows are never deleted.
//!
//! Deletes go in batches, each its own statement, so a first prune of a
//! large history holds no long locks; rows another transaction has locked
//! are skipped and go the next day.

use sqlx::PgPool;

use super::StoreError;

/// Rows deleted per statement.
pub const BATCH: u32 = 5_000;

/// Deletes up to `limit` finished jobs (`done`, `cancelled`, `failed`) last
/// changed more than `retention_days` ago, of settled sessions (module
/// docs); `final_statuses` are the stored names of the final statuses.
/// Returns how many.
pub async fn prune_jobs(
    pool: &PgPool,
    retention_days: i32,
    final_statuses: &[&str],
    limit: u32,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query(
        "delete from job where id in ( \
             select j.id from job j join session s on s.id = j.session_id \
             where j.state in ('done', 'cancelled', 'failed') \
               and j.updated_at < now() - make_interval(days => $1) \
               and s.status = any($2) \
               and greatest(s.ends_at, s.updated_at, s.ended_at) < now() - make_interval(days => $1) \
               and not exists (select 1 from job w where w.session_id = j.session_id \
                               and w.state in ('pending', 'running')) \
             order by j.id limit $3 for update of j skip locked)",
    )
    .bind(retention_days)
    .bind(final_statuses)
    .bind(i64::from(limit))
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

/// Deletes up to `limit` posts that were delivered (`sent`) or given up on
/// (`refused`, `unconfirmed`) more than `retention_days` ago, of settled sessions (module
/// docs). Returns how many.
pub async fn prune_outbox(
    pool: &PgPool,
    retention_days: i32,
    final_statuses: &[&str],
    limit: u32,
) -> Result<u64, StoreError> {
    // A post is never sent before it was written, so the created_at bound
    // (which the index holds) only narrows what the sent_at bound keeps.
    let deleted = sqlx::query(
        "delete from outbox where id in ( \
             select o.id from outbox o join session s on s.id = o.session_id \
             where o.state in ('sent', 'refused', 'unconfirmed') \
               and o.created_at < now() - make_interval(days => $1) \
               and coalesce(o.sent_at, o.created_at) < now() - make_interval(days => $1) \
               and s.status = any($2) \
               and greatest(s.ends_at, s.updated_at, s.ended_at) < now() - make_interval(days => $1) \
               and not exists (select 1 from job w where w.session_id = o.session_id \
                               and w.state in ('pending', 'running')) \
             order by o.id limit $3 for update of o skip locked)",
    )
    .bind(retention_days)
    .bind(final_statuses)
    .bind(i64::from(limit))
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}
