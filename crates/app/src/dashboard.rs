//! The dashboard of a department (or of any user), summarised for thousands of cases (issue 13):
//! its open needs counted by owning tier and status, the ten most overdue needs (the needs queue
//! sorted by its response windows) and how many are overdue, how many active cases have had no
//! progress for [`QUIET_DAYS`] days, the drill-down by region ([`App::region_overview`]), a page
//! of the cases it sees with their age and first output, recent events, and where the providers
//! of the cases on the page lie.
//!
//! Nothing here reads a whole table: the counts are one GROUP BY and one COUNT in the database,
//! the lists are pages (the cases by id after a cursor, as every list; the overdue needs by the queue's key),
//! and only the cases on the page have their plan projected. What the actor may see is filtered
//! in the database by [`crate::access::visible_cases`]; `now` is a parameter.

use crate::views::CaseSummary;
use crate::{Actor, App, AppResult, access, from_millis, to_millis};
use bangfu_core::model::{CaseStatus, NeedKind, NeedStatus, Tier};
use bangfu_store::{EventRow, Page, PageRequest, ProviderRow};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// How many events the dashboard shows.
pub const RECENT_EVENTS: usize = 15;

/// Cases on one page of the dashboard (each has its plan projected).
pub const CASES_PER_PAGE: usize = 20;

/// How many of the most overdue needs the dashboard shows.
pub const MOST_OVERDUE: usize = 10;

/// Which page of each list the dashboard shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DashboardPages {
    pub cases: PageRequest,
}

impl Default for DashboardPages {
    fn default() -> Self {
        DashboardPages { cases: PageRequest::first(CASES_PER_PAGE) }
    }
}

/// One line of the case list.
#[derive(Clone, Debug)]
pub struct CaseLine {
    pub summary: CaseSummary,
    /// Whole days since the case was opened.
    pub days_open: i64,
    pub first_output: FirstOutput,
}

/// When the enterprise's first output comes (or came).
#[derive(Clone, Debug, PartialEq)]
pub enum FirstOutput {
    /// From the case's plan ([`App::case_plan`]): the projected first output, or the actual one
    /// once every milestone has finished; `delay_h` is how long open needs hold it back.
    Planned { at: DateTime<Utc>, finished: bool, delay_h: f64 },
    /// The first daily return with output above zero: its day (YYYY-MM-DD, UTC+8).
    Reported { day: String },
    /// Nothing reported and no plan recorded to project it from.
    Unknown,
}

/// How many visible, unclosed needs one tier owns in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedCount {
    pub tier: Tier,
    pub status: NeedStatus,
    pub count: usize,
}

/// A provider on the map of a case: the one chosen for a need, or a feasible candidate of an
/// open need.
#[derive(Clone, Debug)]
pub struct MapProvider {
    pub case_id: i64,
    pub need_kind: NeedKind,
    pub provider: ProviderRow,
    pub selected: bool,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    /// A page of the visible cases, by id, and how many there are.
    pub cases: Page<CaseLine>,
    pub total_cases: i64,
    pub open_needs: Vec<NeedCount>,
    /// The needs most overdue at `now` (most first), and how many needs of the cases seen are overdue.
    pub most_overdue: Vec<crate::queue::QueueLine>,
    pub total_overdue: i64,
    /// How many active cases have had no event for [`QUIET_DAYS`] days.
    pub quiet_cases: i64,
    /// The drill-down by region, from the lowest region holding every case seen.
    pub overview: RegionOverview,
    /// Newest first, across the visible cases.
    pub recent_events: Vec<EventRow>,
    /// The titles of the needs the recent events name (need id → title).
    pub need_titles: std::collections::BTreeMap<i64, String>,
    /// The providers of the cases on the page.
    pub providers: Vec<MapProvider>,
}

/// What decides a dashboard besides the database and the moment: what its reader may see (its
/// role and where it belongs, not who it is) and which page of cases it shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DashboardKey {
    role: bangfu_core::model::Role,
    department: Option<bangfu_core::region::RegionCode>,
    enterprise_id: Option<i64>,
    provider_id: Option<i64>,
    cases_after: Option<i64>,
}

impl App {
    /// What the dashboard shows `actor` at `now`, with the pages `pages` of its lists.
    ///
    /// Kept while the database's version is unchanged (see `cache.rs`) for the same moment and
    /// readers who see the same: every officer of a department opening the dashboard within
    /// the same `now` (the pages give the minute) is answered from one reading.
    pub async fn dashboard(&self, actor: &Actor, now: DateTime<Utc>, pages: DashboardPages) -> AppResult<Dashboard> {
        let key = DashboardKey {
            role: actor.role,
            department: actor.department,
            enterprise_id: actor.enterprise_id,
            provider_id: actor.provider_id,
            cases_after: pages.cases.after,
        };
        if pages.cases.limit != CASES_PER_PAGE {
            return self.read_dashboard(actor, now, pages).await;
        }
        let version = self.store.last_event_seq().await?;
        let at = to_millis(now);
        let kept = || self.caches.dashboards.get(&key, version).filter(|(kept_at, _)| *kept_at == at).map(|(_, d)| Dashboard::clone(&d));
        if let Some(dashboard) = kept() {
            return Ok(dashboard);
        }
        // At the turn of a minute every reader of the page asks at once: one reads it, the
        // others find it kept.
        let _turn = self.caches.dashboards.reading(&key).await;
        if let Some(dashboard) = kept() {
            return Ok(dashboard);
        }
        let dashboard = self.read_dashboard(actor, now, pages).await?;
        self.caches.dashboards.put(key.clone(), version, (at, Arc::new(dashboard.clone())));
        Ok(dashboard)
    }

    async fn read_dashboard(&self, actor: &Actor, now: DateTime<Utc>, pages: DashboardPages) -> AppResult<Dashboard> {
        let visible = access::visible_cases(self.tree, actor);
        let unclosed: Vec<&str> = NeedStatus::ALL.iter().filter(|s| !s.is_closed()).map(|s| s.as_str()).collect();

        let mut read = self.store.reading().await?;
        let total_cases = read.count_cases(&bangfu_store::lists::CaseQuery { visible: visible.clone(), ..Default::default() }).await?;
        let counts = read.need_counts(&visible, &unclosed).await?;
        let recent_events = read.recent_events(&visible, RECENT_EVENTS).await?;
        // A need an event of a visible case names is that case's: visible too.
        let mut need_titles = std::collections::BTreeMap::new();
        for event in &recent_events {
            if let Some(id) = event.entity.strip_prefix("need:").and_then(|n| n.parse::<i64>().ok())
                && !need_titles.contains_key(&id)
                && let Some(need) = read.need(id).await?
                && Some(need.case_id) == event.case_id
            {
                need_titles.insert(id, need.title);
            }
        }
        drop(read);

        let summaries = self.list_cases(actor, &crate::views::CaseFilter::default(), pages.cases).await?;
        let case_ids: Vec<i64> = summaries.items.iter().map(|s| s.case.id).collect();
        let providers = self
            .store
            .providers_of_cases(&case_ids)
            .await?
            .into_iter()
            .map(|p| MapProvider { case_id: p.case_id, need_kind: p.need_kind, provider: p.provider, selected: p.selected })
            .collect();
        let mut lines = Vec::with_capacity(summaries.items.len());
        for summary in summaries.items {
            let plan = self.plan_of(summary.case.id, now).await?;
            let first_output = if !plan.is_empty() {
                let finished = (0..plan.plan.milestones.len()).all(|i| plan.is_done(i));
                FirstOutput::Planned { at: plan.finish(), finished, delay_h: plan.delay_h() }
            } else {
                match self.store.first_output_return(summary.case.id).await? {
                    Some(r) => FirstOutput::Reported { day: r.day },
                    None => FirstOutput::Unknown,
                }
            };
            let days_open = (now - from_millis(summary.case.opened_at)).num_days();
            lines.push(CaseLine { summary, days_open, first_output });
        }

        let overdue_view = crate::queue::QueueView { status: "active".into(), overdue: true, sort: "due".into(), ..Default::default() };
        let most_overdue = self.needs_queue(actor, now, &overdue_view, None, MOST_OVERDUE).await?.items;
        let quiet_cases = self.store.count_quiet_cases(&visible, to_millis(now - chrono::TimeDelta::days(QUIET_DAYS))).await?;
        let overview = self.region_overview(actor, now, None).await?;
        // Counted with the drill-down (by the cases seen), not by a second pass over the queue.
        let total_overdue = overview.total.overdue_needs;
        let open_needs = counts.into_iter().map(|c| NeedCount { tier: c.tier, status: c.status, count: c.count as usize }).collect();
        Ok(Dashboard {
            cases: Page { items: lines, next: summaries.next },
            total_cases,
            open_needs,
            most_overdue,
            total_overdue,
            quiet_cases,
            overview,
            recent_events,
            need_titles,
            providers,
        })
    }
}

// ---- the summary of many cases (issue 13 item 3) ----

/// One region of a drill-down: its cases (all, active) and their unclosed and overdue needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionLine {
    pub code: String,
    pub name: String,
    /// Whether it has regions below it to drill into.
    pub has_children: bool,
    pub cases: i64,
    pub active_cases: i64,
    pub unclosed_needs: i64,
    pub overdue_needs: i64,
}

/// The cases an actor sees, summed by the regions one level below `place` — province by city,
/// city by county — with the path from the top down to `place` (for breadcrumbs) and the sums
/// over `place` itself.
#[derive(Clone, Debug, Default)]
pub struct RegionOverview {
    /// Where the summary stands: none above the provinces.
    pub place: Option<String>,
    /// From the province down to `place`: (code, name).
    pub path: Vec<(String, String)>,
    pub total: RegionLine,
    /// One line per region below `place` with a case in it, by code.
    pub lines: Vec<RegionLine>,
}

/// How many days without an event make a case quiet, when not asked otherwise.
pub const QUIET_DAYS: i64 = 3;

impl App {
    /// The drill-down of the cases `actor` sees at `now`, at `place` — or, none given, at the
    /// lowest region holding all of them. Counted in the database by the cases' regions (one
    /// GROUP BY over cases, one over unclosed needs); summed up the region tree here.
    pub async fn region_overview(&self, actor: &Actor, now: DateTime<Utc>, place: Option<bangfu_core::region::RegionCode>) -> AppResult<RegionOverview> {
        let visible = access::visible_cases(self.tree, actor);
        let mut read = self.store.reading().await?;
        let cases = read.case_counts_by_region(&visible).await?;
        let needs = read.need_counts_by_region(&visible, &self.overdue_at(now)).await?;
        drop(read);
        // The chain of a case's region, from the top: province, city, county.
        let chain = |region: bangfu_core::region::RegionCode| -> Vec<bangfu_core::region::RegionCode> {
            let mut chain: Vec<_> = self.tree.ancestors(region).iter().map(|r| r.code).collect();
            chain.reverse();
            chain.push(region);
            chain
        };
        let place = match place {
            Some(place) => Some(place),
            None => {
                // The deepest region every counted case lies under.
                let chains: Vec<Vec<_>> = cases.iter().map(|c| chain(c.region)).collect();
                let mut common: Option<Vec<_>> = None;
                for c in chains {
                    common = Some(match common {
                        None => c[..c.len().saturating_sub(1)].to_vec(),
                        Some(prefix) => prefix.iter().zip(c.iter()).take_while(|(a, b)| a == b).map(|(a, _)| *a).collect(),
                    });
                }
                common.and_then(|c| c.last().copied())
            }
        };
        let mut lines: std::collections::BTreeMap<bangfu_core::region::RegionCode, RegionLine> = std::collections::BTreeMap::new();
        let mut total = RegionLine::default();
        // The region below `place` on the chain of `region`, if `region` lies under `place`.
        let below = |region: bangfu_core::region::RegionCode| -> Option<(bangfu_core::region::RegionCode, bool)> {
            let chain = chain(region);
            let at = match place {
                None => 0,
                Some(place) => chain.iter().position(|c| *c == place)? + 1,
            };
            chain.get(at).map(|c| (*c, at + 1 < chain.len()))
        };
        let inside = |region: bangfu_core::region::RegionCode| place.is_none_or(|p| chain(region).contains(&p));
        for row in &cases {
            if !inside(row.region) {
                continue;
            }
            let active = if row.status == CaseStatus::Active { row.count } else { 0 };
            total.cases += row.count;
            total.active_cases += active;
            if let Some((child, deeper)) = below(row.region) {
                let line = lines.entry(child).or_default();
                line.has_children |= deeper;
                line.cases += row.count;
                line.active_cases += active;
            }
        }
        for row in &needs {
            if !inside(row.region) {
                continue;
            }
            total.unclosed_needs += row.unclosed;
            total.overdue_needs += row.overdue;
            if let Some((child, deeper)) = below(row.region) {
                let line = lines.entry(child).or_default();
                line.has_children |= deeper;
                line.unclosed_needs += row.unclosed;
                line.overdue_needs += row.overdue;
            }
        }
        let name = |c: bangfu_core::region::RegionCode| self.tree.get(c).map_or_else(|| c.to_string(), |r| r.name.clone());
        let lines = lines.into_iter().map(|(c, line)| RegionLine { name: name(c), code: c.to_string(), ..line }).collect();
        let path = match place {
            Some(place) => {
                let mut path: Vec<(String, String)> = self.tree.ancestors(place).iter().rev().map(|r| (r.code.to_string(), r.name.clone())).collect();
                path.push((place.to_string(), name(place)));
                path
            }
            None => Vec::new(),
        };
        if let Some(place) = place {
            total.code = place.to_string();
            total.name = name(place);
        }
        Ok(RegionOverview { place: place.map(|p| p.to_string()), path, total, lines })
    }

    /// A page of the active cases `actor` sees with no event for `days` days before `now` (by
    /// id), each with the time of its last event, and how many there are.
    pub async fn quiet_cases(&self, actor: &Actor, now: DateTime<Utc>, days: i64, page: PageRequest) -> AppResult<(Page<(CaseSummary, DateTime<Utc>)>, i64)> {
        if !(1..=365).contains(&days) {
            return Err(crate::error::bad(format!("quiet: {days} days — give 1 to 365 days without progress")));
        }
        let visible = access::visible_cases(self.tree, actor);
        let before = to_millis(now - chrono::TimeDelta::days(days));
        let mut read = self.store.reading().await?;
        let rows = read.quiet_cases_page(&visible, before, page).await?;
        let total = read.count_quiet_cases(&visible, before).await?;
        let page = rows.map(|(r, last)| {
            (CaseSummary { case: r.case, enterprise: r.enterprise, open_needs: r.open_needs as usize, needs: r.needs as usize }, from_millis(last))
        });
        Ok((page, total))
    }
}
