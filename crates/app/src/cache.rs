//! A read cache that stays exact across servers: each entry carries the database's version at the
//! time it was read ([`bangfu_store::Store::last_event_seq`], the last audit event) and is used
//! only while the version is unchanged. Every change appends an audit event in its own
//! transaction, on every server and in every process, so an unchanged version means nothing
//! changed since the entry was read. Reading the version first and the rows after it, an entry
//! is never older than its version says.
//!
//! What it holds (the case pages) is decided by the callers; access is still decided per request
//! ([`crate::access`]) against the cached rows.

use crate::views::CaseDetail;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// The database's version as one request saw it: whatever is read "at" it is at least as new,
/// so a request that checks its session and then reads asks for the version once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen(pub(crate) i64);

/// Entries kept at most per cache; when it is full, entries of older versions go first, and if
/// that frees nothing the cache starts over.
const CAPACITY: usize = 4096;

/// A map of values, each valid at one database version.
pub(crate) struct Versioned<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
}

impl<K, V> Default for Versioned<K, V> {
    fn default() -> Self {
        Versioned { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> Versioned<K, V> {
    /// The value of `key` if it was read at `version`.
    pub(crate) fn get(&self, key: &K, version: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|(v, _)| *v == version).map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read at `version`, for `key`, unless a value of a later version is kept.
    pub(crate) fn put(&self, key: K, version: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.get(&key).is_some_and(|(v, _)| *v > version) {
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, (v, _)| *v >= version);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (version, value));
    }

    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The caches of one [`crate::App`] (shared by its clones).
#[derive(Default)]
pub(crate) struct Caches {
    /// Case id → everything on its page.
    pub cases: Versioned<i64, Arc<CaseDetail>>,
    /// Who sees what and which page → the dashboard at one moment (`now`, in milliseconds).
    pub dashboards: Versioned<crate::dashboard::DashboardKey, (i64, Arc<crate::dashboard::Dashboard>)>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").field("cases", &self.cases.len()).field("dashboards", &self.dashboards.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_used_only_at_its_version() {
        let cache: Versioned<i64, &str> = Versioned::default();
        cache.put(1, 10, "ten");
        assert_eq!(cache.get(&1, 10), Some("ten"));
        assert_eq!(cache.get(&1, 11), None);
        cache.put(1, 9, "nine");
        assert_eq!(cache.get(&1, 10), Some("ten"), "an older read does not replace a newer one");
        cache.put(1, 11, "eleven");
        assert_eq!(cache.get(&1, 11), Some("eleven"));
    }

    #[test]
    fn a_full_cache_drops_older_versions_first() {
        let cache: Versioned<usize, usize> = Versioned::default();
        for key in 0..CAPACITY {
            cache.put(key, 1, key);
        }
        cache.put(CAPACITY, 2, 0);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&CAPACITY, 2), Some(0));
    }
}
