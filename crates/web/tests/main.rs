//! The web crate's integration tests, one binary (one link for CI), a module per subject, most of
//! them on SQLite and, when BANGFU_TEST_PG names a server, on PostgreSQL. `support.rs` has the one
//! `spawn_app` (the server on port 0 with a fresh database) and its typed client.
#![allow(clippy::unwrap_used)] // tests may unwrap (clippy.toml), helpers outside #[test] too

mod browser;
mod figures_api;
mod findings;
mod http;
mod letters_api;
mod lists_api;
mod matrix;
mod outbox;
mod plans_api;
mod setup_api;
mod support;
