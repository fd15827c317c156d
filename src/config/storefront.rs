//! How the bot reaches the storefront it publishes to: its URL, the secret
//! that signs publish and end calls, and how long one call may take.
//!
//! The URL is shared with the catalog (it lives at the same storefront), but
//! it is read here because publishing is what cannot work without it. The
//! secret is optional so that a bot that only drafts can run; when set it
//! must look like a Standard Webhooks secret, since a pasted password would
//! otherwise sign every call with the wrong key and fail only at go-live.

use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::env::Env;
use super::ConfigError;

pub const STOREFRONT_URL: &str = "STOREFRONT_URL";
pub const STOREFRONT_WEBHOOK_SECRET: &str = "STOREFRONT_WEBHOOK_SECRET";
pub const STOREFRONT_TIMEOUT_MS: &str = "STOREFRONT_TIMEOUT_MS";

#[derive(Debug)]
pub(super) struct Storefront {
    pub(super) url: Url,
    pub(super) webhook_secret: Option<SecretString>,
    pub(super) timeout: Duration,
}

pub(super) fn read(env: &Env<'_>) -> Result<Storefront, ConfigError> {
    let url = env.parse(
        STOREFRONT_URL,
        "http://127.0.0.1:8088",
        "an http(s) URL",
        |v| {
            Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
        },
    )?;
    let webhook_secret = env.optional(STOREFRONT_WEBHOOK_SECRET);
    if let Some(secret) = &webhook_secret {
        if !secret.starts_with("whsec_") {
            return Err(ConfigError::Invalid {
                var: STOREFRONT_WEBHOOK_SECRET,
                value: "(hidden)".to_owned(),
                expected: "a Standard Webhooks secret starting with whsec_".to_owned(),
            });
        }
    }
    let timeout = env.parse(
        STOREFRONT_TIMEOUT_MS,
        "5000",
        "milliseconds from 100 to 60000",
        |v| v.parse::<u64>().ok().filter(|n| (100..=60_000).contains(n)),
    )?;
    Ok(Storefront {
        url,
        webhook_secret: webhook_secret.map(SecretString::from),
        timeout: Duration::from_millis(timeout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn the_dev_storefront_on_loopback_is_the_default() {
        let storefront = read_with(&[], read).unwrap();
        assert_eq!(storefront.url.as_str(), "http://127.0.0.1:8088/");
        assert!(storefront.webhook_secret.is_none());
        assert_eq!(storefront.timeout, Duration::from_millis(5000));
        let err = read_with(&[(STOREFRONT_URL, "ftp://shop")], read).unwrap_err();
        assert_eq!(
            err.to_string(),
            "STOREFRONT_URL=\"ftp://shop\" is not valid: expected an http(s) URL."
        );
    }

    #[test]
    fn a_webhook_secret_must_look_like_one() {
        let err = read_with(&[(STOREFRONT_WEBHOOK_SECRET, "hunter2")], read).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: STOREFRONT_WEBHOOK_SECRET,
                ..
            }
        ));
        assert!(!err.to_string().contains("hunter2"));
        let storefront = read_with(&[(STOREFRONT_WEBHOOK_SECRET, "whsec_c2VjcmV0")], read).unwrap();
        assert!(!format!("{storefront:?}").contains("c2VjcmV0"));
    }
}
