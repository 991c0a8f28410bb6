//! The inbox (`/inbox`), a provider's and an enterprise's home: the needs addressed to it —
//! those its provider is a candidate of or selected on, or those of its case — newest first,
//! each with its unread mark, its status and the provider's last answer; a page at a time.

use super::session::{PageUser, render};
use super::ui::{Lang, day, time};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bangfu_core::model::{CandidateStatus, ResponseAnswer};
use serde::Deserialize;

pub struct Line {
    pub need_id: i64,
    pub title: String,
    pub enterprise: String,
    pub kind: String,
    pub quantity: String,
    pub status: String,
    pub status_class: String,
    pub owner: String,
    pub deadline: String,
    pub changed: String,
    pub unread: bool,
    /// The provider's candidacy: "已选定" / "候选（预计 36 小时）"; empty for an enterprise.
    pub candidacy: String,
    /// The provider's last answer in words; empty when it has not answered.
    pub answer: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    ui: super::ui::Ui,
    lines: Vec<Line>,
    total: i64,
    unread: usize,
    next: Option<i64>,
    provider: bool,
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    before: Option<i64>,
}

/// A provider's answer in words: 承接 / 不能承接：理由 / 报价 150,000 个 · ¥0.12 · 最早 2月3日 08:00.
pub fn answer_words(r: &bangfu_store::ResponseRow, unit: &str, lang: Lang) -> String {
    let mut parts = vec![match r.answer {
        ResponseAnswer::Accept => lang.pick("承接", "accepts").to_string(),
        ResponseAnswer::Decline => lang.pick("不能承接", "declines").to_string(),
        ResponseAnswer::Quote => lang.pick("报价", "quotes").to_string(),
    }];
    if let Some(q) = r.quantity {
        parts.push(lang.amount(q, unit));
    }
    if let Some(p) = r.price {
        parts.push(format!("¥{}", super::ui::money(p)));
    }
    if let Some(at) = r.deliver_by {
        parts.push(format!("{} {}", lang.pick("最早交付", "earliest delivery"), time(at)));
    }
    let mut words = parts.join(" · ");
    if !r.note.is_empty() {
        words.push_str(lang.pick("：", ": "));
        words.push_str(&r.note);
    }
    words
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<InboxQuery>) -> Response {
    let lang = user.lang;
    let tree = state.app.tree();
    let inbox = match state.app.inbox(&user.actor, query.before, bangfu_app::views::DEFAULT_PAGE as i64).await {
        Ok(inbox) => inbox,
        Err(e) => return user.fail(&state, e),
    };
    let lines: Vec<Line> = inbox
        .items
        .iter()
        .map(|item| {
            let r = &item.row;
            let candidacy = match (r.candidate_status, r.lead_time_h) {
                (Some(CandidateStatus::Selected), _) => lang.pick("已选定贵单位", "you are selected").to_string(),
                (Some(_), Some(h)) => format!("{}（{} {}）", lang.pick("候选", "candidate"), lang.pick("预计", "about"), lang.hours(h)),
                (Some(_), None) => lang.pick("候选", "candidate").to_string(),
                (None, _) => String::new(),
            };
            Line {
                need_id: r.id,
                title: r.title.clone(),
                enterprise: r.enterprise.clone(),
                kind: lang.kind(&r.kind),
                quantity: lang.amount(r.quantity, &r.unit),
                status: lang.need_status(&r.status),
                status_class: r.status.as_str().to_string(),
                owner: lang.department(tree, &r.owner),
                deadline: r.deadline.map(time).unwrap_or_default(),
                changed: day(r.updated_at),
                unread: item.unread,
                candidacy,
                answer: item.answer.as_ref().map(|a| answer_words(a, &r.unit, lang)).unwrap_or_default(),
            }
        })
        .collect();
    let unread = lines.iter().filter(|l| l.unread).count();
    let ui = user.ui(&state, "inbox", user.t("收件箱", "Inbox"));
    render(&InboxPage { ui, total: inbox.total, unread, next: inbox.next, provider: user.actor.provider_id.is_some(), lines })
}
