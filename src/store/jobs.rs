//! The `job` table: every future action of a session, and its claiming.
//!
//! Claiming is `FOR UPDATE SKIP LOCKED` plus a lease (`claimed_until`) and a
//! claim counter (`claims`) that is bumped on every claim and never reset. The
//! counter is the fencing token: whoever records an outcome must still hold
//! the claim it made (`where claims = $n and state = 'running'`), so a replica
//! whose lease expired and was taken over cannot overwrite the new owner's
//! result, and because the counter only grows (a re-plan resets `attempts`,
//! never `claims`) a new claim can never carry a stale worker's token.
//!
//! Leases are short (seconds) and a running job renews its own (`renew`, the
//! heartbeat), so a dead worker's job is taken over within one lease while a
//! slow but live one keeps it. A process that is killed is noticed sooner:
//! its presence lock goes with its connection (`store::presence`), and its
//! claims are taken over at the next look. Due times are compared with the
//! database clock (`now()`), never a replica's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::StoreError;

/// The channel LISTEN/NOTIFY uses to wake schedulers when jobs change.
pub const NOTIFY_CHANNEL: &str = "flashsale_jobs";

/// A job this worker now holds, with the attempt that fences its writes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub session_id: i64,
    pub kind: String,
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
    pub fn fence(&self) -> Fence {
        Fence {
            job_id: self.id,
            token: self.claim,
        }
    }
}

/// The right to record a job's outcome: its id and the claim that was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub job_id: i64,
    pub token: i64,
}

/// Makes the session's pending jobs match `plan` (kind, due time): jobs not in
/// the plan are cancelled, new or moved ones are (re)created with a fresh
/// idempotency key, unchanged ones are left alone. Wakes the schedulers.
pub async fn apply_plan(
    conn: &mut PgConnection,
    session_id: i64,
    plan: &[(String, DateTime<Utc>)],
) -> Result<(), StoreError> {
    let kinds: Vec<&str> = plan.iter().map(|(k, _)| k.as_str()).collect();
    sqlx::query(
        "update job set state = 'cancelled', updated_at = now() \
         where session_id = $1 and state = 'pending' and kind <> all($2) and kind <> $3",
    )
    .bind(session_id)
    .bind(&kinds)
    // A repair is asked for by the reconciler, never planned: a plan change
    // leaves it to run (its writer decides from the state it then reads).
    .bind(REPAIR)
    .execute(&mut *conn)
    .await?;
    for (kind, due_at) in plan {
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

/// The stored kind of a repair job (`JobKind::Repair`).
const REPAIR: &str = "repair";

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
    let write = sqlx::query_as(
        "update job set \
             idempotency_key = case when $3 and revision is not null then gen_random_uuid() \
                                    else idempotency_key end, \
             revision = case when $3 or revision is null then nextval('sale_revision') else revision end, \
             updated_at = now() \
         where id = $1 and claims = $2 and state = 'running' \
         returning idempotency_key as key, revision",
    )
    .bind(fence.job_id)
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
    arm_unless_waiting(pool, session_id, REPAIR, None).await
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
    arm_unless_waiting(conn, session_id, "end", Some(due_at)).await
}

/// Arms the session's `kind` job for `due_at` (now when `None`) with a new
/// key and no write drawn, unless it is waiting or running already; wakes
/// the schedulers when it did.
async fn arm_unless_waiting(
    conn: impl sqlx::PgExecutor<'_>,
    session_id: i64,
    kind: &str,
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
    .bind(kind)
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
    kind: &str,
) -> Result<bool, StoreError> {
    let rearmed = sqlx::query(
        "update job set state = 'pending', next_attempt_at = now(), updated_at = now() \
         where session_id = $1 and kind = $2 and state = 'cancelled' and attempts > 0",
    )
    .bind(session_id)
    .bind(kind)
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
/// without a key waits for its lease; hence the `is not null` before every
/// `not in`, which is true for a null key when nobody is present.
pub async fn claim_due_within(
    pool: &PgPool,
    worker: &str,
    presence: Option<i32>,
    lease: Duration,
    limit: i64,
    ahead: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let jobs = sqlx::query_as(
        "update job set state = 'running', attempts = attempts + 1, claims = claims + 1, claimed_by = $1, \
             claimed_presence = $5, claimed_until = now() + make_interval(secs => $2), updated_at = now() \
         where id in ( \
             select id from job \
             where (state = 'pending' and next_attempt_at <= now() + make_interval(secs => $4)) \
                or (state = 'running' and (claimed_until < now() \
                    or (claimed_presence is not null \
                        and claimed_presence not in (select key from present_worker)))) \
             order by next_attempt_at limit $3 for update skip locked) \
         returning id, session_id, kind, due_at, now() as claimed_at, attempts as attempt, claims as claim, \
             idempotency_key, next_attempt_at as acts_at, \
             (extract(epoch from next_attempt_at - clock_timestamp()) * 1000000)::int8 as starts_in_us",
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .bind(limit)
    .bind(ahead.as_secs_f64())
    .bind(presence)
    .fetch_all(pool)
    .await?;
    Ok(jobs)
}

/// Tells every scheduler loop that something was claimed. A loop that slept
/// a whole poll because nothing was due then knows a job is running, and
/// looks at it again within a heartbeat (`time_until_next`): if the claimer
/// dies, that is how soon it is noticed.
pub async fn wake_schedulers(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("select pg_notify($1, 'claimed')")
        .bind(NOTIFY_CHANNEL)
        .execute(pool)
        .await?;
    Ok(())
}

/// True while the fence still owns the job; locks the job row until the
/// transaction ends, so an outcome and the state change it implies commit together.
pub async fn still_owned(conn: &mut PgConnection, fence: Fence) -> Result<bool, StoreError> {
    let owned: Option<i64> = sqlx::query_scalar(
        "select id from job where id = $1 and claims = $2 and state = 'running' for update",
    )
    .bind(fence.job_id)
    .bind(fence.token)
    .fetch_optional(conn)
    .await?;
    Ok(owned.is_some())
}

/// Records success. False when the fence no longer owns the job.
pub async fn finish(conn: &mut PgConnection, fence: Fence) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update job set state = 'done', claimed_until = null, last_error = null, updated_at = now() \
         where id = $1 and claims = $2 and state = 'running'",
    )
    .bind(fence.job_id)
    .bind(fence.token)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts the job back to run again after `delay`, keeping the error for the record.
pub async fn retry_later(
    conn: &mut PgConnection,
    fence: Fence,
    delay: Duration,
    error: &str,
) -> Result<bool, StoreError> {
    // The NOTIFY makes every loop (this one included, whose sleep was chosen
    // while the job still ran) look again, so the retry runs on its backoff,
    // not on the next poll.
    let updated = sqlx::query(
        "with retried as ( \
             update job set state = 'pending', next_attempt_at = now() + make_interval(secs => $3), \
                 last_error = $4, claimed_by = null, claimed_presence = null, claimed_until = null, updated_at = now() \
             where id = $1 and claims = $2 and state = 'running' returning session_id) \
         select pg_notify($5, session_id::text) from retried",
    )
    .bind(fence.job_id)
    .bind(fence.token)
    .bind(delay.as_secs_f64())
    .bind(error)
    .bind(NOTIFY_CHANNEL)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Gives up on the job for good.
pub async fn fail(conn: &mut PgConnection, fence: Fence, error: &str) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "update job set state = 'failed', last_error = $3, claimed_until = null, updated_at = now() \
         where id = $1 and claims = $2 and state = 'running'",
    )
    .bind(fence.job_id)
    .bind(fence.token)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Extends the lease of a job this worker still runs (the heartbeat). False
/// when the fence no longer owns it: the worker should stop caring, its
/// writes are refused anyway.
pub async fn renew(pool: &PgPool, fence: Fence, lease: Duration) -> Result<bool, StoreError> {
    let renewed = sqlx::query(
        "update job set claimed_until = now() + make_interval(secs => $3), updated_at = now() \
         where id = $1 and claims = $2 and state = 'running'",
    )
    .bind(fence.job_id)
    .bind(fence.token)
    .bind(lease.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// On graceful shutdown: hands this worker's claimed jobs back, to run at once
/// elsewhere. The next claim gets a larger token.
pub async fn release_all(pool: &PgPool, worker: &str) -> Result<u64, StoreError> {
    let released = sqlx::query(
        "update job set state = 'pending', next_attempt_at = least(next_attempt_at, now()), \
             claimed_by = null, claimed_presence = null, claimed_until = null, updated_at = now() \
         where claimed_by = $1 and state = 'running'",
    )
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(released.rows_affected())
}

/// How long until the next job or outbox post may be claimed, by the
/// database clock (zero: something is due now). `None` when nothing is waiting.
///
/// A running job or post is looked at again at least every `recheck`: its
/// process may die at any moment, and nobody would be woken to notice (a
/// dead process sends no NOTIFY). One whose process is gone is due now.
pub async fn time_until_next(
    pool: &PgPool,
    recheck: Duration,
) -> Result<Option<Duration>, StoreError> {
    let seconds: Option<f64> = sqlx::query_scalar(
        "with present as (select key from present_worker) \
         select extract(epoch from least( \
             (select min(case when state = 'pending' then next_attempt_at \
                              when claimed_presence is not null \
                                   and claimed_presence not in (select key from present) then now() \
                              else least(claimed_until, now() + make_interval(secs => $1)) end) \
              from job where state in ('pending', 'running')), \
             (select min(case when state = 'pending' then next_attempt_at \
                              when claimed_presence is not null \
                                   and claimed_presence not in (select key from present) then now() \
                              else least(claimed_until, now() + make_interval(secs => $1)) end) \
              from outbox where state in ('pending', 'sending'))) - now())::float8",
    )
    .bind(recheck.as_secs_f64())
    .fetch_one(pool)
    .await?;
    Ok(seconds.map(|s| Duration::from_secs_f64(s.max(0.0))))
}
