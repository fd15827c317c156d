//! Which kind of shop the bot sells through: `SHOP=webhook` (default: a shop
//! that implements our contract, docs/storefront-api.yaml, at
//! `STOREFRONT_URL`) or `SHOP=medusa` (a Medusa 2 store, `MEDUSA_*`, read
//! only then, each missing variable named) or `SHOP=shopify` (a Shopify
//! store, `SHOPIFY_*`, likewise).

use super::env::Env;
use super::ConfigError;
use crate::medusa::MedusaSettings;
use crate::shopify::ShopifySettings;

pub const SHOP: &str = "SHOP";

/// The shop the runtime connects (`runtime::shop`).
#[derive(Debug, Clone)]
pub enum ShopChoice {
    /// Our webhook contract: catalog and sales at `STOREFRONT_URL`, signed
    /// with `STOREFRONT_WEBHOOK_SECRET`.
    Webhook,
    Medusa(MedusaSettings),
    Shopify(ShopifySettings),
}

pub(super) fn read(env: &Env<'_>) -> Result<ShopChoice, ConfigError> {
    #[derive(Clone, Copy)]
    enum Kind {
        Webhook,
        Medusa,
        Shopify,
    }
    let kind = env.parse(SHOP, "webhook", "webhook, medusa or shopify", |v| {
        match v.trim().to_ascii_lowercase().as_str() {
            "webhook" => Some(Kind::Webhook),
            "medusa" => Some(Kind::Medusa),
            "shopify" => Some(Kind::Shopify),
            _ => None,
        }
    })?;
    Ok(match kind {
        Kind::Webhook => ShopChoice::Webhook,
        Kind::Medusa => ShopChoice::Medusa(super::medusa::read_env(env)?),
        Kind::Shopify => ShopChoice::Shopify(super::shopify::read_env(env)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::medusa::{
        MEDUSA_PUBLISHABLE_API_KEY, MEDUSA_REGION_ID, MEDUSA_SECRET_API_KEY, MEDUSA_URL,
    };
    use std::collections::HashMap;

    fn read_with(vars: &[(&str, &str)]) -> Result<ShopChoice, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |k: &str| vars.get(k).cloned();
        read(&Env::new(&lookup))
    }

    #[test]
    fn the_webhook_contract_is_the_default() {
        assert!(matches!(read_with(&[]), Ok(ShopChoice::Webhook)));
        assert!(matches!(
            read_with(&[(SHOP, "Webhook")]),
            Ok(ShopChoice::Webhook)
        ));
    }

    #[test]
    fn an_unknown_shop_names_the_choices() {
        let refused = read_with(&[(SHOP, "woocommerce")]).unwrap_err();
        assert!(
            refused.to_string().contains("webhook, medusa or shopify"),
            "{refused}"
        );
    }

    #[test]
    fn medusa_without_its_settings_names_the_first_missing_one() {
        let refused = read_with(&[(SHOP, "medusa")]).unwrap_err();
        assert!(matches!(refused, ConfigError::Missing { var, .. } if var == MEDUSA_URL));
        let full = read_with(&[
            (SHOP, "medusa"),
            (MEDUSA_URL, "http://127.0.0.1:9000"),
            (MEDUSA_SECRET_API_KEY, "sk_test"),
            (MEDUSA_PUBLISHABLE_API_KEY, "pk_test"),
            (MEDUSA_REGION_ID, "reg_test"),
        ]);
        assert!(matches!(full, Ok(ShopChoice::Medusa(_))), "{full:?}");
    }

    #[test]
    fn shopify_without_its_settings_names_the_first_missing_one() {
        use crate::config::shopify::{SHOPIFY_ACCESS_TOKEN, SHOPIFY_SHOP_URL};
        let refused = read_with(&[(SHOP, "shopify")]).unwrap_err();
        assert!(matches!(refused, ConfigError::Missing { var, .. } if var == SHOPIFY_SHOP_URL));
        let full = read_with(&[
            (SHOP, "Shopify"),
            (SHOPIFY_SHOP_URL, "https://flash.myshopify.com"),
            (SHOPIFY_ACCESS_TOKEN, "shpat_test"),
        ]);
        assert!(matches!(full, Ok(ShopChoice::Shopify(_))), "{full:?}");
    }
}
