//! Which chat platform `flashsale-bot run` joins: the `CHAT` variable.
//!
//! It is its own part because it is the one decision that looks at two
//! others. It is made first, from which tokens are set, and only needs saying
//! when both are: the bot refuses to guess rather than pick one that nobody
//! is watching, and says so before asking for either platform's other
//! settings (then only the chosen platform's are read).

use super::discord::DISCORD_TOKEN;
use super::env::Env;
use super::slack::SLACK_BOT_TOKEN;
use super::ConfigError;

/// `discord` or `slack`: which platform `flashsale-bot run` joins; needed only when both are configured.
pub const CHAT: &str = "CHAT";

/// Which chat platform `flashsale-bot run` joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatPlatform {
    Discord,
    Slack,
}

/// `CHAT` when set (its platform's token must be set); otherwise the one
/// platform whose token is set. Both tokens without `CHAT` is ambiguous.
pub(super) fn read(env: &Env<'_>) -> Result<Option<ChatPlatform>, ConfigError> {
    let discord = env.optional(DISCORD_TOKEN).is_some();
    let slack = env.optional(SLACK_BOT_TOKEN).is_some();
    match env.optional(CHAT).as_deref() {
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
            (true, true) => Err(ConfigError::Missing {
                var: CHAT,
                expected: "discord or slack: both DISCORD_TOKEN and SLACK_BOT_TOKEN are set, so say which platform to join",
            }),
            (true, false) => Ok(Some(ChatPlatform::Discord)),
            (false, true) => Ok(Some(ChatPlatform::Slack)),
            (false, false) => Ok(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    #[test]
    fn both_tokens_without_chat_or_a_chat_without_its_token_is_refused() {
        let both = [(DISCORD_TOKEN, "d"), (SLACK_BOT_TOKEN, "xoxb-s")];
        let err = read_with(&both, read).unwrap_err().to_string();
        assert!(
            err.contains("CHAT")
                && err.contains("DISCORD_TOKEN")
                && err.contains("SLACK_BOT_TOKEN"),
            "{err}"
        );
        let only_discord = |chat| read_with(&[(CHAT, chat), (DISCORD_TOKEN, "d")], read);
        let err = only_discord("slack").unwrap_err();
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
        let err = only_discord("teams").unwrap_err();
        assert_eq!(
            err.to_string(),
            "CHAT=\"teams\" is not valid: expected discord or slack."
        );
    }
}
