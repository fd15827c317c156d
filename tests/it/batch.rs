//! Several items at once: a spreadsheet paste, a cloned session, and
//! platform events handled once.

use chrono::{Datelike, Duration, NaiveDate};
use flashsale_bot::app::{AppError, DraftInput, PasteError};
use flashsale_bot::domain::window::format_local;
use flashsale_bot::domain::{RuleViolation, Status, Window};
use sqlx::PgPool;

use crate::support::app::*;
use crate::support::assert_matches;

#[sqlx::test]
async fn pasted_lines_are_added_one_by_one_and_refusals_are_reported_per_line(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(1).await;
    let paste = "SKU\tDiscount\tQty\nFS-002\t30%\t10\nFS-003, 95, 10\n\nNOPE-9 20 1\nfs-001 10 1\nFS-004 40 % 5\n";

    let report = t
        .app
        .desk
        .add_pasted(&t.alice, session.id, paste)
        .await
        .unwrap();

    let outcomes: Vec<(usize, &str, bool)> = report
        .lines
        .iter()
        .map(|l| (l.line_no, l.sku.as_str(), l.result.is_ok()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (2, "FS-002", true),
            (3, "FS-003", false),
            (5, "NOPE-9", false),
            (6, "fs-001", false),
            (7, "FS-004", true)
        ]
    );
    let reason = |i: usize| report.lines[i].result.as_ref().unwrap_err().to_string();
    assert_eq!(reason(1), "Discount 95% is out of range: allowed 1-90%.");
    assert_eq!(
        reason(2),
        "NOPE-9 is not in the catalog: check the SKU for typos."
    );
    assert!(reason(3).starts_with("FS-001 is already in this session"));
    assert_eq!(report.added(), 2);
    assert_eq!(
        report
            .session
            .skus()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        ["FS-001", "FS-002", "FS-004"]
    );
}

#[sqlx::test]
async fn a_paste_of_seven_lines_is_refused_whole(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft().await;
    let paste = (1..=7)
        .map(|i| format!("FS-00{i} 10 1"))
        .collect::<Vec<_>>()
        .join("\n");

    let err = t
        .refused(
            session.id,
            t.app.desk.add_pasted(&t.alice, session.id, &paste),
        )
        .await;

    assert_matches!(
        err,
        AppError::Paste(PasteError::TooManyLines { count: 7, max: 6 })
    );
}

#[sqlx::test]
async fn a_paste_that_overflows_the_session_adds_until_full(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(5).await;

    let report = t
        .app
        .desk
        .add_pasted(&t.alice, session.id, "FS-007 10 1\nFS-008 10 1")
        .await
        .unwrap();

    assert!(report.lines[0].result.is_ok());
    assert_matches!(
        report.lines[1].result,
        Err(AppError::Rule(RuleViolation::SessionFull { .. }))
    );
    assert_eq!(report.session.items.len(), 6);
}

#[sqlx::test]
async fn cloning_makes_a_new_draft_with_the_same_items_and_length(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let source = t.approved().await;

    let report = t
        .app
        .desk
        .clone_session(&t.alice, source.id, &at(2, "00:00"), None, None)
        .await
        .unwrap();

    let copy = &report.session;
    assert_ne!(copy.id, source.id);
    assert_eq!(copy.status, Status::Draft);
    assert_eq!(copy.title, source.title);
    assert_eq!(copy.window.duration(), source.window.duration());
    assert_eq!(copy.window.starts_at(), instant(2, "00:00"));
    assert_eq!(copy.skus(), source.skus());
    assert_eq!(
        copy.notes.as_deref(),
        Some(&*format!("Cloned from #{}", source.id))
    );
    assert_eq!(report.added(), 6);
}

/// The night New York's clocks go back next year or later: the first Sunday
/// of November, after `test_now()`.
fn next_fall_back() -> NaiveDate {
    let year = test_now().year() + 1;
    let first = NaiveDate::from_ymd_opt(year, 11, 1).expect("a date");
    let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
    first + Duration::days(i64::from(to_sunday))
}

#[sqlx::test]
async fn a_clone_keeps_the_length_even_when_its_end_falls_in_a_repeated_hour(pool: PgPool) {
    let policy = flashsale_bot::domain::Policy {
        time_zone: chrono_tz::America::New_York,
        ..test_policy()
    };
    let t = TestApp::with_policy(pool, policy).await;
    let sunday = next_fall_back();
    let local = |day: NaiveDate, time: &str| format!("{} {time}", day.format("%Y-%m-%d"));
    let (friday, saturday) = (sunday - Duration::days(2), sunday - Duration::days(1));
    let source = t
        .app
        .desk
        .create_draft(
            &t.alice,
            &DraftInput {
                title: "Late Night".into(),
                start: local(friday, "22:30"),
                end: local(saturday, "01:30"),
                notes: None,
            },
        )
        .await
        .unwrap();

    // Three hours from Saturday 22:30 is 01:30 on Sunday, the first of the
    // two 01:30s that night: as text it is ambiguous and would be refused.
    let report = t
        .app
        .desk
        .clone_session(&t.alice, source.id, &local(saturday, "22:30"), None, None)
        .await
        .unwrap();

    let copy = &report.session;
    let shifted = Window::new(
        source.window.starts_at() + Duration::days(1),
        source.window.ends_at() + Duration::days(1),
        test_now(),
        &test_policy().window,
    )
    .unwrap();
    assert_eq!(copy.window, shifted);
    assert_eq!(copy.window.duration(), Duration::hours(3));
    assert_eq!(
        format_local(copy.window.ends_at(), chrono_tz::America::New_York),
        format!("{} 01:30 EDT", sunday.format("%Y-%m-%d"))
    );
}

#[sqlx::test]
async fn cloning_revalidates_every_item_against_the_catalog(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let source = t.draft_with(6).await;
    t.catalog.set_stock("FS-003", 2).await;

    let report = t
        .app
        .desk
        .clone_session(
            &t.alice,
            source.id,
            &at(2, "00:00"),
            Some(&at(2, "06:00")),
            Some("Day two"),
        )
        .await
        .unwrap();

    assert_eq!(report.session.title, "Day two");
    assert_eq!(report.added(), 5);
    let refused = report.lines.iter().find(|l| l.result.is_err()).unwrap();
    assert_eq!(refused.sku, "FS-003");
    assert_matches!(
        refused.result,
        Err(AppError::Rule(RuleViolation::NotEnoughStock {
            stock: 2,
            ..
        }))
    );
}

#[sqlx::test]
async fn a_platform_event_is_handled_only_the_first_time(pool: PgPool) {
    let t = TestApp::new(pool).await;
    assert!(t.app.desk.first_delivery("discord", "1234").await.unwrap());
    assert!(!t.app.desk.first_delivery("discord", "1234").await.unwrap());
    assert!(
        t.app.desk.first_delivery("console", "1234").await.unwrap(),
        "ids are per platform"
    );
}
