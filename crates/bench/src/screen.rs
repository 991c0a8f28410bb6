//! `bangfu-bench screen`: the bounded record of one need report
//! (`RegistryIndex::screen_bounded`) against the province exercise's registry (issue 12).
//!
//! The registry is the exercise's own: `bangfu_app::exercise::world::draw` with the exercise's
//! seed at province size (100,000 capabilities across China, a quarter of them in 山西), read
//! from its import lines into capabilities. The needs are the six that `scripts/load-province.sh`
//! reports (post.lua): sterilisation of 90,000 without limits and within 400 km / 96 h; 5 t of
//! 熔喷布 without limits and within 600 km / 72 h; 3 mechanics (机修) without limits and within
//! 300 km — each from `--places` (12) of the exercise's enterprises in 山西 (their counties and
//! places), with the server's bounds (10 candidates, 3 rejections per reason) and travel model.
//!
//! Each need at each place is screened `--repeat` (30) times, the places interleaved; the
//! median and p99 of all those times are printed per need, µs, as one JSON line, with a digest
//! of every record so that two builds can be checked to answer the same. `--check` also compares
//! each record with the full scan (`bounded_by_scan`), and exits 1 if one differs.

use bangfu_app::exercise::world::draw;
use bangfu_app::exercise::{SEED, Size};
use bangfu_core::bounded_screening::{Bounds, bounded_by_scan};
use bangfu_core::capability::{AttrValue, Capability, CapabilityAttrs, Requirement};
use bangfu_core::ids::ProviderId;
use bangfu_core::model::NeedKind;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::registry_index::RegistryIndex;
use bangfu_core::routing::RoutingPolicy;
use bangfu_core::screening::{NeedSpec, Screener};
use bangfu_core::travel::{GeodesicTravel, LonLat, TravelSettings};
use clap::Parser;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(name = "bangfu-bench screen", about = "Time the bounded screening of the load test's six needs against the province exercise's registry")]
struct Args {
    /// Places in 山西 the needs are reported from (the exercise's enterprises, every n-th)
    #[arg(long, default_value_t = 12)]
    places: usize,
    /// Screenings of each need at each place
    #[arg(long, default_value_t = 30)]
    repeat: usize,
    /// Compare every record with the full scan (bounded_by_scan) once
    #[arg(long)]
    check: bool,
    /// Only the needs whose name contains this (for profiling one)
    #[arg(long)]
    only: Option<String>,
}

/// One of the load test's needs: (name, requirement, quantity, max km, max h).
type LoadNeed = (&'static str, Requirement, f64, Option<f64>, Option<f64>);

/// The load test's needs.
fn needs() -> Vec<LoadNeed> {
    let steril = || Requirement::Sterilisation { methods: None };
    let meltblown = || Requirement::RawMaterial { material: "熔喷布".into() };
    let mechanics = || Requirement::Labour { skill: "机修".into() };
    vec![
        ("sterilisation", steril(), 90_000.0, None, None),
        ("sterilisation_400km_96h", steril(), 90_000.0, Some(400.0), Some(96.0)),
        ("meltblown", meltblown(), 5.0, None, None),
        ("meltblown_600km_72h", meltblown(), 5.0, Some(600.0), Some(72.0)),
        ("mechanics", mechanics(), 3.0, None, None),
        ("mechanics_300km", mechanics(), 3.0, Some(300.0), None),
    ]
}

pub fn run(args: &[String]) -> ExitCode {
    let args: Args = match crate::parse(args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.places == 0 || args.repeat == 0 {
        eprintln!("error: --places and --repeat must be at least 1");
        return ExitCode::from(2);
    }
    let tree = RegionTree::embedded();
    let started = Instant::now();
    let world = draw(tree, SEED, Size::PROVINCE);
    let mut capabilities = Vec::with_capacity(world.capabilities());
    for file in &world.registry {
        for line in file.jsonl.lines() {
            match capability_of(line) {
                Ok(capability) => capabilities.push(capability),
                Err(error) => {
                    eprintln!("error: a registry line of the exercise: {error}: {line}");
                    return ExitCode::from(1);
                }
            }
        }
    }
    let per_kind = |kind: NeedKind| capabilities.iter().filter(|c| c.kind() == kind).count();
    eprintln!(
        "screen: {} capabilities ({} sterilisation, {} raw material, {} labour) drawn in {:.1} s",
        capabilities.len(),
        per_kind(NeedKind::Sterilisation),
        per_kind(NeedKind::RawMaterial),
        per_kind(NeedKind::Labour),
        started.elapsed().as_secs_f64()
    );
    let scan_copy = args.check.then(|| capabilities.clone());
    let index = RegistryIndex::build(capabilities);
    let step = (world.enterprises.len() / args.places).max(1);
    let places: Vec<(RegionCode, LonLat)> =
        world.enterprises.iter().step_by(step).take(args.places).map(|e| (e.county, LonLat { lon: e.lon, lat: e.lat })).collect();

    let travel = match GeodesicTravel::new(TravelSettings::default()) {
        Ok(travel) => travel,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(1);
        }
    };
    let policy = RoutingPolicy::default();
    let screener = Screener::new(tree, &policy, &travel);
    let bounds = Bounds::default();
    let mut out = serde_json::Map::new();
    let mut digest_all = Fnv::default();
    for (name, requires, quantity, max_km, max_h) in needs() {
        if args.only.as_deref().is_some_and(|only| !name.contains(only)) {
            continue;
        }
        let specs: Vec<NeedSpec> = places
            .iter()
            .map(|&(region, at)| {
                let mut spec = NeedSpec::new(region, at, quantity, requires.clone()).expect("a valid need");
                spec.max_distance_km = max_km;
                spec.max_lead_time_h = max_h;
                spec
            })
            .collect();
        // Once each, for the digest (and the check), and to warm up.
        let mut digest = Fnv::default();
        let mut feasible = 0usize;
        for spec in &specs {
            let record = match index.screen_bounded(&screener, spec, bounds) {
                Ok(record) => record,
                Err(error) => {
                    eprintln!("error: {name}: {error}");
                    return ExitCode::from(1);
                }
            };
            feasible += record.feasible;
            digest.write(format!("{record:?}").as_bytes());
            if let Some(all) = &scan_copy {
                let scan = bounded_by_scan(&screener, spec, all, bounds);
                if scan.as_ref().ok() != Some(&record) {
                    eprintln!("error: {name}: the index and the full scan disagree at {:?}", spec.at);
                    return ExitCode::from(1);
                }
            }
        }
        digest_all.write(&digest.0.to_le_bytes());
        let mut us = Vec::with_capacity(specs.len() * args.repeat);
        for _ in 0..args.repeat {
            for spec in &specs {
                let began = Instant::now();
                let record = index.screen_bounded(&screener, spec, bounds);
                us.push(began.elapsed().as_secs_f64() * 1e6);
                std::hint::black_box(record.ok());
            }
        }
        let (p50, p99) = (percentile(&mut us, 0.50), percentile(&mut us, 0.99));
        eprintln!("  {name:<26} p50 {p50:>7.1} µs  p99 {p99:>7.1} µs  ({} feasible a place, digest {:016x})", feasible / specs.len(), digest.0);
        out.insert(name.to_string(), json!({"p50_us": (p50 * 10.0).round() / 10.0, "p99_us": (p99 * 10.0).round() / 10.0}));
    }
    out.insert("places".into(), json!(places.len()));
    out.insert("repeat".into(), json!(args.repeat));
    out.insert("digest".into(), json!(format!("{:016x}", digest_all.0)));
    if args.check {
        out.insert("checked".into(), json!(true));
    }
    println!("{}", Value::Object(out));
    ExitCode::SUCCESS
}

/// A capability from one of the exercise's import lines.
fn capability_of(line: &str) -> Result<Capability<ProviderId>, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let text = |name: &str| v.get(name).and_then(Value::as_str).ok_or_else(|| format!("{name} is missing"));
    let number = |name: &str| v.get(name).and_then(Value::as_f64).ok_or_else(|| format!("{name} is missing"));
    let id = text("id")?;
    let provider = id.trim_start_matches("exercise:p").parse::<i64>().map_err(|e| format!("id {id}: {e}"))?;
    let kind = NeedKind::parse(text("kind")?).map_err(|e| e.to_string())?;
    let region = RegionCode::new_unchecked(text("region")?.parse::<u32>().map_err(|e| e.to_string())?);
    let Some(Value::Object(map)) = v.get("attrs") else { return Err("attrs is missing".into()) };
    let attrs: Vec<(String, AttrValue)> = map
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Number(n) => AttrValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                Value::String(s) => AttrValue::Text(s.clone()),
                Value::Array(items) => AttrValue::TextList(items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect()),
                other => AttrValue::Other(other.to_string()),
            };
            (name.clone(), value)
        })
        .collect();
    let attrs = CapabilityAttrs::from_attrs(kind, &attrs).map_err(|e| e.to_string())?;
    Ok(Capability {
        provider: ProviderId(provider),
        name: text("name")?.to_string(),
        region,
        at: LonLat { lon: number("lon")?, lat: number("lat")? },
        available: v.get("available").and_then(Value::as_bool).unwrap_or(true),
        attrs,
    })
}

/// The value at fraction `q` of the sorted samples (nearest rank).
fn percentile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// FNV-1a, 64 bits: a digest of the records, to compare two builds.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
