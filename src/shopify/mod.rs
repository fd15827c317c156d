//! The Shopify adapter: one client, [`ShopifyShop`], that is both the bot's
//! [`Catalog`](crate::catalog::Catalog) and its
//! [`Storefront`](crate::storefront::Storefront) when the shop is a Shopify
//! store (docs/shops.md, "Connecting a Shopify store"), through the Admin
//! GraphQL API at the pinned version [`API_VERSION`].
//!
//! # Two ways to run a sale ([`ShopifyMode`], one per deployment)
//!
//! - **discount**: each sale is one *automatic discount*
//!   (`discountAutomaticBasicCreate`) per distinct percentage among its
//!   lines, with the session's window as `startsAt`/`endsAt` and the lines'
//!   variants as its items. Shopify switches it on and off by its own clock,
//!   so the bot stages the sale at approval
//!   ([`Capabilities::schedules_sales`](crate::storefront::Capabilities)).
//!   One discount per percentage, not per line: Shopify allows at most 25
//!   active automatic discounts per shop, and a six-line sale at one
//!   percentage then takes one of them, not six; a line sold out is taken
//!   out of its discount's items. Shoppers see the reduction in the cart
//!   and at checkout (with the discount's title); product pages show the
//!   regular price unless the theme shows automatic discounts.
//! - **price**: the variants' own prices are changed
//!   (`productVariantsBulkUpdate`, one product per call): `price` to the
//!   flash price and `compareAtPrice` to the price before, so every theme
//!   shows the struck-through price on product pages; at the end both are
//!   put back. Shopify cannot schedule that, so the bot publishes at the
//!   start and ends at the end (it must be up at both ends). The prices
//!   before are stored in the sale's record (below) *before* they are
//!   overwritten, so a crash at any point can always put them back.
//!
//! # The sale's record: how a sale is found again, revisions, originals
//!
//! Shopify's `@idempotent` directive does not cover discounts or variant
//! updates, so every write first looks the sale up. Each session's sale
//! has one record, a JSON metafield on the shop (namespace
//! [`RECORD_NAMESPACE`], key `sale-<prefix>-<session id>`): the last
//! revision applied, the state, the lines (SKU, variant, product, the
//! percentage, the flash price, the prices before the sale) and the ids of
//! its discounts. It is read with one query by its key and written with
//! `metafieldsSet`, which replaces it whole. The adapter has no database of
//! its own, and the record lives next to what it describes: a second bot
//! process, or the same bot after a crash, reads the same truth.
//!
//! The revision is written first, before any discount or price: a write
//! that fails half-way can only be finished by its own retry (equal
//! revision) or overtaken by a newer one, never undone by an older one
//! (`StorefrontError::Superseded`). A discount created whose answer was
//! lost (so its id never reached the record) is found again on the retry
//! by its title, which carries the key (`#<prefix>-<session id>`).
//!
//! # What is read back
//!
//! Shopify's own view after each write: the discounts' status (Shopify's
//! clock: `SCHEDULED`, `ACTIVE`, `EXPIRED`) and items, or the variants'
//! prices. See `sale`.
//!
//! # Shopify's rules
//!
//! `client` sends every call with `X-Shopify-Access-Token` to
//! `/admin/api/<API_VERSION>/graphql.json`, turns `userErrors` into a clear
//! refusal, and keeps within the cost-based rate limit (it waits before a
//! call the bucket cannot pay for, and backs off on `THROTTLED`).
//!
//! Layout:
//! - `schema`: the typed queries and mutations (cynic, against the
//!   committed subset `schema/admin_2025-01.graphql`).
//! - `client`: HTTP, the token, the rate limit, errors classified once.
//! - `decimal`: Shopify's decimal amounts to minor units and back, exactly.
//! - `record`: the sale's record (the metafield).
//! - `catalog`: the `Catalog` port (`productVariants` by SKU).
//! - `sale`: the `Storefront` port in both modes.
//! - `orders`: units sold, from the orders in the window.

mod catalog;
mod client;
mod decimal;
mod orders;
mod record;
mod sale;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;
use tokio::sync::OnceCell;

use crate::domain::Currency;
use crate::storefront::StorefrontError;

use client::{Api, CallError};
pub use decimal::{decimal_text, parse_decimal};

/// The Admin API version every call is made with: the one the typed
/// queries are checked against (`schema/admin_2025-01.graphql`). A newer
/// one is a code change (scripts/shopify_schema_subset.py says how), not a
/// setting: a field Shopify renamed must fail the build, not a sale.
pub const API_VERSION: &str = "2025-01";

/// The namespace of the sales' records on the shop.
pub const RECORD_NAMESPACE: &str = "flashsale_bot";

/// The longest key prefix: the record's key `sale-<prefix>-<session id>`
/// must stay within Shopify's 64 characters for a metafield key.
pub const MAX_KEY_PREFIX_LEN: usize = 30;

/// How a sale is put on the shop (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopifyMode {
    /// Automatic discounts Shopify schedules itself.
    Discount,
    /// The variants' prices, changed at the start and put back at the end.
    Price,
}

impl ShopifyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ShopifyMode::Discount => "discount",
            ShopifyMode::Price => "price",
        }
    }
}

/// How to reach one Shopify store.
#[derive(Debug, Clone)]
pub struct ShopifySettings {
    /// The store's admin URL, `https://<store>.myshopify.com` (plain http
    /// only for a loopback test server).
    pub shop_url: Url,
    /// The custom app's Admin API access token (`shpat_...`).
    pub access_token: SecretString,
    pub mode: ShopifyMode,
    /// Keeps this bot's sales apart from another's on the same store.
    pub key_prefix: String,
    /// How long one call may take.
    pub timeout: Duration,
}

/// Whether `prefix` can be a key prefix: 1-30 ASCII letters, digits, `_`
/// or `-` (what a metafield key allows).
pub fn valid_key_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= MAX_KEY_PREFIX_LEN
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// What the adapter asks the shop once: its id (the records' owner) and
/// its currency, which must be the bot's.
#[derive(Debug, Clone)]
struct ShopFacts {
    id: cynic::Id,
}

/// The Shopify store as the bot's catalog and storefront. Cheap to clone.
#[derive(Clone)]
pub struct ShopifyShop {
    api: Api,
    mode: ShopifyMode,
    key_prefix: String,
    currency: Currency,
    shop: Arc<OnceCell<ShopFacts>>,
}

impl std::fmt::Debug for ShopifyShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyShop")
            .field("mode", &self.mode)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl ShopifyShop {
    /// A client for the store `settings` name, whose prices are in
    /// `currency`. Nothing is sent yet.
    pub fn new(
        settings: ShopifySettings,
        currency: Currency,
    ) -> Result<ShopifyShop, StorefrontError> {
        if !valid_key_prefix(&settings.key_prefix) {
            return Err(StorefrontError::Malformed(format!(
                "the Shopify key prefix {:?} is not 1-{MAX_KEY_PREFIX_LEN} letters, digits, '_' or '-'",
                settings.key_prefix
            )));
        }
        let api = Api::new(&settings.shop_url, settings.access_token, settings.timeout)?;
        Ok(ShopifyShop {
            api,
            mode: settings.mode,
            key_prefix: settings.key_prefix,
            currency,
            shop: Arc::new(OnceCell::new()),
        })
    }

    pub fn mode(&self) -> ShopifyMode {
        self.mode
    }

    /// The sale's key, `<prefix>-<session id>`: in the record's key and the
    /// discounts' titles.
    fn key(&self, session_id: i64) -> String {
        format!("{}-{session_id}", self.key_prefix)
    }

    /// The shop's id, its currency checked to be the bot's (asked once: a
    /// store's currency does not change under a running bot).
    async fn shop(&self) -> Result<&ShopFacts, CallError> {
        self.shop
            .get_or_try_init(|| async {
                let shop = self.read_shop(None).await?;
                if !shop
                    .currency_code
                    .eq_ignore_ascii_case(self.currency.code())
                {
                    return Err(CallError::Malformed(format!(
                        "the Shopify store's currency is {}, the bot's is {}",
                        shop.currency_code,
                        self.currency.code()
                    )));
                }
                Ok(ShopFacts { id: shop.id })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_prefix_fits_a_metafield_key() {
        for good in ["flashsale", "T3FA09C1B", "shop-1_a"] {
            assert!(valid_key_prefix(good), "{good}");
        }
        let long = "x".repeat(MAX_KEY_PREFIX_LEN + 1);
        for bad in ["", "has space", "a.b", "a:b", "ü", long.as_str()] {
            assert!(!valid_key_prefix(bad), "{bad}");
        }
        // The longest prefix and session id still make a key Shopify takes.
        let key = format!("sale-{}-{}", "x".repeat(MAX_KEY_PREFIX_LEN), i64::MAX);
        assert!(key.len() <= 64, "{}", key.len());
    }
}
