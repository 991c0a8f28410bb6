//! Notifications where officials work (issue 15) from the command line and through the real
//! server: `bangfu channel add|list` keep a channel's secret to themselves and refuse bad input
//! with exit 2; a message whose delivery was cut by `kill -9` of the server is delivered after
//! the restart, under the same idempotency key; `bangfu outbox list|retry` show and requeue.

use crate::support::{Server, http, ok, run, text, token};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A webhook receiver on 127.0.0.1 that records the `webhook-id` of every request and leaves
/// the first one unanswered (its connection held open), as a receiver does whose answer is lost.
fn receiver() -> (Arc<Mutex<Vec<String>>>, u16) {
    receiver_holding(true)
}

/// [`receiver`], answering every request when `hold_first` is false.
fn receiver_holding(hold_first: bool) -> (Arc<Mutex<Vec<String>>>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = ids.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let (mut id, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("webhook-id:") {
                    id = v.trim().to_string();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let first = {
                let mut ids = kept.lock().expect("ids");
                ids.push(id);
                ids.len() == 1
            };
            if first && hold_first {
                held.push(stream);
            } else {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        }
    });
    (ids, port)
}

/// `bangfu serve` on port 0 with the outbox allowed to reach `port` (`--allow-outbound`).
fn serve(db: &str, port: u16) -> Server {
    serve_allowing(db, port, false)
}

/// `bangfu serve` on port 0 with the outbox allowed to reach `port`, by `--allow-outbound` or
/// by the environment (`BANGFU_ALLOW_OUTBOUND`) when `by_env`.
fn serve_allowing(db: &str, port: u16, by_env: bool) -> Server {
    let allowed = format!("127.0.0.1:{port}");
    let mut extra = vec!["--outbound-timeout", "2", "--base-url", "https://bangfu.example.gov.cn"];
    if by_env {
        Server::start_with(db, &extra, &[("BANGFU_ALLOW_OUTBOUND", allowed.as_str())])
    } else {
        extra.extend(["--allow-outbound", allowed.as_str()]);
        Server::start(db, &extra)
    }
}

fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(seconds), "waited {seconds} s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_channel_s_secret_and_key_are_never_printed_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    let url = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN-1234567";
    let added = ok(
        &["channel", "add", "--db", &db, "--department", "141021", "--kind", "dingtalk", "--url", url, "--secret", "SECverysecret", "--events", "need.new,need.escalated", "--quiet-hours", "22:00-07:00", "--label", "曲沃县帮扶专班群"],
        None,
    );
    let listed = ok(&["channel", "list", "--db", &db], None);
    let json = ok(&["channel", "list", "--db", &db, "--json"], None);
    for output in [&added, &listed, &json] {
        let shown = text(output);
        assert!(!shown.contains("TOKEN-1234567") && !shown.contains("SECverysecret"), "{shown}");
    }
    let channels: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        channels,
        json!([{
            "id": 1, "department": "141021", "department_name": channels[0]["department_name"], "provider_id": null, "enterprise_id": null,
            "kind": "dingtalk", "label": "曲沃县帮扶专班群", "target": "https://oapi.dingtalk.com:443/robot/send?access_token=***", "secret": "set",
            "events": ["need.new", "need.escalated"], "mentions": "", "quiet_hours": "22:00-07:00", "format": "text", "active": true,
            "created_at": channels[0]["created_at"],
        }])
    );
    assert!(text(&listed).contains("dingtalk 钉钉群机器人"), "{}", text(&listed));
    // Nor is it in the audit log.
    let shown = text(&ok(&["audit", "verify", "--db", &db], None));
    assert!(!shown.contains("SECverysecret"));
}

#[test]
fn a_wrong_channel_exits_2_says_how_to_fix_it_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    let cases: [(&[&str], &str); 7] = [
        (&["--department", "141021", "--kind", "wecom", "--url", "https://x/", "--format", "markdown", "--mentions", "13800000000"], "cannot mention"),
        (&["--department", "141021", "--kind", "wecom", "--url", "https://x/", "--format", "html"], "use text or markdown"),
        (&["--department", "141021", "--kind", "sms", "--url", "https://x/"], "use wecom, dingtalk, email or webhook"),
        (&["--department", "141021", "--kind", "wecom", "--url", "qyapi.weixin.qq.com/send?key=K"], "https://"),
        (&["--department", "141021", "--kind", "webhook", "--url", "https://hooks.example.gov.cn/bangfu"], "needs --secret"),
        (&["--department", "999999", "--kind", "wecom", "--url", "https://x/"], "is not a region code"),
        (&["--department", "141021", "--kind", "wecom", "--url", "https://x/", "--events", "need.nwe"], "need.new"),
    ];
    for (args, hint) in cases {
        let mut all = vec!["channel", "add", "--db", &db];
        all.extend_from_slice(args);
        let output = run(&all, None);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(hint), "{args:?}: {}", text(&output));
    }
    let listed = ok(&["channel", "list", "--db", &db, "--json"], None);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");
    let retry = run(&["outbox", "retry", "7", "--db", &db], None);
    assert_eq!(retry.status.code(), Some(1), "{}", text(&retry));
    let status = run(&["outbox", "list", "--status", "lost", "--db", &db], None);
    assert_eq!(status.status.code(), Some(2));
    assert!(text(&status).contains("pending, sent or dead"));
}

#[tokio::test]
async fn a_message_cut_off_by_kill_9_is_delivered_after_the_restart_under_the_same_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("bangfu.db").display());
    ok(&["demo", "--db", &db], None);
    ok(&["user", "add", "--db", &db, "--username", "test-officer", "--role", "officer", "--department", "141021", "--password-stdin"], Some("correct horse battery\n"));
    let (ids, port) = receiver();
    // New needs only: a server keeps the daily briefing when it starts, and a channel of every
    // event would hear that too.
    ok(&["channel", "add", "--db", &db, "--department", "141021", "--kind", "webhook", "--url", &format!("http://127.0.0.1:{port}/hook"), "--secret", SECRET, "--events", "need.new"], None);

    let mut server = serve(&db, port);
    let token = token(&server.addr, "test-officer").await;
    let need = json!({"kind": "labour", "title": "kill -9 之前报送的诉求", "quantity": 1, "requires": {"skill": "包装"}});
    let (status, body) = http(&server.addr, "POST", "/api/v1/cases/1/needs", Some(&token), &need).await;
    assert_eq!(status, 201, "{body}");
    // The message leaves at once; the receiver takes it and its answer never comes back …
    wait_for("the first delivery", 20, || ids.lock().expect("ids").len() == 1);
    // … because the server is killed before it can record anything.
    server.kill();

    // Restarted with the allowed host in the environment (BANGFU_ALLOW_OUTBOUND) this time.
    let mut server = serve_allowing(&db, port, true);
    // The claim's lease (3 × 2 s + 5 s) runs out and the restarted server delivers it again.
    wait_for("the delivery after the restart", 40, || ids.lock().expect("ids").len() == 2);
    std::thread::sleep(Duration::from_secs(3));
    let seen = ids.lock().expect("ids").clone();
    assert_eq!(seen.len(), 2, "delivered once more, no further: {seen:?}");
    assert_eq!(seen[0], seen[1], "the same idempotency key both times, so the receiver keeps it once");
    assert!(seen[0].starts_with("bangfu-msg-"), "{seen:?}");
    server.kill();

    let listed = ok(&["outbox", "list", "--db", &db, "--json"], None);
    let messages: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let message = messages.as_array().expect("list").iter().find(|m| m["idempotency_key"] == seen[0].as_str()).expect("the message").clone();
    assert_eq!(message["status"], "sent", "{message}");
    assert_eq!(message["event"], "need.new");
    assert!(message["link"].as_str().expect("link").starts_with("/needs/"));
    let retry = run(&["outbox", "retry", &message["id"].to_string(), "--db", &db], None);
    assert_eq!(retry.status.code(), Some(2), "a sent message is not sent again: {}", text(&retry));
    assert!(text(&retry).contains("nothing to retry"));
    ok(&["audit", "verify", "--db", &db], None);
}

bangfu_store::backend_tests! {
    async fn two_servers_on_one_database_deliver_each_message_once(db) {
        let url = db.url().to_string();
        ok(&["demo", "--db", &url], None);
        ok(&["user", "add", "--db", &url, "--username", "test-officer", "--role", "officer", "--department", "141021", "--password-stdin"], Some("correct horse battery\n"));
        let (ids, port) = receiver_holding(false);
        ok(&["channel", "add", "--db", &url, "--department", "141021", "--kind", "webhook", "--url", &format!("http://127.0.0.1:{port}/hook"), "--secret", SECRET, "--events", "need.new"], None);
        let (first, second) = (serve(&url, port), serve(&url, port));
        let (first_addr, second_addr) = (first.addr.clone(), second.addr.clone());
        let token = token(&first_addr, "test-officer").await;
        // Ten needs, reported on both servers in turn; each server's worker wakes for every one
        // (PostgreSQL NOTIFY reaches both).
        for i in 0..10 {
            let addr = if i % 2 == 0 { &first_addr } else { &second_addr };
            let need = json!({"kind": "labour", "title": format!("两台服务器{i}"), "quantity": 1, "requires": {"skill": "包装"}});
            let (status, body) = http(addr, "POST", "/api/v1/cases/1/needs", Some(&token), &need).await;
            assert_eq!(status, 201, "{body}");
        }
        wait_for("ten deliveries", 40, || ids.lock().expect("ids").len() >= 10);
        std::thread::sleep(Duration::from_secs(3));
        let mut seen = ids.lock().expect("ids").clone();
        assert_eq!(seen.len(), 10, "each message delivered once, by one of the two servers: {seen:?}");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 10, "ten different messages");
    }
}
