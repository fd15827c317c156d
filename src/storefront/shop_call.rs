//! How one call to a shop's own API failed (the Medusa and Shopify adapters),
//! classified once, and how each port tells it: the storefront port keeps
//! what a retry or an alert needs, the catalog port keeps the details out of
//! what people see (`Withheld`, under a reference in the log). Which shop it
//! was is in the log line's target (`flashsale_bot::medusa::...`).

use std::time::Duration;

use crate::catalog::CatalogError;
use crate::reference::Withheld;

use super::StorefrontError;

/// Why a call to a shop's API failed, before it is told as one port's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShopCallError {
    #[error("the shop did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The HTTP client's words (hosts, URLs): only ever logged.
    #[error("the shop could not be reached")]
    Unreachable(String),
    #[error("the shop answered HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    /// The shop answered, not with what we expected; the text names the call
    /// and the field, never the host or a key.
    #[error("the shop's answer was not what we expected: {0}")]
    Malformed(String),
    /// The shop refused what a change asked, in its own words (Shopify's
    /// `userErrors`): final, retrying asks the same.
    #[error("{0}")]
    Refused(String),
}

impl ShopCallError {
    /// A call that got no answer: past `timeout`, or the shop could not be
    /// talked to (refused, DNS, TLS, reset mid-body).
    pub(crate) fn transport(e: &reqwest::Error, timeout: Duration) -> ShopCallError {
        if e.is_timeout() {
            ShopCallError::Timeout(timeout)
        } else {
            ShopCallError::Unreachable(crate::reference::chain(e))
        }
    }

    /// A non-success answer, keeping what an alert needs: the status, a
    /// `Retry-After`, and `said` (what the shop meant, for a status that
    /// means one thing) or else the start of its body as one clean line.
    pub(crate) async fn status(response: reqwest::Response, said: Option<&str>) -> ShopCallError {
        let status = response.status().as_u16();
        let retry_after = super::http::retry_after(&response);
        let body = match said {
            Some(said) => said.to_owned(),
            None => super::http::body_start(response).await,
        };
        ShopCallError::Status {
            status,
            retry_after,
            body,
        }
    }
}

/// The shop's clock when it answered (its `Date` header: whole seconds, at
/// most a second behind). Sales switch by the shop's clock, not ours.
pub(crate) fn server_date(response: &reqwest::Response) -> Option<chrono::DateTime<chrono::Utc>> {
    response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
}

impl From<ShopCallError> for StorefrontError {
    fn from(e: ShopCallError) -> StorefrontError {
        match e {
            ShopCallError::Timeout(after) => StorefrontError::Timeout(after),
            ShopCallError::Unreachable(detail) => StorefrontError::unreachable(detail),
            ShopCallError::Status {
                status,
                retry_after,
                body,
            } => StorefrontError::Status {
                status,
                retry_after,
                body,
            },
            ShopCallError::Malformed(why) => StorefrontError::Malformed(why),
            ShopCallError::Refused(why) => StorefrontError::Refused(why),
        }
    }
}

impl From<ShopCallError> for CatalogError {
    fn from(e: ShopCallError) -> CatalogError {
        match e {
            ShopCallError::Timeout(after) => CatalogError::Timeout(after),
            ShopCallError::Unreachable(detail) => {
                CatalogError::Unreachable(Withheld::new("the catalog could not be reached", detail))
            }
            ShopCallError::Status { status, .. } => CatalogError::Status { status },
            ShopCallError::Malformed(why) | ShopCallError::Refused(why) => CatalogError::Malformed(
                Withheld::new("the catalog sent an answer we could not read", why),
            ),
        }
    }
}

/// One catalog call of a shop adapter (`what`: "catalog lookup", "catalog
/// search"), timed and logged alike for every shop; `found` counts what it
/// brought back for the log.
pub(crate) async fn catalog_call<T>(
    shop: &'static str,
    what: &'static str,
    call: impl std::future::Future<Output = Result<T, ShopCallError>>,
    found: impl FnOnce(&T) -> usize,
) -> Result<T, CatalogError> {
    let started = std::time::Instant::now();
    let result = call.await;
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(value) => {
            tracing::debug!(shop, found = found(&value), latency_ms, "{what}");
            Ok(value)
        }
        Err(error) => {
            tracing::warn!(shop, latency_ms, %error, "{what} failed");
            Err(error.into())
        }
    }
}

/// What shoppers call a variant: the product's title, and the variant's in
/// brackets when it says more (not empty, not the shop's name for "the only
/// variant", not already in the title).
pub(crate) fn variant_name(product: &str, variant: Option<&str>, only_variant: &str) -> String {
    let product = product.trim();
    match variant.map(str::trim) {
        Some(v) if !v.is_empty() && v != only_variant && !product.contains(v) => {
            format!("{product} ({v})")
        }
        _ => product.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_is_named_by_its_product_and_a_title_that_says_more() {
        let name = |product, variant| variant_name(product, variant, "Default Title");
        assert_eq!(name("Kopi Gayo", Some("Default Title")), "Kopi Gayo");
        assert_eq!(name("Kopi Gayo", None), "Kopi Gayo");
        assert_eq!(name("Kopi Gayo", Some("  ")), "Kopi Gayo");
        assert_eq!(name("Kopi Gayo 250 g", Some("250 g")), "Kopi Gayo 250 g");
        assert_eq!(
            name(" Kaos Polos ", Some("XL / Hitam")),
            "Kaos Polos (XL / Hitam)"
        );
    }

    fn answer(status: u16, retry_after: &str, body: &str) -> reqwest::Response {
        let response = axum::http::Response::builder()
            .status(status)
            .header("retry-after", retry_after)
            .body(body.to_owned())
            .expect("a response");
        reqwest::Response::from(response)
    }

    #[tokio::test]
    async fn a_refusal_keeps_its_status_a_fractional_retry_after_and_one_clean_line() {
        let said = ShopCallError::status(answer(429, "2.5", "slow\n   down"), None).await;
        assert_eq!(
            said,
            ShopCallError::Status {
                status: 429,
                retry_after: Some(Duration::from_millis(2500)),
                body: "slow down".to_owned(),
            }
        );
        let meant =
            ShopCallError::status(answer(401, "x", "{}"), Some("the token was refused")).await;
        assert!(
            matches!(&meant, ShopCallError::Status { status: 401, retry_after: None, body } if body == "the token was refused"),
            "{meant:?}"
        );
    }

    #[test]
    fn a_failed_call_is_told_to_the_catalog_without_its_details() {
        let told = CatalogError::from(ShopCallError::Unreachable("tcp 10.0.0.7:9000".into()));
        assert!(!told.to_string().contains("10.0.0.7"), "{told}");
        let told = StorefrontError::from(ShopCallError::Refused("Shopify refused".into()));
        assert!(matches!(told, StorefrontError::Refused(_)), "{told:?}");
    }
}
