//! `SlackChat`: the chat port's outbound side in Slack.
//!
//! Posts (`chat.postMessage`) and edits (`chat.update`) in the configured
//! channels, rendered by `render`. A message's reference is its channel id
//! and its `ts`, Slack's id for a message.
//!
//! Dedupe: Slack has no nonce like Discord's, so a message with a
//! `dedupe_key` carries the key in its message metadata (event type
//! `flashsale_post`), and before posting a key this process has not seen,
//! the channel's latest messages are read back (`conversations.history` with
//! their metadata) and a message already carrying the key is answered
//! instead of posting again. That covers a retry on another replica or after
//! a restart, as long as the first post is among the channel's last
//! `HISTORY_DEPTH` messages; keys seen by this process are answered from
//! memory without calling Slack. Reading history needs the `channels:history`
//! scope (`groups:history` for a private channel); without it (`missing_scope`)
//! the post goes out anyway and only memory dedupes, which the log says.
//! Two replicas posting the same key in the same instant could both miss
//! each other; the outbox gives a post to one worker at a time, so that needs
//! a lease to expire mid-post.
//!
//! A message with a picture goes out at once without it; `upload::Pictures`
//! draws it afterwards and shares it in the message's thread (see there why
//! the thread and not the card).
//!
//! Answers are read leniently (only `channel` and `ts`): a post that Slack
//! took must not count as failed because slack-morphism's full message model
//! did not parse something in Slack's echo of it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use serde::Deserialize;
use slack_morphism::prelude::{
    SlackApiChatPostMessageRequest, SlackApiChatUpdateRequest, SlackChannelId, SlackMessageContent,
    SlackMessageMetadata, SlackTs,
};

use super::api::{SlackApi, SlackApiError};
use super::is_slack_id;
use super::render::{Rendered, Renderer};
use super::upload::Pictures;
use crate::chat::{Channel, Chat, ChatError, Message, PostedRef};

/// Keys remembered before the memory is cleared (the history check still
/// covers a retry right after a clear).
const REMEMBERED_KEYS: usize = 10_000;

/// How many of a channel's latest messages are searched for a dedupe key.
pub const HISTORY_DEPTH: u16 = 100;

/// The metadata event type our posts with a dedupe key carry.
pub const METADATA_EVENT: &str = "flashsale_post";
/// The metadata payload field holding the key.
pub const METADATA_KEY: &str = "dedupe_key";

pub struct SlackChat {
    api: SlackApi,
    announcements: String,
    approvals: String,
    renderer: Renderer,
    /// dedupe key -> where that message went.
    posted: Mutex<HashMap<String, PostedRef>>,
    /// Shares messages' pictures after they went out; `None`: messages go without.
    pictures: Option<Pictures>,
}

/// What we read of `chat.postMessage` and `chat.update` answers.
#[derive(Debug, Deserialize)]
struct Placed {
    channel: String,
    ts: String,
}

#[derive(Debug, Deserialize)]
struct History {
    #[serde(default)]
    messages: Vec<HistoryMessage>,
}

#[derive(Debug, Deserialize)]
struct HistoryMessage {
    ts: String,
    #[serde(default)]
    metadata: Option<HistoryMetadata>,
}

#[derive(Debug, Deserialize)]
struct HistoryMetadata {
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    event_payload: serde_json::Value,
}

impl SlackChat {
    /// `announcements` and `approvals` are channel ids (`C…`), as in `SlackConfig`.
    pub fn new(
        api: SlackApi,
        announcements: impl Into<String>,
        approvals: impl Into<String>,
        renderer: Renderer,
    ) -> SlackChat {
        SlackChat {
            api,
            announcements: announcements.into(),
            approvals: approvals.into(),
            renderer,
            posted: Mutex::new(HashMap::new()),
            pictures: None,
        }
    }

    /// Messages' pictures follow them into their threads.
    pub fn with_pictures(mut self, pictures: Pictures) -> SlackChat {
        self.pictures = Some(pictures);
        self
    }

    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    fn channel(&self, channel: Channel) -> &str {
        match channel {
            Channel::Announcements => &self.announcements,
            Channel::Approvals => &self.approvals,
        }
    }

    fn remembered(&self) -> MutexGuard<'_, HashMap<String, PostedRef>> {
        self.posted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remember(&self, key: &str, posted: &PostedRef) {
        let mut remembered = self.remembered();
        if remembered.len() >= REMEMBERED_KEYS {
            remembered.clear();
        }
        remembered.insert(key.to_owned(), posted.clone());
    }

    /// The message in `channel` that already carries `key`, if one of the latest does.
    async fn find_posted(&self, channel: &str, key: &str) -> Result<Option<PostedRef>, ChatError> {
        let session = self.api.session();
        let limit = HISTORY_DEPTH.to_string();
        let params = vec![
            ("channel", Some(channel)),
            ("limit", Some(limit.as_str())),
            ("include_all_metadata", Some("true")),
        ];
        let history: Result<History, SlackApiError> = self
            .api
            .call(
                "conversations.history",
                session
                    .http_session_api
                    .http_get("conversations.history", &params, None),
            )
            .await;
        let history = match history {
            Ok(history) => history,
            Err(SlackApiError::Unavailable(why)) => return Err(ChatError::Unavailable(why)),
            Err(refused) => {
                tracing::warn!(
                    error = %refused,
                    channel,
                    "cannot read the channel's history to dedupe a post (is channels:history granted?); posting without that check"
                );
                return Ok(None);
            }
        };
        Ok(history
            .messages
            .into_iter()
            .find(|m| {
                m.metadata.as_ref().is_some_and(|meta| {
                    meta.event_type == METADATA_EVENT
                        && meta.event_payload[METADATA_KEY].as_str() == Some(key)
                })
            })
            .map(|m| PostedRef {
                channel: channel.to_owned(),
                message: m.ts,
            }))
    }
}

fn content(rendered: Rendered, edit: bool) -> SlackMessageContent {
    let mut content = SlackMessageContent::new().with_text(rendered.text);
    // An edit always sends its blocks, even none: without the field Slack
    // keeps the old ones, buttons and all.
    if edit || !rendered.blocks.is_empty() {
        content = content.with_blocks(rendered.blocks);
    }
    content
}

#[async_trait]
impl Chat for SlackChat {
    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError> {
        let channel_id = self.channel(channel).to_owned();
        if let Some(key) = &message.dedupe_key {
            if let Some(existing) = self.remembered().get(key) {
                return Ok(existing.clone());
            }
            if let Some(existing) = self.find_posted(&channel_id, key).await? {
                tracing::info!(key, ts = %existing.message, "already posted; not posting again");
                self.remember(key, &existing);
                return Ok(existing);
            }
        }
        let mut content = content(self.renderer.message(message), false);
        if let Some(key) = &message.dedupe_key {
            content = content.with_metadata(SlackMessageMetadata {
                event_type: METADATA_EVENT.to_owned(),
                event_payload: Some(HashMap::from([(METADATA_KEY.to_owned(), key.clone())])),
            });
        }
        let request = SlackApiChatPostMessageRequest::new(SlackChannelId::new(channel_id), content)
            .with_unfurl_links(false)
            .with_unfurl_media(false);
        let session = self.api.session();
        let placed: Placed = self
            .api
            .call(
                "chat.postMessage",
                session
                    .http_session_api
                    .http_post("chat.postMessage", &request, None),
            )
            .await?;
        let posted = PostedRef {
            channel: placed.channel,
            message: placed.ts,
        };
        if let Some(key) = &message.dedupe_key {
            self.remember(key, &posted);
        }
        if let Some(pictures) = &self.pictures {
            pictures.share_later(&posted, message);
        }
        Ok(posted)
    }

    async fn edit(&self, posted: &PostedRef, message: &Message) -> Result<(), ChatError> {
        if !is_slack_id(&posted.channel, &['C', 'G', 'D']) || !is_ts(&posted.message) {
            return Err(ChatError::Refused(format!(
                "not a Slack message reference: {}/{}",
                posted.channel, posted.message
            )));
        }
        let request = SlackApiChatUpdateRequest::new(
            SlackChannelId::new(posted.channel.clone()),
            content(self.renderer.message(message), true),
            SlackTs::new(posted.message.clone()),
        );
        let session = self.api.session();
        let _: Placed = self
            .api
            .call(
                "chat.update",
                session
                    .http_session_api
                    .http_post("chat.update", &request, None),
            )
            .await?;
        if let Some(pictures) = &self.pictures {
            pictures.share_later(posted, message);
        }
        Ok(())
    }
}

/// A message `ts` as Slack writes it: `1795712400.000100`.
pub fn is_ts(raw: &str) -> bool {
    let Some((secs, micros)) = raw.split_once('.') else {
        return false;
    };
    !secs.is_empty()
        && secs.len() <= 12
        && micros.len() == 6
        && secs.bytes().all(|b| b.is_ascii_digit())
        && micros.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_references_must_be_slack_timestamps() {
        assert!(is_ts("1795712400.000100"));
        for bad in [
            "",
            "1795712400",
            "1795712400.1",
            ".000100",
            "17957a2400.000100",
            "1.0000001",
        ] {
            assert!(!is_ts(bad), "{bad}");
        }
    }
}
