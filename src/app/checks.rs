//! A session's items against the live catalog: known, active, in stock, same price.
//!
//! Shared by the use cases people run (`lifecycle`: submit, approve) and the
//! ones the scheduler runs (`system`: the heads-up re-check), so neither
//! module needs the other for it.

use std::collections::HashMap;

use super::AppError;
use crate::catalog::Product;
use crate::domain::rules::{self, RuleViolation};
use crate::domain::{Money, Policy, Sku, StockFacts};
use crate::store::ItemRecord;

pub(super) fn stock_facts(product: Option<&Product>) -> Option<StockFacts> {
    product.map(|p| StockFacts {
        active: p.active,
        stock: p.stock,
    })
}

pub(super) fn skus_of(items: &[ItemRecord]) -> Vec<Sku> {
    items.iter().map(|i| i.sku.clone()).collect()
}

/// Checks every item against the catalog (known, active, enough stock, same
/// base price as when it was set) and reports all problems at once.
pub(super) fn item_problems(
    items: &[ItemRecord],
    products: &HashMap<Sku, Product>,
    policy: &Policy,
) -> Result<Vec<RuleViolation>, AppError> {
    let mut problems = Vec::new();
    for item in items {
        let sku = &item.sku;
        let product = products.get(sku);
        let checked =
            rules::check_stock(sku, item.quantity, stock_facts(product)).and_then(
                |()| match product {
                    Some(p) => rules::check_price(
                        sku,
                        &Money::from_minor(item.base_price_minor, policy.currency.clone()),
                        &p.price,
                    ),
                    None => Ok(()),
                },
            );
        if let Err(problem) = checked {
            problems.push(problem);
        }
    }
    Ok(problems)
}
