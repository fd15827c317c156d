//! Activity-log entries in words, for every chat adapter.
//!
//! The log stores structured details (`before`/`after`, reasons, times); this
//! is the one place that turns them into a sentence. Details are read
//! defensively: older entries may lack a field, and that must not fail a page.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::chat::{Text, TimeStyle};
use crate::domain::ActivityKind;
use crate::store::ActivityRecord;

impl ActivityRecord {
    /// What the actor did, e.g. `changed FS-002: discount 30% → 45%`.
    pub fn describe(&self) -> Text {
        let Some(kind) = self.kind() else {
            return Text::from(self.action.replace('_', " "));
        };
        let d = &self.details;
        let s = |key: &str| d.get(key).and_then(Value::as_str).unwrap_or("?").to_owned();
        let n = |key: &str| {
            d.get(key)
                .and_then(Value::as_i64)
                .map_or("?".to_owned(), |n| n.to_string())
        };
        let reason = match d.get("reason").and_then(Value::as_str) {
            Some(r) if !r.is_empty() => format!(": {r}"),
            _ => String::new(),
        };
        let text = match kind {
            ActivityKind::Drafted => {
                let at = |key: &str| {
                    d.get(key)
                        .and_then(Value::as_str)
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&Utc))
                };
                let drafted = Text::from(format!("drafted \"{}\"", s("title")));
                return match (at("starts_at"), at("ends_at")) {
                    (Some(from), Some(to)) => drafted
                        .plain(" for ")
                        .time(from, TimeStyle::Full)
                        .plain(" → ")
                        .time(to, TimeStyle::Full),
                    _ => drafted,
                };
            }
            ActivityKind::ItemAdded => {
                let quantity = n("quantity");
                let units = if quantity == "1" { "unit" } else { "units" };
                format!(
                    "added {} ({}) at {}% off, {quantity} {units}",
                    s("sku"),
                    s("product_name"),
                    n("discount_percent"),
                )
            }
            ActivityKind::ItemUpdated => {
                let change = |key: &str, unit: &str| {
                    let side =
                        |side: &str| d.get(side).and_then(|v| v.get(key)).and_then(Value::as_i64);
                    match (side("before"), side("after")) {
                        (Some(b), Some(a)) if a != b => Some(format!("{b}{unit} → {a}{unit}")),
                        _ => None,
                    }
                };
                let parts: Vec<String> = [
                    change("discount_percent", "%").map(|c| format!("discount {c}")),
                    change("quantity", "").map(|c| format!("quantity {c}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                if parts.is_empty() {
                    format!("re-checked {}", s("sku"))
                } else {
                    format!("changed {}: {}", s("sku"), parts.join(", "))
                }
            }
            ActivityKind::ItemRemoved => format!("removed {}", s("sku")),
            ActivityKind::Submitted => "submitted it for approval".to_owned(),
            ActivityKind::Withdrawn => "withdrew it from approval".to_owned(),
            ActivityKind::Approved => format!("approved version {}", n("version")),
            ActivityKind::Rejected => format!("rejected it{reason}"),
            ActivityKind::Revoked => format!("revoked the approval{reason}"),
            ActivityKind::Cancelled => format!("cancelled it{reason}"),
            ActivityKind::Stopped => format!("stopped it early{reason}"),
            ActivityKind::WentLive => "published it: live on the storefront".to_owned(),
            ActivityKind::PublishFailed => format!("could not publish it: {}", s("error")),
            ActivityKind::Expired => "expired it: not approved by the deadline".to_owned(),
            ActivityKind::Ended => "ended it".to_owned(),
            ActivityKind::TakenDown => format!(
                "took its sale off the storefront again: it went up after the session became {}",
                s("status")
            ),
            ActivityKind::Republished => {
                "put its sale back on the storefront: it was missing there while live".to_owned()
            }
            ActivityKind::Missed => {
                "marked it missed: its window had passed before it could go live".to_owned()
            }
            ActivityKind::Staged => {
                "staged its sale on the shop, which switches it on at the start".to_owned()
            }
            ActivityKind::Unstaged => format!(
                "took its staged sale off the shop: the session became {}",
                s("status")
            ),
            ActivityKind::SoldOut => format!(
                "took {}'s flash price off: {} of {} sold",
                s("sku"),
                n("sold"),
                n("quantity")
            ),
            ActivityKind::Imported => return describe_import(d),
            ActivityKind::GuardOverridden => match d.get("sku").and_then(Value::as_str) {
                Some(sku) => format!(
                    "overrode the money guards for {sku} at {}% off{reason}",
                    n("discount_percent")
                ),
                None => format!("overrode the money guards' budget{reason}"),
            },
        };
        Text::from(text)
    }
}

/// `imported "sale.xlsx" as draft "Deals" for <from> → <to>: 6 SKUs (FS-001, ...)`,
/// or `imported 2 SKUs from "more.csv" (FS-007, FS-008)` into an existing draft.
fn describe_import(d: &Value) -> Text {
    let s = |key: &str| d.get(key).and_then(Value::as_str).unwrap_or("?").to_owned();
    let skus: Vec<&str> = d
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("sku").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let noun = if skus.len() == 1 { "SKU" } else { "SKUs" };
    let list = format!("{} {noun} ({})", skus.len(), skus.join(", "));
    if d.get("created").and_then(Value::as_bool) != Some(true) {
        return Text::from(format!("imported {list} from \"{}\"", s("file_name")));
    }
    let at = |key: &str| {
        d.get(key)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let head = Text::from(format!(
        "imported \"{}\" as draft \"{}\"",
        s("file_name"),
        s("title")
    ));
    match (at("starts_at"), at("ends_at")) {
        (Some(from), Some(to)) => head
            .plain(" for ")
            .time(from, TimeStyle::Full)
            .plain(" → ")
            .time(to, TimeStyle::Full)
            .plain(format!(": {list}")),
        _ => head.plain(format!(": {list}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(action: &str, details: Value) -> ActivityRecord {
        ActivityRecord {
            id: 1,
            session_id: 1,
            at: DateTime::UNIX_EPOCH,
            actor_id: "test:alice".into(),
            actor_name: "alice".into(),
            action: action.into(),
            details,
        }
    }

    fn plain(text: Text) -> String {
        text.render(|at, _| at.format("%H:%M").to_string())
    }

    #[test]
    fn an_item_change_names_what_changed() {
        let e = entry(
            "item_updated",
            json!({"sku": "FS-002", "before": {"discount_percent": 30, "quantity": 10},
                   "after": {"discount_percent": 45, "quantity": 10}}),
        );
        assert_eq!(plain(e.describe()), "changed FS-002: discount 30% → 45%");
    }

    #[test]
    fn a_draft_shows_its_window_as_times() {
        let e = entry(
            "drafted",
            json!({"title": "Deals", "starts_at": "2026-11-26T17:00:00Z", "ends_at": "2026-11-27T05:00:00Z"}),
        );
        assert_eq!(plain(e.describe()), "drafted \"Deals\" for 17:00 → 05:00");
    }

    #[test]
    fn an_import_names_the_file_and_the_skus() {
        let created = entry(
            "imported",
            json!({"file_name": "sale.xlsx", "created": true, "title": "Deals",
                   "starts_at": "2026-11-26T17:00:00Z", "ends_at": "2026-11-27T05:00:00Z",
                   "items": [{"sku": "FS-001"}, {"sku": "FS-002"}]}),
        );
        assert_eq!(
            plain(created.describe()),
            "imported \"sale.xlsx\" as draft \"Deals\" for 17:00 → 05:00: 2 SKUs (FS-001, FS-002)"
        );
        let filled = entry(
            "imported",
            json!({"file_name": "more.csv", "created": false, "items": [{"sku": "FS-007"}]}),
        );
        assert_eq!(
            plain(filled.describe()),
            "imported 1 SKU (FS-007) from \"more.csv\""
        );
    }

    #[test]
    fn one_unit_is_one_unit() {
        let added = |quantity: i64| {
            plain(
                entry(
                    "item_added",
                    json!({"sku": "FS-001", "product_name": "Kopi", "discount_percent": 30, "quantity": quantity}),
                )
                .describe(),
            )
        };
        assert_eq!(added(1), "added FS-001 (Kopi) at 30% off, 1 unit");
        assert_eq!(added(10), "added FS-001 (Kopi) at 30% off, 10 units");
    }

    #[test]
    fn missing_details_and_unknown_actions_do_not_fail() {
        assert_eq!(
            plain(entry("item_added", json!({})).describe()),
            "added ? (?) at ?% off, ? units"
        );
        assert_eq!(
            plain(entry("something_new", json!({})).describe()),
            "something new"
        );
        assert_eq!(
            plain(entry("rejected", json!({"reason": "typo"})).describe()),
            "rejected it: typo"
        );
    }
}
