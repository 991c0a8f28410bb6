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
            e @ (StoreError::Database(_) | StoreError::Sqlite(_) | StoreError::Decode(_)) => AppError::Internal(e.to_string()),
        }
    }
}

pub(crate) fn bad(message: impl Into<String>) -> AppError {
    AppError::BadInput(message.into())
}
