//! `bangfu letter show`: an official letter (公函) in its Chinese form, its English rendering after
//! it, and where it stands (draft → sent → acknowledged).

use bangfu_core::model::LetterStatus;
use bangfu_core::text::printable;
use super::db::{DbArgs, app_error, operator, runtime};
use crate::outcome::{CliResult, Outcome};
use bangfu_app::AppError;
use bangfu_app::letters::LetterDetail;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print one letter: the Chinese letter, then the English rendering, then its status (exit 1
    /// when there is no such letter)
    Show {
        /// The letter id
        id: i64,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> CliResult {
    let Command::Show { id, db, json } = args.command;
    runtime()?.block_on(async {
        let app = db.open().await?;
        let detail = app.letter(&operator(), id).await;
        app.close().await;
        let detail = match detail {
            Ok(detail) => detail,
            Err(AppError::NotFound(what)) => {
                eprintln!("{what} not found — `bangfu case show ID --json` lists the letters of a case");
                return Ok(Outcome::NotFound);
            }
            Err(e) => return Err(app_error(e)),
        };
        if json {
            println!("{}", bangfu_web::json::letter(&detail.letter));
        } else {
            print!("{}", printable(&text(&detail)));
        }
        Ok(Outcome::Ok)
    })
}

/// The letter as printed: Chinese, a rule, English, a rule, its status and dates.
fn text(detail: &LetterDetail) -> String {
    let l = &detail.letter;
    let status_zh = match l.status {
        LetterStatus::Draft => "草稿",
        LetterStatus::Sent => "已发出",
        LetterStatus::Acknowledged => "已回复",
    };
    let time = |label: &str, ms: Option<i64>| ms.map(|ms| format!("; {label} {}", bangfu_web::json::time(ms))).unwrap_or_default();
    let rule = "—".repeat(20);
    format!(
        "{}\n{rule}\n{}\n{rule}\n状态 / status: {status_zh} {}{}{}{}\n诉求 / need: {} {}\n",
        l.body_zh.trim_end(),
        l.body_en.trim_end(),
        l.status,
        time("起草 drafted", Some(l.created_at)),
        time("发出 sent", l.sent_at),
        time("回复 acknowledged", l.acknowledged_at),
        detail.need.id,
        detail.need.title,
    )
}
