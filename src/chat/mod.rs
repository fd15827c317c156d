//! The chat port: what the bot says, independent of the platform saying it.
//!
//! `app` and the scheduler build `Message`s (text, an optional `Card`,
//! buttons, who to mention) and hand them to a `Chat`; each adapter in
//! `crate::platforms` (Discord, Slack, the console) decides only how they
//! look. Times stay typed (`Span::Time`) until an adapter renders them,
//! because Discord and Slack show every viewer their own zone (`<t:unix:F>`,
//! `<!date^…>`) while the console prints the business zone.
//!
//! The port is used as `Arc<dyn Chat>`: the platform is chosen at run time.

pub mod buttons;
mod memory;
mod text;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use memory::{Posted, RecordingChat};
pub use text::{escape_markdown, non_empty, truncate, CommandHint, Span, Text, TimeStyle};

use crate::domain::ActorId;
pub use crate::render::Picture;

/// Logical destinations; each adapter maps them to its own channel ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    /// Where the whole team sees reminders, "now live" and "ended".
    Announcements,
    /// Where approval cards and urgent alerts for approvers go.
    Approvals,
}

impl Channel {
    /// The name people know it by where no platform reference is possible.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Announcements => "announcements",
            Channel::Approvals => "approvals",
        }
    }
}

/// Who a message must notify. Mentions are off unless a message lists them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mention {
    Editors,
    Approvers,
    User(ActorId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonStyle {
    Primary,
    Secondary,
    Success,
    Danger,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// A short, stable action id such as `fs:approve:12:7`, parsed strictly when pressed.
    pub id: String,
    pub label: String,
    pub style: ButtonStyle,
}

/// The mood of a card; adapters turn it into a colour or a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    Neutral,
    Attention,
    Success,
    Live,
    Danger,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: Text,
    /// A hint that the field is short and may sit beside others.
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub title: String,
    pub status: String,
    pub tone: Tone,
    pub description: Option<Text>,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Message {
    pub text: Text,
    pub card: Option<Card>,
    /// A picture to show with the message (on the card's embed where there is one). A model, not
    /// pixels: the adapter draws it after the message went out and adds it, or goes without.
    pub picture: Option<Picture>,
    pub buttons: Vec<Button>,
    pub mentions: Vec<Mention>,
    /// Set on announcements a retried job might send again; adapters use it
    /// so that the same key is posted at most once.
    pub dedupe_key: Option<String>,
}

/// Where a posted message lives, so it can be edited later (platform ids as text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostedRef {
    pub channel: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The platform did not take the call, as far as the adapter can tell
    /// (it could not be reached, failed or rate-limited us); retrying may help.
    #[error("the chat platform is unavailable: {0}")]
    Unavailable(String),
    /// The call may have reached the platform and its answer was lost (it
    /// timed out, or the connection broke after the request went out): the
    /// platform may have done it or not. An edit can simply be made again;
    /// a post could then show twice, so whether to post it again is the
    /// platform's to say (`Chat::in_doubt`).
    #[error("the chat platform may or may not have taken the call: {0}")]
    InDoubt(String),
    /// The platform refused the message (too long, unknown channel, no permission).
    #[error("the chat platform refused the message: {0}")]
    Refused(String),
}

/// What to do with a post whose earlier try may have reached the platform
/// (its process stopped during the call, or the call ended in
/// `ChatError::InDoubt`, so nobody knows what the platform answered). The
/// outbox knows such a post (`store::outbox`); the platform decides whether
/// sending it again is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InDoubt {
    /// Post it again: the platform drops a repeat of the same `dedupe_key`
    /// (Discord's nonce), or a repeat does no harm (the console).
    PostAgain,
    /// Do not post it again: a repeat would show twice and the platform can
    /// say whether it has the first only by reading channel history (Slack).
    /// The post is kept as unconfirmed and approvers are asked to check.
    Stop,
}

/// Outbound chat. Implementations return `Unavailable` for a call the
/// platform did not take (as far as the adapter can tell) and that is worth
/// retrying, `InDoubt` for one it may have taken without the answer reaching
/// us, and `Refused` for the rest; and they honour `dedupe_key` within the
/// process (a repeat across processes, or after a call in doubt, is
/// `in_doubt`'s question). An adapter whose `in_doubt` is `PostAgain` may
/// report a call in doubt as `Unavailable`: its callers treat both alike.
#[async_trait]
pub trait Chat: Send + Sync {
    /// Whether a post in doubt may be posted again (see `InDoubt`).
    fn in_doubt(&self) -> InDoubt;
    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError>;
    async fn edit(&self, posted: &PostedRef, message: &Message) -> Result<(), ChatError>;
}
