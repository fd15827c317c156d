//! A fake catalog on loopback that speaks the real contract (docs/storefront-api.yaml), for every
//! integration test that needs product facts.
//!
//! - `GET /api/products?skus=A,B` answers the known products among `A,B` (unknown SKUs absent).
//! - `GET /api/products/search?q=..&limit=..` answers products whose SKU or name contains `q`
//!   (case-insensitive), at most `limit` (default 25), ordered by SKU.
//!
//! The products live in a shared list, so a test can change stock or the active flag between two
//! requests (`set_stock`, `set_active`) and see the bot react. Other constructors make the catalog
//! fail in the ways the client must survive: an HTTP status, a stall, a body that is not the contract.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Lookup endpoint of the contract.
pub const PRODUCTS_PATH: &str = "/api/products";
/// Search endpoint of the contract.
pub const SEARCH_PATH: &str = "/api/products/search";
/// What the contract's search answers when no `limit` is given.
const DEFAULT_SEARCH_LIMIT: usize = 25;

/// One product as the fake catalog stores and serves it (the wire shape, so a test can also serve
/// things our client must refuse, such as another currency or a negative price).
#[derive(Clone, Debug)]
pub struct FakeProduct {
    pub sku: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock: i64,
    pub active: bool,
    /// The contract's optional pricing fields (money guards), in minor units.
    pub unit_cost_minor: Option<i64>,
    pub min_advertised_price_minor: Option<i64>,
    pub lowest_price_30d_minor: Option<i64>,
}

impl FakeProduct {
    /// An active product priced in IDR.
    pub fn new(sku: &str, name: &str, price_minor: i64, stock: i64) -> Self {
        FakeProduct {
            sku: sku.to_owned(),
            name: name.to_owned(),
            price_minor,
            currency: "IDR".to_owned(),
            stock,
            active: true,
            unit_cost_minor: None,
            min_advertised_price_minor: None,
            lowest_price_30d_minor: None,
        }
    }

    /// The same product with a known unit cost (minor units).
    pub fn costing(mut self, unit_cost_minor: i64) -> Self {
        self.unit_cost_minor = Some(unit_cost_minor);
        self
    }

    /// The same product priced in another currency.
    pub fn in_currency(mut self, currency: &str) -> Self {
        self.currency = currency.to_owned();
        self
    }

    /// The same product, inactive.
    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "sku": self.sku,
            "name": self.name,
            "price_minor": self.price_minor,
            "currency": self.currency,
            "stock": self.stock,
            "active": self.active,
            "unit_cost_minor": self.unit_cost_minor,
            "min_advertised_price_minor": self.min_advertised_price_minor,
            "lowest_price_30d_minor": self.lowest_price_30d_minor,
        })
    }
}

/// Twelve realistic IDR products "FS-001".."FS-012" (stock 100 each), plus "FS-LOW" (stock 3) and
/// "FS-OFF" (inactive, stock 50).
pub fn sample_products() -> Vec<FakeProduct> {
    let twelve = [
        ("FS-001", "Kopi Arabika Gayo 250 g", 149_500),
        ("FS-002", "Teh Hijau Melati 100 g", 45_000),
        ("FS-003", "Sambal Bawang Botol 200 ml", 32_900),
        ("FS-004", "Batik Tulis Kemeja Pria", 425_000),
        ("FS-005", "Sepatu Lari Ringan", 689_000),
        ("FS-006", "Tas Ransel Laptop 15 inci", 279_000),
        ("FS-007", "Earphone Bluetooth TWS", 199_900),
        ("FS-008", "Power Bank 10000 mAh", 239_000),
        ("FS-009", "Madu Hutan Sumbawa 500 g", 128_500),
        ("FS-010", "Rice Cooker Digital 1,8 L", 549_000),
        ("FS-011", "Kaos Katun Combed Polos", 69_900),
        ("FS-012", "Minyak Kelapa Murni 250 ml", 58_750),
    ];
    let mut products: Vec<FakeProduct> = twelve
        .iter()
        .map(|(sku, name, price)| FakeProduct::new(sku, name, *price, 100))
        .collect();
    products.push(FakeProduct::new(
        "FS-LOW",
        "Kopi Luwak Sachet 10 pcs",
        95_000,
        3,
    ));
    products.push(FakeProduct::new("FS-OFF", "Payung Lipat Otomatis", 87_500, 50).inactive());
    products
}

/// The fake catalog server. Dropping it shuts it down.
pub struct CatalogServer {
    /// The loopback HTTP server.
    server: MockServer,
    /// What the server serves; shared with the responder so tests can change it mid-test.
    products: Arc<Mutex<Vec<FakeProduct>>>,
}

impl CatalogServer {
    /// Serves `products` with the real contract: filters by the `skus` query param, searches by `q`
    /// over sku and name (case-insensitive), honours `limit`.
    pub async fn start(products: Vec<FakeProduct>) -> CatalogServer {
        CatalogServer::serving(products, None).await
    }

    /// Every request answers `status` (with a short plain-text body).
    pub async fn failing_with(status: u16) -> CatalogServer {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status).set_body_string("catalog unavailable"))
            .mount(&server)
            .await;
        CatalogServer {
            server,
            products: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Serves [`sample_products`] correctly, but only after `delay`.
    pub async fn stalling(delay: Duration) -> CatalogServer {
        CatalogServer::serving(sample_products(), Some(delay)).await
    }

    /// Answers 200 with a JSON body that is not the contract (an object, not a product list).
    pub async fn malformed() -> CatalogServer {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"status":"maintenance","items":null}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        CatalogServer {
            server,
            products: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> reqwest::Url {
        reqwest::Url::parse(&self.server.uri()).expect("the mock server's URI is a URL")
    }

    /// How many requests the server has received so far.
    pub async fn request_count(&self) -> usize {
        self.requests().await.len()
    }

    /// Every request received so far, oldest first (to inspect query parameters).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// Changes the stock later requests see. Panics if the SKU is not served.
    pub async fn set_stock(&self, sku: &str, stock: i64) {
        self.update(sku, |product| product.stock = stock);
    }

    /// Changes the base price (minor units) later requests see. Panics if the SKU is not served.
    pub async fn set_price(&self, sku: &str, price_minor: i64) {
        self.update(sku, |product| product.price_minor = price_minor);
    }

    /// Changes the unit cost (minor units) later requests see. Panics if the SKU is not served.
    pub async fn set_cost(&self, sku: &str, unit_cost_minor: i64) {
        self.update(sku, |product| {
            product.unit_cost_minor = Some(unit_cost_minor)
        });
    }

    /// Changes the active flag later requests see. Panics if the SKU is not served.
    pub async fn set_active(&self, sku: &str, active: bool) {
        self.update(sku, |product| product.active = active);
    }

    async fn serving(products: Vec<FakeProduct>, delay: Option<Duration>) -> CatalogServer {
        let server = MockServer::start().await;
        let products = Arc::new(Mutex::new(products));
        for (endpoint, kind) in [
            (PRODUCTS_PATH, Endpoint::Lookup),
            (SEARCH_PATH, Endpoint::Search),
        ] {
            Mock::given(method("GET"))
                .and(path(endpoint))
                .respond_with(ContractResponder {
                    products: Arc::clone(&products),
                    endpoint: kind,
                    delay,
                })
                .mount(&server)
                .await;
        }
        CatalogServer { server, products }
    }

    fn update(&self, sku: &str, change: impl FnOnce(&mut FakeProduct)) {
        let mut products = lock(&self.products);
        let product = products
            .iter_mut()
            .find(|p| p.sku == sku)
            .unwrap_or_else(|| panic!("the fake catalog does not serve {sku}"));
        change(product);
    }
}

/// Which contract endpoint a responder serves.
#[derive(Clone, Copy)]
enum Endpoint {
    Lookup,
    Search,
}

/// Answers a contract endpoint from the shared product list, as it is at the time of the request.
struct ContractResponder {
    products: Arc<Mutex<Vec<FakeProduct>>>,
    endpoint: Endpoint,
    delay: Option<Duration>,
}

impl Respond for ContractResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let answer = match self.endpoint {
            Endpoint::Lookup => self.lookup(request),
            Endpoint::Search => self.search(request),
        };
        match (answer, self.delay) {
            (Ok(found), Some(delay)) => ResponseTemplate::new(200)
                .set_body_json(found)
                .set_delay(delay),
            (Ok(found), None) => ResponseTemplate::new(200).set_body_json(found),
            (Err(reason), _) => {
                ResponseTemplate::new(400).set_body_json(json!({ "error": reason }))
            }
        }
    }
}

impl ContractResponder {
    fn lookup(&self, request: &Request) -> Result<Value, String> {
        let skus = query_param(request, "skus").ok_or("missing query parameter skus")?;
        let wanted: Vec<&str> = skus
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let products = lock(&self.products);
        Ok(Value::Array(
            products
                .iter()
                .filter(|p| wanted.contains(&p.sku.as_str()))
                .map(FakeProduct::to_json)
                .collect(),
        ))
    }

    fn search(&self, request: &Request) -> Result<Value, String> {
        let query = query_param(request, "q")
            .ok_or("missing query parameter q")?
            .to_lowercase();
        let limit = match query_param(request, "limit") {
            None => DEFAULT_SEARCH_LIMIT,
            Some(raw) => raw
                .parse()
                .map_err(|_| format!("limit is not a number: {raw}"))?,
        };
        let products = lock(&self.products);
        let mut found: Vec<&FakeProduct> = products
            .iter()
            .filter(|p| {
                p.sku.to_lowercase().contains(&query) || p.name.to_lowercase().contains(&query)
            })
            .collect();
        found.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(Value::Array(
            found
                .into_iter()
                .take(limit)
                .map(FakeProduct::to_json)
                .collect(),
        ))
    }
}

/// The decoded value of a query parameter.
fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A test that panicked while holding the lock leaves a usable list behind.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
