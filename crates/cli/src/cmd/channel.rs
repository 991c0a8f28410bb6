//! `bangfu channel add|list|remove`: where a department's notifications go (issue 15) — a 企业微信
//! or 钉钉 group robot, e-mail, or a signed webhook. Secrets are taken, never printed: `list`
//! shows a URL without its query's values and a secret as "set".

use super::db::{DbArgs, app_error, now, operator, runtime};
use crate::outcome::{CliResult, Outcome};
use bangfu_app::outbox::{ChannelView, NewChannel};
use bangfu_core::text::printable;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
enum Command {
    /// Add a channel to a department (or a provider, an enterprise)
    #[command(after_help = "Kinds and URLs:\n  \
        wecom     企业微信群机器人  https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY (the key is the credential)\n  \
        dingtalk  钉钉群机器人      https://oapi.dingtalk.com/robot/send?access_token=T  --secret SEC… (signing)\n  \
        email     电子邮件          smtp://[USER@]HOST[:587]?from=ADDR&to=ADDR,ADDR  (STARTTLS; smtps://HOST:465 for TLS\n                              from the start; &tls=none only for a local relay)  --secret PASSWORD\n  \
        webhook   Standard Webhooks https://HOST/PATH  --secret whsec_BASE64 (webhook-id, webhook-timestamp, webhook-signature)\n\
        Events (--events, comma-separated; none: every event):\n  \
        need.new need.selected need.switch_proposed need.broadcast need.escalated need.supervised\n  \
        letter.drafted letter.sent letter.answered return.late need.answered need.changed briefing.daily\n\
        Messages go only to hosts `bangfu serve --allow-outbound` names.")]
    Add {
        /// The department's region code (for example 141021 曲沃县)
        #[arg(long, required_unless_present_any = ["provider", "enterprise"])]
        department: Option<String>,
        /// Or a provider's id (it receives what concerns it)
        #[arg(long, conflicts_with = "department")]
        provider: Option<i64>,
        /// Or an enterprise's id (it receives what concerns its case's needs)
        #[arg(long, conflicts_with_all = ["department", "provider"])]
        enterprise: Option<i64>,
        /// wecom, dingtalk, email or webhook
        #[arg(long)]
        kind: String,
        /// The robot's or webhook's URL, or smtp://… for e-mail (see below)
        #[arg(long)]
        url: String,
        /// 钉钉's signing secret, the webhook's whsec_… secret or the mail password (never shown back)
        #[arg(long, env = "BANGFU_CHANNEL_SECRET", hide_env_values = true, default_value = "")]
        secret: String,
        /// The events it receives, comma-separated (default: every event)
        #[arg(long, default_value = "")]
        events: String,
        /// 企业微信 / 钉钉: mobile numbers to mention, comma-separated
        #[arg(long, default_value = "")]
        mentions: String,
        /// Quiet hours at UTC+8, HH:MM-HH:MM (escalations are sent all the same)
        #[arg(long, default_value = "")]
        quiet_hours: String,
        /// A name for people (for example 曲沃县帮扶专班群)
        #[arg(long, default_value = "")]
        label: String,
        /// 企业微信 / 钉钉: text (the default; mentions by mobile number) or markdown
        #[arg(long, default_value = "text")]
        format: String,
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List the channels, by id (URLs without their keys, secrets as "set")
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Turn a channel off (messages already written are still delivered)
    Remove {
        /// The channel id
        id: i64,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(args: Args) -> CliResult {
    runtime()?.block_on(async {
        match args.command {
            Command::Add { department, provider, enterprise, kind, url, secret, events, mentions, quiet_hours, label, format, db, json } => {
                let app = db.open().await?;
                let input = NewChannel { department, provider_id: provider, enterprise_id: enterprise, kind, label, url, secret, events, mentions, quiet_hours, format };
                let added = app.add_channel(&operator(), now(), input).await;
                app.close().await;
                let view = added.map_err(app_error)?;
                if json {
                    println!("{}", bangfu_web::json::channel(&view));
                } else {
                    println!("channel {} added: {}", view.id, printable(&line(&view)));
                }
                Ok(Outcome::Ok)
            }
            Command::List { db, json } => {
                let app = db.open().await?;
                let channels = app.channels(&operator()).await;
                app.close().await;
                let channels = channels.map_err(app_error)?;
                if json {
                    println!("{}", serde_json::Value::from(channels.iter().map(bangfu_web::json::channel).collect::<Vec<_>>()));
                } else {
                    for c in &channels {
                        println!("{}\t{}", c.id, printable(&line(c)));
                    }
                }
                Ok(Outcome::Ok)
            }
            Command::Remove { id, db } => {
                let app = db.open().await?;
                let removed = app.remove_channel(&operator(), now(), id).await;
                app.close().await;
                match removed {
                    Ok(()) => {
                        println!("channel {id} turned off");
                        Ok(Outcome::Ok)
                    }
                    Err(bangfu_app::AppError::NotFound(what)) => {
                        eprintln!("{what} not found — `bangfu channel list` shows the channels");
                        Ok(Outcome::NotFound)
                    }
                    Err(e) => Err(app_error(e)),
                }
            }
        }
    })
}

/// One channel on a line: owner, kind, target, secret, events, quiet hours.
fn line(c: &ChannelView) -> String {
    let owner = match (&c.department, c.provider_id, c.enterprise_id) {
        (Some(d), _, _) => format!("{d} {}", c.department_name.clone().unwrap_or_default()),
        (_, Some(p), _) => format!("provider {p}"),
        (_, _, Some(e)) => format!("enterprise {e}"),
        _ => String::new(),
    };
    let events = if c.events.is_empty() { "every event".to_string() } else { c.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",") };
    format!(
        "{owner}\t{} {}\t{}\tsecret: {}\tevents: {events}{}{}{}",
        c.kind.as_str(),
        c.kind.label_zh(),
        c.target,
        if c.has_secret { "set" } else { "none" },
        c.quiet_hours.map(|q| format!("\tquiet {} (UTC+8)", q.label())).unwrap_or_default(),
        if c.label.is_empty() { String::new() } else { format!("\t{}", c.label) },
        if c.active { "" } else { "\t(off)" },
    )
}
