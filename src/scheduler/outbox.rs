//! Delivering the outbox: the notices a state change wrote (`app::Notice`,
//! `store::outbox`) go to the chat until it takes them.
//!
//! Each loop claims due posts like it claims jobs (any replica, each post
//! once, a dead claimer's posts taken over by its presence or lease), posts
//! them in the order they were written, and hands each to
//! `FlashSales::deliver`, which posts it and records the outcome; a chat that
//! is down or closed puts the post back with this loop's backoff, however
//! long it takes: a post is delayed, never dropped.
//!
//! Reminder lines (`reminder:<minutes>`) claimed together and next to each
//! other go out as one post (`notices::reminder_post`), each row recorded
//! with where it went; a failure puts them all back.

use std::time::Duration;

use super::{backoff, Scheduler};
use crate::app::notices::is_reminder;
use crate::store::outbox;
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
                is_reminder(&next.event)
                    && is_reminder(&group[0].event)
                    && next.channel == group[0].channel
            }) {
                group.push(next);
            }
            let wait = self.post_backoff(group[0].attempt);
            self.app.deliver(group, wait).await;
        }
        Ok(count)
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
}
