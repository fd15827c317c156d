//! The Medusa test harness itself (issue 26), before any adapter: the seeded
//! catalog is what a shopper sees, a sale price list switches the shopper's
//! price at its start and back at its end by Medusa's clock, tests on the
//! shared server do not see each other's products or price lists, and a test
//! can have a server of its own to stop and start. See `support::medusa`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::support::medusa::*;

#[test]
fn amounts_convert_between_minor_units_and_medusa_decimals_exactly() {
    assert_eq!(major_units(149_500, 0), "149500");
    assert_eq!(major_units(123_450, 2), "1234.50");
    assert_eq!(major_units(5, 2), "0.05");
    assert_eq!(major_units(-5, 2), "-0.05");
    assert_eq!(minor_units("149500", 0), 149_500);
    assert_eq!(minor_units("1234.5", 2), 123_450);
    assert_eq!(minor_units("0.05", 2), 5);
    assert_eq!(minor_units("10.10", 2), 1_010);
    assert_eq!(minor_units("149500.000", 0), 149_500);
    for minor in [0, 1, 99, 100, 101, 32_900, 1_234_567_891] {
        for exponent in [0, 2, 3] {
            assert_eq!(minor_units(&major_units(minor, exponent), exponent), minor);
            let number = medusa_amount(minor, exponent).to_string();
            assert_eq!(minor_units(&number, exponent), minor, "{number}");
        }
    }
}

#[test]
#[should_panic(expected = "more decimals than the currency")]
fn an_amount_finer_than_the_currency_is_refused() {
    minor_units("149500.5", 0);
}

#[tokio::test]
async fn the_seeded_sample_catalog_is_what_a_shopper_in_the_region_sees() {
    let medusa = Medusa::shared().await;
    let currency = medusa.harness.currency();
    let catalog = sample_catalog();
    assert!(!catalog.is_empty());
    let skus: Vec<&str> = catalog.iter().map(|e| e.sku.as_str()).collect();

    let seen = medusa.store_variants(&skus).await;
    for entry in &catalog {
        assert_eq!(entry.currency, currency.code(), "{}'s currency", entry.sku);
        let shown: Vec<&StoreVariant> = seen.iter().filter(|v| v.sku == entry.sku).collect();
        if !entry.active {
            assert!(
                shown.is_empty(),
                "{} is inactive in the catalog but a shopper sees it",
                entry.sku
            );
            continue;
        }
        let [variant] = shown[..] else {
            panic!("{} is on {} store variants, not 1", entry.sku, shown.len());
        };
        let price = variant
            .price
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no price in the region", entry.sku));
        assert_eq!(
            *price,
            ShopperPrice {
                amount_minor: entry.price_minor,
                original_minor: entry.price_minor,
                currency_code: medusa.harness.currency_code.clone(),
                price_list_id: None,
                price_list_type: None,
            },
            "{}'s price as a shopper sees it",
            entry.sku
        );
        assert_eq!(
            variant.inventory_quantity,
            Some(entry.stock),
            "{}'s stock",
            entry.sku
        );
        assert_eq!(variant.title, entry.name, "{}'s name", entry.sku);
    }
    assert_eq!(
        seen.len(),
        catalog.iter().filter(|e| e.active).count(),
        "the Store API showed SKUs the catalog does not have as active: {:?}",
        seen.iter().map(|v| &v.sku).collect::<Vec<_>>()
    );

    // Drafts are there for the admin API (the bot's catalog lookups), with their state.
    let admin = medusa.admin_variants(&skus).await;
    assert_eq!(admin.len(), catalog.len(), "every SKU is on one variant");
    for entry in &catalog {
        let variant = admin
            .iter()
            .find(|v| v["sku"] == entry.sku.as_str())
            .unwrap_or_else(|| panic!("{} is not in Medusa", entry.sku));
        let status = if entry.active { "published" } else { "draft" };
        assert_eq!(variant["product"]["status"], status, "{}", entry.sku);
    }
}

/// One Store API read of the sale's SKU: when it was sent, when it came back, what it showed.
struct Read {
    sent: DateTime<Utc>,
    back: DateTime<Utc>,
    price: ShopperPrice,
}

#[tokio::test]
async fn a_sale_price_list_switches_the_shopper_price_at_its_start_and_back_at_its_end() {
    let medusa = Medusa::shared().await;
    let ns = medusa.namespace();
    let products = ns.copy_sample(&["FS-003"]).await;
    let [product] = &products[..] else {
        panic!("one product");
    };
    let normal = product.price_minor;
    let flash = normal * 70 / 100;
    // Relative to now: Medusa compares the window with the database clock, on this machine.
    let starts_at = Utc::now() + chrono::Duration::seconds(4);
    let ends_at = starts_at + chrono::Duration::seconds(4);
    let list = ns
        .create_sale(
            "FS-003 at 30 % off",
            starts_at,
            ends_at,
            &[(&product.variant_id, flash)],
        )
        .await;
    let lists = ns.price_lists().await;
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(
        (
            lists[0].id.as_str(),
            lists[0].kind.as_str(),
            lists[0].status.as_str()
        ),
        (list.as_str(), "sale", "active")
    );

    let mut reads = Vec::new();
    while Utc::now() < ends_at + chrono::Duration::milliseconds(1500) {
        let sent = Utc::now();
        let variant = medusa
            .store_variant(product.sku.as_str())
            .await
            .expect("the test's product is in the Store API");
        let back = Utc::now();
        reads.push(Read {
            sent,
            back,
            price: variant.price.expect("a price in the region"),
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Medusa decides at some instant between sending and answering; allow a little for rounding of stored times.
    let slack = chrono::Duration::milliseconds(250);
    let sale = ShopperPrice {
        amount_minor: flash,
        original_minor: normal,
        currency_code: medusa.harness.currency_code.clone(),
        price_list_id: Some(list.clone()),
        price_list_type: Some("sale".into()),
    };
    let regular = ShopperPrice {
        amount_minor: normal,
        original_minor: normal,
        currency_code: medusa.harness.currency_code.clone(),
        price_list_id: None,
        price_list_type: None,
    };
    for read in &reads {
        let at = format!(
            "read sent {:+} ms from the start, {:+} ms from the end",
            (read.sent - starts_at).num_milliseconds(),
            (read.sent - ends_at).num_milliseconds()
        );
        let surely_inside = read.sent >= starts_at + slack && read.back <= ends_at - slack;
        let surely_outside = read.back <= starts_at - slack || read.sent >= ends_at + slack;
        if surely_inside {
            assert_eq!(read.price, sale, "{at}: the sale price, during the window");
        } else if surely_outside {
            assert_eq!(
                read.price, regular,
                "{at}: the normal price, outside the window"
            );
        } else {
            assert!(
                read.price == sale || read.price == regular,
                "{at}: neither price: {:?}",
                read.price
            );
        }
    }
    let first_sale = reads
        .iter()
        .find(|r| r.price == sale)
        .expect("some read showed the sale price");
    let back_to_normal = reads
        .iter()
        .find(|r| r.sent >= first_sale.sent && r.price == regular)
        .expect("some read after the sale showed the normal price again");
    assert!(
        reads.first().is_some_and(|r| r.price == regular),
        "the first read, before the start, showed the normal price"
    );
    eprintln!(
        "[medusa] {} reads; the sale price first seen {} ms after the start, the normal price again {} ms after the end",
        reads.len(),
        (first_sale.back - starts_at).num_milliseconds(),
        (back_to_normal.back - ends_at).num_milliseconds()
    );
}

#[tokio::test]
async fn tests_on_the_shared_server_do_not_see_each_others_products_or_sales() {
    let medusa = Medusa::shared().await;
    let (a, b) = (medusa.namespace(), medusa.namespace());
    assert_ne!(a.prefix(), b.prefix());
    let mine = a.copy_sample(&["FS-001", "FS-002"]).await;
    let theirs = b.copy_sample(&["FS-001"]).await;
    assert_ne!(mine[0].sku, theirs[0].sku, "same base SKU, different SKUs");
    assert!(mine[0].sku.as_str().starts_with(a.prefix()));

    let seen_by_a = a.store_variants(&["FS-001", "FS-002"]).await;
    let mut skus: Vec<&str> = seen_by_a.iter().map(|v| v.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, [mine[0].sku.as_str(), mine[1].sku.as_str()]);
    assert!(
        b.store_variants(&["FS-002"]).await.is_empty(),
        "b sees a's FS-002"
    );

    // A sale running now on a's FS-001 ...
    let flash = mine[0].price_minor / 2;
    let list = a
        .create_sale(
            "FS-001 at half price",
            Utc::now() - chrono::Duration::minutes(1),
            Utc::now() + chrono::Duration::minutes(10),
            &[(&mine[0].variant_id, flash)],
        )
        .await;
    let price_in = |variants: Vec<StoreVariant>| {
        let [variant] = &variants[..] else {
            panic!("one variant, got {variants:?}");
        };
        variant.price.clone().expect("a price").amount_minor
    };
    assert_eq!(price_in(a.store_variants(&["FS-001"]).await), flash);
    // ... is not on b's FS-001, nor on the seeded FS-001.
    assert_eq!(
        price_in(b.store_variants(&["FS-001"]).await),
        theirs[0].price_minor
    );
    let seeded = medusa.store_variant("FS-001").await.expect("seeded FS-001");
    let fs001 = sample_catalog()
        .into_iter()
        .find(|e| e.sku == "FS-001")
        .unwrap();
    assert_eq!(
        seeded.price.expect("a price").amount_minor,
        fs001.price_minor
    );

    let a_lists: Vec<String> = a.price_lists().await.into_iter().map(|l| l.id).collect();
    assert_eq!(a_lists, std::slice::from_ref(&list));
    assert!(b.price_lists().await.is_empty(), "b lists a's price list");

    // Ended early by moving its end to now: a's price is back, nothing else moved.
    medusa
        .admin_post(
            &format!("/admin/price-lists/{list}"),
            serde_json::json!({ "ends_at": timestamp(Utc::now()) }),
        )
        .await;
    assert_eq!(
        price_in(a.store_variants(&["FS-001"]).await),
        mine[0].price_minor
    );
}

#[tokio::test]
async fn a_test_can_stop_and_restart_a_medusa_of_its_own_without_touching_the_shared_one() {
    let shared = Medusa::shared().await;
    let mut private = PrivateMedusa::start().await;
    assert_ne!(private.medusa.url(), shared.url());
    let seeded = private
        .medusa
        .store_variant("FS-002")
        .await
        .expect("the template's FS-002");
    let fs002 = sample_catalog()
        .into_iter()
        .find(|e| e.sku == "FS-002")
        .unwrap();
    assert_eq!(
        seeded.price.expect("a price").amount_minor,
        fs002.price_minor
    );
    let ns = private.medusa.namespace();
    let products = ns.copy_sample(&["FS-002"]).await;
    let [product] = &products[..] else {
        panic!("one product");
    };
    // Only on the private server.
    assert!(shared.store_variant(product.sku.as_str()).await.is_none());

    private.stop().await;
    assert!(
        private.medusa.health().await.is_err(),
        "the stopped Medusa still answers"
    );
    shared
        .health()
        .await
        .expect("the shared Medusa is unaffected");

    private.start_server().await;
    let again = private
        .medusa
        .store_variant(product.sku.as_str())
        .await
        .expect("what was written before the stop is still there");
    assert_eq!(again.id, product.variant_id);
    private.shutdown().await;
}
