//! The dashboard (`/`), summarised for thousands of cases (issue 13): open needs by owning tier and
//! status, the ten most overdue needs (with the count and a link to the queue's overdue view), the
//! active cases without progress for three days (a link to `/cases?quiet=3`), the drill-down by
//! region (each line links `/cases?place=…`), a page of the cases the user sees (with a pager), a
//! map of the enterprises on that page and their providers, recent events and the department's
//! latest notifications — all from `App::dashboard`, which counts in the database and reads
//! pages, never a whole table — under a banner when the database holds the synthetic province
//! exercise. The reference case's introduction shows only when the reference case is in view.

use super::events::{EventView, describe};
use super::map::{Link, Marker, MarkerKind, render as render_map};
use super::pager::Pager;
use super::session::{PageUser, render};
use super::ui::{Lang, Ui, time};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::dashboard::{CASES_PER_PAGE, DashboardPages, FirstOutput, QUIET_DAYS, RegionOverview};
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

pub struct OverdueLine {
    pub need_id: i64,
    pub title: String,
    pub enterprise: String,
    pub owner: String,
    pub status: String,
    /// How long past its response window or deadline.
    pub late: String,
    pub escalated: bool,
    pub supervised: bool,
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
    total_overdue: i64,
    quiet_cases: i64,
    quiet_days: i64,
    overview: RegionOverview,
    statuses: Vec<String>,
    tiers: Vec<TierRow>,
    overdue: Vec<OverdueLine>,
    events: Vec<EventView>,
    notes: Vec<NoteLine>,
    map: String,
}

/// Where each list of the dashboard starts (the `next` of its pager).
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    cases_after: Option<i64>,
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<DashboardQuery>) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let tree = app.tree();
    // To the minute: the dashboard counts what is overdue as of the minute it shows, and the
    // officers who open it within that minute (and no change in between) share one reading.
    let now = clock::this_minute();
    let pages = DashboardPages { cases: PageRequest { after: query.cases_after, limit: CASES_PER_PAGE } };
    // Leadership (a viewer) reads its daily briefing first; the dashboard is the officers' desk.
    if user.actor.role == Role::Viewer && query.cases_after.is_none() {
        return Redirect::to("/briefing").into_response();
    }
    let dashboard = match app.dashboard(&user.actor, now, pages).await {
        Ok(d) => d,
        Err(e) => return user.fail(&state, e),
    };
    // An enterprise user works on its own case; a provider user on its inbox.
    match user.actor.role {
        Role::Enterprise => {
            if let ([only], 1) = (dashboard.cases.items.as_slice(), dashboard.total_cases) {
                return Redirect::to(&format!("/cases/{}/enterprise", only.summary.case.id)).into_response();
            }
        }
        Role::Provider => return Redirect::to("/inbox").into_response(),
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
            place: tree.full_name(c.summary.case.region),
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
                .map(|s| dashboard.open_needs.iter().filter(|c| c.tier == *tier && c.status == *s).map(|c| c.count).sum())
                .collect();
            TierRow { tier: lang.label(tier.label()).to_string(), total: counts.iter().sum(), counts }
        })
        .collect();
    let overdue = dashboard
        .most_overdue
        .iter()
        .map(|line| {
            let need = &line.row.need;
            let due = line.respond_by.map(|r| r.timestamp_millis()).or(need.deadline).unwrap_or(now.timestamp_millis());
            let late = match lang {
                Lang::Zh => format!("逾期 {}", lang.duration(now.timestamp_millis() - due)),
                Lang::En => format!("{} overdue", lang.duration(now.timestamp_millis() - due)),
            };
            OverdueLine {
                need_id: need.id,
                title: need.title.clone(),
                enterprise: line.row.enterprise.clone(),
                owner: lang.department(tree, &need.owner),
                status: lang.need_status(&need.status),
                late,
                escalated: line.row.escalated,
                supervised: line.supervised,
            }
        })
        .collect();

    let events = dashboard.recent_events.iter().map(|e| describe(e, lang, tree, &dashboard.need_titles)).collect();
    let notes = match app.latest_notifications(&user.actor, 10).await {
        Ok(list) => list.iter().map(|n| NoteLine { at: time(n.created_at), text: lang.pick(&n.text_zh, &n.text_en).to_string(), need_id: n.need_id }).collect(),
        Err(e) => return user.fail(&state, e),
    };
    let cases_pager = Pager::new(lang, "/", &[], "cases_after", query.cases_after, &dashboard.cases, dashboard.total_cases);

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
    let (total_cases, total_overdue, quiet_cases) = (dashboard.total_cases, dashboard.total_overdue, dashboard.quiet_cases);
    let overview = dashboard.overview;
    render(&DashboardPage {
        ui,
        intro_case,
        exercise,
        cases,
        total_cases,
        cases_pager,
        total_overdue,
        quiet_cases,
        quiet_days: QUIET_DAYS,
        overview,
        statuses,
        tiers,
        overdue,
        events,
        notes,
        map,
    })
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
