//! The Medusa adapter (`flashsale_bot::medusa::MedusaShop`) against a real
//! Medusa 2.x: the catalog lookups, a sale staged, going live and ending by
//! Medusa's clock, revisions, one line taken off, units sold, and Medusa
//! down. Each test has its own namespace (its products, and the adapter's
//! key prefix), so tests on the shared server never see each other's sales
//! (`support::medusa`). Times are relative to now; Medusa decides by its own
//! clock, which on this machine is ours.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use flashsale_bot::catalog::{Catalog, CatalogError, Freshness};
use flashsale_bot::domain::sale::{SalePhase, ShownSale};
use flashsale_bot::domain::{Currency, DiscountPercent, Money, Quantity, Sku, Window, WindowRules};
use flashsale_bot::medusa::MedusaShop;
use flashsale_bot::storefront::{SaleLine, SaleRequest, SaleWrite, Storefront, StorefrontError};
use serde_json::json;

use crate::support::medusa::*;

/// The six sample products a staged sale sells (all active in the sample catalog).
const SIX: [&str; 6] = ["FS-001", "FS-002", "FS-003", "FS-004", "FS-005", "FS-006"];

fn write(revision: i64) -> SaleWrite {
    SaleWrite {
        key: format!("test-{revision}"),
        revision,
    }
}

/// A sale of `products` at `discount` % off for `[starts_at, starts_at + length)`.
fn sale_of(
    medusa: &Medusa,
    products: &[OwnProduct],
    session_id: i64,
    starts_at: DateTime<Utc>,
    length: chrono::Duration,
    discount: i64,
) -> SaleRequest {
    let currency = medusa.harness.currency();
    // Any start is allowed here: the rules' lead is the bot's business, not the adapter's.
    let rules = WindowRules {
        min_lead: chrono::Duration::zero(),
        max_duration: chrono::Duration::hours(24),
    };
    let window = Window::new(starts_at, starts_at + length, starts_at, &rules).expect("a window");
    let prices: Vec<Money> = products
        .iter()
        .map(|p| Money::from_minor(p.price_minor, currency.clone()))
        .collect();
    let names: Vec<String> = products.iter().map(|p| p.base_sku.clone()).collect();
    let lines: Vec<SaleLine<'_>> = products
        .iter()
        .zip(&prices)
        .zip(&names)
        .map(|((p, price), name)| SaleLine {
            sku: &p.sku,
            name,
            discount: DiscountPercent::new(discount).expect("a discount"),
            base_price: price,
            quantity: Quantity::new(5).expect("a quantity"),
        })
        .collect();
    SaleRequest::new(session_id, "Adapter test", &window, &lines)
}

/// The flash price of each SKU in `sale`, in minor units.
fn flash_prices(sale: &SaleRequest) -> HashMap<Sku, i64> {
    sale.items
        .iter()
        .map(|i| (i.sku.clone(), i.flash_price.minor()))
        .collect()
}

/// The read-back, which must know the sale.
async fn shown(shop: &MedusaShop, session_id: i64) -> ShownSale {
    shop.read_back(session_id)
        .await
        .expect("the read-back answers")
        .expect("Medusa knows the sale")
}

/// Reads back until the phase is `want` (at most `within`); the last read-back.
async fn until_phase(
    shop: &MedusaShop,
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
            "the sale is still {:?} after {within:?}, not {want:?}: {sale:?}",
            sale.phase
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Every line shows its flash price with the regular one struck through.
fn assert_live_prices(sale: &ShownSale, request: &SaleRequest) {
    let flash = flash_prices(request);
    assert_eq!(sale.lines.len(), request.items.len(), "{sale:?}");
    for item in &request.items {
        let line = sale
            .lines
            .iter()
            .find(|l| l.sku == item.sku)
            .unwrap_or_else(|| panic!("{} is not read back: {sale:?}", item.sku));
        assert!(line.sale_applies, "{}: {line:?}", item.sku);
        assert_eq!(line.shown.minor(), flash[&item.sku], "{}'s price", item.sku);
        assert_eq!(
            line.regular, item.base_price,
            "{}'s regular price",
            item.sku
        );
    }
}

/// No line is discounted: every one shows its regular price.
fn assert_regular_prices(sale: &ShownSale, request: &SaleRequest) {
    assert_eq!(sale.lines.len(), request.items.len(), "{sale:?}");
    for item in &request.items {
        let line = sale
            .lines
            .iter()
            .find(|l| l.sku == item.sku)
            .unwrap_or_else(|| panic!("{} is not read back: {sale:?}", item.sku));
        assert!(!line.sale_applies, "{}: {line:?}", item.sku);
        assert_eq!(line.shown, item.base_price, "{}'s price", item.sku);
        assert_eq!(
            line.regular, item.base_price,
            "{}'s regular price",
            item.sku
        );
    }
}

/// What a shopper is charged for each of `products`, straight from the Store API.
async fn shopper_prices(medusa: &Medusa, products: &[OwnProduct]) -> HashMap<Sku, ShopperPrice> {
    let skus: Vec<&str> = products.iter().map(|p| p.sku.as_str()).collect();
    medusa
        .store_variants(&skus)
        .await
        .into_iter()
        .map(|v| {
            let sku = products
                .iter()
                .find(|p| p.sku.as_str() == v.sku)
                .expect("one of ours")
                .sku
                .clone();
            (sku, v.price.expect("a price in the region"))
        })
        .collect()
}

/// The namespace's one price list, with its prices by variant.
async fn only_list(ns: &Namespace) -> (PriceList, HashMap<String, i64>) {
    let lists = ns.price_lists().await;
    let [list] = &lists[..] else {
        panic!("expected one price list, found {}: {lists:?}", lists.len());
    };
    let body = ns
        .medusa
        .admin_get(&format!(
            "/admin/price-lists/{}?fields=id,prices.amount,prices.price_set.variant.id",
            list.id
        ))
        .await;
    let prices = body["price_list"]["prices"]
        .as_array()
        .expect("prices")
        .iter()
        .map(|p| {
            let variant = p["variant_id"].as_str().expect("a variant").to_owned();
            let amount = minor_units(&p["amount"].to_string(), ns.medusa.exponent());
            (variant, amount)
        })
        .collect();
    (list.clone(), prices)
}

// ---------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_catalog_finds_known_skus_exactly_leaves_unknown_ones_out_and_drafts_inactive() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let made = ns
        .create_products(&[
            NewProduct {
                base_sku: "KOPI".into(),
                name: "Kopi Gayo 250 g".into(),
                price_minor: 149_500,
                stock: 42,
                active: true,
            },
            NewProduct {
                base_sku: "TEH".into(),
                name: "Teh Melati".into(),
                price_minor: 45_001,
                stock: 0,
                active: true,
            },
            NewProduct {
                base_sku: "OFF".into(),
                name: "Rendang Kaleng".into(),
                price_minor: 67_000,
                stock: 9,
                active: false,
            },
        ])
        .await;
    let shop = adapter(&medusa, &ns);
    let unknown = ns.sku("NOPE");
    let mut asked: Vec<Sku> = made.iter().map(|p| p.sku.clone()).collect();
    asked.push(unknown.clone());
    asked.push(made[0].sku.clone());

    let found = shop
        .products(&asked, Freshness::Live)
        .await
        .expect("the catalog answers");
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(!found.contains_key(&unknown));
    let currency = medusa.harness.currency();
    for p in &made {
        let product = &found[&p.sku];
        assert_eq!(
            product.price,
            Money::from_minor(p.price_minor, currency.clone())
        );
        assert_eq!(product.stock, p.stock, "{}'s stock", p.sku);
        assert_eq!(product.active, p.active, "{} active", p.sku);
        assert_eq!(product.pricing, Default::default());
    }
    assert_eq!(found[&made[0].sku].name, ns.title("Kopi Gayo 250 g"));
    assert!(!found[&made[2].sku].active, "a draft product is inactive");

    // Autocomplete finds them by the namespace's prefix, drafts included.
    let searched = shop.search(ns.prefix(), 25).await.expect("a search");
    let mut skus: Vec<&str> = searched.iter().map(|p| p.sku.as_str()).collect();
    skus.sort_unstable();
    let mut expected: Vec<&str> = made.iter().map(|p| p.sku.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(skus, expected);
    assert_eq!(
        shop.search(ns.prefix(), 1).await.expect("a search").len(),
        1
    );
}

#[tokio::test]
async fn a_catalog_in_another_currency_than_the_bots_is_malformed_not_converted() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let made = ns.copy_sample(&["FS-001"]).await;
    let usd = Currency::from_code("USD").expect("USD");
    let shop = adapter_in(&medusa, &ns, usd);
    let refused = shop
        .products(&[made[0].sku.clone()], Freshness::Live)
        .await
        .expect_err("IDR prices for a USD bot");
    assert!(
        matches!(&refused, CatalogError::Malformed(why) if why.detail().contains("IDR")),
        "{refused:?}"
    );
}

// ---------------------------------------------------------------------------
// Sales
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_six_sku_sale_staged_ahead_reads_back_scheduled_and_shoppers_still_pay_the_regular_price()
{
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&SIX).await;
    let shop = adapter(&medusa, &ns);
    assert!(shop.read_back(1).await.expect("a read-back").is_none());

    let starts_at = Utc::now() + chrono::Duration::minutes(10);
    let sale = sale_of(
        &medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(30),
        30,
    );
    shop.publish(&sale, &write(1)).await.expect("staged");

    let read = shown(&shop, 1).await;
    assert_eq!(read.phase, SalePhase::Scheduled);
    assert_regular_prices(&read, &sale);
    for (sku, price) in shopper_prices(&medusa, &products).await {
        assert_eq!(price.amount_minor, price.original_minor, "{sku}");
        assert_eq!(price.price_list_id, None, "{sku}");
    }

    // One list, as the module doc says: a sale list, active, the window, the flash prices.
    let (list, prices) = only_list(&ns).await;
    assert_eq!(
        (list.kind.as_str(), list.status.as_str()),
        ("sale", "active")
    );
    assert_eq!(list.title, format!("[{}] #1 Adapter test", ns.prefix()));
    assert_eq!(
        list.starts_at
            .as_deref()
            .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
        Some(sale.window.starts_at().trunc_subsecs_ms())
    );
    let metadata = list.metadata.expect("metadata");
    assert_eq!(metadata["flashsale_key"], format!("{}:1", ns.prefix()));
    assert_eq!(metadata["flashsale_revision"], 1);
    let flash = flash_prices(&sale);
    assert_eq!(prices.len(), 6);
    for p in &products {
        assert_eq!(
            prices[&p.variant_id], flash[&p.sku],
            "{}'s list price",
            p.sku
        );
    }
}

/// Milliseconds, as Medusa stores times.
trait TruncMs {
    fn trunc_subsecs_ms(self) -> Self;
}

impl TruncMs for DateTime<Utc> {
    fn trunc_subsecs_ms(self) -> Self {
        chrono::DurationRound::duration_trunc(self, chrono::Duration::milliseconds(1))
            .expect("a time")
    }
}

#[tokio::test]
async fn a_sale_starting_seconds_ahead_goes_live_by_medusas_clock_with_the_regular_price_struck() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-003", "FS-004"]).await;
    let shop = adapter(&medusa, &ns);
    let starts_at = Utc::now() + chrono::Duration::seconds(3);
    let sale = sale_of(
        &medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(5),
        30,
    );
    shop.publish(&sale, &write(1)).await.expect("staged");

    let first = shown(&shop, 1).await;
    if Utc::now() < starts_at - chrono::Duration::milliseconds(500) {
        assert_eq!(first.phase, SalePhase::Scheduled, "{first:?}");
        assert_regular_prices(&first, &sale);
    }
    let live = until_phase(&shop, 1, SalePhase::Live, Duration::from_secs(15)).await;
    assert!(
        Utc::now() >= starts_at,
        "read back live before its start by this machine's clock"
    );
    assert_live_prices(&live, &sale);
    // The shopper sees the same: the flash price from our list, the regular one as original.
    let (list, _) = only_list(&ns).await;
    let flash = flash_prices(&sale);
    for p in &products {
        let price = &shopper_prices(&medusa, &products).await[&p.sku];
        assert_eq!(price.amount_minor, flash[&p.sku]);
        assert_eq!(price.original_minor, p.price_minor);
        assert_eq!(price.price_list_id.as_deref(), Some(list.id.as_str()));
    }
}

/// A sale that started a moment ago, published and read back live.
async fn live_sale(medusa: &Medusa, shop: &MedusaShop, products: &[OwnProduct]) -> SaleRequest {
    let starts_at = Utc::now() - chrono::Duration::seconds(5);
    let sale = sale_of(
        medusa,
        products,
        1,
        starts_at,
        chrono::Duration::minutes(30),
        25,
    );
    shop.publish(&sale, &write(1)).await.expect("published");
    let live = shown(shop, 1).await;
    assert_eq!(live.phase, SalePhase::Live, "{live:?}");
    assert_live_prices(&live, &sale);
    sale
}

#[tokio::test]
async fn a_store_that_spells_its_skus_in_lower_case_is_found_sold_and_read_back() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns
        .create_products_spelled(
            &[NewProduct {
                base_sku: "LOW".into(),
                name: "Kopi Luwak 100 g".into(),
                price_minor: 320_000,
                stock: 12,
                active: true,
            }],
            true,
        )
        .await;
    let shop = adapter(&medusa, &ns);
    let sku = products[0].sku.clone();
    assert_ne!(
        sku.as_str(),
        sku.as_str().to_lowercase(),
        "the bot's spelling differs"
    );

    let found = shop
        .products(std::slice::from_ref(&sku), Freshness::Live)
        .await
        .expect("the catalog answers");
    assert_eq!(found.get(&sku).map(|p| p.stock), Some(12), "{found:?}");
    // Published under the bot's spelling, read back under it too.
    live_sale(&medusa, &shop, &products).await;
}

#[tokio::test]
async fn ending_a_live_sale_early_brings_the_regular_price_back_at_once() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-001", "FS-002"]).await;
    let shop = adapter(&medusa, &ns);
    let sale = live_sale(&medusa, &shop, &products).await;

    shop.end(1, &write(2)).await.expect("ended");
    let ended = shown(&shop, 1).await;
    assert_eq!(ended.phase, SalePhase::Ended);
    assert_regular_prices(&ended, &sale);
    for (sku, price) in shopper_prices(&medusa, &products).await {
        assert_eq!(price.price_list_id, None, "{sku} still on the list");
    }
    // Ended by its end moved to now: still active, so the record says when it ran.
    let (list, _) = only_list(&ns).await;
    assert_eq!(list.status, "active");
    let ends_at: DateTime<Utc> = list.ends_at.expect("an end").parse().expect("a time");
    assert!(
        ends_at < sale.window.ends_at() && ends_at <= Utc::now(),
        "{ends_at}"
    );
    assert_eq!(list.metadata.expect("metadata")["flashsale_revision"], 2);

    // Ending again (a retry, or an unknown sale) is not an error.
    shop.end(1, &write(2)).await.expect("ended again");
    shop.end(99, &write(1)).await.expect("an unknown sale");
    assert!(shop.read_back(99).await.expect("a read-back").is_none());
}

#[tokio::test]
async fn a_staged_sale_withdrawn_before_its_start_never_applies() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-005"]).await;
    let shop = adapter(&medusa, &ns);
    let starts_at = Utc::now() + chrono::Duration::seconds(2);
    let sale = sale_of(
        &medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(5),
        40,
    );
    shop.publish(&sale, &write(1)).await.expect("staged");
    shop.end(1, &write(2)).await.expect("withdrawn");
    assert!(
        Utc::now() < starts_at,
        "the withdrawal came after the start: this test checks nothing"
    );

    let (list, _) = only_list(&ns).await;
    assert_eq!(list.status, "draft", "withdrawn as a draft");
    // Past its planned start, still nothing.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let read = shown(&shop, 1).await;
    assert_eq!(read.phase, SalePhase::Ended);
    assert_regular_prices(&read, &sale);
    let price = &shopper_prices(&medusa, &products).await[&products[0].sku];
    assert_eq!(price.amount_minor, products[0].price_minor);
}

#[tokio::test]
async fn a_stale_revision_is_superseded_and_changes_nothing() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-001", "FS-006"]).await;
    let shop = adapter(&medusa, &ns);
    let starts_at = Utc::now() + chrono::Duration::minutes(10);
    let newer = sale_of(
        &medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(30),
        20,
    );
    shop.publish(&newer, &write(5)).await.expect("revision 5");
    let before = only_list(&ns).await;

    let older = sale_of(
        &medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(60),
        50,
    );
    assert_eq!(
        shop.publish(&older, &write(4)).await,
        Err(StorefrontError::Superseded { applied: 5 })
    );
    assert_eq!(
        shop.end(1, &write(3)).await,
        Err(StorefrontError::Superseded { applied: 5 })
    );
    assert_eq!(
        shop.end_line(&newer, &products[0].sku, &write(4)).await,
        Err(StorefrontError::Superseded { applied: 5 })
    );
    let after = only_list(&ns).await;
    assert_eq!(after.1, before.1, "the prices changed");
    assert_eq!(
        (&after.0.status, &after.0.ends_at, &after.0.metadata),
        (&before.0.status, &before.0.ends_at, &before.0.metadata)
    );
    assert!(!StorefrontError::Superseded { applied: 5 }.is_transient());
}

#[tokio::test]
async fn a_retried_publish_of_the_same_revision_updates_the_one_list_and_makes_no_second() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-002", "FS-003"]).await;
    let shop = adapter(&medusa, &ns);
    let starts_at = Utc::now() + chrono::Duration::minutes(10);
    let sale = sale_of(
        &medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(30),
        30,
    );
    shop.publish(&sale, &write(1)).await.expect("published");
    let (first, prices) = only_list(&ns).await;
    shop.publish(&sale, &write(1)).await.expect("retried");
    shop.publish(&sale, &write(1)).await.expect("retried again");
    let (again, prices_again) = only_list(&ns).await;
    assert_eq!(again.id, first.id);
    assert_eq!(prices_again, prices);

    // Another session of the same bot is another list; another prefix never sees ours.
    let other = sale_of(
        &medusa,
        &products[..1],
        2,
        starts_at,
        chrono::Duration::minutes(30),
        10,
    );
    shop.publish(&other, &write(1)).await.expect("session 2");
    assert_eq!(ns.price_lists().await.len(), 2);
    let stranger = adapter(&medusa, &medusa.namespace());
    assert!(stranger.read_back(1).await.expect("a read-back").is_none());
    stranger
        .end(1, &write(9))
        .await
        .expect("nothing of theirs to end");
    assert_eq!(shown(&shop, 1).await.phase, SalePhase::Scheduled);
}

#[tokio::test]
async fn a_sale_ended_and_published_again_with_a_newer_revision_is_up_again() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-004"]).await;
    let shop = adapter(&medusa, &ns);
    let sale = live_sale(&medusa, &shop, &products).await;
    shop.end(1, &write(2)).await.expect("ended");
    assert_eq!(shown(&shop, 1).await.phase, SalePhase::Ended);

    shop.publish(&sale, &write(3)).await.expect("put up again");
    let read = shown(&shop, 1).await;
    assert_eq!(read.phase, SalePhase::Live, "{read:?}");
    assert_live_prices(&read, &sale);
    assert_eq!(
        ns.price_lists().await.len(),
        1,
        "the same list, not a second"
    );

    // And a staged one withdrawn, then published again, is staged again.
    let ns2 = medusa.namespace();
    let products2 = ns2.copy_sample(&["FS-004"]).await;
    let shop2 = adapter(&medusa, &ns2);
    let staged = sale_of(
        &medusa,
        &products2,
        1,
        Utc::now() + chrono::Duration::minutes(10),
        chrono::Duration::minutes(10),
        10,
    );
    shop2.publish(&staged, &write(1)).await.expect("staged");
    shop2.end(1, &write(2)).await.expect("withdrawn");
    assert_eq!(shown(&shop2, 1).await.phase, SalePhase::Ended);
    shop2
        .publish(&staged, &write(3))
        .await
        .expect("staged again");
    assert_eq!(shown(&shop2, 1).await.phase, SalePhase::Scheduled);
    assert_eq!(only_list(&ns2).await.0.status, "active");
}

#[tokio::test]
async fn ending_one_line_takes_its_flash_price_off_and_the_others_stay() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-001", "FS-002", "FS-003"]).await;
    let shop = adapter(&medusa, &ns);
    let sale = live_sale(&medusa, &shop, &products).await;
    let gone = &products[1];

    shop.end_line(&sale, &gone.sku, &write(2))
        .await
        .expect("line ended");
    let read = shown(&shop, 1).await;
    assert_eq!(read.phase, SalePhase::Live);
    assert_eq!(
        read.lines.len(),
        3,
        "every line is still read back: {read:?}"
    );
    let flash = flash_prices(&sale);
    for line in &read.lines {
        if line.sku == gone.sku {
            assert!(!line.sale_applies, "{line:?}");
            assert_eq!(line.shown.minor(), gone.price_minor);
        } else {
            assert!(line.sale_applies, "{line:?}");
            assert_eq!(line.shown.minor(), flash[&line.sku]);
        }
    }
    let shopper = shopper_prices(&medusa, &products).await;
    assert_eq!(shopper[&gone.sku].amount_minor, gone.price_minor);
    assert_eq!(
        shopper[&products[0].sku].amount_minor,
        flash[&products[0].sku]
    );
    let (list, prices) = only_list(&ns).await;
    assert_eq!(prices.len(), 2);
    assert!(!prices.contains_key(&gone.variant_id));
    assert_eq!(list.metadata.expect("metadata")["flashsale_revision"], 2);
    // A retry of the same decision is harmless.
    shop.end_line(&sale, &gone.sku, &write(2))
        .await
        .expect("retried");
    assert_eq!(only_list(&ns).await.1, prices);
}

#[tokio::test]
async fn units_sold_counts_the_units_ordered_in_the_window_without_canceled_orders() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-001", "FS-002", "FS-003"]).await;
    let shop = adapter(&medusa, &ns);
    let sale = live_sale(&medusa, &shop, &products).await;
    let none: HashMap<Sku, u32> = products.iter().map(|p| (p.sku.clone(), 0)).collect();
    assert_eq!(shop.units_sold(&sale).await.expect("counted"), none);

    place_order(
        &medusa,
        &[(&products[0].variant_id, 2), (&products[1].variant_id, 1)],
    )
    .await;
    place_order(&medusa, &[(&products[0].variant_id, 3)]).await;
    let canceled = place_order(&medusa, &[(&products[1].variant_id, 4)]).await;
    medusa
        .admin_post(&format!("/admin/orders/{canceled}/cancel"), json!({}))
        .await;
    // A draft never converted is no sale.
    medusa
        .admin_post(
            "/admin/draft-orders",
            json!({
                "email": "shopper@example.com",
                "region_id": medusa.harness.region_id,
                "sales_channel_id": medusa.harness.sales_channel_id,
                "items": [{ "variant_id": products[2].variant_id, "quantity": 7 }],
            }),
        )
        .await;

    let sold = shop.units_sold(&sale).await.expect("counted");
    let expected: HashMap<Sku, u32> = [
        (products[0].sku.clone(), 5),
        (products[1].sku.clone(), 1),
        (products[2].sku.clone(), 0),
    ]
    .into();
    assert_eq!(sold, expected);

    // The same SKUs in a window that starts after those orders sold nothing.
    let later = sale_of(
        &medusa,
        &products,
        2,
        Utc::now() + chrono::Duration::seconds(1),
        chrono::Duration::minutes(10),
        25,
    );
    assert_eq!(shop.units_sold(&later).await.expect("counted"), none);
}

// ---------------------------------------------------------------------------
// Medusa down
// ---------------------------------------------------------------------------

#[tokio::test]
async fn with_medusa_down_calls_fail_as_transient_and_a_staged_sale_still_starts_on_medusas_clock()
{
    let mut private = PrivateMedusa::start().await;
    let ns = private.medusa.namespace();
    let products = ns.copy_sample(&["FS-001", "FS-002"]).await;
    let shop = adapter(&private.medusa, &ns);
    let starts_at = Utc::now() + chrono::Duration::seconds(4);
    let sale = sale_of(
        &private.medusa,
        &products,
        1,
        starts_at,
        chrono::Duration::minutes(10),
        30,
    );
    shop.publish(&sale, &write(1)).await.expect("staged");
    assert_eq!(shown(&shop, 1).await.phase, SalePhase::Scheduled);

    private.stop().await;
    let publish = shop
        .publish(&sale, &write(2))
        .await
        .expect_err("Medusa is down");
    assert!(publish.is_transient(), "{publish:?}");
    assert!(
        matches!(publish, StorefrontError::Unreachable(_)),
        "{publish:?}"
    );
    assert!(
        !publish.to_string().contains("127.0.0.1"),
        "a host in a message people see: {publish}"
    );
    let read = shop.read_back(1).await.expect_err("Medusa is down");
    assert!(read.is_transient(), "not a verdict on the sale: {read:?}");
    let end = shop.end(1, &write(2)).await.expect_err("Medusa is down");
    assert!(end.is_transient(), "{end:?}");
    let catalog = shop
        .products(&[products[0].sku.clone()], Freshness::Live)
        .await
        .expect_err("Medusa is down");
    assert!(
        matches!(catalog, CatalogError::Unreachable(_)),
        "{catalog:?}"
    );

    // Down across the start: Medusa switches by its own clock once it is back.
    while Utc::now() < starts_at {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    private.start_server().await;
    let live = shown(&shop, 1).await;
    assert_eq!(live.phase, SalePhase::Live, "{live:?}");
    assert_live_prices(&live, &sale);
    private.shutdown().await;
}
