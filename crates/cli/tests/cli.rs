//! The `bangfu` binary from the outside: arguments in, stdout, stderr and exit code out.
//! One integration-test binary for the CLI; tests are named as sentences, regression tests after
//! their issue. Helpers first, then one section per subcommand.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `bangfu` with `args` and no database.
fn bangfu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bangfu")).args(args).output().expect("the bangfu binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts the exit code, showing stderr when it differs.
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stderr: {}\nstdout: {}", stderr(output), stdout(output));
}

/// Writes `contents` to a file of this name in a directory private to the test binary.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}

// ---- bangfu route ----

fn route_json(args: &[&str]) -> Value {
    let output = bangfu(&[&["route", "--json"], args].concat());
    assert_exit(&output, 0);
    serde_json::from_str(&stdout(&output)).expect("one JSON object")
}

/// (scope, owner, letter_to) of one JSON decision.
fn decision(v: &Value) -> (String, String, Option<String>) {
    (
        v["scope"].as_str().expect("scope").to_string(),
        v["owner"].as_str().expect("owner is a string").to_string(),
        v["letter_to"].as_str().map(str::to_string),
    )
}

#[test]
fn route_prints_one_json_object_with_the_contract_fields() {
    let v = route_json(&["--from", "141021", "--to", "441900", "--kind", "equipment"]);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["scope", "owner", "letter_to", "explanation"]);
    assert_eq!(decision(&v), ("national".into(), "140000".into(), Some("440000".into())));
    assert!(v["explanation"]["zh"].as_str().unwrap().contains("山西省工信厅"));
    assert!(v["explanation"]["en"].as_str().unwrap().contains("广东省"));
}

#[test]
fn route_leaves_letter_to_null_unless_national() {
    let v = route_json(&["--from", "141021", "--to", "140822"]);
    assert_eq!(decision(&v), ("province".into(), "140000".into(), None));
    assert!(v["letter_to"].is_null());
}

#[test]
fn issue_3_the_reference_case_replays() {
    let cases = [
        (["141021", "140822", "sterilisation"], ("province", "140000", None)), // 曲沃 → 万荣
        (["141021", "141081", "slitting"], ("city", "141000", None)),          // via 侯马
        (["141021", "141021", "slitting"], ("local", "141021", None)),         // via 曲沃
        (["141021", "441900", "equipment"], ("national", "140000", Some("440000"))), // 东莞
        (["141021", "110106", "equipment"], ("national", "140000", Some("110000"))), // 丰台
        (["141021", "140100", "permit"], ("local", "141021", None)),
        (["141021", "140822", "traffic_pass"], ("local", "141021", None)),
    ];
    for ([from, to, kind], (scope, owner, letter_to)) in cases {
        let v = route_json(&["--from", from, "--to", to, "--kind", kind]);
        assert_eq!(decision(&v), (scope.into(), owner.into(), letter_to.map(str::to_string)), "{from} → {to} {kind}");
    }
}

#[test]
fn route_accepts_region_names() {
    let v = route_json(&["--from", "曲沃县", "--to", "侯马市"]);
    assert_eq!(decision(&v), ("city".into(), "141000".into(), None));
}

#[test]
fn route_policy_overrides_only_the_scopes_it_names() {
    let v = route_json(&["--from", "141021", "--to", "441900", "--policy", "national=city"]);
    assert_eq!(decision(&v), ("national".into(), "141000".into(), Some("440000".into())));
    assert!(v["explanation"]["zh"].as_str().unwrap().contains("临汾市工信局"));
    // province needs keep the default
    let v = route_json(&["--from", "141021", "--to", "140822", "--policy", "national=city"]);
    assert_eq!(decision(&v), ("province".into(), "140000".into(), None));
    // the full form works too
    let v = route_json(&["--from", "141021", "--to", "141081", "--policy", "local=county,city=province,province=province,national=province"]);
    assert_eq!(decision(&v), ("city".into(), "140000".into(), None));
}

#[test]
fn route_with_a_bad_policy_exits_2_and_says_what_is_accepted() {
    let output = bangfu(&["route", "--from", "141021", "--to", "441900", "--policy", "national=ministry"]);
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(err.contains("--policy: routing policy: national=ministry names an unknown tier — expected one of: county, city, province"), "{err}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn route_with_an_unknown_code_exits_2_and_suggests_near_codes() {
    let output = bangfu(&["route", "--from", "141099", "--to", "141021"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--from: region 141099 not found — did you mean"), "{}", stderr(&output));
    assert!(stderr(&output).contains("141029 乡宁县"), "{}", stderr(&output));
}

#[test]
fn route_pairs_prints_one_json_line_per_row_in_input_order() {
    let rows = [
        ("141021", "140822", "sterilisation"),
        ("141021", "441900", ""),
        ("110106", "110108", ""),
        ("419001", "410100", "permit"),
        ("141021", "441900", ""),
        ("500101", "500229", "labour"),
    ];
    let csv: String = std::iter::once("enterprise_region,solution_region,kind".to_string())
        .chain(rows.iter().map(|(a, b, k)| format!("{a},{b},{k}")))
        .collect::<Vec<_>>()
        .join("\n");
    let path = temp_file("pairs-order.csv", &csv);
    let output = bangfu(&["route", "--pairs", path.to_str().unwrap(), "--json"]);
    assert_exit(&output, 0);
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), rows.len());
    for ((from, to, kind), line) in rows.iter().zip(&lines) {
        let mut args = vec!["--from", from, "--to", to];
        if !kind.is_empty() {
            args.extend(["--kind", kind]);
        }
        let one = route_json(&args);
        let from_file: Value = serde_json::from_str(line).unwrap();
        assert_eq!(from_file, one, "{from} → {to} {kind}");
    }
    assert_eq!(lines[1], lines[4], "a repeated row prints the same line");
}

#[test]
fn route_pairs_applies_the_policy_to_every_row() {
    let path = temp_file("pairs-policy.csv", "enterprise_region,solution_region,kind\n141021,441900,\n141021,110106,equipment\n");
    let output = bangfu(&["route", "--pairs", path.to_str().unwrap(), "--json", "--policy", "national=city"]);
    assert_exit(&output, 0);
    for line in stdout(&output).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["owner"], "141000");
    }
}

#[test]
fn route_pairs_with_an_unknown_code_exits_2_naming_the_row_and_the_code() {
    let path = temp_file("pairs-unknown.csv", "enterprise_region,solution_region,kind\n141021,140822,\n141021,441999,equipment\n141021,141021,\n");
    let output = bangfu(&["route", "--pairs", path.to_str().unwrap(), "--json"]);
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(err.contains("row 3, solution_region: region 441999 not found"), "{err}");
    assert!(stdout(&output).is_empty(), "nothing is printed half-done");
}

#[test]
fn route_pairs_with_a_bad_kind_or_header_exits_2() {
    let path = temp_file("pairs-kind.csv", "enterprise_region,solution_region,kind\n141021,140822,masks\n");
    let output = bangfu(&["route", "--pairs", path.to_str().unwrap(), "--json"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("row 2, kind: unknown need kind \"masks\""), "{}", stderr(&output));

    let path = temp_file("pairs-header.csv", "from,to,kind\n141021,140822,\n");
    let output = bangfu(&["route", "--pairs", path.to_str().unwrap(), "--json"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("expected enterprise_region,solution_region,kind"), "{}", stderr(&output));
}

#[test]
fn route_pairs_reads_a_file_of_many_rows() {
    let codes = ["141021", "141081", "140822", "441900", "442000", "110106", "500229", "419001", "429004", "140000"];
    let kinds = ["", "permit", "equipment", "traffic_pass"];
    let mut csv = String::from("enterprise_region,solution_region,kind\n");
    let mut n = 0;
    for a in codes {
        for b in codes {
            for k in kinds {
                csv.push_str(&format!("{a},{b},{k}\n"));
                n += 1;
            }
        }
    }
    let path = temp_file("pairs-many.csv", &csv);
    let output = bangfu(&["route", "--pairs", path.to_str().unwrap(), "--json"]);
    assert_exit(&output, 0);
    let lines: Vec<Value> = stdout(&output).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), n);
    for v in &lines {
        assert_eq!(v["letter_to"].is_null(), v["scope"] != "national");
    }
}

// ---- bangfu migrate-db ----

bangfu_store::backend_tests! {
    /// The demo installation copied from SQLite into a new database of each backend: the counts
    /// and the audit chain are checked and reported, the copy serves the same case, and a second
    /// copy into the now non-empty target is refused with exit 2.
    async fn migrate_db_copies_an_installation_and_verifies_it(target) {
        let source = bangfu_store::testing::TestDb::sqlite();
        assert_exit(&bangfu(&["demo", "--db", source.url()]), 0);
        let output = bangfu(&["migrate-db", "--from", source.url(), "--to", target.url()]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(out.contains("row counts match in all 19 tables"), "{out}");
        assert!(out.contains("audit chain verified on the target"), "{out}");
        assert!(!out.contains("MISMATCH"), "{out}");
        let show = |db: &str| {
            let output = bangfu(&["case", "show", "1", "--json", "--db", db]);
            assert_exit(&output, 0);
            stdout(&output)
        };
        assert_eq!(show(target.url()), show(source.url()), "the copy serves the same case");
        assert_exit(&bangfu(&["audit", "verify", "--db", target.url()]), 0);

        let again = bangfu(&["migrate-db", "--from", source.url(), "--to", target.url()]);
        assert_exit(&again, 2);
        assert!(stderr(&again).contains("already holds data") && stderr(&again).contains("nothing was written"), "{}", stderr(&again));
    }
}

#[test]
fn migrate_db_refuses_a_missing_source_file() {
    let output = bangfu(&["migrate-db", "--from", "sqlite:///tmp/no-such-bangfu.db", "--to", "sqlite:///tmp/x.db"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--from: /tmp/no-such-bangfu.db does not exist"), "{}", stderr(&output));
    assert!(!std::path::Path::new("/tmp/x.db").exists(), "nothing created");
}
