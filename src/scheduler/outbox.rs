//! Delivering the outbox: the notices a state change wrote (`app::Notice`,
//! `store::outbox`) go to the chat until it takes them.
//!
//! Each loop claims due posts like it claims jobs (any replica, each post
//! once, a dead claimer's posts taken over by its presence or lease), but
//! one at a time, each with its own lease that `Operations::deliver` renews
//! every heartbeat while the chat call runs: a batch sharing one lease let a
//! slow post (Slack: two calls of up to 10 s) outlive the lease of the posts
//! behind it, and another replica posted them too. A post is taken only when
//! no older post of its session waits, so each session's notices go out in
//! the order they were written. A chat that is down or closed puts the post
//! back with this loop's backoff, however long it takes: a post is delayed,
//! never dropped.
//!
//! Reminder lines (`reminder:<minutes>`) due for the same channel are claimed
//! together and go out as one post (`notices::reminder_post`), each row
//! recorded with where it went; a failure puts them all back.

use std::time::Duration;

use super::{backoff, Scheduler};
use crate::app::PostLease;
use crate::store::outbox;
use crate::store::StoreError;

/// Posts delivered per call at most, so the loop gets back to its jobs.
const PER_ROUND: usize = 50;
/// Reminder lines gathered into one post at most.
const REMINDER_GROUP: i64 = 50;

impl Scheduler {
    /// Claims and delivers the posts that are due, one after the other.
    /// Returns how many rows were claimed.
    pub(super) async fn deliver_outbox(&self) -> Result<usize, StoreError> {
        let lease = PostLease {
            lease: self.config.lease,
            heartbeat: self.config.heartbeat,
        };
        let mut count = 0;
        for _ in 0..PER_ROUND {
            let group = outbox::claim_due(
                &self.pool,
                &self.config.worker_id,
                self.present.get(),
                self.config.lease,
                REMINDER_GROUP,
            )
            .await?;
            if group.is_empty() {
                break;
            }
            if count == 0 {
                self.tell_others_of_claims().await;
            }
            count += group.len();
            let wait = self.post_backoff(group[0].attempt);
            self.app.deliver(group, wait, lease).await;
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
