//! bangfu's persistence, behind one API for both backends: SQLite (embedded default, one file)
//! and PostgreSQL (scale-out). The only crate that knows SQL.
//!
//! - [`Store::open`] takes a database URL, refuses unknown schemes, runs the embedded
//!   migrations of its backend (`migrations/sqlite`, `migrations/postgres`, same names), and
//!   seeds the region and department tables from the embedded region tree.
//! - Reads go through [`Store`]; every write goes through a [`WriteTx`], which the caller
//!   commits after appending its audit event, so a change and its event land together or not
//!   at all. Writes are serialised per database (one writer connection on SQLite; an advisory
//!   transaction lock on PostgreSQL), which keeps the audit chain ordered and gap-free.
//!
//! Dialect differences live in a few marked places (`DIALECT:` comments).
//! Row structs here are plain data; they carry no rules.

mod migrate;
mod read;
mod rows;
mod url;
mod write;

pub use rows::*;
pub use url::{Backend, DatabaseUrl};
pub use write::WriteTx;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL was refused before connecting; the message says how to fix it.
    #[error("{0}")]
    BadUrl(String),
    /// A uniqueness or reference rule of the schema refused the write.
    #[error("{0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A connection to one bangfu database.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    read: AnyPool,
    write: AnyPool,
}

impl Store {
    /// Opens (on SQLite: creates on first run) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> StoreResult<Store> {
        let url = DatabaseUrl::parse(url)?;
        sqlx::any::install_default_drivers();
        let connect_url = url.connect_url();
        let backend = url.backend();
        // DIALECT: SQLite has one writer at a time; readers run beside it in WAL mode.
        let (read_max, write_max) = match backend {
            Backend::Sqlite => (8, 1),
            Backend::Postgres => (16, 16),
        };
        let options = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // DIALECT: per-connection SQLite settings. WAL survives kill -9 of the
                            // process with synchronous=NORMAL; foreign keys are off by default in SQLite.
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                        }
                        Ok(())
                    })
                })
        };
        let write = options(write_max).connect(&connect_url).await.map_err(|e| connect_error(&url, e))?;
        if backend == Backend::Sqlite {
            write.execute("PRAGMA journal_mode = WAL").await?;
        }
        let store_for_migrate = Store { backend, read: write.clone(), write: write.clone() };
        migrate::run(&store_for_migrate).await?;
        let read = options(read_max).connect(&connect_url).await.map_err(|e| connect_error(&url, e))?;
        Ok(Store { backend, read, write })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction; writes from all callers are serialised.
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        WriteTx::begin(&self.write, self.backend).await
    }

    /// Closes the pools, waiting for connections to finish.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn connect_error(url: &DatabaseUrl, error: sqlx::Error) -> StoreError {
    StoreError::BadUrl(format!("cannot open {}: {error}", url.display()))
}

/// Milliseconds since the Unix epoch; the store's representation of a time.
pub type Millis = i64;
