//! The storefront's flash-sale API: publish a sale, read it back, end it. The contract a shop
//! implements, with every body and status, is docs/storefront-api.yaml.
//!
//! The scheduler calls it at go-live and at the end. Every call is signed the
//! Standard Webhooks way and carries the job's idempotency key as
//! `webhook-id`, so a retry after a timeout cannot publish twice; the body is
//! built from the locked (approved) session, so a retry sends the same bytes.
//!
//! Implementations must report what is worth retrying: timeouts, connection
//! failures, 5xx, 408, 409 and 429 (with its `Retry-After`) are transient;
//! any other 4xx means the request itself is wrong and retrying cannot help.
//! Errors are shown to approvers as they are: what names hosts or URLs goes
//! into a [`Withheld`] detail (`StorefrontError::unreachable`), logged with the
//! reference people see.

mod http;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use http::HttpStorefront;

use crate::domain::sale::ShownSale;
use crate::domain::{DiscountPercent, Money, Quantity, Sku, Window};
use crate::reference::Withheld;

/// The body of `PUT /api/flash-sales/{session_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleRequest {
    pub session_id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub currency: String,
    pub items: Vec<SaleItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleItem {
    pub sku: String,
    pub name: String,
    pub discount_percent: u8,
    pub base_price_minor: i64,
    pub flash_price_minor: i64,
    pub quantity: u32,
}

/// One item as the domain holds it; the wire form (`SaleItem`) is made from it here, so the
/// prices the storefront gets are the ones the rules computed.
#[derive(Debug, Clone, Copy)]
pub struct SaleLine<'a> {
    pub sku: &'a Sku,
    pub name: &'a str,
    pub discount: DiscountPercent,
    pub base_price: &'a Money,
    pub quantity: Quantity,
}

impl SaleRequest {
    /// The body for a session's window and items; the currency is the items' own.
    pub fn new(
        session_id: i64,
        title: &str,
        window: &Window,
        lines: &[SaleLine<'_>],
    ) -> SaleRequest {
        SaleRequest {
            session_id,
            title: title.to_owned(),
            starts_at: window.starts_at(),
            ends_at: window.ends_at(),
            currency: lines
                .first()
                .map(|l| l.base_price.currency().code().to_owned())
                .unwrap_or_default(),
            items: lines
                .iter()
                .map(|l| SaleItem {
                    sku: l.sku.to_string(),
                    name: l.name.to_owned(),
                    discount_percent: l.discount.get(),
                    base_price_minor: l.base_price.minor(),
                    flash_price_minor: l.base_price.discounted(l.discount).minor(),
                    quantity: l.quantity.get(),
                })
                .collect(),
        }
    }
}

/// One write to a sale: the idempotency key its retries repeat, and its
/// revision. Revisions only grow per sale: each new decision (a publish, an
/// end, a repair, a re-stop) gets a new one, a retry of the same decision
/// keeps its own, and the storefront applies a write only when its revision
/// is newer than the last it applied (docs/storefront-api.yaml, "Revisions"),
/// so no late or retried old write can undo a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleWrite {
    pub key: String,
    pub revision: i64,
}

/// The longest `Retry-After` honoured. A take-down waits in a task for what
/// the storefront asks; a server that asks for a day (or is not the
/// storefront) must not hold a sale open that long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorefrontError {
    #[error("the storefront did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The HTTP client's words name hosts and URLs: logged, not shown.
    #[error("the storefront could not be reached, {0}")]
    Unreachable(Withheld),
    #[error("the storefront answered HTTP {status}{}", if .body.is_empty() { String::new() } else { format!(": {}", .body) })]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        /// The start of the answer, for the alert: one clean line of at
        /// most 120 characters.
        body: String,
    },
    #[error("the storefront's answer was not what we expected: {0}")]
    Malformed(String),
    #[error("the request could not be signed: {0}")]
    Signing(String),
    /// The storefront accepted the sale but does not show it when asked.
    #[error("the storefront accepted the sale but does not show it yet")]
    NotReadBack,
    /// The storefront has applied a newer write to this sale than this one
    /// (`applied` is its revision): this write decided from an older state
    /// and must not be retried; its writer decides again.
    #[error("the storefront already applied a newer change to this sale (revision {applied})")]
    Superseded { applied: i64 },
}

impl StorefrontError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            StorefrontError::Timeout(_)
            | StorefrontError::Unreachable(_)
            | StorefrontError::NotReadBack => true,
            StorefrontError::Status { status, .. } => {
                *status >= 500 || matches!(status, 408 | 409 | 429)
            }
            StorefrontError::Malformed(_)
            | StorefrontError::Signing(_)
            | StorefrontError::Superseded { .. } => false,
        }
    }

    /// The storefront took an end but still shows the sale when read back.
    pub fn still_shown_after_end() -> StorefrontError {
        StorefrontError::Malformed("the storefront still shows the sale after ending it".to_owned())
    }

    /// The storefront could not be reached: `detail` (hosts, URLs, the HTTP
    /// client's words) is logged and people see a reference.
    pub fn unreachable(detail: impl Into<String>) -> StorefrontError {
        StorefrontError::Unreachable(Withheld::new("the storefront could not be reached", detail))
    }

    /// How long the storefront asked us to wait (429/503 `Retry-After`), at
    /// most [`MAX_RETRY_AFTER`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StorefrontError::Status { retry_after, .. } => {
                retry_after.map(|wait| wait.min(MAX_RETRY_AFTER))
            }
            _ => None,
        }
    }
}

#[async_trait]
pub trait Storefront: Send + Sync {
    /// Publishes (or re-publishes) the sale, unless the storefront applied a
    /// newer write already ([`StorefrontError::Superseded`]).
    async fn publish(&self, sale: &SaleRequest, write: &SaleWrite) -> Result<(), StorefrontError>;
    /// The sale as shoppers see it, or `None` if the shop does not know it.
    async fn read_back(&self, session_id: i64) -> Result<Option<ShownSale>, StorefrontError>;
    /// Ends the sale now. Ending an unknown or ended sale is not an error; a
    /// storefront that applied a newer write answers
    /// [`StorefrontError::Superseded`].
    async fn end(&self, session_id: i64, write: &SaleWrite) -> Result<(), StorefrontError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> StorefrontError {
        StorefrontError::Status {
            status,
            retry_after: None,
            body: String::new(),
        }
    }

    #[test]
    fn server_errors_and_throttling_are_transient_other_client_errors_are_not() {
        for transient in [500, 502, 503, 408, 409, 429] {
            assert!(status(transient).is_transient(), "{transient}");
        }
        for hard in [400, 401, 403, 404, 422] {
            assert!(!status(hard).is_transient(), "{hard}");
        }
        assert!(StorefrontError::Timeout(Duration::from_secs(1)).is_transient());
        assert!(!StorefrontError::Malformed("x".into()).is_transient());
    }
}
