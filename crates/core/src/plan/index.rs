//! Milestone key → node number, for resolving dependencies and blockers (see the module's text).

use super::Milestone;

/// Milestone key → node number: open addressing with linear probing over a flat table, so that
/// resolving hundreds of thousands of dependencies touches about one slot each. A slot keeps the
/// key's first eight bytes and its length, so keys of up to eight bytes are matched without
/// reading the milestone. The hash is fast, not keyed: keys crafted to collide slow a plan down
/// (quadratically), they cannot make it wrong.
pub(super) struct KeyIndex<'a> {
    slots: Vec<Slot>,
    mask: usize,
    milestones: &'a [Milestone],
    key_order: &'a [u32],
}

#[derive(Clone, Copy)]
struct Slot {
    prefix: u64,
    len: u32,
    node: u32,
}

const EMPTY: u32 = u32::MAX;

/// What the key index keeps of a key.
#[derive(Clone, Copy, Debug)]
pub(super) struct KeyInfo {
    hash: u64,
    pub(super) prefix: u64,
    len: u32,
}

impl KeyInfo {
    pub(super) fn of(key: &[u8]) -> KeyInfo {
        KeyInfo { hash: key_hash(key), prefix: key_prefix(key), len: key_len(key) }
    }
}

impl<'a> KeyIndex<'a> {
    /// `keys[i]` describes the key of `milestones[i]`, which is node `node[i]`; keys are
    /// distinct (checked by the caller).
    pub(super) fn new(milestones: &'a [Milestone], key_order: &'a [u32], keys: &[KeyInfo], node: &[u32]) -> KeyIndex<'a> {
        // At most 80 % full, so that probes stay short and the table small.
        let capacity = (key_order.len() * 5 / 4 + 1).next_power_of_two().max(8);
        let mut slots = vec![Slot { prefix: 0, len: 0, node: EMPTY }; capacity];
        let mask = capacity - 1;
        for (key, &v) in keys.iter().zip(node) {
            let mut at = key.hash as usize & mask;
            while slots[at].node != EMPTY {
                at = (at + 1) & mask;
            }
            slots[at] = Slot { prefix: key.prefix, len: key.len, node: v };
        }
        KeyIndex { slots, mask, milestones, key_order }
    }

    pub(super) fn get(&self, key: &str) -> Option<u32> {
        self.probe(key, key_hash(key.as_bytes()) as usize & self.mask)
    }

    fn probe(&self, key: &str, mut at: usize) -> Option<u32> {
        let bytes = key.as_bytes();
        let (prefix, len) = (key_prefix(bytes), key_len(bytes));
        loop {
            let slot = self.slots[at];
            if slot.node == EMPTY {
                return None;
            }
            if slot.prefix == prefix
                && slot.len == len
                && (bytes.len() <= 8 || self.milestones[self.key_order[slot.node as usize] as usize].key == key)
            {
                return Some(slot.node);
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// The key's first eight bytes, little-endian, zero-padded: matches keys of up to eight bytes.
fn key_prefix(key: &[u8]) -> u64 {
    match key.first_chunk::<8>() {
        Some(word) => u64::from_le_bytes(*word),
        None => key.iter().enumerate().fold(0, |word, (k, &b)| word | u64::from(b) << (8 * k)),
    }
}

fn key_len(key: &[u8]) -> u32 {
    u32::try_from(key.len()).unwrap_or(u32::MAX)
}

/// FxHash over eight-byte words, then the MurmurHash3 finaliser so that low bits are mixed.
fn key_hash(key: &[u8]) -> u64 {
    let mut hash = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        hash = (hash.rotate_left(5) ^ key_prefix(rest)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}
