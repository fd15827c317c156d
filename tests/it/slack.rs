//! The Slack adapter's pieces against the fake Slack on loopback: what
//! `SlackChat` posts and edits (and refuses, and when Slack is down), roles
//! from user groups, and Socket Mode acknowledging every envelope at once.
//! The fake itself is checked first: a fake that accepts anything proves nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use flashsale_bot::chat::{
    Button, ButtonStyle, Card, Channel, Chat, ChatError, Field, InDoubt, Mention, Message,
    PostedRef, Text, Tone,
};
use flashsale_bot::config::SlackConfig;
use flashsale_bot::domain::Roles;
use flashsale_bot::platforms::slack::render::limits;
use flashsale_bot::platforms::slack::{
    Envelope, EnvelopeKind, Renderer, SlackApi, SlackChat, SlackRoles, SocketHandler, SocketMode,
    SocketState,
};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::support::assert_matches;
use crate::support::fake_slack::{self, FakeSlack};

fn config(fake: &FakeSlack) -> SlackConfig {
    SlackConfig {
        bot_token: SecretString::from(fake_slack::BOT_TOKEN.to_owned()),
        app_token: SecretString::from(fake_slack::APP_TOKEN.to_owned()),
        api_base: fake.api_base(),
        announcements_channel_id: fake_slack::ANNOUNCEMENTS.to_owned(),
        approvals_channel_id: fake_slack::APPROVALS.to_owned(),
        editor_group_id: Some(fake_slack::EDITORS.to_owned()),
        approver_group_id: Some(fake_slack::APPROVERS.to_owned()),
        editor_user_ids: Vec::new(),
        approver_user_ids: Vec::new(),
    }
}

fn api(fake: &FakeSlack) -> SlackApi {
    SlackApi::new(
        &fake.api_base(),
        &SecretString::from(fake_slack::BOT_TOKEN.to_owned()),
    )
    .expect("a client")
}

fn chat(fake: &FakeSlack) -> SlackChat {
    let config = config(fake);
    SlackChat::new(
        api(fake),
        &config.announcements_channel_id,
        &config.approvals_channel_id,
        Renderer::new(&config, chrono_tz::Asia::Jakarta),
    )
}

fn approval_card(version: i32) -> Message {
    Message {
        text: Text::from("#12 \"Lunch <!channel> Flash\" is waiting for approval."),
        card: Some(Card {
            title: "#12 Lunch Flash".to_owned(),
            status: "Pending approval".to_owned(),
            tone: Tone::Attention,
            description: Some(Text::from("6 of 6 SKUs")),
            fields: (1..=6)
                .map(|i| Field {
                    name: format!("{i}. FS-00{i} · Kettle"),
                    value: Text::from("Rp 100.000 → Rp 70.000 (-30%)"),
                    inline: false,
                })
                .collect(),
            footer: Some(format!("version {version} · drafted by Ana")),
        }),
        buttons: vec![
            Button {
                id: format!("fs:approve:12:{version}"),
                label: "Approve".to_owned(),
                style: ButtonStyle::Success,
            },
            Button {
                id: format!("fs:reject:12:{version}"),
                label: "Reject".to_owned(),
                style: ButtonStyle::Danger,
            },
        ],
        mentions: vec![Mention::Approvers],
        ..Message::default()
    }
}

/// Calls the fake's Web API directly, as any client would.
async fn raw(fake: &FakeSlack, method: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(fake.api_base().join(method).unwrap())
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_fake_checks_tokens_as_slack_does() {
    let fake = FakeSlack::start().await;
    let body = json!({ "channel": fake_slack::APPROVALS, "text": "hi" });
    let cases = [
        (None, "not_authed"),
        (Some("xoxb-someone-else"), "invalid_auth"),
        (Some(fake_slack::APP_TOKEN), "not_allowed_token_type"),
    ];
    for (token, error) in cases {
        let answer = raw(&fake, "chat.postMessage", token, body.clone()).await;
        assert_eq!(answer["ok"], false, "{token:?}");
        assert_eq!(answer["error"], error, "{token:?}");
    }
    let answer = raw(
        &fake,
        "apps.connections.open",
        Some(fake_slack::BOT_TOKEN),
        json!({}),
    )
    .await;
    assert_eq!(answer["error"], "not_allowed_token_type");
    let answer = raw(&fake, "chat.postMessage", Some(fake_slack::BOT_TOKEN), body).await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(fake.posted().len() == 1);
}

#[tokio::test]
async fn the_fake_refuses_bodies_that_break_block_kits_limits() {
    let fake = FakeSlack::start().await;
    let post =
        |blocks: Value| json!({ "channel": fake_slack::APPROVALS, "text": "x", "blocks": blocks });
    let section =
        |text: String| json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } });
    let button = |id: String, text: String| json!({ "type": "actions", "elements": [{ "type": "button", "action_id": id, "text": { "type": "plain_text", "text": text } }] });
    let fields: Vec<Value> = (0..11)
        .map(|_| json!({ "type": "mrkdwn", "text": "f" }))
        .collect();
    let cases = [
        (json!(vec![section("x".to_owned()); 51]), "51 blocks"),
        (json!([section("x".repeat(3001))]), "3001 characters"),
        (
            json!([{ "type": "section", "fields": fields }]),
            "11 fields",
        ),
        (
            json!([button("a".repeat(256), "ok".to_owned())]),
            "action_id has 256",
        ),
        (
            json!([button("a".to_owned(), "b".repeat(76))]),
            "76 characters",
        ),
        (
            json!([{ "type": "header", "text": { "type": "plain_text", "text": "h".repeat(151) } }]),
            "151 characters",
        ),
        (json!([{ "type": "carousel" }]), "unknown block type"),
    ];
    for (blocks, reason) in cases {
        let answer = raw(
            &fake,
            "chat.postMessage",
            Some(fake_slack::BOT_TOKEN),
            post(blocks),
        )
        .await;
        assert_eq!(answer["error"], "invalid_blocks", "{reason}: {answer}");
        assert!(
            answer["errors"].to_string().contains(reason),
            "{reason}: {answer}"
        );
    }
    let limit_ok = json!([
        section("x".repeat(3000)),
        button("a".repeat(255), "b".repeat(75))
    ]);
    let answer = raw(
        &fake,
        "chat.postMessage",
        Some(fake_slack::BOT_TOKEN),
        post(limit_ok),
    )
    .await;
    assert_eq!(
        answer["ok"], true,
        "exactly at the limits is fine: {answer}"
    );
    let view = |title: &str, inputs: usize| {
        let input = json!({ "type": "input", "block_id": "b", "label": { "type": "plain_text", "text": "SKU" }, "element": { "type": "plain_text_input", "action_id": "sku" } });
        json!({ "trigger_id": "1.2.3", "view": { "type": "modal", "title": { "type": "plain_text", "text": title }, "blocks": vec![input; inputs] } })
    };
    let answer = raw(
        &fake,
        "views.open",
        Some(fake_slack::BOT_TOKEN),
        view(&"t".repeat(25), 1),
    )
    .await;
    assert_eq!(answer["ok"], false, "a 25-character modal title: {answer}");
    let answer = raw(
        &fake,
        "views.open",
        Some(fake_slack::BOT_TOKEN),
        view("Draft a flash sale", 101),
    )
    .await;
    assert_eq!(answer["ok"], false, "101 inputs: {answer}");
    let answer = raw(
        &fake,
        "views.open",
        Some(fake_slack::BOT_TOKEN),
        view("Draft a flash sale", 3),
    )
    .await;
    assert_eq!(answer["ok"], true, "{answer}");
    let answer = raw(
        &fake,
        "chat.postMessage",
        Some(fake_slack::BOT_TOKEN),
        json!({ "channel": "C0NOWHERE", "text": "x" }),
    )
    .await;
    assert_eq!(answer["error"], "channel_not_found");
}

#[tokio::test]
async fn a_card_is_posted_with_its_blocks_and_updated_in_place() {
    let fake = FakeSlack::start().await;
    let chat = chat(&fake);
    let posted = chat
        .post(Channel::Approvals, &approval_card(3))
        .await
        .unwrap();
    assert_eq!(posted.channel, fake_slack::APPROVALS);
    let messages = fake.posted_in(fake_slack::APPROVALS);
    assert_eq!(messages.len(), 1);
    let message = &messages[0].message;
    assert_eq!(posted.message, messages[0].ts);
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.len() <= limits::BLOCKS);
    let lead = blocks[0]["text"]["text"].as_str().unwrap();
    assert!(lead.starts_with("<!subteam^S0APPROVERS> #12"), "{lead}");
    assert!(
        lead.contains("&lt;!channel&gt;"),
        "typed markup is escaped: {lead}"
    );
    assert_eq!(blocks[1]["type"], "header");
    let actions = blocks.iter().find(|b| b["type"] == "actions").unwrap();
    assert_eq!(actions["elements"][0]["action_id"], "fs:approve:12:3");
    assert_eq!(actions["elements"][0]["style"], "primary");
    assert_eq!(actions["elements"][1]["style"], "danger");
    assert!(message["metadata"].is_null(), "no dedupe key, no metadata");

    // The card after an approval: no buttons, and they must be gone from Slack too.
    let mut approved = approval_card(4);
    approved.buttons.clear();
    approved.mentions.clear();
    approved.text = Text::from("Approved by Bo.");
    chat.edit(&posted, &approved).await.unwrap();
    let now = &fake.posted_in(fake_slack::APPROVALS)[0];
    assert_eq!(now.updates.len(), 1);
    assert!(
        !now.message["blocks"].to_string().contains("actions"),
        "the buttons are gone: {}",
        now.message["blocks"]
    );
    assert!(now.message["blocks"].to_string().contains("version 4"));
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    assert!(
        fake.unknown_methods().is_empty(),
        "{:?}",
        fake.unknown_methods()
    );
}

#[tokio::test]
async fn a_dedupe_key_is_posted_once_by_a_process_without_reading_history() {
    let fake = FakeSlack::start().await;
    let live = Message {
        text: Text::from("#12 is now live!"),
        dedupe_key: Some("live:12".to_owned()),
        ..Message::default()
    };
    let chat = chat(&fake);
    let posted = chat.post(Channel::Announcements, &live).await.unwrap();
    assert_eq!(
        chat.post(Channel::Announcements, &live).await.unwrap(),
        posted
    );
    let ours = fake.posted_in(fake_slack::ANNOUNCEMENTS);
    assert_eq!(ours.len(), 1, "posted once");
    // The key rides along for people to read; nothing reads it back.
    assert_eq!(ours[0].message["metadata"]["event_type"], "flashsale_post");
    assert_eq!(
        ours[0].message["metadata"]["event_payload"]["dedupe_key"],
        "live:12"
    );
    // Another key is another message.
    let ended = Message {
        text: Text::from("#12 has ended."),
        dedupe_key: Some("ended:12".to_owned()),
        ..Message::default()
    };
    let other = chat.post(Channel::Announcements, &ended).await.unwrap();
    assert_ne!(other, posted);
    assert_eq!(fake.calls_to("chat.postMessage").len(), 2);
    assert!(fake.calls_to("conversations.history").is_empty());
    // Across processes the outbox decides: Slack's adapter never posts a post in doubt again.
    assert_eq!(chat.in_doubt(), InDoubt::Stop);
}

/// Since 29 May 2025 a new commercially distributed app outside the
/// Marketplace may read a channel's history once a minute; the fake holds
/// the bot to that, so a story that reads history would be refused.
#[tokio::test]
async fn the_fake_reads_history_once_a_minute_per_channel_like_a_new_non_marketplace_app() {
    let fake = FakeSlack::start().await;
    let client = reqwest::Client::new();
    let read = |channel: &'static str| {
        client
            .get(format!("{}conversations.history", fake.api_base()))
            .bearer_auth(fake_slack::BOT_TOKEN)
            .query(&[("channel", channel)])
            .send()
    };
    let first = read(fake_slack::ANNOUNCEMENTS).await.unwrap();
    assert_eq!(first.status(), 200);
    let second = read(fake_slack::ANNOUNCEMENTS).await.unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(
        second
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["error"], "ratelimited");
    // The limit is per channel.
    assert_eq!(read(fake_slack::APPROVALS).await.unwrap().status(), 200);
    let statuses: Vec<u16> = fake
        .calls_to("conversations.history")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [200, 429, 200]);
}

#[tokio::test]
async fn refusals_are_refused_and_outages_are_unavailable() {
    let fake = FakeSlack::start().await;
    let config = config(&fake);
    let renderer = Renderer::new(&config, chrono_tz::Asia::Jakarta);
    let nowhere = SlackChat::new(api(&fake), "C0NOWHERE", "C0NOWHERE", renderer.clone());
    let err = nowhere
        .post(Channel::Approvals, &approval_card(1))
        .await
        .unwrap_err();
    assert_matches!(err, ChatError::Refused(ref why) if why.contains("channel_not_found"));

    let chat = chat(&fake);
    let empty = chat
        .post(Channel::Approvals, &Message::default())
        .await
        .unwrap_err();
    assert_matches!(empty, ChatError::Refused(ref why) if why.contains("no_text"));
    let gone = PostedRef {
        channel: fake_slack::APPROVALS.to_owned(),
        message: "1795712399.000001".to_owned(),
    };
    let err = chat.edit(&gone, &approval_card(2)).await.unwrap_err();
    assert_matches!(err, ChatError::Refused(ref why) if why.contains("message_not_found"));
    let not_slack = PostedRef {
        channel: "Approvals".to_owned(),
        message: "7".to_owned(),
    };
    assert_matches!(
        chat.edit(&not_slack, &approval_card(2)).await,
        Err(ChatError::Refused(_))
    );

    let bad_token = SlackChat::new(
        SlackApi::new(
            &fake.api_base(),
            &SecretString::from("xoxb-revoked".to_owned()),
        )
        .unwrap(),
        fake_slack::APPROVALS,
        fake_slack::APPROVALS,
        renderer,
    );
    let err = bad_token
        .post(Channel::Approvals, &approval_card(1))
        .await
        .unwrap_err();
    assert_matches!(err, ChatError::Refused(ref why) if why.contains("invalid_auth"));

    fake.set_down(true);
    let err = chat
        .post(Channel::Approvals, &approval_card(1))
        .await
        .unwrap_err();
    assert_matches!(err, ChatError::Unavailable(_));
    // A keyed post in an outage is unavailable too.
    let keyed = Message {
        text: Text::from("reminder"),
        dedupe_key: Some("reminders:1".to_owned()),
        ..Message::default()
    };
    assert_matches!(
        chat.post(Channel::Announcements, &keyed).await,
        Err(ChatError::Unavailable(_))
    );
    fake.set_down(false);
    chat.post(Channel::Announcements, &keyed).await.unwrap();
    assert_eq!(fake.posted_in(fake_slack::ANNOUNCEMENTS).len(), 1);
}

/// A `SlackChat` for `base` (any address: a test's own listener), whose
/// calls give up after `deadline`.
async fn chat_at(base: &reqwest::Url, deadline: Duration) -> SlackChat {
    let config = SlackConfig {
        api_base: base.clone(),
        ..config(&FakeSlack::start().await)
    };
    let token = SecretString::from(fake_slack::BOT_TOKEN.to_owned());
    let api = SlackApi::new(base, &token)
        .unwrap()
        .with_timeout(deadline)
        .unwrap();
    SlackChat::new(
        api,
        "C0A",
        "C0A",
        Renderer::new(&config, chrono_tz::Asia::Jakarta),
    )
}

fn base_of(listener: &tokio::net::TcpListener) -> reqwest::Url {
    reqwest::Url::parse(&format!("http://{}/api/", listener.local_addr().unwrap())).unwrap()
}

fn a_ts() -> PostedRef {
    PostedRef {
        channel: "C0A".to_owned(),
        message: "1795712400.000100".to_owned(),
    }
}

#[tokio::test]
async fn slack_out_of_reach_did_not_take_the_call() {
    // Nothing listens: refused connections.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_of(&closed);
    drop(closed);
    let down = chat_at(&base, Duration::from_secs(2)).await;
    assert_matches!(
        down.post(Channel::Approvals, &approval_card(1)).await,
        Err(ChatError::Unavailable(_))
    );
    assert_matches!(
        down.edit(&a_ts(), &approval_card(2)).await,
        Err(ChatError::Unavailable(_))
    );

    // A listener whose queue is full: the kernel drops the client's SYN and
    // connecting hangs. Connecting gives up before the call's deadline, so
    // the call is known never to have left.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let full = socket.listen(0).unwrap();
    let addr = full.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..4 {
        let connecting = tokio::net::TcpStream::connect(addr);
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(200), connecting).await {
            queued.push(stream);
        }
    }
    let deadline = Duration::from_millis(1000);
    let hanging = chat_at(&base_of(&full), deadline).await;
    let started = std::time::Instant::now();
    let err = hanging
        .post(Channel::Approvals, &approval_card(1))
        .await
        .unwrap_err();
    assert_matches!(err, ChatError::Unavailable(_));
    assert!(started.elapsed() < deadline, "{:?}", started.elapsed());
    drop(queued);
}

/// A server on loopback that reads each request whole and then does `then`
/// with the connection (what it gives back is held open).
async fn server(
    then: impl Fn(tokio::net::TcpStream) -> Option<tokio::net::TcpStream> + Send + 'static,
) -> (reqwest::Url, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = base_of(&listener);
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            read_request(&mut socket).await;
            held.extend(then(socket));
        }
    });
    (base, task)
}

/// Reads one HTTP request: its head, then as many body bytes as it announces.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = socket.read(&mut buf).await {
        if n == 0 {
            return;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length = text[..end]
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        if got.len() >= end + 4 + length {
            return;
        }
    }
}

#[tokio::test]
async fn a_slack_call_that_may_have_arrived_is_in_doubt() {
    let deadline = Duration::from_millis(300);

    // Takes the request and never answers: the call's deadline ends it.
    let (base, silent) = server(Some).await;
    let stuck = chat_at(&base, deadline).await;
    let started = std::time::Instant::now();
    let err = stuck
        .post(Channel::Approvals, &approval_card(1))
        .await
        .unwrap_err();
    assert_matches!(err, ChatError::InDoubt(ref why) if why.contains("longer than"));
    assert!(started.elapsed() < Duration::from_secs(3));
    // An edit that timed out may have been made too (and can be made again).
    assert_matches!(
        stuck.edit(&a_ts(), &approval_card(2)).await,
        Err(ChatError::InDoubt(_))
    );
    silent.abort();

    // Takes the request and closes the connection without a word.
    let (base, hangs_up) = server(|socket| {
        drop(socket);
        None
    })
    .await;
    let cut = chat_at(&base, Duration::from_secs(2)).await;
    assert_matches!(
        cut.post(Channel::Approvals, &approval_card(1)).await,
        Err(ChatError::InDoubt(ref why)) if why.contains("connection")
    );
    hangs_up.abort();

    // Answers 200 and breaks off in the middle of the answer.
    let (base, breaks_off) = server(|socket| {
        let cut_short = async move {
            use tokio::io::AsyncWriteExt;
            let mut socket = socket;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"ok\":true,\"chan",
                )
                .await;
        };
        tokio::spawn(cut_short);
        None
    })
    .await;
    let half = chat_at(&base, Duration::from_secs(2)).await;
    assert_matches!(
        half.post(Channel::Approvals, &approval_card(1)).await,
        Err(ChatError::InDoubt(_))
    );
    breaks_off.abort();
}

#[tokio::test]
async fn roles_come_from_user_groups_through_the_web_api() {
    let fake = FakeSlack::start().await;
    let mut config = config(&fake);
    config.editor_user_ids = vec!["U0EVE".to_owned()];
    let roles = SlackRoles::new(Arc::new(api(&fake)), &config);
    assert_eq!(roles.roles_of("U0ANA").await, Ok(Roles::EDITOR));
    assert_eq!(roles.roles_of("U0BO").await, Ok(Roles::BOTH));
    assert_eq!(roles.roles_of("U0CY").await, Ok(Roles::APPROVER));
    assert_eq!(roles.roles_of("U0EVE").await, Ok(Roles::EDITOR));
    assert_eq!(roles.roles_of("U0DAN").await, Ok(Roles::NONE));
    assert_eq!(
        fake.calls_to("usergroups.users.list").len(),
        2,
        "cached per group"
    );
    let fresh = SlackRoles::new(Arc::new(api(&fake)), &config);
    fake.set_down(true);
    assert!(
        fresh.roles_of("U0ANA").await.is_err(),
        "no guessing while Slack is down"
    );
    fake.set_down(false);
    config.approver_group_id = Some("S0GONE".to_owned());
    let gone = SlackRoles::new(Arc::new(api(&fake)), &config);
    let err = gone.roles_of("U0CY").await.unwrap_err();
    assert!(err.to_string().contains("no_such_subteam"), "{err}");
}

/// Records what it was handed; `slow` makes every handling take that long.
struct Recorder {
    seen: Mutex<Vec<Envelope>>,
    slow: Duration,
}

#[async_trait]
impl SocketHandler for Recorder {
    fn ack_payload(&self, envelope: &Envelope) -> Option<Value> {
        (envelope.interaction_type() == Some("view_submission")).then(|| {
            json!({ "response_action": "errors", "errors": { "sku": "FS-999 is not in the catalog." } })
        })
    }

    async fn handle(&self, envelope: Envelope) {
        tokio::time::sleep(self.slow).await;
        self.seen.lock().unwrap().push(envelope);
    }
}

fn recorder(slow: Duration) -> Arc<Recorder> {
    Arc::new(Recorder {
        seen: Mutex::new(Vec::new()),
        slow,
    })
}

async fn seen(recorder: &Recorder, n: usize) -> Vec<Envelope> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = recorder.seen.lock().unwrap().clone();
        if seen.len() >= n {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "handled {} of {n}",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn socket_mode_acks_every_envelope_at_once_however_slow_the_work() {
    let fake = FakeSlack::start().await;
    let handler = recorder(Duration::from_secs(4));
    let socket = SocketMode::new(
        &fake.api_base(),
        &SecretString::from(fake_slack::APP_TOKEN.to_owned()),
        handler.clone(),
    )
    .unwrap()
    .spawn();
    assert_eq!(
        socket.wait_connected(Duration::from_secs(5)).await,
        SocketState::Connected { connection: 1 }
    );
    fake.wait_connections(1).await;
    // Each handling takes 4 s; every ack still comes at once, one after the other.
    let sent: Vec<_> = (0..5)
        .map(|i| fake.slash("U0ANA", &format!("view session:{i}")))
        .collect();
    let card = fake.seed_message(
        fake_slack::APPROVALS,
        json!({ "text": "card", "user": fake_slack::BOT_USER_ID }),
    );
    let press = fake.press("U0BO", fake_slack::APPROVALS, &card, "fs:approve:12:3");
    for s in sent.iter().chain([&press]) {
        let ack = fake.ack(s).await;
        assert!(
            ack.after < Duration::from_secs(1),
            "{}: {:?}",
            s.label,
            ack.after
        );
        assert!(ack.payload.is_null(), "a bare ack: {:?}", ack.payload);
    }
    let handled = seen(&handler, 6).await;
    let commands: Vec<_> = handled
        .iter()
        .filter(|e| e.kind == EnvelopeKind::SlashCommand)
        .collect();
    assert_eq!(commands.len(), 5);
    let parsed = commands[0].command().unwrap().unwrap();
    assert_eq!(parsed.user_id.to_string(), "U0ANA");
    assert!(parsed.text.unwrap().starts_with("view session:"));
    let pressed = handled
        .iter()
        .find(|e| e.kind == EnvelopeKind::Interactive)
        .unwrap();
    assert_eq!(pressed.interaction_type(), Some("block_actions"));
    assert!(
        pressed.interaction().unwrap().is_ok(),
        "slack-morphism reads the press"
    );
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    socket.shutdown().await;
}

#[tokio::test]
async fn a_view_submission_is_answered_on_its_ack_and_a_redelivery_keeps_its_event_id() {
    let fake = FakeSlack::start().await;
    let handler = recorder(Duration::ZERO);
    let socket = SocketMode::new(
        &fake.api_base(),
        &SecretString::from(fake_slack::APP_TOKEN.to_owned()),
        handler.clone(),
    )
    .unwrap()
    .spawn();
    fake.wait_connections(1).await;
    let submit = fake.submit_view("U0ANA", "fs:paste:12", &[("sku", "sku", "FS-999 30% 5")]);
    let ack = fake.ack(&submit).await;
    assert_eq!(ack.payload["response_action"], "errors");
    assert_eq!(
        ack.payload["errors"]["sku"],
        "FS-999 is not in the catalog."
    );
    let again = fake.redeliver(&submit);
    fake.ack(&again).await;
    let handled = seen(&handler, 2).await;
    assert_eq!(
        handled[0].event_id(),
        handled[1].event_id(),
        "the app's first_delivery sees one event"
    );
    assert_eq!(handled[1].retry_attempt, 1);
    socket.shutdown().await;
}

#[tokio::test]
async fn socket_mode_reconnects_after_disconnect_and_after_a_lost_connection() {
    let fake = FakeSlack::start().await;
    let handler = recorder(Duration::ZERO);
    let socket = SocketMode::new(
        &fake.api_base(),
        &SecretString::from(fake_slack::APP_TOKEN.to_owned()),
        handler.clone(),
    )
    .unwrap()
    .spawn();
    fake.wait_connections(1).await;
    fake.disconnect();
    fake.wait_connections(2).await;
    let mut state = socket.state();
    tokio::time::timeout(
        Duration::from_secs(5),
        state.wait_for(|s| *s == SocketState::Connected { connection: 2 }),
    )
    .await
    .expect("connected again")
    .unwrap();
    let after_refresh = fake.slash("U0ANA", "list");
    assert_eq!(fake.ack(&after_refresh).await.connection, 2);

    fake.drop_connections();
    fake.wait_connections(3).await;
    let after_loss = fake.slash("U0ANA", "help");
    assert_eq!(fake.ack(&after_loss).await.connection, 3);
    assert_eq!(fake.calls_to("apps.connections.open").len(), 3);
    seen(&handler, 2).await;
    socket.shutdown().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while fake.connections_open() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.connections_open(), 0, "shutdown closes the connection");
}

#[tokio::test]
async fn a_refused_app_token_stops_socket_mode_saying_why() {
    let fake = FakeSlack::start().await;
    let socket = SocketMode::new(
        &fake.api_base(),
        &SecretString::from("xapp-revoked".to_owned()),
        recorder(Duration::ZERO),
    )
    .unwrap()
    .spawn();
    let state = socket.wait_connected(Duration::from_secs(5)).await;
    assert_matches!(state, SocketState::Stopped { ref why } if why.contains("invalid_auth"));
    assert_eq!(fake.connections_opened(), 0);
}

#[tokio::test]
async fn files_ephemeral_answers_and_modals_go_through_the_web_api() {
    let fake = FakeSlack::start().await;
    let api = api(&fake);
    let csv = b"session,sku\n12,FS-001\n".to_vec();
    let file = api
        .upload_file(
            fake_slack::GENERAL,
            "flashsale-12.csv",
            csv.clone(),
            Some("Export of #12"),
        )
        .await
        .unwrap();
    let files = fake.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["id"], file.as_str());
    assert_eq!(files[0]["title"], "flashsale-12.csv");
    assert_eq!(files[0]["size"], csv.len());
    assert_eq!(files[0]["channel"], fake_slack::GENERAL);
    let err = api
        .upload_file("C0NOWHERE", "x.csv", csv, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("channel_not_found"));

    let renderer = Renderer::new(&config(&fake), chrono_tz::Asia::Jakarta);
    let answer = renderer.message(&Message {
        text: Text::from("Drafted #12 <!here>."),
        ..Message::default()
    });
    api.post_ephemeral(fake_slack::GENERAL, "U0ANA", &answer)
        .await
        .unwrap();
    let ephemeral = fake.ephemeral();
    assert_eq!(ephemeral[0]["user"], "U0ANA");
    assert_eq!(ephemeral[0]["text"], "Drafted #12 &lt;!here&gt;.");
    let err = api
        .post_ephemeral(fake_slack::GENERAL, "nobody", &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("user_not_found"));

    let modal = |title: &str| {
        json!({
            "type": "modal", "callback_id": "fs:draft",
            "title": { "type": "plain_text", "text": title },
            "submit": { "type": "plain_text", "text": "Draft" },
            "blocks": [{ "type": "input", "block_id": "title", "label": { "type": "plain_text", "text": "Title" },
                         "element": { "type": "plain_text_input", "action_id": "title" } }]
        })
    };
    let view = api
        .open_view("1.2.3", &modal("Draft a flash sale"))
        .await
        .unwrap();
    api.update_view(&view, &modal("Draft a flash sale"))
        .await
        .unwrap();
    assert_eq!(fake.views().len(), 2);
    let err = api
        .open_view("1.2.3", &modal("A title far too long for a modal"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_arguments"));
    assert!(
        fake.unknown_methods().is_empty(),
        "{:?}",
        fake.unknown_methods()
    );
}

#[tokio::test]
async fn two_replicas_each_hold_a_connection_and_each_envelope_reaches_one() {
    let fake = FakeSlack::start().await;
    let token = SecretString::from(fake_slack::APP_TOKEN.to_owned());
    let (one, two) = (recorder(Duration::ZERO), recorder(Duration::ZERO));
    let first = SocketMode::new(&fake.api_base(), &token, one.clone())
        .unwrap()
        .spawn();
    let second = SocketMode::new(&fake.api_base(), &token, two.clone())
        .unwrap()
        .spawn();
    fake.wait_connections(2).await;
    while fake.connections_open() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent: Vec<_> = (0..6)
        .map(|i| fake.slash("U0ANA", &format!("view session:{i}")))
        .collect();
    for s in &sent {
        fake.ack(s).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let handled = loop {
        let (a, b) = (
            one.seen.lock().unwrap().len(),
            two.seen.lock().unwrap().len(),
        );
        if a + b >= 6 || std::time::Instant::now() > deadline {
            break (a, b);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        handled.0 + handled.1,
        6,
        "each envelope handled once: {handled:?}"
    );
    assert!(
        handled.0 > 0 && handled.1 > 0,
        "both replicas took some: {handled:?}"
    );
    assert_eq!(fake.acks().len(), 6);
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    first.shutdown().await;
    second.shutdown().await;
}
