//! Drafting: creating a session and editing its items.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{Postgres, Transaction};

use super::intake::{checked_product, parse_item, CheckedItem, DraftText, When};
use super::{lock_session, view, AppError, Core, Desk, InputError, SessionView};
use crate::catalog::{Freshness, Product};
use crate::domain::rules::{self};
use crate::domain::status::transition;
use crate::domain::{Action, ActivityKind, Actor, DiscountPercent, Policy, Quantity, Sku};
use crate::store::{items, overrides};
use crate::store::{sessions, ItemRecord};

/// A new session as typed in the draft form.
#[derive(Debug, Clone, Default)]
pub struct DraftInput {
    pub title: String,
    /// Business-zone time: `YYYY-MM-DD HH:MM`, `today HH:MM`, `tomorrow HH:MM` or `HH:MM`.
    pub start: String,
    pub end: String,
    pub notes: Option<String>,
}

/// One item in the domain's types: what every adapter hands to `add_item`,
/// parsed once at its edge (typed options into `DiscountPercent::new`, typed
/// text through `ItemInput::parse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub sku: Sku,
    pub discount: DiscountPercent,
    pub quantity: Quantity,
}

impl NewItem {
    /// From a platform's typed options (whole numbers already), without a detour through text.
    pub fn from_options(
        sku: &str,
        discount: i64,
        quantity: i64,
        policy: &Policy,
    ) -> Result<NewItem, AppError> {
        Ok(NewItem {
            sku: Sku::parse(sku, &policy.sku)?,
            discount: DiscountPercent::new(discount)?,
            quantity: Quantity::new(quantity)?,
        })
    }
}

/// A change to an existing item; what is `None` stays as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemEdit {
    pub sku: Sku,
    pub discount: Option<DiscountPercent>,
    pub quantity: Option<Quantity>,
}

impl ItemEdit {
    /// From a platform's typed options, as `NewItem::from_options`.
    pub fn from_options(
        sku: &str,
        discount: Option<i64>,
        quantity: Option<i64>,
        policy: &Policy,
    ) -> Result<ItemEdit, AppError> {
        Ok(ItemEdit {
            sku: Sku::parse(sku, &policy.sku)?,
            discount: discount.map(DiscountPercent::new).transpose()?,
            quantity: quantity.map(Quantity::new).transpose()?,
        })
    }
}

/// One item as typed in text (a console or Slack command, a pasted line):
/// the shared parser for platforms whose input is words, not typed options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemInput {
    pub sku: String,
    pub discount: String,
    pub quantity: String,
}

impl ItemInput {
    /// SKU, then discount, then quantity: the first that is wrong is the answer.
    pub fn parse(&self, policy: &Policy) -> Result<NewItem, AppError> {
        let fields = parse_item(&self.sku, &self.discount, &self.quantity, policy);
        Ok(NewItem {
            sku: fields.sku?,
            discount: fields.discount?,
            quantity: fields.quantity?,
        })
    }
}

/// A change as typed in text; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct ItemChange {
    pub sku: String,
    pub discount: Option<String>,
    pub quantity: Option<String>,
}

impl ItemChange {
    pub fn parse(&self, policy: &Policy) -> Result<ItemEdit, AppError> {
        Ok(ItemEdit {
            sku: Sku::parse(&self.sku, &policy.sku)?,
            discount: self
                .discount
                .as_deref()
                .map(DiscountPercent::parse)
                .transpose()?,
            quantity: self.quantity.as_deref().map(Quantity::parse).transpose()?,
        })
    }
}

impl Desk {
    #[tracing::instrument(skip_all, fields(actor = %actor.id))]
    pub async fn create_draft(
        &self,
        actor: &Actor,
        input: &DraftInput,
    ) -> Result<SessionView, AppError> {
        let given = DraftText {
            title: &input.title,
            when: When::Typed {
                start: Some(&input.start),
                end: Some(&input.end),
            },
            notes: input.notes.as_deref(),
        };
        self.draft_from(actor, given).await
    }

    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn add_item(
        &self,
        actor: &Actor,
        session_id: i64,
        item: &NewItem,
    ) -> Result<SessionView, AppError> {
        let product = self.product(&item.sku, Freshness::AllowCached).await?;
        self.add_item_known(actor, session_id, item, product).await
    }

    /// As [`Desk::add_item`], with the catalog's answer for the SKU already
    /// read (`None`: the catalog does not know it): a batch asks the catalog
    /// once for all its lines.
    pub(super) async fn add_item_known(
        &self,
        actor: &Actor,
        session_id: i64,
        item: &NewItem,
        product: Option<Product>,
    ) -> Result<SessionView, AppError> {
        let NewItem {
            sku,
            discount,
            quantity,
        } = item;
        let (sku, discount, quantity) = (sku.clone(), *discount, *quantity);
        let added = self
            .add_checked(actor, session_id, sku, discount, quantity, product.clone())
            .await;
        self.core.record_prices(product.as_ref()).await;
        added
    }

    async fn add_checked(
        &self,
        actor: &Actor,
        session_id: i64,
        sku: Sku,
        discount: DiscountPercent,
        quantity: Quantity,
        product: Option<Product>,
    ) -> Result<SessionView, AppError> {
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        transition(session.status, Action::EditItems, actor.roles)?;
        let mut items = items::list(&mut tx, session_id).await?;
        let existing: Vec<Sku> = items.iter().map(|i| i.sku.clone()).collect();
        rules::check_can_add(&existing, &sku)?;
        let mut item = CheckedItem {
            product: checked_product(&sku, quantity, product)?,
            sku,
            discount,
            quantity,
            guard: Default::default(),
        };
        self.core.guard_item(&mut tx, session_id, &mut item).await?;
        let added = items::insert(&mut tx, session_id, &item.write(actor)).await?;
        let details = item.details(added.slot);
        items.push(added);
        items.sort_by_key(|i| i.slot);
        let view = self
            .finish_item_edit(
                tx,
                actor,
                session_id,
                ActivityKind::ItemAdded,
                details,
                &items,
            )
            .await?;
        tracing::info!(sku = %item.sku, "item added");
        Ok(view)
    }

    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn update_item(
        &self,
        actor: &Actor,
        session_id: i64,
        change: &ItemEdit,
    ) -> Result<SessionView, AppError> {
        let sku = change.sku.clone();
        let (discount, quantity) = (change.discount, change.quantity);
        if discount.is_none() && quantity.is_none() {
            return Err(InputError::NothingToChange.into());
        }
        let product = self.product(&sku, Freshness::AllowCached).await?;
        let updated = self
            .update_checked(actor, session_id, sku, discount, quantity, product.clone())
            .await;
        self.core.record_prices(product.as_ref()).await;
        updated
    }

    async fn update_checked(
        &self,
        actor: &Actor,
        session_id: i64,
        sku: Sku,
        discount: Option<DiscountPercent>,
        quantity: Option<Quantity>,
        product: Option<Product>,
    ) -> Result<SessionView, AppError> {
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        transition(session.status, Action::EditItems, actor.roles)?;
        let mut items = items::list(&mut tx, session_id).await?;
        let position = items.iter().position(|i| i.sku == sku).ok_or_else(|| {
            rules::RuleViolation::ItemNotInSession {
                sku: sku.to_string(),
            }
        })?;
        let discount = discount.unwrap_or(items[position].discount);
        let quantity = quantity.unwrap_or(items[position].quantity);
        let mut item = CheckedItem {
            product: checked_product(&sku, quantity, product)?,
            sku: sku.clone(),
            discount,
            quantity,
            guard: Default::default(),
        };
        self.core.guard_item(&mut tx, session_id, &mut item).await?;
        let after = items::update(&mut tx, session_id, &item.write(actor)).await?;
        let product = item.product;
        let before = std::mem::replace(&mut items[position], after);
        let details = json!({
            "sku": sku.as_str(),
            "before": { "discount_percent": before.discount.get(), "quantity": before.quantity.get(),
                        "base_price_minor": before.base_price_minor },
            "after": { "discount_percent": discount.get(), "quantity": quantity.get(),
                       "base_price_minor": product.price.minor() },
        });
        let view = self
            .finish_item_edit(
                tx,
                actor,
                session_id,
                ActivityKind::ItemUpdated,
                details,
                &items,
            )
            .await?;
        tracing::info!(sku = %sku, "item updated");
        Ok(view)
    }

    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn remove_item(
        &self,
        actor: &Actor,
        session_id: i64,
        sku: &str,
    ) -> Result<SessionView, AppError> {
        let sku = Sku::parse(sku, &self.core.policy.sku)?;
        let mut tx = self.core.pool.begin().await?;
        let session = lock_session(&mut tx, session_id).await?;
        transition(session.status, Action::EditItems, actor.roles)?;
        let mut items = items::list(&mut tx, session_id).await?;
        let removed = items::delete(&mut tx, session_id, &sku).await?;
        items.retain(|i| i.sku != removed.sku);
        let details = json!({
            "sku": sku.as_str(),
            "slot": removed.slot,
            "discount_percent": removed.discount.get(),
            "quantity": removed.quantity.get(),
        });
        let view = self
            .finish_item_edit(
                tx,
                actor,
                session_id,
                ActivityKind::ItemRemoved,
                details,
                &items,
            )
            .await?;
        tracing::info!(sku = %sku, "item removed");
        Ok(view)
    }

    /// The end every item edit shares: bump the version and log the edit (one
    /// statement), then commit. The reply is built from `items_now`, the items
    /// the caller read under the session lock with its own write applied, so
    /// nothing is read back: an edit costs six round trips, not nine.
    async fn finish_item_edit(
        &self,
        mut tx: Transaction<'_, Postgres>,
        actor: &Actor,
        session_id: i64,
        kind: ActivityKind,
        details: serde_json::Value,
        items_now: &[ItemRecord],
    ) -> Result<SessionView, AppError> {
        let session =
            sessions::record_edit(&mut tx, session_id, actor, kind.as_str(), details).await?;
        let overrides = overrides::list(&mut tx, session_id, &self.core.policy.currency).await?;
        let view = view::session_view(session, items_now, &overrides, &self.core.policy)?;
        tx.commit().await?;
        Ok(view)
    }

    /// The catalog's answer for one SKU (`None`: the catalog does not know it).
    async fn product(&self, sku: &Sku, freshness: Freshness) -> Result<Option<Product>, AppError> {
        let mut found = self
            .core
            .catalog
            .products(std::slice::from_ref(sku), freshness)
            .await?;
        Ok(found.remove(sku))
    }
}

impl Core {
    /// The catalog's answers for several SKUs at once.
    pub(super) async fn products(
        &self,
        skus: &[Sku],
        freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, AppError> {
        Ok(self.catalog.products(skus, freshness).await?)
    }
}
