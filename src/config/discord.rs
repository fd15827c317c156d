//! Where the bot lives in Discord: the `DISCORD_*` variables.
//!
//! Discord is optional, so the token decides: without it nothing else here is
//! read, and with it every id is required, because a bot that cannot find its
//! channels or tell an editor from an approver would only fail later, in
//! front of people.

use reqwest::Url;
use secrecy::SecretString;

use super::env::{parse_bool, Env};
use super::ConfigError;

pub const DISCORD_TOKEN: &str = "DISCORD_TOKEN";
pub const DISCORD_GUILD_ID: &str = "DISCORD_GUILD_ID";
pub const DISCORD_ANNOUNCEMENTS_CHANNEL_ID: &str = "DISCORD_ANNOUNCEMENTS_CHANNEL_ID";
pub const DISCORD_APPROVALS_CHANNEL_ID: &str = "DISCORD_APPROVALS_CHANNEL_ID";
pub const DISCORD_EDITOR_ROLE_ID: &str = "DISCORD_EDITOR_ROLE_ID";
pub const DISCORD_APPROVER_ROLE_ID: &str = "DISCORD_APPROVER_ROLE_ID";
pub const DISCORD_API_BASE: &str = "DISCORD_API_BASE";
pub const DISCORD_REGISTER_GLOBALLY: &str = "DISCORD_REGISTER_GLOBALLY";

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

/// `None` when `DISCORD_TOKEN` is unset: the bot then has no Discord.
pub(super) fn read(env: &Env<'_>) -> Result<Option<DiscordConfig>, ConfigError> {
    let Some(token) = env.optional(DISCORD_TOKEN) else {
        return Ok(None);
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
    Ok(Some(DiscordConfig {
        token: SecretString::from(token),
        guild_id: snowflake(env, DISCORD_GUILD_ID)?,
        announcements_channel_id: snowflake(env, DISCORD_ANNOUNCEMENTS_CHANNEL_ID)?,
        approvals_channel_id: snowflake(env, DISCORD_APPROVALS_CHANNEL_ID)?,
        editor_role_id: snowflake(env, DISCORD_EDITOR_ROLE_ID)?,
        approver_role_id: snowflake(env, DISCORD_APPROVER_ROLE_ID)?,
        api_base,
        register_globally: env.parse(
            DISCORD_REGISTER_GLOBALLY,
            "false",
            "true or false",
            parse_bool,
        )?,
    }))
}

/// A required id: zero is what a half-filled form leaves, never a real snowflake.
fn snowflake(env: &Env<'_>, var: &'static str) -> Result<u64, ConfigError> {
    const SNOWFLAKE: &str = "a Discord id (the number from Copy ID in Discord's developer mode)";
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
}

/// A complete Discord setting, for tests elsewhere in `config` that need one.
#[cfg(test)]
pub(super) const FULL: [(&str, &str); 6] = [
    (DISCORD_TOKEN, "abc"),
    (DISCORD_GUILD_ID, "1"),
    (DISCORD_ANNOUNCEMENTS_CHANNEL_ID, "2"),
    (DISCORD_APPROVALS_CHANNEL_ID, "3"),
    (DISCORD_EDITOR_ROLE_ID, "4"),
    (DISCORD_APPROVER_ROLE_ID, "5"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn without_a_discord_token_the_bot_has_no_discord_config() {
        assert!(read_with(&[], read).unwrap().is_none());
    }

    #[test]
    fn a_discord_token_requires_the_guild_channels_and_roles() {
        let err = read_with(&[(DISCORD_TOKEN, "abc")], read).unwrap_err();
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
        let err = read_with(
            &[&FULL[..], &[(DISCORD_APPROVER_ROLE_ID, "x5")]].concat(),
            read,
        )
        .unwrap_err();
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
        let discord = read_with(&FULL, read).unwrap().unwrap();
        assert_eq!((discord.guild_id, discord.approver_role_id), (1, 5));
        assert!(
            !format!("{discord:?}").contains("abc"),
            "the token never prints"
        );
    }
}
