//! When the outbox is delivered: every pass of the loop hands app's outbox
//! (`app::outbox`, which claims and delivers) this scheduler as its
//! `Deliverer`: its name and presence for the claims, its lease and
//! heartbeat, and its backoff for a chat that could not take a post. A chat
//! that is down or closed puts the post back with this backoff, however
//! long it takes: a post is delayed, never dropped.

use std::time::Duration;

use async_trait::async_trait;

use super::{backoff, Scheduler};
use crate::app::{Deliverer, PostLease};

#[async_trait]
impl Deliverer for Scheduler {
    fn worker(&self) -> &str {
        &self.config.worker_id
    }

    fn presence(&self) -> Option<i32> {
        self.present.get()
    }

    fn lease(&self) -> PostLease {
        PostLease {
            lease: self.config.lease,
            heartbeat: self.config.heartbeat,
        }
    }

    /// From the retry base up to the poll interval, so a chat that comes
    /// back hears everything within a poll.
    fn retry_wait(&self, attempt: i32) -> Duration {
        backoff::delay(
            attempt,
            self.config.retry_base,
            self.config.poll.max(self.config.retry_base),
            rand::random::<f64>(),
        )
    }

    async fn claimed(&self) {
        self.tell_others_of_claims().await
    }
}
