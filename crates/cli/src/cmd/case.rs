//! `bangfu case`: list and show cases.

use bangfu_core::text::printable;
use super::db::{DbArgs, app_error, operator, runtime};
use crate::outcome::{CliResult, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List cases (exit 1 when there are none)
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one case with its team, needs and events (exit 1 when it does not exist)
    Show {
        /// The case id
        id: i64,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> CliResult {
    runtime()?.block_on(async {
        match args.command {
            Command::List { db, json } => {
                let app = db.open().await?;
                // Page by page, printed as read (a province has thousands of cases).
                let (mut after, mut printed) = (None, 0);
                if json {
                    print!("[");
                }
                loop {
                    let page = bangfu_store::PageRequest { after, limit: bangfu_store::lists::MAX_PAGE };
                    let cases = app.list_cases(&operator(), &Default::default(), page).await.map_err(app_error)?;
                    for c in &cases.items {
                        if json {
                            print!("{}{}", if printed == 0 { "" } else { "," }, bangfu_web::json::case_summary(c));
                        } else {
                            println!("{}\t{}\t{}\t{} open / {} needs", c.case.id, printable(&c.enterprise.name), c.case.region, c.open_needs, c.needs);
                        }
                        printed += 1;
                    }
                    match cases.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                if json {
                    println!("]");
                }
                app.close().await;
                Ok(if printed == 0 { Outcome::NotFound } else { Outcome::Ok })
            }
            Command::Show { id, db, json } => {
                let app = db.open().await?;
                let detail = match app.case_detail(&operator(), id).await {
                    Ok(detail) => detail,
                    Err(bangfu_app::AppError::NotFound(what)) => {
                        eprintln!("{what} not found — `bangfu case list` shows the cases");
                        return Ok(Outcome::NotFound);
                    }
                    Err(e) => return Err(app_error(e)),
                };
                // The command line shows the whole timeline (the API answers its newest events).
                let events = app.case_timeline(&operator(), id).await.map_err(app_error)?;
                if json {
                    let mut shown = bangfu_web::json::case_detail(&detail);
                    shown["events"] = events.iter().map(bangfu_web::json::event).collect();
                    println!("{shown}");
                } else {
                    println!("case {}: {} — {}", detail.case.id, printable(&detail.case.title), printable(&detail.enterprise.name));
                    for m in &detail.team {
                        println!("  team  {} ({}, {})", printable(&m.title), m.role, m.tier);
                    }
                    for n in &detail.needs {
                        println!("  need {} [{}] {} — {} → {}", n.id, n.status, printable(&n.title), n.scope, n.owner);
                    }
                    for e in &events {
                        println!("  {}  {}  {}", bangfu_web::json::time(e.at), e.action, printable(&e.entity));
                    }
                }
                app.close().await;
                Ok(Outcome::Ok)
            }
        }
    })
}
