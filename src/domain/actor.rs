//! Who acts: a person on a chat platform, or the bot itself.
//!
//! Adapters build an `Actor` from what the platform tells them (member id,
//! display name, roles); the domain only ever looks at the id and the roles.

use std::fmt;

/// A platform-qualified user id such as `discord:81234`, so that ids from two
/// platforms can never collide in the activity log or the four-eyes check.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ActorId(String);

impl ActorId {
    pub fn new(platform: &str, user: &str) -> ActorId {
        ActorId(format!("{platform}:{user}"))
    }

    /// For ids read back from our own store, which only holds ids built by `new`.
    pub fn from_stored(id: impl Into<String>) -> ActorId {
        ActorId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The roles that decide what an actor may do. A person may hold both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles {
    pub editor: bool,
    pub approver: bool,
    /// Only the bot itself: scheduled go-live, end, expiry.
    pub system: bool,
}

impl Roles {
    pub const EDITOR: Roles = Roles {
        editor: true,
        approver: false,
        system: false,
    };
    pub const APPROVER: Roles = Roles {
        editor: false,
        approver: true,
        system: false,
    };
    pub const BOTH: Roles = Roles {
        editor: true,
        approver: true,
        system: false,
    };
    pub const NONE: Roles = Roles {
        editor: false,
        approver: false,
        system: false,
    };
    pub const SYSTEM: Roles = Roles {
        editor: false,
        approver: false,
        system: true,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: ActorId,
    /// Shown in cards and the activity log; never used for decisions.
    pub name: String,
    pub roles: Roles,
}

impl Actor {
    pub fn new(id: ActorId, name: impl Into<String>, roles: Roles) -> Actor {
        Actor {
            id,
            name: name.into(),
            roles,
        }
    }

    /// The bot itself, acting on a schedule.
    pub fn system() -> Actor {
        Actor {
            id: ActorId("system".to_owned()),
            name: "flashsale-bot".to_owned(),
            roles: Roles::SYSTEM,
        }
    }
}
