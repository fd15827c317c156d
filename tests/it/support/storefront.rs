//! The dev storefront (the bot's publishing target in development) on a free
//! loopback port, with the sample catalog and the test webhook secret.

use std::ops::Deref;

use flashsale_bot::devstore::{self, DevStore, DevStoreConfig};

use super::contract::{assert_calls_follow_contract, Check};

/// A dev storefront that, when the test is done, checks every call it received against
/// `docs/storefront-api.yaml` (see [`super::contract`]). It is a [`DevStore`] otherwise.
pub struct CheckedStore {
    store: DevStore,
    check: Check,
}

impl Deref for CheckedStore {
    type Target = DevStore;

    fn deref(&self) -> &DevStore {
        &self.store
    }
}

impl Drop for CheckedStore {
    fn drop(&mut self) {
        // A test that already failed says why; a second panic would abort the run instead.
        if !std::thread::panicking() {
            assert_calls_follow_contract(&self.store.calls(), self.check);
        }
    }
}

/// A dev storefront serving until the test ends; every request it gets must come from the bot's own
/// clients, so requests and answers are both checked against the contract.
pub async fn dev_storefront() -> CheckedStore {
    dev_storefront_checking(Check::BotAndStorefront).await
}

/// A dev storefront whose calls are checked as `check` says when the test ends.
pub async fn dev_storefront_checking(check: Check) -> CheckedStore {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let store = devstore::spawn(
        listener,
        DevStoreConfig {
            products: devstore::sample_catalog().expect("the sample catalog"),
            webhook_secret: devstore::test_secret(),
            // Tests that move a publish job to "now" instead of waiting for
            // the window need the bot to publish at the start; the staged
            // stories set the clientside capability themselves (`GoLive::staged`).
            schedules_sales: false,
            state_file: None,
        },
    )
    .await
    .expect("the dev storefront starts");
    CheckedStore { store, check }
}

/// The first `count` sample-catalog products at 30 % off, 5 each, priced as
/// the bot prices them, in a window of `length` from `starts_at` (past or
/// future: the window is checked against a `now` a day before it).
pub fn sample_sale(
    session_id: i64,
    title: &str,
    starts_at: chrono::DateTime<chrono::Utc>,
    length: chrono::Duration,
    count: usize,
) -> flashsale_bot::storefront::SaleRequest {
    use flashsale_bot::domain::{
        Currency, DiscountPercent, Money, Quantity, Sku, SkuRules, Window, WindowRules,
    };
    use flashsale_bot::storefront::{SaleLine, SaleRequest};
    let catalog = devstore::sample_catalog().expect("sample catalog");
    let window = Window::new(
        starts_at,
        starts_at + length,
        starts_at - chrono::Duration::days(1),
        &WindowRules::default(),
    )
    .expect("a valid window");
    let owned: Vec<(Sku, String, Money)> = catalog
        .iter()
        .take(count)
        .map(|p| {
            (
                Sku::parse(&p.sku, &SkuRules::default()).expect("a sample SKU"),
                p.name.clone(),
                Money::from_minor(
                    p.price_minor,
                    Currency::from_code(&p.currency).expect("IDR"),
                ),
            )
        })
        .collect();
    let discount = DiscountPercent::new(30).expect("30 %");
    let quantity = Quantity::new(5).expect("5");
    let lines: Vec<SaleLine<'_>> = owned
        .iter()
        .map(|(sku, name, price)| SaleLine {
            sku,
            name,
            discount,
            base_price: price,
            quantity,
        })
        .collect();
    SaleRequest::new(session_id, title, &window, &lines)
}
