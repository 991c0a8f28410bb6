//! End to end over real HTTP: the server on port 0 with a fresh database — every test runs as
//! `NAME::sqlite` and, when BANGFU_TEST_PG names a server, `NAME::postgres`.

use crate::support::{PASSWORD, Setup, serve, spawn_app};
use bangfu_app::App;
use serde_json::json;

bangfu_store::backend_tests! {
    async fn healthz_answers_ok(db) {
        let server = spawn_app(db, Setup::default()).await;
        assert_eq!(server.get("/healthz", None).await.status, 200);
    }

    async fn a_region_is_read_by_code(db) {
        let server = spawn_app(db, Setup::default()).await;
        let answer = server.get("/api/v1/regions/141021", None).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["name"], "曲沃县");
        assert_eq!(answer.body["level"], "county");
        assert_eq!(answer.body["parent"], "141000");
        assert!(answer.body["lon"].as_f64().unwrap() > 111.0);
    }

    async fn regions_are_found_by_traditional_name(db) {
        let server = spawn_app(db, Setup::default()).await;
        let answer = server.get("/api/v1/regions?q=%E8%87%A8%E6%B1%BE%E5%B8%82", None).await; // 臨汾市
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["items"][0]["code"], "141000");
    }

    async fn an_unknown_region_is_a_problem_with_suggestions(db) {
        let server = spawn_app(db, Setup::default()).await;
        let answer = server.get("/api/v1/regions/141099", None).await;
        assert_eq!(answer.status, 404);
        assert_eq!(answer.content_type, "application/problem+json");
        assert_eq!(answer.body["title"], "Not found");
        assert!(answer.body["detail"].as_str().unwrap().contains("141029 乡宁县"), "{}", answer.text);
    }

    async fn a_malformed_region_code_is_a_bad_request(db) {
        let server = spawn_app(db, Setup::default()).await;
        let answer = server.get("/api/v1/regions/14x", None).await;
        assert_eq!(answer.status, 400);
        assert!(answer.body["detail"].as_str().unwrap().contains("six digits"), "{}", answer.text);
    }

    async fn every_protected_route_answers_401_without_credentials(db) {
        let server = spawn_app(db, Setup::default()).await;
        for op in bangfu_web::openapi::OPERATIONS.iter().filter(|op| op.auth) {
            let path = op.path.replace("{id}", "1").replace("{kind}", "slitting");
            let method = reqwest::Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
            let answer = server.send(method, &path, None, Some(json!({}))).await;
            assert_eq!(answer.status, 401, "{} {path}: {}", op.method, answer.text);
            assert_eq!(answer.content_type, "application/problem+json");
        }
    }

    async fn every_route_in_the_openapi_table_is_served(db) {
        let server = spawn_app(db, Setup { users: &[("admin", "admin", None)], ..Setup::default() }).await;
        let token = server.token("admin").await;
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

    async fn a_token_is_issued_for_the_right_password_only(db) {
        let server = spawn_app(db, Setup { users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        let wrong = server.post("/api/v1/auth/token", None, json!({"username": "quwo", "password": "wrong password"})).await;
        assert_eq!(wrong.status, 401);
        let unknown = server.post("/api/v1/auth/token", None, json!({"username": "nobody", "password": "wrong password"})).await;
        assert_eq!((unknown.status, unknown.body["detail"].clone()), (401, wrong.body["detail"].clone()), "unknown users look like wrong passwords");
        let token = server.token("quwo").await;
        let me = server.get("/api/v1/me", Some(&token)).await;
        assert_eq!((me.body["role"].as_str(), me.body["department"].as_str()), (Some("officer"), Some("141021")));
        assert_eq!(server.get("/api/v1/me", Some("not-a-token")).await.status, 401);
        assert_eq!(server.post("/api/v1/auth/logout", Some(&token), json!({})).await.status, 200);
        assert_eq!(server.get("/api/v1/me", Some(&token)).await.status, 401, "a logged-out token is refused");
    }

    async fn repeated_wrong_passwords_are_rate_limited(db) {
        let server = spawn_app(db, Setup { users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        for _ in 0..5 {
            assert_eq!(server.post("/api/v1/auth/token", None, json!({"username": "quwo", "password": "guess guess"})).await.status, 401);
        }
        let limited = server.post("/api/v1/auth/token", None, json!({"username": "quwo", "password": PASSWORD})).await;
        assert_eq!(limited.status, 429, "{}", limited.text);
    }

    async fn reporting_a_need_answers_201_with_the_routed_need_and_its_candidates(db) {
        let server = spawn_app(db, Setup { demo: true, users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        let token = server.token("quwo").await;
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

    async fn bad_need_input_is_a_problem_and_writes_nothing(db) {
        let server = spawn_app(db, Setup { demo: true, users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        let token = server.token("quwo").await;
        let before = server.get("/api/v1/cases/1/events", Some(&token)).await.body["total"].as_i64().unwrap();
        let answer = server.post("/api/v1/cases/1/needs", Some(&token), json!({"kind": "masks", "title": "x", "quantity": -1})).await;
        assert_eq!(answer.status, 422, "{}", answer.text);
        assert!(answer.body["detail"].as_str().unwrap().contains("expected one of"), "{}", answer.text);
        let malformed = server.post("/api/v1/cases/1/needs", Some(&token), json!({"title": 3})).await;
        assert_eq!(malformed.status, 400, "{}", malformed.text);
        let after = server.get("/api/v1/cases/1/events", Some(&token)).await.body["total"].as_i64().unwrap();
        assert_eq!(before, after);
    }

    async fn the_case_answer_holds_its_newest_events_and_how_many_it_has(db) {
        let server = spawn_app(db, Setup { demo: true, users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        let token = server.token("quwo").await;
        let case = server.get("/api/v1/cases/1", Some(&token)).await;
        assert_eq!(case.status, 200, "{}", case.text);
        // The whole timeline, page by page.
        let mut all: Vec<serde_json::Value> = Vec::new();
        let mut path = "/api/v1/cases/1/events?limit=500".to_string();
        loop {
            let page = server.get(&path, Some(&token)).await;
            all.extend(page.body["items"].as_array().unwrap().iter().cloned());
            match page.body["next"].as_i64() {
                Some(next) => path = format!("/api/v1/cases/1/events?limit=500&after={next}"),
                None => break,
            }
        }
        let total = case.body["events_total"].as_u64().unwrap() as usize;
        assert_eq!(total, all.len());
        assert!(total > 50, "the reference case has more events than the answer holds: {total}");
        assert_eq!(case.body["events_url"], "/api/v1/cases/1/events");
        // The newest 50 in timeline order (by time, then sequence).
        all.sort_by_key(|e| (e["at"].as_str().unwrap().to_string(), e["seq"].as_i64().unwrap()));
        let shown = case.body["events"].as_array().unwrap();
        assert_eq!(shown.len(), 50);
        assert_eq!(shown[..], all[total - 50..]);
    }

    async fn an_officer_of_another_county_gets_404_for_the_case(db) {
        let server = spawn_app(db, Setup { demo: true, users: &[("houma", "officer", Some("141081"))], ..Setup::default() }).await;
        let token = server.token("houma").await;
        let answer = server.get("/api/v1/cases/1", Some(&token)).await;
        assert_eq!(answer.status, 404);
        assert_eq!(server.get("/api/v1/cases/999", Some(&token)).await.body["detail"].as_str().map(|d| d.replace("999", "1")), answer.body["detail"].as_str().map(str::to_string), "existence does not leak");
        assert_eq!(server.get("/api/v1/cases", Some(&token)).await.body["items"], json!([]));
    }

    async fn the_csv_export_holds_exactly_the_filtered_needs(db) {
        let server = spawn_app(db, Setup { demo: true, users: &[("linfen", "officer", Some("141000"))], ..Setup::default() }).await;
        let token = server.token("linfen").await;
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

    async fn responses_carry_security_headers(db) {
        let server = spawn_app(db, Setup::default()).await;
        let response = server.client.get(format!("{}/healthz", server.base)).send().await.unwrap();
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }

    async fn an_oversized_body_is_refused(db) {
        let server = spawn_app(db, Setup::default()).await;
        let big = "x".repeat(bangfu_web::BODY_LIMIT_BYTES + 10);
        let answer = server.post("/api/v1/auth/token", None, json!({"username": big, "password": "p"})).await;
        assert_eq!(answer.status, 413);
    }
}

bangfu_store::backend_tests! {
    /// Two servers on one database behave as one: a token issued by one is accepted by the
    /// other, a logout on one ends it on both, and need reports sent to both at once all land
    /// once each, in one unbroken audit chain. (On SQLite both servers are in one process.)
    async fn two_servers_on_one_database_are_one_system(db) {
        let url = db.url().to_string();
        let first = spawn_app(db, Setup { demo: true, users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        let second = serve(App::open(&url).await.unwrap(), None, bangfu_web::Settings::default()).await;
        let token = first.token("quwo").await;
        let me = second.get("/api/v1/me", Some(&token)).await;
        assert_eq!((me.status, me.body["username"].as_str()), (200, Some("quwo")), "{}", me.text);

        let before = first.get("/api/v1/cases/1/events", Some(&token)).await.body["total"].as_i64().unwrap();
        const PER_SERVER: usize = 12;
        let mut reports = Vec::new();
        for (s, server) in [&first, &second].into_iter().enumerate() {
            for i in 0..PER_SERVER {
                let (client, base, token) = (server.client.clone(), server.base.clone(), token.clone());
                reports.push(tokio::spawn(async move {
                    let body = json!({"kind": "labour", "title": format!("server {s} report {i}"), "quantity": 1, "requires": {"skill": "包装"}});
                    let response = client.post(format!("{base}/api/v1/cases/1/needs")).bearer_auth(token).json(&body).send().await.unwrap();
                    response.status().as_u16()
                }));
            }
        }
        for report in reports {
            assert_eq!(report.await.unwrap(), 201);
        }
        let needs = second.get("/api/v1/needs?kind=labour&limit=500", Some(&token)).await;
        let mut titles: Vec<String> = needs.body["items"].as_array().unwrap().iter().filter_map(|n| n["title"].as_str()).filter(|t| t.starts_with("server ")).map(str::to_string).collect();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), 2 * PER_SERVER, "every report once: {titles:?}");
        let after = first.get("/api/v1/cases/1/events", Some(&token)).await.body["total"].as_i64().unwrap();
        assert!(after >= before + 2 * PER_SERVER as i64, "{before} → {after}");
        let audit = App::open(&url).await.unwrap().verify_audit().await.unwrap();
        assert_eq!(audit.broken, None, "{audit:?}");

        assert_eq!(second.post("/api/v1/auth/logout", Some(&token), json!({})).await.status, 200);
        assert_eq!(first.get("/api/v1/me", Some(&token)).await.status, 401, "logged out everywhere");
    }
}

bangfu_store::backend_tests! {
    /// Issue 12: the province exercise is synthetic, and the dashboard says so in a banner for as
    /// long as it is in the database; without it, no banner.
    async fn the_dashboard_shows_a_banner_while_the_synthetic_exercise_is_loaded(db) {
        let url = db.url().to_string();
        let server = spawn_app(db, Setup { demo: true, users: &[("shanxi", "officer", Some("140000"))], ..Setup::default() }).await;
        let token = server.token("shanxi").await;
        let dashboard = || {
            let request = server.client.get(format!("{}/", server.base)).header("cookie", format!("bangfu_session={token}"));
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        assert!(!dashboard().await.contains("exercise-banner"));
        let app = App::open(&url).await.unwrap();
        bangfu_app::exercise::load(&app, bangfu_app::exercise::Size::fraction(0.002).unwrap(), &mut |_| {}).await.unwrap();
        let page = dashboard().await;
        assert!(page.contains("id=\"exercise-banner\"") && page.contains("演练数据（合成）"), "{page}");
        assert!(page.contains("【演练】"), "the exercise's cases are listed under their marked names");
    }
}

/// The `data:` values of the `unread` events in `text`, in order.
fn unread_events(text: &str) -> Vec<i64> {
    text.split("\n\n").filter(|e| e.contains("event: unread")).filter_map(|e| e.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| d.trim().parse().ok())).collect()
}

/// Reads the event stream until it has sent `count` unread events; returns them.
async fn read_unread(response: &mut reqwest::Response, text: &mut String, count: usize) -> Vec<i64> {
    loop {
        let events = unread_events(text);
        if events.len() >= count {
            return events;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(15), response.chunk()).await.expect("an event within 15 s").unwrap().expect("the stream is open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

bangfu_store::backend_tests! {
    /// Issue 13 item 4: the unread count reaches an open page without a reload, by server-sent
    /// events — on PostgreSQL from another server than the one that wrote (LISTEN/NOTIFY); on
    /// SQLite, whose database one server process serves, from the same one.
    async fn the_unread_count_streams_to_an_open_page_from_any_server(db) {
        let url = db.url().to_string();
        let postgres = url.starts_with("postgres");
        let first = spawn_app(db, Setup { demo: true, users: &[("quwo", "officer", Some("141021"))], ..Setup::default() }).await;
        let second = if postgres { Some(serve(App::open(&url).await.unwrap(), None, bangfu_web::Settings::default()).await) } else { None };
        let watcher = second.as_ref().unwrap_or(&first);
        let token = first.token("quwo").await;
        let mut stream = watcher.client.get(format!("{}/notifications/stream", watcher.base)).header("cookie", format!("bangfu_session={token}")).send().await.unwrap();
        assert_eq!(stream.status(), 200);
        assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let mut text = String::new();
        let first_count = read_unread(&mut stream, &mut text, 1).await[0];
        let body = json!({"kind": "labour", "title": "实时通知测试", "quantity": 1, "requires": {"skill": "包装"}, "source": false});
        assert_eq!(first.post("/api/v1/cases/1/needs", Some(&token), body).await.status, 201);
        let counts = read_unread(&mut stream, &mut text, 2).await;
        assert_eq!(counts[1], first_count + 1, "the new need's notification, heard by the other server");
        // Read on the page: the count there says so too.
        let page = first.client.get(format!("{}/notifications", first.base)).header("cookie", format!("bangfu_session={token}")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("实时通知测试") && page.contains(&format!("data-count=\"{}\"", first_count + 1)), "the header's count");
    }
}
