//! `SlackChat`: the chat port's outbound side in Slack.
//!
//! Posts (`chat.postMessage`) and edits (`chat.update`) in the configured
//! channels, rendered by `render`. A message's reference is its channel id
//! and its `ts`, Slack's id for a message.
//!
//! Dedupe: Slack has no nonce like Discord's, and the only way to find a
//! message again by its key is to read channel history, which new
//! commercially distributed apps outside the Marketplace may call once a
//! minute, and which two posts in flight would both pass anyway. So this
//! adapter never reads history: a key this process posted is answered from
//! memory, and a repeat from another process, after a restart or after a
//! call whose answer was lost is the outbox's to prevent. It records each
//! try before the call and where the post went after it, and does not send a
//! post in doubt again here (`in_doubt` is `Stop`: it keeps it as
//! unconfirmed and approvers check). A post or edit whose call timed out, or
//! whose connection broke after the request went out, fails as
//! `ChatError::InDoubt` (`api`, which sorts the failures); an edit in doubt
//! is simply made again later, since it sets the same content.
//! The key still rides in the message metadata (event type
//! `flashsale_post`), so a person or a support script can tell which post a
//! message is; nothing in the bot reads it back.
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

use super::api::SlackApi;
use super::is_slack_id;
use super::render::{Rendered, Renderer};
use super::upload::Pictures;
use crate::chat::{Channel, Chat, ChatError, InDoubt, Message, PostedRef};

/// Keys remembered before the memory is cleared (the outbox still keeps a
/// post it recorded as sent from going out again after a clear).
const REMEMBERED_KEYS: usize = 10_000;

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
    /// Finding the first post again would take `conversations.history`; a
    /// message missing (and said to be) beats the same one twice.
    fn in_doubt(&self) -> InDoubt {
        InDoubt::Stop
    }

    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError> {
        let channel_id = self.channel(channel).to_owned();
        if let Some(key) = &message.dedupe_key {
            if let Some(existing) = self.remembered().get(key) {
                return Ok(existing.clone());
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
