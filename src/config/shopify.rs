//! How the bot reaches a Shopify store (`crate::shopify`): the `SHOPIFY_*`
//! variables, read only when the shop is a Shopify store.
//!
//! The token is checked for the prefix Shopify gives Admin API access
//! tokens of custom apps (`shpat_`): the likeliest mistake is pasting the
//! app's API key or secret instead, which would otherwise fail only at the
//! first publish, as a 401 in front of approvers. It is never echoed back.

use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::env::Env;
use super::ConfigError;
use crate::shopify::{valid_key_prefix, ShopifyMode, ShopifySettings};

pub const SHOPIFY_SHOP_URL: &str = "SHOPIFY_SHOP_URL";
pub const SHOPIFY_ACCESS_TOKEN: &str = "SHOPIFY_ACCESS_TOKEN";
pub const SHOPIFY_MODE: &str = "SHOPIFY_MODE";
pub const SHOPIFY_KEY_PREFIX: &str = "SHOPIFY_KEY_PREFIX";
pub const SHOPIFY_TIMEOUT_MS: &str = "SHOPIFY_TIMEOUT_MS";

/// Reads the Shopify settings through `lookup`.
pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<ShopifySettings, ConfigError> {
    read_env(&Env::new(&lookup))
}

/// Plain http is for a test server on this machine only: the token must
/// never cross a network in clear.
fn loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn read_env(env: &Env<'_>) -> Result<ShopifySettings, ConfigError> {
    let raw_url = env.required(
        SHOPIFY_SHOP_URL,
        "the store's admin URL, e.g. https://your-store.myshopify.com",
    )?;
    let shop_url = Url::parse(&raw_url)
        .ok()
        .filter(|u| {
            !u.cannot_be_a_base()
                && (u.scheme() == "https" || (u.scheme() == "http" && loopback(u)))
        })
        .ok_or_else(|| ConfigError::Invalid {
            var: SHOPIFY_SHOP_URL,
            value: raw_url,
            expected: "an https URL (http only on loopback)".to_owned(),
        })?;
    let token = env.required(
        SHOPIFY_ACCESS_TOKEN,
        "the custom app's Admin API access token (shpat_...)",
    )?;
    if !token.starts_with("shpat_") || token.len() <= "shpat_".len() {
        return Err(ConfigError::Invalid {
            var: SHOPIFY_ACCESS_TOKEN,
            value: "(hidden)".to_owned(),
            expected: "an Admin API access token starting with shpat_".to_owned(),
        });
    }
    let mode = env.parse(SHOPIFY_MODE, "discount", "discount or price", |v| {
        match v.trim().to_ascii_lowercase().as_str() {
            "discount" => Some(ShopifyMode::Discount),
            "price" => Some(ShopifyMode::Price),
            _ => None,
        }
    })?;
    let key_prefix = env.parse(
        SHOPIFY_KEY_PREFIX,
        "flashsale",
        "1-30 letters, digits, '_' or '-'",
        |v| valid_key_prefix(v).then(|| v.to_owned()),
    )?;
    let timeout = env.parse(
        SHOPIFY_TIMEOUT_MS,
        "10000",
        "milliseconds from 100 to 60000",
        |v| v.parse::<u64>().ok().filter(|n| (100..=60_000).contains(n)),
    )?;
    Ok(ShopifySettings {
        shop_url,
        access_token: SecretString::from(token),
        mode,
        key_prefix,
        timeout: Duration::from_millis(timeout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;
    use secrecy::ExposeSecret;

    const FULL: [(&str, &str); 2] = [
        (SHOPIFY_SHOP_URL, "https://flash.myshopify.com"),
        (SHOPIFY_ACCESS_TOKEN, "shpat_0123abcd"),
    ];

    fn with(changes: &[(&'static str, &'static str)]) -> Result<ShopifySettings, ConfigError> {
        read_with(&[&FULL[..], changes].concat(), read_env)
    }

    #[test]
    fn the_two_required_values_and_the_defaults() {
        let settings = with(&[]).unwrap();
        assert_eq!(settings.shop_url.as_str(), "https://flash.myshopify.com/");
        assert_eq!(settings.access_token.expose_secret(), "shpat_0123abcd");
        assert_eq!(settings.mode, ShopifyMode::Discount);
        assert_eq!(settings.key_prefix, "flashsale");
        assert_eq!(settings.timeout, Duration::from_millis(10_000));
        let set = with(&[(SHOPIFY_MODE, "Price"), (SHOPIFY_KEY_PREFIX, "FLASH")]).unwrap();
        assert_eq!(
            (set.mode, set.key_prefix.as_str()),
            (ShopifyMode::Price, "FLASH")
        );
        let local = with(&[(SHOPIFY_SHOP_URL, "http://127.0.0.1:8080")]);
        assert!(local.is_ok(), "{local:?}");
    }

    #[test]
    fn each_invalid_variable_is_named_with_what_is_allowed() {
        let cases: &[(&'static str, &'static str, &str)] = &[
            (SHOPIFY_SHOP_URL, "http://flash.myshopify.com", "SHOPIFY_SHOP_URL=\"http://flash.myshopify.com\" is not valid: expected an https URL (http only on loopback)."),
            (SHOPIFY_ACCESS_TOKEN, "0123secret", "SHOPIFY_ACCESS_TOKEN=\"(hidden)\" is not valid: expected an Admin API access token starting with shpat_."),
            (SHOPIFY_MODE, "both", "SHOPIFY_MODE=\"both\" is not valid: expected discount or price."),
            (SHOPIFY_KEY_PREFIX, "a.b", "SHOPIFY_KEY_PREFIX=\"a.b\" is not valid: expected 1-30 letters, digits, '_' or '-'."),
        ];
        for (var, value, message) in cases {
            let err = with(&[(var, value)]).unwrap_err();
            assert_eq!(err.to_string(), *message, "{var}={value}");
        }
        let missing = read_with(&[], read_env).unwrap_err();
        assert!(matches!(missing, ConfigError::Missing { var, .. } if var == SHOPIFY_SHOP_URL));
    }

    #[test]
    fn the_token_never_prints() {
        let settings = with(&[]).unwrap();
        assert!(!format!("{settings:?}").contains("shpat_0123abcd"));
        let err = with(&[(SHOPIFY_ACCESS_TOKEN, "hunter2")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
