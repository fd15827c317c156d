//! A real Medusa 2.x server for the Medusa adapter's tests (issue 26).
//!
//! # Where it comes from
//!
//! `scripts/test.sh` sources `scripts/medusa.sh`, which installs the pinned
//! project in `tests/medusa/` (node_modules cached outside the work tree),
//! makes a migrated, seeded template database on the test Postgres, copies it
//! into a database for the run and starts **one** `medusa start` on a loopback
//! port for the whole test run. It writes what the tests need to a JSON file
//! and exports its path as `MEDUSA_HARNESS` ([`Harness`]: URL, a secret API
//! key for the bot, a publishable key for Store API reads, the region, the
//! sales channel, the stock location, the currency and how to make another
//! server). For a quick loop without the whole script, run
//! `bash scripts/medusa.sh` in another shell and export the `MEDUSA_HARNESS`
//! and `DATABASE_URL` lines it prints.
//!
//! A test that finds no Medusa **fails**, saying how to start one; it never
//! skips (on CI, where `CI` is set, least of all: a skipped adapter test would
//! look green).
//!
//! # What is seeded (read-only for tests)
//!
//! The sample catalog (`data/sample-catalog.json`): one product per entry,
//! one variant with the entry's SKU (`FS-001`...), its price in the region's
//! currency and its stock at the stock location; inactive entries are draft
//! products, which the Store API does not show.
//!
//! # One server, many tests: namespaces
//!
//! The server is shared by every test of the run, and tests run in parallel.
//! `#[sqlx::test]` gives each test a fresh bot database, so the bot's ids
//! collide across tests: every test's first session is session 1. Medusa, in
//! turn, shows a shopper the lowest active sale price of a variant, whichever
//! price list it comes from. So, for tests that write to Medusa:
//!
//! 1. **Never write to the seeded products** (no price list on `FS-001`, no
//!    stock change): another test may be reading them. They are there to read.
//! 2. **Each test takes a [`Namespace`]** (`medusa.namespace()`): a prefix
//!    unique to the test (`T` and 8 random hex digits, e.g. `T3FA09C1B`), and
//!    creates the products it sells with [`Namespace::create_products`] or
//!    [`Namespace::copy_sample`]. Their SKUs are `<PREFIX>-<base>`
//!    (`T3FA09C1B-FS-001`, valid under the bot's default SKU rules), so
//!    nothing another test does to its own products shows on these.
//! 3. **Everything a test creates that is found again by a key carries the
//!    prefix**: price lists are titled `[<prefix>] ...` and have
//!    `metadata.flashsale_namespace = <prefix>`; [`Namespace::price_lists`]
//!    lists only those. The adapter, which finds "the price list of session
//!    N" by a key, must take a key prefix in its configuration (in production
//!    something like the bot's instance name), and its tests pass
//!    [`Namespace::prefix`]: then session 1 of one test and session 1 of
//!    another are different lists, and neither test can end the other's sale.
//! 4. A test that **stops or restarts Medusa** (down at the start, restart)
//!    must not do it to the shared server: [`PrivateMedusa::start`] copies
//!    the template into a database of its own and starts a second server
//!    (about 5 s and 400 MB; use it only where a test needs it).
//!
//! Nothing is cleaned up after a test: the run's database is dropped when
//! the run ends, and prefixes keep what is left over out of other tests' way.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use flashsale_bot::domain::{Currency, Sku, SkuRules};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// What `scripts/medusa.sh` wrote to `$MEDUSA_HARNESS`.
#[derive(Debug, Clone, Deserialize)]
pub struct Harness {
    /// `http://127.0.0.1:<port>`, the shared server.
    pub url: String,
    /// `sk_...`: `Authorization: Basic base64("sk_...:")` on the admin API.
    pub secret_api_key: String,
    /// `pk_...`: `x-publishable-api-key` on the Store API.
    pub publishable_api_key: String,
    pub region_id: String,
    pub sales_channel_id: String,
    pub stock_location_id: String,
    /// Lower case, as Medusa has it (`idr`).
    pub currency_code: String,
    /// Decimal places of the minor unit, as the bot's `Currency` has them.
    pub currency_exponent: u32,
    /// The shared server's database.
    pub database: String,
    /// The migrated, seeded template it was copied from.
    pub template_database: String,
    /// The Postgres cluster both live on (a URL to its `postgres` database).
    pub cluster_url: String,
    /// The Medusa project (config and `node_modules`) to start more servers from.
    pub project_dir: PathBuf,
    pub server_log: PathBuf,
}

const HOW_TO_START: &str = "run scripts/test.sh (it installs, seeds and starts Medusa), or run \
    `bash scripts/medusa.sh` in another shell and export the MEDUSA_HARNESS and DATABASE_URL it prints \
    (or `source scripts/medusa.sh && medusa_up DIR` with DATABASE_URL set)";

impl Harness {
    /// The harness of this run. Panics, saying how to start Medusa, when there is none.
    pub fn from_env() -> Harness {
        let ci = if std::env::var_os("CI").is_some() {
            " CI is set: the Medusa tests never skip."
        } else {
            ""
        };
        let Some(path) = std::env::var_os("MEDUSA_HARNESS") else {
            panic!("No Medusa for this test: MEDUSA_HARNESS is not set; {HOW_TO_START}.{ci}");
        };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "MEDUSA_HARNESS={} cannot be read ({err}): the Medusa of an earlier run? {HOW_TO_START}.{ci}",
                PathBuf::from(&path).display()
            )
        });
        serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!(
                "MEDUSA_HARNESS={} is not the harness file scripts/medusa.sh writes: {err}",
                PathBuf::from(&path).display()
            )
        })
    }

    /// The currency as the bot knows it; its decimal places must agree with the seed's.
    pub fn currency(&self) -> Currency {
        let currency = Currency::from_code(&self.currency_code.to_uppercase())
            .expect("the seeded currency is one the bot knows");
        assert_eq!(
            u32::from(currency.exponent()),
            self.currency_exponent,
            "tests/medusa/seed.js and src/domain/money.rs disagree on {}'s decimal places",
            self.currency_code
        );
        currency
    }
}

/// The price a shopper sees for a variant in the region (the Store API's
/// `calculated_price`), in minor units of the region's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopperPrice {
    /// What the shopper pays: the sale price while a sale list applies.
    pub amount_minor: i64,
    /// The normal price (the strike-through during a sale).
    pub original_minor: i64,
    pub currency_code: String,
    /// The price list the amount comes from, if any.
    pub price_list_id: Option<String>,
    /// `sale` or `override` when the amount comes from a price list.
    pub price_list_type: Option<String>,
}

/// A variant as the Store API shows it.
#[derive(Debug, Clone)]
pub struct StoreVariant {
    pub id: String,
    pub sku: String,
    pub title: String,
    pub inventory_quantity: Option<i64>,
    /// `None` when the variant has no price in the region's currency.
    pub price: Option<ShopperPrice>,
}

/// A price list as the admin API lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceList {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// An HTTP client for one Medusa server: the admin API with the secret key,
/// the Store API with the publishable key and the region. Calls panic with
/// the status and body on anything but 2xx (the `try_` ones return them).
#[derive(Clone)]
pub struct Medusa {
    pub harness: Harness,
    base: String,
    http: reqwest::Client,
}

/// Minor units from one of Medusa's decimal strings (`raw_*_amount.value`,
/// major units): exact, and a panic if it has more decimals than the currency.
pub fn minor_units(decimal: &str, exponent: u32) -> i64 {
    let (negative, digits) = match decimal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, decimal),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let kept = fraction.trim_end_matches('0');
    assert!(
        kept.len() <= exponent as usize,
        "Medusa amount {decimal} has more decimals than the currency's {exponent}"
    );
    let fraction = format!("{kept:0<width$}", width = exponent as usize);
    let value: i64 = format!("{whole}{fraction}")
        .parse()
        .unwrap_or_else(|_| panic!("Medusa amount {decimal} is not a decimal number"));
    if negative {
        -value
    } else {
        value
    }
}

/// Major units as a decimal string, exactly (149500 IDR -> `149500`, 123450 USD -> `1234.50`).
pub fn major_units(minor: i64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let sign = if minor < 0 { "-" } else { "" };
    let digits = format!(
        "{:0>width$}",
        minor.unsigned_abs(),
        width = exponent as usize + 1
    );
    let (whole, fraction) = digits.split_at(digits.len() - exponent as usize);
    format!("{sign}{whole}.{fraction}")
}

/// An amount as Medusa's admin API takes it: a JSON number of major units.
/// Whole for a currency without decimals; otherwise the shortest decimal
/// that parses back to the same f64, which is the exact decimal (checked).
pub fn medusa_amount(minor: i64, exponent: u32) -> Value {
    if exponent == 0 {
        return json!(minor);
    }
    let decimal = major_units(minor, exponent);
    let number: f64 = decimal.parse().expect("a decimal");
    assert_eq!(
        minor_units(&number.to_string(), exponent),
        minor,
        "{decimal} does not survive as a JSON number"
    );
    json!(number)
}

/// A time as Medusa takes it (RFC 3339, milliseconds, UTC).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Medusa {
    /// The run's shared server; panics, saying how to start one, when it is not there or not answering.
    pub async fn shared() -> Medusa {
        let harness = Harness::from_env();
        let medusa = Medusa::at(harness.clone(), &harness.url);
        if let Err(err) = medusa.health().await {
            panic!(
                "Medusa at {} does not answer /health ({err}); the end of its log ({}):\n{}\n{HOW_TO_START}.",
                harness.url,
                harness.server_log.display(),
                log_tail(&harness.server_log)
            );
        }
        medusa
    }

    fn at(harness: Harness, base: &str) -> Medusa {
        Medusa {
            harness,
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    pub fn exponent(&self) -> u32 {
        self.harness.currency_exponent
    }

    /// `GET /health` answered 200.
    pub async fn health(&self) -> Result<(), String> {
        let response = self
            .http
            .get(format!("{}/health", self.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .map_err(|err| err.to_string())?;
        match response.status() {
            reqwest::StatusCode::OK => Ok(()),
            status => Err(format!("/health answered {status}")),
        }
    }

    /// A new namespace for one test (see the module doc).
    pub fn namespace(&self) -> Namespace {
        Namespace {
            medusa: self.clone(),
            prefix: format!("T{:08X}", rand::random::<u32>()),
        }
    }

    fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.harness.secret_api_key, None::<&str>)
    }

    /// An admin API call: the status and the JSON body (`Value::Null` when there is none).
    pub async fn try_admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(reqwest::StatusCode, Value), reqwest::Error> {
        let mut request = self.admin(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    async fn admin_ok(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        let shown = format!("{method} {path}");
        let (status, value) = self
            .try_admin(method, path, body)
            .await
            .unwrap_or_else(|err| panic!("{shown} on Medusa failed: {err}"));
        assert!(
            status.is_success(),
            "{shown} on Medusa answered {status}: {value}"
        );
        value
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.admin_ok(reqwest::Method::GET, path, None).await
    }

    /// Medusa updates with POST too (no PATCH).
    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        self.admin_ok(reqwest::Method::POST, path, Some(&body))
            .await
    }

    pub async fn admin_delete(&self, path: &str) -> Value {
        self.admin_ok(reqwest::Method::DELETE, path, None).await
    }

    /// A Store API read with the publishable key; `query` is appended as pairs.
    pub async fn store_get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base)).expect("a store URL");
        url.query_pairs_mut().extend_pairs(query);
        let shown = url.to_string();
        let response = self
            .http
            .get(url)
            .header("x-publishable-api-key", &self.harness.publishable_api_key)
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {shown} on Medusa failed: {err}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "GET {shown} on Medusa answered {status}: {text}"
        );
        serde_json::from_str(&text).expect("the Store API answers JSON")
    }

    /// The variants with these SKUs as a shopper in the region sees them
    /// (`calculated_price` and stock), in the order Medusa gives them. Unknown
    /// SKUs, and those of draft products, are simply absent.
    pub async fn store_variants(&self, skus: &[&str]) -> Vec<StoreVariant> {
        let limit = skus.len().max(1).to_string();
        let mut query = vec![
            ("region_id", self.harness.region_id.as_str()),
            (
                "fields",
                "id,sku,title,*calculated_price,+inventory_quantity",
            ),
            ("limit", limit.as_str()),
        ];
        query.extend(skus.iter().map(|sku| ("sku[]", *sku)));
        let body = self.store_get("/store/product-variants", &query).await;
        body["variants"]
            .as_array()
            .expect("the Store API lists variants")
            .iter()
            .map(|v| self.store_variant_from(v))
            .collect()
    }

    /// One variant as a shopper sees it; `None` when the Store API does not show it.
    pub async fn store_variant(&self, sku: &str) -> Option<StoreVariant> {
        let mut found = self.store_variants(&[sku]).await;
        found.retain(|v| v.sku == sku);
        assert!(found.len() <= 1, "{sku} is on {} variants", found.len());
        found.pop()
    }

    fn store_variant_from(&self, v: &Value) -> StoreVariant {
        let price = v.get("calculated_price").filter(|p| !p.is_null()).map(|p| {
            let amount = |key: &str| {
                let raw = p[format!("raw_{key}")]["value"]
                    .as_str()
                    .unwrap_or_else(|| panic!("calculated_price has no raw_{key}: {p}"));
                minor_units(raw, self.exponent())
            };
            let applied = &p["calculated_price"];
            ShopperPrice {
                amount_minor: amount("calculated_amount"),
                original_minor: amount("original_amount"),
                currency_code: p["currency_code"].as_str().unwrap_or_default().to_owned(),
                price_list_id: applied["price_list_id"].as_str().map(str::to_owned),
                price_list_type: applied["price_list_type"].as_str().map(str::to_owned),
            }
        });
        StoreVariant {
            id: v["id"].as_str().expect("a variant id").to_owned(),
            sku: v["sku"].as_str().unwrap_or_default().to_owned(),
            title: v["title"].as_str().unwrap_or_default().to_owned(),
            inventory_quantity: v["inventory_quantity"].as_i64(),
            price,
        }
    }

    /// Variants by SKU through the admin API, drafts included: `id`, `sku`, `product.status`, `product_id`.
    pub async fn admin_variants(&self, skus: &[&str]) -> Vec<Value> {
        let mut url = reqwest::Url::parse("http://x/admin/product-variants").unwrap();
        url.query_pairs_mut()
            .append_pair("fields", "id,sku,product_id,product.status")
            .append_pair("limit", &skus.len().max(1).to_string())
            .extend_pairs(skus.iter().map(|sku| ("sku[]", *sku)));
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        self.admin_get(&path).await["variants"]
            .as_array()
            .expect("the admin API lists variants")
            .clone()
    }

    /// Every price list on the server, every test's: tests want [`Namespace::price_lists`].
    pub async fn all_price_lists(&self) -> Vec<PriceList> {
        let body = self
            .admin_get("/admin/price-lists?limit=1000&fields=id,title,type,status,starts_at,ends_at,metadata")
            .await;
        serde_json::from_value(body["price_lists"].clone()).expect("price lists")
    }
}

/// A product a test made in its namespace.
#[derive(Debug, Clone)]
pub struct OwnProduct {
    /// The SKU in Medusa and for the bot: `<PREFIX>-<base>`.
    pub sku: Sku,
    /// The SKU it was made from (`FS-001`).
    pub base_sku: String,
    pub product_id: String,
    pub variant_id: String,
    pub price_minor: i64,
    pub stock: i64,
    pub active: bool,
}

/// What a test asks [`Namespace::create_products`] for.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub base_sku: String,
    pub name: String,
    pub price_minor: i64,
    pub stock: i64,
    pub active: bool,
}

/// One sample-catalog entry (`data/sample-catalog.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogEntry {
    pub sku: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock: i64,
    pub active: bool,
}

/// The sample catalog the template was seeded with.
pub fn sample_catalog() -> Vec<CatalogEntry> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample-catalog.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("data/sample-catalog.json"))
        .expect("the sample catalog parses")
}

/// One test's corner of the shared server (see the module doc).
#[derive(Clone)]
pub struct Namespace {
    pub medusa: Medusa,
    prefix: String,
}

impl Namespace {
    /// `T` and 8 hex digits: give it to the adapter as its key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<PREFIX>-<base>`, checked against the bot's default SKU rules.
    pub fn sku(&self, base: &str) -> Sku {
        let raw = format!("{}-{base}", self.prefix);
        Sku::parse(&raw, &SkuRules::default())
            .unwrap_or_else(|err| panic!("namespaced SKU {raw} is not a valid SKU: {err}"))
    }

    /// A title that says whose it is: `[<prefix>] <title>`.
    pub fn title(&self, title: &str) -> String {
        format!("[{}] {title}", self.prefix)
    }

    /// Products of this namespace, one variant each, published (or draft when
    /// not active), in the default sales channel, priced in the region's
    /// currency, stocked at the stock location.
    pub async fn create_products(&self, products: &[NewProduct]) -> Vec<OwnProduct> {
        self.create_products_spelled(products, false).await
    }

    /// As `create_products`, with each variant's SKU stored in lower case
    /// when `lower_case` (a store that spells its SKUs so); `OwnProduct::sku`
    /// stays the bot's spelling.
    pub async fn create_products_spelled(
        &self,
        products: &[NewProduct],
        lower_case: bool,
    ) -> Vec<OwnProduct> {
        let spell = |sku: &Sku| {
            if lower_case {
                sku.as_str().to_lowercase()
            } else {
                sku.as_str().to_owned()
            }
        };
        let h = &self.medusa.harness;
        let exponent = self.medusa.exponent();
        let mut made = Vec::with_capacity(products.len());
        for p in products {
            let sku = self.sku(&p.base_sku);
            let body = json!({
                "title": self.title(&p.name),
                "handle": sku.as_str().to_lowercase(),
                "status": if p.active { "published" } else { "draft" },
                "options": [{ "title": "Default", "values": ["Default"] }],
                "sales_channels": [{ "id": h.sales_channel_id }],
                "metadata": { "flashsale_namespace": self.prefix },
                "variants": [{
                    "title": p.name,
                    "sku": spell(&sku),
                    "manage_inventory": true,
                    "options": { "Default": "Default" },
                    "prices": [{ "amount": medusa_amount(p.price_minor, exponent), "currency_code": h.currency_code }],
                }],
            });
            let product = &self.medusa.admin_post("/admin/products", body).await["product"];
            let variant = &product["variants"][0];
            assert_eq!(variant["sku"], spell(&sku), "the variant Medusa made");
            made.push(OwnProduct {
                sku,
                base_sku: p.base_sku.clone(),
                product_id: product["id"].as_str().expect("a product id").to_owned(),
                variant_id: variant["id"].as_str().expect("a variant id").to_owned(),
                price_minor: p.price_minor,
                stock: p.stock,
                active: p.active,
            });
        }
        // Medusa made an inventory item per variant; stock them, all in one call.
        let skus: Vec<String> = made.iter().map(|p| spell(&p.sku)).collect();
        let mut path = reqwest::Url::parse("http://x/admin/inventory-items").unwrap();
        path.query_pairs_mut()
            .append_pair("fields", "id,sku")
            .append_pair("limit", &skus.len().max(1).to_string())
            .extend_pairs(skus.iter().map(|sku| ("sku[]", sku.as_str())));
        let items = self
            .medusa
            .admin_get(&format!(
                "{}?{}",
                path.path(),
                path.query().unwrap_or_default()
            ))
            .await;
        let items = items["inventory_items"]
            .as_array()
            .expect("inventory items");
        let levels: Vec<Value> = made
            .iter()
            .map(|p| {
                let item = items
                    .iter()
                    .find(|i| i["sku"] == spell(&p.sku))
                    .unwrap_or_else(|| panic!("Medusa made no inventory item for {}", p.sku));
                json!({
                    "inventory_item_id": item["id"],
                    "location_id": h.stock_location_id,
                    "stocked_quantity": p.stock,
                })
            })
            .collect();
        if !levels.is_empty() {
            self.medusa
                .admin_post(
                    "/admin/inventory-items/location-levels/batch",
                    json!({ "create": levels }),
                )
                .await;
        }
        made
    }

    /// Copies of sample-catalog entries in this namespace (same name, price,
    /// stock and state), for a test to sell without touching the seeded ones.
    pub async fn copy_sample(&self, base_skus: &[&str]) -> Vec<OwnProduct> {
        let catalog = sample_catalog();
        let wanted: Vec<NewProduct> = base_skus
            .iter()
            .map(|sku| {
                let entry = catalog
                    .iter()
                    .find(|e| e.sku == *sku)
                    .unwrap_or_else(|| panic!("{sku} is not in data/sample-catalog.json"));
                NewProduct {
                    base_sku: entry.sku.clone(),
                    name: entry.name.clone(),
                    price_minor: entry.price_minor,
                    stock: entry.stock,
                    active: entry.active,
                }
            })
            .collect();
        self.create_products(&wanted).await
    }

    /// A price list of type `sale`, active, for `[starts_at, ends_at)`, titled
    /// and tagged with this namespace; `prices` are (variant id, minor units).
    /// Returns its id.
    pub async fn create_sale(
        &self,
        title: &str,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        prices: &[(&str, i64)],
    ) -> String {
        let h = &self.medusa.harness;
        let prices: Vec<Value> = prices
            .iter()
            .map(|(variant_id, minor)| {
                json!({
                    "variant_id": variant_id,
                    "currency_code": h.currency_code,
                    "amount": medusa_amount(*minor, self.medusa.exponent()),
                })
            })
            .collect();
        let body = json!({
            "title": self.title(title),
            "description": format!("flashsale-bot test {}", self.prefix),
            "type": "sale",
            "status": "active",
            "starts_at": timestamp(starts_at),
            "ends_at": timestamp(ends_at),
            "metadata": { "flashsale_namespace": self.prefix },
            "prices": prices,
        });
        self.medusa.admin_post("/admin/price-lists", body).await["price_list"]["id"]
            .as_str()
            .expect("a price list id")
            .to_owned()
    }

    /// This namespace's price lists, and no one else's.
    pub async fn price_lists(&self) -> Vec<PriceList> {
        let tag = format!("[{}] ", self.prefix);
        self.medusa
            .all_price_lists()
            .await
            .into_iter()
            .filter(|l| {
                l.title.starts_with(&tag)
                    && l.metadata
                        .as_ref()
                        .is_some_and(|m| m["flashsale_namespace"] == self.prefix.as_str())
            })
            .collect()
    }

    /// The Store API's view of some of this namespace's products, by base SKU.
    pub async fn store_variants(&self, base_skus: &[&str]) -> Vec<StoreVariant> {
        let skus: Vec<Sku> = base_skus.iter().map(|b| self.sku(b)).collect();
        let skus: Vec<&str> = skus.iter().map(Sku::as_str).collect();
        self.medusa.store_variants(&skus).await
    }
}

fn log_tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A Medusa server of one test's own, on a copy of the seeded template, for
/// tests that stop or restart it. Killed when dropped; [`PrivateMedusa::shutdown`]
/// also drops its database.
pub struct PrivateMedusa {
    /// A client for it (same keys, region and ids as the shared server: same template).
    pub medusa: Medusa,
    pub port: u16,
    database: String,
    log: PathBuf,
    child: Option<Child>,
}

impl PrivateMedusa {
    /// Copies the template into a new database and starts a server on it on a free port.
    pub async fn start() -> PrivateMedusa {
        let harness = Harness::from_env();
        let database = format!(
            "medusa_private_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let started = Instant::now();
        let mut admin = cluster(&harness).await;
        // Both names are ours (the script's and this function's): plain identifiers.
        assert!(plain_identifier(&harness.template_database) && plain_identifier(&database));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "create database {database} template {}",
            harness.template_database
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|err| panic!("copying the Medusa template into {database}: {err}"));
        eprintln!(
            "[medusa] private database {database} copied in {:?}",
            started.elapsed()
        );
        let log = std::env::temp_dir().join(format!("flashsale-{database}.log"));
        let port = free_port();
        let medusa = Medusa::at(harness, &format!("http://127.0.0.1:{port}"));
        let mut private = PrivateMedusa {
            medusa,
            port,
            database,
            log,
            child: None,
        };
        private.start_server().await;
        private
    }

    /// Starts the server again (after [`PrivateMedusa::stop`]) on the same port and database.
    pub async fn start_server(&mut self) {
        assert!(self.child.is_none(), "this Medusa is already running");
        let h = &self.medusa.harness;
        let database_url = database_url(&h.cluster_url, &self.database);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the private Medusa's log");
        let started = Instant::now();
        let mut child = Command::new(h.project_dir.join("node_modules/.bin/medusa"))
            .args(["start", "--host", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .current_dir(&h.project_dir)
            .env("MEDUSA_DATABASE_URL", database_url)
            .env("MEDUSA_DISABLE_TELEMETRY", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log twice"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("medusa start runs (scripts/medusa.sh installed it)");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if self.medusa.health().await.is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the private Medusa exited ({status}):\n{}",
                    log_tail(&self.log)
                );
            }
            assert!(
                Instant::now() < deadline,
                "the private Medusa did not answer /health in 120 s:\n{}",
                log_tail(&self.log)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!(
            "[medusa] private server on port {} ready in {:?}",
            self.port,
            started.elapsed()
        );
        self.child = Some(child);
    }

    /// Kills the server (SIGKILL: a crash, as far as Medusa knows) and waits for it.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Stops the server and drops its database.
    pub async fn shutdown(mut self) {
        self.stop().await;
        let mut admin = cluster(&self.medusa.harness).await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.database
        )))
        .execute(&mut admin)
        .await;
        let _ = std::fs::remove_file(&self.log);
    }
}

async fn cluster(harness: &Harness) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&harness.cluster_url)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "the Postgres cluster Medusa lives on ({}): {err}",
                harness.cluster_url
            )
        })
}

fn plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `cluster_url` with its database replaced.
fn database_url(cluster_url: &str, database: &str) -> String {
    let mut url = reqwest::Url::parse(cluster_url).expect("the cluster URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// The adapter for `medusa`, keyed by the namespace's prefix.
pub fn adapter(medusa: &Medusa, ns: &Namespace) -> flashsale_bot::medusa::MedusaShop {
    adapter_in(medusa, ns, medusa.harness.currency())
}

pub fn adapter_in(
    medusa: &Medusa,
    ns: &Namespace,
    currency: Currency,
) -> flashsale_bot::medusa::MedusaShop {
    let h = &medusa.harness;
    flashsale_bot::medusa::MedusaShop::new(
        flashsale_bot::medusa::MedusaSettings {
            url: reqwest::Url::parse(medusa.url()).expect("the harness URL"),
            secret_api_key: secrecy::SecretString::from(h.secret_api_key.clone()),
            publishable_api_key: h.publishable_api_key.clone(),
            region_id: h.region_id.clone(),
            key_prefix: ns.prefix().to_owned(),
            timeout: Duration::from_secs(10),
        },
        currency,
    )
    .expect("the adapter for the harness's Medusa")
}

/// An order placed now through the admin API (a draft order converted),
/// for `items` (variant id, quantity); its id.
pub async fn place_order(medusa: &Medusa, items: &[(&str, u32)]) -> String {
    let h = &medusa.harness;
    let items: Vec<_> = items
        .iter()
        .map(|(variant, quantity)| json!({ "variant_id": variant, "quantity": quantity }))
        .collect();
    let draft = medusa
        .admin_post(
            "/admin/draft-orders",
            json!({
                "email": "shopper@example.com",
                "region_id": h.region_id,
                "sales_channel_id": h.sales_channel_id,
                "items": items,
            }),
        )
        .await;
    let id = draft["draft_order"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a draft order: {draft}"))
        .to_owned();
    medusa
        .admin_post(
            &format!("/admin/draft-orders/{id}/convert-to-order"),
            json!({}),
        )
        .await;
    id
}
