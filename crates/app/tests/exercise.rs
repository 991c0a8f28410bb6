//! The province exercise (`bangfu demo --scale province`), loaded at a small fraction on both
//! backends: it loads through the use cases with a valid audit chain, a second load changes
//! nothing, its counts per kind, status and tier look like a province in an emergency, it is
//! marked synthetic, and the same seed gives the same rows.

#![allow(clippy::unwrap_used)] // a test: a failed step should stop it where it failed

use bangfu_app::exercise::{self, MARK, Size};
use bangfu_app::{Actor, App, AppError};
use bangfu_core::model::NeedKind;
use bangfu_store::Store;
use bangfu_store::testing::TestDb;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// 8 enterprises, 200 needs, 400 capabilities: seconds on either backend.
const FRACTION: f64 = 0.004;

async fn load(db: &TestDb) -> (App, exercise::ExerciseReport) {
    let app = App::open(db.url()).await.unwrap();
    let report = exercise::load(&app, Size::fraction(FRACTION).unwrap(), &mut |_| {}).await.unwrap();
    (app, report)
}

/// Every row the exercise writes, in id order, hashed.
async fn digest(store: &Store) -> String {
    let mut hash = Sha256::new();
    let mut add = |rows: String| hash.update(rows.as_bytes());
    add(format!("{:?}", store.enterprises().await.unwrap()));
    add(format!("{:?}", store.providers().await.unwrap()));
    add(format!("{:?}", store.capabilities().await.unwrap()));
    add(format!("{:?}", store.needs().await.unwrap()));
    add(format!("{:?}", store.events().await.unwrap()));
    for case in store.cases().await.unwrap() {
        add(format!("{case:?}"));
        add(format!("{:?}", store.team(case.id).await.unwrap()));
        add(format!("{:?}", store.daily_returns_of_case(case.id).await.unwrap()));
        add(format!("{:?}", store.approvals_of_case(case.id).await.unwrap()));
        add(format!("{:?}", store.shipments_of_case(case.id).await.unwrap()));
        add(format!("{:?}", store.letters_of_case(case.id).await.unwrap()));
    }
    for need in store.needs().await.unwrap() {
        add(format!("{:?}", store.candidates_of_need(need.id).await.unwrap()));
        add(format!("{:?}", store.broadcasts_of_need(need.id).await.unwrap()));
        add(format!("{:?}", store.screening_of_need(need.id).await.unwrap()));
    }
    format!("{:x}", hash.finalize())
}

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole as f64
}

bangfu_store::backend_tests! {
    async fn the_exercise_loads_with_a_valid_chain_and_a_second_load_changes_nothing(db) {
        let (app, report) = load(&db).await;
        assert!(report.loaded, "{}", report.text);
        let store = Store::open(db.url()).await.unwrap();
        let counts = store.table_counts().await.unwrap();
        let last = store.last_event_seq().await.unwrap();

        let again = exercise::load(&app, Size::fraction(FRACTION).unwrap(), &mut |_| panic!("a second load makes no progress")).await.unwrap();
        assert!(!again.loaded);
        assert!(again.text.contains("already loaded") && again.text.contains("nothing changed"), "{}", again.text);
        // Another size is the same exercise: still nothing.
        assert!(!exercise::load(&app, Size::PROVINCE, &mut |_| {}).await.unwrap().loaded);
        assert_eq!(store.table_counts().await.unwrap(), counts);
        assert_eq!(store.last_event_seq().await.unwrap(), last);

        let audit = app.verify_audit().await.unwrap();
        assert_eq!(audit.broken, None);
        assert_eq!(i64::try_from(audit.events).unwrap(), last);
        // The log follows the month: every event of the replay lies in February 2020 (UTC+8),
        // and the load is bracketed by its two marks.
        let events = store.events().await.unwrap();
        assert_eq!(events.first().map(|e| e.action.as_str()), Some(exercise::STARTED));
        assert_eq!(events.last().map(|e| e.action.as_str()), Some(exercise::LOADED));
        let (start, end) = (events[0].at, events[events.len() - 1].at);
        assert!(events.iter().all(|e| (start..=end).contains(&e.at)));
        assert_eq!(end - start, 30 * 24 * 3_600_000);
    }

    async fn the_exercise_looks_like_a_province_in_an_emergency(db) {
        let (_app, _) = load(&db).await;
        let size = Size::fraction(FRACTION).unwrap();
        let store = Store::open(db.url()).await.unwrap();
        let tree = bangfu_core::region::RegionTree::embedded();

        let enterprises = store.enterprises().await.unwrap();
        assert_eq!(enterprises.len(), size.enterprises());
        for e in &enterprises {
            let region = e.region;
            assert_eq!(tree.province_of(region).map(|p| p.name.as_str()), Some("山西省"), "{}", e.name);
            let case = store.case_of_enterprise(e.id).await.unwrap().expect("a case per enterprise");
            assert!(!store.team(case.id).await.unwrap().is_empty(), "a stationed team per case");
            assert!(store.daily_returns_of_case(case.id).await.unwrap().len() >= 5, "daily returns");
        }
        assert_eq!(store.capabilities().await.unwrap().len(), size.capabilities());
        let providers = store.providers().await.unwrap();
        let province_of = |region: &bangfu_core::region::RegionCode| tree.province_of(*region).map(|p| p.code.as_u32());
        let in_shanxi = providers.iter().filter(|p| province_of(&p.region) == Some(140000)).count();
        let provinces: std::collections::BTreeSet<_> = providers.iter().filter_map(|p| province_of(&p.region)).collect();
        assert!((0.2..0.5).contains(&share(in_shanxi, providers.len())), "Shanxi holds {in_shanxi} of {} providers", providers.len());
        assert!(provinces.len() >= 20, "providers in {} provinces", provinces.len());

        let needs = store.needs().await.unwrap();
        assert_eq!(needs.len(), size.needs());
        let count = |f: &dyn Fn(&bangfu_store::NeedRow) -> bool| needs.iter().filter(|n| f(n)).count();
        let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &needs {
            *by_status.entry(n.status.as_str()).or_default() += 1;
        }
        let status = |s: &str| by_status.get(s).copied().unwrap_or(0);
        assert!((0.5..0.9).contains(&share(status("resolved"), needs.len())), "{by_status:?}");
        assert!((0.01..0.1).contains(&share(status("cancelled"), needs.len())), "{by_status:?}");
        assert!(share(status("open") + status("selected") + status("started"), needs.len()) >= 0.08, "{by_status:?}");
        for s in ["open", "selected", "started"] {
            assert!(status(s) > 0, "no {s} need: {by_status:?}");
        }
        for kind in NeedKind::ALL {
            assert!(count(&|n| n.kind == *kind) > 0, "no need of kind {kind}");
        }
        assert!((0.6..0.85).contains(&share(count(&|n| n.kind.has_capabilities()), needs.len())));
        for tier in ["county", "city", "province"] {
            assert!(count(&|n| n.owner_tier.as_str() == tier) > 0, "no need owned by a {tier}");
        }
        assert!(count(&|n| n.supervised) > 0, "flagged for supervision");
        assert!(count(&|n| n.scope.as_str() == "national") > 0);
        let events = store.events().await.unwrap();
        let end = events.last().unwrap().at;
        assert!(count(&|n| n.deadline.is_some_and(|d| d < end) && !matches!(n.status.as_str(), "resolved" | "cancelled")) > 0, "overdue at the end");
        let action = |a: &str| events.iter().filter(|e| e.action == a).count();
        assert!(action("need.escalated") > 0 && action("need.supervised") > 0);
        assert!(action("letter.sent") > 0 && action("letter.acknowledged") > 0);
        assert_eq!(action("need.reported"), needs.len());
        assert!(events.iter().all(|e| e.actor.starts_with(MARK)), "every actor of the exercise is marked");
    }

    async fn the_exercise_is_marked_synthetic_and_sits_beside_the_reference_case(db) {
        let app = App::open(db.url()).await.unwrap();
        bangfu_app::demo::load(&app, &Actor::system("test")).await.unwrap();
        assert!(!app.exercise_present().await.unwrap());
        exercise::load(&app, Size::fraction(FRACTION).unwrap(), &mut |_| {}).await.unwrap();
        assert!(app.exercise_present().await.unwrap());
        let store = Store::open(db.url()).await.unwrap();
        let enterprises = store.enterprises().await.unwrap();
        assert_eq!(enterprises[0].name, bangfu_app::demo::ENTERPRISE, "the reference case is unchanged, first");
        assert!(enterprises[1..].iter().all(|e| e.name.starts_with(MARK) && e.note.contains(exercise::NOTE)));
        assert!(store.providers().await.unwrap().iter().filter(|p| p.key.starts_with("exercise:")).all(|p| p.name.starts_with(MARK)));
        assert!(store.needs().await.unwrap().iter().filter(|n| n.case_id != 1).all(|n| n.title.starts_with(MARK)));
        // The reference case's accounts see only what they saw: 侯马 nothing of 曲沃.
        let houma = Actor::officer("houma", bangfu_core::region::RegionCode::new_unchecked(141081));
        assert!(app.list_cases(&houma, &Default::default(), bangfu_store::PageRequest::first(500)).await.unwrap().items.iter().all(|c| c.enterprise.name.starts_with(MARK)));
        assert_eq!(app.verify_audit().await.unwrap().broken, None);
    }

    async fn the_same_seed_loads_the_same_rows(db) {
        let (_a, _) = load(&db).await;
        let other = TestDb::new(db.backend()).await.unwrap();
        let (_b, _) = load(&other).await;
        let (first, second) = (Store::open(db.url()).await.unwrap(), Store::open(other.url()).await.unwrap());
        assert_eq!(first.table_counts().await.unwrap(), second.table_counts().await.unwrap());
        assert_eq!(digest(&first).await, digest(&second).await);
    }

    async fn a_load_that_stopped_part_way_is_refused(db) {
        let (app, _) = load(&db).await;
        // As if the process had been stopped before its last write.
        db.execute("DELETE FROM events WHERE action = 'exercise.loaded'").await;
        let err = exercise::load(&app, Size::fraction(FRACTION).unwrap(), &mut |_| {}).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
        assert!(err.to_string().contains("did not finish") && err.to_string().contains("new database"), "{err}");
    }
}

#[test]
fn a_fraction_outside_zero_to_one_is_refused_with_an_example() {
    for bad in [0.0, -1.0, 1.5, f64::NAN] {
        let err = Size::fraction(bad).unwrap_err().to_string();
        assert!(err.contains("0.01"), "{err}");
    }
}
