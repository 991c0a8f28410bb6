//! `bangfu serve`: the web server (API and pages).

use super::db::{DbArgs, app_error, runtime};
use crate::outcome::{CliError, CliResult, Outcome};
use tracing::Instrument;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on; port 0 picks a free port (the chosen address is printed)
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Load the reference case (Quwo, 2020) first; loading it again changes nothing
    #[arg(long)]
    demo: bool,
    /// With --demo: what to load besides the reference case (see `bangfu demo --help`)
    #[command(flatten)]
    scale: super::demo::ScaleArgs,
    #[command(flatten)]
    windows: super::escalate::WindowsArgs,
    /// How many feasible candidates each screening of a need records, best first
    #[arg(long, env = "BANGFU_KEEP_CANDIDATES", default_value_t = 10)]
    keep_candidates: usize,
    /// How many rejected providers each screening records per reason, nearest first
    #[arg(long, env = "BANGFU_KEEP_PER_REASON", default_value_t = 3)]
    keep_per_reason: usize,
    /// The address of a load balancer or reverse proxy in front of this server (repeatable, or
    /// comma-separated): login attempts it passes on are counted under the client address it
    /// appends to X-Forwarded-For instead of its own
    #[arg(long = "trusted-proxy", env = "BANGFU_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// The Chromium that prints letters and briefings to PDF
    #[arg(long, env = "BANGFU_CHROMIUM", value_name = "PATH", default_value = "chromium")]
    chromium: std::path::PathBuf,
    /// A directory of fonts for printed documents (an office's licensed 方正小标宋 / 仿宋_GB2312);
    /// without it Debian's free fonts-noto-cjk are used
    #[arg(long = "font-dir", env = "BANGFU_FONT_DIR", value_name = "DIR")]
    font_dir: Option<std::path::PathBuf>,
    /// The hosts notifications (企业微信, 钉钉, e-mail, webhooks) may be sent to, as HOST or
    /// HOST:PORT, comma-separated: nothing else is contacted, and a message to another host fails
    /// with an error saying so (`bangfu outbox list`)
    #[arg(long = "allow-outbound", env = "BANGFU_ALLOW_OUTBOUND", value_name = "HOST[:PORT],…", default_value = "")]
    allow_outbound: String,
    /// bangfu's address as officials open it (https://bangfu.example.gov.cn), put before the link
    /// back to the page in each notification sent out
    #[arg(long = "base-url", env = "BANGFU_BASE_URL", default_value = "")]
    base_url: String,
    /// How long one notification may take to send, in seconds, before it counts as failed
    #[arg(long = "outbound-timeout", env = "BANGFU_OUTBOUND_TIMEOUT", value_name = "SECONDS", default_value_t = 10)]
    outbound_timeout: u64,
    /// A PEM file of CA certificates trusted besides the system's for notifications (an
    /// intranet mail server or gateway with the office's own CA): HTTPS and SMTP over TLS
    #[arg(long = "outbound-ca", env = "BANGFU_OUTBOUND_CA", value_name = "FILE")]
    outbound_ca: Option<std::path::PathBuf>,
    /// How long before an approval's deadline its green channel's department is reminded
    /// (审批临期), comma-separated durations (d, h, m), or none
    #[arg(long = "approval-reminders", env = "BANGFU_APPROVAL_REMINDERS", value_name = "DURATION,…", default_value = "24h,4h")]
    approval_reminders: String,
}

pub fn run(args: Args) -> CliResult {
    init_logs(std::env::var("RUST_LOG").ok().as_deref())?;
    runtime()?.block_on(async {
        let bounds = bangfu_core::bounded_screening::Bounds { candidates: args.keep_candidates, per_reason: args.keep_per_reason };
        let reminders = bangfu_core::reminders::ReminderThresholds::parse(&args.approval_reminders)
            .map_err(|e| crate::outcome::bad_input(format!("--approval-reminders: {e}")))?;
        let app = args.windows.apply(args.db.open().await?)?.with_screening_bounds(bounds).with_approval_reminders(reminders);
        if args.demo {
            super::demo::load(&app, &args.scale, |line| eprintln!("{line}")).await?;
        } else if args.scale.scale != super::demo::Scale::Reference {
            return Err(CliError("--scale applies with --demo: bangfu serve --demo --scale province".into()));
        }
        // The registry index, loaded before the first request needs it.
        let indexed = app.warm_registry().await.map_err(app_error)?;
        tracing::info!("registry index: {indexed} capabilities");
        // The search index likewise.
        let searchable = app.warm_search().await.map_err(app_error)?;
        tracing::info!("search index: {searchable} documents");
        let allow = bangfu_web::outbound::AllowList::parse(&args.allow_outbound).map_err(CliError)?;
        if args.outbound_timeout == 0 || args.outbound_timeout > 300 {
            return Err(CliError(format!("--outbound-timeout {} — give 1 to 300 seconds", args.outbound_timeout)));
        }
        let timeout = std::time::Duration::from_secs(args.outbound_timeout);
        let extra_ca = match &args.outbound_ca {
            Some(path) => Some(std::fs::read(path).map_err(|e| crate::outcome::bad_input(format!("--outbound-ca {}: {e}", path.display())))?),
            None => None,
        };
        let outbound = bangfu_web::outbound::Outbound::with_ca(allow.clone(), timeout, extra_ca)
            .map_err(|e| crate::outcome::bad_input(format!("--outbound-ca: {e}")))?;
        if allow.is_empty() {
            tracing::warn!("outbox: no --allow-outbound host: notifications to channels fail until one is allowed");
        }
        let (listener, local) = bangfu_web::bind(&args.addr)
            .await
            .map_err(|e| CliError(format!("cannot listen on {}: {e} — choose another --addr", args.addr)))?;
        println!("bangfu listening on http://{local}");
        // The escalation pass, every minute; across servers on one database, once per minute.
        let escalation = tokio::spawn(super::escalate::every_minute(app.clone()));
        // The morning pass (08:00 UTC+8: missing returns flagged, the daily briefings kept),
        // tried every minute; across servers, once a day.
        let morning = tokio::spawn(every_morning(app.clone()));
        // Reminders of approvals nearing their deadline, tried every minute; across servers,
        // once per minute, and each reminder once.
        let reminding = tokio::spawn(every_minute_reminders(app.clone()));
        // The outbox's delivery worker: on every server; each message is claimed by one.
        let delivery = bangfu_app::outbox::DeliverySettings {
            server: bangfu_web::outbound::server_name(),
            base_url: args.base_url.trim_end_matches('/').to_string(),
            // The longest a message may take (an e-mail: three timeouts) and a margin.
            lease: chrono::TimeDelta::seconds(3 * args.outbound_timeout as i64 + 5),
        };
        let delivering = tokio::spawn(bangfu_web::outbound::deliver_forever(app.clone(), outbound, delivery, std::time::Duration::from_secs(2)));
        let settings = bangfu_web::Settings { trusted_proxies: args.trusted_proxies, printer: bangfu_web::pdf::Printer::new(args.chromium, args.font_dir) };
        let served = bangfu_web::serve_with(listener, app, settings, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
        escalation.abort();
        morning.abort();
        reminding.abort();
        delivering.abort();
        served.map_err(|e| CliError(format!("server failed: {e}")))?;
        Ok(Outcome::Ok)
    })
}

/// Tries the morning pass every minute with the server's clock; the first try at or after
/// 08:00 UTC+8 of a day, on any server of the database, does it.
async fn every_morning(app: bangfu_app::App) {
    let actor = bangfu_app::Actor::system("morning");
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let job = bangfu_web::logs::job_span("morning");
        let done = app.morning_scheduled(&actor, super::db::now()).instrument(job.clone()).await;
        job.in_scope(|| match done {
            Ok(Some(report)) => tracing::info!("morning pass for {}: {} missing returns flagged, {} briefings kept", report.day, report.missing, report.briefings),
            Ok(None) => {}
            Err(e) => tracing::error!("morning pass failed (tried again next minute): {e}"),
        });
    }
}

/// Tries the approval reminders' pass every minute with the server's clock (one server per
/// minute; each reminder once, see `bangfu_app::reminders`).
async fn every_minute_reminders(app: bangfu_app::App) {
    let actor = bangfu_app::Actor::system("reminders");
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let job = bangfu_web::logs::job_span("reminders");
        let done = app.remind_approvals_scheduled(&actor, super::db::now()).instrument(job.clone()).await;
        job.in_scope(|| match done {
            Ok(Some(sent)) if !sent.is_empty() => tracing::info!("approval reminders: {} sent", sent.len()),
            Ok(_) => {}
            Err(e) => tracing::error!("approval reminders' pass failed (tried again next minute): {e}"),
        });
    }
}

/// The server's logs: `tracing` to stderr, filtered by `RUST_LOG` — a level (`info`, the default;
/// `debug` adds a line per answered request) and `TARGET=LEVEL` pairs, comma-separated
/// (`warn,bangfu_web=debug`). Each line of a request names its `request{id=…}` (the id of its
/// answer's `x-request-id`), each line of a background job its `job{kind=… id=…}`.
fn init_logs(rust_log: Option<&str>) -> Result<(), CliError> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let spec = rust_log.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("info");
    let filter: tracing_subscriber::filter::Targets = spec.parse().map_err(|e| {
        crate::outcome::bad_input(format!("RUST_LOG={spec:?}: {e} — write a level or TARGET=LEVEL pairs, comma-separated, such as info,bangfu_web=debug"))
    })?;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .finish()
        .with(filter)
        .try_init()
        .map_err(|e| CliError(format!("cannot start the logs: {e}")))
}
