//! Sessions of the pages: the login form (rate-limited like the API's token route), the session
//! cookie (`bangfu_session`: HttpOnly, SameSite=Lax, Path=/), logout, the CSRF check of every
//! posted form, the language switch, and the answers every page shares — redirect to the login
//! page, the error page, a rendered template.

use super::form::Fields;
use super::ui::{LANG_COOKIE, Lang, Ui, UserBadge};
use crate::auth::{SESSION_COOKIE, cookie};
use crate::{AppState, clock};
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use crate::edges::see_other;
use axum::response::{Html, IntoResponse, Response};
use bangfu_app::{Actor, AppError};
use serde::Deserialize;
use std::net::SocketAddr;

/// The cookie that carries the login form's CSRF token (double submit: no session exists yet).
const LOGIN_CSRF_COOKIE: &str = "bangfu_login_csrf";

/// Renders a template into a response, or a 500 when it fails.
pub fn render<T: Template>(template: &T) -> Response {
    render_with(StatusCode::OK, template)
}

pub fn render_with<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("template {} failed: {e}", std::any::type_name::<T>());
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be drawn; the operator's log has the details").into_response()
        }
    }
}

/// The language of the request: `?lang=` first, then the cookie, else Chinese.
pub fn language(parts: &Parts) -> Lang {
    let query = parts.uri.query().unwrap_or_default();
    let from_query = query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v));
    from_query.or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v))).unwrap_or_default()
}

fn path_of(parts: &Parts) -> String {
    parts.uri.path_and_query().map_or_else(|| "/".to_string(), |p| p.as_str().to_string())
}

/// Where a redirect may go, parsed rather than pattern-matched: a path of this site — one `/`
/// first (not `//`, not `/\`), no backslash, no control character or ASCII space anywhere
/// (a browser drops a tab or newline and reads `/\t/host` as `//host`), and not the login form
/// itself — which parses as a URI path and query once characters outside ASCII are
/// percent-encoded. Anything else goes to `/`.
pub(crate) fn local_target(target: Option<&str>) -> String {
    let Some(target) = target else { return "/".to_string() };
    let refused = |c: char| c.is_control() || c == '\\' || c.is_ascii_whitespace();
    if !target.starts_with('/') || target.starts_with("//") || target.starts_with("/login") || target.chars().any(refused) {
        return "/".to_string();
    }
    let mut encoded = String::with_capacity(target.len());
    for c in target.chars() {
        if c.is_ascii() {
            encoded.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    match encoded.parse::<axum::http::uri::PathAndQuery>() {
        Ok(parsed) if parsed.path().starts_with('/') && !parsed.path().starts_with("//") => parsed.as_str().to_string(),
        _ => "/".to_string(),
    }
}

/// A signed-in user's request for a page: the actor, the session's CSRF token, the language
/// and the page's path. Without a live session the answer is a redirect to the login page.
#[derive(Clone, Debug)]
pub struct PageUser {
    pub actor: Actor,
    /// How many of its department's notifications the user has not read (the header's count).
    pub unread: i64,
    pub csrf: String,
    pub token: String,
    pub lang: Lang,
    pub path: String,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = language(parts);
        let path = path_of(parts);
        let login = || see_other(&format!("/login?next={}", super::ui::encode(&path)));
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(login()) };
        match state.app.session(clock::now(), &token).await {
            Ok(Some((actor, csrf))) => match state.app.unread_notifications(&actor).await {
                Ok(unread) => Ok(PageUser { actor, unread, csrf, token, lang, path }),
                Err(e) => Err(error_page(&state.app, None, lang, e)),
            },
            Ok(None) => Err(login()),
            Err(e) => Err(error_page(&state.app, None, lang, e)),
        }
    }
}

impl PageUser {
    /// The frame of a page of `section` titled `title`.
    pub fn ui(&self, state: &AppState, section: &'static str, title: impl Into<String>) -> Ui {
        Ui {
            lang: self.lang,
            csrf: self.csrf.clone(),
            user: Some(UserBadge::of(&self.actor, state.app.tree(), self.lang)),
            path: self.path.clone(),
            section,
            title: title.into(),
            registry: bangfu_app::access::can_browse_registry(&self.actor),
            unread: self.actor.department.map(|_| self.unread),
            figures: bangfu_app::access::may_read_figures(&self.actor),
            inbox: bangfu_app::access::has_inbox(&self.actor),
            allocate: bangfu_app::access::may_run_allocations(&self.actor),
        }
    }

    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    /// The error page for an error of the app.
    pub fn fail(&self, state: &AppState, error: AppError) -> Response {
        error_page(&state.app, Some(self), self.lang, error)
    }

    /// Refuses a posted form whose CSRF token is not this session's.
    #[allow(clippy::result_large_err)] // the error is the page to answer with, built once per refusal
    pub fn check_csrf(&self, state: &AppState, fields: &Fields) -> Result<(), Response> {
        if fields.get("csrf").is_some_and(|t| same(t, &self.csrf)) {
            return Ok(());
        }
        let message = self.t("表单已过期或来源不明（CSRF 校验失败）：请返回页面刷新后重试", "the form is stale or came from elsewhere (CSRF check failed): go back, reload the page and try again");
        Err(error_response(&state.app, Some(self), self.lang, StatusCode::FORBIDDEN, message.to_string()))
    }
}

/// Compares two tokens in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ui: Ui,
    status: u16,
    message: String,
}

/// The page for an error of the app: not found (whether it exists or not), forbidden, a
/// conflict or bad input with the app's message; an internal error opaque, logged in full.
pub fn error_page(app: &bangfu_app::App, user: Option<&PageUser>, lang: Lang, error: AppError) -> Response {
    let problem = crate::Problem::from(error);
    let message = match problem.status {
        StatusCode::NOT_FOUND => lang.pick("没有找到：它不存在，或不在您的职责范围内", "Not found: it does not exist, or it is outside your jurisdiction").to_string(),
        StatusCode::INTERNAL_SERVER_ERROR => server_failed(lang),
        _ => problem.detail,
    };
    error_response(app, user, lang, problem.status, message)
}

/// What a page says of an internal error: nothing of its cause, but the request's id, which its
/// log lines carry.
pub fn server_failed(lang: Lang) -> String {
    let id = crate::logs::request_id().unwrap_or_default();
    match lang {
        Lang::Zh => format!("服务器出错，运维日志中有详情（请求号 {id}）"),
        Lang::En => format!("The server failed; the operator's log has the details (request {id})"),
    }
}

pub fn error_response(app: &bangfu_app::App, user: Option<&PageUser>, lang: Lang, status: StatusCode, message: String) -> Response {
    let ui = Ui {
        lang,
        csrf: user.map(|u| u.csrf.clone()).unwrap_or_default(),
        user: user.map(|u| UserBadge::of(&u.actor, app.tree(), lang)),
        path: user.map_or_else(|| "/".to_string(), |u| u.path.clone()),
        section: "",
        title: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or_default()),
        registry: user.is_some_and(|u| bangfu_app::access::can_browse_registry(&u.actor)),
        unread: user.and_then(|u| u.actor.department.map(|_| u.unread)),
        figures: user.is_some_and(|u| bangfu_app::access::may_read_figures(&u.actor)),
        inbox: user.is_some_and(|u| bangfu_app::access::has_inbox(&u.actor)),
        allocate: user.is_some_and(|u| bangfu_app::access::may_run_allocations(&u.actor)),
    };
    render_with(status, &ErrorPage { ui, status: status.as_u16(), message })
}

// ---- login and logout ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ui: Ui,
    username: String,
    next: String,
    error: String,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

fn random_token() -> String {
    let mut buf = [0u8; 16];
    if getrandom::fill(&mut buf).is_err() {
        return String::new();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn public_ui(lang: Lang, path: String, title: &str) -> Ui {
    Ui { lang, csrf: String::new(), user: None, path, section: "login", title: title.to_string(), registry: false, unread: None, figures: false, inbox: false, allocate: false }
}

fn login_page(status: StatusCode, lang: Lang, username: String, next: String, error: String, csrf: Option<String>) -> Response {
    let csrf = csrf.filter(|c| !c.is_empty()).unwrap_or_else(random_token);
    let mut ui = public_ui(lang, format!("/login?next={}", super::ui::encode(&next)), lang.pick("登录", "Log in"));
    ui.csrf = csrf.clone();
    let mut response = render_with(status, &LoginPage { ui, username, next, error });
    let cookie = format!("{LOGIN_CSRF_COOKIE}={csrf}; HttpOnly; SameSite=Strict; Path=/login; Max-Age=3600");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn login_form(State(state): State<AppState>, headers: HeaderMap, parts: LangOf, Query(query): Query<LoginQuery>) -> Response {
    let next = local_target(query.next.as_deref());
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = state.app.session(clock::now(), &token).await
    {
        return see_other(&next);
    }
    login_page(StatusCode::OK, parts.0, String::new(), next, String::new(), cookie(&headers, LOGIN_CSRF_COOKIE))
}

/// The language of a request, as an extractor.
#[derive(Clone, Copy, Debug)]
pub struct LangOf(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for LangOf {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        Ok(LangOf(language(parts)))
    }
}

pub async fn login(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, LangOf(lang): LangOf, fields: Fields) -> Response {
    let username = fields.text("username");
    let password = fields.0.iter().find(|(k, _)| k == "password").map(|(_, v)| v.clone()).unwrap_or_default();
    let next = local_target(fields.get("next"));
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE);
    if !expected.as_deref().is_some_and(|e| fields.get("csrf").is_some_and(|t| same(t, e))) {
        let message = lang.pick("登录表单已过期，请重新输入", "The login form had expired — please enter your details again");
        return login_page(StatusCode::FORBIDDEN, lang, username, next, message.into(), None);
    }
    let client = crate::auth::client_address(peer.ip(), &headers, &state.settings.trusted_proxies);
    match state.app.login(clock::now(), &client, &username, &password).await {
        Ok(session) => {
            let max_age = bangfu_app::accounts::SESSION_HOURS * 3600;
            let mut response = see_other(&next);
            let cookies = [
                format!("{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}", session.token),
                format!("{LOGIN_CSRF_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0"),
            ];
            for cookie in cookies {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(AppError::TooManyAttempts(seconds)) => {
            let message = match lang {
                Lang::Zh => format!("登录失败次数过多，请 {seconds} 秒后再试"),
                Lang::En => format!("Too many failed logins — try again in {seconds} s"),
            };
            let mut response = login_page(StatusCode::TOO_MANY_REQUESTS, lang, username, next, message, expected);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        Err(AppError::Unauthorized(_)) => {
            let message = lang.pick("用户名或密码不正确", "Wrong username or password");
            login_page(StatusCode::UNAUTHORIZED, lang, username, next, message.into(), expected)
        }
        Err(e) => error_page(&state.app, None, lang, e),
    }
}

pub async fn logout(State(state): State<AppState>, user: PageUser, fields: Fields) -> Response {
    if let Err(refused) = user.check_csrf(&state, &fields) {
        return refused;
    }
    if let Err(e) = state.app.logout(clock::now(), &user.token).await {
        return user.fail(&state, e);
    }
    let mut response = see_other("/login");
    if let Ok(value) = HeaderValue::from_str(&format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// Remembers the language in a cookie and goes back to the page.
pub async fn switch_language(Path(code): Path<String>, Query(query): Query<BackQuery>) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let back = local_target(query.back.as_deref());
    // The page may carry its own ?lang=…; drop it so the cookie speaks.
    let back = strip_lang(&back);
    let mut response = see_other(&back);
    if let Ok(value) = HeaderValue::from_str(&format!("{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000", lang.code())) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn strip_lang(path: &str) -> String {
    let Some((base, query)) = path.split_once('?') else { return path.to_string() };
    let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("lang=") && !p.is_empty()).collect();
    if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        assert_eq!(local_target(Some("/cases/1")), "/cases/1");
        assert_eq!(local_target(Some("/registry?kind=slitting&q=%E7%86%94")), "/registry?kind=slitting&q=%E7%86%94");
        assert_eq!(local_target(Some("//evil.example/")), "/");
        assert_eq!(local_target(Some("https://evil.example/")), "/");
        assert_eq!(local_target(None), "/");
    }

    #[test]
    fn redirect_targets_with_control_characters_or_backslashes_go_home() {
        for target in ["/\t/evil.example", "/\\evil.example", "/\\/evil.example", "/%09", "/a\nb", "/a\rb", "/a\u{b}b", "/a\0b", "/ /evil.example", "/login?next=//x", "evil.example", ""] {
            let target = target.replace("%09", "\t");
            assert_eq!(local_target(Some(&target)), "/", "{target:?}");
        }
    }

    #[test]
    fn characters_outside_ascii_are_percent_encoded() {
        assert_eq!(local_target(Some("/registry?q=熔喷布")), "/registry?q=%E7%86%94%E5%96%B7%E5%B8%83");
    }

    #[test]
    fn the_language_switch_drops_the_query_language() {
        assert_eq!(strip_lang("/needs/1?lang=en&done=selected"), "/needs/1?done=selected");
        assert_eq!(strip_lang("/?lang=zh"), "/");
    }

    #[test]
    fn tokens_compare_equal_only_when_equal() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
