//! `HttpCatalog` and `CachedCatalog` against the fake catalog on loopback.

use std::net::TcpListener;
use std::time::Duration;

use flashsale_bot::catalog::*;
use flashsale_bot::domain::*;

use crate::support::catalog::*;

const TIMEOUT: Duration = Duration::from_secs(5);
const TTL: Duration = Duration::from_secs(60);

fn idr() -> Currency {
    Currency::from_code("IDR").expect("IDR is a currency")
}

fn sku(raw: &str) -> Sku {
    Sku::parse(raw, &SkuRules::default()).expect("test SKU is valid")
}

fn skus(raw: &[&str]) -> Vec<Sku> {
    raw.iter().map(|r| sku(r)).collect()
}

fn client(server: &CatalogServer) -> HttpCatalog {
    HttpCatalog::new(server.url(), idr(), TIMEOUT).expect("client builds")
}

fn cached_client(server: &CatalogServer) -> CachedCatalog<HttpCatalog> {
    CachedCatalog::new(client(server), TTL)
}

#[tokio::test]
async fn known_skus_come_back_with_name_price_and_stock() {
    let server = CatalogServer::start(sample_products()).await;

    let found = client(&server)
        .products(&skus(&["FS-001", "FS-LOW"]), Freshness::Live)
        .await
        .expect("catalog answers");

    assert_eq!(found.len(), 2);
    let kopi = &found[&sku("FS-001")];
    assert_eq!(kopi.sku, sku("FS-001"));
    assert_eq!(kopi.name, "Kopi Arabika Gayo 250 g");
    assert_eq!(kopi.price, Money::from_minor(149_500, idr()));
    assert_eq!(kopi.stock, 100);
    assert!(kopi.active);
    assert_eq!(found[&sku("FS-LOW")].stock, 3);
}

#[tokio::test]
async fn unknown_skus_are_absent_from_the_answer() {
    let server = CatalogServer::start(sample_products()).await;

    let found = client(&server)
        .products(&skus(&["FS-002", "NOPE-404"]), Freshness::Live)
        .await
        .expect("catalog answers");

    assert_eq!(found.len(), 1);
    assert!(found.contains_key(&sku("FS-002")));
    assert!(!found.contains_key(&sku("NOPE-404")));
}

#[tokio::test]
async fn an_inactive_product_is_returned_with_active_false() {
    let server = CatalogServer::start(sample_products()).await;

    let found = client(&server)
        .products(&skus(&["FS-OFF"]), Freshness::Live)
        .await
        .expect("catalog answers");

    let off = &found[&sku("FS-OFF")];
    assert!(!off.active);
    assert_eq!(off.stock, 50);
}

#[tokio::test]
async fn an_empty_sku_list_is_answered_without_a_request() {
    let server = CatalogServer::start(sample_products()).await;

    let found = client(&server)
        .products(&[], Freshness::Live)
        .await
        .expect("empty answer");

    assert!(found.is_empty());
    assert_eq!(server.request_count().await, 0);
}

#[tokio::test]
async fn more_than_fifty_skus_are_asked_for_in_batches_of_at_most_fifty() {
    let products: Vec<FakeProduct> = (1..=120)
        .map(|n| FakeProduct::new(&format!("BULK-{n:03}"), &format!("Barang {n}"), 10_000, n))
        .collect();
    let wanted: Vec<Sku> = products.iter().map(|p| sku(&p.sku)).collect();
    let server = CatalogServer::start(products).await;

    let found = client(&server)
        .products(&wanted, Freshness::Live)
        .await
        .expect("catalog answers");

    assert_eq!(found.len(), 120);
    let requests = server.requests().await;
    assert_eq!(requests.len(), 3);
    for request in requests {
        let (_, asked) = request
            .url
            .query_pairs()
            .find(|(key, _)| key == "skus")
            .expect("skus parameter");
        assert!(asked.split(',').count() <= 50);
    }
}

#[tokio::test]
async fn search_finds_products_by_name_case_insensitively_and_honours_the_limit() {
    let server = CatalogServer::start(sample_products()).await;
    let catalog = client(&server);

    let all_kopi = catalog.search("KOPI", 25).await.expect("catalog answers");
    let one_kopi = catalog.search("kopi", 1).await.expect("catalog answers");

    let names: Vec<&str> = all_kopi.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["Kopi Arabika Gayo 250 g", "Kopi Luwak Sachet 10 pcs"]
    );
    assert_eq!(one_kopi.len(), 1);
}

#[tokio::test]
async fn search_finds_a_product_by_its_sku() {
    let server = CatalogServer::start(sample_products()).await;

    let found = client(&server)
        .search("fs-low", 25)
        .await
        .expect("catalog answers");

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].sku, sku("FS-LOW"));
}

#[tokio::test]
async fn an_http_500_is_reported_as_a_status_error() {
    let server = CatalogServer::failing_with(500).await;

    let answer = client(&server)
        .products(&skus(&["FS-001"]), Freshness::Live)
        .await;

    assert!(
        matches!(answer, Err(CatalogError::Status { status: 500 })),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_failing_search_is_reported_as_a_status_error() {
    let server = CatalogServer::failing_with(503).await;

    let answer = client(&server).search("kopi", 25).await;

    assert!(
        matches!(answer, Err(CatalogError::Status { status: 503 })),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_catalog_that_stalls_past_the_timeout_is_reported_as_a_timeout() {
    let server = CatalogServer::stalling(Duration::from_secs(2)).await;
    let timeout = Duration::from_millis(200);
    let catalog = HttpCatalog::new(server.url(), idr(), timeout).expect("client builds");

    let answer = catalog.products(&skus(&["FS-001"]), Freshness::Live).await;

    assert!(
        matches!(answer, Err(CatalogError::Timeout(t)) if t == timeout),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_catalog_nobody_listens_for_is_reported_as_unreachable() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener.local_addr().expect("local address").port()
    };
    let url = reqwest::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("URL");
    let catalog = HttpCatalog::new(url, idr(), TIMEOUT).expect("client builds");

    let answer = catalog.products(&skus(&["FS-001"]), Freshness::Live).await;

    assert!(
        matches!(answer, Err(CatalogError::Unreachable(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_the_contract_is_reported_as_malformed() {
    let server = CatalogServer::malformed().await;

    let answer = client(&server)
        .products(&skus(&["FS-001"]), Freshness::Live)
        .await;

    assert!(
        matches!(answer, Err(CatalogError::Malformed(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_product_priced_in_another_currency_is_reported_as_malformed() {
    let server = CatalogServer::start(vec![FakeProduct::new(
        "FS-USD",
        "Imported Coffee",
        1_999,
        10,
    )
    .in_currency("USD")])
    .await;

    let answer = client(&server)
        .products(&skus(&["FS-USD"]), Freshness::Live)
        .await;

    assert!(
        matches!(answer, Err(CatalogError::Malformed(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_product_with_a_negative_price_is_reported_as_malformed() {
    let server = CatalogServer::start(vec![FakeProduct::new("FS-NEG", "Broken", -5, 10)]).await;

    let answer = client(&server)
        .products(&skus(&["FS-NEG"]), Freshness::Live)
        .await;

    assert!(
        matches!(answer, Err(CatalogError::Malformed(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_cached_lookup_within_the_ttl_makes_no_second_request() {
    let server = CatalogServer::start(sample_products()).await;
    let catalog = cached_client(&server);

    let first = catalog
        .products(&skus(&["FS-001"]), Freshness::AllowCached)
        .await
        .expect("catalog answers");
    let second = catalog
        .products(&skus(&["FS-001"]), Freshness::AllowCached)
        .await
        .expect("cache answers");

    assert_eq!(first, second);
    assert_eq!(server.request_count().await, 1);
}

#[tokio::test]
async fn a_cached_search_within_the_ttl_makes_no_second_request() {
    let server = CatalogServer::start(sample_products()).await;
    let catalog = cached_client(&server);

    let first = catalog.search("kopi", 25).await.expect("catalog answers");
    let second = catalog.search("Kopi", 25).await.expect("cache answers");

    assert_eq!(first, second);
    assert_eq!(server.request_count().await, 1);
}

#[tokio::test]
async fn a_live_lookup_bypasses_the_cache() {
    let server = CatalogServer::start(sample_products()).await;
    let catalog = cached_client(&server);

    catalog
        .products(&skus(&["FS-001"]), Freshness::AllowCached)
        .await
        .expect("catalog answers");
    catalog
        .products(&skus(&["FS-001"]), Freshness::Live)
        .await
        .expect("catalog answers");

    assert_eq!(server.request_count().await, 2);
}

#[tokio::test]
async fn a_stock_change_is_seen_by_a_live_lookup() {
    let server = CatalogServer::start(sample_products()).await;
    let catalog = cached_client(&server);

    let before = catalog
        .products(&skus(&["FS-001"]), Freshness::AllowCached)
        .await
        .expect("catalog answers");
    server.set_stock("FS-001", 7).await;
    let live = catalog
        .products(&skus(&["FS-001"]), Freshness::Live)
        .await
        .expect("catalog answers");

    assert_eq!(before[&sku("FS-001")].stock, 100);
    assert_eq!(live[&sku("FS-001")].stock, 7);
}

#[tokio::test]
async fn a_product_deactivated_after_caching_is_seen_inactive_by_a_live_lookup() {
    let server = CatalogServer::start(sample_products()).await;
    let catalog = cached_client(&server);

    catalog
        .products(&skus(&["FS-002"]), Freshness::AllowCached)
        .await
        .expect("catalog answers");
    server.set_active("FS-002", false).await;
    let live = catalog
        .products(&skus(&["FS-002"]), Freshness::Live)
        .await
        .expect("catalog answers");

    assert!(!live[&sku("FS-002")].active);
}

#[tokio::test]
async fn an_error_from_the_catalog_is_not_cached() {
    let server = CatalogServer::failing_with(502).await;
    let catalog = cached_client(&server);

    let first = catalog
        .products(&skus(&["FS-001"]), Freshness::AllowCached)
        .await;
    let second = catalog
        .products(&skus(&["FS-001"]), Freshness::AllowCached)
        .await;

    assert!(matches!(first, Err(CatalogError::Status { status: 502 })));
    assert!(matches!(second, Err(CatalogError::Status { status: 502 })));
    assert_eq!(server.request_count().await, 2);
}
