//! The command line's integration tests, one binary (one link for CI): the `bangfu` binary from
//! the outside, several `bangfu serve` processes on one database, `kill -9` durability and the
//! outbox. `support.rs` has the runner, the server process and the HTTP client they share.
//! (`licences.rs` stays a binary of its own: CI runs it first, alone.)
#![allow(clippy::unwrap_used)] // tests may unwrap (clippy.toml), helpers outside #[test] too

mod cli;
mod cluster;
mod durability;
mod outbox;
mod support;
