//! The Shopify adapter (`flashsale_bot::shopify::ShopifyShop`) against the
//! fake Shopify (`support::fake_shopify`), which checks every request
//! against Shopify's full Admin schema: the catalog, a sale staged as
//! automatic discounts and switched by Shopify's clock, early stop, revoke,
//! revisions, a lost create found again, one line taken off, units sold,
//! the rate limit, a revoked token, Shopify down, a refusal (`userErrors`);
//! and the price mode's publish, restore and crash-restore. Times are relative to now.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use flashsale_bot::catalog::{Catalog, Freshness};
use flashsale_bot::domain::sale::{SalePhase, ShownSale};
use flashsale_bot::domain::{
    Currency, DiscountPercent, Money, Quantity, Sku, SkuRules, Window, WindowRules,
};
use flashsale_bot::shopify::{ShopifyMode, ShopifySettings, ShopifyShop};
use flashsale_bot::storefront::{SaleLine, SaleRequest, SaleWrite, Storefront, StorefrontError};
use secrecy::SecretString;
use serde_json::json;

use crate::support::assert_matches;
use crate::support::fake_shopify::{FakeShopify, MAX_ACTIVE_AUTOMATIC_DISCOUNTS, TOKEN};

fn sku(raw: &str) -> Sku {
    Sku::parse(raw, &SkuRules::default()).expect("a valid SKU")
}

fn idr() -> Currency {
    Currency::from_code("IDR").expect("IDR")
}

fn write(revision: i64) -> SaleWrite {
    SaleWrite {
        key: format!("test-{revision}"),
        revision,
    }
}

fn shop_for(fake: &FakeShopify, mode: ShopifyMode) -> ShopifyShop {
    ShopifyShop::new(
        ShopifySettings {
            shop_url: fake.url().parse().expect("a URL"),
            access_token: SecretString::from(TOKEN),
            mode,
            key_prefix: "FLASH".into(),
            timeout: Duration::from_secs(5),
        },
        idr(),
    )
    .expect("an adapter")
}

/// Three products: FS-001 and FS-002 at 149,500 and 100,000, FS-003 at 50,000.
async fn store() -> FakeShopify {
    let fake = FakeShopify::start("IDR", 0).await;
    fake.add_product("FS-001", "Kopi Gayo", 149_500, 40, "ACTIVE");
    fake.add_product("FS-002", "Teh Tarik", 100_000, 25, "ACTIVE");
    fake.add_product("FS-003", "Gula Aren", 50_000, 10, "ACTIVE");
    fake
}

/// A sale of `lines` (SKU, regular price, discount) for `[starts_at, starts_at + length)`.
fn sale_of(
    session_id: i64,
    lines: &[(&str, i64, i64)],
    starts_at: DateTime<Utc>,
    length: chrono::Duration,
) -> SaleRequest {
    let rules = WindowRules {
        min_lead: chrono::Duration::zero(),
        max_duration: chrono::Duration::hours(24),
    };
    let window = Window::new(starts_at, starts_at + length, starts_at, &rules).expect("a window");
    let skus: Vec<Sku> = lines.iter().map(|(s, _, _)| sku(s)).collect();
    let prices: Vec<Money> = lines
        .iter()
        .map(|(_, p, _)| Money::from_minor(*p, idr()))
        .collect();
    let sale_lines: Vec<SaleLine<'_>> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, _, discount))| SaleLine {
            sku: &skus[i],
            name: "x",
            discount: DiscountPercent::new(*discount).expect("a discount"),
            base_price: &prices[i],
            quantity: Quantity::new(3).expect("a quantity"),
        })
        .collect();
    SaleRequest::new(session_id, "Flash Friday", &window, &sale_lines)
}

const THREE: [(&str, i64, i64); 3] = [
    ("FS-001", 149_500, 30),
    ("FS-002", 100_000, 30),
    ("FS-003", 50_000, 20),
];

async fn shown(shop: &ShopifyShop, session_id: i64) -> ShownSale {
    shop.read_back(session_id)
        .await
        .expect("the read-back answers")
        .expect("Shopify knows the sale")
}

async fn until_phase(
    shop: &ShopifyShop,
    session_id: i64,
    want: SalePhase,
    within: Duration,
) -> ShownSale {
    let deadline = Instant::now() + within;
    loop {
        let sale = shown(shop, session_id).await;
        if sale.phase == want {
            return sale;
        }
        assert!(
            Instant::now() < deadline,
            "still {:?}, not {want:?}: {sale:?}",
            sale.phase
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn assert_live(sale: &ShownSale, request: &SaleRequest) {
    assert_eq!(sale.lines.len(), request.items.len(), "{sale:?}");
    for item in &request.items {
        let line = sale
            .lines
            .iter()
            .find(|l| l.sku == item.sku)
            .expect("the line");
        assert!(line.sale_applies, "{line:?}");
        assert_eq!(line.shown, item.flash_price, "{}", item.sku);
        assert_eq!(line.regular, item.base_price, "{}", item.sku);
    }
}

#[tokio::test]
async fn the_catalog_finds_known_skus_exactly_leaves_unknown_ones_out_and_drafts_inactive() {
    let fake = store().await;
    fake.add_product("FS-009", "Draft Thing", 12_000, 3, "DRAFT");
    fake.add_product("FS-0011", "Prefix Trap", 1_000, 3, "ACTIVE");
    fake.set_variant("FS-003", |v| v.tracked = false);
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let skus: Vec<Sku> = ["FS-001", "FS-003", "FS-009", "FS-404"]
        .iter()
        .map(|s| sku(s))
        .collect();
    let found = shop
        .products(&skus, Freshness::Live)
        .await
        .expect("an answer");
    assert_eq!(found.len(), 3, "{found:?}");
    let kopi = &found[&skus[0]];
    assert_eq!(
        (
            kopi.name.as_str(),
            kopi.price.minor(),
            kopi.stock,
            kopi.active
        ),
        ("Kopi Gayo", 149_500, 40, true)
    );
    assert_eq!(
        found[&skus[1]].stock,
        i64::from(u32::MAX),
        "untracked stock never runs out"
    );
    assert!(!found[&skus[2]].active, "a draft product is inactive");
    assert!(!found.contains_key(&skus[3]));
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_store_in_another_currency_than_the_bots_is_refused_not_converted() {
    let fake = FakeShopify::start("USD", 2).await;
    fake.add_product("FS-001", "Coffee", 1_250, 4, "ACTIVE");
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let refused = shop
        .products(&[sku("FS-001")], Freshness::Live)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("could not read"), "{refused}");
}

#[tokio::test]
async fn a_sale_staged_ahead_is_one_scheduled_discount_per_percentage_and_shoppers_still_pay_the_regular_price(
) {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    assert!(shop.capabilities().schedules_sales);
    assert!(!shop.capabilities().caps_quantity);
    let sale = sale_of(
        1,
        &THREE,
        Utc::now() + chrono::Duration::hours(2),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(1)).await.expect("staged");

    let discounts = fake.discounts();
    assert_eq!(discounts.len(), 2, "one per percentage: {discounts:?}");
    let thirty = discounts
        .iter()
        .find(|d| d.percentage == 0.3)
        .expect("30 %");
    assert_eq!(thirty.variants.len(), 2);
    assert_eq!(thirty.title, "Flash Friday -30% #FLASH-1");
    assert_eq!(thirty.starts_at, sale.window.starts_at());
    let read = shown(&shop, 1).await;
    assert_eq!(read.phase, SalePhase::Scheduled);
    assert!(
        read.lines
            .iter()
            .all(|l| !l.sale_applies && l.shown == l.regular),
        "{read:?}"
    );
    assert_eq!(fake.shopper_price("FS-001"), 149_500);
    let record = fake.metafield("sale-FLASH-1").expect("the record");
    assert_eq!(record["revision"], 1);
    assert_eq!(record["lines"][0]["original_price"], "149500.0");
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_staged_sale_goes_live_by_shopifys_clock_with_the_flash_prices_charged() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = sale_of(
        2,
        &THREE,
        Utc::now() + chrono::Duration::seconds(2),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(1)).await.expect("staged");
    assert_eq!(shown(&shop, 2).await.phase, SalePhase::Scheduled);
    until_phase(&shop, 2, SalePhase::Live, Duration::from_secs(6)).await;
    // One read-back reads the two discounts one after the other: right at
    // the start the second may still have been scheduled when read.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_live(&shown(&shop, 2).await, &sale);
    assert_eq!(fake.shopper_price("FS-001"), 104_650);
    assert_eq!(fake.shopper_price("FS-003"), 40_000);
    fake.assert_no_problems();
}

async fn live_sale(fake: &FakeShopify, shop: &ShopifyShop, session: i64) -> SaleRequest {
    let sale = sale_of(
        session,
        &THREE,
        Utc::now() - chrono::Duration::seconds(5),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(1)).await.expect("published");
    assert_live(&shown(shop, session).await, &sale);
    assert_eq!(fake.shopper_price("FS-002"), 70_000);
    sale
}

#[tokio::test]
async fn ending_a_live_sale_early_deactivates_its_discounts_and_the_regular_price_is_back_at_once()
{
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    live_sale(&fake, &shop, 3).await;
    shop.end(3, &write(2)).await.expect("ended");
    let after = shown(&shop, 3).await;
    assert_eq!(after.phase, SalePhase::Ended);
    assert!(after.lines.iter().all(|l| !l.sale_applies));
    assert_eq!(fake.shopper_price("FS-002"), 100_000);
    // Deactivated, not deleted: the discounts say when the sale really ran.
    assert_eq!(fake.discounts().len(), 2);
    assert!(fake
        .discounts()
        .iter()
        .all(|d| d.ends_at.is_some_and(|e| e <= Utc::now())));
    // Ending again is not an error.
    shop.end(3, &write(3)).await.expect("ended twice");
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_staged_sale_revoked_before_its_start_is_deleted_and_never_applies() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = sale_of(
        4,
        &THREE,
        Utc::now() + chrono::Duration::seconds(2),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(1)).await.expect("staged");
    shop.end(4, &write(2)).await.expect("withdrawn");
    assert!(fake.discounts().is_empty(), "{:?}", fake.discounts());
    assert_eq!(
        fake.metafield("sale-FLASH-4").expect("the record")["state"],
        "withdrawn"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(shown(&shop, 4).await.phase, SalePhase::Ended);
    assert_eq!(fake.shopper_price("FS-001"), 149_500);
    // A newer publish puts it up again.
    shop.publish(&sale, &write(3)).await.expect("republished");
    assert_eq!(shown(&shop, 4).await.phase, SalePhase::Live);
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_stale_revision_is_superseded_and_a_retry_of_the_same_one_makes_no_second_discount() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = sale_of(
        5,
        &THREE,
        Utc::now() + chrono::Duration::hours(1),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(4)).await.expect("published");
    shop.publish(&sale, &write(4)).await.expect("a retry");
    assert_eq!(fake.discounts().len(), 2, "{:?}", fake.discounts());
    assert_eq!(fake.calls_of("discountAutomaticBasicCreate"), 2);
    let before = fake.discounts();
    assert_eq!(
        shop.publish(&sale, &write(3)).await,
        Err(StorefrontError::Superseded { applied: 4 })
    );
    assert_eq!(
        shop.end(5, &write(2)).await,
        Err(StorefrontError::Superseded { applied: 4 })
    );
    assert_eq!(fake.discounts().len(), before.len());
    assert_eq!(
        shown(&shop, 5).await.phase,
        SalePhase::Scheduled,
        "nothing changed"
    );
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_discount_created_whose_answer_was_lost_is_found_by_its_title_not_made_twice() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = sale_of(
        6,
        &THREE,
        Utc::now() + chrono::Duration::hours(1),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(1)).await.expect("published");
    // As if the create's answer never came back: the record has no ids.
    let mut record = fake.metafield("sale-FLASH-6").expect("the record");
    for discount in record["discounts"].as_array_mut().expect("discounts") {
        discount["id"] = json!(null);
    }
    fake.set_metafield("sale-FLASH-6", &record);
    shop.publish(&sale, &write(1)).await.expect("the retry");
    assert_eq!(fake.discounts().len(), 2, "{:?}", fake.discounts());
    let ids = fake.metafield("sale-FLASH-6").expect("the record")["discounts"].clone();
    assert!(
        ids.as_array()
            .expect("discounts")
            .iter()
            .all(|d| d["id"].is_string()),
        "{ids}"
    );
    fake.assert_no_problems();
}

#[tokio::test]
async fn ending_one_line_takes_it_out_of_its_discount_and_the_others_stay_on_sale() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = live_sale(&fake, &shop, 7).await;
    shop.end_line(&sale, &sku("FS-001"), &write(2))
        .await
        .expect("line ended");
    let read = shown(&shop, 7).await;
    assert_eq!(read.phase, SalePhase::Live);
    let line = |sku: &str| {
        read.lines
            .iter()
            .find(|l| l.sku.as_str() == sku)
            .expect("the line")
            .clone()
    };
    assert!(!line("FS-001").sale_applies);
    assert_eq!(line("FS-001").shown.minor(), 149_500);
    assert!(line("FS-002").sale_applies && line("FS-003").sale_applies);
    assert_eq!(fake.shopper_price("FS-001"), 149_500);
    assert_eq!(fake.shopper_price("FS-002"), 70_000);
    // The last line of a percentage takes its discount whole.
    shop.end_line(&sale, &sku("FS-003"), &write(3))
        .await
        .expect("line ended");
    assert_eq!(fake.shopper_price("FS-003"), 50_000);
    assert!(line("FS-002").sale_applies);
    fake.assert_no_problems();
}

#[tokio::test]
async fn units_sold_counts_the_units_ordered_in_the_window_without_cancelled_orders() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    // Before the window: not the sale's.
    fake.place_order_at(&[("FS-001", 9)], Utc::now() - chrono::Duration::minutes(10));
    let sale = live_sale(&fake, &shop, 8).await;
    fake.place_order(&[("FS-001", 2), ("FS-002", 1)]);
    fake.place_order(&[("fs-001", 1)]);
    let cancelled = fake.place_order(&[("FS-002", 5)]);
    fake.cancel_order(&cancelled);
    for _ in 0..20 {
        fake.place_order(&[("FS-003", 1)]);
    }
    let sold = shop.units_sold(&sale).await.expect("counted");
    let of = |raw: &str| sold[&sku(raw)];
    assert_eq!(
        (of("FS-001"), of("FS-002"), of("FS-003")),
        (3, 1, 20),
        "over two pages of orders"
    );
    fake.assert_no_problems();
}

#[tokio::test]
async fn an_order_with_more_lines_than_a_page_is_counted_to_its_last_line() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = live_sale(&fake, &shop, 72).await;
    // 300 lines of other goods, then the sale's SKUs: past the first 50 the
    // order comes with, and past one page of 250 after that.
    let others: Vec<String> = (0..300).map(|n| format!("OTHER-{n:03}")).collect();
    let mut lines: Vec<(&str, i32)> = others.iter().map(|sku| (sku.as_str(), 1)).collect();
    lines.push(("FS-001", 3));
    lines.insert(120, ("FS-002", 2));
    fake.place_order(&lines);
    fake.place_order(&[("FS-001", 1)]);

    let sold = shop.units_sold(&sale).await.expect("counted");
    assert_eq!(sold.get(&sku("FS-001")), Some(&4), "{sold:?}");
    assert_eq!(sold.get(&sku("FS-002")), Some(&2), "{sold:?}");
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_burst_of_calls_waits_for_the_cost_bucket_before_sending_and_is_never_throttled() {
    let fake = store().await;
    let shop = Arc::new(shop_for(&fake, ShopifyMode::Discount));
    let one = [sku("FS-001")];
    shop.products(&one, Freshness::Live)
        .await
        .expect("the first call learns the bucket");
    fake.set_bucket(30.0, 30.0);
    shop.products(&one, Freshness::Live)
        .await
        .expect("learns the smaller bucket");
    let started = Instant::now();
    let burst: Vec<_> = (0..12)
        .map(|_| {
            let shop = shop.clone();
            tokio::spawn(async move { shop.products(&[sku("FS-002")], Freshness::Live).await })
        })
        .collect();
    for call in burst {
        call.await.expect("joined").expect("every call succeeds");
    }
    let calls = fake.calls();
    assert!(calls.iter().all(|c| !c.throttled), "{calls:#?}");
    // 12 calls of 8 points through a 30-point bucket refilling 30 a second.
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_throttled_answer_from_a_bucket_another_app_emptied_is_waited_out_and_retried() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let one = [sku("FS-001")];
    fake.set_bucket(100.0, 50.0);
    shop.products(&one, Freshness::Live)
        .await
        .expect("learns the bucket");
    fake.spend(100.0);
    let found = shop
        .products(&one, Freshness::Live)
        .await
        .expect("after a wait");
    assert_eq!(found.len(), 1);
    let throttled = fake.calls().iter().filter(|c| c.throttled).count();
    assert_eq!(throttled, 1, "{:#?}", fake.calls());
    fake.assert_no_problems();
}

#[tokio::test]
async fn a_token_revoked_mid_sale_fails_as_a_final_401_that_says_so_and_shows_no_secret() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    live_sale(&fake, &shop, 9).await;
    fake.revoke_token();
    let refused = shop.end(9, &write(2)).await.unwrap_err();
    assert_matches!(refused, StorefrontError::Status { status: 401, .. });
    assert!(!refused.is_transient());
    let text = refused.to_string();
    assert!(text.contains("access token"), "{text}");
    assert!(
        !text.contains(TOKEN) && !text.contains("127.0.0.1"),
        "{text}"
    );
    // The sale Shopify runs by itself is still on: the bot must say so, not assume.
    assert_eq!(fake.shopper_price("FS-001"), 104_650);
}

#[tokio::test]
async fn a_discount_shopify_refuses_is_a_final_refusal_in_shopifys_words_not_a_malformed_answer() {
    let fake = store().await;
    // Another app holds the store's 25 active automatic discounts.
    for n in 0..MAX_ACTIVE_AUTOMATIC_DISCOUNTS {
        fake.add_discount(
            &format!("Another app {n}"),
            "FS-003",
            0.05,
            Utc::now() - chrono::Duration::hours(1),
        );
    }
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = sale_of(
        12,
        &THREE,
        Utc::now() - chrono::Duration::seconds(5),
        chrono::Duration::hours(1),
    );
    let refused = shop.publish(&sale, &write(1)).await.unwrap_err();
    assert_matches!(
        refused,
        StorefrontError::Refused(ref why) if why.contains("25 active automatic discounts")
    );
    assert!(!refused.is_transient());
    assert!(
        refused.to_string().starts_with(
            "Shopify refused to create the automatic discount: automaticBasicDiscount: "
        ),
        "{refused}"
    );
    fake.assert_no_problems();
}

#[tokio::test]
async fn with_shopify_down_calls_fail_as_transient_and_a_staged_sale_still_starts_on_shopifys_clock(
) {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Discount);
    let sale = sale_of(
        10,
        &THREE,
        Utc::now() + chrono::Duration::seconds(2),
        chrono::Duration::hours(1),
    );
    shop.publish(&sale, &write(1)).await.expect("staged");
    fake.set_down(true);
    let failed = shop.read_back(10).await.unwrap_err();
    assert!(failed.is_transient(), "{failed:?}");
    assert_matches!(failed, StorefrontError::Status { status: 503, .. });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        fake.shopper_price("FS-001"),
        104_650,
        "Shopify's own clock started it"
    );
    fake.set_down(false);
    assert_live(&shown(&shop, 10).await, &sale);

    // A store that does not answer at all is unreachable, its address withheld.
    let gone = ShopifyShop::new(
        ShopifySettings {
            shop_url: "http://127.0.0.1:9".parse().expect("a URL"),
            access_token: SecretString::from(TOKEN),
            mode: ShopifyMode::Discount,
            key_prefix: "FLASH".into(),
            timeout: Duration::from_secs(2),
        },
        idr(),
    )
    .expect("an adapter");
    let unreachable = gone.publish(&sale, &write(1)).await.unwrap_err();
    assert!(unreachable.is_transient());
    crate::support::assert_no_transport_details(&unreachable.to_string());
    fake.assert_no_problems();
}

#[tokio::test]
async fn price_mode_publishes_the_flash_price_with_the_price_before_struck_and_puts_both_back_at_the_end(
) {
    let fake = store().await;
    fake.set_variant("FS-002", |v| v.compare_at_minor = Some(120_000));
    let shop = shop_for(&fake, ShopifyMode::Price);
    assert!(
        !shop.capabilities().schedules_sales,
        "the bot publishes at the start"
    );
    let sale = sale_of(11, &THREE, Utc::now(), chrono::Duration::hours(1));
    shop.publish(&sale, &write(1)).await.expect("published");
    let kopi = fake.variant("FS-001");
    assert_eq!(
        (kopi.price_minor, kopi.compare_at_minor),
        (104_650, Some(149_500))
    );
    assert_eq!(fake.variant("FS-002").compare_at_minor, Some(100_000));
    assert!(fake.discounts().is_empty());
    assert_live(&shown(&shop, 11).await, &sale);
    shop.end(11, &write(2)).await.expect("ended");
    assert_eq!(
        (
            fake.variant("FS-001").price_minor,
            fake.variant("FS-001").compare_at_minor
        ),
        (149_500, None)
    );
    assert_eq!(
        (
            fake.variant("FS-002").price_minor,
            fake.variant("FS-002").compare_at_minor
        ),
        (100_000, Some(120_000))
    );
    assert_eq!(shown(&shop, 11).await.phase, SalePhase::Ended);
    fake.assert_no_problems();
}

#[tokio::test]
async fn price_mode_after_a_crash_mid_publish_restores_the_prices_before_from_the_record_never_the_flash_ones(
) {
    let fake = store().await;
    let sale = sale_of(12, &THREE, Utc::now(), chrono::Duration::hours(1));
    // The first process stores the record, then Shopify fails the price change.
    fake.fail_next("productVariantsBulkUpdate", 1);
    let first = shop_for(&fake, ShopifyMode::Price);
    let failed = first.publish(&sale, &write(1)).await.unwrap_err();
    assert!(failed.is_transient(), "{failed:?}");
    drop(first);
    // A new process retries twice (the second finds the flash prices on the
    // variants) and a third one ends the sale.
    let second = shop_for(&fake, ShopifyMode::Price);
    second.publish(&sale, &write(1)).await.expect("the retry");
    second
        .publish(&sale, &write(1))
        .await
        .expect("a second retry");
    assert_eq!(fake.variant("FS-001").price_minor, 104_650);
    let third = shop_for(&fake, ShopifyMode::Price);
    third.end(12, &write(2)).await.expect("ended");
    for (sku, price, _) in THREE {
        let variant = fake.variant(sku);
        assert_eq!(
            (variant.price_minor, variant.compare_at_minor),
            (price, None),
            "{sku}"
        );
    }
    fake.assert_no_problems();
}

#[tokio::test]
async fn price_mode_leaves_a_price_someone_changed_during_the_sale() {
    let fake = store().await;
    let shop = shop_for(&fake, ShopifyMode::Price);
    let sale = sale_of(13, &THREE, Utc::now(), chrono::Duration::hours(1));
    shop.publish(&sale, &write(1)).await.expect("published");
    fake.set_variant("FS-003", |v| v.price_minor = 45_000);
    shop.end(13, &write(2)).await.expect("ended");
    assert_eq!(fake.variant("FS-003").price_minor, 45_000);
    assert_eq!(fake.variant("FS-001").price_minor, 149_500);
    fake.assert_no_problems();
}

#[tokio::test]
async fn every_request_is_checked_against_shopifys_full_schema_not_the_adapters_subset() {
    let fake = store().await;
    let client = reqwest::Client::new();
    let post = |query: &str| {
        client
            .post(format!("{}/admin/api/2025-01/graphql.json", fake.url()))
            .header("X-Shopify-Access-Token", TOKEN)
            .json(&json!({ "query": query, "variables": {} }))
            .send()
    };
    // A field the subset leaves out but Shopify has is fine.
    let answer: serde_json::Value = post("{ shop { name } }")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["shop"]["name"], "Fake", "{answer}");
    fake.assert_no_problems();
    // A misspelt field, and a variable of the wrong type, are refused.
    let answer: serde_json::Value = post("{ shop { nmae } }")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nmae"),
        "{answer}"
    );
    let answer: serde_json::Value =
        post("query Q($n: Int) { productVariants(first: $n, query: 5) { nodes { id } } }")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(answer["errors"].is_array(), "{answer}");
    assert_eq!(fake.problems().len(), 2);
}
