//! The web server's reading of the clock: one of the two places allowed (the other is the CLI).
//! Everything it calls takes `now` as a parameter.

use chrono::{DateTime, Utc};

#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// [`now`] to the start of its minute.
pub fn this_minute() -> DateTime<Utc> {
    let now = now();
    now - chrono::TimeDelta::milliseconds(now.timestamp_millis().rem_euclid(60_000))
}
