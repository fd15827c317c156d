//! The in-memory shop behind the routes: products, sales, the call log, pending faults and the answers
//! remembered per `webhook-id`. One mutex guards it all; it is never held across an `.await`, so each
//! publish (check the id, validate, store, remember the answer) is atomic and two retries racing each
//! other cannot both publish.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use standardwebhooks::{Webhook, WebhookError};

use super::sale::{find_product, PublishBody, Sale};
use super::shop_now;
use super::stored::{Status, StoredSale};
use super::{DevProduct, DevStoreError};

/// The call log keeps at most this many calls (oldest dropped), so a long demo cannot eat the memory.
const MAX_CALLS: usize = 10_000;

/// Failures to inject into the next calls to `/api/flash-sales/*` (never `/api/products`, so the
/// catalog stays usable). A failing call answers at once without touching any sale; a stalled call is
/// handled normally and then holds its answer back, like a storefront that applied a publish but
/// whose answer arrived too late. When both are pending, failing comes first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// How many of the next calls answer `status` instead of being handled.
    pub fail_next: u32,
    /// The HTTP status of a failed call; 500 when not given.
    pub status: Option<u16>,
    /// With 429 (or any failure), the `Retry-After` header in seconds, so clients can honour it.
    pub retry_after_secs: Option<u64>,
    /// How long a stalled call waits before answering.
    pub stall_secs: u64,
    /// How many of the next calls stall.
    pub stall_next: u32,
    /// Only calls with this method (`PUT`, `GET`, `DELETE`) take the faults
    /// above; the others are handled. All calls when not given.
    #[serde(default)]
    pub method: Option<String>,
}

/// One fault taken from [`Faults`] for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    Fail {
        status: StatusCode,
        retry_after_secs: Option<u64>,
    },
    Stall(Duration),
}

/// One API call as the storefront received it, for tests and `GET /admin/calls`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct RecordedCall {
    /// `GET`, `PUT`, `DELETE`, ...
    pub method: String,
    /// The path without the query, e.g. `/api/flash-sales/12`.
    pub path: String,
    /// The raw query string, if any (product look-ups are told apart by it).
    pub query: Option<String>,
    /// The `webhook-id` header, if sent.
    pub webhook_id: Option<String>,
    /// The names of the headers sent (lower-case, sorted), to check the signature headers came.
    #[serde(default)]
    pub headers: Vec<String>,
    /// True when the answer came from memory because this `webhook-id` was seen before.
    pub replay: bool,
    /// The HTTP status answered.
    pub status: u16,
    /// The `Retry-After` header answered, if any.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// When the call arrived.
    pub at: DateTime<Utc>,
    /// The body parsed as JSON; `None` when empty or not JSON.
    pub body: Option<Value>,
    /// The answer's body parsed as JSON; `None` when empty or not JSON.
    #[serde(default)]
    pub response: Option<Value>,
}

/// What a flash-sale mutation answers, and whether it was remembered rather than done.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub json: Value,
    pub replay: bool,
}

impl Answer {
    fn fresh(status: StatusCode, json: Value) -> Answer {
        Answer {
            status,
            json,
            replay: false,
        }
    }

    pub(crate) fn error(status: StatusCode, message: impl std::fmt::Display) -> Answer {
        Answer::fresh(status, json!({ "error": message.to_string() }))
    }
}

/// A successful answer remembered for its `webhook-id`, with the body it answered.
struct Remembered {
    body: Vec<u8>,
    answer: Answer,
}

/// Everything behind the mutex.
struct Inner {
    products: Vec<DevProduct>,
    sales: BTreeMap<i64, StoredSale>,
    calls: VecDeque<RecordedCall>,
    faults: Faults,
    /// Keyed by method, session id and `webhook-id`, so one id cannot replay another route's answer.
    remembered: HashMap<(String, i64, String), Remembered>,
}

/// The state shared by the routes and the [`super::DevStore`] handle.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Verifies signatures against the configured secret.
    webhook: Webhook,
}

/// Builds the verifier, refusing secrets that are not base64 or empty (an empty key verifies anything
/// signed with an empty key, which is no check at all).
pub(crate) fn verifier(secret: &str) -> Result<Webhook, DevStoreError> {
    let key = secret.strip_prefix("whsec_").unwrap_or(secret);
    if key.trim().is_empty() {
        return Err(DevStoreError::Secret("the key is empty".into()));
    }
    Webhook::new(secret).map_err(|_| DevStoreError::Secret("the key is not valid base64".into()))
}

impl Shared {
    pub(crate) fn new(products: Vec<DevProduct>, webhook: Webhook) -> Shared {
        Shared {
            inner: Mutex::new(Inner {
                products,
                sales: BTreeMap::new(),
                calls: VecDeque::new(),
                faults: Faults::default(),
                remembered: HashMap::new(),
            }),
            webhook,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave Inner half-updated in a way that matters for a dev server.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn verify(&self, body: &[u8], headers: &HeaderMap) -> Result<(), WebhookError> {
        self.webhook.verify(body, headers)
    }

    /// The products for these SKUs in the order asked, each once; unknown SKUs are absent.
    pub(crate) fn products(&self, skus: &[&str]) -> Vec<DevProduct> {
        let inner = self.lock();
        let mut found: Vec<DevProduct> = Vec::new();
        for sku in skus {
            if let Some(p) = find_product(&inner.products, sku) {
                if !found.iter().any(|f| f.sku == p.sku) {
                    found.push(p.clone());
                }
            }
        }
        found
    }

    /// Up to `limit` products whose SKU or name contains `query` (case-insensitive), by SKU.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Vec<DevProduct> {
        let needle = query.trim().to_lowercase();
        let mut found: Vec<DevProduct> = self
            .lock()
            .products
            .iter()
            .filter(|p| {
                p.sku.to_lowercase().contains(&needle) || p.name.to_lowercase().contains(&needle)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| a.sku.cmp(&b.sku));
        found.truncate(limit);
        found
    }

    pub(crate) fn set_stock(&self, sku: &str, stock: i64) {
        self.update_product(sku, |p| p.stock = stock);
    }

    pub(crate) fn set_active(&self, sku: &str, active: bool) {
        self.update_product(sku, |p| p.active = active);
    }

    /// Changes the product (SKU compared case-insensitively); unknown SKUs are ignored.
    fn update_product(&self, sku: &str, change: impl FnOnce(&mut DevProduct)) {
        let mut inner = self.lock();
        let wanted = sku.trim();
        if let Some(p) = inner
            .products
            .iter_mut()
            .find(|p| p.sku.eq_ignore_ascii_case(wanted))
        {
            change(p);
        }
    }

    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.iter().cloned().collect()
    }

    pub(crate) fn record(&self, call: RecordedCall) {
        let mut inner = self.lock();
        if inner.calls.len() >= MAX_CALLS {
            inner.calls.pop_front();
        }
        inner.calls.push_back(call);
    }

    pub(crate) fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Takes the fault for the next flash-sale call with `method`, if one is pending.
    pub(crate) fn take_fault(&self, method: &str) -> Option<Fault> {
        let mut inner = self.lock();
        let faults = &mut inner.faults;
        if faults
            .method
            .as_deref()
            .is_some_and(|only| !only.eq_ignore_ascii_case(method))
        {
            return None;
        }
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            let status = faults
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Some(Fault::Fail {
                status,
                retry_after_secs: faults.retry_after_secs,
            });
        }
        if faults.stall_next > 0 {
            faults.stall_next -= 1;
            return Some(Fault::Stall(Duration::from_secs(faults.stall_secs)));
        }
        None
    }

    pub(crate) fn forget_sale(&self, session_id: i64) {
        self.lock().sales.remove(&session_id);
    }

    pub(crate) fn sale_json(&self, session_id: i64, now: DateTime<Utc>) -> Option<Value> {
        self.lock().sales.get(&session_id).map(|s| s.to_json(now))
    }

    /// The live sale (the most recently started if several overlap) and the next scheduled one.
    pub(crate) fn current(&self, now: DateTime<Utc>) -> (Option<StoredSale>, Option<StoredSale>) {
        let inner = self.lock();
        let with = |status| {
            inner
                .sales
                .values()
                .filter(move |s| s.status_at(now) == status)
        };
        let live = with(Status::Live).max_by_key(|s| (s.sale.starts_at, s.sale.session_id));
        let next = with(Status::Scheduled).min_by_key(|s| (s.sale.starts_at, s.sale.session_id));
        (live.cloned(), next.cloned())
    }

    /// `PUT /api/flash-sales/{id}` after the signature checked out.
    pub(crate) fn publish(&self, session_id: i64, webhook_id: &str, body: &[u8]) -> Answer {
        let now = shop_now();
        let mut inner = self.lock();
        let key = ("PUT".to_owned(), session_id, webhook_id.to_owned());
        if let Some(replayed) = replay(&inner, &key, body) {
            return replayed;
        }
        let parsed: PublishBody = match serde_json::from_slice(body) {
            Ok(parsed) => parsed,
            Err(e) => {
                return Answer::error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the body is not a flash sale: {e}"),
                )
            }
        };
        let sale = match Sale::from_body(parsed, session_id, &inner.products) {
            Ok(sale) => sale,
            Err(e) => return Answer::error(StatusCode::UNPROCESSABLE_ENTITY, e),
        };
        // A new id for a known session is a re-publish: the new sale replaces the old one entirely.
        let stored = StoredSale {
            sale,
            published_at: now,
            ended_at: None,
        };
        let answer = Answer::fresh(StatusCode::OK, stored.to_json(now));
        inner.sales.insert(session_id, stored);
        remember(&mut inner, key, body, &answer);
        answer
    }

    /// `DELETE /api/flash-sales/{id}` after the signature checked out: ends the sale now, once.
    pub(crate) fn end(&self, session_id: i64, webhook_id: &str) -> Answer {
        let now = shop_now();
        let mut inner = self.lock();
        let key = ("DELETE".to_owned(), session_id, webhook_id.to_owned());
        if let Some(replayed) = replay(&inner, &key, b"") {
            return replayed;
        }
        let Some(stored) = inner.sales.get_mut(&session_id) else {
            return Answer::error(StatusCode::NOT_FOUND, "no such flash sale");
        };
        // Ending twice keeps the first end time: DELETE is idempotent by nature, not only by id.
        stored.ended_at.get_or_insert(now);
        let answer = Answer::fresh(StatusCode::OK, stored.to_json(now));
        remember(&mut inner, key, b"", &answer);
        answer
    }
}

/// The remembered answer for `key`, marked as a replay; a different body under the same id is refused,
/// since Standard Webhooks retries resend the same bytes and anything else is a client bug.
fn replay(inner: &Inner, key: &(String, i64, String), body: &[u8]) -> Option<Answer> {
    let remembered = inner.remembered.get(key)?;
    if remembered.body != body {
        return Some(Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "webhook-id {:?} was already used with a different body; a retry must resend the same bytes",
                key.2
            ),
        ));
    }
    Some(Answer {
        replay: true,
        ..remembered.answer.clone()
    })
}

/// Only successes are remembered: a refused call changed nothing, so retrying it should be re-checked
/// (the catalog may have changed), as idempotency keys usually work.
fn remember(inner: &mut Inner, key: (String, i64, String), body: &[u8], answer: &Answer) {
    inner.remembered.insert(
        key,
        Remembered {
            body: body.to_vec(),
            answer: answer.clone(),
        },
    );
}
