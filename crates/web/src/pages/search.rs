//! The search page (`/search`): what `App::search` finds for the user — the path of
//! GET /api/v1/search — grouped by kind, best first within each group, each result linked to its
//! page. The box in the header of every page and in the registry's list posts here. A bad query
//! is said beside the form, not as an error page.

use super::registry::Choice;
use super::session::{PageUser, render};
use super::ui::Ui;
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use bangfu_app::AppError;
use bangfu_core::search_index::{SearchHit, SearchKind};
use serde::Deserialize;

pub struct Hit {
    pub title: String,
    pub href: String,
    pub snippet: String,
    pub place: String,
}

pub struct Group {
    pub kind: String,
    pub label: String,
    pub hits: Vec<Hit>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ui: Ui,
    q: String,
    kind: String,
    kinds: Vec<Choice>,
    groups: Vec<Group>,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    kind: Option<String>,
}

/// The kind's name in both languages.
fn kind_label(kind: SearchKind) -> (&'static str, &'static str) {
    match kind {
        SearchKind::Enterprise => ("企业", "Enterprises"),
        SearchKind::Provider => ("能力提供方", "Providers"),
        SearchKind::Need => ("诉求", "Needs"),
        SearchKind::Letter => ("公函", "Letters"),
        SearchKind::Department => ("部门", "Departments"),
    }
}

/// Where a result leads.
fn href(hit: &SearchHit) -> String {
    match hit.kind {
        SearchKind::Enterprise if hit.parent > 0 => format!("/cases/{}", hit.parent),
        SearchKind::Enterprise => format!("/search?q={:06}", hit.region),
        SearchKind::Provider => format!("/registry/providers/{}", hit.id),
        SearchKind::Need => format!("/needs/{}", hit.id),
        SearchKind::Letter => format!("/needs/{}/letters/{}", hit.parent, hit.id),
        SearchKind::Department => format!("/needs?place={:06}", hit.region),
    }
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(params): Query<SearchParams>) -> Response {
    let lang = user.lang;
    let q = params.q.unwrap_or_default();
    let kind = params.kind.unwrap_or_default();
    let (hits, error) = if q.trim().is_empty() {
        (Vec::new(), String::new())
    } else {
        match state.app.search(&user.actor, &q, Some(kind.as_str()), Some(bangfu_app::search::MAX_LIMIT)).await {
            Ok(hits) => (hits, String::new()),
            Err(AppError::BadInput(message)) => (Vec::new(), message),
            Err(e) => return user.fail(&state, e),
        }
    };
    let tree = state.app.tree();
    let groups = SearchKind::ALL
        .into_iter()
        .filter_map(|k| {
            let hits: Vec<Hit> = hits
                .iter()
                .filter(|h| h.kind == k)
                .map(|h| Hit {
                    title: h.title.clone(),
                    href: href(h),
                    snippet: h.snippet.clone(),
                    place: tree.full_name(bangfu_core::region::RegionCode::new_unchecked(h.region)),
                })
                .collect();
            let (zh, en) = kind_label(k);
            (!hits.is_empty()).then(|| Group { kind: k.as_str().into(), label: lang.pick(zh, en).into(), hits })
        })
        .collect();
    let kinds = SearchKind::ALL
        .into_iter()
        .map(|k| {
            let (zh, en) = kind_label(k);
            Choice { value: k.as_str().into(), label: lang.pick(zh, en).into() }
        })
        .collect();
    let ui = user.ui(&state, "search", lang.pick("搜索", "Search"));
    render(&SearchPage { ui, q, kind, kinds, groups, error })
}
