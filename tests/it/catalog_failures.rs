//! When the catalog fails, nothing is written and the editor is told plainly.

use std::time::Duration;

use std::sync::Arc;

use flashsale_bot::app::{job_notices, AppError, Services};
use flashsale_bot::catalog::{CatalogError, HttpCatalog};
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

/// What people read about a catalog nobody can reach names no address and
/// quotes no HTTP library: the reply and the approvers' alert give a
/// reference to the log line that has the detail.
#[sqlx::test]
async fn an_unreachable_catalog_is_named_without_its_address(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.submitted().await;
    // Nothing listens on the discard port.
    let nowhere = HttpCatalog::new(
        "http://127.0.0.1:9/".parse().unwrap(),
        test_policy().currency,
        Duration::from_millis(500),
    )
    .unwrap();
    let app = Services::new(
        pool,
        Arc::new(nowhere),
        test_policy(),
        t.clock.clone(),
        t.chat.clone(),
    );

    let refused = t
        .refused(
            session.id,
            app.desk.approve(&t.bob, session.id, session.version),
        )
        .await;
    let AppError::CatalogUnavailable(CatalogError::Unreachable(withheld)) = &refused else {
        panic!("expected an unreachable catalog, got {refused:?}");
    };
    // Kept for the log, under the reference shown.
    assert!(withheld.detail().contains("127.0.0.1"), "{withheld:?}");
    let reply = refused.message().render(|_, _| String::new());
    assert_eq!(
        reply,
        format!(
            "The product catalog is unavailable right now (the catalog could not be reached, \
             reference {}), so nothing was changed. Try again in a minute.",
            withheld.reference()
        )
    );
    let recheck = app.operations.recheck_items(session.id).await.unwrap_err();
    let alert = job_notices::heads_up_unchecked(&session, &recheck)
        .message
        .text
        .render(|_, _| String::new());
    assert!(
        alert.contains("could not be reached, reference "),
        "{alert}"
    );
    for shown in [&reply, &alert] {
        crate::support::assert_no_transport_details(shown);
    }
}
