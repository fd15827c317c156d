//! The card's footer names who submitted the session, not only who drafted it.

use flashsale_bot::app::cards::session_card;
use flashsale_bot::app::SessionView;
use sqlx::PgPool;

use crate::support::app::{editor, TestApp};

fn footer(view: &SessionView) -> String {
    session_card(view).footer.unwrap_or_default()
}

#[sqlx::test]
async fn the_footer_names_the_submitter_and_the_drafter_when_they_differ(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let dana = editor("dana");
    let draft = t.draft_with(6).await;
    assert_eq!(
        footer(&draft),
        format!("version {} · drafted by alice", draft.version)
    );

    let submitted = t.app.desk.submit(&dana, draft.id).await.unwrap();
    assert_eq!(submitted.submitted_by_name.as_deref(), Some("dana"));
    assert_eq!(
        footer(&submitted),
        format!(
            "version {} · drafted by alice · submitted by dana",
            submitted.version
        )
    );
    // The approval card posted on submit says so too, and so does the approved card.
    let posted = t
        .chat
        .posts()
        .into_iter()
        .last()
        .expect("the approval card");
    let card = posted.message.card.expect("a card");
    assert!(
        card.footer
            .as_deref()
            .is_some_and(|f| f.ends_with("submitted by dana")),
        "{card:?}"
    );
    let approved = t
        .app
        .desk
        .approve(&t.bob, draft.id, submitted.version)
        .await
        .unwrap();
    assert!(footer(&approved).ends_with("drafted by alice · submitted by dana"));
    // Stored, not only carried in the view.
    let stored: Option<String> =
        sqlx::query_scalar("select submitted_by_name from session where id = $1")
            .bind(draft.id)
            .fetch_one(&t.pool)
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some("dana"));
}

#[sqlx::test]
async fn one_person_who_drafted_and_submitted_is_named_once(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let submitted = t.submitted().await;
    assert_eq!(
        footer(&submitted),
        format!("version {} · submitted by alice", submitted.version)
    );
}

#[sqlx::test]
async fn a_session_that_is_a_draft_again_names_only_its_drafter(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let dana = editor("dana");
    let draft = t.draft_with(6).await;
    t.app.desk.submit(&dana, draft.id).await.unwrap();
    let withdrawn = t.app.desk.withdraw(&dana, draft.id).await.unwrap();
    assert_eq!(
        footer(&withdrawn),
        format!("version {} · drafted by alice", withdrawn.version)
    );
    // Submitted again by someone else: the footer names the new submitter.
    let again = t.app.desk.submit(&t.alice, draft.id).await.unwrap();
    assert_eq!(
        footer(&again),
        format!("version {} · submitted by alice", again.version)
    );
}

/// The migration fills the name in for sessions submitted before it existed,
/// from the log entry of their last submit.
#[sqlx::test]
async fn the_migration_names_the_submitters_of_older_sessions(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let dana = editor("dana");
    let draft = t.draft_with(6).await;
    t.app.desk.submit(&dana, draft.id).await.unwrap();
    t.app.desk.withdraw(&dana, draft.id).await.unwrap();
    t.app.desk.submit(&t.alice, draft.id).await.unwrap();
    let never = t.draft().await;
    sqlx::query("update session set submitted_by_name = null")
        .execute(&t.pool)
        .await
        .unwrap();

    let migration: &'static str =
        include_str!("../../migrations/20261202170001_submitted_by_name.sql");
    let backfill = &migration[migration.find("update session").expect("the backfill")..];
    sqlx::raw_sql(backfill).execute(&t.pool).await.unwrap();

    let submitted = t.app.queries.get(draft.id).await.unwrap();
    assert_eq!(submitted.submitted_by_name.as_deref(), Some("alice"));
    let never = t.app.queries.get(never.id).await.unwrap();
    assert_eq!(never.submitted_by_name, None);
}
