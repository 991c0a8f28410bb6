//! `bangfu-bench allocate`: the allocation solver (`bangfu_core::allocate::solve`) on a large
//! random transportation instance.
//!
//! The instance, from a fixed seed (SplitMix64): providers and needs at uniform random points
//! of a 1,000 km square; each need joined to its `k` nearest providers (ties by provider id) at
//! cost weight × kilometres (rounded), its weight drawn from 1 to 10 as the plans would give;
//! quantities from 1 to 100; capacities drawn so that they add up to about 80 % of the total
//! quantity (scarce, as in an emergency); each need's unmet cost is weight × 2,000, more than any
//! arc of it. Building the instance is not timed; `solve` (checks, sorting, the network simplex,
//! the answer) is, `--runs` times: `solve_s` is the median run. `--write-instance FILE` writes
//! the instance in the format of `bangfu allocate --input` (and `scripts/ortools_mcf.py`).

use bangfu_core::allocate::{Arc, Instance, Need, Provider, greedy, solve};
use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Time the allocation solver on a random instance.
#[derive(Debug, Parser)]
#[command(name = "bangfu-bench allocate")]
struct Args {
    #[arg(long, default_value_t = 2_000)]
    providers: usize,
    #[arg(long, default_value_t = 50_000)]
    needs: usize,
    /// Arcs per need: its k nearest providers
    #[arg(long, default_value_t = 20)]
    k: usize,
    /// How many times to solve; the median is reported
    #[arg(long, default_value_t = 1)]
    runs: usize,
    #[arg(long, default_value_t = 2020_02_08)]
    seed: u64,
    /// Also write the instance here, as `bangfu allocate --input` reads it
    #[arg(long, value_name = "FILE.json")]
    write_instance: Option<PathBuf>,
    /// Also run the first-come baseline and report its cost
    #[arg(long)]
    greedy: bool,
}

pub fn run(args: &[String]) -> ExitCode {
    let args: Args = match crate::parse(args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.providers == 0 || args.k == 0 || args.k > args.providers || args.runs == 0 {
        eprintln!("error: need --providers ≥ 1, 1 ≤ --k ≤ --providers and --runs ≥ 1");
        return ExitCode::from(2);
    }
    let instance = random_instance(args.providers, args.needs, args.k, args.seed);
    if let Some(path) = &args.write_instance
        && let Err(e) = write_instance(&instance, path)
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    let mut times = Vec::with_capacity(args.runs);
    let mut answer = None;
    for _ in 0..args.runs {
        let began = Instant::now();
        let solved = solve(&instance);
        times.push(began.elapsed().as_secs_f64());
        answer = Some(solved);
    }
    let allocation = match answer {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        None => return ExitCode::from(2),
    };
    times.sort_by(f64::total_cmp);
    let round = |s: f64| (s * 1000.0).round() / 1000.0;
    let mut line = serde_json::json!({
        "arcs": instance.arcs.len(),
        "solve_s": round(times[times.len() / 2]),
        "cost": allocation.cost,
        "min_s": round(times[0]),
        "runs": args.runs,
        "providers": args.providers,
        "needs": args.needs,
        "k": args.k,
        "seed": args.seed,
        "assignments": allocation.assignments.len(),
        "unmet_units": allocation.unmet.iter().map(|u| u.quantity).sum::<i64>(),
    });
    if args.greedy {
        match greedy(&instance) {
            Ok(g) => line["greedy_cost"] = g.cost.into(),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    println!("{line}");
    ExitCode::SUCCESS
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in lo..=hi.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

fn random_instance(providers: usize, needs: usize, k: usize, seed: u64) -> Instance {
    let mut rng = Rng(seed);
    let side = 1000.0;
    let places: Vec<(f64, f64)> = (0..providers).map(|_| (rng.unit() * side, rng.unit() * side)).collect();
    let mut instance = Instance::default();
    let mut total = 0i64;
    let mut distances: Vec<(i64, usize)> = Vec::with_capacity(providers);
    for n in 0..needs {
        let id = n as i64 + 1;
        let (x, y) = (rng.unit() * side, rng.unit() * side);
        let weight = rng.between(1, 10);
        let quantity = rng.between(1, 100);
        total += quantity;
        instance.needs.push(Need { id, quantity, unmet_cost: weight * 2000 });
        distances.clear();
        distances.extend(places.iter().enumerate().map(|(p, &(px, py))| (((px - x).hypot(py - y)).round() as i64, p)));
        distances.select_nth_unstable(k - 1);
        for &(km, p) in &distances[..k] {
            instance.arcs.push(Arc { need: id, provider: p as i64 + 1, cost: weight * km });
        }
    }
    // Capacities: uniform shares of 80 % of the total quantity.
    let shares: Vec<f64> = (0..providers).map(|_| rng.unit()).collect();
    let sum: f64 = shares.iter().sum();
    for (p, share) in shares.iter().enumerate() {
        let capacity = (0.8 * total as f64 * share / sum).round() as i64;
        instance.providers.push(Provider { id: p as i64 + 1, capacity });
    }
    instance
}

fn write_instance(instance: &Instance, path: &PathBuf) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"{\"providers\":[")?;
    for (i, p) in instance.providers.iter().enumerate() {
        write!(out, "{}{{\"id\":{},\"capacity\":{}}}", if i > 0 { "," } else { "" }, p.id, p.capacity)?;
    }
    out.write_all(b"],\n\"needs\":[")?;
    for (i, n) in instance.needs.iter().enumerate() {
        write!(out, "{}{{\"id\":{},\"quantity\":{},\"unmet_cost\":{}}}", if i > 0 { "," } else { "" }, n.id, n.quantity, n.unmet_cost)?;
    }
    out.write_all(b"],\n\"arcs\":[")?;
    for (i, a) in instance.arcs.iter().enumerate() {
        write!(out, "{}{{\"need\":{},\"provider\":{},\"cost\":{}}}", if i > 0 { ",\n" } else { "" }, a.need, a.provider, a.cost)?;
    }
    out.write_all(b"]}\n")?;
    out.flush()
}
