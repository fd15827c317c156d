//! The REST routes of API v10 the bot uses, answered as Discord answers them,
//! and the recorder: every request is kept with what was answered.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::uploads::{self, Upload};
use super::{
    limits, payloads, Inner, Recorded, State, ANNOUNCEMENTS_CHANNEL, ANSWER_DEADLINE, API,
    APPLICATION_COMMAND, APPLICATION_ID, APPROVALS_CHANNEL, AUTOCOMPLETE, GENERAL_CHANNEL,
    GUILD_ID, MESSAGE_COMPONENT, MODAL_SUBMIT,
};

/// Status and JSON answer (`None`: no body, for 204).
type Answer = (u16, Option<Value>);

/// Message flags.
const EPHEMERAL: u64 = 64;
const LOADING: u64 = 128;

fn ok(body: Value) -> Answer {
    (200, Some(body))
}

fn error(status: u16, code: u64, message: &str) -> Answer {
    (status, Some(json!({ "message": message, "code": code })))
}

fn invalid_form_body(state: &mut State, what: &str, problems: Vec<String>) -> Option<Answer> {
    if problems.is_empty() {
        return None;
    }
    state.problem(format!("{what} breaks Discord's limits: {problems:?}"));
    Some((
        400,
        Some(json!({ "message": "Invalid Form Body", "code": 50035, "errors": problems })),
    ))
}

pub async fn handle(
    AxumState(inner): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut unreadable = None;
    let (body, files): (Value, Vec<Upload>) = if body.is_empty() {
        (Value::Null, Vec::new())
    } else if let Some(boundary) = uploads::boundary(content_type) {
        uploads::parse(&body, boundary).unwrap_or_else(|e| {
            unreadable = Some(e);
            (Value::Null, Vec::new())
        })
    } else {
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|_| json!({ "not_json": String::from_utf8_lossy(&body) }));
        (json, Vec::new())
    };
    let path = uri.path().to_owned();
    // The lock is released before any await (it is not Send).
    let (status, answer, held) = {
        let mut state = inner.lock();
        if let Some(e) = unreadable {
            state.problem(format!(
                "{method} {path}: an unreadable multipart body: {e}"
            ));
        }
        let held = match &state.hold_post {
            Some((needle, hold))
                if method == Method::POST
                    && path.ends_with("/messages")
                    && body["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(needle.as_str())) =>
            {
                let hold = *hold;
                state.hold_post = None;
                Some(hold)
            }
            _ => None,
        };
        let routed = route(&mut state, &inner, method.as_str(), &path, &body, &files);
        let known = routed.is_some();
        let (status, answer) = routed.unwrap_or_else(|| error(404, 0, "404: Not Found"));
        let seq = state.requests.len();
        state.requests.push(Recorded {
            seq,
            at: Instant::now(),
            method: method.to_string(),
            path,
            query: uri.query().map(str::to_owned),
            body,
            status,
            response: answer.clone().unwrap_or(Value::Null),
            known,
            files,
        });
        (status, answer, held)
    };
    inner.notify();
    if let Some(hold) = held {
        tokio::time::sleep(hold).await;
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match answer {
        Some(json) => (status, axum::Json(json)).into_response(),
        None => status.into_response(),
    }
}

fn route(
    state: &mut State,
    inner: &Inner,
    method: &str,
    path: &str,
    body: &Value,
    files: &[Upload],
) -> Option<Answer> {
    let rest = path.strip_prefix(API)?.strip_prefix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    let id = |s: &str| s.parse::<u64>().ok();
    let answer = match (method, segments.as_slice()) {
        ("GET", ["gateway"]) => ok(json!({ "url": inner.ws_url })),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": inner.ws_url,
            "shards": 1,
            "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1 },
        })),
        ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
            ok(payloads::application())
        }
        ("GET", ["users", "@me"]) => ok(payloads::current_user()),
        ("PUT", ["applications", app, "guilds", guild, "commands"]) => {
            put_commands(state, app, id(guild), body)
        }
        ("PUT", ["applications", app, "commands"]) => put_commands(state, app, None, body),
        ("GET", ["applications", _, "guilds", _, "commands"])
        | ("GET", ["applications", _, "commands"]) => ok(json!(state.commands)),
        ("POST", ["interactions", ix, token, "callback"]) => callback(state, id(ix)?, token, body),
        ("POST", ["webhooks", app, token]) => follow_up(state, app, token, body),
        ("GET", ["webhooks", _, token, "messages", "@original"]) => match original(state, token) {
            Ok(message_id) => ok(state.messages[&message_id].clone()),
            Err(e) => e,
        },
        ("PATCH", ["webhooks", _, token, "messages", which]) => {
            edit_webhook_message(state, token, which, body)
        }
        ("DELETE", ["webhooks", _, token, "messages", _]) => match original(state, token) {
            Ok(_) => (204, None),
            Err(e) => e,
        },
        ("POST", ["channels", channel, "messages"]) => post(state, id(channel)?, body, files),
        ("PATCH", ["channels", channel, "messages", message]) => {
            edit(state, id(channel)?, id(message)?, body, files)
        }
        ("GET", ["channels", channel, "messages", message]) => {
            match state.messages.get(&id(message)?) {
                Some(m) if m["channel_id"].as_str() == Some(*channel) => ok(m.clone()),
                _ => error(404, 10008, "Unknown Message"),
            }
        }
        _ => return None,
    };
    Some(answer)
}

fn put_commands(state: &mut State, app: &str, guild: Option<u64>, body: &Value) -> Answer {
    if app != APPLICATION_ID.to_string() {
        return error(404, 10002, "Unknown Application");
    }
    if guild.is_some_and(|g| g != GUILD_ID) {
        return error(403, 50001, "Missing Access");
    }
    if let Some(refused) = invalid_form_body(state, "the commands", limits::commands(body)) {
        return refused;
    }
    let sent = body.as_array().cloned().unwrap_or_default();
    let mut registered = Vec::new();
    for command in &sent {
        let id = state.next_id();
        registered.push(payloads::registered_command(command, id, guild));
    }
    state.commands = registered.clone();
    ok(json!(registered))
}

fn known_channel(channel: u64) -> bool {
    [GENERAL_CHANNEL, ANNOUNCEMENTS_CHANNEL, APPROVALS_CHANNEL].contains(&channel)
}

/// Stores a message, checking first that serenity can read it back.
fn store_message(state: &mut State, message: Value) -> Value {
    if let Err(e) = serde_json::from_value::<serenity::all::Message>(message.clone()) {
        state.problem(format!(
            "the fake answers a message serenity cannot read: {e}"
        ));
    }
    let id = message["id"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .unwrap_or(0);
    state.messages.insert(id, message.clone());
    message
}

fn callback(state: &mut State, ix_id: u64, token: &str, body: &Value) -> Answer {
    let Some(ix) = state.interactions.get(&ix_id) else {
        return error(404, 10062, "Unknown interaction");
    };
    if ix.token != token {
        return error(401, 50027, "Invalid Webhook Token");
    }
    if ix.acked.is_some() {
        return error(400, 40060, "Interaction has already been acknowledged.");
    }
    let late = ix.sent_at.elapsed();
    if late > ANSWER_DEADLINE {
        let label = ix.label.clone();
        state.problem(format!(
            "{label} was answered after {late:?}: Discord had given up"
        ));
        return error(404, 10062, "Unknown interaction");
    }
    let (kind, label, channel_id, pressed) =
        (ix.kind, ix.label.clone(), ix.channel_id, ix.message_id);
    let answer_type = body["type"].as_u64().unwrap_or(0);
    let allowed: &[u64] = match kind {
        APPLICATION_COMMAND => &[4, 5, 9],
        MESSAGE_COMPONENT => &[4, 5, 6, 7, 9],
        AUTOCOMPLETE => &[8],
        MODAL_SUBMIT => &[4, 5, 6, 7],
        _ => &[],
    };
    if !allowed.contains(&answer_type) {
        state.problem(format!(
            "{label} was answered with callback type {answer_type}, which Discord refuses for it"
        ));
        return error(400, 50035, "Invalid Form Body");
    }
    let data = &body["data"];
    let problems = match answer_type {
        4 | 7 => limits::message(data, answer_type == 4),
        8 => limits::choices(data),
        9 => limits::modal(data),
        _ => Vec::new(),
    };
    if let Some(refused) = invalid_form_body(state, &format!("the answer to {label}"), problems) {
        return refused;
    }
    let original = match answer_type {
        4 => {
            let id = state.next_id();
            Some(store_message(state, payloads::message(id, channel_id, data, true))["id"].clone())
        }
        5 => {
            let id = state.next_id();
            let flags = data["flags"].as_u64().unwrap_or(0) & EPHEMERAL | LOADING;
            let thinking = json!({ "content": "", "flags": flags });
            Some(
                store_message(state, payloads::message(id, channel_id, &thinking, true))["id"]
                    .clone(),
            )
        }
        7 => {
            if let Some(message_id) = pressed {
                if let Some(mut message) = state.messages.get(&message_id).cloned() {
                    payloads::apply_edit(&mut message, data);
                    message["edited_timestamp"] = json!(payloads::now());
                    store_message(state, message);
                }
            }
            pressed.map(|m| json!(m.to_string()))
        }
        _ => None,
    };
    let ix = state.interactions.get_mut(&ix_id).expect("checked above");
    ix.acked = Some(answer_type);
    ix.original = original.and_then(|id| id.as_str().and_then(|s| s.parse().ok()));
    (204, None)
}

/// The interaction's own message, once it was answered.
fn original(state: &State, token: &str) -> Result<u64, Answer> {
    let ix = state
        .tokens
        .get(token)
        .and_then(|id| state.interactions.get(id))
        .ok_or_else(|| error(401, 50027, "Invalid Webhook Token"))?;
    if ix.acked.is_none() {
        return Err(error(404, 10015, "Unknown Webhook"));
    }
    ix.original
        .ok_or_else(|| error(404, 10008, "Unknown Message"))
}

fn follow_up(state: &mut State, app: &str, token: &str, body: &Value) -> Answer {
    if app != APPLICATION_ID.to_string() {
        return error(404, 10015, "Unknown Webhook");
    }
    let Some(ix) = state
        .tokens
        .get(token)
        .and_then(|id| state.interactions.get(id))
    else {
        return error(401, 50027, "Invalid Webhook Token");
    };
    let (label, channel_id, acked, original) =
        (ix.label.clone(), ix.channel_id, ix.acked, ix.original);
    if acked.is_none() {
        state.problem(format!("a follow-up to {label} before its first answer"));
        return error(404, 10015, "Unknown Webhook");
    }
    if let Some(refused) = invalid_form_body(
        state,
        &format!("a follow-up to {label}"),
        limits::message(body, true),
    ) {
        return refused;
    }
    // After a deferral the first follow-up replaces the "thinking" message.
    if let Some(original) = original {
        if let Some(mut thinking) = state.messages.get(&original).cloned() {
            let flags = thinking["flags"].as_u64().unwrap_or(0);
            if flags & LOADING != 0 {
                payloads::apply_edit(&mut thinking, body);
                thinking["flags"] = json!(flags & !LOADING | body["flags"].as_u64().unwrap_or(0));
                return ok(store_message(state, thinking));
            }
        }
    }
    let id = state.next_id();
    ok(store_message(
        state,
        payloads::message(id, channel_id, body, true),
    ))
}

fn edit_webhook_message(state: &mut State, token: &str, which: &str, body: &Value) -> Answer {
    let message_id = if which == "@original" {
        match original(state, token) {
            Ok(id) => id,
            Err(e) => return e,
        }
    } else {
        match which.parse::<u64>() {
            Ok(id) => id,
            Err(_) => return error(404, 10008, "Unknown Message"),
        }
    };
    let label = state
        .tokens
        .get(token)
        .and_then(|id| state.interactions.get(id))
        .map(|ix| ix.label.clone())
        .unwrap_or_default();
    if let Some(refused) = invalid_form_body(
        state,
        &format!("an edit of the answer to {label}"),
        limits::message(body, false),
    ) {
        return refused;
    }
    let Some(mut message) = state.messages.get(&message_id).cloned() else {
        return error(404, 10008, "Unknown Message");
    };
    payloads::apply_edit(&mut message, body);
    let flags = message["flags"].as_u64().unwrap_or(0);
    message["flags"] = json!(flags & !LOADING);
    message["edited_timestamp"] = json!(payloads::now());
    ok(store_message(state, message))
}

/// Applies the uploads and the attachments list to `message`, noting what
/// Discord would refuse or show broken.
fn attach(state: &mut State, message: &mut Value, body: &Value, files: &[Upload]) {
    let mut problems = if files.is_empty() && body.get("attachments").is_none() {
        Vec::new()
    } else {
        uploads::apply(message, body, files, || state.next_id())
    };
    problems.extend(uploads::resolve_images(message));
    for problem in problems {
        state.problem(format!("message {}: {problem}", message["id"]));
    }
}

fn post(state: &mut State, channel: u64, body: &Value, files: &[Upload]) -> Answer {
    if !known_channel(channel) {
        return error(404, 10003, "Unknown Channel");
    }
    let what = format!("a message to #{}", payloads::channel_name(channel));
    if let Some(refused) = invalid_form_body(state, &what, limits::message(body, true)) {
        return refused;
    }
    let nonce = match &body["nonce"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if body["enforce_nonce"] == true {
        if let Some(existing) = nonce
            .as_ref()
            .and_then(|n| state.nonces.get(&(channel, n.clone())))
        {
            return ok(state.messages[existing].clone());
        }
    }
    let id = state.next_id();
    let mut message = payloads::message(id, channel, body, false);
    message["guild_id"] = json!(GUILD_ID.to_string());
    attach(state, &mut message, body, files);
    let message = store_message(state, message);
    if let Some(nonce) = nonce {
        state.nonces.insert((channel, nonce), id);
    }
    ok(message)
}

fn edit(
    state: &mut State,
    channel: u64,
    message_id: u64,
    body: &Value,
    files: &[Upload],
) -> Answer {
    let Some(mut message) = state.messages.get(&message_id).cloned() else {
        return error(404, 10008, "Unknown Message");
    };
    if message["channel_id"].as_str() != Some(channel.to_string().as_str()) {
        return error(404, 10008, "Unknown Message");
    }
    let what = format!("an edit of message {message_id}");
    if let Some(refused) = invalid_form_body(state, &what, limits::message(body, false)) {
        return refused;
    }
    payloads::apply_edit(&mut message, body);
    attach(state, &mut message, body, files);
    message["edited_timestamp"] = json!(payloads::now());
    ok(store_message(state, message))
}
