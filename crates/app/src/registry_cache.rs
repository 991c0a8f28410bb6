//! The registry index each server keeps in memory (issue 12), so that screening a need reads
//! memory instead of the capabilities table, and runs before the write transaction rather than
//! inside it.
//!
//! It stays exact the way the case caches do, by version: every capability row carries the
//! audit sequence number of the transaction that last wrote it (stamped by the store), and the
//! registry's version is the largest of them. Before screening, a server reads that version
//! (one indexed statement); if it holds an older one, it reads only the capabilities written
//! since and applies them — on whichever server they were written, several servers on one
//! PostgreSQL included. The first use loads the whole registry (`bangfu serve` does it at start).
//!
//! Writes are serialised database-wide, so once a version is visible every row stamped at or
//! below it is too: applying "everything after the version held" never misses a row. A row read
//! twice (it committed between reading the version and reading the rows) is applied once, by its
//! version.

use crate::registry::capability_of;
use crate::{App, AppResult};
use bangfu_core::capability::{Capability, CapabilityAttrs};
use bangfu_core::ids::ProviderId;
use bangfu_core::model::NeedKind;
use bangfu_core::registry_index::RegistryIndex;
use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard};

/// The index and the version it reflects.
#[derive(Debug, Default)]
pub(crate) struct RegistryState {
    pub index: RegistryIndex<ProviderId>,
    /// The version of each capability held, by provider and kind.
    versions: HashMap<(i64, NeedKind), i64>,
    /// The registry version up to which every change is applied; none before the first load.
    pub held: Option<i64>,
}

/// One server's registry index (shared by the clones of its [`App`]).
#[derive(Debug, Default)]
pub(crate) struct RegistryCache {
    state: RwLock<RegistryState>,
    /// One reader of changes at a time: the others wait for it rather than read the same rows.
    sync: tokio::sync::Mutex<()>,
}

impl RegistryCache {
    fn read(&self) -> RwLockReadGuard<'_, RegistryState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl App {
    /// The registry index, brought up to the database's registry version first.
    pub(crate) async fn registry(&self) -> AppResult<RwLockReadGuard<'_, RegistryState>> {
        let version = self.store.registry_version().await?;
        if self.registry.read().held.is_none_or(|held| held < version) {
            let _one_at_a_time = self.registry.sync.lock().await;
            let held = self.registry.read().held;
            if held.is_none_or(|held| held < version) {
                let mut state = match held {
                    // The first load reads the registry page by page, so that its rows never sit
                    // in memory all at once; a row changed behind the pages has a version above
                    // `version` and comes with the next change.
                    None => {
                        let mut changes = Vec::new();
                        let mut after = 0;
                        loop {
                            let page = self.store.capabilities_with_providers_after_id(after, LOAD_PAGE).await?;
                            let Some(last) = page.last() else { break };
                            after = last.0.id;
                            changes.extend(typed(page)?);
                        }
                        let mut state = self.registry.state.write().unwrap_or_else(|e| e.into_inner());
                        state.apply(changes, true);
                        state
                    }
                    Some(held) => {
                        let changes = typed(self.store.capabilities_with_providers_changed_since(held).await?)?;
                        let mut state = self.registry.state.write().unwrap_or_else(|e| e.into_inner());
                        state.apply(changes, false);
                        state
                    }
                };
                state.held = Some(version.max(state.held.unwrap_or(version)));
            }
        }
        Ok(self.registry.read())
    }

    /// The registry index as this server holds it now, without reading the database (a write
    /// job's view: it cannot wait for a read). Refused if it was never loaded: the caller brings
    /// it up to date with [`App::registry`] before its write.
    pub(crate) fn registry_held(&self) -> AppResult<RwLockReadGuard<'_, RegistryState>> {
        let state = self.registry.read();
        if state.held.is_none() {
            return Err(crate::AppError::Internal("the registry index was not loaded before the write that screens on it".into()));
        }
        Ok(state)
    }

    /// The providers of `kind` nearest to `at` (id and name), nearest first: what an officer is
    /// offered to put forward by hand.
    pub async fn nearest_providers(&self, kind: NeedKind, at: bangfu_core::travel::LonLat, n: usize) -> AppResult<Vec<(i64, String)>> {
        let registry = self.registry().await?;
        Ok(registry.index.nearest(kind, at, n).into_iter().map(|c| (c.provider.0, c.name.clone())).collect())
    }

    /// Loads the registry index now, or brings it up to the database's version (a server does
    /// at start, so that its first request does not; a write that screens on the index as held
    /// does just before it).
    pub async fn warm_registry(&self) -> AppResult<usize> {
        Ok(self.registry().await?.index.len())
    }
}

/// Capabilities read per statement on a server's first load.
const LOAD_PAGE: i64 = 20_000;

/// Stored capabilities as the index holds them, with their versions. A stored capability always
/// parsed when it was written; one that no longer does (a rule tightened since) cannot be
/// screened, and is left out as before.
fn typed(rows: Vec<(bangfu_store::CapabilityRow, bangfu_store::ProviderRow)>) -> AppResult<Vec<(Capability<ProviderId>, i64)>> {
    let mut out = Vec::with_capacity(rows.len());
    for (row, provider) in rows {
        let Ok(typed) = CapabilityAttrs::from_attrs(row.kind, &crate::registry::object_attr_values(&row.attrs)) else { continue };
        out.push((capability_of(&provider, row.available, typed)?, row.version));
    }
    Ok(out)
}

impl RegistryState {
    /// Applies capabilities read with their versions: a fresh load builds the index in bulk;
    /// later changes replace what is held unless it is newer.
    fn apply(&mut self, changes: Vec<(Capability<ProviderId>, i64)>, fresh: bool) {
        if fresh {
            for (capability, version) in &changes {
                self.versions.insert((capability.provider.0, capability.kind()), *version);
            }
            self.index = RegistryIndex::build(changes.into_iter().map(|(c, _)| c).collect());
            return;
        }
        for (capability, version) in changes {
            let key = (capability.provider.0, capability.kind());
            if self.versions.get(&key).is_some_and(|held| *held > version) {
                continue;
            }
            self.versions.insert(key, version);
            self.index.upsert(capability);
        }
    }
}
