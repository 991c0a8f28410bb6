//! End to end over real HTTP: the server on port 0 with a fresh SQLite database.

use bangfu_app::App;
use serde_json::Value;

struct TestServer {
    base: String,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

async fn spawn_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&format!("sqlite://{}", dir.path().join("bangfu.db").display())).await.unwrap();
    let (listener, addr) = bangfu_web::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(bangfu_web::serve(listener, app, std::future::pending()));
    TestServer { base: format!("http://{addr}"), _dir: dir, client: reqwest::Client::new() }
}

impl TestServer {
    async fn get(&self, path: &str) -> (u16, String, Value) {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, content_type, body)
    }
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = spawn_server().await;
    let (status, _, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_region_is_read_by_code() {
    let server = spawn_server().await;
    let (status, _, body) = server.get("/api/v1/regions/141021").await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "曲沃县");
    assert_eq!(body["level"], "county");
    assert_eq!(body["parent"], "141000");
    assert!(body["lon"].as_f64().unwrap() > 111.0);
}

#[tokio::test]
async fn regions_are_found_by_traditional_name() {
    let server = spawn_server().await;
    let (status, _, body) = server.get("/api/v1/regions?q=%E8%87%A8%E6%B1%BE%E5%B8%82").await; // 臨汾市
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["code"], "141000");
}

#[tokio::test]
async fn an_unknown_region_is_a_problem_with_suggestions() {
    let server = spawn_server().await;
    let (status, content_type, body) = server.get("/api/v1/regions/141099").await;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["title"], "Not found");
    assert!(body["detail"].as_str().unwrap().contains("141029 乡宁县"), "{body}");
}

#[tokio::test]
async fn a_malformed_region_code_is_a_bad_request() {
    let server = spawn_server().await;
    let (status, _, body) = server.get("/api/v1/regions/14x").await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("six digits"), "{body}");
}
