//! Escalation (上报 / 督办): a need its owner has not acted on inside the owner tier's response
//! window moves up one tier, with a recorded reason; a need already at the top is flagged once for
//! supervision by the provincial leadership.
//!
//! The rules, as [`escalations_due`] applies them in one pass at `now`:
//! - the window starts when the need reaches its owner (`reached_owner_at`) and lasts as long as
//!   [`ResponseWindows`] says for the owner's tier (defaults: county 24 h, city 48 h, province 72 h);
//!   a need is past its window when `now` is strictly after `reached_owner_at + window`;
//! - only needs still `open` escalate: a selected or started need has been acted on, a resolved or
//!   cancelled one is closed;
//! - the need moves to the department directly above its owner: a county's city, or its province
//!   when it has none (济源, 仙桃); a city's province. A municipality (北京, 天津, 上海, 重庆) is
//!   city and province at once, so a district escalates straight to it and nothing is above it;
//! - one tier per pass, and **the new window starts at `now`**, the moment of the pass that moved
//!   it, not when the old window ran out: the new owner hears of the need only now, and a pass that
//!   runs late (a server down over a weekend) must not hand it a window that has already expired;
//! - a need whose owner has no department above is flagged for supervision (督办) once; a need
//!   already flagged is left alone.
//!
//! So a second pass at the same `now`, over the needs updated with [`OpenNeed::after`], returns
//! nothing. Results are ordered by need id.

use crate::ids::NeedId;
use crate::model::{Bilingual, NeedStatus, Tier};
use crate::region::{Level, RegionCode, RegionTree};
use crate::routing::department_name;
use chrono::{DateTime, TimeDelta, Utc};
use std::fmt;

/// How long a department of each tier has to act on a need that reached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseWindows {
    pub county: TimeDelta,
    pub city: TimeDelta,
    pub province: TimeDelta,
}

impl Default for ResponseWindows {
    fn default() -> Self {
        ResponseWindows { county: TimeDelta::hours(24), city: TimeDelta::hours(48), province: TimeDelta::hours(72) }
    }
}

impl ResponseWindows {
    pub fn window(&self, tier: Tier) -> TimeDelta {
        match tier {
            Tier::County => self.county,
            Tier::City => self.city,
            Tier::Province => self.province,
        }
    }

    fn window_mut(&mut self, tier: Tier) -> &mut TimeDelta {
        match tier {
            Tier::County => &mut self.county,
            Tier::City => &mut self.city,
            Tier::Province => &mut self.province,
        }
    }

    /// Parses `tier=duration` pairs such as `county=24h,city=48h,province=72h` (the default, and
    /// what [`Display`](fmt::Display) writes). `local` is accepted for `county`. A duration is a
    /// whole number of `d`ays, `h`ours or `m`inutes, above zero. Tiers left out keep the default.
    pub fn parse(text: &str) -> Result<ResponseWindows, WindowsError> {
        ResponseWindows::default().with_overrides(text)
    }

    /// These windows with the `tier=duration` pairs of `text` written over them.
    pub fn with_overrides(&self, text: &str) -> Result<ResponseWindows, WindowsError> {
        let mut windows = *self;
        let mut seen: Vec<Tier> = Vec::new();
        for item in text.split([',', ';', '\n']).map(str::trim).filter(|item| !item.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(WindowsError::MissingEquals { item: item.to_string() });
            };
            let (key, value) = (key.trim(), value.trim());
            let tier = match key {
                "local" => Tier::County,
                other => Tier::parse(other).map_err(|_| WindowsError::UnknownTier { tier: other.to_string() })?,
            };
            let window = parse_duration(value).ok_or_else(|| WindowsError::BadDuration { tier, duration: value.to_string() })?;
            if seen.contains(&tier) {
                return Err(WindowsError::Repeated { tier });
            }
            seen.push(tier);
            *windows.window_mut(tier) = window;
        }
        Ok(windows)
    }
}

impl fmt::Display for ResponseWindows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |d: TimeDelta| {
            if d.num_minutes() % 60 == 0 { format!("{}h", d.num_hours()) } else { format!("{}m", d.num_minutes()) }
        };
        write!(f, "county={},city={},province={}", short(self.county), short(self.city), short(self.province))
    }
}

/// `24h`, `2d`, `90m` → a positive duration; anything else → none.
pub(crate) fn parse_duration(text: &str) -> Option<TimeDelta> {
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    if number <= 0 || number > 365 * 24 * 60 {
        return None;
    }
    match unit {
        'd' => Some(TimeDelta::days(number)),
        'h' => Some(TimeDelta::hours(number)),
        'm' => Some(TimeDelta::minutes(number)),
        _ => None,
    }
}

/// Why a response-window text did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowsError {
    MissingEquals { item: String },
    UnknownTier { tier: String },
    BadDuration { tier: Tier, duration: String },
    Repeated { tier: Tier },
}

impl fmt::Display for WindowsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowsError::MissingEquals { item } => write!(
                f,
                "response window item {item:?} has no `=` — write tier=duration pairs such as county=24h,city=48h,province=72h"
            ),
            WindowsError::UnknownTier { tier } => {
                write!(f, "response windows: unknown tier {tier:?} — expected one of: county, city, province")
            }
            WindowsError::BadDuration { tier, duration } => write!(
                f,
                "response windows: {tier}={duration} is not a duration — give a whole number above zero with d, h or m, such as 24h"
            ),
            WindowsError::Repeated { tier } => write!(f, "response windows: tier {tier} is given twice — give each tier once"),
        }
    }
}

impl std::error::Error for WindowsError {}

/// What an escalation pass needs to know of a need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenNeed {
    pub id: NeedId,
    /// The region of the department that answers for the need now.
    pub owner: RegionCode,
    /// The owner's tier; it chooses the response window.
    pub owner_tier: Tier,
    /// When the need reached its owner: the window starts here.
    pub reached_owner_at: DateTime<Utc>,
    pub status: NeedStatus,
    /// Already flagged for leadership supervision (督办).
    pub supervised: bool,
}

impl OpenNeed {
    /// When the owner's window runs out.
    pub fn deadline(&self, windows: &ResponseWindows) -> DateTime<Utc> {
        self.reached_owner_at + windows.window(self.owner_tier)
    }

    /// The need as it is once `escalation` has been performed.
    pub fn after(&self, escalation: &Escalation) -> OpenNeed {
        let mut need = self.clone();
        match escalation.step {
            EscalationStep::Escalate { to, to_tier, window_starts, .. } => {
                need.owner = to;
                need.owner_tier = to_tier;
                need.reached_owner_at = window_starts;
            }
            EscalationStep::Supervise => need.supervised = true,
        }
        need
    }
}

/// What to do with a need whose window has run out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscalationStep {
    /// 上报: the need moves to the department `to`, whose window runs from `window_starts` to `deadline`.
    Escalate { to: RegionCode, to_tier: Tier, window_starts: DateTime<Utc>, deadline: DateTime<Utc> },
    /// 督办: nothing is above the owner; the provincial leadership is asked to supervise.
    Supervise,
}

/// One escalation to perform, with its reason in Chinese and English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub need: NeedId,
    /// The owner whose window ran out, and its tier.
    pub from: RegionCode,
    pub from_tier: Tier,
    /// When that window ran out.
    pub expired_at: DateTime<Utc>,
    pub step: EscalationStep,
    pub reason: Bilingual,
}

/// Why a pass could not decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EscalationError {
    /// The need's owner is not a region of the tree.
    UnknownOwner { need: NeedId, owner: RegionCode },
}

impl fmt::Display for EscalationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EscalationError::UnknownOwner { need, owner } => {
                write!(f, "need {need} is owned by region {owner}, which is not in the region tree")
            }
        }
    }
}

impl std::error::Error for EscalationError {}

/// The department directly above `owner`'s and its tier: a county's city (its province when it has
/// no city), a city's province; a municipality's districts go to the municipality, a province-level
/// tier. None above a province or a municipality; none for an unknown region.
pub fn department_above(tree: &RegionTree, owner: RegionCode) -> Option<(RegionCode, Tier)> {
    let own = tree.department_region(owner);
    let city = tree.city_of(own).map(|r| r.code).filter(|c| *c != own);
    let province = tree.province_of(own).map(|r| r.code).filter(|p| *p != own);
    let above = city.or(province)?;
    let level = tree.get(above)?.level;
    let tier = if tree.is_municipality(above) || level == Level::Province { Tier::Province } else { Tier::of_level(level) };
    Some((above, tier))
}

/// One escalation pass at `now`: the escalations to perform, by need id.
pub fn escalations_due(
    tree: &RegionTree,
    windows: &ResponseWindows,
    needs: &[OpenNeed],
    now: DateTime<Utc>,
) -> Result<Vec<Escalation>, EscalationError> {
    let mut due = Vec::new();
    for need in needs {
        if need.status != NeedStatus::Open || need.supervised {
            continue;
        }
        let expired_at = need.deadline(windows);
        if now <= expired_at {
            continue;
        }
        if tree.get(need.owner).is_none() {
            return Err(EscalationError::UnknownOwner { need: need.id, owner: need.owner });
        }
        let window = windows.window(need.owner_tier);
        let step = match department_above(tree, need.owner) {
            Some((to, to_tier)) => {
                EscalationStep::Escalate { to, to_tier, window_starts: now, deadline: now + windows.window(to_tier) }
            }
            None => EscalationStep::Supervise,
        };
        let reason = reason(tree, need.owner, window, step);
        due.push(Escalation { need: need.id, from: need.owner, from_tier: need.owner_tier, expired_at, step, reason });
    }
    due.sort_by_key(|e| e.need);
    Ok(due)
}

/// "24 小时" / "24 h"; "90 分钟" / "90 min" when not whole hours.
fn window_text(window: TimeDelta) -> (String, String) {
    if window.num_minutes() % 60 == 0 {
        (format!("{} 小时", window.num_hours()), format!("{} h", window.num_hours()))
    } else {
        (format!("{} 分钟", window.num_minutes()), format!("{} min", window.num_minutes()))
    }
}

fn region_name(tree: &RegionTree, code: RegionCode) -> String {
    let code = tree.department_region(code);
    tree.get(code).map_or_else(|| code.to_string(), |r| r.name.clone())
}

fn reason(tree: &RegionTree, from: RegionCode, window: TimeDelta, step: EscalationStep) -> Bilingual {
    let (window_zh, window_en) = window_text(window);
    let from_zh = department_name(tree, from);
    let from_en = region_name(tree, from);
    match step {
        EscalationStep::Escalate { to, .. } => Bilingual::new(
            format!("{from_zh}超过 {window_zh}未响应，上报{}", department_name(tree, to)),
            format!("{from_en} department did not act within {window_en} — escalated to {}", region_name(tree, to)),
        ),
        EscalationStep::Supervise => Bilingual::new(
            format!("{from_zh}超过 {window_zh}未响应，提请省级领导督办"),
            format!("{from_en} department did not act within {window_en} — flagged for supervision by the provincial leadership (督办)"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn code(c: u32) -> RegionCode {
        RegionCode::new_unchecked(c)
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 26, 1, 0, 0).unwrap() // 09:00 in 曲沃
    }

    fn hours(h: i64) -> TimeDelta {
        TimeDelta::hours(h)
    }

    fn need(id: i64, owner: u32, tier: Tier, reached: DateTime<Utc>) -> OpenNeed {
        OpenNeed { id: NeedId(id), owner: code(owner), owner_tier: tier, reached_owner_at: reached, status: NeedStatus::Open, supervised: false }
    }

    fn pass(needs: &[OpenNeed], now: DateTime<Utc>) -> Vec<Escalation> {
        escalations_due(RegionTree::embedded(), &ResponseWindows::default(), needs, now).unwrap()
    }

    /// A test clock: drives `now` forward step by step, performs every escalation due, checks that
    /// a second pass at the same `now` finds nothing, and records what happened when.
    fn drive(mut needs: Vec<OpenNeed>, start: DateTime<Utc>, step: TimeDelta, steps: usize) -> (Vec<OpenNeed>, Vec<(DateTime<Utc>, Escalation)>) {
        let mut log = Vec::new();
        for i in 0..=steps {
            let now = start + step * i32::try_from(i).unwrap();
            let due = pass(&needs, now);
            for escalation in &due {
                let n = needs.iter_mut().find(|n| n.id == escalation.need).unwrap();
                *n = n.after(escalation);
                log.push((now, escalation.clone()));
            }
            assert_eq!(pass(&needs, now), vec![], "a second pass at {now} must change nothing");
        }
        (needs, log)
    }

    #[test]
    fn a_county_need_climbs_to_the_city_then_the_province_then_is_supervised_once() {
        let (needs, log) = drive(vec![need(1, 141021, Tier::County, t0())], t0(), hours(1), 400);
        let steps: Vec<(i64, Option<u32>, &str)> = log
            .iter()
            .map(|(at, e)| {
                let to = match e.step {
                    EscalationStep::Escalate { to, .. } => Some(to.as_u32()),
                    EscalationStep::Supervise => None,
                };
                ((*at - t0()).num_hours(), to, e.reason.zh.as_str())
            })
            .collect();
        assert_eq!(
            steps,
            [
                (25, Some(141000), "曲沃县工信局超过 24 小时未响应，上报临汾市工信局"),
                (74, Some(140000), "临汾市工信局超过 48 小时未响应，上报山西省工信厅"),
                (147, None, "山西省工信厅超过 72 小时未响应，提请省级领导督办"),
            ]
        );
        assert_eq!(log[0].1.reason.en, "曲沃县 department did not act within 24 h — escalated to 临汾市");
        assert_eq!(log[0].1.expired_at, t0() + hours(24));
        assert_eq!(
            log[0].1.step,
            EscalationStep::Escalate { to: code(141000), to_tier: Tier::City, window_starts: t0() + hours(25), deadline: t0() + hours(73) }
        );
        assert_eq!(
            log[2].1.reason.en,
            "山西省 department did not act within 72 h — flagged for supervision by the provincial leadership (督办)"
        );
        assert_eq!((needs[0].owner, needs[0].owner_tier, needs[0].supervised), (code(140000), Tier::Province, true));
    }

    #[test]
    fn at_the_very_end_of_its_window_a_need_is_still_inside_it() {
        let needs = [need(1, 141021, Tier::County, t0())];
        assert_eq!(pass(&needs, t0() + hours(24)), vec![]);
        assert_eq!(pass(&needs, t0() + hours(24) + TimeDelta::seconds(1)).len(), 1);
    }

    #[test]
    fn a_late_pass_moves_a_need_one_tier_and_starts_the_new_window_at_the_pass() {
        let needs = [need(1, 141021, Tier::County, t0())];
        let now = t0() + hours(24 * 10);
        let due = pass(&needs, now);
        assert_eq!(due.len(), 1);
        assert_eq!(
            due[0].step,
            EscalationStep::Escalate { to: code(141000), to_tier: Tier::City, window_starts: now, deadline: now + hours(48) }
        );
        assert_eq!(pass(&[needs[0].after(&due[0])], now), vec![]);
    }

    #[test]
    fn a_county_without_a_city_escalates_straight_to_its_province() {
        let (_, log) = drive(vec![need(1, 419001, Tier::County, t0())], t0(), hours(1), 200);
        assert_eq!(log[0].1.reason.zh, "济源市工信局超过 24 小时未响应，上报河南省工信厅");
        assert_eq!(log[0].1.reason.en, "济源市 department did not act within 24 h — escalated to 河南省");
        assert!(matches!(log[0].1.step, EscalationStep::Escalate { to_tier: Tier::Province, .. }));
        assert_eq!(log.len(), 2);
        assert_eq!(log[1].1.step, EscalationStep::Supervise);
        assert_eq!((log[1].0 - t0()).num_hours(), 25 + 73);
    }

    #[test]
    fn a_municipal_district_escalates_to_the_municipality_which_has_nothing_above() {
        assert_eq!(department_above(RegionTree::embedded(), code(110106)), Some((code(110000), Tier::Province)));
        assert_eq!(department_above(RegionTree::embedded(), code(500229)), Some((code(500000), Tier::Province)));
        assert_eq!(department_above(RegionTree::embedded(), code(110000)), None);
        let (_, log) = drive(vec![need(1, 110106, Tier::County, t0())], t0(), hours(1), 200);
        assert_eq!(log[0].1.reason.zh, "丰台区工信局超过 24 小时未响应，上报北京市工信局");
        assert_eq!(log[1].1.step, EscalationStep::Supervise);
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn the_departments_above_follow_the_tree() {
        let tree = RegionTree::embedded();
        assert_eq!(department_above(tree, code(141021)), Some((code(141000), Tier::City)));
        assert_eq!(department_above(tree, code(141000)), Some((code(140000), Tier::Province)));
        assert_eq!(department_above(tree, code(441900)), Some((code(440000), Tier::Province))); // 东莞
        assert_eq!(department_above(tree, code(429004)), Some((code(420000), Tier::Province))); // 仙桃
        assert_eq!(department_above(tree, code(140000)), None);
        assert_eq!(department_above(tree, code(141099)), None);
    }

    #[test]
    fn needs_acted_on_closed_or_already_supervised_do_not_escalate() {
        let late = t0() + hours(24 * 30);
        for status in [NeedStatus::Selected, NeedStatus::Started, NeedStatus::Resolved, NeedStatus::Cancelled] {
            let n = OpenNeed { status, ..need(1, 141021, Tier::County, t0()) };
            assert_eq!(pass(&[n], late), vec![], "{status}");
        }
        let supervised = OpenNeed { supervised: true, ..need(2, 140000, Tier::Province, t0()) };
        assert_eq!(pass(&[supervised], late), vec![]);
    }

    #[test]
    fn the_window_is_the_owner_tier_s() {
        let needs = [need(1, 141000, Tier::City, t0()), need(2, 140000, Tier::Province, t0())];
        assert_eq!(pass(&needs, t0() + hours(47)), vec![]);
        assert_eq!(pass(&needs, t0() + hours(49)).iter().map(|e| e.need).collect::<Vec<_>>(), [NeedId(1)]);
        assert_eq!(pass(&needs, t0() + hours(73)).len(), 2);
    }

    #[test]
    fn escalations_come_out_by_need_id_whatever_the_input_order() {
        let needs = [
            need(9, 141021, Tier::County, t0()),
            need(3, 140000, Tier::Province, t0() - hours(100)),
            need(5, 441900, Tier::City, t0() - hours(50)),
        ];
        let ids: Vec<NeedId> = pass(&needs, t0() + hours(30)).iter().map(|e| e.need).collect();
        assert_eq!(ids, [NeedId(3), NeedId(5), NeedId(9)]);
    }

    #[test]
    fn many_needs_driven_together_each_escalate_at_most_twice_and_are_supervised_once() {
        let tree = RegionTree::embedded();
        let needs: Vec<OpenNeed> = tree
            .iter()
            .step_by(97)
            .enumerate()
            .map(|(i, r)| {
                let tier = if r.level == Level::Province || tree.is_municipality(tree.department_region(r.code)) {
                    Tier::Province
                } else {
                    Tier::of_level(r.level)
                };
                need(i64::try_from(i).unwrap(), r.code.as_u32(), tier, t0() + TimeDelta::minutes(i64::try_from(i).unwrap() * 7))
            })
            .collect();
        let (after, log) = drive(needs.clone(), t0(), TimeDelta::minutes(30), 2 * 24 * 20);
        for n in &after {
            assert!(n.supervised, "need {} at {} is not supervised", n.id, n.owner);
            assert_eq!(department_above(tree, n.owner), None);
            let steps = log.iter().filter(|(_, e)| e.need == n.id).count();
            assert!((1..=3).contains(&steps), "need {} took {steps} steps", n.id);
            let supervised = log.iter().filter(|(_, e)| e.need == n.id && e.step == EscalationStep::Supervise).count();
            assert_eq!(supervised, 1);
        }
    }

    #[test]
    fn an_unknown_owner_is_an_error_naming_the_need() {
        let err = escalations_due(RegionTree::embedded(), &ResponseWindows::default(), &[need(7, 141099, Tier::County, t0())], t0() + hours(25))
            .unwrap_err();
        assert_eq!(err.to_string(), "need 7 is owned by region 141099, which is not in the region tree");
    }

    #[test]
    fn windows_are_policy_with_partial_overrides() {
        assert_eq!(ResponseWindows::default().to_string(), "county=24h,city=48h,province=72h");
        assert_eq!(ResponseWindows::parse("county=24h,city=48h,province=72h"), Ok(ResponseWindows::default()));
        assert_eq!(
            ResponseWindows::parse("local=12h, province=5d"),
            Ok(ResponseWindows { county: hours(12), province: hours(120), ..ResponseWindows::default() })
        );
        let w = ResponseWindows::parse("city=90m").unwrap();
        assert_eq!(w.city, TimeDelta::minutes(90));
        assert_eq!(ResponseWindows::parse(&w.to_string()), Ok(w));
    }

    #[test]
    fn a_shorter_window_shows_in_the_reason_in_minutes() {
        let windows = ResponseWindows::parse("county=90m").unwrap();
        let due = escalations_due(RegionTree::embedded(), &windows, &[need(1, 141021, Tier::County, t0())], t0() + hours(2)).unwrap();
        assert_eq!(due[0].reason.zh, "曲沃县工信局超过 90 分钟未响应，上报临汾市工信局");
        assert_eq!(due[0].reason.en, "曲沃县 department did not act within 90 min — escalated to 临汾市");
    }

    #[test]
    fn bad_windows_say_what_is_accepted() {
        let cases = [
            ("county", "response window item \"county\" has no `=`"),
            ("nation=24h", "response windows: unknown tier \"nation\""),
            ("county=0h", "response windows: county=0h is not a duration"),
            ("county=24", "response windows: county=24 is not a duration"),
            ("city=-3h", "response windows: city=-3h is not a duration"),
            ("city=1h,city=2h", "response windows: tier city is given twice"),
        ];
        for (text, message) in cases {
            let err = ResponseWindows::parse(text).unwrap_err().to_string();
            assert!(err.starts_with(message), "{text}: {err}");
        }
    }
}
