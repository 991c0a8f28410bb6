//! The list answers of the API (issue 12): every list takes `limit` (default 50, at most 500)
//! and `after` (the `next` of the page before), and answers one page in id order,
//! `{"items": […], "total": N, "limit": L, "next": id | null}`, where `total` counts the whole
//! filtered list and `next` is the `after` of the following page (null on the last). Paging
//! is by keyset in the store: rows inserted meanwhile neither repeat nor shift a row.
//!
//! `?format=csv` exports the whole filtered list instead, streamed: the store is read a page of
//! [`MAX_PAGE`] rows at a time and each page is written to the client before the next is read, so
//! an export of any size holds one page in memory. Every cell goes through
//! [`bangfu_core::text::csv_cell`] (a cell typed as `=HYPERLINK(…)` arrives as text).
//!
//! Bad paging or filter parameters are 400 problems saying what was wrong.

use crate::Problem;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bangfu_app::{AppError, AppResult};
use bangfu_store::lists::MAX_PAGE;
use bangfu_store::{Page, PageRequest};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

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

/// The rows of one page of an export, and the `after` of the next page (none: it was the last).
pub(crate) type ExportPage = (Vec<Vec<String>>, Option<i64>);

/// Reads the page of an export after an id (none: the first).
pub(crate) type ExportReader = Box<dyn FnMut(Option<i64>) -> Pin<Box<dyn Future<Output = AppResult<ExportPage>> + Send>> + Send>;

/// A CSV export of a whole list, `name.csv`, streamed page by page (see the module's text). The
/// first page is read before answering, so that a bad filter is still a 400 problem; a failure
/// later ends the stream early (the client sees a cut-off transfer) and is logged.
pub(crate) async fn csv_export(name: &str, header: &'static [&'static str], mut read: ExportReader) -> Result<Response, Problem> {
    let (first, mut next) = read(None).await.map_err(query_problem)?;
    let head = csv_bytes(Some(header), &first).map_err(Problem::from)?;
    // Two pages in flight at most: the store is read no faster than the client takes them.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        if sender.send(Ok(head)).await.is_err() {
            return;
        }
        while let Some(after) = next {
            let bytes = match read(Some(after)).await {
                Ok((rows, following)) => {
                    next = following;
                    csv_bytes(None, &rows)
                }
                Err(e) => Err(e),
            };
            match bytes {
                Ok(bytes) => {
                    if sender.send(Ok(bytes)).await.is_err() {
                        return; // the client went away
                    }
                }
                Err(e) => {
                    eprintln!("a CSV export stopped early: {e}");
                    let _ = sender.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\""))],
        Body::from_stream(stream),
    )
        .into_response())
}

/// One page of rows (after the header, if given) as CSV, each cell neutralised.
fn csv_bytes(header: Option<&[&str]>, rows: &[Vec<String>]) -> AppResult<Bytes> {
    let failed = |e: csv::Error| AppError::Internal(format!("CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header).map_err(failed)?;
    }
    for row in rows {
        writer.write_record(row.iter().map(|cell| bangfu_core::text::csv_cell(cell).into_owned())).map_err(failed)?;
    }
    writer.into_inner().map(Bytes::from).map_err(|e| AppError::Internal(format!("CSV: {e}")))
}

/// The page request an export reads with.
pub(crate) fn export_page(after: Option<i64>) -> PageRequest {
    PageRequest { after, limit: MAX_PAGE }
}
