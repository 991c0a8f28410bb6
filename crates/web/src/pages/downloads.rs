//! The pages' downloads (`/export/{list}?format=xlsx|csv&…`): beside every list a page shows, an
//! Excel and a CSV link to the same filtered set, exported by [`crate::exports`] on the session
//! (the API takes bearer tokens only). The filters are the list's own: `needs` (kind, status,
//! place), `cases` (region, status), `providers` (kind, place, q), `returns` (region, from, to,
//! product, case_id), `letters` (status, need_id), `events` (case_id). A bad filter is the error
//! page (400).

use super::session::PageUser;
use crate::AppState;
use crate::exports::{self, ExportFormat};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use bangfu_app::AppError;
use bangfu_app::registry_search::ProviderSearch;
use bangfu_app::returns::ReturnFilter;
use bangfu_app::views::{CaseFilter, LetterFilter, NeedFilter};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct DownloadQuery {
    format: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    place: Option<String>,
    region: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    product: Option<String>,
    case_id: Option<i64>,
    need_id: Option<i64>,
}

fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

pub async fn download(State(state): State<AppState>, user: PageUser, Path(list): Path<String>, Query(query): Query<DownloadQuery>) -> Response {
    let app = &state.app;
    let format = match given(&query.format) {
        None | Some("xlsx") => ExportFormat::Xlsx,
        Some("csv") => ExportFormat::Csv,
        Some(other) => return user.fail(&state, AppError::BadInput(format!("format: {other:?} — use xlsx or csv"))),
    };
    let region = |text: Option<&str>, field: &str| text.map(|r| app.region(r, field)).transpose();
    let export = match list.as_str() {
        "needs" => match region(given(&query.place), "place") {
            Ok(region) => exports::needs(app.clone(), user.actor.clone(), NeedFilter { region, kind: query.kind.clone(), status: query.status.clone(), ..NeedFilter::default() }),
            Err(e) => return user.fail(&state, e),
        },
        "cases" => match region(given(&query.region), "region") {
            Ok(region) => exports::cases(app.clone(), user.actor.clone(), CaseFilter { region, status: query.status.clone() }),
            Err(e) => return user.fail(&state, e),
        },
        "providers" => exports::providers(app.clone(), user.actor.clone(), ProviderSearch { kind: query.kind.clone(), place: query.place.clone(), text: query.q.clone() }),
        "returns" => match region(given(&query.region), "region") {
            Ok(region) => exports::returns(app.clone(), user.actor.clone(), ReturnFilter { region, from: query.from.clone(), to: query.to.clone(), product: query.product.clone(), case_id: query.case_id }),
            Err(e) => return user.fail(&state, e),
        },
        "letters" => exports::letters(app.clone(), user.actor.clone(), LetterFilter { status: query.status.clone(), need_id: query.need_id }),
        "events" => match query.case_id {
            Some(case_id) => exports::case_events(app.clone(), user.actor.clone(), case_id),
            None => return user.fail(&state, AppError::BadInput("case_id: name the case whose events to download".into())),
        },
        other => return user.fail(&state, AppError::NotFound(format!("list {other:?}"))),
    };
    match exports::respond(format, export).await {
        Ok(response) => response,
        Err(problem) => {
            let status = problem.status;
            let detail = problem.detail.clone();
            match status.as_u16() {
                404 => user.fail(&state, AppError::NotFound(detail.trim_end_matches(" not found").to_string())),
                403 => user.fail(&state, AppError::Forbidden(detail)),
                400 => user.fail(&state, AppError::BadInput(detail)),
                _ => problem.into_response(),
            }
        }
    }
}
