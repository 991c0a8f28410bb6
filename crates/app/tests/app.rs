//! Use cases against a real SQLite file: the reference case, access and bad input.

use bangfu_app::cases::NewEnterprise;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::region::RegionCode;
use chrono::{TimeZone, Utc};

async fn fresh_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&format!("sqlite://{}", dir.path().join("bangfu.db").display())).await.unwrap();
    (app, dir)
}

async fn demo_app() -> (App, tempfile::TempDir) {
    let (app, dir) = fresh_app().await;
    bangfu_app::demo::load(&app, &Actor::system("test")).await.unwrap();
    (app, dir)
}

fn need_by_title<'a>(detail: &'a bangfu_app::views::CaseDetail, fragment: &str) -> &'a bangfu_store::NeedRow {
    detail.needs.iter().find(|n| n.title.contains(fragment)).unwrap_or_else(|| panic!("no need titled {fragment}"))
}

#[tokio::test]
async fn loading_the_demo_twice_duplicates_nothing() {
    let (app, _dir) = demo_app().await;
    let admin = Actor::system("test");
    let events = app.case_detail(&admin, 1).await.unwrap().events.len();
    let report = bangfu_app::demo::load(&app, &admin).await.unwrap();
    assert!(report.contains("already loaded"), "{report}");
    let cases = app.list_cases(&admin).await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(app.case_detail(&admin, 1).await.unwrap().events.len(), events);
}

#[tokio::test]
async fn the_reference_case_replays_the_division_of_labour() {
    let (app, _dir) = demo_app().await;
    let detail = app.case_detail(&Actor::system("test"), 1).await.unwrap();
    let sterilisation = need_by_title(&detail, "灭菌");
    assert_eq!((sterilisation.scope.as_str(), sterilisation.owner.as_str()), ("province", "140000"));
    let slitting = need_by_title(&detail, "分切");
    assert_eq!((slitting.scope.as_str(), slitting.owner.as_str()), ("local", "141021"));
    let lines = need_by_title(&detail, "东莞");
    assert_eq!((lines.scope.as_str(), lines.owner.as_str(), lines.letter_to.as_deref()), ("national", "140000", Some("440000")));
    let cabinet = need_by_title(&detail, "丰台");
    assert_eq!((cabinet.scope.as_str(), cabinet.letter_to.as_deref()), ("national", Some("110000")));
    let pass = need_by_title(&detail, "高速口");
    assert_eq!(pass.scope, "local");
}

#[tokio::test]
async fn the_slitting_need_moved_from_the_city_to_the_county_with_the_switch() {
    let (app, _dir) = demo_app().await;
    let detail = app.case_detail(&Actor::system("test"), 1).await.unwrap();
    let slitting = need_by_title(&detail, "分切").id;
    let switched = detail.events.iter().find(|e| e.action == "need.switched" && e.entity == format!("need:{slitting}")).expect("a switch event");
    let payload: serde_json::Value = serde_json::from_str(&switched.payload).unwrap();
    assert_eq!((payload["from_scope"].as_str(), payload["scope"].as_str()), (Some("city"), Some("local")));
    assert!(detail.events.iter().any(|e| e.action == "need.switch_proposed"), "the nearer firm was proposed as a switch");
}

#[tokio::test]
async fn screening_the_sterilisation_need_ranks_wanrong_first_with_reasons_for_the_others() {
    let (app, _dir) = demo_app().await;
    let admin = Actor::system("test");
    let detail = app.case_detail(&admin, 1).await.unwrap();
    let need = app.need_detail(&admin, need_by_title(&detail, "灭菌").id).await.unwrap();
    let feasible: Vec<&str> = need.candidates.iter().filter(|(c, _)| c.feasible == 1).map(|(_, p)| p.name.as_str()).collect();
    assert_eq!(feasible, ["万荣华康药业公司"]);
    let reasons = |fragment: &str| need.candidates.iter().find(|(_, p)| p.name.contains(fragment)).map(|(c, _)| c.reasons.clone()).unwrap();
    assert!(reasons("晋北").contains("too_far"), "{}", reasons("晋北"));
    assert!(reasons("太原").contains("too_slow"), "{}", reasons("太原"));
    let widened: Vec<String> = detail.events.iter().filter(|e| e.action == "need.widened").map(|e| e.payload.clone()).collect();
    assert!(widened.iter().any(|p| p.contains("曲沃县内无可用提供方，扩大至临汾市")), "{widened:?}");
}

#[tokio::test]
async fn an_officer_of_another_county_sees_no_trace_of_the_case() {
    let (app, _dir) = demo_app().await;
    let houma = Actor::officer("houma", RegionCode::new_unchecked(141081));
    assert!(app.list_cases(&houma).await.unwrap().is_empty());
    assert!(matches!(app.case_detail(&houma, 1).await, Err(AppError::NotFound(_))));
    let linfen = Actor::officer("linfen", RegionCode::new_unchecked(141000));
    assert_eq!(app.list_cases(&linfen).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_wrong_credit_code_is_refused_and_nothing_is_written() {
    let (app, _dir) = fresh_app().await;
    let now = Utc.with_ymd_and_hms(2020, 1, 25, 2, 0, 0).unwrap();
    let input = NewEnterprise { name: "某企业".into(), credit_code: "91141021MA0KQ20204".into(), region: "141021".into(), ..Default::default() };
    let err = app.add_enterprise(&Actor::system("test"), now, input).await.unwrap_err();
    assert_eq!(err.to_string(), "credit_code: credit code check character is 4, expected 3 — check the first 17 characters for a typo");
    assert!(app.list_cases(&Actor::system("test")).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_region_suggests_near_codes() {
    let (app, _dir) = fresh_app().await;
    let now = Utc.with_ymd_and_hms(2020, 1, 25, 2, 0, 0).unwrap();
    let input = NewEnterprise { name: "某企业".into(), credit_code: "91141021MA0KQ20203".into(), region: "141099".into(), ..Default::default() };
    let err = app.add_enterprise(&Actor::system("test"), now, input).await.unwrap_err();
    assert!(err.to_string().starts_with("region: region 141099 not found — did you mean 141029 乡宁县"), "{err}");
}

async fn tamper(dir: &tempfile::TempDir, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("bangfu.db").display())).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn the_audit_log_of_the_demo_verifies() {
    let (app, _dir) = demo_app().await;
    let report = app.verify_audit().await.unwrap();
    assert!(report.events > 50, "{report:?}");
    assert_eq!(report.broken, None);
}

#[tokio::test]
async fn an_altered_event_is_found_at_its_sequence_number() {
    let (app, dir) = demo_app().await;
    tamper(&dir, "UPDATE events SET payload = '{\"title\":\"forged\"}' WHERE seq = 40").await;
    let report = app.verify_audit().await.unwrap();
    assert_eq!(report.broken, Some(bangfu_core::audit::ChainBreak::Altered { seq: 40 }));
}

#[tokio::test]
async fn a_removed_event_is_found_where_the_chain_breaks() {
    let (app, dir) = demo_app().await;
    tamper(&dir, "DELETE FROM events WHERE seq = 17").await;
    let report = app.verify_audit().await.unwrap();
    assert_eq!(report.broken.map(|b| b.seq()), Some(17));
}
