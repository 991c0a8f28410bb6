//! The bounded record of one screening (issue 12): whatever the size of the registry, a need
//! keeps
//! - the best K feasible candidates, ranked (K = 10 by default);
//! - for each rejection reason, the few capabilities nearest to the need that were rejected for
//!   it (3 by default), so that the record still says "晋北 — too far, 太原 — too slow";
//! - how many capabilities of its kind were screened, how many were feasible, and how many were
//!   rejected for each reason (a capability rejected for two reasons counts under both);
//! - the best candidate of the narrowest ring that holds one, when it is not among the K
//!   (widening takes its owner from there).
//!
//! "Nearest" is as the crow flies: the chord between the two places on the unit sphere, ties by
//! provider. [`bounded_by_scan`] defines the record by assessing every capability;
//! [`crate::registry_index::RegistryIndex::screen_bounded`] answers the same from the index
//! without computing most legs (property-tested to be equal).

use crate::capability::Capability;
use crate::model::Scope;
use crate::routing::{Place, RouteError, scope_between};
use crate::screening::{Candidate, NeedSpec, Reason, Rejection, Screener, rank_key_order};
use crate::travel::TravelModel;
use crate::widening::{rings, widen};
use std::cmp::Ordering;

/// The rejection reasons, in the order screening lists them: the wire codes of [`Reason`].
pub const REASON_CODES: [&str; 5] = ["unavailable", "spec_mismatch", "insufficient_capacity", "too_far", "too_slow"];

/// The position of `reason` in [`REASON_CODES`].
pub fn reason_index(reason: &Reason) -> usize {
    match reason {
        Reason::Unavailable => 0,
        Reason::SpecMismatch(_) => 1,
        Reason::InsufficientCapacity { .. } => 2,
        Reason::TooFar { .. } => 3,
        Reason::TooSlow { .. } => 4,
    }
}

/// How much of a screening is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Feasible candidates kept, best first.
    pub candidates: usize,
    /// Rejections kept per reason, nearest first.
    pub per_reason: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { candidates: 10, per_reason: 3 }
    }
}

/// Capabilities rejected per reason, indexed like [`REASON_CODES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReasonCounts(pub [usize; 5]);

impl ReasonCounts {
    /// The count of a reason by its wire code (0 for an unknown code).
    pub fn get(&self, code: &str) -> usize {
        REASON_CODES.iter().position(|c| *c == code).map_or(0, |i| self.0[i])
    }

    /// (code, count) in the order of [`REASON_CODES`].
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        REASON_CODES.iter().copied().zip(self.0.iter().copied())
    }
}

/// The bounded record of screening one need against a registry.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundedScreening<P> {
    /// Capabilities of the need's kind that were screened.
    pub screened: usize,
    /// How many of them were feasible.
    pub feasible: usize,
    pub counts: ReasonCounts,
    /// The best feasible candidates, ranked (at most [`Bounds::candidates`]).
    pub candidates: Vec<Candidate<P>>,
    /// The best candidate inside the narrowest ring around the enterprise that holds a feasible
    /// one, when it is not among `candidates`.
    pub ring_best: Option<Candidate<P>>,
    /// The nearest rejections for each reason (at most [`Bounds::per_reason`] each), each
    /// capability once with all its reasons, by provider.
    pub rejected: Vec<Rejection<P>>,
}

impl<P> BoundedScreening<P> {
    /// Nothing screened.
    pub fn empty() -> BoundedScreening<P> {
        BoundedScreening { screened: 0, feasible: 0, counts: ReasonCounts::default(), candidates: Vec::new(), ring_best: None, rejected: Vec::new() }
    }

    /// The candidates widening chooses among: the best K and the narrowest ring's best.
    pub fn widening_candidates(&self) -> impl Iterator<Item = &Candidate<P>> {
        self.candidates.iter().chain(self.ring_best.as_ref())
    }
}

/// The squared chord between two points of the unit sphere: what "nearest" compares.
pub fn squared_chord(a: [f64; 3], b: [f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// The order of "nearest": squared chord, then provider.
pub(crate) fn nearness_order<P: Ord>(a: (f64, &P), b: (f64, &P)) -> Ordering {
    a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1))
}

/// The bounded record by a full scan: every capability of the need's kind is assessed.
pub fn bounded_by_scan<'c, P, T, I>(screener: &Screener<'_, T>, need: &NeedSpec, capabilities: I, bounds: Bounds) -> Result<BoundedScreening<P>, RouteError>
where
    P: Ord + Clone + 'c,
    T: TravelModel + ?Sized,
    I: IntoIterator<Item = &'c Capability<P>>,
{
    let center = need.at.unit_vector();
    let mut screened = 0;
    let mut counts = ReasonCounts::default();
    let mut feasible = Vec::new();
    let mut nearest: [Vec<(f64, usize)>; 5] = Default::default();
    let mut rejections = Vec::new();
    for capability in capabilities {
        let Some(assessment) = screener.assess(need, capability) else { continue };
        screened += 1;
        if assessment.is_feasible() {
            feasible.push((capability, assessment));
            continue;
        }
        let d2 = squared_chord(center, capability.at.unit_vector());
        for reason in &assessment.reasons {
            let i = reason_index(reason);
            counts.0[i] += 1;
            nearest[i].push((d2, rejections.len()));
        }
        rejections.push((capability, assessment));
    }
    let feasible_count = feasible.len();
    let ranked = screener.render_ranked(need, feasible, None)?;
    let regions: Vec<_> = ranked.iter().map(|c| c.region).collect();
    let ring_best = match widen(screener.tree, need.region, &regions)?.found {
        Some((_, inside)) => inside.first().filter(|&&i| i >= bounds.candidates).map(|&i| ranked[i].clone()),
        None => None,
    };
    let mut kept: Vec<usize> = Vec::new();
    for list in &mut nearest {
        list.sort_by(|a, b| nearness_order((a.0, &rejections[a.1].0.provider), (b.0, &rejections[b.1].0.provider)));
        kept.extend(list.iter().take(bounds.per_reason).map(|&(_, i)| i));
    }
    kept.sort_unstable();
    kept.dedup();
    let mut rejected: Vec<Rejection<P>> = kept.into_iter().map(|i| screener.rejection(rejections[i].0, rejections[i].1.clone())).collect();
    rejected.sort_by(|a, b| a.provider.cmp(&b.provider));
    let mut candidates = ranked;
    candidates.truncate(bounds.candidates);
    Ok(BoundedScreening { screened, feasible: feasible_count, counts, candidates, ring_best, rejected })
}

/// The ring widening stops at when the narrowest feasible candidate has scope `narrowest`: the
/// first ring around the enterprise as wide as that.
pub(crate) fn ring_scope(screener_tree: &crate::region::RegionTree, need: &NeedSpec, narrowest: Scope) -> Result<Scope, RouteError> {
    let rings = rings(screener_tree, need.region)?;
    Ok(rings.iter().map(|r| r.scope).find(|s| *s >= narrowest).unwrap_or(Scope::National))
}

/// The best of `feasible` (capability, exact assessment) by rank, written out as a candidate.
pub(crate) fn best_of<P: Ord + Clone, T: TravelModel + ?Sized>(
    screener: &Screener<'_, T>,
    need: &NeedSpec,
    feasible: Vec<(&Capability<P>, crate::screening::Assessment)>,
) -> Result<Option<Candidate<P>>, RouteError> {
    let best = feasible.into_iter().min_by(|(ca, a), (cb, b)| {
        rank_key_order((a.lead_time_h, a.road_km, &ca.provider), (b.lead_time_h, b.road_km, &cb.provider))
    });
    best.map(|(capability, assessment)| screener.candidate(need, capability, &assessment)).transpose()
}

/// Scope from the enterprise to a capability's place: the enterprise's place found once per
/// screening, each capability's held by the index ([`Place`] of its region).
pub(crate) struct ScopeFrom<'t> {
    tree: &'t crate::region::RegionTree,
    from: crate::region::RegionCode,
    place: Place,
    /// The index finds places in the embedded tree: with another tree, each scope is computed.
    embedded: bool,
}

impl<'t> ScopeFrom<'t> {
    pub(crate) fn new(tree: &'t crate::region::RegionTree, from: crate::region::RegionCode) -> Result<Self, RouteError> {
        let embedded = std::ptr::eq(tree, crate::region::RegionTree::embedded());
        Ok(ScopeFrom { tree, from, place: Place::of(tree, from)?, embedded })
    }

    /// The scope to a capability in `region`, whose place the index found when it was added
    /// (none for a region the tree does not know: then the error routing gives).
    pub(crate) fn scope(&self, region: crate::region::RegionCode, place: Option<&Place>) -> Result<Scope, RouteError> {
        match place {
            Some(place) if self.embedded => Ok(self.place.scope_to(place)),
            _ => scope_between(self.tree, self.from, region),
        }
    }
}
