//! The green channel (绿色通道): approvals of several departments running side by side, each
//! with its owner, status and clock; and shipments with their traffic passes.

use crate::error::{bad, text};
use bangfu_core::text::{NAME_CHARS, SHORT_CHARS};
use crate::{Actor, App, AppError, AppResult, Audit, access, to_millis};
use bangfu_core::model::{ApprovalStatus, ShipmentStatus};
use bangfu_store::{ApprovalRow, ShipmentRow};
use chrono::{DateTime, Utc};
use serde_json::json;

/// An approval to open in the green channel.
#[derive(Clone, Debug)]
pub struct NewApproval {
    /// The department whose green channel it runs in (a code or unique name), usually the county.
    pub department: String,
    /// The agency that signs off, for example 发改 (development and reform).
    pub agency: String,
    /// What is approved, for example 项目备案.
    pub item: String,
    pub due_at: Option<DateTime<Utc>>,
}

/// A shipment to record.
#[derive(Clone, Debug, Default)]
pub struct NewShipment {
    pub need_id: Option<i64>,
    pub goods: String,
    pub origin: String,
    pub destination: String,
    pub status: String,
    /// The traffic pass (通行证) number or description, if one was issued.
    pub traffic_pass: Option<String>,
    pub departs_at: Option<DateTime<Utc>>,
    pub arrives_at: Option<DateTime<Utc>>,
}

impl App {
    pub async fn open_approval(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewApproval) -> AppResult<ApprovalRow> {
        let department = self.tree.department_region(self.region(&input.department, "department")?);
        let (agency, item) = (text("agency", &input.agency, NAME_CHARS)?, text("item", &input.item, NAME_CHARS)?);
        if agency.is_empty() || item.is_empty() {
            return Err(bad("agency and item: name the approving agency (发改, 生态环境, 市场监管…) and what it approves"));
        }
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            let mut row = ApprovalRow {
                id: 0,
                case_id: case.id,
                department,
                agency,
                item,
                status: ApprovalStatus::Pending,
                opened_at: to_millis(now),
                due_at: input.due_at.map(to_millis),
                decided_at: None,
            };
            row.id = tx.insert_approval(&row)?;
            Audit { actor, now, action: "approval.opened", entity: format!("approval:{}", row.id), case_id: Some(case.id), payload: json!({"agency": row.agency, "item": row.item}) }
                .append(tx)?;
            Ok(row)
        })
        .await
    }

    /// Moves an approval to in_progress, approved or rejected.
    pub async fn decide_approval(&self, actor: &Actor, now: DateTime<Utc>, approval_id: i64, status: ApprovalStatus) -> AppResult<ApprovalRow> {
        self.decide_approval_with_reason(actor, now, approval_id, status, "").await
    }

    /// [`App::decide_approval`] with the reason written into the event: a refusal (不予批准)
    /// from the pages must give one.
    pub async fn decide_approval_with_reason(&self, actor: &Actor, now: DateTime<Utc>, approval_id: i64, status: ApprovalStatus, reason: &str) -> AppResult<ApprovalRow> {
        let reason = text("reason", reason, bangfu_core::text::LONG_CHARS)?;
        let reason = reason.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let not_found = || AppError::NotFound(format!("approval {approval_id}"));
            let mut row = tx.approval(approval_id)?.ok_or_else(not_found)?;
            let (case, _, team) = tx.case_with_team(row.case_id)?.ok_or_else(not_found)?;
            if !access::can_see_case(app.tree, actor, &case, &team) {
                return Err(not_found());
            }
            if !access::may_decide_approval(app.tree, actor, &row) {
                return Err(AppError::Forbidden(format!(
                    "{} may not decide approval {approval_id}: it runs in the green channel of {}, whose officers and those of the tiers above decide it",
                    actor.name,
                    bangfu_core::routing::department_name(app.tree, row.department)
                )));
            }
            let current = row.status;
            if matches!(current, ApprovalStatus::Approved | ApprovalStatus::Rejected) || status == ApprovalStatus::Pending {
                return Err(AppError::Conflict(format!("approval {approval_id} is {current}; it cannot become {status}")));
            }
            row.status = status;
            row.decided_at = matches!(status, ApprovalStatus::Approved | ApprovalStatus::Rejected).then_some(to_millis(now));
            tx.update_approval(row.id, row.status.as_str(), row.decided_at)?;
            let mut payload = json!({"agency": row.agency, "item": row.item, "status": row.status});
            if !reason.is_empty() {
                payload["reason"] = json!(reason);
            }
            Audit { actor, now, action: "approval.decided", entity: format!("approval:{}", row.id), case_id: Some(case.id), payload }
                .append(tx)?;
            Ok(row)
        })
        .await
    }

    pub async fn add_shipment(&self, actor: &Actor, now: DateTime<Utc>, case_id: i64, input: NewShipment) -> AppResult<ShipmentRow> {
        let origin = self.region(&input.origin, "origin")?;
        let destination = self.region(&input.destination, "destination")?;
        let status = ShipmentStatus::parse(&text("status", &input.status, SHORT_CHARS)?).map_err(|e| bad(format!("status: {e}")))?;
        let goods = text("goods", &input.goods, NAME_CHARS)?;
        let traffic_pass = input.traffic_pass.as_deref().map(|p| text("traffic_pass", p, NAME_CHARS)).transpose()?;
        if goods.is_empty() {
            return Err(bad("goods: say what is carried, for example 口罩 90,000 只"));
        }
        self.write_as(actor, move |app, actor, tx| {
            let case = app.case_for_write(tx, actor, case_id)?;
            if let Some(need_id) = input.need_id {
                tx.need(need_id)?.filter(|n| n.case_id == case_id).ok_or_else(|| bad(format!("need_id: need {need_id} is not a need of case {case_id}")))?;
            }
            let mut row = ShipmentRow {
                id: 0,
                case_id,
                need_id: input.need_id,
                goods,
                origin: origin.to_string(),
                destination: destination.to_string(),
                status,
                traffic_pass: traffic_pass.filter(|p| !p.is_empty()),
                departs_at: input.departs_at.map(to_millis),
                arrives_at: input.arrives_at.map(to_millis),
            };
            row.id = tx.insert_shipment(&row)?;
            Audit {
                actor,
                now,
                action: "shipment.recorded",
                entity: format!("shipment:{}", row.id),
                case_id: Some(case.id),
                payload: json!({"goods": row.goods, "origin": row.origin, "destination": row.destination, "status": row.status, "traffic_pass": row.traffic_pass}),
            }
            .append(tx)?;
            Ok(row)
        })
        .await
    }
}
