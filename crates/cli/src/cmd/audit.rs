//! `bangfu audit verify`: check the tamper-evident audit log.

use super::db::{DbArgs, app_error, runtime};
use crate::outcome::{CliResult, Outcome};
use bangfu_core::audit::ChainBreak;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check the SHA-256 chain of every event: exit 0 when intact, 1 naming the first broken
    /// sequence number when an event was altered or removed
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(args: Args) -> CliResult {
    let Command::Verify { db } = args.command;
    runtime()?.block_on(async {
        let app = db.open().await?;
        let report = app.verify_audit().await.map_err(app_error)?;
        app.close().await;
        match report.broken {
            None => {
                println!("audit log intact: {} events, chain verified", report.events);
                Ok(Outcome::Ok)
            }
            Some(ChainBreak::Altered { seq }) => {
                println!("audit log broken at sequence {seq}: the event was altered (its hash does not match its content)");
                Ok(Outcome::NotFound)
            }
            Some(ChainBreak::Unlinked { seq }) => {
                println!("audit log broken at sequence {seq}: an event is missing or out of place (the chain does not link)");
                Ok(Outcome::NotFound)
            }
        }
    })
}
