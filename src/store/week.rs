//! Planning the week: slots, skipped occurrences, templates, and the
//! sessions a slot occurrence is compared with.
//!
//! A name taken or a slot declared twice is answered as `None` from the
//! insert (`on conflict do nothing`), so two people racing for one name get
//! one template and one clear refusal, without check-then-insert.

use chrono::{DateTime, NaiveTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::StoreError;
use crate::domain::{
    Actor, DiscountPercent, Quantity, Sku, SlotDays, SlotSpec, Status, TemplateName,
};

/// A declared slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRecord {
    pub id: i64,
    pub spec: SlotSpec,
    pub created_by_name: String,
}

#[derive(sqlx::FromRow)]
struct SlotRow {
    id: i64,
    days: i16,
    starts_local: NaiveTime,
    ends_local: NaiveTime,
    created_by_name: String,
}

impl TryFrom<SlotRow> for SlotRecord {
    type Error = StoreError;

    fn try_from(row: SlotRow) -> Result<SlotRecord, StoreError> {
        let days = SlotDays::from_bits(row.days).ok_or_else(|| StoreError::Unknown {
            table: "slot",
            id: row.id,
            column: "days",
            value: row.days.to_string(),
        })?;
        Ok(SlotRecord {
            id: row.id,
            spec: SlotSpec::from_parts(days, row.starts_local, row.ends_local),
            created_by_name: row.created_by_name,
        })
    }
}

/// Declares a slot; `None` when the same one is declared already.
pub async fn insert_slot(
    conn: &mut PgConnection,
    spec: &SlotSpec,
    actor: &Actor,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "insert into slot (days, starts_local, ends_local, created_by, created_by_name)
         values ($1, $2, $3, $4, $5)
         on conflict (days, starts_local, ends_local) where removed_at is null do nothing
         returning id",
    )
    .bind(spec.days().bits())
    .bind(spec.start())
    .bind(spec.end())
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .fetch_optional(conn)
    .await?)
}

/// The slots in force, by start time of day.
pub async fn slots(conn: &mut PgConnection) -> Result<Vec<SlotRecord>, StoreError> {
    let rows: Vec<SlotRow> = sqlx::query_as(
        "select id, days, starts_local, ends_local, created_by_name from slot
         where removed_at is null order by starts_local, id",
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(SlotRecord::try_from).collect()
}

/// Marks a slot removed; `false` when there is no such slot in force.
pub async fn remove_slot(
    conn: &mut PgConnection,
    id: i64,
    actor: &Actor,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update slot set removed_at = now(), removed_by = $2 where id = $1 and removed_at is null",
    )
    .bind(id)
    .bind(actor.id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Appends to the slots' log.
pub async fn log_slot(
    conn: &mut PgConnection,
    slot_id: i64,
    actor: &Actor,
    action: &str,
    details: Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into slot_activity (slot_id, actor_id, actor_name, action, details)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(slot_id)
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .bind(action)
    .bind(details)
    .execute(conn)
    .await?;
    Ok(())
}

/// One skipped occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipRecord {
    pub slot_id: i64,
    pub starts_at: DateTime<Utc>,
    pub reason: String,
    pub skipped_by_name: String,
}

/// Marks an occurrence skipped; `false` when it was skipped already.
pub async fn insert_skip(
    conn: &mut PgConnection,
    slot_id: i64,
    starts_at: DateTime<Utc>,
    reason: &str,
    actor: &Actor,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "insert into slot_skip (slot_id, starts_at, reason, skipped_by, skipped_by_name)
         values ($1, $2, $3, $4, $5) on conflict do nothing",
    )
    .bind(slot_id)
    .bind(starts_at)
    .bind(reason)
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The skips of occurrences starting in `[from, to)`.
pub async fn skips_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SkipRecord>, StoreError> {
    let rows: Vec<(i64, DateTime<Utc>, String, String)> = sqlx::query_as(
        "select slot_id, starts_at, reason, skipped_by_name from slot_skip
         where starts_at >= $1 and starts_at < $2 order by starts_at",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(slot_id, starts_at, reason, skipped_by_name)| SkipRecord {
            slot_id,
            starts_at,
            reason,
            skipped_by_name,
        })
        .collect())
}

/// A session as a slot occurrence sees it: which one, its status and window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpan {
    pub id: i64,
    pub status: Status,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Sessions whose window overlaps `[from, to)`, whatever their status.
pub async fn sessions_overlapping(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SessionSpan>, StoreError> {
    let rows: Vec<(i64, String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "select id, status, starts_at, ends_at from session
         where starts_at < $2 and ends_at > $1 order by starts_at, id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, status, starts_at, ends_at)| {
            let status = Status::from_stored(&status).ok_or_else(|| StoreError::Unknown {
                table: "session",
                id,
                column: "status",
                value: status.clone(),
            })?;
            Ok(SessionSpan {
                id,
                status,
                starts_at,
                ends_at,
            })
        })
        .collect()
}

/// A template's line, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateLine {
    pub sku: Sku,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
}

/// A template with its lines in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub name: String,
    pub source: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<TemplateLine>,
}

/// Saves a template; `None` when the name is taken (nothing written).
pub async fn insert_template(
    conn: &mut PgConnection,
    name: &TemplateName,
    source: &str,
    lines: &[TemplateLine],
    actor: &Actor,
) -> Result<Option<i64>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "insert into template (name, source, created_by, created_by_name)
         values ($1, $2, $3, $4) on conflict (name) do nothing returning id",
    )
    .bind(name.as_str())
    .bind(source)
    .bind(actor.id.as_str())
    .bind(&actor.name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    for (position, line) in (1i16..).zip(lines) {
        let quantity = i32::try_from(line.quantity.get()).map_err(|_| {
            StoreError::Corrupt(format!("quantity {} exceeds the column", line.quantity))
        })?;
        sqlx::query(
            "insert into template_line (template_id, position, sku, discount_percent, quantity)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(position)
        .bind(line.sku.as_str())
        .bind(i16::from(line.discount.get()))
        .bind(quantity)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(id))
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: i64,
    name: String,
    source: String,
    created_by_name: String,
    created_at: DateTime<Utc>,
}

/// Every template, by name, with its lines.
pub async fn templates(conn: &mut PgConnection) -> Result<Vec<TemplateRecord>, StoreError> {
    let rows: Vec<TemplateRow> = sqlx::query_as(
        "select id, name, source, created_by_name, created_at from template order by name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        found.push(with_lines(conn, row).await?);
    }
    Ok(found)
}

/// One template by name, with its lines.
pub async fn template(
    conn: &mut PgConnection,
    name: &TemplateName,
) -> Result<Option<TemplateRecord>, StoreError> {
    let row: Option<TemplateRow> = sqlx::query_as(
        "select id, name, source, created_by_name, created_at from template where name = $1",
    )
    .bind(name.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(with_lines(conn, row).await?)),
        None => Ok(None),
    }
}

async fn with_lines(
    conn: &mut PgConnection,
    row: TemplateRow,
) -> Result<TemplateRecord, StoreError> {
    let lines: Vec<(String, i16, i32)> = sqlx::query_as(
        "select sku, discount_percent, quantity from template_line
         where template_id = $1 order by position",
    )
    .bind(row.id)
    .fetch_all(conn)
    .await?;
    let corrupt = |what: String| StoreError::Corrupt(format!("template {}: {what}", row.name));
    let lines = lines
        .into_iter()
        .map(|(sku, discount, quantity)| {
            Ok(TemplateLine {
                // Canonical when written, as a session item's SKU is.
                sku: Sku::from_canonical(sku),
                discount: DiscountPercent::new(i64::from(discount))
                    .map_err(|e| corrupt(e.to_string()))?,
                quantity: Quantity::new(i64::from(quantity)).map_err(|e| corrupt(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(TemplateRecord {
        name: row.name,
        source: row.source,
        created_by_name: row.created_by_name,
        created_at: row.created_at,
        lines,
    })
}

/// Deletes a template and its lines; `false` when there is none by that name.
pub async fn delete_template(
    conn: &mut PgConnection,
    name: &TemplateName,
) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from template where name = $1")
        .bind(name.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
