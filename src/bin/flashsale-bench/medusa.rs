//! The Medusa adapter's calls against a real Medusa, one after another:
//! a catalog lookup of six SKUs, staging a six-SKU sale (a new price list),
//! publishing it again with a new revision and new prices (the list updated
//! in place), the read-back, counting units sold, and ending (withdrawing
//! the staged sale). p50 and p99 per kind over `--rounds` rounds (default 50).
//!
//! Needs the `MEDUSA_*` variables (`config::medusa::read`; `scripts/medusa.sh`
//! exports them for its test server). The bench makes its own six products
//! and uses its own key prefix (`B` and 8 hex digits), so it never touches a
//! real catalog's products or another bot's sales; what it makes stays
//! behind, tagged with the prefix: run it against a test Medusa.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;
use flashsale_bot::catalog::{Catalog, Freshness};
use flashsale_bot::config::medusa as medusa_config;
use flashsale_bot::domain::{
    Currency, DiscountPercent, Money, Quantity, Sku, SkuRules, Window, WindowRules,
};
use flashsale_bot::medusa::{MedusaSettings, MedusaShop};
use flashsale_bot::storefront::{SaleLine, SaleRequest, SaleWrite, Storefront};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::{option, quantile, Figure};

/// The slowest a call may be at p99 to fit the bot's go-live path twice
/// over within the default 5 s call timeout.
const TARGET_P99_MS: f64 = 1000.0;

pub async fn measure(args: &[String]) -> anyhow::Result<Vec<Figure>> {
    let rounds = option(args, "--rounds", 50)?.max(1) as usize;
    let mut settings = medusa_config::read(|var| std::env::var(var).ok())
        .context("the Medusa to measure (MEDUSA_*; scripts/medusa.sh exports them)")?;
    let prefix = format!("B{:08X}", rand::random::<u32>());
    settings.key_prefix = prefix.clone();
    let admin = Admin::new(&settings)?;
    let currency = admin.region_currency(&settings.region_id).await?;
    let skus = admin.make_products(&prefix, &currency).await?;
    let shop = MedusaShop::new(settings, currency.clone())
        .map_err(|e| anyhow::anyhow!("the adapter: {e}"))?;

    eprintln!("medusa: {rounds} rounds of lookup, stage, re-publish, read-back, units sold, end (prefix {prefix})...");
    let mut kinds: Vec<(&'static str, Vec<f64>)> = [
        "lookup 6 SKUs",
        "stage 6-SKU sale (new list)",
        "re-publish (new revision)",
        "read_back",
        "units_sold",
        "end (withdraw)",
    ]
    .into_iter()
    .map(|k| (k, Vec::with_capacity(rounds)))
    .collect();
    for round in 0..rounds {
        let session = i64::try_from(round).unwrap_or(i64::MAX - 1) + 1;
        let sale = sale(session, &skus, &currency, 30)?;
        let again = sale_with(&sale, &skus, &currency, 35)?;
        let write = |revision| SaleWrite {
            key: format!("bench-{session}-{revision}"),
            revision,
        };
        let (ms, found) = timed(shop.products(&skus, Freshness::Live)).await;
        kinds[0].1.push(ms);
        match found {
            Ok(found) if found.len() == skus.len() => {}
            other => bail!("the lookup did not find the bench's six products: {other:?}"),
        }
        kinds[1]
            .1
            .push(ok(timed(shop.publish(&sale, &write(1))).await, "stage")?);
        kinds[2].1.push(ok(
            timed(shop.publish(&again, &write(2))).await,
            "re-publish",
        )?);
        let (ms, read) = timed(shop.read_back(session)).await;
        kinds[3].1.push(ms);
        match read {
            Ok(Some(shown)) if shown.lines.len() == skus.len() => {}
            other => bail!("the read-back of session {session}: {other:?}"),
        }
        kinds[4]
            .1
            .push(ok(timed(shop.units_sold(&sale)).await, "units_sold")?);
        kinds[5]
            .1
            .push(ok(timed(shop.end(session, &write(3))).await, "end")?);
    }
    Ok(kinds
        .into_iter()
        .map(|(name, mut ms)| {
            ms.sort_by(f64::total_cmp);
            figure(name, &ms)
        })
        .collect())
}

/// Milliseconds a call took, and what it answered.
async fn timed<T>(call: impl std::future::Future<Output = T>) -> (f64, T) {
    let started = Instant::now();
    let answer = call.await;
    (started.elapsed().as_secs_f64() * 1000.0, answer)
}

fn ok<T, E: std::fmt::Display>(
    (ms, result): (f64, Result<T, E>),
    what: &str,
) -> anyhow::Result<f64> {
    match result {
        Ok(_) => Ok(ms),
        Err(e) => bail!("{what} failed: {e}"),
    }
}

fn figure(kind: &'static str, ms: &[f64]) -> Figure {
    let (p50, p99) = (quantile(ms, 0.5), quantile(ms, 0.99));
    Figure {
        name: match kind {
            "lookup 6 SKUs" => "medusa: lookup 6 SKUs p50 / p99",
            "stage 6-SKU sale (new list)" => "medusa: stage a 6-SKU sale (new list) p50 / p99",
            "re-publish (new revision)" => "medusa: re-publish, new revision p50 / p99",
            "read_back" => "medusa: read_back p50 / p99",
            "units_sold" => "medusa: units_sold p50 / p99",
            _ => "medusa: end (withdraw) p50 / p99",
        },
        value: format!("{p50:.0} / {p99:.0} ms ({} calls)", ms.len()),
        target: "p99 < 1 s",
        met: Some(p99 < TARGET_P99_MS),
        json: json!({ "kind": kind, "p50_ms": p50, "p99_ms": p99, "calls": ms.len() }),
    }
}

/// Six prices the bench's products have (IDR-like whole amounts; with a
/// currency with decimals they are read as minor units all the same).
const PRICES: [i64; 6] = [149_500, 45_000, 32_900, 425_000, 689_000, 279_000];

fn sale(
    session: i64,
    skus: &[Sku],
    currency: &Currency,
    discount: i64,
) -> anyhow::Result<SaleRequest> {
    // Staged: ten minutes ahead, so nothing the bench does is ever on sale.
    let starts_at = Utc::now() + chrono::Duration::minutes(10);
    let rules = WindowRules {
        min_lead: chrono::Duration::zero(),
        max_duration: chrono::Duration::hours(24),
    };
    let window = Window::new(
        starts_at,
        starts_at + chrono::Duration::minutes(30),
        starts_at,
        &rules,
    )?;
    let prices: Vec<Money> = PRICES
        .iter()
        .map(|minor| Money::from_minor(*minor, currency.clone()))
        .collect();
    let discount = DiscountPercent::new(discount)?;
    let quantity = Quantity::new(10)?;
    let lines: Vec<SaleLine<'_>> = skus
        .iter()
        .zip(&prices)
        .map(|(sku, price)| SaleLine {
            sku,
            name: "bench product",
            discount,
            base_price: price,
            quantity,
        })
        .collect();
    Ok(SaleRequest::new(session, "Bench sale", &window, &lines))
}

/// The same session and window at another discount.
fn sale_with(
    sale: &SaleRequest,
    skus: &[Sku],
    currency: &Currency,
    discount: i64,
) -> anyhow::Result<SaleRequest> {
    let mut again = self::sale(sale.session_id, skus, currency, discount)?;
    again.window = sale.window;
    Ok(again)
}

/// The few admin calls the bench makes itself (the adapter has no business
/// creating products).
pub(crate) struct Admin {
    http: reqwest::Client,
    base: String,
    secret: String,
    region_id: String,
}

impl Admin {
    pub(crate) fn new(settings: &MedusaSettings) -> anyhow::Result<Admin> {
        Ok(Admin {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            base: settings.url.as_str().trim_end_matches('/').to_owned(),
            secret: settings.secret_api_key.expose_secret().to_owned(),
            region_id: settings.region_id.clone(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth(&self.secret, None::<&str>);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    pub(crate) async fn region_currency(&self, region_id: &str) -> anyhow::Result<Currency> {
        let region = self
            .call(
                reqwest::Method::GET,
                &format!("/admin/regions/{region_id}"),
                None,
            )
            .await?;
        let code = region["region"]["currency_code"]
            .as_str()
            .context("the region's currency")?;
        Ok(Currency::from_code(code)?)
    }

    /// Six published products of the bench's own, in the store's default
    /// sales channel, priced in the region's currency; their SKUs.
    pub(crate) async fn make_products(
        &self,
        prefix: &str,
        currency: &Currency,
    ) -> anyhow::Result<Vec<Sku>> {
        let stores = self
            .call(reqwest::Method::GET, "/admin/stores", None)
            .await?;
        let channel = stores["stores"][0]["default_sales_channel_id"]
            .as_str()
            .context("the store's default sales channel")?
            .to_owned();
        let code = currency.code().to_ascii_lowercase();
        let mut skus = Vec::new();
        for (i, minor) in PRICES.iter().enumerate() {
            let raw = format!("{prefix}-{}", i + 1);
            let sku = Sku::parse(&raw, &SkuRules::default())?;
            let amount =
                flashsale_bot::medusa::to_medusa(&Money::from_minor(*minor, currency.clone()))?;
            self.call(
                reqwest::Method::POST,
                "/admin/products",
                Some(json!({
                    "title": format!("[{prefix}] bench product {}", i + 1),
                    "handle": raw.to_lowercase(),
                    "status": "published",
                    "options": [{ "title": "Default", "values": ["Default"] }],
                    "sales_channels": [{ "id": channel }],
                    "metadata": { "flashsale_namespace": prefix },
                    "variants": [{
                        "title": format!("bench product {}", i + 1),
                        "sku": sku.as_str(),
                        "manage_inventory": false,
                        "options": { "Default": "Default" },
                        "prices": [{ "amount": amount, "currency_code": code }],
                    }],
                })),
            )
            .await?;
            skus.push(sku);
        }
        Ok(skus)
    }

    /// An order for `quantity` units of `sku`, placed now (a draft order
    /// converted, as a shop's staff would; Medusa counts it like a checkout).
    pub(crate) async fn place_order(&self, sku: &Sku, quantity: u32) -> anyhow::Result<()> {
        let variants = self
            .call(
                reqwest::Method::GET,
                &format!("/admin/product-variants?sku={}&fields=id", sku.as_str()),
                None,
            )
            .await?;
        let variant = variants["variants"][0]["id"]
            .as_str()
            .with_context(|| format!("no variant {sku}"))?
            .to_owned();
        let stores = self
            .call(reqwest::Method::GET, "/admin/stores", None)
            .await?;
        let channel = stores["stores"][0]["default_sales_channel_id"]
            .as_str()
            .context("the store's default sales channel")?
            .to_owned();
        let draft = self
            .call(
                reqwest::Method::POST,
                "/admin/draft-orders",
                Some(json!({
                    "email": "bench@example.com",
                    "region_id": self.region_id,
                    "sales_channel_id": channel,
                    "items": [{ "variant_id": variant, "quantity": quantity }],
                })),
            )
            .await?;
        let id = draft["draft_order"]["id"]
            .as_str()
            .context("the draft order's id")?
            .to_owned();
        self.call(
            reqwest::Method::POST,
            &format!("/admin/draft-orders/{id}/convert-to-order"),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }
}
