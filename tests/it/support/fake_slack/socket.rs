//! The fake's Socket Mode: tickets from `apps.connections.open`, the
//! websocket (`hello`, envelopes out, acks in), `disconnect`.
//!
//! Envelopes go to the open connections in turn, as Slack spreads them over
//! an app's connections. Every ack is recorded with its envelope, its payload
//! and the time from sending the envelope to the ack; an ack for an envelope
//! that was never sent, or a second ack, is a problem.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use super::{FakeSlack, Inner, State, ACK_DEADLINE, APP_ID, TEAM_ID, WAIT};

pub enum Out {
    Frame(Value),
    Close,
}

#[derive(Default)]
pub struct SocketState {
    tickets: HashSet<String>,
    next_ticket: u64,
    /// Open connections by number, in the order they opened.
    open: Vec<(u64, UnboundedSender<Out>)>,
    opened: u64,
    turn: usize,
    next_envelope: u64,
    /// envelope id -> when it was (last) sent and its frame.
    sent: HashMap<String, (Instant, Value)>,
    acks: Vec<Ack>,
}

/// An envelope the fake pushed.
#[derive(Clone, Debug)]
pub struct Sent {
    pub envelope_id: String,
    pub connection: u64,
    pub frame: Value,
    pub label: String,
}

/// The bot's acknowledgement of an envelope.
#[derive(Clone, Debug)]
pub struct Ack {
    pub envelope_id: String,
    pub connection: u64,
    /// From sending the envelope to receiving the ack.
    pub after: Duration,
    /// The ack's `payload`; `Null` for a bare ack.
    pub payload: Value,
}

pub(super) fn issue_ticket(state: &mut State) -> String {
    state.socket.next_ticket += 1;
    let ticket = format!("ticket-{}", state.socket.next_ticket);
    state.socket.tickets.insert(ticket.clone());
    ticket
}

pub(super) fn close_all(state: &mut State) {
    for (_, tx) in state.socket.open.drain(..) {
        let _ = tx.send(Out::Close);
    }
}

pub(super) async fn upgrade(
    ws: WebSocketUpgrade,
    Query(query): Query<HashMap<String, String>>,
    AxumState(inner): AxumState<Arc<Inner>>,
) -> Response {
    // A ticket is good for one connection, as Slack's are.
    let ticket = query.get("ticket").cloned().unwrap_or_default();
    if !inner.lock().socket.tickets.remove(&ticket) {
        return (StatusCode::UNAUTHORIZED, "unknown or used ticket").into_response();
    }
    ws.on_upgrade(move |socket| connection(inner, socket))
}

async fn connection(inner: Arc<Inner>, mut socket: WebSocket) {
    let (tx, mut rx) = unbounded_channel::<Out>();
    let number = {
        let mut state = inner.lock();
        state.socket.opened += 1;
        let number = state.socket.opened;
        state.socket.open.push((number, tx));
        number
    };
    let hello = json!({
        "type": "hello",
        "num_connections": number,
        "debug_info": { "host": "fake-slack", "approximate_connection_time": 18060 },
        "connection_info": { "app_id": APP_ID }
    });
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_ok()
    {
        inner.notify();
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(raw))) => on_frame(&inner, number, raw.as_str()),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                out = rx.recv() => match out {
                    Some(Out::Frame(frame)) => {
                        if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                    Some(Out::Close) | None => {
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                },
            }
        }
    }
    inner.lock().socket.open.retain(|(n, _)| *n != number);
    inner.notify();
}

fn on_frame(inner: &Inner, connection: u64, raw: &str) {
    let mut state = inner.lock();
    let frame: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    let Some(id) = frame["envelope_id"].as_str() else {
        state.problems.push(format!(
            "a frame from the bot without an envelope_id: {raw}"
        ));
        drop(state);
        return;
    };
    match state.socket.sent.get(id) {
        None => state
            .problems
            .push(format!("an ack for an envelope never sent: {raw}")),
        Some((at, _)) => {
            let after = at.elapsed();
            if state.socket.acks.iter().any(|a| a.envelope_id == id) {
                state
                    .problems
                    .push(format!("envelope {id} acknowledged twice"));
            }
            state.socket.acks.push(Ack {
                envelope_id: id.to_owned(),
                connection,
                after,
                payload: frame["payload"].clone(),
            });
        }
    }
    drop(state);
    inner.notify();
}

impl FakeSlack {
    /// Connections opened so far (counting closed ones).
    pub fn connections_opened(&self) -> u64 {
        self.lock().socket.opened
    }

    pub fn connections_open(&self) -> usize {
        self.lock().socket.open.len()
    }

    /// Waits until `n` connections have opened in all and one is open.
    pub async fn wait_connections(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut changed = self.inner.changed.subscribe();
        loop {
            {
                let state = self.lock();
                if state.socket.opened >= n && !state.socket.open.is_empty() {
                    return;
                }
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!(
                    "waited {WAIT:?} for connection {n}; {} opened, {} open",
                    self.connections_opened(),
                    self.connections_open()
                );
            }
        }
    }

    /// Envelopes sent (their last delivery) that no ack answered yet, by label.
    pub fn unacked(&self) -> Vec<String> {
        let state = self.lock();
        let mut out: Vec<String> = state
            .socket
            .sent
            .iter()
            .filter(|(id, _)| !state.socket.acks.iter().any(|a| &a.envelope_id == *id))
            .map(|(id, (_, frame))| format!("{id} ({})", frame["type"]))
            .collect();
        out.sort();
        out
    }

    pub fn acks(&self) -> Vec<Ack> {
        self.lock().socket.acks.clone()
    }

    /// Sends an envelope of `kind` with `payload` to the next open connection.
    pub fn push(&self, kind: &str, payload: Value, label: &str) -> Sent {
        let mut state = self.lock();
        assert!(
            !state.socket.open.is_empty(),
            "{label}: no Socket Mode connection is open to deliver it"
        );
        state.socket.next_envelope += 1;
        let envelope_id = format!("env-{:04}-{}", state.socket.next_envelope, kind);
        let frame = json!({
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": payload,
        });
        let turn = state.socket.turn % state.socket.open.len();
        state.socket.turn += 1;
        let (connection, tx) = state.socket.open[turn].clone();
        state
            .socket
            .sent
            .insert(envelope_id.clone(), (Instant::now(), frame.clone()));
        let _ = tx.send(Out::Frame(frame.clone()));
        Sent {
            envelope_id,
            connection,
            frame,
            label: label.to_owned(),
        }
    }

    /// `/flashsale <text>` typed by `user` in #general.
    pub fn slash(&self, user: &str, text: &str) -> Sent {
        let trigger = format!("{}.{}.fake", self.lock().socket.next_envelope + 1, user);
        let payload = json!({
            "token": "deprecated", "team_id": TEAM_ID, "team_domain": "fake",
            "channel_id": super::GENERAL, "channel_name": "general",
            "user_id": user, "user_name": user.to_lowercase(), "command": "/flashsale",
            "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
            "response_url": format!("http://{}/response/{trigger}", self.inner.addr),
            "trigger_id": trigger,
        });
        self.push(
            "slash_commands",
            payload,
            &format!("/flashsale {text} by {user}"),
        )
    }

    /// `user` presses the button `action_id` on message `ts` in `channel`.
    pub fn press(&self, user: &str, channel: &str, ts: &str, action_id: &str) -> Sent {
        let message = self
            .posted()
            .into_iter()
            .find(|p| p.channel == channel && p.ts == ts)
            .map(|p| p.message)
            .unwrap_or_else(|| panic!("no message {channel}/{ts} to press {action_id} on"));
        let trigger = format!("{}.{}.press", self.lock().socket.next_envelope + 1, user);
        let payload = json!({
            "type": "block_actions",
            "team": { "id": TEAM_ID, "domain": "fake" },
            "user": { "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": TEAM_ID },
            "api_app_id": APP_ID,
            "token": "deprecated",
            "container": { "type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false },
            "trigger_id": trigger,
            "channel": { "id": channel, "name": "approvals" },
            "message": message,
            "response_url": format!("http://{}/response/{trigger}", self.inner.addr),
            "actions": [{
                "type": "button", "action_id": action_id, "block_id": "b", "value": action_id,
                "text": { "type": "plain_text", "text": "pressed" }, "action_ts": "1795712400.000200"
            }],
        });
        self.push(
            "interactive",
            payload,
            &format!("{action_id} pressed by {user}"),
        )
    }

    /// `user` submits the modal `callback_id` with `values` (block id, action id, text).
    pub fn submit_view(
        &self,
        user: &str,
        callback_id: &str,
        values: &[(&str, &str, &str)],
    ) -> Sent {
        self.submit_view_with_files(user, callback_id, values, &[])
    }

    /// As `submit_view`, with `file_input` blocks: (block id = action id, files).
    pub fn submit_view_with_files(
        &self,
        user: &str,
        callback_id: &str,
        values: &[(&str, &str, &str)],
        files: &[(&str, Vec<Value>)],
    ) -> Sent {
        let trigger = format!("{}.{}.submit", self.lock().socket.next_envelope + 1, user);
        // Slack submits the view it showed: the latest one opened (or
        // updated) with this callback_id, with its id, title, blocks and the
        // private_metadata the bot put in it (e.g. the command's channel).
        let shown = self
            .views()
            .into_iter()
            .rev()
            .map(|v| v["view"].clone())
            .find(|v| v["callback_id"] == callback_id);
        let mut state_values = serde_json::Map::new();
        for (block, action, text) in values {
            state_values.insert(
                block.to_string(),
                json!({ *action: { "type": "plain_text_input", "value": text } }),
            );
        }
        for (block, picked) in files {
            state_values.insert(
                block.to_string(),
                json!({ *block: { "type": "file_input", "files": picked } }),
            );
        }
        let payload = json!({
            "type": "view_submission",
            "team": { "id": TEAM_ID, "domain": "fake" },
            "user": { "id": user, "username": user.to_lowercase(), "name": user.to_lowercase(), "team_id": TEAM_ID },
            "api_app_id": APP_ID,
            "token": "deprecated",
            "trigger_id": trigger,
            "view": {
                "id": "V0VIEW", "team_id": TEAM_ID, "type": "modal", "callback_id": callback_id,
                "title": { "type": "plain_text", "text": "Flash sale" },
                "blocks": [], "private_metadata": "", "hash": "1.abc",
                "state": { "values": state_values },
                "app_id": APP_ID, "bot_id": super::BOT_ID
            },
        });
        let mut payload = payload;
        if let Some(shown) = shown {
            for field in ["id", "title", "blocks", "private_metadata"] {
                if !shown[field].is_null() {
                    payload["view"][field] = shown[field].clone();
                }
            }
        }
        self.push(
            "interactive",
            payload,
            &format!("view {callback_id} submitted by {user}"),
        )
    }

    /// Sends `sent` once more (same envelope id, `retry_attempt` + 1), as
    /// Slack does with an envelope it thinks was not acknowledged.
    pub fn redeliver(&self, sent: &Sent) -> Sent {
        let mut state = self.lock();
        assert!(
            !state.socket.open.is_empty(),
            "no connection to redeliver {} on",
            sent.label
        );
        let mut frame = sent.frame.clone();
        frame["retry_attempt"] = json!(frame["retry_attempt"].as_u64().unwrap_or(0) + 1);
        frame["retry_reason"] = json!("timeout");
        let turn = state.socket.turn % state.socket.open.len();
        state.socket.turn += 1;
        let (connection, tx) = state.socket.open[turn].clone();
        // The redelivery's ack is a new one: forget the first so it is not "twice".
        state
            .socket
            .acks
            .retain(|a| a.envelope_id != sent.envelope_id);
        state
            .socket
            .sent
            .insert(sent.envelope_id.clone(), (Instant::now(), frame.clone()));
        let _ = tx.send(Out::Frame(frame.clone()));
        Sent {
            envelope_id: sent.envelope_id.clone(),
            connection,
            frame,
            label: format!("{} (redelivered)", sent.label),
        }
    }

    /// The ack of `sent`; fails the test when none comes within Slack's 3 s.
    pub async fn ack(&self, sent: &Sent) -> Ack {
        let deadline = tokio::time::Instant::now() + ACK_DEADLINE;
        let mut changed = self.inner.changed.subscribe();
        loop {
            if let Some(ack) = self
                .acks()
                .into_iter()
                .find(|a| a.envelope_id == sent.envelope_id)
            {
                assert!(
                    ack.after < ACK_DEADLINE,
                    "{} was acknowledged after {:?}: Slack shows an error after 3 s",
                    sent.label,
                    ack.after
                );
                return ack;
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!(
                    "{} was not acknowledged within 3 s; acks: {:#?}",
                    sent.label,
                    self.acks()
                );
            }
        }
    }

    /// Asks every open connection to reconnect (`disconnect`, reason
    /// `refresh_requested`) and closes them shortly after, as Slack does.
    pub fn disconnect(&self) {
        let open: Vec<UnboundedSender<Out>> = self
            .lock()
            .socket
            .open
            .iter()
            .map(|(_, tx)| tx.clone())
            .collect();
        let frame = json!({
            "type": "disconnect",
            "reason": "refresh_requested",
            "debug_info": { "host": "fake-slack" }
        });
        for tx in open {
            let _ = tx.send(Out::Frame(frame.clone()));
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = tx.send(Out::Close);
            });
        }
    }

    /// Drops every connection without a word (a network failure).
    pub fn drop_connections(&self) {
        close_all(&mut self.lock());
    }
}
