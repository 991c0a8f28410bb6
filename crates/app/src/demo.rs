//! The reference case of Quwo, 2020, as data (see docs in case-quwo-2020.md).

use crate::{Actor, App, AppResult};

/// Loads the reference case; a second load changes nothing.
pub async fn load(_app: &App, _actor: &Actor) -> AppResult<String> {
    Ok("the reference case is not written yet".into())
}
