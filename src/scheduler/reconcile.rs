//! The reconciler: the storefront's state is read, never assumed.
//!
//! Every few seconds each bot process claims the sessions due for a check
//! (`store::reconcile`: live ones, and ones whose publish or end ran lately
//! but that are no longer live), reads each sale back from the storefront and
//! compares it with what the database says:
//!
//! - live here and before its end, but missing (or ended) there: put it back
//!   (a PUT with a fresh idempotency key, since a replay of the old one would
//!   only repeat the old answer), log `republished`, tell approvers;
//! - not live here, but up there: take it down (a DELETE, then a read to
//!   confirm), log `taken_down`, tell approvers;
//! - a live session past its end is left to its end job, which retries until
//!   the storefront confirms.
//!
//! Each round also redraws approval cards left behind by an edit the chat did
//! not take (`FlashSales::redraw_stale_cards`), so the channel converges too.
//!
//! A repair that fails is tried again on the next check; approvers hear of it
//! once per session version (the notice's key). This catches whatever the
//! jobs missed: a crash between two calls, an answer lost in a timeout, a sale
//! edited on the storefront by hand.

use serde_json::json;

use super::handlers::sale_is_down;
use super::Scheduler;
use crate::app::{AppError, Notice, SessionView};
use crate::chat::Text;
use crate::domain::{ActivityKind, Status};
use crate::metrics;
use crate::store::reconcile::{self, Candidate};

/// Sessions compared per round.
const BATCH: i64 = 20;

/// What one comparison found (the metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// The storefront shows what the database says.
    Agrees,
    TakenDown,
    Republished,
    /// They differ and the repair did not work this time.
    Unrepaired,
    /// The storefront could not be read.
    Unreadable,
}

impl Finding {
    fn label(self) -> &'static str {
        match self {
            Finding::Agrees => "agrees",
            Finding::TakenDown => "taken_down",
            Finding::Republished => "republished",
            Finding::Unrepaired => "unrepaired",
            Finding::Unreadable => "unreadable",
        }
    }
}

impl Scheduler {
    /// Runs rounds every `reconcile_every` until `shutdown` turns true.
    pub async fn reconcile_loop(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.reconcile_now().await {
                tracing::warn!(error = %e, "reconciling failed; trying again next round");
            }
            // The channel's side: cards left behind by an edit the chat did not take.
            if let Err(e) = self.app.redraw_stale_cards().await {
                tracing::warn!(error = %e, "could not redraw stale cards; trying again next round");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.reconcile_every) => {}
                changed = shutdown.changed() => if changed.is_err() { break },
            }
        }
    }

    /// One round: compares every session due for a check. Returns what each showed.
    pub async fn reconcile_now(&self) -> Result<Vec<(i64, Finding)>, AppError> {
        let due = reconcile::claim_due(&self.pool, self.config.reconcile_every, BATCH).await?;
        let mut found = Vec::with_capacity(due.len());
        for candidate in due {
            let finding = self.reconcile(&candidate).await?;
            metrics::reconciled(finding.label());
            found.push((candidate.session_id, finding));
        }
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(session = candidate.session_id, status = %candidate.status))]
    async fn reconcile(&self, candidate: &Candidate) -> Result<Finding, AppError> {
        let live = candidate.status == Status::Live.as_str();
        if live && candidate.checked_at >= candidate.ends_at {
            // Its end job owns this and retries until the storefront confirms.
            return Ok(Finding::Agrees);
        }
        let sale = match self.storefront.read_back(candidate.session_id).await {
            Ok(sale) => sale,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sale back");
                return Ok(Finding::Unreadable);
            }
        };
        let down = sale_is_down(sale.as_ref());
        if live != down {
            return Ok(Finding::Agrees);
        }
        let view = self.app.get(candidate.session_id).await?;
        if view.status.as_str() != candidate.status {
            // It moved on since the claim; the next round sees the new state.
            return Ok(Finding::Agrees);
        }
        let repair = if live { &PUT_BACK } else { &TAKE_OFF };
        self.repair(&view, repair).await
    }

    /// Makes the storefront show what the database says (the sale up for a
    /// live session, down for any other), confirms it by reading it back, and
    /// tells approvers what was found and whether the repair worked.
    async fn repair(&self, view: &SessionView, repair: &Repair) -> Result<Finding, AppError> {
        tracing::warn!("{}; repairing", repair.found);
        // A fresh key: a replay of the old one would only repeat the old answer.
        let key = uuid::Uuid::new_v4().to_string();
        let write = self.new_write(key.clone()).await?;
        let applied = if repair.up {
            self.storefront.publish(&view.sale_request(), &write).await
        } else {
            self.storefront.end(view.id, &write).await
        };
        let repaired = match applied {
            Ok(()) => self
                .confirmed_down(view.id)
                .await
                .map(|down| down != repair.up),
            Err(e) => Err(e),
        };
        let what = format!(
            "#{} \"{}\" is {}, but its sale was {} on the storefront",
            view.id,
            view.title,
            view.status.label().to_lowercase(),
            if repair.up { "missing" } else { "up" },
        );
        match repaired {
            Ok(true) => {
                let details = json!({ "status": view.status.as_str(), "idempotency_key": key });
                self.app
                    .log_system_event(view.id, repair.done_kind, details)
                    .await?;
                let text = format!("{what}: it was {}.", repair.done);
                self.app
                    .notify(
                        view.id,
                        Notice::alert(repair.done_kind.as_str(), Text::from(text)),
                    )
                    .await?;
                Ok(repair.finding)
            }
            outcome => {
                let why = match outcome {
                    Err(e) => e.to_string(),
                    Ok(_) => repair.still.to_owned(),
                };
                let text = format!(
                    "{what}, and {} failed ({why}). Retrying every few seconds; {}",
                    repair.doing,
                    (repair.advice)(view.id)
                );
                self.app
                    .notify(
                        view.id,
                        Notice::alert(repair.failed_event, Text::from(text)),
                    )
                    .await?;
                Ok(Finding::Unrepaired)
            }
        }
    }
}

/// One direction of a repair: the same steps, told in different words.
struct Repair {
    /// Whether the sale must be up on the storefront.
    up: bool,
    /// What the log says was found.
    found: &'static str,
    /// The activity logged and the alert's event when it worked.
    done_kind: ActivityKind,
    finding: Finding,
    /// "it was {done}."
    done: &'static str,
    failed_event: &'static str,
    /// "{doing} failed"
    doing: &'static str,
    /// Why it failed when the storefront answered but the read disagrees.
    still: &'static str,
    advice: fn(i64) -> String,
}

/// A live sale is missing on the storefront: publish it again.
const PUT_BACK: Repair = Repair {
    up: true,
    found: "a live sale is missing on the storefront",
    done_kind: ActivityKind::Republished,
    finding: Finding::Republished,
    done: "published again",
    failed_event: "republish_failed",
    doing: "publishing it again",
    still: "it still does not show it",
    advice: |_| "stop it if it should not run.".to_owned(),
};

/// A sale is up although its session is not live: end it there.
const TAKE_OFF: Repair = Repair {
    up: false,
    found: "a sale is up on the storefront for a session that is not live",
    done_kind: ActivityKind::TakenDown,
    finding: Finding::TakenDown,
    done: "taken down",
    failed_event: "take_down_failed",
    doing: "taking it down",
    still: "it still shows it",
    advice: |id| format!("remove flash sale {id} from the storefront by hand if it stays."),
};
