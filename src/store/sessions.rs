//! The `session` table.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::{violated_constraint, StoreError};
use crate::domain::{Actor, ActorId, RuleViolation, Status, Window};

/// A session as stored, with its status parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: i64,
    pub title: String,
    pub window: Window,
    pub status: Status,
    pub version: i32,
    pub created_by: ActorId,
    pub created_by_name: String,
    pub submitted_by: Option<ActorId>,
    /// The submitter's display name when they submitted.
    pub submitted_by_name: Option<String>,
    pub approved_by: Option<ActorId>,
    pub rejection_reason: Option<String>,
    pub notes: Option<String>,
    /// Where the approval card was posted (platform channel and message ids).
    pub card: Option<(String, String)>,
    /// When the status became ended (by the database's clock): before
    /// `window.ends_at()` when an approver stopped the sale early.
    pub ended_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    title: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    status: String,
    version: i32,
    created_by: String,
    created_by_name: String,
    submitted_by: Option<String>,
    submitted_by_name: Option<String>,
    approved_by: Option<String>,
    rejection_reason: Option<String>,
    notes: Option<String>,
    card_channel: Option<String>,
    card_message: Option<String>,
    ended_at: Option<DateTime<Utc>>,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        let status = Status::from_stored(&row.status).ok_or_else(|| {
            StoreError::Corrupt(format!("session {} has status {:?}", row.id, row.status))
        })?;
        Ok(SessionRecord {
            id: row.id,
            title: row.title,
            window: Window::from_stored(row.starts_at, row.ends_at),
            status,
            version: row.version,
            created_by: ActorId::from_stored(row.created_by),
            created_by_name: row.created_by_name,
            submitted_by: row.submitted_by.map(ActorId::from_stored),
            submitted_by_name: row.submitted_by_name,
            approved_by: row.approved_by.map(ActorId::from_stored),
            rejection_reason: row.rejection_reason,
            notes: row.notes,
            card: row.card_channel.zip(row.card_message),
            ended_at: row.ended_at,
        })
    }
}

// A macro, not a const, so queries stay string literals (`concat!`): sqlx
// refuses dynamic SQL strings.
macro_rules! session_columns {
    () => {
        "id, title, starts_at, ends_at, status, version, created_by, \
     created_by_name, submitted_by, submitted_by_name, approved_by, rejection_reason, notes, \
         card_channel, card_message, ended_at"
    };
}

pub async fn insert(
    conn: &mut PgConnection,
    title: &str,
    window: &Window,
    notes: Option<&str>,
    creator: &Actor,
) -> Result<SessionRecord, StoreError> {
    let row: SessionRow = sqlx::query_as(concat!(
        "insert into session (title, starts_at, ends_at, notes, created_by, created_by_name) \
         values ($1, $2, $3, $4, $5, $6) returning ",
        session_columns!()
    ))
    .bind(title)
    .bind(window.starts_at())
    .bind(window.ends_at())
    .bind(notes)
    .bind(creator.id.as_str())
    .bind(&creator.name)
    .fetch_one(conn)
    .await?;
    row.try_into()
}

/// Locks the session row until the transaction ends: every mutation starts
/// here, so two editors racing on one session are served one after the other.
pub async fn lock(conn: &mut PgConnection, id: i64) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<SessionRow> = sqlx::query_as(concat!(
        "select ",
        session_columns!(),
        " from session where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(SessionRecord::try_from).transpose()
}

pub async fn get(conn: &mut PgConnection, id: i64) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<SessionRow> = sqlx::query_as(concat!(
        "select ",
        session_columns!(),
        " from session where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(SessionRecord::try_from).transpose()
}

/// What a status change writes besides the status itself.
#[derive(Debug, Default)]
pub struct StatusChange<'a> {
    pub submitted_by: Option<&'a ActorId>,
    /// Set together with `submitted_by`: the name the submitter had then.
    pub submitted_by_name: Option<&'a str>,
    pub approved_by: Option<&'a ActorId>,
    /// `Some(None)` clears the last rejection reason; `None` leaves it.
    pub rejection_reason: Option<Option<&'a str>>,
}

/// Records that an approver asked to stop the live sale: from now on its
/// sale must be down (`domain::sale`). True for the first stop; a later one
/// keeps the first time.
pub async fn request_stop(conn: &mut PgConnection, id: i64) -> Result<bool, StoreError> {
    let first = sqlx::query(
        "update session set stop_requested_at = now(), updated_at = now() \
         where id = $1 and stop_requested_at is null",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(first.rows_affected() == 1)
}

/// Sets the status and bumps the version. Going back to draft forgets the
/// approver (the approval no longer holds). The exclusion constraint on
/// approved/live windows is mapped to `RuleViolation::Overlap`.
pub async fn set_status(
    conn: &mut PgConnection,
    id: i64,
    status: Status,
    change: StatusChange<'_>,
) -> Result<i32, StoreError> {
    let result = sqlx::query_scalar(
        "update session set status = $2, version = version + 1, updated_at = now(), \
             submitted_by = coalesce($3, submitted_by), \
             submitted_by_name = case when $3 is null then submitted_by_name else $7 end, \
             approved_by = case when $2 = 'approved' then $4 \
                                when $2 in ('draft', 'pending_approval') then null \
                                else approved_by end, \
             rejection_reason = case when $5 then $6 else rejection_reason end, \
             ended_at = case when $2 = 'ended' then now() else ended_at end \
         where id = $1 returning version",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(change.submitted_by.map(ActorId::as_str))
    .bind(change.approved_by.map(ActorId::as_str))
    .bind(change.rejection_reason.is_some())
    .bind(change.rejection_reason.flatten())
    .bind(change.submitted_by_name)
    .fetch_one(&mut *conn)
    .await;
    match result {
        Ok(version) => Ok(version),
        Err(e) if violated_constraint(&e) == Some("session_no_overlap_when_approved") => {
            // Lost a race against a concurrent approval the earlier check could not see.
            Err(RuleViolation::Overlap {
                other: "another session".to_owned(),
                state: "approved or live".to_owned(),
                free: "Look at the calendar (list) for a free time and move this one.".to_owned(),
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The approval card as the session knows it: where it is, what it shows,
/// and whether the chat has lost it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    pub channel: String,
    pub message: String,
    /// The status and version the card was last drawn with (`None` when an
    /// older release drew it and did not say).
    pub shows: (Option<Status>, Option<i32>),
    /// Set when the chat refused an edit of this card for good (the message
    /// is gone, or the bot may no longer touch it): never edit it again.
    pub lost: bool,
}

impl CardRecord {
    /// Whether the card shows another status or version than the session has.
    pub fn behind(&self, status: Status, version: i32) -> bool {
        self.shows != (Some(status), Some(version))
    }
}

#[derive(sqlx::FromRow)]
struct CardRow {
    card_channel: Option<String>,
    card_message: Option<String>,
    card_status: Option<String>,
    card_version: Option<i32>,
    lost: bool,
}

/// The session's approval card, if one was ever posted.
pub async fn card(conn: &mut PgConnection, id: i64) -> Result<Option<CardRecord>, StoreError> {
    let row: Option<CardRow> = sqlx::query_as(
        "select card_channel, card_message, card_status, card_version, \
                card_lost_at is not null as lost \
         from session where id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let Some(CardRow {
        card_channel: Some(channel),
        card_message: Some(message),
        card_status,
        card_version,
        lost,
    }) = row
    else {
        return Ok(None);
    };
    let status = match card_status {
        Some(stored) => Some(Status::from_stored(&stored).ok_or_else(|| {
            StoreError::Corrupt(format!("session {id}'s card shows status {stored:?}"))
        })?),
        None => None,
    };
    Ok(Some(CardRecord {
        channel,
        message,
        shows: (status, card_version),
        lost,
    }))
}

/// Remembers where a new approval card was posted and what it shows, so
/// later changes edit it; a card lost before is forgotten with it.
pub async fn set_card(
    conn: &mut PgConnection,
    id: i64,
    channel: &str,
    message: &str,
    shows: (Status, i32),
) -> Result<(), StoreError> {
    sqlx::query(
        "update session set card_channel = $2, card_message = $3, card_status = $4, \
             card_version = $5, card_lost_at = null, card_lost_reason = null \
         where id = $1",
    )
    .bind(id)
    .bind(channel)
    .bind(message)
    .bind(shows.0.as_str())
    .bind(shows.1)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records what the card `message` shows after an edit. Nothing when the
/// session has another card by now (a fresh one replaced it).
pub async fn set_card_shows(
    conn: &mut PgConnection,
    id: i64,
    message: &str,
    shows: (Status, i32),
) -> Result<(), StoreError> {
    sqlx::query(
        "update session set card_status = $3, card_version = $4 \
         where id = $1 and card_message = $2",
    )
    .bind(id)
    .bind(message)
    .bind(shows.0.as_str())
    .bind(shows.1)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that the chat refused an edit of the card `message` for good.
/// Nothing when the session has another card by now.
pub async fn set_card_lost(
    conn: &mut PgConnection,
    id: i64,
    message: &str,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "update session set card_lost_at = now(), card_lost_reason = $3 \
         where id = $1 and card_message = $2",
    )
    .bind(id)
    .bind(message)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stale-card scan: sessions whose card shows another status or version
/// than the session has, changed more than `$1` seconds ago, oldest change
/// first, at most `$2`. Its `where` repeats the predicate of the partial index
/// `session_card_behind` (migration 20261205000002) word for word, so each
/// round reads only the cards that are behind, not the whole table; lost
/// cards are not in it, so they neither loop nor hold newer ones back.
/// Public so that a test can check its plan.
pub const STALE_CARDS: &str = "select id from session \
     where card_message is not null and card_lost_at is null \
       and (card_status is distinct from status or card_version is distinct from version) \
       and updated_at < now() - make_interval(secs => $1) \
     order by updated_at limit $2";

/// Sessions whose approval card is behind (`STALE_CARDS`), last changed more
/// than `grace` ago (a change's own edit follows it at once; only one the
/// chat did not take is left behind).
pub async fn stale_cards(
    conn: &mut PgConnection,
    grace: std::time::Duration,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(STALE_CARDS)
        .bind(grace.as_secs_f64())
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// Records that the session's content changed (its items), so cards showing
/// an older version are recognised as stale.
pub async fn bump_version(conn: &mut PgConnection, id: i64) -> Result<i32, StoreError> {
    let version =
        sqlx::query_scalar("update session set version = version + 1, updated_at = now() where id = $1 returning version")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(version)
}

/// Records an edit of the session's items: bumps the version (cards showing an
/// older one are then recognised as stale) and appends the activity entry, in
/// one statement, so an edit pays one round trip for both. Returns the session
/// as it now stands. The caller holds the session lock.
pub async fn record_edit(
    conn: &mut PgConnection,
    id: i64,
    actor: &Actor,
    action: &str,
    details: Value,
) -> Result<SessionRecord, StoreError> {
    let row: SessionRow = sqlx::query_as(concat!(
        "with edited as (update session set version = version + 1, updated_at = now() \
                         where id = $1 returning ",
        session_columns!(),
        "), logged as (insert into activity (session_id, actor_id, actor_name, action, details) \
                       select id, $2, $3, $4, $5 from edited) \
         select ",
        session_columns!(),
        " from edited"
    ))
    .bind(id)
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .bind(action)
    .bind(details)
    .fetch_one(conn)
    .await?;
    row.try_into()
}

/// An approved or live session's window: time the storefront has promised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub id: i64,
    pub title: String,
    pub status: Status,
    pub window: Window,
}

/// id, title, status, starts_at, ends_at.
type TakenRow = (i64, String, String, DateTime<Utc>, DateTime<Utc>);

/// Approved or live sessions other than `id` whose windows come within
/// `margin` of `window`, earliest first: those it overlaps, and the
/// neighbours a free window next to them must also avoid.
pub async fn taken_near(
    conn: &mut PgConnection,
    id: i64,
    window: &Window,
    margin: chrono::Duration,
) -> Result<Vec<Taken>, StoreError> {
    let rows: Vec<TakenRow> = sqlx::query_as(
        "select id, title, status, starts_at, ends_at from session \
         where id <> $1 and status in ('approved', 'live') \
           and tstzrange(starts_at, ends_at, '[)') && tstzrange($2, $3, '[)') \
         order by starts_at",
    )
    .bind(id)
    .bind(window.starts_at() - margin)
    .bind(window.ends_at() + margin)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, title, status, starts_at, ends_at)| {
            let status = Status::from_stored(&status).ok_or_else(|| {
                StoreError::Corrupt(format!("session {id} has status {status:?}"))
            })?;
            Ok(Taken {
                id,
                title,
                status,
                window: Window::from_stored(starts_at, ends_at),
            })
        })
        .collect()
}

/// A session for a list, with how many items it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub session: SessionRecord,
    pub item_count: i64,
}

/// How many sessions `list_between` would find without a limit.
pub async fn count_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_final: bool,
) -> Result<i64, StoreError> {
    let count = sqlx::query_scalar(
        "select count(*) from session s \
         where s.ends_at > $1 and s.starts_at < $2 \
           and ($3 or s.status not in ('ended', 'expired', 'cancelled', 'failed'))",
    )
    .bind(from)
    .bind(to)
    .bind(include_final)
    .fetch_one(conn)
    .await?;
    Ok(count)
}

/// The first `limit` sessions whose window intersects [from, to), earliest first.
pub async fn list_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    include_final: bool,
    limit: i64,
) -> Result<Vec<SessionSummary>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        session: SessionRow,
        item_count: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "select ",
        session_columns!(),
        ", (select count(*) from session_item i where i.session_id = s.id) as item_count \
         from session s \
         where s.ends_at > $1 and s.starts_at < $2 \
           and ($3 or s.status not in ('ended', 'expired', 'cancelled', 'failed')) \
         order by s.starts_at, s.id limit $4"
    ))
    .bind(from)
    .bind(to)
    .bind(include_final)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(SessionSummary {
                session: r.session.try_into()?,
                item_count: r.item_count,
            })
        })
        .collect()
}
