//! The capability registry (providers and what they can do) and the sourcing of needs against
//! it: screening, the widening search ring by ring, selection and switching.

use bangfu_core::outbox::EventKind;
use crate::error::{bad, json_text, text};
use bangfu_core::text::{LONG_CHARS, NAME_CHARS, SHORT_CHARS};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::capability::{AttrValue, Capability, CapabilityAttrs, Requirement};
use bangfu_core::ids::ProviderId;
use bangfu_core::model::{CandidateStatus, NeedKind, NeedStatus};
use bangfu_core::widening::widen;
use bangfu_core::region::RegionCode;
use bangfu_core::routing::route;
use bangfu_core::bounded_screening::BoundedScreening;
use bangfu_core::screening::{Candidate, NeedSpec, Rejection, Screener, Screening, better_than};
use bangfu_core::travel::{GeodesicTravel, LonLat, TravelSettings};
use bangfu_store::{CandidateRow, CapabilityRow, CaseRow, EnterpriseRow, NeedRow, ProviderRow, ScreeningRow, SelectedChoice, WriteTx};
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
    Ok(object_attr_values(map))
}

/// The attributes of a JSON object, each as the value it holds.
pub fn object_attr_values(map: &bangfu_store::JsonObject) -> Vec<(String, AttrValue)> {
    map
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
        .collect()
}

/// The refusal to source a need of a kind the registry does not hold.
pub(crate) fn not_in_registry(need: &NeedRow) -> AppError {
    bad(format!("need {} is of kind {}, which the registry does not hold — propose a solution by hand", need.id, need.kind))
}

/// The typed requirement of a stored need.
pub(crate) fn requirement_of(need: &NeedRow) -> AppResult<Option<Requirement>> {
    requirement(need.kind, &need.requires)
}

/// The typed requirement of a need of `kind` that requires `requires`.
pub(crate) fn requirement(kind: NeedKind, requires: &bangfu_store::JsonObject) -> AppResult<Option<Requirement>> {
    if !kind.has_capabilities() {
        return Ok(None);
    }
    Requirement::from_attrs(kind, &object_attr_values(requires)).map(Some).map_err(|e| bad(format!("requires: {e}")))
}

impl App {
    /// Registers a provider: an officer inside its jurisdiction, an admin anywhere.
    pub async fn add_provider(&self, actor: &Actor, now: DateTime<Utc>, input: NewProvider) -> AppResult<ProviderRow> {
        if !access::may_register(actor) {
            return Err(AppError::Forbidden("only officers and admins register providers".into()));
        }
        let (key, name) = (text("key", &input.key, SHORT_CHARS)?, text("name", &input.name, NAME_CHARS)?);
        let note = text("note", &input.note, LONG_CHARS)?;
        if key.is_empty() || name.is_empty() {
            return Err(bad("key and name: give the provider a stable key and its name"));
        }
        let region = self.region(&input.region, "region")?;
        let (lon, lat) = crate::cases::coordinates(self, region, input.lon, input.lat)?;
        if lon.is_none() {
            return Err(bad(format!("region {region} has no known coordinates — give lon and lat")));
        }
        self.may_create_in(actor, region, "providers")?;
        self.write_as(actor, move |_, actor, tx| {
            if tx.provider_by_key(&key)?.is_some() {
                return Err(AppError::Conflict(format!("provider {key} is already registered")));
            }
            let mut row = ProviderRow {
                id: 0,
                key,
                name,
                region,
                lon,
                lat,
                note,
                created_at: to_millis(now),
            };
            row.id = tx.insert_provider(&row)?;
            Audit { actor, now, action: "provider.added", entity: format!("provider:{}", row.id), case_id: None, payload: json!({"key": row.key, "name": row.name, "region": row.region}) }
                .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// Adds or replaces the provider's capability of `kind`, checking its attributes: its own
    /// users, the officers whose jurisdiction holds it, admins ([`access::may_edit_provider`]).
    pub async fn set_capability(&self, actor: &Actor, now: DateTime<Utc>, provider_id: i64, kind: &str, available: bool, attrs: &Value) -> AppResult<CapabilityRow> {
        let kind = NeedKind::parse(&text("kind", kind, SHORT_CHARS)?).map_err(|e| bad(format!("kind: {e}")))?;
        json_text("attrs", attrs)?;
        let typed = CapabilityAttrs::from_attrs(kind, &attr_values(attrs)?).map_err(|e| bad(format!("attrs: {e}")))?;
        if !access::can_see_provider(actor, provider_id) {
            return Err(AppError::NotFound(format!("provider {provider_id}")));
        }
        let attrs = attrs.as_object().cloned().ok_or_else(|| bad("attrs: expected an object"))?;
        self.write_as(actor, move |app, actor, tx| {
            let provider = tx.provider(provider_id)?.ok_or_else(|| AppError::NotFound(format!("provider {provider_id}")))?;
            if !access::may_edit_provider(app.tree, actor, &provider) {
                return Err(AppError::Forbidden(format!(
                    "provider {provider_id} lies in {} ({}), outside your jurisdiction: its own users and the officers there keep its capabilities",
                    app.tree.full_name(provider.region),
                    provider.region
                )));
            }
            let mut row = CapabilityRow { id: 0, provider_id, kind, available, attrs: attrs.clone(), updated_at: to_millis(now), version: 0 };
            row.id = tx.upsert_capability(&row)?;
            Audit {
                actor,
                now,
                action: "capability.set",
                entity: format!("capability:{}", row.id),
                case_id: None,
                payload: json!({"provider": provider.name, "kind": row.kind, "available": available, "attrs": attrs}),
            }
            .append(tx)?;
            let capability = capability_of(&provider, available, typed)?;
            app.propose_switches(tx, actor, now, &capability)?;
            Ok(row)
        })
        .await
    }

    /// What screening reads of a need, from its stored row and its enterprise.
    pub(crate) fn need_spec(&self, need: &NeedRow, enterprise: &EnterpriseRow, requires: Requirement) -> AppResult<NeedSpec> {
        self.spec_of_parts(enterprise, requires, need.quantity, need.max_distance_km, need.max_lead_time_h)
    }

    /// What screening reads of a need given by its parts (a need not yet stored).
    pub(crate) fn spec_of_parts(&self, enterprise: &EnterpriseRow, requires: Requirement, quantity: f64, max_distance_km: Option<f64>, max_lead_time_h: Option<f64>) -> AppResult<NeedSpec> {
        let at = LonLat::new(enterprise.lon.unwrap_or(0.0), enterprise.lat.unwrap_or(0.0)).map_err(|e| bad(format!("the enterprise's location: {e}")))?;
        let mut spec = NeedSpec::new(enterprise.region, at, quantity, requires).map_err(|e| bad(e.to_string()))?;
        if let Some(km) = max_distance_km {
            spec = spec.with_max_distance_km(km).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(h) = max_lead_time_h {
            spec = spec.with_max_lead_time_h(h).map_err(|e| bad(e.to_string()))?;
        }
        Ok(spec)
    }

    /// The spec of a stored need of a registry kind (none for kinds the registry does not hold).
    pub(crate) fn spec_of(&self, need: &NeedRow, enterprise: &EnterpriseRow) -> AppResult<Option<NeedSpec>> {
        requirement_of(need)?.map(|requires| self.need_spec(need, enterprise, requires)).transpose()
    }

    /// Screens a need on this server's registry index (brought up to date first), outside any
    /// write transaction: the bounded record and the registry version it reflects.
    pub(crate) async fn screen(&self, spec: &NeedSpec) -> AppResult<Screened> {
        self.warm_registry().await?;
        self.screen_held(spec)
    }

    /// [`App::screen`] on the index as this server holds it, without reading the database: what
    /// a write job screens on, since it cannot wait for a read. The screening records the
    /// version it used; callers bring the index up to date before their write.
    pub(crate) fn screen_held(&self, spec: &NeedSpec) -> AppResult<Screened> {
        let registry = self.registry_held()?;
        let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
        let screener = Screener::new(self.tree, &self.policy, &travel);
        let outcome = registry.index.screen_bounded(&screener, spec, self.bounds).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Screened { spec: spec.clone(), outcome, registry_version: registry.held.unwrap_or(0) })
    }

    /// Screens a stored need against the whole stored registry without recording anything
    /// (what-if, `bangfu match --need-id`): every capability of its kind, and the providers it
    /// names.
    pub async fn what_if_screening(&self, actor: &Actor, need_id: i64) -> AppResult<(Screening<ProviderId>, std::collections::BTreeMap<i64, ProviderRow>)> {
        self.need_detail(actor, need_id).await?;
        let (need, _, enterprise) = self.store.need_with_case(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let Some(spec) = self.spec_of(&need, &enterprise)? else {
            return Err(bad(format!("need {need_id} is of kind {}, which the registry does not hold", need.kind)));
        };
        let screening = {
            let registry = self.registry().await?;
            let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
            let screener = Screener::new(self.tree, &self.policy, &travel);
            screener.screen(&spec, registry.index.of_kind(spec.kind())).map_err(|e| AppError::Internal(e.to_string()))?
        };
        let mut providers = std::collections::BTreeMap::new();
        for id in screening.candidates.iter().map(|c| c.provider.0).chain(screening.rejected.iter().map(|r| r.provider.0)) {
            if let Some(p) = self.store.provider(id).await? {
                providers.insert(id, p);
            }
        }
        Ok((screening, providers))
    }

    /// Sources a need: screens the registry on the index, then records the bounded record (the
    /// best candidates, the nearest rejections per reason, the counts) in place of the last one,
    /// and — for a need without a selected provider — searches ring by ring (county, city,
    /// province, nation): the owner becomes the tier of the first ring that holds a feasible
    /// candidate, and each empty ring is recorded as widened.
    pub async fn source_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64) -> AppResult<NeedRow> {
        // Screened before the write, from the need as read now; re-screened (in memory) if the
        // need or its enterprise changed before the write transaction read them.
        let (need, _, enterprise) = self.store.need_with_case(need_id).await?.ok_or_else(|| AppError::NotFound(format!("need {need_id}")))?;
        let early = match self.spec_of(&need, &enterprise) {
            Ok(Some(spec)) => Some(self.screen(&spec).await?),
            _ => None,
        };
        // The write screens again on the index as held if the need changed meanwhile.
        self.warm_registry().await?;
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_propose_for(tx, actor, need_id)?;
            let enterprise = tx.enterprise(case.enterprise_id)?.ok_or_else(|| AppError::Internal("case without enterprise".into()))?;
            let Some(spec) = app.spec_of(&need, &enterprise)? else {
                return Err(not_in_registry(&need));
            };
            let screened = match early {
                Some(early) if early.spec == spec => early,
                _ => app.screen_held(&spec)?,
            };
            Ok(app.record_sourcing(tx, actor, now, need, &case, screened, true)?.need)
        })
        .await
    }

    /// What sourcing writes once the registry is screened: the bounded record, the widening and
    /// its route, the events, a letter if the need became national. `again`: the need was
    /// sourced before, and its last record is replaced.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn record_sourcing(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        now: DateTime<Utc>,
        mut need: NeedRow,
        case: &CaseRow,
        screened: Screened,
        again: bool,
    ) -> AppResult<Sourcing> {
        let need_id = need.id;
        let enterprise_region = screened.spec.region;
        let outcome = &screened.outcome;
        let unselected = need.selected_candidate.is_none() && need.status == NeedStatus::Open;
        let mut widened = Vec::new();
        let mut rerouted = false;
        if unselected && need.solution_region.is_none() {
            let candidates: Vec<&Candidate<ProviderId>> = outcome.widening_candidates().collect();
            let regions: Vec<RegionCode> = candidates.iter().map(|c| c.region).collect();
            let widening = widen(self.tree, enterprise_region, &regions).map_err(|e| AppError::Internal(e.to_string()))?;
            widened = widening.messages;
            // Candidates are ranked, so the first inside the ring is the ring's best.
            if let Some(best) = widening.found.and_then(|(_, inside)| inside.first().map(|&i| candidates[i])) {
                let kind = need.kind;
                let decision = route(self.tree, &self.policy, enterprise_region, best.region, Some(kind)).map_err(|e| AppError::Internal(e.to_string()))?;
                if decision.owner != need.owner {
                    need.reached_owner_at = to_millis(now);
                }
                self.apply_route(&mut need, &decision);
                need.updated_at = to_millis(now);
                rerouted = true;
            }
        }
        let candidates = self.record_screening(tx, now, &screened, again, &need, rerouted)?;
        for message in &widened {
            Audit { actor, now, action: "need.widened", entity: format!("need:{need_id}"), case_id: Some(case.id), payload: json!({"zh": message.zh, "en": message.en}) }
                .append(tx)?;
        }
        let counts: serde_json::Map<String, Value> = outcome.counts.iter().map(|(code, n)| (code.to_string(), json!(n))).collect();
        Audit {
            actor,
            now,
            action: "need.sourced",
            entity: format!("need:{need_id}"),
            case_id: Some(case.id),
            payload: json!({
                "screened": outcome.screened, "candidates": outcome.feasible, "rejected": outcome.screened - outcome.feasible,
                "reasons": counts, "registry_version": screened.registry_version,
                "best": outcome.candidates.first().map(|c| json!({"provider": c.name, "lead_time_h": c.lead_time_h, "road_km": c.road_km})),
                "scope": need.scope, "owner": need.owner,
            }),
        }
        .append(tx)?;
        let letter = self.draft_letter_if_national(tx, actor, now, &need)?;
        Ok(Sourcing { need, candidates, letter })
    }

    /// Writes the bounded record of a screening: its candidates and rejections as candidate rows
    /// (replacing the last screening's when `again`), and its counts — and `need` if the
    /// screening `rerouted` it. Returns the rows written, with their providers.
    fn record_screening(&self, tx: &mut WriteTx, now: DateTime<Utc>, screened: &Screened, again: bool, need: &NeedRow, rerouted: bool) -> AppResult<Vec<(CandidateRow, ProviderRow)>> {
        let need_id = need.id;
        if again {
            tx.delete_screened_candidates(need_id)?;
        }
        let outcome = &screened.outcome;
        let mut rows: Vec<CandidateRow> = outcome.widening_candidates().map(|c| candidate_row(need_id, c, CandidateStatus::Proposed, now)).collect();
        for rejection in &outcome.rejected {
            rows.push(self.rejection_row(need_id, screened.spec.region, rejection, now)?);
        }
        Ok(tx.record_screening(&rows, &screening_row(need_id, screened, now), rerouted.then_some(need))?)
    }

    /// A rejection as a candidate row, with its reasons and the route its provider would take.
    fn rejection_row(&self, need_id: i64, enterprise_region: RegionCode, rejection: &Rejection<ProviderId>, now: DateTime<Utc>) -> AppResult<CandidateRow> {
        let reasons = rejection.reasons.iter().map(|r| r.kept()).collect();
        let decision = route(self.tree, &self.policy, enterprise_region, rejection.region, None).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(CandidateRow {
            id: 0,
            need_id,
            provider_id: rejection.provider.0,
            feasible: false,
            road_km: rejection.road_km,
            travel_h: 0.0,
            processing_h: 0.0,
            lead_time_h: rejection.lead_time_h,
            scope: decision.scope,
            owner: decision.owner,
            reasons,
            explanation_zh: rejection.explanation.zh.clone(),
            explanation_en: rejection.explanation.en.clone(),
            status: CandidateStatus::Rejected,
            created_at: to_millis(now),
        })
    }

    /// An officer puts forward one provider for a need: it is screened like the registry's, and
    /// recorded as a candidate or a rejection with its reasons.
    pub async fn propose_candidate(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, provider_id: i64) -> AppResult<CandidateRow> {
        // The write reads the index as held: it is brought up to date first.
        self.warm_registry().await?;
        self.write_as(actor, move |app, actor, tx| {
            let (need, case) = app.need_to_propose_for(tx, actor, need_id)?;
            let enterprise = tx.enterprise(case.enterprise_id)?.ok_or_else(|| AppError::Internal("case without enterprise".into()))?;
            let Some(spec) = app.spec_of(&need, &enterprise)? else {
                return Err(bad(format!("need {need_id} is of kind {}, which the registry does not hold", need.kind)));
            };
            let row = {
                let registry = app.registry_held()?;
                let Some(capability) = registry.index.get(&ProviderId(provider_id), spec.kind()) else {
                    return Err(bad(format!("provider {provider_id} has no {} capability in the registry — add it first", spec.kind())));
                };
                let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
                let screener = Screener::new(app.tree, &app.policy, &travel);
                let assessment = screener.assess(&spec, capability).ok_or_else(|| AppError::Internal("a capability of another kind".into()))?;
                if assessment.is_feasible() {
                    let candidate = screener.candidate(&spec, capability, &assessment).map_err(|e| AppError::Internal(e.to_string()))?;
                    candidate_row(need_id, &candidate, CandidateStatus::Proposed, now)
                } else {
                    app.rejection_row(need_id, spec.region, &screener.rejection(capability, assessment), now)?
                }
            };
            tx.upsert_candidate(&row)?;
            let candidate = tx
                .candidates_of_need(need_id)?
                .into_iter()
                .find(|c| c.provider_id == provider_id)
                .ok_or_else(|| AppError::Internal("the proposed candidate was not recorded".into()))?;
            Audit {
                actor,
                now,
                action: "need.candidate_proposed",
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"provider_id": provider_id, "feasible": candidate.feasible, "explanation": {"zh": candidate.explanation_zh, "en": candidate.explanation_en}}),
            }
            .append(tx)?;
            Ok(candidate)
        })
        .await
    }

    /// Selects a candidate for a need — or switches to it from the one selected before — and
    /// re-derives the need's scope and owner from where the chosen provider lies.
    pub async fn select_candidate(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, candidate_id: i64) -> AppResult<NeedRow> {
        self.choose_candidate(actor, now, need_id, candidate_id, None, false).await
    }

    /// [`App::select_candidate`], with the reason of a switch (`only_switch`: refused when no
    /// provider is selected yet).
    pub(crate) async fn choose_candidate(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, candidate_id: i64, reason: Option<&str>, only_switch: bool) -> AppResult<NeedRow> {
        let reason = reason.map(str::to_string);
        self.write_as(actor, move |app, actor, tx| {
            let reason = reason.as_deref();
            let (mut need, case) = app.need_to_decide(tx, actor, need_id)?;
            let status = need.status;
            if !matches!(status, NeedStatus::Open | NeedStatus::Selected) {
                return Err(AppError::Conflict(format!("need {need_id} is {status}: a provider can only be chosen before work starts")));
            }
            let candidate = tx.candidate(candidate_id)?.filter(|c| c.need_id == need_id).ok_or_else(|| AppError::NotFound(format!("candidate {candidate_id} of need {need_id}")))?;
            if !candidate.feasible {
                return Err(AppError::Conflict(format!("candidate {candidate_id} was rejected in screening: {}", candidate.explanation_zh)));
            }
            let provider = tx.provider(candidate.provider_id)?.ok_or_else(|| AppError::Internal("candidate without provider".into()))?;
            if only_switch && need.selected_candidate.is_none() {
                return Err(AppError::Conflict(format!("need {need_id} has no provider selected yet: select one, there is nothing to switch from")));
            }
            let previous = match need.selected_candidate {
                Some(id) if id == candidate_id => return Ok(need),
                Some(id) => tx.candidate(id)?,
                None => None,
            };
            let kind = need.kind;
            let decision = route(app.tree, &app.policy, case.region, provider.region, Some(kind)).map_err(|e| AppError::Internal(e.to_string()))?;
            let old_scope = need.scope;
            if decision.owner != need.owner {
                need.reached_owner_at = to_millis(now);
            }
            app.apply_route(&mut need, &decision);
            need.solution_region = Some(provider.region);
            need.selected_candidate = Some(candidate_id);
            need.status = NeedStatus::Selected;
            need.updated_at = to_millis(now);
            tx.update_need(&need)?;
            if let Some(previous) = &previous {
                tx.set_candidate_status(previous.id, CandidateStatus::Replaced)?;
            }
            tx.set_candidate_status(candidate_id, CandidateStatus::Selected)?;
            let mut payload = json!({
                "provider": provider.name, "region": provider.region, "lead_time_h": candidate.lead_time_h, "road_km": candidate.road_km,
                "scope": need.scope, "owner": need.owner, "explanation": {"zh": need.route_zh, "en": need.route_en},
            });
            let action = match &previous {
                Some(previous) => {
                    payload["from_scope"] = json!(old_scope);
                    payload["saves_h"] = json!(previous.lead_time_h - candidate.lead_time_h);
                    payload["saves_km"] = json!(previous.road_km - candidate.road_km);
                    if let Some(reason) = reason {
                        payload["reason"] = json!(reason);
                    }
                    "need.switched"
                }
                None => "need.selected",
            };
            Audit { actor, now, action, entity: format!("need:{need_id}"), case_id: Some(case.id), payload }.append(tx)?;
            app.notify_owner(tx, now, EventKind::NeedSelected, &need, "已选定提供方", "Provider selected")?;
            app.draft_letter_if_national(tx, actor, now, &need)?;
            Ok(need)
        })
        .await
    }

    /// After a capability changes: on every selected, unstarted need of its kind that it now
    /// beats, records a switch proposal (event and notification) with what it saves.
    pub(crate) fn propose_switches(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, capability: &Capability<ProviderId>) -> AppResult<()> {
        let travel = GeodesicTravel::new(TravelSettings::default()).map_err(AppError::Internal)?;
        let screener = Screener::new(self.tree, &self.policy, &travel);
        for (need, selected) in tx.selected_needs_with_choice(capability.kind().as_str())? {
            if selected.provider_id == capability.provider.0 {
                continue;
            }
            let Some(spec) = self.spec_of(&need, &selected.enterprise)? else { continue };
            let Some(assessment) = screener.assess(&spec, capability).filter(|a| a.is_feasible()) else { continue };
            let challenger = screener.candidate(&spec, capability, &assessment).map_err(|e| AppError::Internal(e.to_string()))?;
            self.propose_switch(tx, actor, now, &need, &selected, &challenger)?;
        }
        Ok(())
    }

    /// Records a switch proposal for `need` to `challenger` if it beats the provider selected:
    /// a candidate row, an event and a notification to the owner. Whether it did.
    pub(crate) fn propose_switch(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        now: DateTime<Utc>,
        need: &NeedRow,
        selected: &SelectedChoice,
        challenger: &Candidate<ProviderId>,
    ) -> AppResult<bool> {
        let mut current = challenger.clone();
        current.provider = ProviderId(selected.provider_id);
        current.lead_time_h = selected.lead_time_h;
        current.road_km = selected.road_km;
        let Some(savings) = better_than(&current, challenger) else { return Ok(false) };
        let candidate_id = tx.upsert_candidate(&candidate_row(need.id, challenger, CandidateStatus::ProposedSwitch, now))?;
        let zh = format!("建议改选{}：可节省约 {:.1} 小时、{:.0} 公里", challenger.name, savings.hours, savings.km);
        let en = format!("Switch proposed to {}: saves about {:.1} h and {:.0} km", challenger.name, savings.hours, savings.km);
        Audit {
            actor,
            now,
            action: "need.switch_proposed",
            entity: format!("need:{}", need.id),
            case_id: Some(need.case_id),
            payload: json!({"candidate": candidate_id, "provider": challenger.name, "saves_h": savings.hours, "saves_km": savings.km, "zh": zh, "en": en}),
        }
        .append(tx)?;
        self.notify_owner(tx, now, EventKind::SwitchProposed, need, &zh, &en)?;
        Ok(true)
    }
}

/// A feasible candidate as a candidate row.
fn candidate_row(need_id: i64, candidate: &Candidate<ProviderId>, status: CandidateStatus, now: DateTime<Utc>) -> CandidateRow {
    CandidateRow {
        id: 0,
        need_id,
        provider_id: candidate.provider.0,
        feasible: true,
        road_km: candidate.road_km,
        travel_h: candidate.travel_h,
        processing_h: candidate.processing_h,
        lead_time_h: candidate.lead_time_h,
        scope: candidate.scope,
        owner: candidate.owner,
        reasons: Vec::new(),
        explanation_zh: candidate.explanation.zh.clone(),
        explanation_en: candidate.explanation.en.clone(),
        status,
        created_at: to_millis(now),
    }
}

/// A capability of a stored provider, typed.
pub(crate) fn capability_of(provider: &ProviderRow, available: bool, attrs: CapabilityAttrs) -> AppResult<Capability<ProviderId>> {
    let at = LonLat::new(provider.lon.unwrap_or(0.0), provider.lat.unwrap_or(0.0)).map_err(AppError::Internal)?;
    Ok(Capability { provider: ProviderId(provider.id), name: provider.name.clone(), region: provider.region, at, available, attrs })
}

/// A need screened: the spec it was screened with, the bounded record, and the registry version
/// the index was at.
#[derive(Debug)]
pub(crate) struct Screened {
    pub spec: NeedSpec,
    pub outcome: BoundedScreening<ProviderId>,
    pub registry_version: i64,
}

/// What sourcing wrote ([`App::record_sourcing`]): the need as it left it, the candidate rows of
/// this screening with their providers ([`WriteTx::record_screening`]), and the letter drafted
/// if the need became national.
pub(crate) struct Sourcing {
    pub need: NeedRow,
    pub candidates: Vec<(CandidateRow, ProviderRow)>,
    pub letter: Option<bangfu_store::LetterRow>,
}

/// The counts of a screening as its row stores them.
pub(crate) fn screening_row(need_id: i64, screened: &Screened, now: DateTime<Utc>) -> ScreeningRow {
    let outcome = &screened.outcome;
    let count = |i: usize| i64::try_from(outcome.counts.0[i]).unwrap_or(i64::MAX);
    ScreeningRow {
        need_id,
        registry_version: screened.registry_version,
        screened: i64::try_from(outcome.screened).unwrap_or(i64::MAX),
        feasible: i64::try_from(outcome.feasible).unwrap_or(i64::MAX),
        unavailable: count(0),
        spec_mismatch: count(1),
        insufficient_capacity: count(2),
        too_far: count(3),
        too_slow: count(4),
        screened_at: to_millis(now),
    }
}
