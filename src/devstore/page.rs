//! The storefront's Flash Sale section as one self-contained HTML page (`GET /`), and the same section
//! alone (`GET /fragment/flash-sale`) for the page's script to swap in every few seconds. Rendering
//! happens only here, on the server, so every piece of user text (titles, names) is escaped in one
//! place and the script never builds markup from data.
//!
//! The markup is a contract for browser tests: the section is `id="flash-sale"`, each product is
//! `class="tile" data-sku="..."`, the countdown is `id="countdown" data-ends-at="<RFC 3339>"`.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::stored::StoredSale;
use crate::render::escape;

const CSS: &str = include_str!("assets/page.css");
const JS: &str = include_str!("assets/page.js");

/// The whole page around the section.
pub(crate) fn render_page(
    live: Option<&StoredSale>,
    next: Option<&StoredSale>,
    now: DateTime<Utc>,
) -> String {
    let section = render_section(live, next, now);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flash Sale · dev storefront</title>
<style>
{CSS}</style>
</head>
<body>
<header class="bar"><h1>Flash Sale</h1><p class="note">dev storefront, not the real shop</p></header>
<main>
<section id="flash-sale" aria-live="polite">
{section}</section>
</main>
<script>
{JS}</script>
</body>
</html>
"#
    )
}

/// The inside of `<section id="flash-sale">`: the live sale's tiles and countdown, or a plain "nothing
/// live" line, then the next scheduled sale.
pub(crate) fn render_section(
    live: Option<&StoredSale>,
    next: Option<&StoredSale>,
    now: DateTime<Utc>,
) -> String {
    let mut html = String::new();
    match live {
        Some(stored) => render_live(&mut html, stored, now),
        None => html.push_str("<p class=\"empty\">No flash sale right now</p>\n"),
    }
    match next {
        Some(stored) => {
            let _ = writeln!(
                html,
                "<p class=\"next\">Next: <b>{}</b> starts <time datetime=\"{}\">{}</time></p>",
                escape(&stored.sale.title),
                stored
                    .sale
                    .starts_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
                stored.sale.starts_at.format("%Y-%m-%d %H:%M UTC"),
            );
        }
        None => html.push_str("<p class=\"next\">Nothing else is scheduled yet.</p>\n"),
    }
    html
}

fn render_live(html: &mut String, stored: &StoredSale, now: DateTime<Utc>) {
    let sale = &stored.sale;
    let left = (sale.ends_at - now).num_seconds().max(0);
    let _ = writeln!(
        html,
        "<div class=\"sale-head\"><h2>{}</h2><p class=\"countdown\">Ends in <span id=\"countdown\" data-ends-at=\"{}\">{}</span></p></div>",
        escape(&sale.title),
        sale.ends_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        countdown(left),
    );
    html.push_str("<ul class=\"tiles\">\n");
    for item in &sale.items {
        let sku = escape(&item.sku);
        let _ = writeln!(
            html,
            "<li class=\"tile\" data-sku=\"{sku}\"><span class=\"badge\">-{}%</span><h3 class=\"name\">{}</h3><p class=\"sku\">{sku}</p>\
             <p class=\"prices\"><s class=\"was\">{}</s><strong class=\"now\">{}</strong></p><p class=\"qty\">{} available</p></li>",
            item.discount_percent,
            escape(&item.name),
            escape(&format_price(item.base_price_minor, &sale.currency)),
            escape(&format_price(item.flash_price_minor, &sale.currency)),
            item.quantity,
        );
    }
    html.push_str("</ul>\n");
}

/// Decimal places of a currency's minor unit. IDR is 0 as the bot and the catalog count it (149500 is
/// IDR 149,500) even though ISO 4217 lists 2: nobody prices in sen.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "IDR" | "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "PYG" | "UGX" => 0,
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// `IDR 149,500`, `USD 1,234.50`: code, a space, comma thousands, the minor digits after a point,
/// the same style as the bot's messages.
pub(crate) fn format_price(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
    let scale = 10_u64.pow(digits);
    let magnitude = minor.unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    let whole = group_thousands(magnitude / scale);
    if digits == 0 {
        format!("{currency} {sign}{whole}")
    } else {
        let fraction = magnitude % scale;
        let width = digits as usize;
        format!("{currency} {sign}{whole}.{fraction:0width$}")
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `HH:MM:SS`, with a day count in front when a day or more is left (the script ticks the same way).
fn countdown(seconds_left: i64) -> String {
    let s = seconds_left.max(0);
    let clock = format!("{:02}:{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60, s % 60);
    if s >= 86_400 {
        format!("{}d {clock}", s / 86_400)
    } else {
        clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devstore::sale::{Sale, SaleItem};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    fn stored(title: &str) -> StoredSale {
        let items = (1..=6)
            .map(|n| SaleItem {
                sku: format!("FS-{n:03}"),
                name: format!("Kopi <{n}> & teh"),
                discount_percent: 30,
                base_price_minor: 149_500,
                flash_price_minor: 104_650,
                quantity: 10,
            })
            .collect();
        StoredSale {
            sale: Sale {
                session_id: 12,
                title: title.into(),
                starts_at: at("2026-11-26T17:00:00Z"),
                ends_at: at("2026-11-27T05:00:00Z"),
                currency: "IDR".into(),
                items,
            },
            published_at: at("2026-11-26T10:00:00Z"),
            ended_at: None,
            revision: 1,
        }
    }

    #[test]
    fn prices_are_formatted_with_the_code_and_comma_thousands() {
        assert_eq!(format_price(149_500, "IDR"), "IDR 149,500");
        assert_eq!(format_price(0, "IDR"), "IDR 0");
        assert_eq!(format_price(999, "IDR"), "IDR 999");
        assert_eq!(format_price(1_000, "IDR"), "IDR 1,000");
        assert_eq!(format_price(12_345_678, "IDR"), "IDR 12,345,678");
        assert_eq!(format_price(123_450, "USD"), "USD 1,234.50");
        assert_eq!(format_price(5, "USD"), "USD 0.05");
        assert_eq!(format_price(-1_500, "IDR"), "IDR -1,500");
        assert_eq!(format_price(1_234, "KWD"), "KWD 1.234");
    }

    #[test]
    fn the_countdown_shows_days_only_when_needed() {
        assert_eq!(countdown(0), "00:00:00");
        assert_eq!(countdown(3_661), "01:01:01");
        assert_eq!(countdown(90_061), "1d 01:01:01");
        assert_eq!(countdown(-5), "00:00:00");
    }

    #[test]
    fn user_text_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn a_live_sale_shows_six_tiles_with_prices_badge_and_countdown() {
        let sale = stored("<script>x</script>");
        let html = render_section(Some(&sale), None, at("2026-11-27T04:00:00Z"));
        assert_eq!(html.matches("class=\"tile\"").count(), 6);
        assert!(html.contains("data-sku=\"FS-006\""));
        assert!(html.contains("<s class=\"was\">IDR 149,500</s>"));
        assert!(html.contains("<strong class=\"now\">IDR 104,650</strong>"));
        assert!(html.contains(">-30%<") && html.contains("10 available"));
        assert!(html.contains(">01:00:00</span>"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>x"));
        assert!(html.contains("Kopi &lt;1&gt; &amp; teh"));
    }

    #[test]
    fn without_a_live_sale_the_section_says_so_and_names_the_next_one() {
        let next = stored("Midnight Deals");
        let html = render_section(None, Some(&next), at("2026-11-26T12:00:00Z"));
        assert!(html.contains("No flash sale right now"));
        assert!(html.contains("Next: <b>Midnight Deals</b>"));
        assert!(html.contains("2026-11-26 17:00 UTC"));
        assert!(!html.contains("class=\"tile\""));
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = render_page(None, None, at("2026-11-26T12:00:00Z"));
        assert!(html.contains("<section id=\"flash-sale\""));
        assert!(html.contains("<h1>Flash Sale</h1>"));
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    }
}
