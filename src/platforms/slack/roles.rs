//! Who is an editor or an approver in Slack: members of the configured user
//! groups (`usergroups.users.list`), or users on the configured lists.
//!
//! Roles decide nothing here; they are only translated into the domain's
//! `Roles` for an `Actor`, checked by `app` on every command and button
//! press, never left to Slack's UI. A group's members are cached for
//! `GROUP_TTL`, so a burst of presses costs one call, and someone removed
//! from a group loses the role within a minute. When Slack cannot say who is
//! in a group, the check fails (`RolesError`) rather than guess: only the
//! fixed lists grant a role without Slack.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;

use super::api::{SlackApi, SlackApiError};
use super::{is_slack_id, PLATFORM};
use crate::config::SlackConfig;
use crate::domain::{Actor, ActorId, Roles};

/// How long a user group's member list is trusted.
pub const GROUP_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    #[error("Slack could not tell who is in user group {group}: {why}")]
    Unavailable { group: String, why: String },
    #[error("Slack refused to list user group {group}: {why}")]
    Refused { group: String, why: String },
}

/// Who is in a user group; Slack's `usergroups.users.list` in production.
#[async_trait]
pub trait RoleSource: Send + Sync {
    async fn members(&self, group: &str) -> Result<Vec<String>, SlackApiError>;
}

#[derive(Debug, Deserialize)]
struct Members {
    #[serde(default)]
    users: Vec<String>,
}

#[async_trait]
impl RoleSource for SlackApi {
    async fn members(&self, group: &str) -> Result<Vec<String>, SlackApiError> {
        let session = self.session();
        let params = vec![("usergroup", Some(group))];
        let members: Members = self
            .call(
                "usergroups.users.list",
                session
                    .http_session_api
                    .http_get("usergroups.users.list", &params, None),
            )
            .await?;
        Ok(members.users)
    }
}

/// A group's members and when Slack said so.
type Cached = (Instant, Arc<HashSet<String>>);

pub struct SlackRoles {
    source: Arc<dyn RoleSource>,
    editor_group: Option<String>,
    approver_group: Option<String>,
    editor_users: HashSet<String>,
    approver_users: HashSet<String>,
    ttl: Duration,
    cache: Mutex<HashMap<String, Cached>>,
    /// Held while a group's list is asked of Slack: when the cache expires
    /// under a burst of presses, one caller asks and the others wait for its
    /// answer (single flight) instead of each calling `usergroups.users.list`
    /// and hitting Slack's rate limit together.
    refreshing: tokio::sync::Mutex<()>,
}

impl SlackRoles {
    pub fn new(source: Arc<dyn RoleSource>, config: &SlackConfig) -> SlackRoles {
        SlackRoles {
            source,
            editor_group: config.editor_group_id.clone(),
            approver_group: config.approver_group_id.clone(),
            editor_users: config.editor_user_ids.iter().cloned().collect(),
            approver_users: config.approver_user_ids.iter().cloned().collect(),
            ttl: GROUP_TTL,
            cache: Mutex::new(HashMap::new()),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn with_ttl(mut self, ttl: Duration) -> SlackRoles {
        self.ttl = ttl;
        self
    }

    /// The roles `user` (a Slack user id such as `U0123ABCD`) holds now.
    pub async fn roles_of(&self, user: &str) -> Result<Roles, RolesError> {
        let editor = self
            .holds(user, &self.editor_users, self.editor_group.as_deref())
            .await?;
        let approver = self
            .holds(user, &self.approver_users, self.approver_group.as_deref())
            .await?;
        Ok(Roles {
            editor,
            approver,
            system: false,
        })
    }

    /// The person who acted, as the domain sees them: `slack:<user id>`, the
    /// name Slack showed, the roles they hold now.
    pub async fn actor(&self, user: &str, name: &str) -> Result<Actor, RolesError> {
        let roles = if is_slack_id(user, &['U', 'W']) {
            self.roles_of(user).await?
        } else {
            Roles::NONE
        };
        Ok(actor(user, name, roles))
    }

    async fn holds(
        &self,
        user: &str,
        listed: &HashSet<String>,
        group: Option<&str>,
    ) -> Result<bool, RolesError> {
        if listed.contains(user) {
            return Ok(true);
        }
        match group {
            Some(group) => Ok(self.group(group).await?.contains(user)),
            None => Ok(false),
        }
    }

    /// The group's members while they are fresh.
    fn cached(&self, group: &str) -> Option<Arc<HashSet<String>>> {
        self.lock()
            .get(group)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, members)| Arc::clone(members))
    }

    async fn group(&self, group: &str) -> Result<Arc<HashSet<String>>, RolesError> {
        if let Some(members) = self.cached(group) {
            return Ok(members);
        }
        // One refresh at a time; whoever waited finds the list the first one
        // fetched. A failed refresh caches nothing, so the next caller asks again.
        let _refresh = self.refreshing.lock().await;
        if let Some(members) = self.cached(group) {
            return Ok(members);
        }
        let members: Arc<HashSet<String>> = match self.source.members(group).await {
            Ok(users) => Arc::new(users.into_iter().collect()),
            // A list whose answer was lost is as good as none: ask again later.
            Err(SlackApiError::Unavailable(why))
            | Err(SlackApiError::InDoubt(why))
            | Err(SlackApiError::Setup(why)) => {
                return Err(RolesError::Unavailable {
                    group: group.to_owned(),
                    why,
                })
            }
            Err(refused) => {
                return Err(RolesError::Refused {
                    group: group.to_owned(),
                    why: refused.to_string(),
                })
            }
        };
        self.lock()
            .insert(group.to_owned(), (Instant::now(), Arc::clone(&members)));
        Ok(members)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `U0ANA` with `roles` as the domain's actor `slack:U0ANA`.
pub fn actor(user: &str, name: &str, roles: Roles) -> Actor {
    let name = if name.trim().is_empty() { user } else { name };
    Actor::new(ActorId::new(PLATFORM, user), name, roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Group members from a table, counting the calls; `down` answers Unavailable.
    struct Table {
        groups: HashMap<&'static str, Vec<&'static str>>,
        calls: AtomicUsize,
        down: Mutex<bool>,
    }

    #[async_trait]
    impl RoleSource for Table {
        async fn members(&self, group: &str) -> Result<Vec<String>, SlackApiError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if *self.down.lock().unwrap() {
                return Err(SlackApiError::Unavailable("down".to_owned()));
            }
            match self.groups.get(group) {
                Some(users) => Ok(users.iter().map(|u| u.to_string()).collect()),
                None => Err(SlackApiError::Refused {
                    code: "no_such_subteam".to_owned(),
                    errors: Vec::new(),
                }),
            }
        }
    }

    fn config(editor_group: Option<&str>, approver_users: &[&str]) -> SlackConfig {
        SlackConfig {
            bot_token: "xoxb-x".to_owned().into(),
            app_token: "xapp-x".to_owned().into(),
            api_base: reqwest::Url::parse("https://slack.com/api/").unwrap(),
            announcements_channel_id: "C0A".to_owned(),
            approvals_channel_id: "C0B".to_owned(),
            editor_group_id: editor_group.map(str::to_owned),
            approver_group_id: Some("S0APPROVERS".to_owned()),
            editor_user_ids: Vec::new(),
            approver_user_ids: approver_users.iter().map(|u| u.to_string()).collect(),
        }
    }

    fn table() -> Arc<Table> {
        Arc::new(Table {
            groups: HashMap::from([
                ("S0EDITORS", vec!["U0ANA", "U0BO"]),
                ("S0APPROVERS", vec!["U0BO", "U0CY"]),
            ]),
            calls: AtomicUsize::new(0),
            down: Mutex::new(false),
        })
    }

    #[tokio::test]
    async fn group_members_hold_the_groups_role() {
        let roles = SlackRoles::new(table(), &config(Some("S0EDITORS"), &[]));
        assert_eq!(roles.roles_of("U0ANA").await, Ok(Roles::EDITOR));
        assert_eq!(roles.roles_of("U0BO").await, Ok(Roles::BOTH));
        assert_eq!(roles.roles_of("U0CY").await, Ok(Roles::APPROVER));
        assert_eq!(roles.roles_of("U0DAN").await, Ok(Roles::NONE));
        let ana = roles.actor("U0ANA", "Ana").await.unwrap();
        assert_eq!(ana.id.as_str(), "slack:U0ANA");
        assert_eq!(ana.name, "Ana");
        assert_eq!(ana.roles, Roles::EDITOR);
    }

    #[tokio::test]
    async fn members_are_cached_briefly() {
        let source = table();
        let roles = SlackRoles::new(source.clone(), &config(Some("S0EDITORS"), &[]));
        for _ in 0..5 {
            roles.roles_of("U0ANA").await.unwrap();
        }
        assert_eq!(source.calls.load(Ordering::SeqCst), 2, "one call per group");
        let roles = SlackRoles::new(source.clone(), &config(Some("S0EDITORS"), &[]))
            .with_ttl(Duration::ZERO);
        roles.roles_of("U0ANA").await.unwrap();
        roles.roles_of("U0ANA").await.unwrap();
        assert_eq!(
            source.calls.load(Ordering::SeqCst),
            6,
            "an expired list is asked again"
        );
    }

    /// A source that answers slowly, so a burst overlaps the first call.
    struct Slow(Arc<Table>);

    #[async_trait]
    impl RoleSource for Slow {
        async fn members(&self, group: &str) -> Result<Vec<String>, SlackApiError> {
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.0.members(group).await
        }
    }

    #[tokio::test]
    async fn a_burst_after_expiry_asks_slack_once_per_group() {
        let source = table();
        let roles = Arc::new(SlackRoles::new(
            Arc::new(Slow(source.clone())),
            &config(Some("S0EDITORS"), &[]),
        ));
        let burst: Vec<_> = (0..20)
            .map(|_| {
                let roles = Arc::clone(&roles);
                tokio::spawn(async move { roles.roles_of("U0ANA").await })
            })
            .collect();
        for press in burst {
            assert_eq!(press.await.unwrap(), Ok(Roles::EDITOR));
        }
        assert_eq!(
            source.calls.load(Ordering::SeqCst),
            2,
            "one call per group, not one per press"
        );
    }

    #[tokio::test]
    async fn listed_users_hold_the_role_without_asking_slack() {
        let source = table();
        *source.down.lock().unwrap() = true;
        let roles = SlackRoles::new(source.clone(), &config(None, &["U0EVE"]));
        // U0EVE is a listed approver and no editor group is configured: Slack is never asked.
        assert_eq!(roles.roles_of("U0EVE").await, Ok(Roles::APPROVER));
        assert_eq!(source.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn when_slack_cannot_say_the_check_fails_rather_than_guess() {
        let source = table();
        *source.down.lock().unwrap() = true;
        let roles = SlackRoles::new(source.clone(), &config(Some("S0EDITORS"), &[]));
        let err = roles.roles_of("U0ANA").await.unwrap_err();
        assert!(
            matches!(err, RolesError::Unavailable { ref group, .. } if group == "S0EDITORS"),
            "{err:?}"
        );
        let roles = SlackRoles::new(table(), &config(Some("S0GONE"), &[]));
        let err = roles.roles_of("U0ANA").await.unwrap_err();
        assert!(
            matches!(&err, RolesError::Refused { why, .. } if why.contains("no_such_subteam")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_user_id_that_is_not_slacks_holds_nothing() {
        let source = table();
        let roles = SlackRoles::new(source.clone(), &config(Some("S0EDITORS"), &[]));
        let odd = roles.actor("u0ana", "").await.unwrap();
        assert_eq!(odd.roles, Roles::NONE);
        assert_eq!(odd.name, "u0ana");
        assert_eq!(source.calls.load(Ordering::SeqCst), 0);
    }
}
