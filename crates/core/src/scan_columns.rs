//! What screening a whole kind reads of each capability, column by column, and how one pass
//! settles distance and time limits from bounds ([`crate::registry_index::RegistryIndex::screen_bounded`]).
//!
//! A pass over a kind reads, per capability, its offer key with its availability (4 bytes), its
//! amount (8) and, for a need with limits, its point (24) and hours (8): the columns are apart so
//! that a pass streams only those, about a third of what one struct per capability held. The
//! slot and the place are read only for the few capabilities that need them.

use crate::capability::{Capability, CapabilityAttrs};
use crate::model::NeedKind;
use crate::region::RegionCode;
use crate::routing::Place;
use crate::screening::NeedSpec;
use crate::travel::{Leg, LonLat, TravelModel, sphere_km_for_chord};
use std::collections::BTreeMap;

/// [`Columns::key`] of a capability with several offer keys (testing to several standards) or
/// none: then the index's `slot_keys` say.
pub(crate) const SEVERAL_KEYS: u32 = 0x7FFF_FFFF;

/// The bit of [`Columns::key`] set for an unavailable capability.
pub(crate) const UNAVAILABLE: u32 = 0x8000_0000;

/// The rows of one kind. Row `i` of every column is the same capability.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    /// The point on the unit sphere.
    pub(crate) point: Vec<[f64; 3]>,
    /// Capacity per day (sterilisation), stock (raw material, equipment) or headcount (labour);
    /// 0 for the other kinds.
    pub(crate) amount: Vec<f64>,
    /// Turnaround (sterilisation, slitting, testing) or lead time (the others), hours.
    pub(crate) hours: Vec<f64>,
    /// The interned offer key (or [`SEVERAL_KEYS`]), with [`UNAVAILABLE`] set for an
    /// unavailable capability.
    pub(crate) key: Vec<u32>,
    /// The capability's place ([`Places`]).
    pub(crate) place: Vec<u32>,
    pub(crate) slot: Vec<u32>,
}

/// One row, for [`Columns::push`] and [`Columns::set`].
pub(crate) struct Row {
    point: [f64; 3],
    amount: f64,
    hours: f64,
    key: u32,
    place: u32,
    slot: u32,
}

impl Row {
    /// The row of `capability` at `slot`, with its interned key (`None`: several or none).
    pub(crate) fn of<P>(slot: usize, capability: &Capability<P>, point: [f64; 3], key: Option<u32>, place: u32) -> Row {
        let (amount, hours) = match &capability.attrs {
            CapabilityAttrs::Sterilisation { turnaround_h, capacity_per_day, .. } => (*capacity_per_day, *turnaround_h),
            CapabilityAttrs::Slitting { turnaround_h, .. } | CapabilityAttrs::Testing { turnaround_h, .. } => (0.0, *turnaround_h),
            CapabilityAttrs::RawMaterial { stock: amount, lead_time_h, .. }
            | CapabilityAttrs::Equipment { stock: amount, lead_time_h, .. }
            | CapabilityAttrs::Labour { headcount: amount, lead_time_h, .. } => (*amount, *lead_time_h),
        };
        // A key too large to hold beside the bit reads as "several": the exact keys are asked then.
        let key = key.filter(|k| *k < SEVERAL_KEYS).unwrap_or(SEVERAL_KEYS);
        let key = if capability.available { key } else { key | UNAVAILABLE };
        Row { point, amount, hours, key, place, slot: slot as u32 }
    }
}

impl Columns {
    pub(crate) fn len(&self) -> usize {
        self.slot.len()
    }

    pub(crate) fn push(&mut self, row: Row) {
        self.point.push(row.point);
        self.amount.push(row.amount);
        self.hours.push(row.hours);
        self.key.push(row.key);
        self.place.push(row.place);
        self.slot.push(row.slot);
    }

    pub(crate) fn set(&mut self, at: usize, row: Row) {
        self.point[at] = row.point;
        self.amount[at] = row.amount;
        self.hours[at] = row.hours;
        self.key[at] = row.key;
        self.place[at] = row.place;
        self.slot[at] = row.slot;
    }
}

/// The regions capabilities are in, interned: a row holds a number, and a screening works out
/// the scope to each region once.
#[derive(Debug, Default)]
pub(crate) struct Places {
    ids: BTreeMap<RegionCode, u32>,
    /// The region and its routing place in the embedded tree (none for a region it does not know).
    pub(crate) regions: Vec<(RegionCode, Option<Place>)>,
}

impl Places {
    pub(crate) fn intern(&mut self, region: RegionCode) -> u32 {
        let next = self.regions.len() as u32;
        let id = *self.ids.entry(region).or_insert(next);
        if id == next {
            self.regions.push((region, crate::routing::Place::of(crate::region::RegionTree::embedded(), region).ok()));
        }
        id
    }
}

/// Processing hours for a capability of `kind`, from its row: the same expression as
/// [`crate::screening::processing_h`].
#[inline]
pub(crate) fn processing_h(kind: NeedKind, hours: f64, amount: f64, quantity: f64) -> f64 {
    match kind {
        NeedKind::Sterilisation => hours.max(24.0 * quantity / amount),
        _ => hours,
    }
}

/// The ellipsoidal geodesic between two places is at least this × the great-circle distance
/// between their points on the sphere of the mean radius ([`sphere_km_for_chord`]), and at most
/// [`SPHERE_HIGH`] × it: mapping the ellipsoid to that sphere by latitude and longitude scales
/// every length by between M/R and N/R (M ≤ N, the radii of curvature in the meridian and the
/// prime vertical: ds² = M²dφ² + N²cos²φ dλ² against R²dφ² + R²cos²φ dλ²), and on WGS-84
/// M ≥ 6335.439 km (at the equator) and N ≤ 6399.594 km (at the poles), R = 6371.0088 km: the
/// geodesic is no shorter than 0.994414 × the image of itself on the sphere, the image of the
/// great circle no longer than 1.004485 × it. A little room is left on either side. Half the
/// slack of [`crate::travel::SPHERE_BOUND_SLACK`], so that half as many legs are computed near
/// a limit.
const SPHERE_LOW: f64 = 0.9943;
const SPHERE_HIGH: f64 = 1.0046;

/// A lower bound on the ellipsoidal geodesic for a great-circle distance on the mean sphere.
pub(crate) fn geodesic_lower_bound_km(sphere_km: f64) -> f64 {
    sphere_km * SPHERE_LOW
}

/// An upper bound on the ellipsoidal geodesic for a great-circle distance on the mean sphere.
pub(crate) fn geodesic_upper_bound_km(sphere_km: f64) -> f64 {
    sphere_km * SPHERE_HIGH
}

/// An upper bound on the great-circle distance on the mean sphere for an ellipsoidal geodesic.
pub(crate) fn sphere_upper_bound_km(geodesic_km: f64) -> f64 {
    geodesic_km / SPHERE_LOW
}

/// Bounds on the ellipsoidal geodesic between `a` and `b`, `sphere_km` apart on the mean sphere,
/// from the radii of curvature at the latitudes between them: tighter than
/// [`geodesic_lower_bound_km`] and [`geodesic_upper_bound_km`] away from the equator and the
/// poles (about ±0.25 % at 35°N instead of −0.57 %, +0.46 %).
///
/// The lower bound: the geodesic's image on the sphere joins the two points, so it is at least
/// the great circle; and every element of the geodesic is at least M(φ)/R × its image, M growing
/// with |φ|. Between two places of one hemisphere the shortest geodesic never comes nearer the
/// equator than the nearer of the two (the sine of its reduced latitude is a half sine wave along
/// it), so M of that latitude bounds it. The upper bound: the geodesic is no longer than the
/// great circle's image on the ellipsoid, every element of which is at most N(φ)/R × it, N
/// growing with |φ|, and the great circle rises at most half its angle above the higher place.
pub(crate) fn geodesic_bounds_km(a: LonLat, b: LonLat, sphere_km: f64) -> (f64, f64) {
    const A: f64 = 6378.137;
    const E2: f64 = 0.006_694_379_990_141_317; // f(2 − f), f = 1/298.257223563
    let mean = crate::travel::MEAN_EARTH_RADIUS_KM;
    let (la, lb) = (a.lat.to_radians(), b.lat.to_radians());
    // Of one hemisphere (an arc through a pole or the equator gets the global bounds).
    let nearest = if la * lb > 0.0 { la.abs().min(lb.abs()) } else { 0.0 };
    let farthest = (la.abs().max(lb.abs()) + 0.5 * sphere_km / mean).min(std::f64::consts::FRAC_PI_2);
    let w = |phi: f64| 1.0 - E2 * phi.sin().powi(2);
    let m = A * (1.0 - E2) / w(nearest).powf(1.5);
    let n = A / w(farthest).sqrt();
    // Room for rounding, and never looser than the global bounds.
    let low = (sphere_km * (m / mean) * (1.0 - 1e-6)).max(geodesic_lower_bound_km(sphere_km));
    let high = (sphere_km * (n / mean) * (1.0 + 1e-6)).min(geodesic_upper_bound_km(sphere_km));
    (low, high)
}

/// Relative room for rounding when a bound settles a limit: a bound within it computes the leg.
const ROUNDING: f64 = 1e-9;

/// Bands of chord between 0 and the chord beyond which every limit is settled.
const BANDS: usize = 512;

/// A need's limits on distance and time, and how one pass settles them from bounds.
pub(crate) struct Limits {
    /// (max road km, the farthest geodesic a road within it can span).
    distance: Option<(f64, f64)>,
    lead_time_h: Option<f64>,
    legs: f64,
    /// Beyond this squared chord, a capability is too far (given a distance limit) and too
    /// slow (given a time limit) whatever its processing.
    pub(crate) settled_beyond: f64,
    /// Chord → band: × this.
    per_chord: f64,
    /// The chord at the edge of each band: i × the width, for i in 0..=BANDS.
    edges: Vec<f64>,
    /// What each band settles (between its edges).
    bands: Vec<Band>,
    /// What is settled beyond `settled_beyond`.
    beyond: Band,
}

/// What the bounds settle for every capability whose chord lies in one band: too far or not
/// (or unknown), and too slow for a processing above `slow_above`, not for one below `fast_below`.
#[derive(Clone, Copy)]
pub(crate) struct Band {
    far: bool,
    far_known: bool,
    slow_above: f64,
    fast_below: f64,
}

/// The bounds at one chord: every place at this chord or beyond is at least `low_km` away
/// (ellipsoidal geodesic) and `min_hours` one way; every place at it or nearer is reached by a
/// road of at most `upper.road_km` in at most `upper.hours`.
#[derive(Clone, Copy)]
struct Edge {
    low_km: f64,
    min_hours: f64,
    upper: Option<Leg>,
}

impl Edge {
    fn at<T: TravelModel + ?Sized>(travel: &T, chord: f64) -> Edge {
        let sphere = sphere_km_for_chord(chord);
        let low_km = geodesic_lower_bound_km(sphere);
        Edge { low_km, min_hours: travel.min_hours(low_km), upper: travel.max_leg(geodesic_upper_bound_km(sphere)) }
    }
}

impl Limits {
    pub(crate) fn of<T: TravelModel + ?Sized>(travel: &T, need: &NeedSpec) -> Limits {
        let mut limits = Limits {
            distance: need.max_distance_km.map(|max| (max, travel.max_geodesic_km(max))),
            lead_time_h: need.max_lead_time_h,
            legs: need.trip.legs(),
            settled_beyond: f64::INFINITY,
            per_chord: 0.0,
            edges: Vec::new(),
            bands: Vec::new(),
            // Too far given a distance limit; too slow given a time limit, for any processing
            // of 0 or more (a NaN is left to the row's own bounds).
            beyond: Band {
                far: need.max_distance_km.is_some(),
                far_known: true,
                slow_above: if need.max_lead_time_h.is_some() { -f64::MIN_POSITIVE } else { f64::INFINITY },
                fast_below: if need.max_lead_time_h.is_some() { f64::NEG_INFINITY } else { f64::INFINITY },
            },
        };
        if !limits.any() {
            return limits;
        }
        // The chord from which every limit is settled whatever the processing (≥ 0): both
        // predicates only become true as the chord grows (the bounds grow with it).
        let settled = |chord: f64| {
            let edge = Edge::at(travel, chord);
            let (far, slow) = limits.settle(edge.low_km, edge.min_hours, None, 0.0);
            (limits.distance.is_none() || far == Some(true)) && (limits.lead_time_h.is_none() || slow == Some(true))
        };
        let top = if settled(2.0) {
            let (mut low, mut high) = (0.0f64, 2.0f64);
            for _ in 0..60 {
                let mid = 0.5 * (low + high);
                if settled(mid) {
                    high = mid;
                } else {
                    low = mid;
                }
            }
            high
        } else {
            2.0
        };
        // Past `top`, rows are settled without their band (a little further, for rounding).
        if top < 2.0 {
            limits.settled_beyond = (top * (1.0 + 1e-9)).powi(2);
        }
        let band_width = (top / BANDS as f64).max(f64::MIN_POSITIVE);
        limits.per_chord = 1.0 / band_width;
        limits.edges = (0..=BANDS).map(|i| i as f64 * band_width).collect();
        let edges: Vec<Edge> = limits.edges.iter().map(|&chord| Edge::at(travel, chord)).collect();
        limits.bands = edges
            .windows(2)
            .map(|pair| {
                let (inner, outer) = (pair[0], pair[1]);
                let far = limits.settle(inner.low_km, inner.min_hours, outer.upper, 0.0).0;
                // Too slow for processing p when min_hours × legs + p passes the limit (with room),
                // not when the upper bound's hours × legs + p stay below it: the thresholds on p.
                let (slow_above, fast_below) = match limits.lead_time_h {
                    // Never too slow.
                    None => (f64::INFINITY, f64::INFINITY),
                    Some(max) => {
                        let hi = max * (1.0 + ROUNDING) + ROUNDING - inner.min_hours * limits.legs;
                        let lo = outer.upper.map_or(f64::NEG_INFINITY, |u| max * (1.0 - ROUNDING) - ROUNDING - u.hours * limits.legs);
                        // Room again for the rounding of the subtraction.
                        (hi + hi.abs() * ROUNDING + ROUNDING, lo - lo.abs() * ROUNDING - ROUNDING)
                    }
                };
                Band { far: far == Some(true), far_known: far.is_some(), slow_above, fast_below }
            })
            .collect();
        limits
    }

    pub(crate) fn any(&self) -> bool {
        self.distance.is_some() || self.lead_time_h.is_some()
    }

    /// Too far and too slow for a capability at squared chord `d2` with `processing` hours,
    /// where the bands settle them. Without a branch on the answer: a pass has many rows on
    /// either side of a limit, in no order.
    #[inline]
    pub(crate) fn settled_by_bands(&self, d2: f64, processing: f64) -> Option<(bool, bool)> {
        if d2 > self.settled_beyond {
            let band = &self.beyond;
            let slow = processing > band.slow_above;
            return (slow | (processing < band.fast_below)).then_some((band.far, slow));
        }
        let beyond = false;
        let chord = d2.sqrt();
        let i = ((chord * self.per_chord) as usize).min(BANDS - 1);
        // The band with edge i ≤ chord ≤ edge i + 1, whatever the rounding (else the row's own bounds).
        let i = i - usize::from((i > 0) & (chord < self.edges[i]));
        let inside = (chord >= self.edges[i]) & (chord <= self.edges[i + 1]);
        let band = if beyond { &self.beyond } else { &self.bands[i] };
        let slow = processing > band.slow_above;
        let known = (beyond | inside) & band.far_known & (slow | (processing < band.fast_below));
        known.then_some((band.far, slow))
    }

    /// Too far and too slow, where bounds settle them: `low_km` and `min_hours` bound the
    /// geodesic and the one-way hours from below, `upper` the leg from above.
    fn settle(&self, low_km: f64, min_hours: f64, upper: Option<Leg>, processing: f64) -> (Option<bool>, Option<bool>) {
        let far = match self.distance {
            None => Some(false),
            Some((_, max_geodesic)) if low_km > max_geodesic * (1.0 + ROUNDING) => Some(true),
            Some((max, _)) if upper.is_some_and(|u| u.road_km * (1.0 + ROUNDING) < max) => Some(false),
            Some(_) => None,
        };
        let slow = match self.lead_time_h {
            None => Some(false),
            Some(max) if min_hours * self.legs + processing > max * (1.0 + ROUNDING) + ROUNDING => Some(true),
            Some(max) if upper.is_some_and(|u| u.hours * self.legs + processing < max * (1.0 - ROUNDING) - ROUNDING) => Some(false),
            Some(_) => None,
        };
        (far, slow)
    }

    /// Too far and too slow, exactly as [`crate::screening::Screener::assess`] finds: from the
    /// capability's own bounds, or its leg.
    pub(crate) fn far_and_slow_at<P, T: TravelModel + ?Sized>(&self, travel: &T, need: &NeedSpec, capability: &Capability<P>, d2: f64, processing: f64) -> (bool, bool) {
        let sphere = sphere_km_for_chord(d2.sqrt());
        let (low, high) = geodesic_bounds_km(need.at, capability.at, sphere);
        let (far, slow) = self.settle(low, travel.min_hours(low), travel.max_leg(high), processing);
        match (far, slow) {
            (Some(far), Some(slow)) => (far, slow),
            _ => {
                // The same arithmetic as `Screener::assess`.
                let leg = travel.leg(need.at, capability.at);
                let lead_time_h = leg.hours * need.trip.legs() + processing;
                (self.distance.is_some_and(|(max, _)| leg.road_km > max), self.lead_time_h.is_some_and(|max| lead_time_h > max))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::Requirement;
    use crate::region::RegionCode;
    use crate::travel::{GeodesicTravel, TravelSettings, Trip};
    use proptest::prelude::*;

    /// A road router stand-in with the trait's default bounds (no upper bound, no least hours).
    struct SlowRoads(GeodesicTravel);

    impl TravelModel for SlowRoads {
        fn leg(&self, from: LonLat, to: LonLat) -> Leg {
            let road_km = self.0.geodesic_km(from, to) * 1.5;
            Leg { road_km, hours: road_km / 45.0 }
        }
    }

    /// Whether the bands' verdict, where they give one, is the leg's, for a capability at `to`.
    fn agrees<T: TravelModel + ?Sized>(travel: &T, need: &NeedSpec, to: LonLat, processing: f64) -> Result<(), TestCaseError> {
        let limits = Limits::of(travel, need);
        let d2 = squared_chord(need.at.unit_vector(), to.unit_vector());
        let leg = travel.leg(need.at, to);
        let exact = (
            need.max_distance_km.is_some_and(|max| leg.road_km > max),
            need.max_lead_time_h.is_some_and(|max| leg.hours * need.trip.legs() + processing > max),
        );
        if let Some(settled) = limits.settled_by_bands(d2, processing) {
            prop_assert_eq!(settled, exact, "bands, d2 {} leg {:?}", d2, leg);
        }
        let capability = Capability {
            provider: 1u32,
            name: String::new(),
            region: need.region,
            at: to,
            available: true,
            attrs: CapabilityAttrs::Labour { skill: "机修".into(), headcount: 1.0, lead_time_h: processing },
        };
        prop_assert_eq!(limits.far_and_slow_at(travel, need, &capability, d2, processing), exact, "own bounds, d2 {}", d2);
        Ok(())
    }

    fn place() -> impl Strategy<Value = LonLat> {
        (-180.0f64..180.0, -90.0f64..=90.0).prop_map(|(lon, lat)| LonLat { lon, lat })
    }

    fn squared_chord(a: [f64; 3], b: [f64; 3]) -> f64 {
        (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
    }

    #[test]
    fn the_bands_settle_places_well_inside_and_well_beyond_a_limit() {
        let travel = GeodesicTravel::default();
        let quwo = LonLat { lon: 111.47586, lat: 35.641086 };
        let need = NeedSpec::new(RegionCode::new_unchecked(141021), quwo, 1.0, Requirement::Labour { skill: "机修".into() })
            .unwrap()
            .with_max_distance_km(400.0)
            .unwrap()
            .with_max_lead_time_h(72.0)
            .unwrap();
        let limits = Limits::of(&travel, &need);
        let d2 = |lon: f64, lat: f64| squared_chord(quwo.unit_vector(), LonLat { lon, lat }.unit_vector());
        // 万荣, 82 km by road: neither; 大同, 673 km: too far; 广州, 2,000 km: too far, and too slow after 48 h of work.
        assert_eq!(limits.settled_by_bands(d2(110.838024, 35.415253), 10.0), Some((false, false)));
        assert_eq!(limits.settled_by_bands(d2(113.298026, 40.075666), 10.0), Some((true, false)));
        assert_eq!(limits.settled_by_bands(d2(113.264385, 23.129112), 48.0), Some((true, true)));
        assert_eq!(limits.settled_by_bands(d2(113.264385, 23.129112), 1.0), Some((true, false)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Limits set within a few per cent of the capability's own road and lead time (and
        /// sometimes exactly at them), so that most cases fall near a band's edge.
        #[test]
        fn the_bands_settle_a_limit_as_the_leg_does(
            from in (105.0f64..120.0, 30.0f64..42.0),
            to in (75.0f64..135.0, 18.0f64..53.0),
            near in (0.0f64..1.0, 0.0f64..1.0),
            distance_factor in prop_oneof![Just(1.0), 0.97f64..1.03, 0.0f64..3.0],
            time_factor in prop_oneof![Just(1.0), 0.97f64..1.03, 0.0f64..3.0],
            which in 0u8..3,
            processing in prop_oneof![Just(0.0), 0.0f64..200.0],
            round in any::<bool>(),
            model in 0u8..3,
        ) {
            let at = LonLat { lon: from.0, lat: from.1 };
            // Half the capabilities within a few hundred kilometres of the need.
            let to = if near.0 < 0.5 { LonLat { lon: at.lon + (near.1 - 0.5) * 8.0, lat: at.lat + (near.0 - 0.25) * 8.0 } } else { LonLat { lon: to.0, lat: to.1 } };
            let geodesic = GeodesicTravel::default();
            let other = GeodesicTravel::new(TravelSettings { circuity: 1.0, speed_kmh: 80.0 }).unwrap();
            let slow_roads = SlowRoads(GeodesicTravel::default());
            let travel: &dyn TravelModel = match model {
                0 => &geodesic,
                1 => &other,
                _ => &slow_roads,
            };
            let mut need = NeedSpec::new(RegionCode::new_unchecked(141021), at, 1.0, Requirement::Labour { skill: "机修".into() }).unwrap();
            if round {
                need = need.with_trip(Trip::Round);
            }
            let leg = travel.leg(at, to);
            if which != 1 {
                need.max_distance_km = Some(leg.road_km * distance_factor);
            }
            if which != 0 {
                need.max_lead_time_h = Some((leg.hours * need.trip.legs() + processing) * time_factor);
            }
            agrees(travel, &need, to, processing)?;
        }

        #[test]
        fn the_tighter_spherical_bounds_hold_for_the_ellipsoid(a in place(), b in place()) {
            let geodesic = GeodesicTravel::default().geodesic_km(a, b);
            let sphere = sphere_km_for_chord(squared_chord(a.unit_vector(), b.unit_vector()).sqrt());
            prop_assert!(geodesic_lower_bound_km(sphere) <= geodesic * (1.0 + 1e-12) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            prop_assert!(geodesic <= geodesic_upper_bound_km(sphere) * (1.0 + 1e-12) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            prop_assert!(sphere <= sphere_upper_bound_km(geodesic) * (1.0 + 1e-12) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            let (low, high) = geodesic_bounds_km(a, b, sphere);
            prop_assert!(low <= geodesic * (1.0 + 1e-12) + 1e-9 && geodesic <= high * (1.0 + 1e-12) + 1e-9, "{low} {geodesic} {high}");
        }

        /// Places of China and its neighbours, where the latitude bounds are tightest.
        #[test]
        fn the_latitude_bounds_hold_in_china(a in (70.0f64..140.0, 15.0f64..55.0), b in (70.0f64..140.0, 15.0f64..55.0)) {
            let (a, b) = (LonLat { lon: a.0, lat: a.1 }, LonLat { lon: b.0, lat: b.1 });
            let geodesic = GeodesicTravel::default().geodesic_km(a, b);
            let sphere = sphere_km_for_chord(squared_chord(a.unit_vector(), b.unit_vector()).sqrt());
            let (low, high) = geodesic_bounds_km(a, b, sphere);
            prop_assert!(low <= geodesic * (1.0 + 1e-12) + 1e-9 && geodesic <= high * (1.0 + 1e-12) + 1e-9, "{low} {geodesic} {high}");
        }

        #[test]
        fn the_bounds_hold_near_the_equator_and_the_poles_along_meridians_and_parallels(
            lat in prop_oneof![-1.0f64..1.0, 85.0f64..=90.0, -90.0f64..-85.0],
            lon in -180.0f64..180.0,
            step in 0.0f64..30.0,
            along_meridian in any::<bool>(),
        ) {
            let a = LonLat { lon, lat };
            let b = if along_meridian {
                LonLat { lon, lat: (lat + step).min(90.0) }
            } else {
                LonLat { lon: (lon + step + 180.0).rem_euclid(360.0) - 180.0, lat }
            };
            let geodesic = GeodesicTravel::default().geodesic_km(a, b);
            let sphere = sphere_km_for_chord(squared_chord(a.unit_vector(), b.unit_vector()).sqrt());
            prop_assert!(geodesic_lower_bound_km(sphere) <= geodesic * (1.0 + 1e-12) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            prop_assert!(geodesic <= geodesic_upper_bound_km(sphere) * (1.0 + 1e-12) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            let (low, high) = geodesic_bounds_km(a, b, sphere);
            prop_assert!(low <= geodesic * (1.0 + 1e-12) + 1e-9 && geodesic <= high * (1.0 + 1e-12) + 1e-9, "{low} {geodesic} {high}");
        }
    }
}
