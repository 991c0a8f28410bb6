//! The critical path method over a plan and its blockers, in named passes: read the milestones,
//! number them by key, attach the blockers, link the dependencies, the forward pass (earliest
//! times, in Kahn's order), the backward pass (latest times), the critical path. Each pass keeps
//! its work in arrays indexed by node number and hands on only what the next ones read.

use super::index::{KeyIndex, KeyInfo};
use super::rules::Work;
use super::{Blocker, Milestone, Plan, PlanError, at, ms_to_hours, MS_PER_HOUR};
use crate::ids::NeedId;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

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
    let start_ms = plan.start.timestamp_millis();
    let Read { work: work_by_index, keys, by_prefix } = read_milestones(milestones)?;
    let Numbering { key_order, node } = number_by_key(milestones, by_prefix)?;
    let index = KeyIndex::new(milestones, &key_order, &keys, &node);
    drop(keys);
    // By node, so that the forward pass reads one record per milestone.
    let mut work: Vec<Work> = key_order.iter().map(|&i| work_by_index[i as usize]).collect();
    drop(work_by_index);
    let blocking_need = attach_blockers(&index, blockers, &mut work)?;
    let (graph, pending) = link_dependencies(milestones, &index, &node, start_ms)?;
    drop(index);
    let (mut times, order) = match forward_pass(&graph, pending, &work) {
        Ok(done) => done,
        Err(pending) => {
            let stuck: Vec<bool> = node.iter().map(|&v| pending[v as usize].predecessors > 0).collect();
            return Err(PlanError::Cycle { milestones: find_cycle(milestones, &stuck, &node) });
        }
    };
    let finish_ms = finish_in_range(&times, start_ms)?;
    let held_by = held_by(&work, &times, &blocking_need);
    backward_pass(&graph, &order, &work, finish_ms, &mut times);
    let critical_path = order
        .iter()
        .filter(|&&v| times[v as usize].ls <= times[v as usize].es)
        .map(|&v| key_order[v as usize] as usize)
        .collect();
    let order = order.iter().map(|&v| key_order[v as usize] as usize).collect();
    Ok(Schedule { start_ms, finish_ms, node, times, held_by, order, critical_path })
}

/// What the first pass keeps of the milestones, by plan index.
struct Read {
    work: Vec<Work>,
    keys: Vec<KeyInfo>,
    /// (the key's first eight bytes, big-endian so that they order as the keys do; plan index)
    by_prefix: Vec<(u64, u32)>,
}

/// One pass over the milestones: validate them and keep what the sort by key, the key index and
/// the forward pass need, so that later passes read only the dependency lists.
fn read_milestones(milestones: &[Milestone]) -> Result<Read, PlanError> {
    let n = milestones.len();
    let mut read = Read { work: Vec::with_capacity(n), keys: Vec::with_capacity(n), by_prefix: Vec::with_capacity(n) };
    for (i, m) in milestones.iter().enumerate() {
        read.work.push(Work::of(m)?);
        let key = KeyInfo::of(m.key.as_bytes());
        read.by_prefix.push((key.prefix.swap_bytes(), i as u32));
        read.keys.push(key);
    }
    Ok(read)
}

/// The milestones numbered by key: `key_order[v]` is the plan index of node v, `node[i]` the
/// node of plan index i.
struct Numbering {
    key_order: Vec<u32>,
    node: Vec<u32>,
}

/// Numbers the milestones by key, so that ties in the topological order go to the smaller
/// number. Sorting by each key's first eight bytes leaves string comparisons to the few keys that
/// share them; only those can be duplicates.
fn number_by_key(milestones: &[Milestone], mut by_prefix: Vec<(u64, u32)>) -> Result<Numbering, PlanError> {
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
    let mut node = vec![0u32; milestones.len()];
    for (v, &i) in key_order.iter().enumerate() {
        node[i as usize] = v as u32;
    }
    Ok(Numbering { key_order, node })
}

/// The blockers on their milestones' work (by node): the latest expected resolution holds each,
/// and the need it is, returned by node.
fn attach_blockers(index: &KeyIndex<'_>, blockers: &[Blocker], work: &mut [Work]) -> Result<Vec<Option<NeedId>>, PlanError> {
    let mut blocking_need: Vec<Option<NeedId>> = vec![None; work.len()];
    for blocker in blockers {
        let Some(v) = index.get(&blocker.milestone) else {
            return Err(PlanError::UnknownBlockedMilestone { need: blocker.need, milestone: blocker.milestone.clone() });
        };
        let v = v as usize;
        work[v].block(&mut blocking_need[v], blocker.need, blocker.resolves_at.timestamp_millis());
    }
    Ok(blocking_need)
}

/// The dependencies as successor lists, compressed: the successors of node u are
/// `succ[offset[u]..offset[u + 1]]`.
struct Graph {
    offset: Vec<u32>,
    succ: Vec<u32>,
}

impl Graph {
    fn successors(&self, u: usize) -> &[u32] {
        &self.succ[self.offset[u] as usize..self.offset[u + 1] as usize]
    }
}

/// Resolves every dependency to a node and links the graph: the successors of each node, and
/// what the forward pass starts from (each node's count of predecessors, its earliest start the
/// plan's).
fn link_dependencies(milestones: &[Milestone], index: &KeyIndex<'_>, node: &[u32], start_ms: i64) -> Result<(Graph, Vec<Pending>), PlanError> {
    let n = milestones.len();
    // The predecessors of the milestone at plan index i are `predecessors[first[i]..first[i + 1]]`,
    // as node numbers.
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
    Ok((Graph { offset, succ }, pending))
}

/// The forward pass along Kahn's order, taking the smallest ready node number (ties by key):
/// every node's earliest start and finish, and the order. When the dependencies go round, the
/// nodes left waiting (`Err`, what was pending).
fn forward_pass(graph: &Graph, mut pending: Vec<Pending>, work: &[Work]) -> Result<(Vec<Times>, Vec<u32>), Vec<Pending>> {
    let n = work.len();
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
        let (start, finish) = work[u].span(pending[u].es);
        times[u].es = start;
        times[u].ef = finish;
        for &s in graph.successors(u) {
            let p = &mut pending[s as usize];
            p.es = p.es.max(finish);
            p.predecessors -= 1;
            if p.predecessors == 0 {
                ready.insert(s as usize);
            }
        }
    }
    if order.len() < n {
        return Err(pending);
    }
    Ok((times, order))
}

/// The plan's finish (the latest earliest finish, the start when there is nothing), once every
/// time is known to be on the calendar.
fn finish_in_range(times: &[Times], start_ms: i64) -> Result<i64, PlanError> {
    let finish_ms = times.iter().map(|t| t.ef).fold(start_ms, i64::max);
    let earliest_ms = times.iter().map(|t| t.es).fold(start_ms, i64::min);
    if DateTime::from_timestamp_millis(finish_ms).is_none() || DateTime::from_timestamp_millis(earliest_ms).is_none() {
        return Err(PlanError::OutOfRange);
    }
    Ok(finish_ms)
}

/// Which need holds each node: the blocker that set its finish.
fn held_by(work: &[Work], times: &[Times], blocking_need: &[Option<NeedId>]) -> Vec<Option<NeedId>> {
    (0..work.len()).map(|v| if work[v].held(times[v].es) { blocking_need[v] } else { None }).collect()
}

/// The backward pass from the plan's finish, in reverse topological order: every node's latest
/// finish and start. A started or finished milestone no longer waits for its predecessors, so it
/// sets no limit on them (`limit` is i64::MAX).
fn backward_pass(graph: &Graph, order: &[u32], work: &[Work], finish_ms: i64, times: &mut [Times]) {
    let mut limit = vec![i64::MAX; work.len()];
    for &u in order.iter().rev() {
        let u = u as usize;
        let latest = graph.successors(u).iter().map(|&s| limit[s as usize]).fold(finish_ms, i64::min);
        let t = &mut times[u];
        t.lf = latest;
        t.ls = latest - (t.ef - t.es);
        if work[u].waits() {
            limit[u] = t.ls;
        }
    }
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
