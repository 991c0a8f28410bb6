//! Several servers on one database behave as one system. Two `App`s opened on the same database
//! stand for two `bangfu serve` processes (each has its own connection pools, exactly as two
//! processes do); every test runs as `NAME::sqlite` and, when BANGFU_TEST_PG names a server,
//! `NAME::postgres` — the deployment this is for.

use bangfu_app::escalation::ESCALATION_JOB;
use bangfu_app::needs::NewNeed;
use bangfu_app::{Actor, App};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

fn labour(title: String) -> NewNeed {
    NewNeed { kind: "labour".into(), title, quantity: 1.0, requires: json!({"skill": "包装"}), ..NewNeed::default() }
}

bangfu_store::backend_tests! {
    /// Both servers run the escalation pass for every minute while both take need reports:
    /// each minute's pass runs once, each stalled need moves up exactly once, every report
    /// lands once, and the audit chain has no gap.
    async fn two_servers_run_each_minutes_escalation_once_beside_concurrent_writes(db) {
        let a = App::open(db.url()).await.unwrap();
        let b = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&a, &admin).await.unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        const STALLED: usize = 6;
        let mut stalled = Vec::new();
        for i in 0..STALLED {
            let app = if i % 2 == 0 { &a } else { &b };
            stalled.push(app.report_need(&admin, t0, 1, labour(format!("stalled {i}"))).await.unwrap().id);
        }
        // Past the county's window (24 h): the first pass moves the stalled needs to the city,
        // whose own window then starts, so later passes in these minutes leave them be.
        let start = t0 + Duration::hours(25);
        const MINUTES: i64 = 8;
        let mut servers = Vec::new();
        for (s, app) in [a.clone(), b.clone()].into_iter().enumerate() {
            let admin = admin.clone();
            servers.push(tokio::spawn(async move {
                let mut ran = Vec::new();
                for m in 0..MINUTES {
                    // The two servers' clocks tick at different seconds within the minute.
                    let now: DateTime<Utc> = start + Duration::minutes(m) + Duration::seconds(7 + 40 * s as i64);
                    if let Some(report) = app.escalate_scheduled(&admin, now).await.unwrap() {
                        ran.push((m, report.moved.iter().map(|e| e.need.id).collect::<Vec<_>>()));
                    }
                    app.report_need(&admin, now, 1, labour(format!("server {s} minute {m}"))).await.unwrap();
                }
                ran
            }));
        }
        let mut runs = Vec::new();
        for server in servers {
            runs.extend(server.await.unwrap());
        }
        runs.sort();
        let minutes: Vec<i64> = runs.iter().map(|(m, _)| *m).collect();
        assert_eq!(minutes, (0..MINUTES).collect::<Vec<_>>(), "each minute's pass ran exactly once");
        let mut moved: Vec<i64> = runs.iter().flat_map(|(_, ids)| ids.iter().copied()).collect();
        moved.sort();
        for id in &stalled {
            assert_eq!(moved.iter().filter(|m| *m == id).count(), 1, "stalled need {id} moved up exactly once: {moved:?}");
        }
        let store = bangfu_store::Store::open(db.url()).await.unwrap();
        let second_minute = start.timestamp_millis().div_euclid(60_000) + 1;
        assert!(!store.claim_job_slot(ESCALATION_JOB, second_minute).await.unwrap(), "the minutes are claimed in the shared job leases");

        let detail = b.case_detail(&admin, 1).await.unwrap();
        let mut titles: Vec<&str> = detail.needs.iter().map(|n| n.title.as_str()).filter(|t| t.starts_with("server ")).collect();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), 2 * MINUTES as usize, "every report landed once");
        let escalation_events = b
            .case_timeline(&admin, 1)
            .await
            .unwrap()
            .iter()
            .filter(|e| (e.action == "need.escalated" || e.action == "need.supervised") && e.at >= start.timestamp_millis())
            .count();
        assert_eq!(escalation_events, moved.len(), "one audit event per move, none twice");
        let audit = a.verify_audit().await.unwrap();
        assert_eq!(audit.broken, None, "{audit:?}");
    }
}
