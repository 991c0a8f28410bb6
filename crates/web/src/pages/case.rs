//! The case page (`/cases/{id}`): the enterprise, its stationed team by tier, its needs, the
//! timeline of events (UTC+8, newest first, 50 a page, filtered by kind), the green-channel board with each department's approval side by
//! side, shipments with their traffic passes, letters, and a map — from `App::case_detail`.

use super::dashboard::short_name;
use super::events::{EventView, describe};
use super::map::{Link, Marker, MarkerKind, render as render_map};
use super::form::Fields;
use super::session::{PageUser, render_with};
use super::ui::{Lang, Ui, day, time};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::channel::{NewApproval, NewShipment};
use bangfu_app::{AppError, access};
use bangfu_core::model::ApprovalStatus;
use chrono::Utc;
use serde::Deserialize;
use bangfu_core::model::Tier;
use bangfu_core::region::RegionCode;
use std::collections::BTreeMap;

pub struct TeamColumn {
    pub tier: String,
    pub members: Vec<TeamLine>,
}

pub struct TeamLine {
    pub id: i64,
    pub title: String,
    pub role: String,
    pub department: String,
    pub joined: String,
}

pub struct NeedLine {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub owner: String,
    pub scope: String,
    pub updated: String,
}

pub struct DayGroup {
    pub day: String,
    pub events: Vec<EventView>,
}

pub struct ApprovalCard {
    pub id: i64,
    /// Whether the viewer may move it on (its department's officers and those above).
    pub can_decide: bool,
    /// Still to be decided: the officers of the case may move it on.
    pub open: bool,
    pub agency: String,
    pub item: String,
    pub owner: String,
    pub status: String,
    pub status_class: String,
    pub opened: String,
    pub due: String,
    pub decided: String,
    pub clock: String,
    pub late: bool,
}

pub struct ShipmentLine {
    pub id: i64,
    /// Where it may go from here: (status, label).
    pub moves: Vec<(String, String)>,
    pub goods: String,
    pub route: String,
    pub status: String,
    pub traffic_pass: String,
    pub departs: String,
    pub arrives: String,
    pub need_id: Option<i64>,
}

/// One milestone of the case's plan.
pub struct MilestoneLine {
    pub key: String,
    pub name: String,
    pub start: String,
    pub finish: String,
    pub done: bool,
    pub driving: bool,
    /// The needs attached to it: (need id, title, open).
    pub blockers: Vec<(i64, String, bool)>,
}

/// The case's plan to production, as `App::case_plan` projects it now.
pub struct PlanSummary {
    pub first_output: String,
    pub days: String,
    pub delay: String,
    pub milestones: Vec<MilestoneLine>,
    /// The plan as an SVG Gantt chart.
    pub gantt: String,
}

pub struct LetterLine {
    pub id: i64,
    pub need_id: i64,
    pub number: String,
    pub subject: String,
    pub status: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    ui: Ui,
    intro_case: Option<i64>,
    case_id: i64,
    title: String,
    enterprise: String,
    credit_code: String,
    place: String,
    note: String,
    opened: String,
    can_report: bool,
    /// An officer who may act on the case: the green-channel and shipment forms are shown.
    can_act: bool,
    /// The county department of the enterprise: where an approval runs unless another is named.
    county: String,
    /// The needs of the case, for the shipment form (id, title).
    need_options: Vec<(i64, String)>,
    /// The open needs of the case, to attach to a milestone (id, title).
    open_needs: Vec<(i64, String)>,
    /// An officer whose jurisdiction holds the case: stations and releases members.
    can_keep_team: bool,
    /// An officer whose jurisdiction holds the case: adds and removes milestones of the plan.
    can_shape_plan: bool,
    /// The plan's milestones (key, name in the page's language), for the add form's "after".
    plan_steps: Vec<(String, String)>,
    /// The station roles (value, label).
    station_roles: Vec<(String, String)>,
    flash: String,
    error: String,
    team: Vec<TeamColumn>,
    needs: Vec<NeedLine>,
    timeline: Vec<DayGroup>,
    timeline_pager: super::pager::Pager,
    event_kinds: Vec<super::registry::Choice>,
    event_kind: String,
    events_total: i64,
    timeline_error: String,
    approvals: Vec<ApprovalCard>,
    shipments: Vec<ShipmentLine>,
    letters: Vec<LetterLine>,
    plan: Option<PlanSummary>,
    map: String,
}

fn place_name(tree: &bangfu_core::region::RegionTree, code: &str) -> String {
    code.parse::<u32>().ok().map_or_else(|| code.to_string(), |c| tree.full_name(RegionCode::new_unchecked(c)))
}

fn approval_card(a: &bangfu_store::ApprovalRow, lang: Lang, tree: &bangfu_core::region::RegionTree, now_ms: i64, can_decide: bool) -> ApprovalCard {
    let late = a.decided_at.is_none() && a.due_at.is_some_and(|due| due < now_ms);
    let clock = match (a.decided_at, a.due_at) {
        (Some(decided), _) => match lang {
            Lang::Zh => format!("办结用时 {}", lang.duration(decided - a.opened_at)),
            Lang::En => format!("decided in {}", lang.duration(decided - a.opened_at)),
        },
        (None, Some(due)) if due < now_ms => match lang {
            Lang::Zh => format!("已逾期 {}", lang.duration(now_ms - due)),
            Lang::En => format!("overdue by {}", lang.duration(now_ms - due)),
        },
        (None, Some(due)) => match lang {
            Lang::Zh => format!("已办 {}，距期限 {}", lang.duration(now_ms - a.opened_at), lang.duration(due - now_ms)),
            Lang::En => format!("open {}, due in {}", lang.duration(now_ms - a.opened_at), lang.duration(due - now_ms)),
        },
        (None, None) => match lang {
            Lang::Zh => format!("已办 {}", lang.duration(now_ms - a.opened_at)),
            Lang::En => format!("open {}", lang.duration(now_ms - a.opened_at)),
        },
    };
    ApprovalCard {
        id: a.id,
        can_decide,
        open: a.decided_at.is_none(),
        agency: a.agency.clone(),
        item: a.item.clone(),
        owner: lang.department(tree, &a.department),
        status: lang.approval_status(&a.status),
        status_class: a.status.as_str().to_string(),
        opened: time(a.opened_at),
        due: a.due_at.map(time).unwrap_or_default(),
        decided: a.decided_at.map(time).unwrap_or_default(),
        clock,
        late,
    }
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    /// The timeline's page starts after this event (the pager's next).
    events_after: Option<i64>,
    /// Only events of this kind (`need`, `approval`, … — `App::EVENT_KINDS`).
    event_kind: Option<String>,
}

/// Which page of the timeline a case page shows.
#[derive(Clone, Debug, Default)]
pub struct TimelinePage {
    after: Option<i64>,
    kind: String,
}

pub async fn show(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, Query(query): Query<DoneQuery>) -> Response {
    let flash = match query.done.as_deref() {
        Some("approval") => user.t("审批事项已加入绿色通道。", "Approval added to the green channel."),
        Some("decide") => user.t("审批状态已更新。", "Approval updated."),
        Some("shipment") => user.t("运输已登记。", "Shipment recorded."),
        Some("moved") => user.t("运输状态已更新。", "Shipment moved on."),
        Some("station") => user.t("已派驻人员。", "Member stationed."),
        Some("release") => user.t("已撤回人员。", "Member released."),
        Some("attached") => user.t("诉求已挂到计划节点，节点将等待其解决。", "Need attached: the milestone now waits for it."),
        Some("detached") => user.t("诉求已从计划节点取下。", "Need detached from the milestone."),
        Some("milestone_added") => user.t("计划节点已添加。", "Milestone added to the plan."),
        Some("milestone_removed") => user.t("计划节点已删除，其后的节点改为等待它的前序。", "Milestone removed: the steps after it now wait for what it waited for."),
        Some("opened") => user.t("企业已登记，帮扶档案已建立。", "Enterprise registered and its case opened."),
        _ => "",
    };
    let timeline = TimelinePage { after: query.events_after, kind: query.event_kind.unwrap_or_default() };
    case_page(&state, &user, id, flash.to_string(), String::new(), StatusCode::OK, &timeline).await
}

async fn case_page(state: &AppState, user: &PageUser, id: i64, flash: String, error: String, status: StatusCode, shown: &TimelinePage) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let tree = app.tree();
    let detail = match app.case_detail(&user.actor, id).await {
        Ok(d) => d,
        Err(e) => return user.fail(state, e),
    };
    let now_ms = clock::now().timestamp_millis();

    let team = [Tier::County, Tier::City, Tier::Province]
        .iter()
        .map(|tier| TeamColumn {
            tier: lang.label(tier.label()).to_string(),
            members: detail
                .team
                .iter()
                .filter(|m| m.tier == *tier)
                .map(|m| TeamLine { id: m.id, title: m.title.clone(), role: lang.station_role(&m.role), department: lang.department(tree, &m.department), joined: day(m.joined_at) })
                .collect(),
        })
        .collect();
    let needs = detail
        .needs
        .iter()
        .map(|n| NeedLine {
            id: n.id,
            kind: lang.kind(&n.kind),
            title: n.title.clone(),
            status: lang.need_status(&n.status),
            status_class: n.status.as_str().to_string(),
            owner: lang.department(tree, &n.owner),
            scope: lang.scope(&n.scope),
            updated: time(n.updated_at),
        })
        .collect();
    let titles: BTreeMap<i64, String> = detail.needs.iter().map(|n| (n.id, n.title.clone())).collect();
    // The timeline, a page at a time and of one kind if asked (issue 13).
    let kind = Some(shown.kind.trim()).filter(|k| !k.is_empty());
    let request = bangfu_store::PageRequest { after: shown.after, limit: bangfu_app::views::DEFAULT_PAGE };
    let (events, events_total, timeline_error) = match app.case_events_of_kind(&user.actor, id, kind, request).await {
        Ok((page, total)) => (page, total, String::new()),
        Err(AppError::BadInput(message)) => (bangfu_store::Page { items: Vec::new(), next: None }, 0, message),
        Err(e) => return user.fail(state, e),
    };
    let timeline_pager = super::pager::Pager::new(lang, &format!("/cases/{id}"), &[("event_kind", &shown.kind)], "events_after", shown.after, &events, events_total);
    let event_kinds = bangfu_app::App::EVENT_KINDS.iter().map(|k| super::registry::Choice { value: k.to_string(), label: event_kind_label(k, lang).to_string() }).collect();
    let mut timeline: Vec<DayGroup> = Vec::new();
    let mut views: Vec<EventView> = events.items.iter().map(|e| describe(e, lang, tree, &titles)).collect();
    super::events::name_actors(app, &mut views, &events.items.iter().collect::<Vec<_>>(), lang).await;
    for view in views {
        match timeline.last_mut() {
            Some(group) if group.day == view.day => group.events.push(view),
            _ => timeline.push(DayGroup { day: view.day.clone(), events: vec![view] }),
        }
    }
    let approvals = detail.approvals.iter().map(|a| approval_card(a, lang, tree, now_ms, access::may_decide_approval(tree, &user.actor, a))).collect();
    let shipments = detail
        .shipments
        .iter()
        .map(|s| ShipmentLine {
            id: s.id,
            moves: bangfu_app::setup::shipment_moves(s.status).iter().map(|to| (to.as_str().to_string(), lang.shipment_status(to))).collect(),
            goods: s.goods.clone(),
            route: format!("{} → {}", place_name(tree, &s.origin), place_name(tree, &s.destination)),
            status: lang.shipment_status(&s.status),
            traffic_pass: s.traffic_pass.clone().unwrap_or_default(),
            departs: s.departs_at.map(time).unwrap_or_default(),
            arrives: s.arrives_at.map(time).unwrap_or_default(),
            need_id: s.need_id,
        })
        .collect();
    let letters = detail
        .letters
        .iter()
        .map(|l| LetterLine { id: l.id, need_id: l.need_id, number: l.number.clone(), subject: l.subject.clone(), status: lang.letter_status(&l.status), created: day(l.created_at) })
        .collect();

    let mut plan_steps = Vec::new();
    let plan = match app.case_plan(&user.actor, id, clock::now()).await {
        Ok(view) if !view.is_empty() => {
            plan_steps = view.plan.milestones.iter().map(|m| (m.key.clone(), super::gantt::name_in(&m.name, lang).to_string())).collect();
            let milestones = (0..view.plan.milestones.len())
                .map(|i| {
                    let times = view.schedule.times(i);
                    let milestone = &view.plan.milestones[i];
                    MilestoneLine {
                        key: milestone.key.clone(),
                        name: super::gantt::name_in(&milestone.name, lang).to_string(),
                        start: time(milestone.actual_start.unwrap_or(times.es).timestamp_millis()),
                        finish: time(milestone.actual_finish.unwrap_or(times.ef).timestamp_millis()),
                        done: view.is_done(i),
                        driving: view.driving.get(i).copied().unwrap_or(false),
                        blockers: view.blockers_of(i).map(|b| (b.need.id, b.need.title.clone(), b.is_open())).collect(),
                    }
                })
                .collect();
            let finished = (0..view.plan.milestones.len()).all(|i| view.is_done(i));
            Some(PlanSummary {
                first_output: format!("{}{}", time(view.finish().timestamp_millis()), if finished { lang.pick("（已实现）", " (achieved)") } else { lang.pick("（预计）", " (expected)") }),
                days: view.days_from_plan_to_production().map(super::ui::trim).unwrap_or_default(),
                delay: if view.delay_h() > 0.0 { lang.hours(view.delay_h()) } else { String::new() },
                milestones,
                gantt: super::gantt::render(&view, lang),
            })
        }
        Ok(_) => None,
        Err(e) => return user.fail(state, e),
    };

    // The map: the enterprise, the provider chosen for each need, the candidates of open needs.
    let mut markers = Vec::new();
    let mut links = Vec::new();
    if let (Some(lon), Some(lat)) = (detail.enterprise.lon, detail.enterprise.lat) {
        markers.push(Marker { lon, lat, label: detail.enterprise.name.clone(), kind: MarkerKind::Enterprise });
        let mut seen = Vec::new();
        // Every need's candidates in one read (a read per need was ten statements each).
        let candidates = app.case_candidates(&user.actor, id).await.unwrap_or_default();
        for need in &detail.needs {
            for (candidate, provider) in candidates.iter().filter(|(c, _)| c.need_id == need.id) {
                let selected = need.selected_candidate == Some(candidate.id);
                let open = need.status == bangfu_core::model::NeedStatus::Open && candidate.feasible;
                let (Some(lon), Some(lat)) = (provider.lon, provider.lat) else { continue };
                if !(selected || open) || seen.contains(&provider.id) {
                    continue;
                }
                seen.push(provider.id);
                links.push(Link { from: 0, to: markers.len() });
                let label = format!("{}（{}）", short_name(&provider.name), lang.kind(&need.kind));
                markers.push(Marker { lon, lat, label, kind: if selected { MarkerKind::Selected } else { MarkerKind::Candidate } });
            }
        }
    }
    let map = render_map(tree, &markers, &links, lang.pick("企业与提供方示意图", "The enterprise and its providers"), lang);

    let can_report = access::may_report_on_case(tree, &user.actor, &detail.case, &detail.team);
    let intro_case = (detail.enterprise.credit_code == bangfu_app::demo::CREDIT_CODE).then_some(id);
    let ui = user.ui(state, "case", detail.enterprise.name.clone());
    let can_act = access::may_act_on_case(tree, &user.actor, &detail.case, &detail.team);
    let county = tree.department_region(detail.enterprise.region).to_string();
    let need_options = detail.needs.iter().map(|n| (n.id, n.title.clone())).collect();
    let open_needs = detail.needs.iter().filter(|n| !n.status.is_closed()).map(|n| (n.id, n.title.clone())).collect();
    let can_keep_team = access::may_keep_team(tree, &user.actor, &detail.case);
    let can_shape_plan = access::may_shape_plan(tree, &user.actor, &detail.case);
    let station_roles = ["stationed_cadre", "task_force", "commissioner"].iter().map(|r| (r.to_string(), lang.station_role(*r))).collect();
    render_with(status, &CasePage {
        ui,
        intro_case,
        case_id: id,
        title: detail.case.title.clone(),
        enterprise: detail.enterprise.name.clone(),
        credit_code: detail.enterprise.credit_code.clone(),
        place: tree.full_name(detail.enterprise.region),
        note: super::events::one_language(&detail.enterprise.note, lang),
        opened: time(detail.case.opened_at),
        can_report,
        can_act,
        county,
        need_options,
        open_needs,
        can_keep_team,
        can_shape_plan,
        plan_steps,
        station_roles,
        flash,
        error,
        team,
        needs,
        timeline,
        timeline_pager,
        event_kinds,
        event_kind: shown.kind.clone(),
        events_total,
        timeline_error,
        approvals,
        shipments,
        letters,
        plan,
        map,
    })
}

/// A time typed in a datetime-local field (2020-02-03T18:00), at UTC+8; empty is none.
fn china_time(fields: &Fields, name: &str, lang: Lang) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    let text = fields.text(name);
    if text.trim().is_empty() {
        return Ok(None);
    }
    super::enterprise::china_time(&text)
        .map(Some)
        .ok_or_else(|| AppError::BadInput(format!("{name}: {}", lang.pick("请按 2020-02-03 18:00 的格式填写（北京时间）", "write it as 2020-02-03 18:00 (China time)"))))
}

/// Back to the case page after a green-channel or shipment form: to the board on success, the
/// page again with the error otherwise.
async fn after(state: &AppState, user: &PageUser, id: i64, done: &str, outcome: Result<(), AppError>) -> Response {
    let anchor = match done {
        "station" | "release" => "team",
        "moved" | "shipment" => "shipments",
        "attached" | "detached" | "milestone_added" | "milestone_removed" => "plan",
        _ => "green-channel",
    };
    match outcome {
        Ok(()) => Redirect::to(&format!("/cases/{id}?done={done}#{anchor}")).into_response(),
        Err(e @ (AppError::NotFound(_) | AppError::Internal(_) | AppError::Unauthorized(_))) => user.fail(state, e),
        Err(e) => {
            let status = match e {
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            case_page(state, user, id, String::new(), super::ui::localise(&e.to_string(), user.lang), status, &TimelinePage::default()).await
        }
    }
}

/// Opens an approval in the case's green channel (POST from the case page).
pub async fn open_approval(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let outcome = async {
        let input = NewApproval {
            department: fields.text("department"),
            agency: fields.text("agency"),
            item: fields.text("item"),
            due_at: china_time(&fields, "due", user.lang)?,
        };
        state.app.open_approval(&user.actor, clock::now(), id, input).await.map(drop)
    }
    .await;
    after(&state, &user, id, "approval", outcome).await
}

/// Moves an approval of the case on: in progress, approved or rejected.
pub async fn decide_approval(State(state): State<AppState>, user: PageUser, Path((id, approval)): Path<(i64, i64)>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let outcome = async {
        let status = ApprovalStatus::parse(&fields.text("status")).map_err(|e| AppError::BadInput(format!("status: {e}")))?;
        // Only an approval of this case: another case's approval is not found here.
        let detail = state.app.case_detail(&user.actor, id).await?;
        if !detail.approvals.iter().any(|a| a.id == approval) {
            return Err(AppError::NotFound(format!("approval {approval}")));
        }
        // A refusal asks for a reason and a tick that says the officer means it.
        let reason = fields.text("reason");
        if status == ApprovalStatus::Rejected && (reason.is_empty() || !fields.checked("confirm")) {
            return Err(AppError::BadInput(user.t("不予批准须填写理由并勾选确认", "a refusal needs a reason and the confirmation ticked").into()));
        }
        state.app.decide_approval_with_reason(&user.actor, clock::now(), approval, status, &reason).await.map(drop)
    }
    .await;
    after(&state, &user, id, "decide", outcome).await
}

/// Records a shipment of the case, with its traffic pass.
pub async fn add_shipment(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let outcome = async {
        let need_id = match fields.text("need_id").trim() {
            "" => None,
            text => Some(text.parse::<i64>().map_err(|_| AppError::BadInput(format!("need_id: {text} is not a need")))?),
        };
        let traffic_pass = fields.text("traffic_pass");
        let input = NewShipment {
            need_id,
            goods: fields.text("goods"),
            origin: fields.text("origin"),
            destination: fields.text("destination"),
            status: fields.text("status"),
            traffic_pass: (!traffic_pass.trim().is_empty()).then_some(traffic_pass),
            departs_at: china_time(&fields, "departs", user.lang)?,
            arrives_at: china_time(&fields, "arrives", user.lang)?,
        };
        state.app.add_shipment(&user.actor, clock::now(), id, input).await.map(drop)
    }
    .await;
    after(&state, &user, id, "shipment", outcome).await
}

/// The name of a kind of event, for the timeline's filter.
fn event_kind_label(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "need" => lang.pick("诉求", "needs"),
        "approval" => lang.pick("审批", "approvals"),
        "shipment" => lang.pick("运输", "shipments"),
        "letter" => lang.pick("公函", "letters"),
        "return" => lang.pick("日报", "daily returns"),
        "team" => lang.pick("专班", "team"),
        "plan" => lang.pick("计划", "plan"),
        "case" => lang.pick("立档", "case"),
        _ => lang.pick("其他", "other"),
    }
}

/// Stations a member on the case's team (its department by code or name, its role).
pub async fn station(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let input = bangfu_app::cases::NewTeamMember { title: fields.text("title"), department: fields.text("department"), role: fields.text("role"), user_id: None };
    let outcome = state.app.add_team_member(&user.actor, clock::now(), id, input).await.map(drop);
    after(&state, &user, id, "station", outcome).await
}

/// Releases a member from the case's team, with a reason.
pub async fn release(State(state): State<AppState>, user: PageUser, Path((id, member)): Path<(i64, i64)>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let outcome = state.app.release_team_member(&user.actor, clock::now(), id, member, &fields.text("reason")).await;
    after(&state, &user, id, "release", outcome).await
}

/// Moves a shipment of the case to its next state (运输中 → 已送达), with a traffic pass if given.
pub async fn move_shipment(State(state): State<AppState>, user: PageUser, Path((id, shipment)): Path<(i64, i64)>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let outcome = async {
        let to = bangfu_core::model::ShipmentStatus::parse(&fields.text("status")).map_err(|e| AppError::BadInput(format!("status: {e}")))?;
        state.app.move_shipment(&user.actor, clock::now(), id, shipment, to, fields.get("traffic_pass")).await.map(drop)
    }
    .await;
    after(&state, &user, id, "moved", outcome).await
}

/// Attaches an open need to a milestone of the plan, or detaches it (`action=detach`).
pub async fn plan_blocker(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let milestone = fields.text("milestone");
    let detach = fields.get("action") == Some("detach");
    let outcome = async {
        let need = fields.get("need_id").and_then(|n| n.parse::<i64>().ok()).ok_or_else(|| AppError::BadInput(format!("need_id: {}", user.t("请选择诉求", "choose a need"))))?;
        if detach {
            state.app.detach_blocker(&user.actor, clock::now(), id, &milestone, need).await.map(drop)
        } else {
            state.app.attach_blocker(&user.actor, clock::now(), id, &milestone, need).await.map(drop)
        }
    }
    .await;
    after(&state, &user, id, if detach { "detached" } else { "attached" }, outcome).await
}

/// Adds a milestone to the case's plan (name in Chinese and English, hours, the steps it waits
/// for), or removes one (`action=remove`, ticked to confirm).
pub async fn plan_milestone(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let remove = fields.get("action") == Some("remove");
    let outcome = async {
        if remove {
            if !fields.checked("confirm") {
                return Err(AppError::BadInput(format!("confirm: {}", user.t("请勾选确认删除此节点", "tick the box to confirm removing this milestone"))));
            }
            return state.app.remove_milestone(&user.actor, clock::now(), id, &fields.text("milestone")).await.map(drop);
        }
        let hours = fields.text("duration_h");
        let duration_h = hours
            .trim()
            .parse::<f64>()
            .map_err(|_| AppError::BadInput(format!("duration_h: {} {hours:?}", user.t("工期请填写小时数，如 48：", "give the duration in hours, such as 48:"))))?;
        let step = bangfu_app::plans::NewPlanStep {
            key: String::new(),
            name_zh: fields.text("name_zh"),
            name_en: fields.text("name_en"),
            duration_h,
            after: fields.all("after").into_iter().map(str::to_string).collect(),
        };
        state.app.add_milestone(&user.actor, clock::now(), id, step).await.map(drop)
    }
    .await;
    after(&state, &user, id, if remove { "milestone_removed" } else { "milestone_added" }, outcome).await
}
