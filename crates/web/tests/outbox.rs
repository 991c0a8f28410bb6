//! Notifications where officials work (issue 15), delivered for real: receivers on 127.0.0.1
//! started by these tests — an HTTP server that checks the 钉钉 signature and the Standard
//! Webhooks signature (computed here from the specifications, not with bangfu's functions) and
//! records every body, and a small SMTP server that receives the mail — fed by bangfu's outbox
//! with the real transports (`bangfu_web::outbound::Outbound`). Time is driven by the tests:
//! each delivery pass is called with its `now`. Runs on SQLite and, when BANGFU_TEST_PG names a
//! server, PostgreSQL.

#![allow(clippy::unwrap_used)]

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bangfu_app::cases::NewEnterprise;
use bangfu_app::needs::NewNeed;
use bangfu_app::channel::NewApproval;
use bangfu_app::outbox::{Deliver, DeliverySettings, Message, NewChannel};
use bangfu_store::ChannelRow;
use bangfu_app::registry::NewProvider;
use bangfu_app::{Actor, App};
use bangfu_web::outbound::{AllowList, Outbound};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn admin() -> Actor {
    Actor::system("test")
}

/// 2020-01-26 10:00 at UTC+8.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 26, 2, 0, 0).unwrap()
}

const DINGTALK_SECRET: &str = "SECd1ngta1k";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request a receiver took.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    /// The idempotency key (webhook-id or Idempotency-Key).
    key: String,
    body: serde_json::Value,
    /// Whether the signature checked out (always true for a robot without a secret).
    signed: bool,
}

/// What the HTTP receiver does with the requests to a path: answer, fail the first N, or never
/// answer.
#[derive(Clone, Copy, Debug, Default)]
enum Behaviour {
    #[default]
    Answer,
    FailFirst(usize),
    NeverAnswer,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Every request, refused ones too: its path and idempotency key.
    attempts: Arc<Mutex<Vec<(String, String)>>>,
    behaviour: Arc<Mutex<HashMap<String, Behaviour>>>,
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    fn on(&self, path: &str, behaviour: Behaviour) {
        self.behaviour.lock().unwrap().insert(path.to_string(), behaviour);
    }

    /// The idempotency keys of every request to `path`, answered or not, in order.
    fn keys_tried(&self, path: &str) -> Vec<String> {
        self.attempts.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, k)| k.clone()).collect()
    }

    fn received(&self, path: &str) -> Vec<Received> {
        self.received.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }
}

fn hmac_base64(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// 钉钉: sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), URL-decoded by the query
/// extractor already.
fn dingtalk_signed(query: &HashMap<String, String>) -> bool {
    let (Some(timestamp), Some(sign)) = (query.get("timestamp"), query.get("sign")) else { return false };
    query.get("access_token").map(String::as_str) == Some("robot-token") && *sign == hmac_base64(DINGTALK_SECRET.as_bytes(), &format!("{timestamp}\n{DINGTALK_SECRET}"))
}

/// Standard Webhooks: v1,base64(HMAC-SHA256(base64-decoded secret, "id.timestamp.body")).
fn webhook_signed(headers: &HeaderMap, body: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let key = BASE64.decode(WEBHOOK_SECRET.strip_prefix("whsec_").unwrap()).unwrap();
    let expected = format!("v1,{}", hmac_base64(&key, &format!("{}.{}.{body}", header("webhook-id"), header("webhook-timestamp"))));
    header("webhook-signature").split(' ').any(|s| s == expected)
}

async fn receive(State(receiver): State<Receiver>, Path(path): Path<String>, Query(query): Query<HashMap<String, String>>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let behaviour = receiver.behaviour.lock().unwrap().get(&path).copied().unwrap_or_default();
    let count = {
        let mut seen = receiver.seen.lock().unwrap();
        let n = seen.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let signed = match path.as_str() {
        "dingtalk" => dingtalk_signed(&query),
        "webhook" => webhook_signed(&headers, &body),
        _ => true,
    };
    let key = headers.get("webhook-id").or(headers.get("idempotency-key")).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    receiver.attempts.lock().unwrap().push((path.clone(), key.clone()));
    match behaviour {
        Behaviour::NeverAnswer => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return (StatusCode::OK, String::new());
        }
        Behaviour::FailFirst(n) if count <= n => return (StatusCode::SERVICE_UNAVAILABLE, "busy, try later".into()),
        _ => {}
    }
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    receiver.received.lock().unwrap().push(Received { path, key, body, signed });
    (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#.into())
}

/// The HTTP receiver on 127.0.0.1: POST /{path}.
async fn http_receiver() -> (Receiver, u16) {
    let receiver = Receiver::default();
    let app = axum::Router::new().route("/{path}", post(receive)).with_state(receiver.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, port)
}

/// One mail as the SMTP receiver took it.
#[derive(Clone, Debug)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
    /// Whether it came over TLS.
    tls: bool,
}

/// How the SMTP receiver speaks: plain (a local relay), STARTTLS after EHLO (port 587), or TLS
/// from the start (port 465).
#[derive(Clone)]
enum SmtpTls {
    Plain,
    StartTls(tokio_rustls::TlsAcceptor),
    Implicit(tokio_rustls::TlsAcceptor),
}

/// The mails an SMTP receiver took.
type Mails = Arc<Mutex<Vec<Mail>>>;

/// A small SMTP server on 127.0.0.1 (plain SMTP, as a local relay speaks it): EHLO, MAIL,
/// RCPT, DATA, QUIT.
async fn smtp_receiver() -> (Mails, u16) {
    smtp_receiver_speaking(SmtpTls::Plain).await
}

/// The SMTP server, speaking `tls`: each connection in a task of its own, a failed handshake
/// (a client that does not trust the certificate) ending only that connection.
async fn smtp_receiver_speaking(tls: SmtpTls) -> (Mails, u16) {
    let mails: Mails = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let kept = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let (mails, tls) = (kept.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    SmtpTls::Plain => drop(smtp_session(socket, &mails, false, false, true).await),
                    SmtpTls::Implicit(acceptor) => {
                        if let Ok(stream) = acceptor.accept(socket).await {
                            smtp_session(stream, &mails, false, true, true).await;
                        }
                    }
                    SmtpTls::StartTls(acceptor) => {
                        if let Some(plain) = smtp_session(socket, &mails, true, false, true).await
                            && let Ok(stream) = acceptor.accept(plain).await
                        {
                            smtp_session(stream, &mails, false, true, false).await;
                        }
                    }
                }
            });
        }
    });
    (mails, port)
}

/// One SMTP conversation on `stream`; returns the stream when the client asked for STARTTLS
/// (offered when `offer_starttls`), for the handshake.
async fn smtp_session<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(stream: S, mails: &Mails, offer_starttls: bool, tls: bool, greet: bool) -> Option<S> {
    let mut reader = BufReader::new(stream);
    if greet {
        reader.get_mut().write_all(b"220 test.local ESMTP\r\n").await.ok()?;
    }
    let mut mail = Mail { from: String::new(), to: Vec::new(), data: String::new(), tls };
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            if offer_starttls { b"250-test.local\r\n250-STARTTLS\r\n250 8BITMIME\r\n" } else { b"250-test.local\r\n250 8BITMIME\r\n" }
        } else if upper == "STARTTLS" && offer_starttls {
            reader.get_mut().write_all(b"220 ready to start TLS\r\n").await.ok()?;
            return Some(reader.into_inner());
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = command[10..].trim().to_string();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(command[8..].trim().to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            reader.get_mut().write_all(b"354 go ahead\r\n").await.ok()?;
            loop {
                line.clear();
                if reader.read_line(&mut line).await.ok()? == 0 {
                    return None;
                }
                let data = line.trim_end_matches(['\r', '\n']);
                if data == "." {
                    break;
                }
                mail.data.push_str(data);
                mail.data.push('\n');
            }
            mails.lock().unwrap().push(mail.clone());
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            let _ = reader.get_mut().write_all(b"221 bye\r\n").await;
            return None;
        } else {
            b"250 OK\r\n"
        };
        reader.get_mut().write_all(answer).await.ok()?;
    }
}

/// An office's own CA, made here, and a certificate it signed for 127.0.0.1: the CA's PEM (what
/// `--outbound-ca` names) and the server's TLS configuration.
fn office_ca_and_server() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "曲沃县信息中心 测试CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut server_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    server_params.distinguished_name.push(DnType::CommonName, "mail.quwo.example.gov.cn");
    let server_key = KeyPair::generate().unwrap();
    let server = server_params.signed_by(&server_key, &Issuer::new(ca_params, ca_key)).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            tokio_rustls::rustls::pki_types::PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
        )
        .unwrap();
    (ca.pem(), tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A mail's subject and body, decoded.
fn subject_and_body(mail: &Mail) -> (String, String) {
    let subject = mail.data.lines().find_map(|l| l.strip_prefix("Subject: =?UTF-8?B?")).unwrap().trim_end_matches("?=");
    let subject = String::from_utf8(BASE64.decode(subject).unwrap()).unwrap();
    let body: String = mail.data.split("\n\n").nth(1).unwrap().lines().collect();
    (subject, String::from_utf8(BASE64.decode(body).unwrap()).unwrap())
}

/// An enterprise in 曲沃县 and its case.
async fn quwo_case(app: &App) -> i64 {
    let input = NewEnterprise { name: "山西健康动力科技有限公司".into(), credit_code: "91141021MA0KQ20203".into(), region: "141021".into(), ..Default::default() };
    let enterprise = app.add_enterprise(&admin(), t0(), input).await.unwrap();
    app.open_case(&admin(), t0(), enterprise.id, "临汾首家口罩生产企业帮扶").await.unwrap().id
}

fn need(title: &str) -> NewNeed {
    NewNeed {
        kind: "labour".into(),
        title: title.into(),
        quantity: 20.0,
        unit: "人".into(),
        requires: serde_json::json!({"skill": "包装"}),
        deadline: Some(Utc.with_ymd_and_hms(2020, 1, 31, 10, 0, 0).unwrap()),
        ..NewNeed::default()
    }
}

/// A transport that takes a message and never finishes sending it, as a server killed in the
/// middle of a send: it records the key it was given.
#[derive(Clone, Default)]
struct Stalls {
    keys: Arc<Mutex<Vec<String>>>,
}

impl Deliver for Stalls {
    async fn deliver(&self, _: &ChannelRow, message: &Message, _: DateTime<Utc>) -> Result<(), String> {
        self.keys.lock().unwrap().push(message.key.clone());
        std::future::pending().await
    }
}

fn channel(kind: &str, url: String, secret: &str) -> NewChannel {
    NewChannel { department: Some("141021".into()), kind: kind.into(), url, secret: secret.into(), ..NewChannel::default() }
}

fn settings(server: &str) -> DeliverySettings {
    DeliverySettings { server: server.into(), base_url: "https://bangfu.example.gov.cn".into(), lease: TimeDelta::seconds(30) }
}

/// The transports, allowed to reach 127.0.0.1 on `port`.
fn outbound(port: u16, timeout_s: u64) -> Outbound {
    outbound_to(&format!("127.0.0.1:{port}"), timeout_s)
}

fn outbound_to(allow: &str, timeout_s: u64) -> Outbound {
    Outbound::new(AllowList::parse(allow).unwrap(), Duration::from_secs(timeout_s)).unwrap()
}

bangfu_store::backend_tests! {
    async fn a_need_reported_reaches_dingtalk_wecom_the_webhook_and_email_signed_and_once(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let (mails, smtp) = smtp_receiver().await;
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("dingtalk", format!("http://127.0.0.1:{port}/dingtalk?access_token=robot-token"), DINGTALK_SECRET)).await.unwrap();
        app.add_channel(&admin(), t0(), NewChannel { mentions: "13800000000".into(), ..channel("wecom", format!("http://127.0.0.1:{port}/wecom?key=wecom-key"), "") }).await.unwrap();
        app.add_channel(&admin(), t0(), channel("webhook", format!("http://127.0.0.1:{port}/webhook"), WEBHOOK_SECRET)).await.unwrap();
        let mail = format!("smtp://127.0.0.1:{smtp}?from=bangfu@example.gov.cn&to=quwo@example.gov.cn,zhuanban@example.gov.cn&tls=none");
        app.add_channel(&admin(), t0(), channel("email", mail, "")).await.unwrap();
        // A channel of another county hears nothing of it.
        app.add_channel(&admin(), t0(), NewChannel { department: Some("141081".into()), ..channel("webhook", format!("http://127.0.0.1:{port}/houma"), WEBHOOK_SECRET) }).await.unwrap();

        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺")).await.unwrap();
        let pending = app.outbox(&admin(), Some("pending"), 0, 100).await.unwrap();
        assert_eq!(pending.len(), 4, "one message per channel of the owner, written with the report");

        let out = outbound_to(&format!("127.0.0.1:{port},127.0.0.1:{smtp}"), 5);
        let report = app.deliver_due(&out, &settings("a"), t0()).await.unwrap();
        let errors: Vec<_> = app.outbox(&admin(), None, 0, 100).await.unwrap().into_iter().filter_map(|l| l.message.last_error).collect();
        assert_eq!((report.messages, report.sent, report.failed, report.dead), (4, 4, 0, 0), "{report:?} {errors:?}");

        let dingtalk = receiver.received("dingtalk");
        assert_eq!(dingtalk.len(), 1);
        assert!(dingtalk[0].signed, "the 钉钉 signature checks out");
        let text = dingtalk[0].body["text"]["content"].as_str().unwrap().to_string();
        assert!(text.starts_with("【帮扶·新诉求】包装工人短缺\n"), "{text}");
        assert!(text.contains("企业：山西健康动力科技有限公司（曲沃县）"), "{text}");
        assert!(text.contains("责任部门：曲沃县工业和信息化局") || text.contains("责任部门：曲沃县"), "{text}");
        assert!(text.contains("请办理："), "{text}");
        assert!(text.contains("办理时限：2020年1月31日 18:00（北京时间）"), "{text}");
        assert!(text.ends_with(&format!("详情：https://bangfu.example.gov.cn/needs/{}", reported.id)), "{text}");

        let wecom = receiver.received("wecom");
        assert_eq!(wecom.len(), 1);
        assert_eq!(wecom[0].body["msgtype"], "text");
        assert_eq!(wecom[0].body["text"]["mentioned_mobile_list"], serde_json::json!(["13800000000"]));

        let webhook = receiver.received("webhook");
        assert_eq!(webhook.len(), 1);
        assert!(webhook[0].signed, "the Standard Webhooks signature checks out");
        assert!(webhook[0].key.starts_with("bangfu-msg-"), "{:?}", webhook[0]);
        assert_eq!(webhook[0].body["data"]["id"], webhook[0].key.as_str());
        assert_eq!(webhook[0].body["data"]["events"][0]["event"], "need.new");
        assert!(receiver.received("houma").is_empty());

        let mails = mails.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].from, "<bangfu@example.gov.cn>");
        assert_eq!(mails[0].to, ["<quwo@example.gov.cn>", "<zhuanban@example.gov.cn>"]);
        assert!(mails[0].data.contains("Message-ID: <bangfu-msg-"), "{}", mails[0].data);
        // The subject and body, decoded, are the message.
        let subject = mails[0].data.lines().find_map(|l| l.strip_prefix("Subject: =?UTF-8?B?")).unwrap().trim_end_matches("?=");
        assert_eq!(String::from_utf8(BASE64.decode(subject).unwrap()).unwrap(), "【帮扶·新诉求】包装工人短缺");
        let body: String = mails[0].data.split("\n\n").nth(1).unwrap().lines().collect();
        let body = String::from_utf8(BASE64.decode(body).unwrap()).unwrap();
        assert!(body.contains("企业：山西健康动力科技有限公司（曲沃县）") && body.contains("/needs/"), "{body}");

        // Delivered once: a second pass has nothing to do, and the log says sent.
        let again = app.deliver_due(&out, &settings("a"), t0() + TimeDelta::minutes(10)).await.unwrap();
        assert_eq!(again, Default::default());
        let log = app.need_deliveries(&admin(), reported.id).await.unwrap();
        assert_eq!(log.len(), 4);
        assert!(log.iter().all(|l| l.message.status.as_str() == "sent" && l.attempts.len() == 1 && l.attempts[0].outcome.as_str() == "sent"), "{log:?}");
    }

    async fn a_receiver_that_fails_then_recovers_gets_the_message_after_the_back_off(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        receiver.on("webhook", Behaviour::FailFirst(2));
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("webhook", format!("http://127.0.0.1:{port}/webhook"), WEBHOOK_SECRET)).await.unwrap();
        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺")).await.unwrap();
        let out = outbound(port, 5);
        let pass = |at: DateTime<Utc>| {
            let (app, out) = (app.clone(), out.clone());
            async move { app.deliver_due(&out, &settings("a"), at).await.unwrap() }
        };

        assert_eq!(pass(t0()).await.failed, 1, "the first attempt, at once, fails");
        assert_eq!(pass(t0() + TimeDelta::seconds(4)).await, Default::default(), "nothing before 5 s");
        assert_eq!(pass(t0() + TimeDelta::seconds(5)).await.failed, 1, "the second, 5 s later, fails");
        assert_eq!(pass(t0() + TimeDelta::seconds(5 + 299)).await, Default::default(), "nothing before 5 min more");
        let third = pass(t0() + TimeDelta::seconds(5 + 300)).await;
        assert_eq!((third.sent, third.failed), (1, 0), "the third, 5 min later, goes through");

        let log = app.need_deliveries(&admin(), reported.id).await.unwrap();
        let attempts: Vec<(&str, i64)> = log[0].attempts.iter().map(|a| (a.outcome.as_str(), (a.at - t0().timestamp_millis()) / 1000)).collect();
        assert_eq!(attempts, [("failed", 0), ("failed", 5), ("sent", 305)]);
        assert_eq!(log[0].attempts[0].error.as_deref(), Some("HTTP 503 — busy, try later"));
        assert_eq!(log[0].message.status.as_str(), "sent");
        let received = receiver.received("webhook");
        assert_eq!(received.len(), 1, "the failed tries were refused, the third taken");
        assert!(received[0].signed);
    }

    async fn a_receiver_that_never_answers_times_out_and_the_message_dies_after_a_day(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        receiver.on("webhook", Behaviour::NeverAnswer);
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("webhook", format!("http://127.0.0.1:{port}/webhook"), WEBHOOK_SECRET)).await.unwrap();
        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺")).await.unwrap();
        let out = outbound(port, 1);
        // Each pass at the moment the last one scheduled, until the message is given up.
        let mut at = t0();
        let mut passes = 0;
        loop {
            let report = app.deliver_due(&out, &settings("a"), at).await.unwrap();
            passes += 1;
            if report.dead == 1 {
                break;
            }
            assert_eq!(report.failed, 1, "pass {passes} at {at}: {report:?}");
            let row = app.outbox(&admin(), None, 0, 10).await.unwrap().remove(0).message;
            at = bangfu_app::from_millis(row.next_attempt_at);
            assert!(passes < 20);
        }
        assert!(at - t0() <= TimeDelta::hours(24), "the last attempt is within the day");
        let line = app.need_deliveries(&admin(), reported.id).await.unwrap().remove(0);
        assert_eq!(line.message.status.as_str(), "dead");
        assert_eq!(line.message.attempts, passes);
        let error = line.message.last_error.unwrap();
        assert!(error.contains("no answer within 1 s (timed out)"), "{error}");
        assert_eq!(line.attempts.last().unwrap().outcome.as_str(), "dead");
        assert_eq!(app.outbox(&admin(), Some("dead"), 0, 10).await.unwrap().len(), 1);
        // An administrator puts it back in line; it goes out once the receiver answers.
        receiver.on("webhook", Behaviour::Answer);
        let later = t0() + TimeDelta::hours(30);
        app.retry_message(&admin(), later, line.message.id).await.unwrap();
        assert_eq!(app.deliver_due(&out, &settings("a"), later).await.unwrap().sent, 1);
        assert_eq!(receiver.received("webhook").len(), 1);
    }

    async fn a_host_not_allowed_is_not_contacted_and_the_error_says_how_to_allow_it(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("wecom", format!("http://127.0.0.1:{port}/wecom?key=the-robot-key"), "")).await.unwrap();
        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺")).await.unwrap();
        let nowhere = Outbound::new(AllowList::parse("qyapi.weixin.qq.com").unwrap(), Duration::from_secs(1)).unwrap();
        assert_eq!(app.deliver_due(&nowhere, &settings("a"), t0()).await.unwrap().failed, 1);
        assert!(receiver.received("wecom").is_empty(), "nothing was sent");
        let line = app.need_deliveries(&admin(), reported.id).await.unwrap().remove(0);
        let error = line.message.last_error.unwrap();
        assert!(error.contains(&format!("--allow-outbound 127.0.0.1:{port}")), "{error}");
        assert!(!error.contains("the-robot-key"));
        assert_eq!(line.channel.unwrap().target, format!("http://127.0.0.1:{port}/wecom?key=***"), "the key is not shown");
    }

    async fn a_robot_gets_at_most_twenty_messages_a_minute_and_the_rest_are_grouped_not_dropped(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("wecom", format!("http://127.0.0.1:{port}/wecom?key=k"), "")).await.unwrap();
        let out = outbound(port, 5);
        // 21 needs a second apart, each delivered as it comes: twenty go, the 21st waits.
        for i in 0..21 {
            let at = t0() + TimeDelta::seconds(i);
            app.report_need(&admin(), at, case_id, need(&format!("诉求{i}"))).await.unwrap();
            app.deliver_due(&out, &settings("a"), at).await.unwrap();
        }
        assert_eq!(receiver.received("wecom").len(), 20, "twenty in the first minute");
        // Five more in the same minute wait too.
        for i in 21..26 {
            let at = t0() + TimeDelta::seconds(21 + i);
            app.report_need(&admin(), at, case_id, need(&format!("诉求{i}"))).await.unwrap();
            app.deliver_due(&out, &settings("a"), at).await.unwrap();
        }
        assert_eq!(receiver.received("wecom").len(), 20);
        // When the first minute's oldest message leaves the window, the six waiting go as one.
        let report = app.deliver_due(&out, &settings("a"), t0() + TimeDelta::seconds(61)).await.unwrap();
        assert_eq!((report.messages, report.sent), (1, 6), "{report:?}");
        let received = receiver.received("wecom");
        assert_eq!(received.len(), 21);
        let text = received[20].body["text"]["content"].as_str().unwrap();
        assert!(text.starts_with("【帮扶】共6条通知"), "{text}");
        for i in 20..26 {
            assert!(text.contains(&format!("诉求{i}")), "{i} is in the grouped message: {text}");
        }
        assert_eq!(app.outbox(&admin(), Some("sent"), 0, 100).await.unwrap().len(), 26, "none dropped");
    }

    async fn quiet_hours_hold_a_message_until_they_end_but_not_an_escalation(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        // 09:00–12:00 at UTC+8 covers t0 (10:00), for the county and for its city.
        let quiet = |department: &str, path: &str| NewChannel {
            department: Some(department.into()),
            quiet_hours: "09:00-12:00".into(),
            ..channel("webhook", format!("http://127.0.0.1:{port}/{path}"), WEBHOOK_SECRET)
        };
        app.add_channel(&admin(), t0(), quiet("141021", "county")).await.unwrap();
        app.add_channel(&admin(), t0(), quiet("141000", "city")).await.unwrap();
        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺")).await.unwrap();
        let out = outbound(port, 5);
        assert_eq!(app.deliver_due(&out, &settings("a"), t0()).await.unwrap(), Default::default(), "the new need is held in quiet hours");
        // The county escalates it to the city in the same quiet hours: that goes at once.
        let later = t0() + TimeDelta::minutes(30);
        app.escalate_need(&admin(), later, reported.id, "企业急需，县级无法协调").await.unwrap();
        assert_eq!(app.deliver_due(&out, &settings("a"), later).await.unwrap().sent, 1);
        let city = receiver.received("city");
        assert_eq!(city.len(), 1);
        assert_eq!(city[0].body["data"]["events"][0]["event"], "need.escalated");
        assert!(city[0].body["data"]["text"].as_str().unwrap().contains("企业急需，县级无法协调"), "{:?}", city[0].body);
        assert!(receiver.received("county").is_empty());
        // The county's message about the new need goes at 12:00 UTC+8 (04:00 UTC).
        let noon = Utc.with_ymd_and_hms(2020, 1, 26, 4, 0, 0).unwrap();
        assert_eq!(app.deliver_due(&out, &settings("a"), noon - TimeDelta::seconds(1)).await.unwrap(), Default::default());
        assert_eq!(app.deliver_due(&out, &settings("a"), noon).await.unwrap().sent, 1);
        assert_eq!(receiver.received("county").len(), 1);
    }

    async fn two_servers_delivering_at_once_send_each_message_once(db) {
        let first = App::open(db.url()).await.unwrap();
        let second = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&first).await;
        first.add_channel(&admin(), t0(), channel("webhook", format!("http://127.0.0.1:{port}/webhook"), WEBHOOK_SECRET)).await.unwrap();
        for i in 0..12 {
            first.report_need(&admin(), t0(), case_id, need(&format!("诉求{i}"))).await.unwrap();
        }
        let out = outbound(port, 5);
        let (settings_a, settings_b) = (settings("a"), settings("b"));
        let (a, b) = tokio::join!(first.deliver_due(&out, &settings_a, t0()), second.deliver_due(&out, &settings_b, t0()));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sent + b.sent, 12, "{a:?} {b:?}");
        let mut keys: Vec<String> = receiver.received("webhook").into_iter().map(|r| r.key).collect();
        assert_eq!(keys.len(), 12);
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 12, "each message once");
    }

    async fn an_enterprise_and_the_provider_chosen_hear_what_concerns_them(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        let enterprise_id = app.case_detail(&admin(), case_id).await.unwrap().enterprise.id;
        let provider = app.add_provider(&admin(), t0(), NewProvider { key: "line-maker".into(), name: "曲沃生产线企业".into(), region: "141021".into(), ..NewProvider::default() }).await.unwrap().id;
        app.set_capability(&admin(), t0(), provider, "equipment", true, &serde_json::json!({"item": "口罩生产线", "stock": 5, "lead_time_h": 24})).await.unwrap();
        let hook = |path: &str| channel("webhook", format!("http://127.0.0.1:{port}/{path}"), WEBHOOK_SECRET);
        app.add_channel(&admin(), t0(), NewChannel { department: None, enterprise_id: Some(enterprise_id), ..hook("enterprise") }).await.unwrap();
        app.add_channel(&admin(), t0(), NewChannel { department: None, provider_id: Some(provider), ..hook("provider") }).await.unwrap();
        // Another provider's channel hears nothing.
        let other = app.add_provider(&admin(), t0(), NewProvider { key: "other".into(), name: "别家".into(), region: "141021".into(), ..NewProvider::default() }).await.unwrap().id;
        app.add_channel(&admin(), t0(), NewChannel { department: None, provider_id: Some(other), ..hook("other") }).await.unwrap();

        let input = NewNeed { kind: "equipment".into(), title: "口罩生产线".into(), quantity: 1.0, unit: "条".into(), requires: serde_json::json!({"item": "口罩生产线"}), ..NewNeed::default() };
        let need = app.report_and_source(&admin(), t0(), case_id, input).await.unwrap();
        let candidate = app.need_detail(&admin(), need.id).await.unwrap().candidates.into_iter().find(|(c, _)| c.provider_id == provider).unwrap().0;
        app.select_candidate(&admin(), t0(), need.id, candidate.id).await.unwrap();
        app.deliver_due(&outbound(port, 5), &settings("a"), t0()).await.unwrap();

        let events = |path: &str| receiver.received(path).iter().map(|r| r.body["data"]["events"][0]["event"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(events("enterprise"), ["need.new", "need.selected"]);
        assert_eq!(events("provider"), ["need.selected"]);
        assert!(events("other").is_empty());
    }

    async fn the_daily_briefing_goes_to_the_channels_that_chose_it_at_8_in_the_morning(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        quwo_case(&app).await;
        let hook = |path: &str, events: &str| NewChannel { events: events.into(), ..channel("webhook", format!("http://127.0.0.1:{port}/{path}"), WEBHOOK_SECRET) };
        app.add_channel(&admin(), t0(), hook("briefing", "briefing.daily")).await.unwrap();
        app.add_channel(&admin(), t0(), hook("needs-only", "need.new")).await.unwrap();
        // 08:00 UTC+8 on 27 January: the morning pass keeps 26 January's briefings.
        let morning = Utc.with_ymd_and_hms(2020, 1, 27, 0, 0, 0).unwrap();
        app.morning_pass(&admin(), morning).await.unwrap();
        app.deliver_due(&outbound(port, 5), &settings("a"), morning).await.unwrap();
        let received = receiver.received("briefing");
        assert_eq!(received.len(), 1, "曲沃县's briefing, once");
        let data = &received[0].body["data"];
        assert_eq!(data["title"], "【帮扶·每日专报】曲沃县工信局每日专报（2020年1月26日）");
        assert_eq!(data["link"], "https://bangfu.example.gov.cn/briefing?region=141021&day=2020-01-26");
        assert!(receiver.received("needs-only").is_empty());
    }

    async fn a_grouped_robot_message_keeps_its_idempotency_key_across_retries_and_a_restart(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("wecom", format!("http://127.0.0.1:{port}/wecom?key=k"), "")).await.unwrap();
        // Three needs due together go as one message to the robot.
        for i in 0..3 {
            app.report_need(&admin(), t0(), case_id, need(&format!("诉求{i}"))).await.unwrap();
        }
        let ids: Vec<i64> = app.outbox(&admin(), None, 0, 10).await.unwrap().iter().map(|l| l.message.id).collect();
        let key = format!("bangfu-msg-{}-{}-3", ids[0], ids[2]);

        // A server claims the group and is killed while sending it.
        let stalls = Stalls::default();
        let killed = {
            let (app, stalls) = (app.clone(), stalls.clone());
            tokio::spawn(async move { app.deliver_due(&stalls, &settings("killed"), t0()).await })
        };
        while stalls.keys.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        killed.abort();
        assert_eq!(stalls.keys.lock().unwrap().as_slice(), std::slice::from_ref(&key));

        // Another need comes in meanwhile: it does not join the group.
        app.report_need(&admin(), t0() + TimeDelta::seconds(10), case_id, need("诉求3")).await.unwrap();

        // A restarted server takes the group again when the lease (30 s) has run out; the
        // receiver fails twice, then recovers: the same message each time.
        receiver.on("wecom", Behaviour::FailFirst(2));
        let restarted = App::open(db.url()).await.unwrap();
        let out = outbound(port, 5);
        let lease_over = t0() + TimeDelta::seconds(31);
        let first = restarted.deliver_due(&out, &settings("b"), lease_over).await.unwrap();
        assert_eq!((first.failed, first.messages), (4, 0), "the group of three and the later need fail: {first:?}");
        // The need of 10 s later went alone and failed too (the second refusal).
        assert_eq!(receiver.keys_tried("wecom"), [key.clone(), format!("bangfu-msg-{}", ids[2] + 1)]);
        let second = restarted.deliver_due(&out, &settings("b"), lease_over + TimeDelta::seconds(5)).await.unwrap();
        assert_eq!((second.sent, second.messages), (4, 2), "{second:?}");
        let tried = receiver.keys_tried("wecom");
        assert_eq!(tried.iter().filter(|k| **k == key).count(), 2, "{tried:?}");
        let received = receiver.received("wecom");
        let grouped: Vec<&Received> = received.iter().filter(|r| r.key == key).collect();
        assert_eq!(grouped.len(), 1);
        let text = grouped[0].body["text"]["content"].as_str().unwrap();
        assert!(text.starts_with("【帮扶】共3条通知") && text.contains("诉求0") && text.contains("诉求2") && !text.contains("诉求3"), "{text}");
        // The log names the one key on every attempt of every row of the group.
        let lines = restarted.outbox(&admin(), None, 0, 10).await.unwrap();
        for line in &lines[..3] {
            assert_eq!(line.message.group_id, Some(ids[0]));
            let keys: Vec<&str> = line.attempts.iter().map(|a| a.message_key.as_str()).collect();
            assert_eq!(keys, [key.as_str(), key.as_str()], "{line:?}");
        }
    }

    async fn a_dead_group_put_back_by_an_administrator_goes_whole_under_its_key(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        app.add_channel(&admin(), t0(), channel("dingtalk", format!("http://127.0.0.1:{port}/dingtalk?access_token=robot-token"), DINGTALK_SECRET)).await.unwrap();
        for i in 0..2 {
            app.report_need(&admin(), t0(), case_id, need(&format!("诉求{i}"))).await.unwrap();
        }
        receiver.on("dingtalk", Behaviour::FailFirst(1000));
        let out = outbound(port, 5);
        let mut at = t0();
        loop {
            let report = app.deliver_due(&out, &settings("a"), at).await.unwrap();
            if report.dead > 0 {
                assert_eq!(report.dead, 2, "the group dies whole");
                break;
            }
            at = bangfu_app::from_millis(app.outbox(&admin(), None, 0, 10).await.unwrap()[0].message.next_attempt_at);
        }
        let tried = receiver.keys_tried("dingtalk");
        assert!(tried.len() > 3 && tried.iter().all(|k| *k == tried[0]), "{tried:?}");
        // Putting back the second row puts back its group.
        receiver.on("dingtalk", Behaviour::Answer);
        let second = app.outbox(&admin(), None, 0, 10).await.unwrap()[1].message.id;
        let later = at + TimeDelta::hours(2);
        app.retry_message(&admin(), later, second).await.unwrap();
        let report = app.deliver_due(&out, &settings("a"), later).await.unwrap();
        assert_eq!((report.messages, report.sent), (1, 2), "{report:?}");
        let received = receiver.received("dingtalk");
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].key, tried[0]);
        assert!(received[0].signed);
    }

    async fn an_approval_nearing_its_deadline_reminds_its_department_once_per_threshold_at_utc_plus_8(db) {
        let app = App::open(db.url()).await.unwrap();
        let store = bangfu_store::Store::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        let hook = |path: &str, events: &str| NewChannel { events: events.into(), ..channel("webhook", format!("http://127.0.0.1:{port}/{path}"), WEBHOOK_SECRET) };
        app.add_channel(&admin(), t0(), hook("approvals", "approval.due")).await.unwrap();
        app.add_channel(&admin(), t0(), hook("needs-only", "need.new")).await.unwrap();
        // 31 January 18:00 at UTC+8.
        let deadline = Utc.with_ymd_and_hms(2020, 1, 31, 10, 0, 0).unwrap();
        let input = |item: &str| NewApproval { department: "141021".into(), agency: "发改".into(), item: item.into(), due_at: Some(deadline) };
        let approval = app.open_approval(&admin(), t0(), case_id, input("项目备案")).await.unwrap();
        // Another, decided before its deadline, is not reminded of.
        let decided = app.open_approval(&admin(), t0(), case_id, input("环评告知承诺")).await.unwrap();
        app.decide_approval(&admin(), t0(), decided.id, bangfu_core::model::ApprovalStatus::Approved).await.unwrap();
        let out = outbound(port, 5);

        assert!(app.remind_approvals(&admin(), deadline - TimeDelta::hours(25)).await.unwrap().is_empty(), "25 h before: nothing");
        let day_before = deadline - TimeDelta::hours(24) + TimeDelta::minutes(1);
        let sent = app.remind_approvals(&admin(), day_before).await.unwrap();
        assert_eq!(sent.iter().map(|r| (r.approval.id, r.threshold.num_hours())).collect::<Vec<_>>(), [(approval.id, 24)]);
        assert!(app.remind_approvals(&admin(), day_before + TimeDelta::hours(1)).await.unwrap().is_empty(), "once per threshold");
        assert_eq!(app.deliver_due(&out, &settings("a"), day_before).await.unwrap().sent, 1);
        let received = receiver.received("approvals");
        assert_eq!(received.len(), 1);
        assert!(received[0].signed);
        let data = &received[0].body["data"];
        assert_eq!(data["title"], "【帮扶·审批临期】项目备案（发改）");
        assert_eq!(data["events"][0]["event"], "approval.due");
        assert_eq!(data["link"].as_str().unwrap(), format!("https://bangfu.example.gov.cn/cases/{case_id}#approval-{}", approval.id));
        let text = data["text"].as_str().unwrap();
        assert!(text.contains("曲沃县工信局绿色通道审批事项“项目备案”（发改）距办理时限不足24小时"), "{text}");
        assert!(text.contains("企业：山西健康动力科技有限公司（曲沃县）"), "{text}");
        assert!(text.contains("请办理：请督促审批部门在时限内办结"), "{text}");
        assert!(text.contains("办理时限：2020年1月31日 18:00（北京时间）"), "{text}");
        assert!(receiver.received("needs-only").is_empty(), "a channel that did not choose approval.due hears nothing");

        // The audit event is written with the outbox row: one event per reminder.
        let reminded = |events: &[bangfu_store::EventRow]| events.iter().filter(|e| e.action == "approval.reminded").count();
        assert_eq!(reminded(&store.events_of_case(case_id).await.unwrap()), 1);

        // 4 h before: the second reminder, from the server's pass; the same minute on another
        // server finds it claimed.
        let other = App::open(db.url()).await.unwrap();
        let four = deadline - TimeDelta::hours(4);
        let system = admin();
        let (a, b) = tokio::join!(app.remind_approvals_scheduled(&system, four), other.remind_approvals_scheduled(&system, four));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.iter().chain(b.iter()).flatten().map(|r| r.threshold.num_hours()).collect::<Vec<_>>(), [4], "{a:?} {b:?}");
        assert!(a.is_none() || b.is_none(), "one server per minute");
        // A pass of a later minute on the other server finds the reminder sent.
        assert_eq!(other.remind_approvals_scheduled(&admin(), four + TimeDelta::minutes(1)).await.unwrap(), Some(Vec::new()));
        app.deliver_due(&out, &settings("a"), four).await.unwrap();
        let received = receiver.received("approvals");
        assert_eq!(received.len(), 2);
        assert!(received[1].body["data"]["text"].as_str().unwrap().contains("距办理时限不足4小时"));
        assert_eq!(reminded(&store.events_of_case(case_id).await.unwrap()), 2);
        // Past the deadline nothing more is sent.
        assert!(app.remind_approvals(&admin(), deadline + TimeDelta::minutes(1)).await.unwrap().is_empty());
        // The bell on the pages rang too.
        let officer = Actor::officer("quwo", bangfu_core::RegionCode::new_unchecked(141021));
        let bell = app.notifications(&officer, bangfu_store::PageRequest { after: None, limit: 50 }).await.unwrap();
        assert_eq!(bell.items.iter().filter(|n| n.text_zh.starts_with("审批临期")).count(), 2);
        // Only an administrator (the server's pass) runs it.
        assert!(app.remind_approvals(&officer, four).await.is_err());
    }

    async fn robots_take_markdown_when_chosen_and_dingtalk_s_mentions_are_written_in_its_text(db) {
        let app = App::open(db.url()).await.unwrap();
        let (receiver, port) = http_receiver().await;
        let case_id = quwo_case(&app).await;
        let robot = |kind: &str, path: &str, secret: &str, format: &str, mentions: &str| NewChannel {
            format: format.into(),
            mentions: mentions.into(),
            ..channel(kind, format!("http://127.0.0.1:{port}/{path}?access_token=robot-token"), secret)
        };
        app.add_channel(&admin(), t0(), robot("wecom", "wecom-md", "", "markdown", "")).await.unwrap();
        app.add_channel(&admin(), t0(), robot("dingtalk", "dingtalk", DINGTALK_SECRET, "text", "13800000000,13900000000")).await.unwrap();
        app.add_channel(&admin(), t0(), robot("dingtalk", "dingtalk-md", "", "markdown", "13800000000")).await.unwrap();
        // 企业微信's markdown mentions no one by mobile number: refused, with what to do.
        let refused = app.add_channel(&admin(), t0(), robot("wecom", "x", "", "markdown", "13800000000")).await.unwrap_err();
        assert!(refused.to_string().contains("choose format text"), "{refused}");
        let refused = app.add_channel(&admin(), t0(), NewChannel { format: "markdown".into(), ..channel("webhook", format!("http://127.0.0.1:{port}/x"), WEBHOOK_SECRET) }).await.unwrap_err();
        assert!(refused.to_string().contains("企业微信 and 钉钉"), "{refused}");
        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺*急*")).await.unwrap();
        assert_eq!(app.deliver_due(&outbound(port, 5), &settings("a"), t0()).await.unwrap().sent, 3);
        let link = format!("https://bangfu.example.gov.cn/needs/{}", reported.id);

        let wecom = receiver.received("wecom-md").remove(0).body;
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert!(content.starts_with("### 【帮扶·新诉求】包装工人短缺＊急＊\n> "), "a heading, the lines quoted, typed markdown shown as typed: {content}");
        assert!(content.contains("> 办理时限：2020年1月31日 18:00（北京时间）"), "{content}");
        assert!(content.ends_with(&format!("[查看详情]({link})")), "{content}");

        let dingtalk = receiver.received("dingtalk").remove(0);
        assert!(dingtalk.signed);
        assert_eq!(dingtalk.body["msgtype"], "text");
        assert_eq!(dingtalk.body["at"]["atMobiles"], serde_json::json!(["13800000000", "13900000000"]));
        assert!(dingtalk.body["text"]["content"].as_str().unwrap().ends_with("\n@13800000000 @13900000000"), "{:?}", dingtalk.body);

        let markdown = receiver.received("dingtalk-md").remove(0).body;
        assert_eq!(markdown["msgtype"], "markdown");
        assert_eq!(markdown["markdown"]["title"], "【帮扶·新诉求】包装工人短缺*急*");
        assert!(markdown["markdown"]["text"].as_str().unwrap().ends_with(&format!("[查看详情]({link})\n@13800000000")), "{markdown:?}");
        assert_eq!(markdown["at"]["atMobiles"], serde_json::json!(["13800000000"]));
        let channels = app.channels(&admin()).await.unwrap();
        assert_eq!(channels.iter().map(|c| c.format.as_str()).collect::<Vec<_>>(), ["markdown", "text", "markdown"]);
    }

    async fn mail_goes_over_starttls_and_implicit_tls_to_a_server_whose_certificate_the_office_s_own_ca_signed(db) {
        let app = App::open(db.url()).await.unwrap();
        let (ca_pem, acceptor) = office_ca_and_server();
        let (starttls_mails, starttls) = smtp_receiver_speaking(SmtpTls::StartTls(acceptor.clone())).await;
        let (implicit_mails, implicit) = smtp_receiver_speaking(SmtpTls::Implicit(acceptor)).await;
        let case_id = quwo_case(&app).await;
        let to = "from=bangfu@example.gov.cn&to=quwo@example.gov.cn";
        app.add_channel(&admin(), t0(), channel("email", format!("smtp://127.0.0.1:{starttls}?{to}"), "")).await.unwrap();
        app.add_channel(&admin(), t0(), channel("email", format!("smtps://127.0.0.1:{implicit}?{to}"), "")).await.unwrap();
        let reported = app.report_need(&admin(), t0(), case_id, need("包装工人短缺")).await.unwrap();
        let allow = AllowList::parse(&format!("127.0.0.1:{starttls},127.0.0.1:{implicit}")).unwrap();

        // Trusting the system's CA certificates only, the server's certificate is refused and
        // nothing is sent in the clear.
        let system_only = Outbound::new(allow.clone(), Duration::from_secs(5)).unwrap();
        assert_eq!(app.deliver_due(&system_only, &settings("a"), t0()).await.unwrap().failed, 2);
        for line in app.need_deliveries(&admin(), reported.id).await.unwrap() {
            let error = line.message.last_error.unwrap();
            assert!(error.to_lowercase().contains("certificate"), "{error}");
        }
        assert!(starttls_mails.lock().unwrap().is_empty() && implicit_mails.lock().unwrap().is_empty());

        // With the office's CA (bangfu serve --outbound-ca FILE) both go, over TLS.
        let with_ca = Outbound::with_ca(allow, Duration::from_secs(5), Some(ca_pem.into_bytes())).unwrap();
        let report = app.deliver_due(&with_ca, &settings("a"), t0() + TimeDelta::seconds(5)).await.unwrap();
        let errors: Vec<_> = app.need_deliveries(&admin(), reported.id).await.unwrap().into_iter().filter_map(|l| l.message.last_error).collect();
        assert_eq!((report.sent, report.failed), (2, 0), "{errors:?}");
        for mails in [starttls_mails, implicit_mails] {
            let mails = mails.lock().unwrap().clone();
            assert_eq!(mails.len(), 1);
            assert!(mails[0].tls, "the mail came over TLS");
            assert_eq!(mails[0].to, ["<quwo@example.gov.cn>"]);
            let (subject, body) = subject_and_body(&mails[0]);
            assert_eq!(subject, "【帮扶·新诉求】包装工人短缺");
            assert!(body.contains("企业：山西健康动力科技有限公司（曲沃县）"), "{body}");
            assert!(body.contains("办理时限：2020年1月31日 18:00（北京时间）"), "{body}");
            assert!(body.ends_with(&format!("详情：https://bangfu.example.gov.cn/needs/{}", reported.id)), "{body}");
        }
    }
}

#[test]
fn an_extra_ca_file_that_holds_no_certificate_is_refused_with_what_to_give() {
    let error = Outbound::with_ca(AllowList::default(), Duration::from_secs(1), Some(b"not a certificate".to_vec())).unwrap_err();
    assert!(error.contains("BEGIN CERTIFICATE"), "{error}");
}
