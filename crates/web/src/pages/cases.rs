//! The cases list (`/cases`, issue 13): the cases the user sees summed by region one level down
//! at a time — province → city → county → case — with their active cases, unclosed and overdue
//! needs (`App::region_overview`, two GROUP BYs), the path back up as breadcrumbs, and a page of
//! the cases in the place (or only those quiet for N days: `?quiet=N`). The reference case's
//! introduction shows only on a page that lists it.

use super::pager::Pager;
use super::registry::Choice;
use super::session::PageUser;
use super::ui::{Lang, Ui, day, time};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bangfu_app::AppError;
use bangfu_app::dashboard::RegionOverview;
use bangfu_app::views::{CaseFilter, DEFAULT_PAGE};
use bangfu_core::model::CaseStatus;
use bangfu_store::{Page, PageRequest};
use serde::Deserialize;

pub struct CaseRow {
    pub id: i64,
    pub enterprise: String,
    pub place: String,
    pub opened: String,
    pub status: String,
    pub open_needs: usize,
    pub needs: usize,
    /// For the quiet cases: when the last thing happened.
    pub last_event: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    ui: Ui,
    intro_case: Option<i64>,
    overview: RegionOverview,
    place: String,
    status: String,
    statuses: Vec<Choice>,
    quiet: String,
    cases: Vec<CaseRow>,
    total: i64,
    pager: Pager,
    /// The Excel and CSV downloads of the place's cases (none for the quiet ones, which no export filters).
    download: String,
    filter_error: String,
    /// An officer (or admin) who may register enterprises: the form is shown.
    can_register: bool,
    /// The registration form as typed, and what was wrong with it.
    register: super::enterprise::Typed,
    register_error: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CasesQuery {
    #[serde(default)]
    place: String,
    #[serde(default)]
    status: String,
    /// Only active cases without an event for this many days.
    #[serde(default)]
    quiet: String,
    after: Option<i64>,
}


pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<CasesQuery>) -> Response {
    page(&state, &user, query, super::enterprise::Typed::default(), String::new(), axum::http::StatusCode::OK).await
}

/// Registers an enterprise (its unified social credit code checked, GB 32100) and, when a title
/// is given, opens its case at once; then to the case, or back with the message.
pub async fn register(State(state): State<AppState>, user: PageUser, fields: super::form::Fields) -> Response {
    use axum::response::IntoResponse;
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let number = |name: &str| fields.get(name).and_then(|v| v.parse::<f64>().ok());
    let input = bangfu_app::cases::NewEnterprise {
        name: fields.text("name"),
        credit_code: fields.text("credit_code").to_uppercase(),
        region: fields.text("region"),
        lon: number("lon"),
        lat: number("lat"),
        note: fields.text("note"),
    };
    let now = clock::now();
    let typed = super::enterprise::Typed::of(&fields);
    let failed = |e: AppError| {
        let state = &state;
        let user = &user;
        let typed = typed.clone();
        async move {
            match e {
                e @ (AppError::BadInput(_) | AppError::Conflict(_) | AppError::Forbidden(_) | AppError::NotFound(_)) => {
                    let status = match e {
                        AppError::Forbidden(_) => axum::http::StatusCode::FORBIDDEN,
                        AppError::NotFound(_) => axum::http::StatusCode::NOT_FOUND,
                        _ => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    };
                    page(state, user, CasesQuery::default(), typed, super::ui::localise(&e.to_string(), user.lang), status).await
                }
                e => user.fail(state, e),
            }
        }
    };
    let enterprise = match state.app.add_enterprise(&user.actor, now, input).await {
        Ok(e) => e,
        Err(e) => return failed(e).await,
    };
    let title = fields.text("case_title");
    if title.is_empty() {
        return axum::response::Redirect::to(&format!("/cases?place={}", enterprise.region)).into_response();
    }
    match state.app.open_case(&user.actor, now, enterprise.id, &title).await {
        Ok(case) => axum::response::Redirect::to(&format!("/cases/{}?done=opened", case.id)).into_response(),
        Err(e) => failed(e).await,
    }
}

async fn page(state: &AppState, user: &PageUser, query: CasesQuery, register: super::enterprise::Typed, register_error: String, status_code: axum::http::StatusCode) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let now = clock::now();
    let tree = app.tree();
    let request = PageRequest { after: query.after, limit: DEFAULT_PAGE };
    let listed = async {
        let place = Some(query.place.trim()).filter(|p| !p.is_empty()).map(|p| app.region(p, "place")).transpose()?;
        let overview = app.region_overview(&user.actor, now, place).await?;
        let quiet = Some(query.quiet.trim()).filter(|q| !q.is_empty()).map(|q| q.parse::<i64>().map_err(|_| AppError::BadInput(format!("quiet: {q:?} is not a number of days")))).transpose()?;
        let (cases, total) = match quiet {
            Some(days) => {
                let (page, total) = app.quiet_cases(&user.actor, now, days, request).await?;
                (page.map(|(summary, last)| (summary, Some(last))), total)
            }
            None => {
                let filter = CaseFilter { region: overview.place.as_deref().map(|p| app.region(p, "place")).transpose()?, status: Some(query.status.clone()) };
                let page = app.list_cases(&user.actor, &filter, request).await?;
                (page.map(|summary| (summary, None)), app.count_cases(&user.actor, &filter).await?)
            }
        };
        Ok::<_, AppError>((overview, cases, total))
    };
    let (overview, cases, total, filter_error) = match listed.await {
        Ok((overview, cases, total)) => (overview, cases, total, String::new()),
        Err(AppError::BadInput(message)) => (RegionOverview::default(), Page { items: Vec::new(), next: None }, 0, message),
        Err(e) => return user.fail(state, e),
    };
    let intro_case = cases.items.iter().find(|(c, _)| c.enterprise.credit_code == bangfu_app::demo::CREDIT_CODE).map(|(c, _)| c.case.id);
    let pager = Pager::new(lang, "/cases", &[("place", &query.place), ("status", &query.status), ("quiet", &query.quiet)], "after", query.after, &cases, total);
    let rows = cases
        .items
        .iter()
        .map(|(c, last)| CaseRow {
            id: c.case.id,
            enterprise: c.enterprise.name.clone(),
            place: tree.full_name(c.case.region),
            opened: day(c.case.opened_at),
            status: match c.case.status {
                CaseStatus::Active => lang.pick("帮扶中", "active").to_string(),
                CaseStatus::Closed => lang.pick("已结案", "closed").to_string(),
            },
            open_needs: c.open_needs,
            needs: c.needs,
            last_event: last.map(|l| time(l.timestamp_millis())).unwrap_or_default(),
        })
        .collect();
    let statuses = vec![
        Choice { value: "active".into(), label: lang.pick("帮扶中", "active").into() },
        Choice { value: "closed".into(), label: lang.pick("已结案", "closed").into() },
    ];
    let title = match lang {
        Lang::Zh => "帮扶档案",
        Lang::En => "Cases",
    };
    let place = overview.place.clone().unwrap_or_default();
    let ui = user.ui(state, "cases", title);
    let can_register = bangfu_app::access::may_register(&user.actor);
    let download = if query.quiet.trim().is_empty() { super::ui::download_href("cases", &[("region", &place), ("status", &query.status)]) } else { String::new() };
    super::session::render_with(status_code, &CasesPage { ui, intro_case, overview, place, status: query.status, statuses, quiet: query.quiet, cases: rows, total, pager, download, filter_error, can_register, register, register_error })
}
