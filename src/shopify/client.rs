//! The HTTP side of the adapter: one connection pool, Shopify's token
//! header, the pinned API version in the URL, the cost-based rate limit,
//! and one classification of failures that both ports' errors are made of.
//!
//! # The rate limit
//!
//! Shopify meters the Admin GraphQL API in cost points: a bucket of
//! `maximumAvailable` points refilled at `restoreRate` per second (by plan:
//! 100 to 2,000), each query paying its `requestedQueryCost` up front. A
//! query the bucket cannot pay for is answered `THROTTLED` and does
//! nothing. Every answer carries `extensions.cost.throttleStatus`, so the
//! client keeps a model of the bucket (what was available at the last
//! answer, refilling since at the restore rate) and of each operation's
//! cost (its last `requestedQueryCost`), and **waits before** sending a
//! call the bucket cannot pay for yet, reserving the points so concurrent
//! calls do not all count the same ones. A `THROTTLED` answer all the same
//! (another app on the same store spends the same bucket) waits for what
//! the answer says is missing and tries again; the waits of one call are
//! bounded by [`MAX_RETRY_AFTER`], after which it fails as a 429 with the
//! wait still needed (transient: the job's retry comes back).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{Client, Response, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::API_VERSION;
use crate::reference::chain;
use crate::storefront::shop_call::server_date;
use crate::storefront::MAX_RETRY_AFTER;

/// Connecting may take at most this long (or the whole timeout, if shorter).
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Characters of an error body kept for the alert.
const MAX_BODY_IN_ERRORS: usize = 120;
/// What a call not seen before is expected to cost: a mutation's price,
/// and above the adapter's small reads. Its answer then says exactly.
const FIRST_GUESS_COST: f64 = 10.0;

/// Why a call to Shopify failed (the shared classification, `Refused` for `userErrors`).
pub(super) type CallError = crate::storefront::ShopCallError;

/// `userErrors` of a mutation as one refusal: `what` names the change
/// (`"create the discount"`), each error its field path and message.
pub(super) fn refused<'a>(
    what: &str,
    errors: impl IntoIterator<Item = (Option<&'a [String]>, &'a str)>,
) -> Result<(), CallError> {
    let said: Vec<String> = errors
        .into_iter()
        .map(|(field, message)| match field {
            Some(path) if !path.is_empty() => format!("{}: {message}", path.join(".")),
            _ => message.to_owned(),
        })
        .collect();
    if said.is_empty() {
        return Ok(());
    }
    Err(CallError::Refused(format!(
        "Shopify refused to {what}: {}",
        said.join("; ")
    )))
}

/// One answer's data and Shopify's clock when it answered.
pub(super) struct Answer<T> {
    pub(super) data: T,
    /// The `Date` header (whole seconds, at most a second behind).
    pub(super) date: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct RawAnswer {
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    errors: Option<Vec<RawError>>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
struct RawError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    extensions: Option<ErrorExtensions>,
}

#[derive(Debug, Deserialize)]
struct ErrorExtensions {
    #[serde(default)]
    code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Extensions {
    #[serde(default)]
    cost: Option<Cost>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Cost {
    pub(super) requested_query_cost: f64,
    pub(super) throttle_status: ThrottleStatus,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ThrottleStatus {
    pub(super) maximum_available: f64,
    pub(super) currently_available: f64,
    pub(super) restore_rate: f64,
}

/// The client's model of Shopify's bucket (module doc).
#[derive(Debug, Default)]
struct Bucket {
    /// Known after the first answer.
    known: Option<Known>,
    /// Each operation's last `requestedQueryCost`.
    costs: HashMap<String, f64>,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    maximum: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Known {
    fn now(&self, now: Instant) -> f64 {
        let refilled = now.saturating_duration_since(self.at).as_secs_f64() * self.restore_rate;
        (self.available + refilled).min(self.maximum)
    }
}

impl Bucket {
    /// Reserves `cost` points now, or says how long to wait for them.
    fn reserve(&mut self, cost: f64) -> Option<Duration> {
        let known = self.known.as_mut()?;
        let now = Instant::now();
        let available = known.now(now);
        // A cost above the bucket's size can never be waited for: send it and
        // let Shopify say (a query over the single-query limit is refused).
        let cost = cost.min(known.maximum);
        if available >= cost {
            known.available = available - cost;
            known.at = now;
            return None;
        }
        if known.restore_rate <= 0.0 {
            return Some(Duration::from_secs(1));
        }
        Some(Duration::from_secs_f64(
            (cost - available) / known.restore_rate,
        ))
    }

    /// Takes what Shopify says is available, unless the model says less:
    /// calls reserved and still in flight are not in Shopify's figure yet,
    /// while points another app spent are only in Shopify's.
    fn observe(&mut self, operation: &str, cost: &Cost) {
        let status = &cost.throttle_status;
        let now = Instant::now();
        let modelled = self.known.map_or(f64::INFINITY, |k| k.now(now));
        self.known = Some(Known {
            maximum: status.maximum_available,
            available: status.currently_available.min(modelled),
            restore_rate: status.restore_rate,
            at: now,
        });
        self.costs
            .insert(operation.to_owned(), cost.requested_query_cost);
    }
}

/// One Shopify store's Admin GraphQL API.
#[derive(Clone)]
pub(super) struct Api {
    client: Client,
    endpoint: Url,
    token: SecretString,
    timeout: Duration,
    bucket: Arc<Mutex<Bucket>>,
}

impl Api {
    pub(super) fn new(
        shop_url: &Url,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Api, CallError> {
        if !matches!(shop_url.scheme(), "http" | "https") || shop_url.cannot_be_a_base() {
            return Err(CallError::Unreachable(format!(
                "the Shopify URL must be an http(s) URL, got {shop_url}"
            )));
        }
        let mut endpoint = shop_url.clone();
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        endpoint.set_path(&format!("/admin/api/{API_VERSION}/graphql.json"));
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
            endpoint,
            token,
            timeout,
            bucket: Arc::new(Mutex::new(Bucket::default())),
        })
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one typed operation: waits for the bucket, sends, backs off on
    /// `THROTTLED`, and decodes `data` as `T`.
    pub(super) async fn run<T, V>(
        &self,
        operation: cynic::Operation<T, V>,
    ) -> Result<Answer<T>, CallError>
    where
        T: DeserializeOwned,
        V: Serialize,
    {
        let name = operation
            .operation_name
            .as_deref()
            .unwrap_or("operation")
            .to_owned();
        let body = serde_json::to_vec(&operation)
            .map_err(|e| CallError::Malformed(format!("{name} could not be written: {e}")))?;
        let mut waited = Duration::ZERO;
        loop {
            // Before: wait until the modelled bucket can pay for it.
            loop {
                let wait = {
                    let mut bucket = self.bucket();
                    let cost = bucket.costs.get(&name).copied().unwrap_or(FIRST_GUESS_COST);
                    bucket.reserve(cost)
                };
                let Some(wait) = wait else { break };
                if waited + wait > MAX_RETRY_AFTER {
                    return Err(throttled(wait));
                }
                tracing::debug!(operation = %name, wait_ms = wait.as_millis() as u64, "waiting for Shopify's rate limit");
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            let (raw, date) = self.send(&name, body.clone()).await?;
            if let Some(cost) = raw.extensions.as_ref().and_then(|e| e.cost.as_ref()) {
                self.bucket().observe(&name, cost);
            }
            let errors = raw.errors.unwrap_or_default();
            if errors.iter().any(|e| code(e) == Some("MAX_COST_EXCEEDED")) {
                return Err(CallError::Malformed(format!(
                    "{name} costs more than Shopify allows one query"
                )));
            }
            if errors.iter().any(|e| code(e) == Some("THROTTLED")) {
                let wait = raw
                    .extensions
                    .as_ref()
                    .and_then(|e| e.cost.as_ref())
                    .map(missing)
                    .unwrap_or(Duration::from_secs(1));
                if waited + wait > MAX_RETRY_AFTER {
                    return Err(throttled(wait));
                }
                tracing::info!(operation = %name, wait_ms = wait.as_millis() as u64, "Shopify throttled a call; waiting");
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            }
            if let Some(denied) = errors.iter().find(|e| code(e) == Some("ACCESS_DENIED")) {
                return Err(CallError::Status {
                    status: 403,
                    retry_after: None,
                    body: crate::domain::text::excerpt(
                        &format!("{name}: {}", denied.message),
                        MAX_BODY_IN_ERRORS,
                    ),
                });
            }
            if !errors.is_empty() {
                let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
                return Err(CallError::Malformed(format!(
                    "Shopify refused {name}: {}",
                    messages.join("; ")
                )));
            }
            let data = raw
                .data
                .ok_or_else(|| CallError::Malformed(format!("{name}: an answer without data")))?;
            let data = serde_json::from_value(data)
                .map_err(|e| CallError::Malformed(format!("{name}: {e}")))?;
            return Ok(Answer { data, date });
        }
    }

    async fn send(
        &self,
        name: &str,
        body: Vec<u8>,
    ) -> Result<(RawAnswer, Option<DateTime<Utc>>), CallError> {
        let response = self
            .client
            .post(self.endpoint.clone())
            // reqwest marks the header sensitive, so it is never logged.
            .header("X-Shopify-Access-Token", token_header(&self.token)?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| CallError::transport(&e, self.timeout))?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let date = server_date(&response);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| CallError::transport(&e, self.timeout))?;
        let raw = serde_json::from_slice(&bytes)
            .map_err(|e| CallError::Malformed(format!("{name}: {e}")))?;
        Ok((raw, date))
    }
}

fn token_header(token: &SecretString) -> Result<reqwest::header::HeaderValue, CallError> {
    let mut value =
        reqwest::header::HeaderValue::from_str(token.expose_secret()).map_err(|_| {
            CallError::Malformed("the Shopify access token is not a valid header value".to_owned())
        })?;
    value.set_sensitive(true);
    Ok(value)
}

fn code(error: &RawError) -> Option<&str> {
    error.extensions.as_ref()?.code.as_deref()
}

/// How long until the bucket holds what a throttled query asked for.
fn missing(cost: &Cost) -> Duration {
    let status = &cost.throttle_status;
    let short = (cost.requested_query_cost.min(status.maximum_available)
        - status.currently_available)
        .max(0.0);
    if status.restore_rate <= 0.0 {
        return Duration::from_secs(1);
    }
    // A little over, so the retry does not arrive a hair early.
    Duration::from_secs_f64(short / status.restore_rate) + Duration::from_millis(50)
}

fn throttled(wait: Duration) -> CallError {
    CallError::Status {
        status: 429,
        retry_after: Some(wait.max(Duration::from_secs(1)).min(MAX_RETRY_AFTER)),
        body: "Shopify's rate limit: the call was not sent".to_owned(),
    }
}

/// A non-success answer: the status, a `Retry-After`, and what Shopify
/// said, as one clean line. A 401 says what it means for the operator.
async fn status_error(response: Response) -> CallError {
    let said = match response.status().as_u16() {
        401 => Some("Shopify refused the access token (revoked, or not this store's): set a valid SHOPIFY_ACCESS_TOKEN"),
        402 => Some("the Shopify store is frozen (unpaid)"),
        423 => Some("the Shopify store is locked"),
        _ => None,
    };
    CallError::status(response, said).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(requested: f64, available: f64) -> Cost {
        Cost {
            requested_query_cost: requested,
            throttle_status: ThrottleStatus {
                maximum_available: 100.0,
                currently_available: available,
                restore_rate: 50.0,
            },
        }
    }

    #[test]
    fn a_call_the_bucket_cannot_pay_for_waits_for_the_refill_first() {
        let mut bucket = Bucket::default();
        assert_eq!(bucket.reserve(10.0), None, "nothing known yet: send");
        bucket.observe("Q", &cost(30.0, 40.0));
        assert_eq!(bucket.reserve(30.0), None, "40 available pays for 30");
        let wait = bucket.reserve(30.0).expect("10 left: wait");
        // 20 points missing at 50 a second: about 0.4 s.
        assert!(
            wait > Duration::from_millis(300) && wait <= Duration::from_millis(400),
            "{wait:?}"
        );
    }

    #[test]
    fn a_throttled_answer_waits_for_what_it_lacks() {
        let wait = missing(&cost(60.0, 10.0));
        assert!(wait >= Duration::from_secs(1), "{wait:?}");
        assert!(wait < Duration::from_millis(1100), "{wait:?}");
    }

    #[test]
    fn user_errors_become_one_refusal_naming_each_field() {
        let field = vec!["automaticBasicDiscount".to_owned(), "endsAt".to_owned()];
        let refusal = refused(
            "create the discount",
            [
                (Some(field.as_slice()), "must be after the start"),
                (None, "too many"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "Shopify refused to create the discount: automaticBasicDiscount.endsAt: must be after the start; too many"
        );
        assert!(refused("x", []).is_ok());
    }
}
