//! The wire format of bangfu's objects, shared by the API and the CLI's `--json` output.
//! Times are RFC 3339 at UTC+8 (the users' local time); region codes are strings.

use bangfu_app::from_millis;
use bangfu_app::escalation::{EscalatedNeed, EscalationReport};
use bangfu_app::plans::{Expected, PlanView, WhatIfAnswer};
use bangfu_app::views::{CaseDetail, CaseSummary, NeedDetail};
use bangfu_core::escalation::EscalationStep;
use bangfu_core::plan::{Plan, Schedule};
use bangfu_store::*;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// A stored time as RFC 3339 at UTC+8.
pub fn time(ms: i64) -> String {
    bangfu_core::china_time::at(from_millis(ms)).to_rfc3339()
}

fn opt_time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(time(ms)))
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_string()))
}

pub fn enterprise(e: &EnterpriseRow) -> Value {
    json!({"id": e.id, "name": e.name, "credit_code": e.credit_code, "region": e.region, "lon": e.lon, "lat": e.lat, "note": e.note})
}

pub fn case(c: &CaseRow) -> Value {
    json!({"id": c.id, "enterprise_id": c.enterprise_id, "title": c.title, "region": c.region, "opened_at": time(c.opened_at), "status": c.status})
}

pub fn case_summary(s: &CaseSummary) -> Value {
    let mut v = case(&s.case);
    v["enterprise"] = enterprise(&s.enterprise);
    v["needs"] = json!(s.needs);
    v["open_needs"] = json!(s.open_needs);
    v
}

pub fn team_member(m: &TeamMemberRow) -> Value {
    json!({"id": m.id, "title": m.title, "tier": m.tier, "department": m.department, "role": m.role, "user_id": m.user_id, "joined_at": time(m.joined_at)})
}

pub fn need(n: &NeedRow) -> Value {
    json!({
        "id": n.id, "case_id": n.case_id, "kind": n.kind, "title": n.title, "specification": n.specification,
        "quantity": n.quantity, "unit": n.unit, "requires": n.requires, "deadline": opt_time(n.deadline),
        "max_distance_km": n.max_distance_km, "max_lead_time_h": n.max_lead_time_h,
        "scope": n.scope, "owner": n.owner, "owner_tier": n.owner_tier, "letter_to": n.letter_to,
        "solution_region": n.solution_region, "explanation": {"zh": n.route_zh, "en": n.route_en},
        "status": n.status, "reached_owner_at": time(n.reached_owner_at), "supervised": n.supervised,
        "selected_candidate": n.selected_candidate, "created_at": time(n.created_at), "updated_at": time(n.updated_at),
    })
}

pub fn provider(p: &ProviderRow) -> Value {
    json!({"id": p.id, "key": p.key, "name": p.name, "region": p.region, "lon": p.lon, "lat": p.lat, "note": p.note})
}

pub fn capability(c: &CapabilityRow) -> Value {
    json!({"id": c.id, "provider_id": c.provider_id, "kind": c.kind, "available": c.available, "attrs": c.attrs, "updated_at": time(c.updated_at)})
}

pub fn candidate(c: &CandidateRow, p: &ProviderRow) -> Value {
    json!({
        "id": c.id, "need_id": c.need_id, "provider": provider(p), "feasible": c.feasible,
        "road_km": c.road_km, "travel_h": c.travel_h, "processing_h": c.processing_h, "lead_time_h": c.lead_time_h,
        "scope": c.scope, "owner": c.owner, "reasons": c.reasons.iter().map(|r| json!({"code": r.code, "zh": r.text.zh, "en": r.text.en})).collect::<Vec<_>>(),
        "explanation": {"zh": c.explanation_zh, "en": c.explanation_en}, "status": c.status,
    })
}

pub fn event(e: &EventRow) -> Value {
    json!({
        "seq": e.seq, "at": time(e.at), "actor": e.actor, "action": e.action, "entity": e.entity,
        "case_id": e.case_id, "payload": parse_json(&e.payload), "prev_hash": e.prev_hash, "hash": e.hash,
    })
}

pub fn approval(a: &ApprovalRow) -> Value {
    json!({"id": a.id, "case_id": a.case_id, "department": a.department, "agency": a.agency, "item": a.item, "status": a.status,
        "opened_at": time(a.opened_at), "due_at": opt_time(a.due_at), "decided_at": opt_time(a.decided_at)})
}

pub fn shipment(s: &ShipmentRow) -> Value {
    json!({"id": s.id, "case_id": s.case_id, "need_id": s.need_id, "goods": s.goods, "origin": s.origin, "destination": s.destination,
        "status": s.status, "traffic_pass": s.traffic_pass, "departs_at": opt_time(s.departs_at), "arrives_at": opt_time(s.arrives_at)})
}

pub fn letter(l: &LetterRow) -> Value {
    json!({"id": l.id, "need_id": l.need_id, "number": l.number, "sender": l.sender, "recipients": l.recipients.iter().map(|r| json!({"region": r.region, "name": r.name.zh, "name_en": r.name.en})).collect::<Vec<_>>(),
        "subject": l.subject, "body": {"zh": l.body_zh, "en": l.body_en}, "status": l.status,
        "created_at": time(l.created_at), "sent_at": opt_time(l.sent_at), "acknowledged_at": opt_time(l.acknowledged_at),
        "contact": {"name": l.contact_name, "phone": l.contact_phone}, "cc": l.cc,
        "reply": l.reply_number.as_ref().map(|n| json!({"number": n, "date": l.reply_date, "text": l.reply_text}))})
}

pub fn case_detail(d: &CaseDetail) -> Value {
    let mut v = case(&d.case);
    v["enterprise"] = enterprise(&d.enterprise);
    v["team"] = d.team.iter().map(team_member).collect();
    v["needs"] = d.needs.iter().map(need).collect();
    v["approvals"] = d.approvals.iter().map(approval).collect();
    v["shipments"] = d.shipments.iter().map(shipment).collect();
    v["letters"] = d.letters.iter().map(letter).collect();
    v["events"] = d.events.iter().map(event).collect();
    v["events_total"] = json!(d.events_total);
    v["events_url"] = json!(format!("/api/v1/cases/{}/events", d.case.id));
    v
}

pub fn need_detail(d: &NeedDetail) -> Value {
    let mut v = need(&d.need);
    v["enterprise"] = enterprise(&d.enterprise);
    v["candidates"] = d.candidates.iter().map(|(c, p)| candidate(c, p)).collect();
    v["screening"] = d.screening.as_ref().map_or(Value::Null, screening);
    v["letters"] = d.letters.iter().map(letter).collect();
    let p = &d.participation;
    v["responses"] = p.responses.iter().map(response).collect();
    v["comments"] = p.comments.iter().map(comment).collect();
    v["attachments"] = p.attachments.iter().map(attachment).collect();
    v["confirmed_at"] = p.confirmation.as_ref().map_or(Value::Null, |c| json!(time(c.confirmed_at)));
    v["reported_by_enterprise"] = json!(p.reported_by_enterprise.is_some());
    v
}

/// A provider's answer on a need.
pub fn response(r: &bangfu_store::ResponseRow) -> Value {
    json!({"id": r.id, "need_id": r.need_id, "provider_id": r.provider_id, "answer": r.answer, "note": r.note,
        "quantity": r.quantity, "price": r.price, "deliver_by": r.deliver_by.map(time), "created_at": time(r.created_at)})
}

pub fn comment(c: &bangfu_store::CommentRow) -> Value {
    json!({"id": c.id, "need_id": c.need_id, "author": c.author, "text": c.text, "created_at": time(c.created_at)})
}

/// An attachment's facts; its file is at `url`.
pub fn attachment(a: &bangfu_store::AttachmentRow) -> Value {
    json!({"id": a.id, "need_id": a.need_id, "author": a.author, "filename": a.filename, "content_type": a.content_type,
        "size_bytes": a.size_bytes, "sha256": a.sha256, "created_at": time(a.created_at), "url": format!("/api/v1/attachments/{}", a.id)})
}

/// One line of an inbox.
pub fn inbox_item(i: &bangfu_app::participation::InboxItem) -> Value {
    let r = &i.row;
    json!({"id": r.id, "need_id": r.id, "case_id": r.case_id, "kind": r.kind, "title": r.title, "quantity": r.quantity, "unit": r.unit,
        "status": r.status, "owner": r.owner, "enterprise": r.enterprise, "deadline": r.deadline.map(time),
        "reported_at": time(r.created_at), "changed_at": time(r.updated_at), "unread": i.unread,
        "candidate": r.candidate_id.map(|id| json!({"id": id, "status": r.candidate_status, "feasible": r.feasible == Some(true), "lead_time_h": r.lead_time_h})),
        "answer": i.answer.as_ref().map(response)})
}

/// The counts of a need's last screening: everything of its kind screened, the feasible, and
/// the rejected per reason (a capability rejected for two reasons counts under both).
pub fn screening(s: &ScreeningRow) -> Value {
    json!({
        "screened": s.screened, "feasible": s.feasible,
        "rejected": {"unavailable": s.unavailable, "spec_mismatch": s.spec_mismatch, "insufficient_capacity": s.insufficient_capacity,
            "too_far": s.too_far, "too_slow": s.too_slow},
        "registry_version": s.registry_version, "screened_at": time(s.screened_at),
    })
}

pub fn provider_with_capabilities(p: &ProviderRow, capabilities: &[CapabilityRow]) -> Value {
    let mut v = provider(p);
    v["capabilities"] = capabilities.iter().map(capability).collect();
    v
}

pub fn daily_return(r: &DailyReturnRow) -> Value {
    json!({"id": r.id, "case_id": r.case_id, "day": r.day, "product": r.product, "capacity_per_day": r.capacity_per_day, "output": r.output, "stock": r.stock, "shipped": r.shipped, "note": r.note, "reported_at": time(r.reported_at)})
}

/// A return in the returns list, with its enterprise and case region.
pub fn return_line(r: &bangfu_store::figures::ReturnListRow) -> Value {
    let mut v = daily_return(&r.ret);
    v["enterprise"] = json!(r.enterprise);
    v["region"] = json!(r.region);
    v
}

pub fn notification(n: &NotificationRow) -> Value {
    json!({"id": n.id, "department": n.department, "need_id": n.need_id, "text": {"zh": n.text_zh, "en": n.text_en}, "created_at": time(n.created_at), "read_at": opt_time(n.read_at)})
}

/// One need moved up a tier (`"step": "escalate"`, with the new owner and deadline) or flagged
/// for supervision (`"step": "supervise"`), with the need as it is now.
pub fn escalated_need(m: &EscalatedNeed) -> Value {
    let (step, to, to_tier, deadline) = match m.step {
        EscalationStep::Escalate { to, to_tier, deadline, .. } => {
            ("escalate", json!(to.to_string()), json!(to_tier.as_str()), json!(time(deadline.timestamp_millis())))
        }
        EscalationStep::Supervise => ("supervise", Value::Null, Value::Null, Value::Null),
    };
    json!({
        "need_id": m.need.id, "case_id": m.need.case_id, "title": m.need.title, "action": m.action(), "step": step,
        "from": m.from.to_string(), "from_tier": m.from_tier.as_str(), "to": to, "to_tier": to_tier, "deadline": deadline,
        "expired_at": opt_time(m.expired_at.map(|t| t.timestamp_millis())), "reason": {"zh": m.reason.zh, "en": m.reason.en},
        "manual": m.manual, "need": need(&m.need),
    })
}

/// The daily briefings of a day generated on request: each department, and whether its briefing
/// was new (else it was kept already and stays as it was).
pub fn briefings_generated(day: chrono::NaiveDate, departments: &[(bangfu_core::region::RegionCode, bool)]) -> Value {
    json!({
        "day": day.to_string(),
        "generated": departments.iter().filter(|(_, new)| *new).count(),
        "kept_already": departments.iter().filter(|(_, new)| !*new).count(),
        "departments": departments.iter().map(|(d, new)| json!({"department": d.to_string(), "new": new})).collect::<Vec<_>>(),
    })
}

/// What one escalation pass did.
pub fn escalation_report(r: &EscalationReport) -> Value {
    json!({
        "now": time(r.now.timestamp_millis()), "windows": r.windows.to_string(), "checked": r.checked,
        "moved": r.moved.iter().map(escalated_need).collect::<Vec<_>>(),
    })
}

/// A time as RFC 3339 at UTC+8.
fn at(t: DateTime<Utc>) -> String {
    time(t.timestamp_millis())
}

fn opt_at(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(at(t)))
}

/// The critical-path contract of `bangfu plan`: {"finish", "critical_path": [ids], "milestones":
/// [{"id", "es", "ef", "ls", "lf", "slack_h"}]}, milestones in the plan's order, times at UTC+8.
pub fn schedule(plan: &Plan, computed: &Schedule) -> Value {
    let milestones: Vec<Value> = plan
        .milestones
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let t = computed.times(i);
            json!({"id": m.key, "es": at(t.es), "ef": at(t.ef), "ls": at(t.ls), "lf": at(t.lf), "slack_h": t.slack_h})
        })
        .collect();
    json!({
        "finish": at(computed.finish()),
        "critical_path": computed.critical_path().iter().map(|&i| plan.milestones[i].key.as_str()).collect::<Vec<_>>(),
        "milestones": milestones,
    })
}

/// A case's plan projected at `now`: the contract of [`schedule`] (its finish includes the delay
/// open needs cause; `null` for a case without a plan), each milestone also with what is stored
/// (name, duration_h, after, not_before, actual_start, actual_finish, blockers: need ids) and
/// critical, driving, done, held_by; then the case, now, start, planned_at,
/// days_from_plan_to_production, finish_without_open_needs, delay_h, driving_path and every
/// attached need with when it is expected to resolve and why.
pub fn case_plan(view: &PlanView) -> Value {
    let empty = view.is_empty();
    let mut v = schedule(&view.plan, &view.schedule);
    if empty {
        v["finish"] = Value::Null;
    }
    if let Some(items) = v["milestones"].as_array_mut() {
        for (i, item) in items.iter_mut().enumerate() {
            let (m, t) = (&view.plan.milestones[i], view.schedule.times(i));
            item["name"] = json!(m.name);
            item["duration_h"] = json!(m.duration_h);
            item["after"] = json!(m.after);
            item["not_before"] = opt_at(m.not_before);
            item["actual_start"] = opt_at(m.actual_start);
            item["actual_finish"] = opt_at(m.actual_finish);
            item["blockers"] = view.blockers_of(i).map(|b| b.need.id).collect();
            item["critical"] = json!(t.critical);
            item["driving"] = json!(view.driving[i]);
            item["done"] = json!(view.is_done(i));
            item["held_by"] = json!(t.held_by.map(|n| n.0));
        }
    }
    let when = |t: DateTime<Utc>| if empty { Value::Null } else { Value::String(at(t)) };
    v["case_id"] = json!(view.case_id);
    v["now"] = json!(at(view.now));
    v["start"] = when(view.start());
    v["planned_at"] = opt_at(view.planned_at);
    v["days_from_plan_to_production"] = json!(view.days_from_plan_to_production());
    v["finish_without_open_needs"] = when(view.finish_without_open_needs);
    v["delay_h"] = json!(view.delay_h());
    v["driving_path"] = view.driving_path().iter().map(|&i| json!(view.plan.milestones[i].key)).collect();
    v["blockers"] = view
        .blockers
        .iter()
        .map(|b| {
            let mut expected = json!({"basis": b.expected.as_str()});
            match b.expected {
                Expected::Candidate { candidate_id, provider_id, lead_time_h } => {
                    expected["candidate_id"] = json!(candidate_id);
                    expected["provider_id"] = json!(provider_id);
                    expected["lead_time_h"] = json!(lead_time_h);
                }
                Expected::ResponseWindow { tier, hours } => {
                    expected["tier"] = json!(tier.as_str());
                    expected["hours"] = json!(hours);
                }
                Expected::Closed | Expected::Deadline => {}
            }
            json!({
                "need_id": b.need.id, "title": b.need.title, "kind": b.need.kind, "status": b.need.status,
                "milestone": b.milestone, "open": b.is_open(), "resolves_at": opt_at(b.resolves_at), "expected": expected,
            })
        })
        .collect();
    v
}

/// "If this need resolves at T, first output moves from `before` to `after`."
pub fn what_if(w: &WhatIfAnswer) -> Value {
    json!({"first_output_before": at(w.before), "first_output_after": at(w.after), "moved_h": w.moved_h()})
}

/// One search result: its kind and id name the object (`/api/v1/{kind}s/{id}`, a department by
/// its region code), the region is a six-digit code.
pub fn search_hit(h: &bangfu_core::search_index::SearchHit) -> Value {
    json!({
        "kind": h.kind.as_str(), "id": h.id, "title": h.title, "region": format!("{:06}", h.region),
        "snippet": h.snippet, "score": f64::from(h.score),
    })
}

/// The allocation contract of `bangfu allocate --input`: {"cost", "assignments": [{"need",
/// "provider", "quantity"}], "unmet": [{"need", "quantity"}]}, assignments by need then provider.
pub fn allocation(a: &bangfu_core::allocate::Allocation) -> Value {
    json!({
        "cost": a.cost,
        "assignments": a.assignments.iter().map(|x| json!({"need": x.need, "provider": x.provider, "quantity": x.quantity})).collect::<Vec<_>>(),
        "unmet": a.unmet.iter().map(|u| json!({"need": u.need, "quantity": u.quantity})).collect::<Vec<_>>(),
    })
}

/// A channel, its URL masked and its secret only as "set" (issue 15).
pub fn channel(c: &bangfu_app::outbox::ChannelView) -> Value {
    json!({
        "id": c.id, "department": c.department, "department_name": c.department_name, "provider_id": c.provider_id,
        "enterprise_id": c.enterprise_id, "kind": c.kind.as_str(), "label": c.label, "target": c.target,
        "secret": if c.has_secret { "set" } else { "none" },
        "events": c.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(), "mentions": c.mentions,
        "quiet_hours": c.quiet_hours.map(|q| q.label()), "format": c.format.as_str(), "active": c.active, "created_at": time(c.created_at),
    })
}

pub fn outbox_attempt(a: &OutboxAttemptRow) -> Value {
    json!({"id": a.id, "at": time(a.at), "outcome": a.outcome, "error": a.error, "message_key": a.message_key, "grouped": a.grouped})
}

/// One outbox message with its channel (masked) and attempts.
pub fn delivery(d: &bangfu_app::outbox::DeliveryLine) -> Value {
    let m = &d.message;
    json!({
        "id": m.id, "idempotency_key": d.key(), "group_id": m.group_id, "channel_id": m.channel_id,
        "channel": d.channel.as_ref().map(|c| json!({"kind": c.kind.as_str(), "label": c.label, "target": c.target})),
        "department": m.department, "event": m.event, "need_id": m.need_id, "title": m.title, "body": m.body, "link": m.link,
        "status": m.status, "attempts": m.attempts, "created_at": time(m.created_at), "next_attempt_at": time(m.next_attempt_at),
        "last_error": m.last_error, "sent_at": opt_time(m.sent_at),
        "log": d.attempts.iter().map(outbox_attempt).collect::<Vec<_>>(),
    })
}

fn allocation_totals(t: &bangfu_app::allocation::Totals) -> Value {
    let round = |x: f64| (x * 10.0).round() / 10.0;
    json!({"cost": t.cost, "first_output_h": round(t.first_output_h), "km": round(t.km), "served_units": t.served_units, "unmet_units": t.unmet_units})
}

/// An allocation over a department's open needs (`bangfu allocate --kind`, `GET
/// /api/v1/allocations`): the contract of [`allocation`] for the method asked (cost,
/// assignments, unmet), then the request, both methods' totals and what the optimum saves (hours
/// of first output, km, units), the providers (capacity, committed, who they serve and why), and
/// each need with its weight, parts, reason and next best.
pub fn allocation_view(v: &bangfu_app::allocation::AllocationView) -> Value {
    use bangfu_app::allocation::{Method, WeightSource};
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let assignments: Vec<Value> = v
        .proposals
        .iter()
        .flat_map(|p| p.parts.iter().map(move |x| json!({"need": p.need.need.id, "provider": x.provider_id, "quantity": x.units})))
        .collect();
    let unmet: Vec<Value> =
        v.proposals.iter().filter(|p| p.unmet_units > 0).map(|p| json!({"need": p.need.need.id, "quantity": p.unmet_units})).collect();
    let chosen = match v.method {
        Method::Optimum => &v.optimum,
        Method::Greedy => &v.greedy,
    };
    let savings = v.savings();
    let providers: Vec<Value> = v
        .providers
        .iter()
        .map(|p| {
            json!({
                "id": p.provider_id, "name": p.name, "region": p.region.to_string(), "capacity": p.capacity, "committed": p.committed,
                "available": p.available(), "used": p.used(), "full": p.full(),
                "served": p.served.iter().map(|s| json!({"need": s.0, "units": s.1, "regret_h": round(s.2)})).collect::<Vec<_>>(),
                "turned_away": p.turned_away,
            })
        })
        .collect();
    let needs: Vec<Value> = v
        .proposals
        .iter()
        .map(|p| {
            let n = &p.need;
            let weight = match &n.weight_source {
                WeightSource::Plan { shift_h, critical } => json!({"source": "plan", "shift_h": round(*shift_h), "critical": critical}),
                WeightSource::Default => json!({"source": "default", "shift_h": null, "critical": null}),
            };
            json!({
                "id": n.need.id, "title": n.need.title, "case_id": n.need.case_id, "enterprise": n.enterprise.name,
                "quantity": n.need.quantity, "unit": n.need.unit, "units": n.units, "weight_h": round(n.weight_h), "weight": weight,
                "unmet_h": round(n.unmet_h),
                "parts": p.parts.iter().map(|x| json!({"provider": x.provider_id, "name": x.name, "units": x.units, "lead_time_h": round(x.lead_time_h), "road_km": round(x.road_km)})).collect::<Vec<_>>(),
                "unmet_units": p.unmet_units,
                "reason": {"zh": p.reason.zh, "en": p.reason.en},
                "next_best": p.next_best.as_ref().map(|(o, extra)| json!({"provider": o.provider_id, "name": o.name, "lead_time_h": round(o.lead_time_h), "road_km": round(o.road_km), "extra_h": round(*extra)})),
                "candidates": n.options.iter().map(|o| json!({"provider": o.provider_id, "name": o.name, "lead_time_h": round(o.lead_time_h), "road_km": round(o.road_km)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "cost": chosen.cost,
        "assignments": assignments,
        "unmet": unmet,
        "kind": v.kind.as_str(),
        "department": v.department.to_string(),
        "department_name": v.department_name,
        "horizon_days": v.horizon_days,
        "method": match v.method { Method::Optimum => "optimum", Method::Greedy => "greedy" },
        "now": at(v.now),
        "optimum": allocation_totals(&v.optimum),
        "greedy": allocation_totals(&v.greedy),
        "savings": {"first_output_h": round(savings.first_output_h), "km": round(savings.km), "unmet_units": savings.unmet_units, "cost": savings.cost},
        "providers": providers,
        "needs": needs,
        "skipped": v.skipped.iter().map(|(id, why)| json!({"need": id, "why": why})).collect::<Vec<_>>(),
    })
}
