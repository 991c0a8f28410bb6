//! Verifying the audit log: every event's hash must cover its content and link to the one before.

use crate::{App, AppResult};
use bangfu_core::audit::{ChainBreak, EventContent, GENESIS_HASH, verify_chain};

/// The verdict on the whole log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub events: usize,
    pub broken: Option<ChainBreak>,
}

impl App {
    /// Reads the whole log in pages and checks the chain from the genesis hash.
    pub async fn verify_audit(&self) -> AppResult<AuditReport> {
        const PAGE: i64 = 10_000;
        let mut after = 0;
        let mut expected_prev = GENESIS_HASH.to_string();
        let mut count = 0;
        loop {
            let page = self.store.events_after(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            let chain = page.iter().map(|e| {
                (
                    EventContent { seq: e.seq, at_ms: e.at, actor: &e.actor, action: &e.action, entity: &e.entity, case_id: e.case_id, payload: &e.payload },
                    e.prev_hash.as_str(),
                    e.hash.as_str(),
                )
            });
            if let Err(broken) = verify_chain(chain, expected_prev.clone(), after + 1) {
                return Ok(AuditReport { events: count, broken: Some(broken) });
            }
            count += page.len();
            after = last.seq;
            expected_prev = last.hash.clone();
        }
        Ok(AuditReport { events: count, broken: None })
    }
}
