//! Submitting, approving, rejecting and the other status changes.

use flashsale_bot::app::AppError;
use flashsale_bot::domain::{RuleViolation, Status, TransitionRefused};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;

#[sqlx::test]
async fn the_whole_happy_path_is_logged_step_by_step(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let draft = t.draft_with(6).await;
    let submitted = t.app.desk.submit(&t.alice, draft.id).await.unwrap();
    assert_eq!(submitted.status, Status::PendingApproval);
    assert_eq!(submitted.submitted_by.as_ref(), Some(&t.alice.id));

    let approved = t
        .app
        .desk
        .approve(&t.bob, draft.id, submitted.version)
        .await
        .unwrap();

    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.approved_by.as_ref(), Some(&t.bob.id));
    assert_eq!(approved.items.len(), 6);
    assert_eq!(
        t.activity_actions(draft.id).await,
        [
            "drafted",
            "item_added",
            "item_added",
            "item_added",
            "item_added",
            "item_added",
            "item_added",
            "submitted",
            "approved"
        ]
    );
    let log = t.app.queries.activity(draft.id, 1).await.unwrap();
    assert_eq!(log.total, 9);
    assert_eq!(
        log.entries.last().map(|e| e.actor_name.as_str()),
        Some("bob")
    );
}

#[sqlx::test]
async fn submit_with_five_items_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(5).await;

    let err = t
        .refused(session.id, t.app.desk.submit(&t.alice, session.id))
        .await;

    assert_eq!(
        err.to_string(),
        "The session has 5 SKUs: it needs exactly 6 to be submitted."
    );
}

#[sqlx::test]
async fn submit_after_the_deadline_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;
    // Tomorrow 00:00 Jakarta is 17:00 UTC; approval closed at 16:00 UTC.
    t.clock.advance(chrono::Duration::hours(6));

    let err = t
        .refused(session.id, t.app.desk.submit(&t.alice, session.id))
        .await;

    assert_matches!(
        err,
        AppError::Rule(RuleViolation::ApprovalDeadlinePassed { .. })
    );
}

#[sqlx::test]
async fn approve_by_a_non_approver_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let dave = editor("dave");

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&dave, session.id, session.version),
        )
        .await;

    assert_matches!(
        err,
        AppError::Transition(TransitionRefused::Forbidden { .. })
    );
}

#[sqlx::test]
async fn approver_cannot_approve_own_session(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let erin = editor_and_approver("erin");
    let session = t.draft().await;
    // Erin adds one item to Alice's draft: that makes her an editor of it.
    t.fill(session.id, 5).await;
    t.app
        .add_text(&erin, session.id, &item("FS-009", "10", "1"))
        .await
        .unwrap();
    let submitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&erin, session.id, submitted.version),
        )
        .await;

    assert_matches!(err, AppError::Rule(RuleViolation::SelfApproval));
}

#[sqlx::test]
async fn an_editor_whose_item_was_removed_still_cannot_approve(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let erin = editor_and_approver("erin");
    let session = t.draft().await;
    t.app
        .add_text(&erin, session.id, &item("FS-009", "10", "1"))
        .await
        .unwrap();
    t.app
        .desk
        .remove_item(&t.alice, session.id, "FS-009")
        .await
        .unwrap();
    t.fill(session.id, 6).await;
    let submitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();

    let err = t
        .app
        .desk
        .approve(&erin, session.id, submitted.version)
        .await
        .unwrap_err();

    assert_matches!(err, AppError::Rule(RuleViolation::SelfApproval));
}

#[sqlx::test]
async fn self_approval_is_allowed_when_four_eyes_is_switched_off(pool: PgPool) {
    let mut policy = test_policy();
    policy.four_eyes = false;
    let t = TestApp::with_policy(pool, policy).await;
    let erin = editor_and_approver("erin");
    let session = t.draft().await;
    t.fill(session.id, 5).await;
    t.app
        .add_text(&erin, session.id, &item("FS-009", "10", "1"))
        .await
        .unwrap();
    let submitted = t.app.desk.submit(&erin, session.id).await.unwrap();

    let approved = t
        .app
        .desk
        .approve(&erin, session.id, submitted.version)
        .await
        .unwrap();

    assert_eq!(approved.status, Status::Approved);
}

#[sqlx::test]
async fn approving_a_stale_version_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let first = t.submitted().await;
    // The card Bob sees shows `first.version`; meanwhile Alice withdraws,
    // edits and resubmits.
    t.app.desk.withdraw(&t.alice, first.id).await.unwrap();
    let change = flashsale_bot::app::ItemChange {
        sku: "FS-001".into(),
        discount: Some("80".into()),
        quantity: None,
    };
    t.app
        .update_text(&t.alice, first.id, &change)
        .await
        .unwrap();
    let current = t.app.desk.submit(&t.alice, first.id).await.unwrap();

    let err = t
        .refused(
            first.id,
            t.app.desk.approve(&t.bob, first.id, first.version),
        )
        .await;

    match err {
        AppError::Rule(RuleViolation::StaleVersion { seen, current: now }) => {
            assert_eq!((seen, now), (first.version, current.version));
        }
        other => panic!("expected a stale-version refusal, got {other:?}"),
    }
}

#[sqlx::test]
async fn approving_after_the_deadline_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    t.clock
        .advance(chrono::Duration::hours(6) + chrono::Duration::minutes(1));

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&t.bob, session.id, session.version),
        )
        .await;

    assert_matches!(
        err,
        AppError::Rule(RuleViolation::ApprovalDeadlinePassed { .. })
    );
}

#[sqlx::test]
async fn overlapping_approvals_are_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    // Both waiting at once, so neither was refused at draft or submit.
    let first = t.submitted().await;
    let second = t.submitted_at("tomorrow 11:00", "tomorrow 15:00").await;
    t.app
        .desk
        .approve(&t.bob, first.id, first.version)
        .await
        .unwrap();

    let err = t
        .refused(
            second.id,
            t.app.desk.approve(&t.bob, second.id, second.version),
        )
        .await;

    let span = |from, hours| {
        flashsale_bot::domain::window::format_span(
            from,
            from + chrono::Duration::hours(hours),
            chrono_tz::Asia::Jakarta,
        )
    };
    let (starts, ends) = (first.window.starts_at(), first.window.ends_at());
    assert_eq!(
        err.to_string(),
        format!(
            "This session overlaps #{} \"Midnight Deals\" ({}), which is approved: \
             the storefront shows one flash sale at a time. Nearest free windows of the same length: \
             {} or {}.",
            first.id,
            span(starts, 12),
            span(ends, 4),
            span(starts - chrono::Duration::hours(4), 4),
        )
    );
}

#[sqlx::test]
async fn back_to_back_sessions_can_both_be_approved(pool: PgPool) {
    let t = TestApp::new(pool).await;
    t.approved().await;
    let next = t.submitted_at("tomorrow 12:00", "tomorrow 18:00").await;
    let approved = t
        .app
        .desk
        .approve(&t.bob, next.id, next.version)
        .await
        .unwrap();
    assert_eq!(approved.status, Status::Approved);
}

#[sqlx::test]
async fn approval_rechecks_stock_live_and_refuses_what_sold_out(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    t.catalog.set_stock("FS-002", 4).await;
    t.catalog.set_active("FS-005", false).await;

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&t.bob, session.id, session.version),
        )
        .await;

    assert_eq!(
        err.to_string(),
        "Some items are not valid any more, so nothing was changed:\n\
         - FS-002 has 4 units in stock: the flash-sale quantity 10 is more than that. Allowed at most 4.\n\
         - FS-005 is not active in the catalog, so it can't be sold in a flash sale."
    );
}

#[sqlx::test]
async fn approval_is_refused_when_a_base_price_changed_since_the_item_was_set(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    t.catalog.set_price("FS-003", 39_900).await;

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&t.bob, session.id, session.version),
        )
        .await;

    assert_eq!(
        err.to_string(),
        "Some items are not valid any more, so nothing was changed:\n\
         - FS-003 costs IDR 39,900 in the catalog now, not IDR 32,900 as when it was added, \
         so its flash price is out of date. Set the item again with edit-sku (in a draft) to take the new price."
    );
}

#[sqlx::test]
async fn an_item_set_again_after_a_price_change_sells_at_the_new_price(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    t.catalog.set_price("FS-003", 39_900).await;
    t.app
        .desk
        .approve(&t.bob, session.id, session.version)
        .await
        .unwrap_err();
    t.app
        .desk
        .reject(&t.bob, session.id, "FS-003 changed price")
        .await
        .unwrap();

    let change = flashsale_bot::app::ItemChange {
        sku: "FS-003".into(),
        discount: Some("30".into()),
        quantity: None,
    };
    let edited = t
        .app
        .update_text(&t.alice, session.id, &change)
        .await
        .unwrap();
    let item = edited
        .items
        .iter()
        .find(|i| i.sku.as_str() == "FS-003")
        .unwrap();
    assert_eq!(item.base_price.minor(), 39_900);
    assert_eq!(item.flash_price.minor(), 27_930, "39,900 less 30 %");

    let submitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();
    let approved = t
        .app
        .desk
        .approve(&t.bob, session.id, submitted.version)
        .await
        .unwrap();
    assert_eq!(approved.status, Status::Approved);
}

#[sqlx::test]
async fn reject_requires_a_reason(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let err = t
        .refused(session.id, t.app.desk.reject(&t.bob, session.id, "   "))
        .await;

    assert_eq!(
        err.to_string(),
        "A reason is required: tell the editors what to change."
    );
}

#[sqlx::test]
async fn reject_returns_the_session_to_draft_with_the_reason(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let rejected = t
        .app
        .desk
        .reject(&t.bob, session.id, " FS-003 is on another promo ")
        .await
        .unwrap();

    assert_eq!(rejected.status, Status::Draft);
    assert_eq!(
        rejected.rejection_reason.as_deref(),
        Some("FS-003 is on another promo")
    );
    assert_eq!(
        t.activity_actions(session.id)
            .await
            .last()
            .map(String::as_str),
        Some("rejected")
    );
    // Resubmitting clears the old reason.
    let resubmitted = t.app.desk.submit(&t.alice, session.id).await.unwrap();
    assert_eq!(resubmitted.rejection_reason, None);
}

#[sqlx::test]
async fn an_editor_cannot_reject(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let err = t
        .app
        .desk
        .reject(&t.alice, session.id, "no")
        .await
        .unwrap_err();
    assert_matches!(
        err,
        AppError::Transition(TransitionRefused::Forbidden { .. })
    );
}

#[sqlx::test]
async fn withdraw_brings_a_pending_session_back_to_draft(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let view = t.app.desk.withdraw(&t.alice, session.id).await.unwrap();
    assert_eq!(view.status, Status::Draft);
    assert_eq!(
        t.activity_actions(session.id)
            .await
            .last()
            .map(String::as_str),
        Some("withdrawn")
    );
}

#[sqlx::test]
async fn revoke_unlocks_an_approved_session_for_editing(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.approved().await;

    let revoked = t
        .app
        .desk
        .revoke(&t.bob, session.id, Some("price change"))
        .await
        .unwrap();

    assert_eq!(revoked.status, Status::Draft);
    assert_eq!(revoked.approved_by, None);
    t.app
        .desk
        .remove_item(&t.alice, session.id, "FS-001")
        .await
        .unwrap();
}

#[sqlx::test]
async fn an_editor_cannot_revoke_or_cancel_an_approved_session(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.approved().await;

    let revoke = t
        .refused(session.id, t.app.desk.revoke(&t.alice, session.id, None))
        .await;
    let cancel = t
        .refused(session.id, t.app.desk.cancel(&t.alice, session.id, None))
        .await;

    for err in [revoke, cancel] {
        assert_matches!(
            err,
            AppError::Transition(TransitionRefused::Forbidden { .. })
        );
    }
}

#[sqlx::test]
async fn a_cancelled_session_accepts_nothing_more(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;
    let cancelled = t
        .app
        .desk
        .cancel(&t.alice, session.id, Some("promo moved"))
        .await
        .unwrap();
    assert_eq!(cancelled.status, Status::Cancelled);

    let err = t
        .refused(session.id, t.app.desk.submit(&t.alice, session.id))
        .await;

    assert_eq!(
        err.to_string(),
        "This session is cancelled: it can't be submitted. Nothing can change it any more."
    );
}

#[sqlx::test]
async fn approving_twice_is_refused_the_second_time(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let approved = t
        .app
        .desk
        .approve(&t.bob, session.id, session.version)
        .await
        .unwrap();

    let err = t
        .refused(
            session.id,
            t.app.desk.approve(&t.carol, session.id, approved.version),
        )
        .await;

    // Who approved it and when, not "This session is approved: it can't be approved."
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "#{} was already approved by {} (",
            session.id, t.bob.name
        )) && message.ends_with(" WIB): nothing to do."),
        "{message}"
    );
    assert_matches!(err, AppError::AlreadyApproved { .. });
}
