//! The registry in memory, indexed by place, so that screening a need among a million
//! capabilities looks only at the few that can make its best candidates.
//!
//! Two sets of R-trees (rstar) over points of the unit sphere:
//! - one per kind, holding every capability: [`RegistryIndex::nearby`] and
//!   [`RegistryIndex::screen_nearby`] (candidates and rejections within the need's reach);
//! - one per kind and offer (sterilisation method, material, item, skill, standard; one for
//!   slitting), holding the available capabilities with their least processing hours and their
//!   amount (capacity per day, stock, headcount) as fourth and fifth coordinates:
//!   [`RegistryIndex::best_candidates`] searches these best-first by a lower bound on lead time,
//!   skips whole subtrees without enough stock, and stops as soon as the bound passes the k-th
//!   best exact lead time.
//!
//! The index answers exactly what a full scan answers. Its bounds are conservative: a road is
//! never shorter than [`TravelModel::max_geodesic_km`] allows; the ellipsoidal geodesic is
//! bounded by the spherical distance within the radii of curvature of WGS-84 (`scan_columns`:
//! −0.57 %, +0.46 %);
//! processing is never less than its quantity-free part. Every capability that survives the
//! bounds is screened by the same rules as [`Screener::screen`].

use crate::bounded_screening::{BoundedScreening, Bounds, ReasonCounts, ScopeFrom, best_of, nearness_order, ring_scope, squared_chord};
use crate::capability::{Capability, CapabilityAttrs, Requirement, SterilisationMethod, standard_key, text_key};
use crate::model::{NeedKind, Scope};
use crate::region::RegionTree;
use crate::routing::{Place, RouteError};
use crate::scan_columns::{
    Columns, Limits, Places, Row, UNAVAILABLE, geodesic_lower_bound_km, processing_h as row_processing_h, sphere_upper_bound_km,
};
use crate::screening::{
    Assessment, Candidate, NeedSpec, Screener, Screening, passes_without_travel, processing_h, rank_key_order, spec_check,
};
use crate::travel::{
    LonLat, TravelModel, chord_for_sphere_km, sphere_km_for_chord,
};
use rstar::primitives::GeomWithData;
use rstar::{AABB, ParentNode, RTree, RTreeNode};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

/// A tree entry: a slot and the generation of the slot's capability it was made for. An entry
/// of an older generation is stale (the capability was replaced) and is skipped.
type Tag = (usize, u32);
type PlaceEntry = GeomWithData<[f64; 3], Tag>;
type OfferEntry = GeomWithData<[f64; 5], Tag>;

/// Hours × this = the fourth coordinate of an offer. A power of two, so that the hours come back
/// exactly; its size only shapes the tree (1/256: about a round trip of 2,000 km at 60 km/h per
/// unit of chord, so that place and hours weigh alike).
const HOURS_SCALE: f64 = 1.0 / 256.0;

/// Amount × this = the fifth coordinate of an offer: sterilisation capacity per day, or stock or
/// headcount. A power of two again; 2⁻²⁰ puts a capacity of 100,000 a day at about 0.1.
const AMOUNT_SCALE: f64 = 1.0 / 1_048_576.0;

/// Capabilities held in memory with spatial indexes.
///
/// A capability is known by its provider and kind: [`RegistryIndex::upsert`] replaces the one
/// held for the pair, so a server can apply each change it reads from the store.
#[derive(Debug)]
pub struct RegistryIndex<P> {
    /// Sorted by kind, then along a Z-order curve, so that a query reads nearby memory (as
    /// built; capabilities added later go at the end). Indexed by slot.
    capabilities: Vec<Capability<P>>,
    /// The point on the unit sphere of each slot.
    points: Vec<[f64; 3]>,
    /// The rows of each kind, for screening a whole kind: what the pass reads of each of its
    /// capabilities, column by column.
    members: BTreeMap<NeedKind, Columns>,
    /// The regions of the capabilities, interned for the rows.
    places: Places,
    /// The position of each slot in its kind's rows.
    member_at: Vec<u32>,
    /// The slot of each (provider, kind).
    slots: BTreeMap<(P, NeedKind), usize>,
    /// The offer keys of each slot ([`offer_keys`]), interned: screening a whole kind compares
    /// numbers instead of normalising texts, and reads them from this array rather than from a
    /// heap allocation per slot.
    slot_keys: Vec<SlotKeys>,
    interned: BTreeMap<String, u32>,
    /// The generation of each slot: replacing its capability bumps it, leaving the old tree
    /// entries stale. (rstar's removal can leave a tree that a later insertion panics on, so
    /// entries are never removed; the trees are rebuilt when stale entries outnumber live ones.)
    generations: Vec<u32>,
    live_entries: usize,
    stale_entries: usize,
    /// Entries inserted since the trees were last built.
    added_entries: usize,
    by_kind: BTreeMap<NeedKind, Trees<PlaceEntry>>,
    /// Available capabilities by kind and offer key.
    offers: BTreeMap<(NeedKind, String), Trees<OfferEntry>>,
}

/// The entries of one tree: those bulk-loaded when the index was (re)built, and those added
/// since, inserted one by one into a second tree (rstar can panic inserting into a bulk-loaded
/// tree of more than three dimensions, so the two are kept apart and searched both).
#[derive(Debug)]
struct Trees<T: rstar::RTreeObject> {
    built: RTree<T>,
    added: RTree<T>,
}

impl<T: rstar::RTreeObject> Trees<T> {
    fn bulk_load(entries: Vec<T>) -> Self {
        Trees { built: RTree::bulk_load(entries), added: RTree::new() }
    }

    /// The trees that hold entries.
    fn both(&self) -> impl Iterator<Item = &RTree<T>> {
        [&self.built, &self.added].into_iter().filter(|tree| tree.size() > 0)
    }
}

impl<T: rstar::RTreeObject> Default for Trees<T> {
    fn default() -> Self {
        Trees { built: RTree::new(), added: RTree::new() }
    }
}

impl<P> Default for RegistryIndex<P> {
    fn default() -> Self {
        RegistryIndex {
            capabilities: Vec::new(),
            points: Vec::new(),
            members: BTreeMap::new(),
            places: Places::default(),
            member_at: Vec::new(),
            slots: BTreeMap::new(),
            slot_keys: Vec::new(),
            interned: BTreeMap::new(),
            generations: Vec::new(),
            live_entries: 0,
            stale_entries: 0,
            added_entries: 0,
            by_kind: BTreeMap::new(),
            offers: BTreeMap::new(),
        }
    }
}

impl<P: Ord + Clone> RegistryIndex<P> {
    /// Indexes `capabilities` (bulk load; about a second per million).
    pub fn build(mut capabilities: Vec<Capability<P>>) -> RegistryIndex<P> {
        capabilities.sort_by_cached_key(|c| (c.kind(), z_order(c.at)));
        let points: Vec<[f64; 3]> = capabilities.iter().map(|c| c.at.unit_vector()).collect();
        let mut interned = BTreeMap::new();
        let slot_keys: Vec<SlotKeys> = capabilities.iter().map(|c| intern_keys(&mut interned, &c.attrs)).collect();
        let mut members: BTreeMap<NeedKind, Columns> = BTreeMap::new();
        let mut places = Places::default();
        let mut member_at = Vec::with_capacity(capabilities.len());
        let mut slots = BTreeMap::new();
        for (i, capability) in capabilities.iter().enumerate() {
            let rows = members.entry(capability.kind()).or_default();
            member_at.push(rows.len() as u32);
            rows.push(Row::of(i, capability, points[i], slot_keys[i].one(), places.intern(capability.region)));
            slots.insert((capability.provider.clone(), capability.kind()), i);
        }
        let generations = vec![0; capabilities.len()];
        let mut index = RegistryIndex {
            capabilities,
            points,
            members,
            places,
            member_at,
            slots,
            slot_keys,
            interned,
            generations,
            live_entries: 0,
            stale_entries: 0,
            added_entries: 0,
            by_kind: BTreeMap::new(),
            offers: BTreeMap::new(),
        };
        index.rebuild_trees();
        index
    }

    /// Builds every tree afresh from the live capabilities (bulk load; about a second per million).
    fn rebuild_trees(&mut self) {
        let mut by_kind: BTreeMap<NeedKind, Vec<PlaceEntry>> = BTreeMap::new();
        let mut offers: BTreeMap<(NeedKind, String), Vec<OfferEntry>> = BTreeMap::new();
        let mut live = 0;
        for (i, capability) in self.capabilities.iter().enumerate() {
            let (point, tag) = (self.points[i], (i, self.generations[i]));
            by_kind.entry(capability.kind()).or_default().push(GeomWithData::new(point, tag));
            live += 1;
            if capability.available {
                for key in offer_keys(&capability.attrs) {
                    offers.entry((capability.kind(), key)).or_default().push(offer_entry(capability, point, tag));
                    live += 1;
                }
            }
        }
        self.by_kind = by_kind.into_iter().map(|(kind, entries)| (kind, Trees::bulk_load(entries))).collect();
        self.offers = offers.into_iter().map(|(key, entries)| (key, Trees::bulk_load(entries))).collect();
        self.live_entries = live;
        self.stale_entries = 0;
        self.added_entries = 0;
    }

    /// Adds a capability, or replaces the one held for the same provider and kind.
    pub fn upsert(&mut self, capability: Capability<P>) {
        let kind = capability.kind();
        let point = capability.at.unit_vector();
        let slot = match self.slots.get(&(capability.provider.clone(), kind)) {
            Some(&slot) => {
                let old = self.entries_of(slot);
                self.live_entries -= old;
                self.stale_entries += old;
                self.generations[slot] = self.generations[slot].wrapping_add(1);
                self.slot_keys[slot] = intern_keys(&mut self.interned, &capability.attrs);
                let row = Row::of(slot, &capability, point, self.slot_keys[slot].one(), self.places.intern(capability.region));
                if let Some(rows) = self.members.get_mut(&kind) {
                    rows.set(self.member_at[slot] as usize, row);
                }
                self.capabilities[slot] = capability;
                self.points[slot] = point;
                slot
            }
            None => {
                let slot = self.capabilities.len();
                self.slots.insert((capability.provider.clone(), kind), slot);
                let keys = intern_keys(&mut self.interned, &capability.attrs);
                let place = self.places.intern(capability.region);
                let rows = self.members.entry(kind).or_default();
                self.member_at.push(rows.len() as u32);
                rows.push(Row::of(slot, &capability, point, keys.one(), place));
                self.slot_keys.push(keys);
                self.capabilities.push(capability);
                self.points.push(point);
                self.generations.push(0);
                slot
            }
        };
        // Rebuild once stale entries outnumber live ones, or the added trees grow past a quarter
        // of what was built (their insertion order packs them less well).
        if self.stale_entries > self.live_entries || self.added_entries > 1024 + self.live_entries / 4 {
            self.rebuild_trees();
            return;
        }
        let (capability, tag) = (&self.capabilities[slot], (slot, self.generations[slot]));
        self.by_kind.entry(kind).or_default().added.insert(GeomWithData::new(point, tag));
        if capability.available {
            for key in offer_keys(&capability.attrs) {
                self.offers.entry((kind, key)).or_default().added.insert(offer_entry(capability, point, tag));
            }
        }
        let added = self.entries_of(slot);
        self.live_entries += added;
        self.added_entries += added;
    }

    /// How many tree entries a slot's capability has.
    fn entries_of(&self, slot: usize) -> usize {
        let capability = &self.capabilities[slot];
        1 + if capability.available { offer_keys(&capability.attrs).len() } else { 0 }
    }

    fn is_live(&self, (slot, generation): Tag) -> bool {
        self.generations[slot] == generation
    }

    /// The capability held for `provider` and `kind`.
    pub fn get(&self, provider: &P, kind: NeedKind) -> Option<&Capability<P>> {
        self.slots.get(&(provider.clone(), kind)).map(|&slot| &self.capabilities[slot])
    }

    pub fn len(&self) -> usize {
        self.capabilities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.capabilities.is_empty()
    }

    /// The `n` capabilities of `kind` nearest to `at` as the crow flies, nearest first (ties by
    /// provider).
    pub fn nearest(&self, kind: NeedKind, at: LonLat, n: usize) -> Vec<&Capability<P>> {
        let Some(trees) = self.by_kind.get(&kind) else { return Vec::new() };
        let center = at.unit_vector();
        let mut found: Vec<(f64, usize)> = trees
            .both()
            .flat_map(|tree| tree.nearest_neighbor_iter(&center).filter(|e| self.is_live(e.data)).take(n))
            .map(|e| (squared_chord(center, self.points[e.data.0]), e.data.0))
            .collect();
        found.sort_by(|a, b| nearness_order((a.0, &self.capabilities[a.1].provider), (b.0, &self.capabilities[b.1].provider)));
        found.into_iter().take(n).map(|(_, slot)| &self.capabilities[slot]).collect()
    }

    /// The capabilities of one kind, in the index's order.
    pub fn of_kind(&self, kind: NeedKind) -> impl Iterator<Item = &Capability<P>> {
        self.members.get(&kind).into_iter().flat_map(|rows| &rows.slot).map(|&slot| &self.capabilities[slot as usize])
    }

    /// Every capability, in the index's own order.
    pub fn capabilities(&self) -> &[Capability<P>] {
        &self.capabilities
    }

    /// The capabilities of the need's kind whose road could be within its `max_distance_km` (all
    /// of its kind without a limit), in the index's order.
    pub fn nearby<T: TravelModel + ?Sized>(&self, travel: &T, need: &NeedSpec) -> Vec<&Capability<P>> {
        let Some(trees) = self.by_kind.get(&need.kind()) else { return Vec::new() };
        let mut found: Vec<usize> = Vec::new();
        for tree in trees.both() {
            let entries: Box<dyn Iterator<Item = &PlaceEntry>> = match max_chord(travel, need) {
                Some(chord) => Box::new(tree.locate_within_distance(need.at.unit_vector(), chord * chord)),
                None => Box::new(tree.iter()),
            };
            found.extend(entries.filter(|e| self.is_live(e.data)).map(|e| e.data.0));
        }
        found.sort_unstable();
        found.into_iter().map(|i| &self.capabilities[i]).collect()
    }

    /// Screens the need against the capabilities near it: the candidates are exactly those of a
    /// full scan; rejections are listed only for capabilities within [`RegistryIndex::nearby`].
    pub fn screen_nearby<T: TravelModel + ?Sized>(&self, screener: &Screener<'_, T>, need: &NeedSpec) -> Result<Screening<P>, RouteError> {
        screener.screen(need, self.nearby(screener.travel, need))
    }

    /// The best `limit` candidates (all with `None`), exactly as a full scan with
    /// [`Screener::best_candidates`] ranks them.
    pub fn best_candidates<T: TravelModel + ?Sized>(
        &self,
        screener: &Screener<'_, T>,
        need: &NeedSpec,
        limit: Option<usize>,
    ) -> Result<Vec<Candidate<P>>, RouteError> {
        if limit == Some(0) {
            return Ok(Vec::new());
        }
        let search = Search {
            travel: screener.travel,
            kind: need.kind(),
            quantity: need.quantity,
            center: need.at.unit_vector(),
            legs: need.trip.legs(),
            max_squared_chord: max_chord(screener.travel, need).map(|c| c * c),
            max_geodesic_km: need.max_distance_km.map(|max| screener.travel.max_geodesic_km(max) * (1.0 + 1e-9)),
            max_lead_time_h: need.max_lead_time_h,
        };
        let mut heap: BinaryHeap<Reverse<Visit<'_>>> = BinaryHeap::new();
        for key in requirement_keys(&need.requires) {
            for tree in self.offers.get(&(need.kind(), key)).into_iter().flat_map(Trees::both) {
                search.push_node(&mut heap, tree.root());
            }
        }
        let mut best: Vec<(&Capability<P>, Assessment)> = Vec::new();
        while let Some(Reverse(visit)) = heap.pop() {
            // Nothing left can beat the k-th best: every bound to come is at least this one.
            let full = limit.is_some_and(|limit| best.len() == limit);
            if full && best.last().is_some_and(|(_, worst)| visit.bound_h > worst.lead_time_h) {
                break;
            }
            match visit.step {
                Step::Node(node) => {
                    for child in node.children() {
                        match child {
                            RTreeNode::Parent(parent) => search.push_node(&mut heap, parent),
                            RTreeNode::Leaf(entry) => search.push_leaf(&mut heap, entry),
                        }
                    }
                }
                Step::Offer { tag, geodesic_km } => {
                    if !self.is_live(tag) {
                        continue;
                    }
                    let index = tag.0;
                    // The checks that need no travel, and the processing for this quantity.
                    let Some(processing_h) = passes_without_travel(need, &self.capabilities[index]) else { continue };
                    let bound_h = search.travel.min_hours(geodesic_km) * search.legs + processing_h;
                    if search.within_lead_time(bound_h) {
                        heap.push(Reverse(Visit { bound_h, step: Step::Checked { index } }));
                    }
                }
                Step::Checked { index } => {
                    let capability = &self.capabilities[index];
                    let Some(assessment) = screener.assess(need, capability).filter(Assessment::is_feasible) else { continue };
                    match limit {
                        None => best.push((capability, assessment)),
                        Some(limit) => {
                            let key = (assessment.lead_time_h, assessment.road_km, &capability.provider);
                            let at = best.partition_point(|(c, a)| {
                                rank_key_order((a.lead_time_h, a.road_km, &c.provider), key) == Ordering::Less
                            });
                            if at < limit {
                                best.insert(at, (capability, assessment));
                                best.truncate(limit);
                            }
                        }
                    }
                }
            }
        }
        screener.render_ranked(need, best, limit)
    }

    /// One pass over the rows of the need's kind: the counts, the feasible ones (counted, with the
    /// narrowest scope, and those inside the province with theirs), and the nearest rejections
    /// per reason. `LIMITS`: whether the need has a limit on distance or time.
    fn pass<const LIMITS: bool, T: TravelModel + ?Sized>(
        &self,
        screener: &Screener<'_, T>,
        need: &NeedSpec,
        bounds: Bounds,
        rows: &Columns,
        limits: &Limits,
        scopes: &ScopeFrom<'_>,
    ) -> Result<Pass, RouteError> {
        let kind = need.kind();
        let quantity = need.quantity;
        let center = need.at.unit_vector();
        // Stock and headcount fall short of a quantity; capacity per day only slows.
        let short_kind = matches!(kind, NeedKind::RawMaterial | NeedKind::Equipment | NeedKind::Labour);
        // A capability meets the requirement iff one of its offer keys is a key the requirement
        // accepts — except slitting, whose widths are compared as numbers. The table answers by
        // interned key; a row of several keys asks its slot.
        let wanted: Vec<u32> = requirement_keys(&need.requires).iter().filter_map(|k| self.interned.get(k).copied()).collect();
        let table: Option<Vec<bool>> = match need.requires {
            Requirement::Slitting { .. } => None,
            _ => {
                let mut table = vec![false; self.interned.len()];
                for &key in &wanted {
                    table[key as usize] = true;
                }
                Some(table)
            }
        };
        // The scope to each region, worked out at its first feasible capability.
        let mut scope_of: Vec<u8> = vec![NO_SCOPE; self.places.regions.len()];
        let mut pass = Pass { counts: ReasonCounts::default(), feasible: 0, narrowest: None, inside: Vec::new(), nearest: Default::default() };
        let mut narrowest = NO_SCOPE;
        // A rejection for reason r farther than gate[r] cannot be kept (its list is full).
        let mut gate = [if bounds.per_reason > 0 { f64::INFINITY } else { f64::NEG_INFINITY }; 5];
        let mut counts = [0usize; 5];
        let n = rows.len();
        let (point, amount, hours, key, place, slot) =
            (&rows.point[..n], &rows.amount[..n], &rows.hours[..n], &rows.key[..n], &rows.place[..n], &rows.slot[..n]);
        for i in 0..n {
            let k = key[i];
            let meets = match &table {
                Some(table) => match table.get((k & !UNAVAILABLE) as usize) {
                    Some(&meets) => meets,
                    None => self.slot_keys[slot[i] as usize].any_in(&wanted),
                },
                None => spec_check(&need.requires, &self.capabilities[slot[i] as usize].attrs, None),
            };
            let mut reasons = (k >> 31) | (u32::from(!meets) << 1) | (u32::from(short_kind && amount[i] < quantity) << 2);
            let mut d2 = f64::NAN;
            if LIMITS {
                d2 = squared_chord(center, point[i]);
                let processing = row_processing_h(kind, hours[i], amount[i], quantity);
                let (far, slow) = match limits.settled_by_bands(d2, processing) {
                    Some(settled) => settled,
                    None => limits.far_and_slow_at(screener.travel, need, &self.capabilities[slot[i] as usize], d2, processing),
                };
                reasons |= (u32::from(far) << 3) | (u32::from(slow) << 4);
            }
            if reasons == 0 {
                let at = place[i] as usize;
                let mut scope = scope_of[at];
                if scope == NO_SCOPE {
                    let (region, known) = &self.places.regions[at];
                    scope = scopes.scope(*region, known.as_ref())? as u8;
                    scope_of[at] = scope;
                }
                pass.feasible += 1;
                narrowest = narrowest.min(scope);
                if scope < Scope::National as u8 {
                    pass.inside.push((slot[i] as usize, scope_from(scope)));
                }
                continue;
            }
            for (r, count) in counts.iter_mut().enumerate() {
                *count += ((reasons >> r) & 1) as usize;
            }
            if !LIMITS {
                d2 = squared_chord(center, point[i]);
            }
            // Most rejections are farther than the few kept: a comparison per reason settles them.
            let near = u32::from(d2 <= gate[0])
                | (u32::from(d2 <= gate[1]) << 1)
                | (u32::from(d2 <= gate[2]) << 2)
                | (u32::from(d2 <= gate[3]) << 3)
                | (u32::from(d2 <= gate[4]) << 4);
            let kept = reasons & near;
            if kept == 0 {
                continue;
            }
            let s = slot[i] as usize;
            for r in (0..5).filter(|r| (kept >> r) & 1 == 1) {
                let list = &mut pass.nearest[r];
                let key = (d2, &self.capabilities[s].provider);
                let at = list.partition_point(|&(d, s)| nearness_order((d, &self.capabilities[s].provider), key) == Ordering::Less);
                if at < bounds.per_reason {
                    list.insert(at, (d2, s));
                    list.truncate(bounds.per_reason);
                    if list.len() == bounds.per_reason {
                        gate[r] = list.last().map_or(f64::INFINITY, |&(d, _)| d);
                    }
                }
            }
        }
        pass.counts = ReasonCounts(counts);
        pass.narrowest = (narrowest != NO_SCOPE).then(|| scope_from(narrowest));
        Ok(pass)
    }

    /// The bounded record of screening `need` against every capability of its kind, exactly as
    /// [`crate::bounded_screening::bounded_by_scan`] makes it. One pass over the kind settles
    /// availability, specification and capacity for each capability, and distance and time from
    /// bounds on the sphere wherever the travel model gives them ([`TravelModel::max_leg`]); a
    /// leg is computed only near a limit, for the nearest rejections and for the candidates.
    pub fn screen_bounded<T: TravelModel + ?Sized>(&self, screener: &Screener<'_, T>, need: &NeedSpec, bounds: Bounds) -> Result<BoundedScreening<P>, RouteError> {
        let Some(rows) = self.members.get(&need.kind()) else { return Ok(BoundedScreening::empty()) };
        let scopes = ScopeFrom::new(screener.tree, need.region)?;
        let limits = Limits::of(screener.travel, need);
        let pass = if limits.any() {
            self.pass::<true, T>(screener, need, bounds, rows, &limits, &scopes)?
        } else {
            self.pass::<false, T>(screener, need, bounds, rows, &limits, &scopes)?
        };
        let Pass { counts, feasible: feasible_count, narrowest, inside, nearest } = pass;
        let candidates = self.best_candidates(screener, need, Some(bounds.candidates))?;

        let ring_best = match narrowest {
            None => None,
            Some(narrowest) => {
                let ring = ring_scope(screener.tree, need, narrowest)?;
                let among_best = candidates.iter().map(|c| scopes.scope(c.region, place_of(c.region).as_ref())).collect::<Result<Vec<_>, _>>()?;
                if among_best.iter().any(|scope| *scope <= ring) {
                    None
                } else if ring == Scope::National {
                    // Every feasible capability is in the ring (none kept as best: K is 0).
                    self.best_candidates(screener, need, Some(1))?.into_iter().next()
                } else {
                    let in_ring = inside
                        .iter()
                        .filter(|(_, scope)| *scope <= ring)
                        .filter_map(|&(slot, _)| {
                            let capability = &self.capabilities[slot];
                            screener.assess(need, capability).filter(Assessment::is_feasible).map(|a| (capability, a))
                        })
                        .collect();
                    best_of(screener, need, in_ring)?
                }
            }
        };
        let mut kept: Vec<usize> = nearest.iter().flat_map(|list| list.iter().map(|&(_, slot)| slot)).collect();
        kept.sort_unstable();
        kept.dedup();
        let mut rejected: Vec<_> = kept
            .into_iter()
            .filter_map(|slot| {
                let capability = &self.capabilities[slot];
                screener.assess(need, capability).map(|a| screener.rejection(capability, a))
            })
            .collect();
        rejected.sort_by(|a, b| a.provider.cmp(&b.provider));
        Ok(BoundedScreening { screened: rows.len(), feasible: feasible_count, counts, candidates, ring_best, rejected })
    }
}

/// What one pass over a kind found ([`RegistryIndex::screen_bounded`]).
struct Pass {
    counts: ReasonCounts,
    feasible: usize,
    narrowest: Option<Scope>,
    /// The feasible capabilities inside the province, with their scope.
    inside: Vec<(usize, Scope)>,
    /// The nearest rejections per reason: (squared chord, slot), nearest first.
    nearest: [Vec<(f64, usize)>; 5],
}

/// No scope worked out yet (a [`Scope`] as u8 is 0–3).
const NO_SCOPE: u8 = u8::MAX;

fn scope_from(scope: u8) -> Scope {
    match scope {
        0 => Scope::Local,
        1 => Scope::City,
        2 => Scope::Province,
        _ => Scope::National,
    }
}

/// The bounds of one best-first search.
struct Search<'t, T: TravelModel + ?Sized> {
    travel: &'t T,
    kind: NeedKind,
    quantity: f64,
    center: [f64; 3],
    legs: f64,
    max_squared_chord: Option<f64>,
    max_geodesic_km: Option<f64>,
    max_lead_time_h: Option<f64>,
}

impl<T: TravelModel + ?Sized> Search<'_, T> {
    fn within_lead_time(&self, bound_h: f64) -> bool {
        self.max_lead_time_h.is_none_or(|max| bound_h <= max)
    }

    /// A lower bound on the geodesic for a squared chord, or none beyond the need's reach.
    fn geodesic_within_reach(&self, squared_chord: f64) -> Option<f64> {
        if self.max_squared_chord.is_some_and(|max| squared_chord > max) {
            return None;
        }
        let geodesic_km = geodesic_lower_bound_km(sphere_km_for_chord(squared_chord.sqrt()));
        if self.max_geodesic_km.is_some_and(|max| geodesic_km > max) {
            return None;
        }
        Some(geodesic_km)
    }

    /// A lower bound on processing for offers of at least `least_processing_h` and at most
    /// `most_amount`, or none when no such offer has enough stock or headcount.
    fn processing_bound_h(&self, least_processing_h: f64, most_amount: f64) -> Option<f64> {
        match self.kind {
            // The same expression as `processing_h`, so that a larger capacity never rounds up.
            NeedKind::Sterilisation => Some(least_processing_h.max(24.0 * self.quantity / most_amount)),
            NeedKind::RawMaterial | NeedKind::Equipment | NeedKind::Labour if most_amount < self.quantity => None,
            _ => Some(least_processing_h),
        }
    }

    /// The lower bound on lead time at a point of an offer tree (the lower corner of a node, or a
    /// leaf) at `squared_chord` from the need, or none if nothing there can qualify.
    fn bound_h(&self, squared_chord: f64, least_hours: f64, most_amount: f64) -> Option<(f64, f64)> {
        let geodesic_km = self.geodesic_within_reach(squared_chord)?;
        let processing_h = self.processing_bound_h(least_hours / HOURS_SCALE, most_amount / AMOUNT_SCALE)?;
        let bound_h = self.travel.min_hours(geodesic_km) * self.legs + processing_h;
        self.within_lead_time(bound_h).then_some((bound_h, geodesic_km))
    }

    fn push_node<'a>(&self, heap: &mut BinaryHeap<Reverse<Visit<'a>>>, node: &'a ParentNode<OfferEntry>) {
        let envelope: AABB<[f64; 5]> = node.envelope();
        let (lower, upper) = (envelope.lower(), envelope.upper());
        let squared_chord: f64 = (0..3).map(|d| (self.center[d] - self.center[d].clamp(lower[d], upper[d])).powi(2)).sum();
        if let Some((bound_h, _)) = self.bound_h(squared_chord, lower[3], upper[4]) {
            heap.push(Reverse(Visit { bound_h, step: Step::Node(node) }));
        }
    }

    fn push_leaf(&self, heap: &mut BinaryHeap<Reverse<Visit<'_>>>, entry: &OfferEntry) {
        let p = entry.geom();
        let squared_chord = (0..3).map(|d| (self.center[d] - p[d]).powi(2)).sum();
        if let Some((bound_h, geodesic_km)) = self.bound_h(squared_chord, p[3], p[4]) {
            heap.push(Reverse(Visit { bound_h, step: Step::Offer { tag: entry.data, geodesic_km } }));
        }
    }
}

/// One step of the best-first search, with a lower bound on the lead time of all it leads to.
struct Visit<'a> {
    bound_h: f64,
    step: Step<'a>,
}

enum Step<'a> {
    Node(&'a ParentNode<OfferEntry>),
    /// A capability known by place and least processing only (perhaps a stale entry).
    Offer { tag: Tag, geodesic_km: f64 },
    /// A capability that passed every check but travel.
    Checked { index: usize },
}

impl PartialEq for Visit<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Visit<'_> {}
impl PartialOrd for Visit<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Visit<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bound_h.total_cmp(&other.bound_h)
    }
}

/// The chord of the unit sphere beyond which no road can be within the need's `max_distance_km`.
fn max_chord<T: TravelModel + ?Sized>(travel: &T, need: &NeedSpec) -> Option<f64> {
    need.max_distance_km.map(|max_km| chord_for_sphere_km(sphere_upper_bound_km(travel.max_geodesic_km(max_km))) * (1.0 + 1e-9) + 1e-9)
}

fn offer_entry<P>(capability: &Capability<P>, point: [f64; 3], tag: Tag) -> OfferEntry {
    // Processing for no quantity: the least it can be (sterilisation never beats its turnaround).
    let least_processing_h = processing_h(0.0, &capability.attrs);
    let amount = match &capability.attrs {
        CapabilityAttrs::Sterilisation { capacity_per_day: amount, .. }
        | CapabilityAttrs::RawMaterial { stock: amount, .. }
        | CapabilityAttrs::Equipment { stock: amount, .. }
        | CapabilityAttrs::Labour { headcount: amount, .. } => *amount,
        CapabilityAttrs::Slitting { .. } | CapabilityAttrs::Testing { .. } => 0.0,
    };
    GeomWithData::new([point[0], point[1], point[2], least_processing_h * HOURS_SCALE, amount * AMOUNT_SCALE], tag)
}

/// What a capability offers, as keys a requirement can name: its method, material, item, skill,
/// each standard it tests to; slitting is one offer.
fn offer_keys(attrs: &CapabilityAttrs) -> Vec<String> {
    match attrs {
        CapabilityAttrs::Sterilisation { method, .. } => vec![method.as_str().to_string()],
        CapabilityAttrs::Slitting { .. } => vec![String::new()],
        CapabilityAttrs::Testing { standards, .. } => {
            let mut keys: Vec<String> = standards.iter().map(|s| standard_key(s)).collect();
            keys.sort();
            keys.dedup();
            keys
        }
        CapabilityAttrs::RawMaterial { material: text, .. }
        | CapabilityAttrs::Equipment { item: text, .. }
        | CapabilityAttrs::Labour { skill: text, .. } => vec![text_key(text)],
    }
}

/// The routing place of a region of the embedded tree (the one routing reads).
fn place_of(region: crate::region::RegionCode) -> Option<Place> {
    Place::of(RegionTree::embedded(), region).ok()
}

/// A slot's offer keys, interned: one, held inline (every kind but testing, whose capabilities
/// can test to several standards), or several.
#[derive(Debug)]
enum SlotKeys {
    One(u32),
    Many(Box<[u32]>),
}

impl SlotKeys {
    /// The one key, if there is one.
    fn one(&self) -> Option<u32> {
        match self {
            SlotKeys::One(key) => Some(*key),
            SlotKeys::Many(_) => None,
        }
    }

    /// Whether one of the keys is in `wanted`.
    fn any_in(&self, wanted: &[u32]) -> bool {
        match self {
            SlotKeys::One(key) => wanted.contains(key),
            SlotKeys::Many(keys) => keys.iter().any(|k| wanted.contains(k)),
        }
    }
}

/// A capability's offer keys as interned numbers.
fn intern_keys(interned: &mut BTreeMap<String, u32>, attrs: &CapabilityAttrs) -> SlotKeys {
    let mut keys: Vec<u32> = offer_keys(attrs)
        .into_iter()
        .map(|key| {
            let next = u32::try_from(interned.len()).unwrap_or(u32::MAX);
            *interned.entry(key).or_insert(next)
        })
        .collect();
    match keys.len() {
        1 => SlotKeys::One(keys[0]),
        _ => {
            keys.shrink_to_fit();
            SlotKeys::Many(keys.into_boxed_slice())
        }
    }
}

/// The offer keys that can meet a requirement.
fn requirement_keys(requires: &Requirement) -> Vec<String> {
    match requires {
        Requirement::Sterilisation { methods } => {
            let mut keys: Vec<String> =
                methods.as_deref().unwrap_or(SterilisationMethod::ALL).iter().map(|m| m.as_str().to_string()).collect();
            keys.sort();
            keys.dedup();
            keys
        }
        Requirement::Slitting { .. } => vec![String::new()],
        Requirement::Testing { standard } => vec![standard_key(standard)],
        Requirement::RawMaterial { material: text } | Requirement::Equipment { item: text } | Requirement::Labour { skill: text } => {
            vec![text_key(text)]
        }
    }
}

/// A position on a Z-order curve over longitude and latitude, 16 bits each.
fn z_order(at: LonLat) -> u32 {
    let quantise = |value: f64, low: f64, span: f64| (((value - low) / span).clamp(0.0, 1.0) * 65535.0) as u32;
    let spread = |mut v: u32| {
        v = (v | (v << 8)) & 0x00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    spread(quantise(at.lon, -180.0, 360.0)) | (spread(quantise(at.lat, -90.0, 180.0)) << 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded_screening::bounded_by_scan;
    use crate::capability::{CapabilityAttrs, Requirement, SterilisationMethod};
    use crate::region::{RegionCode, RegionTree};
    use crate::routing::RoutingPolicy;
    use crate::travel::{GeodesicTravel, Leg, TravelSettings, Trip};
    use proptest::prelude::*;

    fn place(lon: f64, lat: f64) -> LonLat {
        LonLat { lon, lat }
    }

    /// Capabilities across China, at the seat of a region chosen by `seed`, nudged by up to ±0.5°.
    fn capability_strategy() -> impl Strategy<Value = Capability<u32>> {
        let seats: Vec<(u32, f64, f64)> = RegionTree::embedded()
            .iter()
            .filter_map(|r| Some((r.code.as_u32(), r.lon?, r.lat?)))
            .collect();
        (
            0u32..10_000,
            proptest::sample::select(seats),
            (-0.5f64..0.5, -0.5f64..0.5),
            proptest::bool::weighted(0.9),
            0u8..5,
            0.0f64..120.0,
            1.0f64..100.0,
        )
            .prop_map(|(id, (code, lon, lat), (dlon, dlat), available, variant, hours, amount)| {
                let attrs = match variant {
                    0 => CapabilityAttrs::Sterilisation {
                        method: SterilisationMethod::ALL[(id % 4) as usize],
                        turnaround_h: hours,
                        capacity_per_day: amount * 1000.0,
                    },
                    1 => CapabilityAttrs::RawMaterial {
                        material: ["熔喷布", "无纺布"][(id % 2) as usize].to_string(),
                        stock: amount,
                        lead_time_h: hours,
                    },
                    2 => CapabilityAttrs::Labour { skill: "机修".into(), headcount: amount, lead_time_h: hours },
                    // Testing to none, one or several standards (a row of several keys).
                    3 => CapabilityAttrs::Testing {
                        standards: ["GB 19083-2010", "YY 0469-2011", "GB2626-2019"].iter().take((id % 4) as usize).map(|s| s.to_string()).collect(),
                        turnaround_h: hours,
                    },
                    _ => CapabilityAttrs::Slitting { max_input_width_m: 1.0 + amount / 100.0, min_output_width_m: amount / 200.0, turnaround_h: hours },
                };
                Capability {
                    provider: id,
                    name: format!("p{id}"),
                    region: RegionCode::new_unchecked(code),
                    at: place(lon + dlon, (lat + dlat).clamp(-90.0, 90.0)),
                    available,
                    attrs,
                }
            })
    }

    fn need_strategy() -> impl Strategy<Value = NeedSpec> {
        (
            proptest::sample::select(vec![
                Requirement::Sterilisation { methods: None },
                Requirement::Sterilisation { methods: Some(vec![SterilisationMethod::Co60]) },
                Requirement::RawMaterial { material: "熔喷布".into() },
                Requirement::Labour { skill: "机修".into() },
                Requirement::Testing { standard: "GB19083-2010".into() },
                Requirement::Slitting { input_width_m: 1.5, output_width_m: 0.2 },
            ]),
            (100.0f64..125.0, 20.0f64..45.0),
            1.0f64..60_000.0,
            proptest::option::of(0.0f64..1500.0),
            proptest::option::of(0.0f64..150.0),
            any::<bool>(),
        )
            .prop_map(|(requires, (lon, lat), quantity, max_km, max_h, one_way)| {
                // Masks by the ten thousand; supplies by the unit, around the stocks drawn above.
                let quantity = if requires.kind() == NeedKind::Sterilisation { quantity } else { 1.0 + quantity % 120.0 };
                let mut need = NeedSpec::new(RegionCode::new_unchecked(141021), place(lon, lat), quantity, requires).unwrap();
                if one_way {
                    need = need.with_trip(Trip::OneWay);
                }
                need.max_distance_km = max_km;
                need.max_lead_time_h = max_h;
                need
            })
    }

    /// A road router stand-in: 1.5 × geodesic at 45 km/h, with the trait's default bounds.
    struct SlowRoads(GeodesicTravel);

    impl TravelModel for SlowRoads {
        fn leg(&self, from: LonLat, to: LonLat) -> Leg {
            let road_km = self.0.geodesic_km(from, to) * 1.5;
            Leg { road_km, hours: road_km / 45.0 }
        }
    }

    /// The same capabilities with provider ids made unique (their position), as the store has them.
    fn unique(mut capabilities: Vec<Capability<u32>>) -> Vec<Capability<u32>> {
        for (i, capability) in capabilities.iter_mut().enumerate() {
            capability.provider = i as u32;
        }
        capabilities
    }

    fn bounds_strategy() -> impl Strategy<Value = Bounds> {
        (0usize..6, 0usize..4).prop_map(|(candidates, per_reason)| Bounds { candidates, per_reason })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_bounded_record_from_the_index_is_the_full_scans(
            capabilities in proptest::collection::vec(capability_strategy(), 0..300),
            need in need_strategy(),
            bounds in bounds_strategy(),
        ) {
            let capabilities = unique(capabilities);
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let scan = bounded_by_scan(&screener, &need, &capabilities, bounds).unwrap();
            let index = RegistryIndex::build(capabilities);
            prop_assert_eq!(index.screen_bounded(&screener, &need, bounds).unwrap(), scan);
        }

        #[test]
        fn the_bounded_record_agrees_under_a_model_without_upper_bounds(
            capabilities in proptest::collection::vec(capability_strategy(), 0..200),
            need in need_strategy(),
            bounds in bounds_strategy(),
        ) {
            let capabilities = unique(capabilities);
            let travel = SlowRoads(GeodesicTravel::new(TravelSettings::default()).unwrap());
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let scan = bounded_by_scan(&screener, &need, &capabilities, bounds).unwrap();
            let index = RegistryIndex::build(capabilities);
            prop_assert_eq!(index.screen_bounded(&screener, &need, bounds).unwrap(), scan);
        }

        #[test]
        fn the_bounded_record_agrees_for_needs_with_both_limits(
            capabilities in proptest::collection::vec(capability_strategy(), 0..400),
            need in need_strategy(),
            max_km in 50.0f64..2500.0,
            max_h in 1.0f64..150.0,
            bounds in bounds_strategy(),
        ) {
            let capabilities = unique(capabilities);
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let need = need.with_max_distance_km(max_km).unwrap().with_max_lead_time_h(max_h).unwrap();
            let scan = bounded_by_scan(&screener, &need, &capabilities, bounds).unwrap();
            let index = RegistryIndex::build(capabilities);
            prop_assert_eq!(index.screen_bounded(&screener, &need, bounds).unwrap(), scan);
        }

        #[test]
        fn an_index_changed_capability_by_capability_answers_as_one_built_afresh(
            first in proptest::collection::vec(capability_strategy(), 0..150),
            changes in proptest::collection::vec((0usize..200, capability_strategy()), 0..120),
            need in need_strategy(),
            limit in 1usize..6,
        ) {
            // The registry as the store holds it: one capability per provider and kind.
            let mut current: BTreeMap<(u32, NeedKind), Capability<u32>> = BTreeMap::new();
            let first = unique(first);
            for capability in &first {
                current.insert((capability.provider, capability.kind()), capability.clone());
            }
            let mut index = RegistryIndex::build(first);
            for (provider, mut capability) in changes {
                // Half of the changes replace a provider's capability (a new place, hours or
                // availability), the others add providers.
                capability.provider = provider as u32;
                current.insert((capability.provider, capability.kind()), capability.clone());
                index.upsert(capability);
            }
            let capabilities: Vec<Capability<u32>> = current.into_values().collect();
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let bounds = Bounds { candidates: limit, per_reason: 2 };
            prop_assert_eq!(index.screen_bounded(&screener, &need, bounds).unwrap(), bounded_by_scan(&screener, &need, &capabilities, bounds).unwrap());
            prop_assert_eq!(index.best_candidates(&screener, &need, Some(limit)).unwrap(), screener.best_candidates(&need, &capabilities, Some(limit)).unwrap());
            prop_assert_eq!(index.nearby(&travel, &need).len() <= capabilities.len(), true);
        }

        #[test]
        fn the_index_returns_exactly_what_the_full_scan_returns(
            capabilities in proptest::collection::vec(capability_strategy(), 0..300),
            need in need_strategy(),
            limit in proptest::option::of(0usize..8),
        ) {
            let travel = GeodesicTravel::default();
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let scan = screener.best_candidates(&need, &capabilities, limit).unwrap();
            let index = RegistryIndex::build(capabilities.clone());
            prop_assert_eq!(&index.best_candidates(&screener, &need, limit).unwrap(), &scan);
            let nearby = index.screen_nearby(&screener, &need).unwrap();
            prop_assert_eq!(&nearby.candidates[..scan.len()], &scan[..]);
        }

        #[test]
        fn the_index_agrees_with_the_scan_under_another_travel_model(
            capabilities in proptest::collection::vec(capability_strategy(), 0..200),
            need in need_strategy(),
            limit in proptest::option::of(1usize..5),
        ) {
            let travel = SlowRoads(GeodesicTravel::new(TravelSettings::default()).unwrap());
            let policy = RoutingPolicy::default();
            let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
            let scan = screener.best_candidates(&need, &capabilities, limit).unwrap();
            let index = RegistryIndex::build(capabilities);
            prop_assert_eq!(index.best_candidates(&screener, &need, limit).unwrap(), scan);
        }
    }

    #[test]
    fn a_capability_just_inside_the_limit_is_found_and_one_just_outside_is_not() {
        let travel = GeodesicTravel::default();
        let policy = RoutingPolicy::default();
        let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
        let quwo = place(111.47586, 35.641086);
        let datong = place(113.298026, 40.075666); // 672.93 km by road
        let make = |id: u32| Capability {
            provider: id,
            name: "大同".into(),
            region: RegionCode::new_unchecked(140213),
            at: datong,
            available: true,
            attrs: CapabilityAttrs::Labour { skill: "机修".into(), headcount: 5.0, lead_time_h: 1.0 },
        };
        let index = RegistryIndex::build(vec![make(1)]);
        let road_km = travel.leg(quwo, datong).road_km;
        let need = NeedSpec::new(RegionCode::new_unchecked(141021), quwo, 1.0, Requirement::Labour { skill: "机修".into() }).unwrap();
        let at_limit = need.clone().with_max_distance_km(road_km).unwrap();
        assert_eq!(index.best_candidates(&screener, &at_limit, Some(1)).unwrap().len(), 1);
        let below = need.with_max_distance_km(road_km - 1e-6).unwrap();
        assert!(index.best_candidates(&screener, &below, Some(1)).unwrap().is_empty());
    }

    #[test]
    fn capabilities_inserted_later_are_found() {
        let travel = GeodesicTravel::default();
        let policy = RoutingPolicy::default();
        let screener = Screener::new(RegionTree::embedded(), &policy, &travel);
        let mut index: RegistryIndex<u32> = RegistryIndex::default();
        index.upsert(Capability {
            provider: 7,
            name: "万荣".into(),
            region: RegionCode::new_unchecked(140822),
            at: place(110.838024, 35.415253),
            available: true,
            attrs: CapabilityAttrs::Sterilisation { method: SterilisationMethod::Co60, turnaround_h: 36.0, capacity_per_day: 1e5 },
        });
        let need = NeedSpec::new(RegionCode::new_unchecked(141021), place(111.47586, 35.641086), 9e4, Requirement::Sterilisation { methods: None })
            .unwrap()
            .with_max_distance_km(400.0)
            .unwrap();
        let found = index.best_candidates(&screener, &need, Some(3)).unwrap();
        assert_eq!(found.iter().map(|c| c.provider).collect::<Vec<_>>(), [7]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn the_z_order_keeps_neighbours_close() {
        assert!(z_order(place(111.0, 35.0)).abs_diff(z_order(place(111.001, 35.001))) < 16);
        assert_eq!(z_order(place(-180.0, -90.0)), 0);
        assert_eq!(z_order(place(180.0, 90.0)), u32::MAX);
    }
}
