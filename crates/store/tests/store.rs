//! The store against a real SQLite file and, when BANGFU_TEST_PG names a server, a fresh
//! PostgreSQL database: every test in `backend_tests!` runs as `NAME::sqlite` and `NAME::postgres`.

use bangfu_core::audit::{EventContent, GENESIS_HASH, verify_chain};
use bangfu_store::testing::TestDb;
use bangfu_store::lists::{NeedQuery, ProviderQuery, VisibleCases, VisibleNeeds, VisibleProviders};
use bangfu_core::letter::Department;
use bangfu_core::model::{Bilingual, CandidateStatus, CaseStatus, LetterStatus, NeedKind, NeedStatus, Scope, Tier};
use bangfu_core::outbox::{AttemptOutcome, ChannelKind, EventKind, MessageFormat, MessageStatus};
use bangfu_core::screening::KeptReason;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_store::{JsonObject, Backend, CandidateRow, CapabilityRow, CaseRow, ChannelRow, LetterRow, OutboxAttemptRow, OutboxRow, EnterpriseRow, EventRow, NeedRow, NewEvent, NotificationRow, PageRequest, ProviderRow, Store, StoreError, WriteTx};

/// The region of `code` (a code of the embedded tree).
fn rc(code: &str) -> RegionCode {
    RegionTree::embedded().parse_code(code).expect("a region of the tree")
}

fn enterprise(credit_code: &str) -> EnterpriseRow {
    EnterpriseRow {
        id: 0,
        name: "山西健康动力科技有限公司".into(),
        credit_code: credit_code.into(),
        region: rc("141021"),
        lon: Some(111.47),
        lat: Some(35.64),
        note: String::new(),
        created_at: 1_580_000_000_000,
    }
}

bangfu_store::backend_tests! {
    async fn a_new_database_is_created_with_every_region_and_department(db) {
        let store = Store::open(db.url()).await.unwrap();
        let quwo = store.department("141021").await.unwrap().unwrap();
        assert_eq!((quwo.tier.as_str(), quwo.name.as_str()), ("county", "曲沃县工信局"));
        assert_eq!(store.department("140000").await.unwrap().unwrap().name, "山西省工信厅");
    }

    async fn an_enterprise_round_trips_and_a_duplicate_credit_code_conflicts(db) {
        let store = Store::open(db.url()).await.unwrap();
        let id = store.write(|tx| tx.insert_enterprise(&enterprise("91141021MA0KQ20203"))).await.unwrap();
        let read = store.enterprise(id).await.unwrap().unwrap();
        assert_eq!(read, EnterpriseRow { id, ..enterprise("91141021MA0KQ20203") });

        let err = store.write(|tx| tx.insert_enterprise(&enterprise("91141021MA0KQ20203"))).await.unwrap_err();
        assert!(matches!(err, bangfu_store::StoreError::Conflict(_)), "{err}");
    }

    async fn a_rolled_back_write_leaves_nothing(db) {
        let store = Store::open(db.url()).await.unwrap();
        let err = store
            .write(|tx| {
                tx.insert_enterprise(&enterprise("91141021MA0KQ20203"))?;
                Err::<(), _>(StoreError::Conflict("the job changed its mind".into()))
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("changed its mind"), "{err}");
        assert!(store.enterprises().await.unwrap().is_empty());
    }

    async fn reopening_keeps_the_data_and_does_not_migrate_again(db) {
        let url = db.url();
        let store = Store::open(url).await.unwrap();
        store.write(|tx| tx.insert_enterprise(&enterprise("91141021MA0KQ20203"))).await.unwrap();
        store.close().await;
        let store = Store::open(url).await.unwrap();
        assert_eq!(store.enterprises().await.unwrap().len(), 1);
    }

    async fn appended_events_form_a_verifiable_chain(db) {
        let store = Store::open(db.url()).await.unwrap();
        for i in 0..3 {
            let event = NewEvent { at: 1_580_000_000_000 + i, actor: "t".into(), action: "test".into(), entity: "x:1".into(), case_id: Some(1), payload: format!("{{\"i\":{i}}}") };
            let seq = store.write(move |tx| tx.append_event(&event)).await.unwrap();
            assert_eq!(seq, i + 1);
        }
        let events = store.events().await.unwrap();
        let chain = events.iter().map(|e| {
            (
                EventContent { seq: e.seq, at_ms: e.at, actor: &e.actor, action: &e.action, entity: &e.entity, case_id: e.case_id, payload: &e.payload },
                e.prev_hash.as_str(),
                e.hash.as_str(),
            )
        });
        assert_eq!(verify_chain(chain, GENESIS_HASH.to_string(), 1), Ok(()));
    }
}

#[tokio::test]
async fn a_new_sqlite_database_is_a_file() {
    let db = TestDb::sqlite();
    Store::open(db.url()).await.unwrap();
    assert!(std::path::Path::new(db.url().trim_start_matches("sqlite://")).exists());
}

#[tokio::test]
async fn an_unknown_scheme_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(&format!("sqlit://{}", dir.path().join("x.db").display())).await.unwrap_err();
    assert!(err.to_string().contains("unknown database URL scheme \"sqlit\""), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn event(actor: &str, i: usize) -> NewEvent {
    NewEvent { at: 1_580_000_000_000, actor: actor.into(), action: "test".into(), entity: format!("x:{i}"), case_id: None, payload: format!("{{\"w\":\"{actor}\",\"i\":{i}}}") }
}

fn assert_chain_verifies(events: &[EventRow]) {
    let chain = events.iter().map(|e| {
        (
            EventContent { seq: e.seq, at_ms: e.at, actor: &e.actor, action: &e.action, entity: &e.entity, case_id: e.case_id, payload: &e.payload },
            e.prev_hash.as_str(),
            e.hash.as_str(),
        )
    });
    assert_eq!(verify_chain(chain, GENESIS_HASH.to_string(), 1), Ok(()));
}

bangfu_store::backend_tests! {
    /// Two store instances stand for two servers on one database (on SQLite, two processes on
    /// one file). Writers on both interleave; the log keeps every write once, in one chain.
    async fn concurrent_writers_on_two_instances_keep_one_gap_free_chain(db) {
        const WRITERS_PER_INSTANCE: usize = 4;
        const WRITES_PER_WRITER: usize = 25;
        let a = Store::open(db.url()).await.unwrap();
        let b = Store::open(db.url()).await.unwrap();
        let mut writers = Vec::new();
        for (store, name) in [(&a, "a"), (&b, "b")] {
            for w in 0..WRITERS_PER_INSTANCE {
                let store = store.clone();
                let actor = format!("{name}{w}");
                writers.push(tokio::spawn(async move {
                    for i in 0..WRITES_PER_WRITER {
                        let actor = actor.clone();
                        store
                            .write(move |tx| {
                                let mut row = enterprise(&format!("{actor}-{i}"));
                                row.name = actor.clone();
                                tx.insert_enterprise(&row)?;
                                // Two events in one write: the second chains on the first.
                                let first = tx.append_event(&event(&actor, i))?;
                                assert_eq!(tx.append_event(&event(&actor, 1_000 + i))?, first + 1);
                                Ok::<_, StoreError>(())
                            })
                            .await
                            .unwrap();
                    }
                }));
            }
        }
        for writer in writers {
            writer.await.unwrap();
        }
        let total = 2 * WRITERS_PER_INSTANCE * WRITES_PER_WRITER * 2;
        let events = b.events().await.unwrap();
        assert_eq!(events.len(), total, "nothing lost, nothing duplicated");
        assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1), "sequence numbers 1..={total} without a gap");
        let mut payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
        payloads.sort();
        payloads.dedup();
        assert_eq!(payloads.len(), total, "every write's event exactly once");
        assert_eq!(a.enterprises().await.unwrap().len(), total / 2);
        assert_chain_verifies(&events);
    }

    /// Many writes at once, some of which fail: they are committed in groups (one transaction,
    /// a savepoint each), so a failing write must undo itself and nothing else, and every write
    /// that returned Ok must be there, its events chained without a gap.
    async fn a_failing_write_among_concurrent_ones_undoes_only_itself(db) {
        const WRITES: usize = 60;
        let store = Store::open(db.url()).await.unwrap();
        store.write(|tx| tx.insert_enterprise(&enterprise("taken"))).await.unwrap();
        let mut writes = Vec::new();
        for i in 0..WRITES {
            let store = store.clone();
            writes.push(tokio::spawn(async move {
                let written = store
                    .write(move |tx| {
                        tx.append_event(&event("w", i))?;
                        // Every third write refers to a credit code that exists already, and fails.
                        let code = if i % 3 == 0 { "taken".to_string() } else { format!("w{i}") };
                        tx.insert_enterprise(&enterprise(&code))?;
                        tx.append_event(&event("w", 1_000 + i))?;
                        Ok::<_, StoreError>(())
                    })
                    .await;
                match written {
                    Ok(()) => true,
                    Err(e) => {
                        assert!(matches!(e, bangfu_store::StoreError::Conflict(_)), "{e}");
                        false
                    }
                }
            }));
        }
        let mut committed = 0;
        for write in writes {
            committed += usize::from(write.await.unwrap());
        }
        assert_eq!(committed, WRITES - WRITES / 3);
        assert_eq!(store.enterprises().await.unwrap().len(), committed + 1, "every committed write, and nothing of a failed one");
        let events = store.events().await.unwrap();
        assert_eq!(events.len(), 2 * committed, "two events per committed write, none of a failed one");
        assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1), "no gap where a failed write was");
        assert_chain_verifies(&events);
    }

    /// A group's events are inserted when it ends, not when each write does. A write that
    /// reads the events table first inserts those of the writes before it in its group — in its
    /// own savepoint: when it then fails, they must not go with it.
    async fn a_write_undone_after_reading_the_events_keeps_those_of_the_writes_before_it(db) {
        let store = Store::open(db.url()).await.unwrap();
        fn queued<F: std::future::Future>(write: std::pin::Pin<&mut F>) {
            let polled = write.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
            assert!(polled.is_pending(), "queued behind the first write");
        }
        let (started, has_started) = tokio::sync::oneshot::channel::<()>();
        let (go_on, may_go_on) = tokio::sync::oneshot::channel::<()>();
        // The first write holds the writer until the two others are queued: the three make one group.
        let first = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(move |tx| {
                        tx.append_event(&event("first", 0))?;
                        let _ = started.send(());
                        let _ = may_go_on.blocking_recv();
                        Ok::<_, StoreError>(())
                    })
                    .await
            }
        });
        has_started.await.unwrap();
        let mut kept = Box::pin(store.write(|tx| {
            tx.insert_enterprise(&enterprise("kept"))?;
            tx.append_event(&event("kept", 1))
        }));
        queued(kept.as_mut());
        let mut undone = Box::pin(store.write(|tx| {
            tx.append_event(&event("undone", 2))?;
            let seen: Vec<String> = tx.events()?.into_iter().map(|e| e.actor).collect();
            assert_eq!(seen, ["first", "kept", "undone"], "the events before it, and its own");
            Err::<(), _>(StoreError::Conflict("undone".into()))
        }));
        queued(undone.as_mut());
        go_on.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(kept.await.unwrap(), 2);
        assert!(undone.await.is_err());
        let events = store.events().await.unwrap();
        let actors: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(actors, ["first", "kept"], "the undone write's event is gone, the others' stay");
        assert_chain_verifies(&events);
        // The chain goes on from the last kept event.
        store.write(|tx| tx.append_event(&event("after", 3))).await.unwrap();
        assert_chain_verifies(&store.events().await.unwrap());
    }

    /// A write of one store waits for another store's write on the same database (two servers;
    /// on SQLite, a `bangfu` command beside the server) on its own writer thread: on a
    /// one-thread runtime the first write must still be able to finish while the second waits.
    async fn a_write_waits_for_another_stores_write_without_blocking_the_thread(db) {
        let a = Store::open(db.url()).await.unwrap();
        let b = Store::open(db.url()).await.unwrap();
        // The first write holds the write lock until the test lets it go.
        let (inserted, was_inserted) = tokio::sync::oneshot::channel::<()>();
        let (go_on, may_go_on) = tokio::sync::oneshot::channel::<()>();
        let first = tokio::spawn(async move {
            a.write(move |tx| {
                tx.insert_enterprise(&enterprise("first"))?;
                let _ = inserted.send(());
                // A test's job may block its writer thread (a real job has nothing to wait for).
                let _ = may_go_on.blocking_recv();
                Ok::<_, StoreError>(())
            })
            .await
        });
        was_inserted.await.unwrap();
        let other = b.clone();
        let second = tokio::spawn(async move { other.write(|tx| tx.insert_enterprise(&enterprise("second"))).await });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "the second write waits while the first holds the write lock");
        go_on.send(()).unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert_eq!(b.enterprises().await.unwrap().len(), 2);
    }

    /// A write asked for inside another write's job would wait for the writer that job holds:
    /// it is refused at once, the outer job decides what to do, and the writer goes on.
    async fn a_write_inside_a_write_is_refused_instead_of_waiting_for_ever(db) {
        let store = Store::open(db.url()).await.unwrap();
        let inner_store = store.clone();
        let inner = store
            .write(move |tx| {
                tx.insert_enterprise(&enterprise("outer"))?;
                // A job cannot await; blocking on a write from it is refused when first polled.
                let mut inner = std::pin::pin!(inner_store.write(|tx| tx.insert_enterprise(&enterprise("inner"))));
                let inner = match inner.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
                    std::task::Poll::Ready(inner) => inner,
                    std::task::Poll::Pending => panic!("the inner write waits for the writer its job holds"),
                };
                Ok::<_, StoreError>(inner.map(|_| ()).map_err(|e| e.to_string()))
            })
            .await
            .unwrap();
        assert_eq!(inner, Err("a write was started inside another write; nothing of it was done".to_string()));
        let names: Vec<String> = store.enterprises().await.unwrap().into_iter().map(|e| e.credit_code).collect();
        assert_eq!(names, vec!["outer".to_string()], "the outer write kept, the inner one never done");
        store.write(|tx| tx.insert_enterprise(&enterprise("after"))).await.unwrap();
    }

    /// The lease of a periodic job: for each slot exactly one claimer wins, across instances.
    async fn a_job_slot_is_claimed_once_across_instances(db) {
        let a = Store::open(db.url()).await.unwrap();
        let b = Store::open(db.url()).await.unwrap();
        assert!(a.claim_job_slot("escalation", 100).await.unwrap());
        assert!(!b.claim_job_slot("escalation", 100).await.unwrap());
        assert!(!a.claim_job_slot("escalation", 100).await.unwrap());
        assert!(b.claim_job_slot("escalation", 101).await.unwrap(), "the next slot is free");
        assert!(a.claim_job_slot("digest", 100).await.unwrap(), "slots are per job");

        let mut claimers = Vec::new();
        for store in [a.clone(), b.clone(), a.clone(), b.clone()] {
            claimers.push(tokio::spawn(async move {
                let mut won = Vec::new();
                for slot in 1_000..1_020 {
                    if store.claim_job_slot("escalation", slot).await.unwrap() {
                        won.push(slot);
                    }
                }
                won
            }));
        }
        let mut won = Vec::new();
        for claimer in claimers {
            won.extend(claimer.await.unwrap());
        }
        won.sort();
        assert_eq!(won, (1_000..1_020).collect::<Vec<_>>(), "each slot won exactly once");
    }

    /// A claim inside a write commits with it: a rolled-back pass leaves its slot free.
    async fn a_job_slot_claimed_in_a_rolled_back_write_stays_free(db) {
        let store = Store::open(db.url()).await.unwrap();
        let failed = store
            .write(|tx| {
                assert!(tx.claim_job_slot("escalation", 7)?);
                Err::<(), _>(StoreError::Conflict("the pass failed".into()))
            })
            .await;
        assert!(failed.is_err());
        assert!(store.write(|tx| tx.claim_job_slot("escalation", 7)).await.unwrap());
        assert!(!store.claim_job_slot("escalation", 7).await.unwrap());
    }

    /// A notification sent through one instance reaches a listener on another (PostgreSQL:
    /// LISTEN/NOTIFY between connections; SQLite: one process, so the same instance's clones).
    /// One sent inside a write arrives only when the write commits.
    async fn a_notification_reaches_a_listener_on_another_instance(db) {
        let sender = Store::open(db.url()).await.unwrap();
        let receiver = match db.backend() {
            Backend::Postgres => Store::open(db.url()).await.unwrap(),
            Backend::Sqlite => sender.clone(),
        };
        let mut listener = receiver.listen(&["notifications", "needs"]).await.unwrap();
        sender.notify("elsewhere", "not for this listener").await.unwrap();
        sender.notify("notifications", "user:7").await.unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv()).await.expect("delivered").unwrap();
        assert_eq!((got.channel.as_str(), got.payload.as_str()), ("notifications", "user:7"));

        let rolled_back = sender
            .write(|tx| {
                tx.notify("needs", "rolled back")?;
                Err::<(), _>(StoreError::Conflict("rolled back".into()))
            })
            .await;
        assert!(rolled_back.is_err());
        let (notified, was_notified) = tokio::sync::oneshot::channel::<()>();
        let (go_on, may_go_on) = tokio::sync::oneshot::channel::<()>();
        let write = tokio::spawn({
            let sender = sender.clone();
            async move {
                sender
                    .write(move |tx| {
                        tx.notify("needs", "need:3")?;
                        let _ = notified.send(());
                        let _ = may_go_on.blocking_recv();
                        Ok::<_, StoreError>(())
                    })
                    .await
            }
        });
        was_notified.await.unwrap();
        let early = tokio::time::timeout(std::time::Duration::from_millis(300), listener.recv()).await;
        assert!(early.is_err(), "nothing arrives before the commit: {early:?}");
        go_on.send(()).unwrap();
        write.await.unwrap().unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv()).await.expect("delivered").unwrap();
        assert_eq!((got.channel.as_str(), got.payload.as_str()), ("needs", "need:3"), "the rolled-back one never came");

        let err = sender.notify("needs", &"x".repeat(bangfu_store::MAX_PAYLOAD_BYTES + 1)).await.unwrap_err();
        assert!(err.to_string().contains("send an id"), "{err}");
    }
}

bangfu_store::backend_tests! {
    /// DIALECT regression (see store/src/dialect.rs): one statement executed with a NULL float
    /// and then with a number in the same place, and the other way round.
    async fn dialect_nulls_then_numbers_in_one_statement(db) {
        let store = Store::open(db.url()).await.unwrap();
        let rows = [(None, None), (Some(111.47), Some(35.64)), (None, Some(1.0)), (Some(2.0), None)];
        for (i, (lon, lat)) in rows.into_iter().enumerate() {
            let row = EnterpriseRow { lon, lat, ..enterprise(&format!("code-{i}")) };
            let id = store.write(move |tx| tx.insert_enterprise(&row)).await.unwrap();
            let read = store.enterprise(id).await.unwrap().unwrap();
            assert_eq!((read.lon, read.lat), (lon, lat));
        }
    }
}

bangfu_store::backend_tests! {
    /// A whole installation copied from SQLite into a database of each backend: ids, the audit
    /// chain and every count the same; new rows continue after the copied ids; a second copy
    /// into the now non-empty target is refused.
    async fn an_installation_is_copied_with_ids_counts_and_chain(db) {
        let source_db = TestDb::sqlite();
        let source = Store::open(source_db.url()).await.unwrap();
        for i in 0..7 {
            let lon = if i % 2 == 0 { None } else { Some(111.0 + i as f64) };
            source
                .write(move |tx| {
                    let id = tx.insert_enterprise(&EnterpriseRow { lon, ..enterprise(&format!("code-{i}")) })?;
                    tx.append_event(&event("copy", id as usize))
                })
                .await
                .unwrap();
        }
        let last = source.write(|tx| tx.insert_enterprise(&enterprise("code-last"))).await.unwrap();
        source.claim_job_slot("escalation", 42).await.unwrap();

        let target = Store::open(db.url()).await.unwrap();
        let report = source.copy_into(&target).await.unwrap();
        assert_eq!(report.mismatches(), Vec::<&bangfu_store::TableCount>::new(), "{report:?}");
        assert_eq!(report.copied_rows, 8 + 7 + 1, "{report:?}");
        let count = |table: &str| report.tables.iter().find(|t| t.table == table).map(|t| t.target).unwrap();
        assert_eq!((count("enterprises"), count("events"), count("job_runs")), (8, 7, 1));
        assert!(count("regions") > 3000);
        assert_eq!(target.enterprises().await.unwrap(), source.enterprises().await.unwrap(), "ids and values preserved");
        let events = target.events().await.unwrap();
        assert_eq!(events, source.events().await.unwrap());
        assert_chain_verifies(&events);

        // New writes on the target continue after the copied ids and the copied chain.
        let (next, seq) = target
            .write(|tx| {
                let next = tx.insert_enterprise(&enterprise("after-copy"))?;
                Ok::<_, StoreError>((next, tx.append_event(&event("after", 0))?))
            })
            .await
            .unwrap();
        assert_eq!(seq, 8);
        assert!(next > last, "{next} after {last}");
        assert_chain_verifies(&target.events().await.unwrap());
        assert!(!target.claim_job_slot("escalation", 42).await.unwrap(), "leases travel too");

        let err = source.copy_into(&target).await.unwrap_err();
        assert!(matches!(err, bangfu_store::StoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("already holds data (enterprises 9, events 8, job_runs 1)"), "{err}");
    }
}

/// A need of `case_id` owned by `owner`.
fn need(case_id: i64, owner: &str, title: String) -> NeedRow {
    NeedRow {
        id: 0, case_id, kind: NeedKind::Labour, title, specification: String::new(), quantity: 1.0, unit: String::new(),
        requires: JsonObject::new(), deadline: None, max_distance_km: None, max_lead_time_h: None, scope: Scope::Local,
        owner: rc(owner), owner_tier: Tier::County, letter_to: None, solution_region: None, route_zh: String::new(),
        route_en: String::new(), status: NeedStatus::Open, reached_owner_at: 0, supervised: false, selected_candidate: None,
        created_at: 0, updated_at: 0,
    }
}

/// The writes that add one row to each list: a need of the county's case and one of the other
/// county's case owned by the county (both visible to it), one it does not see, a provider
/// (with a capability of the listed kind every other time), an event of the case, a notification.
fn add_rows(tx: &mut WriteTx, cases: (i64, i64), n: usize) {
    let (quwo, houma) = cases;
    tx.insert_need(&need(quwo, "141000", format!("quwo {n}"))).expect("a row of the list");
    tx.insert_need(&need(houma, "141021", format!("houma owned by quwo {n}"))).expect("a row of the list");
    tx.insert_need(&need(houma, "141081", format!("houma {n}"))).expect("a row of the list");
    let provider = ProviderRow { id: 0, key: format!("p:{n}"), name: format!("提供方{n}"), region: rc("141021"), lon: None, lat: None, note: String::new(), created_at: 0 };
    let provider = tx.insert_provider(&provider).expect("a row of the list");
    let kind = if n.is_multiple_of(2) { NeedKind::Slitting } else { NeedKind::Testing };
    tx.upsert_capability(&CapabilityRow { id: 0, provider_id: provider, kind, available: true, attrs: JsonObject::new(), updated_at: 0, version: 0 }).expect("a row of the list");
    tx.append_event(&NewEvent { at: n as i64, actor: "t".into(), action: "test".into(), entity: "x:1".into(), case_id: Some(quwo), payload: "{}".into() }).expect("a row of the list");
    let note = NotificationRow { id: 0, department: Some(rc("141021")), user_id: None, need_id: None, text_zh: format!("{n}"), text_en: format!("{n}"), created_at: 0, read_at: None };
    tx.insert_notification(&note).expect("a row of the list");
}

/// Each id once, in increasing order; returns them.
fn once_each(ids: &[i64], what: &str) -> Vec<i64> {
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{what}: not each once in id order: {ids:?}");
    ids.to_vec()
}

bangfu_store::backend_tests! {
    /// Keyset paging (issue 12): walking a list page by page while rows are inserted between the
    /// pages returns no row twice, misses none of the rows there at the start, and ends with the
    /// rows added meanwhile, exactly what a full read filtered by the same rule returns.
    async fn paging_returns_every_row_once_while_rows_are_inserted_between_pages(db) {
        let store = Store::open(db.url()).await.unwrap();
        let cases = store
            .write(|tx| {
                let quwo_enterprise = tx.insert_enterprise(&enterprise("91141021MA0KQ20203"))?;
                let houma_enterprise = tx.insert_enterprise(&EnterpriseRow { region: rc("141081"), ..enterprise("91141081MA0KQ20203") })?;
                let case = |enterprise_id, region: &str| CaseRow { id: 0, enterprise_id, title: "t".into(), region: rc(region), opened_at: 0, status: bangfu_core::model::CaseStatus::Active };
                let cases = (tx.insert_case(&case(quwo_enterprise, "141021"))?, tx.insert_case(&case(houma_enterprise, "141081"))?);
                for n in 0..16 {
                    add_rows(tx, cases, n);
                }
                Ok::<_, StoreError>(cases)
            })
            .await
            .unwrap();

        let county = VisibleNeeds {
            cases: VisibleCases { regions: vec![("141021".into(), "141021".into())], stationed_department: Some("141021".into()), ..VisibleCases::default() },
            owners: vec![("141021".into(), "141021".into())],
            department: Some("141021".into()),
            provider_id: None,
        };
        let needs = NeedQuery { visible: county, ..NeedQuery::default() };
        let providers = ProviderQuery { visible: VisibleProviders::All, kind: Some("slitting".into()), regions: None, text: None, ids: None };
        let at_start = store.needs_page(&needs, PageRequest::first(500)).await.unwrap().items.iter().map(|n| n.id).collect::<Vec<_>>();
        assert_eq!(at_start.len(), 32);

        // Each list's cursor: `Some(after)` while it has pages left (`Some(None)`: the first).
        let (mut need_ids, mut provider_ids, mut event_seqs, mut note_ids) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut cursors: [Option<Option<i64>>; 4] = [Some(None); 4];
        let mut n = 100;
        while cursors.iter().any(Option::is_some) {
            let page = |after| PageRequest { after, limit: 3 };
            if let Some(after) = cursors[0] {
                let got = store.needs_page(&needs, page(after)).await.unwrap();
                assert!(got.items.len() <= 3);
                need_ids.extend(got.items.iter().map(|n| n.id));
                cursors[0] = got.next.map(Some);
            }
            if let Some(after) = cursors[1] {
                let got = store.providers_page(&providers, page(after)).await.unwrap();
                for (p, caps) in &got.items {
                    assert!(!caps.is_empty() && caps.iter().all(|c| c.kind == NeedKind::Slitting && c.provider_id == p.id), "{caps:?}");
                    provider_ids.push(p.id);
                }
                cursors[1] = got.next.map(Some);
            }
            if let Some(after) = cursors[2] {
                let got = store.case_events_page(cases.0, page(after)).await.unwrap();
                event_seqs.extend(got.items.iter().map(|e| e.seq));
                cursors[2] = got.next.map(Some);
            }
            if let Some(after) = cursors[3] {
                let got = store.notifications_page("141021", page(after)).await.unwrap();
                note_ids.extend(got.items.iter().map(|n| n.id));
                cursors[3] = got.next.map(Some);
            }
            // Rows arrive between two pages, for the first few pages, while every walk goes on.
            if n < 104 && cursors.iter().all(Option::is_some) {
                store.write(move |tx| { let _: () = add_rows(tx, cases, n);
                Ok::<_, StoreError>(()) }).await.unwrap();
                n += 1;
            }
        }
        let need_ids = once_each(&need_ids, "needs");
        assert!(at_start.iter().all(|id| need_ids.contains(id)), "every need there at the start");
        let full: Vec<i64> = store.needs().await.unwrap().into_iter().filter(|n| n.case_id == cases.0 || n.owner == rc("141021")).map(|n| n.id).collect();
        assert_eq!(need_ids, full, "the walk ends with what a full read filtered by the same rule gives");
        assert_eq!(store.count_needs(&needs).await.unwrap(), full.len() as i64);
        assert!(n >= 102, "rows were inserted during the walk ({} times)", n - 100);
        assert_eq!(full.len(), 32 + 2 * (n - 100), "the rows added meanwhile came too");

        let mut slitting: Vec<i64> = Vec::new();
        for p in store.providers().await.unwrap() {
            if store.capabilities_of_provider(p.id).await.unwrap().iter().any(|c| c.kind == NeedKind::Slitting) {
                slitting.push(p.id);
            }
        }
        assert_eq!(once_each(&provider_ids, "providers"), slitting);
        assert_eq!(store.count_providers(&providers).await.unwrap(), slitting.len() as i64);
        let events: Vec<i64> = store.events_of_case(cases.0).await.unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(once_each(&event_seqs, "events"), events);
        assert_eq!(store.count_case_events(cases.0).await.unwrap(), 16 + (n - 100) as i64);
        assert_eq!(once_each(&note_ids, "notifications"), store.notifications_of_department("141021").await.unwrap().iter().rev().map(|n| n.id).collect::<Vec<_>>());
        assert_eq!(store.count_notifications("141021").await.unwrap(), 16 + (n - 100) as i64);
    }
}

/// A case of its own enterprise in 曲沃县 and a need of it owned by the county; returns the need's id.
async fn a_need(store: &Store) -> i64 {
    store
        .write(|tx| {
            let enterprise = tx.insert_enterprise(&enterprise("91141021MA0KQ20203"))?;
            let case = CaseRow { id: 0, enterprise_id: enterprise, title: "t".into(), region: rc("141021"), opened_at: 0, status: bangfu_core::model::CaseStatus::Active };
            let case = tx.insert_case(&case)?;
            let mut need = need(case, "141021", "熔喷布".into());
            need.requires = serde_json::from_str(r#"{"input_width_m":1.6,"output_width_m":1.4}"#).expect("a JSON object");
            need.letter_to = Some(rc("440000"));
            tx.insert_need(&need)
        })
        .await
        .expect("a case and its need")
}

/// The `BadValue` of `result`, as (table, id, column, value).
fn bad_value<T: std::fmt::Debug>(result: Result<T, StoreError>) -> (String, String, String, String) {
    match result {
        Err(StoreError::BadValue { table, id, column, value, why }) => {
            assert!(!why.is_empty(), "the error says why");
            (table.to_string(), id, column, value)
        }
        other => panic!("expected a value that does not decode, got {other:?}"),
    }
}

bangfu_store::backend_tests! {
    /// Typed rows (issue 18): the domain types are written as the text and numbers they always
    /// were (the database format is unchanged), and read back the same.
    async fn typed_fields_are_stored_as_the_same_text_and_read_back(db) {
        let store = Store::open(db.url()).await.unwrap();
        let id = a_need(&store).await;
        let need = store.need(id).await.unwrap().unwrap();
        assert_eq!((need.kind, need.status, need.scope, need.owner_tier, need.supervised), (NeedKind::Labour, NeedStatus::Open, Scope::Local, Tier::County, false));
        assert_eq!((need.owner, need.letter_to, need.solution_region), (rc("141021"), Some(rc("440000")), None));
        assert_eq!(serde_json::Value::Object(need.requires.clone()).to_string(), r#"{"input_width_m":1.6,"output_width_m":1.4}"#);
        // The stored texts, compared in SQL: the title changes only if every column holds them.
        db.execute(&format!(
            "UPDATE needs SET title = 'same text' WHERE id = {id} AND kind = 'labour' AND status = 'open' AND scope = 'local' \
             AND owner = '141021' AND owner_tier = 'county' AND letter_to = '440000' AND solution_region IS NULL \
             AND supervised = 0 AND requires = '{{\"input_width_m\":1.6,\"output_width_m\":1.4}}'"
        ))
        .await;
        assert_eq!(store.need(id).await.unwrap().unwrap().title, "same text");
    }

    /// A stored value that does not decode is an error naming the table, the row and the
    /// column, on every read of the row (one row, a list) — never a default.
    async fn a_stored_value_that_does_not_decode_is_an_error_naming_table_row_and_column(db) {
        let store = Store::open(db.url()).await.unwrap();
        let id = a_need(&store).await;
        // Region columns refer to departments: the bad values are written past the schema's
        // foreign keys, as a hand edit or another program might.
        let unchecked = match db.backend() {
            Backend::Sqlite => "PRAGMA foreign_keys = OFF;",
            Backend::Postgres => "SET session_replication_role = replica;",
        };
        for (column, value) in [("status", "'bogus'"), ("owner", "'x'"), ("owner", "'999999'"), ("letter_to", "''"), ("kind", "'Labour'"), ("supervised", "2"), ("requires", "'not json'"), ("requires", "'[1]'")] {
            db.execute(&format!("{unchecked} UPDATE needs SET {column} = {value} WHERE id = {id}")).await;
            let stored = value.trim_matches('\'').to_string();
            let expected = ("needs".to_string(), id.to_string(), column.to_string(), stored);
            assert_eq!(bad_value(store.need(id).await), expected, "one row");
            assert_eq!(bad_value(store.needs().await), expected, "a list");
            let message = store.need(id).await.unwrap_err().to_string();
            assert!(message.contains(&format!("needs row {id}, column {column}")), "{message}");
            // Back to a good value for the next column.
            let good = match column {
                "status" => "'open'",
                "owner" => "'141021'",
                "letter_to" => "NULL",
                "kind" => "'labour'",
                "supervised" => "0",
                _ => "'{}'",
            };
            db.execute(&format!("UPDATE needs SET {column} = {good} WHERE id = {id}")).await;
            assert!(store.need(id).await.is_ok(), "{column} is good again");
        }
        db.execute(&format!("{unchecked} UPDATE cases SET region = '14102' WHERE id = (SELECT case_id FROM needs WHERE id = {id})")).await;
        let case_id = store.need(id).await.unwrap().unwrap().case_id;
        assert_eq!(bad_value(store.case(case_id).await), ("cases".to_string(), case_id.to_string(), "region".to_string(), "14102".to_string()));
    }

    /// A case's and a candidacy's status, a letter's recipients and copies and a candidacy's
    /// reasons (issue 18): stored as the same text as before, read back typed, and a stored value
    /// that does not decode is an error naming the table, the row and the column.
    async fn statuses_recipients_and_reasons_decode_in_the_store_or_are_an_error(db) {
        let store = Store::open(db.url()).await.unwrap();
        let need_id = a_need(&store).await;
        let case_id = store.need(need_id).await.unwrap().unwrap().case_id;
        let guangdong = Department { region: rc("440000"), name: Bilingual::new("广东省工业和信息化厅", "Department of Industry and Information Technology of Guangdong") };
        let dongguan = Department { region: rc("441900"), name: Bilingual::new("东莞市工业和信息化局", "Bureau of Industry and Information Technology of Dongguan") };
        let too_far = KeptReason { code: "too_far".into(), text: Bilingual::new("路程 300 公里，超过 200 公里", "300 km by road, beyond 200 km") };
        let (candidate_id, letter_id) = store
            .write(move |tx| {
                let provider = ProviderRow { id: 0, key: "p:1".into(), name: "提供方".into(), region: rc("141021"), lon: None, lat: None, note: String::new(), created_at: 0 };
                let provider = tx.insert_provider(&provider)?;
                let candidate = CandidateRow {
                    id: 0, need_id, provider_id: provider, feasible: false, road_km: 300.0, travel_h: 0.0, processing_h: 0.0, lead_time_h: 5.0,
                    scope: Scope::Local, owner: rc("141021"), reasons: vec![too_far], explanation_zh: String::new(), explanation_en: String::new(),
                    status: CandidateStatus::Rejected, created_at: 0,
                };
                let candidate = tx.upsert_candidate(&candidate)?;
                let mut letter = LetterRow {
                    id: 0, need_id, number: "晋工信函〔2020〕1号".into(), sender: rc("140000"), recipients: vec![guangdong, dongguan], subject: "s".into(),
                    body_zh: String::new(), body_en: String::new(), status: LetterStatus::Draft, created_at: 0, sent_at: None, acknowledged_at: None,
                    contact_name: String::new(), contact_phone: String::new(), cc: Vec::new(), reply_number: None, reply_date: None, reply_text: None,
                };
                letter.id = tx.insert_letter(&letter)?;
                letter.cc = vec!["临汾市工业和信息化局".into()];
                tx.update_letter_draft(&letter)?;
                Ok::<_, StoreError>((candidate, letter.id))
            })
            .await
            .expect("a candidacy and a letter");
        let case = store.case(case_id).await.unwrap().unwrap();
        assert_eq!(case.status, CaseStatus::Active);
        let candidate = store.candidates_of_need(need_id).await.unwrap().into_iter().find(|c| c.id == candidate_id).unwrap();
        assert_eq!((candidate.status, candidate.reasons.len(), candidate.reasons[0].code.as_str()), (CandidateStatus::Rejected, 1, "too_far"));
        let letter = store.letters_of_need(need_id).await.unwrap().into_iter().find(|l| l.id == letter_id).unwrap();
        assert_eq!(letter.recipients.iter().map(|r| r.region.to_string()).collect::<Vec<_>>(), ["440000", "441900"]);
        assert_eq!((letter.recipients[1].name.zh.as_str(), letter.cc.clone()), ("东莞市工业和信息化局", vec!["临汾市工业和信息化局".to_string()]));
        // The stored texts, compared in SQL: the subject (the title) changes only if every column holds them.
        db.execute(&format!(
            "UPDATE letters SET subject = 'same text' WHERE id = {letter_id} \
             AND recipients = '[{{\"region\":\"440000\",\"name\":\"广东省工业和信息化厅\",\"name_en\":\"Department of Industry and Information Technology of Guangdong\"}},\
{{\"region\":\"441900\",\"name\":\"东莞市工业和信息化局\",\"name_en\":\"Bureau of Industry and Information Technology of Dongguan\"}}]' \
             AND cc = '[\"临汾市工业和信息化局\"]'"
        ))
        .await;
        assert_eq!(store.letters_of_need(need_id).await.unwrap()[0].subject, "same text");
        db.execute(&format!(
            "UPDATE candidates SET explanation_zh = 'same text' WHERE id = {candidate_id} AND status = 'rejected' \
             AND reasons = '[{{\"code\":\"too_far\",\"zh\":\"路程 300 公里，超过 200 公里\",\"en\":\"300 km by road, beyond 200 km\"}}]'"
        ))
        .await;
        assert_eq!(store.candidates_of_need(need_id).await.unwrap()[0].explanation_zh, "same text");

        let bad = [
            ("cases", case_id, "status", "'bogus'", "'active'"),
            ("cases", case_id, "status", "'Active'", "'active'"),
            ("candidates", candidate_id, "status", "'chosen'", "'rejected'"),
            ("candidates", candidate_id, "reasons", "''", "'[]'"),
            ("candidates", candidate_id, "reasons", "'[{\"code\":\"too_far\"}]'", "'[]'"),
            ("letters", letter_id, "recipients", "'not json'", "'[]'"),
            ("letters", letter_id, "recipients", "'[{\"region\":\"999999\",\"name\":\"n\",\"name_en\":\"e\"}]'", "'[]'"),
            ("letters", letter_id, "recipients", "'{}'", "'[]'"),
            ("letters", letter_id, "cc", "'[1]'", "'[]'"),
        ];
        for (table, id, column, value, good) in bad {
            db.execute(&format!("UPDATE {table} SET {column} = {value} WHERE id = {id}")).await;
            let stored = value.trim_matches('\'').to_string();
            let expected = (table.to_string(), id.to_string(), column.to_string(), stored);
            let got = match table {
                "cases" => bad_value(store.case(id).await),
                "candidates" => bad_value(store.candidates_of_need(need_id).await),
                _ => bad_value(store.letters_of_need(need_id).await),
            };
            assert_eq!(got, expected, "{table}.{column} = {value}");
            db.execute(&format!("UPDATE {table} SET {column} = {good} WHERE id = {id}")).await;
        }
        assert!(store.case(case_id).await.is_ok() && store.candidates_of_need(need_id).await.is_ok() && store.letters_of_need(need_id).await.is_ok(), "good again");
        // A case's bad status in a count of cases per region and status names the case too.
        db.execute(&format!("UPDATE cases SET status = 'bogus' WHERE id = {case_id}")).await;
        let counted = store.case_counts_by_region(&VisibleCases { all: true, ..VisibleCases::default() }).await;
        assert_eq!(bad_value(counted), ("cases".to_string(), case_id.to_string(), "status".to_string(), "bogus".to_string()));
        // A need's bad tier in the dashboard's count of needs per tier and status (read from an
        // index alone) names the first need holding it.
        db.execute(&format!("UPDATE needs SET owner_tier = 'County' WHERE id = {need_id}")).await;
        let counted = store.need_counts(&VisibleCases { all: true, ..VisibleCases::default() }, &["open"]).await;
        assert_eq!(bad_value(counted), ("needs".to_string(), need_id.to_string(), "owner_tier".to_string(), "County".to_string()));
    }

    /// An outbox message's status and an attempt's outcome decode in the store, or are an error
    /// naming the table, the row and the column.
    async fn an_outbox_status_and_an_attempt_outcome_decode_or_are_an_error(db) {
        let store = Store::open(db.url()).await.unwrap();
        let (message_id, attempt_id) = store
            .write(|tx| {
                let channel = ChannelRow {
                    id: 0, department: Some(rc("141021")), provider_id: None, enterprise_id: None, kind: ChannelKind::Webhook, label: "l".into(),
                    url: "https://example.gov.cn/hook".into(), secret: String::new(), events: Vec::new(), mentions: String::new(), quiet_from: None,
                    quiet_to: None, active: true, created_at: 0, format: MessageFormat::Text,
                };
                let channel_id = tx.insert_channel(&channel)?;
                let message = OutboxRow {
                    id: 0, channel_id, department: Some(rc("141021")), event: EventKind::NeedNew, need_id: None, title: "t".into(), body: "b".into(),
                    link: String::new(), status: MessageStatus::Pending, attempts: 0, created_at: 0, next_attempt_at: 0, lease_until: 0,
                    claimed_by: String::new(), last_error: None, sent_at: None, group_id: None,
                };
                let message_id = tx.insert_outbox(&message)?;
                let attempt = OutboxAttemptRow {
                    id: 0, outbox_id: message_id, channel_id, at: 0, outcome: AttemptOutcome::Failed, error: Some("e".into()), message_key: "k".into(), grouped: 1,
                };
                let attempt_id = tx.insert_outbox_attempt(&attempt)?;
                Ok::<_, StoreError>((message_id, attempt_id))
            })
            .await
            .expect("a message and its attempt");
        assert_eq!(store.outbox_item(message_id).await.unwrap().unwrap().status, MessageStatus::Pending);
        assert_eq!(store.outbox_attempts_of(message_id).await.unwrap()[0].outcome, AttemptOutcome::Failed);
        db.execute(&format!("UPDATE outbox SET status = 'failed' WHERE id = {message_id}")).await;
        assert_eq!(bad_value(store.outbox_item(message_id).await), ("outbox".to_string(), message_id.to_string(), "status".to_string(), "failed".to_string()));
        db.execute(&format!("UPDATE outbox_attempts SET outcome = 'pending' WHERE id = {attempt_id}")).await;
        assert_eq!(bad_value(store.outbox_attempts_of(message_id).await), ("outbox_attempts".to_string(), attempt_id.to_string(), "outcome".to_string(), "pending".to_string()));
    }
}
