//! The `job` table: every future action of a session, and its claiming.
//!
//! Jobs are a held queue (`store::queue`): claimed with `FOR UPDATE SKIP
//! LOCKED`, a lease (`claimed_until`) and a claim counter (`claims`) that is
//! bumped on every claim and never reset. The counter is the fencing token:
//! whoever records an outcome must still hold the claim it made (`Fence`), so
//! a replica whose lease expired and was taken over cannot overwrite the new
//! owner's result, and because the counter only grows (a re-plan resets
//! `attempts`, never `claims`) a new claim can never carry a stale worker's
//! token. What is the job table's own: a job is due at its next attempt, and
//! may be claimed up to a look-ahead before it (`claim_due_within`); a
//! running job is `running`, a finished one `done` or `failed`; putting one
//! back wakes the schedulers.
//!
//! Leases are short (seconds) and a running job renews its own (`renew`, the
//! heartbeat), so a dead worker's job is taken over within one lease while a
//! slow but live one keeps it. A process that is killed is noticed sooner:
//! its presence lock goes with its connection (`store::presence`), and its
//! claims are taken over at the next look. Due times are compared with the
//! database clock (`now()`), never a replica's.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::queue::{Claim, ClaimedRow, Holder, JOBS, NOTIFY_CHANNEL};
use super::StoreError;
use crate::domain::JobKind;

pub use super::queue::Fence;

/// A job this worker now holds, with the attempt that fences its writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub session_id: i64,
    pub kind: JobKind,
    pub due_at: DateTime<Utc>,
    /// The database's clock when this claim was made: lateness is measured
    /// from it, never from a replica's clock.
    pub claimed_at: DateTime<Utc>,
    /// Tries of the current plan (drives backoff and alerts); restarts at 1
    /// after a re-plan.
    pub attempt: i32,
    /// The fencing token: this claim's number, larger than any before it.
    pub claim: i64,
    pub idempotency_key: Uuid,
    /// How long after the claim the job is due, in microseconds by the
    /// database clock (read as late as the statement allows); zero or less
    /// when it is due already. Jobs may be claimed a little ahead
    /// (`claim_due_within`) and then wait this long before acting.
    pub starts_in_us: i64,
    /// The time, by the database clock, this claim was made to act at (the
    /// job's next attempt). A claimer that must act on the dot maps it onto
    /// its own clock more tightly than `starts_in_us` can
    /// (`scheduler::timing`).
    pub acts_at: DateTime<Utc>,
}

impl ClaimedJob {
    /// The right to record this claim's outcome.
    pub fn fence(&self) -> Fence {
        Fence {
            id: self.id,
            token: self.claim,
        }
    }
}

/// A claimed job as the claim returns it, its kind as stored.
#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    session_id: i64,
    kind: String,
    due_at: DateTime<Utc>,
    claimed_at: DateTime<Utc>,
    attempt: i32,
    claim: i64,
    idempotency_key: Uuid,
    starts_in_us: i64,
    acts_at: DateTime<Utc>,
}

impl ClaimedRow for JobRow {
    type Read = ClaimedJob;

    fn fence(&self) -> Fence {
        Fence {
            id: self.id,
            token: self.claim,
        }
    }

    fn read(self) -> Result<ClaimedJob, StoreError> {
        let Some(kind) = JobKind::from_stored(&self.kind) else {
            return Err(StoreError::Unknown {
                table: "job",
                id: self.id,
                column: "kind",
                value: self.kind,
            });
        };
        Ok(ClaimedJob {
            id: self.id,
            session_id: self.session_id,
            kind,
            due_at: self.due_at,
            claimed_at: self.claimed_at,
            attempt: self.attempt,
            claim: self.claim,
            idempotency_key: self.idempotency_key,
            starts_in_us: self.starts_in_us,
            acts_at: self.acts_at,
        })
    }
}

/// Makes the session's pending jobs match `plan` (kind, due time): jobs not in
/// the plan are cancelled, new or moved ones are (re)created with a fresh
/// idempotency key, unchanged ones are left alone. Wakes the schedulers.
pub async fn apply_plan(
    conn: &mut PgConnection,
    session_id: i64,
    plan: &[(JobKind, DateTime<Utc>)],
) -> Result<(), StoreError> {
    let kinds: Vec<String> = plan.iter().map(|(k, _)| k.as_stored()).collect();
    sqlx::query(
        "update job set state = 'cancelled', updated_at = now() \
         where session_id = $1 and state = 'pending' and kind <> all($2) and kind <> all($3)",
    )
    .bind(session_id)
    .bind(&kinds)
    // A repair (asked for by the reconciler) and a stage (armed by status
    // changes) are never planned: a plan change leaves them to run, and
    // their writer decides from the state it then reads.
    .bind([JobKind::Repair.as_stored(), JobKind::Stage.as_stored()])
    .execute(&mut *conn)
    .await?;
    for ((_, due_at), kind) in plan.iter().zip(&kinds) {
        sqlx::query(
            "insert into job (session_id, kind, due_at, next_attempt_at, idempotency_key) \
             values ($1, $2, $3, $3, $4) \
             on conflict (session_id, kind) do update set \
                 due_at = excluded.due_at, next_attempt_at = excluded.due_at, state = 'pending', \
                 attempts = 0, last_error = null, claimed_by = null, claimed_presence = null, claimed_until = null, \
                 idempotency_key = excluded.idempotency_key, revision = null, updated_at = now() \
             where job.state in ('cancelled', 'failed') or job.due_at <> excluded.due_at",
        )
        .bind(session_id)
        .bind(kind)
        .bind(due_at)
        .bind(Uuid::new_v4())
        .execute(&mut *conn)
        .await?;
    }
    // Delivered at commit, so listeners never see a plan that rolled back.
    sqlx::query("select pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(session_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The write a job's current decision sends to the storefront: the
/// idempotency key its retries repeat and its revision.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobWrite {
    pub key: Uuid,
    pub revision: i64,
}

/// The write for the job's current decision, fenced by its claim: the one
/// already drawn (a retry of the same decision repeats key and revision), or
/// a first one. With `fresh`, a new decision: a new revision and, when one
/// was drawn before, a new key too, since the storefront answers a known key
/// as a replay of the old write. `None` when the fence lost the job.
///
/// Committed at once, before the call it is for goes out: a revision is
/// drawn from the `sale_revision` sequence, which no rollback returns, so a
/// writer that crashes after sending can never have its number reused for
/// another write.
pub async fn sale_write(
    pool: &PgPool,
    fence: Fence,
    fresh: bool,
) -> Result<Option<JobWrite>, StoreError> {
    static WRITE: LazyLock<String> = LazyLock::new(|| {
        JOBS.fenced_update(
            "idempotency_key = case when $3 and revision is not null then gen_random_uuid() \
                                    else idempotency_key end, \
             revision = case when $3 or revision is null then nextval('sale_revision') else revision end",
        ) + " returning idempotency_key as key, revision"
    });
    let write = sqlx::query_as(WRITE.as_str())
        .bind(fence.id)
        .bind(fence.token)
        .bind(fresh)
        .fetch_optional(pool)
        .await?;
    Ok(write)
}

/// Asks the sale's writer to look again now: arms the session's repair job
/// (due at once) unless one is waiting or running already. Wakes the
/// schedulers. Returns whether it was armed here.
pub async fn arm_repair(pool: &PgPool, session_id: i64) -> Result<bool, StoreError> {
    arm_unless_waiting(pool, session_id, JobKind::Repair, None).await
}

/// Asks the sale's writer to bring the staged sale in step with the session
/// now: arms the stage job (due at once, by the database's clock) unless it
/// waits or runs already. With `only_if_known`, only a session that has a
/// stage job already (something may be staged): an approval arms it, a
/// revoke or cancel re-arms it. Returns whether it was armed here.
pub async fn arm_stage(
    conn: &mut PgConnection,
    session_id: i64,
    only_if_known: bool,
) -> Result<bool, StoreError> {
    if only_if_known {
        let known: bool = sqlx::query_scalar(
            "select exists (select 1 from job where session_id = $1 and kind = $2)",
        )
        .bind(session_id)
        .bind(JobKind::Stage.as_stored())
        .fetch_one(&mut *conn)
        .await?;
        if !known {
            return Ok(false);
        }
    }
    arm_unless_waiting(conn, session_id, JobKind::Stage, None).await
}

/// Makes sure the session's end job will run: a live session's end is
/// guaranteed whatever became of the end job before (done by a run that
/// found the session not yet live, failed, cancelled). Left alone while it
/// waits or runs; otherwise re-armed for `due_at` (due at once if that
/// passed). Returns whether it was re-armed.
pub async fn ensure_end_armed(
    conn: &mut PgConnection,
    session_id: i64,
    due_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    arm_unless_waiting(conn, session_id, JobKind::End, Some(due_at)).await
}

/// Arms the session's `kind` job for `due_at` (now when `None`) with a new
/// key and no write drawn, unless it is waiting or running already; wakes
/// the schedulers when it did.
async fn arm_unless_waiting(
    conn: impl sqlx::PgExecutor<'_>,
    session_id: i64,
    kind: JobKind,
    due_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let armed = sqlx::query(
        "with armed as ( \
             insert into job (session_id, kind, due_at, next_attempt_at, idempotency_key) \
             values ($1, $2, coalesce($3, now()), coalesce($3, now()), gen_random_uuid()) \
             on conflict (session_id, kind) do update set \
                 due_at = excluded.due_at, next_attempt_at = excluded.due_at, state = 'pending', \
                 attempts = 0, last_error = null, claimed_by = null, claimed_presence = null, claimed_until = null, \
                 idempotency_key = gen_random_uuid(), revision = null, updated_at = now() \
             where job.state not in ('pending', 'running') \
             returning session_id) \
         select pg_notify($4, session_id::text) from armed",
    )
    .bind(session_id)
    .bind(kind.as_stored())
    .bind(due_at)
    .bind(NOTIFY_CHANNEL)
    .execute(conn)
    .await?;
    Ok(armed.rows_affected() == 1)
}

/// Whether an attempt to publish the session failed before (its publish job
/// keeps the last error until it is planned anew).
pub async fn publish_failed_before(pool: &PgPool, session_id: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from job where session_id = $1 and kind = 'publish' \
             and last_error is not null)",
    )
    .bind(session_id)
    .fetch_one(pool)
    .await?)
}

/// Runs the session's `kind` job again now if a plan change just cancelled it
/// after it had been tried: a publish that was tried may have reached the
/// storefront although its answer never came back, and only its handler can
/// find out and undo it. Returns whether a job was re-armed.
pub async fn rearm_if_tried(
    conn: &mut PgConnection,
    session_id: i64,
    kind: JobKind,
) -> Result<bool, StoreError> {
    let rearmed = sqlx::query(
        "update job set state = 'pending', next_attempt_at = now(), updated_at = now() \
         where session_id = $1 and kind = $2 and state = 'cancelled' and attempts > 0",
    )
    .bind(session_id)
    .bind(kind.as_stored())
    .execute(conn)
    .await?;
    Ok(rearmed.rows_affected() == 1)
}

/// Claims up to `limit` due jobs: pending ones whose time has come, and
/// running ones whose worker is gone (lease expired, or presence lost).
/// Claims made here carry no presence key, so only their lease protects
/// them: for tests and tools, not for a scheduler.
pub async fn claim_due(
    pool: &PgPool,
    worker: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    claim_due_within(pool, worker, None, lease, limit, Duration::ZERO).await
}

/// Like `claim_due`, and also pending jobs that fall due within `ahead`: the
/// claimer prepares them and acts at their due time (`starts_in_us`), so no
/// database round trip stands between the due time and the action.
///
/// `presence` is the claimer's presence key (`store::presence`) while it
/// holds it: a running job whose key nobody holds any more belongs to a
/// process that died and is taken over without waiting for its lease. A claim
/// without a key waits for its lease (`Queue::claimable`).
pub async fn claim_due_within(
    pool: &PgPool,
    worker: &str,
    presence: Option<i32>,
    lease: Duration,
    limit: i64,
    ahead: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let holder = Holder {
        worker,
        presence,
        lease,
    };
    let rows: Vec<JobRow> = holder
        .bind(sqlx::query_as(claim_statement()))
        .bind(limit)
        .bind(ahead.as_secs_f64())
        .fetch_all(pool)
        .await?;
    Ok(JOBS.read_claimed(pool, rows).await)
}

/// The claim of `claim_due_within`: the pending jobs due by the look-ahead
/// (`$5` seconds) and the running ones whose worker is gone, earliest first
/// (the `job_due` index), up to `$4`.
pub(super) fn claim_statement() -> &'static str {
    static CLAIM: LazyLock<String> = LazyLock::new(|| {
        Claim {
            with: "",
            table: "job",
            key: "id",
            take: &JOBS.take(),
            pick: &format!(
                "select id from job where {} order by next_attempt_at limit $4",
                JOBS.claimable("", "now() + make_interval(secs => $5)")
            ),
            returning: "id, session_id, kind, due_at, now() as claimed_at, attempts as attempt, \
                 claims as claim, idempotency_key, next_attempt_at as acts_at, \
                 (extract(epoch from next_attempt_at - clock_timestamp()) * 1000000)::int8 as starts_in_us",
        }
        .statement()
    });
    CLAIM.as_str()
}

/// True while the fence still owns the job; locks the job row until the
/// transaction ends, so an outcome and the state change it implies commit together.
pub async fn still_owned(conn: &mut PgConnection, fence: Fence) -> Result<bool, StoreError> {
    JOBS.still_held(conn, fence).await
}

/// Records success. False when the fence no longer owns the job.
pub async fn finish(conn: &mut PgConnection, fence: Fence) -> Result<bool, StoreError> {
    JOBS.finish(conn, fence).await
}

/// Puts the job back to run again after `delay`, keeping the error for the
/// record. Every loop is woken (this one included, whose sleep was chosen
/// while the job still ran), so the retry runs on its backoff, not on the
/// next poll.
pub async fn retry_later(
    conn: &mut PgConnection,
    fence: Fence,
    delay: Duration,
    error: &str,
) -> Result<bool, StoreError> {
    JOBS.retry_later(conn, fence, delay, error).await
}

/// Gives up on the job for good.
pub async fn fail(conn: &mut PgConnection, fence: Fence, error: &str) -> Result<bool, StoreError> {
    JOBS.give_up(conn, fence, error).await
}

/// Extends the lease of a job this worker still runs (the heartbeat). False
/// when the fence no longer owns it: the worker should stop caring, its
/// writes are refused anyway.
pub async fn renew(pool: &PgPool, fence: Fence, lease: Duration) -> Result<bool, StoreError> {
    Ok(JOBS.renew(pool, &[fence], lease).await? == 1)
}

/// On graceful shutdown: hands this worker's claimed jobs back, to run at once
/// elsewhere. The next claim gets a larger token.
pub async fn release_all(pool: &PgPool, worker: &str) -> Result<u64, StoreError> {
    JOBS.release_all(pool, worker).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str) -> JobRow {
        let now = Utc::now();
        JobRow {
            id: 12,
            session_id: 3,
            kind: kind.to_owned(),
            due_at: now,
            claimed_at: now,
            attempt: 1,
            claim: 5,
            idempotency_key: Uuid::nil(),
            starts_in_us: 0,
            acts_at: now,
        }
    }

    #[test]
    fn a_claimed_jobs_kind_is_read_once_into_its_type() {
        assert_eq!(
            row("reminder:1440").read().unwrap().kind,
            JobKind::Reminder {
                minutes_before: 1440
            }
        );
        assert_eq!(row("publish").read().unwrap().kind, JobKind::Publish);
        assert_eq!(row("publish").fence(), Fence { id: 12, token: 5 });
    }

    #[test]
    fn an_unknown_kind_is_a_typed_error_naming_the_job() {
        let error = row("refund").read().unwrap_err();
        assert!(matches!(
            &error,
            StoreError::Unknown { table: "job", id: 12, column: "kind", value } if value == "refund"
        ));
        assert_eq!(
            error.to_string(),
            "stored data is not valid: job 12 has kind \"refund\""
        );
    }
}
