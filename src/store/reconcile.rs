//! Which sessions the reconciler compares with the storefront, and who does.
//!
//! Candidates are sessions whose sale should be up (live) and sessions whose
//! sale should be down but was touched lately: a publish or end job tried in
//! the last hour (revoked, cancelled, failed or ended meanwhile). Approved
//! sessions are left to their publish job. Each check takes a short lease on
//! the session row, claimed with `FOR UPDATE SKIP LOCKED`, so every replica
//! can run the reconciler and no two check one session at once; the lease
//! also spaces the checks of one session.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::StoreError;

/// A session to compare, with the database's clock at the claim.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Candidate {
    pub session_id: i64,
    pub status: String,
    pub ends_at: DateTime<Utc>,
    pub checked_at: DateTime<Utc>,
}

/// Claims up to `limit` sessions due for a check; each is not due again for `every`.
pub async fn claim_due(
    pool: &PgPool,
    every: Duration,
    limit: i64,
) -> Result<Vec<Candidate>, StoreError> {
    let candidates = sqlx::query_as(
        "update session s set reconcile_lease_until = now() + make_interval(secs => $1) \
         where s.id in ( \
             select c.id from session c \
             where (c.reconcile_lease_until is null or c.reconcile_lease_until <= now()) \
               and (c.status = 'live' \
                    or (c.status <> 'approved' and exists ( \
                        select 1 from job j where j.session_id = c.id \
                          and j.kind in ('publish', 'end') and j.claims > 0 \
                          and j.updated_at > now() - interval '1 hour'))) \
             order by c.id limit $2 for update skip locked) \
         returning s.id as session_id, s.status, s.ends_at, now() as checked_at",
    )
    .bind(every.as_secs_f64())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(candidates)
}
