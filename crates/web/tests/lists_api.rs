//! Lists over real HTTP (issue 12): every list endpoint pages in id order with its total, walking
//! its pages returns each row once while rows are inserted, limits and bad parameters are 400
//! problems, a CSV export streams exactly the filtered set the pages hold, and the pages (registry,
//! needs, dashboard) show a pager that leads through the list — as `NAME::sqlite` and, when
//! BANGFU_TEST_PG names a server, `NAME::postgres`.

// A failed unwrap is a failed test; backend_tests! bodies are not #[test] functions.
#![allow(clippy::unwrap_used)]

use crate::support::{Setup, TestApp, spawn_app};
use bangfu_app::demo_accounts::DEMO_PASSWORD;
use bangfu_app::import::RegistryFormat;
use bangfu_app::needs::NewNeed;
use bangfu_app::Actor;
use bangfu_store::testing::TestDb;
use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};

/// Providers imported beside the reference case's ten: more than one page of an export.
const IMPORTED: usize = 520;

/// The served reference case and what `spawn` adds; its client follows no redirect.
struct Server(TestApp);

impl std::ops::Deref for Server {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

/// The reference case with its demo accounts, 25 more needs on its case and 520 more providers
/// (every one with a labour capability, every other one in 临汾市), served on a free port.
async fn spawn(db: TestDb) -> Server {
    let server = Server(spawn_app(db, Setup { demo: true, demo_accounts: true, no_redirects: true, ..Setup::default() }).await);
    let (app, operator) = (&server.app, Actor::system("test"));
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for n in 0..25 {
        let need = NewNeed { kind: "labour".into(), title: format!("列表诉求{n}"), quantity: 1.0, requires: json!({"skill": "包装"}), ..NewNeed::default() };
        app.report_need(&operator, now, 1, need).await.unwrap();
    }
    let lines: String = (0..IMPORTED)
        .map(|n| {
            let region = if n % 2 == 0 { "141021" } else { "140105" };
            format!("{}\n", json!({"id": format!("list:{n}"), "name": format!("列表提供方{n}"), "region": region, "kind": "labour", "attrs": {"skill": "包装", "headcount": 2, "lead_time_h": 4}}))
        })
        .collect();
    let lines = app.parse_registry(&lines, RegistryFormat::Jsonl).unwrap();
    app.import_registry(&operator, now, &lines[..], |_, _| {}).await.unwrap();
    server
}

impl Server {
    async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let text = response.text().await.unwrap();
        Answer { status, content_type, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.answer(self.client.request(Method::GET, format!("{}{path}", self.base)).bearer_auth(token)).await
    }

    async fn token(&self, username: &str) -> String {
        let request = self.client.post(format!("{}/api/v1/auth/token", self.base)).json(&json!({"username": username, "password": DEMO_PASSWORD}));
        let answer = self.answer(request).await;
        assert_eq!(answer.status, 200, "{username}: {}", answer.text);
        answer.body["token"].as_str().unwrap().to_string()
    }

    /// A need reported on the reference case over the API.
    async fn report(&self, token: &str, title: &str) -> i64 {
        let body = json!({"kind": "labour", "title": title, "quantity": 1, "requires": {"skill": "包装"}, "source": false});
        let answer = self.answer(self.client.post(format!("{}/api/v1/cases/1/needs", self.base)).bearer_auth(token).json(&body)).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["id"].as_i64().unwrap()
    }

    /// The page (HTML) at `path` for a session of `username`, logged in through the login form.
    async fn page(&self, username: &str, path: &str) -> String {
        let form = self.client.get(format!("{}/login", self.base)).send().await.unwrap();
        let login_cookie = cookie(&form, "bangfu_login_csrf");
        let text = form.text().await.unwrap();
        let at = text.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        let csrf = text[at..].split('"').next().unwrap().to_string();
        let logged_in = self
            .client
            .post(format!("{}/login", self.base))
            .header("cookie", format!("bangfu_login_csrf={login_cookie}"))
            .form(&[("username", username), ("password", DEMO_PASSWORD), ("csrf", &csrf), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(logged_in.status(), 303);
        let session = cookie(&logged_in, "bangfu_session");
        let page = self.client.get(format!("{}{path}", self.base)).header("cookie", format!("bangfu_session={session}")).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        page.text().await.unwrap()
    }
}

fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().and_then(|pair| pair.strip_prefix(&format!("{name}="))).filter(|v| !v.is_empty()).map(str::to_string))
        .unwrap_or_else(|| panic!("no cookie {name}"))
}

/// `path` with one more query parameter.
fn with(path: &str, parameter: &str) -> String {
    format!("{path}{}{parameter}", if path.contains('?') { '&' } else { '?' })
}

/// The ids (`key`) of a page's items.
fn ids(page: &Value, key: &str) -> Vec<i64> {
    page["items"].as_array().unwrap_or_else(|| panic!("no items in {page}")).iter().map(|item| item[key].as_i64().unwrap()).collect()
}

/// Walks `path` in pages of `limit`, calling `between` after each page; the ids seen and the
/// last page's total.
async fn walk(server: &Server, token: &str, path: &str, key: &str, limit: usize, mut between: impl AsyncFnMut()) -> (Vec<i64>, i64) {
    let (mut seen, mut after) = (Vec::new(), None::<i64>);
    loop {
        let mut url = with(path, &format!("limit={limit}"));
        if let Some(after) = after {
            url = with(&url, &format!("after={after}"));
        }
        let page = server.get(&url, token).await;
        assert_eq!(page.status, 200, "{url}: {}", page.text);
        assert_eq!(page.body["limit"], limit, "{url}");
        let items = ids(&page.body, key);
        assert!(items.len() <= limit, "{url}: {} items", items.len());
        seen.extend(items);
        let total = page.body["total"].as_i64().unwrap();
        match page.body["next"].as_i64() {
            Some(next) => {
                assert_eq!(Some(&next), seen.last(), "{url}: next is the last id of the page");
                after = Some(next);
            }
            None => return (seen, total),
        }
        between().await;
    }
}

bangfu_store::backend_tests! {
    /// Every list endpoint answers {"items","total","limit","next"}; its pages, walked with
    /// `after`, hold each row once in id order — what one page of 500 holds — and `total` rows.
    async fn every_list_pages_in_id_order_with_its_total(db) {
        let server = spawn(db).await;
        let token = server.token("shanxi").await;
        let lists = [
            ("/api/v1/needs", "id"),
            ("/api/v1/needs?kind=labour&region=141021", "id"),
            ("/api/v1/cases", "id"),
            ("/api/v1/enterprises", "id"),
            ("/api/v1/providers", "id"),
            ("/api/v1/providers?kind=labour&place=%E4%B8%B4%E6%B1%BE", "id"),
            ("/api/v1/providers?q=%E5%88%97%E8%A1%A8%E6%8F%90%E4%BE%9B%E6%96%B9", "id"),
            ("/api/v1/cases/1/events", "seq"),
            ("/api/v1/cases/1/needs", "id"),
            ("/api/v1/notifications", "id"),
            ("/api/v1/letters", "id"),
        ];
        for (path, key) in lists {
            let whole = server.get(&with(path, "limit=500"), &token).await;
            assert_eq!(whole.status, 200, "{path}: {}", whole.text);
            let (seen, total) = walk(&server, &token, path, key, 7, async || {}).await;
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{path}: each once, in id order: {seen:?}");
            assert_eq!(total, seen.len() as i64, "{path}: the total counts the rows");
            if total <= 500 {
                assert_eq!(seen, ids(&whole.body, key), "{path}: the pages join up to the whole list");
            }
            assert!(!seen.is_empty(), "{path} lists something");
        }
        let registry = server.get("/api/v1/providers?limit=5", &token).await;
        assert_eq!(registry.body["total"], 10 + IMPORTED as i64);
        let linfen = server.get("/api/v1/providers?place=%E4%B8%B4%E6%B1%BE&kind=labour&limit=1", &token).await.body["total"].as_i64().unwrap();
        let labour = server.get("/api/v1/providers?kind=labour&limit=1", &token).await.body["total"].as_i64().unwrap();
        assert!(linfen >= (IMPORTED / 2) as i64 && linfen < labour - (IMPORTED / 2) as i64 + 5, "the 临汾 half of the imported ({linfen} of {labour})");
    }

    /// Needs reported between two pages come after the ones already walked: no row twice, none
    /// of those there at the start missed, the new ones at the end.
    async fn paging_the_needs_returns_no_row_twice_and_misses_none_while_needs_are_reported(db) {
        let server = spawn(db).await;
        let (token, reporter) = (server.token("shanxi").await, server.token("quwo").await);
        let at_start = ids(&server.get("/api/v1/needs?limit=500", &token).await.body, "id");
        let mut reported = Vec::new();
        let (seen, total) = walk(&server, &token, "/api/v1/needs", "id", 4, async || {
            if reported.len() < 6 {
                reported.push(server.report(&reporter, &format!("翻页时新报诉求{}", reported.len())).await);
            }
        })
        .await;
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "no need twice: {seen:?}");
        assert!(at_start.iter().all(|id| seen.contains(id)), "none missed");
        assert_eq!(reported.len(), 6);
        assert!(reported.iter().all(|id| seen.contains(id)), "the new ones come at the end");
        assert_eq!(total, (at_start.len() + reported.len()) as i64);
    }

    /// Limits out of range and bad parameters are 400 problems that say what was wrong.
    async fn limits_and_bad_parameters_are_400_problems(db) {
        let server = spawn(db).await;
        let token = server.token("shanxi").await;
        for list in ["/api/v1/needs", "/api/v1/cases", "/api/v1/providers", "/api/v1/enterprises", "/api/v1/cases/1/events", "/api/v1/cases/1/needs", "/api/v1/notifications", "/api/v1/letters"] {
            let too_many = server.get(&with(list, "limit=501"), &token).await;
            assert_eq!((too_many.status, too_many.content_type.as_str()), (400, "application/problem+json"), "{list}: {}", too_many.text);
            assert!(too_many.body["detail"].as_str().unwrap().contains("1 to 500"), "{list}: {}", too_many.text);
            for bad in ["limit=0", "limit=many", "after=-1", "after=x", "offset=20"] {
                let answer = server.get(&with(list, bad), &token).await;
                assert_eq!((answer.status, answer.content_type.as_str()), (400, "application/problem+json"), "{list}?{bad}: {}", answer.text);
            }
            assert_eq!(server.get(&with(list, "limit=500"), &token).await.status, 200, "{list}: 500 is allowed");
        }
        for (path, says) in [
            ("/api/v1/needs?kind=masks", "kind"),
            ("/api/v1/needs?status=done", "status"),
            ("/api/v1/needs?owner=14x", "owner"),
            ("/api/v1/needs?region=nowhere", "region"),
            ("/api/v1/cases?region=141099", "141029"),
            ("/api/v1/providers?kind=masks", "kind"),
            ("/api/v1/providers?place=141099", "place"),
            ("/api/v1/letters?status=lost", "status"),
        ] {
            let answer = server.get(path, &token).await;
            assert_eq!((answer.status, answer.content_type.as_str()), (400, "application/problem+json"), "{path}: {}", answer.text);
            assert!(answer.body["detail"].as_str().unwrap().contains(says), "{path}: {}", answer.text);
        }
    }

    /// `?format=csv` streams the whole filtered set — more than one page of the store — and holds
    /// exactly the rows the JSON pages hold.
    async fn a_csv_export_holds_exactly_the_filtered_rows_the_pages_hold(db) {
        let server = spawn(db).await;
        let token = server.token("shanxi").await;
        for (path, key, column) in [
            ("/api/v1/providers?kind=labour", "id", "provider_id"),
            ("/api/v1/providers?kind=labour&place=141021", "id", "provider_id"),
            ("/api/v1/needs?kind=labour", "id", "id"),
            ("/api/v1/needs?region=141021&status=open", "id", "id"),
            ("/api/v1/cases", "id", "id"),
        ] {
            let (paged, _) = walk(&server, &token, path, key, 500, async || {}).await;
            let csv = server.get(&with(path, "format=csv"), &token).await;
            assert_eq!(csv.status, 200, "{path}: {}", csv.text);
            assert!(csv.content_type.starts_with("text/csv"), "{path}");
            let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
            let at = reader.headers().unwrap().iter().position(|h| h == column).unwrap();
            let exported: Vec<i64> = reader.records().map(|r| r.unwrap()[at].parse().unwrap()).collect();
            assert_eq!(exported, paged, "{path}: the export is the paged list");
        }
        let labour = server.get("/api/v1/providers?kind=labour&limit=1", &token).await.body["total"].as_i64().unwrap();
        assert!(labour > 500, "the export crossed a page of the store ({labour} rows)");
    }

    /// The registry, needs and dashboard pages go through the same paged lists: the total, and
    /// a pager whose "next" leads to the following page (which offers the first again).
    async fn the_list_pages_show_the_total_and_a_pager_that_leads_through_the_list(db) {
        let server = spawn(db).await;
        let registry = server.page("shanxi", "/registry?kind=labour").await;
        assert!(registry.contains("nav class=\"pager\""), "a pager");
        assert!(registry.contains("共 ") && registry.contains("本页 50 条"), "the count in Chinese");
        let next = registry.split("rel=\"next\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&");
        assert!(next.starts_with("/registry?kind=labour&after="), "{next}");
        let second = server.page("shanxi", &next).await;
        assert!(second.contains("« 第一页") && second.contains("href=\"/registry?kind=labour\""), "the first page is offered again");
        let first_ids: Vec<&str> = registry.split("href=\"/registry/providers/").skip(1).map(|s| s.split('"').next().unwrap()).collect();
        let second_ids: Vec<&str> = second.split("href=\"/registry/providers/").skip(1).map(|s| s.split('"').next().unwrap()).collect();
        assert_eq!((first_ids.len(), second_ids.len()), (50, 50));
        assert!(first_ids.iter().all(|id| !second_ids.contains(id)), "no provider on both pages");

        let english = server.page("shanxi", "/registry?kind=labour&lang=en").await;
        assert!(english.contains("on this page") && english.contains("Next page »"), "the pager in English");

        let needs = server.page("shanxi", "/needs?kind=labour").await;
        assert!(needs.contains("id=\"needs-list\"") && needs.contains("nav class=\"pager\"") && needs.contains("列表诉求0"), "the needs page");
        let refused = server.page("shanxi", "/needs?kind=masks").await;
        assert!(refused.contains("role=\"alert\"") && refused.contains("kind"), "a bad filter is said on the page");
        let houma = server.page("houma", "/needs?sort=id").await;
        assert!(houma.contains("id=\"no-needs\"") && !houma.contains("列表诉求"), "侯马市 sees none of the case's needs");

        let dashboard = server.page("shanxi", "/").await;
        assert!(dashboard.contains("帮扶档案") && dashboard.contains("<span class=\"muted\">(1)</span>"), "the dashboard counts the cases");
    }
}

bangfu_store::backend_tests! {
    /// Issue 13 item 3 on the pages: `/cases` sums by region and drills down province → city →
    /// county → case with breadcrumbs back up; the reference case's introduction shows where the
    /// case is listed and not elsewhere; the dashboard shows the most overdue needs and the
    /// drill-down; the case page's timeline filters by kind and pages; the need page has its own
    /// history; 侯马市 drills into nothing of the case.
    async fn the_cases_page_drills_down_and_the_timelines_page_and_filter(db) {
        let server = spawn(db).await;
        let top = server.page("shanxi", "/cases").await;
        assert!(top.contains("id=\"regions\"") && top.contains("href=\"/cases?place=141000\"") && top.contains("临汾市"), "山西省 by city");
        assert!(top.contains("class=\"card intro\""), "the reference case is listed: its introduction");
        let city = server.page("shanxi", "/cases?place=141000").await;
        assert!(city.contains("href=\"/cases?place=141021\"") && city.contains("曲沃县") && city.contains("aria-current=\"page\">临汾市"), "临汾市 by county, with its breadcrumb");
        let county = server.page("shanxi", "/cases?place=141021").await;
        assert!(county.contains("class=\"case-link\" href=\"/cases/1\""), "曲沃县 lists the case");
        let elsewhere = server.page("shanxi", "/cases?place=140100").await;
        assert!(elsewhere.contains("id=\"no-cases\"") && !elsewhere.contains("class=\"card intro\""), "太原市: no case, no introduction");
        let refused = server.page("shanxi", "/cases?place=不存在").await;
        assert!(refused.contains("role=\"alert\"") && refused.contains("place"), "a bad place is said on the page");
        let houma = server.page("houma", "/cases").await;
        assert!(houma.contains("id=\"no-cases\"") && !houma.contains("曲沃县"), "侯马市 sees nothing of the case");

        let dashboard = server.page("quwo", "/").await;
        assert!(dashboard.contains("id=\"most-overdue\"") && dashboard.contains("id=\"by-region\"") && dashboard.contains("id=\"quiet-cases\""), "the summary");
        assert!(dashboard.contains("列表诉求"), "the case's 25 open needs are overdue by now (reported 2026-01-01): {}", dashboard.len());

        let case = server.page("quwo", "/cases/1").await;
        let all: i64 = case.split("id=\"events-total\">(").nth(1).unwrap().split(')').next().unwrap().parse().unwrap();
        assert!(all > 50 && case.contains("rel=\"next\" href=\"/cases/1?events_after="), "{all} events, paged by 50");
        let letters = server.page("quwo", "/cases/1?event_kind=letter").await;
        let some: i64 = letters.split("id=\"events-total\">(").nth(1).unwrap().split(')').next().unwrap().parse().unwrap();
        assert!(some > 0 && some < all, "{some} letter events of {all}");
        let timeline = letters.split("id=\"timeline\"").nth(1).unwrap();
        assert!(timeline.contains("公函") && !timeline.contains("列表诉求"), "only the letters' events");

        let need = server.page("quwo", "/needs/1").await;
        assert!(need.contains("id=\"need-history\"") && need.contains("本诉求的经过"), "the need's history");
        let history = need.split("id=\"need-history\"").nth(1).unwrap().split("</ol>").next().unwrap();
        assert!(history.matches("<li").count() >= 2 && !history.contains("列表诉求"), "its own events only: {history}");
    }
}
