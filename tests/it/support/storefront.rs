//! The dev storefront (the bot's publishing target in development) on a free
//! loopback port, with the sample catalog and the test webhook secret.

use flashsale_bot::devstore::{self, DevStore, DevStoreConfig};

/// A dev storefront serving until the test ends.
pub async fn dev_storefront() -> DevStore {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    devstore::spawn(
        listener,
        DevStoreConfig {
            products: devstore::sample_catalog().expect("the sample catalog"),
            webhook_secret: devstore::test_secret(),
        },
    )
    .await
    .expect("the dev storefront starts")
}
