//! `bangfu`: the command line. A thin `main`: parse the arguments, run one subcommand, map the
//! outcome to an exit code. Each subcommand is one module under `cmd/`.
//!
//! Exit codes: 0 ok; 1 nothing found or a check failed; 2 bad input or an error.

mod cmd;
mod outcome;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than the system's malloc: under load, glibc's malloc and free took about an
/// eighth of the server's CPU per need report (BENCHMARKS.md, issue 12).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
