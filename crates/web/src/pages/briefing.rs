//! The daily briefing (每日专报) for leadership (`/briefing?region=…&day=…`, the home page of a
//! viewer): the headline figures against the day before, leadership's decisions, the blockers
//! holding back the most output, escalations, letters awaiting an answer and the week's charts
//! beside their tables, as kept by the morning pass (`App::briefing`). Printable from the browser,
//! and downloadable (`/briefing/download?format=pdf|xlsx&…`): the PDF is the same page printed by
//! [`crate::pdf`], the XLSX one sheet per part of the briefing.

use super::charts::ChartView;
use super::figures::{Crumb, charts_of};
use super::session::{PageUser, render};
use super::ui::{Lang, Ui, download_href, time, trim};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bangfu_app::AppError;
use bangfu_app::briefing::{Briefing, NeedLine};
use bangfu_core::region::RegionTree;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct BriefingQuery {
    region: Option<String>,
    day: Option<String>,
    format: Option<String>,
}

pub struct HeadlineRow {
    label: String,
    day: String,
    before: String,
    change: String,
    class: &'static str,
}

pub struct NeedRowView {
    need_id: i64,
    title: String,
    owner: String,
    /// Blockers: hours first output is held back, marked when the default (no plan holds the need).
    hours: String,
    /// Blockers: the case's expected daily output, marked when estimated; empty when unknown.
    daily_output: String,
    /// Blockers: output held back; empty when the daily output is unknown.
    held_back: String,
}

pub struct LetterRowView {
    letter_id: i64,
    need_id: i64,
    number: String,
    subject: String,
    sent: String,
}

/// What both the page and the printed document show (`templates/briefing_body.html`).
struct Body {
    department_name: String,
    day: String,
    generated: String,
    headline: Vec<HeadlineRow>,
    decisions: Vec<NeedRowView>,
    decisions_total: usize,
    blockers: Vec<NeedRowView>,
    blockers_total: usize,
    escalated: Vec<NeedRowView>,
    escalated_total: usize,
    letters: Vec<LetterRowView>,
    letters_total: usize,
    charts: Vec<ChartView>,
}

#[derive(Template)]
#[template(path = "briefing.html")]
struct BriefingPage {
    ui: Ui,
    body: Body,
    pdf_href: String,
    xlsx_href: String,
    figures_href: String,
    earlier: Vec<Crumb>,
}

#[derive(Template)]
#[template(path = "briefing_print.html")]
struct BriefingPrint {
    ui: Ui,
    css: &'static str,
    body: Body,
}

fn body(tree: &RegionTree, b: &Briefing, lang: Lang) -> Body {
    let need = |n: &NeedLine| NeedRowView {
        need_id: n.need_id,
        title: n.title.clone(),
        owner: lang.department(tree, &n.owner),
        hours: if n.from_plan { trim(n.hours) } else { format!("{}*", trim(n.hours)) },
        daily_output: n.daily_output.map(|d| if n.output_estimated { format!("{}†", trim(d)) } else { trim(d) }).unwrap_or_default(),
        held_back: n.daily_output.map(|_| trim(n.held_back)).unwrap_or_default(),
    };
    Body {
        department_name: tree.get(b.department).map_or_else(|| b.department.to_string(), |r| r.name.clone()),
        day: b.day.to_string(),
        generated: time(b.generated_at.timestamp_millis()),
        headline: b
            .headline
            .iter()
            .map(|h| {
                let change = h.day - h.before;
                HeadlineRow {
                    label: lang.pick(&h.label_zh, &h.label_en).to_string(),
                    day: trim(h.day),
                    before: trim(h.before),
                    change: if change > 0.0 { format!("+{}", trim(change)) } else { trim(change) },
                    class: if change > 0.0 { "up" } else if change < 0.0 { "down" } else { "" },
                }
            })
            .collect(),
        decisions: b.decisions.iter().map(need).collect(),
        decisions_total: b.decisions_total,
        blockers: b.blockers.iter().map(need).collect(),
        blockers_total: b.blockers_total,
        escalated: b.escalated.iter().map(need).collect(),
        escalated_total: b.escalated_total,
        letters: b
            .letters
            .iter()
            .map(|l| LetterRowView { letter_id: l.letter_id, need_id: l.need_id, number: l.number.clone(), subject: l.subject.clone(), sent: l.sent_at.map(time).unwrap_or_default() })
            .collect(),
        letters_total: b.letters_total,
        charts: charts_of(&b.figures, lang, "b-").iter().map(ChartView::from).collect(),
    }
}

async fn briefing_of(state: &AppState, user: &PageUser, query: &BriefingQuery) -> Result<Briefing, AppError> {
    let day = query.day.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(|d| bangfu_core::returns::parse_day(d).map_err(|e| AppError::BadInput(format!("day: {e}")))).transpose()?;
    let region = query.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
    state.app.briefing(&user.actor, clock::now(), region, day).await
}

pub async fn show(State(state): State<AppState>, user: PageUser, Query(query): Query<BriefingQuery>) -> Response {
    let lang = user.lang;
    let briefing = match briefing_of(&state, &user, &query).await {
        Ok(b) => b,
        Err(e) => return user.fail(&state, e),
    };
    let tree = state.app.tree();
    let b = body(tree, &briefing, lang);
    let (region, day) = (briefing.department.to_string(), briefing.day.to_string());
    let params = [("region", region.as_str()), ("day", day.as_str())];
    let earlier = match state.app.briefing_days(briefing.department).await {
        Ok(days) => days.iter().filter(|d| **d != briefing.day).take(14).map(|d| Crumb { name: d.to_string(), href: format!("/briefing?region={region}&day={d}") }).collect(),
        Err(e) => return user.fail(&state, e),
    };
    let ui = user.ui(&state, "briefing", format!("{} {} {}", b.department_name, lang.pick("每日专报", "daily briefing"), b.day));
    render(&BriefingPage {
        ui,
        pdf_href: format!("{}&format=pdf", download_href("briefing", &params).replacen("/export/briefing", "/briefing/download", 1)),
        xlsx_href: format!("{}&format=xlsx", download_href("briefing", &params).replacen("/export/briefing", "/briefing/download", 1)),
        figures_href: format!("/figures?region={region}&to={day}&days=7"),
        earlier,
        body: b,
    })
}

pub async fn download(State(state): State<AppState>, user: PageUser, Query(query): Query<BriefingQuery>) -> Response {
    let lang = user.lang;
    let briefing = match briefing_of(&state, &user, &query).await {
        Ok(b) => b,
        Err(e) => return user.fail(&state, e),
    };
    let name = format!("briefing-{}-{}", briefing.department, briefing.day);
    match query.format.as_deref().unwrap_or("pdf") {
        "pdf" => {
            let b = body(state.app.tree(), &briefing, lang);
            let page = BriefingPrint {
                ui: user.ui(&state, "briefing", b.department_name.clone()),
                css: super::assets::STYLE,
                body: b,
            };
            let html = match page.render() {
                Ok(html) => html,
                Err(e) => return user.fail(&state, AppError::internal("drawing the briefing", &e)),
            };
            match state.settings.printer.pdf(&html).await {
                Ok(pdf) => ([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.pdf\""))], pdf).into_response(),
                Err(e) => user.fail(&state, AppError::internal("printing the briefing", &e)),
            }
        }
        "xlsx" => match briefing_xlsx(state.app.tree(), &briefing, lang) {
            Ok(bytes) => ([(header::CONTENT_TYPE, bangfu_app::returns_sheet::XLSX_TYPE.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.xlsx\""))], bytes).into_response(),
            Err(e) => user.fail(&state, AppError::internal("writing the briefing's workbook", &e)),
        },
        other => user.fail(&state, AppError::BadInput(format!("format: {other:?} — use pdf or xlsx"))),
    }
}

/// The briefing as a workbook: the headline, each chart's table, and the lists, a sheet each.
fn briefing_xlsx(tree: &RegionTree, b: &Briefing, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    let text_cell = |sheet: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, t: &str| -> Result<(), rust_xlsxwriter::XlsxError> {
        if bangfu_core::text::csv_cell(t) != t { sheet.write_string_with_format(r, c, t, &Format::new().set_quote_prefix())?; } else { sheet.write_string(r, c, t)?; }
        Ok(())
    };
    let sheet = book.add_worksheet().set_name(lang.pick("主要数据", "Headline"))?;
    for (c, h) in [lang.pick("项目", "Figure"), &b.day.to_string(), lang.pick("前一日", "Day before")].iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, h) in b.headline.iter().enumerate() {
        text_cell(sheet, r as u32 + 1, 0, lang.pick(&h.label_zh, &h.label_en))?;
        sheet.write_number(r as u32 + 1, 1, h.day)?;
        sheet.write_number(r as u32 + 1, 2, h.before)?;
    }
    sheet.set_column_width(0, 36)?;
    sheet.set_freeze_panes(1, 0)?;
    for (i, chart) in charts_of(&b.figures, lang, "").iter().enumerate() {
        let table = chart.table();
        let sheet = book.add_worksheet().set_name(format!("{} {}", lang.pick("图表", "Chart"), i + 1))?;
        text_cell(sheet, 0, 0, &chart.title)?;
        sheet.write_string_with_format(1, 0, &table.category, &bold)?;
        for (c, (h, _)) in table.head.iter().enumerate() {
            sheet.write_string_with_format(1, c as u16 + 1, h, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            text_cell(sheet, r as u32 + 2, 0, &row.category)?;
            for (c, v) in row.cells.iter().enumerate() {
                sheet.write_number(r as u32 + 2, c as u16 + 1, v.parse::<f64>().unwrap_or(0.0))?;
            }
        }
        sheet.set_column_width(0, 14)?;
        sheet.set_freeze_panes(2, 1)?;
    }
    for (name, lines, blockers) in [(lang.pick("需领导决策", "Decisions"), &b.decisions, false), (lang.pick("卡点", "Blockers"), &b.blockers, true), (lang.pick("已上报", "Escalated"), &b.escalated, false)] {
        let sheet = book.add_worksheet().set_name(name)?;
        let mut head = vec!["need_id", lang.pick("诉求", "Need"), lang.pick("责任部门", "Owner")];
        if blockers {
            head.extend([
                lang.pick("推迟首日产出（小时）", "Hours first output held back"),
                lang.pick("小时数来源", "Hours from"),
                lang.pick("预计日产量", "Expected daily output"),
                lang.pick("日产量为估计", "Output estimated"),
                lang.pick("影响产量", "Output held back"),
            ]);
        }
        for (c, h) in head.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, n) in lines.iter().enumerate() {
            let r = r as u32 + 1;
            sheet.write_number(r, 0, n.need_id as f64)?;
            text_cell(sheet, r, 1, &n.title)?;
            text_cell(sheet, r, 2, &lang.department(tree, &n.owner))?;
            if blockers {
                sheet.write_number(r, 3, n.hours)?;
                sheet.write_string(r, 4, if n.from_plan { lang.pick("生产计划", "plan") } else { lang.pick("默认", "default") })?;
                if let Some(d) = n.daily_output {
                    sheet.write_number(r, 5, d)?;
                    sheet.write_boolean(r, 6, n.output_estimated)?;
                    sheet.write_number(r, 7, n.held_back)?;
                }
            }
        }
        sheet.set_column_width(1, 40)?;
        sheet.set_freeze_panes(1, 0)?;
    }
    let sheet = book.add_worksheet().set_name(lang.pick("待回复公函", "Letters"))?;
    for (c, h) in ["letter_id", lang.pick("文号", "Number"), lang.pick("标题", "Subject")].iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, l) in b.letters.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_number(r, 0, l.letter_id as f64)?;
        text_cell(sheet, r, 1, &l.number)?;
        text_cell(sheet, r, 2, &l.subject)?;
    }
    sheet.set_column_width(2, 50)?;
    book.save_to_buffer()
}
