//! Intake of a need from a form: report it, and — when the registry holds providers of its kind
//! and the actor may act on the case (an officer, not the enterprise itself) — source it at once,
//! so that the reporter sees the candidates with their reasons straight away. An enterprise's
//! need waits for its owner's officers to source it.

use crate::needs::{NewNeed, Reported};
use crate::registry::screening_row;
use crate::views::NeedDetail;
use crate::{Actor, App, AppResult, access};
use bangfu_core::model::NeedKind;
use bangfu_store::{CandidateRow, CaseRow, EnterpriseRow, LetterRow, NeedRow, ProviderRow, ScreeningRow, TeamMemberRow};
use chrono::{DateTime, Utc};

/// What a report came to.
enum Intake {
    /// Reported alone (not a registry kind, or an actor who does not source when reporting).
    Reported(Box<NeedRow>),
    /// Reported and sourced in one write.
    Sourced(Box<Sourced>),
}

/// A need reported and sourced, with what its write held when it committed.
pub(crate) struct Sourced {
    pub need: NeedRow,
    pub case: CaseRow,
    pub enterprise: EnterpriseRow,
    pub team: Vec<TeamMemberRow>,
    pub screening: ScreeningRow,
    /// What the sourcing wrote (the candidates with their providers) and the letter it may have
    /// drafted, read inside the write, on the writer's warm connection.
    pub candidates: Vec<(CandidateRow, ProviderRow)>,
    pub letters: Vec<LetterRow>,
}

impl App {
    /// Reports a need on a case and sources it when the registry and the actor allow.
    ///
    /// Both happen in one write transaction (the report's events come first, then the
    /// sourcing's, as if reported and then sourced). When screening refuses the need (its
    /// requirements do not parse, say), the report is committed alone and the refusal returned,
    /// as `report_need` followed by `source_need` would.
    pub async fn report_and_source(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewNeed) -> AppResult<NeedRow> {
        Ok(match self.report_and_maybe_source(actor, now, case_id, input).await? {
            Intake::Reported(need) => *need,
            Intake::Sourced(sourced) => sourced.need,
        })
    }

    /// [`App::report_and_source`], answered with the need as its reporter then reads it
    /// ([`App::need_detail`]). A need sourced at once is not read back: its detail is put
    /// together from what the write held and read (the candidates with their providers, the
    /// letter it may have drafted).
    pub async fn report_and_source_detail(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewNeed) -> AppResult<NeedDetail> {
        match self.report_and_maybe_source(actor, now, case_id, input).await? {
            Intake::Reported(need) => self.need_detail(actor, need.id).await,
            Intake::Sourced(sourced) => self.sourced_need_detail(actor, *sourced).await,
        }
    }

    async fn report_and_maybe_source(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewNeed) -> AppResult<Intake> {
        let registry_kind = NeedKind::parse(&input.kind).is_ok_and(|k| k.has_capabilities());
        // Screened on the registry index before the write transaction, from the enterprise as
        // read now; the transaction uses it if the need and enterprise it reads give the same
        // spec, and screens again (in memory) if not.
        let early = if registry_kind && access::sources_when_reporting(actor) { self.screen_reported(actor, case_id, &input).await? } else { None };
        let sources = registry_kind && access::sources_when_reporting(actor);
        if sources && early.is_none() {
            // The write may screen on the index as held: it is brought up to date first.
            self.warm_registry().await?;
        }
        /// What the write did: a refusal of the sourcing is answered after the report commits.
        enum Outcome {
            Reported(Box<NeedRow>),
            Refused(crate::AppError),
            Sourced(Box<Sourced>),
        }
        let outcome = self
            .write_as(actor, move |app, actor, tx| {
                let Reported { need, case, enterprise, team, letter } = app.report_uncommitted(tx, actor, now, case_id, input)?;
                if !sources {
                    return Ok(Outcome::Reported(Box::new(need)));
                }
                let spec = match app.spec_of(&need, &enterprise) {
                    Ok(Some(spec)) => spec,
                    Ok(None) => return Ok(Outcome::Refused(crate::registry::not_in_registry(&need))),
                    Err(refused) => return Ok(Outcome::Refused(refused)),
                };
                let screened = match early {
                    Some(early) if early.spec == spec => early,
                    _ => app.screen_held(&spec)?,
                };
                let screening = screening_row(need.id, &screened, now);
                // A new need's candidates are those its first screening wrote, and its letters
                // those the report and the sourcing drafted.
                let sourcing = app.record_sourcing(tx, actor, now, need, &case, screened, false)?;
                let (need, candidates) = (sourcing.need, sourcing.candidates);
                let letters = letter.into_iter().chain(sourcing.letter).collect();
                Ok(Outcome::Sourced(Box::new(Sourced { need, case, enterprise, team, screening, candidates, letters })))
            })
            .await?;
        match outcome {
            Outcome::Reported(need) => Ok(Intake::Reported(need)),
            Outcome::Refused(refused) => Err(refused),
            Outcome::Sourced(sourced) => Ok(Intake::Sourced(sourced)),
        }
    }

    /// Screens a need about to be reported, if its input and case allow (anything amiss is left
    /// for the report to refuse, with its own message).
    async fn screen_reported(&self, actor: &Actor, case_id: i64, input: &NewNeed) -> AppResult<Option<crate::registry::Screened>> {
        // Nothing is screened for a case the actor may not act on: the report then refuses it
        // as it refuses a missing case, in the same time.
        let Some((case, enterprise, team)) = self.store.case_with_team(case_id).await? else { return Ok(None) };
        if !(access::can_see_case(self.tree, actor, &case, &team) && access::may_act_on_case(self.tree, actor, &case, &team)) {
            return Ok(None);
        }
        // A kind or requirement the report will refuse is not screened either.
        let Ok(kind) = NeedKind::parse(&input.kind) else { return Ok(None) };
        let requires = match &input.requires {
            serde_json::Value::Null => bangfu_store::JsonObject::new(),
            serde_json::Value::Object(map) => map.clone(),
            _ => return Ok(None),
        };
        let spec = crate::registry::requirement(kind, &requires)
            .and_then(|r| r.map(|r| self.spec_of_parts(&enterprise, r, input.quantity, input.max_distance_km, input.max_lead_time_h)).transpose());
        match spec {
            Ok(Some(spec)) => Ok(Some(self.screen(&spec).await?)),
            _ => Ok(None),
        }
    }
}
