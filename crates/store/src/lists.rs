//! Lists that page and filter in the database (issue 12): cases, enterprises, needs, providers,
//! a case's events, notifications and letters, each read one page at a time in id order, narrowed
//! by typed filters and by what the reader may see, with its total counted apart.
//!
//! - **Paging is by keyset**: a page is the first `limit` rows with `id > after`, and the next
//!   page starts after the last id of this one ([`Page::next`]). Rows inserted between two pages
//!   get higher ids (writes are serialised database-wide, so ids are handed out in commit order)
//!   and come in a later page; rows deleted do not shift the others. So a walk through the pages
//!   returns every row that was there when it started exactly once, and the rows added meanwhile
//!   after them. (An offset would repeat a row when one is deleted before it and skip one when
//!   one is inserted before it.)
//! - **Who may see what is data** ([`VisibleCases`], [`VisibleNeeds`], [`VisibleProviders`]),
//!   decided by `bangfu_app::access` and turned into WHERE clauses here, so that a list never
//!   loads what the reader may not see only to drop it.
//! - The SQL is put together from fixed fragments of this file; every value, filters included,
//!   is a bound parameter.
//!
//! The indexes these queries rely on are in `migrations/*/0003_lists.sql` and `0005_attention.sql`.

use crate::db::{Arg, Exec, Row, Stmt, query_owned};
use crate::rows::*;
use crate::{ReadConn, Store, StoreError, StoreResult};
use bangfu_core::model::{CaseStatus, NeedKind, NeedStatus, Tier};
use bangfu_core::region::RegionCode;

/// The largest page a list reads at once.
pub const MAX_PAGE: usize = 500;

/// Which page: the rows after `after` (an id; `None` from the start), at most `limit` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub limit: usize,
}

impl PageRequest {
    /// The first `limit` rows.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { after: None, limit }
    }
}

/// One page of a list, in id order. `next` is the `after` of the following page, `None` when this
/// is the last one.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// Which cases a reader may see, as data: a case is visible when any field admits it.
/// `bangfu_app::access::visible_cases` builds it from an actor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VisibleCases {
    /// Every case.
    pub all: bool,
    /// Cases whose region code lies in one of these runs (first, last), inclusive.
    pub regions: Vec<(String, String)>,
    /// Cases this department is stationed at (a member of their team).
    pub stationed_department: Option<String>,
    /// The cases of this enterprise.
    pub enterprise_id: Option<i64>,
}

/// Which needs a reader may see: those of the cases it sees, and besides them those any other
/// field admits. `bangfu_app::access::visible_needs` builds it from an actor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VisibleNeeds {
    pub cases: VisibleCases,
    /// Needs whose owner (a department's region code) lies in one of these runs.
    pub owners: Vec<(String, String)>,
    /// Needs broadcast to this department, or about which a letter addressed to it was sent
    /// (a letter that is no longer a draft, whose recipients name the department).
    pub department: Option<String>,
    /// Needs of which this provider is a candidate.
    pub provider_id: Option<i64>,
}

/// Which providers of the registry a reader may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisibleProviders {
    All,
    Only(i64),
    Nothing,
}

/// Which enterprises a reader may see: any field admits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VisibleEnterprises {
    pub all: bool,
    /// Enterprises whose region lies in one of these runs of codes.
    pub regions: Vec<(String, String)>,
    pub enterprise_id: Option<i64>,
}

/// Cases to list: the visible ones, narrowed by every filter given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseQuery {
    pub visible: VisibleCases,
    /// Cases whose region lies in one of these runs (a region's jurisdiction).
    pub regions: Option<Vec<(String, String)>>,
    pub status: Option<String>,
}

/// Needs to list: the visible ones, narrowed by every filter given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NeedQuery {
    pub visible: VisibleNeeds,
    /// Needs of cases whose region lies in one of these runs.
    pub regions: Option<Vec<(String, String)>>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub case_id: Option<i64>,
    /// Needs in one of these statuses (none given: any).
    pub statuses: Vec<String>,
    /// Needs owned at this tier.
    pub tier: Option<String>,
    /// Needs overdue at `overdue.now`: not closed, and past their deadline or open past their
    /// owner's response window (the first two reasons of [`AttentionAt`]).
    pub overdue: Option<AttentionAt>,
    /// Needs ever escalated (上报) or flagged for supervision (督办).
    pub escalated: bool,
    /// Needs with a letter sent and not yet answered (跨省待复函).
    pub awaiting_reply: bool,
    /// Needs whose title or specification contains this text, ignoring case.
    pub text: Option<String>,
    /// Needs assigned to a stationed officer, to none, or to this one.
    pub assigned: Option<Assigned>,
    /// Only these needs (none given: any), at most [`MAX_PAGE`] (a selection on a page).
    pub ids: Vec<i64>,
}

/// Whom a need is assigned to, as a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assigned {
    /// To no one yet.
    Nobody,
    /// To someone.
    Anybody,
    /// To this team member.
    Member(i64),
}

/// The order of a needs queue; ties are broken by id, in the same direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NeedOrder {
    /// By id, the order of every list.
    #[default]
    Id,
    /// By the end of the owner's response window, soonest — most overdue — first: an open need's
    /// `reached_owner_at` plus its tier's window (milliseconds per tier, `(tier, window)`); every
    /// need that is not open comes after the open ones (its key is [`NO_WINDOW`]).
    Due { windows: Vec<(String, i64)> },
    /// Newest reported first.
    Created,
    /// Most recently changed first.
    Updated,
}

/// The sort key of a need with no response window running (not open), under [`NeedOrder::Due`].
pub const NO_WINDOW: i64 = i64::MAX;

/// Where the next page of a sorted queue starts: after the need `id`, whose sort key was `key`
/// (the key is carried, not looked up again, so a need that changed since — escalated, closed —
/// does not move the boundary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueCursor {
    pub key: i64,
    pub id: i64,
}

/// One line of the needs queue: the need, its enterprise, whether it was ever escalated, the
/// title of the team member it is assigned to, and its sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueRow {
    pub need: NeedRow,
    pub enterprise: String,
    pub escalated: bool,
    pub assignee: Option<i64>,
    pub assignee_title: Option<String>,
    pub key: i64,
}

/// A page of the queue, and where the next starts (none: this is the last).
#[derive(Clone, Debug, PartialEq)]
pub struct QueuePage {
    pub items: Vec<QueueRow>,
    pub next: Option<QueueCursor>,
}

/// How many unclosed needs of the visible cases lie in one region (a county, by the case's
/// region), and how many of them are open, overdue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionNeedCount {
    pub region: RegionCode,
    pub unclosed: i64,
    pub overdue: i64,
}

/// How many cases of the visible ones lie in one region (by the case's region) in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionCaseCount {
    pub region: RegionCode,
    pub status: CaseStatus,
    pub count: i64,
}

/// Providers to list, narrowed by every filter given.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderQuery {
    pub visible: VisibleProviders,
    /// Providers with a capability of this kind (and only those capabilities are listed).
    pub kind: Option<String>,
    /// Providers whose region lies in one of these runs.
    pub regions: Option<Vec<(String, String)>>,
    /// Providers whose name, key or note contains this text, ignoring case.
    pub text: Option<String>,
    /// Providers among these (what a search of the text found), any number.
    pub ids: Option<Vec<i64>>,
}

/// Letters to list: those of the visible needs, narrowed by every filter given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LetterQuery {
    pub visible: VisibleNeeds,
    pub status: Option<String>,
    pub need_id: Option<i64>,
}

/// Enterprises to list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnterpriseQuery {
    pub visible: VisibleEnterprises,
}

/// One line of a case list: the case, its enterprise and how many needs it has (open: not
/// resolved or cancelled).
#[derive(Clone, Debug, PartialEq)]
pub struct CaseListRow {
    pub case: CaseRow,
    pub enterprise: EnterpriseRow,
    pub needs: i64,
    pub open_needs: i64,
}

/// A need on the attention list of a dashboard, with its enterprise's name and whether it was
/// ever escalated or flagged (an event `need.escalated` / `need.supervised` names it).
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionRow {
    pub need: NeedRow,
    pub enterprise: String,
    pub escalated: bool,
}

/// What puts a need on the attention list at `now`: not closed (in one of `unclosed`), and past
/// its deadline, or `open` while its owner's response window has run out (`reached_owner_at`
/// before the threshold of its tier), or supervised, or ever escalated.
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionAt {
    pub now: i64,
    /// The statuses of a need that is not closed.
    pub unclosed: Vec<String>,
    /// (tier, threshold): an open need owned at `tier` that reached its owner before
    /// `threshold` has waited longer than the tier's window.
    pub windows: Vec<(String, i64)>,
}

/// How many needs one tier owns in one status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedCountRow {
    pub tier: Tier,
    pub status: NeedStatus,
    pub count: i64,
}

/// A provider for the map of a case: the one selected for a need, or a feasible candidate of an
/// open need.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseProviderRow {
    pub case_id: i64,
    pub need_kind: NeedKind,
    pub selected: bool,
    pub provider: ProviderRow,
}

/// How a visibility rule is written, for the planner of the backend and the kind of read.
///
/// - `Walk` (SQLite, a page): an OR of membership tests that no index can answer (`n.id + 0`,
///   `n.owner || ''`), so that SQLite reads the primary key from the cursor, checks each row
///   against a few small sets built once, and stops after one page. A province, which sees most
///   needs, finds a page in the first rows; an indexable OR would have collected and sorted
///   every visible need first (50 ms for 50,000).
/// - `Or` (SQLite, a count): the same OR, indexable: SQLite answers it from one index per term
///   and merges them (a county's few hundred needs from a few hundred index entries).
/// - `Union` (PostgreSQL): one `IN` over a UNION of index lookups. PostgreSQL cannot merge
///   indexes for an OR of subqueries and would read the whole table; it plans the union by its
///   statistics, narrow or wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Walk,
    Or,
    Union,
}

impl Shape {
    /// DIALECT: the shape for a page or a count on the backend of `e`.
    pub(crate) fn of(e: &Exec<'_>, page: bool) -> Shape {
        match (e, page) {
            (Exec::Lite(_), true) => Shape::Walk,
            (Exec::Lite(_), false) => Shape::Or,
            (Exec::Pool(_) | Exec::Conn(_), _) => Shape::Union,
        }
    }
}

/// A statement being put together: fixed fragments, and every value a parameter.
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
    conditions: Vec<String>,
}

impl Sql {
    pub(crate) fn new(head: &str) -> Sql {
        Sql { text: head.to_string(), args: Vec::new(), conditions: Vec::new() }
    }

    /// Binds `value` and returns its placeholder (`$N`).
    pub(crate) fn arg(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// A condition of the WHERE clause (all are ANDed).
    pub(crate) fn and(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// The statement: the head, the WHERE clause and `tail`.
    pub(crate) fn finish(mut self, tail: &str) -> Stmt {
        if !self.conditions.is_empty() {
            self.text.push_str(" WHERE ");
            self.text.push_str(&self.conditions.join(" AND "));
        }
        self.text.push(' ');
        self.text.push_str(tail);
        let mut stmt = query_owned(self.text);
        for arg in self.args {
            stmt = stmt.bind(arg);
        }
        stmt
    }
}

/// A condition no row meets.
const NOTHING: &str = "1 = 0";

/// `any` joined by OR, or a condition no row meets when there is none.
fn any_of(any: Vec<String>) -> String {
    if any.is_empty() { NOTHING.into() } else { format!("({})", any.join(" OR ")) }
}

/// `column` in one of `runs`, as a condition.
pub(crate) fn in_runs(sql: &mut Sql, column: &str, runs: &[(String, String)]) -> String {
    let each = runs.iter().map(|(first, last)| format!("{column} BETWEEN {} AND {}", sql.arg(first), sql.arg(last))).collect();
    any_of(each)
}

/// A set of ids a column must be in.
pub(crate) enum Ids {
    All,
    Nothing,
    /// A SELECT of one column of ids.
    Select(String),
}

impl Ids {
    /// `column` in the set, as a condition; `None` when every id is.
    pub(crate) fn contains(&self, column: &str) -> Option<String> {
        match self {
            Ids::All => None,
            Ids::Nothing => Some(NOTHING.into()),
            Ids::Select(select) => Some(format!("{column} IN ({select})")),
        }
    }
}

/// The ids of the visible cases.
pub(crate) fn visible_case_ids(sql: &mut Sql, visible: &VisibleCases, shape: Shape) -> Ids {
    if visible.all {
        return Ids::All;
    }
    let mut any = Vec::new();
    match shape {
        Shape::Walk | Shape::Or => {
            if !visible.regions.is_empty() {
                any.push(in_runs(sql, "vc.region", &visible.regions));
            }
            if let Some(department) = &visible.stationed_department {
                any.push(format!("vc.id IN (SELECT t.case_id FROM team_members t WHERE t.department = {})", sql.arg(department)));
            }
            if let Some(enterprise) = visible.enterprise_id {
                any.push(format!("vc.enterprise_id = {}", sql.arg(enterprise)));
            }
            if any.is_empty() { Ids::Nothing } else { Ids::Select(format!("SELECT vc.id FROM cases vc WHERE {}", any_of(any))) }
        }
        Shape::Union => {
            if !visible.regions.is_empty() {
                any.push(format!("SELECT vc.id FROM cases vc WHERE {}", in_runs(sql, "vc.region", &visible.regions)));
            }
            if let Some(department) = &visible.stationed_department {
                any.push(format!("SELECT t.case_id FROM team_members t WHERE t.department = {}", sql.arg(department)));
            }
            if let Some(enterprise) = visible.enterprise_id {
                any.push(format!("SELECT ve.id FROM cases ve WHERE ve.enterprise_id = {}", sql.arg(enterprise)));
            }
            if any.is_empty() { Ids::Nothing } else { Ids::Select(any.join(" UNION ")) }
        }
    }
}

/// A need about which a sent letter is addressed to a department, as a LIKE pattern over the
/// letter's recipients (a JSON array of `{"region": "…", …}` written by `bangfu_app::letters`).
fn addressed_pattern(department: &str) -> String {
    contains_pattern(&format!("\"region\":\"{department}\""))
}

/// The needs alias `n` must be one of, as a condition; `None` when every need is visible.
fn need_visibility(sql: &mut Sql, visible: &VisibleNeeds, n: &str, shape: Shape) -> Option<String> {
    let cases = visible_case_ids(sql, &visible.cases, shape);
    if let Ids::All = cases {
        return None;
    }
    let department = visible.department.as_ref().map(|d| (sql.arg(d), sql.arg(addressed_pattern(d))));
    let provider = visible.provider_id.map(|p| sql.arg(p));
    let letters = |addressed: &str| {
        format!("SELECT lt.need_id FROM letters lt WHERE lt.status <> 'draft' AND lt.recipients LIKE {addressed} ESCAPE '\\'")
    };
    let mut any = Vec::new();
    if shape == Shape::Union {
        if let Ids::Select(cases) = &cases {
            any.push(format!("SELECT vn.id FROM needs vn WHERE vn.case_id IN ({cases})"));
        }
        if !visible.owners.is_empty() {
            any.push(format!("SELECT vo.id FROM needs vo WHERE {}", in_runs(sql, "vo.owner", &visible.owners)));
        }
        if let Some((department, addressed)) = &department {
            any.push(format!("SELECT b.need_id FROM broadcasts b WHERE b.department = {department}"));
            any.push(letters(addressed));
        }
        if let Some(provider) = &provider {
            any.push(format!("SELECT k.need_id FROM candidates k WHERE k.provider_id = {provider}"));
        }
        return Some(if any.is_empty() { NOTHING.into() } else { format!("{n}.id IN ({})", any.join(" UNION ")) });
    }
    let (int, text) = if shape == Shape::Walk { (" + 0", " || ''") } else { ("", "") };
    if let Ids::Select(cases) = &cases {
        any.push(format!("{n}.case_id{int} IN ({cases})"));
    }
    if !visible.owners.is_empty() {
        any.push(in_runs(sql, &format!("{n}.owner{text}"), &visible.owners));
    }
    if let Some((department, addressed)) = &department {
        any.push(format!("{n}.id{int} IN (SELECT b.need_id FROM broadcasts b WHERE b.department = {department})"));
        any.push(format!("{n}.id{int} IN ({})", letters(addressed)));
    }
    if let Some(provider) = &provider {
        any.push(format!("{n}.id{int} IN (SELECT k.need_id FROM candidates k WHERE k.provider_id = {provider})"));
    }
    Some(any_of(any))
}

fn case_conditions(sql: &mut Sql, q: &CaseQuery, shape: Shape) {
    if let Some(condition) = visible_case_ids(sql, &q.visible, shape).contains("c.id") {
        sql.and(condition);
    }
    if let Some(runs) = &q.regions {
        let condition = in_runs(sql, "c.region", runs);
        sql.and(condition);
    }
    if let Some(status) = &q.status {
        let status = sql.arg(status);
        sql.and(format!("c.status = {status}"));
    }
}

fn need_conditions(sql: &mut Sql, q: &NeedQuery, shape: Shape) {
    // A reader sees every need an owner in its runs owns: asked for one such owner's needs, the
    // visibility adds nothing (and on PostgreSQL its UNION of every visible need cost 150 ms).
    let owner_seen = q.owner.as_ref().is_some_and(|o| q.visible.owners.iter().any(|(first, last)| first <= o && o <= last));
    if !owner_seen && let Some(condition) = need_visibility(sql, &q.visible, "n", shape) {
        sql.and(condition);
    }
    if let Some(runs) = &q.regions {
        let runs = in_runs(sql, "rc.region", runs);
        sql.and(format!("n.case_id IN (SELECT rc.id FROM cases rc WHERE {runs})"));
    }
    for (column, value) in [("kind", &q.kind), ("status", &q.status), ("owner", &q.owner)] {
        if let Some(value) = value {
            let value = sql.arg(value);
            sql.and(format!("n.{column} = {value}"));
        }
    }
    if let Some(case_id) = q.case_id {
        let case_id = sql.arg(case_id);
        sql.and(format!("n.case_id = {case_id}"));
    }
    if !q.statuses.is_empty() {
        let statuses = one_of(sql, "n.status", &q.statuses);
        sql.and(statuses);
    }
    if let Some(tier) = &q.tier {
        let tier = sql.arg(tier);
        sql.and(format!("n.owner_tier = {tier}"));
    }
    if let Some(at) = &q.overdue {
        let unclosed = one_of(sql, "n.status", &at.unclosed);
        sql.and(unclosed);
        let why = overdue_reasons(sql, at);
        sql.and(format!("({})", why.join(" OR ")));
    }
    if q.escalated {
        sql.and(format!("(n.supervised <> 0 OR EXISTS ({ESCALATED}))"));
    }
    if q.awaiting_reply {
        sql.and("n.id IN (SELECT lw.need_id FROM letters lw WHERE lw.status = 'sent')".into());
    }
    if let Some(text) = &q.text {
        // DIALECT: see like_ignoring_case (PostgreSQL runs the Union shape).
        let like = if shape == Shape::Union { "ILIKE" } else { "LIKE" };
        let pattern = sql.arg(contains_pattern(text));
        sql.and(format!("(n.title {like} {pattern} ESCAPE '\\' OR n.specification {like} {pattern} ESCAPE '\\')"));
    }
    if !q.ids.is_empty() {
        let ids = in_ids(sql, "n.id", &q.ids[..q.ids.len().min(MAX_PAGE)]);
        sql.and(ids);
    }
    match &q.assigned {
        None => {}
        Some(Assigned::Nobody) => sql.and("n.assignee IS NULL".into()),
        Some(Assigned::Anybody) => sql.and("n.assignee IS NOT NULL".into()),
        Some(Assigned::Member(member)) => {
            let member = sql.arg(*member);
            sql.and(format!("n.assignee = {member}"));
        }
    }
}

/// Why a need is overdue at `at.now`, as conditions of which one must hold: past its deadline,
/// or open while its owner's response window has run out.
fn overdue_reasons(sql: &mut Sql, at: &AttentionAt) -> Vec<String> {
    let now = sql.arg(at.now);
    let mut why = vec![format!("n.deadline < {now}")];
    let windows: Vec<String> =
        at.windows.iter().map(|(tier, threshold)| format!("(n.owner_tier = {} AND n.reached_owner_at < {})", sql.arg(tier), sql.arg(*threshold))).collect();
    if !windows.is_empty() {
        why.push(format!("(n.status = 'open' AND ({}))", windows.join(" OR ")));
    }
    why
}

/// `text` as a LIKE pattern matching it anywhere, with `%`, `_` and `\` escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The case-insensitive LIKE of the backend `e` runs on. DIALECT: SQLite's LIKE ignores the
/// case of ASCII letters (as its LOWER would); PostgreSQL's is exact, its ILIKE ignores case.
/// (Lower-casing every row instead cost three times as long.) Chinese has no case.
fn like_ignoring_case(e: &Exec<'_>) -> &'static str {
    match e {
        Exec::Lite(_) => "LIKE",
        Exec::Pool(_) | Exec::Conn(_) => "ILIKE",
    }
}

fn provider_conditions(sql: &mut Sql, q: &ProviderQuery, dialect: ListDialect) {
    let like = dialect.like;
    match q.visible {
        VisibleProviders::All => {}
        VisibleProviders::Only(id) => {
            let id = sql.arg(id);
            sql.and(format!("p.id = {id}"));
        }
        VisibleProviders::Nothing => sql.and(NOTHING.into()),
    }
    if let Some(kind) = &q.kind {
        let kind = sql.arg(kind);
        sql.and(format!("p.id IN (SELECT k.provider_id FROM capabilities k WHERE k.kind = {kind})"));
    }
    if let Some(runs) = &q.regions {
        let condition = in_runs(sql, "p.region", runs);
        sql.and(condition);
    }
    if let Some(text) = &q.text {
        let pattern = sql.arg(contains_pattern(text));
        sql.and(format!("(p.name {like} {pattern} ESCAPE '\\' OR p.key {like} {pattern} ESCAPE '\\' OR p.note {like} {pattern} ESCAPE '\\')"));
    }
    if let Some(ids) = &q.ids {
        // One parameter, a JSON array, however many ids (a list of placeholders has a limit).
        let list = sql.arg(json_ids(ids));
        sql.and(format!("p.id IN ({})", dialect.ids_of_json.replace("{}", &list)));
    }
}

/// DIALECT: what a list's statement says differently on each backend.
#[derive(Clone, Copy)]
struct ListDialect {
    /// The LIKE that ignores the case of ASCII letters.
    like: &'static str,
    /// A select of the integers of a JSON array given as the parameter `{}`.
    ids_of_json: &'static str,
}

/// DIALECT: a select of the integers of the JSON array given as the parameter `param`.
pub(crate) fn ids_of_json(e: &Exec<'_>, param: &str) -> String {
    ListDialect::of(e).ids_of_json.replace("{}", param)
}

impl ListDialect {
    fn of(e: &Exec<'_>) -> ListDialect {
        let ids_of_json = match e {
            Exec::Lite(_) => "SELECT value FROM json_each({})",
            Exec::Pool(_) | Exec::Conn(_) => "SELECT CAST(jsonb_array_elements_text(CAST({} AS jsonb)) AS BIGINT)",
        };
        ListDialect { like: like_ignoring_case(e), ids_of_json }
    }
}

/// `ids` as a JSON array, the one parameter [`ids_of_json`] expands.
pub(crate) fn json_ids(ids: &[i64]) -> String {
    format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

fn letter_conditions(sql: &mut Sql, q: &LetterQuery, shape: Shape) {
    // The needs' own shape: a count's (Walk would read every need to build the set).
    let inner = if shape == Shape::Union { Shape::Union } else { Shape::Or };
    if let Some(condition) = need_visibility(sql, &q.visible, "n", inner) {
        sql.and(format!("l.need_id IN (SELECT n.id FROM needs n WHERE {condition})"));
    }
    if let Some(status) = &q.status {
        let status = sql.arg(status);
        sql.and(format!("l.status = {status}"));
    }
    if let Some(need_id) = q.need_id {
        let need_id = sql.arg(need_id);
        sql.and(format!("l.need_id = {need_id}"));
    }
}

fn enterprise_conditions(sql: &mut Sql, q: &EnterpriseQuery) {
    let visible = &q.visible;
    if visible.all {
        return;
    }
    let mut any = Vec::new();
    if !visible.regions.is_empty() {
        any.push(in_runs(sql, "e.region", &visible.regions));
    }
    if let Some(id) = visible.enterprise_id {
        any.push(format!("e.id = {}", sql.arg(id)));
    }
    sql.and(any_of(any));
}

/// The statement of the page of `sql` after `page.after` by `id_column`, and the page's size:
/// it reads one row more than the page, to know whether another follows.
pub(crate) fn page_stmt(mut sql: Sql, id_column: &str, page: PageRequest) -> (Stmt, usize) {
    let limit = page.limit.clamp(1, MAX_PAGE);
    let after = sql.arg(page.after.unwrap_or(0));
    sql.and(format!("{id_column} > {after}"));
    let take = sql.arg((limit + 1) as i64);
    (sql.finish(&format!("ORDER BY {id_column} LIMIT {take}")), limit)
}

/// The page of `sql` after `page.after` by `id_column`.
pub(crate) async fn page_of<T>(
    e: Exec<'_>,
    sql: Sql,
    id_column: &str,
    page: PageRequest,
    decode: impl FnMut(&dyn Row) -> StoreResult<T>,
    id_of: impl Fn(&T) -> i64,
) -> StoreResult<Page<T>> {
    let (stmt, limit) = page_stmt(sql, id_column, page);
    fetch_page(e, stmt, limit, decode, id_of).await
}

/// The rows of `stmt` (at most `limit` + 1, in id order) as a page of `limit`.
pub(crate) async fn fetch_page<T>(e: Exec<'_>, stmt: Stmt, limit: usize, decode: impl FnMut(&dyn Row) -> StoreResult<T>, id_of: impl Fn(&T) -> i64) -> StoreResult<Page<T>> {
    let mut items = e.rows(stmt, decode).await?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&id_of)
    } else {
        None
    };
    Ok(Page { items, next })
}

pub(crate) async fn count_of(e: Exec<'_>, sql: Sql) -> StoreResult<i64> {
    Ok(e.optional(sql.finish(""), |r| r.try_get::<i64>("total")).await?.unwrap_or(0))
}

/// `column IN (ids…)`, the list padded (with its last id) to a few fixed lengths so that a
/// connection's prepared statements are reused.
fn in_ids(sql: &mut Sql, column: &str, ids: &[i64]) -> String {
    let Some(&last) = ids.last() else { return NOTHING.into() };
    let padded = [8, 64, MAX_PAGE + 1].into_iter().find(|n| *n >= ids.len()).unwrap_or(ids.len());
    let placeholders: Vec<String> = ids.iter().copied().chain(std::iter::repeat(last)).take(padded).map(|id| sql.arg(id)).collect();
    format!("{column} IN ({})", placeholders.join(", "))
}

/// Declares each list on [`Store`] and [`ReadConn`], from one function over an [`Exec`] (also
/// the figures of `figures.rs`).
macro_rules! lists {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident : $ty:ty),*) -> $ret:ty = $body:ident; )*) => {
        impl Store {
            $( $(#[$doc])* pub async fn $name(&self, $($arg: $ty),*) -> StoreResult<$ret> {
                $body(self.reader().await?.exec(), $($arg),*).await
            } )*
        }
        impl ReadConn {
            $( $(#[$doc])* pub async fn $name(&mut self, $($arg: $ty),*) -> StoreResult<$ret> {
                $body(self.exec(), $($arg),*).await
            } )*
        }
    };
}

pub(crate) use lists;

lists! {
    /// A page of the cases of `q`, each with its enterprise and need counts.
    fn cases_page(q: &CaseQuery, page: PageRequest) -> Page<CaseListRow> = cases_page;
    fn count_cases(q: &CaseQuery) -> i64 = count_cases;
    /// A page of the needs of `q`.
    fn needs_page(q: &NeedQuery, page: PageRequest) -> Page<NeedRow> = needs_page;
    fn count_needs(q: &NeedQuery) -> i64 = count_needs;
    /// A page of the needs queue `q` in `order`, after `after` (none: from the start).
    fn needs_queue_page(q: &NeedQuery, order: &NeedOrder, after: Option<QueueCursor>, limit: usize) -> QueuePage = needs_queue_page;
    /// How many unclosed needs of the visible cases each region holds (by the case's region),
    /// and how many of them are overdue at `overdue.now`.
    fn need_counts_by_region(visible: &VisibleCases, overdue: &AttentionAt) -> Vec<RegionNeedCount> = need_counts_by_region;
    /// How many visible cases each region holds in each status (by the case's region).
    fn case_counts_by_region(visible: &VisibleCases) -> Vec<RegionCaseCount> = case_counts_by_region;
    /// A page of the visible active cases whose last event is older than `before`, by id, and
    /// each one's last event time.
    fn quiet_cases_page(visible: &VisibleCases, before: i64, page: PageRequest) -> Page<(CaseListRow, i64)> = quiet_cases_page;
    fn count_quiet_cases(visible: &VisibleCases, before: i64) -> i64 = count_quiet_cases;
    /// A page of the events of a case whose action starts with `kind.` (none: every event),
    /// newest first: those before `page.after` (a sequence number; none: from the newest).
    fn case_events_of_kind_page(case_id: i64, kind: Option<&str>, page: PageRequest) -> Page<EventRow> = case_events_of_kind_page;
    fn count_case_events_of_kind(case_id: i64, kind: Option<&str>) -> i64 = count_case_events_of_kind;
    /// A page of the events about one need (entity `need:ID`) or one of its letters, by sequence number.
    fn need_events_page(case_id: i64, need_id: i64, page: PageRequest) -> Page<EventRow> = need_events_page;
    fn count_need_events(case_id: i64, need_id: i64) -> i64 = count_need_events;
    /// A page of the providers of `q`, each with its capabilities (of `q.kind` only, if given).
    fn providers_page(q: &ProviderQuery, page: PageRequest) -> Page<(ProviderRow, Vec<CapabilityRow>)> = providers_page;
    fn count_providers(q: &ProviderQuery) -> i64 = count_providers;
    /// A page of the events of a case, by sequence number.
    fn case_events_page(case_id: i64, page: PageRequest) -> Page<EventRow> = case_events_page;
    fn count_case_events(case_id: i64) -> i64 = count_case_events;
    /// A page of the notifications of a department, oldest first.
    fn notifications_page(department: &str, page: PageRequest) -> Page<NotificationRow> = notifications_page;
    fn count_notifications(department: &str) -> i64 = count_notifications;
    /// A page of the notifications of a department, newest first: those before `page.after`
    /// (an id; none: from the newest).
    fn notifications_newest_page(department: &str, page: PageRequest) -> Page<NotificationRow> = notifications_newest_page;
    /// The newest `limit` notifications of a department, newest first.
    fn latest_notifications(department: &str, limit: usize) -> Vec<NotificationRow> = latest_notifications;
    /// A page of the letters of `q`.
    fn letters_page(q: &LetterQuery, page: PageRequest) -> Page<LetterRow> = letters_page;
    fn count_letters(q: &LetterQuery) -> i64 = count_letters;
    /// A page of the enterprises of `q`.
    fn enterprises_page(q: &EnterpriseQuery, page: PageRequest) -> Page<EnterpriseRow> = enterprises_page;
    fn count_enterprises(q: &EnterpriseQuery) -> i64 = count_enterprises;
    /// How many needs of the visible cases in each of `statuses` each tier owns (by tier, then status).
    fn need_counts(visible: &VisibleCases, statuses: &[&str]) -> Vec<NeedCountRow> = need_counts;
    /// A page of the needs of the visible cases that need attention at `at.now` (see [`AttentionAt`]).
    fn attention_page(visible: &VisibleCases, at: &AttentionAt, page: PageRequest) -> Page<AttentionRow> = attention_page;
    fn count_attention(visible: &VisibleCases, at: &AttentionAt) -> i64 = count_attention;
    /// The `limit` events of the visible cases recorded last, newest first.
    fn recent_events(visible: &VisibleCases, limit: usize) -> Vec<EventRow> = recent_events;
    /// For the map of these cases: the selected provider of each need and the feasible
    /// candidates of each open need, by case, need and rank.
    fn providers_of_cases(case_ids: &[i64]) -> Vec<CaseProviderRow> = providers_of_cases;
    /// The first daily return of a case with output above zero (by day).
    fn first_output_return(case_id: i64) -> Option<DailyReturnRow> = first_output_return;
}

// ---- the statements, each built by a function of its own (the tests explain them) ----

const CASE_LIST_HEAD: &str = "SELECT c.*, \
     e.id AS e_id, e.name AS e_name, e.credit_code AS e_credit_code, e.region AS e_region, e.lon AS e_lon, e.lat AS e_lat, \
     e.note AS e_note, e.created_at AS e_created_at, \
     (SELECT COUNT(*) FROM needs cn WHERE cn.case_id = c.id) AS needs_total, \
     (SELECT COUNT(*) FROM needs cn WHERE cn.case_id = c.id AND cn.status NOT IN ('resolved', 'cancelled')) AS needs_open \
     FROM cases c JOIN enterprises e ON e.id = c.enterprise_id";

fn case_list_row(row: &dyn Row) -> StoreResult<CaseListRow> {
    Ok(CaseListRow {
        case: CaseRow::from_row(row)?,
        enterprise: crate::joins::aliased_enterprise(row)?,
        needs: row.try_get("needs_total")?,
        open_needs: row.try_get("needs_open")?,
    })
}

fn cases_sql(q: &CaseQuery, shape: Shape) -> Sql {
    let mut sql = Sql::new(CASE_LIST_HEAD);
    case_conditions(&mut sql, q, shape);
    sql
}

async fn cases_page(e: Exec<'_>, q: &CaseQuery, page: PageRequest) -> StoreResult<Page<CaseListRow>> {
    let sql = cases_sql(q, Shape::of(&e, true));
    page_of(e, sql, "c.id", page, case_list_row, |r| r.case.id).await
}

fn count_cases_sql(q: &CaseQuery, shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM cases c");
    case_conditions(&mut sql, q, shape);
    sql
}

async fn count_cases(e: Exec<'_>, q: &CaseQuery) -> StoreResult<i64> {
    let sql = count_cases_sql(q, Shape::of(&e, false));
    count_of(e, sql).await
}

fn needs_sql(q: &NeedQuery, shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT n.* FROM needs n");
    need_conditions(&mut sql, q, shape);
    sql
}

async fn needs_page(e: Exec<'_>, q: &NeedQuery, page: PageRequest) -> StoreResult<Page<NeedRow>> {
    let sql = needs_sql(q, Shape::of(&e, true));
    page_of(e, sql, "n.id", page, NeedRow::from_row, |n| n.id).await
}

fn count_needs_sql(q: &NeedQuery, shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM needs n");
    need_conditions(&mut sql, q, shape);
    sql
}

async fn count_needs(e: Exec<'_>, q: &NeedQuery) -> StoreResult<i64> {
    let sql = count_needs_sql(q, Shape::of(&e, false));
    count_of(e, sql).await
}

fn providers_sql(q: &ProviderQuery, dialect: ListDialect) -> Sql {
    let mut sql = Sql::new("SELECT p.* FROM providers p");
    provider_conditions(&mut sql, q, dialect);
    sql
}

async fn providers_page(mut e: Exec<'_>, q: &ProviderQuery, page: PageRequest) -> StoreResult<Page<(ProviderRow, Vec<CapabilityRow>)>> {
    let sql = providers_sql(q, ListDialect::of(&e));
    let providers = page_of(e.reborrow(), sql, "p.id", page, ProviderRow::from_row, |p| p.id).await?;
    let ids: Vec<i64> = providers.items.iter().map(|p| p.id).collect();
    if ids.is_empty() {
        return Ok(providers.map(|p| (p, Vec::new())));
    }
    let mut sql = Sql::new("SELECT * FROM capabilities");
    let condition = in_ids(&mut sql, "provider_id", &ids);
    sql.and(condition);
    if let Some(kind) = &q.kind {
        let kind = sql.arg(kind);
        sql.and(format!("kind = {kind}"));
    }
    let capabilities = e.rows(sql.finish("ORDER BY provider_id, id"), CapabilityRow::from_row).await?;
    let mut capabilities = capabilities.into_iter().peekable();
    Ok(providers.map(|provider| {
        let mut own = Vec::new();
        while let Some(c) = capabilities.next_if(|c| c.provider_id <= provider.id) {
            if c.provider_id == provider.id {
                own.push(c);
            }
        }
        (provider, own)
    }))
}

fn count_providers_sql(q: &ProviderQuery, dialect: ListDialect) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM providers p");
    provider_conditions(&mut sql, q, dialect);
    sql
}

async fn count_providers(e: Exec<'_>, q: &ProviderQuery) -> StoreResult<i64> {
    // Of one kind and nothing else: counted from the index capabilities_kind_provider alone
    // (the general form probes every provider id against the kind's set: 10 ms at 10,000).
    if let (VisibleProviders::All, Some(kind), None, None, None) = (q.visible, &q.kind, &q.regions, &q.text, &q.ids) {
        let mut sql = Sql::new("SELECT COUNT(DISTINCT k.provider_id) AS total FROM capabilities k");
        let kind = sql.arg(kind);
        sql.and(format!("k.kind = {kind}"));
        return count_of(e, sql).await;
    }
    let sql = count_providers_sql(q, ListDialect::of(&e));
    count_of(e, sql).await
}

/// `head` narrowed to the rows whose `column` is `value`.
fn where_equal(head: &str, column: &str, value: impl Into<Arg>) -> Sql {
    let mut sql = Sql::new(head);
    let value = sql.arg(value);
    sql.and(format!("{column} = {value}"));
    sql
}

async fn case_events_page(e: Exec<'_>, case_id: i64, page: PageRequest) -> StoreResult<Page<EventRow>> {
    page_of(e, where_equal("SELECT * FROM events", "case_id", case_id), "seq", page, EventRow::from_row, |e| e.seq).await
}

async fn count_case_events(e: Exec<'_>, case_id: i64) -> StoreResult<i64> {
    count_of(e, where_equal("SELECT COUNT(*) AS total FROM events", "case_id", case_id)).await
}

async fn notifications_page(e: Exec<'_>, department: &str, page: PageRequest) -> StoreResult<Page<NotificationRow>> {
    page_of(e, where_equal("SELECT * FROM notifications", "department", department), "id", page, NotificationRow::from_row, |n| n.id).await
}

async fn count_notifications(e: Exec<'_>, department: &str) -> StoreResult<i64> {
    count_of(e, where_equal("SELECT COUNT(*) AS total FROM notifications", "department", department)).await
}

async fn notifications_newest_page(e: Exec<'_>, department: &str, page: PageRequest) -> StoreResult<Page<NotificationRow>> {
    let limit = page.limit.clamp(1, MAX_PAGE);
    let mut sql = where_equal("SELECT * FROM notifications", "department", department);
    if let Some(before) = page.after {
        let before = sql.arg(before);
        sql.and(format!("id < {before}"));
    }
    let take = sql.arg((limit + 1) as i64);
    fetch_page(e, sql.finish(&format!("ORDER BY id DESC LIMIT {take}")), limit, NotificationRow::from_row, |n| n.id).await
}

async fn latest_notifications(e: Exec<'_>, department: &str, limit: usize) -> StoreResult<Vec<NotificationRow>> {
    let mut sql = where_equal("SELECT * FROM notifications", "department", department);
    let limit = sql.arg(limit.clamp(1, MAX_PAGE) as i64);
    e.rows(sql.finish(&format!("ORDER BY id DESC LIMIT {limit}")), NotificationRow::from_row).await
}

fn letters_sql(q: &LetterQuery, shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT l.* FROM letters l");
    letter_conditions(&mut sql, q, shape);
    sql
}

async fn letters_page(e: Exec<'_>, q: &LetterQuery, page: PageRequest) -> StoreResult<Page<LetterRow>> {
    let sql = letters_sql(q, Shape::of(&e, true));
    page_of(e, sql, "l.id", page, LetterRow::from_row, |l| l.id).await
}

fn count_letters_sql(q: &LetterQuery, shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM letters l");
    letter_conditions(&mut sql, q, shape);
    sql
}

async fn count_letters(e: Exec<'_>, q: &LetterQuery) -> StoreResult<i64> {
    let sql = count_letters_sql(q, Shape::of(&e, false));
    count_of(e, sql).await
}

fn enterprises_sql(q: &EnterpriseQuery) -> Sql {
    let mut sql = Sql::new("SELECT e.* FROM enterprises e");
    enterprise_conditions(&mut sql, q);
    sql
}

async fn enterprises_page(e: Exec<'_>, q: &EnterpriseQuery, page: PageRequest) -> StoreResult<Page<EnterpriseRow>> {
    page_of(e, enterprises_sql(q), "e.id", page, EnterpriseRow::from_row, |e| e.id).await
}

fn count_enterprises_sql(q: &EnterpriseQuery) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM enterprises e");
    enterprise_conditions(&mut sql, q);
    sql
}

async fn count_enterprises(e: Exec<'_>, q: &EnterpriseQuery) -> StoreResult<i64> {
    count_of(e, count_enterprises_sql(q)).await
}

fn need_counts_sql(visible: &VisibleCases, statuses: &[&str], shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT n.owner_tier AS tier, n.status AS status, COUNT(*) AS total FROM needs n");
    let statuses = one_of(&mut sql, "n.status", statuses);
    sql.and(statuses);
    // Counted from the index needs_waiting (status, tier, …, case_id) alone.
    if let Some(cases) = visible_case_ids(&mut sql, visible, shape).contains(case_of_need(shape)) {
        sql.and(cases);
    }
    sql
}

async fn need_counts(mut e: Exec<'_>, visible: &VisibleCases, statuses: &[&str]) -> StoreResult<Vec<NeedCountRow>> {
    let stmt = need_counts_sql(visible, statuses, Shape::of(&e, false)).finish("GROUP BY n.owner_tier, n.status ORDER BY n.owner_tier, n.status");
    let counted = e.reborrow().rows(stmt, |r| Ok(NeedCountRow { tier: r.try_get("tier")?, status: r.try_get("status")?, count: r.try_get("total")? })).await;
    match counted {
        // The count reads the index alone; the first need holding the bad value is looked up
        // only to name it.
        Err(StoreError::BadValue { column, value, why, .. }) => {
            let stored = if column == "tier" { "owner_tier" } else { "status" };
            let first = query_owned(format!("SELECT MIN(id) AS id FROM needs WHERE {stored} = $1")).bind(value.as_str());
            let id = e.optional(first, |r| r.try_get::<Option<i64>>("id")).await?.flatten();
            Err(StoreError::BadValue { table: "needs", id: id.map_or_else(|| "?".to_string(), |id| id.to_string()), column: stored.to_string(), value, why })
        }
        other => other,
    }
}

// ---- the needs queue (issue 13) ----

/// The sort key of `order` as an expression over the need `n`, and whether it runs newest first.
fn order_key(sql: &mut Sql, order: &NeedOrder) -> (String, bool) {
    match order {
        NeedOrder::Id => ("n.id".into(), false),
        NeedOrder::Created => ("n.created_at".into(), true),
        NeedOrder::Updated => ("n.updated_at".into(), true),
        NeedOrder::Due { windows } => {
            let cases: Vec<String> = windows.iter().map(|(tier, window)| format!("WHEN {} THEN {}", sql.arg(tier), sql.arg(*window))).collect();
            let none = sql.arg(NO_WINDOW);
            let window = if cases.is_empty() { "NULL".to_string() } else { format!("CASE n.owner_tier {} END", cases.join(" ")) };
            (format!("COALESCE(CASE WHEN n.status = 'open' THEN n.reached_owner_at + {window} END, {none})"), false)
        }
    }
}

/// A page of the queue: the ids and keys of the page first (filtered and sorted, from the
/// indexes where the order has one), then only those rows joined with their enterprises, their
/// assignee and a look-up for an escalation.
fn queue_page_stmt(q: &NeedQuery, order: &NeedOrder, after: Option<QueueCursor>, limit: usize, shape: Shape) -> (Stmt, usize) {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut sql = Sql::new("");
    let (key, newest_first) = order_key(&mut sql, order);
    sql.text = format!("WITH page AS (SELECT n.id, {key} AS sort_key FROM needs n");
    need_conditions(&mut sql, q, shape);
    let (cmp, dir) = if newest_first { ("<", "DESC") } else { (">", "ASC") };
    if let Some(after) = after {
        let id = sql.arg(after.id);
        if *order == NeedOrder::Id {
            sql.and(format!("n.id {cmp} {id}"));
        } else {
            let at = sql.arg(after.key);
            sql.and(format!("({key} {cmp} {at} OR ({key} = {at} AND n.id {cmp} {id}))"));
        }
    }
    let take = sql.arg((limit + 1) as i64);
    let order_by = if *order == NeedOrder::Id { format!("n.id {dir}") } else { format!("{key} {dir}, n.id {dir}") };
    let tail = format!(
        "ORDER BY {order_by} LIMIT {take}) \
         SELECT n.*, p.sort_key AS queue_key, e.name AS enterprise_name, tm.title AS assignee_title, \
         CAST(CASE WHEN n.supervised <> 0 OR EXISTS ({ESCALATED}) THEN 1 ELSE 0 END AS BIGINT) AS escalated \
         FROM page p JOIN needs n ON n.id = p.id JOIN cases c ON c.id = n.case_id JOIN enterprises e ON e.id = c.enterprise_id \
         LEFT JOIN team_members tm ON tm.id = n.assignee ORDER BY p.sort_key {dir}, n.id {dir}"
    );
    (sql.finish(&tail), limit)
}

fn queue_row(r: &dyn Row) -> StoreResult<QueueRow> {
    Ok(QueueRow {
        need: NeedRow::from_row(r)?,
        enterprise: r.try_get("enterprise_name")?,
        escalated: r.try_get::<i64>("escalated")? != 0,
        assignee: r.try_get("assignee")?,
        assignee_title: r.try_get("assignee_title")?,
        key: r.try_get("queue_key")?,
    })
}

async fn needs_queue_page(e: Exec<'_>, q: &NeedQuery, order: &NeedOrder, after: Option<QueueCursor>, limit: usize) -> StoreResult<QueuePage> {
    let (stmt, limit) = queue_page_stmt(q, order, after, limit, Shape::of(&e, true));
    let mut items = e.rows(stmt, queue_row).await?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|r| QueueCursor { key: r.key, id: r.need.id })
    } else {
        None
    };
    Ok(QueuePage { items, next })
}

async fn need_counts_by_region(e: Exec<'_>, visible: &VisibleCases, overdue: &AttentionAt) -> StoreResult<Vec<RegionNeedCount>> {
    let shape = Shape::of(&e, false);
    let mut sql = Sql::new("");
    let why = overdue_reasons(&mut sql, overdue);
    sql.text = format!(
        "SELECT c.region AS region, COUNT(*) AS unclosed, SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS overdue, MIN(c.id) AS case_id FROM needs n JOIN cases c ON c.id = n.case_id",
        why.join(" OR ")
    );
    let unclosed = one_of(&mut sql, "n.status", &overdue.unclosed);
    sql.and(unclosed);
    if let Some(cases) = visible_case_ids(&mut sql, visible, shape).contains(case_of_need(shape)) {
        sql.and(cases);
    }
    let stmt = sql.finish("GROUP BY c.region ORDER BY c.region");
    e.rows(stmt, |r| {
        let region = r.try_get("region").map_err(|e| e.at_row("cases", r, "case_id"))?;
        Ok(RegionNeedCount { region, unclosed: r.try_get("unclosed")?, overdue: r.try_get::<Option<i64>>("overdue")?.unwrap_or(0) })
    })
    .await
}

async fn case_counts_by_region(e: Exec<'_>, visible: &VisibleCases) -> StoreResult<Vec<RegionCaseCount>> {
    let shape = Shape::of(&e, false);
    let mut sql = Sql::new("SELECT c.region AS region, c.status AS status, COUNT(*) AS total, MIN(c.id) AS case_id FROM cases c");
    if let Some(cases) = visible_case_ids(&mut sql, visible, shape).contains("c.id") {
        sql.and(cases);
    }
    let stmt = sql.finish("GROUP BY c.region, c.status ORDER BY c.region, c.status");
    e.rows(stmt, |r| {
        let at = |e: StoreError| e.at_row("cases", r, "case_id");
        Ok(RegionCaseCount { region: r.try_get("region").map_err(at)?, status: r.try_get("status").map_err(at)?, count: r.try_get("total")? })
    })
    .await
}

/// The time of a case's last event (answered from events_case, which holds (case_id, at)).
const LAST_EVENT_AT: &str = "(SELECT MAX(lx.at) FROM events lx WHERE lx.case_id = c.id)";

fn quiet_cases_sql(head: &str, visible: &VisibleCases, before: i64, shape: Shape) -> Sql {
    let mut sql = Sql::new(head);
    if let Some(cases) = visible_case_ids(&mut sql, visible, shape).contains("c.id") {
        sql.and(cases);
    }
    sql.and("c.status = 'active'".into());
    let before = sql.arg(before);
    sql.and(format!("COALESCE({LAST_EVENT_AT}, c.opened_at) < {before}"));
    sql
}

async fn quiet_cases_page(e: Exec<'_>, visible: &VisibleCases, before: i64, page: PageRequest) -> StoreResult<Page<(CaseListRow, i64)>> {
    let head = CASE_LIST_HEAD.replacen("SELECT c.*, ", &format!("SELECT c.*, COALESCE({LAST_EVENT_AT}, c.opened_at) AS last_event_at, "), 1);
    let sql = quiet_cases_sql(&head, visible, before, Shape::of(&e, true));
    page_of(e, sql, "c.id", page, |r| Ok((case_list_row(r)?, r.try_get::<i64>("last_event_at")?)), |(c, _)| c.case.id).await
}

async fn count_quiet_cases(e: Exec<'_>, visible: &VisibleCases, before: i64) -> StoreResult<i64> {
    let sql = quiet_cases_sql("SELECT COUNT(*) AS total FROM cases c", visible, before, Shape::of(&e, false));
    count_of(e, sql).await
}

fn case_events_of_kind_sql(head: &str, case_id: i64, kind: Option<&str>) -> Sql {
    let mut sql = where_equal(head, "case_id", case_id);
    if let Some(kind) = kind {
        let pattern = sql.arg(format!("{}.%", kind.replace(['%', '_', '\\'], "")));
        sql.and(format!("action LIKE {pattern}"));
    }
    sql
}

async fn case_events_of_kind_page(e: Exec<'_>, case_id: i64, kind: Option<&str>, page: PageRequest) -> StoreResult<Page<EventRow>> {
    // Newest first: the page after `after` holds the events before it.
    let limit = page.limit.clamp(1, MAX_PAGE);
    let mut sql = case_events_of_kind_sql("SELECT * FROM events", case_id, kind);
    if let Some(before) = page.after {
        let before = sql.arg(before);
        sql.and(format!("seq < {before}"));
    }
    let take = sql.arg((limit + 1) as i64);
    fetch_page(e, sql.finish(&format!("ORDER BY seq DESC LIMIT {take}")), limit, EventRow::from_row, |e| e.seq).await
}

async fn count_case_events_of_kind(e: Exec<'_>, case_id: i64, kind: Option<&str>) -> StoreResult<i64> {
    count_of(e, case_events_of_kind_sql("SELECT COUNT(*) AS total FROM events", case_id, kind)).await
}

/// The events of a case about one need or its letters (read from events_case_seq: a case has
/// a few hundred events).
fn need_events_sql(head: &str, case_id: i64, need_id: i64) -> Sql {
    let mut sql = where_equal(head, "case_id", case_id);
    let need = sql.arg(format!("need:{need_id}"));
    let need_id = sql.arg(need_id);
    let letters = "SELECT 'letter:' || CAST(ln.id AS TEXT) FROM letters ln WHERE ln.need_id = ";
    sql.and(format!("(entity = {need} OR entity IN ({letters}{need_id}))"));
    sql
}

async fn need_events_page(e: Exec<'_>, case_id: i64, need_id: i64, page: PageRequest) -> StoreResult<Page<EventRow>> {
    page_of(e, need_events_sql("SELECT * FROM events", case_id, need_id), "seq", page, EventRow::from_row, |e| e.seq).await
}

async fn count_need_events(e: Exec<'_>, case_id: i64, need_id: i64) -> StoreResult<i64> {
    count_of(e, need_events_sql("SELECT COUNT(*) AS total FROM events", case_id, need_id)).await
}

/// An event that escalated or flagged need `n` (answered by the partial index `events_escalations`).
const ESCALATED: &str = "SELECT 1 FROM events x WHERE x.action IN ('need.escalated', 'need.supervised') AND x.entity = 'need:' || n.id";

/// `column` is one of `values`, as a condition.
fn one_of(sql: &mut Sql, column: &str, values: &[impl AsRef<str>]) -> String {
    let values: Vec<String> = values.iter().map(|v| sql.arg(v.as_ref())).collect();
    if values.is_empty() { NOTHING.into() } else { format!("{column} IN ({})", values.join(", ")) }
}

/// The column of a need's case, for a visibility test that must not turn SQLite away from an
/// index holding the case (`needs_waiting`): `+ 0` on SQLite; PostgreSQL plans it by itself.
fn case_of_need(shape: Shape) -> &'static str {
    if shape == Shape::Union { "n.case_id" } else { "n.case_id + 0" }
}

fn attention_conditions(sql: &mut Sql, visible: &VisibleCases, at: &AttentionAt, shape: Shape) {
    let unclosed = one_of(sql, "n.status", &at.unclosed);
    sql.and(unclosed);
    if let Some(cases) = visible_case_ids(sql, visible, shape).contains(case_of_need(shape)) {
        sql.and(cases);
    }
    // Every reason but the last is read from the index needs_waiting (status, tier, reached,
    // deadline, supervised, case); the last looks the need up in events_escalations, only for
    // needs none of the others put on the list.
    let mut why = overdue_reasons(sql, at);
    why.push("n.supervised <> 0".into());
    why.push(format!("EXISTS ({ESCALATED})"));
    sql.and(format!("({})", why.join(" OR ")));
}

fn attention_row(r: &dyn Row) -> StoreResult<AttentionRow> {
    Ok(AttentionRow { need: NeedRow::from_row(r)?, enterprise: r.try_get("enterprise_name")?, escalated: r.try_get::<i64>("escalated")? != 0 })
}

/// A page of the attention list: the ids of the page first (from the index, sorted), then only
/// those rows joined with their enterprises and looked up for an escalation — not every need on
/// the list before the sort.
fn attention_page_stmt(visible: &VisibleCases, at: &AttentionAt, page: PageRequest, shape: Shape) -> (Stmt, usize) {
    let limit = page.limit.clamp(1, MAX_PAGE);
    let mut sql = Sql::new("WITH page AS (SELECT n.id FROM needs n");
    attention_conditions(&mut sql, visible, at, shape);
    let after = sql.arg(page.after.unwrap_or(0));
    sql.and(format!("n.id > {after}"));
    let take = sql.arg((limit + 1) as i64);
    let tail = format!(
        "ORDER BY n.id LIMIT {take}) \
         SELECT n.*, e.name AS enterprise_name, CAST(CASE WHEN EXISTS ({ESCALATED}) THEN 1 ELSE 0 END AS BIGINT) AS escalated \
         FROM page p JOIN needs n ON n.id = p.id JOIN cases c ON c.id = n.case_id JOIN enterprises e ON e.id = c.enterprise_id ORDER BY n.id"
    );
    (sql.finish(&tail), limit)
}

async fn attention_page(e: Exec<'_>, visible: &VisibleCases, at: &AttentionAt, page: PageRequest) -> StoreResult<Page<AttentionRow>> {
    let (stmt, limit) = attention_page_stmt(visible, at, page, Shape::of(&e, false));
    fetch_page(e, stmt, limit, attention_row, |a| a.need.id).await
}

fn count_attention_sql(visible: &VisibleCases, at: &AttentionAt, shape: Shape) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) AS total FROM needs n");
    attention_conditions(&mut sql, visible, at, shape);
    sql
}

async fn count_attention(e: Exec<'_>, visible: &VisibleCases, at: &AttentionAt) -> StoreResult<i64> {
    let sql = count_attention_sql(visible, at, Shape::of(&e, false));
    count_of(e, sql).await
}

/// Events looked at newest first before the recent events of a few cases are looked up by case.
const RECENT_WINDOW: i64 = 5_000;

fn recent_events_sql(visible: &VisibleCases, limit: usize, window: bool, shape: Shape) -> Stmt {
    let mut sql = Sql::new("SELECT ev.* FROM events ev");
    if window {
        let window = sql.arg(RECENT_WINDOW);
        sql.and(format!("ev.seq > (SELECT COALESCE(MAX(seq), 0) FROM events) - {window}"));
    }
    let cases = visible_case_ids(&mut sql, visible, shape).contains("ev.case_id").unwrap_or_else(|| "ev.case_id IS NOT NULL".into());
    sql.and(cases);
    let take = sql.arg(limit as i64);
    // `+ev.seq` outside the window: the newest of the cases' events by case (events_case_seq),
    // sorted, rather than a walk of the whole primary key back to the reader's quiet cases.
    sql.finish(&format!("ORDER BY {}ev.seq DESC LIMIT {take}", if window { "" } else { "+" }))
}

async fn recent_events(mut e: Exec<'_>, visible: &VisibleCases, limit: usize) -> StoreResult<Vec<EventRow>> {
    let limit = limit.clamp(1, MAX_PAGE);
    let shape = Shape::of(&e, false);
    // Newest first among the last few thousand events: enough when the reader sees much of what
    // happens (a province); otherwise its cases were quiet lately, and their events are looked up by case.
    let recent = e.reborrow().rows(recent_events_sql(visible, limit, true, shape), EventRow::from_row).await?;
    if recent.len() == limit {
        return Ok(recent);
    }
    e.rows(recent_events_sql(visible, limit, false, shape), EventRow::from_row).await
}

async fn providers_of_cases(e: Exec<'_>, case_ids: &[i64]) -> StoreResult<Vec<CaseProviderRow>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(concat!(
        "SELECT n.case_id AS map_case_id, n.id AS map_need_id, n.kind AS map_need_kind, CAST(CASE WHEN n.selected_candidate = k.id THEN 1 ELSE 0 END AS BIGINT) AS map_selected, ",
        "p.* FROM needs n JOIN candidates k ON k.need_id = n.id JOIN providers p ON p.id = k.provider_id"
    ));
    let cases = in_ids(&mut sql, "n.case_id", case_ids);
    sql.and(cases);
    sql.and("(n.selected_candidate = k.id OR (n.status = 'open' AND k.feasible <> 0))".into());
    let stmt = sql.finish("ORDER BY n.case_id, n.id, k.feasible DESC, k.lead_time_h, k.road_km, k.provider_id");
    e.rows(stmt, |r| {
        Ok(CaseProviderRow {
            case_id: r.try_get("map_case_id")?,
            need_kind: r.try_get("map_need_kind").map_err(|e| e.at_row("needs", r, "map_need_id"))?,
            selected: r.try_get::<i64>("map_selected")? != 0,
            provider: ProviderRow::from_row(r)?,
        })
    })
    .await
}

async fn first_output_return(e: Exec<'_>, case_id: i64) -> StoreResult<Option<DailyReturnRow>> {
    let mut sql = where_equal("SELECT * FROM daily_returns", "case_id", case_id);
    sql.and("output > 0".into());
    e.optional(sql.finish("ORDER BY day LIMIT 1"), DailyReturnRow::from_row).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::db::query;

    /// The plan of `stmt` as text: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN.
    async fn plan(read: &mut ReadConn, stmt: Stmt, backend: Backend) -> String {
        let (prefix, column) = match backend {
            Backend::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
            Backend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        };
        read.exec().rows(stmt.prefixed(prefix), |r| r.try_get::<String>(column)).await.unwrap().join("\n")
    }

    fn county() -> VisibleCases {
        VisibleCases { regions: vec![("141021".into(), "141021".into())], stationed_department: Some("141021".into()), ..VisibleCases::default() }
    }

    fn everything() -> VisibleNeeds {
        VisibleNeeds { cases: VisibleCases { all: true, ..VisibleCases::default() }, ..VisibleNeeds::default() }
    }

    crate::backend_tests! {
        /// Each filter is answered from its index in `0003_lists.sql` (or `0001_init.sql`), in the
        /// shape each backend runs it. On PostgreSQL, whose planner reads every table of a fresh
        /// database as tiny, sequential scans are turned off for the check.
        async fn each_list_filter_is_answered_by_its_index(db) {
            let store = Store::open(db.url()).await.unwrap();
            let backend = store.backend();
            let (page_shape, count_shape) = match backend {
                Backend::Sqlite => (Shape::Walk, Shape::Or),
                Backend::Postgres => (Shape::Union, Shape::Union),
            };
            let mut read = store.reading().await.unwrap();
            let dialect = ListDialect::of(&read.exec());
            if backend == Backend::Postgres {
                read.exec().execute(query("SET enable_seqscan = off")).await.unwrap();
            }
            let page = PageRequest::first(50);
            let need = |q: NeedQuery| page_stmt(needs_sql(&q, page_shape), "n.id", page).0;
            let text = |s: &str| Some(s.to_string());
            let county_needs = VisibleNeeds { cases: county(), owners: county().regions, department: text("141021"), provider_id: None };
            let at = AttentionAt { now: 1_000, unclosed: vec!["open".into(), "started".into()], windows: vec![("county".into(), 10), ("city".into(), 20)] };
            let checks: Vec<(&str, Stmt, &[&str])> = vec![
                ("needs of a kind", need(NeedQuery { visible: everything(), kind: text("slitting"), ..NeedQuery::default() }), &["needs_kind"]),
                ("needs in a status", need(NeedQuery { visible: everything(), status: text("open"), ..NeedQuery::default() }), &["needs_status"]),
                ("needs of an owner", need(NeedQuery { visible: everything(), owner: text("141000"), ..NeedQuery::default() }), &["needs_owner"]),
                ("needs of a case", need(NeedQuery { visible: everything(), case_id: Some(1), ..NeedQuery::default() }), &["needs_case"]),
                (
                    "how many needs a county sees",
                    count_needs_sql(&NeedQuery { visible: county_needs.clone(), ..NeedQuery::default() }, count_shape).finish(""),
                    &["needs_case", "cases_region", "team_members_department", "needs_owner", "broadcasts_department"],
                ),
                (
                    "how many needs a provider sees",
                    count_needs_sql(&NeedQuery { visible: VisibleNeeds { provider_id: Some(1), ..VisibleNeeds::default() }, ..NeedQuery::default() }, count_shape).finish(""),
                    &["candidates_provider"],
                ),
                ("cases in a status", page_stmt(cases_sql(&CaseQuery { visible: county(), status: text("active"), ..CaseQuery::default() }, page_shape), "c.id", page).0, &["cases_region"]),
                ("how many cases a county sees", count_cases_sql(&CaseQuery { visible: county(), ..CaseQuery::default() }, count_shape).finish(""), &["cases_region", "team_members_department"]),
                ("how many cases are in a status", count_cases_sql(&CaseQuery { visible: everything().cases, status: text("active"), ..CaseQuery::default() }, count_shape).finish(""), &["cases_status"]),
                (
                    "providers of a kind",
                    page_stmt(providers_sql(&ProviderQuery { visible: VisibleProviders::All, kind: text("slitting"), regions: None, text: None, ids: None }, dialect), "p.id", page).0,
                    &["capabilities_kind_provider"],
                ),
                (
                    "how many providers in a place",
                    count_providers_sql(&ProviderQuery { visible: VisibleProviders::All, kind: None, regions: Some(vec![("140000".into(), "141182".into())]), text: None, ids: None }, dialect).finish(""),
                    &["providers_region"],
                ),
                ("the events of a case", page_stmt(where_equal("SELECT * FROM events", "case_id", 1), "seq", page).0, &["events_case_seq"]),
                ("the notifications of a department", page_stmt(where_equal("SELECT * FROM notifications", "department", "140000"), "id", page).0, &["notifications_department"]),
                ("letters in a status", page_stmt(letters_sql(&LetterQuery { visible: everything(), status: text("draft"), need_id: None }, page_shape), "l.id", page).0, &["letters_status"]),
                ("the letters of a need", count_letters_sql(&LetterQuery { visible: everything(), status: None, need_id: Some(1) }, count_shape).finish(""), &["letters_need"]),
                ("the letters a county sees", count_letters_sql(&LetterQuery { visible: county_needs.clone(), status: None, need_id: None }, count_shape).finish(""), &["needs_case", "letters_need"]),
                (
                    "how many enterprises a county sees",
                    count_enterprises_sql(&EnterpriseQuery { visible: VisibleEnterprises { regions: county().regions, ..VisibleEnterprises::default() } }).finish(""),
                    &["enterprises_region"],
                ),
                (
                    "how many needs need attention",
                    count_attention_sql(&county(), &at, count_shape).finish(""),
                    &["needs_waiting", "events_escalations"],
                ),
                ("open needs by tier and status", need_counts_sql(&county(), &["open", "started"], count_shape).finish("GROUP BY n.owner_tier, n.status"), &["needs_waiting"]),
                ("recent events of a county", recent_events_sql(&county(), 15, false, count_shape), &["events_case_seq"]),
                ("the queue, newest reported first", queue_page_stmt(&NeedQuery { visible: everything(), ..NeedQuery::default() }, &NeedOrder::Created, None, 50, page_shape).0, &["needs_created"]),
                ("the queue, newest changed first", queue_page_stmt(&NeedQuery { visible: everything(), ..NeedQuery::default() }, &NeedOrder::Updated, Some(QueueCursor { key: 5, id: 9 }), 50, page_shape).0, &["needs_updated"]),
                ("a department's unclosed needs", count_needs_sql(&NeedQuery { visible: everything(), owner: text("140000"), statuses: vec!["open".into(), "started".into()], ..NeedQuery::default() }, count_shape).finish(""), &["needs_owner"]),
            ];
            let mut missing = Vec::new();
            for (what, stmt, indexes) in checks {
                let plan = plan(&mut read, stmt, backend).await;
                for index in indexes {
                    if !plan.contains(index) {
                        missing.push(format!("{what}: no {index} in\n{plan}"));
                    }
                }
            }
            assert!(missing.is_empty(), "{}", missing.join("\n\n"));
        }
    }

    #[test]
    fn a_search_text_matches_itself_only_with_its_wildcards_escaped() {
        assert_eq!(contains_pattern("AbC"), "%AbC%");
        assert_eq!(contains_pattern("50%_\\"), "%50\\%\\_\\\\%");
        assert_eq!(contains_pattern("翼城"), "%翼城%");
    }

    #[test]
    fn an_id_list_is_padded_to_a_few_lengths() {
        let mut sql = Sql::new("");
        assert_eq!(in_ids(&mut sql, "x", &[3, 5]), "x IN ($1, $2, $3, $4, $5, $6, $7, $8)");
        assert_eq!(sql.args.last(), Some(&Arg::Int(Some(5))));
        let mut sql = Sql::new("");
        assert_eq!(in_ids(&mut sql, "x", &[]), "1 = 0");
        let mut sql = Sql::new("");
        let _ = in_ids(&mut sql, "x", &(0..100).collect::<Vec<_>>());
        assert_eq!(sql.args.len(), MAX_PAGE + 1);
    }

    #[test]
    fn nothing_visible_is_a_condition_that_holds_for_no_row() {
        let mut sql = Sql::new("");
        for shape in [Shape::Walk, Shape::Or, Shape::Union] {
            assert_eq!(visible_case_ids(&mut sql, &VisibleCases::default(), shape).contains("c.id").as_deref(), Some(NOTHING));
            assert_eq!(need_visibility(&mut sql, &VisibleNeeds::default(), "n", shape).as_deref(), Some(NOTHING));
            assert_eq!(visible_case_ids(&mut sql, &VisibleCases { all: true, ..Default::default() }, shape).contains("c.id"), None);
        }
        assert!(sql.args.is_empty(), "no parameter for conditions that bind nothing");
    }
}
