//! The enterprise's plan to production: milestones (节点) with durations and dependencies, the
//! needs that block them, and the critical path method that turns them into the projected first
//! day of output.
//!
//! A plan is a DAG. [`schedule`] computes, for every milestone, the earliest start and finish
//! (forward pass), the latest start and finish (backward pass from the plan's finish), the slack,
//! and the critical path: the milestones with zero slack, in topological order with ties broken
//! by key. Open needs attach to milestones as [`Blocker`]s: a milestone cannot finish before its
//! blocking needs are resolved. [`what_if`] answers "if this need resolves at T, first output
//! moves to D".
//!
//! Rules, in full:
//! - A milestone that has not started starts at the latest of its predecessors' finishes, its
//!   `not_before` and the plan's start. Its finish is the later of start + duration and the latest
//!   expected resolution of its blockers (the wait is part of its span, so a milestone held by a
//!   need is critical when that need decides the finish).
//! - Actuals are facts and override the computation: a started milestone starts at its actual
//!   start whatever its predecessors did, a finished one finishes at its actual finish (its
//!   blockers are then ignored). A started or finished milestone no longer waits for its
//!   predecessors, so it does not constrain their latest times either. To project a plan in
//!   progress from today, pass `start = now`: unstarted work cannot begin in the past, and the
//!   actuals keep the past.
//! - The plan's finish, the projected first-output time, is the latest earliest-finish (the
//!   plan's start when it has no milestones). Latest times are computed backwards from it;
//!   slack = latest start − earliest start = latest finish − earliest finish, never negative.
//! - Times are kept to the millisecond.
//!
//! This module does no I/O and never reads the clock: `now` is a parameter of
//! [`expected_resolution`], the only place it matters. It runs in O(n log n + m) for n milestones
//! and m dependencies, on arrays indexed by node; 100,000 milestones and 400,000 dependencies take
//! 65–80 ms on the 2-vCPU development machine, more while other builds compete for its memory
//! (see BENCHMARKS.md).

use crate::ids::NeedId;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::fmt;

const MS_PER_HOUR: f64 = 3_600_000.0;

/// One step of the plan (节点).
#[derive(Clone, Debug, PartialEq)]
pub struct Milestone {
    /// The milestone's key, unique within its plan (`"id"` in the JSON input), e.g. `lines_arrive`.
    pub key: String,
    /// What the step is, for people.
    pub name: String,
    /// How long the step takes once started, in hours; finite and ≥ 0.
    pub duration_h: f64,
    /// Keys of the milestones that must finish before this one starts.
    pub after: Vec<String>,
    /// The step cannot start before this time (a delivery date, an appointment).
    pub not_before: Option<DateTime<Utc>>,
    /// When the step actually started; overrides the computed start.
    pub actual_start: Option<DateTime<Utc>>,
    /// When the step actually finished; overrides the computed finish.
    pub actual_finish: Option<DateTime<Utc>>,
}

impl Milestone {
    /// A milestone with no dependencies, constraints or actuals.
    pub fn new(key: impl Into<String>, name: impl Into<String>, duration_h: f64) -> Milestone {
        Milestone {
            key: key.into(),
            name: name.into(),
            duration_h,
            after: Vec::new(),
            not_before: None,
            actual_start: None,
            actual_finish: None,
        }
    }

    /// The same milestone, after the given keys.
    pub fn after<I, S>(mut self, keys: I) -> Milestone
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.after.extend(keys.into_iter().map(Into::into));
        self
    }

    /// The same milestone, not starting before `time`.
    pub fn not_before(mut self, time: DateTime<Utc>) -> Milestone {
        self.not_before = Some(time);
        self
    }
}

/// A plan: where it starts and its milestones. The order of `milestones` is the order results
/// are reported in; it does not affect them.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Nothing unstarted starts before this time.
    pub start: DateTime<Utc>,
    pub milestones: Vec<Milestone>,
}

/// An open need attached to a milestone: the milestone cannot finish before `resolves_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    pub need: NeedId,
    /// The key of the blocked milestone.
    pub milestone: String,
    /// When the need is expected to be resolved (see [`expected_resolution`]).
    pub resolves_at: DateTime<Utc>,
}

/// When an open need is expected to be resolved: `now` + the best candidate's lead time when it
/// has a feasible candidate, otherwise its deadline. A lead time that is not a finite number
/// ≥ 0 counts as no candidate.
pub fn expected_resolution(now: DateTime<Utc>, best_lead_time_h: Option<f64>, deadline: DateTime<Utc>) -> DateTime<Utc> {
    best_lead_time_h
        .filter(|h| h.is_finite() && *h >= 0.0)
        .and_then(|h| TimeDelta::try_milliseconds(hours_to_ms(h)))
        .and_then(|lead| now.checked_add_signed(lead))
        .unwrap_or(deadline)
}

/// Why a plan cannot be scheduled. Messages name the milestones involved and suggest the fix.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanError {
    /// Two milestones share a key.
    DuplicateMilestone { key: String },
    /// A milestone is after a key that is not in the plan; `suggestion` is the nearest key.
    UnknownDependency { milestone: String, after: String, suggestion: Option<String> },
    /// The dependencies go round: each milestone is after the one before it, and the first is
    /// after the last.
    Cycle { milestones: Vec<String> },
    /// A duration that is negative, infinite or not a number.
    InvalidDuration { milestone: String, duration_h: f64 },
    /// An actual finish before the actual start.
    FinishBeforeStart { milestone: String },
    /// A blocker attached to a key that is not in the plan.
    UnknownBlockedMilestone { need: NeedId, milestone: String },
    /// [`what_if`] was asked about a need that blocks no milestone.
    NeedNotBlocking { need: NeedId },
    /// The projected times fall outside the representable calendar.
    OutOfRange,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::DuplicateMilestone { key } => {
                write!(f, "two milestones have the key {key:?} — each milestone needs its own key")
            }
            PlanError::UnknownDependency { milestone, after, suggestion } => {
                write!(f, "milestone {milestone:?} is after {after:?}, which is not a milestone of this plan")?;
                match suggestion {
                    Some(key) => write!(f, " — did you mean {key:?}?"),
                    None => Ok(()),
                }
            }
            PlanError::Cycle { milestones } => {
                let mut chain: Vec<String> = milestones.iter().map(|key| format!("{key:?}")).collect();
                if let Some(first) = chain.first().cloned() {
                    chain.push(first);
                }
                write!(
                    f,
                    "the plan has a cycle: {} (each is after the one before it) — remove one of these dependencies",
                    chain.join(" → ")
                )
            }
            PlanError::InvalidDuration { milestone, duration_h } => {
                write!(f, "milestone {milestone:?} has duration_h {duration_h}, expected a number of hours ≥ 0")
            }
            PlanError::FinishBeforeStart { milestone } => {
                write!(f, "milestone {milestone:?} has an actual finish before its actual start")
            }
            PlanError::UnknownBlockedMilestone { need, milestone } => {
                write!(f, "need {need} blocks milestone {milestone:?}, which is not a milestone of this plan")
            }
            PlanError::NeedNotBlocking { need } => write!(f, "need {need} blocks no milestone of this plan"),
            PlanError::OutOfRange => f.write_str("the plan's projected times fall outside the calendar (years ±262,000)"),
        }
    }
}

impl std::error::Error for PlanError {}

/// The computed times of one milestone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MilestoneTimes {
    /// Earliest start.
    pub es: DateTime<Utc>,
    /// Earliest finish.
    pub ef: DateTime<Utc>,
    /// Latest start that does not move the plan's finish.
    pub ls: DateTime<Utc>,
    /// Latest finish that does not move the plan's finish.
    pub lf: DateTime<Utc>,
    /// ls − es, in hours; 0 on the critical path.
    pub slack_h: f64,
    /// Whether the milestone is on the critical path (zero slack).
    pub critical: bool,
    /// The need whose expected resolution sets this milestone's finish (later than start +
    /// duration), if any; ties go to the smallest need id.
    pub held_by: Option<NeedId>,
}

/// A scheduled plan: times per milestone (indexed as in [`Plan::milestones`]), the critical path
/// and the projected first-output time.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    start_ms: i64,
    finish_ms: i64,
    /// Milestones are numbered internally by key: `node[index]` is the number of the milestone
    /// at `index` in the plan, and the vectors below are indexed by that number.
    node: Vec<u32>,
    times: Vec<Times>,
    held_by: Vec<Option<NeedId>>,
    /// Plan indices.
    order: Vec<usize>,
    /// Plan indices.
    critical_path: Vec<usize>,
}

impl Schedule {
    /// The plan's start.
    pub fn start(&self) -> DateTime<Utc> {
        at(self.start_ms)
    }

    /// The projected first-output time: the latest earliest finish.
    pub fn finish(&self) -> DateTime<Utc> {
        at(self.finish_ms)
    }

    /// Hours from the plan's start to its finish.
    pub fn span_h(&self) -> f64 {
        ms_to_hours(self.finish_ms - self.start_ms)
    }

    /// The number of milestones.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The times of the milestone at `index` in [`Plan::milestones`].
    ///
    /// Panics when `index` is out of range, like slice indexing.
    pub fn times(&self, index: usize) -> MilestoneTimes {
        let v = self.node[index] as usize;
        let t = self.times[v];
        let slack_ms = t.ls - t.es;
        MilestoneTimes {
            es: at(t.es),
            ef: at(t.ef),
            ls: at(t.ls),
            lf: at(t.lf),
            slack_h: ms_to_hours(slack_ms),
            critical: slack_ms <= 0,
            held_by: self.held_by[v],
        }
    }

    /// The critical path: indices of the zero-slack milestones, in topological order, ties by key.
    pub fn critical_path(&self) -> &[usize] {
        &self.critical_path
    }

    /// Every milestone's index in topological order, ties by key: the smallest key whose
    /// predecessors are all listed comes next.
    pub fn topological_order(&self) -> &[usize] {
        &self.order
    }

    /// The needs that hold milestones on the critical path, in critical-path order: the needs
    /// that decide the first day of output.
    pub fn critical_blockers(&self) -> Vec<NeedId> {
        self.critical_path.iter().filter_map(|&i| self.held_by[self.node[i] as usize]).collect()
    }
}

/// "If this need resolves at `resolves_at`, first output moves from `old_finish` to `new_finish`."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhatIf {
    pub old_finish: DateTime<Utc>,
    pub new_finish: DateTime<Utc>,
}

impl WhatIf {
    /// new − old, in hours: negative when first output comes earlier.
    pub fn shift_h(&self) -> f64 {
        (self.new_finish - self.old_finish).num_milliseconds() as f64 / MS_PER_HOUR
    }
}

/// Schedules the plan with every blocker of `need` expected to resolve at `resolves_at` instead,
/// and compares the finish with the plan as it stands.
pub fn what_if(plan: &Plan, blockers: &[Blocker], need: NeedId, resolves_at: DateTime<Utc>) -> Result<WhatIf, PlanError> {
    if !blockers.iter().any(|b| b.need == need) {
        return Err(PlanError::NeedNotBlocking { need });
    }
    let old_finish = schedule(plan, blockers)?.finish();
    let changed: Vec<Blocker> = blockers
        .iter()
        .map(|b| if b.need == need { Blocker { resolves_at, ..b.clone() } } else { b.clone() })
        .collect();
    let new_finish = schedule(plan, &changed)?.finish();
    Ok(WhatIf { old_finish, new_finish })
}

/// The critical path method over the plan and its blockers.
///
/// Errors: duplicate keys, unknown dependencies, invalid durations or actuals, blockers on
/// unknown milestones, and cycles (named in cycle order, starting from the smallest key).
pub fn schedule(plan: &Plan, blockers: &[Blocker]) -> Result<Schedule, PlanError> {
    let milestones = &plan.milestones;
    let n = milestones.len();
    let start_ms = plan.start.timestamp_millis();

    // One pass over the milestones: validate them and keep what the sort by key, the key index
    // and the forward pass need, so that later passes read only the dependency lists.
    let mut keys: Vec<KeyInfo> = Vec::with_capacity(n);
    let mut by_prefix: Vec<(u64, u32)> = Vec::with_capacity(n);
    let mut work_by_index: Vec<Work> = Vec::with_capacity(n);
    for (i, m) in milestones.iter().enumerate() {
        if !(m.duration_h.is_finite() && m.duration_h >= 0.0) {
            return Err(PlanError::InvalidDuration { milestone: m.key.clone(), duration_h: m.duration_h });
        }
        let known = match (m.actual_start, m.actual_finish) {
            (Some(s), Some(f)) if f < s => return Err(PlanError::FinishBeforeStart { milestone: m.key.clone() }),
            (start, Some(finish)) => {
                Known::Finished { start: start.map_or(i64::MIN, |s| s.timestamp_millis()), finish: finish.timestamp_millis() }
            }
            (Some(start), None) => Known::Started { start: start.timestamp_millis() },
            (None, None) => Known::Unstarted { not_before: m.not_before.map_or(i64::MIN, |t| t.timestamp_millis()) },
        };
        work_by_index.push(Work { duration: hours_to_ms(m.duration_h), blocked_until: i64::MIN, known });
        let key = KeyInfo::of(m.key.as_bytes());
        by_prefix.push((key.prefix.swap_bytes(), i as u32));
        keys.push(key);
    }

    // Number the milestones by key: ties in the topological order then go to the smaller
    // number. `key_order[v]` is the plan index of node v. Sorting by each key's first eight
    // bytes (big-endian, so that they order as the keys do) leaves string comparisons to the
    // few keys that share them; only those can be duplicates.
    by_prefix.sort_unstable();
    let mut key_order: Vec<u32> = by_prefix.iter().map(|&(_, i)| i).collect();
    let mut run_start = 0;
    for run in by_prefix.chunk_by(|a, b| a.0 == b.0) {
        let run_order = &mut key_order[run_start..run_start + run.len()];
        run_start += run.len();
        if run_order.len() > 1 {
            let key = |i: u32| milestones[i as usize].key.as_str();
            run_order.sort_unstable_by(|&a, &b| key(a).cmp(key(b)));
            if let Some(pair) = run_order.windows(2).find(|w| key(w[0]) == key(w[1])) {
                return Err(PlanError::DuplicateMilestone { key: key(pair[0]).to_string() });
            }
        }
    }
    drop(by_prefix);
    let mut node = vec![0u32; n];
    for (v, &i) in key_order.iter().enumerate() {
        node[i as usize] = v as u32;
    }
    let index = KeyIndex::new(milestones, &key_order, &keys, &node);
    drop(keys);
    // By node, so that the forward pass reads one record per milestone.
    let mut work: Vec<Work> = key_order.iter().map(|&i| work_by_index[i as usize]).collect();
    drop(work_by_index);

    // Blockers: the latest expected resolution per node, and which need it is.
    let mut blocking_need: Vec<Option<NeedId>> = vec![None; n];
    for blocker in blockers {
        let Some(v) = index.get(&blocker.milestone) else {
            return Err(PlanError::UnknownBlockedMilestone { need: blocker.need, milestone: blocker.milestone.clone() });
        };
        let v = v as usize;
        let t = blocker.resolves_at.timestamp_millis();
        let until = &mut work[v].blocked_until;
        let tie_smaller = t == *until && blocking_need[v].is_none_or(|held| blocker.need < held);
        if t > *until || tie_smaller {
            *until = t;
            blocking_need[v] = Some(blocker.need);
        }
    }

    // Dependencies: the predecessors of the milestone at plan index i are
    // `predecessors[first[i]..first[i + 1]]`, as node numbers.
    let mut first = Vec::with_capacity(n + 1);
    first.push(0u32);
    let mut predecessors: Vec<u32> = Vec::with_capacity(milestones.iter().map(|m| m.after.len()).sum());
    let mut out_degree = vec![0u32; n];
    for m in milestones {
        for dependency in &m.after {
            let Some(u) = index.get(dependency) else {
                return Err(PlanError::UnknownDependency {
                    milestone: m.key.clone(),
                    after: dependency.clone(),
                    suggestion: nearest_key(milestones, dependency),
                });
            };
            predecessors.push(u);
            out_degree[u as usize] += 1;
        }
        first.push(predecessors.len() as u32);
    }
    drop(index);

    // Successors, compressed: the successors of node u are succ[offset[u]..offset[u + 1]].
    let mut offset = Vec::with_capacity(n + 1);
    offset.push(0u32);
    for u in 0..n {
        offset.push(offset[u] + out_degree[u]);
    }
    let mut fill = offset.clone();
    let mut succ = vec![0u32; predecessors.len()];
    let mut pending = vec![Pending { es: start_ms, predecessors: 0 }; n];
    for (i, &v) in node.iter().enumerate() {
        let range = first[i] as usize..first[i + 1] as usize;
        pending[v as usize].predecessors = range.len() as u32;
        for &u in &predecessors[range] {
            succ[fill[u as usize] as usize] = v;
            fill[u as usize] += 1;
        }
    }
    drop((predecessors, first, fill, out_degree));
    let successors = |u: usize| &succ[offset[u] as usize..offset[u + 1] as usize];

    // Forward pass along Kahn's order; taking the smallest ready node number breaks ties by key.
    let mut times = vec![Times { es: 0, ef: 0, ls: 0, lf: 0 }; n];
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let mut ready = MinSet::new(n);
    for (v, p) in pending.iter().enumerate() {
        if p.predecessors == 0 {
            ready.insert(v);
        }
    }
    while let Some(u) = ready.pop_min() {
        order.push(u as u32);
        let w = work[u];
        let after_predecessors = pending[u].es;
        let (start, finish) = match w.known {
            Known::Finished { start, finish } => (if start == i64::MIN { after_predecessors.min(finish) } else { start }, finish),
            Known::Started { start } => (start, start.saturating_add(w.duration).max(w.blocked_until)),
            Known::Unstarted { not_before } => {
                let start = after_predecessors.max(not_before);
                (start, start.saturating_add(w.duration).max(w.blocked_until))
            }
        };
        times[u].es = start;
        times[u].ef = finish;
        for &s in successors(u) {
            let p = &mut pending[s as usize];
            p.es = p.es.max(finish);
            p.predecessors -= 1;
            if p.predecessors == 0 {
                ready.insert(s as usize);
            }
        }
    }
    if order.len() < n {
        let stuck: Vec<bool> = node.iter().map(|&v| pending[v as usize].predecessors > 0).collect();
        return Err(PlanError::Cycle { milestones: find_cycle(milestones, &stuck, &node) });
    }
    drop(pending);

    let finish_ms = times.iter().map(|t| t.ef).fold(start_ms, i64::max);
    let earliest_ms = times.iter().map(|t| t.es).fold(start_ms, i64::min);
    if DateTime::from_timestamp_millis(finish_ms).is_none() || DateTime::from_timestamp_millis(earliest_ms).is_none() {
        return Err(PlanError::OutOfRange);
    }

    // Which need holds each milestone: the blocker that set its finish.
    let held_by: Vec<Option<NeedId>> = (0..n)
        .map(|v| {
            let w = &work[v];
            let worked = times[v].es.saturating_add(w.duration);
            let holds = !matches!(w.known, Known::Finished { .. }) && w.blocked_until > worked;
            if holds { blocking_need[v] } else { None }
        })
        .collect();

    // Backward pass. A started or finished milestone no longer waits for its predecessors, so it
    // sets no limit on them (`limit` is i64::MAX).
    let mut limit = vec![i64::MAX; n];
    for &u in order.iter().rev() {
        let u = u as usize;
        let latest = successors(u).iter().map(|&s| limit[s as usize]).fold(finish_ms, i64::min);
        let t = &mut times[u];
        t.lf = latest;
        t.ls = latest - (t.ef - t.es);
        if matches!(work[u].known, Known::Unstarted { .. }) {
            limit[u] = t.ls;
        }
    }

    let critical_path = order
        .iter()
        .filter(|&&v| times[v as usize].ls <= times[v as usize].es)
        .map(|&v| key_order[v as usize] as usize)
        .collect();
    let order = order.iter().map(|&v| key_order[v as usize] as usize).collect();
    Ok(Schedule { start_ms, finish_ms, node, times, held_by, order, critical_path })
}

/// What the forward pass needs of one milestone, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug)]
struct Work {
    duration: i64,
    /// The latest expected resolution of its blockers (`i64::MIN` for none).
    blocked_until: i64,
    known: Known,
}

/// What is known of a milestone's start, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug)]
enum Known {
    /// Starts after its predecessors, and not before `not_before` (`i64::MIN` for no constraint).
    Unstarted { not_before: i64 },
    Started { start: i64 },
    /// `start` is `i64::MIN` when only the finish is known.
    Finished { start: i64, finish: i64 },
}

/// A node's times in milliseconds since the epoch, together because they are read together.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Times {
    es: i64,
    ef: i64,
    ls: i64,
    lf: i64,
}

/// A node waiting in the forward pass: the latest finish of its predecessors so far, and how
/// many have not finished.
#[derive(Clone, Copy, Debug)]
struct Pending {
    es: i64,
    predecessors: u32,
}

/// A set of node numbers with O(1) insert and take-the-smallest: a bitmap with summary levels
/// (bit i of a level's word j says whether word 64·j + i of the level below has a bit set).
#[derive(Debug)]
struct MinSet {
    /// levels[0] has one bit per node; each level above summarises the one below; the last
    /// level is one word.
    levels: Vec<Vec<u64>>,
}

impl MinSet {
    fn new(n: usize) -> MinSet {
        let mut levels = Vec::new();
        let mut bits = n.max(1);
        loop {
            let words = bits.div_ceil(64);
            levels.push(vec![0u64; words]);
            if words == 1 {
                return MinSet { levels };
            }
            bits = words;
        }
    }

    fn insert(&mut self, mut i: usize) {
        for level in &mut self.levels {
            let was_empty = level[i / 64] == 0;
            level[i / 64] |= 1 << (i % 64);
            if !was_empty {
                return;
            }
            i /= 64;
        }
    }

    fn pop_min(&mut self) -> Option<usize> {
        let top = self.levels.len() - 1;
        if self.levels[top][0] == 0 {
            return None;
        }
        let mut i = 0;
        for level in self.levels.iter().rev() {
            i = i * 64 + level[i].trailing_zeros() as usize;
        }
        // Clear the bit, and the summary bits of words that became empty.
        let mut j = i;
        for level in &mut self.levels {
            level[j / 64] &= !(1 << (j % 64));
            if level[j / 64] != 0 {
                break;
            }
            j /= 64;
        }
        Some(i)
    }
}

/// Milestone key → node number: open addressing with linear probing over a flat table, so that
/// resolving hundreds of thousands of dependencies touches about one slot each. A slot keeps the
/// key's first eight bytes and its length, so keys of up to eight bytes are matched without
/// reading the milestone. The hash is fast, not keyed: keys crafted to collide slow a plan down
/// (quadratically), they cannot make it wrong.
struct KeyIndex<'a> {
    slots: Vec<Slot>,
    mask: usize,
    milestones: &'a [Milestone],
    key_order: &'a [u32],
}

#[derive(Clone, Copy)]
struct Slot {
    prefix: u64,
    len: u32,
    node: u32,
}

const EMPTY: u32 = u32::MAX;

/// What the key index keeps of a key.
#[derive(Clone, Copy, Debug)]
struct KeyInfo {
    hash: u64,
    prefix: u64,
    len: u32,
}

impl KeyInfo {
    fn of(key: &[u8]) -> KeyInfo {
        KeyInfo { hash: key_hash(key), prefix: key_prefix(key), len: key_len(key) }
    }
}


impl<'a> KeyIndex<'a> {
    /// Keys are distinct (checked by the caller).
    /// `keys[i]` describes the key of `milestones[i]`, which is node `node[i]`; keys are
    /// distinct (checked by the caller).
    fn new(milestones: &'a [Milestone], key_order: &'a [u32], keys: &[KeyInfo], node: &[u32]) -> KeyIndex<'a> {
        // At most 80 % full, so that probes stay short and the table small.
        let capacity = (key_order.len() * 5 / 4 + 1).next_power_of_two().max(8);
        let mut slots = vec![Slot { prefix: 0, len: 0, node: EMPTY }; capacity];
        let mask = capacity - 1;
        for (key, &v) in keys.iter().zip(node) {
            let mut at = key.hash as usize & mask;
            while slots[at].node != EMPTY {
                at = (at + 1) & mask;
            }
            slots[at] = Slot { prefix: key.prefix, len: key.len, node: v };
        }
        KeyIndex { slots, mask, milestones, key_order }
    }

    fn get(&self, key: &str) -> Option<u32> {
        self.probe(key, key_hash(key.as_bytes()) as usize & self.mask)
    }

    fn probe(&self, key: &str, mut at: usize) -> Option<u32> {
        let bytes = key.as_bytes();
        let (prefix, len) = (key_prefix(bytes), key_len(bytes));
        loop {
            let slot = self.slots[at];
            if slot.node == EMPTY {
                return None;
            }
            if slot.prefix == prefix
                && slot.len == len
                && (bytes.len() <= 8 || self.milestones[self.key_order[slot.node as usize] as usize].key == key)
            {
                return Some(slot.node);
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// The key's first eight bytes, little-endian, zero-padded: matches keys of up to eight bytes.
fn key_prefix(key: &[u8]) -> u64 {
    match key.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => key.iter().enumerate().fold(0, |word, (k, &b)| word | u64::from(b) << (8 * k)),
    }
}

fn key_len(key: &[u8]) -> u32 {
    u32::try_from(key.len()).unwrap_or(u32::MAX)
}

/// FxHash over eight-byte words, then the MurmurHash3 finaliser so that low bits are mixed.
fn key_hash(key: &[u8]) -> u64 {
    let mut hash = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        hash = (hash.rotate_left(5) ^ key_prefix(rest)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// A cycle among the milestones Kahn's algorithm could not order (`stuck`, by plan index: each
/// has a predecessor that is stuck too), in dependency order, starting from its smallest key.
fn find_cycle(milestones: &[Milestone], stuck: &[bool], node: &[u32]) -> Vec<String> {
    let index: HashMap<&str, usize> = milestones.iter().enumerate().map(|(i, m)| (m.key.as_str(), i)).collect();
    let Some(mut v) = (0..milestones.len()).filter(|&i| stuck[i]).min_by_key(|&i| node[i]) else {
        return Vec::new();
    };
    // Walk backwards through stuck predecessors (smallest key first) until a milestone repeats.
    let mut position: HashMap<usize, usize> = HashMap::new();
    let mut walk: Vec<usize> = Vec::new();
    loop {
        if let Some(&p) = position.get(&v) {
            let mut cycle: Vec<usize> = walk[p..].to_vec();
            cycle.reverse();
            let first = (0..cycle.len()).min_by_key(|&k| node[cycle[k]]).unwrap_or(0);
            cycle.rotate_left(first);
            return cycle.into_iter().map(|i| milestones[i].key.clone()).collect();
        }
        position.insert(v, walk.len());
        walk.push(v);
        let next = milestones[v]
            .after
            .iter()
            .filter_map(|key| index.get(key.as_str()).copied())
            .filter(|&p| stuck[p])
            .min_by_key(|&p| node[p]);
        match next {
            Some(p) => v = p,
            None => return walk.into_iter().map(|i| milestones[i].key.clone()).collect(),
        }
    }
}

/// The key nearest to `wanted` by edit distance, when it is near enough to be a likely typo.
fn nearest_key(milestones: &[Milestone], wanted: &str) -> Option<String> {
    let wanted: Vec<char> = wanted.chars().collect();
    let limit = (wanted.len() / 3).max(2);
    milestones
        .iter()
        .map(|m| (edit_distance(&wanted, &m.key.chars().collect::<Vec<_>>()), &m.key))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, key)| key.clone())
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

fn hours_to_ms(hours: f64) -> i64 {
    // `as` saturates; durations beyond the calendar are caught as OutOfRange.
    (hours * MS_PER_HOUR).round() as i64
}

fn ms_to_hours(ms: i64) -> f64 {
    ms as f64 / MS_PER_HOUR
}

/// A time checked to be in range by `schedule`.
fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn hours_after(start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
        start + TimeDelta::milliseconds(hours_to_ms(hours))
    }

    const START: &str = "2020-02-01T08:00:00+08:00";

    fn plan(milestones: Vec<Milestone>) -> Plan {
        Plan { start: t(START), milestones }
    }

    /// The keys of the critical path.
    fn critical(plan: &Plan, schedule: &Schedule) -> Vec<String> {
        schedule.critical_path().iter().map(|&i| plan.milestones[i].key.clone()).collect()
    }

    /// (es, ef, ls, lf, slack) in hours from the plan's start, for the milestone `key`.
    fn hours(plan: &Plan, schedule: &Schedule, key: &str) -> (f64, f64, f64, f64, f64) {
        let i = plan.milestones.iter().position(|m| m.key == key).unwrap();
        let times = schedule.times(i);
        let h = |d: DateTime<Utc>| (d - plan.start).num_milliseconds() as f64 / MS_PER_HOUR;
        (h(times.es), h(times.ef), h(times.ls), h(times.lf), times.slack_h)
    }

    fn blocker(need: i64, milestone: &str, resolves_at: DateTime<Utc>) -> Blocker {
        Blocker { need: NeedId(need), milestone: milestone.to_string(), resolves_at }
    }

    #[test]
    fn a_chain_finishes_after_the_sum_of_its_durations_and_is_all_critical() {
        let p = plan(vec![
            Milestone::new("a", "A", 10.0),
            Milestone::new("b", "B", 5.5).after(["a"]),
            Milestone::new("c", "C", 0.5).after(["b"]),
        ]);
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(s.finish(), hours_after(p.start, 16.0));
        assert_eq!(s.span_h(), 16.0);
        assert_eq!(critical(&p, &s), ["a", "b", "c"]);
        assert_eq!(hours(&p, &s, "b"), (10.0, 15.5, 10.0, 15.5, 0.0));
    }

    #[test]
    fn the_shorter_of_two_parallel_branches_has_the_difference_as_slack() {
        // start → (long 10 h | short 4 h → shorter 2 h) → end 1 h
        let p = plan(vec![
            Milestone::new("start", "Start", 0.0),
            Milestone::new("long", "Long", 10.0).after(["start"]),
            Milestone::new("short", "Short", 4.0).after(["start"]),
            Milestone::new("shorter", "Shorter", 2.0).after(["short"]),
            Milestone::new("end", "End", 1.0).after(["long", "shorter"]),
        ]);
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(s.finish(), hours_after(p.start, 11.0));
        assert_eq!(critical(&p, &s), ["start", "long", "end"]);
        assert_eq!(hours(&p, &s, "short"), (0.0, 4.0, 4.0, 8.0, 4.0));
        assert_eq!(hours(&p, &s, "shorter"), (4.0, 6.0, 8.0, 10.0, 4.0));
        assert_eq!(hours(&p, &s, "end"), (10.0, 11.0, 10.0, 11.0, 0.0));
    }

    #[test]
    fn a_textbook_network_gets_the_textbook_times() {
        // A 3, B 4, C 2 after A, D 5 after A, E 4 after B and C, F 3 after D and E.
        let p = plan(vec![
            Milestone::new("A", "", 3.0),
            Milestone::new("B", "", 4.0),
            Milestone::new("C", "", 2.0).after(["A"]),
            Milestone::new("D", "", 5.0).after(["A"]),
            Milestone::new("E", "", 4.0).after(["B", "C"]),
            Milestone::new("F", "", 3.0).after(["D", "E"]),
        ]);
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(s.span_h(), 12.0);
        assert_eq!(hours(&p, &s, "A"), (0.0, 3.0, 0.0, 3.0, 0.0));
        assert_eq!(hours(&p, &s, "B"), (0.0, 4.0, 1.0, 5.0, 1.0));
        assert_eq!(hours(&p, &s, "C"), (3.0, 5.0, 3.0, 5.0, 0.0));
        assert_eq!(hours(&p, &s, "D"), (3.0, 8.0, 4.0, 9.0, 1.0));
        assert_eq!(hours(&p, &s, "E"), (5.0, 9.0, 5.0, 9.0, 0.0));
        assert_eq!(hours(&p, &s, "F"), (9.0, 12.0, 9.0, 12.0, 0.0));
        assert_eq!(critical(&p, &s), ["A", "C", "E", "F"]);
    }

    #[test]
    fn results_do_not_depend_on_the_order_milestones_are_listed_in() {
        let forward = plan(vec![
            Milestone::new("x", "", 1.0),
            Milestone::new("y", "", 0.0).after(["x"]),
            Milestone::new("z", "", 0.0).after(["x"]),
        ]);
        let mut reversed = forward.clone();
        reversed.milestones.reverse();
        for p in [&forward, &reversed] {
            let s = schedule(p, &[]).unwrap();
            assert_eq!(critical(p, &s), ["x", "y", "z"]);
            let order: Vec<&str> = s.topological_order().iter().map(|&i| p.milestones[i].key.as_str()).collect();
            assert_eq!(order, ["x", "y", "z"]);
        }
    }

    #[test]
    fn zero_duration_milestones_keep_topological_order_not_key_order() {
        let p = plan(vec![Milestone::new("b", "", 0.0), Milestone::new("a", "", 0.0).after(["b"])]);
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(critical(&p, &s), ["b", "a"]);
    }

    #[test]
    fn an_empty_plan_finishes_at_its_start() {
        let p = plan(Vec::new());
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(s.finish(), p.start);
        assert!(s.is_empty());
        assert!(s.critical_path().is_empty());
    }

    #[test]
    fn not_before_delays_a_milestone_and_everything_after_it() {
        let p = plan(vec![
            Milestone::new("order", "", 2.0),
            Milestone::new("deliver", "", 1.0).after(["order"]).not_before(hours_after(t(START), 24.0)),
            Milestone::new("install", "", 3.0).after(["deliver"]),
            Milestone::new("paperwork", "", 5.0),
        ]);
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(hours(&p, &s, "deliver"), (24.0, 25.0, 24.0, 25.0, 0.0));
        assert_eq!(s.span_h(), 28.0);
        // order could finish any time before the delivery date: it has 22 h of slack.
        assert_eq!(hours(&p, &s, "order"), (0.0, 2.0, 22.0, 24.0, 22.0));
        assert_eq!(critical(&p, &s), ["deliver", "install"]);
    }

    #[test]
    fn not_before_earlier_than_the_plan_start_changes_nothing() {
        let p = plan(vec![Milestone::new("a", "", 1.0).not_before(t("2020-01-01T00:00:00Z"))]);
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(s.times(0).es, p.start);
    }

    #[test]
    fn a_cycle_is_refused_naming_its_milestones_in_cycle_order() {
        let p = plan(vec![
            Milestone::new("c", "", 1.0).after(["b"]),
            Milestone::new("a", "", 1.0).after(["c"]),
            Milestone::new("b", "", 1.0).after(["a"]),
            Milestone::new("0-tail", "", 1.0).after(["a"]),
            Milestone::new("free", "", 1.0),
        ]);
        let error = schedule(&p, &[]).unwrap_err();
        assert_eq!(error, PlanError::Cycle { milestones: vec!["a".into(), "b".into(), "c".into()] });
        assert_eq!(
            error.to_string(),
            r#"the plan has a cycle: "a" → "b" → "c" → "a" (each is after the one before it) — remove one of these dependencies"#
        );
    }

    #[test]
    fn a_milestone_after_itself_is_a_cycle_of_one() {
        let p = plan(vec![Milestone::new("a", "", 1.0).after(["a"])]);
        assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::Cycle { milestones: vec!["a".into()] });
    }

    #[test]
    fn an_unknown_dependency_is_refused_with_the_nearest_key_suggested() {
        let p = plan(vec![
            Milestone::new("commissioning", "", 1.0),
            Milestone::new("trial", "", 1.0).after(["comissioning"]),
        ]);
        let error = schedule(&p, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"milestone "trial" is after "comissioning", which is not a milestone of this plan — did you mean "commissioning"?"#
        );
        let far = plan(vec![Milestone::new("trial", "", 1.0).after(["sterilisation"])]);
        assert_eq!(
            schedule(&far, &[]).unwrap_err().to_string(),
            r#"milestone "trial" is after "sterilisation", which is not a milestone of this plan"#
        );
    }

    #[test]
    fn keys_that_share_their_first_bytes_are_told_apart_and_ordered_in_full() {
        let firsts = ["milestone_b", "milestone_a", "milestone", "a\0", "a", "节点一"];
        let mut milestones: Vec<Milestone> = firsts.iter().map(|key| Milestone::new(*key, "", 0.0)).collect();
        milestones.push(Milestone::new("end", "", 1.0).after(firsts));
        let p = plan(milestones);
        let s = schedule(&p, &[]).unwrap();
        let order: Vec<&str> = s.topological_order().iter().map(|&i| p.milestones[i].key.as_str()).collect();
        assert_eq!(order, ["a", "a\0", "milestone", "milestone_a", "milestone_b", "节点一", "end"]);
        assert_eq!(s.critical_path().len(), 7);

        let mut typo = p.clone();
        typo.milestones[6].after.push("milestone_c".into());
        assert_eq!(
            schedule(&typo, &[]).unwrap_err(),
            PlanError::UnknownDependency {
                milestone: "end".into(),
                after: "milestone_c".into(),
                suggestion: Some("milestone_a".into())
            }
        );
        let mut twice = p.clone();
        twice.milestones.push(Milestone::new("milestone_a", "", 2.0));
        assert_eq!(schedule(&twice, &[]).unwrap_err(), PlanError::DuplicateMilestone { key: "milestone_a".into() });
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let p = plan(vec![Milestone::new("a", "", 1.0), Milestone::new("b", "", 1.0), Milestone::new("a", "", 2.0)]);
        assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::DuplicateMilestone { key: "a".into() });
    }

    #[test]
    fn negative_or_nan_durations_are_refused() {
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let p = plan(vec![Milestone::new("a", "", bad)]);
            assert!(matches!(schedule(&p, &[]), Err(PlanError::InvalidDuration { .. })));
        }
    }

    #[test]
    fn a_blocker_resolving_late_moves_the_finish_and_makes_its_milestone_critical() {
        let p = plan(vec![
            Milestone::new("a", "", 10.0),
            Milestone::new("b", "", 2.0),
            Milestone::new("c", "", 1.0).after(["a", "b"]),
        ]);
        // b would finish at 2 h, but its need resolves at 20 h.
        let blockers = [blocker(7, "b", hours_after(p.start, 20.0))];
        let s = schedule(&p, &blockers).unwrap();
        assert_eq!(s.span_h(), 21.0);
        assert_eq!(hours(&p, &s, "b"), (0.0, 20.0, 0.0, 20.0, 0.0));
        assert_eq!(hours(&p, &s, "a"), (0.0, 10.0, 10.0, 20.0, 10.0));
        assert_eq!(critical(&p, &s), ["b", "c"]);
        assert_eq!(s.times(1).held_by, Some(NeedId(7)));
        assert_eq!(s.critical_blockers(), [NeedId(7)]);
    }

    #[test]
    fn a_blocker_resolving_before_the_work_is_done_changes_nothing() {
        let p = plan(vec![Milestone::new("a", "", 10.0)]);
        let s = schedule(&p, &[blocker(1, "a", hours_after(p.start, 3.0))]).unwrap();
        assert_eq!(s.span_h(), 10.0);
        assert_eq!(s.times(0).held_by, None);
        assert!(s.critical_blockers().is_empty());
    }

    #[test]
    fn the_latest_of_several_blockers_holds_a_milestone_and_ties_go_to_the_smallest_need() {
        let p = plan(vec![Milestone::new("a", "", 1.0)]);
        let late = hours_after(p.start, 30.0);
        let blockers = [blocker(9, "a", late), blocker(3, "a", hours_after(p.start, 5.0)), blocker(4, "a", late)];
        let s = schedule(&p, &blockers).unwrap();
        assert_eq!(s.span_h(), 30.0);
        assert_eq!(s.times(0).held_by, Some(NeedId(4)));
    }

    #[test]
    fn a_blocker_on_an_unknown_milestone_is_refused() {
        let p = plan(vec![Milestone::new("a", "", 1.0)]);
        let error = schedule(&p, &[blocker(5, "b", p.start)]).unwrap_err();
        assert_eq!(error.to_string(), r#"need 5 blocks milestone "b", which is not a milestone of this plan"#);
    }

    #[test]
    fn what_if_tells_how_far_first_output_moves_when_a_need_resolves_at_another_time() {
        let p = plan(vec![
            Milestone::new("a", "", 10.0),
            Milestone::new("b", "", 2.0),
            Milestone::new("c", "", 1.0).after(["a", "b"]),
        ]);
        let blockers = [blocker(7, "b", hours_after(p.start, 20.0))];
        let sooner = what_if(&p, &blockers, NeedId(7), hours_after(p.start, 4.0)).unwrap();
        assert_eq!(sooner.old_finish, hours_after(p.start, 21.0));
        assert_eq!(sooner.new_finish, hours_after(p.start, 11.0));
        assert_eq!(sooner.shift_h(), -10.0);
        let later = what_if(&p, &blockers, NeedId(7), hours_after(p.start, 30.0)).unwrap();
        assert_eq!(later.shift_h(), 10.0);
        assert_eq!(what_if(&p, &blockers, NeedId(8), p.start), Err(PlanError::NeedNotBlocking { need: NeedId(8) }));
    }

    #[test]
    fn a_finished_milestone_finishes_at_its_actual_finish() {
        let mut p = plan(vec![Milestone::new("a", "", 10.0), Milestone::new("b", "", 5.0).after(["a"])]);
        p.milestones[0].actual_start = Some(hours_after(p.start, 1.0));
        p.milestones[0].actual_finish = Some(hours_after(p.start, 15.0));
        // A blocker on a finished milestone no longer holds it.
        let s = schedule(&p, &[blocker(1, "a", hours_after(p.start, 100.0))]).unwrap();
        assert_eq!(hours(&p, &s, "a"), (1.0, 15.0, 1.0, 15.0, 0.0));
        assert_eq!(hours(&p, &s, "b"), (15.0, 20.0, 15.0, 20.0, 0.0));
        assert_eq!(s.times(0).held_by, None);
    }

    #[test]
    fn a_finished_milestone_without_an_actual_start_keeps_its_computed_start() {
        let mut p = plan(vec![Milestone::new("a", "", 10.0)]);
        p.milestones[0].actual_finish = Some(hours_after(p.start, 4.0));
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(hours(&p, &s, "a"), (0.0, 4.0, 0.0, 4.0, 0.0));
    }

    #[test]
    fn a_started_milestone_no_longer_waits_for_its_predecessors() {
        let mut p = plan(vec![
            Milestone::new("a", "", 10.0),
            Milestone::new("b", "", 5.0).after(["a"]),
            Milestone::new("c", "", 1.0).after(["b"]),
        ]);
        p.milestones[1].actual_start = Some(hours_after(p.start, 2.0));
        let s = schedule(&p, &[]).unwrap();
        // b's finish may slip 2 h before it moves the plan's finish.
        assert_eq!(hours(&p, &s, "b"), (2.0, 7.0, 4.0, 9.0, 2.0));
        assert_eq!(hours(&p, &s, "c"), (7.0, 8.0, 9.0, 10.0, 2.0));
        // a no longer gates b, so it alone decides the finish.
        assert_eq!(hours(&p, &s, "a"), (0.0, 10.0, 0.0, 10.0, 0.0));
        assert_eq!(critical(&p, &s), ["a"]);
    }

    #[test]
    fn an_actual_finish_before_the_actual_start_is_refused() {
        let mut p = plan(vec![Milestone::new("a", "", 1.0)]);
        p.milestones[0].actual_start = Some(hours_after(p.start, 2.0));
        p.milestones[0].actual_finish = Some(hours_after(p.start, 1.0));
        assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::FinishBeforeStart { milestone: "a".into() });
    }

    #[test]
    fn a_plan_beyond_the_calendar_is_refused() {
        let p = plan(vec![Milestone::new("a", "", 1e300)]);
        assert_eq!(schedule(&p, &[]).unwrap_err(), PlanError::OutOfRange);
    }

    #[test]
    fn an_open_need_resolves_after_its_best_lead_time_or_else_at_its_deadline() {
        let now = t("2020-02-08T10:00:00+08:00");
        let deadline = t("2020-02-12T00:00:00+08:00");
        assert_eq!(expected_resolution(now, Some(36.0), deadline), t("2020-02-09T22:00:00+08:00"));
        assert_eq!(expected_resolution(now, Some(200.0), deadline), t("2020-02-16T18:00:00+08:00"));
        assert_eq!(expected_resolution(now, None, deadline), deadline);
        assert_eq!(expected_resolution(now, Some(f64::NAN), deadline), deadline);
        assert_eq!(expected_resolution(now, Some(-1.0), deadline), deadline);
    }

    /// The reference case (case-quwo-2020.md). Dates the report gives: lines held in 东莞 on
    /// 2020-01-26, lines arrive 2020-01-31, first masks and samples on 2020-02-07, sterilisation
    /// at 万荣 takes 36 h, the first 90,000 masks leave on 2020-02-13. The other durations are
    /// plausible fill, not facts. The same plan is crates/cli/tests/data/quwo-plan.json.
    fn quwo_plan() -> Plan {
        Plan {
            start: t("2020-01-26T08:00:00+08:00"),
            milestones: vec![
                Milestone::new("order_placed", "向东莞订购生产线 production lines ordered in 东莞", 0.0),
                Milestone::new("lines_held", "生产线滞留东莞，跨省协调放行 lines held in 东莞; cross-province release", 72.0)
                    .after(["order_placed"]),
                Milestone::new("lines_arrive", "生产线运抵曲沃 lines shipped to 曲沃 and arrive", 48.0).after(["lines_held"]),
                Milestone::new("raw_materials", "熔喷布、无纺布、热风棉到货 raw materials arrive", 144.0).after(["order_placed"]),
                Milestone::new("skilled_workers", "邻县招募3名技术工人 3 skilled workers found", 48.0).after(["order_placed"]),
                Milestone::new("green_channel", "发改、生态环境、市场监管联合办公 green-channel approvals", 120.0)
                    .after(["order_placed"]),
                Milestone::new("installation", "安装调试 installation and commissioning", 96.0).after(["lines_arrive"]),
                Milestone::new("slitting", "熔喷布分切至1.4米以下 melt-blown slitting", 48.0)
                    .after(["installation", "raw_materials"]),
                Milestone::new("trial_production", "试生产 trial production", 24.0)
                    .after(["slitting", "skilled_workers", "green_channel"]),
                Milestone::new("samples_inspection", "样品送省医疗器械检验中心 samples to the inspection centre", 24.0)
                    .after(["trial_production"]),
                Milestone::new("sterilisation_found", "筛选灭菌企业，选定万荣 sterilisation provider chosen", 48.0)
                    .after(["trial_production"]),
                Milestone::new("first_batch", "生产首批9万只口罩 first 90,000 masks produced", 108.0).after(["trial_production"]),
                Milestone::new("sterilisation", "万荣钴-60辐照灭菌 sterilisation at 万荣 (Co-60)", 36.0)
                    .after(["first_batch", "sterilisation_found", "samples_inspection"]),
                Milestone::new("first_output", "首批9万只口罩出厂 first 90,000 masks leave", 0.0).after(["sterilisation"]),
            ],
        }
    }

    #[test]
    fn the_reference_case_plan_produces_first_output_on_13_february() {
        let p = quwo_plan();
        let s = schedule(&p, &[]).unwrap();
        assert_eq!(s.finish(), t("2020-02-13T08:00:00+08:00"));
        assert_eq!(s.span_h(), 18.0 * 24.0);
        let arrive = p.milestones.iter().position(|m| m.key == "lines_arrive").unwrap();
        assert_eq!(s.times(arrive).ef, t("2020-01-31T08:00:00+08:00"));
        let trial = p.milestones.iter().position(|m| m.key == "trial_production").unwrap();
        assert_eq!(s.times(trial).ef, t("2020-02-07T08:00:00+08:00"));
        assert_eq!(
            critical(&p, &s),
            [
                "order_placed",
                "lines_held",
                "lines_arrive",
                "installation",
                "slitting",
                "trial_production",
                "first_batch",
                "sterilisation",
                "first_output"
            ]
        );
        assert_eq!(hours(&p, &s, "raw_materials").4, 72.0);
        assert_eq!(hours(&p, &s, "sterilisation_found").4, 60.0);
    }

    #[test]
    fn in_the_reference_case_a_sterilisation_provider_found_late_delays_first_output() {
        let p = quwo_plan();
        // Had no provider been found until the 12th at 20:00, the masks would leave a day later.
        let blockers = [blocker(11, "sterilisation_found", t("2020-02-12T20:00:00+08:00"))];
        let s = schedule(&p, &blockers).unwrap();
        assert_eq!(s.finish(), t("2020-02-14T08:00:00+08:00"));
        assert_eq!(s.critical_blockers(), [NeedId(11)]);
        let answer = what_if(&p, &blockers, NeedId(11), t("2020-02-09T08:00:00+08:00")).unwrap();
        assert_eq!(answer.new_finish, t("2020-02-13T08:00:00+08:00"));
        assert_eq!(answer.shift_h(), -24.0);
    }

    /// A random DAG: `n` milestones, edges from lower to higher position in a permutation.
    fn random_plan() -> impl Strategy<Value = Plan> {
        (1usize..8)
            .prop_flat_map(|n| {
                let pairs = n * (n - 1) / 2;
                (
                    Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                    proptest::collection::vec(0u32..20, n),
                    proptest::collection::vec(proptest::option::weighted(0.2, 0u32..40), n),
                    proptest::collection::vec(proptest::bool::weighted(0.35), pairs),
                )
            })
            .prop_map(|(permutation, durations, not_before, edges)| {
                let n = permutation.len();
                let start = t(START);
                let mut milestones: Vec<Milestone> = (0..n)
                    .map(|i| {
                        let mut m = Milestone::new(format!("m{i}"), "", f64::from(durations[i]));
                        m.not_before = not_before[i].map(|h| hours_after(start, f64::from(h)));
                        m
                    })
                    .collect();
                let mut k = 0;
                for a in 0..n {
                    for b in a + 1..n {
                        if edges[k] {
                            let (from, to) = (permutation[a], permutation[b]);
                            let key = milestones[from].key.clone();
                            milestones[to].after.push(key);
                        }
                        k += 1;
                    }
                }
                Plan { start, milestones }
            })
    }

    /// Every path ending at each milestone, enumerated without memory: the longest gives its
    /// earliest start.
    fn brute_force_es(p: &Plan, v: usize) -> i64 {
        let m = &p.milestones[v];
        let own = m.not_before.map_or(p.start, |t| t.max(p.start)).timestamp_millis();
        m.after
            .iter()
            .map(|key| {
                let u = p.milestones.iter().position(|x| &x.key == key).unwrap();
                brute_force_es(p, u) + hours_to_ms(p.milestones[u].duration_h)
            })
            .fold(own, i64::max)
    }

    /// The longest chain of durations from `v` (exclusive) to any end, over every path.
    fn brute_force_tail(p: &Plan, v: usize) -> i64 {
        let key = &p.milestones[v].key;
        p.milestones
            .iter()
            .enumerate()
            .filter(|(_, m)| m.after.contains(key))
            .map(|(s, m)| hours_to_ms(m.duration_h) + brute_force_tail(p, s))
            .fold(0, i64::max)
    }

    proptest! {
        #[test]
        fn random_dags_match_a_brute_force_longest_path(p in random_plan()) {
            let s = schedule(&p, &[]).unwrap();
            let n = p.milestones.len();
            let es: Vec<i64> = (0..n).map(|v| brute_force_es(&p, v)).collect();
            let ef: Vec<i64> = (0..n).map(|v| es[v] + hours_to_ms(p.milestones[v].duration_h)).collect();
            let finish = ef.iter().copied().max().unwrap();
            prop_assert_eq!(s.finish().timestamp_millis(), finish);
            for v in 0..n {
                let times = s.times(v);
                prop_assert_eq!(times.es.timestamp_millis(), es[v]);
                prop_assert_eq!(times.ef.timestamp_millis(), ef[v]);
                // Without not_before, lf = finish − the longest tail; with it, lf is bounded by
                // the successors' latest starts, which the brute force checks below.
                prop_assert!(times.lf.timestamp_millis() <= finish - brute_force_tail(&p, v));
                prop_assert!(times.slack_h >= 0.0);
                prop_assert_eq!(times.critical, times.slack_h == 0.0);
            }
            // Latest finish: the tightest latest start over successors, or the finish.
            for (v, m) in p.milestones.iter().enumerate() {
                let lf = p.milestones.iter().enumerate()
                    .filter(|(_, x)| x.after.contains(&m.key))
                    .map(|(s_, _)| s.times(s_).ls.timestamp_millis())
                    .fold(finish, i64::min);
                prop_assert_eq!(s.times(v).lf.timestamp_millis(), lf);
            }
            // Some milestone finishing last is critical, and the critical path is in dependency order.
            prop_assert!(s.critical_path().iter().any(|&i| ef[i] == finish));
            let position: Vec<usize> = {
                let mut position = vec![0; n];
                for (k, &i) in s.topological_order().iter().enumerate() { position[i] = k; }
                position
            };
            for (v, m) in p.milestones.iter().enumerate() {
                for key in &m.after {
                    let u = p.milestones.iter().position(|x| &x.key == key).unwrap();
                    prop_assert!(position[u] < position[v]);
                }
            }
        }

        #[test]
        fn without_not_before_latest_finishes_match_a_brute_force_longest_tail(p in random_plan()) {
            let mut p = p;
            for m in &mut p.milestones { m.not_before = None; }
            let s = schedule(&p, &[]).unwrap();
            let finish = s.finish().timestamp_millis();
            for v in 0..p.milestones.len() {
                prop_assert_eq!(s.times(v).lf.timestamp_millis(), finish - brute_force_tail(&p, v));
            }
            // Without not_before, the critical milestones form a chain from a first milestone to the finish.
            let cp = s.critical_path();
            prop_assert!(!cp.is_empty());
            prop_assert_eq!(s.times(cp[0]).es, p.start);
        }

        #[test]
        fn adding_an_edge_against_the_order_makes_a_cycle_that_is_named(p in random_plan()) {
            let n = p.milestones.len();
            let s = schedule(&p, &[]).unwrap();
            let order = s.topological_order().to_vec();
            // Find u → … → v reachable with a path, then add v → u.
            for &v in order.iter().rev() {
                if p.milestones[v].after.is_empty() { continue; }
                let u = p.milestones.iter().position(|x| x.key == p.milestones[v].after[0]).unwrap();
                let mut cyclic = p.clone();
                let key_v = cyclic.milestones[v].key.clone();
                cyclic.milestones[u].after.push(key_v);
                match schedule(&cyclic, &[]) {
                    Err(PlanError::Cycle { milestones }) => {
                        prop_assert!(!milestones.is_empty() && milestones.len() <= n);
                        // Each is after the one before it, and the first after the last.
                        for k in 0..milestones.len() {
                            let before = &milestones[(k + milestones.len() - 1) % milestones.len()];
                            let m = cyclic.milestones.iter().find(|x| x.key == milestones[k]).unwrap();
                            prop_assert!(m.after.contains(before));
                        }
                    }
                    other => prop_assert!(false, "expected a cycle, got {:?}", other),
                }
                break;
            }
        }
    }
}
