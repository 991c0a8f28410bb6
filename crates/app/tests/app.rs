//! Use cases against a real SQLite file and, when BANGFU_TEST_PG names a server, a fresh
//! PostgreSQL database (`NAME::sqlite`, `NAME::postgres`): the reference case, access and bad input.

use crate::support::{demo_app, fresh_app};
use bangfu_app::cases::NewEnterprise;
use bangfu_app::{Actor, AppError};
use bangfu_core::region::RegionCode;
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};

fn need_by_title<'a>(detail: &'a bangfu_app::views::CaseDetail, fragment: &str) -> &'a bangfu_store::NeedRow {
    detail.needs.iter().find(|n| n.title.contains(fragment)).unwrap_or_else(|| panic!("no need titled {fragment}"))
}

async fn tamper(db: &TestDb, sql: &str) {
    db.execute(sql).await;
}

bangfu_store::backend_tests! {
    async fn loading_the_demo_twice_duplicates_nothing(db) {
        let app = demo_app(&db).await;
        let admin = Actor::system("test");
        let events = app.case_timeline(&admin, 1).await.unwrap().len();
        let report = bangfu_app::demo::load(&app, &admin).await.unwrap();
        assert!(report.contains("already loaded"), "{report}");
        let cases = app.list_cases(&admin, &Default::default(), bangfu_store::PageRequest::first(500)).await.unwrap().items;
        assert_eq!(cases.len(), 1);
        assert_eq!(app.case_timeline(&admin, 1).await.unwrap().len(), events);
    }

    async fn the_reference_case_replays_the_division_of_labour(db) {
        let app = demo_app(&db).await;
        let detail = app.case_detail(&Actor::system("test"), 1).await.unwrap();
        let sterilisation = need_by_title(&detail, "灭菌");
        assert_eq!((sterilisation.scope.as_str(), sterilisation.owner.to_string().as_str()), ("province", "140000"));
        let slitting = need_by_title(&detail, "分切");
        assert_eq!((slitting.scope.as_str(), slitting.owner.to_string().as_str()), ("local", "141021"));
        let lines = need_by_title(&detail, "东莞");
        assert_eq!((lines.scope.as_str(), lines.owner.to_string().as_str(), lines.letter_to.map(|c| c.to_string()).as_deref()), ("national", "140000", Some("440000")));
        let cabinet = need_by_title(&detail, "丰台");
        assert_eq!((cabinet.scope.as_str(), cabinet.letter_to.map(|c| c.to_string()).as_deref()), ("national", Some("110000")));
        let pass = need_by_title(&detail, "高速口");
        assert_eq!(pass.scope.as_str(), "local");
    }

    async fn the_slitting_need_moved_from_the_city_to_the_county_with_the_switch(db) {
        let app = demo_app(&db).await;
        let detail = app.case_detail(&Actor::system("test"), 1).await.unwrap();
        let slitting = need_by_title(&detail, "分切").id;
        let timeline = app.case_timeline(&Actor::system("test"), 1).await.unwrap();
        let switched = timeline.iter().find(|e| e.action == "need.switched" && e.entity == format!("need:{slitting}")).expect("a switch event");
        let payload: serde_json::Value = serde_json::from_str(&switched.payload).unwrap();
        assert_eq!((payload["from_scope"].as_str(), payload["scope"].as_str()), (Some("city"), Some("local")));
        assert!(timeline.iter().any(|e| e.action == "need.switch_proposed"), "the nearer firm was proposed as a switch");
    }

    async fn screening_the_sterilisation_need_ranks_wanrong_first_with_reasons_for_the_others(db) {
        let app = demo_app(&db).await;
        let admin = Actor::system("test");
        let detail = app.case_detail(&admin, 1).await.unwrap();
        let need = app.need_detail(&admin, need_by_title(&detail, "灭菌").id).await.unwrap();
        let feasible: Vec<&str> = need.candidates.iter().filter(|(c, _)| c.feasible).map(|(_, p)| p.name.as_str()).collect();
        assert_eq!(feasible, ["万荣华康药业公司"]);
        let reasons = |fragment: &str| need.candidates.iter().find(|(_, p)| p.name.contains(fragment)).map(|(c, _)| c.reasons.iter().map(|r| r.code.clone()).collect::<Vec<_>>()).unwrap();
        assert!(reasons("晋北").iter().any(|r| r == "too_far"), "{:?}", reasons("晋北"));
        assert!(reasons("太原").iter().any(|r| r == "too_slow"), "{:?}", reasons("太原"));
        let widened: Vec<String> = app.case_timeline(&admin, 1).await.unwrap().iter().filter(|e| e.action == "need.widened").map(|e| e.payload.clone()).collect();
        assert!(widened.iter().any(|p| p.contains("曲沃县内无可用提供方，扩大至临汾市")), "{widened:?}");
    }

    async fn an_officer_of_another_county_sees_no_trace_of_the_case(db) {
        let app = demo_app(&db).await;
        let houma = Actor::officer("houma", RegionCode::new_unchecked(141081));
        assert!(app.list_cases(&houma, &Default::default(), bangfu_store::PageRequest::first(500)).await.unwrap().items.is_empty());
        assert!(matches!(app.case_detail(&houma, 1).await, Err(AppError::NotFound(_))));
        let linfen = Actor::officer("linfen", RegionCode::new_unchecked(141000));
        assert_eq!(app.list_cases(&linfen, &Default::default(), bangfu_store::PageRequest::first(500)).await.unwrap().items.len(), 1);
    }

    async fn a_wrong_credit_code_is_refused_and_nothing_is_written(db) {
        let app = fresh_app(&db).await;
        let now = Utc.with_ymd_and_hms(2020, 1, 25, 2, 0, 0).unwrap();
        let input = NewEnterprise { name: "某企业".into(), credit_code: "91141021MA0KQ20204".into(), region: "141021".into(), ..Default::default() };
        let err = app.add_enterprise(&Actor::system("test"), now, input).await.unwrap_err();
        assert_eq!(err.to_string(), "credit_code: credit code check character is 4, expected 3 — check the first 17 characters for a typo");
        assert_eq!(app.count_cases(&Actor::system("test"), &Default::default()).await.unwrap(), 0);
    }

    async fn an_unknown_region_suggests_near_codes(db) {
        let app = fresh_app(&db).await;
        let now = Utc.with_ymd_and_hms(2020, 1, 25, 2, 0, 0).unwrap();
        let input = NewEnterprise { name: "某企业".into(), credit_code: "91141021MA0KQ20203".into(), region: "141099".into(), ..Default::default() };
        let err = app.add_enterprise(&Actor::system("test"), now, input).await.unwrap_err();
        assert!(err.to_string().starts_with("region: region 141099 not found — did you mean 141029 乡宁县"), "{err}");
    }

    async fn the_audit_log_of_the_demo_verifies(db) {
        let app = demo_app(&db).await;
        let report = app.verify_audit().await.unwrap();
        assert!(report.events > 50, "{report:?}");
        assert_eq!(report.broken, None);
    }

    async fn an_altered_event_is_found_at_its_sequence_number(db) {
        let app = demo_app(&db).await;
        tamper(&db, "UPDATE events SET payload = '{\"title\":\"forged\"}' WHERE seq = 40").await;
        let report = app.verify_audit().await.unwrap();
        assert_eq!(report.broken, Some(bangfu_core::audit::ChainBreak::Altered { seq: 40 }));
    }

    async fn a_removed_event_is_found_where_the_chain_breaks(db) {
        let app = demo_app(&db).await;
        tamper(&db, "DELETE FROM events WHERE seq = 17").await;
        let report = app.verify_audit().await.unwrap();
        assert_eq!(report.broken.map(|b| b.seq()), Some(17));
    }
}

bangfu_store::backend_tests! {
    async fn a_registry_file_with_a_bad_line_imports_nothing_and_names_the_line(db) {
        use bangfu_app::import::RegistryFormat;
        let app = fresh_app(&db).await;
        let text = "{\"id\":\"a\",\"name\":\"甲\",\"region\":\"140802\",\"kind\":\"slitting\",\"attrs\":{\"max_input_width_m\":1.8,\"min_output_width_m\":0.2,\"turnaround_h\":8}}\n\
                    {\"id\":\"b\",\"name\":\"乙\",\"region\":\"140802\",\"kind\":\"slitting\",\"attrs\":{\"max_input_width_m\":1.8}}\n";
        let err = app.parse_registry(text, RegistryFormat::Jsonl).unwrap_err().to_string();
        assert!(err.starts_with("nothing was imported — line 2: attrs:"), "{err}");
        assert_eq!(app.count_providers(&Actor::system("t"), &Default::default()).await.unwrap(), 0);
    }

    async fn an_export_imports_back_to_the_same_registry(db) {
        use bangfu_app::import::RegistryFormat;
        let app = demo_app(&db).await;
        let admin = Actor::system("t");
        for format in [RegistryFormat::Csv, RegistryFormat::Jsonl] {
            let mut exported = Vec::new();
            app.export_registry(&admin, format, &mut exported).await.unwrap();
            let exported = String::from_utf8(exported).unwrap();
            let copy_db = bangfu_store::testing::TestDb::new(db.backend()).await.unwrap();
            let copy = fresh_app(&copy_db).await;
            let lines = copy.parse_registry(&exported, format).unwrap();
            let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let report = copy.import_registry(&admin, now, &lines[..], |_, _| {}).await.unwrap();
            assert_eq!(report.capabilities_written, 10);
            let mut again = Vec::new();
            copy.export_registry(&admin, format, &mut again).await.unwrap();
            assert_eq!(String::from_utf8(again).unwrap(), exported);
        }
    }

    async fn an_imported_capability_that_beats_a_selected_provider_is_proposed_as_a_switch(db) {
        use bangfu_app::import::RegistryFormat;
        let app = fresh_app(&db).await;
        let admin = Actor::system("t");
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let far = "{\"id\":\"houma\",\"name\":\"侯马分切\",\"region\":\"141081\",\"kind\":\"slitting\",\"attrs\":{\"max_input_width_m\":1.8,\"min_output_width_m\":0.2,\"turnaround_h\":12}}";
        let lines = app.parse_registry(far, RegistryFormat::Jsonl).unwrap();
        app.import_registry(&admin, now, &lines[..], |_, _| {}).await.unwrap();
        let enterprise = app
            .add_enterprise(&admin, now, NewEnterprise { name: "口罩厂".into(), credit_code: "91141021MA0KQ20203".into(), region: "141021".into(), ..Default::default() })
            .await
            .unwrap();
        let case = app.open_case(&admin, now, enterprise.id, "").await.unwrap();
        let need = bangfu_app::needs::NewNeed { kind: "slitting".into(), title: "分切".into(), quantity: 1.0, requires: serde_json::json!({"input_width_m": 1.6, "output_width_m": 1.4}), ..Default::default() };
        let need = app.report_and_source(&admin, now, case.id, need).await.unwrap();
        let candidate = app.need_detail(&admin, need.id).await.unwrap().candidates[0].0.id;
        app.select_candidate(&admin, now, need.id, candidate).await.unwrap();
        let near = "{\"id\":\"quwo\",\"name\":\"曲沃分切\",\"region\":\"141021\",\"kind\":\"slitting\",\"attrs\":{\"max_input_width_m\":1.8,\"min_output_width_m\":0.2,\"turnaround_h\":8}}";
        let lines = app.parse_registry(near, RegistryFormat::Jsonl).unwrap();
        app.import_registry(&admin, now, &lines[..], |_, _| {}).await.unwrap();
        let events = app.case_timeline(&admin, case.id).await.unwrap();
        let proposal = events.iter().find(|e| e.action == "need.switch_proposed").expect("a switch proposal");
        assert!(proposal.payload.contains("曲沃分切"), "{}", proposal.payload);
    }
}

bangfu_store::backend_tests! {
    /// Issue 17, F8: five bad passwords locked any account, admin included, for 300 s — the
    /// right password too — and nothing limited one address trying many usernames. Now (time a
    /// parameter here): per username, five free tries, then 1 s, 2 s, 4 s … at most 5 minutes,
    /// and the right password clears it; per address, twenty tries across usernames.
    async fn f8_login_limits_back_off_per_username_and_per_address_without_locking_the_owner_out(db) {
        use bangfu_app::accounts::NewUser;
        let app = fresh_app(&db).await;
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let seconds = |s: i64| t0 + chrono::TimeDelta::seconds(s);
        let user = NewUser { username: "admin1".into(), role: "admin".into(), password: "the right password".into(), ..NewUser::default() };
        app.add_user(&Actor::system("t"), t0, user).await.unwrap();
        let login = |at, client: &'static str, username: &'static str, password: &'static str| {
            let app = app.clone();
            async move { app.login(at, client, username, password).await }
        };

        for i in 0..5 {
            assert!(matches!(login(seconds(i), "198.51.100.1", "admin1", "guess").await, Err(AppError::Unauthorized(_))));
        }
        // The sixth try waits 1 s, whatever the password — and costs no password check.
        let checked = app.password_verifications();
        assert!(matches!(login(seconds(4), "198.51.100.2", "admin1", "the right password").await, Err(AppError::TooManyAttempts(1))));
        assert_eq!(app.password_verifications(), checked, "a refused attempt does no argon2 work");
        assert!(login(seconds(5), "198.51.100.2", "admin1", "the right password").await.is_ok(), "the owner is back in after a second");
        // The right password cleared the count: five free tries again.
        for i in 0..5 {
            assert!(matches!(login(seconds(10 + i), "198.51.100.1", "admin1", "guess").await, Err(AppError::Unauthorized(_))));
        }

        // A guesser from many addresses keeps going: the waits double, but never past 5 minutes.
        let mut at = seconds(20);
        let mut longest = 0;
        for i in 0..40 {
            match app.login(at, &format!("203.0.113.{i}"), "admin1", "guess").await {
                Err(AppError::TooManyAttempts(wait)) => {
                    longest = longest.max(wait);
                    at += chrono::TimeDelta::seconds(i64::try_from(wait).unwrap());
                }
                Err(AppError::Unauthorized(_)) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(longest, 300, "the owner is never kept out longer than 5 minutes");
        let owner_at = at + chrono::TimeDelta::seconds(300);
        assert!(app.login(owner_at, "198.51.100.2", "admin1", "the right password").await.is_ok());

        // One address trying many usernames: twenty tries, then it waits — for any username.
        let names = ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12", "a13", "a14", "a15", "a16", "a17", "a18", "a19", "a20"];
        let later = owner_at + chrono::TimeDelta::hours(2);
        for name in names {
            assert!(matches!(app.login(later, "192.0.2.50", name, "guess").await, Err(AppError::Unauthorized(_))), "{name}");
        }
        assert!(matches!(app.login(later, "192.0.2.50", "admin1", "the right password").await, Err(AppError::TooManyAttempts(_))));
        assert!(app.login(later, "192.0.2.51", "admin1", "the right password").await.is_ok(), "another address is not held up");
    }
}
