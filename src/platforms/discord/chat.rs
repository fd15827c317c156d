//! `DiscordChat`: the chat port's outbound side in Discord.
//!
//! Posts and edits in the configured channels (announcements, approvals),
//! rendered by `render`. A message with a `dedupe_key` carries a nonce derived
//! from the key with `enforce_nonce`, so Discord itself returns the first
//! message instead of posting again when a retried job (on any replica) posts
//! the same key within Discord's nonce window (a few minutes); a key seen
//! before by this process is answered from memory without calling Discord.
//!
//! A message with a picture goes out at once without it; the picture is drawn
//! on the blocking pool afterwards and added by editing the message, so no
//! post, edit or interaction answer waits for drawing. Each message keeps a
//! count of its edits: a picture is added only if the message was not edited
//! since (else the newer edit's own picture follows), and adding it and a
//! newer edit never cross, because both are sent holding the message's lock.
//! That order holds within this process; a card edited by two processes at
//! once may show the older picture until its next edit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use poise::serenity_prelude as serenity;
use serenity::{ChannelId, Http, HttpError, MessageId, Nonce};

use super::render::Renderer;
use crate::chat::{Channel, Chat, ChatError, InDoubt, Message, PostedRef};
use crate::render::Painter;

/// Keys remembered before the memory is cleared (each is a few bytes; the
/// nonce still covers a retry right after a clear).
const REMEMBERED_KEYS: usize = 10_000;

/// Messages whose edits are counted before the counts of idle ones are dropped.
const COUNTED_MESSAGES: usize = 10_000;

pub struct DiscordChat {
    http: Arc<Http>,
    announcements: ChannelId,
    approvals: ChannelId,
    renderer: Renderer,
    /// dedupe key -> where that message went.
    posted: Mutex<HashMap<String, PostedRef>>,
    /// Draws the pictures messages carry.
    painter: Painter,
    /// Per message: the edits sent so far, behind the lock every send to it holds.
    edits: Edits,
}

type EditCount = Arc<tokio::sync::Mutex<u64>>;

#[derive(Default)]
struct Edits(Mutex<HashMap<(ChannelId, MessageId), EditCount>>);

impl Edits {
    fn of(&self, channel: ChannelId, message: MessageId) -> EditCount {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() >= COUNTED_MESSAGES {
            // Only counts nobody holds: a picture on its way keeps its message's.
            counts.retain(|_, count| Arc::strong_count(count) > 1);
        }
        Arc::clone(counts.entry((channel, message)).or_default())
    }
}

impl DiscordChat {
    pub fn new(
        http: Arc<Http>,
        announcements: ChannelId,
        approvals: ChannelId,
        renderer: Renderer,
        painter: Painter,
    ) -> DiscordChat {
        DiscordChat {
            http,
            announcements,
            approvals,
            renderer,
            posted: Mutex::new(HashMap::new()),
            painter,
            edits: Edits::default(),
        }
    }

    /// Draws `message`'s picture and adds it to the message at `(channel, id)`,
    /// unless the message was edited after edit number `seen`.
    fn add_picture_later(&self, channel: ChannelId, id: MessageId, seen: u64, message: &Message) {
        let Some(picture) = message.picture.clone() else {
            return;
        };
        let (http, painter) = (Arc::clone(&self.http), self.painter.clone());
        let mut rendered = self.renderer.message(message);
        // The message pinged whom it had to when it went out; adding a picture pings nobody.
        rendered.allowed_mentions = serenity::CreateAllowedMentions::new();
        let count = self.edits.of(channel, id);
        tokio::spawn(async move {
            let Some(png) = painter.png_in_background(&picture).await else {
                return;
            };
            let count = count.lock().await;
            if *count != seen {
                tracing::debug!(message = %id, "a newer edit brings its own picture");
                return;
            }
            let edit = rendered
                .with_picture(&picture.file_name(), &png)
                .edit_message();
            if let Err(e) = channel.edit_message(&http, id, edit).await {
                tracing::warn!(message = %id, error = %e, "could not add the picture to the message");
            }
        });
    }

    fn channel(&self, channel: Channel) -> ChannelId {
        match channel {
            Channel::Announcements => self.announcements,
            Channel::Approvals => self.approvals,
        }
    }

    fn remembered(&self) -> MutexGuard<'_, HashMap<String, PostedRef>> {
        self.posted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Chat for DiscordChat {
    /// The nonce makes Discord answer a repeat with the first message; a post
    /// in doubt is taken over within the lease, well inside its window.
    fn in_doubt(&self) -> InDoubt {
        InDoubt::PostAgain
    }

    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError> {
        if let Some(key) = &message.dedupe_key {
            if let Some(existing) = self.remembered().get(key) {
                return Ok(existing.clone());
            }
        }
        let mut builder = self.renderer.message(message).create_message();
        if let Some(key) = &message.dedupe_key {
            builder = builder.nonce(nonce(key)).enforce_nonce(true);
        }
        let channel_id = self.channel(channel);
        let sent = channel_id
            .send_message(&self.http, builder)
            .await
            .map_err(chat_error)?;
        let seen = *self.edits.of(channel_id, sent.id).lock().await;
        self.add_picture_later(channel_id, sent.id, seen, message);
        let posted = PostedRef {
            channel: channel_id.to_string(),
            message: sent.id.to_string(),
        };
        if let Some(key) = &message.dedupe_key {
            let mut remembered = self.remembered();
            if remembered.len() >= REMEMBERED_KEYS {
                remembered.clear();
            }
            remembered.insert(key.clone(), posted.clone());
        }
        Ok(posted)
    }

    async fn edit(&self, posted: &PostedRef, message: &Message) -> Result<(), ChatError> {
        let (Some(channel), Some(id)) = (snowflake(&posted.channel), snowflake(&posted.message))
        else {
            return Err(ChatError::Refused(format!(
                "not a Discord message reference: {}/{}",
                posted.channel, posted.message
            )));
        };
        let (channel, id) = (ChannelId::new(channel), MessageId::new(id));
        let count = self.edits.of(channel, id);
        let mut count = count.lock().await;
        channel
            .edit_message(
                &self.http,
                id,
                self.renderer.message(message).edit_message(),
            )
            .await
            .map_err(chat_error)?;
        *count += 1;
        let seen = *count;
        drop(count);
        self.add_picture_later(channel, id, seen, message);
        Ok(())
    }
}

/// A Discord id as stored in a `PostedRef`: digits, above zero.
pub fn snowflake(raw: &str) -> Option<u64> {
    crate::domain::number::positive(raw)
}

/// Discord nonces are at most 25 characters; keys can be longer, so the nonce
/// is a stable hash of the key (FNV-1a: the same on every replica and build).
pub fn nonce(key: &str) -> Nonce {
    Nonce::String(nonce_text(key))
}

pub fn nonce_text(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fs{hash:016x}")
}

/// Retrying helps with timeouts, rate limits and Discord's own failures; the
/// rest (unknown channel, missing permission, a message too long) will not
/// change by trying again. A timeout may leave a post Discord took: it is
/// still `Unavailable` (the port allows it for a chat whose `in_doubt` is
/// `PostAgain`), since the repeat carries the same nonce and is dropped.
fn chat_error(error: serenity::Error) -> ChatError {
    match &error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            let status = response.status_code.as_u16();
            if status == 429 || status >= 500 {
                ChatError::Unavailable(error.to_string())
            } else {
                ChatError::Refused(error.to_string())
            }
        }
        serenity::Error::Model(_) | serenity::Error::ExceededLimit(..) => {
            ChatError::Refused(error.to_string())
        }
        _ => ChatError::Unavailable(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_stable_and_differ_per_key() {
        let a = nonce_text("live:12");
        assert_eq!(nonce_text("live:12"), a);
        assert_ne!(nonce_text("live:13"), a);
        assert!(a.len() <= 25);
        assert_eq!(nonce_text(&"reminder:".repeat(50)).len(), 18);
    }

    #[test]
    fn message_references_must_be_discord_ids() {
        assert_eq!(snowflake("1234"), Some(1234));
        for bad in ["", "0", "-1", "12a", "Approvals", "99999999999999999999999"] {
            assert_eq!(snowflake(bad), None, "{bad}");
        }
    }
}
