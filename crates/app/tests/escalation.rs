//! Escalation (issue 3, item 4) driven by a test clock, on SQLite and — when BANGFU_TEST_PG names
//! a server — PostgreSQL: response windows, one tier per pass, 督办 once, the idempotent second
//! pass, the notification for the new owner, the officer's escalate button and the servers' lease.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions, which
// clippy.toml's allow-unwrap-in-tests covers.
#![allow(clippy::unwrap_used)]

use crate::support::{admin, code};
use bangfu_app::cases::NewEnterprise;
use bangfu_app::escalation::EscalationReport;
use bangfu_app::needs::NewNeed;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::escalation::{EscalationStep, ResponseWindows};
use bangfu_core::model::{NeedStatus, Role};
use bangfu_store::NeedRow;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

fn county() -> Actor {
    Actor::officer("曲沃县工信局", code(141021))
}

/// 2020-01-26 09:00 in 曲沃.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 26, 1, 0, 0).unwrap()
}

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// A fresh database with one enterprise in 曲沃县 and its case; returns the case id.
async fn with_case(app: &App) -> i64 {
    let input = NewEnterprise { name: "某口罩企业".into(), credit_code: "91141021MA0KQ20203".into(), region: "141021".into(), ..Default::default() };
    let enterprise = app.add_enterprise(&admin(), t0(), input).await.unwrap();
    app.open_case(&county(), t0(), enterprise.id, "测试帮扶").await.unwrap().id
}

/// A need of the county's own (no solution known yet): owned by 曲沃县工信局 from `at`.
async fn county_need(app: &App, case_id: i64, at: DateTime<Utc>) -> NeedRow {
    let input = NewNeed { kind: "other".into(), title: "厂房消防验收".into(), quantity: 1.0, unit: "项".into(), ..NewNeed::default() };
    let need = app.report_need(&county(), at, case_id, input).await.unwrap();
    assert_eq!((need.owner.to_string().as_str(), need.owner_tier.as_str()), ("141021", "county"));
    need
}

/// (need id, action, new owner) of each need a pass moved.
fn moved(report: &EscalationReport) -> Vec<(i64, &'static str, String)> {
    report.moved.iter().map(|m| (m.need.id, m.action(), m.need.owner.to_string())).collect()
}

async fn need(app: &App, id: i64) -> NeedRow {
    app.need_detail(&admin(), id).await.unwrap().need
}

async fn events(app: &App) -> usize {
    app.verify_audit().await.unwrap().events
}

bangfu_store::backend_tests! {
    async fn a_pass_due_for_more_needs_than_one_write_takes_moves_each_once(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let count = bangfu_app::escalation::ESCALATIONS_PER_WRITE * 2 + 7;
        let mut ids = Vec::new();
        for i in 0..count {
            ids.push(county_need(&app, case_id, t0() + minutes(i as i64 % 50)).await.id);
        }
        let before = events(&app).await;
        let report = app.escalate(&admin(), t0() + hours(25)).await.unwrap();
        let mut moved_ids: Vec<i64> = report.moved.iter().map(|m| m.need.id).collect();
        assert!(moved_ids.windows(2).all(|w| w[0] < w[1]), "moved in need order, each once");
        moved_ids.dedup();
        assert_eq!(moved_ids, ids);
        assert!(report.moved.iter().all(|m| m.action() == "need.escalated" && m.need.owner.to_string() == "141000"));
        assert_eq!(events(&app).await, before + count, "one audit event per need moved");
        // Everything moved has a new window: a second pass at the same moment moves nothing.
        assert_eq!(moved(&app.escalate(&admin(), t0() + hours(25)).await.unwrap()), []);
    }

    async fn a_stalled_need_climbs_one_tier_per_pass_and_is_supervised_once(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let n = county_need(&app, case_id, t0()).await;

        // Inside the county's 24 h nothing moves — the window is inclusive of its last instant.
        assert_eq!(moved(&app.escalate(&admin(), t0() + hours(24)).await.unwrap()), []);

        // Past it, the need goes to 临汾市 with a new window from the moment of the pass.
        let first = t0() + hours(24) + minutes(1);
        let report = app.escalate(&admin(), first).await.unwrap();
        assert_eq!(moved(&report), [(n.id, "need.escalated", "141000".to_string())]);
        assert_eq!(report.checked, 1);
        let m = &report.moved[0];
        assert_eq!((m.from.as_u32(), m.expired_at, m.manual), (141021, Some(t0() + hours(24)), false));
        assert_eq!(m.reason.zh, "曲沃县工信局超过 24 小时未响应，上报临汾市工信局");
        assert!(matches!(m.step, EscalationStep::Escalate { deadline, .. } if deadline == first + hours(48)));
        let after = need(&app, n.id).await;
        assert_eq!((after.owner.to_string().as_str(), after.owner_tier.as_str(), after.reached_owner_at), ("141000", "city", first.timestamp_millis()));
        assert!(after.route_zh.ends_with("由曲沃县工信局负责。曲沃县工信局超过 24 小时未响应，上报临汾市工信局。"), "{}", after.route_zh);
        assert!(after.route_en.ends_with("曲沃县 department did not act within 24 h — escalated to 临汾市."), "{}", after.route_en);

        // A second pass at the same now changes nothing: no event, no notification.
        let (before_events, before_notes) = (events(&app).await, app.count_notifications(&Actor::officer("x", code(141000))).await.unwrap());
        assert_eq!(moved(&app.escalate(&admin(), first).await.unwrap()), []);
        assert_eq!(events(&app).await, before_events);
        assert_eq!(app.count_notifications(&Actor::officer("x", code(141000))).await.unwrap(), before_notes);

        // One tier per pass, however late: the city gets its own 48 h from `first`.
        assert_eq!(moved(&app.escalate(&admin(), first + hours(48)).await.unwrap()), []);
        let second = first + hours(48) + minutes(1);
        assert_eq!(moved(&app.escalate(&admin(), second).await.unwrap()), [(n.id, "need.escalated", "140000".to_string())]);
        assert_eq!(need(&app, n.id).await.owner_tier.as_str(), "province");

        // Past the province's 72 h: flagged for supervision (督办), once.
        let third = second + hours(72) + minutes(1);
        let report = app.escalate(&admin(), third).await.unwrap();
        assert_eq!(moved(&report), [(n.id, "need.supervised", "140000".to_string())]);
        assert_eq!(report.moved[0].reason.zh, "山西省工信厅超过 72 小时未响应，提请省级领导督办");
        let after = need(&app, n.id).await;
        assert!(after.supervised);
        assert!(after.route_zh.contains("上报临汾市工信局。临汾市工信局超过 48 小时未响应，上报山西省工信厅。山西省工信厅超过 72 小时未响应，提请省级领导督办。"), "{}", after.route_zh);
        assert_eq!(moved(&app.escalate(&admin(), third + hours(1000)).await.unwrap()), []);

        // The log tells the path, and the chain still verifies.
        let timeline = app.case_timeline(&admin(), case_id).await.unwrap();
        let actions: Vec<&str> = timeline.iter().map(|e| e.action.as_str()).filter(|a| a.starts_with("need.")).collect();
        assert_eq!(actions, ["need.reported", "need.escalated", "need.escalated", "need.supervised"]);
        let supervised: serde_json::Value = serde_json::from_str(&timeline.last().unwrap().payload).unwrap();
        assert_eq!(supervised["reason"]["en"], "山西省 department did not act within 72 h — flagged for supervision by the provincial leadership (督办)");
        assert_eq!(app.verify_audit().await.unwrap().broken, None);
    }

    async fn the_new_owner_is_notified_with_the_reason(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let n = county_need(&app, case_id, t0()).await;
        let city = Actor::officer("临汾市工信局", code(141000));
        assert_eq!(app.notifications(&city, bangfu_store::PageRequest::first(500)).await.unwrap().items.len(), 0);
        app.escalate(&admin(), t0() + hours(25)).await.unwrap();
        let notes = app.notifications(&city, bangfu_store::PageRequest::first(500)).await.unwrap().items;
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].need_id, Some(n.id));
        assert_eq!(notes[0].text_zh, "上报诉求：厂房消防验收（临汾市工信局）——曲沃县工信局超过 24 小时未响应，上报临汾市工信局");
        assert!(notes[0].text_en.starts_with("Need escalated to you: 厂房消防验收 — "), "{}", notes[0].text_en);
        // The province hears of it only when it reaches the province.
        assert_eq!(app.count_notifications(&Actor::officer("省", code(140000))).await.unwrap(), 0);
    }

    async fn a_need_acted_on_or_closed_does_not_escalate(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let started = county_need(&app, case_id, t0()).await;
        app.set_need_status(&county(), t0() + hours(1), started.id, NeedStatus::Started, "").await.unwrap();
        let resolved = county_need(&app, case_id, t0()).await;
        app.set_need_status(&county(), t0() + hours(1), resolved.id, NeedStatus::Resolved, "").await.unwrap();
        let open = county_need(&app, case_id, t0()).await;
        let report = app.escalate(&admin(), t0() + hours(100)).await.unwrap();
        assert_eq!(moved(&report), [(open.id, "need.escalated", "141000".to_string())]);
        assert_eq!(report.checked, 2, "the started and the open need are looked at; the resolved one is not");
    }

    async fn the_deployment_chooses_the_windows(db) {
        let windows = ResponseWindows::parse("county=2h,city=90m").unwrap();
        let app = App::open(db.url()).await.unwrap().with_response_windows(windows);
        assert_eq!(app.response_windows().to_string(), "county=2h,city=90m,province=72h");
        let case_id = with_case(&app).await;
        let n = county_need(&app, case_id, t0()).await;
        assert_eq!(moved(&app.escalate(&admin(), t0() + hours(2)).await.unwrap()), []);
        let report = app.escalate(&admin(), t0() + hours(3)).await.unwrap();
        assert_eq!(moved(&report), [(n.id, "need.escalated", "141000".to_string())]);
        assert_eq!(report.moved[0].reason.zh, "曲沃县工信局超过 2 小时未响应，上报临汾市工信局");
        let report = app.escalate(&admin(), t0() + hours(5)).await.unwrap();
        assert_eq!(report.moved[0].reason.zh, "临汾市工信局超过 90 分钟未响应，上报山西省工信厅");
    }

    async fn several_needs_move_in_one_pass_by_id(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let a = county_need(&app, case_id, t0()).await;
        let b = county_need(&app, case_id, t0() + hours(10)).await;
        let c = county_need(&app, case_id, t0() + hours(30)).await;
        let report = app.escalate(&admin(), t0() + hours(40)).await.unwrap();
        assert_eq!(moved(&report), [(a.id, "need.escalated", "141000".to_string()), (b.id, "need.escalated", "141000".to_string())]);
        assert_eq!(need(&app, c.id).await.owner.to_string(), "141021");
    }

    async fn an_officer_escalates_a_need_at_once_with_a_reason(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let n = county_need(&app, case_id, t0()).await;
        let now = t0() + hours(2);

        let err = app.escalate_need(&county(), now, n.id, "  ").await.unwrap_err();
        assert!(matches!(err, AppError::BadInput(_)), "{err}");

        let done = app.escalate_need(&county(), now, n.id, "需市级协调邻县资源").await.unwrap();
        assert_eq!((done.action(), done.manual, done.expired_at), ("need.escalated", true, None));
        assert_eq!(done.reason.zh, "曲沃县工信局将诉求由曲沃县工信局上报临汾市工信局：需市级协调邻县资源");
        assert_eq!((done.need.owner.to_string().as_str(), done.need.reached_owner_at), ("141000", now.timestamp_millis()));
        // The new owner's window starts now: the pass leaves it alone for 48 h.
        assert_eq!(moved(&app.escalate(&admin(), now + hours(48)).await.unwrap()), []);

        let city = Actor::officer("临汾市工信局", code(141000));
        let done = app.escalate_need(&city, now + hours(1), n.id, "跨市协调").await.unwrap();
        assert_eq!(done.need.owner.to_string(), "140000");
        let province = Actor::officer("山西省工信厅", code(140000));
        let done = app.escalate_need(&province, now + hours(2), n.id, "请省领导督办").await.unwrap();
        assert_eq!((done.action(), done.need.supervised), ("need.supervised", true));
        let err = app.escalate_need(&province, now + hours(3), n.id, "再次督办").await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err}");
    }

    async fn only_those_who_may_change_the_need_escalate_it(db) {
        let app = App::open(db.url()).await.unwrap();
        let case_id = with_case(&app).await;
        let n = county_need(&app, case_id, t0()).await;
        let other_county = Actor::officer("侯马市工信局", code(141081));
        let err = app.escalate_need(&other_county, t0(), n.id, "越权").await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{err}");
        let viewer = Actor { role: Role::Viewer, ..Actor::officer("临汾市领导", code(141000)) };
        let err = app.escalate_need(&viewer, t0(), n.id, "只读").await.unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{err}");
        let err = app.escalate(&county(), t0() + hours(30)).await.unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{err}");
        app.set_need_status(&county(), t0(), n.id, NeedStatus::Cancelled, "").await.unwrap();
        let err = app.escalate_need(&county(), t0(), n.id, "已撤销").await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err}");
    }

    async fn the_servers_pass_runs_once_per_minute_across_servers(db) {
        let one = App::open(db.url()).await.unwrap();
        let two = App::open(db.url()).await.unwrap();
        let case_id = with_case(&one).await;
        let n = county_need(&one, case_id, t0()).await;
        let now = t0() + hours(25);
        let report = one.escalate_scheduled(&admin(), now).await.unwrap().expect("the first server claims the minute");
        assert_eq!(moved(&report), [(n.id, "need.escalated", "141000".to_string())]);
        assert_eq!(two.escalate_scheduled(&admin(), now + TimeDelta::seconds(30)).await.unwrap(), None, "the same minute, another server");
        assert_eq!(one.escalate_scheduled(&admin(), now).await.unwrap(), None);
        let next = two.escalate_scheduled(&admin(), now + minutes(1)).await.unwrap().expect("the next minute is free");
        assert_eq!(moved(&next), []);
    }

    async fn the_reference_case_has_nothing_left_to_escalate(db) {
        let app = App::open(db.url()).await.unwrap();
        bangfu_app::demo::load(&app, &admin()).await.unwrap();
        let report = app.escalate(&admin(), Utc.with_ymd_and_hms(2020, 3, 7, 0, 0, 0).unwrap()).await.unwrap();
        assert_eq!((report.checked, report.moved.len()), (0, 0), "every need of the case was resolved by mid-February");
    }
}
