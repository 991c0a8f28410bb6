//! `bangfu match`: screen a need against providers and rank the candidates, with reasons.
//!
//! File mode (what-if analysis, no database): `--providers FILE.jsonl --need FILE.json`. The
//! JSON is read here, in two stages: first the lines as the user wrote them, then the domain
//! values of `bangfu_core::capability` and `screening`, whose checks give the messages; every
//! message names the file and, for providers, the line. Stored mode (`--need-id ID --db URL`) is
//! the same engine over the stored need and registry, recording nothing.

use super::db::DbArgs;
use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_core::capability::{AttrValue, Capability, CapabilityAttrs, Requirement};
use bangfu_core::model::NeedKind;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::routing::RoutingPolicy;
use bangfu_core::screening::{Candidate, NeedSpec, Rejection, Screener, Screening};
use bangfu_core::travel::{GeodesicTravel, LonLat, TravelSettings, Trip};
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Screen a need against providers: feasible candidates ranked by lead time (travel + processing),
/// then distance, then provider id; every other provider of the need's kind with its reasons
/// (unavailable, spec_mismatch, insufficient_capacity, too_far, too_slow).
///
/// Examples:
///   bangfu match --providers providers.jsonl --need need.json --json
///
/// A provider line: {"id":"wanrong","name":"万荣华康药业","region":"140822","lon":110.84,"lat":35.42,
///   "kind":"sterilisation","available":true,"attrs":{"method":"co60","turnaround_h":36,"capacity_per_day":100000}}
/// The need: {"kind":"sterilisation","region":"141021","quantity":90000,"requires":{"methods":["co60"]},
///   "max_distance_km":400,"max_lead_time_h":96}   (optional: lon, lat, trip = round | one_way)
///
/// lon and lat may be left out: the seat of the region's government is used. "available"
/// defaults to true, "name" to the id. Exit 1 when no provider is feasible.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["providers", "need_id"])))]
pub struct Args {
    /// Providers, one JSON object a line (one capability each)
    #[arg(long, value_name = "FILE.jsonl", requires = "need")]
    providers: Option<PathBuf>,
    /// The need, one JSON object
    #[arg(long, value_name = "FILE.json", requires = "providers")]
    need: Option<PathBuf>,
    /// A stored need, screened against the stored registry
    #[arg(long, value_name = "ID", conflicts_with_all = ["providers", "need"])]
    need_id: Option<i64>,
    #[command(flatten)]
    db: DbArgs,
    /// Road distance ÷ geodesic distance
    #[arg(long, default_value_t = 1.3)]
    circuity: f64,
    /// Average road speed, km/h
    #[arg(long, default_value_t = 60.0)]
    speed_kmh: f64,
    /// Print JSON: {"candidates":[…],"rejected":[…]}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    let travel = GeodesicTravel::new(TravelSettings { circuity: args.circuity, speed_kmh: args.speed_kmh })
        .map_err(|e| bad_input(format!("--circuity/--speed-kmh: {e}")))?;
    let (Some(providers), Some(need)) = (&args.providers, &args.need) else {
        return run_stored(&args);
    };
    let tree = RegionTree::embedded();
    let need = read_need(tree, need)?;
    let capabilities = read_providers(tree, providers)?;
    let policy = RoutingPolicy::default();
    let screening = Screener::new(tree, &policy, &travel).screen(&need, &capabilities)?;
    if args.json {
        println!("{}", screening_json(&screening));
    } else {
        print_screening(&screening);
    }
    Ok(if screening.candidates.is_empty() { Outcome::NotFound } else { Outcome::Ok })
}

/// The key of a provider line: its id, then its line, so that two lines of one id stay apart.
type LineKey = (String, usize);

/// `--need-id ID`: the same engine over the stored need and registry (nothing is recorded).
fn run_stored(args: &Args) -> CliResult {
    let Some(need_id) = args.need_id else { return Err(bad_input("give --providers and --need, or --need-id")) };
    super::db::runtime()?.block_on(async {
        let app = args.db.open().await?;
        let (screening, providers) = app.what_if_screening(&super::db::operator(), need_id).await.map_err(super::db::app_error)?;
        app.close().await;
        let key = |id: i64| (providers.get(&id).map_or_else(|| id.to_string(), |p| p.key.clone()), usize::try_from(id).unwrap_or(0));
        let screening = Screening {
            candidates: screening.candidates.into_iter().map(|c| Candidate {
                provider: key(c.provider.0), name: c.name, region: c.region, road_km: c.road_km, travel_h: c.travel_h,
                processing_h: c.processing_h, lead_time_h: c.lead_time_h, scope: c.scope, owner: c.owner, letter_to: c.letter_to, explanation: c.explanation,
            }).collect(),
            rejected: screening.rejected.into_iter().map(|r| Rejection {
                provider: key(r.provider.0), name: r.name, region: r.region, road_km: r.road_km, lead_time_h: r.lead_time_h, reasons: r.reasons, explanation: r.explanation,
            }).collect(),
        };
        if args.json {
            println!("{}", screening_json(&screening));
        } else {
            print_screening(&screening);
        }
        Ok(if screening.candidates.is_empty() { Outcome::NotFound } else { Outcome::Ok })
    })
}

/// The JSON contract of issue 4.
pub fn screening_json(screening: &Screening<LineKey>) -> Value {
    json!({
        "candidates": screening.candidates.iter().map(candidate_json).collect::<Vec<_>>(),
        "rejected": screening.rejected.iter().map(rejection_json).collect::<Vec<_>>(),
    })
}

fn candidate_json(c: &Candidate<LineKey>) -> Value {
    json!({
        "provider": c.provider.0,
        "road_km": round2(c.road_km),
        "travel_h": round2(c.travel_h),
        "processing_h": round2(c.processing_h),
        "lead_time_h": round2(c.lead_time_h),
        "scope": c.scope.as_str(),
        "owner": c.owner.to_string(),
        "explanation": { "zh": c.explanation.zh, "en": c.explanation.en },
    })
}

fn rejection_json(r: &Rejection<LineKey>) -> Value {
    json!({
        "provider": r.provider.0,
        "reasons": r.reasons.iter().map(|reason| reason.code()).collect::<Vec<_>>(),
        "explanation": { "zh": r.explanation.zh, "en": r.explanation.en },
    })
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn print_screening(screening: &Screening<LineKey>) {
    println!("candidates 候选: {}", screening.candidates.len());
    for (rank, c) in screening.candidates.iter().enumerate() {
        println!(
            "{:>3}. {}\t{:.0} km\ttravel {:.1} h\tprocessing {:.1} h\tlead {:.1} h\t{} → {}",
            rank + 1,
            c.provider.0,
            c.road_km,
            c.travel_h,
            c.processing_h,
            c.lead_time_h,
            c.scope,
            c.owner
        );
        println!("     {}\n     {}", c.explanation.zh, c.explanation.en);
    }
    println!("rejected 不符合: {}", screening.rejected.len());
    for r in &screening.rejected {
        let codes: Vec<&str> = r.reasons.iter().map(|reason| reason.code()).collect();
        println!("     {}\t{}", r.provider.0, codes.join(", "));
        println!("     {}\n     {}", r.explanation.zh, r.explanation.en);
    }
}

const PROVIDER_FIELDS: [&str; 8] = ["id", "name", "region", "lon", "lat", "kind", "available", "attrs"];
const NEED_FIELDS: [&str; 9] = ["kind", "region", "lon", "lat", "quantity", "requires", "trip", "max_distance_km", "max_lead_time_h"];

fn read_providers(tree: &RegionTree, path: &Path) -> Result<Vec<Capability<LineKey>>, CliError> {
    let file = std::fs::File::open(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
    let mut capabilities = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let number = i + 1;
        let at = |message: String| bad_input(format!("{} line {number}: {message}", path.display()));
        let line = line.map_err(|e| at(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line).map_err(|e| at(format!("not JSON: {e}")))?;
        capabilities.push(provider(tree, &value, number).map_err(at)?);
    }
    Ok(capabilities)
}

fn provider(tree: &RegionTree, value: &Value, line: usize) -> Result<Capability<LineKey>, String> {
    let object = object_with(value, &PROVIDER_FIELDS, "a provider")?;
    let id = match object.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_string(),
        Some(Value::Number(id)) => id.to_string(),
        Some(_) => return Err("\"id\" must be a non-empty text or a number".to_string()),
        None => return Err("missing \"id\"".to_string()),
    };
    let name = match object.get("name") {
        None | Some(Value::Null) => id.clone(),
        Some(Value::String(name)) => name.trim().to_string(),
        Some(_) => return Err("\"name\" must be text".to_string()),
    };
    let kind = kind(object)?;
    let region = region(tree, object)?;
    let at = place(tree, object, region)?;
    let available = match object.get("available") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(available)) => *available,
        Some(_) => return Err("\"available\" must be true or false".to_string()),
    };
    let attrs = match object.get("attrs") {
        Some(Value::Object(attrs)) => attr_values(attrs),
        Some(_) => return Err("\"attrs\" must be an object".to_string()),
        None => return Err(format!("missing \"attrs\" — a {kind} provider has: {}", CapabilityAttrs::attribute_names(kind).unwrap_or(&[]).join(", "))),
    };
    let attrs = CapabilityAttrs::from_attrs(kind, &attrs).map_err(|e| e.to_string())?;
    Ok(Capability { provider: (id, line), name, region, at, available, attrs })
}

fn read_need(tree: &RegionTree, path: &Path) -> Result<NeedSpec, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
    let at = |message: String| bad_input(format!("{}: {message}", path.display()));
    let value: Value = serde_json::from_str(&text).map_err(|e| at(format!("not JSON: {e}")))?;
    need(tree, &value).map_err(at)
}

fn need(tree: &RegionTree, value: &Value) -> Result<NeedSpec, String> {
    let object = object_with(value, &NEED_FIELDS, "the need")?;
    let kind = kind(object)?;
    let region = region(tree, object)?;
    let at = place(tree, object, region)?;
    let quantity = number(object, "quantity")?.ok_or("missing \"quantity\"")?;
    let requires = match object.get("requires") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(attrs)) => attr_values(attrs),
        Some(_) => return Err("\"requires\" must be an object".to_string()),
    };
    let requires = Requirement::from_attrs(kind, &requires).map_err(|e| format!("requires: {e}"))?;
    let mut need = NeedSpec::new(region, at, quantity, requires).map_err(|e| e.to_string())?;
    match object.get("trip") {
        None | Some(Value::Null) => {}
        Some(Value::String(trip)) => need = need.with_trip(Trip::parse(trip)?),
        Some(_) => return Err("\"trip\" must be \"round\" or \"one_way\"".to_string()),
    }
    if let Some(km) = number(object, "max_distance_km")? {
        need = need.with_max_distance_km(km).map_err(|e| e.to_string())?;
    }
    if let Some(hours) = number(object, "max_lead_time_h")? {
        need = need.with_max_lead_time_h(hours).map_err(|e| e.to_string())?;
    }
    Ok(need)
}

/// The object, refusing fields not in `fields` (a misspelt field would silently be ignored).
fn object_with<'v>(value: &'v Value, fields: &[&str], what: &str) -> Result<&'v Map<String, Value>, String> {
    let Value::Object(object) = value else { return Err(format!("{what} must be a JSON object")) };
    if let Some(field) = object.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(format!("unknown field {field:?} — expected: {}", fields.join(", ")));
    }
    Ok(object)
}

fn kind(object: &Map<String, Value>) -> Result<NeedKind, String> {
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => NeedKind::parse(kind)?,
        Some(_) => return Err("\"kind\" must be text".to_string()),
        None => return Err("missing \"kind\"".to_string()),
    };
    if !kind.has_capabilities() {
        let kinds: Vec<&str> = NeedKind::ALL.iter().filter(|k| k.has_capabilities()).map(|k| k.as_str()).collect();
        return Err(format!("kind {kind} has no capabilities to screen — expected one of: {}", kinds.join(", ")));
    }
    Ok(kind)
}

fn region(tree: &RegionTree, object: &Map<String, Value>) -> Result<RegionCode, String> {
    let text = match object.get("region") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(code)) => code.to_string(),
        Some(_) => return Err("\"region\" must be a GB/T 2260 code such as \"141021\"".to_string()),
        None => return Err("missing \"region\"".to_string()),
    };
    tree.resolve(&text).map_err(|e| e.to_string())
}

/// lon and lat as given, or both left out for the seat of the region's government.
fn place(tree: &RegionTree, object: &Map<String, Value>, region: RegionCode) -> Result<LonLat, String> {
    match (number(object, "lon")?, number(object, "lat")?) {
        (Some(lon), Some(lat)) => LonLat::new(lon, lat),
        (None, None) => match tree.get(region).and_then(|r| Some(LonLat { lon: r.lon?, lat: r.lat? })) {
            Some(seat) => Ok(seat),
            None => Err(format!("region {region} has no coordinates in the embedded data — give \"lon\" and \"lat\"")),
        },
        _ => Err("give both \"lon\" and \"lat\", or neither (the region's seat is used)".to_string()),
    }
}

fn number(object: &Map<String, Value>, field: &str) -> Result<Option<f64>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| format!("\"{field}\" is not a usable number")),
        Some(_) => Err(format!("\"{field}\" must be a number")),
    }
}

fn attr_values(attrs: &Map<String, Value>) -> Vec<(String, AttrValue)> {
    attrs
        .iter()
        .map(|(name, value)| {
            let typed = match value {
                Value::Number(n) => n.as_f64().map_or_else(|| AttrValue::Other(format!("the number {n}")), AttrValue::Number),
                Value::String(text) => AttrValue::Text(text.clone()),
                Value::Array(items) => match items.iter().map(|item| item.as_str().map(str::to_string)).collect::<Option<Vec<_>>>() {
                    Some(texts) => AttrValue::TextList(texts),
                    None => AttrValue::Other("a list with items that are not text".to_string()),
                },
                Value::Bool(b) => AttrValue::Other(b.to_string()),
                Value::Null => AttrValue::Other("null".to_string()),
                Value::Object(_) => AttrValue::Other("an object".to_string()),
            };
            (name.clone(), typed)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_provider(line: &str) -> Result<Capability<LineKey>, String> {
        provider(RegionTree::embedded(), &serde_json::from_str(line).unwrap(), 1)
    }

    fn parse_need(text: &str) -> Result<NeedSpec, String> {
        need(RegionTree::embedded(), &serde_json::from_str(text).unwrap())
    }

    #[test]
    fn a_provider_line_becomes_a_capability() {
        let c = parse_provider(
            r#"{"id":"wanrong","name":"万荣华康药业","region":"140822","lon":110.84,"lat":35.42,"kind":"sterilisation","available":true,"attrs":{"method":"co60","turnaround_h":36,"capacity_per_day":100000}}"#,
        )
        .unwrap();
        assert_eq!(c.provider, ("wanrong".to_string(), 1));
        assert_eq!(c.kind(), NeedKind::Sterilisation);
        assert_eq!(c.at, LonLat { lon: 110.84, lat: 35.42 });
    }

    #[test]
    fn a_provider_without_coordinates_sits_at_its_region_seat() {
        let c = parse_provider(r#"{"id":7,"region":"曲沃县","kind":"labour","attrs":{"skill":"机修","headcount":3,"lead_time_h":4}}"#).unwrap();
        assert_eq!((c.provider.0.as_str(), c.name.as_str(), c.available), ("7", "7", true));
        assert_eq!(c.at, LonLat { lon: 111.47586, lat: 35.641086 });
    }

    #[test]
    fn bad_provider_lines_say_what_is_wrong() {
        let cases = [
            (r#"{"id":"a","region":"141021","kind":"masks","attrs":{}}"#, "unknown need kind \"masks\""),
            (r#"{"id":"a","region":"141099","kind":"labour","attrs":{}}"#, "region 141099 not found — did you mean"),
            (r#"{"id":"a","region":"141021","kind":"labour","attrs":{"skill":"x","headcount":-2,"lead_time_h":1}}"#, "headcount is -2, must not be negative"),
            (r#"{"id":"a","region":"141021","kind":"labour","attrs":{"skill":"x","lead_time_h":1}}"#, "missing attribute \"headcount\" for labour"),
            (r#"{"id":"a","region":"141021","kind":"labour"}"#, "missing \"attrs\" — a labour provider has: skill, headcount, lead_time_h"),
            (r#"{"id":"a","region":"141021","kind":"permit","attrs":{}}"#, "kind permit has no capabilities to screen"),
            (r#"{"id":"a","region":"141021","kind":"labour","lon":1,"attrs":{}}"#, "give both \"lon\" and \"lat\""),
            (r#"{"id":"a","regoin":"141021"}"#, "unknown field \"regoin\""),
        ];
        for (line, expected) in cases {
            let err = parse_provider(line).unwrap_err();
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn a_need_file_becomes_a_need_with_its_limits() {
        let need = parse_need(r#"{"kind":"sterilisation","region":"141021","quantity":90000,"max_distance_km":400,"max_lead_time_h":96}"#).unwrap();
        assert_eq!(need.trip, Trip::Round);
        assert_eq!((need.max_distance_km, need.max_lead_time_h), (Some(400.0), Some(96.0)));
        let need = parse_need(r#"{"kind":"raw_material","region":"141021","quantity":5,"requires":{"material":"熔喷布"},"trip":"round"}"#).unwrap();
        assert_eq!(need.trip, Trip::Round);
    }

    #[test]
    fn a_need_with_a_negative_quantity_is_refused() {
        let err = parse_need(r#"{"kind":"sterilisation","region":"141021","quantity":-1}"#).unwrap_err();
        assert_eq!(err, "quantity is -1, must not be negative");
        let err = parse_need(r#"{"kind":"slitting","region":"141021","quantity":1,"requires":{"input_width_m":1.6}}"#).unwrap_err();
        assert!(err.starts_with("requires: missing attribute \"output_width_m\""), "{err}");
    }
}
