//! The enterprise's plan to production: milestones (节点) with durations and dependencies, the
//! needs that block them, and the critical path method that turns them into the projected first
//! day of output.
//!
//! A plan is a DAG. [`schedule`] computes, for every milestone, the earliest start and finish
//! (forward pass), the latest start and finish (backward pass from the plan's finish), the slack,
//! and the critical path: the milestones with zero slack, in topological order with ties broken
//! by key. Open needs attach to milestones as [`Blocker`]s: a milestone cannot finish before its
//! blocking needs are resolved. [`what_if`] answers "if this need resolves at T, first output
//! moves to D".
//!
//! Rules, in full:
//! - A milestone that has not started starts at the latest of its predecessors' finishes, its
//!   `not_before` and the plan's start. Its finish is the later of start + duration and the latest
//!   expected resolution of its blockers (the wait is part of its span, so a milestone held by a
//!   need is critical when that need decides the finish).
//! - Actuals are facts and override the computation: a started milestone starts at its actual
//!   start whatever its predecessors did, a finished one finishes at its actual finish (its
//!   blockers are then ignored). A started or finished milestone no longer waits for its
//!   predecessors, so it does not constrain their latest times either. To project a plan in
//!   progress from today, pass `start = now`: unstarted work cannot begin in the past, and the
//!   actuals keep the past.
//! - The plan's finish, the projected first-output time, is the latest earliest-finish (the
//!   plan's start when it has no milestones). Latest times are computed backwards from it;
//!   slack = latest start − earliest start = latest finish − earliest finish, never negative.
//! - Times are kept to the millisecond.
//!
//! This module does no I/O and never reads the clock: `now` is a parameter of
//! [`expected_resolution`], the only place it matters. It runs in O(n log n + m) for n milestones
//! and m dependencies, on arrays indexed by node; 100,000 milestones and 400,000 dependencies take
//! 65–80 ms on the 2-vCPU development machine, more while other builds compete for its memory
//! (see BENCHMARKS.md).
//!
//! The module's parts: `rules.rs` says what one milestone does — when it starts and finishes,
//! which blocker holds it, whether it still waits for its predecessors — and when an open need is
//! expected to resolve; `schedule.rs` applies the rules to the whole plan in named passes (read
//! the milestones, number them by key, attach the blockers, link the dependencies, the forward
//! pass, the backward pass, the critical path); `index.rs` finds a milestone's number by its key.

use crate::ids::NeedId;
use chrono::{DateTime, Utc};
use std::fmt;

mod index;
mod rules;
mod schedule;

pub use rules::expected_resolution;
pub use schedule::{MilestoneTimes, Schedule, WhatIf, schedule, what_if};

const MS_PER_HOUR: f64 = 3_600_000.0;

/// One step of the plan (节点).
#[derive(Clone, Debug, PartialEq)]
pub struct Milestone {
    /// The milestone's key, unique within its plan (`"id"` in the JSON input), e.g. `lines_arrive`.
    pub key: String,
    /// What the step is, for people.
    pub name: String,
    /// How long the step takes once started, in hours; finite and ≥ 0.
    pub duration_h: f64,
    /// Keys of the milestones that must finish before this one starts.
    pub after: Vec<String>,
    /// The step cannot start before this time (a delivery date, an appointment).
    pub not_before: Option<DateTime<Utc>>,
    /// When the step actually started; overrides the computed start.
    pub actual_start: Option<DateTime<Utc>>,
    /// When the step actually finished; overrides the computed finish.
    pub actual_finish: Option<DateTime<Utc>>,
}

impl Milestone {
    /// A milestone with no dependencies, constraints or actuals.
    pub fn new(key: impl Into<String>, name: impl Into<String>, duration_h: f64) -> Milestone {
        Milestone {
            key: key.into(),
            name: name.into(),
            duration_h,
            after: Vec::new(),
            not_before: None,
            actual_start: None,
            actual_finish: None,
        }
    }

    /// The same milestone, after the given keys.
    pub fn after<I, S>(mut self, keys: I) -> Milestone
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.after.extend(keys.into_iter().map(Into::into));
        self
    }

    /// The same milestone, not starting before `time`.
    pub fn not_before(mut self, time: DateTime<Utc>) -> Milestone {
        self.not_before = Some(time);
        self
    }
}

/// A plan: where it starts and its milestones. The order of `milestones` is the order results
/// are reported in; it does not affect them.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Nothing unstarted starts before this time.
    pub start: DateTime<Utc>,
    pub milestones: Vec<Milestone>,
}

/// An open need attached to a milestone: the milestone cannot finish before `resolves_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocker {
    pub need: NeedId,
    /// The key of the blocked milestone.
    pub milestone: String,
    /// When the need is expected to be resolved (see [`expected_resolution`]).
    pub resolves_at: DateTime<Utc>,
}

/// Why a plan cannot be scheduled. Messages name the milestones involved and suggest the fix.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanError {
    /// Two milestones share a key.
    DuplicateMilestone { key: String },
    /// A milestone is after a key that is not in the plan; `suggestion` is the nearest key.
    UnknownDependency { milestone: String, after: String, suggestion: Option<String> },
    /// The dependencies go round: each milestone is after the one before it, and the first is
    /// after the last.
    Cycle { milestones: Vec<String> },
    /// A duration that is negative, infinite or not a number.
    InvalidDuration { milestone: String, duration_h: f64 },
    /// An actual finish before the actual start.
    FinishBeforeStart { milestone: String },
    /// A blocker attached to a key that is not in the plan.
    UnknownBlockedMilestone { need: NeedId, milestone: String },
    /// [`what_if`] was asked about a need that blocks no milestone.
    NeedNotBlocking { need: NeedId },
    /// The projected times fall outside the representable calendar.
    OutOfRange,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::DuplicateMilestone { key } => {
                write!(f, "two milestones have the key {key:?} — each milestone needs its own key")
            }
            PlanError::UnknownDependency { milestone, after, suggestion } => {
                write!(f, "milestone {milestone:?} is after {after:?}, which is not a milestone of this plan")?;
                match suggestion {
                    Some(key) => write!(f, " — did you mean {key:?}?"),
                    None => Ok(()),
                }
            }
            PlanError::Cycle { milestones } => {
                let mut chain: Vec<String> = milestones.iter().map(|key| format!("{key:?}")).collect();
                if let Some(first) = chain.first().cloned() {
                    chain.push(first);
                }
                write!(
                    f,
                    "the plan has a cycle: {} (each is after the one before it) — remove one of these dependencies",
                    chain.join(" → ")
                )
            }
            PlanError::InvalidDuration { milestone, duration_h } => {
                write!(f, "milestone {milestone:?} has duration_h {duration_h}, expected a number of hours ≥ 0")
            }
            PlanError::FinishBeforeStart { milestone } => {
                write!(f, "milestone {milestone:?} has an actual finish before its actual start")
            }
            PlanError::UnknownBlockedMilestone { need, milestone } => {
                write!(f, "need {need} blocks milestone {milestone:?}, which is not a milestone of this plan")
            }
            PlanError::NeedNotBlocking { need } => write!(f, "need {need} blocks no milestone of this plan"),
            PlanError::OutOfRange => f.write_str("the plan's projected times fall outside the calendar (years ±262,000)"),
        }
    }
}

impl std::error::Error for PlanError {}

fn hours_to_ms(hours: f64) -> i64 {
    // `as` saturates; durations beyond the calendar are caught as OutOfRange.
    (hours * MS_PER_HOUR).round() as i64
}

fn ms_to_hours(ms: i64) -> f64 {
    ms as f64 / MS_PER_HOUR
}

/// A time checked to be in range by `schedule`.
fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests;
