//! `list` as a use case: a calendar page by page, with the free time between
//! sessions, and a page past the end refused with how many there are.

use chrono::Duration;
use flashsale_bot::app::{FreeSlot, ListRange, ListView};
use sqlx::PgPool;

use crate::support::app::{instant, TestApp};

/// `n` one-hour drafts tomorrow from 00:00 (Jakarta), each 30 minutes after the last ended.
async fn drafts(t: &TestApp, n: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let start = instant(1, "00:00") + Duration::minutes(90 * i);
        let end = start + Duration::hours(1);
        let typed = |at: chrono::DateTime<chrono::Utc>| {
            at.with_timezone(&chrono_tz::Asia::Jakarta)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        };
        ids.push(t.draft_at(&typed(start), &typed(end)).await.id);
    }
    ids
}

fn ids(list: &ListView) -> Vec<i64> {
    list.rows.iter().map(|r| r.session.id).collect()
}

#[sqlx::test]
async fn a_long_list_comes_in_pages_and_the_free_time_carries_across_them(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let all = drafts(&t, 12).await;

    let first = t
        .app
        .queries
        .list_view(ListRange::Upcoming, 1)
        .await
        .unwrap();
    let second = t
        .app
        .queries
        .list_view(ListRange::Upcoming, 2)
        .await
        .unwrap();

    assert_eq!(ListView::PAGE_SIZE, 10);
    assert_eq!((first.page, first.pages, first.total), (1, 2, 12));
    assert_eq!(ids(&first), all[..10]);
    assert_eq!(ids(&second), all[10..]);
    assert_eq!(
        first.next_page_command().as_deref(),
        Some("/flashsale list page:2")
    );
    assert_eq!(second.next_page_command(), None);
    // No gap before the very first session; 30 minutes before every other,
    // including the first one of page 2 (its gap starts on page 1).
    assert_eq!(first.rows[0].free_before, None);
    let tenth_ends = instant(1, "00:00") + Duration::minutes(90 * 9 + 60);
    assert_eq!(
        second.rows[0].free_before,
        Some(FreeSlot {
            from: tenth_ends,
            to: tenth_ends + Duration::minutes(30)
        })
    );
    assert!(first.rows[1..]
        .iter()
        .chain(&second.rows)
        .all(|r| r.free_before.map(|f| f.length()) == Some(Duration::minutes(30))));

    let week = t.app.queries.list_view(ListRange::Week, 1).await.unwrap();
    assert_eq!(
        week.next_page_command().as_deref(),
        Some("/flashsale list range:week page:2")
    );
}

#[sqlx::test]
async fn a_page_past_the_end_is_refused_with_how_many_pages_there_are(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let refused = t
        .app
        .queries
        .list_view(ListRange::Upcoming, 2)
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Page 2 does not exist: the list of upcoming sessions has 1 page, from 1."
    );
    assert!(refused.is_user_error());
    // An empty list still has its one (empty) page.
    let empty = t
        .app
        .queries
        .list_view(ListRange::Upcoming, 1)
        .await
        .unwrap();
    assert_eq!((empty.rows.len(), empty.pages, empty.total), (0, 1, 0));

    drafts(&t, 11).await;
    for (range, page, refusal) in [
        (
            ListRange::Upcoming,
            3,
            "Page 3 does not exist: the list of upcoming sessions has 2 pages, from 1.",
        ),
        (
            ListRange::Week,
            0,
            "Page 0 does not exist: this week's list has 2 pages, from 1.",
        ),
        (
            ListRange::Today,
            2,
            "Page 2 does not exist: today's list has 1 page, from 1.",
        ),
    ] {
        let refused = t.app.queries.list_view(range, page).await.unwrap_err();
        assert_eq!(refused.to_string(), refusal);
    }
}
