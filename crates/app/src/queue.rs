//! The needs queue (issue 13): the needs an actor may see, filtered by status, kind, tier, owner,
//! place, case, overdue or escalated, letters awaiting a reply, assignment and free text, sorted
//! by the time left to the owner's response window (most overdue first), by when they were
//! reported or last changed, read a page at a time in the database after a cursor — with each
//! need's countdown to its window and its escalation state (上报 / 督办).
//!
//! A view of the queue is a [`QueueView`], plain text fields as a URL carries them, so that a
//! view can be shared, bookmarked and saved: the built-in views of each role ("我的待办",
//! "本级逾期", "跨省待复函", …; the first is the role's default) and the views each user saves
//! by name. Bulk actions run one use case per selected need, each with its own audit event:
//! escalate with one reason, broadcast to a ring, assign the case's stationed officer.

use crate::error::{bad, text};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::{NeedKind, NeedStatus, Role, Scope, Tier};
use bangfu_core::text::{NAME_CHARS, SHORT_CHARS};
use bangfu_store::lists::{Assigned, AttentionAt, MAX_PAGE, NeedOrder, NeedQuery, QueueCursor, QueueRow};
use bangfu_store::SavedViewRow;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

/// A view of the needs queue as a URL holds it: every field a query parameter, empty when not
/// given. [`QueueView::query_string`] writes it back in one canonical order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueView {
    /// A status, `active` (not resolved or cancelled), or empty for any.
    pub status: String,
    pub kind: String,
    /// The owner's tier: county, city or province.
    pub tier: String,
    /// The owning department: a region code or name.
    pub owner: String,
    /// Where the enterprise is: any region (its jurisdiction), by code or name.
    pub place: String,
    pub case: String,
    /// `1`: only needs past their deadline or their owner's response window.
    pub overdue: bool,
    /// `1`: only needs ever escalated (上报) or flagged for supervision (督办).
    pub escalated: bool,
    /// `1`: only needs with a letter sent and not yet answered (待复函).
    pub awaiting_reply: bool,
    /// `none`, `any`, or empty for either.
    pub assigned: String,
    /// Free text in the title or specification.
    pub q: String,
    /// `due` (default), `created`, `updated` or `id`.
    pub sort: String,
}

/// The order of the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueSort {
    /// Time left to the owner's response window, most overdue first; needs with no window
    /// running (not open) after them.
    #[default]
    Due,
    /// Newest reported first.
    Created,
    /// Most recently changed first.
    Updated,
    /// By id.
    Id,
}

impl QueueSort {
    pub const ALL: [QueueSort; 4] = [QueueSort::Due, QueueSort::Created, QueueSort::Updated, QueueSort::Id];

    pub fn parse(text: &str) -> AppResult<QueueSort> {
        match text.trim() {
            "" | "due" => Ok(QueueSort::Due),
            "created" => Ok(QueueSort::Created),
            "updated" => Ok(QueueSort::Updated),
            "id" => Ok(QueueSort::Id),
            other => Err(bad(format!("sort: {other:?} is not an order — use due (time left to the response window), created, updated or id"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QueueSort::Due => "due",
            QueueSort::Created => "created",
            QueueSort::Updated => "updated",
            QueueSort::Id => "id",
        }
    }

    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            QueueSort::Due => ("响应时限（最逾期在前）", "time left to respond (most overdue first)"),
            QueueSort::Created => ("提出时间（最新在前）", "reported (newest first)"),
            QueueSort::Updated => ("更新时间（最新在前）", "updated (newest first)"),
            QueueSort::Id => ("编号", "number"),
        }
    }
}

/// Where a page of the queue starts, as text in a URL: `KEY_ID` (the sort key and id of the last
/// need of the page before).
pub fn parse_cursor(text: &str) -> AppResult<Option<QueueCursor>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let wrong = || bad(format!("after: {text:?} is not a place in the queue — follow the pager's next link, or leave it out for the first page"));
    let (key, id) = text.split_once('_').ok_or_else(wrong)?;
    Ok(Some(QueueCursor { key: key.parse().map_err(|_| wrong())?, id: id.parse().map_err(|_| wrong())? }))
}

/// A cursor as text (see [`parse_cursor`]).
pub fn cursor_text(cursor: QueueCursor) -> String {
    format!("{}_{}", cursor.key, cursor.id)
}

/// `text` percent-encoded for a query string (unreserved characters kept).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl QueueView {
    /// The view's query string, canonical: the fields given in a fixed order, `sort` always.
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in [("status", &self.status), ("kind", &self.kind), ("tier", &self.tier), ("owner", &self.owner), ("place", &self.place), ("case", &self.case)] {
            if !value.trim().is_empty() {
                parts.push(format!("{name}={}", encode(value.trim())));
            }
        }
        for (name, on) in [("overdue", self.overdue), ("escalated", self.escalated), ("awaiting_reply", self.awaiting_reply)] {
            if on {
                parts.push(format!("{name}=1"));
            }
        }
        if !self.assigned.trim().is_empty() {
            parts.push(format!("assigned={}", encode(self.assigned.trim())));
        }
        if !self.q.trim().is_empty() {
            parts.push(format!("q={}", encode(self.q.trim())));
        }
        let sort = QueueSort::parse(&self.sort).unwrap_or_default();
        parts.push(format!("sort={}", sort.as_str()));
        parts.join("&")
    }
}

/// A built-in view of the queue: its key, its names and the view.
#[derive(Clone, Debug)]
pub struct NamedView {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub view: QueueView,
}

/// One line of the queue, with what the page shows of it at `now`.
#[derive(Clone, Debug)]
pub struct QueueLine {
    pub row: QueueRow,
    /// When the owner's response window ends (an open need; none otherwise).
    pub respond_by: Option<DateTime<Utc>>,
    /// Whether that time, or the need's deadline, has passed at `now` (not closed).
    pub overdue: bool,
    /// Flagged for supervision by the provincial leadership (督办).
    pub supervised: bool,
}

/// A page of the queue and where the next starts.
#[derive(Clone, Debug)]
pub struct QueuePage {
    pub items: Vec<QueueLine>,
    pub next: Option<QueueCursor>,
}

/// What a bulk action does to each selected need.
#[derive(Clone, Debug, PartialEq)]
pub enum BulkAction {
    /// Escalate (上报, or 督办 at the top) with one reason for all.
    Escalate { reason: String },
    /// Broadcast to the departments of a ring.
    Broadcast { ring: Scope },
    /// Assign each to the stationed officer (驻企干部) of its case.
    AssignStationed,
}

/// What a bulk action did to one need: done (with what, in both languages) or refused (why).
#[derive(Debug)]
pub struct BulkOutcome {
    pub need_id: i64,
    pub result: AppResult<(String, String)>,
}

/// How many needs one bulk action takes at most (a page of the queue).
pub const MAX_BULK: usize = MAX_PAGE;

impl App {
    /// The built-in views of `actor`'s queue; the first is its role's default.
    pub fn builtin_views(&self, actor: &Actor) -> Vec<NamedView> {
        let view = |f: &dyn Fn(&mut QueueView)| {
            let mut v = QueueView { status: "active".into(), sort: "due".into(), ..QueueView::default() };
            f(&mut v);
            v
        };
        let department = actor.department.map(|d| self.tree.department_region(d));
        let tier = department.map(|d| self.tier_of(d).as_str().to_string()).unwrap_or_default();
        let mine = NamedView { key: "mine", zh: "我的待办", en: "My to-do", view: view(&|v| v.owner = department.map(|d| d.to_string()).unwrap_or_default()) };
        let overdue_here = NamedView {
            key: "overdue",
            zh: "本级逾期",
            en: "Overdue at my tier",
            view: view(&|v| {
                v.tier = tier.clone();
                v.overdue = true;
            }),
        };
        let letters = NamedView {
            key: "letters",
            zh: "跨省待复函",
            en: "Letters awaiting reply",
            view: view(&|v| {
                v.awaiting_reply = true;
                v.sort = "updated".into();
            }),
        };
        let escalated = NamedView { key: "escalated", zh: "上报与督办", en: "Escalated and supervised", view: view(&|v| v.escalated = true) };
        let all_open = NamedView { key: "open", zh: "全部未办结", en: "All not closed", view: view(&|_| {}) };
        let everything = NamedView { key: "all", zh: "全部诉求", en: "Every need", view: QueueView { sort: "created".into(), ..QueueView::default() } };
        match actor.role {
            Role::Officer if department.is_some() => vec![mine, overdue_here, letters, escalated, all_open, everything],
            Role::Viewer => {
                let overdue_all = NamedView { key: "overdue", zh: "辖区逾期", en: "Overdue in my jurisdiction", view: view(&|v| v.overdue = true) };
                vec![overdue_all, escalated, letters, all_open, everything]
            }
            Role::Admin | Role::Officer => {
                let overdue_all = NamedView { key: "overdue", zh: "全部逾期", en: "All overdue", view: view(&|v| v.overdue = true) };
                vec![all_open, overdue_all, letters, escalated, everything]
            }
            Role::Enterprise => vec![NamedView { key: "ours", zh: "本企业诉求", en: "Our needs", ..everything }],
            Role::Provider => vec![NamedView { key: "ours", zh: "我参与的诉求", en: "Needs we are a candidate of", view: QueueView { sort: "updated".into(), ..QueueView::default() } }],
        }
    }

    /// The view `/needs` opens with for `actor`: its role's first built-in view.
    pub fn default_view(&self, actor: &Actor) -> QueueView {
        self.builtin_views(actor).into_iter().next().map(|v| v.view).unwrap_or_default()
    }

    /// The store's query of `view` for `actor` at `now`; bad input names the field.
    fn queue_query(&self, actor: &Actor, now: DateTime<Utc>, view: &QueueView) -> AppResult<NeedQuery> {
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let statuses = match given(&view.status).as_deref() {
            None => Vec::new(),
            Some("active") => NeedStatus::ALL.iter().filter(|s| !s.is_closed()).map(|s| s.as_str().to_string()).collect(),
            Some(s) => vec![NeedStatus::parse(s).map_err(|e| bad(format!("status: {e} (or active: not resolved or cancelled)")))?.as_str().to_string()],
        };
        let kind = given(&view.kind).map(|k| NeedKind::parse(&k).map_err(|e| bad(format!("kind: {e}")))).transpose()?;
        let tier = given(&view.tier).map(|t| Tier::parse(&t).map_err(|e| bad(format!("tier: {e}")))).transpose()?;
        let owner = given(&view.owner).map(|o| self.region(&o, "owner")).transpose()?;
        let place = given(&view.place).map(|p| self.region(&p, "place")).transpose()?;
        let case_id = given(&view.case).map(|c| c.trim_start_matches('#').parse::<i64>().map_err(|_| bad(format!("case: {c:?} is not a case number")))).transpose()?;
        let assigned = match given(&view.assigned).as_deref() {
            None => None,
            Some("none") => Some(Assigned::Nobody),
            Some("any") => Some(Assigned::Anybody),
            Some(other) => return Err(bad(format!("assigned: {other:?} — use none (not yet assigned) or any (assigned to a stationed officer)"))),
        };
        let q = given(&view.q).map(|q| text("q", &q, NAME_CHARS)).transpose()?;
        Ok(NeedQuery {
            visible: access::visible_needs(self.tree, actor),
            regions: place.map(|r| access::jurisdiction(self.tree, r)),
            kind: kind.map(|k| k.as_str().to_string()),
            status: None,
            owner: owner.map(|o| self.tree.department_region(o).to_string()),
            case_id,
            statuses,
            tier: tier.map(|t| t.as_str().to_string()),
            overdue: view.overdue.then(|| self.overdue_at(now)),
            escalated: view.escalated,
            awaiting_reply: view.awaiting_reply,
            text: q,
            assigned,
            ids: Vec::new(),
        })
    }

    /// What makes a need overdue at `now` under this deployment's response windows.
    pub(crate) fn overdue_at(&self, now: DateTime<Utc>) -> AttentionAt {
        AttentionAt {
            now: to_millis(now),
            unclosed: NeedStatus::ALL.iter().filter(|s| !s.is_closed()).map(|s| s.as_str().to_string()).collect(),
            windows: Tier::ALL.iter().map(|tier| (tier.as_str().to_string(), to_millis(now - self.windows.window(*tier)))).collect(),
        }
    }

    fn order_of(&self, sort: QueueSort) -> NeedOrder {
        match sort {
            QueueSort::Due => NeedOrder::Due { windows: Tier::ALL.iter().map(|t| (t.as_str().to_string(), self.windows.window(*t).num_milliseconds())).collect() },
            QueueSort::Created => NeedOrder::Created,
            QueueSort::Updated => NeedOrder::Updated,
            QueueSort::Id => NeedOrder::Id,
        }
    }

    /// A page of `actor`'s queue in `view` at `now`, after `after`, of `limit` needs (1 to 500).
    pub async fn needs_queue(&self, actor: &Actor, now: DateTime<Utc>, view: &QueueView, after: Option<QueueCursor>, limit: usize) -> AppResult<QueuePage> {
        let query = self.queue_query(actor, now, view)?;
        let sort = QueueSort::parse(&view.sort)?;
        self.queue_page(query, now, sort, after, limit).await
    }

    async fn queue_page(&self, query: NeedQuery, now: DateTime<Utc>, sort: QueueSort, after: Option<QueueCursor>, limit: usize) -> AppResult<QueuePage> {
        if limit == 0 || limit > MAX_PAGE {
            return Err(bad(format!("limit: {limit} is out of range — ask for 1 to {MAX_PAGE} needs")));
        }
        let page = self.store.needs_queue_page(&query, &self.order_of(sort), after, limit).await?;
        let items = page.items.into_iter().map(|row| self.queue_line(row, now)).collect();
        Ok(QueuePage { items, next: page.next })
    }

    fn queue_line(&self, row: QueueRow, now: DateTime<Utc>) -> QueueLine {
        let need = &row.need;
        let status = need.status;
        let respond_by = (status == NeedStatus::Open).then(|| {
            let tier = need.owner_tier;
            crate::from_millis(need.reached_owner_at) + self.windows.window(tier)
        });
        let past_deadline = need.deadline.is_some_and(|d| d < to_millis(now));
        let overdue = !status.is_closed() && (past_deadline || respond_by.is_some_and(|r| r < now));
        let supervised = need.supervised;
        QueueLine { row, respond_by, overdue, supervised }
    }

    /// How many needs `actor`'s queue holds in `view` at `now`.
    pub async fn count_queue(&self, actor: &Actor, now: DateTime<Utc>, view: &QueueView) -> AppResult<i64> {
        Ok(self.store.count_needs(&self.queue_query(actor, now, view)?).await?)
    }

    /// The needs of `ids` that `actor` may see, in the order of `ids`' sort (by id), for an
    /// export of a selection. An empty or oversized selection is bad input.
    pub async fn selected_needs(&self, actor: &Actor, now: DateTime<Utc>, ids: &[i64]) -> AppResult<Vec<QueueLine>> {
        check_selection(ids)?;
        let mut query = self.queue_query(actor, now, &QueueView::default())?;
        query.ids = ids.to_vec();
        Ok(self.queue_page(query, now, QueueSort::Id, None, MAX_PAGE).await?.items)
    }

    /// The ten needs most overdue at `now` that `actor` sees (for the dashboard).
    pub async fn most_overdue(&self, actor: &Actor, now: DateTime<Utc>, limit: usize) -> AppResult<Vec<QueueLine>> {
        let view = QueueView { status: "active".into(), overdue: true, sort: "due".into(), ..QueueView::default() };
        Ok(self.needs_queue(actor, now, &view, None, limit).await?.items)
    }

    // ---- saved views ----

    /// The views `actor` saved, by name (none for an account-less actor).
    pub async fn saved_views(&self, actor: &Actor) -> AppResult<Vec<SavedViewRow>> {
        match actor.user_id {
            Some(user) => Ok(self.store.saved_views_of_user(user).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Saves `view` under `name` for `actor` (a view of the same name is replaced). The view is
    /// checked first: a view that would not open is refused.
    pub async fn save_view(&self, actor: &Actor, now: DateTime<Utc>, name: &str, view: &QueueView) -> AppResult<SavedViewRow> {
        let Some(user_id) = actor.user_id else { return Err(AppError::Forbidden(format!("{} has no account to keep views for", actor.name))) };
        let name = text("name", name, SHORT_CHARS)?;
        if name.is_empty() {
            return Err(bad("name: give the view a name, for example 临汾逾期设备"));
        }
        self.queue_query(actor, now, view)?;
        QueueSort::parse(&view.sort)?;
        let mut row = SavedViewRow { id: 0, user_id, name, query: view.query_string(), created_at: to_millis(now) };
        self.write_as(actor, move |_, actor, tx| {
            row.id = tx.put_saved_view(&row)?;
            Audit { actor, now, action: "view.saved", entity: format!("saved_view:{}", row.id), case_id: None, payload: json!({"name": row.name, "query": row.query}) }
                .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// Deletes one of `actor`'s saved views (another's is not found).
    pub async fn delete_view(&self, actor: &Actor, now: DateTime<Utc>, id: i64) -> AppResult<()> {
        self.write_as(actor, move |_, actor, tx| {
            let not_found = || AppError::NotFound(format!("saved view {id}"));
            let row = tx.saved_view(id)?.ok_or_else(not_found)?;
            if actor.user_id != Some(row.user_id) {
                return Err(not_found());
            }
            tx.delete_saved_view(id)?;
            Audit { actor, now, action: "view.deleted", entity: format!("saved_view:{id}"), case_id: None, payload: json!({"name": row.name}) }.append(tx)?;
            Ok(())
        })
        .await
    }

    // ---- assignment and bulk actions ----

    /// Assigns a need to a stationed officer of its case: `member` (a team member of the case),
    /// or — none given — the case's stationed cadre (驻企干部; the first stationed, else the first
    /// commissioner). A decision on the need: its owner department's and the tiers' above.
    pub async fn assign_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, member: Option<i64>) -> AppResult<String> {
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_decide(tx, actor, need_id)?;
            if need.status.is_closed() {
                return Err(AppError::Conflict(format!("need {need_id} is {}: only a need still being worked on is assigned", need.status)));
            }
            let (_, _, team) = tx.case_with_team(case.id)?.ok_or_else(|| AppError::NotFound(format!("case {}", case.id)))?;
            let chosen = match member {
                Some(id) => team.iter().find(|m| m.id == id).ok_or_else(|| bad(format!("member: {id} is not on the team of case {} — choose one of its stationed officers", case.id)))?,
                None => [bangfu_core::model::StationRole::StationedCadre, bangfu_core::model::StationRole::Commissioner]
                    .iter()
                    .find_map(|role| team.iter().find(|m| m.role == *role))
                    .ok_or_else(|| AppError::Conflict(format!("case {} has no stationed officer (驻企干部) to assign need {need_id} to — station one on its team first", case.id)))?,
            };
            if tx.need_assignee(need_id)? == Some(chosen.id) {
                return Ok(chosen.title.clone());
            }
            tx.set_need_assignee(need_id, Some(chosen.id), to_millis(now))?;
            Audit {
                actor,
                now,
                action: "need.assigned",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"title": need.title, "member": chosen.id, "member_title": chosen.title, "department": chosen.department}),
            }
            .append(tx)?;
            Ok(chosen.title.clone())
        })
        .await
    }

    /// Runs `action` on each of `ids`, one use case per need (each its own transaction and audit
    /// event); a need the actor may not act on is refused by itself, the others go ahead. The
    /// action's input is checked once before any need is touched.
    pub async fn bulk(&self, actor: &Actor, now: DateTime<Utc>, ids: &[i64], action: &BulkAction) -> AppResult<Vec<BulkOutcome>> {
        check_selection(ids)?;
        if let BulkAction::Escalate { reason } = action {
            let reason = text("reason", reason, bangfu_core::text::LONG_CHARS)?;
            if reason.is_empty() {
                return Err(bad("reason: say why the selected needs go up a tier, for example 跨省协调需省级出面"));
            }
        }
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut outcomes = Vec::with_capacity(ids.len());
        for need_id in ids {
            let result = match action {
                BulkAction::Escalate { reason } => self.escalate_need(actor, now, need_id, reason).await.map(|done| {
                    let to = owner_name(self, done.need.owner);
                    match done.step {
                        bangfu_core::escalation::EscalationStep::Escalate { .. } => (format!("已上报{to}"), format!("escalated to {}", done.need.owner)),
                        bangfu_core::escalation::EscalationStep::Supervise => ("已提请督办".to_string(), "flagged for supervision (督办)".to_string()),
                    }
                }),
                BulkAction::Broadcast { ring } => {
                    self.broadcast_need(actor, now, need_id, *ring).await.map(|reached| (format!("已发布至 {} 个部门", reached.len()), format!("broadcast to {} departments", reached.len())))
                }
                BulkAction::AssignStationed => self.assign_need(actor, now, need_id, None).await.map(|title| (format!("已指派：{title}"), format!("assigned to {title}"))),
            };
            outcomes.push(BulkOutcome { need_id, result });
        }
        Ok(outcomes)
    }
}

fn check_selection(ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Err(bad("select: tick at least one need in the list first"));
    }
    if ids.len() > MAX_BULK {
        return Err(bad(format!("select: {} needs selected; at most {MAX_BULK} at once — narrow the view", ids.len())));
    }
    Ok(())
}

/// A span of time as words: "3 天 4 小时" / "3 d 4 h".
pub fn span_words(span: TimeDelta) -> (String, String) {
    let minutes = span.num_minutes().abs();
    let (days, hours, mins) = (minutes / (24 * 60), (minutes / 60) % 24, minutes % 60);
    if days > 0 {
        (format!("{days} 天 {hours} 小时"), format!("{days} d {hours} h"))
    } else if hours > 0 {
        (format!("{hours} 小时 {mins} 分"), format!("{hours} h {mins} min"))
    } else {
        (format!("{mins} 分钟"), format!("{mins} min"))
    }
}

/// The department that owns `code`, for messages.
pub(crate) fn owner_name(app: &App, code: bangfu_core::region::RegionCode) -> String {
    bangfu_core::routing::department_name(app.tree, code)
}
