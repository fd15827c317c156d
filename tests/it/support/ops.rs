//! The operations listener (`/healthz`, `/readyz`, `/metrics`) on a free
//! loopback port, and plain GETs against it.

use std::time::Duration;

use flashsale_bot::http::{self, ChatState, Readiness};
use sqlx::PgPool;

/// The listener on a free loopback port, serving until the test ends; returns its base URL.
pub async fn listen(readiness: Readiness) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(http::serve(listener, readiness, std::future::pending()));
    format!("http://{addr}")
}

/// Readiness of a process on `pool` whose chat is connected.
pub fn connected(pool: PgPool) -> Readiness {
    let readiness = Readiness::new(pool);
    readiness.set_chat_state(ChatState::Connected);
    readiness
}

/// `GET url`: the status and the body.
pub async fn get(url: impl reqwest::IntoUrl) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}
