//! How a subcommand ends: success, "nothing found / check failed" (exit 1), or an error (exit 2).

use std::fmt;
use std::process::ExitCode;

/// A finished subcommand that did not fail with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1: nothing found, or a check failed (the subcommand has said what).
    NotFound,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::NotFound => ExitCode::from(1),
        }
    }
}

/// An error shown to the user as `error: …` with exit code 2. The message says what was wrong
/// and how to fix it.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(error: E) -> Self {
        CliError(error.to_string())
    }
}

pub type CliResult = Result<Outcome, CliError>;

/// Shorthand for an input error.
pub fn bad_input(message: impl Into<String>) -> CliError {
    CliError(message.into())
}
