//! A short-lived cache of credential digest → principal, so a request does not pay a four-table
//! join to authenticate. It is an accelerator, not a source of truth: entries live two seconds,
//! and this node clears it whenever it changes anything a principal carries (sessions, tokens,
//! users, roles, metadata). Another node sees such a change within two seconds.

use rapport_core::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(2);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct PrincipalCache {
    entries: Mutex<HashMap<String, (Instant, Principal)>>,
}

impl PrincipalCache {
    pub fn get(&self, key: &str) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, p)| p.clone())
    }

    pub fn put(&self, key: String, principal: Principal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (at, _)| at.elapsed() < TTL);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), principal));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}
