//! Where "now" comes from, and which "now" decides what.
//!
//! Two clocks, each the authority for its own questions:
//!
//! - **The database's `now()`** decides everything the scheduler does: which
//!   jobs are due, leases and their expiry, fencing, how long to sleep until
//!   the next job, whether a retry still fits in a sale's window, and any due
//!   time a command sets for the scheduler (`stop` moves the end job to the
//!   database's now). Every replica asks the same server, so replicas whose
//!   clocks drift still agree. These questions are asked in SQL (`store::jobs`)
//!   or through `store::db_now`.
//! - **The app's [`Clock`]** decides the rules checked at the moment a person
//!   acts: the minimum lead time, the approval deadline, "is it still
//!   editable", which reminders still lie ahead, and the relative times shown
//!   in replies. It is injected so tests can move it across a deadline; in
//!   production it is [`SystemClock`], which reads the same instant as the
//!   database server (both follow the host's synchronised time).
//!
//! Nothing else reads the wall clock, except to measure elapsed time (metrics,
//! timeouts) with `Instant`, and the webhook signature's timestamp, which is
//! the sender's wall clock by definition (`SystemClock` again).

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// The time the app's rules are checked against.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The host's clock: production's `Clock`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // The one place the product reads the wall clock (see the module doc).
        Utc::now()
    }
}

/// A clock that only moves when told to: tests move it across deadlines
/// instead of sleeping.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(now: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(now))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
