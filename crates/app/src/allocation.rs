//! Allocating a kind's scarce capacity across a department's open needs at once (issue 19):
//! the instance is built from the store and the registry, solved by `bangfu_core::allocate`,
//! compared with first come, first served, and explained need by need. Accepting a proposal is
//! the ordinary selection ([`App::select_candidate`], with its audit event); rejecting one
//! records why (`need.allocation_rejected`) and changes nothing else.
//!
//! The instance, in full:
//! - needs: the open needs of the kind, with no provider chosen yet, of the cases inside the
//!   department's jurisdiction that the actor may decide (owner inside its jurisdiction, as
//!   [`access::may_decide_need`]); a need's quantity in whole units (rounded up);
//! - providers: the registry's capabilities of the kind inside the jurisdiction; capacity in the
//!   horizon (`horizon_days`, 7 by default): sterilisation `capacity_per_day` × days, raw
//!   material and equipment `stock`, labour `headcount` (rounded down); slitting and testing
//!   have no capacity attribute and count as unlimited. Needs of the kind already selected or
//!   started at a provider (inside the jurisdiction) hold their quantity of its capacity;
//! - arcs: the candidates screening finds feasible (the need's kind, specification, stock or
//!   headcount, `max_distance_km`, `max_lead_time_h`), each with its lead time and road km;
//! - weights, from the plans: a need's weight is the hours by which its case's first output
//!   moves if the need waits 24 h longer than expected (the plan's what-if, 0–24 h), at least
//!   1 h; a need not attached to a milestone of its case's plan gets the stated default,
//!   [`DEFAULT_WEIGHT_H`] = 12 h (half of every hour of its wait);
//! - costs: serving a need from a provider costs its lead time × weight ÷ 24 — hours by which
//!   first output moves, counting a need's lead time at its weight's share — spread over its
//!   units; a need's unmet units cost as if it waited the horizon and then its slowest
//!   candidate's lead time, so that any candidate beats leaving it unmet. The solver works in
//!   millionths of an hour ([`MICRO_H`]), per unit.
//!
//! First come is [`bangfu_core::allocate::greedy`]: needs by id (reported first, served first),
//! each taking its fastest candidates while capacity lasts. The view shows both, and what the
//! optimum saves: hours of first output, kilometres, units left unmet.

use crate::error::bad;
use crate::registry::requirement_of;
use crate::{Actor, App, AppError, AppResult, Audit, access};
use bangfu_core::allocate::{self, Allocation, Arc, Instance, Need, Provider};
use bangfu_core::capability::{Capability, CapabilityAttrs};
use bangfu_core::ids::ProviderId;
use bangfu_core::model::{Bilingual, NeedKind, NeedStatus};
use bangfu_core::region::RegionCode;
use bangfu_core::screening::Screener;
use bangfu_core::travel::{GeodesicTravel, TravelSettings};
use bangfu_store::lists::{NeedQuery, PageRequest};
use bangfu_store::{EnterpriseRow, NeedRow};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// The planning horizon when none is given.
pub const DEFAULT_HORIZON_DAYS: u32 = 7;
/// The weight of a need its case's plan does not hold: first output moves 12 h per 24 h of wait.
pub const DEFAULT_WEIGHT_H: f64 = 12.0;
/// The wait the what-if asks about.
pub const WAIT_H: f64 = 24.0;
/// The solver's unit of cost: a millionth of an hour of first output.
pub const MICRO_H: f64 = 1_000_000.0;

/// Which allocation the proposals come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The least total cost.
    Optimum,
    /// First come, first served.
    Greedy,
}

/// What to allocate.
#[derive(Clone, Debug)]
pub struct AllocationRequest {
    pub kind: String,
    /// The department, as its region code or name.
    pub department: String,
    pub horizon_days: u32,
    pub method: Method,
}

/// Where a need's weight comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum WeightSource {
    /// The plan's what-if: first output moves `shift_h` if the need waits 24 h more.
    Plan { shift_h: f64, critical: bool },
    /// The need holds no milestone of a plan: [`DEFAULT_WEIGHT_H`].
    Default,
}

/// A feasible candidate of a need inside the jurisdiction.
#[derive(Clone, Debug)]
pub struct Choice {
    pub provider_id: i64,
    pub name: String,
    pub lead_time_h: f64,
    pub road_km: f64,
}

/// A need of the instance.
#[derive(Clone, Debug)]
pub struct AllocNeed {
    pub need: NeedRow,
    pub enterprise: EnterpriseRow,
    pub units: i64,
    /// Hours first output moves per 24 h of wait (≥ 1).
    pub weight_h: f64,
    pub weight_source: WeightSource,
    /// Feasible candidates inside the jurisdiction, fastest first.
    pub options: Vec<Choice>,
    /// The lead time an unmet unit counts: the horizon plus the slowest candidate's.
    pub unmet_h: f64,
}

impl AllocNeed {
    /// Hours of first output per hour of lead time.
    pub fn factor(&self) -> f64 {
        self.weight_h / WAIT_H
    }

    pub fn option(&self, provider_id: i64) -> Option<&Choice> {
        self.options.iter().find(|o| o.provider_id == provider_id)
    }
}

/// A provider of the instance and what the allocation does with it.
#[derive(Clone, Debug)]
pub struct AllocProvider {
    pub provider_id: i64,
    pub name: String,
    pub region: RegionCode,
    /// Units in the horizon; `None`: unlimited (slitting, testing).
    pub capacity: Option<i64>,
    /// Units held by needs already selected or started there.
    pub committed: i64,
    /// Units the allocation gives, and to which needs: (need id, units, regret_h) — regret is
    /// how many more hours of first output the need would cost at its next best candidate (or
    /// unmet), the reason it was served here before others. Ordered by regret, largest first.
    pub served: Vec<(i64, i64, f64)>,
    /// Needs that had it as their fastest candidate and were not served by it.
    pub turned_away: Vec<i64>,
}

impl AllocProvider {
    pub fn available(&self) -> Option<i64> {
        self.capacity.map(|c| (c - self.committed).max(0))
    }

    pub fn used(&self) -> i64 {
        self.served.iter().map(|s| s.1).sum()
    }

    pub fn full(&self) -> bool {
        self.available().is_some_and(|a| self.used() >= a)
    }
}

/// One proposed assignment of a need to a provider.
#[derive(Clone, Debug)]
pub struct Part {
    pub provider_id: i64,
    pub name: String,
    pub units: i64,
    pub lead_time_h: f64,
    pub road_km: f64,
}

/// What the allocation proposes for one need, and why.
#[derive(Clone, Debug)]
pub struct Proposal {
    pub need: AllocNeed,
    /// By units, largest first (ties by provider id); the first is the one accepting selects.
    pub parts: Vec<Part>,
    pub unmet_units: i64,
    /// Why this provider (or why none).
    pub reason: Bilingual,
    /// The best candidate other than the main one, and how many more hours of lead time it takes.
    pub next_best: Option<(Choice, f64)>,
}

impl Proposal {
    pub fn main(&self) -> Option<&Part> {
        self.parts.first()
    }
}

/// What an allocation costs, in the units people read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// The solver's objective, in millionths of an hour.
    pub cost: i64,
    /// Σ over needs of the share served × lead time × weight ÷ 24, unmet shares at their unmet hours.
    pub first_output_h: f64,
    /// Σ over needs of the share served × road km.
    pub km: f64,
    pub served_units: i64,
    pub unmet_units: i64,
}

/// An allocation of a kind over a department's open needs, explained.
#[derive(Clone, Debug)]
pub struct AllocationView {
    pub kind: NeedKind,
    pub department: RegionCode,
    pub department_name: String,
    pub horizon_days: u32,
    pub method: Method,
    pub now: DateTime<Utc>,
    pub providers: Vec<AllocProvider>,
    /// By need id.
    pub proposals: Vec<Proposal>,
    pub optimum: Totals,
    pub greedy: Totals,
    /// Open needs of the kind left out, with why (the registry cannot screen them).
    pub skipped: Vec<(i64, String)>,
}

impl AllocationView {
    /// What the optimum saves over first come (positive: the optimum is better).
    pub fn savings(&self) -> Totals {
        Totals {
            cost: self.greedy.cost - self.optimum.cost,
            first_output_h: self.greedy.first_output_h - self.optimum.first_output_h,
            km: self.greedy.km - self.optimum.km,
            served_units: self.optimum.served_units - self.greedy.served_units,
            unmet_units: self.greedy.unmet_units - self.optimum.unmet_units,
        }
    }
}

impl App {
    /// Allocates `request.kind` over the open needs of `request.department`'s jurisdiction at
    /// `now`: an admin, or an officer whose jurisdiction holds the department.
    pub async fn allocation(&self, actor: &Actor, now: DateTime<Utc>, request: &AllocationRequest) -> AppResult<AllocationView> {
        let kind = NeedKind::parse(request.kind.trim()).map_err(|e| bad(format!("kind: {e}")))?;
        if !kind.has_capabilities() {
            return Err(bad(format!("kind {kind} has no capabilities in the registry to allocate — choose sterilisation, slitting, testing, raw_material, equipment or labour")));
        }
        if request.horizon_days == 0 || request.horizon_days > 366 {
            return Err(bad(format!("horizon_days is {}: give a number of days from 1 to 366", request.horizon_days)));
        }
        let department = self.tree.department_region(self.region(&request.department, "department")?);
        if !access::may_allocate(self.tree, actor, department) {
            return Err(AppError::Forbidden(format!(
                "only officers of {} or a tier above it, or admins, allocate over its jurisdiction",
                bangfu_core::routing::department_name(self.tree, department)
            )));
        }
        let needs = self.needs_in(actor, department, kind).await?;
        let (to_allocate, committed_needs): (Vec<NeedRow>, Vec<NeedRow>) =
            needs.into_iter().partition(|n| n.status == NeedStatus::Open && n.selected_candidate.is_none());
        let to_allocate: Vec<NeedRow> = to_allocate.into_iter().filter(|n| access::may_decide_need(self.tree, actor, n)).collect();

        // Providers of the kind inside the jurisdiction, from this server's registry index.
        let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
        let screener = Screener::new(self.tree, &self.policy, &travel);
        // Copied out of the index, whose lock is not held across the reads below.
        let capabilities: Vec<Capability<ProviderId>> = {
            let registry = self.registry().await?;
            registry.index.of_kind(kind).filter(|c| self.tree.jurisdiction_contains(department, c.region)).cloned().collect()
        };

        let mut skipped = Vec::new();
        let mut alloc_needs = Vec::new();
        let mut plans = BTreeMap::new();
        for need in to_allocate {
            let Some((need, _, enterprise)) = self.store.need_with_case(need.id).await? else { continue };
            let spec = match requirement_of(&need).and_then(|r| r.map(|r| self.need_spec(&need, &enterprise, r)).transpose()) {
                Ok(Some(spec)) => spec,
                Ok(None) => continue,
                Err(e) => {
                    skipped.push((need.id, e.to_string()));
                    continue;
                }
            };
            // The feasible candidates only, ranked as screening ranks them, with their numbers:
            // the sentences of screening (a rejection for most of the registry, for every need)
            // would be written and thrown away.
            let options: Vec<Choice> = screener
                .feasible_ranked(&spec, capabilities.iter())
                .into_iter()
                .map(|(c, a)| Choice { provider_id: c.provider.0, name: c.name.clone(), lead_time_h: a.lead_time_h, road_km: a.road_km })
                .collect();
            let (weight_h, weight_source) = self.weight(actor, now, &need, &mut plans).await?;
            let slowest = options.iter().map(|o| o.lead_time_h).fold(0.0, f64::max);
            let units = (need.quantity.ceil() as i64).max(1);
            alloc_needs.push(AllocNeed {
                need,
                enterprise,
                units,
                weight_h,
                weight_source,
                options,
                unmet_h: f64::from(request.horizon_days) * 24.0 + slowest,
            });
        }

        let total_units: i64 = alloc_needs.iter().map(|n| n.units).sum();
        let mut providers: BTreeMap<i64, AllocProvider> = BTreeMap::new();
        for c in &capabilities {
            let capacity = capacity_units(&c.attrs, request.horizon_days).map(|c| c.max(0));
            providers.insert(
                c.provider.0,
                AllocProvider { provider_id: c.provider.0, name: c.name.clone(), region: c.region, capacity, committed: 0, served: Vec::new(), turned_away: Vec::new() },
            );
        }
        for need in &committed_needs {
            let Some(candidate_id) = need.selected_candidate else { continue };
            let Some(candidate) = self.store.candidate(candidate_id).await? else { continue };
            if let Some(p) = providers.get_mut(&candidate.provider_id) {
                p.committed += (need.quantity.ceil() as i64).max(0);
            }
        }

        let instance = Instance {
            providers: providers
                .values()
                .map(|p| Provider { id: p.provider_id, capacity: p.available().unwrap_or(total_units) })
                .collect(),
            needs: alloc_needs
                .iter()
                .map(|n| Need { id: n.need.id, quantity: n.units, unmet_cost: micro(n.factor() * n.unmet_h / n.units as f64) })
                .collect(),
            arcs: alloc_needs
                .iter()
                .flat_map(|n| {
                    n.options.iter().map(move |o| Arc { need: n.need.id, provider: o.provider_id, cost: micro(n.factor() * o.lead_time_h / n.units as f64) })
                })
                .collect(),
        };
        let solved = |a: Result<Allocation, allocate::AllocationError>| a.map_err(|e| AppError::Internal(format!("allocation: {e}")));
        let optimum = solved(allocate::solve(&instance))?;
        let greedy = solved(allocate::greedy(&instance))?;
        let by_id: HashMap<i64, &AllocNeed> = alloc_needs.iter().map(|n| (n.need.id, n)).collect();
        let optimum_totals = totals(&optimum, &by_id);
        let greedy_totals = totals(&greedy, &by_id);
        let chosen = match request.method {
            Method::Optimum => &optimum,
            Method::Greedy => &greedy,
        };
        let proposals = explain(chosen, &alloc_needs, &mut providers);
        Ok(AllocationView {
            kind,
            department,
            department_name: bangfu_core::routing::department_name(self.tree, department),
            horizon_days: request.horizon_days,
            method: request.method,
            now,
            providers: providers.into_values().collect(),
            proposals,
            optimum: optimum_totals,
            greedy: greedy_totals,
            skipped,
        })
    }

    /// The needs of `kind` of the cases inside `department`'s jurisdiction that `actor` sees,
    /// open, selected or started, by id.
    async fn needs_in(&self, actor: &Actor, department: RegionCode, kind: NeedKind) -> AppResult<Vec<NeedRow>> {
        let query = NeedQuery {
            visible: access::visible_needs(self.tree, actor),
            regions: Some(access::jurisdiction(self.tree, department)),
            kind: Some(kind.as_str().to_string()),
            statuses: vec![NeedStatus::Open.as_str().into(), NeedStatus::Selected.as_str().into(), NeedStatus::Started.as_str().into()],
            ..NeedQuery::default()
        };
        let mut needs = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.needs_page(&query, PageRequest { after, limit: 500 }).await?;
            needs.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(needs),
            }
        }
    }

    /// A need's weight: hours first output moves if it waits [`WAIT_H`] more (at least 1),
    /// from its case's plan; [`DEFAULT_WEIGHT_H`] when no plan holds it.
    async fn weight(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        need: &NeedRow,
        plans: &mut BTreeMap<i64, crate::plans::PlanView>,
    ) -> AppResult<(f64, WeightSource)> {
        if let std::collections::btree_map::Entry::Vacant(entry) = plans.entry(need.case_id) {
            entry.insert(self.case_plan(actor, need.case_id, now).await?);
        }
        let Some(view) = plans.get(&need.case_id) else { return Ok((DEFAULT_WEIGHT_H, WeightSource::Default)) };
        let Some(expected) = view.blockers.iter().filter(|b| b.need.id == need.id).filter_map(|b| b.resolves_at).max() else {
            return Ok((DEFAULT_WEIGHT_H, WeightSource::Default));
        };
        let later = expected.max(now) + TimeDelta::hours(WAIT_H as i64);
        let answer = crate::plans::what_if_in(view, need.id, later)?;
        let shift_h = answer.moved_h().max(0.0);
        let critical = view.schedule.critical_blockers().contains(&bangfu_core::ids::NeedId(need.id));
        Ok((shift_h.max(1.0), WeightSource::Plan { shift_h, critical }))
    }

    /// Accepts the proposal for a need: selects `provider_id` for it — the ordinary selection
    /// with its audit event, after putting the provider forward as a candidate if screening has
    /// not recorded it.
    pub async fn accept_allocation(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, provider_id: i64) -> AppResult<NeedRow> {
        let detail = self.need_detail(actor, need_id).await?;
        let recorded = detail.candidates.iter().find(|(c, _)| c.provider_id == provider_id && c.feasible).map(|(c, _)| c.id);
        let candidate_id = match recorded {
            Some(id) => id,
            None => {
                let candidate = self.propose_candidate(actor, now, need_id, provider_id).await?;
                if !candidate.feasible {
                    return Err(AppError::Conflict(format!("provider {provider_id} is no longer a feasible candidate of need {need_id}: {}", candidate.explanation_zh)));
                }
                candidate.id
            }
        };
        self.select_candidate(actor, now, need_id, candidate_id).await
    }

    /// Rejects the proposal for a need: records who and why (`need.allocation_rejected`); the
    /// need stays open as it was.
    pub async fn reject_allocation(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, provider_id: Option<i64>, reason: &str) -> AppResult<()> {
        let reason = crate::error::text("reason", reason, bangfu_core::text::LONG_CHARS)?;
        let reason = reason.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_decide(tx, actor, need_id)?;
            Audit {
                actor,
                now,
                action: "need.allocation_rejected",
                entity: format!("need:{}", need.id),
                case_id: Some(case.id),
                payload: json!({"provider_id": provider_id, "reason": reason}),
            }
            .append(tx)?;
            Ok(())
        })
        .await
    }
}

/// Cost in millionths of an hour, rounded; never negative.
fn micro(hours: f64) -> i64 {
    (hours * MICRO_H).round().max(0.0) as i64
}

/// Units a capability can give in the horizon; `None` for kinds without a capacity attribute.
pub fn capacity_units(attrs: &CapabilityAttrs, horizon_days: u32) -> Option<i64> {
    let units = match attrs {
        CapabilityAttrs::Sterilisation { capacity_per_day, .. } => capacity_per_day * f64::from(horizon_days),
        CapabilityAttrs::RawMaterial { stock, .. } | CapabilityAttrs::Equipment { stock, .. } => *stock,
        CapabilityAttrs::Labour { headcount, .. } => *headcount,
        CapabilityAttrs::Slitting { .. } | CapabilityAttrs::Testing { .. } => return None,
    };
    Some(units.floor() as i64)
}

fn totals(a: &Allocation, needs: &HashMap<i64, &AllocNeed>) -> Totals {
    let mut t = Totals { cost: a.cost, ..Totals::default() };
    for x in &a.assignments {
        if let Some(n) = needs.get(&x.need) {
            let share = x.quantity as f64 / n.units as f64;
            if let Some(o) = n.option(x.provider) {
                t.first_output_h += share * n.factor() * o.lead_time_h;
                t.km += share * o.road_km;
            }
            t.served_units += x.quantity;
        }
    }
    for u in &a.unmet {
        if let Some(n) = needs.get(&u.need) {
            t.first_output_h += u.quantity as f64 / n.units as f64 * n.factor() * n.unmet_h;
            t.unmet_units += u.quantity;
        }
    }
    t
}

/// The proposals of an allocation with their reasons, and what each provider serves.
fn explain(a: &Allocation, needs: &[AllocNeed], providers: &mut BTreeMap<i64, AllocProvider>) -> Vec<Proposal> {
    let mut parts_of: BTreeMap<i64, Vec<Part>> = BTreeMap::new();
    let mut unmet_of: BTreeMap<i64, i64> = a.unmet.iter().map(|u| (u.need, u.quantity)).collect();
    let by_id: HashMap<i64, &AllocNeed> = needs.iter().map(|n| (n.need.id, n)).collect();
    for x in &a.assignments {
        let Some(n) = by_id.get(&x.need) else { continue };
        let Some(o) = n.option(x.provider) else { continue };
        parts_of.entry(x.need).or_default().push(Part { provider_id: x.provider, name: o.name.clone(), units: x.quantity, lead_time_h: o.lead_time_h, road_km: o.road_km });
    }
    // Regret: what a need would lose at its next best (another provider, or unmet).
    for n in needs {
        let parts = parts_of.entry(n.need.id).or_default();
        parts.sort_by(|x, y| y.units.cmp(&x.units).then(x.provider_id.cmp(&y.provider_id)));
        for part in parts.iter() {
            let alternative = n.options.iter().find(|o| o.provider_id != part.provider_id).map_or(n.unmet_h, |o| o.lead_time_h);
            let regret = n.factor() * (alternative - part.lead_time_h);
            if let Some(p) = providers.get_mut(&part.provider_id) {
                p.served.push((n.need.id, part.units, regret));
            }
        }
        if let Some(fastest) = n.options.first()
            && !parts.iter().any(|p| p.provider_id == fastest.provider_id)
            && let Some(p) = providers.get_mut(&fastest.provider_id)
        {
            p.turned_away.push(n.need.id);
        }
    }
    for p in providers.values_mut() {
        p.served.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
    }
    needs
        .iter()
        .map(|n| {
            let parts = parts_of.remove(&n.need.id).unwrap_or_default();
            let unmet_units = unmet_of.remove(&n.need.id).unwrap_or(0);
            let reason = reason(n, &parts, unmet_units, providers, &by_id);
            let next_best = parts.first().and_then(|main| {
                n.options.iter().find(|o| o.provider_id != main.provider_id).map(|o| (o.clone(), o.lead_time_h - main.lead_time_h))
            });
            Proposal { need: n.clone(), parts, unmet_units, reason, next_best }
        })
        .collect()
}

fn hours(h: f64) -> String {
    format!("{h:.1}")
}

/// Why a need got what it got, in words.
fn reason(n: &AllocNeed, parts: &[Part], unmet: i64, providers: &BTreeMap<i64, AllocProvider>, needs: &HashMap<i64, &AllocNeed>) -> Bilingual {
    let Some(fastest) = n.options.first() else {
        return Bilingual::new("辖区内没有符合要求的提供方，暂无法分配", "no provider inside the jurisdiction meets this need: nothing to allocate");
    };
    let full_because = |provider_id: i64| -> (String, String) {
        let Some(p) = providers.get(&provider_id) else { return (String::new(), String::new()) };
        let others: Vec<(i64, String)> =
            p.served.iter().filter(|s| s.0 != n.need.id).take(3).map(|s| (s.0, needs.get(&s.0).map_or(String::new(), |o| hours(o.weight_h)))).collect();
        let list_zh = others.iter().map(|(id, h)| format!("#{id}（{h} 小时）")).collect::<Vec<_>>().join("、");
        let list_en = others.iter().map(|(id, h)| format!("#{id} ({h} h)")).collect::<Vec<_>>().join(", ");
        (
            format!("{}的能力已优先分给{list_zh}：它们改用次优时首批产出推迟更多（括号内为权重，即每等24小时首批产出推迟的小时数）", p.name),
            format!("{}'s capacity went first to {list_en}: they would put first output back more elsewhere (weights in brackets: hours first output moves per 24 h of wait)", p.name),
        )
    };
    let mut zh = String::new();
    let mut en = String::new();
    match parts.first() {
        Some(main) if main.provider_id == fastest.provider_id => {
            zh.push_str(&format!("{}是最快的可行候选，总用时约 {} 小时", main.name, hours(main.lead_time_h)));
            en.push_str(&format!("{} is the fastest feasible candidate, lead time about {} h", main.name, hours(main.lead_time_h)));
        }
        Some(main) => {
            let (z, e) = full_because(fastest.provider_id);
            zh.push_str(&format!("最快的候选{}（约 {} 小时）已满；{z}。改由{}（约 {} 小时）", fastest.name, hours(fastest.lead_time_h), main.name, hours(main.lead_time_h)));
            en.push_str(&format!(
                "the fastest candidate, {} (about {} h), is full; {e}. Served by {} instead (about {} h)",
                fastest.name,
                hours(fastest.lead_time_h),
                main.name,
                hours(main.lead_time_h)
            ));
        }
        None => {
            let (z, e) = full_because(fastest.provider_id);
            zh.push_str(&format!("所有候选的能力均已用完；{z}"));
            en.push_str(&format!("every candidate's capacity is used up; {e}"));
        }
    }
    if unmet > 0 && !parts.is_empty() {
        zh.push_str(&format!("；另有 {unmet} 单位无处可分，暂未满足"));
        en.push_str(&format!("; {unmet} units have nowhere to go and stay unmet"));
    }
    let weight_zh = match &n.weight_source {
        WeightSource::Plan { shift_h, critical: true } => format!("（权重：在关键路径上，多等24小时首批产出推迟 {} 小时）", hours(*shift_h)),
        WeightSource::Plan { shift_h, critical: false } => format!("（权重：多等24小时首批产出推迟 {} 小时）", hours(*shift_h)),
        WeightSource::Default => format!("（权重：未列入生产计划，按默认 {} 小时）", hours(DEFAULT_WEIGHT_H)),
    };
    let weight_en = match &n.weight_source {
        WeightSource::Plan { shift_h, critical: true } => format!(" (weight: on the critical path, 24 h more wait moves first output {} h)", hours(*shift_h)),
        WeightSource::Plan { shift_h, critical: false } => format!(" (weight: 24 h more wait moves first output {} h)", hours(*shift_h)),
        WeightSource::Default => format!(" (weight: in no plan, the default {} h)", hours(DEFAULT_WEIGHT_H)),
    };
    Bilingual::new(format!("{zh}{weight_zh}。"), format!("{en}{weight_en}."))
}
