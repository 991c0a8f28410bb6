//! Notifications where officials work (issue 15): channels, the transactional outbox and its
//! delivery.
//!
//! A **channel** is where a department's (a provider's, an enterprise's) messages go: a 企业微信
//! or 钉钉 group robot, e-mail, or a signed webhook; kept by an administrator or the department's
//! own officer (a provider's or enterprise's own user for theirs). Its URL and secret are
//! credentials: every view masks them.
//!
//! Every notification a use case makes ([`App::notify`]) also writes, in the same transaction as
//! the change and its audit event, one **outbox** row per channel that chose that kind of event —
//! the message composed then, in Chinese, short, in the official register, with a link back. A
//! department's quiet hours hold a message until they end (escalations excepted).
//!
//! **Delivery** ([`App::deliver_due`]) is called by a worker on every server with the server's
//! clock: it claims due messages channel by channel in a short write (a lease, so each message is
//! one server's), sends them outside any transaction through a [`Deliver`] (the transports live
//! in `bangfu-web`), and records each attempt; a failure is retried on the schedule of
//! `bangfu_core::outbox::after_failure` and becomes a dead letter after a day. A robot takes at
//! most 20 messages a minute: messages due together are sent as one, and when the minute is full
//! they wait for it rather than being dropped. Each message carries an idempotency key derived
//! from its row, the same on every attempt.

use crate::error::bad;
use crate::{Actor, App, AppError, AppResult, Audit, from_millis, to_millis};
use bangfu_core::model::Role;
use bangfu_core::region::RegionCode;
use bangfu_core::outbox::{AfterFailure, AttemptOutcome, MessageStatus, ChannelKind, EventKind, MessageFormat, QuietHours, ROBOT_LIMIT, ROBOT_WINDOW, after_failure, china_minute, next_send_slot, receives};
use bangfu_core::routing::department_name;
use bangfu_store::{ApprovalRow, ChannelRow, NeedRow, NotificationRow, OutboxAttemptRow, OutboxRow, WriteTx};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::future::Future;

/// A channel as typed: by the CLI, the API or the page.
#[derive(Clone, Debug, Default)]
pub struct NewChannel {
    /// The department's region code; or
    pub department: Option<String>,
    /// a provider's id; or
    pub provider_id: Option<i64>,
    /// an enterprise's id.
    pub enterprise_id: Option<i64>,
    /// wecom, dingtalk, email or webhook.
    pub kind: String,
    pub label: String,
    /// The robot's or webhook's URL (`http://` or `https://`), or for e-mail
    /// `smtp://[user@]host[:port]?from=ADDR&to=ADDR,ADDR[&tls=starttls|none]` (`smtps://` for
    /// TLS from the start, port 465 by default).
    pub url: String,
    /// 钉钉: the robot's signing secret (SEC…); webhook: `whsec_` + base64; e-mail: the password.
    pub secret: String,
    /// Comma-separated event kinds (empty: every kind).
    pub events: String,
    /// 企业微信: mobile numbers to mention, comma-separated.
    pub mentions: String,
    /// `HH:MM-HH:MM` at UTC+8, or empty.
    pub quiet_hours: String,
    /// 企业微信, 钉钉: `text` (the default) or `markdown`.
    pub format: String,
}

/// A channel as shown: its credentials masked.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelView {
    pub id: i64,
    pub department: Option<String>,
    pub department_name: Option<String>,
    pub provider_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub kind: ChannelKind,
    pub label: String,
    /// Scheme, host, port and path; a query's values and any user name replaced by `***`.
    pub target: String,
    pub has_secret: bool,
    pub events: Vec<EventKind>,
    pub mentions: String,
    pub quiet_hours: Option<QuietHours>,
    pub format: MessageFormat,
    pub active: bool,
    pub created_at: i64,
}

/// One message as a transport sends it.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The idempotency key: the same on every attempt of the same message.
    pub key: String,
    /// The first line (the subject of a mail).
    pub title: String,
    /// The whole text, the link included.
    pub text: String,
    /// The same as markdown (a robot's markdown message): headings, the lines, the link to click.
    pub markdown: String,
    /// The page of bangfu to open (absolute when a base URL is set).
    pub link: String,
    /// The event kinds and outbox ids it carries (several when a robot's messages were grouped).
    pub items: Vec<(i64, String)>,
}

/// Sends a message on a channel; the error says why not (it is recorded, so it must not contain
/// the channel's secret).
pub trait Deliver: Send + Sync {
    fn deliver(&self, channel: &ChannelRow, message: &Message, now: DateTime<Utc>) -> impl Future<Output = Result<(), String>> + Send;
}

/// How a server delivers.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// This server's name in claims (random per process).
    pub server: String,
    /// bangfu's address as officials open it (`https://bangfu.example.gov.cn`), put before each
    /// message's link; empty: the link is a path.
    pub base_url: String,
    /// How long a claim lasts: longer than one message takes to send (the transport's timeout).
    pub lease: TimeDelta,
}

/// What one call of [`App::deliver_due`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages sent (a grouped robot message counts once) and the rows they carried.
    pub messages: usize,
    pub sent: usize,
    /// Rows that failed and wait for another attempt.
    pub failed: usize,
    /// Rows given up.
    pub dead: usize,
    /// Rows moved to a later minute by a robot's rate limit.
    pub deferred: usize,
}

/// One message about a need, with its attempts, as the delivery log shows it.
#[derive(Clone, Debug)]
pub struct DeliveryLine {
    pub message: OutboxRow,
    pub channel: Option<ChannelView>,
    pub attempts: Vec<OutboxAttemptRow>,
}

impl DeliveryLine {
    /// The idempotency key the row goes (or went) out under: its own, or its group's (a group
    /// is formed by a first attempt, which recorded the key).
    pub fn key(&self) -> String {
        match (self.message.group_id, self.attempts.last()) {
            (Some(_), Some(attempt)) => attempt.message_key.clone(),
            _ => idempotency_key(self.message.id),
        }
    }
}

/// The idempotency key of the message of outbox row `id`.
pub fn idempotency_key(id: i64) -> String {
    format!("bangfu-msg-{id}")
}

/// The idempotency key of a robot's message carrying several rows (ids ascending): the rows of
/// a group are kept together from the claim that formed it (`outbox.group_id`), so a retry of
/// the group, on any server, carries the same key.
fn group_key(ids: &[i64]) -> String {
    match ids {
        [one] => idempotency_key(*one),
        [first, .., last] => format!("bangfu-msg-{first}-{last}-{}", ids.len()),
        [] => String::new(),
    }
}

/// Text people typed, shown as typed in markdown: the markdown characters (`*`, `_`, `` ` ``,
/// `[`, `]`, `#`) replaced by their full-width forms.
fn markdown_plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '*' => '＊',
            '_' => '＿',
            '`' => '｀',
            '[' => '［',
            ']' => '］',
            '#' => '＃',
            other => other,
        })
        .collect()
}

/// A message's lines in markdown: each a `>` quote of its own (so 企业微信's and 钉钉's
/// renderers do not run them together), shown as typed.
fn markdown_lines(body: &str) -> String {
    body.lines().map(|line| format!("> {}", markdown_plain(line))).collect::<Vec<_>>().join("\n")
}

/// A URL split into what bangfu needs of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
    pub path: String,
    pub query: Vec<(String, String)>,
}

/// Parses `scheme://[user@]host[:port][/path][?query]` for the schemes a channel uses.
pub fn parse_url(url: &str) -> Result<ParsedUrl, String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("URL {:?} has no scheme — write it as https://host/path", mask_text(url)))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        "smtp" => 25,
        "smtps" => 465,
        _ => return Err(format!("URL scheme {scheme:?} is not one bangfu sends to — use https://, http://, smtp:// or smtps://")),
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match before_query.find('/') {
        Some(i) => (&before_query[..i], &before_query[i..]),
        None => (before_query, "/"),
    };
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((user, hostport)) => (Some(user.to_string()), hostport),
        None => (None, authority),
    };
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or("URL has an unclosed [ in its host")?;
            (host.to_string(), after.strip_prefix(':'))
        }
        None => match hostport.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (hostport.to_string(), None),
        },
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("URL has no host — write it as https://host/path".into());
    }
    let port = match port {
        Some(p) => p.parse::<u16>().map_err(|_| format!("URL port {p:?} is not a number from 1 to 65535"))?,
        None => default_port,
    };
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    Ok(ParsedUrl { scheme, user, host: host.to_ascii_lowercase(), port, path: path.to_string(), query })
}

impl ParsedUrl {
    /// `host:port`, as `--allow-outbound` names it.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') { format!("[{}]:{}", self.host, self.port) } else { format!("{}:{}", self.host, self.port) }
    }

    /// The URL without its credentials: a query's values and a user name are `***`; e-mail
    /// addresses are kept (they are not secret).
    pub fn masked(&self) -> String {
        let user = if self.user.is_some() { "***@" } else { "" };
        let query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| if matches!(k.as_str(), "to" | "from" | "tls") { format!("{k}={v}") } else { format!("{k}=***") })
            .collect();
        let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
        format!("{}://{user}{}{}{query}", self.scheme, self.host_port(), self.path)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A URL typed wrongly, without its secrets (for error messages).
fn mask_text(url: &str) -> String {
    match url.split_once('?') {
        Some((before, _)) => format!("{before}?***"),
        None => url.to_string(),
    }
}

/// Checks a channel's URL against its kind.
fn check_url(kind: ChannelKind, url: &str) -> Result<ParsedUrl, String> {
    let parsed = parse_url(url)?;
    match kind {
        ChannelKind::Email => {
            if !matches!(parsed.scheme.as_str(), "smtp" | "smtps") {
                return Err("an e-mail channel's URL is smtp://[user@]host[:port]?from=ADDR&to=ADDR,ADDR (smtps:// for TLS from the start)".into());
            }
            let addresses = |name: &str| parsed.param(name).map(|v| v.split(',').filter(|a| !a.trim().is_empty()).count()).unwrap_or(0);
            if addresses("to") == 0 || addresses("from") != 1 {
                return Err("an e-mail channel's URL names one sender and its recipients: smtp://host:587?from=bangfu@example.gov.cn&to=a@example.gov.cn,b@example.gov.cn".into());
            }
            if let Some(tls) = parsed.param("tls")
                && !matches!(tls, "starttls" | "none")
            {
                return Err(format!("tls={tls} — use tls=starttls (the default for smtp://) or tls=none (a local relay only)"));
            }
        }
        _ => {
            if !matches!(parsed.scheme.as_str(), "http" | "https") {
                return Err(format!("a {} channel's URL is https://… (or http:// to an intranet gateway)", kind.as_str()));
            }
        }
    }
    Ok(parsed)
}

/// A stored channel as shown.
pub fn channel_view(tree: &bangfu_core::RegionTree, c: &ChannelRow) -> ChannelView {
    ChannelView {
        id: c.id,
        department: c.department.map(|d| d.to_string()),
        department_name: c.department.map(|d| department_name(tree, d)),
        provider_id: c.provider_id,
        enterprise_id: c.enterprise_id,
        kind: c.kind,
        label: c.label.clone(),
        target: parse_url(&c.url).map(|u| u.masked()).unwrap_or_else(|_| "***".into()),
        has_secret: !c.secret.is_empty(),
        events: c.events.clone(),
        mentions: c.mentions.clone(),
        quiet_hours: c.quiet_from.zip(c.quiet_to).and_then(|(f, t)| QuietHours::from_minutes(f, t)),
        format: c.format,
        active: c.active,
        created_at: c.created_at,
    }
}

/// Takes a channel's credentials out of a text (an error from a transport, before it is
/// recorded).
pub fn scrub(text: &str, channel: &ChannelRow) -> String {
    let mut text = text.to_string();
    if !channel.secret.is_empty() {
        text = text.replace(&channel.secret, "***");
    }
    if let Ok(url) = parse_url(&channel.url) {
        for (k, v) in &url.query {
            if !v.is_empty() && !matches!(k.as_str(), "to" | "from" | "tls") {
                text = text.replace(v.as_str(), "***");
            }
        }
        if let Some(user) = &url.user {
            text = text.replace(user.as_str(), "***");
        }
    }
    text
}

/// What a notification asks of its recipient, by event.
fn ask(event: EventKind) -> &'static str {
    match event {
        EventKind::NeedNew => "请于响应时限内研究办理，选定提供方或报上级协调。",
        EventKind::NeedSelected => "请督促提供方按期供货，跟踪运输到位。",
        EventKind::SwitchProposed => "请研究是否改选提供方。",
        EventKind::Broadcast => "请推荐本地区可提供支持的企业。",
        EventKind::Escalated => "请贵单位研究协调解决，并及时反馈办理情况。",
        EventKind::Supervised => "请提请领导督办，限期解决。",
        EventKind::LetterDrafted => "请审核并发出公函。",
        EventKind::LetterSent => "请贵单位研究办理并函复。",
        EventKind::LetterAnswered => "特此告知，请跟进落实。",
        EventKind::ReturnLate => "请督促企业按时报送日报。",
        EventKind::ProviderAnswered => "请研究提供方答复，及时选定或另寻提供方。",
        EventKind::NeedChanged => "请及时查看并研究办理。",
        EventKind::Briefing => "请审阅。",
        EventKind::ApprovalDue => "请督促审批部门在时限内办结；确有困难的，请及时协调或报告。",
    }
}

/// A notification as a use case makes it: the in-app row, and what the outbox needs beside it.
pub(crate) struct Notice<'a> {
    pub event: EventKind,
    pub department: RegionCode,
    pub need: Option<&'a NeedRow>,
    pub text_zh: String,
    pub text_en: String,
    /// Why, in a sentence (the routing's explanation, an escalation's reason).
    pub why_zh: Option<String>,
    /// The page to link to, when not the need's.
    pub link: Option<String>,
    /// The approval it is about (its enterprise, item and deadline are written out).
    pub approval: Option<&'a ApprovalRow>,
}

/// Whom a notice reaches, as [`WriteTx::channels_of_notice`] takes it: its department; the
/// enterprise of the need's case for the need's arrival, choice and escalations, and of the
/// approval's case for its deadlines; the provider chosen, for its choice.
fn reach_of(notice: &Notice<'_>) -> (String, Option<i64>, Option<i64>, Option<i64>) {
    let need_case = notice
        .need
        .filter(|_| matches!(notice.event, EventKind::NeedNew | EventKind::NeedSelected | EventKind::Escalated | EventKind::Supervised))
        .map(|need| need.case_id);
    let approval_case = notice.approval.map(|approval| approval.case_id);
    let selected = notice.need.filter(|_| notice.event == EventKind::NeedSelected).and_then(|need| need.selected_candidate);
    (notice.department.to_string(), need_case, approval_case, selected)
}

impl App {
    /// Records a notification to a department (the pages' bell) and, in the same transaction,
    /// one outbox message per channel of the department — of the need's enterprise for its
    /// need's arrival, choice and escalations, of the provider chosen for its choice — that chose
    /// this kind of event.
    pub(crate) fn notify(&self, tx: &mut WriteTx, now: DateTime<Utc>, notice: Notice<'_>) -> AppResult<()> {
        let row = NotificationRow {
            id: 0,
            department: Some(notice.department),
            user_id: None,
            need_id: notice.need.map(|n| n.id),
            text_zh: notice.text_zh.clone(),
            text_en: notice.text_en.clone(),
            created_at: to_millis(now),
            read_at: None,
        };
        // The notification and the channels it reaches: one statement (a round trip inside the
        // write lock on PostgreSQL).
        let (department, need_case, approval_case, selected) = reach_of(&notice);
        let channels = tx.insert_notification_reaching(&row, &department, need_case, approval_case, selected)?;
        self.send_to(tx, now, notice, channels)
    }

    /// The outbox half of [`App::notify`]: one message per channel that chose the event (for
    /// what goes out without a notification on the pages, such as the daily briefing).
    pub(crate) fn send_out(&self, tx: &mut WriteTx, now: DateTime<Utc>, notice: Notice<'_>) -> AppResult<()> {
        let (department, need_case, approval_case, selected) = reach_of(&notice);
        let channels = tx.channels_of_notice(&department, need_case, approval_case, selected)?;
        self.send_to(tx, now, notice, channels)
    }

    /// One outbox message per channel of `channels` (those the notice reaches) that chose the
    /// notice's event.
    fn send_to(&self, tx: &mut WriteTx, now: DateTime<Utc>, notice: Notice<'_>, channels: Vec<ChannelRow>) -> AppResult<()> {
        let channels: Vec<ChannelRow> = channels.into_iter().filter(|c| receives(&c.events, notice.event)).collect();
        if channels.is_empty() {
            return Ok(());
        }
        let (title, body) = self.compose(tx, &notice)?;
        let link = notice.link.clone().or_else(|| notice.need.map(|n| format!("/needs/{}", n.id))).unwrap_or_else(|| "/notifications".into());
        for channel in channels {
            let quiet = channel.quiet_from.zip(channel.quiet_to).and_then(|(f, t)| QuietHours::from_minutes(f, t));
            let due = match quiet {
                Some(quiet) if !notice.event.is_escalation() => quiet.release(now),
                _ => now,
            };
            tx.insert_outbox(&OutboxRow {
                channel_id: channel.id,
                department: Some(notice.department),
                event: notice.event,
                need_id: notice.need.map(|n| n.id),
                title: title.clone(),
                body: body.clone(),
                link: link.clone(),
                created_at: to_millis(now),
                next_attempt_at: to_millis(due),
                // Written by the store as a new message: pending, not yet tried nor claimed.
                id: 0,
                status: MessageStatus::Pending,
                attempts: 0,
                lease_until: 0,
                claimed_by: String::new(),
                last_error: None,
                sent_at: None,
                group_id: None,
            })?;
        }
        // Wakes the delivery workers of every server when the write commits.
        tx.notify(OUTBOX_CHANNEL, "due")?;
        Ok(())
    }

    /// The message of a notice, in the official register: a title, then who, what, why, what is
    /// asked and by when (UTC+8). The link is added when it is sent.
    fn compose(&self, tx: &mut WriteTx, notice: &Notice<'_>) -> AppResult<(String, String)> {
        let subject = match (notice.need, notice.approval) {
            (Some(need), _) => need.title.clone(),
            (None, Some(approval)) => format!("{}（{}）", approval.item, approval.agency),
            (None, None) => notice.text_zh.lines().next().unwrap_or_default().to_string(),
        };
        let title = format!("【帮扶·{}】{subject}", notice.event.label_zh());
        let mut lines = vec![notice.text_zh.clone()];
        if let Some(need) = notice.need {
            if let Some(enterprise) = tx.enterprise_of_case(need.case_id)? {
                lines.push(format!("企业：{}（{}）", enterprise.name, self.tree.get(enterprise.region).map_or("", |r| r.name.as_str())));
            }
            lines.push(format!("诉求：{}，{}{}", need.title, need.quantity, need.unit));
            lines.push(format!("责任部门：{}", department_name(self.tree, need.owner)));
        }
        if let Some(approval) = notice.approval {
            if let Some(enterprise) = tx.enterprise_of_case(approval.case_id)? {
                lines.push(format!("企业：{}（{}）", enterprise.name, self.tree.get(enterprise.region).map_or("", |r| r.name.as_str())));
            }
            lines.push(format!("审批事项：{}（{}）", approval.item, approval.agency));
            lines.push(format!("绿色通道：{}", department_name(self.tree, approval.department)));
        }
        if let Some(why) = notice.why_zh.as_deref().filter(|w| !w.is_empty() && !notice.text_zh.contains(*w)) {
            lines.push(format!("缘由：{why}"));
        }
        lines.push(format!("请办理：{}", ask(notice.event)));
        if let Some(deadline) = notice.need.and_then(|n| n.deadline).or(notice.approval.and_then(|a| a.due_at)) {
            lines.push(format!("办理时限：{}（北京时间）", china_minute(from_millis(deadline))));
        }
        Ok((title, lines.join("\n")))
    }

    // ---- channels ----

    /// Adds a channel. An administrator adds any; an officer its own department's; a provider's
    /// or enterprise's user its own.
    pub async fn add_channel(&self, actor: &Actor, now: DateTime<Utc>, input: NewChannel) -> AppResult<ChannelView> {
        let owners = [input.department.is_some(), input.provider_id.is_some(), input.enterprise_id.is_some()].iter().filter(|o| **o).count();
        if owners != 1 {
            return Err(bad("a channel belongs to one department, provider or enterprise — give exactly one of department, provider_id, enterprise_id"));
        }
        let department = match &input.department {
            Some(code) => {
                let code = code.trim();
                let region = code.parse::<u32>().ok().map(bangfu_core::RegionCode::new_unchecked).filter(|r| self.tree.get(*r).is_some());
                let Some(region) = region else { return Err(bad(format!("department {code:?} is not a region code — give the six digits, for example 141021"))) };
                Some(self.tree.department_region(region))
            }
            None => None,
        };
        let allowed = match actor.role {
            Role::Admin => true,
            Role::Officer => department.is_some() && actor.department.map(|d| self.tree.department_region(d)) == department,
            Role::Provider => input.provider_id.is_some() && actor.provider_id == input.provider_id,
            Role::Enterprise => input.enterprise_id.is_some() && actor.enterprise_id == input.enterprise_id,
            Role::Viewer => false,
        };
        if !allowed {
            return Err(AppError::Forbidden("channels are kept by an administrator or the department's own officer (a provider's or enterprise's own user for theirs)".into()));
        }
        if let Some(p) = input.provider_id
            && self.store.provider(p).await?.is_none()
        {
            return Err(AppError::NotFound(format!("provider {p}")));
        }
        if let Some(e) = input.enterprise_id
            && self.store.enterprise(e).await?.is_none()
        {
            return Err(AppError::NotFound(format!("enterprise {e}")));
        }
        let kind = ChannelKind::parse(&input.kind).map_err(bad)?;
        let url = bangfu_core::text::clean(&input.url, 2000).map_err(|e| bad(format!("url {e}")))?;
        if url.contains(['\n', '\t', ' ']) {
            return Err(bad("url: no spaces or line breaks"));
        }
        check_url(kind, &url).map_err(bad)?;
        let secret = input.secret.trim().to_string();
        if secret.len() > 1000 || secret.chars().any(char::is_control) {
            return Err(bad("secret: at most 1,000 characters, no control characters"));
        }
        if kind == ChannelKind::Webhook && secret.is_empty() {
            return Err(bad("a webhook channel needs --secret (whsec_ followed by base64, per Standard Webhooks): its receiver checks the signature with it"));
        }
        if let Some(b64) = secret.strip_prefix("whsec_")
            && (b64.is_empty() || !b64.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
        {
            return Err(bad("secret: whsec_ must be followed by base64 (A–Z, a–z, 0–9, +, /, =)"));
        }
        let events = EventKind::parse_list(&input.events).map_err(bad)?;
        let mentions: Vec<String> = input.mentions.split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
        if let Some(m) = mentions.iter().find(|m| m.len() > 20 || !m.chars().all(|c| c.is_ascii_digit() || c == '+')) {
            return Err(bad(format!("mention {m:?} is not a mobile number (digits only, e.g. 13800000000)")));
        }
        let quiet = match input.quiet_hours.trim() {
            "" => None,
            text => Some(QuietHours::parse(text).map_err(bad)?),
        };
        let format = MessageFormat::parse(&input.format).map_err(bad)?;
        if format == MessageFormat::Markdown && !kind.is_robot() {
            return Err(bad("format markdown is for 企业微信 and 钉钉 robots — leave it out (or text) for e-mail and webhooks"));
        }
        if format == MessageFormat::Markdown && kind == ChannelKind::Wecom && !mentions.is_empty() {
            return Err(bad("企业微信's markdown messages cannot mention anyone by mobile number — choose format text to mention, or leave the mentions out"));
        }
        let label = bangfu_core::text::clean(&input.label, bangfu_core::text::NAME_CHARS).map_err(|e| bad(format!("label {e}")))?;
        let row = ChannelRow {
            id: 0,
            department,
            provider_id: input.provider_id,
            enterprise_id: input.enterprise_id,
            kind,
            label,
            url,
            secret,
            events,
            mentions: mentions.join(","),
            quiet_from: quiet.map(|q| q.minutes().0),
            quiet_to: quiet.map(|q| q.minutes().1),
            active: true,
            created_at: to_millis(now),
            format,
        };
        self.write_as(actor, move |app, actor, tx| {
            let mut row = row;
            row.id = tx.insert_channel(&row)?;
            let view = channel_view(app.tree, &row);
            Audit {
                actor,
                now,
                action: "channel.added",
                entity: format!("channel:{}", row.id),
                case_id: None,
                // The masked target only: the log never holds a credential.
                payload: json!({"kind": row.kind, "department": row.department, "provider_id": row.provider_id, "enterprise_id": row.enterprise_id,
                    "target": view.target, "events": row.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(","), "quiet_hours": quiet.map(|q| q.label()), "format": row.format}),
            }
            .append(tx)?;
            Ok(view)
        })
        .await
    }

    /// The channels `actor` keeps, by id: all for an administrator, its department's for an
    /// officer, its own for a provider or enterprise user.
    pub async fn channels(&self, actor: &Actor) -> AppResult<Vec<ChannelView>> {
        let rows = match actor.role {
            Role::Admin => self.store.channels().await?,
            Role::Officer | Role::Viewer => match actor.department {
                Some(d) => self.store.channels_of_department(&self.tree.department_region(d).to_string()).await?,
                None => Vec::new(),
            },
            Role::Provider => match actor.provider_id {
                Some(p) => self.store.channels_of_provider(p).await?,
                None => Vec::new(),
            },
            Role::Enterprise => match actor.enterprise_id {
                Some(e) => self.store.channels_of_enterprise(e).await?,
                None => Vec::new(),
            },
        };
        Ok(rows.iter().map(|c| channel_view(self.tree, c)).collect())
    }

    /// The name of the provider or enterprise a provider's or enterprise's user keeps channels
    /// for (what concerns it: its candidacies, its case's needs); none for anyone else.
    pub async fn own_party_name(&self, actor: &Actor) -> AppResult<Option<String>> {
        Ok(match (actor.role, actor.provider_id, actor.enterprise_id) {
            (Role::Provider, Some(p), _) => self.store.provider(p).await?.map(|p| p.name),
            (Role::Enterprise, _, Some(e)) => self.store.enterprise(e).await?.map(|e| e.name),
            _ => None,
        })
    }

    /// Turns a channel off (messages already written are still delivered).
    pub async fn remove_channel(&self, actor: &Actor, now: DateTime<Utc>, id: i64) -> AppResult<()> {
        self.write_as(actor, move |app, actor, tx| {
            let channel = tx.channel(id)?.ok_or_else(|| AppError::NotFound(format!("channel {id}")))?;
            if !app.may_keep_channel(actor, &channel) {
                return Err(AppError::NotFound(format!("channel {id}")));
            }
            tx.set_channel_active(id, false)?;
            Audit { actor, now, action: "channel.removed", entity: format!("channel:{id}"), case_id: None, payload: json!({"kind": channel.kind}) }.append(tx)?;
            Ok(())
        })
        .await
    }

    fn may_keep_channel(&self, actor: &Actor, channel: &ChannelRow) -> bool {
        match actor.role {
            Role::Admin => true,
            Role::Officer => actor.department.map(|d| self.tree.department_region(d)) == channel.department && channel.department.is_some(),
            Role::Provider => channel.provider_id.is_some() && actor.provider_id == channel.provider_id,
            Role::Enterprise => channel.enterprise_id.is_some() && actor.enterprise_id == channel.enterprise_id,
            Role::Viewer => false,
        }
    }

    // ---- delivery ----

    /// Delivers what is due at `now`: for each channel with a message due, claims (a short
    /// write) the next message — for a robot the messages due together, up to 20, as one —
    /// sends it outside any transaction, and records the attempt. Returns what it did.
    pub async fn deliver_due(&self, deliver: &impl Deliver, settings: &DeliverySettings, now: DateTime<Utc>) -> AppResult<DeliveryReport> {
        let mut report = DeliveryReport::default();
        let due = self.store.outbox_due_channels(to_millis(now), 100).await?;
        for channel_id in due.into_iter().map(|c| c.channel_id) {
            // Up to 20 messages per channel per call, so that one busy channel does not hold up
            // the others.
            for _ in 0..20 {
                if !self.deliver_one(deliver, settings, now, channel_id, &mut report).await? {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Claims, sends and records one message of a channel; false when nothing was due.
    async fn deliver_one(&self, deliver: &impl Deliver, settings: &DeliverySettings, now: DateTime<Utc>, channel_id: i64, report: &mut DeliveryReport) -> AppResult<bool> {
        let now_ms = to_millis(now);
        let lease_until = to_millis(now + settings.lease);
        /// What the claiming write found.
        enum Claim {
            Gone,
            Deferred(usize),
            Claimed(Box<bangfu_store::ChannelRow>, Vec<bangfu_store::OutboxRow>),
        }
        let server = settings.server.clone();
        let claim = self
            .write(move |_, tx| {
                let Some(channel) = tx.channel(channel_id)? else { return Ok(Claim::Gone) };
                let kind = channel.kind;
                if kind.is_robot() {
                    let sent: Vec<DateTime<Utc>> =
                        tx.messages_sent_since(channel_id, to_millis(now - ROBOT_WINDOW))?.into_iter().map(|m| from_millis(m.at)).collect();
                    let slot = next_send_slot(&sent, now, ROBOT_LIMIT, ROBOT_WINDOW);
                    if slot > now {
                        return Ok(Claim::Deferred(tx.defer_outbox(channel_id, now_ms, to_millis(slot))? as usize));
                    }
                }
                let limit = if kind.is_robot() { ROBOT_LIMIT as i64 } else { 1 };
                Ok(Claim::Claimed(Box::new(channel), tx.claim_outbox(channel_id, now_ms, lease_until, &server, limit)?))
            })
            .await?;
        let (channel, claimed) = match claim {
            Claim::Gone => return Ok(false),
            Claim::Deferred(deferred) => {
                report.deferred += deferred;
                return Ok(false);
            }
            Claim::Claimed(channel, claimed) => (*channel, claimed),
        };
        if claimed.is_empty() {
            return Ok(false);
        }
        let message = self.message_of(&claimed, &settings.base_url);
        let outcome = deliver.deliver(&channel, &message, now).await.map_err(|e| scrub(&e, &channel));
        // The rows of a group share one fate (sent, retried at one moment, or dead), so that they
        // stay one message: the schedule of the oldest row and the most attempts.
        let created_at = claimed.iter().map(|r| r.created_at).min().unwrap_or(now_ms);
        let attempts = u32::try_from(claimed.iter().map(|r| r.attempts).max().unwrap_or(0) + 1).unwrap_or(u32::MAX);
        let (status, next, outcome_name) = match &outcome {
            Ok(()) => (MessageStatus::Sent, None, AttemptOutcome::Sent),
            Err(_) => match after_failure(from_millis(created_at), attempts, now) {
                AfterFailure::RetryAt(at) => (MessageStatus::Pending, Some(to_millis(at)), AttemptOutcome::Failed),
                AfterFailure::Dead => (MessageStatus::Dead, None, AttemptOutcome::Dead),
            },
        };
        let server = settings.server.clone();
        let message_key = message.key.clone();
        let succeeded = outcome.is_ok();
        let error = outcome.err();
        let counted = self
            .write(move |_, tx| {
                let mut counted = 0;
                for row in &claimed {
                    let next = next.unwrap_or(row.next_attempt_at);
                    if tx.finish_outbox_attempt(row.id, &server, lease_until, status, next, error.as_deref(), succeeded.then_some(now_ms))? {
                        tx.insert_outbox_attempt(&OutboxAttemptRow {
                            id: 0,
                            outbox_id: row.id,
                            channel_id,
                            at: now_ms,
                            outcome: outcome_name,
                            error: error.clone(),
                            message_key: message_key.clone(),
                            grouped: claimed.len() as i64,
                        })?;
                        counted += 1;
                    }
                }
                Ok(counted)
            })
            .await?;
        match outcome_name {
            AttemptOutcome::Sent => report.sent += counted,
            AttemptOutcome::Failed => report.failed += counted,
            AttemptOutcome::Dead => report.dead += counted,
        }
        if succeeded {
            report.messages += 1;
        }
        Ok(true)
    }

    /// The message carrying `rows` (one, or a robot's several due together).
    fn message_of(&self, rows: &[OutboxRow], base_url: &str) -> Message {
        let base = base_url.trim_end_matches('/');
        let link_of = |row: &OutboxRow| format!("{base}{}", row.link);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let items = rows.iter().map(|r| (r.id, r.event.as_str().to_string())).collect();
        match rows {
            [one] => Message {
                key: idempotency_key(one.id),
                title: one.title.clone(),
                text: format!("{}\n{}\n详情：{}", one.title, one.body, link_of(one)),
                markdown: format!("### {}\n{}\n[查看详情]({})", markdown_plain(&one.title), markdown_lines(&one.body), link_of(one)),
                link: link_of(one),
                items,
            },
            _ => {
                let mut text = format!("【帮扶】共{}条通知（为免超过群机器人每分钟条数限制，合并发送）", rows.len());
                let mut markdown = format!("### 【帮扶】共{}条通知\n为免超过群机器人每分钟条数限制，合并发送。", rows.len());
                for (i, row) in rows.iter().enumerate() {
                    text.push_str(&format!("\n\n{}. {}\n{}\n详情：{}", i + 1, row.title, row.body, link_of(row)));
                    markdown.push_str(&format!("\n\n#### {}. {}\n{}\n[查看详情]({})", i + 1, markdown_plain(&row.title), markdown_lines(&row.body), link_of(row)));
                }
                Message { key: group_key(&ids), title: format!("【帮扶】共{}条通知", rows.len()), text, markdown, link: format!("{base}/notifications"), items }
            }
        }
    }

    // ---- the delivery log ----

    /// The messages about a need and their attempts, for the officers (and administrators,
    /// viewers) who see the need; an enterprise or provider user who sees it gets none (a
    /// message may name a competing provider).
    pub async fn need_deliveries(&self, actor: &Actor, need_id: i64) -> AppResult<Vec<DeliveryLine>> {
        self.need_detail(actor, need_id).await?;
        if matches!(actor.role, Role::Provider | Role::Enterprise) {
            return Ok(Vec::new());
        }
        let messages = self.store.outbox_of_need(need_id).await?;
        let attempts = self.store.outbox_attempts_of_need(need_id).await?;
        self.delivery_lines(messages, attempts).await
    }

    async fn delivery_lines(&self, messages: Vec<OutboxRow>, attempts: Vec<OutboxAttemptRow>) -> AppResult<Vec<DeliveryLine>> {
        let mut lines = Vec::with_capacity(messages.len());
        let mut channels: std::collections::BTreeMap<i64, Option<ChannelView>> = Default::default();
        for message in messages {
            if let std::collections::btree_map::Entry::Vacant(entry) = channels.entry(message.channel_id) {
                entry.insert(self.store.channel(message.channel_id).await?.map(|c| channel_view(self.tree, &c)));
            }
            let channel = channels.get(&message.channel_id).cloned().flatten();
            let mine = attempts.iter().filter(|a| a.outbox_id == message.id).cloned().collect();
            lines.push(DeliveryLine { message, channel, attempts: mine });
        }
        Ok(lines)
    }

    /// A page of the outbox for an administrator, by id, optionally in one status
    /// (pending, sent, dead).
    pub async fn outbox(&self, actor: &Actor, status: Option<&str>, after: i64, limit: i64) -> AppResult<Vec<DeliveryLine>> {
        if actor.role != Role::Admin {
            return Err(AppError::Forbidden("the outbox is read by administrators (a department reads its messages on each need's page)".into()));
        }
        let limit = limit.clamp(1, 500);
        let messages = match status.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => match MessageStatus::parse(s) {
                Ok(status) => self.store.outbox_in_status_after(status, after, limit).await?,
                Err(_) => return Err(bad(format!("status {s:?} — use pending, sent or dead"))),
            },
            None => self.store.outbox_after(after, limit).await?,
        };
        let mut lines = Vec::with_capacity(messages.len());
        for message in messages {
            let attempts = self.store.outbox_attempts_of(message.id).await?;
            lines.extend(self.delivery_lines(vec![message], attempts).await?);
        }
        Ok(lines)
    }

    /// Puts a dead (or waiting) message back in line for `now`: an administrator's, or the
    /// department's own officer's.
    pub async fn retry_message(&self, actor: &Actor, now: DateTime<Utc>, id: i64) -> AppResult<OutboxRow> {
        self.write_as(actor, move |app, actor, tx| {
            let row = tx.outbox_item(id)?.ok_or_else(|| AppError::NotFound(format!("message {id}")))?;
            let allowed = actor.role == Role::Admin
                || (actor.role == Role::Officer && actor.department.map(|d| app.tree.department_region(d)) == row.department && row.department.is_some());
            if !allowed {
                return Err(AppError::NotFound(format!("message {id}")));
            }
            if row.status == MessageStatus::Sent {
                return Err(AppError::Conflict(format!("message {id} was sent at {} — nothing to retry", china_minute(from_millis(row.sent_at.unwrap_or(0))))));
            }
            tx.retry_outbox(id, to_millis(now))?;
            Audit { actor, now, action: "outbox.retried", entity: format!("outbox:{id}"), case_id: None, payload: json!({"was": row.status, "attempts": row.attempts}) }
                .append(tx)?;
            tx.notify(OUTBOX_CHANNEL, "due")?;
            Ok(tx_free_row(row, now))
        })
        .await
    }

    /// A listener woken, on any server, when a message is written or put back in line.
    pub async fn listen_outbox(&self) -> AppResult<bangfu_store::Listener> {
        Ok(self.store.listen(&[OUTBOX_CHANNEL]).await?)
    }
}

/// The row as it is after a retry.
fn tx_free_row(mut row: OutboxRow, now: DateTime<Utc>) -> OutboxRow {
    row.status = MessageStatus::Pending;
    row.next_attempt_at = to_millis(now);
    row.lease_until = 0;
    row.claimed_by = String::new();
    row
}

/// The channel on which new messages wake the delivery workers.
pub const OUTBOX_CHANNEL: &str = "outbox";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_keys() {
        let url = parse_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx").unwrap();
        assert_eq!(url.masked(), "https://qyapi.weixin.qq.com:443/cgi-bin/webhook/send?key=***");
        let mail = parse_url("smtps://bangfu:pw@smtp.example.gov.cn?from=a@x.cn&to=b@x.cn").unwrap();
        assert_eq!(mail.masked(), "smtps://***@smtp.example.gov.cn:465/?from=a@x.cn&to=b@x.cn");
        assert_eq!(mail.host_port(), "smtp.example.gov.cn:465");
    }

    #[test]
    fn wrong_urls_say_how_to_write_them() {
        assert!(parse_url("qyapi.weixin.qq.com/x?key=SECRET").unwrap_err().contains("https://"));
        assert!(!parse_url("qyapi.weixin.qq.com/x?key=SECRET").unwrap_err().contains("SECRET"));
        assert!(check_url(ChannelKind::Email, "smtp://relay?to=a@b.cn").unwrap_err().contains("from="));
        assert!(check_url(ChannelKind::Wecom, "smtp://relay?to=a@b.cn&from=c@d.cn").is_err());
        assert!(parse_url("http://127.0.0.1:99999/").unwrap_err().contains("65535"));
    }

    #[test]
    fn errors_lose_the_channel_s_credentials() {
        let channel = ChannelRow {
            id: 1,
            department: None,
            provider_id: Some(1),
            enterprise_id: None,
            kind: ChannelKind::Dingtalk,
            label: String::new(),
            url: "https://oapi.dingtalk.com/robot/send?access_token=tok123".into(),
            secret: "SECabc".into(),
            events: Vec::new(),
            mentions: String::new(),
            quiet_from: None,
            quiet_to: None,
            active: true,
            created_at: 0,
            format: MessageFormat::Text,
        };
        assert_eq!(scrub("POST ...access_token=tok123 signed SECabc failed", &channel), "POST ...access_token=*** signed *** failed");
    }

    #[test]
    fn markdown_shows_what_people_typed_as_typed() {
        assert_eq!(markdown_lines("诉求：*急* [A]_1\n#2"), "> 诉求：＊急＊ ［A］＿1\n> ＃2");
    }

    #[test]
    fn grouped_messages_have_a_key_of_their_rows() {
        assert_eq!(group_key(&[7]), "bangfu-msg-7");
        assert_eq!(group_key(&[7, 8, 12]), "bangfu-msg-7-12-3");
    }
}
