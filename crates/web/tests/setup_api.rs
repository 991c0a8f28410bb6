//! The setup tasks of issue 16 over real HTTP, each through its own `/api/v1` endpoint with JSON
//! in and out, on SQLite and — when BANGFU_TEST_PG names a server — PostgreSQL: register an
//! enterprise (credit code checked), open its case, station and release team members, move a
//! shipment along its states, add and remove plan milestones, attach and detach needs, switch a
//! selected provider with a reason. Bad input is a 4xx problem+json body saying what was wrong;
//! who may not is told 403, who may not see 404.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions.
#![allow(clippy::unwrap_used)]

use crate::support::{Setup, TestApp, spawn_app};
use bangfu_app::Actor;
use bangfu_app::demo_accounts::DEMO_PASSWORD;
use bangfu_app::needs::NewNeed;
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};

/// The reference case (case 1, 曲沃县) with the demo accounts.
async fn serve(db: TestDb) -> TestApp {
    spawn_app(db, Setup { demo: true, demo_accounts: true, ..Setup::default() }).await
}

/// A valid credit code of 曲沃县 ending in `n`.
fn credit_code(n: u32) -> String {
    let first17 = format!("91141021MA2{n:06}");
    format!("{first17}{}", bangfu_core::credit_code::check_character(&first17).unwrap())
}

bangfu_store::backend_tests! {
    async fn an_officer_registers_an_enterprise_opens_its_case_and_stations_and_releases_its_team(db) {
        let server = serve(db).await;
        let (quwo, leader, houma) = (server.login("quwo", DEMO_PASSWORD).await, server.login("leader", DEMO_PASSWORD).await, server.login("houma", DEMO_PASSWORD).await);

        let good = credit_code(1);
        let mut wrong = good.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        let enterprise = |code: &str| json!({"name": "曲沃县某防护用品公司", "credit_code": code, "region": "141021"});
        server.post("/api/v1/enterprises", Some(&quwo), enterprise(&wrong)).await.problem(422, "check character");
        server.post("/api/v1/enterprises", Some(&quwo), json!({"name": "缺信用代码"})).await.problem(400, "credit_code");
        server.post("/api/v1/enterprises", Some(&houma), enterprise(&good)).await.problem(403, "outside your jurisdiction");
        let registered = server.post("/api/v1/enterprises", Some(&quwo), enterprise(&good)).await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        let enterprise_id = registered.body["id"].as_i64().unwrap();
        assert_eq!((registered.body["credit_code"].as_str(), registered.body["region"].as_str()), (Some(good.as_str()), Some("141021")));
        server.post("/api/v1/enterprises", Some(&quwo), enterprise(&good)).await.problem(409, "already");

        server.post("/api/v1/cases", Some(&quwo), json!({"enterprise_id": "one"})).await.problem(400, "enterprise_id");
        server.post("/api/v1/cases", Some(&leader), json!({"enterprise_id": enterprise_id, "title": "帮扶"})).await.problem(403, "");
        let opened = server.post("/api/v1/cases", Some(&quwo), json!({"enterprise_id": enterprise_id, "title": "防护服转产帮扶"})).await;
        assert_eq!(opened.status, 201, "{}", opened.body);
        let case_id = opened.body["id"].as_i64().unwrap();

        let team = format!("/api/v1/cases/{case_id}/team");
        server.post(&team, Some(&quwo), json!({"title": "驻企干部", "department": "141021", "role": "chief"})).await.problem(422, "role");
        let stationed = server.post(&team, Some(&quwo), json!({"title": "曲沃县工信局驻企干部", "department": "141021", "role": "stationed_cadre"})).await;
        assert_eq!(stationed.status, 201, "{}", stationed.body);
        let member = stationed.body["id"].as_i64().unwrap();

        let release = format!("/api/v1/cases/{case_id}/team/{member}/release");
        server.post(&release, Some(&quwo), json!({"reason": " "})).await.problem(422, "reason");
        server.post(&release, Some(&quwo), json!({})).await.problem(400, "reason");
        server.post(&release, Some(&leader), json!({"reason": "x"})).await.problem(403, "keep its team");
        server.post(&release, Some(&houma), json!({"reason": "x"})).await.problem(404, "");
        let released = server.post(&release, Some(&quwo), json!({"reason": "任务完成"})).await;
        assert_eq!(released.status, 200, "{}", released.body);
        assert_eq!(released.body["released"], member);
        assert!(released.body["team"].as_array().unwrap().iter().all(|m| m["id"] != member), "{}", released.body);
        server.post(&release, Some(&quwo), json!({"reason": "again"})).await.problem(404, "team member");
        let events = server.send(Method::GET, &format!("/api/v1/cases/{case_id}/events"), Some(&quwo), None).await;
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions, ["case.opened", "team.member_added", "team.member_released"]);
    }

    async fn a_shipment_moves_along_its_states_through_the_api(db) {
        let server = serve(db).await;
        let (quwo, leader) = (server.login("quwo", DEMO_PASSWORD).await, server.login("leader", DEMO_PASSWORD).await);
        let recorded = server.post("/api/v1/cases/1/shipments", Some(&quwo), json!({"goods": "第二批口罩", "origin": "141021", "destination": "140822"})).await;
        assert_eq!((recorded.status, recorded.body["status"].as_str()), (201, Some("planned")), "{}", recorded.body);
        let moving = format!("/api/v1/cases/1/shipments/{}/move", recorded.body["id"]);

        server.post(&moving, Some(&quwo), json!({"status": "delivered"})).await.problem(409, "in_transit or held");
        server.post(&moving, Some(&quwo), json!({"status": "flying"})).await.problem(422, "status");
        server.post(&moving, Some(&quwo), json!({"state": "in_transit"})).await.problem(400, "unknown field");
        server.post(&moving, Some(&leader), json!({"status": "in_transit"})).await.problem(403, "");
        server.post("/api/v1/cases/1/shipments/999999/move", Some(&quwo), json!({"status": "in_transit"})).await.problem(404, "shipment 999999");

        let moved = server.post(&moving, Some(&quwo), json!({"status": "in_transit", "traffic_pass": "曲防通〔2020〕21号"})).await;
        assert_eq!(moved.status, 200, "{}", moved.body);
        assert_eq!((moved.body["status"].as_str(), moved.body["traffic_pass"].as_str()), (Some("in_transit"), Some("曲防通〔2020〕21号")));
        assert!(moved.body["departs_at"].is_string(), "leaving stamps the departure: {}", moved.body);
        let arrived = server.post(&moving, Some(&quwo), json!({"status": "delivered"})).await;
        assert_eq!((arrived.status, arrived.body["status"].as_str()), (200, Some("delivered")));
        assert!(arrived.body["arrives_at"].is_string());
        server.post(&moving, Some(&quwo), json!({"status": "held"})).await.problem(409, "delivered is the end");
    }

    async fn milestones_are_added_and_removed_and_needs_attached_and_detached_through_the_api(db) {
        let server = serve(db).await;
        let (quwo, leader, houma) = (server.login("quwo", DEMO_PASSWORD).await, server.login("leader", DEMO_PASSWORD).await, server.login("houma", DEMO_PASSWORD).await);
        let add = "/api/v1/cases/1/plan/milestones";
        let step = json!({"name_zh": "扩产第二条生产线", "name_en": "second line", "duration_h": 96, "after": ["first_output"]});

        server.post(add, Some(&quwo), json!({"name_zh": "扩产", "duration_h": -4})).await.problem(422, "duration_h");
        server.post(add, Some(&quwo), json!({"name_zh": "扩产", "duration_h": 4, "after": ["no_such_step"]})).await.problem(422, "no milestone \"no_such_step\"");
        server.post(add, Some(&quwo), json!({"duration_h": 4})).await.problem(400, "name_zh");
        server.post(add, Some(&quwo), json!({"name_zh": "扩产", "duration_h": "four"})).await.problem(400, "duration_h");
        server.post(add, Some(&leader), step.clone()).await.problem(403, "not change it");
        server.post(add, Some(&houma), step.clone()).await.problem(404, "case 1");

        let added = server.post(add, Some(&quwo), step).await;
        assert_eq!(added.status, 201, "{}", added.body);
        let milestones = added.body["milestones"].as_array().unwrap();
        let new = milestones.last().unwrap();
        let key = new["id"].as_str().unwrap().to_string();
        assert_eq!((key.as_str(), new["name"].as_str()), (format!("m{}", milestones.len()).as_str(), Some("扩产第二条生产线 / second line")));

        // A need of the case waits on it, then no longer.
        let need = server.app.report_need(&Actor::system("test"), Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap(), 1, NewNeed { kind: "other".into(), title: "二线厂房验收".into(), quantity: 1.0, unit: "项".into(), ..NewNeed::default() }).await.unwrap();
        let blockers = format!("/api/v1/cases/1/plan/milestones/{key}/blockers");
        server.post(&blockers, Some(&quwo), json!({"need_id": 999_999})).await.problem(422, "not a need of case 1");
        server.post("/api/v1/cases/1/plan/milestones/no_such_step/blockers", Some(&quwo), json!({"need_id": need.id})).await.problem(422, "its milestones are");
        server.post(&blockers, Some(&leader), json!({"need_id": need.id})).await.problem(403, "");
        let attached = server.post(&blockers, Some(&quwo), json!({"need_id": need.id})).await;
        assert_eq!(attached.status, 200, "{}", attached.body);
        let of = |plan: &Value| plan["milestones"].as_array().unwrap().iter().find(|m| m["id"] == key.as_str()).cloned();
        assert_eq!(of(&attached.body).unwrap()["blockers"], json!([need.id]));
        let detached = server.send(Method::DELETE, &format!("{blockers}/{}", need.id), Some(&quwo), None).await;
        assert_eq!(detached.status, 200, "{}", detached.body);
        assert_eq!(of(&detached.body).unwrap()["blockers"], json!([]));

        let remove = format!("/api/v1/cases/1/plan/milestones/{key}");
        server.send(Method::DELETE, &remove, Some(&leader), None).await.problem(403, "not change it");
        let removed = server.send(Method::DELETE, &remove, Some(&quwo), None).await;
        assert_eq!(removed.status, 200, "{}", removed.body);
        assert!(of(&removed.body).is_none());
        server.send(Method::DELETE, &remove, Some(&quwo), None).await.problem(422, "has no milestone");

        let events = server.send(Method::GET, "/api/v1/cases/1/events?limit=500", Some(&quwo), None).await;
        let actions: Vec<&str> = events.body["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        let tail = &actions[actions.len() - 5..];
        assert_eq!(tail, ["plan.milestone_added", "need.reported", "plan.blocker_attached", "plan.blocker_detached", "plan.milestone_removed"]);
    }

    async fn a_selected_provider_is_switched_with_a_reason_through_the_api(db) {
        let server = serve(db).await;
        let admin = Actor::system("test");
        let input = NewNeed { kind: "sterilisation".into(), title: "口罩灭菌（改选）".into(), quantity: 1000.0, unit: "个".into(), ..NewNeed::default() };
        let need = server.app.report_and_source(&admin, Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap(), 1, input).await.unwrap();
        let detail = server.app.need_detail(&admin, need.id).await.unwrap();
        let feasible: Vec<i64> = detail.candidates.iter().filter(|(c, _)| c.feasible).map(|(c, _)| c.id).collect();
        assert!(feasible.len() >= 2, "two feasible candidates");
        let (shanxi, quwo) = (server.login("shanxi", DEMO_PASSWORD).await, server.login("quwo", DEMO_PASSWORD).await);
        let switch = format!("/api/v1/needs/{}/switch", need.id);

        server.post(&switch, Some(&shanxi), json!({"candidate_id": feasible[0], "reason": "设备故障"})).await.problem(409, "nothing to switch from");
        let selected = server.post(&format!("/api/v1/needs/{}/select", need.id), Some(&shanxi), json!({"candidate_id": feasible[1]})).await;
        assert_eq!(selected.status, 200, "{}", selected.body);
        server.post(&switch, Some(&shanxi), json!({"candidate_id": feasible[0]})).await.problem(400, "reason");
        server.post(&switch, Some(&shanxi), json!({"candidate_id": feasible[0], "reason": ""})).await.problem(422, "reason");
        server.post(&switch, Some(&quwo), json!({"candidate_id": feasible[0], "reason": "x"})).await.problem(403, "");
        server.post(&switch, Some(&shanxi), json!({"candidate_id": 999_999, "reason": "x"})).await.problem(404, "candidate 999999");

        let switched = server.post(&switch, Some(&shanxi), json!({"candidate_id": feasible[0], "reason": "原选企业设备故障"})).await;
        assert_eq!((switched.status, switched.body["status"].as_str()), (200, Some("selected")), "{}", switched.body);
        let events = server.send(Method::GET, "/api/v1/cases/1/events?limit=500", Some(&shanxi), None).await;
        let last = events.body["items"].as_array().unwrap().last().cloned().unwrap();
        assert_eq!((last["action"].as_str(), last["payload"]["reason"].as_str()), (Some("need.switched"), Some("原选企业设备故障")), "{last}");
        assert!(last["payload"]["saves_h"].is_number(), "{last}");
    }
}
