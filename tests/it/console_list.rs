//! `list` in the real console: the calendar with the free time between
//! sessions that `commands.md` promises (the same gaps Discord shows).

use sqlx::PgPool;

use crate::console_session::{dev_storefront, draft_id, Console};
use crate::support::app::at;

const STEP: std::time::Duration = std::time::Duration::from_secs(30);

/// Drafts `title` from `start` to `end` (as typed) and returns its id.
async fn draft(console: &mut Console, title: &str, start: &str, end: &str) -> i64 {
    console
        .send(&format!(
            r#"/flashsale draft title:"{title}" start:"{start}" end:"{end}""#
        ))
        .await;
    draft_id(&console.expect("Drafted #", STEP).await)
}

#[sqlx::test]
async fn the_console_list_shows_the_free_time_between_sessions(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;
    let first = draft(&mut console, "Morning", "tomorrow 12:00", "tomorrow 13:00").await;
    let cancelled = draft(&mut console, "Dropped", "tomorrow 13:30", "tomorrow 14:00").await;
    let last = draft(&mut console, "Evening", "tomorrow 15:00", "tomorrow 16:00").await;
    // Back to back with the first: no gap before it.
    let touching = draft(&mut console, "Lunch", "tomorrow 13:00", "tomorrow 13:30").await;
    console
        .send(&format!("/flashsale cancel session:{cancelled}"))
        .await;
    console
        .expect(&format!("Cancelled #{cancelled}."), STEP)
        .await;

    console.send("/flashsale list range:week").await;
    let list = console.expect(&format!("  #{last} Evening"), STEP).await;

    let at = |needle: &str| {
        list.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {list:#?}"))
    };
    let free: Vec<&String> = list.iter().filter(|l| l.contains("free")).collect();
    // The cancelled session holds nothing: one gap from the end of "Lunch" to "Evening".
    assert_eq!(free.len(), 1, "{list:#?}");
    assert!(free[0].starts_with("  · free 1h 30m: "), "{list:#?}");
    assert!(free[0].ends_with(" 13:30–15:00 WIB ·"), "{list:#?}");
    assert!(at(&format!("#{first} Morning")) < at(&format!("#{touching} Lunch")));
    assert!(at(&format!("#{cancelled} Dropped · Cancelled")) < at("· free"));
    assert_eq!(at("· free") + 1, at(&format!("#{last} Evening")));
    assert!(list
        .iter()
        .any(|l| l.starts_with("Flash sales this week · 4 sessions")));

    console.finish().await;
}

#[sqlx::test]
async fn a_long_console_list_comes_in_pages_and_a_missing_page_is_refused(pool: PgPool) {
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;
    // Eleven one-hour drafts the day after tomorrow, 30 minutes apart: two pages.
    let mut ids = Vec::new();
    for i in 0..11 {
        let minutes = 90 * i;
        let start = at(2, &format!("{:02}:{:02}", minutes / 60, minutes % 60));
        let minutes = minutes + 60;
        let end = at(2, &format!("{:02}:{:02}", minutes / 60, minutes % 60));
        ids.push(draft(&mut console, &format!("Sale {i}"), &start, &end).await);
    }

    console.send("/flashsale list").await;
    let first = console.expect("Next: ", STEP).await;
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("Upcoming flash sales · page 1 of 2 · 11 sessions")),
        "{first:#?}"
    );
    assert!(first
        .iter()
        .any(|l| l.starts_with(&format!("  #{} Sale 9 ", ids[9]))));
    assert!(!first
        .iter()
        .any(|l| l.starts_with(&format!("  #{} Sale 10 ", ids[10]))));
    assert_eq!(first.last().unwrap(), "Next: /flashsale list page:2");

    console.send("list page:2").await;
    let second = console
        .expect(&format!("#{} Sale 10 ", ids[10]), STEP)
        .await;
    assert!(
        second
            .iter()
            .any(|l| l.starts_with("Upcoming flash sales · page 2 of 2 · 11 sessions")),
        "{second:#?}"
    );
    // The gap before the first session of page 2 starts where page 1 ended.
    let free = &second[second.len() - 2];
    assert!(
        free.starts_with("  · free 30m: ") && free.ends_with(" 14:30–15:00 WIB ·"),
        "{second:#?}"
    );

    console.send("list page:3").await;
    let refused = console.expect("does not exist", STEP).await;
    assert_eq!(
        refused.last().unwrap(),
        "✗ Page 3 does not exist: the list of upcoming sessions has 2 pages, from 1."
    );
    console.send("list page:0").await;
    let refused = console.expect("page number", STEP).await;
    assert!(
        refused
            .last()
            .unwrap()
            .contains("page:\"0\" is not a page number: give a whole number above 0, e.g. page:3."),
        "{refused:#?}"
    );

    console.finish().await;
}
