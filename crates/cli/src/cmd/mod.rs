//! The subcommands, one module each. `run` dispatches.

pub mod allocate;
pub mod audit;
pub mod briefing;
pub mod case;
pub mod channel;
pub mod db;
pub mod demo;
pub mod enterprise;
pub mod escalate;
pub mod letter;
pub mod matching;
pub mod migrate_db;
pub mod outbox;
pub mod plan;
pub mod registry_io;
pub mod route;
pub mod serve;
pub mod user;

use crate::outcome::CliResult;
use clap::{Parser, Subcommand};

/// bangfu (帮扶): the coordination desk for getting an enterprise's emergency production running.
///
/// Exit codes: 0 ok; 1 nothing found or a check failed; 2 bad input or an error.
#[derive(Debug, Parser)]
#[command(name = "bangfu", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (API and pages); --demo loads the reference case first
    Serve(serve::Args),
    /// Load the reference case: Linfen's first mask factory, Quwo, 2020
    Demo(demo::Args),
    /// List and show cases
    Case(case::Args),
    /// Register enterprises
    Enterprise(enterprise::Args),
    /// Manage accounts
    User(user::Args),
    /// Import the registry (capabilities) from CSV or JSONL
    Import(registry_io::ImportArgs),
    /// Export the registry (capabilities) as CSV or JSONL
    Export(registry_io::ExportArgs),
    /// Run one escalation pass at --now: stalled needs move up a tier (上报) or are flagged (督办)
    Escalate(escalate::Args),
    /// Show official letters (公函)
    Letter(letter::Args),
    /// The daily briefings (每日专报): generate a day's for every department, list, show
    Briefing(briefing::Args),
    /// Where a department's notifications go: 企业微信 / 钉钉 robots, e-mail, signed webhooks
    Channel(channel::Args),
    /// The messages to the outside world: list them with their attempts, retry one
    Outbox(outbox::Args),
    /// Check the tamper-evident audit log
    Audit(audit::Args),
    /// Copy a whole installation into a new database (e.g. SQLite to PostgreSQL) and verify it
    MigrateDb(migrate_db::Args),
    /// Decide scope and owning department for a need (no database needed)
    Route(route::Args),
    /// Screen a need against providers: ranked candidates and rejections with reasons
    Match(matching::Args),
    /// Compute a plan's critical path and projected first-output time
    Plan(plan::Args),
    /// Allocate scarce capacity across competing needs at least total cost (or first come)
    ///
    /// From a file of integers (no database):
    ///   bangfu allocate --input instance.json --json [--method greedy]
    /// with {"providers":[{"id","capacity"}],"needs":[{"id","quantity","unmet_cost"}],
    /// "arcs":[{"need","provider","cost"}]}, prints {"cost","assignments":[{"need","provider",
    /// "quantity"}],"unmet":[{"need","quantity"}]}; a negative number, an arc to an unknown id or
    /// a duplicate id exits 2 saying what was wrong.
    ///
    /// Over the stored open needs of a kind in a department's jurisdiction:
    ///   bangfu allocate --kind sterilisation --department 140000 [--horizon-days 7] --json
    /// Providers: the registry's capabilities of the kind inside the jurisdiction, with their
    /// capacity in the horizon (sterilisation capacity_per_day × days, stock, headcount;
    /// slitting and testing unlimited) less what needs already selected there hold. Costs: each
    /// feasible candidate's lead time × the need's weight — the hours its case's first output
    /// moves if it waits 24 h more (its plan's what-if; 12 h for a need no plan holds) ÷ 24.
    /// The output adds both methods' totals, what the optimum saves over first come (hours of
    /// first output, km), the providers and each need's reason. Nothing is written: accept
    /// proposals on the /allocate page or with POST /api/v1/needs/{id}/accept-allocation.
    #[command(verbatim_doc_comment)]
    Allocate(allocate::Args),
}

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Case(args) => case::run(args),
        Command::Enterprise(args) => enterprise::run(args),
        Command::User(args) => user::run(args),
        Command::Import(args) => registry_io::run_import(args),
        Command::Export(args) => registry_io::run_export(args),
        Command::Escalate(args) => escalate::run(args),
        Command::Letter(args) => letter::run(args),
        Command::Briefing(args) => briefing::run(args),
        Command::Channel(args) => channel::run(args),
        Command::Outbox(args) => outbox::run(args),
        Command::Audit(args) => audit::run(args),
        Command::MigrateDb(args) => migrate_db::run(args),
        Command::Route(args) => route::run(args),
        Command::Match(args) => matching::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Allocate(args) => allocate::run(args),
    }
}
