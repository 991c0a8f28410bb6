//! The registry pages: search providers by kind, place and text (`/registry`); add a provider;
//! a provider's page with one form per kind of capability, whose errors stand beside the field
//! they name (`/registry/providers/{id}`); and the CSV import (`/registry/import`), which shows
//! its progress row by row as it goes (the page is streamed; a bar at the top fills without
//! script). Each row is one call of `App::add_provider` (for a key not yet registered) and one of
//! `App::set_capability`: the registry's rules stay in the app.

use super::form::{FieldErrors, Fields, number};
use super::session::{PageUser, render, render_with};
use super::ui::{Lang, Ui, time};
use crate::{AppState, clock};
use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bangfu_app::registry::NewProvider;
use bangfu_app::registry_search::ProviderSearch;
use bangfu_app::{AppError, access};
use bangfu_core::capability::{CapabilityAttrs, SterilisationMethod};
use bangfu_core::model::{NeedKind, Role};
use bangfu_store::CapabilityRow;
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
    can_add: bool,
    add: super::enterprise::Typed,
    add_errors: FieldErrors,
}

/// One attribute field of a capability form.
pub struct AttrField {
    pub name: &'static str,
    pub label: String,
    pub value: String,
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
    forms: Vec<CapabilityForm>,
    methods: Vec<Choice>,
    flash: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct SearchQuery {
    kind: Option<String>,
    place: Option<String>,
    q: Option<String>,
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

fn input_of(name: &str) -> &'static str {
    match name {
        "method" => "method",
        "standards" => "list",
        "material" | "item" | "skill" => "text",
        _ => "number",
    }
}

/// The attributes of a stored capability in words: "钴60辐照 · 加工周期 36 小时 · …".
fn attrs_in_words(attrs: &str, lang: Lang) -> String {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(attrs) else { return attrs.to_string() };
    map.iter()
        .map(|(k, v)| {
            let value = match (k.as_str(), v) {
                ("method", Value::String(m)) => SterilisationMethod::parse(m).map_or_else(|_| m.clone(), |m| if lang == Lang::Zh { m.label_zh().to_string() } else { m.as_str().to_string() }),
                (_, Value::String(s)) => s.clone(),
                (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
                (_, other) => other.to_string(),
            };
            format!("{} {}", attr_label(k, lang), value)
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn place_name(state: &AppState, code: &str) -> String {
    code.parse::<u32>().ok().map_or_else(|| code.to_string(), |c| state.app.tree().full_name(bangfu_core::region::RegionCode::new_unchecked(c)))
}

const ADD_FIELDS: &[&str] = &["key", "name", "region", "lon", "lat", "note"];

pub async fn search(State(state): State<AppState>, user: PageUser, Query(query): Query<SearchQuery>) -> Response {
    registry_page(&state, &user, query, super::enterprise::Typed::default(), FieldErrors::default(), StatusCode::OK).await
}

async fn registry_page(state: &AppState, user: &PageUser, query: SearchQuery, add: super::enterprise::Typed, add_errors: FieldErrors, status: StatusCode) -> Response {
    let lang = user.lang;
    if user.actor.role == Role::Enterprise {
        return user.fail(state, AppError::NotFound("the registry".into()));
    }
    let search = ProviderSearch { kind: query.kind.clone(), place: query.place.clone(), text: query.q.clone() };
    let (found, search_error) = match state.app.search_providers(&user.actor, &search).await {
        Ok(found) => (found, String::new()),
        Err(AppError::BadInput(message)) => (Vec::new(), message),
        Err(e) => return user.fail(state, e),
    };
    let providers = found
        .iter()
        .map(|(p, caps)| ProviderLine {
            id: p.id,
            name: p.name.clone(),
            place: place_name(state, &p.region),
            capabilities: caps
                .iter()
                .map(|c| CapabilityLine { kind: lang.kind(&c.kind), available: c.available != 0, attrs: attrs_in_words(&c.attrs, lang), updated: time(c.updated_at) })
                .collect(),
        })
        .collect();
    let ui = user.ui(state, "registry", lang.pick("能力登记库", "Registry"));
    let page = RegistryPage {
        ui,
        kinds: kinds(lang),
        kind: query.kind.unwrap_or_default(),
        place: query.place.unwrap_or_default(),
        text: query.q.unwrap_or_default(),
        search_error,
        providers,
        can_add: matches!(user.actor.role, Role::Admin | Role::Officer),
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
    if errors.is_empty() {
        let input = NewProvider { key: fields.text("key"), name: fields.text("name"), region: fields.text("region"), lon, lat, note: fields.text("note") };
        match state.app.add_provider(&user.actor, clock::now(), input).await {
            Ok(row) => return Redirect::to(&format!("/registry/providers/{}?done=added", row.id)).into_response(),
            Err(AppError::BadInput(message) | AppError::Conflict(message)) => errors.file(&message, ADD_FIELDS),
            Err(e) => return user.fail(&state, e),
        }
    }
    registry_page(&state, &user, SearchQuery::default(), typed, errors, StatusCode::UNPROCESSABLE_ENTITY).await
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
            let stored: Option<&CapabilityRow> = capabilities.iter().find(|c| c.kind == kind.as_str());
            let attrs: Value = stored.and_then(|c| serde_json::from_str(&c.attrs).ok()).unwrap_or(Value::Null);
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
                    AttrField { name, label: attr_label(name, lang), value, input: input_of(name), error: failed_here.map(|f| f.errors.of(name).to_string()).unwrap_or_default() }
                })
                .collect();
            CapabilityForm {
                kind: kind.as_str(),
                label: lang.label(kind.label()).into(),
                exists: stored.is_some(),
                available: failed_here.map_or_else(|| stored.is_none_or(|c| c.available != 0), |f| f.typed.checked("available")),
                fields,
                error: failed_here.map(|f| f.errors.general().to_string()).unwrap_or_default(),
                updated: stored.map(|c| time(c.updated_at)).unwrap_or_default(),
            }
        })
        .collect();
    let methods = SterilisationMethod::ALL.iter().map(|m| Choice { value: m.as_str().into(), label: format!("{} ({})", m.label_zh(), m.as_str()) }).collect();
    let ui = user.ui(state, "registry", provider.name.clone());
    let page = ProviderPage {
        ui,
        id,
        name: provider.name.clone(),
        key: provider.key.clone(),
        place: place_name(state, &provider.region),
        coordinates: match (provider.lon, provider.lat) {
            (Some(lon), Some(lat)) => format!("{lon:.3}, {lat:.3}"),
            _ => String::new(),
        },
        note: provider.note.clone(),
        can_edit: access::can_edit_provider(&user.actor, id),
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
/// The most rows one import takes.
const MAX_ROWS: usize = 10_000;

pub async fn import_form(State(state): State<AppState>, user: PageUser) -> Response {
    if !matches!(user.actor.role, Role::Admin | Role::Officer) {
        return user.fail(&state, AppError::NotFound("the import".into()));
    }
    let ui = user.ui(&state, "registry", user.t("导入能力（CSV）", "Import capabilities (CSV)"));
    render(&ImportPage { ui, importing: false, error: String::new() })
}

/// One row of the CSV, as read.
#[derive(Debug, Clone)]
struct ImportRow {
    line: usize,
    key: String,
    name: String,
    region: String,
    lon: Option<f64>,
    lat: Option<f64>,
    note: String,
    kind: String,
    available: bool,
    attrs: Result<Value, String>,
}

fn parse_available(text: &str) -> bool {
    !matches!(text.trim().to_lowercase().as_str(), "false" | "0" | "no" | "n" | "否" | "停")
}

/// Reads the CSV: a header naming at least key, name, region, kind and attrs (JSON); lon, lat,
/// note and available are optional; other columns (provider_id of the export) are ignored.
fn read_csv(text: &str) -> Result<Vec<ImportRow>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| format!("header: {e}"))?.iter().map(|h| h.trim().to_lowercase()).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let missing: Vec<&str> = ["key", "name", "region", "kind", "attrs"].into_iter().filter(|c| column(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(format!("the header lacks {} (it has: {})", missing.join(", "), header.join(", ")));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let get = |name: &str| column(name).and_then(|c| record.get(c)).unwrap_or_default().trim().to_string();
        let number = |name: &str| -> Result<Option<f64>, String> {
            let text = get(name);
            if text.is_empty() { Ok(None) } else { text.parse().map(Some).map_err(|_| format!("line {line}: {name} {text:?} is not a number")) }
        };
        let attrs_text = get("attrs");
        rows.push(ImportRow {
            line,
            key: get("key"),
            name: get("name"),
            region: get("region"),
            lon: number("lon")?,
            lat: number("lat")?,
            note: get("note"),
            kind: get("kind"),
            available: column("available").is_none_or(|_| parse_available(&get("available"))),
            attrs: serde_json::from_str::<Value>(&attrs_text).map_err(|e| format!("attrs is not JSON ({e}): {attrs_text}")),
        });
        if rows.len() > MAX_ROWS {
            return Err(format!("more than {MAX_ROWS} rows — split the file"));
        }
    }
    Ok(rows)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub async fn import(State(state): State<AppState>, user: PageUser, mut multipart: Multipart) -> Response {
    let lang = user.lang;
    if !matches!(user.actor.role, Role::Admin | Role::Officer) {
        return user.fail(&state, AppError::NotFound("the import".into()));
    }
    let (mut csrf, mut file, mut pasted) = (String::new(), String::new(), String::new());
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let Ok(text) = field.text().await else { continue };
                match name.as_str() {
                    "csrf" => csrf = text,
                    "file" => file = text,
                    "text" => pasted = text,
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                let ui = user.ui(&state, "registry", user.t("导入能力（CSV）", "Import capabilities (CSV)"));
                return render_with(StatusCode::BAD_REQUEST, &ImportPage { ui, importing: false, error: format!("{}: {e}", user.t("上传失败", "the upload failed")) });
            }
        }
    }
    if let Err(refused) = user.check_csrf(&state, &Fields(vec![("csrf".into(), csrf)])) {
        return refused;
    }
    let text = if file.trim().is_empty() { pasted } else { file };
    let rows = match read_csv(&text) {
        Ok(rows) if !rows.is_empty() => rows,
        Ok(_) => {
            let ui = user.ui(&state, "registry", user.t("导入能力（CSV）", "Import capabilities (CSV)"));
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &ImportPage { ui, importing: false, error: user.t("文件中没有数据行", "the file has no rows").into() });
        }
        Err(message) => {
            let ui = user.ui(&state, "registry", user.t("导入能力（CSV）", "Import capabilities (CSV)"));
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &ImportPage { ui, importing: false, error: message });
        }
    };

    let ui = user.ui(&state, "registry", user.t("导入能力（CSV）", "Import capabilities (CSV)"));
    let page = ImportPage { ui, importing: true, error: String::new() }.render().unwrap_or_default();
    let (head, tail) = page.split_once(ROWS_MARKER).map_or((page.clone(), String::new()), |(h, t)| (h.to_string(), t.to_string()));
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String, std::convert::Infallible>>(16);
    let app = state.app.clone();
    let actor = user.actor.clone();
    tokio::spawn(async move {
        // The import goes on to the end even if the browser goes away: each row is its own change.
        let send = |chunk: String| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(Ok(chunk)).await;
            }
        };
        send(head).await;
        let total = rows.len();
        let (mut added, mut saved, mut failed) = (0, 0, 0);
        let mut keys: std::collections::BTreeMap<String, i64> = match app.list_providers(&actor, None).await {
            Ok(list) => list.into_iter().map(|(p, _)| (p.key, p.id)).collect(),
            Err(_) => Default::default(),
        };
        for (done, row) in rows.into_iter().enumerate() {
            let now = clock::now();
            let mut outcome: Result<String, String> = Ok(String::new());
            let provider_id = match keys.get(&row.key) {
                Some(id) => Some(*id),
                None => {
                    let input = NewProvider { key: row.key.clone(), name: row.name.clone(), region: row.region.clone(), lon: row.lon, lat: row.lat, note: row.note.clone() };
                    match app.add_provider(&actor, now, input).await {
                        Ok(p) => {
                            added += 1;
                            keys.insert(p.key.clone(), p.id);
                            outcome = Ok(lang.pick("新增提供方；", "provider added; ").to_string());
                            Some(p.id)
                        }
                        Err(e) => {
                            outcome = Err(e.to_string());
                            None
                        }
                    }
                }
            };
            if let (Some(id), Ok(prefix)) = (provider_id, &outcome) {
                outcome = match &row.attrs {
                    Ok(attrs) => match app.set_capability(&actor, now, id, &row.kind, row.available, attrs).await {
                        Ok(_) => Ok(format!("{prefix}{}", lang.pick("能力已登记", "capability saved"))),
                        Err(e) => Err(e.to_string()),
                    },
                    Err(message) => Err(message.clone()),
                };
            }
            let (class, mark, text) = match &outcome {
                Ok(text) => {
                    saved += 1;
                    ("ok", "✓", text.clone())
                }
                Err(text) => {
                    failed += 1;
                    ("failed", "✗", text.clone())
                }
            };
            let percent = (done + 1) * 100 / total;
            send(format!(
                "<li class=\"{class}\"><i class=\"fill\" style=\"width:{percent}%\"></i><span class=\"count\">{}/{total}</span> {mark} {} {} · {} — {}</li>\n",
                done + 1,
                lang.pick("第", "line"),
                row.line,
                escape(&format!("{} {}", row.name, lang.kind(&row.kind))),
                escape(&text)
            ))
            .await;
        }
        let summary = match lang {
            Lang::Zh => format!("</ol><p class=\"flash {}\" id=\"import-summary\">完成：共 {total} 行，成功 {saved} 行（新增提供方 {added} 家），失败 {failed} 行。</p>", if failed == 0 { "ok" } else { "error" }),
            Lang::En => format!("</ol><p class=\"flash {}\" id=\"import-summary\">Done: {total} rows, {saved} saved ({added} new providers), {failed} failed.</p>", if failed == 0 { "ok" } else { "error" }),
        };
        send(summary).await;
        send(tail).await;
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], Body::from_stream(stream)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_format_is_read_back() {
        let text = "provider_id,key,name,region,kind,available,attrs\n1,demo:x,某企业,141021,slitting,false,\"{\"\"max_input_width_m\"\": 1.8, \"\"min_output_width_m\"\": 0.2, \"\"turnaround_h\"\": 8}\"\n";
        let rows = read_csv(text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].key.as_str(), rows[0].kind.as_str(), rows[0].available, rows[0].line), ("demo:x", "slitting", false, 2));
        assert_eq!(rows[0].attrs.as_ref().unwrap()["turnaround_h"], 8);
    }

    #[test]
    fn a_header_without_the_needed_columns_says_which_are_missing() {
        let error = read_csv("key,name\nx,y\n").unwrap_err();
        assert!(error.contains("region, kind, attrs"), "{error}");
    }
}
