//! `bangfu route`: the routing rule on the command line, one pair or a CSV file of pairs.

use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_core::model::NeedKind;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::routing::{Route, RoutingPolicy, route};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Decide a need's scope and owning department from where its solution lies.
///
/// Examples:
///   bangfu route --from 141021 --to 140822 --kind sterilisation --json
///   bangfu route --pairs pairs.csv --json     (header: enterprise_region,solution_region,kind)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The enterprise's region: a GB/T 2260 code such as 141021 (or a unique name such as 曲沃县)
    #[arg(long, required_unless_present = "pairs")]
    from: Option<String>,
    /// The region where the solution lies
    #[arg(long, required_unless_present = "pairs")]
    to: Option<String>,
    /// The need's kind (permit and traffic_pass are always local)
    #[arg(long)]
    kind: Option<String>,
    /// A CSV file with the header enterprise_region,solution_region,kind; one JSON line per row
    #[arg(long, conflicts_with_all = ["from", "to", "kind"])]
    pairs: Option<PathBuf>,
    /// Print JSON (one object, or one line per row with --pairs)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    let tree = RegionTree::embedded();
    let policy = RoutingPolicy::default();
    if let Some(path) = &args.pairs {
        return run_pairs(tree, &policy, path, args.json);
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        return Err(bad_input("give --from and --to, or --pairs FILE.csv"));
    };
    let from = tree.resolve(from).map_err(|e| bad_input(format!("--from: {e}")))?;
    let to = tree.resolve(to).map_err(|e| bad_input(format!("--to: {e}")))?;
    let kind = args.kind.as_deref().map(NeedKind::parse).transpose().map_err(|e| bad_input(format!("--kind: {e}")))?;
    let decision = route(tree, &policy, from, to, kind)?;
    if args.json {
        println!("{}", route_json(&decision));
    } else {
        println!("scope: {}\nowner: {}\nletter to: {}\n{}\n{}",
            decision.scope,
            decision.owner,
            decision.letter_to.map_or("—".to_string(), |c| c.to_string()),
            decision.explanation.zh,
            decision.explanation.en);
    }
    Ok(Outcome::Ok)
}

/// The JSON contract: {"scope","owner","letter_to","explanation":{"zh","en"}}.
pub fn route_json(decision: &Route) -> serde_json::Value {
    serde_json::json!({
        "scope": decision.scope.as_str(),
        "owner": decision.owner.to_string(),
        "letter_to": decision.letter_to.map(|c| c.to_string()),
        "explanation": { "zh": decision.explanation.zh, "en": decision.explanation.en },
    })
}

fn run_pairs(tree: &RegionTree, policy: &RoutingPolicy, path: &PathBuf, json: bool) -> CliResult {
    let file = std::fs::File::open(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(std::io::BufReader::new(file));
    let headers = reader.headers().map_err(|e| bad_input(format!("{}: {e}", path.display())))?.clone();
    let expected = ["enterprise_region", "solution_region", "kind"];
    if headers.iter().map(str::trim).take(3).ne(expected.iter().copied()) {
        return Err(bad_input(format!(
            "{}: the header is {:?}, expected enterprise_region,solution_region,kind",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(",")
        )));
    }
    // Decide every row first, so that a bad row 90,000 prints nothing half-done.
    let mut decisions = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| bad_input(format!("{} row {row}: {e}", path.display())))?;
        let field = |n: usize| record.get(n).unwrap_or("").trim();
        let code = |n: usize, column: &str| -> Result<RegionCode, CliError> {
            tree.parse_code(field(n)).map_err(|e| bad_input(format!("{} row {row}, {column}: {e}", path.display())))
        };
        let from = code(0, "enterprise_region")?;
        let to = code(1, "solution_region")?;
        let kind = match field(2) {
            "" => None,
            k => Some(NeedKind::parse(k).map_err(|e| bad_input(format!("{} row {row}, kind: {e}", path.display())))?),
        };
        decisions.push(route(tree, policy, from, to, kind)?);
    }
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for decision in &decisions {
        if json {
            writeln!(out, "{}", route_json(decision))?;
        } else {
            writeln!(out, "{}\t{}\t{}", decision.scope, decision.owner, decision.letter_to.map_or(String::new(), |c| c.to_string()))?;
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}
