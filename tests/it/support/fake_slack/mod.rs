//! A fake Slack on loopback: the Web API methods the bot calls and the
//! Socket Mode websocket, enough for `SlackChat`, `SlackRoles` and
//! `SocketMode` (and later the real bot with `SLACK_API_BASE`) to run
//! against, and for a test to play people pressing things.
//!
//! What it does:
//! - serves `/api/<method>` (JSON, form or query bodies) and records every
//!   call with its answer; checks the token as Slack does (`not_authed`,
//!   `invalid_auth`, `not_allowed_token_type`: the app token only opens
//!   connections, the bot token does the rest); a method it does not know
//!   answers `unknown_method` and is listed by [`FakeSlack::unknown_methods`];
//! - behaves like Slack where the bot depends on it: messages get a `ts` and
//!   keep their metadata, `chat.update` replaces what it is given (blocks
//!   are kept when absent), `conversations.history` answers newest first with
//!   metadata only when asked, and like it does for a new commercially
//!   distributed app outside the Marketplace (since 29 May 2025) once a
//!   minute per channel: a second read within the minute is HTTP 429
//!   `ratelimited` with `Retry-After: 60`; unknown channels and messages are refused
//!   (`channel_not_found`, `message_not_found`), and a body that breaks Block
//!   Kit's limits (`limits`) is refused with `invalid_blocks`;
//! - can be taken down (every call answers 503) to play an outage, or
//!   unplugged ([`FakeSlack::unplug`]: nothing listens, every connection is
//!   refused) and plugged back on the same address; can take a
//!   `chat.postMessage` and never answer it ([`FakeSlack::hold_posts`]), so a
//!   test can kill the bot between Slack having the post and the bot
//!   recording it, or answer it only after a stall
//!   ([`FakeSlack::stall_posts`]), past the bot's deadline for the call;
//! - runs Socket Mode (`socket`): `apps.connections.open` hands out a
//!   `ws://127.0.0.1` URL with a ticket; the connection gets `hello`; a test
//!   pushes `slash_commands` and `interactive` envelopes and reads each ack
//!   with its `envelope_id`, its payload and how long it took; `disconnect`
//!   asks the bot to reconnect, and a new `apps.connections.open` is served.
//!
//! Anything the fake finds wrong with what the bot sent is kept in
//! [`FakeSlack::problems`].

mod limits;
pub mod socket;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub const BOT_TOKEN: &str = "xoxb-fake-bot-token";
pub const APP_TOKEN: &str = "xapp-fake-app-token";
pub const TEAM_ID: &str = "T0FAKE";
pub const APP_ID: &str = "A0FAKE";
pub const BOT_USER_ID: &str = "U0BOT";
pub const BOT_ID: &str = "B0BOT";
pub const ANNOUNCEMENTS: &str = "C0ANNOUNCE";
pub const APPROVALS: &str = "C0APPROVALS";
pub const GENERAL: &str = "C0GENERAL";
/// A channel the bot was never invited to: Slack answers `not_in_channel`.
pub const OUTSIDE: &str = "C0OUTSIDE";
pub const EDITORS: &str = "S0EDITORS";
pub const APPROVERS: &str = "S0APPROVERS";
/// `conversations.history` for a new non-Marketplace app: this many reads
/// per channel per `HISTORY_WINDOW`, then 429 with `Retry-After` of the window.
pub const HISTORY_READS: usize = 1;
pub const HISTORY_WINDOW: Duration = Duration::from_secs(60);
/// Slack waits this long for an envelope's ack.
pub const ACK_DEADLINE: Duration = Duration::from_secs(3);
/// How long a test waits for anything else.
pub const WAIT: Duration = Duration::from_secs(5);

/// One Web API call the bot made, with what the fake answered.
#[derive(Clone, Debug)]
pub struct Call {
    pub seq: usize,
    pub method: String,
    /// The arguments, from the JSON body, the form or the query.
    pub args: Value,
    /// The answer's JSON (`ok`, `error`, …); for a 503, `Null`.
    pub answer: Value,
    pub status: u16,
    pub known: bool,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.answer["ok"] == true
    }

    pub fn error(&self) -> Option<&str> {
        self.answer["error"].as_str()
    }
}

/// A message as it is now in a channel.
#[derive(Clone, Debug)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    /// The message as `conversations.history` would show it (text, blocks, metadata).
    pub message: Value,
    /// Each `chat.update` body applied to it, oldest first.
    pub updates: Vec<Value>,
}

/// A file whose upload URL was handed out.
#[derive(Clone, Debug)]
struct Upload {
    /// The `length` the bot announced; the bytes POSTed must have it.
    length: usize,
    /// The bytes POSTed to the upload URL (`None` until then).
    bytes: Option<Vec<u8>>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    problems: Vec<String>,
    /// Every channel message, oldest first.
    posted: Vec<Posted>,
    ephemeral: Vec<Value>,
    views: Vec<Value>,
    /// Files between `files.getUploadURLExternal` and their completion: id -> upload.
    uploads: HashMap<String, Upload>,
    completed_files: Vec<Value>,
    /// Files people "attached" in a form: id -> bytes, read at `/files/<id>` with the bot token.
    hosted: HashMap<String, Vec<u8>>,
    /// How often a hosted file was read.
    file_reads: u64,
    groups: HashMap<String, Vec<String>>,
    next_id: u64,
    down: bool,
    /// Methods answered with a refusal whatever they are sent: method -> error code.
    refusing: HashMap<String, String>,
    /// Posts whose text contains this are taken and never answered.
    hold_posts: Option<String>,
    /// Posts whose text contains this are taken and answered after the stall.
    stall_posts: Option<(String, Duration)>,
    /// Per channel, when `conversations.history` answered it (the rate limit).
    history_reads: HashMap<String, Vec<tokio::time::Instant>>,
    socket: socket::SocketState,
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

struct Inner {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    addr: SocketAddr,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

pub struct FakeSlack {
    inner: Arc<Inner>,
    /// The listener and its connections; `None` while unplugged.
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        if let Some(server) = self
            .server
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
        {
            server.abort();
        }
        socket::close_all(&mut self.inner.lock());
    }
}

/// Serves `app` on `listener`. Each connection is a task of the server's
/// own, so aborting the server closes the listener and every connection at
/// once (`axum::serve` lets its connections outlive it).
async fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        // Finished connections are forgotten as new ones come.
        while connections.try_join_next().is_some() {}
        let service = app.clone();
        connections.spawn(async move {
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                )
                .await;
        });
    }
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Slack");
        let addr = listener.local_addr().expect("fake Slack address");
        let (changed, _) = watch::channel(0);
        let state = State {
            next_id: 1_795_712_400_000_000,
            groups: HashMap::from([
                (
                    EDITORS.to_owned(),
                    vec!["U0ANA".to_owned(), "U0BO".to_owned()],
                ),
                (
                    APPROVERS.to_owned(),
                    vec!["U0BO".to_owned(), "U0CY".to_owned()],
                ),
            ]),
            ..State::default()
        };
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            changed,
            addr,
        });
        let server = tokio::spawn(serve(listener, router(&inner)));
        FakeSlack {
            inner,
            server: Mutex::new(Some(server)),
        }
    }

    /// Slack goes out of reach: nothing listens on its address any more, and
    /// every open connection is closed, so each call is refused before it is
    /// sent (Socket Mode connections already open stay as they are).
    pub async fn unplug(&self) {
        let server = self
            .server
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(server) = server {
            server.abort();
            // Once it is joined, the listener and the connections are closed.
            let _ = server.await;
        }
    }

    /// Slack is back, on the same address.
    pub async fn plug(&self) {
        let listener = tokio::net::TcpListener::bind(self.inner.addr)
            .await
            .expect("bind the fake Slack's address again");
        let server = tokio::spawn(serve(listener, router(&self.inner)));
        let mut slot = self.server.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = slot.replace(server) {
            running.abort();
        }
    }

    /// What `SLACK_API_BASE` must be.
    pub fn api_base(&self) -> reqwest::Url {
        reqwest::Url::parse(&format!("http://{}/api/", self.inner.addr)).expect("a URL")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The number of calls so far: `wait_call_after` looks at later ones.
    pub fn mark(&self) -> usize {
        self.lock().calls.len()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    pub fn unknown_methods(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.known)
            .map(|c| c.method)
            .collect()
    }

    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }

    /// Every channel message as it is now, oldest first.
    pub fn posted(&self) -> Vec<Posted> {
        self.lock().posted.clone()
    }

    pub fn posted_in(&self, channel: &str) -> Vec<Posted> {
        self.posted()
            .into_iter()
            .filter(|p| p.channel == channel)
            .collect()
    }

    /// The ephemeral messages (`chat.postEphemeral` bodies) and opened or updated views.
    pub fn ephemeral(&self) -> Vec<Value> {
        self.lock().ephemeral.clone()
    }

    pub fn views(&self) -> Vec<Value> {
        self.lock().views.clone()
    }

    /// Files completed with `files.completeUploadExternal`: id, title, channel, `thread_ts`
    /// (the parent message, when shared as a reply) and size.
    pub fn files(&self) -> Vec<Value> {
        self.lock().completed_files.clone()
    }

    /// The bytes uploaded for the file `id`.
    pub fn file_bytes(&self, id: &str) -> Option<Vec<u8>> {
        self.lock().uploads.get(id).and_then(|u| u.bytes.clone())
    }

    /// The files shared as replies in the thread of the message `ts`, oldest first.
    pub fn files_in_thread(&self, channel: &str, ts: &str) -> Vec<Value> {
        self.files()
            .into_iter()
            .filter(|f| f["channel"] == channel && f["thread_ts"] == ts)
            .collect()
    }

    /// The first file shared in the thread of `ts` at or after the `n`th file, waiting for it.
    pub async fn wait_file_in_thread(&self, channel: &str, ts: &str, n: usize) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut changed = self.inner.changed.subscribe();
        loop {
            if let Some(file) = self.files_in_thread(channel, ts).into_iter().nth(n) {
                return file;
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!(
                    "waited {WAIT:?} for file {n} in the thread of {ts}, in vain. Files: {:#?}",
                    self.files()
                );
            }
        }
    }

    /// Sets who is in a user group.
    pub fn set_group(&self, group: &str, users: &[&str]) {
        self.lock().groups.insert(
            group.to_owned(),
            users.iter().map(|u| u.to_string()).collect(),
        );
    }

    /// While down, every Web API call answers 503 (the socket stays as it is).
    /// A file someone picked in a form's `file_input`: the file object Slack
    /// puts in the submission (name, size, a private URL on this fake).
    pub fn host_file(&self, name: &str, bytes: &[u8]) -> Value {
        let mut state = self.lock();
        let id = format!("F{:08}", state.next_id());
        state.hosted.insert(id.clone(), bytes.to_vec());
        json!({
            "id": id,
            "name": name,
            "title": name,
            "size": bytes.len(),
            "url_private": format!("http://{}/files/{id}", self.inner.addr),
            "url_private_download": format!("http://{}/files/{id}", self.inner.addr),
        })
    }

    /// How often the bot read a hosted file.
    pub fn file_reads(&self) -> u64 {
        self.lock().file_reads
    }

    /// From now on `method` answers `ok: false` with `error` (e.g. `missing_scope`).
    pub fn refuse_method(&self, method: &str, error: &str) {
        self.lock()
            .refusing
            .insert(method.to_owned(), error.to_owned());
    }

    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// From now on a `chat.postMessage` whose text contains `needle` is taken
    /// (the message is in the channel and the call recorded) and its answer
    /// never sent, as when the bot dies before reading it; `None` answers again.
    pub fn hold_posts(&self, needle: Option<&str>) {
        self.lock().hold_posts = needle.map(str::to_owned);
    }

    /// From now on a `chat.postMessage` whose text contains `needle` is taken
    /// (the message is in the channel and the call recorded) and answered
    /// only after `stall`: to a bot whose deadline is shorter, Slack took the
    /// post and the answer was lost. `None` answers at once again.
    pub fn stall_posts(&self, needle: Option<&str>, stall: Duration) {
        self.lock().stall_posts = needle.map(|n| (n.to_owned(), stall));
    }

    /// Posts a message as someone else would (for history and dedupe tests).
    pub fn seed_message(&self, channel: &str, message: Value) -> String {
        let mut state = self.lock();
        let ts = ts(state.next_id());
        let mut message = message;
        message["ts"] = json!(ts);
        message["type"] = json!("message");
        state.posted.push(Posted {
            channel: channel.to_owned(),
            ts: ts.clone(),
            message,
            updates: Vec::new(),
        });
        ts
    }

    /// The first call matching `pred`, waiting for it if needed.
    pub async fn wait_for_call(&self, what: &str, pred: impl Fn(&Call) -> bool) -> Call {
        self.wait_call_after(0, what, pred).await
    }

    /// The first call at or after `mark` matching `pred`, waiting for it if needed.
    pub async fn wait_call_after(
        &self,
        mark: usize,
        what: &str,
        pred: impl Fn(&Call) -> bool,
    ) -> Call {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut changed = self.inner.changed.subscribe();
        loop {
            if let Some(found) = self
                .lock()
                .calls
                .iter()
                .skip(mark)
                .find(|c| pred(c))
                .cloned()
            {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!(
                    "waited {WAIT:?} for {what}, in vain. Calls: {:#?}",
                    self.calls()
                );
            }
        }
    }
}

/// The fake's routes, on its shared state.
fn router(inner: &Arc<Inner>) -> axum::Router {
    axum::Router::new()
        .route("/link/", axum::routing::get(socket::upgrade))
        .route("/upload/{file}", axum::routing::post(upload))
        .route("/files/{file}", axum::routing::get(hosted_file))
        .route("/api/{method}", axum::routing::any(api))
        .route("/response/{trigger}", axum::routing::post(response_url))
        .with_state(inner.clone())
}

fn ts(id: u64) -> String {
    format!("{}.{:06}", id / 1_000_000, id % 1_000_000)
}

/// The arguments of a call: a JSON body, a form body, or the query.
fn args(uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Value {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") && !body.is_empty() {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let raw = if body.is_empty() {
        uri.query().unwrap_or_default().as_bytes().to_vec()
    } else {
        body.to_vec()
    };
    let mut map = Map::new();
    let raw = String::from_utf8_lossy(&raw);
    let Ok(parsed) = reqwest::Url::parse(&format!("http://form.invalid/?{raw}")) else {
        return Value::Null;
    };
    for (k, v) in parsed.query_pairs() {
        // Form values that hold JSON (blocks, view) arrive as strings.
        let value = match k.as_ref() {
            "blocks" | "view" | "metadata" | "files" => {
                serde_json::from_str(&v).unwrap_or(Value::String(v.to_string()))
            }
            _ => Value::String(v.to_string()),
        };
        map.insert(k.to_string(), value);
    }
    Value::Object(map)
}

/// An answer through a command's `response_url`, recorded as the call
/// `response_url`. The bot answers people with `chat.postEphemeral` and uses
/// this only where that is refused (it is not in the channel), so a story
/// that did not expect one checks for it. A body without text or blocks, or
/// one that would replace the message the command came from, is a problem.
async fn response_url(
    AxumState(inner): AxumState<Arc<Inner>>,
    axum::extract::Path(trigger): axum::extract::Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut args = args(&uri, &headers, &body);
    args["trigger_id"] = json!(trigger);
    let mut state = inner.lock();
    let empty = args["text"].as_str().is_none_or(str::is_empty) && args["blocks"].is_null();
    if empty || args["replace_original"] == true || args["response_type"] == "in_channel" {
        state.problems.push(format!(
            "response_url: a body Slack would not show privately: {args}"
        ));
    }
    let seq = state.calls.len();
    state.calls.push(Call {
        seq,
        method: "response_url".to_owned(),
        args,
        answer: json!({ "ok": true }),
        status: 200,
        known: true,
    });
    drop(state);
    inner.notify();
    (StatusCode::OK, "ok").into_response()
}

fn refuse(error: &str) -> Value {
    json!({ "ok": false, "error": error })
}

/// A file from a `file_input`, as Slack serves `url_private_download`: only
/// with the bot token.
async fn hosted_file(
    AxumState(inner): AxumState<Arc<Inner>>,
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(BOT_TOKEN) {
        return (StatusCode::FORBIDDEN, "not authed").into_response();
    }
    let mut state = inner.lock();
    state.file_reads += 1;
    match state.hosted.get(&file) {
        Some(bytes) => (StatusCode::OK, bytes.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

async fn upload(
    AxumState(inner): AxumState<Arc<Inner>>,
    axum::extract::Path(file): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    let mut state = inner.lock();
    let Some(upload) = state.uploads.get_mut(&file) else {
        return (StatusCode::NOT_FOUND, "no such upload").into_response();
    };
    let (announced, sent) = (upload.length, body.len());
    upload.bytes = Some(body.to_vec());
    if announced != sent {
        state.problems.push(format!(
            "upload of {file}: {sent} bytes, but files.getUploadURLExternal announced {announced}"
        ));
    }
    drop(state);
    inner.notify();
    (StatusCode::OK, "OK - 0").into_response()
}

async fn api(
    AxumState(inner): AxumState<Arc<Inner>>,
    axum::extract::Path(method): axum::extract::Path<String>,
    uri: Uri,
    verb: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _ = verb;
    let (response, held) = call(&inner, method, &uri, &headers, &body);
    match held {
        Held::No => {}
        // Slack has the post; the bot never hears so.
        Held::Forever => std::future::pending::<()>().await,
        // Slack has the post; the bot hears so too late, if it still listens.
        Held::For(stall) => tokio::time::sleep(stall).await,
    }
    response
}

/// Whether the answer to a call is held back.
enum Held {
    No,
    /// `FakeSlack::hold_posts`.
    Forever,
    /// `FakeSlack::stall_posts`.
    For(Duration),
}

/// One Web API call, recorded, and its answer, and whether that is held back.
fn call(
    inner: &Inner,
    method: String,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> (Response, Held) {
    let args = args(uri, headers, body);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| args["token"].as_str().map(str::to_owned));
    let mut state = inner.lock();
    let seq = state.calls.len();
    if state.down {
        state.calls.push(Call {
            seq,
            method,
            args,
            answer: Value::Null,
            status: 503,
            known: true,
        });
        drop(state);
        inner.notify();
        let down = (StatusCode::SERVICE_UNAVAILABLE, "fake Slack is down").into_response();
        return (down, Held::No);
    }
    if method == "conversations.history" && token.as_deref() == Some(BOT_TOKEN) {
        if let Some(limited) = history_limit(&mut state, seq, &args) {
            drop(state);
            inner.notify();
            return (limited, Held::No);
        }
    }
    let (answer, known) = answer(inner, &mut state, &method, &args, token.as_deref());
    let taken = method == "chat.postMessage" && answer["ok"] == true;
    let says = |needle: &str| args["text"].as_str().unwrap_or_default().contains(needle);
    let held = match (&state.hold_posts, &state.stall_posts) {
        (Some(needle), _) if taken && says(needle) => Held::Forever,
        (_, Some((needle, stall))) if taken && says(needle) => Held::For(*stall),
        _ => Held::No,
    };
    if let Some(error) = answer["error"].as_str() {
        if error == "invalid_blocks" || error == "msg_too_long" {
            let why = format!("{method}: {error}: {}", answer["errors"]);
            state.problems.push(why);
        }
    }
    state.calls.push(Call {
        seq,
        method,
        args,
        answer: answer.clone(),
        status: 200,
        known,
    });
    drop(state);
    inner.notify();
    (axum::Json(answer).into_response(), held)
}

/// `conversations.history`'s limit for a new non-Marketplace app: the 429
/// Slack answers (recorded as a call) when `channel` was read within the window.
fn history_limit(state: &mut State, seq: usize, args: &Value) -> Option<Response> {
    let channel = args["channel"].as_str().unwrap_or_default().to_owned();
    let now = tokio::time::Instant::now();
    let reads = state.history_reads.entry(channel).or_default();
    reads.retain(|at| now.duration_since(*at) < HISTORY_WINDOW);
    if reads.len() < HISTORY_READS {
        reads.push(now);
        return None;
    }
    let answer = refuse("ratelimited");
    state.calls.push(Call {
        seq,
        method: "conversations.history".to_owned(),
        args: args.clone(),
        answer: answer.clone(),
        status: 429,
        known: true,
    });
    Some(
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, HISTORY_WINDOW.as_secs().to_string())],
            axum::Json(answer),
        )
            .into_response(),
    )
}

/// Slack's answer to one call, and whether the fake knows the method.
fn answer(
    inner: &Inner,
    state: &mut State,
    method: &str,
    args: &Value,
    token: Option<&str>,
) -> (Value, bool) {
    let app_method = method == "apps.connections.open";
    match token {
        None => return (refuse("not_authed"), true),
        Some(t) if t == APP_TOKEN && !app_method => {
            return (refuse("not_allowed_token_type"), true)
        }
        Some(t) if t == BOT_TOKEN && app_method => return (refuse("not_allowed_token_type"), true),
        Some(t) if t != APP_TOKEN && t != BOT_TOKEN => return (refuse("invalid_auth"), true),
        Some(_) => {}
    }
    if let Some(error) = state.refusing.get(method) {
        return (refuse(error), true);
    }
    let channel_known = |c: &Value| matches!(c.as_str(), Some(ANNOUNCEMENTS | APPROVALS | GENERAL));
    let answer = match method {
        "auth.test" => json!({
            "ok": true, "url": "https://fake.slack.com/", "team": "Fake", "user": "flashsale-bot",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID
        }),
        "apps.connections.open" => {
            let ticket = socket::issue_ticket(state);
            json!({ "ok": true, "url": format!("ws://{}/link/?ticket={ticket}", inner.addr) })
        }
        "chat.postMessage" => {
            if !channel_known(&args["channel"]) {
                refuse("channel_not_found")
            } else if let Some(refused) = message_refusal(args) {
                refused
            } else {
                let ts = ts(state.next_id());
                let channel = args["channel"].as_str().unwrap_or_default().to_owned();
                let mut message = json!({
                    "type": "message", "ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID,
                    "text": args["text"].clone(), "team": TEAM_ID,
                });
                if !args["blocks"].is_null() {
                    message["blocks"] = args["blocks"].clone();
                }
                if !args["metadata"].is_null() {
                    message["metadata"] = args["metadata"].clone();
                }
                state.posted.push(Posted {
                    channel: channel.clone(),
                    ts: ts.clone(),
                    message: message.clone(),
                    updates: Vec::new(),
                });
                json!({ "ok": true, "channel": channel, "ts": ts, "message": message })
            }
        }
        "chat.update" => {
            let (channel, ts) = (args["channel"].as_str(), args["ts"].as_str());
            let found = state
                .posted
                .iter()
                .position(|p| Some(p.channel.as_str()) == channel && Some(p.ts.as_str()) == ts);
            if !channel_known(&args["channel"]) {
                refuse("channel_not_found")
            } else if let Some(refused) = message_refusal(args) {
                refused
            } else if let Some(i) = found {
                let posted = &mut state.posted[i];
                for field in ["text", "blocks", "metadata"] {
                    if !args[field].is_null() {
                        posted.message[field] = args[field].clone();
                    }
                }
                posted.message["edited"] = json!({ "user": BOT_USER_ID, "ts": posted.ts });
                posted.updates.push(args.clone());
                json!({
                    "ok": true, "channel": posted.channel, "ts": posted.ts,
                    "text": posted.message["text"], "message": posted.message
                })
            } else {
                refuse("message_not_found")
            }
        }
        "chat.postEphemeral" => {
            if args["channel"] == OUTSIDE {
                refuse("not_in_channel")
            } else if !channel_known(&args["channel"]) {
                refuse("channel_not_found")
            } else if args["user"]
                .as_str()
                .is_none_or(|u| !u.starts_with(['U', 'W']))
            {
                refuse("user_not_found")
            } else if let Some(refused) = message_refusal(args) {
                refused
            } else {
                state.ephemeral.push(args.clone());
                json!({ "ok": true, "message_ts": ts(state.next_id()) })
            }
        }
        "views.open" | "views.update" | "views.push" => {
            let view = &args["view"];
            let problems = limits::view(view);
            if method == "views.open" && args["trigger_id"].as_str().is_none_or(str::is_empty) {
                refuse("invalid_trigger_id")
            } else if !problems.is_empty() {
                json!({ "ok": false, "error": "invalid_arguments", "response_metadata": { "messages": problems } })
            } else {
                let id = format!("V{}", state.next_id());
                let mut view = view.clone();
                view["id"] = json!(args["view_id"].as_str().unwrap_or(&id));
                state
                    .views
                    .push(json!({ "method": method, "view": view.clone() }));
                json!({ "ok": true, "view": view })
            }
        }
        "usergroups.users.list" => {
            match args["usergroup"].as_str().and_then(|g| state.groups.get(g)) {
                Some(users) => json!({ "ok": true, "users": users }),
                None => refuse("no_such_subteam"),
            }
        }
        "conversations.history" => {
            if !channel_known(&args["channel"]) {
                refuse("channel_not_found")
            } else {
                let limit = args["limit"]
                    .as_str()
                    .and_then(|l| l.parse::<usize>().ok())
                    .or_else(|| args["limit"].as_u64().map(|l| l as usize))
                    .unwrap_or(100)
                    .clamp(1, 999);
                let with_metadata =
                    args["include_all_metadata"] == "true" || args["include_all_metadata"] == true;
                let messages: Vec<Value> = state
                    .posted
                    .iter()
                    .rev()
                    .filter(|p| Some(p.channel.as_str()) == args["channel"].as_str())
                    .take(limit)
                    .map(|p| {
                        let mut m = p.message.clone();
                        if !with_metadata {
                            if let Some(m) = m.as_object_mut() {
                                m.remove("metadata");
                            }
                        }
                        m
                    })
                    .collect();
                json!({ "ok": true, "messages": messages, "has_more": false })
            }
        }
        "files.getUploadURLExternal" => {
            let length = args["length"]
                .as_str()
                .and_then(|l| l.parse::<u64>().ok())
                .or(args["length"].as_u64());
            match length {
                Some(length)
                    if length > 0 && args["filename"].as_str().is_some_and(|f| !f.is_empty()) =>
                {
                    let file = format!("F{}", state.next_id());
                    state.uploads.insert(
                        file.clone(),
                        Upload {
                            length: length as usize,
                            bytes: None,
                        },
                    );
                    json!({ "ok": true, "file_id": file, "upload_url": format!("http://{}/upload/{file}", inner.addr) })
                }
                _ => refuse("invalid_arguments"),
            }
        }
        "files.completeUploadExternal" => {
            let files = args["files"].as_array().cloned().unwrap_or_default();
            let unknown = files.iter().any(|f| {
                f["id"]
                    .as_str()
                    .is_none_or(|id| !state.uploads.contains_key(id))
            });
            let not_uploaded = files.iter().any(|f| {
                f["id"]
                    .as_str()
                    .and_then(|id| state.uploads.get(id))
                    .is_some_and(|u| u.bytes.is_none())
            });
            // `thread_ts` names a message of the one channel, never a reply.
            let thread = args["thread_ts"].as_str();
            let parent_known = thread.is_none_or(|ts| {
                state.posted.iter().any(|p| {
                    Some(p.channel.as_str()) == args["channel_id"].as_str()
                        && p.ts == ts
                        && p.message["thread_ts"].is_null()
                })
            });
            if files.is_empty() || unknown || not_uploaded {
                if not_uploaded {
                    state.problems.push(format!(
                        "files.completeUploadExternal before the bytes were uploaded: {args}"
                    ));
                }
                refuse("invalid_arguments")
            } else if !args["channel_id"].is_null() && !channel_known(&args["channel_id"]) {
                refuse("channel_not_found")
            } else if !parent_known {
                state.problems.push(format!(
                    "files.completeUploadExternal into the thread of a message that is not in channel_id: {args}"
                ));
                refuse("invalid_arguments")
            } else {
                let done: Vec<Value> = files
                    .iter()
                    .map(|f| {
                        let id = f["id"].as_str().unwrap_or_default();
                        let bytes = state
                            .uploads
                            .get(id)
                            .and_then(|u| u.bytes.as_ref())
                            .map_or(0, Vec::len);
                        json!({
                            "id": id, "title": f["title"], "name": f["title"], "size": bytes,
                            "channel": args["channel_id"], "thread_ts": args["thread_ts"]
                        })
                    })
                    .collect();
                state.completed_files.extend(done.iter().cloned());
                json!({ "ok": true, "files": done })
            }
        }
        _ => return (refuse("unknown_method"), false),
    };
    (answer, true)
}

/// Slack's refusal of a message body, if it has one.
fn message_refusal(args: &Value) -> Option<Value> {
    let text = args["text"].as_str().unwrap_or_default();
    let blocks = args["blocks"].as_array().map_or(0, Vec::len);
    if text.trim().is_empty() && blocks == 0 && args["blocks"].is_null() {
        return Some(refuse("no_text"));
    }
    if text.chars().count() > limits::MESSAGE_TEXT {
        return Some(refuse("msg_too_long"));
    }
    let problems = limits::message(args);
    if problems.is_empty() {
        None
    } else {
        Some(json!({ "ok": false, "error": "invalid_blocks", "errors": problems }))
    }
}
