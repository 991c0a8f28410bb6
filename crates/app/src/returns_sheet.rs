//! A spreadsheet of daily returns, as an enterprise or its officer uploads it (CSV or XLSX): a
//! header row naming the columns (English or Chinese, in any order) and one row per day and
//! product. Every row is checked before anything is written; the answer to a bad file lists each
//! wrong row by its number in the spreadsheet (the header is row 1), so the whole file is taken or
//! none of it.
//!
//! | column | 列名 | |
//! |---|---|---|
//! | `day` | 日期 | 2020-02-13, or a date cell |
//! | `product` | 产品 | 医用外科口罩 |
//! | `capacity_per_day` | 产能 | units a day |
//! | `output` | 产量 | |
//! | `stock` | 库存 | |
//! | `shipped` | 发货 | optional, 0 when absent |
//! | `note` | 备注 | optional |

use crate::returns::NewDailyReturn;
use calamine::{Data, Reader};

/// At most this many rows in one upload.
pub const MAX_ROWS: usize = 10_000;

/// The format of an uploaded sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    /// The format of a file from its name's extension or its content type; none if neither says.
    pub fn detect(file_name: &str, content_type: &str) -> Option<SheetFormat> {
        let name = file_name.to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if name.ends_with(".xlsx") || essence == XLSX_TYPE {
            Some(SheetFormat::Xlsx)
        } else if name.ends_with(".csv") || essence == "text/csv" {
            Some(SheetFormat::Csv)
        } else {
            None
        }
    }
}

/// The content type of an XLSX file.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// One cell as read: text or a number (a date cell is its serial number).
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Date(f64),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) | Cell::Date(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

const COLUMNS: [(&str, &str); 7] = [
    ("day", "日期"),
    ("product", "产品"),
    ("capacity_per_day", "产能"),
    ("output", "产量"),
    ("stock", "库存"),
    ("shipped", "发货"),
    ("note", "备注"),
];
const REQUIRED: [&str; 5] = ["day", "product", "capacity_per_day", "output", "stock"];

/// Reads the returns of a sheet: every row, or every error with its row number.
pub fn read_returns(bytes: &[u8], format: SheetFormat) -> Result<Vec<(usize, NewDailyReturn)>, Vec<String>> {
    let rows = match format {
        SheetFormat::Csv => csv_rows(bytes),
        SheetFormat::Xlsx => xlsx_rows(bytes),
    }
    .map_err(|e| vec![e])?;
    let Some((header, body)) = rows.split_first() else {
        return Err(vec!["the file is empty — the first row names the columns: day, product, capacity_per_day, output, stock, shipped, note".into()]);
    };
    let mut index = [None; COLUMNS.len()];
    for (at, cell) in header.iter().enumerate() {
        let name = cell.text().to_lowercase();
        match COLUMNS.iter().position(|(en, zh)| name == *en || name == *zh || name.starts_with(&format!("{zh}/")) || name.ends_with(&format!("/{en}"))) {
            Some(column) => index[column] = Some(at),
            None if name.is_empty() => {}
            None => return Err(vec![format!("row 1: column {name:?} is not one of day, product, capacity_per_day, output, stock, shipped, note (日期, 产品, 产能, 产量, 库存, 发货, 备注)")]),
        }
    }
    let missing: Vec<&str> = REQUIRED.iter().filter(|r| index[COLUMNS.iter().position(|(en, _)| en == *r).unwrap_or(0)].is_none()).copied().collect();
    if !missing.is_empty() {
        return Err(vec![format!("row 1: the columns {} are missing — the first row names the columns", missing.join(", "))]);
    }
    if body.len() > MAX_ROWS {
        return Err(vec![format!("the file has {} rows; upload at most {MAX_ROWS} at a time", body.len())]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (n, row) in body.iter().enumerate() {
        let number = n + 2;
        let cell = |column: usize| index[column].and_then(|i| row.get(i)).cloned().unwrap_or(Cell::Empty);
        if (0..COLUMNS.len()).all(|c| cell(c) == Cell::Empty || cell(c).text().is_empty()) {
            continue;
        }
        match parse_row(&cell) {
            Ok(ret) => out.push((number, ret)),
            Err(e) => errors.push(format!("row {number}: {e}")),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn parse_row(cell: &dyn Fn(usize) -> Cell) -> Result<NewDailyReturn, String> {
    let day = match cell(0) {
        Cell::Date(serial) | Cell::Number(serial) => excel_date(serial).ok_or_else(|| format!("day: {serial} is not a date"))?,
        other => other.text(),
    };
    let number = |column: usize, optional: bool| -> Result<f64, String> {
        let name = COLUMNS[column].0;
        match cell(column) {
            Cell::Number(n) => Ok(n),
            Cell::Empty if optional => Ok(0.0),
            other => {
                let text = other.text().replace(',', "");
                if text.is_empty() && optional {
                    return Ok(0.0);
                }
                text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{name}: {:?} is not a number", other.text()))
            }
        }
    };
    Ok(NewDailyReturn {
        day,
        product: cell(1).text(),
        capacity_per_day: number(2, false)?,
        output: number(3, false)?,
        stock: number(4, false)?,
        shipped: number(5, true)?,
        note: cell(6).text(),
    })
}

/// The date of a spreadsheet's serial day number (1900 system: day 1 is 1900-01-01, with the
/// 1900 leap-year bug, so serials from 61 count from 1899-12-30).
fn excel_date(serial: f64) -> Option<String> {
    if !(61.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    Some(base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))?.to_string())
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, String> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(|_| "the CSV file is not UTF-8 text — save it as CSV UTF-8".to_string())?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", n + 1))?;
        rows.push(record.iter().map(|c| if c.trim().is_empty() { Cell::Empty } else { Cell::Text(c.to_string()) }).collect());
        if rows.len() > MAX_ROWS + 1 {
            break;
        }
    }
    Ok(rows)
}

fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, String> {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| format!("the file is not an XLSX workbook ({e}) — save it as Excel Workbook (.xlsx) or CSV"))?;
    let range = book.worksheet_range_at(0).ok_or("the workbook has no sheet")?.map_err(|e| format!("the first sheet cannot be read: {e}"))?;
    // Rows from the first row of the sheet, so that numbers are the spreadsheet's.
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Cell>> = (0..first_row).map(|_| Vec::new()).collect();
    for row in range.rows().take(MAX_ROWS + 2) {
        let mut cells: Vec<Cell> = (0..first_column).map(|_| Cell::Empty).collect();
        cells.extend(row.iter().map(|c| match c {
            Data::Int(i) => Cell::Number(*i as f64),
            Data::Float(f) => Cell::Number(*f),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
            Data::Bool(b) => Cell::Text(b.to_string()),
            Data::DateTime(d) => Cell::Date(d.as_f64()),
            Data::Error(e) => Cell::Text(format!("#{e:?}")),
            Data::Empty => Cell::Empty,
        }));
        rows.push(cells);
    }
    // A header on a later row than 1 leaves empty rows above it: drop them, keeping numbers.
    let leading = rows.iter().take_while(|r| r.is_empty()).count();
    if leading > 0 {
        return Err(format!("the header must be on row 1 of the first sheet (it is on row {})", leading + 1));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_with_chinese_headers_reads_every_row() {
        let file = "日期,产品,产能,产量,库存,发货\n2020-02-13,医用外科口罩,100000,80000,1000,79000\n2020-02-13,KN95口罩,5000,\"4,000\",0,4000\n";
        let rows = read_returns(file.as_bytes(), SheetFormat::Csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[1].1.output, 4000.0);
        assert_eq!(rows[0].1.product, "医用外科口罩");
    }

    #[test]
    fn every_bad_row_is_named_by_its_number() {
        let file = "day,product,capacity_per_day,output,stock\n2020-02-13,N95,1,1,1\n2020-13-01,N95,1,1,1\n2020-02-14,N95,x,1,1\n";
        let errors = read_returns(file.as_bytes(), SheetFormat::Csv).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("row 4: capacity_per_day"), "{errors:?}");
    }

    #[test]
    fn a_missing_column_is_refused_naming_it() {
        let errors = read_returns(b"day,product,output\n", SheetFormat::Csv).unwrap_err();
        assert!(errors[0].contains("capacity_per_day, stock"), "{errors:?}");
    }

    #[test]
    fn a_serial_date_is_its_calendar_day() {
        assert_eq!(excel_date(43874.0).as_deref(), Some("2020-02-13"));
    }

    #[test]
    fn a_file_that_is_not_a_workbook_says_so() {
        let errors = read_returns(b"day,product", SheetFormat::Xlsx).unwrap_err();
        assert!(errors[0].contains("not an XLSX workbook"), "{errors:?}");
    }
}
