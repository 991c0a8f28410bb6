//! The audit chain: each event's hash covers its content and the previous event's hash, so
//! altering or removing any event breaks every hash after it.

use sha2::{Digest, Sha256};

/// The hash of the event before the first one.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The content of one event, as it is hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventContent<'a> {
    pub seq: i64,
    /// Milliseconds since the Unix epoch, UTC.
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub case_id: Option<i64>,
    pub payload: &'a str,
}

/// SHA-256 over the previous hash and every field, each length-prefixed so that no two events
/// can be made to hash alike by moving text between fields. Lower-case hex.
pub fn event_hash(prev_hash: &str, event: &EventContent<'_>) -> String {
    let mut hasher = Sha256::new();
    let case = event.case_id.map_or(String::new(), |c| c.to_string());
    for field in [
        prev_hash,
        &event.seq.to_string(),
        &event.at_ms.to_string(),
        event.actor,
        event.action,
        event.entity,
        &case,
        event.payload,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Where a chain first fails to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// The event's stored hash is not the hash of its content (it was altered).
    Altered { seq: i64 },
    /// The event's `prev_hash` is not the previous event's hash, or a sequence number is missing.
    Unlinked { seq: i64 },
}

impl ChainBreak {
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Altered { seq } | ChainBreak::Unlinked { seq } => *seq,
        }
    }
}

/// Checks events given in sequence order, each with its stored `prev_hash` and `hash`.
/// `expected_prev` is the hash before the first (the genesis hash for a whole log).
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = (EventContent<'a>, &'a str, &'a str)>,
    mut expected_prev: String,
    mut expected_seq: i64,
) -> Result<(), ChainBreak> {
    for (content, prev_hash, hash) in events {
        if content.seq != expected_seq || prev_hash != expected_prev {
            return Err(ChainBreak::Unlinked { seq: content.seq.min(expected_seq) });
        }
        if event_hash(prev_hash, &content) != hash {
            return Err(ChainBreak::Altered { seq: content.seq });
        }
        expected_prev = hash.to_string();
        expected_seq += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(seq: i64, payload: &str) -> EventContent<'_> {
        EventContent { seq, at_ms: 1_580_000_000_000, actor: "system", action: "need.reported", entity: "need:1", case_id: Some(1), payload }
    }

    #[test]
    fn a_chain_built_link_by_link_verifies() {
        let h1 = event_hash(GENESIS_HASH, &content(1, "a"));
        let h2 = event_hash(&h1, &content(2, "b"));
        let events = vec![(content(1, "a"), GENESIS_HASH, h1.as_str()), (content(2, "b"), h1.as_str(), h2.as_str())];
        assert_eq!(verify_chain(events, GENESIS_HASH.to_string(), 1), Ok(()));
    }

    #[test]
    fn an_altered_payload_is_found_at_its_sequence_number() {
        let h1 = event_hash(GENESIS_HASH, &content(1, "a"));
        let h2 = event_hash(&h1, &content(2, "b"));
        let events = vec![(content(1, "a"), GENESIS_HASH, h1.as_str()), (content(2, "B"), h1.as_str(), h2.as_str())];
        assert_eq!(verify_chain(events, GENESIS_HASH.to_string(), 1), Err(ChainBreak::Altered { seq: 2 }));
    }

    #[test]
    fn a_removed_event_breaks_the_link_after_it() {
        let h1 = event_hash(GENESIS_HASH, &content(1, "a"));
        let h2 = event_hash(&h1, &content(2, "b"));
        let h3 = event_hash(&h2, &content(3, "c"));
        let events = vec![(content(1, "a"), GENESIS_HASH, h1.as_str()), (content(3, "c"), h2.as_str(), h3.as_str())];
        assert_eq!(verify_chain(events, GENESIS_HASH.to_string(), 1), Err(ChainBreak::Unlinked { seq: 2 }));
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let a = EventContent { actor: "ab", action: "c", ..content(1, "") };
        let b = EventContent { actor: "a", action: "bc", ..content(1, "") };
        assert_ne!(event_hash(GENESIS_HASH, &a), event_hash(GENESIS_HASH, &b));
    }
}
