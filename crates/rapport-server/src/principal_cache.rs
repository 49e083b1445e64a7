//! A short-lived cache of credential digest → principal, so a request does not pay a four-table
//! join to authenticate. It is an accelerator, not a source of truth: entries live two seconds,
//! and this node clears it whenever it changes anything a principal carries (sessions, tokens,
//! users, roles, metadata). Another node sees such a change within two seconds.

use rapport_core::Principal;
use rapport_store::cache::Cache;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: u64 = 10_000;

pub struct PrincipalCache(Cache<String, Principal>);

impl Default for PrincipalCache {
    fn default() -> Self {
        Self(Cache::with_ttl(TTL, MAX_ENTRIES))
    }
}

impl PrincipalCache {
    pub fn get(&self, key: &str) -> Option<Principal> {
        self.0.get(key)
    }

    pub fn put(&self, key: String, principal: Principal) {
        self.0.insert(key, principal);
    }

    pub fn clear(&self) {
        self.0.clear();
    }
}
