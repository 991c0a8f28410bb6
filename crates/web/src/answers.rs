//! The JSON of the case answer (`/api/v1/cases/{id}`), kept per case
//! while `App::case_detail_shared` hands back the same `Arc` — that is, while the database's
//! version is unchanged — so that a case read serialises its ~50 KB once per change instead of
//! once per request. Access is still checked by the app on every request before this is asked.

use axum::body::Bytes;
use bangfu_app::views::CaseDetail;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which answer about a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseAnswer {
    Detail,
}

/// Cases kept at most; beyond, the cache starts over.
const CAPACITY: usize = 1024;

/// The detail an answer was made from, and the answer.
type Made = (Arc<CaseDetail>, Bytes);

#[derive(Debug, Default)]
pub struct CaseAnswers {
    entries: Mutex<HashMap<(i64, CaseAnswer), Made>>,
}

impl CaseAnswers {
    /// The JSON of `answer` for `detail`, made by `make` unless made already for this very `detail`.
    pub fn get_or_make(&self, detail: &Arc<CaseDetail>, answer: CaseAnswer, make: impl FnOnce(&CaseDetail) -> serde_json::Value) -> Bytes {
        let key = (detail.case.id, answer);
        {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((kept, bytes)) = entries.get(&key)
                && Arc::ptr_eq(kept, detail)
            {
                return bytes.clone();
            }
        }
        // A Value serialises without failing.
        let bytes = Bytes::from(serde_json::to_vec(&make(detail)).unwrap_or_default());
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (Arc::clone(detail), bytes.clone()));
        bytes
    }
}
