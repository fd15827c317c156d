//! The `session_item` table: the (at most six) SKUs of a session.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{violated_constraint, StoreError};
use crate::domain::{ActorId, DiscountPercent, RuleViolation, Sku, MAX_ITEMS};

/// An item as stored, with the catalog facts captured when it was validated.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemRecord {
    pub session_id: i64,
    pub slot: i16,
    pub sku: String,
    pub discount_percent: i16,
    pub quantity: i32,
    pub product_name: String,
    pub base_price_minor: i64,
    pub stock_seen: i64,
    pub added_by: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// What a use case writes for one item.
#[derive(Debug, Clone)]
pub struct ItemWrite<'a> {
    pub sku: &'a Sku,
    pub discount: DiscountPercent,
    pub quantity: u32,
    pub product_name: &'a str,
    pub base_price_minor: i64,
    pub stock_seen: i64,
    pub by: &'a ActorId,
}

// A macro, not a const, so queries stay string literals (`concat!`): sqlx
// refuses dynamic SQL strings.
macro_rules! item_columns {
    () => {
        "session_id, slot, sku, discount_percent, quantity, product_name, \
     base_price_minor, stock_seen, added_by, updated_by, updated_at"
    };
}

/// The session's items in slot order.
pub async fn list(conn: &mut PgConnection, session_id: i64) -> Result<Vec<ItemRecord>, StoreError> {
    let items = sqlx::query_as(concat!(
        "select ",
        item_columns!(),
        " from session_item where session_id = $1 order by slot"
    ))
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    Ok(items)
}

/// Inserts into the lowest free slot. The caller holds the session lock and has
/// checked the rules; the constraints still turn a lost race into the rule it
/// broke rather than an internal error.
pub async fn insert(
    conn: &mut PgConnection,
    session_id: i64,
    item: &ItemWrite<'_>,
) -> Result<ItemRecord, StoreError> {
    let result = sqlx::query_as(concat!("insert into session_item (session_id, slot, sku, discount_percent, quantity, product_name, \
             base_price_minor, stock_seen, added_by, updated_by) \
         select $1, free.slot, $2, $3, $4, $5, $6, $7, $8, $8 \
         from (select s.slot from generate_series(1, $9) as s(slot) \
               where not exists (select 1 from session_item i where i.session_id = $1 and i.slot = s.slot) \
               order by s.slot limit 1) as free \
         returning ", item_columns!()))
    .bind(session_id)
    .bind(item.sku.as_str())
    .bind(i16::from(item.discount.get()))
    .bind(quantity_column(item.quantity)?)
    .bind(item.product_name)
    .bind(item.base_price_minor)
    .bind(item.stock_seen)
    .bind(item.by.as_str())
    .bind(MAX_ITEMS as i32)
    .fetch_optional(conn)
    .await;
    match result {
        Ok(Some(record)) => Ok(record),
        // No free slot: the session already holds six.
        Ok(None) => Err(RuleViolation::SessionFull { max: MAX_ITEMS }.into()),
        Err(e) => Err(map_violation(e, item.sku)),
    }
}

/// Replaces discount, quantity and the catalog facts of one SKU.
pub async fn update(
    conn: &mut PgConnection,
    session_id: i64,
    item: &ItemWrite<'_>,
) -> Result<ItemRecord, StoreError> {
    let record = sqlx::query_as(concat!(
        "update session_item set discount_percent = $3, quantity = $4, product_name = $5, \
             base_price_minor = $6, stock_seen = $7, updated_by = $8, updated_at = now() \
         where session_id = $1 and sku = $2 returning ",
        item_columns!()
    ))
    .bind(session_id)
    .bind(item.sku.as_str())
    .bind(i16::from(item.discount.get()))
    .bind(quantity_column(item.quantity)?)
    .bind(item.product_name)
    .bind(item.base_price_minor)
    .bind(item.stock_seen)
    .bind(item.by.as_str())
    .fetch_optional(conn)
    .await?;
    record.ok_or_else(|| {
        RuleViolation::ItemNotInSession {
            sku: item.sku.to_string(),
        }
        .into()
    })
}

pub async fn delete(
    conn: &mut PgConnection,
    session_id: i64,
    sku: &Sku,
) -> Result<ItemRecord, StoreError> {
    let record = sqlx::query_as(concat!(
        "delete from session_item where session_id = $1 and sku = $2 returning ",
        item_columns!()
    ))
    .bind(session_id)
    .bind(sku.as_str())
    .fetch_optional(conn)
    .await?;
    record.ok_or_else(|| {
        RuleViolation::ItemNotInSession {
            sku: sku.to_string(),
        }
        .into()
    })
}

fn quantity_column(quantity: u32) -> Result<i32, StoreError> {
    i32::try_from(quantity)
        .map_err(|_| StoreError::Corrupt(format!("quantity {quantity} exceeds the column")))
}

fn map_violation(e: sqlx::Error, sku: &Sku) -> StoreError {
    match violated_constraint(&e) {
        Some("session_item_unique_sku") => RuleViolation::DuplicateSku {
            sku: sku.to_string(),
        }
        .into(),
        Some("session_item_pkey") | Some("session_item_slot_range") => {
            RuleViolation::SessionFull { max: MAX_ITEMS }.into()
        }
        _ => e.into(),
    }
}

/// Inserts several items in order, each into the lowest free slot, on the
/// caller's transaction (an import writes all of a file's rows or none).
/// A broken rule stops at the first item and, with the rollback, undoes the rest.
pub async fn insert_all(
    conn: &mut PgConnection,
    session_id: i64,
    items: &[ItemWrite<'_>],
) -> Result<Vec<ItemRecord>, StoreError> {
    let mut records = Vec::with_capacity(items.len());
    for item in items {
        records.push(insert(&mut *conn, session_id, item).await?);
    }
    Ok(records)
}
