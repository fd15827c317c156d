//! How long to wait before trying a failed storefront call again.

use std::time::Duration;

/// Exponential backoff with "equal jitter": attempt 1 waits `base`, each next
/// attempt doubles it up to `cap`, and half of the wait is random so that
/// replicas (and bots of other teams) hitting the same outage spread out.
/// `jitter` is a number in [0, 1], random in production and fixed in tests.
pub fn delay(attempt: i32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let full = base.saturating_mul(2u32.saturating_pow(exponent)).min(cap);
    let half = full / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

/// The wait for `attempt`: what the storefront asked for (`Retry-After`) when
/// it said, otherwise the backoff.
pub fn next_wait(
    attempt: i32,
    retry_after: Option<Duration>,
    base: Duration,
    cap: Duration,
) -> Duration {
    match retry_after {
        Some(asked) => asked,
        None => delay(attempt, base, cap, rand::random::<f64>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(1);
    const CAP: Duration = Duration::from_secs(60);

    #[test]
    fn the_wait_doubles_per_attempt_up_to_the_cap() {
        let full: Vec<u64> = (1..=9)
            .map(|a| delay(a, BASE, CAP, 1.0).as_secs())
            .collect();
        assert_eq!(full, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn jitter_keeps_at_least_half_of_the_wait() {
        assert_eq!(delay(4, BASE, CAP, 0.0), Duration::from_secs(4));
        assert_eq!(delay(4, BASE, CAP, 0.5), Duration::from_secs(6));
        assert_eq!(
            delay(4, BASE, CAP, 7.0),
            Duration::from_secs(8),
            "jitter is clamped"
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        assert_eq!(
            next_wait(1, Some(Duration::from_secs(2)), BASE, CAP),
            Duration::from_secs(2)
        );
        let backoff = next_wait(3, None, BASE, CAP);
        assert!(
            backoff >= Duration::from_secs(2) && backoff <= Duration::from_secs(4),
            "{backoff:?}"
        );
    }

    #[test]
    fn absurd_attempt_numbers_do_not_overflow() {
        assert_eq!(delay(i32::MAX, BASE, CAP, 1.0), CAP);
        assert_eq!(delay(-3, BASE, CAP, 1.0), BASE);
    }
}
