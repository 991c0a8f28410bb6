//! `bangfu escalate`: one escalation pass at a given moment — every open need past its owner's
//! response window moves up one tier (上报), or is flagged for supervision (督办) at the top. A
//! second pass at the same moment changes nothing. `bangfu serve` runs the same pass every minute
//! ([`every_minute`]).

use bangfu_core::text::printable;
use super::db::{DbArgs, app_error, operator, runtime};
use crate::outcome::{CliError, CliResult, Outcome, bad_input};
use bangfu_app::escalation::{EscalatedNeed, EscalationReport};
use bangfu_app::{Actor, App};
use bangfu_core::escalation::{EscalationStep, ResponseWindows};
use bangfu_core::routing::department_name;
use chrono::{DateTime, Utc};
use tracing::Instrument;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// The moment of the pass, RFC 3339, such as 2020-01-27T10:00:00+08:00 (the pass depends on nothing else)
    #[arg(long, value_name = "RFC3339")]
    now: String,
    #[command(flatten)]
    windows: WindowsArgs,
    /// Print what moved as one JSON object
    #[arg(long)]
    json: bool,
}

/// The deployment's response windows, shared by `escalate` and `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowsArgs {
    /// Response window per tier: county=24h,city=48h,province=72h (the default); tiers left out keep theirs
    #[arg(long = "response-windows", env = "BANGFU_RESPONSE_WINDOWS", value_name = "TIER=DURATION,...")]
    response_windows: Option<String>,
}

impl WindowsArgs {
    /// `app` with these windows, if any were given.
    pub fn apply(&self, app: App) -> Result<App, CliError> {
        match &self.response_windows {
            None => Ok(app),
            Some(text) => Ok(app.with_response_windows(ResponseWindows::parse(text).map_err(|e| bad_input(format!("--response-windows: {e}")))?)),
        }
    }
}

pub fn run(args: Args) -> CliResult {
    let now = DateTime::parse_from_rfc3339(args.now.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad_input(format!("--now: {:?} is not an RFC 3339 time — write it as 2020-01-27T10:00:00+08:00", args.now)))?;
    runtime()?.block_on(async {
        let app = args.windows.apply(args.db.open().await?)?;
        let report = app.escalate(&operator(), now).await.map_err(app_error);
        app.close().await;
        let report = report?;
        if args.json {
            println!("{}", bangfu_web::json::escalation_report(&report));
        } else {
            print!("{}", printable(&text(&app, &report)));
        }
        Ok(Outcome::Ok)
    })
}

/// The report for people: a summary line, then each need with its move and reason.
fn text(app: &App, report: &EscalationReport) -> String {
    let mut out = format!(
        "escalation pass at {} ({}): {} open need{} checked, {} moved\n",
        bangfu_web::json::time(report.now.timestamp_millis()),
        report.windows,
        report.checked,
        if report.checked == 1 { "" } else { "s" },
        report.moved.len()
    );
    for m in &report.moved {
        out.push_str(&line(app, m));
    }
    out
}

fn line(app: &App, m: &EscalatedNeed) -> String {
    let tree = app.tree();
    let from = format!("{} {}", m.from, department_name(tree, m.from));
    let what = match m.step {
        EscalationStep::Escalate { to, to_tier, deadline, .. } => format!(
            "{from} → {to} {} ({} → {to_tier}), new deadline {}",
            department_name(tree, to),
            m.from_tier,
            bangfu_web::json::time(deadline.timestamp_millis())
        ),
        EscalationStep::Supervise => format!("{from} flagged for supervision by the provincial leadership (督办)"),
    };
    format!("need {} [case {}] {}: {what}\n  {}\n  {}\n", m.need.id, m.need.case_id, m.need.title, m.reason.zh, m.reason.en)
}

/// The server's pass: every minute, at most once per minute across all servers on the database
/// (the minute is claimed in the pass's own transaction). Errors are reported and the next minute
/// tries again. The clock is read through [`super::db::now`].
pub async fn every_minute(app: App) {
    let actor = Actor::system("escalation");
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let job = bangfu_web::logs::job_span("escalation");
        let done = app.escalate_scheduled(&actor, super::db::now()).instrument(job.clone()).await;
        job.in_scope(|| match done {
            // A line a need, each in the job's span.
            Ok(Some(report)) if !report.moved.is_empty() => {
                for line in printable(&text(&app, &report)).lines() {
                    tracing::info!("{}", line.trim_start());
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!("escalation pass failed (tried again next minute): {e}"),
        });
    }
}
