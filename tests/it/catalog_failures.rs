//! When the catalog fails, nothing is written and the editor is told plainly.

use std::time::Duration;

use flashsale_bot::app::AppError;
use flashsale_bot::catalog::CatalogError;
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;
use crate::support::catalog::CatalogServer;

async fn items_in_db(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from session_item")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A draft made while the catalog works, then an app whose catalog is `broken`.
async fn draft_then_break(pool: PgPool, broken: CatalogServer) -> (TestApp, i64) {
    let working = TestApp::new(pool.clone()).await;
    let session = working.draft().await;
    let t = TestApp::with_catalog(pool, test_policy(), broken, Duration::from_millis(300)).await;
    (t, session.id)
}

#[sqlx::test]
async fn catalog_answering_500_writes_nothing(pool: PgPool) {
    let (t, id) = draft_then_break(pool.clone(), CatalogServer::failing_with(500).await).await;

    let err = t.refused_add(id, item("FS-001", "30", "1")).await;

    assert_matches!(
        err,
        AppError::CatalogUnavailable(CatalogError::Status { status: 500 })
    );
    assert_eq!(
        err.to_string(),
        "The product catalog is unavailable right now (the catalog answered HTTP 500), so nothing was changed. Try again in a minute."
    );
    assert_eq!(items_in_db(&pool).await, 0);
}

#[sqlx::test]
async fn catalog_stalling_past_the_timeout_writes_nothing(pool: PgPool) {
    let (t, id) = draft_then_break(
        pool.clone(),
        CatalogServer::stalling(Duration::from_secs(3)).await,
    )
    .await;

    let err = t.refused_add(id, item("FS-001", "30", "1")).await;

    assert_matches!(err, AppError::CatalogUnavailable(CatalogError::Timeout(_)));
    assert_eq!(items_in_db(&pool).await, 0);
}

#[sqlx::test]
async fn catalog_sending_malformed_json_writes_nothing(pool: PgPool) {
    let (t, id) = draft_then_break(pool.clone(), CatalogServer::malformed().await).await;

    let err = t.refused_add(id, item("FS-001", "30", "1")).await;

    assert_matches!(
        err,
        AppError::CatalogUnavailable(CatalogError::Malformed(_))
    );
}

#[sqlx::test]
async fn approval_with_the_catalog_down_changes_nothing(pool: PgPool) {
    let working = TestApp::new(pool.clone()).await;
    let session = working.submitted().await;
    let t = TestApp::with_catalog(
        pool,
        test_policy(),
        CatalogServer::failing_with(503).await,
        Duration::from_millis(300),
    )
    .await;

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&t.bob, session.id, session.version),
        )
        .await;

    assert_matches!(err, AppError::CatalogUnavailable(_));
}
