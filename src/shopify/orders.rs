//! Units sold, for the flash quantity the bot watches (Shopify has no cap
//! per automatic discount or per price change).
//!
//! A line's units sold are the `quantity` of its SKU over every order
//! Shopify created inside the sale's window (`created_at` in
//! `[starts_at, ends_at)`, Shopify's search on its own timestamps), except
//! cancelled orders. A refund does not give units back: they sold at the
//! flash price. Up to 50 lines of an order are read (a flash sale's order
//! with more is not expected; the rest would go uncounted).
//!
//! How exact: exact for the orders Shopify has when asked; checkouts still
//! being paid are not orders yet, so a line oversells by what is ordered
//! between this count and `end_line` (the bot's watch interval plus a few
//! calls). Needs the `read_orders` scope; Shopify shows a custom app only
//! the last 60 days of orders, far more than one sale.

use std::collections::HashMap;

use cynic::QueryBuilder;

use super::client::CallError;
use super::schema::{q, timestamp};
use super::ShopifyShop;
use crate::domain::Sku;
use crate::storefront::SaleRequest;

impl ShopifyShop {
    pub(super) async fn count_sold(
        &self,
        sale: &SaleRequest,
    ) -> Result<HashMap<Sku, u32>, CallError> {
        let mut sold: HashMap<Sku, u32> = sale.items.iter().map(|i| (i.sku.clone(), 0)).collect();
        let by_upper: HashMap<String, Sku> = sale
            .items
            .iter()
            .map(|i| (i.sku.as_str().to_uppercase(), i.sku.clone()))
            .collect();
        let query = format!(
            "created_at:>='{}' AND created_at:<'{}'",
            timestamp(sale.window.starts_at()),
            timestamp(sale.window.ends_at())
        );
        let mut after = None;
        loop {
            let answer = self
                .api
                .run(q::OrdersQuery::build(q::OrdersVariables {
                    query: query.clone(),
                    after: after.take(),
                }))
                .await?;
            let page = answer.data.orders;
            for order in page.nodes {
                if order.cancelled_at.is_some() {
                    continue;
                }
                for item in order.line_items.nodes {
                    let Some(sku) = item
                        .sku
                        .as_deref()
                        .and_then(|s| by_upper.get(&s.trim().to_uppercase()))
                    else {
                        continue;
                    };
                    let quantity = u32::try_from(item.quantity).map_err(|_| {
                        CallError::Malformed(format!(
                            "order {}'s quantity of {sku} is negative",
                            order.id.inner()
                        ))
                    })?;
                    if let Some(units) = sold.get_mut(sku) {
                        *units = units.saturating_add(quantity);
                    }
                }
            }
            match page.page_info.end_cursor {
                Some(cursor) if page.page_info.has_next_page => after = Some(cursor),
                _ => break,
            }
        }
        Ok(sold)
    }
}
