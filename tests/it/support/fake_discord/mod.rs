//! A fake Discord on loopback: REST API v10 and the gateway websocket, enough
//! for the real bot (`flashsale-bot run` with `DISCORD_API_BASE`) to start,
//! register its commands and answer interactions, and for a test to play a
//! whole story the way members do.
//!
//! What it does:
//! - serves the REST calls the bot makes and records every request (method,
//!   path, JSON body, status, answer); a route it does not know answers 404
//!   and is listed by [`FakeDiscord::unknown_routes`], so surprises show;
//! - behaves like Discord where the bot depends on it: an interaction is
//!   answered once (a second callback gets 400 "already acknowledged"), an
//!   answer later than 3 s gets 404 "Unknown interaction", a follow-up needs
//!   the first answer, `enforce_nonce` returns the first message, a body that
//!   breaks a documented limit gets 400 "Invalid Form Body" (`limits`);
//! - runs the gateway (`gateway`): HELLO with a short heartbeat, READY and
//!   GUILD_CREATE after IDENTIFY, heartbeat ACKs, RESUME with replay of what
//!   was dispatched while the bot was away;
//! - injects slash commands, autocomplete requests, button presses on a
//!   posted message and modal submits, each checked first to be something
//!   serenity can read (it drops what it cannot, silently);
//! - waits for "the next request matching X" and fails loudly, naming what it
//!   waited for and the last requests, when it does not come.
//!
//! Anything the fake finds wrong with what the bot sent is kept in
//! [`FakeDiscord::problems`]; `Story::finish` fails the test on any.
//!
//! Layout: `payloads` (Discord's object shapes), `rest` (the REST routes),
//! `uploads` (multipart bodies, attachments and `attachment://` images),
//! `gateway` (the websocket), `limits` (Discord's documented limits),
//! `story` (the real bot, the dev storefront and the people of our stories).

mod gateway;
mod limits;
pub mod payloads;
mod rest;
pub mod story;
pub mod uploads;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use payloads::check_dispatch;

pub const APPLICATION_ID: u64 = 1_300_000_000_000_000_001;
/// A bot's user id is its application's id.
pub const BOT_USER_ID: u64 = APPLICATION_ID;
pub const GUILD_ID: u64 = 1_300_000_000_000_000_100;
pub const GENERAL_CHANNEL: u64 = 1_300_000_000_000_000_200;
pub const ANNOUNCEMENTS_CHANNEL: u64 = 1_300_000_000_000_000_201;
pub const APPROVALS_CHANNEL: u64 = 1_300_000_000_000_000_202;
pub const EDITOR_ROLE: u64 = 1_300_000_000_000_000_301;
pub const APPROVER_ROLE: u64 = 1_300_000_000_000_000_302;
/// A role that grants nothing in the bot.
pub const PLAIN_ROLE: u64 = 1_300_000_000_000_000_303;

pub const API: &str = "/api/v10";
/// Another server the bot was added to (with `DISCORD_REGISTER_GLOBALLY`).
pub const OTHER_GUILD_ID: u64 = 1_300_000_000_000_000_999;

/// Where an interaction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    OurGuild,
    OtherGuild,
    DirectMessage,
}
/// Discord waits this long for the first answer to an interaction.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(3);
/// How long a test waits for anything else the bot should do.
pub const WAIT: Duration = Duration::from_secs(5);

/// Interaction types (Discord's numbering).
const APPLICATION_COMMAND: u8 = 2;
const MESSAGE_COMPONENT: u8 = 3;
const AUTOCOMPLETE: u8 = 4;
const MODAL_SUBMIT: u8 = 5;

/// A guild member as the fake presents them in interactions.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: u64,
    pub name: &'static str,
    pub roles: Vec<u64>,
}

/// One request the bot made, with what the fake answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Position in the recording; `mark()` values compare with it.
    pub seq: usize,
    pub at: Instant,
    pub method: String,
    /// Without the query.
    pub path: String,
    pub query: Option<String>,
    /// The JSON body; `Null` when there was none.
    pub body: Value,
    pub status: u16,
    /// The JSON answer; `Null` for 204.
    pub response: Value,
    /// False when no route of the fake matched (answered 404).
    pub known: bool,
    /// Files uploaded with a multipart body (whose JSON part is `body`).
    pub files: Vec<uploads::Upload>,
}

impl Recorded {
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }

    /// Every character a person reads: content, embed titles, descriptions, fields, footers.
    pub fn text(&self) -> String {
        crate::support::discord::all_text(&self.body)
    }

    /// The id of the message this request created or edited.
    pub fn message_id(&self) -> u64 {
        self.response["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("{} {} answered no message", self.method, self.path))
    }

    /// The custom ids of the buttons in the body.
    pub fn button_ids(&self) -> Vec<String> {
        button_ids(&self.body)
    }
}

pub fn button_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
        .collect()
}

/// An interaction the fake delivered; waits and answers refer to it.
#[derive(Clone, Debug)]
pub struct Ix {
    pub id: u64,
    pub token: String,
    /// Says what it was in a failure message, e.g. `/flashsale submit by Carol`.
    pub label: String,
    pub sent_at: Instant,
}

/// The first visible answer to an interaction.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The callback type: 4 message, 5 deferred message, 6 deferred update,
    /// 7 update, 8 autocomplete choices, 9 modal.
    pub callback_type: u64,
    /// The message, modal or choices (after a deferral: the follow-up or edit).
    pub body: Value,
    /// Only the member who acted sees it (flag 64 on the first answer).
    pub ephemeral: bool,
}

impl Reply {
    pub fn text(&self) -> String {
        crate::support::discord::all_text(&self.body)
    }

    pub fn content(&self) -> &str {
        self.body["content"].as_str().unwrap_or_default()
    }

    /// Fails the test, showing the whole answer, unless its content starts with `prefix`.
    #[track_caller]
    pub fn assert_starts_with(&self, prefix: &str) {
        assert!(
            self.content().starts_with(prefix),
            "expected an answer starting {prefix:?}, got: {}",
            self.text()
        );
    }

    pub fn is_modal(&self) -> bool {
        self.callback_type == 9
    }

    /// A modal's custom id.
    pub fn custom_id(&self) -> &str {
        self.body["custom_id"].as_str().unwrap_or_default()
    }

    /// Autocomplete choices as (name, value).
    pub fn choices(&self) -> Vec<(String, String)> {
        assert_eq!(
            self.callback_type, 8,
            "not autocomplete choices: {}",
            self.body
        );
        self.body["choices"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let value = match &c["value"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (c["name"].as_str().unwrap_or_default().to_owned(), value)
            })
            .collect()
    }
}

/// What the fake knows about a delivered interaction.
struct IxState {
    kind: u8,
    token: String,
    label: String,
    channel_id: u64,
    /// The message a button was pressed on.
    message_id: Option<u64>,
    frame: Value,
    sent_at: Instant,
    /// The callback type of the first answer.
    acked: Option<u64>,
    /// The interaction's own message (answer or deferral), by id in `messages`.
    original: Option<u64>,
}

struct State {
    next_id: u64,
    requests: Vec<Recorded>,
    problems: Vec<String>,
    /// Every message that exists: channel posts and interaction messages.
    messages: HashMap<u64, Value>,
    /// The next channel post whose content contains this is created, then
    /// its answer held back this long (the bot may die waiting).
    hold_post: Option<(String, std::time::Duration)>,
    /// (channel, nonce) -> message, for `enforce_nonce`.
    nonces: HashMap<(u64, String), u64>,
    interactions: HashMap<u64, IxState>,
    tokens: HashMap<String, u64>,
    /// The registered `/flashsale` command as Discord answered it.
    commands: Vec<Value>,
    gateway: gateway::GatewayState,
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn problem(&mut self, problem: String) {
        tracing::error!(%problem, "fake discord");
        self.problems.push(problem);
    }
}

struct Inner {
    state: Mutex<State>,
    /// Bumped on every recorded request and gateway change, for waiters.
    changed: watch::Sender<u64>,
    ws_url: String,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

pub struct FakeDiscord {
    inner: Arc<Inner>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Discord");
        let addr = listener.local_addr().expect("fake Discord address");
        let (changed, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                next_id: 1_300_000_000_000_100_000,
                requests: Vec::new(),
                problems: Vec::new(),
                messages: HashMap::new(),
                hold_post: None,
                nonces: HashMap::new(),
                interactions: HashMap::new(),
                tokens: HashMap::new(),
                commands: Vec::new(),
                gateway: gateway::GatewayState::default(),
            }),
            changed,
            ws_url: format!("ws://{addr}/gateway"),
        });
        let app = axum::Router::new()
            .route("/gateway", axum::routing::get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord {
            inner,
            addr,
            server,
        }
    }

    /// What `DISCORD_API_BASE` must be: scheme, host and port.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Requests from now on have `seq >= mark()`.
    pub fn mark(&self) -> usize {
        self.lock().requests.len()
    }

    /// Requests no route of the fake knows (answered 404).
    pub fn unknown_routes(&self) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .filter(|r| !r.known)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// What the fake found wrong with what the bot sent.
    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }

    /// The message as it is now (after every edit).
    pub fn message(&self, id: u64) -> Value {
        self.lock()
            .messages
            .get(&id)
            .cloned()
            .unwrap_or_else(|| panic!("no message {id} exists in the fake Discord"))
    }

    /// The registered `/flashsale` command.
    pub fn commands(&self) -> Vec<Value> {
        self.lock().commands.clone()
    }

    /// Gateway frames the bot sent (heartbeats left out).
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.lock().gateway.received.clone()
    }

    /// The first request matching `pred`, waiting for it if needed.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Recorded) -> bool) -> Recorded {
        self.wait_within(0, WAIT, what, pred).await
    }

    /// The first request at or after `mark` matching `pred`, waiting for it if needed.
    pub async fn wait_after(
        &self,
        mark: usize,
        what: &str,
        pred: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        self.wait_within(mark, WAIT, what, pred).await
    }

    pub async fn wait_within(
        &self,
        mark: usize,
        limit: Duration,
        what: &str,
        pred: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        let deadline = tokio::time::Instant::now() + limit;
        let mut changed = self.inner.changed.subscribe();
        loop {
            if let Some(found) = self
                .lock()
                .requests
                .iter()
                .skip(mark)
                .find(|r| pred(r))
                .cloned()
            {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!("waited {limit:?} for {what}, in vain.\n{}", self.summary());
            }
        }
    }

    /// The last requests and every problem, for failure messages.
    pub fn summary(&self) -> String {
        let state = self.lock();
        let skip = state.requests.len().saturating_sub(20);
        let mut out = String::from("Last requests to the fake Discord:\n");
        for r in state.requests.iter().skip(skip) {
            let body = r.body.to_string();
            let body: String = body.chars().take(300).collect();
            out.push_str(&format!(
                "  #{} {} {} -> {} {body}\n",
                r.seq, r.method, r.path, r.status
            ));
        }
        if !state.problems.is_empty() {
            out.push_str(&format!("Problems: {:#?}\n", state.problems));
        }
        out
    }

    /// Creates the next channel post containing `needle` as usual, then
    /// holds its answer back for `hold`: Discord took it, the bot does not
    /// know yet.
    pub fn hold_next_post_containing(&self, needle: &str, hold: std::time::Duration) {
        self.lock().hold_post = Some((needle.to_owned(), hold));
    }

    /// Closes the bot's gateway connection with `code` (4000: unknown error,
    /// which Discord says may be resumed). What is dispatched meanwhile waits
    /// for a RESUME.
    pub fn disconnect(&self, code: u16) {
        let mut state = self.lock();
        gateway::disconnect(&mut state, code);
    }

    #[allow(clippy::too_many_arguments)]
    fn deliver_from(
        &self,
        origin: Origin,
        kind: u8,
        who: &Person,
        channel_id: u64,
        message_id: Option<u64>,
        data: Value,
        label: String,
    ) -> Ix {
        let mut state = self.lock();
        let id = state.next_id();
        let token = format!("fake-token-{id}");
        let mut payload = payloads::interaction(kind, id, &token, who, channel_id, data);
        payloads::move_to(&mut payload, origin, who);
        if let Some(message_id) = message_id {
            let message =
                state.messages.get(&message_id).cloned().unwrap_or_else(|| {
                    panic!("{label}: no message {message_id} to press a button on")
                });
            payload["message"] = message;
        }
        let frame = json!({ "op": 0, "t": "INTERACTION_CREATE", "s": 0, "d": payload });
        if let Some(problem) = check_dispatch(&frame) {
            panic!("{label}: the fake built an interaction serenity cannot read: {problem}");
        }
        let sent_at = Instant::now();
        state.tokens.insert(token.clone(), id);
        state.interactions.insert(
            id,
            IxState {
                kind,
                token: token.clone(),
                label: label.clone(),
                channel_id,
                message_id,
                frame: payload.clone(),
                sent_at,
                acked: None,
                original: None,
            },
        );
        gateway::dispatch(&mut state, "INTERACTION_CREATE", payload);
        Ix {
            id,
            token,
            label,
            sent_at,
        }
    }

    /// Whether Discord's client could send these options for the registered
    /// subcommand: known names, the declared types, required ones present,
    /// numbers and lengths within the declared bounds.
    fn sendable(&self, sub: &str, options: &[(&str, Value)]) -> Result<(), String> {
        let commands = self.commands();
        let Some(command) = commands.iter().find(|c| c["name"] == "flashsale") else {
            return Err("/flashsale is not registered".to_owned());
        };
        let Some(declared) = command["options"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["name"] == sub && o["type"] == 1)
        else {
            return Err(format!("/flashsale has no subcommand {sub}"));
        };
        let declared: Vec<Value> = declared["options"].as_array().cloned().unwrap_or_default();
        for (name, value) in options {
            let Some(option) = declared.iter().find(|o| o["name"] == *name) else {
                return Err(format!("no option {name}"));
            };
            let kind = payloads::option_type(value);
            if option["type"].as_u64() != Some(u64::from(kind)) {
                return Err(format!(
                    "{name} is declared as type {}, not {kind}",
                    option["type"]
                ));
            }
            if let Some(n) = value.as_f64() {
                if option["min_value"].as_f64().is_some_and(|min| n < min)
                    || option["max_value"].as_f64().is_some_and(|max| n > max)
                {
                    return Err(format!(
                        "{name}:{n} is outside the declared bounds {option}"
                    ));
                }
            }
            if let Some(s) = value.as_str() {
                let len = s.chars().count() as u64;
                if option["min_length"].as_u64().is_some_and(|min| len < min)
                    || option["max_length"].as_u64().is_some_and(|max| len > max)
                {
                    return Err(format!(
                        "{name} has a length outside the declared bounds {option}"
                    ));
                }
            }
        }
        for option in &declared {
            let name = option["name"].as_str().unwrap_or_default();
            if option["required"] == true && !options.iter().any(|(n, _)| *n == name) {
                return Err(format!("the required option {name} is missing"));
            }
        }
        Ok(())
    }

    fn command_id(&self) -> u64 {
        self.lock()
            .commands
            .first()
            .and_then(|c| c["id"].as_str()?.parse().ok())
            .unwrap_or(1)
    }

    /// `/flashsale <sub> name:value ...` by `who` in #general. Options are
    /// checked against the registered command first: a test must not send
    /// what Discord's client would never let a member send.
    pub fn slash(&self, who: &Person, sub: &str, options: &[(&str, Value)]) -> Ix {
        self.slash_from(Origin::OurGuild, who, sub, options)
    }

    /// Typing into option `focused` of `/flashsale <sub>`.
    pub fn autocomplete(
        &self,
        who: &Person,
        sub: &str,
        options: &[(&str, Value)],
        focused: &str,
    ) -> Ix {
        let label = format!(
            "autocomplete of {focused} in /flashsale {sub} by {}",
            who.name
        );
        let data = payloads::command_data(self.command_id(), sub, options, Some(focused));
        self.deliver_from(
            Origin::OurGuild,
            AUTOCOMPLETE,
            who,
            GENERAL_CHANNEL,
            None,
            data,
            label,
        )
    }

    /// `who` presses the button `custom_id` on message `message_id` (the
    /// message as it is now goes with the press, as Discord sends it).
    pub fn press(&self, who: &Person, message_id: u64, custom_id: &str) -> Ix {
        self.press_from(Origin::OurGuild, who, message_id, custom_id)
    }

    /// `/flashsale <sub> ...` by `who`, sent from `origin` (another server
    /// the bot is in, or a DM) instead of our guild.
    pub fn slash_from(
        &self,
        origin: Origin,
        who: &Person,
        sub: &str,
        options: &[(&str, Value)],
    ) -> Ix {
        let rendered: Vec<String> = options.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        let mut label = format!("/flashsale {sub} {} by {}", rendered.join(" "), who.name);
        if origin != Origin::OurGuild {
            label.push_str(&format!(" from {origin:?}"));
        }
        if let Err(why) = self.sendable(sub, options) {
            panic!("{label}: Discord would not send this: {why}");
        }
        let data = payloads::command_data(self.command_id(), sub, options, None);
        self.deliver_from(
            origin,
            APPLICATION_COMMAND,
            who,
            GENERAL_CHANNEL,
            None,
            data,
            label,
        )
    }

    /// `who` presses `custom_id` on message `message_id`, as seen from `origin`.
    pub fn press_from(&self, origin: Origin, who: &Person, message_id: u64, custom_id: &str) -> Ix {
        let channel_id = self.message(message_id)["channel_id"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("a message has a channel");
        let mut label = format!(
            "button {custom_id} on message {message_id} pressed by {}",
            who.name
        );
        if origin != Origin::OurGuild {
            label.push_str(&format!(" from {origin:?}"));
        }
        self.deliver_from(
            origin,
            MESSAGE_COMPONENT,
            who,
            channel_id,
            Some(message_id),
            payloads::button_data(custom_id),
            label,
        )
    }

    /// `who` submits the modal `custom_id` with `values` (input id, text).
    pub fn submit_form(&self, who: &Person, custom_id: &str, values: &[(&str, &str)]) -> Ix {
        let label = format!("form {custom_id} submitted by {}", who.name);
        let data = payloads::modal_data(custom_id, values);
        self.deliver_from(
            Origin::OurGuild,
            MODAL_SUBMIT,
            who,
            GENERAL_CHANNEL,
            None,
            data,
            label,
        )
    }

    /// Delivers the same interaction (same id and token) once more, as a
    /// gateway replay or a second process would see it.
    pub fn redeliver(&self, ix: &Ix) {
        let mut state = self.lock();
        let frame = state.interactions[&ix.id].frame.clone();
        gateway::dispatch(&mut state, "INTERACTION_CREATE", frame);
    }

    /// The first answer to `ix`; fails the test when none comes within
    /// Discord's three seconds.
    pub async fn callback(&self, ix: &Ix) -> Recorded {
        let path = format!("{API}/interactions/{}/{}/callback", ix.id, ix.token);
        let left = ANSWER_DEADLINE.saturating_sub(ix.sent_at.elapsed());
        let what = format!(
            "an answer to {} (Discord shows \"The application did not respond\" after 3 s)",
            ix.label
        );
        self.wait_within(0, left, &what, |r| r.is("POST", &path))
            .await
    }

    /// What the member sees first: the answer itself, or after a deferral the
    /// follow-up or the edit of the deferred message.
    pub async fn reply(&self, ix: &Ix) -> Reply {
        let callback = self.callback(ix).await;
        assert_eq!(
            callback.status,
            204,
            "the answer to {} was refused: {}\n{}",
            ix.label,
            callback.response,
            self.summary()
        );
        let callback_type = callback.body["type"].as_u64().unwrap_or(0);
        let data = callback.body["data"].clone();
        let ephemeral = data["flags"].as_u64().unwrap_or(0) & 64 != 0;
        match callback_type {
            5 | 6 => {
                let follow_up = format!("{API}/webhooks/{APPLICATION_ID}/{}", ix.token);
                let original = format!("{follow_up}/messages/@original");
                let what = format!("the answer to {} after its deferral", ix.label);
                let answer = self
                    .wait_after(callback.seq + 1, &what, |r| {
                        r.is("POST", &follow_up) || r.is("PATCH", &original)
                    })
                    .await;
                assert!(
                    (200..300).contains(&answer.status),
                    "the answer to {} was refused: {}",
                    ix.label,
                    answer.response
                );
                let flags = answer.body["flags"].as_u64().unwrap_or(0);
                Reply {
                    callback_type,
                    body: answer.body,
                    ephemeral: ephemeral || flags & 64 != 0,
                }
            }
            _ => Reply {
                callback_type,
                body: data,
                ephemeral,
            },
        }
    }
}
