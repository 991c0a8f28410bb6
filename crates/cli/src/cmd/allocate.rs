//! `bangfu allocate`: scarce capacity allocated across competing needs, at least total cost
//! (`bangfu_core::allocate`).
//!
//! File mode (`--input FILE.json`, no database): the instance as integers, read here in two
//! stages — the document as written (serde refuses missing fields, unknown fields and
//! non-integers, naming line and column), then the core's checks (negative numbers, duplicate
//! or unknown ids), whose messages name the file. Output: `bangfu_web::json::allocation`.

use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_core::allocate::{Allocation, Arc, Instance, Need, Provider, greedy, solve};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Allocate providers' capacity across competing needs at least total cost: each unit of a need
/// served by a provider costs its arc's cost; each unit left unserved costs the need's
/// unmet_cost. Exact (network simplex on the min-cost flow), deterministic (ties by id).
///
/// Examples:
///   bangfu allocate --input instance.json --json
///   bangfu allocate --input instance.json --method greedy --json
///
/// The file (integers only; capacities, quantities and costs ≥ 0; ids unique):
///   {"providers": [{"id": 1, "capacity": 200}],
///    "needs": [{"id": 10, "quantity": 90, "unmet_cost": 4400}],
///    "arcs": [{"need": 10, "provider": 1, "cost": 495}]}
/// prints {"cost", "assignments": [{"need", "provider", "quantity"}], "unmet": [{"need",
/// "quantity"}]}. Bad input (a negative number, an arc to an unknown id, a duplicate id) exits 2
/// saying what was wrong.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The instance: {"providers":[{"id","capacity"}],"needs":[{"id","quantity","unmet_cost"}],"arcs":[{"need","provider","cost"}]}
    #[arg(long, value_name = "FILE.json")]
    input: PathBuf,
    /// optimum: least total cost; greedy: the first-come baseline (needs by id, each taking its
    /// cheapest arcs while capacity lasts)
    #[arg(long, value_enum, default_value_t = Method::Optimum)]
    method: Method,
    /// Print JSON: {"cost","assignments":[{"need","provider","quantity"}],"unmet":[{"need","quantity"}]}
    #[arg(long)]
    json: bool,
}

/// How to allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// The least total cost
    Optimum,
    /// First come, first served: needs by id, each taking its cheapest arcs
    Greedy,
}

pub fn run(args: Args) -> CliResult {
    let instance = read_instance(&args.input)?;
    let allocated = match args.method {
        Method::Optimum => solve(&instance),
        Method::Greedy => greedy(&instance),
    }
    .map_err(|e| bad_input(format!("{}: {e}", args.input.display())))?;
    if args.json {
        println!("{}", bangfu_web::json::allocation(&allocated));
    } else {
        print_allocation(&allocated);
    }
    Ok(Outcome::Ok)
}

fn print_allocation(a: &Allocation) {
    let served: i64 = a.assignments.iter().map(|x| x.quantity).sum();
    let unmet: i64 = a.unmet.iter().map(|u| u.quantity).sum();
    println!("cost {}: {served} units assigned in {} assignments, {unmet} unmet", a.cost, a.assignments.len());
    println!("{:>12}  {:>12}  {:>12}", "need", "provider", "quantity");
    for x in &a.assignments {
        println!("{:>12}  {:>12}  {:>12}", x.need, x.provider, x.quantity);
    }
    for u in &a.unmet {
        println!("{:>12}  {:>12}  {:>12}", u.need, "unmet", u.quantity);
    }
}

/// The instance file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceFile {
    providers: Vec<ProviderLine>,
    needs: Vec<NeedLine>,
    arcs: Vec<ArcLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderLine {
    id: i64,
    capacity: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedLine {
    id: i64,
    quantity: i64,
    unmet_cost: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArcLine {
    need: i64,
    provider: i64,
    cost: i64,
}

fn read_instance(path: &Path) -> Result<Instance, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
    parse_instance(&text).map_err(|e| bad_input(format!("{}: {e}", path.display())))
}

/// Parses an instance file; the message says what to fix.
pub fn parse_instance(text: &str) -> Result<Instance, String> {
    let file: InstanceFile = serde_json::from_str(text).map_err(|e| {
        format!(
            "{e} — expected {{\"providers\": [{{\"id\", \"capacity\"}}], \"needs\": [{{\"id\", \"quantity\", \"unmet_cost\"}}], \"arcs\": [{{\"need\", \"provider\", \"cost\"}}]}}, all integers"
        )
    })?;
    Ok(Instance {
        providers: file.providers.into_iter().map(|p| Provider { id: p.id, capacity: p.capacity }).collect(),
        needs: file.needs.into_iter().map(|n| Need { id: n.id, quantity: n.quantity, unmet_cost: n.unmet_cost }).collect(),
        arcs: file.arcs.into_iter().map(|a| Arc { need: a.need, provider: a.provider, cost: a.cost }).collect(),
    })
}
