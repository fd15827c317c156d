//! A post whose try a stopped process left mid-call (issue 29, item 6): the
//! outbox knows it is in doubt without asking the chat, and the chat decides
//! whether posting it again is safe. The dead process is played by writing
//! its row as it would leave it: `sending`, the try written down, its lease
//! run out.

use flashsale_bot::chat::{Channel, InDoubt, Mention};
use sqlx::PgPool;

use crate::support::app::TestApp;

/// Rejects the submitted session, whose "rejected" post then waits.
async fn rejected_post(t: &TestApp) -> i64 {
    let session = t.submitted().await;
    t.app
        .desk
        .reject(&t.bob, session.id, "FS-003 is on another promo")
        .await
        .unwrap();
    session.id
}

/// The row as a process killed during the chat call leaves it.
async fn left_mid_call(t: &TestApp, session: i64) {
    let left = sqlx::query(
        "update outbox set state = 'sending', attempts = attempts + 1, claims = claims + 1, \
         claimed_by = 'killed', claimed_until = now() - interval '1 second', \
         posting_since = now() - interval '2 seconds' \
         where session_id = $1 and event = 'rejected' and state = 'pending'",
    )
    .bind(session)
    .execute(&t.pool)
    .await
    .unwrap();
    assert_eq!(left.rows_affected(), 1);
}

/// The rejection is in the channel once, and both posts are recorded sent.
async fn shown_once_and_sent(t: &TestApp, session: i64) {
    assert_eq!(rejections(t), 1);
    assert_eq!(
        states(t, session).await,
        [
            ("card".to_owned(), "sent".to_owned()),
            ("rejected".to_owned(), "sent".to_owned()),
        ]
    );
}

/// The rejection's post is kept unconfirmed, and the request to check it was sent.
async fn kept_unconfirmed_and_checked(t: &TestApp, session: i64) {
    let rejected = states(t, session).await;
    assert_eq!(
        rejected[1],
        ("rejected".to_owned(), "unconfirmed".to_owned())
    );
    assert_eq!(rejected[2].1, "sent");
    assert!(rejected[2].0.starts_with("unconfirmed:"), "{rejected:?}");
}

async fn states(t: &TestApp, session: i64) -> Vec<(String, String)> {
    sqlx::query_as("select event, state from outbox where session_id = $1 order by id")
        .bind(session)
        .fetch_all(&t.pool)
        .await
        .unwrap()
}

fn rejections(t: &TestApp) -> usize {
    t.chat
        .posts_to(Channel::Announcements)
        .iter()
        .filter(|p| {
            p.message
                .text
                .render(|_, _| String::new())
                .contains("FS-003 is on another promo")
        })
        .count()
}

#[sqlx::test]
async fn a_post_in_doubt_is_not_posted_again_on_a_chat_that_would_show_it_twice(pool: PgPool) {
    let t = TestApp::new(pool).await;
    t.chat.set_in_doubt(InDoubt::Stop);
    let session = rejected_post(&t).await;
    left_mid_call(&t, session).await;
    let calls = t.chat.post_calls();

    t.deliver_notices().await;
    t.deliver_notices().await;

    assert_eq!(rejections(&t), 0, "not posted again");
    let alerts: Vec<_> = t
        .chat
        .posts_to(Channel::Approvals)
        .into_iter()
        .filter(|p| p.message.card.is_none())
        .collect();
    assert_eq!(alerts.len(), 1, "approvers asked once: {alerts:?}");
    assert_eq!(alerts[0].message.mentions, [Mention::Approvers]);
    let said = alerts[0].message.text.render(|_, _| String::new());
    assert!(
        said.contains("cannot tell whether the post arrived"),
        "{said}"
    );
    assert!(said.contains("FS-003 is on another promo"), "{said}");
    assert_eq!(t.chat.post_calls(), calls + 1, "only the alert was posted");
    kept_unconfirmed_and_checked(&t, session).await;
}

#[sqlx::test]
async fn a_post_in_doubt_is_posted_again_on_a_chat_that_drops_repeats(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = rejected_post(&t).await;
    left_mid_call(&t, session).await;

    t.deliver_notices().await;

    shown_once_and_sent(&t, session).await;
}

#[sqlx::test]
async fn a_post_the_chat_did_not_take_is_tried_again_and_is_not_in_doubt(pool: PgPool) {
    let t = TestApp::new(pool).await;
    t.chat.set_in_doubt(InDoubt::Stop);
    let session = rejected_post(&t).await;
    t.chat.set_down(true);
    t.deliver_notices().await;
    let (state, in_doubt): (String, bool) = sqlx::query_as(
        "select state, posting_since is not null from outbox \
         where session_id = $1 and event = 'rejected'",
    )
    .bind(session)
    .fetch_one(&t.pool)
    .await
    .unwrap();
    assert_eq!((state.as_str(), in_doubt), ("pending", false));

    t.chat.set_down(false);
    sqlx::query("update outbox set next_attempt_at = now() where session_id = $1")
        .bind(session)
        .execute(&t.pool)
        .await
        .unwrap();
    t.deliver_notices().await;

    shown_once_and_sent(&t, session).await;
}

/// Every post waiting is due now, however long its retry was to wait.
async fn make_due(t: &TestApp) {
    sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
        .execute(&t.pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn a_post_whose_answer_is_lost_is_posted_again_on_a_chat_that_drops_repeats(pool: PgPool) {
    let t = TestApp::new(pool).await;
    let session = rejected_post(&t).await;
    t.chat.lose_answers(1);

    t.deliver_notices().await;
    assert_eq!(rejections(&t), 1, "the chat has it, the bot does not know");
    make_due(&t).await;
    t.deliver_notices().await;

    // Posted again under the same key, which the chat drops.
    shown_once_and_sent(&t, session).await;
    assert!(t.checks_asked().is_empty());
}

#[sqlx::test]
async fn a_post_whose_answer_is_lost_is_not_posted_again_on_a_chat_that_would_show_it_twice(
    pool: PgPool,
) {
    let t = TestApp::new(pool).await;
    t.chat.set_in_doubt(InDoubt::Stop);
    let session = rejected_post(&t).await;
    t.chat.lose_answers(1);
    let calls = t.chat.post_calls();

    t.deliver_notices().await;
    make_due(&t).await;
    t.deliver_notices().await;

    assert_eq!(
        rejections(&t),
        1,
        "shown once, by the call whose answer was lost"
    );
    let checks = t.checks_asked();
    assert_eq!(checks.len(), 1, "approvers asked once: {checks:?}");
    assert!(checks[0].contains("did not answer"), "{}", checks[0]);
    assert!(
        checks[0].contains("FS-003 is on another promo"),
        "{}",
        checks[0]
    );
    assert_eq!(
        t.chat.post_calls(),
        calls + 2,
        "the post once, then the request to check"
    );
    kept_unconfirmed_and_checked(&t, session).await;
}

#[sqlx::test]
async fn a_request_to_check_that_is_itself_in_doubt_asks_nothing_more(pool: PgPool) {
    let t = TestApp::new(pool).await;
    t.chat.set_in_doubt(InDoubt::Stop);
    let session = rejected_post(&t).await;
    // The post's answer is lost, and so is the request to check it.
    t.chat.lose_answers(2);

    for _ in 0..3 {
        t.deliver_notices().await;
        make_due(&t).await;
    }

    assert_eq!(t.checks_asked().len(), 1, "the chat has the one request");
    let rows = states(&t, session).await;
    assert_eq!(rows.len(), 3, "no request about the request: {rows:?}");
    assert_eq!(rows[1], ("rejected".to_owned(), "unconfirmed".to_owned()));
    assert!(rows[2].0.starts_with("unconfirmed:"), "{rows:?}");
    assert_eq!(rows[2].1, "unconfirmed");
}
