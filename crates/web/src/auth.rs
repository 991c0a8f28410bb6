//! Who is calling the API: a bearer token (`Authorization: Bearer …`) and nothing else. The
//! pages' session cookie is not accepted here: a browser sends it with any request another site
//! makes it send, and the API checks no CSRF token, so the cookie would let any page act in the
//! user's name. Login attempts are rate-limited per client address and username.

use crate::{AppState, Problem, clock};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use bangfu_app::{Actor, Seen};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "bangfu_session";

/// The caller, authenticated. Rejects with 401 problem+json.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub actor: Actor,
    pub token: String,
    /// The database version the session was checked at, for the request's reads.
    pub seen: Seen,
}

/// The bearer token of the request, if it has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer_token(&parts.headers) else {
            let detail = if cookie(&parts.headers, SESSION_COOKIE).is_some() {
                "the API takes a bearer token, not the pages' session cookie: POST /api/v1/auth/token, then send Authorization: Bearer TOKEN"
            } else {
                "log in first: POST /api/v1/auth/token, then send Authorization: Bearer TOKEN"
            };
            return Err(Problem::unauthorized(detail));
        };
        match state.app.session_seen(clock::now(), &token).await? {
            (Some((actor, _csrf)), seen) => Ok(Authenticated { actor, token, seen }),
            (None, _) => Err(Problem::unauthorized("the token is unknown or expired — log in again")),
        }
    }
}

/// Failed logins per (client, username) within a sliding window.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<(String, String), Vec<Instant>>>,
}

/// At most this many failures per window; then the client waits.
const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(300);

impl LoginLimiter {
    /// Seconds to wait before trying again, if the client must wait.
    pub fn retry_after(&self, client: &str, username: &str) -> Option<u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let list = failures.entry((client.to_string(), username.to_string())).or_default();
        list.retain(|t| now.duration_since(*t) < WINDOW);
        (list.len() >= MAX_FAILURES).then(|| list.first().map_or(1, |first| WINDOW.saturating_sub(now.duration_since(*first)).as_secs().max(1)))
    }

    pub fn record_failure(&self, client: &str, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.entry((client.to_string(), username.to_string())).or_default().push(Instant::now());
    }

    pub fn clear(&self, client: &str, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&(client.to_string(), username.to_string()));
    }
}
