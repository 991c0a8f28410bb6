//! What every database subcommand shares: `--db URL`, a runtime, the clock and the actor.

use crate::outcome::CliError;
use bangfu_app::{Actor, App, AppError};
use chrono::{DateTime, Utc};

/// The database option of every subcommand that reads or writes data.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// Database URL: sqlite://PATH (created on first run) or postgres://USER@HOST:PORT/DB
    #[arg(long, env = "BANGFU_DB", default_value = "sqlite://bangfu.db")]
    pub db: String,
}

impl DbArgs {
    pub async fn open(&self) -> Result<App, CliError> {
        App::open(&self.db).await.map_err(app_error)
    }
}

/// A Tokio runtime for one subcommand.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| CliError(format!("cannot start the runtime: {e}")))
}

/// The wall clock. The CLI is one of the two places allowed to read it; everything below takes `now`.
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The actor for commands typed at the operator's console.
pub fn operator() -> Actor {
    Actor::system("cli")
}

pub fn app_error(error: AppError) -> CliError {
    CliError(error.to_string())
}
