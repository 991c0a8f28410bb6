//! Intake of a need from a form: report it, and — when the registry holds providers of its kind
//! and the actor may act on the case (an officer, not the enterprise itself) — source it at once,
//! so that the reporter sees the candidates with their reasons straight away. An enterprise's
//! need waits for its owner's officers to source it.

use crate::needs::NewNeed;
use crate::{Actor, App, AppResult, access};
use bangfu_core::model::NeedKind;
use bangfu_store::NeedRow;
use chrono::{DateTime, Utc};

impl App {
    /// Reports a need on a case and sources it when the registry and the actor allow.
    ///
    /// Both happen in one write transaction (the report's events come first, then the
    /// sourcing's, as if reported and then sourced). When screening refuses the need (its
    /// requirements do not parse, say), the report is committed alone and the refusal returned,
    /// as `report_need` followed by `source_need` would.
    pub async fn report_and_source(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewNeed) -> AppResult<NeedRow> {
        let (mut tx, need, case, enterprise) = self.report_uncommitted(actor, now, case_id, input).await?;
        let registry_kind = NeedKind::parse(&need.kind).is_ok_and(|k| k.has_capabilities());
        if !(registry_kind && access::can_act_on_case(actor)) {
            tx.commit().await?;
            return Ok(need);
        }
        match self.screen_for(&mut tx, &need, &case, Some(&enterprise), None).await {
            Ok(Some(screened)) => {
                let need = self.record_sourcing(&mut tx, actor, now, need, &case, screened).await?;
                tx.commit().await?;
                Ok(need)
            }
            Ok(None) => {
                tx.commit().await?;
                Err(crate::registry::not_in_registry(&need))
            }
            Err(refused) => {
                tx.commit().await?;
                Err(refused)
            }
        }
    }
}
