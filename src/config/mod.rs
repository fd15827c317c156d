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
pub const DISCORD_TOKEN: &str = "DISCORD_TOKEN";
/// `discord` or `slack`: which platform `flashsale-bot run` joins; needed only when both are configured.
pub const CHAT: &str = "CHAT";
pub const DISCORD_GUILD_ID: &str = "DISCORD_GUILD_ID";
pub const DISCORD_ANNOUNCEMENTS_CHANNEL_ID: &str = "DISCORD_ANNOUNCEMENTS_CHANNEL_ID";
pub const DISCORD_APPROVALS_CHANNEL_ID: &str = "DISCORD_APPROVALS_CHANNEL_ID";
pub const DISCORD_EDITOR_ROLE_ID: &str = "DISCORD_EDITOR_ROLE_ID";
pub const DISCORD_APPROVER_ROLE_ID: &str = "DISCORD_APPROVER_ROLE_ID";
pub const DISCORD_API_BASE: &str = "DISCORD_API_BASE";
pub const DISCORD_REGISTER_GLOBALLY: &str = "DISCORD_REGISTER_GLOBALLY";
pub const SLACK_BOT_TOKEN: &str = "SLACK_BOT_TOKEN";
pub const SLACK_APP_TOKEN: &str = "SLACK_APP_TOKEN";
pub const SLACK_API_BASE: &str = "SLACK_API_BASE";
pub const SLACK_ANNOUNCEMENTS_CHANNEL_ID: &str = "SLACK_ANNOUNCEMENTS_CHANNEL_ID";
pub const SLACK_APPROVALS_CHANNEL_ID: &str = "SLACK_APPROVALS_CHANNEL_ID";
pub const SLACK_EDITOR_GROUP_ID: &str = "SLACK_EDITOR_GROUP_ID";
pub const SLACK_APPROVER_GROUP_ID: &str = "SLACK_APPROVER_GROUP_ID";
pub const SLACK_EDITOR_USER_IDS: &str = "SLACK_EDITOR_USER_IDS";
pub const SLACK_APPROVER_USER_IDS: &str = "SLACK_APPROVER_USER_IDS";
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

/// Which chat platform `flashsale-bot run` joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatPlatform {
    Discord,
    Slack,
}

/// Where the bot lives in Discord. Ids are Discord snowflakes.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: SecretString,
    /// Commands are registered to this guild at start-up (instant, unlike global ones).
    pub guild_id: u64,
    pub announcements_channel_id: u64,
    pub approvals_channel_id: u64,
    pub editor_role_id: u64,
    pub approver_role_id: u64,
    /// Only for tests against a fake Discord on loopback; production leaves it unset.
    pub api_base: Option<Url>,
    /// Also register the commands globally (every server the bot is in; Discord
    /// may take a while to show them), besides the instant guild registration.
    pub register_globally: bool,
}

/// Where the bot lives in Slack. Ids are Slack's own (`C…` channels, `S…`
/// user groups, `U…`/`W…` users), as Slack shows them in "Copy link" or the
/// channel and group details.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// The bot token (`xoxb-…`): every Web API call.
    pub bot_token: SecretString,
    /// The app-level token (`xapp-…`, scope `connections:write`): only opens Socket Mode connections.
    pub app_token: SecretString,
    /// The Web API's base, ending in `/`; Slack's own unless a test points it at loopback.
    pub api_base: Url,
    pub announcements_channel_id: String,
    pub approvals_channel_id: String,
    /// Members of these user groups are editors and approvers (either may be
    /// unset when the fallback list below names the people instead).
    pub editor_group_id: Option<String>,
    pub approver_group_id: Option<String>,
    /// Users who hold the role whatever the groups say: for workspaces without
    /// user groups (a paid feature), or a fixed core team.
    pub editor_user_ids: Vec<String>,
    pub approver_user_ids: Vec<String>,
}

impl Config {
    /// Reads the process environment (call `dotenvy::dotenv()` first to include `.env`).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env { lookup: &lookup };
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
        let discord = match env.optional(DISCORD_TOKEN) {
            None => None,
            Some(token) => Some(discord_config(&env, token)?),
        };
        let slack = match env.optional(SLACK_BOT_TOKEN) {
            None => None,
            Some(token) => Some(slack_config(&env, token)?),
        };
        let chat = chat_platform(env.optional(CHAT), discord.is_some(), slack.is_some())?;

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

fn discord_config(env: &Env<'_>, token: String) -> Result<DiscordConfig, ConfigError> {
    const SNOWFLAKE: &str = "a Discord id (the number from Copy ID in Discord's developer mode)";
    let id = |var: &'static str| -> Result<u64, ConfigError> {
        let value = env.required(var, SNOWFLAKE)?;
        value
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Invalid {
                var,
                value,
                expected: SNOWFLAKE.to_owned(),
            })
    };
    let api_base = match env.optional(DISCORD_API_BASE) {
        None => None,
        Some(base) => Some(
            Url::parse(&base)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/")
                .ok_or(ConfigError::Invalid {
                    var: DISCORD_API_BASE,
                    value: base,
                    expected: "scheme, host and port only, e.g. http://127.0.0.1:9000".to_owned(),
                })?,
        ),
    };
    Ok(DiscordConfig {
        token: SecretString::from(token),
        guild_id: id(DISCORD_GUILD_ID)?,
        announcements_channel_id: id(DISCORD_ANNOUNCEMENTS_CHANNEL_ID)?,
        approvals_channel_id: id(DISCORD_APPROVALS_CHANNEL_ID)?,
        editor_role_id: id(DISCORD_EDITOR_ROLE_ID)?,
        approver_role_id: id(DISCORD_APPROVER_ROLE_ID)?,
        api_base,
        register_globally: env.parse(
            DISCORD_REGISTER_GLOBALLY,
            "false",
            "true or false",
            parse_bool,
        )?,
    })
}

/// `CHAT` when set (its platform must be configured); otherwise the one
/// platform whose token is set. Both tokens without `CHAT` is ambiguous.
fn chat_platform(
    chosen: Option<String>,
    discord: bool,
    slack: bool,
) -> Result<Option<ChatPlatform>, ConfigError> {
    match chosen.as_deref().map(str::trim) {
        Some("discord") if discord => Ok(Some(ChatPlatform::Discord)),
        Some("discord") => Err(ConfigError::Missing {
            var: DISCORD_TOKEN,
            expected: "a Discord bot token, since CHAT=discord",
        }),
        Some("slack") if slack => Ok(Some(ChatPlatform::Slack)),
        Some("slack") => Err(ConfigError::Missing {
            var: SLACK_BOT_TOKEN,
            expected: "a Slack bot token (xoxb-...), since CHAT=slack",
        }),
        Some(other) => Err(ConfigError::Invalid {
            var: CHAT,
            value: other.to_owned(),
            expected: "discord or slack".to_owned(),
        }),
        None => match (discord, slack) {
            (true, true) => Err(ConfigError::Invalid {
                var: CHAT,
                value: String::new(),
                expected: "discord or slack: both DISCORD_TOKEN and SLACK_BOT_TOKEN are set, so say which platform to join".to_owned(),
            }),
            (true, false) => Ok(Some(ChatPlatform::Discord)),
            (false, true) => Ok(Some(ChatPlatform::Slack)),
            (false, false) => Ok(None),
        },
    }
}

fn slack_config(env: &Env<'_>, bot_token: String) -> Result<SlackConfig, ConfigError> {
    // Slack's ids are upper-case letters and digits after a kind letter; a
    // channel name (#flash-sales) or a lower-cased id is the usual mistake.
    let is_id = |v: &str, kinds: &[char]| {
        v.len() >= 3
            && v.starts_with(kinds)
            && v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    let secret = |var: &'static str, value: String, prefix: &str, expected: &'static str| {
        if value.starts_with(prefix) {
            Ok(SecretString::from(value))
        } else {
            Err(ConfigError::Invalid {
                var,
                value: "(hidden)".to_owned(),
                expected: expected.to_owned(),
            })
        }
    };
    const CHANNEL: &str = "a Slack channel id such as C0123ABCD (channel details, at the bottom)";
    let channel = |var: &'static str| -> Result<String, ConfigError> {
        let value = env.required(var, CHANNEL)?;
        if is_id(&value, &['C', 'G']) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                var,
                value,
                expected: CHANNEL.to_owned(),
            })
        }
    };
    let group = |var: &'static str| -> Result<Option<String>, ConfigError> {
        match env.optional(var) {
            None => Ok(None),
            Some(value) if is_id(&value, &['S']) => Ok(Some(value)),
            Some(value) => Err(ConfigError::Invalid {
                var,
                value,
                expected: "a Slack user group id such as S0123ABCD".to_owned(),
            }),
        }
    };
    let users = |var: &'static str| -> Result<Vec<String>, ConfigError> {
        let Some(value) = env.optional(var) else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        if ids.iter().all(|id| is_id(id, &['U', 'W'])) {
            Ok(ids)
        } else {
            Err(ConfigError::Invalid {
                var,
                value,
                expected: "comma-separated Slack user ids such as U0123ABCD,U0456EFGH".to_owned(),
            })
        }
    };
    let app_token = env.required(
        SLACK_APP_TOKEN,
        "the app-level token (xapp-...) with connections:write, for Socket Mode",
    )?;
    let api_base = env.parse(
        SLACK_API_BASE,
        "https://slack.com/api/",
        "an http(s) URL such as https://slack.com/api/",
        |v| {
            let mut url = Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none())?;
            // Method names are appended to the base, so it must end in a slash.
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            Some(url)
        },
    )?;
    let config = SlackConfig {
        bot_token: secret(
            SLACK_BOT_TOKEN,
            bot_token,
            "xoxb-",
            "a bot token starting with xoxb- (OAuth & Permissions)",
        )?,
        app_token: secret(
            SLACK_APP_TOKEN,
            app_token,
            "xapp-",
            "an app-level token starting with xapp- (Basic Information, App-Level Tokens)",
        )?,
        api_base,
        announcements_channel_id: channel(SLACK_ANNOUNCEMENTS_CHANNEL_ID)?,
        approvals_channel_id: channel(SLACK_APPROVALS_CHANNEL_ID)?,
        editor_group_id: group(SLACK_EDITOR_GROUP_ID)?,
        approver_group_id: group(SLACK_APPROVER_GROUP_ID)?,
        editor_user_ids: users(SLACK_EDITOR_USER_IDS)?,
        approver_user_ids: users(SLACK_APPROVER_USER_IDS)?,
    };
    // Without a group or a list nobody could hold the role, and every command would be refused.
    if config.editor_group_id.is_none() && config.editor_user_ids.is_empty() {
        return Err(ConfigError::Missing {
            var: SLACK_EDITOR_GROUP_ID,
            expected: "a Slack user group id for editors, or the editors' user ids in SLACK_EDITOR_USER_IDS",
        });
    }
    if config.approver_group_id.is_none() && config.approver_user_ids.is_empty() {
        return Err(ConfigError::Missing {
            var: SLACK_APPROVER_GROUP_ID,
            expected: "a Slack user group id for approvers, or the approvers' user ids in SLACK_APPROVER_USER_IDS",
        });
    }
    Ok(config)
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

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    /// A set, non-blank value.
    fn optional(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, var: &'static str, expected: &'static str) -> Result<String, ConfigError> {
        self.optional(var)
            .ok_or(ConfigError::Missing { var, expected })
    }

    /// Parses the value, or `default` when unset, naming the variable on failure.
    fn parse<T>(
        &self,
        var: &'static str,
        default: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = self.optional(var).unwrap_or_else(|| default.to_owned());
        parse(&value).ok_or_else(|| ConfigError::Invalid {
            var,
            value,
            expected: expected.to_owned(),
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
    fn without_a_discord_token_the_bot_has_no_discord_config() {
        assert!(config(&[DB]).unwrap().discord.is_none());
    }

    #[test]
    fn a_discord_token_requires_the_guild_channels_and_roles() {
        let err = config(&[DB, (DISCORD_TOKEN, "abc")]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: DISCORD_GUILD_ID,
                    ..
                }
            ),
            "{err:?}"
        );
        let full = [
            DB,
            (DISCORD_TOKEN, "abc"),
            (DISCORD_GUILD_ID, "1"),
            (DISCORD_ANNOUNCEMENTS_CHANNEL_ID, "2"),
            (DISCORD_APPROVALS_CHANNEL_ID, "3"),
            (DISCORD_EDITOR_ROLE_ID, "4"),
            (DISCORD_APPROVER_ROLE_ID, "x5"),
        ];
        let err = config(&full).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    var: DISCORD_APPROVER_ROLE_ID,
                    ..
                }
            ),
            "{err:?}"
        );
        let mut fixed = full;
        fixed[6] = (DISCORD_APPROVER_ROLE_ID, "5");
        let discord = config(&fixed).unwrap().discord.unwrap();
        assert_eq!((discord.guild_id, discord.approver_role_id), (1, 5));
        assert!(
            !format!("{discord:?}").contains("abc"),
            "the token never prints"
        );
    }

    const SLACK: [(&str, &str); 6] = [
        (SLACK_BOT_TOKEN, "xoxb-1-secret"),
        (SLACK_APP_TOKEN, "xapp-1-secret"),
        (SLACK_ANNOUNCEMENTS_CHANNEL_ID, "C0ANNOUNCE"),
        (SLACK_APPROVALS_CHANNEL_ID, "C0APPROVE"),
        (SLACK_EDITOR_GROUP_ID, "S0EDITORS"),
        (SLACK_APPROVER_GROUP_ID, "S0APPROVERS"),
    ];

    const DISCORD: [(&str, &str); 6] = [
        (DISCORD_TOKEN, "abc"),
        (DISCORD_GUILD_ID, "1"),
        (DISCORD_ANNOUNCEMENTS_CHANNEL_ID, "2"),
        (DISCORD_APPROVALS_CHANNEL_ID, "3"),
        (DISCORD_EDITOR_ROLE_ID, "4"),
        (DISCORD_APPROVER_ROLE_ID, "5"),
    ];

    #[test]
    fn the_platform_is_the_one_configured_or_the_one_chat_names() {
        let both: Vec<_> = [DB].iter().chain(&DISCORD).chain(&SLACK).copied().collect();
        let only_slack: Vec<_> = [DB].iter().chain(&SLACK).copied().collect();
        let only_discord: Vec<_> = [DB].iter().chain(&DISCORD).copied().collect();
        assert_eq!(config(&[DB]).unwrap().chat, None);
        assert_eq!(config(&only_slack).unwrap().chat, Some(ChatPlatform::Slack));
        assert_eq!(
            config(&only_discord).unwrap().chat,
            Some(ChatPlatform::Discord)
        );
        assert_eq!(
            config(&with(&both, &[(CHAT, "slack")])).unwrap().chat,
            Some(ChatPlatform::Slack)
        );
        assert_eq!(
            config(&with(&both, &[(CHAT, "discord")])).unwrap().chat,
            Some(ChatPlatform::Discord)
        );
    }

    #[test]
    fn both_tokens_without_chat_or_a_chat_without_its_token_is_refused() {
        let both: Vec<_> = [DB].iter().chain(&DISCORD).chain(&SLACK).copied().collect();
        let err = config(&both).unwrap_err().to_string();
        assert!(
            err.contains("CHAT")
                && err.contains("DISCORD_TOKEN")
                && err.contains("SLACK_BOT_TOKEN"),
            "{err}"
        );
        let only_discord: Vec<_> = [DB].iter().chain(&DISCORD).copied().collect();
        let err = config(&with(&only_discord, &[(CHAT, "slack")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: SLACK_BOT_TOKEN,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = config(&with(&only_discord, &[(CHAT, "teams")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CHAT=\"teams\" is not valid: expected discord or slack."
        );
    }

    fn with(
        base: &[(&'static str, &'static str)],
        extra: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        let mut vars: Vec<_> = base
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        vars.extend(extra.iter().filter(|(_, v)| !v.is_empty()).copied());
        vars
    }

    #[test]
    fn without_a_slack_bot_token_the_bot_has_no_slack_config() {
        assert!(config(&[DB]).unwrap().slack.is_none());
    }

    #[test]
    fn a_full_slack_configuration_is_read_with_slacks_api_by_default() {
        let c = config(&with(&SLACK, &[DB])).unwrap();
        let slack = c.slack.unwrap();
        assert_eq!(slack.api_base.as_str(), "https://slack.com/api/");
        assert_eq!(slack.announcements_channel_id, "C0ANNOUNCE");
        assert_eq!(slack.approvals_channel_id, "C0APPROVE");
        assert_eq!(slack.editor_group_id.as_deref(), Some("S0EDITORS"));
        assert_eq!(slack.approver_group_id.as_deref(), Some("S0APPROVERS"));
        assert!(slack.editor_user_ids.is_empty());
        let printed = format!("{slack:?}");
        assert!(!printed.contains("secret"), "tokens never print: {printed}");
    }

    #[test]
    fn the_slack_api_base_can_point_at_loopback_and_gains_its_slash() {
        let c = config(&with(
            &SLACK,
            &[DB, (SLACK_API_BASE, "http://127.0.0.1:9000/api")],
        ))
        .unwrap();
        assert_eq!(
            c.slack.unwrap().api_base.as_str(),
            "http://127.0.0.1:9000/api/"
        );
        let err = config(&with(&SLACK, &[DB, (SLACK_API_BASE, "ftp://x/api/")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    var: SLACK_API_BASE,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn each_slack_value_is_checked_and_named_when_wrong() {
        let cases: [(&'static str, &'static str); 7] = [
            (SLACK_BOT_TOKEN, "xoxp-user-token"),
            (SLACK_APP_TOKEN, "xoxb-not-an-app-token"),
            (SLACK_ANNOUNCEMENTS_CHANNEL_ID, "#flash-sales"),
            (SLACK_APPROVALS_CHANNEL_ID, "c0lower"),
            (SLACK_EDITOR_GROUP_ID, "U0NOTAGROUP"),
            (SLACK_APPROVER_USER_IDS, "U0ONE, bob"),
            (SLACK_EDITOR_USER_IDS, "C0CHANNEL"),
        ];
        for (var, value) in cases {
            let err = config(&with(&SLACK, &[DB, (var, value)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { var: v, .. } if *v == var),
                "{var}={value}: {err:?}"
            );
            if var.ends_with("TOKEN") {
                assert!(
                    !err.to_string().contains(value),
                    "a token never prints: {err}"
                );
            }
        }
        let err = config(&with(&SLACK, &[DB, (SLACK_APP_TOKEN, "")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: SLACK_APP_TOKEN,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = config(&with(&SLACK, &[DB, (SLACK_APPROVALS_CHANNEL_ID, "")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: SLACK_APPROVALS_CHANNEL_ID,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_role_needs_a_user_group_or_a_list_of_users() {
        let err = config(&with(&SLACK, &[DB, (SLACK_APPROVER_GROUP_ID, "")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    var: SLACK_APPROVER_GROUP_ID,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(SLACK_APPROVER_USER_IDS), "{err}");
        let c = config(&with(
            &SLACK,
            &[
                DB,
                (SLACK_APPROVER_GROUP_ID, ""),
                (SLACK_APPROVER_USER_IDS, " U0ANA , W0BO,"),
            ],
        ))
        .unwrap();
        let slack = c.slack.unwrap();
        assert_eq!(slack.approver_group_id, None);
        assert_eq!(slack.approver_user_ids, ["U0ANA", "W0BO"]);
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
}
