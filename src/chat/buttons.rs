//! The ids the bot's card buttons carry: `fs:<action>:<session>:<version>`.
//!
//! Part of the chat port, because every adapter puts them on its buttons
//! (Discord's `custom_id`, Slack's `action_id`/`value`, the console's list)
//! and gets them back when one is pressed. A pressed id is input like any
//! other, so it is parsed strictly; the version is the one the card showed,
//! so a press on an outdated card can be refused.

use std::fmt;

use crate::domain::number::positive;

const BUTTON_PREFIX: &str = "fs";

/// What a card button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    Approve,
    Reject,
}

impl CardAction {
    fn as_str(self) -> &'static str {
        match self {
            CardAction::Approve => "approve",
            CardAction::Reject => "reject",
        }
    }
}

/// A button id: `fs:<action>:<session>:<version>`. The version is the one the
/// card showed, so a press on an outdated card can be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonId {
    pub action: CardAction,
    pub session_id: i64,
    pub version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "This button is not one of ours or is damaged ({0:?}); use the buttons on the latest card."
)]
pub struct ButtonIdError(pub String);

impl ButtonId {
    pub fn parse(raw: &str) -> Result<ButtonId, ButtonIdError> {
        let bad = || ButtonIdError(raw.chars().take(100).collect());
        let mut parts = raw.split(':');
        let (Some(prefix), Some(action), Some(session), Some(version), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        if prefix != BUTTON_PREFIX {
            return Err(bad());
        }
        let action = match action {
            "approve" => CardAction::Approve,
            "reject" => CardAction::Reject,
            _ => return Err(bad()),
        };
        let session_id = positive(session).ok_or_else(bad)?;
        let version = positive(version).ok_or_else(bad)?;
        Ok(ButtonId {
            action,
            session_id,
            version,
        })
    }
}

impl fmt::Display for ButtonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{BUTTON_PREFIX}:{}:{}:{}",
            self.action.as_str(),
            self.session_id,
            self.version
        )
    }
}
