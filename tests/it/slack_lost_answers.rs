//! A Slack post whose answer is lost (docs/slack.md, "Posting once, without
//! reading history"): the app on the test's database delivers its outbox
//! through the real `SlackChat`, with a short deadline per call, to the fake
//! Slack on loopback. Slack takes the post and answers too late: the post is
//! kept unconfirmed and approvers are asked to check, never posted twice.
//! Slack out of reach (the connection refused) is the counter-case: nothing
//! was sent, so the post waits and goes out once when Slack is back.

use std::sync::Arc;
use std::time::Duration;

use flashsale_bot::app::{DraftInput, ManualClock, Services};
use flashsale_bot::catalog::{CachedCatalog, HttpCatalog};
use flashsale_bot::chat::Chat;
use flashsale_bot::config::SlackConfig;
use flashsale_bot::domain::Actor;
use flashsale_bot::platforms::slack::{Renderer, SlackApi, SlackChat};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::support::app::{
    approver, deliver_notices, editor, item, test_now, test_policy, TextInput, SIX,
};
use crate::support::catalog::{sample_products, CatalogServer};
use crate::support::fake_slack::{self, FakeSlack, ANNOUNCEMENTS, APPROVALS};
use crate::support::slack_bot::slack_text;

/// How long the bot waits for any Slack call here.
const DEADLINE: Duration = Duration::from_millis(500);
/// How long the fake keeps a stalled answer: well past `DEADLINE`.
const STALL: Duration = Duration::from_secs(3);
/// What the post under test says (the rejection's reason).
const REASON: &str = "FS-003 is on another promo";

/// The app speaking Slack to the fake.
struct Stage {
    fake: FakeSlack,
    app: Services,
    pool: PgPool,
    alice: Actor,
    bob: Actor,
    _catalog: CatalogServer,
}

impl Stage {
    async fn new(pool: PgPool) -> Stage {
        let fake = FakeSlack::start().await;
        let config = SlackConfig {
            bot_token: SecretString::from(fake_slack::BOT_TOKEN.to_owned()),
            app_token: SecretString::from(fake_slack::APP_TOKEN.to_owned()),
            api_base: fake.api_base(),
            announcements_channel_id: ANNOUNCEMENTS.to_owned(),
            approvals_channel_id: APPROVALS.to_owned(),
            editor_group_id: None,
            approver_group_id: None,
            editor_user_ids: Vec::new(),
            approver_user_ids: Vec::new(),
        };
        let api = SlackApi::new(&config.api_base, &config.bot_token)
            .expect("a Slack client")
            .with_timeout(DEADLINE)
            .expect("a Slack client");
        let chat: Arc<dyn Chat> = Arc::new(SlackChat::new(
            api,
            ANNOUNCEMENTS,
            APPROVALS,
            Renderer::new(&config, chrono_tz::Asia::Jakarta),
        ));
        let policy = test_policy();
        let catalog = CatalogServer::start(sample_products()).await;
        let http = HttpCatalog::new(
            catalog.url(),
            policy.currency.clone(),
            Duration::from_millis(500),
        )
        .expect("a catalog client");
        let app = Services::new(
            pool.clone(),
            Arc::new(CachedCatalog::new(http, Duration::from_secs(5))),
            policy,
            Arc::new(ManualClock::new(test_now())),
            chat,
        );
        Stage {
            fake,
            app,
            pool,
            alice: editor("alice"),
            bob: approver("bob"),
            _catalog: catalog,
        }
    }

    /// Alice submits six SKUs (the card goes to Slack at once), Bob rejects
    /// them with `REASON`: the rejection's post waits in the outbox.
    async fn rejected(&self) -> i64 {
        let draft = self
            .app
            .desk
            .create_draft(
                &self.alice,
                &DraftInput {
                    title: "Midnight Deals".into(),
                    start: "tomorrow 00:00".into(),
                    end: "tomorrow 12:00".into(),
                    notes: None,
                },
            )
            .await
            .unwrap();
        for sku in SIX {
            self.app
                .add_text(&self.alice, draft.id, &item(sku, "30", "10"))
                .await
                .unwrap();
        }
        self.app.desk.submit(&self.alice, draft.id).await.unwrap();
        self.app
            .desk
            .reject(&self.bob, draft.id, REASON)
            .await
            .unwrap();
        draft.id
    }

    async fn deliver(&self) {
        deliver_notices(&self.pool, &self.app).await;
    }

    /// Every post waiting is due now, however long its retry was to wait.
    async fn make_posts_due(&self) {
        sqlx::query("update outbox set next_attempt_at = now() where state = 'pending'")
            .execute(&self.pool)
            .await
            .unwrap();
    }

    /// The rejection's outbox row: (state, try written down, last error).
    async fn rejection_row(&self, session: i64) -> (String, bool, Option<String>) {
        sqlx::query_as(
            "select state, posting_since is not null, last_error from outbox \
             where session_id = $1 and event = 'rejected'",
        )
        .bind(session)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// The rejection as it is in the announcements channel.
    fn rejections_shown(&self) -> usize {
        self.fake
            .posted_in(ANNOUNCEMENTS)
            .iter()
            .filter(|p| slack_text(&p.message).contains(REASON))
            .count()
    }

    /// Every `chat.postMessage` of the rejection, answered or not.
    fn rejection_calls(&self) -> usize {
        self.fake
            .calls_to("chat.postMessage")
            .iter()
            .filter(|c| c.args["channel"] == ANNOUNCEMENTS && slack_text(&c.args).contains(REASON))
            .count()
    }

    /// The requests to check a post, as they are in the approvals channel.
    fn checks_asked(&self) -> Vec<String> {
        self.fake
            .posted_in(APPROVALS)
            .iter()
            .map(|p| slack_text(&p.message))
            .filter(|text| text.contains("cannot tell whether the post arrived"))
            .collect()
    }
}

#[sqlx::test]
async fn a_post_whose_answer_is_lost_is_not_posted_again(pool: PgPool) {
    let stage = Stage::new(pool).await;
    let session = stage.rejected().await;

    // Slack takes the rejection and answers only after the bot gave up.
    stage.fake.stall_posts(Some(REASON), STALL);
    let started = tokio::time::Instant::now();
    stage.deliver().await;
    assert!(
        started.elapsed() < STALL,
        "the bot waited for the stalled answer instead of its own deadline"
    );
    assert_eq!(stage.rejection_calls(), 1, "the post reached Slack");

    let (state, _, why) = stage.rejection_row(session).await;
    assert_eq!(state, "unconfirmed", "kept unconfirmed: {why:?}");
    assert!(
        why.as_deref().is_some_and(|w| w.contains("no answer")),
        "the row says why: {why:?}"
    );

    // Slack answers again at once; whatever is due goes out, and the
    // stalled answer has long arrived (or been dropped) meanwhile.
    stage.fake.stall_posts(None, Duration::ZERO);
    tokio::time::sleep(STALL).await;
    for _ in 0..3 {
        stage.make_posts_due().await;
        stage.deliver().await;
    }

    assert_eq!(
        stage.rejection_calls(),
        1,
        "the post is not sent to Slack again"
    );
    assert_eq!(stage.rejections_shown(), 1, "the channel shows it once");
    let checks = stage.checks_asked();
    assert_eq!(checks.len(), 1, "approvers are asked once: {checks:#?}");
    assert!(
        checks[0].contains("did not answer") && checks[0].contains(REASON),
        "the request says what happened and what the post said: {}",
        checks[0]
    );
    assert_eq!(stage.rejection_row(session).await.0, "unconfirmed");
    let problems = stage.fake.problems();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[sqlx::test]
async fn a_post_refused_before_it_was_sent_is_posted_once_when_slack_is_back(pool: PgPool) {
    let stage = Stage::new(pool).await;
    let session = stage.rejected().await;

    // Nothing listens on Slack's address: the connection is refused. The
    // card's idle connection was closed with it; give the client a moment to
    // see that, so the next call opens a new connection.
    stage.fake.unplug().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = stage.fake.calls().len();
    stage.deliver().await;

    assert_eq!(stage.fake.calls().len(), calls, "nothing reached Slack");
    let (state, in_doubt, why) = stage.rejection_row(session).await;
    assert_eq!(
        (state.as_str(), in_doubt),
        ("pending", false),
        "the post waits, clear of doubt: {why:?}"
    );

    stage.fake.plug().await;
    stage.make_posts_due().await;
    stage.deliver().await;
    stage.make_posts_due().await;
    stage.deliver().await;

    assert_eq!(
        stage.rejections_shown(),
        1,
        "posted once, when Slack is back"
    );
    assert_eq!(stage.rejection_calls(), 1);
    assert_eq!(stage.rejection_row(session).await.0, "sent");
    assert!(
        stage.checks_asked().is_empty(),
        "nothing was in doubt, so nobody is asked to check"
    );
}
