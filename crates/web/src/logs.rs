//! Logs (issue 18): every request runs in a `request` span with an id of its own, which the answer
//! carries back in the `x-request-id` header and every problem body in `request_id`, so that an
//! operator finds the log lines of what a user reports; every background job (an escalation pass,
//! the morning pass with its briefings, the approval reminders' pass, a round of outbox delivery)
//! runs in a `job` span with an id. Everything is logged through `tracing`; `bangfu serve` writes
//! it to stderr, filtered by `RUST_LOG` (README).
//!
//! Ids are made here, 16 random hexadecimal digits: one a client or a proxy sends is not taken, so
//! an id in the log always names one request.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;

/// The header of every answer that names its request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request whose handler runs on this task.
    static REQUEST_ID: String;
}

/// A new id: 16 hexadecimal digits, random (a counter mixed in, should the system's random
/// source fail).
pub fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let id = u64::from_le_bytes(bytes) ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{id:016x}")
}

/// The id of the request being answered on this task, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// `future` in the span and with the id of the request being answered, for a task the request
/// spawns (a streamed export, an import's progress): its log lines name the request too.
pub fn carried<F: std::future::Future>(future: F) -> impl std::future::Future<Output = F::Output> {
    let span = tracing::Span::current();
    let id = request_id();
    async move {
        match id {
            Some(id) => REQUEST_ID.scope(id, future).instrument(span).await,
            None => future.instrument(span).await,
        }
    }
}

/// The span of a background job of `kind` (`escalation`, `morning`, `reminders`, `outbox`), with a
/// new id: enter it, or instrument the job's future with it, for each run of the job.
pub fn job_span(kind: &'static str) -> tracing::Span {
    tracing::info_span!("job", kind, id = %new_id())
}

/// The outermost layer of the router: the request's id and span around everything else (so the
/// answers of the edges — 404, 405, 408, 413 — carry it too), and the id in the answer's header.
pub async fn request_span(request: Request, next: Next) -> Response {
    let id = new_id();
    let span = tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path());
    let started = std::time::Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "answered"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sixteen_hexadecimal_digits_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }
}
