//! Two real `bangfu serve` processes on one database behave as one system: a token issued by one
//! is accepted by the other; need reports sent to both at once all land, once each, in one
//! unbroken audit chain; and the escalation passes both run at start (and every minute) move each
//! stalled need once. Runs as `NAME::sqlite` and, when BANGFU_TEST_PG names a server,
//! `NAME::postgres` — the deployment this is for.

use crate::support::{Server, http, ok};
use serde_json::{Value, json};
use std::collections::HashMap;

const PASSWORD: &str = crate::support::PASSWORD;

bangfu_store::backend_tests! {
    async fn two_serve_processes_on_one_database_are_one_system(db) {
        let url = db.url().to_string();
        ok(&["demo", "--db", &url], None);
        ok(&["user", "add", "--db", &url, "--username", "test-officer", "--role", "officer", "--department", "141021", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
        // Needs waiting with the county since 2020: each server's pass at start finds them stalled.
        const STALLED: usize = 4;
        let app = bangfu_app::App::open(&url).await.expect("open");
        let reported = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2020, 2, 1, 0, 0, 0).unwrap();
        for i in 0..STALLED {
            let need = bangfu_app::needs::NewNeed { kind: "labour".into(), title: format!("stalled {i}"), quantity: 1.0, requires: json!({"skill": "包装"}), ..Default::default() };
            app.report_need(&bangfu_app::Actor::system("test"), reported, 1, need).await.expect("report");
        }
        app.close().await;
        let servers = [Server::start(&url, &[]), Server::start(&url, &[])];

        let (status, body) = http(&servers[0].addr, "POST", "/api/v1/auth/token", None, &json!({"username": "test-officer", "password": PASSWORD})).await;
        assert_eq!(status, 200, "{body}");
        let token = body["token"].as_str().expect("token").to_string();
        let (status, me) = http(&servers[1].addr, "GET", "/api/v1/me", Some(&token), &Value::Null).await;
        assert_eq!((status, me["username"].as_str()), (200, Some("test-officer")), "the other server accepts the token: {me}");

        const PER_SERVER: usize = 10;
        let writers: Vec<_> = servers
            .iter()
            .enumerate()
            .flat_map(|(s, server)| (0..PER_SERVER).map(move |i| (s, i, server.addr.clone())))
            .map(|(s, i, addr)| {
                let token = token.clone();
                tokio::spawn(async move {
                    let need = json!({"kind": "labour", "title": format!("process {s} report {i}"), "quantity": 1, "requires": {"skill": "包装"}});
                    http(&addr, "POST", "/api/v1/cases/1/needs", Some(&token), &need).await
                })
            })
            .collect();
        for writer in writers {
            let (status, body) = writer.await.expect("writer");
            assert_eq!(status, 201, "{body}");
        }
        drop(servers);

        let shown = ok(&["case", "show", "1", "--db", &url, "--json"], None);
        let case: Value = serde_json::from_slice(&shown.stdout).expect("JSON");
        let mut titles: Vec<&str> = case["needs"].as_array().expect("needs").iter().filter_map(|n| n["title"].as_str()).filter(|t| t.starts_with("process ")).collect();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), 2 * PER_SERVER, "every report once: {titles:?}");

        // Both servers ran the pass at start; each stalled need moved up once, not twice.
        let mut moves: HashMap<(String, String), usize> = HashMap::new();
        for event in case["events"].as_array().expect("events") {
            if event["action"] == "need.escalated" || event["action"] == "need.supervised" {
                let payload: Value = match &event["payload"] {
                    Value::String(text) => serde_json::from_str(text).expect("payload JSON"),
                    other => other.clone(),
                };
                let key = (event["entity"].to_string(), format!("{} {}", event["action"], payload["from"]));
                *moves.entry(key).or_default() += 1;
            }
        }
        assert_eq!(moves.len(), STALLED, "each stalled need moved up: {moves:?}");
        assert!(moves.values().all(|n| *n == 1), "no need moved twice: {moves:?}");
        ok(&["audit", "verify", "--db", &url], None);
    }
}
