//! The needs queue of issue 13 against the province exercise (a small fraction, both backends):
//! every filter gives exactly the needs a plain reading of every row gives, each sort walks the
//! pages in its order with every need once, the count agrees; bulk actions write one audit event
//! per need and refuse what the actor may not do need by need; saved views belong to their user;
//! notifications are read and unread per user.

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it where it failed

use bangfu_app::accounts::NewUser;
use bangfu_app::exercise::{self, Size};
use bangfu_app::queue::{BulkAction, QueueView};
use bangfu_app::{Actor, App, AppError, from_millis, to_millis};
use bangfu_core::model::{NeedStatus, Role, Scope, Tier};
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_store::{NeedRow, Store};
use bangfu_store::testing::TestDb;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;

/// 8 enterprises, about 200 needs.
const FRACTION: f64 = 0.004;

/// The moment the month of the exercise ends (1 March 2020, 00:00 UTC+8): some needs are still
/// inside their windows, many are past them.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 2, 29, 16, 0, 0).unwrap()
}

struct World {
    app: App,
    store: Store,
    needs: Vec<NeedRow>,
}

async fn world(db: &TestDb) -> World {
    let app = App::open(db.url()).await.unwrap();
    bangfu_app::demo::load(&app, &Actor::system("test")).await.unwrap();
    exercise::load(&app, Size::fraction(FRACTION).unwrap(), &mut |_| {}).await.unwrap();
    let store = Store::open(db.url()).await.unwrap();
    let needs = store.needs().await.unwrap();
    World { app, store, needs }
}

async fn officer(app: &App, username: &str, role: &str, department: &str) -> Actor {
    let input = NewUser {
        username: username.into(),
        display_name: username.into(),
        role: role.into(),
        department: Some(department.into()),
        password: "queue-test-password".into(),
        ..NewUser::default()
    };
    let user = app.add_user(&Actor::system("test"), now(), input).await.unwrap();
    let role = if role == "viewer" { Role::Viewer } else { Role::Officer };
    Actor { name: username.into(), user_id: Some(user.id), role, department: Some(RegionCode::new_unchecked(department.parse().unwrap())), enterprise_id: None, provider_id: None }
}

fn code(text: &str) -> RegionCode {
    RegionCode::new_unchecked(text.parse().unwrap())
}

/// Every page of `view`, walked with pages of 7: the ids in order.
async fn walk(app: &App, actor: &Actor, view: &QueueView) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = app.needs_queue(actor, now(), view, after, 7).await.unwrap();
        ids.extend(page.items.iter().map(|l| l.row.need.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
}

/// The needs `actor` sees, by asking for each one's page.
async fn visible(w: &World, actor: &Actor) -> Vec<NeedRow> {
    let mut out = Vec::new();
    for need in &w.needs {
        match w.app.need_detail(actor, need.id).await {
            Ok(_) => out.push(need.clone()),
            Err(AppError::NotFound(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    out
}

/// When `need`'s response window ends at the default windows (open needs only).
fn respond_by(need: &NeedRow) -> Option<i64> {
    let hours = match need.owner_tier {
        Tier::County => 24,
        Tier::City => 48,
        Tier::Province => 72,
    };
    (need.status.as_str() == "open").then(|| need.reached_owner_at + hours * 3_600_000)
}

fn overdue(need: &NeedRow) -> bool {
    let closed = need.status.is_closed();
    let now = to_millis(now());
    !closed && (need.deadline.is_some_and(|d| d < now) || respond_by(need).is_some_and(|r| r < now))
}

fn in_place(tree: &RegionTree, place: &str, region: &str) -> bool {
    tree.jurisdiction_contains(code(place), code(region))
}

bangfu_store::backend_tests! {
    /// Each filter of the queue, alone and together, lists exactly the needs that a reading of
    /// every need the actor sees says it should, and counts them.
    async fn each_filter_of_the_queue_lists_exactly_the_needs_it_describes(db) {
        let w = world(&db).await;
        let tree = w.app.tree();
        let province = officer(&w.app, "q-shanxi", "officer", "140000").await;
        let seen = visible(&w, &province).await;
        assert!(seen.len() > 100, "the province sees the exercise: {}", seen.len());
        let events = w.store.events().await.unwrap();
        let escalated: BTreeSet<String> = events.iter().filter(|e| e.action == "need.escalated" || e.action == "need.supervised").map(|e| e.entity.clone()).collect();
        let mut letters_sent = BTreeSet::new();
        for need in &w.needs {
            if w.store.letters_of_need(need.id).await.unwrap().iter().any(|l| l.status.as_str() == "sent") {
                letters_sent.insert(need.id);
            }
        }
        let some_case = seen.iter().map(|n| n.case_id).max().unwrap();
        let some_city = {
            let case = w.store.case(some_case).await.unwrap().unwrap();
            tree.city_of(case.region).unwrap().code.to_string()
        };
        let mut case_region = std::collections::BTreeMap::new();
        for case in w.store.cases().await.unwrap() {
            case_region.insert(case.id, case.region.to_string());
        }
        let word = seen.iter().find(|n| n.title.chars().count() > 6).unwrap().title.chars().skip(4).take(2).collect::<String>();
        type Check = Box<dyn Fn(&NeedRow) -> bool>;
        let views: Vec<(QueueView, Check)> = vec![
            (QueueView { status: "active".into(), ..QueueView::default() }, Box::new(|n: &NeedRow| !n.status.is_closed())),
            (QueueView { status: "started".into(), ..QueueView::default() }, Box::new(|n: &NeedRow| n.status.as_str() == "started")),
            (QueueView { kind: "equipment".into(), ..QueueView::default() }, Box::new(|n: &NeedRow| n.kind.as_str() == "equipment")),
            (QueueView { tier: "city".into(), ..QueueView::default() }, Box::new(|n: &NeedRow| n.owner_tier.as_str() == "city")),
            (QueueView { owner: "140000".into(), ..QueueView::default() }, Box::new(|n: &NeedRow| n.owner.to_string() == "140000")),
            (QueueView { owner: "山西省".into(), status: "open".into(), ..QueueView::default() }, Box::new(|n: &NeedRow| n.owner.to_string() == "140000" && n.status.as_str() == "open")),
            (QueueView { place: some_city.clone(), ..QueueView::default() }, { let (r, c, t) = (case_region.clone(), some_city.clone(), tree); Box::new(move |n: &NeedRow| in_place(t, &c, &r[&n.case_id])) }),
            (QueueView { case: some_case.to_string(), ..QueueView::default() }, Box::new(move |n: &NeedRow| n.case_id == some_case)),
            (QueueView { overdue: true, ..QueueView::default() }, Box::new(overdue)),
            (QueueView { escalated: true, ..QueueView::default() }, { let e = escalated.clone(); Box::new(move |n: &NeedRow| n.supervised || e.contains(&format!("need:{}", n.id))) }),
            (QueueView { awaiting_reply: true, ..QueueView::default() }, { let l = letters_sent.clone(); Box::new(move |n: &NeedRow| l.contains(&n.id)) }),
            (QueueView { q: word.clone(), ..QueueView::default() }, { let q = word.clone(); Box::new(move |n: &NeedRow| n.title.contains(&q) || n.specification.contains(&q)) }),
            (QueueView { assigned: "none".into(), ..QueueView::default() }, Box::new(|_| true)),
            (
                QueueView { status: "active".into(), tier: "province".into(), overdue: true, escalated: true, ..QueueView::default() },
                { let e = escalated.clone(); Box::new(move |n: &NeedRow| overdue(n) && n.owner_tier.as_str() == "province" && (n.supervised || e.contains(&format!("need:{}", n.id)))) },
            ),
        ];
        let mut nonempty = 0;
        for (view, check) in &views {
            for sort in ["id", "due", "created", "updated"] {
                let view = QueueView { sort: sort.into(), ..view.clone() };
                let listed: BTreeSet<i64> = walk(&w.app, &province, &view).await.into_iter().collect();
                let expected: BTreeSet<i64> = seen.iter().filter(|n| check(n)).map(|n| n.id).collect();
                assert_eq!(listed, expected, "{}", view.query_string());
                assert_eq!(w.app.count_queue(&province, now(), &view).await.unwrap(), expected.len() as i64, "{}", view.query_string());
                nonempty += usize::from(!expected.is_empty()) ;
            }
        }
        assert!(nonempty >= 4 * (views.len() - 2), "most filters hold some needs of the exercise ({nonempty})");

        // A county sees less than the province, and its queue only what it sees.
        let county_case = w.store.case(some_case).await.unwrap().unwrap();
        let county = officer(&w.app, "q-county", "officer", &county_case.region.to_string()).await;
        let county_seen: BTreeSet<i64> = visible(&w, &county).await.iter().map(|n| n.id).collect();
        let listed: BTreeSet<i64> = walk(&w.app, &county, &QueueView::default()).await.into_iter().collect();
        assert_eq!(listed, county_seen);
        assert!(county_seen.len() < seen.len());

        // Bad input names its field.
        for (view, field) in [
            (QueueView { status: "lost".into(), ..QueueView::default() }, "status"),
            (QueueView { tier: "nation".into(), ..QueueView::default() }, "tier"),
            (QueueView { place: "不存在县".into(), ..QueueView::default() }, "place"),
            (QueueView { sort: "priority".into(), ..QueueView::default() }, "sort"),
            (QueueView { case: "x".into(), ..QueueView::default() }, "case"),
        ] {
            match w.app.needs_queue(&province, now(), &view, None, 10).await {
                Err(AppError::BadInput(message)) => assert!(message.starts_with(field), "{message}"),
                other => panic!("{field}: {:?}", other.map(|p| p.items.len())),
            }
        }
    }

    /// Each sort walks the pages in its order — most overdue first, newest reported, newest
    /// changed — with ties by id, and every need exactly once.
    async fn each_sort_walks_the_queue_in_its_order_with_every_need_once(db) {
        let w = world(&db).await;
        let province = officer(&w.app, "q-shanxi", "officer", "140000").await;
        let seen = visible(&w, &province).await;
        let view = |sort: &str| QueueView { sort: sort.into(), ..QueueView::default() };
        let mut by_due = seen.clone();
        by_due.sort_by_key(|n| (respond_by(n).unwrap_or(i64::MAX), n.id));
        let mut by_created = seen.clone();
        by_created.sort_by_key(|n| (std::cmp::Reverse(n.created_at), std::cmp::Reverse(n.id)));
        let mut by_updated = seen.clone();
        by_updated.sort_by_key(|n| (std::cmp::Reverse(n.updated_at), std::cmp::Reverse(n.id)));
        for (sort, expected) in [("due", &by_due), ("created", &by_created), ("updated", &by_updated)] {
            let ids = walk(&w.app, &province, &view(sort)).await;
            assert_eq!(ids, expected.iter().map(|n| n.id).collect::<Vec<_>>(), "sort {sort}");
        }
        // The countdown: the first need is the most overdue, and says so.
        let first = w.app.needs_queue(&province, now(), &view("due"), None, 1).await.unwrap();
        let line = &first.items[0];
        assert_eq!(line.respond_by.map(to_millis), respond_by(&by_due[0]));
        assert!(line.overdue && line.respond_by.unwrap() < now());
        // A page walked after the needs of the page before have changed keeps its place: resolve
        // the first page's needs (they leave the open ones), and the next page starts where it did.
        let first_page = w.app.needs_queue(&province, now(), &view("due"), None, 5).await.unwrap();
        for line in &first_page.items {
            w.app.set_need_status(&province, now(), line.row.need.id, NeedStatus::Resolved, "测试：走查分页").await.unwrap();
        }
        let second = w.app.needs_queue(&province, now(), &view("due"), first_page.next, 5).await.unwrap();
        let expected: Vec<i64> = by_due.iter().skip(5).take(5).map(|n| n.id).collect();
        assert_eq!(second.items.iter().map(|l| l.row.need.id).collect::<Vec<_>>(), expected);
        let _ = from_millis(0);
    }

    /// Issue 13 item 2: a bulk action is one use case per need, each with its audit event; a
    /// need the actor may not decide on is refused by itself; a bad reason writes nothing.
    async fn a_bulk_action_writes_one_audit_event_per_need(db) {
        let w = world(&db).await;
        let province = officer(&w.app, "q-shanxi", "officer", "140000").await;
        let view = QueueView { status: "active".into(), tier: "city".into(), sort: "due".into(), ..QueueView::default() };
        let open = w.app.needs_queue(&province, now(), &view, None, 6).await.unwrap();
        let ids: Vec<i64> = open.items.iter().map(|l| l.row.need.id).collect();
        assert_eq!(ids.len(), 6);
        let before = w.store.last_event_seq().await.unwrap();
        match w.app.bulk(&province, now(), &ids, &BulkAction::Escalate { reason: "  ".into() }).await {
            Err(AppError::BadInput(message)) => assert!(message.starts_with("reason"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(w.app.bulk(&province, now(), &[], &BulkAction::AssignStationed).await, Err(AppError::BadInput(_))));
        assert_eq!(w.store.last_event_seq().await.unwrap(), before, "nothing written");

        let outcomes = w.app.bulk(&province, now(), &ids, &BulkAction::Escalate { reason: "批量上报测试".into() }).await.unwrap();
        assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
        let events = w.store.events_after(before, 100).await.unwrap();
        assert_eq!(events.len(), ids.len(), "one event per need");
        let named: BTreeSet<String> = events.iter().map(|e| e.entity.clone()).collect();
        assert_eq!(named, ids.iter().map(|id| format!("need:{id}")).collect());
        assert!(events.iter().all(|e| (e.action == "need.escalated" || e.action == "need.supervised") && e.payload.contains("批量上报测试")));

        // Assign the stationed officer, and broadcast: one event each.
        let before = w.store.last_event_seq().await.unwrap();
        let outcomes = w.app.bulk(&province, now(), &ids[..3], &BulkAction::AssignStationed).await.unwrap();
        assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
        let events = w.store.events_after(before, 100).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.action == "need.assigned").count(), 3);
        let assigned = w.app.needs_queue(&province, now(), &QueueView { assigned: "any".into(), sort: "id".into(), ..QueueView::default() }, None, 50).await.unwrap();
        assert_eq!(assigned.items.iter().map(|l| l.row.need.id).collect::<BTreeSet<_>>(), ids[..3].iter().copied().collect());
        assert!(assigned.items.iter().all(|l| l.row.assignee_title.as_deref().is_some_and(|t| t.contains("驻企") || t.contains("特派员"))));
        let before = w.store.last_event_seq().await.unwrap();
        let outcomes = w.app.bulk(&province, now(), &ids[3..], &BulkAction::Broadcast { ring: Scope::Province }).await.unwrap();
        assert!(outcomes.iter().all(|o| o.result.is_ok()), "{outcomes:?}");
        assert_eq!(w.store.events_after(before, 100).await.unwrap().iter().filter(|e| e.action == "need.broadcast").count(), 3);

        // A county officer of another county may not decide on them: each refused, nothing written.
        let other = officer(&w.app, "q-houma", "officer", "141081").await;
        let before = w.store.last_event_seq().await.unwrap();
        let outcomes = w.app.bulk(&other, now(), &ids, &BulkAction::AssignStationed).await.unwrap();
        assert!(outcomes.iter().all(|o| matches!(o.result, Err(AppError::NotFound(_) | AppError::Forbidden(_)))), "{outcomes:?}");
        assert_eq!(w.store.last_event_seq().await.unwrap(), before);
        assert_eq!(w.app.verify_audit().await.unwrap().broken, None);
    }

    /// Saved views are their user's: saved by name (a second save replaces the first), listed,
    /// deleted; another user neither sees nor deletes them; a view that would not open is refused.
    async fn saved_views_belong_to_their_user(db) {
        let w = world(&db).await;
        let me = officer(&w.app, "q-linfen", "officer", "141000").await;
        let other = officer(&w.app, "q-shanxi", "officer", "140000").await;
        let view = QueueView { kind: "equipment".into(), overdue: true, q: "口罩 机".into(), ..QueueView::default() };
        let saved = w.app.save_view(&me, now(), "设备逾期", &view).await.unwrap();
        assert_eq!(saved.query, "kind=equipment&overdue=1&q=%E5%8F%A3%E7%BD%A9%20%E6%9C%BA&sort=due");
        let again = w.app.save_view(&me, now(), "设备逾期", &QueueView { sort: "created".into(), ..view.clone() }).await.unwrap();
        assert_eq!(again.id, saved.id);
        assert_eq!(w.app.saved_views(&me).await.unwrap().len(), 1);
        assert!(w.app.saved_views(&other).await.unwrap().is_empty());
        assert!(matches!(w.app.delete_view(&other, now(), saved.id).await, Err(AppError::NotFound(_))));
        assert!(matches!(w.app.save_view(&me, now(), "坏的", &QueueView { tier: "nation".into(), ..QueueView::default() }).await, Err(AppError::BadInput(_))));
        assert!(matches!(w.app.save_view(&me, now(), " ", &view).await, Err(AppError::BadInput(_))));
        w.app.delete_view(&me, now(), saved.id).await.unwrap();
        assert!(w.app.saved_views(&me).await.unwrap().is_empty());
        // Every role's default view opens.
        for actor in [&me, &other, &Actor::system("admin")] {
            let default = w.app.default_view(actor);
            w.app.needs_queue(actor, now(), &default, None, 10).await.unwrap();
        }
        assert_eq!(w.app.default_view(&me).owner.to_string(), "141000");
    }

    /// Issue 13 item 4: notifications are unread until the user reads them, one by one or all
    /// at once; a new one is unread again; another department's is not found.
    async fn notifications_are_read_and_unread_per_user(db) {
        let w = world(&db).await;
        let me = officer(&w.app, "q-shanxi", "officer", "140000").await;
        let colleague = officer(&w.app, "q-shanxi2", "officer", "140000").await;
        let (page, total) = w.app.notification_lines(&me, bangfu_store::PageRequest::first(20)).await.unwrap();
        assert!(total > 20 && page.items.iter().all(|l| !l.read));
        let unread = w.app.unread_notifications(&me).await.unwrap();
        assert_eq!(unread, total);
        let first = page.items[0].row.id;
        w.app.mark_notification_read(&me, now(), first).await.unwrap();
        w.app.mark_notification_read(&me, now(), first).await.unwrap();
        assert_eq!(w.app.unread_notifications(&me).await.unwrap(), total - 1);
        assert_eq!(w.app.unread_notifications(&colleague).await.unwrap(), total, "read per user");
        let (page, _) = w.app.notification_lines(&me, bangfu_store::PageRequest::first(20)).await.unwrap();
        assert!(page.items[0].read && !page.items[1].read);
        // Newest first, paged.
        assert!(page.items.windows(2).all(|p| p[0].row.id > p[1].row.id));
        let (next, _) = w.app.notification_lines(&me, bangfu_store::PageRequest { after: page.next, limit: 20 }).await.unwrap();
        assert!(next.items[0].row.id < page.items[19].row.id);

        assert_eq!(w.app.mark_all_notifications_read(&me, now()).await.unwrap(), total - 1);
        assert_eq!(w.app.unread_notifications(&me).await.unwrap(), 0);
        // A new notification of the department is unread again.
        let need = w.app.needs_queue(&me, now(), &QueueView { status: "active".into(), tier: "city".into(), ..QueueView::default() }, None, 1).await.unwrap();
        let mut listener = w.app.listen_notifications().await.unwrap();
        w.app.escalate_need(&me, now(), need.items[0].row.need.id, "测试：上报到省").await.unwrap();
        let woken = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv()).await.unwrap().unwrap();
        assert_eq!(woken.payload, "140000", "the department the need went to: {woken:?}");
        assert_eq!(w.app.unread_notifications(&me).await.unwrap(), 1, "the escalation reached the province");
        let someone_elses = w.store.notifications_of_department("141000").await.unwrap();
        assert!(matches!(w.app.mark_notification_read(&me, now(), someone_elses[0].id).await, Err(AppError::NotFound(_))));
    }
}

bangfu_store::backend_tests! {
    /// Issue 13 item 3: the drill-down sums the cases and needs of each region one level down,
    /// equal to a count of every row; a county has no level below; quiet cases are those whose
    /// last event is older than the days asked; a case's timeline filters by kind of event and a
    /// need's history holds its own events only.
    async fn the_drill_down_and_the_histories_count_what_the_rows_hold(db) {
        let w = world(&db).await;
        let tree = w.app.tree();
        let province = officer(&w.app, "q-shanxi", "officer", "140000").await;
        let overview = w.app.region_overview(&province, now(), None).await.unwrap();
        assert_eq!(overview.place.as_deref(), Some("140000"), "every case seen lies in 山西省");
        let cases = w.store.cases().await.unwrap();
        assert_eq!(overview.total.cases, cases.len() as i64);
        let city_of = |region: &str| tree.city_of(code(region)).map(|c| c.code.to_string()).unwrap_or_else(|| region.to_string());
        let mut expected: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
        for case in &cases {
            expected.entry(city_of(&case.region.to_string())).or_default().0 += 1;
        }
        for need in &w.needs {
            if need.status.is_closed() {
                continue;
            }
            let case = cases.iter().find(|c| c.id == need.case_id).unwrap();
            let entry = expected.entry(city_of(&case.region.to_string())).or_default();
            entry.1 += 1;
            entry.2 += i64::from(overdue(need));
        }
        let got: std::collections::BTreeMap<String, (i64, i64, i64)> =
            overview.lines.iter().map(|l| (l.code.clone(), (l.cases, l.unclosed_needs, l.overdue_needs))).collect();
        assert_eq!(got, expected);
        assert!(overview.lines.iter().all(|l| l.has_children));
        // Down to a city: its counties; down to a county: nothing below.
        let city = overview.lines.iter().max_by_key(|l| l.cases).unwrap().code.clone();
        let down = w.app.region_overview(&province, now(), Some(code(&city))).await.unwrap();
        assert_eq!(down.path.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["140000", city.as_str()]);
        assert_eq!(down.lines.iter().map(|l| l.cases).sum::<i64>(), expected[&city].0);
        let county = down.lines[0].code.clone();
        let bottom = w.app.region_overview(&province, now(), Some(code(&county))).await.unwrap();
        assert!(bottom.lines.is_empty() && bottom.total.cases > 0);

        // Quiet cases: no event since `days` before now.
        let events = w.store.events().await.unwrap();
        for days in [1, 5] {
            let before = to_millis(now()) - days * 24 * 3_600_000;
            let expected: BTreeSet<i64> = cases
                .iter()
                .filter(|c| c.status.as_str() == "active")
                .filter(|c| events.iter().filter(|e| e.case_id == Some(c.id)).map(|e| e.at).max().unwrap_or(c.opened_at) < before)
                .map(|c| c.id)
                .collect();
            let (page, total) = w.app.quiet_cases(&province, now(), days, bangfu_store::PageRequest::first(500)).await.unwrap();
            assert_eq!(page.items.iter().map(|(c, _)| c.case.id).collect::<BTreeSet<_>>(), expected, "{days} days");
            assert_eq!(total, expected.len() as i64);
        }
        assert!(matches!(w.app.quiet_cases(&province, now(), 0, bangfu_store::PageRequest::first(5)).await, Err(AppError::BadInput(_))));

        // A case's timeline by kind, and a need's history.
        let case = cases.iter().max_by_key(|c| events.iter().filter(|e| e.case_id == Some(c.id)).count()).unwrap();
        for kind in ["need", "return", "team"] {
            let (page, total) = w.app.case_events_of_kind(&province, case.id, Some(kind), bangfu_store::PageRequest::first(500)).await.unwrap();
            let expected: Vec<i64> = events.iter().rev().filter(|e| e.case_id == Some(case.id) && e.action.starts_with(&format!("{kind}."))).map(|e| e.seq).collect();
            assert_eq!(page.items.iter().map(|e| e.seq).collect::<Vec<_>>(), expected, "{kind}");
            assert_eq!(total, expected.len() as i64);
        }
        assert!(matches!(w.app.case_events_of_kind(&province, case.id, Some("everything"), bangfu_store::PageRequest::first(5)).await, Err(AppError::BadInput(_))));
        let need = w.needs.iter().filter(|n| n.case_id == case.id).max_by_key(|n| events.iter().filter(|e| e.entity == format!("need:{}", n.id)).count()).unwrap();
        let (history, total) = w.app.need_history(&province, need.id, bangfu_store::PageRequest::first(500)).await.unwrap();
        let letters: BTreeSet<String> = w.store.letters_of_need(need.id).await.unwrap().iter().map(|l| format!("letter:{}", l.id)).collect();
        let expected: Vec<i64> = events.iter().filter(|e| e.entity == format!("need:{}", need.id) || letters.contains(&e.entity)).map(|e| e.seq).collect();
        assert!(expected.len() >= 2);
        assert_eq!(history.items.iter().map(|e| e.seq).collect::<Vec<_>>(), expected);
        assert_eq!(total, expected.len() as i64);
        let houma = officer(&w.app, "q-houma", "officer", "141081").await;
        if !visible(&w, &houma).await.iter().any(|n| n.id == need.id) {
            assert!(matches!(w.app.need_history(&houma, need.id, bangfu_store::PageRequest::first(5)).await, Err(AppError::NotFound(_))));
        }
    }
}

bangfu_store::backend_tests! {
    /// Issue 12: the dashboard is kept per database version, moment and what its reader sees —
    /// a second reading at the same moment is the same; a change shows at once; a city's
    /// officer is not answered with the province's dashboard, nor another moment with this one.
    async fn the_dashboard_kept_between_readings_is_never_stale(db) {
        let w = world(&db).await;
        let province = officer(&w.app, "d-shanxi", "officer", "140000").await;
        let pages = bangfu_app::dashboard::DashboardPages::default();
        let first = w.app.dashboard(&province, now(), pages).await.unwrap();
        let again = w.app.dashboard(&province, now(), pages).await.unwrap();
        assert_eq!((first.total_cases, first.total_overdue, first.overview.total.unclosed_needs), (again.total_cases, again.total_overdue, again.overview.total.unclosed_needs));

        // A need reported: the next reading counts it.
        let case = w.store.cases().await.unwrap().into_iter().find(|c| c.status.as_str() == "active").unwrap();
        let need = bangfu_app::needs::NewNeed { kind: "labour".into(), title: "看板计数".into(), quantity: 1.0, unit: "人".into(), requires: serde_json::json!({"skill": "机修"}), ..Default::default() };
        w.app.report_need(&Actor::system("t"), now(), case.id, need).await.unwrap();
        let after = w.app.dashboard(&province, now(), pages).await.unwrap();
        assert_eq!(after.overview.total.unclosed_needs, first.overview.total.unclosed_needs + 1, "the new need is counted");

        // Another reader's dashboard is its own reading.
        let city = officer(&w.app, "d-city", "officer", &after.overview.lines[0].code).await;
        let theirs = w.app.dashboard(&city, now(), pages).await.unwrap();
        assert_eq!(theirs.overview.total.cases, after.overview.lines[0].cases);
        assert!(theirs.total_cases < after.total_cases);

        // A later moment is read again: a day on, more needs are past their windows.
        let later = w.app.dashboard(&province, now() + chrono::TimeDelta::days(3), pages).await.unwrap();
        let recount = w.app.region_overview(&province, now() + chrono::TimeDelta::days(3), None).await.unwrap();
        assert_eq!(later.total_overdue, recount.total.overdue_needs);
        assert!(later.total_overdue > after.total_overdue, "{} then {}", after.total_overdue, later.total_overdue);
    }
}
