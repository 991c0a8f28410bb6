//! The needs list (`/needs`): the needs the user may see, filtered by kind, status and place
//! and read a page at a time in the database (`App::list_needs`, the path of GET /api/v1/needs),
//! with the total and a pager. A bad filter is said beside the form, not as an error page.

use super::pager::Pager;
use super::registry::Choice;
use super::session::{PageUser, render};
use super::ui::{Ui, time};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bangfu_app::AppError;
use bangfu_app::views::{DEFAULT_PAGE, NeedFilter};
use bangfu_core::model::{NeedKind, NeedStatus};
use bangfu_store::{Page, PageRequest};
use serde::Deserialize;

pub struct NeedLine {
    pub id: i64,
    pub case_id: i64,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub owner: String,
    pub scope: String,
    pub reported: String,
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsPage {
    ui: Ui,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
    kind: String,
    status: String,
    place: String,
    filter_error: String,
    needs: Vec<NeedLine>,
    total: i64,
    pager: Pager,
    download: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NeedsQuery {
    kind: Option<String>,
    status: Option<String>,
    place: Option<String>,
    /// Where the page starts (the pager's next).
    after: Option<i64>,
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<NeedsQuery>) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let (kind, status, place) = (query.kind.unwrap_or_default(), query.status.unwrap_or_default(), query.place.unwrap_or_default());
    let request = PageRequest { after: query.after, limit: DEFAULT_PAGE };
    let listed = async {
        let region = Some(place.trim()).filter(|p| !p.is_empty()).map(|p| app.region(p, "place")).transpose()?;
        let filter = NeedFilter { region, kind: Some(kind.clone()), status: Some(status.clone()), ..NeedFilter::default() };
        let page = app.list_needs(&user.actor, &filter, request).await?;
        Ok::<_, AppError>((page, app.count_needs(&user.actor, &filter).await?))
    };
    let (page, total, filter_error) = match listed.await {
        Ok((page, total)) => (page, total, String::new()),
        Err(AppError::BadInput(message)) => (Page { items: Vec::new(), next: None }, 0, message),
        Err(e) => return user.fail(&state, e),
    };
    let pager = Pager::new(lang, "/needs", &[("kind", &kind), ("status", &status), ("place", &place)], "after", query.after, &page, total);
    let tree = app.tree();
    let needs = page
        .items
        .iter()
        .map(|n| NeedLine {
            id: n.id,
            case_id: n.case_id,
            kind: lang.kind(&n.kind),
            title: n.title.clone(),
            status: lang.need_status(&n.status),
            status_class: n.status.clone(),
            owner: lang.department(tree, &n.owner),
            scope: lang.scope(&n.scope),
            reported: time(n.created_at),
        })
        .collect();
    let kinds = NeedKind::ALL.iter().map(|k| Choice { value: k.as_str().into(), label: lang.label(k.label()).into() }).collect();
    let statuses = NeedStatus::ALL.iter().map(|s| Choice { value: s.as_str().into(), label: lang.label(s.label()).into() }).collect();
    let ui = user.ui(&state, "needs", lang.pick("诉求", "Needs"));
    let download = super::ui::download_href("needs", &[("kind", &kind), ("status", &status), ("place", &place)]);
    render(&NeedsPage { ui, kinds, statuses, kind, status, place, filter_error, needs, total, pager, download })
}
