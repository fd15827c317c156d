//! [`CachedCatalog`]: remembers catalog answers for a short time.
//!
//! Why a stale answer (up to `ttl` old) is acceptable: while marketers edit a draft they look the same
//! SKUs up again and again (autocomplete on every keystroke, the card redrawn after every change). A
//! price or stock figure that is a few seconds old is good enough to fill a draft, and it spares the
//! catalog a request per keystroke. Nothing that goes live is decided on such an answer: approval asks
//! with [`Freshness::Live`], which always goes to the catalog and refreshes what is remembered, so the
//! approver approves today's stock and price, not the editor's.
//!
//! Errors are never remembered: the next call asks again.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Catalog, CatalogError, Freshness, Product};
use crate::domain::Sku;

/// Above this many entries, a map drops its expired entries (and, if that is not enough, everything),
/// so a long-running bot never grows without bound.
const MAX_ENTRIES: usize = 10_000;

/// A search is remembered per lowercased query and limit.
type SearchKey = (String, usize);

/// Where the cache reads the time; injectable so tests can move time without sleeping.
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A [`Catalog`] decorator that serves recent answers from memory.
pub struct CachedCatalog<C> {
    /// The catalog that is asked on a miss, on expiry and for every [`Freshness::Live`] lookup.
    inner: C,
    /// How long an answer may be served from memory.
    ttl: Duration,
    /// The clock that ages entries.
    now: Clock,
    /// The size at which each map is pruned (see [`MAX_ENTRIES`]).
    max_entries: usize,
    /// Per SKU: the product, or `None` when the catalog said it does not know the SKU.
    products: Mutex<HashMap<Sku, Entry<Option<Product>>>>,
    /// Per (lowercased query, limit): the search result.
    searches: Mutex<HashMap<SearchKey, Entry<Vec<Product>>>>,
}

/// One remembered answer and when it was asked for.
struct Entry<T> {
    /// When the request that produced this answer started (the conservative end of its age).
    asked_at: Instant,
    /// The answer.
    value: T,
}

impl<T> Entry<T> {
    fn is_fresh(&self, now: Instant, ttl: Duration) -> bool {
        now.saturating_duration_since(self.asked_at) < ttl
    }
}

impl<C: Catalog> CachedCatalog<C> {
    /// Wraps `inner`, serving its answers from memory for `ttl`.
    pub fn new(inner: C, ttl: Duration) -> CachedCatalog<C> {
        CachedCatalog::with_clock(inner, ttl, Instant::now)
    }

    /// Like [`CachedCatalog::new`], reading the time from `now` (tests move time without sleeping).
    pub fn with_clock(
        inner: C,
        ttl: Duration,
        now: impl Fn() -> Instant + Send + Sync + 'static,
    ) -> CachedCatalog<C> {
        CachedCatalog {
            inner,
            ttl,
            now: Arc::new(now),
            max_entries: MAX_ENTRIES,
            products: Mutex::new(HashMap::new()),
            searches: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped catalog.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

#[async_trait::async_trait]
impl<C: Catalog> Catalog for CachedCatalog<C> {
    async fn products(
        &self,
        skus: &[Sku],
        freshness: Freshness,
    ) -> Result<HashMap<Sku, Product>, CatalogError> {
        let mut seen = HashSet::new();
        let wanted: Vec<Sku> = skus
            .iter()
            .filter(|sku| seen.insert(*sku))
            .cloned()
            .collect();
        let mut answer = HashMap::with_capacity(wanted.len());

        let missing = match freshness {
            Freshness::Live => wanted,
            Freshness::AllowCached => {
                let now = (self.now)();
                let cache = lock(&self.products);
                let mut missing = Vec::new();
                for sku in wanted {
                    match cache.get(&sku) {
                        Some(entry) if entry.is_fresh(now, self.ttl) => {
                            if let Some(product) = &entry.value {
                                answer.insert(sku, product.clone());
                            }
                        }
                        _ => missing.push(sku),
                    }
                }
                missing
            }
        };
        if missing.is_empty() {
            tracing::debug!(skus = answer.len(), "catalog lookup served from cache");
            return Ok(answer);
        }

        let asked_at = (self.now)();
        let mut fetched = self.inner.products(&missing, freshness).await?;

        let mut cache = lock(&self.products);
        for sku in missing {
            let value = fetched.remove(&sku);
            if let Some(product) = &value {
                answer.insert(sku.clone(), product.clone());
            }
            remember(&mut cache, sku, Entry { asked_at, value });
        }
        prune(&mut cache, (self.now)(), self.ttl, self.max_entries);
        Ok(answer)
    }

    async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
        let key: SearchKey = (query.to_lowercase(), limit);
        {
            let cache = lock(&self.searches);
            if let Some(entry) = cache.get(&key) {
                if entry.is_fresh((self.now)(), self.ttl) {
                    tracing::debug!(
                        found = entry.value.len(),
                        "catalog search served from cache"
                    );
                    return Ok(entry.value.clone());
                }
            }
        }

        let asked_at = (self.now)();
        let found = self.inner.search(query, limit).await?;

        let mut cache = lock(&self.searches);
        remember(
            &mut cache,
            key,
            Entry {
                asked_at,
                value: found.clone(),
            },
        );
        prune(&mut cache, (self.now)(), self.ttl, self.max_entries);
        Ok(found)
    }
}

/// Locks a cache map. A panic elsewhere while the lock was held cannot leave a map half-written
/// (every change is a single insert, retain or clear), so a poisoned lock is still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stores `entry` unless a newer answer is already there (two overlapping calls: the later request wins,
/// whichever finishes first).
fn remember<K: Hash + Eq, T>(map: &mut HashMap<K, Entry<T>>, key: K, entry: Entry<T>) {
    match map.get(&key) {
        Some(existing) if existing.asked_at > entry.asked_at => {}
        _ => {
            map.insert(key, entry);
        }
    }
}

/// Keeps `map` at most `max` entries: drops expired ones first, everything if that is not enough.
fn prune<K, T>(map: &mut HashMap<K, Entry<T>>, now: Instant, ttl: Duration, max: usize) {
    if map.len() <= max {
        return;
    }
    map.retain(|_, entry| entry.is_fresh(now, ttl));
    if map.len() > max {
        tracing::debug!(
            entries = map.len(),
            "catalog cache full of fresh entries; cleared"
        );
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::domain::{Currency, Money};

    const TTL: Duration = Duration::from_secs(30);

    /// A clock that only moves when told to.
    #[derive(Clone)]
    struct ManualClock(Arc<Mutex<Instant>>);

    impl ManualClock {
        fn new() -> Self {
            ManualClock(Arc::new(Mutex::new(Instant::now())))
        }
        fn now(&self) -> Instant {
            *lock(&self.0)
        }
        fn advance(&self, by: Duration) {
            *lock(&self.0) += by;
        }
    }

    /// A stand-in for the external catalog service that records what it was asked.
    #[derive(Default)]
    struct CountingCatalog {
        products: Mutex<HashMap<Sku, Product>>,
        lookups: Mutex<Vec<(Vec<Sku>, Freshness)>>,
        searches: Mutex<Vec<(String, usize)>>,
        failing: AtomicBool,
    }

    impl CountingCatalog {
        fn with(products: &[Product]) -> Arc<Self> {
            let fake = CountingCatalog::default();
            *lock(&fake.products) = products
                .iter()
                .map(|p| (p.sku.clone(), p.clone()))
                .collect();
            Arc::new(fake)
        }
        fn lookups(&self) -> Vec<(Vec<Sku>, Freshness)> {
            lock(&self.lookups).clone()
        }
        fn search_count(&self) -> usize {
            lock(&self.searches).len()
        }
        fn set_stock(&self, sku: &Sku, stock: i64) {
            if let Some(product) = lock(&self.products).get_mut(sku) {
                product.stock = stock;
            }
        }
        fn fail(&self, failing: bool) {
            self.failing.store(failing, Ordering::SeqCst);
        }
    }

    #[async_trait::async_trait]
    impl Catalog for CountingCatalog {
        async fn products(
            &self,
            skus: &[Sku],
            freshness: Freshness,
        ) -> Result<HashMap<Sku, Product>, CatalogError> {
            lock(&self.lookups).push((skus.to_vec(), freshness));
            if self.failing.load(Ordering::SeqCst) {
                return Err(CatalogError::Status { status: 503 });
            }
            let products = lock(&self.products);
            Ok(skus
                .iter()
                .filter_map(|sku| products.get(sku).map(|p| (sku.clone(), p.clone())))
                .collect())
        }

        async fn search(&self, query: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
            lock(&self.searches).push((query.to_owned(), limit));
            if self.failing.load(Ordering::SeqCst) {
                return Err(CatalogError::Status { status: 503 });
            }
            let query = query.to_lowercase();
            let mut found: Vec<Product> = lock(&self.products)
                .values()
                .filter(|p| {
                    p.sku.as_str().to_lowercase().contains(&query)
                        || p.name.to_lowercase().contains(&query)
                })
                .cloned()
                .collect();
            found.sort_by(|a, b| a.sku.cmp(&b.sku));
            found.truncate(limit);
            Ok(found)
        }
    }

    fn sku(raw: &str) -> Sku {
        Sku::from_canonical(raw)
    }

    fn product(raw: &str, name: &str, stock: i64) -> Product {
        let idr = Currency::from_code("IDR").expect("IDR is a currency");
        Product {
            sku: sku(raw),
            name: name.to_owned(),
            price: Money::from_minor(149_500, idr),
            stock,
            active: true,
            pricing: Default::default(),
        }
    }

    fn cached(
        fake: &Arc<CountingCatalog>,
        clock: &ManualClock,
    ) -> CachedCatalog<Arc<CountingCatalog>> {
        let clock = clock.clone();
        CachedCatalog::with_clock(Arc::clone(fake), TTL, move || clock.now())
    }

    #[tokio::test]
    async fn a_second_lookup_within_the_ttl_does_not_ask_the_inner_catalog() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi", 10)]);
        let clock = ManualClock::new();
        let cache = cached(&fake, &clock);

        let first = cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");
        clock.advance(TTL - Duration::from_secs(1));
        let second = cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");

        assert_eq!(first, second);
        assert_eq!(second[&sku("FS-001")].stock, 10);
        assert_eq!(fake.lookups().len(), 1);
    }

    #[tokio::test]
    async fn only_the_skus_missing_from_the_cache_are_asked_for_in_one_call() {
        let fake = CountingCatalog::with(&[
            product("FS-001", "Kopi", 10),
            product("FS-002", "Teh", 20),
            product("FS-003", "Gula", 30),
        ]);
        let clock = ManualClock::new();
        let cache = cached(&fake, &clock);

        cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");
        let answer = cache
            .products(
                &[sku("FS-001"), sku("FS-002"), sku("FS-003")],
                Freshness::AllowCached,
            )
            .await
            .expect("answer");

        assert_eq!(answer.len(), 3);
        let lookups = fake.lookups();
        assert_eq!(lookups.len(), 2);
        assert_eq!(lookups[1].0, vec![sku("FS-002"), sku("FS-003")]);
    }

    #[tokio::test]
    async fn a_sku_asked_for_twice_in_one_call_is_asked_for_once() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi", 10)]);
        let cache = cached(&fake, &ManualClock::new());

        let answer = cache
            .products(&[sku("FS-001"), sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");

        assert_eq!(answer.len(), 1);
        assert_eq!(fake.lookups()[0].0, vec![sku("FS-001")]);
    }

    #[tokio::test]
    async fn a_sku_the_catalog_does_not_know_is_remembered_as_absent() {
        let fake = CountingCatalog::with(&[]);
        let cache = cached(&fake, &ManualClock::new());

        let first = cache
            .products(&[sku("NOPE-1")], Freshness::AllowCached)
            .await
            .expect("answer");
        let second = cache
            .products(&[sku("NOPE-1")], Freshness::AllowCached)
            .await
            .expect("answer");

        assert!(first.is_empty());
        assert!(second.is_empty());
        assert_eq!(fake.lookups().len(), 1);
    }

    #[tokio::test]
    async fn an_entry_as_old_as_the_ttl_is_asked_for_again() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi", 10)]);
        let clock = ManualClock::new();
        let cache = cached(&fake, &clock);

        cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");
        fake.set_stock(&sku("FS-001"), 4);
        clock.advance(TTL);
        let answer = cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");

        assert_eq!(answer[&sku("FS-001")].stock, 4);
        assert_eq!(fake.lookups().len(), 2);
    }

    #[tokio::test]
    async fn a_live_lookup_always_asks_the_inner_catalog_and_refreshes_the_cache() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi", 10)]);
        let cache = cached(&fake, &ManualClock::new());

        cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");
        fake.set_stock(&sku("FS-001"), 2);
        let live = cache
            .products(&[sku("FS-001")], Freshness::Live)
            .await
            .expect("answer");
        let cached_after = cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");

        assert_eq!(live[&sku("FS-001")].stock, 2);
        assert_eq!(cached_after[&sku("FS-001")].stock, 2);
        let lookups = fake.lookups();
        assert_eq!(lookups.len(), 2);
        assert_eq!(lookups[1].1, Freshness::Live);
    }

    #[tokio::test]
    async fn an_error_is_not_cached() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi", 10)]);
        let cache = cached(&fake, &ManualClock::new());

        fake.fail(true);
        let failed = cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await;
        fake.fail(false);
        let answer = cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");

        assert!(matches!(failed, Err(CatalogError::Status { status: 503 })));
        assert_eq!(answer[&sku("FS-001")].stock, 10);
        assert_eq!(fake.lookups().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_lookup_fails_the_whole_answer_even_when_some_skus_were_cached() {
        let fake =
            CountingCatalog::with(&[product("FS-001", "Kopi", 10), product("FS-002", "Teh", 5)]);
        let cache = cached(&fake, &ManualClock::new());

        cache
            .products(&[sku("FS-001")], Freshness::AllowCached)
            .await
            .expect("answer");
        fake.fail(true);
        let answer = cache
            .products(&[sku("FS-001"), sku("FS-002")], Freshness::AllowCached)
            .await;

        assert!(matches!(answer, Err(CatalogError::Status { status: 503 })));
    }

    #[tokio::test]
    async fn an_empty_lookup_asks_nothing() {
        let fake = CountingCatalog::with(&[]);
        let cache = cached(&fake, &ManualClock::new());

        let answer = cache.products(&[], Freshness::Live).await.expect("answer");

        assert!(answer.is_empty());
        assert!(fake.lookups().is_empty());
    }

    #[tokio::test]
    async fn a_search_is_cached_per_lowercased_query_and_limit() {
        let fake = CountingCatalog::with(&[
            product("FS-001", "Kopi Gayo", 10),
            product("FS-002", "Kopi Toraja", 5),
        ]);
        let cache = cached(&fake, &ManualClock::new());

        let first = cache.search("kopi", 25).await.expect("answer");
        let same = cache.search("KOPI", 25).await.expect("answer");
        let other_limit = cache.search("kopi", 1).await.expect("answer");

        assert_eq!(first, same);
        assert_eq!(first.len(), 2);
        assert_eq!(other_limit.len(), 1);
        assert_eq!(fake.search_count(), 2);
    }

    #[tokio::test]
    async fn a_search_is_asked_again_after_the_ttl() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi Gayo", 10)]);
        let clock = ManualClock::new();
        let cache = cached(&fake, &clock);

        cache.search("kopi", 25).await.expect("answer");
        clock.advance(TTL + Duration::from_secs(1));
        cache.search("kopi", 25).await.expect("answer");

        assert_eq!(fake.search_count(), 2);
    }

    #[tokio::test]
    async fn a_failed_search_is_not_cached() {
        let fake = CountingCatalog::with(&[product("FS-001", "Kopi Gayo", 10)]);
        let cache = cached(&fake, &ManualClock::new());

        fake.fail(true);
        assert!(cache.search("kopi", 25).await.is_err());
        fake.fail(false);
        let found = cache.search("kopi", 25).await.expect("answer");

        assert_eq!(found.len(), 1);
        assert_eq!(fake.search_count(), 2);
    }

    #[tokio::test]
    async fn a_full_cache_drops_its_expired_entries() {
        let fake = CountingCatalog::with(&[
            product("FS-001", "Kopi", 1),
            product("FS-002", "Teh", 2),
            product("FS-003", "Gula", 3),
        ]);
        let clock = ManualClock::new();
        let mut cache = cached(&fake, &clock);
        cache.max_entries = 2;

        cache
            .products(&[sku("FS-001"), sku("FS-002")], Freshness::AllowCached)
            .await
            .expect("answer");
        clock.advance(TTL);
        cache
            .products(&[sku("FS-003")], Freshness::AllowCached)
            .await
            .expect("answer");

        let remembered: Vec<Sku> = lock(&cache.products).keys().cloned().collect();
        assert_eq!(remembered, vec![sku("FS-003")]);
    }

    #[tokio::test]
    async fn a_cache_full_of_fresh_entries_is_cleared() {
        let fake = CountingCatalog::with(&[
            product("FS-001", "Kopi", 1),
            product("FS-002", "Teh", 2),
            product("FS-003", "Gula", 3),
        ]);
        let mut cache = cached(&fake, &ManualClock::new());
        cache.max_entries = 2;

        let answer = cache
            .products(
                &[sku("FS-001"), sku("FS-002"), sku("FS-003")],
                Freshness::AllowCached,
            )
            .await
            .expect("answer");

        assert_eq!(answer.len(), 3);
        assert!(lock(&cache.products).is_empty());
    }

    #[test]
    fn an_older_answer_does_not_overwrite_a_newer_one() {
        let clock = ManualClock::new();
        let older = clock.now();
        clock.advance(Duration::from_secs(1));
        let newer = clock.now();
        let mut map = HashMap::new();

        remember(
            &mut map,
            "k",
            Entry {
                asked_at: newer,
                value: 2,
            },
        );
        remember(
            &mut map,
            "k",
            Entry {
                asked_at: older,
                value: 1,
            },
        );

        assert_eq!(map["k"].value, 2);
    }
}
