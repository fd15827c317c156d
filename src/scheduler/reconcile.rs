//! The reconciler: the storefront's state is read, never assumed.
//!
//! Every few seconds each bot process claims the sessions due for a check
//! (`store::reconcile`: live ones, and ones whose publish, end or repair ran
//! lately), reads each sale back from the storefront and compares it with
//! what the database says it must show (`domain::sale`): up while live, not
//! stopping and before its end; down otherwise.
//!
//! It never writes to the storefront itself. A disagreement becomes work for
//! the sale's one writer: a repair job in the same queue as the publish and
//! end jobs (`jobs::arm_repair`), which takes the sale's writer section,
//! reads the session again there and decides (`handlers::repair`). So a
//! round that read the sale a moment before a stop, an end or a go-live can
//! never undo it. A live session past its end (or stopping) whose end job is
//! not going to run is also handed to a repair, which re-arms the end.
//!
//! Each round also redraws approval cards left behind by an edit the chat did
//! not take (`Operations::redraw_stale_cards`), so the channel converges too.
//!
//! This catches whatever the jobs missed: a crash between two calls, an
//! answer lost in a timeout, a sale edited on the storefront by hand.

use super::Scheduler;
use crate::app::AppError;
use crate::domain::sale::{RepairDecision, SaleFacts, Shown};
use crate::domain::Window;
use crate::metrics;
use crate::store::jobs;
use crate::store::reconcile::{self, Candidate};

/// Sessions compared per round.
const BATCH: i64 = 20;

/// What one comparison (or the repair it asked for) found (the metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// The storefront shows what the database says.
    Agrees,
    /// They differ: a repair was asked of the sale's writer.
    RepairAsked,
    TakenDown,
    Republished,
    /// They differ and the repair did not work this time.
    Unrepaired,
    /// The storefront could not be read.
    Unreadable,
}

/// How often the reconciler's loop checks the slots ahead for the coverage
/// alarm: reminders are hours apart, so a minute late is on time.
const COVERAGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl Finding {
    pub(super) fn label(self) -> &'static str {
        match self {
            Finding::Agrees => "agrees",
            Finding::RepairAsked => "repair_asked",
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
        let mut coverage_checked: Option<tokio::time::Instant> = None;
        while !*shutdown.borrow() {
            // The slots' side, once a minute: the coverage alarm
            // (`Operations::check_coverage`); every replica may, the outbox
            // posts each reminder once.
            if coverage_checked.is_none_or(|at| at.elapsed() >= COVERAGE_EVERY) {
                coverage_checked = Some(tokio::time::Instant::now());
                if let Err(e) = self.check_coverage_now().await {
                    tracing::warn!(error = %e, "could not check the slots' coverage; trying again next minute");
                }
            }
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

    /// One look at the slots ahead for the coverage alarm (any replica, any
    /// time: each slot and reminder is posted once); returns the reminders due.
    pub async fn check_coverage_now(&self) -> Result<usize, AppError> {
        self.app.check_coverage().await
    }

    /// One round: compares every session due for a check, and asks for a
    /// repair where they differ. Returns what each showed.
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
        let facts = SaleFacts {
            status: candidate.status,
            window: Window::from_stored(candidate.starts_at, candidate.ends_at),
            stopping: candidate.stop_requested_at.is_some(),
            now: candidate.checked_at,
        };
        let wanted = facts.wanted();
        // The repair's own rule decides what is its business: an approved
        // sale is its publish job's until the window passes.
        let decision = facts.repair();
        if decision == RepairDecision::LeaveToPublish {
            return Ok(Finding::Agrees);
        }
        let shown = match self.confirmed_down(candidate.session_id).await {
            Ok(true) => Shown::Down,
            Ok(false) => Shown::Up,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sale back");
                return Ok(Finding::Unreadable);
            }
        };
        // A live session that must come down needs its end job to run.
        let end_missing = decision == RepairDecision::ArmEnd && !candidate.end_armed;
        if shown == wanted && !end_missing {
            return Ok(Finding::Agrees);
        }
        if jobs::arm_repair(&self.pool, candidate.session_id).await? {
            tracing::warn!(?shown, ?wanted, "the storefront disagrees; repair asked");
        }
        Ok(Finding::RepairAsked)
    }
}
