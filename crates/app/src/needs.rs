//! Needs: reporting (with routing), candidates, selection and switching, and the lifecycle
//! open → selected → started → resolved (or cancelled).

use crate::outbox::Notice;
use bangfu_core::outbox::EventKind;
use crate::error::{bad, json_text, text};
use bangfu_core::text::{LONG_CHARS, NAME_CHARS, SHORT_CHARS};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::{NeedKind, NeedStatus, Scope, Tier};
use bangfu_core::region::RegionCode;
use bangfu_core::routing::{Route, department_name, route};
use bangfu_store::{CaseRow, EnterpriseRow, NeedRow, WriteTx};
use chrono::{DateTime, Utc};
use serde_json::json;

/// A need as reported by a user.
#[derive(Clone, Debug, Default)]
pub struct NewNeed {
    pub kind: String,
    pub title: String,
    pub specification: String,
    pub quantity: f64,
    pub unit: String,
    /// The kind's requirements, for example {"input_width_m": 1.6, "output_width_m": 1.4}.
    pub requires: serde_json::Value,
    pub deadline: Option<DateTime<Utc>>,
    pub max_distance_km: Option<f64>,
    pub max_lead_time_h: Option<f64>,
    /// Where the solution is already known to lie (a code or unique name), if it is.
    pub solution_region: Option<String>,
}

/// A need reported in a write not yet committed: the need, its case, the case's enterprise and
/// stationed team as the write read them, and the letter drafted if the need is national.
pub(crate) struct Reported {
    pub need: NeedRow,
    pub case: CaseRow,
    pub enterprise: EnterpriseRow,
    pub team: Vec<bangfu_store::TeamMemberRow>,
    pub letter: Option<bangfu_store::LetterRow>,
}

impl App {
    /// Reports a need on a case and routes it to its owner.
    pub async fn report_need(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewNeed) -> AppResult<NeedRow> {
        self.write_as(actor, move |app, actor, tx| Ok(app.report_uncommitted(tx, actor, now, case_id, input)?.need)).await
    }

    /// [`App::report_need`] inside the write `tx`.
    pub(crate) fn report_uncommitted(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewNeed) -> AppResult<Reported> {
        let checked = checked_need(&input)?;
        let kind = checked.kind;
        let solution = input.solution_region.as_deref().filter(|s| !s.trim().is_empty()).map(|s| self.region(s, "solution_region")).transpose()?;

        let (case, enterprise, team) = tx.case_with_team(case_id)?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
        if !access::can_see_case(self.tree, actor, &case, &team) {
            return Err(AppError::NotFound(format!("case {case_id}")));
        }
        if !access::may_report_on_case(self.tree, actor, &case, &team) {
            return Err(AppError::Forbidden(format!("{} may read case {case_id} but not report needs on it", actor.name)));
        }
        let enterprise_region = case.region;
        let decision = match solution {
            Some(solution) => route(self.tree, &self.policy, enterprise_region, solution, Some(kind)).map_err(|e| bad(e.to_string()))?,
            None => self.unsourced_route(enterprise_region, kind),
        };
        let mut need = NeedRow {
            id: 0,
            case_id,
            kind,
            title: checked.title,
            specification: checked.specification,
            quantity: input.quantity,
            unit: checked.unit,
            requires: checked.requires,
            deadline: input.deadline.map(to_millis),
            max_distance_km: input.max_distance_km,
            max_lead_time_h: input.max_lead_time_h,
            scope: decision.scope,
            owner: decision.owner,
            owner_tier: self.tier_of(decision.owner),
            letter_to: decision.letter_to,
            solution_region: solution,
            route_zh: decision.explanation.zh.clone(),
            route_en: decision.explanation.en.clone(),
            status: NeedStatus::Open,
            reached_owner_at: to_millis(now),
            supervised: false,
            selected_candidate: None,
            created_at: to_millis(now),
            updated_at: to_millis(now),
        };
        need.id = tx.insert_need(&need)?;
        if actor.role == bangfu_core::model::Role::Enterprise {
            tx.insert_need_reporter(need.id, case.enterprise_id)?;
        }
        Audit {
            actor,
            now,
            action: "need.reported",
            entity: format!("need:{}", need.id),
            case_id: Some(case_id),
            payload: json!({
                "kind": need.kind, "title": need.title, "quantity": need.quantity, "unit": need.unit,
                "scope": need.scope, "owner": need.owner, "letter_to": need.letter_to,
                "explanation": {"zh": need.route_zh, "en": need.route_en},
            }),
        }
        .append(tx)?;
        self.notify_owner(tx, now, EventKind::NeedNew, &need, "新诉求", "New need")?;
        let letter = self.draft_letter_if_national(tx, actor, now, &need)?;
        Ok(Reported { need, case, enterprise, team, letter })
    }

    /// The route of a need whose solution is not yet known: its own region answers first.
    fn unsourced_route(&self, enterprise_region: RegionCode, kind: NeedKind) -> Route {
        let decision = route(self.tree, &self.policy, enterprise_region, enterprise_region, Some(kind));
        decision.unwrap_or_else(|_| Route {
            scope: Scope::Local,
            owner: enterprise_region,
            letter_to: None,
            explanation: Default::default(),
        })
    }

    /// Writes a routing decision into the need's fields.
    pub(crate) fn apply_route(&self, need: &mut NeedRow, decision: &Route) {
        need.scope = decision.scope;
        need.owner = decision.owner;
        need.owner_tier = self.tier_of(decision.owner);
        need.letter_to = decision.letter_to;
        need.route_zh = decision.explanation.zh.clone();
        need.route_en = decision.explanation.en.clone();
    }

    pub(crate) fn tier_of(&self, department: RegionCode) -> Tier {
        self.tree.get(department).map_or(Tier::County, |r| Tier::of_level(r.level))
    }

    pub(crate) fn notify_owner(&self, tx: &mut WriteTx, now: DateTime<Utc>, event: EventKind, need: &NeedRow, zh: &str, en: &str) -> AppResult<()> {
        let notice = Notice {
            event,
            department: need.owner,
            need: Some(need),
            text_zh: format!("{zh}：{}（{}）", need.title, department_name(self.tree, need.owner)),
            text_en: format!("{en}: {}", need.title),
            why_zh: Some(need.route_zh.clone()),
            link: None,
            approval: None,
        };
        self.notify(tx, now, notice)
    }

    /// The need, with its case, if `actor` may see and change it.
    /// The need, with its case, if `actor` may decide on it ([`access::may_decide_need`]: its
    /// owner department and the tiers above); not found when the actor may not see it,
    /// forbidden when it sees it but may not decide.
    pub(crate) fn need_to_decide(&self, tx: &mut WriteTx, actor: &Actor, need_id: i64) -> AppResult<(NeedRow, CaseRow)> {
        let (need, case, team) = self.need_in(tx, need_id)?;
        if access::may_decide_need(self.tree, actor, &need) {
            return Ok((need, case));
        }
        if !self.sees_need_in(tx, actor, &case, &team, &need)? {
            return Err(AppError::NotFound(format!("need {need_id}")));
        }
        let owner = department_name(self.tree, need.owner);
        let proposer = if access::may_propose_for_need(actor, true) { " — you may put candidates forward" } else { "" };
        Err(AppError::Forbidden(format!(
            "{} may not decide on need {need_id}: it is owned by {owner}, whose officers and those of the tiers above decide{proposer}",
            actor.name
        )))
    }

    /// The need, with its case, if `actor` may put candidates forward for it
    /// ([`access::may_propose_for_need`]: any officer who sees it); not found when it may not see
    /// it, forbidden when it only reads.
    pub(crate) fn need_to_propose_for(&self, tx: &mut WriteTx, actor: &Actor, need_id: i64) -> AppResult<(NeedRow, CaseRow)> {
        let (need, case, team) = self.need_in(tx, need_id)?;
        let sees = access::may_decide_need(self.tree, actor, &need) || self.sees_need_in(tx, actor, &case, &team, &need)?;
        if !sees {
            return Err(AppError::NotFound(format!("need {need_id}")));
        }
        if !access::may_propose_for_need(actor, sees) {
            return Err(AppError::Forbidden(format!("{} may read need {need_id} but not act on it", actor.name)));
        }
        Ok((need, case))
    }

    pub(crate) fn need_in(&self, tx: &mut WriteTx, need_id: i64) -> AppResult<(NeedRow, CaseRow, Vec<bangfu_store::TeamMemberRow>)> {
        let not_found = || AppError::NotFound(format!("need {need_id}"));
        let need = tx.need(need_id)?.ok_or_else(not_found)?;
        let (case, _, team) = tx.case_with_team(need.case_id)?.ok_or_else(not_found)?;
        Ok((need, case, team))
    }

    /// [`access::can_see_need`] inside a write: what else it needs is read only when the case
    /// alone does not decide.
    pub(crate) fn sees_need_in(&self, tx: &mut WriteTx, actor: &Actor, case: &CaseRow, team: &[bangfu_store::TeamMemberRow], need: &NeedRow) -> AppResult<bool> {
        if access::can_see_case(self.tree, actor, case, team) {
            return Ok(true);
        }
        let broadcast_to: Vec<RegionCode> = tx.broadcasts_of_need(need.id)?.into_iter().map(|b| b.department).collect();
        let candidate_providers: Vec<i64> = tx.candidates_of_need(need.id)?.into_iter().map(|c| c.provider_id).collect();
        let letters = tx.letters_of_need(need.id)?;
        let context = access::NeedContext { team, broadcast_to: &broadcast_to, candidate_providers: &candidate_providers, letters: &letters };
        Ok(access::can_see_need(self.tree, actor, case, need, &context))
    }

    /// Moves a need along its lifecycle: started, resolved or cancelled.
    pub async fn set_need_status(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, status: NeedStatus, note: &str) -> AppResult<NeedRow> {
        let note = text("note", note, LONG_CHARS)?;
        let note = note.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (mut need, case) = app.need_to_decide(tx, actor, need_id)?;
            let current = need.status;
            let allowed = match status {
                NeedStatus::Started => matches!(current, NeedStatus::Open | NeedStatus::Selected),
                NeedStatus::Resolved | NeedStatus::Cancelled => !current.is_closed(),
                NeedStatus::Open | NeedStatus::Selected => false,
            };
            if !allowed {
                return Err(AppError::Conflict(format!("need {need_id} is {current}; it cannot become {status}")));
            }
            need.status = status;
            need.updated_at = to_millis(now);
            tx.update_need(&need)?;
            if status == NeedStatus::Resolved {
                tx.set_need_resolved_at(need_id, Some(to_millis(now)))?;
            }
            Audit {
                actor,
                now,
                action: match status {
                    NeedStatus::Started => "need.started",
                    NeedStatus::Resolved => "need.resolved",
                    _ => "need.cancelled",
                },
                entity: format!("need:{need_id}"),
                case_id: Some(case.id),
                payload: json!({"title": need.title, "note": note}),
            }
            .append(tx)?;
            Ok(need)
        })
        .await
    }
}

/// What a reported or edited need says, checked: its kind, texts and requirements.
pub(crate) struct CheckedNeed {
    pub kind: NeedKind,
    pub title: String,
    pub specification: String,
    pub unit: String,
    pub requires: bangfu_store::JsonObject,
}

/// Checks a need as a user wrote it: texts, quantity, limits, and — for a kind the registry
/// holds — its requirements, each refused naming the field in Chinese and in English.
pub(crate) fn checked_need(input: &NewNeed) -> AppResult<CheckedNeed> {
    let kind = NeedKind::parse(&text("kind", &input.kind, SHORT_CHARS)?).map_err(|e| bad(format!("kind: {e}")))?;
    let title = text("title", &input.title, NAME_CHARS)?;
    let specification = text("specification", &input.specification, LONG_CHARS)?;
    let unit = text("unit", &input.unit, SHORT_CHARS)?;
    if title.is_empty() {
        return Err(bad("title: 请用几个字说明什么卡住了生产 — say in a few words what blocks production, for example 熔喷布需分切至 1.4 m 以下"));
    }
    if !input.quantity.is_finite() || input.quantity <= 0.0 {
        return Err(bad(format!("quantity: 数量须为正数 — {} is not a positive number; give how many (masks, rolls, workers…)", input.quantity)));
    }
    for (name, value) in [("max_distance_km", input.max_distance_km), ("max_lead_time_h", input.max_lead_time_h)] {
        if value.is_some_and(|v| !v.is_finite() || v <= 0.0) {
            return Err(bad(format!("{name}: must be a positive number when given")));
        }
    }
    let requires = match &input.requires {
        serde_json::Value::Null => bangfu_store::JsonObject::new(),
        serde_json::Value::Object(map) => map.clone(),
        other => return Err(bad(format!("requires: expected an object such as {{\"input_width_m\": 1.6}}, found {other}"))),
    };
    json_text("requires", &serde_json::Value::Object(requires.clone()))?;
    if kind.has_capabilities() {
        let attrs = crate::registry::object_attr_values(&requires);
        bangfu_core::capability::Requirement::from_attrs(kind, &attrs).map_err(|e| requirement_refused(&e))?;
    }
    Ok(CheckedNeed { kind, title, specification, unit, requires })
}

/// A requirement refused, naming its field: `requires.input_width_m: 请填写来料幅宽（米） — missing …`.
pub(crate) fn requirement_refused(e: &bangfu_core::capability::AttrError) -> AppError {
    let field = e.attribute().map_or_else(|| "requires".to_string(), |a| format!("requires.{a}"));
    bad(format!("{field}: {} — {e}", e.zh()))
}

/// A region code kept inside a JSON text of this application (a kept briefing, a figures part
/// key); none when it is not a region of the embedded tree (the store's, see `bangfu_store::db`).
pub(crate) fn region_code(text: &str) -> Option<RegionCode> {
    bangfu_core::region::RegionTree::embedded().parse_code(text).ok().filter(|_| text.len() == 6)
}
