//! The `price_observation` table: each SKU's base price over time, for the
//! money guards (`domain::guards`).
//!
//! Written from every catalog read that carries a price, but only when the
//! price changed or the last row is a day old, so a busy catalog adds a row
//! per change, not per read. Read back per SKU as the rows of a period plus
//! the last row before it: the price in effect when the period began counts
//! as applied in it. Pruning keeps that last row too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::StoreError;
use crate::domain::guards::PricePoint;
use crate::domain::{Currency, DiscountPercent, Money, Sku, Status};

/// Records `price` for `sku` unless the last row already says so and is
/// less than a day old. True when a row was written. Uses the database's
/// clock, as every other "when" the store writes.
pub async fn record(conn: &mut PgConnection, sku: &Sku, price: &Money) -> Result<bool, StoreError> {
    let written = sqlx::query(
        "insert into price_observation (sku, currency, price_minor)
         select $1, $2, $3
         where coalesce((
             select price_minor <> $3 or currency <> $2 or observed_at < now() - interval '1 day'
             from price_observation where sku = $1
             order by observed_at desc limit 1
         ), true)",
    )
    .bind(sku.as_str())
    .bind(price.currency().code())
    .bind(price.minor())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// Each SKU's observations since `since`, with the last one before it, in
/// `currency` (a row in another currency is not comparable and is left out).
pub async fn history(
    conn: &mut PgConnection,
    skus: &[Sku],
    since: DateTime<Utc>,
    currency: &Currency,
) -> Result<HashMap<Sku, Vec<PricePoint>>, StoreError> {
    let names: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let rows: Vec<(String, i64, DateTime<Utc>)> = sqlx::query_as(
        "select o.sku, o.price_minor, o.observed_at
         from unnest($1::text[]) as s(sku)
         cross join lateral (
             (select sku, price_minor, observed_at from price_observation
              where sku = s.sku and currency = $3 and observed_at >= $2)
             union all
             (select sku, price_minor, observed_at from price_observation
              where sku = s.sku and currency = $3 and observed_at < $2
              order by observed_at desc limit 1)
         ) as o
         order by o.sku, o.observed_at",
    )
    .bind(&names)
    .bind(since)
    .bind(currency.code())
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Sku, Vec<PricePoint>> = HashMap::new();
    for (raw, minor, at) in rows {
        let sku = known_sku(skus, &raw)?;
        out.entry(sku).or_default().push(PricePoint {
            at,
            price: Money::from_minor(minor, currency.clone()),
        });
    }
    Ok(out)
}

/// The discounts each SKU had in sessions that went live (live or ended),
/// other than `except_session`: what "unusually deep" compares with.
pub async fn past_discounts(
    conn: &mut PgConnection,
    skus: &[Sku],
    except_session: i64,
) -> Result<HashMap<Sku, Vec<DiscountPercent>>, StoreError> {
    let names: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let rows: Vec<(String, i16)> = sqlx::query_as(
        "select i.sku, i.discount_percent
         from session_item i join session s on s.id = i.session_id
         where i.sku = any($1) and s.status = any($3) and s.id <> $2",
    )
    .bind(&names)
    .bind(except_session)
    .bind([Status::Live.as_str(), Status::Ended.as_str()])
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Sku, Vec<DiscountPercent>> = HashMap::new();
    for (raw, percent) in rows {
        let sku = known_sku(skus, &raw)?;
        let discount = DiscountPercent::new(i64::from(percent)).map_err(|e| {
            StoreError::Corrupt(format!("session_item.discount_percent {percent}: {e}"))
        })?;
        out.entry(sku).or_default().push(discount);
    }
    Ok(out)
}

/// Deletes observations older than `keep_days` days, except each SKU's last
/// one before that (still the price in effect at the oldest period's start).
pub async fn prune(conn: &mut PgConnection, keep_days: i32) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "delete from price_observation o
         where o.observed_at < now() - make_interval(days => $1)
           and exists (
               select 1 from price_observation newer
               where newer.sku = o.sku
                 and newer.observed_at > o.observed_at
                 and newer.observed_at <= now() - make_interval(days => $1)
           )",
    )
    .bind(keep_days)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The asked-for SKU a row names (rows only come back for asked SKUs).
fn known_sku(skus: &[Sku], raw: &str) -> Result<Sku, StoreError> {
    skus.iter()
        .find(|s| s.as_str() == raw)
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("price row for an SKU not asked for: {raw}")))
}

/// The SKUs of sessions still ahead (draft, pending approval, approved, not
/// yet ended): the daily observation reads their prices.
pub async fn upcoming_skus(conn: &mut PgConnection) -> Result<Vec<Sku>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "select distinct i.sku
         from session_item i join session s on s.id = i.session_id
         where s.status = any($1) and s.ends_at > now()
         order by i.sku",
    )
    .bind([
        Status::Draft.as_str(),
        Status::PendingApproval.as_str(),
        Status::Approved.as_str(),
    ])
    .fetch_all(conn)
    .await?;
    // Stored SKUs were canonical when written.
    Ok(rows.into_iter().map(Sku::from_canonical).collect())
}
