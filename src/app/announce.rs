//! Telling people: the approval card's edits. (The card itself and the posts
//! that report a change go through the outbox: `notices`, `delivery`.) The
//! session records the status its card shows, so a card left behind by an
//! edit the chat did not take is redrawn later (`redraw_stale_cards`).
//!
//! A use case commits first and talks second. The database is the truth; a
//! chat failure is logged and never undoes or fails the change (the card is
//! brought up to date by the next change, and `refresh_card` can be called at
//! any time).

use std::collections::HashMap;
use std::sync::Arc;

use super::cards::{approval_request, card_update};
use super::pictures;
use super::{AppError, FlashSales, SessionView};
use crate::catalog::Product;
use crate::chat::{Message, Picture, PostedRef, Text, TimeStyle};
use crate::domain::{ActivityKind, Actor, Sku, Status};
use crate::store::sessions;

/// How long after a change its own card edit is left to finish before a
/// card still behind counts as stale.
const STALE_CARD_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// Cards redrawn per round at most.
const STALE_CARD_BATCH: i64 = 20;

impl FlashSales {
    /// Edits the approval card, if there is one, to show `view` with
    /// `outcome`, and records the status it now shows. An edit the chat
    /// does not take leaves the card behind; `redraw_stale_cards` catches up.
    /// True when the chat took the edit.
    pub(crate) async fn update_card(&self, view: &SessionView, outcome: Text) -> bool {
        let Some(card) = self.card_of(view.id).await else {
            return false;
        };
        let message = if view.status == Status::PendingApproval {
            approval_request(view)
        } else {
            card_update(view, outcome)
        };
        if let Err(e) = self.chat.edit(&card, &message).await {
            tracing::warn!(session = view.id, error = %e, "could not update the approval card; it is redrawn when the chat is back");
            return false;
        }
        let recorded = async {
            let mut conn = self.pool.acquire().await?;
            sessions::set_card_status(&mut conn, view.id, view.status).await
        };
        if let Err(e) = recorded.await {
            tracing::warn!(session = view.id, error = %e, "could not record what the approval card shows");
        }
        true
    }

    /// Redraws approval cards that show another status than their session
    /// has in the database: edits the chat could not take (it was down)
    /// are caught up, so a card never offers buttons for what was decided.
    /// Every replica's reconciler runs it; a card redrawn twice looks the
    /// same. Returns how many cards it brought up to date.
    pub async fn redraw_stale_cards(&self) -> Result<usize, AppError> {
        let stale = {
            let mut conn = self.pool.acquire().await?;
            sessions::stale_cards(&mut conn, STALE_CARD_GRACE, STALE_CARD_BATCH).await?
        };
        let mut redrawn = 0;
        for session_id in stale {
            if self.refresh_card(session_id).await {
                redrawn += 1;
            }
        }
        Ok(redrawn)
    }

    /// After the catalog refused an approval: if products are gone or inactive,
    /// the card's picture draws their tiles broken, so approvers see what
    /// shoppers could not buy.
    pub(super) async fn show_unsellable(&self, session_id: i64, products: &HashMap<Sku, Product>) {
        let Some(card) = self.card_of(session_id).await else {
            return;
        };
        let view = match self.get(session_id).await {
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
        if let Err(e) = self.chat.edit(&card, &message).await {
            tracing::warn!(session = session_id, error = %e, "could not mark the unsellable products on the card");
        }
    }

    /// Brings the approval card up to date with the stored session, e.g. after
    /// a press on a card that showed an older version.
    /// True when the chat took the new card.
    pub async fn refresh_card(&self, session_id: i64) -> bool {
        match self.get(session_id).await {
            Ok(view) => {
                let outcome = Text::from(format!("Status: {}", view.status.label()));
                self.update_card(&view, outcome).await
            }
            Err(e) => {
                tracing::warn!(session = session_id, error = %e, "could not refresh the card");
                false
            }
        }
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
            outcome = outcome.plain(format!(": {reason}"));
        }
        // A rejection's note to the submitter is a notice, written with the change.
        self.update_card(view, outcome).await;
    }

    async fn card_of(&self, session_id: i64) -> Option<PostedRef> {
        let mut conn = self.pool.acquire().await.ok()?;
        let session = sessions::get(&mut conn, session_id).await.ok()??;
        session
            .card
            .map(|(channel, message)| PostedRef { channel, message })
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
