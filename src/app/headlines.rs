//! What the bot answers when a command did what was asked, written once for every chat adapter, so
//! Discord, the console and `commands.md` say the same words (`tests/it/documented_messages.rs`
//! checks each documented example against these).

use chrono::{DateTime, Utc};

use super::SessionView;
use crate::chat::{Text, TimeStyle};

/// The SKU as the session stores it (upper-cased by the parser), not as it was typed.
fn stored_sku(view: &SessionView, typed: &str) -> String {
    let typed = typed.trim();
    view.items
        .iter()
        .find(|i| i.sku.as_str().eq_ignore_ascii_case(typed))
        .map_or_else(|| typed.to_uppercase(), |i| i.sku.to_string())
}

pub fn drafted(id: i64) -> Text {
    Text::from(format!("Drafted #{id}. Add six SKUs with "))
        .command("add-sku", &[("session", id.to_string())])
        .plain(".")
}

pub fn added(view: &SessionView, typed_sku: &str) -> String {
    format!("Added {} to #{}.", stored_sku(view, typed_sku), view.id)
}

pub fn changed(view: &SessionView, typed_sku: &str) -> String {
    format!("Changed {} in #{}.", stored_sku(view, typed_sku), view.id)
}

pub fn removed(view: &SessionView, typed_sku: &str) -> String {
    format!("Removed {} from #{}.", stored_sku(view, typed_sku), view.id)
}

pub fn pasted(id: i64) -> String {
    format!("Pasted into #{id}.")
}

/// `approvals` is how the platform names the approvals channel (`#approvals`, `<#123>`).
pub fn submitted(id: i64, approvals: &str) -> String {
    format!("Submitted #{id} for approval: the card is in {approvals}.")
}

/// As [`submitted`], with the channel left to the platform to write (a
/// link in Slack, `#approvals` in the console).
pub fn submitted_to_approvals(id: i64) -> Text {
    Text::from(format!("Submitted #{id} for approval: the card is in "))
        .channel(crate::chat::Channel::Approvals)
        .plain(".")
}

pub fn withdrew(id: i64) -> String {
    format!("Withdrew #{id}: it is a draft again.")
}

pub fn cancelled(id: i64) -> String {
    format!("Cancelled #{id}.")
}

pub fn revoked(id: i64) -> String {
    format!("Revoked the approval of #{id}: it is a draft again.")
}

/// `Overrode the money guards for FS-003 at 70% in #12.`, or for the budget.
pub fn overridden(view: &SessionView, input: &super::OverrideInput) -> String {
    match (&input.sku, input.discount) {
        (Some(sku), Some(discount)) => format!(
            "Overrode the money guards for {sku} at {discount} in #{}.",
            view.id
        ),
        _ => format!("Overrode the money guards' budget of #{}.", view.id),
    }
}

pub fn stopping(id: i64) -> String {
    format!("Stopping #{id}: it ends on the storefront within seconds.")
}

pub fn cloned(from: i64, into: i64) -> String {
    format!("Cloned #{from} into #{into}.")
}

pub fn approved(id: i64, starts_at: DateTime<Utc>) -> Text {
    Text::from(format!("Approved #{id}. It goes live "))
        .time(starts_at, TimeStyle::Relative)
        .plain(".")
}

pub fn rejected(id: i64) -> String {
    format!("Rejected #{id}: it is a draft again and the submitter was told why.")
}
