//! A published sale as the storefront keeps it (`StoredSale`) and where it is in its life (`Status`).
//! Status is computed when read, never stored, so a sale goes live and ends without any timer in the
//! server, and a test can ask about any instant. The sale also keeps the revision of the last write
//! applied to it, which every answer shows, so a person comparing the shop with the bot can see which
//! decision the shop is following.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::sale::Sale;

/// Where a sale is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    Scheduled,
    Live,
    Ended,
}

/// A published sale and what happened to it since (also what `saved` keeps on disk).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub(crate) struct StoredSale {
    pub sale: Sale,
    /// When the (latest) publish arrived.
    pub published_at: DateTime<Utc>,
    /// When a DELETE ended it early; `None` while it follows its own window.
    pub ended_at: Option<DateTime<Utc>>,
    /// The revision of the last write applied to this sale: its publish, or a later end.
    pub revision: i64,
}

impl StoredSale {
    /// Scheduled before `starts_at`, live in `[starts_at, ends_at)`, ended after or once deleted.
    pub(crate) fn status_at(&self, now: DateTime<Utc>) -> Status {
        if self.ended_at.is_some() || now >= self.sale.ends_at {
            Status::Ended
        } else if now < self.sale.starts_at {
            Status::Scheduled
        } else {
            Status::Live
        }
    }

    /// The answer of `GET /api/flash-sales/{id}`: the sale's fields plus status, timestamps and the
    /// last applied revision.
    pub(crate) fn to_json(&self, now: DateTime<Utc>) -> Value {
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(flatten)]
            sale: &'a Sale,
            status: Status,
            published_at: DateTime<Utc>,
            ended_at: Option<DateTime<Utc>>,
            revision: i64,
        }
        let view = View {
            sale: &self.sale,
            status: self.status_at(now),
            published_at: self.published_at,
            ended_at: self.ended_at,
            revision: self.revision,
        };
        // Plain strings, numbers and dates always serialize; Null is unreachable, not a fallback.
        serde_json::to_value(view).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devstore::sale::SaleItem;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    fn stored(ended_at: Option<&str>) -> StoredSale {
        let item = |n: i64| SaleItem {
            sku: format!("FS-{n:03}"),
            name: format!("Product {n}"),
            discount_percent: 30,
            base_price_minor: 149_500,
            flash_price_minor: 104_650,
            quantity: 10,
        };
        StoredSale {
            sale: Sale {
                session_id: 12,
                title: "Midnight Deals".into(),
                starts_at: at("2026-11-26T17:00:00Z"),
                ends_at: at("2026-11-27T05:00:00Z"),
                currency: "IDR".into(),
                items: (1..=6).map(item).collect(),
            },
            published_at: at("2026-11-26T10:00:00Z"),
            ended_at: ended_at.map(at),
            revision: 41,
        }
    }

    #[test]
    fn status_follows_the_window() {
        let sale = stored(None);
        assert_eq!(
            sale.status_at(at("2026-11-26T16:59:59Z")),
            Status::Scheduled
        );
        assert_eq!(sale.status_at(at("2026-11-26T17:00:00Z")), Status::Live);
        assert_eq!(sale.status_at(at("2026-11-27T04:59:59Z")), Status::Live);
        assert_eq!(sale.status_at(at("2026-11-27T05:00:00Z")), Status::Ended);
    }

    #[test]
    fn a_sale_ended_early_is_ended_even_inside_its_window() {
        let sale = stored(Some("2026-11-26T18:00:00Z"));
        assert_eq!(sale.status_at(at("2026-11-26T20:00:00Z")), Status::Ended);
    }

    #[test]
    fn the_json_carries_the_body_fields_status_timestamps_and_revision() {
        let v = stored(None).to_json(at("2026-11-26T18:00:00Z"));
        assert_eq!(v["session_id"], 12);
        assert_eq!(v["status"], "live");
        assert_eq!(v["starts_at"], "2026-11-26T17:00:00Z");
        assert_eq!(v["published_at"], "2026-11-26T10:00:00Z");
        assert_eq!(v["ended_at"], Value::Null);
        assert_eq!(v["revision"], 41);
        assert_eq!(v["items"].as_array().map(Vec::len), Some(6));
    }
}
