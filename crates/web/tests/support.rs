#![allow(clippy::unwrap_used)] // test helpers: a failed step stops the test where it failed

//! What the web tests share: one [`spawn_app`] — the server on port 0 with a fresh database of
//! either backend (a [`TestDb`]), what the test wants in it first (the reference case, the demo
//! accounts, users of its own) and how it is deployed — and its typed client ([`TestApp`]:
//! requests with or without a bearer token, answers with their status, type, headers and JSON,
//! logging in).

use bangfu_app::accounts::NewUser;
use bangfu_app::{Actor, App};
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The password of the users a test adds ([`Setup::users`]).
pub const PASSWORD: &str = "correct horse battery";

/// What is in the database when the server starts, and how it is deployed.
#[derive(Default)]
pub struct Setup<'a> {
    /// The reference case (Quwo, 2020): case 1.
    pub demo: bool,
    /// The demo accounts, one per role and tier (`bangfu_app::demo_accounts`, `DEMO_PASSWORD`).
    pub demo_accounts: bool,
    /// Users of the test's own: (username, role, department), with [`PASSWORD`].
    pub users: &'a [(&'a str, &'a str, Option<&'a str>)],
    /// A client that follows no redirect, so that each one can be seen.
    pub no_redirects: bool,
    pub settings: bangfu_web::Settings,
}

/// A server of the tests and its client. A test file with request helpers of its own wraps it
/// (`struct Server(TestApp)` with [`std::ops::Deref`]).
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's own `App`, for what a test sets up or checks through the use cases.
    pub app: App,
    pub client: reqwest::Client,
    /// The database, dropped (removed) with the server that created it.
    _db: Option<TestDb>,
}

/// The server on port 0 over `db`, with what `setup` asks loaded first.
pub async fn spawn_app(db: TestDb, setup: Setup<'_>) -> TestApp {
    let app = App::open(db.url()).await.unwrap();
    let admin = Actor::system("test");
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    if setup.demo {
        bangfu_app::demo::load(&app, &admin).await.unwrap();
    }
    if setup.demo_accounts {
        bangfu_app::demo_accounts::load_accounts(&app, &admin, now).await.unwrap();
    }
    for (username, role, department) in setup.users {
        let user = NewUser { username: username.to_string(), role: role.to_string(), department: department.map(str::to_string), password: PASSWORD.into(), ..NewUser::default() };
        app.add_user(&admin, now, user).await.unwrap();
    }
    let mut server = serve(app, Some(db), setup.settings).await;
    if setup.no_redirects {
        server.client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    }
    server
}

/// Serves `app` on a free port; a second server on the same database passes `None` for `db`.
pub async fn serve(app: App, db: Option<TestDb>, settings: bangfu_web::Settings) -> TestApp {
    let (listener, addr) = bangfu_web::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(bangfu_web::serve_with(listener, app.clone(), settings, std::future::pending()));
    TestApp { base: format!("http://{addr}"), app, client: reqwest::Client::new(), _db: db }
}

/// An answer: its status, content type, headers, text and the text as JSON (`Null` if it is not).
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// Asserts a problem+json of `status` whose detail contains `says`.
    pub fn problem(&self, status: u16, says: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/problem+json", "{}", self.text);
        let detail = self.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{says:?} not in {detail:?}");
    }
}

impl TestApp {
    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to `path`, for what the helpers below do not cover.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends `request` and reads its answer whole.
    pub async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, content_type, headers, body, text }
    }

    /// `method path` with a bearer `token` if given and a JSON `body` if given.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.answer(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// `method path` with a bearer `token` and a JSON `body` if given: the status and the JSON
    /// (the text as a JSON string when it is not JSON).
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let answer = self.send(method, path, Some(token), body).await;
        let body = if answer.body.is_null() && !answer.text.is_empty() { Value::String(answer.text) } else { answer.body };
        (answer.status, body)
    }

    /// A bearer token of `username` with `password`.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let answer = self.post("/api/v1/auth/token", None, json!({"username": username, "password": password})).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body["token"].as_str().unwrap().to_string()
    }

    /// A bearer token of a user the test added ([`PASSWORD`]).
    pub async fn token(&self, username: &str) -> String {
        self.login(username, PASSWORD).await
    }
}
