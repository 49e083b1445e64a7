//! A node-local cache whose entries are trusted for a fixed time. The CDP keeps write keys,
//! compiled schemas and settings in it: a change made on another node is seen within the TTL,
//! and the node that made it forgets at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<V> {
    entries: Mutex<HashMap<String, (V, Instant)>>,
    ttl: Duration,
    /// Beyond this many keys the cache starts over (a bound, not an eviction policy).
    capacity: usize,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    /// The value under `key` if it is younger than the TTL.
    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub fn insert(&self, key: &str, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key.to_string(), (value, Instant::now()));
        }
    }

    pub fn remove(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = TtlCache::new(Duration::from_millis(50), 2);
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.remove("a");
        assert_eq!(cache.get("a"), None);
        cache.insert("b", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("b"), None);
        cache.insert("c", 3);
        cache.insert("d", 4);
        assert_eq!(cache.get("c"), None, "at capacity the cache starts over");
        assert_eq!(cache.get("d"), Some(4));
    }
}
