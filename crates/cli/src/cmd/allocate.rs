//! `bangfu allocate`: scarce capacity allocated across competing needs, at least total cost
//! (`bangfu_core::allocate`).
//!
//! File mode (`--input FILE.json`, no database): the instance as integers, read here in two
//! stages — the document as written (serde refuses missing fields, unknown fields and
//! non-integers, naming line and column), then the core's checks (negative numbers, duplicate
//! or unknown ids), whose messages name the file. Output: `bangfu_web::json::allocation`.
//!
//! Database mode (`--kind KIND --department CODE`): `App::allocation` over the stored open needs
//! and registry of the department's jurisdiction at `--now` (default: the clock), as the
//! operator. Output: `bangfu_web::json::allocation_view` — the same contract, then the totals of
//! both methods and what the optimum saves, the providers and every need with its reason.

use super::db::{DbArgs, app_error, now as clock_now, operator, runtime};
use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_app::allocation::{AllocationRequest, AllocationView, DEFAULT_HORIZON_DAYS};
use bangfu_core::text::printable;
use chrono::{DateTime, Utc};
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
///
/// Or over the stored open needs of a kind in a department's jurisdiction:
///   bangfu allocate --kind sterilisation --department 140000 --db sqlite://bangfu.db --json
/// Providers: the registry's capabilities of the kind inside the jurisdiction, with their
/// capacity in the horizon (--horizon-days, 7: sterilisation capacity_per_day × days, stock,
/// headcount; slitting and testing unlimited) less what needs already selected there hold. Arcs:
/// the candidates screening finds feasible, at lead time × the need's weight — the hours its
/// case's first output moves if it waits 24 h more (the plan's what-if; 12 h for a need no plan
/// holds) ÷ 24. The output adds both methods' totals and what the optimum saves over first come
/// (hours of first output, km), the providers, and each need with why it got what it got.
/// Nothing is written: accept proposals on the allocation page or with the API.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["input", "kind"])))]
pub struct Args {
    /// The instance: {"providers":[{"id","capacity"}],"needs":[{"id","quantity","unmet_cost"}],"arcs":[{"need","provider","cost"}]}
    #[arg(long, value_name = "FILE.json", conflicts_with_all = ["kind", "department"])]
    input: Option<PathBuf>,
    /// With --department: allocate this kind (sterilisation, slitting, testing, raw_material, equipment, labour)
    #[arg(long, value_name = "KIND", requires = "department")]
    kind: Option<String>,
    /// With --kind: the department (region code or name) whose jurisdiction's open needs and registry are allocated
    #[arg(long, value_name = "CODE", requires = "kind")]
    department: Option<String>,
    /// With --kind: the planning horizon in days
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_HORIZON_DAYS, requires = "kind")]
    horizon_days: u32,
    /// With --kind: allocate as of this moment, RFC 3339 (default: now)
    #[arg(long, value_name = "RFC3339", requires = "kind")]
    now: Option<String>,
    #[command(flatten)]
    db: DbArgs,
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
    let Some(input) = &args.input else {
        return run_stored(&args);
    };
    let instance = read_instance(input)?;
    let allocated = match args.method {
        Method::Optimum => solve(&instance),
        Method::Greedy => greedy(&instance),
    }
    .map_err(|e| bad_input(format!("{}: {e}", input.display())))?;
    if args.json {
        println!("{}", bangfu_web::json::allocation(&allocated));
    } else {
        print_allocation(&allocated);
    }
    Ok(Outcome::Ok)
}

fn run_stored(args: &Args) -> CliResult {
    let (Some(kind), Some(department)) = (&args.kind, &args.department) else {
        return Err(bad_input("give --input FILE.json, or --kind KIND and --department CODE"));
    };
    let now = match &args.now {
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| bad_input(format!("--now {text:?} is not an RFC 3339 time such as 2020-02-13T08:00:00+08:00 ({e})")))?,
        None => clock_now(),
    };
    let request = AllocationRequest {
        kind: kind.clone(),
        department: department.clone(),
        horizon_days: args.horizon_days,
        method: match args.method {
            Method::Optimum => bangfu_app::allocation::Method::Optimum,
            Method::Greedy => bangfu_app::allocation::Method::Greedy,
        },
    };
    runtime()?.block_on(async {
        let app = args.db.open().await?;
        let view = app.allocation(&operator(), now, &request).await;
        app.close().await;
        let view = view.map_err(app_error)?;
        if args.json {
            println!("{}", bangfu_web::json::allocation_view(&view));
        } else {
            print_view(&view);
        }
        Ok(Outcome::Ok)
    })
}

fn print_view(v: &AllocationView) {
    println!(
        "{} over {} ({}), horizon {} days: {} open needs, {} providers",
        v.kind,
        printable(&v.department_name),
        v.department,
        v.horizon_days,
        v.proposals.len(),
        v.providers.len()
    );
    let s = v.savings();
    println!(
        "optimum: first output {:.1} h, {:.0} km, {} units unmet; first come: {:.1} h, {:.0} km, {} unmet; the optimum saves {:.1} h of first output and {:.0} km (negative: more)",
        v.optimum.first_output_h, v.optimum.km, v.optimum.unmet_units, v.greedy.first_output_h, v.greedy.km, v.greedy.unmet_units, s.first_output_h, s.km
    );
    for p in &v.proposals {
        let parts: Vec<String> = p.parts.iter().map(|x| format!("{} × {} ({:.1} h)", x.units, printable(&x.name), x.lead_time_h)).collect();
        let unmet = if p.unmet_units > 0 { format!(", {} unmet", p.unmet_units) } else { String::new() };
        println!("need {} (weight {:.1} h): {}{unmet}", p.need.need.id, p.need.weight_h, if parts.is_empty() { "—".to_string() } else { parts.join(" + ") });
        println!("    {}", printable(&p.reason.en));
    }
    for (id, why) in &v.skipped {
        println!("need {id} skipped: {}", printable(why));
    }
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
