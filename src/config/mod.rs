//! Typed configuration, read once at start-up from the environment (and `.env`).
//!
//! Every variable is named by a constant here and documented in `.env.example`.
//! A missing or malformed value stops start-up with an error that names the
//! variable and says what is expected, instead of failing later at midnight.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use crate::domain::Policy;

mod catalog;
mod chat;
mod database;
mod discord;
mod env;
mod policy;
mod slack;
mod storefront;

pub use catalog::{CATALOG_CACHE_TTL_SECS, CATALOG_TIMEOUT_MS};
pub use database::{DATABASE_MAX_CONNECTIONS, DATABASE_URL};
pub use policy::{
    ALLOW_SELF_APPROVAL, APPROVAL_CUTOFF_MINUTES, BUSINESS_TIME_ZONE, CURRENCY, HEADS_UP_MINUTES,
    MAX_SESSION_HOURS, MIN_LEAD_MINUTES, REMINDER_OFFSETS, SKU_MAX_LEN, SKU_PATTERN,
};
pub use storefront::{STOREFRONT_TIMEOUT_MS, STOREFRONT_URL, STOREFRONT_WEBHOOK_SECRET};

pub use chat::{ChatPlatform, CHAT};
pub use discord::{
    DiscordConfig, DISCORD_ANNOUNCEMENTS_CHANNEL_ID, DISCORD_API_BASE,
    DISCORD_APPROVALS_CHANNEL_ID, DISCORD_APPROVER_ROLE_ID, DISCORD_EDITOR_ROLE_ID,
    DISCORD_GUILD_ID, DISCORD_REGISTER_GLOBALLY, DISCORD_TOKEN,
};
pub use slack::{
    SlackConfig, SLACK_ANNOUNCEMENTS_CHANNEL_ID, SLACK_API_BASE, SLACK_APPROVALS_CHANNEL_ID,
    SLACK_APPROVER_GROUP_ID, SLACK_APPROVER_USER_IDS, SLACK_APP_TOKEN, SLACK_BOT_TOKEN,
    SLACK_EDITOR_GROUP_ID, SLACK_EDITOR_USER_IDS,
};

use env::Env;

pub const LOG_FORMAT: &str = "LOG_FORMAT";
pub const DAILY_DIGEST_CRON: &str = "DAILY_DIGEST_CRON";
pub const QUEUE_RETENTION_DAYS: &str = "QUEUE_RETENTION_DAYS";
pub const SCHEDULER_POLL_SECS: &str = "SCHEDULER_POLL_SECS";
pub const SCHEDULER_LEASE_SECS: &str = "SCHEDULER_LEASE_SECS";
pub const SCHEDULER_HEARTBEAT_SECS: &str = "SCHEDULER_HEARTBEAT_SECS";
pub const HTTP_ADDR: &str = "HTTP_ADDR";
pub const PICTURE_FONT_DIR: &str = "PICTURE_FONT_DIR";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not set: expected {expected}.")]
    Missing {
        var: &'static str,
        expected: &'static str,
    },
    #[error("{var}={value:?} is not valid: expected {expected}.")]
    Invalid {
        var: &'static str,
        value: String,
        expected: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// May hold a password, so it never prints.
    pub database_url: SecretString,
    /// The pool's size. Postgres does the work of every use case, so more
    /// connections than it has cores to run them only makes them queue there.
    pub database_max_connections: u32,
    /// Base URL of the storefront; the catalog lives there too.
    pub storefront_url: Url,
    pub catalog_timeout: Duration,
    /// How long a catalog answer may be reused while editing (approval always asks live).
    pub catalog_cache_ttl: Duration,
    pub log_format: LogFormat,
    pub policy: Policy,
    /// Signs publish and end calls to the storefront (Standard Webhooks, `whsec_...`).
    pub storefront_webhook_secret: Option<SecretString>,
    /// How long one publish or end call may take before it counts as failed.
    pub storefront_timeout: Duration,
    /// The scheduler's backstop poll; LISTEN/NOTIFY wakes it earlier.
    pub scheduler_poll: Duration,
    /// How long a claimed job (or outbox post) stays with its worker without a
    /// heartbeat: a dead worker's job is taken over within this.
    pub scheduler_lease: Duration,
    /// How often a running job renews its lease; shorter than the lease.
    pub scheduler_heartbeat: Duration,
    /// Six-field cron (with seconds) in the business time zone, or `None` for no digest.
    pub daily_digest_cron: Option<String>,
    /// How many days finished jobs and delivered (or refused) posts of a
    /// settled session are kept before the daily housekeeping deletes them
    /// (`store::housekeeping`).
    pub queue_retention_days: u32,
    /// Present when `DISCORD_TOKEN` is set: the bot then runs in Discord.
    pub discord: Option<DiscordConfig>,
    /// Present when `SLACK_BOT_TOKEN` is set.
    pub slack: Option<SlackConfig>,
    /// The platform `flashsale-bot run` joins: `CHAT`, or the only one configured.
    /// `None` when neither is configured.
    pub chat: Option<ChatPlatform>,
    /// Where `/healthz`, `/readyz` and `/metrics` listen; `None` when `HTTP_ADDR=off`.
    pub http_addr: Option<SocketAddr>,
    /// The DejaVu fonts the cards' pictures are drawn with; elsewhere than Debian they live elsewhere.
    pub picture_font_dir: PathBuf,
}

impl Config {
    /// Reads the process environment (call `dotenvy::dotenv()` first to include `.env`).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env::new(&lookup);
        let database = database::read(&env)?;
        let storefront = storefront::read(&env)?;
        let catalog = catalog::read(&env)?;
        let policy = policy::read(&env)?;
        let log_format = env.parse(LOG_FORMAT, "text", "text or json", |v| {
            match v.to_ascii_lowercase().as_str() {
                "text" => Some(LogFormat::Text),
                "json" => Some(LogFormat::Json),
                _ => None,
            }
        })?;

        let discord = discord::read(&env)?;
        let slack = slack::read(&env)?;
        let chat = chat::read(&env, discord.is_some(), slack.is_some())?;
        let scheduler_poll = env.parse(SCHEDULER_POLL_SECS, "5", "seconds from 1 to 300", |v| {
            v.parse::<u64>().ok().filter(|n| (1..=300).contains(n))
        })?;
        let scheduler_lease =
            env.parse(SCHEDULER_LEASE_SECS, "10", "seconds from 2 to 600", |v| {
                v.parse::<u64>().ok().filter(|n| (2..=600).contains(n))
            })?;
        let heartbeat_expected =
            format!("seconds from 1 to less than {SCHEDULER_LEASE_SECS} ({scheduler_lease})");
        let heartbeat_default = (scheduler_lease / 5).max(1).to_string();
        let scheduler_heartbeat = env.parse(
            SCHEDULER_HEARTBEAT_SECS,
            &heartbeat_default,
            &heartbeat_expected,
            |v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| (1..scheduler_lease).contains(n))
            },
        )?;
        let daily_digest_cron = match env.optional(DAILY_DIGEST_CRON) {
            None => Some("0 0 9 * * *".to_owned()),
            Some(off) if off.eq_ignore_ascii_case("off") => None,
            Some(cron) if cron.split_whitespace().count() == 6 => Some(cron),
            Some(cron) => {
                return Err(ConfigError::Invalid {
                    var: DAILY_DIGEST_CRON,
                    value: cron,
                    expected: "six cron fields with seconds, e.g. \"0 0 9 * * *\", or off"
                        .to_owned(),
                })
            }
        };

        let queue_retention_days = env.parse(
            QUEUE_RETENTION_DAYS,
            &crate::app::DEFAULT_QUEUE_RETENTION_DAYS.to_string(),
            "a whole number of days from 1 to 3650",
            |v| v.parse::<u32>().ok().filter(|n| (1..=3650).contains(n)),
        )?;

        let http_addr = match env.optional(HTTP_ADDR) {
            Some(off) if off.eq_ignore_ascii_case("off") => None,
            value => {
                let value = value.unwrap_or_else(|| "127.0.0.1:9090".to_owned());
                let expected = "an IP address and port such as 127.0.0.1:9090, or off";
                Some(
                    value
                        .parse::<SocketAddr>()
                        .map_err(|_| ConfigError::Invalid {
                            var: HTTP_ADDR,
                            value,
                            expected: expected.to_owned(),
                        })?,
                )
            }
        };

        let picture_font_dir = PathBuf::from(
            env.optional(PICTURE_FONT_DIR)
                .unwrap_or_else(|| crate::render::DEFAULT_FONT_DIR.to_owned()),
        );

        Ok(Config {
            database_url: database.url,
            database_max_connections: database.max_connections,
            storefront_url: storefront.url,
            storefront_webhook_secret: storefront.webhook_secret,
            storefront_timeout: storefront.timeout,
            catalog_timeout: catalog.timeout,
            catalog_cache_ttl: catalog.cache_ttl,
            policy,
            log_format,
            http_addr,
            picture_font_dir,
            scheduler_poll: Duration::from_secs(scheduler_poll),
            scheduler_lease: Duration::from_secs(scheduler_lease),
            scheduler_heartbeat: Duration::from_secs(scheduler_heartbeat),
            daily_digest_cron,
            queue_retention_days,
            discord,
            slack,
            chat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    const DB: (&str, &str) = (DATABASE_URL, "postgres://postgres@127.0.0.1:5432/flashsale");

    #[test]
    fn defaults_apply_when_only_the_database_is_set() {
        let c = config(&[DB]).unwrap();
        assert_eq!(c.policy.time_zone, chrono_tz::Asia::Jakarta);
        assert_eq!(c.policy.currency.code(), "IDR");
        assert_eq!(c.policy.approval_cutoff, chrono::Duration::minutes(60));
        assert!(c.policy.four_eyes);
        assert_eq!(c.storefront_url.as_str(), "http://127.0.0.1:8088/");
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.database_max_connections, 10);
    }

    #[test]
    fn the_daily_digest_can_be_switched_off_and_needs_six_fields() {
        assert_eq!(
            config(&[DB]).unwrap().daily_digest_cron.as_deref(),
            Some("0 0 9 * * *")
        );
        assert_eq!(
            config(&[DB, (DAILY_DIGEST_CRON, "off")])
                .unwrap()
                .daily_digest_cron,
            None
        );
        let err = config(&[DB, (DAILY_DIGEST_CRON, "0 9 * * *")]).unwrap_err();
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
        assert_eq!(config(&[DB]).unwrap().queue_retention_days, 30);
        assert_eq!(
            config(&[DB, (QUEUE_RETENTION_DAYS, "90")])
                .unwrap()
                .queue_retention_days,
            90
        );
        for bad in ["0", "-1", "3651", "30d"] {
            let err = config(&[DB, (QUEUE_RETENTION_DAYS, bad)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("QUEUE_RETENTION_DAYS={bad:?} is not valid: expected a whole number of days from 1 to 3650."),
            );
        }
    }

    /// The chat part decides from what the platform parts read, so this one
    /// is checked on the composed configuration.
    #[test]
    fn the_platform_is_the_one_configured_or_the_one_chat_names() {
        let chat = |parts: &[&[(&str, &str)]]| config(&[&[DB][..], &parts.concat()].concat());
        let both = [&discord::FULL[..], &slack::FULL];
        assert_eq!(chat(&[]).unwrap().chat, None);
        assert_eq!(
            chat(&[&slack::FULL]).unwrap().chat,
            Some(ChatPlatform::Slack)
        );
        assert_eq!(
            chat(&[&discord::FULL]).unwrap().chat,
            Some(ChatPlatform::Discord)
        );
        assert_eq!(
            chat(&[&both.concat(), &[(CHAT, "slack")]]).unwrap().chat,
            Some(ChatPlatform::Slack)
        );
        assert_eq!(
            chat(&[&both.concat(), &[(CHAT, "discord")]]).unwrap().chat,
            Some(ChatPlatform::Discord)
        );
        assert!(chat(&both).is_err(), "both configured and no CHAT");
    }
}
