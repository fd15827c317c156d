//! What Discord tells us, turned into what `app` takes: the acting member as
//! an `Actor`, and option values parsed strictly.
//!
//! Roles decide nothing here; they are only translated (the configured role
//! ids to `Roles`). `app` decides what each role may do.

use crate::domain::number::positive;
use poise::serenity_prelude as serenity;
use serenity::{Member, RoleId, User, UserId};

use crate::domain::{Actor, ActorId, Roles};

/// Actor ids from Discord are `discord:<user id>`.
pub const PLATFORM: &str = "discord";

/// The configured roles that make a member an editor or an approver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleIds {
    pub editor: RoleId,
    pub approver: RoleId,
}

/// The member as an actor: their user id, the name people see, their roles.
pub fn actor(user: UserId, name: &str, member_roles: &[RoleId], roles: RoleIds) -> Actor {
    Actor::new(
        ActorId::new(PLATFORM, &user.to_string()),
        name,
        Roles {
            editor: member_roles.contains(&roles.editor),
            approver: member_roles.contains(&roles.approver),
            system: false,
        },
    )
}

/// From an interaction: outside a server (no member) nobody holds a role.
pub fn actor_of(member: Option<&Member>, user: &User, roles: RoleIds) -> Actor {
    match member {
        Some(member) => actor(user.id, member.display_name(), &member.roles, roles),
        None => actor(
            user.id,
            user.global_name.as_deref().unwrap_or(&user.name),
            &[],
            roles,
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("\"{0}\" is not a session: pick one from the list or type its number, e.g. 12.")]
    Session(String),
    #[error("To add one SKU give sku, discount and quantity together; to paste several lines, give only the session.")]
    IncompleteItem,
    #[error("Page {0} does not exist: pages start at 1.")]
    Page(i64),
}

/// A session option: `12`, `#12`, or a picked label that starts with `#12 `.
pub fn session_id(raw: &str) -> Result<i64, ArgError> {
    let bad = || ArgError::Session(raw.chars().take(60).collect());
    let trimmed = raw.trim();
    let rest = trimmed.strip_prefix('#').unwrap_or(trimmed);
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, tail) = rest.split_at(digits_end);
    // After the number only a separator may follow, never more characters of a word.
    if !(tail.is_empty() || tail.starts_with(' ')) {
        return Err(bad());
    }
    positive(digits).ok_or_else(bad)
}

/// A log page: 1 when not given.
pub fn page(raw: Option<i64>) -> Result<i64, ArgError> {
    match raw {
        None => Ok(1),
        Some(n) if n >= 1 => Ok(n),
        Some(n) => Err(ArgError::Page(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: RoleIds = RoleIds {
        editor: RoleId::new(4),
        approver: RoleId::new(5),
    };

    #[test]
    fn configured_roles_become_editor_and_approver() {
        let a = actor(
            UserId::new(81),
            "Ana",
            &[RoleId::new(9), RoleId::new(5)],
            ROLES,
        );
        assert_eq!(a.id.as_str(), "discord:81");
        assert_eq!(a.name, "Ana");
        assert_eq!(a.roles, Roles::APPROVER);
        let both = actor(
            UserId::new(82),
            "Bo",
            &[RoleId::new(4), RoleId::new(5)],
            ROLES,
        );
        assert_eq!(both.roles, Roles::BOTH);
        let none = actor(UserId::new(83), "Cy", &[RoleId::new(6)], ROLES);
        assert_eq!(none.roles, Roles::NONE);
    }

    #[test]
    fn session_options_accept_a_number_or_a_picked_label() {
        assert_eq!(session_id("12"), Ok(12));
        assert_eq!(session_id(" #12 "), Ok(12));
        assert_eq!(session_id("#12 Midnight Deals · Draft"), Ok(12));
    }

    #[test]
    fn anything_else_is_not_a_session() {
        for raw in [
            "",
            "#",
            "abc",
            "12abc",
            "-3",
            "+3",
            "0",
            "1.5",
            "99999999999999999999",
        ] {
            assert!(session_id(raw).is_err(), "{raw:?}");
        }
        assert_eq!(
            session_id("Midnight").unwrap_err().to_string(),
            "\"Midnight\" is not a session: pick one from the list or type its number, e.g. 12."
        );
    }

    #[test]
    fn pages_start_at_one() {
        assert_eq!(page(None), Ok(1));
        assert_eq!(page(Some(3)), Ok(3));
        assert_eq!(page(Some(0)), Err(ArgError::Page(0)));
    }
}
