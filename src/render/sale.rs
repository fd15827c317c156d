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

/// Where the tiles sit: three columns, two rows (the page's grid at a tablet's width).
const COLUMNS: usize = 3;
const MARGIN: f32 = 40.0;
const GAP: f32 = 20.0;
const TILES_TOP: f32 = 150.0;
const TILE_W: f32 = (WIDTH as f32 - 2.0 * MARGIN - (COLUMNS as f32 - 1.0) * GAP) / COLUMNS as f32;
const TILE_H: f32 = 210.0;
const PAD: f32 = 20.0;

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
        (y + 112.0) as u32,
        (TILE_W - 2.0 * PAD) as u32,
        64,
    )
}

fn tile_origin(index: usize) -> (f32, f32) {
    let column = (index % COLUMNS) as f32;
    let row = (index / COLUMNS) as f32;
    (
        MARGIN + column * (TILE_W + GAP),
        TILES_TOP + row * (TILE_H + GAP),
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
            } => product_tile(
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
            ),
            Tile::Broken { sku, name, problem } => {
                broken_tile(&mut out, index, sku.as_deref(), name.as_deref(), *problem)
            }
        }
    }
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
        120.0,
        &format!(r#"class="title" font-size="30" font-weight="bold" fill="{INK}""#),
        &title,
    );
    let _ = write!(
        out,
        r#"<rect x="{pill_x:.1}" y="90" width="{pill_w:.1}" height="40" rx="8" fill="{INK}"/>"#
    );
    svg::text(
        out,
        pill_x + 14.0,
        117.0,
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
            y + 40.0 + 25.0 * line as f32,
            &format!(r#"class="name" font-size="21" font-weight="bold" fill="{INK}""#),
            text,
        );
    }
    svg::text(
        out,
        x + PAD,
        y + 98.0,
        &format!(r#"class="sku" font-size="15" font-family="{MONO}" fill="{MUTED}""#),
        t.sku,
    );
    let price_room = TILE_W - 2.0 * PAD;
    let was_size = svg::fit_size(t.was, 18.0, Face::Regular, price_room);
    svg::text(
        out,
        x + PAD,
        y + 130.0,
        &format!(
            r#"class="was" font-size="{was_size}" fill="{MUTED}" text-decoration="line-through""#
        ),
        t.was,
    );
    let now_size = svg::fit_size(t.now, 34.0, Face::Bold, price_room);
    svg::text(
        out,
        x + PAD,
        y + 170.0,
        &format!(r#"class="now" font-size="{now_size}" font-weight="bold" fill="{ACCENT}""#),
        t.now,
    );
    svg::text(
        out,
        x + PAD,
        y + 196.0,
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
        y + 40.0,
        &format!(r#"class="name" font-size="21" font-weight="bold" fill="{INK}""#),
        &svg::fit(&title, 21.0, Face::Bold, room),
    );
    if let Some(sku) = sku {
        svg::text(
            out,
            x + PAD,
            y + 98.0,
            &format!(r#"class="sku" font-size="15" font-family="{MONO}" fill="{MUTED}""#),
            sku,
        );
    }
    svg::text(
        out,
        x + PAD,
        y + 150.0,
        &format!(r#"class="problem" font-size="26" font-weight="bold" fill="{ACCENT}""#),
        problem.headline(),
    );
    svg::text(
        out,
        x + PAD,
        y + 186.0,
        &format!(r#"font-size="17" fill="{INK}""#),
        problem.advice(),
    );
    out.push_str("</g>");
}
