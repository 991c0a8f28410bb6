//! The daily briefing (每日专报) of a department for a day: the headline figures against the day
//! before, the figures of the week to that day ([`crate::figures`]), the blockers holding back
//! the most output, the escalations and the letters awaiting an answer, and the needs flagged
//! for leadership's decision (督办).
//!
//! The blockers, from the plans: every unclosed need of the jurisdiction's cases, ranked by the
//! output it holds back —
//! - hours: by how many hours the need puts its case's first day of output back — its plan's
//!   what-if ([`crate::plans::hours_held_back`]: first output as projected against first output
//!   were the need resolved at `now`); a need no plan holds (its case has no plan, or the need
//!   blocks no milestone) counts the stated default, [`DEFAULT_HELD_BACK_H`] = 12 h, the
//!   allocation's default weight ([`crate::allocation::DEFAULT_WEIGHT_H`]);
//! - the case's expected daily output: the capacity of its last daily return in the briefing's
//!   week (summed over its products); a case with none in the week is estimated at the median of
//!   those that have one (marked as estimated); with none at all, output is unknown;
//! - output held back = hours ÷ 24 × daily output. Ranked by output held back (unknown last),
//!   then hours, then need id.
//!
//! The morning pass ([`crate::morning`]) generates it at 08:00 UTC+8 for every department whose
//! jurisdiction holds a case, and it is kept as generated (`briefings`, one row per department
//! and day, never rewritten). Reading a day's briefing that the pass has not kept (a server down
//! that morning, a department whose first case came later) generates and keeps it then, if the
//! day's returns were due by `now`.

use crate::figures::Figures;
use crate::{Actor, App, AppError, AppResult, access, from_millis, to_millis};
use bangfu_core::region::RegionCode;
use bangfu_core::returns::{due_at, last_due_day};
use bangfu_store::{BriefingRow, ReadConn};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Days of figures in a briefing (the week to its day).
pub const BRIEFING_DAYS: i64 = 7;

/// Lines of each list in a briefing.
const LINES: usize = 10;

/// Hours a need no plan holds is counted as putting its case's first output back: the
/// allocation's default weight (first output moves 12 h per 24 h of wait).
pub const DEFAULT_HELD_BACK_H: f64 = crate::allocation::DEFAULT_WEIGHT_H;

/// One headline figure, on the day and the day before.
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    pub label_zh: String,
    pub label_en: String,
    pub day: f64,
    pub before: f64,
}

/// A need named in a briefing.
#[derive(Clone, Debug, PartialEq)]
pub struct NeedLine {
    pub need_id: i64,
    pub case_id: i64,
    pub title: String,
    pub owner: String,
    pub owner_tier: String,
    /// Blockers only: hours by which the need puts its case's first output back (see the module).
    pub hours: f64,
    /// Whether `hours` came from the case's plan (else it is [`DEFAULT_HELD_BACK_H`]).
    pub from_plan: bool,
    /// Blockers only: the case's expected daily output, if known.
    pub daily_output: Option<f64>,
    /// Whether `daily_output` is the jurisdiction's median, the case having filed no return in the week.
    pub output_estimated: bool,
    /// Blockers only: output held back, `hours` ÷ 24 × `daily_output` (0 when unknown).
    pub held_back: f64,
    pub supervised: bool,
}

/// A letter awaiting its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct LetterLine {
    pub letter_id: i64,
    pub need_id: i64,
    pub number: String,
    pub subject: String,
    pub sent_at: Option<i64>,
}

/// The briefing of a department for a day.
#[derive(Clone, Debug, PartialEq)]
pub struct Briefing {
    pub department: RegionCode,
    pub day: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub headline: Vec<Headline>,
    pub figures: Figures,
    /// The blockers holding back the most output, most first (at most 10), and how many there are.
    pub blockers: Vec<NeedLine>,
    pub blockers_total: usize,
    pub escalated: Vec<NeedLine>,
    pub escalated_total: usize,
    pub letters: Vec<LetterLine>,
    pub letters_total: usize,
    /// Needs flagged for supervision (督办): leadership's decisions.
    pub decisions: Vec<NeedLine>,
    pub decisions_total: usize,
}

impl App {
    /// The briefing of `actor`'s department (or of a region inside its jurisdiction) for `day`
    /// (none: the last day due at `now`), as kept; generated and kept now if it was due and is
    /// missing. A day not yet due is refused.
    pub async fn briefing(&self, actor: &Actor, now: DateTime<Utc>, region: Option<&str>, day: Option<NaiveDate>) -> AppResult<Briefing> {
        if !access::may_read_figures(actor) {
            return Err(AppError::Forbidden(format!("{} may not read a department's briefing — it is for departments' officers, viewers and admins", actor.name)));
        }
        let asked = region.map(|r| self.region(r, "region")).transpose()?;
        let department = match access::figures_region(self.tree, actor, asked) {
            Ok(Some(d)) => d,
            Ok(None) => return Err(crate::error::bad("region: an admin names the department whose briefing to read (?region=140000)")),
            Err(()) => return Err(AppError::NotFound(format!("region {}", asked.map(|a| a.to_string()).unwrap_or_default()))),
        };
        let day = day.unwrap_or_else(|| last_due_day(now));
        if now < due_at(day) {
            return Err(crate::error::bad(format!("day: the briefing of {day} is generated at {} — ask for {} or earlier", china_time(due_at(day)), last_due_day(now))));
        }
        if let Some(kept) = self.store.briefing_of(&department.to_string(), &day.to_string()).await? {
            return briefing_from_row(&kept);
        }
        let mut read = self.store.reading().await?;
        let briefing = self.compose_briefing(&mut read, now, department, day).await?;
        drop(read);
        let row = briefing_row(&briefing);
        self.write(move |_, tx| {
            tx.insert_briefing(&row)?;
            Ok(())
        })
        .await?;
        // Kept as the first generation (another server may have kept its own a moment earlier).
        match self.store.briefing_of(&department.to_string(), &day.to_string()).await? {
            Some(kept) => briefing_from_row(&kept),
            None => Ok(briefing),
        }
    }

    /// The days for which `department` has a kept briefing, newest first (at most 60).
    pub async fn briefing_days(&self, department: RegionCode) -> AppResult<Vec<NaiveDate>> {
        let rows = self.store.briefing_days(&department.to_string(), 60).await?;
        Ok(rows.iter().filter_map(|r| NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()).collect())
    }

    /// The morning pass's briefings of `day`, generated now by an admin (`bangfu briefing
    /// generate`, `POST /api/v1/briefings/generate`): every department's that is not kept yet is
    /// composed at `now` and kept; those already kept stay as they were, so a second run changes
    /// nothing. A day whose returns are not yet due at `now` is refused. Returns each department
    /// with whether its briefing was new, by region code.
    pub async fn generate_day_briefings(&self, actor: &Actor, now: DateTime<Utc>, day: NaiveDate) -> AppResult<Vec<(RegionCode, bool)>> {
        if !access::may_run_escalation_pass(actor) {
            return Err(AppError::Forbidden(format!("{} may not generate the daily briefings — the server does it at 08:00 UTC+8, and admins", actor.name)));
        }
        if now < due_at(day) {
            return Err(crate::error::bad(format!("day: the briefings of {day} are generated from {} on — ask for {} or earlier", china_time(due_at(day)), last_due_day(now))));
        }
        self.generate_briefings(now, day).await
    }

    /// Generates and keeps the briefing of `day` for every department whose jurisdiction holds a
    /// case: each composed from reads, then kept in a short write of its own, so that the write
    /// lock is never held while a province's figures are summed. Returns each department with
    /// whether its briefing was new (kept already, or kept a moment earlier by another server: not).
    pub(crate) async fn generate_briefings(&self, now: DateTime<Utc>, day: NaiveDate) -> AppResult<Vec<(RegionCode, bool)>> {
        let mut departments = BTreeSet::new();
        for row in self.store.case_regions().await? {
            let code = row.region;
            departments.insert(self.tree.department_region(code));
            for above in self.tree.ancestors(code) {
                departments.insert(self.tree.department_region(above.code));
            }
        }
        let mut made = Vec::with_capacity(departments.len());
        for department in departments {
            if self.store.briefing_of(&department.to_string(), &day.to_string()).await?.is_some() {
                made.push((department, false));
                continue;
            }
            let mut read = self.store.reading().await?;
            let briefing = self.compose_briefing(&mut read, now, department, day).await?;
            drop(read);
            let new = self.write(move |app, tx| {
                let new = tx.insert_briefing(&briefing_row(&briefing))?;
                if new {
                    // The department's channels that chose the briefing get its headline (issue 15).
                    let lines: Vec<String> = briefing.headline.iter().map(|h| format!("{}：{}（前一日 {}）", h.label_zh, h.day, h.before)).collect();
                    let notice = crate::outbox::Notice {
                        event: bangfu_core::outbox::EventKind::Briefing,
                        department,
                        need: None,
                        text_zh: format!("{}每日专报（{}）\n{}", bangfu_core::routing::department_name(app.tree, department), day.format("%Y年%-m月%-d日"), lines.join("\n")),
                        text_en: format!("Daily briefing of {day}"),
                        why_zh: None,
                        link: Some(format!("/briefing?region={department}&day={day}")),
                        approval: None,
                    };
                    app.send_out(tx, now, notice)?;
                }
                Ok(new)
            })
            .await?;
            made.push((department, new));
        }
        Ok(made)
    }

    async fn compose_briefing(&self, read: &mut ReadConn, now: DateTime<Utc>, department: RegionCode, day: NaiveDate) -> AppResult<Briefing> {
        let figures = self.figures_of(read, Some(department), day, BRIEFING_DAYS).await?;
        let visible = access::cases_of_region(self.tree, Some(department));
        let last = figures.days.len().saturating_sub(1);
        let on = |values: &[f64], at: Option<usize>| at.and_then(|at| values.get(at)).copied().unwrap_or(0.0);
        let before = last.checked_sub(1);
        let mut headline = Vec::new();
        for p in &figures.products {
            headline.push(Headline { label_zh: format!("{} 产量", p.product), label_en: format!("{} output", p.product), day: on(&p.output_total, Some(last)), before: on(&p.output_total, before) });
            headline.push(Headline { label_zh: format!("{} 产能", p.product), label_en: format!("{} capacity", p.product), day: on(&p.capacity, Some(last)), before: on(&p.capacity, before) });
        }
        let returns = |at: Option<usize>| figures.products.iter().map(|p| at.and_then(|at| p.returns.get(at)).copied().unwrap_or(0)).sum::<i64>() as f64;
        headline.push(Headline { label_zh: "报送日报（企业×产品）".into(), label_en: "Returns filed (enterprise × product)".into(), day: returns(Some(last)), before: returns(before) });
        let needs = |rows: &[(bangfu_core::model::Tier, Vec<i64>)], at: Option<usize>| rows.iter().map(|(_, v)| at.and_then(|at| v.get(at)).copied().unwrap_or(0)).sum::<i64>() as f64;
        headline.push(Headline { label_zh: "新增诉求".into(), label_en: "Needs opened".into(), day: needs(&figures.opened, Some(last)), before: needs(&figures.opened, before) });
        headline.push(Headline { label_zh: "解决诉求".into(), label_en: "Needs resolved".into(), day: needs(&figures.resolved, Some(last)), before: needs(&figures.resolved, before) });

        let blockers = self.rank_blockers(read, now, &visible, day).await?;
        let escalated: Vec<NeedLine> = read.open_escalated(&visible).await?.iter().map(need_line).collect();
        let decisions: Vec<NeedLine> = escalated.iter().filter(|n| n.supervised).cloned().collect();
        let letters: Vec<LetterLine> = read
            .letters_awaiting_answer(&visible)
            .await?
            .iter()
            .map(|l| LetterLine { letter_id: l.id, need_id: l.need_id, number: l.number.clone(), subject: l.subject.clone(), sent_at: l.sent_at })
            .collect();
        Ok(Briefing {
            department,
            day,
            generated_at: now,
            headline,
            figures,
            blockers_total: blockers.len(),
            blockers: blockers.into_iter().take(LINES).collect(),
            escalated_total: escalated.len(),
            escalated: escalated.into_iter().take(LINES).collect(),
            letters_total: letters.len(),
            letters: letters.into_iter().take(LINES).collect(),
            decisions_total: decisions.len(),
            decisions: decisions.into_iter().take(LINES).collect(),
        })
    }
}

impl App {
    /// Every unclosed need of the visible cases as a blocker, ranked by the output it holds back
    /// (see the module documentation), most first.
    async fn rank_blockers(
        &self,
        read: &mut ReadConn,
        now: DateTime<Utc>,
        visible: &bangfu_store::lists::VisibleCases,
        day: NaiveDate,
    ) -> AppResult<Vec<NeedLine>> {
        // Hours, from the plans of the cases whose open needs block a milestone.
        let planned: BTreeSet<i64> = read.open_blockers(visible).await?.iter().map(|n| n.case_id).collect();
        let mut hours_of: BTreeMap<i64, f64> = BTreeMap::new();
        for case_id in planned {
            let view = self.plan_of(case_id, now).await?;
            for b in view.blockers.iter().filter(|b| b.is_open()) {
                if let Some(hours) = crate::plans::hours_held_back(&view, b.need.id) {
                    hours_of.insert(b.need.id, hours);
                }
            }
        }
        // Expected daily output: the capacity of each case's last return in the week.
        let first = day - chrono::Days::new(BRIEFING_DAYS.unsigned_abs() - 1);
        let mut last_return: BTreeMap<i64, (String, f64)> = BTreeMap::new();
        for row in read.return_sums_by_case(visible, &first.to_string(), &day.to_string()).await? {
            let case_id = row.part;
            let entry = last_return.entry(case_id).or_insert_with(|| (row.day.clone(), 0.0));
            if row.day > entry.0 {
                *entry = (row.day.clone(), 0.0);
            }
            if row.day == entry.0 {
                entry.1 += row.capacity;
            }
        }
        let mut known: Vec<i64> = last_return.values().map(|(_, c)| (c * 1000.0).round() as i64).collect();
        let median = (!known.is_empty()).then(|| crate::figures::median(&mut known) / 1000.0);

        let mut blockers: Vec<NeedLine> = read
            .unclosed_needs(visible)
            .await?
            .iter()
            .map(|n| {
                let (hours, from_plan) = hours_of.get(&n.id).map_or((DEFAULT_HELD_BACK_H, false), |h| (*h, true));
                let (daily_output, output_estimated) = match last_return.get(&n.case_id) {
                    Some((_, capacity)) => (Some(*capacity), false),
                    None => (median, median.is_some()),
                };
                NeedLine { hours, from_plan, daily_output, output_estimated, held_back: daily_output.map_or(0.0, |d| hours / 24.0 * d), ..need_line(n) }
            })
            .collect();
        blockers.sort_by(|a, b| {
            b.daily_output
                .is_some()
                .cmp(&a.daily_output.is_some())
                .then(b.held_back.total_cmp(&a.held_back))
                .then(b.hours.total_cmp(&a.hours))
                .then(a.need_id.cmp(&b.need_id))
        });
        Ok(blockers)
    }
}

/// A moment as YYYY-MM-DD HH:MM UTC+8.
fn china_time(at: DateTime<Utc>) -> String {
    format!("{} UTC+8", bangfu_core::china_time::minute(at))
}

/// A need as a line of the briefing, with nothing held back yet.
fn need_line(n: &bangfu_store::NeedRow) -> NeedLine {
    NeedLine {
        need_id: n.id,
        case_id: n.case_id,
        title: n.title.clone(),
        owner: n.owner.to_string(),
        owner_tier: n.owner_tier.as_str().to_string(),
        hours: 0.0,
        from_plan: false,
        daily_output: None,
        output_estimated: false,
        held_back: 0.0,
        supervised: n.supervised,
    }
}

fn need_json(n: &NeedLine) -> Value {
    json!({
        "need_id": n.need_id, "case_id": n.case_id, "title": n.title, "owner": n.owner, "owner_tier": n.owner_tier,
        "hours": n.hours, "from_plan": n.from_plan, "daily_output": n.daily_output, "output_estimated": n.output_estimated,
        "held_back": n.held_back, "supervised": n.supervised,
    })
}

impl Briefing {
    /// The briefing as JSON: the API's answer and what is kept.
    pub fn to_json(&self) -> Value {
        json!({
            "department": self.department.to_string(),
            "day": self.day.to_string(),
            "generated_at": to_millis(self.generated_at),
            "headline": self.headline.iter().map(|h| json!({"label_zh": h.label_zh, "label_en": h.label_en, "day": h.day, "before": h.before})).collect::<Vec<_>>(),
            "figures": self.figures.to_json(),
            "blockers": self.blockers.iter().map(need_json).collect::<Vec<_>>(),
            "blockers_total": self.blockers_total,
            "escalated": self.escalated.iter().map(need_json).collect::<Vec<_>>(),
            "escalated_total": self.escalated_total,
            "letters": self.letters.iter().map(|l| json!({"letter_id": l.letter_id, "need_id": l.need_id, "number": l.number, "subject": l.subject, "sent_at": l.sent_at})).collect::<Vec<_>>(),
            "letters_total": self.letters_total,
            "decisions": self.decisions.iter().map(need_json).collect::<Vec<_>>(),
            "decisions_total": self.decisions_total,
        })
    }

    /// The briefing back from [`Briefing::to_json`].
    pub fn from_json(v: &Value) -> Option<Briefing> {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
        let int = |v: &Value, k: &str| v.get(k).and_then(Value::as_i64);
        let list = |k: &str| v.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        let needs = |k: &str| -> Option<Vec<NeedLine>> {
            list(k)
                .iter()
                .map(|n| {
                    Some(NeedLine {
                        need_id: int(n, "need_id")?,
                        case_id: int(n, "case_id")?,
                        title: text(n, "title")?,
                        owner: text(n, "owner")?,
                        owner_tier: text(n, "owner_tier")?,
                        // Briefings kept before blockers were ranked from the plans lack these.
                        hours: num(n, "hours").unwrap_or(0.0),
                        from_plan: n.get("from_plan").and_then(Value::as_bool).unwrap_or(false),
                        daily_output: num(n, "daily_output"),
                        output_estimated: n.get("output_estimated").and_then(Value::as_bool).unwrap_or(false),
                        held_back: num(n, "held_back")?,
                        supervised: n.get("supervised")?.as_bool()?,
                    })
                })
                .collect()
        };
        let total = |k: &str| v.get(k).and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok());
        Some(Briefing {
            department: crate::needs::region_code(&text(v, "department")?)?,
            day: NaiveDate::parse_from_str(&text(v, "day")?, "%Y-%m-%d").ok()?,
            generated_at: from_millis(int(v, "generated_at")?),
            headline: list("headline").iter().map(|h| Some(Headline { label_zh: text(h, "label_zh")?, label_en: text(h, "label_en")?, day: num(h, "day")?, before: num(h, "before")? })).collect::<Option<_>>()?,
            figures: Figures::from_json(v.get("figures")?)?,
            blockers: needs("blockers")?,
            blockers_total: total("blockers_total")?,
            escalated: needs("escalated")?,
            escalated_total: total("escalated_total")?,
            letters: list("letters")
                .iter()
                .map(|l| Some(LetterLine { letter_id: int(l, "letter_id")?, need_id: int(l, "need_id")?, number: text(l, "number")?, subject: text(l, "subject")?, sent_at: int(l, "sent_at") }))
                .collect::<Option<_>>()?,
            letters_total: total("letters_total")?,
            decisions: needs("decisions")?,
            decisions_total: total("decisions_total")?,
        })
    }
}

fn briefing_row(b: &Briefing) -> BriefingRow {
    let Value::Object(body) = b.to_json() else { unreachable!("a briefing's JSON is an object (json! of one)") };
    BriefingRow { id: 0, department: b.department, day: b.day.to_string(), generated_at: to_millis(b.generated_at), body }
}

fn briefing_from_row(row: &BriefingRow) -> AppResult<Briefing> {
    Briefing::from_json(&Value::Object(row.body.clone()))
        .ok_or_else(|| AppError::Internal(format!("briefing {} of {} {}: its kept body is not a briefing", row.id, row.department, row.day)))
}
