//! A Slack story's cast and stage: the fake Slack (`fake_slack`), the dev
//! storefront (in this process) and the real bot (`flashsale-bot run` with
//! `CHAT=slack`, the binary) on the test's own database; the people of the
//! stories and the moves they make: `/flashsale ...`, a button press, a modal
//! submitted, each acknowledged within Slack's 3 s and answered.
//!
//! What the bot is expected to do (the contract the wiring follows):
//! - answers to the person who acted go by `chat.postEphemeral` to the
//!   channel they acted in (a slash command's `channel_id`, a card's channel;
//!   for a modal, the channel of the command that opened it, which the bot
//!   keeps in the view's `private_metadata`), never through `response_url`;
//! - forms are modals opened with `views.open` and the envelope's
//!   `trigger_id`; a field that is wrong is refused on the view submission's
//!   ack (`response_action: "errors"`);
//! - public posts (the card, reminders, "now live", "ended") go by
//!   `chat.postMessage`, and the card is changed in place by `chat.update`.
//!
//! `SlackStory::finish` checks what the bot sent as a whole: nothing the fake
//! refused for Block Kit's limits, no method it does not know, every envelope
//! acknowledged, no `<!channel>`, `<!here>` or `<!everyone>` anywhere.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::support::bot_process::{
    self, base_env, session_number, with_overrides, BotProcess, Row, LOG_TAIL, START_LIMIT,
};
use crate::support::fake_slack::socket::{Ack, Sent};
use crate::support::fake_slack::{
    self, Call, FakeSlack, Posted, ANNOUNCEMENTS, APPROVALS, APPROVERS, EDITORS, GENERAL, WAIT,
};
use crate::support::storefront::{dev_storefront, CheckedStore};

/// Ana edits (in the editors' group only).
pub const ANA: &str = "U0ANA";
/// Bo edits and approves (in both groups; never approves what Bo shaped).
pub const BO: &str = "U0BO";
/// Cy approves (in the approvers' group only).
pub const CY: &str = "U0CY";
/// Eve is in no group: the bot grants her nothing.
pub const EVE: &str = "U0EVE";

/// `at` as typed into the bot: `YYYY-MM-DD HH:MM` in the business zone.
pub fn typed(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Every character a person reads in a message body (`chat.postMessage`,
/// `chat.update`, `chat.postEphemeral` arguments): the text and the blocks'
/// texts, header, fields, context elements and button labels.
pub fn slack_text(body: &Value) -> String {
    // With blocks, Slack shows the blocks; `text` is only the notification's fallback.
    let has_blocks = body["blocks"].as_array().is_some_and(|b| !b.is_empty());
    let mut out = if has_blocks {
        String::new()
    } else {
        body["text"].as_str().unwrap_or_default().to_owned()
    };
    for block in body["blocks"].as_array().into_iter().flatten() {
        let mut push = |v: &Value| {
            if let Some(s) = v["text"].as_str() {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(s);
            }
        };
        push(&block["text"]);
        for field in block["fields"].as_array().into_iter().flatten() {
            push(field);
        }
        for element in block["elements"].as_array().into_iter().flatten() {
            push(element);
            push(&element["text"]);
        }
    }
    out
}

/// The `action_id`s of the buttons in a message body.
pub fn button_ids(body: &Value) -> Vec<String> {
    body["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["type"] == "button")
        .filter_map(|e| e["action_id"].as_str().map(str::to_owned))
        .collect()
}

/// What the person who acted sees: an ephemeral message or a modal.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The `chat.postEphemeral` arguments (`channel`, `user`, `text`, `blocks`).
    Ephemeral(Value),
    /// The `views.open` arguments (`trigger_id`, `view`).
    Modal(Value),
}

impl Answer {
    pub fn is_modal(&self) -> bool {
        matches!(self, Answer::Modal(_))
    }

    /// Everything the person reads; for a modal, its title and blocks.
    pub fn text(&self) -> String {
        match self {
            Answer::Ephemeral(body) => slack_text(body),
            Answer::Modal(args) => {
                let view = &args["view"];
                format!(
                    "[modal {}] {}\n{}",
                    view["callback_id"],
                    view["title"]["text"].as_str().unwrap_or_default(),
                    slack_text(view)
                )
            }
        }
    }

    /// The ephemeral message's body; fails for a modal.
    pub fn ephemeral(&self) -> &Value {
        match self {
            Answer::Ephemeral(body) => body,
            Answer::Modal(_) => panic!("expected an ephemeral answer, got {}", self.text()),
        }
    }

    /// The opened view; fails for an ephemeral answer.
    pub fn view(&self) -> &Value {
        match self {
            Answer::Modal(args) => &args["view"],
            Answer::Ephemeral(_) => panic!("expected a modal, got {}", self.text()),
        }
    }

    pub fn callback_id(&self) -> &str {
        self.view()["callback_id"].as_str().unwrap_or_default()
    }

    /// The modal's inputs as (block_id, action_id), in order.
    pub fn inputs(&self) -> Vec<(String, String)> {
        self.view()["blocks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "input")
            .map(|b| {
                (
                    b["block_id"].as_str().unwrap_or_default().to_owned(),
                    b["element"]["action_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// The ephemeral text, which must start with `prefix`.
    pub fn assert_starts_with(&self, prefix: &str) {
        let text = slack_text(self.ephemeral());
        assert!(
            text.starts_with(prefix),
            "expected an answer starting with {prefix:?}, got {text:?}"
        );
    }
}

/// A view submission's outcome: its ack (with `response_action` when the bot
/// refused a field on it) and, when it was taken, the ephemeral answer.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub ack: Ack,
    pub answer: Option<Answer>,
}

impl Submitted {
    /// The field errors on the ack (`{"block_id": "why"}`), if any.
    pub fn errors(&self) -> Option<&Value> {
        (self.ack.payload["response_action"] == "errors").then(|| &self.ack.payload["errors"])
    }

    /// The ephemeral answer; fails when the ack refused a field instead.
    pub fn answer(&self) -> &Answer {
        self.answer.as_ref().unwrap_or_else(|| {
            panic!(
                "the submission was refused on its ack: {}",
                self.ack.payload
            )
        })
    }
}

/// The approval card as posted: where it is and the buttons it has.
#[derive(Debug, Clone)]
pub struct Card {
    pub channel: String,
    pub ts: String,
    /// The `chat.postMessage` arguments.
    pub body: Value,
}

impl Card {
    pub fn button_ids(&self) -> Vec<String> {
        button_ids(&self.body)
    }

    pub fn text(&self) -> String {
        slack_text(&self.body)
    }
}

pub struct SlackStory {
    pub fake: FakeSlack,
    pub store: CheckedStore,
    pub pool: PgPool,
    bot: BotProcess,
    /// The bot's environment, for more processes of it (`spawn_replica`).
    env: Vec<(String, String)>,
    /// More processes of the bot on the same database and fake Slack.
    replicas: Vec<BotProcess>,
}

impl Drop for SlackStory {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let calls: Vec<String> = self
                .fake
                .calls()
                .iter()
                .rev()
                .take(20)
                .rev()
                .map(|c| format!("{} {} -> {}", c.method, c.args, c.answer))
                .collect();
            eprintln!(
                "---- flashsale-bot log (last {LOG_TAIL} lines) ----\n{}\n---- last calls to the fake Slack ----\n{}\n---- problems: {:#?}",
                self.bot.tail(),
                calls.join("\n"),
                self.fake.problems()
            );
            for (i, replica) in self.replicas.iter().enumerate() {
                eprintln!("---- replica {i} log ----\n{}", replica.tail());
            }
        }
    }
}

impl SlackStory {
    /// The default policy (approval 60 minutes before start, 5 minutes lead).
    pub async fn start(pool: PgPool) -> SlackStory {
        SlackStory::start_with(pool, &[]).await
    }

    /// `env` adds or overrides settings, e.g. `("APPROVAL_CUTOFF_MINUTES", "0")`
    /// or `("STOREFRONT_URL", ...)`. Returns once the bot's Socket Mode
    /// connection is open and its `/readyz` says the chat is connected.
    pub async fn start_with(pool: PgPool, env: &[(&str, &str)]) -> SlackStory {
        let fake = FakeSlack::start().await;
        let store = dev_storefront().await;
        let slack = [
            ("CHAT", "slack".to_owned()),
            ("SLACK_BOT_TOKEN", fake_slack::BOT_TOKEN.to_owned()),
            ("SLACK_APP_TOKEN", fake_slack::APP_TOKEN.to_owned()),
            ("SLACK_API_BASE", fake.api_base().to_string()),
            ("SLACK_ANNOUNCEMENTS_CHANNEL_ID", ANNOUNCEMENTS.to_owned()),
            ("SLACK_APPROVALS_CHANNEL_ID", APPROVALS.to_owned()),
            ("SLACK_EDITOR_GROUP_ID", EDITORS.to_owned()),
            ("SLACK_APPROVER_GROUP_ID", APPROVERS.to_owned()),
        ];
        let mut vars = base_env(&pool, store.url()).await;
        vars.extend(slack.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let vars = with_overrides(vars, env);
        let bot = BotProcess::spawn(&vars);
        let mut story = SlackStory {
            fake,
            store,
            pool,
            bot,
            env: vars,
            replicas: Vec::new(),
        };
        story.wait_connected(None, 1).await;
        story
    }

    /// Waits until process `which` (`None`: the first, `Some(i)`: replica
    /// `i`) reports the chat connected on `/readyz` and the fake has `open`
    /// Socket Mode connections open. Fails naming the wiring when the
    /// process ended first (a binary without the Slack run mode).
    pub async fn wait_connected(&mut self, which: Option<usize>, open: usize) {
        let who = match which {
            None => "the bot".to_owned(),
            Some(i) => format!("replica {i}"),
        };
        let deadline = tokio::time::Instant::now() + START_LIMIT;
        let process = match which {
            None => &mut self.bot,
            Some(i) => &mut self.replicas[i],
        };
        let mut base: Option<String> = None;
        loop {
            if let Some(status) = process.exited() {
                panic!(
                    "{who} (flashsale-bot run with CHAT=slack) exited with {status} before \
                     connecting to Slack. Until the Slack wiring (the run mode of issue 15: \
                     src/runtime/slack.rs, CHAT=slack) is in the binary, these stories cannot \
                     run. Its log:\n{}",
                    process.tail()
                );
            }
            if base.is_none() {
                let line = process
                    .lines()
                    .into_iter()
                    .find(|l| l.contains("serving /healthz, /readyz and /metrics"));
                base = line.and_then(|l| {
                    l.split_whitespace()
                        .find_map(|w| w.strip_prefix("addr="))
                        .map(|a| format!("http://{}", a.trim_matches('"')))
                });
            }
            if let Some(base) = &base {
                let ready = reqwest::get(format!("{base}/readyz")).await;
                let body: Value = match ready {
                    Ok(r) => r.json().await.unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                };
                if body["chat"] == "connected" && self.fake.connections_open() >= open {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{who} did not get connected to the fake Slack within {START_LIMIT:?} \
                 ({} Socket Mode connection(s) open, {open} expected; /readyz at {base:?}). \
                 Its log:\n{}",
                self.fake.connections_open(),
                process.tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What `/readyz` of the first process says about the chat.
    pub async fn chat_state(&self) -> String {
        let base = self.bot.http_base("the bot").await;
        let body: Value = reqwest::get(format!("{base}/readyz"))
            .await
            .expect("/readyz answers")
            .json()
            .await
            .expect("/readyz answers JSON");
        body["chat"].as_str().unwrap_or_default().to_owned()
    }

    /// Starts another process of the bot with the same settings and waits
    /// until it has its own connection (`open` connections in all); returns its index.
    pub async fn spawn_replica(&mut self, open: usize) -> usize {
        self.replicas.push(BotProcess::spawn(&self.env));
        let index = self.replicas.len() - 1;
        self.wait_connected(Some(index), open).await;
        index
    }

    /// Kills the first process (SIGKILL: no shutdown, whatever it was
    /// doing) and starts it again with the same settings, connected.
    pub async fn kill_and_restart(&mut self) {
        self.bot.kill().await;
        self.bot = BotProcess::spawn(&self.env);
        self.wait_connected(None, 1).await;
    }

    /// Every line the first process has logged so far.
    pub fn first_log(&self) -> Vec<String> {
        self.bot.lines()
    }

    /// Stops the bot (so the test database can be dropped) after checking
    /// what it sent: nothing the fake refused for Block Kit's limits, no
    /// method the fake does not know (nor an answer by `response_url`),
    /// every envelope acknowledged, and no broadcast mention anywhere.
    pub async fn finish(mut self) {
        let problems = self.fake.problems();
        assert!(
            problems.is_empty(),
            "the bot sent Slack something wrong: {problems:#?}"
        );
        let unknown = self.fake.unknown_methods();
        assert!(
            unknown.is_empty(),
            "the bot called methods the fake does not know: {unknown:?}"
        );
        let unacked = self.fake.unacked();
        assert!(
            unacked.is_empty(),
            "envelopes never acknowledged: {unacked:?}"
        );
        for call in self.fake.calls() {
            let sends = matches!(
                call.method.as_str(),
                "chat.postMessage" | "chat.update" | "chat.postEphemeral"
            );
            // Where the bot is not a member it is refused, and answers by
            // `response_url` instead (a story of its own checks that answer).
            if !sends || call.error() == Some("not_in_channel") {
                continue;
            }
            assert!(
                call.ok(),
                "Slack refused {} with {:?}: {}",
                call.method,
                call.error(),
                call.args
            );
            let body = call.args.to_string();
            for broadcast in ["<!channel", "<!here", "<!everyone"] {
                assert!(
                    !body.contains(broadcast),
                    "{} carries {broadcast}>: {body}",
                    call.method
                );
            }
        }
        self.bot.kill().await;
        for replica in &mut self.replicas {
            replica.kill().await;
        }
    }

    // ---- the database ----------------------------------------------------------

    pub async fn row(&self, session: i64) -> Row {
        bot_process::row(&self.pool, session).await
    }

    pub async fn sessions(&self) -> i64 {
        bot_process::sessions(&self.pool).await
    }

    pub async fn make_due(&self, session: i64, kind: &str) {
        bot_process::make_due(&self.pool, session, kind).await;
    }

    pub async fn wait_status(&self, session: i64, status: &str) {
        bot_process::wait_status(&self.pool, session, status, WAIT).await;
    }

    /// Awaits `step`, which the bot must refuse, and checks that the
    /// session's row is as it was. Returns what `step` returned.
    pub async fn refused<T>(&self, session: i64, step: impl Future<Output = T>) -> T {
        let before = self.row(session).await;
        let outcome = step.await;
        assert_eq!(
            self.row(session).await,
            before,
            "the bot refused (or should have) and yet changed #{session}"
        );
        outcome
    }

    // ---- moves ------------------------------------------------------------------

    /// The answer to `sent`, which `user` sent in `channel`: the modal opened
    /// with its `trigger_id`, or the first ephemeral message to `user` in
    /// `channel` since `mark`. The envelope must be acked within 3 s first.
    pub async fn answer_to(&self, sent: &Sent, mark: usize, user: &str, channel: &str) -> Answer {
        self.fake.ack(sent).await;
        let trigger = sent.frame["payload"]["trigger_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let call = self
            .fake
            .wait_call_after(mark, &format!("the answer to {}", sent.label), |c| {
                (c.method == "chat.postEphemeral"
                    && c.args["user"] == user
                    && c.args["channel"] == channel)
                    || (c.method == "views.open" && c.args["trigger_id"] == trigger.as_str())
            })
            .await;
        answer(&call)
    }

    /// `user` types `/flashsale <text>` in #general; what they see.
    pub async fn command(&self, user: &str, text: &str) -> Answer {
        let mark = self.fake.mark();
        let sent = self.fake.slash(user, text);
        self.answer_to(&sent, mark, user, GENERAL).await
    }

    /// `user` presses `action_id` on the message `ts` in `channel`; what they see.
    pub async fn press(&self, user: &str, channel: &str, ts: &str, action_id: &str) -> Answer {
        let mark = self.fake.mark();
        let sent = self.fake.press(user, channel, ts, action_id);
        self.answer_to(&sent, mark, user, channel).await
    }

    /// `user` submits the modal `callback_id` with `values` as (block id =
    /// action id, text). When the ack refuses a field, that is the outcome;
    /// otherwise the ephemeral answer to `user` in `channel`.
    pub async fn submit_view(
        &self,
        user: &str,
        callback_id: &str,
        values: &[(&str, &str)],
        channel: &str,
    ) -> Submitted {
        let mark = self.fake.mark();
        let triples: Vec<(&str, &str, &str)> = values.iter().map(|(k, v)| (*k, *k, *v)).collect();
        let sent = self.fake.submit_view(user, callback_id, &triples);
        let ack = self.fake.ack(&sent).await;
        if ack.payload["response_action"] == "errors" {
            return Submitted { ack, answer: None };
        }
        let call = self
            .fake
            .wait_call_after(mark, &format!("the answer to {}", sent.label), |c| {
                c.method == "chat.postEphemeral"
                    && c.args["user"] == user
                    && c.args["channel"] == channel
            })
            .await;
        Submitted {
            ack,
            answer: Some(answer(&call)),
        }
    }

    /// `/flashsale draft` opens the draft modal, submitted with `title` and
    /// the window: the new session's number.
    pub async fn draft(
        &self,
        user: &str,
        title: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> i64 {
        let form = self.command(user, "draft").await;
        assert_eq!(form.callback_id(), "fs:draft", "{}", form.text());
        let (start, end) = (typed(start), typed(end));
        let submitted = self
            .submit_view(
                user,
                "fs:draft",
                &[
                    ("title", title),
                    ("start", &start),
                    ("end", &end),
                    ("notes", ""),
                ],
                GENERAL,
            )
            .await;
        let text = submitted.answer().text();
        session_number(&text, "Drafted #").unwrap_or_else(|| panic!("no draft made: {text}"))
    }

    /// `/flashsale add-sku session:N sku:S discount:D quantity:Q`.
    pub async fn add_sku(
        &self,
        user: &str,
        session: i64,
        sku: &str,
        discount: i64,
        quantity: i64,
    ) -> Answer {
        self.command(
            user,
            &format!("add-sku session:{session} sku:{sku} discount:{discount} quantity:{quantity}"),
        )
        .await
    }

    /// `/flashsale add-sku session:N` opens the paste modal; `lines` submitted into it.
    pub async fn paste(&self, user: &str, session: i64, lines: &str) -> Submitted {
        let form = self
            .command(user, &format!("add-sku session:{session}"))
            .await;
        let callback = format!("fs:paste:{session}");
        assert_eq!(form.callback_id(), callback, "{}", form.text());
        self.submit_view(user, &callback, &[("lines", lines)], GENERAL)
            .await
    }

    /// The approval card of `session` posted into the approvals channel since `mark`.
    pub async fn approval_card(&self, mark: usize, session: i64) -> Card {
        let needle = format!("#{session} ");
        let call = self
            .fake
            .wait_call_after(mark, &format!("the approval card of #{session}"), |c| {
                c.method == "chat.postMessage"
                    && c.args["channel"] == APPROVALS
                    && c.ok()
                    && slack_text(&c.args).contains(&needle)
                    && !button_ids(&c.args).is_empty()
            })
            .await;
        Card {
            channel: APPROVALS.to_owned(),
            ts: call.answer["ts"].as_str().unwrap_or_default().to_owned(),
            body: call.args,
        }
    }

    /// Bo drafts `session` with six SKUs (one by options, five pasted) and
    /// submits it: (session, the approval card).
    pub async fn submitted(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> (i64, Card) {
        let session = self.draft(BO, "Midnight Deals", start, end).await;
        let added = self.add_sku(BO, session, "FS-001", 30, 50).await;
        added.assert_starts_with(&format!("Added FS-001 to #{session}."));
        let pasted = self
            .paste(
                BO,
                session,
                "SKU\tdiscount\tquantity\nFS-002\t25%\t40\nFS-003, 20, 30\nFS-004;15;20\nFS-005 10 10\nFS-006 35% 5\n",
            )
            .await;
        let report = pasted.answer().text();
        assert!(report.contains("Added 5 of 5 lines."), "{report}");
        let mark = self.fake.mark();
        self.command(BO, &format!("submit session:{session}"))
            .await
            .assert_starts_with(&format!("Submitted #{session} for approval"));
        (session, self.approval_card(mark, session).await)
    }

    /// `user` presses Approve on `card`; the answer must say it was approved.
    pub async fn approve_from_card(&self, user: &str, session: i64, card: &Card) -> Answer {
        let approved = self
            .press(user, &card.channel, &card.ts, &card.button_ids()[0])
            .await;
        approved.assert_starts_with(&format!("Approved #{session}."));
        approved
    }

    /// A session submitted, approved by Cy and made due at once (the story
    /// must allow a start two minutes ahead: `APPROVAL_CUTOFF_MINUTES=0`,
    /// `MIN_LEAD_MINUTES=0`): (session, card, the "now live" post, the mark
    /// taken before it was made due).
    pub async fn gone_live(&self) -> (i64, Card, Call, usize) {
        let start = Utc::now() + chrono::Duration::minutes(2);
        let (session, card) = self
            .submitted(start, start + chrono::Duration::minutes(30))
            .await;
        self.approve_from_card(CY, session, &card).await;
        let mark = self.fake.mark();
        self.make_due(session, "publish").await;
        let live = self.post_in(ANNOUNCEMENTS, mark, "is now live!").await;
        (session, card, live, mark)
    }

    /// The first `chat.update` of the message `ts` since `mark` whose text
    /// contains `needle` (`""`: any).
    pub async fn update_of(&self, mark: usize, ts: &str, needle: &str) -> Call {
        self.fake
            .wait_call_after(mark, &format!("an update of {ts} saying {needle:?}"), |c| {
                c.method == "chat.update"
                    && c.args["ts"] == ts
                    && c.ok()
                    && slack_text(&c.args).contains(needle)
            })
            .await
    }

    /// `chat.update` calls on the message `ts` since `mark`.
    pub fn updates_of(&self, mark: usize, ts: &str) -> Vec<Call> {
        self.fake
            .calls()
            .into_iter()
            .skip(mark)
            .filter(|c| c.method == "chat.update" && c.args["ts"] == ts)
            .collect()
    }

    /// The first post into `channel` since `mark` whose text contains `needle`.
    pub async fn post_in(&self, channel: &str, mark: usize, needle: &str) -> Call {
        self.fake
            .wait_call_after(
                mark,
                &format!("a post in {channel} saying {needle:?}"),
                |c| {
                    c.method == "chat.postMessage"
                        && c.args["channel"] == channel
                        && c.ok()
                        && slack_text(&c.args).contains(needle)
                },
            )
            .await
    }

    /// The message `ts` as it is now in `channel`.
    pub fn message(&self, channel: &str, ts: &str) -> Posted {
        self.fake
            .posted_in(channel)
            .into_iter()
            .find(|p| p.ts == ts)
            .unwrap_or_else(|| panic!("no message {ts} in {channel}"))
    }

    /// `chat.postEphemeral` calls to `user` since `mark`.
    pub fn ephemerals_to(&self, mark: usize, user: &str) -> Vec<Call> {
        self.fake
            .calls()
            .into_iter()
            .skip(mark)
            .filter(|c| c.method == "chat.postEphemeral" && c.args["user"] == user)
            .collect()
    }
}

impl SlackStory {
    /// Waits until `user` got at least `n` ephemeral messages since `mark`.
    pub async fn wait_ephemerals(&self, mark: usize, user: &str, n: usize) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let got = self.ephemerals_to(mark, user);
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for {n} answers to {user}, got {}: {:#?}",
                got.len(),
                got.iter().map(|c| slack_text(&c.args)).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn answer(call: &Call) -> Answer {
    assert!(
        call.ok(),
        "Slack refused {} with {:?}: {}",
        call.method,
        call.error(),
        call.args
    );
    if call.method == "views.open" {
        Answer::Modal(call.args.clone())
    } else {
        Answer::Ephemeral(call.args.clone())
    }
}
