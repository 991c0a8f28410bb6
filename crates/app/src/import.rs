//! Importing and exporting the registry, in CSV or JSONL, all or nothing per file.
//!
//! One line (JSONL) or row (CSV) is one capability of one provider:
//! - JSONL: `{"id","name","region","lon","lat","kind","available","attrs":{…}}` — the same lines
//!   `bangfu match --providers` reads; `id` is the provider's key;
//! - CSV: the header `id,name,region,lon,lat,kind,available,attrs`, with `attrs` a JSON object.
//!
//! Every line is checked before anything is written; any error refuses the whole file and the
//! message names each bad line. A provider key already registered is updated in place.
//!
//! CSV cells that a spreadsheet would take for a formula are written with an apostrophe in
//! front ([`csv_cell`]) and read back without it ([`csv_uncell`]), so an export imports unchanged.

use crate::error::bad;
use crate::registry::attr_values;
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::capability::CapabilityAttrs;
use bangfu_core::model::NeedKind;
use bangfu_core::registry_index::RegistryIndex;
use bangfu_core::screening::Screener;
use bangfu_core::text::{NAME_CHARS, SHORT_CHARS, clean, csv_cell, csv_uncell};
use bangfu_core::travel::{GeodesicTravel, TravelSettings};
use bangfu_store::{CapabilityRow, ProviderRow};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The formats of a registry file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryFormat {
    Csv,
    Jsonl,
}

impl RegistryFormat {
    /// From a file name's extension.
    pub fn of_path(path: &str) -> AppResult<RegistryFormat> {
        let lower = path.to_lowercase();
        if lower.ends_with(".csv") {
            Ok(RegistryFormat::Csv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Ok(RegistryFormat::Jsonl)
        } else {
            Err(bad(format!("{path}: name the file .csv or .jsonl so its format is known")))
        }
    }
}

pub const CSV_HEADER: [&str; 8] = ["id", "name", "region", "lon", "lat", "kind", "available", "attrs"];

/// One checked line, ready to write.
#[derive(Clone, Debug)]
pub struct RegistryLine {
    pub line: usize,
    pub key: String,
    pub name: String,
    pub region: bangfu_core::region::RegionCode,
    pub lon: f64,
    pub lat: f64,
    pub kind: NeedKind,
    pub available: bool,
    pub attrs: bangfu_store::JsonObject,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: usize,
    pub providers_added: usize,
    pub capabilities_written: usize,
}

const MAX_ERRORS_SHOWN: usize = 20;

impl App {
    /// Parses and checks a whole file; errors name their line (1-based, the CSV header is line 1).
    pub fn parse_registry(&self, text: &str, format: RegistryFormat) -> AppResult<Vec<RegistryLine>> {
        let mut lines = Vec::new();
        let mut errors = Vec::new();
        let mut check = |line: usize, value: Result<Value, String>| match value.and_then(|v| self.registry_line(line, &v)) {
            Ok(parsed) => lines.push(parsed),
            Err(e) => errors.push(format!("line {line}: {e}")),
        };
        match format {
            RegistryFormat::Jsonl => {
                for (i, raw) in text.lines().enumerate() {
                    if raw.trim().is_empty() {
                        continue;
                    }
                    check(i + 1, serde_json::from_str(raw).map_err(|e| format!("not JSON ({e})")));
                }
            }
            RegistryFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
                let header: Vec<String> = reader.headers().map_err(|e| bad(format!("line 1: {e}")))?.iter().map(|h| h.trim().to_string()).collect();
                if header != CSV_HEADER {
                    return Err(bad(format!("line 1: the header is {}, expected {}", header.join(","), CSV_HEADER.join(","))));
                }
                for (i, record) in reader.records().enumerate() {
                    let line = i + 2;
                    check(line, record.map_err(|e| e.to_string()).and_then(|r| csv_record_json(&r)));
                }
            }
        }
        if !errors.is_empty() {
            let more = errors.len().saturating_sub(MAX_ERRORS_SHOWN);
            let mut message = errors.into_iter().take(MAX_ERRORS_SHOWN).collect::<Vec<_>>().join("; ");
            if more > 0 {
                message.push_str(&format!("; and {more} more"));
            }
            return Err(bad(format!("nothing was imported — {message}")));
        }
        Ok(lines)
    }

    fn registry_line(&self, line: usize, v: &Value) -> Result<RegistryLine, String> {
        let text = |name: &str, max: usize| {
            let value = v.get(name).and_then(Value::as_str).ok_or_else(|| format!("{name} is missing"))?;
            let value = clean(value, max).map_err(|e| format!("{name} {e}"))?;
            if value.is_empty() { Err(format!("{name} is missing")) } else { Ok(value) }
        };
        let key = match v.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            _ => text("id", SHORT_CHARS)?,
        };
        let name = text("name", NAME_CHARS)?;
        let region = self.tree.resolve(&text("region", SHORT_CHARS)?).map_err(|e| e.to_string())?;
        let kind = NeedKind::parse(&text("kind", SHORT_CHARS)?).map_err(|e| format!("kind: {e}"))?;
        let attrs = v.get("attrs").cloned().unwrap_or(Value::Null);
        crate::error::json_text("attrs", &attrs).map_err(|e| e.to_string())?;
        CapabilityAttrs::from_attrs(kind, &attr_values(&attrs).map_err(|e| e.to_string())?).map_err(|e| format!("attrs: {e}"))?;
        let Value::Object(attrs) = attrs else { return Err("attrs: expected an object".into()) };
        let seat = self.tree.get(region);
        let coordinate = |name: &str, fallback: Option<f64>| match v.get(name) {
            Some(Value::Number(n)) => n.as_f64().ok_or_else(|| format!("{name} is not a number")),
            None | Some(Value::Null) => fallback.ok_or_else(|| format!("{name} is missing and region {region} has no known seat")),
            Some(other) => Err(format!("{name} is {other}, not a number")),
        };
        let lon = coordinate("lon", seat.and_then(|r| r.lon))?;
        let lat = coordinate("lat", seat.and_then(|r| r.lat))?;
        if !lon.is_finite() || !lat.is_finite() {
            return Err(format!("lon/lat {lon}, {lat} are not finite numbers of degrees"));
        }
        if !(73.0..=136.0).contains(&lon) || !(3.0..=54.0).contains(&lat) {
            return Err(format!("lon/lat {lon}, {lat} lie outside China"));
        }
        let available = match v.get("available") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("available is {other}, expected true or false")),
        };
        Ok(RegistryLine { line, key, name, region, lon, lat, kind, available, attrs })
    }

    /// Writes checked lines in one transaction with one audit event; `progress(done, total)` is
    /// called as lines are written. An officer imports providers inside its jurisdiction only —
    /// new ones in a region it holds, known ones it may edit ([`access::may_edit_provider`]);
    /// any line outside refuses the whole file, naming each such line. The lines go to the
    /// store's writer, which runs the import: a caller that keeps them too (for its progress)
    /// shares them as an `Arc<[RegistryLine]>` instead of copying them.
    pub async fn import_registry(
        &self,
        actor: &Actor,
        now: DateTime<Utc>,
        lines: impl Into<std::sync::Arc<[RegistryLine]>>,
        mut progress: impl FnMut(usize, usize) + Send + 'static,
    ) -> AppResult<ImportReport> {
        if !access::may_register(actor) {
            return Err(AppError::Forbidden("only officers and admins import the registry".into()));
        }
        let lines: std::sync::Arc<[RegistryLine]> = lines.into();
        self.write_as(actor, move |app, actor, tx| {
            let lines = &lines[..];
            let mut known: std::collections::BTreeMap<String, Option<ProviderRow>> = std::collections::BTreeMap::new();
            for line in lines {
                if !known.contains_key(&line.key) {
                    known.insert(line.key.clone(), tx.provider_by_key(&line.key)?);
                }
            }
            app.import_allowed(actor, lines, &known)?;
            let mut providers_added = 0;
            let mut keys = std::collections::BTreeMap::new();
            for (done, line) in lines.iter().enumerate() {
                let provider_id = match keys.get(&line.key) {
                    Some(id) => *id,
                    None => {
                        let id = match known.get(&line.key).and_then(Option::as_ref) {
                            Some(existing) => existing.id,
                            None => {
                                providers_added += 1;
                                let row = ProviderRow { id: 0, key: line.key.clone(), name: line.name.clone(), region: line.region, lon: Some(line.lon), lat: Some(line.lat), note: String::new(), created_at: to_millis(now) };
                                tx.insert_provider(&row)?
                            }
                        };
                        keys.insert(line.key.clone(), id);
                        id
                    }
                };
                let row = CapabilityRow { id: 0, provider_id, kind: line.kind, available: line.available, attrs: line.attrs.clone(), updated_at: to_millis(now), version: 0 };
                tx.upsert_capability(&row)?;
                progress(done + 1, lines.len());
            }
            app.propose_imported_switches(tx, actor, now, lines, &keys)?;
            let report = ImportReport { lines: lines.len(), providers_added, capabilities_written: lines.len() };
            Audit {
                actor,
                now,
                action: "registry.imported",
                entity: "registry".into(),
                case_id: None,
                payload: json!({"lines": report.lines, "providers_added": report.providers_added, "capabilities_written": report.capabilities_written}),
            }
            .append(tx)?;
            Ok(report)
        })
        .await
    }

    /// Whether `actor` may import `lines`, checked before the import (which checks again in
    /// its write): a page can refuse a file at once instead of in the middle of its answer.
    pub async fn check_import(&self, actor: &Actor, lines: &[RegistryLine]) -> AppResult<()> {
        if !access::may_register(actor) {
            return Err(AppError::Forbidden("only officers and admins import the registry".into()));
        }
        let mut known = std::collections::BTreeMap::new();
        for line in lines {
            if !known.contains_key(&line.key) {
                known.insert(line.key.clone(), self.store.provider_by_key(&line.key).await?);
            }
        }
        self.import_allowed(actor, lines, &known)
    }

    /// Refuses the import, naming each line, when a line's provider is out of the officer's
    /// reach: a new one in a region outside its jurisdiction, a known one it may not edit.
    fn import_allowed(&self, actor: &Actor, lines: &[RegistryLine], known: &std::collections::BTreeMap<String, Option<ProviderRow>>) -> AppResult<()> {
        let mut refused = Vec::new();
        for line in lines {
            let (allowed, region) = match known.get(&line.key).and_then(Option::as_ref) {
                Some(existing) => (access::may_edit_provider(self.tree, actor, existing), existing.region),
                None => (access::may_create_in(self.tree, actor, line.region), line.region),
            };
            if !allowed {
                refused.push(format!("line {}: provider {} lies in {} ({region}), outside your jurisdiction", line.line, line.key, self.tree.full_name(region)));
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        let more = refused.len().saturating_sub(MAX_ERRORS_SHOWN);
        let mut message = refused.into_iter().take(MAX_ERRORS_SHOWN).collect::<Vec<_>>().join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more"));
        }
        Err(AppError::Forbidden(format!("nothing was imported — {message}")))
    }

    /// After an import: for each selected, unstarted need of an imported kind, the best of the
    /// imported capabilities is proposed as a switch if it beats the provider selected (one
    /// proposal per need, whatever the file's size: the imported lines are indexed, and each
    /// need asks the index for its best).
    fn propose_imported_switches(
        &self,
        tx: &mut bangfu_store::WriteTx,
        actor: &Actor,
        now: DateTime<Utc>,
        lines: &[RegistryLine],
        keys: &std::collections::BTreeMap<String, i64>,
    ) -> AppResult<()> {
        let kinds: std::collections::BTreeSet<NeedKind> = lines.iter().map(|l| l.kind).collect();
        let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
        let screener = Screener::new(self.tree, &self.policy, &travel);
        for kind in kinds {
            let selected = tx.selected_needs_with_choice(kind.as_str())?;
            if selected.is_empty() {
                continue;
            }
            let mut imported = Vec::new();
            for line in lines.iter().filter(|l| l.kind == kind) {
                let typed = CapabilityAttrs::from_attrs(kind, &crate::registry::object_attr_values(&line.attrs)).map_err(|e| bad(format!("line {}: {e}", line.line)))?;
                let provider = ProviderRow { id: keys.get(&line.key).copied().unwrap_or(0), key: line.key.clone(), name: line.name.clone(), region: line.region, lon: Some(line.lon), lat: Some(line.lat), note: String::new(), created_at: 0 };
                imported.push(crate::registry::capability_of(&provider, line.available, typed)?);
            }
            let index = RegistryIndex::build(imported);
            for (need, choice) in selected {
                let Some(spec) = self.spec_of(&need, &choice.enterprise)? else { continue };
                let best = index.best_candidates(&screener, &spec, Some(2)).map_err(|e| AppError::Internal(e.to_string()))?;
                if let Some(challenger) = best.iter().find(|c| c.provider.0 != choice.provider_id) {
                    self.propose_switch(tx, actor, now, &need, &choice, challenger)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the registry to `out` as lines of the import format (a provider user sees only its
    /// own), reading it a page of providers at a time, so that a registry of any size is never
    /// held in memory whole.
    pub async fn export_registry(&self, actor: &Actor, format: RegistryFormat, out: &mut impl std::io::Write) -> AppResult<()> {
        let failed = |e: &dyn std::fmt::Display| AppError::Internal(format!("cannot write the export: {e}"));
        // Each page is written through a buffer of its own (a page of providers, not the registry).
        let mut lines = csv::Writer::from_writer(Vec::new());
        if format == RegistryFormat::Csv {
            lines.write_record(CSV_HEADER).map_err(|e| failed(&e))?;
        }
        let search = crate::registry_search::ProviderSearch::default();
        let mut after = None;
        loop {
            let page = self.search_providers(actor, &search, bangfu_store::PageRequest { after, limit: bangfu_store::lists::MAX_PAGE }).await?;
            let mut jsonl = Vec::new();
            for (provider, capabilities) in &page.items {
                for c in capabilities {
                    let attrs = Value::Object(c.attrs.clone());
                    match format {
                        RegistryFormat::Jsonl => {
                            let line = json!({"id": provider.key, "name": provider.name, "region": provider.region, "lon": provider.lon, "lat": provider.lat, "kind": c.kind, "available": c.available, "attrs": attrs});
                            jsonl.extend_from_slice(line.to_string().as_bytes());
                            jsonl.push(b'\n');
                        }
                        RegistryFormat::Csv => {
                            let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
                            let cells = [provider.key.clone(), provider.name.clone(), provider.region.to_string(), number(provider.lon), number(provider.lat), c.kind.to_string(), c.available.to_string(), attrs.to_string()];
                            lines.write_record(cells.iter().map(|cell| csv_cell(cell).into_owned())).map_err(|e| failed(&e))?;
                        }
                    }
                }
            }
            let csv = std::mem::replace(&mut lines, csv::Writer::from_writer(Vec::new())).into_inner().map_err(|e| failed(&e))?;
            out.write_all(&csv).and_then(|()| out.write_all(&jsonl)).map_err(|e| failed(&e))?;
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }
}

/// A CSV record as the JSON object of a JSONL line.
fn csv_record_json(record: &csv::StringRecord) -> Result<Value, String> {
    let field = |i: usize| csv_uncell(record.get(i).unwrap_or("").trim());
    // A number that JSON cannot hold (NaN, inf) is refused here, not read as missing.
    let number = |i: usize, name: &str| -> Result<Value, String> {
        match field(i) {
            "" => Ok(Value::Null),
            s => match s.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(json!(x)),
                Ok(_) => Err(format!("{name} {s:?} is not a finite number")),
                Err(_) => Err(format!("{name} {s:?} is not a number")),
            },
        }
    };
    let available = match field(6).to_lowercase().as_str() {
        "" | "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        other => return Err(format!("available {other:?} is not true or false")),
    };
    let attrs: Value = match field(7) {
        "" => json!({}),
        s => serde_json::from_str(s).map_err(|e| format!("attrs is not a JSON object ({e})"))?,
    };
    Ok(json!({"id": field(0), "name": field(1), "region": field(2), "lon": number(3, "lon")?, "lat": number(4, "lat")?, "kind": field(5), "available": available, "attrs": attrs}))
}
