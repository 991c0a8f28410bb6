//! The need page (`/needs/{id}`): the specification; the owner and why (the routing explanation
//! the app recorded); the candidates with lead time, distance, scope and every rejection reason in
//! words; the actions (broadcast, search the registry again, put a provider forward, select or
//! switch, start, resolve, cancel); letters, printable; a map. Every action is one call of the app.

use super::dashboard::short_name;
use super::form::Fields;
use super::map::{Link, Marker, MarkerKind, render as render_map};
use super::session::{PageUser, render_with};
use super::ui::{Lang, Ui, day, time, trim};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::{AppError, access};
use bangfu_core::model::{LetterStatus, NeedKind, NeedStatus, Scope};
use serde::Deserialize;
use serde_json::Value;

pub struct Requirement {
    pub name: String,
    pub value: String,
}

pub struct CandidateLine {
    pub id: i64,
    pub rank: String,
    pub provider: String,
    pub provider_id: i64,
    pub place: String,
    pub feasible: bool,
    pub lead_time: String,
    pub breakdown: String,
    pub distance: String,
    pub scope: String,
    pub owner: String,
    pub status: String,
    pub status_class: String,
    pub explanation: String,
    pub reasons: Vec<String>,
    /// "select", "switch" or "" (no button).
    pub action: &'static str,
    /// For a switch: what it saves against the provider selected now, in words.
    pub saves: String,
    /// The provider's last answer in words (accept, decline, quote), or "".
    pub answer: String,
    pub answer_class: String,
}

pub struct CommentView {
    pub author: String,
    pub at: String,
    pub text: String,
}

pub struct AttachmentView {
    pub id: i64,
    pub filename: String,
    pub size: String,
    pub author: String,
    pub at: String,
}

pub struct LetterView {
    pub id: i64,
    pub number: String,
    pub subject: String,
    pub status: String,
    /// draft, sent or acknowledged.
    pub state: String,
    pub recipients: Vec<String>,
    pub body: String,
    pub created: String,
    /// Whether the viewer may move it on (its sender sends, an addressee acknowledges).
    pub can_move: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "need.html")]
struct NeedPage {
    ui: Ui,
    /// The provider's own part of the lead time for this kind: 灭菌, 分切, 检验, 备货.
    work: String,
    /// The need's events and its letters', oldest first, a page at a time.
    history: Vec<super::events::EventView>,
    history_pager: super::pager::Pager,
    history_total: i64,
    id: i64,
    case_id: i64,
    enterprise: String,
    title: String,
    kind: String,
    status: String,
    status_class: String,
    quantity: String,
    specification: String,
    requirements: Vec<Requirement>,
    deadline: String,
    reported: String,
    owner: String,
    owner_tier: String,
    scope: String,
    why: String,
    reached_owner: String,
    letter_to: String,
    supervised: bool,
    candidates: Vec<CandidateLine>,
    rejected_count: usize,
    /// "已筛查 100,000 家：可行 37 家，距离过远 12,345 家……", empty when never screened.
    screened: String,
    registry_kind: bool,
    can_decide: bool,
    can_propose: bool,
    open: bool,
    rings: Vec<Choice>,
    proposable: Vec<Choice>,
    letters: Vec<LetterView>,
    flash: String,
    error: String,
    map: String,
    /// The plan it holds back, and where first output moves if it resolves at another time.
    what_if: Option<super::what_if::WhatIfSection>,
    /// The messages sent out about the need (issue 15) and whether this user may retry one.
    deliveries: Vec<super::outbox::DeliveryView>,
    /// What the reader may do beside deciding (issue 16).
    rights: bangfu_app::participation::ParticipationRights,
    /// The reader's provider's last answer, in words ("" if none).
    my_answer: String,
    comments: Vec<CommentView>,
    attachments: Vec<AttachmentView>,
    /// When the enterprise confirmed it solved ("" if not).
    confirmed: String,
    closed: bool,
    resolved: bool,
    withdrawable: bool,
    /// The need as it stands, for the edit form.
    edit_title: String,
    edit_specification: String,
    edit_quantity: String,
    edit_unit: String,
    edit_deadline: String,
    edit_fields: Vec<EditField>,
    max_attachment_mb: usize,
}

/// One requirement of the need's kind in the edit form.
pub struct EditField {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    /// "number", "text" or "methods" (check boxes).
    pub input: &'static str,
    pub choices: Vec<Check>,
}

/// A check box of a form: its value, its label, whether it is ticked.
pub struct Check {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct LetterPage {
    ui: Ui,
    need_id: i64,
    letter_id: i64,
    need_title: String,
    status: String,
    sender: String,
    recipients: Vec<String>,
    css: &'static str,
    sheet: super::letter_sheet::Sheet,
    reply: Option<(String, String, String)>,
    can_edit: bool,
    can_acknowledge: bool,
    /// The draft's fields, for the edit form.
    edit_subject: String,
    edit_paragraphs: String,
    edit_contact_name: String,
    edit_contact_phone: String,
    edit_cc: String,
    flash: String,
    error: String,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    /// The time of the what-if: 2020-02-10T08:00 at UTC+8.
    what_if: Option<String>,
    /// The history's page starts after this event (the pager's next).
    history_after: Option<i64>,
}

/// A requirement attribute in words.
fn requirement(name: &str, value: &Value, lang: Lang) -> Requirement {
    let label = match name {
        "input_width_m" => lang.pick("来料幅宽", "input width"),
        "output_width_m" => lang.pick("所需幅宽（以下）", "output width (at most)"),
        "methods" => lang.pick("可接受的灭菌方式", "sterilisation methods allowed"),
        "standard" => lang.pick("检验标准", "standard"),
        "material" => lang.pick("材料", "material"),
        "item" => lang.pick("设备", "item"),
        "skill" => lang.pick("工种", "skill"),
        other => other,
    };
    let method = |code: &str| {
        bangfu_core::capability::SterilisationMethod::parse(code).map_or_else(|_| code.to_string(), |m| lang.pick(m.label_zh(), m.label_en()).to_string())
    };
    let value = match value {
        Value::Number(n) if name.ends_with("_m") => format!("{} m", n.as_f64().map_or_else(|| n.to_string(), trim)),
        Value::String(s) if name == "methods" => method(s),
        Value::String(s) => s.clone(),
        Value::Array(items) if name == "methods" => items.iter().filter_map(Value::as_str).map(method).collect::<Vec<_>>().join(lang.pick("、", ", ")),
        Value::Array(items) => items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string)).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    Requirement { name: label.to_string(), value }
}

fn flash_of(done: Option<&str>, lang: Lang) -> String {
    let text = match done {
        Some("select") => lang.pick("已选定提供方，责任部门已按其所在地重新确定。", "Provider selected; the owner was re-derived from where it lies."),
        Some("switch") => lang.pick("已改选提供方。", "Switched to the new provider."),
        Some("broadcast") => lang.pick("协查请求已发出。", "Request for help broadcast."),
        Some("source") => lang.pick("已重新检索能力登记库。", "Registry searched again."),
        Some("propose") => lang.pick("候选已筛查并记录。", "Candidate screened and recorded."),
        Some("start") => lang.pick("已开始办理。", "Work started."),
        Some("resolve") => lang.pick("诉求已解决。", "Need resolved."),
        Some("cancel") => lang.pick("诉求已撤销。", "Need cancelled."),
        Some("reported") => lang.pick("诉求已登记并完成路由。", "Need reported and routed."),
        Some("escalate") => lang.pick("诉求已上报上一级（或已提请督办），新的责任部门已收到通知。", "Need escalated (or flagged for supervision); the new owner has been notified."),
        Some("letter-sent") => lang.pick("公函已标记为发出。", "Letter marked as sent."),
        Some("letter-acknowledged") => lang.pick("公函已标记为已回复。", "Letter marked as acknowledged."),
        Some("respond") => lang.pick("答复已送达责任部门。", "Your answer has reached the owner department."),
        Some("comment") => lang.pick("留言已发布。", "Comment posted."),
        Some("attach") => lang.pick("材料已上传。", "Document attached."),
        Some("confirm") => lang.pick("已确认诉求解决，谢谢。", "Confirmed solved — thank you."),
        Some("reopen") => lang.pick("诉求已重新打开，责任部门已收到通知。", "Need reopened; the owner department has been notified."),
        Some("withdraw") => lang.pick("诉求已撤回。", "Need withdrawn."),
        Some("edit") => lang.pick("诉求已修改；如规格有变，请重新检索登记库。", "Need edited; if its requirements changed, search the registry again."),
        _ => "",
    };
    text.to_string()
}

pub async fn show(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, Query(query): Query<DoneQuery>) -> Response {
    let flash = flash_of(query.done.as_deref(), user.lang);
    // Opening a need of one's inbox reads it (a provider's or an enterprise's unread mark).
    if let Err(e @ (AppError::NotFound(_) | AppError::Internal(_))) = state.app.mark_inbox_read(&user.actor, clock::now(), id).await {
        return user.fail(&state, e);
    }
    let what_if_at = query.what_if.as_deref().and_then(super::what_if::parse_time);
    need_page(&state, &user, id, flash, String::new(), StatusCode::OK, Shown { what_if_at, history_after: query.history_after }).await
}

/// What a need page shows beside the need: the what-if at a time, and where its history starts.
#[derive(Clone, Copy, Debug, Default)]
struct Shown {
    what_if_at: Option<chrono::DateTime<chrono::Utc>>,
    history_after: Option<i64>,
}

fn letter_view(l: &bangfu_store::LetterRow, lang: Lang, can_move: bool) -> LetterView {
    let recipients = l.recipients.iter().map(|r| lang.pick(&r.name.zh, &r.name.en).to_string()).collect();
    LetterView {
        id: l.id,
        number: l.number.clone(),
        subject: l.subject.clone(),
        status: lang.letter_status(&l.status),
        state: l.status.as_str().to_string(),
        recipients,
        body: lang.pick(&l.body_zh, &l.body_en).to_string(),
        created: day(l.created_at),
        can_move,
    }
}

async fn need_page(
    state: &AppState,
    user: &PageUser,
    id: i64,
    flash: String,
    error: String,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let Shown { what_if_at, history_after } = shown;
    let lang = user.lang;
    let app = &state.app;
    let tree = app.tree();
    let detail = match app.need_detail(&user.actor, id).await {
        Ok(d) => d,
        Err(e) => return user.fail(state, e),
    };
    let need = &detail.need;
    let need_status = need.status;
    let rights = access::need_rights(tree, &user.actor, need);
    let choosable = matches!(need_status, NeedStatus::Open | NeedStatus::Selected);
    let kind = Some(need.kind);
    let registry_kind = kind.is_some_and(NeedKind::has_capabilities);

    let requires = Value::Object(need.requires.clone());
    let mut requirements: Vec<Requirement> = requires.as_object().map(|m| m.iter().map(|(k, v)| requirement(k, v, lang)).collect()).unwrap_or_default();
    if let Some(km) = need.max_distance_km {
        requirements.push(Requirement { name: lang.pick("最远距离", "maximum distance").into(), value: lang.km(km) });
    }
    if let Some(h) = need.max_lead_time_h {
        requirements.push(Requirement { name: lang.pick("最长用时", "maximum lead time").into(), value: lang.hours(h) });
    }

    let mut rank = 0;
    let candidates: Vec<CandidateLine> = detail
        .candidates
        .iter()
        .map(|(c, p)| {
            let feasible = c.feasible;
            if feasible {
                rank += 1;
            }
            let reasons: Vec<String> = c.reasons.iter().map(|r| lang.pick(&r.text.zh, &r.text.en).to_string()).collect();
            let selected = need.selected_candidate == Some(c.id);
            let work = bangfu_core::screening::work_words(need.kind);
            let answer = detail.participation.responses.iter().rfind(|r| r.provider_id == p.id);
            let current = need.selected_candidate.and_then(|s| detail.candidates.iter().find(|(x, _)| x.id == s)).map(|(x, _)| x);
            let saves = match current {
                Some(current) if current.id != c.id && feasible => {
                    let (h, km) = (current.lead_time_h - c.lead_time_h, current.road_km - c.road_km);
                    let faster = if h >= 0.0 { lang.pick("快", "faster by") } else { lang.pick("慢", "slower by") };
                    let nearer = if km >= 0.0 { lang.pick("近", "nearer by") } else { lang.pick("远", "farther by") };
                    match lang {
                        Lang::Zh => format!("比现选{faster} {}、{nearer} {}", lang.hours(h.abs()), lang.km(km.abs())),
                        Lang::En => format!("{faster} {} and {nearer} {} than the one selected", lang.hours(h.abs()), lang.km(km.abs())),
                    }
                }
                _ => String::new(),
            };
            let action = if !rights.decide || !choosable || !feasible || selected {
                ""
            } else if need.selected_candidate.is_some() {
                "switch"
            } else {
                "select"
            };
            CandidateLine {
                id: c.id,
                rank: if feasible { rank.to_string() } else { "—".into() },
                provider: p.name.clone(),
                provider_id: p.id,
                place: tree.full_name(p.region),
                feasible,
                lead_time: if feasible || c.lead_time_h > 0.0 { lang.hours(c.lead_time_h) } else { "—".into() },
                breakdown: if feasible {
                    match lang {
                        Lang::Zh => format!("运输 {} + {} {}", lang.hours(c.travel_h), work.0, lang.hours(c.processing_h)),
                        Lang::En => format!("{} travel + {} {}", lang.hours(c.travel_h), lang.hours(c.processing_h), work.1),
                    }
                } else {
                    String::new()
                },
                distance: lang.km(c.road_km),
                scope: lang.scope(&c.scope),
                owner: lang.department(tree, &c.owner),
                status: lang.candidate_status(c.status),
                status_class: c.status.as_str().to_string(),
                explanation: lang.pick(&c.explanation_zh, &c.explanation_en).to_string(),
                reasons,
                action,
                saves,
                answer: answer.map(|a| super::inbox::answer_words(a, &need.unit, lang)).unwrap_or_default(),
                answer_class: answer.map(|a| a.answer.as_str().to_string()).unwrap_or_default(),
            }
        })
        .collect();
    let rejected_count = candidates.iter().filter(|c| !c.feasible).count();

    // The providers of the need's kind nearest to the enterprise, not yet recorded for it, for
    // an officer to put forward (a bounded list, whatever the registry's size).
    let mut proposable = Vec::new();
    if rights.propose
        && choosable
        && registry_kind
        && let (kind, Some(lon), Some(lat)) = (need.kind, detail.enterprise.lon, detail.enterprise.lat)
        && let Ok(at) = bangfu_core::travel::LonLat::new(lon, lat)
        && let Ok(list) = app.nearest_providers(kind, at, PROPOSABLE + detail.candidates.len()).await
    {
        proposable = list
            .into_iter()
            .filter(|(id, _)| !detail.candidates.iter().any(|(_, cp)| cp.id == *id))
            .take(PROPOSABLE)
            .map(|(id, name)| Choice { value: id.to_string(), label: name })
            .collect();
    }
    let rings = [Scope::City, Scope::Province, Scope::National].iter().map(|s| Choice { value: s.as_str().into(), label: lang.label(s.label()).into() }).collect();

    let mut markers = Vec::new();
    let mut links = Vec::new();
    if let (Some(lon), Some(lat)) = (detail.enterprise.lon, detail.enterprise.lat) {
        markers.push(Marker { lon, lat, label: detail.enterprise.name.clone(), kind: MarkerKind::Enterprise });
        for (c, p) in &detail.candidates {
            let (Some(lon), Some(lat)) = (p.lon, p.lat) else { continue };
            let kind = if need.selected_candidate == Some(c.id) {
                MarkerKind::Selected
            } else if c.feasible {
                MarkerKind::Candidate
            } else {
                MarkerKind::Rejected
            };
            let label = if c.feasible { format!("{}（{}）", short_name(&p.name), lang.hours(c.lead_time_h)) } else { short_name(&p.name) };
            links.push(Link { from: 0, to: markers.len() });
            markers.push(Marker { lon, lat, label, kind });
        }
    }
    let map = render_map(tree, &markers, &links, lang.pick("企业与候选提供方示意图", "The enterprise and the candidate providers"), lang);

    let p = &detail.participation;
    let my_answer = user
        .actor
        .provider_id
        .and_then(|own| p.responses.iter().rfind(|r| r.provider_id == own))
        .map(|a| super::inbox::answer_words(a, &need.unit, lang))
        .unwrap_or_default();
    let comments = p.comments.iter().map(|c| CommentView { author: c.author.clone(), at: time(c.created_at), text: c.text.clone() }).collect();
    let attachments = p
        .attachments
        .iter()
        .map(|a| AttachmentView { id: a.id, filename: a.filename.clone(), size: size_words(a.size_bytes), author: a.author.clone(), at: time(a.created_at) })
        .collect();
    let edit_fields = edit_fields(kind, &requires, lang);
    let what_if = if need_status.is_closed() { None } else { super::what_if::section(app, &user.actor, id, what_if_at, clock::now(), lang).await };
    let ui = user.ui(state, "case", need.title.clone());
    let deliveries = match app.need_deliveries(&user.actor, id).await {
        Ok(lines) => {
            let may_retry = user.actor.role == bangfu_core::model::Role::Admin;
            let may_retry_own = |department: &Option<bangfu_core::region::RegionCode>| {
                user.actor.role == bangfu_core::model::Role::Officer && user.actor.department.map(|d| tree.department_region(d)) == *department
            };
            let mut views = super::outbox::delivery_views(&lines, lang, may_retry);
            for (view, line) in views.iter_mut().zip(&lines) {
                view.can_retry = view.can_retry || (line.message.status != bangfu_core::outbox::MessageStatus::Sent && may_retry_own(&line.message.department));
            }
            views
        }
        Err(e) => return user.fail(state, e),
    };
    // The need's own history, a page at a time (issue 13).
    let request = bangfu_store::PageRequest { after: history_after, limit: bangfu_app::views::DEFAULT_PAGE };
    let (history, history_total) = match app.need_history(&user.actor, id, request).await {
        Ok(listed) => listed,
        Err(e) => return user.fail(state, e),
    };
    let history_pager = super::pager::Pager::new(lang, &format!("/needs/{id}"), &[], "history_after", history_after, &history, history_total);
    let history_rows = history;
    let history = &history_rows;
    let titles: std::collections::BTreeMap<i64, String> = [(need.id, need.title.clone())].into_iter().collect();
    let mut history: Vec<super::events::EventView> = history.items.iter().map(|e| super::events::describe(e, lang, tree, &titles)).collect();
    let rows: Vec<&bangfu_store::EventRow> = history_rows.items.iter().collect();
    super::events::name_actors(app, &mut history, &rows, lang).await;
    let work = bangfu_core::screening::work_words(need.kind);
    let page = NeedPage {
        work: lang.pick(work.0, work.1).to_string(),
        history,
        history_pager,
        history_total,
        ui,
        id,
        case_id: need.case_id,
        enterprise: detail.enterprise.name.clone(),
        title: need.title.clone(),
        kind: lang.kind(&need.kind),
        status: lang.need_status(&need.status),
        status_class: need.status.as_str().to_string(),
        quantity: lang.amount(need.quantity, &need.unit),
        specification: need.specification.clone(),
        requirements,
        deadline: need.deadline.map(time).unwrap_or_default(),
        reported: time(need.created_at),
        owner: lang.department(tree, &need.owner),
        owner_tier: lang.tier(&need.owner_tier),
        scope: lang.scope(&need.scope),
        why: lang.pick(&need.route_zh, &need.route_en).to_string(),
        reached_owner: time(need.reached_owner_at),
        letter_to: need.letter_to.map(|l| lang.department(tree, &l)).unwrap_or_default(),
        supervised: need.supervised,
        candidates,
        rejected_count,
        screened: detail.screening.as_ref().map(|s| screening_summary(s, lang)).unwrap_or_default(),
        registry_kind,
        can_decide: rights.decide,
        can_propose: rights.propose,
        open: !need_status.is_closed(),
        rings,
        proposable,
        letters: detail.letters.iter().map(|l| letter_view(l, lang, access::may_move_letter(tree, &user.actor, l))).collect(),
        flash,
        error,
        map,
        what_if,
        deliveries,
        rights: p.rights,
        my_answer,
        comments,
        attachments,
        confirmed: p.confirmation.as_ref().map(|c| time(c.confirmed_at)).unwrap_or_default(),
        closed: need_status.is_closed(),
        resolved: need_status == NeedStatus::Resolved,
        withdrawable: p.rights.withdraw && matches!(need_status, NeedStatus::Open | NeedStatus::Selected),
        edit_title: need.title.clone(),
        edit_specification: need.specification.clone(),
        edit_quantity: need.quantity.to_string(),
        edit_unit: need.unit.clone(),
        edit_deadline: need.deadline.map(|d| time(d).replace(' ', "T")).unwrap_or_default(),
        edit_fields,
        max_attachment_mb: bangfu_app::participation::MAX_ATTACHMENT_BYTES / 1024 / 1024,
    };
    render_with(status, &page)
}

/// One action on a need, posted from its page; then back to the page.
pub async fn act(State(state): State<AppState>, user: PageUser, Path((id, action)): Path<(i64, String)>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let app = &state.app;
    let now = clock::now();
    let actor = &user.actor;
    let id_field = |name: &str| fields.get(name).and_then(|v| v.parse::<i64>().ok());
    let note = fields.text("note");
    let outcome: Result<(), AppError> = match action.as_str() {
        "select" => match id_field("candidate_id") {
            Some(candidate) => app.select_candidate(actor, now, id, candidate).await.map(drop),
            None => Err(AppError::BadInput(user.t("请选择一个候选", "choose a candidate").into())),
        },
        "switch" => match id_field("candidate_id") {
            Some(candidate) => app.switch_candidate(actor, now, id, candidate, &fields.text("reason")).await.map(drop),
            None => Err(AppError::BadInput(user.t("请选择一个候选", "choose a candidate").into())),
        },
        "broadcast" => match fields.get("ring").map(Scope::parse) {
            Some(Ok(ring)) => app.broadcast_need(actor, now, id, ring).await.map(drop),
            _ => Err(AppError::BadInput(user.t("请选择协查范围", "choose how far to broadcast").into())),
        },
        "source" => app.source_need(actor, now, id).await.map(drop),
        "accept-allocation" => match id_field("provider_id") {
            Some(provider) => app.accept_allocation(actor, now, id, provider).await.map(drop),
            None => Err(AppError::BadInput(user.t("请选择一个提供方", "choose a provider").into())),
        },
        "reject-allocation" => app.reject_allocation(actor, now, id, id_field("provider_id"), &fields.text("reason")).await,
        "propose" => match id_field("provider_id") {
            Some(provider) => app.propose_candidate(actor, now, id, provider).await.map(drop),
            None => Err(AppError::BadInput(user.t("请选择一个提供方", "choose a provider").into())),
        },
        "start" => app.set_need_status(actor, now, id, NeedStatus::Started, &note).await.map(drop),
        // Closing asks for a reason and a tick that says the officer means it.
        "resolve" | "cancel" if note.is_empty() || !fields.checked("confirm") => {
            Err(AppError::BadInput(user.t("请填写理由并勾选确认后再提交", "give a reason and tick the confirmation first").into()))
        }
        "resolve" => app.set_need_status(actor, now, id, NeedStatus::Resolved, &note).await.map(drop),
        "cancel" => app.set_need_status(actor, now, id, NeedStatus::Cancelled, &note).await.map(drop),
        "escalate" => app.escalate_need(actor, now, id, &fields.text("reason")).await.map(drop),
        "respond" => {
            let number = |name: &str| -> Result<Option<f64>, AppError> {
                fields.get(name).map(|v| v.replace([',', '，'], "").parse::<f64>().map_err(|_| AppError::BadInput(format!("{name}: {}", user.t("请填写数字", "write a number"))))).transpose()
            };
            let deliver_by = match fields.get("deliver_by") {
                Some(text) => match super::enterprise::china_time(text) {
                    Some(t) => Some(t),
                    None => return need_error(&state, &user, id, user.t("最早交付时间请按 2020-02-10 18:00 的格式填写（北京时间）", "write the earliest delivery as 2020-02-10 18:00 (China time)").into()).await,
                },
                None => None,
            };
            match (number("quantity"), number("price")) {
                (Ok(quantity), Ok(price)) => {
                    let response = bangfu_app::participation::NewResponse { answer: fields.text("answer"), note, quantity, price, deliver_by };
                    app.respond_to_need(actor, now, id, response).await.map(drop)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        "comment" => app.comment_on_need(actor, now, id, &fields.text("text")).await.map(drop),
        "confirm" => app.confirm_need(actor, now, id).await.map(drop),
        "reopen" => app.reopen_need(actor, now, id, &fields.text("reason")).await.map(drop),
        "withdraw" => app.withdraw_need(actor, now, id, &fields.text("reason")).await.map(drop),
        "edit" => match edited_need(&fields, user.lang) {
            Ok(edit) => app.edit_need(actor, now, id, edit).await.map(drop),
            Err(message) => Err(AppError::BadInput(message)),
        },
        "letter-sent" | "letter-acknowledged" => {
            let status = if action == "letter-sent" { LetterStatus::Sent } else { LetterStatus::Acknowledged };
            match id_field("letter_id") {
                // Only a letter of this need: another need's letter is not found here.
                Some(letter) => match app.letter(actor, letter).await {
                    Ok(detail) if detail.need.id == id => app.set_letter_status(actor, now, letter, status, &note).await.map(drop),
                    Ok(_) => Err(AppError::NotFound(format!("letter {letter}"))),
                    Err(e) => Err(e),
                },
                None => Err(AppError::BadInput(user.t("请选择一封公函", "choose a letter").into())),
            }
        }
        _ => Err(AppError::NotFound(format!("action {action}"))),
    };
    match outcome {
        // An allocation's proposal goes back to the allocation it came from.
        Ok(()) if action.ends_with("-allocation") && fields.get("back").is_some() => {
            Redirect::to(&super::session::local_target(fields.get("back"))).into_response()
        }
        Ok(()) => Redirect::to(&format!("/needs/{id}?done={action}")).into_response(),
        Err(e @ (AppError::NotFound(_) | AppError::Internal(_) | AppError::Unauthorized(_))) => user.fail(&state, e),
        Err(e) => {
            let status = crate::Problem::from(AppError::BadInput(String::new())).status;
            let status = match e {
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => status,
            };
            need_page(&state, &user, id, String::new(), super::ui::localise(&e.to_string(), user.lang), status, Shown::default()).await
        }
    }
}

/// The need's page again with `message` as its error (422).
async fn need_error(state: &AppState, user: &PageUser, id: i64, message: String) -> Response {
    need_page(state, user, id, String::new(), message, StatusCode::UNPROCESSABLE_ENTITY, Shown::default()).await
}

/// The edit form's fields as the app takes them (the kind stays the need's).
fn edited_need(fields: &Fields, lang: Lang) -> Result<bangfu_app::needs::NewNeed, String> {
    let number = |name: &str| -> Result<Option<f64>, String> {
        fields.get(name).map(|v| v.replace([',', '，'], "").parse::<f64>().map_err(|_| format!("{name}: {}", lang.pick("请填写数字", "write a number")))).transpose()
    };
    let deadline = match fields.get("deadline") {
        Some(text) => Some(super::enterprise::china_time(text).ok_or_else(|| format!("deadline: {}", lang.pick("请按 2020-02-10 18:00 的格式填写（北京时间）", "write it as 2020-02-10 18:00 (China time)")))?),
        None => None,
    };
    let mut requires = serde_json::Map::new();
    for name in ["input_width_m", "output_width_m"] {
        if let Some(value) = number(name)? {
            requires.insert(name.into(), serde_json::json!(value));
        }
    }
    let methods = fields.all("methods");
    if !methods.is_empty() {
        requires.insert("methods".into(), serde_json::json!(methods));
    }
    for name in ["standard", "material", "item", "skill"] {
        if let Some(value) = fields.get(name) {
            requires.insert(name.into(), serde_json::json!(value));
        }
    }
    Ok(bangfu_app::needs::NewNeed {
        title: fields.text("title"),
        specification: fields.text("specification"),
        quantity: number("quantity")?.unwrap_or(0.0),
        unit: fields.text("unit"),
        requires: Value::Object(requires),
        deadline,
        max_distance_km: number("max_distance_km")?,
        max_lead_time_h: number("max_lead_time_h")?,
        ..Default::default()
    })
}

/// The requirement fields of a kind for the edit form, filled with the need's values.
fn edit_fields(kind: Option<NeedKind>, requires: &Value, lang: Lang) -> Vec<EditField> {
    let Some(names) = kind.and_then(bangfu_core::capability::Requirement::attribute_names) else { return Vec::new() };
    names
        .iter()
        .map(|name| {
            let (zh, en) = bangfu_core::capability::attribute_label(name);
            let current = requires.get(*name);
            let (input, value, choices) = if *name == "methods" {
                let chosen: Vec<&str> = current.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                let choices = bangfu_core::capability::SterilisationMethod::ALL
                    .iter()
                    .map(|m| Check { value: m.as_str().to_string(), label: lang.pick(m.label_zh(), m.label_en()).to_string(), checked: chosen.contains(&m.as_str()) })
                    .collect();
                ("methods", String::new(), choices)
            } else if name.ends_with("_m") {
                ("number", current.and_then(Value::as_f64).map(|v| v.to_string()).unwrap_or_default(), Vec::new())
            } else {
                ("text", current.and_then(Value::as_str).unwrap_or_default().to_string(), Vec::new())
            };
            EditField { name, label: lang.pick(zh, en).to_string(), value, input, choices }
        })
        .collect()
}

/// A file's size in words: 12 KB, 1.5 MB.
fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 { format!("{} MB", trim(bytes as f64 / 1024.0 / 1024.0)) } else { format!("{} KB", (bytes + 1023) / 1024) }
}

/// A document uploaded from the need's page (multipart: csrf, file).
pub async fn attach(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, mut multipart: axum::extract::Multipart) -> Response {
    let (mut csrf, mut file, mut filename) = (String::new(), Vec::new(), String::new());
    let mut failed = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let uploaded = field.file_name().unwrap_or_default().to_string();
                match field.bytes().await {
                    Ok(bytes) if name == "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    Ok(bytes) if name == "file" => (file, filename) = (bytes.to_vec(), uploaded),
                    Ok(_) => {}
                    Err(e) => failed = Some(e.to_string()),
                }
            }
            Ok(None) => break,
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        }
    }
    if let Err(refused) = user.check_csrf(&state, &Fields(vec![("csrf".into(), csrf)])) {
        return refused;
    }
    if let Some(e) = failed {
        return need_error(&state, &user, id, format!("{}: {e}", user.t("上传失败", "the upload failed"))).await;
    }
    match state.app.attach_to_need(&user.actor, clock::now(), id, &filename, &file).await {
        Ok(_) => Redirect::to(&format!("/needs/{id}?done=attach#discussion")).into_response(),
        Err(AppError::BadInput(message)) => need_error(&state, &user, id, super::ui::localise(&message, user.lang)).await,
        Err(AppError::Forbidden(message)) => need_page(&state, &user, id, String::new(), message, StatusCode::FORBIDDEN, Shown::default()).await,
        Err(e) => user.fail(&state, e),
    }
}

/// An attached document, for whoever reads the need's discussion.
pub async fn attachment(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>) -> Response {
    match state.app.attachment(&user.actor, id).await {
        Ok((row, content)) => crate::api::attachment_response(&row, content),
        Err(e) => user.fail(&state, e),
    }
}

/// A letter of the need, alone on a page made for printing: number, subject, salutation,
/// paragraphs, signature and date as the app split them (`App::letter`).
#[derive(Debug, Default, Deserialize)]
pub struct LetterQuery {
    done: Option<String>,
}

/// The letter of need `id`, or not found (another need's letter is not found here).
async fn letter_of(state: &AppState, user: &PageUser, id: i64, letter_id: i64) -> Result<bangfu_app::letters::LetterDetail, AppError> {
    match state.app.letter(&user.actor, letter_id).await {
        Ok(d) if d.need.id == id => Ok(d),
        Ok(_) => Err(AppError::NotFound(format!("letter {letter_id}"))),
        Err(e) => Err(e),
    }
}

/// The letter's printable page: the sheet per GB/T 9704-2012 (信函格式), its PDF, the draft's
/// edit form for its sender, and the reply form for its addressees.
pub async fn letter(State(state): State<AppState>, user: PageUser, Path((id, letter_id)): Path<(i64, i64)>, Query(query): Query<LetterQuery>) -> Response {
    let flash = match query.done.as_deref() {
        Some("edited") => user.t("草稿已保存。", "Draft saved.").to_string(),
        Some("acknowledged") => user.t("已登记回复。", "Reply recorded.").to_string(),
        _ => String::new(),
    };
    letter_page(&state, &user, id, letter_id, flash, String::new(), StatusCode::OK).await
}

async fn letter_page(state: &AppState, user: &PageUser, id: i64, letter_id: i64, flash: String, error: String, status_code: StatusCode) -> Response {
    let lang = user.lang;
    let detail = match letter_of(state, user, id, letter_id).await {
        Ok(d) => d,
        Err(e) => return user.fail(state, e),
    };
    let view = letter_view(&detail.letter, lang, false);
    let sheet = super::letter_sheet::Sheet::of(&detail);
    let recipients = detail.recipients.iter().map(|r| lang.pick(&r.name.zh, &r.name.en).to_string()).collect();
    let tree = state.app.tree();
    let l = &detail.letter;
    let can_edit = l.status == LetterStatus::Draft && access::may_send_letter(tree, &user.actor, l);
    let can_acknowledge = l.status == LetterStatus::Sent && access::may_acknowledge_letter(tree, &user.actor, l);
    let body: Vec<String> = detail.zh.as_ref().map(|p| p.paragraphs.iter().filter(|x| x.as_str() != "妥否，请函复。" && !x.starts_with("（联系人：")).cloned().collect()).unwrap_or_default();
    let reply = l.reply_number.as_ref().map(|n| (n.clone(), l.reply_date.clone().unwrap_or_default(), l.reply_text.clone().unwrap_or_default()));
    let ui = user.ui(state, "case", format!("{} {}", view.number, view.subject));
    render_with(
        status_code,
        &LetterPage {
            ui,
            need_id: id,
            letter_id,
            need_title: detail.need.title.clone(),
            status: view.status,
            sender: lang.pick(&detail.sender.name.zh, &detail.sender.name.en).to_string(),
            recipients,
            css: super::letter_sheet::LETTER_CSS,
            edit_subject: sheet.subject.clone(),
            edit_paragraphs: body.join("\n"),
            edit_contact_name: l.contact_name.clone(),
            edit_contact_phone: l.contact_phone.clone(),
            edit_cc: l.cc.join("、"),
            sheet,
            reply,
            can_edit,
            can_acknowledge,
            flash,
            error,
        },
    )
}

/// Edits the draft (`action=edit`) or records the reply that acknowledges it (`action=acknowledge`).
pub async fn letter_act(State(state): State<AppState>, user: PageUser, Path((id, letter_id)): Path<(i64, i64)>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    if let Err(e) = letter_of(&state, &user, id, letter_id).await {
        return user.fail(&state, e);
    }
    let now = clock::now();
    let (done, result) = match fields.text("action").as_str() {
        "edit" => {
            let split = |text: String| text.split(['、', ',', '，', '\n']).map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect::<Vec<_>>();
            let edit = bangfu_app::letters::LetterEdit {
                subject: fields.text("subject"),
                paragraphs: fields.text("paragraphs").lines().map(str::to_string).collect(),
                contact_name: fields.text("contact_name"),
                contact_phone: fields.text("contact_phone"),
                cc: split(fields.text("cc")),
            };
            ("edited", state.app.edit_letter(&user.actor, now, letter_id, edit).await)
        }
        "acknowledge" => {
            let reply = bangfu_app::letters::LetterReply { number: fields.text("reply_number"), date: fields.text("reply_date"), text: fields.text("reply_text") };
            ("acknowledged", state.app.acknowledge_letter(&user.actor, now, letter_id, reply, &fields.text("note")).await)
        }
        other => ("", Err(AppError::BadInput(format!("action: {other:?} — edit or acknowledge")))),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/needs/{id}/letters/{letter_id}?done={done}")).into_response(),
        Err(AppError::BadInput(message) | AppError::Conflict(message)) => letter_page(&state, &user, id, letter_id, String::new(), message, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e) => user.fail(&state, e),
    }
}

/// The letter as a PDF (printed by Chromium from the same sheet).
pub async fn letter_pdf(State(state): State<AppState>, user: PageUser, Path((id, letter_id)): Path<(i64, i64)>) -> Response {
    let detail = match letter_of(&state, &user, id, letter_id).await {
        Ok(d) => d,
        Err(e) => return user.fail(&state, e),
    };
    match state.settings.printer.pdf(&super::letter_sheet::print_document(&detail)).await {
        Ok(pdf) => super::letter_sheet::pdf_response(&detail, pdf),
        Err(e) => user.fail(&state, AppError::internal("printing a letter", &e)),
    }
}

/// How many of the nearest providers the need page offers to put forward by hand.
const PROPOSABLE: usize = 50;

/// One sentence on everything a screening looked at, in the page's language.
fn screening_summary(s: &bangfu_store::ScreeningRow, lang: Lang) -> String {
    let count = |n: i64| group_thousands(n);
    let reasons = [
        (s.too_far, "距离过远", "too far"),
        (s.too_slow, "用时过长", "too slow"),
        (s.spec_mismatch, "规格不符", "not to specification"),
        (s.insufficient_capacity, "数量不足", "not enough"),
        (s.unavailable, "暂不可用", "unavailable"),
    ];
    let mut zh = format!("已筛查同类能力 {} 项：可行 {} 项", count(s.screened), count(s.feasible));
    let mut en = format!("Screened {}: {} feasible", count(s.screened), count(s.feasible));
    for (n, reason_zh, reason_en) in reasons.iter().filter(|(n, ..)| *n > 0) {
        zh.push_str(&format!("，{reason_zh} {} 项", count(*n)));
        en.push_str(&format!(", {} {reason_en}", count(*n)));
    }
    zh.push_str("。下表列出最优候选，及每种原因中距离最近的被排除者。");
    en.push_str(". Below: the best candidates, and for each reason the nearest rejected.");
    lang.pick(&zh, &en).to_string()
}

/// 12345 → "12,345".
fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}
