//! The case's plan (issue 7) on SQLite and — when BANGFU_TEST_PG names a server — PostgreSQL:
//! the stored plan round trip, refusals that name the milestones, needs that hold the plan back,
//! the what-if, access, and the reference case's plan to 13 February 2020.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions, which
// clippy.toml's allow-unwrap-in-tests covers.
#![allow(clippy::unwrap_used)]

use crate::support::{admin};
use bangfu_app::cases::NewEnterprise;
use bangfu_app::needs::NewNeed;
use bangfu_app::plans::{Expected, NewMilestone, PlanView};
use bangfu_app::registry::NewProvider;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::model::{NeedStatus, Role};
use bangfu_core::region::RegionCode;
use bangfu_store::testing::TestDb;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde_json::json;

fn county() -> Actor {
    Actor::officer("曲沃县工信局", RegionCode::new_unchecked(141021))
}

/// A time written at UTC+8: "2020-02-01 08:00".
fn t(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(&format!("{local} +0800"), "%Y-%m-%d %H:%M %z").unwrap().with_timezone(&Utc)
}

/// A time as RFC 3339 at UTC+8.
fn china(time: DateTime<Utc>) -> String {
    time.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap()).to_rfc3339()
}

fn step(key: &str, duration_h: f64, after: &[&str]) -> NewMilestone {
    NewMilestone { key: key.into(), name: format!("步骤 {key}"), duration_h, after: after.iter().map(|a| a.to_string()).collect(), ..NewMilestone::default() }
}

/// A fresh database with one enterprise in 曲沃县 and its case; returns the app and the case id.
async fn with_case(db: &TestDb) -> (App, i64) {
    let app = App::open(db.url()).await.unwrap();
    let input = NewEnterprise { name: "某口罩企业".into(), credit_code: "91141021MA0KQ20203".into(), region: "141021".into(), ..Default::default() };
    let enterprise = app.add_enterprise(&admin(), t("2020-02-01 08:00"), input).await.unwrap();
    let case = app.open_case(&county(), t("2020-02-01 08:00"), enterprise.id, "测试帮扶").await.unwrap();
    (app, case.id)
}

/// A need of the county's own (no registry kind, so no candidates), with a deadline.
async fn need_with_deadline(app: &App, case_id: i64, deadline: Option<DateTime<Utc>>) -> i64 {
    let input = NewNeed { kind: "other".into(), title: "厂房消防验收".into(), quantity: 1.0, unit: "项".into(), deadline, ..NewNeed::default() };
    app.report_need(&county(), t("2020-02-01 08:00"), case_id, input).await.unwrap().id
}

/// a (10 h) → b (10 h) → c (0 h), and d (5 h) beside them, from 1 February 08:00.
fn small_plan() -> Vec<NewMilestone> {
    vec![step("a", 10.0, &[]), step("b", 10.0, &["a"]), step("c", 0.0, &["b", "d"]), step("d", 5.0, &[])]
}

fn keys(view: &PlanView, indices: &[usize]) -> Vec<String> {
    indices.iter().map(|&i| view.plan.milestones[i].key.clone()).collect()
}

bangfu_store::backend_tests! {
    async fn a_plan_is_stored_and_read_back_as_it_was_given(db) {
        let (app, case_id) = with_case(&db).await;
        let need = need_with_deadline(&app, case_id, Some(t("2020-02-01 12:00"))).await;
        let mut plan = small_plan();
        plan[0].name = "生产线运抵 / lines arrive".into();
        plan[0].actual_start = Some(t("2020-02-01 08:00"));
        plan[0].actual_finish = Some(t("2020-02-01 17:30"));
        plan[3].not_before = Some(t("2020-02-02 08:00"));
        plan[1].blockers = vec![need, need];
        let rows = app.set_plan(&county(), t("2020-02-01 18:00"), case_id, plan.clone()).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a", "b", "c", "d"]);

        let view = app.case_plan(&county(), case_id, t("2020-02-01 18:00")).await.unwrap();
        let read: Vec<NewMilestone> = view
            .plan
            .milestones
            .iter()
            .enumerate()
            .map(|(i, m)| NewMilestone {
                key: m.key.clone(),
                name: m.name.clone(),
                duration_h: m.duration_h,
                after: m.after.clone(),
                not_before: m.not_before,
                actual_start: m.actual_start,
                actual_finish: m.actual_finish,
                blockers: view.blockers_of(i).map(|b| b.need.id).collect(),
            })
            .collect();
        let mut expected = plan;
        expected[1].blockers = vec![need];
        assert_eq!(read, expected);
        assert_eq!(view.planned_at, Some(t("2020-02-01 18:00")));
        let event = app.case_timeline(&admin(), case_id).await.unwrap().into_iter().rfind(|e| e.action == "plan.set").unwrap();
        let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(payload["keys"], json!(["a", "b", "c", "d"]));
        assert_eq!(payload["blockers"], 1);

        // Setting it again replaces it: one milestone, no blockers.
        app.set_plan(&county(), t("2020-02-01 19:00"), case_id, vec![step("only", 1.0, &[])]).await.unwrap();
        let view = app.case_plan(&county(), case_id, t("2020-02-01 19:00")).await.unwrap();
        assert_eq!(keys(&view, &[0]), ["only"]);
        assert!(view.blockers.is_empty());
        assert_eq!(view.planned_at, Some(t("2020-02-01 18:00")), "planned_at is when the plan was first set");
    }

    async fn a_cycle_is_refused_naming_its_milestones_and_the_stored_plan_stays(db) {
        let (app, case_id) = with_case(&db).await;
        app.set_plan(&county(), t("2020-02-01 08:00"), case_id, small_plan()).await.unwrap();
        let cycle = vec![step("x", 1.0, &["z"]), step("y", 1.0, &["x"]), step("z", 1.0, &["y"])];
        let error = app.set_plan(&county(), t("2020-02-01 09:00"), case_id, cycle).await.unwrap_err();
        assert!(matches!(&error, AppError::BadInput(m) if m.contains(r#""x" → "y" → "z" → "x""#)), "{error}");
        let view = app.case_plan(&county(), case_id, t("2020-02-01 09:00")).await.unwrap();
        assert_eq!(view.plan.milestones.len(), 4, "the refused plan changed nothing");
    }

    async fn other_bad_plans_are_refused_with_what_to_fix(db) {
        let (app, case_id) = with_case(&db).await;
        let now = t("2020-02-01 08:00");
        let unknown = vec![step("lines_arrive", 1.0, &[]), step("installation", 1.0, &["lines_arive"])];
        let error = app.set_plan(&county(), now, case_id, unknown).await.unwrap_err().to_string();
        assert!(error.contains(r#"did you mean "lines_arrive"?"#), "{error}");

        let mut future = small_plan();
        future[0].actual_start = Some(t("2020-02-02 08:00"));
        let error = app.set_plan(&county(), now, case_id, future).await.unwrap_err().to_string();
        assert!(error.contains(r#"milestone "a": actual_start 2020-02-02 08:00 is after now"#), "{error}");

        // A need of another case is not a blocker of this one.
        let first17 = "91141021MA0KQ2099";
        let credit_code = format!("{first17}{}", bangfu_core::credit_code::check_character(first17).unwrap());
        let input = NewEnterprise { name: "另一企业".into(), credit_code, region: "141021".into(), ..Default::default() };
        let enterprise = app.add_enterprise(&admin(), now, input).await.unwrap();
        let other_case = app.open_case(&county(), now, enterprise.id, "另一帮扶").await.unwrap().id;
        let foreign = need_with_deadline(&app, other_case, None).await;
        let mut plan = small_plan();
        plan[0].blockers = vec![foreign];
        let error = app.set_plan(&county(), now, case_id, plan).await.unwrap_err().to_string();
        assert!(error.contains(&format!("need {foreign} is not a need of case {case_id}")), "{error}");

        let error = app.attach_blocker(&county(), now, case_id, "nowhere", foreign).await.unwrap_err().to_string();
        assert_eq!(error, format!("case {case_id} has no plan yet — set one first"));
    }

    async fn an_open_need_holds_its_milestone_until_its_deadline_and_moves_first_output(db) {
        let (app, case_id) = with_case(&db).await;
        let now = t("2020-02-01 08:00");
        let need = need_with_deadline(&app, case_id, Some(t("2020-02-03 08:00"))).await;
        app.set_plan(&county(), now, case_id, small_plan()).await.unwrap();
        let before = app.case_plan(&county(), case_id, now).await.unwrap();
        assert_eq!(before.finish(), t("2020-02-02 04:00"));
        assert_eq!(keys(&before, before.schedule.critical_path()), ["a", "b", "c"]);

        assert!(app.attach_blocker(&county(), now, case_id, "d", need).await.unwrap());
        assert!(!app.attach_blocker(&county(), now, case_id, "d", need).await.unwrap(), "attaching twice changes nothing");
        let held = app.case_plan(&county(), case_id, now).await.unwrap();
        assert_eq!(held.finish(), t("2020-02-03 08:00"), "d waits for the need's deadline");
        assert_eq!(keys(&held, held.schedule.critical_path()), ["d", "c"]);
        assert_eq!(held.delay_h(), 28.0);
        assert_eq!(held.blockers[0].expected, Expected::Deadline);
        assert_eq!(held.schedule.critical_blockers(), [bangfu_core::ids::NeedId(need)]);

        // Resolved, it holds nothing.
        app.set_need_status(&county(), t("2020-02-01 09:00"), need, NeedStatus::Resolved, "").await.unwrap();
        let resolved = app.case_plan(&county(), case_id, t("2020-02-01 09:00")).await.unwrap();
        assert_eq!(resolved.blockers[0].expected, Expected::Closed);
        assert_eq!(resolved.finish(), t("2020-02-02 05:00"), "unstarted work starts at now");
        assert_eq!(resolved.delay_h(), 0.0);

        assert!(app.detach_blocker(&county(), now, case_id, "d", need).await.unwrap());
        assert!(app.case_plan(&county(), case_id, now).await.unwrap().blockers.is_empty());
    }

    async fn a_need_without_candidate_or_deadline_is_assumed_to_take_its_owners_response_window(db) {
        let (app, case_id) = with_case(&db).await;
        let now = t("2020-02-01 08:00");
        let need = need_with_deadline(&app, case_id, None).await;
        let mut plan = small_plan();
        plan[3].blockers = vec![need];
        app.set_plan(&county(), now, case_id, plan).await.unwrap();
        let view = app.case_plan(&county(), case_id, now).await.unwrap();
        assert!(matches!(view.blockers[0].expected, Expected::ResponseWindow { hours, .. } if hours == 24.0), "{:?}", view.blockers[0].expected);
        assert_eq!(view.finish(), t("2020-02-02 08:00"), "the county has 24 h");
    }

    async fn a_need_with_a_feasible_candidate_resolves_after_the_best_lead_time(db) {
        let (app, case_id) = with_case(&db).await;
        let now = t("2020-02-08 10:00");
        let provider = app
            .add_provider(&admin(), now, NewProvider { key: "wanrong".into(), name: "万荣华康药业公司".into(), region: "140822".into(), lon: None, lat: None, note: String::new() })
            .await
            .unwrap();
        app.set_capability(&admin(), now, provider.id, "sterilisation", true, &json!({"method": "co60", "turnaround_h": 36, "capacity_per_day": 100000}))
            .await
            .unwrap();
        let input = NewNeed { kind: "sterilisation".into(), title: "口罩灭菌".into(), quantity: 90000.0, unit: "只".into(), requires: json!({}), ..NewNeed::default() };
        let need = app.report_and_source(&county(), now, case_id, input).await.unwrap();
        let candidate = app.need_detail(&admin(), need.id).await.unwrap().candidates.into_iter().find(|(c, _)| c.feasible).unwrap().0;
        let mut plan = vec![step("sterilisation", 0.0, &[]), step("first_output", 0.0, &["sterilisation"])];
        plan[0].blockers = vec![need.id];
        app.set_plan(&county(), now, case_id, plan).await.unwrap();
        let view = app.case_plan(&county(), case_id, now).await.unwrap();
        assert_eq!(view.blockers[0].expected, Expected::Candidate { candidate_id: candidate.id, provider_id: provider.id, lead_time_h: candidate.lead_time_h });
        let expected = now + TimeDelta::milliseconds((candidate.lead_time_h * 3_600_000.0).round() as i64);
        assert_eq!(view.finish(), expected);
        assert!(candidate.lead_time_h > 36.0, "processing and travel: {}", candidate.lead_time_h);
    }

    async fn what_if_tells_where_first_output_moves_when_a_need_resolves_at_another_time(db) {
        let (app, case_id) = with_case(&db).await;
        let now = t("2020-02-01 08:00");
        let need = need_with_deadline(&app, case_id, Some(t("2020-02-03 08:00"))).await;
        let mut plan = small_plan();
        plan[3].blockers = vec![need];
        app.set_plan(&county(), now, case_id, plan).await.unwrap();

        let sooner = app.what_if(&county(), case_id, need, t("2020-02-02 00:00"), now).await.unwrap();
        assert_eq!((sooner.before, sooner.after), (t("2020-02-03 08:00"), t("2020-02-02 04:00")));
        assert_eq!(sooner.moved_h(), -28.0);
        let later = app.need_what_if(&county(), need, t("2020-02-04 08:00"), now).await.unwrap();
        assert_eq!(later.after, t("2020-02-04 08:00"));
        assert_eq!(later.moved_h(), 24.0);

        let in_plan = app.need_in_plan(&county(), need, None, now).await.unwrap().unwrap();
        assert_eq!(in_plan.milestones, [("d".to_string(), "步骤 d".to_string())]);
        assert!(in_plan.critical);
        assert_eq!((in_plan.what_if.resolves_at, in_plan.what_if.after), (now, t("2020-02-02 04:00")));

        let error = app.what_if(&county(), case_id, need, t("2020-01-31 08:00"), now).await.unwrap_err();
        assert!(matches!(error, AppError::BadInput(_)), "{error}");
        let other = need_with_deadline(&app, case_id, None).await;
        let error = app.what_if(&county(), case_id, other, now, now).await.unwrap_err();
        assert!(matches!(&error, AppError::Conflict(m) if m.contains("blocks no milestone")), "{error}");
        app.set_need_status(&county(), now, need, NeedStatus::Resolved, "").await.unwrap();
        let error = app.what_if(&county(), case_id, need, now, now).await.unwrap_err();
        assert!(matches!(&error, AppError::Conflict(m) if m.contains("resolved")), "{error}");
        assert!(app.need_in_plan(&county(), need, None, now).await.unwrap().is_none());
    }

    async fn whoever_sees_the_case_reads_its_plan_and_only_officers_change_it(db) {
        let (app, case_id) = with_case(&db).await;
        let now = t("2020-02-01 08:00");
        app.set_plan(&county(), now, case_id, small_plan()).await.unwrap();
        let elsewhere = Actor::officer("翼城县工信局", RegionCode::new_unchecked(141022));
        assert!(matches!(app.case_plan(&elsewhere, case_id, now).await, Err(AppError::NotFound(_))));
        assert!(matches!(app.set_plan(&elsewhere, now, case_id, small_plan()).await, Err(AppError::NotFound(_))));
        let viewer = Actor { role: Role::Viewer, ..Actor::officer("临汾市领导", RegionCode::new_unchecked(141000)) };
        assert_eq!(app.case_plan(&viewer, case_id, now).await.unwrap().plan.milestones.len(), 4);
        assert!(matches!(app.set_plan(&viewer, now, case_id, small_plan()).await, Err(AppError::Forbidden(_))));
        assert!(matches!(app.set_milestone_actual(&viewer, now, case_id, "a", Some(now), None).await, Err(AppError::Forbidden(_))));
    }

    async fn actuals_are_recorded_checked_and_keep_the_past(db) {
        let (app, case_id) = with_case(&db).await;
        app.set_plan(&county(), t("2020-02-01 08:00"), case_id, small_plan()).await.unwrap();
        app.set_milestone_actual(&county(), t("2020-02-01 20:00"), case_id, "a", Some(t("2020-02-01 08:00")), Some(t("2020-02-01 20:00"))).await.unwrap();
        let view = app.case_plan(&county(), case_id, t("2020-02-01 20:00")).await.unwrap();
        assert_eq!(view.finish(), t("2020-02-02 06:00"), "a took 12 h, b follows for 10 h");
        assert!(view.is_done(0));
        let error = app.set_milestone_actual(&county(), t("2020-02-01 20:00"), case_id, "b", Some(t("2020-02-02 08:00")), None).await.unwrap_err();
        assert!(error.to_string().contains("is after now"), "{error}");
        let error = app.set_milestone_actual(&county(), t("2020-02-01 20:00"), case_id, "bb", None, None).await.unwrap_err();
        assert!(error.to_string().contains("its milestones are a, b, c, d"), "{error}");
        let error = app.set_milestone_actual(&county(), t("2020-02-01 20:00"), case_id, "b", Some(t("2020-02-01 19:00")), Some(t("2020-02-01 18:00"))).await.unwrap_err();
        assert!(error.to_string().contains("actual finish before its actual start"), "{error}");
    }

    async fn the_reference_case_plan_reaches_first_output_on_13_february_in_under_ten_days(db) {
        let app = App::open(db.url()).await.unwrap();
        bangfu_app::demo::load(&app, &admin()).await.unwrap();
        let view = app.case_plan(&admin(), 1, t("2020-03-07 12:00")).await.unwrap();
        assert_eq!(china(view.finish()), "2020-02-13T08:30:00+08:00");
        assert_eq!(china(view.start()), "2020-01-26T09:00:00+08:00");
        let days = view.days_from_plan_to_production().unwrap();
        assert!(days < 10.0 && days > 8.9, "{days}");
        assert_eq!(
            keys(&view, &view.driving_path()),
            ["order_placed", "lines_held", "lines_arrive", "installation", "slitting", "trial_production", "first_batch", "first_output"]
        );
        let arrive = view.plan.milestones.iter().position(|m| m.key == "lines_arrive").unwrap();
        assert_eq!(china(view.schedule.times(arrive).ef), "2020-01-31T16:00:00+08:00");
        // Every need that held a step is attached to it; all are resolved by now.
        let attached: Vec<(&str, &str)> = view.blockers.iter().map(|b| (b.milestone.as_str(), b.need.kind.as_str())).collect();
        assert_eq!(attached.len(), 8, "{attached:?}");
        assert!(attached.contains(&("sterilisation", "sterilisation")) && attached.contains(&("slitting", "slitting")), "{attached:?}");
        assert!(view.blockers.iter().all(|b| !b.is_open()));
        assert_eq!(view.delay_h(), 0.0);
    }
}
