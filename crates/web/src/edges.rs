//! What every answer goes through at the edge of the server, whatever route made it: an error
//! without a body of its own (a 405 from the router, a 413 from the body limit, a 408 from the
//! timeout, an extractor's plain-text rejection) becomes problem+json; a path that nothing serves
//! answers 404 — problem+json under `/api/`, the error page elsewhere; and the API's writes take
//! JSON bodies only, so a cross-site `<form>` (text/plain, urlencoded or multipart) cannot reach
//! them.

use crate::{AppState, Problem};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The longest plain-text rejection kept as a problem's detail.
const DETAIL_BYTES: usize = 2048;

/// Turns an error answer that is not already problem+json or an HTML page into problem+json,
/// keeping its status and headers (`Allow` of a 405) and its text as the detail.
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("application/problem+json") || content_type.starts_with("text/html") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, DETAIL_BYTES).await.map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default();
            format!("{method} is not served here; this path takes {allowed} (see /api/v1/openapi.json)")
        }
        StatusCode::PAYLOAD_TOO_LARGE => format!("the body is larger than {} bytes — send less", crate::BODY_LIMIT_BYTES),
        StatusCode::REQUEST_TIMEOUT => "the request took too long and was stopped — try again".to_string(),
        _ if !text.is_empty() => text,
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let problem = Problem { status, kind: kind_of(status), title: status.canonical_reason().unwrap_or("Error"), detail }.into_response();
    let (_, problem_body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    Response::from_parts(parts, problem_body)
}

fn kind_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::TOO_MANY_REQUESTS => "rate-limited",
        s if s.is_server_error() => "internal",
        _ => "bad-input",
    }
}

/// The answer for a path no route serves.
pub async fn no_such_path(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path == "/healthz" {
        return Problem::not_found(format!("no such path: {path} (see /api/v1/openapi.json)")).into_response();
    }
    let (parts, _) = request.into_parts();
    crate::pages::no_such_page(&state, &parts)
}

/// The API's writes take JSON or nothing: a body of any other type (text/plain, a urlencoded or
/// multipart form — what a `<form>` on another site can send) is refused with 415 before any
/// handler runs, as is a body sent without a Content-Type.
pub async fn json_bodies_only(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?").to_string());
    let length = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim);
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING) || length.is_some_and(|n| n != "0");
    match content_type {
        Some(t) if is_json(&t) => next.run(request).await,
        // The returns upload takes the spreadsheet itself: types no cross-site form can send.
        Some(t) if request.uri().path().ends_with("/returns/upload") && is_spreadsheet(&t) => next.run(request).await,
        None if !has_body => next.run(request).await,
        other => {
            let what = other.map_or_else(|| "a body without Content-Type".to_string(), |t| format!("Content-Type {t}"));
            Problem {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                kind: "unsupported-media-type",
                title: "Unsupported Media Type",
                detail: format!("{what} is refused: send the body as JSON with Content-Type: application/json, or no body"),
            }
            .into_response()
        }
    }
}

fn is_spreadsheet(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "text/csv" || essence == bangfu_app::returns_sheet::XLSX_TYPE
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A 303 to `target`, which the caller has checked is a path of this site; a target that is not
/// a valid header value goes to `/` instead of failing.
pub fn see_other(target: &str) -> Response {
    let location = HeaderValue::from_str(target).unwrap_or_else(|_| HeaderValue::from_static("/"));
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(header::LOCATION, location);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_its_suffixes_are_json() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }
}
