//! `bangfu route`: the routing rule on the command line, one pair or a CSV file of pairs.

use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_core::model::NeedKind;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::routing::{Route, Router, RoutingPolicy, route};
use std::collections::HashMap;
use std::io::Write;
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
    /// Override the routing policy with scope=tier pairs, such as national=city; scopes not named
    /// keep the default local=county,city=city,province=province,national=province
    #[arg(long, value_name = "SCOPE=TIER,...")]
    policy: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    let tree = RegionTree::embedded();
    let policy = match &args.policy {
        Some(text) => RoutingPolicy::parse(text).map_err(|e| bad_input(format!("--policy: {e}")))?,
        None => RoutingPolicy::default(),
    };
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

/// The same contract as [`route_json`], serialised straight from the decision (no intermediate
/// map) for the thousands of lines of `--pairs`.
#[derive(serde::Serialize)]
struct RouteLine<'a> {
    scope: &'a str,
    owner: Code,
    letter_to: Option<Code>,
    explanation: Explanation<'a>,
}

#[derive(serde::Serialize)]
struct Explanation<'a> {
    zh: &'a str,
    en: &'a str,
}

/// A region code written as a six-digit JSON string without allocating.
struct Code(RegionCode);

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let n = self.0.as_u32();
        let mut digits = [b'0'; 6];
        for (i, d) in digits.iter_mut().enumerate() {
            *d = b'0' + u8::try_from(n / 10u32.pow(5 - i as u32) % 10).unwrap_or(0);
        }
        serializer.serialize_str(std::str::from_utf8(&digits).unwrap_or("000000"))
    }
}

fn write_json_line(out: &mut Vec<u8>, decision: &Route) -> Result<(), CliError> {
    let line = RouteLine {
        scope: decision.scope.as_str(),
        owner: Code(decision.owner),
        letter_to: decision.letter_to.map(Code),
        explanation: Explanation { zh: &decision.explanation.zh, en: &decision.explanation.en },
    };
    serde_json::to_writer(&mut *out, &line).map_err(|e| CliError(e.to_string()))?;
    out.push(b'\n');
    Ok(())
}

fn run_pairs(tree: &RegionTree, policy: &RoutingPolicy, path: &PathBuf, json: bool) -> CliResult {
    let file = std::fs::File::open(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let headers = reader.headers().map_err(|e| bad_input(format!("{}: {e}", path.display())))?.clone();
    let expected = ["enterprise_region", "solution_region", "kind"];
    if headers.iter().map(str::trim).take(3).ne(expected.iter().copied()) {
        return Err(bad_input(format!(
            "{}: the header is {:?}, expected enterprise_region,solution_region,kind",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(",")
        )));
    }
    let router = Router::new(tree, policy.clone());
    // Decide every row into a buffer first, so that a bad row 90,000 prints nothing half-done.
    let mut out: Vec<u8> = Vec::with_capacity(1 << 20);
    // Rows repeat in real files (one enterprise, many needs): each distinct pair is explained once.
    let mut seen: HashMap<(RegionCode, RegionCode, Option<NeedKind>), std::ops::Range<usize>> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut row = 1;
    loop {
        row += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(bad_input(format!("{} row {row}: {e}", path.display()))),
        }
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
        if let Some(earlier) = seen.get(&(from, to, kind)) {
            out.extend_from_within(earlier.clone());
            continue;
        }
        let start = out.len();
        let decision = router.route(from, to, kind)?;
        if json {
            write_json_line(&mut out, &decision)?;
        } else {
            writeln!(out, "{}\t{}\t{}", decision.scope, decision.owner, decision.letter_to.map_or(String::new(), |c| c.to_string()))?;
        }
        seen.insert((from, to, kind), start..out.len());
    }
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(&out)?;
    lock.flush()?;
    Ok(Outcome::Ok)
}
