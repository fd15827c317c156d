//! The kinds of entries in a session's activity log.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    Drafted,
    ItemAdded,
    ItemUpdated,
    ItemRemoved,
    Submitted,
    Withdrawn,
    Approved,
    Rejected,
    Revoked,
    Cancelled,
    WentLive,
    PublishFailed,
    Expired,
    Ended,
    Stopped,
    /// Items (and for a new draft, the session) read from a spreadsheet.
    Imported,
    /// A sale that reached the storefront after its session was revoked or
    /// cancelled, taken off it again by the bot.
    TakenDown,
    /// A live sale found missing on the storefront and put back by the bot.
    Republished,
    /// An approved session whose window passed before it could go live.
    Missed,
    /// An approver allowed a line (or the budget) a money guard refused, with a reason.
    GuardOverridden,
    /// The approved sale handed to a shop that switches it on and off by its
    /// own clock, ahead of its start.
    Staged,
    /// A staged sale taken off the shop before its start: its session is no
    /// longer approved.
    Unstaged,
    /// A line whose flash quantity sold out, its flash price taken off by the
    /// bot (on a shop that does not cap the quantity itself).
    SoldOut,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 23] = [
        ActivityKind::Drafted,
        ActivityKind::ItemAdded,
        ActivityKind::ItemUpdated,
        ActivityKind::ItemRemoved,
        ActivityKind::Submitted,
        ActivityKind::Withdrawn,
        ActivityKind::Approved,
        ActivityKind::Rejected,
        ActivityKind::Revoked,
        ActivityKind::Cancelled,
        ActivityKind::WentLive,
        ActivityKind::PublishFailed,
        ActivityKind::Expired,
        ActivityKind::Ended,
        ActivityKind::Stopped,
        ActivityKind::Imported,
        ActivityKind::TakenDown,
        ActivityKind::Republished,
        ActivityKind::Missed,
        ActivityKind::GuardOverridden,
        ActivityKind::Staged,
        ActivityKind::Unstaged,
        ActivityKind::SoldOut,
    ];

    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Drafted => "drafted",
            ActivityKind::ItemAdded => "item_added",
            ActivityKind::ItemUpdated => "item_updated",
            ActivityKind::ItemRemoved => "item_removed",
            ActivityKind::Submitted => "submitted",
            ActivityKind::Withdrawn => "withdrawn",
            ActivityKind::Approved => "approved",
            ActivityKind::Rejected => "rejected",
            ActivityKind::Revoked => "revoked",
            ActivityKind::Cancelled => "cancelled",
            ActivityKind::WentLive => "went_live",
            ActivityKind::PublishFailed => "publish_failed",
            ActivityKind::Expired => "expired",
            ActivityKind::Ended => "ended",
            ActivityKind::Stopped => "stopped",
            ActivityKind::Imported => "imported",
            ActivityKind::TakenDown => "taken_down",
            ActivityKind::Republished => "republished",
            ActivityKind::Missed => "missed",
            ActivityKind::GuardOverridden => "guard_overridden",
            ActivityKind::Staged => "staged",
            ActivityKind::Unstaged => "unstaged",
            ActivityKind::SoldOut => "sold_out",
        }
    }

    pub fn from_stored(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Entries whose actor shaped what goes live; four eyes keeps them from approving it.
    pub fn shapes_content(self) -> bool {
        matches!(
            self,
            ActivityKind::Drafted
                | ActivityKind::ItemAdded
                | ActivityKind::ItemUpdated
                | ActivityKind::ItemRemoved
                | ActivityKind::Submitted
                | ActivityKind::Imported
        )
    }

    /// Stored names of the entries that shape content.
    pub fn content_shaping() -> Vec<&'static str> {
        ActivityKind::ALL
            .into_iter()
            .filter(|k| k.shapes_content())
            .map(ActivityKind::as_str)
            .collect()
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::from_stored(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn approving_does_not_count_as_shaping_content() {
        assert!(!ActivityKind::Approved.shapes_content());
        assert!(ActivityKind::ItemRemoved.shapes_content());
        assert_eq!(ActivityKind::content_shaping().len(), 6);
    }
}
