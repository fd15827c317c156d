//! Typed configuration, read once at start-up from the environment (and `.env`).
//!
//! Every variable is named by a constant here and documented in `.env.example`.
//! A missing or malformed value stops start-up with an error that names the
//! variable and says what is expected, instead of failing later at midnight.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use reqwest::Url;
use secrecy::SecretString;

use crate::domain::{Currency, Policy, SchedulePolicy, SkuRules, WindowRules};

mod chat;
mod discord;
mod env;
mod slack;

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

use env::{parse_bool, Env};

pub const DATABASE_URL: &str = "DATABASE_URL";
pub const DATABASE_MAX_CONNECTIONS: &str = "DATABASE_MAX_CONNECTIONS";
pub const STOREFRONT_URL: &str = "STOREFRONT_URL";
pub const CATALOG_TIMEOUT_MS: &str = "CATALOG_TIMEOUT_MS";
pub const CATALOG_CACHE_TTL_SECS: &str = "CATALOG_CACHE_TTL_SECS";
pub const BUSINESS_TIME_ZONE: &str = "BUSINESS_TIME_ZONE";
pub const CURRENCY: &str = "CURRENCY";
pub const SKU_PATTERN: &str = "SKU_PATTERN";
pub const SKU_MAX_LEN: &str = "SKU_MAX_LEN";
pub const APPROVAL_CUTOFF_MINUTES: &str = "APPROVAL_CUTOFF_MINUTES";
pub const MIN_LEAD_MINUTES: &str = "MIN_LEAD_MINUTES";
pub const MAX_SESSION_HOURS: &str = "MAX_SESSION_HOURS";
pub const ALLOW_SELF_APPROVAL: &str = "ALLOW_SELF_APPROVAL";
pub const LOG_FORMAT: &str = "LOG_FORMAT";
pub const STOREFRONT_WEBHOOK_SECRET: &str = "STOREFRONT_WEBHOOK_SECRET";
pub const STOREFRONT_TIMEOUT_MS: &str = "STOREFRONT_TIMEOUT_MS";
pub const REMINDER_OFFSETS: &str = "REMINDER_OFFSETS";
pub const HEADS_UP_MINUTES: &str = "HEADS_UP_MINUTES";
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
        let database_url = env.required(
            DATABASE_URL,
            "a Postgres URL such as postgres://user@host/db",
        )?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                var: DATABASE_URL,
                value: "(hidden)".to_owned(),
                expected: "a URL starting with postgres:// or postgresql://".to_owned(),
            });
        }
        let storefront_url = env.parse(
            STOREFRONT_URL,
            "http://127.0.0.1:8088",
            "an http(s) URL",
            |v| {
                Url::parse(v)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
            },
        )?;
        let time_zone = env.parse(
            BUSINESS_TIME_ZONE,
            "Asia/Jakarta",
            "an IANA time zone such as Asia/Jakarta",
            |v| v.parse::<Tz>().ok(),
        )?;
        let currency = env.parse(
            CURRENCY,
            "IDR",
            "an ISO 4217 code such as IDR or USD",
            |v| Currency::from_code(v).ok(),
        )?;
        let sku_max_len = env.parse(SKU_MAX_LEN, "40", "a whole number from 1 to 100", |v| {
            v.parse::<usize>().ok().filter(|n| (1..=100).contains(n))
        })?;
        let sku_pattern = env
            .optional(SKU_PATTERN)
            .unwrap_or_else(|| SkuRules::default().pattern().to_owned());
        let sku = SkuRules::new(&sku_pattern, sku_max_len).map_err(|e| ConfigError::Invalid {
            var: SKU_PATTERN,
            value: sku_pattern.clone(),
            expected: format!("a regular expression ({e})"),
        })?;
        let minutes = |var, default, max: i64| {
            env.parse(
                var,
                default,
                &format!("a whole number of minutes from 0 to {max}"),
                |v| v.parse::<i64>().ok().filter(|n| (0..=max).contains(n)),
            )
        };
        let approval_cutoff =
            chrono::Duration::minutes(minutes(APPROVAL_CUTOFF_MINUTES, "60", 7 * 24 * 60)?);
        let min_lead = chrono::Duration::minutes(minutes(MIN_LEAD_MINUTES, "5", 7 * 24 * 60)?);
        let max_hours = env.parse(
            MAX_SESSION_HOURS,
            "24",
            "a whole number of hours from 1 to 168",
            |v| v.parse::<i64>().ok().filter(|n| (1..=168).contains(n)),
        )?;
        let allow_self_approval =
            env.parse(ALLOW_SELF_APPROVAL, "false", "true or false", parse_bool)?;
        let catalog_timeout = env.parse(
            CATALOG_TIMEOUT_MS,
            "2000",
            "milliseconds from 50 to 60000",
            |v| v.parse::<u64>().ok().filter(|n| (50..=60_000).contains(n)),
        )?;
        let database_max_connections = env.parse(
            DATABASE_MAX_CONNECTIONS,
            "10",
            "a whole number from 2 to 200",
            |v| v.parse::<u32>().ok().filter(|n| (2..=200).contains(n)),
        )?;
        let catalog_cache_ttl = env.parse(
            CATALOG_CACHE_TTL_SECS,
            "10",
            "seconds from 0 to 3600",
            |v| v.parse::<u64>().ok().filter(|n| *n <= 3600),
        )?;
        let log_format = env.parse(LOG_FORMAT, "text", "text or json", |v| {
            match v.to_ascii_lowercase().as_str() {
                "text" => Some(LogFormat::Text),
                "json" => Some(LogFormat::Json),
                _ => None,
            }
        })?;

        let storefront_webhook_secret = env.optional(STOREFRONT_WEBHOOK_SECRET);
        if let Some(secret) = &storefront_webhook_secret {
            if !secret.starts_with("whsec_") {
                return Err(ConfigError::Invalid {
                    var: STOREFRONT_WEBHOOK_SECRET,
                    value: "(hidden)".to_owned(),
                    expected: "a Standard Webhooks secret starting with whsec_".to_owned(),
                });
            }
        }
        let discord = discord::read(&env)?;
        let slack = slack::read(&env)?;
        let chat = chat::read(&env, discord.is_some(), slack.is_some())?;

        let reminder_offsets = env.parse(
            REMINDER_OFFSETS,
            "24h,6h,1h,15m",
            "a comma-separated list of durations such as 24h,6h,1h,15m",
            parse_offsets,
        )?;
        let heads_up = minutes(HEADS_UP_MINUTES, "15", 24 * 60)?;
        let storefront_timeout = env.parse(
            STOREFRONT_TIMEOUT_MS,
            "5000",
            "milliseconds from 100 to 60000",
            |v| v.parse::<u64>().ok().filter(|n| (100..=60_000).contains(n)),
        )?;
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
            http_addr,
            picture_font_dir,
            storefront_timeout: Duration::from_millis(storefront_timeout),
            scheduler_poll: Duration::from_secs(scheduler_poll),
            scheduler_lease: Duration::from_secs(scheduler_lease),
            scheduler_heartbeat: Duration::from_secs(scheduler_heartbeat),
            daily_digest_cron,
            queue_retention_days,
            storefront_webhook_secret: storefront_webhook_secret.map(SecretString::from),
            discord,
            slack,
            chat,
            database_url: SecretString::from(database_url),
            storefront_url,
            catalog_timeout: Duration::from_millis(catalog_timeout),
            catalog_cache_ttl: Duration::from_secs(catalog_cache_ttl),
            database_max_connections,
            log_format,
            policy: Policy {
                sku,
                window: WindowRules {
                    min_lead,
                    max_duration: chrono::Duration::hours(max_hours),
                },
                approval_cutoff,
                four_eyes: !allow_self_approval,
                currency,
                time_zone,
                schedule: SchedulePolicy {
                    reminder_offsets,
                    heads_up_lead: chrono::Duration::minutes(heads_up),
                },
            },
        })
    }
}

/// `24h,6h,1h,15m` -> durations, largest first; each 1 minute to 7 days.
fn parse_offsets(v: &str) -> Option<Vec<chrono::Duration>> {
    let mut offsets = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (number, unit) = part.split_at(part.len().checked_sub(1)?);
        let n: i64 = number.trim().parse().ok()?;
        let minutes = match unit {
            "m" => n,
            "h" => n.checked_mul(60)?,
            "d" => n.checked_mul(24 * 60)?,
            _ => return None,
        };
        if !(1..=7 * 24 * 60).contains(&minutes) {
            return None;
        }
        offsets.push(chrono::Duration::minutes(minutes));
    }
    offsets.sort_by(|a, b| b.cmp(a));
    offsets.dedup();
    Some(offsets)
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
    fn the_pool_size_is_bounded() {
        let c = config(&[DB, (DATABASE_MAX_CONNECTIONS, "4")]).unwrap();
        assert_eq!(c.database_max_connections, 4);
        let err = config(&[DB, (DATABASE_MAX_CONNECTIONS, "1")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DATABASE_MAX_CONNECTIONS=\"1\" is not valid: expected a whole number from 2 to 200."
        );
    }

    #[test]
    fn missing_database_url_names_the_variable() {
        let err = config(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DATABASE_URL is not set: expected a Postgres URL such as postgres://user@host/db."
        );
    }

    #[test]
    fn malformed_values_name_the_variable_and_what_is_expected() {
        let err = config(&[DB, (BUSINESS_TIME_ZONE, "Mars/Olympus")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "BUSINESS_TIME_ZONE=\"Mars/Olympus\" is not valid: expected an IANA time zone such as Asia/Jakarta."
        );
        let err = config(&[DB, (APPROVAL_CUTOFF_MINUTES, "-5")]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: APPROVAL_CUTOFF_MINUTES,
                ..
            }
        ));
        let err = config(&[DB, (SKU_PATTERN, "[A-Z")]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: SKU_PATTERN,
                ..
            }
        ));
    }

    #[test]
    fn a_webhook_secret_must_look_like_one() {
        let err = config(&[DB, (STOREFRONT_WEBHOOK_SECRET, "hunter2")]).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                var: STOREFRONT_WEBHOOK_SECRET,
                ..
            }
        ));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn reminder_offsets_are_read_largest_first() {
        let c = config(&[DB, (REMINDER_OFFSETS, "15m, 1d,2h")]).unwrap();
        let minutes: Vec<i64> = c
            .policy
            .schedule
            .reminder_offsets
            .iter()
            .map(|d| d.num_minutes())
            .collect();
        assert_eq!(minutes, [1440, 120, 15]);
        for bad in ["15", "2w", "0m", "x,1h"] {
            let err = config(&[DB, (REMINDER_OFFSETS, bad)]).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        var: REMINDER_OFFSETS,
                        ..
                    }
                ),
                "{bad}"
            );
        }
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

    #[test]
    fn self_approval_can_be_allowed_for_tiny_teams() {
        let c = config(&[DB, (ALLOW_SELF_APPROVAL, "true")]).unwrap();
        assert!(!c.policy.four_eyes);
    }

    #[test]
    fn the_database_password_never_prints() {
        let c = config(&[(DATABASE_URL, "postgres://u:hunter2@db/flashsale")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = config(&[(DATABASE_URL, "mysql://u:hunter2@db/x")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
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
