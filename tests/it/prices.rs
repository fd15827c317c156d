//! The price history the money guards read: one row per price change (or
//! per day of the same price), read back as a period plus the price in effect
//! when it began, pruned without losing that price. Ages are set relative to
//! the database clock, which decides them.

use chrono::{Duration, Utc};
use flashsale_bot::domain::{Currency, Money, Sku, SkuRules, Status};
use flashsale_bot::store::prices;
use sqlx::PgPool;

use crate::support::app::*;

fn sku(raw: &str) -> Sku {
    Sku::parse(raw, &SkuRules::default()).unwrap()
}

fn idr(minor: i64) -> Money {
    Money::from_minor(minor, Currency::from_code("IDR").unwrap())
}

/// A row as if observed `days` days ago.
async fn observed(pool: &PgPool, sku: &str, currency: &str, minor: i64, days: i32) {
    sqlx::query(
        "insert into price_observation (sku, currency, price_minor, observed_at) \
         values ($1, $2, $3, now() - make_interval(days => $4))",
    )
    .bind(sku)
    .bind(currency)
    .bind(minor)
    .bind(days)
    .execute(pool)
    .await
    .unwrap();
}

async fn rows(pool: &PgPool, sku: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "select price_minor from price_observation where sku = $1 order by observed_at",
    )
    .bind(sku)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_price_is_recorded_once_until_it_changes(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    assert!(prices::record(&mut conn, &sku("FS-001"), &idr(149_500))
        .await
        .unwrap());
    assert!(!prices::record(&mut conn, &sku("FS-001"), &idr(149_500))
        .await
        .unwrap());
    assert!(prices::record(&mut conn, &sku("FS-001"), &idr(159_500))
        .await
        .unwrap());
    assert!(prices::record(&mut conn, &sku("FS-001"), &idr(149_500))
        .await
        .unwrap());
    assert_eq!(rows(&pool, "FS-001").await, [149_500, 159_500, 149_500]);
}

#[sqlx::test]
async fn the_same_price_is_recorded_again_after_a_day(pool: PgPool) {
    observed(&pool, "FS-002", "IDR", 45_000, 2).await;
    let mut conn = pool.acquire().await.unwrap();
    assert!(prices::record(&mut conn, &sku("FS-002"), &idr(45_000))
        .await
        .unwrap());
    assert!(!prices::record(&mut conn, &sku("FS-002"), &idr(45_000))
        .await
        .unwrap());
    assert_eq!(rows(&pool, "FS-002").await, [45_000, 45_000]);
}

#[sqlx::test]
async fn the_history_is_the_period_and_the_price_in_effect_when_it_began(pool: PgPool) {
    for (minor, days) in [(90_000, 60), (80_000, 40), (100_000, 20), (95_000, 3)] {
        observed(&pool, "FS-003", "IDR", minor, days).await;
    }
    observed(&pool, "FS-003", "USD", 700, 10).await;
    observed(&pool, "FS-004", "IDR", 1, 10).await;
    let mut conn = pool.acquire().await.unwrap();
    let since = Utc::now() - Duration::days(30);
    let idr_currency = Currency::from_code("IDR").unwrap();
    let history = prices::history(
        &mut conn,
        &[sku("FS-003"), sku("FS-005")],
        since,
        &idr_currency,
    )
    .await
    .unwrap();
    let minors: Vec<i64> = history[&sku("FS-003")]
        .iter()
        .map(|p| p.price.minor())
        .collect();
    // 80,000 was set 40 days ago and applied until 20 days ago: it counts; 90,000 does not;
    // the USD row is not comparable; FS-004 was not asked for; FS-005 has none.
    assert_eq!(minors, [80_000, 100_000, 95_000]);
    assert!(!history.contains_key(&sku("FS-004")));
    assert!(!history.contains_key(&sku("FS-005")));
}

#[sqlx::test]
async fn pruning_keeps_the_price_in_effect_at_the_cutoff(pool: PgPool) {
    for (minor, days) in [(90_000, 90), (80_000, 50), (100_000, 20)] {
        observed(&pool, "FS-003", "IDR", minor, days).await;
    }
    observed(&pool, "FS-006", "IDR", 5_000, 400).await;
    let mut conn = pool.acquire().await.unwrap();
    let pruned = prices::prune(&mut conn, 31).await.unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(rows(&pool, "FS-003").await, [80_000, 100_000]);
    // An SKU's only row stays, however old: it is still its last known price.
    assert_eq!(rows(&pool, "FS-006").await, [5_000]);
}

#[sqlx::test]
async fn past_discounts_come_from_sessions_that_went_live_only(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(t.draft_with(6).await.id);
    }
    // Sessions in every state but the first: ended, live, cancelled, and the one being checked.
    for (id, status) in [
        (ids[0], Status::Ended),
        (ids[1], Status::Live),
        (ids[2], Status::Cancelled),
    ] {
        sqlx::query("update session set status = $2 where id = $1")
            .bind(id)
            .bind(status.as_str())
            .execute(&t.pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "update session_item set discount_percent = 55 where session_id = $1 and sku = 'FS-001'",
    )
    .bind(ids[1])
    .execute(&t.pool)
    .await
    .unwrap();
    let mut conn = t.pool.acquire().await.unwrap();
    let past = prices::past_discounts(&mut conn, &[sku("FS-001"), sku("FS-009")], ids[3])
        .await
        .unwrap();
    let mut fs1: Vec<u8> = past[&sku("FS-001")].iter().map(|d| d.get()).collect();
    fs1.sort_unstable();
    assert_eq!(fs1, [30, 55]);
    assert!(!past.contains_key(&sku("FS-009")));
}
