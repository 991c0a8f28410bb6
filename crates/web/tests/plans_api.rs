//! Issue 7 over real HTTP: a case's plan (GET and PUT `/api/v1/cases/{id}/plan`) and the what-if
//! of a need (`POST /api/v1/needs/{id}/what-if`) — on SQLite and, when BANGFU_TEST_PG names a
//! server, PostgreSQL. The server reads its own clock, so the open need here has a deadline far
//! in the future (2100): what it holds back does not depend on today's date.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions, which
// clippy.toml's allow-unwrap-in-tests covers.
#![allow(clippy::unwrap_used)]

use crate::support::{Setup, TestApp, spawn_app};
use bangfu_app::Actor;
use bangfu_app::cases::NewEnterprise;
use bangfu_app::needs::NewNeed;
use bangfu_core::region::RegionCode;
use bangfu_store::testing::TestDb;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

/// A server with accounts: an officer of 曲沃县 (who sees the case) and one of 翼城县 (who
/// does not). With `demo`, the reference case is case 1; without, case 1 is a fresh case in
/// 曲沃县 with need 1 (deadline 2100-01-01 08:00 UTC+8) and need 2 (no deadline).
async fn serve(db: TestDb, demo: bool) -> TestApp {
    let server = spawn_app(db, Setup { demo, users: &[("quwo", "officer", Some("141021")), ("yicheng", "officer", Some("141022"))], ..Setup::default() }).await;
    if !demo {
        let (app, admin) = (&server.app, Actor::system("test"));
        let then = Utc.with_ymd_and_hms(2020, 2, 1, 0, 0, 0).unwrap();
        let input = NewEnterprise { name: "某口罩企业".into(), credit_code: "91141021MA0KQ20203".into(), region: "141021".into(), ..Default::default() };
        let enterprise = app.add_enterprise(&admin, then, input).await.unwrap();
        let county = Actor::officer("曲沃县工信局", RegionCode::new_unchecked(141021));
        let case = app.open_case(&county, then, enterprise.id, "测试帮扶").await.unwrap();
        for deadline in [Some(time("2100-01-01T08:00:00+08:00")), None] {
            let need = NewNeed { kind: "other".into(), title: "厂房消防验收".into(), quantity: 1.0, unit: "项".into(), deadline, ..NewNeed::default() };
            app.report_need(&county, then, case.id, need).await.unwrap();
        }
    }
    server
}

/// a (10 h) → b (10 h), with need 1 blocking b.
fn plan_body() -> Value {
    json!({"milestones": [
        {"id": "a", "name": "安装调试", "duration_h": 10, "after": []},
        {"id": "b", "name": "试生产", "duration_h": 10, "after": ["a"], "blockers": [1]},
    ]})
}

bangfu_store::backend_tests! {
    async fn a_plan_is_put_and_read_with_the_delay_its_open_need_causes(db) {
        let server = serve(db, false).await;
        let (quwo, yicheng) = (server.token("quwo").await, server.token("yicheng").await);
        let put = reqwest::Method::PUT;

        let (status, empty) = server.call(reqwest::Method::GET, "/api/v1/cases/1/plan", &quwo, None).await;
        assert_eq!(status, 200, "{empty}");
        assert_eq!((empty["finish"].clone(), empty["milestones"].clone()), (Value::Null, json!([])));

        let (status, plan) = server.call(put.clone(), "/api/v1/cases/1/plan", &quwo, Some(plan_body())).await;
        assert_eq!(status, 200, "{plan}");
        assert_eq!(plan["finish"], "2100-01-01T08:00:00+08:00", "b waits for need 1's deadline");
        assert_eq!(plan["critical_path"], json!(["a", "b"]), "the wait is part of b's span (the engine's rule)");
        let b = &plan["milestones"][1];
        let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).take(6).collect();
        assert_eq!(keys, ["id", "es", "ef", "ls", "lf", "slack_h"], "the contract of bangfu plan comes first");
        assert_eq!((b["held_by"].clone(), b["blockers"].clone()), (json!(1), json!([1])));
        assert!(plan["delay_h"].as_f64().unwrap() > 100_000.0, "{}", plan["delay_h"]);
        assert_eq!(plan["blockers"][0]["expected"]["basis"], "deadline");

        let (status, read) = server.call(reqwest::Method::GET, "/api/v1/cases/1/plan", &quwo, None).await;
        assert_eq!(status, 200);
        assert_eq!((read["finish"].clone(), read["critical_path"].clone()), (plan["finish"].clone(), plan["critical_path"].clone()));
        let (status, _) = server.call(reqwest::Method::GET, "/api/v1/cases/1/plan", &yicheng, None).await;
        assert_eq!(status, 404, "an officer who may not see the case does not see its plan");

        let cycle = json!({"milestones": [{"id": "x", "duration_h": 1, "after": ["y"]}, {"id": "y", "duration_h": 1, "after": ["x"]}]});
        let (status, problem) = server.call(put.clone(), "/api/v1/cases/1/plan", &quwo, Some(cycle)).await;
        assert_eq!(status, 422, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(r#""x" → "y" → "x""#), "{problem}");
        let (status, problem) = server.call(put.clone(), "/api/v1/cases/1/plan", &quwo, Some(json!({"milestones": [{"id": "a", "duration_h": 1, "afer": []}]}))).await;
        assert_eq!(status, 400, "{problem}");
        let (status, problem) = server.call(put, "/api/v1/cases/1/plan", &quwo, Some(json!({"milestones": [{"id": "a", "duration_h": 1, "not_before": "tomorrow"}]}))).await;
        assert_eq!(status, 400, "{problem}");
        assert!(problem["detail"].as_str().unwrap().starts_with(r#"milestone "a": not_before"#), "{problem}");
    }

    async fn the_what_if_of_a_need_says_where_first_output_moves(db) {
        let server = serve(db, false).await;
        let (quwo, yicheng) = (server.token("quwo").await, server.token("yicheng").await);
        let (status, _) = server.call(reqwest::Method::PUT, "/api/v1/cases/1/plan", &quwo, Some(plan_body())).await;
        assert_eq!(status, 200);

        let (status, answer) = server.call(reqwest::Method::POST, "/api/v1/needs/1/what-if", &quwo, Some(json!({"resolves_at": "2099-01-01T08:00:00+08:00"}))).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"first_output_before": "2100-01-01T08:00:00+08:00", "first_output_after": "2099-01-01T08:00:00+08:00", "moved_h": -8760.0})
        );

        let (status, problem) = server.call(reqwest::Method::POST, "/api/v1/needs/2/what-if", &quwo, Some(json!({"resolves_at": "2099-01-01T08:00:00+08:00"}))).await;
        assert_eq!(status, 409, "need 2 blocks nothing: {problem}");
        let (status, _) = server.call(reqwest::Method::POST, "/api/v1/needs/1/what-if", &quwo, Some(json!({"resolves_at": "2000-01-01T08:00:00+08:00"}))).await;
        assert_eq!(status, 422, "a need does not resolve in the past");
        let (status, _) = server.call(reqwest::Method::POST, "/api/v1/needs/1/what-if", &quwo, Some(json!({"resolves_at": "soon"}))).await;
        assert_eq!(status, 400);
        let (status, _) = server.call(reqwest::Method::POST, "/api/v1/needs/1/what-if", &yicheng, Some(json!({"resolves_at": "2099-01-01T08:00:00+08:00"}))).await;
        assert_eq!(status, 404);
        let (status, _) = server.call(reqwest::Method::POST, "/api/v1/needs/99/what-if", &quwo, Some(json!({"resolves_at": "2099-01-01T08:00:00+08:00"}))).await;
        assert_eq!(status, 404);

        // The same on the pages: the Gantt chart on the case page, the what-if on the need page.
        let page = |path: &str| {
            let request = server.client.get(format!("{}{path}", server.base)).header("cookie", format!("bangfu_session={quwo}"));
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        let case = page("/cases/1").await;
        assert!(case.contains(r#"<svg class="gantt""#) && case.contains("href=\"/needs/1\""), "the case page draws the plan and links the wait to need 1");
        let need = page("/needs/1?what_if=2099-01-01T08:00").await;
        assert!(need.contains("若此诉求于 2099-01-01 08:00 解决，首批产出移至 2099-01-01 08:00"), "{need}");
        assert!(need.contains("提前 365 天"), "{need}");
        let unattached = page("/needs/2").await;
        assert!(!unattached.contains("id=\"what-if\""), "a need that holds no milestone has no what-if");
    }

    async fn the_reference_case_plan_is_served_with_first_output_on_13_february(db) {
        let server = serve(db, true).await;
        let quwo = server.token("quwo").await;
        let (status, plan) = server.call(reqwest::Method::GET, "/api/v1/cases/1/plan", &quwo, None).await;
        assert_eq!(status, 200, "{plan}");
        assert_eq!(plan["finish"], "2020-02-13T08:30:00+08:00");
        assert_eq!(plan["planned_at"], "2020-02-04T09:00:00+08:00");
        assert!(plan["days_from_plan_to_production"].as_f64().unwrap() < 10.0);
        assert_eq!(plan["driving_path"][0], "order_placed");
        assert_eq!(plan["blockers"].as_array().unwrap().len(), 8);
    }
}
