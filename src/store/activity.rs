//! The append-only `activity` table: who did what to which session.
//!
//! There is deliberately no update or delete here; the database refuses both
//! with a trigger, so the log stays trustworthy even against a careless query.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::StoreError;
use crate::domain::{Actor, ActorId};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ActivityRecord {
    pub id: i64,
    pub session_id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub details: Value,
}

pub async fn append(
    conn: &mut PgConnection,
    session_id: i64,
    actor: &Actor,
    action: &str,
    details: Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into activity (session_id, actor_id, actor_name, action, details) values ($1, $2, $3, $4, $5)",
    )
    .bind(session_id)
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .bind(action)
    .bind(details)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many entries of `action` the session's log holds.
pub async fn count_of(
    conn: &mut PgConnection,
    session_id: i64,
    action: &str,
) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("select count(*) from activity where session_id = $1 and action = $2")
            .bind(session_id)
            .bind(action)
            .fetch_one(conn)
            .await?,
    )
}

/// A page of a session's log, oldest first.
pub async fn list(
    conn: &mut PgConnection,
    session_id: i64,
    offset: i64,
    limit: i64,
) -> Result<Vec<ActivityRecord>, StoreError> {
    let records = sqlx::query_as(
        "select id, session_id, at, actor_id, actor_name, action, details from activity \
         where session_id = $1 order by id offset $2 limit $3",
    )
    .bind(session_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(records)
}

pub async fn count(conn: &mut PgConnection, session_id: i64) -> Result<i64, StoreError> {
    let n = sqlx::query_scalar("select count(*) from activity where session_id = $1")
        .bind(session_id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// Everyone who shaped the session's content: the four-eyes check refuses
/// them as approvers. Read from the log, so an editor whose item was later
/// removed still counts.
pub async fn editors(
    conn: &mut PgConnection,
    session_id: i64,
    editing_actions: &[&str],
) -> Result<Vec<ActorId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "select distinct actor_id from activity where session_id = $1 and action = any($2)",
    )
    .bind(session_id)
    .bind(editing_actions)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(ActorId::from_stored).collect())
}

/// The whole log of a session, oldest first (for an export; a session's log
/// is tens of entries, not thousands).
pub async fn list_all(
    conn: &mut PgConnection,
    session_id: i64,
) -> Result<Vec<ActivityRecord>, StoreError> {
    let records = sqlx::query_as(
        "select id, session_id, at, actor_id, actor_name, action, details from activity \
         where session_id = $1 order by id",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    Ok(records)
}
