//! The HTTP side of the adapter: one connection pool, the two ways Medusa
//! wants to be authenticated, and failures classified the way every shop
//! adapter's are (`storefront::ShopCallError`), which both ports' errors are
//! made from.
//!
//! - Admin API (`/admin/...`): `Authorization: Basic base64("sk_...:")`, the
//!   secret API key as the user name and no password (Bearer with it is a 401).
//! - Store API (`/store/...`): `x-publishable-api-key: pk_...`; the region is a
//!   query parameter of each call that prices something.
//!
//! Every answer carries the server's `Date` header along with its body: the
//! sale's phase is decided by Medusa's clock, not ours (see `sale`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Client, Method, RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::reference::chain;
use crate::storefront::shop_call::server_date;

/// Connecting may take at most this long (or the whole timeout, if shorter):
/// a Medusa that does not even accept the connection should fail fast.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a call to Medusa failed (the shared classification; Medusa never refuses in words).
pub(super) type CallError = crate::storefront::ShopCallError;

/// An answer's body and the server's clock when it answered.
pub(super) struct Answer<T> {
    pub(super) body: T,
    /// The `Date` header: whole seconds, so at most a second behind the
    /// instant Medusa answered (never ahead of it).
    pub(super) date: Option<DateTime<Utc>>,
}

/// One Medusa server, as both APIs.
#[derive(Clone)]
pub(super) struct Api {
    client: Client,
    /// Always ends in `/`, so joining `admin/...` keeps a path prefix.
    base: Url,
    secret_api_key: SecretString,
    publishable_api_key: String,
    timeout: Duration,
}

impl Api {
    pub(super) fn new(
        base: Url,
        secret_api_key: SecretString,
        publishable_api_key: String,
        timeout: Duration,
    ) -> Result<Api, CallError> {
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(CallError::Unreachable(format!(
                "the Medusa URL must be an http(s) URL, got {base}"
            )));
        }
        let mut base = base;
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .user_agent(concat!("flashsale-bot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                CallError::Unreachable(format!("cannot build the HTTP client: {}", chain(&e)))
            })?;
        Ok(Api {
            client,
            base,
            secret_api_key,
            publishable_api_key,
            timeout,
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, CallError> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| CallError::Unreachable(format!("cannot build a Medusa URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn admin(&self, method: Method, url: Url) -> RequestBuilder {
        // reqwest marks the header sensitive, so it is never logged.
        self.client
            .request(method, url)
            .basic_auth(self.secret_api_key.expose_secret(), None::<&str>)
    }

    pub(super) async fn admin_get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Answer<T>, CallError> {
        let url = self.url(path, query)?;
        self.call(&format!("GET /{path}"), self.admin(Method::GET, url))
            .await
    }

    /// Medusa creates and updates with POST (there is no PATCH).
    pub(super) async fn admin_post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<Answer<T>, CallError> {
        let url = self.url(path, &[])?;
        self.call(
            &format!("POST /{path}"),
            self.admin(Method::POST, url).json(body),
        )
        .await
    }

    pub(super) async fn admin_delete(&self, path: &str) -> Result<(), CallError> {
        let url = self.url(path, &[])?;
        self.call::<serde::de::IgnoredAny>(
            &format!("DELETE /{path}"),
            self.admin(Method::DELETE, url),
        )
        .await
        .map(|_| ())
    }

    pub(super) async fn store_get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Answer<T>, CallError> {
        let url = self.url(path, query)?;
        let request = self
            .client
            .get(url)
            .header("x-publishable-api-key", &self.publishable_api_key);
        self.call(&format!("GET /{path}"), request).await
    }

    /// Sends, checks the status, decodes the body; `what` names the call in
    /// a malformed-answer message (a path, never the host).
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Answer<T>, CallError> {
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| CallError::transport(&e, self.timeout))?;
        if !response.status().is_success() {
            return Err(CallError::status(response, None).await);
        }
        let date = server_date(&response);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::transport(&e, self.timeout))?;
        let body = serde_json::from_slice(&bytes)
            .map_err(|e| CallError::Malformed(format!("{what}: {e}")))?;
        Ok(Answer { body, date })
    }
}
