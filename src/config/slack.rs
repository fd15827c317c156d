//! Where the bot lives in Slack: the `SLACK_*` variables.
//!
//! Slack is optional, so the bot token decides: without it nothing else here
//! is read. With it every value is checked at start-up against the shape
//! Slack gives it, because the usual mistakes (a channel's name for its id, a
//! user token for the bot's) would otherwise surface as refusals from Slack
//! in the middle of a sale. Tokens are never echoed back, even when wrong.

use reqwest::Url;
use secrecy::SecretString;

use super::env::Env;
use super::ConfigError;

pub const SLACK_BOT_TOKEN: &str = "SLACK_BOT_TOKEN";
pub const SLACK_APP_TOKEN: &str = "SLACK_APP_TOKEN";
pub const SLACK_API_BASE: &str = "SLACK_API_BASE";
pub const SLACK_ANNOUNCEMENTS_CHANNEL_ID: &str = "SLACK_ANNOUNCEMENTS_CHANNEL_ID";
pub const SLACK_APPROVALS_CHANNEL_ID: &str = "SLACK_APPROVALS_CHANNEL_ID";
pub const SLACK_EDITOR_GROUP_ID: &str = "SLACK_EDITOR_GROUP_ID";
pub const SLACK_APPROVER_GROUP_ID: &str = "SLACK_APPROVER_GROUP_ID";
pub const SLACK_EDITOR_USER_IDS: &str = "SLACK_EDITOR_USER_IDS";
pub const SLACK_APPROVER_USER_IDS: &str = "SLACK_APPROVER_USER_IDS";

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

/// `None` when `SLACK_BOT_TOKEN` is unset: the bot then has no Slack.
pub(super) fn read(env: &Env<'_>) -> Result<Option<SlackConfig>, ConfigError> {
    let Some(bot_token) = env.optional(SLACK_BOT_TOKEN) else {
        return Ok(None);
    };
    let app_token = env.required(
        SLACK_APP_TOKEN,
        "the app-level token (xapp-...) with connections:write, for Socket Mode",
    )?;
    let api_base = api_base(env)?;
    let config = SlackConfig {
        bot_token: token(
            SLACK_BOT_TOKEN,
            bot_token,
            "xoxb-",
            "a bot token starting with xoxb- (OAuth & Permissions)",
        )?,
        app_token: token(
            SLACK_APP_TOKEN,
            app_token,
            "xapp-",
            "an app-level token starting with xapp- (Basic Information, App-Level Tokens)",
        )?,
        api_base,
        announcements_channel_id: channel(env, SLACK_ANNOUNCEMENTS_CHANNEL_ID)?,
        approvals_channel_id: channel(env, SLACK_APPROVALS_CHANNEL_ID)?,
        editor_group_id: group(env, SLACK_EDITOR_GROUP_ID)?,
        approver_group_id: group(env, SLACK_APPROVER_GROUP_ID)?,
        editor_user_ids: users(env, SLACK_EDITOR_USER_IDS)?,
        approver_user_ids: users(env, SLACK_APPROVER_USER_IDS)?,
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
    Ok(Some(config))
}

fn api_base(env: &Env<'_>) -> Result<Url, ConfigError> {
    env.parse(
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
    )
}

/// A token of the kind `prefix` marks; a wrong one is reported hidden, since
/// the usual mistake is another of the app's real tokens.
fn token(
    var: &'static str,
    value: String,
    prefix: &str,
    expected: &'static str,
) -> Result<SecretString, ConfigError> {
    if value.starts_with(prefix) {
        Ok(SecretString::from(value))
    } else {
        Err(ConfigError::Invalid {
            var,
            value: "(hidden)".to_owned(),
            expected: expected.to_owned(),
        })
    }
}

/// Slack's ids are upper-case letters and digits after a kind letter; a
/// channel name (#flash-sales) or a lower-cased id is the usual mistake.
fn is_id(v: &str, kinds: &[char]) -> bool {
    v.len() >= 3
        && v.starts_with(kinds)
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn channel(env: &Env<'_>, var: &'static str) -> Result<String, ConfigError> {
    const CHANNEL: &str = "a Slack channel id such as C0123ABCD (channel details, at the bottom)";
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
}

fn group(env: &Env<'_>, var: &'static str) -> Result<Option<String>, ConfigError> {
    match env.optional(var) {
        None => Ok(None),
        Some(value) if is_id(&value, &['S']) => Ok(Some(value)),
        Some(value) => Err(ConfigError::Invalid {
            var,
            value,
            expected: "a Slack user group id such as S0123ABCD".to_owned(),
        }),
    }
}

fn users(env: &Env<'_>, var: &'static str) -> Result<Vec<String>, ConfigError> {
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
}

/// A complete Slack setting, for tests elsewhere in `config` that need one.
#[cfg(test)]
pub(super) const FULL: [(&str, &str); 6] = [
    (SLACK_BOT_TOKEN, "xoxb-1-secret"),
    (SLACK_APP_TOKEN, "xapp-1-secret"),
    (SLACK_ANNOUNCEMENTS_CHANNEL_ID, "C0ANNOUNCE"),
    (SLACK_APPROVALS_CHANNEL_ID, "C0APPROVE"),
    (SLACK_EDITOR_GROUP_ID, "S0EDITORS"),
    (SLACK_APPROVER_GROUP_ID, "S0APPROVERS"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::read_with;

    /// The full setting with `changes` on top; a blank value unsets a variable.
    fn slack(changes: &[(&str, &str)]) -> Result<Option<SlackConfig>, ConfigError> {
        read_with(&[&FULL[..], changes].concat(), read)
    }

    #[test]
    fn without_a_slack_bot_token_the_bot_has_no_slack_config() {
        assert!(read_with(&[], read).unwrap().is_none());
    }

    #[test]
    fn a_full_slack_configuration_is_read_with_slacks_api_by_default() {
        let slack = slack(&[]).unwrap().unwrap();
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
        let c = slack(&[(SLACK_API_BASE, "http://127.0.0.1:9000/api")]).unwrap();
        assert_eq!(c.unwrap().api_base.as_str(), "http://127.0.0.1:9000/api/");
        let err = slack(&[(SLACK_API_BASE, "ftp://x/api/")]).unwrap_err();
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
            let err = slack(&[(var, value)]).unwrap_err();
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
        let err = slack(&[(SLACK_APP_TOKEN, "")]).unwrap_err();
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
        let err = slack(&[(SLACK_APPROVALS_CHANNEL_ID, "")]).unwrap_err();
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
        let err = slack(&[(SLACK_APPROVER_GROUP_ID, "")]).unwrap_err();
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
        let slack = slack(&[
            (SLACK_APPROVER_GROUP_ID, ""),
            (SLACK_APPROVER_USER_IDS, " U0ANA , W0BO,"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(slack.approver_group_id, None);
        assert_eq!(slack.approver_user_ids, ["U0ANA", "W0BO"]);
    }
}
