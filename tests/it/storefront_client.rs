//! The storefront client against a real loopback server that asks for too
//! long a wait or answers with a huge, hostile error page.

use std::time::Duration;

use flashsale_bot::devstore;
use flashsale_bot::storefront::{
    HttpStorefront, SaleWrite, Storefront, StorefrontError, MAX_RETRY_AFTER,
};
use reqwest::Url;
use secrecy::SecretString;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn client(server: &MockServer) -> HttpStorefront {
    HttpStorefront::new(
        Url::parse(&format!("{}/", server.uri())).unwrap(),
        &SecretString::from(devstore::test_secret()),
        Duration::from_secs(5),
    )
    .unwrap()
}

#[tokio::test]
async fn a_retry_after_of_a_day_is_capped() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400"))
        .mount(&server)
        .await;

    let err = client(&server)
        .await
        .end(
            7,
            &SaleWrite {
                key: "key-1".to_owned(),
                revision: 1,
            },
        )
        .await
        .unwrap_err();

    assert!(err.is_transient());
    assert_eq!(err.retry_after(), Some(MAX_RETRY_AFTER));
    assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(60));
}

#[tokio::test]
async fn a_huge_error_page_becomes_one_short_clean_line() {
    let server = MockServer::start().await;
    let page = format!(
        "<html>\r\n\u{1b}[2J\u{7}<h1>Bad   gateway</h1>\n{}</html>",
        "x".repeat(1024 * 1024)
    );
    Mock::given(any())
        .respond_with(ResponseTemplate::new(502).set_body_string(page))
        .mount(&server)
        .await;

    let err = client(&server)
        .await
        .end(
            7,
            &SaleWrite {
                key: "key-1".to_owned(),
                revision: 1,
            },
        )
        .await
        .unwrap_err();

    let StorefrontError::Status { status, body, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*status, 502);
    assert!(
        body.starts_with("<html> ?[2J?<h1>Bad gateway</h1> xxx"),
        "{body}"
    );
    assert_eq!(body.chars().count(), 121, "{body}");
    assert!(!err.to_string().chars().any(char::is_control), "{err}");
}
