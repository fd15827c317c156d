//! The dev storefront over real HTTP on loopback: the catalog, signed publishing, idempotency,
//! revisions (a late older write never undoes a newer one), injected faults and the Flash Sale page.
//! No database needed.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flashsale_bot::devstore::{self, DevStore, Faults, RecordedCall};
use flashsale_bot::domain::sale::SalePhase;
use flashsale_bot::storefront::{
    HttpStorefront, SaleRequest, SaleWrite, Storefront, StorefrontError,
};
use reqwest::{Client, RequestBuilder, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use standardwebhooks::Webhook;

use crate::support::contract::Check;
use crate::support::storefront::{
    dev_storefront, dev_storefront_checking, sample_sale, CheckedStore,
};

/// A valid secret that is not the one the server checks against.
const OTHER_SECRET: &str = "whsec_YW5vdGhlci1zZWNyZXQtdGhhdC1pcy1ub3Qtb3VycyE=";

/// These tests send requests by hand, many broken on purpose: only the answers are checked against
/// the contract.
async fn start() -> CheckedStore {
    dev_storefront_checking(Check::StorefrontOnly).await
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn now_ts() -> i64 {
    Utc::now().timestamp()
}

/// Adds the three Standard Webhooks headers for `body`, signed with `secret` at `timestamp`.
fn signed(
    request: RequestBuilder,
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> RequestBuilder {
    let signature = Webhook::new(secret)
        .expect("valid secret")
        .sign(id, timestamp, body)
        .expect("UTF-8 body");
    request
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
}

/// A six-item sale of FS-001..FS-006 at 30 % off (flash prices from the sample catalog) that starts
/// `starts_in` hours from now (negative: already started) and lasts `hours` hours, at revision 1.
fn sale_body(session_id: i64, title: &str, starts_in: i64, hours: i64, items: usize) -> Vec<u8> {
    let catalog = devstore::sample_catalog().expect("sample catalog");
    let items: Vec<Value> = (1..=items)
        .map(|n| {
            let sku = format!("FS-{n:03}");
            let base = catalog.iter().find(|p| p.sku == sku).expect("FS-0xx").price_minor;
            json!({"sku": sku, "name": format!("Product {n}"), "discount_percent": 30,
                   "base_price_minor": base, "flash_price_minor": (base * 70 + 50) / 100, "quantity": 10})
        })
        .collect();
    let starts_at = Utc::now() + chrono::Duration::hours(starts_in);
    let ends_at = starts_at + chrono::Duration::hours(hours);
    let body = json!({"session_id": session_id, "title": title, "starts_at": starts_at,
                      "ends_at": ends_at, "currency": "IDR", "items": items, "revision": 1});
    serde_json::to_vec(&body).expect("JSON")
}

/// A sale that is live now, at revision 1.
fn live_body(session_id: i64, title: &str) -> Vec<u8> {
    sale_body(session_id, title, -1, 2, 6)
}

/// A sale that is live now, at `revision`.
fn live_body_at(session_id: i64, title: &str, revision: i64) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&live_body(session_id, title)).expect("JSON");
    body["revision"] = json!(revision);
    serde_json::to_vec(&body).expect("JSON")
}

/// The body of an end of `session_id` at `revision`.
fn end_body(session_id: i64, revision: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({"session_id": session_id, "revision": revision})).expect("JSON")
}

/// `PUT /api/flash-sales/{session_id}` sending `sent`, with a signature over `signed_body` made with
/// `secret` at `timestamp` (no signature headers at all when `secret` is `None`).
async fn put_as(
    store: &DevStore,
    secret: Option<&str>,
    timestamp: i64,
    signed_body: &[u8],
    sent: Vec<u8>,
) -> reqwest::Response {
    let request = client().put(format!("{}/api/flash-sales/12", store.url()));
    let request = match secret {
        Some(secret) => signed(request, secret, "msg-1", timestamp, signed_body),
        None => request,
    };
    request.body(sent).send().await.expect("storefront answers")
}

async fn put(store: &DevStore, session_id: i64, id: &str, body: Vec<u8>) -> reqwest::Response {
    let url = format!("{}/api/flash-sales/{session_id}", store.url());
    let request = signed(
        client().put(url),
        &devstore::test_secret(),
        id,
        now_ts(),
        &body,
    );
    request.body(body).send().await.expect("storefront answers")
}

/// `DELETE /api/flash-sales/{session_id}` at `revision`.
async fn delete(store: &DevStore, session_id: i64, id: &str, revision: i64) -> reqwest::Response {
    delete_sending(store, session_id, id, end_body(session_id, revision)).await
}

/// `DELETE /api/flash-sales/{session_id}` with `body` as it is, signed.
async fn delete_sending(
    store: &DevStore,
    session_id: i64,
    id: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let url = format!("{}/api/flash-sales/{session_id}", store.url());
    let request = signed(
        client().delete(url),
        &devstore::test_secret(),
        id,
        now_ts(),
        &body,
    );
    request.body(body).send().await.expect("storefront answers")
}

async fn get(store: &DevStore, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", store.url()))
        .send()
        .await
        .expect("storefront answers")
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON answer")
}

fn skus(products: &Value) -> Vec<&str> {
    products
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect()
}

#[tokio::test]
async fn products_are_found_by_sku_ignoring_case_and_spaces() {
    let store = start().await;

    let found = json_of(get(&store, "/api/products?skus=fs-001,%20FS-LOW%20").await).await;

    assert_eq!(skus(&found), ["FS-001", "FS-LOW"]);
    assert_eq!(found[0]["price_minor"], 149_500);
    assert_eq!(found[0]["currency"], "IDR");
    assert_eq!(found[1]["stock"], 3);
    assert_eq!(found[1]["active"], true);
}

#[tokio::test]
async fn unknown_skus_are_absent_from_a_lookup() {
    let store = start().await;

    let found = json_of(get(&store, "/api/products?skus=FS-002,NOPE-404").await).await;

    assert_eq!(skus(&found), ["FS-002"]);
}

#[tokio::test]
async fn search_matches_sku_or_name_ordered_by_sku_up_to_the_limit() {
    let store = start().await;

    let by_name = json_of(get(&store, "/api/products/search?q=KOPI&limit=2").await).await;
    let by_sku = json_of(get(&store, "/api/products/search?q=fs-01").await).await;

    assert_eq!(skus(&by_name), ["FNB-KOPI-GAYO", "FNB-KOPI-TORAJA"]);
    assert_eq!(skus(&by_sku), ["FS-010", "FS-011", "FS-012"]);
}

#[tokio::test]
async fn an_unsigned_publish_is_refused_and_nothing_is_stored() {
    let store = start().await;

    let response = put_as(&store, None, now_ts(), b"", live_body(12, "Midnight Deals")).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(json_of(response).await["error"].is_string());
    assert_eq!(store.sale(12), None);
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let store = start().await;
    let body = live_body(12, "Midnight Deals");
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    let tampered = text
        .replacen("Midnight Deals", "Midnight DeaLs", 1)
        .into_bytes();

    let secret = devstore::test_secret();
    let response = put_as(&store, Some(&secret), now_ts(), &body, tampered).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(store.sale(12), None);
}

#[tokio::test]
async fn a_signature_made_with_another_secret_is_refused() {
    let store = start().await;
    let body = live_body(12, "Midnight Deals");

    let response = put_as(&store, Some(OTHER_SECRET), now_ts(), &body, body.clone()).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(store.sale(12), None);
}

#[tokio::test]
async fn a_signature_older_than_five_minutes_is_refused() {
    let store = start().await;
    let body = live_body(12, "Midnight Deals");

    let secret = devstore::test_secret();
    let response = put_as(&store, Some(&secret), now_ts() - 600, &body, body.clone()).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(store.sale(12), None);
}

#[tokio::test]
async fn a_correct_publish_is_accepted_and_readable() {
    let store = start().await;

    let response = put(&store, 12, "msg-1", live_body(12, "Midnight Deals")).await;

    assert_eq!(response.status(), StatusCode::OK);
    let published = json_of(response).await;
    assert_eq!(published["status"], "live");
    assert_eq!(published["ended_at"], Value::Null);
    assert_eq!(published["revision"], 1);
    let read = json_of(get(&store, "/api/flash-sales/12").await).await;
    assert_eq!(read["title"], "Midnight Deals");
    assert_eq!(read["revision"], 1);
    assert_eq!(read["items"].as_array().map(Vec::len), Some(6));
    assert_eq!(read["items"][0]["flash_price_minor"], 104_650);
    let current = json_of(get(&store, "/api/flash-sales/current").await).await;
    assert_eq!(current["live"]["session_id"], 12);
    assert_eq!(current["next"], Value::Null);
}

#[tokio::test]
async fn an_unknown_sale_reads_as_404() {
    let store = start().await;

    let response = get(&store, "/api/flash-sales/99").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(response).await["error"], "no such flash sale");
}

#[tokio::test]
async fn a_replayed_webhook_id_does_not_publish_twice() {
    let store = start().await;
    let body = live_body(12, "Midnight Deals");

    let first = json_of(put(&store, 12, "msg-1", body.clone()).await).await;
    let again = put(&store, 12, "msg-1", body).await;

    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(json_of(again).await, first);
    let calls: Vec<RecordedCall> =
        serde_json::from_value(json_of(get(&store, "/admin/calls").await).await)
            .expect("recorded calls");
    let puts: Vec<(bool, u16)> = calls
        .iter()
        .filter(|c| c.method == "PUT")
        .map(|c| (c.replay, c.status))
        .collect();
    assert_eq!(puts, [(false, 200), (true, 200)]);
    assert_eq!(calls[0].webhook_id.as_deref(), Some("msg-1"));
    assert_eq!(
        calls[0].body.as_ref().map(|b| b["session_id"].clone()),
        Some(json!(12))
    );
}

#[tokio::test]
async fn a_new_webhook_id_with_a_newer_revision_replaces_the_sale() {
    let store = start().await;
    put(&store, 12, "msg-1", live_body_at(12, "Midnight Deals", 1)).await;

    let response = put(&store, 12, "msg-2", live_body_at(12, "Payday Deals", 2)).await;

    assert_eq!(response.status(), StatusCode::OK);
    let sale = store.sale(12).expect("stored");
    assert_eq!(
        (sale["title"].clone(), sale["revision"].clone()),
        (json!("Payday Deals"), json!(2))
    );
}

#[tokio::test]
async fn a_publish_without_a_revision_is_refused_and_nothing_is_stored() {
    let store = start().await;
    let mut body: Value = serde_json::from_slice(&live_body(12, "Midnight Deals")).expect("JSON");
    body.as_object_mut().expect("an object").remove("revision");

    let response = put(
        &store,
        12,
        "msg-1",
        serde_json::to_vec(&body).expect("JSON"),
    )
    .await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reason = json_of(response).await["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("revision"), "{reason}");
    assert_eq!(store.sale(12), None);
    assert_eq!(store.revision(12), None);
}

#[tokio::test]
async fn an_end_whose_body_names_another_session_is_refused_and_the_sale_stays_up() {
    let store = start().await;
    put(&store, 12, "msg-1", live_body(12, "Midnight Deals")).await;

    let response = delete_sending(&store, 12, "end-1", end_body(13, 2)).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reason = json_of(response).await["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("13") && reason.contains("12"), "{reason}");
    assert_eq!(store.sale(12).expect("stored")["status"], "live");
    assert_eq!(store.revision(12), Some(1));
}

#[tokio::test]
async fn an_end_without_a_body_or_a_revision_is_refused_and_the_sale_stays_up() {
    let store = start().await;
    put(&store, 12, "msg-1", live_body(12, "Midnight Deals")).await;

    for (id, body) in [
        ("end-1", Vec::new()),
        ("end-2", br#"{"session_id": 12}"#.to_vec()),
        ("end-3", end_body(12, 0)),
        ("end-4", br#"{"session_id": 12, "revision": "2"}"#.to_vec()),
    ] {
        let response = delete_sending(&store, 12, id, body).await;

        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        assert!(json_of(response).await["error"].is_string());
    }
    assert_eq!(store.sale(12).expect("stored")["status"], "live");
}

#[tokio::test]
async fn an_older_publish_by_hand_is_answered_409_with_the_sale_as_it_is() {
    let store = start().await;
    put(&store, 12, "msg-1", live_body_at(12, "Midnight Deals", 5)).await;
    let before = store.sale(12).expect("stored");

    let response = put(&store, 12, "msg-2", live_body_at(12, "Payday Deals", 4)).await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    let answer = json_of(response).await;
    assert_eq!(answer["code"], "stale_revision");
    assert_eq!(answer["revision"], 5);
    assert_eq!(answer["sale"], before);
    assert!(answer["error"]
        .as_str()
        .is_some_and(|e| e.contains("superseded")));
    assert_eq!(store.sale(12).expect("stored"), before);
}

#[tokio::test]
async fn a_body_with_five_items_is_refused() {
    let store = start().await;
    let body = sale_body(12, "Midnight Deals", 0, 1, 5);

    let response = put(&store, 12, "msg-1", body).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reason = json_of(response).await["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("exactly 6"), "{reason}");
    assert_eq!(store.sale(12), None);
}

#[tokio::test]
async fn delete_ends_a_sale_once() {
    let store = start().await;
    put(&store, 12, "msg-1", live_body(12, "Midnight Deals")).await;

    let first = json_of(delete(&store, 12, "end-1", 2).await).await;
    let again = json_of(delete(&store, 12, "end-2", 3).await).await;
    let unknown = delete(&store, 99, "end-3", 4).await;

    assert_eq!(first["status"], "ended");
    assert!(first["ended_at"].is_string());
    assert_eq!(again["ended_at"], first["ended_at"]);
    assert_eq!(
        (first["revision"].clone(), again["revision"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_injected_500s_are_followed_by_success() {
    let store = start().await;
    store.set_faults(Faults {
        fail_next: 2,
        status: Some(500),
        ..Faults::default()
    });
    let body = live_body(12, "Midnight Deals");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = put(&store, 12, "msg-1", body.clone()).await;
        statuses.push(response.status().as_u16());
    }

    assert_eq!(statuses, [500, 500, 200]);
    let recorded: Vec<u16> = store.calls().iter().map(|c| c.status).collect();
    assert_eq!(recorded, [500, 500, 200]);
}

#[tokio::test]
async fn an_injected_429_carries_retry_after() {
    let store = start().await;
    let set = client()
        .post(format!("{}/admin/faults", store.url()))
        .json(&json!({"fail_next": 1, "status": 429, "retry_after_secs": 2}))
        .send()
        .await
        .expect("answers");
    assert_eq!(set.status(), StatusCode::OK);

    let response = get(&store, "/api/flash-sales/current").await;

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = response.headers().get("retry-after");
    assert_eq!(retry_after.and_then(|v| v.to_str().ok()), Some("2"));
}

#[tokio::test]
async fn a_stalled_call_outlasts_a_short_client_timeout() {
    let store = start().await;
    store.set_faults(Faults {
        stall_secs: 5,
        stall_next: 1,
        ..Faults::default()
    });
    let impatient = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");

    let outcome = impatient
        .get(format!("{}/api/flash-sales/current", store.url()))
        .send()
        .await;

    let error = outcome.expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error}");
}

#[tokio::test]
async fn faults_never_affect_the_catalog() {
    let store = start().await;
    store.set_faults(Faults {
        fail_next: 5,
        status: Some(503),
        stall_secs: 5,
        stall_next: 5,
        ..Faults::default()
    });

    let lookup = get(&store, "/api/products?skus=FS-001").await;
    let search = get(&store, "/api/products/search?q=kopi").await;
    let sales = get(&store, "/api/flash-sales/current").await;

    assert_eq!(lookup.status(), StatusCode::OK);
    assert_eq!(search.status(), StatusCode::OK);
    assert_eq!(sales.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_page_shows_the_live_sales_six_tiles() {
    let store = start().await;
    put(&store, 12, "msg-1", live_body(12, "Midnight Deals")).await;

    let page = get(&store, "/").await.text().await.expect("HTML");

    assert!(page.contains("id=\"flash-sale\""));
    for n in 1..=6 {
        assert!(
            page.contains(&format!("class=\"tile\" data-sku=\"FS-{n:03}\"")),
            "tile {n}"
        );
    }
    assert!(page.contains("IDR 149,500") && page.contains("IDR 104,650"));
    assert!(page.contains("-30%") && page.contains("10 available"));
}

#[tokio::test]
async fn the_page_escapes_a_title_like_a_script_tag() {
    let store = start().await;
    let body = live_body(12, "<script>alert(1)</script>");
    put(&store, 12, "msg-1", body).await;

    let page = get(&store, "/").await.text().await.expect("HTML");

    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert(1)"));
}

#[tokio::test]
async fn the_page_says_no_flash_sale_right_now_when_nothing_is_live() {
    let store = start().await;
    let later = sale_body(13, "Payday Deals", 3, 2, 6);
    put(&store, 13, "msg-1", later).await;

    let page = get(&store, "/").await.text().await.expect("HTML");

    assert!(page.contains("No flash sale right now"));
    assert!(page.contains("Payday Deals"));
    assert!(!page.contains("class=\"tile\""));
}

// Revisions through the bot's own client: the requests and answers are checked against the contract
// too (`dev_storefront`), and a refusal is read as the bot reads it.

fn shop(store: &DevStore) -> HttpStorefront {
    HttpStorefront::new(
        store.url().parse().expect("dev storefront URL"),
        &SecretString::from(devstore::test_secret()),
        Duration::from_secs(5),
    )
    .expect("storefront client")
}

/// A write with `key` at `revision`.
fn write(key: &str, revision: i64) -> SaleWrite {
    SaleWrite {
        key: key.to_owned(),
        revision,
    }
}

/// Six sample-catalog products at 30 % off, live from an hour ago for three hours.
fn live_sale(session_id: i64) -> SaleRequest {
    let now = Utc::now();
    let starts_at = Utc
        .timestamp_opt(now.timestamp() - 3600, 0)
        .single()
        .expect("a time");
    sample_sale(
        session_id,
        "Revision Flash",
        starts_at,
        chrono::Duration::hours(3),
        6,
    )
}

/// Whether the storefront shows the sale to shoppers (known and not ended).
fn is_up(store: &DevStore, session_id: i64) -> bool {
    store
        .sale(session_id)
        .is_some_and(|sale| sale["status"] != "ended")
}

#[tokio::test]
async fn a_newer_revision_applies() {
    let store = dev_storefront().await;
    let shop = shop(&store);
    let first = live_sale(12);
    let mut changed = live_sale(12);
    changed.title = "Revision Flash, again".to_owned();

    shop.publish(&first, &write("publish", 1))
        .await
        .expect("published");
    shop.publish(&changed, &write("republish", 2))
        .await
        .expect("the newer write is applied");

    assert!(shop.read_back(12).await.expect("read").is_some());
    let held = store.sale(12).expect("there");
    assert_eq!(held["title"], "Revision Flash, again");
    assert_eq!(held["revision"], 2);
}

#[tokio::test]
async fn an_older_revision_is_refused_with_the_current_state_and_changes_nothing() {
    let store = dev_storefront().await;
    let shop = shop(&store);
    shop.publish(&live_sale(12), &write("publish", 5))
        .await
        .expect("published");
    let before = store.sale(12).expect("stored");
    let mut older = live_sale(12);
    older.title = "Decided earlier".to_owned();

    let refused = shop
        .publish(&older, &write("repair", 4))
        .await
        .expect_err("stale");

    assert!(
        matches!(refused, StorefrontError::Superseded { applied: 5 }),
        "{refused:?}"
    );
    assert!(!refused.is_transient(), "a superseded write is not retried");
    assert_eq!(store.sale(12).expect("stored"), before);
    let answer = store.calls().last().expect("recorded").clone();
    assert_eq!(answer.status, 409);
    let body = answer.response.expect("a JSON answer");
    assert_eq!(
        (
            body["code"].clone(),
            body["revision"].clone(),
            body["sale"].clone()
        ),
        (json!("stale_revision"), json!(5), before)
    );
}

#[tokio::test]
async fn a_replay_with_the_same_key_revision_and_bytes_is_answered_as_before() {
    let store = dev_storefront().await;
    let shop = shop(&store);
    let sale = live_sale(12);

    shop.publish(&sale, &write("publish", 3))
        .await
        .expect("published");
    // The answer was lost; the retry repeats key, revision and bytes, even after a newer end.
    shop.end(12, &write("stop", 4)).await.expect("ended");
    shop.publish(&sale, &write("publish", 3))
        .await
        .expect("answered from memory");

    let calls = store.calls();
    let puts: Vec<&RecordedCall> = calls.iter().filter(|c| c.method == "PUT").collect();
    assert_eq!(puts.len(), 2);
    assert_eq!((puts[1].replay, puts[1].status), (true, 200));
    assert_eq!(puts[1].response, puts[0].response);
    assert_eq!(puts[1].body, puts[0].body);
    assert!(!is_up(&store, 12), "the replay did not undo the end");
    assert_eq!(store.revision(12), Some(4));
}

#[tokio::test]
async fn a_late_older_publish_after_a_stop_leaves_the_sale_down() {
    let store = dev_storefront().await;
    let shop = shop(&store);
    let sale = live_sale(12);
    shop.publish(&sale, &write("publish", 1))
        .await
        .expect("published");

    // An approver stops the sale (revision 3) while a repair decided before the stop (revision 2)
    // is still on its way; it arrives last.
    shop.end(12, &write("stop", 3)).await.expect("stopped");
    let late = shop
        .publish(&sale, &write("repair", 2))
        .await
        .expect_err("superseded");

    assert!(
        matches!(late, StorefrontError::Superseded { applied: 3 }),
        "{late:?}"
    );
    assert!(
        !is_up(&store, 12),
        "the stop was undone: {:?}",
        store.sale(12)
    );
    let read = shop.read_back(12).await.expect("read").expect("known");
    assert_eq!(read.phase, SalePhase::Ended);
    assert_eq!(store.sale(12).expect("known")["revision"], json!(3));
}

#[tokio::test]
async fn an_older_publish_after_an_end_of_an_unknown_sale_leaves_nothing_up() {
    let store = dev_storefront().await;
    let shop = shop(&store);

    // The publish's first attempt never arrived; the take-down did, then the publish's retry.
    shop.end(12, &write("take-down", 6))
        .await
        .expect("an unknown sale is gone already");
    let late = shop
        .publish(&live_sale(12), &write("publish", 5))
        .await
        .expect_err("superseded");

    assert!(
        matches!(late, StorefrontError::Superseded { applied: 6 }),
        "{late:?}"
    );
    assert_eq!(store.sale(12), None);
    assert_eq!(shop.read_back(12).await.expect("read"), None);
    let answer = store.calls().last().expect("recorded").clone();
    assert_eq!(answer.response.expect("a JSON answer")["sale"], Value::Null);
}

#[tokio::test]
async fn a_publish_with_a_higher_revision_after_an_end_puts_the_sale_up_again() {
    let store = dev_storefront().await;
    let shop = shop(&store);
    let sale = live_sale(12);
    shop.publish(&sale, &write("publish", 1))
        .await
        .expect("published");
    shop.end(12, &write("stop", 2)).await.expect("stopped");

    shop.publish(&sale, &write("approved-again", 3))
        .await
        .expect("a newer decision applies");

    assert!(is_up(&store, 12), "{:?}", store.sale(12));
    assert_eq!(store.revision(12), Some(3));
}

#[tokio::test]
async fn an_older_end_after_a_newer_publish_leaves_the_sale_up() {
    let store = dev_storefront().await;
    let shop = shop(&store);
    shop.publish(&live_sale(12), &write("repair", 8))
        .await
        .expect("published");

    let late = shop
        .end(12, &write("old-end", 7))
        .await
        .expect_err("superseded");

    assert!(
        matches!(late, StorefrontError::Superseded { applied: 8 }),
        "{late:?}"
    );
    assert!(is_up(&store, 12), "{:?}", store.sale(12));
}

/// A dev storefront keeping its sales in `path`, as `--state` does.
async fn start_keeping_state_in(
    path: &std::path::Path,
) -> Result<DevStore, devstore::DevStoreError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    devstore::spawn(
        listener,
        devstore::DevStoreConfig {
            products: devstore::sample_catalog().expect("the sample catalog"),
            webhook_secret: devstore::test_secret(),
            schedules_sales: true,
            state_file: Some(path.to_owned()),
        },
    )
    .await
}

fn state_path() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("devstore-state-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir.join("state.json")
}

#[tokio::test]
async fn a_restarted_storefront_keeps_its_sales_and_the_revisions_it_applied() {
    let path = state_path();
    let first = start_keeping_state_in(&path).await.expect("starts");
    assert_eq!(
        put(&first, 1, "kept-1", live_body_at(1, "Kept", 2))
            .await
            .status(),
        StatusCode::OK
    );
    // An end of a sale it never had leaves a tombstone at revision 5.
    assert_eq!(
        delete(&first, 2, "gone-1", 5).await.status(),
        StatusCode::NOT_FOUND
    );
    first.shutdown().await;

    let again = start_keeping_state_in(&path).await.expect("starts again");
    let sale = json_of(get(&again, "/api/flash-sales/1").await).await;
    assert_eq!(sale["title"], "Kept", "{sale}");
    assert_eq!(sale["status"], "live", "{sale}");
    assert_eq!(sale["revision"], 2, "{sale}");
    let current = json_of(get(&again, "/api/flash-sales/current").await).await;
    assert_eq!(current["live"]["session_id"], 1, "{current}");
    // What it applied before the restart still decides: older writes are stale.
    let older = put(&again, 1, "older-1", live_body_at(1, "Older", 1)).await;
    assert_eq!(older.status(), StatusCode::CONFLICT);
    let behind_the_end = put(&again, 2, "late-1", live_body_at(2, "Late", 4)).await;
    assert_eq!(behind_the_end.status(), StatusCode::CONFLICT);
    assert!(get(&again, "/api/flash-sales/2").await.status() == StatusCode::NOT_FOUND);
    // And a change made now is kept for the next start too.
    assert_eq!(delete(&again, 1, "end-1", 3).await.status(), StatusCode::OK);
    again.shutdown().await;
    let third = start_keeping_state_in(&path)
        .await
        .expect("starts a third time");
    let ended = json_of(get(&third, "/api/flash-sales/1").await).await;
    assert_eq!(ended["status"], "ended", "{ended}");
    assert_eq!(ended["revision"], 3, "{ended}");
}

#[tokio::test]
async fn without_a_state_file_a_restart_forgets_the_sales() {
    let first = start().await;
    assert_eq!(
        put(&first, 1, "mem-1", live_body(1, "Gone")).await.status(),
        StatusCode::OK
    );
    drop(first);
    let again = start().await;
    assert_eq!(
        get(&again, "/api/flash-sales/1").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_damaged_state_file_stops_the_start_and_names_the_file() {
    let path = state_path();
    std::fs::write(&path, "{ this is not json").expect("written");
    let Err(error) = start_keeping_state_in(&path).await else {
        panic!("a damaged state file must not start an empty shop");
    };
    let text = error.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("move it away"), "{text}");
    // Nothing was written over it.
    assert_eq!(
        std::fs::read_to_string(&path).expect("still there"),
        "{ this is not json"
    );
}
