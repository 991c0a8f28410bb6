//! The enterprise view (`/cases/{id}/enterprise`): report a need and submit the daily return
//! (capacity, output, stock). Enterprise users land here; officers of the case use the same forms.
//! The forms only parse what was typed (numbers, the deadline at UTC+8) and call the app; its
//! messages are shown beside the field they name.

use super::form::{FieldErrors, Fields, number};
use super::session::{PageUser, render_with};
use super::ui::{Ui, time, trim};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::AppError;
use bangfu_app::needs::NewNeed;
use bangfu_app::returns::NewDailyReturn;
use bangfu_app::returns_sheet::SheetFormat;
use bangfu_core::capability::Requirement;
use bangfu_core::model::NeedKind;
use chrono::{NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// What was typed into a form, to show it again.
#[derive(Clone, Debug, Default)]
pub struct Typed(BTreeMap<String, String>);

impl Typed {
    pub fn of(fields: &Fields) -> Typed {
        let mut map = BTreeMap::new();
        for (k, v) in &fields.0 {
            if k != "csrf" && k != "password" {
                map.entry(k.clone()).and_modify(|e: &mut String| e.push_str(&format!(",{v}"))).or_insert_with(|| v.clone());
            }
        }
        Typed(map)
    }

    /// The typed value of `name`, or "".
    pub fn v(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// Whether `value` was chosen for `name` (a select or check box).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.0.get(name).is_some_and(|v| v.split(',').any(|x| x == value))
    }
}

pub struct KindChoice {
    pub value: &'static str,
    pub label: String,
}

pub struct NeedLine {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub owner: String,
}

pub struct ReturnLine {
    pub day: String,
    pub product: String,
    pub capacity: String,
    pub output: String,
    pub stock: String,
    pub shipped: String,
    pub note: String,
    pub reported: String,
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct EnterprisePage {
    ui: Ui,
    case_id: i64,
    enterprise: String,
    kinds: Vec<KindChoice>,
    methods: Vec<KindChoice>,
    need: Typed,
    need_errors: FieldErrors,
    ret: Typed,
    return_errors: FieldErrors,
    needs: Vec<NeedLine>,
    returns: Vec<ReturnLine>,
    /// Products to offer in the form: those the case returned before, then the usual ones.
    products: Vec<String>,
    flash: String,
    /// Whether the reader may report needs and returns here (a viewer only reads).
    may_report: bool,
}

/// The products most returns name, offered in the form.
const USUAL_PRODUCTS: [&str; 6] = ["医用外科口罩", "KN95口罩", "N95口罩", "医用防护服", "熔喷布", "消毒液"];

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    added: Option<usize>,
    corrected: Option<usize>,
}

/// The fields of the need form, for filing the app's messages.
const NEED_FIELDS: &[&str] = &[
    "kind", "title", "specification", "quantity", "unit", "deadline", "max_distance_km", "max_lead_time_h", "solution_region",
    "input_width_m", "output_width_m", "methods", "standard", "material", "item", "skill",
];
const RETURN_FIELDS: &[&str] = &["day", "product", "capacity_per_day", "output", "stock", "shipped", "note"];

fn today() -> String {
    bangfu_core::china_time::day(clock::now()).format("%Y-%m-%d").to_string()
}

pub async fn show(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, Query(query): Query<DoneQuery>) -> Response {
    let flash = match query.done.as_deref() {
        Some("return") => user.t("日报已提交。", "Daily return submitted.").to_string(),
        Some("upload") => match (query.added, query.corrected) {
            (Some(added), Some(corrected)) => user.lang.pick(&format!("表格已导入：新增 {added} 条，更正 {corrected} 条。"), &format!("Spreadsheet taken: {added} returns added, {corrected} corrected.")).to_string(),
            _ => user.t("表格已导入。", "Spreadsheet taken.").to_string(),
        },
        _ => String::new(),
    };
    let mut ret = Typed::default();
    ret.0.insert("day".into(), today());
    page(&state, &user, id, Typed::default(), FieldErrors::default(), ret, FieldErrors::default(), flash, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)] // the two forms and their errors, shown again after a failed post
async fn page(state: &AppState, user: &PageUser, id: i64, need: Typed, need_errors: FieldErrors, ret: Typed, return_errors: FieldErrors, flash: String, status: StatusCode) -> Response {
    let lang = user.lang;
    let app = &state.app;
    let tree = app.tree();
    let detail = match app.case_detail(&user.actor, id).await {
        Ok(d) => d,
        Err(e) => return user.fail(state, e),
    };
    let returns = match app.daily_returns(&user.actor, id).await {
        Ok(r) => r,
        Err(e) => return user.fail(state, e),
    };
    let kinds = NeedKind::ALL.iter().map(|k| KindChoice { value: k.as_str(), label: lang.label(k.label()).to_string() }).collect();
    let methods = bangfu_core::capability::SterilisationMethod::ALL
        .iter()
        .map(|m| KindChoice { value: m.as_str(), label: lang.pick(m.label_zh(), m.label_en()).to_string() })
        .collect();
    let needs = detail
        .needs
        .iter()
        .rev()
        .map(|n| NeedLine { id: n.id, kind: lang.kind(&n.kind), title: n.title.clone(), status: lang.need_status(&n.status), status_class: n.status.as_str().to_string(), owner: lang.department(tree, &n.owner) })
        .collect();
    let mut products: Vec<String> = Vec::new();
    for p in returns.iter().map(|r| r.product.as_str()).chain(USUAL_PRODUCTS) {
        if !p.is_empty() && !products.iter().any(|q| q == p) {
            products.push(p.to_string());
        }
    }
    let returns = returns
        .iter()
        .rev()
        .map(|r| ReturnLine {
            day: r.day.clone(),
            product: if r.product.is_empty() { lang.pick("（未注明）", "(not given)").to_string() } else { r.product.clone() },
            capacity: trim(r.capacity_per_day),
            output: trim(r.output),
            stock: trim(r.stock),
            shipped: trim(r.shipped),
            note: r.note.clone(),
            reported: time(r.reported_at),
        })
        .collect();
    let ui = user.ui(state, "case", format!("{} · {}", detail.enterprise.name, lang.pick("企业填报", "enterprise view")));
    let may_report = bangfu_app::access::may_report_on_case(tree, &user.actor, &detail.case, &detail.team);
    render_with(status, &EnterprisePage { ui, case_id: id, enterprise: detail.enterprise.name.clone(), kinds, methods, need, need_errors, ret, return_errors, needs, returns, products, flash, may_report })
}

/// A time typed as 2020-02-10T18:00 (a datetime-local field) or "2020-02-10 18:00", at UTC+8.
pub(super) fn china_time(text: &str) -> Option<chrono::DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .and_then(bangfu_core::china_time::from_local)
}

pub async fn report_need(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let lang = user.lang;
    let mut errors = FieldErrors::default();
    let kind_text = fields.text("kind");
    let quantity = number(&fields, "quantity", &mut errors, lang);
    let max_distance_km = number(&fields, "max_distance_km", &mut errors, lang);
    let max_lead_time_h = number(&fields, "max_lead_time_h", &mut errors, lang);
    let deadline = match fields.get("deadline") {
        Some(text) => match china_time(text) {
            Some(d) => Some(d),
            None => {
                errors.set("deadline", lang.pick("请按 2020-02-10 18:00 的格式填写（北京时间）", "write it as 2020-02-10 18:00 (China time)"));
                None
            }
        },
        None => None,
    };
    // The requirement: the attributes of the chosen kind only, numbers as numbers.
    let mut requires = Map::new();
    if let Ok(kind) = NeedKind::parse(&kind_text) {
        for name in Requirement::attribute_names(kind).unwrap_or_default() {
            if *name == "methods" {
                let chosen = fields.all("methods");
                if !chosen.is_empty() {
                    requires.insert((*name).into(), json!(chosen));
                }
            } else if name.ends_with("_m") {
                if let Some(value) = number(&fields, name, &mut errors, lang) {
                    requires.insert((*name).into(), json!(value));
                }
            } else if let Some(value) = fields.get(name) {
                requires.insert((*name).into(), json!(value));
            }
        }
    }
    if quantity.is_none() && !errors.has("quantity") {
        errors.set("quantity", lang.pick("请填写数量", "give the quantity"));
    }
    let typed = Typed::of(&fields);
    let mut ret = Typed::default();
    ret.0.insert("day".into(), today());
    if !errors.is_empty() {
        return page(&state, &user, id, typed, errors, ret, FieldErrors::default(), String::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let input = NewNeed {
        kind: kind_text,
        title: fields.text("title"),
        specification: fields.text("specification"),
        quantity: quantity.unwrap_or_default(),
        unit: fields.text("unit"),
        requires: Value::Object(requires),
        deadline,
        max_distance_km,
        max_lead_time_h,
        solution_region: fields.get("solution_region").map(str::to_string),
    };
    match state.app.report_and_source(&user.actor, clock::now(), id, input).await {
        Ok(need) => Redirect::to(&format!("/needs/{}?done=reported", need.id)).into_response(),
        Err(AppError::BadInput(message)) => {
            errors.file(&super::ui::localise(&message, lang), NEED_FIELDS);
            page(&state, &user, id, typed, errors, ret, FieldErrors::default(), String::new(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => user.fail(&state, e),
    }
}

pub async fn submit_return(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let lang = user.lang;
    let mut errors = FieldErrors::default();
    let mut figures = [0.0; 4];
    for (slot, name) in figures.iter_mut().zip(["capacity_per_day", "output", "stock", "shipped"]) {
        match number(&fields, name, &mut errors, lang) {
            Some(value) => *slot = value,
            None if name == "shipped" => {}
            None if !errors.has(name) => errors.set(name, lang.pick("请填写数字（没有则填 0）", "enter a number (0 if none)")),
            None => {}
        }
    }
    let typed = Typed::of(&fields);
    if !errors.is_empty() {
        return page(&state, &user, id, Typed::default(), FieldErrors::default(), typed, errors, String::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let input = NewDailyReturn {
        day: fields.text("day"),
        product: fields.text("product"),
        capacity_per_day: figures[0],
        output: figures[1],
        stock: figures[2],
        shipped: figures[3],
        note: fields.text("note"),
    };
    match state.app.submit_daily_return(&user.actor, clock::now(), id, input).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}/enterprise?done=return#returns")).into_response(),
        Err(AppError::BadInput(message)) => {
            errors.file(&message, RETURN_FIELDS);
            page(&state, &user, id, Typed::default(), FieldErrors::default(), typed, errors, String::new(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => user.fail(&state, e),
    }
}

/// Takes a spreadsheet of returns (XLSX or CSV) through `App::upload_daily_returns`: every
/// row is checked first, and a bad row refuses the whole file with each bad row named.
pub async fn upload_returns(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, mut multipart: Multipart) -> Response {
    let lang = user.lang;
    let (mut csrf, mut file, mut file_name, mut content_type) = (String::new(), Vec::new(), String::new(), String::new());
    let mut failed = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let uploaded = field.file_name().unwrap_or_default().to_string();
                let kind = field.content_type().unwrap_or_default().to_string();
                let Ok(bytes) = field.bytes().await else { continue };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => (file, file_name, content_type) = (bytes.to_vec(), uploaded, kind),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                failed = Some(format!("{}: {e}", user.t("上传失败", "the upload failed")));
                break;
            }
        }
    }
    if let Err(refused) = user.check_csrf(&state, &Fields(vec![("csrf".into(), csrf)])) {
        return refused;
    }
    let mut errors = FieldErrors::default();
    let again = |errors: FieldErrors| async { page(&state, &user, id, Typed::default(), FieldErrors::default(), Typed::default(), errors, String::new(), StatusCode::UNPROCESSABLE_ENTITY).await };
    if let Some(message) = failed {
        errors.file(&message, &[]);
        return again(errors).await;
    }
    let Some(format) = SheetFormat::detect(&file_name, &content_type) else {
        errors.file(lang.pick("请选择 .xlsx 或 .csv 文件", "choose an .xlsx or .csv file"), &[]);
        return again(errors).await;
    };
    match state.app.upload_daily_returns(&user.actor, clock::now(), id, &file, format).await {
        Ok(report) => Redirect::to(&format!("/cases/{id}/enterprise?done=upload&added={}&corrected={}#returns", report.added, report.corrected)).into_response(),
        Err(AppError::BadInput(message)) => {
            errors.file(&message, &[]);
            again(errors).await
        }
        Err(e) => user.fail(&state, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_read_at_utc_plus_8() {
        let at = china_time("2020-02-10T18:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2020-02-10T10:00:00+00:00");
        assert!(china_time("10 Feb").is_none());
    }
}
