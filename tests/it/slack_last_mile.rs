//! The last mile in Slack (issue 29), each on the real bot with the fake
//! Slack: forms only for people who may use them, window errors under the
//! right field, the approvals channel as a link, forged button values and
//! other workspaces refused, one role lookup per group under a burst, a
//! paste refused at once when the catalog is down, answers where the bot is
//! not a member, and typed text that stays text.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;

use crate::support::catalog::CatalogServer;
use crate::support::fake_slack::{APPROVALS, APP_ID, GENERAL, OUTSIDE, TEAM_ID};
use crate::support::slack_bot::{slack_text, typed, SlackStory, ANA, BO, CY, EVE};

fn in_three_hours() -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let start = Utc::now() + chrono::Duration::hours(3);
    (start, start + chrono::Duration::hours(2))
}

/// A slash command as Slack sends it, from `team` and `channel`, with a
/// `response_url` on the fake.
fn slash_payload(
    story: &SlackStory,
    team: &str,
    channel: &str,
    user: &str,
    text: &str,
    trigger: &str,
) -> serde_json::Value {
    let base = story.fake.api_base().to_string().replace("/api/", "/");
    json!({
        "token": "deprecated", "team_id": team, "team_domain": "x",
        "channel_id": channel, "channel_name": "somewhere",
        "user_id": user, "user_name": user.to_lowercase(), "command": "/flashsale",
        "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": format!("{base}response/{trigger}"),
        "trigger_id": trigger,
    })
}

#[sqlx::test]
async fn draft_and_import_forms_open_only_for_people_who_may_draft(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    for (who, command) in [
        (CY, "draft"),
        (EVE, "draft"),
        (CY, "import"),
        (EVE, "import"),
    ] {
        let answer = story.command(who, command).await;
        assert!(
            !answer.is_modal(),
            "{who} may not draft, yet `{command}` opened a form: {}",
            answer.text()
        );
        assert!(
            answer.text().contains("editor"),
            "the refusal says who may: {}",
            answer.text()
        );
    }
    assert!(story.fake.views().is_empty(), "no form was opened");
    assert!(story.command(ANA, "draft").await.is_modal());
    assert!(story.command(ANA, "import").await.is_modal());
    story.finish().await;
}

#[sqlx::test]
async fn a_start_in_the_past_is_refused_under_start_even_on_a_long_window(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let past = Utc::now() - chrono::Duration::hours(2);
    let far = Utc::now() + chrono::Duration::hours(100);
    story.command(ANA, "draft").await.view();
    let refused = story
        .submit_view(
            ANA,
            "fs:draft",
            &[
                ("title", "Too late"),
                ("start", &typed(past)),
                ("end", &typed(far)),
                ("notes", ""),
            ],
            GENERAL,
        )
        .await;
    let errors = refused.errors().expect("refused on the ack");
    let start = errors["start"].as_str().unwrap_or_default();
    assert!(start.contains("has already passed"), "{errors}");
    assert!(errors.get("end").is_none(), "nothing under End: {errors}");
    assert_eq!(story.sessions().await, 0);
    story.finish().await;
}

#[sqlx::test]
async fn the_submit_answer_links_the_approvals_channel(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let (start, end) = in_three_hours();
    let (session, _card) = story.submitted(start, end).await;
    let answer = story
        .fake
        .calls_to("chat.postEphemeral")
        .into_iter()
        .map(|c| slack_text(&c.args))
        .find(|t| t.starts_with(&format!("Submitted #{session}")))
        .expect("the submit answer");
    assert!(
        answer.contains(&format!("<#{APPROVALS}>")),
        "a channel link, not escaped text: {answer}"
    );
    assert!(!answer.contains("&lt;#"), "{answer}");
    story.finish().await;
}

#[sqlx::test]
async fn a_press_whose_value_is_not_its_action_id_is_refused(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let (start, end) = in_three_hours();
    let (session, card) = story.submitted(start, end).await;
    let [approve, reject] = <[String; 2]>::try_from(card.button_ids()).expect("two buttons");
    let mark = story.fake.mark();
    let trigger = "forged.press";
    let payload = json!({
        "type": "block_actions",
        "team": { "id": TEAM_ID, "domain": "fake" },
        "user": { "id": CY, "username": "u0cy", "name": "u0cy", "team_id": TEAM_ID },
        "api_app_id": APP_ID, "token": "deprecated", "trigger_id": trigger,
        "container": { "type": "message", "message_ts": card.ts, "channel_id": APPROVALS },
        "channel": { "id": APPROVALS, "name": "approvals" },
        "actions": [{ "type": "button", "action_id": approve, "block_id": "b", "value": reject,
                      "action_ts": "1795712400.000200" }],
    });
    let refused = story
        .refused(session, async {
            let sent = story.fake.push("interactive", payload, "a forged press");
            story.answer_to(&sent, mark, CY, APPROVALS).await
        })
        .await;
    assert!(
        refused.text().starts_with("This button is not one of ours"),
        "{}",
        refused.text()
    );
    assert_eq!(story.row(session).await.status, "pending_approval");
    story.finish().await;
}

#[sqlx::test]
async fn an_envelope_from_another_workspace_changes_nothing_and_is_not_answered(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let (start, end) = in_three_hours();
    let text = format!(
        "draft title:\"Elsewhere\" start:\"{}\" end:\"{}\"",
        typed(start),
        typed(end)
    );
    let mark = story.fake.mark();
    let foreign = slash_payload(&story, "T0OTHER", GENERAL, ANA, &text, "other.team");
    let sent = story
        .fake
        .push("slash_commands", foreign, "from another workspace");
    story.fake.ack(&sent).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(story.sessions().await, 0, "another workspace drafted");
    assert!(
        story.ephemerals_to(mark, ANA).is_empty(),
        "another workspace was answered"
    );
    // The same command from our workspace is taken.
    story
        .command(ANA, &text)
        .await
        .assert_starts_with("Drafted #");
    assert_eq!(story.sessions().await, 1);
    story.finish().await;
}

#[sqlx::test]
async fn a_burst_of_commands_asks_slack_for_each_group_once(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let mark = story.fake.mark();
    let people = [ANA, BO, CY, ANA, BO, CY, ANA, BO, CY, ANA, BO, CY];
    let sent: Vec<_> = people
        .iter()
        .map(|who| story.fake.slash(who, "list"))
        .collect();
    for sent in &sent {
        story.fake.ack(sent).await;
    }
    for who in [ANA, BO, CY] {
        story.wait_ephemerals(mark, who, 4).await;
    }
    let lookups = story.fake.calls_to("usergroups.users.list");
    assert_eq!(
        lookups.len(),
        2,
        "one lookup per group, not one per command: {:?}",
        lookups.iter().map(|c| &c.args).collect::<Vec<_>>()
    );
    story.finish().await;
}

#[sqlx::test]
async fn a_paste_with_the_catalog_down_is_refused_once_within_its_timeout(pool: PgPool) {
    let stalled = CatalogServer::stalling(Duration::from_secs(10)).await;
    let url = stalled.url().to_string();
    let story = SlackStory::start_with(
        pool,
        &[("STOREFRONT_URL", &url), ("CATALOG_TIMEOUT_MS", "1000")],
    )
    .await;
    let (start, end) = in_three_hours();
    let session = story.draft(ANA, "Catalog down", start, end).await;
    let before = stalled.request_count().await;
    let asked = Instant::now();
    let pasted = story
        .paste(
            ANA,
            session,
            "FS-002 25% 40\nFS-003 20 30\nFS-004 15 20\nFS-005 10 10\nFS-006 35% 5",
        )
        .await;
    let took = asked.elapsed();
    let text = pasted.answer().text();
    assert!(text.contains("catalog is unavailable"), "{text}");
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    assert_eq!(
        stalled.request_count().await - before,
        1,
        "one catalog lookup for the paste"
    );
    assert_eq!(story.row(session).await.items, 0);
    story.finish().await;
}

#[sqlx::test]
async fn an_answer_where_the_bot_is_not_a_member_comes_through_the_response_url(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let mark = story.fake.mark();
    let payload = slash_payload(&story, TEAM_ID, OUTSIDE, ANA, "list", "outside.list");
    let sent = story
        .fake
        .push("slash_commands", payload, "list from outside");
    story.fake.ack(&sent).await;
    let answered = story
        .fake
        .wait_call_after(mark, "an answer by response_url", |c| {
            c.method == "response_url"
        })
        .await;
    let text = slack_text(&answered.args);
    assert!(
        text.contains("No sessions here"),
        "the answer itself: {text}"
    );
    assert!(
        text.contains("/invite @flashsale-bot"),
        "how to invite: {text}"
    );
    assert_eq!(answered.args["response_type"], "ephemeral");
    story.finish().await;
}

#[sqlx::test]
async fn a_masked_link_typed_into_a_title_stays_text_in_slack(pool: PgPool) {
    let story = SlackStory::start(pool).await;
    let (start, end) = in_three_hours();
    let text = format!(
        "draft title:\"<https://evil.example|click> [click](https://evil.example)\" start:\"{}\" end:\"{}\"",
        typed(start),
        typed(end)
    );
    let drafted = story.command(ANA, &text).await;
    // mrkdwn would read `<url|text>` as a link; plain text (the header) reads nothing.
    let mrkdwn: Vec<String> = drafted.ephemeral()["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| {
            let mut texts = vec![b["text"].clone()];
            texts.extend(b["fields"].as_array().cloned().unwrap_or_default());
            texts.extend(b["elements"].as_array().cloned().unwrap_or_default());
            texts
        })
        .filter(|t| t["type"] == "mrkdwn")
        .filter_map(|t| t["text"].as_str().map(str::to_owned))
        .collect();
    for text in &mrkdwn {
        assert!(!text.contains("<https://evil"), "a link went out: {text}");
    }
    // Where the title is in mrkdwn (the calendar), it is escaped text.
    let listed = story.command(ANA, "list").await.text();
    assert!(
        listed.contains("&lt;https://evil.example|click&gt; [click](https://evil.example)"),
        "{listed}"
    );
    assert!(!listed.contains("<https://evil"), "{listed}");
    story.finish().await;
}
