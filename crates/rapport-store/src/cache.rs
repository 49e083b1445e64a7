//! The one kind of node-local cache (moka's, bounded by TinyLFU admission and LRU eviction
//! instead of clearing when full). Caches accelerate, the database decides: an entry either
//! never goes stale (identifier owners, compiled segment versions, behaviour key specs) or is
//! trusted only for a short time (write keys, schemas of the registry, settings, principals),
//! after which it is read again — so a change made on another node is seen within that time,
//! and the node that made it forgets at once (`remove`, `clear`).

use std::hash::Hash;
use std::time::Duration;

/// A bounded cache; with a TTL, entries expire that long after they were put.
pub struct Cache<K, V>(moka::sync::Cache<K, V>);

impl<K, V> std::fmt::Debug for Cache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("entries", &self.0.entry_count())
            .finish()
    }
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Entries that never go stale, at most `capacity`.
    pub fn bounded(capacity: u64) -> Self {
        Self(moka::sync::Cache::builder().max_capacity(capacity).build())
    }

    /// Entries trusted for `ttl`, at most `capacity`.
    pub fn with_ttl(ttl: Duration, capacity: u64) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
        )
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(key)
    }

    pub fn insert(&self, key: K, value: V) {
        self.0.insert(key, value);
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.invalidate(key);
    }

    pub fn clear(&self) {
        self.0.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl_and_stay_bounded() {
        let cache: Cache<String, u32> = Cache::with_ttl(Duration::from_millis(50), 100);
        cache.insert("a".into(), 1);
        assert_eq!(cache.get("a"), Some(1));
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(cache.get("a"), None);
        let bounded: Cache<u32, u32> = Cache::bounded(10);
        for i in 0..1_000 {
            bounded.insert(i, i);
        }
        bounded.0.run_pending_tasks();
        assert!(bounded.0.entry_count() <= 10, "{}", bounded.0.entry_count());
        bounded.clear();
        bounded.0.run_pending_tasks();
        assert_eq!(bounded.0.entry_count(), 0);
    }
}
