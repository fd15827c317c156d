//! A sale's record: one JSON metafield on the shop per session (namespace
//! `flashsale_bot`, key `sale-<prefix>-<session id>`), read by its key in
//! one query and replaced whole by `metafieldsSet` (the module doc of
//! `shopify` says why there). Operators can read it in Shopify's admin
//! (Settings > Custom data > Shop) and must not edit it.

use cynic::{MutationBuilder, QueryBuilder};
use serde::{Deserialize, Serialize};

use super::client::{refused, CallError};
use super::schema::q;
use super::{ShopifyShop, RECORD_NAMESPACE};
use crate::storefront::{SaleWrite, StorefrontError};

/// Where a sale stands, for people reading the record; what shoppers see
/// is read from the discounts or the prices themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum State {
    Published,
    Ended,
    Withdrawn,
}

/// One line of the sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Line {
    pub(super) sku: String,
    pub(super) variant_id: String,
    pub(super) product_id: String,
    /// The line's discount, in percent.
    pub(super) percent: u8,
    /// The flash price the bot computed, in minor units.
    pub(super) flash_minor: i64,
    /// The variant's price and compare-at price before the sale (Shopify's
    /// decimal text), stored before a price-mode sale overwrites them and
    /// never replaced by a later write of the same sale.
    pub(super) original_price: String,
    pub(super) original_compare_at: Option<String>,
    /// Its flash price taken off (sold out) while the sale runs.
    #[serde(default)]
    pub(super) ended: bool,
}

/// One automatic discount of a discount-mode sale: its percentage's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Discount {
    pub(super) percent: u8,
    pub(super) title: String,
    /// Shopify's id once known; a create whose answer was lost is found by
    /// its title.
    pub(super) id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) key: String,
    pub(super) session_id: i64,
    pub(super) mode: String,
    pub(super) revision: i64,
    pub(super) state: State,
    pub(super) starts_at: chrono::DateTime<chrono::Utc>,
    pub(super) ends_at: chrono::DateTime<chrono::Utc>,
    pub(super) lines: Vec<Line>,
    #[serde(default)]
    pub(super) discounts: Vec<Discount>,
}

impl Record {
    /// Refuses a write older than the last one applied.
    pub(super) fn admit(&self, write: &SaleWrite) -> Result<(), StorefrontError> {
        if write.revision < self.revision {
            return Err(StorefrontError::Superseded {
                applied: self.revision,
            });
        }
        Ok(())
    }

    pub(super) fn line(&self, sku: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.sku.eq_ignore_ascii_case(sku))
    }
}

/// The metafield key of a sale's record.
pub(super) fn record_key(key: &str) -> String {
    format!("sale-{key}")
}

/// The shop as one query answers it.
pub(super) struct ShopAnswer {
    pub(super) id: cynic::Id,
    pub(super) currency_code: String,
    pub(super) record: Option<String>,
    pub(super) date: Option<chrono::DateTime<chrono::Utc>>,
}

impl ShopifyShop {
    /// The shop's id, currency, and the record under `key` (if asked).
    pub(super) async fn read_shop(&self, key: Option<&str>) -> Result<ShopAnswer, CallError> {
        let operation = q::ShopQuery::build(q::ShopVariables {
            namespace: RECORD_NAMESPACE.to_owned(),
            // Any key will do when only the shop is wanted: none is found.
            key: record_key(key.unwrap_or("none")),
        });
        let answer = self.api.run(operation).await?;
        let shop = answer.data.shop;
        let currency_code = shop.currency_code.0;
        Ok(ShopAnswer {
            id: shop.id,
            currency_code,
            record: key.and(shop.metafield.map(|m| m.value)),
            date: answer.date,
        })
    }

    /// The sale's record, if it has one, and Shopify's clock at the read.
    pub(super) async fn read_record(
        &self,
        key: &str,
    ) -> Result<(Option<Record>, Option<chrono::DateTime<chrono::Utc>>), CallError> {
        self.shop().await?;
        let answer = self.read_shop(Some(key)).await?;
        let record = match answer.record {
            None => None,
            Some(text) => Some(serde_json::from_str::<Record>(&text).map_err(|e| {
                CallError::Malformed(format!("the record of sale {key} cannot be read: {e}"))
            })?),
        };
        Ok((record, answer.date))
    }

    /// Replaces the sale's record.
    pub(super) async fn write_record(&self, record: &Record) -> Result<(), CallError> {
        let shop = self.shop().await?;
        let value = serde_json::to_string(record)
            .map_err(|e| CallError::Malformed(format!("the record could not be written: {e}")))?;
        let operation = q::MetafieldsSet::build(q::MetafieldsSetVariables {
            metafields: vec![q::MetafieldsSetInput {
                owner_id: shop.id.clone(),
                namespace: RECORD_NAMESPACE.to_owned(),
                key: record_key(&record.key),
                value,
                type_: "json".to_owned(),
            }],
        });
        let answer = self.api.run(operation).await?;
        let payload = answer
            .data
            .metafields_set
            .ok_or_else(|| CallError::Malformed("metafieldsSet answered no payload".to_owned()))?;
        refused(
            "store the sale's record",
            payload
                .user_errors
                .iter()
                .map(|e| (e.field.as_deref(), e.message.as_str())),
        )
    }
}
