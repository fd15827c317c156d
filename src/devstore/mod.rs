//! The dev storefront: a small HTTP server that plays the marketplace's storefront for local runs,
//! demos and tests, so the whole flow (catalog look-ups, publish, go-live, end) works without the real
//! shop. **It is not production code**: state lives in memory (its sales also in a file with
//! `--state`, so a restart does not lose them), there is no auth on `/admin`, and the binary binds to
//! loopback by default.
//!
//! It serves the contract of docs/storefront-api.yaml and checks what a real storefront should check,
//! so the bot's mistakes show up here rather than in production:
//!
//! - every `PUT`/`DELETE` on `/api/flash-sales/{id}` carries a valid Standard Webhooks signature for the
//!   configured secret, with a timestamp within five minutes (401 otherwise);
//! - a publish body is a complete sale: the session id matches the path, exactly six distinct SKUs that
//!   the catalog knows and that are active, discounts of 1-90 %, flash prices that follow from the
//!   discount, and an end after the start (422 with the reason otherwise);
//! - a repeated `webhook-id` is answered from memory, the way a storefront that honours idempotency keys
//!   would, so retries can be seen not to publish twice;
//! - every `PUT` and `DELETE` body carries a revision, and a write is applied only when its revision is
//!   larger than the last one applied to that session (an end of an unknown sale counts too); an older
//!   one is answered 409 `stale_revision` with the current sale and changes nothing, so a late write
//!   can be seen not to undo a newer one.
//!
//! Tests and demos can also read every API call it received and inject failures (`/admin/*`, or
//! [`DevStore::calls`] and [`DevStore::set_faults`] in-process). It deliberately shares no code with
//! `domain`: it stands in for somebody else's system, so agreeing with the bot by construction would
//! hide the bugs it is here to find.
//!
//! Layout:
//! - `state`: the in-memory shop (products, sales, revisions, call log, faults, idempotency memory).
//! - `sale`: the publish and end bodies and their validation.
//! - `stored`: a published sale and its status over time.
//! - `saved`: the sales kept in a file across restarts.
//! - `api`: the axum routes, the call recorder and the fault injector.
//! - `page`: the Flash Sale section as a self-contained HTML page.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod api;
mod page;
mod sale;
mod saved;
mod state;
mod stored;

pub use saved::StateFileError;
pub use state::{Faults, RecordedCall};

/// The sample catalog shipped with the project (about 40 IDR products, `FS-001`..`FS-012` among them).
const SAMPLE_CATALOG: &str = include_str!("../../data/sample-catalog.json");

/// Where the sample catalog comes from, for error messages.
const SAMPLE_CATALOG_ORIGIN: &str = "the embedded data/sample-catalog.json";

/// The raw key behind [`test_secret`]: 32 fixed bytes, readable so nobody mistakes it for a real key.
const TEST_SECRET: &str = "whsec_Zmxhc2hzYWxlLWRldi1zdG9yZWZyb250LXNlY3JldCE=";

/// What the dev storefront starts with.
#[derive(Clone)]
pub struct DevStoreConfig {
    /// The catalog it serves; tests change stock later with [`DevStore::set_stock`].
    pub products: Vec<DevProduct>,
    /// The Standard Webhooks secret (`whsec_<base64>`) that signed calls must verify against.
    pub webhook_secret: String,
    /// Whether it tells the bot it schedules sales (`GET /api/capabilities`),
    /// so the bot stages approved sales ahead instead of publishing at the
    /// start. It switches sales by its own clock either way.
    pub schedules_sales: bool,
    /// Where to keep the sales across restarts (read at start, written after
    /// every applied write); `None` keeps them in memory only.
    pub state_file: Option<PathBuf>,
}

impl std::fmt::Debug for DevStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Even a dev secret stays out of logs: the same variable may hold a real one by mistake.
        f.debug_struct("DevStoreConfig")
            .field("products", &self.products.len())
            .field("webhook_secret", &"<redacted>")
            .field("schedules_sales", &self.schedules_sales)
            .field("state_file", &self.state_file)
            .finish()
    }
}

/// One product as the storefront's catalog serves it (the wire shape of `/api/products`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct DevProduct {
    /// Upper-case SKU matching `[A-Z0-9][A-Z0-9._-]*`; look-ups ignore case.
    pub sku: String,
    /// What shoppers see on the tile.
    pub name: String,
    /// The regular price in minor units of `currency` (IDR has none: 149500 is IDR 149,500).
    pub price_minor: i64,
    /// ISO 4217 code, e.g. `IDR`.
    pub currency: String,
    /// Units on hand.
    pub stock: i64,
    /// Inactive products are still listed but cannot join a flash sale.
    pub active: bool,
    /// What a unit costs the shop, for the bot's margin floor (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost_minor: Option<i64>,
    /// A manufacturer's minimum advertised price (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_advertised_price_minor: Option<i64>,
    /// The lowest price applied in the previous 30 days (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowest_price_30d_minor: Option<i64>,
    /// The price before the current one (optional, with `price_changed_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_price_minor: Option<i64>,
    /// When the price last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_changed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// In a catalog file only: the change was this many days before the
    /// storefront started (a file cannot hold a date that stays recent).
    #[serde(default, skip_serializing)]
    pub price_changed_days_ago: Option<u32>,
}

/// Why the dev storefront could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevStoreError {
    /// The catalog file could not be read.
    #[error("cannot read the catalog {}", path.display())]
    ReadCatalog {
        /// The file we tried to read.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The catalog is not a JSON list of products.
    #[error(
        "{origin} is not a JSON list of products (sku, name, price_minor, currency, stock, active)"
    )]
    ParseCatalog {
        /// The file (or the embedded sample) that failed.
        origin: String,
        /// Where and why the JSON did not match.
        source: serde_json::Error,
    },
    /// The catalog parsed but breaks a rule the storefront relies on.
    #[error("{origin}: product {index} ({sku:?}) {problem}")]
    InvalidCatalog {
        /// The file (or the embedded sample) that failed.
        origin: String,
        /// Position of the product in the list, from 0.
        index: usize,
        /// The product's SKU as written.
        sku: String,
        /// What is wrong and what is allowed.
        problem: &'static str,
    },
    /// The webhook secret is not `whsec_` followed by non-empty base64.
    #[error("the webhook secret must be \"whsec_\" followed by a base64 key: {0}")]
    Secret(String),
    /// The listener's address could not be read.
    #[error("cannot read the listening address")]
    Listener(#[source] std::io::Error),
    /// The state file given to keep sales across restarts could not be read.
    #[error(transparent)]
    State(#[from] StateFileError),
}

/// Reads a catalog file (a JSON list of [`DevProduct`]) and checks it.
pub fn load_catalog(path: &Path) -> Result<Vec<DevProduct>, DevStoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| DevStoreError::ReadCatalog {
        path: path.to_owned(),
        source,
    })?;
    parse_catalog(&text, &path.display().to_string())
}

/// The sample catalog embedded in the crate (`data/sample-catalog.json`).
pub fn sample_catalog() -> Result<Vec<DevProduct>, DevStoreError> {
    parse_catalog(SAMPLE_CATALOG, SAMPLE_CATALOG_ORIGIN)
}

/// A fixed, valid `whsec_` secret, **for tests and local runs only**: it is public in this repository,
/// so anything signed with it proves nothing outside a developer's machine.
pub fn test_secret() -> String {
    TEST_SECRET.to_owned()
}

fn parse_catalog(text: &str, origin: &str) -> Result<Vec<DevProduct>, DevStoreError> {
    let mut products: Vec<DevProduct> =
        serde_json::from_str(text).map_err(|source| DevStoreError::ParseCatalog {
            origin: origin.to_owned(),
            source,
        })?;
    let mut seen = std::collections::HashSet::new();
    for (index, p) in products.iter().enumerate() {
        let problem = if !is_valid_sku(&p.sku) {
            Some("has a SKU that does not match [A-Z0-9][A-Z0-9._-]*")
        } else if !seen.insert(p.sku.as_str()) {
            Some("repeats a SKU listed earlier")
        } else if p.name.trim().is_empty() {
            Some("has an empty name")
        } else if p.price_minor < 0 || p.stock < 0 {
            Some("has a negative price or stock")
        } else if p.currency.len() != 3 || !p.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            Some("has a currency that is not a three-letter upper-case code")
        } else if p.previous_price_minor.is_some()
            != (p.price_changed_at.is_some() || p.price_changed_days_ago.is_some())
        {
            Some("gives a previous price without when it changed, or the other way round")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(DevStoreError::InvalidCatalog {
                origin: origin.to_owned(),
                index,
                sku: p.sku.clone(),
                problem,
            });
        }
    }
    let now = shop_now();
    for p in &mut products {
        if let Some(days) = p.price_changed_days_ago.take() {
            p.price_changed_at = Some(now - chrono::Duration::days(i64::from(days)));
        }
    }
    Ok(products)
}

/// `[A-Z0-9][A-Z0-9._-]*`, the SKU shape the bot accepts by default.
fn is_valid_sku(sku: &str) -> bool {
    let mut bytes = sku.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    first_ok && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Starts serving on `listener` in a background task and returns a handle to the running storefront.
pub async fn spawn(
    listener: TcpListener,
    config: DevStoreConfig,
) -> Result<DevStore, DevStoreError> {
    let webhook = state::verifier(&config.webhook_secret)?;
    let addr = listener.local_addr().map_err(DevStoreError::Listener)?;
    let mut shared = state::Shared::new(config.products, webhook);
    shared.schedules_sales = config.schedules_sales;
    if let Some(path) = config.state_file {
        shared.keep_state_in(path)?;
    }
    let shared = Arc::new(shared);
    let app = api::router(Arc::clone(&shared));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
            // A dropped sender means the handle is gone: stop either way.
            let _ = stopped.await;
        });
        if let Err(error) = serving.await {
            tracing::error!(%error, "the dev storefront stopped serving");
        }
    });
    tracing::debug!(%addr, "dev storefront started");
    Ok(DevStore {
        addr,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A running dev storefront. Dropping it asks the server to stop without waiting; [`DevStore::shutdown`]
/// also waits until it has.
pub struct DevStore {
    /// Where it listens, for [`DevStore::url`].
    addr: SocketAddr,
    /// The same state the routes use, so tests can look inside and steer it.
    shared: Arc<state::Shared>,
    /// Tells the server to stop; `None` once used.
    stop: Option<oneshot::Sender<()>>,
    /// The serving task, awaited by `shutdown`; `None` once awaited.
    task: Option<JoinHandle<()>>,
}

impl DevStore {
    /// The base URL, e.g. `http://127.0.0.1:8088`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every API call received so far, oldest first.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls()
    }

    /// The stored sale for `session_id` as `GET /api/flash-sales/{id}` would answer it.
    /// Moves every sale's window by `by`: for tests that make time pass by
    /// moving a session's window and jobs back (the database's clock cannot
    /// move), a staged sale here must move with them, or the shop's clock
    /// would not reach the start the session now has.
    pub fn shift_windows(&self, by: chrono::Duration) {
        self.shared.shift_windows(by);
    }

    pub fn sale(&self, session_id: i64) -> Option<serde_json::Value> {
        self.shared.sale_json(session_id, shop_now())
    }

    /// The last revision the storefront applied to `session_id` (a publish, or an end even of a sale it
    /// did not have), or `None` when no write to it was applied.
    pub fn revision(&self, session_id: i64) -> Option<i64> {
        self.shared.revision(session_id)
    }

    /// Replaces the pending faults (see [`Faults`]).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Drops a sale as if someone deleted it on the storefront by hand. Its revision is kept: a write
    /// older than the last one applied is still refused.
    pub fn forget_sale(&self, session_id: i64) {
        self.shared.forget_sale(session_id);
    }

    /// Changes a product's stock (SKU compared case-insensitively); unknown SKUs are ignored.
    pub fn set_stock(&self, sku: &str, stock: i64) {
        self.shared.set_stock(sku, stock);
    }

    /// Activates or deactivates a product (SKU compared case-insensitively); unknown SKUs are ignored.
    pub fn set_active(&self, sku: &str, active: bool) {
        self.shared.set_active(sku, active);
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::error!(%error, "the dev storefront task failed");
            }
        }
    }
}

impl Drop for DevStore {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The shop's clock. The dev storefront stands for the shop, a system of its
/// own that decides by its own clock whether a sale is showing: the host's
/// (`crate::clock`), never the bot's database.
pub(crate) fn shop_now() -> chrono::DateTime<chrono::Utc> {
    use crate::clock::Clock;
    crate::clock::SystemClock.now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_catalog_parses_and_has_what_demos_rely_on() {
        let products = sample_catalog().expect("sample catalog is valid");
        assert!(products.len() >= 36, "about 40 products");
        for n in 1..=12 {
            let sku = format!("FS-{n:03}");
            let p = products
                .iter()
                .find(|p| p.sku == sku)
                .expect("FS-0xx present");
            assert!(p.active && p.stock >= 100, "{sku} is active with stock");
        }
        assert_eq!(products.iter().filter(|p| !p.active).count(), 4);
        let low = products
            .iter()
            .filter(|p| (1..=5).contains(&p.stock))
            .count();
        assert_eq!(low, 4);
    }

    #[test]
    fn a_catalog_with_a_lower_case_or_repeated_sku_is_refused() {
        let one =
            r#"{"sku":"FS-1","name":"A","price_minor":1,"currency":"IDR","stock":1,"active":true}"#;
        let lower = one.replace("FS-1", "fs-1");
        let refused = |text: &str| {
            matches!(
                parse_catalog(text, "t"),
                Err(DevStoreError::InvalidCatalog { .. })
            )
        };
        assert!(refused(&format!("[{lower}]")));
        assert!(refused(&format!("[{one},{one}]")));
        assert!(parse_catalog(&format!("[{one}]"), "t").is_ok());
    }

    #[test]
    fn a_price_change_days_ago_is_served_as_a_date_that_stays_recent() {
        let text = r#"[{"sku":"FS-1","name":"A","price_minor":279000,"currency":"IDR","stock":1,"active":true,
            "previous_price_minor":260000,"price_changed_days_ago":3}]"#;
        let products = parse_catalog(text, "t").expect("a valid catalog");
        let at = products[0].price_changed_at.expect("a date");
        let age = shop_now() - at;
        assert!(
            (age - chrono::Duration::days(3)).num_seconds().abs() < 60,
            "{age}"
        );
        let served = serde_json::to_value(&products[0]).expect("serialises");
        assert!(served.get("price_changed_at").is_some(), "{served}");
        assert!(served.get("price_changed_days_ago").is_none(), "{served}");
        // One without the other is refused.
        let alone = r#"[{"sku":"FS-1","name":"A","price_minor":1,"currency":"IDR","stock":1,"active":true,"previous_price_minor":1}]"#;
        assert!(matches!(
            parse_catalog(alone, "t"),
            Err(DevStoreError::InvalidCatalog { .. })
        ));
    }

    #[test]
    fn the_test_secret_is_the_documented_fixed_key() {
        let from_secret = standardwebhooks::Webhook::new(&test_secret()).expect("valid secret");
        let from_bytes =
            standardwebhooks::Webhook::from_bytes(b"flashsale-dev-storefront-secret!".to_vec())
                .expect("any bytes are a key");
        assert_eq!(
            from_secret.sign("id", 1, b"{}").expect("signs"),
            from_bytes.sign("id", 1, b"{}").expect("signs")
        );
    }
}
