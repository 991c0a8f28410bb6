//! Allocation over stored needs (issue 19) on SQLite and — when BANGFU_TEST_PG names a server —
//! PostgreSQL: the reference case's sterilisation made a competition for 万荣, weights from the
//! plans, the optimum against first come, acceptance as the ordinary selection with its audit
//! event, rejection recorded, access, and the exercise's needs accepted need by need.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions, which
// clippy.toml's allow-unwrap-in-tests covers.
#![allow(clippy::unwrap_used)]

use crate::support::{admin};
use bangfu_app::allocation::{AllocationRequest, AllocationView, Method, WeightSource};
use bangfu_app::cases::NewEnterprise;
use bangfu_app::needs::NewNeed;
use bangfu_app::plans::NewMilestone;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::credit_code::check_character;
use bangfu_core::model::NeedStatus;
use bangfu_core::region::RegionCode;
use chrono::{DateTime, Utc};
use serde_json::json;

fn province() -> Actor {
    Actor::officer("山西省工信厅", RegionCode::new_unchecked(140000))
}

/// A time written at UTC+8: "2020-02-08 09:00".
fn t(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_str(&format!("{local} +0800"), "%Y-%m-%d %H:%M %z").unwrap().with_timezone(&Utc)
}

fn credit_code(region: &str, serial: &str) -> String {
    let first17 = format!("91{region}{serial}");
    format!("{first17}{}", check_character(&first17).unwrap())
}

fn step(key: &str, duration_h: f64, after: &[&str], blockers: Vec<i64>) -> NewMilestone {
    NewMilestone { key: key.into(), name: key.into(), duration_h, after: after.iter().map(|a| a.to_string()).collect(), blockers, ..NewMilestone::default() }
}

/// A mask maker in `region` with a case, and its sterilisation need of `masks` within the
/// reference case's limits (400 km, `max_lead_time_h`).
async fn maker(app: &App, name: &str, region: &str, serial: &str, masks: f64, max_lead_time_h: f64) -> (i64, i64) {
    let at = t("2020-02-08 08:00");
    let input = NewEnterprise { name: name.into(), credit_code: credit_code(region, serial), region: region.into(), ..Default::default() };
    let enterprise = app.add_enterprise(&admin(), at, input).await.unwrap();
    let case = app.open_case(&admin(), at, enterprise.id, &format!("{name}帮扶")).await.unwrap();
    let need = NewNeed {
        kind: "sterilisation".into(),
        title: format!("{name}试产口罩需灭菌"),
        quantity: masks,
        unit: "只".into(),
        requires: json!({}),
        max_distance_km: Some(400.0),
        max_lead_time_h: Some(max_lead_time_h),
        ..NewNeed::default()
    };
    let need = app.report_need(&province(), t("2020-02-08 09:00"), case.id, need).await.unwrap();
    (case.id, need.id)
}

/// The actions of a case's events (its first 500).
async fn actions(app: &App, case_id: i64) -> Vec<String> {
    let (page, _) = app.case_events(&admin(), case_id, bangfu_store::lists::PageRequest { after: None, limit: 500 }).await.unwrap();
    page.items.into_iter().map(|e| e.action).collect()
}

fn request(method: Method) -> AllocationRequest {
    AllocationRequest { kind: "sterilisation".into(), department: "140000".into(), horizon_days: 2, method }
}

fn proposal(view: &AllocationView, need: i64) -> &bangfu_app::allocation::Proposal {
    view.proposals.iter().find(|p| p.need.need.id == need).unwrap()
}

fn parts(view: &AllocationView, need: i64) -> Vec<(String, i64)> {
    proposal(view, need).parts.iter().map(|p| (p.name.clone(), p.units)).collect()
}

const WANRONG: &str = "万荣华康药业公司";
const TAIYUAN: &str = "太原某环氧乙烷灭菌企业【假定名称】";

/// The reference case's registry, and three makers near 临汾 that need sterilisation in the
/// same two days: A (襄汾) with sterilisation on its plan's critical path, B (侯马) whose plan
/// has days of slack after it, C (翼城) with no plan and looser limits (太原's EO is feasible
/// for it). 万荣 can take 200,000 masks in two days; they want 240,000.
async fn three_makers(app: &App) -> (i64, i64, i64) {
    bangfu_app::demo::load(app, &admin()).await.unwrap();
    let (case_a, a) = maker(app, "襄汾甲口罩厂", "141023", "MA0KQ2A01", 90_000.0, 96.0).await;
    let (case_b, b) = maker(app, "侯马乙口罩厂", "141081", "MA0KQ2B02", 90_000.0, 96.0).await;
    let (_, c) = maker(app, "翼城丙口罩厂", "141022", "MA0KQ2C03", 60_000.0, 240.0).await;
    let at = t("2020-02-08 10:00");
    app.set_plan(&admin(), at, case_a, vec![step("sterilisation", 0.0, &[], vec![a]), step("first_output", 0.0, &["sterilisation"], vec![])]).await.unwrap();
    app.set_plan(
        &admin(),
        at,
        case_b,
        vec![step("sterilisation", 0.0, &[], vec![b]), step("fit_out", 300.0, &[], vec![]), step("first_output", 0.0, &["sterilisation", "fit_out"], vec![])],
    )
    .await
    .unwrap();
    (a, b, c)
}

bangfu_store::backend_tests! {
    async fn three_makers_competing_for_wanrong_are_served_by_what_their_plans_lose(db) {
        let app = App::open(db.url()).await.unwrap();
        let (a, b, c) = three_makers(&app).await;
        let now = t("2020-02-08 11:00");
        let view = app.allocation(&province(), now, &request(Method::Optimum)).await.unwrap();

        // Weights from the plans: A is critical (24 h more wait moves first output 24 h), B has
        // slack (at least 1 h), C is in no plan (the default 12 h).
        let weight = |need| (proposal(&view, need).need.weight_h, proposal(&view, need).need.weight_source.clone());
        assert_eq!(weight(a), (24.0, WeightSource::Plan { shift_h: 24.0, critical: true }));
        assert_eq!(weight(b), (1.0, WeightSource::Plan { shift_h: 0.0, critical: false }));
        assert_eq!(weight(c), (12.0, WeightSource::Default));

        // 万荣 in two days: 200,000. A and C get it in full; B, whose plan can wait, gets what
        // is left and 40,000 stay unmet. C is not sent to 太原's EO (over 130 h slower at half
        // weight) to make room for B.
        let wanrong = view.providers.iter().find(|p| p.name == WANRONG).unwrap();
        assert_eq!((wanrong.capacity, wanrong.committed, wanrong.used()), (Some(200_000), 0, 200_000));
        assert!(wanrong.full());
        assert_eq!(parts(&view, a), [(WANRONG.to_string(), 90_000)]);
        assert_eq!(parts(&view, b), [(WANRONG.to_string(), 50_000)]);
        assert_eq!(proposal(&view, b).unmet_units, 40_000);
        assert_eq!(parts(&view, c), [(WANRONG.to_string(), 60_000)]);
        // Which need was served first and why: by what each would lose elsewhere — C about
        // 0.5 × (180 − 46) h at 太原, A 1.0 × (94 − 46) h left unmet, B 1/24 of that.
        assert_eq!(wanrong.served.iter().map(|s| s.0).collect::<Vec<_>>(), [c, a, b]);
        assert!(wanrong.served[0].2 > wanrong.served[1].2 && wanrong.served[1].2 > wanrong.served[2].2);
        // Only 万荣 is feasible for A and B (晋北 too far, 太原 too slow); C's next best is 太原.
        assert!(proposal(&view, a).next_best.is_none());
        let (next, extra_h) = proposal(&view, c).next_best.clone().unwrap();
        assert_eq!(next.name, TAIYUAN);
        assert!(extra_h > 100.0, "{extra_h}");
        let reason = &proposal(&view, a).reason;
        assert!(reason.zh.contains("万荣华康药业公司是最快的可行候选") && reason.zh.contains("关键路径"), "{}", reason.zh);
        assert!(proposal(&view, b).reason.en.contains("40000 units have nowhere to go"), "{}", proposal(&view, b).reason.en);

        // First come (by need id: A, B, C): B takes 90,000 of 万荣 and C is split onto 太原.
        let first_come = app.allocation(&province(), now, &request(Method::Greedy)).await.unwrap();
        assert_eq!(parts(&first_come, b), [(WANRONG.to_string(), 90_000)]);
        assert_eq!(parts(&first_come, c), [(TAIYUAN.to_string(), 40_000), (WANRONG.to_string(), 20_000)]);
        assert_eq!(first_come.optimum, view.optimum);
        let savings = view.savings();
        assert!(view.optimum.cost < view.greedy.cost);
        assert!(savings.first_output_h > 40.0, "{savings:?}");
        assert_eq!(savings.unmet_units, -40_000);
    }

    async fn accepting_a_proposal_is_the_ordinary_selection_and_takes_the_capacity(db) {
        let app = App::open(db.url()).await.unwrap();
        let (a, b, c) = three_makers(&app).await;
        let now = t("2020-02-08 11:00");
        let view = app.allocation(&province(), now, &request(Method::Optimum)).await.unwrap();
        let main = proposal(&view, a).main().unwrap().provider_id;

        // A county officer outside 侯马's chain may not; the province may.
        let houma = Actor::officer("曲沃县工信局", RegionCode::new_unchecked(141021));
        assert!(matches!(app.allocation(&houma, now, &request(Method::Optimum)).await, Err(AppError::Forbidden(_))));
        let need = app.accept_allocation(&province(), now, a, main).await.unwrap();
        assert_eq!(need.status, NeedStatus::Selected);
        let detail = app.need_detail(&admin(), a).await.unwrap();
        let selected = detail.candidates.iter().find(|(c, _)| Some(c.id) == need.selected_candidate).unwrap();
        assert_eq!(selected.1.name, WANRONG);
        let events = actions(&app, need.case_id).await;
        assert!(events.iter().any(|e| e == "need.selected"), "{events:?}");

        // Rejecting B's proposal records it and leaves B open.
        app.reject_allocation(&province(), now, b, Some(main), "等待侯马自行联系").await.unwrap();
        let events = actions(&app, proposal(&view, b).need.need.case_id).await;
        assert!(events.iter().any(|e| e == "need.allocation_rejected"), "{events:?}");

        // A is no longer open; its 90,000 are held at 万荣 and the rest is allocated again.
        let again = app.allocation(&province(), now, &request(Method::Optimum)).await.unwrap();
        assert!(again.proposals.iter().all(|p| p.need.need.id != a));
        let wanrong = again.providers.iter().find(|p| p.name == WANRONG).unwrap();
        assert_eq!((wanrong.committed, wanrong.available()), (90_000, Some(110_000)));
        assert_eq!(parts(&again, c), [(WANRONG.to_string(), 60_000)]);
        assert_eq!(parts(&again, b), [(WANRONG.to_string(), 50_000)]);

        let verified = app.verify_audit().await.unwrap();
        assert!(verified.broken.is_none(), "{:?}", verified.broken);
    }

    async fn bad_requests_are_refused_saying_what_was_wrong(db) {
        let app = App::open(db.url()).await.unwrap();
        let now = t("2020-02-08 11:00");
        let mut bad = request(Method::Optimum);
        bad.kind = "permit".into();
        let e = app.allocation(&province(), now, &bad).await.unwrap_err();
        assert!(e.to_string().contains("kind permit has no capabilities in the registry"), "{e}");
        let mut bad = request(Method::Optimum);
        bad.horizon_days = 0;
        assert!(app.allocation(&province(), now, &bad).await.unwrap_err().to_string().contains("horizon_days is 0"));
        let mut bad = request(Method::Optimum);
        bad.department = "999999".into();
        assert!(matches!(app.allocation(&province(), now, &bad).await, Err(AppError::BadInput(_))));
        // Nothing open: an empty allocation, not an error.
        let empty = app.allocation(&admin(), now, &request(Method::Optimum)).await.unwrap();
        assert!(empty.proposals.is_empty());
        assert_eq!(empty.optimum.cost, 0);
    }

    /// Issue 19, item 6: over the exercise's open needs (a twentieth of the province), every
    /// kind allocated by the province and every proposal accepted need by need through the
    /// ordinary selection — and the audit chain still verifies.
    async fn the_exercise_allocated_and_accepted_need_by_need_leaves_a_consistent_audit_log(db) {
        let app = App::open(db.url()).await.unwrap();
        bangfu_app::exercise::load(&app, bangfu_app::exercise::Size::fraction(0.05).unwrap(), &mut |_| {}).await.unwrap();
        let now = t("2020-03-01 08:00");
        let mut accepted = 0;
        for kind in ["sterilisation", "slitting", "testing", "raw_material", "equipment", "labour"] {
            let request = AllocationRequest { kind: kind.into(), department: "140000".into(), horizon_days: 7, method: Method::Optimum };
            let view = app.allocation(&province(), now, &request).await.unwrap();
            assert!(view.optimum.cost <= view.greedy.cost, "{kind}: {:?} vs {:?}", view.optimum, view.greedy);
            for p in &view.providers {
                if let Some(available) = p.available() {
                    assert!(p.used() <= available, "{kind}: provider {} over capacity", p.provider_id);
                }
            }
            let mut taken = Vec::new();
            for proposal in &view.proposals {
                let Some(main) = proposal.main() else { continue };
                let need = app.accept_allocation(&province(), now, proposal.need.need.id, main.provider_id).await.unwrap();
                assert_eq!(need.status, NeedStatus::Selected);
                taken.push(need.id);
            }
            accepted += taken.len();
            // What was accepted is no longer open.
            let again = app.allocation(&province(), now, &request).await.unwrap();
            assert!(again.proposals.iter().all(|p| !taken.contains(&p.need.need.id)), "{kind}: an accepted need is proposed again");
        }
        assert!(accepted > 20, "only {accepted} proposals accepted");
        let verified = app.verify_audit().await.unwrap();
        assert!(verified.broken.is_none(), "{:?}", verified.broken);
    }
}
