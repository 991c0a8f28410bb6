#![allow(clippy::unwrap_used)] // test helpers: a failed step stops the test where it failed

//! What the use cases' tests share: the operator, region codes, and an `App` on a fresh database
//! of either backend, empty or with the reference case.

use bangfu_app::{Actor, App};
use bangfu_core::region::RegionCode;
use bangfu_store::testing::TestDb;

/// The system operator, who may do anything.
pub fn admin() -> Actor {
    Actor::system("test")
}

/// A region code the test knows to exist.
pub fn code(c: u32) -> RegionCode {
    RegionCode::new_unchecked(c)
}

/// An `App` on `db` with nothing in it but the regions and departments.
pub async fn fresh_app(db: &TestDb) -> App {
    App::open(db.url()).await.unwrap()
}

/// An `App` on `db` with the reference case (Quwo, 2020) loaded.
pub async fn demo_app(db: &TestDb) -> App {
    let app = fresh_app(db).await;
    bangfu_app::demo::load(&app, &admin()).await.unwrap();
    app
}
