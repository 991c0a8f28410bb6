//! Copying a whole installation into another database (`bangfu migrate-db`), typically from the
//! SQLite default to PostgreSQL: table by table in key order, ids preserved, in one write
//! transaction on the target; then the row counts of both sides are compared.
//!
//! Values are read and written by the target's column types, so the copy is generic over the
//! columns (a column added by a later migration is copied without touching this file). A table
//! the copy does not know is refused rather than left behind.

use crate::migrate::placeholders;
use crate::{Backend, Store, StoreError, StoreResult};
use sqlx::any::{AnyArguments, AnyRow, AnyTypeInfoKind};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Column, Executor, Row, Statement};

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

/// One value in flight, typed by the target column.
#[derive(Clone, Debug)]
enum Value {
    Bool(Option<bool>),
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl Value {
    fn read(row: &AnyRow, index: usize, kind: AnyTypeInfoKind) -> Result<Value, sqlx::Error> {
        use AnyTypeInfoKind::*;
        Ok(match kind {
            Bool => Value::Bool(row.try_get(index)?),
            SmallInt | Integer | BigInt => Value::Int(row.try_get(index)?),
            Real | Double => Value::Float(row.try_get(index)?),
            Text => Value::Text(row.try_get(index)?),
            Blob => Value::Blob(row.try_get(index)?),
            Null => return Err(sqlx::Error::Protocol(format!("column {index} has no type"))),
        })
    }

    fn bind(self, query: Query<'_, Any, AnyArguments>) -> Query<'_, Any, AnyArguments> {
        match self {
            Value::Bool(v) => query.bind(v),
            Value::Int(v) => query.bind(v),
            Value::Float(v) => query.bind(crate::dialect::float(v)),
            Value::Text(v) => query.bind(v),
            Value::Blob(v) => query.bind(v),
        }
    }
}

impl Store {
    /// Rows per table, every table in copy order.
    pub async fn table_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut conn = self.read.acquire().await?;
        counts(&mut conn).await
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

        // One snapshot of the source for the whole copy, even if a server still writes to it.
        let mut source = self.read.begin().await?;
        if self.backend == Backend::Postgres {
            // DIALECT: PostgreSQL's default isolation sees each statement's own snapshot.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *source).await?;
        }
        let mut tx = crate::write::begin_locked(&target.write, target.backend).await?;
        let mut copied_rows = 0;
        for (table, key) in TABLES {
            if SEEDED.contains(table) {
                continue;
            }
            copied_rows += copy_table(&mut source, &mut tx, table, key).await?;
        }
        if target.backend == Backend::Postgres {
            reset_identities(&mut tx).await?;
        }
        tx.commit().await?;

        let source_counts = counts(&mut source).await?;
        source.rollback().await?;
        let target_counts = target.table_counts().await?;
        let tables = source_counts
            .into_iter()
            .zip(target_counts)
            .map(|((table, source), (_, target))| TableCount { table, source, target })
            .collect();
        Ok(CopyReport { tables, copied_rows })
    }
}

async fn counts(conn: &mut AnyConnection) -> StoreResult<Vec<(String, i64)>> {
    let mut out = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut *conn).await?;
        out.push((table.to_string(), row.try_get::<i64, _>(0)?));
    }
    Ok(out)
}

/// Refuses a database with a table this copy would leave behind.
async fn check_known_tables(store: &Store) -> StoreResult<()> {
    let sql = match store.backend {
        // DIALECT: the catalogue of tables.
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    let rows = sqlx::query(sql).fetch_all(&store.read).await?;
    for row in rows {
        let name: String = row.try_get(0)?;
        if !TABLES.iter().any(|(t, _)| *t == name) && !NOT_COPIED.contains(&name.as_str()) {
            return Err(StoreError::Conflict(format!(
                "table {name} is not known to the copy — add it to TABLES in crates/store/src/copy.rs"
            )));
        }
    }
    Ok(())
}

/// Copies one table page by page in key order; returns the rows written.
async fn copy_table(source: &mut AnyConnection, target: &mut AnyConnection, table: &str, key: &[&str]) -> StoreResult<i64> {
    // The target's columns and their types decide how each value is read and written.
    let statement = target.prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))).await?;
    let columns: Vec<(String, AnyTypeInfoKind)> =
        statement.columns().iter().map(|c| (c.name().to_string(), c.type_info().kind())).collect();
    if let Some((name, _)) = columns.iter().find(|(_, kind)| *kind == AnyTypeInfoKind::Null) {
        return Err(StoreError::Conflict(format!("column {table}.{name} has a type the copy cannot carry")));
    }
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
    // Both backends take at least 32766 parameters in one statement.
    let rows_per_insert = (30_000 / columns.len()).clamp(1, 1_000);

    let mut written = 0;
    let mut last_key: Option<Vec<Value>> = None;
    loop {
        let query = match &last_key {
            None => sqlx::query(sqlx::AssertSqlSafe(first_page.clone())),
            Some(values) => values.iter().cloned().fold(sqlx::query(sqlx::AssertSqlSafe(next_page.clone())), |q, v| v.bind(q)),
        };
        let rows = query.fetch_all(&mut *source).await?;
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            let values = columns.iter().enumerate().map(|(i, (_, kind))| Value::read(row, i, *kind)).collect::<Result<Vec<_>, _>>();
            page.push(values.map_err(|e| StoreError::Conflict(format!("cannot read a row of {table}: {e}")))?);
        }
        for chunk in page.chunks(rows_per_insert) {
            let sql = format!("INSERT INTO {table} ({list}) VALUES {}", placeholders(chunk.len(), columns.len()));
            let query = chunk.iter().flatten().cloned().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, v| v.bind(q));
            query.execute(&mut *target).await?;
        }
        written += page.len() as i64;
        match page.last() {
            Some(last) if page.len() as i64 == page_size => last_key = Some(key_index.iter().map(|&i| last[i].clone()).collect()),
            _ => break,
        }
    }
    Ok(written)
}

/// DIALECT: rows inserted with their ids leave PostgreSQL's identity sequences behind; each
/// continues after the highest id copied. (SQLite's AUTOINCREMENT follows by itself.)
async fn reset_identities(target: &mut AnyConnection) -> StoreResult<()> {
    for (table, key) in TABLES {
        if *key != ["id"] {
            continue;
        }
        let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *target).await?;
    }
    Ok(())
}
