//! The catalog port on Shopify: product variants by SKU
//! (`productVariants(query: "sku:...")`), which sees drafts too.
//!
//! - name: the product's title, with the variant's in parentheses when it
//!   says more (not Shopify's "Default Title" of a product without options);
//! - active: the product's status is `ACTIVE` (draft and archived are not
//!   on the shop);
//! - price: the variant's `price`, exact, in the shop's currency (checked to
//!   be the bot's); a variant with a compare-at price is already reduced, and
//!   its price is still what the flash price is computed from;
//! - stock: `inventoryQuantity` (available, summed over locations); a
//!   variant whose inventory Shopify does not track is never out of stock
//!   and gets the largest quantity a sale can hold;
//! - pricing: nothing beyond the price (the money guards use the bot's own
//!   price history).
//!
//! Shopify's search matches SKUs without regard to case and by prefix on
//! some fields, so every answer is matched again exactly here (ignoring
//! case) and only what was asked for is returned.

use std::collections::{HashMap, HashSet};

use cynic::QueryBuilder;

use super::client::CallError;
use super::decimal::parse_decimal;
use super::schema::q;
use super::ShopifyShop;
use crate::catalog::{Catalog, CatalogError, Freshness, Pricing, Product};
use crate::domain::{Money, Sku};
use crate::storefront::shop_call::{catalog_call, variant_name};

/// SKUs per search: keeps the query string short and the answer one page.
pub(super) const MAX_SKUS_PER_REQUEST: usize = 25;
/// Variants per page (a few SKUs may have more than one variant).
const PAGE: i32 = 50;
/// The most a search asks for, whatever the caller's limit.
const MAX_SEARCH: usize = 50;
/// Shopify's title for the variant of a product made without options.
const DEFAULT_VARIANT_TITLE: &str = "Default Title";

/// A search term for one exact value: quoted, with `\` and `"` escaped.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `sku:"A" OR sku:"B"`.
pub(super) fn sku_query(skus: &[&str]) -> String {
    skus.iter()
        .map(|s| format!("sku:{}", quoted(s)))
        .collect::<Vec<_>>()
        .join(" OR ")
}

impl ShopifyShop {
    /// Every variant whose SKU is one of `skus` (exactly, ignoring case),
    /// keyed by the SKU in upper case.
    pub(super) async fn variants_by_sku(
        &self,
        skus: &[&str],
    ) -> Result<HashMap<String, q::Variant>, CallError> {
        let wanted: HashSet<String> = skus.iter().map(|s| s.trim().to_uppercase()).collect();
        let mut found = HashMap::new();
        for batch in skus.chunks(MAX_SKUS_PER_REQUEST) {
            let mut after = None;
            loop {
                // Two variants per SKU before paging: the query's cost follows `first`.
                let first = i32::try_from(batch.len() * 2).map_or(PAGE, |n| n.min(PAGE));
                let operation = q::VariantsQuery::build(q::VariantsVariables {
                    first,
                    query: sku_query(batch),
                    after: after.take(),
                });
                let answer = self.api.run(operation).await?;
                let page = answer.data.product_variants;
                for variant in page.nodes {
                    let Some(sku) = variant.sku.as_deref().map(|s| s.trim().to_uppercase()) else {
                        continue;
                    };
                    if wanted.contains(&sku) {
                        found.insert(sku, variant);
                    }
                }
                match page.page_info.end_cursor {
                    Some(cursor) if page.page_info.has_next_page => after = Some(cursor),
                    _ => break,
                }
            }
        }
        Ok(found)
    }

    pub(super) fn money(&self, text: &str, what: &str) -> Result<Money, CallError> {
        let minor = parse_decimal(text, self.currency.exponent())
            .map_err(|e| CallError::Malformed(format!("{what}: {e}")))?;
        Ok(Money::from_minor(minor, self.currency.clone()))
    }

    fn product(&self, sku: Sku, variant: q::Variant) -> Result<Product, CallError> {
        let price = self.money(&variant.price.0, &format!("variant {sku}'s price"))?;
        if price.minor() < 0 {
            return Err(CallError::Malformed(format!(
                "variant {sku} has a negative price"
            )));
        }
        let stock = if variant.inventory_item.tracked {
            i64::from(variant.inventory_quantity.ok_or_else(|| {
                CallError::Malformed(format!("variant {sku} came without its inventory quantity"))
            })?)
        } else {
            i64::from(u32::MAX)
        };
        Ok(Product {
            name: name(&variant.product.title, &variant.title),
            sku,
            price,
            stock,
            active: variant.product.status == q::ProductStatus::Active,
            pricing: Pricing::default(),
        })
    }
}

/// What people see a product as (Shopify names a product's only variant "Default Title").
fn name(product: &str, variant: &str) -> String {
    variant_name(product, Some(variant), DEFAULT_VARIANT_TITLE)
}

#[async_trait::async_trait]
impl Catalog for ShopifyShop {
    async fn products(
        &self,
        skus: &[Sku],
        _freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, CatalogError> {
        let mut seen = HashSet::new();
        let wanted: Vec<&Sku> = skus.iter().filter(|s| seen.insert(*s)).collect();
        let mut found = HashMap::with_capacity(wanted.len());
        if wanted.is_empty() {
            return Ok(found);
        }
        let lookup = async {
            self.shop().await?;
            let texts: Vec<&str> = wanted.iter().map(|s| s.as_str()).collect();
            let mut variants = self.variants_by_sku(&texts).await?;
            for sku in &wanted {
                if let Some(variant) = variants.remove(&sku.as_str().to_uppercase()) {
                    found.insert((*sku).clone(), self.product((*sku).clone(), variant)?);
                }
            }
            Ok::<_, CallError>(found)
        };
        catalog_call("shopify", "catalog lookup", lookup, HashMap::len).await
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let search = async {
            self.shop().await?;
            let first = i32::try_from(limit.min(MAX_SEARCH)).unwrap_or(PAGE);
            let operation = q::VariantsQuery::build(q::VariantsVariables {
                first,
                query: query.trim().to_owned(),
                after: None,
            });
            let answer = self.api.run(operation).await?;
            let mut products = Vec::new();
            for variant in answer.data.product_variants.nodes {
                let Some(sku) = variant
                    .sku
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Sku::from_canonical(s.to_uppercase()))
                else {
                    continue;
                };
                products.push(self.product(sku, variant)?);
            }
            products.truncate(limit);
            Ok::<_, CallError>(products)
        };
        catalog_call("shopify", "catalog search", search, Vec::len).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_searched_quoted_one_term_each() {
        assert_eq!(
            sku_query(&["FS-001", "A\"B"]),
            r#"sku:"FS-001" OR sku:"A\"B""#
        );
    }

    #[test]
    fn a_product_is_named_by_its_title_and_a_variant_that_says_more() {
        assert_eq!(name("Kopi Gayo", DEFAULT_VARIANT_TITLE), "Kopi Gayo");
        assert_eq!(name("Kaos Polos", "XL / Hitam"), "Kaos Polos (XL / Hitam)");
        assert_eq!(name("Kopi Gayo 250 g", "250 g"), "Kopi Gayo 250 g");
    }
}
