//! Errors over HTTP as RFC 9457 problem details (`application/problem+json`): type, title,
//! status, detail, and `request_id`, the id of the request in the log (`logs.rs`). Internal errors
//! are logged in full, with their causes, and answered opaquely.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bangfu_app::AppError;

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
}

impl Problem {
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem { status: StatusCode::BAD_REQUEST, kind: "bad-input", title: "Bad input", detail: detail.into() }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem { status: StatusCode::UNAUTHORIZED, kind: "unauthorized", title: "Unauthorized", detail: detail.into() }
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem { status: StatusCode::NOT_FOUND, kind: "not-found", title: "Not found", detail: detail.into() }
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        let detail = error.to_string();
        match error {
            AppError::BadInput(_) | AppError::BadDatabaseUrl(_) => {
                Problem { status: StatusCode::UNPROCESSABLE_ENTITY, kind: "bad-input", title: "Bad input", detail }
            }
            AppError::NotFound(_) => Problem::not_found(detail),
            AppError::Unauthorized(_) => Problem::unauthorized(detail),
            AppError::Forbidden(_) => Problem { status: StatusCode::FORBIDDEN, kind: "forbidden", title: "Forbidden", detail },
            AppError::Conflict(_) => Problem { status: StatusCode::CONFLICT, kind: "conflict", title: "Conflict", detail },
            AppError::TooManyAttempts(_) => Problem { status: StatusCode::TOO_MANY_REQUESTS, kind: "rate-limited", title: "Too many login attempts", detail },
            AppError::Internal(_) => {
                // In the request's span: the line carries the request's id, which the answer names.
                tracing::error!("{detail}");
                Problem {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    kind: "internal",
                    title: "Internal error",
                    detail: "the server failed; the operator's log has the details".into(),
                }
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "type": format!("https://bangfu.example/problems/{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some(id) = crate::logs::request_id() {
            body["request_id"] = id.into();
        }
        (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
    }
}
