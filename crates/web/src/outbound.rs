//! The outbox's transports (issue 15): how a message reaches a 企业微信 or 钉钉 group robot, a
//! signed webhook or an e-mail address — and the delivery worker each server runs.
//!
//! Nothing is contacted but the hosts an administrator allowed (`bangfu serve --allow-outbound
//! HOST[:PORT],…`, `BANGFU_ALLOW_OUTBOUND`): a message to any other fails with an error that
//! says so, recorded like any failure. Redirects are not followed. Each HTTP message carries
//! its idempotency key (`Idempotency-Key`; a webhook's `webhook-id`), an e-mail its
//! `Message-ID`. The signatures:
//! - 钉钉: `&timestamp=MS&sign=S` added to the robot's URL, S = URL-encode(base64(HMAC-SHA256(key =
//!   secret, message = timestamp + "\n" + secret))), when the channel has a secret.
//! - Standard Webhooks: `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature: v1,` +
//!   base64(HMAC-SHA256(key, "id.timestamp.body")), the key being the base64 after `whsec_` (or
//!   the secret's bytes as typed, without that prefix).
//!
//! Errors are recorded, so they never carry a URL's query (a robot's key) or a secret: the
//! HTTP client's errors are taken without their URL, and `bangfu_app::outbox::scrub` passes
//! over every error before it is kept.

use bangfu_app::outbox::{Deliver, DeliverySettings, Message, ParsedUrl, parse_url};
use bangfu_app::App;
use bangfu_core::outbox::{ChannelKind, MessageFormat};
use bangfu_store::ChannelRow;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use tracing::Instrument;

/// The hosts bangfu may send to: `HOST` (any port) or `HOST:PORT` (`[::1]:8080` for IPv6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<(String, Option<u16>)>,
}

impl AllowList {
    /// Parses a comma-separated list.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut entries = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let wrong = || format!("--allow-outbound {item:?} is not HOST or HOST:PORT (for example qyapi.weixin.qq.com:443 or 127.0.0.1:9000)");
            let (host, port) = if let Some(v6) = item.strip_prefix('[') {
                let (host, rest) = v6.split_once(']').ok_or_else(wrong)?;
                (host.to_string(), rest.strip_prefix(':').map(str::to_string))
            } else {
                match item.rsplit_once(':') {
                    Some((host, port)) => (host.to_string(), Some(port.to_string())),
                    None => (item.to_string(), None),
                }
            };
            if host.is_empty() || host.contains(['/', '@', '?', ' ']) {
                return Err(wrong());
            }
            let port = port.map(|p| p.parse::<u16>().map_err(|_| wrong())).transpose()?;
            entries.push((host.to_ascii_lowercase(), port));
        }
        Ok(AllowList { entries })
    }

    pub fn allows(&self, url: &ParsedUrl) -> bool {
        self.entries.iter().any(|(host, port)| *host == url.host && port.is_none_or(|p| p == url.port))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The transports, with the allowed hosts, the time a message may take and the CA certificates
/// trusted besides the system's.
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
    allow: AllowList,
    timeout: Duration,
    /// PEM certificates of an office's own CA (`--outbound-ca`), for SMTP over TLS (the HTTP
    /// client has them already).
    extra_ca: Option<std::sync::Arc<Vec<u8>>>,
}

impl Outbound {
    /// Trusting the system's CA certificates only.
    pub fn new(allow: AllowList, timeout: Duration) -> Result<Outbound, String> {
        Outbound::with_ca(allow, timeout, None)
    }

    /// Trusting also the CA certificates of `extra_ca` (PEM, one or more: `bangfu serve
    /// --outbound-ca FILE`), for an intranet mail server or gateway whose certificate an office's
    /// own CA signed; for HTTPS and SMTP over TLS alike.
    pub fn with_ca(allow: AllowList, timeout: Duration, extra_ca: Option<Vec<u8>>) -> Result<Outbound, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // No proxy from the environment (HTTP_PROXY…): a proxy would be a host contacted
            // that --allow-outbound does not name.
            .no_proxy()
            .user_agent("bangfu-outbox");
        if let Some(pem) = &extra_ca {
            let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("the extra CA certificates are not PEM certificates: {e}"))?;
            if certificates.is_empty() {
                return Err("the extra CA file holds no certificate (-----BEGIN CERTIFICATE----- … in PEM)".into());
            }
            lettre::transport::smtp::client::Certificate::from_pem(pem).map_err(|e| format!("the extra CA certificates are not PEM certificates: {e}"))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder.build().map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Outbound { client, allow, timeout, extra_ca: extra_ca.map(std::sync::Arc::new) })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    async fn post(&self, url: &str, body: String, headers: &[(&str, String)], key: &str) -> Result<String, String> {
        let mut request = self.client.post(url).header("Content-Type", "application/json").header("Idempotency-Key", key).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let answer = request.send().await.map_err(|e| self.http_error(e))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| self.http_error(e))?;
        if !status.is_success() {
            return Err(format!("HTTP {} — {}", status.as_u16(), excerpt(&text)));
        }
        Ok(text)
    }

    fn http_error(&self, error: reqwest::Error) -> String {
        let timed_out = error.is_timeout();
        let connect = error.is_connect();
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if timed_out {
            format!("no answer within {} s (timed out): {text}", self.timeout.as_secs_f64())
        } else if connect {
            format!("could not connect: {text}")
        } else {
            text
        }
    }

    /// A robot answers 200 with `{"errcode":0,…}`; anything else is a failure.
    fn robot_answer(text: &str) -> Result<(), String> {
        let answer: serde_json::Value = serde_json::from_str(text).map_err(|_| format!("the robot answered something other than JSON: {}", excerpt(text)))?;
        match answer.get("errcode").and_then(serde_json::Value::as_i64) {
            Some(0) => Ok(()),
            Some(code) => Err(format!("the robot refused the message: errcode {code}, {}", answer.get("errmsg").and_then(serde_json::Value::as_str).unwrap_or(""))),
            None => Err(format!("the robot's answer has no errcode: {}", excerpt(text))),
        }
    }

    /// 企业微信: text with `mentioned_mobile_list`, or markdown (which mentions no one by mobile).
    async fn wecom(&self, channel: &ChannelRow, message: &Message) -> Result<(), String> {
        let mentions: Vec<&str> = channel.mentions.split(',').filter(|m| !m.is_empty()).collect();
        let body = match channel.format {
            MessageFormat::Text => serde_json::json!({"msgtype": "text", "text": {"content": message.text, "mentioned_mobile_list": mentions}}),
            MessageFormat::Markdown => serde_json::json!({"msgtype": "markdown", "markdown": {"content": message.markdown}}),
        };
        let text = self.post(&channel.url, body.to_string(), &[], &message.key).await?;
        Outbound::robot_answer(&text)
    }

    async fn dingtalk(&self, channel: &ChannelRow, message: &Message, now: DateTime<Utc>) -> Result<(), String> {
        let mut url = channel.url.clone();
        if !channel.secret.is_empty() {
            let timestamp = now.timestamp_millis();
            let sign = dingtalk_sign(&channel.secret, timestamp);
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("timestamp={timestamp}&sign={}", url_encode(&sign)));
        }
        // 钉钉 mentions a member whose mobile number is in `atMobiles` and written in the text
        // as `@number`.
        let mentions: Vec<&str> = channel.mentions.split(',').filter(|m| !m.is_empty()).collect();
        let at_line = mentions.iter().map(|m| format!("@{m}")).collect::<Vec<_>>().join(" ");
        let with_mentions = |text: &str| if at_line.is_empty() { text.to_string() } else { format!("{text}\n{at_line}") };
        let at = serde_json::json!({"atMobiles": mentions, "isAtAll": false});
        let body = match channel.format {
            MessageFormat::Text => serde_json::json!({"msgtype": "text", "text": {"content": with_mentions(&message.text)}, "at": at}),
            MessageFormat::Markdown => serde_json::json!({"msgtype": "markdown", "markdown": {"title": message.title, "text": with_mentions(&message.markdown)}, "at": at}),
        };
        let text = self.post(&url, body.to_string(), &[], &message.key).await?;
        Outbound::robot_answer(&text)
    }

    async fn webhook(&self, channel: &ChannelRow, message: &Message, now: DateTime<Utc>) -> Result<(), String> {
        let events: Vec<serde_json::Value> = message.items.iter().map(|(id, event)| serde_json::json!({"outbox_id": id, "event": event})).collect();
        let body = serde_json::json!({
            "type": "bangfu.notification",
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "data": {"id": message.key, "title": message.title, "text": message.text, "link": message.link, "events": events},
        })
        .to_string();
        let timestamp = now.timestamp();
        let signature = standard_webhook_signature(&channel.secret, &message.key, timestamp, &body)?;
        let headers = [("webhook-id", message.key.clone()), ("webhook-timestamp", timestamp.to_string()), ("webhook-signature", signature)];
        self.post(&channel.url, body, &headers, &message.key).await.map(drop)
    }

    async fn email(&self, channel: &ChannelRow, url: &ParsedUrl, message: &Message, now: DateTime<Utc>) -> Result<(), String> {
        use lettre::address::{Address, Envelope};
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
        let parse = |a: &str| a.trim().parse::<Address>().map_err(|e| format!("e-mail address {a:?}: {e}"));
        let from = parse(url.param("from").unwrap_or_default())?;
        let to = url.param("to").unwrap_or_default().split(',').filter(|a| !a.trim().is_empty()).map(parse).collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(from.clone()), to.clone()).map_err(|e| format!("the mail's envelope: {e}"))?;
        let mail = mail_text(from.as_ref(), &to.iter().map(Address::to_string).collect::<Vec<_>>(), message, now);
        // TLS checks the server's certificate against the system's CA certificates and the
        // office's own (`--outbound-ca`), and its name against the URL's host.
        let tls = || {
            let mut parameters = TlsParameters::builder(url.host.clone());
            if let Some(pem) = &self.extra_ca {
                parameters = parameters.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("the extra CA certificates: {e}"))?);
            }
            parameters.build_rustls().map_err(|e| format!("TLS for {}: {e}", url.host))
        };
        let security = match (url.scheme.as_str(), url.param("tls")) {
            ("smtps", _) => Tls::Wrapper(tls()?),
            (_, Some("none")) => Tls::None,
            _ => Tls::Required(tls()?),
        };
        let mut relay = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&url.host).tls(security).port(url.port).timeout(Some(self.timeout));
        if let Some(user) = &url.user {
            relay = relay.credentials(Credentials::new(user.clone(), channel.secret.clone()));
        }
        let transport = relay.build();
        match tokio::time::timeout(self.timeout * 3, transport.send_raw(&envelope, mail.as_bytes())).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("SMTP: {e}")),
            Err(_) => Err(format!("no answer within {} s (timed out)", (self.timeout * 3).as_secs_f64())),
        }
    }
}

/// A plain-text mail in UTF-8 (RFC 5322 with MIME): the subject as an RFC 2047 encoded word,
/// the body in base64 lines, the idempotency key as its `Message-ID`.
pub fn mail_text(from: &str, to: &[String], message: &Message, now: DateTime<Utc>) -> String {
    let mut mail = String::new();
    mail.push_str(&format!("From: <{from}>\r\n"));
    mail.push_str(&format!("To: {}\r\n", to.iter().map(|t| format!("<{t}>")).collect::<Vec<_>>().join(", ")));
    mail.push_str(&format!("Subject: =?UTF-8?B?{}?=\r\n", BASE64.encode(message.title.as_bytes())));
    mail.push_str(&format!("Date: {}\r\n", now.to_rfc2822()));
    mail.push_str(&format!("Message-ID: <{}@bangfu>\r\n", message.key));
    mail.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    let body = BASE64.encode(message.text.as_bytes());
    for line in body.as_bytes().chunks(76) {
        mail.push_str(&String::from_utf8_lossy(line));
        mail.push_str("\r\n");
    }
    mail
}

impl Deliver for Outbound {
    async fn deliver(&self, channel: &ChannelRow, message: &Message, now: DateTime<Utc>) -> Result<(), String> {
        let url = parse_url(&channel.url)?;
        if !self.allow.allows(&url) {
            return Err(format!(
                "{} is not an allowed host — an administrator allows it with bangfu serve --allow-outbound {} (or BANGFU_ALLOW_OUTBOUND)",
                url.host_port(),
                url.host_port()
            ));
        }
        match channel.kind {
            ChannelKind::Wecom => self.wecom(channel, message).await,
            ChannelKind::Dingtalk => self.dingtalk(channel, message, now).await,
            ChannelKind::Webhook => self.webhook(channel, message, now).await,
            ChannelKind::Email => self.email(channel, &url, message, now).await,
        }
    }
}

/// 钉钉's signature of a timestamp (milliseconds): base64(HMAC-SHA256(secret, timestamp + "\n" +
/// secret)), before URL-encoding.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// The key of a Standard Webhooks secret: the base64 after `whsec_`, else the bytes as typed.
pub fn webhook_key(secret: &str) -> Result<Vec<u8>, String> {
    match secret.strip_prefix("whsec_") {
        Some(b64) => BASE64.decode(b64).map_err(|_| "the webhook secret after whsec_ is not base64".to_string()),
        None => Ok(secret.as_bytes().to_vec()),
    }
}

/// `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")).
pub fn standard_webhook_signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&webhook_key(secret)?).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The beginning of an answer, for an error.
fn excerpt(text: &str) -> String {
    let text: String = text.chars().take(200).collect();
    text.replace(['\n', '\r'], " ")
}

/// A server's name in its claims: random, so that two processes never share one.
pub fn server_name() -> String {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    format!("server-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The delivery worker of a server: delivers what is due at once, then whenever a message is
/// written or put back in line (on any server: a notification wakes it) and at least every
/// `poll`, with the server's clock. Runs until its task is dropped.
pub async fn deliver_forever(app: App, outbound: Outbound, settings: DeliverySettings, poll: Duration) {
    let mut listener = app.listen_outbox().await.ok();
    loop {
        // One job a round: until nothing more is due now (a call delivers a bounded number per
        // channel).
        let job = crate::logs::job_span("outbox");
        loop {
            let delivered = app.deliver_due(&outbound, &settings, crate::clock::now()).instrument(job.clone()).await;
            let _in_job = job.enter();
            match delivered {
                Ok(report) if report.sent + report.failed + report.dead > 0 => {
                    if report.failed + report.dead > 0 {
                        tracing::warn!("outbox: {} sent, {} failed (retried later), {} given up", report.sent, report.failed, report.dead);
                    } else {
                        tracing::debug!("outbox: {} sent", report.sent);
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::error!("outbox: delivery failed ({e}); trying again");
                    break;
                }
            }
        }
        match listener.as_mut() {
            Some(heard) => {
                if let Ok(Err(e)) = tokio::time::timeout(poll, heard.recv()).await {
                    tracing::warn!("outbox: the listener stopped ({e}); listening again");
                    listener = app.listen_outbox().await.ok();
                }
            }
            None => {
                tokio::time::sleep(poll).await;
                listener = app.listen_outbox().await.ok();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dingtalk_signature_is_hmac_sha256_of_timestamp_newline_secret() {
        // Computed independently: printf '1577836800000\nSEC123' | openssl dgst -sha256 -hmac SEC123 -binary | base64
        assert_eq!(dingtalk_sign("SEC123", 1_577_836_800_000), "n+ioP1TLey59UX2djJswAhdE/5RCJyjrA266MMnl9uI=");
        assert_eq!(url_encode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }

    #[test]
    fn the_standard_webhooks_signature_matches_the_specification_s_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let signature = standard_webhook_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn the_allow_list_names_hosts_with_or_without_a_port() {
        let allow = AllowList::parse("qyapi.weixin.qq.com, 127.0.0.1:9000,[::1]:80").unwrap();
        let url = |u: &str| parse_url(u).unwrap();
        assert!(allow.allows(&url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")));
        assert!(allow.allows(&url("http://127.0.0.1:9000/hook")));
        assert!(!allow.allows(&url("http://127.0.0.1:9001/hook")));
        assert!(allow.allows(&url("http://[::1]/x")));
        assert!(!allow.allows(&url("https://oapi.dingtalk.com/robot/send")));
        assert!(AllowList::parse("http://x/").unwrap_err().contains("HOST:PORT"));
        assert!(AllowList::parse("").unwrap().is_empty());
    }
}
