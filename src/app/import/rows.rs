//! Checking every row of an import: each value parsed as if typed, repeats
//! within the file, SKUs already in the draft, and the catalog (one live call
//! for all SKUs). Every problem of every row is collected; nothing is written here.

use std::collections::HashMap;

use super::{BadRow, RowProblem};
use crate::app::{AppError, Desk, InputError};
use crate::catalog::{Freshness, Product};
use crate::domain::rules::{self, RuleViolation};
use crate::domain::{DiscountPercent, Quantity, Sku};
use crate::import::ImportSheet;

/// A row that passed every check, ready to write.
pub(super) struct GoodRow {
    pub(super) row: u32,
    pub(super) sku: Sku,
    pub(super) discount: DiscountPercent,
    pub(super) quantity: Quantity,
}

/// One row on its way through the checks.
struct Checked {
    row: u32,
    sku: Option<Sku>,
    discount: Option<DiscountPercent>,
    quantity: Option<Quantity>,
    problems: Vec<RowProblem>,
}

impl Desk {
    /// Parses every row, then checks repeats, the draft's items and the
    /// catalog. Good rows come back with their product; any bad row is listed.
    pub(super) async fn check_rows(
        &self,
        table: &ImportSheet,
        in_draft: &[Sku],
    ) -> Result<(Vec<(GoodRow, Product)>, Vec<BadRow>), AppError> {
        let mut first_seen: HashMap<Sku, u32> = HashMap::new();
        let mut checked: Vec<Checked> = Vec::with_capacity(table.rows.len());
        for row in &table.rows {
            let mut problems = Vec::new();
            let sku = keep(Sku::parse(&row.sku, &self.core.policy.sku), &mut problems);
            let discount = keep(DiscountPercent::parse(&row.discount), &mut problems);
            let quantity = keep(Quantity::parse(&row.quantity), &mut problems);
            let mut sku_ok = sku;
            if let Some(s) = &sku_ok {
                if let Some(first_row) = first_seen.get(s) {
                    problems.push(RowProblem::Repeated {
                        sku: s.to_string(),
                        first_row: *first_row,
                    });
                    // Checked once, on its first row.
                    sku_ok = None;
                } else {
                    first_seen.insert(s.clone(), row.row);
                    if in_draft.contains(s) {
                        problems.push(RuleViolation::DuplicateSku { sku: s.to_string() }.into());
                    }
                }
            }
            checked.push(Checked {
                row: row.row,
                sku: sku_ok,
                discount,
                quantity,
                problems,
            });
        }

        // One live call for every SKU: stock must be current for a batch.
        let skus: Vec<Sku> = first_seen.into_keys().collect();
        let mut products = if skus.is_empty() {
            HashMap::new()
        } else {
            self.core.products(&skus, Freshness::Live).await?
        };
        for row in &mut checked {
            let Some(sku) = &row.sku else { continue };
            // A row whose quantity is unreadable is still checked for an unknown or inactive SKU.
            let quantity = row.quantity.or_else(|| Quantity::new(1).ok());
            if let Some(quantity) = quantity {
                let facts = crate::app::checks::stock_facts(products.get(sku));
                if let Err(e) = rules::check_stock(sku, quantity, facts) {
                    row.problems.push(e.into());
                }
            }
        }

        let mut good = Vec::new();
        let mut bad = Vec::new();
        for row in checked {
            match (row.sku, row.discount, row.quantity, row.problems.is_empty()) {
                (Some(sku), Some(discount), Some(quantity), true) => {
                    match products.remove(&sku) {
                        Some(product) => good.push((
                            GoodRow {
                                row: row.row,
                                sku,
                                discount,
                                quantity,
                            },
                            product,
                        )),
                        // check_stock already refuses this; never drop a row silently.
                        None => bad.push(BadRow {
                            row: row.row,
                            problems: vec![RuleViolation::UnknownSku {
                                sku: sku.to_string(),
                            }
                            .into()],
                        }),
                    }
                }
                _ => bad.push(BadRow {
                    row: row.row,
                    problems: row.problems,
                }),
            }
        }
        Ok((good, bad))
    }
}

/// The value, or its refusal added to the row's problems.
fn keep<T, E: Into<InputError>>(parsed: Result<T, E>, problems: &mut Vec<RowProblem>) -> Option<T> {
    parsed
        .map_err(|e| problems.push(RowProblem::Input(e.into())))
        .ok()
}
