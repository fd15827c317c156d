//! The catalog port on Medusa: product variants by SKU through the admin API
//! (`GET /admin/product-variants?sku[]=..`), which sees drafts too.
//!
//! - name: the product's title, with the variant's in parentheses when the
//!   product has a variant worth naming (not blank, not Medusa's "Default
//!   variant", not already part of the product's title);
//! - active: the product is `published` (a draft is not on the shop);
//! - price: the variant's price in the region's currency (one with the
//!   region's rule before one without rules), exact; a variant priced only
//!   in other currencies is malformed, not skipped;
//! - stock: Medusa's `inventory_quantity` (stocked minus reserved, over the
//!   channel's locations); a variant whose inventory Medusa does not manage
//!   is never out of stock, and gets the largest quantity a sale can hold;
//! - pricing: nothing beyond the price (Medusa keeps no cost or 30-day low),
//!   so the money guards use the bot's own price history.
//!
//! SKUs are matched as the bot spells them (upper case): Medusa's filter is
//! exact, so a variant whose SKU is stored in lower case is not found.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use super::amount::from_medusa;
use super::client::{Answer, CallError};
use super::MedusaShop;
use crate::catalog::{Catalog, CatalogError, Freshness, Pricing, Product};
use crate::domain::{Money, Sku};
use crate::storefront::shop_call::{catalog_call, variant_name};

/// SKUs per lookup request: keeps the URL well below common limits.
const MAX_SKUS_PER_REQUEST: usize = 50;
/// The most a search asks for, whatever the caller's limit (autocomplete shows 25).
const MAX_SEARCH: usize = 100;
/// The fields a product is made of.
const VARIANT_FIELDS: &str = "id,sku,title,manage_inventory,inventory_quantity,\
    product.status,product.title,prices.amount,prices.currency_code,prices.rules";
/// Medusa's title for the variant of a product made without options.
const DEFAULT_VARIANT_TITLE: &str = "Default variant";

#[derive(Debug, Deserialize)]
pub(super) struct Variants {
    pub(super) variants: Vec<WireVariant>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireVariant {
    pub(super) id: String,
    #[serde(default)]
    pub(super) sku: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    manage_inventory: Option<bool>,
    #[serde(default)]
    inventory_quantity: Option<i64>,
    #[serde(default)]
    product: Option<WireProduct>,
    #[serde(default)]
    prices: Vec<WirePrice>,
}

#[derive(Debug, Deserialize)]
struct WireProduct {
    status: String,
    title: String,
}

#[derive(Debug, Deserialize)]
struct WirePrice {
    amount: Value,
    currency_code: String,
    #[serde(default)]
    rules: Option<HashMap<String, Value>>,
}

impl MedusaShop {
    /// Admin variants with these SKUs (one request), as Medusa has them.
    pub(super) async fn variants_by_sku(
        &self,
        skus: &[&str],
        fields: &str,
    ) -> Result<Vec<WireVariant>, CallError> {
        let spellings = sku_spellings(skus);
        let limit = spellings.len().max(1).to_string();
        let mut query = vec![("fields", fields), ("limit", limit.as_str())];
        query.extend(spellings.iter().map(|sku| ("sku[]", sku.as_str())));
        let answer: Answer<Variants> = self.api.admin_get("admin/product-variants", &query).await?;
        Ok(answer.body.variants)
    }

    /// A variant as the catalog's product; `None` for one without a SKU.
    fn product(
        &self,
        variant: WireVariant,
        currency_code: &str,
    ) -> Result<Option<Product>, CallError> {
        let Some(sku) = variant
            .sku
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let sku = Sku::from_canonical(sku);
        let product = variant.product.as_ref().ok_or_else(|| {
            CallError::Malformed(format!("variant {sku} came without its product"))
        })?;
        let price = self.region_price(&sku, &variant.prices, currency_code)?;
        let stock = match (variant.manage_inventory, variant.inventory_quantity) {
            (Some(false), _) => i64::from(u32::MAX),
            (_, Some(quantity)) => quantity,
            (_, None) => {
                return Err(CallError::Malformed(format!(
                    "variant {sku} came without its inventory quantity"
                )))
            }
        };
        Ok(Some(Product {
            name: name(&product.title, variant.title.as_deref()),
            sku,
            price,
            stock,
            active: product.status == "published",
            pricing: Pricing::default(),
        }))
    }

    /// The price a shopper in the region is charged before any sale: the
    /// region's own price if the variant has one, else its plain price in
    /// the region's currency.
    fn region_price(
        &self,
        sku: &Sku,
        prices: &[WirePrice],
        currency_code: &str,
    ) -> Result<Money, CallError> {
        let in_currency = |p: &&WirePrice| p.currency_code.eq_ignore_ascii_case(currency_code);
        let rules_of = |p: &WirePrice| p.rules.clone().unwrap_or_default();
        let regional = prices.iter().filter(in_currency).find(|p| {
            let rules = rules_of(p);
            rules.len() == 1
                && rules.get("region_id").and_then(Value::as_str) == Some(&self.region_id)
        });
        let plain = prices
            .iter()
            .filter(in_currency)
            .find(|p| rules_of(p).is_empty());
        let Some(price) = regional.or(plain) else {
            let others: Vec<String> = prices
                .iter()
                .map(|p| p.currency_code.to_ascii_uppercase())
                .collect();
            return Err(CallError::Malformed(if others.is_empty() {
                format!("variant {sku} has no price")
            } else {
                format!(
                    "variant {sku} has no price in {}, only in {}",
                    self.currency.code(),
                    others.join(", ")
                )
            }));
        };
        let minor = from_medusa(&price.amount, self.currency.exponent())
            .map_err(|e| CallError::Malformed(format!("variant {sku}'s price: {e}")))?;
        if minor < 0 {
            return Err(CallError::Malformed(format!(
                "variant {sku} has a negative price"
            )));
        }
        Ok(Money::from_minor(minor, self.currency.clone()))
    }
}

/// How SKUs are asked for in Medusa's `sku[]` filter. It compares exactly,
/// and the bot keeps SKUs upper case, so each is asked as the bot spells it
/// and in lower case, the two spellings stores use; what comes back is
/// upper-cased again (`Sku::from_canonical`). A store that mixes cases
/// within one SKU (`Fs-001`) is still not found.
pub(super) fn sku_spellings(skus: &[&str]) -> Vec<String> {
    let mut spellings = Vec::with_capacity(skus.len() * 2);
    for sku in skus {
        spellings.push((*sku).to_owned());
        let lower = sku.to_lowercase();
        if lower != *sku {
            spellings.push(lower);
        }
    }
    spellings
}

/// What people see a product as: the product's title, and the variant's
/// when it says more (Medusa names a product's only variant "Default variant").
fn name(product: &str, variant: Option<&str>) -> String {
    variant_name(product, variant, DEFAULT_VARIANT_TITLE)
}

#[async_trait::async_trait]
impl Catalog for MedusaShop {
    async fn products(
        &self,
        skus: &[Sku],
        _freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, CatalogError> {
        // Ask for each SKU once; every answer is live (a cache wraps this if wanted).
        let mut seen = HashSet::new();
        let wanted: Vec<&Sku> = skus.iter().filter(|s| seen.insert(*s)).collect();
        let mut found = HashMap::with_capacity(wanted.len());
        if wanted.is_empty() {
            return Ok(found);
        }
        let lookup = async {
            let currency_code = self.region_currency().await?.to_owned();
            for batch in wanted.chunks(MAX_SKUS_PER_REQUEST) {
                let batch: Vec<&str> = batch.iter().map(|s| s.as_str()).collect();
                for variant in self.variants_by_sku(&batch, VARIANT_FIELDS).await? {
                    // Only what was asked for: an answer about other SKUs is not ours to use.
                    if let Some(product) = self.product(variant, &currency_code)? {
                        if seen.contains(&product.sku) {
                            found.insert(product.sku.clone(), product);
                        }
                    }
                }
            }
            Ok::<_, CallError>(found)
        };
        catalog_call("medusa", "catalog lookup", lookup, HashMap::len).await
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let search = async {
            let currency_code = self.region_currency().await?.to_owned();
            let limit_text = limit.min(MAX_SEARCH).to_string();
            let answer: Answer<Variants> = self
                .api
                .admin_get(
                    "admin/product-variants",
                    &[
                        ("q", query.trim()),
                        ("fields", VARIANT_FIELDS),
                        ("limit", &limit_text),
                    ],
                )
                .await?;
            let mut products = Vec::new();
            for variant in answer.body.variants {
                if let Some(product) = self.product(variant, &currency_code)? {
                    products.push(product);
                }
            }
            products.truncate(limit);
            Ok::<_, CallError>(products)
        };
        catalog_call("medusa", "catalog search", search, Vec::len).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_is_asked_as_the_bot_spells_it_and_in_lower_case() {
        assert_eq!(
            sku_spellings(&["FS-001", "123"]),
            ["FS-001", "fs-001", "123"]
        );
    }

    #[test]
    fn a_product_is_named_by_its_title_and_a_variant_that_says_more() {
        assert_eq!(name("Kopi Gayo", Some("Kopi Gayo")), "Kopi Gayo");
        assert_eq!(name("Kopi Gayo", Some(DEFAULT_VARIANT_TITLE)), "Kopi Gayo");
        assert_eq!(name("Kopi Gayo", None), "Kopi Gayo");
        assert_eq!(
            name("[T1] Kopi Gayo 250 g", Some("Kopi Gayo 250 g")),
            "[T1] Kopi Gayo 250 g"
        );
        assert_eq!(
            name("Kaos Polos", Some("XL / Hitam")),
            "Kaos Polos (XL / Hitam)"
        );
    }
}
