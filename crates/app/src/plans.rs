//! The case's plan to production (issue 7): milestones (节点) stored per case, the needs attached
//! to them as blockers, and the critical path computed by [`bangfu_core::plan`] at `now`.
//!
//! - [`App::set_plan`] replaces a case's plan (milestones with their blockers) after
//!   [`bangfu_core::plan::schedule`] has accepted it: a cycle, an unknown dependency or a
//!   duplicate key is bad input whose message names the milestones. Actuals must not lie after
//!   `now`. [`App::attach_blocker`], [`App::detach_blocker`] and [`App::set_milestone_actual`]
//!   change one thing at a time. Every change is one transaction with its audit event
//!   (`plan.set`, `plan.blocker_attached`, `plan.blocker_detached`, `plan.actual_recorded`).
//!   [`App::add_milestone`] and [`App::remove_milestone`] add one step or take one out
//!   (`plan.milestone_added`, `plan.milestone_removed`): only the officers whose jurisdiction
//!   holds the case ([`access::may_shape_plan`]); a step taken out hands what it waited for to
//!   the steps that waited for it, so the order of the rest holds.
//! - [`App::case_plan`] projects the plan from `now`: unstarted work starts no earlier than
//!   `now`, actuals keep the past, and every open need attached to a milestone holds it until the
//!   need's expected resolution ([`Expected`]):
//!   1. `now` + the lead time of its best feasible candidate (lowest `lead_time_h`), else
//!   2. its deadline (never before `now`: an open need is not resolved in the past), else
//!   3. `now` + the response window of its owner's tier — an unsourced need without a deadline
//!      is assumed to take at least the time its owner has to act on it. (Treating it as never
//!      resolving would push first output to infinity and hide every other blocker; the view
//!      says which assumption was made, so a page can mark it.)
//!
//!   Resolved and cancelled needs hold nothing. A plan whose every milestone has finished is
//!   not projected: its first output is its last actual finish. The view also gives first output with no open
//!   need holding anything, so the delay the open needs cause is `finish − that`.
//! - The **driving path** of the view is the critical path extended back through work already
//!   started or finished: the engine, like scheduling practice, does not count finished work as
//!   critical (it can no longer move the finish), so a finished plan's critical path is its last
//!   step alone. From each started or finished milestone on the path, the predecessor that
//!   finished last (ties to the smaller key) joins it, if it finished by the time the milestone
//!   started — the chain of steps that decided first output, as it happened.
//! - **Days from plan to production**: from when the plan was first set (the case's first
//!   `plan.set` event, or its first `plan.milestone_added` if earlier) to the projected first output.
//! - [`App::what_if`]: "if this need resolves at T, first output moves from D₀ to D".
//!
//! Whoever can see the case can read its plan; officers and admins change it.

use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, Audit, access, from_millis, to_millis};
use bangfu_core::ids::NeedId;
use bangfu_core::model::{CandidateStatus, Tier};
use bangfu_core::plan::{self, Blocker, Milestone, Plan, PlanError, Schedule, WhatIf};
use bangfu_store::{MilestoneBlockerRow, MilestoneRow, NeedRow, WriteTx};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The longest milestone key accepted.
const MAX_KEY_CHARS: usize = 100;

/// One milestone of a plan to set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewMilestone {
    /// Unique within the plan, e.g. `lines_arrive`; other milestones name it in `after`.
    pub key: String,
    /// For people; the key when empty.
    pub name: String,
    /// Hours the step takes once started; finite, ≥ 0.
    pub duration_h: f64,
    /// Keys of the milestones that must finish first.
    pub after: Vec<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub actual_start: Option<DateTime<Utc>>,
    pub actual_finish: Option<DateTime<Utc>>,
    /// Ids of the case's needs that block this milestone.
    pub blockers: Vec<i64>,
}

/// One step added to a case's plan (issue 16): its name in Chinese and, if given, English
/// (kept as `中文 / English`), how long it takes and the steps it waits for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewPlanStep {
    /// Unique within the plan; made up (`m1`, `m2`, …) when empty.
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    /// Hours; finite, ≥ 0.
    pub duration_h: f64,
    /// Keys of the milestones that must finish first.
    pub after: Vec<String>,
}

/// Why a blocking need is expected to resolve when it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expected {
    /// Resolved or cancelled: it holds nothing.
    Closed,
    /// `now` + the lead time of its best feasible candidate.
    Candidate { candidate_id: i64, provider_id: i64, lead_time_h: f64 },
    /// Its deadline (or `now`, when the deadline has passed), for want of a feasible candidate.
    Deadline,
    /// `now` + its owner's response window, for want of a candidate and a deadline (assumed).
    ResponseWindow { tier: Tier, hours: f64 },
}

impl Expected {
    /// The wire name: closed, candidate, deadline, response_window.
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Closed => "closed",
            Expected::Candidate { .. } => "candidate",
            Expected::Deadline => "deadline",
            Expected::ResponseWindow { .. } => "response_window",
        }
    }
}

/// A need attached to a milestone, with when it is expected to stop holding it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanBlocker {
    pub need: NeedRow,
    /// The key of the blocked milestone.
    pub milestone: String,
    /// For an open need, its expected resolution; `None` for a closed one.
    pub resolves_at: Option<DateTime<Utc>>,
    pub expected: Expected,
}

impl PlanBlocker {
    pub fn is_open(&self) -> bool {
        self.resolves_at.is_some()
    }
}

/// A case's plan projected at `now`: what the case page, `GET …/plan` and `bangfu plan --case` show.
#[derive(Clone, Debug)]
pub struct PlanView {
    pub case_id: i64,
    pub now: DateTime<Utc>,
    /// When the plan was first set (its first `plan.set` event), if it ever was.
    pub planned_at: Option<DateTime<Utc>>,
    /// The stored milestones, in the plan's order.
    pub rows: Vec<MilestoneRow>,
    /// The plan as the engine sees it (`start` = `now`, or its first actual once every step
    /// has finished), in the same order.
    pub plan: Plan,
    /// The engine's schedule, open needs holding their milestones.
    pub schedule: Schedule,
    /// Every need attached to a milestone, open or not, by milestone position then need id.
    pub blockers: Vec<PlanBlocker>,
    /// First output if no open need held anything.
    pub finish_without_open_needs: DateTime<Utc>,
    /// Per milestone (plan order): on the driving path (see the module documentation).
    pub driving: Vec<bool>,
}

impl PlanView {
    pub fn is_empty(&self) -> bool {
        self.plan.milestones.is_empty()
    }

    /// The projected first output: the plan's finish.
    pub fn finish(&self) -> DateTime<Utc> {
        self.schedule.finish()
    }

    /// The earliest start of any milestone (`now` for an empty plan).
    pub fn start(&self) -> DateTime<Utc> {
        (0..self.schedule.len()).map(|i| self.schedule.times(i).es).min().unwrap_or(self.now)
    }

    /// Hours by which open needs put first output back.
    pub fn delay_h(&self) -> f64 {
        hours_between(self.finish_without_open_needs, self.finish())
    }

    /// Days from when the plan was first set to first output.
    pub fn days_from_plan_to_production(&self) -> Option<f64> {
        let planned_at = self.planned_at.filter(|_| !self.is_empty())?;
        Some(hours_between(planned_at, self.finish()) / 24.0)
    }

    /// Indices of the milestones on the driving path, in topological order.
    pub fn driving_path(&self) -> Vec<usize> {
        self.schedule.topological_order().iter().copied().filter(|&i| self.driving[i]).collect()
    }

    /// The needs attached to the milestone at `index`.
    pub fn blockers_of(&self, index: usize) -> impl Iterator<Item = &PlanBlocker> {
        let key = self.plan.milestones.get(index).map(|m| m.key.as_str());
        self.blockers.iter().filter(move |b| Some(b.milestone.as_str()) == key)
    }

    /// Whether the milestone at `index` is finished (it has an actual finish).
    pub fn is_done(&self, index: usize) -> bool {
        self.plan.milestones.get(index).is_some_and(|m| m.actual_finish.is_some())
    }
}

/// Where an open need attached to a plan stands: what it blocks, when it is expected to
/// resolve, and what first output would be if it resolved at another time.
#[derive(Clone, Debug)]
pub struct NeedInPlan {
    pub case_id: i64,
    /// Keys and names of the milestones it blocks, in plan order.
    pub milestones: Vec<(String, String)>,
    pub blocker: PlanBlocker,
    /// Whether it now decides first output (it holds a milestone on the critical path).
    pub critical: bool,
    /// First output now, and if the need resolved at `what_if.resolves_at`.
    pub what_if: WhatIfAnswer,
}

/// "If this need resolves at T, first output moves from `before` to `after`."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhatIfAnswer {
    pub resolves_at: DateTime<Utc>,
    pub before: DateTime<Utc>,
    pub after: DateTime<Utc>,
}

impl WhatIfAnswer {
    /// after − before, in hours: negative when first output comes earlier.
    pub fn moved_h(&self) -> f64 {
        hours_between(self.before, self.after)
    }
}

impl From<(DateTime<Utc>, WhatIf)> for WhatIfAnswer {
    fn from((resolves_at, w): (DateTime<Utc>, WhatIf)) -> Self {
        WhatIfAnswer { resolves_at, before: w.old_finish, after: w.new_finish }
    }
}

impl App {
    /// Replaces the case's plan with `milestones` (an empty list clears it). Refused as bad
    /// input, naming the milestones, when the engine cannot schedule it; a blocker must be a need
    /// of the case; actuals must not lie after `now`.
    pub async fn set_plan(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, milestones: Vec<NewMilestone>) -> AppResult<Vec<MilestoneRow>> {
        let milestones = milestones.into_iter().map(|m| clean(m, now)).collect::<AppResult<Vec<_>>>()?;
        let plan = Plan { start: now, milestones: milestones.iter().map(|(m, _)| m.clone()).collect() };
        plan::schedule(&plan, &[]).map_err(plan_error)?;

        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            let needs: BTreeSet<i64> = tx.needs_of_case(case.id)?.iter().map(|n| n.id).collect();
            for (m, blockers) in &milestones {
                if let Some(need) = blockers.iter().find(|n| !needs.contains(n)) {
                    return Err(bad(format!("milestone {:?}: need {need} is not a need of case {case_id} — attach the case's own needs", m.key)));
                }
            }
            let replaced = tx.delete_plan(case.id)?;
            let mut rows = Vec::with_capacity(milestones.len());
            let mut attached = 0;
            for (position, (m, blockers)) in milestones.iter().enumerate() {
                let mut row = MilestoneRow {
                    id: 0,
                    case_id: case.id,
                    key: m.key.clone(),
                    name: m.name.clone(),
                    duration_h: m.duration_h,
                    after: m.after.clone(),
                    not_before: m.not_before.map(to_millis),
                    actual_start: m.actual_start.map(to_millis),
                    actual_finish: m.actual_finish.map(to_millis),
                    position: position as i64,
                };
                row.id = tx.insert_milestone(&row)?;
                for &need_id in blockers {
                    tx.insert_milestone_blocker(&MilestoneBlockerRow { milestone_id: row.id, need_id })?;
                    attached += 1;
                }
                rows.push(row);
            }
            let n = rows.len();
            Audit {
                actor,
                now,
                action: "plan.set",
                entity: format!("plan:{}", case.id),
                case_id: Some(case.id),
                payload: json!({
                    "milestones": n,
                    "keys": rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
                    "blockers": attached,
                    "replaced": replaced,
                    "zh": format!("制定生产计划：{n} 个节点，{attached} 项诉求挂为阻塞"),
                    "en": format!("Plan to production set: {n} milestones, {attached} needs attached as blockers"),
                }),
            }
            .append(tx)?;
            Ok(rows)
        })
        .await
    }

    /// Adds a step to the end of the case's plan (the first step of a case without one). Bad
    /// input when its name is missing, its duration is not a number of hours ≥ 0, its key is
    /// taken or it waits for a step the plan lacks; forbidden to all but the officers whose
    /// jurisdiction holds the case ([`access::may_shape_plan`]).
    pub async fn add_milestone(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, step: NewPlanStep) -> AppResult<MilestoneRow> {
        let name_zh = crate::error::text("name_zh", &step.name_zh, bangfu_core::text::NAME_CHARS)?;
        let name_en = crate::error::text("name_en", &step.name_en, bangfu_core::text::NAME_CHARS)?;
        if name_zh.is_empty() {
            return Err(bad("name_zh: 请填写节点名称 — give the milestone's name in Chinese, such as 设备安装调试"));
        }
        if name_zh.contains(" / ") || name_en.contains(" / ") {
            return Err(bad("name_zh, name_en: 名称中不能含“ / ” — write each language in its own field, without \" / \""));
        }
        if !step.duration_h.is_finite() || step.duration_h < 0.0 {
            return Err(bad(format!("duration_h: {} — 工期须为不小于 0 的小时数 — give the hours the step takes, 0 or more", step.duration_h)));
        }
        let name = if name_en.is_empty() { name_zh.clone() } else { format!("{name_zh} / {name_en}") };
        let mut after: Vec<String> = step.after.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
        after.dedup();

        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_to_shape_plan(tx, actor, case_id)?;
            let rows = tx.milestones_of_case(case.id)?;
            let key = match step.key.trim() {
                "" => (rows.len() + 1..).map(|n| format!("m{n}")).find(|k| rows.iter().all(|r| &r.key != k)).unwrap_or_default(),
                given => given.to_string(),
            };
            let (milestone, _) = clean(NewMilestone { key, name, duration_h: step.duration_h, after, ..NewMilestone::default() }, now)?;
            if rows.iter().any(|r| r.key == milestone.key) {
                return Err(bad(format!("key: case {case_id}'s plan has a milestone {:?} already — give another key, or none", milestone.key)));
            }
            if let Some(unknown) = milestone.after.iter().find(|a| rows.iter().all(|r| &r.key != *a)) {
                let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
                return Err(bad(format!(
                    "after: case {case_id}'s plan has no milestone {unknown:?} — {}",
                    if keys.is_empty() { "it has no milestones yet, so the first waits for none".to_string() } else { format!("its milestones are {}", keys.join(", ")) }
                )));
            }
            let mut milestones = rows.iter().map(milestone_of).collect::<AppResult<Vec<_>>>()?;
            milestones.push(milestone.clone());
            plan::schedule(&Plan { start: now, milestones }, &[]).map_err(plan_error)?;
            let mut row = MilestoneRow {
                id: 0,
                case_id: case.id,
                key: milestone.key.clone(),
                name: milestone.name.clone(),
                duration_h: milestone.duration_h,
                after: milestone.after.clone(),
                not_before: None,
                actual_start: None,
                actual_finish: None,
                position: rows.iter().map(|r| r.position + 1).max().unwrap_or(0),
            };
            row.id = tx.insert_milestone(&row)?;
            let name_en = if name_en.is_empty() { name_zh.clone() } else { name_en };
            Audit {
                actor,
                now,
                action: "plan.milestone_added",
                entity: format!("plan:{}", case.id),
                case_id: Some(case.id),
                payload: json!({
                    "milestone": row.key, "name": row.name, "duration_h": row.duration_h, "after": milestone.after,
                    "zh": format!("计划新增节点「{name_zh}」（工期 {} 小时）", trim_hours(row.duration_h)),
                    "en": format!("Milestone “{name_en}” added to the plan ({} h)", trim_hours(row.duration_h)),
                }),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// Takes a step out of the case's plan, with the needs attached to it: the steps that
    /// waited for it wait for what it waited for instead. The event names both.
    pub async fn remove_milestone(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, milestone_key: &str) -> AppResult<MilestoneRow> {
        let milestone_key = milestone_key.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_to_shape_plan(tx, actor, case_id)?;
            let removed = milestone_for_write(tx, case.id, &milestone_key)?;
            let removed_after = milestone_of(&removed)?.after;
            let detached: Vec<i64> = tx.milestone_blockers_of_case(case.id)?.into_iter().filter(|b| b.milestone_id == removed.id).map(|b| b.need_id).collect();
            let mut relinked = Vec::new();
            for row in tx.milestones_of_case(case.id)? {
                let after = milestone_of(&row)?.after;
                if !after.contains(&removed.key) {
                    continue;
                }
                let mut now_after: Vec<String> = after.into_iter().filter(|a| a != &removed.key).collect();
                for a in &removed_after {
                    if !now_after.contains(a) {
                        now_after.push(a.clone());
                    }
                }
                tx.update_milestone_after(row.id, &serde_json::to_string(&now_after).map_err(|e| AppError::Internal(e.to_string()))?)?;
                relinked.push(row.key);
            }
            tx.delete_milestone(removed.id)?;
            let name_zh = removed.name.split_once(" / ").map_or(removed.name.as_str(), |(zh, _)| zh.trim());
            let name_en = removed.name.split_once(" / ").map_or(removed.name.as_str(), |(_, en)| en.trim());
            Audit {
                actor,
                now,
                action: "plan.milestone_removed",
                entity: format!("plan:{}", case.id),
                case_id: Some(case.id),
                payload: json!({
                    "milestone": removed.key, "name": removed.name, "after": removed_after, "relinked": relinked, "detached": detached,
                    "zh": format!("计划删除节点「{name_zh}」{}", if detached.is_empty() { String::new() } else { format!("（取下 {} 项卡点诉求）", detached.len()) }),
                    "en": format!("Milestone “{name_en}” removed from the plan{}", if detached.is_empty() { String::new() } else { format!(" ({} blocking needs detached)", detached.len()) }),
                }),
            }
            .append(tx)?;
            Ok(removed)
        })
        .await
    }

    /// The case, for adding or removing milestones: not found when `actor` may not see it,
    /// forbidden unless its jurisdiction holds it ([`access::may_shape_plan`]).
    fn case_to_shape_plan(&self, tx: &mut WriteTx, actor: &Actor, case_id: i64) -> AppResult<bangfu_store::CaseRow> {
        let case = self.case_for_write(tx, actor, case_id)?;
        if !access::may_shape_plan(self.tree, actor, &case) {
            return Err(AppError::Forbidden(format!(
                "{} may not add or remove milestones of case {case_id}: the officers whose jurisdiction holds the case keep its plan",
                actor.name
            )));
        }
        Ok(case)
    }

    /// Attaches a need of the case to one of its milestones: the milestone cannot finish before
    /// the need is resolved. `false` (and nothing recorded) when it was attached already.
    pub async fn attach_blocker(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, milestone_key: &str, need_id: i64) -> AppResult<bool> {
        let milestone_key = milestone_key.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            let milestone = milestone_for_write(tx, case.id, &milestone_key)?;
            let need = tx.need(need_id)?.filter(|n| n.case_id == case.id).ok_or_else(|| bad(format!("need {need_id} is not a need of case {case_id}")))?;
            if !tx.insert_milestone_blocker(&MilestoneBlockerRow { milestone_id: milestone.id, need_id: need.id })? {
                return Ok(false);
            }
            Audit {
                actor,
                now,
                action: "plan.blocker_attached",
                entity: format!("need:{}", need.id),
                case_id: Some(case.id),
                payload: json!({
                    "milestone": milestone.key, "need_id": need.id,
                    "zh": format!("挂为计划节点「{}」的阻塞", milestone.name),
                    "en": format!("Attached to the milestone “{}” as a blocker", milestone.name),
                }),
            }
            .append(tx)?;
            Ok(true)
        })
        .await
    }

    /// Detaches a need from a milestone. `false` (and nothing recorded) when it was not attached.
    pub async fn detach_blocker(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, milestone_key: &str, need_id: i64) -> AppResult<bool> {
        let milestone_key = milestone_key.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            let milestone = milestone_for_write(tx, case.id, &milestone_key)?;
            if !tx.delete_milestone_blocker(milestone.id, need_id)? {
                return Ok(false);
            }
            Audit {
                actor,
                now,
                action: "plan.blocker_detached",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({
                    "milestone": milestone.key, "need_id": need_id,
                    "zh": format!("不再阻塞计划节点「{}」", milestone.name),
                    "en": format!("No longer blocks the milestone “{}”", milestone.name),
                }),
            }
            .append(tx)?;
            Ok(true)
        })
        .await
    }

    /// Records when a milestone actually started and finished (`None` clears either). Actuals
    /// must not lie after `now`, and a finish not before the start.
    pub async fn set_milestone_actual(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        case_id: i64,
        milestone_key: &str,
        actual_start: Option<DateTime<Utc>>,
        actual_finish: Option<DateTime<Utc>>,
    ) -> AppResult<MilestoneRow> {
        not_after_now(milestone_key, "actual_start", actual_start, now)?;
        not_after_now(milestone_key, "actual_finish", actual_finish, now)?;
        if let (Some(start), Some(finish)) = (actual_start, actual_finish)
            && finish < start
        {
            return Err(plan_error(PlanError::FinishBeforeStart { milestone: milestone_key.to_string() }));
        }
        let milestone_key = milestone_key.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            let mut row = milestone_for_write(tx, case.id, &milestone_key)?;
            row.actual_start = actual_start.map(to_millis);
            row.actual_finish = actual_finish.map(to_millis);
            tx.update_milestone_actuals(row.id, row.actual_start, row.actual_finish)?;
            let when = |t: Option<DateTime<Utc>>, zh: bool| t.map_or_else(|| if zh { "未记录".to_string() } else { "not recorded".to_string() }, china_time);
            Audit {
                actor,
                now,
                action: "plan.actual_recorded",
                entity: format!("plan:{}", case.id),
                case_id: Some(case.id),
                payload: json!({
                    "milestone": row.key,
                    "actual_start": actual_start.map(|t| t.to_rfc3339()),
                    "actual_finish": actual_finish.map(|t| t.to_rfc3339()),
                    "zh": format!("计划节点「{}」：实际开始 {}，实际完成 {}", row.name, when(actual_start, true), when(actual_finish, true)),
                    "en": format!("Milestone “{}”: actual start {}, actual finish {}", row.name, when(actual_start, false), when(actual_finish, false)),
                }),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// The case's plan projected at `now`, open needs holding their milestones. An empty view
    /// when the case has no plan; not found when `actor` may not see the case.
    pub async fn case_plan(&self, actor: &Actor, case_id: i64, now: DateTime<Utc>) -> AppResult<PlanView> {
        let case = self.visible_case(actor, case_id).await?;
        self.plan_of(case.id, now).await
    }

    /// "If this need resolves at `resolves_at`, first output moves from D₀ to D" for an open need
    /// of the case attached to its plan. A closed or unattached need is a conflict; a time
    /// before `now` is bad input.
    pub async fn what_if(&self, actor: &Actor, case_id: i64, need_id: i64, resolves_at: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<WhatIfAnswer> {
        let view = self.case_plan(actor, case_id, now).await?;
        what_if_in(&view, need_id, resolves_at)
    }

    /// [`App::what_if`] for a need, in whichever case it belongs to.
    pub async fn need_what_if(&self, actor: &Actor, need_id: i64, resolves_at: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<WhatIfAnswer> {
        let need = self.store.need(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        self.what_if(actor, need.case_id, need_id, resolves_at, now).await.map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound(format!("need {need_id}")),
            other => other,
        })
    }

    /// Where an open need stands in its case's plan, with the what-if at `resolves_at` (`now`
    /// when not given). `None` when the need is closed or blocks no milestone.
    pub async fn need_in_plan(&self, actor: &Actor, need_id: i64, resolves_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AppResult<Option<NeedInPlan>> {
        let need = self.store.need(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let view = self.case_plan(actor, need.case_id, now).await?;
        let Some(blocker) = view.blockers.iter().find(|b| b.need.id == need_id && b.is_open()).cloned() else {
            return Ok(None);
        };
        let milestones = view
            .plan
            .milestones
            .iter()
            .filter(|m| view.blockers.iter().any(|b| b.need.id == need_id && b.milestone == m.key))
            .map(|m| (m.key.clone(), m.name.clone()))
            .collect();
        let critical = view.schedule.critical_blockers().contains(&NeedId(need_id));
        let what_if = what_if_in(&view, need_id, resolves_at.unwrap_or(now).max(now))?;
        Ok(Some(NeedInPlan { case_id: view.case_id, milestones, blocker, critical, what_if }))
    }

    pub(crate) async fn plan_of(&self, case_id: i64, now: DateTime<Utc>) -> AppResult<PlanView> {
        let rows = self.store.milestones_of_case(case_id).await?;
        // Planned when first set whole, or when its first step was added, whichever came first.
        let mut planned_at: Option<DateTime<Utc>> = None;
        for action in ["plan.set", "plan.milestone_added"] {
            let at = self.store.first_event_of_case(case_id, action).await?.map(|e| from_millis(e.at));
            planned_at = match (planned_at, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let milestones = rows.iter().map(milestone_of).collect::<AppResult<Vec<_>>>()?;
        // A plan whose every step has finished is history, not a projection: it starts at its
        // first actual, so that its finish is its last actual finish rather than `now`.
        let history = milestones.iter().map(|m| m.actual_finish.map(|finish| m.actual_start.unwrap_or(finish))).collect::<Option<Vec<_>>>();
        let start = history.and_then(|starts| starts.into_iter().min()).map_or(now, |first| first.min(now));
        let plan = Plan { start, milestones };

        let needs: BTreeMap<i64, NeedRow> = self.store.needs_of_case(case_id).await?.into_iter().map(|n| (n.id, n)).collect();
        let key_of: HashMap<i64, &str> = rows.iter().map(|r| (r.id, r.key.as_str())).collect();
        let position: HashMap<i64, i64> = rows.iter().map(|r| (r.id, r.position)).collect();
        let mut attached = self.store.milestone_blockers_of_case(case_id).await?;
        attached.sort_by_key(|b| (position.get(&b.milestone_id).copied().unwrap_or(i64::MAX), b.need_id));
        let mut expected_of: BTreeMap<i64, (Option<DateTime<Utc>>, Expected)> = BTreeMap::new();
        let mut blockers = Vec::with_capacity(attached.len());
        for b in attached {
            let (Some(need), Some(key)) = (needs.get(&b.need_id), key_of.get(&b.milestone_id)) else {
                return Err(AppError::Internal(format!("blocker of milestone {} refers to need {} of another case", b.milestone_id, b.need_id)));
            };
            let (resolves_at, expected) = match expected_of.get(&need.id) {
                Some(known) => *known,
                None => {
                    let found = self.expected_resolution(need, now).await?;
                    expected_of.insert(need.id, found);
                    found
                }
            };
            blockers.push(PlanBlocker { need: need.clone(), milestone: key.to_string(), resolves_at, expected });
        }

        let holding: Vec<Blocker> = blockers
            .iter()
            .filter_map(|b| b.resolves_at.map(|resolves_at| Blocker { need: NeedId(b.need.id), milestone: b.milestone.clone(), resolves_at }))
            .collect();
        let schedule = plan::schedule(&plan, &holding).map_err(|e| AppError::Internal(format!("the stored plan of case {case_id}: {e}")))?;
        let finish_without_open_needs = plan::schedule(&plan, &[]).map_err(|e| AppError::Internal(e.to_string()))?.finish();
        let driving = driving_path(&plan, &schedule);
        Ok(PlanView { case_id, now, planned_at, rows, plan, schedule, blockers, finish_without_open_needs, driving })
    }

    /// When an open need is expected to resolve, and why (see the module documentation).
    async fn expected_resolution(&self, need: &NeedRow, now: DateTime<Utc>) -> AppResult<(Option<DateTime<Utc>>, Expected)> {
        let status = need.status;
        if status.is_closed() {
            return Ok((None, Expected::Closed));
        }
        // Ordered feasible first, then by lead time: the first feasible one is the best.
        let best = self.store.candidates_of_need(need.id).await?.into_iter().find(|c| c.feasible && c.status != CandidateStatus::Rejected);
        if let Some(c) = best {
            let at = plan::expected_resolution(now, Some(c.lead_time_h), now);
            return Ok((Some(at), Expected::Candidate { candidate_id: c.id, provider_id: c.provider_id, lead_time_h: c.lead_time_h }));
        }
        if let Some(deadline) = need.deadline {
            return Ok((Some(from_millis(deadline).max(now)), Expected::Deadline));
        }
        let tier = need.owner_tier;
        let window = self.windows.window(tier);
        let hours = window.num_milliseconds() as f64 / 3_600_000.0;
        Ok((Some(now.checked_add_signed(window).unwrap_or(now)), Expected::ResponseWindow { tier, hours }))
    }
}

/// Hours by which an open need puts its case's first output back: first output as the plan
/// stands against first output if the need resolved at the view's `now` (the what-if), never
/// negative. `None` when the need holds no milestone of the plan (unattached or closed).
pub(crate) fn hours_held_back(view: &PlanView, need_id: i64) -> Option<f64> {
    if !view.blockers.iter().any(|b| b.need.id == need_id && b.is_open()) {
        return None;
    }
    what_if_in(view, need_id, view.now).ok().map(|answer| (-answer.moved_h()).max(0.0))
}

/// The what-if of `need_id` in a projected plan.
pub(crate) fn what_if_in(view: &PlanView, need_id: i64, resolves_at: DateTime<Utc>) -> AppResult<WhatIfAnswer> {
    if resolves_at < view.now {
        return Err(bad(format!(
            "resolves_at {} is before now ({}) — an open need resolves at now at the earliest",
            china_time(resolves_at),
            china_time(view.now)
        )));
    }
    let attached: Vec<&PlanBlocker> = view.blockers.iter().filter(|b| b.need.id == need_id).collect();
    if attached.is_empty() {
        return Err(AppError::Conflict(format!("need {need_id} blocks no milestone of case {}'s plan — attach it to a milestone first", view.case_id)));
    }
    if !attached.iter().any(|b| b.is_open()) {
        return Err(AppError::Conflict(format!("need {need_id} is {} — it no longer holds the plan", attached[0].need.status)));
    }
    let holding: Vec<Blocker> = view
        .blockers
        .iter()
        .filter_map(|b| b.resolves_at.map(|resolves_at| Blocker { need: NeedId(b.need.id), milestone: b.milestone.clone(), resolves_at }))
        .collect();
    let answer = plan::what_if(&view.plan, &holding, NeedId(need_id), resolves_at).map_err(plan_error)?;
    Ok(WhatIfAnswer::from((resolves_at, answer)))
}

/// The driving path: the critical path, extended back through started and finished work by
/// the predecessor that finished last (see the module documentation). Per plan index.
fn driving_path(plan: &Plan, schedule: &Schedule) -> Vec<bool> {
    let index: HashMap<&str, usize> = plan.milestones.iter().enumerate().map(|(i, m)| (m.key.as_str(), i)).collect();
    let mut on = vec![false; plan.milestones.len()];
    for &i in schedule.critical_path() {
        on[i] = true;
    }
    // Successors before predecessors, so a milestone's place on the path is settled when it is read.
    for &v in schedule.topological_order().iter().rev() {
        let m = &plan.milestones[v];
        if !on[v] || (m.actual_start.is_none() && m.actual_finish.is_none()) {
            continue;
        }
        let latest = m
            .after
            .iter()
            .filter_map(|key| index.get(key.as_str()).copied())
            .max_by(|&a, &b| schedule.times(a).ef.cmp(&schedule.times(b).ef).then_with(|| plan.milestones[b].key.cmp(&plan.milestones[a].key)));
        if let Some(u) = latest
            && schedule.times(u).ef <= schedule.times(v).es
        {
            on[u] = true;
        }
    }
    on
}

/// Checks one milestone as given and makes it the engine's.
fn clean(m: NewMilestone, now: DateTime<Utc>) -> AppResult<(Milestone, Vec<i64>)> {
    let key = m.key.trim().to_string();
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS || key.chars().any(char::is_control) {
        return Err(bad(format!("milestone key {:?}: give each milestone a key of 1 to {MAX_KEY_CHARS} characters, such as lines_arrive", m.key)));
    }
    not_after_now(&key, "actual_start", m.actual_start, now)?;
    not_after_now(&key, "actual_finish", m.actual_finish, now)?;
    let name = crate::error::text(&format!("milestone {key:?}: name"), &m.name, bangfu_core::text::NAME_CHARS)?;
    let name = if name.is_empty() { key.clone() } else { name };
    let mut blockers = m.blockers;
    blockers.sort_unstable();
    blockers.dedup();
    let milestone = Milestone {
        key,
        name,
        duration_h: m.duration_h,
        after: m.after.iter().map(|a| a.trim().to_string()).collect(),
        not_before: m.not_before,
        actual_start: m.actual_start,
        actual_finish: m.actual_finish,
    };
    Ok((milestone, blockers))
}

fn not_after_now(key: &str, field: &str, time: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AppResult<()> {
    match time {
        Some(t) if t > now => Err(bad(format!(
            "milestone {key:?}: {field} {} is after now ({}) — record an actual once it has happened",
            china_time(t),
            china_time(now)
        ))),
        _ => Ok(()),
    }
}

fn plan_error(error: PlanError) -> AppError {
    AppError::BadInput(error.to_string())
}

/// The stored milestone as the engine's.
fn milestone_of(row: &MilestoneRow) -> AppResult<Milestone> {
    let after = row.after.clone();
    Ok(Milestone {
        key: row.key.clone(),
        name: row.name.clone(),
        duration_h: row.duration_h,
        after,
        not_before: row.not_before.map(from_millis),
        actual_start: row.actual_start.map(from_millis),
        actual_finish: row.actual_finish.map(from_millis),
    })
}

/// The case's milestone `key`, for a change; bad input naming the plan's keys otherwise.
fn milestone_for_write(tx: &mut WriteTx, case_id: i64, key: &str) -> AppResult<MilestoneRow> {
    if let Some(row) = tx.milestone_by_key(case_id, key.trim())? {
        return Ok(row);
    }
    let keys: Vec<String> = tx.milestones_of_case(case_id)?.into_iter().map(|m| m.key).collect();
    Err(bad(if keys.is_empty() {
        format!("case {case_id} has no plan yet — set one first")
    } else {
        format!("case {case_id}'s plan has no milestone {key:?} — its milestones are {}", keys.join(", "))
    }))
}

/// Hours as a message writes them: 36, 1.5.
fn trim_hours(hours: f64) -> String {
    let text = format!("{hours:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 3_600_000.0
}

/// A time at UTC+8 to the minute, for messages: 2020-02-13 08:30.
fn china_time(time: DateTime<Utc>) -> String {
    bangfu_core::china_time::minute(time)
}
