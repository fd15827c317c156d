//! Which sessions the reconciler compares with the storefront, and who does.
//!
//! Candidates are sessions whose sale should be up (live) and sessions whose
//! sale should be down but was touched lately: a publish, end or repair job
//! tried in the last hour (revoked, cancelled, failed or ended meanwhile),
//! and approved ones whose window has passed. Both are found through
//! indexes (live sessions; recently updated storefront jobs), so a round
//! reads candidates, not the whole history. Each check takes a short lease
//! on the session row (a bare lease, `store::queue::Lease`), claimed with
//! `FOR UPDATE SKIP LOCKED` (`store::queue::Claim`), so every replica can
//! run the reconciler and no two check one session at once; the lease also
//! spaces the checks of one session.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::queue::{Claim, Lease};
use super::StoreError;
use crate::domain::Status;

/// The lease a check takes on its session.
const LEASE: Lease = Lease {
    column: "reconcile_lease_until",
};

/// A session to compare, with the database's clock at the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub session_id: i64,
    pub status: Status,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub stop_requested_at: Option<DateTime<Utc>>,
    /// Whether its end job waits or runs (a live session's end must).
    pub end_armed: bool,
    pub checked_at: DateTime<Utc>,
}

/// A candidate as the claim returns it, its status as stored.
#[derive(sqlx::FromRow)]
struct CandidateRow {
    session_id: i64,
    status: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    stop_requested_at: Option<DateTime<Utc>>,
    end_armed: bool,
    checked_at: DateTime<Utc>,
}

impl CandidateRow {
    fn read(self) -> Result<Candidate, StoreError> {
        let Some(status) = Status::from_stored(&self.status) else {
            return Err(StoreError::Unknown {
                table: "session",
                id: self.session_id,
                column: "status",
                value: self.status,
            });
        };
        Ok(Candidate {
            session_id: self.session_id,
            status,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            stop_requested_at: self.stop_requested_at,
            end_armed: self.end_armed,
            checked_at: self.checked_at,
        })
    }
}

/// Claims up to `limit` sessions due for a check; each is not due again for
/// `every`. A session whose status this code does not know is logged and
/// left out: its lease runs out and the next round reports it again.
pub async fn claim_due(
    pool: &PgPool,
    every: Duration,
    limit: i64,
) -> Result<Vec<Candidate>, StoreError> {
    static CLAIM: LazyLock<String> = LazyLock::new(|| {
        Claim {
            with: "with candidate as ( \
                       select id from session where status = 'live' \
                       union \
                       select j.session_id from job j \
                       where j.kind in ('publish', 'end', 'repair', 'stage') and j.claims > 0 \
                         and j.updated_at > now() - interval '1 hour') ",
            table: "session s",
            key: "s.id",
            take: &LEASE.take("$1"),
            pick: &format!(
                "select c.id from session c \
                 where c.id in (select id from candidate) \
                   and {} \
                   and (c.status <> 'approved' or c.ends_at <= now()) \
                 order by c.id limit $2",
                LEASE.free("c")
            ),
            returning:
                "s.id as session_id, s.status, s.starts_at, s.ends_at, s.stop_requested_at, \
                 exists (select 1 from job e where e.session_id = s.id and e.kind = 'end' \
                         and e.state in ('pending', 'running')) as end_armed, \
                 now() as checked_at",
        }
        .statement()
    });
    let rows: Vec<CandidateRow> = sqlx::query_as(CLAIM.as_str())
        .bind(every.as_secs_f64())
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for row in rows {
        match row.read() {
            Ok(candidate) => candidates.push(candidate),
            Err(error) => {
                tracing::error!(%error, "a session due for a check could not be read; it is not checked")
            }
        }
    }
    Ok(candidates)
}
