//! How the scheduler keeps time with its replicas: the poll, the lease and its
//! heartbeat, when the daily digest goes out, and how long finished work is
//! kept.
//!
//! The lease and the heartbeat are read together because one bounds the
//! other: a heartbeat as long as the lease would let a live worker's job be
//! taken from it, so the heartbeat's default and its limit are both derived
//! from the lease actually configured, and its error says which lease that is.

use std::time::Duration;

use super::env::Env;
use super::ConfigError;

pub const SCHEDULER_POLL_SECS: &str = "SCHEDULER_POLL_SECS";
pub const SCHEDULER_LEASE_SECS: &str = "SCHEDULER_LEASE_SECS";
pub const SCHEDULER_HEARTBEAT_SECS: &str = "SCHEDULER_HEARTBEAT_SECS";
pub const DAILY_DIGEST_CRON: &str = "DAILY_DIGEST_CRON";
pub const QUEUE_RETENTION_DAYS: &str = "QUEUE_RETENTION_DAYS";
pub const SOLD_OUT_CHECK_SECS: &str = "SOLD_OUT_CHECK_SECS";

#[derive(Debug)]
pub(super) struct Scheduling {
    pub(super) poll: Duration,
    pub(super) lease: Duration,
    pub(super) heartbeat: Duration,
    pub(super) daily_digest_cron: Option<String>,
    pub(super) queue_retention_days: u32,
    pub(super) sold_out_check: Duration,
}

pub(super) fn read(env: &Env<'_>) -> Result<Scheduling, ConfigError> {
    let poll = env.parse(SCHEDULER_POLL_SECS, "5", "seconds from 1 to 300", |v| {
        v.parse::<u64>().ok().filter(|n| (1..=300).contains(n))
    })?;
    let lease = env.parse(SCHEDULER_LEASE_SECS, "10", "seconds from 2 to 600", |v| {
        v.parse::<u64>().ok().filter(|n| (2..=600).contains(n))
    })?;
    let heartbeat = env.parse(
        SCHEDULER_HEARTBEAT_SECS,
        &(lease / 5).max(1).to_string(),
        &format!("seconds from 1 to less than {SCHEDULER_LEASE_SECS} ({lease})"),
        |v| v.parse::<u64>().ok().filter(|n| (1..lease).contains(n)),
    )?;
    let daily_digest_cron = daily_digest_cron(env)?;
    let queue_retention_days = env.parse(
        QUEUE_RETENTION_DAYS,
        &crate::app::DEFAULT_QUEUE_RETENTION_DAYS.to_string(),
        "a whole number of days from 1 to 3650",
        |v| v.parse::<u32>().ok().filter(|n| (1..=3650).contains(n)),
    )?;
    // Only a shop that does not cap the flash quantity is watched (Medusa):
    // a line can oversell by what sells in this time, and each round costs
    // the shop one count of the window's orders per session.
    let sold_out_check = env.parse(SOLD_OUT_CHECK_SECS, "2", "seconds from 1 to 60", |v| {
        v.parse::<u64>().ok().filter(|n| (1..=60).contains(n))
    })?;
    Ok(Scheduling {
        sold_out_check: Duration::from_secs(sold_out_check),
        poll: Duration::from_secs(poll),
        lease: Duration::from_secs(lease),
        heartbeat: Duration::from_secs(heartbeat),
        daily_digest_cron,
        queue_retention_days,
    })
}

/// Six fields, seconds first, as the digest's scheduler (tokio-cron-scheduler)
/// reads them; the usual mistake, a five-field line from crontab, is caught
/// here at start-up.
fn daily_digest_cron(env: &Env<'_>) -> Result<Option<String>, ConfigError> {
    match env.optional(DAILY_DIGEST_CRON) {
        None => Ok(Some("0 0 9 * * *".to_owned())),
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        Some(cron) if cron.split_whitespace().count() == 6 => Ok(Some(cron)),
        Some(cron) => Err(ConfigError::Invalid {
            var: DAILY_DIGEST_CRON,
            value: cron,
            expected: "six cron fields with seconds, e.g. \"0 0 9 * * *\", or off".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn the_heartbeat_is_a_fifth_of_the_lease_and_must_stay_under_it() {
        let s = read_with(&[], read).unwrap();
        assert_eq!((s.poll, s.lease, s.heartbeat), (secs(5), secs(10), secs(2)));
        let s = read_with(&[(SCHEDULER_LEASE_SECS, "60")], read).unwrap();
        assert_eq!(s.heartbeat, secs(12));
        let err = read_with(
            &[(SCHEDULER_LEASE_SECS, "4"), (SCHEDULER_HEARTBEAT_SECS, "4")],
            read,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SCHEDULER_HEARTBEAT_SECS=\"4\" is not valid: expected seconds from 1 to less than SCHEDULER_LEASE_SECS (4)."
        );
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn sold_out_is_checked_every_two_seconds_unless_told_from_one_to_sixty() {
        let check = |value| read_with(&[(SOLD_OUT_CHECK_SECS, value)], read);
        assert_eq!(check("").unwrap().sold_out_check, secs(2));
        assert_eq!(check("1").unwrap().sold_out_check, secs(1));
        assert_eq!(check("60").unwrap().sold_out_check, secs(60));
        for wrong in ["0", "61", "1.5"] {
            let err = check(wrong).unwrap_err().to_string();
            assert!(err.contains("seconds from 1 to 60"), "{err}");
        }
    }

    #[test]
    fn the_daily_digest_can_be_switched_off_and_needs_six_fields() {
        let cron = |value| read_with(&[(DAILY_DIGEST_CRON, value)], read);
        assert_eq!(
            cron("").unwrap().daily_digest_cron.as_deref(),
            Some("0 0 9 * * *")
        );
        assert_eq!(cron("off").unwrap().daily_digest_cron, None);
        let err = cron("0 9 * * *").unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: DAILY_DIGEST_CRON,
                ..
            }
        ));
    }

    #[test]
    fn finished_jobs_and_posts_are_kept_thirty_days_unless_told_otherwise() {
        let days = |value| read_with(&[(QUEUE_RETENTION_DAYS, value)], read);
        assert_eq!(days("").unwrap().queue_retention_days, 30);
        assert_eq!(days("90").unwrap().queue_retention_days, 90);
        for bad in ["0", "-1", "3651", "30d"] {
            let err = days(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("QUEUE_RETENTION_DAYS={bad:?} is not valid: expected a whole number of days from 1 to 3650."),
            );
        }
    }
}
