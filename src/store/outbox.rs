//! The `outbox` table: channel posts that report a state change, waiting to
//! be delivered.
//!
//! A post is written by `enqueue` in the same transaction as the change it
//! reports, under a unique key (session, event, version), so the change and
//! its announcement commit together and a retried job cannot write a second
//! one. Delivery works like the jobs table: the outbox is a held queue
//! (`store::queue`), its rows claimed with `FOR UPDATE SKIP LOCKED`, a lease
//! and a claim counter that fences the outcome, so any number of replicas
//! deliver each post once. A post whose delivery failed goes back to
//! `pending` with a backoff; one the chat refused for good (too long, unknown
//! channel) is kept as `refused`.
//!
//! Posts are claimed one at a time (`claim_due`; reminder lines due
//! together as one group), each with its own lease that the deliverer renews
//! while the chat call runs (`renew`, every heartbeat): a slow post (a Slack
//! call may take up to 10 s) keeps
//! its claim for as long as its deliverer lives, and nobody else posts it
//! meanwhile; when the deliverer dies, its presence or the lease frees it.
//! Claiming one at a time also keeps a session's posts in the order they
//! were written: a post is taken only when no older post of its session
//! still waits or is being sent.
//!
//! A post about no one session (the daily digest, `enqueue_unattached`) has
//! no session and is keyed by its event alone.
//!
//! What remains is the moment between the chat call and `sent` being
//! written: a process that stops there leaves the chat holding a post the
//! outbox does not know went out. So each try is written down before the
//! chat call (`begin_post`: `posting_since`), and cleared when the chat
//! answers that it did not take the post (`retry_later`). A post claimed
//! again with its try still written down is *in doubt*
//! (`ClaimedPost::in_doubt`): where the chat drops a repeat (Discord's nonce
//! from the dedupe key `outbox:<id>`) it is posted again; where a repeat
//! would show twice (Slack, which offers nothing but reading channel
//! history to find it) it is kept as `unconfirmed` and approvers are told
//! (`app::outbox`). A chat call that ends without an answer (it timed out)
//! is the same doubt, settled the same way by its deliverer at once. Nothing
//! here asks the chat what it holds.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};

use super::queue::{Claim, ClaimedRow, Fence, Holder, NOTIFY_CHANNEL, OUTBOX};
use super::StoreError;

/// Which chat channel a post goes to, as the outbox stores it (`channel`,
/// which the table's check constraint holds to these two). `app` maps it to
/// and from the chat port's `Channel`: the store names no chat type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    Announcements,
    Approvals,
}

impl Destination {
    /// The stored name, which is also the name people read for it.
    pub fn as_stored(self) -> &'static str {
        match self {
            Destination::Announcements => "announcements",
            Destination::Approvals => "approvals",
        }
    }

    fn from_stored(stored: &str) -> Option<Destination> {
        match stored {
            "announcements" => Some(Destination::Announcements),
            "approvals" => Some(Destination::Approvals),
            _ => None,
        }
    }
}

/// What a post is, as far as delivering it cares, read from its key (`event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The approval card (`card`): where it lands is remembered.
    Card,
    /// A reminder line (`reminder:<minutes>`, its job's kind): the lines due
    /// together for one channel go out as one post.
    Reminder { minutes_before: i64 },
    /// Any other notice (`live`, `refused:17`, `digest:<date>`): a key, no more.
    Other(String),
}

impl Event {
    /// The stored key of the approval card.
    pub const CARD: &'static str = "card";
    /// What the stored key of a reminder line starts with.
    pub const REMINDER: &'static str = "reminder:";

    /// `None` for a reminder key whose minutes are not a number.
    fn from_stored(stored: &str) -> Option<Event> {
        if stored == Event::CARD {
            return Some(Event::Card);
        }
        match stored.strip_prefix(Event::REMINDER) {
            Some(minutes) => Some(Event::Reminder {
                minutes_before: minutes.parse().ok()?,
            }),
            None => Some(Event::Other(stored.to_owned())),
        }
    }
}

/// The key as stored.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Card => f.write_str(Event::CARD),
            Event::Reminder { minutes_before } => write!(f, "{}{minutes_before}", Event::REMINDER),
            Event::Other(key) => f.write_str(key),
        }
    }
}

/// The columns a claim returns, as `ClaimedPost` reads them.
const POST: &str =
    "id, session_id, event, channel, message, attempts as attempt, claims as claim, \
                    version, posting_since is not null as in_doubt";

/// A post taken for delivery by this worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedPost {
    pub id: i64,
    /// `None` for a post about no one session (the daily digest).
    pub session_id: Option<i64>,
    pub event: Event,
    pub channel: Destination,
    pub message: serde_json::Value,
    /// Deliveries tried so far, this one included (drives the backoff).
    pub attempt: i32,
    /// The fencing token of this claim.
    pub claim: i64,
    /// The session version the post was written at.
    pub version: i32,
    /// An earlier try reached the chat call and nobody recorded its outcome
    /// (its process stopped mid-call): the chat may have the post already.
    pub in_doubt: bool,
}

impl ClaimedPost {
    /// The right to record this claim's outcome.
    pub fn fence(&self) -> Fence {
        Fence {
            id: self.id,
            token: self.claim,
        }
    }
}

/// A claimed post as the claim returns it, its key and channel as stored.
#[derive(sqlx::FromRow)]
struct PostRow {
    id: i64,
    session_id: Option<i64>,
    event: String,
    channel: String,
    message: serde_json::Value,
    attempt: i32,
    claim: i64,
    version: i32,
    in_doubt: bool,
}

impl ClaimedRow for PostRow {
    type Read = ClaimedPost;

    fn fence(&self) -> Fence {
        Fence {
            id: self.id,
            token: self.claim,
        }
    }

    fn read(self) -> Result<ClaimedPost, StoreError> {
        let id = self.id;
        let unknown = |column, value| StoreError::Unknown {
            table: "outbox",
            id,
            column,
            value,
        };
        let Some(channel) = Destination::from_stored(&self.channel) else {
            return Err(unknown("channel", self.channel));
        };
        let Some(event) = Event::from_stored(&self.event) else {
            return Err(unknown("event", self.event));
        };
        Ok(ClaimedPost {
            id: self.id,
            session_id: self.session_id,
            event,
            channel,
            message: self.message,
            attempt: self.attempt,
            claim: self.claim,
            version: self.version,
            in_doubt: self.in_doubt,
        })
    }
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
    channel: Destination,
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
    .bind(channel.as_stored())
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

/// Writes a post about no one session (the daily digest), keyed by `event`
/// alone; a post already written under it is left as it is. Returns whether
/// this call wrote it.
pub async fn enqueue_unattached(
    conn: &mut PgConnection,
    event: &str,
    channel: Destination,
    message: &serde_json::Value,
) -> Result<bool, StoreError> {
    let written = sqlx::query(
        "insert into outbox (session_id, event, version, channel, message) \
         values (null, $1, 0, $2, $3) on conflict do nothing",
    )
    .bind(event)
    .bind(channel.as_stored())
    .bind(message)
    .execute(&mut *conn)
    .await?;
    sqlx::query("select pg_notify($1, 'outbox')")
        .bind(NOTIFY_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(written.rows_affected() == 1)
}

/// Which rows of `outbox o` a deliverer may take: claimable ones (due, or
/// their deliverer gone: `Queue::claimable`), and of those only the oldest
/// waiting post of its session, so a session's posts go out in the order
/// they were written (posts without a session wait for nobody). The index
/// `outbox_waiting_by_session` answers "does an older one wait?".
fn deliverable() -> &'static str {
    static DELIVERABLE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{} and not exists (select 1 from outbox e \
                 where e.session_id = o.session_id and e.id < o.id \
                   and e.state in ('pending', 'sending'))",
            OUTBOX.claimable("o", "now()")
        )
    });
    DELIVERABLE.as_str()
}

/// Claims the next post due, oldest first, with a lease of its own: the
/// caller delivers it and renews the lease every heartbeat while it does
/// (`renew`). A reminder line comes with the other reminder lines due for the
/// same channel (at most `group_limit` rows), which go out as one post.
/// Empty when nothing is due.
///
/// The rows are chosen and locked first (`for update skip locked`), then
/// taken, in one transaction: which reminder lines come along depends on
/// the first post.
pub async fn claim_due(
    pool: &PgPool,
    worker: &str,
    presence: Option<i32>,
    lease: Duration,
    group_limit: i64,
) -> Result<Vec<ClaimedPost>, StoreError> {
    static HEAD: LazyLock<String> = LazyLock::new(|| {
        format!(
            "select o.id, o.event, o.channel from outbox o where {} \
             order by o.id limit 1 for update of o skip locked",
            deliverable()
        )
    });
    static GROUP: LazyLock<String> = LazyLock::new(|| {
        format!(
            "select o.id from outbox o where {} \
               and o.event like 'reminder:%' and o.channel = $1 and o.id > $2 \
             order by o.id limit $3 for update of o skip locked",
            deliverable()
        )
    });
    static TAKE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "update outbox set {} where id = any($4) returning {POST}",
            OUTBOX.take()
        )
    });
    let mut tx = pool.begin().await?;
    let head: Option<(i64, String, String)> = sqlx::query_as(HEAD.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let Some((head, event, channel)) = head else {
        return Ok(Vec::new());
    };
    let mut ids = vec![head];
    if event.starts_with(Event::REMINDER) {
        let others: Vec<i64> = sqlx::query_scalar(GROUP.as_str())
            .bind(&channel)
            .bind(head)
            .bind(group_limit.saturating_sub(1))
            .fetch_all(&mut *tx)
            .await?;
        ids.extend(others);
    }
    let holder = Holder {
        worker,
        presence,
        lease,
    };
    let mut rows: Vec<PostRow> = holder
        .bind(sqlx::query_as(TAKE.as_str()))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    // `returning` keeps no order: deliver in the order things happened.
    rows.sort_by_key(|p| p.id);
    Ok(OUTBOX.read_claimed(pool, rows).await)
}

/// Renews the lease of posts this worker is delivering, each under its own
/// claim. Returns how many it still owned: fewer than asked means another
/// worker took some over (a lease ran out under a stalled process).
pub async fn renew(pool: &PgPool, posts: &[Fence], lease: Duration) -> Result<u64, StoreError> {
    OUTBOX.renew(pool, posts, lease).await
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
    static CLAIM: LazyLock<String> = LazyLock::new(|| {
        Claim {
            with: "",
            table: "outbox",
            key: "id",
            take: &OUTBOX.take(),
            pick: "select id from outbox \
                   where session_id = $4 and event = $5 and version = $6 and state = 'pending'",
            returning: POST,
        }
        .statement()
    });
    let row: Option<PostRow> = writer(worker, lease)
        .bind(sqlx::query_as(CLAIM.as_str()))
        .bind(session_id)
        .bind(event)
        .bind(version)
        .fetch_optional(pool)
        .await?;
    Ok(OUTBOX.read_claimed(pool, Vec::from_iter(row)).await.pop())
}

/// As `claim_event`, for a post about no one session (`enqueue_unattached`).
pub async fn claim_unattached(
    pool: &PgPool,
    worker: &str,
    lease: Duration,
    event: &str,
) -> Result<Option<ClaimedPost>, StoreError> {
    static CLAIM: LazyLock<String> = LazyLock::new(|| {
        Claim {
            with: "",
            table: "outbox",
            key: "id",
            take: &OUTBOX.take(),
            pick: "select id from outbox \
                   where session_id is null and event = $4 and state = 'pending'",
            returning: POST,
        }
        .statement()
    });
    let row: Option<PostRow> = writer(worker, lease)
        .bind(sqlx::query_as(CLAIM.as_str()))
        .bind(event)
        .fetch_optional(pool)
        .await?;
    Ok(OUTBOX.read_claimed(pool, Vec::from_iter(row)).await.pop())
}

/// Who claims a post it wrote itself: no presence key (it is no scheduler),
/// so only the lease protects the claim.
fn writer(worker: &str, lease: Duration) -> Holder<'_> {
    Holder {
        worker,
        presence: None,
        lease,
    }
}

/// Writes down that this claim's try is about to call the chat, just before
/// it does: if the process stops before the outcome is recorded, the next
/// claim finds the post in doubt. False when this claim no longer owns it
/// (then it must not post).
pub async fn begin_post(pool: &PgPool, fence: Fence) -> Result<bool, StoreError> {
    static BEGIN: LazyLock<String> =
        LazyLock::new(|| OUTBOX.fenced_update("posting_since = now()"));
    let done = sqlx::query(BEGIN.as_str())
        .bind(fence.id)
        .bind(fence.token)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps a post in doubt as `unconfirmed`: the chat may show it or not, and
/// it is not tried again. In the caller's transaction, so the alert that
/// asks people to check commits with it. False when this claim no longer owns it.
pub async fn unconfirmed(
    conn: &mut PgConnection,
    fence: Fence,
    why: &str,
) -> Result<bool, StoreError> {
    static UNCONFIRMED: LazyLock<String> = LazyLock::new(|| {
        OUTBOX.fenced_update("state = 'unconfirmed', last_error = $3, claimed_until = null")
    });
    let done = sqlx::query(UNCONFIRMED.as_str())
        .bind(fence.id)
        .bind(fence.token)
        .bind(why)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records where the chat put the post. False when this claim no longer owns it.
pub async fn sent(
    pool: &PgPool,
    fence: Fence,
    posted_channel: &str,
    posted_message: &str,
) -> Result<bool, StoreError> {
    static SENT: LazyLock<String> = LazyLock::new(|| {
        OUTBOX.fenced_update(
            "state = 'sent', sent_at = now(), posted_channel = $3, posted_message = $4, \
             claimed_until = null, last_error = null",
        )
    });
    let done = sqlx::query(SENT.as_str())
        .bind(fence.id)
        .bind(fence.token)
        .bind(posted_channel)
        .bind(posted_message)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts the post back to be tried again after `delay`.
pub async fn retry_later(
    pool: &PgPool,
    fence: Fence,
    delay: Duration,
    error: &str,
) -> Result<bool, StoreError> {
    OUTBOX.retry_later(pool, fence, delay, error).await
}

/// The chat refused the post for good: keep it, with why, and stop trying.
/// In the caller's transaction, so the alert that tells of it commits with it.
pub async fn refused(
    conn: &mut PgConnection,
    fence: Fence,
    error: &str,
) -> Result<bool, StoreError> {
    OUTBOX.give_up(conn, fence, error).await
}

/// On graceful shutdown: hands this worker's posts back, to go out at once elsewhere.
pub async fn release_all(pool: &PgPool, worker: &str) -> Result<u64, StoreError> {
    OUTBOX.release_all(pool, worker).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: &str, channel: &str) -> PostRow {
        PostRow {
            id: 7,
            session_id: Some(3),
            event: event.to_owned(),
            channel: channel.to_owned(),
            message: serde_json::json!({}),
            attempt: 1,
            claim: 4,
            version: 2,
            in_doubt: false,
        }
    }

    #[test]
    fn a_posts_key_and_channel_are_read_into_their_types() {
        let card = row("card", "approvals").read().unwrap();
        assert_eq!(
            (card.event, card.channel),
            (Event::Card, Destination::Approvals)
        );
        let reminder = row("reminder:60", "announcements").read().unwrap();
        assert_eq!(reminder.event, Event::Reminder { minutes_before: 60 });
        assert_eq!(reminder.event.to_string(), "reminder:60");
        let digest = row("digest:2026-12-05", "announcements").read().unwrap();
        assert_eq!(digest.event, Event::Other("digest:2026-12-05".to_owned()));
        assert_eq!(digest.event.to_string(), "digest:2026-12-05");
    }

    #[test]
    fn an_unknown_channel_or_reminder_is_a_typed_error_naming_the_row() {
        let Err(StoreError::Unknown {
            table,
            id,
            column,
            value,
        }) = row("live", "general").read()
        else {
            panic!("an unknown channel was read");
        };
        assert_eq!(
            (table, id, column, value.as_str()),
            ("outbox", 7, "channel", "general")
        );
        let error = row("reminder:soon", "announcements").read().unwrap_err();
        assert_eq!(
            error.to_string(),
            "stored data is not valid: outbox 7 has event \"reminder:soon\""
        );
    }
}
