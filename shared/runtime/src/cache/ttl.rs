//! A small map whose entries are used for a fixed time after they were
//! read, loaded once however many callers ask for a missing entry at once.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// A load's outcome as its waiters see it: `None` while it runs,
/// `Some(Some(value))` once loaded, `Some(None)` when it failed.
type Outcome<V> = watch::Receiver<Option<Option<V>>>;

/// One key's value: when its load began, and the load's outcome.
struct Slot<V> {
    since: Instant,
    value: Outcome<V>,
}

impl<V> Slot<V> {
    /// Whether a caller may use this slot: loaded, or still loading (its
    /// loader alive); a failed or abandoned load is loaded again.
    fn usable(&self) -> bool {
        match &*self.value.borrow() {
            Some(Some(_)) => true,
            Some(None) => false,
            None => self.value.has_changed().is_ok(),
        }
    }
}

/// Values by key, each used for `ttl` after its load began, so a value
/// handed out is never older than `ttl`. Concurrent misses of one key share
/// one load. At most `max` keys are held: when full, expired entries are
/// dropped, and when that is not enough, all of them. Cheap to clone (the
/// clones share the entries).
pub struct TtlCache<K, V> {
    ttl: Duration,
    max: usize,
    slots: Arc<Mutex<HashMap<K, Slot<V>>>>,
}

impl<K, V> Clone for TtlCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            ttl: self.ttl,
            max: self.max,
            slots: self.slots.clone(),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    /// An empty cache keeping each value `ttl`, holding at most `max` keys.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self {
            ttl,
            max: max.max(1),
            slots: Arc::default(),
        }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<K, Slot<V>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key`: the cached one while it is fresh, otherwise what
    /// `load` answers (kept for `ttl`). Callers missing the same key at the
    /// same time wait for one `load`. An error is answered and not kept:
    /// a caller that waited for a load that failed loads once itself (never
    /// queued behind the loads of other waiters, so a store that times out
    /// costs each caller at most two of its timeouts), and the next caller
    /// loads again.
    ///
    /// # Errors
    /// `load`'s error.
    pub async fn get_or_load<F, Fut, E>(&self, key: &K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let (mut waiting, loader) = {
            let mut slots = self.slots();
            match slots.get(key) {
                Some(slot) if slot.since.elapsed() < self.ttl && slot.usable() => {
                    (slot.value.clone(), None)
                }
                _ => {
                    let (tx, rx) = watch::channel(None);
                    self.insert(&mut slots, key.clone(), rx.clone());
                    (rx, Some(tx))
                }
            }
        };
        if let Some(tx) = loader {
            let got = load().await;
            tx.send_replace(Some(got.as_ref().ok().cloned()));
            return got;
        }
        if let Ok(outcome) = waiting.wait_for(Option::is_some).await {
            if let Some(Some(value)) = &*outcome {
                return Ok(value.clone());
            }
        }
        load().await
    }

    /// The cached value of `key` while it is fresh and loaded; `None`
    /// otherwise. Never loads.
    pub fn fresh(&self, key: &K) -> Option<V> {
        let slots = self.slots();
        let slot = slots.get(key).filter(|s| s.since.elapsed() < self.ttl)?;
        let value = slot.value.borrow().clone();
        value.flatten()
    }

    /// Keeps `value` for `key` from now on (read just now, past the cache).
    pub fn put(&self, key: K, value: V) {
        let (_, loaded) = watch::channel(Some(Some(value)));
        let mut slots = self.slots();
        self.insert(&mut slots, key, loaded);
    }

    /// Drops the entry of `key`: the next caller loads it.
    pub fn forget(&self, key: &K) {
        self.slots().remove(key);
    }

    /// Drops every entry whose key matches `which`.
    pub fn forget_where(&self, which: impl Fn(&K) -> bool) {
        self.slots().retain(|k, _| !which(k));
    }

    fn insert(&self, slots: &mut HashMap<K, Slot<V>>, key: K, value: Outcome<V>) {
        if slots.len() >= self.max && !slots.contains_key(&key) {
            slots.retain(|_, s| s.since.elapsed() < self.ttl);
            if slots.len() >= self.max {
                slots.clear();
            }
        }
        let since = Instant::now();
        slots.insert(key, Slot { since, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn load(loads: &AtomicUsize, v: u32) -> Result<u32, ()> {
        loads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(v)
    }

    #[tokio::test]
    async fn a_fresh_value_is_served_without_loading_and_an_old_one_is_loaded_again() {
        let cache = TtlCache::new(Duration::from_millis(150), 10);
        let loads = AtomicUsize::new(0);
        assert_eq!(cache.get_or_load(&1, || load(&loads, 7)).await, Ok(7));
        assert_eq!(cache.get_or_load(&1, || load(&loads, 8)).await, Ok(7));
        assert_eq!(cache.fresh(&1), Some(7));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(cache.fresh(&1), None);
        assert_eq!(cache.get_or_load(&1, || load(&loads, 8)).await, Ok(8));
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_share_one_load() {
        let cache = TtlCache::new(Duration::from_secs(5), 10);
        let loads = AtomicUsize::new(0);
        let got = futures_join(&cache, &loads).await;
        assert!(got.iter().all(|v| *v == Ok(3)), "{got:?}");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    async fn futures_join(cache: &TtlCache<u8, u32>, loads: &AtomicUsize) -> Vec<Result<u32, ()>> {
        let (a, b, c) = tokio::join!(
            cache.get_or_load(&1, || load(loads, 3)),
            cache.get_or_load(&1, || load(loads, 4)),
            cache.get_or_load(&1, || load(loads, 5)),
        );
        vec![a, b, c]
    }

    #[tokio::test]
    async fn an_error_is_not_kept_and_a_forgotten_key_is_loaded_again() {
        let cache: TtlCache<u8, u32> = TtlCache::new(Duration::from_secs(5), 10);
        assert_eq!(
            cache.get_or_load(&1, || async { Err("down") }).await,
            Err("down")
        );
        assert_eq!(
            cache.get_or_load(&1, || async { Ok::<_, &str>(2) }).await,
            Ok(2)
        );
        cache.forget(&1);
        assert_eq!(
            cache.get_or_load(&1, || async { Ok::<_, &str>(3) }).await,
            Ok(3)
        );
        cache.put(2, 9);
        cache.forget_where(|k| *k == 1);
        assert_eq!(cache.fresh(&1), None);
        assert_eq!(cache.fresh(&2), Some(9));
    }

    #[tokio::test]
    async fn waiters_of_a_failed_load_load_at_once_not_one_after_another() {
        let cache: TtlCache<u8, u32> = TtlCache::new(Duration::from_secs(5), 10);
        let slow_failure = || async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Err::<u32, &str>("timed out")
        };
        let started = Instant::now();
        let (a, b, c, d) = tokio::join!(
            cache.get_or_load(&1, slow_failure),
            cache.get_or_load(&1, slow_failure),
            cache.get_or_load(&1, slow_failure),
            cache.get_or_load(&1, slow_failure),
        );
        assert!([a, b, c, d].iter().all(|r| *r == Err("timed out")));
        // The shared load, then each waiter's own at the same time: two
        // timeouts, not four.
        assert!(
            started.elapsed() < Duration::from_millis(600),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_full_cache_drops_its_entries_rather_than_grow() {
        let cache = TtlCache::new(Duration::from_secs(5), 3);
        for k in 0..10u32 {
            cache.put(k, k);
            assert!(cache.slots().len() <= 3);
        }
        assert_eq!(cache.fresh(&9), Some(9));
    }
}
