//! Issue 3 over real HTTP: letters (read, send, acknowledge), the escalate button and the admin's
//! escalation pass — on SQLite and, when BANGFU_TEST_PG names a server, PostgreSQL.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions, which
// clippy.toml's allow-unwrap-in-tests covers.
#![allow(clippy::unwrap_used)]

use bangfu_app::accounts::NewUser;
use bangfu_app::{Actor, App};
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

struct Server {
    base: String,
    _db: TestDb,
    client: reqwest::Client,
}

/// The reference case on a fresh database, served on a free port, with these accounts:
/// admin; an officer of 山西省; an officer of 侯马市 (who may not see the case); an officer of
/// 广东省 (the addressee of the letters to Guangdong).
async fn serve_demo(db: TestDb) -> Server {
    let app = App::open(db.url()).await.unwrap();
    let admin = Actor::system("test");
    bangfu_app::demo::load(&app, &admin).await.unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for (username, role, department) in [("admin", "admin", None), ("shanxi", "officer", Some("140000")), ("houma", "officer", Some("141081")), ("guangdong", "officer", Some("440000"))] {
        let user = NewUser { username: username.into(), role: role.into(), department: department.map(str::to_string), password: PASSWORD.into(), ..NewUser::default() };
        app.add_user(&admin, now, user).await.unwrap();
    }
    let (listener, addr) = bangfu_web::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(bangfu_web::serve(listener, app, std::future::pending()));
    Server { base: format!("http://{addr}"), _db: db, client: reqwest::Client::new() }
}

impl Server {
    async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, body).await
    }

    async fn login(&self, username: &str) -> String {
        let response = self.client.post(format!("{}/api/v1/auth/token", self.base)).json(&json!({"username": username, "password": PASSWORD})).send().await.unwrap();
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }
}

bangfu_store::backend_tests! {
    async fn a_letter_is_read_by_whoever_sees_its_need_and_moves_draft_sent_acknowledged(db) {
        let server = serve_demo(db).await;
        let (shanxi, houma) = (server.login("shanxi").await, server.login("houma").await);

        let (status, letter) = server.get("/api/v1/letters/1", &shanxi).await;
        assert_eq!(status, 200, "{letter}");
        assert_eq!((letter["number"].as_str(), letter["status"].as_str()), (Some("晋工信函〔2020〕1号"), Some("acknowledged")));
        assert_eq!(letter["recipients"][1]["region"], "441900");
        assert_eq!(letter["sent_at"], "2020-01-26T14:00:00+08:00");
        assert_eq!(server.get("/api/v1/letters/1", &houma).await.0, 404);
        assert_eq!(server.get("/api/v1/letters/999", &shanxi).await.0, 404);
        let (status, problem) = server.post("/api/v1/letters/1/send", &shanxi, None).await;
        assert_eq!(status, 409, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("an acknowledged letter is final"), "{problem}");

        // A new need across provinces gets its draft at once; it is sent, then acknowledged.
        let need = json!({"kind": "equipment", "title": "广州订购的熔喷布设备无法发运", "quantity": 1, "requires": {"item": "熔喷布设备"}, "solution_region": "440106", "source": false});
        let (status, reported) = server.post("/api/v1/cases/1/needs", &shanxi, Some(need)).await;
        assert_eq!(status, 201, "{reported}");
        let draft = &reported["letters"][0];
        assert_eq!(draft["status"], "draft");
        assert_eq!(draft["recipients"][1]["name"], "广州市工业和信息化局");
        let id = draft["id"].as_i64().unwrap();
        let admin = server.login("admin").await;
        assert_eq!(server.post(&format!("/api/v1/letters/{id}/acknowledge"), &admin, None).await.0, 409, "a draft is not acknowledged");
        assert_eq!(server.post(&format!("/api/v1/letters/{id}/send"), &houma, None).await.0, 404);
        let (status, sent) = server.post(&format!("/api/v1/letters/{id}/send"), &shanxi, Some(json!({"note": "已寄出"}))).await;
        assert_eq!((status, sent["status"].as_str()), (200, Some("sent")), "{sent}");
        // The sender does not acknowledge its own letter: the addressee (广东省) does (issue 17).
        assert_eq!(server.post(&format!("/api/v1/letters/{id}/acknowledge"), &shanxi, None).await.0, 403);
        let guangdong = server.login("guangdong").await;
        let (status, done) = server.post(&format!("/api/v1/letters/{id}/acknowledge"), &guangdong, None).await;
        assert_eq!((status, done["status"].as_str()), (200, Some("acknowledged")), "{done}");
        assert!(done["acknowledged_at"].is_string());
    }

    async fn the_escalate_button_and_the_admins_pass(db) {
        let server = serve_demo(db).await;
        let (admin, shanxi) = (server.login("admin").await, server.login("shanxi").await);
        let need = json!({"kind": "other", "title": "跨部门协调事项", "quantity": 1, "source": false});
        let (status, reported) = server.post("/api/v1/cases/1/needs", &shanxi, Some(need)).await;
        assert_eq!(status, 201, "{reported}");
        let id = reported["id"].as_i64().unwrap();
        assert_eq!(reported["owner"], "141021");

        let (status, problem) = server.post(&format!("/api/v1/needs/{id}/escalate"), &shanxi, Some(json!({"reason": " "}))).await;
        assert_eq!(status, 422, "{problem}");
        let (status, moved) = server.post(&format!("/api/v1/needs/{id}/escalate"), &shanxi, Some(json!({"reason": "县级无法协调"}))).await;
        assert_eq!(status, 200, "{moved}");
        assert_eq!((moved["step"].as_str(), moved["to"].as_str(), moved["need"]["owner"].as_str()), (Some("escalate"), Some("141000"), Some("141000")));
        assert!(moved["reason"]["zh"].as_str().unwrap().ends_with("：县级无法协调"), "{moved}");

        let (status, _) = server.post("/api/v1/escalations/run", &shanxi, None).await;
        assert_eq!(status, 403);
        let (status, report) = server.post("/api/v1/escalations/run", &admin, None).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["windows"], "county=24h,city=48h,province=72h");
        assert_eq!(report["checked"], 1);
        assert_eq!(report["moved"], json!([]), "the new owner's window started a moment ago");
    }
}

/// What a test's subscriber writes: the log lines, kept to be read.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap()).lines().map(str::to_string).collect()
    }
}

bangfu_store::backend_tests! {
    /// Issue 18: every answer names its request in `x-request-id`; an internal error (here the
    /// letter's PDF, with no Chromium where the server was told to find it) answers an opaque
    /// problem carrying that id, and the log line with the error's cause carries it too.
    async fn an_internal_error_is_opaque_and_its_log_line_carries_the_request_id(db) {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_max_level(tracing::Level::DEBUG).finish();
        // This thread's subscriber: the test's runtime, and so the server, run on it.
        let _logging = tracing::subscriber::set_default(subscriber);

        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let user = NewUser { username: "shanxi".into(), role: "officer".into(), department: Some("140000".into()), password: PASSWORD.into(), ..NewUser::default() };
        app.add_user(&admin, now, user).await.unwrap();
        let missing = "/nonexistent/bangfu-test/chromium";
        let settings = bangfu_web::Settings { printer: bangfu_web::pdf::Printer::new(missing.into(), None), ..bangfu_web::Settings::default() };
        let (listener, addr) = bangfu_web::bind("127.0.0.1:0").await.unwrap();
        tokio::spawn(bangfu_web::serve_with(listener, app, settings, std::future::pending()));
        let server = Server { base: format!("http://{addr}"), _db: db, client: reqwest::Client::new() };
        let token = server.login("shanxi").await;

        // Every answer names its request, an edge's too; no two the same.
        let ok = server.client.get(format!("{}/healthz", server.base)).send().await.unwrap();
        let nowhere = server.client.get(format!("{}/api/v1/no-such-thing", server.base)).send().await.unwrap();
        let (ok_id, nowhere_id) = (ok.headers()["x-request-id"].to_str().unwrap().to_string(), nowhere.headers()["x-request-id"].to_str().unwrap().to_string());
        assert_eq!(ok_id.len(), 16, "{ok_id}");
        assert_ne!(ok_id, nowhere_id);
        let problem: Value = nowhere.json().await.unwrap();
        assert_eq!(problem["request_id"], nowhere_id.as_str(), "a problem names its request: {problem}");

        let answer = server.client.get(format!("{}/api/v1/letters/1/pdf", server.base)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(answer.status(), 500);
        assert_eq!(answer.headers()["content-type"], "application/problem+json");
        let id = answer.headers()["x-request-id"].to_str().unwrap().to_string();
        let text = answer.text().await.unwrap();
        let problem: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(problem["request_id"], id.as_str(), "{text}");
        assert_eq!(problem["title"], "Internal error");
        assert_eq!(problem["detail"], "the server failed; the operator's log has the details");
        assert!(!text.contains("chromium") && !text.contains("nonexistent") && !text.contains("No such file"), "nothing of the cause reaches the client: {text}");

        // The log: the error with its cause, in the request's span, which names the id.
        let lines = log.lines();
        let error = lines.iter().find(|l| l.contains(" ERROR ") && l.contains(&id)).unwrap_or_else(|| panic!("no ERROR line names request {id}:\n{}", lines.join("\n")));
        assert!(error.contains("printing a letter") && error.contains(missing) && error.contains("No such file"), "the cause is logged: {error}");
        assert!(error.contains("path=/api/v1/letters/1/pdf"), "{error}");
        let answered = lines.iter().find(|l| l.contains(&id) && l.contains("answered")).unwrap_or_else(|| panic!("no line says request {id} was answered:\n{}", lines.join("\n")));
        assert!(answered.contains("status=500"), "{answered}");
        assert!(lines.iter().any(|l| l.contains(&ok_id) && l.contains("status=200")), "the health check's line names its id");
    }
}
