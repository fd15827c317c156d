//! Sessions to draw, built by hand as `app` builds them, and a picture's SVG read back as text,
//! tile by tile, the way a browser test reads the page's DOM: `<g class="tile" data-sku="...">`
//! and the classed `<text>` nodes inside it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use flashsale_bot::app::{ItemView, SessionView};
use flashsale_bot::domain::{
    ActorId, Currency, DiscountPercent, Money, Quantity, Sku, SkuRules, Status, Window, WindowRules,
};
use regex::Regex;

/// An item in rupiah, priced as `app` prices it (the flash price rounded half up).
pub fn item_view(
    slot: i16,
    sku: &str,
    name: &str,
    base: i64,
    discount: i64,
    quantity: u32,
) -> ItemView {
    let idr = Currency::from_code("IDR").expect("IDR");
    let discount = DiscountPercent::new(discount).expect("a discount");
    let base = Money::from_minor(base, idr);
    ItemView {
        slot,
        sku: Sku::parse(sku, &SkuRules::default()).expect("a SKU"),
        product_name: name.to_owned(),
        flash_price: base.discounted(discount),
        base_price: base,
        discount,
        quantity: Quantity::new(i64::from(quantity)).expect("a quantity"),
        stock_seen: 100,
        money: Default::default(),
    }
}

/// A two-hour session starting at `starts_at`, drafted by Alice.
pub fn session_view(
    id: i64,
    title: &str,
    status: Status,
    starts_at: DateTime<Utc>,
    items: Vec<ItemView>,
) -> SessionView {
    let window = Window::new(
        starts_at,
        starts_at + Duration::hours(2),
        starts_at - Duration::days(1),
        &WindowRules::default(),
    )
    .expect("a window");
    SessionView {
        id,
        title: title.to_owned(),
        window,
        status,
        version: 3,
        approval_deadline: starts_at - Duration::hours(1),
        created_by: ActorId::new("discord", "81"),
        created_by_name: "Alice".to_owned(),
        submitted_by: None,
        submitted_by_name: None,
        approved_by: None,
        rejection_reason: None,
        notes: None,
        items,
        money: Default::default(),
    }
}

/// The texts of one tile, by class (`name`, `sku`, `was`, `now`, `badge`, `qty`); a class drawn on
/// several lines (a long name) is joined with spaces.
pub type TileTexts = BTreeMap<String, String>;

/// Every tile of a sale picture's SVG, by SKU, in drawing order.
pub fn svg_tiles(svg: &str) -> Vec<(String, TileTexts)> {
    let tile = Regex::new(r#"<g class="tile[^"]*" data-sku="([^"]*)">(.*?)</g>"#).unwrap();
    let text = Regex::new(r#"<text [^>]*class="([a-z-]+)"[^>]*>([^<]*)</text>"#).unwrap();
    tile.captures_iter(svg)
        .map(|t| {
            let mut texts = TileTexts::new();
            for c in text.captures_iter(&t[2]) {
                let value = unescape(&c[2]);
                texts
                    .entry(c[1].to_owned())
                    .and_modify(|v| {
                        v.push(' ');
                        v.push_str(&value);
                    })
                    .or_insert(value);
            }
            (unescape(&t[1]), texts)
        })
        .collect()
}

/// Markup text as it reads (the entities our pages and pictures write, and `&nbsp;`).
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
