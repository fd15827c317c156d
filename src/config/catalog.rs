//! How patiently the bot asks the catalog, and how long it may reuse an answer.
//!
//! Both bound what an editor waits for: a slow catalog is reported as
//! unavailable rather than holding a command open, and a short cache spares
//! it the same question while a session is being edited. Approval never uses
//! the cache (`catalog::cache`), so a long one cannot approve stale prices.

use std::time::Duration;

use super::env::Env;
use super::ConfigError;

pub const CATALOG_TIMEOUT_MS: &str = "CATALOG_TIMEOUT_MS";
pub const CATALOG_CACHE_TTL_SECS: &str = "CATALOG_CACHE_TTL_SECS";

#[derive(Debug)]
pub(super) struct Catalog {
    pub(super) timeout: Duration,
    pub(super) cache_ttl: Duration,
}

pub(super) fn read(env: &Env<'_>) -> Result<Catalog, ConfigError> {
    let timeout = env.parse(
        CATALOG_TIMEOUT_MS,
        "2000",
        "milliseconds from 50 to 60000",
        |v| v.parse::<u64>().ok().filter(|n| (50..=60_000).contains(n)),
    )?;
    let cache_ttl = env.parse(
        CATALOG_CACHE_TTL_SECS,
        "10",
        "seconds from 0 to 3600",
        |v| v.parse::<u64>().ok().filter(|n| *n <= 3600),
    )?;
    Ok(Catalog {
        timeout: Duration::from_millis(timeout),
        cache_ttl: Duration::from_secs(cache_ttl),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn two_seconds_to_answer_and_ten_of_reuse_unless_told_otherwise() {
        let catalog = read_with(&[], read).unwrap();
        assert_eq!(catalog.timeout, Duration::from_millis(2000));
        assert_eq!(catalog.cache_ttl, Duration::from_secs(10));
        let catalog = read_with(&[(CATALOG_CACHE_TTL_SECS, "0")], read).unwrap();
        assert_eq!(catalog.cache_ttl, Duration::ZERO, "0 turns the cache off");
        let err = read_with(&[(CATALOG_TIMEOUT_MS, "49")], read).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CATALOG_TIMEOUT_MS=\"49\" is not valid: expected milliseconds from 50 to 60000."
        );
    }
}
