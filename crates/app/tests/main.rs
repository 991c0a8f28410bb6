//! The use cases' integration tests, one binary (one link for CI), a module per subject, each
//! test on SQLite and, when BANGFU_TEST_PG names a server, on PostgreSQL.
#![allow(clippy::unwrap_used)] // tests may unwrap (clippy.toml), helpers outside #[test] too

mod access;
mod allocation;
mod app;
mod cluster;
mod demo_accounts;
mod escalation;
mod exercise;
mod figures;
mod import_fuzz;
mod letters;
mod participation;
mod plans;
mod queue;
mod search;
mod setup;
mod sourcing;
mod support;
