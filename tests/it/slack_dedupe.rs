//! Issue 29, item 6: Slack posts are deduplicated by what the outbox
//! recorded, never by reading channel history. The real bot against the fake
//! Slack, whose `conversations.history` is limited like a new commercially
//! distributed app's outside the Marketplace (one read a minute per channel):
//! the bot is killed after Slack took "now live" and before the bot could
//! record it, and started again.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

use crate::support::fake_slack::{ANNOUNCEMENTS, APPROVALS};
use crate::support::slack_bot::{slack_text, SlackStory, CY};

/// The outbox row of the session's "now live": (state, try written down, where posted).
async fn live_post(pool: &PgPool, session: i64) -> (String, bool, Option<String>) {
    sqlx::query_as(
        "select state, posting_since is not null, posted_message from outbox \
         where session_id = $1 and event = 'live'",
    )
    .bind(session)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn wait_live_post_state(pool: &PgPool, session: i64, state: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (now, ..) = live_post(pool, session).await;
        if now == state {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the live post stayed {now:?}, never {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test]
async fn a_bot_killed_between_slacks_post_and_its_record_shows_now_live_once_after_restart(
    pool: PgPool,
) {
    let mut story = SlackStory::start_with(
        pool,
        &[("APPROVAL_CUTOFF_MINUTES", "0"), ("MIN_LEAD_MINUTES", "0")],
    )
    .await;
    let start = Utc::now() + chrono::Duration::minutes(2);
    let (session, card) = story
        .submitted(start, start + chrono::Duration::minutes(30))
        .await;
    story.approve_from_card(CY, session, &card).await;

    // Slack takes "now live" and the bot never hears back.
    story.fake.hold_posts(Some("is now live!"));
    let mark = story.fake.mark();
    story.make_due(session, "publish").await;
    story.post_in(ANNOUNCEMENTS, mark, "is now live!").await;
    let (state, tried, posted) = live_post(&story.pool, session).await;
    assert_eq!(
        (state.as_str(), tried, posted),
        ("sending", true, None),
        "the try is written down before the call, its outcome not yet"
    );

    story.fake.hold_posts(None);
    story.kill_and_restart().await;

    // The restarted bot finds the post in doubt: it does not post it again
    // and asks approvers to check instead.
    let alert = story
        .post_in(APPROVALS, mark, "cannot tell whether the post arrived")
        .await;
    assert!(
        slack_text(&alert.args).contains("is now live!"),
        "the alert says what the post said: {}",
        alert.args
    );
    wait_live_post_state(&story.pool, session, "unconfirmed").await;

    let live: Vec<_> = story
        .fake
        .posted_in(ANNOUNCEMENTS)
        .into_iter()
        .filter(|p| slack_text(&p.message).contains("is now live!"))
        .collect();
    assert_eq!(live.len(), 1, "one message: {live:#?}");
    let posts = story
        .fake
        .calls_to("chat.postMessage")
        .into_iter()
        .filter(|c| {
            c.args["channel"] == ANNOUNCEMENTS && slack_text(&c.args).contains("is now live!")
        })
        .count();
    assert_eq!(posts, 1, "posted once, by the killed process");
    assert_eq!(
        story.fake.calls_to("conversations.history").len(),
        0,
        "nothing reads channel history"
    );
    story.finish().await;
}
