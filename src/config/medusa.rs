//! How the bot reaches a Medusa store (`crate::medusa`): the `MEDUSA_*`
//! variables, read only when the shop is a Medusa store.
//!
//! Every id is checked for the prefix Medusa gives it (`sk_`, `pk_`, `reg_`),
//! because the likeliest mistake is a key pasted into the wrong variable (the
//! publishable key for the secret one), which would otherwise fail only at
//! the first publish, as a 401 in front of approvers. The secret key is never
//! echoed back, not even in the refusal.

use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::env::Env;
use super::ConfigError;
use crate::medusa::{valid_key_prefix, MedusaSettings};

pub const MEDUSA_URL: &str = "MEDUSA_URL";
pub const MEDUSA_SECRET_API_KEY: &str = "MEDUSA_SECRET_API_KEY";
pub const MEDUSA_PUBLISHABLE_API_KEY: &str = "MEDUSA_PUBLISHABLE_API_KEY";
pub const MEDUSA_REGION_ID: &str = "MEDUSA_REGION_ID";
pub const MEDUSA_KEY_PREFIX: &str = "MEDUSA_KEY_PREFIX";
pub const MEDUSA_TIMEOUT_MS: &str = "MEDUSA_TIMEOUT_MS";

/// Reads the Medusa settings through `lookup` (the process environment is
/// `|var| std::env::var(var).ok()`); the first missing or invalid variable
/// stops it, named in the error, as everywhere in `config`.
pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<MedusaSettings, ConfigError> {
    read_env(&Env::new(&lookup))
}

/// The same, for composing into [`super::Config`].
pub(super) fn read_env(env: &Env<'_>) -> Result<MedusaSettings, ConfigError> {
    let raw_url = env.required(
        MEDUSA_URL,
        "the Medusa server's http(s) URL, e.g. https://shop.example.com",
    )?;
    let url = Url::parse(&raw_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
        .ok_or_else(|| ConfigError::Invalid {
            var: MEDUSA_URL,
            value: raw_url,
            expected: "an http(s) URL".to_owned(),
        })?;
    let secret = env.required(
        MEDUSA_SECRET_API_KEY,
        "a Medusa secret API key (sk_...), made under Settings > Secret API Keys",
    )?;
    if !secret.starts_with("sk_") {
        return Err(ConfigError::Invalid {
            var: MEDUSA_SECRET_API_KEY,
            value: "(hidden)".to_owned(),
            expected: "a secret API key starting with sk_".to_owned(),
        });
    }
    let publishable = prefixed(
        env,
        MEDUSA_PUBLISHABLE_API_KEY,
        "pk_",
        "a Medusa publishable API key (pk_...) linked to the shop's sales channel",
    )?;
    let region_id = prefixed(
        env,
        MEDUSA_REGION_ID,
        "reg_",
        "the id of the Medusa region the sales are priced in (reg_...)",
    )?;
    let key_prefix = env.parse(
        MEDUSA_KEY_PREFIX,
        "flashsale",
        "1-40 letters, digits, '.', '_' or '-'",
        |v| valid_key_prefix(v).then(|| v.to_owned()),
    )?;
    let timeout = env.parse(
        MEDUSA_TIMEOUT_MS,
        "5000",
        "milliseconds from 100 to 60000",
        |v| v.parse::<u64>().ok().filter(|n| (100..=60_000).contains(n)),
    )?;
    Ok(MedusaSettings {
        url,
        secret_api_key: SecretString::from(secret),
        publishable_api_key: publishable,
        region_id,
        key_prefix,
        timeout: Duration::from_millis(timeout),
    })
}

/// A required value that must start with Medusa's `prefix` for its kind.
fn prefixed(
    env: &Env<'_>,
    var: &'static str,
    prefix: &str,
    expected: &'static str,
) -> Result<String, ConfigError> {
    let value = env.required(var, expected)?;
    if value.starts_with(prefix) && value.len() > prefix.len() {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            var,
            value,
            expected: format!("a value starting with {prefix}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;
    use secrecy::ExposeSecret;

    const FULL: [(&str, &str); 4] = [
        (MEDUSA_URL, "http://127.0.0.1:9000"),
        (MEDUSA_SECRET_API_KEY, "sk_0123abcd"),
        (MEDUSA_PUBLISHABLE_API_KEY, "pk_4567efgh"),
        (MEDUSA_REGION_ID, "reg_01ABC"),
    ];

    fn with(changes: &[(&'static str, &'static str)]) -> Result<MedusaSettings, ConfigError> {
        read_with(&[&FULL[..], changes].concat(), read_env)
    }

    #[test]
    fn the_four_required_values_and_the_defaults() {
        let settings = with(&[]).unwrap();
        assert_eq!(settings.url.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(settings.secret_api_key.expose_secret(), "sk_0123abcd");
        assert_eq!(settings.publishable_api_key, "pk_4567efgh");
        assert_eq!(settings.region_id, "reg_01ABC");
        assert_eq!(settings.key_prefix, "flashsale");
        assert_eq!(settings.timeout, Duration::from_millis(5000));
        let set = with(&[(MEDUSA_KEY_PREFIX, "shop-a"), (MEDUSA_TIMEOUT_MS, "2500")]).unwrap();
        assert_eq!(
            (set.key_prefix.as_str(), set.timeout),
            ("shop-a", Duration::from_millis(2500))
        );
    }

    #[test]
    fn each_missing_variable_is_named_with_what_to_set() {
        for (var, _) in FULL {
            // Blank counts as unset, as in a real .env.
            let err = with(&[(var, " ")]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Missing { var: named, .. } if named == var),
                "{var}: {err:?}"
            );
            assert!(err
                .to_string()
                .starts_with(&format!("{var} is not set: expected ")));
        }
        let err = read_with(&[], read_env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "MEDUSA_URL is not set: expected the Medusa server's http(s) URL, e.g. https://shop.example.com."
        );
    }

    #[test]
    fn each_invalid_variable_is_named_with_what_is_allowed() {
        let cases: &[(&'static str, &'static str, &str)] = &[
            (MEDUSA_URL, "ftp://shop", "MEDUSA_URL=\"ftp://shop\" is not valid: expected an http(s) URL."),
            (MEDUSA_URL, "shop.example.com", "MEDUSA_URL=\"shop.example.com\" is not valid: expected an http(s) URL."),
            (
                MEDUSA_SECRET_API_KEY,
                "pk_pasted_into_the_wrong_one",
                "MEDUSA_SECRET_API_KEY=\"(hidden)\" is not valid: expected a secret API key starting with sk_.",
            ),
            (
                MEDUSA_PUBLISHABLE_API_KEY,
                "sk_0123abcd",
                "MEDUSA_PUBLISHABLE_API_KEY=\"sk_0123abcd\" is not valid: expected a value starting with pk_.",
            ),
            (
                MEDUSA_REGION_ID,
                "Indonesia",
                "MEDUSA_REGION_ID=\"Indonesia\" is not valid: expected a value starting with reg_.",
            ),
            (
                MEDUSA_KEY_PREFIX,
                "bot one",
                "MEDUSA_KEY_PREFIX=\"bot one\" is not valid: expected 1-40 letters, digits, '.', '_' or '-'.",
            ),
            (
                MEDUSA_TIMEOUT_MS,
                "50",
                "MEDUSA_TIMEOUT_MS=\"50\" is not valid: expected milliseconds from 100 to 60000.",
            ),
        ];
        for (var, value, message) in cases {
            let err = with(&[(var, value)]).unwrap_err();
            assert_eq!(err.to_string(), *message, "{var}={value}");
        }
    }

    #[test]
    fn the_secret_key_never_prints() {
        let settings = with(&[]).unwrap();
        assert!(!format!("{settings:?}").contains("sk_0123abcd"));
        let err = with(&[(MEDUSA_SECRET_API_KEY, "hunter2")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
