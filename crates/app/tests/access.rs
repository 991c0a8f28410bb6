//! The whole role × action matrix, as one table: who may do what on the reference case.
//! What an actor may not see answers "not found"; what it sees but may not change, "forbidden".
//! The need of each cell is a labour need sourced to the neighbouring county 翼城县, so the city
//! (临汾市) owns it: the 曲沃县 officer sees it but may not decide on it (issue 17). Registering
//! happens in 曲沃县, and provider 1 lies in 运城市万荣县.

use bangfu_app::accounts::NewUser;
use bangfu_app::cases::NewEnterprise;
use bangfu_app::channel::NewApproval;
use bangfu_app::needs::NewNeed;
use bangfu_app::registry::NewProvider;
use bangfu_app::returns::NewDailyReturn;
use bangfu_app::{Actor, App, AppError};
use bangfu_core::model::{NeedStatus, Role};
use bangfu_core::region::RegionCode;
use chrono::{TimeZone, Utc};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Ok,
    NotFound,
    Forbidden,
}

use Outcome::{Forbidden as F, NotFound as N, Ok as Y};

#[derive(Clone, Copy, Debug)]
enum Action {
    ListCasesSeesIt,
    ReadCase,
    ReadNeed,
    ReportNeed,
    SelectCandidate,
    ResolveNeed,
    OpenApproval,
    SubmitReturn,
    AddEnterprise,
    AddProvider,
    SetOwnProviderCapability,
    AddUser,
}

fn officer(code: u32) -> Actor {
    Actor::officer("officer", RegionCode::new_unchecked(code))
}

fn actors() -> Vec<(&'static str, Actor)> {
    vec![
        ("admin", Actor::system("admin")),
        ("officer 曲沃县", officer(141021)),
        ("officer 临汾市", officer(141000)),
        ("officer 山西省", officer(140000)),
        ("officer 侯马市 (sibling county)", officer(141081)),
        ("officer 运城市 (other city)", officer(140800)),
        ("viewer 临汾市", Actor { role: Role::Viewer, ..officer(141000) }),
        ("enterprise (own)", Actor { role: Role::Enterprise, department: None, enterprise_id: Some(1), ..Actor::system("ent") }),
        ("enterprise (other)", Actor { role: Role::Enterprise, department: None, enterprise_id: Some(999), ..Actor::system("ent2") }),
        ("provider 万荣", Actor { role: Role::Provider, provider_id: Some(1), ..Actor::system("prov") }),
    ]
}

/// Rows: actions; columns: the actors above, in order.
const MATRIX: &[(Action, [Outcome; 10])] = &[
    //                                 admin 曲沃 临汾 山西 侯马 运城 viewer ent  ent2 prov
    (Action::ListCasesSeesIt,         [Y,    Y,   Y,   Y,   N,   N,   Y,     Y,   N,   N]),
    (Action::ReadCase,                [Y,    Y,   Y,   Y,   N,   N,   Y,     Y,   N,   N]),
    (Action::ReadNeed,                [Y,    Y,   Y,   Y,   N,   N,   Y,     Y,   N,   Y]),
    (Action::ReportNeed,              [Y,    Y,   Y,   Y,   N,   N,   F,     Y,   N,   N]),
    (Action::SelectCandidate,         [Y,    F,   Y,   Y,   N,   N,   F,     F,   N,   N]),
    (Action::ResolveNeed,             [Y,    F,   Y,   Y,   N,   N,   F,     F,   N,   N]),
    (Action::OpenApproval,            [Y,    Y,   Y,   Y,   N,   N,   F,     F,   N,   N]),
    (Action::SubmitReturn,            [Y,    Y,   Y,   Y,   N,   N,   F,     Y,   N,   N]),
    (Action::AddEnterprise,           [Y,    Y,   Y,   Y,   F,   F,   F,     F,   F,   F]),
    (Action::AddProvider,             [Y,    Y,   Y,   Y,   F,   F,   F,     F,   F,   F]),
    (Action::SetOwnProviderCapability,[Y,    F,   F,   Y,   F,   Y,   F,     N,   N,   Y]),
    (Action::AddUser,                 [Y,    F,   F,   F,   F,   F,   F,     F,   F,   F]),
];

/// Performs `action` as `actor`; `need_id` is an open, sourced need of case 1; `n` makes names unique.
async fn perform(app: &App, actor: &Actor, action: Action, n: usize, need_id: i64) -> Result<(), AppError> {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    match action {
        Action::ListCasesSeesIt => {
            let cases = app.list_cases(actor).await?;
            if cases.iter().any(|c| c.case.id == 1) { Ok(()) } else { Err(AppError::NotFound("case 1".into())) }
        }
        Action::ReadCase => app.case_detail(actor, 1).await.map(drop),
        Action::ReadNeed => app.need_detail(actor, 7).await.map(drop),
        Action::ReportNeed => {
            let need = NewNeed { kind: "labour".into(), title: "缺少包装工".into(), quantity: 2.0, requires: json!({"skill": "包装"}), ..NewNeed::default() };
            app.report_need(actor, now, 1, need).await.map(drop)
        }
        Action::SelectCandidate => {
            let candidate = app.need_detail(&Actor::system("t"), need_id).await?.candidates.iter().find(|(c, _)| c.feasible == 1).map(|(c, _)| c.id).unwrap();
            app.select_candidate(actor, now, need_id, candidate).await.map(drop)
        }
        Action::ResolveNeed => app.set_need_status(actor, now, need_id, NeedStatus::Resolved, "").await.map(drop),
        Action::OpenApproval => {
            let approval = NewApproval { department: "141021".into(), agency: "市场监管".into(), item: "扩产备案".into(), due_at: None };
            app.open_approval(actor, now, 1, approval).await.map(drop)
        }
        Action::SubmitReturn => {
            let day = NewDailyReturn { day: "2020-02-14".into(), capacity_per_day: 100000.0, output: 90000.0, stock: 10000.0, note: String::new() };
            app.submit_daily_return(actor, now, 1, day).await.map(drop)
        }
        Action::AddEnterprise => {
            // A distinct valid credit code per actor: vary the 17th character and recompute the check.
            let first17 = format!("91141021MA0KQ2{:03}", n);
            let check = bangfu_core::credit_code::check_character(&first17).unwrap();
            let input = NewEnterprise { name: format!("企业{n}"), credit_code: format!("{first17}{check}"), region: "141021".into(), ..Default::default() };
            app.add_enterprise(actor, now, input).await.map(drop)
        }
        Action::AddProvider => {
            let input = NewProvider { key: format!("test:{n}"), name: format!("提供方{n}"), region: "141021".into(), ..Default::default() };
            app.add_provider(actor, now, input).await.map(drop)
        }
        Action::SetOwnProviderCapability => app
            .set_capability(actor, now, 1, "sterilisation", true, &json!({"method": "co60", "turnaround_h": 36, "capacity_per_day": 100000}))
            .await
            .map(drop),
        Action::AddUser => {
            let user = NewUser { username: format!("u{n}"), role: "viewer".into(), department: Some("141021".into()), password: "long enough".into(), ..NewUser::default() };
            app.add_user(actor, now, user).await.map(drop)
        }
    }
}

// Runs as the_role_action_matrix_holds::sqlite and ::postgres (when BANGFU_TEST_PG is set).
bangfu_store::backend_tests! {
    async fn the_role_action_matrix_holds(db) {
        let app = App::open(db.url()).await.unwrap();
        bangfu_app::demo::load(&app, &Actor::system("test")).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut failures = Vec::new();
        for (row, (action, expected)) in MATRIX.iter().enumerate() {
            for (column, (name, actor)) in actors().iter().enumerate() {
                // A fresh open need for each cell that changes needs.
                let need = NewNeed { kind: "labour".into(), title: format!("cell {row}/{column}"), quantity: 1.0, requires: json!({"skill": "口罩机调试"}), ..NewNeed::default() };
                let id = app.report_need(&Actor::system("t"), now, 1, need).await.unwrap().id;
                app.source_need(&Actor::system("t"), now, id).await.unwrap();
                let action_result = perform(&app, actor, *action, row * 100 + column, id).await;
                let outcome = match action_result {
                    Ok(()) => Y,
                    Err(AppError::NotFound(_)) => N,
                    Err(AppError::Forbidden(_)) => F,
                    Err(other) => panic!("{action:?} by {name}: unexpected {other}"),
                };
                if outcome != expected[column] {
                    failures.push(format!("{action:?} by {name}: expected {:?}, got {outcome:?}", expected[column]));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
