//! The setup tasks officers finish from the pages (issue 16, item 3) that had no use case yet:
//! a member released from a case's team, a shipment moved along its states, a selected
//! provider switched with the reason written down. (Registering an enterprise, opening a case,
//! stationing a member, the plan and its blockers are `cases.rs` and `plans.rs`.)

use crate::error::{bad, text};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::ShipmentStatus;
use bangfu_core::text::{LONG_CHARS, NAME_CHARS};
use bangfu_store::{NeedRow, ShipmentRow};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Where a shipment may go from where it is: planned → in transit or held; in transit →
/// delivered or held; held → planned or in transit; delivered is the end.
pub fn shipment_moves(from: ShipmentStatus) -> &'static [ShipmentStatus] {
    match from {
        ShipmentStatus::Planned => &[ShipmentStatus::InTransit, ShipmentStatus::Held],
        ShipmentStatus::InTransit => &[ShipmentStatus::Delivered, ShipmentStatus::Held],
        ShipmentStatus::Held => &[ShipmentStatus::InTransit, ShipmentStatus::Planned],
        ShipmentStatus::Delivered => &[],
    }
}

impl App {
    /// Releases a member from a case's team, with a reason: the officers whose jurisdiction
    /// holds the case keep its team ([`access::may_keep_team`]).
    pub async fn release_team_member(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, member_id: i64, reason: &str) -> AppResult<()> {
        let reason = text("reason", reason, LONG_CHARS)?;
        if reason.is_empty() {
            return Err(bad("reason: 请说明撤回人员的原因 — say why the member leaves, for example 任务完成"));
        }
        let reason = reason.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (case, _, team) = tx.case_with_team(case_id)?.ok_or_else(|| AppError::NotFound(format!("case {case_id}")))?;
            if !access::can_see_case(app.tree, actor, &case, &team) {
                return Err(AppError::NotFound(format!("case {case_id}")));
            }
            let member = team.iter().find(|m| m.id == member_id).cloned().ok_or_else(|| AppError::NotFound(format!("team member {member_id} of case {case_id}")))?;
            if !access::may_keep_team(app.tree, actor, &case) {
                return Err(AppError::Forbidden(format!("{} may not release members of case {case_id}: the officers whose jurisdiction holds the case keep its team", actor.name)));
            }
            tx.delete_team_member(member_id, to_millis(now))?;
            Audit {
                actor,
                now,
                action: "team.member_released",
                entity: format!("team_member:{member_id}"),
                case_id: Some(case.id),
                payload: json!({"title": member.title, "role": member.role, "department": member.department, "tier": member.tier, "reason": reason}),
            }
            .append(tx)?;
            Ok(())
        })
        .await
    }

    /// Moves a shipment along its states ([`shipment_moves`]); leaving stamps its departure,
    /// arriving its arrival; a traffic pass may be given on the way.
    pub async fn move_shipment(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, shipment_id: i64, to: ShipmentStatus, traffic_pass: Option<&str>) -> AppResult<ShipmentRow> {
        let traffic_pass = traffic_pass.map(|p| text("traffic_pass", p, NAME_CHARS)).transpose()?.filter(|p| !p.is_empty());
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            let mut row = tx.shipment(shipment_id)?.filter(|s| s.case_id == case.id).ok_or_else(|| AppError::NotFound(format!("shipment {shipment_id} of case {case_id}")))?;
            let from = row.status;
            if !shipment_moves(from).contains(&to) {
                let allowed: Vec<&str> = shipment_moves(from).iter().map(|s| s.as_str()).collect();
                return Err(AppError::Conflict(format!(
                    "shipment {shipment_id} is {from}; it may become {} — not {to}",
                    if allowed.is_empty() { "nothing else (delivered is the end)".to_string() } else { allowed.join(" or ") }
                )));
            }
            row.status = to;
            if traffic_pass.is_some() {
                row.traffic_pass = traffic_pass;
            }
            match to {
                ShipmentStatus::InTransit if row.departs_at.is_none_or(|d| d > to_millis(now)) => row.departs_at = Some(to_millis(now)),
                ShipmentStatus::Delivered => row.arrives_at = Some(to_millis(now)),
                _ => {}
            }
            tx.update_shipment(&row)?;
            Audit {
                actor,
                now,
                action: "shipment.moved",
                entity: format!("shipment:{shipment_id}"),
                case_id: Some(case.id),
                payload: json!({"goods": row.goods, "from": from.as_str(), "to": row.status, "traffic_pass": row.traffic_pass}),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// Switches a need from its selected provider to another candidate, with the reason written
    /// into the event beside what the switch saves ([`App::select_candidate`] otherwise).
    pub async fn switch_candidate(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, candidate_id: i64, reason: &str) -> AppResult<NeedRow> {
        let reason = text("reason", reason, LONG_CHARS)?;
        if reason.is_empty() {
            return Err(bad("reason: 请说明改选的原因 — say why the provider is switched, for example 原选企业设备故障"));
        }
        self.choose_candidate(actor, now, need_id, candidate_id, Some(&reason), true).await
    }
}
