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
use bangfu_app::{Actor, App, AppError, access};
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
            let cases = app.list_cases(actor, &Default::default(), bangfu_store::PageRequest::first(500)).await?.items;
            if cases.iter().any(|c| c.case.id == 1) { Ok(()) } else { Err(AppError::NotFound("case 1".into())) }
        }
        Action::ReadCase => app.case_detail(actor, 1).await.map(drop),
        Action::ReadNeed => app.need_detail(actor, 7).await.map(drop),
        Action::ReportNeed => {
            let need = NewNeed { kind: "labour".into(), title: "缺少包装工".into(), quantity: 2.0, requires: json!({"skill": "包装"}), ..NewNeed::default() };
            app.report_need(actor, now, 1, need).await.map(drop)
        }
        Action::SelectCandidate => {
            let candidate = app.need_detail(&Actor::system("t"), need_id).await?.candidates.iter().find(|(c, _)| c.feasible).map(|(c, _)| c.id).unwrap();
            app.select_candidate(actor, now, need_id, candidate).await.map(drop)
        }
        Action::ResolveNeed => app.set_need_status(actor, now, need_id, NeedStatus::Resolved, "").await.map(drop),
        Action::OpenApproval => {
            let approval = NewApproval { department: "141021".into(), agency: "市场监管".into(), item: "扩产备案".into(), due_at: None };
            app.open_approval(actor, now, 1, approval).await.map(drop)
        }
        Action::SubmitReturn => {
            let day = NewDailyReturn { day: "2020-02-14".into(), product: "医用外科口罩".into(), capacity_per_day: 100000.0, output: 90000.0, stock: 10000.0, shipped: 0.0, note: String::new() };
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

/// A valid credit code for the `n`-th enterprise of a test.
fn credit_code(n: usize) -> String {
    let first17 = format!("91000000MA0KQ3{n:03}");
    let check = bangfu_core::credit_code::check_character(&first17).expect("17 valid characters");
    format!("{first17}{check}")
}

// Runs as ::sqlite and ::postgres.
bangfu_store::backend_tests! {
    /// The lists filter in the database with `access::visible_cases` / `visible_needs` /
    /// `visible_enterprises`; the pages decide with `access::can_see_case` / `can_see_need`. Both
    /// must give the same answer — for an officer of every department of the region tree, over
    /// the reference case plus cases in the special regions (a municipality's district and a
    /// county under its statistical row, a county administered by its province, cities without
    /// counties), stationed teams from elsewhere, broadcasts and provider candidates.
    async fn the_lists_show_exactly_what_the_access_rule_allows_for_every_department(db) {
        use bangfu_app::cases::NewTeamMember;
        use bangfu_app::views::{CaseFilter, NeedFilter};
        use bangfu_store::PageRequest;
        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        // 丰台区, a county of 重庆's second statistical row, 济源 (province-administered), 东莞 and
        // 中山 (no counties), 侯马市, 小店区 (太原), 石河子 (province-administered, 新疆).
        let chongqing_county = app.tree().children(RegionCode::new_unchecked(500200)).next().unwrap().code.to_string();
        let places = ["110106", chongqing_county.as_str(), "419001", "441900", "442000", "141081", "140105", "659001"];
        let mut cases = Vec::new();
        for (n, place) in places.iter().enumerate() {
            let input = NewEnterprise { name: format!("企业{n}"), credit_code: credit_code(n), region: place.to_string(), ..Default::default() };
            let enterprise = app.add_enterprise(&admin, now, input).await.unwrap();
            let case = app.open_case(&admin, now, enterprise.id, "").await.unwrap();
            let need = NewNeed { kind: "labour".into(), title: format!("need {n}"), quantity: 1.0, requires: json!({"skill": "包装"}), ..NewNeed::default() };
            let need = app.report_need(&admin, now, case.id, need).await.unwrap();
            if n % 2 == 0 {
                app.broadcast_need(&admin, now, need.id, bangfu_core::model::Scope::Province).await.unwrap();
            }
            cases.push(case.id);
        }
        // Teams stationed from elsewhere: 广东省 at the reference case, 侯马市 at 丰台's, and a
        // statistical row of 北京 (which stands for 北京市) at 东莞's.
        for (case_id, department) in [(1, "440000"), (cases[0], "141081"), (cases[3], "110100")] {
            let member = NewTeamMember { title: "驻企干部".into(), department: department.into(), role: "stationed_cadre".into(), user_id: None };
            app.add_team_member(&admin, now, case_id, member).await.unwrap();
        }

        // The full scan the pages would make, with the rule of access.rs.
        let store = bangfu_store::Store::open(db.url()).await.unwrap();
        let all_cases = store.cases().await.unwrap();
        let mut teams = std::collections::BTreeMap::new();
        for case in &all_cases {
            teams.insert(case.id, store.team(case.id).await.unwrap());
        }
        let mut all_needs = Vec::new();
        let mut sent_letters = 0;
        for need in store.needs().await.unwrap() {
            let broadcast: Vec<bangfu_core::region::RegionCode> = store.broadcasts_of_need(need.id).await.unwrap().into_iter().map(|b| b.department).collect();
            let providers: Vec<i64> = store.candidates_of_need(need.id).await.unwrap().into_iter().map(|c| c.provider_id).collect();
            // A sent letter shows its need to its addressees: drafts are sent.
            for letter in store.letters_of_need(need.id).await.unwrap() {
                if letter.status.as_str() == "draft" {
                    app.set_letter_status(&admin, now, letter.id, bangfu_core::model::LetterStatus::Sent, "").await.unwrap();
                }
                sent_letters += 1;
            }
            let letters = store.letters_of_need(need.id).await.unwrap();
            all_needs.push((need, broadcast, providers, letters));
        }
        assert!(sent_letters >= 2, "the reference case's national needs have letters, now sent");
        let all_enterprises = store.enterprises().await.unwrap();
        let tree = app.tree();

        let mut actors = vec![
            Actor::system("admin"),
            Actor { role: Role::Officer, department: None, ..Actor::system("no department") },
            Actor { role: Role::Enterprise, department: None, enterprise_id: Some(999), ..Actor::system("ent") },
            Actor { role: Role::Provider, provider_id: None, ..Actor::system("prov") },
        ];
        for e in &all_enterprises {
            actors.push(Actor { role: Role::Enterprise, department: None, enterprise_id: Some(e.id), ..Actor::system("ent") });
        }
        for p in store.providers().await.unwrap() {
            actors.push(Actor { role: Role::Provider, provider_id: Some(p.id), ..Actor::system("prov") });
        }
        for region in tree.iter() {
            actors.push(officer(region.code.as_u32()));
        }
        for code in [141000, 110000, 110100, 500200, 440000] {
            actors.push(Actor { role: Role::Viewer, ..officer(code) });
        }

        let all = PageRequest::first(500);
        let mut differences = Vec::new();
        let mut seen_something = 0;
        for actor in &actors {
            let expected_cases: Vec<i64> = all_cases.iter().filter(|c| access::can_see_case(tree, actor, c, &teams[&c.id])).map(|c| c.id).collect();
            let listed: Vec<i64> = app.list_cases(actor, &CaseFilter::default(), all).await.unwrap().items.iter().map(|c| c.case.id).collect();
            let counted = app.count_cases(actor, &CaseFilter::default()).await.unwrap();
            if listed != expected_cases || counted != expected_cases.len() as i64 {
                differences.push(format!("{actor:?}: cases {listed:?} ({counted}), the rule says {expected_cases:?}"));
            }
            let expected_needs: Vec<i64> = all_needs
                .iter()
                .filter(|(n, broadcast, providers, letters)| {
                    let case = all_cases.iter().find(|c| c.id == n.case_id).unwrap();
                    let context = access::NeedContext { team: &teams[&case.id], broadcast_to: broadcast, candidate_providers: providers, letters };
                    access::can_see_need(tree, actor, case, n, &context)
                })
                .map(|(n, ..)| n.id)
                .collect();
            let listed: Vec<i64> = app.list_needs(actor, &NeedFilter::default(), all).await.unwrap().items.iter().map(|n| n.id).collect();
            let counted = app.count_needs(actor, &NeedFilter::default()).await.unwrap();
            if listed != expected_needs || counted != expected_needs.len() as i64 {
                differences.push(format!("{actor:?}: needs {listed:?} ({counted}), the rule says {expected_needs:?}"));
            }
            let expected_enterprises: Vec<i64> = all_enterprises.iter().filter(|e| access::can_see_enterprise(tree, actor, e)).map(|e| e.id).collect();
            let listed: Vec<i64> = app.list_enterprises(actor, all).await.unwrap().items.iter().map(|e| e.id).collect();
            if listed != expected_enterprises {
                differences.push(format!("{actor:?}: enterprises {listed:?}, the rule says {expected_enterprises:?}"));
            }
            if !expected_cases.is_empty() || !expected_needs.is_empty() {
                seen_something += 1;
            }
        }
        assert!(differences.is_empty(), "{} differences:\n{}", differences.len(), differences.join("\n"));
        assert!(seen_something > 40, "the data reaches many departments ({seen_something})");
    }
}
