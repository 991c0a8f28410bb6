//! The `bangfu` binary from the outside: arguments in, stdout, stderr and exit code out.
//! Tests are named as sentences, regression tests after their issue. Helpers first, then one
//! section per subcommand.

use crate::support::{assert_exit, bangfu, stderr, stdout};
use serde_json::Value;
use std::path::PathBuf;

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
        assert!(out.contains("row counts match in all 37 tables"), "{out}");
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
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("no-such-bangfu.db");
    let to = dir.path().join("x.db");
    let output = bangfu(&["migrate-db", "--from", &format!("sqlite://{}", from.display()), "--to", &format!("sqlite://{}", to.display())]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains(&format!("--from: {} does not exist", from.display())), "{}", stderr(&output));
    assert!(!to.exists(), "nothing created");
}

// ---- bangfu plan --case ----

bangfu_store::backend_tests! {
    /// Issue 7: the reference case's stored plan prints the contract of `plan --input` (times at
    /// UTC+8), first output on 13 February, under ten days from plan to production; projected
    /// from a day when the plan was still open, an open need's delay shows.
    async fn plan_case_prints_the_stored_plan_with_the_delay_open_needs_cause(db) {
        assert_exit(&bangfu(&["demo", "--db", db.url()]), 0);
        let output = bangfu(&["plan", "--case", "1", "--db", db.url(), "--json"]);
        assert_exit(&output, 0);
        let v: Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
        let keys: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).take(3).collect();
        assert_eq!(keys, ["finish", "critical_path", "milestones"]);
        assert_eq!(v["finish"], "2020-02-13T08:30:00+08:00");
        let first: Vec<&str> = v["milestones"][0].as_object().expect("an object").keys().map(String::as_str).take(6).collect();
        assert_eq!(first, ["id", "es", "ef", "ls", "lf", "slack_h"]);
        assert_eq!(v["milestones"][2]["id"], "lines_arrive");
        assert_eq!(v["milestones"][2]["ef"], "2020-01-31T16:00:00+08:00");
        assert!(v["days_from_plan_to_production"].as_f64().expect("a number") < 10.0, "{}", v["days_from_plan_to_production"]);
        assert_eq!(v["delay_h"], 0.0);

        // A plan with an open need, projected at a given --now: the need holds its milestone.
        let need = {
            use bangfu_app::{Actor, App};
            let at = chrono::DateTime::parse_from_rfc3339("2020-02-20T09:00:00+08:00").expect("a time").to_utc();
            let deadline = chrono::DateTime::parse_from_rfc3339("2020-02-25T18:00:00+08:00").expect("a time").to_utc();
            let app = App::open(db.url()).await.expect("the database opens");
            let admin = Actor::system("test");
            let need = bangfu_app::needs::NewNeed { kind: "other".into(), title: "扩产厂房消防验收".into(), quantity: 1.0, deadline: Some(deadline), ..Default::default() };
            let need = app.report_need(&admin, at, 1, need).await.expect("the need is reported");
            let step = |key: &str, after: &[&str], blockers: Vec<i64>| bangfu_app::plans::NewMilestone {
                key: key.into(),
                duration_h: 24.0,
                after: after.iter().map(|a| a.to_string()).collect(),
                blockers,
                ..Default::default()
            };
            app.set_plan(&admin, at, 1, vec![step("fire_check", &[], vec![need.id]), step("second_line", &["fire_check"], vec![])]).await.expect("the plan is set");
            app.close().await;
            need.id
        };
        let output = bangfu(&["plan", "--case", "1", "--db", db.url(), "--now", "2020-02-21T09:00:00+08:00", "--json"]);
        assert_exit(&output, 0);
        let v: Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
        assert_eq!(v["finish"], "2020-02-26T18:00:00+08:00", "the deadline, then a day's work");
        assert_eq!(v["critical_path"], serde_json::json!(["fire_check", "second_line"]));
        assert_eq!(v["milestones"][0]["held_by"], need);
        assert_eq!(v["delay_h"], 81.0, "without the need: 2020-02-23 09:00");

        let output = bangfu(&["plan", "--case", "1", "--db", db.url(), "--now", "2020-02-21T09:00:00+08:00"]);
        assert_exit(&output, 0);
        let text = stdout(&output);
        assert!(text.starts_with("first output: 2020-02-26 18:00 (UTC+8)"), "{text}");
        assert!(text.contains(&format!("need {need} blocks fire_check: 扩产厂房消防验收 — expected 2020-02-25 18:00 (deadline)")), "{text}");

        let missing = bangfu(&["plan", "--case", "99", "--db", db.url(), "--json"]);
        assert_exit(&missing, 1);
        assert!(stderr(&missing).contains("case 99 not found"), "{}", stderr(&missing));
        let bad_now = bangfu(&["plan", "--case", "1", "--db", db.url(), "--now", "tomorrow"]);
        assert_exit(&bad_now, 2);
        assert!(stderr(&bad_now).contains("--now \"tomorrow\" is not an RFC 3339 time"), "{}", stderr(&bad_now));
    }
}

#[test]
fn plan_needs_a_file_or_a_case_but_not_both() {
    let output = bangfu(&["plan", "--json"]);
    assert_exit(&output, 2);
    let output = bangfu(&["plan", "--input", "x.json", "--case", "1"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("cannot be used with"), "{}", stderr(&output));
}

// ---- bangfu escalate ----

/// A fresh database with one enterprise in 曲沃县, its case and one need of the county's own,
/// reported at 2020-01-26 09:00 (UTC+8) through the library. Returns the need's id.
async fn stalled_need(url: &str) -> i64 {
    use bangfu_app::{Actor, App};
    let at = chrono::DateTime::parse_from_rfc3339("2020-01-26T09:00:00+08:00").unwrap().to_utc();
    let app = App::open(url).await.unwrap();
    let admin = Actor::system("test");
    let input = bangfu_app::cases::NewEnterprise { name: "某口罩企业".into(), credit_code: "91141021MA0KQ20203".into(), region: "141021".into(), ..Default::default() };
    let enterprise = app.add_enterprise(&admin, at, input).await.unwrap();
    let case = app.open_case(&admin, at, enterprise.id, "测试帮扶").await.unwrap();
    let need = bangfu_app::needs::NewNeed { kind: "other".into(), title: "厂房消防验收".into(), quantity: 1.0, ..Default::default() };
    let need = app.report_need(&admin, at, case.id, need).await.unwrap();
    app.close().await;
    need.id
}

fn escalate_json(db: &str, now: &str) -> Value {
    let output = bangfu(&["escalate", "--db", db, "--now", now, "--json"]);
    assert_exit(&output, 0);
    serde_json::from_str(&stdout(&output)).expect("one JSON object")
}

bangfu_store::backend_tests! {
    /// Issue 3: a pass moves a need past its window up one tier, a second pass at the same
    /// moment changes nothing, and the text output says what moved and why.
    async fn escalate_moves_a_stalled_need_up_one_tier_and_a_second_pass_changes_nothing(db) {
        let need = stalled_need(db.url()).await;
        let inside = escalate_json(db.url(), "2020-01-27T09:00:00+08:00");
        assert_eq!((inside["checked"].as_u64(), inside["moved"].as_array().map(Vec::len)), (Some(1), Some(0)), "{inside}");

        let output = bangfu(&["escalate", "--db", db.url(), "--now", "2020-01-27T10:00:00+08:00"]);
        assert_exit(&output, 0);
        assert_eq!(
            stdout(&output),
            format!(
                "escalation pass at 2020-01-27T10:00:00+08:00 (county=24h,city=48h,province=72h): 1 open need checked, 1 moved\n\
                 need {need} [case 1] 厂房消防验收: 141021 曲沃县工信局 → 141000 临汾市工信局 (county → city), new deadline 2020-01-29T10:00:00+08:00\n\
                 \x20 曲沃县工信局超过 24 小时未响应，上报临汾市工信局\n\
                 \x20 曲沃县 department did not act within 24 h — escalated to 临汾市\n"
            )
        );
        let again = escalate_json(db.url(), "2020-01-27T10:00:00+08:00");
        assert_eq!(again["moved"], serde_json::json!([]), "{again}");

        // With a shorter city window, the next pass moves it to the province, as JSON.
        let output = bangfu(&["escalate", "--db", db.url(), "--now", "2020-01-27T12:00:00+08:00", "--response-windows", "city=1h", "--json"]);
        assert_exit(&output, 0);
        let v: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(v["windows"], "county=24h,city=1h,province=72h");
        let moved = &v["moved"][0];
        assert_eq!((moved["step"].as_str(), moved["from"].as_str(), moved["to"].as_str(), moved["to_tier"].as_str()), (Some("escalate"), Some("141000"), Some("140000"), Some("province")));
        assert_eq!(moved["reason"]["zh"], "临汾市工信局超过 1 小时未响应，上报山西省工信厅");
        assert_eq!(moved["need"]["owner"], "140000");
        assert_eq!(moved["deadline"], "2020-01-30T12:00:00+08:00");
    }

    /// Issue 3: the reference case's letter to 广东省 and 东莞市, Chinese first, English after it.
    async fn letter_show_prints_the_chinese_letter_then_the_english_rendering(db) {
        assert_exit(&bangfu(&["demo", "--db", db.url()]), 0);
        let output = bangfu(&["letter", "show", "1", "--db", db.url()]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(out.starts_with("关于商请协调解决山西健康动力科技有限公司口罩生产线供应问题的函\n\n晋工信函〔2020〕1号\n\n广东省工业和信息化厅、东莞市工业和信息化局：\n"), "{out}");
        let (zh, en) = out.split_once("\nRequest for help with").expect("the English rendering follows the Chinese");
        assert!(zh.contains("妥否，请函复。\n\n山西省工业和信息化厅\n2020年1月26日\n"), "{zh}");
        assert!(en.contains("To the Department of Industry and Information Technology of 广东省; the Bureau of Industry and Information Technology of 东莞市:"), "{en}");
        assert!(en.contains("状态 / status: 已回复 acknowledged; 起草 drafted 2020-01-26T10:00:00+08:00; 发出 sent 2020-01-26T14:00:00+08:00"), "{en}");

        let output = bangfu(&["letter", "show", "2", "--json", "--db", db.url()]);
        assert_exit(&output, 0);
        let v: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!((v["number"].as_str(), v["status"].as_str()), (Some("晋工信函〔2020〕2号"), Some("acknowledged")));
        assert_eq!(v["recipients"][0]["name"], "北京市工业和信息化局");

        let missing = bangfu(&["letter", "show", "99", "--db", db.url()]);
        assert_exit(&missing, 1);
        assert!(stderr(&missing).starts_with("letter 99 not found"), "{}", stderr(&missing));
    }
}

// ---- bangfu briefing (issue 14) ----

fn briefing_json(args: &[&str]) -> Value {
    let output = bangfu(&[&["briefing"], args, &["--json"]].concat());
    assert_exit(&output, 0);
    serde_json::from_str(&stdout(&output)).expect("one JSON value")
}

bangfu_store::backend_tests! {
    /// The morning pass's briefings from the command line: every department of the reference
    /// case's chain gets its briefing of the day; a second run keeps them as they were.
    async fn briefing_generate_keeps_every_departments_briefing_once_and_list_and_show_read_them(db) {
        assert_exit(&bangfu(&["demo", "--db", db.url()]), 0);
        let first = briefing_json(&["generate", "--date", "2020-02-11", "--db", db.url()]);
        let departments = |v: &Value| v["departments"].as_array().unwrap().iter().map(|d| (d["department"].as_str().unwrap().to_string(), d["new"].as_bool().unwrap())).collect::<Vec<_>>();
        assert_eq!(departments(&first), [("140000".to_string(), true), ("141000".to_string(), true), ("141021".to_string(), true)], "{first}");
        assert_eq!((first["generated"].as_u64(), first["kept_already"].as_u64()), (Some(3), Some(0)));
        let shown = briefing_json(&["show", "--department", "141000", "--date", "2020-02-11", "--db", db.url()]);
        assert_eq!((shown["department"].as_str(), shown["day"].as_str()), (Some("141000"), Some("2020-02-11")));

        let again = bangfu(&["briefing", "generate", "--date", "2020-02-11", "--db", db.url()]);
        assert_exit(&again, 0);
        assert!(stdout(&again).starts_with("briefings of 2020-02-11: 0 generated, 3 kept already
140000 山西省工信厅 kept already
"), "{}", stdout(&again));
        assert_eq!(briefing_json(&["show", "--department", "141000", "--date", "2020-02-11", "--db", db.url()]), shown, "kept as first generated");
        assert_eq!(briefing_json(&["list", "--department", "141021", "--db", db.url()]), serde_json::json!(["2020-02-11"]));
        let text = bangfu(&["briefing", "show", "--department", "141021", "--date", "2020-02-11", "--db", db.url()]);
        assert_exit(&text, 0);
        assert!(stdout(&text).starts_with("曲沃县工信局 每日专报 / daily briefing 2020-02-11"), "{}", stdout(&text));

        let none = bangfu(&["briefing", "list", "--department", "141081", "--db", db.url()]);
        assert_exit(&none, 1);
        let future = bangfu(&["briefing", "generate", "--date", "2099-01-01", "--db", db.url()]);
        assert_exit(&future, 2);
        assert!(stderr(&future).contains("day: the briefings of 2099-01-01 are generated from 2099-01-02 08:00 UTC+8 on"), "{}", stderr(&future));
        let malformed = bangfu(&["briefing", "generate", "--date", "11/02/2020", "--db", db.url()]);
        assert_exit(&malformed, 2);
        assert!(stderr(&malformed).contains("--date: "), "{}", stderr(&malformed));
        let nowhere = bangfu(&["briefing", "show", "--department", "999999", "--db", db.url()]);
        assert_exit(&nowhere, 2);
        assert!(stderr(&nowhere).contains("--department: \"999999\" is not a region code"), "{}", stderr(&nowhere));
    }
}

#[test]
fn escalate_without_an_rfc3339_now_exits_2_and_shows_the_form() {
    let db = bangfu_store::testing::TestDb::sqlite();
    let output = bangfu(&["escalate", "--db", db.url(), "--now", "2020-01-27 10:00"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--now: \"2020-01-27 10:00\" is not an RFC 3339 time — write it as 2020-01-27T10:00:00+08:00"), "{}", stderr(&output));
    let output = bangfu(&["escalate", "--db", db.url(), "--now", "2020-01-27T10:00:00+08:00", "--response-windows", "county=soon"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--response-windows: response windows: county=soon is not a duration"), "{}", stderr(&output));
}

// ---- issue 17: the findings that reach the command line ----

bangfu_store::backend_tests! {
    /// F9: CSV exports wrote cells as they were, so a name typed as `=HYPERLINK(…)` became a live
    /// formula in a spreadsheet. The registry export neutralises such cells with an apostrophe,
    /// and importing the export gives back the same registry.
    async fn f9_the_registry_export_neutralises_formula_cells_and_imports_back_unchanged(db) {
        let lines = "id,name,region,lon,lat,kind,available,attrs\n\
                     =key,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",141021,,,labour,true,\"{\"\"skill\"\": \"\"-2+3\"\", \"\"headcount\"\": 1, \"\"lead_time_h\"\": 2}\"\n\
                     plain,@提供方,141021,111.5,35.6,labour,true,\"{\"\"skill\"\": \"\"包装\"\", \"\"headcount\"\": 2, \"\"lead_time_h\"\": 3}\"\n";
        let file = temp_file(&format!("f9-{}.csv", db.url().len()), lines);
        assert_exit(&bangfu(&["import", "capabilities", file.to_str().unwrap(), "--db", db.url()]), 0);
        let export = |url: &str| {
            let output = bangfu(&["export", "capabilities", "--format", "csv", "--db", url]);
            assert_exit(&output, 0);
            stdout(&output)
        };
        let exported = export(db.url());
        assert!(exported.contains("'=key,\"'=HYPERLINK(") && exported.contains(",'@提供方,"), "{exported}");
        for line in exported.lines() {
            assert!(!line.starts_with(['=', '+', '@', '-']) && !line.contains(",=") && !line.contains(",\"="), "a live cell in {line:?}");
        }
        let copy = bangfu_store::testing::TestDb::sqlite();
        let file = temp_file(&format!("f9-export-{}.csv", db.url().len()), &exported);
        assert_exit(&bangfu(&["import", "capabilities", file.to_str().unwrap(), "--db", copy.url()]), 0);
        assert_eq!(export(copy.url()), exported, "the export imports back unchanged");
        let jsonl = bangfu(&["export", "capabilities", "--format", "jsonl", "--db", copy.url()]);
        assert!(stdout(&jsonl).contains("\"id\":\"=key\",\"name\":\"=HYPERLINK("), "JSONL keeps the text as typed: {}", stdout(&jsonl));
    }

    /// F12: need titles accepted ESC and NUL, and `bangfu case show` printed them raw to the
    /// operator's terminal. Text already stored is now printed with its control characters as
    /// escapes.
    async fn f12_case_show_prints_control_characters_of_stored_text_as_escapes(db) {
        assert_exit(&bangfu(&["demo", "--db", db.url()]), 0);
        // A title stored before titles were checked, written past the app (PostgreSQL stores no
        // NUL in text at all).
        let store = bangfu_store::Store::open(db.url()).await.unwrap();
        store
            .write(|tx| {
                let mut need = tx.need(1)?.expect("need 1");
                need.title = "标题\u{1b}[2J\u{1b}]0;pwned\u{7}".into();
                tx.insert_need(&need)
            })
            .await
            .unwrap();
        store.close().await;
        let output = bangfu(&["case", "show", "1", "--db", db.url()]);
        assert_exit(&output, 0);
        let out = stdout(&output);
        assert!(!out.contains(['\u{1b}', '\u{7}']), "{out:?}");
        assert!(out.contains("标题\\u{1b}[2J\\u{1b}]0;pwned\\u{7}"), "{out}");
        let json = stdout(&bangfu(&["case", "show", "1", "--json", "--db", db.url()]));
        assert!(!json.contains('\u{1b}') && json.contains("\\u001b[2J"), "JSON escapes them itself");
        // New text with control characters is refused at the command line too, writing nothing.
        let refused = bangfu(&["enterprise", "add", "--db", db.url(), "--name", "企业\u{1b}[31m", "--credit-code", "91141081MA0KQ20208", "--region", "141081"]);
        assert_exit(&refused, 2);
        assert!(stderr(&refused).contains("name: holds the control character U+001B"), "{}", stderr(&refused));
    }

    /// F11: a 15 MB provider name imported from the CLI made a need page 47 MB; NaN and
    /// infinite coordinates were accepted. Each is refused, naming its line, and nothing is
    /// imported.
    async fn f11_the_cli_import_refuses_long_names_and_coordinates_that_are_not_finite(db) {
        let attrs = "\"{\"\"skill\"\": \"\"包装\"\", \"\"headcount\"\": 1, \"\"lead_time_h\"\": 1}\"";
        let lines = format!(
            "id,name,region,lon,lat,kind,available,attrs\na,{},141021,,,labour,true,{attrs}\nb,乙,141021,NaN,35.6,labour,true,{attrs}\nc,丙,141021,111.5,-inf,labour,true,{attrs}\nd,丁,141021,,,labour,true,{attrs}\n",
            "长".repeat(5000)
        );
        let file = temp_file(&format!("f11-{}.csv", db.url().len()), &lines);
        let output = bangfu(&["import", "capabilities", file.to_str().unwrap(), "--db", db.url()]);
        assert_exit(&output, 2);
        let message = stderr(&output);
        assert!(message.contains("line 2: name is 5000 characters long") && message.contains("line 3: lon") && message.contains("line 4: lat"), "{message}");
        assert!(!message.contains("line 5"), "the good line is not named: {message}");
        let export = bangfu(&["export", "capabilities", "--db", db.url()]);
        assert_eq!(stdout(&export), "", "nothing was imported");
    }
}

// ---- bangfu demo --scale province ----

/// Issue 12: the province exercise, at a small fraction, loads beside the reference case; its
/// audit log verifies with `bangfu audit verify`; a second run finds both loaded and writes
/// nothing (the row counts of every table and the last event are unchanged).
#[tokio::test]
async fn demo_scale_province_loads_the_exercise_once_and_its_audit_log_verifies() {
    let db = bangfu_store::testing::TestDb::sqlite();
    let first = bangfu(&["demo", "--scale", "province", "--fraction", "0.004", "--db", db.url()]);
    assert_exit(&first, 0);
    let out = stdout(&first);
    assert!(out.contains("loaded the reference case"), "{out}");
    assert!(out.contains("loaded the province exercise (synthetic, seed 20200201, fraction 0.004): 8 enterprises with cases, 400 capabilities, 200 needs"), "{out}");

    let verify = bangfu(&["audit", "verify", "--db", db.url()]);
    assert_exit(&verify, 0);
    assert!(stdout(&verify).contains("chain verified"), "{}", stdout(&verify));

    let store = bangfu_store::Store::open(db.url()).await.expect("the database opens");
    let (counts, last) = (store.table_counts().await.expect("counts"), store.last_event_seq().await.expect("last event"));
    store.close().await;
    let again = bangfu(&["demo", "--scale", "province", "--fraction", "0.004", "--db", db.url()]);
    assert_exit(&again, 0);
    let out = stdout(&again);
    assert!(out.contains("reference case") && out.contains("already loaded — nothing changed"), "{out}");
    assert!(out.contains("the province exercise is already loaded"), "{out}");
    let store = bangfu_store::Store::open(db.url()).await.expect("the database opens");
    assert_eq!(store.table_counts().await.expect("counts"), counts);
    assert_eq!(store.last_event_seq().await.expect("last event"), last);
}

#[test]
fn demo_refuses_a_fraction_of_the_reference_case_and_a_fraction_out_of_range() {
    let db = bangfu_store::testing::TestDb::sqlite();
    let output = bangfu(&["demo", "--fraction", "0.5", "--db", db.url()]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--fraction applies to --scale province only"), "{}", stderr(&output));
    let output = bangfu(&["demo", "--scale", "province", "--fraction", "2", "--db", db.url()]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("fraction: 2 is not in (0, 1]"), "{}", stderr(&output));
    let output = bangfu(&["serve", "--scale", "province", "--db", db.url(), "--addr", "127.0.0.1:0"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--scale applies with --demo"), "{}", stderr(&output));
}

// ---- bangfu allocate --input ----

/// The instance of the core's hand-checked test: 万荣 (200 units in the horizon) wanted by two
/// critical makers and one with slack; 太原 open to one of them at a much higher cost.
const WANRONG: &str = r#"{
  "providers": [{"id": 140822, "capacity": 200}, {"id": 140105, "capacity": 100}],
  "needs": [{"id": 1, "quantity": 90, "unmet_cost": 4400}, {"id": 2, "quantity": 90, "unmet_cost": 400},
            {"id": 3, "quantity": 60, "unmet_cost": 4400}],
  "arcs": [{"need": 1, "provider": 140822, "cost": 495}, {"need": 2, "provider": 140822, "cost": 44},
           {"need": 3, "provider": 140822, "cost": 506}, {"need": 3, "provider": 140105, "cost": 1980}]
}"#;

#[test]
fn allocate_input_prints_the_least_cost_allocation_in_the_contract() {
    let path = temp_file("wanrong.json", WANRONG);
    let output = bangfu(&["allocate", "--input", path.to_str().unwrap(), "--json"]);
    assert_exit(&output, 0);
    let v: Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["cost", "assignments", "unmet"]);
    assert_eq!(v["cost"], 90 * 495 + 50 * 44 + 60 * 506 + 40 * 400);
    assert_eq!(
        v["assignments"],
        serde_json::json!([
            {"need": 1, "provider": 140822, "quantity": 90},
            {"need": 2, "provider": 140822, "quantity": 50},
            {"need": 3, "provider": 140822, "quantity": 60},
        ])
    );
    assert_eq!(v["unmet"], serde_json::json!([{"need": 2, "quantity": 40}]));

    let greedy = bangfu(&["allocate", "--input", path.to_str().unwrap(), "--method", "greedy", "--json"]);
    assert_exit(&greedy, 0);
    let g: Value = serde_json::from_str(&stdout(&greedy)).expect("one JSON object");
    assert_eq!(g["cost"], 90 * 495 + 90 * 44 + 20 * 506 + 40 * 1980);
    assert!(g["cost"].as_i64() > v["cost"].as_i64());

    let text = bangfu(&["allocate", "--input", path.to_str().unwrap()]);
    assert_exit(&text, 0);
    assert!(stdout(&text).contains("cost 93110: 200 units assigned in 3 assignments, 40 unmet"), "{}", stdout(&text));
}

#[test]
fn allocate_input_refuses_bad_instances_with_exit_2_saying_what_was_wrong() {
    let cases = [
        (r#"{"providers":[{"id":1,"capacity":-5}],"needs":[],"arcs":[]}"#, "provider 1 has capacity -5: a capacity must be an integer ≥ 0"),
        (r#"{"providers":[{"id":1,"capacity":5}],"needs":[{"id":7,"quantity":1,"unmet_cost":1}],"arcs":[{"need":7,"provider":2,"cost":1}]}"#, "arc 0 (counting from 0) names provider 2, which is not among the providers"),
        (r#"{"providers":[{"id":1,"capacity":5}],"needs":[],"arcs":[{"need":8,"provider":1,"cost":1}]}"#, "names need 8, which is not among the needs"),
        (r#"{"providers":[{"id":1,"capacity":5},{"id":1,"capacity":6}],"needs":[],"arcs":[]}"#, "provider 1 is listed twice"),
        (r#"{"providers":[],"needs":[{"id":7,"quantity":1,"unmet_cost":1},{"id":7,"quantity":2,"unmet_cost":1}],"arcs":[]}"#, "need 7 is listed twice"),
        (r#"{"providers":[{"id":1,"capacity":5}],"needs":[{"id":7,"quantity":1,"unmet_cost":1}],"arcs":[{"need":7,"provider":1,"cost":1},{"need":7,"provider":1,"cost":2}]}"#, "two arcs join need 7 and provider 1"),
        (r#"{"providers":[{"id":1,"capacity":5.5}],"needs":[],"arcs":[]}"#, "expected i64"),
        (r#"{"providers":[],"needs":[]}"#, "missing field `arcs`"),
    ];
    for (i, (contents, message)) in cases.iter().enumerate() {
        let path = temp_file(&format!("bad-instance-{i}.json"), contents);
        let output = bangfu(&["allocate", "--input", path.to_str().unwrap(), "--json"]);
        assert_exit(&output, 2);
        assert!(stdout(&output).is_empty());
        let err = stderr(&output);
        assert!(err.contains(message) && err.contains(path.to_str().unwrap()), "case {i}: {err}");
    }
    let missing = bangfu(&["allocate", "--input", "/nonexistent/instance.json"]);
    assert_exit(&missing, 2);
    assert!(stderr(&missing).contains("cannot read /nonexistent/instance.json"), "{}", stderr(&missing));
}

// ---- bangfu allocate --kind ----

bangfu_store::backend_tests! {
    /// Issue 19: over the stored open needs of 山西省 — two sterilisation needs of the reference
    /// case (on top of its resolved one) wanting more of 万荣 than it has in one day — the
    /// allocation prints the `--input` contract, then what the optimum saves, the providers and
    /// each need's reason; `--method greedy` the first-come baseline. Nothing is written.
    async fn allocate_over_the_stored_needs_prints_the_contract_with_savings_and_reasons(db) {
        assert_exit(&bangfu(&["demo", "--db", db.url()]), 0);
        let (first, second) = {
            use bangfu_app::{Actor, App};
            let at = chrono::DateTime::parse_from_rfc3339("2020-02-20T09:00:00+08:00").expect("a time").to_utc();
            let app = App::open(db.url()).await.expect("the database opens");
            let admin = Actor::system("test");
            let need = |masks: f64| bangfu_app::needs::NewNeed {
                kind: "sterilisation".into(),
                title: format!("第二批口罩灭菌 {masks}"),
                quantity: masks,
                unit: "只".into(),
                requires: serde_json::json!({}),
                max_distance_km: Some(400.0),
                max_lead_time_h: Some(96.0),
                ..Default::default()
            };
            let first = app.report_need(&admin, at, 1, need(80_000.0)).await.expect("reported").id;
            let second = app.report_need(&admin, at, 1, need(60_000.0)).await.expect("reported").id;
            app.close().await;
            (first, second)
        };
        let events_before = stdout(&bangfu(&["audit", "verify", "--db", db.url()]));
        let args = ["allocate", "--kind", "sterilisation", "--department", "140000", "--horizon-days", "1", "--now", "2020-02-20T10:00:00+08:00", "--db", db.url(), "--json"];
        let output = bangfu(&args);
        assert_exit(&output, 0);
        let v: Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
        let keys: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).take(3).collect();
        assert_eq!(keys, ["cost", "assignments", "unmet"]);
        assert_eq!(v["department_name"], "山西省工信厅");
        // 万荣 takes 100,000 a day: one need in full, the other in part; the rest waits.
        let served: i64 = v["assignments"].as_array().expect("a list").iter().map(|a| a["quantity"].as_i64().expect("units")).sum();
        let unmet: i64 = v["unmet"].as_array().expect("a list").iter().map(|u| u["quantity"].as_i64().expect("units")).sum();
        assert_eq!((served, unmet), (100_000, 40_000));
        let wanrong = v["providers"].as_array().expect("a list").iter().find(|p| p["name"] == "万荣华康药业公司").expect("万荣");
        assert_eq!((wanrong["capacity"].as_i64(), wanrong["full"].as_bool()), (Some(100_000), Some(true)));
        let needs = v["needs"].as_array().expect("a list");
        assert_eq!(needs.iter().map(|n| n["id"].as_i64().expect("an id")).collect::<Vec<_>>(), [first, second]);
        assert_eq!(needs[0]["weight"]["source"], "default");
        assert!(needs[0]["reason"]["zh"].as_str().expect("text").contains("万荣华康药业公司"), "{}", needs[0]["reason"]);
        assert!(v["savings"]["first_output_h"].as_f64().is_some() && v["savings"]["km"].as_f64().is_some(), "{}", v["savings"]);
        assert!(v["optimum"]["cost"].as_i64() <= v["greedy"]["cost"].as_i64());

        let greedy = bangfu(&[&args[..], &["--method", "greedy"]].concat());
        assert_exit(&greedy, 0);
        let g: Value = serde_json::from_str(&stdout(&greedy)).expect("one JSON object");
        assert_eq!(g["method"], "greedy");
        assert_eq!(g["cost"], v["greedy"]["cost"]);
        let text = bangfu(&args[..args.len() - 1]);
        assert_exit(&text, 0);
        assert!(stdout(&text).contains("the optimum saves"), "{}", stdout(&text));
        assert_eq!(stdout(&bangfu(&["audit", "verify", "--db", db.url()])), events_before, "allocate writes nothing");

        let bad = bangfu(&["allocate", "--kind", "permit", "--department", "140000", "--db", db.url(), "--json"]);
        assert_exit(&bad, 2);
        assert!(stderr(&bad).contains("kind permit has no capabilities in the registry"), "{}", stderr(&bad));
        let neither = bangfu(&["allocate", "--json"]);
        assert_exit(&neither, 2);
        let both = bangfu(&["allocate", "--input", "x.json", "--kind", "labour", "--department", "140000"]);
        assert_exit(&both, 2);
    }
}
