//! The registry pages: search providers by kind, place and text (`/registry`, a page at a time in
//! the database with a pager, through `App::search_providers` like the API); add a provider;
//! a provider's page with one form per kind of capability, whose errors stand beside the field
//! they name (`/registry/providers/{id}`); and the import of a CSV or JSONL file (`/registry/import`), which shows
//! its progress row by row as it goes (the page is streamed; a bar at the top fills without
//! script). The import is the app's (`App::parse_registry`, `App::import_registry`): every line
//! is checked before anything is written, and one bad line refuses the file, each named.

use super::form::{FieldErrors, Fields, number};
use super::pager::Pager;
use super::session::{PageUser, render, render_with};
use super::ui::{Lang, Ui, time};
use crate::{AppState, clock};
use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::import::RegistryFormat;
use bangfu_app::registry::NewProvider;
use bangfu_app::registry_search::ProviderSearch;
use bangfu_app::{AppError, access};
use bangfu_core::capability::{CapabilityAttrs, SterilisationMethod};
use bangfu_core::model::NeedKind;
use bangfu_app::views::DEFAULT_PAGE;
use bangfu_store::{CapabilityRow, Page, PageRequest};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub struct Choice {
    pub value: String,
    pub label: String,
}

pub struct ProviderLine {
    pub id: i64,
    pub name: String,
    pub place: String,
    pub capabilities: Vec<CapabilityLine>,
}

pub struct CapabilityLine {
    pub kind: String,
    pub available: bool,
    pub attrs: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    ui: Ui,
    kinds: Vec<Choice>,
    kind: String,
    place: String,
    text: String,
    search_error: String,
    providers: Vec<ProviderLine>,
    /// How many providers match (all pages).
    total: i64,
    pager: Pager,
    download: String,
    can_add: bool,
    add: super::enterprise::Typed,
    add_errors: FieldErrors,
}

/// One attribute field of a capability form.
pub struct AttrField {
    pub name: &'static str,
    pub label: String,
    /// As typed into the form.
    pub value: String,
    /// As read by those who may not edit it (a method by its name, numbers grouped).
    pub shown: String,
    /// number, text, list or method
    pub input: &'static str,
    pub error: String,
}

pub struct CapabilityForm {
    pub kind: &'static str,
    pub label: String,
    pub exists: bool,
    pub available: bool,
    pub fields: Vec<AttrField>,
    pub error: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "provider.html")]
struct ProviderPage {
    ui: Ui,
    id: i64,
    name: String,
    key: String,
    place: String,
    coordinates: String,
    note: String,
    can_edit: bool,
    /// Whether any capability is recorded (else the forms of the other kinds open at once).
    recorded: bool,
    forms: Vec<CapabilityForm>,
    methods: Vec<Choice>,
    flash: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct SearchQuery {
    kind: Option<String>,
    place: Option<String>,
    q: Option<String>,
    /// Where the page starts (the pager's next).
    after: Option<i64>,
}

fn kinds(lang: Lang) -> Vec<Choice> {
    NeedKind::ALL.iter().filter(|k| k.has_capabilities()).map(|k| Choice { value: k.as_str().into(), label: lang.label(k.label()).into() }).collect()
}

fn attr_label(name: &str, lang: Lang) -> String {
    let (zh, en) = match name {
        "method" => ("灭菌方式", "method"),
        "turnaround_h" => ("加工周期（小时）", "turnaround (h)"),
        "capacity_per_day" => ("日处理能力", "capacity per day"),
        "max_input_width_m" => ("最大进料幅宽（米）", "max input width (m)"),
        "min_output_width_m" => ("最小分切幅宽（米）", "min output width (m)"),
        "standards" => ("可检标准（逗号分隔）", "standards (comma-separated)"),
        "material" => ("材料", "material"),
        "stock" => ("库存", "stock"),
        "lead_time_h" => ("交付周期（小时）", "lead time (h)"),
        "item" => ("设备", "item"),
        "skill" => ("工种", "skill"),
        "headcount" => ("可派人数", "headcount"),
        other => (other, other),
    };
    lang.pick(zh, en).to_string()
}

/// A short label and the unit of an attribute, for reading: "加工周期", " 小时".
fn attr_words(name: &str, lang: Lang) -> (String, &'static str) {
    let unit = match name {
        "turnaround_h" | "lead_time_h" => lang.pick(" 小时", " h"),
        "max_input_width_m" | "min_output_width_m" => lang.pick(" 米", " m"),
        "headcount" => lang.pick(" 人", ""),
        _ => "",
    };
    let label = attr_label(name, lang);
    let short = label.split(['（', '(']).next().unwrap_or(&label).trim().to_string();
    (short, unit)
}

fn input_of(name: &str) -> &'static str {
    match name {
        "method" => "method",
        "standards" => "list",
        "material" | "item" | "skill" => "text",
        _ => "number",
    }
}

/// The attributes of a stored capability in words: "钴60辐照 · 加工周期 36 小时 · …".
fn attrs_in_words(attrs: &bangfu_store::JsonObject, lang: Lang) -> String {
    attrs.iter()
        .map(|(k, v)| {
            let value = value_in_words(k, v, lang);
            let (label, unit) = attr_words(k, lang);
            format!("{label} {value}{unit}")
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One attribute's value as people read it: a method by its name, numbers grouped (100,000),
/// lists joined.
fn value_in_words(name: &str, value: &Value, lang: Lang) -> String {
    match (name, value) {
        ("method", Value::String(m)) => SterilisationMethod::parse(m).map_or_else(|_| m.clone(), |m| lang.pick(m.label_zh(), m.label_en()).to_string()),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(lang.pick("、", ", ")),
        (_, Value::Number(n)) => match n.as_f64() {
            Some(v) if v.fract() == 0.0 => super::ui::trim(v),
            _ => n.to_string(),
        },
        (_, other) => other.to_string(),
    }
}

const ADD_FIELDS: &[&str] = &["key", "name", "region", "lon", "lat", "note"];

pub async fn search(State(state): State<AppState>, user: PageUser, Query(query): Query<SearchQuery>) -> Response {
    registry_page(&state, &user, query, super::enterprise::Typed::default(), FieldErrors::default(), StatusCode::OK).await
}

async fn registry_page(state: &AppState, user: &PageUser, query: SearchQuery, add: super::enterprise::Typed, add_errors: FieldErrors, status: StatusCode) -> Response {
    let lang = user.lang;
    if !access::can_browse_registry(&user.actor) {
        return user.fail(state, AppError::NotFound("the registry".into()));
    }
    let search = ProviderSearch { kind: query.kind.clone(), place: query.place.clone(), text: query.q.clone() };
    // One page of the search, in the database (the same path as GET /api/v1/providers).
    let request = PageRequest { after: query.after, limit: DEFAULT_PAGE };
    let found = match state.app.search_providers(&user.actor, &search, request).await {
        Ok(page) => state.app.count_providers(&user.actor, &search).await.map(|total| (page, total)),
        Err(e) => Err(e),
    };
    let (found, total, search_error) = match found {
        Ok((page, total)) => (page, total, String::new()),
        Err(AppError::BadInput(message)) => (Page { items: Vec::new(), next: None }, 0, message),
        Err(e) => return user.fail(state, e),
    };
    let (kind, place, text) = (query.kind.clone().unwrap_or_default(), query.place.clone().unwrap_or_default(), query.q.clone().unwrap_or_default());
    let pager = Pager::new(lang, "/registry", &[("kind", &kind), ("place", &place), ("q", &text)], "after", query.after, &found, total);
    let providers = found
        .items
        .iter()
        .map(|(p, caps)| ProviderLine {
            id: p.id,
            name: p.name.clone(),
            place: state.app.tree().full_name(p.region),
            capabilities: caps
                .iter()
                .map(|c| CapabilityLine { kind: lang.kind(&c.kind), available: c.available, attrs: attrs_in_words(&c.attrs, lang), updated: time(c.updated_at) })
                .collect(),
        })
        .collect();
    let ui = user.ui(state, "registry", lang.pick("能力登记库", "Registry"));
    let download = super::ui::download_href("providers", &[("kind", &kind), ("place", &place), ("q", &text)]);
    let page = RegistryPage {
        ui,
        download,
        kinds: kinds(lang),
        kind,
        place,
        text,
        search_error,
        providers,
        total,
        pager,
        can_add: access::may_register(&user.actor),
        add,
        add_errors,
    };
    render_with(status, &page)
}

pub async fn add_provider(State(state): State<AppState>, user: PageUser, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let lang = user.lang;
    let mut errors = FieldErrors::default();
    let lon = number(&fields, "lon", &mut errors, lang);
    let lat = number(&fields, "lat", &mut errors, lang);
    let typed = super::enterprise::Typed::of(&fields);
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if errors.is_empty() {
        let input = NewProvider { key: fields.text("key"), name: fields.text("name"), region: fields.text("region"), lon, lat, note: fields.text("note") };
        match state.app.add_provider(&user.actor, clock::now(), input).await {
            Ok(row) => return Redirect::to(&format!("/registry/providers/{}?done=added", row.id)).into_response(),
            Err(AppError::BadInput(message) | AppError::Conflict(message)) => errors.file(&message, ADD_FIELDS),
            // Outside the officer's jurisdiction: said beside the region.
            Err(AppError::Forbidden(message)) => {
                status = StatusCode::FORBIDDEN;
                errors.file(&message, ADD_FIELDS);
            }
            Err(e) => return user.fail(&state, e),
        }
    }
    registry_page(&state, &user, SearchQuery::default(), typed, errors, status).await
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn provider(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, Query(query): Query<DoneQuery>) -> Response {
    let flash = match query.done.as_deref() {
        Some("added") => user.t("提供方已登记，请登记其能力。", "Provider registered — now record what it can do.").to_string(),
        Some(kind) => match user.lang {
            Lang::Zh => format!("已保存：{}能力。", user.lang.kind(kind)),
            Lang::En => format!("Saved: the {} capability.", user.lang.kind(kind)),
        },
        None => String::new(),
    };
    provider_page(&state, &user, id, None, flash, StatusCode::OK).await
}

/// A failed capability form: its kind, what was typed and the errors.
struct Failed {
    kind: String,
    typed: Fields,
    errors: FieldErrors,
}

async fn provider_page(state: &AppState, user: &PageUser, id: i64, failed: Option<Failed>, flash: String, status: StatusCode) -> Response {
    let lang = user.lang;
    let (provider, capabilities) = match state.app.provider_detail(&user.actor, id).await {
        Ok(found) => found,
        Err(e) => return user.fail(state, e),
    };
    let forms = NeedKind::ALL
        .iter()
        .filter(|k| k.has_capabilities())
        .map(|kind| {
            let stored: Option<&CapabilityRow> = capabilities.iter().find(|c| c.kind == *kind);
            let attrs: Value = stored.map_or(Value::Null, |c| Value::Object(c.attrs.clone()));
            let failed_here = failed.as_ref().filter(|f| f.kind == kind.as_str());
            let fields = CapabilityAttrs::attribute_names(*kind)
                .unwrap_or_default()
                .iter()
                .map(|name| {
                    let value = match failed_here {
                        Some(f) => f.typed.text(name),
                        None => match attrs.get(*name) {
                            Some(Value::String(s)) => s.clone(),
                            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
                            Some(Value::Number(n)) => n.to_string(),
                            _ => String::new(),
                        },
                    };
                    let shown = attrs.get(*name).map(|v| value_in_words(name, v, lang)).unwrap_or_else(|| value.clone());
                    AttrField { name, label: attr_label(name, lang), value, shown, input: input_of(name), error: failed_here.map(|f| f.errors.of(name).to_string()).unwrap_or_default() }
                })
                .collect();
            CapabilityForm {
                kind: kind.as_str(),
                label: lang.label(kind.label()).into(),
                exists: stored.is_some(),
                available: failed_here.map_or_else(|| stored.is_none_or(|c| c.available), |f| f.typed.checked("available")),
                fields,
                error: failed_here.map(|f| f.errors.general().to_string()).unwrap_or_default(),
                updated: stored.map(|c| time(c.updated_at)).unwrap_or_default(),
            }
        })
        .collect();
    let methods = SterilisationMethod::ALL.iter().map(|m| Choice { value: m.as_str().into(), label: lang.pick(m.label_zh(), m.label_en()).to_string() }).collect();
    let ui = user.ui(state, "registry", provider.name.clone());
    let page = ProviderPage {
        ui,
        id,
        name: provider.name.clone(),
        key: provider.key.clone(),
        place: state.app.tree().full_name(provider.region),
        coordinates: match (provider.lon, provider.lat) {
            (Some(lon), Some(lat)) => format!("{lon:.3}, {lat:.3}"),
            _ => String::new(),
        },
        note: super::events::one_language(&provider.note, lang),
        can_edit: access::may_edit_provider(state.app.tree(), &user.actor, &provider),
        recorded: !capabilities.is_empty(),
        forms,
        methods,
        flash,
    };
    render_with(status, &page)
}

pub async fn set_capability(State(state): State<AppState>, user: PageUser, Path(id): Path<i64>, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    let lang = user.lang;
    let kind_text = fields.text("kind");
    let mut errors = FieldErrors::default();
    let mut attrs = Map::new();
    let names = NeedKind::parse(&kind_text).ok().and_then(CapabilityAttrs::attribute_names).unwrap_or_default();
    for name in names {
        match input_of(name) {
            "number" => {
                if let Some(value) = number(&fields, name, &mut errors, lang) {
                    attrs.insert((*name).into(), json!(value));
                }
            }
            "list" => {
                let typed = fields.text(name);
                let list: Vec<&str> = typed.split([',', '，', '、', ';']).map(str::trim).filter(|s| !s.is_empty()).collect();
                if !list.is_empty() {
                    attrs.insert((*name).into(), json!(list));
                }
            }
            _ => {
                if let Some(value) = fields.get(name) {
                    attrs.insert((*name).into(), json!(value));
                }
            }
        }
    }
    if errors.is_empty() {
        match state.app.set_capability(&user.actor, clock::now(), id, &kind_text, fields.checked("available"), &Value::Object(attrs)).await {
            Ok(_) => return Redirect::to(&format!("/registry/providers/{id}?done={kind_text}#cap-{kind_text}")).into_response(),
            Err(AppError::BadInput(message)) => errors.file(&message, names),
            Err(e) => return user.fail(&state, e),
        }
    }
    provider_page(&state, &user, id, Some(Failed { kind: kind_text, typed: fields, errors }), String::new(), StatusCode::UNPROCESSABLE_ENTITY).await
}

// ---- CSV import ----

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    ui: Ui,
    /// Empty on the form; the streamed rows replace the marker below when importing.
    importing: bool,
    error: String,
}

/// Where the streamed rows go in the rendered import page.
const ROWS_MARKER: &str = "<!--rows-->";

pub async fn import_form(State(state): State<AppState>, user: PageUser) -> Response {
    if !access::may_register(&user.actor) {
        return user.fail(&state, AppError::NotFound("the import".into()));
    }
    let ui = user.ui(&state, "registry", user.t("导入能力登记库", "Import the registry"));
    render(&ImportPage { ui, importing: false, error: String::new() })
}

/// The format of what was uploaded or pasted: by the file's name, else JSONL when the text
/// starts with `{`, else CSV.
fn format_of(file_name: &str, text: &str) -> Result<RegistryFormat, AppError> {
    if !file_name.trim().is_empty() {
        return RegistryFormat::of_path(file_name);
    }
    Ok(if text.trim_start().starts_with('{') { RegistryFormat::Jsonl } else { RegistryFormat::Csv })
}

/// A line of the import's progress, streamed as it is written.
#[derive(Template)]
#[template(path = "import_line.html")]
struct ImportLine<'a> {
    percent: usize,
    done: usize,
    total: usize,
    line_word: &'a str,
    line: usize,
    name: &'a str,
    kind: &'a str,
}

/// The import's last words: what was written, or why nothing was.
#[derive(Template)]
#[template(path = "import_summary.html")]
struct ImportSummary {
    ok: bool,
    text: String,
}

/// Imports a registry file through `App::parse_registry` (every line checked first; any error
/// refuses the whole file, each bad line named) and `App::import_registry` (one transaction),
/// streaming a line of the page for each line written.
pub async fn import(State(state): State<AppState>, user: PageUser, mut multipart: Multipart) -> Response {
    let lang = user.lang;
    if !access::may_register(&user.actor) {
        return user.fail(&state, AppError::NotFound("the import".into()));
    }
    let title = user.t("导入能力登记库", "Import the registry");
    let form_again = |status: StatusCode, error: String| {
        let ui = user.ui(&state, "registry", title);
        render_with(status, &ImportPage { ui, importing: false, error })
    };
    let (mut csrf, mut file, mut file_name, mut pasted) = (String::new(), String::new(), String::new(), String::new());
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let uploaded = field.file_name().unwrap_or_default().to_string();
                let Ok(text) = field.text().await else { continue };
                match name.as_str() {
                    "csrf" => csrf = text,
                    "file" => (file, file_name) = (text, uploaded),
                    "text" => pasted = text,
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return form_again(StatusCode::BAD_REQUEST, format!("{}: {e}", user.t("上传失败", "the upload failed"))),
        }
    }
    if let Err(refused) = user.check_csrf(&state, &Fields(vec![("csrf".into(), csrf)])) {
        return refused;
    }
    let (text, file_name) = if file.trim().is_empty() { (pasted, String::new()) } else { (file, file_name) };
    if text.trim().is_empty() {
        return form_again(StatusCode::UNPROCESSABLE_ENTITY, user.t("请选择文件或粘贴内容", "choose a file or paste its text").into());
    }
    let parsed = format_of(&file_name, &text).and_then(|format| state.app.parse_registry(&text, format));
    let lines = match parsed {
        Ok(lines) if !lines.is_empty() => lines,
        Ok(_) => return form_again(StatusCode::UNPROCESSABLE_ENTITY, user.t("文件中没有数据行", "the file has no lines to import").into()),
        Err(AppError::BadInput(message)) => return form_again(StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(e) => return user.fail(&state, e),
    };
    // Lines outside the officer's jurisdiction refuse the file before anything is streamed.
    match state.app.check_import(&user.actor, &lines).await {
        Ok(()) => {}
        Err(AppError::Forbidden(message)) => return form_again(StatusCode::FORBIDDEN, message),
        Err(e) => return user.fail(&state, e),
    }

    let ui = user.ui(&state, "registry", title);
    let page = ImportPage { ui, importing: true, error: String::new() }.render().unwrap_or_default();
    let (head, tail) = page.split_once(ROWS_MARKER).map_or((page.clone(), String::new()), |(h, t)| (h.to_string(), t.to_string()));
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Result<String, std::convert::Infallible>>();
    let app = state.app.clone();
    let actor = user.actor.clone();
    tokio::spawn(crate::logs::carried(async move {
        // The import goes on to the end even if the browser goes away.
        let _ = sender.send(Ok(head));
        // The progress is told from the store's writer, which runs the import.
        let lines: std::sync::Arc<[bangfu_app::import::RegistryLine]> = lines.into();
        let (progress_lines, progress_sender) = (std::sync::Arc::clone(&lines), sender.clone());
        let progress = move |done: usize, total: usize| {
            let (lines, sender) = (&progress_lines, &progress_sender);
            let Some(line) = lines.get(done.saturating_sub(1)) else { return };
            let percent = done * 100 / total.max(1);
            let kind = lang.kind(line.kind.as_str());
            let row = ImportLine { percent, done, total, line_word: lang.pick("第", "line"), line: line.line, name: &line.name, kind: &kind };
            let _ = sender.send(Ok(row.render().unwrap_or_default()));
        };
        let outcome = app.import_registry(&actor, clock::now(), std::sync::Arc::clone(&lines), progress).await;
        let summary = match (outcome, lang) {
            (Ok(report), Lang::Zh) => ImportSummary {
                ok: true,
                text: format!("完成：共 {} 行，新增提供方 {} 家，写入能力 {} 项。", report.lines, report.providers_added, report.capabilities_written),
            },
            (Ok(report), Lang::En) => ImportSummary {
                ok: true,
                text: format!("Done: {} lines, {} new providers, {} capabilities written.", report.lines, report.providers_added, report.capabilities_written),
            },
            (Err(e), _) => {
                let message = match e {
                    AppError::Internal(detail) => {
                        tracing::error!("registry import: {detail}");
                        super::session::server_failed(lang)
                    }
                    other => other.to_string(),
                };
                ImportSummary { ok: false, text: format!("{}{message}", lang.pick("导入失败，未写入任何内容：", "The import failed and wrote nothing: ")) }
            }
        };
        let _ = sender.send(Ok(summary.render().unwrap_or_default()));
        let _ = sender.send(Ok(tail));
    }));
    let stream = tokio_stream::wrappers::UnboundedReceiverStream::new(receiver);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], Body::from_stream(stream)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_file_name_or_the_text() {
        assert_eq!(format_of("registry.jsonl", "").unwrap(), RegistryFormat::Jsonl);
        assert_eq!(format_of("", "{\"id\": \"x\"}").unwrap(), RegistryFormat::Jsonl);
        assert_eq!(format_of("", "id,name,region,lon,lat,kind,available,attrs").unwrap(), RegistryFormat::Csv);
        assert!(format_of("registry.xlsx", "").is_err());
    }
}
