//! The `session_item` table: the (at most six) SKUs of a session.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{violated_constraint, StoreError};
use crate::domain::{ActorId, DiscountPercent, Quantity, RuleViolation, Sku, MAX_ITEMS};

/// An item as stored, with the catalog facts captured when it was validated.
/// Its values are the domain's types: a row the constraints should have kept
/// out (a discount of 0, say) is reported as `StoreError::Corrupt` when read,
/// so nothing above the store ever holds an invalid item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    pub session_id: i64,
    pub slot: i16,
    pub sku: Sku,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
    pub product_name: String,
    pub base_price_minor: i64,
    pub stock_seen: i64,
    /// The money guards' facts when it was validated: the reference price
    /// (lowest of the reference period) and the unit cost, where known.
    pub reference_minor: Option<i64>,
    pub unit_cost_minor: Option<i64>,
    /// The guards' flags (suspicious, not refused), as people read them.
    pub guard_flags: Vec<String>,
    pub added_by: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// The columns as Postgres has them; parsed into an `ItemRecord` right away.
#[derive(sqlx::FromRow)]
struct ItemRow {
    session_id: i64,
    slot: i16,
    sku: String,
    discount_percent: i16,
    quantity: i32,
    product_name: String,
    base_price_minor: i64,
    stock_seen: i64,
    reference_minor: Option<i64>,
    unit_cost_minor: Option<i64>,
    guard_flags: Vec<String>,
    added_by: String,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ItemRow> for ItemRecord {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<ItemRecord, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!(
                "item {} of session {}: {what}",
                row.sku, row.session_id
            ))
        };
        let discount = DiscountPercent::new(i64::from(row.discount_percent))
            .map_err(|e| corrupt(e.to_string()))?;
        let quantity =
            Quantity::new(i64::from(row.quantity)).map_err(|e| corrupt(e.to_string()))?;
        Ok(ItemRecord {
            // Stored SKUs were canonical when written; re-parsing them with
            // today's SKU rules could refuse a sale that was valid when approved.
            sku: Sku::from_canonical(row.sku),
            session_id: row.session_id,
            slot: row.slot,
            discount,
            quantity,
            product_name: row.product_name,
            base_price_minor: row.base_price_minor,
            stock_seen: row.stock_seen,
            reference_minor: row.reference_minor,
            unit_cost_minor: row.unit_cost_minor,
            guard_flags: row.guard_flags,
            added_by: row.added_by,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
        })
    }
}

fn parsed(row: Option<ItemRow>) -> Result<Option<ItemRecord>, StoreError> {
    row.map(ItemRecord::try_from).transpose()
}

/// What a use case writes for one item.
#[derive(Debug, Clone)]
pub struct ItemWrite<'a> {
    pub sku: &'a Sku,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
    pub product_name: &'a str,
    pub base_price_minor: i64,
    pub stock_seen: i64,
    pub reference_minor: Option<i64>,
    pub unit_cost_minor: Option<i64>,
    pub guard_flags: &'a [String],
    pub by: &'a ActorId,
}

// A macro, not a const, so queries stay string literals (`concat!`): sqlx
// refuses dynamic SQL strings.
macro_rules! item_columns {
    () => {
        "session_id, slot, sku, discount_percent, quantity, product_name, \
     base_price_minor, stock_seen, reference_minor, unit_cost_minor, guard_flags, \
     added_by, updated_by, updated_at"
    };
}

/// The session's items in slot order.
pub async fn list(conn: &mut PgConnection, session_id: i64) -> Result<Vec<ItemRecord>, StoreError> {
    let rows: Vec<ItemRow> = sqlx::query_as(concat!(
        "select ",
        item_columns!(),
        " from session_item where session_id = $1 order by slot"
    ))
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ItemRecord::try_from).collect()
}

/// Inserts into the lowest free slot. The caller holds the session lock and has
/// checked the rules; the constraints still turn a lost race into the rule it
/// broke rather than an internal error.
pub async fn insert(
    conn: &mut PgConnection,
    session_id: i64,
    item: &ItemWrite<'_>,
) -> Result<ItemRecord, StoreError> {
    let result: Result<Option<ItemRow>, _> = sqlx::query_as(concat!("insert into session_item (session_id, slot, sku, discount_percent, quantity, product_name, \
             base_price_minor, stock_seen, added_by, updated_by, reference_minor, unit_cost_minor, guard_flags) \
         select $1, free.slot, $2, $3, $4, $5, $6, $7, $8, $8, $10, $11, $12 \
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
    .bind(item.reference_minor)
    .bind(item.unit_cost_minor)
    .bind(item.guard_flags)
    .fetch_optional(conn)
    .await;
    match result {
        Ok(Some(row)) => row.try_into(),
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
    let row: Option<ItemRow> = sqlx::query_as(concat!(
        "update session_item set discount_percent = $3, quantity = $4, product_name = $5, \
             base_price_minor = $6, stock_seen = $7, updated_by = $8, updated_at = now(), \
             reference_minor = $9, unit_cost_minor = $10, guard_flags = $11 \
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
    .bind(item.reference_minor)
    .bind(item.unit_cost_minor)
    .bind(item.guard_flags)
    .fetch_optional(conn)
    .await?;
    parsed(row)?.ok_or_else(|| {
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
    let row: Option<ItemRow> = sqlx::query_as(concat!(
        "delete from session_item where session_id = $1 and sku = $2 returning ",
        item_columns!()
    ))
    .bind(session_id)
    .bind(sku.as_str())
    .fetch_optional(conn)
    .await?;
    parsed(row)?.ok_or_else(|| {
        RuleViolation::ItemNotInSession {
            sku: sku.to_string(),
        }
        .into()
    })
}

fn quantity_column(quantity: Quantity) -> Result<i32, StoreError> {
    i32::try_from(quantity.get())
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

/// One line of a session of the day, for the day's give-away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayLine {
    pub base_price_minor: i64,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
}

/// The items of the approved or live sessions other than `except_session`
/// starting in `[from, to)`: what the rest of a business day gives away.
pub async fn day_lines(
    conn: &mut PgConnection,
    except_session: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DayLine>, StoreError> {
    let rows: Vec<(i64, i16, i32)> = sqlx::query_as(
        "select i.base_price_minor, i.discount_percent, i.quantity
         from session_item i join session s on s.id = i.session_id
         where s.id <> $1 and s.status in ('approved', 'live')
           and s.starts_at >= $2 and s.starts_at < $3",
    )
    .bind(except_session)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(base_price_minor, discount, quantity)| {
            let corrupt = |e: String| StoreError::Corrupt(format!("a day's item: {e}"));
            Ok(DayLine {
                base_price_minor,
                discount: DiscountPercent::new(i64::from(discount))
                    .map_err(|e| corrupt(e.to_string()))?,
                quantity: Quantity::new(i64::from(quantity)).map_err(|e| corrupt(e.to_string()))?,
            })
        })
        .collect()
}
