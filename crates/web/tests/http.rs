//! End to end over real HTTP: the server on port 0 with a fresh SQLite database.

use bangfu_app::accounts::NewUser;
use bangfu_app::{Actor, App};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

struct TestServer {
    base: String,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

const PASSWORD: &str = "correct horse battery";

/// A server on a fresh database; `demo` loads the reference case; users are created for each
/// (username, role, department) given.
async fn spawn_server(demo: bool, users: &[(&str, &str, Option<&str>)]) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&format!("sqlite://{}", dir.path().join("bangfu.db").display())).await.unwrap();
    let admin = Actor::system("test");
    if demo {
        bangfu_app::demo::load(&app, &admin).await.unwrap();
    }
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for (username, role, department) in users {
        let user = NewUser {
            username: username.to_string(),
            role: role.to_string(),
            department: department.map(str::to_string),
            password: PASSWORD.into(),
            ..NewUser::default()
        };
        app.add_user(&admin, now, user).await.unwrap();
    }
    let (listener, addr) = bangfu_web::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(bangfu_web::serve(listener, app, std::future::pending()));
    TestServer { base: format!("http://{addr}"), _dir: dir, client: reqwest::Client::new() }
}

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

impl TestServer {
    async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, content_type, body, text }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    async fn login(&self, username: &str) -> String {
        let answer = self.post("/api/v1/auth/token", None, json!({"username": username, "password": PASSWORD})).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body["token"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = spawn_server(false, &[]).await;
    assert_eq!(server.get("/healthz", None).await.status, 200);
}

#[tokio::test]
async fn a_region_is_read_by_code() {
    let server = spawn_server(false, &[]).await;
    let answer = server.get("/api/v1/regions/141021", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["name"], "曲沃县");
    assert_eq!(answer.body["level"], "county");
    assert_eq!(answer.body["parent"], "141000");
    assert!(answer.body["lon"].as_f64().unwrap() > 111.0);
}

#[tokio::test]
async fn regions_are_found_by_traditional_name() {
    let server = spawn_server(false, &[]).await;
    let answer = server.get("/api/v1/regions?q=%E8%87%A8%E6%B1%BE%E5%B8%82", None).await; // 臨汾市
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["items"][0]["code"], "141000");
}

#[tokio::test]
async fn an_unknown_region_is_a_problem_with_suggestions() {
    let server = spawn_server(false, &[]).await;
    let answer = server.get("/api/v1/regions/141099", None).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(answer.body["title"], "Not found");
    assert!(answer.body["detail"].as_str().unwrap().contains("141029 乡宁县"), "{}", answer.text);
}

#[tokio::test]
async fn a_malformed_region_code_is_a_bad_request() {
    let server = spawn_server(false, &[]).await;
    let answer = server.get("/api/v1/regions/14x", None).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body["detail"].as_str().unwrap().contains("six digits"), "{}", answer.text);
}

#[tokio::test]
async fn every_protected_route_answers_401_without_credentials() {
    let server = spawn_server(false, &[]).await;
    for op in bangfu_web::openapi::OPERATIONS.iter().filter(|op| op.auth) {
        let path = op.path.replace("{id}", "1").replace("{kind}", "slitting");
        let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let answer = server.send(method, &path, None, Some(json!({}))).await;
        assert_eq!(answer.status, 401, "{} {path}: {}", op.method, answer.text);
        assert_eq!(answer.content_type, "application/problem+json");
    }
}

#[tokio::test]
async fn every_route_in_the_openapi_table_is_served() {
    let server = spawn_server(false, &[("admin", "admin", None)]).await;
    let token = server.login("admin").await;
    for op in bangfu_web::openapi::OPERATIONS {
        let path = op.path.replace("{id}", "1").replace("{code}", "141021").replace("{kind}", "slitting");
        let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let answer = server.send(method, &path, Some(&token), Some(json!({}))).await;
        assert!(answer.status != 405 && !(answer.status == 404 && answer.content_type != "application/problem+json"), "{} {path} is not routed: {}", op.method, answer.status);
    }
    let document = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(document.body["openapi"], "3.1.0");
    assert!(document.body["paths"]["/api/v1/cases/{id}/needs"]["post"]["requestBody"].is_object());
}

#[tokio::test]
async fn a_token_is_issued_for_the_right_password_only() {
    let server = spawn_server(false, &[("quwo", "officer", Some("141021"))]).await;
    let wrong = server.post("/api/v1/auth/token", None, json!({"username": "quwo", "password": "wrong password"})).await;
    assert_eq!(wrong.status, 401);
    let unknown = server.post("/api/v1/auth/token", None, json!({"username": "nobody", "password": "wrong password"})).await;
    assert_eq!((unknown.status, unknown.body["detail"].clone()), (401, wrong.body["detail"].clone()), "unknown users look like wrong passwords");
    let token = server.login("quwo").await;
    let me = server.get("/api/v1/me", Some(&token)).await;
    assert_eq!((me.body["role"].as_str(), me.body["department"].as_str()), (Some("officer"), Some("141021")));
    assert_eq!(server.get("/api/v1/me", Some("not-a-token")).await.status, 401);
    assert_eq!(server.post("/api/v1/auth/logout", Some(&token), json!({})).await.status, 200);
    assert_eq!(server.get("/api/v1/me", Some(&token)).await.status, 401, "a logged-out token is refused");
}

#[tokio::test]
async fn repeated_wrong_passwords_are_rate_limited() {
    let server = spawn_server(false, &[("quwo", "officer", Some("141021"))]).await;
    for _ in 0..5 {
        assert_eq!(server.post("/api/v1/auth/token", None, json!({"username": "quwo", "password": "guess guess"})).await.status, 401);
    }
    let limited = server.post("/api/v1/auth/token", None, json!({"username": "quwo", "password": PASSWORD})).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
}

#[tokio::test]
async fn reporting_a_need_answers_201_with_the_routed_need_and_its_candidates() {
    let server = spawn_server(true, &[("quwo", "officer", Some("141021"))]).await;
    let token = server.login("quwo").await;
    let answer = server
        .post(
            "/api/v1/cases/1/needs",
            Some(&token),
            json!({"kind": "slitting", "title": "新到熔喷布需分切", "quantity": 10, "requires": {"input_width_m": 1.6, "output_width_m": 1.4}}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!((answer.body["scope"].as_str(), answer.body["owner"].as_str()), (Some("local"), Some("141021")));
    let first = &answer.body["candidates"][0];
    assert_eq!(first["provider"]["region"], "141021");
    assert!(first["feasible"].as_bool().unwrap());
}

#[tokio::test]
async fn bad_need_input_is_a_problem_and_writes_nothing() {
    let server = spawn_server(true, &[("quwo", "officer", Some("141021"))]).await;
    let token = server.login("quwo").await;
    let before = server.get("/api/v1/cases/1/events", Some(&token)).await.body["items"].as_array().unwrap().len();
    let answer = server.post("/api/v1/cases/1/needs", Some(&token), json!({"kind": "masks", "title": "x", "quantity": -1})).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    assert!(answer.body["detail"].as_str().unwrap().contains("expected one of"), "{}", answer.text);
    let malformed = server.post("/api/v1/cases/1/needs", Some(&token), json!({"title": 3})).await;
    assert_eq!(malformed.status, 400, "{}", malformed.text);
    let after = server.get("/api/v1/cases/1/events", Some(&token)).await.body["items"].as_array().unwrap().len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn an_officer_of_another_county_gets_404_for_the_case() {
    let server = spawn_server(true, &[("houma", "officer", Some("141081"))]).await;
    let token = server.login("houma").await;
    let answer = server.get("/api/v1/cases/1", Some(&token)).await;
    assert_eq!(answer.status, 404);
    assert_eq!(server.get("/api/v1/cases/999", Some(&token)).await.body["detail"].as_str().map(|d| d.replace("999", "1")), answer.body["detail"].as_str().map(str::to_string), "existence does not leak");
    assert_eq!(server.get("/api/v1/cases", Some(&token)).await.body["items"], json!([]));
}

#[tokio::test]
async fn the_csv_export_holds_exactly_the_filtered_needs() {
    let server = spawn_server(true, &[("linfen", "officer", Some("141000"))]).await;
    let token = server.login("linfen").await;
    let json_page = server.get("/api/v1/needs?kind=equipment&limit=1", Some(&token)).await;
    assert_eq!(json_page.body["total"], 2);
    assert_eq!(json_page.body["items"].as_array().unwrap().len(), 1);
    let csv = server.get("/api/v1/needs?kind=equipment&format=csv", Some(&token)).await;
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.text);
    assert!(lines[0].starts_with("id,case_id,kind"));
    assert!(lines[1..].iter().all(|l| l.contains(",equipment,")));
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let server = spawn_server(false, &[]).await;
    let response = server.client.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let server = spawn_server(false, &[]).await;
    let big = "x".repeat(bangfu_web::BODY_LIMIT_BYTES + 10);
    let answer = server.post("/api/v1/auth/token", None, json!({"username": big, "password": "p"})).await;
    assert_eq!(answer.status, 413);
}
