//! The morning pass, at 08:00 UTC+8 each day (when the returns of the day before are due): it
//! flags to their county each reporting case that filed no return for that day
//! ([`App::flag_missing_returns`]) and generates the daily briefing (每日专报) of every department
//! for that day ([`crate::briefing`]).
//!
//! Servers try it every minute through [`App::morning_scheduled`], which claims the day's slot
//! in `job_runs` in the transaction that flags the missing returns, so one server does the work
//! once a day. The briefings are then composed from reads and kept one short write each (a
//! province's figures are not summed under the write lock); a briefing the pass did not keep is
//! generated when it is first read ([`App::briefing`]). Time is a parameter: `now` is the clock the server passes in.

use crate::{Actor, App, AppError, AppResult};
use bangfu_core::returns::{DUE_HOUR, last_due_day};
use chrono::{DateTime, NaiveDate, Utc};

/// The name of the periodic job in `job_runs`.
pub const MORNING_JOB: &str = "morning";

/// What one morning pass did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MorningReport {
    /// The day whose returns were due (yesterday at UTC+8).
    pub day: NaiveDate,
    /// Cases flagged for a missing return.
    pub missing: usize,
    /// Briefings generated (departments that already had one for the day are left as they were).
    pub briefings: usize,
}

impl App {
    /// The morning pass for the last day whose returns were due at `now` (see the module's text),
    /// run at once, by an admin or a test (`bangfu briefing generate --date D` runs its briefings alone).
    pub async fn morning_pass(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<MorningReport> {
        only_admin(actor)?;
        let day = last_due_day(now);
        let missing = self.write_as(actor, move |app, actor, tx| app.flag_missing_returns(tx, actor, now, day)).await?;
        let briefings = self.generate_briefings(now, day).await?.iter().filter(|(_, new)| *new).count();
        Ok(MorningReport { day, missing, briefings })
    }

    /// The pass as servers try it every minute: the first try at or after 08:00 UTC+8 of a day
    /// claims the day in `job_runs` and does the work; later tries that day, on any server, find
    /// the day claimed and return `None`.
    pub async fn morning_scheduled(&self, actor: &Actor, now: DateTime<Utc>) -> AppResult<Option<MorningReport>> {
        only_admin(actor)?;
        let day = last_due_day(now);
        let slot = day.signed_duration_since(NaiveDate::default()).num_days();
        let missing = self
            .write_as(actor, move |app, actor, tx| {
                // Claimed already (nothing was written): the job ends, with nothing to keep.
                if !tx.claim_job_slot(MORNING_JOB, slot)? {
                    return Ok(None);
                }
                Ok(Some(app.flag_missing_returns(tx, actor, now, day)?))
            })
            .await?;
        let Some(missing) = missing else { return Ok(None) };
        let briefings = self.generate_briefings(now, day).await?.iter().filter(|(_, new)| *new).count();
        Ok(Some(MorningReport { day, missing, briefings }))
    }
}

fn only_admin(actor: &Actor) -> AppResult<()> {
    if crate::access::may_run_escalation_pass(actor) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("{} may not run the morning pass ({DUE_HOUR}:00 UTC+8) — it is run by the server and by admins", actor.name)))
    }
}
