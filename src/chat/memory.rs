//! An in-memory `Chat` that records every post and edit.
//!
//! Tests assert on what the bot said; the console adapter could print from it.
//! It honours `dedupe_key` like a real platform must: a second post with the
//! same key returns the first post's reference and records nothing.
//!
//! Its knobs play the chat's failures: down (everything `Unavailable`), a
//! message deleted by someone (its edits `Refused`), a channel that refuses
//! every post (`Refused`, as after a lost permission), a post made whose
//! answer is lost (`InDoubt`), and a slow post.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::{Channel, Chat, ChatError, InDoubt, Message, PostedRef};

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
    /// Messages deleted in the chat: editing one is refused for good.
    deleted: HashSet<PostedRef>,
    /// Channels that refuse every post for good.
    refusing: HashSet<Channel>,
    /// How long each post takes before the chat answers.
    post_delay: Duration,
    /// Posts the chat makes whose answer is then lost (a timeout after the
    /// platform took it): the caller sees `InDoubt`.
    answers_to_lose: u32,
    /// Calls made, answered or not.
    post_calls: usize,
    edit_calls: usize,
    /// Plays Slack (`Stop`) when set; otherwise a chat that drops repeats.
    stop_in_doubt: bool,
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

    /// Someone deletes the message in the chat: its edits are refused from now on.
    pub fn delete(&self, posted: &PostedRef) {
        self.lock().deleted.insert(posted.clone());
    }

    /// The channel refuses every post for good (or takes them again).
    pub fn set_refusing(&self, channel: Channel, refusing: bool) {
        let mut state = self.lock();
        if refusing {
            state.refusing.insert(channel);
        } else {
            state.refusing.remove(&channel);
        }
    }

    /// The next `posts` posts are made, and their answers lost.
    pub fn lose_answers(&self, posts: u32) {
        self.lock().answers_to_lose = posts;
    }

    /// Each post takes this long before the chat answers (a slow platform).
    pub fn set_post_delay(&self, delay: Duration) {
        self.lock().post_delay = delay;
    }

    /// What the chat says of a post in doubt: `Stop` plays Slack.
    pub fn set_in_doubt(&self, in_doubt: InDoubt) {
        self.lock().stop_in_doubt = in_doubt == InDoubt::Stop;
    }

    /// How many times a post was asked for, whatever the answer.
    pub fn post_calls(&self) -> usize {
        self.lock().post_calls
    }

    /// How many times an edit was asked for, whatever the answer.
    pub fn edit_calls(&self) -> usize {
        self.lock().edit_calls
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Chat for RecordingChat {
    /// Its memory of keys outlives a "restart" in a test, as a platform's
    /// would, so a repeat is dropped; unless it plays Slack.
    fn in_doubt(&self) -> InDoubt {
        if self.lock().stop_in_doubt {
            InDoubt::Stop
        } else {
            InDoubt::PostAgain
        }
    }

    async fn post(&self, channel: Channel, message: &Message) -> Result<PostedRef, ChatError> {
        let delay = {
            let mut state = self.lock();
            state.post_calls += 1;
            state.post_delay
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut state = self.lock();
        if state.down {
            return Err(ChatError::Unavailable("the chat is down".to_owned()));
        }
        if state.refusing.contains(&channel) {
            return Err(ChatError::Refused(format!(
                "missing permission to post in {channel:?}"
            )));
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
        if state.answers_to_lose > 0 {
            state.answers_to_lose -= 1;
            return Err(ChatError::InDoubt(
                "the post was made, and its answer lost".to_owned(),
            ));
        }
        Ok(reference)
    }

    async fn edit(&self, posted: &PostedRef, message: &Message) -> Result<(), ChatError> {
        let mut state = self.lock();
        state.edit_calls += 1;
        if state.down {
            return Err(ChatError::Unavailable("the chat is down".to_owned()));
        }
        if state.deleted.contains(posted) {
            return Err(ChatError::Refused(format!(
                "unknown message {}",
                posted.message
            )));
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
