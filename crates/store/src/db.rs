//! Where a statement runs. Every read and write of the store is a [`Stmt`] (SQL with `$N`
//! parameters, written once for both backends) run on an [`Exec`]:
//!
//! - **PostgreSQL** through sqlx's PostgreSQL driver (pooled connections, async network I/O);
//! - **SQLite** through rusqlite, **on the calling thread**. SQLite is a library in this
//!   process: a statement is a few microseconds of work on pages in memory, and sqlx's SQLite
//!   driver would hand every statement and every row to a thread of the connection's own and
//!   back (two thread wake-ups, a copy of each value, a conversion to `AnyRow`). Under load that
//!   hand-off cost more than SQLite itself and held the one write lock for most of each
//!   transaction's time (BENCHMARKS.md, issue 5).
//!
//! Rows are decoded by column name through [`Row`], the same for both, so that a row struct
//! (`rows.rs`) and a join (`joins.rs`) are written once.
//!
//! A SQLite read blocks the runtime thread that runs it, for microseconds: reads never wait in
//! WAL mode. The writes of a store all run on its writer thread (`writer.rs`), which alone waits
//! when another *process* holds the file's write lock (a `bangfu` command beside the server),
//! bounded by `busy_timeout`.

use crate::{StoreError, StoreResult};
use bangfu_core::letter::Department;
use bangfu_core::model::Bilingual;
use bangfu_core::region::{RegionCode, RegionTree};
use bangfu_core::screening::KeptReason;
use bangfu_core::{model, outbox};
use crate::rows::JsonObject;
use rusqlite::types::ValueRef;
use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgRow};
use sqlx::{Postgres, TypeInfo, ValueRef as _};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One parameter, typed even when NULL (PostgreSQL types a parameter by what is bound).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::Int(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Arg {
        Arg::Float(Some(v))
    }
}
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Arg {
        Arg::Float(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Arg {
        Arg::Text(v.clone())
    }
}

/// A statement and its parameters: `$1` is the first argument bound, `$2` the second, …
#[derive(Clone, Debug)]
pub(crate) struct Stmt {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// A statement written in the source.
pub(crate) fn query(sql: &'static str) -> Stmt {
    Stmt { sql: Cow::Borrowed(sql), args: Vec::new() }
}

/// A statement put together at run time (numbers of rows, table names from the code).
pub(crate) fn query_owned(sql: String) -> Stmt {
    Stmt { sql: Cow::Owned(sql), args: Vec::new() }
}

impl Stmt {
    /// The same statement behind `prefix` (`EXPLAIN …` in tests).
    #[cfg(test)]
    pub(crate) fn prefixed(self, prefix: &str) -> Stmt {
        Stmt { sql: Cow::Owned(format!("{prefix}{}", self.sql)), args: self.args }
    }

    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Stmt {
        self.args.push(arg.into());
        self
    }

    fn into_sqlx(self) -> sqlx::query::Query<'static, Postgres, PgArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for arg in self.args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Float(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Blob(v) => q.bind(v),
            };
        }
        q
    }
}

/// A row being read, by column name.
pub(crate) trait Row {
    fn int(&self, name: &str) -> StoreResult<Option<i64>>;
    fn float(&self, name: &str) -> StoreResult<Option<f64>>;
    fn text(&self, name: &str) -> StoreResult<Option<String>>;
}

/// A Rust type a column decodes to.
pub(crate) trait Column: Sized {
    fn get(row: &(dyn Row + '_), name: &str) -> StoreResult<Self>;
}

fn not_null<T>(value: Option<T>, name: &str) -> StoreResult<T> {
    value.ok_or_else(|| StoreError::Decode(format!("column {name} is NULL")))
}

/// `Column` for a type and its `Option`, read through one accessor of [`Row`].
macro_rules! column {
    ($($ty:ty => $read:ident),*) => {$(
        impl Column for $ty {
            fn get(row: &(dyn Row + '_), name: &str) -> StoreResult<$ty> {
                not_null(row.$read(name)?, name)
            }
        }
        impl Column for Option<$ty> {
            fn get(row: &(dyn Row + '_), name: &str) -> StoreResult<Option<$ty>> {
                row.$read(name)
            }
        }
    )*};
}
column!(i64 => int, f64 => float, String => text);

/// A value that did not decode: [`StoreError::BadValue`] without its table and row yet, which
/// the row struct's decoding adds ([`StoreError::at_row`]).
fn bad_value(column: &str, value: impl std::fmt::Display, why: impl std::fmt::Display) -> StoreError {
    StoreError::BadValue { table: "", id: String::new(), column: column.to_string(), value: value.to_string(), why: why.to_string() }
}

/// A domain type stored as a column of a plain type: decoded from it (or refused, never a
/// default) and encoded back to exactly the text or number it was read from.
pub(crate) trait Stored: Sized {
    /// The stored value; an error shows it as it is (text without quotes, numbers as written).
    type Raw: Column + std::fmt::Display;
    fn decode(raw: &Self::Raw) -> Result<Self, String>;
}

/// `Column` for [`Stored`] types and their `Option`s.
macro_rules! stored_column {
    ($($ty:ty),* $(,)?) => {$(
        impl Column for $ty {
            fn get(row: &(dyn Row + '_), name: &str) -> StoreResult<$ty> {
                let raw = <<$ty as Stored>::Raw as Column>::get(row, name)?;
                <$ty as Stored>::decode(&raw).map_err(|why| bad_value(name, &raw, why))
            }
        }
        impl Column for Option<$ty> {
            fn get(row: &(dyn Row + '_), name: &str) -> StoreResult<Option<$ty>> {
                match <Option<<$ty as Stored>::Raw> as Column>::get(row, name)? {
                    None => Ok(None),
                    Some(raw) => <$ty as Stored>::decode(&raw).map(Some).map_err(|why| bad_value(name, &raw, why)),
                }
            }
        }
    )*};
}

/// The wire-named enums of `bangfu-core`, stored as their names.
macro_rules! named_column {
    ($($ty:ty),* $(,)?) => {$(
        impl Stored for $ty {
            type Raw = String;
            fn decode(raw: &String) -> Result<$ty, String> {
                // `parse` trims: a stored name with spaces around it is not a name this store wrote.
                let value = <$ty>::parse(raw).map_err(|e| e.to_string())?;
                if value.as_str() != raw {
                    return Err(format!("expected exactly {:?}", value.as_str()));
                }
                Ok(value)
            }
        }
        impl From<$ty> for Arg {
            fn from(v: $ty) -> Arg {
                Arg::Text(Some(v.as_str().to_string()))
            }
        }
        impl From<&$ty> for Arg {
            fn from(v: &$ty) -> Arg {
                Arg::Text(Some(v.as_str().to_string()))
            }
        }
        impl From<Option<$ty>> for Arg {
            fn from(v: Option<$ty>) -> Arg {
                Arg::Text(v.map(|v| v.as_str().to_string()))
            }
        }
    )*
    stored_column!($($ty),*);
    };
}
named_column!(
    model::Tier,
    model::Scope,
    model::NeedKind,
    model::NeedStatus,
    model::Role,
    model::StationRole,
    model::ApprovalStatus,
    model::LetterStatus,
    model::ShipmentStatus,
    model::CaseStatus,
    model::CandidateStatus,
    model::ResponseAnswer,
    outbox::ChannelKind,
    outbox::MessageFormat,
    outbox::EventKind,
    outbox::MessageStatus,
    outbox::AttemptOutcome,
);

/// A region code, stored as its six digits; it must be a region of the embedded tree (the
/// tree the store seeds its regions from, and the only one the application uses).
impl Stored for RegionCode {
    type Raw = String;
    fn decode(raw: &String) -> Result<RegionCode, String> {
        if raw.len() != 6 {
            return Err("a region code has six digits".into());
        }
        RegionTree::embedded().parse_code(raw).map_err(|e| e.to_string())
    }
}
impl From<RegionCode> for Arg {
    fn from(v: RegionCode) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<&RegionCode> for Arg {
    fn from(v: &RegionCode) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<Option<RegionCode>> for Arg {
    fn from(v: Option<RegionCode>) -> Arg {
        Arg::Text(v.map(|v| v.to_string()))
    }
}
impl From<&Option<RegionCode>> for Arg {
    fn from(v: &Option<RegionCode>) -> Arg {
        Arg::Text(v.map(|v| v.to_string()))
    }
}

/// A flag, stored as 0 or 1 (an integer on both backends, a boolean read as one on PostgreSQL).
impl Stored for bool {
    type Raw = i64;
    fn decode(raw: &i64) -> Result<bool, String> {
        match raw {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("a flag is 0 or 1".into()),
        }
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Int(Some(i64::from(v)))
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Arg {
        Arg::Int(v.map(i64::from))
    }
}

impl Stored for JsonObject {
    type Raw = String;
    fn decode(raw: &String) -> Result<JsonObject, String> {
        match serde_json::from_str(raw) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(_) => Err("expected a JSON object".into()),
            Err(e) => Err(format!("not JSON: {e}")),
        }
    }
}
impl From<&JsonObject> for Arg {
    fn from(v: &JsonObject) -> Arg {
        Arg::Text(Some(serde_json::to_string(v).expect("a JSON object serialises")))
    }
}

/// A list of texts (a milestone's predecessors), stored as a JSON array of strings.
impl Stored for Vec<String> {
    type Raw = String;
    fn decode(raw: &String) -> Result<Vec<String>, String> {
        serde_json::from_str(raw).map_err(|e| format!("expected a JSON list of texts: {e}"))
    }
}
impl From<&Vec<String>> for Arg {
    fn from(v: &Vec<String>) -> Arg {
        Arg::Text(Some(serde_json::to_string(v).expect("a list of texts is JSON")))
    }
}

/// The events a channel receives, stored as their names joined by commas ('' for every event).
impl Stored for Vec<outbox::EventKind> {
    type Raw = String;
    fn decode(raw: &String) -> Result<Vec<outbox::EventKind>, String> {
        outbox::EventKind::parse_list(raw)
    }
}
impl From<&Vec<outbox::EventKind>> for Arg {
    fn from(v: &Vec<outbox::EventKind>) -> Arg {
        Arg::Text(Some(v.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")))
    }
}

/// The texts of the keys of a JSON object, exactly these keys and each a text.
fn json_texts<const N: usize>(value: &serde_json::Value, keys: [&str; N]) -> Result<[String; N], String> {
    let wrong = || format!("expected an object of the texts {}", keys.join(", "));
    let object = value.as_object().filter(|o| o.len() == N).ok_or_else(wrong)?;
    let mut texts = keys.map(|_| String::new());
    for (text, key) in texts.iter_mut().zip(keys) {
        *text = object.get(key).and_then(serde_json::Value::as_str).ok_or_else(wrong)?.to_string();
    }
    Ok(texts)
}

/// A JSON array, each item decoded by `item`.
fn json_list<T>(raw: &str, item: impl Fn(&serde_json::Value) -> Result<T, String>) -> Result<Vec<T>, String> {
    match serde_json::from_str(raw) {
        Ok(serde_json::Value::Array(items)) => items.iter().enumerate().map(|(i, v)| item(v).map_err(|why| format!("item {i}: {why}"))).collect(),
        Ok(_) => Err("expected a JSON array".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// A letter's recipients, stored as a JSON array of `{"region", "name", "name_en"}`.
impl Stored for Vec<Department> {
    type Raw = String;
    fn decode(raw: &String) -> Result<Vec<Department>, String> {
        json_list(raw, |item| {
            let [region, zh, en] = json_texts(item, ["region", "name", "name_en"])?;
            Ok(Department { region: RegionCode::decode(&region)?, name: Bilingual { zh, en } })
        })
    }
}
impl From<&Vec<Department>> for Arg {
    fn from(v: &Vec<Department>) -> Arg {
        let items: Vec<serde_json::Value> =
            v.iter().map(|d| serde_json::json!({"region": d.region.to_string(), "name": d.name.zh, "name_en": d.name.en})).collect();
        Arg::Text(Some(serde_json::Value::Array(items).to_string()))
    }
}

/// A rejected candidacy's reasons, stored as a JSON array of `{"code", "zh", "en"}`.
impl Stored for Vec<KeptReason> {
    type Raw = String;
    fn decode(raw: &String) -> Result<Vec<KeptReason>, String> {
        json_list(raw, |item| {
            let [code, zh, en] = json_texts(item, ["code", "zh", "en"])?;
            Ok(KeptReason { code, text: Bilingual { zh, en } })
        })
    }
}
impl From<&Vec<KeptReason>> for Arg {
    fn from(v: &Vec<KeptReason>) -> Arg {
        let items: Vec<serde_json::Value> = v.iter().map(|r| serde_json::json!({"code": r.code, "zh": r.text.zh, "en": r.text.en})).collect();
        Arg::Text(Some(serde_json::Value::Array(items).to_string()))
    }
}

stored_column!(RegionCode, bool, JsonObject, Vec<String>, Vec<outbox::EventKind>, Vec<Department>, Vec<KeptReason>);

impl StoreError {
    /// A [`StoreError::BadValue`] of a column of `row` given its table and the row's key (read
    /// from column `key` of the same row); other errors as they are.
    pub(crate) fn at_row(self, table: &'static str, row: &(dyn Row + '_), key: &str) -> StoreError {
        match self {
            StoreError::BadValue { table: "", column, value, why, .. } => {
                let id = match row.int(key) {
                    Ok(Some(id)) => id.to_string(),
                    _ => match row.text(key) {
                        Ok(Some(text)) => text,
                        _ => "?".to_string(),
                    },
                };
                StoreError::BadValue { table, id, column, value, why }
            }
            other => other,
        }
    }
}

impl dyn Row + '_ {
    /// The column `name` as a `T`.
    pub(crate) fn try_get<T: Column>(&self, name: &str) -> StoreResult<T> {
        T::get(self, name)
    }
}

/// PostgreSQL types each expression (`COUNT(*)` is `int8`, a literal `1` is `int4`, a `float4`
/// column…); a column is read as the Rust type asked for whatever width it came in.
impl Row for PgRow {
    fn int(&self, name: &str) -> StoreResult<Option<i64>> {
        Ok(match pg_type(self, name)? {
            None => None,
            Some(PgType::Int4) => Some(i64::from(sqlx::Row::try_get::<i32, _>(self, name)?)),
            Some(PgType::Int2) => Some(i64::from(sqlx::Row::try_get::<i16, _>(self, name)?)),
            Some(PgType::Bool) => Some(i64::from(sqlx::Row::try_get::<bool, _>(self, name)?)),
            Some(_) => Some(sqlx::Row::try_get::<i64, _>(self, name)?),
        })
    }
    fn float(&self, name: &str) -> StoreResult<Option<f64>> {
        Ok(match pg_type(self, name)? {
            None => None,
            Some(PgType::Float4) => Some(f64::from(sqlx::Row::try_get::<f32, _>(self, name)?)),
            Some(PgType::Int8) => Some(sqlx::Row::try_get::<i64, _>(self, name)? as f64),
            Some(PgType::Int4) => Some(f64::from(sqlx::Row::try_get::<i32, _>(self, name)?)),
            Some(_) => Some(sqlx::Row::try_get::<f64, _>(self, name)?),
        })
    }
    fn text(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::Row::try_get(self, name)?)
    }
}

/// The widths of PostgreSQL values that [`Row`] reads differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PgType {
    Int2,
    Int4,
    Int8,
    Float4,
    Bool,
    Other,
}

/// The type of column `name` in `row`; `None` when its value is NULL.
fn pg_type(row: &PgRow, name: &str) -> StoreResult<Option<PgType>> {
    let value = sqlx::Row::try_get_raw(row, name)?;
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(match value.type_info().name() {
        "INT2" => PgType::Int2,
        "INT4" => PgType::Int4,
        "INT8" => PgType::Int8,
        "FLOAT4" => PgType::Float4,
        "BOOL" => PgType::Bool,
        _ => PgType::Other,
    }))
}

/// A SQLite row with its statement's column names, looked up from where the last lookup
/// ended: row structs read their columns in the order `SELECT *` gives them.
struct LiteRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: &'a [String],
    next: std::cell::Cell<usize>,
}

impl LiteRow<'_, '_> {
    fn value(&self, name: &str) -> StoreResult<ValueRef<'_>> {
        let n = self.names.len();
        let start = self.next.get();
        let index = (0..n)
            .map(|i| (start + i) % n)
            .find(|&i| self.names[i] == name)
            .or_else(|| self.names.iter().position(|c| c.eq_ignore_ascii_case(name)))
            .ok_or_else(|| StoreError::Decode(format!("no column {name}")))?;
        self.next.set(index + 1);
        Ok(self.row.get_ref(index)?)
    }
}

fn wrong_type(name: &str, want: &str, got: ValueRef<'_>) -> StoreError {
    StoreError::Decode(format!("column {name}: expected {want}, found {:?}", got.data_type()))
}

impl Row for LiteRow<'_, '_> {
    fn int(&self, name: &str) -> StoreResult<Option<i64>> {
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(wrong_type(name, "an integer", other)),
        }
    }
    fn float(&self, name: &str) -> StoreResult<Option<f64>> {
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            other => Err(wrong_type(name, "a number", other)),
        }
    }
    fn text(&self, name: &str) -> StoreResult<Option<String>> {
        match self.value(name)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => Ok(Some(
                std::str::from_utf8(bytes).map_err(|e| StoreError::Decode(format!("column {name}: {e}")))?.to_string(),
            )),
            other => Err(wrong_type(name, "text", other)),
        }
    }
}

/// Where a statement runs.
pub(crate) enum Exec<'c> {
    /// Any connection of a PostgreSQL pool.
    Pool(&'c PgPool),
    /// One PostgreSQL connection (a transaction's, or one held for several reads).
    Conn(&'c mut PgConnection),
    /// A SQLite connection, used on this thread. (`&mut`: a `&Connection` is not `Send`, and the
    /// futures of the store must be.)
    Lite(&'c mut rusqlite::Connection),
}

impl Exec<'_> {
    /// The same connection for one more statement, keeping this one for later.
    pub(crate) fn reborrow(&mut self) -> Exec<'_> {
        match self {
            Exec::Pool(pool) => Exec::Pool(pool),
            Exec::Conn(conn) => Exec::Conn(conn),
            Exec::Lite(conn) => Exec::Lite(conn),
        }
    }

    /// Every row of `stmt`, each decoded by `decode`.
    pub(crate) async fn rows<T>(self, stmt: Stmt, mut decode: impl FnMut(&dyn Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        match self {
            Exec::Pool(pool) => stmt.into_sqlx().fetch_all(pool).await?.iter().map(|r| decode(r)).collect(),
            Exec::Conn(conn) => stmt.into_sqlx().fetch_all(conn).await?.iter().map(|r| decode(r)).collect(),
            Exec::Lite(conn) => lite_rows(conn, &stmt, usize::MAX, &mut decode),
        }
    }

    /// The first row of `stmt`, if any, decoded by `decode`.
    pub(crate) async fn optional<T>(self, stmt: Stmt, mut decode: impl FnMut(&dyn Row) -> StoreResult<T>) -> StoreResult<Option<T>> {
        match self {
            Exec::Pool(pool) => stmt.into_sqlx().fetch_optional(pool).await?.as_ref().map(|r| decode(r)).transpose(),
            Exec::Conn(conn) => stmt.into_sqlx().fetch_optional(conn).await?.as_ref().map(|r| decode(r)).transpose(),
            Exec::Lite(conn) => Ok(lite_rows(conn, &stmt, 1, &mut decode)?.pop()),
        }
    }

    /// Runs `stmt`; returns the rows it changed.
    pub(crate) async fn execute(self, stmt: Stmt) -> StoreResult<u64> {
        match self {
            Exec::Pool(pool) => Ok(stmt.into_sqlx().execute(pool).await?.rows_affected()),
            Exec::Conn(conn) => Ok(stmt.into_sqlx().execute(conn).await?.rows_affected()),
            Exec::Lite(conn) => {
                let mut prepared = conn.prepare_cached(&lite_sql(&stmt.sql))?;
                bind_lite(&mut prepared, &stmt)?;
                Ok(prepared.raw_execute()? as u64)
            }
        }
    }
}

impl Exec<'_> {
    /// Runs a script of several statements without parameters (a migration).
    pub(crate) async fn batch(self, script: &str) -> StoreResult<()> {
        let script = script.to_string();
        match self {
            Exec::Pool(pool) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(pool).await?;
            }
            Exec::Conn(conn) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(conn).await?;
            }
            Exec::Lite(conn) => conn.execute_batch(&script)?,
        }
        Ok(())
    }

    /// Every row of `stmt` as values of whatever type each column holds (the copy between
    /// databases, which is generic over the columns).
    pub(crate) async fn values(self, stmt: Stmt) -> StoreResult<Vec<Vec<Value>>> {
        match self {
            Exec::Pool(pool) => stmt.into_sqlx().fetch_all(pool).await?.iter().map(pg_values).collect(),
            Exec::Conn(conn) => stmt.into_sqlx().fetch_all(conn).await?.iter().map(pg_values).collect(),
            Exec::Lite(conn) => {
                let mut prepared = conn.prepare_cached(&lite_sql(&stmt.sql))?;
                bind_lite(&mut prepared, &stmt)?;
                let columns = prepared.column_count();
                let mut rows = prepared.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(columns);
                    for i in 0..columns {
                        values.push(match row.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(v) => Value::Int(v),
                            ValueRef::Real(v) => Value::Float(v),
                            ValueRef::Text(v) => Value::Text(
                                String::from_utf8(v.to_vec()).map_err(|e| StoreError::Decode(format!("column {i}: {e}")))?,
                            ),
                            ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                        });
                    }
                    out.push(values);
                }
                Ok(out)
            }
        }
    }
}

/// A value of any column, as [`Exec::values`] reads it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

fn pg_values(row: &PgRow) -> StoreResult<Vec<Value>> {
    use sqlx::Row as _;
    let mut values = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let value = row.try_get_raw(i)?;
        if value.is_null() {
            values.push(Value::Null);
            continue;
        }
        let type_name = value.type_info().name().to_string();
        values.push(match type_name.as_str() {
            "INT2" => Value::Int(i64::from(row.try_get::<i16, _>(i)?)),
            "INT4" => Value::Int(i64::from(row.try_get::<i32, _>(i)?)),
            "INT8" => Value::Int(row.try_get::<i64, _>(i)?),
            "BOOL" => Value::Int(i64::from(row.try_get::<bool, _>(i)?)),
            "FLOAT4" => Value::Float(f64::from(row.try_get::<f32, _>(i)?)),
            "FLOAT8" => Value::Float(row.try_get::<f64, _>(i)?),
            "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => Value::Text(row.try_get::<String, _>(i)?),
            "BYTEA" => Value::Blob(row.try_get::<Vec<u8>, _>(i)?),
            other => return Err(StoreError::Decode(format!("column {i} has type {other}, which the store does not read"))),
        });
    }
    Ok(values)
}

/// Statements each SQLite connection keeps prepared (every statement of the store fits).
const STATEMENT_CACHE: usize = 256;

fn lite_rows<T>(conn: &rusqlite::Connection, stmt: &Stmt, limit: usize, decode: &mut impl FnMut(&dyn Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    let mut prepared = conn.prepare_cached(&lite_sql(&stmt.sql))?;
    bind_lite(&mut prepared, stmt)?;
    let names: Vec<String> = prepared.column_names().into_iter().map(String::from).collect();
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(row) = rows.next()? else { break };
        out.push(decode(&LiteRow { row, names: &names, next: std::cell::Cell::new(0) })?);
    }
    Ok(out)
}

/// The statement as SQLite runs it: each `$N` written as `?N`, which SQLite numbers N itself
/// (a `$N` is a named parameter to SQLite, numbered by first appearance, and finding its number
/// again means a linear search per parameter: quadratic in a statement of many rows).
/// Quoted text is left alone.
fn lite_sql(sql: &str) -> Cow<'_, str> {
    let bytes = sql.as_bytes();
    let numbered = |i: usize| bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
    if !(0..bytes.len()).any(numbered) {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    // The text between the `$`s is copied as it is (both marks are ASCII: a byte of either is
    // never inside another character).
    let mut copied = 0;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\'' => quoted = !quoted,
            b'$' if !quoted && numbered(i) => {
                out.push_str(&sql[copied..i]);
                out.push('?');
                copied = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

/// Binds the N-th argument to `?N` (see [`lite_sql`]); a parameter may appear twice, and every
/// argument must have its parameter.
fn bind_lite(prepared: &mut rusqlite::Statement<'_>, stmt: &Stmt) -> StoreResult<()> {
    let count = prepared.parameter_count();
    if count != stmt.args.len() {
        return Err(StoreError::Decode(format!("{} arguments for {count} parameters in {:?}", stmt.args.len(), stmt.sql)));
    }
    for (i, arg) in stmt.args.iter().enumerate() {
        let index = i + 1;
        match arg {
            Arg::Int(v) => prepared.raw_bind_parameter(index, v)?,
            Arg::Float(v) => prepared.raw_bind_parameter(index, v)?,
            Arg::Text(v) => prepared.raw_bind_parameter(index, v)?,
            Arg::Blob(v) => prepared.raw_bind_parameter(index, v)?,
        }
    }
    Ok(())
}

/// The SQLite readers of a [`Store`](crate::Store), taken one per use (the writer connection
/// belongs to the store's writer thread, see `writer.rs`).
pub(crate) struct Lite {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    readers: Arc<Semaphore>,
}

impl std::fmt::Debug for Lite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lite({})", self.path.display())
    }
}

impl Lite {
    /// The readers of the SQLite file at `path` (created if missing), with at most `readers`
    /// reads at once, the writer's connection and its checkpointer.
    pub(crate) fn open(path: &Path, readers: usize) -> StoreResult<(Lite, rusqlite::Connection, Checkpointer)> {
        let writer = connect_creating(path)?;
        let checkpointer = Checkpointer::start(path)?;
        Ok((Lite { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), readers: Arc::new(Semaphore::new(readers)) }, writer, checkpointer))
    }

    /// A reader, waiting while `readers` are in use.
    pub(crate) async fn reader(self: &Arc<Lite>) -> StoreResult<LiteReader> {
        let permit = Arc::clone(&self.readers).acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        Ok(LiteReader { conn: Some(conn), lite: Arc::clone(self), _permit: permit })
    }
}

/// How long a statement waits for a lock another connection holds (`busy_timeout`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The writer's connection: creates the file on first use and puts it in WAL mode (kept in the
/// file), in which readers never wait for the writer and a committed write survives `kill -9`
/// of the process with `synchronous = NORMAL`.
fn connect_creating(path: &Path) -> StoreResult<rusqlite::Connection> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_CREATE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0))?;
    // The writer never copies the WAL back into the file itself: its [`Checkpointer`] does, on
    // a thread of its own.
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
    settings(conn)
}

/// The WAL's checkpoints, off the writer's path. SQLite's own checkpoint runs inside the COMMIT
/// that takes the WAL over its limit, so that one write (and every write queued behind it) waits
/// for thousands of pages to be copied and the file to be flushed. Here a thread with a
/// connection of its own copies what was committed, at most every [`CHECKPOINT_EVERY`] after a
/// commit, while the writer goes on appending to the WAL (a PASSIVE checkpoint waits for no
/// one); the writer then starts the WAL again from its beginning once everything is copied.
/// The thread ends with the store's writer.
pub(crate) struct Checkpointer {
    wake: std::sync::mpsc::SyncSender<()>,
}

/// How often, at most, the checkpointer copies the WAL into the file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

impl Checkpointer {
    fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = connect(path)?;
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("bangfu-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // A failed checkpoint leaves the WAL as it is; the next one copies it.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    std::thread::sleep(CHECKPOINT_EVERY);
                }
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            })
            .map_err(|e| StoreError::WriterNotStarted(format!("no checkpoint thread: {e}")))?;
        Ok(Checkpointer { wake })
    }

    /// Tells the checkpointer that a write committed (it wakes once for many).
    pub(crate) fn committed(&self) {
        let _ = self.wake.try_send(());
    }
}

/// A reader's connection, to the file the writer created.
fn connect(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    settings(conn)
}

fn settings(conn: rusqlite::Connection) -> StoreResult<rusqlite::Connection> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Foreign keys are off by default in SQLite; each connection keeps up to 16 MiB of pages,
    // and temporary b-trees (sorts) stay in memory. No mmap: the file grows with every write,
    // and each reader would unmap and map it again after each commit.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}

/// A reader connection, back to the idle list when dropped.
pub(crate) struct LiteReader {
    conn: Option<rusqlite::Connection>,
    lite: Arc<Lite>,
    _permit: OwnedSemaphorePermit,
}

impl LiteReader {
    pub(crate) fn conn(&mut self) -> &mut rusqlite::Connection {
        self.conn.as_mut().expect("a reader holds its connection until dropped")
    }
}

impl Drop for LiteReader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.lite.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
    }
}

/// Maps a uniqueness or foreign-key failure to a conflict the caller can explain.
pub(crate) fn conflict(error: StoreError, what: &str) -> StoreError {
    match &error {
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => StoreError::Conflict(format!("{what} already exists")),
        StoreError::Database(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            StoreError::Conflict(format!("{what} refers to something that does not exist"))
        }
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => match e.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::Conflict(format!("{what} already exists"))
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::Conflict(format!("{what} refers to something that does not exist")),
            _ => error,
        },
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::lite_sql;

    #[test]
    fn numbered_parameters_become_question_marks_outside_quotes_only() {
        assert_eq!(lite_sql("SELECT 1"), "SELECT 1");
        assert_eq!(lite_sql("SELECT * FROM t WHERE a = $1 AND b = $12"), "SELECT * FROM t WHERE a = ?1 AND b = ?12");
        assert_eq!(lite_sql("SELECT '$1', $2 || '曲沃$3' FROM t WHERE c = $1"), "SELECT '$1', ?2 || '曲沃$3' FROM t WHERE c = ?1");
        assert_eq!(lite_sql("SELECT $ AS x, $a, '万荣' || $3"), "SELECT $ AS x, $a, '万荣' || ?3");
        assert_eq!(lite_sql("VALUES ($1, $2), ($3, $4)"), "VALUES (?1, ?2), (?3, ?4)");
    }
}
