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

    #[test]
    fn a_failed_call_is_told_to_the_catalog_without_its_details() {
        let told = CatalogError::from(ShopCallError::Unreachable("tcp 10.0.0.7:9000".into()));
        assert!(!told.to_string().contains("10.0.0.7"), "{told}");
        let told = StorefrontError::from(ShopCallError::Refused("Shopify refused".into()));
        assert!(matches!(told, StorefrontError::Refused(_)), "{told:?}");
    }
}
