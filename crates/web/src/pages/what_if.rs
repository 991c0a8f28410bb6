//! The what-if on the need page: for an open need attached to its case's plan, which milestones
//! it holds, when it is expected to resolve and why, and "若此诉求于 T 解决，首批产出移至 D" /
//! "if this need resolves at T, first output moves to D" — T is now unless the officer picks
//! another time (`?what_if=2020-02-10T08:00`, UTC+8). Wording only: `App::need_in_plan` decides.

use super::ui::{Lang, time};
use bangfu_app::plans::Expected;
use bangfu_app::{Actor, App};
use chrono::{DateTime, NaiveDateTime, Utc};

/// What the need page shows of the plan.
pub struct WhatIfSection {
    /// The milestones the need holds, in the page's language.
    pub milestones: String,
    /// When it is expected to resolve, and why.
    pub expected: String,
    /// Whether it decides first output now.
    pub critical: bool,
    /// "若此诉求于 T 解决，首批产出移至 D".
    pub sentence: String,
    /// How far that is from first output as now expected.
    pub moved: String,
    /// T as the time input shows it: 2020-02-10T08:00.
    pub input_value: String,
}


/// A time picked on the page: `2020-02-10T08:00` (a datetime-local field, at UTC+8) or RFC 3339.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").ok()?;
    bangfu_core::china_time::from_local(naive)
}

fn hours(lang: Lang, h: f64) -> String {
    lang.hours((h * 10.0).round() / 10.0)
}

/// The section for need `need_id`, or `None` when it holds no milestone of a plan the actor
/// may see (or is closed).
pub async fn section(app: &App, actor: &Actor, need_id: i64, at: Option<DateTime<Utc>>, now: DateTime<Utc>, lang: Lang) -> Option<WhatIfSection> {
    let in_plan = app.need_in_plan(actor, need_id, at, now).await.ok()??;
    let milestones = in_plan.milestones.iter().map(|(_, name)| super::gantt::name_in(name, lang).to_string()).collect::<Vec<_>>().join(lang.pick("、", ", "));
    let resolves = in_plan.blocker.resolves_at.map(|t| time(t.timestamp_millis())).unwrap_or_default();
    let expected = match (in_plan.blocker.expected, lang) {
        (Expected::Candidate { lead_time_h, .. }, Lang::Zh) => format!("预计 {resolves} 解决（按最优候选用时 {} 推算）", hours(lang, lead_time_h)),
        (Expected::Candidate { lead_time_h, .. }, Lang::En) => format!("expected to resolve {resolves} (its best candidate's lead time, {})", hours(lang, lead_time_h)),
        (Expected::Deadline, Lang::Zh) => format!("预计 {resolves} 解决（尚无可行候选，按期限）"),
        (Expected::Deadline, Lang::En) => format!("expected to resolve {resolves} (no feasible candidate yet: its deadline)"),
        (Expected::ResponseWindow { tier, hours: h }, Lang::Zh) => {
            format!("假定 {resolves} 解决（无候选、无期限，按{}响应时限 {}）", lang.tier(tier.as_str()), hours(lang, h))
        }
        (Expected::ResponseWindow { tier, hours: h }, Lang::En) => {
            format!("assumed to resolve {resolves} (no candidate, no deadline: the {} response window, {})", lang.tier(tier.as_str()), hours(lang, h))
        }
        (Expected::Closed, _) => String::new(),
    };
    let w = in_plan.what_if;
    let (at_text, after_text, before_text) = (time(w.resolves_at.timestamp_millis()), time(w.after.timestamp_millis()), time(w.before.timestamp_millis()));
    let sentence = match lang {
        Lang::Zh => format!("若此诉求于 {at_text} 解决，首批产出移至 {after_text}"),
        Lang::En => format!("If this need resolves at {at_text}, first output moves to {after_text}"),
    };
    let shift = hours(lang, w.moved_h().abs());
    // Less than a minute is no move at the minutes shown.
    let moved_h = if w.moved_h().abs() < 1.0 / 60.0 { 0.0 } else { w.moved_h() };
    let moved = match (moved_h, lang) {
        (m, Lang::Zh) if m < 0.0 => format!("比当前预计（{before_text}）提前 {shift}"),
        (m, Lang::En) if m < 0.0 => format!("{shift} earlier than now expected ({before_text})"),
        (m, Lang::Zh) if m > 0.0 => format!("比当前预计（{before_text}）推迟 {shift}"),
        (m, Lang::En) if m > 0.0 => format!("{shift} later than now expected ({before_text})"),
        (_, Lang::Zh) => format!("与当前预计（{before_text}）相同"),
        (_, Lang::En) => format!("the same as now expected ({before_text})"),
    };
    let input_value = bangfu_core::china_time::at(w.resolves_at).format("%Y-%m-%dT%H:%M").to_string();
    Some(WhatIfSection { milestones, expected, critical: in_plan.critical, sentence, moved, input_value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picked_time_is_read_at_utc_plus_8() {
        assert_eq!(parse_time("2020-02-10T08:00").unwrap().to_rfc3339(), "2020-02-10T00:00:00+00:00");
        assert_eq!(parse_time("2020-02-10T08:00:00+08:00").unwrap().to_rfc3339(), "2020-02-10T00:00:00+00:00");
        assert!(parse_time("tomorrow").is_none());
    }
}
