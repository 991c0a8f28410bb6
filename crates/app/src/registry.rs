//! The capability registry (providers and what they can do) and the sourcing of needs against
//! it: screening, the widening search ring by ring, selection and switching.

use crate::error::bad;
use crate::needs::region_code;
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::capability::{AttrValue, Capability, CapabilityAttrs, Requirement};
use bangfu_core::ids::ProviderId;
use bangfu_core::model::{NeedKind, NeedStatus};
use bangfu_core::widening::widen;
use bangfu_core::region::RegionCode;
use bangfu_core::routing::route;
use bangfu_core::screening::{NeedSpec, Screener, Screening, better_than};
use bangfu_core::travel::{GeodesicTravel, LonLat, TravelSettings};
use bangfu_store::{CandidateRow, CapabilityRow, CaseRow, EnterpriseRow, NeedRow, ProviderRow, WriteTx};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// A provider as typed by a user.
#[derive(Clone, Debug, Default)]
pub struct NewProvider {
    /// A stable key chosen by whoever registers it (used by imports to update, not duplicate).
    pub key: String,
    pub name: String,
    pub region: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub note: String,
}

/// JSON attributes as the untyped values core checks.
pub fn attr_values(attrs: &Value) -> AppResult<Vec<(String, AttrValue)>> {
    let Value::Object(map) = attrs else {
        return Err(bad(format!("attributes must be an object such as {{\"turnaround_h\": 36}}, found {attrs}")));
    };
    Ok(map
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Number(n) => n.as_f64().map_or_else(|| AttrValue::Other(n.to_string()), AttrValue::Number),
                Value::String(s) => AttrValue::Text(s.clone()),
                Value::Array(items) if items.iter().all(Value::is_string) => {
                    AttrValue::TextList(items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
                }
                Value::Array(_) => AttrValue::Other("a list with non-text items".into()),
                Value::Bool(b) => AttrValue::Other(b.to_string()),
                Value::Null => AttrValue::Other("null".into()),
                Value::Object(_) => AttrValue::Other("an object".into()),
            };
            (name.clone(), value)
        })
        .collect())
}

/// The refusal to source a need of a kind the registry does not hold.
pub(crate) fn not_in_registry(need: &NeedRow) -> AppError {
    bad(format!("need {} is of kind {}, which the registry does not hold — propose a solution by hand", need.id, need.kind))
}

/// The typed requirement of a stored need.
pub(crate) fn requirement_of(need: &NeedRow) -> AppResult<Option<Requirement>> {
    let kind = NeedKind::parse(&need.kind).map_err(AppError::Internal)?;
    if !kind.has_capabilities() {
        return Ok(None);
    }
    let requires: Value = serde_json::from_str(&need.requires).unwrap_or(json!({}));
    Requirement::from_attrs(kind, &attr_values(&requires)?).map(Some).map_err(|e| bad(format!("requires: {e}")))
}

impl App {
    pub async fn add_provider(&self, actor: &Actor, now: DateTime<Utc>, input: NewProvider) -> AppResult<ProviderRow> {
        if !matches!(actor.role, bangfu_core::model::Role::Admin | bangfu_core::model::Role::Officer) {
            return Err(AppError::Forbidden("only officers and admins register providers".into()));
        }
        let (key, name) = (input.key.trim(), input.name.trim());
        if key.is_empty() || name.is_empty() {
            return Err(bad("key and name: give the provider a stable key and its name"));
        }
        let region = self.region(&input.region, "region")?;
        let (lon, lat) = crate::cases::coordinates(self, region, input.lon, input.lat)?;
        if lon.is_none() {
            return Err(bad(format!("region {region} has no known coordinates — give lon and lat")));
        }
        let mut tx = self.store.begin_write().await?;
        if tx.provider_by_key(key).await?.is_some() {
            return Err(AppError::Conflict(format!("provider {key} is already registered")));
        }
        let mut row = ProviderRow {
            id: 0,
            key: key.into(),
            name: name.into(),
            region: region.to_string(),
            lon,
            lat,
            note: input.note,
            created_at: to_millis(now),
        };
        row.id = tx.insert_provider(&row).await?;
        Audit { actor, now, action: "provider.added", entity: format!("provider:{}", row.id), case_id: None, payload: json!({"key": row.key, "name": row.name, "region": row.region}) }
            .append(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Adds or replaces the provider's capability of `kind`, checking its attributes.
    pub async fn set_capability(&self, actor: &Actor, now: DateTime<Utc>, provider_id: i64, kind: &str, available: bool, attrs: &Value) -> AppResult<CapabilityRow> {
        let kind = NeedKind::parse(kind).map_err(|e| bad(format!("kind: {e}")))?;
        let typed = CapabilityAttrs::from_attrs(kind, &attr_values(attrs)?).map_err(|e| bad(format!("attrs: {e}")))?;
        if !access::can_edit_provider(actor, provider_id) {
            return Err(AppError::NotFound(format!("provider {provider_id}")));
        }
        let mut tx = self.store.begin_write().await?;
        let provider = tx.provider(provider_id).await?.ok_or_else(|| AppError::NotFound(format!("provider {provider_id}")))?;
        let mut row = CapabilityRow { id: 0, provider_id, kind: kind.as_str().into(), available: i64::from(available), attrs: attrs.to_string(), updated_at: to_millis(now) };
        row.id = tx.upsert_capability(&row).await?;
        Audit {
            actor,
            now,
            action: "capability.set",
            entity: format!("capability:{}", row.id),
            case_id: None,
            payload: json!({"provider": provider.name, "kind": row.kind, "available": available, "attrs": attrs}),
        }
        .append(&mut tx)
        .await?;
        let capability = self.capability_of(&provider, kind, available, typed)?;
        self.propose_switches(&mut tx, actor, now, &capability).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub(crate) fn capability_of(&self, provider: &ProviderRow, _kind: NeedKind, available: bool, attrs: CapabilityAttrs) -> AppResult<Capability<ProviderId>> {
        let at = LonLat::new(provider.lon.unwrap_or(0.0), provider.lat.unwrap_or(0.0)).map_err(AppError::Internal)?;
        Ok(Capability { provider: ProviderId(provider.id), name: provider.name.clone(), region: region_code(&provider.region), at, available, attrs })
    }

    /// Every capability of `kind` in the registry, typed.
    async fn registry_of_kind(&self, tx: &mut WriteTx, kind: NeedKind) -> AppResult<Vec<Capability<ProviderId>>> {
        let mut out = Vec::new();
        for (row, provider) in tx.capabilities_with_providers_of_kind(kind.as_str()).await? {
            let attrs: Value = serde_json::from_str(&row.attrs).unwrap_or(json!({}));
            let Ok(typed) = CapabilityAttrs::from_attrs(kind, &attr_values(&attrs)?) else { continue };
            out.push(self.capability_of(&provider, kind, row.available != 0, typed)?);
        }
        Ok(out)
    }

    /// What screening reads of a stored need of an enterprise.
    fn need_spec(&self, need: &NeedRow, enterprise: &EnterpriseRow, requires: Requirement) -> AppResult<NeedSpec> {
        let at = LonLat::new(enterprise.lon.unwrap_or(0.0), enterprise.lat.unwrap_or(0.0)).map_err(|e| bad(format!("the enterprise's location: {e}")))?;
        let mut spec = NeedSpec::new(region_code(&enterprise.region), at, need.quantity, requires).map_err(|e| bad(e.to_string()))?;
        if let Some(km) = need.max_distance_km {
            spec = spec.with_max_distance_km(km).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(h) = need.max_lead_time_h {
            spec = spec.with_max_lead_time_h(h).map_err(|e| bad(e.to_string()))?;
        }
        Ok(spec)
    }

    /// Screens `need` against the registry, inside `tx`.
    async fn screen_in(&self, tx: &mut WriteTx, need: &NeedRow, only_provider: Option<i64>) -> AppResult<Option<(Screening<ProviderId>, RegionCode)>> {
        if requirement_of(need)?.is_none() {
            return Ok(None);
        }
        let case = tx.case(need.case_id).await?.ok_or_else(|| AppError::Internal("need without case".into()))?;
        self.screen_for(tx, need, &case, None, only_provider).await
    }

    /// Screens `need` of `case` against the registry, inside `tx`; `enterprise` is the case's,
    /// when the caller has read it already.
    pub(crate) async fn screen_for(
        &self,
        tx: &mut WriteTx,
        need: &NeedRow,
        case: &CaseRow,
        enterprise: Option<&EnterpriseRow>,
        only_provider: Option<i64>,
    ) -> AppResult<Option<(Screening<ProviderId>, RegionCode)>> {
        let Some(requires) = requirement_of(need)? else { return Ok(None) };
        let read;
        let enterprise = match enterprise {
            Some(enterprise) => enterprise,
            None => {
                read = tx.enterprise(case.enterprise_id).await?.ok_or_else(|| AppError::Internal("case without enterprise".into()))?;
                &read
            }
        };
        let spec = self.need_spec(need, enterprise, requires)?;
        let kind = spec.kind();
        let mut registry = self.registry_of_kind(tx, kind).await?;
        if let Some(provider) = only_provider {
            registry.retain(|c| c.provider.0 == provider);
            if registry.is_empty() {
                return Err(bad(format!("provider {provider} has no {kind} capability in the registry — add it first")));
            }
        }
        let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
        let screening = Screener::new(self.tree, &self.policy, &travel).screen(&spec, &registry).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Some((screening, spec.region)))
    }

    /// Screens a stored need against the stored registry without recording anything (what-if):
    /// the screening, and the providers it names. Reads inside a write transaction that is rolled
    /// back, so that it sees one consistent registry.
    pub async fn what_if_screening(&self, actor: &Actor, need_id: i64) -> AppResult<(Screening<ProviderId>, std::collections::BTreeMap<i64, ProviderRow>)> {
        self.need_detail(actor, need_id).await?;
        let mut tx = self.store.begin_write().await?;
        let need = tx.need(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let Some((screening, _)) = self.screen_in(&mut tx, &need, None).await? else {
            return Err(bad(format!("need {need_id} is of kind {}, which the registry does not hold", need.kind)));
        };
        let mut providers = std::collections::BTreeMap::new();
        for id in screening.candidates.iter().map(|c| c.provider.0).chain(screening.rejected.iter().map(|r| r.provider.0)) {
            if let Some(p) = tx.provider(id).await? {
                providers.insert(id, p);
            }
        }
        tx.rollback().await?;
        Ok((screening, providers))
    }

    /// Sources a need: screens the registry, records every candidate and rejection with its
    /// reasons, and — for a need without a selected provider — searches ring by ring (county,
    /// city, province, nation): the owner becomes the tier of the first ring that holds a
    /// feasible candidate, and each empty ring is recorded as widened.
    pub async fn source_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64) -> AppResult<NeedRow> {
        let mut tx = self.store.begin_write().await?;
        let (need, case) = self.need_for_write(&mut tx, actor, need_id).await?;
        let Some(screened) = self.screen_for(&mut tx, &need, &case, None, None).await? else {
            return Err(not_in_registry(&need));
        };
        let need = self.record_sourcing(&mut tx, actor, now, need, &case, screened).await?;
        tx.commit().await?;
        Ok(need)
    }

    /// What sourcing writes once the registry is screened: candidates and rejections, the
    /// widening and its route, the events, a letter if the need became national.
    pub(crate) async fn record_sourcing(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        now: DateTime<Utc>,
        mut need: NeedRow,
        case: &CaseRow,
        (screening, enterprise_region): (Screening<ProviderId>, RegionCode),
    ) -> AppResult<NeedRow> {
        let need_id = need.id;
        self.record_screening(tx, now, need_id, enterprise_region, &screening).await?;
        let unselected = need.selected_candidate.is_none() && need.status == NeedStatus::Open.as_str();
        let mut widened = Vec::new();
        if unselected && need.solution_region.is_none() {
            let regions: Vec<RegionCode> = screening.candidates.iter().map(|c| c.region).collect();
            let widening = widen(self.tree, enterprise_region, &regions).map_err(|e| AppError::Internal(e.to_string()))?;
            widened = widening.messages;
            // Candidates are ranked, so the first inside the ring is the ring's best.
            if let Some(best) = widening.found.and_then(|(_, inside)| inside.first().map(|&i| &screening.candidates[i])) {
                let kind = NeedKind::parse(&need.kind).map_err(AppError::Internal)?;
                let decision = route(self.tree, &self.policy, enterprise_region, best.region, Some(kind)).map_err(|e| AppError::Internal(e.to_string()))?;
                if decision.owner.to_string() != need.owner {
                    need.reached_owner_at = to_millis(now);
                }
                self.apply_route(&mut need, &decision);
                need.updated_at = to_millis(now);
                tx.update_need(&need).await?;
            }
        }
        for message in &widened {
            Audit { actor, now, action: "need.widened", entity: format!("need:{need_id}"), case_id: Some(case.id), payload: json!({"zh": message.zh, "en": message.en}) }
                .append(tx)
                .await?;
        }
        Audit {
            actor,
            now,
            action: "need.sourced",
            entity: format!("need:{need_id}"),
            case_id: Some(case.id),
            payload: json!({
                "candidates": screening.candidates.len(), "rejected": screening.rejected.len(),
                "best": screening.candidates.first().map(|c| json!({"provider": c.name, "lead_time_h": c.lead_time_h, "road_km": c.road_km})),
                "scope": need.scope, "owner": need.owner,
            }),
        }
        .append(tx)
        .await?;
        self.draft_letter_if_national(tx, actor, now, &need).await?;
        Ok(need)
    }

    /// Writes every candidate and rejection of a screening, with reasons, as candidate rows.
    async fn record_screening(&self, tx: &mut WriteTx, now: DateTime<Utc>, need_id: i64, enterprise_region: RegionCode, screening: &Screening<ProviderId>) -> AppResult<()> {
        for candidate in &screening.candidates {
            let row = CandidateRow {
                id: 0,
                need_id,
                provider_id: candidate.provider.0,
                feasible: 1,
                road_km: candidate.road_km,
                travel_h: candidate.travel_h,
                processing_h: candidate.processing_h,
                lead_time_h: candidate.lead_time_h,
                scope: candidate.scope.as_str().into(),
                owner: candidate.owner.to_string(),
                reasons: "[]".into(),
                explanation_zh: candidate.explanation.zh.clone(),
                explanation_en: candidate.explanation.en.clone(),
                status: "proposed".into(),
                created_at: to_millis(now),
            };
            tx.upsert_candidate(&row).await?;
        }
        for rejection in &screening.rejected {
            let reasons: Vec<Value> = rejection.reasons.iter().map(|r| {
                let text = r.explain();
                json!({"code": r.code(), "zh": text.zh, "en": text.en})
            }).collect();
            let decision = route(self.tree, &self.policy, enterprise_region, rejection.region, None).map_err(|e| AppError::Internal(e.to_string()))?;
            let row = CandidateRow {
                id: 0,
                need_id,
                provider_id: rejection.provider.0,
                feasible: 0,
                road_km: rejection.road_km,
                travel_h: 0.0,
                processing_h: 0.0,
                lead_time_h: rejection.lead_time_h,
                scope: decision.scope.as_str().into(),
                owner: decision.owner.to_string(),
                reasons: Value::Array(reasons).to_string(),
                explanation_zh: rejection.explanation.zh.clone(),
                explanation_en: rejection.explanation.en.clone(),
                status: "rejected".into(),
                created_at: to_millis(now),
            };
            tx.upsert_candidate(&row).await?;
        }
        Ok(())
    }

    /// An officer puts forward one provider for a need: it is screened like the registry's, and
    /// recorded as a candidate or a rejection with its reasons.
    pub async fn propose_candidate(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, provider_id: i64) -> AppResult<CandidateRow> {
        let mut tx = self.store.begin_write().await?;
        let (need, case) = self.need_for_write(&mut tx, actor, need_id).await?;
        let Some((screening, enterprise_region)) = self.screen_in(&mut tx, &need, Some(provider_id)).await? else {
            return Err(bad(format!("need {need_id} is of kind {}, which the registry does not hold", need.kind)));
        };
        self.record_screening(&mut tx, now, need_id, enterprise_region, &screening).await?;
        let candidate = tx
            .candidates_of_need(need_id)
            .await?
            .into_iter()
            .find(|c| c.provider_id == provider_id)
            .ok_or_else(|| AppError::Internal("the proposed candidate was not recorded".into()))?;
        Audit {
            actor,
            now,
            action: "need.candidate_proposed",
            entity: format!("need:{need_id}"),
            case_id: Some(case.id),
            payload: json!({"provider_id": provider_id, "feasible": candidate.feasible != 0, "explanation": {"zh": candidate.explanation_zh, "en": candidate.explanation_en}}),
        }
        .append(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(candidate)
    }

    /// Selects a candidate for a need — or switches to it from the one selected before — and
    /// re-derives the need's scope and owner from where the chosen provider lies.
    pub async fn select_candidate(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, candidate_id: i64) -> AppResult<NeedRow> {
        let mut tx = self.store.begin_write().await?;
        let (mut need, case) = self.need_for_write(&mut tx, actor, need_id).await?;
        let status = NeedStatus::parse(&need.status).map_err(AppError::Internal)?;
        if !matches!(status, NeedStatus::Open | NeedStatus::Selected) {
            return Err(AppError::Conflict(format!("need {need_id} is {status}: a provider can only be chosen before work starts")));
        }
        let candidate = tx.candidate(candidate_id).await?.filter(|c| c.need_id == need_id).ok_or_else(|| AppError::NotFound(format!("candidate {candidate_id} of need {need_id}")))?;
        if candidate.feasible == 0 {
            return Err(AppError::Conflict(format!("candidate {candidate_id} was rejected in screening: {}", candidate.explanation_zh)));
        }
        let provider = tx.provider(candidate.provider_id).await?.ok_or_else(|| AppError::Internal("candidate without provider".into()))?;
        let previous = match need.selected_candidate {
            Some(id) if id == candidate_id => return Ok(need),
            Some(id) => tx.candidate(id).await?,
            None => None,
        };
        let kind = NeedKind::parse(&need.kind).map_err(AppError::Internal)?;
        let decision = route(self.tree, &self.policy, region_code(&case.region), region_code(&provider.region), Some(kind)).map_err(|e| AppError::Internal(e.to_string()))?;
        let old_scope = need.scope.clone();
        if decision.owner.to_string() != need.owner {
            need.reached_owner_at = to_millis(now);
        }
        self.apply_route(&mut need, &decision);
        need.solution_region = Some(provider.region.clone());
        need.selected_candidate = Some(candidate_id);
        need.status = NeedStatus::Selected.as_str().into();
        need.updated_at = to_millis(now);
        tx.update_need(&need).await?;
        if let Some(previous) = &previous {
            tx.set_candidate_status(previous.id, "replaced").await?;
        }
        tx.set_candidate_status(candidate_id, "selected").await?;
        let mut payload = json!({
            "provider": provider.name, "region": provider.region, "lead_time_h": candidate.lead_time_h, "road_km": candidate.road_km,
            "scope": need.scope, "owner": need.owner, "explanation": {"zh": need.route_zh, "en": need.route_en},
        });
        let action = match &previous {
            Some(previous) => {
                payload["from_scope"] = json!(old_scope);
                payload["saves_h"] = json!(previous.lead_time_h - candidate.lead_time_h);
                payload["saves_km"] = json!(previous.road_km - candidate.road_km);
                "need.switched"
            }
            None => "need.selected",
        };
        Audit { actor, now, action, entity: format!("need:{need_id}"), case_id: Some(case.id), payload }.append(&mut tx).await?;
        self.notify_owner(&mut tx, now, &need, "已选定提供方", "Provider selected").await?;
        self.draft_letter_if_national(&mut tx, actor, now, &need).await?;
        tx.commit().await?;
        Ok(need)
    }

    /// After a capability changes: on every selected, unstarted need of its kind that it now
    /// beats, records a switch proposal (event and notification) with what it saves.
    pub(crate) async fn propose_switches(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, capability: &Capability<ProviderId>) -> AppResult<()> {
        for need in tx.open_needs().await? {
            if need.kind != capability.kind().as_str() || need.status != NeedStatus::Selected.as_str() {
                continue;
            }
            let Some(selected_id) = need.selected_candidate else { continue };
            let Some(selected) = tx.candidate(selected_id).await? else { continue };
            if selected.provider_id == capability.provider.0 {
                continue;
            }
            let Some(requires) = requirement_of(&need)? else { continue };
            let case = tx.case(need.case_id).await?.ok_or_else(|| AppError::Internal("need without case".into()))?;
            let enterprise = tx.enterprise(case.enterprise_id).await?.ok_or_else(|| AppError::Internal("case without enterprise".into()))?;
            let spec = self.need_spec(&need, &enterprise, requires)?;
            let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
            let screener = Screener::new(self.tree, &self.policy, &travel);
            let Some(assessment) = screener.assess(&spec, capability).filter(|a| a.is_feasible()) else { continue };
            let challenger = screener.candidate(&spec, capability, &assessment).map_err(|e| AppError::Internal(e.to_string()))?;
            let mut current = challenger.clone();
            current.provider = ProviderId(selected.provider_id);
            current.lead_time_h = selected.lead_time_h;
            current.road_km = selected.road_km;
            let Some(savings) = better_than(&current, &challenger) else { continue };
            let row = CandidateRow {
                id: 0,
                need_id: need.id,
                provider_id: capability.provider.0,
                feasible: 1,
                road_km: challenger.road_km,
                travel_h: challenger.travel_h,
                processing_h: challenger.processing_h,
                lead_time_h: challenger.lead_time_h,
                scope: challenger.scope.as_str().into(),
                owner: challenger.owner.to_string(),
                reasons: "[]".into(),
                explanation_zh: challenger.explanation.zh.clone(),
                explanation_en: challenger.explanation.en.clone(),
                status: "proposed_switch".into(),
                created_at: to_millis(now),
            };
            let candidate_id = tx.upsert_candidate(&row).await?;
            let zh = format!("建议改选{}：可节省约 {:.1} 小时、{:.0} 公里", capability.name, savings.hours, savings.km);
            let en = format!("Switch proposed to {}: saves about {:.1} h and {:.0} km", capability.name, savings.hours, savings.km);
            Audit {
                actor,
                now,
                action: "need.switch_proposed",
                entity: format!("need:{}", need.id),
                case_id: Some(need.case_id),
                payload: json!({"candidate": candidate_id, "provider": capability.name, "saves_h": savings.hours, "saves_km": savings.km, "zh": zh, "en": en}),
            }
            .append(tx)
            .await?;
            self.notify_owner(tx, now, &need, &zh, &en).await?;
        }
        Ok(())
    }
}
