//! Units sold, for the flash quantity the bot watches (Shopify has no cap
//! per automatic discount or per price change).
//!
//! A line's units sold are the `quantity` of its SKU over every order
//! Shopify created inside the sale's window (`created_at` in
//! `[starts_at, ends_at)`, Shopify's search on its own timestamps), except
//! cancelled orders. A refund does not give units back: they sold at the
//! flash price. An order's first 50 lines come with the order; the rare
//! order with more is read on, 250 lines a call, so no line goes uncounted.
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
        let mut tally = Tally {
            sold: sale.items.iter().map(|i| (i.sku.clone(), 0)).collect(),
            by_upper: sale
                .items
                .iter()
                .map(|i| (i.sku.as_str().to_uppercase(), i.sku.clone()))
                .collect(),
        };
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
                tally.add(&order.id, order.line_items.nodes)?;
                let mut lines = order.line_items.page_info;
                while let Some(cursor) = lines.end_cursor.filter(|_| lines.has_next_page) {
                    let more = self
                        .api
                        .run(q::OrderLinesQuery::build(q::OrderLinesVariables {
                            id: order.id.clone(),
                            after: Some(cursor),
                        }))
                        .await?
                        .data
                        .order
                        .ok_or_else(|| {
                            CallError::Malformed(format!(
                                "order {} went missing while its lines were read",
                                order.id.inner()
                            ))
                        })?;
                    tally.add(&order.id, more.line_items.nodes)?;
                    lines = more.line_items.page_info;
                }
            }
            match page.page_info.end_cursor {
                Some(cursor) if page.page_info.has_next_page => after = Some(cursor),
                _ => break,
            }
        }
        Ok(tally.sold)
    }
}

/// Units sold per SKU of the sale, as orders' lines are read.
struct Tally {
    sold: HashMap<Sku, u32>,
    /// The sale's SKUs by their upper-case spelling: Shopify keeps a SKU as typed.
    by_upper: HashMap<String, Sku>,
}

impl Tally {
    fn add(&mut self, order: &cynic::Id, lines: Vec<q::LineItem>) -> Result<(), CallError> {
        for item in lines {
            let Some(sku) = item
                .sku
                .as_deref()
                .and_then(|s| self.by_upper.get(&s.trim().to_uppercase()))
            else {
                continue;
            };
            let quantity = u32::try_from(item.quantity).map_err(|_| {
                CallError::Malformed(format!(
                    "order {}'s quantity of {sku} is negative",
                    order.inner()
                ))
            })?;
            if let Some(units) = self.sold.get_mut(sku) {
                *units = units.saturating_add(quantity);
            }
        }
        Ok(())
    }
}
