//! bangfu's HTTP face: the JSON API under `/api/v1` and the server-rendered pages.
//! The only crate that knows HTTP; it turns requests into calls of `bangfu-app` and answers
//! into JSON or HTML, and holds no rules of its own.

mod api;
pub mod json;
mod problem;

use bangfu_app::App;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use problem::Problem;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub app: Arc<App>,
}

/// The whole router: API and pages.
pub fn router(app: App) -> axum::Router {
    let state = AppState { app: Arc::new(app) };
    api::routes().with_state(state)
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and its real address.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Serves until `shutdown` resolves.
pub async fn serve(listener: TcpListener, app: App, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await
}
