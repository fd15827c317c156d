//! Which future actions a session has, given its status: the plan the jobs
//! table must hold.
//!
//! Every status change replaces the session's plan in the same transaction,
//! so "approve creates publish, end and a heads-up; revoke and cancel remove
//! them; a draft gets its reminders and its expiry" is this one function.

use std::fmt;

use chrono::{DateTime, Utc};

use super::policy::{approval_deadline, Policy};
use super::status::Status;
use super::window::Window;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// A nudge this many minutes before the approval deadline.
    Reminder {
        minutes_before: i64,
    },
    /// At the approval deadline: an unapproved session will not go live.
    Expire,
    /// Shortly before start: re-check the catalog and tell the team it is armed.
    HeadsUp,
    Publish,
    End,
    /// Asked for by the reconciler when the storefront disagrees with the
    /// database: the sale's writer looks again and repairs. Never planned.
    Repair,
    /// On a shop that schedules sales: keeps the staged sale in step with the
    /// session (staged while approved, taken off when it no longer is).
    /// Armed, due at once, by the status changes that concern it, never
    /// planned for a time (`app::system`).
    Stage,
    /// On a shop that does not cap the flash quantity: while live, counts
    /// each line's units sold and takes a sold-out line's flash price off.
    Watch,
}

impl JobKind {
    /// The name stored in `job.kind` (unique per session).
    pub fn as_stored(self) -> String {
        match self {
            JobKind::Reminder { minutes_before } => format!("reminder:{minutes_before}"),
            JobKind::Expire => "expire".to_owned(),
            JobKind::HeadsUp => "heads_up".to_owned(),
            JobKind::Publish => "publish".to_owned(),
            JobKind::End => "end".to_owned(),
            JobKind::Repair => "repair".to_owned(),
            JobKind::Stage => "stage".to_owned(),
            JobKind::Watch => "watch".to_owned(),
        }
    }

    pub fn from_stored(s: &str) -> Option<JobKind> {
        match s {
            "expire" => Some(JobKind::Expire),
            "heads_up" => Some(JobKind::HeadsUp),
            "publish" => Some(JobKind::Publish),
            "end" => Some(JobKind::End),
            "repair" => Some(JobKind::Repair),
            "stage" => Some(JobKind::Stage),
            "watch" => Some(JobKind::Watch),
            other => {
                let minutes = other.strip_prefix("reminder:")?.parse().ok()?;
                Some(JobKind::Reminder {
                    minutes_before: minutes,
                })
            }
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_stored())
    }
}

/// The jobs a session in `status` must have, with their due times. Reminders
/// and heads-ups already in the past are left out; the rest are due even if
/// slightly late (a late publish still publishes).
pub fn planned_jobs(
    status: Status,
    window: &Window,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<(JobKind, DateTime<Utc>)> {
    let deadline = approval_deadline(window.starts_at(), policy);
    let mut plan = Vec::new();
    match status {
        Status::Draft | Status::PendingApproval => {
            for offset in &policy.schedule.reminder_offsets {
                let at = deadline - *offset;
                if at > now {
                    plan.push((
                        JobKind::Reminder {
                            minutes_before: offset.num_minutes(),
                        },
                        at,
                    ));
                }
            }
            plan.push((JobKind::Expire, deadline));
        }
        Status::Approved => {
            let heads_up = window.starts_at() - policy.schedule.heads_up_lead;
            if heads_up > now {
                plan.push((JobKind::HeadsUp, heads_up));
            }
            plan.push((JobKind::Publish, window.starts_at()));
            if !policy.schedule.shop.caps_quantity {
                plan.push((JobKind::Watch, window.starts_at()));
            }
            plan.push((JobKind::End, window.ends_at()));
        }
        Status::Live => {
            if !policy.schedule.shop.caps_quantity {
                plan.push((JobKind::Watch, window.starts_at()));
            }
            plan.push((JobKind::End, window.ends_at()));
        }
        Status::Ended | Status::Expired | Status::Cancelled | Status::Failed => {}
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::tests::policy;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap()
    }

    fn window() -> Window {
        Window::from_stored(at(17, 0), at(23, 0))
    }

    fn kinds(plan: &[(JobKind, DateTime<Utc>)]) -> Vec<String> {
        plan.iter().map(|(k, _)| k.as_stored()).collect()
    }

    #[test]
    fn a_draft_gets_the_future_reminders_and_its_expiry_at_the_deadline() {
        // Deadline 16:00; at 10:00 the 24h and 6h reminders are already past.
        let plan = planned_jobs(Status::Draft, &window(), &policy(), at(10, 0));
        assert_eq!(kinds(&plan), ["reminder:60", "reminder:15", "expire"]);
        assert_eq!(plan[0].1, at(15, 0));
        assert_eq!(plan[2].1, at(16, 0));
        assert_eq!(
            plan,
            planned_jobs(Status::PendingApproval, &window(), &policy(), at(10, 0))
        );
    }

    #[test]
    fn approval_plans_heads_up_publish_and_end_and_no_more_nagging() {
        let plan = planned_jobs(Status::Approved, &window(), &policy(), at(10, 0));
        assert_eq!(
            plan,
            vec![
                (JobKind::HeadsUp, at(16, 45)),
                (JobKind::Publish, at(17, 0)),
                (JobKind::End, at(23, 0))
            ]
        );
    }

    #[test]
    fn a_live_session_only_waits_for_its_end_and_final_ones_for_nothing() {
        assert_eq!(
            planned_jobs(Status::Live, &window(), &policy(), at(17, 1)),
            vec![(JobKind::End, at(23, 0))]
        );
        for status in [
            Status::Ended,
            Status::Expired,
            Status::Cancelled,
            Status::Failed,
        ] {
            assert!(planned_jobs(status, &window(), &policy(), at(10, 0)).is_empty());
        }
    }

    #[test]
    fn a_shop_that_does_not_cap_quantities_gets_a_watch_from_the_start_while_live() {
        let mut policy = policy();
        policy.schedule.shop.caps_quantity = false;
        let approved = planned_jobs(Status::Approved, &window(), &policy, at(10, 0));
        assert_eq!(kinds(&approved), ["heads_up", "publish", "watch", "end"]);
        assert_eq!(approved[2].1, at(17, 0));
        // Going live keeps the same watch (same due time: not re-armed).
        let live = planned_jobs(Status::Live, &window(), &policy, at(17, 1));
        assert_eq!(
            live,
            vec![(JobKind::Watch, at(17, 0)), (JobKind::End, at(23, 0))]
        );
        assert!(planned_jobs(Status::Ended, &window(), &policy, at(23, 1)).is_empty());
    }

    #[test]
    fn a_late_approval_still_publishes_but_skips_the_heads_up() {
        let plan = planned_jobs(Status::Approved, &window(), &policy(), at(16, 50));
        assert_eq!(kinds(&plan), ["publish", "end"]);
    }

    #[test]
    fn stored_kind_names_round_trip() {
        for kind in [
            JobKind::Reminder {
                minutes_before: 1440,
            },
            JobKind::Expire,
            JobKind::HeadsUp,
            JobKind::Publish,
            JobKind::End,
            JobKind::Repair,
            JobKind::Stage,
            JobKind::Watch,
        ] {
            assert_eq!(JobKind::from_stored(&kind.as_stored()), Some(kind));
        }
        assert_eq!(JobKind::from_stored("reminder:x"), None);
        assert_eq!(JobKind::from_stored("dance"), None);
    }
}
