//! The `guard_override` table: what an approver allowed against a money
//! guard (`domain::guards::GuardOverride`), with who, when and why.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::StoreError;
use crate::domain::guards::GuardOverride;
use crate::domain::{Actor, Currency, DiscountPercent, Money, Sku};

/// One override as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRecord {
    pub covers: GuardOverride,
    pub reason: String,
    pub actor_name: String,
    pub at: DateTime<Utc>,
}

/// Records an override for `session_id`, in the caller's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    session_id: i64,
    covers: &GuardOverride,
    reason: &str,
    actor: &Actor,
) -> Result<(), StoreError> {
    let (sku, discount, giveaway) = match covers {
        GuardOverride::Line { sku, discount } => {
            (Some(sku.as_str()), Some(i16::from(discount.get())), None)
        }
        GuardOverride::Budget { giveaway } => (None, None, Some(giveaway.minor())),
    };
    sqlx::query(
        "insert into guard_override
             (session_id, sku, discount_percent, giveaway_minor, reason, actor_id, actor_name)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(session_id)
    .bind(sku)
    .bind(discount)
    .bind(giveaway)
    .bind(reason)
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .execute(conn)
    .await?;
    Ok(())
}

/// sku, discount_percent, giveaway_minor, reason, actor_name, at.
type OverrideRow = (
    Option<String>,
    Option<i16>,
    Option<i64>,
    String,
    String,
    DateTime<Utc>,
);

/// The session's overrides, oldest first.
pub async fn list(
    conn: &mut PgConnection,
    session_id: i64,
    currency: &Currency,
) -> Result<Vec<OverrideRecord>, StoreError> {
    let rows: Vec<OverrideRow> = sqlx::query_as(
        "select sku, discount_percent, giveaway_minor, reason, actor_name, at
         from guard_override where session_id = $1 order by at, id",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(sku, discount, giveaway, reason, actor_name, at)| {
            let covers = match (sku, discount, giveaway) {
                (Some(sku), Some(discount), None) => GuardOverride::Line {
                    sku: Sku::from_canonical(sku),
                    discount: DiscountPercent::new(i64::from(discount)).map_err(|e| {
                        StoreError::Corrupt(format!("guard_override.discount_percent: {e}"))
                    })?,
                },
                (None, None, Some(minor)) => GuardOverride::Budget {
                    giveaway: Money::from_minor(minor, currency.clone()),
                },
                _ => {
                    return Err(StoreError::Corrupt(format!(
                        "guard_override of session {session_id} is neither a line nor the budget"
                    )))
                }
            };
            Ok(OverrideRecord {
                covers,
                reason,
                actor_name,
                at,
            })
        })
        .collect()
}

/// How many overrides were given within the last `within`, by the database's
/// clock: the clock that stamped them (`at` defaults to `now()`).
pub async fn count_within(conn: &mut PgConnection, within: Duration) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("select count(*) from guard_override where at >= now() - $1")
            .bind(within)
            .fetch_one(conn)
            .await?,
    )
}
