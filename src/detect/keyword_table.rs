//! The keyword tables: every rule's keywords, lower-cased and
//! deduplicated, with the rules each came from; and apart, the base64 and
//! hex forms of provider keywords, with the decoder each calls for. Each is
//! indexed by two-byte prefix for the hook's search.
//!
//! The encoded forms are thousands of patterns, and they can only be inside
//! a long run of the base64 alphabet: they are looked for there alone
//! ([`crate::decode::encoded_runs`]), by the prefix search, and the bulk
//! scans' automaton is built over the plain keywords only (over both, its
//! build took 17 ms instead of 3, in every `--all` and pre-push).
//!
//! build.rs builds it for the built-in rules (this file is compiled into
//! the build script too, as `src/rules/widen.rs` is), so that the hook does
//! not on every commit: with the base64 and hex forms of provider keywords
//! the table holds thousands of patterns, and building it and an automaton
//! over it at start cost more than the rest of the hook (callgrind, one
//! small staged file: 5.3 M of 11.2 M instructions). A rule set with the
//! user's own rules builds it at start, with the same code.
//!
//! The hook's search needs no automaton: a bit per window key (the first
//! two bytes of a keyword, or a hash of its first four when every keyword
//! has four) rules out most positions with one load, and the keywords with
//! a set key are then compared whole. Four-byte windows keep the bitmap of
//! the thousands of encoded forms sparse: over two bytes, most pairs of
//! letters and digits are some form's start.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::decode::Encoding;

/// The encodings a line is decoded in when it holds a provider keyword in
/// that encoding, or a percent or string escape; each has a slot after
/// every real rule's (see [`KeywordTable::decoder_slot`]).
pub const DECODERS: [Encoding; 4] = [
    Encoding::Base64,
    Encoding::Hex,
    Encoding::Percent,
    Encoding::StringEscapes,
];

/// Keywords shorter than this are not looked for in base64: their encoded
/// form is too short to be rare in base64 text.
const MIN_ENCODED_KEYWORD: usize = 4;

/// Bits in the window bitmap: one per 16-bit window key.
const PREFIX_BITS: usize = 1 << 16;

/// The keywords of a rule set, and where each came from. Laid out flat
/// (one text, one array of numbers per list, with the end of each item):
/// as statics, slices of slices would need a relocation each when a
/// position-independent binary starts, thousands of them.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordTable {
    /// Lower-cased keywords and encoded keyword forms, without duplicates,
    /// one after another; keyword `k` ends at `keyword_ends[k]`.
    pub text: Cow<'static, str>,
    pub keyword_ends: Cow<'static, [u32]>,
    /// For each keyword, the slots that listed it (a rule's index in the
    /// rule set, or a decoder's slot); keyword `k`'s end at `slot_ends[k]`.
    pub slots: Cow<'static, [u32]>,
    pub slot_ends: Cow<'static, [u32]>,
    /// How many bytes of a keyword its window key is made of: 4 when
    /// every keyword has 4, else 2.
    pub window: u8,
    /// The window keys of the keywords (see [`window_key`]), sorted. A
    /// one-byte keyword has every two-byte key it starts.
    pub prefixes: Cow<'static, [u16]>,
    /// For each prefix, the keywords that start with it; prefix `p`'s end
    /// at `prefix_ends[p]`.
    pub prefix_keywords: Cow<'static, [u32]>,
    pub prefix_ends: Cow<'static, [u32]>,
    /// A bit per two-byte prefix, set for those in `prefixes`.
    pub prefix_bits: Cow<'static, [u64]>,
}

/// The plain keywords of a rule set and the encoded forms.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordTables {
    /// Each rule's keywords; slots are rule indices.
    pub plain: KeywordTable,
    /// The base64 and hex forms of provider keywords; slots are decoders'.
    pub encoded: KeywordTable,
}

impl KeywordTables {
    /// The tables of rules given as (keywords, generic), in rule order.
    /// Provider (non-generic) keywords are also listed base64- and
    /// hex-encoded: a provider's key in a Kubernetes Secret's data or a
    /// config blob has its keyword encoded too.
    pub fn build<'a, K: AsRef<str> + 'a>(
        rules: impl IntoIterator<Item = (&'a [K], bool)>,
    ) -> KeywordTables {
        let mut plain = Listed::default();
        let mut encoded = Listed::default();
        for (rule, (rule_keywords, generic)) in rules.into_iter().enumerate() {
            let rule = u32::try_from(rule).expect("fewer than 2^32 rules");
            for keyword in rule_keywords {
                let keyword = keyword.as_ref();
                plain.add(keyword.to_string(), rule);
                if !generic && keyword.len() >= MIN_ENCODED_KEYWORD {
                    for encoding in [Encoding::Base64, Encoding::Hex] {
                        for form in encoding.keyword_forms(keyword.as_bytes()) {
                            encoded.add(form, KeywordTable::decoder_slot(encoding));
                        }
                    }
                }
            }
        }
        KeywordTables {
            plain: KeywordTable::new(plain),
            encoded: KeywordTable::new(encoded),
        }
    }
}

/// Keywords in the order first met, each with the slots that listed it.
#[derive(Default)]
struct Listed {
    keywords: Vec<String>,
    slots: Vec<Vec<u32>>,
    index: HashMap<String, usize>,
}

impl Listed {
    fn add(&mut self, keyword: String, slot: u32) {
        let keyword = keyword.to_ascii_lowercase();
        match self.index.get(&keyword) {
            Some(&i) if self.slots[i].contains(&slot) => {}
            Some(&i) => self.slots[i].push(slot),
            None => {
                self.index.insert(keyword.clone(), self.keywords.len());
                self.keywords.push(keyword);
                self.slots.push(vec![slot]);
            }
        }
    }
}

impl KeywordTable {
    fn new(listed: Listed) -> KeywordTable {
        let Listed {
            keywords,
            slots: keyword_slots,
            ..
        } = listed;
        let window = match keywords.iter().all(|k| k.len() >= 4) {
            true => 4,
            false => 2,
        };
        let mut by_prefix: Vec<(u16, u32)> = Vec::new();
        for (k, keyword) in keywords.iter().enumerate() {
            let k = k as u32;
            match keyword.as_bytes() {
                [] => {}
                [only] => by_prefix.extend((0..=255u16).map(|next| (pair(*only, next as u8), k))),
                bytes => by_prefix.extend(window_key(window, bytes).map(|key| (key, k))),
            }
        }
        by_prefix.sort_unstable();
        let mut prefixes: Vec<u16> = Vec::new();
        let mut prefix_ends: Vec<u32> = Vec::new();
        let mut prefix_bits = vec![0u64; PREFIX_BITS / 64];
        for (i, &(prefix, _)) in by_prefix.iter().enumerate() {
            if prefixes.last() != Some(&prefix) {
                prefixes.push(prefix);
                prefix_ends.push(0);
                prefix_bits[usize::from(prefix) / 64] |= 1 << (prefix % 64);
            }
            *prefix_ends.last_mut().expect("pushed") = end(i + 1);
        }
        KeywordTable {
            text: Cow::Owned(keywords.concat()),
            keyword_ends: Cow::Owned(ends(keywords.iter().map(String::len))),
            slots: Cow::Owned(keyword_slots.concat()),
            slot_ends: Cow::Owned(ends(keyword_slots.iter().map(Vec::len))),
            window: window as u8,
            prefixes: Cow::Owned(prefixes),
            prefix_keywords: Cow::Owned(by_prefix.into_iter().map(|(_, k)| k).collect()),
            prefix_ends: Cow::Owned(prefix_ends),
            prefix_bits: Cow::Owned(prefix_bits),
        }
    }

    /// How many keywords there are.
    pub fn len(&self) -> usize {
        self.keyword_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keyword_ends.is_empty()
    }

    /// Keyword `k`, lower-cased.
    pub fn keyword(&self, k: usize) -> &[u8] {
        &self.text.as_bytes()[item(&self.keyword_ends, k)]
    }

    /// Every keyword, in order.
    pub fn keywords(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|k| self.keyword(k))
    }

    /// The slots that listed keyword `k`.
    pub fn slots(&self, k: usize) -> &[u32] {
        &self.slots[item(&self.slot_ends, k)]
    }

    /// The slot of the decoder of `encoding`: after every rule's.
    pub fn decoder_slot(encoding: Encoding) -> u32 {
        let position = DECODERS
            .iter()
            .position(|&e| e == encoding)
            .expect("listed");
        u32::MAX - (DECODERS.len() - 1 - position) as u32
    }

    /// The encoding a slot is the decoder of, if it is one.
    pub fn decoder(slot: u32) -> Option<Encoding> {
        let first = u32::MAX - (DECODERS.len() as u32 - 1);
        DECODERS.get(slot.checked_sub(first)? as usize).copied()
    }

    /// Calls `found(start, keyword)` for every occurrence of every keyword
    /// in `text`, ASCII case-insensitively, overlapping ones included, in
    /// order of position. The hook's search: for a few lines it costs less
    /// than building any automaton.
    pub fn for_each_match(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        let window = usize::from(self.window);
        for start in 0..text.len() {
            let Some(key) = window_key(window, &text[start..]) else {
                break;
            };
            if self.prefix_bits[usize::from(key) / 64] & (1 << (key % 64)) == 0 {
                continue;
            }
            let group = self
                .prefixes
                .binary_search(&key)
                .expect("a set bit is a listed key");
            for &k in &self.prefix_keywords[item(&self.prefix_ends, group)] {
                let keyword = self.keyword(k as usize);
                let here = text.get(start..start + keyword.len());
                if here.is_some_and(|here| here.eq_ignore_ascii_case(keyword)) {
                    found(start, k as usize);
                }
            }
        }
    }
}

/// The window key of the text at the start of `bytes`, lower-cased: for a
/// window of two bytes, the bytes themselves (past the end, a NUL: only a
/// one-byte keyword has such a key); for four, a multiplicative hash of
/// them. `None` when fewer bytes are left than any keyword has.
fn window_key(window: usize, bytes: &[u8]) -> Option<u16> {
    match window {
        2 => {
            let first = bytes.first()?.to_ascii_lowercase();
            let second = bytes.get(1).map_or(0, u8::to_ascii_lowercase);
            Some(pair(first, second))
        }
        _ => {
            let four: [u8; 4] = bytes.get(..4)?.try_into().expect("four bytes");
            let word = u32::from_le_bytes(four.map(|b| b.to_ascii_lowercase()));
            Some((word.wrapping_mul(0x9E37_79B1) >> 16) as u16)
        }
    }
}

/// The ends of items of these lengths, laid one after another.
fn ends(lengths: impl Iterator<Item = usize>) -> Vec<u32> {
    lengths
        .scan(0, |at, len| {
            *at += len;
            Some(end(*at))
        })
        .collect()
}

fn end(at: usize) -> u32 {
    u32::try_from(at).expect("a keyword table under 4 GB")
}

/// The range of item `i` of a flat list with these ends.
fn item(ends: &[u32], i: usize) -> std::ops::Range<usize> {
    let start = match i {
        0 => 0,
        _ => ends[i - 1] as usize,
    };
    start..ends[i] as usize
}

fn pair(first: u8, second: u8) -> u16 {
    u16::from(first) << 8 | u16::from(second)
}
