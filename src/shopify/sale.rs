//! The storefront port on Shopify, in both modes (the module doc of
//! `shopify` says what each does and how a sale's record finds it again).
//!
//! Every write reads the record first, refuses an older revision, writes
//! the record with the new revision, and only then touches discounts or
//! prices; it finishes by writing the record again with what it made.
//!
//! The read-back is Shopify's view, never the record's alone:
//! - discount mode: each line's discount as Shopify has it now; a line is
//!   on sale when its discount's status is `ACTIVE` (Shopify's clock) and
//!   its variant is among the discount's items; it is then charged its
//!   current price less the percentage (rounded as the bot rounds: the
//!   cart's own rounding can differ by one minor unit). The phase is
//!   `Live` when a discount is active, `Scheduled` when one waits for its
//!   start, `Ended` otherwise (deactivated, deleted, expired);
//! - price mode: each variant's price now; a line is on sale while its
//!   price is still the flash price the sale set (below the price before),
//!   with the price before as the regular one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use cynic::{MutationBuilder, QueryBuilder};

use super::client::{refused, CallError};
use super::decimal::decimal_text;
use super::record::{Discount, Line, Record, State};
use super::schema::q;
use super::{ShopifyMode, ShopifyShop};
use crate::domain::sale::{SalePhase, ShownLine, ShownSale};
use crate::domain::{DiscountPercent, Money, Sku};
use crate::storefront::{
    observed, Capabilities, SaleRequest, SaleWrite, Storefront, StorefrontError,
};

/// Shopify's limit for a discount's title, less room for the key.
const MAX_TITLE: usize = 200;

/// A discount of ours as Shopify has it now.
#[derive(Debug, Clone)]
pub(super) struct Found {
    id: String,
    status: q::DiscountStatus,
    variants: HashSet<String>,
}

fn basic(node: q::DiscountNode) -> Option<(String, q::BasicDiscount)> {
    match node.automatic_discount {
        q::AutomaticDiscount::DiscountAutomaticBasic(b) => Some((node.id.into_inner(), b)),
        q::AutomaticDiscount::Other => None,
    }
}

fn found(id: String, discount: &q::BasicDiscount) -> Found {
    let variants = match &discount.customer_gets.items {
        q::Items::DiscountProducts(p) => p
            .product_variants
            .nodes
            .iter()
            .map(|v| v.id.inner().to_owned())
            .collect(),
        q::Items::Other => HashSet::new(),
    };
    Found {
        id,
        status: discount.status,
        variants,
    }
}

impl ShopifyShop {
    fn title(&self, sale: &SaleRequest, percent: u8) -> String {
        let title = crate::domain::text::excerpt(sale.title.trim(), MAX_TITLE);
        format!("{title} -{percent}% #{}", self.key(sale.session_id))
    }

    /// The discount with `id`, if Shopify still has it and it is a basic one.
    async fn discount(&self, id: &str) -> Result<Option<Found>, CallError> {
        let answer = self
            .api
            .run(q::DiscountQuery::build(q::IdVariables {
                id: cynic::Id::new(id),
            }))
            .await?;
        Ok(answer
            .data
            .automatic_discount_node
            .and_then(basic)
            .map(|(id, b)| found(id, &b)))
    }

    /// A discount of ours whose id never reached the record (its create's
    /// answer was lost): found by its exact title, which carries the key.
    async fn discount_titled(&self, title: &str) -> Result<Option<Found>, CallError> {
        let query = format!(
            "title:\"{}\"",
            title.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let answer = self
            .api
            .run(q::DiscountSearch::build(q::SearchVariables { query }))
            .await?;
        Ok(answer
            .data
            .automatic_discount_nodes
            .nodes
            .into_iter()
            .filter_map(basic)
            .find(|(_, b)| b.title == title)
            .map(|(id, b)| found(id, &b)))
    }

    /// The record's discount as Shopify has it: by id, else by title.
    async fn discount_of(&self, discount: &Discount) -> Result<Option<Found>, CallError> {
        match &discount.id {
            Some(id) => self.discount(id).await,
            None => self.discount_titled(&discount.title).await,
        }
    }

    /// Creates or updates the automatic discount of one percentage: the
    /// window, the percentage, exactly `variants` as its items. Its id.
    async fn put_discount(
        &self,
        discount: &Discount,
        variants: &[String],
        sale: &SaleRequest,
    ) -> Result<String, CallError> {
        let percentage = Some(f64::from(discount.percent) / 100.0);
        let input = |add: Vec<String>, remove: Vec<String>| q::DiscountAutomaticBasicInput {
            title: Some(discount.title.clone()),
            starts_at: Some(sale.window.starts_at()),
            ends_at: Some(sale.window.ends_at()),
            customer_gets: Some(q::DiscountCustomerGetsInput {
                value: Some(q::DiscountCustomerGetsValueInput { percentage }),
                items: Some(q::DiscountItemsInput {
                    products: Some(q::DiscountProductsInput {
                        product_variants_to_add: Some(
                            add.into_iter().map(cynic::Id::new).collect(),
                        ),
                        product_variants_to_remove: (!remove.is_empty())
                            .then(|| remove.into_iter().map(cynic::Id::new).collect()),
                    }),
                }),
            }),
        };
        match self.discount_of(discount).await? {
            Some(existing) => {
                let add: Vec<String> = variants
                    .iter()
                    .filter(|v| !existing.variants.contains(*v))
                    .cloned()
                    .collect();
                let remove: Vec<String> = existing
                    .variants
                    .iter()
                    .filter(|v| !variants.contains(v))
                    .cloned()
                    .collect();
                let answer = self
                    .api
                    .run(q::UpdateDiscount::build(q::UpdateDiscountVariables {
                        id: cynic::Id::new(&existing.id),
                        input: input(add, remove),
                    }))
                    .await?;
                let payload = answer.data.discount_automatic_basic_update.ok_or_else(|| {
                    CallError::Malformed("discountAutomaticBasicUpdate answered no payload".into())
                })?;
                refused(
                    "update the automatic discount",
                    payload
                        .user_errors
                        .iter()
                        .map(|e| (e.field.as_deref(), e.message.as_str())),
                )?;
                Ok(existing.id)
            }
            None => {
                let answer = self
                    .api
                    .run(q::CreateDiscount::build(q::CreateDiscountVariables {
                        input: input(variants.to_vec(), Vec::new()),
                    }))
                    .await?;
                let payload = answer.data.discount_automatic_basic_create.ok_or_else(|| {
                    CallError::Malformed("discountAutomaticBasicCreate answered no payload".into())
                })?;
                refused(
                    "create the automatic discount",
                    payload
                        .user_errors
                        .iter()
                        .map(|e| (e.field.as_deref(), e.message.as_str())),
                )?;
                let node = payload.automatic_discount_node.ok_or_else(|| {
                    CallError::Malformed("a discount was created without its id".into())
                })?;
                Ok(node.id.into_inner())
            }
        }
    }

    /// Takes a discount off: deleted before its start (withdrawn: it never
    /// shows), deactivated once started (Shopify moves its end to now and
    /// keeps it as a record of when it ran), left as it is once expired.
    async fn take_off(&self, discount: &Found) -> Result<(), CallError> {
        match discount.status {
            q::DiscountStatus::Scheduled => {
                let answer = self
                    .api
                    .run(q::DeleteDiscount::build(q::IdVariables {
                        id: cynic::Id::new(&discount.id),
                    }))
                    .await?;
                let payload = answer.data.discount_automatic_delete.ok_or_else(|| {
                    CallError::Malformed("discountAutomaticDelete answered no payload".into())
                })?;
                refused(
                    "delete the automatic discount",
                    payload
                        .user_errors
                        .iter()
                        .map(|e| (e.field.as_deref(), e.message.as_str())),
                )
            }
            q::DiscountStatus::Active => self.deactivate(&discount.id).await,
            q::DiscountStatus::Expired => Ok(()),
        }
    }

    async fn deactivate(&self, id: &str) -> Result<(), CallError> {
        let answer = self
            .api
            .run(q::DeactivateDiscount::build(q::IdVariables {
                id: cynic::Id::new(id),
            }))
            .await?;
        let payload = answer.data.discount_automatic_deactivate.ok_or_else(|| {
            CallError::Malformed("discountAutomaticDeactivate answered no payload".into())
        })?;
        refused(
            "deactivate the automatic discount",
            payload
                .user_errors
                .iter()
                .map(|e| (e.field.as_deref(), e.message.as_str())),
        )
    }

    /// Sets variants' prices, one product per call (Shopify's rule).
    async fn set_prices(
        &self,
        changes: Vec<(String, String, String, Option<String>)>,
    ) -> Result<(), CallError> {
        let mut by_product: Vec<(String, Vec<q::ProductVariantsBulkInput>)> = Vec::new();
        for (product, variant, price, compare_at) in changes {
            let input = q::ProductVariantsBulkInput {
                id: cynic::Id::new(variant),
                price: q::Money(price),
                compare_at_price: compare_at.map(q::Money),
            };
            match by_product.iter_mut().find(|(p, _)| *p == product) {
                Some((_, inputs)) => inputs.push(input),
                None => by_product.push((product, vec![input])),
            }
        }
        for (product, variants) in by_product {
            let answer = self
                .api
                .run(q::BulkUpdate::build(q::BulkUpdateVariables {
                    product_id: cynic::Id::new(product),
                    variants,
                }))
                .await?;
            let payload = answer.data.product_variants_bulk_update.ok_or_else(|| {
                CallError::Malformed("productVariantsBulkUpdate answered no payload".into())
            })?;
            refused(
                "change the variants' prices",
                payload
                    .user_errors
                    .iter()
                    .map(|e| (e.field.as_deref(), e.message.as_str())),
            )?;
        }
        Ok(())
    }

    /// Puts back the price before the sale of each of `lines` whose variant
    /// still has the sale's flash price; a price someone changed since is
    /// theirs and is left as it is (logged).
    async fn restore(&self, lines: &[&Line]) -> Result<(), CallError> {
        if lines.is_empty() {
            return Ok(());
        }
        let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
        let now = self.variants_by_sku(&skus).await?;
        let exponent = self.currency.exponent();
        let mut changes = Vec::new();
        for line in lines {
            let Some(variant) = now.get(&line.sku.to_uppercase()) else {
                tracing::warn!(sku = %line.sku, "a sale's variant is gone from Shopify; nothing to restore");
                continue;
            };
            let current = self.money(&variant.price.0, &format!("variant {}'s price", line.sku))?;
            if current.minor() == line.flash_minor {
                changes.push((
                    line.product_id.clone(),
                    line.variant_id.clone(),
                    line.original_price.clone(),
                    line.original_compare_at.clone(),
                ));
            } else if super::decimal::parse_decimal(&line.original_price, exponent).ok()
                != Some(current.minor())
            {
                tracing::warn!(sku = %line.sku, price = %variant.price.0, "the price was changed during the sale; leaving it");
            }
        }
        self.set_prices(changes).await
    }

    async fn publish_sale(
        &self,
        sale: &SaleRequest,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        if let Some(currency) = sale.currency() {
            if *currency != self.currency {
                return Err(StorefrontError::Malformed(format!(
                    "the sale is in {}, the Shopify store in {}",
                    currency.code(),
                    self.currency.code()
                )));
            }
        }
        let key = self.key(sale.session_id);
        let skus: Vec<&str> = sale.items.iter().map(|i| i.sku.as_str()).collect();
        let (found, variants) = tokio::join!(self.read_record(&key), self.variants_by_sku(&skus));
        let (existing, _) = found?;
        if let Some(record) = &existing {
            record.admit(write)?;
        }
        let variants = variants?;
        let mut lines = Vec::with_capacity(sale.items.len());
        for item in &sale.items {
            let variant = variants
                .get(&item.sku.as_str().to_uppercase())
                .ok_or_else(|| {
                    StorefrontError::Malformed(format!(
                        "Shopify has no variant with SKU {}",
                        item.sku
                    ))
                })?;
            // The price before the sale is taken once, before the first
            // write: a retry or a re-publish finds the flash price on the
            // variant and must not take it for the original.
            let kept = existing
                .as_ref()
                .and_then(|r| r.line(item.sku.as_str()))
                .filter(|l| l.variant_id == variant.id.inner());
            let (original_price, original_compare_at) = match kept {
                Some(line) => (
                    line.original_price.clone(),
                    line.original_compare_at.clone(),
                ),
                None => (
                    variant.price.0.clone(),
                    variant.compare_at_price.as_ref().map(|m| m.0.clone()),
                ),
            };
            lines.push(Line {
                sku: item.sku.as_str().to_owned(),
                variant_id: variant.id.inner().to_owned(),
                product_id: variant.product.id.inner().to_owned(),
                percent: item.discount.get(),
                flash_minor: item.flash_price.minor(),
                original_price,
                original_compare_at,
                ended: false,
            });
        }
        let mut percents: Vec<u8> = Vec::new();
        for line in &lines {
            if !percents.contains(&line.percent) {
                percents.push(line.percent);
            }
        }
        let before = existing
            .as_ref()
            .map(|r| r.discounts.clone())
            .unwrap_or_default();
        let discounts: Vec<Discount> = match self.mode {
            ShopifyMode::Price => Vec::new(),
            ShopifyMode::Discount => percents
                .iter()
                .map(|&percent| {
                    let title = self.title(sale, percent);
                    let id = before
                        .iter()
                        .find(|d| d.percent == percent)
                        .and_then(|d| d.id.clone());
                    Discount { percent, title, id }
                })
                .collect(),
        };
        let mut record = Record {
            key: key.clone(),
            session_id: sale.session_id,
            mode: self.mode.as_str().to_owned(),
            revision: write.revision,
            state: State::Published,
            starts_at: sale.window.starts_at(),
            ends_at: sale.window.ends_at(),
            lines,
            discounts,
        };
        // The revision and the prices before, first (module doc).
        self.write_record(&record).await?;
        match self.mode {
            ShopifyMode::Discount => {
                for discount in &mut record.discounts {
                    let variants: Vec<String> = record
                        .lines
                        .iter()
                        .filter(|l| l.percent == discount.percent)
                        .map(|l| l.variant_id.clone())
                        .collect();
                    discount.id = Some(self.put_discount(discount, &variants, sale).await?);
                }
                // A percentage the sale no longer has: its discount goes.
                for gone in before.iter().filter(|d| !percents.contains(&d.percent)) {
                    if let Some(found) = self.discount_of(gone).await? {
                        self.take_off(&found).await?;
                    }
                }
                self.write_record(&record).await?;
            }
            ShopifyMode::Price => {
                let exponent = self.currency.exponent();
                let changes = record
                    .lines
                    .iter()
                    .map(|l| {
                        (
                            l.product_id.clone(),
                            l.variant_id.clone(),
                            decimal_text(l.flash_minor, exponent),
                            Some(l.original_price.clone()),
                        )
                    })
                    .collect();
                self.set_prices(changes).await?;
            }
        }
        tracing::info!(
            key,
            revision = write.revision,
            mode = self.mode.as_str(),
            "shopify sale published"
        );
        Ok(())
    }

    async fn end_sale(&self, session_id: i64, write: &SaleWrite) -> Result<(), StorefrontError> {
        let key = self.key(session_id);
        let (record, _) = self.read_record(&key).await?;
        let Some(mut record) = record else {
            return Ok(());
        };
        record.admit(write)?;
        record.revision = write.revision;
        match self.mode {
            ShopifyMode::Discount => {
                let mut on_shop = Vec::new();
                for discount in &record.discounts {
                    if let Some(found) = self.discount_of(discount).await? {
                        on_shop.push(found);
                    }
                }
                let started = on_shop
                    .iter()
                    .any(|d| d.status != q::DiscountStatus::Scheduled);
                record.state = if started {
                    State::Ended
                } else {
                    State::Withdrawn
                };
                self.write_record(&record).await?;
                for found in &on_shop {
                    self.take_off(found).await?;
                }
            }
            ShopifyMode::Price => {
                record.state = State::Ended;
                self.write_record(&record).await?;
                let lines: Vec<&Line> = record.lines.iter().collect();
                self.restore(&lines).await?;
            }
        }
        tracing::info!(key, revision = write.revision, state = ?record.state, "shopify sale ended");
        Ok(())
    }

    async fn end_one_line(
        &self,
        sale: &SaleRequest,
        sku: &Sku,
        write: &SaleWrite,
    ) -> Result<(), StorefrontError> {
        let key = self.key(sale.session_id);
        let (record, _) = self.read_record(&key).await?;
        let Some(mut record) = record else {
            return Ok(());
        };
        record.admit(write)?;
        record.revision = write.revision;
        let Some(index) = record
            .lines
            .iter()
            .position(|l| l.sku.eq_ignore_ascii_case(sku.as_str()))
        else {
            return Ok(());
        };
        record.lines[index].ended = true;
        self.write_record(&record).await?;
        let line = &record.lines[index];
        match self.mode {
            ShopifyMode::Discount => {
                let Some(discount) = record.discounts.iter().find(|d| d.percent == line.percent)
                else {
                    return Ok(());
                };
                let Some(found) = self.discount_of(discount).await? else {
                    return Ok(());
                };
                let still: Vec<String> = record
                    .lines
                    .iter()
                    .filter(|l| l.percent == line.percent && !l.ended)
                    .map(|l| l.variant_id.clone())
                    .collect();
                if still.is_empty() {
                    // A discount cannot have no items: the last line's goes whole.
                    if found.status == q::DiscountStatus::Active {
                        self.deactivate(&found.id).await?;
                    }
                } else if found.variants.contains(&line.variant_id) {
                    let answer = self
                        .api
                        .run(q::UpdateDiscount::build(q::UpdateDiscountVariables {
                            id: cynic::Id::new(&found.id),
                            input: q::DiscountAutomaticBasicInput {
                                customer_gets: Some(q::DiscountCustomerGetsInput {
                                    value: Some(q::DiscountCustomerGetsValueInput {
                                        percentage: Some(f64::from(line.percent) / 100.0),
                                    }),
                                    items: Some(q::DiscountItemsInput {
                                        products: Some(q::DiscountProductsInput {
                                            product_variants_to_add: None,
                                            product_variants_to_remove: Some(vec![cynic::Id::new(
                                                &line.variant_id,
                                            )]),
                                        }),
                                    }),
                                }),
                                ..q::DiscountAutomaticBasicInput::default()
                            },
                        }))
                        .await?;
                    let payload = answer.data.discount_automatic_basic_update.ok_or_else(|| {
                        CallError::Malformed(
                            "discountAutomaticBasicUpdate answered no payload".into(),
                        )
                    })?;
                    refused(
                        "take the line out of the automatic discount",
                        payload
                            .user_errors
                            .iter()
                            .map(|e| (e.field.as_deref(), e.message.as_str())),
                    )?;
                }
            }
            ShopifyMode::Price => self.restore(&[line]).await?,
        }
        tracing::info!(key, %sku, revision = write.revision, "shopify sale line ended");
        Ok(())
    }

    async fn read_sale(&self, session_id: i64) -> Result<Option<ShownSale>, StorefrontError> {
        let key = self.key(session_id);
        let (record, server_now) = self.read_record(&key).await?;
        let Some(record) = record else {
            return Ok(None);
        };
        let skus: Vec<&str> = record.lines.iter().map(|l| l.sku.as_str()).collect();
        let variants = self.variants_by_sku(&skus).await?;
        let current = |line: &Line| -> Result<Option<Money>, StorefrontError> {
            variants
                .get(&line.sku.to_uppercase())
                .filter(|v| v.id.inner() == line.variant_id)
                .map(|v| {
                    self.money(&v.price.0, &format!("variant {}'s price", line.sku))
                        .map_err(StorefrontError::from)
                })
                .transpose()
        };
        let mut lines = Vec::with_capacity(record.lines.len());
        let phase = match self.mode {
            ShopifyMode::Discount => {
                let mut by_percent: HashMap<u8, Found> = HashMap::new();
                for discount in &record.discounts {
                    if let Some(found) = self.discount_of(discount).await? {
                        by_percent.insert(discount.percent, found);
                    }
                }
                for line in &record.lines {
                    // A variant gone from Shopify has no price to show.
                    let Some(regular) = current(line)? else {
                        continue;
                    };
                    let applies = by_percent.get(&line.percent).is_some_and(|d| {
                        d.status == q::DiscountStatus::Active
                            && d.variants.contains(&line.variant_id)
                    });
                    let shown = if applies {
                        let percent =
                            DiscountPercent::new(i64::from(line.percent)).map_err(|e| {
                                StorefrontError::Malformed(format!("the record's percentage: {e}"))
                            })?;
                        regular.discounted(percent)
                    } else {
                        regular.clone()
                    };
                    lines.push(ShownLine {
                        sku: Sku::from_canonical(&line.sku),
                        shown,
                        regular,
                        sale_applies: applies,
                    });
                }
                let active = by_percent
                    .values()
                    .any(|d| d.status == q::DiscountStatus::Active);
                let scheduled = by_percent
                    .values()
                    .any(|d| d.status == q::DiscountStatus::Scheduled);
                if active {
                    SalePhase::Live
                } else if scheduled {
                    SalePhase::Scheduled
                } else {
                    sold_out_phase(&record, server_now)
                }
            }
            ShopifyMode::Price => {
                let mut any = false;
                for line in &record.lines {
                    let Some(now) = current(line)? else {
                        continue;
                    };
                    let regular = self.money(
                        &line.original_price,
                        &format!("the record's price of {}", line.sku),
                    )?;
                    let applies =
                        now.minor() == line.flash_minor && line.flash_minor < regular.minor();
                    any |= applies;
                    lines.push(ShownLine {
                        sku: Sku::from_canonical(&line.sku),
                        regular: if applies { regular } else { now.clone() },
                        shown: now,
                        sale_applies: applies,
                    });
                }
                if any {
                    SalePhase::Live
                } else {
                    sold_out_phase(&record, server_now)
                }
            }
        };
        Ok(Some(ShownSale { phase, lines }))
    }
}

/// Where no line is on sale: a published sale whose every line sold out
/// is still live until its end (by Shopify's clock, the `Date` header);
/// anything else is ended.
fn sold_out_phase(record: &Record, server_now: Option<DateTime<Utc>>) -> SalePhase {
    let all_sold_out = !record.lines.is_empty() && record.lines.iter().all(|l| l.ended);
    let before_end = server_now.is_none_or(|now| now < record.ends_at);
    if record.state == State::Published && all_sold_out && before_end {
        SalePhase::Live
    } else {
        SalePhase::Ended
    }
}

#[async_trait::async_trait]
impl Storefront for ShopifyShop {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            schedules_sales: self.mode == ShopifyMode::Discount,
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
