//! A write answered 2xx survives `kill -9` of the server: the real binary, a real SQLite file,
//! real HTTP, and SIGKILL.

use crate::support::{Server, http, ok, token};
use serde_json::{Value, json};

#[tokio::test]
async fn a_need_answered_201_survives_kill_9_of_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    ok(&["demo", "--db", &db], None);
    ok(&["user", "add", "--db", &db, "--username", "test-officer", "--role", "officer", "--department", "141021", "--password-stdin"], Some("correct horse battery\n"));

    let mut server = Server::start(&db, &[]);
    let token = token(&server.addr, "test-officer").await;
    let mut reported = Vec::new();
    for i in 0..5 {
        let need = json!({"kind": "labour", "title": format!("kill -9 test {i}"), "quantity": 1, "requires": {"skill": "包装"}});
        let (status, body) = http(&server.addr, "POST", "/api/v1/cases/1/needs", Some(&token), &need).await;
        assert_eq!(status, 201, "{body}");
        reported.push(body["id"].as_i64().expect("id"));
    }
    server.kill();

    let shown = ok(&["case", "show", "1", "--db", &db, "--json"], None);
    let case: Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    let ids: Vec<i64> = case["needs"].as_array().expect("needs").iter().filter_map(|n| n["id"].as_i64()).collect();
    for id in reported {
        assert!(ids.contains(&id), "need {id} was answered 201 but is gone after kill -9");
    }
    ok(&["audit", "verify", "--db", &db], None);
}

#[test]
fn match_screens_a_stored_need_against_the_stored_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    ok(&["demo", "--db", &db], None);
    // Need 7 is the reference case's sterilisation need (90,000 masks, ≤ 400 km, ≤ 96 h).
    let output = ok(&["match", "--need-id", "7", "--db", &db, "--json"], None);
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(result["candidates"][0]["provider"], "demo:wanrong-huakang");
    let reasons: Vec<String> = result["rejected"].as_array().expect("rejected").iter().map(|r| format!("{}:{}", r["provider"], r["reasons"])).collect();
    assert!(reasons.iter().any(|r| r.contains("north-shanxi") && r.contains("too_far")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("taiyuan") && r.contains("too_slow")), "{reasons:?}");
}
