//! The `outbox` table: channel posts that report a state change, waiting to
//! be delivered.
//!
//! A post is written by `enqueue` in the same transaction as the change it
//! reports, under a unique key (session, event, version), so the change and
//! its announcement commit together and a retried job cannot write a second
//! one. Delivery works like the jobs table (`store::jobs`): rows are claimed
//! with `FOR UPDATE SKIP LOCKED`, a lease and a claim counter that fences the
//! outcome, so any number of replicas deliver each post once. A post whose
//! delivery failed goes back to `pending` with a backoff; one the chat
//! refused for good (too long, unknown channel) is kept as `refused`.
//!
//! What remains is the moment between the chat accepting a post and `sent`
//! being written: a crash there delivers again, and the adapters' dedupe key
//! (`outbox:<id>`: Discord's nonce, the console's memory) is what keeps that
//! second delivery from showing.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};

use super::jobs::NOTIFY_CHANNEL;
use super::StoreError;

/// A post taken for delivery by this worker.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ClaimedPost {
    pub id: i64,
    pub session_id: i64,
    pub event: String,
    pub channel: String,
    pub message: serde_json::Value,
    /// Deliveries tried so far, this one included (drives the backoff).
    pub attempt: i32,
    /// The fencing token of this claim.
    pub claim: i64,
    /// The session version the post was written at.
    pub version: i32,
}

/// Writes a post in the caller's transaction; a post already written under
/// the same key is left as it is. Returns whether this call wrote it. The
/// schedulers are woken at commit; they take it once `hold` has passed, which
/// leaves a writer that delivers its post itself (`claim_event`) that long
/// before a scheduler steps in.
pub async fn enqueue(
    conn: &mut PgConnection,
    session_id: i64,
    event: &str,
    version: i32,
    channel: &str,
    message: &serde_json::Value,
    hold: Duration,
) -> Result<bool, StoreError> {
    let written = sqlx::query(
        "insert into outbox (session_id, event, version, channel, message, next_attempt_at) \
         values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) \
         on conflict on constraint outbox_one_post_per_event do nothing",
    )
    .bind(session_id)
    .bind(event)
    .bind(version)
    .bind(channel)
    .bind(message)
    .bind(hold.as_secs_f64())
    .execute(&mut *conn)
    .await?;
    sqlx::query("select pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(session_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(written.rows_affected() == 1)
}

/// Claims up to `limit` posts that are due, oldest first: pending ones whose
/// time has come, and ones whose deliverer is gone (its lease ran out, or
/// its presence: see `jobs::claim_due_within`).
pub async fn claim_due(
    pool: &PgPool,
    worker: &str,
    presence: Option<i32>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedPost>, StoreError> {
    let posts = sqlx::query_as(
        "update outbox set state = 'sending', attempts = attempts + 1, claims = claims + 1, \
             claimed_by = $1, claimed_presence = $4, claimed_until = now() + make_interval(secs => $2) \
         where id in ( \
             select id from outbox \
             where (state = 'pending' and next_attempt_at <= now()) \
                or (state = 'sending' and (claimed_until < now() \
                    or (claimed_presence is not null \
                        and claimed_presence not in (select key from present_worker)))) \
             order by id limit $3 for update skip locked) \
         returning id, session_id, event, channel, message, attempts as attempt, claims as claim, version",
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .bind(limit)
    .bind(presence)
    .fetch_all(pool)
    .await?;
    let mut posts: Vec<ClaimedPost> = posts;

    // `returning` keeps no order: deliver in the order things happened.
    posts.sort_by_key(|p| p.id);
    Ok(posts)
}

/// Claims one post by its key while it is still pending, held or not: the
/// caller that wrote it delivers it at once, and the scheduler is left with
/// it only if that fails. `None` when it is not pending (already taken or delivered).
pub async fn claim_event(
    pool: &PgPool,
    worker: &str,
    lease: Duration,
    session_id: i64,
    event: &str,
    version: i32,
) -> Result<Option<ClaimedPost>, StoreError> {
    let post = sqlx::query_as(
        "update outbox set state = 'sending', attempts = attempts + 1, claims = claims + 1, \
             claimed_by = $1, claimed_presence = null, claimed_until = now() + make_interval(secs => $2) \
         where id = ( \
             select id from outbox \
             where session_id = $3 and event = $4 and version = $5 and state = 'pending' \
             for update skip locked) \
         returning id, session_id, event, channel, message, attempts as attempt, claims as claim, version",
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .bind(session_id)
    .bind(event)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    Ok(post)
}

/// Records where the chat put the post. False when this claim no longer owns it.
pub async fn sent(
    pool: &PgPool,
    id: i64,
    claim: i64,
    posted_channel: &str,
    posted_message: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update outbox set state = 'sent', sent_at = now(), posted_channel = $3, \
             posted_message = $4, claimed_until = null, last_error = null \
         where id = $1 and claims = $2 and state = 'sending'",
    )
    .bind(id)
    .bind(claim)
    .bind(posted_channel)
    .bind(posted_message)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts the post back to be tried again after `delay`.
pub async fn retry_later(
    pool: &PgPool,
    id: i64,
    claim: i64,
    delay: Duration,
    error: &str,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "update outbox set state = 'pending', next_attempt_at = now() + make_interval(secs => $3), \
             last_error = $4, claimed_by = null, claimed_presence = null, claimed_until = null \
         where id = $1 and claims = $2 and state = 'sending'",
    )
    .bind(id)
    .bind(claim)
    .bind(delay.as_secs_f64())
    .bind(error)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// The chat refused the post for good: keep it, with why, and stop trying.
pub async fn refused(pool: &PgPool, id: i64, claim: i64, error: &str) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "update outbox set state = 'refused', last_error = $3, claimed_until = null \
         where id = $1 and claims = $2 and state = 'sending'",
    )
    .bind(id)
    .bind(claim)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// On graceful shutdown: hands this worker's posts back, to go out at once elsewhere.
pub async fn release_all(pool: &PgPool, worker: &str) -> Result<u64, StoreError> {
    let released = sqlx::query(
        "update outbox set state = 'pending', next_attempt_at = least(next_attempt_at, now()), \
             claimed_by = null, claimed_presence = null, claimed_until = null \
         where claimed_by = $1 and state = 'sending'",
    )
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(released.rows_affected())
}
