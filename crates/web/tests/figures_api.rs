//! Figures and documents over real HTTP (issue 14): a spreadsheet of returns uploaded as XLSX or
//! CSV is taken whole or refused with its rows named; every list's XLSX export, reopened by a
//! spreadsheet library, holds the same rows as its CSV export — numbers as numbers, times as
//! dates at UTC+8, formula-like text as text — over more than one page of the store; the pages'
//! download links answer the same files on the session; the figures and the briefing answer as
//! the app computes them — as `NAME::sqlite` and, when BANGFU_TEST_PG names a server,
//! `NAME::postgres`.

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it where it failed

use crate::support::{Setup, TestApp, spawn_app};
use bangfu_app::demo_accounts::DEMO_PASSWORD;
use bangfu_app::Actor;
use bangfu_store::testing::TestDb;
use calamine::{Data, Reader};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

/// The served reference case with its demo accounts; its client follows no redirect.
struct Server(TestApp);

impl std::ops::Deref for Server {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

/// Returns for case 1 of the reference case: 3 products × 210 days (630 rows, two export pages),
/// one of them with formula-like text in its note.
fn returns_csv() -> String {
    let mut csv = String::from("day,product,capacity_per_day,output,stock,shipped,note\n");
    let first = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    for d in 0..210 {
        let day = first + chrono::Duration::days(d);
        for (p, product) in ["医用外科口罩", "KN95口罩", "医用防护服"].iter().enumerate() {
            let note = if d == 3 && p == 1 { "\"=HYPERLINK(\"\"http://x\"\",\"\"x\"\")\"" } else { "" };
            csv.push_str(&format!("{day},{product},{},{},{},{},{note}\n", 1000 * (p + 1), d * 10 + p as i64, d, d * 10 + p as i64));
        }
    }
    csv
}

async fn spawn(db: TestDb) -> Server {
    Server(spawn_app(db, Setup { demo: true, demo_accounts: true, no_redirects: true, ..Setup::default() }).await)
}

impl Server {
    async fn token(&self, username: &str) -> String {
        let response = self.client.post(format!("{}/api/v1/auth/token", self.base)).json(&json!({"username": username, "password": DEMO_PASSWORD})).send().await.unwrap();
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    async fn bytes(&self, path: &str, token: &str) -> (u16, String, Vec<u8>) {
        let response = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (status, content_type, response.bytes().await.unwrap().to_vec())
    }

    async fn upload(&self, token: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self.client.post(format!("{}/api/v1/cases/1/returns/upload", self.base)).bearer_auth(token).header("content-type", content_type).body(body).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// A session cookie of `username`, logged in through the login form.
    async fn session(&self, username: &str) -> String {
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
        format!("bangfu_session={}", cookie(&logged_in, "bangfu_session"))
    }
}

fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().and_then(|pair| pair.strip_prefix(&format!("{name}="))).filter(|v| !v.is_empty()).map(str::to_string))
        .unwrap()
}

/// The rows of a CSV answer, header first.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new().has_headers(false).from_reader(bytes).records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

/// The rows of an XLSX answer's first sheet, each cell as the CSV export writes it: numbers as
/// numbers, dates and times at UTC+8 (a date as its midnight), text as given (the CSV's apostrophe before formula-like
/// text added back, which the XLSX marks with a quote prefix instead).
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    sheet
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(s) => bangfu_core::text::csv_cell(s).into_owned(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::DateTime(d) => {
                        let serial = d.as_f64();
                        let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap().and_hms_opt(0, 0, 0).unwrap();
                        let at = base + chrono::Duration::milliseconds((serial * 86_400_000.0).round() as i64);
                        at.format("%Y-%m-%dT%H:%M:%S+08:00").to_string()
                    }
                    Data::Empty => String::new(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

/// The CSV rows with times cut to the second (an XLSX time holds milliseconds as a fraction of a
/// day; the CSV's RFC 3339 text holds them exactly) and days as their midnight (an XLSX date is a
/// time of day 0).
fn comparable(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| match (chrono::DateTime::parse_from_rfc3339(&cell), chrono::NaiveDate::parse_from_str(&cell, "%Y-%m-%d")) {
                    (Ok(t), _) => t.format("%Y-%m-%dT%H:%M:%S+08:00").to_string(),
                    (_, Ok(d)) => format!("{d}T00:00:00+08:00"),
                    _ => cell,
                })
                .collect()
        })
        .collect()
}

bangfu_store::backend_tests! {
    async fn an_xlsx_export_holds_the_same_rows_as_the_csv_export_of_every_list(db) {
        let server = spawn(db).await;
        let quwo = server.token("quwo").await;
        let (status, body) = server.upload(&quwo, "text/csv", returns_csv().into_bytes()).await;
        assert_eq!((status, body["added"].as_u64()), (201, Some(630)), "{body}");
        for list in ["/api/v1/returns?product=KN95%E5%8F%A3%E7%BD%A9", "/api/v1/returns", "/api/v1/needs", "/api/v1/cases", "/api/v1/providers", "/api/v1/letters", "/api/v1/cases/1/events"] {
            let join = if list.contains('?') { '&' } else { '?' };
            let (status, content_type, csv) = server.bytes(&format!("{list}{join}format=csv"), &quwo).await;
            assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"), "{list}");
            let (status, content_type, xlsx) = server.bytes(&format!("{list}{join}format=xlsx"), &quwo).await;
            assert_eq!((status, content_type.as_str()), (200, bangfu_app::returns_sheet::XLSX_TYPE), "{list}: {}", String::from_utf8_lossy(&xlsx));
            let (csv, xlsx) = (comparable(csv_rows(&csv)), xlsx_rows(&xlsx));
            assert!(csv.len() > 1, "{list} has rows");
            assert_eq!(xlsx.len(), csv.len(), "{list}: as many rows");
            for (x, c) in xlsx.iter().zip(&csv) {
                assert_eq!(x, c, "{list}");
            }
        }
        let (_, _, all) = server.bytes("/api/v1/returns?format=csv", &quwo).await;
        assert_eq!(csv_rows(&all).len(), 631, "every return and the header, across two pages of the store");
        let (_, _, kn95) = server.bytes("/api/v1/returns?product=KN95%E5%8F%A3%E7%BD%A9&format=xlsx", &quwo).await;
        let rows = xlsx_rows(&kn95);
        assert_eq!(rows.len(), 211, "exactly the filtered set");
        assert!(rows.iter().any(|r| r[10] == "'=HYPERLINK(\"http://x\",\"x\")"), "formula-like text arrives as text");
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(kn95)).unwrap();
        let formulas = book.worksheet_formula("Sheet1").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula in the file");
        let (status, _, _) = server.bytes("/api/v1/returns?format=pdf", &quwo).await;
        assert_eq!(status, 400);
    }

    async fn a_returns_workbook_is_taken_whole_or_refused_naming_its_rows(db) {
        let server = spawn(db).await;
        let enterprise = server.token("enterprise").await;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, name) in ["日期", "产品", "产能", "产量", "库存", "发货"].iter().enumerate() {
            sheet.write_string(0, c as u16, *name).unwrap();
        }
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(1, 0, rust_xlsxwriter::ExcelDateTime::from_ymd(2020, 2, 13).unwrap(), &date).unwrap();
        sheet.write_string(1, 1, "医用外科口罩").unwrap();
        for (c, v) in [100_000.0, 80_000.0, 1_000.0, 79_000.0].iter().enumerate() {
            sheet.write_number(1, c as u16 + 2, *v).unwrap();
        }
        sheet.write_string(2, 0, "2020-02-14").unwrap();
        sheet.write_string(2, 1, "医用外科口罩").unwrap();
        sheet.write_string(2, 2, "很多").unwrap();
        let bad = book.save_to_buffer().unwrap();
        let (status, body) = server.upload(&enterprise, bangfu_app::returns_sheet::XLSX_TYPE, bad).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("row 3: capacity_per_day"), "{body}");
        assert!(server.app.daily_returns(&Actor::system("t"), 1).await.unwrap().is_empty(), "nothing written");
        for c in 2..6 {
            sheet_fix(&mut book, c);
        }
        let good = book.save_to_buffer().unwrap();
        let (status, body) = server.upload(&enterprise, bangfu_app::returns_sheet::XLSX_TYPE, good).await;
        assert_eq!((status, body["added"].as_u64()), (201, Some(2)), "{body}");
        let returns = server.app.daily_returns(&Actor::system("t"), 1).await.unwrap();
        assert_eq!(returns[0].day, "2020-02-13", "a date cell is its day");
        let (status, _) = server.upload(&enterprise, "text/plain", b"x".to_vec()).await;
        assert_eq!(status, 415);
        let houma = server.token("houma").await;
        let (status, _) = server.upload(&houma, "text/csv", returns_csv().into_bytes()).await;
        assert_eq!(status, 404, "a county that does not see the case");
    }

    async fn the_pages_download_links_answer_the_lists_files_on_the_session(db) {
        let server = spawn(db).await;
        let cookie = server.session("quwo").await;
        let needs = server.client.get(format!("{}/needs?sort=id", server.base)).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(needs.contains("/export/needs?&amp;format=xlsx"), "the needs page links its download");
        let file = server.client.get(format!("{}/export/needs?format=xlsx", server.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(file.headers()["content-type"], bangfu_app::returns_sheet::XLSX_TYPE);
        let rows = xlsx_rows(&file.bytes().await.unwrap());
        assert_eq!(rows[0][0], "id");
        assert_eq!(rows.len() - 1, 8, "the reference case's eight needs");
        // Every page that lists: the cases of a place, and the returns behind a jurisdiction's charts.
        let page = |path: &str| {
            let request = server.client.get(format!("{}{path}", server.base)).header("cookie", &cookie);
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        let cases = page("/cases?place=141021").await;
        assert!(cases.contains("/export/cases?region=141021&amp;format=xlsx"), "the cases page links its download");
        let figures = page("/figures?to=2020-02-10&days=7").await;
        // (askama writes the `&` inside the href as `&#38;`)
        assert!(figures.contains("/export/returns?region=141021&#38;from=2020-02-04&#38;to=2020-02-10&amp;format=xlsx"), "the figures page links its returns");
        let file = server.client.get(format!("{}/export/returns?region=141021&from=2020-02-04&to=2020-02-10&format=csv", server.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(file.status(), 200);
        let stranger = server.session("houma").await;
        let events = server.client.get(format!("{}/export/events?case_id=1&format=csv", server.base)).header("cookie", &stranger).send().await.unwrap();
        assert_eq!(events.status(), 404, "a case out of sight is not found");
    }

    async fn the_figures_and_the_briefing_answer_as_the_app_computes_them(db) {
        let server = spawn(db).await;
        let quwo = server.token("quwo").await;
        server.upload(&quwo, "text/csv", returns_csv().into_bytes()).await;
        let leader = server.token("leader").await;
        let (status, _, body) = server.bytes("/api/v1/figures?to=2020-02-10&days=7", &leader).await;
        assert_eq!(status, 200);
        let answer: Value = serde_json::from_slice(&body).unwrap();
        let viewer = Actor { role: bangfu_core::model::Role::Viewer, ..Actor::officer("leader", bangfu_core::region::RegionCode::new_unchecked(141000)) };
        let figures = server.app.figures(&viewer, None, chrono::NaiveDate::from_ymd_opt(2020, 2, 10).unwrap(), 7).await.unwrap();
        assert_eq!(answer, figures.to_json());
        let (status, _, body) = server.bytes("/api/v1/briefing?day=2020-02-10", &leader).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let briefing: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(briefing["figures"], answer, "the briefing's figures equal the API's");
        let masks = briefing["headline"].as_array().unwrap().iter().find(|h| h["label_zh"] == "医用外科口罩 产量").unwrap();
        assert_eq!((masks["day"].as_f64(), masks["before"].as_f64()), (Some(400.0), Some(390.0)));
        let (status, _, _) = server.bytes("/api/v1/figures?region=140000", &leader).await;
        assert_eq!(status, 404, "the province is outside 临汾市's jurisdiction");
        let enterprise = server.token("enterprise").await;
        let (status, _, _) = server.bytes("/api/v1/briefing", &enterprise).await;
        assert_eq!(status, 403);
    }

    async fn an_admin_generates_a_days_briefings_once_over_the_api(db) {
        let server = spawn(db).await;
        let post = |token: String, body: Value| {
            let request = server.client.post(format!("{}/api/v1/briefings/generate", server.base)).bearer_auth(token).json(&body);
            async move {
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let admin = server.token("admin").await;
        let (status, first) = post(admin.clone(), json!({"day": "2020-02-12"})).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!((first["generated"].as_u64(), first["kept_already"].as_u64()), (Some(3), Some(0)), "{first}");
        let leader = server.token("leader").await;
        let (_, _, kept) = server.bytes("/api/v1/briefing?day=2020-02-12", &leader).await;
        let (status, again) = post(admin.clone(), json!({"day": "2020-02-12"})).await;
        assert_eq!(status, 200);
        assert_eq!((again["generated"].as_u64(), again["kept_already"].as_u64()), (Some(0), Some(3)), "{again}");
        let (_, _, still) = server.bytes("/api/v1/briefing?day=2020-02-12", &leader).await;
        assert_eq!(still, kept, "a second run keeps the briefing as it was");
        let (status, problem) = post(admin.clone(), json!({"day": "2999-01-01"})).await;
        assert_eq!(status, 422, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("generated from 2999-01-02 08:00 UTC+8 on"), "{problem}");
        let (status, problem) = post(admin, json!({"day": "12 Feb"})).await;
        assert_eq!(status, 400, "{problem}");
        let (status, _) = post(server.token("quwo").await, json!({"day": "2020-02-12"})).await;
        assert_eq!(status, 403, "an officer does not run the morning pass");
    }
}

/// Puts numbers in row 3 of the returns workbook (it had a word where a number goes).
fn sheet_fix(book: &mut rust_xlsxwriter::Workbook, column: u16) {
    let sheet = book.worksheet_from_index(0).unwrap();
    sheet.write_number(2, column, 1.0).unwrap();
}

/// The text of a PDF, and whether its first page is A4 (595 × 842 points, within a point). The
/// text is NFKC-normalised: the CJK fonts map some glyphs to Kangxi radicals (⽇ for 日).
pub fn pdf_text(pdf: &[u8]) -> (String, bool) {
    use unicode_normalization::UnicodeNormalization;
    let text: String = pdf_extract::extract_text_from_mem(pdf).unwrap().nfkc().collect();
    let document = pdf_extract::Document::load_mem(pdf).unwrap();
    let page = *document.get_pages().values().next().unwrap();
    let media = document.get_object(page).unwrap().as_dict().unwrap().get(b"MediaBox").unwrap().as_array().unwrap().clone();
    let number = |o: &pdf_extract::Object| o.as_float().map(f64::from).or_else(|_| o.as_i64().map(|i| i as f64)).unwrap();
    let a4 = (number(&media[2]) - 595.0).abs() < 1.5 && (number(&media[3]) - 842.0).abs() < 1.5;
    (text, a4)
}

#[tokio::test]
async fn the_briefing_downloads_as_an_a4_pdf_with_its_text_and_as_a_workbook() {
    if std::process::Command::new("chromium").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no chromium to print with");
        return;
    }
    let server = spawn(TestDb::sqlite()).await;
    let quwo = server.token("quwo").await;
    server.upload(&quwo, "text/csv", returns_csv().into_bytes()).await;
    let cookie = server.session("leader").await;
    let pdf = server.client.get(format!("{}/briefing/download?day=2020-02-10&format=pdf", server.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let (text, a4) = pdf_text(&pdf.bytes().await.unwrap());
    assert!(a4, "the briefing prints on A4");
    assert!(text.contains("每日专报") && text.contains("临汾市") && text.contains("医用外科口罩"), "{text}");
    let xlsx = server.client.get(format!("{}/briefing/download?day=2020-02-10&format=xlsx", server.base)).header("cookie", &cookie).send().await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.bytes().await.unwrap().to_vec())).unwrap();
    let headline = book.worksheet_range_at(0).unwrap().unwrap();
    let masks = headline.rows().find(|r| r[0] == Data::String("医用外科口罩 产量".into())).unwrap();
    assert_eq!((masks[1].clone(), masks[2].clone()), (Data::Float(400.0), Data::Float(390.0)));
}

/// Issue 14, item 5: the reference case's letter to 广东省 and 东莞市, edited as a draft (contact,
/// telephone, copies), answers as an A4 PDF holding its number and addressees as text, and is
/// acknowledged with the reply's number, date and text.
#[tokio::test]
async fn a_letter_is_edited_as_a_draft_printed_to_an_a4_pdf_and_acknowledged_with_its_reply() {
    if std::process::Command::new("chromium").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no chromium to print with");
        return;
    }
    let server = spawn(TestDb::sqlite()).await;
    let shanxi = server.token("shanxi").await;
    let letters = server.client.get(format!("{}/api/v1/letters?status=draft", server.base)).bearer_auth(&shanxi).send().await.unwrap().json::<Value>().await.unwrap();
    let draft = letters["items"].as_array().unwrap().iter().find(|l| l["recipients"].as_array().unwrap().len() == 2);
    let letter = match draft {
        Some(l) => l.clone(),
        None => {
            // The demo sends its letters: draft a fresh one by reporting a need in 东莞.
            let need = json!({"kind": "equipment", "title": "口罩机备件", "quantity": 2, "unit": "套", "requires": {"item": "口罩机备件"}, "solution_region": "441900", "source": false});
            let made = server.client.post(format!("{}/api/v1/cases/1/needs", server.base)).bearer_auth(&shanxi).json(&need).send().await.unwrap();
            assert_eq!(made.status(), 201);
            let letters = server.client.get(format!("{}/api/v1/letters?status=draft", server.base)).bearer_auth(&shanxi).send().await.unwrap().json::<Value>().await.unwrap();
            letters["items"].as_array().unwrap().last().unwrap().clone()
        }
    };
    let id = letter["id"].as_i64().unwrap();
    let number = letter["number"].as_str().unwrap().to_string();
    assert!(!letter["subject"].as_str().unwrap().contains('（'), "no category label in the title: {}", letter["subject"]);
    let edit = json!({"subject": letter["subject"], "paragraphs": ["山西健康动力科技有限公司急需口罩机备件2套。", "为保障企业尽快投产，现商请贵厅（局）给予协调支持。"], "contact_name": "李四", "contact_phone": "0351-1234567", "cc": ["临汾市工业和信息化局"]});
    let edited = server.client.put(format!("{}/api/v1/letters/{id}", server.base)).bearer_auth(&shanxi).json(&edit).send().await.unwrap();
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert!(edited["body"]["zh"].as_str().unwrap().contains("（联系人：李四；联系电话：0351-1234567）"), "{edited}");
    let pdf = server.client.get(format!("{}/api/v1/letters/{id}/pdf", server.base)).bearer_auth(&shanxi).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("letter.pdf"), &pdf).unwrap();
    let cookie = server.session("shanxi").await;
    let page = server.client.get(format!("{}/needs/{}/letters/{id}", server.base, letter["need_id"])).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    std::fs::write(dir.join("letter.html"), page.replace("href=\"/assets/style.css\"", "href=\"about:blank\"")).unwrap();
    let (text, a4) = pdf_text(&pdf);
    let flat: String = text.split_whitespace().collect();
    assert!(a4, "A4");
    for expected in [number.as_str(), "广东省工业和信息化厅", "东莞市工业和信息化局", "山西省工业和信息化厅", "李四", "0351-1234567", "抄送：临汾市工业和信息化局"] {
        let expected: String = unicode_normalization::UnicodeNormalization::nfkc(expected).collect();
        assert!(flat.contains(&expected), "{expected} in the PDF's text: {flat}");
    }
    let sent = server.client.post(format!("{}/api/v1/letters/{id}/send", server.base)).bearer_auth(&shanxi).send().await.unwrap();
    assert_eq!(sent.status(), 200);
    let again = server.client.put(format!("{}/api/v1/letters/{id}", server.base)).bearer_auth(&shanxi).json(&edit).send().await.unwrap();
    assert_eq!(again.status(), 409, "a sent letter is no longer a draft");
    let guangdong = {
        let operator = Actor::system("t");
        let user = bangfu_app::accounts::NewUser { username: "gd".into(), role: "officer".into(), department: Some("440000".into()), password: DEMO_PASSWORD.into(), ..Default::default() };
        server.app.add_user(&operator, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), user).await.unwrap();
        server.token("gd").await
    };
    let reply = json!({"reply_number": "粤工信函〔2020〕12号", "reply_date": "2020-01-27", "reply_text": "已协调东莞市放行。"});
    let done = server.client.post(format!("{}/api/v1/letters/{id}/acknowledge", server.base)).bearer_auth(&guangdong).json(&reply).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "acknowledged");
    assert_eq!(done["reply"], json!({"number": "粤工信函〔2020〕12号", "date": "2020-01-27", "text": "已协调东莞市放行。"}));
}
