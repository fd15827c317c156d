//! Reading a picture's SVG back as text, tile by tile, the way a browser test reads the page's DOM:
//! `<g class="tile" data-sku="...">` and the classed `<text>` nodes inside it.

use std::collections::BTreeMap;

use regex::Regex;

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

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
