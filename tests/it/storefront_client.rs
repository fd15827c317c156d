//! The storefront client against a real loopback server that asks for too
//! long a wait, answers with a huge, hostile error page, or answers 409 with
//! or without the stale-revision code.

use std::time::Duration;

use crate::support::storefront::sample_sale;
use chrono::{TimeZone, Utc};
use flashsale_bot::devstore;
use flashsale_bot::storefront::{
    HttpStorefront, SaleRequest, SaleWrite, Storefront, StorefrontError, MAX_RETRY_AFTER,
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

fn write(revision: i64) -> SaleWrite {
    SaleWrite {
        key: "key-1".to_owned(),
        revision,
    }
}

/// A sale; the client does not check it, the storefront would.
fn sale() -> SaleRequest {
    let starts_at = Utc
        .with_ymd_and_hms(2030, 1, 2, 12, 0, 0)
        .single()
        .expect("a time");
    sample_sale(
        7,
        "Client Flash",
        starts_at,
        chrono::Duration::minutes(30),
        0,
    )
}

/// A server that answers every call 409 with `body`.
async fn conflict(body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(409).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_stale_revision_409_is_superseded_with_the_applied_revision_and_not_retried() {
    let server = conflict(serde_json::json!({
        "error": "revision 3 is not newer than revision 9",
        "code": "stale_revision",
        "revision": 9,
        "sale": null,
    }))
    .await;
    let shop = client(&server).await;

    let publish = shop.publish(&sale(), &write(3)).await.unwrap_err();
    let end = shop.end(7, &write(3)).await.unwrap_err();

    for err in [publish, end] {
        assert!(
            matches!(err, StorefrontError::Superseded { applied: 9 }),
            "{err:?}"
        );
        assert!(!err.is_transient(), "{err}");
    }
}

#[tokio::test]
async fn a_409_without_the_stale_revision_code_stays_a_transient_status() {
    for body in [
        serde_json::json!({"error": "busy with another write to this sale"}),
        serde_json::json!({"error": "busy", "code": "locked", "revision": 9}),
        serde_json::json!({"error": "no number", "code": "stale_revision"}),
    ] {
        let server = conflict(body.clone()).await;
        let shop = client(&server).await;

        let publish = shop.publish(&sale(), &write(3)).await.unwrap_err();
        let end = shop.end(7, &write(3)).await.unwrap_err();

        for err in [publish, end] {
            assert!(
                matches!(err, StorefrontError::Status { status: 409, .. }),
                "{body}: {err:?}"
            );
            assert!(err.is_transient(), "{body}: {err}");
        }
    }
}
