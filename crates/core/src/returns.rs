//! Daily returns (日报): what an enterprise reports each day for each product it makes —
//! capacity, output, stock and what it shipped — and when that is due. A day is a calendar day at
//! UTC+8; the return of a day is due at [`DUE_HOUR`] o'clock the next morning, the hour the daily
//! briefing (每日专报) is generated from it. A return filed after that is late; a reporting
//! enterprise without a return for a day is missing it. Pure: the moments come as parameters.

use crate::china_time;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// The hour (UTC+8) of the morning after a day at which its returns are due, and at which the
/// daily briefings are generated.
pub const DUE_HOUR: u32 = 8;

/// The moment at which the returns of `day` are due: [`DUE_HOUR`]:00 UTC+8 the next day.
pub fn due_at(day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    let local = next.and_time(NaiveTime::from_hms_opt(DUE_HOUR, 0, 0).unwrap_or_default());
    china_time::from_local(local).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether a return of `day` filed at `filed_at` is late.
pub fn is_late(day: NaiveDate, filed_at: DateTime<Utc>) -> bool {
    filed_at > due_at(day)
}

/// The last day whose returns were due at or before `now` (yesterday at UTC+8 from 08:00 on,
/// the day before yesterday before it).
pub fn last_due_day(now: DateTime<Utc>) -> NaiveDate {
    let today = china_time::day(now);
    let yesterday = today.pred_opt().unwrap_or(today);
    if now >= due_at(yesterday) { yesterday } else { yesterday.pred_opt().unwrap_or(yesterday) }
}

/// Why the figures of a return cannot be taken: each must be a finite number of at least 0, and
/// no more can be shipped than was in stock and made (checked by the caller who knows the stock).
pub fn check_figure(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{name}: {value} must be a number of at least 0"))
    }
}

/// The day named by text written as YYYY-MM-DD.
pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date — write it as 2020-02-13"))
}

/// The days from `first` to `last`, both included.
pub fn days(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |d| *d <= last)
}

/// `day` moved by `n` days.
pub fn add_days(day: NaiveDate, n: i64) -> NaiveDate {
    day.checked_add_signed(Duration::days(n)).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        parse_day(text).unwrap()
    }

    #[test]
    fn a_days_return_is_due_at_eight_the_next_morning_china_time() {
        assert_eq!(due_at(day("2020-02-13")), at("2020-02-14T08:00:00+08:00"));
        assert!(!is_late(day("2020-02-13"), at("2020-02-14T07:59:59+08:00")));
        assert!(is_late(day("2020-02-13"), at("2020-02-14T08:00:01+08:00")));
    }

    #[test]
    fn the_last_due_day_turns_over_at_eight_china_time() {
        assert_eq!(last_due_day(at("2020-02-14T07:59:00+08:00")), day("2020-02-12"));
        assert_eq!(last_due_day(at("2020-02-14T08:00:00+08:00")), day("2020-02-13"));
        assert_eq!(last_due_day(at("2020-02-14T23:00:00+08:00")), day("2020-02-13"));
    }

    #[test]
    fn the_day_of_a_moment_is_its_day_at_utc_plus_eight() {
        assert_eq!(china_time::day(at("2020-02-13T16:30:00Z")), day("2020-02-14"));
        assert_eq!(china_time::day(at("2020-02-13T15:59:59Z")), day("2020-02-13"));
    }

    #[test]
    fn figures_must_be_finite_and_not_negative() {
        assert!(check_figure("output", -1.0).is_err());
        assert!(check_figure("output", f64::NAN).is_err());
        assert_eq!(check_figure("output", 0.0), Ok(0.0));
    }
}
