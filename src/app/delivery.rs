//! Delivering the outbox's posts to the chat, for the scheduler (which
//! claims them, `scheduler::outbox`) and for the use case that wrote one and
//! delivers it at once (the approval card, so the submitter sees it).
//!
//! A post the chat took is recorded with where it went; one it could not
//! take goes back with a wait, however long the chat is out: delayed, never
//! dropped; one it refused for good is kept as `refused`. Every post carries
//! the dedupe key `outbox:<id>` unless it has its own, so a delivery repeated
//! after a crash between the chat's answer and the `sent` write is dropped by
//! the adapter (Discord's nonce, the console's memory).
//!
//! The approval card is a post like the others (written with the submit, key
//! `card`), so a chat that is down when a session is submitted delays the
//! card instead of losing it. Once posted, the session remembers where it is
//! for later edits, and a card that arrives after the session moved on
//! (approved by command, withdrawn) is redrawn at once.

use std::time::Duration;

use super::notices::{self, CARD_EVENT};
use super::{FlashSales, SessionView};
use crate::chat::{Channel, ChatError, Message, PostedRef};
use crate::domain::Status;
use crate::metrics;
use crate::store::outbox::{self, ClaimedPost};
use crate::store::{sessions, StoreError};

/// How long the use case that wrote the card holds it while posting.
const CARD_LEASE: Duration = Duration::from_secs(10);
/// A card the chat could not take at once goes to the scheduler after this.
const CARD_RETRY: Duration = Duration::from_secs(1);

impl FlashSales {
    /// Posts the approval card that `submit` wrote to the outbox, now, unless
    /// a scheduler already took it. If the chat is out, the scheduler posts it
    /// when the chat is back.
    pub(super) async fn deliver_card_now(&self, view: &SessionView) {
        let claimed = outbox::claim_event(
            &self.pool,
            "submit",
            CARD_LEASE,
            view.id,
            CARD_EVENT,
            view.version,
        )
        .await;
        match claimed {
            Ok(Some(post)) => self.deliver(vec![post], CARD_RETRY).await,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(session = view.id, error = %e, "could not take the approval card to post it; the scheduler will")
            }
        }
    }

    /// Delivers one claimed post, or reminder lines as one post, and records
    /// the outcome on every row; a post the chat could not take waits
    /// `retry_wait` and goes back to the scheduler.
    #[tracing::instrument(skip_all, fields(post = group[0].id, session = group[0].session_id, event = %group[0].event, attempt = group[0].attempt, rows = group.len()))]
    pub async fn deliver(&self, group: Vec<ClaimedPost>, retry_wait: Duration) {
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
        let mut message = if notices::is_reminder(&group[0].event) {
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
        match self.chat.post(channel, &message).await {
            Ok(posted) => {
                // Where the card is, first: the submitter may press on it now.
                let card = group[0].event == CARD_EVENT;
                if card {
                    self.remember_card(&group[0], &posted).await;
                }
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
                if card {
                    self.redraw_if_moved_on(&group[0]).await;
                }
            }
            Err(ChatError::Unavailable(why)) => {
                metrics::outbox_post("retry");
                tracing::warn!(%why, wait_ms = retry_wait.as_millis() as u64, "chat unavailable; the post waits");
                for post in &group {
                    self.record_post(
                        outbox::retry_later(&self.pool, post.id, post.claim, retry_wait, &why)
                            .await,
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

    /// Remembers where the card went, for the edits that follow.
    async fn remember_card(&self, post: &ClaimedPost, posted: &PostedRef) {
        let stored = async {
            let mut conn = self.pool.acquire().await?;
            // The card shows the session as it was submitted.
            sessions::set_card(
                &mut conn,
                post.session_id,
                &posted.channel,
                &posted.message,
                (Status::PendingApproval, post.version),
            )
            .await?;
            Ok::<_, super::AppError>(())
        };
        if let Err(e) = stored.await {
            tracing::warn!(session = post.session_id, error = %e, "could not remember where the approval card is");
        }
    }

    /// Redraws a card that arrived after its session moved on (withdrawn,
    /// approved by command): it must not offer buttons for what is gone.
    async fn redraw_if_moved_on(&self, post: &ClaimedPost) {
        // The card was recorded as showing the submitted version: a session
        // that moved on since is behind, and only then is the card redrawn.
        self.refresh_card(post.session_id).await;
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
