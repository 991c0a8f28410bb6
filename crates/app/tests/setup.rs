//! The setup tasks officers finish from the pages (issue 16, item 3), on SQLite and — when
//! BANGFU_TEST_PG names a server — PostgreSQL: a member released with a reason by the officers
//! who keep the team; a shipment moved along its states and no other way; a switch with its
//! reason and what it saves; a refusal of an approval with its reason; a milestone added to a
//! case's plan and one taken out, by the officers whose jurisdiction holds the case. Each leaves
//! its event.

#![allow(clippy::unwrap_used)]

use crate::support::{admin};
use bangfu_app::cases::NewTeamMember;
use bangfu_app::channel::{NewApproval, NewShipment};
use bangfu_app::needs::NewNeed;
use bangfu_app::plans::NewPlanStep;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::model::{ApprovalStatus, ShipmentStatus};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

async fn world(db: &bangfu_store::testing::TestDb) -> App {
    let app = App::open(db.url()).await.unwrap();
    bangfu_app::demo::load(&app, &admin()).await.unwrap();
    bangfu_app::demo_accounts::load_accounts(&app, &admin(), t0()).await.unwrap();
    app
}

async fn log_in(app: &App, username: &str) -> Actor {
    app.login(t0(), "127.0.0.1", username, bangfu_app::demo_accounts::DEMO_PASSWORD).await.unwrap().actor
}

/// The last event of case 1: (action, payload).
async fn last_event(app: &App) -> (String, serde_json::Value) {
    let request = bangfu_store::PageRequest { after: None, limit: 500 };
    let mut events = app.case_events(&admin(), 1, request).await.unwrap().0.items;
    events.sort_by_key(|e| e.seq);
    let e = events.pop().unwrap();
    (e.action, serde_json::from_str(&e.payload).unwrap())
}

bangfu_store::backend_tests! {
    async fn a_member_is_released_with_a_reason_by_the_officers_who_keep_the_team(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let member = NewTeamMember { title: "曲沃县工信局驻企干部（测试）".into(), department: "141021".into(), role: "stationed_cadre".into(), user_id: None };
        let member = app.add_team_member(&quwo, t0(), 1, member).await.unwrap();
        assert!(matches!(app.release_team_member(&quwo, t0(), 1, member.id, " ").await, Err(AppError::BadInput(_))), "a reason is needed");
        let leader = log_in(&app, "leader").await;
        assert!(matches!(app.release_team_member(&leader, t0(), 1, member.id, "x").await, Err(AppError::Forbidden(_))));
        let houma = log_in(&app, "houma").await;
        assert!(matches!(app.release_team_member(&houma, t0(), 1, member.id, "x").await, Err(AppError::NotFound(_))));
        app.release_team_member(&quwo, t0() + TimeDelta::hours(1), 1, member.id, "任务完成").await.unwrap();
        assert!(!app.case_detail(&quwo, 1).await.unwrap().team.iter().any(|m| m.id == member.id));
        let (action, payload) = last_event(&app).await;
        assert_eq!((action.as_str(), payload["reason"].as_str()), ("team.member_released", Some("任务完成")));
        assert!(matches!(app.release_team_member(&quwo, t0(), 1, member.id, "again").await, Err(AppError::NotFound(_))));
    }

    async fn a_shipment_moves_along_its_states_and_no_other_way(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let input = NewShipment { goods: "口罩 90,000 只".into(), origin: "141021".into(), destination: "140822".into(), status: "planned".into(), ..NewShipment::default() };
        let shipment = app.add_shipment(&quwo, t0(), 1, input).await.unwrap();
        let skipped = app.move_shipment(&quwo, t0(), 1, shipment.id, ShipmentStatus::Delivered, None).await;
        assert!(matches!(&skipped, Err(AppError::Conflict(m)) if m.contains("in_transit or held")), "{skipped:?}");
        let leaving = t0() + TimeDelta::hours(2);
        let moving = app.move_shipment(&quwo, leaving, 1, shipment.id, ShipmentStatus::InTransit, Some("晋L通字 0001")).await.unwrap();
        assert_eq!((moving.status.as_str(), moving.departs_at, moving.traffic_pass.as_deref()), ("in_transit", Some(leaving.timestamp_millis()), Some("晋L通字 0001")));
        let arriving = t0() + TimeDelta::hours(6);
        let done = app.move_shipment(&quwo, arriving, 1, shipment.id, ShipmentStatus::Delivered, None).await.unwrap();
        assert_eq!((done.arrives_at, done.traffic_pass.as_deref()), (Some(arriving.timestamp_millis()), Some("晋L通字 0001")));
        let (action, payload) = last_event(&app).await;
        assert_eq!((action.as_str(), payload["from"].as_str(), payload["to"].as_str()), ("shipment.moved", Some("in_transit"), Some("delivered")));
        assert!(matches!(app.move_shipment(&quwo, arriving, 1, shipment.id, ShipmentStatus::Held, None).await, Err(AppError::Conflict(_))), "delivered is the end");
        let leader = log_in(&app, "leader").await;
        assert!(matches!(app.move_shipment(&leader, arriving, 1, shipment.id, ShipmentStatus::Held, None).await, Err(AppError::Forbidden(_))));
    }

    async fn a_switch_records_its_reason_beside_what_it_saves(db) {
        let app = world(&db).await;
        let input = NewNeed { kind: "sterilisation".into(), title: "口罩灭菌（改选）".into(), quantity: 1000.0, unit: "个".into(), ..NewNeed::default() };
        let need = app.report_and_source(&admin(), t0(), 1, input).await.unwrap();
        let detail = app.need_detail(&admin(), need.id).await.unwrap();
        let feasible: Vec<i64> = detail.candidates.iter().filter(|(c, _)| c.feasible).map(|(c, _)| c.id).collect();
        assert!(feasible.len() >= 2, "two feasible candidates");
        let shanxi = log_in(&app, "shanxi").await;
        assert!(matches!(app.switch_candidate(&shanxi, t0(), need.id, feasible[0], "原因").await, Err(AppError::Conflict(_))), "nothing selected to switch from");
        app.select_candidate(&shanxi, t0(), need.id, feasible[1]).await.unwrap();
        assert!(matches!(app.switch_candidate(&shanxi, t0(), need.id, feasible[0], "").await, Err(AppError::BadInput(_))));
        let quwo = log_in(&app, "quwo").await;
        assert!(matches!(app.switch_candidate(&quwo, t0(), need.id, feasible[0], "x").await, Err(AppError::Forbidden(_))), "the province owns it");
        app.switch_candidate(&shanxi, t0() + TimeDelta::hours(1), need.id, feasible[0], "原选企业设备故障").await.unwrap();
        let (action, payload) = last_event(&app).await;
        assert_eq!((action.as_str(), payload["reason"].as_str()), ("need.switched", Some("原选企业设备故障")));
        assert!(payload["saves_h"].as_f64().is_some() && payload["saves_km"].as_f64().is_some(), "{payload}");
    }

    async fn a_refusal_of_an_approval_keeps_its_reason(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let input = NewApproval { department: "141021".into(), agency: "市场监管".into(), item: "测试备案".into(), due_at: None };
        let approval = app.open_approval(&quwo, t0(), 1, input).await.unwrap();
        app.decide_approval_with_reason(&quwo, t0(), approval.id, ApprovalStatus::Rejected, "材料不全").await.unwrap();
        let (action, payload) = last_event(&app).await;
        assert_eq!((action.as_str(), payload["status"].as_str(), payload["reason"].as_str()), ("approval.decided", Some("rejected"), Some("材料不全")));
    }
    async fn a_milestone_is_added_to_the_plan_by_the_officers_whose_jurisdiction_holds_the_case(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let step = NewPlanStep { name_zh: "扩产第二条生产线".into(), name_en: "second line".into(), duration_h: 96.0, after: vec!["first_output".into()], ..NewPlanStep::default() };
        let before = app.case_plan(&quwo, 1, t0()).await.unwrap();

        for (bad, field) in [
            (NewPlanStep { name_zh: " ".into(), ..step.clone() }, "name_zh"),
            (NewPlanStep { duration_h: -1.0, ..step.clone() }, "duration_h"),
            (NewPlanStep { duration_h: f64::NAN, ..step.clone() }, "duration_h"),
            (NewPlanStep { after: vec!["no_such_step".into()], ..step.clone() }, "after"),
            (NewPlanStep { key: "first_output".into(), ..step.clone() }, "key"),
        ] {
            let refused = app.add_milestone(&quwo, t0(), 1, bad).await;
            assert!(matches!(&refused, Err(AppError::BadInput(m)) if m.starts_with(field)), "{field}: {refused:?}");
        }
        let leader = log_in(&app, "leader").await;
        assert!(matches!(app.add_milestone(&leader, t0(), 1, step.clone()).await, Err(AppError::Forbidden(_))));
        let houma = log_in(&app, "houma").await;
        assert!(matches!(app.add_milestone(&houma, t0(), 1, step.clone()).await, Err(AppError::NotFound(_))));
        // 侯马市 stationed on the case sees it and attaches needs, but does not reshape its plan.
        let station = NewTeamMember { title: "侯马市工信局支援干部".into(), department: "141081".into(), role: "task_force".into(), user_id: None };
        app.add_team_member(&quwo, t0(), 1, station).await.unwrap();
        assert!(matches!(app.add_milestone(&houma, t0(), 1, step.clone()).await, Err(AppError::Forbidden(_))));
        assert_eq!(app.case_plan(&quwo, 1, t0()).await.unwrap().rows.len(), before.rows.len(), "nothing was written by the refusals");

        let row = app.add_milestone(&quwo, t0() + TimeDelta::hours(1), 1, step.clone()).await.unwrap();
        assert_eq!((row.key.as_str(), row.name.as_str()), (format!("m{}", before.rows.len() + 1).as_str(), "扩产第二条生产线 / second line"));
        let (action, payload) = last_event(&app).await;
        assert_eq!(action, "plan.milestone_added");
        assert_eq!((payload["zh"].as_str(), payload["after"].clone()), (Some("计划新增节点「扩产第二条生产线」（工期 96 小时）"), serde_json::json!(["first_output"])));
        let view = app.case_plan(&quwo, 1, t0() + TimeDelta::hours(1)).await.unwrap();
        let last = view.plan.milestones.last().unwrap();
        assert_eq!((last.key.as_str(), last.duration_h, last.after.clone()), (row.key.as_str(), 96.0, vec!["first_output".to_string()]));
        assert_eq!(view.finish(), t0() + TimeDelta::hours(1 + 96), "the new step, not yet started, starts now and decides first output");
        let next = app.add_milestone(&log_in(&app, "linfen").await, t0(), 1, NewPlanStep { key: "audit".into(), name_zh: "验收".into(), duration_h: 0.0, after: vec![row.key.clone()], ..NewPlanStep::default() }).await.unwrap();
        assert_eq!((next.key.as_str(), next.name.as_str()), ("audit", "验收"), "the city above the county keeps the plan too; an English name is optional");
    }

    async fn a_milestone_taken_out_hands_what_it_waited_for_to_the_steps_after_it(db) {
        let app = world(&db).await;
        let quwo = log_in(&app, "quwo").await;
        let leader = log_in(&app, "leader").await;
        assert!(matches!(app.remove_milestone(&leader, t0(), 1, "sterilisation").await, Err(AppError::Forbidden(_))));
        assert!(matches!(app.remove_milestone(&log_in(&app, "houma").await, t0(), 1, "sterilisation").await, Err(AppError::NotFound(_))));
        let unknown = app.remove_milestone(&quwo, t0(), 1, "no_such_step").await;
        assert!(matches!(&unknown, Err(AppError::BadInput(m)) if m.contains("its milestones are order_placed")), "{unknown:?}");
        let lines = app.case_plan(&quwo, 1, t0()).await.unwrap().blockers.iter().filter(|b| b.milestone == "lines_arrive").count();
        assert_eq!(lines, 1);

        // sterilisation waited for samples_inspection; traffic_pass and first_output waited for it.
        app.remove_milestone(&quwo, t0(), 1, "sterilisation").await.unwrap();
        let (action, payload) = last_event(&app).await;
        assert_eq!(action, "plan.milestone_removed");
        assert_eq!(payload["relinked"], serde_json::json!(["traffic_pass", "first_output"]));
        assert_eq!(payload["zh"].as_str(), Some("计划删除节点「落实万荣钴-60辐照灭菌（36小时）」（取下 1 项卡点诉求）"), "the sterilisation need was attached to it");
        let view = app.case_plan(&quwo, 1, t0()).await.unwrap();
        assert!(view.plan.milestones.iter().all(|m| m.key != "sterilisation"));
        let after = |key: &str| view.plan.milestones.iter().find(|m| m.key == key).unwrap().after.clone();
        assert_eq!(after("traffic_pass"), ["samples_inspection"]);
        assert_eq!(after("first_output"), ["first_batch", "traffic_pass", "green_channel", "samples_inspection"]);

        // A step with a need attached takes the need off the plan with it.
        app.remove_milestone(&quwo, t0(), 1, "lines_arrive").await.unwrap();
        let (_, payload) = last_event(&app).await;
        assert_eq!(payload["detached"].as_array().map(Vec::len), Some(1));
        let view = app.case_plan(&quwo, 1, t0()).await.unwrap();
        assert!(view.blockers.iter().all(|b| b.milestone != "lines_arrive"));
        assert_eq!(view.plan.milestones.iter().find(|m| m.key == "installation").unwrap().after, ["lines_held"]);
    }
}
