//! The enterprise's daily returns (日报) — for each day (UTC+8) and product: capacity, output,
//! stock and what it shipped — submitted one at a time or as a spreadsheet
//! ([`crate::returns_sheet`], all rows or none), and listed; and broadcasts of needs.
//!
//! A return filed after it was due ([`bangfu_core::returns::due_at`]: 08:00 UTC+8 the next day)
//! is late: the county department of the case is notified. A correction (a second return for the
//! same case, day and product) replaces the figures and its event keeps the earlier ones
//! (`return.corrected`, `before` and `after`). Missing returns are flagged by the morning pass
//! ([`App::flag_missing_returns`]).

use crate::outbox::Notice;
use bangfu_core::outbox::EventKind;
use crate::error::{bad, text};
use bangfu_core::text::{LONG_CHARS, SHORT_CHARS};
use crate::returns_sheet::{SheetFormat, read_returns};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::{Scope};
use bangfu_core::region::{Level, RegionCode};
use bangfu_core::china_time;
use bangfu_core::returns::{add_days, check_figure, is_late, parse_day};
use bangfu_store::figures::{ReturnListRow, ReturnQuery};
use bangfu_store::{BroadcastRow, CaseRow, DailyReturnRow, Page, PageRequest, WriteTx};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// One day's figures of one product as reported.
#[derive(Clone, Debug, Default)]
pub struct NewDailyReturn {
    /// The day, YYYY-MM-DD (UTC+8).
    pub day: String,
    /// What the figures count: 医用外科口罩, KN95口罩, 医用防护服, …
    pub product: String,
    pub capacity_per_day: f64,
    pub output: f64,
    pub stock: f64,
    pub shipped: f64,
    pub note: String,
}

/// Which returns to list: every field given narrows.
#[derive(Clone, Debug, Default)]
pub struct ReturnFilter {
    /// Returns of enterprises inside this region's jurisdiction.
    pub region: Option<bangfu_core::region::RegionCode>,
    /// Days from and to, YYYY-MM-DD, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub product: Option<String>,
    pub case_id: Option<i64>,
}

/// What an upload wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadReport {
    /// Returns new to the case.
    pub added: usize,
    /// Returns that replaced earlier figures.
    pub corrected: usize,
}

/// A return checked and ready to write.
struct CheckedReturn {
    day: NaiveDate,
    product: String,
    capacity_per_day: f64,
    output: f64,
    stock: f64,
    shipped: f64,
    note: String,
}

/// Checks a return's fields at `now`: a day not after today, a product named, figures of at
/// least 0.
fn check_return(now: DateTime<Utc>, input: &NewDailyReturn) -> Result<CheckedReturn, String> {
    let day = parse_day(&input.day).map_err(|e| format!("day: {e}"))?;
    let today = china_time::day(now);
    if day > today {
        return Err(format!("day: {day} is after today ({today} at UTC+8) — a return reports a day that has begun"));
    }
    let product = bangfu_core::text::clean(&input.product, SHORT_CHARS).map_err(|e| format!("product: {e}"))?;
    if product.is_empty() {
        return Err("product: name what the figures count, such as 医用外科口罩 or KN95口罩".into());
    }
    let note = bangfu_core::text::clean(&input.note, LONG_CHARS).map_err(|e| format!("note: {e}"))?;
    Ok(CheckedReturn {
        day,
        product,
        capacity_per_day: check_figure("capacity_per_day", input.capacity_per_day)?,
        output: check_figure("output", input.output)?,
        stock: check_figure("stock", input.stock)?,
        shipped: check_figure("shipped", input.shipped)?,
        note,
    })
}

fn figures(r: &DailyReturnRow) -> serde_json::Value {
    json!({"capacity_per_day": r.capacity_per_day, "output": r.output, "stock": r.stock, "shipped": r.shipped})
}

impl App {
    /// Records (or corrects) the return of a day and product: the enterprise itself or an
    /// officer of the case.
    pub async fn submit_daily_return(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewDailyReturn) -> AppResult<DailyReturnRow> {
        text("day", &input.day, SHORT_CHARS)?;
        let checked = check_return(now, &input).map_err(bad)?;
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_to_report_on(tx, actor, case_id)?;
            let (row, _) = app.write_return(tx, actor, now, &case, checked)?;
            Ok(row)
        })
        .await
    }

    /// Takes a spreadsheet of returns for a case (CSV or XLSX, see [`crate::returns_sheet`]):
    /// every row is checked first and a bad row refuses the whole file, naming each bad row by
    /// its number; then all rows are written in one transaction, each with its event.
    pub async fn upload_daily_returns(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, bytes: &[u8], format: SheetFormat) -> AppResult<UploadReport> {
        // Who may upload is checked before the file is read, so that a stranger learns nothing.
        self.write_as(actor, move |app, actor, tx| app.case_to_report_on(tx, actor, case_id).map(|_| ())).await?;
        let rows = read_returns(bytes, format).map_err(|errors| bad(errors_text(&errors)))?;
        if rows.is_empty() {
            return Err(bad("the file has a header but no rows of returns"));
        }
        let mut checked = Vec::with_capacity(rows.len());
        let mut errors = Vec::new();
        let mut seen = std::collections::BTreeMap::new();
        for (number, input) in &rows {
            match check_return(now, input) {
                Ok(c) => {
                    if let Some(first) = seen.insert((c.day, c.product.clone()), *number) {
                        errors.push(format!("row {number}: {} {} is already on row {first} — give each day and product once", c.day, c.product));
                    }
                    checked.push(c);
                }
                Err(e) => errors.push(format!("row {number}: {e}")),
            }
        }
        if !errors.is_empty() {
            return Err(bad(errors_text(&errors)));
        }
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_to_report_on(tx, actor, case_id)?;
            let mut report = UploadReport { added: 0, corrected: 0 };
            for c in checked {
                let (_, corrected) = app.write_return(tx, actor, now, &case, c)?;
                if corrected { report.corrected += 1 } else { report.added += 1 }
            }
            Ok(report)
        })
        .await
    }

    /// The case, if `actor` may file returns for it (not found if it may not see it).
    fn case_to_report_on(&self, tx: &mut WriteTx, actor: &Actor, case_id: i64) -> AppResult<CaseRow> {
        let case = tx.case(case_id)?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        let team = tx.team(case_id)?;
        if !access::can_see_case(self.tree, actor, &case, &team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        if !access::may_report_on_case(self.tree, actor, &case, &team) {
            return Err(AppError::Forbidden(format!("{} may not submit returns for case {case_id}", actor.name)));
        }
        Ok(case)
    }

    /// Writes one checked return with its event, and notifies the county when it is late.
    /// Returns the row and whether it corrected an earlier one.
    fn write_return(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, case: &CaseRow, c: CheckedReturn) -> AppResult<(DailyReturnRow, bool)> {
        let day = c.day.to_string();
        let before = tx.daily_return_of(case.id, &day, &c.product)?;
        let mut row = DailyReturnRow {
            id: 0,
            case_id: case.id,
            day,
            product: c.product,
            capacity_per_day: c.capacity_per_day,
            output: c.output,
            stock: c.stock,
            shipped: c.shipped,
            note: c.note,
            reported_at: to_millis(now),
        };
        row.id = tx.upsert_daily_return(&row)?;
        let late = is_late(c.day, now);
        let (action, payload) = match &before {
            Some(earlier) => ("return.corrected", json!({"day": row.day, "product": row.product, "before": figures(earlier), "after": figures(&row), "late": late})),
            None => ("return.submitted", json!({"day": row.day, "product": row.product, "capacity_per_day": row.capacity_per_day, "output": row.output, "stock": row.stock, "shipped": row.shipped, "late": late})),
        };
        Audit { actor, now, action, entity: format!("daily_return:{}", row.id), case_id: Some(case.id), payload }.append(tx)?;
        if late && before.is_none() {
            let enterprise = tx.enterprise(case.enterprise_id)?.map(|e| e.name).unwrap_or_default();
            let notice = Notice {
                event: EventKind::ReturnLate,
                department: self.tree.department_region(case.region),
                need: None,
                text_zh: format!("迟报：{enterprise} {} {} 日报在截止时间后报送", row.day, row.product),
                text_en: format!("Late return: {enterprise}, {} {}, filed after it was due", row.day, row.product),
                why_zh: None,
                link: Some(format!("/cases/{}", case.id)),
                approval: None,
            };
            self.notify(tx, now, notice)?;
        }
        Ok((row, before.is_some()))
    }

    /// The returns of a case, by day and product (not found unless `actor` sees the case).
    pub async fn daily_returns(&self, actor: &Actor, case_id: i64) -> AppResult<Vec<DailyReturnRow>> {
        self.visible_case(actor, case_id).await?;
        Ok(self.store.daily_returns_of_case(case_id).await?)
    }

    /// A page of the returns `actor` may see, narrowed by `filter`, by id.
    pub async fn list_returns(&self, actor: &Actor, filter: &ReturnFilter, page: PageRequest) -> AppResult<Page<ReturnListRow>> {
        Ok(self.store.returns_page(&self.return_query(actor, filter)?, page).await?)
    }

    /// How many returns [`App::list_returns`] pages through.
    pub async fn count_returns(&self, actor: &Actor, filter: &ReturnFilter) -> AppResult<i64> {
        Ok(self.store.count_returns(&self.return_query(actor, filter)?).await?)
    }

    fn return_query(&self, actor: &Actor, filter: &ReturnFilter) -> AppResult<ReturnQuery> {
        let given = |f: &Option<String>| f.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let day = |name: &str, f: &Option<String>| given(f).map(|d| parse_day(&d).map(|d| d.to_string()).map_err(|e| bad(format!("{name}: {e}")))).transpose();
        Ok(ReturnQuery {
            visible: access::visible_cases(self.tree, actor),
            first_day: day("from", &filter.from)?,
            last_day: day("to", &filter.to)?,
            product: given(&filter.product),
            regions: filter.region.map(|r| access::jurisdiction(self.tree, r)).unwrap_or_default(),
            case_id: filter.case_id,
        })
    }

    /// The morning's flags (run by [`App::morning_pass`]): each active case that filed a return in
    /// the week before `day` but none for `day` is flagged to its county department, once per
    /// case and day. Returns how many were flagged.
    pub(crate) fn flag_missing_returns(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, day: NaiveDate) -> AppResult<usize> {
        let missing = tx.cases_missing_return(&day.to_string(), &add_days(day, -7).to_string())?;
        for case in &missing {
            let enterprise = tx.enterprise(case.enterprise_id)?.map(|e| e.name).unwrap_or_default();
            let county = self.tree.department_region(case.region);
            let notice = Notice {
                event: EventKind::ReturnLate,
                department: county,
                need: None,
                text_zh: format!("缺报：{enterprise} 未报送 {day} 的日报"),
                text_en: format!("Missing return: {enterprise} filed no return for {day}"),
                why_zh: None,
                link: Some(format!("/cases/{}", case.id)),
                approval: None,
            };
            self.notify(tx, now, notice)?;
            Audit { actor, now, action: "return.missing", entity: format!("case:{}", case.id), case_id: Some(case.id), payload: json!({"day": day.to_string(), "county": county}) }
                .append(tx)?;
        }
        Ok(missing.len())
    }

    /// Broadcasts a need to the departments one level inside `ring` around the enterprise (the
    /// counties of its city, the cities of its province, the provinces of the nation), so that
    /// their officers see it and can put forward candidates. Returns the departments reached.
    pub async fn broadcast_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, ring: Scope) -> AppResult<Vec<String>> {
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_decide(tx, actor, need_id)?;
            let enterprise = case.region;
            let targets: Vec<RegionCode> = match ring {
                Scope::Local => vec![app.tree.department_region(enterprise)],
                Scope::City => match app.tree.city_of(enterprise) {
                    Some(city) => std::iter::once(city.code).chain(app.tree.iter().filter(|r| r.level == Level::County && app.tree.city_of(r.code).map(|c| c.code) == Some(city.code)).map(|r| r.code)).collect(),
                    None => return Err(bad("ring: the enterprise has no city (a county administered by its province) — broadcast to the province")),
                },
                Scope::Province => {
                    let province = app.tree.province_of(enterprise).ok_or_else(|| AppError::Internal("no province".into()))?.code;
                    std::iter::once(province).chain(app.tree.children(province).filter(|r| r.level == Level::City).map(|r| r.code)).collect()
                }
                Scope::National => app.tree.iter().filter(|r| r.level == Level::Province && r.parent.is_none()).map(|r| r.code).collect(),
            };
            let mut reached = Vec::new();
            for department in targets {
                if tx.insert_broadcast(&BroadcastRow { need_id, department, at: to_millis(now) })? {
                    let notice = Notice {
                        event: EventKind::Broadcast,
                        department,
                        need: Some(&need),
                        text_zh: format!("协查请求：{}，请推荐可用提供方", need.title),
                        text_en: format!("Request for help: {} — please put forward providers", need.title),
                        why_zh: None,
                        link: None,
                        approval: None,
                    };
                    app.notify(tx, now, notice)?;
                    reached.push(department.to_string());
                }
            }
            Audit { actor, now, action: "need.broadcast", entity: format!("need:{need_id}"), case_id: Some(case.id), payload: json!({"ring": ring.as_str(), "departments": reached}) }
                .append(tx)?;
            Ok(reached)
        })
        .await
    }
}

/// Errors of an upload as one message: each on its own line, the first 50 and how many more.
fn errors_text(errors: &[String]) -> String {
    let mut lines: Vec<String> = errors.iter().take(50).cloned().collect();
    if errors.len() > 50 {
        lines.push(format!("… and {} more rows", errors.len() - 50));
    }
    format!("nothing was written — correct these rows and upload the whole file again:\n{}", lines.join("\n"))
}
