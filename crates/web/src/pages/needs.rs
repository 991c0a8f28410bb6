//! The needs queue (`/needs`, issue 13): the needs the user may see in a view — filters, a sort
//! and a page, all held by the URL so that a view can be shared and bookmarked — with each
//! need's countdown to its owner's response window and its escalation state (上报 / 督办), the
//! role's built-in views and the user's saved ones as tabs, and bulk actions on the ticked needs
//! (escalate, broadcast, assign the stationed officer, export as CSV), each one use case per need
//! (`App::bulk`). `/needs` with no query opens the role's default view (a redirect, so the URL
//! names it). A bad filter is said beside the form, not as an error page.

use super::form::Fields;
use super::pager::Pager;
use super::registry::Choice;
use super::session::PageUser;
use super::ui::{Lang, Ui, time};
use crate::edges::see_other;
use crate::{AppState, clock};
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bangfu_app::AppError;
use bangfu_app::queue::{BulkAction, QueueLine, QueueSort, QueueView, cursor_text, parse_cursor, span_words};
use bangfu_app::views::DEFAULT_PAGE;
use bangfu_core::model::{NeedKind, NeedStatus, Scope, Tier};
use bangfu_store::Page;
use serde::Deserialize;

pub struct NeedLine {
    pub id: i64,
    pub case_id: i64,
    pub enterprise: String,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub owner: String,
    pub tier: String,
    /// "剩余 3 小时" / "逾期 2 天" of the response window, or the deadline's, or empty.
    pub countdown: String,
    /// `late`, `soon` or empty: how the countdown is drawn.
    pub countdown_class: String,
    /// The window's end in milliseconds (for the page's script to count down), 0 if none.
    pub respond_by: i64,
    pub escalated: bool,
    pub supervised: bool,
    pub assignee: String,
    pub updated: String,
}

/// A tab of the queue: a built-in or saved view.
pub struct Tab {
    pub label: String,
    pub href: String,
    pub current: bool,
    /// A saved view's id (it can be deleted), 0 for a built-in one.
    pub saved_id: i64,
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsPage {
    ui: Ui,
    tabs: Vec<Tab>,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    tiers: Vec<Choice>,
    sorts: Vec<Choice>,
    rings: Vec<Choice>,
    view: QueueView,
    filter_error: String,
    needs: Vec<NeedLine>,
    total: i64,
    pager: Pager,
    /// What the last bulk action did, one line per need.
    report: Vec<(i64, bool, String)>,
    flash: String,
    /// Whether the user may act on needs at all (officers and admins see the bulk bar).
    acts: bool,
    /// The whole list as Excel or CSV (`/export/needs`, by the filters the export takes: kind,
    /// a status, place; the ticked needs alone are exported by the bulk bar).
    download: String,
}

/// The query of `/needs`: a view, and where its page starts.
#[derive(Debug, Default, Deserialize)]
pub struct NeedsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    case: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    escalated: String,
    #[serde(default)]
    awaiting_reply: String,
    #[serde(default)]
    assigned: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    /// Where the page starts (the pager's next: `KEY_ID`).
    #[serde(default)]
    after: String,
    /// What a bulk action did (`done=N&failed=M`), shown once.
    #[serde(default)]
    done: Option<usize>,
    #[serde(default)]
    failed: Option<usize>,
    #[serde(default)]
    saved: String,
}

fn on(flag: &str) -> bool {
    matches!(flag.trim(), "1" | "on" | "true" | "yes")
}

impl NeedsQuery {
    fn view(&self) -> QueueView {
        QueueView {
            status: self.status.clone(),
            kind: self.kind.clone(),
            tier: self.tier.clone(),
            owner: self.owner.clone(),
            place: self.place.clone(),
            case: self.case.clone(),
            overdue: on(&self.overdue),
            escalated: on(&self.escalated),
            awaiting_reply: on(&self.awaiting_reply),
            assigned: self.assigned.clone(),
            q: self.q.clone(),
            sort: self.sort.clone(),
        }
    }
}

/// The view posted with a form (the same names as the URL's).
fn posted_view(fields: &Fields) -> QueueView {
    QueueView {
        status: fields.text("status"),
        kind: fields.text("kind"),
        tier: fields.text("tier"),
        owner: fields.text("owner"),
        place: fields.text("place"),
        case: fields.text("case"),
        overdue: on(&fields.text("overdue")),
        escalated: on(&fields.text("escalated")),
        awaiting_reply: on(&fields.text("awaiting_reply")),
        assigned: fields.text("assigned"),
        q: fields.text("q"),
        sort: fields.text("sort"),
    }
}

/// The countdown of a line: time left to (or past) the response window, else the deadline.
fn countdown(line: &QueueLine, lang: Lang, now: chrono::DateTime<chrono::Utc>) -> (String, String) {
    let need = &line.row.need;
    let closed = need.status.is_closed();
    if closed {
        return (String::new(), String::new());
    }
    let (what_zh, what_en, at) = match (line.respond_by, need.deadline) {
        (Some(at), _) => ("响应", "respond", at),
        (None, Some(deadline)) => ("期限", "deadline", bangfu_app::from_millis(deadline)),
        (None, None) => return (lang.pick("已受理", "being worked on").to_string(), String::new()),
    };
    let left = at - now;
    let (zh, en) = span_words(left);
    if left < chrono::TimeDelta::zero() {
        (lang.pick(&format!("{what_zh}逾期 {zh}"), &format!("{what_en}: {en} overdue")).to_string(), "late".into())
    } else {
        let class = if left < chrono::TimeDelta::hours(6) { "soon" } else { "" };
        (lang.pick(&format!("{what_zh}剩余 {zh}"), &format!("{what_en}: {en} left")).to_string(), class.into())
    }
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<NeedsQuery>, RawQuery(raw): RawQuery) -> Response {
    // No view asked for: the role's default, named in the URL.
    let asked = raw.as_deref().unwrap_or_default().split('&').any(|p| !p.is_empty() && !p.starts_with("lang="));
    if !asked {
        return see_other(&format!("/needs?{}", state.app.default_view(&user.actor).query_string()));
    }
    let lang = user.lang;
    let flash = match (query.done, query.failed) {
        (Some(done), Some(failed)) => match lang {
            Lang::Zh => format!("批量操作完成：{done} 条成功，{failed} 条未能办理"),
            Lang::En => format!("Bulk action: {done} done, {failed} refused"),
        },
        _ if !query.saved.is_empty() => lang.pick("视图已保存", "View saved").to_string(),
        _ => String::new(),
    };
    let shown = Shown { after: query.after.clone(), flash, ..Shown::default() };
    queue_page(&state, &user, query.view(), shown, StatusCode::OK).await
}

/// What a page of the queue shows beside the view.
#[derive(Default)]
struct Shown {
    /// Where the page starts (`KEY_ID`), empty for the first.
    after: String,
    flash: String,
    /// A message about the form (bad filter, bad bulk input).
    error: String,
    report: Vec<(i64, bool, String)>,
}

/// The queue in `view`, with what `shown` adds, answered with `status`.
async fn queue_page(state: &AppState, user: &PageUser, view: QueueView, shown: Shown, status: StatusCode) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let now = clock::now();
    let query_string = view.query_string();
    let listed = async {
        let after = parse_cursor(&shown.after)?;
        let page = app.needs_queue(&user.actor, now, &view, after, DEFAULT_PAGE).await?;
        let total = app.count_queue(&user.actor, now, &view).await?;
        Ok::<_, AppError>((page, total, after))
    };
    let (page, total, after, filter_error) = match listed.await {
        Ok((page, total, after)) => (page, total, after, shown.error),
        Err(AppError::BadInput(message)) => (bangfu_app::queue::QueuePage { items: Vec::new(), next: None }, 0, None, message),
        Err(e) => return user.fail(state, e),
    };
    let tree = app.tree();
    let needs = page
        .items
        .iter()
        .map(|line| {
            let n = &line.row.need;
            let (countdown, countdown_class) = countdown(line, lang, now);
            NeedLine {
                id: n.id,
                case_id: n.case_id,
                enterprise: line.row.enterprise.clone(),
                kind: lang.kind(&n.kind),
                title: n.title.clone(),
                status: lang.need_status(&n.status),
                status_class: n.status.as_str().to_string(),
                owner: lang.department(tree, &n.owner),
                tier: lang.tier(&n.owner_tier),
                countdown,
                countdown_class,
                respond_by: line.respond_by.map_or(0, |r| r.timestamp_millis()),
                escalated: line.row.escalated,
                supervised: line.supervised,
                assignee: line.row.assignee_title.clone().unwrap_or_default(),
                updated: time(n.updated_at),
            }
        })
        .collect();
    // The pager: the first page is the view itself; the next carries the cursor `KEY_ID`.
    let pager_page = Page { items: page.items.iter().map(|_| ()).collect::<Vec<_>>(), next: page.next.map(|c| c.id) };
    let mut pager = Pager::new(lang, "/needs", &[], "after", after.map(|a| a.id), &pager_page, total);
    pager.first = after.map(|_| format!("/needs?{query_string}"));
    pager.next = page.next.map(|next| format!("/needs?{query_string}&after={}", cursor_text(next)));

    let mut tabs: Vec<Tab> = app
        .builtin_views(&user.actor)
        .into_iter()
        .map(|v| {
            let q = v.view.query_string();
            Tab { label: lang.pick(v.zh, v.en).to_string(), current: q == query_string, href: format!("/needs?{q}"), saved_id: 0 }
        })
        .collect();
    match app.saved_views(&user.actor).await {
        Ok(saved) => tabs.extend(saved.into_iter().map(|v| Tab { label: v.name, current: v.query == query_string, href: format!("/needs?{}", v.query), saved_id: v.id })),
        Err(e) => return user.fail(state, e),
    }
    let choices = |items: Vec<(String, &str)>| items.into_iter().map(|(value, label)| Choice { value, label: label.to_string() }).collect::<Vec<_>>();
    let kinds = choices(NeedKind::ALL.iter().map(|k| (k.as_str().to_string(), lang.label(k.label()))).collect());
    let mut statuses = choices(vec![("active".to_string(), lang.pick("未办结", "not closed"))]);
    statuses.extend(choices(NeedStatus::ALL.iter().map(|s| (s.as_str().to_string(), lang.label(s.label()))).collect()));
    let tiers = choices(Tier::ALL.iter().map(|t| (t.as_str().to_string(), lang.label(t.label()))).collect());
    let sorts = choices(QueueSort::ALL.iter().map(|s| (s.as_str().to_string(), lang.pick(s.label().0, s.label().1))).collect());
    let rings = choices(Scope::ALL.iter().map(|s| (s.as_str().to_string(), lang.label(s.label()))).collect());
    let acts = matches!(user.actor.role, bangfu_core::model::Role::Officer | bangfu_core::model::Role::Admin);
    let ui = user.ui(state, "needs", lang.pick("诉求工作队列", "Needs queue"));
    let view = QueueView { sort: QueueSort::parse(&view.sort).unwrap_or_default().as_str().to_string(), ..view };
    let one_status = if view.status == "active" { "" } else { view.status.as_str() };
    let download = super::ui::download_href("needs", &[("kind", &view.kind), ("status", one_status), ("place", &view.place)]);
    let page = NeedsPage {
        download,
        ui,
        tabs,
        kinds,
        statuses,
        tiers,
        sorts,
        rings,
        view,
        filter_error,
        needs,
        total,
        pager,
        report: shown.report,
        flash: shown.flash,
        acts,
    };
    super::session::render_with(status, &page)
}

/// The ids ticked in a posted form.
fn ticked(fields: &Fields) -> Vec<i64> {
    fields.all("id").iter().filter_map(|v| v.parse().ok()).collect()
}

/// `POST /needs/bulk`: runs the chosen action on every ticked need, one use case each, and
/// comes back to the view with what happened; `export` answers the ticked needs as CSV.
pub async fn bulk(State(state): State<AppState>, user: PageUser, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let lang = user.lang;
    let app = &state.app;
    let now = clock::now();
    let ids = ticked(&fields);
    let view = posted_view(&fields);
    let back = format!("/needs?{}", view.query_string());
    let action = match fields.text("action").as_str() {
        "escalate" => BulkAction::Escalate { reason: fields.text("reason") },
        "broadcast" => match Scope::parse(&fields.text("ring")) {
            Ok(ring) => BulkAction::Broadcast { ring },
            Err(_) => return bulk_refused(&state, &user, &view, lang.pick("请选择协查范围", "choose how far to broadcast")).await,
        },
        "assign" => BulkAction::AssignStationed,
        "export" => return export(&state, &user, &view, &ids).await,
        _ => return bulk_refused(&state, &user, &view, lang.pick("请选择要执行的批量操作", "choose a bulk action")).await,
    };
    let outcomes = match app.bulk(&user.actor, now, &ids, &action).await {
        Ok(outcomes) => outcomes,
        Err(AppError::BadInput(message)) => return bulk_refused(&state, &user, &view, &message).await,
        Err(e) => return user.fail(&state, e),
    };
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if failed == 0 {
        return see_other(&format!("{back}&done={}&failed=0", outcomes.len()));
    }
    // Something was refused: say which and why, on the queue itself — with the status of the
    // first refusal when nothing was done (not found, forbidden, a conflict).
    let status = match outcomes.iter().find_map(|o| o.result.as_ref().err()) {
        Some(e) if failed == outcomes.len() => match e {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        },
        _ => StatusCode::OK,
    };
    let report = outcomes
        .into_iter()
        .map(|o| match o.result {
            Ok((zh, en)) => (o.need_id, true, lang.pick(&zh, &en).to_string()),
            Err(AppError::NotFound(_)) => (o.need_id, false, lang.pick("没有找到，或不在您的职责范围内", "not found, or outside your jurisdiction").to_string()),
            Err(e) => (o.need_id, false, e.to_string()),
        })
        .collect();
    queue_page(&state, &user, view, Shown { report, ..Shown::default() }, status).await
}

async fn bulk_refused(state: &AppState, user: &PageUser, view: &QueueView, message: &str) -> Response {
    queue_page(state, user, view.clone(), Shown { error: message.to_string(), ..Shown::default() }, StatusCode::BAD_REQUEST).await
}

/// The ticked needs the user may see, as CSV (cells neutralised as every export's).
async fn export(state: &AppState, user: &PageUser, view: &QueueView, ids: &[i64]) -> Response {
    let lines = match state.app.selected_needs(&user.actor, clock::now(), ids).await {
        Ok(lines) => lines,
        Err(AppError::BadInput(message)) => return bulk_refused(state, user, view, &message).await,
        Err(e) => return user.fail(state, e),
    };
    let header = ["id", "case_id", "enterprise", "kind", "title", "quantity", "unit", "status", "owner", "owner_tier", "respond_by", "deadline", "escalated", "supervised"];
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for line in &lines {
        let n = &line.row.need;
        rows.push(vec![
            n.id.to_string(),
            n.case_id.to_string(),
            line.row.enterprise.clone(),
            n.kind.as_str().to_string(),
            n.title.clone(),
            n.quantity.to_string(),
            n.unit.clone(),
            n.status.as_str().to_string(),
            n.owner.to_string(),
            n.owner_tier.as_str().to_string(),
            line.respond_by.map(|r| crate::json::time(r.timestamp_millis())).unwrap_or_default(),
            n.deadline.map(crate::json::time).unwrap_or_default(),
            line.row.escalated.to_string(),
            line.supervised.to_string(),
        ]);
    }
    for row in rows {
        if writer.write_record(row.iter().map(|c| bangfu_core::text::csv_cell(c).into_owned())).is_err() {
            return user.fail(state, AppError::Internal("CSV".into()));
        }
    }
    match writer.into_inner() {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"needs.csv\"")],
            Body::from(bytes),
        )
            .into_response(),
        Err(e) => user.fail(state, AppError::internal("CSV", e.error())),
    }
}

/// `POST /needs/views`: saves the posted view under its name for the user.
pub async fn save_view(State(state): State<AppState>, user: PageUser, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let view = posted_view(&fields);
    match state.app.save_view(&user.actor, clock::now(), &fields.text("name"), &view).await {
        Ok(saved) => see_other(&format!("/needs?{}&saved=1", saved.query)),
        Err(AppError::BadInput(message)) => bulk_refused(&state, &user, &view, &message).await,
        Err(e) => user.fail(&state, e),
    }
}

/// `POST /needs/views/{id}/delete`: deletes one of the user's saved views.
pub async fn delete_view(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    match state.app.delete_view(&user.actor, clock::now(), id).await {
        Ok(()) => see_other("/needs"),
        Err(e) => user.fail(&state, e),
    }
}
