//! Delivering the outbox: the notices a state change wrote (`app::Notice`,
//! `store::outbox`) go to the chat until it takes them.
//!
//! Each loop claims due posts like it claims jobs (any replica, each post
//! once), posts them in the order they were written, and records where they
//! went. A chat that is down or closed (`ChatError::Unavailable`) puts the
//! post back with a backoff, however long it takes: a post is delayed, never
//! dropped. One the chat refuses for good (`ChatError::Refused`) is kept as
//! `refused` and logged as an error. Every post carries the dedupe key
//! `outbox:<id>`, so a delivery repeated after a crash between the chat's
//! answer and the `sent` write is dropped by the adapter (Discord's nonce,
//! the console's memory).
//!
//! Reminder lines (`reminder:<minutes>`) claimed together and next to each
//! other go out as one post (`notices::reminder_post`), each row recorded
//! with where it went; a failure puts them all back.

use std::time::Duration;

use super::{backoff, Scheduler};
use crate::app::notices::{self, REMINDER_EVENT};
use crate::chat::{Channel, ChatError, Message};
use crate::metrics;
use crate::store::outbox::{self, ClaimedPost};
use crate::store::StoreError;

/// Posts claimed at once.
const BATCH: i64 = 50;

impl Scheduler {
    /// Claims and delivers the posts that are due. Returns how many were claimed.
    pub(super) async fn deliver_outbox(&self) -> Result<usize, StoreError> {
        let posts = outbox::claim_due(
            &self.pool,
            &self.config.worker_id,
            self.present.get(),
            self.config.lease,
            BATCH,
        )
        .await?;
        if !posts.is_empty() {
            self.tell_others_of_claims().await;
        }
        let count = posts.len();
        let mut posts = posts.into_iter().peekable();
        while let Some(post) = posts.next() {
            let mut group = vec![post];
            while let Some(next) = posts.next_if(|next| {
                is_reminder(next) && is_reminder(&group[0]) && next.channel == group[0].channel
            }) {
                group.push(next);
            }
            self.deliver(group).await;
        }
        Ok(count)
    }

    /// Delivers one post, or reminder lines as one post.
    #[tracing::instrument(skip_all, fields(post = group[0].id, session = group[0].session_id, event = %group[0].event, attempt = group[0].attempt, rows = group.len()))]
    async fn deliver(&self, group: Vec<ClaimedPost>) {
        let decoded: Option<Vec<Message>> = group
            .iter()
            .map(|post| serde_json::from_value::<Message>(post.message.clone()).ok())
            .collect();
        let channel = Channel::from_stored(&group[0].channel);
        let Some((channel, mut messages)) = channel.zip(decoded) else {
            // Written by this code, so a bug or a hand edit: keep it, say so.
            tracing::error!("an outbox post could not be read; it is kept as refused");
            metrics::outbox_post("unreadable");
            for post in &group {
                self.record_post(
                    outbox::refused(&self.pool, post.id, post.claim, "unreadable post").await,
                );
            }
            return;
        };
        let mut message = if is_reminder(&group[0]) {
            notices::reminder_post(messages)
        } else {
            // Only reminders are grouped: anything else comes alone.
            messages.remove(0)
        };
        // A message's own key (`live:12`) is kept; the posts' ids are the fallback.
        message.dedupe_key.get_or_insert_with(|| {
            let ids: Vec<String> = group.iter().map(|p| p.id.to_string()).collect();
            format!("outbox:{}", ids.join(","))
        });
        match self.app.chat().post(channel, &message).await {
            Ok(posted) => {
                metrics::outbox_post("sent");
                tracing::info!("posted");
                for post in &group {
                    self.record_post(
                        outbox::sent(
                            &self.pool,
                            post.id,
                            post.claim,
                            &posted.channel,
                            &posted.message,
                        )
                        .await,
                    );
                }
            }
            Err(ChatError::Unavailable(why)) => {
                metrics::outbox_post("retry");
                let wait = self.post_backoff(group[0].attempt);
                tracing::warn!(%why, wait_ms = wait.as_millis() as u64, "chat unavailable; the post waits");
                for post in &group {
                    self.record_post(
                        outbox::retry_later(&self.pool, post.id, post.claim, wait, &why).await,
                    );
                }
            }
            Err(ChatError::Refused(why)) => {
                metrics::outbox_post("refused");
                tracing::error!(%why, "the chat refused a post for good");
                for post in &group {
                    self.record_post(outbox::refused(&self.pool, post.id, post.claim, &why).await);
                }
            }
        }
    }

    /// Backoff for a post: from the retry base up to the poll interval, so a
    /// chat that comes back hears everything within a poll.
    fn post_backoff(&self, attempt: i32) -> Duration {
        backoff::delay(
            attempt,
            self.config.retry_base,
            self.config.poll.max(self.config.retry_base),
            rand::random::<f64>(),
        )
    }

    fn record_post(&self, written: Result<bool, StoreError>) {
        match written {
            Ok(true) => {}
            Ok(false) => tracing::warn!("lost the post's claim before recording it"),
            Err(e) => {
                tracing::warn!(error = %e, "could not record the post; its lease will expire")
            }
        }
    }
}

fn is_reminder(post: &ClaimedPost) -> bool {
    post.event.starts_with(REMINDER_EVENT)
}
