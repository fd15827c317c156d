//! The storefront port on Medusa: one `sale` price list per session (the
//! module doc of `medusa` says how it is found, revised and ended).
//!
//! A list's metadata is what the adapter reads back:
//! `flashsale_key` (`<prefix>:<session id>`), `flashsale_namespace` (the
//! prefix), `flashsale_session`, `flashsale_revision` (the last write
//! applied), `flashsale_state` (`published`, `ended`, `withdrawn`: for
//! people reading Medusa's admin; the phase is decided from the list
//! itself) and `flashsale_lines` (each line's SKU and variant, in the
//! sale's order, so a read-back shows every line, also one whose price
//! `end_line` took off).
//!
//! The read-back asks the Store API what a shopper in the region is charged
//! for each line (`calculated_price`), and decides the phase by Medusa's
//! clock: a line priced from this list proves the sale live; a line the
//! list prices lower but Medusa does not proves it is not; where no line
//! says either (all lines taken off), the window is compared with the
//! answer's `Date` header, never with this machine's clock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Number, Value};

use super::amount::{from_medusa, to_medusa};
use super::catalog::sku_spellings;
use super::client::{Answer, CallError};
use super::{timestamp, MedusaShop};
use crate::domain::sale::{SalePhase, ShownLine, ShownSale};
use crate::domain::{Money, Sku};
use crate::storefront::{
    observed, Capabilities, SaleRequest, SaleWrite, Storefront, StorefrontError,
};

/// Lists per page when looking a key up (normally one matches).
const PAGE: usize = 100;
/// SKUs per Store API read.
const MAX_SKUS_PER_REQUEST: usize = 50;
/// What a list is read with: its window, state, metadata and prices with
/// their variants.
const LIST_FIELDS: &str = "id,status,starts_at,ends_at,metadata,created_at,\
    prices.id,prices.amount,prices.currency_code,prices.price_set.variant.id";

#[derive(Debug, Deserialize)]
struct Lists {
    price_lists: Vec<WireList>,
    #[serde(default)]
    count: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct WireList {
    id: String,
    status: String,
    #[serde(default)]
    starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    metadata: Option<Value>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    prices: Vec<WireListPrice>,
}

#[derive(Debug, Deserialize)]
struct WireListPrice {
    id: String,
    amount: Value,
    currency_code: String,
    /// Medusa answers `prices.price_set.variant.id` flattened, as `variant_id`.
    #[serde(default)]
    variant_id: Option<String>,
    #[serde(default)]
    price_set: Option<WirePriceSet>,
}

#[derive(Debug, Deserialize)]
struct WirePriceSet {
    #[serde(default)]
    variant: Option<WireId>,
}

#[derive(Debug, Deserialize)]
struct WireId {
    id: String,
}

impl WireListPrice {
    fn variant(&self) -> Option<&str> {
        self.variant_id.as_deref().or_else(|| {
            self.price_set
                .as_ref()
                .and_then(|s| s.variant.as_ref())
                .map(|v| v.id.as_str())
        })
    }
}

/// One line of a sale as the list's metadata keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Line {
    sku: String,
    variant_id: String,
}

/// What this adapter writes into a list's metadata (Medusa merges it over
/// what is there, key by key).
#[derive(Debug, Serialize)]
struct Meta<'a> {
    flashsale_key: &'a str,
    flashsale_namespace: &'a str,
    flashsale_session: i64,
    flashsale_revision: i64,
    flashsale_state: &'a str,
    flashsale_lines: &'a [Line],
}

/// A session's list as found.
#[derive(Debug)]
struct SaleList {
    id: String,
    /// Medusa's `active` or `draft`.
    active: bool,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    revision: i64,
    lines: Vec<Line>,
    created_at: Option<DateTime<Utc>>,
    prices: Vec<WireListPrice>,
}

impl SaleList {
    /// The list if its metadata carries `key`; an error if it does but its
    /// revision cannot be read (then nothing may be decided about it).
    fn parse(list: WireList, key: &str) -> Result<Option<SaleList>, CallError> {
        let meta = list.metadata.unwrap_or(Value::Null);
        if meta.get("flashsale_key").and_then(Value::as_str) != Some(key) {
            return Ok(None);
        }
        let revision = meta
            .get("flashsale_revision")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                CallError::Malformed(format!(
                    "price list {} of sale {key} has no whole flashsale_revision",
                    list.id
                ))
            })?;
        let lines = match meta.get("flashsale_lines") {
            None | Some(Value::Null) => Vec::new(),
            Some(lines) => serde_json::from_value(lines.clone()).map_err(|e| {
                CallError::Malformed(format!("price list {}'s flashsale_lines: {e}", list.id))
            })?,
        };
        Ok(Some(SaleList {
            id: list.id,
            active: list.status == "active",
            starts_at: list.starts_at,
            ends_at: list.ends_at,
            revision,
            lines,
            created_at: list.created_at,
            prices: list.prices,
        }))
    }

    /// Refuses a write older than the last one applied.
    fn admit(&self, write: &SaleWrite) -> Result<(), StorefrontError> {
        if write.revision < self.revision {
            return Err(StorefrontError::Superseded {
                applied: self.revision,
            });
        }
        Ok(())
    }

    fn variant_of(&self, sku: &Sku) -> Option<&str> {
        self.lines
            .iter()
            .find(|l| l.sku.eq_ignore_ascii_case(sku.as_str()))
            .map(|l| l.variant_id.as_str())
    }
}

/// The lists found under one key, and Medusa's clock when it answered.
struct Found {
    lists: Vec<SaleList>,
    date: Option<DateTime<Utc>>,
}

impl Found {
    /// The list that counts: the newest revision, the first made among equals.
    fn take(mut self) -> (Option<SaleList>, Vec<SaleList>, Option<DateTime<Utc>>) {
        self.lists.sort_by(|a, b| {
            b.revision
                .cmp(&a.revision)
                .then_with(|| a.created_at.cmp(&b.created_at))
        });
        let mut lists = self.lists.into_iter();
        let first = lists.next();
        (first, lists.collect(), self.date)
    }
}

/// What a shopper in the region sees of one variant (Store API).
#[derive(Debug, Deserialize)]
struct StoreVariants {
    variants: Vec<StoreVariant>,
}

#[derive(Debug, Deserialize)]
struct StoreVariant {
    id: String,
    #[serde(default)]
    calculated_price: Option<Calculated>,
}

#[derive(Debug, Deserialize)]
struct Calculated {
    calculated_amount: Value,
    #[serde(default)]
    raw_calculated_amount: Option<RawAmount>,
    original_amount: Value,
    #[serde(default)]
    raw_original_amount: Option<RawAmount>,
    currency_code: String,
    #[serde(default)]
    calculated_price: Option<AppliedPrice>,
}

#[derive(Debug, Deserialize)]
struct RawAmount {
    value: Value,
}

#[derive(Debug, Deserialize)]
struct AppliedPrice {
    #[serde(default)]
    price_list_id: Option<String>,
}

/// What one line's read-back says about the sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Evidence {
    /// Medusa charges this list's price for some line: the sale applies now.
    Applies,
    /// Some line is priced lower by this list, yet Medusa charges more: the
    /// list does not apply now.
    DoesNotApply,
    /// No line says (none has a lower price on the list any more).
    Silent,
}

/// The sale's phase by Medusa's view: a withdrawn (draft) list is ended;
/// otherwise what the prices show decides, and only where they are silent
/// the window against the server's clock (`server_now`, its `Date` header,
/// which is up to a second behind the instant it answered).
pub(super) fn phase(
    active: bool,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    server_now: Option<DateTime<Utc>>,
    evidence: Evidence,
) -> Result<SalePhase, StorefrontError> {
    if !active {
        return Ok(SalePhase::Ended);
    }
    let before_start = |now: DateTime<Utc>| starts_at.is_some_and(|s| now < s);
    let after_end = |now: DateTime<Utc>| ends_at.is_some_and(|e| now >= e);
    match (evidence, server_now) {
        (Evidence::Applies, _) => Ok(SalePhase::Live),
        // Not applying, by Medusa at the instant it priced: before the start
        // if its clock says so, else ended. The Date header lags by under a
        // second, so a sale that just started and shows no price yet is
        // still called scheduled, as it was when priced.
        (Evidence::DoesNotApply, Some(now)) if before_start(now) => Ok(SalePhase::Scheduled),
        (Evidence::DoesNotApply, _) => Ok(SalePhase::Ended),
        (Evidence::Silent, Some(now)) if before_start(now) => Ok(SalePhase::Scheduled),
        (Evidence::Silent, Some(now)) if after_end(now) => Ok(SalePhase::Ended),
        (Evidence::Silent, Some(_)) => Ok(SalePhase::Live),
        (Evidence::Silent, None) => Err(StorefrontError::Malformed(
            "Medusa's answer had no Date header to tell the sale's phase by".to_owned(),
        )),
    }
}

impl MedusaShop {
    /// Every list carrying the session's key (see the module doc: the key
    /// is searched for in titles and descriptions, then matched exactly in
    /// the metadata).
    async fn find(&self, key: &str) -> Result<Found, CallError> {
        let mut lists = Vec::new();
        let mut date = None;
        let mut offset = 0;
        loop {
            let offset_text = offset.to_string();
            let limit_text = PAGE.to_string();
            let answer: Answer<Lists> = self
                .api
                .admin_get(
                    "admin/price-lists",
                    &[
                        ("q", key),
                        ("fields", LIST_FIELDS),
                        ("limit", &limit_text),
                        ("offset", &offset_text),
                    ],
                )
                .await?;
            date = date.or(answer.date);
            let page = answer.body.price_lists.len();
            for list in answer.body.price_lists {
                if let Some(list) = SaleList::parse(list, key)? {
                    lists.push(list);
                }
            }
            offset += page;
            let total = answer.body.count.unwrap_or(0);
            if page == 0 || offset >= total {
                break;
            }
        }
        Ok(Found { lists, date })
    }

    /// The session's list for a write: duplicates (see the module doc) are deleted.
    async fn find_for_write(
        &self,
        key: &str,
    ) -> Result<(Option<SaleList>, Option<DateTime<Utc>>), CallError> {
        let (list, extra, date) = self.find(key).await?.take();
        for duplicate in extra {
            tracing::warn!(key, list = %duplicate.id, "a second price list with this sale's key; deleting it");
            self.api
                .admin_delete(&format!("admin/price-lists/{}", duplicate.id))
                .await?;
        }
        Ok((list, date))
    }

    /// The variant of each SKU, in the sale's order; an SKU Medusa does not
    /// know is an error (the sale cannot be put up as approved).
    async fn lines_of(&self, sale: &SaleRequest) -> Result<Vec<Line>, CallError> {
        let mut ids = HashMap::new();
        let skus: Vec<&str> = sale.items.iter().map(|i| i.sku.as_str()).collect();
        for batch in skus.chunks(MAX_SKUS_PER_REQUEST) {
            for variant in self.variants_by_sku(batch, "id,sku").await? {
                if let Some(sku) = variant.sku {
                    ids.insert(sku.trim().to_uppercase(), variant.id);
                }
            }
        }
        sale.items
            .iter()
            .map(|item| {
                let variant_id = ids.get(item.sku.as_str()).ok_or_else(|| {
                    CallError::Malformed(format!("Medusa has no variant with SKU {}", item.sku))
                })?;
                Ok(Line {
                    sku: item.sku.as_str().to_owned(),
                    variant_id: variant_id.clone(),
                })
            })
            .collect()
    }

    fn meta<'a>(
        &'a self,
        key: &'a str,
        session_id: i64,
        revision: i64,
        state: &'a str,
        lines: &'a [Line],
    ) -> Meta<'a> {
        Meta {
            flashsale_key: key,
            flashsale_namespace: &self.key_prefix,
            flashsale_session: session_id,
            flashsale_revision: revision,
            flashsale_state: state,
            flashsale_lines: lines,
        }
    }

    async fn update_list(&self, id: &str, body: Value) -> Result<(), CallError> {
        let _: Answer<serde::de::IgnoredAny> = self
            .api
            .admin_post(&format!("admin/price-lists/{id}"), &body)
            .await?;
        Ok(())
    }

    async fn batch_prices(&self, id: &str, batch: PriceBatch) -> Result<(), CallError> {
        if batch.is_empty() {
            return Ok(());
        }
        let body =
            json!({ "create": batch.create, "update": batch.update, "delete": batch.delete });
        let _: Answer<serde::de::IgnoredAny> = self
            .api
            .admin_post(&format!("admin/price-lists/{id}/prices/batch"), &body)
            .await?;
        Ok(())
    }

    async fn publish_sale(
        &self,
        sale: &SaleRequest,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        if let Some(currency) = sale.currency() {
            if *currency != self.currency {
                return Err(StorefrontError::Malformed(format!(
                    "the sale is in {}, the Medusa store in {}",
                    currency.code(),
                    self.currency.code()
                )));
            }
        }
        let key = self.key(sale.session_id);
        // Three independent reads at once: the publish waits for the slowest, not the sum.
        let (found, lines, region) = tokio::join!(
            self.find_for_write(&key),
            self.lines_of(sale),
            self.region_currency()
        );
        let currency_code = region?.to_owned();
        let (existing, _) = found?;
        let lines = lines?;
        let mut wanted = Vec::with_capacity(sale.items.len());
        for (item, line) in sale.items.iter().zip(&lines) {
            let amount = to_medusa(&item.flash_price).map_err(|e| {
                StorefrontError::Malformed(format!("the flash price of {}: {e}", item.sku))
            })?;
            wanted.push((line.variant_id.clone(), item.flash_price.clone(), amount));
        }
        let title = format!("[{}] #{} {}", self.key_prefix, sale.session_id, sale.title);
        let description = format!("flashsale-bot sale {key}");
        let meta = self.meta(&key, sale.session_id, write.revision, "published", &lines);
        let window = (
            timestamp(sale.window.starts_at()),
            timestamp(sale.window.ends_at()),
        );
        match existing {
            None => {
                let prices: Vec<Value> = wanted
                    .iter()
                    .map(|(variant, _, amount)| price_body(variant, &currency_code, amount))
                    .collect();
                let body = json!({
                    "title": title,
                    "description": description,
                    "type": "sale",
                    "status": "active",
                    "starts_at": window.0,
                    "ends_at": window.1,
                    "metadata": meta,
                    "prices": prices,
                });
                let _: Answer<serde::de::IgnoredAny> =
                    self.api.admin_post("admin/price-lists", &body).await?;
                tracing::info!(key, revision = write.revision, "medusa price list created");
            }
            Some(list) => {
                list.admit(write)?;
                // The revision first (module doc): then the prices.
                self.update_list(
                    &list.id,
                    json!({
                        "title": title,
                        "description": description,
                        "type": "sale",
                        "status": "active",
                        "starts_at": window.0,
                        "ends_at": window.1,
                        "metadata": meta,
                    }),
                )
                .await?;
                let batch = PriceBatch::replacing(
                    &list.prices,
                    &wanted,
                    &currency_code,
                    self.currency.exponent(),
                );
                self.batch_prices(&list.id, batch).await?;
                tracing::info!(key, list = %list.id, revision = write.revision, "medusa price list updated");
            }
        }
        Ok(())
    }

    async fn end_sale(&self, session_id: i64, write: &SaleWrite) -> Result<(), StorefrontError> {
        let key = self.key(session_id);
        let (list, server_now) = self.find_for_write(&key).await?;
        let Some(list) = list else {
            return Ok(());
        };
        list.admit(write)?;
        let started = match (server_now, list.starts_at) {
            (Some(now), Some(starts_at)) => now >= starts_at,
            (Some(_), None) => true,
            // No clock to tell by: withdraw, which ends it whatever its phase.
            (None, _) => false,
        };
        let body = if !list.active || !started {
            let meta = self.meta(&key, session_id, write.revision, "withdrawn", &list.lines);
            json!({ "status": "draft", "metadata": meta })
        } else {
            let meta = self.meta(&key, session_id, write.revision, "ended", &list.lines);
            // Started, so server_now is known; never move an end later.
            let now = server_now.unwrap_or_else(Utc::now);
            let ends_at = list.ends_at.map_or(now, |end| end.min(now));
            json!({ "ends_at": timestamp(ends_at), "metadata": meta })
        };
        self.update_list(&list.id, body).await?;
        tracing::info!(key, list = %list.id, revision = write.revision, started, "medusa sale ended");
        Ok(())
    }

    async fn end_one_line(
        &self,
        sale: &SaleRequest,
        sku: &Sku,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        let key = self.key(sale.session_id);
        let (list, _) = self.find_for_write(&key).await?;
        let Some(list) = list else {
            return Ok(());
        };
        list.admit(write)?;
        self.update_list(
            &list.id,
            json!({ "metadata": { "flashsale_revision": write.revision } }),
        )
        .await?;
        if let Some(variant) = list.variant_of(sku) {
            let delete: Vec<String> = list
                .prices
                .iter()
                .filter(|p| p.variant() == Some(variant))
                .map(|p| p.id.clone())
                .collect();
            self.batch_prices(
                &list.id,
                PriceBatch {
                    delete,
                    ..PriceBatch::default()
                },
            )
            .await?;
        }
        tracing::info!(key, list = %list.id, %sku, revision = write.revision, "medusa sale line ended");
        Ok(())
    }

    async fn read_sale(&self, session_id: i64) -> Result<Option<ShownSale>, StorefrontError> {
        let key = self.key(session_id);
        let (list, _, _) = self.find(&key).await?.take();
        let Some(list) = list else {
            return Ok(None);
        };
        let currency_code = self.region_currency().await?.to_owned();
        let exponent = self.currency.exponent();
        let mut shown: HashMap<String, Calculated> = HashMap::new();
        let mut server_now = None;
        let skus: Vec<&str> = list.lines.iter().map(|l| l.sku.as_str()).collect();
        for batch in skus.chunks(MAX_SKUS_PER_REQUEST) {
            let spellings = sku_spellings(batch);
            let limit = spellings.len().to_string();
            let mut query = vec![
                ("region_id", self.region_id.as_str()),
                ("fields", "id,sku,*calculated_price"),
                ("limit", limit.as_str()),
            ];
            query.extend(spellings.iter().map(|sku| ("sku[]", sku.as_str())));
            let answer: Answer<StoreVariants> =
                self.api.store_get("store/product-variants", &query).await?;
            server_now = server_now.or(answer.date);
            for variant in answer.body.variants {
                if let Some(price) = variant.calculated_price {
                    shown.insert(variant.id, price);
                }
            }
        }
        let list_price = |variant: &str| -> Result<Option<i64>, StorefrontError> {
            list.prices
                .iter()
                .find(|p| {
                    p.variant() == Some(variant)
                        && p.currency_code.eq_ignore_ascii_case(&currency_code)
                })
                .map(|p| {
                    from_medusa(&p.amount, exponent).map_err(|e| {
                        StorefrontError::Malformed(format!("price list {}'s price: {e}", list.id))
                    })
                })
                .transpose()
        };
        let mut lines = Vec::with_capacity(list.lines.len());
        let mut evidence = Evidence::Silent;
        for line in &list.lines {
            // A line the Store API does not show (a draft product) has no price to show.
            let Some(price) = shown.get(&line.variant_id) else {
                continue;
            };
            if !price
                .currency_code
                .eq_ignore_ascii_case(self.currency.code())
            {
                return Err(StorefrontError::Malformed(format!(
                    "Medusa prices {} in {}, not {}",
                    line.sku,
                    price.currency_code.to_ascii_uppercase(),
                    self.currency.code()
                )));
            }
            let amount = |raw: &Option<RawAmount>, plain: &Value| {
                let value = raw.as_ref().map_or(plain, |r| &r.value);
                from_medusa(value, exponent)
                    .map(|minor| Money::from_minor(minor, self.currency.clone()))
                    .map_err(|e| {
                        StorefrontError::Malformed(format!(
                            "the shopper's price of {}: {e}",
                            line.sku
                        ))
                    })
            };
            let charged = amount(&price.raw_calculated_amount, &price.calculated_amount)?;
            let regular = amount(&price.raw_original_amount, &price.original_amount)?;
            let applies = price
                .calculated_price
                .as_ref()
                .and_then(|p| p.price_list_id.as_deref())
                == Some(list.id.as_str());
            if applies {
                evidence = Evidence::Applies;
            } else if evidence == Evidence::Silent
                && list_price(&line.variant_id)?.is_some_and(|flash| flash < regular.minor())
            {
                evidence = Evidence::DoesNotApply;
            }
            lines.push(ShownLine {
                sku: Sku::from_canonical(line.sku.as_str()),
                shown: charged,
                regular,
                sale_applies: applies,
            });
        }
        let phase = phase(
            list.active,
            list.starts_at,
            list.ends_at,
            server_now,
            evidence,
        )?;
        Ok(Some(ShownSale { phase, lines }))
    }
}

fn price_body(variant_id: &str, currency_code: &str, amount: &Number) -> Value {
    json!({ "variant_id": variant_id, "currency_code": currency_code, "amount": amount })
}

/// One `POST /admin/price-lists/{id}/prices/batch`.
#[derive(Debug, Default)]
struct PriceBatch {
    create: Vec<Value>,
    update: Vec<Value>,
    delete: Vec<String>,
}

impl PriceBatch {
    fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }

    /// From the prices a list has to the ones wanted: a variant's one price
    /// in the currency is kept (or its amount changed), anything else goes.
    /// A retry finds nothing to change and sends nothing.
    fn replacing(
        have: &[WireListPrice],
        wanted: &[(String, Money, Number)],
        currency_code: &str,
        exponent: u8,
    ) -> PriceBatch {
        let mut batch = PriceBatch::default();
        let mut kept: Vec<&str> = Vec::new();
        for (variant, money, amount) in wanted {
            let mut mine = have.iter().filter(|p| {
                p.variant() == Some(variant.as_str())
                    && p.currency_code.eq_ignore_ascii_case(currency_code)
            });
            match mine.next() {
                Some(price) => {
                    kept.push(&price.id);
                    if from_medusa(&price.amount, exponent).ok() != Some(money.minor()) {
                        let mut body = price_body(variant, currency_code, amount);
                        body["id"] = json!(price.id);
                        batch.update.push(body);
                    }
                }
                None => batch
                    .create
                    .push(price_body(variant, currency_code, amount)),
            }
        }
        batch.delete = have
            .iter()
            .filter(|p| !kept.contains(&p.id.as_str()))
            .map(|p| p.id.clone())
            .collect();
        batch
    }
}

#[async_trait::async_trait]
impl Storefront for MedusaShop {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            schedules_sales: true,
            caps_quantity: false,
        }
    }

    async fn publish(&self, sale: &SaleRequest, write: &SaleWrite) -> Result<(), StorefrontError> {
        observed("publish", self.publish_sale(sale, write)).await
    }

    async fn read_back(&self, session_id: i64) -> Result<Option<ShownSale>, StorefrontError> {
        observed("read_back", self.read_sale(session_id)).await
    }

    async fn end(&self, session_id: i64, write: &SaleWrite) -> Result<(), StorefrontError> {
        observed("end", self.end_sale(session_id, write)).await
    }

    async fn units_sold(&self, sale: &SaleRequest) -> Result<HashMap<Sku, u32>, StorefrontError> {
        observed("units_sold", async { Ok(self.count_sold(sale).await?) }).await
    }

    async fn end_line(
        &self,
        sale: &SaleRequest,
        sku: &Sku,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        observed("end_line", self.end_one_line(sale, sku, write)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn at(secs: i64) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0)
    }

    #[test]
    fn the_prices_decide_the_phase_where_they_speak() {
        let (start, end) = (at(100), at(200));
        // A line priced from the list: live, even if the Date header (a
        // second behind) still says before the start.
        assert_eq!(
            phase(true, start, end, at(99), Evidence::Applies).unwrap(),
            SalePhase::Live
        );
        // Not applied although the list is lower: scheduled before the
        // start by the server's clock, ended after it.
        assert_eq!(
            phase(true, start, end, at(50), Evidence::DoesNotApply).unwrap(),
            SalePhase::Scheduled
        );
        assert_eq!(
            phase(true, start, end, at(199), Evidence::DoesNotApply).unwrap(),
            SalePhase::Ended
        );
    }

    #[test]
    fn where_the_prices_are_silent_the_servers_clock_decides() {
        let (start, end) = (at(100), at(200));
        let silent = |now| phase(true, start, end, now, Evidence::Silent).unwrap();
        assert_eq!(silent(at(99)), SalePhase::Scheduled);
        assert_eq!(silent(at(100)), SalePhase::Live);
        assert_eq!(silent(at(199)), SalePhase::Live);
        assert_eq!(silent(at(200)), SalePhase::Ended);
        assert!(phase(true, start, end, None, Evidence::Silent).is_err());
    }

    #[test]
    fn a_withdrawn_list_is_ended_whatever_its_window() {
        for evidence in [Evidence::Applies, Evidence::DoesNotApply, Evidence::Silent] {
            assert_eq!(
                phase(false, at(100), at(200), at(150), evidence).unwrap(),
                SalePhase::Ended
            );
        }
    }

    fn have(id: &str, variant: &str, amount: i64) -> WireListPrice {
        WireListPrice {
            id: id.into(),
            amount: json!(amount),
            currency_code: "idr".into(),
            variant_id: Some(variant.into()),
            price_set: None,
        }
    }

    fn want(variant: &str, minor: i64) -> (String, Money, Number) {
        let money = Money::from_minor(minor, Currency::from_code("IDR").unwrap());
        let number = to_medusa(&money).unwrap();
        (variant.into(), money, number)
    }

    #[test]
    fn replacing_prices_keeps_what_matches_and_changes_only_the_rest() {
        let have = [
            have("p1", "v1", 700),
            have("p2", "v2", 800),
            have("p3", "v3", 900),
            have("p4", "v1", 700),
        ];
        let batch = PriceBatch::replacing(
            &have,
            &[want("v1", 700), want("v2", 750), want("v4", 100)],
            "idr",
            0,
        );
        assert_eq!(batch.update.len(), 1);
        assert_eq!(batch.update[0]["id"], "p2");
        assert_eq!(batch.update[0]["amount"], 750);
        assert_eq!(batch.create.len(), 1);
        assert_eq!(batch.create[0]["variant_id"], "v4");
        assert_eq!(batch.delete, ["p3", "p4"]);
        let retry =
            PriceBatch::replacing(&have[..2], &[want("v1", 700), want("v2", 800)], "idr", 0);
        assert!(retry.is_empty(), "{retry:?}");
    }

    #[test]
    fn a_list_without_our_key_is_not_ours_and_ours_needs_its_revision() {
        let list = |metadata: Value| WireList {
            id: "plist_1".into(),
            status: "active".into(),
            starts_at: None,
            ends_at: None,
            metadata: Some(metadata),
            created_at: None,
            prices: Vec::new(),
        };
        assert!(
            SaleList::parse(list(json!({"flashsale_key": "a:12"})), "a:1")
                .unwrap()
                .is_none()
        );
        assert!(SaleList::parse(list(json!({"flashsale_key": "a:1"})), "a:1").is_err());
        let ours = SaleList::parse(
            list(json!({"flashsale_key": "a:1", "flashsale_revision": 3,
                "flashsale_lines": [{"sku": "FS-1", "variant_id": "v1"}]})),
            "a:1",
        )
        .unwrap()
        .unwrap();
        assert_eq!(ours.revision, 3);
        let write = |revision| SaleWrite {
            key: "k".into(),
            revision,
        };
        assert_eq!(
            ours.admit(&write(2)),
            Err(StorefrontError::Superseded { applied: 3 })
        );
        assert!(ours.admit(&write(3)).is_ok());
        assert!(ours.admit(&write(4)).is_ok());
    }
}
