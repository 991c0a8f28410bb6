//! The subcommands, one module each. `run` dispatches.

pub mod route;

use crate::outcome::CliResult;
use clap::{Parser, Subcommand};

/// bangfu (帮扶): the coordination desk for getting an enterprise's emergency production running.
///
/// Exit codes: 0 ok; 1 nothing found or a check failed; 2 bad input or an error.
#[derive(Debug, Parser)]
#[command(name = "bangfu", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide scope and owning department for a need (no database needed)
    Route(route::Args),
}

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Route(args) => route::run(args),
    }
}
