//! The business settings every rule is tuned by, built once from configuration.
//!
//! Kept apart from `rules` and `schedule` because both read it: the policy
//! depends on the value types' own rules, and nothing in it depends back.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::guards::GuardRules;
use super::money::Currency;
use super::sku::SkuRules;
use super::window::WindowRules;

/// The business settings the rules depend on, built once from configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    pub sku: SkuRules,
    pub window: WindowRules,
    /// Approval closes this long before a session starts.
    pub approval_cutoff: Duration,
    /// When true, whoever edited a session may not approve it.
    pub four_eyes: bool,
    pub currency: Currency,
    /// Times are typed and shown in this zone; stored in UTC.
    pub time_zone: Tz,
    /// Reminders and the heads-up before go-live.
    pub schedule: SchedulePolicy,
    /// The money guards: a real discount, margin and price floors, budgets.
    pub guards: GuardRules,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// Reminders go out this long before the approval deadline.
    pub reminder_offsets: Vec<Duration>,
    /// An approved session is re-checked and announced this long before it starts.
    pub heads_up_lead: Duration,
    /// What the shop does by itself, which decides the jobs a sale needs.
    pub shop: ShopCapabilities,
}

/// What a shop can do beyond publishing at the start and ending at the end
/// (the storefront port's `capabilities`, known once the shop is connected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShopCapabilities {
    /// The shop switches a sale on and off by its own clock at the window's
    /// edges: the bot stages the sale when it is approved and, at the start,
    /// confirms it instead of putting it up.
    pub schedules_sales: bool,
    /// The shop stops selling a line at its flash price once the line's flash
    /// quantity is sold. Where it does not, the bot watches the units sold
    /// while the sale is live and takes a sold-out line off itself.
    pub caps_quantity: bool,
}

impl Default for SchedulePolicy {
    fn default() -> SchedulePolicy {
        SchedulePolicy {
            reminder_offsets: vec![
                Duration::hours(24),
                Duration::hours(6),
                Duration::hours(1),
                Duration::minutes(15),
            ],
            heads_up_lead: Duration::minutes(15),
            // Today's contract: publish at the start, the shop caps quantities.
            shop: ShopCapabilities {
                schedules_sales: false,
                caps_quantity: true,
            },
        }
    }
}

/// Approval closes `approval_cutoff` before a session starts.
pub fn approval_deadline(starts_at: DateTime<Utc>, policy: &Policy) -> DateTime<Utc> {
    starts_at - policy.approval_cutoff
}
