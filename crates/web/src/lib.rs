//! bangfu's HTTP face: the JSON API under `/api/v1` and the server-rendered pages.
//! The only crate that knows HTTP; it turns requests into calls of `bangfu-app` and answers
//! into JSON or HTML, and holds no rules of its own.

mod answers;
mod api;
mod edges;
pub mod pdf;
mod exports;
mod lists;
pub mod logs;
mod markup;
mod notices;
pub mod outbound;
pub mod auth;
mod clock;
pub mod json;
pub mod openapi;
mod pages;
mod problem;
mod route_table;

use axum::http::{HeaderValue, header};
use bangfu_app::App;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use problem::Problem;

/// Every (method, path) of the API and of the pages, as their routers serve them.
pub use api::ROUTES as API_ROUTES;
pub use pages::ROUTES as PAGE_ROUTES;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub app: Arc<App>,
    /// The JSON of case answers, per case version.
    pub answers: Arc<answers::CaseAnswers>,
    pub settings: Arc<Settings>,
    /// What this server hears of new notifications, from every server (see `notices.rs`).
    pub notices: Arc<notices::NoticeHub>,
}

/// How this server is deployed.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Load balancers or reverse proxies in front of the server: a request from one of them is
    /// counted for login limits under the address it appends to `X-Forwarded-For`, not its own.
    /// Requests from anywhere else are counted under their own address, whatever they claim.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How letters and briefings are printed to PDF.
    pub printer: pdf::Printer,
}

/// Request bodies above this size are refused with 413 (room for an attachment of
/// `bangfu_app::participation::MAX_ATTACHMENT_BYTES` sent as base64 in JSON).
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;
/// Requests that take longer are answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole router: API and pages, with limits, security headers and each request's id and span.
pub fn router(app: App) -> axum::Router {
    router_with(app, Settings::default())
}

/// [`router`] deployed with `settings`.
pub fn router_with(app: App, settings: Settings) -> axum::Router {
    let state = AppState { app: Arc::new(app), answers: Arc::default(), settings: Arc::new(settings), notices: Arc::default() };
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'"),
        // Answers are made for one user: no cache keeps them (the assets say otherwise for
        // themselves).
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut router = api::routes().merge(pages::routes()).fallback(edges::no_such_path).with_state(state);
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(edges::problem_for_bare_errors))
        // Outermost: every request's id and span (logs.rs).
        .layer(axum::middleware::from_fn(logs::request_span))
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and its real address.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves until `shutdown` resolves.
pub async fn serve(listener: TcpListener, app: App, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    serve_with(listener, app, Settings::default(), shutdown).await
}

/// [`serve`] deployed with `settings`.
pub async fn serve_with(listener: TcpListener, app: App, settings: Settings, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, router_with(app, settings).into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}
