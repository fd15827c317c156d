//! The pictures (`flashsale_bot::render`): fixed sessions drawn with the real fonts and the real
//! rasteriser, the PNG decoded and its pixels checked, and each layout held against its golden
//! image in `tests/golden/` with a tolerance: a change in how text is smoothed passes, a missing
//! tile does not. `UPDATE_GOLDEN=1 cargo test --test it render` rewrites the golden images (look
//! at them before committing). Every picture drawn is also saved to `target/test-artifacts/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use flashsale_bot::app::{pictures, LineMoney, SessionMoney, SessionSummaryView, SessionView};
use flashsale_bot::catalog::Product;
use flashsale_bot::domain::{Currency, Money, Sku, SkuRules, Status, Window, WindowRules};
use flashsale_bot::render::{
    band_area, guard_area, price_area, tile_area, Area, BudgetLeft, Painter, Picture, RenderError,
    SheetMoney, Tile, TileGuard, TileProblem, DEFAULT_FONT_DIR, HEIGHT, MAX_PNG_BYTES, WIDTH,
};
use resvg::tiny_skia::Pixmap;

use crate::support::pictures::{item_view, session_view, svg_tiles};

/// Mean absolute difference per channel (0-255) allowed in any region of a golden comparison.
/// Measured: switching text anti-aliasing off moves a region by at most 2.3; an empty tile where
/// a product was moves its region by about 38.
const TOLERANCE: f64 = 8.0;

fn zone() -> chrono_tz::Tz {
    chrono_tz::Asia::Jakarta
}

fn painter() -> Painter {
    Painter::new(zone(), DEFAULT_FONT_DIR)
}

/// Friday 2026-11-27 10:00 in Jakarta.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap()
}

fn sku(raw: &str) -> Sku {
    Sku::parse(raw, &SkuRules::default()).unwrap()
}

fn idr(minor: i64) -> Money {
    Money::from_minor(minor, Currency::from_code("IDR").unwrap())
}

/// The session every sale test draws: six products of the dev storefront's catalog, with what
/// the money guards saw: a 30-day low and a margin on most lines, none at all on FS-004, FS-002
/// and FS-003 flagged, FS-005 sold below its cost by an approver's override; the give-away within
/// a budget.
fn lunch_flash() -> SessionView {
    let mut view = plain_lunch_flash();
    let guards: [(Option<i64>, Option<i64>, bool, bool); 6] = [
        (Some(140_000), Some(85_000), false, false),
        (Some(42_000), None, true, false),
        (Some(185_000), Some(120_000), true, false),
        (None, None, false, false),
        (Some(36_000), Some(36_000), false, true),
        (Some(849_000), Some(400_000), false, false),
    ];
    for (item, (low, cost, flagged, overridden)) in view.items.iter_mut().zip(guards) {
        item.money = LineMoney {
            reference: low.map(idr),
            unit_cost: cost.map(idr),
            margin: cost.map(|c| idr(item.flash_price.minor() - c)),
            flags: if flagged {
                vec![format!("{} was raised within the last 7 days", item.sku)]
            } else {
                Vec::new()
            },
            overridden,
        };
    }
    view.money = Box::new(SessionMoney {
        giveaway: Some(idr(5_801_250)),
        budget: Some(idr(7_500_000)),
        budget_left: Some(idr(1_698_750)),
        overrides: Vec::new(),
    });
    view
}

/// The same session as the guards never saw it: no costs, no history, no budget.
fn plain_lunch_flash() -> SessionView {
    session_view(
        12,
        "Lunch Flash",
        Status::PendingApproval,
        start(),
        vec![
            item_view(1, "FS-001", "Kopi Arabika Gayo 250 g", 149_500, 30, 50),
            item_view(2, "FS-002", "Teh Melati Premium", 45_000, 25, 40),
            item_view(3, "FS-003", "Madu Hutan Sumbawa 500 ml", 185_000, 20, 30),
            item_view(4, "FS-004", "Kaos Batik Parang, size L", 129_000, 15, 20),
            item_view(5, "FS-005", "Sambal Roa 200 g", 38_500, 10, 10),
            item_view(6, "FS-006", "Rice Cooker 1.8 L Digital", 899_000, 35, 5),
        ],
    )
}

fn sale(view: &SessionView) -> Picture {
    Picture::Sale(Arc::new(pictures::sale_sheet(view)))
}

/// Today (Friday) and tomorrow in Jakarta: sessions back to back, overlapping, across midnight.
fn digest() -> Picture {
    let at = |day: u32, hour: u32, minute: u32| {
        zone()
            .with_ymd_and_hms(2026, 11, day, hour, minute, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let session = |id: i64, title: &str, status: Status, from, to, items: i64| SessionSummaryView {
        id,
        title: title.to_owned(),
        window: Window::new(from, to, from - Duration::days(2), &WindowRules::default()).unwrap(),
        status,
        item_count: items,
        approval_deadline: from - Duration::hours(1),
        ended_at: None,
    };
    let sessions = [
        (
            11,
            "Morning Deals",
            Status::Ended,
            at(27, 6, 0),
            at(27, 9, 0),
            6,
        ),
        (
            12,
            "Lunch Flash",
            Status::Live,
            at(27, 10, 0),
            at(27, 12, 0),
            6,
        ),
        (
            13,
            "Tea Time",
            Status::Approved,
            at(27, 12, 0),
            at(27, 14, 30),
            6,
        ),
        (
            14,
            "Gadget Hour",
            Status::PendingApproval,
            at(27, 13, 0),
            at(27, 15, 0),
            6,
        ),
        (
            15,
            "Midnight Deals",
            Status::Draft,
            at(27, 22, 0),
            at(28, 2, 0),
            4,
        ),
        (
            16,
            "Weekend Kickoff",
            Status::Approved,
            at(28, 9, 0),
            at(28, 12, 0),
            6,
        ),
        (
            17,
            "Called Off",
            Status::Cancelled,
            at(28, 18, 0),
            at(28, 19, 0),
            6,
        ),
    ]
    .map(|(id, title, status, from, to, items)| session(id, title, status, from, to, items));
    Picture::Day(Arc::new(pictures::day_sheet(
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        &sessions,
    )))
}

fn artifact(name: &str, png: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

fn draw(picture: &Picture, artifact_name: &str) -> Pixmap {
    let png = painter().png(picture).expect("the picture is drawn");
    artifact(artifact_name, &png);
    assert!(
        png.len() < MAX_PNG_BYTES,
        "{artifact_name}: {} bytes",
        png.len()
    );
    Pixmap::decode_png(&png).expect("the PNG decodes")
}

/// How many pixels of `area` satisfy `pred`.
fn count(pixmap: &Pixmap, (x, y, w, h): Area, pred: impl Fn(u8, u8, u8) -> bool) -> usize {
    (y..y + h)
        .flat_map(|py| (x..x + w).map(move |px| (px, py)))
        .map(|(px, py)| pixmap.pixel(px, py).expect("inside the picture"))
        .filter(|c| pred(c.red(), c.green(), c.blue()))
        .count()
}

/// Pixels of `area` far from white: ink, not an empty tile.
fn inked(pixmap: &Pixmap, area: Area) -> usize {
    count(pixmap, area, |r, g, b| {
        (255 - u32::from(r)) + (255 - u32::from(g)) + (255 - u32::from(b)) > 150
    })
}

/// The share of `area` in the broken tile's pink (light, red over green and blue).
fn pink_share(pixmap: &Pixmap, area: Area) -> f64 {
    let pink = count(pixmap, area, |r, g, b| {
        r > 235 && g < 240 && g > 200 && b < 240
    });
    pink as f64 / f64::from(area.2 * area.3)
}

/// Mean absolute difference per channel in each named region; the worst one.
fn worst_region(a: &Pixmap, b: &Pixmap, regions: &[(String, Area)]) -> (String, f64) {
    assert_eq!(
        (a.width(), a.height()),
        (b.width(), b.height()),
        "sizes differ"
    );
    regions
        .iter()
        .map(|(name, (x, y, w, h))| {
            let mut sum = 0u64;
            for py in *y..y + h {
                for px in *x..x + w {
                    let (p, q) = (a.pixel(px, py).unwrap(), b.pixel(px, py).unwrap());
                    sum += u64::from(p.red().abs_diff(q.red()))
                        + u64::from(p.green().abs_diff(q.green()))
                        + u64::from(p.blue().abs_diff(q.blue()));
                }
            }
            (name.clone(), sum as f64 / (3 * w * h) as f64)
        })
        .fold(
            (String::new(), -1.0),
            |worst, r| if r.1 > worst.1 { r } else { worst },
        )
}

/// The whole picture in bands, plus each tile on its own for the sale.
fn regions(with_tiles: bool) -> Vec<(String, Area)> {
    let mut regions: Vec<_> = (0..HEIGHT / 90)
        .map(|band| (format!("band {band}"), (0, band * 90, WIDTH, 90)))
        .collect();
    if with_tiles {
        regions.extend((0..6).map(|i| (format!("tile {}", i + 1), tile_area(i))));
    }
    regions
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares with the golden image, or writes it when `UPDATE_GOLDEN` is set.
fn assert_like_golden(drawn: &Pixmap, name: &str, with_tiles: bool) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, drawn.encode_png().unwrap()).unwrap();
        return;
    }
    let golden = Pixmap::load_png(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    let (region, diff) = worst_region(drawn, &golden, &regions(with_tiles));
    eprintln!("{name}: worst region {region} differs by {diff:.2}");
    assert!(
        diff < TOLERANCE,
        "{name}: {region} differs by {diff:.2} per channel on average (tolerance {TOLERANCE}); \
         the picture drawn is in target/test-artifacts/"
    );
}

/// The same SVG rasterised with text anti-aliasing off: what a font rendering change looks like.
fn drawn_with_crisp_text(picture: &Picture) -> Pixmap {
    let mut fonts = resvg::usvg::fontdb::Database::new();
    for file in [
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSansMono.ttf",
    ] {
        fonts.load_font_data(std::fs::read(PathBuf::from(DEFAULT_FONT_DIR).join(file)).unwrap());
    }
    let options = resvg::usvg::Options {
        fontdb: Arc::new(fonts),
        text_rendering: resvg::usvg::TextRendering::OptimizeSpeed,
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(&painter().svg(picture), &options).unwrap();
    let mut pixmap = Pixmap::new(WIDTH, HEIGHT).unwrap();
    resvg::render(&tree, Default::default(), &mut pixmap.as_mut());
    pixmap
}

#[test]
fn a_sale_is_drawn_as_a_1200_by_630_png_with_every_tiles_prices_inked() {
    let pixmap = draw(&sale(&lunch_flash()), "sale.png");
    assert_eq!((pixmap.width(), pixmap.height()), (1200, 630));
    for tile in 0..6 {
        let ink = inked(&pixmap, price_area(tile));
        assert!(
            ink > 400,
            "tile {} has {ink} inked pixels where its prices are",
            tile + 1
        );
        assert!(
            pink_share(&pixmap, tile_area(tile)) < 0.05,
            "tile {} looks broken",
            tile + 1
        );
    }
}

#[test]
fn the_svg_carries_the_storefront_texts_of_every_tile() {
    let svg = painter().svg(&sale(&lunch_flash()));
    let tiles = svg_tiles(&svg);
    let skus: Vec<&str> = tiles.iter().map(|(sku, _)| sku.as_str()).collect();
    assert_eq!(
        skus,
        ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"]
    );
    let first: Vec<(&str, &str)> = tiles[0]
        .1
        .iter()
        .map(|(class, text)| (class.as_str(), text.as_str()))
        .collect();
    assert_eq!(
        first,
        [
            ("badge", "-30%"),
            ("name", "Kopi Arabika Gayo 250 g"),
            ("now", "IDR 104,650"),
            ("qty", "50 available"),
            ("sku", "FS-001"),
            ("was", "IDR 149,500"),
        ]
    );
    assert!(svg
        .contains(r##"class="was" font-size="18" fill="#6b6b70" text-decoration="line-through""##));
    for text in [
        ">Fri 27 Nov 10:00–12:00 WIB<",
        ">Lunch Flash<",
        "#12 · Pending approval",
    ] {
        assert!(svg.contains(text), "{text} is missing from\n{svg}");
    }
}

#[test]
fn missing_and_inactive_products_are_drawn_as_broken_tiles_not_left_out() {
    let mut view = lunch_flash();
    view.items.truncate(4);
    let inactive = |code: &str, active: bool| Product {
        sku: sku(code),
        name: "x".to_owned(),
        price: Money::from_minor(1, Currency::from_code("IDR").unwrap()),
        stock: 100,
        active,
        pricing: Default::default(),
    };
    // FS-002 is gone from the catalog, FS-003 inactive; slots 5 and 6 were never filled.
    let catalog: HashMap<Sku, Product> = [
        (sku("FS-001"), inactive("FS-001", true)),
        (sku("FS-003"), inactive("FS-003", false)),
        (sku("FS-004"), inactive("FS-004", true)),
    ]
    .into_iter()
    .collect();
    let sheet = pictures::with_catalog(pictures::sale_sheet(&view), &catalog);
    let problems: Vec<Option<TileProblem>> = sheet
        .tiles
        .iter()
        .map(|t| match t {
            Tile::Broken { problem, .. } => Some(*problem),
            Tile::Product { .. } => None,
        })
        .collect();
    assert_eq!(
        problems,
        [
            None,
            Some(TileProblem::NotInCatalog),
            Some(TileProblem::Inactive),
            None,
            Some(TileProblem::Empty),
            Some(TileProblem::Empty)
        ]
    );
    let picture = Picture::Sale(Arc::new(sheet));
    let svg = painter().svg(&picture);
    assert_eq!(svg.matches(r#"<g class="tile broken""#).count(), 4);
    assert!(svg.contains(">Inactive product<") && svg.contains(">Not in the catalog<"));
    assert!(svg.contains(">Slot 5<") && svg.contains(">Empty slot<"));

    let pixmap = draw(&picture, "sale-broken.png");
    for tile in [1, 2, 4, 5] {
        let pink = pink_share(&pixmap, tile_area(tile));
        assert!(pink > 0.3, "tile {} is {:.0}% pink", tile + 1, pink * 100.0);
    }
    for tile in [0, 3] {
        assert!(pink_share(&pixmap, tile_area(tile)) < 0.05);
    }
}

#[test]
fn the_sale_picture_matches_its_golden_image() {
    let drawn = draw(&sale(&lunch_flash()), "sale.png");
    assert_like_golden(&drawn, "sale.png", true);
}

#[test]
fn the_golden_comparison_forgives_a_font_rendering_change() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        return;
    }
    let crisp = drawn_with_crisp_text(&sale(&lunch_flash()));
    artifact("sale-crisp-text.png", &crisp.encode_png().unwrap());
    assert_like_golden(&crisp, "sale.png", true);
}

#[test]
fn the_golden_comparison_catches_a_missing_tile() {
    let mut view = lunch_flash();
    view.items.remove(2);
    for (slot, item) in view.items.iter_mut().enumerate() {
        item.slot = slot as i16 + 1;
    }
    // Five products move up a slot and the sixth tile is empty.
    let drawn = draw(&sale(&view), "sale-missing-tile.png");
    let golden = Pixmap::load_png(golden_path("sale.png")).unwrap();
    let (region, worst) = worst_region(&drawn, &golden, &regions(true));
    eprintln!("missing tile: {region} differs by {worst:.2}");
    assert!(
        worst > TOLERANCE,
        "a missing tile moved no region beyond the tolerance ({region}: {worst:.2})"
    );
}

#[test]
fn the_digest_is_drawn_as_a_timeline_with_its_free_time() {
    let picture = digest();
    let svg = painter().svg(&picture);
    artifact("digest.svg", svg.as_bytes());
    assert_eq!(
        svg.matches(r#"<g class="bar""#).count(),
        8,
        "the midnight sale is on both days"
    );
    assert!(svg.contains(">Fri 27 Nov<") && svg.contains(">Sat 28 Nov<"));
    assert!(svg.contains(">#12<") && svg.contains(">Lunch Fl…<") && svg.contains(">10–12<"));
    // Free: before 06:00, 09:00-10:00, 15:00-22:00 on Friday; on Saturday 02:00-09:00 and from
    // 12:00 on, the cancelled session at 18:00 included (it holds no time).
    assert_eq!(svg.matches(r#"class="free""#).count(), 3 + 2);
    let pixmap = draw(&picture, "digest.png");
    assert_eq!((pixmap.width(), pixmap.height()), (1200, 630));
    assert_like_golden(&pixmap, "digest.png", false);
}

#[test]
fn an_empty_day_is_free_all_day() {
    let picture = Picture::Day(Arc::new(pictures::day_sheet(
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        &[],
    )));
    let svg = painter().svg(&picture);
    assert_eq!(svg.matches(">free all day<").count(), 2);
    draw(&picture, "digest-empty.png");
}

#[test]
fn the_longest_texts_stay_drawable_and_small() {
    let mut view = lunch_flash();
    view.title = "界".repeat(100);
    for item in &mut view.items {
        item.product_name = "Kopi ".repeat(200);
        item.base_price = Money::from_minor(i64::MAX / 2, Currency::from_code("USD").unwrap());
        let huge = Money::from_minor(i64::MIN / 2, Currency::from_code("USD").unwrap());
        item.money.reference = Some(item.base_price.clone());
        item.money.margin = Some(huge);
        item.money.overridden = true;
    }
    let huge = Money::from_minor(i64::MAX, Currency::from_code("USD").unwrap());
    view.money.giveaway = Some(huge.clone());
    view.money.budget_left = Some(Money::from_minor(
        i64::MIN,
        Currency::from_code("USD").unwrap(),
    ));
    let svg = painter().svg(&sale(&view));
    assert!(svg.contains('…'), "long names are cut");
    draw(&sale(&view), "sale-longest.png");
}

#[test]
fn without_its_fonts_the_painter_fails_with_a_named_error() {
    let painter = Painter::new(zone(), "/nonexistent");
    assert!(matches!(
        painter.png(&sale(&lunch_flash())),
        Err(RenderError::Font { .. })
    ));
}

#[sqlx::test]
async fn the_daily_digest_carries_the_day_as_a_picture(pool: sqlx::PgPool) {
    let t = crate::support::app::TestApp::new(pool).await;
    let approved = t.approved().await;
    let draft = t.draft_at("tomorrow 15:00", "tomorrow 18:00").await;
    t.app.operations.post_digest().await;

    let posts = t.chat.posts_to(flashsale_bot::chat::Channel::Announcements);
    let Some(Picture::Day(sheet)) = &posts[0].message.picture else {
        panic!("the digest has no day picture: {:?}", posts[0].message);
    };
    let zone = t.app.front().policy.time_zone;
    assert_eq!(
        sheet.first_day,
        t.app.front().clock.now().with_timezone(&zone).date_naive()
    );
    let ids: Vec<i64> = sheet.bars.iter().map(|b| b.session_id).collect();
    assert_eq!(ids, [approved.id, draft.id]);
    let picture = Picture::Day(Arc::clone(sheet));
    let svg = Painter::new(zone, DEFAULT_FONT_DIR).svg(&picture);
    for id in ids {
        assert!(svg.contains(&format!(r#"data-session="{id}""#)), "#{id}");
    }
    assert_eq!(
        picture.file_name(),
        format!("digest-{}.png", sheet.first_day)
    );
}

#[sqlx::test]
async fn an_approval_refused_for_an_inactive_product_breaks_its_tile_on_the_card(
    pool: sqlx::PgPool,
) {
    let t = crate::support::app::TestApp::new(pool).await;
    let session = t.submitted().await;
    t.catalog.set_active("FS-005", false).await;
    t.app
        .desk
        .approve(&t.bob, session.id, session.version)
        .await
        .expect_err("an inactive product is refused");

    let card = &t.chat.posts_to(flashsale_bot::chat::Channel::Approvals)[0];
    let edit = card.edits.last().expect("the card was marked");
    assert_eq!(edit.buttons.len(), 2, "still waiting for approval");
    let Some(Picture::Sale(sheet)) = &edit.picture else {
        panic!("no sale picture on the edit");
    };
    let broken: Vec<(usize, TileProblem)> = sheet
        .tiles
        .iter()
        .enumerate()
        .filter_map(|(i, tile)| match tile {
            Tile::Broken { problem, .. } => Some((i, *problem)),
            Tile::Product { .. } => None,
        })
        .collect();
    assert_eq!(broken, [(4, TileProblem::Inactive)]);
}

#[test]
fn a_message_with_its_picture_survives_the_outboxs_json() {
    let message = flashsale_bot::app::cards::now_live(&lunch_flash());
    assert!(message.picture.is_some());
    let stored = serde_json::to_value(&message).unwrap();
    let read: flashsale_bot::chat::Message = serde_json::from_value(stored).unwrap();
    assert_eq!(read, message);
    let Some(picture) = &read.picture else {
        unreachable!()
    };
    assert_eq!(painter().svg(picture), painter().svg(&sale(&lunch_flash())));
}

#[test]
fn the_guards_money_is_drawn_apart_from_the_shoppers_tiles() {
    let view = lunch_flash();
    let sheet = pictures::sale_sheet(&view);
    let guards: Vec<&TileGuard> = sheet
        .tiles
        .iter()
        .map(|t| match t {
            Tile::Product { guard, .. } => guard,
            Tile::Broken { .. } => panic!("no tile is broken: {t:?}"),
        })
        .collect();
    assert_eq!(
        *guards[0],
        TileGuard {
            low: Some("IDR 140,000".to_owned()),
            margin: Some("IDR 19,650".to_owned()),
            flagged: false,
            overridden: false,
        }
    );
    assert!(guards[1].flagged && guards[2].flagged && !guards[2].overridden);
    assert_eq!(*guards[3], TileGuard::default());
    assert!(guards[4].overridden);
    assert_eq!(guards[4].margin.as_deref(), Some("IDR -1,350"));
    assert_eq!(
        sheet.money,
        SheetMoney {
            giveaway: Some("IDR 5,801,250".to_owned()),
            budget: Some(BudgetLeft::Left("IDR 1,698,750".to_owned())),
        }
    );

    let svg = painter().svg(&sale(&view));
    // The strips and the band are their own groups: a tile's texts stay the page's.
    let strip = |sku: &str| {
        let open = format!(r#"<g class="guard" data-sku="{sku}">"#);
        let start = svg
            .find(&open)
            .unwrap_or_else(|| panic!("no strip for {sku}"));
        let end = svg[start..].find("</g>").unwrap();
        svg[start..start + end].to_owned()
    };
    assert!(strip("FS-001").contains(">30-day low IDR 140,000 · margin IDR 19,650<"));
    // The mark says why where the numbers leave room for it; the band says what ⚠ means.
    assert!(strip("FS-002").contains(">30-day low IDR 42,000<"));
    assert!(
        strip("FS-002").contains(">⚠ flagged<"),
        "{}",
        strip("FS-002")
    );
    assert!(strip("FS-003").contains(">⚠<"), "{}", strip("FS-003"));
    assert!(strip("FS-005").contains(">⚠<"));
    assert!(strip("FS-005").contains("margin IDR -1,350<"));
    assert!(!strip("FS-001").contains('⚠'));
    assert!(!svg.contains(r#"<g class="guard" data-sku="FS-004">"#));
    assert_eq!(svg.matches(r#"<g class="guard" "#).count(), 5);
    for text in [
        ">gives away IDR 5,801,250 · budget left IDR 1,698,750<",
        ">⚠ flagged or overridden: see the card<",
        ">Not on the storefront:<",
    ] {
        assert!(svg.contains(text), "{text} is missing from\n{svg}");
    }
    for (_, texts) in svg_tiles(&svg) {
        assert!(
            texts.keys().all(|class| !class.starts_with("guard")),
            "{texts:?}"
        );
    }

    let pixmap = draw(&sale(&view), "sale-guards.png");
    for tile in [0, 1, 2, 4, 5] {
        assert!(
            inked(&pixmap, guard_area(tile)) > 150,
            "tile {}'s strip has no ink",
            tile + 1
        );
    }
    assert_eq!(
        inked(&pixmap, guard_area(3)),
        0,
        "FS-004's guards know nothing: no strip"
    );
    assert!(inked(&pixmap, band_area()) > 1000);

    // A line the guards know no numbers of still shows its override.
    let mut view = lunch_flash();
    view.items[3].money.overridden = true;
    let svg = painter().svg(&sale(&view));
    let open = r#"<g class="guard" data-sku="FS-004">"#;
    let strip = &svg[svg.find(open).expect("FS-004 has a strip now")..];
    let strip = &strip[..strip.find("</g>").unwrap()];
    assert!(strip.ends_with(">⚠ overridden</text>"), "{strip}");
    assert!(!strip.contains("guard-money"), "{strip}");
}

#[test]
fn a_session_the_guards_know_nothing_of_draws_no_guard_strip_nor_band() {
    let svg = painter().svg(&sale(&plain_lunch_flash()));
    assert!(!svg.contains("class=\"guard"), "{svg}");
    let pixmap = draw(&sale(&plain_lunch_flash()), "sale-plain.png");
    assert_eq!(inked(&pixmap, band_area()), 0);
}

#[test]
fn a_session_over_its_budget_says_by_how_much() {
    let mut view = lunch_flash();
    view.money.budget = Some(idr(5_000_000));
    view.money.budget_left = Some(idr(-801_250));
    let sheet = pictures::sale_sheet(&view);
    assert_eq!(
        sheet.money.budget,
        Some(BudgetLeft::Over("IDR 801,250".to_owned()))
    );
    let svg = painter().svg(&Picture::Sale(Arc::new(sheet)));
    assert!(
        svg.contains(
            r##">gives away IDR 5,801,250 · <tspan font-weight="bold" fill="#b45309">⚠ over budget by IDR 801,250</tspan></text>"##
        ),
        "{svg}"
    );
    draw(&sale(&view), "sale-over-budget.png");
}
