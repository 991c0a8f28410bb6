//! `bangfu migrate-db --from sqlite://A --to postgres://B`: copy a whole installation into a new
//! database (typically from the SQLite default to PostgreSQL, to run several servers), then
//! check it: row counts of every table on both sides, and the audit chain on the target.
//!
//! Exit 0 when copied and verified; 1 when the copy finished but a check failed (the message
//! names the table or the sequence number); 2 on bad input, including a target that already
//! holds data — nothing is written then.

use super::db::{app_error, runtime};
use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_app::App;
use bangfu_core::audit::ChainBreak;
use bangfu_store::{DatabaseUrl, Store, StoreError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The installation to copy, for example sqlite://bangfu.db (it is only read)
    #[arg(long)]
    from: String,
    /// The new database, for example postgres://bangfu@db.example:5432/bangfu; it must hold
    /// nothing beyond the regions and departments every new database starts with
    #[arg(long)]
    to: String,
}

pub fn run(args: Args) -> CliResult {
    let from = DatabaseUrl::parse(&args.from).map_err(|e| bad_input(format!("--from: {e}")))?;
    let to = DatabaseUrl::parse(&args.to).map_err(|e| bad_input(format!("--to: {e}")))?;
    if let DatabaseUrl::Sqlite { path } = &from
        && !path.is_file()
    {
        return Err(bad_input(format!("--from: {} does not exist — name the SQLite file of the installation to copy", path.display())));
    }
    if from == to {
        return Err(bad_input("--from and --to name the same database — copy into a new, empty one"));
    }
    runtime()?.block_on(async {
        let source = Store::open(&args.from).await.map_err(|e| open_error("--from", e))?;
        let target = Store::open(&args.to).await.map_err(|e| open_error("--to", e))?;
        eprintln!("copying {} into {} …", from.display(), to.display());
        let report = source.copy_into(&target).await.map_err(|e| match e {
            StoreError::Conflict(message) => bad_input(format!("{message}; nothing was written")),
            other => CliError(format!("the copy failed and was rolled back, nothing was written: {other}")),
        })?;
        source.close().await;
        target.close().await;

        println!("{:<16} {:>10} {:>10}", "table", "source", "target");
        for t in &report.tables {
            let mark = if t.source == t.target { "" } else { "  MISMATCH" };
            println!("{:<16} {:>10} {:>10}{mark}", t.table, t.source, t.target);
        }
        let mismatches = report.mismatches();
        if !mismatches.is_empty() {
            let names: Vec<&str> = mismatches.iter().map(|t| t.table.as_str()).collect();
            println!("row counts differ in {} — the copy is not complete", names.join(", "));
            return Ok(Outcome::NotFound);
        }
        println!("row counts match in all {} tables ({} rows copied)", report.tables.len(), report.copied_rows);

        let app = App::open(&args.to).await.map_err(app_error)?;
        let audit = app.verify_audit().await.map_err(app_error)?;
        app.close().await;
        match audit.broken {
            None => {
                println!("audit chain verified on the target: {} events, unbroken", audit.events);
                println!("copied {} into {}", from.display(), to.display());
                Ok(Outcome::Ok)
            }
            Some(ChainBreak::Altered { seq } | ChainBreak::Unlinked { seq }) => {
                println!("audit chain on the target broken at sequence {seq} — run `bangfu audit verify --db {}` on the source", from.display());
                Ok(Outcome::NotFound)
            }
        }
    })
}

fn open_error(which: &str, error: StoreError) -> CliError {
    CliError(format!("{which}: {error}"))
}
