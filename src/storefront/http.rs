//! `HttpStorefront`: the storefront API over HTTP, signed with Standard Webhooks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::{Client, Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use standardwebhooks::Webhook;

use super::{Capabilities, SaleRequest, SaleWrite, Storefront, StorefrontError, MAX_RETRY_AFTER};
use crate::clock::{Clock, SystemClock};
use crate::domain::sale::{SalePhase, ShownLine, ShownSale};
use crate::domain::{Currency, Money, Sku};
use crate::metrics;
use crate::reference::chain;

/// Characters of an error body kept for the alert and the card: enough for
/// a JSON `{"error": ...}`, too few to fill a card with someone's HTML page.
const MAX_BODY_IN_ERRORS: usize = 120;
/// Bytes of an error body read at all: the rest is never downloaded.
const MAX_BODY_READ: usize = 4096;

#[derive(Clone)]
pub struct HttpStorefront {
    client: Client,
    base: Url,
    timeout: Duration,
    signer: Arc<Webhook>,
    capabilities: Capabilities,
}

impl HttpStorefront {
    pub fn new(
        base: Url,
        secret: &SecretString,
        timeout: Duration,
    ) -> Result<HttpStorefront, StorefrontError> {
        let signer = Webhook::new(secret.expose_secret()).map_err(|e| {
            StorefrontError::Signing(format!("the webhook secret is not valid ({e})"))
        })?;
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("flashsale-bot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StorefrontError::unreachable(e.to_string()))?;
        Ok(HttpStorefront {
            client,
            base,
            timeout,
            signer: Arc::new(signer),
            capabilities: Capabilities {
                schedules_sales: false,
                caps_quantity: true,
            },
        })
    }

    /// Asks the shop what it can do (`GET /api/capabilities`). A shop without
    /// the endpoint (404) does what every shop does; one that cannot be asked
    /// is an error, so the caller decides whether to start without knowing.
    pub async fn discover(mut self) -> Result<HttpStorefront, StorefrontError> {
        let url = self
            .base
            .join("api/capabilities")
            .map_err(|e| StorefrontError::unreachable(format!("bad storefront URL: {e}")))?;
        let response = self.send(self.client.get(url)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(self);
        }
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let said: WireCapabilities = response
            .json()
            .await
            .map_err(|e| StorefrontError::Malformed(format!("GET /api/capabilities: {e}")))?;
        self.capabilities.schedules_sales = said.scheduled_sales;
        Ok(self)
    }

    /// This adapter as if the shop had said it schedules sales (or not).
    pub fn with_scheduled_sales(mut self, schedules: bool) -> HttpStorefront {
        self.capabilities.schedules_sales = schedules;
        self
    }

    fn sale_url(&self, session_id: i64) -> Result<Url, StorefrontError> {
        self.base
            .join(&format!("api/flash-sales/{session_id}"))
            .map_err(|e| StorefrontError::unreachable(format!("bad storefront URL: {e}")))
    }

    /// Sends a signed request: `webhook-id` is the idempotency key, the
    /// signature covers id, timestamp and the exact body bytes.
    async fn signed(
        &self,
        method: Method,
        url: Url,
        key: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, StorefrontError> {
        // Standard Webhooks: the sender's wall clock, which the receiver
        // compares with its own to refuse stale replays (`crate::clock`).
        let timestamp = SystemClock.now().timestamp();
        let signature = self
            .signer
            .sign(key, timestamp, &body)
            .map_err(|e| StorefrontError::Signing(e.to_string()))?;
        let request = self
            .client
            .request(method, url)
            .header("content-type", "application/json")
            .header("webhook-id", key)
            .header("idempotency-key", key)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        self.send(request).await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, StorefrontError> {
        let started = Instant::now();
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        tracing::debug!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "storefront answered"
        );
        Ok(response)
    }

    fn transport_error(&self, e: reqwest::Error) -> StorefrontError {
        if e.is_timeout() {
            StorefrontError::Timeout(self.timeout)
        } else {
            StorefrontError::unreachable(chain(&e))
        }
    }
}

/// The body of `PUT /api/flash-sales/{session_id}`: the sale in the
/// contract's words (`FlashSale`), and the write's revision. Built the same
/// from the same sale, so a retry sends the same bytes.
#[derive(serde::Serialize)]
struct PublishBody<'a> {
    session_id: i64,
    title: &'a str,
    starts_at: chrono::DateTime<chrono::Utc>,
    ends_at: chrono::DateTime<chrono::Utc>,
    currency: &'a str,
    items: Vec<WireItem<'a>>,
    revision: i64,
}

#[derive(serde::Serialize)]
struct WireItem<'a> {
    sku: &'a str,
    name: &'a str,
    discount_percent: u8,
    base_price_minor: i64,
    flash_price_minor: i64,
    quantity: u32,
}

impl<'a> PublishBody<'a> {
    fn new(sale: &'a SaleRequest, revision: i64) -> PublishBody<'a> {
        PublishBody {
            session_id: sale.session_id,
            title: &sale.title,
            starts_at: sale.window.starts_at(),
            ends_at: sale.window.ends_at(),
            currency: sale.currency().map_or("", Currency::code),
            items: sale
                .items
                .iter()
                .map(|i| WireItem {
                    sku: i.sku.as_str(),
                    name: &i.name,
                    discount_percent: i.discount.get(),
                    base_price_minor: i.base_price.minor(),
                    flash_price_minor: i.flash_price.minor(),
                    quantity: i.quantity.get(),
                })
                .collect(),
            revision,
        }
    }
}

/// `GET /api/capabilities`, optional in the contract: a shop that does not
/// answer it does what every shop does (publish at the start, cap the flash
/// quantity).
#[derive(serde::Deserialize)]
struct WireCapabilities {
    #[serde(default)]
    scheduled_sales: bool,
}

/// The body of a `DELETE`: which sale, and the write's revision.
#[derive(serde::Serialize)]
struct EndBody {
    session_id: i64,
    revision: i64,
}

/// A `409` that says a newer write was applied: `{"code": "stale_revision", "revision": N}`.
#[derive(serde::Deserialize)]
struct StaleRevision {
    code: String,
    revision: i64,
}

/// Turns a non-success answer into an error that keeps what the alert needs.
async fn status_error(response: reqwest::Response) -> StorefrontError {
    let status = response.status().as_u16();
    if status == 409 {
        // A conflict is retried unless it names the newer revision applied.
        let retry_after = retry_after(&response);
        let bytes = response.bytes().await.unwrap_or_default();
        if let Ok(stale) = serde_json::from_slice::<StaleRevision>(&bytes) {
            if stale.code == "stale_revision" {
                return StorefrontError::Superseded {
                    applied: stale.revision,
                };
            }
        }
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY_READ)]);
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        return StorefrontError::Status {
            status,
            retry_after,
            body: crate::domain::text::excerpt(&line, MAX_BODY_IN_ERRORS),
        };
    }
    let retry_after = retry_after(&response);
    let body = body_start(response).await;
    StorefrontError::Status {
        status,
        retry_after,
        body,
    }
}

/// The `Retry-After` asked for, in whole seconds, at most [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        // Whole seconds as HTTP says; Shopify also sends fractions ("2.0").
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(|secs| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
}

/// The start of an error body as one clean line: at most `MAX_BODY_READ`
/// bytes read, whitespace runs as one space, control characters shown as `?`.
pub(crate) async fn body_start(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < MAX_BODY_READ {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(MAX_BODY_READ);
    let text = String::from_utf8_lossy(&bytes);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::domain::text::excerpt(&line, MAX_BODY_IN_ERRORS)
}

/// Runs one storefront call, recording its latency and any failure. Every
/// shop adapter records its calls through this (`crate::medusa` too), so the
/// dashboards read one metric whichever shop is behind it.
pub(crate) async fn observed<T>(
    call: &'static str,
    request: impl std::future::Future<Output = Result<T, StorefrontError>>,
) -> Result<T, StorefrontError> {
    let started = Instant::now();
    let result = request.await;
    let failure = result.as_ref().err().map(error_kind);
    metrics::storefront_call(call, started.elapsed(), failure);
    result
}

/// The `kind` label of a failed call: few values, whatever the body said.
fn error_kind(e: &StorefrontError) -> &'static str {
    match e {
        StorefrontError::Timeout(_) => "timeout",
        StorefrontError::Unreachable(_) => "unreachable",
        StorefrontError::Status { status: 429, .. } => "throttled",
        StorefrontError::Status { status, .. } if *status >= 500 => "status_5xx",
        StorefrontError::Status { .. } => "status_4xx",
        StorefrontError::Malformed(_) => "malformed",
        StorefrontError::Refused(_) => "refused",
        StorefrontError::Signing(_) => "signing",
        StorefrontError::NotReadBack => "not_read_back",
        StorefrontError::Superseded { .. } => "superseded",
        StorefrontError::Unsupported(_) => "unsupported",
    }
}

#[async_trait]
impl Storefront for HttpStorefront {
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    async fn publish(&self, sale: &SaleRequest, write: &SaleWrite) -> Result<(), StorefrontError> {
        observed("publish", async {
            let body = PublishBody::new(sale, write.revision);
            let body =
                serde_json::to_vec(&body).map_err(|e| StorefrontError::Malformed(e.to_string()))?;
            let response = self
                .signed(
                    Method::PUT,
                    self.sale_url(sale.session_id)?,
                    &write.key,
                    body,
                )
                .await?;
            if !response.status().is_success() {
                return Err(status_error(response).await);
            }
            Ok(())
        })
        .await
    }

    async fn read_back(&self, session_id: i64) -> Result<Option<ShownSale>, StorefrontError> {
        observed("read_back", async {
            let response = self
                .send(self.client.get(self.sale_url(session_id)?))
                .await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !response.status().is_success() {
                return Err(status_error(response).await);
            }
            let sale: WireSale = response.json().await.map_err(|e| {
                if e.is_timeout() {
                    StorefrontError::Timeout(self.timeout)
                } else if e.is_decode() {
                    // serde's complaint about the body, without the URL.
                    StorefrontError::Malformed(e.without_url().to_string())
                } else {
                    // The body broke off: as good as not reached.
                    StorefrontError::unreachable(chain(&e))
                }
            })?;
            Ok(Some(shown_sale(sale)?))
        })
        .await
    }

    async fn end(&self, session_id: i64, write: &SaleWrite) -> Result<(), StorefrontError> {
        observed("end", async {
            let body = EndBody {
                session_id,
                revision: write.revision,
            };
            let body =
                serde_json::to_vec(&body).map_err(|e| StorefrontError::Malformed(e.to_string()))?;
            let response = self
                .signed(Method::DELETE, self.sale_url(session_id)?, &write.key, body)
                .await?;
            // Already gone is what we wanted.
            if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
                return Ok(());
            }
            Err(status_error(response).await)
        })
        .await
    }
}
/// The read-back as the contract spells it (`PublishedFlashSale`): the
/// fields the bot reads; the rest is for people comparing shop and bot.
#[derive(serde::Deserialize)]
struct WireSale {
    status: String,
    currency: String,
    items: Vec<WireLine>,
}

#[derive(serde::Deserialize)]
struct WireLine {
    sku: String,
    base_price_minor: i64,
    flash_price_minor: i64,
}

/// The contract's sale as shoppers see it: while `live` each line sells at
/// its flash price, otherwise at its base price.
fn shown_sale(sale: WireSale) -> Result<ShownSale, StorefrontError> {
    let phase = match sale.status.as_str() {
        "scheduled" => SalePhase::Scheduled,
        "live" => SalePhase::Live,
        "ended" => SalePhase::Ended,
        other => {
            return Err(StorefrontError::Malformed(format!(
                "the sale's status {other:?} is none of scheduled, live, ended"
            )))
        }
    };
    let currency = Currency::from_code(&sale.currency)
        .map_err(|e| StorefrontError::Malformed(format!("the sale's currency: {e}")))?;
    let applies = phase == SalePhase::Live;
    let lines = sale
        .items
        .into_iter()
        .map(|line| {
            let money = |minor| Money::from_minor(minor, currency.clone());
            ShownLine {
                sku: Sku::from_canonical(line.sku.trim()),
                shown: money(if applies {
                    line.flash_price_minor
                } else {
                    line.base_price_minor
                }),
                regular: money(line.base_price_minor),
                sale_applies: applies,
            }
        })
        .collect();
    Ok(ShownSale { phase, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(status: &str) -> WireSale {
        serde_json::from_value(serde_json::json!({
            "status": status,
            "currency": "IDR",
            "items": [{"sku": "FS-001", "base_price_minor": 149_500, "flash_price_minor": 104_650}]
        }))
        .expect("the contract's shape")
    }

    #[test]
    fn a_live_sale_shows_its_flash_prices_with_the_regular_struck_through() {
        let sale = shown_sale(wire("live")).expect("a known status");
        assert_eq!(sale.phase, SalePhase::Live);
        let line = &sale.lines[0];
        assert_eq!(line.sku.as_str(), "FS-001");
        assert_eq!(
            (line.shown.minor(), line.regular.minor()),
            (104_650, 149_500)
        );
        assert!(line.sale_applies);
    }

    #[test]
    fn a_scheduled_or_ended_sale_shows_the_regular_price() {
        for (status, phase) in [
            ("scheduled", SalePhase::Scheduled),
            ("ended", SalePhase::Ended),
        ] {
            let sale = shown_sale(wire(status)).expect("a known status");
            assert_eq!(sale.phase, phase);
            assert_eq!(sale.lines[0].shown.minor(), 149_500);
            assert!(!sale.lines[0].sale_applies);
        }
    }

    #[test]
    fn a_status_outside_the_contract_is_malformed_not_guessed() {
        let refused = shown_sale(wire("paused")).expect_err("not in the contract");
        assert!(
            matches!(&refused, StorefrontError::Malformed(why) if why.contains("paused")),
            "{refused:?}"
        );
    }
}
