//! A flash sale as the storefront receives it: the publish body as sent (`PublishBody`) and the checked
//! sale built from it and the catalog (`Sale`), and the end body (`EndBody`). Every rule a write's body
//! must pass lives here, so `state` only maps a `SaleError` to a 422. Both bodies carry the write's
//! revision; whether it is newer than the last one applied is `state`'s question, since only the shop's
//! memory can answer it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DevProduct;

/// A flash sale shows exactly this many products (docs/design.md, section 2: six SKUs per session).
pub(crate) const ITEMS_PER_SALE: usize = 6;
/// Discounts outside this range are refused, as the bot's guardrails promise.
const DISCOUNT_RANGE: std::ops::RangeInclusive<i64> = 1..=90;
/// Titles longer than this are refused: the page has one line for them.
const MAX_TITLE_CHARS: usize = 200;

/// The `PUT /api/flash-sales/{id}` body as it comes over the wire.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PublishBody {
    session_id: i64,
    title: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    currency: String,
    items: Vec<PublishItem>,
    /// Optional in the wire shape only so that a missing one gets its own sentence, not serde's.
    #[serde(default)]
    revision: Option<i64>,
}

/// The `DELETE /api/flash-sales/{id}` body as it comes over the wire. Unknown fields are refused, as
/// the contract's `additionalProperties: false` says: an end has nothing else to say.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndBody {
    session_id: i64,
    #[serde(default)]
    revision: Option<i64>,
}

/// One item of a publish body. `name` and `base_price_minor` may be left out: the catalog knows them.
#[derive(Clone, Debug, Deserialize)]
struct PublishItem {
    sku: String,
    #[serde(default)]
    name: Option<String>,
    discount_percent: i64,
    #[serde(default)]
    base_price_minor: Option<i64>,
    flash_price_minor: i64,
    quantity: i64,
}

/// A publish body that passed every check, with names and base prices filled in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sale {
    pub session_id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub currency: String,
    pub items: Vec<SaleItem>,
}

/// One checked item; `sku` is spelled as the catalog spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SaleItem {
    pub sku: String,
    pub name: String,
    pub discount_percent: i64,
    pub base_price_minor: i64,
    pub flash_price_minor: i64,
    pub quantity: i64,
}

/// Why a write's body is refused with 422; the message is the answer's `error`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SaleError {
    #[error("session_id {body} in the body does not match {path} in the path")]
    SessionMismatch { path: i64, body: i64 },
    #[error("the body has no revision: every write carries one, a whole number from 1 that is larger than the last write's")]
    MissingRevision,
    #[error("revision {0} is not allowed: a revision is a whole number from 1")]
    Revision(i64),
    #[error("the body is not an end ({0}); send {{\"session_id\": <the path's id>, \"revision\": <a whole number from 1>}}")]
    EndShape(String),
    #[error("the title must be 1-{MAX_TITLE_CHARS} characters")]
    Title,
    #[error("currency {0:?} is not a three-letter upper-case code")]
    Currency(String),
    #[error("ends_at must be after starts_at")]
    Window,
    #[error("a flash sale has exactly {ITEMS_PER_SALE} items, this one has {0}")]
    ItemCount(usize),
    #[error("item {index}: SKU {sku:?} is not in the catalog")]
    UnknownSku { index: usize, sku: String },
    #[error("item {index}: {sku} is inactive and cannot be on sale")]
    InactiveSku { index: usize, sku: String },
    #[error("item {index}: {sku} appears more than once")]
    DuplicateSku { index: usize, sku: String },
    #[error("item {index}: {sku} is priced in {catalog}, the sale is in {sale}")]
    CurrencyMismatch {
        index: usize,
        sku: String,
        catalog: String,
        sale: String,
    },
    #[error("item {index}: discount {value} % is outside 1-90 %")]
    Discount { index: usize, value: i64 },
    #[error("item {index}: quantity {value} must be at least 1")]
    Quantity { index: usize, value: i64 },
    #[error("item {index}: a price cannot be negative")]
    NegativePrice { index: usize },
    #[error("item {index}: flash price {got} does not follow from base price {base} at {discount} % off")]
    FlashPrice {
        index: usize,
        got: i64,
        base: i64,
        discount: i64,
    },
}

/// A revision as a write must carry it: present, and at least 1.
fn checked_revision(raw: Option<i64>) -> Result<i64, SaleError> {
    match raw {
        None => Err(SaleError::MissingRevision),
        Some(revision) if revision < 1 => Err(SaleError::Revision(revision)),
        Some(revision) => Ok(revision),
    }
}

impl PublishBody {
    /// The write's revision, checked with the session it names before the sale itself is: a stale
    /// write is answered as stale (409) even when its sale would now be refused, because the newer
    /// decision is what the bot needs to hear about.
    pub(crate) fn revision(&self, path_id: i64) -> Result<i64, SaleError> {
        if self.session_id != path_id {
            return Err(SaleError::SessionMismatch {
                path: path_id,
                body: self.session_id,
            });
        }
        checked_revision(self.revision)
    }
}

impl EndBody {
    /// The revision of an end sent to `path_id`, or why its body is refused. The body is required:
    /// without a revision an end could not be told apart from a late, older one.
    pub(crate) fn revision_of(body: &[u8], path_id: i64) -> Result<i64, SaleError> {
        if body.is_empty() {
            return Err(SaleError::EndShape("the body is empty".to_owned()));
        }
        let parsed: EndBody =
            serde_json::from_slice(body).map_err(|e| SaleError::EndShape(e.to_string()))?;
        if parsed.session_id != path_id {
            return Err(SaleError::SessionMismatch {
                path: path_id,
                body: parsed.session_id,
            });
        }
        checked_revision(parsed.revision)
    }
}

impl Sale {
    /// Checks `body` (published at `path_id`) against the rules and the catalog.
    pub(crate) fn from_body(
        body: PublishBody,
        path_id: i64,
        catalog: &[DevProduct],
    ) -> Result<Sale, SaleError> {
        if body.session_id != path_id {
            return Err(SaleError::SessionMismatch {
                path: path_id,
                body: body.session_id,
            });
        }
        let title = body.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(SaleError::Title);
        }
        if body.currency.len() != 3 || !body.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(SaleError::Currency(body.currency));
        }
        if body.ends_at <= body.starts_at {
            return Err(SaleError::Window);
        }
        if body.items.len() != ITEMS_PER_SALE {
            return Err(SaleError::ItemCount(body.items.len()));
        }
        let mut items: Vec<SaleItem> = Vec::with_capacity(ITEMS_PER_SALE);
        for (i, item) in body.items.into_iter().enumerate() {
            let checked = check_item(item, i + 1, &body.currency, catalog)?;
            if items.iter().any(|seen| seen.sku == checked.sku) {
                return Err(SaleError::DuplicateSku {
                    index: i + 1,
                    sku: checked.sku,
                });
            }
            items.push(checked);
        }
        Ok(Sale {
            session_id: body.session_id,
            title,
            starts_at: body.starts_at,
            ends_at: body.ends_at,
            currency: body.currency,
            items,
        })
    }
}

/// Checks one item (`index` counts from 1, as people do) and fills in what the catalog knows.
fn check_item(
    item: PublishItem,
    index: usize,
    currency: &str,
    catalog: &[DevProduct],
) -> Result<SaleItem, SaleError> {
    let product = find_product(catalog, &item.sku).ok_or_else(|| SaleError::UnknownSku {
        index,
        sku: item.sku.clone(),
    })?;
    let sku = product.sku.clone();
    if !product.active {
        return Err(SaleError::InactiveSku { index, sku });
    }
    if product.currency != currency {
        return Err(SaleError::CurrencyMismatch {
            index,
            sku,
            catalog: product.currency.clone(),
            sale: currency.to_owned(),
        });
    }
    if !DISCOUNT_RANGE.contains(&item.discount_percent) {
        return Err(SaleError::Discount {
            index,
            value: item.discount_percent,
        });
    }
    if item.quantity < 1 {
        return Err(SaleError::Quantity {
            index,
            value: item.quantity,
        });
    }
    let base = item.base_price_minor.unwrap_or(product.price_minor);
    if base < 0 || item.flash_price_minor < 0 {
        return Err(SaleError::NegativePrice { index });
    }
    if !flash_price_follows(base, item.discount_percent, item.flash_price_minor) {
        return Err(SaleError::FlashPrice {
            index,
            got: item.flash_price_minor,
            base,
            discount: item.discount_percent,
        });
    }
    let name = match item.name {
        Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => product.name.clone(),
    };
    Ok(SaleItem {
        sku,
        name,
        discount_percent: item.discount_percent,
        base_price_minor: base,
        flash_price_minor: item.flash_price_minor,
        quantity: item.quantity,
    })
}

/// The catalog entry for `sku`, compared case-insensitively after trimming (the contract's rule).
pub(crate) fn find_product<'a>(catalog: &'a [DevProduct], sku: &str) -> Option<&'a DevProduct> {
    let wanted = sku.trim();
    catalog.iter().find(|p| p.sku.eq_ignore_ascii_case(wanted))
}

/// Whether `flash` is `base * (100 - discount) / 100` rounded either way to a whole minor unit: the
/// storefront does not dictate a rounding mode, it only catches prices that do not match the discount.
fn flash_price_follows(base: i64, discount: i64, flash: i64) -> bool {
    let exact_times_100 = i128::from(base) * i128::from(100 - discount);
    let flash_times_100 = i128::from(flash) * 100;
    (flash_times_100 - exact_times_100).abs() < 100
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn catalog() -> Vec<DevProduct> {
        let mut products: Vec<DevProduct> = (1..=7)
            .map(|n| DevProduct {
                sku: format!("FS-{n:03}"),
                name: format!("Product {n}"),
                price_minor: 149_500,
                currency: "IDR".into(),
                stock: 100,
                active: true,
                unit_cost_minor: None,
                min_advertised_price_minor: None,
                lowest_price_30d_minor: None,
                previous_price_minor: None,
                price_changed_at: None,
                price_changed_days_ago: None,
            })
            .collect();
        products[6].active = false;
        products
    }

    fn body(items: usize) -> Value {
        let items: Vec<Value> = (1..=items)
            .map(|n| json!({"sku": format!("fs-{n:03}"), "discount_percent": 30,
                            "base_price_minor": 149_500, "flash_price_minor": 104_650, "quantity": 10}))
            .collect();
        json!({"session_id": 12, "title": " Midnight Deals ", "starts_at": "2026-11-26T17:00:00Z",
               "ends_at": "2026-11-27T05:00:00Z", "currency": "IDR", "items": items, "revision": 3})
    }

    fn check(body: Value) -> Result<Sale, SaleError> {
        let body: PublishBody = serde_json::from_value(body).expect("wire shape");
        Sale::from_body(body, 12, &catalog())
    }

    #[test]
    fn a_valid_body_becomes_a_sale_with_catalog_names_and_canonical_skus() {
        let sale = check(body(6)).expect("valid");
        assert_eq!(sale.title, "Midnight Deals");
        assert_eq!(sale.items[0].sku, "FS-001");
        assert_eq!(sale.items[0].name, "Product 1");
    }

    #[test]
    fn five_items_are_refused() {
        assert_eq!(check(body(5)), Err(SaleError::ItemCount(5)));
    }

    #[test]
    fn discounts_outside_one_to_ninety_are_refused() {
        for value in [0, 91] {
            let mut b = body(6);
            b["items"][2]["discount_percent"] = json!(value);
            assert_eq!(check(b), Err(SaleError::Discount { index: 3, value }));
        }
    }

    #[test]
    fn a_session_id_other_than_the_path_is_refused() {
        let mut b = body(6);
        b["session_id"] = json!(13);
        assert_eq!(
            check(b),
            Err(SaleError::SessionMismatch { path: 12, body: 13 })
        );
    }

    #[test]
    fn an_end_not_after_the_start_is_refused() {
        let mut b = body(6);
        b["ends_at"] = b["starts_at"].clone();
        assert_eq!(check(b), Err(SaleError::Window));
    }

    #[test]
    fn unknown_inactive_and_repeated_skus_are_refused() {
        let mut b = body(6);
        b["items"][0]["sku"] = json!("NOPE");
        assert!(matches!(
            check(b),
            Err(SaleError::UnknownSku { index: 1, .. })
        ));
        let mut b = body(6);
        b["items"][5]["sku"] = json!("FS-007");
        assert!(matches!(
            check(b),
            Err(SaleError::InactiveSku { index: 6, .. })
        ));
        let mut b = body(6);
        b["items"][1]["sku"] = json!("FS-001");
        assert!(matches!(
            check(b),
            Err(SaleError::DuplicateSku { index: 2, .. })
        ));
    }

    #[test]
    fn a_flash_price_that_does_not_follow_from_the_discount_is_refused() {
        let mut b = body(6);
        b["items"][0]["flash_price_minor"] = json!(14_950);
        assert!(matches!(
            check(b),
            Err(SaleError::FlashPrice { index: 1, .. })
        ));
    }

    fn publish_revision(body: Value) -> Result<i64, SaleError> {
        let body: PublishBody = serde_json::from_value(body).expect("wire shape");
        body.revision(12)
    }

    #[test]
    fn a_publish_carries_its_revision() {
        assert_eq!(publish_revision(body(6)), Ok(3));
    }

    #[test]
    fn a_publish_without_a_revision_or_with_one_below_one_is_refused() {
        let mut b = body(6);
        b.as_object_mut().expect("an object").remove("revision");
        assert_eq!(publish_revision(b), Err(SaleError::MissingRevision));
        for value in [0, -5] {
            let mut b = body(6);
            b["revision"] = json!(value);
            assert_eq!(publish_revision(b), Err(SaleError::Revision(value)));
        }
    }

    #[test]
    fn a_publish_revision_that_is_not_a_whole_number_is_not_a_publish_body() {
        let mut b = body(6);
        b["revision"] = json!(1.5);
        assert!(serde_json::from_value::<PublishBody>(b).is_err());
    }

    #[test]
    fn an_end_carries_the_path_session_and_a_revision() {
        let end = |v: Value| EndBody::revision_of(v.to_string().as_bytes(), 12);
        assert_eq!(end(json!({"session_id": 12, "revision": 7})), Ok(7));
        assert_eq!(
            end(json!({"session_id": 13, "revision": 7})),
            Err(SaleError::SessionMismatch { path: 12, body: 13 })
        );
        assert_eq!(
            end(json!({"session_id": 12})),
            Err(SaleError::MissingRevision)
        );
        assert_eq!(
            end(json!({"session_id": 12, "revision": 0})),
            Err(SaleError::Revision(0))
        );
    }

    #[test]
    fn an_empty_or_foreign_end_body_is_refused_with_the_shape_to_send() {
        for body in [
            &b""[..],
            b"null",
            b"{\"session_id\": 12, \"revision\": 7, \"why\": \"x\"}",
        ] {
            let e = EndBody::revision_of(body, 12).expect_err("refused");
            assert!(matches!(e, SaleError::EndShape(_)), "{e:?}");
            assert!(e.to_string().contains("\"revision\""), "{e}");
        }
    }

    #[test]
    fn flash_prices_rounded_either_way_are_accepted() {
        // 1005 at 50 % is 502.5: both 502 and 503 are honest roundings, 501 is not.
        assert!(flash_price_follows(1005, 50, 502));
        assert!(flash_price_follows(1005, 50, 503));
        assert!(!flash_price_follows(1005, 50, 501));
        assert!(flash_price_follows(149_500, 30, 104_650));
    }
}
