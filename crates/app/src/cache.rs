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
    /// The keys being read now, each with the lock its readers queue on (see [`Versioned::reading`]).
    flights: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K, V> Default for Versioned<K, V> {
    fn default() -> Self {
        Versioned { entries: Mutex::new(HashMap::new()), flights: Mutex::new(HashMap::new()) }
    }
}

/// The right to read one key's value while others asking for it wait (see [`Versioned::reading`]).
pub(crate) struct Reading<'c, K: Eq + Hash + Clone, V> {
    cache: &'c Versioned<K, V>,
    key: K,
    flight: Arc<tokio::sync::Mutex<()>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Eq + Hash + Clone, V> Drop for Reading<'_, K, V> {
    fn drop(&mut self) {
        let mut flights = self.cache.flights.lock().unwrap_or_else(|e| e.into_inner());
        // The turn passes on (its guard holds the lock's `Arc` too); then, if no one else holds
        // or waits for the lock (only this reading and the map do), the key's lock goes.
        drop(self.turn.take());
        if Arc::strong_count(&self.flight) == 2 {
            flights.remove(&self.key);
        }
    }
}

impl<K: Eq + Hash + Clone, V> Versioned<K, V> {
    /// Waits for the turn to read `key`: one request at a time reads a key's value, and those
    /// that waited find it kept (`get`) instead of reading it again — when a page's value goes
    /// stale (a new version, a new minute) under many readers, it is read once, not by each of
    /// them at once on two cores.
    pub(crate) async fn reading(&self, key: &K) -> Reading<'_, K, V> {
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(flights.entry(key.clone()).or_default())
        };
        let turn = Arc::clone(&flight).lock_owned().await;
        Reading { cache: self, key: key.clone(), flight, turn: Some(turn) }
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

    #[tokio::test]
    async fn one_reader_at_a_time_per_key_and_the_lock_goes_with_the_last() {
        let cache: Versioned<i64, &str> = Versioned::default();
        let first = cache.reading(&1).await;
        // Another key is not held up.
        drop(cache.reading(&2).await);
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), cache.reading(&1)).await;
        assert!(waiting.is_err(), "the second reader of a key waits for the first");
        drop(first);
        drop(cache.reading(&1).await);
        assert!(cache.flights.lock().unwrap().is_empty());
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
