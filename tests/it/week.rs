//! Planning the week (issue 28): slots, `plan`, templates, the coverage
//! alarm across replicas and the calendar feed, on a real Postgres.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use flashsale_bot::app::command_line::parser::{parse_line, Command, Input};
use flashsale_bot::app::week::{PlanInput, WeekError};
use flashsale_bot::app::AppError;
use flashsale_bot::chat::{Channel, Mention};
use flashsale_bot::domain::Status;
use flashsale_bot::scheduler::Scheduler;
use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::support::app::{day, test_now, TestApp};
use crate::support::golive::fast_config;

/// Bob (an approver) declares a slot; its number.
async fn declare(t: &TestApp, days: &str, start: &str, end: &str) -> i64 {
    let said = t
        .app
        .desk
        .declare_slot(&t.bob, days, start, end)
        .await
        .expect("the slot is declared");
    let text = format!("{said:?}");
    let from = text.find("Declared slot ").expect("the slot's number") + 14;
    text[from..]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

fn plan_for(days: u32, template: Option<&str>, last_week: bool) -> PlanInput {
    let today = test_now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive();
    let days = days.to_string();
    PlanInput::parse(
        None,
        Some(&days),
        template,
        last_week.then_some("last-week"),
        today,
    )
    .expect("a plan")
}

#[sqlx::test]
async fn planning_drafts_the_empty_slots_leaves_out_unsellable_skus_and_says_what_it_skipped(
    pool: PgPool,
) {
    let t = TestApp::new(pool).await;
    let midnight = declare(&t, "daily", "00:00", "02:00").await;
    let lunch = declare(&t, "daily", "12:00", "13:00").await;
    // Tomorrow's midnight slot is taken by a draft with the six lines the template keeps.
    let taken = t
        .draft_at(&format!("{} 00:00", day(1)), &format!("{} 02:00", day(1)))
        .await;
    t.fill(taken.id, 6).await;
    t.app
        .desk
        .save_template(&t.alice, "Midnight", taken.id)
        .await
        .unwrap();
    // The day after, lunch is skipped on purpose.
    t.app
        .desk
        .skip_slot(&t.bob, lunch, &day(2), "stock count")
        .await
        .unwrap();
    // Since the template was saved, one SKU went inactive and one ran short.
    t.catalog.set_active("FS-003", false).await;
    t.catalog.set_stock("FS-004", 2).await;

    let report = t
        .app
        .desk
        .plan(&t.alice, &plan_for(3, Some("midnight"), false))
        .await
        .unwrap();

    // Today's slots have passed (test_now is 17:00 in Jakarta); tomorrow's
    // midnight is taken; tomorrow's lunch and the next midnight are drafted.
    let created: Vec<(i64, String)> = report
        .created
        .iter()
        .map(|d| (d.slot_id, d.occurrence.local_date.to_string()))
        .collect();
    assert_eq!(created, [(lunch, day(1)), (midnight, day(2))]);
    let whys: Vec<&str> = report.skipped.iter().map(|s| s.why.as_str()).collect();
    assert_eq!(whys.iter().filter(|w| **w == "already started").count(), 2);
    assert!(
        whys.contains(&format!("taken by #{} (Draft)", taken.id).as_str()),
        "{whys:?}"
    );
    assert!(whys.contains(&"skipped by bob: stock count"), "{whys:?}");
    let said = report.text().render(|at, _| at.to_rfc3339());
    assert!(
        said.contains("left out FS-003") && said.contains("left out FS-004"),
        "{said}"
    );
    assert!(
        said.contains("4 of 6 lines from template midnight"),
        "{said}"
    );

    // Each is an ordinary draft with the usual rules: four lines cannot be submitted.
    for d in &report.created {
        let view = t.app.queries.get(d.session_id).await.unwrap();
        assert_eq!(view.status, Status::Draft);
        assert_eq!(view.created_by_name, "alice");
        assert_eq!(view.window.starts_at(), d.occurrence.starts_at);
        let skus: Vec<String> = view.items.iter().map(|i| i.sku.to_string()).collect();
        assert_eq!(skus, ["FS-001", "FS-002", "FS-005", "FS-006"]);
        let refused = t.app.desk.submit(&t.alice, d.session_id).await.unwrap_err();
        assert!(refused.to_string().contains("needs exactly 6"), "{refused}");
    }

    // Planning again drafts nothing: every slot ahead is now taken or skipped.
    let again = t
        .app
        .desk
        .plan(&t.alice, &plan_for(3, Some("midnight"), false))
        .await
        .unwrap();
    assert!(again.created.is_empty(), "{:?}", again.created);
}

#[sqlx::test]
async fn planning_from_last_week_copies_the_session_in_the_same_slot_seven_days_earlier(
    pool: PgPool,
) {
    let t = TestApp::new(pool).await;
    let weekday = chrono::NaiveDate::parse_from_str(&day(1), "%Y-%m-%d")
        .unwrap()
        .format("%a")
        .to_string();
    declare(&t, &weekday, "00:00", "02:00").await;
    let source = t
        .draft_at(&format!("{} 00:00", day(1)), &format!("{} 02:00", day(1)))
        .await;
    t.fill(source.id, 3).await;

    let report = t
        .app
        .desk
        .plan(&t.alice, &plan_for(9, None, true))
        .await
        .unwrap();

    assert_eq!(report.created.len(), 1, "{:?}", report.created);
    let planned = &report.created[0];
    assert_eq!(planned.occurrence.local_date.to_string(), day(8));
    assert_eq!(planned.filled_from, format!("#{}", source.id));
    let view = t.app.queries.get(planned.session_id).await.unwrap();
    assert_eq!(view.title, source.title);
    assert_eq!(view.items.len(), 3);
}

#[sqlx::test]
async fn planning_is_for_editors_and_needs_declared_slots_and_a_known_template(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let input = plan_for(7, Some("midnight"), false);
    let refused = t.app.desk.plan(&t.bob, &input).await.unwrap_err();
    assert!(
        matches!(refused, AppError::Week(WeekError::NotEditor)),
        "{refused}"
    );
    let refused = t.app.desk.plan(&t.alice, &input).await.unwrap_err();
    assert!(
        matches!(refused, AppError::Week(WeekError::NoSlots)),
        "{refused}"
    );
    declare(&t, "daily", "00:00", "02:00").await;
    let refused = t.app.desk.plan(&t.alice, &input).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "There is no template \"midnight\": /flashsale templates lists them."
    );
    let refused = t
        .app
        .desk
        .declare_slot(&t.alice, "daily", "12:00", "13:00")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AppError::Week(WeekError::NotApprover)),
        "{refused}"
    );
    let refused = t
        .app
        .desk
        .declare_slot(&t.bob, "daily", "00:00", "02:00")
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "The slot daily 00:00-02:00 is declared already."
    );
}

#[sqlx::test]
async fn a_template_exported_imports_back_as_the_same_lines(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;
    let saved = t
        .app
        .desk
        .save_template(&t.alice, "weekday", session.id)
        .await
        .unwrap();
    assert_eq!(saved.lines.len(), 6);
    assert_eq!(saved.source, format!("#{}", session.id));

    let file = t.app.queries.export_template("weekday").await.unwrap();
    assert_eq!(file.file_name, "template-weekday.csv");
    let copy = t
        .app
        .desk
        .import_template(&t.alice, "weekday-copy", &file.file_name, &file.csv, None)
        .await
        .unwrap();
    assert_eq!(copy.lines, saved.lines);
    assert_eq!(copy.source, "template-weekday.csv");

    let taken = t
        .app
        .desk
        .save_template(&t.alice, "WEEKDAY", session.id)
        .await
        .unwrap_err();
    assert!(
        matches!(taken, AppError::Week(WeekError::TemplateExists(_))),
        "{taken}"
    );
    let names: Vec<String> = t
        .app
        .queries
        .templates()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["weekday", "weekday-copy"]);
    t.app
        .desk
        .delete_template(&t.alice, "weekday-copy")
        .await
        .unwrap();
    assert_eq!(t.app.queries.templates().await.unwrap().len(), 1);
    let gone = t
        .app
        .queries
        .export_template("weekday-copy")
        .await
        .unwrap_err();
    assert!(
        matches!(gone, AppError::Week(WeekError::TemplateNotFound(_))),
        "{gone}"
    );
}

#[sqlx::test]
async fn a_template_file_with_bad_rows_is_refused_naming_each_row(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let csv = "SKU,Discount %,Flash Qty\nFS-001,30,5\nFS-002,95,5\nFS-001,10,1\n";
    let refused = t
        .app
        .desk
        .import_template(&t.alice, "bad", "bad.csv", csv.as_bytes(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with("Nothing was saved from \"bad.csv\":"),
        "{refused}"
    );
    assert!(
        refused.contains("Row 3: Discount 95% is out of range"),
        "{refused}"
    );
    assert!(refused.contains("Row 4: FS-001 appears twice"), "{refused}");
    assert!(t.app.queries.templates().await.unwrap().is_empty());
}

/// `HH:MM` in Jakarta of `at`, rounded up to the next whole minute.
fn jakarta_minute(at: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let up = DateTime::from_timestamp((at.timestamp() / 60 + 1) * 60, 0).unwrap();
    let local = up.with_timezone(&chrono_tz::Asia::Jakarta);
    (local.format("%H:%M").to_string(), up)
}

async fn db_now(pool: &PgPool) -> DateTime<Utc> {
    sqlx::query_scalar("select now()")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn alarms(t: &TestApp) -> Vec<flashsale_bot::chat::Message> {
    t.chat
        .posts_to(Channel::Announcements)
        .into_iter()
        .map(|p| p.message)
        .filter(|m| format!("{:?}", m.text).contains("No approved flash sale"))
        .collect()
}

#[sqlx::test]
async fn the_coverage_alarm_posts_once_per_slot_and_reminder_across_two_replicas(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    // The database's clock decides which reminders are due; the app's
    // clock (for the skip's "still ahead" check) is set to it.
    let now = db_now(&pool).await;
    t.clock.set(now);
    // An uncovered slot in about five hours: its 6-hour reminder is due.
    let (start, starts_at) = jakarta_minute(now + Span::hours(5));
    let (end, _) = jakarta_minute(now + Span::hours(6));
    let open = declare(&t, "daily", &start, &end).await;
    // Another in about three hours, skipped on purpose: no alarm for it.
    let (start, skipped_at) = jakarta_minute(now + Span::hours(3));
    let (end, _) = jakarta_minute(now + Span::hours(3) + Span::minutes(30));
    let quiet = declare(&t, "daily", &start, &end).await;
    let date = skipped_at
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive()
        .to_string();
    t.app
        .desk
        .skip_slot(&t.bob, quiet, &date, "warehouse closed")
        .await
        .unwrap();

    let replica = |name: &str| {
        Scheduler::new(
            pool.clone(),
            t.app.operations.clone(),
            Arc::new(
                flashsale_bot::storefront::HttpStorefront::new(
                    "http://127.0.0.1:9/".parse().unwrap(),
                    &SecretString::from(flashsale_bot::devstore::test_secret()),
                    Duration::from_millis(200),
                )
                .unwrap(),
            ),
            fast_config(name),
        )
    };
    let (a, b) = (replica("a"), replica("b"));
    for _ in 0..3 {
        let (due_a, due_b) = tokio::join!(a.check_coverage_now(), b.check_coverage_now());
        assert_eq!((due_a.unwrap(), due_b.unwrap()), (1, 1));
        let (ran_a, ran_b) = tokio::join!(a.run_due_now(), b.run_due_now());
        ran_a.unwrap();
        ran_b.unwrap();
    }

    let posted = alarms(&t);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let alarm = &posted[0];
    let text = format!("{:?}", alarm.text);
    assert!(text.contains(&format!("slot {open}")), "{text}");
    assert!(!text.contains(&format!("slot {quiet},")), "{text}");
    assert_eq!(alarm.mentions, [Mention::Editors, Mention::Approvers]);
    assert_eq!(
        alarm.dedupe_key.as_deref(),
        Some(format!("coverage:{open}:{}:6h", starts_at.timestamp()).as_str())
    );

    // The list shows the uncovered slot too, and not the skipped one.
    let list = t
        .app
        .queries
        .list_view(flashsale_bot::app::ListRange::Upcoming, 1)
        .await
        .unwrap();
    let uncovered = format!("{:?}", list.uncovered.expect("uncovered slots are listed"));
    assert!(
        uncovered.contains(&format!("(slot {open}) · NOT COVERED")),
        "{uncovered}"
    );
    // The skipped one is not listed; the same slot a day later is.
    assert_eq!(
        uncovered.matches(&format!("(slot {quiet})")).count(),
        1,
        "{uncovered}"
    );
}

#[sqlx::test]
async fn a_slot_covered_by_an_approved_session_raises_no_alarm(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let now = db_now(&pool).await;
    t.clock.set(now);
    let (start, _) = jakarta_minute(now + Span::hours(5));
    let (end, _) = jakarta_minute(now + Span::hours(6));
    declare(&t, "daily", &start, &end).await;
    let local_day = |at: DateTime<Utc>| {
        at.with_timezone(&chrono_tz::Asia::Jakarta)
            .date_naive()
            .to_string()
    };
    let session = t
        .submitted_at(
            &format!("{} {start}", local_day(now + Span::hours(5))),
            &format!("{} {end}", local_day(now + Span::hours(6))),
        )
        .await;
    t.app
        .desk
        .approve(&t.bob, session.id, session.version)
        .await
        .unwrap();

    let due = t.app.operations.check_coverage().await.unwrap();
    t.deliver_notices().await;
    assert_eq!(due, 0);
    assert!(alarms(&t).is_empty());
}

#[sqlx::test]
async fn the_calendar_feed_is_valid_icalendar_behind_its_token(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let approved = t.approved().await; // tomorrow 00:00-12:00 Jakarta
    let lunch = declare(&t, "daily", "12:00", "13:00").await;
    let midnight = declare(&t, "daily", "00:00", "02:00").await;
    let token = "a".repeat(40);
    let feed = flashsale_bot::http::CalendarFeed::new(
        t.app.queries.clone(),
        SecretString::from(token.clone()),
    );
    let router = flashsale_bot::http::router_with(crate::support::ops::connected(pool), Some(feed));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let (status, _) =
        crate::support::ops::get(format!("http://{addr}/calendar/{}.ics", "b".repeat(40))).await;
    assert_eq!(status, 404);
    let response = reqwest::get(format!("http://{addr}/calendar/{token}.ics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("\r\n"), "lines end in CRLF");

    let calendar: icalendar::Calendar = body.parse().expect("a real parser reads the feed");
    let events: Vec<&icalendar::Event> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    let utc = |d: Option<DatePerhapsTime>| match d {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("not a UTC time: {other:?}"),
    };
    let sale = events
        .iter()
        .find(|e| e.get_uid() == Some(&format!("session-{}@flashsale-bot", approved.id)))
        .expect("the approved session is in the feed");
    assert_eq!(utc(sale.get_start()), approved.window.starts_at());
    assert_eq!(utc(sale.get_end()), approved.window.ends_at());
    assert_eq!(
        sale.get_summary(),
        Some(format!("Flash sale #{}: Midnight Deals", approved.id).as_str())
    );
    // Lunch tomorrow and the day after are uncovered; midnight tomorrow is covered.
    let open: Vec<&&icalendar::Event> = events
        .iter()
        .filter(|e| e.get_summary() == Some(&format!("Uncovered flash-sale slot {lunch}")))
        .collect();
    assert_eq!(open.len(), 2, "{body}");
    // Midnight tomorrow is the approved sale's; the one after is open.
    let midnights: Vec<DateTime<Utc>> = events
        .iter()
        .filter(|e| e.get_summary() == Some(&format!("Uncovered flash-sale slot {midnight}")))
        .map(|e| utc(e.get_start()))
        .collect();
    assert_eq!(midnights, [crate::support::app::instant(2, "00:00")]);
    assert!(
        events.iter().all(|e| e.property_value("STATUS").is_some()),
        "{body}"
    );
}

#[test]
fn slot_and_template_commands_are_two_words_on_the_command_line() {
    let parsed = |line: &str| match parse_line(line) {
        Ok(Input::Flashsale(command)) => command,
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(
        parsed("/flashsale slot add start:00:00 end:02:00"),
        Command::SlotAdd {
            days: "daily".into(),
            start: "00:00".into(),
            end: "02:00".into()
        }
    );
    assert_eq!(
        parsed("slot skip slot:1 date:2026-12-24 reason:\"Christmas Eve\""),
        Command::SlotSkip {
            slot: 1,
            date: "2026-12-24".into(),
            reason: "Christmas Eve".into()
        }
    );
    assert_eq!(
        parsed("/flashsale template save name:midnight session:#3"),
        Command::TemplateSave {
            name: "midnight".into(),
            session: 3
        }
    );
    assert_eq!(
        parsed("/flashsale plan week:next template:midnight"),
        Command::Plan {
            week: Some("next".into()),
            days: None,
            template: Some("midnight".into()),
            from: None
        }
    );
    let refused = parse_line("/flashsale slot launch")
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with("Unknown command /flashsale slot launch"),
        "{refused}"
    );
    let refused = parse_line("/flashsale slot remove slot:x")
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        "slot:\"x\" is not a slot number: give a whole number above 0, e.g. slot:3."
    );
}
