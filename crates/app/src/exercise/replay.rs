//! The exercise replayed through the use cases, in time order: an agenda of steps, each at its
//! moment (ties in the order they were put on the agenda), each one call of an [`App`] method
//! with that moment as `now`. What a step does next depends on the need as it is then (the row
//! the last use case or escalation pass that wrote it returned) — the
//! need's current owner acts, a need without a feasible candidate is broadcast and solved by
//! hand, a need that became national gets its letter sent — so the month unfolds as the rules
//! make it, and the same world always unfolds the same way.

use super::world::{Reporter, World};
use super::{END_MS, HOUR_MS, MARK, NOTE, START_MS};
use crate::cases::{NewEnterprise, NewTeamMember};
use crate::channel::{NewApproval, NewShipment};
use crate::needs::NewNeed;
use crate::returns::NewDailyReturn;
use crate::{Actor, App, AppError, AppResult, from_millis};
use bangfu_core::escalation::department_above;
use bangfu_core::model::{ApprovalStatus, LetterStatus, NeedKind, NeedStatus, Role, Scope, Tier};
use bangfu_core::region::RegionCode;
use bangfu_core::routing::department_name;
use bangfu_store::NeedRow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// One thing that happens at a moment. Indexes are into the world's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// The county registers the enterprise, opens its case and stations its task force.
    Register(usize),
    /// A later member of the team (city cadre, province commissioner) joins: enterprise, member.
    Join(usize, usize),
    /// A green-channel approval: enterprise, approval, stage (opened, in progress, approved).
    Approval(usize, usize, u8),
    DailyReturn(usize),
    Report(usize),
    Source(usize),
    Select(usize),
    Start(usize),
    Resolve(usize),
    Cancel(usize),
    Escalate(usize),
    LetterSent(usize),
    LetterAcknowledged(usize),
    /// The server's escalation pass, every hour of the month.
    EscalationPass,
}

/// What the replay did.
#[derive(Clone, Debug, Default)]
pub(super) struct Counts {
    /// Use-case calls made.
    pub steps: usize,
}

pub(super) struct Replay<'a> {
    app: &'a App,
    world: &'a World,
    agenda: BinaryHeap<Reverse<(i64, u64, Step)>>,
    order: u64,
    /// Per enterprise: (enterprise id, case id) once registered.
    cases: Vec<Option<(i64, i64)>>,
    /// Per need: the row as the last use case that wrote it returned it (the loader is the
    /// database's one writer while it runs, so this is what the store holds), once reported.
    needs: Vec<Option<NeedRow>>,
    /// Need id → index into the world's needs, for what the escalation pass moves.
    by_id: BTreeMap<i64, usize>,
    approvals: BTreeMap<(usize, usize), i64>,
    /// Needs whose letters are on the agenda.
    lettered: BTreeSet<usize>,
    counts: Counts,
}

impl<'a> Replay<'a> {
    pub(super) fn new(app: &'a App, world: &'a World) -> Replay<'a> {
        let mut replay = Replay {
            app,
            world,
            agenda: BinaryHeap::new(),
            order: 0,
            cases: vec![None; world.enterprises.len()],
            needs: vec![None; world.needs.len()],
            by_id: BTreeMap::new(),
            approvals: BTreeMap::new(),
            lettered: BTreeSet::new(),
            counts: Counts::default(),
        };
        for (e, enterprise) in world.enterprises.iter().enumerate() {
            replay.at(enterprise.opens_at, Step::Register(e));
        }
        for (n, need) in world.needs.iter().enumerate() {
            replay.at(need.at, Step::Report(n));
        }
        for (r, daily) in world.returns.iter().enumerate() {
            replay.at(daily.at, Step::DailyReturn(r));
        }
        replay.at(START_MS + HOUR_MS, Step::EscalationPass);
        replay
    }

    /// Puts `step` on the agenda at `at`, unless that is after the end of the exercise.
    fn at(&mut self, at: i64, step: Step) {
        if at < END_MS {
            self.order += 1;
            self.agenda.push(Reverse((at, self.order, step)));
        }
    }

    fn after_hours(&mut self, now: i64, hours: f64, step: Step) {
        let at = now + ((hours * HOUR_MS as f64) / 60_000.0).round() as i64 * 60_000;
        self.at(at.max(now + 60_000), step);
    }

    pub(super) async fn run(mut self, progress: &mut (dyn FnMut(&str) + Send)) -> AppResult<Counts> {
        self.import_registry(progress).await?;
        let mut day = 0;
        while let Some(Reverse((at, _, step))) = self.agenda.pop() {
            let today = (at - START_MS) / (24 * HOUR_MS);
            if today > day {
                day = today;
                progress(&format!("day {day} of {} replayed: {} use-case calls", super::DAYS, self.counts.steps));
            }
            self.step(at, step).await.map_err(|e| AppError::Internal(format!("exercise: {step:?} at {}: {e}", from_millis(at).to_rfc3339())))?;
        }
        progress(&format!("day {} of {} replayed: {} use-case calls", super::DAYS, super::DAYS, self.counts.steps));
        Ok(self.counts)
    }

    /// The registry first, one province's file after another, as `bangfu import` would take them
    /// (from the operator: an officer imports only inside its jurisdiction, issue 17).
    async fn import_registry(&mut self, progress: &mut (dyn FnMut(&str) + Send)) -> AppResult<()> {
        let operator = Actor::system(&format!("{MARK}演练导入 / exercise loader"));
        let mut total = 0;
        for (i, file) in self.world.registry.iter().enumerate() {
            let lines = self.app.parse_registry(&file.jsonl, crate::import::RegistryFormat::Jsonl)?;
            let now = from_millis(START_MS + 8 * HOUR_MS + i64::try_from(i).unwrap_or(0) * 120_000);
            self.app.import_registry(&operator, now, lines, |_, _| {}).await?;
            self.counts.steps += 1;
            total += file.capabilities;
        }
        progress(&format!("registry imported: {total} capabilities from {} provinces", self.world.registry.len()));
        Ok(())
    }

    /// The officer of a department, as the log names it: 【演练】临汾市工信局.
    fn officer(&self, department: RegionCode) -> Actor {
        Actor::officer(&format!("{MARK}{}", department_name(self.app.tree, department)), department)
    }

    fn enterprise_actor(&self, e: usize) -> AppResult<Actor> {
        let (enterprise_id, _) = self.case_of(e)?;
        Ok(Actor { role: Role::Enterprise, enterprise_id: Some(enterprise_id), ..Actor::system(&self.world.enterprises[e].name) })
    }

    fn case_of(&self, e: usize) -> AppResult<(i64, i64)> {
        self.cases[e].ok_or_else(|| AppError::Internal(format!("enterprise {e} acts before it is registered")))
    }

    /// The need as it is now, with the officer of its owner.
    fn need(&self, n: usize) -> AppResult<(NeedRow, Actor)> {
        let need = self.needs[n].clone().ok_or_else(|| AppError::Internal(format!("need {n} acted on before it is reported")))?;
        let owner = self.officer(need.owner);
        Ok((need, owner))
    }

    /// Keeps the row a use case returned as the need's current state.
    fn keep(&mut self, n: usize, need: NeedRow) {
        self.by_id.insert(need.id, n);
        self.needs[n] = Some(need);
    }

    async fn step(&mut self, at: i64, step: Step) -> AppResult<()> {
        let now = from_millis(at);
        let app = self.app;
        let world = self.world;
        match step {
            Step::Register(e) => {
                let plan = &world.enterprises[e];
                let county = self.officer(plan.county);
                let input = NewEnterprise {
                    name: plan.name.clone(),
                    credit_code: plan.credit_code.clone(),
                    region: plan.county.to_string(),
                    lon: Some(plan.lon),
                    lat: Some(plan.lat),
                    note: format!("{NOTE}。主要产品：{}", plan.product),
                };
                let enterprise = app.add_enterprise(&county, now, input).await?;
                let case = app.open_case(&county, now, enterprise.id, "").await?;
                self.counts.steps += 2;
                self.cases[e] = Some((enterprise.id, case.id));
                for (m, member) in plan.team.iter().enumerate() {
                    if member.after_h <= 0.0 {
                        self.join(now, e, m).await?;
                    } else {
                        self.after_hours(at, member.after_h, Step::Join(e, m));
                    }
                }
                for (a, approval) in plan.approvals.iter().enumerate() {
                    self.after_hours(at, approval.opened_h, Step::Approval(e, a, 0));
                    self.after_hours(at, approval.in_progress_h, Step::Approval(e, a, 1));
                    self.after_hours(at, approval.approved_h, Step::Approval(e, a, 2));
                }
            }
            Step::Join(e, m) => self.join(now, e, m).await?,
            Step::Approval(e, a, stage) => {
                let plan = &world.enterprises[e];
                let county = self.officer(plan.county);
                let (_, case_id) = self.case_of(e)?;
                match stage {
                    0 => {
                        let approval = &plan.approvals[a];
                        let input = NewApproval {
                            department: plan.county.to_string(),
                            agency: approval.agency.into(),
                            item: format!("{MARK}{}", approval.item),
                            due_at: Some(now + chrono::TimeDelta::days(7)),
                        };
                        let row = app.open_approval(&county, now, case_id, input).await?;
                        self.approvals.insert((e, a), row.id);
                    }
                    _ => {
                        let id = *self.approvals.get(&(e, a)).ok_or_else(|| AppError::Internal(format!("approval {a} of enterprise {e} not opened")))?;
                        let status = if stage == 1 { ApprovalStatus::InProgress } else { ApprovalStatus::Approved };
                        app.decide_approval(&county, now, id, status).await?;
                    }
                }
                self.counts.steps += 1;
            }
            Step::DailyReturn(r) => {
                let plan = &world.returns[r];
                let actor = self.enterprise_actor(plan.enterprise)?;
                let (_, case_id) = self.case_of(plan.enterprise)?;
                let input = NewDailyReturn {
                    day: plan.day.clone(),
                    product: plan.product.into(),
                    capacity_per_day: plan.capacity_per_day,
                    output: plan.output,
                    stock: plan.stock,
                    shipped: plan.shipped,
                    note: NOTE.into(),
                };
                app.submit_daily_return(&actor, now, case_id, input).await?;
                self.counts.steps += 1;
            }
            Step::Report(n) => self.report(at, n).await?,
            Step::Source(n) => {
                let (need, owner) = self.need(n)?;
                if need.status != NeedStatus::Open {
                    return Ok(());
                }
                let need = app.source_need(&owner, now, need.id).await?;
                self.counts.steps += 1;
                self.after_hours(at, world.needs[n].fate.select_h, Step::Select(n));
                self.letters_if_national(at, n, &need);
                self.keep(n, need);
            }
            Step::Select(n) => self.select(at, n).await?,
            Step::Start(n) => {
                let (need, owner) = self.need(n)?;
                if !matches!(need.status, NeedStatus::Open | NeedStatus::Selected) {
                    return Ok(());
                }
                let need = app.set_need_status(&owner, now, need.id, NeedStatus::Started, &format!("{MARK}已着手办理 / work started")).await?;
                self.keep(n, need);
                self.counts.steps += 1;
                let fate = &world.needs[n].fate;
                let next = if fate.cancel_at_step == Some(3) { Step::Cancel(n) } else { Step::Resolve(n) };
                self.after_hours(at, fate.resolve_h, next);
            }
            Step::Resolve(n) => {
                let (need, owner) = self.need(n)?;
                if is_closed(&need) {
                    return Ok(());
                }
                let fate = &world.needs[n].fate;
                if fate.shipment {
                    self.ship(at, n, &need, &owner).await?;
                }
                let need = app.set_need_status(&owner, now, need.id, NeedStatus::Resolved, &format!("{MARK}已解决 / resolved")).await?;
                self.keep(n, need);
                self.counts.steps += 1;
            }
            Step::Cancel(n) => {
                let (need, owner) = self.need(n)?;
                if is_closed(&need) {
                    return Ok(());
                }
                let need = app
                    .set_need_status(&owner, now, need.id, NeedStatus::Cancelled, &format!("{MARK}企业已自行解决，撤回 / solved by the enterprise itself, withdrawn"))
                    .await?;
                self.keep(n, need);
                self.counts.steps += 1;
            }
            Step::Escalate(n) => {
                let (need, owner) = self.need(n)?;
                let at_top = department_above(app.tree, need.owner).is_none();
                if is_closed(&need) || (at_top && need.supervised) {
                    return Ok(());
                }
                let escalated = app.escalate_need(&owner, now, need.id, &format!("{MARK}本级协调无果，提请上级协调 / no solution at this tier")).await?;
                self.keep(n, escalated.need);
                self.counts.steps += 1;
            }
            Step::LetterSent(n) | Step::LetterAcknowledged(n) => {
                let (need, _) = self.need(n)?;
                let (from, to) = match step {
                    Step::LetterSent(_) => (LetterStatus::Draft, LetterStatus::Sent),
                    _ => (LetterStatus::Sent, LetterStatus::Acknowledged),
                };
                // The sender (the province's department) sends the letters of national needs; the
                // first addressee (the counterpart province's department) records the answer.
                for letter in app.store.letters_of_need(need.id).await? {
                    if letter.status == from {
                        let by = match to {
                            LetterStatus::Sent => letter.sender,
                            _ => letter.recipients.first().map_or(letter.sender, |r| r.region),
                        };
                        let by = self.officer(by);
                        let note = match to {
                            LetterStatus::Sent => format!("{MARK}公函已发出 / letter sent"),
                            _ => format!("{MARK}对方已复函 / the counterpart answered"),
                        };
                        app.set_letter_status(&by, now, letter.id, to, &note).await?;
                        self.counts.steps += 1;
                    }
                }
                if to == LetterStatus::Sent {
                    self.after_hours(at, world.needs[n].fate.letter_ack_h, Step::LetterAcknowledged(n));
                }
            }
            Step::EscalationPass => {
                let report = app.escalate_scheduled(&Actor::system(&format!("{MARK}escalation")), now).await?;
                for moved in report.map(|r| r.moved).unwrap_or_default() {
                    if let Some(&n) = self.by_id.get(&moved.need.id) {
                        self.keep(n, moved.need);
                    }
                }
                self.counts.steps += 1;
                self.at(at + HOUR_MS, Step::EscalationPass);
            }
        }
        Ok(())
    }

    async fn join(&mut self, now: chrono::DateTime<chrono::Utc>, e: usize, m: usize) -> AppResult<()> {
        let member = &self.world.enterprises[e].team[m];
        let (_, case_id) = self.case_of(e)?;
        let actor = self.officer(member.department);
        let input = NewTeamMember { title: member.title.clone(), department: member.department.to_string(), role: member.role.into(), user_id: None };
        self.app.add_team_member(&actor, now, case_id, input).await?;
        self.counts.steps += 1;
        Ok(())
    }

    /// A need is reported: by the county officer through the need form (sourced at once when
    /// the registry holds its kind) or by the enterprise (sourced later by its owner).
    async fn report(&mut self, at: i64, n: usize) -> AppResult<()> {
        let plan = &self.world.needs[n];
        let enterprise = &self.world.enterprises[plan.enterprise];
        let (_, case_id) = self.case_of(plan.enterprise)?;
        let now = from_millis(at);
        let registry_kind = NeedKind::parse(&plan.input.kind).is_ok_and(|k| k.has_capabilities());
        let input: NewNeed = plan.input.clone();
        let need = match plan.reporter {
            Reporter::Officer => self.app.report_and_source(&self.officer(enterprise.county), now, case_id, input).await?,
            Reporter::Enterprise => self.app.report_need(&self.enterprise_actor(plan.enterprise)?, now, case_id, input).await?,
        };
        self.counts.steps += 1;
        let fate = &plan.fate;
        let first = match (fate.cancel_at_step, registry_kind, plan.reporter) {
            (Some(1), ..) => Step::Cancel(n),
            (_, true, Reporter::Officer) => Step::Select(n),
            (_, true, Reporter::Enterprise) => Step::Source(n),
            (_, false, _) => Step::Start(n),
        };
        self.after_hours(at, fate.first_action_h, first);
        if let Some(h) = fate.manual_escalation_h {
            self.after_hours(at, h, Step::Escalate(n));
        }
        self.letters_if_national(at, n, &need);
        self.keep(n, need);
        Ok(())
    }

    /// The owner chooses a feasible candidate; without one it broadcasts the need (or not) and
    /// solves it by hand later.
    async fn select(&mut self, at: i64, n: usize) -> AppResult<()> {
        let (need, owner) = self.need(n)?;
        if need.status != NeedStatus::Open {
            return Ok(());
        }
        let now = from_millis(at);
        let fate = &self.world.needs[n].fate;
        let feasible: Vec<i64> = self.app.store.candidates_of_need(need.id).await?.into_iter().filter(|c| c.feasible).map(|c| c.id).collect();
        if feasible.is_empty() {
            if fate.broadcast {
                let ring = match need.owner_tier {
                    Tier::County => Scope::City,
                    Tier::City => Scope::Province,
                    _ => Scope::National,
                };
                self.app.broadcast_need(&owner, now, need.id, ring).await?;
                self.counts.steps += 1;
            }
            // Solved outside the registry, taking longer.
            self.after_hours(at, fate.start_h * 2.0 + 6.0, Step::Start(n));
            return Ok(());
        }
        let candidate = feasible[fate.rank.min(feasible.len() - 1)];
        let need = self.app.select_candidate(&owner, now, need.id, candidate).await?;
        self.counts.steps += 1;
        let next = if fate.cancel_at_step == Some(2) { Step::Cancel(n) } else { Step::Start(n) };
        self.after_hours(at, fate.start_h, next);
        self.letters_if_national(at, n, &need);
        self.keep(n, need);
        Ok(())
    }

    /// Goods that travelled are recorded as a shipment, with a traffic pass for some.
    async fn ship(&mut self, at: i64, n: usize, need: &NeedRow, owner: &Actor) -> AppResult<()> {
        let plan = &self.world.needs[n];
        let enterprise = &self.world.enterprises[plan.enterprise];
        let destination = enterprise.county.to_string();
        let origin = need.solution_region.map_or_else(|| destination.clone(), |r| r.to_string());
        let departs = at - ((plan.fate.resolve_h * 0.6 * HOUR_MS as f64) as i64 / 60_000) * 60_000;
        let input = NewShipment {
            need_id: Some(need.id),
            goods: need.title.clone(),
            origin,
            destination,
            status: "delivered".into(),
            traffic_pass: n.is_multiple_of(2).then(|| format!("{MARK}通行证 演练-{n:05}")),
            departs_at: Some(from_millis(departs)),
            arrives_at: Some(from_millis(at)),
        };
        self.app.add_shipment(owner, from_millis(at), need.case_id, input).await?;
        self.counts.steps += 1;
        Ok(())
    }

    /// A need that became national has a letter drafted; the province sends it after a while.
    fn letters_if_national(&mut self, at: i64, n: usize, need: &NeedRow) {
        if need.scope == Scope::National && self.lettered.insert(n) {
            self.after_hours(at, self.world.needs[n].fate.letter_sent_h, Step::LetterSent(n));
        }
    }
}

fn is_closed(need: &NeedRow) -> bool {
    need.status.is_closed()
}
