//! Sourcing on each server's registry index (issue 12): what a need records equals the bounded
//! record of a full scan of the stored registry, however capability changes interleave across
//! two servers on one database. Every test runs as `NAME::sqlite` and `NAME::postgres`.

// A test binary: its helpers unwrap as the tests do, and a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use bangfu_app::needs::NewNeed;
use bangfu_app::registry::NewProvider;
use bangfu_app::{Actor, App};
use bangfu_core::bounded_screening::{Bounds, bounded_by_scan};
use bangfu_core::capability::{AttrValue, Capability, CapabilityAttrs, Requirement, SterilisationMethod};
use bangfu_core::region::{Level, RegionCode, RegionTree};
use bangfu_core::routing::RoutingPolicy;
use bangfu_core::screening::{NeedSpec, Screener};
use bangfu_core::travel::{GeodesicTravel, LonLat};
use bangfu_store::Store;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so that a failure replays.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (high - low)
    }
}

/// Attributes of a sterilisation capability as a user types them.
fn sterilisation(dice: &mut Dice) -> Value {
    json!({
        "method": SterilisationMethod::ALL[dice.below(SterilisationMethod::ALL.len())].as_str(),
        "turnaround_h": dice.between(6.0, 120.0).round(),
        "capacity_per_day": dice.between(5_000.0, 300_000.0).round(),
    })
}

/// The stored registry of `kind`, typed, and the bounded record a full scan of it gives for the
/// stored need `need_id`.
async fn scanned(store: &Store, need_id: i64, bounds: Bounds) -> bangfu_core::bounded_screening::BoundedScreening<i64> {
    let (need, _, enterprise) = store.need_with_case(need_id).await.unwrap().unwrap();
    let kind = need.kind;
    let mut capabilities = Vec::new();
    for (row, provider) in store.capabilities_with_providers_of_kind(need.kind.as_str()).await.unwrap() {
        let attrs = Value::Object(row.attrs.clone());
        let attrs = CapabilityAttrs::from_attrs(kind, &bangfu_app::registry::attr_values(&attrs).unwrap()).unwrap();
        capabilities.push(Capability {
            provider: provider.id,
            name: provider.name.clone(),
            region: provider.region,
            at: LonLat::new(provider.lon.unwrap(), provider.lat.unwrap()).unwrap(),
            available: row.available,
            attrs,
        });
    }
    let requires = Value::Object(need.requires.clone());
    let requires: Vec<(String, AttrValue)> = bangfu_app::registry::attr_values(&requires).unwrap();
    let mut spec = NeedSpec::new(
        enterprise.region,
        LonLat::new(enterprise.lon.unwrap(), enterprise.lat.unwrap()).unwrap(),
        need.quantity,
        Requirement::from_attrs(kind, &requires).unwrap(),
    )
    .unwrap();
    spec.max_distance_km = need.max_distance_km;
    spec.max_lead_time_h = need.max_lead_time_h;
    let (travel, policy) = (GeodesicTravel::default(), RoutingPolicy::default());
    bounded_by_scan(&Screener::new(RegionTree::embedded(), &policy, &travel), &spec, &capabilities, bounds).unwrap()
}

/// What a need recorded of its screening: (counts, feasible providers best first, rejected providers).
async fn recorded(store: &Store, need_id: i64) -> ((i64, i64, [i64; 5]), Vec<i64>, Vec<i64>) {
    let s = store.screening_of_need(need_id).await.unwrap().expect("a screening row");
    let counts = (s.screened, s.feasible, [s.unavailable, s.spec_mismatch, s.insufficient_capacity, s.too_far, s.too_slow]);
    let candidates = store.candidates_of_need(need_id).await.unwrap();
    let feasible = candidates.iter().filter(|c| c.feasible).map(|c| c.provider_id).collect();
    let mut rejected: Vec<i64> = candidates.iter().filter(|c| !c.feasible).map(|c| c.provider_id).collect();
    rejected.sort();
    (counts, feasible, rejected)
}

bangfu_store::backend_tests! {
    /// Providers are added and their capabilities changed at random through two servers on one
    /// database, while needs are reported through either: each need records exactly what a
    /// full scan of the stored registry gives — the counts per reason, the best K in order, the
    /// narrowest ring's best, the nearest rejections per reason — so each server's index
    /// followed every change, whichever server made it.
    async fn sourcing_through_either_server_records_what_a_full_scan_gives(db) {
        let bounds = Bounds { candidates: 3, per_reason: 2 };
        let a = App::open(db.url()).await.unwrap().with_screening_bounds(bounds);
        let b = App::open(db.url()).await.unwrap().with_screening_bounds(bounds);
        let admin = Actor::system("test");
        bangfu_app::demo::load(&a, &admin).await.unwrap();
        let counties: Vec<_> = RegionTree::embedded().iter().filter(|r| r.level == Level::County && r.lon.is_some()).collect();
        let mut dice = Dice(0x5eed_0012);
        let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let mut providers: Vec<i64> = Vec::new();
        let store = Store::open(db.url()).await.unwrap();
        for round in 0..12i64 {
            let now = t0 + Duration::hours(round);
            // Some new providers, some changed capabilities, each through one server or the other.
            for step in 0..15 {
                let app = if dice.below(2) == 0 { &a } else { &b };
                if providers.is_empty() || dice.below(3) == 0 {
                    let county = counties[dice.below(counties.len())];
                    let key = format!("p-{round}-{step}");
                    let provider = app
                        .add_provider(&admin, now, NewProvider {
                            key: key.clone(),
                            name: format!("灭菌厂{key}"),
                            region: county.code.to_string(),
                            lon: Some(county.lon.unwrap() + dice.between(-0.3, 0.3)),
                            lat: Some(county.lat.unwrap() + dice.between(-0.3, 0.3)),
                            note: String::new(),
                        })
                        .await
                        .unwrap();
                    providers.push(provider.id);
                }
                let provider = providers[dice.below(providers.len())];
                let available = dice.below(5) != 0;
                app.set_capability(&admin, now, provider, "sterilisation", available, &sterilisation(&mut dice)).await.unwrap();
            }
            // Needs with and without limits, reported through either server.
            for i in 0..3 {
                let app = if dice.below(2) == 0 { &a } else { &b };
                let methods: Vec<&str> = SterilisationMethod::ALL.iter().filter(|_| dice.below(2) == 0).map(|m| m.as_str()).collect();
                let need = NewNeed {
                    kind: "sterilisation".into(),
                    title: format!("灭菌 {round}-{i}"),
                    quantity: dice.between(10_000.0, 500_000.0).round(),
                    unit: "只".into(),
                    requires: if methods.is_empty() { json!({}) } else { json!({"methods": methods}) },
                    max_distance_km: (dice.below(3) != 0).then(|| dice.between(100.0, 1500.0)),
                    max_lead_time_h: (dice.below(3) != 0).then(|| dice.between(30.0, 150.0)),
                    ..NewNeed::default()
                };
                let reported = app.report_and_source(&admin, now, 1, need).await.unwrap();
                let scan = scanned(&store, reported.id, bounds).await;
                let (counts, feasible, rejected) = recorded(&store, reported.id).await;
                let as_i64 = |n: usize| i64::try_from(n).unwrap();
                assert_eq!(counts, (as_i64(scan.screened), as_i64(scan.feasible), scan.counts.0.map(as_i64)), "need {}", reported.id);
                let expected: Vec<i64> = scan.widening_candidates().map(|c| c.provider).collect();
                let mut expected_sorted = expected.clone();
                expected_sorted.sort_by(|x, y| {
                    let (cx, cy) = (scan.widening_candidates().find(|c| c.provider == *x).unwrap(), scan.widening_candidates().find(|c| c.provider == *y).unwrap());
                    cx.lead_time_h.total_cmp(&cy.lead_time_h).then(cx.road_km.total_cmp(&cy.road_km)).then(x.cmp(y))
                });
                assert_eq!(feasible, expected_sorted, "need {}: the best {} and the narrowest ring's best", reported.id, bounds.candidates);
                assert!(feasible.len() <= bounds.candidates + 1);
                let mut expected_rejected: Vec<i64> = scan.rejected.iter().map(|r| r.provider).collect();
                expected_rejected.sort();
                assert_eq!(rejected, expected_rejected, "need {}: the nearest rejections per reason", reported.id);
                assert!(rejected.len() <= 5 * bounds.per_reason);
            }
        }
        let audit = a.verify_audit().await.unwrap();
        assert_eq!(audit.broken, None, "{audit:?}");
    }

    /// Sourcing a need again replaces its last record instead of adding to it.
    async fn sourcing_again_replaces_the_last_record(db) {
        let app = App::open(db.url()).await.unwrap().with_screening_bounds(Bounds { candidates: 2, per_reason: 1 });
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let need = app
            .report_and_source(&admin, now, 1, NewNeed {
                kind: "sterilisation".into(),
                title: "再灭菌".into(),
                quantity: 90_000.0,
                unit: "只".into(),
                max_distance_km: Some(400.0),
                ..NewNeed::default()
            })
            .await
            .unwrap();
        let store = Store::open(db.url()).await.unwrap();
        let first = store.candidates_of_need(need.id).await.unwrap().len();
        for hour in 1..4 {
            app.source_need(&admin, now + Duration::hours(hour), need.id).await.unwrap();
        }
        assert_eq!(store.candidates_of_need(need.id).await.unwrap().len(), first);
        let screening = store.screening_of_need(need.id).await.unwrap().unwrap();
        assert_eq!(screening.screened_at, (now + Duration::hours(3)).timestamp_millis());
        assert!(screening.screened >= 3, "the reference case registers three sterilisation plants: {screening:?}");
    }

    /// A report answers with the need as its reporter then reads it: the detail put together
    /// from the write is the detail read back afterwards — candidates with their ids and
    /// providers, the screening's counts, a letter drafted across provinces, what the reader may
    /// do — for each kind of reporter and need.
    async fn a_report_answers_the_detail_that_reading_the_need_gives(db) {
        let app = App::open(db.url()).await.unwrap().with_screening_bounds(Bounds { candidates: 2, per_reason: 1 });
        let admin = Actor::system("test");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let reporters = [
            admin.clone(),
            Actor::officer("曲沃县工信局", RegionCode::new_unchecked(141021)),
            Actor::officer("临汾市工信局", RegionCode::new_unchecked(141000)),
            Actor::officer("山西省工信厅", RegionCode::new_unchecked(140000)),
        ];
        let needs = [
            NewNeed { kind: "sterilisation".into(), title: "灭菌".into(), quantity: 90_000.0, unit: "只".into(), max_distance_km: Some(400.0), ..NewNeed::default() },
            NewNeed { kind: "sterilisation".into(), title: "灭菌（限时）".into(), quantity: 90_000.0, unit: "只".into(), max_lead_time_h: Some(30.0), ..NewNeed::default() },
            // Its only provider is in 东莞: routed across provinces, with a letter drafted.
            NewNeed { kind: "equipment".into(), title: "口罩生产线".into(), quantity: 2.0, unit: "条".into(), requires: json!({"item": "口罩生产线"}), ..NewNeed::default() },
            NewNeed { kind: "raw_material".into(), title: "熔喷布".into(), quantity: 5.0, unit: "吨".into(), requires: json!({"material": "熔喷布"}), ..NewNeed::default() },
            NewNeed { kind: "labour".into(), title: "技工".into(), quantity: 3.0, unit: "人".into(), requires: json!({"skill": "口罩机调试"}), ..NewNeed::default() },
        ];
        let mut letters = 0;
        for (i, reporter) in reporters.iter().enumerate() {
            for (j, need) in needs.iter().enumerate() {
                let at = now + Duration::minutes(i64::try_from(i * needs.len() + j).unwrap());
                let answered = app.report_and_source_detail(reporter, at, 1, need.clone()).await.unwrap();
                let read = app.need_detail(reporter, answered.need.id).await.unwrap();
                assert_eq!(format!("{answered:?}"), format!("{read:?}"), "{} reporting {}", reporter.name, need.title);
                assert!(answered.screening.is_some(), "{} reporting {}: sourced at once", reporter.name, need.title);
                letters += answered.letters.len();
            }
        }
        assert!(letters > 0, "a need routed across provinces answers with its drafted letter");

        // The case page's map reads every need's candidates in one statement: the same
        // candidates, in the same order, as reading each need.
        for reporter in &reporters {
            let mut each = Vec::new();
            for need in app.case_detail(reporter, 1).await.unwrap().needs {
                each.extend(app.need_detail(reporter, need.id).await.unwrap().candidates);
            }
            assert!(each.len() > 20, "candidates of many needs");
            let at_once = app.case_candidates(reporter, 1).await.unwrap();
            assert_eq!(format!("{at_once:?}"), format!("{each:?}"), "{}", reporter.name);
        }
        let elsewhere = Actor::officer("翼城县工信局", RegionCode::new_unchecked(141022));
        assert!(matches!(app.case_candidates(&elsewhere, 1).await, Err(bangfu_app::AppError::NotFound(_))), "not the case of another county");
    }
}
