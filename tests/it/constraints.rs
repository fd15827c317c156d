//! The database's own constraints: the last line behind the application's checks.

use sqlx::PgPool;

use crate::support::app::*;

async fn insert_item(
    pool: &PgPool,
    session: i64,
    slot: i16,
    sku: &str,
    discount: i16,
    quantity: i32,
) -> sqlx::Error {
    sqlx::query(
        "insert into session_item (session_id, slot, sku, discount_percent, quantity, product_name, \
             base_price_minor, stock_seen, added_by, updated_by) \
         values ($1, $2, $3, $4, $5, 'x', 1000, 10, 'test:x', 'test:x')",
    )
    .bind(session)
    .bind(slot)
    .bind(sku)
    .bind(discount)
    .bind(quantity)
    .execute(pool)
    .await
    .unwrap_err()
}

fn constraint(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|e| e.constraint())
        .map(str::to_owned)
}

#[sqlx::test]
async fn a_discount_outside_1_to_90_cannot_be_stored(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft().await;
    for discount in [0, 91] {
        let err = insert_item(&pool, session.id, 1, "RAW-1", discount, 1).await;
        assert_eq!(
            constraint(&err).as_deref(),
            Some("session_item_discount_range")
        );
    }
}

#[sqlx::test]
async fn a_zero_quantity_cannot_be_stored(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft().await;
    let err = insert_item(&pool, session.id, 1, "RAW-1", 10, 0).await;
    assert_eq!(
        constraint(&err).as_deref(),
        Some("session_item_quantity_positive")
    );
}

#[sqlx::test]
async fn a_seventh_slot_or_a_repeated_sku_cannot_be_stored(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft_with(6).await;
    let err = insert_item(&pool, session.id, 7, "RAW-7", 10, 1).await;
    assert_eq!(constraint(&err).as_deref(), Some("session_item_slot_range"));
    let err = insert_item(&pool, session.id, 3, "RAW-3", 10, 1).await;
    assert_eq!(constraint(&err).as_deref(), Some("session_item_pkey"));
    t.app
        .desk
        .remove_item(&t.alice, session.id, "FS-006")
        .await
        .unwrap();
    let err = insert_item(&pool, session.id, 6, "FS-001", 10, 1).await;
    assert_eq!(constraint(&err).as_deref(), Some("session_item_unique_sku"));
}

#[sqlx::test]
async fn overlapping_approved_windows_cannot_be_stored(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    // Drafted before the first is approved: the app refuses an overlapping draft itself.
    let other = t.draft_at("tomorrow 06:00", "tomorrow 18:00").await;
    t.approved().await;

    let err = sqlx::query("update session set status = 'approved' where id = $1")
        .bind(other.id)
        .execute(&pool)
        .await
        .unwrap_err();

    assert_eq!(
        constraint(&err).as_deref(),
        Some("session_no_overlap_when_approved")
    );
}
