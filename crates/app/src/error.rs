//! Errors of the use cases, kept apart by who must act: the user (bad input, not found,
//! conflict) or the operator (store failure, whose details never reach the user).

use bangfu_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input was wrong; the message says what and how to fix it.
    #[error("{0}")]
    BadInput(String),
    /// Nothing the actor may see has this id (whether it exists or not).
    #[error("{0} not found")]
    NotFound(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// The actor may see it but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed logins lately from this address or for this username: try again after
    /// this many seconds.
    #[error("too many failed logins — try again in {0} s")]
    TooManyAttempts(u64),
    /// The change contradicts the present state (a duplicate, a finished need…).
    #[error("{0}")]
    Conflict(String),
    /// The database URL was refused.
    #[error("{0}")]
    BadDatabaseUrl(String),
    /// Anything else; shown to users as an opaque server error.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BadUrl(message) => AppError::BadDatabaseUrl(message),
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::NotFound(what) => AppError::NotFound(what),
            e @ (StoreError::Database(_)
            | StoreError::Sqlite(_)
            | StoreError::Decode(_)
            | StoreError::BadValue { .. }
            | StoreError::Closed
            | StoreError::WriterNotStarted(_)
            | StoreError::CommitFailed(_)
            | StoreError::JobPanicked
            | StoreError::WriteInsideWrite) => AppError::Internal(chain(&e)),
        }
    }
}

impl AppError {
    /// An internal error caused by `error`, with `context` saying what was being done; the
    /// message keeps the whole cause chain ([`chain`]) for the operator's log.
    pub fn internal(context: &str, error: &dyn std::error::Error) -> AppError {
        AppError::Internal(format!("{context}: {}", chain(error)))
    }
}

/// An error with its causes, outermost first: `what failed: why: the root cause`. A cause whose
/// text the message already shows (as thiserror's `#[error("…: {0}")]` on a `#[from]` field does)
/// is not repeated.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

pub(crate) fn bad(message: impl Into<String>) -> AppError {
    AppError::BadInput(message.into())
}

/// A text field as it is kept ([`bangfu_core::text::clean`]): trimmed, at most `max_chars`
/// characters, no control character but newline and tab; refused naming the field.
pub(crate) fn text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    bangfu_core::text::clean(value, max_chars).map_err(|e| bad(format!("{field}: {e}")))
}

/// A JSON object of attributes or requirements: at most [`bangfu_core::text::ATTRS_BYTES`] as
/// written out, and every name and text in it a clean text.
pub(crate) fn json_text(field: &str, value: &serde_json::Value) -> AppResult<()> {
    let written = value.to_string().len();
    if written > bangfu_core::text::ATTRS_BYTES {
        return Err(bad(format!("{field}: is {written} bytes as JSON; at most {} are allowed — shorten it", bangfu_core::text::ATTRS_BYTES)));
    }
    fn walk(field: &str, value: &serde_json::Value) -> AppResult<()> {
        match value {
            serde_json::Value::String(s) => text(field, s, bangfu_core::text::LONG_CHARS).map(drop),
            serde_json::Value::Array(items) => items.iter().try_for_each(|item| walk(field, item)),
            serde_json::Value::Object(map) => map.iter().try_for_each(|(name, item)| {
                text(&format!("{field}: attribute name {name:?}"), name, bangfu_core::text::SHORT_CHARS)?;
                walk(&format!("{field}: {name}"), item)
            }),
            _ => Ok(()),
        }
    }
    walk(field, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose message does not show its cause, like many of the libraries' outer errors.
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    /// An error whose message shows its cause.
    #[derive(Debug, thiserror::Error)]
    #[error("database error: {0}")]
    struct Shows(#[from] std::io::Error);

    #[test]
    fn the_cause_chain_is_kept_without_repeating_what_a_message_already_shows() {
        let root = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file: /var/lib/bangfu/x.db");
        assert_eq!(chain(&Outer("opening the database", root)), "opening the database: no such file: /var/lib/bangfu/x.db");
        let shown = Shows(std::io::Error::other("connection reset"));
        assert_eq!(chain(&shown), "database error: connection reset", "the cause is in the message already");
        let internal = AppError::internal("writing the export", &Outer("CSV", std::io::Error::other("disk full")));
        assert_eq!(internal.to_string(), "internal error: writing the export: CSV: disk full");
    }
}
