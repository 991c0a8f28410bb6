//! The figures behind the charts, the daily briefing and the returns list (issue 14): daily
//! returns summed per day, product and county; a page of the returns themselves; needs opened and
//! resolved per day and tier; the hours each resolved need took; open needs by kind and tier.
//! Each is one GROUP BY (or one plain read) over the cases a reader may see ([`VisibleCases`], as the lists take it), so a province's month is summed by
//! the database, not in memory.
//!
//! A need's resolution time is its `resolved_at` (migration `0011_figures2`), set by the resolve
//! use case and cleared by reopening — not its `updated_at`, which any later write moves.
//! Days are calendar days at UTC+8; a moment's day index is `(ms + 8 h) / 24 h`.

use crate::db::{Column, Exec, Row};
use crate::lists::{Page, PageRequest, Shape, Sql, VisibleCases, count_of, in_runs, page_of, visible_case_ids};
use crate::rows::{DailyReturnRow, LetterRow, NeedRow};
use crate::{ReadConn, Store, StoreError, StoreResult};
use bangfu_core::model::{NeedKind, Tier};
use bangfu_core::region::RegionCode;

/// Milliseconds of UTC+8's offset and of a day.
const OFFSET_MS: i64 = bangfu_core::china_time::OFFSET_MS;
const DAY_MS: i64 = 86_400_000;

/// The sums of one day, product and part over the returns filed: `P` is the part, a region (the
/// case's region, a county) or a case's id.
#[derive(Clone, Debug, PartialEq)]
pub struct ReturnSumRow<P> {
    pub day: String,
    pub product: String,
    pub part: P,
    pub capacity: f64,
    pub output: f64,
    pub stock: f64,
    pub shipped: f64,
    /// How many returns (enterprise × product) were summed.
    pub returns: i64,
}

impl<P> ReturnSumRow<P> {
    /// The same sums with their part made a `Q`.
    pub fn map_part<Q>(self, f: impl FnOnce(P) -> Q) -> ReturnSumRow<Q> {
        let ReturnSumRow { day, product, part, capacity, output, stock, shipped, returns } = self;
        ReturnSumRow { day, product, part: f(part), capacity, output, stock, shipped, returns }
    }
}

/// Returns to list: the visible cases' returns, narrowed by every filter given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReturnQuery {
    pub visible: VisibleCases,
    /// Days from and to, YYYY-MM-DD, inclusive.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub product: Option<String>,
    /// Cases whose region lies in one of these runs.
    pub regions: Vec<(String, String)>,
    pub case_id: Option<i64>,
}

/// A return with the enterprise that filed it and its case's region.
#[derive(Clone, Debug, PartialEq)]
pub struct ReturnListRow {
    pub ret: DailyReturnRow,
    pub enterprise: String,
    pub region: RegionCode,
}

/// How many needs of a tier were opened (or resolved) on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedDayCountRow {
    pub tier: Tier,
    /// Days since 1970-01-01 at UTC+8.
    pub day_index: i64,
    pub count: i64,
}

/// One resolved need: its owner tier, kind and how long it took, in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveTimeRow {
    pub tier: Tier,
    pub kind: NeedKind,
    pub millis: i64,
}

/// How many unclosed needs of a kind a tier owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenNeedCountRow {
    pub kind: NeedKind,
    pub tier: Tier,
    pub count: i64,
}

crate::lists::lists! {
    /// The returns of the visible cases from `first_day` to `last_day` (YYYY-MM-DD, inclusive)
    /// summed per day, product and case region, in that order.
    fn return_sums(visible: &VisibleCases, first_day: &str, last_day: &str) -> Vec<ReturnSumRow<RegionCode>> = return_sums;
    /// The same sums per day, product and case (the part is the case's id).
    fn return_sums_by_case(visible: &VisibleCases, first_day: &str, last_day: &str) -> Vec<ReturnSumRow<i64>> = return_sums_by_case;
    /// The unclosed needs of the visible cases that hold back a milestone of a plan, by id.
    fn open_blockers(visible: &VisibleCases) -> Vec<NeedRow> = open_blockers;
    /// Every unclosed need of the visible cases, by id.
    fn unclosed_needs(visible: &VisibleCases) -> Vec<NeedRow> = unclosed_needs;
    /// The unclosed needs of the visible cases that were escalated or flagged for supervision, by id.
    fn open_escalated(visible: &VisibleCases) -> Vec<NeedRow> = open_escalated;
    /// The letters about the visible cases' needs that were sent and not yet answered, by id.
    fn letters_awaiting_answer(visible: &VisibleCases) -> Vec<LetterRow> = letters_awaiting_answer;
    /// A page of the returns of `q`, by id.
    fn returns_page(q: &ReturnQuery, page: PageRequest) -> Page<ReturnListRow> = returns_page;
    fn count_returns(q: &ReturnQuery) -> i64 = count_returns;
    /// Needs of the visible cases opened between two moments (ms), counted per owner tier and day.
    fn needs_opened_per_day(visible: &VisibleCases, from_ms: i64, to_ms: i64) -> Vec<NeedDayCountRow> = needs_opened_per_day;
    /// Needs of the visible cases resolved between two moments (ms), per owner tier and day.
    fn needs_resolved_per_day(visible: &VisibleCases, from_ms: i64, to_ms: i64) -> Vec<NeedDayCountRow> = needs_resolved_per_day;
    /// Every resolved need of the visible cases with the time it took, by tier, kind and id.
    fn resolve_times(visible: &VisibleCases) -> Vec<ResolveTimeRow> = resolve_times;
    /// The unclosed needs of the visible cases by kind and owner tier.
    fn open_need_counts(visible: &VisibleCases) -> Vec<OpenNeedCountRow> = open_need_counts;
}

/// `c.id` among the visible cases, added to `sql`.
fn only_visible(sql: &mut Sql, visible: &VisibleCases, shape: Shape, column: &str) {
    if let Some(condition) = visible_case_ids(sql, visible, shape).contains(column) {
        sql.and(condition);
    }
}

async fn return_sums(e: Exec<'_>, visible: &VisibleCases, first_day: &str, last_day: &str) -> StoreResult<Vec<ReturnSumRow<RegionCode>>> {
    sums(e, visible, first_day, last_day, "c.region").await
}

async fn return_sums_by_case(e: Exec<'_>, visible: &VisibleCases, first_day: &str, last_day: &str) -> StoreResult<Vec<ReturnSumRow<i64>>> {
    sums(e, visible, first_day, last_day, "c.id").await
}

/// Returns summed per day, product and `part` (a fixed expression of the case, a `P`); a part
/// that does not decode is named by the first of its cases.
async fn sums<P: Column>(e: Exec<'_>, visible: &VisibleCases, first_day: &str, last_day: &str, part: &str) -> StoreResult<Vec<ReturnSumRow<P>>> {
    let mut sql = Sql::new(&format!(
        "SELECT r.day AS day, r.product AS product, {part} AS part, MIN(c.id) AS case_id, SUM(r.capacity_per_day) AS capacity, SUM(r.output) AS output, \
         SUM(r.stock) AS stock, SUM(r.shipped) AS shipped, COUNT(*) AS returns FROM daily_returns r JOIN cases c ON c.id = r.case_id",
    ));
    let (first, last) = (sql.arg(first_day), sql.arg(last_day));
    sql.and(format!("r.day BETWEEN {first} AND {last}"));
    only_visible(&mut sql, visible, Shape::of(&e, false), "c.id");
    let stmt = sql.finish(&format!("GROUP BY r.day, r.product, {part} ORDER BY r.day, r.product, {part}"));
    e.rows(stmt, |r| {
        Ok(ReturnSumRow {
            day: r.try_get("day")?,
            product: r.try_get("product")?,
            part: r.try_get("part").map_err(|e| e.at_row("cases", r, "case_id"))?,
            capacity: r.try_get("capacity")?,
            output: r.try_get("output")?,
            stock: r.try_get("stock")?,
            shipped: r.try_get("shipped")?,
            returns: r.try_get("returns")?,
        })
    })
    .await
}

fn return_conditions(sql: &mut Sql, q: &ReturnQuery, shape: Shape) {
    only_visible(sql, &q.visible, shape, "r.case_id");
    if let Some(first) = &q.first_day {
        let first = sql.arg(first);
        sql.and(format!("r.day >= {first}"));
    }
    if let Some(last) = &q.last_day {
        let last = sql.arg(last);
        sql.and(format!("r.day <= {last}"));
    }
    if let Some(product) = &q.product {
        let product = sql.arg(product);
        sql.and(format!("r.product = {product}"));
    }
    if !q.regions.is_empty() {
        let regions = in_runs(sql, "c.region", &q.regions);
        sql.and(regions);
    }
    if let Some(case_id) = q.case_id {
        let case_id = sql.arg(case_id);
        sql.and(format!("r.case_id = {case_id}"));
    }
}

async fn returns_page(e: Exec<'_>, q: &ReturnQuery, page: PageRequest) -> StoreResult<Page<ReturnListRow>> {
    let mut sql = Sql::new("SELECT r.*, en.name AS enterprise_name, c.region AS case_region FROM daily_returns r JOIN cases c ON c.id = r.case_id JOIN enterprises en ON en.id = c.enterprise_id");
    return_conditions(&mut sql, q, Shape::of(&e, false));
    page_of(
        e,
        sql,
        "r.id",
        page,
        |r| {
            let region = r.try_get("case_region").map_err(|e| e.at_row("cases", r, "case_id"))?;
            Ok(ReturnListRow { ret: DailyReturnRow::from_row(r)?, enterprise: r.try_get("enterprise_name")?, region })
        },
        |row| row.ret.id,
    )
    .await
}

async fn count_returns(e: Exec<'_>, q: &ReturnQuery) -> StoreResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM daily_returns r JOIN cases c ON c.id = r.case_id");
    return_conditions(&mut sql, q, Shape::of(&e, false));
    count_of(e, sql).await
}

fn day_count_row(r: &dyn Row) -> StoreResult<NeedDayCountRow> {
    Ok(NeedDayCountRow { tier: r.try_get("tier").map_err(|e| e.at_row("needs", r, "id"))?, day_index: r.try_get("day_index")?, count: r.try_get("total")? })
}

/// Needs counted per tier and the day of `column`, between two moments of it.
async fn needs_per_day(e: Exec<'_>, visible: &VisibleCases, column: &str, resolved: bool, from_ms: i64, to_ms: i64) -> StoreResult<Vec<NeedDayCountRow>> {
    // The day index is computed from two constants, written into the statement.
    let day_of = format!("(n.{column} + {OFFSET_MS}) / {DAY_MS}");
    let mut sql = Sql::new(&format!("SELECT n.owner_tier AS tier, {day_of} AS day_index, COUNT(*) AS total, MIN(n.id) AS id FROM needs n"));
    let (from, to) = (sql.arg(from_ms), sql.arg(to_ms));
    sql.and(format!("n.{column} >= {from} AND n.{column} < {to}"));
    if resolved {
        sql.and("n.status = 'resolved'".into());
    }
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    let stmt = sql.finish(&format!("GROUP BY n.owner_tier, {day_of} ORDER BY n.owner_tier, day_index"));
    e.rows(stmt, day_count_row).await
}

async fn needs_opened_per_day(e: Exec<'_>, visible: &VisibleCases, from_ms: i64, to_ms: i64) -> StoreResult<Vec<NeedDayCountRow>> {
    needs_per_day(e, visible, "created_at", false, from_ms, to_ms).await
}

async fn needs_resolved_per_day(e: Exec<'_>, visible: &VisibleCases, from_ms: i64, to_ms: i64) -> StoreResult<Vec<NeedDayCountRow>> {
    needs_per_day(e, visible, "resolved_at", true, from_ms, to_ms).await
}

async fn resolve_times(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<ResolveTimeRow>> {
    let mut sql = Sql::new("SELECT n.id AS id, n.owner_tier AS tier, n.kind AS kind, n.resolved_at - n.created_at AS took FROM needs n");
    sql.and("n.status = 'resolved'".into());
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    let stmt = sql.finish("ORDER BY n.owner_tier, n.kind, n.id");
    e.rows(stmt, |r| {
        let at = |e: StoreError| e.at_row("needs", r, "id");
        Ok(ResolveTimeRow { tier: r.try_get("tier").map_err(at)?, kind: r.try_get("kind").map_err(at)?, millis: r.try_get("took")? })
    })
    .await
}

async fn open_need_counts(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<OpenNeedCountRow>> {
    let mut sql = Sql::new("SELECT n.kind AS kind, n.owner_tier AS tier, COUNT(*) AS total, MIN(n.id) AS id FROM needs n");
    sql.and("n.status NOT IN ('resolved', 'cancelled')".into());
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    let stmt = sql.finish("GROUP BY n.kind, n.owner_tier ORDER BY n.kind, n.owner_tier");
    e.rows(stmt, |r| {
        let at = |e: StoreError| e.at_row("needs", r, "id");
        Ok(OpenNeedCountRow { kind: r.try_get("kind").map_err(at)?, tier: r.try_get("tier").map_err(at)?, count: r.try_get("total")? })
    })
    .await
}

/// Unclosed needs, as a condition on alias `n`.
const UNCLOSED: &str = "n.status NOT IN ('resolved', 'cancelled')";

async fn open_blockers(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<NeedRow>> {
    let mut sql = Sql::new("SELECT n.* FROM needs n");
    sql.and(UNCLOSED.into());
    sql.and("EXISTS (SELECT 1 FROM milestone_blockers mb WHERE mb.need_id = n.id)".into());
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    e.rows(sql.finish("ORDER BY n.id"), NeedRow::from_row).await
}

async fn unclosed_needs(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<NeedRow>> {
    let mut sql = Sql::new("SELECT n.* FROM needs n");
    sql.and(UNCLOSED.into());
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    e.rows(sql.finish("ORDER BY n.id"), NeedRow::from_row).await
}

async fn open_escalated(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<NeedRow>> {
    let mut sql = Sql::new("SELECT n.* FROM needs n");
    sql.and(UNCLOSED.into());
    sql.and("(n.supervised <> 0 OR EXISTS (SELECT 1 FROM events x WHERE x.action IN ('need.escalated', 'need.supervised') AND x.entity = 'need:' || n.id))".into());
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    e.rows(sql.finish("ORDER BY n.id"), NeedRow::from_row).await
}

async fn letters_awaiting_answer(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<LetterRow>> {
    let mut sql = Sql::new("SELECT l.* FROM letters l JOIN needs n ON n.id = l.need_id");
    sql.and("l.status = 'sent'".into());
    only_visible(&mut sql, visible, Shape::of(&e, false), "n.case_id");
    e.rows(sql.finish("ORDER BY l.id"), LetterRow::from_row).await
}
