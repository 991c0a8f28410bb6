//! The rules of one milestone, which [`schedule`](super::schedule) applies to every milestone
//! of a plan (the module's text states them in full): what is known of its start, when it
//! starts and finishes once its predecessors have finished, which blocker holds it, and whether
//! it still limits its predecessors' latest times; and when an open need is expected to resolve.

use super::{Milestone, PlanError, hours_to_ms};
use crate::ids::NeedId;
use chrono::{DateTime, TimeDelta, Utc};

/// When an open need is expected to be resolved: `now` + the best candidate's lead time when it
/// has a feasible candidate, otherwise its deadline. A lead time that is not a finite number
/// ≥ 0 counts as no candidate.
pub fn expected_resolution(now: DateTime<Utc>, best_lead_time_h: Option<f64>, deadline: DateTime<Utc>) -> DateTime<Utc> {
    best_lead_time_h
        .filter(|h| h.is_finite() && *h >= 0.0)
        .and_then(|h| TimeDelta::try_milliseconds(hours_to_ms(h)))
        .and_then(|lead| now.checked_add_signed(lead))
        .unwrap_or(deadline)
}

/// What the forward pass needs of one milestone, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug)]
pub(super) struct Work {
    duration: i64,
    /// The latest expected resolution of its blockers (`i64::MIN` for none).
    blocked_until: i64,
    known: Known,
}

/// What is known of a milestone's start, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug)]
enum Known {
    /// Starts after its predecessors, and not before `not_before` (`i64::MIN` for no constraint).
    Unstarted { not_before: i64 },
    Started { start: i64 },
    /// `start` is `i64::MIN` when only the finish is known.
    Finished { start: i64, finish: i64 },
}

impl Work {
    /// The milestone's work, its actuals checked: a duration that is a finite number of hours
    /// ≥ 0, and an actual finish not before the actual start.
    pub(super) fn of(m: &Milestone) -> Result<Work, PlanError> {
        if !(m.duration_h.is_finite() && m.duration_h >= 0.0) {
            return Err(PlanError::InvalidDuration { milestone: m.key.clone(), duration_h: m.duration_h });
        }
        let known = match (m.actual_start, m.actual_finish) {
            (Some(s), Some(f)) if f < s => return Err(PlanError::FinishBeforeStart { milestone: m.key.clone() }),
            (start, Some(finish)) => {
                Known::Finished { start: start.map_or(i64::MIN, |s| s.timestamp_millis()), finish: finish.timestamp_millis() }
            }
            (Some(start), None) => Known::Started { start: start.timestamp_millis() },
            (None, None) => Known::Unstarted { not_before: m.not_before.map_or(i64::MIN, |t| t.timestamp_millis()) },
        };
        Ok(Work { duration: hours_to_ms(m.duration_h), blocked_until: i64::MIN, known })
    }

    /// A blocker of `need` expected to resolve at `resolves_at`: the latest resolution holds the
    /// milestone, ties going to the smallest need id. `held` is the need holding it so far.
    pub(super) fn block(&mut self, held: &mut Option<NeedId>, need: NeedId, resolves_at: i64) {
        let tie_smaller = resolves_at == self.blocked_until && held.is_none_or(|h| need < h);
        if resolves_at > self.blocked_until || tie_smaller {
            self.blocked_until = resolves_at;
            *held = Some(need);
        }
    }

    /// The milestone's start and finish when its predecessors have all finished by
    /// `after_predecessors` (the plan's start when it has none): an unstarted one starts then or
    /// at its `not_before`, whichever is later; actuals override; the finish waits for the
    /// blockers unless the milestone has finished.
    pub(super) fn span(&self, after_predecessors: i64) -> (i64, i64) {
        match self.known {
            Known::Finished { start, finish } => (if start == i64::MIN { after_predecessors.min(finish) } else { start }, finish),
            Known::Started { start } => (start, start.saturating_add(self.duration).max(self.blocked_until)),
            Known::Unstarted { not_before } => {
                let start = after_predecessors.max(not_before);
                (start, start.saturating_add(self.duration).max(self.blocked_until))
            }
        }
    }

    /// Whether a blocker, not the work, sets the finish of the milestone started at `start`.
    pub(super) fn held(&self, start: i64) -> bool {
        !matches!(self.known, Known::Finished { .. }) && self.blocked_until > start.saturating_add(self.duration)
    }

    /// Whether the milestone still waits for its predecessors, and so limits their latest times
    /// (a started or finished one does not).
    pub(super) fn waits(&self) -> bool {
        matches!(self.known, Known::Unstarted { .. })
    }
}
