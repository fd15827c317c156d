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
pub(crate) mod shop_call;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

/// Shop adapters outside this module (`crate::medusa`) record their calls the same way.
/// What every HTTP adapter of a shop shares: call metrics, and reading an
/// error answer the same way (its `Retry-After`, the start of its body).
pub(crate) use http::observed;
pub use http::HttpStorefront;
pub(crate) use shop_call::ShopCallError;

use crate::domain::sale::ShownSale;
use crate::domain::{DiscountPercent, Money, Quantity, Sku, Window};
use crate::reference::Withheld;

/// A sale as the bot asks a shop to run it: the session's window and its
/// lines, in domain types. Each adapter turns it into its own wire format
/// (the webhook contract's JSON body, a Medusa price list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRequest {
    pub session_id: i64,
    pub title: String,
    pub window: Window,
    pub items: Vec<SaleItem>,
}

/// One line of a sale. `flash_price` is computed by [`SaleRequest::new`] from
/// the discount with the currency's rounding, so the prices a shop gets are
/// the ones the rules computed; the field is public for the tests that send a
/// shop a price that does not follow, to see it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleItem {
    pub sku: Sku,
    pub name: String,
    pub discount: DiscountPercent,
    pub base_price: Money,
    pub flash_price: Money,
    pub quantity: Quantity,
}

/// One item as the session holds it, borrowed, to build a [`SaleRequest`] from.
#[derive(Debug, Clone, Copy)]
pub struct SaleLine<'a> {
    pub sku: &'a Sku,
    pub name: &'a str,
    pub discount: DiscountPercent,
    pub base_price: &'a Money,
    pub quantity: Quantity,
}

impl SaleRequest {
    /// The sale for a session's window and items.
    pub fn new(
        session_id: i64,
        title: &str,
        window: &Window,
        lines: &[SaleLine<'_>],
    ) -> SaleRequest {
        SaleRequest {
            session_id,
            title: title.to_owned(),
            window: *window,
            items: lines
                .iter()
                .map(|l| SaleItem {
                    sku: l.sku.clone(),
                    name: l.name.to_owned(),
                    discount: l.discount,
                    base_price: l.base_price.clone(),
                    flash_price: l.base_price.discounted(l.discount),
                    quantity: l.quantity,
                })
                .collect(),
        }
    }

    /// The sale's currency: its items' (one per sale), none without items.
    pub fn currency(&self) -> Option<&crate::domain::Currency> {
        self.items.first().map(|i| i.base_price.currency())
    }
}

/// What a shop can do by itself: one type with the policy's, which decides
/// the jobs a sale needs.
pub use crate::domain::ShopCapabilities as Capabilities;

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
    /// The shop understood the request and said no (Shopify's
    /// `userErrors`): its own words, naming the change and the field. The
    /// same request will be refused again, so it is final.
    #[error("{0}")]
    Refused(String),
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
    /// The shop cannot do this at all (a capability it does not have).
    #[error("the shop cannot do this: {0}")]
    Unsupported(&'static str),
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
            | StorefrontError::Refused(_)
            | StorefrontError::Signing(_)
            | StorefrontError::Superseded { .. }
            | StorefrontError::Unsupported(_) => false,
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
    /// What this shop does by itself (fixed for the adapter's life).
    fn capabilities(&self) -> Capabilities;
    /// Publishes (or re-publishes) the sale, unless the storefront applied a
    /// newer write already ([`StorefrontError::Superseded`]). On a shop that
    /// schedules sales this stages a sale ahead of its start as well.
    async fn publish(&self, sale: &SaleRequest, write: &SaleWrite) -> Result<(), StorefrontError>;
    /// The sale as shoppers see it, or `None` if the shop does not know it.
    async fn read_back(&self, session_id: i64) -> Result<Option<ShownSale>, StorefrontError>;
    /// Ends the sale now (or withdraws a staged one). Ending an unknown or
    /// ended sale is not an error; a storefront that applied a newer write
    /// answers [`StorefrontError::Superseded`].
    async fn end(&self, session_id: i64, write: &SaleWrite) -> Result<(), StorefrontError>;
    /// Units of each line sold since the sale started, where the shop does
    /// not cap the flash quantity itself.
    async fn units_sold(&self, sale: &SaleRequest) -> Result<HashMap<Sku, u32>, StorefrontError> {
        let _ = sale;
        Err(StorefrontError::Unsupported(
            "counting the units a sale sold",
        ))
    }
    /// Takes one line's flash price off (its flash quantity sold out), the
    /// rest of the sale staying up.
    async fn end_line(
        &self,
        sale: &SaleRequest,
        sku: &Sku,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        let _ = (sale, sku, write);
        Err(StorefrontError::Unsupported("ending one line of a sale"))
    }
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
        assert!(!StorefrontError::Refused("x".into()).is_transient());
    }
}
