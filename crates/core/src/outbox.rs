//! Notifications to the outside world (issue 15) as arithmetic: the kinds of channel and of
//! event, the retry schedule of a message that failed (immediately, then about 5 s, 5 min,
//! 30 min, 2 h, 4 h, 8 h … and no more once a day has passed since the change: a dead letter),
//! a department's quiet hours at UTC+8 (escalations go all the same), and a robot's rate limit
//! (20 messages a minute: when the next may go).
//!
//! Times are parameters; nothing here reads the clock or sends anything.

use crate::china_time;
use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};

/// Where a department's messages go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChannelKind {
    /// 企业微信 group robot: JSON to its webhook URL (`…/cgi-bin/webhook/send?key=KEY`).
    Wecom,
    /// 钉钉 custom robot: JSON to its URL, signed with HMAC-SHA256 of `timestamp + "\n" + secret`.
    Dingtalk,
    /// E-mail over SMTP.
    Email,
    /// Any HTTP endpoint, signed per the Standard Webhooks specification.
    Webhook,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [ChannelKind::Wecom, ChannelKind::Dingtalk, ChannelKind::Email, ChannelKind::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Wecom => "wecom",
            ChannelKind::Dingtalk => "dingtalk",
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ChannelKind::Wecom => "企业微信群机器人",
            ChannelKind::Dingtalk => "钉钉群机器人",
            ChannelKind::Email => "电子邮件",
            ChannelKind::Webhook => "Webhook",
        }
    }

    pub fn parse(text: &str) -> Result<ChannelKind, String> {
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim())
            .ok_or_else(|| format!("channel kind {text:?} is not known — use wecom, dingtalk, email or webhook"))
    }

    /// Whether the receiving service limits messages per minute (the group robots: 20 a
    /// minute), so that several events due together are sent as one message.
    pub fn is_robot(self) -> bool {
        matches!(self, ChannelKind::Wecom | ChannelKind::Dingtalk)
    }
}

/// How a robot's messages are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageFormat {
    /// Plain text, with mentions by mobile number.
    #[default]
    Text,
    /// 企业微信's or 钉钉's markdown: a heading, the lines, a link to click.
    Markdown,
}

impl MessageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageFormat::Text => "text",
            MessageFormat::Markdown => "markdown",
        }
    }

    pub fn parse(text: &str) -> Result<MessageFormat, String> {
        match text.trim() {
            "" | "text" => Ok(MessageFormat::Text),
            "markdown" => Ok(MessageFormat::Markdown),
            other => Err(format!("format {other:?} is not known — use text or markdown")),
        }
    }
}

/// What happened, as a department chooses what it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A need was reported and routed to the department.
    NeedNew,
    /// A provider was chosen (or switched to) for a need the department owns.
    NeedSelected,
    /// A better provider was found for a need the department owns.
    SwitchProposed,
    /// A need was broadcast to the department: put forward providers.
    Broadcast,
    /// A stalled need moved up to the department (上报).
    Escalated,
    /// A need past the province's window was flagged for supervision (督办).
    Supervised,
    /// A letter (公函) was drafted for the department to send.
    LetterDrafted,
    /// A letter (公函) was sent to the department.
    LetterSent,
    /// A letter the department sent was answered.
    LetterAnswered,
    /// A daily return came in late, or did not come.
    ReturnLate,
    /// A provider answered a need the department owns (accepted, declined, quoted).
    ProviderAnswered,
    /// The enterprise changed a need the department owns: reopened, withdrew, commented.
    NeedChanged,
    /// The department's daily briefing (每日专报) was kept, at 08:00 UTC+8.
    Briefing,
    /// An approval of the department's green channel nears its deadline (审批临期).
    ApprovalDue,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::NeedNew,
        EventKind::NeedSelected,
        EventKind::SwitchProposed,
        EventKind::Broadcast,
        EventKind::Escalated,
        EventKind::Supervised,
        EventKind::LetterDrafted,
        EventKind::LetterSent,
        EventKind::LetterAnswered,
        EventKind::ReturnLate,
        EventKind::ProviderAnswered,
        EventKind::NeedChanged,
        EventKind::Briefing,
        EventKind::ApprovalDue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NeedNew => "need.new",
            EventKind::NeedSelected => "need.selected",
            EventKind::SwitchProposed => "need.switch_proposed",
            EventKind::Broadcast => "need.broadcast",
            EventKind::Escalated => "need.escalated",
            EventKind::Supervised => "need.supervised",
            EventKind::LetterDrafted => "letter.drafted",
            EventKind::ReturnLate => "return.late",
            EventKind::ProviderAnswered => "need.answered",
            EventKind::NeedChanged => "need.changed",
            EventKind::Briefing => "briefing.daily",
            EventKind::LetterSent => "letter.sent",
            EventKind::LetterAnswered => "letter.answered",
            EventKind::ApprovalDue => "approval.due",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EventKind::NeedNew => "新诉求",
            EventKind::NeedSelected => "选定提供方",
            EventKind::SwitchProposed => "建议改选",
            EventKind::Broadcast => "协查请求",
            EventKind::Escalated => "上报",
            EventKind::Supervised => "督办",
            EventKind::LetterDrafted => "公函待发",
            EventKind::ReturnLate => "日报迟报/缺报",
            EventKind::ProviderAnswered => "提供方答复",
            EventKind::NeedChanged => "诉求变更",
            EventKind::Briefing => "每日专报",
            EventKind::LetterSent => "来函",
            EventKind::LetterAnswered => "复函",
            EventKind::ApprovalDue => "审批临期",
        }
    }

    pub fn parse(text: &str) -> Result<EventKind, String> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == text.trim()).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("event {text:?} is not known — use some of {}", known.join(", "))
        })
    }

    /// A comma-separated list (empty: every event), without repeats, in the order of [`EventKind::ALL`].
    pub fn parse_list(text: &str) -> Result<Vec<EventKind>, String> {
        let mut kinds = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            kinds.push(EventKind::parse(part)?);
        }
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    }

    /// Escalations go out in quiet hours too.
    pub fn is_escalation(self) -> bool {
        matches!(self, EventKind::Escalated | EventKind::Supervised)
    }
}

/// Whether a channel that chose `chosen` (empty: everything) receives `event`.
pub fn receives(chosen: &[EventKind], event: EventKind) -> bool {
    chosen.is_empty() || chosen.contains(&event)
}

/// The waits after each failed attempt: after the first failure about 5 s, then 5 min, 30 min,
/// 2 h, 4 h, and 8 h from then on (the first attempt is made at once).
pub const RETRY_WAITS_S: [i64; 6] = [5, 5 * 60, 30 * 60, 2 * 3600, 4 * 3600, 8 * 3600];

/// A message still failing this long after its change is given up (a dead letter).
pub const GIVE_UP_AFTER: TimeDelta = TimeDelta::hours(24);

/// Where a message of the outbox stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageStatus {
    /// To be sent (again, after a failed attempt).
    Pending,
    Sent,
    /// Given up: a dead letter.
    Dead,
}
crate::model::named_enum!(MessageStatus { Pending = "pending", Sent = "sent", Dead = "dead" });

/// How one attempt to deliver a message ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttemptOutcome {
    Sent,
    /// Failed; the message is tried again.
    Failed,
    /// Failed, and the message was given up.
    Dead,
}
crate::model::named_enum!(AttemptOutcome { Sent = "sent", Failed = "failed", Dead = "dead" });

/// What follows a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this moment.
    RetryAt(DateTime<Utc>),
    /// Give up: the message is a dead letter.
    Dead,
}

/// After the `attempts`-th attempt (1 for the first) of a message made at `created_at` failed at
/// `failed_at`: when to try again, or to give up because that would be more than
/// [`GIVE_UP_AFTER`] after the change.
pub fn after_failure(created_at: DateTime<Utc>, attempts: u32, failed_at: DateTime<Utc>) -> AfterFailure {
    let index = (attempts.max(1) as usize - 1).min(RETRY_WAITS_S.len() - 1);
    let next = failed_at + TimeDelta::seconds(RETRY_WAITS_S[index]);
    if next > created_at + GIVE_UP_AFTER { AfterFailure::Dead } else { AfterFailure::RetryAt(next) }
}


/// Quiet hours of a department at UTC+8, from `from` to `to` (across midnight when `to` is
/// earlier: 22:00–07:00). Messages made inside wait for the end; escalations do not wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`.
    pub fn parse(text: &str) -> Result<QuietHours, String> {
        let wrong = || format!("quiet hours {text:?} are not HH:MM-HH:MM at UTC+8 (for example 22:00-07:00)");
        let (from, to) = text.trim().split_once('-').ok_or_else(wrong)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| wrong());
        let (from, to) = (time(from)?, time(to)?);
        if from == to {
            return Err(format!("quiet hours {text:?} start and end at the same minute — give two different times, or none"));
        }
        Ok(QuietHours { from, to })
    }

    /// Minutes after midnight (UTC+8) of the start and the end, as stored.
    pub fn minutes(self) -> (i64, i64) {
        let m = |t: NaiveTime| i64::from(t.hour() * 60 + t.minute());
        (m(self.from), m(self.to))
    }

    /// From stored minutes.
    pub fn from_minutes(from: i64, to: i64) -> Option<QuietHours> {
        let t = |m: i64| NaiveTime::from_hms_opt(u32::try_from(m / 60).ok()?, u32::try_from(m % 60).ok()?, 0);
        Some(QuietHours { from: t(from)?, to: t(to)? })
    }

    pub fn label(self) -> String {
        format!("{}-{}", self.from.format("%H:%M"), self.to.format("%H:%M"))
    }

    /// When a message made at `now` may go: `now`, or the end of the quiet hours it falls in.
    pub fn release(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = china_time::at(now);
        let time = local.time();
        let inside = if self.from < self.to { time >= self.from && time < self.to } else { time >= self.from || time < self.to };
        if !inside {
            return now;
        }
        let day = if time >= self.to { local.date_naive() + TimeDelta::days(1) } else { local.date_naive() };
        china_time::from_local(day.and_time(self.to)).unwrap_or(now)
    }
}

/// When the next message may go at `now` to a receiver that takes at most `limit` in any
/// `window`, given the moments of the messages sent to it (any order): `now` if fewer than
/// `limit` were sent in the window before it, else the moment the oldest of the last `limit`
/// leaves the window.
pub fn next_send_slot(sent: &[DateTime<Utc>], now: DateTime<Utc>, limit: usize, window: TimeDelta) -> DateTime<Utc> {
    let mut recent: Vec<DateTime<Utc>> = sent.iter().copied().filter(|t| *t > now - window && *t <= now).collect();
    if recent.len() < limit || limit == 0 {
        return now;
    }
    recent.sort();
    recent[recent.len() - limit] + window
}

/// The group robots' limit: 20 messages a minute.
pub const ROBOT_LIMIT: usize = 20;
pub const ROBOT_WINDOW: TimeDelta = TimeDelta::minutes(1);

/// A moment as officials read it: `2020年1月31日 18:00` at UTC+8.
pub fn china_minute(at: DateTime<Utc>) -> String {
    china_time::at(at).format("%Y年%-m月%-d日 %H:%M").to_string()
}

crate::model::wire_name_serialize!(ChannelKind);
crate::model::wire_name_serialize!(MessageFormat);
crate::model::wire_name_serialize!(EventKind);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 26, h, m, s).unwrap()
    }

    #[test]
    fn a_failed_message_is_tried_again_after_5_s_5_min_30_min_2_h_then_longer() {
        let made = at(0, 0, 0);
        let mut now = made;
        let mut waits = Vec::new();
        for attempt in 1.. {
            match after_failure(made, attempt, now) {
                AfterFailure::RetryAt(next) => {
                    waits.push((next - now).num_seconds());
                    now = next;
                }
                AfterFailure::Dead => break,
            }
        }
        assert_eq!(waits, [5, 300, 1800, 7200, 14400, 28800, 28800]);
        assert!(now <= made + GIVE_UP_AFTER && now + TimeDelta::hours(8) > made + GIVE_UP_AFTER, "the last try is inside the day");
    }

    #[test]
    fn a_message_failing_for_more_than_a_day_is_a_dead_letter() {
        let made = at(0, 0, 0);
        assert_eq!(after_failure(made, 1, made + TimeDelta::hours(24)), AfterFailure::Dead);
        assert_eq!(after_failure(made, 1, made), AfterFailure::RetryAt(made + TimeDelta::seconds(5)));
    }

    #[test]
    fn quiet_hours_across_midnight_hold_a_message_until_they_end() {
        let quiet = QuietHours::parse("22:00-07:00").unwrap();
        // 23:30 UTC+8 is 15:30 UTC; it waits until 07:00 UTC+8 the next day (23:00 UTC).
        assert_eq!(quiet.release(at(15, 30, 0)), at(23, 0, 0));
        // 06:00 UTC+8 (22:00 UTC the day before) waits until 07:00 UTC+8 of the same day.
        let early = Utc.with_ymd_and_hms(2020, 1, 25, 22, 0, 0).unwrap();
        assert_eq!(quiet.release(early), at(23, 0, 0) - TimeDelta::days(1));
        // 12:00 UTC+8 goes at once.
        assert_eq!(quiet.release(at(4, 0, 0)), at(4, 0, 0));
        assert_eq!(quiet.label(), "22:00-07:00");
        assert_eq!(QuietHours::from_minutes(22 * 60, 7 * 60), Some(quiet));
    }

    #[test]
    fn quiet_hours_inside_one_day_end_the_same_day() {
        let quiet = QuietHours::parse("12:00-14:00").unwrap();
        assert_eq!(quiet.release(at(4, 30, 0)), at(6, 0, 0));
        assert_eq!(quiet.release(at(6, 0, 0)), at(6, 0, 0), "the end itself is outside");
    }

    #[test]
    fn wrong_quiet_hours_are_refused_with_an_example() {
        assert!(QuietHours::parse("22-7").unwrap_err().contains("22:00-07:00"));
        assert!(QuietHours::parse("08:00-08:00").is_err());
    }

    #[test]
    fn a_robot_takes_twenty_messages_a_minute_and_the_twenty_first_waits() {
        let now = at(1, 0, 0);
        let sent: Vec<_> = (0..20).map(|i| now - TimeDelta::seconds(59 - i)).collect();
        assert_eq!(next_send_slot(&sent[1..], now, 20, ROBOT_WINDOW), now, "nineteen in the minute: go");
        assert_eq!(next_send_slot(&sent, now, 20, ROBOT_WINDOW), now + TimeDelta::seconds(1), "twenty: wait for the oldest to leave");
        let old = [now - TimeDelta::minutes(5); 30];
        assert_eq!(next_send_slot(&old, now, 20, ROBOT_WINDOW), now);
    }

    #[test]
    fn event_lists_parse_and_name_the_known_events_when_wrong() {
        assert_eq!(EventKind::parse_list("need.escalated, need.new,need.new").unwrap(), [EventKind::NeedNew, EventKind::Escalated]);
        assert_eq!(EventKind::parse_list("").unwrap(), []);
        let error = EventKind::parse_list("need.nwe").unwrap_err();
        assert!(error.contains("need.nwe") && error.contains("need.new"), "{error}");
        assert!(receives(&[], EventKind::ReturnLate));
        assert!(!receives(&[EventKind::NeedNew], EventKind::ReturnLate));
        assert!(ChannelKind::parse("sms").unwrap_err().contains("wecom"));
    }

    #[test]
    fn times_are_written_at_utc_plus_8() {
        assert_eq!(china_minute(Utc.with_ymd_and_hms(2020, 1, 31, 10, 0, 0).unwrap()), "2020年1月31日 18:00");
    }
}
