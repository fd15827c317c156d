//! [`HttpCatalog`]: the client of the storefront's product endpoints (docs/storefront-api.yaml).
//!
//! - `GET {base}/api/products?skus=A,B,C` answers `[{"sku","name","price_minor","currency","stock","active"}]`;
//!   SKUs the catalog does not know are absent.
//! - `GET {base}/api/products/search?q=...&limit=25` answers the same shape, for autocomplete.
//!
//! The client always asks the catalog (it ignores [`Freshness`]); remembering answers is the job of
//! [`super::CachedCatalog`].

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::{Client, Url};
use serde::Deserialize;

use chrono::{DateTime, Utc};

use super::{Catalog, CatalogError, Freshness, PriceChange, Pricing, Product};
use crate::domain::{Currency, Money, Sku};
use crate::reference::{chain, Withheld};

/// At most this many SKUs go into one lookup request, so URLs stay well below common length limits.
const MAX_SKUS_PER_REQUEST: usize = 50;

/// Connecting may take at most this long (or the whole timeout, if that is shorter): a catalog that
/// does not even accept the connection should fail fast rather than eat the whole budget.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Error messages quote at most this many characters of what the catalog sent.
const MAX_QUOTED_CHARS: usize = 200;

/// Lookup path, relative to the base URL.
const PRODUCTS_PATH: &str = "api/products";

/// Search path, relative to the base URL.
const SEARCH_PATH: &str = "api/products/search";

/// Talks to the catalog over HTTP with one shared connection pool.
#[derive(Debug, Clone)]
pub struct HttpCatalog {
    /// One client for every call, so connections are pooled and the timeouts apply to each request.
    client: Client,
    /// The storefront's base URL, always ending in `/` so relative joins keep any path prefix.
    base_url: Url,
    /// The currency we are configured for; a price in any other currency is a contract violation.
    currency: Currency,
    /// The per-request timeout, kept to report it in [`CatalogError::Timeout`].
    timeout: Duration,
}

impl HttpCatalog {
    /// A client for the catalog at `base_url` (with or without a trailing slash, with or without a
    /// path prefix) whose prices are in `currency`; every request gives up after `timeout`.
    ///
    /// Fails with [`CatalogError::Unreachable`] when `base_url` is not an `http`/`https` URL that can
    /// have paths below it, or when the HTTP client cannot be built (e.g. no TLS backend).
    pub fn new(
        base_url: Url,
        currency: Currency,
        timeout: Duration,
    ) -> Result<HttpCatalog, CatalogError> {
        let base_url = normalise_base(base_url)?;
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .user_agent(concat!(
                env!("CARGO_PKG_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| unreachable(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(HttpCatalog {
            client,
            base_url,
            currency,
            timeout,
        })
    }

    /// `GET {base}/api/products?skus=...` for one batch of SKUs.
    async fn lookup_batch(&self, skus: &[&Sku]) -> Result<Vec<Product>, CatalogError> {
        let joined = skus
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let url = endpoint(&self.base_url, PRODUCTS_PATH, &[("skus", &joined)])?;
        self.get_products(url).await
    }

    /// Sends one GET and decodes a product list, mapping every failure to a [`CatalogError`].
    async fn get_products(&self, url: Url) -> Result<Vec<Product>, CatalogError> {
        let response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(CatalogError::Status {
                status: status.as_u16(),
            });
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        decode_products(&body, &self.currency)
    }

    /// Maps a reqwest error (while sending or reading the body) to a [`CatalogError`].
    fn transport_error(&self, error: &reqwest::Error) -> CatalogError {
        if error.is_timeout() {
            CatalogError::Timeout(self.timeout)
        } else if error.is_decode() {
            malformed(truncate(&chain(error)))
        } else {
            // Connection refused, DNS, TLS, a connection reset mid-body: all mean "we could not talk
            // to it", which is what the caller needs to know.
            unreachable(truncate(&chain(error)))
        }
    }
}

#[async_trait::async_trait]
impl Catalog for HttpCatalog {
    async fn products(
        &self,
        skus: &[Sku],
        _freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, CatalogError> {
        // Ask for each SKU once, in the caller's order.
        let mut seen = HashSet::new();
        let wanted: Vec<&Sku> = skus.iter().filter(|s| seen.insert(*s)).collect();
        let mut found = HashMap::with_capacity(wanted.len());
        if wanted.is_empty() {
            return Ok(found);
        }

        let started = Instant::now();
        for batch in wanted.chunks(MAX_SKUS_PER_REQUEST) {
            match self.lookup_batch(batch).await {
                Ok(products) => {
                    // Keep only what was asked for: an answer about other SKUs is not ours to use.
                    for product in products {
                        if seen.contains(&product.sku) {
                            found.insert(product.sku.clone(), product);
                        } else {
                            tracing::debug!(
                                sku = %product.sku,
                                "catalog sent a SKU we did not ask for; ignored"
                            );
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(
                        skus = wanted.len(),
                        latency_ms = started.elapsed().as_millis() as u64,
                        %error,
                        "catalog lookup failed"
                    );
                    return Err(error);
                }
            }
        }
        tracing::debug!(
            skus = wanted.len(),
            found = found.len(),
            latency_ms = started.elapsed().as_millis() as u64,
            "catalog lookup"
        );
        Ok(found)
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let url = endpoint(
            &self.base_url,
            SEARCH_PATH,
            &[("q", query), ("limit", &limit.to_string())],
        )?;
        let started = Instant::now();
        match self.get_products(url).await {
            Ok(mut products) => {
                products.truncate(limit);
                tracing::debug!(
                    found = products.len(),
                    latency_ms = started.elapsed().as_millis() as u64,
                    "catalog search"
                );
                Ok(products)
            }
            Err(error) => {
                tracing::warn!(
                    latency_ms = started.elapsed().as_millis() as u64,
                    %error,
                    "catalog search failed"
                );
                Err(error)
            }
        }
    }
}

/// One product as the contract spells it on the wire.
#[derive(Debug, Deserialize)]
struct WireProduct {
    sku: String,
    name: String,
    price_minor: i64,
    currency: String,
    stock: i64,
    active: bool,
    #[serde(default)]
    unit_cost_minor: Option<i64>,
    #[serde(default)]
    min_advertised_price_minor: Option<i64>,
    #[serde(default)]
    lowest_price_30d_minor: Option<i64>,
    #[serde(default)]
    previous_price_minor: Option<i64>,
    #[serde(default)]
    price_changed_at: Option<DateTime<Utc>>,
}

/// Decodes a contract answer (a JSON array of products) into [`Product`]s priced in `currency`.
fn decode_products(body: &[u8], currency: &Currency) -> Result<Vec<Product>, CatalogError> {
    let wire: Vec<WireProduct> = serde_json::from_slice(body).map_err(|e| {
        let sent = String::from_utf8_lossy(body);
        malformed(truncate(&format!("{e}; it sent: {sent}")))
    })?;
    wire.into_iter()
        .map(|product| into_product(product, currency))
        .collect()
}

/// Checks one wire product against the contract and turns it into a [`Product`].
fn into_product(wire: WireProduct, currency: &Currency) -> Result<Product, CatalogError> {
    let sku = wire.sku.trim();
    if sku.is_empty() {
        return Err(malformed("a product has an empty SKU"));
    }
    if !wire.currency.trim().eq_ignore_ascii_case(currency.code()) {
        return Err(malformed(truncate(&format!(
            "product {sku} is priced in {:?}, expected {}",
            wire.currency,
            currency.code()
        ))));
    }
    if wire.price_minor < 0 {
        return Err(malformed(truncate(&format!(
            "product {sku} has a negative price ({})",
            wire.price_minor
        ))));
    }
    let amount = |field: &str, minor: Option<i64>| match minor {
        Some(m) if m < 0 => Err(malformed(truncate(&format!(
            "product {sku} has a negative {field} ({m})"
        )))),
        other => Ok(other.map(|m| Money::from_minor(m, currency.clone()))),
    };
    let pricing = Pricing {
        unit_cost: amount("unit_cost_minor", wire.unit_cost_minor)?,
        min_advertised: amount(
            "min_advertised_price_minor",
            wire.min_advertised_price_minor,
        )?,
        lowest_30d: amount("lowest_price_30d_minor", wire.lowest_price_30d_minor)?,
        last_change: match (
            amount("previous_price_minor", wire.previous_price_minor)?,
            wire.price_changed_at,
        ) {
            (Some(from), Some(at)) => Some(PriceChange { from, at }),
            (None, None) => None,
            _ => {
                return Err(malformed(format!(
                    "product {sku} gives only one of previous_price_minor and price_changed_at"
                )))
            }
        },
    };
    Ok(Product {
        sku: Sku::from_canonical(sku),
        name: wire.name,
        price: Money::from_minor(wire.price_minor, currency.clone()),
        stock: wire.stock,
        active: wire.active,
        pricing,
    })
}

/// Makes sure the base URL can carry paths and ends in `/`, so that joining `api/products` keeps a
/// path prefix such as `https://shop.example/store/`.
fn normalise_base(mut base: Url) -> Result<Url, CatalogError> {
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(unreachable(truncate(&format!(
            "the catalog URL must be an http(s) URL, got {base}"
        ))));
    }
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

/// `base` + `path` with the query parameters URL-encoded.
fn endpoint(base: &Url, path: &str, query: &[(&str, &str)]) -> Result<Url, CatalogError> {
    let mut url = base
        .join(path)
        .map_err(|e| unreachable(truncate(&format!("cannot build the catalog URL: {e}"))))?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// The catalog could not be reached: `detail` names hosts and URLs, so it
/// is logged and people see a reference.
fn unreachable(detail: impl Into<String>) -> CatalogError {
    CatalogError::Unreachable(Withheld::new("the catalog could not be reached", detail))
}

/// The catalog's answer broke the contract: what it sent is logged, people see a reference.
fn malformed(detail: impl Into<String>) -> CatalogError {
    CatalogError::Malformed(Withheld::new(
        "the catalog sent an answer we could not read",
        detail,
    ))
}

/// Cuts `text` to at most [`MAX_QUOTED_CHARS`] characters, so a large body never floods logs or chat.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idr() -> Currency {
        Currency::from_code("IDR").expect("IDR is a currency")
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn a_base_url_without_trailing_slash_keeps_its_path_prefix() {
        let base = normalise_base(url("http://shop.test/store")).expect("valid base");
        let built = endpoint(&base, PRODUCTS_PATH, &[]).expect("joins");
        assert_eq!(built.path(), "/store/api/products");
    }

    #[test]
    fn a_base_url_with_trailing_slash_keeps_its_path_prefix() {
        let base = normalise_base(url("http://shop.test/store/")).expect("valid base");
        let built = endpoint(&base, SEARCH_PATH, &[]).expect("joins");
        assert_eq!(built.path(), "/store/api/products/search");
    }

    #[test]
    fn a_bare_host_base_url_gets_the_api_path_at_the_root() {
        let base = normalise_base(url("http://127.0.0.1:8080")).expect("valid base");
        let built = endpoint(&base, PRODUCTS_PATH, &[]).expect("joins");
        assert_eq!(built.as_str(), "http://127.0.0.1:8080/api/products");
    }

    #[test]
    fn query_values_are_url_encoded() {
        let base = normalise_base(url("http://shop.test")).expect("valid base");
        let built =
            endpoint(&base, SEARCH_PATH, &[("q", "kopi & teh"), ("limit", "25")]).expect("joins");
        let pairs: Vec<(String, String)> = built.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            vec![
                ("q".to_owned(), "kopi & teh".to_owned()),
                ("limit".to_owned(), "25".to_owned())
            ]
        );
        assert!(!built.as_str().contains("kopi & teh"));
    }

    #[test]
    fn a_non_http_base_url_is_refused() {
        assert!(matches!(
            normalise_base(url("mailto:catalog@shop.test")),
            Err(CatalogError::Unreachable(_))
        ));
        assert!(matches!(
            normalise_base(url("ftp://shop.test/")),
            Err(CatalogError::Unreachable(_))
        ));
    }

    #[test]
    fn a_contract_answer_decodes_into_products() {
        let body = br#"[{"sku":"fs-001","name":"Kopi","price_minor":149500,"currency":"IDR","stock":7,"active":true}]"#;
        let products = decode_products(body, &idr()).expect("valid answer");
        assert_eq!(products.len(), 1);
        let product = &products[0];
        assert_eq!(product.sku.as_str(), "FS-001");
        assert_eq!(product.name, "Kopi");
        assert_eq!(product.price, Money::from_minor(149_500, idr()));
        assert_eq!(product.stock, 7);
        assert!(product.active);
    }

    #[test]
    fn the_optional_pricing_fields_are_read_when_given() {
        let body = br#"[{"sku":"FS-001","name":"Kopi","price_minor":149500,"currency":"IDR","stock":7,"active":true,
            "unit_cost_minor":85000,"min_advertised_price_minor":99000,"lowest_price_30d_minor":139000,
            "previous_price_minor":139000,"price_changed_at":"2030-03-07T00:00:00Z"},
            {"sku":"FS-002","name":"Teh","price_minor":45000,"currency":"IDR","stock":7,"active":true}]"#;
        let products = decode_products(body, &idr()).expect("valid answer");
        let idr_of = |m| Some(Money::from_minor(m, idr()));
        assert_eq!(
            products[0].pricing,
            Pricing {
                unit_cost: idr_of(85_000),
                min_advertised: idr_of(99_000),
                lowest_30d: idr_of(139_000),
                last_change: Some(PriceChange {
                    from: Money::from_minor(139_000, idr()),
                    at: "2030-03-07T00:00:00Z".parse().unwrap(),
                }),
            }
        );
        assert_eq!(products[1].pricing, Pricing::default());
    }

    #[test]
    fn a_previous_price_without_its_date_is_malformed() {
        let body = br#"[{"sku":"FS-001","name":"Kopi","price_minor":149500,"currency":"IDR","stock":7,"active":true,"previous_price_minor":139000}]"#;
        assert!(matches!(
            decode_products(body, &idr()),
            Err(CatalogError::Malformed(_))
        ));
    }

    #[test]
    fn a_negative_pricing_field_is_malformed() {
        let body = br#"[{"sku":"FS-001","name":"Kopi","price_minor":149500,"currency":"IDR","stock":7,"active":true,"unit_cost_minor":-1}]"#;
        assert!(matches!(
            decode_products(body, &idr()),
            Err(CatalogError::Malformed(_))
        ));
    }

    #[test]
    fn an_answer_with_a_missing_field_is_malformed() {
        let body = br#"[{"sku":"FS-001","name":"Kopi","currency":"IDR","stock":7,"active":true}]"#;
        assert!(matches!(
            decode_products(body, &idr()),
            Err(CatalogError::Malformed(reason)) if reason.detail().contains("price_minor")
        ));
    }

    #[test]
    fn an_answer_that_is_not_an_array_is_malformed() {
        assert!(matches!(
            decode_products(br#"{"error":"later"}"#, &idr()),
            Err(CatalogError::Malformed(_))
        ));
    }

    #[test]
    fn a_price_in_another_currency_is_malformed() {
        let body = br#"[{"sku":"FS-001","name":"Kopi","price_minor":999,"currency":"USD","stock":7,"active":true}]"#;
        assert!(matches!(
            decode_products(body, &idr()),
            Err(CatalogError::Malformed(reason)) if reason.detail().contains("USD")
        ));
    }

    #[test]
    fn a_negative_price_is_malformed() {
        let body = br#"[{"sku":"FS-001","name":"Kopi","price_minor":-1,"currency":"IDR","stock":7,"active":true}]"#;
        assert!(matches!(
            decode_products(body, &idr()),
            Err(CatalogError::Malformed(_))
        ));
    }

    #[test]
    fn an_empty_sku_is_malformed() {
        let body = br#"[{"sku":"  ","name":"Kopi","price_minor":1,"currency":"IDR","stock":7,"active":true}]"#;
        assert!(matches!(
            decode_products(body, &idr()),
            Err(CatalogError::Malformed(_))
        ));
    }

    #[test]
    fn a_huge_body_is_not_quoted_in_full() {
        let body = format!("<html>{}</html>", "x".repeat(10_000));
        match decode_products(body.as_bytes(), &idr()) {
            Err(CatalogError::Malformed(reason)) => {
                assert!(reason.detail().chars().count() <= MAX_QUOTED_CHARS + 3)
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
}
