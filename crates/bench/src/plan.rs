//! `bangfu-bench plan`: the critical path method on a large random plan.
//!
//! The plan is a random DAG built from a fixed seed: milestones get a random position in a
//! permutation and every dependency goes from a lower to a higher position, so there is no
//! cycle; durations are whole hours from 0 to 48, and one milestone in a hundred has a
//! `not_before`. Building the plan is not timed; `schedule` (validation, adjacency, forward and
//! backward passes, critical path) is, `--runs` times. `compute_ms` is the median run.

use bangfu_core::plan::{Milestone, Plan, expected_resolution, schedule};
use clap::Parser;
use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Instant;

/// Time the critical path method on a random plan.
#[derive(Debug, Parser)]
#[command(name = "bangfu-bench plan")]
struct Args {
    /// Number of milestones
    #[arg(long, default_value_t = 100_000)]
    milestones: usize,
    /// Number of dependencies (distinct; at most milestones × (milestones − 1) / 2)
    #[arg(long, default_value_t = 400_000)]
    edges: usize,
    /// How many times to compute; the median is reported
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seed of the random plan
    #[arg(long, default_value_t = 2020_02_13)]
    seed: u64,
}

pub fn run(args: &[String]) -> ExitCode {
    let args: Args = match crate::parse(args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let n = args.milestones;
    let possible = n.saturating_mul(n.saturating_sub(1)) / 2;
    if n == 0 || args.edges > possible || args.runs == 0 {
        eprintln!("error: need --milestones ≥ 1, --runs ≥ 1 and --edges ≤ {possible} (milestones × (milestones − 1) / 2)");
        return ExitCode::from(2);
    }
    let plan = random_plan(n, args.edges, args.seed);

    let mut times_ms = Vec::with_capacity(args.runs);
    let mut result = None;
    for _ in 0..args.runs {
        let began = Instant::now();
        let computed = schedule(&plan, &[]);
        times_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        result = Some(computed);
    }
    let schedule = match result {
        Some(Ok(schedule)) => schedule,
        Some(Err(error)) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        None => return ExitCode::from(2),
    };
    times_ms.sort_by(f64::total_cmp);
    let round = |ms: f64| (ms * 100.0).round() / 100.0;
    println!(
        "{}",
        serde_json::json!({
            "milestones": n,
            "edges": args.edges,
            "compute_ms": round(times_ms[times_ms.len() / 2]),
            "min_ms": round(times_ms[0]),
            "runs": args.runs,
            "critical_path_len": schedule.critical_path().len(),
            "span_h": schedule.span_h(),
            "seed": args.seed,
        })
    );
    ExitCode::SUCCESS
}

/// A random DAG with `n` milestones and `edges` distinct dependencies, from lower to higher
/// position in a random permutation. The plan starts at the Unix epoch. The milestones are built
/// one after the other, each with its dependency keys, as parsing a plan file would build them.
fn random_plan(n: usize, edges: usize, seed: u64) -> Plan {
    let mut random = SplitMix64(seed);
    let mut position: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        position.swap(i, random.below(i + 1));
    }
    // by_position[p] is the milestone at position p.
    let mut by_position = vec![0; n];
    for (milestone, &p) in position.iter().enumerate() {
        by_position[p] = milestone;
    }
    let mut seen: HashSet<(usize, usize)> = HashSet::with_capacity(edges);
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
    while seen.len() < edges {
        let (a, b) = (random.below(n), random.below(n));
        if a == b {
            continue;
        }
        let pair = (a.min(b), a.max(b));
        if seen.insert(pair) {
            after[by_position[pair.1]].push(by_position[pair.0]);
        }
    }
    drop(seen);
    let key = |i: usize| format!("m{i:06}");
    let start = Default::default();
    let milestones = after
        .iter()
        .enumerate()
        .map(|(i, after)| {
            let mut m = Milestone::new(key(i), format!("milestone {i}"), random.below(49) as f64)
                .after(after.iter().map(|&j| key(j)));
            if random.below(100) == 0 {
                // Up to 60 days after the start, so that it sometimes matters.
                let days = random.below(61) as f64;
                m.not_before = Some(expected_resolution(start, Some(days * 24.0), start));
            }
            m
        })
        .collect();
    Plan { start, milestones }
}

/// A small, fast, deterministic generator (SplitMix64), so that the bench needs no dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..bound (bound ≥ 1), by multiply-shift; the bias is negligible here.
    fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next()) * bound as u128) >> 64) as usize
    }
}
