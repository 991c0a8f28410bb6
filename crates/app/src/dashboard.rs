//! The dashboard of a department (or of any user): the cases it sees with their age and first
//! output, its open needs counted by owning tier and status, the needs that are overdue or
//! escalated, recent events, and where the providers of its cases lie. Everything is filtered by
//! [`crate::access`] through the same reads as the other views; `now` is a parameter.

use crate::views::CaseSummary;
use crate::{Actor, App, AppResult, from_millis};
use bangfu_core::model::{NeedStatus, Tier};
use bangfu_store::{EventRow, NeedRow, ProviderRow};
use chrono::{DateTime, Utc};

/// How many events the dashboard shows.
pub const RECENT_EVENTS: usize = 15;

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
    /// It moved up a tier at least once (an escalation event is in its case's log).
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
    pub cases: Vec<CaseLine>,
    pub open_needs: Vec<NeedCount>,
    pub attention: Vec<AttentionNeed>,
    /// Newest first, across the visible cases.
    pub recent_events: Vec<EventRow>,
    pub providers: Vec<MapProvider>,
}

fn is_escalation(action: &str) -> bool {
    action.starts_with("need.escalat") || action == "need.supervised"
}

impl App {
    /// What the dashboard shows `actor` at `now`.
    pub async fn dashboard(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<Dashboard> {
        let windows = self.response_windows();
        let mut cases = Vec::new();
        let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
        let mut attention = Vec::new();
        let mut events = Vec::new();
        let mut providers = Vec::new();
        for summary in self.list_cases(actor).await? {
            let case_id = summary.case.id;
            let returns = self.store.daily_returns_of_case(case_id).await?;
            let plan = self.case_plan(actor, case_id, now).await?;
            let first_output = if !plan.is_empty() {
                let finished = (0..plan.plan.milestones.len()).all(|i| plan.is_done(i));
                FirstOutput::Planned { at: plan.finish(), finished, delay_h: plan.delay_h() }
            } else {
                returns.iter().find(|r| r.output > 0.0).map_or(FirstOutput::Unknown, |r| FirstOutput::Reported { day: r.day.clone() })
            };
            let days_open = (now - from_millis(summary.case.opened_at)).num_days();
            let case_events = self.store.events_of_case(case_id).await?;
            for need in self.store.needs_of_case(case_id).await? {
                let status = NeedStatus::parse(&need.status).unwrap_or(NeedStatus::Open);
                let candidates = self.store.candidates_of_need(need.id).await?;
                for candidate in &candidates {
                    let selected = need.selected_candidate == Some(candidate.id);
                    let open_candidate = status == NeedStatus::Open && candidate.feasible != 0;
                    if (selected || open_candidate)
                        && let Some(provider) = self.store.provider(candidate.provider_id).await?
                    {
                        providers.push(MapProvider { case_id, need_kind: need.kind.clone(), provider, selected });
                    }
                }
                if status.is_closed() {
                    continue;
                }
                *counts.entry((need.owner_tier.clone(), need.status.clone())).or_default() += 1;
                let mut overdue = Vec::new();
                if let Some(deadline) = need.deadline.map(from_millis).filter(|d| *d < now) {
                    overdue.push(Overdue::PastDeadline { deadline });
                }
                if status == NeedStatus::Open {
                    let tier = Tier::parse(&need.owner_tier).unwrap_or(Tier::County);
                    let expired_at = from_millis(need.reached_owner_at) + windows.window(tier);
                    if now > expired_at {
                        overdue.push(Overdue::PastResponseWindow { tier, expired_at });
                    }
                }
                let entity = format!("need:{}", need.id);
                let escalated = case_events.iter().any(|e| e.entity == entity && is_escalation(&e.action));
                let supervised = need.supervised != 0;
                if !overdue.is_empty() || escalated || supervised {
                    attention.push(AttentionNeed { need, enterprise: summary.enterprise.name.clone(), overdue, escalated, supervised });
                }
            }
            events.extend(case_events);
            cases.push(CaseLine { summary, days_open, first_output });
        }
        events.sort_by_key(|e| std::cmp::Reverse((e.at, e.seq)));
        events.truncate(RECENT_EVENTS);
        let open_needs = counts.into_iter().map(|((tier, status), count)| NeedCount { tier, status, count }).collect();
        Ok(Dashboard { cases, open_needs, attention, recent_events: events, providers })
    }
}
