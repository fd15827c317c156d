//! The in-memory shop behind the routes: products, sales, the last revision applied per session, the
//! call log, pending faults and the answers remembered per `webhook-id`. One mutex guards it all; it is
//! never held across an `.await`, so each write (check the id, parse, compare the revision, validate,
//! store, remember the answer) is atomic: two retries racing each other cannot both publish, and no
//! write can slip between another's revision check and its effect.
//!
//! Revisions: a `PUT` or `DELETE` is applied only when its revision is larger than the last one applied
//! to that session, otherwise it is answered 409 `stale_revision` with the current state and changes
//! nothing. An end of a sale the shop does not have still records its revision (a tombstone), so a
//! publish that was decided before the end but arrives after it cannot bring the sale up.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use standardwebhooks::{Webhook, WebhookError};

use super::sale::{find_product, EndBody, PublishBody, Sale};
use super::saved::{SavedState, StateFileError};
use super::shop_now;
use super::stored::{Status, StoredSale};
use super::{DevProduct, DevStoreError};

/// The call log keeps at most this many calls (oldest dropped), so a long demo cannot eat the memory.
const MAX_CALLS: usize = 10_000;

/// Failures to inject into the next calls to `/api/flash-sales/*` (never `/api/products`, so the
/// catalog stays usable). A failing call answers at once without touching any sale; a stalled call is
/// handled normally and then holds its answer back, like a storefront that applied a publish but
/// whose answer arrived too late; a delayed call waits before it is handled, like a request slow
/// to arrive (a read made before a write can then see the write). When several are pending,
/// failing comes first, then stalling, then delaying.
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
    /// How long a delayed call waits before it is handled, in milliseconds.
    pub delay_ms: u64,
    /// How many of the next calls are delayed.
    pub delay_next: u32,
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
    Delay(Duration),
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
    /// Each keeps the revision last applied to it ([`StoredSale::revision`]).
    sales: BTreeMap<i64, StoredSale>,
    /// The last revision applied to sessions that have no stored sale: an end of an unknown sale, or a
    /// sale forgotten by hand. A session is in `sales` or here, never both.
    tombstones: HashMap<i64, i64>,
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
    /// Whether it says it schedules sales (`GET /api/capabilities`). It
    /// always does switch sales by its clock; a test of a shop that does
    /// not say so turns this off.
    pub(crate) schedules_sales: bool,
    /// Where the sales are kept across restarts (`saved`); `None` keeps them
    /// in memory only.
    state_file: Option<PathBuf>,
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
                tombstones: HashMap::new(),
                calls: VecDeque::new(),
                faults: Faults::default(),
                remembered: HashMap::new(),
            }),
            webhook,
            schedules_sales: true,
            state_file: None,
        }
    }

    /// Starts from the sales and revisions in `path` (none when the file does
    /// not exist yet) and keeps them there after every applied write.
    pub(crate) fn keep_state_in(&mut self, path: PathBuf) -> Result<(), StateFileError> {
        let saved = SavedState::load(&path)?;
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        inner.sales = saved.sales;
        inner.tombstones = saved.tombstones.into_iter().collect();
        self.state_file = Some(path);
        Ok(())
    }

    /// Writes the sales and tombstones to the state file, if there is one.
    /// Called with the lock held, so the file follows the writes in the order
    /// they were applied. A failed save is logged, not answered: the write
    /// was applied and the bot must hear so; only a restart would lose it.
    fn save(&self, inner: &Inner) {
        let Some(path) = &self.state_file else { return };
        if let Err(error) = SavedState::of(&inner.sales, &inner.tombstones).save(path) {
            tracing::error!(%error, path = %path.display(), "cannot save the dev storefront's sales; a restart would lose the latest change");
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
        if faults.delay_next > 0 {
            faults.delay_next -= 1;
            return Some(Fault::Delay(Duration::from_millis(faults.delay_ms)));
        }
        None
    }

    /// Drops the sale but keeps its revision: the shop lost the sale, not the record of the writes it
    /// applied, so a late older write still cannot bring it back.
    pub(crate) fn forget_sale(&self, session_id: i64) {
        let mut inner = self.lock();
        if let Some(stored) = inner.sales.remove(&session_id) {
            inner.tombstones.insert(session_id, stored.revision);
        }
        self.save(&inner);
    }

    /// The last revision applied to `session_id`, if any write to it was.
    pub(crate) fn revision(&self, session_id: i64) -> Option<i64> {
        self.lock().last_applied(session_id)
    }

    /// Moves every sale's window (and when it was ended early) by `by`.
    pub(crate) fn shift_windows(&self, by: chrono::Duration) {
        let mut inner = self.lock();
        for stored in inner.sales.values_mut() {
            stored.sale.starts_at += by;
            stored.sale.ends_at += by;
            if let Some(ended) = stored.ended_at.as_mut() {
                *ended += by;
            }
        }
        self.save(&inner);
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
        let revision = match parsed.revision(session_id) {
            Ok(revision) => revision,
            Err(e) => return Answer::error(StatusCode::UNPROCESSABLE_ENTITY, e),
        };
        if let Some(stale) = inner.stale(session_id, revision, now) {
            return stale;
        }
        let sale = match Sale::from_body(parsed, session_id, &inner.products) {
            Ok(sale) => sale,
            Err(e) => return Answer::error(StatusCode::UNPROCESSABLE_ENTITY, e),
        };
        // A newer write for a known session is a re-publish: the new sale replaces the old one
        // entirely, an ended one too (the bot decided again after the end).
        let stored = StoredSale {
            sale,
            published_at: now,
            ended_at: None,
            revision,
        };
        let answer = Answer::fresh(StatusCode::OK, stored.to_json(now));
        inner.tombstones.remove(&session_id);
        inner.sales.insert(session_id, stored);
        self.save(&inner);
        remember(&mut inner, key, body, &answer);
        answer
    }

    /// `DELETE /api/flash-sales/{id}` after the signature checked out: ends the sale now, once.
    pub(crate) fn end(&self, session_id: i64, webhook_id: &str, body: &[u8]) -> Answer {
        let now = shop_now();
        let mut inner = self.lock();
        let key = ("DELETE".to_owned(), session_id, webhook_id.to_owned());
        if let Some(replayed) = replay(&inner, &key, body) {
            return replayed;
        }
        let revision = match EndBody::revision_of(body, session_id) {
            Ok(revision) => revision,
            Err(e) => return Answer::error(StatusCode::UNPROCESSABLE_ENTITY, e),
        };
        if let Some(stale) = inner.stale(session_id, revision, now) {
            return stale;
        }
        let answer = match inner.sales.get_mut(&session_id) {
            Some(stored) => {
                // Ending twice keeps the first end time: DELETE is idempotent by nature, not only by
                // id. The newer revision is recorded all the same: it is the decision now in force.
                stored.ended_at.get_or_insert(now);
                stored.revision = revision;
                Answer::fresh(StatusCode::OK, stored.to_json(now))
            }
            None => {
                // Nothing to end, but the end is applied: its tombstone keeps an older publish, still
                // on its way, from putting the sale up afterwards.
                inner.tombstones.insert(session_id, revision);
                Answer::error(StatusCode::NOT_FOUND, "no such flash sale")
            }
        };
        self.save(&inner);
        remember(&mut inner, key, body, &answer);
        answer
    }
}

impl Inner {
    /// The last revision applied to `session_id`, whether or not the shop still has its sale.
    fn last_applied(&self, session_id: i64) -> Option<i64> {
        self.sales
            .get(&session_id)
            .map(|stored| stored.revision)
            .or_else(|| self.tombstones.get(&session_id).copied())
    }

    /// The 409 for a write at `revision` when that revision or a newer one was applied already: the
    /// write was decided from an older state than the shop's, so applying it would undo a newer
    /// decision. The answer shows the last revision and the sale as it is, so the writer can decide
    /// again from that; `None` when the write is newer and may be applied.
    fn stale(&self, session_id: i64, revision: i64, now: DateTime<Utc>) -> Option<Answer> {
        let applied = self.last_applied(session_id)?;
        if revision > applied {
            return None;
        }
        let error = format!(
            "revision {revision} is not newer than revision {applied}, the last change applied to \
             flash sale {session_id}: this write is superseded and changed nothing"
        );
        let sale = self
            .sales
            .get(&session_id)
            .map(|stored| stored.to_json(now));
        Some(Answer::fresh(
            StatusCode::CONFLICT,
            json!({ "error": error, "code": "stale_revision", "revision": applied, "sale": sale }),
        ))
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

/// Only applied writes are remembered: a refused call changed nothing, so retrying it should be
/// re-checked (the catalog may have changed), as idempotency keys usually work. The end of an unknown
/// sale is applied (it leaves a tombstone), so its 404 is remembered: its retry repeats its revision,
/// and must hear 404 again, not a 409 about its own write.
fn remember(inner: &mut Inner, key: (String, i64, String), body: &[u8], answer: &Answer) {
    inner.remembered.insert(
        key,
        Remembered {
            body: body.to_vec(),
            answer: answer.clone(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devstore::{sample_catalog, test_secret};

    fn shop() -> Shared {
        let products = sample_catalog().expect("the sample catalog");
        Shared::new(products, verifier(&test_secret()).expect("the test secret"))
    }

    /// A live six-item sale of FS-001..FS-006 for `session_id` at `revision`, priced from the catalog.
    fn publish_body(session_id: i64, title: &str, revision: i64) -> Vec<u8> {
        let catalog = sample_catalog().expect("the sample catalog");
        let items: Vec<Value> = (1..=6)
            .map(|n| {
                let sku = format!("FS-{n:03}");
                let base = find_product(&catalog, &sku).expect("FS-0xx").price_minor;
                json!({"sku": sku, "discount_percent": 30, "base_price_minor": base,
                       "flash_price_minor": (base * 70 + 50) / 100, "quantity": 10})
            })
            .collect();
        let starts_at = shop_now() - chrono::Duration::hours(1);
        let ends_at = starts_at + chrono::Duration::hours(3);
        json!({"session_id": session_id, "title": title, "starts_at": starts_at, "ends_at": ends_at,
               "currency": "IDR", "items": items, "revision": revision})
        .to_string()
        .into_bytes()
    }

    fn end_body(session_id: i64, revision: i64) -> Vec<u8> {
        json!({"session_id": session_id, "revision": revision})
            .to_string()
            .into_bytes()
    }

    fn assert_stale(answer: &Answer, applied: i64) {
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.json);
        assert_eq!(answer.json["code"], "stale_revision");
        assert_eq!(answer.json["revision"], applied);
        assert!(answer.json["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    #[test]
    fn a_newer_publish_replaces_the_sale_and_records_its_revision() {
        let shop = shop();
        shop.publish(12, "a", &publish_body(12, "First", 3));

        let answer = shop.publish(12, "b", &publish_body(12, "Second", 4));

        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json["revision"], 4);
        let sale = shop.sale_json(12, shop_now()).expect("stored");
        assert_eq!(
            (sale["title"].clone(), sale["revision"].clone()),
            (json!("Second"), json!(4))
        );
    }

    #[test]
    fn a_publish_at_the_same_or_an_older_revision_is_refused_with_the_sale_as_it_is() {
        let shop = shop();
        shop.publish(12, "a", &publish_body(12, "First", 5));
        let before = shop.sale_json(12, shop_now());

        for (key, revision) in [("b", 5), ("c", 4)] {
            let answer = shop.publish(12, key, &publish_body(12, "Older", revision));

            assert_stale(&answer, 5);
            assert_eq!(Some(answer.json["sale"].clone()), before);
        }
        assert_eq!(shop.sale_json(12, shop_now()), before);
    }

    #[test]
    fn a_stale_publish_is_refused_as_stale_before_its_sale_is_checked() {
        let shop = shop();
        shop.publish(12, "a", &publish_body(12, "First", 5));
        let mut invalid: Value =
            serde_json::from_slice(&publish_body(12, "Older", 2)).expect("JSON");
        invalid["items"][0]["flash_price_minor"] = json!(1);

        let answer = shop.publish(12, "b", invalid.to_string().as_bytes());

        assert_stale(&answer, 5);
    }

    #[test]
    fn a_refused_stale_write_is_not_remembered() {
        let shop = shop();
        shop.publish(12, "a", &publish_body(12, "First", 5));
        let late = publish_body(12, "Late", 4);
        shop.publish(12, "b", &late);

        let again = shop.publish(12, "b", &late);

        assert_stale(&again, 5);
        assert!(!again.replay);
    }

    #[test]
    fn a_retry_of_an_applied_write_is_a_replay_even_after_a_newer_one() {
        let shop = shop();
        let first = publish_body(12, "First", 3);
        let applied = shop.publish(12, "a", &first);
        shop.end(12, "end", &end_body(12, 4));

        let retried = shop.publish(12, "a", &first);

        assert!(retried.replay);
        assert_eq!(
            (retried.status, retried.json),
            (applied.status, applied.json)
        );
        let sale = shop.sale_json(12, shop_now()).expect("stored");
        assert_eq!(
            (sale["status"].clone(), sale["revision"].clone()),
            (json!("ended"), json!(4))
        );
    }

    #[test]
    fn an_end_then_a_late_older_publish_leaves_the_sale_ended() {
        let shop = shop();
        shop.publish(12, "publish", &publish_body(12, "Live", 1));
        let ended = shop.end(12, "stop", &end_body(12, 3));
        assert_eq!(ended.status, StatusCode::OK);
        assert_eq!(ended.json["revision"], 3);

        // A repair decided before the stop, arriving after it.
        let late = shop.publish(12, "repair", &publish_body(12, "Live", 2));

        assert_stale(&late, 3);
        assert_eq!(late.json["sale"]["status"], "ended");
        let sale = shop.sale_json(12, shop_now()).expect("stored");
        assert_eq!(sale["status"], "ended");
    }

    #[test]
    fn an_older_end_after_a_newer_publish_leaves_the_sale_up() {
        let shop = shop();
        shop.publish(12, "publish", &publish_body(12, "Live", 4));

        let late = shop.end(12, "old-end", &end_body(12, 2));

        assert_stale(&late, 4);
        assert_eq!(late.json["sale"]["status"], "live");
        assert_eq!(
            shop.sale_json(12, shop_now()).expect("stored")["status"],
            "live"
        );
    }

    #[test]
    fn an_end_of_an_unknown_sale_leaves_a_tombstone_an_older_publish_cannot_pass() {
        let shop = shop();
        let end = end_body(12, 7);
        let gone = shop.end(12, "stop", &end);
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(shop.revision(12), Some(7));

        let late = shop.publish(12, "publish", &publish_body(12, "Live", 6));

        assert_stale(&late, 7);
        assert_eq!(late.json["sale"], Value::Null);
        assert_eq!(shop.sale_json(12, shop_now()), None);
        // Its own retry hears what it heard the first time, not a 409 about itself.
        let retried = shop.end(12, "stop", &end);
        assert_eq!(
            (retried.status, retried.replay),
            (StatusCode::NOT_FOUND, true)
        );
    }

    #[test]
    fn a_newer_publish_after_an_end_puts_the_sale_up_again() {
        let shop = shop();
        shop.publish(12, "publish", &publish_body(12, "First", 1));
        shop.end(12, "stop", &end_body(12, 2));

        let again = shop.publish(12, "again", &publish_body(12, "Again", 3));

        assert_eq!(again.status, StatusCode::OK);
        let sale = shop.sale_json(12, shop_now()).expect("stored");
        assert_eq!(
            (sale["status"].clone(), sale["ended_at"].clone()),
            (json!("live"), Value::Null)
        );
        assert_eq!(sale["revision"], 3);
    }

    #[test]
    fn a_newer_publish_after_an_end_of_an_unknown_sale_puts_it_up() {
        let shop = shop();
        shop.end(12, "stop", &end_body(12, 2));

        let up = shop.publish(12, "publish", &publish_body(12, "Live", 3));

        assert_eq!(up.status, StatusCode::OK);
        assert_eq!(shop.revision(12), Some(3));
        // A later, older end is stale against the publish, not the tombstone it replaced.
        assert_stale(&shop.end(12, "old", &end_body(12, 2)), 3);
    }

    #[test]
    fn revisions_are_kept_per_session() {
        let shop = shop();
        shop.publish(12, "a", &publish_body(12, "Twelve", 9));

        let other = shop.publish(13, "b", &publish_body(13, "Thirteen", 1));

        assert_eq!(other.status, StatusCode::OK);
        assert_eq!((shop.revision(12), shop.revision(13)), (Some(9), Some(1)));
    }

    #[test]
    fn an_end_without_a_valid_body_is_refused_and_changes_nothing() {
        let shop = shop();
        shop.publish(12, "publish", &publish_body(12, "Live", 1));

        for body in [
            Vec::new(),
            end_body(13, 5),
            b"{\"session_id\": 12}".to_vec(),
            end_body(12, 0),
        ] {
            let refused = shop.end(12, "stop", &body);

            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                refused.json
            );
            assert!(refused.json["error"].is_string());
        }
        assert_eq!(
            shop.sale_json(12, shop_now()).expect("stored")["status"],
            "live"
        );
        assert_eq!(shop.revision(12), Some(1));
    }

    #[test]
    fn a_publish_without_a_revision_is_refused() {
        let shop = shop();
        let mut body: Value = serde_json::from_slice(&publish_body(12, "Live", 1)).expect("JSON");
        body.as_object_mut().expect("an object").remove("revision");

        let refused = shop.publish(12, "a", body.to_string().as_bytes());

        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.json["error"]
            .as_str()
            .is_some_and(|e| e.contains("revision")));
        assert_eq!(shop.revision(12), None);
    }

    #[test]
    fn a_sale_forgotten_by_hand_keeps_its_revision() {
        let shop = shop();
        shop.publish(12, "a", &publish_body(12, "Live", 4));
        shop.forget_sale(12);

        let late = shop.publish(12, "b", &publish_body(12, "Late", 3));

        assert_stale(&late, 4);
        assert_eq!(shop.sale_json(12, shop_now()), None);
    }
}
