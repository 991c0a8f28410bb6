//! The search index (issue 13): enterprises, providers, needs, letters and departments found by
//! a few characters of their name or code, in simplified or traditional characters (萬榮 finds
//! 万荣), in pinyin from the start of a syllable (`wanrong`, `linfen`) or by pinyin initials
//! (`wr`), or by the name of the region they are in (臨汾); ranked, and never showing what the
//! reader may not see.
//!
//! **Text.** Every title is folded one character at a time (`hanzi::fold_char`, ASCII lower
//! case), so that any part of a name folds to a part of its folded form; its pinyin is one
//! syllable per Chinese character (the `pinyin` crate's most common reading), a run of ASCII
//! letters and digits counting as one syllable. Postings, per kind, are kept for the title's
//! characters and pairs of characters, its first one and two characters, the pairs of its codes
//! (credit code, provider key, letter number), the first two, three, four and six letters of the
//! pinyin from each syllable, and the initials' letters, pairs and triples (of pinyin and initials
//! only those that are all letters: a query word with a digit is never read as pinyin). A query
//! is folded the same way; its candidates come from the rarest posting of its longest word and
//! are checked against the stored text, so a posting only narrows, it never decides. A title or
//! code equal to the word is found by a hash of the folded text, and checked the same way.
//!
//! **Ranking.** Tiers, best first: the title or a code equal to the word (100), the title starting
//! with it (90), containing it (80), a code containing it (70), the pinyin from a syllable (60),
//! the initials (50), the document lying in a region of that name (30). Within a tier, by kind
//! (enterprise, provider, need, letter, department), then by id. The other words of a query
//! narrow: each must be in the title, a code, the pinyin, the initials or the region's name.
//!
//! **Who sees what, inside the scan.** Each posting of the kinds seen by jurisdiction
//! (enterprises, needs, letters) keeps its documents in segments, one per region (the
//! enterprise's, or the case's for a need and its letters), each in id order. A
//! reader who sees by jurisdiction scans only the segments of its regions, merged by id, plus
//! the few documents it sees otherwise (a need owned, broadcast to or written to its department,
//! a case its department is stationed at, an enterprise user's own case, a provider user's
//! candidacies), each checked by [`Reader::sees`]. Nothing the reader may not see is counted,
//! ranked or read, so neither the answer nor the work done for it depends on it, beyond the
//! binary search that skips its segments. Each tier stops once the answer is full. Providers and
//! departments, which every officer sees, keep each posting as one list in id order, except the
//! list of all documents of the kind, which every kind keeps by region for a region's name; a
//! word naming a region narrows their other postings by each document's region, read from a
//! table by id.
//!
//! **Memory** (issue 12: a server with a million providers holds this index). A posting's ids
//! are kept as gaps, 7 bits a byte, in blocks of about `BLOCK` ids of one region (an id added or
//! removed rewrites one block); a document's texts are one allocation, its folded title kept only
//! where it differs from the title, its pinyin and initials derived from the folded title when a
//! candidate is checked (a table lookup per character); each distinct snippet is kept once. A
//! document replaced changes only the postings of the keys it gains or loses (all of them if it
//! moved to another region).

use crate::hanzi::fold_char;
use crate::region::{RegionCode, RegionTree, name_stem};
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::cmp::Reverse;

/// The kinds of document, in the order their results are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchKind {
    Enterprise,
    Provider,
    Need,
    Letter,
    Department,
}

impl SearchKind {
    pub const ALL: [SearchKind; 5] = [SearchKind::Enterprise, SearchKind::Provider, SearchKind::Need, SearchKind::Letter, SearchKind::Department];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Enterprise => "enterprise",
            SearchKind::Provider => "provider",
            SearchKind::Need => "need",
            SearchKind::Letter => "letter",
            SearchKind::Department => "department",
        }
    }

    pub fn parse(text: &str) -> Option<SearchKind> {
        SearchKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Who may see a need (and its letters), as the reading rules of `app::access` state it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NeedAudience {
    /// The enterprise whose case it is.
    pub enterprise_id: i64,
    /// The department that owns it.
    pub owner: u32,
    /// Departments that see it by name: stationed at its case, broadcast to, addressed by a sent letter.
    pub departments: Vec<u32>,
    /// Providers that are its candidates.
    pub providers: Vec<i64>,
}

/// Who may see a document besides the rule of its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Audience {
    /// An enterprise: the readers of its region, and its own users.
    Enterprise,
    /// A provider: every officer and viewer, and its own users.
    Provider,
    /// A need, or a letter about it.
    Need(NeedAudience),
    /// A department: everyone.
    Department,
}

/// A document as the application hands it in.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchDoc {
    pub kind: SearchKind,
    pub id: i64,
    pub title: String,
    /// Codes found by their characters: a credit code, a provider key, a letter number.
    pub codes: Vec<String>,
    /// The region it lies in (the case's region for a need and its letters).
    pub region: u32,
    /// A line shown under the title.
    pub snippet: String,
    /// The object a result links through: an enterprise's case, a letter's need (0: none).
    pub parent: i64,
    pub audience: Audience,
}

/// A reader, as data: what `app::access` lets it see.
#[derive(Clone, Debug, PartialEq)]
pub enum Reader {
    /// Everything (an administrator).
    All,
    /// An officer or viewer: its department and that department's jurisdiction (runs of codes).
    Department { department: u32, runs: Vec<(u32, u32)> },
    /// An enterprise user.
    Enterprise(i64),
    /// A provider user.
    Provider(i64),
    /// Nothing.
    Nobody,
}

impl Reader {
    fn holds(&self, region: u32) -> bool {
        match self {
            Reader::All => true,
            Reader::Department { runs, .. } => in_runs(runs, region),
            _ => false,
        }
    }

    /// Whether the reader sees `doc`: the rule of `app::access` for its kind.
    pub fn sees(&self, kind: SearchKind, id: i64, region: u32, audience: &Audience) -> bool {
        match (self, audience) {
            (Reader::All, _) => true,
            (Reader::Nobody, _) => false,
            (_, Audience::Department) => true,
            (Reader::Department { .. }, Audience::Provider) => true,
            (Reader::Provider(p), Audience::Provider) => *p == id,
            (Reader::Enterprise(_), Audience::Provider) => false,
            (Reader::Department { .. }, Audience::Enterprise) => self.holds(region),
            (Reader::Enterprise(e), Audience::Enterprise) => *e == id,
            (Reader::Provider(_), Audience::Enterprise) => false,
            (Reader::Department { department, runs }, Audience::Need(n)) => {
                in_runs(runs, region) || in_runs(runs, n.owner) || n.departments.contains(department)
            }
            (Reader::Enterprise(e), Audience::Need(n)) => n.enterprise_id == *e,
            (Reader::Provider(p), Audience::Need(n)) => kind == SearchKind::Need && n.providers.contains(p),
        }
    }
}

fn in_runs(runs: &[(u32, u32)], code: u32) -> bool {
    let i = runs.partition_point(|(_, last)| *last < code);
    runs.get(i).is_some_and(|(first, _)| *first <= code)
}

/// One result.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub kind: SearchKind,
    pub id: i64,
    pub title: String,
    pub region: u32,
    pub snippet: String,
    pub parent: i64,
    pub score: u32,
}

/// What a query asks.
#[derive(Clone, Debug)]
pub struct SearchQuery<'a> {
    pub text: &'a str,
    pub kinds: &'a [SearchKind],
    pub limit: usize,
}

// ---------------------------------------------------------------- text

/// The folded form of a text: each character's simplified form, ASCII in lower case.
pub fn fold(text: &str) -> String {
    text.chars().map(|c| fold_char(c).to_ascii_lowercase()).collect()
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

/// The pinyin syllables of a folded title: one per Chinese character that has a reading, one per
/// run of ASCII letters and digits. Derived when needed (a table lookup per character), not kept.
fn syllables(folded: &str) -> Vec<&str> {
    use pinyin::ToPinyin;
    let mut out = Vec::new();
    let mut run: Option<usize> = None;
    for (at, c) in folded.char_indices() {
        if c.is_ascii_alphanumeric() {
            run.get_or_insert(at);
            continue;
        }
        if let Some(start) = run.take() {
            out.push(&folded[start..at]);
        }
        if is_han(c)
            && let Some(p) = c.to_pinyin()
        {
            out.push(p.plain());
        }
    }
    if let Some(start) = run {
        out.push(&folded[start..]);
    }
    out
}

/// Whether the pinyin, from the start of one of its syllables, begins with `word`.
fn pinyin_matches(syllables: &[&str], word: &str) -> bool {
    (0..syllables.len()).any(|from| {
        let mut rest = word.as_bytes();
        for s in &syllables[from..] {
            let n = s.len().min(rest.len());
            if s.as_bytes()[..n] != rest[..n] {
                return false;
            }
            rest = &rest[n..];
            if rest.is_empty() {
                return true;
            }
        }
        false
    })
}

/// Whether the initials (the first letter of each syllable) contain `word`.
fn initials_contain(syllables: &[&str], word: &str) -> bool {
    let initials: Vec<u8> = syllables.iter().filter_map(|s| s.as_bytes().first().copied()).collect();
    initials.windows(word.len()).any(|w| w == word.as_bytes())
}

/// Keys of the postings: a tag and up to four characters, packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key(u8, [char; 4]);

const TITLE1: u8 = 1;
const TITLE2: u8 = 2;
const PREFIX1: u8 = 3;
const PREFIX2: u8 = 4;
const CODE2: u8 = 5;
const PINYIN2: u8 = 6;
const PINYIN4: u8 = 7;
const PINYIN6: u8 = 11;
const PINYIN3: u8 = 12;
const INITIAL3: u8 = 13;
const INITIAL1: u8 = 8;
const INITIAL2: u8 = 9;
const EVERY: u8 = 10;

fn key(tag: u8, chars: &[char]) -> Key {
    let mut k = ['\0'; 4];
    for (slot, c) in k.iter_mut().zip(chars) {
        *slot = *c;
    }
    Key(tag, k)
}

/// A key of up to six pinyin letters (ASCII), packed into the four slots.
fn pinyin_key(tag: u8, letters: &[char]) -> Key {
    let mut k = ['\0'; 4];
    for (i, c) in letters.iter().enumerate() {
        let slot = i / 2;
        let shifted = if i % 2 == 0 { *c as u32 } else { (k[slot] as u32) | ((*c as u32) << 8) };
        k[slot] = char::from_u32(shifted).unwrap_or('\0');
    }
    Key(tag, k)
}

/// A document's audience; the kinds that carry nothing share one value instead of each holding it.
#[derive(Clone, Debug)]
enum StoredAudience {
    Shared(&'static Audience),
    Need(Box<Audience>),
}

impl StoredAudience {
    fn of(audience: &Audience) -> StoredAudience {
        static ENTERPRISE: Audience = Audience::Enterprise;
        static PROVIDER: Audience = Audience::Provider;
        static DEPARTMENT: Audience = Audience::Department;
        match audience {
            Audience::Enterprise => StoredAudience::Shared(&ENTERPRISE),
            Audience::Provider => StoredAudience::Shared(&PROVIDER),
            Audience::Department => StoredAudience::Shared(&DEPARTMENT),
            Audience::Need(_) => StoredAudience::Need(Box::new(audience.clone())),
        }
    }
}

impl std::ops::Deref for StoredAudience {
    type Target = Audience;
    fn deref(&self) -> &Audience {
        match self {
            StoredAudience::Shared(a) => a,
            StoredAudience::Need(a) => a,
        }
    }
}

/// What is kept of a document to check a candidate and to answer: its texts in one allocation,
/// the folded title only where it differs from the title; its pinyin and initials are derived
/// from the folded title when a candidate is checked ([`syllables`]), its snippet is one of the
/// index's [`Snippets`].
#[derive(Clone, Debug)]
struct Stored {
    /// The title, then its folded form if that differs, then the folded codes separated by '\n'.
    text: Box<str>,
    title_end: u32,
    folded_end: u32,
    region: u32,
    snippet: u32,
    parent: i64,
    audience: StoredAudience,
}

impl Stored {
    fn of(doc: &SearchDoc, snippet: u32) -> Stored {
        let folded = fold(&doc.title);
        let mut text = doc.title.clone();
        let title_end = text.len();
        if folded != doc.title {
            text.push_str(&folded);
        }
        let folded_end = text.len();
        text.push_str(&doc.codes.iter().map(|c| fold(c)).collect::<Vec<_>>().join("\n"));
        Stored {
            text: text.into(),
            title_end: u32::try_from(title_end).unwrap_or(u32::MAX),
            folded_end: u32::try_from(folded_end).unwrap_or(u32::MAX),
            region: doc.region,
            snippet,
            parent: doc.parent,
            audience: StoredAudience::of(&doc.audience),
        }
    }

    fn title(&self) -> &str {
        &self.text[..self.title_end as usize]
    }

    fn folded(&self) -> &str {
        &self.text[if self.folded_end == self.title_end { 0 } else { self.title_end as usize }..self.folded_end as usize]
    }

    /// The folded codes, separated by '\n'.
    fn codes(&self) -> &str {
        &self.text[self.folded_end as usize..]
    }

    /// The texts an exact match finds it by: the folded title and each folded code.
    fn exact_texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.folded()).chain(self.codes().split('\n').filter(|c| !c.is_empty()))
    }

    /// Its posting keys, sorted. Keys of pinyin and initials are kept only when they are all
    /// letters: a query word with a digit is never looked up as pinyin or initials.
    fn keys(&self) -> Vec<Key> {
        let mut keys = vec![key(EVERY, &[])];
        let folded = self.folded();
        let title: Vec<char> = folded.chars().collect();
        for (i, c) in title.iter().enumerate() {
            keys.push(key(TITLE1, &[*c]));
            if let Some(next) = title.get(i + 1) {
                keys.push(key(TITLE2, &[*c, *next]));
            }
        }
        if let Some(first) = title.first() {
            keys.push(key(PREFIX1, &[*first]));
        }
        if title.len() >= 2 {
            keys.push(key(PREFIX2, &title[..2]));
        }
        for code in self.codes().split('\n') {
            let chars: Vec<char> = code.chars().collect();
            for pair in chars.windows(2) {
                keys.push(key(CODE2, pair));
            }
        }
        let letters_only = |cs: &[char]| cs.iter().all(char::is_ascii_lowercase);
        let syllables = syllables(folded);
        let letters: Vec<char> = syllables.concat().chars().collect();
        let mut start = 0;
        for s in &syllables {
            for (tag, len) in [(PINYIN2, 2), (PINYIN3, 3), (PINYIN4, 4), (PINYIN6, 6)] {
                if let Some(part) = letters.get(start..start + len)
                    && letters_only(part)
                {
                    keys.push(pinyin_key(tag, part));
                }
            }
            start += s.len();
        }
        let initials: Vec<char> = syllables.iter().filter_map(|s| s.chars().next()).collect();
        for i in 0..initials.len() {
            for (tag, len) in [(INITIAL1, 1), (INITIAL2, 2), (INITIAL3, 3)] {
                if let Some(part) = initials.get(i..i + len)
                    && letters_only(part)
                {
                    keys.push(key(tag, part));
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

/// The snippets of the documents, each distinct one kept once (a provider's is its place, a
/// need's its kind, status and place). One no longer used stays until the index is built again.
#[derive(Clone, Debug, Default)]
struct Snippets {
    texts: Vec<Box<str>>,
    numbers: HashMap<Box<str>, u32>,
}

impl Snippets {
    fn number(&mut self, text: &str) -> u32 {
        if let Some(n) = self.numbers.get(text) {
            return *n;
        }
        let n = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.into());
        self.numbers.insert(text.into(), n);
        n
    }

    fn text(&self, number: u32) -> &str {
        self.texts.get(number as usize).map_or("", |t| t)
    }
}

// ---------------------------------------------------------------- postings

/// Ids per block when a posting is built; a block is rewritten whole when an id is added or
/// removed, and split when it grows past twice this.
const BLOCK: usize = 128;

/// A run of a posting's ids, all of one region: the first, then the gaps to each next as
/// variable-length integers (7 bits a byte) in the posting's bytes from `start` to the next
/// block's start.
#[derive(Clone, Copy, Debug)]
struct Block {
    region: u32,
    first: u32,
    start: u32,
    len: u32,
}

/// A posting: documents (ids) in blocks ordered by region and first id. A posting that keeps
/// regions (`by_region`, see [`by_region`]) has each region's documents in its own blocks, in id
/// order (a segment); the others put every document in region 0, one list in id order.
#[derive(Clone, Debug, Default)]
struct Posting {
    blocks: Vec<Block>,
    bytes: Vec<u8>,
    by_region: bool,
}

fn put_gap(bytes: &mut Vec<u8>, mut gap: u32) {
    while gap >= 0x80 {
        bytes.push((gap as u8) | 0x80);
        gap >>= 7;
    }
    bytes.push(gap as u8);
}

/// The ids of consecutive blocks of a posting, in order (in id order within one region).
#[derive(Clone, Debug)]
struct Ids<'a> {
    posting: &'a Posting,
    block: usize,
    end: usize,
    /// Ids left in the current block, where the next gap is, and the last id given.
    left: u32,
    at: usize,
    last: u32,
}

impl<'a> Ids<'a> {
    fn new(posting: &'a Posting, block: usize, end: usize) -> Ids<'a> {
        Ids { posting, block, end, left: 0, at: 0, last: 0 }
    }
}

impl Iterator for Ids<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.left > 0 {
            self.left -= 1;
            let mut gap = 0u32;
            let mut shift = 0;
            loop {
                let byte = self.posting.bytes[self.at];
                self.at += 1;
                gap |= u32::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    break;
                }
                shift += 7;
            }
            self.last += gap;
            return Some(self.last);
        }
        let b = *self.posting.blocks.get(self.block).filter(|_| self.block < self.end)?;
        self.block += 1;
        self.left = b.len - 1;
        self.at = b.start as usize;
        self.last = b.first;
        Some(b.first)
    }
}

impl Posting {
    fn new(by_region: bool) -> Posting {
        Posting { by_region, ..Posting::default() }
    }

    fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The ranges of blocks of the regions in `runs` (all of them for `None`), one per region.
    fn segment_ranges(&self, runs: Option<&[(u32, u32)]>) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut split = |from: usize, to: usize| {
            let mut i = from;
            while i < to {
                let region = self.blocks[i].region;
                let j = i + self.blocks[i..to].partition_point(|b| b.region == region);
                out.push((i, j));
                i = j;
            }
        };
        match runs {
            None => split(0, self.blocks.len()),
            Some(runs) => {
                for (first, last) in runs {
                    split(self.blocks.partition_point(|b| b.region < *first), self.blocks.partition_point(|b| b.region <= *last));
                }
            }
        }
        out
    }

    /// The segments of the regions in `runs` (all of them for `None`).
    fn segments_in(&self, runs: Option<&[(u32, u32)]>) -> Vec<Ids<'_>> {
        self.segment_ranges(runs).into_iter().map(|(from, to)| Ids::new(self, from, to)).collect()
    }

    /// How many ids the segments of `runs` hold (all of them if the posting keeps no regions).
    fn len_in(&self, runs: Option<&[(u32, u32)]>) -> usize {
        let runs = runs.filter(|_| self.by_region);
        self.segment_ranges(runs).into_iter().map(|(from, to)| self.blocks[from..to].iter().map(|b| b.len as usize).sum::<usize>()).sum()
    }

    /// Where block `i`'s gaps end.
    fn end_of(&self, i: usize) -> usize {
        self.blocks.get(i + 1).map_or(self.bytes.len(), |b| b.start as usize)
    }

    /// The block of `region` that holds `id` or would: the last whose first id is at most `id`,
    /// else the region's first; none if the region has no block.
    fn block_for(&self, region: u32, id: u32) -> Option<usize> {
        let i = self.blocks.partition_point(|b| (b.region, b.first) <= (region, id));
        if i > 0 && self.blocks[i - 1].region == region {
            Some(i - 1)
        } else {
            self.blocks.get(i).filter(|b| b.region == region).map(|_| i)
        }
    }

    fn insert(&mut self, region: u32, id: u32) {
        let Some(at) = self.block_for(region, id) else {
            let i = self.blocks.partition_point(|b| (b.region, b.first) <= (region, id));
            let start = self.blocks.get(i).map_or(self.bytes.len(), |b| b.start as usize) as u32;
            self.blocks.insert(i, Block { region, first: id, start, len: 1 });
            return;
        };
        let mut ids: Vec<u32> = Ids::new(self, at, at + 1).collect();
        if let Err(i) = ids.binary_search(&id) {
            ids.insert(i, id);
            self.rewrite(at, &ids);
        }
    }

    fn remove(&mut self, region: u32, id: u32) {
        let Some(at) = self.block_for(region, id) else { return };
        let mut ids: Vec<u32> = Ids::new(self, at, at + 1).collect();
        if let Ok(i) = ids.binary_search(&id) {
            ids.remove(i);
            self.rewrite(at, &ids);
        }
    }

    /// Replaces block `at` by `ids` (of its region, in order): none removes it, more than twice
    /// [`BLOCK`] splits it.
    fn rewrite(&mut self, at: usize, ids: &[u32]) {
        let region = self.blocks[at].region;
        let (start, end) = (self.blocks[at].start as usize, self.end_of(at));
        let mut blocks = Vec::new();
        let mut bytes = Vec::new();
        for chunk in ids.chunks(if ids.len() > 2 * BLOCK { BLOCK } else { 2 * BLOCK }) {
            blocks.push(Block { region, first: chunk[0], start: (start + bytes.len()) as u32, len: chunk.len() as u32 });
            for pair in chunk.windows(2) {
                put_gap(&mut bytes, pair[1] - pair[0]);
            }
        }
        let added = blocks.len();
        let shift = bytes.len() as i64 - (end - start) as i64;
        self.bytes.splice(start..end, bytes);
        self.blocks.splice(at..at + 1, blocks);
        for b in &mut self.blocks[at + added..] {
            b.start = (i64::from(b.start) + shift) as u32;
        }
    }

    /// Appends `other`, whose blocks all come after this one's.
    fn append(&mut self, mut other: Posting) {
        if self.blocks.is_empty() {
            other.by_region = self.by_region;
            *self = other;
            return;
        }
        let shift = self.bytes.len() as u32;
        for b in &mut other.blocks {
            b.start += shift;
        }
        self.blocks.append(&mut other.blocks);
        self.bytes.append(&mut other.bytes);
    }
}

/// A posting being built, its ids given in increasing order.
#[derive(Debug, Default)]
struct Appender {
    posting: Posting,
    last: u32,
}

impl Appender {
    fn push(&mut self, region: u32, id: u32) {
        match self.posting.blocks.last_mut() {
            Some(b) if (b.len as usize) < BLOCK => {
                put_gap(&mut self.posting.bytes, id - self.last);
                b.len += 1;
            }
            _ => self.posting.blocks.push(Block { region, first: id, start: self.posting.bytes.len() as u32, len: 1 }),
        }
        self.last = id;
    }
}

/// The ids of several segments in increasing order.
struct Merged<'a> {
    heap: BinaryHeap<Reverse<(u32, usize)>>,
    segments: Vec<Ids<'a>>,
}

impl<'a> Merged<'a> {
    fn new(mut segments: Vec<Ids<'a>>) -> Merged<'a> {
        let heap = segments.iter_mut().enumerate().filter_map(|(i, s)| s.next().map(|id| Reverse((id, i)))).collect();
        Merged { heap, segments }
    }
}

impl Iterator for Merged<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let Reverse((id, seg)) = self.heap.pop()?;
        if let Some(next) = self.segments[seg].next() {
            self.heap.push(Reverse((next, seg)));
        }
        Some(id)
    }
}

/// A 32-bit hash of a text (fixed keys: the same in every run).
fn text_hash(text: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish() as u32
}

/// Documents by a hash of their folded title and of each folded code; a document found here is
/// checked against its text (two texts may share a hash).
#[derive(Clone, Debug, Default)]
struct Exact {
    /// The document of each hash only one document has.
    one: HashMap<u32, u32>,
    /// The documents of each hash several have, in id order.
    many: HashMap<u32, Vec<u32>>,
}

impl Exact {
    fn insert(&mut self, text: &str, id: u32) {
        let h = text_hash(text);
        if let Some(list) = self.many.get_mut(&h) {
            push_unique(list, id);
        } else if let Some(other) = self.one.get(&h).copied() {
            if other != id {
                self.one.remove(&h);
                self.many.insert(h, vec![other.min(id), other.max(id)]);
            }
        } else {
            self.one.insert(h, id);
        }
    }

    fn remove(&mut self, text: &str, id: u32) {
        let h = text_hash(text);
        if self.one.get(&h) == Some(&id) {
            self.one.remove(&h);
        } else if let Some(list) = self.many.get_mut(&h) {
            remove_from(list, id);
            if let [last] = list[..] {
                self.many.remove(&h);
                self.one.insert(h, last);
            }
        }
    }

    /// The documents that may have `text` as title or code, in id order.
    fn get(&self, text: &str) -> Vec<u32> {
        let h = text_hash(text);
        match self.one.get(&h) {
            Some(id) => vec![*id],
            None => self.many.get(&h).cloned().unwrap_or_default(),
        }
    }
}

/// The documents of one kind.
#[derive(Clone, Debug, Default)]
struct KindIndex {
    docs: Vec<Option<Box<Stored>>>,
    /// Each document's region, by id: what a posting that keeps no regions is filtered by.
    regions: Vec<u32>,
    postings: HashMap<Key, Posting>,
    exact: Exact,
    /// Documents some department sees by name (stationed, broadcast, letter), by department.
    by_department: HashMap<u32, Vec<u32>>,
    /// Documents whose owner lies outside their region's chain, by owner.
    by_owner: BTreeMap<u32, Vec<u32>>,
    /// Needs (and letters) by enterprise and by candidate provider.
    by_enterprise: HashMap<i64, Vec<u32>>,
    by_provider: HashMap<i64, Vec<u32>>,
    len: usize,
}

/// Whether a kind is seen by jurisdiction (a reader scans only its regions' segments).
fn partitioned(kind: SearchKind) -> bool {
    matches!(kind, SearchKind::Enterprise | SearchKind::Need | SearchKind::Letter)
}

/// Whether a posting keeps its documents by region: every posting of a kind seen by
/// jurisdiction, and every kind's list of all its documents (what a region's name finds). The
/// other postings of providers and departments, which every officer sees, are one list each.
fn by_region(kind: SearchKind, key: &Key) -> bool {
    partitioned(kind) || key.0 == EVERY
}

fn push_unique(list: &mut Vec<u32>, id: u32) {
    if let Err(at) = list.binary_search(&id) {
        list.insert(at, id);
    }
}

fn remove_from(list: &mut Vec<u32>, id: u32) {
    if let Ok(at) = list.binary_search(&id) {
        list.remove(at);
    }
}

impl KindIndex {
    /// Puts `stored` at `id`, replacing what was there; only the postings of keys it gains or
    /// loses change (all of them for a document that moved to another region).
    fn put(&mut self, kind: SearchKind, tree: &RegionTree, id: u32, stored: Stored) {
        let old = self.take(id);
        let keys = stored.keys();
        let old_keys = old.as_ref().map(|o| o.keys()).unwrap_or_default();
        let moved = old.as_ref().is_some_and(|o| o.region != stored.region);
        let changed = |k: &Key, others: &[Key]| moved && by_region(kind, k) || others.binary_search(k).is_err();
        if let Some(old) = &old {
            for k in old_keys.iter().filter(|k| changed(k, &keys)) {
                if let Some(p) = self.postings.get_mut(k) {
                    p.remove(if p.by_region { old.region } else { 0 }, id);
                    if p.is_empty() {
                        self.postings.remove(k);
                    }
                }
            }
        }
        for k in keys.iter().filter(|k| changed(k, &old_keys)) {
            let p = self.postings.entry(*k).or_insert_with(|| Posting::new(by_region(kind, k)));
            p.insert(if p.by_region { stored.region } else { 0 }, id);
        }
        self.add_without_postings(tree, id, stored);
    }

    fn add_without_postings(&mut self, tree: &RegionTree, id: u32, stored: Stored) {
        for text in stored.exact_texts() {
            self.exact.insert(text, id);
        }
        if let Audience::Need(n) = &*stored.audience {
            // Only departments that do not see it by their jurisdiction anyway.
            for d in n.departments.iter().filter(|d| !tree.jurisdiction_contains(RegionCode::new_unchecked(**d), RegionCode::new_unchecked(stored.region))) {
                push_unique(self.by_department.entry(*d).or_default(), id);
            }
            if !tree.jurisdiction_contains(RegionCode::new_unchecked(n.owner), RegionCode::new_unchecked(stored.region)) {
                push_unique(self.by_owner.entry(n.owner).or_default(), id);
            }
            push_unique(self.by_enterprise.entry(n.enterprise_id).or_default(), id);
            for p in &n.providers {
                push_unique(self.by_provider.entry(*p).or_default(), id);
            }
        }
        let slot = id as usize;
        if self.docs.len() <= slot {
            self.docs.resize(slot + 1, None);
            self.regions.resize(slot + 1, 0);
        }
        self.regions[slot] = stored.region;
        self.docs[slot] = Some(Box::new(stored));
        self.len += 1;
    }

    /// Takes the document out of everything but the postings.
    fn take(&mut self, id: u32) -> Option<Box<Stored>> {
        let stored = self.docs.get_mut(id as usize).and_then(Option::take)?;
        self.len -= 1;
        for text in stored.exact_texts() {
            self.exact.remove(text, id);
        }
        if let Audience::Need(n) = &*stored.audience {
            for d in &n.departments {
                if let Some(l) = self.by_department.get_mut(d) {
                    remove_from(l, id);
                }
            }
            if let Some(l) = self.by_owner.get_mut(&n.owner) {
                remove_from(l, id);
            }
            if let Some(l) = self.by_enterprise.get_mut(&n.enterprise_id) {
                remove_from(l, id);
            }
            for p in &n.providers {
                if let Some(l) = self.by_provider.get_mut(p) {
                    remove_from(l, id);
                }
            }
        }
        Some(stored)
    }

    fn remove(&mut self, id: u32) {
        let Some(stored) = self.take(id) else { return };
        for k in stored.keys() {
            if let Some(p) = self.postings.get_mut(&k) {
                p.remove(if p.by_region { stored.region } else { 0 }, id);
                if p.is_empty() {
                    self.postings.remove(&k);
                }
            }
        }
    }

    fn doc(&self, id: u32) -> Option<&Stored> {
        self.docs.get(id as usize).and_then(|d| d.as_deref())
    }

    /// The ids of `posting` in the regions of `runs` (all for `None`), in increasing order: its
    /// segments there, or, for a posting that keeps no regions, its ids filtered by region.
    fn ids_in<'a>(&'a self, posting: &'a Posting, runs: Option<&'a [(u32, u32)]>) -> Box<dyn Iterator<Item = u32> + 'a> {
        match runs {
            Some(runs) if !posting.by_region => {
                Box::new(Ids::new(posting, 0, posting.blocks.len()).filter(move |id| self.regions.get(*id as usize).is_some_and(|r| in_runs(runs, *r))))
            }
            _ => {
                let mut segments = posting.segments_in(runs);
                if segments.len() == 1 { Box::new(segments.remove(0)) } else { Box::new(Merged::new(segments)) }
            }
        }
    }
}

// ---------------------------------------------------------------- the index

/// The whole index: one [`KindIndex`] per kind.
#[derive(Clone, Debug, Default)]
pub struct SearchIndex {
    kinds: [KindIndex; 5],
    snippets: Snippets,
}

/// Ids above this are not indexed (the store's ids are far below it).
const MAX_ID: i64 = u32::MAX as i64 - 1;

/// The tiers' scores.
pub const SCORE_EXACT: u32 = 100;
pub const SCORE_PREFIX: u32 = 90;
pub const SCORE_TITLE: u32 = 80;
pub const SCORE_CODE: u32 = 70;
pub const SCORE_PINYIN: u32 = 60;
pub const SCORE_INITIALS: u32 = 50;
pub const SCORE_REGION: u32 = 30;

/// Words of a query, folded, at most this many.
pub const MAX_WORDS: usize = 8;

impl SearchIndex {
    pub fn new() -> SearchIndex {
        SearchIndex::default()
    }

    /// Documents held.
    pub fn len(&self) -> usize {
        self.kinds.iter().map(|k| k.len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An index of `docs` built at once (each posting sorted once, instead of an insertion per
    /// document): what a server's first load and the bench use. A later document of the same
    /// kind and id replaces an earlier one. Each document is dropped once stored, so that a
    /// million of them are not held twice while the index builds.
    pub fn build(tree: &RegionTree, mut docs: Vec<SearchDoc>) -> SearchIndex {
        let mut index = SearchIndex::new();
        docs.retain(|d| (0..=MAX_ID).contains(&d.id));
        // By kind (in the order of `SearchKind::ALL`) and id; a stable sort keeps the documents
        // of one kind and id in the order given, the latest last.
        docs.sort_by_key(|d| (d.kind.index(), d.id));
        let mut docs = docs.into_iter().peekable();
        for kind in SearchKind::ALL {
            let k = &mut index.kinds[kind.index()];
            // Each posting's segment of each region, appended to in id order.
            let mut parts: HashMap<(Key, u32), Appender> = HashMap::new();
            while let Some(doc) = docs.next_if(|d| d.kind == kind) {
                if docs.peek().is_some_and(|next| next.kind == kind && next.id == doc.id) {
                    continue;
                }
                let id = doc.id as u32;
                let stored = Stored::of(&doc, index.snippets.number(&doc.snippet));
                drop(doc);
                for key in stored.keys() {
                    let region = if by_region(kind, &key) { stored.region } else { 0 };
                    parts.entry((key, region)).or_default().push(region, id);
                }
                // Everything but the postings, as an insertion does it.
                k.add_without_postings(tree, id, stored);
            }
            let mut parts: Vec<((Key, u32), Appender)> = parts.into_iter().collect();
            parts.sort_unstable_by_key(|(at, _)| *at);
            for ((key, _), part) in parts {
                k.postings.entry(key).or_insert_with(|| Posting::new(by_region(kind, &key))).append(part.posting);
            }
            for p in k.postings.values_mut() {
                p.blocks.shrink_to_fit();
                p.bytes.shrink_to_fit();
            }
        }
        index
    }

    /// Adds `doc`, replacing the document of the same kind and id.
    pub fn upsert(&mut self, tree: &RegionTree, doc: &SearchDoc) {
        if !(0..=MAX_ID).contains(&doc.id) {
            return;
        }
        let stored = Stored::of(doc, self.snippets.number(&doc.snippet));
        self.kinds[doc.kind.index()].put(doc.kind, tree, doc.id as u32, stored);
    }

    /// Removes the document of `kind` and `id` (if held).
    pub fn remove(&mut self, kind: SearchKind, id: i64) {
        if (0..=MAX_ID).contains(&id) {
            self.kinds[kind.index()].remove(id as u32);
        }
    }

    /// The best `query.limit` documents `reader` sees, best first.
    pub fn search(&self, tree: &RegionTree, reader: &Reader, query: &SearchQuery) -> Vec<SearchHit> {
        let mut words: Vec<String> = query.text.split_whitespace().map(fold).filter(|w| !w.is_empty()).collect();
        words.truncate(MAX_WORDS);
        if words.is_empty() || query.limit == 0 || *reader == Reader::Nobody {
            return Vec::new();
        }
        // The longest word that names no region ranks (the longest of all if each names one);
        // the others narrow.
        let mut words: Vec<Word> = words.iter().map(|w| Word::new(tree, w)).collect();
        let main_at = main_word(&words);
        let main = words.remove(main_at);
        let others = words;
        let mut search = Search { index: self, reader, main: &main, others: &others, limit: query.limit, hits: Vec::new(), taken: HashSet::new() };
        let mut kinds: Vec<SearchKind> = query.kinds.to_vec();
        kinds.sort();
        kinds.dedup();
        search.run(&kinds);
        search.hits
    }
}

/// Which word of a query ranks: the longest that names no region, else the longest; the first
/// of equals.
fn main_word(words: &[Word]) -> usize {
    (0..words.len()).max_by_key(|i| (words[*i].regions.is_empty(), words[*i].chars.len(), Reverse(*i))).unwrap_or(0)
}

/// A word of a query, folded, with what it may match.
struct Word {
    text: String,
    chars: Vec<char>,
    /// ASCII letters only: it may be pinyin or initials.
    letters: bool,
    /// Regions named by it (exactly or by the stem of their name), as runs of codes.
    regions: Vec<(u32, u32)>,
}

impl Word {
    fn new(tree: &RegionTree, text: &str) -> Word {
        let chars: Vec<char> = text.chars().collect();
        let letters = chars.iter().all(|c| c.is_ascii_lowercase());
        let mut regions = Vec::new();
        if chars.iter().any(|c| is_han(*c)) {
            for r in tree.find_by_name(text) {
                if fold(&r.name) == text || fold(name_stem(&r.name)) == text {
                    regions.extend(tree.jurisdiction_runs(r.code).into_iter().map(|(a, b)| (a.as_u32(), b.as_u32())));
                }
            }
            regions.sort_unstable();
            regions.dedup();
        }
        Word { text: text.to_string(), chars, letters, regions }
    }

    /// The tier `doc` reaches for this word, if any.
    fn tier(&self, doc: &Stored) -> Option<u32> {
        let w = self.text.as_str();
        let (folded, codes) = (doc.folded(), doc.codes());
        if folded == w || codes.split('\n').any(|c| c == w) {
            return Some(SCORE_EXACT);
        }
        if folded.starts_with(w) {
            return Some(SCORE_PREFIX);
        }
        if folded.contains(w) {
            return Some(SCORE_TITLE);
        }
        if codes.contains(w) {
            return Some(SCORE_CODE);
        }
        if self.letters {
            let syllables = syllables(folded);
            if self.chars.len() >= 2 && pinyin_matches(&syllables, w) {
                return Some(SCORE_PINYIN);
            }
            if initials_contain(&syllables, w) {
                return Some(SCORE_INITIALS);
            }
        }
        if in_runs(&self.regions, doc.region) {
            return Some(SCORE_REGION);
        }
        None
    }

    /// Of the postings of this word's title keys, the one with the fewest ids in `runs` (none if
    /// a key has no posting: no title holds the word).
    fn rarest_title_posting<'k>(&self, k: &'k KindIndex, runs: Option<&[(u32, u32)]>) -> Option<&'k Posting> {
        let mut best: Option<&Posting> = None;
        for kk in self.keys(SCORE_TITLE) {
            let p = k.postings.get(&kk)?;
            if best.is_none_or(|b| p.len_in(runs) < b.len_in(runs)) {
                best = Some(p);
            }
        }
        best
    }

    /// The posting keys whose documents may reach `tier`, the candidates of that tier.
    fn keys(&self, tier: u32) -> Vec<Key> {
        let c = &self.chars;
        match tier {
            SCORE_PREFIX => vec![if c.len() >= 2 { key(PREFIX2, &c[..2]) } else { key(PREFIX1, &c[..1]) }],
            SCORE_TITLE if c.len() == 1 => vec![key(TITLE1, c)],
            SCORE_TITLE => c.windows(2).map(|p| key(TITLE2, p)).collect(),
            SCORE_CODE if c.len() >= 2 => c.windows(2).map(|p| key(CODE2, p)).collect(),
            SCORE_PINYIN if self.letters && c.len() >= 6 => vec![pinyin_key(PINYIN6, &c[..6])],
            SCORE_PINYIN if self.letters && c.len() >= 4 => vec![pinyin_key(PINYIN4, &c[..4])],
            SCORE_PINYIN if self.letters && c.len() == 3 => vec![pinyin_key(PINYIN3, &c[..3])],
            SCORE_PINYIN if self.letters && c.len() == 2 => vec![pinyin_key(PINYIN2, &c[..2])],
            SCORE_INITIALS if self.letters && c.len() == 1 => vec![key(INITIAL1, c)],
            SCORE_INITIALS if self.letters && c.len() == 2 => vec![key(INITIAL2, c)],
            SCORE_INITIALS if self.letters => c.windows(3).map(|p| key(INITIAL3, p)).collect(),
            SCORE_REGION if !self.regions.is_empty() => vec![key(EVERY, &[])],
            _ => Vec::new(),
        }
    }
}

const TIERS: [u32; 6] = [SCORE_PREFIX, SCORE_TITLE, SCORE_CODE, SCORE_PINYIN, SCORE_INITIALS, SCORE_REGION];

struct Search<'a> {
    index: &'a SearchIndex,
    reader: &'a Reader,
    main: &'a Word,
    others: &'a [Word],
    limit: usize,
    hits: Vec<SearchHit>,
    taken: HashSet<(SearchKind, u32)>,
}

impl Search<'_> {
    fn full(&self) -> bool {
        self.hits.len() >= self.limit
    }

    fn run(&mut self, kinds: &[SearchKind]) {
        // Exact titles and codes first, from the exact map.
        for kind in kinds {
            let k = &self.index.kinds[kind.index()];
            // A document found by the text's hash is checked against its text.
            for id in k.exact.get(&self.main.text) {
                self.consider_tier(*kind, id, SCORE_EXACT);
            }
        }
        for tier in TIERS {
            for kind in kinds {
                if self.full() {
                    return;
                }
                self.scan(*kind, tier);
            }
        }
    }

    /// The candidates of `tier` in `kind`, in id order, until the answer is full.
    fn scan(&mut self, kind: SearchKind, tier: u32) {
        let k = &self.index.kinds[kind.index()];
        let keys = self.main.keys(tier);
        if keys.is_empty() {
            return;
        }
        // The reader's segments; for the region tier, those of the named regions too.
        let reader_runs: Option<Vec<(u32, u32)>> = match (self.reader, partitioned(kind)) {
            (Reader::All, _) | (_, false) => None,
            (Reader::Department { runs, .. }, true) => Some(runs.clone()),
            _ => Some(Vec::new()),
        };
        let runs = match (tier, reader_runs) {
            (SCORE_REGION, None) => Some(self.main.regions.clone()),
            (SCORE_REGION, Some(r)) => Some(intersect_runs(&r, &self.main.regions)),
            (_, r) => r,
        };
        // Of the word's keys, the posting with the fewest ids there (an absent one: nothing).
        let mut best: Option<(&Posting, usize)> = None;
        for kk in &keys {
            let Some(p) = k.postings.get(kk) else {
                best = None;
                break;
            };
            let len = if keys.len() == 1 { 0 } else { p.len_in(runs.as_deref()) };
            if best.is_none_or(|(_, b)| len < b) {
                best = Some((p, len));
            }
        }
        let best = best.map(|(p, _)| p);
        let extra = self.extras(kind, k, runs.as_deref(), tier);
        let Some(posting) = best else {
            // No posting: only the documents seen otherwise may still match (none do, since
            // every document is in the postings of its own text).
            return;
        };
        // Another word naming a region narrows to the documents in it or naming it: the main
        // word's candidates there, and the documents whose title has the region's name.
        let region_word = if self.main.regions.is_empty() { self.others.iter().find(|w| !w.regions.is_empty()) } else { None };
        let stream: Box<dyn Iterator<Item = u32> + '_> = match region_word {
            None => k.ids_in(posting, runs.as_deref()),
            Some(w) => {
                let inside = match &runs {
                    None => w.regions.clone(),
                    Some(r) => intersect_runs(r, &w.regions),
                };
                let mut ids: Vec<u32> = k.ids_in(posting, Some(&inside)).collect();
                if let Some(named) = w.rarest_title_posting(k, runs.as_deref()) {
                    ids.extend(k.ids_in(named, runs.as_deref()));
                }
                ids.sort_unstable();
                ids.dedup();
                Box::new(ids.into_iter())
            }
        };
        if extra.is_empty() {
            for id in stream {
                self.consider_tier(kind, id, tier);
                if self.full() {
                    return;
                }
            }
            return;
        }
        // Merge the extras (sorted, outside the reader's segments) into the stream.
        let mut extra = extra.into_iter().peekable();
        let mut stream = stream.peekable();
        loop {
            let next = match (stream.peek(), extra.peek()) {
                (Some(a), Some(b)) if b < a => extra.next(),
                (Some(_), _) => stream.next(),
                (None, Some(_)) => extra.next(),
                (None, None) => None,
            };
            let Some(id) = next else { break };
            self.consider_tier(kind, id, tier);
            if self.full() {
                return;
            }
        }
    }

    /// The documents of `kind` the reader sees other than by its segments, in id order.
    fn extras(&self, kind: SearchKind, k: &KindIndex, runs: Option<&[(u32, u32)]>, tier: u32) -> Vec<u32> {
        if !matches!(kind, SearchKind::Need | SearchKind::Letter | SearchKind::Enterprise | SearchKind::Provider) {
            return Vec::new();
        }
        let mut out: Vec<u32> = match (self.reader, kind) {
            (Reader::All, _) => Vec::new(),
            (Reader::Department { department, runs: reader_runs }, SearchKind::Need | SearchKind::Letter) => {
                let mut v: Vec<u32> = k.by_department.get(department).cloned().unwrap_or_default();
                for (first, last) in reader_runs {
                    for (_, ids) in k.by_owner.range(first..=last) {
                        v.extend(ids);
                    }
                }
                // Only those outside the segments scanned.
                v.retain(|id| k.doc(*id).is_some_and(|d| !runs.is_some_and(|r| in_runs(r, d.region))));
                v
            }
            (Reader::Enterprise(e), SearchKind::Need | SearchKind::Letter) => k.by_enterprise.get(e).cloned().unwrap_or_default(),
            (Reader::Enterprise(e), SearchKind::Enterprise) => u32::try_from(*e).map(|e| vec![e]).unwrap_or_default(),
            (Reader::Provider(p), SearchKind::Need) => k.by_provider.get(p).cloned().unwrap_or_default(),
            (Reader::Provider(p), SearchKind::Provider) => u32::try_from(*p).map(|p| vec![p]).unwrap_or_default(),
            _ => Vec::new(),
        };
        // The region tier keeps only documents in the named regions.
        if tier == SCORE_REGION {
            out.retain(|id| k.doc(*id).is_some_and(|d| in_runs(&self.main.regions, d.region)));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn consider_tier(&mut self, kind: SearchKind, id: u32, tier: u32) {
        let Some(doc) = self.index.kinds[kind.index()].doc(id) else { return };
        if self.main.tier(doc) == Some(tier) {
            self.consider(kind, id, tier);
        }
    }

    fn consider(&mut self, kind: SearchKind, id: u32, score: u32) {
        if self.full() || self.taken.contains(&(kind, id)) {
            return;
        }
        let Some(doc) = self.index.kinds[kind.index()].doc(id) else { return };
        if !self.reader.sees(kind, i64::from(id), doc.region, &doc.audience) {
            return;
        }
        if !self.others.iter().all(|w| w.tier(doc).is_some()) {
            return;
        }
        self.taken.insert((kind, id));
        self.hits.push(SearchHit {
            kind,
            id: i64::from(id),
            title: doc.title().to_string(),
            region: doc.region,
            snippet: self.index.snippets.text(doc.snippet).to_string(),
            parent: doc.parent,
            score,
        });
    }
}

/// The codes in both lists of runs.
fn intersect_runs(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for (a0, a1) in a {
        for (b0, b1) in b {
            let (first, last) = ((*a0).max(*b0), (*a1).min(*b1));
            if first <= last {
                out.push((first, last));
            }
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tree() -> &'static RegionTree {
        RegionTree::embedded()
    }

    fn enterprise(id: i64, title: &str, code: &str, region: u32) -> SearchDoc {
        SearchDoc { kind: SearchKind::Enterprise, id, title: title.into(), codes: vec![code.into()], region, snippet: code.into(), parent: 0, audience: Audience::Enterprise }
    }

    fn provider(id: i64, title: &str, region: u32) -> SearchDoc {
        SearchDoc { kind: SearchKind::Provider, id, title: title.into(), codes: vec![format!("p{id}")], region, snippet: String::new(), parent: 0, audience: Audience::Provider }
    }

    fn need(id: i64, title: &str, region: u32, enterprise_id: i64, owner: u32) -> SearchDoc {
        SearchDoc {
            kind: SearchKind::Need,
            id,
            title: title.into(),
            codes: vec![],
            region,
            snippet: String::new(),
            parent: 0,
            audience: Audience::Need(NeedAudience { enterprise_id, owner, departments: vec![], providers: vec![] }),
        }
    }

    fn officer(department: u32) -> Reader {
        let runs = tree().jurisdiction_runs(RegionCode::new_unchecked(department)).into_iter().map(|(a, b)| (a.as_u32(), b.as_u32())).collect();
        Reader::Department { department, runs }
    }

    fn reference_case() -> SearchIndex {
        let mut index = SearchIndex::new();
        for doc in [
            enterprise(1, "山西健康动力科技有限公司", "91141021MA0GRL3X1B", 141021),
            provider(1, "万荣华康药业公司", 140822),
            provider(2, "临汾恒安无纺布制品有限公司", 141002),
            need(1, "医用外科口罩灭菌（环氧乙烷）", 141021, 1, 141021),
            need(2, "熔喷布", 141081, 2, 141081),
        ] {
            index.upsert(tree(), &doc);
        }
        index
    }

    fn find(index: &SearchIndex, reader: &Reader, q: &str) -> Vec<(SearchKind, i64, u32)> {
        index.search(tree(), reader, &SearchQuery { text: q, kinds: &SearchKind::ALL, limit: 20 }).into_iter().map(|h| (h.kind, h.id, h.score)).collect()
    }

    #[test]
    fn traditional_characters_pinyin_and_initials_find_wanrong() {
        let index = reference_case();
        for q in ["萬榮", "万荣", "wanrong", "wanr", "wr", "WR", "萬榮華康藥業公司"] {
            assert!(find(&index, &Reader::All, q).contains(&(SearchKind::Provider, 1, match q {
                "wanrong" | "wanr" => SCORE_PINYIN,
                "wr" | "WR" => SCORE_INITIALS,
                "萬榮華康藥業公司" => SCORE_EXACT,
                _ => SCORE_PREFIX,
            })), "{q}: {:?}", find(&index, &Reader::All, q));
        }
    }

    #[test]
    fn a_credit_code_finds_its_enterprise_whole_or_in_part() {
        let index = reference_case();
        assert_eq!(find(&index, &Reader::All, "91141021MA0GRL3X1B"), vec![(SearchKind::Enterprise, 1, SCORE_EXACT)]);
        assert_eq!(find(&index, &Reader::All, "ma0grl"), vec![(SearchKind::Enterprise, 1, SCORE_CODE)]);
    }

    #[test]
    fn a_region_name_finds_what_lies_there_after_what_is_named_after_it() {
        let index = reference_case();
        let found = find(&index, &Reader::All, "臨汾");
        assert_eq!(found[0], (SearchKind::Provider, 2, SCORE_PREFIX), "{found:?}");
        assert!(found.contains(&(SearchKind::Enterprise, 1, SCORE_REGION)), "曲沃 is in 临汾: {found:?}");
        assert!(found.contains(&(SearchKind::Need, 2, SCORE_REGION)), "侯马 is in 临汾: {found:?}");
        assert!(!found.iter().any(|(k, id, _)| *k == SearchKind::Provider && *id == 1), "万荣 is in 运城: {found:?}");
        assert_eq!(find(&index, &Reader::All, "linfen")[0], (SearchKind::Provider, 2, SCORE_PINYIN));
    }

    #[test]
    fn the_houma_officer_finds_nothing_of_the_quwo_case() {
        let index = reference_case();
        let houma = officer(141081);
        for q in ["山西健康动力", "91141021MA0GRL3X1B", "口罩", "灭菌", "kouzhao", "曲沃", "临汾", "sxjk"] {
            let found = find(&index, &houma, q);
            assert!(!found.iter().any(|(k, _, _)| matches!(k, SearchKind::Enterprise) || *k == SearchKind::Need && found.iter().any(|(_, id, _)| *id == 1)), "{q}: {found:?}");
        }
        assert_eq!(find(&index, &houma, "熔喷"), vec![(SearchKind::Need, 2, SCORE_PREFIX)], "its own county's need");
        assert!(find(&index, &officer(141021), "口罩").contains(&(SearchKind::Need, 1, SCORE_TITLE)));
        assert!(find(&index, &officer(141000), "口罩").contains(&(SearchKind::Need, 1, SCORE_TITLE)), "the city sees its counties");
    }

    #[test]
    fn a_need_is_seen_by_a_department_it_was_written_or_broadcast_to_and_by_its_candidates() {
        let mut index = reference_case();
        let mut doc = need(3, "环氧乙烷灭菌柜", 141021, 1, 141021);
        doc.audience = Audience::Need(NeedAudience { enterprise_id: 1, owner: 141021, departments: vec![140822], providers: vec![1] });
        index.upsert(tree(), &doc);
        assert!(find(&index, &officer(140822), "灭菌柜").contains(&(SearchKind::Need, 3, SCORE_TITLE)));
        assert!(find(&index, &officer(140822), "灭菌").iter().all(|(_, id, _)| *id == 3), "not need 1");
        assert_eq!(find(&index, &Reader::Provider(1), "灭菌"), vec![(SearchKind::Need, 3, SCORE_TITLE)]);
        assert_eq!(find(&index, &Reader::Provider(2), "灭菌"), vec![]);
        assert_eq!(find(&index, &Reader::Enterprise(1), "灭菌").len(), 2);
        index.remove(SearchKind::Need, 3);
        assert!(find(&index, &officer(140822), "灭菌柜").is_empty());
    }

    /// A search by brute force: every document's tier, filtered, sorted.
    fn reference(index: &SearchIndex, reader: &Reader, q: &str, limit: usize) -> Vec<(SearchKind, i64, u32)> {
        let words: Vec<String> = q.split_whitespace().map(fold).filter(|w| !w.is_empty()).collect();
        if words.is_empty() {
            return vec![];
        }
        let mut words: Vec<Word> = words.iter().map(|w| Word::new(tree(), w)).collect();
        let main = words.remove(main_word(&words));
        let others = words;
        let mut all = Vec::new();
        for kind in SearchKind::ALL {
            for (id, doc) in index.kinds[kind.index()].docs.iter().enumerate() {
                let Some(doc) = doc else { continue };
                if !reader.sees(kind, id as i64, doc.region, &doc.audience) || !others.iter().all(|w| w.tier(doc).is_some()) {
                    continue;
                }
                if let Some(t) = main.tier(doc) {
                    all.push((Reverse(t), kind, id as i64));
                }
            }
        }
        all.sort();
        all.into_iter().take(limit).map(|(t, k, id)| (k, id, t.0)).collect()
    }

    const NAMES: [&str; 12] = ["万荣", "临汾", "侯马", "曲沃", "恒安", "康达", "口罩", "熔喷布", "灭菌", "萬榮", "有限公司", "KN95"];
    const PLACES: [u32; 6] = [140822, 141021, 141081, 141002, 140100, 440300];

    proptest! {
        #[test]
        fn the_index_answers_what_a_scan_of_every_document_answers(
            docs in proptest::collection::vec((0usize..5, 0usize..12, 0usize..12, 0usize..6, 0usize..6, 0usize..3), 1..60),
            q in proptest::collection::vec(0usize..12, 1..3),
            pinyin in proptest::bool::ANY,
            reader in 0usize..6,
            limit in 1usize..8,
        ) {
            let mut index = SearchIndex::new();
            let mut all = Vec::new();
            for (i, (kind, a, b, place, owner, extra)) in docs.iter().enumerate() {
                let title = format!("{}{}", NAMES[*a], NAMES[*b]);
                let id = (i + 1) as i64;
                let region = PLACES[*place];
                let doc = match kind {
                    0 => enterprise(id, &title, &format!("9114{id:04}"), region),
                    1 => provider(id, &title, region),
                    4 => SearchDoc { kind: SearchKind::Department, id, title, codes: vec![], region, snippet: String::new(), parent: 0, audience: Audience::Department },
                    k => SearchDoc {
                        kind: if *k == 2 { SearchKind::Need } else { SearchKind::Letter },
                        id,
                        title,
                        codes: vec![],
                        region,
                        snippet: String::new(),
                        parent: 0,
                        audience: Audience::Need(NeedAudience {
                            enterprise_id: (*extra as i64) + 1,
                            owner: PLACES[*owner],
                            departments: if *extra == 1 { vec![141081] } else { vec![] },
                            providers: vec![(*extra as i64) + 1],
                        }),
                    },
                };
                index.upsert(tree(), &doc);
                all.push(doc);
            }
            let text: String = if pinyin {
                ["wanrong", "linfen", "wr", "lf", "kou", "hm", "kn95", "9114", "wrk", "yjl", "lin"][q[0] % 11].to_string()
            } else {
                q.iter().map(|i| NAMES[*i]).collect::<Vec<_>>().join(" ")
            };
            let reader = match reader {
                0 => Reader::All,
                1 => officer(141081),
                2 => officer(141000),
                3 => Reader::Enterprise(2),
                4 => Reader::Provider(2),
                _ => officer(140000),
            };
            let got = find_limited(&index, &reader, &text, limit);
            prop_assert_eq!(&got, &reference(&index, &reader, &text, limit), "{}", text);
            let built = SearchIndex::build(tree(), all.clone());
            prop_assert_eq!(got, find_limited(&built, &reader, &text, limit), "built at once: {}", text);
        }
    }

    #[test]
    fn a_posting_holds_what_was_inserted_and_not_removed_in_every_region_as_blocks_split_and_empty() {
        use std::collections::BTreeSet;
        let mut posting = Posting::new(true);
        let mut model: BTreeSet<(u32, u32)> = BTreeSet::new();
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for step in 0..30_000 {
            let region = [0, 140822, 141021, 440300][next(4) as usize];
            // Mostly a few thousand ids (blocks split), sometimes large gaps (long gap codes).
            let id = if next(10) == 0 { next(u64::from(u32::MAX - 1)) as u32 } else { next(3_000) as u32 };
            if next(3) == 0 {
                posting.remove(region, id);
                model.remove(&(region, id));
            } else {
                posting.insert(region, id);
                model.insert((region, id));
            }
            if step % 1_000 == 0 || step == 29_999 {
                for (first, last) in [(0, 0), (140822, 141021), (440300, 440300), (0, u32::MAX)] {
                    let expected: Vec<u32> = {
                        let mut v: Vec<u32> = model.iter().filter(|(r, _)| (first..=last).contains(r)).map(|(_, id)| *id).collect();
                        v.sort_unstable();
                        v
                    };
                    let got: Vec<u32> = Merged::new(posting.segments_in(Some(&[(first, last)]))).collect();
                    assert_eq!(got, expected, "step {step}, regions {first}..={last}");
                    assert_eq!(posting.len_in(Some(&[(first, last)])), expected.len());
                }
                assert!(posting.blocks.iter().all(|b| b.len >= 1 && b.len as usize <= 2 * BLOCK), "step {step}");
            }
        }
        for (region, id) in model.clone() {
            posting.remove(region, id);
        }
        assert!(posting.is_empty() && posting.bytes.is_empty());
    }

    #[test]
    fn documents_renamed_moved_and_removed_one_by_one_are_found_as_a_new_index_finds_them() {
        let titles = ["万荣华康药业有限公司", "临汾恒安无纺布有限公司", "侯马口罩厂", "曲沃康达灭菌有限公司", "KN95口罩熔喷布"];
        let doc = |i: usize, round: usize| -> SearchDoc {
            let title = format!("{}{}", titles[(i + round) % titles.len()], i % 7);
            let region = PLACES[(i * 3 + round) % PLACES.len()];
            match i % 3 {
                0 => provider(i as i64 + 1, &title, region),
                1 => enterprise(i as i64 + 1, &title, &format!("9114{i:06}"), region),
                _ => need(i as i64 + 1, &title, region, (i % 5) as i64 + 1, PLACES[i % PLACES.len()]),
            }
        };
        let mut index = SearchIndex::new();
        let mut docs: Vec<SearchDoc> = (0..1500).map(|i| doc(i, 0)).collect();
        for d in &docs {
            index.upsert(tree(), d);
        }
        // Every third renamed and moved, every seventh removed.
        for i in (0..1500).step_by(3) {
            docs[i] = doc(i, 1);
            index.upsert(tree(), &docs[i]);
        }
        for i in (0..1500).step_by(7) {
            index.remove(docs[i].kind, docs[i].id);
        }
        let kept: Vec<SearchDoc> = docs.iter().enumerate().filter(|(i, _)| i % 7 != 0).map(|(_, d)| d.clone()).collect();
        let built = SearchIndex::build(tree(), kept);
        assert_eq!(index.len(), built.len());
        for q in ["有限公司", "口罩", "kn95", "wanrong", "wr", "hm", "临汾", "曲沃 灭菌", "9114000", "华康药业有限公司3", "lin"] {
            for reader in [Reader::All, officer(141000), officer(141081), Reader::Provider(4), Reader::Enterprise(2)] {
                for limit in [5, 1000] {
                    let got = find_limited(&index, &reader, q, limit);
                    assert_eq!(got, find_limited(&built, &reader, q, limit), "{q} as {reader:?}");
                    assert_eq!(got, reference(&index, &reader, q, limit), "{q} as {reader:?}");
                }
            }
        }
    }

    fn find_limited(index: &SearchIndex, reader: &Reader, q: &str, limit: usize) -> Vec<(SearchKind, i64, u32)> {
        index.search(tree(), reader, &SearchQuery { text: q, kinds: &SearchKind::ALL, limit }).into_iter().map(|h| (h.kind, h.id, h.score)).collect()
    }
}
