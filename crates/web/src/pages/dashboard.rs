//! The dashboard (`/`): a page of the cases the user's department sees (with a pager), open needs
//! by owning tier and status, a page of the needs that are overdue or escalated (with a pager of
//! its own), a map of the enterprises on the page and their providers, recent events and the
//! department's latest notifications — all from `App::dashboard`, which counts in the database
//! and reads pages, never a whole table — under a banner when the database holds the synthetic
//! province exercise.

use super::events::{EventView, describe};
use super::map::{Link, Marker, MarkerKind, render as render_map};
use super::pager::Pager;
use super::session::{PageUser, render};
use super::ui::{Lang, Ui, time};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::dashboard::{ATTENTION_PER_PAGE, CASES_PER_PAGE, DashboardPages, FirstOutput, Overdue};
use bangfu_store::PageRequest;
use serde::Deserialize;
use bangfu_core::model::{NeedStatus, Role, Tier};

pub struct CaseLine {
    pub id: i64,
    pub enterprise: String,
    pub place: String,
    pub opened: String,
    pub days_open: i64,
    pub open_needs: usize,
    pub needs: usize,
    pub first_output: String,
}

pub struct TierRow {
    pub tier: String,
    pub counts: Vec<usize>,
    pub total: usize,
}

pub struct AttentionLine {
    pub need_id: i64,
    pub title: String,
    pub enterprise: String,
    pub owner: String,
    pub status: String,
    pub flags: Vec<String>,
}

pub struct NoteLine {
    pub at: String,
    pub text: String,
    pub need_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ui: Ui,
    intro_case: Option<i64>,
    /// The database holds the synthetic province exercise (`bangfu demo --scale province`).
    exercise: bool,
    cases: Vec<CaseLine>,
    total_cases: i64,
    cases_pager: Pager,
    total_attention: i64,
    attention_pager: Pager,
    statuses: Vec<String>,
    tiers: Vec<TierRow>,
    attention: Vec<AttentionLine>,
    events: Vec<EventView>,
    notes: Vec<NoteLine>,
    map: String,
}

fn overdue_text(overdue: &Overdue, lang: Lang) -> String {
    match overdue {
        Overdue::PastDeadline { deadline } => match lang {
            Lang::Zh => format!("已过期限（{}）", time(deadline.timestamp_millis())),
            Lang::En => format!("past its deadline ({})", time(deadline.timestamp_millis())),
        },
        Overdue::PastResponseWindow { tier, expired_at } => match lang {
            Lang::Zh => format!("{}响应时限已过（{}）", lang.label(tier.label()), time(expired_at.timestamp_millis())),
            Lang::En => format!("{} response window ran out ({})", lang.label(tier.label()), time(expired_at.timestamp_millis())),
        },
    }
}

/// Where each list of the dashboard starts (the `next` of its pager).
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    cases_after: Option<i64>,
    attention_after: Option<i64>,
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<DashboardQuery>) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let tree = app.tree();
    let now = clock::now();
    let pages = DashboardPages {
        cases: PageRequest { after: query.cases_after, limit: CASES_PER_PAGE },
        attention: PageRequest { after: query.attention_after, limit: ATTENTION_PER_PAGE },
    };
    // Leadership (a viewer) reads its daily briefing first; the dashboard is the officers' desk.
    if user.actor.role == Role::Viewer && query.cases_after.is_none() && query.attention_after.is_none() {
        return Redirect::to("/briefing").into_response();
    }
    let dashboard = match app.dashboard(&user.actor, now, pages).await {
        Ok(d) => d,
        Err(e) => return user.fail(&state, e),
    };
    // An enterprise user works on its own case; a provider user on its registry entry.
    match user.actor.role {
        Role::Enterprise => {
            if let ([only], 1) = (dashboard.cases.items.as_slice(), dashboard.total_cases) {
                return Redirect::to(&format!("/cases/{}/enterprise", only.summary.case.id)).into_response();
            }
        }
        Role::Provider => {
            if let Some(id) = user.actor.provider_id {
                return Redirect::to(&format!("/registry/providers/{id}")).into_response();
            }
        }
        _ => {}
    }
    let exercise = match app.exercise_present().await {
        Ok(present) => present,
        Err(e) => return user.fail(&state, e),
    };
    let intro_case = dashboard.cases.items.iter().find(|c| c.summary.enterprise.credit_code == bangfu_app::demo::CREDIT_CODE).map(|c| c.summary.case.id);
    let cases = dashboard
        .cases
        .items
        .iter()
        .map(|c| CaseLine {
            id: c.summary.case.id,
            enterprise: c.summary.enterprise.name.clone(),
            place: tree.full_name(bangfu_core::region::RegionCode::new_unchecked(c.summary.case.region.parse().unwrap_or(0))),
            opened: super::ui::day(c.summary.case.opened_at),
            days_open: c.days_open,
            open_needs: c.summary.open_needs,
            needs: c.summary.needs,
            first_output: match c.first_output.clone() {
                FirstOutput::Planned { at, finished: true, .. } => match lang {
                    Lang::Zh => format!("{}（已实现）", time(at.timestamp_millis())),
                    Lang::En => format!("{} (achieved)", time(at.timestamp_millis())),
                },
                FirstOutput::Planned { at, finished: false, delay_h } if delay_h > 0.0 => match lang {
                    Lang::Zh => format!("预计 {}（未决诉求推迟 {}）", time(at.timestamp_millis()), lang.hours(delay_h)),
                    Lang::En => format!("expected {} (open needs delay it by {})", time(at.timestamp_millis()), lang.hours(delay_h)),
                },
                FirstOutput::Planned { at, .. } => match lang {
                    Lang::Zh => format!("预计 {}", time(at.timestamp_millis())),
                    Lang::En => format!("expected {}", time(at.timestamp_millis())),
                },
                FirstOutput::Reported { day } => match lang {
                    Lang::Zh => format!("{day}（企业日报）"),
                    Lang::En => format!("{day} (daily return)"),
                },
                FirstOutput::Unknown => lang.pick("尚无日报或计划", "no return or plan yet").to_string(),
            },
        })
        .collect();

    let open_statuses = [NeedStatus::Open, NeedStatus::Selected, NeedStatus::Started];
    let tiers = [Tier::County, Tier::City, Tier::Province]
        .iter()
        .map(|tier| {
            let counts: Vec<usize> = open_statuses
                .iter()
                .map(|s| dashboard.open_needs.iter().filter(|c| c.tier == tier.as_str() && c.status == s.as_str()).map(|c| c.count).sum())
                .collect();
            TierRow { tier: lang.label(tier.label()).to_string(), total: counts.iter().sum(), counts }
        })
        .collect();
    let attention = dashboard
        .attention
        .items
        .iter()
        .map(|a| {
            let mut flags: Vec<String> = a.overdue.iter().map(|o| overdue_text(o, lang)).collect();
            if a.escalated {
                flags.push(lang.pick("已逐级上报", "escalated").to_string());
            }
            if a.supervised {
                flags.push(lang.pick("已提请省级督办", "flagged for provincial supervision").to_string());
            }
            AttentionLine {
                need_id: a.need.id,
                title: a.need.title.clone(),
                enterprise: a.enterprise.clone(),
                owner: lang.department(tree, &a.need.owner),
                status: lang.need_status(&a.need.status),
                flags,
            }
        })
        .collect();

    let events = dashboard.recent_events.iter().map(|e| describe(e, lang, tree, &dashboard.need_titles)).collect();
    let notes = match app.latest_notifications(&user.actor, 10).await {
        Ok(list) => list.iter().map(|n| NoteLine { at: time(n.created_at), text: lang.pick(&n.text_zh, &n.text_en).to_string(), need_id: n.need_id }).collect(),
        Err(e) => return user.fail(&state, e),
    };
    let cursor = |name: &str, value: Option<i64>| (name.to_string(), value.map(|v| v.to_string()).unwrap_or_default());
    let (keep_cases, keep_attention) = (cursor("cases_after", query.cases_after), cursor("attention_after", query.attention_after));
    let cases_pager = Pager::new(lang, "/", &[(&keep_attention.0, &keep_attention.1)], "cases_after", query.cases_after, &dashboard.cases, dashboard.total_cases);
    let attention_pager =
        Pager::new(lang, "/", &[(&keep_cases.0, &keep_cases.1)], "attention_after", query.attention_after, &dashboard.attention, dashboard.total_attention);

    // The map: each enterprise, and the providers of its needs.
    let mut markers = Vec::new();
    let mut links = Vec::new();
    for line in &dashboard.cases.items {
        let e = &line.summary.enterprise;
        let (Some(lon), Some(lat)) = (e.lon, e.lat) else { continue };
        let at = markers.len();
        markers.push(Marker { lon, lat, label: e.name.clone(), kind: MarkerKind::Enterprise });
        let mut seen = Vec::new();
        for p in dashboard.providers.iter().filter(|p| p.case_id == line.summary.case.id) {
            let (Some(lon), Some(lat)) = (p.provider.lon, p.provider.lat) else { continue };
            if seen.contains(&p.provider.id) {
                continue;
            }
            seen.push(p.provider.id);
            let label = format!("{}（{}）", short_name(&p.provider.name), lang.kind(&p.need_kind));
            links.push(Link { from: at, to: markers.len() });
            markers.push(Marker { lon, lat, label, kind: if p.selected { MarkerKind::Selected } else { MarkerKind::Candidate } });
        }
    }
    let map = render_map(tree, &markers, &links, lang.pick("企业与提供方示意图", "Enterprises and their providers"), lang);

    let statuses = open_statuses.iter().map(|s| lang.label(s.label()).to_string()).collect();
    let ui = user.ui(&state, "dashboard", lang.pick("工作台", "Dashboard"));
    let (total_cases, total_attention) = (dashboard.total_cases, dashboard.total_attention);
    render(&DashboardPage { ui, intro_case, exercise, cases, total_cases, cases_pager, total_attention, attention_pager, statuses, tiers, attention, events, notes, map })
}

/// A provider's name without the demo's 【假定…】 marks, for map labels (the pages show them in full).
pub fn short_name(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '【' => depth += 1,
            '】' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}
