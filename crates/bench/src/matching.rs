//! `bangfu-bench match`: screening among a large synthetic registry, through the spatial index
//! and by full scan.
//!
//! Providers are spread over the seats of government of the embedded regions (each nudged by up
//! to ±0.15°), one capability each, of a kind, attributes and availability (90 %) drawn from a
//! fixed seed. Each query is a need at a random seat, of a random kind, with a matching
//! requirement, `--max-distance-km` (400) and `--max-lead-time-h` (96), asking for the best
//! `--limit` (10) candidates. The same queries are then answered by full scan
//! (`Screener::best_candidates` over every capability) and the answers compared.
//!
//! Output, one JSON line: {"providers","queries","p50_us","p99_us","scan_p50_us","build_s","rss_mb"}.
//! A query's time is the elapsed time of its fastest of `--repeat` (3) passes over all queries:
//! on a shared machine a query that loses the CPU loses a whole scheduler tick (4 ms), which says
//! nothing about the index; the first pass alone is also reported, on stderr, with a summary.

use bangfu_core::capability::{Capability, CapabilityAttrs, Requirement, SterilisationMethod};
use bangfu_core::ids::ProviderId;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::registry_index::RegistryIndex;
use bangfu_core::routing::RoutingPolicy;
use bangfu_core::screening::{NeedSpec, Screener};
use bangfu_core::travel::{GeodesicTravel, LonLat};
use clap::Parser;
use std::process::ExitCode;
use std::time::Instant;

/// Time screening through the registry index against a full scan.
#[derive(Debug, Parser)]
#[command(name = "bangfu-bench match")]
struct Args {
    /// Number of synthetic providers (one capability each)
    #[arg(long, default_value_t = 1_000_000)]
    providers: usize,
    /// Number of queries
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Passes over the queries through the index; each query keeps its fastest time
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// How many of the queries the full scan answers too (all by default)
    #[arg(long)]
    scan_queries: Option<usize>,
    /// Candidates asked for per query
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// The need's max_distance_km
    #[arg(long, default_value_t = 400.0)]
    max_distance_km: f64,
    /// The need's max_lead_time_h
    #[arg(long, default_value_t = 96.0)]
    max_lead_time_h: f64,
    /// Seed of the synthetic registry and queries
    #[arg(long, default_value_t = 2020_02_13)]
    seed: u64,
}

const MATERIALS: [&str; 6] = ["熔喷布", "无纺布", "热风棉", "耳带", "鼻梁条", "包装袋"];
const ITEMS: [&str; 5] = ["口罩机", "消毒柜", "超声波焊接机", "熔喷生产线", "环氧乙烷灭菌柜"];
const SKILLS: [&str; 4] = ["机修", "电工", "挡车工", "质检"];
const STANDARDS: [&str; 5] = ["GB 19083-2010", "YY 0469-2011", "GB 2626-2019", "YY/T 0969-2013", "GB/T 32610-2016"];

pub fn run(args: &[String]) -> ExitCode {
    let args: Args = match crate::parse(args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.providers == 0 || args.queries == 0 || args.limit == 0 || args.repeat == 0 {
        eprintln!("error: --providers, --queries, --limit and --repeat must be at least 1");
        return ExitCode::from(2);
    }
    let tree = RegionTree::embedded();
    let seats: Vec<(RegionCode, LonLat)> =
        tree.iter().filter_map(|r| Some((r.code, LonLat { lon: r.lon?, lat: r.lat? }))).collect();
    let mut rng = SplitMix64(args.seed);

    let capabilities: Vec<Capability<ProviderId>> = (0..args.providers).map(|i| synthetic_capability(&mut rng, &seats, i)).collect();
    let began = Instant::now();
    let index = RegistryIndex::build(capabilities);
    let build_s = began.elapsed().as_secs_f64();

    let needs: Vec<NeedSpec> = (0..args.queries).map(|_| synthetic_need(&mut rng, &seats, &args)).collect();
    let travel = GeodesicTravel::default();
    let policy = RoutingPolicy::default();
    let screener = Screener::new(tree, &policy, &travel);

    let mut index_us = vec![f64::INFINITY; needs.len()];
    let mut first_pass_us = Vec::with_capacity(needs.len());
    let mut answers = Vec::with_capacity(needs.len());
    for pass in 0..args.repeat {
        for (i, need) in needs.iter().enumerate() {
            let began = Instant::now();
            let found = index.best_candidates(&screener, need, Some(args.limit));
            let elapsed_us = began.elapsed().as_secs_f64() * 1e6;
            index_us[i] = index_us[i].min(elapsed_us);
            if pass > 0 {
                continue;
            }
            first_pass_us.push(elapsed_us);
            match found {
                Ok(found) => answers.push(found),
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            }
        }
    }

    let scan_queries = args.scan_queries.unwrap_or(args.queries).min(args.queries);
    let mut scan_us = Vec::with_capacity(scan_queries);
    for (need, answer) in needs.iter().zip(&answers).take(scan_queries) {
        let began = Instant::now();
        let scanned = screener.best_candidates(need, index.capabilities(), Some(args.limit));
        scan_us.push(began.elapsed().as_secs_f64() * 1e6);
        if scanned.as_ref().ok() != Some(answer) {
            eprintln!("error: the index and the full scan disagree on a query: {need:?}");
            return ExitCode::from(1);
        }
    }

    let rss_mb = resident_mb();
    let (p50, p99, scan_p50) = (percentile(&mut index_us, 0.50), percentile(&mut index_us, 0.99), percentile(&mut scan_us, 0.50));
    let found = answers.iter().map(Vec::len).sum::<usize>() as f64 / answers.len() as f64;
    eprintln!(
        "match: {} providers, {} queries (scan on {scan_queries}), limit {}, max {} km / {} h: index (fastest of {}) p50 {p50:.0} µs, p90 {:.0} µs, p99 {p99:.0} µs, max {:.0} µs; first pass alone p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs; scan p50 {scan_p50:.0} µs ({:.0}× the index); {found:.1} candidates a query; build {build_s:.2} s; {rss_mb:.0} MB resident",
        args.providers,
        args.queries,
        args.limit,
        args.max_distance_km,
        args.max_lead_time_h,
        args.repeat,
        percentile(&mut index_us, 0.90),
        percentile(&mut index_us, 1.0),
        percentile(&mut first_pass_us, 0.50),
        percentile(&mut first_pass_us, 0.99),
        percentile(&mut first_pass_us, 1.0),
        scan_p50 / p50,
    );
    println!(
        "{}",
        serde_json::json!({
            "providers": args.providers,
            "queries": args.queries,
            "p50_us": p50.round(),
            "p99_us": p99.round(),
            "scan_p50_us": scan_p50.round(),
            "build_s": (build_s * 100.0).round() / 100.0,
            "rss_mb": rss_mb.round(),
        })
    );
    ExitCode::SUCCESS
}

pub(crate) fn synthetic_capability(rng: &mut SplitMix64, seats: &[(RegionCode, LonLat)], i: usize) -> Capability<ProviderId> {
    let (region, seat) = seats[rng.below(seats.len())];
    let at = LonLat { lon: seat.lon + rng.between(-0.15, 0.15), lat: seat.lat + rng.between(-0.15, 0.15) };
    let attrs = match rng.below(6) {
        0 => {
            let method = SterilisationMethod::ALL[rng.below(4)];
            let turnaround_h = match method {
                SterilisationMethod::Co60 => rng.between(24.0, 48.0),
                SterilisationMethod::Ebeam => rng.between(12.0, 36.0),
                SterilisationMethod::Eo => rng.between(120.0, 192.0),
                SterilisationMethod::Steam => rng.between(8.0, 24.0),
            };
            CapabilityAttrs::Sterilisation { method, turnaround_h, capacity_per_day: rng.between(20_000.0, 200_000.0) }
        }
        1 => CapabilityAttrs::Slitting {
            max_input_width_m: rng.between(1.2, 2.0),
            min_output_width_m: rng.between(0.1, 0.6),
            turnaround_h: rng.between(4.0, 24.0),
        },
        2 => {
            let first = rng.below(STANDARDS.len());
            let count = 1 + rng.below(3);
            let standards = (0..count).map(|k| STANDARDS[(first + k) % STANDARDS.len()].to_string()).collect();
            CapabilityAttrs::Testing { standards, turnaround_h: rng.between(24.0, 120.0) }
        }
        3 => CapabilityAttrs::RawMaterial {
            material: MATERIALS[rng.below(MATERIALS.len())].to_string(),
            stock: rng.between(0.0, 100.0).round(),
            lead_time_h: rng.between(6.0, 72.0),
        },
        4 => CapabilityAttrs::Equipment {
            item: ITEMS[rng.below(ITEMS.len())].to_string(),
            stock: rng.between(0.0, 10.0).round(),
            lead_time_h: rng.between(12.0, 168.0),
        },
        _ => CapabilityAttrs::Labour {
            skill: SKILLS[rng.below(SKILLS.len())].to_string(),
            headcount: rng.between(0.0, 20.0).round(),
            lead_time_h: rng.between(2.0, 48.0),
        },
    };
    Capability { provider: ProviderId(i as i64), name: format!("provider {i}"), region, at, available: rng.below(10) != 0, attrs }
}

fn synthetic_need(rng: &mut SplitMix64, seats: &[(RegionCode, LonLat)], args: &Args) -> NeedSpec {
    let (region, at) = seats[rng.below(seats.len())];
    let (requires, quantity) = match rng.below(6) {
        0 => {
            let methods = (rng.below(2) == 0).then(|| vec![SterilisationMethod::Co60, SterilisationMethod::Ebeam]);
            (Requirement::Sterilisation { methods }, rng.between(10_000.0, 200_000.0).round())
        }
        1 => (Requirement::Slitting { input_width_m: rng.between(1.2, 1.8), output_width_m: rng.between(0.2, 0.6) }, 1.0),
        2 => (Requirement::Testing { standard: STANDARDS[rng.below(STANDARDS.len())].to_string() }, rng.between(1.0, 20.0).round()),
        3 => (Requirement::RawMaterial { material: MATERIALS[rng.below(MATERIALS.len())].to_string() }, rng.between(1.0, 50.0).round()),
        4 => (Requirement::Equipment { item: ITEMS[rng.below(ITEMS.len())].to_string() }, rng.between(1.0, 3.0).round()),
        _ => (Requirement::Labour { skill: SKILLS[rng.below(SKILLS.len())].to_string() }, rng.between(1.0, 10.0).round()),
    };
    let need = NeedSpec::new(region, at, quantity, requires).and_then(|n| n.with_max_distance_km(args.max_distance_km)).and_then(|n| n.with_max_lead_time_h(args.max_lead_time_h));
    match need {
        Ok(need) => need,
        Err(error) => panic!("a synthetic need is invalid: {error}"),
    }
}

/// The value at fraction `q` of the sorted samples (nearest rank).
fn percentile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// Resident memory from /proc/self/status (VmRSS), MB; 0 where there is no /proc.
fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A small deterministic generator (SplitMix64), so that the registry is the same on every run.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (high - low)
    }
}
