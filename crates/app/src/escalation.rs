//! Escalation (上报 / 督办) as use cases: the periodic pass that moves every stalled need up one
//! tier, and the officer's "escalate" button that moves one need at once.
//!
//! The rules are core's ([`bangfu_core::escalation`]): the window of the owner's tier starts when
//! the need reached its owner; past it, an `open` need moves to the department directly above, whose
//! window starts at the moment of the pass; at the top it is flagged once for supervision by the
//! provincial leadership. Here the decisions are written: the need's owner, tier, `reached_owner_at`
//! and explanation (the reason appended, so the explanation tells the whole path), one audit event
//! per need (`need.escalated` / `need.supervised`) with the bilingual reason, and a notification for
//! the department that answers now — the whole pass in one transaction. A second pass at the same
//! `now` finds nothing to do.
//!
//! Servers run the pass every minute through [`App::escalate_scheduled`], which claims the
//! minute's slot in the same transaction, so one server does the work and a failed pass leaves the
//! slot to the next one.

use crate::outbox::Notice;
use bangfu_core::outbox::EventKind;
use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, Audit, from_millis, to_millis};
use bangfu_core::escalation::{Escalation, EscalationStep, OpenNeed, ResponseWindows, department_above, escalations_due};
use bangfu_core::ids::NeedId;
use bangfu_core::model::{Bilingual, NeedStatus, Tier};
use bangfu_core::region::RegionCode;
use bangfu_core::routing::department_name;
use bangfu_store::{NeedRow, WriteTx};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The name of the periodic job in the store's job leases.
pub const ESCALATION_JOB: &str = "escalation";

/// What one pass did.
#[derive(Clone, Debug, PartialEq)]
pub struct EscalationReport {
    /// The moment of the pass.
    pub now: DateTime<Utc>,
    /// The response windows it applied.
    pub windows: ResponseWindows,
    /// How many needs were not yet resolved or cancelled at the pass (it reads only the open
    /// ones past the shortest window).
    pub checked: usize,
    /// The needs it moved or flagged, by need id.
    pub moved: Vec<EscalatedNeed>,
}

/// One need moved up a tier (上报) or flagged for supervision (督办).
#[derive(Clone, Debug, PartialEq)]
pub struct EscalatedNeed {
    /// The need as it is now.
    pub need: NeedRow,
    /// The owner before, and its tier.
    pub from: RegionCode,
    pub from_tier: Tier,
    /// When the owner's window ran out; none for a manual escalation.
    pub expired_at: Option<DateTime<Utc>>,
    pub step: EscalationStep,
    pub reason: Bilingual,
    /// Pushed by an officer rather than by the pass.
    pub manual: bool,
}

impl EscalatedNeed {
    /// `need.escalated` or `need.supervised`.
    pub fn action(&self) -> &'static str {
        match self.step {
            EscalationStep::Escalate { .. } => "need.escalated",
            EscalationStep::Supervise => "need.supervised",
        }
    }
}

/// Escalations moved in one write of a pass. A write runs in a savepoint of the group's
/// transaction, and SQLite truncates its in-memory statement journal after each statement by
/// walking it from its start, so one write's cost grows with the square of its statements: one
/// write moving 13,320 needs of the province exercise took 440 s, writes of 100 take 12 s
/// together on a busy machine (BENCHMARKS.md).
pub const ESCALATIONS_PER_WRITE: usize = 100;

impl App {
    /// This deployment's response windows (default county 24 h, city 48 h, province 72 h).
    pub fn response_windows(&self) -> ResponseWindows {
        self.windows
    }

    /// The application with other response windows.
    pub fn with_response_windows(mut self, windows: ResponseWindows) -> App {
        self.windows = windows;
        self
    }

    /// One escalation pass at `now` (`bangfu escalate --now`, `POST /api/v1/escalations/run`).
    /// Only an admin — the operator or the server's own pass — runs it.
    pub async fn escalate(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<EscalationReport> {
        only_admin(actor)?;
        let report = self.escalation_passes(actor, now, false).await?;
        report.ok_or_else(|| AppError::Internal("an escalation pass that claims nothing found its minute claimed".into()))
    }

    /// The pass as servers run it every minute: it claims the minute of `now` for the job
    /// [`ESCALATION_JOB`] in the same transaction, so across all servers of a database it runs at
    /// most once per minute. `None` when another server has claimed the minute.
    pub async fn escalate_scheduled(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<Option<EscalationReport>> {
        only_admin(actor)?;
        self.escalation_passes(actor, now, true).await
    }

    /// The pass, moving at most [`ESCALATIONS_PER_WRITE`] needs per write: the first write
    /// (which claims the minute when `claim`; `None` if another server had) finds what is due
    /// once, and each later write reads its needs again and moves those still due (another
    /// server may have moved or closed one since), so the writes together move what one pass
    /// would.
    async fn escalation_passes(&self, actor: &Actor, now: DateTime<Utc>, claim: bool) -> AppResult<Option<EscalationReport>> {
        // Only open, unflagged needs that reached their owner before the shortest window can be
        // due; the index on (status, reached_owner_at) finds them without reading every need.
        let shortest = [Tier::County, Tier::City, Tier::Province].iter().map(|t| self.windows.window(*t)).min().unwrap_or_default();
        let before = to_millis(now - shortest);
        let first = self
            .write_as(actor, move |app, actor, tx| {
                if claim && !tx.claim_job_slot(ESCALATION_JOB, minute_slot(now))? {
                    return Ok(None);
                }
                let rows = tx.needs_open_since_before(before)?;
                let checked = usize::try_from(tx.count_unclosed_needs()?).unwrap_or(usize::MAX);
                let mut due: Vec<i64> = app.due(&rows, now)?.iter().map(|e| e.need.0).collect();
                let rest = due.split_off(due.len().min(ESCALATIONS_PER_WRITE));
                let batch: Vec<NeedRow> = rows.into_iter().filter(|n| due.binary_search(&n.id).is_ok()).collect();
                let moved = app.move_batch(tx, actor, now, batch)?;
                Ok(Some((checked, moved, rest)))
            })
            .await?;
        let Some((checked, mut moved, mut rest)) = first else { return Ok(None) };
        while !rest.is_empty() {
            let mut due = rest;
            rest = due.split_off(due.len().min(ESCALATIONS_PER_WRITE));
            let more = self
                .write_as(actor, move |app, actor, tx| {
                    let mut batch = Vec::with_capacity(due.len());
                    for id in &due {
                        if let Some(need) = tx.need(*id)?.filter(|n| n.status == NeedStatus::Open && !n.supervised && n.reached_owner_at < before) {
                            batch.push(need);
                        }
                    }
                    app.move_batch(tx, actor, now, batch)
                })
                .await?;
            moved.extend(more);
        }
        Ok(Some(EscalationReport { now, windows: self.windows, checked, moved }))
    }

    /// Moves the needs of `batch` that are due at `now`, inside the write `tx`.
    fn move_batch(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, batch: Vec<NeedRow>) -> AppResult<Vec<EscalatedNeed>> {
        let by_id: std::collections::BTreeMap<i64, &NeedRow> = batch.iter().map(|n| (n.id, n)).collect();
        let mut moved = Vec::new();
        for escalation in self.due(&batch, now)? {
            let Some(need) = by_id.get(&escalation.need.0) else {
                return Err(AppError::Internal(format!("escalation of need {}, which the pass did not read", escalation.need)));
            };
            moved.push(self.perform(tx, actor, now, (*need).clone(), &escalation, false)?);
        }
        Ok(moved)
    }

    /// The escalations due at `now` among `rows`, by need id.
    fn due(&self, rows: &[NeedRow], now: DateTime<Utc>) -> AppResult<Vec<Escalation>> {
        let open: Vec<OpenNeed> = rows.iter().map(open_need).collect::<AppResult<_>>()?;
        escalations_due(self.tree, &self.windows, &open, now).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// An officer pushes a need up one tier at once (the "escalate" button), with a reason: it
    /// goes to the department above its owner with a new window from `now`, or — when nothing is
    /// above — is flagged for supervision (督办). Any need not yet resolved or cancelled may be
    /// pushed; one already flagged at the top cannot be flagged again.
    pub async fn escalate_need(&self, actor: &Actor, now: DateTime<Utc>, need_id: i64, reason: &str) -> AppResult<EscalatedNeed> {
        let reason = crate::error::text("reason", reason, bangfu_core::text::LONG_CHARS)?;
        let reason = reason.as_str();
        if reason.is_empty() {
            return Err(bad("reason: say why the need goes up a tier, for example 跨省协调需省级出面"));
        }
        let reason = reason.to_owned();
        self.write_as(actor, move |app, actor, tx| {
            let (need, _case) = app.need_to_decide(tx, actor, need_id)?;
            let status = need.status;
            if status.is_closed() {
                return Err(AppError::Conflict(format!("need {need_id} is {status}: only a need still being worked on can be escalated")));
            }
            let from = need.owner;
            let from_tier = need.owner_tier;
            let from_name = department_name(app.tree, from);
            let from_en = app.region_name(from);
            let by = &actor.name;
            let (step, reason) = match department_above(app.tree, from) {
                Some((to, to_tier)) => {
                    let step = EscalationStep::Escalate { to, to_tier, window_starts: now, deadline: now + app.windows.window(to_tier) };
                    let text = Bilingual::new(
                        format!("{by}将诉求由{from_name}上报{}：{reason}", department_name(app.tree, to)),
                        format!("{by} escalated the need from the {from_en} department to {}: {reason}", app.region_name(to)),
                    );
                    (step, text)
                }
                None if need.supervised => {
                    return Err(AppError::Conflict(format!(
                        "need {need_id} is owned by {from_name}, which has no department above, and is already flagged for supervision (督办)"
                    )));
                }
                None => (
                    EscalationStep::Supervise,
                    Bilingual::new(
                        format!("{by}提请省级领导督办（{from_name}）：{reason}"),
                        format!("{by} flagged the need of the {from_en} department for supervision by the provincial leadership (督办): {reason}"),
                    ),
                ),
            };
            let escalation = Escalation { need: NeedId(need_id), from, from_tier, expired_at: now, step, reason };
            let done = app.perform(tx, actor, now, need, &escalation, true)?;
            Ok(done)
        })
        .await
    }

    /// Writes one escalation: the need, its event and the notification.
    fn perform(&self, tx: &mut WriteTx, actor: &Actor, now: DateTime<Utc>, mut need: NeedRow, escalation: &Escalation, manual: bool) -> AppResult<EscalatedNeed> {
        let reason = &escalation.reason;
        match escalation.step {
            EscalationStep::Escalate { to, to_tier, .. } => {
                need.owner = to;
                need.owner_tier = to_tier;
                need.reached_owner_at = to_millis(now);
            }
            EscalationStep::Supervise => need.supervised = true,
        }
        // The explanation keeps the routing decision and tells each step up after it.
        need.route_zh = format!("{}{}。", need.route_zh, reason.zh);
        need.route_en = format!("{} {}.", need.route_en, reason.en);
        need.updated_at = to_millis(now);
        tx.update_need(&need)?;

        let done = EscalatedNeed {
            from: escalation.from,
            from_tier: escalation.from_tier,
            expired_at: (!manual).then_some(escalation.expired_at),
            step: escalation.step,
            reason: reason.clone(),
            manual,
            need,
        };
        let need = &done.need;
        let mut payload = json!({
            "title": need.title,
            "from": escalation.from.to_string(), "from_tier": escalation.from_tier.as_str(),
            "owner": need.owner, "owner_tier": need.owner_tier,
            "reason": {"zh": reason.zh, "en": reason.en},
            "manual": manual,
        });
        if let EscalationStep::Escalate { deadline, .. } = escalation.step {
            payload["deadline"] = json!(to_millis(deadline));
        }
        if !manual {
            payload["window_expired_at"] = json!(to_millis(escalation.expired_at));
        }
        Audit { actor, now, action: done.action(), entity: format!("need:{}", need.id), case_id: Some(need.case_id), payload }.append(tx)?;

        let department = department_name(self.tree, need.owner);
        let (zh, en) = match escalation.step {
            EscalationStep::Escalate { .. } => ("上报诉求", "Need escalated to you"),
            EscalationStep::Supervise => ("提请督办", "Flagged for supervision (督办)"),
        };
        let notice = Notice {
            event: match escalation.step {
                EscalationStep::Escalate { .. } => EventKind::Escalated,
                EscalationStep::Supervise => EventKind::Supervised,
            },
            department: need.owner,
            need: Some(need),
            text_zh: format!("{zh}：{}（{department}）——{}", need.title, reason.zh),
            text_en: format!("{en}: {} — {}", need.title, reason.en),
            why_zh: Some(reason.zh.clone()),
            link: None,
            approval: None,
        };
        self.notify(tx, now, notice)?;
        Ok(done)
    }

    /// A region's name (its department's region), for English texts.
    fn region_name(&self, code: RegionCode) -> String {
        let code = self.tree.department_region(code);
        self.tree.get(code).map_or_else(|| code.to_string(), |r| r.name.clone())
    }
}

/// The minute of `now`, the slot the servers' pass claims.
pub fn minute_slot(now: DateTime<Utc>) -> i64 {
    to_millis(now).div_euclid(60_000)
}

fn only_admin(actor: &Actor) -> AppResult<()> {
    if crate::access::may_run_escalation_pass(actor) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("{} may not run the escalation pass — it is run by the server and by admins", actor.name)))
    }
}

/// What the pass needs of a stored need.
fn open_need(need: &NeedRow) -> AppResult<OpenNeed> {
    Ok(OpenNeed {
        id: NeedId(need.id),
        owner: need.owner,
        owner_tier: need.owner_tier,
        reached_owner_at: from_millis(need.reached_owner_at),
        status: need.status,
        supervised: need.supervised,
    })
}
