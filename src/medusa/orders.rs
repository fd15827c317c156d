//! Units a sale sold, from Medusa's orders (Medusa has no per-sale cap).
//!
//! What is counted: for each line of the sale, the quantity of the order
//! items whose variant SKU is the line's, in every order Medusa created
//! inside the sale's window (`created_at` in `[starts_at, ends_at)`, by
//! Medusa's own timestamps), except orders that are `canceled` or still
//! `draft`. A return does not give units back: they were sold at the flash
//! price. An order made from a draft order counts from when the draft was
//! made (Medusa keeps that `created_at`).
//!
//! How exact: exact for the orders Medusa has when asked. Not counted are
//! carts still being checked out: Medusa reserves no stock before an order
//! is placed and stops no checkout for a sale, so between this count and
//! `end_line` taking the price off, shoppers keep buying at the flash
//! price. A line oversells by what is ordered in that gap (the bot's
//! polling interval plus one call). Every order in the window is read (a
//! page of 100 per call): the admin API cannot filter orders by variant.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::amount::from_medusa;
use super::client::{Answer, CallError};
use super::MedusaShop;
use crate::domain::Sku;
use crate::storefront::SaleRequest;

const PAGE: usize = 100;

#[derive(Debug, Deserialize)]
struct Orders {
    orders: Vec<WireOrder>,
    #[serde(default)]
    count: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct WireOrder {
    id: String,
    status: String,
    #[serde(default)]
    items: Vec<WireItem>,
}

#[derive(Debug, Deserialize)]
struct WireItem {
    #[serde(default)]
    variant_sku: Option<String>,
    quantity: Value,
}

/// Orders in these states sold nothing.
const NOT_SOLD: &[&str] = &["canceled", "draft"];

impl MedusaShop {
    pub(super) async fn count_sold(
        &self,
        sale: &SaleRequest,
    ) -> Result<HashMap<Sku, u32>, CallError> {
        let mut sold: HashMap<Sku, u32> = sale.items.iter().map(|i| (i.sku.clone(), 0)).collect();
        let from = super::timestamp(sale.window.starts_at());
        let until = super::timestamp(sale.window.ends_at());
        let mut offset = 0;
        loop {
            let offset_text = offset.to_string();
            let limit_text = PAGE.to_string();
            let answer: Answer<Orders> = self
                .api
                .admin_get(
                    "admin/orders",
                    &[
                        ("fields", "id,status,items.variant_sku,items.quantity"),
                        ("created_at[$gte]", &from),
                        ("created_at[$lt]", &until),
                        ("order", "created_at"),
                        ("limit", &limit_text),
                        ("offset", &offset_text),
                    ],
                )
                .await?;
            let page = answer.body.orders.len();
            for order in answer.body.orders {
                if NOT_SOLD.contains(&order.status.as_str()) {
                    continue;
                }
                for item in order.items {
                    let Some(sku) = item.variant_sku.as_deref().map(Sku::from_canonical) else {
                        continue;
                    };
                    let Some(units) = sold.get_mut(&sku) else {
                        continue;
                    };
                    let quantity = from_medusa(&item.quantity, 0)
                        .ok()
                        .and_then(|q| u32::try_from(q).ok())
                        .ok_or_else(|| {
                            CallError::Malformed(format!(
                                "order {}'s quantity of {sku} is not a whole number of units",
                                order.id
                            ))
                        })?;
                    *units = units.saturating_add(quantity);
                }
            }
            offset += page;
            if page == 0 || offset >= answer.body.count.unwrap_or(0) {
                break;
            }
        }
        Ok(sold)
    }
}
