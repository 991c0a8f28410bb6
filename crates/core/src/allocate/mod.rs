//! Allocation of scarce capacity (issue 19): a set of needs, each wanting a quantity, against
//! providers, each with a capacity in the planning horizon, joined by arcs that screening found
//! feasible, each with an integer cost per unit. [`solve`] finds the assignment of least total
//! cost, where a need's quantity left unserved costs its `unmet_cost` per unit, so that demand
//! beyond capacity shows up as shortfall and never as failure. [`greedy`] is the first-come
//! baseline (needs in id order, each taking its cheapest arcs while capacity lasts) that the
//! optimum is compared with.
//!
//! The model is a minimum-cost flow, solved exactly by the network simplex method of
//! [`network_simplex`]: providers (supply = capacity) → needs (demand = quantity) on the arcs,
//! each provider → "elsewhere" at cost 0 for the capacity left over, "elsewhere" → each need at
//! its unmet cost for the quantity unserved. Every arc is uncapacitated (a need takes at most
//! its quantity because that is its demand).
//!
//! Rules, in full:
//! - Ids are integers; providers, needs and (need, provider) pairs are each unique. Capacities,
//!   quantities and costs are integers ≥ 0. Anything else is refused with what was wrong
//!   ([`AllocationError`]), before any work.
//! - Determinism: the instance is put in id order first (providers, needs, arcs by need then
//!   provider), so the same instance gives the same answer whatever the order of its lists;
//!   assignments are listed by need then provider, unmet needs by need.
//! - Bounds: every computation is in `i64` and none can overflow, because [`solve`] checks
//!   first that (with `c` the largest cost, `n` the number of nodes = providers + needs + 1)
//!   the total capacity plus the total quantity is at most `i64::MAX`, that Σ quantity × (the
//!   largest cost on that need's arcs and unmet arc) — the largest objective any flow can reach —
//!   is at most `i64::MAX`, and that `2 × n × c + c` — bounding the node potentials (sums of
//!   costs along a path) and reduced costs the method computes — is at most `i64::MAX`;
//!   otherwise it answers [`AllocationError::TooLarge`] saying which bound. In practice: costs up
//!   to 2^40 with a million nodes, quantities to the trillions.
//!
//! This module does no I/O and reads no clock.

mod network_simplex;

use std::fmt;

/// A provider: its id and how many units it can give in the horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provider {
    pub id: i64,
    pub capacity: i64,
}

/// A need: its id, how many units it wants, and what each unit left unserved costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    pub id: i64,
    pub quantity: i64,
    pub unmet_cost: i64,
}

/// A feasible pair: the need may be served by the provider at `cost` per unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arc {
    pub need: i64,
    pub provider: i64,
    pub cost: i64,
}

/// What to allocate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    pub providers: Vec<Provider>,
    pub needs: Vec<Need>,
    pub arcs: Vec<Arc>,
}

/// `quantity` units of `need` from `provider`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub need: i64,
    pub provider: i64,
    pub quantity: i64,
}

/// `quantity` units of `need` that no provider serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unmet {
    pub need: i64,
    pub quantity: i64,
}

/// An allocation: its total cost (assigned units × arc cost + unmet units × unmet cost), the
/// assignments by need then provider, the unmet quantities by need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    pub cost: i64,
    pub assignments: Vec<Assignment>,
    pub unmet: Vec<Unmet>,
}

/// Why an instance cannot be allocated. Messages say what was wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllocationError {
    NegativeCapacity { provider: i64, capacity: i64 },
    NegativeQuantity { need: i64, quantity: i64 },
    NegativeUnmetCost { need: i64, unmet_cost: i64 },
    NegativeCost { need: i64, provider: i64, cost: i64 },
    DuplicateProvider { provider: i64 },
    DuplicateNeed { need: i64 },
    DuplicateArc { need: i64, provider: i64 },
    /// Arc number `arc` (from 0, in input order) names a need that is not in the instance.
    UnknownNeed { arc: usize, need: i64 },
    UnknownProvider { arc: usize, provider: i64 },
    /// The numbers are too large for exact `i64` arithmetic; `bound` names which.
    TooLarge { bound: &'static str },
    /// The method ended in a state its theory excludes (a bug, never bad input).
    Internal { message: String },
}

impl fmt::Display for AllocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocationError::NegativeCapacity { provider, capacity } => {
                write!(f, "provider {provider} has capacity {capacity}: a capacity must be an integer ≥ 0")
            }
            AllocationError::NegativeQuantity { need, quantity } => {
                write!(f, "need {need} has quantity {quantity}: a quantity must be an integer ≥ 0")
            }
            AllocationError::NegativeUnmetCost { need, unmet_cost } => {
                write!(f, "need {need} has unmet_cost {unmet_cost}: a cost must be an integer ≥ 0")
            }
            AllocationError::NegativeCost { need, provider, cost } => {
                write!(f, "the arc from need {need} to provider {provider} has cost {cost}: a cost must be an integer ≥ 0")
            }
            AllocationError::DuplicateProvider { provider } => {
                write!(f, "provider {provider} is listed twice: give each provider once, with its whole capacity")
            }
            AllocationError::DuplicateNeed { need } => write!(f, "need {need} is listed twice: give each need once"),
            AllocationError::DuplicateArc { need, provider } => {
                write!(f, "two arcs join need {need} and provider {provider}: keep one, with its cost")
            }
            AllocationError::UnknownNeed { arc, need } => {
                write!(f, "arc {arc} (counting from 0) names need {need}, which is not among the needs: add it or remove the arc")
            }
            AllocationError::UnknownProvider { arc, provider } => write!(
                f,
                "arc {arc} (counting from 0) names provider {provider}, which is not among the providers: add it or remove the arc"
            ),
            AllocationError::TooLarge { bound } => write!(f, "the numbers are too large to allocate exactly in 64-bit integers: {bound} — use smaller units"),
            AllocationError::Internal { message } => write!(f, "internal error in the allocation solver: {message}"),
        }
    }
}

impl std::error::Error for AllocationError {}

/// An instance checked and put in id order, with arcs as indices.
#[derive(Debug)]
pub(crate) struct Checked {
    pub providers: Vec<Provider>,
    pub needs: Vec<Need>,
    /// (need index, provider index, cost), by need then provider.
    pub arcs: Vec<(u32, u32, i64)>,
}

/// Checks the instance (signs, unique ids, known ids, unique pairs) and puts it in id order.
pub(crate) fn check(instance: &Instance) -> Result<Checked, AllocationError> {
    for p in &instance.providers {
        if p.capacity < 0 {
            return Err(AllocationError::NegativeCapacity { provider: p.id, capacity: p.capacity });
        }
    }
    for n in &instance.needs {
        if n.quantity < 0 {
            return Err(AllocationError::NegativeQuantity { need: n.id, quantity: n.quantity });
        }
        if n.unmet_cost < 0 {
            return Err(AllocationError::NegativeUnmetCost { need: n.id, unmet_cost: n.unmet_cost });
        }
    }
    let too_many = || AllocationError::TooLarge { bound: "more than 2^31 providers, needs or arcs, or 2^32 in all" };
    if instance.providers.len() >= (u32::MAX / 2) as usize || instance.needs.len() >= (u32::MAX / 2) as usize {
        return Err(too_many());
    }
    let mut providers = instance.providers.clone();
    providers.sort_by_key(|p| p.id);
    if let Some(w) = providers.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(AllocationError::DuplicateProvider { provider: w[0].id });
    }
    let mut needs = instance.needs.clone();
    needs.sort_by_key(|n| n.id);
    if let Some(w) = needs.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(AllocationError::DuplicateNeed { need: w[0].id });
    }
    // Provider ids first, first + 1, … (no gaps, as they usually come): an arc's provider is
    // found by subtraction instead of a search.
    let dense_providers = match (providers.first(), providers.last()) {
        (Some(first), Some(last)) if last.id.checked_sub(first.id) == Some(providers.len() as i64 - 1) => Some(first.id),
        _ => None,
    };
    let mut arcs = Vec::with_capacity(instance.arcs.len());
    // Arcs usually come need by need: the last need found is tried first.
    let mut last_need: Option<(i64, usize)> = None;
    for (i, arc) in instance.arcs.iter().enumerate() {
        let need = match last_need {
            Some((id, index)) if id == arc.need => index,
            _ => needs.binary_search_by_key(&arc.need, |n| n.id).map_err(|_| AllocationError::UnknownNeed { arc: i, need: arc.need })?,
        };
        last_need = Some((arc.need, need));
        let provider = match dense_providers {
            Some(first) if arc.provider.checked_sub(first).is_some_and(|k| (0..providers.len() as i64).contains(&k)) => (arc.provider - first) as usize,
            Some(_) => return Err(AllocationError::UnknownProvider { arc: i, provider: arc.provider }),
            None => providers
                .binary_search_by_key(&arc.provider, |p| p.id)
                .map_err(|_| AllocationError::UnknownProvider { arc: i, provider: arc.provider })?,
        };
        if arc.cost < 0 {
            return Err(AllocationError::NegativeCost { need: arc.need, provider: arc.provider, cost: arc.cost });
        }
        // Both fit in u32: checked above.
        arcs.push((need as u32, provider as u32, arc.cost));
    }
    if arcs.windows(2).all(|w| w[0].0 <= w[1].0) {
        // Already need by need (the usual case): only each need's few arcs are put in order.
        for group in arcs.chunk_by_mut(|a, b| a.0 == b.0) {
            group.sort_unstable_by_key(|&(_, p, _)| p);
        }
    } else {
        arcs.sort_unstable_by_key(|&(n, p, _)| (n, p));
    }
    if let Some(w) = arcs.windows(2).find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)) {
        return Err(AllocationError::DuplicateArc { need: needs[w[0].0 as usize].id, provider: providers[w[0].1 as usize].id });
    }
    // The solver numbers nodes and arcs (the instance's, a leftover arc per provider and an
    // unmet arc per need) in u32, u32::MAX meaning none.
    if arcs.len() >= (u32::MAX / 2) as usize || arcs.len() + providers.len() + needs.len() >= u32::MAX as usize {
        return Err(too_many());
    }
    Ok(Checked { providers, needs, arcs })
}

/// The least-cost allocation (see the module documentation for the model and the bounds).
pub fn solve(instance: &Instance) -> Result<Allocation, AllocationError> {
    let checked = check(instance)?;
    let flows = network_simplex::solve(&checked)?;
    allocation_from_flows(&checked, &flows.arc_flow, &flows.unmet)
}

/// The first-come baseline: needs in id order, each taking units from its arcs in order of
/// cost (ties by provider id) while the providers have capacity left; the rest is unmet.
/// Arcs that cost more than the need's unmet cost are taken all the same — first come, first
/// served does not weigh.
pub fn greedy(instance: &Instance) -> Result<Allocation, AllocationError> {
    let checked = check(instance)?;
    bounds(&checked)?;
    let mut left: Vec<i64> = checked.providers.iter().map(|p| p.capacity).collect();
    let mut arc_flow = vec![0i64; checked.arcs.len()];
    let mut unmet = vec![0i64; checked.needs.len()];
    let mut by_cost: Vec<usize> = Vec::new();
    let mut start = 0;
    for (n, need) in checked.needs.iter().enumerate() {
        let end = start + checked.arcs[start..].iter().take_while(|a| a.0 as usize == n).count();
        by_cost.clear();
        by_cost.extend(start..end);
        // Arcs of one need are already by provider: a stable sort by cost keeps provider order for ties.
        by_cost.sort_by_key(|&a| checked.arcs[a].2);
        let mut wanted = need.quantity;
        for &a in &by_cost {
            if wanted == 0 {
                break;
            }
            let p = checked.arcs[a].1 as usize;
            let take = wanted.min(left[p]);
            arc_flow[a] = take;
            left[p] -= take;
            wanted -= take;
        }
        unmet[n] = wanted;
        start = end;
    }
    allocation_from_flows(&checked, &arc_flow, &unmet)
}

/// The total cost of the flows (exact: within the bounds [`bounds`] checked) and the lists.
fn allocation_from_flows(checked: &Checked, arc_flow: &[i64], unmet: &[i64]) -> Result<Allocation, AllocationError> {
    let overflow = || AllocationError::Internal { message: "the total cost overflowed although the bounds were checked".into() };
    let mut cost: i64 = 0;
    let mut assignments = Vec::new();
    for (&(n, p, c), &flow) in checked.arcs.iter().zip(arc_flow) {
        if flow > 0 {
            cost = flow.checked_mul(c).and_then(|x| cost.checked_add(x)).ok_or_else(overflow)?;
            assignments.push(Assignment { need: checked.needs[n as usize].id, provider: checked.providers[p as usize].id, quantity: flow });
        }
    }
    let mut unmet_list = Vec::new();
    for (need, &q) in checked.needs.iter().zip(unmet) {
        if q > 0 {
            cost = q.checked_mul(need.unmet_cost).and_then(|x| cost.checked_add(x)).ok_or_else(overflow)?;
            unmet_list.push(Unmet { need: need.id, quantity: q });
        }
    }
    Ok(Allocation { cost, assignments, unmet: unmet_list })
}

/// Checks the bounds of the module documentation.
pub(crate) fn bounds(checked: &Checked) -> Result<(), AllocationError> {
    let too_large = |bound| AllocationError::TooLarge { bound };
    let capacity = checked.providers.iter().try_fold(0i64, |sum, p| sum.checked_add(p.capacity));
    let quantity = checked.needs.iter().try_fold(0i64, |sum, n| sum.checked_add(n.quantity));
    // Σ capacity + Σ quantity: no flow on any arc exceeds it.
    capacity
        .zip(quantity)
        .and_then(|(c, q)| c.checked_add(q))
        .ok_or_else(|| too_large("the total capacity plus the total quantity exceeds 2^63 − 1"))?;
    // The largest cost on each need's arcs (its unmet arc included).
    let mut need_max: Vec<i64> = checked.needs.iter().map(|n| n.unmet_cost).collect();
    for &(n, _, c) in &checked.arcs {
        let m = &mut need_max[n as usize];
        *m = (*m).max(c);
    }
    let max_cost = need_max.iter().copied().max().unwrap_or(0);
    checked
        .needs
        .iter()
        .zip(&need_max)
        .try_fold(0i64, |sum, (n, &m)| n.quantity.checked_mul(m).and_then(|x| sum.checked_add(x)))
        .ok_or_else(|| too_large("Σ quantity × the need's largest cost (the largest possible total cost) exceeds 2^63 − 1"))?;
    let nodes = i64::try_from(checked.providers.len() + checked.needs.len() + 1).map_err(|_| too_large("too many nodes"))?;
    nodes
        .checked_mul(max_cost)
        .and_then(|path| path.checked_mul(2))
        .and_then(|x| x.checked_add(max_cost))
        .ok_or_else(|| too_large("2 × nodes × largest cost + largest cost (the largest potential difference) exceeds 2^63 − 1"))?;
    Ok(())
}

#[cfg(test)]
mod tests;
