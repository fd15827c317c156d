//! Slack's Socket Mode: one websocket per process over which Slack delivers
//! slash commands and interactions, each to be acknowledged within 3 s.
//!
//! The loop: `apps.connections.open` with the app-level token gives a
//! `wss://` URL (a `ws://127.0.0.1` one from a fake Slack in tests); we
//! connect, wait for `hello`, then for every envelope send the ack with its
//! `envelope_id` *first*, straight from the read loop, and only then hand the
//! envelope to the handler on a task of its own. So no catalog stall, database
//! wait or slow handler can delay an ack or the envelopes behind it. A
//! `disconnect` envelope (Slack refreshing the connection) or a lost
//! connection opens a new one: at once after `disconnect`, else after a
//! backoff from 0.5 s to 30 s. A refused `apps.connections.open` (a wrong or
//! revoked token) stops the loop: retrying cannot fix it, and the state says why.
//!
//! Why not slack-morphism's `SlackClientSocketModeListener` (2.31), which we
//! use for the Web API and models: its reader task awaits each callback
//! before it sends that envelope's ack and before it reads the next frame
//! (`tungstenite_wss_client.rs`: `on_message(..).await` in the read loop;
//! `clients_manager_listener.rs`: the ack is built from the callback's
//! result), so one slow command delays every ack on the connection; the
//! callbacks get the payload without the envelope, so there is no
//! `envelope_id` to key duplicate deliveries on; reconnecting waits
//! `reconnect_timeout_in_seconds` (30 s by default) in whole seconds; and
//! `serve()` takes over the process's signals. It does point at a loopback
//! `ws://` URL fine (the URL is whatever `apps.connections.open` answers) and
//! since 2.31 can ack a view submission with a payload, but only after the
//! whole callback ran. Here the payload that must ride on an ack (a view
//! submission's `response_action: "errors"`) comes from
//! `SocketHandler::ack_payload`, a synchronous function without IO by
//! contract, called before the ack; everything else happens after it.
//!
//! Duplicates: Slack redelivers an envelope that was not acknowledged, maybe
//! to another replica. `Envelope::event_id` is stable across redeliveries
//! (the payload's `trigger_id`, else the `envelope_id`), for the app's
//! `first_delivery` check, so each is acted on once.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{json, Value};
use slack_morphism::prelude::{
    SlackApiAppsConnectionOpenRequest, SlackApiToken, SlackCommandEvent, SlackInteractionEvent,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::api::{self, Client, SlackApiError};

/// How long connecting (TCP, TLS, upgrade) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Slack says `hello` right after connecting; a connection without it is not used.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// We ping this often; a connection silent for `SILENCE_LIMIT` is replaced.
const PING_EVERY: Duration = Duration::from_secs(10);
const SILENCE_LIMIT: Duration = Duration::from_secs(35);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// `/flashsale …`: the payload is a `SlackCommandEvent`.
    SlashCommand,
    /// A button press, a modal submission…: the payload is a `SlackInteractionEvent`.
    Interactive,
}

/// One delivery from Slack, already acknowledged when a handler sees it.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub envelope_id: String,
    pub kind: EnvelopeKind,
    /// The payload as Slack sent it; `command()` and `interaction()` read it as slack-morphism's models.
    pub payload: Value,
    /// 0 on the first delivery; Slack counts its redeliveries.
    pub retry_attempt: u64,
    /// Whether Slack takes a payload on the ack (view submissions, slash commands).
    pub accepts_response_payload: bool,
    pub received_at: Instant,
}

impl Envelope {
    /// Stable across redeliveries of the same action: `trigger:<trigger_id>`
    /// (every slash command, button press and submission has its own), or
    /// `envelope:<envelope_id>` for a payload without one.
    pub fn event_id(&self) -> String {
        match self.payload["trigger_id"]
            .as_str()
            .filter(|t| !t.is_empty())
        {
            Some(trigger) => format!("trigger:{trigger}"),
            None => format!("envelope:{}", self.envelope_id),
        }
    }

    /// For an interactive envelope: `block_actions`, `view_submission`, …
    pub fn interaction_type(&self) -> Option<&str> {
        match self.kind {
            EnvelopeKind::Interactive => self.payload["type"].as_str(),
            EnvelopeKind::SlashCommand => None,
        }
    }

    /// The slash command, as slack-morphism models it.
    pub fn command(&self) -> Option<Result<SlackCommandEvent, serde_json::Error>> {
        (self.kind == EnvelopeKind::SlashCommand)
            .then(|| serde_json::from_value(self.payload.clone()))
    }

    /// The interaction, as slack-morphism models it.
    pub fn interaction(&self) -> Option<Result<SlackInteractionEvent, serde_json::Error>> {
        (self.kind == EnvelopeKind::Interactive)
            .then(|| serde_json::from_value(self.payload.clone()))
    }
}

/// What the bot does with what Slack delivers.
#[async_trait]
pub trait SocketHandler: Send + Sync + 'static {
    /// The payload to send with the ack, e.g. `{"response_action": "errors",
    /// "errors": {"block": "…"}}` for a view submission with a field that
    /// does not parse. Called on the read loop before the ack: it must be
    /// quick and do no IO (checks that need the database or the catalog
    /// answer later, with `views.update` or an ephemeral message). `None`
    /// (the default) sends a bare ack.
    fn ack_payload(&self, _envelope: &Envelope) -> Option<Value> {
        None
    }

    /// The work, on a task of its own, after the ack went out.
    async fn handle(&self, envelope: Envelope);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketState {
    /// Opening a connection (again).
    Connecting,
    /// Slack said `hello` on connection number `connection` (counting from 1).
    Connected { connection: u64 },
    /// Given up: Slack refused the app token, or `shutdown` was called.
    Stopped { why: String },
}

pub struct SocketMode {
    client: Arc<Client>,
    app_token: SlackApiToken,
    handler: Arc<dyn SocketHandler>,
}

/// The running connection loop; dropping the handle stops it too.
pub struct SocketModeHandle {
    state: watch::Receiver<SocketState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SocketModeHandle {
    /// Follows the connection's state (for readiness).
    pub fn state(&self) -> watch::Receiver<SocketState> {
        self.state.clone()
    }

    /// Waits until Slack said `hello`, at most `limit`; the state then.
    pub async fn wait_connected(&self, limit: Duration) -> SocketState {
        let mut state = self.state.clone();
        let connected = tokio::time::timeout(
            limit,
            state.wait_for(|s| !matches!(s, SocketState::Connecting)),
        )
        .await;
        match connected {
            Ok(Ok(state)) => state.clone(),
            _ => self.state.borrow().clone(),
        }
    }

    /// Closes the connection and ends the loop. Handlers already running finish on their own.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// How one connection ended.
enum Ended {
    Stop,
    /// Slack asked us to reconnect: do so at once.
    Refresh(String),
    Lost {
        why: String,
        was_connected: bool,
    },
}

/// What one text frame asks of the loop.
enum Frame {
    Hello,
    Disconnect(String),
    Deliver {
        ack: String,
        envelope: Option<Envelope>,
    },
    Nothing,
}

impl SocketMode {
    /// Socket Mode for the app whose app-level token (`xapp-…`) is
    /// `app_token`, through the Web API at `api_base`.
    pub fn new(
        api_base: &Url,
        app_token: &SecretString,
        handler: Arc<dyn SocketHandler>,
    ) -> Result<SocketMode, SlackApiError> {
        Ok(SocketMode {
            client: Arc::new(api::client(api_base)?),
            app_token: api::token(app_token),
            handler,
        })
    }

    pub fn spawn(self) -> SocketModeHandle {
        let (state_tx, state) = watch::channel(SocketState::Connecting);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(self.run(state_tx, stop_rx));
        SocketModeHandle { state, stop, task }
    }

    async fn run(self, state: watch::Sender<SocketState>, mut stop: watch::Receiver<bool>) {
        let mut backoff = BACKOFF_FIRST;
        let mut connections = 0;
        loop {
            if *stop.borrow() {
                break;
            }
            state.send_replace(SocketState::Connecting);
            let ended = match self.open().await {
                Ok(url) => {
                    connections += 1;
                    self.connection(&url, connections, &state, &mut stop).await
                }
                // A URL whose answer was lost is simply asked for again.
                Err(SlackApiError::Unavailable(why) | SlackApiError::InDoubt(why)) => Ended::Lost {
                    why: format!("apps.connections.open: {why}"),
                    was_connected: false,
                },
                Err(refused) => {
                    tracing::error!(error = %refused, "Slack refused to open a Socket Mode connection; giving up");
                    state.send_replace(SocketState::Stopped {
                        why: refused.to_string(),
                    });
                    return;
                }
            };
            match ended {
                Ended::Stop => break,
                Ended::Refresh(reason) => {
                    tracing::info!(%reason, "Slack asked for a new connection");
                    backoff = BACKOFF_FIRST;
                }
                Ended::Lost { why, was_connected } => {
                    if was_connected {
                        backoff = BACKOFF_FIRST;
                    }
                    tracing::warn!(%why, wait_ms = backoff.as_millis() as u64, "Socket Mode connection lost; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => break,
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        state.send_replace(SocketState::Stopped {
            why: "shut down".to_owned(),
        });
    }

    async fn open(&self) -> Result<Url, SlackApiError> {
        let session = self.client.open_session(&self.app_token);
        let opened = api::bounded(
            api::CALL_TIMEOUT,
            "apps.connections.open",
            session.apps_connections_open(&SlackApiAppsConnectionOpenRequest::new()),
        )
        .await?;
        Ok(opened.url.0)
    }

    async fn connection(
        &self,
        url: &Url,
        number: u64,
        state: &watch::Sender<SocketState>,
        stop: &mut watch::Receiver<bool>,
    ) -> Ended {
        let lost = |why: String, was_connected| Ended::Lost { why, was_connected };
        let mut ws = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
        {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => return lost(format!("connecting: {e}"), false),
            Err(_) => return lost("connecting took too long".to_owned(), false),
        };
        let opened_at = Instant::now();
        let mut connected = false;
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                _ = stop.changed() => {
                    let _ = ws.close(None).await;
                    return Ended::Stop;
                }
                _ = ping.tick() => {
                    if !connected && opened_at.elapsed() > HELLO_TIMEOUT {
                        return lost("no hello from Slack".to_owned(), false);
                    }
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        return lost(format!("nothing heard for {} s", SILENCE_LIMIT.as_secs()), connected);
                    }
                    if let Err(e) = ws.send(WsMessage::Ping(Vec::new().into())).await {
                        return lost(format!("ping: {e}"), connected);
                    }
                }
                frame = ws.next() => {
                    last_heard = Instant::now();
                    let text = match frame {
                        None => return lost("closed".to_owned(), connected),
                        Some(Err(e)) => return lost(e.to_string(), connected),
                        Some(Ok(WsMessage::Text(text))) => text,
                        Some(Ok(WsMessage::Close(close))) => {
                            return lost(format!("closed by Slack: {close:?}"), connected)
                        }
                        Some(Ok(_)) => continue,
                    };
                    match self.frame(text.as_str()) {
                        Frame::Hello => {
                            connected = true;
                            state.send_replace(SocketState::Connected { connection: number });
                            tracing::info!(connection = number, "Slack Socket Mode connected");
                        }
                        Frame::Disconnect(reason) => {
                            let _ = ws.close(None).await;
                            return Ended::Refresh(reason);
                        }
                        Frame::Deliver { ack, envelope } => {
                            let sent = ws.send(WsMessage::Text(ack.into())).await;
                            if let Some(envelope) = envelope {
                                let handler = Arc::clone(&self.handler);
                                tokio::spawn(async move { handler.handle(envelope).await });
                            }
                            if let Err(e) = sent {
                                return lost(format!("ack: {e}"), connected);
                            }
                        }
                        Frame::Nothing => {}
                    }
                }
            }
        }
    }

    fn frame(&self, text: &str) -> Frame {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            tracing::warn!(frame = %text.chars().take(200).collect::<String>(), "Slack sent a frame that is not JSON");
            return Frame::Nothing;
        };
        let kind = match frame["type"].as_str() {
            Some("hello") => return Frame::Hello,
            Some("disconnect") => {
                return Frame::Disconnect(frame["reason"].as_str().unwrap_or("unknown").to_owned())
            }
            Some("slash_commands") => Some(EnvelopeKind::SlashCommand),
            Some("interactive") => Some(EnvelopeKind::Interactive),
            // We subscribe to no events; acknowledged so that Slack does not retry them.
            Some("events_api") => None,
            other => {
                tracing::debug!(kind = ?other, "Socket Mode frame ignored");
                return Frame::Nothing;
            }
        };
        let Some(envelope_id) = frame["envelope_id"].as_str().filter(|id| !id.is_empty()) else {
            tracing::warn!("a Socket Mode envelope without an envelope_id; cannot acknowledge it");
            return Frame::Nothing;
        };
        let Some(kind) = kind else {
            return Frame::Deliver {
                ack: json!({ "envelope_id": envelope_id }).to_string(),
                envelope: None,
            };
        };
        let envelope = Envelope {
            envelope_id: envelope_id.to_owned(),
            kind,
            payload: frame["payload"].clone(),
            retry_attempt: frame["retry_attempt"].as_u64().unwrap_or(0),
            accepts_response_payload: frame["accepts_response_payload"].as_bool().unwrap_or(false),
            received_at: Instant::now(),
        };
        // A handler that panics still gets its envelope acknowledged, bare.
        let payload = if envelope.accepts_response_payload {
            std::panic::catch_unwind(AssertUnwindSafe(|| self.handler.ack_payload(&envelope)))
                .unwrap_or_else(|_| {
                    tracing::error!(envelope = %envelope.envelope_id, "ack_payload panicked; acknowledging bare");
                    None
                })
        } else {
            None
        };
        let ack = match payload {
            Some(payload) => json!({ "envelope_id": envelope_id, "payload": payload }),
            None => json!({ "envelope_id": envelope_id }),
        };
        Frame::Deliver {
            ack: ack.to_string(),
            envelope: Some(envelope),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: EnvelopeKind, payload: Value) -> Envelope {
        Envelope {
            envelope_id: "env-1".to_owned(),
            kind,
            payload,
            retry_attempt: 0,
            accepts_response_payload: true,
            received_at: Instant::now(),
        }
    }

    #[test]
    fn the_event_id_is_the_trigger_so_a_redelivery_has_the_same_one() {
        let press = envelope(
            EnvelopeKind::Interactive,
            json!({ "type": "block_actions", "trigger_id": "123.456.abc" }),
        );
        let mut again = press.clone();
        again.envelope_id = "env-2".to_owned();
        again.retry_attempt = 1;
        assert_eq!(press.event_id(), "trigger:123.456.abc");
        assert_eq!(again.event_id(), press.event_id());
        assert_eq!(press.interaction_type(), Some("block_actions"));
        let bare = envelope(EnvelopeKind::Interactive, json!({ "type": "view_closed" }));
        assert_eq!(bare.event_id(), "envelope:env-1");
    }

    #[test]
    fn payloads_read_as_slack_morphisms_models() {
        let command = envelope(
            EnvelopeKind::SlashCommand,
            json!({
                "team_id": "T0", "channel_id": "C0", "user_id": "U0ANA", "command": "/flashsale",
                "text": "view session:3", "response_url": "http://127.0.0.1/r", "trigger_id": "1.2.3"
            }),
        );
        let parsed = command.command().unwrap().unwrap();
        assert_eq!(parsed.text.as_deref(), Some("view session:3"));
        assert!(command.interaction().is_none());
        assert!(envelope(EnvelopeKind::SlashCommand, json!({ "text": 3 }))
            .command()
            .unwrap()
            .is_err());
    }
}
