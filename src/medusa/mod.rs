//! The Medusa v2 adapter: one client, [`MedusaShop`], that is both the bot's
//! [`Catalog`](crate::catalog::Catalog) and its
//! [`Storefront`](crate::storefront::Storefront) when the shop is a Medusa
//! store (docs/shops.md, "Connecting a Medusa store").
//!
//! # A sale is a price list
//!
//! Each session's sale is one Medusa price list of type `sale`, status
//! `active`, whose `starts_at`/`ends_at` are the session's window and whose
//! prices are each line's flash price for its variant, in the region's
//! currency. Medusa switches it on and off by its own clock (Postgres
//! `now()`, no job), so the bot stages a sale when it is approved
//! ([`Capabilities::schedules_sales`](crate::storefront::Capabilities)) and
//! the sale starts on time even if the bot is down then.
//!
//! # Finding a session's list again: the key
//!
//! Medusa has no idempotency keys, so every write first finds the session's
//! list and updates it in place; only when there is none is one created. A
//! list is the session's when its `metadata.flashsale_key` is
//! `<key prefix>:<session id>`; the key also stands in its description and
//! (as `[<prefix>] #<session id>`) its title, because the admin API can
//! search those (`q`) but not metadata. The key prefix keeps two bots (or
//! two tests) on one Medusa apart: session 1 of one is not session 1 of the
//! other. Finding and then writing is not atomic: the bot's one writer per
//! session (`scheduler::writer`) is what keeps two writes of one sale from
//! racing. Should two lists with one key exist anyway (a create that timed
//! out here but landed after its retry looked), the newest revision is kept
//! and the others are deleted.
//!
//! # Revisions
//!
//! `metadata.flashsale_revision` is the revision of the last write applied;
//! it only grows. A write with a lower revision changes nothing and answers
//! `Superseded`; an equal one is a retry and is applied again (harmless:
//! every write sets a whole state). The revision is written first, before
//! the prices, so that a write that fails half-way can only be finished by
//! its own retry or overtaken by a newer one, never undone by an older one.
//!
//! # Ending
//!
//! A sale that has started (by Medusa's clock, its `Date` header) is ended
//! by moving `ends_at` to that instant: the list keeps an honest record of
//! when the sale really ran. A staged sale not started yet is withdrawn by
//! setting its status to `draft`, which Medusa never applies: moving its end
//! before its start would leave a window that ends before it begins, and
//! the planned window stays readable for people in Medusa's admin. A later
//! publish with a higher revision sets it `active` with its window again.
//!
//! # Flash quantity
//!
//! Medusa has no per-sale cap, so the bot watches: [`MedusaShop`]'s
//! `units_sold` counts the units of each line's variant in orders Medusa
//! created inside the sale's window (canceled and draft orders left out),
//! and `end_line` takes one variant's price off the list. See `orders` for
//! exactly what is counted and how late it can be.
//!
//! Layout:
//! - `client`: HTTP, authentication, failures classified once.
//! - `amount`: Medusa's major-unit amounts to minor units and back, exactly.
//! - `catalog`: the `Catalog` port (admin product variants).
//! - `sale`: the `Storefront` port (price lists, the Store API's prices).
//! - `orders`: units sold, from the admin orders API.

mod amount;
mod catalog;
mod client;
mod orders;
mod sale;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;
use tokio::sync::OnceCell;

use crate::domain::Currency;
use crate::storefront::StorefrontError;

pub use amount::{from_medusa, to_medusa, AmountError};
use client::{Api, CallError};

/// A time as Medusa stores and filters them: RFC 3339, milliseconds, UTC.
fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The longest key prefix: it goes into titles and metadata of every list.
pub const MAX_KEY_PREFIX_LEN: usize = 40;

/// How to reach one Medusa store and tell this bot's price lists apart.
#[derive(Debug, Clone)]
pub struct MedusaSettings {
    /// The Medusa server's base URL (admin and Store API live under it).
    pub url: Url,
    /// A secret API key (`sk_...`) for the admin API: reads the catalog and
    /// orders, writes price lists.
    pub secret_api_key: SecretString,
    /// A publishable key (`pk_...`) linked to the sales channel shoppers
    /// use: the read-back asks the Store API what a shopper is charged.
    pub publishable_api_key: String,
    /// The region whose currency and prices the sales are in.
    pub region_id: String,
    /// Keeps this bot's price lists apart from another's on the same
    /// Medusa: the instance name in production, a test's namespace in tests.
    pub key_prefix: String,
    /// How long one call may take.
    pub timeout: Duration,
}

/// Whether `prefix` can be a key prefix: 1-40 ASCII letters, digits, `.`,
/// `_` or `-` (it is searched for in titles, so nothing a search treats
/// specially beyond those).
pub fn valid_key_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= MAX_KEY_PREFIX_LEN
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The Medusa store as the bot's catalog and storefront. Cheap to clone:
/// the connection pool and the region's currency are shared.
#[derive(Clone)]
pub struct MedusaShop {
    api: Api,
    region_id: String,
    key_prefix: String,
    /// The bot's currency (`CURRENCY`): the region's must be the same.
    currency: Currency,
    /// The region's currency code as Medusa spells it (lower case), asked
    /// once: a region's currency does not change under a running store.
    region_currency: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for MedusaShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MedusaShop")
            .field("region_id", &self.region_id)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl MedusaShop {
    /// A client for the store `settings` name, whose prices are in
    /// `currency`. Nothing is sent yet; the region's currency is checked on
    /// the first call that needs it.
    pub fn new(
        settings: MedusaSettings,
        currency: Currency,
    ) -> Result<MedusaShop, StorefrontError> {
        if !valid_key_prefix(&settings.key_prefix) {
            return Err(StorefrontError::Malformed(format!(
                "the Medusa key prefix {:?} is not 1-{MAX_KEY_PREFIX_LEN} letters, digits, '.', '_' or '-'",
                settings.key_prefix
            )));
        }
        let api = Api::new(
            settings.url,
            settings.secret_api_key,
            settings.publishable_api_key,
            settings.timeout,
        )?;
        Ok(MedusaShop {
            api,
            region_id: settings.region_id,
            key_prefix: settings.key_prefix,
            currency,
            region_currency: Arc::new(OnceCell::new()),
        })
    }

    /// The key of a session's list: `<prefix>:<session id>`.
    fn key(&self, session_id: i64) -> String {
        format!("{}:{session_id}", self.key_prefix)
    }

    /// The region's currency code (lower case), checked to be the bot's.
    async fn region_currency(&self) -> Result<&str, CallError> {
        let code = self
            .region_currency
            .get_or_try_init(|| async {
                #[derive(serde::Deserialize)]
                struct Body {
                    region: Region,
                }
                #[derive(serde::Deserialize)]
                struct Region {
                    currency_code: String,
                }
                let path = format!("admin/regions/{}", self.region_id);
                let answer: client::Answer<Body> = self
                    .api
                    .admin_get(&path, &[("fields", "id,currency_code")])
                    .await?;
                Ok::<_, CallError>(answer.body.region.currency_code.to_ascii_lowercase())
            })
            .await?;
        if !code.eq_ignore_ascii_case(self.currency.code()) {
            return Err(CallError::Malformed(format!(
                "the Medusa region's currency is {}, the bot's is {}",
                code.to_ascii_uppercase(),
                self.currency.code()
            )));
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_prefix_is_a_short_plain_word() {
        for good in ["flashsale", "T3FA09C1B", "shop-1.prod_a"] {
            assert!(valid_key_prefix(good), "{good}");
        }
        let long = "x".repeat(MAX_KEY_PREFIX_LEN + 1);
        for bad in ["", "has space", "a:b", "a%b", "ü", long.as_str()] {
            assert!(!valid_key_prefix(bad), "{bad}");
        }
    }
}
