//! Notifications where officials work (issue 15), as pages: `/channels` lists the channels the
//! user keeps — a department's 企业微信 / 钉钉 robots, e-mail and webhooks, their URLs without
//! keys and secrets only as "set" — with a form to add one; `/outbox` shows administrators every
//! message sent out and what became of it, with a button to put one back in line; and each
//! need's page shows its own messages (the delivery log, `delivery_views`).

use super::form::Fields;
use super::session::{PageUser, render};
use super::ui::{Lang, time};
use crate::edges::see_other;
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use bangfu_app::outbox::{ChannelView, DeliveryLine, NewChannel};
use bangfu_core::model::Role;
use bangfu_core::outbox::{AttemptOutcome, ChannelKind, EventKind, MessageStatus};
use serde::Deserialize;

/// One message in a delivery log.
pub struct DeliveryView {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub attempts: i64,
    pub created: String,
    /// When it was sent, or when it is tried next, or nothing (dead).
    pub when: String,
    pub error: String,
    /// Each attempt: time, outcome, error.
    pub log: Vec<String>,
    pub can_retry: bool,
}

fn event_label(event: &str, lang: Lang) -> String {
    match EventKind::parse(event) {
        Ok(kind) => lang.pick(kind.label_zh(), kind.as_str()).to_string(),
        Err(_) => event.to_string(),
    }
}

fn channel_label(c: &ChannelView, lang: Lang) -> String {
    let kind = lang.pick(c.kind.label_zh(), c.kind.as_str());
    if c.label.is_empty() { format!("{kind} {}", c.target) } else { format!("{kind}「{}」{}", c.label, c.target) }
}

/// The delivery log's lines, in the page's language.
pub fn delivery_views(lines: &[DeliveryLine], lang: Lang, may_retry: bool) -> Vec<DeliveryView> {
    lines
        .iter()
        .map(|l| {
            let m = &l.message;
            let (status, when) = match m.status {
                MessageStatus::Sent => (lang.pick("已送达", "sent"), m.sent_at.map(time).unwrap_or_default()),
                MessageStatus::Dead => (lang.pick("已放弃（死信）", "given up (dead letter)"), String::new()),
                _ if m.attempts > 0 => (lang.pick("失败，待重试", "failed, to be retried"), format!("{} {}", lang.pick("下次", "next"), time(m.next_attempt_at))),
                _ => (lang.pick("待发送", "pending"), format!("{} {}", lang.pick("发送于", "due"), time(m.next_attempt_at))),
            };
            let log = l
                .attempts
                .iter()
                .map(|a| {
                    let outcome = match a.outcome {
                        AttemptOutcome::Sent => lang.pick("送达", "sent"),
                        AttemptOutcome::Dead => lang.pick("失败，放弃", "failed, given up"),
                        AttemptOutcome::Failed => lang.pick("失败", "failed"),
                    };
                    let grouped = if a.grouped > 1 { format!(" ({} {})", lang.pick("合并发送，共", "grouped, of"), a.grouped) } else { String::new() };
                    format!("{} {outcome}{grouped}{}", time(a.at), a.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default())
                })
                .collect();
            DeliveryView {
                id: m.id,
                channel: l.channel.as_ref().map(|c| channel_label(c, lang)).unwrap_or_default(),
                event: event_label(m.event.as_str(), lang),
                title: m.title.clone(),
                status: status.to_string(),
                status_class: if m.status == MessageStatus::Pending && m.attempts > 0 { "failed".into() } else { m.status.as_str().to_string() },
                attempts: m.attempts,
                created: time(m.created_at),
                when,
                error: m.last_error.clone().unwrap_or_default(),
                log,
                can_retry: may_retry && m.status != MessageStatus::Sent,
            }
        })
        .collect()
}

struct ChannelLine {
    id: i64,
    owner: String,
    kind: String,
    target: String,
    secret: String,
    events: String,
    quiet: String,
    label: String,
    active: bool,
}

struct Pick {
    value: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    ui: super::ui::Ui,
    channels: Vec<ChannelLine>,
    may_add: bool,
    is_admin: bool,
    /// The department an officer adds to (an administrator types it).
    own_department: String,
    /// Whom a provider's or enterprise's user adds to: its own name (the owner is taken from the
    /// session, not from the form).
    own_party: String,
    kinds: Vec<Pick>,
    events: Vec<Pick>,
    flash: String,
    error: String,
    typed: Typed,
}

/// What was typed into the form, shown again beside an error.
#[derive(Default)]
struct Typed {
    department: String,
    kind: String,
    url: String,
    events: Vec<String>,
    mentions: String,
    quiet_hours: String,
    label: String,
    format: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChannelsQuery {
    done: Option<String>,
}

fn channel_line(c: &ChannelView, lang: Lang) -> ChannelLine {
    let owner = match (&c.department, c.provider_id, c.enterprise_id) {
        (Some(d), _, _) => c.department_name.clone().unwrap_or_else(|| d.clone()),
        (_, Some(p), _) => format!("{} {p}", lang.pick("提供方", "provider")),
        (_, _, Some(e)) => format!("{} {e}", lang.pick("企业", "enterprise")),
        _ => String::new(),
    };
    ChannelLine {
        id: c.id,
        owner,
        kind: lang.pick(c.kind.label_zh(), c.kind.as_str()).to_string(),
        target: c.target.clone(),
        secret: if c.has_secret { lang.pick("已设置（不显示）", "set (not shown)") } else { lang.pick("无", "none") }.to_string(),
        events: if c.events.is_empty() { lang.pick("全部", "all").to_string() } else { c.events.iter().map(|e| lang.pick(e.label_zh(), e.as_str())).collect::<Vec<_>>().join("、") },
        quiet: c.quiet_hours.map(|q| q.label()).unwrap_or_default(),
        label: c.label.clone(),
        active: c.active,
    }
}

async fn channels_page(state: &AppState, user: &PageUser, flash: String, error: String, typed: Typed, status: axum::http::StatusCode) -> Response {
    let lang = user.lang;
    let channels = match state.app.channels(&user.actor).await {
        Ok(c) => c,
        Err(e) => return user.fail(state, e),
    };
    let own_department = match (user.actor.role, user.actor.department) {
        (Role::Officer, Some(d)) => state.app.tree().department_region(d).to_string(),
        _ => String::new(),
    };
    let own_party = match state.app.own_party_name(&user.actor).await {
        Ok(name) => name.unwrap_or_default(),
        Err(e) => return user.fail(state, e),
    };
    let may_add = user.actor.role == Role::Admin || !own_department.is_empty() || !own_party.is_empty();
    let page = ChannelsPage {
        ui: user.ui(state, "channels", lang.pick("消息推送渠道", "Notification channels")),
        channels: channels.iter().map(|c| channel_line(c, lang)).collect(),
        may_add,
        is_admin: user.actor.role == Role::Admin,
        own_department,
        own_party,
        kinds: ChannelKind::ALL.iter().map(|k| Pick { value: k.as_str(), label: format!("{} ({})", k.label_zh(), k.as_str()) }).collect(),
        events: EventKind::ALL.iter().map(|k| Pick { value: k.as_str(), label: lang.pick(k.label_zh(), k.as_str()).to_string() }).collect(),
        flash,
        error,
        typed,
    };
    super::session::render_with(status, &page)
}

/// `GET /channels`.
pub async fn channels(State(state): State<AppState>, user: PageUser, Query(query): Query<ChannelsQuery>) -> Response {
    let flash = match query.done.as_deref() {
        Some("added") => user.t("已添加推送渠道；密钥已保存，不再显示。", "Channel added; its secret is kept and not shown again.").to_string(),
        Some("removed") => user.t("已移除推送渠道，不再向其推送。", "Channel removed: nothing more is sent to it.").to_string(),
        _ => String::new(),
    };
    channels_page(&state, &user, flash, String::new(), Typed::default(), axum::http::StatusCode::OK).await
}

/// `POST /channels`: adds a channel; a wrong one shows the form again with the message (and
/// without the secret typed).
/// `POST /channels/{id}/remove`: the channel is removed (nothing more is sent to it).
pub async fn remove_channel(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    match state.app.remove_channel(&user.actor, clock::now(), id).await {
        Ok(()) => see_other("/channels?done=removed"),
        Err(e) => user.fail(&state, e),
    }
}

pub async fn add_channel(State(state): State<AppState>, user: PageUser, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let typed = Typed {
        department: fields.text("department"),
        kind: fields.text("kind"),
        url: fields.text("url"),
        events: fields.all("events").into_iter().map(str::to_string).collect(),
        mentions: fields.text("mentions"),
        quiet_hours: fields.text("quiet_hours"),
        label: fields.text("label"),
        format: fields.text("format"),
    };
    // A provider's or enterprise's user adds to its own (its form names no department): the
    // owner comes from the session. A department named is asked for as it is (and refused to
    // whoever may not keep its channels).
    let department = Some(typed.department.clone()).filter(|d| !d.trim().is_empty());
    let (provider_id, enterprise_id) = match (user.actor.role, &department) {
        (Role::Provider, None) => (user.actor.provider_id, None),
        (Role::Enterprise, None) => (None, user.actor.enterprise_id),
        _ => (None, None),
    };
    let input = NewChannel {
        department,
        provider_id,
        enterprise_id,
        format: typed.format.clone(),
        kind: typed.kind.clone(),
        url: typed.url.clone(),
        secret: fields.text("secret"),
        events: typed.events.join(","),
        mentions: typed.mentions.clone(),
        quiet_hours: typed.quiet_hours.clone(),
        label: typed.label.clone(),
    };
    match state.app.add_channel(&user.actor, clock::now(), input).await {
        Ok(_) => see_other("/channels?done=added"),
        Err(bangfu_app::AppError::BadInput(message)) => channels_page(&state, &user, String::new(), message, typed, axum::http::StatusCode::BAD_REQUEST).await,
        Err(e) => user.fail(&state, e),
    }
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    ui: super::ui::Ui,
    deliveries: Vec<DeliveryView>,
    status: String,
    next: Option<String>,
    flash: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    after: Option<i64>,
    done: Option<String>,
}

const OUTBOX_PAGE: i64 = 50;

/// `GET /outbox` (administrators).
pub async fn outbox(State(state): State<AppState>, user: PageUser, Query(query): Query<OutboxQuery>) -> Response {
    let lang = user.lang;
    let status = query.status.clone().unwrap_or_default();
    let lines = match state.app.outbox(&user.actor, Some(&status), query.after.unwrap_or(0), OUTBOX_PAGE).await {
        Ok(lines) => lines,
        Err(e) => return user.fail(&state, e),
    };
    let next = (lines.len() as i64 == OUTBOX_PAGE).then(|| format!("/outbox?status={status}&after={}", lines.last().map_or(0, |l| l.message.id)));
    let flash = match query.done.as_deref() {
        Some("retried") => lang.pick("已重新排队发送。", "Put back in line.").to_string(),
        _ => String::new(),
    };
    let page = OutboxPage { ui: user.ui(&state, "outbox", lang.pick("外发消息", "Outbox")), deliveries: delivery_views(&lines, lang, true), status, next, flash };
    render(&page)
}

/// `POST /outbox/{id}/retry`: puts a message back in line, then back to where the form was.
pub async fn retry(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    match state.app.retry_message(&user.actor, clock::now(), id).await {
        Ok(_) => see_other(&super::session::local_target(fields.get("back").or(Some("/outbox?done=retried")))),
        Err(e) => user.fail(&state, e),
    }
}
