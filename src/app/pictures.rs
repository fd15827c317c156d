//! The pictures' models made from the use cases' views: which texts each tile and bar shows, and
//! what the money guards saw (for approvers, drawn apart from the shoppers' tiles).
//!
//! `render` only draws a model; deciding what a session looks like to shoppers (its items in slot
//! order, an empty slot or a product the catalog lost drawn broken) is the app's, so the renderer
//! needs nothing from `app` or `catalog`.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{SessionSummaryView, SessionView};
use crate::catalog::Product;
use crate::domain::{Money, Sku, MAX_ITEMS};
use crate::render::{
    Bar, BarTone, BudgetLeft, DaySheet, Held, SaleSheet, SheetMoney, Tile, TileGuard, TileProblem,
};

/// The session as it stands: its items in slot order, an empty slot broken.
pub fn sale_sheet(view: &SessionView) -> SaleSheet {
    let mut items: Vec<_> = view.items.iter().collect();
    items.sort_by_key(|i| i.slot);
    let mut tiles: Vec<Tile> = items
        .into_iter()
        .take(MAX_ITEMS)
        .map(|item| Tile::Product {
            sku: item.sku.as_str().to_owned(),
            name: item.product_name.clone(),
            was: item.base_price.to_string(),
            now: item.flash_price.to_string(),
            badge: format!("-{}", item.discount),
            quantity: item.quantity.get(),
            guard: TileGuard {
                low: item.money.reference.as_ref().map(ToString::to_string),
                margin: item.money.margin.as_ref().map(ToString::to_string),
                flagged: !item.money.flags.is_empty(),
                overridden: item.money.overridden,
            },
        })
        .collect();
    while tiles.len() < MAX_ITEMS {
        tiles.push(Tile::Broken {
            sku: None,
            name: None,
            problem: TileProblem::Empty,
        });
    }
    SaleSheet {
        session_id: view.id,
        title: view.title.clone(),
        status: view.status.label().to_owned(),
        starts_at: view.window.starts_at(),
        ends_at: view.window.ends_at(),
        tiles,
        money: sheet_money(view),
    }
}

/// The give-away and the budget left, as the card writes them; over the budget, by how much.
fn sheet_money(view: &SessionView) -> SheetMoney {
    let money = &view.money;
    SheetMoney {
        giveaway: money.giveaway.as_ref().map(ToString::to_string),
        budget: money.budget_left.as_ref().map(|left| {
            if left.minor() < 0 {
                let over =
                    Money::from_minor(left.minor().saturating_neg(), left.currency().clone());
                BudgetLeft::Over(over.to_string())
            } else {
                BudgetLeft::Left(left.to_string())
            }
        }),
    }
}

/// Breaks the tiles whose product the catalog's answer lacks or lists as inactive.
pub fn with_catalog(mut sheet: SaleSheet, products: &HashMap<Sku, Product>) -> SaleSheet {
    for tile in &mut sheet.tiles {
        let Tile::Product { sku, name, .. } = tile else {
            continue;
        };
        let problem = match products.get(&Sku::from_canonical(sku.as_str())) {
            None => TileProblem::NotInCatalog,
            Some(p) if !p.active => TileProblem::Inactive,
            Some(_) => continue,
        };
        *tile = Tile::Broken {
            sku: Some(sku.clone()),
            name: Some(name.clone()),
            problem,
        };
    }
    sheet
}

/// The digest's timeline from `first_day` on: one bar per listed session.
pub fn day_sheet(first_day: NaiveDate, sessions: &[SessionSummaryView]) -> DaySheet {
    DaySheet {
        first_day,
        bars: sessions
            .iter()
            .map(|s| Bar {
                session_id: s.id,
                title: s.title.clone(),
                status: s.status.label().to_owned(),
                tone: BarTone::from(s.status),
                starts_at: s.window.starts_at(),
                ends_at: s.window.ends_at(),
                item_count: s.item_count,
                held: match s.holds() {
                    None => Held::Nothing,
                    Some((_, end)) if end >= s.window.ends_at() => Held::Window,
                    Some((_, end)) => Held::Until(end),
                },
            })
            .collect(),
    }
}
