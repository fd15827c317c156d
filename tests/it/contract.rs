//! The storefront contract, `docs/storefront-api.yaml`, against the code on both sides: the bot's
//! real clients (`HttpCatalog`, `HttpStorefront`) call the real dev storefront, which records every
//! request and answer, and each one is checked against the document for its path, method and status.
//! Every other test that uses the dev storefront checks its calls the same way when it ends
//! (`support::storefront::CheckedStore`); this one makes sure each operation and each kind of answer
//! (success, replay, refusal, signature failure, throttling, server error, not found, a write refused
//! as older than the last one applied) is exercised.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use flashsale_bot::catalog::{Catalog, Freshness, HttpCatalog};
use flashsale_bot::devstore::{self, Faults, RecordedCall};
use flashsale_bot::domain::{Currency, Money, Sku, SkuRules};
use flashsale_bot::storefront::{
    HttpStorefront, SaleRequest, SaleWrite, Storefront, StorefrontError,
};
use secrecy::SecretString;

use crate::support::contract::{problems_of, Check, Contract, CONTRACT_PATH};
use crate::support::storefront::{dev_storefront, sample_sale};

/// A write with `key` at `revision`.
fn write(key: &str, revision: i64) -> SaleWrite {
    SaleWrite {
        key: key.to_owned(),
        revision,
    }
}

/// A valid secret that is not the one the dev storefront checks against.
const OTHER_SECRET: &str = "whsec_YW5vdGhlci1zZWNyZXQtdGhhdC1pcy1ub3Qtb3VycyE=";

fn storefront(url: &str, secret: &str) -> HttpStorefront {
    HttpStorefront::new(
        url.parse().expect("dev storefront URL"),
        &SecretString::from(secret.to_owned()),
        Duration::from_secs(5),
    )
    .expect("storefront client")
}

/// Six sample-catalog products at 30 % off, priced as the bot prices them.
fn sale(session_id: i64) -> SaleRequest {
    let starts_at = Utc
        .with_ymd_and_hms(2030, 1, 2, 12, 0, 0)
        .single()
        .expect("a time");
    sample_sale(
        session_id,
        "Contract Flash",
        starts_at,
        chrono::Duration::minutes(30),
        6,
    )
}

/// Runs every kind of call the bot makes, and every kind of answer the dev storefront gives, and
/// returns the recorded calls.
async fn every_kind_of_call() -> Vec<RecordedCall> {
    let store = dev_storefront().await;
    let catalog = HttpCatalog::new(
        store.url().parse().expect("URL"),
        Currency::from_code("IDR").expect("IDR"),
        Duration::from_secs(5),
    )
    .expect("catalog client");
    let rules = SkuRules::default();
    let skus: Vec<Sku> = ["FS-001", "fs-002", "NOPE-1"]
        .iter()
        .map(|s| Sku::parse(s, &rules).expect("SKU"))
        .collect();
    let found = catalog
        .products(&skus, Freshness::Live)
        .await
        .expect("lookup");
    assert_eq!(found.len(), 2, "the unknown SKU is absent");
    let suggestions = catalog.search("kopi", 25).await.expect("search");
    assert!(!suggestions.is_empty());

    let shop = storefront(&store.url(), &devstore::test_secret());
    // The optional capabilities: this dev storefront does not say it schedules.
    let asked = shop.clone().discover().await.expect("capabilities");
    assert!(!asked.capabilities().schedules_sales);
    let sale12 = sale(12);
    shop.publish(&sale12, &write("publish-12", 1))
        .await
        .expect("published");
    // A retry after a lost answer: same id, same bytes, answered from memory.
    shop.publish(&sale12, &write("publish-12", 1))
        .await
        .expect("replayed");
    let read = shop.read_back(12).await.expect("read back");
    let read = read.expect("the sale is there");
    assert_eq!(
        read.lines
            .iter()
            .map(|l| l.sku.as_str())
            .collect::<Vec<_>>(),
        sale12
            .items
            .iter()
            .map(|i| i.sku.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(shop.read_back(99).await.expect("read back"), None);

    // Refused: a flash price that does not follow from the discount.
    let mut wrong = sale(13);
    wrong.items[0].flash_price = Money::from_minor(
        wrong.items[0].flash_price.minor() + 1_000,
        wrong.items[0].flash_price.currency().clone(),
    );
    let refused = shop
        .publish(&wrong, &write("publish-13", 3))
        .await
        .expect_err("422");
    assert!(!refused.is_transient(), "{refused}");

    // Signed with another secret.
    let impostor = storefront(&store.url(), OTHER_SECRET);
    let unsigned = impostor
        .publish(&sale(14), &write("publish-14", 4))
        .await
        .expect_err("401");
    assert!(!unsigned.is_transient(), "{unsigned}");

    // Throttled, then a server error, then a conflict: all worth retrying.
    for (status, retry_after_secs) in [(429, Some(2)), (503, Some(1)), (500, None), (409, None)] {
        store.set_faults(Faults {
            fail_next: 1,
            status: Some(status),
            retry_after_secs,
            ..Faults::default()
        });
        let e = shop
            .publish(&sale(15), &write("publish-15", 5))
            .await
            .expect_err("fault");
        assert!(e.is_transient(), "{status}: {e}");
    }
    store.set_faults(Faults {
        fail_next: 1,
        status: Some(400),
        ..Faults::default()
    });
    let bad = shop.end(12, &write("end-12", 6)).await.expect_err("400");
    assert!(!bad.is_transient(), "{bad}");

    // The end tried again repeats its key and revision, as every retry does.
    shop.end(12, &write("end-12", 6)).await.expect("ended");
    shop.end(12, &write("end-12", 6))
        .await
        .expect("replayed end");
    shop.end(98, &write("end-98", 9))
        .await
        .expect("an unknown sale is gone already");

    // Older than the last write applied: refused with the sale as it is (or null), changing nothing.
    let late_publish = shop
        .publish(&sale12, &write("repair-12", 2))
        .await
        .expect_err("older than the end");
    assert!(
        matches!(late_publish, StorefrontError::Superseded { applied: 6 }),
        "{late_publish:?}"
    );
    let late_end = shop
        .end(12, &write("end-12-earlier", 5))
        .await
        .expect_err("older than the end");
    assert!(
        matches!(late_end, StorefrontError::Superseded { applied: 6 }),
        "{late_end:?}"
    );
    let after_tombstone = shop
        .publish(&sale(98), &write("publish-98", 8))
        .await
        .expect_err("older than the end of the unknown sale");
    assert!(
        matches!(after_tombstone, StorefrontError::Superseded { applied: 9 }),
        "{after_tombstone:?}"
    );
    assert!(!after_tombstone.is_transient(), "{after_tombstone}");
    // A conflict that is not about revisions stays worth retrying, on an end too.
    store.set_faults(Faults {
        fail_next: 1,
        status: Some(409),
        ..Faults::default()
    });
    let busy = shop
        .end(12, &write("end-12-again", 10))
        .await
        .expect_err("409");
    assert!(busy.is_transient(), "{busy}");
    // A newer decision puts the ended sale up again.
    shop.publish(&sale12, &write("publish-12-again", 11))
        .await
        .expect("republished");
    store.calls()
}

#[tokio::test]
async fn every_call_of_the_bots_clients_and_every_answer_follow_the_document() {
    let calls = every_kind_of_call().await;
    let contract = Contract::load();
    let problems = problems_of(contract, &calls, Check::BotAndStorefront);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Each operation a shop must serve was exercised, with each kind of answer.
    let called: BTreeSet<String> = calls
        .iter()
        .filter_map(|c| contract.operation_of(c))
        .collect();
    let needed: BTreeSet<String> = contract
        .operations()
        .into_iter()
        .filter(|op| op != "GET /api/flash-sales/current")
        .collect();
    assert_eq!(called, needed);
    let answered: BTreeSet<(String, u16)> =
        calls.iter().map(|c| (c.method.clone(), c.status)).collect();
    for expected in [
        ("PUT", 200),
        ("PUT", 401),
        ("PUT", 409),
        ("PUT", 422),
        ("PUT", 429),
        ("PUT", 500),
        ("PUT", 503),
        ("GET", 404),
        ("DELETE", 400),
        ("DELETE", 404),
        ("DELETE", 409),
    ] {
        let (method, status) = expected;
        assert!(
            answered.contains(&(method.to_owned(), status)),
            "no {method} answered {status}"
        );
    }
    assert!(calls.iter().any(|c| c.replay), "a replay was answered");
    // Both kinds of 409, for both writes: superseded (the document's StaleRevision) and any other.
    let stale = |c: &RecordedCall| {
        c.status == 409
            && c.response
                .as_ref()
                .is_some_and(|r| r["code"] == "stale_revision")
    };
    for method in ["PUT", "DELETE"] {
        let of = |c: &&RecordedCall| c.method == method && c.status == 409;
        assert!(
            calls.iter().filter(of).any(stale),
            "no {method} answered stale_revision"
        );
        assert!(
            calls.iter().filter(of).any(|c| !stale(c)),
            "no other {method} 409"
        );
    }
    assert!(
        calls
            .iter()
            .any(|c| stale(c) && c.response.as_ref().is_some_and(|r| r["sale"].is_null())),
        "no stale_revision answered for a sale the shop does not have"
    );
}

#[tokio::test]
async fn a_document_whose_stale_revision_answer_differs_from_the_dev_storefronts_is_caught() {
    let calls = every_kind_of_call().await;
    let text = std::fs::read_to_string(format!("{}/{CONTRACT_PATH}", env!("CARGO_MANIFEST_DIR")))
        .expect("the contract");
    // The last applied revision under another name, as a hand edit of the document might leave it.
    let drifted = text.replacen(
        "required: [error, code, revision, sale]",
        "required: [error, code, applied_revision, sale]",
        1,
    );
    assert_ne!(drifted, text, "the edit applies");

    let problems = problems_of(&Contract::parse(&drifted), &calls, Check::BotAndStorefront);

    for method in ["PUT", "DELETE"] {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(method) && p.contains("-> 409: answer 409")),
            "the {method} stale_revision answer was not caught: {problems:#?}"
        );
    }
}

#[tokio::test]
async fn a_document_that_names_a_field_differently_from_the_code_is_caught() {
    let calls = every_kind_of_call().await;
    let text = std::fs::read_to_string(format!("{}/{CONTRACT_PATH}", env!("CARGO_MANIFEST_DIR")))
        .expect("the contract");
    // The item's quantity under another name, as a hand edit of the document might leave it.
    let drifted = text.replacen("        quantity:\n", "        units:\n", 1);
    let drifted = drifted.replace(
        "required: [sku, name, discount_percent, base_price_minor, flash_price_minor, quantity]",
        "required: [sku, name, discount_percent, base_price_minor, flash_price_minor, units]",
    );
    assert_ne!(drifted, text, "the edit applies");
    let problems = problems_of(&Contract::parse(&drifted), &calls, Check::BotAndStorefront);
    let about_units = |p: &&String| p.contains("units") || p.contains("quantity");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("PUT") && about_units(&p)),
        "the publish request was not caught: {problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("-> 200: answer") && about_units(&p)),
        "the dev storefront's answer was not caught: {problems:#?}"
    );
}

#[test]
fn the_document_is_openapi_3_1_and_its_examples_follow_its_own_schemas() {
    let contract = Contract::load();
    let doc = contract.doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("component schemas");
    let mut checked = 0;
    for (name, schema) in schemas {
        for example in schema["examples"].as_array().into_iter().flatten() {
            let reference = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
            if let Err(e) = contract.validate(&reference, example) {
                panic!("the example of {name} does not follow it: {e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "examples checked: {checked}");
    // Every $ref points at something.
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(doc, &mut all);
    for r in all {
        let pointer = r.strip_prefix('#').expect("refs stay in the document");
        assert!(doc.pointer(pointer).is_some(), "{r} points at nothing");
    }
}
