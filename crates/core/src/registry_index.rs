//! The registry in memory, indexed by place: one R-tree (rstar) per kind over points of the unit
//! sphere, so that screening a need among a million capabilities looks only near the need.
//!
//! The index answers exactly what a full scan answers. It prefilters conservatively: a
//! capability is looked at only if its road could be within the need's `max_distance_km`
//! (geodesic within [`TravelModel::max_geodesic_km`], widened by the spherical slack of
//! [`SPHERE_BOUND_SLACK`](crate::travel::SPHERE_BOUND_SLACK)); within that radius every
//! capability is screened by the same rules as [`Screener::screen`]. For the best `k`
//! candidates it screens in order of a lower bound on lead time and stops when the bound passes
//! the k-th best exact lead time.

use crate::capability::Capability;
use crate::model::NeedKind;
use crate::routing::RouteError;
use crate::screening::{Assessment, Candidate, NeedSpec, Screener, Screening, passes_without_travel, rank_key_order};
use crate::travel::{LonLat, TravelModel, chord_for_sphere_km, geodesic_lower_bound_km, sphere_km_for_chord, sphere_upper_bound_km};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

type Entry = GeomWithData<[f64; 3], usize>;

/// Capabilities held in memory with a spatial index per kind.
#[derive(Debug)]
pub struct RegistryIndex<P> {
    /// Sorted by kind, then along a Z-order curve, so that a query reads nearby memory.
    capabilities: Vec<Capability<P>>,
    trees: Vec<(NeedKind, RTree<Entry>)>,
}

impl<P> Default for RegistryIndex<P> {
    fn default() -> Self {
        RegistryIndex { capabilities: Vec::new(), trees: Vec::new() }
    }
}

impl<P: Ord + Clone> RegistryIndex<P> {
    /// Indexes `capabilities` (bulk load; about a second per million).
    pub fn build(mut capabilities: Vec<Capability<P>>) -> RegistryIndex<P> {
        capabilities.sort_by_cached_key(|c| (c.kind(), z_order(c.at)));
        let mut trees: Vec<(NeedKind, Vec<Entry>)> = Vec::new();
        for (i, capability) in capabilities.iter().enumerate() {
            let entry = GeomWithData::new(capability.at.unit_vector(), i);
            match trees.last_mut() {
                Some((kind, entries)) if *kind == capability.kind() => entries.push(entry),
                _ => trees.push((capability.kind(), vec![entry])),
            }
        }
        let trees = trees.into_iter().map(|(kind, entries)| (kind, RTree::bulk_load(entries))).collect();
        RegistryIndex { capabilities, trees }
    }

    /// Adds one capability.
    pub fn insert(&mut self, capability: Capability<P>) {
        let entry = GeomWithData::new(capability.at.unit_vector(), self.capabilities.len());
        let kind = capability.kind();
        self.capabilities.push(capability);
        match self.trees.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, tree)) => tree.insert(entry),
            None => self.trees.push((kind, RTree::bulk_load(vec![entry]))),
        }
    }

    pub fn len(&self) -> usize {
        self.capabilities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.capabilities.is_empty()
    }

    /// Every capability, in the index's own order.
    pub fn capabilities(&self) -> &[Capability<P>] {
        &self.capabilities
    }

    fn tree(&self, kind: NeedKind) -> Option<&RTree<Entry>> {
        self.trees.iter().find(|(k, _)| *k == kind).map(|(_, tree)| tree)
    }

    /// Calls `visit(squared chord, capability index)` for every capability of the need's kind
    /// whose road could be within its `max_distance_km` (all of them without a limit).
    fn for_each_nearby(&self, travel: &(impl TravelModel + ?Sized), need: &NeedSpec, mut visit: impl FnMut(f64, usize)) {
        let Some(tree) = self.tree(need.kind()) else { return };
        let center = need.at.unit_vector();
        let squared = |p: &[f64; 3]| (p[0] - center[0]).powi(2) + (p[1] - center[1]).powi(2) + (p[2] - center[2]).powi(2);
        match need.max_distance_km {
            Some(max_km) => {
                let chord = chord_for_sphere_km(sphere_upper_bound_km(travel.max_geodesic_km(max_km))) * (1.0 + 1e-9) + 1e-9;
                for entry in tree.locate_within_distance(center, chord * chord) {
                    visit(squared(entry.geom()), entry.data);
                }
            }
            None => {
                for entry in tree.iter() {
                    visit(squared(entry.geom()), entry.data);
                }
            }
        }
    }

    /// The capabilities of the need's kind whose road could be within its `max_distance_km`.
    pub fn nearby<T: TravelModel + ?Sized>(&self, travel: &T, need: &NeedSpec) -> Vec<&Capability<P>> {
        let mut found = Vec::new();
        self.for_each_nearby(travel, need, |_, i| found.push(i));
        found.sort_unstable();
        found.into_iter().map(|i| &self.capabilities[i]).collect()
    }

    /// Screens the need against the capabilities near it: the candidates are exactly those of a
    /// full scan; rejections are listed only for capabilities inside the prefilter radius.
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
        let travel = screener.travel;
        let legs = need.trip.legs();
        let max_geodesic_km = need.max_distance_km.map(|max| travel.max_geodesic_km(max) * (1.0 + 1e-9));
        // Lower bounds on lead time of every capability that passes the checks not involving travel.
        let mut pool: Vec<Bound> = Vec::new();
        self.for_each_nearby(travel, need, |squared_chord, i| {
            let Some(processing_h) = passes_without_travel(need, &self.capabilities[i]) else { return };
            let geodesic_km = geodesic_lower_bound_km(sphere_km_for_chord(squared_chord.sqrt()));
            if max_geodesic_km.is_some_and(|max| geodesic_km > max) {
                return;
            }
            let lead_time_h = travel.min_hours(geodesic_km) * legs + processing_h;
            if need.max_lead_time_h.is_some_and(|max| lead_time_h > max) {
                return;
            }
            pool.push(Bound { lead_time_h, index: i });
        });
        let Some(limit) = limit else {
            let feasible = pool.iter().filter_map(|b| self.exact(screener, need, b.index)).collect();
            return screener.render_ranked(need, feasible, None);
        };
        // Screen exactly in order of the bound; stop once the bound passes the k-th best.
        let mut heap: BinaryHeap<Reverse<Bound>> = pool.into_iter().map(Reverse).collect();
        let mut best: Vec<(&Capability<P>, Assessment)> = Vec::with_capacity(limit + 1);
        while let Some(Reverse(bound)) = heap.pop() {
            if best.len() == limit && best.last().is_some_and(|(_, worst)| bound.lead_time_h > worst.lead_time_h) {
                break;
            }
            let Some((capability, assessment)) = self.exact(screener, need, bound.index) else { continue };
            let key = (assessment.lead_time_h, assessment.road_km, &capability.provider);
            let at = best.partition_point(|(c, a)| rank_key_order((a.lead_time_h, a.road_km, &c.provider), key) == Ordering::Less);
            if at < limit {
                best.insert(at, (capability, assessment));
                best.truncate(limit);
            }
        }
        screener.render_ranked(need, best, Some(limit))
    }

    fn exact<T: TravelModel + ?Sized>(&self, screener: &Screener<'_, T>, need: &NeedSpec, index: usize) -> Option<(&Capability<P>, Assessment)> {
        let capability = &self.capabilities[index];
        screener.assess(need, capability).filter(Assessment::is_feasible).map(|a| (capability, a))
    }
}

/// A lower bound on the lead time of one capability.
#[derive(Clone, Copy, Debug)]
struct Bound {
    lead_time_h: f64,
    index: usize,
}

impl PartialEq for Bound {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Bound {}
impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bound {
    fn cmp(&self, other: &Self) -> Ordering {
        self.lead_time_h.total_cmp(&other.lead_time_h).then(self.index.cmp(&other.index))
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
            0u8..3,
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
                    _ => CapabilityAttrs::Labour { skill: "机修".into(), headcount: amount, lead_time_h: hours },
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
            ]),
            (100.0f64..125.0, 20.0f64..45.0),
            1.0f64..60_000.0,
            proptest::option::of(0.0f64..1500.0),
            proptest::option::of(0.0f64..150.0),
            any::<bool>(),
        )
            .prop_map(|(requires, (lon, lat), quantity, max_km, max_h, one_way)| {
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

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
        index.insert(Capability {
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
