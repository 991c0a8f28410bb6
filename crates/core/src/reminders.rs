//! Reminders of an approval nearing its deadline (审批临期提醒) as arithmetic: the thresholds
//! before a deadline at which the green channel's department is reminded (24 h and 4 h by
//! default, `bangfu serve --approval-reminders 24h,4h`), and which reminder, if any, is due for
//! an undecided approval at `now`.
//!
//! One reminder per approval and threshold, and only the tightest threshold crossed: a pass that
//! finds 3 h left sends the 4 h reminder and not the 24 h one it missed (a server that was down,
//! an approval whose deadline was set close). A threshold already crossed when the approval was
//! opened is not reminded of (its opener chose that deadline), and nothing is sent once the
//! deadline has passed: the reminder is of a deadline still ahead. Time is a parameter.

use chrono::{DateTime, TimeDelta, Utc};
use std::fmt;

/// How long before a deadline to remind, longest first, each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderThresholds(Vec<TimeDelta>);

impl Default for ReminderThresholds {
    /// 24 h (the day before: time to chase the agency) and 4 h (the last working hours).
    fn default() -> Self {
        ReminderThresholds(vec![TimeDelta::hours(24), TimeDelta::hours(4)])
    }
}

impl ReminderThresholds {
    /// Parses `24h,4h` (units d, h, m; at least one, each positive, no repeats); `none` for no
    /// reminders.
    pub fn parse(text: &str) -> Result<ReminderThresholds, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("none") {
            return Ok(ReminderThresholds(Vec::new()));
        }
        let mut thresholds = Vec::new();
        for item in text.split(',').map(str::trim) {
            let threshold = crate::escalation::parse_duration(item)
                .ok_or_else(|| format!("reminder threshold {item:?} is not a duration — write 24h,4h (units d, h, m), or none"))?;
            if thresholds.contains(&threshold) {
                return Err(format!("reminder threshold {item:?} is given twice"));
            }
            thresholds.push(threshold);
        }
        thresholds.sort_by(|a, b| b.cmp(a));
        Ok(ReminderThresholds(thresholds))
    }

    /// Longest first.
    pub fn as_slice(&self) -> &[TimeDelta] {
        &self.0
    }

    /// The longest threshold: only deadlines closer than this to `now` can have a reminder due.
    pub fn longest(&self) -> Option<TimeDelta> {
        self.0.first().copied()
    }
}

impl fmt::Display for ReminderThresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let items: Vec<String> = self.0.iter().map(|t| duration_label(*t)).collect();
        f.write_str(&items.join(","))
    }
}

/// `24h`, `90m`, `2d`.
fn duration_label(t: TimeDelta) -> String {
    if t.num_minutes() % (24 * 60) == 0 && t.num_days() > 1 {
        format!("{}d", t.num_days())
    } else if t.num_minutes() % 60 == 0 {
        format!("{}h", t.num_hours())
    } else {
        format!("{}m", t.num_minutes())
    }
}

/// A threshold as officials read it: `24小时`, `30分钟`, `2天`.
pub fn threshold_zh(t: TimeDelta) -> String {
    if t.num_minutes() % (24 * 60) == 0 && t.num_days() > 1 {
        format!("{}天", t.num_days())
    } else if t.num_minutes() % 60 == 0 {
        format!("{}小时", t.num_hours())
    } else {
        format!("{}分钟", t.num_minutes())
    }
}

/// The reminder due at `now` for an undecided approval opened at `opened_at` with its deadline
/// at `deadline`, given the thresholds already reminded of: the tightest threshold crossed
/// (less than it left), unless that or a tighter one was sent, it was crossed before the
/// approval was opened, or the deadline has passed.
pub fn reminder_due(
    thresholds: &ReminderThresholds,
    opened_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    sent: &[TimeDelta],
) -> Option<TimeDelta> {
    if now >= deadline {
        return None;
    }
    let left = deadline - now;
    let tightest = thresholds.as_slice().iter().copied().filter(|t| left <= *t).min()?;
    if sent.iter().any(|s| *s <= tightest) || deadline - tightest <= opened_at {
        return None;
    }
    Some(tightest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 26, 0, 0, 0).unwrap() + TimeDelta::hours(h)
    }

    #[test]
    fn an_approval_is_reminded_a_day_before_and_four_hours_before_its_deadline_once_each() {
        let thresholds = ReminderThresholds::default();
        let (opened, deadline) = (at(0), at(72));
        assert_eq!(reminder_due(&thresholds, opened, deadline, at(47), &[]), None, "25 h left: nothing yet");
        assert_eq!(reminder_due(&thresholds, opened, deadline, at(48), &[]), Some(TimeDelta::hours(24)), "24 h left");
        let day = [TimeDelta::hours(24)];
        assert_eq!(reminder_due(&thresholds, opened, deadline, at(50), &day), None, "sent already");
        assert_eq!(reminder_due(&thresholds, opened, deadline, at(68), &day), Some(TimeDelta::hours(4)), "4 h left");
        let both = [TimeDelta::hours(24), TimeDelta::hours(4)];
        assert_eq!(reminder_due(&thresholds, opened, deadline, at(71), &both), None);
        assert_eq!(reminder_due(&thresholds, opened, deadline, at(72), &[]), None, "the deadline has passed");
    }

    #[test]
    fn a_pass_that_finds_little_time_left_sends_only_the_tightest_reminder() {
        let thresholds = ReminderThresholds::default();
        assert_eq!(reminder_due(&thresholds, at(0), at(72), at(70), &[]), Some(TimeDelta::hours(4)));
        // And the 24 h reminder it skipped is not sent after the 4 h one.
        assert_eq!(reminder_due(&thresholds, at(0), at(72), at(71), &[TimeDelta::hours(4)]), None);
    }

    #[test]
    fn a_threshold_already_crossed_when_the_approval_was_opened_is_not_reminded_of() {
        let thresholds = ReminderThresholds::default();
        // Opened with 10 h left: no 24 h reminder; the 4 h one comes.
        assert_eq!(reminder_due(&thresholds, at(0), at(10), at(1), &[]), None);
        assert_eq!(reminder_due(&thresholds, at(0), at(10), at(6), &[]), Some(TimeDelta::hours(4)));
    }

    #[test]
    fn thresholds_parse_longest_first_and_wrong_ones_say_how_to_write_them() {
        assert_eq!(ReminderThresholds::parse("4h, 2d,30m").unwrap().to_string(), "2d,4h,30m");
        assert_eq!(ReminderThresholds::parse("none").unwrap().longest(), None);
        assert!(ReminderThresholds::parse("4 hours").unwrap_err().contains("24h,4h"));
        assert!(ReminderThresholds::parse("4h,4h").unwrap_err().contains("twice"));
        assert_eq!(ReminderThresholds::default().to_string(), "24h,4h");
        assert_eq!(threshold_zh(TimeDelta::hours(24)), "24小时");
        assert_eq!(threshold_zh(TimeDelta::minutes(30)), "30分钟");
    }
}
