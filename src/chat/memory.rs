//! An in-memory `Chat` that records every post and edit.
//!
//! Tests assert on what the bot said; the console adapter could print from it.
//! It honours `dedupe_key` like a real platform must: a second post with the
//! same key returns the first post's reference and records nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Channel, Chat, ChatError, Message, PostedRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: Channel,
    pub reference: PostedRef,
    pub message: Message,
    /// Edits made to this message since, oldest first.
    pub edits: Vec<Message>,
}

#[derive(Default)]
pub struct RecordingChat {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    posts: Vec<Posted>,
    by_dedupe_key: HashMap<String, PostedRef>,
    /// While set, every post and edit fails as `Unavailable` (a chat outage).
    down: bool,
}

impl RecordingChat {
    pub fn new() -> RecordingChat {
        RecordingChat::default()
    }

    /// Everything posted so far, in order.
    pub fn posts(&self) -> Vec<Posted> {
        self.lock().posts.clone()
    }

    pub fn posts_to(&self, channel: Channel) -> Vec<Posted> {
        self.posts()
            .into_iter()
            .filter(|p| p.channel == channel)
            .collect()
    }

    /// Takes the chat down (every call answers `Unavailable`) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Chat for RecordingChat {
    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError> {
        let mut state = self.lock();
        if state.down {
            return Err(ChatError::Unavailable("the chat is down".to_owned()));
        }
        if let Some(key) = &message.dedupe_key {
            if let Some(existing) = state.by_dedupe_key.get(key) {
                return Ok(existing.clone());
            }
        }
        let reference = PostedRef {
            channel: format!("{channel:?}"),
            message: (state.posts.len() + 1).to_string(),
        };
        if let Some(key) = &message.dedupe_key {
            state.by_dedupe_key.insert(key.clone(), reference.clone());
        }
        state.posts.push(Posted {
            channel,
            reference: reference.clone(),
            message: message.clone(),
            edits: Vec::new(),
        });
        Ok(reference)
    }

    async fn edit(&self, posted: &PostedRef, message: &Message) -> Result<(), ChatError> {
        let mut state = self.lock();
        if state.down {
            return Err(ChatError::Unavailable("the chat is down".to_owned()));
        }
        let target = state
            .posts
            .iter_mut()
            .find(|p| &p.reference == posted)
            .ok_or_else(|| ChatError::Refused(format!("unknown message {}", posted.message)))?;
        target.edits.push(message.clone());
        Ok(())
    }
}
