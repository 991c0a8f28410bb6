//! Copying a whole installation into another database (`bangfu migrate-db`), typically from the
//! SQLite default to PostgreSQL: table by table in key order, ids preserved, in one write
//! transaction on the target; then the row counts of both sides are compared.
//!
//! Values are read as the source holds them and written as the target's column types say, so
//! the copy is generic over the columns (a column added by a later migration is copied without
//! touching this file). A table the copy does not know is refused rather than left behind.

use crate::db::{Arg, Exec, Value, query, query_owned};
use crate::migrate::placeholders;
use crate::{Backend, ReadConn, Store, StoreError, StoreResult};

/// Every table, referenced ones before those referring to them, with the key that orders it.
const TABLES: &[(&str, &[&str])] = &[
    ("regions", &["code"]),
    ("departments", &["region_code"]),
    ("enterprises", &["id"]),
    ("providers", &["id"]),
    ("users", &["id"]),
    ("sessions", &["token_hash"]),
    ("capabilities", &["id"]),
    ("cases", &["id"]),
    ("team_members", &["id"]),
    ("needs", &["id"]),
    ("candidates", &["id"]),
    ("screenings", &["need_id"]),
    ("shipments", &["id"]),
    ("approvals", &["id"]),
    ("letters", &["id"]),
    ("notifications", &["id"]),
    ("notification_marks", &["user_id"]),
    ("notification_reads", &["user_id", "notification_id"]),
    ("broadcasts", &["need_id", "department"]),
    ("daily_returns", &["id"]),
    ("milestones", &["id"]),
    ("milestone_blockers", &["milestone_id", "need_id"]),
    ("events", &["seq"]),
    ("job_runs", &["job", "slot"]),
    ("briefings", &["id"]),
    ("login_throttles", &["key"]),
    ("saved_views", &["id"]),
    ("responses", &["id"]),
    ("inbox_reads", &["user_id", "need_id"]),
    ("comments", &["id"]),
    ("attachments", &["id"]),
    ("need_reporters", &["need_id"]),
    ("need_confirmations", &["need_id"]),
    ("channels", &["id"]),
    ("outbox", &["id"]),
    ("outbox_attempts", &["id"]),
    ("approval_reminders", &["approval_id", "threshold_minutes"]),
];

/// Filled by the migrations themselves (identically on every database): compared, not copied.
const SEEDED: &[&str] = &["regions", "departments"];

/// Bookkeeping of the migration runner: each side keeps its own.
const NOT_COPIED: &[&str] = &["schema_migrations"];

/// Rows read per page from the source.
const PAGE: i64 = 5_000;

/// Rows read per page of a table whose rows are large (attachments: up to a few MB each).
fn page_of(table: &str) -> i64 {
    if table == "attachments" { 8 } else { PAGE }
}

/// The rows of one table on both sides after a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCount {
    pub table: String,
    pub source: i64,
    pub target: i64,
}

/// What [`Store::copy_into`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyReport {
    /// Every table, in copy order.
    pub tables: Vec<TableCount>,
    /// Rows written to the target (seeded tables excluded).
    pub copied_rows: i64,
}

impl CopyReport {
    /// The tables whose counts differ (none after a good copy).
    pub fn mismatches(&self) -> Vec<&TableCount> {
        self.tables.iter().filter(|t| t.source != t.target).collect()
    }
}

/// What a target column holds, as far as the copy is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnType {
    Int,
    Float,
    Text,
    Blob,
}

impl ColumnType {
    /// From a column's declared type (SQLite's `PRAGMA table_info`, PostgreSQL's
    /// `information_schema.columns.data_type`).
    fn of_declared(table: &str, column: &str, declared: &str) -> StoreResult<ColumnType> {
        let d = declared.to_ascii_lowercase();
        Ok(if d.contains("int") {
            ColumnType::Int
        } else if d.contains("real") || d.contains("double") || d.contains("float") {
            ColumnType::Float
        } else if d.contains("text") || d.contains("char") {
            ColumnType::Text
        } else if d.contains("blob") || d.contains("bytea") {
            ColumnType::Blob
        } else {
            return Err(StoreError::Conflict(format!("column {table}.{column} has type {declared}, which the copy cannot carry")));
        })
    }

    /// `value` (as the source held it) as a parameter for a column of this type.
    fn arg(self, table: &str, column: &str, value: Value) -> StoreResult<Arg> {
        Ok(match (self, value) {
            (ColumnType::Int, Value::Null) => Arg::Int(None),
            (ColumnType::Float, Value::Null) => Arg::Float(None),
            (ColumnType::Text, Value::Null) => Arg::Text(None),
            (ColumnType::Blob, Value::Null) => Arg::Blob(None),
            (ColumnType::Int, Value::Int(v)) => Arg::Int(Some(v)),
            (ColumnType::Float, Value::Float(v)) => Arg::Float(Some(v)),
            (ColumnType::Float, Value::Int(v)) => Arg::Float(Some(v as f64)),
            (ColumnType::Text, Value::Text(v)) => Arg::Text(Some(v)),
            (ColumnType::Blob, Value::Blob(v)) => Arg::Blob(Some(v)),
            (ColumnType::Blob, Value::Text(v)) => Arg::Blob(Some(v.into_bytes())),
            (want, got) => return Err(StoreError::Conflict(format!("cannot copy {table}.{column}: {got:?} is not a {want:?}"))),
        })
    }
}

impl Store {
    /// Rows per table, every table in copy order.
    pub async fn table_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut conn = self.reading().await?;
        counts(conn.exec()).await
    }

    /// The tables other than the seeded regions and departments that hold rows, with their
    /// counts: empty for a database that nothing has been written to.
    pub async fn data_tables_in_use(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(self.table_counts().await?.into_iter().filter(|(table, n)| *n > 0 && !SEEDED.contains(&table.as_str())).collect())
    }

    /// Copies everything in this database into `target`, which must hold nothing beyond its
    /// seeded regions and departments (refused with [`StoreError::Conflict`] otherwise). Ids and
    /// the audit log are copied as they are, in one transaction on the target; PostgreSQL's
    /// identity sequences then continue after the highest id. Returns the row counts of both
    /// sides, read after the copy (the source from the snapshot it was copied from).
    pub async fn copy_into(&self, target: &Store) -> StoreResult<CopyReport> {
        let in_use = target.data_tables_in_use().await?;
        if !in_use.is_empty() {
            let list: Vec<String> = in_use.iter().map(|(t, n)| format!("{t} {n}")).collect();
            return Err(StoreError::Conflict(format!(
                "the target database already holds data ({}) — copy into a new, empty database",
                list.join(", ")
            )));
        }
        check_known_tables(self).await?;
        check_known_tables(target).await?;

        // The target's columns, read before its write (the target is new: nothing changes them).
        let mut plans = Vec::with_capacity(TABLES.len());
        {
            let mut conn = target.reading().await?;
            for (table, key) in TABLES {
                if !SEEDED.contains(table) {
                    plans.push(TablePlan::of(conn.exec(), target.backend, table, key).await?);
                }
            }
        }
        let plans = std::sync::Arc::new(plans);

        // One snapshot of the source for the whole copy, even if a server still writes to it.
        let mut source = self.reading().await?;
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN",
            // DIALECT: PostgreSQL's default isolation sees each statement's own snapshot.
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        };
        source.exec().batch(begin).await?;
        // One write on the target, fed the source's pages as they are read: the job takes them
        // from a channel (its own input, not another request), a few pages ahead at most.
        let (pages, received) = tokio::sync::mpsc::channel(2);
        let target_backend = target.backend;
        let job_plans = std::sync::Arc::clone(&plans);
        let write = target.write(move |tx| write_pages(tx, &job_plans, received, target_backend));
        let (written, fed) = tokio::join!(write, feed(&mut source, &plans, pages));
        let source_counts = if written.is_ok() && fed.is_ok() { counts(source.exec()).await } else { Ok(Vec::new()) };
        // The snapshot ends whatever happened (the connection goes back to its pool).
        source.exec().batch("ROLLBACK").await?;
        // Each side stops when the other does: the error to report is the one that came first.
        let copied_rows = match (written, fed) {
            (Ok(rows), Ok(())) => rows,
            (_, Err(Fed::Failed(e))) | (Err(e), _) => return Err(e),
            (Ok(_), Err(Fed::WriteGone)) => {
                return Err(StoreError::Conflict("the copy's write on the target ended before the source was read".into()));
            }
        };
        let source_counts = source_counts?;
        let target_counts = target.table_counts().await?;
        let tables = source_counts
            .into_iter()
            .zip(target_counts)
            .map(|((table, source), (_, target))| TableCount { table, source, target })
            .collect();
        Ok(CopyReport { tables, copied_rows })
    }
}

/// A table to copy: its key and the target's columns, in order, with their types.
struct TablePlan {
    table: &'static str,
    key: &'static [&'static str],
    columns: Vec<(String, ColumnType)>,
}

/// What the reading side sends the target's write job.
enum Page {
    /// Rows of `plans[table]`, each as the target's column types take it.
    Rows { table: usize, rows: Vec<Vec<Arg>> },
    /// Every table was read.
    Done,
}

/// Why the reading side of a copy stopped.
enum Fed {
    /// The source could not be read (the write then undoes the copy).
    Failed(StoreError),
    /// The target's write ended first (it says why).
    WriteGone,
}

impl From<StoreError> for Fed {
    fn from(e: StoreError) -> Fed {
        Fed::Failed(e)
    }
}

/// Reads every table of `source` page by page in key order and sends the pages to the write.
async fn feed(source: &mut ReadConn, plans: &[TablePlan], pages: tokio::sync::mpsc::Sender<Page>) -> Result<(), Fed> {
    let write_gone = |_| Fed::WriteGone;
    for (index, plan) in plans.iter().enumerate() {
        let TablePlan { table, key, columns } = plan;
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let key_index = key
            .iter()
            .map(|k| names.iter().position(|n| n == k).ok_or_else(|| StoreError::Conflict(format!("table {table} has no column {k}"))))
            .collect::<StoreResult<Vec<usize>>>()?;
        let list = names.join(", ");
        let key_list = key.join(", ");
        let key_params = (1..=key.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let page_size = page_of(table);
        let first_page = format!("SELECT {list} FROM {table} ORDER BY {key_list} LIMIT {page_size}");
        let next_page = format!("SELECT {list} FROM {table} WHERE ({key_list}) > ({key_params}) ORDER BY {key_list} LIMIT {page_size}");
        let mut last_key: Option<Vec<Arg>> = None;
        loop {
            let stmt = match &last_key {
                None => query_owned(first_page.clone()),
                Some(values) => values.iter().cloned().fold(query_owned(next_page.clone()), |q, v| q.bind(v)),
            };
            let rows = source.exec().values(stmt).await?;
            let mut page = Vec::with_capacity(rows.len());
            for row in rows {
                if row.len() != columns.len() {
                    return Err(StoreError::Conflict(format!("table {table}: the source gave {} columns for {}", row.len(), columns.len())).into());
                }
                let args = row.into_iter().zip(columns).map(|(v, (name, ty))| ty.arg(table, name, v)).collect::<StoreResult<Vec<Arg>>>()?;
                page.push(args);
            }
            let full = page.len() as i64 == page_size;
            last_key = page.last().map(|last| key_index.iter().map(|&i| last[i].clone()).collect());
            if !page.is_empty() {
                pages.send(Page::Rows { table: index, rows: page }).await.map_err(write_gone)?;
            }
            if !full {
                break;
            }
        }
    }
    pages.send(Page::Done).await.map_err(write_gone)
}

/// The target's write: inserts the pages `feed` sends until it says it is done; returns the
/// rows written. A feed that stops without saying so (the source failed) undoes the copy.
fn write_pages(tx: &mut crate::WriteTx, plans: &[TablePlan], mut pages: tokio::sync::mpsc::Receiver<Page>, backend: Backend) -> StoreResult<i64> {
    let mut written = 0;
    loop {
        match pages.blocking_recv() {
            Some(Page::Rows { table, rows }) => {
                let TablePlan { table, columns, .. } = &plans[table];
                let list = columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
                // Both backends take at least 32766 parameters in one statement.
                let rows_per_insert = (30_000 / columns.len()).clamp(1, 1_000);
                for chunk in rows.chunks(rows_per_insert) {
                    let sql = format!("INSERT INTO {table} ({list}) VALUES {}", placeholders(chunk.len(), columns.len()));
                    let stmt = chunk.iter().flatten().cloned().fold(query_owned(sql), |q, v| q.bind(v));
                    tx.exec().execute(stmt)?;
                }
                written += rows.len() as i64;
            }
            Some(Page::Done) => break,
            None => return Err(StoreError::Conflict("the copy stopped reading the source; nothing was copied".into())),
        }
    }
    if backend == Backend::Postgres {
        reset_identities(tx)?;
    }
    Ok(written)
}

async fn counts(mut exec: Exec<'_>) -> StoreResult<Vec<(String, i64)>> {
    let mut out = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES {
        let n = exec.reborrow().optional(query_owned(format!("SELECT COUNT(*) AS n FROM {table}")), |r| r.try_get::<i64>("n")).await?;
        out.push((table.to_string(), n.unwrap_or(0)));
    }
    Ok(out)
}

/// Refuses a database with a table this copy would leave behind.
async fn check_known_tables(store: &Store) -> StoreResult<()> {
    let sql = match store.backend {
        // DIALECT: the catalogue of tables.
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    let mut conn = store.reading().await?;
    let names = conn.exec().rows(query(sql), |r| r.try_get::<String>("name")).await?;
    for name in names {
        if !TABLES.iter().any(|(t, _)| *t == name) && !NOT_COPIED.contains(&name.as_str()) {
            return Err(StoreError::Conflict(format!(
                "table {name} is not known to the copy — add it to TABLES in crates/store/src/copy.rs"
            )));
        }
    }
    Ok(())
}

impl TablePlan {
    /// `table` as the target holds it: its columns, in order, with their types.
    async fn of(exec: Exec<'_>, backend: Backend, table: &'static str, key: &'static [&'static str]) -> StoreResult<TablePlan> {
        // DIALECT: the catalogue of columns.
        let stmt = match backend {
            Backend::Sqlite => query_owned(format!("SELECT name, type AS declared FROM pragma_table_info('{table}') ORDER BY cid")),
            Backend::Postgres => query(
                "SELECT column_name::text AS name, data_type::text AS declared FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table),
        };
        let columns = exec.rows(stmt, |r| Ok((r.try_get::<String>("name")?, r.try_get::<String>("declared")?))).await?;
        if columns.is_empty() {
            return Err(StoreError::Conflict(format!("table {table} has no columns in the target")));
        }
        let columns = columns.into_iter().map(|(name, declared)| ColumnType::of_declared(table, &name, &declared).map(|t| (name, t))).collect::<StoreResult<_>>()?;
        Ok(TablePlan { table, key, columns })
    }
}

/// DIALECT: rows inserted with their ids leave PostgreSQL's identity sequences behind; each
/// continues after the highest id copied. (SQLite's AUTOINCREMENT follows by itself.)
fn reset_identities(target: &mut crate::WriteTx) -> StoreResult<()> {
    for (table, key) in TABLES {
        if *key != ["id"] {
            continue;
        }
        let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)");
        target.exec().batch(&sql)?;
    }
    Ok(())
}
