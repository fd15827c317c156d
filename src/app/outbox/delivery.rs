//! Delivering the outbox's posts to the chat: those a scheduler's loop
//! claimed (`Operations::deliver_due`), and the one a use case wrote and
//! delivers at once itself (the approval card, so the submitter sees it; the
//! digest).
//!
//! A post the chat took is recorded with where it went; one it could not
//! take goes back with a wait, however long the chat is out: delayed, never
//! dropped; one it refused for good is kept as `refused`, and approvers are
//! told in their channel, in the same transaction (an alert the approvals
//! channel itself refuses is only logged, at ERROR: there is nowhere left to
//! say it in chat). While the chat call runs, the post's lease is renewed
//! every heartbeat (`PostLease`), so a slow chat never lets another replica
//! post the same message. Every post carries
//! the dedupe key `outbox:<id>` unless it has its own.
//!
//! **In doubt.** Each try is written down before the chat call
//! (`outbox::begin_post`), and the outcome after it. A process that stops
//! between the two leaves the post *in doubt*: the chat may show it. The
//! next claim asks the chat (`Chat::in_doubt`): Discord drops a repeat of the
//! key (its nonce), so it is posted again; Slack cannot tell without reading
//! channel history, which it must not, so the post is kept as `unconfirmed`
//! and approvers are asked to check the channel, in the same transaction.
//! Only the moment between the try being written and the outcome being
//! written is in doubt; a post the chat answered "not taken" is put back
//! clear of it (`retry_later`). A chat call that ends without an answer
//! (`ChatError::InDoubt`: it timed out, or the connection broke after the
//! request went out) raises the same question at once and gets the same
//! answer: on Slack the post is kept as `unconfirmed` and approvers are
//! asked, in one transaction; a chat that drops repeats gets it again
//! later, as if it had not been taken. A request to check that is itself
//! left in doubt is only logged: asking about the asking would go on for as
//! long as the chat does not answer.
//!
//! The approval card is a post like the others (written with the submit, key
//! `card`), so a chat that is down when a session is submitted delays the
//! card instead of losing it. Once posted, the session remembers where it is
//! for later edits, and a card that arrives after the session moved on
//! (withdrawn, cancelled, expired) is redrawn at once.

use std::future::Future;
use std::time::Duration;

use super::{channel, destination, enqueue_at};
use crate::app::notices::{self, Notice, CARD_EVENT};
use crate::app::{AppError, Core, SessionView};
use crate::chat::{Channel, ChatError, InDoubt, Message, PostedRef, Text};
use crate::domain::Status;
use crate::metrics;
use crate::store::outbox::{self, ClaimedPost, Event};
use crate::store::queue::Fence;
use crate::store::{sessions, StoreError};

/// How a deliverer holds the posts it claimed: a lease of `lease` from the
/// claim, renewed every `heartbeat` while the chat call runs. The lease is
/// what another replica waits out before it may post the same message (when
/// the deliverer's presence does not show it gone first); the heartbeat,
/// well under it, keeps a slow but live deliverer's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostLease {
    pub lease: Duration,
    pub heartbeat: Duration,
}

/// How the use case that wrote a post (the card, the digest) holds it while posting.
const OWN_POST_LEASE: PostLease = PostLease {
    lease: Duration::from_secs(10),
    heartbeat: Duration::from_secs(2),
};
/// A post the chat could not take at once goes to the scheduler after this.
const OWN_POST_RETRY: Duration = Duration::from_secs(1);

impl Core {
    /// Posts the approval card that `submit` wrote to the outbox, now, unless
    /// a scheduler already took it. If the chat is out, the scheduler posts it
    /// when the chat is back.
    pub(in crate::app) async fn deliver_card_now(&self, view: &SessionView) {
        let claimed = outbox::claim_event(
            &self.pool,
            "submit",
            OWN_POST_LEASE.lease,
            view.id,
            CARD_EVENT,
            view.version,
        )
        .await;
        match claimed {
            Ok(Some(post)) => {
                self.deliver(vec![post], OWN_POST_RETRY, OWN_POST_LEASE)
                    .await
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(session = view.id, error = %e, "could not take the approval card to post it; the scheduler will")
            }
        }
    }

    /// Posts the post about no one session written under `event` now, unless
    /// another process has taken it (`Operations::post_unattached`).
    pub(super) async fn deliver_unattached_now(&self, event: &str) -> Result<(), AppError> {
        let claimed =
            outbox::claim_unattached(&self.pool, "writer", OWN_POST_LEASE.lease, event).await?;
        if let Some(post) = claimed {
            self.deliver(vec![post], OWN_POST_RETRY, OWN_POST_LEASE)
                .await;
        }
        Ok(())
    }

    /// Delivers one claimed post, or reminder lines as one post, and records
    /// the outcome on every row; a post the chat could not take waits
    /// `retry_wait` and goes back to the scheduler. The claim is renewed by
    /// `lease` while the chat call runs.
    #[tracing::instrument(skip_all, fields(post = group[0].id, session = group[0].session_id, event = %group[0].event, attempt = group[0].attempt, rows = group.len()))]
    pub(super) async fn deliver(
        &self,
        group: Vec<ClaimedPost>,
        retry_wait: Duration,
        lease: PostLease,
    ) {
        let decoded: Option<Vec<Message>> = group
            .iter()
            .map(|post| serde_json::from_value::<Message>(post.message.clone()).ok())
            .collect();
        let channel = channel(group[0].channel);
        let Some(mut messages) = decoded else {
            // Written by this code, so a bug or a hand edit: keep it, say so.
            tracing::error!("an outbox post could not be read; it is kept as refused");
            metrics::outbox_post("unreadable");
            self.refuse(&group, None, "unreadable post").await;
            return;
        };
        let mut message = if matches!(group[0].event, Event::Reminder { .. }) {
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
        if group.iter().any(|post| post.in_doubt) && self.chat.in_doubt() == InDoubt::Stop {
            // Posting again could show it twice, and only channel history
            // could say whether the chat has it: leave it to people.
            metrics::outbox_post("unconfirmed");
            tracing::error!("a post was left mid-call by a stopped process; the chat may show it or not, and it is not posted again");
            self.unconfirmed(&group, channel, &message, Doubt::LeftMidCall)
                .await;
            return;
        }
        if !self.begin_post(&group, retry_wait).await {
            return;
        }
        let posting = self.chat.post(channel, &message);
        match self.holding(&group, lease, posting).await {
            Ok(posted) => {
                // Where the card is, first: the submitter may press on it now.
                let card = group[0].event == Event::Card;
                if card {
                    self.remember_card(&group[0], &posted).await;
                }
                metrics::outbox_post("sent");
                tracing::info!("posted");
                for post in &group {
                    self.record_post(
                        outbox::sent(&self.pool, post.fence(), &posted.channel, &posted.message)
                            .await,
                    );
                }
                if card {
                    self.redraw_if_moved_on(&group[0]).await;
                }
            }
            Err(ChatError::InDoubt(why)) if self.chat.in_doubt() == InDoubt::Stop => {
                // As for a process stopped mid-call: the chat may show it,
                // and posting it again could show it twice.
                metrics::outbox_post("unconfirmed");
                tracing::error!(%why, "the chat's answer to a post was lost; the chat may show it or not, and it is not posted again");
                self.unconfirmed(&group, channel, &message, Doubt::AnswerLost(&why))
                    .await;
            }
            Err(ChatError::InDoubt(why)) => {
                // The chat drops a repeat of the key: trying again is safe.
                metrics::outbox_post("retry");
                tracing::warn!(%why, wait_ms = retry_wait.as_millis() as u64, "the chat's answer to a post was lost; the post is tried again later");
                self.retry_later(&group, retry_wait, &why).await;
            }
            Err(ChatError::Unavailable(why)) => {
                metrics::outbox_post("retry");
                tracing::warn!(%why, wait_ms = retry_wait.as_millis() as u64, "chat unavailable; the post waits");
                self.retry_later(&group, retry_wait, &why).await;
            }
            Err(ChatError::Refused(why)) => {
                metrics::outbox_post("refused");
                if channel == Channel::Approvals {
                    tracing::error!(%why, "the approvals channel refused a post for good; approvers cannot be told in chat");
                } else {
                    tracing::error!(%why, "the chat refused a post for good; approvers are told");
                }
                self.refuse(&group, Some((channel, &message)), &why).await;
            }
        }
    }

    /// Runs `work` (the chat call) while renewing the lease of `group`'s
    /// claims every heartbeat. A renewal that finds a claim gone (another
    /// worker took the post over after this process stalled past its lease)
    /// is logged; the call is not cut short, since the chat may have the post
    /// already, and the fenced `sent` write keeps the outcome the new owner's.
    async fn holding<T>(
        &self,
        group: &[ClaimedPost],
        lease: PostLease,
        work: impl Future<Output = T>,
    ) -> T {
        let claims: Vec<Fence> = group.iter().map(ClaimedPost::fence).collect();
        let mut beat = tokio::time::interval_at(
            tokio::time::Instant::now() + lease.heartbeat,
            lease.heartbeat,
        );
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(work);
        loop {
            tokio::select! {
                done = &mut work => return done,
                _ = beat.tick() => match outbox::renew(&self.pool, &claims, lease.lease).await {
                    Ok(held) if held == claims.len() as u64 => {}
                    Ok(_) => tracing::warn!("lost the claim of a post while posting it"),
                    Err(e) => tracing::warn!(error = %e, "could not renew the post's lease; trying again next heartbeat"),
                },
            }
        }
    }

    /// Keeps the posts as refused and, when the refusal was not in the
    /// approvals channel, alerts approvers there, in one transaction: the
    /// alert is written once, with the refusal (its key names the post).
    async fn refuse(&self, group: &[ClaimedPost], refused: Option<(Channel, &Message)>, why: &str) {
        let written = async {
            let mut tx = self.pool.begin().await?;
            let mut recorded = false;
            for post in group {
                recorded |= outbox::refused(&mut tx, post.fence(), why).await?;
            }
            let alert = match refused {
                Some((channel, message)) if recorded && channel != Channel::Approvals => {
                    Some(refused_alert(&group[0], message, why))
                }
                _ => None,
            };
            if let Some(alert) = alert {
                let post = &group[0];
                match post.session_id {
                    Some(session) => enqueue_at(&mut tx, session, post.version, &alert).await?,
                    None => {
                        let message = serde_json::to_value(&alert.message).map_err(|e| {
                            AppError::unexpected(anyhow::anyhow!("an alert did not serialise: {e}"))
                        })?;
                        outbox::enqueue_unattached(
                            &mut tx,
                            &alert.event,
                            destination(alert.channel),
                            &message,
                        )
                        .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok::<_, AppError>(recorded)
        };
        match written.await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("lost the post's claim before recording it"),
            Err(e) => {
                tracing::warn!(error = %e, "could not record the refused post; its lease will expire and it is tried again")
            }
        }
    }

    /// Puts the posts back for a later try, clear of doubt.
    async fn retry_later(&self, group: &[ClaimedPost], retry_wait: Duration, why: &str) {
        for post in group {
            self.record_post(outbox::retry_later(&self.pool, post.fence(), retry_wait, why).await);
        }
    }

    /// Writes down, on every row, that this try is about to call the chat.
    /// False when it must not post: a claim was lost (the new owner posts),
    /// or the database could not say (the post is put back for later).
    async fn begin_post(&self, group: &[ClaimedPost], retry_wait: Duration) -> bool {
        for post in group {
            match outbox::begin_post(&self.pool, post.fence()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("lost the post's claim before posting it");
                    return false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not write down the try before posting; the post waits");
                    for post in group {
                        self.record_post(
                            outbox::retry_later(
                                &self.pool,
                                post.fence(),
                                retry_wait,
                                "could not write down the try",
                            )
                            .await,
                        );
                    }
                    return false;
                }
            }
        }
        true
    }

    /// Keeps posts in doubt as unconfirmed and asks approvers, in their
    /// channel, to check whether it arrived: in one transaction, so the
    /// request is written once, with the outcome (its key names the post).
    /// A request to check that is itself in doubt asks nothing more.
    async fn unconfirmed(
        &self,
        group: &[ClaimedPost],
        channel: Channel,
        message: &Message,
        doubt: Doubt<'_>,
    ) {
        let why = match doubt {
            Doubt::LeftMidCall => "in doubt: a try was left mid-call; not posted again".to_owned(),
            Doubt::AnswerLost(why) => format!("in doubt: no answer ({why}); not posted again"),
        };
        let asks_to_check =
            matches!(&group[0].event, Event::Other(key) if key.starts_with(UNCONFIRMED_ALERT));
        let written = async {
            let mut tx = self.pool.begin().await?;
            let mut recorded = false;
            for post in group {
                recorded |= outbox::unconfirmed(&mut tx, post.fence(), &why).await?;
            }
            if recorded && asks_to_check {
                tracing::error!("a request to check a post in doubt is itself in doubt; approvers may not have seen it, and nothing more is asked");
            } else if recorded {
                let alert = unconfirmed_alert(&group[0], channel, message, doubt);
                let post = &group[0];
                match post.session_id {
                    Some(session) => enqueue_at(&mut tx, session, post.version, &alert).await?,
                    None => {
                        let stored = serde_json::to_value(&alert.message).map_err(|e| {
                            AppError::unexpected(anyhow::anyhow!("an alert did not serialise: {e}"))
                        })?;
                        outbox::enqueue_unattached(
                            &mut tx,
                            &alert.event,
                            destination(alert.channel),
                            &stored,
                        )
                        .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok::<_, AppError>(recorded)
        };
        match written.await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("lost the post's claim before recording it"),
            Err(e) => {
                tracing::warn!(error = %e, "could not record the post in doubt; its lease will expire and it is looked at again")
            }
        }
    }

    /// Remembers where the card went, for the edits that follow.
    async fn remember_card(&self, post: &ClaimedPost, posted: &PostedRef) {
        let Some(session_id) = post.session_id else {
            return;
        };
        let stored = async {
            // The card shows the session at the post's version: as it was
            // submitted, or, for a fresh card in place of a lost one, as it
            // was when the card was drawn. A session that moved on since is
            // behind the card, and `redraw_if_moved_on` catches up.
            let status = match self.view(session_id).await {
                Ok(view) if view.version == post.version => view.status,
                _ => Status::PendingApproval,
            };
            let mut conn = self.pool.acquire().await?;
            sessions::set_card(
                &mut conn,
                session_id,
                &posted.channel,
                &posted.message,
                (status, post.version),
            )
            .await?;
            Ok::<_, AppError>(())
        };
        if let Err(e) = stored.await {
            tracing::warn!(session = session_id, error = %e, "could not remember where the approval card is");
        }
    }

    /// Redraws a card that arrived after its session moved on (withdrawn,
    /// cancelled, expired): it must not offer buttons for what is gone.
    async fn redraw_if_moved_on(&self, post: &ClaimedPost) {
        // The card was recorded as showing the submitted version: a session
        // that moved on since is behind, and only then is the card redrawn.
        if let Some(session_id) = post.session_id {
            self.refresh_card(session_id).await;
        }
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

/// The alert that a post was refused for good: where, why, and what it said,
/// so approvers can say it themselves.
fn refused_alert(post: &ClaimedPost, message: &Message, why: &str) -> Notice {
    let text = Text::from(format!(
        "A post to the {} channel was refused by the chat for good ({why}); it will not be tried again. It said:",
        post.channel.as_stored()
    ))
    .line(message.text.clone());
    Notice::alert(format!("refused:{}", post.id), text)
}

/// What the key of a request to check a post in doubt starts with (the post's id follows).
const UNCONFIRMED_ALERT: &str = "unconfirmed:";

/// Why a post is in doubt: the record and the request to check say so.
#[derive(Debug, Clone, Copy)]
enum Doubt<'a> {
    /// A process stopped during the chat call (its try was found written down).
    LeftMidCall,
    /// The chat call ended without an answer (`ChatError::InDoubt`), and why.
    AnswerLost(&'a str),
}

/// The request to check a post in doubt: where it went and what it said,
/// so approvers can see whether it arrived and say it themselves if not.
fn unconfirmed_alert(
    post: &ClaimedPost,
    channel: Channel,
    message: &Message,
    doubt: Doubt<'_>,
) -> Notice {
    let channel = channel.name();
    let what = match doubt {
        Doubt::LeftMidCall => format!("The bot stopped while posting to the {channel} channel and"),
        Doubt::AnswerLost(_) => {
            format!("The chat did not answer the bot's post to the {channel} channel, so the bot")
        }
    };
    let text = Text::from(format!(
        "{what} cannot tell whether the post arrived; it will not post it again, so nothing shows twice. If it is missing there, it said:"
    ))
    .line(message.text.clone());
    Notice::alert(format!("{UNCONFIRMED_ALERT}{}", post.id), text)
}
