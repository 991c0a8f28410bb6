//! bangfu's persistence, behind one API for both backends: SQLite (embedded default, one file)
//! and PostgreSQL (scale-out). The only crate that knows SQL.
//!
//! - [`Store::open`] takes a database URL, refuses unknown schemes, runs the embedded
//!   migrations of its backend (`migrations/sqlite`, `migrations/postgres`, same names), and
//!   seeds the region and department tables from the embedded region tree.
//! - Reads go through [`Store`]; every write is a job given to [`Store::write`], which runs it
//!   on the store's writer thread with a [`WriteTx`] (its change and its audit event land together
//!   or not at all) and commits it with the jobs queued beside it (group commit, `writer.rs`).
//!   Writes are serialised per database (one writer thread per store; SQLite's file lock or an
//!   advisory transaction lock on PostgreSQL between processes), which keeps the audit chain
//!   ordered and gap-free.
//!
//! One library per database: rusqlite for everything on SQLite (requests, migrations, copies),
//! sqlx's PostgreSQL driver for PostgreSQL. Dialect differences live in a few marked places
//! (`DIALECT:` comments).
//! Row structs here are plain data; they carry no rules.

mod copy;
mod db;
pub mod figures;
mod joins;
pub mod lists;
mod migrate;
mod notify;
mod participation;
mod outbox;
mod read;
mod rows;
pub mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod url;
mod write;
mod writer;

pub use copy::{CopyReport, TableCount};
pub use joins::SelectedChoice;
pub use lists::{Page, PageRequest};
pub use notify::{Listener, MAX_PAYLOAD_BYTES, NOTIFICATIONS_CHANNEL, Notification};
pub use read::ReadConn;
pub use rows::*;
pub use url::{Backend, DatabaseUrl};
pub use write::WriteTx;

use sqlx::postgres::{PgPool, PgPoolOptions};
use std::sync::Arc;
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
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A row did not hold what the store expected of it.
    #[error("database error: {0}")]
    Decode(String),
    /// A stored value that does not decode into its domain type (a status no status is, a region
    /// code of no region, a JSON text that is not JSON): never read as a default.
    #[error("database error: {table} row {id}, column {column}: stored value {value:?} does not decode: {why}")]
    BadValue { table: &'static str, id: String, column: String, value: String, why: String },
    /// The store's writer thread (or, on PostgreSQL, its runtime) could not be started.
    #[error("cannot start the database writer: {0}")]
    WriterNotStarted(String),
    /// The store was closed (its writer or its readers are gone).
    #[error("the database is closed")]
    Closed,
    /// The group commit that held this write failed; nothing of the write was kept.
    #[error("database error: {0}")]
    CommitFailed(String),
    /// A write was asked for inside another write's job, which holds the writer it would wait
    /// for (a bug: do the second write after the first returns, or inside the same job).
    #[error("a write was started inside another write; nothing of it was done")]
    WriteInsideWrite,
    /// The write panicked; its changes were rolled back (a bug: the log has the panic).
    #[error("the write failed unexpectedly and was rolled back")]
    JobPanicked,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// SQLite reads at once (each runs on the thread of the task that makes it; see `db.rs`).
const LITE_READERS: usize = 8;

/// A connection to one bangfu database.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    conns: Conns,
    /// The queue of this store's writer thread (see `writer.rs`).
    writer: writer::Writer,
    /// In-process notifications (SQLite: one server process).
    hub: notify::LocalHub,
}

/// Where the statements of a [`Store`] run.
#[derive(Clone, Debug)]
enum Conns {
    /// SQLite: the connections that reads and writes use (on the caller's thread, see `db.rs`).
    Lite(Arc<db::Lite>),
    /// PostgreSQL: the pool of reads, and where a listener connects.
    Pg(Pg),
}

/// The pool of a PostgreSQL database's reads (the writer thread holds a connection of its
/// own), and where a listener connects.
#[derive(Clone, Debug)]
struct Pg {
    read: PgPool,
    listen_url: Secret,
}

/// A connection URL that may hold a password: never printed.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Store {
    /// Opens (on SQLite: creates on first run) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> StoreResult<Store> {
        let url = DatabaseUrl::parse(url)?;
        let backend = url.backend();
        let hub = notify::local_hub();
        let store = match &url {
            DatabaseUrl::Sqlite { path } => {
                let (lite, writer) = db::Lite::open(path, LITE_READERS).map_err(|e| StoreError::BadUrl(format!("cannot open {}: {e}", url.display())))?;
                let writer = writer::Writer::start(writer::Target::Lite(writer), hub.clone()).await?;
                Store { backend, conns: Conns::Lite(Arc::new(lite)), writer, hub }
            }
            DatabaseUrl::Postgres { url: connect_url } => {
                let read = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    // A ping before every use costs PostgreSQL a round trip per query (most
                    // reads are one query per acquire); a broken connection fails its query
                    // instead, and the pool replaces it.
                    .test_before_acquire(false)
                    .connect(connect_url).await.map_err(|e| connect_error(&url, e))?;
                let connect_options = connect_url.parse().map_err(|e| connect_error(&url, e))?;
                let writer = writer::Writer::start(writer::Target::Pg(Box::new(connect_options)), hub.clone()).await.map_err(|e| match e {
                    StoreError::Database(e) => connect_error(&url, e),
                    other => other,
                })?;
                Store { backend, conns: Conns::Pg(Pg { read, listen_url: Secret(connect_url.clone()) }), writer, hub }
            }
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// The PostgreSQL pool and listen URL (`None` on SQLite).
    fn pg(&self) -> Option<&Pg> {
        match &self.conns {
            Conns::Pg(pg) => Some(pg),
            Conns::Lite(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `job` as one write and answers once it is committed (see `writer.rs`): writes from
    /// every caller of this process run one at a time, in order, on the store's writer, and a
    /// group of them commits together. `job` is a synchronous closure given the write's
    /// [`WriteTx`]; returning an error rolls back everything it did. Not being a future, it
    /// cannot wait for another request while it holds the writer; a `Store::write` blocked on
    /// inside a job is refused at once with [`StoreError::WriteInsideWrite`].
    pub async fn write<T, E, F>(&self, job: F) -> Result<T, E>
    where
        F: FnOnce(&mut WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.writer.write(job).await
    }

    /// Claims the run of the periodic `job` for time `slot` (for example the minute,
    /// `now_ms / 60_000`) for this server, cluster-wide: the first caller for a (job, slot) gets
    /// `true`, every later one — on any server — `false`. The claim commits at once; to make
    /// the claim and the job's writes one transaction, use [`WriteTx::claim_job_slot`].
    /// It is a write like any other: never call it inside a job of [`Store::write`].
    pub async fn claim_job_slot(&self, job: &str, slot: i64) -> StoreResult<bool> {
        let job = job.to_string();
        self.write(move |tx| tx.claim_job_slot(&job, slot)).await
    }

    /// Sends `payload` on `channel` to every listener, on every server of this database, now.
    /// Inside a write, prefer [`WriteTx::notify`], which sends only if the write commits.
    pub async fn notify(&self, channel: &str, payload: &str) -> StoreResult<()> {
        notify::check(channel, payload)?;
        match self.pg() {
            // DIALECT: NOTIFY reaches the LISTEN connections of every server.
            Some(pg) => {
                sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&pg.read).await?;
            }
            // One process on SQLite: the in-process hub is every listener there is.
            None => {
                let _ = self.hub.send(Notification { channel: channel.to_string(), payload: payload.to_string() });
            }
        }
        Ok(())
    }

    /// Starts listening to `channels`; the listener receives what [`Store::notify`] and
    /// [`WriteTx::notify`] send on them from any server, from this moment on. On PostgreSQL it
    /// holds one connection of its own.
    pub async fn listen(&self, channels: &[&str]) -> StoreResult<Listener> {
        for channel in channels {
            notify::check(channel, "")?;
        }
        match self.pg() {
            Some(pg) => Listener::postgres(&pg.listen_url.0, channels).await,
            None => Ok(Listener::local(&self.hub, channels)),
        }
    }

    /// Closes the pools, waiting for connections to finish.
    pub async fn close(&self) {
        if let Some(pg) = self.pg() {
            pg.read.close().await;
        }
    }
}

fn connect_error(url: &DatabaseUrl, error: sqlx::Error) -> StoreError {
    StoreError::BadUrl(format!("cannot open {}: {error}", url.display()))
}

/// Milliseconds since the Unix epoch; the store's representation of a time.
pub type Millis = i64;
