//! A story's cast and stage: the fake Discord, the dev storefront (in this
//! process), and the real bot (`flashsale-bot run`, the binary) on the test's
//! own database, plus the people who play the story and the moves they make.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::bot_process::{
    self, base_env, with_overrides, BotProcess, LOG_TAIL, START_LIMIT,
};
pub use crate::support::bot_process::{session_number, Row};
use crate::support::storefront::{dev_storefront, CheckedStore};

use super::{
    FakeDiscord, Person, Recorded, Reply, ANNOUNCEMENTS_CHANNEL, API, APPLICATION_ID,
    APPROVALS_CHANNEL, APPROVER_ROLE, EDITOR_ROLE, GUILD_ID, PLAIN_ROLE,
};

/// Alice edits.
pub fn alice() -> Person {
    Person {
        id: 1_300_000_000_000_000_401,
        name: "Alice",
        roles: vec![EDITOR_ROLE],
    }
}

/// Bob approves.
pub fn bob() -> Person {
    Person {
        id: 1_300_000_000_000_000_402,
        name: "Bob",
        roles: vec![APPROVER_ROLE],
    }
}

/// Carol edits and approves (but never what she shaped).
pub fn carol() -> Person {
    Person {
        id: 1_300_000_000_000_000_403,
        name: "Carol",
        roles: vec![PLAIN_ROLE, EDITOR_ROLE, APPROVER_ROLE],
    }
}

/// Eve has only a role that grants nothing in the bot.
pub fn eve() -> Person {
    Person {
        id: 1_300_000_000_000_000_404,
        name: "Eve",
        roles: vec![PLAIN_ROLE],
    }
}

/// `at` as typed into the bot: `YYYY-MM-DD HH:MM` in the business zone.
pub fn typed(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub struct Story {
    pub fake: FakeDiscord,
    pub store: CheckedStore,
    pub pool: PgPool,
    bot: BotProcess,
    /// The bot's environment, for more processes of it (`spawn_replica`).
    env: Vec<(String, String)>,
    /// More processes of the bot on the same database and fake Discord.
    replicas: Vec<BotProcess>,
}

impl Drop for Story {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- flashsale-bot log (last {LOG_TAIL} lines) ----\n{}\n---- {}",
                self.bot.tail(),
                self.fake.summary()
            );
            for (i, replica) in self.replicas.iter().enumerate() {
                eprintln!("---- replica {i} log ----\n{}", replica.tail());
            }
        }
    }
}

impl Story {
    /// The default policy (approval 60 minutes before start, 5 minutes lead).
    pub async fn start(pool: PgPool) -> Story {
        Story::start_with(pool, &[]).await
    }

    /// `env` adds or overrides settings, e.g. `("APPROVAL_CUTOFF_MINUTES", "0")`.
    pub async fn start_with(pool: PgPool, env: &[(&str, &str)]) -> Story {
        let fake = FakeDiscord::start().await;
        let store = dev_storefront().await;
        let discord = [
            ("DISCORD_TOKEN", "fake-bot-token".to_owned()),
            ("DISCORD_API_BASE", fake.api_base()),
            ("DISCORD_GUILD_ID", GUILD_ID.to_string()),
            (
                "DISCORD_ANNOUNCEMENTS_CHANNEL_ID",
                ANNOUNCEMENTS_CHANNEL.to_string(),
            ),
            (
                "DISCORD_APPROVALS_CHANNEL_ID",
                APPROVALS_CHANNEL.to_string(),
            ),
            ("DISCORD_EDITOR_ROLE_ID", EDITOR_ROLE.to_string()),
            ("DISCORD_APPROVER_ROLE_ID", APPROVER_ROLE.to_string()),
        ];
        let mut vars = base_env(&pool, store.url()).await;
        vars.extend(discord.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let vars = with_overrides(vars, env);
        let bot = BotProcess::spawn(&vars);
        let story = Story {
            fake,
            store,
            pool,
            bot,
            env: vars,
            replicas: Vec::new(),
        };
        story
            .fake
            .wait_within(
                0,
                START_LIMIT,
                "the bot to register its commands",
                registers_commands,
            )
            .await;
        story
    }

    /// Stops the bot (so the test database can be dropped) after checking
    /// that nothing the bot sent was wrong: every body within Discord's
    /// limits, no route the fake does not know, no late or double answer.
    pub async fn finish(mut self) {
        let problems = self.fake.problems();
        assert!(
            problems.is_empty(),
            "the bot sent Discord something wrong: {problems:#?}"
        );
        let unknown = self.fake.unknown_routes();
        assert!(
            unknown.is_empty(),
            "the bot called routes the fake does not know: {unknown:?}"
        );
        for r in self.fake.requests() {
            let what = format!("{} {}", r.method, r.path);
            let message = if r.path.contains("/callback") {
                let answer = r.body["type"].as_u64().unwrap_or(0);
                if answer == 4 || answer == 5 {
                    let flags = r.body["data"]["flags"].as_u64().unwrap_or(0);
                    assert!(
                        flags & 64 != 0,
                        "{what}: every answer must be private: {}",
                        r.body
                    );
                }
                (answer == 4 || answer == 7).then(|| r.body["data"].clone())
            } else if r.path.contains("/messages") || r.path.contains("/webhooks/") {
                matches!(r.method.as_str(), "POST" | "PATCH").then(|| r.body.clone())
            } else {
                None
            };
            if let Some(message) = message {
                crate::support::discord::assert_within_discord_limits(&message);
                let mentions = &message["allowed_mentions"];
                assert!(
                    mentions["parse"].as_array().is_some_and(Vec::is_empty),
                    "{what} lets Discord ping whatever its text mentions: {message}"
                );
            }
        }
        self.bot.kill().await;
        for replica in &mut self.replicas {
            replica.kill().await;
        }
    }

    /// Starts another process of the bot with the same settings; returns its index.
    pub fn spawn_replica(&mut self) -> usize {
        self.replicas.push(BotProcess::spawn(&self.env));
        self.replicas.len() - 1
    }

    /// Kills the first process with SIGKILL, as a lost machine would end it.
    pub async fn kill_first(&mut self) {
        self.bot.kill().await;
    }

    /// Waits until replica `index` logs a line containing `needle`.
    pub async fn wait_replica_log(&self, index: usize, needle: &str) {
        self.replicas[index]
            .wait_log(&format!("replica {index}"), needle)
            .await;
    }

    /// Every line the first process has logged so far.
    pub fn first_log(&self) -> Vec<String> {
        self.bot.lines()
    }

    /// Waits until the first process logs a line containing `needle`.
    pub async fn wait_first_log(&self, needle: &str) {
        self.bot.wait_log("the first process", needle).await;
    }

    /// The session as the database has it.
    pub async fn row(&self, session: i64) -> Row {
        bot_process::row(&self.pool, session).await
    }

    pub async fn sessions(&self) -> i64 {
        bot_process::sessions(&self.pool).await
    }

    /// The answer `who` sees to `/flashsale <sub> ...`.
    pub async fn run(&self, who: &Person, sub: &str, options: &[(&str, Value)]) -> Reply {
        let ix = self.fake.slash(who, sub, options);
        self.fake.reply(&ix).await
    }

    /// Submits the form `custom_id` with `values` and returns the answer.
    pub async fn submit_form(
        &self,
        who: &Person,
        custom_id: &str,
        values: &[(&str, &str)],
    ) -> Reply {
        let ix = self.fake.submit_form(who, custom_id, values);
        self.fake.reply(&ix).await
    }

    /// Awaits `step`, which the bot must refuse (a press, a command, a form),
    /// and checks that the session's row is as it was. Returns the answer.
    pub async fn refused(&self, session: i64, step: impl Future<Output = Reply>) -> Reply {
        let before = self.row(session).await;
        let reply = step.await;
        assert_eq!(
            self.row(session).await,
            before,
            "the bot answered {:?} and changed #{session}",
            reply.text()
        );
        reply
    }

    /// Opens a form with `/flashsale <sub>`, submits it with `values`, and
    /// returns the answer to the submit.
    pub async fn fill_form(
        &self,
        who: &Person,
        sub: &str,
        options: &[(&str, Value)],
        expected_form: &str,
        values: &[(&str, &str)],
    ) -> Reply {
        let form = self.run(who, sub, options).await;
        assert!(
            form.is_modal(),
            "/flashsale {sub} should open a form, it answered: {}",
            form.text()
        );
        assert_eq!(form.custom_id(), expected_form);
        self.submit_form(who, expected_form, values).await
    }

    /// `/flashsale draft` through its form; returns the new session's number.
    pub async fn draft(
        &self,
        who: &Person,
        title: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> i64 {
        let (start, end) = (typed(start), typed(end));
        let reply = self
            .fill_form(
                who,
                "draft",
                &[],
                "fs:form:draft",
                &[
                    ("title", title),
                    ("start", &start),
                    ("end", &end),
                    ("notes", ""),
                ],
            )
            .await;
        assert!(reply.ephemeral, "the draft answer must be private");
        session_number(reply.content(), "Drafted #")
            .unwrap_or_else(|| panic!("no draft made: {}", reply.text()))
    }

    /// `/flashsale add-sku` with all three options.
    pub async fn add_sku(
        &self,
        who: &Person,
        session: i64,
        sku: &str,
        discount: i64,
        quantity: i64,
    ) -> Reply {
        self.run(
            who,
            "add-sku",
            &[
                ("session", json!(session.to_string())),
                ("sku", json!(sku)),
                ("discount", json!(discount)),
                ("quantity", json!(quantity)),
            ],
        )
        .await
    }

    /// `/flashsale add-sku session:N` and the paste form.
    pub async fn paste(&self, who: &Person, session: i64, lines: &str) -> Reply {
        self.fill_form(
            who,
            "add-sku",
            &[("session", json!(session.to_string()))],
            &format!("fs:form:paste:{session}"),
            &[("lines", lines)],
        )
        .await
    }

    pub async fn submit(&self, who: &Person, session: i64) -> Reply {
        self.run(who, "submit", &[("session", json!(session.to_string()))])
            .await
    }

    /// The approval card for `session` posted since `mark`.
    pub async fn approval_card(&self, mark: usize, session: i64) -> Recorded {
        let path = format!("{API}/channels/{APPROVALS_CHANNEL}/messages");
        let needle = format!("#{session} ");
        self.fake
            .wait_after(mark, &format!("the approval card of #{session}"), |r| {
                r.is("POST", &path)
                    && r.body["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(&needle))
            })
            .await
    }

    /// A draft by Carol with six SKUs (one by options, five pasted), submitted:
    /// (session, the approval card), once the card's picture was added too, so
    /// that what a test does next is not mixed up with it.
    pub async fn submitted(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> (i64, Recorded) {
        let mark = self.fake.mark();
        let (session, card) = self.submitted_as_posted(start, end).await;
        self.picture_of(mark, card.message_id()).await;
        (session, card)
    }

    /// `submitted` without waiting for the card's picture.
    pub async fn submitted_as_posted(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> (i64, Recorded) {
        let carol = carol();
        let session = self.draft(&carol, "Midnight Deals", start, end).await;
        let added = self.add_sku(&carol, session, "FS-001", 30, 50).await;
        assert_eq!(
            added.content(),
            format!("Added FS-001 to #{session}."),
            "{}",
            added.text()
        );
        let pasted = self
            .paste(&carol, session, "SKU\tdiscount\tquantity\nFS-002\t25%\t40\nFS-003, 20, 30\nFS-004;15;20\nFS-005 10 10\nFS-006 35% 5\n")
            .await;
        assert!(
            pasted.text().contains("Added 5 of 5 lines."),
            "{}",
            pasted.text()
        );
        let mark = self.fake.mark();
        self.submit(&carol, session)
            .await
            .assert_starts_with(&format!("Submitted #{session} for approval"));
        (session, self.approval_card(mark, session).await)
    }

    /// A session submitted, approved by Bob and made due at once (the story
    /// must allow a start two minutes ahead: `APPROVAL_CUTOFF_MINUTES=0`,
    /// `MIN_LEAD_MINUTES=0`): (session, approval card, the "now live" post,
    /// the mark taken before it was made due).
    pub async fn gone_live(&self) -> (i64, Recorded, Recorded, usize) {
        let start = Utc::now() + chrono::Duration::minutes(2);
        let (session, card) = self
            .submitted(start, start + chrono::Duration::minutes(30))
            .await;
        self.approve_from_card(&bob(), session, &card).await;
        let mark = self.fake.mark();
        self.make_due(session, "publish").await;
        let live = self
            .post_in(ANNOUNCEMENTS_CHANNEL, mark, "is now live!")
            .await;
        (session, card, live, mark)
    }

    /// Presses `custom_id` on the message and returns what the presser sees.
    pub async fn press(&self, who: &Person, message_id: u64, custom_id: &str) -> Reply {
        let ix = self.fake.press(who, message_id, custom_id);
        self.fake.reply(&ix).await
    }

    /// `who` presses Approve on the approval `card` of `session`; the answer
    /// must say it was approved.
    pub async fn approve_from_card(&self, who: &Person, session: i64, card: &Recorded) -> Reply {
        let approved = self
            .press(who, card.message_id(), &card.button_ids()[0])
            .await;
        approved.assert_starts_with(&format!("Approved #{session}."));
        approved
    }

    /// Waits for the edit since `mark` that uploads a picture to message `id`
    /// (in any channel).
    pub async fn picture_of(&self, mark: usize, id: u64) -> Recorded {
        let suffix = format!("/messages/{id}");
        self.fake
            .wait_after(mark, &format!("the picture of message {id}"), |r| {
                r.method == "PATCH" && r.path.ends_with(&suffix) && !r.files.is_empty()
            })
            .await
    }

    /// Waits for the first edit of approval card `card_id` since `mark`;
    /// `what` says what it should show, for the failure message.
    pub async fn card_edit(&self, mark: usize, card_id: u64, what: &str) -> Recorded {
        let path = card_path(card_id);
        self.fake
            .wait_after(mark, &format!("the card edited to {what}"), |r| {
                r.is("PATCH", &path) && r.files.is_empty()
            })
            .await
    }

    /// Waits for an edit of approval card `card_id` since `mark` whose text contains `needle`.
    pub async fn card_edit_saying(&self, mark: usize, card_id: u64, needle: &str) -> Recorded {
        let path = card_path(card_id);
        self.fake
            .wait_after(mark, &format!("the card edited to say {needle:?}"), |r| {
                r.is("PATCH", &path) && r.text().contains(needle)
            })
            .await
    }

    /// Waits for a channel post in `channel` since `mark` whose text contains `needle`.
    pub async fn post_in(&self, channel: u64, mark: usize, needle: &str) -> Recorded {
        let path = format!("{API}/channels/{channel}/messages");
        self.fake
            .wait_after(mark, &format!("a post containing {needle:?}"), |r| {
                r.is("POST", &path) && r.text().contains(needle)
            })
            .await
    }

    /// Edits of message `id` since `mark`.
    pub fn edits_of(&self, id: u64, mark: usize) -> Vec<Recorded> {
        let path = card_path(id);
        self.fake
            .requests()
            .into_iter()
            .skip(mark)
            .filter(|r| r.is("PATCH", &path))
            .collect()
    }

    /// Makes the session's pending `kind` job due now (by the database clock).
    pub async fn make_due(&self, session: i64, kind: &str) {
        bot_process::make_due(&self.pool, session, kind).await;
    }

    /// Waits until the session reaches `status`.
    pub async fn wait_status(&self, session: i64, status: &str) {
        bot_process::wait_status(&self.pool, session, status, super::WAIT).await;
    }
}

/// The path of approval card `id` (edits of the card are PATCHes to it).
fn card_path(id: u64) -> String {
    format!("{API}/channels/{APPROVALS_CHANNEL}/messages/{id}")
}

/// The bot registering its slash commands in our guild, and Discord taking them.
pub fn registers_commands(r: &Recorded) -> bool {
    let path = format!("{API}/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands");
    r.is("PUT", &path) && r.status == 200
}
