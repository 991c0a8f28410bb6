//! The exports of every list — needs, cases, providers (one row per capability), returns,
//! letters, a case's events — as CSV or XLSX, the same rows for the API (`?format=csv|xlsx`) and
//! for the pages' download links (`/export/{list}`, on the session). Each export is a header and
//! a reader of pages of typed cells ([`Cell`]): numbers stay numbers, times are dates at UTC+8.
//!
//! Both formats stream: the store is read a page at a time. CSV pages go to the client as they
//! are read. An XLSX file is a zip whose parts are written at the end, so its rows go one by one
//! into a worksheet in rust_xlsxwriter's constant-memory mode (each row flushed to a temporary
//! file as written; memory stays that of one page and one row), and the zip is streamed to the
//! client when the last page is in. Formula-like text (`=`, `+`, `-`, `@`, tab, CR) is written as
//! text: in CSV through [`bangfu_core::text::csv_cell`], in XLSX as a string cell with Excel's
//! quote prefix (shown as typed, never evaluated).

use crate::Problem;
use crate::lists::query_problem;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bangfu_app::{AppError, AppResult, from_millis};
use bangfu_store::PageRequest;
use bangfu_store::lists::MAX_PAGE;
use std::future::Future;
use std::pin::Pin;

/// One cell of an export.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Number(f64),
    /// A moment (UTC milliseconds), shown at UTC+8.
    Time(i64),
    /// A calendar day, YYYY-MM-DD.
    Day(String),
    Empty,
}

impl Cell {
    pub(crate) fn text(t: impl Into<String>) -> Cell {
        Cell::Text(t.into())
    }

    pub(crate) fn int(n: i64) -> Cell {
        Cell::Number(n as f64)
    }

    pub(crate) fn time(ms: Option<i64>) -> Cell {
        ms.map_or(Cell::Empty, Cell::Time)
    }

    /// The cell as CSV text (neutralised when written).
    fn csv(&self) -> String {
        match self {
            Cell::Text(t) | Cell::Day(t) => t.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Time(ms) => crate::json::time(*ms),
            Cell::Empty => String::new(),
        }
    }
}

/// The rows of one page of an export, and the `after` of the next page (none: it was the last).
pub(crate) type ExportPage = (Vec<Vec<Cell>>, Option<i64>);

/// Reads the page of an export after an id (none: the first).
pub(crate) type ExportReader = Box<dyn FnMut(Option<i64>) -> Pin<Box<dyn Future<Output = AppResult<ExportPage>> + Send>> + Send>;

/// An export: its file name (without extension), header and reader.
pub(crate) struct Export {
    pub name: &'static str,
    pub header: &'static [&'static str],
    pub read: ExportReader,
}

/// The format of a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    Csv,
    Xlsx,
}

/// The page request an export reads with.
pub(crate) fn export_page(after: Option<i64>) -> PageRequest {
    PageRequest { after, limit: MAX_PAGE }
}

/// The export as a streamed answer in `format`.
pub(crate) async fn respond(format: ExportFormat, export: Export) -> Result<Response, Problem> {
    match format {
        ExportFormat::Csv => csv_export(export).await,
        ExportFormat::Xlsx => xlsx_export(export).await,
    }
}

/// A CSV export, streamed page by page. The first page is read before answering, so that a bad
/// filter is still a 400 problem; a failure later ends the stream early (the client sees a
/// cut-off transfer) and is logged.
async fn csv_export(mut export: Export) -> Result<Response, Problem> {
    let (first, mut next) = (export.read)(None).await.map_err(query_problem)?;
    let head = csv_bytes(Some(export.header), &first).map_err(Problem::from)?;
    // Two pages in flight at most: the store is read no faster than the client takes them.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    let mut read = export.read;
    tokio::spawn(crate::logs::carried(async move {
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
                    tracing::error!("a CSV export stopped early: {e}");
                    let _ = sender.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
    }));
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.csv\"", export.name))],
        Body::from_stream(stream),
    )
        .into_response())
}

/// One page of rows (after the header, if given) as CSV, each cell neutralised.
fn csv_bytes(header: Option<&[&str]>, rows: &[Vec<Cell>]) -> AppResult<Bytes> {
    let failed = |e: csv::Error| AppError::internal("CSV", &e);
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header).map_err(failed)?;
    }
    for row in rows {
        writer.write_record(row.iter().map(|cell| bangfu_core::text::csv_cell(&cell.csv()).into_owned())).map_err(failed)?;
    }
    writer.into_inner().map(Bytes::from).map_err(|e| AppError::internal("CSV", e.error()))
}

/// What the XLSX thread is sent: a page of rows, or the end.
enum ToSheet {
    Rows(Vec<Vec<Cell>>),
    Done,
}

/// An XLSX export: pages are read here and handed to a blocking thread that writes each row into
/// a constant-memory worksheet; after the last page the thread writes the zip into the answer's
/// body. One page is in flight at a time.
async fn xlsx_export(mut export: Export) -> Result<Response, Problem> {
    let (first, mut next) = (export.read)(None).await.map_err(query_problem)?;
    let (to_sheet, rows) = std::sync::mpsc::sync_channel::<ToSheet>(1);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let header = export.header;
    let body_sender = sender.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _in_request = span.enter();
        if let Err(e) = write_xlsx(header, rows, &body_sender) {
            tracing::error!("an XLSX export stopped early: {e}");
            let _ = body_sender.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let mut read = export.read;
    tokio::spawn(crate::logs::carried(async move {
        let send = |message| {
            let to_sheet = to_sheet.clone();
            async move { tokio::task::spawn_blocking(move || to_sheet.send(message).is_ok()).await.unwrap_or(false) }
        };
        if !send(ToSheet::Rows(first)).await {
            return;
        }
        while let Some(after) = next {
            match read(Some(after)).await {
                Ok((page, following)) => {
                    next = following;
                    if !send(ToSheet::Rows(page)).await {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!("an XLSX export stopped early: {e}");
                    let _ = sender.send(Err(std::io::Error::other(e.to_string()))).await;
                    return; // dropping the channel ends the sheet without a zip
                }
            }
        }
        send(ToSheet::Done).await;
    }));
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    Ok((
        [
            (header::CONTENT_TYPE, bangfu_app::returns_sheet::XLSX_TYPE.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.xlsx\"", export.name)),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Writes the body of the answer, a chunk at a time, from the XLSX thread.
struct BodyWriter<'a> {
    sender: &'a tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl std::io::Write for BodyWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sender.blocking_send(Ok(Bytes::copy_from_slice(buf))).map_err(|_| std::io::Error::other("the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Column width for a cell, in characters (CJK counted twice), kept between 8 and 60.
fn width_of(cell: &Cell) -> f64 {
    let chars = |t: &str| t.chars().map(|c| if c.is_ascii() { 1.0 } else { 2.0 }).sum::<f64>();
    let w = match cell {
        Cell::Text(t) => chars(t.lines().next().unwrap_or_default()),
        Cell::Day(_) => 11.0,
        Cell::Time(_) => 17.0,
        Cell::Number(n) => n.to_string().len() as f64,
        Cell::Empty => 0.0,
    };
    (w + 2.0).clamp(8.0, 60.0)
}

fn write_xlsx(header: &[&str], rows: std::sync::mpsc::Receiver<ToSheet>, body: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) -> Result<(), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let bold = Format::new().set_bold();
    let as_text = Format::new().set_quote_prefix();
    let moment = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    // Widths are set before the rows (constant-memory mode writes them first): from the header
    // and the first page.
    let first = match rows.recv() {
        Ok(ToSheet::Rows(r)) => r,
        _ => return Ok(()),
    };
    for (column, name) in header.iter().enumerate() {
        let widest = first.iter().filter_map(|r| r.get(column)).map(width_of).fold(width_of(&Cell::text(*name)), f64::max);
        sheet.set_column_width(column as u16, widest)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (column, name) in header.iter().enumerate() {
        sheet.write_string_with_format(0, column as u16, *name, &bold)?;
    }
    let mut row_number: u32 = 1;
    let mut write_rows = |sheet: &mut rust_xlsxwriter::Worksheet, page: Vec<Vec<Cell>>| -> Result<(), rust_xlsxwriter::XlsxError> {
        for row in page {
            for (column, cell) in row.into_iter().enumerate() {
                let column = column as u16;
                match cell {
                    Cell::Text(t) if bangfu_core::text::csv_cell(&t) != t.as_str() => {
                        sheet.write_string_with_format(row_number, column, &t, &as_text)?;
                    }
                    Cell::Text(t) => {
                        sheet.write_string(row_number, column, &t)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(row_number, column, n)?;
                    }
                    Cell::Time(ms) => {
                        // Excel keeps no time zone: the wall-clock time at UTC+8.
                        let seconds = from_millis(ms).timestamp() + i64::from(bangfu_core::china_time::OFFSET_S);
                        sheet.write_datetime_with_format(row_number, column, ExcelDateTime::from_timestamp(seconds)?, &moment)?;
                    }
                    Cell::Day(d) => match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                        Ok(day) => {
                            use chrono::Datelike;
                            let value = ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)?;
                            sheet.write_datetime_with_format(row_number, column, value, &date)?;
                        }
                        Err(_) => {
                            sheet.write_string(row_number, column, &d)?;
                        }
                    },
                    Cell::Empty => {}
                }
            }
            row_number += 1;
        }
        Ok(())
    };
    write_rows(sheet, first)?;
    loop {
        match rows.recv() {
            Ok(ToSheet::Rows(page)) => write_rows(sheet, page)?,
            Ok(ToSheet::Done) => break,
            Err(_) => return Ok(()), // the reader failed or the client went away: no zip
        }
    }
    workbook.save_to_writer(BodyWriter { sender: body })
}

// ---- the exports of the lists ----

use bangfu_app::registry_search::ProviderSearch;
use bangfu_app::returns::ReturnFilter;
use bangfu_app::views::{CaseFilter, LetterFilter, NeedFilter};
use bangfu_app::{Actor, App};

/// Makes a reader from a function of (app, actor, filter, after).
macro_rules! reader {
    ($app:expr, $actor:expr, $filter:expr, |$a:ident, $b:ident, $f:ident, $after:ident| $body:expr) => {{
        let (app, actor, filter) = ($app, $actor, $filter);
        Box::new(move |$after: Option<i64>| {
            let ($a, $b, $f) = (app.clone(), actor.clone(), filter.clone());
            Box::pin(async move { $body }) as Pin<Box<dyn Future<Output = AppResult<ExportPage>> + Send>>
        })
    }};
}

pub(crate) fn needs(app: std::sync::Arc<App>, actor: Actor, filter: NeedFilter) -> Export {
    let read = reader!(app, actor, filter, |app, actor, filter, after| {
        let page = app.list_needs(&actor, &filter, export_page(after)).await?;
        let rows = page
            .items
            .iter()
            .map(|n| {
                vec![
                    Cell::int(n.id),
                    Cell::int(n.case_id),
                    Cell::text(n.kind.as_str()),
                    Cell::text(&n.title),
                    Cell::Number(n.quantity),
                    Cell::text(&n.unit),
                    Cell::text(n.status.as_str()),
                    Cell::text(n.scope.as_str()),
                    Cell::text(n.owner.to_string()),
                    Cell::Time(n.created_at),
                ]
            })
            .collect();
        Ok((rows, page.next))
    });
    Export { name: "needs", header: &["id", "case_id", "kind", "title", "quantity", "unit", "status", "scope", "owner", "created_at"], read }
}

pub(crate) fn cases(app: std::sync::Arc<App>, actor: Actor, filter: CaseFilter) -> Export {
    let read = reader!(app, actor, filter, |app, actor, filter, after| {
        let page = app.list_cases(&actor, &filter, export_page(after)).await?;
        let rows = page
            .items
            .iter()
            .map(|c| vec![Cell::int(c.case.id), Cell::text(&c.enterprise.name), Cell::text(c.case.region.to_string()), Cell::text(c.case.status.as_str()), Cell::Time(c.case.opened_at), Cell::int(c.needs as i64), Cell::int(c.open_needs as i64)])
            .collect();
        Ok((rows, page.next))
    });
    Export { name: "cases", header: &["id", "enterprise", "region", "status", "opened_at", "needs", "open_needs"], read }
}

pub(crate) fn providers(app: std::sync::Arc<App>, actor: Actor, search: ProviderSearch) -> Export {
    let read = reader!(app, actor, search, |app, actor, search, after| {
        let page = app.search_providers(&actor, &search, export_page(after)).await?;
        let rows = page
            .items
            .iter()
            .flat_map(|(p, caps)| caps.iter().map(move |c| vec![Cell::int(p.id), Cell::text(&p.key), Cell::text(&p.name), Cell::text(p.region.to_string()), Cell::text(c.kind.as_str()), Cell::text(c.available.to_string()), Cell::text(serde_json::to_string(&c.attrs).unwrap_or_default())]))
            .collect();
        Ok((rows, page.next))
    });
    Export { name: "capabilities", header: &["provider_id", "key", "name", "region", "kind", "available", "attrs"], read }
}

pub(crate) fn returns(app: std::sync::Arc<App>, actor: Actor, filter: ReturnFilter) -> Export {
    let read = reader!(app, actor, filter, |app, actor, filter, after| {
        let page = app.list_returns(&actor, &filter, export_page(after)).await?;
        let rows = page
            .items
            .iter()
            .map(|r| {
                let x = &r.ret;
                vec![
                    Cell::int(x.id),
                    Cell::int(x.case_id),
                    Cell::text(&r.enterprise),
                    Cell::text(r.region.to_string()),
                    Cell::Day(x.day.clone()),
                    Cell::text(&x.product),
                    Cell::Number(x.capacity_per_day),
                    Cell::Number(x.output),
                    Cell::Number(x.stock),
                    Cell::Number(x.shipped),
                    Cell::text(&x.note),
                    Cell::Time(x.reported_at),
                ]
            })
            .collect();
        Ok((rows, page.next))
    });
    Export { name: "returns", header: &["id", "case_id", "enterprise", "region", "day", "product", "capacity_per_day", "output", "stock", "shipped", "note", "reported_at"], read }
}

pub(crate) fn letters(app: std::sync::Arc<App>, actor: Actor, filter: LetterFilter) -> Export {
    let read = reader!(app, actor, filter, |app, actor, filter, after| {
        let page = app.list_letters(&actor, &filter, export_page(after)).await?;
        let rows = page
            .items
            .iter()
            .map(|l| {
                let recipients = l.recipients.iter().map(|r| r.name.zh.clone()).collect::<Vec<_>>().join("、");
                vec![Cell::int(l.id), Cell::int(l.need_id), Cell::text(&l.number), Cell::text(l.sender.to_string()), Cell::text(recipients), Cell::text(&l.subject), Cell::text(l.status.as_str()), Cell::Time(l.created_at), Cell::time(l.sent_at), Cell::time(l.acknowledged_at)]
            })
            .collect();
        Ok((rows, page.next))
    });
    Export { name: "letters", header: &["id", "need_id", "number", "sender", "recipients", "subject", "status", "created_at", "sent_at", "acknowledged_at"], read }
}

pub(crate) fn case_events(app: std::sync::Arc<App>, actor: Actor, case_id: i64) -> Export {
    let read = reader!(app, actor, case_id, |app, actor, case_id, after| {
        let (page, _) = app.case_events(&actor, case_id, export_page(after)).await?;
        let rows = page.items.iter().map(|e| vec![Cell::int(e.seq), Cell::Time(e.at), Cell::text(&e.actor), Cell::text(&e.action), Cell::text(&e.entity), Cell::text(&e.payload), Cell::text(&e.hash)]).collect();
        Ok((rows, page.next))
    });
    Export { name: "events", header: &["seq", "at", "actor", "action", "entity", "payload", "hash"], read }
}
