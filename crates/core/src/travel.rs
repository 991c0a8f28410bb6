//! Travel between two places: how far by road and how long one way. Screening asks a
//! [`TravelModel`]; the default, [`GeodesicTravel`], takes the geodesic distance on the WGS-84
//! ellipsoid × a circuity factor (1.3) at a constant speed (60 km/h). A road router (an OSRM
//! table fetched by the caller, say) can replace it by implementing the trait; this crate does
//! no I/O, so such a model answers from data it was given.
//!
//! Coordinates are taken as given (the embedded regions are GCJ-02, a few hundred metres off
//! WGS-84 — nothing at the scale of a road trip).

use geographiclib_rs::{Geodesic, InverseGeodesic};
use std::fmt;

/// Mean Earth radius (IUGG), km. Used only for the conservative spherical bounds below.
pub const MEAN_EARTH_RADIUS_KM: f64 = 6371.0088;

/// How far a spherical estimate of the ellipsoidal geodesic may be off, as a fraction. The true
/// deviation is under 0.6 % (meridian radius of curvature 6335–6400 km); 1 % leaves room.
pub const SPHERE_BOUND_SLACK: f64 = 0.01;

/// A place in degrees: longitude east, latitude north.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

impl LonLat {
    /// A checked place: finite, longitude within −180..180 and latitude within −90..90.
    pub fn new(lon: f64, lat: f64) -> Result<LonLat, String> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(format!("lon {lon} is outside -180..180"));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(format!("lat {lat} is outside -90..90"));
        }
        Ok(LonLat { lon, lat })
    }

    /// The point on the unit sphere with this longitude and latitude (x towards 0°E, z north).
    pub fn unit_vector(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }
}

impl fmt::Display for LonLat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6},{:.6}", self.lon, self.lat)
    }
}

/// One way from a place to another.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Leg {
    pub road_km: f64,
    /// Hours one way.
    pub hours: f64,
}

/// Whether goods go there only, or there and back (processing kinds: the goods return).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trip {
    OneWay,
    Round,
}

impl Trip {
    pub const ALL: &'static [Trip] = &[Trip::OneWay, Trip::Round];

    pub fn as_str(self) -> &'static str {
        match self {
            Trip::OneWay => "one_way",
            Trip::Round => "round",
        }
    }

    pub fn parse(text: &str) -> Result<Trip, String> {
        match text.trim() {
            "one_way" => Ok(Trip::OneWay),
            "round" => Ok(Trip::Round),
            other => Err(format!("unknown trip {other:?} — expected one of: one_way, round")),
        }
    }

    /// How many times the leg is travelled.
    pub fn legs(self) -> f64 {
        match self {
            Trip::OneWay => 1.0,
            Trip::Round => 2.0,
        }
    }
}

impl fmt::Display for Trip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Distance and time by road between two places.
///
/// The two bound methods let the registry index skip places that cannot qualify; their defaults
/// hold for any road network (a road is never shorter than the geodesic; time is never negative).
pub trait TravelModel {
    /// The road from `from` to `to`, one way.
    fn leg(&self, from: LonLat, to: LonLat) -> Leg;

    /// The farthest geodesic distance, km, at which a road of `road_km` or less can exist.
    fn max_geodesic_km(&self, road_km: f64) -> f64 {
        road_km
    }

    /// A lower bound on the one-way hours between places `geodesic_km` apart.
    fn min_hours(&self, geodesic_km: f64) -> f64 {
        let _ = geodesic_km;
        0.0
    }

    /// An upper bound on the road and the one-way hours between places at most `geodesic_km`
    /// apart, when the model can give one (a road router cannot: `None`, the default). Screening
    /// a whole registry uses it to settle "too far" and "too slow" without computing each leg.
    fn max_leg(&self, geodesic_km: f64) -> Option<Leg> {
        let _ = geodesic_km;
        None
    }
}

impl<T: TravelModel + ?Sized> TravelModel for &T {
    fn leg(&self, from: LonLat, to: LonLat) -> Leg {
        (**self).leg(from, to)
    }
    fn max_geodesic_km(&self, road_km: f64) -> f64 {
        (**self).max_geodesic_km(road_km)
    }
    fn min_hours(&self, geodesic_km: f64) -> f64 {
        (**self).min_hours(geodesic_km)
    }
    fn max_leg(&self, geodesic_km: f64) -> Option<Leg> {
        (**self).max_leg(geodesic_km)
    }
}

/// The settings of the default travel model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TravelSettings {
    /// Road distance ÷ geodesic distance; 1.3 by default.
    pub circuity: f64,
    /// Average speed on the road, km/h; 60 by default.
    pub speed_kmh: f64,
}

impl Default for TravelSettings {
    fn default() -> Self {
        TravelSettings { circuity: 1.3, speed_kmh: 60.0 }
    }
}

/// The default model: road_km = geodesic km on WGS-84 × circuity; hours = road_km ÷ speed.
#[derive(Clone, Copy, Debug)]
pub struct GeodesicTravel {
    settings: TravelSettings,
    geodesic: Geodesic,
}

impl GeodesicTravel {
    /// A model with these settings; circuity must be at least 1 and speed greater than 0.
    pub fn new(settings: TravelSettings) -> Result<GeodesicTravel, String> {
        if !settings.circuity.is_finite() || settings.circuity < 1.0 {
            return Err(format!("circuity {} must be at least 1 (a road is never shorter than the geodesic)", settings.circuity));
        }
        if !settings.speed_kmh.is_finite() || settings.speed_kmh <= 0.0 {
            return Err(format!("speed {} km/h must be greater than 0", settings.speed_kmh));
        }
        Ok(GeodesicTravel { settings, geodesic: Geodesic::wgs84() })
    }

    pub fn settings(&self) -> TravelSettings {
        self.settings
    }

    /// The geodesic distance on the WGS-84 ellipsoid, km.
    pub fn geodesic_km(&self, from: LonLat, to: LonLat) -> f64 {
        let metres: f64 = self.geodesic.inverse(from.lat, from.lon, to.lat, to.lon);
        metres / 1000.0
    }
}

impl Default for GeodesicTravel {
    fn default() -> Self {
        GeodesicTravel { settings: TravelSettings::default(), geodesic: Geodesic::wgs84() }
    }
}

impl TravelModel for GeodesicTravel {
    fn leg(&self, from: LonLat, to: LonLat) -> Leg {
        let road_km = self.geodesic_km(from, to) * self.settings.circuity;
        Leg { road_km, hours: road_km / self.settings.speed_kmh }
    }

    fn max_geodesic_km(&self, road_km: f64) -> f64 {
        road_km / self.settings.circuity
    }

    fn min_hours(&self, geodesic_km: f64) -> f64 {
        geodesic_km * self.settings.circuity / self.settings.speed_kmh
    }

    fn max_leg(&self, geodesic_km: f64) -> Option<Leg> {
        let road_km = geodesic_km * self.settings.circuity;
        Some(Leg { road_km, hours: road_km / self.settings.speed_kmh })
    }
}

/// The great-circle distance on a sphere of the mean radius for the central angle behind a chord
/// of the unit sphere, km.
pub fn sphere_km_for_chord(chord: f64) -> f64 {
    2.0 * (chord / 2.0).clamp(0.0, 1.0).asin() * MEAN_EARTH_RADIUS_KM
}

/// The chord of the unit sphere for a great-circle distance of `km` on the mean sphere
/// (2 for anything at or beyond the antipode).
pub fn chord_for_sphere_km(km: f64) -> f64 {
    let angle = km / MEAN_EARTH_RADIUS_KM;
    if angle >= std::f64::consts::PI { 2.0 } else { 2.0 * (angle / 2.0).sin() }
}

/// A lower bound on the ellipsoidal geodesic for a spherical distance.
pub fn geodesic_lower_bound_km(sphere_km: f64) -> f64 {
    sphere_km * (1.0 - SPHERE_BOUND_SLACK)
}

/// An upper bound on the ellipsoidal geodesic for a spherical distance.
pub fn geodesic_upper_bound_km(sphere_km: f64) -> f64 {
    sphere_km / (1.0 - SPHERE_BOUND_SLACK)
}

/// An upper bound on the spherical distance for an ellipsoidal geodesic.
pub fn sphere_upper_bound_km(geodesic_km: f64) -> f64 {
    geodesic_km / (1.0 - SPHERE_BOUND_SLACK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quwo() -> LonLat {
        LonLat { lon: 111.47586, lat: 35.641086 }
    }

    #[test]
    fn quwo_to_wanrong_is_63_km_geodesic_and_82_km_by_road() {
        // Vincenty's formula, computed independently in Python: 63.043 km.
        let model = GeodesicTravel::default();
        let wanrong = LonLat { lon: 110.838024, lat: 35.415253 };
        assert!((model.geodesic_km(quwo(), wanrong) - 63.043).abs() < 0.01);
        let leg = model.leg(quwo(), wanrong);
        assert!((leg.road_km - 81.956).abs() < 0.02, "{leg:?}");
        assert!((leg.hours - 1.366).abs() < 0.001, "{leg:?}");
    }

    #[test]
    fn circuity_and_speed_are_settings() {
        let model = GeodesicTravel::new(TravelSettings { circuity: 1.0, speed_kmh: 80.0 }).unwrap();
        let datong = LonLat { lon: 113.298026, lat: 40.075666 };
        let leg = model.leg(quwo(), datong);
        assert!((leg.road_km - 517.637).abs() < 0.05, "{leg:?}");
        assert!((leg.hours - 517.637 / 80.0).abs() < 0.001, "{leg:?}");
    }

    #[test]
    fn a_circuity_below_one_or_a_speed_of_zero_is_refused() {
        assert!(GeodesicTravel::new(TravelSettings { circuity: 0.9, speed_kmh: 60.0 }).unwrap_err().contains("at least 1"));
        assert!(GeodesicTravel::new(TravelSettings { circuity: 1.3, speed_kmh: 0.0 }).unwrap_err().contains("greater than 0"));
    }

    #[test]
    fn a_place_outside_the_globe_is_refused() {
        assert_eq!(LonLat::new(181.0, 0.0).unwrap_err(), "lon 181 is outside -180..180");
        assert_eq!(LonLat::new(0.0, -91.0).unwrap_err(), "lat -91 is outside -90..90");
        assert!(LonLat::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn trips_parse_from_their_wire_names() {
        for trip in Trip::ALL {
            assert_eq!(Trip::parse(trip.as_str()), Ok(*trip));
        }
        assert!(Trip::parse("both").unwrap_err().contains("one_way, round"));
    }

    fn place() -> impl Strategy<Value = LonLat> {
        (-180.0f64..180.0, -89.9f64..89.9).prop_map(|(lon, lat)| LonLat { lon, lat })
    }

    proptest! {
        #[test]
        fn the_spherical_bounds_hold_for_the_ellipsoid(a in place(), b in place()) {
            let model = GeodesicTravel::default();
            let geodesic = model.geodesic_km(a, b);
            let (ua, ub) = (a.unit_vector(), b.unit_vector());
            let chord = ((ua[0] - ub[0]).powi(2) + (ua[1] - ub[1]).powi(2) + (ua[2] - ub[2]).powi(2)).sqrt();
            let sphere = sphere_km_for_chord(chord);
            prop_assert!(geodesic_lower_bound_km(sphere) <= geodesic + 1e-9, "sphere {sphere} geodesic {geodesic}");
            prop_assert!(geodesic <= geodesic_upper_bound_km(sphere) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            prop_assert!(sphere <= sphere_upper_bound_km(geodesic) + 1e-9, "sphere {sphere} geodesic {geodesic}");
            prop_assert!(chord <= chord_for_sphere_km(sphere_upper_bound_km(geodesic)) + 1e-12);
        }
    }
}
