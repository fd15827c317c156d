//! Creating drafts.

use flashsale_bot::app::{AppError, DraftInput, InputError};
use flashsale_bot::domain::{Actor, RuleViolation, Status, TransitionRefused, WindowError};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;

fn input(title: &str, start: &str, end: &str) -> DraftInput {
    DraftInput {
        title: title.into(),
        start: start.into(),
        end: end.into(),
        notes: Some("  first rotation  ".into()),
    }
}

async fn session_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from session")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// `who` drafts with `input`; the app must refuse it and store no session.
async fn refused_draft(t: &TestApp, who: &Actor, input: DraftInput) -> AppError {
    let err = t.app.desk.create_draft(who, &input).await.unwrap_err();
    assert_eq!(
        session_count(&t.pool).await,
        0,
        "a refused draft was stored"
    );
    err
}

#[sqlx::test]
async fn an_editor_drafts_a_session_in_the_business_time_zone(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t
        .app
        .desk
        .create_draft(
            &t.alice,
            &input(" Midnight  Deals ", "tomorrow 00:00", "tomorrow 12:00"),
        )
        .await
        .unwrap();

    assert_eq!(session.title, "Midnight Deals");
    assert_eq!(session.status, Status::Draft);
    assert_eq!(session.version, 1);
    assert!(session.items.is_empty());
    // Midnight in Jakarta (UTC+7) is 17:00 UTC the day before: 7 hours
    // after the test clock's 10:00 UTC.
    assert_eq!(
        session.window.starts_at(),
        test_now() + chrono::Duration::hours(7)
    );
    assert_eq!(session.window.starts_at(), instant(1, "00:00"));
    assert_eq!(session.window.ends_at(), instant(1, "12:00"));
    assert_eq!(session.approval_deadline, instant(0, "23:00"));
    assert_eq!(session.notes.as_deref(), Some("first rotation"));
    assert_eq!(session.created_by, t.alice.id);
    assert_eq!(t.activity_actions(session.id).await, ["drafted"]);
}

#[sqlx::test]
async fn an_approver_without_the_editor_role_cannot_draft(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = refused_draft(
        &t,
        &t.bob,
        input("Deals", "tomorrow 00:00", "tomorrow 12:00"),
    )
    .await;
    assert_matches!(
        err,
        AppError::Transition(TransitionRefused::DraftingForbidden)
    );
}

#[sqlx::test]
async fn a_start_in_the_past_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = refused_draft(&t, &t.alice, input("Deals", "today 09:00", "today 12:00")).await;
    assert_matches!(
        err,
        AppError::Input(InputError::Window(WindowError::StartPassed { .. }))
    );
}

#[sqlx::test]
async fn a_start_too_close_to_be_approved_in_time_is_refused(pool: PgPool) {
    // 17:00 now in Jakarta; approval closes an hour before the start.
    let t = TestApp::new(pool).await;
    let err = refused_draft(&t, &t.alice, input("Deals", "today 17:30", "today 20:00")).await;
    assert_matches!(
        err,
        AppError::Rule(RuleViolation::ApprovalDeadlinePassed { .. })
    );
    assert_eq!(
        err.to_string(),
        format!(
            "The approval deadline ({} 16:30 WIB) has passed: a session must be approved 60 minutes before it starts.",
            day(0)
        )
    );
}

#[sqlx::test]
async fn an_end_before_the_start_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = refused_draft(
        &t,
        &t.alice,
        input("Deals", &at(2, "12:00"), &at(2, "10:00")),
    )
    .await;
    assert_matches!(
        err,
        AppError::Input(InputError::Window(WindowError::EndNotAfterStart { .. }))
    );
}

#[sqlx::test]
async fn a_blank_title_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = refused_draft(
        &t,
        &t.alice,
        input("   ", "tomorrow 00:00", "tomorrow 12:00"),
    )
    .await;
    assert_eq!(
        err.to_string(),
        "The title is empty: give the session a name such as \"Midnight Deals\"."
    );
}

#[sqlx::test]
async fn an_unreadable_time_is_refused_with_the_accepted_forms(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = refused_draft(
        &t,
        &t.alice,
        input("Deals", "27/11 00:00", "tomorrow 12:00"),
    )
    .await;
    assert_matches!(
        err,
        AppError::Input(InputError::Window(WindowError::BadFormat { .. }))
    );
    assert!(err.to_string().contains("YYYY-MM-DD HH:MM"), "{err}");
}

/// The one rule for free text, through the use cases that take it: a title,
/// notes, a rejection, a cancellation. A NUL once reached Postgres and came
/// back as "Sorry, something went wrong"; now each is refused saying which
/// character and where, and nothing is written.
#[sqlx::test]
async fn control_characters_in_free_text_are_refused_by_name_and_change_nothing(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let table = [
        (
            "Midnight\0Deals",
            "contains a NUL character (U+0000) after \"Midnight\"",
        ),
        (
            "Ding\u{7}",
            "contains a control character (U+0007) after \"Ding\"",
        ),
        (
            "\u{1b}[2JDeals",
            "contains a control character (U+001B) at the start",
        ),
        (
            "Deals\u{1b}]0;x\u{7}",
            "contains a control character (U+001B) after \"Deals\"",
        ),
        (
            "gpj\u{202E}exe.",
            "contains a hidden text-direction mark (U+202E) after \"gpj\"",
        ),
        (
            "Mid\u{200B}\u{200B}night",
            "contains a zero-width character (U+200B) after \"Mid\"",
        ),
    ];
    for (bad, what) in table {
        let title =
            refused_draft(&t, &t.alice, input(bad, "tomorrow 00:00", "tomorrow 12:00")).await;
        assert_eq!(
            title.to_string(),
            format!("The title {what}: type or paste plain text.")
        );
        let mut with_notes = input("Midnight Deals", "tomorrow 00:00", "tomorrow 12:00");
        with_notes.notes = Some(bad.to_owned());
        let notes = refused_draft(&t, &t.alice, with_notes).await;
        assert_eq!(
            notes.to_string(),
            format!("The notes {what}: type or paste plain text.")
        );
    }
    let session = t.submitted().await;
    for (bad, what) in table {
        let reject = t
            .refused(session.id, t.app.desk.reject(&t.bob, session.id, bad))
            .await;
        assert_eq!(
            reject.to_string(),
            format!("The reason {what}: type or paste plain text.")
        );
        let cancel = t
            .refused(session.id, t.app.desk.cancel(&t.bob, session.id, Some(bad)))
            .await;
        assert_eq!(
            cancel.to_string(),
            format!("The reason {what}: type or paste plain text.")
        );
    }
    // A carriage return is a line break in notes and a space in a title.
    let mut crlf = input("Midnight\r\nDeals", "tomorrow 00:00", "tomorrow 12:00");
    crlf.notes = Some("line one\r\nline two\rthree".into());
    let drafted = t.app.desk.create_draft(&t.alice, &crlf).await.unwrap();
    assert_eq!(drafted.title, "Midnight Deals");
    assert_eq!(drafted.notes.as_deref(), Some("line one\nline two\nthree"));
}

/// Reasons had no limit; now the refusal names it.
#[sqlx::test]
async fn a_reason_over_the_limit_is_refused_with_the_limit(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.submitted().await;
    let long = "x".repeat(1001);

    let err = t
        .refused(session.id, t.app.desk.reject(&t.bob, session.id, &long))
        .await;
    assert_eq!(
        err.to_string(),
        "The reason is 1001 characters long: allowed at most 1000."
    );
    let err = t
        .refused(
            session.id,
            t.app.desk.cancel(&t.bob, session.id, Some(&long)),
        )
        .await;
    assert_eq!(
        err.to_string(),
        "The reason is 1001 characters long: allowed at most 1000."
    );
}
