//! Fresh databases for tests, on either backend (feature `testing`).
//!
//! - SQLite: a file in a temporary directory, removed afterwards.
//! - PostgreSQL: `CREATE DATABASE bangfu_test_<random>` on the server named by the environment
//!   variable [`PG_ENV`] (for example `postgres://postgres@127.0.0.1:55432/postgres`), dropped
//!   afterwards. When the variable is unset, [`TestDb::postgres`] prints why the test is skipped
//!   and returns `None`, so `cargo test` passes on a machine without PostgreSQL. When it is set
//!   but the server cannot be reached, the test fails: a CI run never skips silently.
//!
//! [`backend_tests!`](crate::backend_tests) turns one test body into a `sqlite` and a `postgres`
//! test, so each suite is written once:
//!
//! ```ignore
//! bangfu_store::backend_tests! {
//!     async fn reopening_keeps_the_data(db) {
//!         let store = Store::open(db.url()).await.unwrap();
//!         // …
//!     }
//! }
//! ```
//! runs as `reopening_keeps_the_data::sqlite` and `reopening_keeps_the_data::postgres`.

use crate::Backend;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The environment variable naming the PostgreSQL server the tests may create databases on.
pub const PG_ENV: &str = "BANGFU_TEST_PG";

/// One fresh, empty database (not yet migrated: `Store::open` does that). Dropped with the value.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    backend: Backend,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A database of `backend`, or `None` (with the reason printed) when that backend is not
    /// available here.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite()),
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("bangfu.db").display());
        TestDb { url, backend: Backend::Sqlite, place: Place::Sqlite(dir) }
    }

    /// A new database on the server of `$BANGFU_TEST_PG`, or `None` when the variable is unset.
    pub async fn postgres() -> Option<TestDb> {
        let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|v| !v.trim().is_empty()) else {
            eprintln!(
                "skipped: the PostgreSQL variant of this test needs {PG_ENV}=postgres://USER@HOST:PORT/DB \
                 (a server on which it may create databases; .ci/run starts one)"
            );
            return None;
        };
        let name = format!("bangfu_test_{:016x}", random_u64());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but the server cannot be reached: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Some(TestDb { url, backend: Backend::Postgres, place: Place::Postgres { admin_url, name } })
    }

    /// The URL to hand to `Store::open` (or `App::open`, `bangfu --db`).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `script` (statements without parameters) on the database behind the store's back:
    /// tests that tamper with rows, as someone with the database's password could.
    pub async fn execute(&self, script: &str) {
        match &self.place {
            Place::Sqlite(dir) => {
                let conn = rusqlite::Connection::open(dir.path().join("bangfu.db")).expect("the test database opens");
                conn.execute_batch(script).unwrap_or_else(|e| panic!("{script}: {e}"));
            }
            Place::Postgres { .. } => {
                let mut conn = PgConnection::connect(&self.url).await.expect("the test database is reachable");
                sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_string())).execute(&mut conn).await.unwrap_or_else(|e| panic!("{script}: {e}"));
                let _ = conn.close().await;
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Place::Postgres { admin_url, name } = &self.place else { return };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime removes the database. FORCE ends connections the test left open.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut admin).await.ok()?;
                admin.close().await.ok()
            })
        });
        let _ = dropped.join();
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A random number from the standard library's per-process hash keys (no extra dependency).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// One test body, run once per backend: `name::sqlite` and `name::postgres` (the latter passes
/// with a printed reason when `BANGFU_TEST_PG` is unset). The body gets `db: TestDb` under the
/// name given in parentheses; items of the enclosing module are in scope.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[$meta:meta])* async fn $name:ident($db:ident) $body:block )*) => {$(
        $(#[$meta])*
        #[allow(non_snake_case, clippy::unwrap_used, clippy::expect_used)] // test bodies, as #[test] fns
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: $crate::testing::TestDb) $body

            #[tokio::test]
            async fn sqlite() {
                body($crate::testing::TestDb::sqlite()).await
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::testing::TestDb::postgres().await {
                    body(db).await
                }
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_parameters_kept() {
        assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
