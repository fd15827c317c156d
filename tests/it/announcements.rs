//! What the app says in chat: the approval card, its edits, and button presses.

use flashsale_bot::app::buttons::{press_button, reject_with_reason, PressOutcome};
use flashsale_bot::app::{AppError, Notice};
use flashsale_bot::chat::{ButtonStyle, Channel, Mention, Text};
use flashsale_bot::domain::{RuleViolation, Status, TransitionRefused};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;

#[sqlx::test]
async fn submitting_posts_one_approval_card_that_pings_approvers(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let cards = t.chat.posts_to(Channel::Approvals);
    assert_eq!(cards.len(), 1);
    let card = &cards[0].message;
    assert_eq!(card.mentions, [Mention::Approvers]);
    let ids: Vec<(&str, ButtonStyle)> = card
        .buttons
        .iter()
        .map(|b| (b.id.as_str(), b.style))
        .collect();
    let approve = format!("fs:approve:{}:{}", session.id, session.version);
    let reject = format!("fs:reject:{}:{}", session.id, session.version);
    assert_eq!(
        ids,
        [
            (approve.as_str(), ButtonStyle::Success),
            (reject.as_str(), ButtonStyle::Danger)
        ]
    );
    let body = card.card.as_ref().unwrap();
    assert_eq!(body.title, format!("#{} Midnight Deals", session.id));
    assert_eq!(body.status, "Pending approval");
    assert_eq!(
        body.fields
            .iter()
            .filter(|f| f.name.contains("FS-00"))
            .count(),
        6
    );
}

#[sqlx::test]
async fn approving_edits_the_card_in_place_without_buttons(pool: PgPool) {
    let t = TestApp::new(pool).await;
    t.approved().await;

    let cards = t.chat.posts_to(Channel::Approvals);
    assert_eq!(cards.len(), 1, "no second card");
    let edit = cards[0].edits.last().expect("the card was edited");
    assert!(edit.buttons.is_empty());
    assert_eq!(edit.card.as_ref().unwrap().status, "Approved");
    let said = edit.text.render(|_, _| "<time>".to_owned());
    assert_eq!(said, "Approved by bob <time>");
}

#[sqlx::test]
async fn rejecting_tells_the_submitter_and_edits_the_card(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    t.app
        .desk
        .reject(&t.bob, session.id, "FS-003 is on another promo")
        .await
        .unwrap();
    t.deliver_notices().await;

    let notices = t.chat.posts_to(Channel::Announcements);
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].message.mentions,
        [Mention::User(t.alice.id.clone())]
    );
    assert!(notices[0]
        .message
        .text
        .render(|_, _| String::new())
        .contains("FS-003 is on another promo"));
    let card = &t.chat.posts_to(Channel::Approvals)[0];
    assert_eq!(
        card.edits.last().unwrap().card.as_ref().unwrap().status,
        "Draft"
    );
}

#[sqlx::test]
async fn an_approver_press_approves_once_even_when_clicked_twice(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let id = format!("fs:approve:{}:{}", session.id, session.version);

    let first = press_button(&t.app.front(), &t.bob, "test", "event-1", &id).await;
    let second = press_button(&t.app.front(), &t.bob, "test", "event-1", &id).await;

    assert_matches!(first, PressOutcome::Approved(ref v) if v.status == Status::Approved);
    assert_matches!(second, PressOutcome::AlreadyHandled);
    assert_eq!(t.activity_count(session.id, "approved").await, 1);
}

#[sqlx::test]
async fn a_press_by_a_non_approver_is_refused_and_changes_nothing(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    for custom_id in [
        format!("fs:approve:{}:{}", session.id, session.version),
        format!("fs:reject:{}:{}", session.id, session.version),
    ] {
        let outcome = t
            .unchanged(
                session.id,
                press_button(
                    &t.app.front(),
                    &nobody("mallory"),
                    "test",
                    &custom_id,
                    &custom_id,
                ),
            )
            .await;
        assert_matches!(
            outcome,
            PressOutcome::Refused(AppError::Transition(TransitionRefused::Forbidden { .. }))
        );
    }
}

#[sqlx::test]
async fn the_submitter_pressing_approve_is_refused_by_four_eyes(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let erin = editor_and_approver("erin");
    let session = t.draft_with(6).await;
    let submitted = t.app.desk.submit(&erin, session.id).await.unwrap();
    let approve = format!("fs:approve:{}:{}", session.id, submitted.version);

    let outcome = t
        .unchanged(
            session.id,
            press_button(&t.app.front(), &erin, "test", "e1", &approve),
        )
        .await;

    assert_matches!(
        outcome,
        PressOutcome::Refused(AppError::Rule(RuleViolation::SelfApproval))
    );
}

#[sqlx::test]
async fn a_forged_button_id_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    for forged in [
        "fs:approve:x:1",
        "fs:publish:1:1",
        "approve 1",
        "fs:approve:1:1:1",
    ] {
        let outcome = t
            .unchanged(
                session.id,
                press_button(&t.app.front(), &t.bob, "test", forged, forged),
            )
            .await;
        assert_matches!(
            outcome,
            PressOutcome::Refused(AppError::Button(_)),
            "{forged}"
        );
    }
}

#[sqlx::test]
async fn a_press_on_an_old_card_is_refused_and_the_current_card_is_left_as_it_is(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let old = t.submitted().await;
    t.app.desk.withdraw(&t.alice, old.id).await.unwrap();
    let current = t.app.desk.submit(&t.alice, old.id).await.unwrap();

    let edits_before = card_edits(&t);

    let outcome = press_button(
        &t.app.front(),
        &t.bob,
        "test",
        "e1",
        &format!("fs:approve:{}:{}", old.id, old.version),
    )
    .await;

    assert_matches!(
        outcome,
        PressOutcome::Refused(AppError::Rule(RuleViolation::StaleVersion { .. }))
    );
    // The resubmit posted a card with the current version: the refusal's
    // "look at the current card" is true without drawing it again.
    assert_eq!(card_edits(&t), edits_before, "nothing to redraw");
    let cards = t.chat.posts_to(Channel::Approvals);
    let latest_card = cards.last().unwrap();
    assert!(
        latest_card.message.buttons[0]
            .id
            .ends_with(&format!(":{}", current.version)),
        "{:?}",
        latest_card.message.buttons
    );
}

#[sqlx::test]
async fn a_stale_or_forged_press_on_a_current_card_redraws_nothing(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let edits_before = t.chat.edit_calls();

    // An old client's press, and presses someone typed with made-up versions.
    for (n, version) in [session.version - 1, session.version + 1, 999]
        .into_iter()
        .enumerate()
    {
        for action in ["approve", "reject"] {
            let custom_id = format!("fs:{action}:{}:{version}", session.id);
            let outcome = t
                .unchanged(
                    session.id,
                    press_button(
                        &t.app.front(),
                        &t.bob,
                        "test",
                        &format!("e{n}-{action}"),
                        &custom_id,
                    ),
                )
                .await;
            assert_matches!(
                outcome,
                PressOutcome::Refused(AppError::Rule(RuleViolation::StaleVersion { .. })),
                "{custom_id}"
            );
        }
    }

    assert_eq!(
        t.chat.edit_calls(),
        edits_before,
        "the card already shows the session: no edit, no new picture"
    );
}

/// How many times the approval cards were edited so far.
fn card_edits(t: &TestApp) -> usize {
    t.chat
        .posts_to(Channel::Approvals)
        .iter()
        .map(|p| p.edits.len())
        .sum()
}

#[sqlx::test]
async fn a_reject_of_an_old_card_is_refused_and_the_current_card_is_left_as_it_is(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let old = t.submitted().await;
    t.app.desk.withdraw(&t.alice, old.id).await.unwrap();
    let current = t.app.desk.submit(&t.alice, old.id).await.unwrap();

    let pressed = press_button(
        &t.app.front(),
        &t.bob,
        "test",
        "e1",
        &format!("fs:reject:{}:{}", old.id, old.version),
    )
    .await;
    assert_matches!(
        pressed,
        PressOutcome::Refused(AppError::Rule(RuleViolation::StaleVersion { .. }))
    );
    // A form opened from the old card before the session changed carries the old version too.
    let edits_before = card_edits(&t);
    let submitted = reject_with_reason(
        &t.app.front(),
        &t.bob,
        "test",
        "modal-1",
        old.id,
        old.version,
        "wrong prices",
    )
    .await;

    assert_matches!(
        submitted,
        Err(AppError::Rule(RuleViolation::StaleVersion { seen, current: now }))
            if seen == old.version && now == current.version
    );
    assert_eq!(
        card_edits(&t),
        edits_before,
        "the current card is not redrawn"
    );
    assert_eq!(
        t.app.queries.get(old.id).await.unwrap().status,
        Status::PendingApproval
    );
    assert_eq!(t.activity_count(old.id, "rejected").await, 0);
}

#[sqlx::test]
async fn reject_asks_for_a_reason_then_rejects_once(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;

    let outcome = press_button(
        &t.app.front(),
        &t.bob,
        "test",
        "e1",
        &format!("fs:reject:{}:{}", session.id, session.version),
    )
    .await;
    assert_matches!(
        outcome,
        PressOutcome::NeedsReason { session_id, .. } if session_id == session.id
    );

    let first = reject_with_reason(
        &t.app.front(),
        &t.bob,
        "test",
        "modal-1",
        session.id,
        session.version,
        "wrong prices",
    )
    .await
    .unwrap();
    let again = reject_with_reason(
        &t.app.front(),
        &t.bob,
        "test",
        "modal-1",
        session.id,
        session.version,
        "wrong prices",
    )
    .await
    .unwrap();

    assert_eq!(first.map(|v| v.status), Some(Status::Draft));
    assert!(again.is_none());
    assert_eq!(t.activity_count(session.id, "rejected").await, 1);
}

#[sqlx::test]
async fn a_post_the_chat_refuses_for_good_alerts_approvers(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    // The bot lost its permission in the announcements channel.
    t.chat.set_refusing(Channel::Announcements, true);

    t.app
        .desk
        .reject(&t.bob, session.id, "FS-003 is on another promo")
        .await
        .unwrap();
    t.deliver_notices().await;
    t.deliver_notices().await;

    assert!(t.chat.posts_to(Channel::Announcements).is_empty());
    let alerts: Vec<_> = t
        .chat
        .posts_to(Channel::Approvals)
        .into_iter()
        .filter(|p| p.message.card.is_none())
        .collect();
    assert_eq!(alerts.len(), 1, "told once: {alerts:?}");
    assert_eq!(alerts[0].message.mentions, [Mention::Approvers]);
    let said = alerts[0].message.text.render(|_, _| String::new());
    assert!(said.contains("announcements channel was refused"), "{said}");
    assert!(said.contains("missing permission"), "{said}");
    assert!(said.contains("FS-003 is on another promo"), "{said}");
    let states: Vec<(String, String)> =
        sqlx::query_as("select event, state from outbox where session_id = $1 order by id")
            .bind(session.id)
            .fetch_all(&t.pool)
            .await
            .unwrap();
    let refused_alert = format!("refused:{}", outbox_id(&t, session.id, "rejected").await);
    assert_eq!(
        states,
        [
            ("card".to_owned(), "sent".to_owned()),
            ("rejected".to_owned(), "refused".to_owned()),
            (refused_alert, "sent".to_owned()),
        ]
    );
}

#[sqlx::test]
async fn a_post_the_approvals_channel_refuses_for_good_is_kept_and_alerts_nowhere(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    t.chat.set_refusing(Channel::Approvals, true);

    t.app
        .operations
        .notify(
            session.id,
            Notice::alert("check", Text::from("Check FS-002's price")),
        )
        .await
        .unwrap();
    t.deliver_notices().await;
    t.deliver_notices().await;

    // Logged at ERROR: there is nowhere left to say it in chat, and no loop.
    let states: Vec<(String, String)> =
        sqlx::query_as("select event, state from outbox where session_id = $1 order by id")
            .bind(session.id)
            .fetch_all(&t.pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        [
            ("card".to_owned(), "sent".to_owned()),
            ("check".to_owned(), "refused".to_owned()),
        ]
    );
    assert!(t.chat.posts_to(Channel::Announcements).is_empty());
}

async fn outbox_id(t: &TestApp, session_id: i64, event: &str) -> i64 {
    sqlx::query_scalar("select id from outbox where session_id = $1 and event = $2")
        .bind(session_id)
        .bind(event)
        .fetch_one(&t.pool)
        .await
        .unwrap()
}
