//! The Slack adapter: the chat port (`Chat`, `Message`, `Card`) in a Slack
//! workspace, and the pieces the wiring needs to listen to Slack.
//!
//! What each file owns:
//! - `api`: the one Web API client (slack-morphism's `SlackClient` over its
//!   hyper connector, pointed at `SLACK_API_BASE`), a deadline on every call
//!   (hyper's client has none), and what Slack's failures mean for the port
//!   (`Unavailable`: not taken, worth retrying; `InDoubt`: maybe taken, its
//!   answer lost; `Refused` for good); and the calls the
//!   inbound side will make: ephemeral answers, modals.
//! - `render`: how a `Message` looks in Block Kit, cut to Block Kit's limits,
//!   with everything a person typed escaped so it can never mention anyone.
//! - `chat`: `SlackChat`, the port's outbound side: `chat.postMessage` and
//!   `chat.update`, at most once per dedupe key.
//! - `upload`: files into Slack (`files.getUploadURLExternal`, the bytes,
//!   `files.completeUploadExternal`), and `Pictures`, which draws a message's
//!   picture after it went out and shares it in the message's thread.
//! - `roles`: editors and approvers from Slack user groups (cached briefly)
//!   or fixed lists, as the domain's `Actor`.
//! - `inbound`: commands, card buttons and forms into use cases
//!   (`SlackInbound`, the socket's handler), answered to the person only;
//!   `forms` (the modals and their checks) and `replies` (the answers' words) serve it.
//! - `socket`: the Socket Mode connection: acknowledges every envelope at
//!   once and hands slash commands and interactions to a handler.
//!
//! Slack is reached through Socket Mode, so the bot needs no public URL, and
//! every replica may hold its own connection (Slack gives each envelope to
//! one of them): unlike Discord's gateway, no leader is needed.

pub mod api;
pub mod chat;
mod forms;
pub mod inbound;
pub mod render;
mod replies;
pub mod roles;
pub mod socket;
pub mod upload;

pub use api::{SlackApi, SlackApiError};
pub use chat::SlackChat;
pub use inbound::SlackInbound;
pub use render::Renderer;
pub use roles::{RoleSource, SlackRoles};
pub use socket::{Envelope, EnvelopeKind, SocketHandler, SocketMode, SocketState};
pub use upload::Pictures;

/// Actor ids from Slack are `slack:<user id>`.
pub const PLATFORM: &str = "slack";

/// A Slack id as Slack writes them: a kind letter, then upper-case letters
/// and digits (`C0123ABCD`, `U0123ABCD`, `S0123ABCD`).
pub fn is_slack_id(raw: &str, kinds: &[char]) -> bool {
    raw.len() >= 3
        && raw.len() <= 32
        && raw.starts_with(kinds)
        && raw
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}
