//! The registry importer fuzzed with proptest (issue 17, F11): files of mangled lines — text with
//! control characters, names and keys far too long, numbers that are not finite or not numbers,
//! broken quoting, wrong types in JSONL, regions out of an officer's jurisdiction — mixed with
//! good lines, in CSV and JSONL, imported by an admin or by the 曲沃县 officer. Parsing never
//! panics; an import is all or nothing: when refused, the registry and the audit log are as they
//! were; when done, every line is in the registry and the log grew by one event.
//!
//! Runs on SQLite and, when BANGFU_TEST_PG names a server, PostgreSQL
//! (`…::sqlite`, `…::postgres`), on one database per backend across all generated files.

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it where it failed

use bangfu_app::import::RegistryFormat;
use bangfu_app::{Actor, App};
use bangfu_core::region::RegionCode;
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// One line's fields as text, before the file's format writes them.
#[derive(Clone, Debug)]
struct Fields {
    key: String,
    name: String,
    region: String,
    lon: String,
    lat: String,
    kind: String,
    available: String,
    attrs: String,
}

/// Text that is fine, or mangled the ways an attacker or a broken export would.
fn text(good: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(good.to_string()),
        1 => "[a-z0-9:=+@-]{1,12}",
        1 => "\\PC{0,10}",
        1 => "[\\x00-\\x1f\\x7f\u{85}]{1,3}".prop_map(|c| format!("x{c}y")),
        1 => (200usize..400).prop_map(|n| "长".repeat(n)),
        1 => Just(String::new()),
        1 => Just("\"unbalanced".to_string()),
        1 => Just("a,b\nc".to_string()),
    ]
}

fn number(good: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(good.to_string()),
        2 => Just(String::new()),
        1 => prop::sample::select(vec!["NaN", "nan", "inf", "-inf", "infinity", "1e999", "-1e999", "0x10", "1,5", "111.5.5"]).prop_map(str::to_string),
        1 => (-400.0f64..400.0).prop_map(|x| x.to_string()),
    ]
}

fn fields() -> impl Strategy<Value = Fields> {
    let region = prop_oneof![4 => Just("141021".to_string()), 2 => Just("440106".to_string()), 1 => Just("曲沃县".to_string()), 1 => Just("141099".to_string()), 1 => text("141021")];
    let kind = prop_oneof![4 => Just("labour".to_string()), 1 => Just("slitting".to_string()), 1 => text("labour")];
    let attrs = prop_oneof![
        4 => Just(json!({"skill": "包装", "headcount": 2, "lead_time_h": 3}).to_string()),
        1 => Just(json!({"max_input_width_m": 2.0, "min_output_width_m": 0.3, "turnaround_h": 10}).to_string()),
        1 => text("{}").prop_map(|t| json!({"skill": t, "headcount": 1, "lead_time_h": 1}).to_string()),
        1 => Just("[1,2".to_string()),
        1 => Just(json!({"skill": "x".repeat(9000), "headcount": 1, "lead_time_h": 1}).to_string()),
        1 => Just("\"just text\"".to_string()),
    ];
    let available = prop_oneof![4 => Just("true".to_string()), 1 => Just("false".to_string()), 1 => text("true")];
    (text("fuzz:a"), text("某提供方"), region, number("111.5"), number("35.6"), kind, available, attrs)
        .prop_map(|(key, name, region, lon, lat, kind, available, attrs)| Fields { key, name, region, lon, lat, kind, available, attrs })
}

/// A line that parses: names of any printable text, places inside and outside 曲沃县, seats or
/// coordinates inside China.
fn good_fields() -> impl Strategy<Value = Fields> {
    let region = prop::sample::select(vec!["141021", "141021", "141022", "440106", "曲沃县"]).prop_map(str::to_string);
    let place = prop_oneof![Just((String::new(), String::new())), (100.0f64..120.0, 25.0f64..45.0).prop_map(|(lon, lat)| (lon.to_string(), lat.to_string()))];
    ("[a-z0-9:]{1,10}", "[\\p{Han}a-zA-Z0-9 =+@-]{1,30}", region, place, 1u32..50)
        .prop_map(|(key, name, region, (lon, lat), headcount)| Fields {
            key: format!("fuzz:{key}"),
            name,
            region,
            lon,
            lat,
            kind: "labour".into(),
            available: "true".into(),
            attrs: json!({"skill": "包装", "headcount": headcount, "lead_time_h": 2}).to_string(),
        })
}

/// A whole file: its format, its text and whether the admin or the 曲沃县 officer imports it.
#[derive(Clone, Debug)]
struct File {
    format: RegistryFormat,
    text: String,
    by_officer: bool,
}

fn csv_line(f: &Fields, raw: bool) -> String {
    let cells = [&f.key, &f.name, &f.region, &f.lon, &f.lat, &f.kind, &f.available, &f.attrs];
    if raw {
        // Joined as they are: broken quoting and stray commas reach the parser.
        return cells.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",");
    }
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    writer.write_record(cells.iter().map(|c| c.as_str())).unwrap();
    String::from_utf8(writer.into_inner().unwrap()).unwrap().trim_end_matches('\n').to_string()
}

fn jsonl_line(f: &Fields, raw: bool) -> String {
    if raw {
        return format!("{{\"id\": {}, \"name\": \"{}\"", f.key, f.name);
    }
    let number = |s: &str| s.parse::<f64>().ok().map_or_else(|| Value::String(s.to_string()), |x| json!(x));
    let attrs = serde_json::from_str::<Value>(&f.attrs).unwrap_or_else(|_| Value::String(f.attrs.clone()));
    let available = match f.available.as_str() {
        "true" => json!(true),
        "false" => json!(false),
        other => json!(other),
    };
    json!({"id": f.key, "name": f.name, "region": f.region, "lon": number(&f.lon), "lat": number(&f.lat), "kind": f.kind, "available": available, "attrs": attrs}).to_string()
}

fn file() -> impl Strategy<Value = File> {
    // Half the files are made of good lines only (the import then writes, or an officer is
    // refused lines outside 曲沃县 after they parsed); the other half mangled anywhere.
    let good = prop::collection::vec((good_fields(), Just(false)), 0..12);
    let mangled = prop::collection::vec((fields(), prop::bool::weighted(0.1)), 0..12);
    let lines = prop_oneof![good, mangled];
    (prop::bool::ANY, lines, prop::bool::ANY, prop::bool::weighted(0.05)).prop_map(|(csv, lines, by_officer, bad_header)| {
        let format = if csv { RegistryFormat::Csv } else { RegistryFormat::Jsonl };
        let mut text = String::new();
        if csv {
            text.push_str(if bad_header { "id,name,region,kind\n" } else { "id,name,region,lon,lat,kind,available,attrs\n" });
        }
        for (i, (fields, raw)) in lines.iter().enumerate() {
            // Distinct keys per line most of the time, so that lines are not all one provider.
            let fields = Fields { key: if fields.key == "fuzz:a" { format!("fuzz:{i}") } else { fields.key.clone() }, ..fields.clone() };
            text.push_str(&if csv { csv_line(&fields, *raw) } else { jsonl_line(&fields, *raw) });
            text.push('\n');
        }
        File { format, text, by_officer }
    })
}

/// What the import may have changed: the registry as exported and the number of audit events.
async fn state(app: &App) -> (String, usize) {
    let mut registry = Vec::new();
    app.export_registry(&Actor::system("fuzz"), RegistryFormat::Jsonl, &mut registry).await.unwrap();
    (String::from_utf8(registry).unwrap(), app.verify_audit().await.unwrap().events)
}

fn fuzz(db: TestDb) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let app = runtime.block_on(App::open(db.url())).unwrap();
    let admin = Actor::system("fuzz");
    let officer = Actor::officer("fuzz-quwo", RegionCode::new_unchecked(141021));
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let (imported, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let mut runner = TestRunner::new(Config { cases: 256, failure_persistence: None, ..Config::default() });
    let outcome = runner.run(&file(), |file| {
        // Parsing never panics, whatever the file.
        let parsed = match app.parse_registry(&file.text, file.format) {
            Ok(lines) => lines,
            Err(e) => {
                prop_assert!(e.to_string().starts_with("line ") || e.to_string().starts_with("nothing was imported"), "{e}");
                refused.set(refused.get() + 1);
                return Ok(());
            }
        };
        for line in &parsed {
            prop_assert!(line.lon.is_finite() && line.lat.is_finite(), "{line:?}");
            prop_assert!(line.name.chars().count() <= bangfu_core::text::NAME_CHARS && !line.name.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        }
        let actor = if file.by_officer { &officer } else { &admin };
        runtime.block_on(async {
            let before = state(&app).await;
            match app.import_registry(actor, now, &parsed[..], |_, _| {}).await {
                Ok(report) => {
                    imported.set(imported.get() + 1);
                    let after = state(&app).await;
                    prop_assert_eq!(report.lines, parsed.len());
                    prop_assert_eq!(after.1, before.1 + 1, "one event per import");
                    for line in &parsed {
                        prop_assert!(after.0.contains(&format!("\"id\":{}", json!(line.key))), "line {} missing", line.line);
                    }
                }
                Err(e) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(matches!(e, bangfu_app::AppError::Forbidden(_) | bangfu_app::AppError::BadInput(_)), "{e}");
                    prop_assert_eq!(state(&app).await, before, "a refused import wrote something: {}", e);
                }
            }
            Ok::<(), TestCaseError>(())
        })
    });
    runtime.block_on(app.close());
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (imported, refused) = (imported.get(), refused.get());
    eprintln!("{imported} files imported, {refused} refused");
    assert!(imported > 0 && refused > 0, "the generated files cover both outcomes: {imported} imported, {refused} refused");
}

mod the_importer_fuzzed_never_panics_and_writes_all_or_nothing {
    use super::*;

    #[test]
    fn sqlite() {
        fuzz(TestDb::sqlite());
    }

    #[test]
    fn postgres() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let db = runtime.block_on(TestDb::postgres());
        drop(runtime);
        if let Some(db) = db {
            fuzz(db);
        }
    }
}
