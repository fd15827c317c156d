//! Concurrent editors and approvers: the session lock and the database decide.

use std::fmt::Debug;
use std::time::Duration;

use flashsale_bot::app::{AppError, ItemChange};
use flashsale_bot::domain::{RuleViolation, Status};
use futures::future::join_all;
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;
use crate::support::catalog::{sample_products, CatalogServer, FakeProduct};

/// Checks that exactly one of the racers won; returns the losers' refusals.
fn losers<T: Debug>(outcomes: &[Result<T, AppError>]) -> Vec<&AppError> {
    let winners = outcomes.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{outcomes:?}");
    outcomes.iter().filter_map(|r| r.as_ref().err()).collect()
}

#[sqlx::test]
async fn twenty_editors_racing_for_the_sixth_slot_leave_exactly_one_winner(pool: PgPool) {
    let mut products = sample_products();
    products
        .extend((1..=20).map(|i| FakeProduct::new(&format!("RACE-{i:02}"), "Racer", 10_000, 50)));
    let catalog = CatalogServer::start(products).await;
    let t = TestApp::with_catalog(pool, test_policy(), catalog, Duration::from_secs(2)).await;
    let session = t.draft_with(5).await;
    let editors: Vec<_> = (1..=20).map(|i| editor(&format!("editor{i}"))).collect();

    let results = join_all(editors.iter().enumerate().map(|(i, who)| {
        let input = item(&format!("RACE-{:02}", i + 1), "30", "1");
        let app = t.app.clone();
        async move { app.add_text(who, session.id, &input).await }
    }))
    .await;

    for loser in losers(&results) {
        assert_matches!(loser, AppError::Rule(RuleViolation::SessionFull { max: 6 }));
    }
    let view = t.app.queries.get(session.id).await.unwrap();
    assert_eq!(view.items.len(), 6);
    assert_eq!(view.version, session.version + 1);
    assert_eq!(
        t.activity_count(session.id, "item_added").await,
        6,
        "losers leave no activity entry"
    );
}

#[sqlx::test]
async fn two_concurrent_approvals_have_exactly_one_winner(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let (bob, carol) = tokio::join!(
        t.app.desk.approve(&t.bob, session.id, session.version),
        t.app.desk.approve(&t.carol, session.id, session.version)
    );

    for loser in losers(&[bob, carol]) {
        assert_matches!(
            loser,
            AppError::AlreadyApproved { .. } | AppError::Rule(RuleViolation::StaleVersion { .. })
        );
    }
    assert_eq!(t.activity_count(session.id, "approved").await, 1);
}

#[sqlx::test]
async fn concurrent_approvals_of_overlapping_sessions_approve_only_one(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let first = t.submitted_at("tomorrow 00:00", "tomorrow 12:00").await;
    let second = t.submitted_at("tomorrow 06:00", "tomorrow 18:00").await;

    let (a, b) = tokio::join!(
        t.app.desk.approve(&t.bob, first.id, first.version),
        t.app.desk.approve(&t.carol, second.id, second.version)
    );

    for loser in losers(&[a, b]) {
        assert_matches!(loser, AppError::Rule(RuleViolation::Overlap { .. }));
    }
    let approved: i64 =
        sqlx::query_scalar("select count(*) from session where status = 'approved'")
            .fetch_one(&t.pool)
            .await
            .unwrap();
    assert_eq!(approved, 1);
}

#[sqlx::test]
async fn concurrent_edits_never_lose_an_update(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;
    let editors: Vec<_> = (1..=6).map(|i| editor(&format!("editor{i}"))).collect();

    // Each editor changes a different item, all at once, several times.
    let results = join_all(editors.iter().enumerate().flat_map(|(i, who)| {
        let app = t.app.clone();
        (1..=3).map(move |round| {
            let app = app.clone();
            let change = ItemChange {
                sku: SIX[i].to_owned(),
                discount: Some(format!("{}", 10 * round + i)),
                quantity: Some(format!("{}", round)),
            };
            async move { app.update_text(who, session.id, &change).await }
        })
    }))
    .await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let view = t.app.queries.get(session.id).await.unwrap();
    assert_eq!(
        view.version,
        session.version + 18,
        "every update bumped the version once"
    );
    for (i, it) in view.items.iter().enumerate() {
        // Which round landed last is up to the scheduler; that it is one of
        // this editor's own values (never another's, never the original) is not.
        let d = i64::from(it.discount.get());
        assert!(
            [10, 20, 30].iter().any(|r| d == r + i as i64),
            "item {i}: {d}"
        );
        assert_eq!(
            u32::try_from(d - i as i64).unwrap() / 10,
            it.quantity.get(),
            "discount and quantity from one update"
        );
    }
    assert_eq!(t.activity_count(session.id, "item_updated").await, 18);
    assert_eq!(view.status, Status::Draft);
}
