//! One flash sale at a time, said as early as it can be: a window that
//! overlaps an approved or live session is refused when it is drafted and
//! when it is submitted (not only at the approver's press), naming the
//! session it collides with, what that session is now, and the nearest free
//! windows of the same length.

use flashsale_bot::app::{AppError, DraftInput};
use flashsale_bot::domain::RuleViolation;
use sqlx::PgPool;

use crate::support::app::*;

fn input(start: &str, end: &str) -> DraftInput {
    DraftInput {
        title: "Second Sale".into(),
        start: start.into(),
        end: end.into(),
        notes: None,
    }
}

/// (other, state, free) of an overlap refusal, failing on anything else.
fn overlap(err: AppError) -> (String, String, String) {
    match err {
        AppError::Rule(RuleViolation::Overlap { other, state, free }) => (other, state, free),
        other => panic!("expected an overlap, got {other:?}"),
    }
}

async fn sessions(t: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from session")
        .fetch_one(&t.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_draft_overlapping_an_approved_session_is_refused_with_the_nearest_free_windows(
    pool: PgPool,
) {
    let t = TestApp::new(pool).await;
    let approved = t.approved().await; // tomorrow 00:00-12:00
    let before = sessions(&t).await;
    let err = t
        .app
        .desk
        .create_draft(&t.alice, &input("tomorrow 06:00", "tomorrow 08:00"))
        .await
        .unwrap_err();
    let shown = err.to_string();
    let (other, state, free) = overlap(err);
    assert!(
        other.starts_with(&format!("#{} \"Midnight Deals\" (", approved.id)),
        "{other}"
    );
    assert_eq!(state, "approved");
    // Right after it ends, two hours long; and right before it starts.
    assert!(free.contains("12:00–14:00"), "{free}");
    assert!(free.contains("22:00"), "{free}");
    assert!(shown.contains("Nearest free windows"), "{shown}");
    assert_eq!(sessions(&t).await, before, "nothing was drafted");
}

#[sqlx::test]
async fn a_draft_whose_window_was_taken_meanwhile_is_refused_at_submit(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let late = t.draft_at("tomorrow 06:00", "tomorrow 08:00").await;
    let late = t.fill(late.id, 6).await;
    let first = t.submitted_at("tomorrow 00:00", "tomorrow 12:00").await;
    t.app
        .desk
        .approve(&t.bob, first.id, first.version)
        .await
        .unwrap();
    let err = t
        .unchanged(late.id, t.app.desk.submit(&t.alice, late.id))
        .await
        .unwrap_err();
    let (other, state, _) = overlap(err);
    assert!(other.starts_with(&format!("#{} ", first.id)), "{other}");
    assert_eq!(state, "approved");
}

#[sqlx::test]
async fn an_overlap_with_a_live_session_says_live_not_already_approved(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let approved = t.approved().await;
    sqlx::query("update session set status = 'live' where id = $1")
        .bind(approved.id)
        .execute(&t.pool)
        .await
        .unwrap();
    let err = t
        .app
        .desk
        .create_draft(&t.alice, &input("tomorrow 11:00", "tomorrow 13:00"))
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("which is live"), "{shown}");
    assert!(!shown.contains("already approved"), "{shown}");
}
