//! Checking every row of an import: each value parsed as if typed, repeats
//! within the file, SKUs already in the draft, and the catalog (one live call
//! for all SKUs). Every problem of every row is collected; nothing is written here.

use std::collections::HashMap;

use super::{BadRow, RowProblem};
use crate::app::intake::{checked_product, parse_item, CheckedItem};
use crate::app::{AppError, Desk, InputError};
use crate::catalog::Freshness;
use crate::domain::rules::RuleViolation;
use crate::domain::{DiscountPercent, Quantity, Sku};
use crate::import::ImportSheet;

/// A row that passed every check, ready to write.
pub(super) struct GoodRow {
    pub(super) row: u32,
    pub(super) item: CheckedItem,
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
        session_id: Option<i64>,
    ) -> Result<(Vec<GoodRow>, Vec<BadRow>), AppError> {
        let mut first_seen: HashMap<Sku, u32> = HashMap::new();
        let mut checked: Vec<Checked> = Vec::with_capacity(table.rows.len());
        for row in &table.rows {
            let mut problems = Vec::new();
            // Parsed as typed items are, every value on its own.
            let fields = parse_item(&row.sku, &row.discount, &row.quantity, &self.core.policy);
            let sku = keep(fields.sku, &mut problems);
            let discount = keep(fields.discount, &mut problems);
            let quantity = keep(fields.quantity, &mut problems);
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
        let products = if skus.is_empty() {
            HashMap::new()
        } else {
            self.core.products(&skus, Freshness::Live).await?
        };
        // The catalog's verdict on each SKU, as adding it by hand would give.
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for mut row in checked {
            let Some(sku) = row.sku else {
                bad.push(BadRow {
                    row: row.row,
                    problems: row.problems,
                });
                continue;
            };
            // A row whose quantity is unreadable is still checked for an unknown or inactive SKU.
            let product = match row.quantity.or_else(|| Quantity::new(1).ok()) {
                Some(quantity) => checked_product(&sku, quantity, products.get(&sku).cloned())
                    .map_err(|e| row.problems.push(e.into()))
                    .ok(),
                None => None,
            };
            match (product, row.discount, row.quantity, row.problems.is_empty()) {
                (Some(product), Some(discount), Some(quantity), true) => good.push(GoodRow {
                    row: row.row,
                    item: CheckedItem {
                        sku,
                        discount,
                        quantity,
                        product,
                        guard: Default::default(),
                    },
                }),
                _ => bad.push(BadRow {
                    row: row.row,
                    problems: row.problems,
                }),
            }
        }
        self.core.record_prices(products.values()).await;
        // The money guards, as adding each row by hand would apply them.
        let mut items: Vec<CheckedItem> = good.iter().map(|g: &GoodRow| g.item.clone()).collect();
        let refused = {
            let mut conn = self.core.pool.acquire().await?;
            self.core
                .guard_items(&mut conn, session_id, &mut items)
                .await?
        };
        let mut passed = Vec::with_capacity(good.len());
        for ((row, item), findings) in good.into_iter().zip(items).zip(refused) {
            if findings.is_empty() {
                passed.push(GoodRow { row: row.row, item });
            } else {
                bad.push(BadRow {
                    row: row.row,
                    problems: findings
                        .into_iter()
                        .map(|f| RuleViolation::Guard(Box::new(f)).into())
                        .collect(),
                });
            }
        }
        bad.sort_by_key(|b| b.row);
        Ok((passed, bad))
    }
}

/// The value, or its refusal added to the row's problems.
fn keep<T>(parsed: Result<T, InputError>, problems: &mut Vec<RowProblem>) -> Option<T> {
    parsed.map_err(|e| problems.push(RowProblem::Input(e))).ok()
}
