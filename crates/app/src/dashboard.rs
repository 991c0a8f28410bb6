//! The dashboard of a department (or of any user): a page of the cases it sees with their age and
//! first output, its open needs counted by owning tier and status, a page of the needs that are
//! overdue or escalated, recent events, and where the providers of the cases on the page lie.
//!
//! Nothing here reads a whole table: the counts are one GROUP BY and one COUNT in the database,
//! the lists are pages (the cases by id after a cursor, as every list; the attention list too),
//! and only the cases on the page have their plan projected. What the actor may see is filtered
//! in the database by [`crate::access::visible_cases`]; `now` is a parameter.

use crate::views::CaseSummary;
use crate::{Actor, App, AppResult, access, from_millis, to_millis};
use bangfu_core::model::{NeedStatus, Tier};
use bangfu_store::lists::AttentionAt;
use bangfu_store::{EventRow, NeedRow, Page, PageRequest, ProviderRow};
use chrono::{DateTime, Utc};

/// How many events the dashboard shows.
pub const RECENT_EVENTS: usize = 15;

/// Cases on one page of the dashboard (each has its plan projected).
pub const CASES_PER_PAGE: usize = 20;

/// Needs on one page of the attention list.
pub const ATTENTION_PER_PAGE: usize = 20;

/// Which page of each list the dashboard shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DashboardPages {
    pub cases: PageRequest,
    pub attention: PageRequest,
}

impl Default for DashboardPages {
    fn default() -> Self {
        DashboardPages { cases: PageRequest::first(CASES_PER_PAGE), attention: PageRequest::first(ATTENTION_PER_PAGE) }
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

/// Why a need is on the attention list.
#[derive(Clone, Debug, PartialEq)]
pub enum Overdue {
    /// The need's own deadline has passed and it is not closed.
    PastDeadline { deadline: DateTime<Utc> },
    /// The owner has not acted inside its tier's response window (this deployment's, see
    /// [`App::response_windows`]); the escalation pass moves such a need up a tier.
    PastResponseWindow { tier: Tier, expired_at: DateTime<Utc> },
}

/// A need that is overdue, escalated or flagged for supervision.
#[derive(Clone, Debug)]
pub struct AttentionNeed {
    pub need: NeedRow,
    pub enterprise: String,
    pub overdue: Vec<Overdue>,
    /// It moved up a tier at least once (an escalation event names it).
    pub escalated: bool,
    /// Flagged for supervision by the provincial leadership (督办).
    pub supervised: bool,
}

/// How many visible, unclosed needs one tier owns in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedCount {
    pub tier: String,
    pub status: String,
    pub count: usize,
}

/// A provider on the map of a case: the one chosen for a need, or a feasible candidate of an
/// open need.
#[derive(Clone, Debug)]
pub struct MapProvider {
    pub case_id: i64,
    pub need_kind: String,
    pub provider: ProviderRow,
    pub selected: bool,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    /// A page of the visible cases, by id, and how many there are.
    pub cases: Page<CaseLine>,
    pub total_cases: i64,
    pub open_needs: Vec<NeedCount>,
    /// A page of the needs that need attention, by id, and how many there are.
    pub attention: Page<AttentionNeed>,
    pub total_attention: i64,
    /// Newest first, across the visible cases.
    pub recent_events: Vec<EventRow>,
    /// The titles of the needs the recent events name (need id → title).
    pub need_titles: std::collections::BTreeMap<i64, String>,
    /// The providers of the cases on the page.
    pub providers: Vec<MapProvider>,
}

impl App {
    /// What the dashboard shows `actor` at `now`, with the pages `pages` of its lists.
    pub async fn dashboard(&self, actor: &Actor, now: DateTime<Utc>, pages: DashboardPages) -> AppResult<Dashboard> {
        let visible = access::visible_cases(self.tree, actor);
        let windows = self.response_windows();
        let unclosed: Vec<&str> = NeedStatus::ALL.iter().filter(|s| !s.is_closed()).map(|s| s.as_str()).collect();
        let at = AttentionAt {
            now: to_millis(now),
            unclosed: unclosed.iter().map(|s| s.to_string()).collect(),
            windows: Tier::ALL.iter().map(|tier| (tier.as_str().to_string(), to_millis(now - windows.window(*tier)))).collect(),
        };

        let mut read = self.store.reading().await?;
        let total_cases = read.count_cases(&bangfu_store::lists::CaseQuery { visible: visible.clone(), ..Default::default() }).await?;
        let counts = read.need_counts(&visible, &unclosed).await?;
        let attention = read.attention_page(&visible, &at, pages.attention).await?;
        let total_attention = read.count_attention(&visible, &at).await?;
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

        let attention = attention.map(|row| {
            let need = row.need;
            let mut overdue = Vec::new();
            if let Some(deadline) = need.deadline.map(from_millis).filter(|d| *d < now) {
                overdue.push(Overdue::PastDeadline { deadline });
            }
            if need.status == NeedStatus::Open.as_str() {
                let tier = Tier::parse(&need.owner_tier).unwrap_or(Tier::County);
                let expired_at = from_millis(need.reached_owner_at) + windows.window(tier);
                if now > expired_at {
                    overdue.push(Overdue::PastResponseWindow { tier, expired_at });
                }
            }
            let supervised = need.supervised != 0;
            AttentionNeed { need, enterprise: row.enterprise, overdue, escalated: row.escalated, supervised }
        });
        let open_needs = counts.into_iter().map(|c| NeedCount { tier: c.tier, status: c.status, count: c.count as usize }).collect();
        Ok(Dashboard {
            cases: Page { items: lines, next: summaries.next },
            total_cases,
            open_needs,
            attention,
            total_attention,
            recent_events,
            need_titles,
            providers,
        })
    }
}
