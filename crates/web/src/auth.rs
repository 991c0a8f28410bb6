//! Who is calling the API: a bearer token (`Authorization: Bearer …`) and nothing else. The
//! pages' session cookie is not accepted here: a browser sends it with any request another site
//! makes it send, and the API checks no CSRF token, so the cookie would let any page act in the
//! user's name. Login attempts are limited per client address and username by the app, in the
//! database (see `App::login`); [`client_address`] says which address.

use crate::{AppState, Problem, clock};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use bangfu_app::{Actor, Seen};
use std::net::IpAddr;

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

/// The address a login attempt is counted under: the peer's own, or — when the peer is one of
/// the `trusted` proxies — the last address of `X-Forwarded-For` that is not itself a trusted
/// proxy (a client may write anything before it; the proxy appends the real one).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded.iter().rev().find(|a| !trusted.contains(a)).copied().unwrap_or(peer).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_tells_the_client_address() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        assert_eq!(client_address(proxy, &headers, &[proxy]), "203.0.113.7", "the address the proxy appended");
        assert_eq!(client_address("198.51.100.1".parse().unwrap(), &headers, &[proxy]), "198.51.100.1", "anyone else's claim is ignored");
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), "10.0.0.2");
    }
}
