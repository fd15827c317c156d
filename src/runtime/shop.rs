//! The shop the bot sells through: its catalog and its sales, from one
//! adapter chosen by configuration, and what it can do by itself.
//!
//! The webhook adapter (our contract, docs/storefront-api.yaml) asks the
//! shop at start whether it schedules sales (`GET /api/capabilities`); a
//! shop that cannot be asked then is taken to do what every shop does
//! (publish at the start), which is safe with any shop: a sale staged by an
//! earlier run is then confirmed or put up again at its start. What the shop
//! can do goes into the policy (`SchedulePolicy::shop`), which decides the
//! jobs each sale gets.

use std::sync::Arc;

use super::StartupError;
use crate::catalog::{CachedCatalog, Catalog, HttpCatalog};
use crate::config::{Config, ShopChoice};
use crate::medusa::MedusaShop;
use crate::shopify::ShopifyShop;
use crate::storefront::{HttpStorefront, Storefront};

/// One shop, as the app (its catalog) and the scheduler (its sales) use it.
#[derive(Clone)]
pub struct Shop {
    pub catalog: Arc<dyn Catalog>,
    pub sales: Arc<dyn Storefront>,
}

/// Builds the configured shop's adapters and asks what the shop can do.
pub async fn connect(config: &Config) -> Result<Shop, StartupError> {
    let shop = match &config.shop {
        ShopChoice::Webhook => webhook(config).await?,
        ShopChoice::Medusa(settings) => {
            let medusa = MedusaShop::new(settings.clone(), config.policy.currency.clone())
                .map_err(StartupError::Storefront)?;
            let medusa = Arc::new(medusa);
            Shop {
                catalog: Arc::new(CachedCatalog::new(medusa.clone(), config.catalog_cache_ttl)),
                sales: medusa,
            }
        }
        ShopChoice::Shopify(settings) => {
            let shopify = ShopifyShop::new(settings.clone(), config.policy.currency.clone())
                .map_err(StartupError::Storefront)?;
            tracing::info!(mode = shopify.mode().as_str(), "selling through Shopify");
            let shopify = Arc::new(shopify);
            Shop {
                catalog: Arc::new(CachedCatalog::new(
                    shopify.clone(),
                    config.catalog_cache_ttl,
                )),
                sales: shopify,
            }
        }
    };
    tracing::info!(capabilities = ?shop.sales.capabilities(), "shop connected");
    Ok(shop)
}

async fn webhook(config: &Config) -> Result<Shop, StartupError> {
    let catalog = HttpCatalog::new(
        config.storefront_url.clone(),
        config.policy.currency.clone(),
        config.catalog_timeout,
    )
    .map_err(StartupError::Catalog)?;
    let sales = webhook_sales(config)?;
    let sales = match sales.clone().discover().await {
        Ok(discovered) => discovered,
        Err(e) => {
            tracing::warn!(error = %e, "could not ask the storefront what it can do; publishing at the start");
            sales
        }
    };
    Ok(Shop {
        catalog: Arc::new(CachedCatalog::new(catalog, config.catalog_cache_ttl)),
        sales: Arc::new(sales),
    })
}

/// The webhook contract's sales client, as configured (nothing asked yet).
pub fn webhook_sales(config: &Config) -> Result<HttpStorefront, StartupError> {
    let secret = config
        .storefront_webhook_secret
        .as_ref()
        .ok_or(StartupError::MissingWebhookSecret)?;
    HttpStorefront::new(
        config.storefront_url.clone(),
        secret,
        config.storefront_timeout,
    )
    .map_err(StartupError::Storefront)
}
