//! The outbox, from the write to the chat: the notices a change writes in
//! its own transaction (`app::notices` says what they are and what they
//! say), claimed and delivered until the chat takes them. The table and its
//! queue are `store::outbox`; the scheduler only says when
//! (`Operations::deliver_due`, called from its loop with its `Deliverer`).
//!
//! **Writing.** A notice is written with the change it reports (`enqueue`,
//! `enqueue_at`), keyed by (session, event, session version), so the change
//! and its announcement commit together and a job run again after a crash
//! finds its notice already written. Notices that report no status change
//! (an alert) are keyed by the session's current version (`notify`); a post
//! about no one session (the daily digest) by its event alone
//! (`post_unattached`).
//!
//! **Claiming.** Any replica's loop claims due posts (`deliver_due`), each
//! post once and a dead claimer's posts taken over by its presence or
//! lease, but one at a time, each with its own lease that delivery renews
//! every heartbeat while the chat call runs: a batch sharing one lease let a
//! slow post (Slack: two calls of up to 10 s) outlive the lease of the posts
//! behind it, and another replica posted them too. A post is taken only when
//! no older post of its session waits, so each session's notices go out in
//! the order they were written. Reminder lines (`reminder:<minutes>`) due
//! for the same channel are claimed together and go out as one post
//! (`notices::reminder_post`), each row recorded with where it went; a
//! failure puts them all back. The use case that wrote a post may claim and
//! deliver it at once itself (the approval card, the digest).
//!
//! **Delivering** (`delivery`). A post the chat took is recorded with where
//! it went; one it could not take goes back with the deliverer's backoff,
//! however long the chat is out: delayed, never dropped; one it refused for
//! good is kept as `refused`, and approvers are told.

mod delivery;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgConnection;

use super::notices::Notice;
use super::{AppError, Operations, SessionView};
use crate::chat::{Channel, Message};
use crate::store::outbox::{self, Destination};
use crate::store::{sessions, StoreError};

pub use delivery::PostLease;

/// Posts delivered per `deliver_due` at most, so the loop gets back to its jobs.
const PER_ROUND: usize = 50;
/// Reminder lines gathered into one post at most.
const REMINDER_GROUP: i64 = 50;

/// Who delivers the outbox's posts on a scheduler's behalf, and when: its
/// name and presence (stamped on its claims), its lease, the wait before a
/// post the chat could not take is tried again, and what it does once it
/// holds a post. The scheduler implements it; the outbox does the rest.
#[async_trait]
pub trait Deliverer: Send + Sync {
    /// Names the process in the posts it claims (`claimed_by`).
    fn worker(&self) -> &str;
    /// Its presence key while it holds it (`store::presence`); asked before
    /// every claim, since the lock may be lost meanwhile.
    fn presence(&self) -> Option<i32>;
    fn lease(&self) -> PostLease;
    /// How long a post waits after `attempt` tries the chat could not take.
    fn retry_wait(&self, attempt: i32) -> Duration;
    /// Called once a round, after its first claim: the scheduler wakes the
    /// other loops, which then watch this process's presence.
    async fn claimed(&self);
}

impl Operations {
    /// Claims and delivers the posts that are due, one after the other (a
    /// reminder group counts as one), for `by`. Returns how many rows were
    /// claimed; only claiming can fail, a post that cannot go out is put back.
    pub async fn deliver_due(&self, by: &dyn Deliverer) -> Result<usize, StoreError> {
        let mut count = 0;
        for _ in 0..PER_ROUND {
            let group = outbox::claim_due(
                &self.core.pool,
                by.worker(),
                by.presence(),
                by.lease().lease,
                REMINDER_GROUP,
            )
            .await?;
            if group.is_empty() {
                break;
            }
            if count == 0 {
                by.claimed().await;
            }
            count += group.len();
            let wait = by.retry_wait(group[0].attempt);
            self.core.deliver(group, wait, by.lease()).await;
        }
        Ok(count)
    }

    /// On graceful shutdown: hands the posts `worker` holds back, to go out
    /// at once elsewhere.
    pub async fn release_posts(&self, worker: &str) -> Result<u64, StoreError> {
        outbox::release_all(&self.core.pool, worker).await
    }

    /// Writes a notice that goes with no status change (an alert), keyed by
    /// the session's current version.
    pub async fn notify(&self, session_id: i64, notice: Notice) -> Result<(), AppError> {
        let mut tx = self.core.pool.begin().await?;
        let Some(session) = sessions::get(&mut tx, session_id).await? else {
            return Err(AppError::SessionNotFound(session_id));
        };
        enqueue_at(&mut tx, session_id, session.version, &notice).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a post about no one session (the daily digest) under `event`,
    /// unless one was written already, and posts it now unless another
    /// process has taken it; if the chat cannot take it, the scheduler posts
    /// it when the chat is back. Whoever writes it, it is posted once.
    pub async fn post_unattached(
        &self,
        event: &str,
        channel: Channel,
        message: &Message,
    ) -> Result<(), AppError> {
        let stored = serde_json::to_value(message)
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("a post did not serialise: {e}")))?;
        let mut conn = self.core.pool.acquire().await?;
        outbox::enqueue_unattached(&mut conn, event, destination(channel), &stored).await?;
        drop(conn);
        self.core.deliver_unattached_now(event).await
    }
}

/// Writes `notices` for the session as `view` shows it, in the caller's transaction.
pub(super) async fn enqueue(
    conn: &mut PgConnection,
    view: &SessionView,
    notices: &[Notice],
) -> Result<(), AppError> {
    for notice in notices {
        enqueue_at(conn, view.id, view.version, notice).await?;
    }
    Ok(())
}

/// Writes `notice` for the session at `version`, in the caller's transaction.
pub(super) async fn enqueue_at(
    conn: &mut PgConnection,
    session_id: i64,
    version: i32,
    notice: &Notice,
) -> Result<(), AppError> {
    let message = serde_json::to_value(&notice.message)
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("a notice did not serialise: {e}")))?;
    outbox::enqueue(
        conn,
        session_id,
        &notice.event,
        version,
        destination(notice.channel),
        &message,
        notice.held,
    )
    .await?;
    Ok(())
}

/// Where the outbox keeps a post for `channel`.
fn destination(channel: Channel) -> Destination {
    match channel {
        Channel::Announcements => Destination::Announcements,
        Channel::Approvals => Destination::Approvals,
    }
}

/// The chat channel of a post the outbox kept for `destination`.
fn channel(destination: Destination) -> Channel {
    match destination {
        Destination::Announcements => Channel::Announcements,
        Destination::Approvals => Channel::Approvals,
    }
}

#[cfg(test)]
mod tests {
    use super::super::notices::CARD_EVENT;
    use super::*;
    use crate::domain::JobKind;
    use crate::store::outbox::Event;

    #[test]
    fn the_keys_notices_write_are_the_ones_the_outbox_reads() {
        assert_eq!(CARD_EVENT, Event::CARD);
        // A reminder line's key is its job's stored kind.
        let key = JobKind::Reminder { minutes_before: 90 }.as_stored();
        assert_eq!(
            key.strip_prefix(Event::REMINDER),
            Some("90"),
            "reminder lines are keyed {key:?}, which the outbox does not read as a reminder"
        );
    }

    #[test]
    fn every_channel_has_a_place_in_the_outbox_and_comes_back_as_itself() {
        for channel in [Channel::Announcements, Channel::Approvals] {
            assert_eq!(super::channel(destination(channel)), channel);
        }
    }
}
