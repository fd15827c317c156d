//! Typed configuration, read once at start-up from the environment (and `.env`).
//!
//! A missing or malformed value stops start-up with an error that names the
//! variable and says what is expected, instead of failing later at midnight.
//! `.env.example` is the one list of variables people read; a test below keeps
//! it and the constants in these files the same list.
//!
//! Each part owns its variables: the constants that name them, their defaults,
//! their checks and the tests of those, so a change to (say) the Slack
//! settings is made and reviewed in `slack.rs` alone. This file only composes
//! the parts into the flat [`Config`] the rest of the crate reads, and fixes
//! the order they are read in: the first refusal stops start-up, so with
//! several mistakes the one reported is the first one read.
//!
//! Parts, in the order they are read:
//! - `database`: `DATABASE_URL` (the one required variable) and the pool's size.
//! - `storefront`: its URL, the webhook secret that signs publish and end, the call timeout.
//! - `catalog`: how long to wait for the catalog and reuse its answers.
//! - `policy`: the shop's rules, read into the domain's `Policy`.
//! - `host`: what depends on the machine: log format, the operations listener, fonts.
//! - `scheduler`: poll, lease and heartbeat, the daily digest, how long finished work is kept.
//! - `discord`, `slack`: each platform's settings, read only when its token is set.
//! - `chat`: `CHAT`, which of the configured platforms `run` joins.
//! - `shop`: `SHOP`, the kind of shop (our webhook contract or Medusa), and
//!   `medusa`: how to reach a Medusa store (`MEDUSA_*`), read only when it is one.
//! - `week`: the coverage alarm's horizon and reminders, the calendar feed's token.
//! - `env`: how every part reads a variable (blank is unset; refusals name it).

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
mod guards;
mod host;
pub mod medusa;
mod policy;
mod scheduler;
mod shop;
pub mod shopify;
mod slack;
mod storefront;
mod week;

pub use catalog::{CATALOG_CACHE_TTL_SECS, CATALOG_TIMEOUT_MS};
pub use chat::{ChatPlatform, CHAT};
pub use database::{DATABASE_MAX_CONNECTIONS, DATABASE_URL};
pub use discord::{
    DiscordConfig, DISCORD_ANNOUNCEMENTS_CHANNEL_ID, DISCORD_API_BASE,
    DISCORD_APPROVALS_CHANNEL_ID, DISCORD_APPROVER_ROLE_ID, DISCORD_EDITOR_ROLE_ID,
    DISCORD_GUILD_ID, DISCORD_REGISTER_GLOBALLY, DISCORD_TOKEN,
};
pub use guards::{
    GUARD_DAILY_BUDGET, GUARD_DEEP_MIN_SAMPLES, GUARD_DEEP_POINTS, GUARD_MARGIN_FLOOR_PERCENT,
    GUARD_RAISED_DAYS, GUARD_RAISED_TOLERANCE_PERCENT, GUARD_REFERENCE_DAYS, GUARD_SESSION_BUDGET,
};
pub use host::{LogFormat, HTTP_ADDR, LOG_FORMAT, PICTURE_FONT_DIR};
pub use policy::{
    ALLOW_SELF_APPROVAL, APPROVAL_CUTOFF_MINUTES, BUSINESS_TIME_ZONE, CURRENCY, HEADS_UP_MINUTES,
    MAX_SESSION_HOURS, MIN_LEAD_MINUTES, REMINDER_OFFSETS, SKU_MAX_LEN, SKU_PATTERN,
};
pub use scheduler::{
    DAILY_DIGEST_CRON, QUEUE_RETENTION_DAYS, SCHEDULER_HEARTBEAT_SECS, SCHEDULER_LEASE_SECS,
    SCHEDULER_POLL_SECS,
};
pub use shop::{ShopChoice, SHOP};
pub use slack::{
    SlackConfig, SLACK_ANNOUNCEMENTS_CHANNEL_ID, SLACK_API_BASE, SLACK_APPROVALS_CHANNEL_ID,
    SLACK_APPROVER_GROUP_ID, SLACK_APPROVER_USER_IDS, SLACK_APP_TOKEN, SLACK_BOT_TOKEN,
    SLACK_EDITOR_GROUP_ID, SLACK_EDITOR_USER_IDS,
};
pub use storefront::{STOREFRONT_TIMEOUT_MS, STOREFRONT_URL, STOREFRONT_WEBHOOK_SECRET};

use env::Env;

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

#[derive(Debug, Clone)]
pub struct Config {
    /// May hold a password, so it never prints.
    pub database_url: SecretString,
    /// The pool's size. Postgres does the work of every use case, so more
    /// connections than it has cores to run them only makes them queue there.
    pub database_max_connections: u32,
    /// Which shop the bot sells through (`SHOP`): the webhook contract's
    /// settings are the `storefront_*` ones below, Medusa's its own.
    pub shop: ShopChoice,
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
    /// How often a live sale's units sold are counted on a shop without a
    /// quantity cap (`SOLD_OUT_CHECK_SECS`).
    pub sold_out_check: Duration,
    /// How far ahead the coverage alarm looks and when it speaks (`COVERAGE_*`).
    pub coverage: crate::app::week::CoverageSettings,
    /// Opens `GET /calendar/<token>`; without it the feed is off. Never printed.
    pub calendar_feed_token: Option<SecretString>,
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
        let shop = shop::read(&env)?;
        let catalog = catalog::read(&env)?;
        let policy = policy::read(&env)?;
        let host = host::read(&env)?;
        let scheduler = scheduler::read(&env)?;
        // The platform first: with both tokens set, "say which" is the
        // answer, not a missing setting of one of them.
        let chat = chat::read(&env)?;
        let discord = match chat {
            Some(ChatPlatform::Discord) => discord::read(&env)?,
            _ => None,
        };
        let slack = match chat {
            Some(ChatPlatform::Slack) => slack::read(&env)?,
            _ => None,
        };
        let week = week::read(&env)?;
        Ok(Config {
            database_url: database.url,
            database_max_connections: database.max_connections,
            shop,
            storefront_url: storefront.url,
            storefront_webhook_secret: storefront.webhook_secret,
            storefront_timeout: storefront.timeout,
            catalog_timeout: catalog.timeout,
            catalog_cache_ttl: catalog.cache_ttl,
            policy,
            log_format: host.log_format,
            http_addr: host.http_addr,
            picture_font_dir: host.picture_font_dir,
            scheduler_poll: scheduler.poll,
            scheduler_lease: scheduler.lease,
            scheduler_heartbeat: scheduler.heartbeat,
            daily_digest_cron: scheduler.daily_digest_cron,
            queue_retention_days: scheduler.queue_retention_days,
            sold_out_check: scheduler.sold_out_check,
            discord,
            slack,
            chat,
            coverage: week.coverage,
            calendar_feed_token: week.calendar_feed_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    const DB: (&str, &str) = (DATABASE_URL, "postgres://postgres@127.0.0.1:5432/flashsale");

    /// Each part tests its own defaults; this checks that every one reaches
    /// the field it belongs in, which is where two same-typed values could swap.
    #[test]
    fn defaults_apply_when_only_the_database_is_set() {
        let c = config(&[DB]).unwrap();
        assert_eq!(c.database_max_connections, 10);
        assert_eq!(c.storefront_url.as_str(), "http://127.0.0.1:8088/");
        assert!(c.storefront_webhook_secret.is_none());
        assert_eq!(c.storefront_timeout, Duration::from_millis(5000));
        assert_eq!(c.catalog_timeout, Duration::from_millis(2000));
        assert_eq!(c.catalog_cache_ttl, Duration::from_secs(10));
        assert_eq!(c.policy.time_zone, chrono_tz::Asia::Jakarta);
        assert_eq!(c.policy.currency.code(), "IDR");
        assert_eq!(c.policy.approval_cutoff, chrono::Duration::minutes(60));
        assert!(c.policy.four_eyes);
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.http_addr, Some(([127, 0, 0, 1], 9090).into()));
        assert_eq!(
            c.picture_font_dir,
            PathBuf::from(crate::render::DEFAULT_FONT_DIR)
        );
        assert_eq!(c.scheduler_poll, Duration::from_secs(5));
        assert_eq!(c.scheduler_lease, Duration::from_secs(10));
        assert_eq!(c.scheduler_heartbeat, Duration::from_secs(2));
        assert_eq!(c.daily_digest_cron.as_deref(), Some("0 0 9 * * *"));
        assert_eq!(c.queue_retention_days, 30);
        assert_eq!(c.sold_out_check, Duration::from_secs(2));
        assert!(c.discord.is_none() && c.slack.is_none() && c.chat.is_none());
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

    /// With both tokens the first thing to fix is which platform, not a
    /// setting of the one the bot would not join anyway.
    #[test]
    fn both_tokens_ask_for_chat_before_any_other_platform_setting() {
        let tokens = [
            DB,
            (discord::DISCORD_TOKEN, "discord-token"),
            (slack::SLACK_BOT_TOKEN, "xoxb-1-2-abc"),
        ];
        let err = config(&tokens).unwrap_err().to_string();
        assert!(err.starts_with("CHAT"), "{err}");
        assert!(!err.contains("DISCORD_GUILD_ID"), "{err}");
        // The platform not chosen is not read: its half-done settings do not block.
        let slack_chosen = config(&[&tokens[..], &slack::FULL, &[(CHAT, "slack")]].concat())
            .expect("Slack is complete and chosen");
        assert_eq!(slack_chosen.chat, Some(ChatPlatform::Slack));
        assert!(slack_chosen.discord.is_none());
        let discord_chosen = config(&[&tokens[..], &[(CHAT, "discord")]].concat()).unwrap_err();
        assert!(
            discord_chosen.to_string().contains("DISCORD_"),
            "{discord_chosen}"
        );
    }

    /// A variable's name: what a constant naming one holds, and what starts a
    /// `.env.example` line.
    fn is_variable(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    }

    /// The variables named by constants (`pub const NAME: &str = "NAME";`) in
    /// the files of `dir`.
    fn variables_named_in(dir: &std::path::Path) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("src/config/ is readable") {
            let path = entry.expect("a directory entry").path();
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            for line in text.lines() {
                let Some(rest) = line.trim().strip_prefix("pub const ") else {
                    continue;
                };
                let Some((name, value)) = rest.split_once(": &str = ") else {
                    continue;
                };
                if is_variable(name) && value == format!("\"{name}\";") {
                    names.insert(name.to_owned());
                }
            }
        }
        names
    }

    /// The variables `.env.example` sets: `NAME=value`, or `# NAME=value` for
    /// one left commented.
    fn variables_listed_in(example: &str) -> BTreeSet<String> {
        example
            .lines()
            .filter_map(|line| {
                let (name, _) = line.trim_start_matches('#').trim().split_once('=')?;
                is_variable(name).then(|| name.to_owned())
            })
            .collect()
    }

    /// `.env.example` is the list operators read, so a variable the code reads
    /// but the file omits is one nobody knows to set, and one the file names
    /// but no part reads is a setting that silently does nothing.
    #[test]
    fn env_example_lists_exactly_the_variables_the_parts_read() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = variables_named_in(&root.join("src/config"));
        assert!(
            read.len() >= 40,
            "found only {} variables: {read:?}",
            read.len()
        );
        let example =
            std::fs::read_to_string(root.join(".env.example")).expect(".env.example is readable");
        let listed = variables_listed_in(&example);
        let unlisted: Vec<_> = read.difference(&listed).collect();
        let unread: Vec<_> = listed.difference(&read).collect();
        assert!(
            unlisted.is_empty() && unread.is_empty(),
            "read but not in .env.example: {unlisted:?}; in .env.example but read by no part: {unread:?}"
        );
    }
}
