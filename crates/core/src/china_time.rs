//! China Standard Time, UTC+8 all year (no daylight saving): the one offset at which bangfu shows
//! times, counts days (returns, briefings, the dates of letters, quiet hours) and reads the times
//! people type. Times are stored as UTC; this is the only place the offset is written down.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeDelta, Utc};

/// UTC+8 in seconds.
pub const OFFSET_S: i32 = 8 * 3600;
/// UTC+8 in milliseconds, for times kept as milliseconds since the epoch.
pub const OFFSET_MS: i64 = OFFSET_S as i64 * 1000;

/// The offset.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(OFFSET_S) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// A moment as China's clocks show it.
pub fn at(moment: DateTime<Utc>) -> DateTime<FixedOffset> {
    moment.with_timezone(&CHINA)
}

/// The calendar day in China of a moment.
pub fn day(moment: DateTime<Utc>) -> NaiveDate {
    at(moment).date_naive()
}

/// The moment a wall-clock time in China names (one at most: a fixed offset has no gaps or
/// repeats); `None` only at the ends of the calendar.
pub fn from_local(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    local.checked_sub_signed(TimeDelta::seconds(i64::from(OFFSET_S))).map(|t| t.and_utc())
}

/// A moment to the minute as China's clocks show it: `2020-02-13 08:30`.
pub fn minute(moment: DateTime<Utc>) -> String {
    at(moment).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_is_eight_hours_ahead_of_utc() {
        let moment = DateTime::parse_from_rfc3339("2020-02-13T16:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(at(moment).to_rfc3339(), "2020-02-14T00:30:00+08:00");
        assert_eq!(day(moment), NaiveDate::from_ymd_opt(2020, 2, 14).unwrap());
        assert_eq!(minute(moment), "2020-02-14 00:30");
        let local = NaiveDateTime::parse_from_str("2020-02-14 00:30", "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(from_local(local), Some(moment));
        assert_eq!(OFFSET_MS, 28_800_000);
    }
}
