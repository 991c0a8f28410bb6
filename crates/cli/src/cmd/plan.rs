//! `bangfu plan`: the critical path of an enterprise's plan, its projected first-output time and
//! every milestone's slack.
//!
//! File mode (`--input FILE.json`, no database): the JSON is read here in two stages — first the
//! document as the user wrote it, then `bangfu_core::plan` values, whose checks give the
//! messages (cycles, unknown dependencies, duplicate ids). Every message names the file.
//!
//! Case mode (`--case ID`): the stored plan of a case, projected by `App::case_plan` at `--now`
//! (default: the clock), every open need attached to a milestone holding it until its expected
//! resolution. Exit 1 when the case has no plan.
//!
//! The output contract is `bangfu_web::json::schedule` (`plan_json` here); case mode prints
//! `bangfu_web::json::case_plan`, the same contract followed by what the case adds.

use bangfu_core::text::printable;
use super::db::{DbArgs, app_error, now as clock_now, operator, runtime};
use super::escalate::WindowsArgs;
use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_app::plans::{Expected, PlanView};
use bangfu_core::ids::NeedId;
use bangfu_core::plan::{Blocker, Milestone, Plan, Schedule, schedule};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Compute a plan's critical path: earliest and latest start and finish of every milestone, its
/// slack, the critical path and the projected first-output time. Times are printed at UTC+8.
///
/// Examples:
///   bangfu plan --input crates/cli/tests/data/quwo-plan.json --json
///
/// The file: {"start": "2020-01-26T08:00:00+08:00", "milestones": [
///   {"id": "lines_arrive", "name": "生产线运抵", "duration_h": 48, "after": ["lines_held"],
///    "not_before": "2020-01-29T08:00:00+08:00"}, …]}
/// Optional: "note" (free text, ignored). Optional per milestone: "not_before", "actual_start", "actual_finish" (RFC 3339); "name"
/// defaults to the id and "after" to none. Optional: "blockers": [{"need": 11, "milestone":
/// "sterilisation", "resolves_at": RFC 3339}] — a milestone cannot finish before its blocking
/// needs are resolved. A cycle is refused (exit 2) with the milestones in it.
///
/// Or a case's stored plan:
///   bangfu plan --case 1 --db sqlite://bangfu.db --json [--now 2020-02-05T09:00:00+08:00]
/// projected from --now: unstarted work starts no earlier, actuals keep the past, and each open
/// need attached to a milestone holds it until it is expected to resolve (its best candidate's
/// lead time from now, else its deadline, else its owner's response window). The JSON is the
/// same contract followed by the case's additions (delay_h: how far open needs put first output
/// back; days_from_plan_to_production; blockers). Exit 1 when the case has no plan.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["input", "case"])))]
pub struct Args {
    /// The plan: {"start": RFC 3339, "milestones": [{"id","name","duration_h","after":[ids],"not_before"?}]}
    #[arg(long, value_name = "FILE.json")]
    input: Option<PathBuf>,
    /// The stored plan of this case (with --db)
    #[arg(long, value_name = "ID")]
    case: Option<i64>,
    #[command(flatten)]
    db: DbArgs,
    /// With --case: project the plan from this moment, RFC 3339 (default: now)
    #[arg(long, value_name = "RFC3339", requires = "case")]
    now: Option<String>,
    #[command(flatten)]
    windows: WindowsArgs,
    /// Print JSON: {"finish","critical_path":[ids],"milestones":[{"id","es","ef","ls","lf","slack_h"}]}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    if let Some(case_id) = args.case {
        return run_case(&args, case_id);
    }
    let Some(path) = &args.input else {
        return Err(bad_input("give --input FILE.json or --case ID"));
    };
    let (plan, blockers) = read_plan(path)?;
    let computed = schedule(&plan, &blockers).map_err(|e| bad_input(format!("{}: {e}", path.display())))?;
    if args.json {
        println!("{}", plan_json(&plan, &computed));
    } else {
        print_plan(&plan, &computed);
    }
    Ok(Outcome::Ok)
}

fn run_case(args: &Args, case_id: i64) -> CliResult {
    let now = match &args.now {
        Some(text) => time(text, "--now").map_err(bad_input)?,
        None => clock_now(),
    };
    runtime()?.block_on(async {
        let app = args.windows.apply(args.db.open().await?)?;
        let view = app.case_plan(&operator(), case_id, now).await;
        app.close().await;
        let view = match view {
            Ok(view) => view,
            Err(bangfu_app::AppError::NotFound(what)) => {
                eprintln!("{what} not found");
                return Ok(Outcome::NotFound);
            }
            Err(e) => return Err(app_error(e)),
        };
        if view.is_empty() {
            eprintln!("case {case_id} has no plan yet — set one with PUT /api/v1/cases/{case_id}/plan");
            return Ok(Outcome::NotFound);
        }
        if args.json {
            println!("{}", bangfu_web::json::case_plan(&view));
        } else {
            print_case_plan(&view);
        }
        Ok(Outcome::Ok)
    })
}

/// The JSON contract: {"finish": RFC 3339, "critical_path": [ids], "milestones": [{"id", "es",
/// "ef", "ls", "lf", "slack_h"}]}, milestones in the plan's order, times at UTC+8.
pub fn plan_json(plan: &Plan, computed: &Schedule) -> Value {
    bangfu_web::json::schedule(plan, computed)
}

fn short(t: DateTime<Utc>) -> String {
    bangfu_core::china_time::minute(t)
}

/// A case's plan for people: the plan as in file mode, then what holds it back.
fn print_case_plan(view: &PlanView) {
    print_plan(&view.plan, &view.schedule);
    if let Some(days) = view.days_from_plan_to_production() {
        println!("days from plan to production: {days:.1} (plan first set {})", view.planned_at.map(short).unwrap_or_default());
    }
    if view.delay_h() > 0.0 {
        println!("open needs put first output back {:.1} h (without them: {})", view.delay_h(), short(view.finish_without_open_needs));
    }
    for b in &view.blockers {
        let expected = match (b.resolves_at, b.expected) {
            (None, _) => b.need.status.to_string(),
            (Some(at), Expected::Candidate { lead_time_h, .. }) => format!("expected {} (best candidate, {lead_time_h:.1} h)", short(at)),
            (Some(at), Expected::Deadline) => format!("expected {} (deadline)", short(at)),
            (Some(at), Expected::ResponseWindow { tier, hours }) => format!("expected {} (assumed: the {tier} response window, {hours:.0} h)", short(at)),
            (Some(at), Expected::Closed) => short(at),
        };
        println!("need {} blocks {}: {} — {expected}", b.need.id, printable(&b.milestone), printable(&b.need.title));
    }
}

fn print_plan(plan: &Plan, computed: &Schedule) {
    println!(
        "first output: {} (UTC+8), {:.1} days after the start {}",
        short(computed.finish()),
        computed.span_h() / 24.0,
        short(computed.start())
    );
    let path: Vec<&str> = computed.critical_path().iter().map(|&i| plan.milestones[i].key.as_str()).collect();
    println!("critical path: {}", path.join(" → "));
    let width = plan.milestones.iter().map(|m| m.key.chars().count()).max().unwrap_or(0).max(2);
    println!("  {:width$}  {:16}  {:16}  {:>8}  name", "id", "earliest start", "earliest finish", "slack_h");
    for &i in computed.topological_order() {
        let (m, t) = (&plan.milestones[i], computed.times(i));
        let mark = if t.critical { '*' } else { ' ' };
        println!("{mark} {:width$}  {}  {}  {:>8.1}  {}", printable(&m.key), short(t.es), short(t.ef), t.slack_h, printable(&m.name));
    }
}

/// The plan file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    /// Free text for people, e.g. where the dates come from; ignored.
    #[serde(default, rename = "note")]
    _note: Option<String>,
    start: String,
    milestones: Vec<MilestoneLine>,
    #[serde(default)]
    blockers: Vec<BlockerLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneLine {
    id: String,
    #[serde(default)]
    name: Option<String>,
    duration_h: f64,
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    not_before: Option<String>,
    #[serde(default)]
    actual_start: Option<String>,
    #[serde(default)]
    actual_finish: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockerLine {
    need: i64,
    milestone: String,
    resolves_at: String,
}

fn read_plan(path: &Path) -> Result<(Plan, Vec<Blocker>), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| bad_input(format!("cannot read {}: {e}", path.display())))?;
    parse_plan(&text).map_err(|e| bad_input(format!("{}: {e}", path.display())))
}

/// Parses a plan file into the domain's plan and blockers; the message says what to fix.
pub fn parse_plan(text: &str) -> Result<(Plan, Vec<Blocker>), String> {
    let file: PlanFile = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            format!(
                "{e} — expected {{\"start\": RFC 3339, \"milestones\": [{{\"id\", \"name\", \"duration_h\", \"after\": [ids], \"not_before\"?}}]}}"
            )
        } else {
            format!("not valid JSON: {e}")
        }
    })?;
    let start = time(&file.start, "start")?;
    let milestones = file
        .milestones
        .into_iter()
        .map(|line| {
            let field = |value: &Option<String>, name: &str| {
                value.as_deref().map(|v| time(v, &format!("milestone {:?}: {name}", line.id))).transpose()
            };
            Ok(Milestone {
                name: line.name.clone().unwrap_or_else(|| line.id.clone()),
                duration_h: line.duration_h,
                not_before: field(&line.not_before, "not_before")?,
                actual_start: field(&line.actual_start, "actual_start")?,
                actual_finish: field(&line.actual_finish, "actual_finish")?,
                after: line.after,
                key: line.id,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let blockers = file
        .blockers
        .into_iter()
        .map(|line| {
            Ok(Blocker {
                need: NeedId(line.need),
                resolves_at: time(&line.resolves_at, &format!("blocker of need {}: resolves_at", line.need))?,
                milestone: line.milestone,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((Plan { start, milestones }, blockers))
}

fn time(text: &str, what: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{what} {text:?} is not an RFC 3339 time such as 2020-02-13T08:00:00+08:00 ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const QUWO: &str = include_str!("../../tests/data/quwo-plan.json");

    /// Parses and schedules a plan file, returning the JSON output or the error message.
    fn check(text: &str) -> Result<Value, String> {
        let (plan, blockers) = parse_plan(text)?;
        let computed = schedule(&plan, &blockers).map_err(|e| e.to_string())?;
        Ok(plan_json(&plan, &computed))
    }

    #[test]
    fn the_reference_plan_file_finishes_on_13_february_at_utc_plus_8() {
        let v = check(QUWO).unwrap();
        assert_eq!(v["finish"], "2020-02-13T08:00:00+08:00");
        let path: Vec<&str> = v["critical_path"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(path.first(), Some(&"order_placed"));
        assert_eq!(path.last(), Some(&"first_output"));
        assert!(path.contains(&"sterilisation"));
        let first = &v["milestones"][0];
        let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "es", "ef", "ls", "lf", "slack_h"]);
        let arrive = v["milestones"].as_array().unwrap().iter().find(|m| m["id"] == "lines_arrive").unwrap();
        assert_eq!(arrive["ef"], "2020-01-31T08:00:00+08:00");
        assert_eq!(arrive["slack_h"], 0.0);
    }

    #[test]
    fn a_small_plan_prints_the_contract_with_times_at_utc_plus_8() {
        let v = check(
            r#"{"start": "2020-02-01T00:00:00Z", "milestones": [
                {"id": "a", "name": "A", "duration_h": 2, "after": []},
                {"id": "b", "name": "B", "duration_h": 1.5, "after": ["a"]},
                {"id": "c", "duration_h": 2, "not_before": "2020-02-01T10:00:00+08:00"}]}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "finish": "2020-02-01T12:00:00+08:00",
                "critical_path": ["c"],
                "milestones": [
                    {"id": "a", "es": "2020-02-01T08:00:00+08:00", "ef": "2020-02-01T10:00:00+08:00",
                     "ls": "2020-02-01T08:30:00+08:00", "lf": "2020-02-01T10:30:00+08:00", "slack_h": 0.5},
                    {"id": "b", "es": "2020-02-01T10:00:00+08:00", "ef": "2020-02-01T11:30:00+08:00",
                     "ls": "2020-02-01T10:30:00+08:00", "lf": "2020-02-01T12:00:00+08:00", "slack_h": 0.5},
                    {"id": "c", "es": "2020-02-01T10:00:00+08:00", "ef": "2020-02-01T12:00:00+08:00",
                     "ls": "2020-02-01T10:00:00+08:00", "lf": "2020-02-01T12:00:00+08:00", "slack_h": 0.0},
                ]
            })
        );
    }

    #[test]
    fn a_cycle_is_an_error_naming_the_milestones_in_it() {
        let error = check(
            r#"{"start": "2020-02-01T08:00:00+08:00", "milestones": [
                {"id": "x", "name": "", "duration_h": 1, "after": ["z"]},
                {"id": "y", "name": "", "duration_h": 1, "after": ["x"]},
                {"id": "z", "name": "", "duration_h": 1, "after": ["y"]}]}"#,
        )
        .unwrap_err();
        assert!(error.contains(r#""x" → "y" → "z" → "x""#), "{error}");
    }

    #[test]
    fn a_missing_field_says_which_and_what_is_expected() {
        let error = check(r#"{"start": "2020-02-01T08:00:00+08:00", "milestones": [{"id": "a", "after": []}]}"#).unwrap_err();
        assert!(error.starts_with("missing field `duration_h`"), "{error}");
        assert!(error.contains("expected {\"start\""), "{error}");
    }

    #[test]
    fn a_misspelt_field_is_refused_with_the_fields_it_could_be() {
        let error = check(r#"{"start": "2020-02-01T08:00:00+08:00", "milestones": [{"id": "a", "duration_h": 1, "afer": []}]}"#)
            .unwrap_err();
        assert!(error.contains("unknown field `afer`"), "{error}");
    }

    #[test]
    fn bad_json_and_bad_times_are_errors_that_say_so() {
        assert!(check("{").unwrap_err().starts_with("not valid JSON"));
        let error = check(r#"{"start": "2020-02-30T08:00:00+08:00", "milestones": []}"#).unwrap_err();
        assert!(error.starts_with(r#"start "2020-02-30T08:00:00+08:00" is not an RFC 3339 time"#), "{error}");
        let error = check(r#"{"start": "2020-02-01T08:00:00+08:00", "milestones": [{"id": "a", "duration_h": 1, "not_before": "tomorrow"}]}"#)
            .unwrap_err();
        assert!(error.starts_with(r#"milestone "a": not_before "tomorrow""#), "{error}");
    }

    #[test]
    fn a_blocker_in_the_file_delays_the_finish() {
        let v = check(
            r#"{"start": "2020-02-01T08:00:00+08:00",
                "milestones": [{"id": "a", "duration_h": 1}],
                "blockers": [{"need": 3, "milestone": "a", "resolves_at": "2020-02-02T08:00:00+08:00"}]}"#,
        )
        .unwrap();
        assert_eq!(v["finish"], "2020-02-02T08:00:00+08:00");
    }
}
