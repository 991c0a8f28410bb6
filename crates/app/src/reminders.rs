//! Reminders of approvals nearing their deadline (审批临期提醒, issue 15): a pass at `now` finds
//! the undecided approvals of the green channel whose deadline is closer than a threshold (24 h
//! and 4 h by default; `bangfu serve --approval-reminders`) and reminds their department — the
//! bell on the pages and, in the same transaction, the outbox messages of the channels that
//! chose `approval.due` (and the enterprise's) — with an `approval.reminded` audit event.
//!
//! The rule is `bangfu_core::reminders::reminder_due`. Each reminder is a row of
//! `approval_reminders` keyed by approval and threshold, written in the transaction that sends it,
//! so it goes once whichever server runs the pass and however often. Servers try the pass every
//! minute through [`App::remind_approvals_scheduled`], which claims the minute in `job_runs`;
//! tests and admins call [`App::remind_approvals`] with the moment they choose. Time is a
//! parameter.

use crate::outbox::Notice;
use crate::{Actor, App, AppError, AppResult, Audit, from_millis, to_millis};
use bangfu_core::outbox::{EventKind, china_minute};
use bangfu_core::reminders::{ReminderThresholds, reminder_due, threshold_zh};
use bangfu_core::routing::department_name;
use bangfu_store::{ApprovalReminderRow, ApprovalRow};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::collections::BTreeMap;

/// The name of the periodic job in `job_runs`.
pub const REMINDERS_JOB: &str = "approval_reminders";

/// One reminder a pass sent.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalReminder {
    pub approval: ApprovalRow,
    /// Less than this was left before the deadline.
    pub threshold: TimeDelta,
}

impl App {
    /// The thresholds of this deployment (24 h and 4 h by default).
    pub fn approval_reminders(&self) -> &ReminderThresholds {
        &self.reminders
    }

    /// The application with other thresholds (`none`: no reminders).
    pub fn with_approval_reminders(mut self, thresholds: ReminderThresholds) -> App {
        self.reminders = thresholds;
        self
    }

    /// The reminders due at `now`, sent in one transaction; by id. Only an administrator (the
    /// server's own pass, an operator) runs it.
    pub async fn remind_approvals(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<Vec<ApprovalReminder>> {
        only_admin(actor)?;
        self.write_as(actor, move |app, actor, tx| app.reminders_at(tx, actor, now)).await
    }

    /// The pass as servers try it every minute: the minute of `now` is claimed in `job_runs`
    /// in the pass's transaction, so one server does it; `None` when another server had.
    pub async fn remind_approvals_scheduled(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<Option<Vec<ApprovalReminder>>> {
        only_admin(actor)?;
        self.write_as(actor, move |app, actor, tx| {
            // Claimed already (nothing was written): the job ends with nothing to keep.
            if !tx.claim_job_slot(REMINDERS_JOB, crate::escalation::minute_slot(now))? {
                return Ok(None);
            }
            Ok(Some(app.reminders_at(tx, actor, now)?))
        })
        .await
    }

    /// The reminders due at `now`, inside the write `tx`.
    fn reminders_at(&self, tx: &mut bangfu_store::WriteTx, actor: &Actor, now: DateTime<Utc>) -> AppResult<Vec<ApprovalReminder>> {
        let Some(longest) = self.reminders.longest() else {
            return Ok(Vec::new());
        };
        let (after, until) = (to_millis(now), to_millis(now + longest));
        let approvals = tx.undecided_approvals_due(after, until)?;
        let mut sent: BTreeMap<i64, Vec<TimeDelta>> = BTreeMap::new();
        for r in tx.reminders_of_approvals_due(after, until)? {
            sent.entry(r.approval_id).or_default().push(TimeDelta::minutes(r.threshold_minutes));
        }
        let mut reminded = Vec::new();
        for approval in approvals {
            let Some(deadline) = approval.due_at.map(from_millis) else { continue };
            let already = sent.get(&approval.id).map(Vec::as_slice).unwrap_or_default();
            let Some(threshold) = reminder_due(&self.reminders, from_millis(approval.opened_at), deadline, now, already) else { continue };
            let row = ApprovalReminderRow { approval_id: approval.id, threshold_minutes: threshold.num_minutes(), sent_at: to_millis(now) };
            if !tx.insert_approval_reminder(&row)? {
                continue;
            }
            self.remind(tx, actor, now, &approval, threshold)?;
            reminded.push(ApprovalReminder { approval, threshold });
        }
        Ok(reminded)
    }

    /// The audit event and the notification of one reminder.
    fn remind(&self, tx: &mut bangfu_store::WriteTx, actor: &Actor, now: DateTime<Utc>, approval: &ApprovalRow, threshold: TimeDelta) -> AppResult<()> {
        let deadline = approval.due_at.map(from_millis).unwrap_or(now);
        Audit {
            actor,
            now,
            action: "approval.reminded",
            entity: format!("approval:{}", approval.id),
            case_id: Some(approval.case_id),
            payload: json!({"agency": approval.agency, "item": approval.item, "due_at": approval.due_at, "threshold_minutes": threshold.num_minutes()}),
        }
        .append(tx)?;
        let department = department_name(self.tree, approval.department);
        let notice = Notice {
            event: EventKind::ApprovalDue,
            department: approval.department,
            need: None,
            text_zh: format!(
                "审批临期：{department}绿色通道审批事项“{}”（{}）距办理时限不足{}，时限为{}（北京时间）。",
                approval.item,
                approval.agency,
                threshold_zh(threshold),
                china_minute(deadline)
            ),
            text_en: format!(
                "Approval nearing its deadline: {} ({}) in the green channel is due within {} h, at {} (UTC+8).",
                approval.item,
                approval.agency,
                threshold.num_minutes() as f64 / 60.0,
                bangfu_core::china_time::minute(deadline)
            ),
            why_zh: None,
            link: Some(format!("/cases/{}#approval-{}", approval.case_id, approval.id)),
            approval: Some(approval),
        };
        self.notify(tx, now, notice)
    }
}

fn only_admin(actor: &Actor) -> AppResult<()> {
    if crate::access::may_run_escalation_pass(actor) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("{} may not run the approval reminders' pass — it is run by the server and by admins", actor.name)))
    }
}
