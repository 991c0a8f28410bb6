//! `bangfu briefing`: the daily briefings (每日专报) kept per department and day. `generate`
//! runs the morning pass's briefings for a day at once — every department whose jurisdiction
//! holds a case gets the briefing the server would have kept at 08:00 UTC+8, composed now; one
//! already kept stays as it was, so a second run changes nothing. `list` gives the days a
//! department has, `show` one briefing (kept, or generated and kept when it was due and missing,
//! as the page does).

use super::db::{DbArgs, app_error, now, operator, runtime};
use crate::outcome::{CliResult, Outcome, bad_input};
use bangfu_app::App;
use bangfu_app::briefing::Briefing;
use bangfu_core::routing::department_name;
use bangfu_core::text::printable;
use chrono::NaiveDate;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Generate and keep every department's briefing of a day (already kept ones stay as they were)
    Generate {
        /// The day of the briefings, YYYY-MM-DD (its returns are due at 08:00 UTC+8 the next morning)
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// The days for which a department has a kept briefing, newest first (at most 60; exit 1 when none)
    List {
        /// The department, as its region code (such as 141000)
        #[arg(long)]
        department: String,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// One department's briefing of a day
    Show {
        /// The department, as its region code (such as 141000)
        #[arg(long)]
        department: String,
        /// The day, YYYY-MM-DD (the last day due when left out)
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        #[command(flatten)]
        db: DbArgs,
        /// Print the briefing as JSON (as GET /api/v1/briefing answers)
        #[arg(long)]
        json: bool,
    },
}

fn day(text: &str) -> Result<NaiveDate, crate::outcome::CliError> {
    bangfu_core::returns::parse_day(text.trim()).map_err(|e| bad_input(format!("--date: {e}")))
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Generate { date, db, json } => {
            let date = day(&date)?;
            runtime()?.block_on(async {
                let app = db.open().await?;
                let made = app.generate_day_briefings(&operator(), now(), date).await;
                app.close().await;
                let made = made.map_err(app_error)?;
                if json {
                    println!("{}", bangfu_web::json::briefings_generated(date, &made));
                } else {
                    let new = made.iter().filter(|(_, new)| *new).count();
                    let mut out = format!("briefings of {date}: {new} generated, {} kept already\n", made.len() - new);
                    for (department, new) in &made {
                        out.push_str(&format!("{department} {} {}\n", department_name(app.tree(), *department), if *new { "generated" } else { "kept already" }));
                    }
                    print!("{}", printable(&out));
                }
                Ok(Outcome::Ok)
            })
        }
        Command::List { department, db, json } => runtime()?.block_on(async {
            let app = db.open().await?;
            let code = department_code(&app, &department);
            let days = match code {
                Ok(code) => app.briefing_days(code).await.map_err(app_error),
                Err(e) => Err(e),
            };
            app.close().await;
            let days = days?;
            if json {
                println!("{}", serde_json::json!(days.iter().map(|d| d.to_string()).collect::<Vec<_>>()));
            } else {
                for d in &days {
                    println!("{d}");
                }
            }
            if days.is_empty() {
                eprintln!("department {department} has no kept briefing — `bangfu briefing generate --date YYYY-MM-DD` keeps one");
                return Ok(Outcome::NotFound);
            }
            Ok(Outcome::Ok)
        }),
        Command::Show { department, date, db, json } => {
            let date = date.as_deref().map(day).transpose()?;
            runtime()?.block_on(async {
                let app = db.open().await?;
                let briefing = match department_code(&app, &department) {
                    Ok(_) => app.briefing(&operator(), now(), Some(department.trim()), date).await.map_err(app_error),
                    Err(e) => Err(e),
                };
                app.close().await;
                let briefing = briefing?;
                if json {
                    println!("{}", briefing.to_json());
                } else {
                    print!("{}", printable(&text(&app, &briefing)));
                }
                Ok(Outcome::Ok)
            })
        }
    }
}

/// The department's region code, refused with a hint when it is not a region.
fn department_code(app: &App, department: &str) -> Result<bangfu_core::region::RegionCode, crate::outcome::CliError> {
    let code = department.trim().parse::<u32>().ok().and_then(|c| app.tree().get(bangfu_core::region::RegionCode::new_unchecked(c)).map(|r| r.code));
    code.ok_or_else(|| bad_input(format!("--department: {department:?} is not a region code — write six digits, such as 141000 for 临汾市")))
}

/// The briefing for people: the headline, then the blockers, escalations and letters.
fn text(app: &App, b: &Briefing) -> String {
    let mut out = format!("{} 每日专报 / daily briefing {} (generated {})\n", department_name(app.tree(), b.department), b.day, bangfu_web::json::time(b.generated_at.timestamp_millis()));
    for h in &b.headline {
        out.push_str(&format!("  {} / {}: {} (day before {})\n", h.label_zh, h.label_en, h.day, h.before));
    }
    out.push_str(&format!("blockers holding back the most output ({}):\n", b.blockers_total));
    for n in &b.blockers {
        let output = n.daily_output.map_or_else(|| "output unknown".to_string(), |d| format!("{d}/day{}, {:.0} held back", if n.output_estimated { " (estimated)" } else { "" }, n.held_back));
        out.push_str(&format!("  need {} {}: {:.1} h{} — {output}\n", n.need_id, n.title, n.hours, if n.from_plan { "" } else { " (default)" }));
    }
    out.push_str(&format!("escalated needs still open: {}; decisions for leadership: {}; letters awaiting an answer: {}\n", b.escalated_total, b.decisions_total, b.letters_total));
    out
}
