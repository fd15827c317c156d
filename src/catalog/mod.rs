//! The catalog: live product facts from the marketplace.
//!
//! For every SKU a marketer puts into a flash sale we need what the marketplace knows about it *now*:
//! the product name, its base price (from which the flash price is computed), the stock on hand (a
//! flash-sale quantity cannot exceed it) and whether the product is active (inactive products cannot
//! go on sale). The catalog owns these facts; we only read them.
//!
//! The catalog sits behind the [`Catalog`] trait so that `app` depends on what it needs (facts for
//! some SKUs, autocomplete) and not on how they are fetched. That keeps the use cases testable and lets
//! the HTTP client ([`HttpCatalog`]) be wrapped by a short-lived cache ([`CachedCatalog`]) without
//! either of them knowing about the other.
//!
//! # What an implementation must return
//!
//! - SKUs the catalog does not know are *absent* from the answer of [`Catalog::products`]; that is
//!   not an error (the caller turns it into "unknown SKU" for the marketer).
//! - An inactive product is returned, with `active: false`; deciding what that means is the caller's
//!   business.
//! - When the catalog cannot give a trustworthy answer, an implementation returns a
//!   [`CatalogError`], never a partial answer: [`CatalogError::Timeout`] when it did not answer in
//!   time, [`CatalogError::Status`] when it answered with an HTTP error, [`CatalogError::Unreachable`]
//!   when it could not be reached at all, and [`CatalogError::Malformed`] when its answer does not
//!   follow the contract (including prices in a currency other than the one we are configured for).
//!   The last two carry what went wrong as a [`Withheld`] detail: logged with a reference when the
//!   error is made, and shown to people only as that reference, since it names hosts and URLs.
//!
//! Layout:
//! - `http`: [`HttpCatalog`], the client of the storefront's `/api/products` endpoints.
//! - `cache`: [`CachedCatalog`], a decorator that remembers answers for a short time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{Money, Sku};
use crate::reference::Withheld;

mod cache;
mod http;

pub use cache::CachedCatalog;
pub use http::HttpCatalog;

/// What the catalog knows about one product right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The SKU as the catalog spells it (canonical form), the key of everything else.
    pub sku: Sku,
    /// The product name, shown on cards so approvers see what they approve.
    pub name: String,
    /// The base price; the flash price is derived from it.
    pub price: Money,
    /// Units on hand; a flash-sale quantity may not exceed it.
    pub stock: i64,
    /// Whether the product is on sale at all; inactive products cannot join a flash sale.
    pub active: bool,
    /// What the shop says of the price beyond itself, for the money guards.
    pub pricing: Pricing,
}

/// What a shop may say about an SKU's price besides the price, each optional
/// (the contract's `unit_cost_minor`, `min_advertised_price_minor`,
/// `lowest_price_30d_minor`); the money guards fall back on the bot's own
/// price history where the shop says nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pricing {
    pub unit_cost: Option<Money>,
    pub min_advertised: Option<Money>,
    /// The lowest price the shop applied in the 30 days before today.
    pub lowest_30d: Option<Money>,
    /// The price's last change, where the shop says: a raise just before a
    /// sale is flagged even when the bot never saw the older price.
    pub last_change: Option<PriceChange>,
}

/// The price an SKU had before its current one, and when that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub from: Money,
    pub at: DateTime<Utc>,
}

/// How fresh an answer the caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// A recent cached answer is fine (editing, autocomplete).
    AllowCached,
    /// Ask the catalog now (approval re-validates what goes live).
    Live,
}

/// Why the catalog could not answer.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalog did not answer within the configured timeout.
    #[error("the catalog did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The catalog answered with a non-success HTTP status.
    #[error("the catalog answered HTTP {status}")]
    Status {
        /// The HTTP status code it answered with.
        status: u16,
    },
    /// The catalog could not be reached (connection refused, DNS, TLS, ...).
    /// The HTTP client's words name hosts and URLs: logged, not shown.
    #[error("the catalog could not be reached, {0}")]
    Unreachable(Withheld),
    /// The catalog answered, but not with what the contract promises; what
    /// it sent is logged, not shown.
    #[error("the catalog sent an answer we could not read, {0}")]
    Malformed(Withheld),
}

/// The port to the marketplace's product catalog.
#[async_trait::async_trait]
pub trait Catalog: Send + Sync {
    /// Products for these SKUs; SKUs the catalog does not know are simply absent from the map.
    async fn products(
        &self,
        skus: &[Sku],
        freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, CatalogError>;

    /// Up to `limit` products matching `query` (SKU or name), for autocomplete.
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError>;
}

/// A shared catalog is a catalog, so `app` can hold an `Arc<dyn Catalog>` and a cache can wrap one.
#[async_trait::async_trait]
impl<T: Catalog + ?Sized> Catalog for Arc<T> {
    async fn products(
        &self,
        skus: &[Sku],
        freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, CatalogError> {
        (**self).products(skus, freshness).await
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
        (**self).search(query, limit).await
    }
}
