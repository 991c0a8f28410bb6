//! Search across enterprises, providers, needs, letters and departments (issue 13): the index of
//! `bangfu_core::search_index`, one per server, kept current the way the registry index is
//! (`registry_cache.rs`) — by the database's version.
//!
//! The version is the sequence number of the last audit event, which every change appends in its
//! own transaction on whichever server. Before answering, a server reads it (one indexed
//! statement); if it holds an older one, it reads the events after it and refreshes what they
//! name: an enterprise, a provider, the providers an import added, or every need and letter of a
//! case (an event about a need, its letters, its candidates or the case's team carries the case).
//! Writes are serialised database-wide, so the events after the version held are all the
//! changes since. Many changes at once (more than [`REFRESH_LIMIT`] events, or more than
//! [`MOST_CASES_PER_REFRESH`] cases) reload everything — in a task of its own, while searches
//! go on answering from the index held (a reload after a burst of thousands of reports through
//! another server took over ten seconds on PostgreSQL, and every search waited for it). Once an
//! index is held, a search never waits for a reload; a refresh of a few cases it does wait for.
//!
//! Who sees what is decided by `access::search_reader` and applied inside the index's scan.

use crate::{Actor, App, AppResult, access, error::bad};
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::search_index::{Audience, NeedAudience, SearchDoc, SearchHit, SearchIndex, SearchKind, SearchQuery};
use bangfu_store::search::SearchNeeds;
use bangfu_store::{DepartmentRow, EnterpriseRow, ProviderRow};
use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

/// Events read per refresh; more than this since the version held reloads the whole index.
/// (What the events name is read a kind of row at a time for all of them, so a burst of
/// thousands of reports refreshes the cases it touched rather than reading every need and
/// candidate again.)
pub const REFRESH_LIMIT: i64 = 50_000;
/// Cases whose needs a refresh reads again; more than this reloads the whole index, which reads
/// each table once and builds the postings at once (on PostgreSQL, reading the candidates of
/// 2,000 cases by case took 2 s where reading all of them took 0.6 s, and upserting 50,000 needs
/// one by one cost more than building).
pub const MOST_CASES_PER_REFRESH: usize = 200;
/// Results per answer: the default and the most.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
/// Characters of a query.
pub const MAX_QUERY_CHARS: usize = 100;

#[derive(Debug, Default)]
struct SearchState {
    index: SearchIndex,
    /// The database version the index reflects; none before the first load.
    held: Option<i64>,
    /// The largest provider id held (an import's new providers come after it).
    last_provider: i64,
}

/// One server's search index (shared by the clones of its [`App`]).
#[derive(Debug, Default)]
pub(crate) struct SearchCache {
    state: RwLock<SearchState>,
    /// One refresh at a time: the others wait for it rather than read the same rows.
    sync: tokio::sync::Mutex<()>,
    /// A reload runs in a task of its own; searches answer from the index held meanwhile.
    reloading: std::sync::atomic::AtomicBool,
}

impl App {
    /// The documents `actor` sees that match `text`, best first: at most `limit` (default 20,
    /// at most 100), of one `kind` or of all.
    pub async fn search(&self, actor: &Actor, text: &str, kind: Option<&str>, limit: Option<usize>) -> AppResult<Vec<SearchHit>> {
        let text = text.trim();
        if text.is_empty() {
            return Err(bad("q: give the text to search for (a name, a code, pinyin such as wanrong, or initials such as wr)"));
        }
        check_query(text)?;
        let kinds: Vec<SearchKind> = match kind.map(str::trim).filter(|k| !k.is_empty()) {
            None => SearchKind::ALL.to_vec(),
            Some(k) => vec![SearchKind::parse(k).ok_or_else(|| {
                bad(format!("kind: {k} is not one of {}", SearchKind::ALL.map(SearchKind::as_str).join(", ")))
            })?],
        };
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad(format!("limit: {limit} is not between 1 and {MAX_LIMIT}")));
        }
        let reader = access::search_reader(self.tree, actor);
        self.refresh_search().await?;
        let state = self.search.state.read().unwrap_or_else(|e| e.into_inner());
        Ok(state.index.search(self.tree, &reader, &SearchQuery { text, kinds: &kinds, limit }))
    }

    /// Every provider `actor` sees that `text` finds (as [`App::search`] finds them, without
    /// its limit), by id: what the registry's keyword search pages through.
    pub async fn providers_found(&self, actor: &Actor, text: &str) -> AppResult<Vec<i64>> {
        let text = text.trim();
        check_query(text)?;
        let reader = access::search_reader(self.tree, actor);
        self.refresh_search().await?;
        let state = self.search.state.read().unwrap_or_else(|e| e.into_inner());
        let query = SearchQuery { text, kinds: &[SearchKind::Provider], limit: usize::MAX };
        let mut ids: Vec<i64> = state.index.search(self.tree, &reader, &query).into_iter().map(|hit| hit.id).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Loads the search index now (a server does at start, so that its first search does not).
    pub async fn warm_search(&self) -> AppResult<usize> {
        self.refresh_search().await?;
        Ok(self.search.state.read().unwrap_or_else(|e| e.into_inner()).index.len())
    }

    /// Brings the index up to the database's version.
    async fn refresh_search(&self) -> AppResult<()> {
        let version = self.store.last_event_seq().await?;
        let held = |app: &App| app.search.state.read().unwrap_or_else(|e| e.into_inner()).held;
        if held(self).is_some_and(|h| h >= version) || self.reload_running() {
            return Ok(());
        }
        let _one_at_a_time = self.search.sync.lock().await;
        if self.reload_running() {
            return Ok(());
        }
        let Some(from) = held(self) else {
            return self.load_search(version).await;
        };
        if from >= version {
            return Ok(());
        }
        let changes = self.store.search_changes_after(from, REFRESH_LIMIT + 1).await?;
        if changes.len() as i64 > REFRESH_LIMIT {
            self.reload_search_behind(version);
            return Ok(());
        }
        let mut enterprises = BTreeSet::new();
        let mut providers = BTreeSet::new();
        let mut cases = BTreeSet::new();
        let mut imported = false;
        for c in &changes {
            let (what, id) = c.entity.split_once(':').map_or((c.entity.as_str(), None), |(w, id)| (w, id.parse::<i64>().ok()));
            match (what, id) {
                ("enterprise", Some(id)) => {
                    enterprises.insert(id);
                }
                ("provider", Some(id)) => {
                    providers.insert(id);
                }
                ("registry", _) => imported = true,
                ("letter", Some(id)) => {
                    if let Some(case) = self.store.case_of_letter(id).await? {
                        cases.insert(case);
                    }
                }
                _ => {}
            }
            if let Some(case) = c.case_id {
                cases.insert(case);
            }
        }
        let mut docs = Vec::new();
        // An enterprise's document links to its case: a case opened refreshes it too. Each
        // kind of row is read for all the changed ones at once (a burst of reports touches
        // thousands of cases; a statement per case kept every search waiting for seconds).
        let cases: Vec<i64> = cases.into_iter().collect();
        if cases.len() > MOST_CASES_PER_REFRESH {
            self.reload_search_behind(version);
            return Ok(());
        }
        if !cases.is_empty() {
            enterprises.extend(self.store.cases_with_ids(&cases).await?.iter().map(|c| c.enterprise_id));
        }
        let enterprises: Vec<i64> = enterprises.into_iter().collect();
        if !enterprises.is_empty() {
            // The first case of each enterprise, as `case_of_enterprise` gives it.
            let mut case_of: HashMap<i64, i64> = HashMap::new();
            for c in self.store.cases_of_enterprises(&enterprises).await? {
                case_of.entry(c.enterprise_id).or_insert(c.id);
            }
            for e in self.store.enterprises_with_ids(&enterprises).await? {
                docs.push(enterprise_doc(self.tree, &e, case_of.get(&e.id).copied()));
            }
        }
        let mut new_providers = Vec::new();
        for id in providers {
            new_providers.extend(self.store.provider(id).await?);
        }
        if imported {
            let after = self.search.state.read().unwrap_or_else(|e| e.into_inner()).last_provider;
            new_providers.extend(self.store.providers_after(after).await?);
        }
        let last_provider = new_providers.iter().map(|p| p.id).max().unwrap_or(0);
        docs.extend(new_providers.iter().map(|p| provider_doc(self.tree, p)));
        if !cases.is_empty() {
            docs.extend(need_docs(self.tree, &self.store.search_needs(Some(&cases)).await?));
        }
        let seen = changes.last().map_or(version, |c| c.seq.max(version));
        let mut state = self.search.state.write().unwrap_or_else(|e| e.into_inner());
        for doc in &docs {
            state.index.upsert(self.tree, doc);
        }
        state.last_provider = state.last_provider.max(last_provider);
        state.held = Some(seen.max(from));
        Ok(())
    }

    fn reload_running(&self) -> bool {
        self.search.reloading.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Reloads the index at `version` in a task of its own (see the module's note); the index
    /// held answers until the new one replaces it. A reload that fails leaves the index held,
    /// and the next search tries again.
    fn reload_search_behind(&self, version: i64) {
        if self.search.reloading.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let result = {
                let _one_at_a_time = app.search.sync.lock().await;
                app.load_search(version).await
            };
            app.search.reloading.store(false, std::sync::atomic::Ordering::Release);
            if let Err(e) = result {
                eprintln!("search: reloading the index at version {version} failed (the index held still answers): {e}");
            }
        });
    }

    /// Reads everything into a new index at `version`.
    async fn load_search(&self, version: i64) -> AppResult<()> {
        let mut docs: Vec<SearchDoc> = Vec::new();
        let mut case_of: HashMap<i64, i64> = HashMap::new();
        for c in self.store.cases().await? {
            case_of.entry(c.enterprise_id).or_insert(c.id);
        }
        docs.extend(self.store.enterprises().await?.iter().map(|e| enterprise_doc(self.tree, e, case_of.get(&e.id).copied())));
        let providers = self.store.providers().await?;
        let last_provider = providers.iter().map(|p| p.id).max().unwrap_or(0);
        docs.extend(providers.iter().map(|p| provider_doc(self.tree, p)));
        // A million providers' rows are hundreds of megabytes: not held while the index builds.
        drop(providers);
        docs.extend(self.store.departments().await?.iter().filter_map(|d| department_doc(self.tree, d)));
        docs.extend(need_docs(self.tree, &self.store.search_needs(None).await?));
        // Building is seconds of CPU for a large registry: off the threads that answer requests.
        let tree = self.tree;
        let index = tokio::task::spawn_blocking(move || SearchIndex::build(tree, docs))
            .await
            .map_err(|e| crate::error::AppError::Internal(format!("building the search index: {e}")))?;
        let mut state = self.search.state.write().unwrap_or_else(|e| e.into_inner());
        *state = SearchState { index, held: Some(version), last_provider };
        Ok(())
    }
}

/// A query's text is at most [`MAX_QUERY_CHARS`] characters, none of them control characters.
fn check_query(text: &str) -> AppResult<()> {
    if text.chars().count() > MAX_QUERY_CHARS || text.chars().any(char::is_control) {
        return Err(bad(format!("q: at most {MAX_QUERY_CHARS} characters and no control characters")));
    }
    Ok(())
}

fn place_of(tree: &RegionTree, region: RegionCode) -> String {
    tree.full_name(region)
}

fn enterprise_doc(tree: &RegionTree, e: &EnterpriseRow, case_id: Option<i64>) -> SearchDoc {
    SearchDoc {
        kind: SearchKind::Enterprise,
        id: e.id,
        title: e.name.clone(),
        codes: vec![e.credit_code.clone()],
        region: e.region.as_u32(),
        snippet: format!("{} · {}", e.credit_code, place_of(tree, e.region)),
        parent: case_id.unwrap_or(0),
        audience: Audience::Enterprise,
    }
}

fn provider_doc(tree: &RegionTree, p: &ProviderRow) -> SearchDoc {
    SearchDoc {
        kind: SearchKind::Provider,
        id: p.id,
        title: p.name.clone(),
        // The note is found by its characters, as a code is (the registry's keyword search).
        codes: if p.note.trim().is_empty() { vec![p.key.clone()] } else { vec![p.key.clone(), p.note.clone()] },
        region: p.region.as_u32(),
        snippet: place_of(tree, p.region),
        parent: 0,
        audience: Audience::Provider,
    }
}

fn department_doc(tree: &RegionTree, d: &DepartmentRow) -> Option<SearchDoc> {
    let tier = d.tier.label().zh;
    Some(SearchDoc {
        kind: SearchKind::Department,
        id: i64::from(d.region_code.as_u32()),
        title: d.name.clone(),
        codes: vec![d.region_code.to_string()],
        region: d.region_code.as_u32(),
        snippet: format!("{tier} · {}", place_of(tree, d.region_code)),
        parent: 0,
        audience: Audience::Department,
    })
}

/// The documents of needs and their letters, each need with who sees it by name.
fn need_docs(tree: &RegionTree, rows: &SearchNeeds) -> Vec<SearchDoc> {
    let mut teams: HashMap<i64, Vec<u32>> = HashMap::new();
    for t in &rows.teams {
        teams.entry(t.owner_id).or_default().push(t.value.as_u32());
    }
    let mut named: HashMap<i64, Vec<u32>> = HashMap::new();
    for b in &rows.broadcasts {
        named.entry(b.owner_id).or_default().push(b.value.as_u32());
    }
    for l in rows.letters.iter().filter(|l| l.status != bangfu_core::model::LetterStatus::Draft) {
        named.entry(l.need_id).or_default().extend(l.recipients.iter().map(|r| r.region.as_u32()));
    }
    let mut candidates: HashMap<i64, Vec<i64>> = HashMap::new();
    for c in &rows.candidates {
        candidates.entry(c.owner_id).or_default().push(c.value);
    }
    let mut docs = Vec::new();
    let mut audiences: HashMap<i64, (u32, NeedAudience)> = HashMap::new();
    for n in &rows.needs {
        let mut departments: Vec<u32> = teams.get(&n.case_id).cloned().unwrap_or_default();
        departments.extend(named.get(&n.id).cloned().unwrap_or_default());
        departments.sort_unstable();
        departments.dedup();
        let audience = NeedAudience {
            enterprise_id: n.enterprise_id,
            owner: n.owner.as_u32(),
            departments,
            providers: candidates.get(&n.id).cloned().unwrap_or_default(),
        };
        let kind = n.kind.label().zh;
        let status = n.status.label().zh;
        docs.push(SearchDoc {
            kind: SearchKind::Need,
            id: n.id,
            title: n.title.clone(),
            codes: Vec::new(),
            region: n.case_region.as_u32(),
            snippet: format!("{kind} · {status} · {}", place_of(tree, n.case_region)),
            parent: n.case_id,
            audience: Audience::Need(audience.clone()),
        });
        audiences.insert(n.id, (n.case_region.as_u32(), audience));
    }
    for l in &rows.letters {
        let Some((region, audience)) = audiences.get(&l.need_id) else { continue };
        docs.push(SearchDoc {
            kind: SearchKind::Letter,
            id: l.id,
            title: l.subject.clone(),
            codes: vec![l.number.clone()],
            region: *region,
            snippet: format!("{} · {}", l.number, l.status),
            parent: l.need_id,
            audience: Audience::Need(audience.clone()),
        });
    }
    docs
}
