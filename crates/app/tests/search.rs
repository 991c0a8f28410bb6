//! Search (issue 13): what it finds in the reference case — in simplified or traditional
//! characters, pinyin, initials, a credit code, a region — what it never shows (the 侯马 officer
//! finds nothing of 曲沃县's case), and that a change made on one server is found on another.

use bangfu_app::cases::NewEnterprise;
use bangfu_app::needs::NewNeed;
use bangfu_app::{Actor, App};
use bangfu_core::region::RegionCode;
use bangfu_core::search_index::{SearchHit, SearchKind};
use chrono::{TimeZone, Utc};
use serde_json::json;

async fn find(app: &App, actor: &Actor, q: &str) -> Vec<SearchHit> {
    app.search(actor, q, None, Some(100)).await.expect("search answers")
}

fn has(hits: &[SearchHit], kind: SearchKind, title: &str) -> bool {
    hits.iter().any(|h| h.kind == kind && h.title == title)
}

const QUWO: RegionCode = RegionCode::new_unchecked(141021);
const HOUMA: RegionCode = RegionCode::new_unchecked(141081);

bangfu_store::backend_tests! {
    async fn search_finds_wanrong_linfen_pinyin_initials_and_a_credit_code(db) {
        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let quwo = Actor::officer("quwo", QUWO);
        for q in ["萬榮", "万荣", "wanrong", "wr", "萬榮華康"] {
            let hits = find(&app, &quwo, q).await;
            assert!(has(&hits, SearchKind::Provider, "万荣华康药业公司"), "{q}: {hits:?}");
        }
        let hits = find(&app, &quwo, "wanrong").await;
        assert_eq!(hits[0].title, "万荣华康药业公司", "the provider named so comes before the need that only mentions 万荣");
        let hits = find(&app, &quwo, "臨汾").await;
        assert!(hits.iter().any(|h| h.kind == SearchKind::Department && h.region == 141000), "the city's department: {hits:?}");
        assert!(has(&hits, SearchKind::Need, "试产口罩需灭菌，临汾市内无灭菌企业"), "{hits:?}");
        assert!(has(&hits, SearchKind::Enterprise, "山西健康动力科技有限公司"), "曲沃县 lies in 临汾: {hits:?}");
        let hits = find(&app, &quwo, bangfu_app::demo::CREDIT_CODE).await;
        assert_eq!((hits[0].kind, hits[0].title.as_str(), hits[0].score), (SearchKind::Enterprise, "山西健康动力科技有限公司", 100), "{hits:?}");
        let hits = app.search(&quwo, "口罩", Some("need"), Some(3)).await.unwrap();
        assert!(hits.len() == 3 && hits.iter().all(|h| h.kind == SearchKind::Need), "{hits:?}");
        for (q, kind, limit) in [("", None, None), ("口罩", Some("case"), None), ("口罩", None, Some(0)), ("口罩", None, Some(101))] {
            let e = app.search(&quwo, q, kind, limit).await.unwrap_err();
            assert!(matches!(e, bangfu_app::AppError::BadInput(_)), "{q} {kind:?} {limit:?}: {e}");
        }
    }

    /// Every name, title, number and code of the reference case, searched whole and by its
    /// first characters: the 曲沃 officer finds its case's, the 侯马 officer nothing of them.
    async fn the_houma_officer_finds_nothing_of_the_quwo_case(db) {
        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let quwo = Actor::officer("quwo", QUWO);
        let houma = Actor::officer("houma", HOUMA);
        let case = app.case_detail(&admin, 1).await.unwrap();
        let mut queries: Vec<String> = vec![case.enterprise.name.clone(), case.enterprise.credit_code.clone(), "曲沃".into(), "quwo".into(), "sxjk".into(), "口罩".into()];
        for n in &case.needs {
            queries.push(n.title.clone());
            queries.push(n.title.chars().take(2).collect());
        }
        assert!(!case.letters.is_empty());
        for l in &case.letters {
            queries.push(l.number.clone());
            queries.push(l.subject.clone());
        }
        let mut found_by_quwo = 0;
        for q in &queries {
            let theirs = find(&app, &houma, q).await;
            let leaked: Vec<&SearchHit> = theirs.iter().filter(|h| matches!(h.kind, SearchKind::Enterprise | SearchKind::Need | SearchKind::Letter)).collect();
            assert!(leaked.is_empty(), "侯马 finds {leaked:?} for {q}");
            found_by_quwo += find(&app, &quwo, q).await.iter().filter(|h| matches!(h.kind, SearchKind::Enterprise | SearchKind::Need | SearchKind::Letter)).count();
        }
        assert!(found_by_quwo > queries.len(), "曲沃 finds its own case's ({found_by_quwo})");
    }

    /// Two servers on one database: what one writes, the other's index finds at its next search.
    async fn a_change_on_one_server_is_found_by_the_other(db) {
        let a = App::open(db.url()).await.unwrap();
        let b = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&a, &admin).await.unwrap();
        let quwo = Actor::officer("quwo", QUWO);
        assert!(b.warm_search().await.unwrap() > 3000, "departments, providers, the case");
        assert!(find(&b, &quwo, "翼城").await.iter().all(|h| h.kind != SearchKind::Enterprise));
        let first17 = "91141021MA0QQ3029";
        let code = format!("{first17}{}", bangfu_core::credit_code::check_character(first17).unwrap());
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let e = a
            .add_enterprise(&quwo, now, NewEnterprise { name: "翼城县康泰医疗用品有限公司".into(), credit_code: code.clone(), region: "141021".into(), lon: None, lat: None, note: String::new() })
            .await
            .unwrap();
        let hits = find(&b, &quwo, "翼城").await;
        assert!(hits.iter().any(|h| h.kind == SearchKind::Enterprise && h.id == e.id), "{hits:?}");
        assert!(find(&b, &quwo, &code).await.iter().any(|h| h.id == e.id));
        assert!(find(&b, &quwo, "ycxkt").await.iter().any(|h| h.id == e.id), "by its initials");
        assert!(find(&b, &Actor::officer("houma", HOUMA), "翼城").await.iter().all(|h| h.kind != SearchKind::Enterprise));
        let need = a
            .report_need(&quwo, now, 1, NewNeed { kind: "labour".into(), title: "缺少熔喷布质检员两名".into(), quantity: 2.0, requires: json!({"skill": "质检员"}), ..NewNeed::default() })
            .await
            .unwrap();
        let hits = find(&b, &quwo, "質檢員").await;
        assert!(hits.iter().any(|h| h.kind == SearchKind::Need && h.id == need.id), "{hits:?}");
        assert!(find(&b, &Actor::officer("houma", HOUMA), "质检员").await.iter().all(|h| h.kind != SearchKind::Need));
    }
}

bangfu_store::backend_tests! {
    /// Issue 12 item 3 and issue 13 item 5: the registry's keyword search finds what the search
    /// box finds (traditional characters, pinyin, a note), narrowed by kind and place in the
    /// database, and pages through more providers than one statement could list as parameters —
    /// every one once, by id, with the total.
    async fn the_registry_keyword_search_pages_through_what_the_search_index_finds(db) {
        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let quwo = Actor::officer("quwo", QUWO);
        let search = |text: &str, kind: Option<&str>, place: Option<&str>| bangfu_app::registry_search::ProviderSearch {
            kind: kind.map(str::to_string),
            place: place.map(str::to_string),
            text: Some(text.to_string()),
        };
        let names = |page: &bangfu_store::Page<(bangfu_store::ProviderRow, Vec<bangfu_store::CapabilityRow>)>| {
            page.items.iter().map(|(p, _)| p.name.clone()).collect::<Vec<_>>()
        };
        for q in ["萬榮", "wanrong", "万荣华康"] {
            let page = app.search_providers(&quwo, &search(q, Some("sterilisation"), None), bangfu_store::PageRequest::first(50)).await.unwrap();
            assert!(names(&page).contains(&"万荣华康药业公司".to_string()), "{q}: {:?}", names(&page));
        }
        // A word of a note (the demo's 万荣 provider notes its cobalt-60 plant).
        let page = app.search_providers(&quwo, &search("钴-60辐照", None, None), bangfu_store::PageRequest::first(50)).await.unwrap();
        assert!(names(&page).contains(&"万荣华康药业公司".to_string()), "{:?}", names(&page));
        // Narrowed by kind in the database: 万荣's provider has no labour capability.
        let page = app.search_providers(&quwo, &search("wanrong", Some("labour"), None), bangfu_store::PageRequest::first(50)).await.unwrap();
        assert!(!names(&page).contains(&"万荣华康药业公司".to_string()));

        // 1,200 providers whose names hold 检索样本, more than a statement's parameters could
        // list on some builds: paged 500 at a time, each once, in id order.
        let lines: Vec<bangfu_app::import::RegistryLine> = (0..1200)
            .map(|i| bangfu_app::import::RegistryLine {
                line: i + 1,
                key: format!("paging:{i:04}"),
                name: format!("检索样本{i:04}号"),
                region: bangfu_core::region::RegionCode::new_unchecked(141021),
                lon: 111.47,
                lat: 35.63,
                kind: bangfu_core::model::NeedKind::Labour,
                available: true,
                attrs: json!({"skill": "机修", "headcount": 2}).as_object().unwrap().clone(),
            })
            .collect();
        app.import_registry(&admin, now, &lines[..], |_, _| {}).await.unwrap();
        let wanted = search("检索样本", None, Some("141021"));
        let total = app.count_providers(&quwo, &wanted).await.unwrap();
        assert_eq!(total, 1200);
        let mut seen = Vec::new();
        let mut request = bangfu_store::PageRequest::first(500);
        loop {
            let page = app.search_providers(&quwo, &wanted, request).await.unwrap();
            seen.extend(page.items.iter().map(|(p, _)| p.id));
            match page.next {
                Some(after) => request = bangfu_store::PageRequest { after: Some(after), limit: 500 },
                None => break,
            }
        }
        assert_eq!(seen.len(), 1200);
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "by id, each once");
        // A place outside them narrows to nothing.
        assert_eq!(app.count_providers(&quwo, &search("检索样本", None, Some("141081"))).await.unwrap(), 0);
    }
}

bangfu_store::backend_tests! {
    /// Issue 12: a burst of changes through one server (a fraction of the province exercise:
    /// enterprises, cases, hundreds of needs and letters) is refreshed on another by reading
    /// what the events name — the index it then searches answers as one loaded afresh does.
    async fn after_a_burst_on_one_server_the_other_searches_as_a_fresh_index_does(db) {
        let a = App::open(db.url()).await.unwrap();
        let b = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        bangfu_app::demo::load(&a, &admin).await.unwrap();
        b.warm_search().await.unwrap();
        bangfu_app::exercise::load(&a, bangfu_app::exercise::Size::fraction(0.004).unwrap(), &mut |_| {}).await.unwrap();
        let fresh = App::open(db.url()).await.unwrap();
        let province = Actor::officer("shanxi", RegionCode::new_unchecked(140000));
        for q in ["演练", "口罩", "灭菌", "linfen", "kz", "熔喷布", "運城", "函"] {
            let refreshed = b.search(&province, q, None, Some(100)).await.unwrap();
            let loaded = fresh.search(&province, q, None, Some(100)).await.unwrap();
            assert_eq!(refreshed, loaded, "{q}");
            assert!(!loaded.is_empty() || q == "函", "{q} finds something in the exercise");
        }
    }
}
