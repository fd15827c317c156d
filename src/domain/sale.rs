//! What the storefront must show for a session, and what its one writer does
//! about it: the decisions of the publish, end and repair jobs, made from the
//! state they read inside their writer's section (`store::sale`).
//!
//! A window is a hard limit: nothing is published at or after `ends_at`, and
//! an approved session whose window has passed before anyone could publish it
//! is missed, not late. A live sale must be up only while it is live, not
//! stopping and before its end; in every other case it must be down.

use chrono::{DateTime, Duration, Utc};

use super::money::Money;
use super::sku::Sku;
use super::status::Status;
use super::window::Window;

/// A session as its writer reads it, with the database's clock at the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleFacts {
    pub status: Status,
    pub window: Window,
    /// An approver asked to stop it (`stop`): its sale must come down.
    pub stopping: bool,
    pub now: DateTime<Utc>,
}

/// What the storefront must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Up,
    Down,
}

/// A sale as shoppers see it on the shop, read back after a write: what
/// the writer confirms its write by, whatever the shop's wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownSale {
    pub phase: SalePhase,
    pub lines: Vec<ShownLine>,
}

/// Where a sale the shop knows is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalePhase {
    /// Known to the shop, before its start: on the shop, not yet priced.
    Scheduled,
    Live,
    /// Ended on time or taken down: off the shop, as a sale it does not know.
    Ended,
}

/// One line of a sale as shoppers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownLine {
    pub sku: Sku,
    /// The price a shopper pays now.
    pub shown: Money,
    /// The regular price, struck through while the sale applies.
    pub regular: Money,
    pub sale_applies: bool,
}

impl ShownSale {
    /// What the shop shows of the sale: up unless ended. A scheduled sale
    /// counts as up, as it is on the shop and will switch by itself.
    pub fn shown(&self) -> Shown {
        match self.phase {
            SalePhase::Scheduled | SalePhase::Live => Shown::Up,
            SalePhase::Ended => Shown::Down,
        }
    }
}

/// What a read-back says is shown: an unknown sale is down.
pub fn shown(sale: Option<&ShownSale>) -> Shown {
    sale.map_or(Shown::Down, ShownSale::shown)
}

/// What a publish job does, decided right before its PUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishDecision {
    /// Put it up; `late` is how long after its start (zero when on time).
    Publish { late: Duration },
    /// Already live: a re-run after the change committed.
    AlreadyLive,
    /// Its window passed while it was approved and not yet up.
    Missed,
    /// It is no longer approved (revoked, cancelled, failed, ...).
    NotApproved,
}

/// What an end job does, decided right before its DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndDecision {
    /// Take it down and mark it ended.
    End,
    /// Approved and its window has passed: it never went live.
    Missed,
    /// Approved and its window still runs: the publish job comes first; try
    /// again at the end.
    NotYet,
    /// Not live and never will be: nothing to end.
    Nothing,
}

/// What a repair asked for by the reconciler does.
/// What the stage job does on a shop that schedules sales, decided inside
/// the sale's writer section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageDecision {
    /// Approved, its end ahead: hand the sale to the shop (again), which
    /// switches it on at the start by its own clock.
    Stage,
    /// No longer approved and never live: whatever was staged comes off.
    Unstage,
    /// Live, stopping or ended, or approved past its end: the publish, end
    /// and repair jobs own the sale now.
    LeaveToJobs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairDecision {
    /// Make the storefront show this (read it first; write only if it differs).
    Show(Shown),
    /// A live session whose sale must come down: that is its end job's work
    /// (it also marks the session ended), so the repair only makes sure the
    /// end job will run.
    ArmEnd,
    /// Approved before its end, or already being handled by the publish
    /// job: nothing for a repair to do.
    LeaveToPublish,
}

impl SaleFacts {
    fn past_end(&self) -> bool {
        self.now >= self.window.ends_at()
    }

    /// What the storefront must show right now.
    pub fn wanted(&self) -> Shown {
        if self.status == Status::Live && !self.stopping && !self.past_end() {
            Shown::Up
        } else {
            Shown::Down
        }
    }

    pub fn publish(&self) -> PublishDecision {
        match self.status {
            Status::Live => PublishDecision::AlreadyLive,
            Status::Approved if self.past_end() => PublishDecision::Missed,
            Status::Approved => PublishDecision::Publish {
                late: (self.now - self.window.starts_at()).max(Duration::zero()),
            },
            _ => PublishDecision::NotApproved,
        }
    }

    pub fn end(&self) -> EndDecision {
        match self.status {
            Status::Live => EndDecision::End,
            Status::Approved if self.past_end() => EndDecision::Missed,
            Status::Approved => EndDecision::NotYet,
            _ => EndDecision::Nothing,
        }
    }

    pub fn stage(&self) -> StageDecision {
        match self.status {
            Status::Approved if !self.past_end() => StageDecision::Stage,
            Status::Draft
            | Status::PendingApproval
            | Status::Cancelled
            | Status::Expired
            | Status::Failed => StageDecision::Unstage,
            Status::Approved | Status::Live | Status::Ended => StageDecision::LeaveToJobs,
        }
    }

    pub fn repair(&self) -> RepairDecision {
        match (self.status, self.wanted()) {
            (Status::Live, Shown::Down) => RepairDecision::ArmEnd,
            (Status::Approved, _) if !self.past_end() => RepairDecision::LeaveToPublish,
            (_, wanted) => RepairDecision::Show(wanted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 17, minute, second)
            .single()
            .unwrap_or_default()
    }

    /// 17:10 to 17:40.
    fn facts(status: Status, stopping: bool, now: DateTime<Utc>) -> SaleFacts {
        SaleFacts {
            status,
            window: Window::from_stored(at(10, 0), at(40, 0)),
            stopping,
            now,
        }
    }

    #[test]
    fn a_sale_is_wanted_up_only_while_live_not_stopping_and_before_its_end() {
        let cases = [
            (Status::Live, false, at(20, 0), Shown::Up),
            (Status::Live, true, at(20, 0), Shown::Down),
            (Status::Live, false, at(40, 0), Shown::Down),
            (Status::Live, false, at(39, 59), Shown::Up),
            (Status::Approved, false, at(20, 0), Shown::Down),
            (Status::Ended, false, at(20, 0), Shown::Down),
            (Status::Cancelled, false, at(20, 0), Shown::Down),
            (Status::Failed, false, at(20, 0), Shown::Down),
            (Status::Draft, false, at(20, 0), Shown::Down),
        ];
        for (status, stopping, now, wanted) in cases {
            assert_eq!(
                facts(status, stopping, now).wanted(),
                wanted,
                "{status:?} stopping={stopping} at {now}"
            );
        }
    }

    #[test]
    fn nothing_is_published_at_or_after_the_end() {
        assert_eq!(
            facts(Status::Approved, false, at(40, 0)).publish(),
            PublishDecision::Missed
        );
        assert_eq!(
            facts(Status::Approved, false, at(55, 0)).publish(),
            PublishDecision::Missed
        );
    }

    #[test]
    fn a_publish_inside_the_window_says_how_late_it_is() {
        assert_eq!(
            facts(Status::Approved, false, at(9, 59)).publish(),
            PublishDecision::Publish {
                late: Duration::zero()
            }
        );
        assert_eq!(
            facts(Status::Approved, false, at(12, 30)).publish(),
            PublishDecision::Publish {
                late: Duration::seconds(150)
            }
        );
    }

    #[test]
    fn a_publish_for_a_session_that_moved_on_does_nothing() {
        assert_eq!(
            facts(Status::Live, false, at(20, 0)).publish(),
            PublishDecision::AlreadyLive
        );
        for status in [
            Status::Draft,
            Status::PendingApproval,
            Status::Cancelled,
            Status::Failed,
            Status::Ended,
            Status::Expired,
        ] {
            assert_eq!(
                facts(status, false, at(20, 0)).publish(),
                PublishDecision::NotApproved,
                "{status:?}"
            );
        }
    }

    #[test]
    fn an_end_that_finds_the_session_still_approved_after_its_window_marks_it_missed() {
        assert_eq!(
            facts(Status::Approved, false, at(40, 0)).end(),
            EndDecision::Missed
        );
        assert_eq!(
            facts(Status::Approved, false, at(30, 0)).end(),
            EndDecision::NotYet
        );
        assert_eq!(facts(Status::Live, true, at(20, 0)).end(), EndDecision::End);
        assert_eq!(
            facts(Status::Ended, false, at(45, 0)).end(),
            EndDecision::Nothing
        );
    }

    #[test]
    fn a_repair_never_puts_up_a_stopping_ended_or_overdue_sale() {
        // Stopping, or past its end: the end job's work, never a re-publish.
        assert_eq!(
            facts(Status::Live, true, at(20, 0)).repair(),
            RepairDecision::ArmEnd
        );
        assert_eq!(
            facts(Status::Live, false, at(40, 0)).repair(),
            RepairDecision::ArmEnd
        );
        for status in [
            Status::Ended,
            Status::Cancelled,
            Status::Failed,
            Status::Draft,
        ] {
            assert_eq!(
                facts(status, false, at(20, 0)).repair(),
                RepairDecision::Show(Shown::Down),
                "{status:?}"
            );
        }
        assert_eq!(
            facts(Status::Approved, false, at(41, 0)).repair(),
            RepairDecision::Show(Shown::Down)
        );
    }

    #[test]
    fn a_sale_is_staged_only_while_approved_and_before_its_end() {
        assert_eq!(
            facts(Status::Approved, false, at(5, 0)).stage(),
            StageDecision::Stage
        );
        // A late approval inside the window is staged too: the shop shows it at once.
        assert_eq!(
            facts(Status::Approved, false, at(20, 0)).stage(),
            StageDecision::Stage
        );
        assert_eq!(
            facts(Status::Approved, false, at(40, 0)).stage(),
            StageDecision::LeaveToJobs
        );
        for status in [Status::Live, Status::Ended] {
            assert_eq!(
                facts(status, false, at(20, 0)).stage(),
                StageDecision::LeaveToJobs,
                "{status:?}"
            );
        }
        for status in [
            Status::Draft,
            Status::PendingApproval,
            Status::Cancelled,
            Status::Expired,
            Status::Failed,
        ] {
            assert_eq!(
                facts(status, false, at(5, 0)).stage(),
                StageDecision::Unstage,
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_repair_puts_back_only_a_live_sale_inside_its_window() {
        assert_eq!(
            facts(Status::Live, false, at(20, 0)).repair(),
            RepairDecision::Show(Shown::Up)
        );
        assert_eq!(
            facts(Status::Approved, false, at(20, 0)).repair(),
            RepairDecision::LeaveToPublish
        );
    }
}
