//! bangfu's domain, pure: the GB/T 2260 region tree, tiers and departments, the model of cases,
//! needs and capabilities, and the rules that decide routing, screening, escalation, plans and
//! the allocation of scarce capacity.
//!
//! Invariant: this crate does no I/O, no async and never reads the clock. Time arrives as a
//! parameter (`now`). It knows no SQL, HTTP or wire format; its types are not `Serialize`.

pub mod allocate;
pub mod audit;
pub mod bounded_screening;
pub mod capability;
pub mod china_time;
pub mod credit_code;
pub mod escalation;
pub mod hanzi;
pub mod ids;
pub mod letter;
pub mod model;
pub mod outbox;
pub mod plan;
pub mod region;
pub mod reminders;
pub mod registry_index;
pub mod returns;
mod scan_columns;
pub mod routing;
pub mod search_index;
pub mod screening;
pub mod text;
pub mod throttle;
pub mod travel;
pub mod widening;

pub use region::{Level, Region, RegionCode, RegionTree};
