//! Telling people: the approval card's edits. (The card itself and the posts
//! that report a change go through the outbox: `notices`, `delivery`.)
//!
//! The session records what its card shows (status and version), so a card
//! left behind by an edit the chat did not take is redrawn later
//! (`redraw_stale_cards`), and a card that is not behind is never redrawn: a
//! stale or forged press on a current card costs no edit and no upload.
//!
//! An edit the chat refuses for good (the message was deleted, the bot lost
//! its permission: `ChatError::Refused`) marks the card lost, and a lost card
//! is never edited again: the stale-card scan leaves it out (no retry loop,
//! nothing held back behind it), and the next state change posts a fresh card
//! in the approvals channel instead. A state change whose own edit is
//! refused is that next change: it posts the fresh card at once, through
//! the outbox like the first card, so a chat that is down gets it when it is
//! back and a post whose answer was lost is not posted twice.
//!
//! A use case commits first and talks second. The database is the truth; a
//! chat failure is logged and never undoes or fails the change.

use std::collections::HashMap;
use std::sync::Arc;

use super::cards::{approval_request, card_update};
use super::notices;
use super::outbox::enqueue_at;
use super::pictures;
use super::{AppError, Core, Operations, SessionView};
use crate::catalog::Product;
use crate::chat::{ChatError, Message, Picture, PostedRef, Text, TimeStyle};
use crate::domain::{ActivityKind, Actor, Sku, Status};
use crate::store::sessions::{self, CardRecord};

/// How long after a change its own card edit is left to finish before a
/// card still behind counts as stale.
const STALE_CARD_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// Cards redrawn per round at most.
const STALE_CARD_BATCH: i64 = 20;

/// What became of an edit of the card.
enum Edited {
    Taken,
    /// The chat could not take it now; the card stays behind and is redrawn later.
    NotNow,
    /// The chat refused it for good: the card is recorded lost.
    Lost,
}

impl Core {
    /// After a state change: edits the approval card, if there is one, to
    /// show `view` with `outcome`, and records what it now shows. A card the
    /// chat has lost (or refuses to edit now) is replaced by a fresh card.
    /// An edit the chat does not take leaves the card behind;
    /// `redraw_stale_cards` catches up. True when the chat took the card.
    pub(super) async fn update_card(&self, view: &SessionView, outcome: Text) -> bool {
        let Some(card) = self.card_of(view.id).await else {
            return false;
        };
        let message = card_message(view, outcome);
        if !card.lost {
            match self.edit_card(view, &card, &message).await {
                Edited::Taken => return true,
                Edited::NotNow => return false,
                Edited::Lost => {}
            }
        }
        self.post_fresh_card(view, &message).await
    }
}

impl Operations {
    /// Redraws approval cards that are behind their session in the database:
    /// edits the chat could not take (it was down) are caught up, so a card
    /// never offers buttons for what was decided. Every replica's reconciler
    /// runs it; a card redrawn twice looks the same. Returns how many cards it
    /// brought up to date.
    pub async fn redraw_stale_cards(&self) -> Result<usize, AppError> {
        let stale = {
            let mut conn = self.core.pool.acquire().await?;
            sessions::stale_cards(&mut conn, STALE_CARD_GRACE, STALE_CARD_BATCH).await?
        };
        let mut redrawn = 0;
        for session_id in stale {
            if self.core.refresh_card(session_id).await {
                redrawn += 1;
            }
        }
        Ok(redrawn)
    }
}

impl Core {
    /// Brings the approval card up to date with the stored session, e.g.
    /// after a press on a card that showed an older version, if it is behind;
    /// a card that already shows the session, or one the chat lost, is left
    /// alone. True when the chat took a new drawing.
    pub(super) async fn refresh_card(&self, session_id: i64) -> bool {
        let view = match self.view(session_id).await {
            Ok(view) => view,
            Err(e) => {
                tracing::warn!(session = session_id, error = %e, "could not refresh the card");
                return false;
            }
        };
        let Some(card) = self.card_of(session_id).await else {
            return false;
        };
        if card.lost || !card.behind(view.status, view.version) {
            return false;
        }
        let outcome = Text::from(format!("Status: {}", view.status.label()));
        let message = card_message(&view, outcome);
        matches!(self.edit_card(&view, &card, &message).await, Edited::Taken)
    }

    /// Edits `card` to `message` (a drawing of `view`) and records the outcome.
    async fn edit_card(&self, view: &SessionView, card: &CardRecord, message: &Message) -> Edited {
        let posted = PostedRef {
            channel: card.channel.clone(),
            message: card.message.clone(),
        };
        match self.chat.edit(&posted, message).await {
            Ok(()) => {
                let recorded = async {
                    let mut conn = self.pool.acquire().await?;
                    sessions::set_card_shows(
                        &mut conn,
                        view.id,
                        &card.message,
                        (view.status, view.version),
                    )
                    .await
                };
                if let Err(e) = recorded.await {
                    tracing::warn!(session = view.id, error = %e, "could not record what the approval card shows");
                }
                Edited::Taken
            }
            Err(ChatError::Unavailable(why)) => {
                tracing::warn!(session = view.id, %why, "could not update the approval card; it is redrawn when the chat is back");
                Edited::NotNow
            }
            // The edit may have been made; the record still says the card is
            // behind, so it is drawn again, which looks the same if it was.
            Err(ChatError::InDoubt(why)) => {
                tracing::warn!(session = view.id, %why, "the chat's answer to an approval card edit was lost; the card is redrawn later");
                Edited::NotNow
            }
            Err(ChatError::Refused(why)) => {
                tracing::warn!(session = view.id, %why, "the chat refused to edit the approval card for good; the next state change posts a fresh one");
                self.record_card_lost(view.id, &card.message, &why).await;
                Edited::Lost
            }
        }
    }

    async fn record_card_lost(&self, session_id: i64, message: &str, why: &str) {
        let recorded = async {
            let mut conn = self.pool.acquire().await?;
            sessions::set_card_lost(&mut conn, session_id, message, why).await
        };
        if let Err(e) = recorded.await {
            tracing::warn!(session = session_id, error = %e, "could not record that the approval card is lost; it is tried again next round");
        }
    }

    /// Posts a fresh approval card in place of a lost one, through the
    /// outbox like the first card (event `card` at the session's version, so
    /// one per version however many changes ask): a chat that is out gets it
    /// from the scheduler when it is back, and a post whose answer was lost
    /// is kept unconfirmed on a chat that would show a repeat (Slack), with
    /// approvers asked, instead of a second card. True when the chat took it
    /// now.
    async fn post_fresh_card(&self, view: &SessionView, message: &Message) -> bool {
        let written = async {
            let mut conn = self.pool.acquire().await?;
            enqueue_at(
                &mut conn,
                view.id,
                view.version,
                &notices::fresh_card(message.clone()),
            )
            .await
        };
        if let Err(e) = written.await {
            tracing::warn!(session = view.id, error = %e, "could not write a fresh approval card; the next state change tries again");
            return false;
        }
        tracing::info!(
            session = view.id,
            "a fresh approval card in place of a lost one"
        );
        self.deliver_card_now(view).await;
        self.card_of(view.id)
            .await
            .is_some_and(|card| !card.lost && card.shows.1 == Some(view.version))
    }

    /// After the catalog refused an approval: if products are gone or inactive,
    /// the card's picture draws their tiles broken, so approvers see what
    /// shoppers could not buy.
    pub(super) async fn show_unsellable(&self, session_id: i64, products: &HashMap<Sku, Product>) {
        let Some(card) = self.card_of(session_id).await.filter(|card| !card.lost) else {
            return;
        };
        let view = match self.view(session_id).await {
            Ok(view) if view.status == Status::PendingApproval => view,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(session = session_id, error = %e, "could not read the session to mark its card");
                return;
            }
        };
        let as_it_was = pictures::sale_sheet(&view);
        let sheet = pictures::with_catalog(as_it_was.clone(), products);
        if sheet == as_it_was {
            return;
        }
        let message = Message {
            picture: Some(Picture::Sale(Arc::new(sheet))),
            ..approval_request(&view)
        };
        // Still a drawing of `view`: recorded like any edit, a refusal marks it lost.
        self.edit_card(&view, &card, &message).await;
    }

    /// The card after a decision or change by `actor`: who, what, when.
    pub(super) async fn after_change(
        &self,
        view: &SessionView,
        actor: &Actor,
        kind: ActivityKind,
        reason: Option<&str>,
    ) {
        let mut outcome = Text::new()
            .plain(format!("{} by {} ", capitalised(kind), actor.name))
            .time(self.clock.now(), TimeStyle::Relative);
        if let Some(reason) = reason {
            outcome = outcome.plain(": ").typed(reason);
        }
        // A rejection's note to the submitter is a notice, written with the change.
        self.update_card(view, outcome).await;
    }

    async fn card_of(&self, session_id: i64) -> Option<CardRecord> {
        let read = async {
            let mut conn = self.pool.acquire().await?;
            sessions::card(&mut conn, session_id).await
        };
        match read.await {
            Ok(card) => card,
            Err(e) => {
                tracing::warn!(session = session_id, error = %e, "could not read where the approval card is");
                None
            }
        }
    }
}

/// The card drawn for `view`: Approve/Reject while it waits for approval,
/// read-only with `outcome` once it moved on.
fn card_message(view: &SessionView, outcome: Text) -> Message {
    if view.status == Status::PendingApproval {
        approval_request(view)
    } else {
        card_update(view, outcome)
    }
}

fn capitalised(kind: ActivityKind) -> String {
    let words = kind.to_string();
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
