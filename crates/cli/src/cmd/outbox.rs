//! `bangfu outbox list|retry`: the messages to the outside world and what became of them
//! (issue 15) — pending, sent, or dead with the last error — and putting one back in line.

use super::db::{DbArgs, app_error, now, operator, runtime};
use crate::outcome::{CliResult, Outcome};
use bangfu_core::text::printable;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List messages by id, with their attempts
    List {
        /// Only messages in this status: pending, sent or dead
        #[arg(long)]
        status: Option<String>,
        /// Messages after this id
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many (1 to 500)
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Put a dead or waiting message back in line: a running server sends it at once
    Retry {
        /// The message id
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(args: Args) -> CliResult {
    runtime()?.block_on(async {
        match args.command {
            Command::List { status, after, limit, db, json } => {
                let app = db.open().await?;
                let lines = app.outbox(&operator(), status.as_deref(), after, limit).await;
                app.close().await;
                let lines = lines.map_err(app_error)?;
                if json {
                    println!("{}", serde_json::Value::from(lines.iter().map(bangfu_web::json::delivery).collect::<Vec<_>>()));
                    return Ok(Outcome::Ok);
                }
                for l in &lines {
                    let m = &l.message;
                    let channel = l.channel.as_ref().map(|c| format!("{} {}", c.kind.as_str(), c.target)).unwrap_or_default();
                    let error = m.last_error.as_deref().map(|e| format!("\t{e}")).unwrap_or_default();
                    let text = format!(
                        "{}\t{}\t{}\tattempts {}\tchannel {} {channel}\t{}{error}",
                        m.id,
                        m.status,
                        m.event.as_str(),
                        m.attempts,
                        m.channel_id,
                        m.title
                    );
                    println!("{}", printable(&text));
                }
                Ok(Outcome::Ok)
            }
            Command::Retry { id, db } => {
                let app = db.open().await?;
                let retried = app.retry_message(&operator(), now(), id).await;
                app.close().await;
                match retried {
                    Ok(row) => {
                        println!("message {} is back in line (attempts so far: {})", row.id, row.attempts);
                        Ok(Outcome::Ok)
                    }
                    Err(bangfu_app::AppError::NotFound(what)) => {
                        eprintln!("{what} not found — `bangfu outbox list` shows the messages");
                        Ok(Outcome::NotFound)
                    }
                    Err(e) => Err(app_error(e)),
                }
            }
        }
    })
}
