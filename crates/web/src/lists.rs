//! The list answers of the API (issue 12): every list takes `limit` (default 50, at most 500)
//! and `after` (the `next` of the page before), and answers one page in id order,
//! `{"items": […], "total": N, "limit": L, "next": id | null}`, where `total` counts the whole
//! filtered list and `next` is the `after` of the following page (null on the last). Paging
//! is by keyset in the store: rows inserted meanwhile neither repeat nor shift a row.
//!
//! `?format=csv` or `?format=xlsx` exports the whole filtered list instead, streamed a page at a
//! time (see [`crate::exports`]).
//!
//! Bad paging or filter parameters are 400 problems saying what was wrong.

use crate::Problem;
use bangfu_app::AppError;
use bangfu_store::{Page, PageRequest};
use serde_json::{Value, json};

/// The page asked for by `after` and `limit`; out of range is a 400 problem.
pub(crate) fn page_request(after: Option<i64>, limit: Option<usize>) -> Result<PageRequest, Problem> {
    bangfu_app::views::page_request(after, limit).map_err(query_problem)
}

/// An error of a list's parameters: bad input is a 400 (the request line was wrong), anything
/// else as usual.
pub(crate) fn query_problem(error: AppError) -> Problem {
    match error {
        AppError::BadInput(message) => Problem::bad_request(message),
        other => other.into(),
    }
}

/// The JSON of one page of a list.
pub(crate) fn envelope<T>(page: &Page<T>, total: i64, request: PageRequest, item: impl Fn(&T) -> Value) -> Value {
    json!({"items": page.items.iter().map(item).collect::<Vec<_>>(), "total": total, "limit": request.limit, "next": page.next})
}
