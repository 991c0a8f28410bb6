//! The holes found by probing `bangfu serve --demo` as an attacker would (issue 17), one test per
//! finding, named after it (`f4_…`), each over real HTTP against the server on port 0 with the
//! reference case and its demo accounts — as `NAME::sqlite` and, when BANGFU_TEST_PG names a
//! server, `NAME::postgres`. F4 and F5 are also tried in Chromium (`tests/browser.rs`).

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it where it failed

use crate::support::{Setup, TestApp, spawn_app};
use bangfu_app::accounts::NewUser;
use bangfu_app::demo_accounts::DEMO_PASSWORD;
use bangfu_app::{Actor, App};
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The served reference case (its `app` shares the server's counters); its client follows no
/// redirect, so that each one can be seen.
struct Server(TestApp);

impl std::ops::Deref for Server {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn is_problem(&self) -> bool {
        self.header("content-type") == "application/problem+json" && self.body["status"] == self.status
    }
}

/// The reference case with its demo accounts (quwo, linfen, shanxi, houma, leader, enterprise,
/// wanrong, admin; password `bangfu-demo`), served on a free port.
async fn spawn(db: TestDb) -> Server {
    Server(spawn_app(db, Setup { demo: true, demo_accounts: true, no_redirects: true, ..Setup::default() }).await)
}

impl Server {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.request(Method::GET, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.answer(request).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.answer(self.request(Method::POST, path).bearer_auth(token).json(&body)).await
    }

    async fn token(&self, username: &str) -> String {
        let answer = self.answer(self.request(Method::POST, "/api/v1/auth/token").json(&json!({"username": username, "password": DEMO_PASSWORD}))).await;
        assert_eq!(answer.status, 200, "{username}: {}", answer.text);
        answer.body["token"].as_str().unwrap().to_string()
    }

    /// Logs in through the login form as a browser does; the session cookie's value.
    async fn page_session(&self, username: &str) -> String {
        let form = self.get("/login", None).await;
        let (csrf, cookie) = login_csrf(&form);
        let response = self
            .answer(self.request(Method::POST, "/login").header("cookie", cookie).form(&[("username", username), ("password", DEMO_PASSWORD), ("csrf", &csrf), ("next", "/")]))
            .await;
        assert_eq!(response.status, 303, "{}", response.text);
        cookie_value(&response, "bangfu_session").expect("a session cookie")
    }

    /// A fresh open need on the reference case, reported by the 曲沃县 officer.
    async fn open_need(&self, title: &str) -> i64 {
        let token = self.token("quwo").await;
        let answer = self
            .post("/api/v1/cases/1/needs", &token, json!({"kind": "labour", "title": title, "quantity": 1, "requires": {"skill": "包装"}, "source": false}))
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["id"].as_i64().unwrap()
    }

    /// An officer account of `department` (password `bangfu-demo`), for departments the demo has
    /// none of.
    async fn officer(&self, username: &str, department: &str) -> String {
        let user = NewUser { username: username.into(), role: "officer".into(), department: Some(department.into()), password: DEMO_PASSWORD.into(), ..NewUser::default() };
        self.app.add_user(&Actor::system("test"), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), user).await.unwrap();
        self.token(username).await
    }

    async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.answer(self.request(Method::PUT, path).bearer_auth(token).json(&body)).await
    }

    /// Reports a need on the reference case as `token`'s officer (sourced at once when its kind
    /// is in the registry); the need as answered.
    async fn report(&self, token: &str, need: Value) -> Value {
        let answer = self.post("/api/v1/cases/1/needs", token, need).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body
    }

    async fn need_status(&self, need: i64) -> String {
        let token = self.token("quwo").await;
        self.get(&format!("/api/v1/needs/{need}"), Some(&token)).await.body["status"].as_str().unwrap().to_string()
    }
}

/// The login form's CSRF token and the cookie that carries it.
fn login_csrf(form: &Answer) -> (String, String) {
    let at = form.text.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    let csrf = form.text[at..].split('"').next().unwrap().to_string();
    let cookie = format!("bangfu_login_csrf={}", cookie_value(form, "bangfu_login_csrf").unwrap());
    (csrf, cookie)
}

fn cookie_value(answer: &Answer, name: &str) -> Option<String> {
    answer.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        let (pair, _) = c.split_once(';').unwrap_or((c, ""));
        pair.strip_prefix(&format!("{name}=")).filter(|v| !v.is_empty()).map(str::to_string)
    })
}

/// The problem's detail with every number taken out, to compare two answers' bodies.
fn shape(answer: &Answer) -> (u16, String) {
    (answer.status, answer.body["detail"].as_str().unwrap_or_default().chars().filter(|c| !c.is_ascii_digit()).collect())
}

bangfu_store::backend_tests! {
    /// F1: `POST /api/v1/cases {"enterprise_id":1}` by the 侯马 officer answered 409 "山西健康动力
    /// 科技有限公司 already has case 1": walking ids listed every enterprise with a case.
    async fn f1_opening_a_case_on_an_enterprise_out_of_sight_is_not_found_like_a_missing_id(db) {
        let server = spawn(db).await;
        let houma = server.token("houma").await;
        let existing = server.post("/api/v1/cases", &houma, json!({"enterprise_id": 1})).await;
        let missing = server.post("/api/v1/cases", &houma, json!({"enterprise_id": 999})).await;
        assert_eq!(existing.status, 404, "{}", existing.text);
        assert!(existing.is_problem());
        assert_eq!(shape(&existing), shape(&missing), "the same body as a missing id: {} / {}", existing.text, missing.text);
        assert!(!existing.text.contains("山西健康动力") && !existing.text.contains("case"), "{}", existing.text);
        // Whoever may see the enterprise still hears of the conflict.
        let quwo = server.token("quwo").await;
        let conflict = server.post("/api/v1/cases", &quwo, json!({"enterprise_id": 1})).await;
        assert_eq!(conflict.status, 409, "{}", conflict.text);
    }

    /// F2: an officer of 141081 (or of 410000) registered an enterprise in 141021 and opened a
    /// case on it; any officer anywhere edited any provider's capabilities and registered
    /// providers anywhere.
    async fn f2_officers_register_and_edit_only_inside_their_jurisdiction(db) {
        let server = spawn(db).await;
        let (houma, quwo, shanxi) = (server.token("houma").await, server.token("quwo").await, server.token("shanxi").await);
        let henan = server.officer("henan", "410000").await;
        let enterprise = |n: u32, region: &str| {
            let first17 = format!("91141021MA0KQ9{n:03}");
            let check = bangfu_core::credit_code::check_character(&first17).unwrap();
            json!({"name": format!("F2 企业 {n}"), "credit_code": format!("{first17}{check}"), "region": region})
        };
        for (token, n) in [(&houma, 1), (&henan, 2)] {
            let answer = server.post("/api/v1/enterprises", token, enterprise(n, "141021")).await;
            assert_eq!(answer.status, 403, "{}", answer.text);
            assert!(answer.body["detail"].as_str().unwrap().contains("outside your jurisdiction"), "{}", answer.text);
        }
        let own = server.post("/api/v1/enterprises", &quwo, enterprise(3, "141021")).await;
        assert_eq!(own.status, 201, "{}", own.text);
        let id = own.body["id"].as_i64().unwrap();
        assert_eq!(server.post("/api/v1/cases", &houma, json!({"enterprise_id": id})).await.status, 404, "侯马 does not see it");
        assert_eq!(server.post("/api/v1/cases", &henan, json!({"enterprise_id": id})).await.status, 404);
        assert_eq!(server.post("/api/v1/cases", &quwo, json!({"enterprise_id": id})).await.status, 201);

        // Providers: registered inside the jurisdiction only, edited by those who hold them.
        let provider = |key: &str, region: &str| json!({"key": key, "name": format!("F2 {key}"), "region": region});
        assert_eq!(server.post("/api/v1/providers", &henan, provider("henan-in-shanxi", "140822")).await.status, 403);
        assert_eq!(server.post("/api/v1/providers", &houma, provider("houma-in-quwo", "141021")).await.status, 403);
        assert_eq!(server.post("/api/v1/providers", &henan, provider("henan-own", "410102")).await.status, 201);
        let sterilisation = json!({"attrs": {"method": "co60", "turnaround_h": 1, "capacity_per_day": 9999999}});
        let edit = server.put("/api/v1/providers/2/capabilities/sterilisation", &henan, sterilisation.clone()).await;
        assert_eq!(edit.status, 403, "河南省 may not edit a provider of 大同: {}", edit.text);
        assert_eq!(server.put("/api/v1/providers/2/capabilities/sterilisation", &houma, sterilisation.clone()).await.status, 403);
        assert_eq!(server.put("/api/v1/providers/2/capabilities/sterilisation", &shanxi, sterilisation.clone()).await.status, 200, "山西省 holds 大同");
        let wanrong = server.token("wanrong").await;
        assert_eq!(server.put("/api/v1/providers/2/capabilities/sterilisation", &wanrong, sterilisation.clone()).await.status, 404, "another provider is out of a provider's sight");
        assert_eq!(server.put("/api/v1/providers/1/capabilities/sterilisation", &wanrong, sterilisation).await.status, 200, "its own");
    }

    /// F3: a duplicate credit code answered 409 naming the conflict, to an officer who may not
    /// see that enterprise.
    async fn f3_a_duplicate_credit_code_out_of_sight_names_nothing(db) {
        let server = spawn(db).await;
        let duplicate = json!({"name": "另一家", "credit_code": bangfu_app::demo::CREDIT_CODE, "region": "141081"});
        let houma = server.token("houma").await;
        let answer = server.post("/api/v1/enterprises", &houma, duplicate.clone()).await;
        assert_eq!(answer.status, 404, "{}", answer.text);
        assert!(answer.is_problem());
        for told in ["山西健康动力", "曲沃", "case", "enterprise 1"] {
            assert!(!answer.text.contains(told), "{told} told in {}", answer.text);
        }
        // The 临汾市 officer sees the enterprise: the conflict names it.
        let linfen = server.token("linfen").await;
        let answer = server.post("/api/v1/enterprises", &linfen, json!({"name": "另一家", "credit_code": bangfu_app::demo::CREDIT_CODE, "region": "141000"})).await;
        assert_eq!(answer.status, 409, "{}", answer.text);
        assert!(answer.text.contains("山西健康动力"), "{}", answer.text);
    }

    /// F10: a provider user read every competing candidate on a need addressed to it (names,
    /// places, notes, lead times, reasons), though `GET /api/v1/providers/2` answered it 404.
    async fn f10_a_provider_sees_only_its_own_candidacy(db) {
        let server = spawn(db).await;
        let officer = server.token("linfen").await;
        let needs = server.get("/api/v1/needs?kind=sterilisation", Some(&officer)).await;
        let need = needs.body["items"][0]["id"].as_i64().unwrap();
        let full = server.get(&format!("/api/v1/needs/{need}"), Some(&officer)).await;
        assert!(full.body["candidates"].as_array().unwrap().len() >= 2, "the officer sees the competition: {}", full.text);
        let wanrong = server.token("wanrong").await;
        let own = server.get(&format!("/api/v1/needs/{need}"), Some(&wanrong)).await;
        assert_eq!(own.status, 200, "{}", own.text);
        let candidates = own.body["candidates"].as_array().unwrap();
        assert_eq!(candidates.len(), 1, "{}", own.text);
        assert_eq!(candidates[0]["provider"]["id"], 1);
        assert!(own.body["letters"].as_array().unwrap().is_empty() && own.body["screening"].is_null(), "{}", own.text);
        for competitor in full.body["candidates"].as_array().unwrap().iter().filter(|c| c["provider"]["id"] != 1) {
            let name = competitor["provider"]["name"].as_str().unwrap();
            assert!(!own.text.contains(name), "{name} is told to the provider");
        }
        assert_eq!(server.get("/api/v1/providers/2", Some(&wanrong)).await.status, 404);
        // The page says no more than the API.
        let cookie = format!("bangfu_session={}", server.page_session("wanrong").await);
        let page = server.answer(server.request(Method::GET, &format!("/needs/{need}")).header("cookie", &cookie)).await;
        assert_eq!(page.status, 200);
        for competitor in full.body["candidates"].as_array().unwrap().iter().filter(|c| c["provider"]["id"] != 1) {
            assert!(!page.text.contains(competitor["provider"]["name"].as_str().unwrap()));
        }
    }

    /// F14: the 曲沃县 officer selected the provider of a province-owned need and sent and
    /// acknowledged the province's letter; it escalated a city-owned need. Decisions are the
    /// owner's and the tiers above's; others see, propose and screen.
    async fn f14_decisions_on_a_need_belong_to_its_owner_and_the_tiers_above(db) {
        let server = spawn(db).await;
        let (quwo, linfen, shanxi) = (server.token("quwo").await, server.token("linfen").await, server.token("shanxi").await);
        // Sterilisation found at 万荣 (运城市): the province owns it.
        let need = server
            .report(&quwo, json!({"kind": "sterilisation", "title": "F14 灭菌", "quantity": 1000, "requires": {}, "max_distance_km": 400}))
            .await;
        assert_eq!(need["owner"], "140000", "{need}");
        let id = need["id"].as_i64().unwrap();
        let candidate = need["candidates"].as_array().unwrap().iter().find(|c| c["feasible"] == true).unwrap()["id"].as_i64().unwrap();
        for (path, body) in [
            ("select", json!({"candidate_id": candidate})),
            ("start", json!({})),
            ("resolve", json!({})),
            ("cancel", json!({})),
            ("escalate", json!({"reason": "试试"})),
            ("broadcast", json!({"ring": "province"})),
        ] {
            let answer = server.post(&format!("/api/v1/needs/{id}/{path}"), &quwo, body).await;
            assert_eq!(answer.status, 403, "{path} by 曲沃县: {}", answer.text);
            assert!(answer.body["detail"].as_str().unwrap().contains("owned by"), "{}", answer.text);
        }
        // 曲沃县 still sees it, screens it and puts providers forward.
        assert_eq!(server.get(&format!("/api/v1/needs/{id}"), Some(&quwo)).await.status, 200);
        assert_eq!(server.post(&format!("/api/v1/needs/{id}/route"), &quwo, json!({})).await.status, 200);
        assert_eq!(server.post(&format!("/api/v1/needs/{id}/candidates"), &quwo, json!({"provider_id": 2})).await.status, 200);
        let leader = server.token("leader").await;
        assert_eq!(server.post(&format!("/api/v1/needs/{id}/candidates"), &leader, json!({"provider_id": 2})).await.status, 403, "a viewer only reads");
        // The need page offers 曲沃县 what it may do, and no more.
        let cookie = format!("bangfu_session={}", server.page_session("quwo").await);
        let page = server.answer(server.request(Method::GET, &format!("/needs/{id}")).header("cookie", &cookie)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("id=\"not-owner\"") && page.text.contains("action=\"/needs/{id}/source\"".replace("{id}", &id.to_string()).as_str()), "{}", page.text);
        for decision in ["select", "start", "resolve", "cancel", "escalate", "broadcast"] {
            assert!(!page.text.contains(&format!("action=\"/needs/{id}/{decision}\"")), "{decision} offered to 曲沃县");
        }
        // Screening again recorded the candidates anew: the province picks from what is there now.
        let now = server.get(&format!("/api/v1/needs/{id}"), Some(&shanxi)).await;
        let candidate = now.body["candidates"].as_array().unwrap().iter().find(|c| c["feasible"] == true).unwrap()["id"].as_i64().unwrap();
        let selected = server.post(&format!("/api/v1/needs/{id}/select"), &shanxi, json!({"candidate_id": candidate})).await;
        assert_eq!(selected.status, 200, "{}", selected.text);

        // A city-owned need: 曲沃县 may not escalate it; 临汾市 may.
        let workers = server.report(&quwo, json!({"kind": "labour", "title": "F14 调试工人", "quantity": 3, "requires": {"skill": "口罩机调试"}})).await;
        assert_eq!(workers["owner"], "141000", "{workers}");
        let path = format!("/api/v1/needs/{}/escalate", workers["id"]);
        assert_eq!(server.post(&path, &quwo, json!({"reason": "县里协调不了"})).await.status, 403);
        assert_eq!(server.post(&path, &linfen, json!({"reason": "跨市协调"})).await.status, 200);

        // A national need's letter: sent by its sender (山西省), acknowledged by an addressee.
        let lines = server
            .report(&quwo, json!({"kind": "equipment", "title": "F14 生产线", "quantity": 1, "requires": {"item": "口罩生产线"}, "solution_region": "441900", "source": false}))
            .await;
        let letter = lines["letters"][0]["id"].as_i64().expect("a letter drafted for the national need");
        assert_eq!(lines["letters"][0]["sender"], "140000");
        let guangdong = server.officer("guangdong", "440000").await;
        let send = format!("/api/v1/letters/{letter}/send");
        let acknowledge = format!("/api/v1/letters/{letter}/acknowledge");
        assert_eq!(server.post(&send, &quwo, json!({})).await.status, 403, "曲沃县 does not send the province's letter");
        assert_eq!(server.post(&send, &guangdong, json!({})).await.status, 404, "a draft is not the addressee's to see");
        assert_eq!(server.post(&send, &shanxi, json!({})).await.status, 200);
        assert_eq!(server.post(&acknowledge, &quwo, json!({})).await.status, 403);
        assert_eq!(server.post(&acknowledge, &shanxi, json!({})).await.status, 403, "the sender does not acknowledge its own letter");
        assert_eq!(server.get(&format!("/api/v1/letters/{letter}"), Some(&guangdong)).await.status, 200, "the addressee reads the sent letter");
        assert_eq!(server.post(&acknowledge, &guangdong, json!({})).await.status, 200);

        // An approval of the city's green channel is decided by the city, not the county.
        let approval = server.post("/api/v1/cases/1/approvals", &quwo, json!({"department": "141000", "agency": "市场监管", "item": "F14 备案"})).await;
        assert_eq!(approval.status, 201, "{}", approval.text);
        let decide = format!("/api/v1/approvals/{}/decision", approval.body["id"]);
        assert_eq!(server.post(&decide, &quwo, json!({"status": "approved"})).await.status, 403);
        assert_eq!(server.post(&decide, &linfen, json!({"status": "approved"})).await.status, 200);
        assert_eq!(server.post(&decide, &server.token("houma").await, json!({"status": "approved"})).await.status, 404);
    }

    /// F11: no length limits (a 1 MB need title was accepted; a 15 MB provider name imported
    /// from the CLI made a need page 47 MB), and the importer accepted NaN and infinite
    /// coordinates.
    async fn f11_every_text_field_has_a_length_limit_and_coordinates_are_finite(db) {
        let server = spawn(db).await;
        let (quwo, admin) = (server.token("quwo").await, server.token("admin").await);
        let before = server.get("/api/v1/cases/1/events", Some(&quwo)).await.body["total"].as_i64().unwrap();
        let long = |n: usize| "长".repeat(n);
        let refusals = [
            ("/api/v1/cases/1/needs", json!({"kind": "labour", "title": long(201), "quantity": 1, "requires": {"skill": "包装"}}), "title"),
            ("/api/v1/cases/1/needs", json!({"kind": "labour", "title": "规格太长", "specification": long(4001), "quantity": 1, "requires": {"skill": "包装"}}), "specification"),
            ("/api/v1/cases/1/needs", json!({"kind": "labour", "title": "要求太长", "quantity": 1, "requires": {"skill": long(9000)}}), "requires"),
            ("/api/v1/cases/1/needs", json!({"kind": "labour", "title": "单位太长", "unit": long(101), "quantity": 1, "requires": {"skill": "包装"}}), "unit"),
            ("/api/v1/providers", json!({"key": "f11", "name": long(201), "region": "141021"}), "name"),
            ("/api/v1/providers", json!({"key": long(101), "name": "F11", "region": "141021"}), "key"),
            ("/api/v1/enterprises", json!({"name": "F11", "credit_code": "91141021MA0KQ20203", "region": "141021", "note": long(4001)}), "note"),
            ("/api/v1/cases/1/approvals", json!({"department": "141021", "agency": long(201), "item": "备案"}), "agency"),
            ("/api/v1/cases/1/shipments", json!({"goods": "口罩", "origin": "141021", "destination": "140822", "traffic_pass": long(201)}), "traffic_pass"),
            ("/api/v1/cases/1/returns", json!({"day": "2020-02-14", "product": "医用外科口罩", "capacity_per_day": 1, "output": 1, "stock": 1, "note": long(4001)}), "note"),
            ("/api/v1/cases/1/team", json!({"title": long(201), "department": "141021", "role": "task_force"}), "title"),
            ("/api/v1/cases/1/needs", json!({"kind": "labour", "title": "地区太长", "quantity": 1, "solution_region": long(101), "requires": {"skill": "包装"}}), "solution_region"),
        ];
        for (path, body, field) in refusals {
            let answer = server.post(path, &admin, body).await;
            assert_eq!(answer.status, 422, "{path} {field}: {}", answer.text);
            let detail = answer.body["detail"].as_str().unwrap();
            assert!(detail.starts_with(field) && detail.contains("at most"), "{path}: {detail}");
        }
        let capability = server.put("/api/v1/providers/5/capabilities/labour", &admin, json!({"attrs": {"skill": long(4001), "headcount": 1, "lead_time_h": 1}})).await;
        assert_eq!(capability.status, 422, "{}", capability.text);
        let need = server.open_need("F11 备注").await;
        let note = server.post(&format!("/api/v1/needs/{need}/resolve"), &admin, json!({"note": long(4001)})).await;
        assert_eq!(note.status, 422, "{}", note.text);
        assert_eq!(server.need_status(need).await, "open");
        let escalate = server.post(&format!("/api/v1/needs/{need}/escalate"), &admin, json!({"reason": long(4001)})).await;
        assert_eq!(escalate.status, 422, "{}", escalate.text);
        // Exactly at the limit is accepted.
        let at_limit = server.post("/api/v1/cases/1/needs", &quwo, json!({"kind": "labour", "title": long(200), "quantity": 1, "requires": {"skill": "包装"}, "source": false})).await;
        assert_eq!(at_limit.status, 201, "{}", at_limit.text);
        let after = server.get("/api/v1/cases/1/events", Some(&quwo)).await.body["total"].as_i64().unwrap();
        assert_eq!(after, before + 2, "only the need opened for the test and the one at the limit were written");

        // The importer (the registry import page): NaN, inf and a name too long, each line named.
        let cookie = format!("bangfu_session={}", server.page_session("quwo").await);
        let form = server.answer(server.request(Method::GET, "/registry/import").header("cookie", &cookie)).await;
        let at = form.text.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        let csrf = form.text[at..].split('"').next().unwrap().to_string();
        let attrs = "\"{\"\"skill\"\": \"\"包装\"\", \"\"headcount\"\": 1, \"\"lead_time_h\"\": 1}\"";
        let file = format!(
            "id,name,region,lon,lat,kind,available,attrs\nf11:a,甲,141021,NaN,35.6,labour,true,{attrs}\nf11:b,乙,141021,111.5,inf,labour,true,{attrs}\nf11:c,{},141021,,,labour,true,{attrs}\nf11:d,丁,141021,1e999,35.6,labour,true,{attrs}\n",
            long(201)
        );
        let boundary = "f11-boundary-7f3a";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f11.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
        );
        let request = server.request(Method::POST, "/registry/import").header("cookie", &cookie).header("content-type", format!("multipart/form-data; boundary={boundary}"));
        let refused = server.answer(request.body(body)).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        for line in ["line 2: lon", "line 3: lat", "line 4: name", "line 5: lon"] {
            assert!(refused.text.contains(line), "{line} not named: {}", refused.text);
        }
        let registry = server.get("/api/v1/providers?kind=labour", Some(&quwo)).await;
        assert!(!registry.text.contains("f11:"), "nothing was imported");
    }

    /// F12: need titles accepted ESC and NUL (and `bangfu case show` printed them raw: see the CLI
    /// tests). Control characters but newline and tab are refused in every text field.
    async fn f12_text_with_control_characters_is_refused(db) {
        let server = spawn(db).await;
        let enterprise = server.token("enterprise").await;
        for (title, code) in [("标题\u{1b}[2J", "U+001B"), ("标题\u{0}", "U+0000"), ("标\u{7}题", "U+0007"), ("标\u{85}题", "U+0085"), ("标\u{7f}题", "U+007F")] {
            let answer = server.post("/api/v1/cases/1/needs", &enterprise, json!({"kind": "labour", "title": title, "quantity": 1, "requires": {"skill": "包装"}})).await;
            assert_eq!(answer.status, 422, "{title:?}: {}", answer.text);
            assert!(answer.body["detail"].as_str().unwrap().contains(code), "{}", answer.text);
        }
        let nested = server.post("/api/v1/cases/1/needs", &enterprise, json!({"kind": "labour", "title": "要求里的控制字符", "quantity": 1, "requires": {"skill": "包\u{1b}装"}})).await;
        assert_eq!(nested.status, 422, "{}", nested.text);
        // Newlines and tabs are text; a pasted CRLF is kept as a newline.
        let fine = server
            .post("/api/v1/cases/1/needs", &enterprise, json!({"kind": "labour", "title": "换行\t与制表", "specification": "第一行\r\n第二行", "quantity": 1, "requires": {"skill": "包装"}}))
            .await;
        assert_eq!(fine.status, 201, "{}", fine.text);
        assert_eq!(fine.body["specification"], "第一行\n第二行");
        // The need form of the pages goes through the same check.
        let cookie = format!("bangfu_session={}", server.page_session("enterprise").await);
        let page = server.answer(server.request(Method::GET, "/cases/1/enterprise").header("cookie", &cookie)).await;
        let at = page.text.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        let csrf = page.text[at..].split('"').next().unwrap().to_string();
        let form = [("csrf", csrf.as_str()), ("kind", "labour"), ("title", "表单\u{1b}标题"), ("quantity", "1"), ("skill", "包装")];
        let answer = server.answer(server.request(Method::POST, "/cases/1/needs").header("cookie", &cookie).form(&form)).await;
        assert_eq!(answer.status, 422, "{}", answer.text);
        assert!(answer.text.contains("U+001B"), "the message stands on the page");
        let needs = server.get("/api/v1/needs?kind=labour&limit=500", Some(&server.token("quwo").await)).await;
        assert!(!needs.text.contains("\\u001b") && !needs.text.contains("\\u0000"), "no control character was stored");
    }

    /// F4: a page of another site auto-submitted `<form enctype=text/plain>` to
    /// `/api/v1/needs/N/cancel` and the browser's session cookie cancelled the need.
    async fn f4_the_api_takes_bearer_tokens_and_json_bodies_only(db) {
        let server = spawn(db).await;
        let need = server.open_need("F4 跨站取消的目标").await;
        let cookie = format!("bangfu_session={}", server.page_session("quwo").await);
        let cancel = format!("/api/v1/needs/{need}/cancel");

        // What a cross-site form sends, with the cookie the browser adds: refused, nothing changes.
        for (content_type, body) in [("text/plain", "a=b"), ("text/plain", ""), ("application/x-www-form-urlencoded", "note=x"), ("multipart/form-data; boundary=b", "--b--\r\n")] {
            let answer = server.answer(server.request(Method::POST, &cancel).header("cookie", &cookie).header("content-type", content_type).body(body)).await;
            assert!(matches!(answer.status, 401 | 415) && answer.is_problem(), "{content_type}: {} {}", answer.status, answer.text);
        }
        // The cookie alone, even with a JSON body, is not a credential of the API.
        let answer = server.answer(server.request(Method::POST, &cancel).header("cookie", &cookie).json(&json!({}))).await;
        assert_eq!(answer.status, 401, "{}", answer.text);
        assert!(answer.body["detail"].as_str().unwrap().contains("bearer"), "{}", answer.text);
        assert_eq!(server.answer(server.request(Method::GET, "/api/v1/me").header("cookie", &cookie)).await.status, 401);
        assert_eq!(server.need_status(need).await, "open", "nothing was cancelled");

        // A bearer token with a body a form can send: 415, still nothing.
        let token = server.token("quwo").await;
        for (content_type, body) in [("text/plain", "{}"), ("application/x-www-form-urlencoded", "note=x")] {
            let answer = server.answer(server.request(Method::POST, &cancel).bearer_auth(&token).header("content-type", content_type).body(body)).await;
            assert_eq!(answer.status, 415, "{content_type}: {}", answer.text);
            assert!(answer.is_problem(), "{}", answer.text);
        }
        assert_eq!(server.need_status(need).await, "open");

        // The API as it is meant to be used: a bearer token, and JSON or no body.
        let answer = server.answer(server.request(Method::POST, &cancel).bearer_auth(&token)).await;
        assert_eq!((answer.status, answer.body["status"].as_str()), (200, Some("cancelled")), "{}", answer.text);
    }

    /// F5: `/lang/en?back=/%09/evil.example` answered `Location: /\t/evil.example`, which
    /// browsers follow to `//evil.example`; `/login?next=` did the same.
    async fn f5_redirects_go_to_local_paths_only(db) {
        let server = spawn(db).await;
        let evil = ["/%09/evil.example", "/%09%5Cevil.example", "/%5Cevil.example", "/%5C/evil.example", "//evil.example", "https://evil.example/", "/%20/evil.example"];
        for target in evil {
            let answer = server.get(&format!("/lang/en?back={target}"), None).await;
            assert_eq!((answer.status, answer.header("location")), (303, "/"), "back={target}");
        }
        // A logged-in visitor of the login form is sent on to `next`, if it is local.
        let cookie = format!("bangfu_session={}", server.page_session("quwo").await);
        for target in evil {
            let answer = server.answer(server.request(Method::GET, &format!("/login?next={target}")).header("cookie", &cookie)).await;
            assert_eq!((answer.status, answer.header("location")), (303, "/"), "next={target}");
        }
        // And after logging in through the form.
        let form = server.get("/login", None).await;
        let (csrf, login_cookie) = login_csrf(&form);
        let answer = server
            .answer(server.request(Method::POST, "/login").header("cookie", login_cookie).form(&[("username", "quwo"), ("password", DEMO_PASSWORD), ("csrf", &csrf), ("next", "/\t/evil.example")]))
            .await;
        assert_eq!((answer.status, answer.header("location")), (303, "/"));
        // Paths of this site still work, their query included.
        let answer = server.get("/lang/en?back=%2Fregistry%3Fkind%3Dslitting%26lang%3Dzh", None).await;
        assert_eq!(answer.header("location"), "/registry?kind=slitting");
        let answer = server.answer(server.request(Method::GET, "/login?next=/cases/1").header("cookie", &cookie)).await;
        assert_eq!(answer.header("location"), "/cases/1");
    }

    /// F6: a control character in `back` or `next` answered 500 text/plain.
    async fn f6_control_characters_in_redirect_targets_send_home(db) {
        let server = spawn(db).await;
        let cookie = format!("bangfu_session={}", server.page_session("quwo").await);
        for control in ["%0a", "%0d", "%0b", "%00", "%7f", "%c2%85"] {
            let answer = server.get(&format!("/lang/zh?back=/cases/1{control}x"), None).await;
            assert_eq!((answer.status, answer.header("location")), (303, "/"), "back with {control}: {}", answer.text);
            let answer = server.answer(server.request(Method::GET, &format!("/login?next=/cases/1{control}x")).header("cookie", &cookie)).await;
            assert_eq!((answer.status, answer.header("location")), (303, "/"), "next with {control}: {}", answer.text);
        }
        // Characters outside ASCII are no reason to fail either.
        let answer = server.get("/lang/zh?back=/registry%3Fq%3D%E7%86%94%E5%96%B7%E5%B8%83", None).await;
        assert_eq!((answer.status, answer.header("location")), (303, "/registry?q=%E7%86%94%E5%96%B7%E5%B8%83"));
    }

    /// F7: a wrong password cost 47–110 ms, an unknown user 2–8 ms, on the API and the form.
    /// Now both cost one argon2 verification with the same parameters (counted, not timed).
    async fn f7_an_unknown_user_costs_the_same_argon2_work_as_a_wrong_password(db) {
        let server = spawn(db).await;
        let attempt = |username: &str| server.request(Method::POST, "/api/v1/auth/token").json(&json!({"username": username, "password": "not the password"}));
        let before = server.app.password_verifications();
        let wrong = server.answer(attempt("quwo")).await;
        assert_eq!(server.app.password_verifications(), before + 1);
        let unknown = server.answer(attempt("nobody-at-all")).await;
        assert_eq!(server.app.password_verifications(), before + 2, "the unknown user was verified against the stand-in hash");
        assert_eq!((wrong.status, &wrong.body["detail"]), (unknown.status, &unknown.body["detail"]));
        // The login form too.
        let form = server.get("/login", None).await;
        let (csrf, cookie) = login_csrf(&form);
        let answer = server
            .answer(server.request(Method::POST, "/login").header("cookie", cookie).form(&[("username", "nobody-at-all"), ("password", "x"), ("csrf", &csrf)]))
            .await;
        assert_eq!(answer.status, 401);
        assert_eq!(server.app.password_verifications(), before + 3);
    }

    /// F8: five bad passwords locked any account for 300 s, the right password too; nothing
    /// limited one address trying many usernames; each server kept its own count in memory.
    /// Now the counts are rows every server shares, the waits start at a second and double.
    async fn f8_login_limits_are_shared_by_every_server_and_back_off_per_username_and_address(db) {
        let url = db.url().to_string();
        let first = spawn(db).await;
        // A second server on the same database, behind a proxy at 127.0.0.1 that it trusts to
        // tell the client's address.
        let settings = bangfu_web::Settings { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() };
        let second = crate::support::serve(App::open(&url).await.unwrap(), None, settings).await.base;
        let attempt = |base: &str, username: &str, password: &str, client: &str| {
            first.client.post(format!("{base}/api/v1/auth/token")).header("x-forwarded-for", client).json(&json!({"username": username, "password": password}))
        };

        // Five wrong passwords for quwo, spread over both servers: the sixth try waits, on either.
        for i in 0..5 {
            let base = if i % 2 == 0 { &first.base } else { &second };
            assert_eq!(first.answer(attempt(base, "quwo", "guess guess", "198.51.100.1")).await.status, 401);
        }
        let limited = first.answer(attempt(&second, "quwo", DEMO_PASSWORD, "198.51.100.1")).await;
        assert_eq!(limited.status, 429, "{}", limited.text);
        assert!(limited.is_problem() && limited.body["detail"].as_str().unwrap().contains("try again in 1 s"), "{}", limited.text);
        assert_eq!(limited.header("retry-after"), "1");
        assert_eq!(first.answer(attempt(&first.base, "quwo", DEMO_PASSWORD, "x")).await.status, 429, "the first server knows too");
        // The owner waits a second, not five minutes.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(first.answer(attempt(&first.base, "quwo", DEMO_PASSWORD, "x")).await.status, 200);

        // One client (as the proxy tells it) trying many usernames: twenty tries, then it waits,
        // whichever username it tries; another client behind the same proxy is not held up.
        for i in 0..20 {
            let answer = first.answer(attempt(&second, &format!("nobody{i}"), "guess guess", "203.0.113.66")).await;
            assert_eq!(answer.status, 401, "try {i}: {}", answer.text);
        }
        assert_eq!(first.answer(attempt(&second, "linfen", DEMO_PASSWORD, "203.0.113.66")).await.status, 429);
        assert_eq!(first.answer(attempt(&second, "linfen", DEMO_PASSWORD, "203.0.113.67")).await.status, 200);
        // The login form shares the same count.
        let form = first.get("/login", None).await;
        let (csrf, cookie) = login_csrf(&form);
        let request = first.client.post(format!("{second}/login")).header("cookie", cookie).header("x-forwarded-for", "203.0.113.66");
        let page = first.answer(request.form(&[("username", "linfen"), ("password", DEMO_PASSWORD), ("csrf", &csrf)])).await;
        assert_eq!(page.status, 429, "{}", page.text);
        assert!(page.text.contains("登录失败次数过多"), "{}", page.text);
    }

    /// F9: a need title `=HYPERLINK(…)` typed by an enterprise user became a live formula in
    /// the officer's spreadsheet. Every CSV export now neutralises such cells.
    async fn f9_csv_exports_neutralise_cells_that_begin_a_formula(db) {
        let server = spawn(db).await;
        let enterprise = server.token("enterprise").await;
        let formula = "=HYPERLINK(\"http://evil.example\",\"点此查看\")";
        let answer = server.post("/api/v1/cases/1/needs", &enterprise, json!({"kind": "labour", "title": formula, "quantity": 1, "requires": {"skill": "包装"}})).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        let admin = server.token("admin").await;
        let provider = server.post("/api/v1/providers", &admin, json!({"key": "@evil", "name": "+cmd|' /C calc'!A0", "region": "141021"})).await;
        assert_eq!(provider.status, 201, "{}", provider.text);
        let capability = server
            .answer(server.request(Method::PUT, &format!("/api/v1/providers/{}/capabilities/labour", provider.body["id"])).bearer_auth(&admin).json(&json!({"attrs": {"skill": "-2+3", "headcount": 1, "lead_time_h": 1}})))
            .await;
        assert_eq!(capability.status, 200, "{}", capability.text);

        let officer = server.token("quwo").await;
        let needs = server.get("/api/v1/needs?format=csv&kind=labour", Some(&officer)).await;
        let cells = csv_cells(&needs.text);
        assert!(cells.iter().any(|c| c == &format!("'{formula}")), "{}", needs.text);
        let providers = server.get("/api/v1/providers?format=csv&kind=labour", Some(&officer)).await;
        let cells = csv_cells(&providers.text);
        assert!(cells.contains(&"'@evil".to_string()) && cells.contains(&"'+cmd|' /C calc'!A0".to_string()), "{}", providers.text);
        for text in [&needs.text, &providers.text, &server.get("/api/v1/cases?format=csv", Some(&officer)).await.text] {
            for cell in csv_cells(text) {
                let live = cell.starts_with(['=', '+', '@', '\t', '\r']) || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                assert!(!live, "a live cell: {cell:?}");
            }
        }
    }

    /// F13: authenticated answers carried no `Cache-Control: no-store`; 413 and 405 answers were
    /// not problem+json; `?format=bogus` was ignored.
    async fn f13_answers_are_not_cached_errors_are_problems_and_unknown_formats_refused(db) {
        let server = spawn(db).await;
        let token = server.token("quwo").await;
        assert_eq!(server.get("/api/v1/me", Some(&token)).await.header("cache-control"), "no-store");
        assert_eq!(server.get("/api/v1/cases/1", Some(&token)).await.header("cache-control"), "no-store");
        let cookie = format!("bangfu_session={}", server.page_session("quwo").await);
        let page = server.answer(server.request(Method::GET, "/cases/1").header("cookie", &cookie)).await;
        assert_eq!((page.status, page.header("cache-control")), (200, "no-store"));
        assert_eq!(server.get("/assets/style.css", None).await.header("cache-control"), "public, max-age=3600", "assets may be cached");

        let not_allowed = server.answer(server.request(Method::DELETE, "/api/v1/cases").bearer_auth(&token)).await;
        assert_eq!(not_allowed.status, 405);
        assert!(not_allowed.is_problem() && not_allowed.header("allow").contains("GET"), "{} {:?}", not_allowed.text, not_allowed.headers);
        let too_large = server.post("/api/v1/cases/1/needs", &token, json!({"title": "x".repeat(bangfu_web::BODY_LIMIT_BYTES)})).await;
        assert_eq!(too_large.status, 413);
        assert!(too_large.is_problem(), "{}", too_large.text);
        let no_route = server.get("/api/v1/no-such-thing", Some(&token)).await;
        assert!(no_route.status == 404 && no_route.is_problem(), "{}", no_route.text);
        let no_page = server.answer(server.request(Method::GET, "/no-such-page").header("cookie", &cookie)).await;
        assert!(no_page.status == 404 && no_page.header("content-type").starts_with("text/html"), "{}", no_page.text);
        let bad_query = server.get("/api/v1/needs?limit=many", Some(&token)).await;
        assert!(bad_query.status == 400 && bad_query.is_problem(), "{}", bad_query.text);

        for list in ["/api/v1/needs", "/api/v1/cases", "/api/v1/providers"] {
            let answer = server.get(&format!("{list}?format=bogus"), Some(&token)).await;
            assert_eq!(answer.status, 400, "{list}: {}", answer.text);
            assert!(answer.is_problem() && answer.body["detail"].as_str().unwrap().contains("format"), "{}", answer.text);
            assert_eq!(server.get(&format!("{list}?format=csv"), Some(&token)).await.status, 200);
            assert_eq!(server.get(&format!("{list}?format=json"), Some(&token)).await.status, 200);
        }
    }
}

/// Every cell of a CSV text, header included.
fn csv_cells(text: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader.records().flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>()).collect()
}
