//! One session's Flash Sale section as shoppers will see it: the storefront's header, the sale's
//! title and window, and six tiles (name, SKU, base price struck through, flash price, discount
//! badge, quantity) in the storefront's colours and text (`src/devstore/page.rs`).
//!
//! A slot without a sellable product is drawn as a broken tile (dashed red frame, hatched, saying
//! why) rather than left out, so an approver sees the gap the shoppers would.
//!
//! The SVG mirrors the page's markup where it can: each tile is `<g class="tile" data-sku="...">`
//! and its texts carry the page's classes (`name`, `sku`, `was`, `now`, `badge`, `qty`), so a test
//! can hold the picture's text against the page's DOM.
//!
//! What the money guards saw is drawn too, for approvers, apart from the storefront so the shoppers'
//! view stays honest: a dashed grey strip under a tile (`<g class="guard" data-sku="...">`: the
//! 30-day low and the margin where known, ⚠ for a flagged or overridden line) and a band at the
//! bottom (`<g class="guard session">`: the give-away and the budget left). None of it is inside a
//! `tile` group, and nothing of it is on the page.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::svg::{self, Face, ACCENT, BACKGROUND, CARD, INK, MONO, MUTED, SANS};
use super::{HEIGHT, WIDTH};
use crate::domain::window::format_span;

/// What the picture of one session shows: the texts as shoppers read them, so the model stores
/// (the outbox keeps messages as JSON) and draws the same wherever it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSheet {
    pub session_id: i64,
    pub title: String,
    /// The status's label, shown small in the header: approvers must not mistake a preview for
    /// the live page.
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Always `MAX_ITEMS` tiles, in slot order.
    pub tiles: Vec<Tile>,
    /// The session's money, for approvers (not on the storefront). Absent from messages stored
    /// before it was drawn: they decode with none.
    #[serde(default)]
    pub money: SheetMoney,
}

/// The session's money as the band under the tiles shows it (texts as the cards write them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetMoney {
    /// `IDR 1,234,500`: quantity x (price - flash price) over the lines; none without items.
    pub giveaway: Option<String>,
    /// What is left of the session budget, or how far over it; none without a budget.
    pub budget: Option<BudgetLeft>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BudgetLeft {
    /// `IDR 765,500` still to give.
    Left(String),
    /// `IDR 20,000` beyond the budget (an approver overrode it, or the card says why not).
    Over(String),
}

/// What the money guards saw of one line, drawn under its tile for approvers: never shoppers' text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TileGuard {
    /// `IDR 140,000`: the lowest price of the reference period (the 30-day low), where known.
    pub low: Option<String>,
    /// `IDR 19,650`: the flash price less the unit cost, a unit, where the cost is known.
    pub margin: Option<String>,
    /// The guards flagged the line (suspicious, not refused).
    pub flagged: bool,
    /// An approver overrode a refusal of the line.
    pub overridden: bool,
}

impl TileGuard {
    fn is_empty(&self) -> bool {
        self.low.is_none() && self.margin.is_none() && !self.marked()
    }

    fn marked(&self) -> bool {
        self.flagged || self.overridden
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tile {
    /// A product shoppers can buy, with the texts the page shows (`IDR 149,500`, `-30%`).
    Product {
        sku: String,
        name: String,
        was: String,
        now: String,
        badge: String,
        quantity: u32,
        /// For approvers, under the tile. Absent from messages stored before it was drawn.
        #[serde(default)]
        guard: TileGuard,
    },
    /// A slot shoppers would see empty or unbuyable.
    Broken {
        /// Present unless the slot is empty.
        sku: Option<String>,
        name: Option<String>,
        problem: TileProblem,
    },
}

/// Why a tile is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TileProblem {
    /// No SKU in this slot yet.
    Empty,
    /// The catalog does not know the SKU (any more).
    NotInCatalog,
    /// The catalog lists the product as inactive: shoppers cannot buy it.
    Inactive,
}

impl TileProblem {
    fn headline(self) -> &'static str {
        match self {
            TileProblem::Empty => "Empty slot",
            TileProblem::NotInCatalog => "Not in the catalog",
            TileProblem::Inactive => "Inactive product",
        }
    }

    fn advice(self) -> &'static str {
        match self {
            TileProblem::Empty => "Shoppers would see a gap here",
            TileProblem::NotInCatalog => "Shoppers cannot find it",
            TileProblem::Inactive => "Shoppers cannot buy it",
        }
    }
}

/// Where the tiles sit: three columns, two rows (the page's grid at a tablet's width), each tile
/// with room for its guard strip under it, and the session's guard band at the bottom.
const COLUMNS: usize = 3;
const MARGIN: f32 = 40.0;
const GAP: f32 = 20.0;
const TILES_TOP: f32 = 136.0;
const TILE_W: f32 = (WIDTH as f32 - 2.0 * MARGIN - (COLUMNS as f32 - 1.0) * GAP) / COLUMNS as f32;
const TILE_H: f32 = 190.0;
const PAD: f32 = 20.0;
/// The guard strip: this far under its tile, this high.
const STRIP_GAP: f32 = 4.0;
const STRIP_H: f32 = 24.0;
/// From a strip to the next row's tile.
const ROW_GAP: f32 = 12.0;
const ROW_PITCH: f32 = TILE_H + STRIP_GAP + STRIP_H + ROW_GAP;
/// The session's band, at the bottom.
const BAND_TOP: f32 = TILES_TOP + 2.0 * ROW_PITCH - ROW_GAP + 10.0;
const BAND_H: f32 = 28.0;

/// The guards' look: grey and dashed like a note on a printout, nothing of the storefront's.
const GUARD_FILL: &str = "#e9ebf0";
const GUARD_LINE: &str = "#8d93a0";
const GUARD_INK: &str = "#3b404b";
/// The ⚠ mark: amber, not the storefront's red.
const GUARD_MARK: &str = "#b45309";
const GUARD_SIZE: f32 = 14.0;
/// Numbers shrink to this size before they are cut.
const GUARD_MIN_SIZE: f32 = 11.0;

/// A rectangle in picture pixels: x, y, width, height.
pub type Area = (u32, u32, u32, u32);

/// The tile of slot `index` (0-based).
pub fn tile_area(index: usize) -> Area {
    let (x, y) = tile_origin(index);
    (x as u32, y as u32, TILE_W as u32, TILE_H as u32)
}

/// Where a tile's prices (struck-through base price and flash price) are drawn.
pub fn price_area(index: usize) -> Area {
    let (x, y) = tile_origin(index);
    (
        (x + PAD) as u32,
        (y + 100.0) as u32,
        (TILE_W - 2.0 * PAD) as u32,
        62,
    )
}

/// Where a product tile's guard strip is drawn (empty when the guards know nothing of the line).
pub fn guard_area(index: usize) -> Area {
    let (x, y) = tile_origin(index);
    (
        x as u32,
        (y + TILE_H + STRIP_GAP) as u32,
        TILE_W as u32,
        STRIP_H as u32,
    )
}

/// Where the session's guard band is drawn (empty without items).
pub fn band_area() -> Area {
    (
        MARGIN as u32,
        BAND_TOP as u32,
        (WIDTH as f32 - 2.0 * MARGIN) as u32,
        BAND_H as u32,
    )
}

fn tile_origin(index: usize) -> (f32, f32) {
    let column = (index % COLUMNS) as f32;
    let row = (index / COLUMNS) as f32;
    (
        MARGIN + column * (TILE_W + GAP),
        TILES_TOP + row * ROW_PITCH,
    )
}

pub fn svg(sheet: &SaleSheet, zone: Tz) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{SANS}">"#
    );
    out.push_str(concat!(
        r#"<defs><pattern id="hatch" width="14" height="14" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">"#,
        r##"<rect width="7" height="14" fill="#e4372c" fill-opacity="0.10"/></pattern></defs>"##,
    ));
    let _ = write!(
        out,
        r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="{BACKGROUND}"/>"#
    );
    header(&mut out, sheet);
    head(&mut out, sheet, zone);
    for (index, tile) in sheet.tiles.iter().enumerate() {
        match tile {
            Tile::Product {
                sku,
                name,
                was,
                now,
                badge,
                quantity,
                guard,
            } => {
                product_tile(
                    &mut out,
                    index,
                    &ProductTexts {
                        sku,
                        name,
                        was,
                        now,
                        badge,
                        qty: &format!("{quantity} available"),
                    },
                );
                guard_strip(&mut out, index, sku, guard);
            }
            Tile::Broken { sku, name, problem } => {
                broken_tile(&mut out, index, sku.as_deref(), name.as_deref(), *problem)
            }
        }
    }
    let marked = sheet
        .tiles
        .iter()
        .any(|t| matches!(t, Tile::Product { guard, .. } if guard.marked()));
    guard_band(&mut out, &sheet.money, marked);
    out.push_str("</svg>");
    out
}

/// The storefront's red bar, with what this picture is on the right.
fn header(out: &mut String, sheet: &SaleSheet) {
    let _ = write!(
        out,
        r#"<rect width="{WIDTH}" height="64" fill="{ACCENT}"/>"#
    );
    svg::text(
        out,
        MARGIN,
        43.0,
        r##"font-size="30" font-weight="bold" fill="#ffffff""##,
        "Flash Sale",
    );
    let note = format!(
        "#{} · {} · as shoppers will see it",
        sheet.session_id, sheet.status
    );
    let note = svg::fit(&note, 18.0, Face::Regular, 760.0);
    svg::text(
        out,
        WIDTH as f32 - MARGIN,
        40.0,
        r##"font-size="18" fill="#ffffff" fill-opacity="0.9" text-anchor="end""##,
        &note,
    );
}

/// The sale's title, and its window in the business zone in a dark pill (where the page counts down).
fn head(out: &mut String, sheet: &SaleSheet, zone: Tz) {
    let window = format_span(sheet.starts_at, sheet.ends_at, zone);
    let pill_w = svg::width(&window, 18.0, Face::Bold) + 28.0;
    let pill_x = WIDTH as f32 - MARGIN - pill_w;
    let title_room = pill_x - MARGIN - 24.0;
    let title = svg::fit(&sheet.title, 30.0, Face::Bold, title_room);
    svg::text(
        out,
        MARGIN,
        110.0,
        &format!(r#"class="title" font-size="30" font-weight="bold" fill="{INK}""#),
        &title,
    );
    let _ = write!(
        out,
        r#"<rect x="{pill_x:.1}" y="80" width="{pill_w:.1}" height="40" rx="8" fill="{INK}"/>"#
    );
    svg::text(
        out,
        pill_x + 14.0,
        107.0,
        r##"class="window" font-size="18" font-weight="bold" fill="#ffffff""##,
        &window,
    );
}

/// A tile's texts, formatted as the page formats them.
struct ProductTexts<'a> {
    sku: &'a str,
    name: &'a str,
    was: &'a str,
    now: &'a str,
    badge: &'a str,
    qty: &'a str,
}

fn product_tile(out: &mut String, index: usize, t: &ProductTexts<'_>) {
    let (x, y) = tile_origin(index);
    let _ = write!(
        out,
        r##"<g class="tile" data-sku="{}"><rect x="{x:.1}" y="{y:.1}" width="{TILE_W:.1}" height="{TILE_H:.1}" rx="14" fill="{CARD}" stroke="#e2e2e6" stroke-width="1.5"/>"##,
        svg::escape(t.sku)
    );
    // The badge, top right, as on the page.
    let badge_w = svg::width(t.badge, 20.0, Face::Bold) + 18.0;
    let badge_x = x + TILE_W - 14.0 - badge_w;
    let _ = write!(
        out,
        r#"<rect x="{badge_x:.1}" y="{:.1}" width="{badge_w:.1}" height="34" rx="7" fill="{ACCENT}"/>"#,
        y + 14.0
    );
    svg::text(
        out,
        badge_x + 9.0,
        y + 38.0,
        r##"class="badge" font-size="20" font-weight="bold" fill="#ffffff""##,
        t.badge,
    );
    let name_room = badge_x - x - PAD - 10.0;
    for (line, text) in svg::wrap(t.name, 21.0, Face::Bold, name_room, 2)
        .iter()
        .enumerate()
    {
        svg::text(
            out,
            x + PAD,
            y + 38.0 + 24.0 * line as f32,
            &format!(r#"class="name" font-size="21" font-weight="bold" fill="{INK}""#),
            text,
        );
    }
    svg::text(
        out,
        x + PAD,
        y + 88.0,
        &format!(r#"class="sku" font-size="15" font-family="{MONO}" fill="{MUTED}""#),
        t.sku,
    );
    let price_room = TILE_W - 2.0 * PAD;
    let was_size = svg::fit_size(t.was, 18.0, Face::Regular, price_room);
    svg::text(
        out,
        x + PAD,
        y + 116.0,
        &format!(
            r#"class="was" font-size="{was_size}" fill="{MUTED}" text-decoration="line-through""#
        ),
        t.was,
    );
    let now_size = svg::fit_size(t.now, 34.0, Face::Bold, price_room);
    svg::text(
        out,
        x + PAD,
        y + 152.0,
        &format!(r#"class="now" font-size="{now_size}" font-weight="bold" fill="{ACCENT}""#),
        t.now,
    );
    svg::text(
        out,
        x + PAD,
        y + 176.0,
        &format!(r#"class="qty" font-size="16" fill="{MUTED}""#),
        t.qty,
    );
    out.push_str("</g>");
}

fn broken_tile(
    out: &mut String,
    index: usize,
    sku: Option<&str>,
    name: Option<&str>,
    problem: TileProblem,
) {
    let (x, y) = tile_origin(index);
    let _ = write!(
        out,
        concat!(
            r#"<g class="tile broken" data-sku="{sku}">"#,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="14" fill="#fdecea"/>"##,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="14" fill="url(#hatch)" stroke="{accent}" stroke-width="3" stroke-dasharray="12 8"/>"#,
        ),
        sku = svg::escape(sku.unwrap_or("")),
        x = x,
        y = y,
        w = TILE_W,
        h = TILE_H,
        accent = ACCENT,
    );
    // A struck-out circle: "nothing to buy here", readable without the words.
    let (cx, cy) = (x + TILE_W - 44.0, y + 44.0);
    let _ = write!(
        out,
        r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="22" fill="none" stroke="{ACCENT}" stroke-width="5"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{ACCENT}" stroke-width="5"/>"#,
        cx - 15.0,
        cy + 15.0,
        cx + 15.0,
        cy - 15.0
    );
    let room = TILE_W - 2.0 * PAD - 60.0;
    let title = match name {
        Some(name) => name.to_owned(),
        None => format!("Slot {}", index + 1),
    };
    svg::text(
        out,
        x + PAD,
        y + 38.0,
        &format!(r#"class="name" font-size="21" font-weight="bold" fill="{INK}""#),
        &svg::fit(&title, 21.0, Face::Bold, room),
    );
    if let Some(sku) = sku {
        svg::text(
            out,
            x + PAD,
            y + 88.0,
            &format!(r#"class="sku" font-size="15" font-family="{MONO}" fill="{MUTED}""#),
            sku,
        );
    }
    svg::text(
        out,
        x + PAD,
        y + 138.0,
        &format!(r#"class="problem" font-size="26" font-weight="bold" fill="{ACCENT}""#),
        problem.headline(),
    );
    svg::text(
        out,
        x + PAD,
        y + 170.0,
        &format!(r#"font-size="17" fill="{INK}""#),
        problem.advice(),
    );
    out.push_str("</g>");
}

/// The guard strip under product tile `index`: `30-day low IDR 140,000 · margin IDR 19,650`, and
/// `⚠ flagged` or `⚠ overridden` on the right (just `⚠` when the words would squeeze the numbers).
fn guard_strip(out: &mut String, index: usize, sku: &str, guard: &TileGuard) {
    if guard.is_empty() {
        return;
    }
    let (x, y, w, h) = guard_area(index);
    let (x, y, w, h) = (x as f32, y as f32, w as f32, h as f32);
    let _ = write!(
        out,
        r#"<g class="guard" data-sku="{}"><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="6" fill="{GUARD_FILL}" stroke="{GUARD_LINE}" stroke-width="1.2" stroke-dasharray="5 3"/>"#,
        svg::escape(sku)
    );
    let pad = 10.0;
    let baseline = y + h / 2.0 + GUARD_SIZE * 0.36;
    let mut parts = Vec::new();
    if let Some(low) = &guard.low {
        parts.push(format!("30-day low {low}"));
    }
    if let Some(margin) = &guard.margin {
        parts.push(format!("margin {margin}"));
    }
    let numbers = parts.join(" · ");
    let room = w - 2.0 * pad;
    let mut numbers_room = room;
    if guard.marked() {
        let words = if guard.overridden {
            "⚠ overridden"
        } else {
            "⚠ flagged"
        };
        let fits = |mark: &str| {
            numbers.is_empty()
                || svg::width(&numbers, GUARD_SIZE - 1.0, Face::Regular)
                    + 12.0
                    + svg::width(mark, GUARD_SIZE, Face::Bold)
                    <= room
        };
        let mark = if fits(words) { words } else { "⚠" };
        svg::text(
            out,
            x + w - pad,
            baseline,
            &format!(
                r#"class="guard-mark" font-size="{GUARD_SIZE}" font-weight="bold" fill="{GUARD_MARK}" text-anchor="end""#
            ),
            mark,
        );
        numbers_room -= svg::width(mark, GUARD_SIZE, Face::Bold) + 12.0;
    }
    if !numbers.is_empty() {
        let size =
            svg::fit_size(&numbers, GUARD_SIZE, Face::Regular, numbers_room).max(GUARD_MIN_SIZE);
        svg::text(
            out,
            x + pad,
            baseline,
            &format!(r#"class="guard-money" font-size="{size}" fill="{GUARD_INK}""#),
            &svg::fit(&numbers, size, Face::Regular, numbers_room),
        );
    }
    out.push_str("</g>");
}

/// The session's band at the bottom: `Not on the storefront · gives away IDR 1,234,500 · budget
/// left IDR 765,500`, and what ⚠ means when a tile has one.
fn guard_band(out: &mut String, money: &SheetMoney, marked: bool) {
    if money.giveaway.is_none() && money.budget.is_none() {
        return;
    }
    let (x, y, w, h) = band_area();
    let (x, y, w, h) = (x as f32, y as f32, w as f32, h as f32);
    let _ = write!(
        out,
        r#"<g class="guard session"><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="6" fill="{GUARD_FILL}" stroke="{GUARD_LINE}" stroke-width="1.2" stroke-dasharray="5 3"/>"#
    );
    let pad = 12.0;
    let size = 15.0;
    let baseline = y + h / 2.0 + size * 0.36;
    let label = "Not on the storefront:";
    svg::text(
        out,
        x + pad,
        baseline,
        &format!(r#"font-size="{size}" font-weight="bold" fill="{GUARD_INK}""#),
        label,
    );
    let mut right_edge = x + w - pad;
    if marked {
        let legend = "⚠ flagged or overridden: see the card";
        svg::text(
            out,
            right_edge,
            baseline,
            &format!(
                r#"class="guard-mark" font-size="{size}" fill="{GUARD_MARK}" text-anchor="end""#
            ),
            legend,
        );
        right_edge -= svg::width(legend, size, Face::Regular) + 16.0;
    }
    let mut parts = Vec::new();
    if let Some(given) = &money.giveaway {
        parts.push(format!("gives away {given}"));
    }
    let over = match &money.budget {
        Some(BudgetLeft::Left(left)) => {
            parts.push(format!("budget left {left}"));
            String::new()
        }
        Some(BudgetLeft::Over(over)) => format!("⚠ over budget by {over}"),
        None => String::new(),
    };
    let mut text = parts.join(" · ");
    if !text.is_empty() && !over.is_empty() {
        text.push_str(" · ");
    }
    // Over the budget is said whole, in the mark's colour; the rest is cut if it must be.
    let start = x + pad + svg::width(label, size, Face::Bold) + 8.0;
    let room = right_edge - start - svg::width(&over, size, Face::Bold);
    let text = match svg::fit(&text, size, Face::Regular, room) {
        _ if text.is_empty() => text,
        cut if cut != text && !over.is_empty() => format!("{cut} "),
        fitted => fitted,
    };
    let _ = write!(
        out,
        r#"<text x="{start:.1}" y="{baseline:.1}" class="guard-money" font-size="{size}" fill="{GUARD_INK}">{}"#,
        svg::escape(&text)
    );
    if !over.is_empty() {
        let _ = write!(
            out,
            r#"<tspan font-weight="bold" fill="{GUARD_MARK}">{}</tspan>"#,
            svg::escape(&over)
        );
    }
    out.push_str("</text>");
    out.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Picture;

    #[test]
    fn a_sale_picture_stored_before_the_guards_were_drawn_still_decodes() {
        // An outbox row of the previous release: no `guard` on tiles, no `money` on the sheet.
        let stored = serde_json::json!({"Sale": {
            "session_id": 12,
            "title": "Lunch Flash",
            "status": "Pending approval",
            "starts_at": "2026-11-27T03:00:00Z",
            "ends_at": "2026-11-27T05:00:00Z",
            "tiles": [
                {"Product": {"sku": "FS-001", "name": "Kopi Arabika Gayo 250 g",
                             "was": "IDR 149,500", "now": "IDR 104,650", "badge": "-30%",
                             "quantity": 50}},
                {"Broken": {"sku": null, "name": null, "problem": "Empty"}}
            ]
        }});
        let picture: Picture = serde_json::from_value(stored).expect("an old picture decodes");
        let Picture::Sale(sheet) = &picture else {
            panic!("not a sale: {picture:?}");
        };
        assert_eq!(sheet.money, SheetMoney::default());
        assert!(matches!(
            &sheet.tiles[0],
            Tile::Product { guard, .. } if *guard == TileGuard::default()
        ));
        let drawn = svg(sheet, chrono_tz::Asia::Jakarta);
        assert!(drawn.contains(r#"<g class="tile" data-sku="FS-001">"#));
        assert!(!drawn.contains("class=\"guard"), "{drawn}");
    }

    #[test]
    fn the_guards_fields_round_trip_through_json() {
        let sheet = SaleSheet {
            session_id: 1,
            title: "t".to_owned(),
            status: "Draft".to_owned(),
            starts_at: DateTime::<Utc>::UNIX_EPOCH,
            ends_at: DateTime::<Utc>::UNIX_EPOCH,
            tiles: vec![Tile::Product {
                sku: "FS-001".to_owned(),
                name: "n".to_owned(),
                was: "IDR 2".to_owned(),
                now: "IDR 1".to_owned(),
                badge: "-50%".to_owned(),
                quantity: 1,
                guard: TileGuard {
                    low: Some("IDR 2".to_owned()),
                    margin: None,
                    flagged: true,
                    overridden: false,
                },
            }],
            money: SheetMoney {
                giveaway: Some("IDR 1".to_owned()),
                budget: Some(BudgetLeft::Over("IDR 1".to_owned())),
            },
        };
        let json = serde_json::to_string(&sheet).unwrap();
        assert_eq!(serde_json::from_str::<SaleSheet>(&json).unwrap(), sheet);
    }

    #[test]
    fn strips_and_the_band_fit_between_the_tiles_and_the_picture_s_edge() {
        for index in 0..6 {
            let (_, y, _, h) = tile_area(index);
            let (_, sy, _, sh) = guard_area(index);
            assert!(y + h < sy, "strip {index} overlaps its tile");
            if index + 3 < 6 {
                let (_, below, _, _) = tile_area(index + 3);
                assert!(sy + sh < below, "strip {index} overlaps the next row");
            }
        }
        let (_, last, _, last_h) = guard_area(5);
        let (_, band, _, band_h) = band_area();
        assert!(last + last_h < band && band + band_h <= HEIGHT);
    }
}
