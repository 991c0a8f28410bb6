//! A write answered 2xx survives `kill -9` of the server: the real binary, a real SQLite file,
//! real HTTP, and SIGKILL.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn bangfu(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bangfu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bangfu runs");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("bangfu finishes");
    assert!(output.status.success(), "bangfu {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// One HTTP/1.1 request with `Connection: close`; returns the status and the JSON body.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let body = body.to_string();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    let json = response.split("\r\n\r\n").nth(1).and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, json)
}

#[test]
fn a_need_answered_201_survives_kill_9_of_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    bangfu(&["demo", "--db", &db], None);
    bangfu(&["user", "add", "--db", &db, "--username", "test-officer", "--role", "officer", "--department", "141021", "--password-stdin"], Some("correct horse battery\n"));

    let mut server = Command::new(env!("CARGO_BIN_EXE_bangfu"))
        .args(["serve", "--db", &db, "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout")).read_line(&mut line).expect("the server prints its address");
    let addr = line.trim().rsplit("http://").next().expect("address").to_string();

    let (status, token) = http(&addr, "POST", "/api/v1/auth/token", None, &json!({"username": "test-officer", "password": "correct horse battery"}));
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().expect("token").to_string();
    let mut reported = Vec::new();
    for i in 0..5 {
        let need = json!({"kind": "labour", "title": format!("kill -9 test {i}"), "quantity": 1, "requires": {"skill": "包装"}});
        let (status, body) = http(&addr, "POST", "/api/v1/cases/1/needs", Some(&token), &need);
        assert_eq!(status, 201, "{body}");
        reported.push(body["id"].as_i64().expect("id"));
    }
    server.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
    server.wait().expect("reaped");

    let shown = bangfu(&["case", "show", "1", "--db", &db, "--json"], None);
    let case: Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    let ids: Vec<i64> = case["needs"].as_array().expect("needs").iter().filter_map(|n| n["id"].as_i64()).collect();
    for id in reported {
        assert!(ids.contains(&id), "need {id} was answered 201 but is gone after kill -9");
    }
    bangfu(&["audit", "verify", "--db", &db], None);
}

#[test]
fn match_screens_a_stored_need_against_the_stored_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    bangfu(&["demo", "--db", &db], None);
    // Need 7 is the reference case's sterilisation need (90,000 masks, ≤ 400 km, ≤ 96 h).
    let output = bangfu(&["match", "--need-id", "7", "--db", &db, "--json"], None);
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(result["candidates"][0]["provider"], "demo:wanrong-huakang");
    let reasons: Vec<String> = result["rejected"].as_array().expect("rejected").iter().map(|r| format!("{}:{}", r["provider"], r["reasons"])).collect();
    assert!(reasons.iter().any(|r| r.contains("north-shanxi") && r.contains("too_far")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("taiyuan") && r.contains("too_slow")), "{reasons:?}");
}
