//! When, on this process's own clock, the database clock will show a given
//! time: how a publish sends its PUT on the dot.
//!
//! Due times are the database clock's (`crate::clock`), but a process can
//! only sleep on its own. A claim says how far away its due time is, read
//! inside the claiming statement; the answer then spends the commit and the
//! trip back in transit, and taking the reading as made when the answer
//! arrives makes the job late by all of that: tens of milliseconds when
//! editors keep the database busy, as the go-live bench measured. So a job
//! that must act on the dot reads the database clock again a few times with
//! the lightest statement there is and keeps the reading whose round trip was
//! shortest. A reading is placed at the moment its answer arrived, which
//! errs late by at most its round trip and never early: the sale never goes
//! up before its start.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::store::{self, PgPool};

/// Readings taken; the one with the shortest round trip is kept.
const READINGS: usize = 3;

/// The local instant at which the database clock shows `at`, no earlier than
/// the truth and at most the best reading's round trip later; never later
/// than `bound`, an estimate already known not to be early (the claim's).
/// Without a reading (the database is out), `bound`.
pub(super) async fn local_instant_of(pool: &PgPool, at: DateTime<Utc>, bound: Instant) -> Instant {
    let mut best: Option<(Duration, Instant, DateTime<Utc>)> = None;
    for _ in 0..READINGS {
        let sent = Instant::now();
        let Ok(reading) = store::db_clock_reading(pool).await else {
            break;
        };
        let arrived = Instant::now();
        let trip = arrived - sent;
        if best.is_none_or(|(shortest, _, _)| trip < shortest) {
            best = Some((trip, arrived, reading));
        }
    }
    match best {
        Some((_, arrived, reading)) => place(arrived, reading, at).min(bound),
        None => bound,
    }
}

/// `at` on the local clock, given that the database clock read `reading` at
/// the local instant `arrived`.
fn place(arrived: Instant, reading: DateTime<Utc>, at: DateTime<Utc>) -> Instant {
    match (at - reading).to_std() {
        Ok(ahead) => arrived + ahead,
        // Already past by the database clock: act now.
        Err(_) => arrived,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any database reading will do; a fixed one keeps the wall clock out.
    fn reading() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn a_time_ahead_of_the_reading_lands_that_far_after_its_arrival() {
        let arrived = Instant::now();
        let reading = reading();
        let at = reading + chrono::Duration::milliseconds(480);
        assert_eq!(
            place(arrived, reading, at),
            arrived + Duration::from_millis(480)
        );
    }

    #[test]
    fn a_time_already_past_by_the_database_clock_is_now() {
        let arrived = Instant::now();
        let reading = reading();
        let at = reading - chrono::Duration::milliseconds(5);
        assert_eq!(place(arrived, reading, at), arrived);
    }
}
