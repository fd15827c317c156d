//! The gateway websocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeat
//! ACKs, dispatches with sequence numbers, and RESUME with replay.
//!
//! Every dispatch goes into one log with its sequence number, whether a
//! connection is there or not; a RESUME replays what came after the
//! sequence the bot last saw, as Discord does after a dropped connection.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State as AxumState;
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use super::{payloads, Inner, State};

/// Short, so a missed ACK or a dead connection shows within seconds.
const HEARTBEAT_INTERVAL_MS: u64 = 1000;

pub enum Out {
    Frame(Value),
    Close(u16),
}

#[derive(Default)]
pub struct GatewayState {
    seq: u64,
    /// Every dispatch frame sent (or waiting for a RESUME), in order.
    log: Vec<Value>,
    session_id: Option<String>,
    sessions: u64,
    /// The identified (or resumed) connection events go to.
    current: Option<(u64, UnboundedSender<Out>)>,
    connections: u64,
    /// Frames from the bot, heartbeats left out.
    pub received: Vec<Value>,
}

/// Sends `t` with payload `d` now, or keeps it for a RESUME when the bot is away.
pub fn dispatch(state: &mut State, t: &str, d: Value) -> u64 {
    let gateway = &mut state.gateway;
    gateway.seq += 1;
    let frame = json!({ "op": 0, "t": t, "s": gateway.seq, "d": d });
    gateway.log.push(frame.clone());
    if let Some((_, tx)) = &gateway.current {
        let _ = tx.send(Out::Frame(frame));
    }
    gateway.seq
}

pub fn disconnect(state: &mut State, code: u16) {
    if let Some((_, tx)) = state.gateway.current.take() {
        let _ = tx.send(Out::Close(code));
    }
}

pub async fn upgrade(ws: WebSocketUpgrade, AxumState(inner): AxumState<Arc<Inner>>) -> Response {
    ws.on_upgrade(move |socket| connection(inner, socket))
}

async fn connection(inner: Arc<Inner>, mut socket: WebSocket) {
    let (tx, mut rx) = unbounded_channel::<Out>();
    let conn = {
        let mut state = inner.lock();
        state.gateway.connections += 1;
        state.gateway.connections
    };
    let hello = json!({ "op": 10, "s": null, "t": null, "d": { "heartbeat_interval": HEARTBEAT_INTERVAL_MS } });
    if socket.send(text(&hello)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(raw))) => {
                    let frame: Value = serde_json::from_str(raw.as_str()).unwrap_or(Value::Null);
                    on_frame(&inner, conn, &tx, frame);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(Out::Frame(frame)) => {
                    if socket.send(text(&frame)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code)) => {
                    let close = CloseFrame { code, reason: "fake Discord closed the connection".into() };
                    let _ = socket.send(Message::Close(Some(close))).await;
                    break;
                }
                None => break,
            },
        }
    }
    let mut state = inner.lock();
    if matches!(&state.gateway.current, Some((c, _)) if *c == conn) {
        state.gateway.current = None;
    }
    drop(state);
    inner.notify();
}

fn text(frame: &Value) -> Message {
    Message::Text(frame.to_string().into())
}

fn on_frame(inner: &Inner, conn: u64, tx: &UnboundedSender<Out>, frame: Value) {
    let mut state = inner.lock();
    let op = frame["op"].as_u64().unwrap_or(u64::MAX);
    if op != 1 {
        state.gateway.received.push(frame.clone());
    }
    match op {
        // Heartbeat.
        1 => {
            let _ = tx.send(Out::Frame(
                json!({ "op": 11, "s": null, "t": null, "d": null }),
            ));
        }
        // Identify: a new session.
        2 => {
            state.gateway.sessions += 1;
            let session_id = format!("fake-session-{}", state.gateway.sessions);
            state.gateway.session_id = Some(session_id.clone());
            state.gateway.current = Some((conn, tx.clone()));
            let ready = payloads::ready(&session_id, &inner.ws_url);
            dispatch(&mut state, "READY", ready);
            dispatch(&mut state, "GUILD_CREATE", payloads::guild());
        }
        // Resume: replay what the bot missed, then RESUMED.
        6 => {
            let d = &frame["d"];
            let known = state.gateway.session_id.is_some()
                && d["session_id"].as_str() == state.gateway.session_id.as_deref();
            if known {
                let seen = d["seq"].as_u64().unwrap_or(0);
                state.gateway.current = Some((conn, tx.clone()));
                for missed in state
                    .gateway
                    .log
                    .iter()
                    .filter(|f| f["s"].as_u64() > Some(seen))
                {
                    let _ = tx.send(Out::Frame(missed.clone()));
                }
                dispatch(&mut state, "RESUMED", json!({}));
            } else {
                // Invalid session, not resumable: the bot must identify again.
                let _ = tx.send(Out::Frame(
                    json!({ "op": 9, "s": null, "t": null, "d": false }),
                ));
            }
        }
        _ => {}
    }
    drop(state);
    inner.notify();
}
