//! The activity log is append-only and readable page by page.

use sqlx::PgPool;

use crate::support::app::*;

/// Runs `sql` on the session's log entries straight against the database, as
/// someone with database access might; the database must refuse it.
async fn tamper(pool: &PgPool, sql: &'static str, session_id: i64) -> sqlx::Error {
    sqlx::query(sql)
        .bind(session_id)
        .execute(pool)
        .await
        .unwrap_err()
}

#[sqlx::test]
async fn the_database_refuses_to_update_the_log(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft_with(1).await;

    let err = tamper(
        &pool,
        "update activity set actor_name = 'mallory' where session_id = $1",
        session.id,
    )
    .await;

    assert!(
        err.to_string()
            .contains("activity is append-only: UPDATE refused"),
        "{err}"
    );
    assert_eq!(
        t.activity_actions(session.id).await,
        ["drafted", "item_added"]
    );
    let names: Vec<String> =
        sqlx::query_scalar("select actor_name from activity where session_id = $1")
            .bind(session.id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(names.iter().all(|n| n == "alice"));
}

#[sqlx::test]
async fn the_database_refuses_to_delete_from_the_log(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft_with(1).await;

    let err = tamper(
        &pool,
        "delete from activity where session_id = $1",
        session.id,
    )
    .await;

    assert!(
        err.to_string()
            .contains("activity is append-only: DELETE refused"),
        "{err}"
    );
    assert_eq!(t.activity_actions(session.id).await.len(), 2);
}

#[sqlx::test]
async fn the_database_refuses_to_truncate_the_log(pool: PgPool) {
    let t = TestApp::new(pool.clone()).await;
    let session = t.draft().await;

    let err = sqlx::query("truncate activity cascade")
        .execute(&pool)
        .await
        .unwrap_err();

    assert!(err.to_string().contains("append-only"), "{err}");
    assert_eq!(t.activity_actions(session.id).await, ["drafted"]);
}

#[sqlx::test]
async fn the_log_is_paged_oldest_first(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = t.draft_with(6).await;
    for _ in 0..5 {
        t.app
            .desk
            .remove_item(&t.alice, session.id, "FS-006")
            .await
            .unwrap();
        t.app
            .add_text(&t.alice, session.id, &item("FS-006", "30", "10"))
            .await
            .unwrap();
    }
    // 1 drafted + 6 added + 10 remove/add = 17 entries: two pages of 15.

    let first = t.app.queries.activity(session.id, 1).await.unwrap();
    let second = t.app.queries.activity(session.id, 2).await.unwrap();
    let beyond = t.app.queries.activity(session.id, 9).await.unwrap_err();

    assert_eq!((first.total, first.pages, first.entries.len()), (17, 2, 15));
    assert_eq!(first.entries[0].action, "drafted");
    assert_eq!(second.entries.len(), 2);
    assert_eq!(second.entries[1].action, "item_added");
    assert!(first.entries.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(
        beyond.to_string(),
        format!(
            "Page 9 does not exist: the log of #{} has 2 pages, from 1.",
            session.id
        ),
        "a page past the end is not shown as the last page"
    );
}

#[sqlx::test]
async fn the_log_of_a_missing_session_is_refused(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let err = t.app.queries.activity(42, 1).await.unwrap_err();
    // The use case names the command; the adapter writes it (here: the slash form).
    assert_eq!(err.to_string(), "Session #42 does not exist.");
    assert_eq!(
        err.message().render(|_, _| String::new()),
        "Session #42 does not exist. Use /flashsale list to see the sessions."
    );
}
