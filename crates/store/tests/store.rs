//! The store against a real SQLite file (and PostgreSQL when BANGFU_TEST_PG is set).

use bangfu_core::audit::{EventContent, GENESIS_HASH, verify_chain};
use bangfu_store::{EnterpriseRow, NewEvent, Store};

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("bangfu.db").display())
}

fn enterprise(credit_code: &str) -> EnterpriseRow {
    EnterpriseRow {
        id: 0,
        name: "山西健康动力科技有限公司".into(),
        credit_code: credit_code.into(),
        region: "141021".into(),
        lon: Some(111.47),
        lat: Some(35.64),
        note: String::new(),
        created_at: 1_580_000_000_000,
    }
}

#[tokio::test]
async fn a_new_database_is_created_with_every_region_and_department() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir)).await.unwrap();
    let quwo = store.department("141021").await.unwrap().unwrap();
    assert_eq!((quwo.tier.as_str(), quwo.name.as_str()), ("county", "曲沃县工信局"));
    assert_eq!(store.department("140000").await.unwrap().unwrap().name, "山西省工信厅");
    assert!(dir.path().join("bangfu.db").exists());
}

#[tokio::test]
async fn an_enterprise_round_trips_and_a_duplicate_credit_code_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir)).await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    let id = tx.insert_enterprise(&enterprise("91141021MA0KQ20203")).await.unwrap();
    tx.commit().await.unwrap();
    let read = store.enterprise(id).await.unwrap().unwrap();
    assert_eq!(read, EnterpriseRow { id, ..enterprise("91141021MA0KQ20203") });

    let mut tx = store.begin_write().await.unwrap();
    let err = tx.insert_enterprise(&enterprise("91141021MA0KQ20203")).await.unwrap_err();
    assert!(matches!(err, bangfu_store::StoreError::Conflict(_)), "{err}");
}

#[tokio::test]
async fn a_rolled_back_write_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir)).await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    tx.insert_enterprise(&enterprise("91141021MA0KQ20203")).await.unwrap();
    drop(tx);
    assert!(store.enterprises().await.unwrap().is_empty());
}

#[tokio::test]
async fn reopening_keeps_the_data_and_does_not_migrate_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let store = Store::open(&url).await.unwrap();
    let mut tx = store.begin_write().await.unwrap();
    tx.insert_enterprise(&enterprise("91141021MA0KQ20203")).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.enterprises().await.unwrap().len(), 1);
}

#[tokio::test]
async fn appended_events_form_a_verifiable_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url(&dir)).await.unwrap();
    for i in 0..3 {
        let mut tx = store.begin_write().await.unwrap();
        let seq = tx
            .append_event(&NewEvent { at: 1_580_000_000_000 + i, actor: "t".into(), action: "test".into(), entity: "x:1".into(), case_id: Some(1), payload: format!("{{\"i\":{i}}}") })
            .await
            .unwrap();
        assert_eq!(seq, i + 1);
        tx.commit().await.unwrap();
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

#[tokio::test]
async fn an_unknown_scheme_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(&format!("sqlit://{}", dir.path().join("x.db").display())).await.unwrap_err();
    assert!(err.to_string().contains("unknown database URL scheme \"sqlit\""), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
