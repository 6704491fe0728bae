//! Finding every keyword occurrence, ASCII case-insensitively, overlapping
//! ones included: one searcher per [`Profile`].
//!
//! For the hook, aho-corasick's noncontiguous NFA: the quickest of its
//! automata to build, and a few lines take microseconds to search either
//! way; built over the keywords' first bytes, each hit then checked against
//! the whole keywords (see [`HOOK_PREFIX`]). It is built over the lower-cased keywords and searches a lower-cased
//! copy of the text: without ASCII case folding the trie is half the size,
//! and the build over the 366 built-in keywords took 190 µs instead of
//! 530 µs (release build, best of 20, with `dense_depth(1)`; the default
//! folding build was most of the hook's first scan).
//!
//! For bulk scans, aho-corasick's DFA walked in lanes. A DFA walk is bound
//! by latency, not throughput: each step's table load waits on the previous
//! step's result, about five cycles per byte. No literal prefilter helps
//! with hundreds of case-insensitive keywords, some as common as `key`. So
//! the text is cut into lanes that the same DFA walks in lockstep: the
//! lanes' loads do not depend on each other and overlap in the CPU. On the
//! benchmark's 400 MB tree the full scan went from 1.04 s (one walk) to
//! 0.71 s (hyperfine, on the tree benches/perf/run.py builds);
//! `benches/detector.rs` (`keywords/*`) compares the lane walk with
//! aho-corasick's own overlapping search.

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::nfa::noncontiguous::NFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

use crate::rules::Profile;

/// Lanes walked in lockstep, each lane's state in a register: four
/// overlapped the loads enough here (x86-64); more were not tried.
const LANES: usize = 4;

/// Shorter texts are walked as one lane: cutting them gains nothing.
const MIN_LANE: usize = 256;

/// The hook's automaton is built over the keywords' first two bytes only,
/// and each hit is checked against the whole keywords that start so: the
/// same matches, from a trie of a few hundred states instead of thousands.
/// Callgrind, one small staged file with keyword hits: the full trie cost
/// 1.66 M instructions to build, three-byte prefixes 0.75 M, two-byte 0.49 M
/// (with `dense_depth(0)` instead of 1, 1.4 M: more hits to check).
const HOOK_PREFIX: usize = 2;

/// The hook's searcher: an NFA over keyword prefixes, then a check.
pub struct PrefixNfa {
    nfa: NFA,
    /// For each prefix pattern, the whole (lower-cased) keywords with it.
    keywords_by_prefix: Vec<Vec<usize>>,
    keywords: Vec<Vec<u8>>,
}

/// The keyword searcher of one profile.
pub enum KeywordSearch {
    /// The hook's: builds fastest; over lower-cased keywords and text.
    Nfa(PrefixNfa),
    /// Bulk scans': a DFA walked in lanes, runs fastest.
    Lanes(LaneDfa),
}

impl KeywordSearch {
    /// A searcher over `keywords` for `profile`.
    pub fn new<K: AsRef<[u8]>>(keywords: &[K], profile: Profile) -> KeywordSearch {
        match profile {
            Profile::Hook => KeywordSearch::Nfa(PrefixNfa::new(keywords)),
            Profile::Bulk => KeywordSearch::Lanes(LaneDfa::new(keywords)),
        }
    }

    /// Calls `found(start, keyword_index)` for every occurrence of every
    /// keyword in `text`, overlapping ones included, in no particular order.
    pub fn for_each_match(&self, text: &[u8], found: impl FnMut(usize, usize)) {
        match self {
            KeywordSearch::Nfa(search) => search.for_each_match(text, found),
            KeywordSearch::Lanes(dfa) => dfa.for_each_match(text, found),
        }
    }
}

impl PrefixNfa {
    fn new<K: AsRef<[u8]>>(keywords: &[K]) -> PrefixNfa {
        let keywords: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.as_ref().to_ascii_lowercase())
            .collect();
        let mut prefixes: Vec<&[u8]> = Vec::new();
        let mut keywords_by_prefix: Vec<Vec<usize>> = Vec::new();
        let mut prefix_index: std::collections::HashMap<&[u8], usize> = Default::default();
        for (index, keyword) in keywords.iter().enumerate() {
            let prefix = &keyword[..keyword.len().min(HOOK_PREFIX)];
            let at = *prefix_index.entry(prefix).or_insert_with(|| {
                prefixes.push(prefix);
                keywords_by_prefix.push(Vec::new());
                prefixes.len() - 1
            });
            keywords_by_prefix[at].push(index);
        }
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .dense_depth(1)
            .prefilter(false)
            .build(&prefixes)
            .expect("keyword automaton is small and always builds");
        PrefixNfa {
            nfa,
            keywords_by_prefix,
            keywords,
        }
    }

    fn for_each_match(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        // Lower-casing keeps every byte where it is.
        let lower = text.to_ascii_lowercase();
        let input = aho_corasick::Input::new(&lower);
        let mut state = aho_corasick::automaton::OverlappingState::start();
        loop {
            self.nfa
                .try_find_overlapping(&input, &mut state)
                .expect("an unanchored standard search cannot fail");
            let Some(hit) = state.get_match() else { break };
            for &keyword in &self.keywords_by_prefix[hit.pattern().as_usize()] {
                if lower[hit.start()..].starts_with(&self.keywords[keyword]) {
                    found(hit.start(), keyword);
                }
            }
        }
    }
}

/// aho-corasick's DFA, walked in [`LANES`] lanes.
pub struct LaneDfa {
    dfa: DFA,
    start: aho_corasick::automaton::StateID,
}

impl LaneDfa {
    fn new<K: AsRef<[u8]>>(keywords: &[K]) -> LaneDfa {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            // Without a prefilter the start state is not special: the hot
            // loop branches only on match states.
            .prefilter(false)
            .build(keywords)
            .expect("keyword automaton is small and always builds");
        let start = dfa
            .start_state(Anchored::No)
            .expect("built for unanchored searches");
        LaneDfa { dfa, start }
    }

    fn for_each_match(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        let max_len = self.dfa.max_pattern_len();
        if text.len() < LANES * MIN_LANE || max_len == 0 {
            self.walk(text, 0, text.len(), self.start, 0, &mut found);
            return;
        }
        let dfa = &self.dfa;
        let step = |state, byte| dfa.next_state(Anchored::No, state, byte);
        let lane_len = text.len() / LANES;
        let (l0, rest) = text.split_at(lane_len);
        let (l1, rest) = rest.split_at(lane_len);
        let (l2, rest) = rest.split_at(lane_len);
        let l3 = &rest[..lane_len];
        let [mut s0, mut s1, mut s2, mut s3] = [self.start; LANES];
        for i in 0..lane_len {
            s0 = step(s0, l0[i]);
            s1 = step(s1, l1[i]);
            s2 = step(s2, l2[i]);
            s3 = step(s3, l3[i]);
            // Rare: one branch for all four lanes.
            if dfa.is_special(s0) | dfa.is_special(s1) | dfa.is_special(s2) | dfa.is_special(s3) {
                for (lane, state) in [s0, s1, s2, s3].into_iter().enumerate() {
                    let end = lane * lane_len + i + 1;
                    self.report(state, end, lane * lane_len, &mut found);
                }
            }
        }
        // Each lane then walks on past its stretch, far enough to finish a
        // keyword that started inside it (the next lane reports the rest);
        // the last lane walks to the end of the text.
        for (lane, state) in [s0, s1, s2, s3].into_iter().enumerate() {
            let own_end = (lane + 1) * lane_len;
            let (walk_to, report_before) = match lane + 1 == LANES {
                true => (text.len(), text.len()),
                false => ((own_end + max_len - 1).min(text.len()), own_end),
            };
            self.walk(
                &text[..walk_to],
                own_end,
                report_before,
                state,
                lane * lane_len,
                &mut found,
            );
        }
    }

    /// Walks `text[from..]` from `state`, reporting matches that start in
    /// `report_from..report_before`.
    fn walk(
        &self,
        text: &[u8],
        from: usize,
        report_before: usize,
        mut state: aho_corasick::automaton::StateID,
        report_from: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        for (offset, &byte) in text[from..].iter().enumerate() {
            state = self.dfa.next_state(Anchored::No, state, byte);
            if self.dfa.is_special(state) {
                let end = from + offset + 1;
                self.report(state, end, report_from, &mut |start, pattern| {
                    if start < report_before {
                        found(start, pattern)
                    }
                });
            }
        }
    }

    /// Reports the keywords that end at `end` in `state` (when a match
    /// state), skipping those that start before `report_from` (another
    /// lane's).
    #[cold]
    #[inline(never)]
    fn report(
        &self,
        state: aho_corasick::automaton::StateID,
        end: usize,
        report_from: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        if !self.dfa.is_match(state) {
            return;
        }
        for index in 0..self.dfa.match_len(state) {
            let pattern = self.dfa.match_pattern(state, index);
            let start = end - self.dfa.pattern_len(pattern);
            if start >= report_from {
                found(start, pattern.as_usize());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (start, keyword) pair, by brute force.
    fn naive(keywords: &[&str], text: &[u8]) -> Vec<(usize, usize)> {
        let lower = text.to_ascii_lowercase();
        let mut out = Vec::new();
        for (k, keyword) in keywords.iter().enumerate() {
            let keyword = keyword.to_ascii_lowercase();
            for start in 0..lower.len() {
                if lower[start..].starts_with(keyword.as_bytes()) {
                    out.push((start, k));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn search(keywords: &[&str], text: &[u8], profile: Profile) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        KeywordSearch::new(keywords, profile).for_each_match(text, |s, k| out.push((s, k)));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_what_brute_force_finds_across_lane_boundaries() {
        let keywords = ["key", "KEYWORD", "ab", "b", "token_", "xyzzy-long-keyword"];
        // Texts whose length puts lane boundaries everywhere, including
        // inside keywords and inside overlapping keywords.
        let unit = b"..keyword.ab TOKEN_ xyzzy-long-keyword bab Key";
        for len in [0, 1, 5, 100, 1023, 1024, 1025, 2047, 4096, 10_001] {
            let text: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
            for shift in 0..unit.len() {
                let text = &text[shift.min(text.len())..];
                for profile in [Profile::Hook, Profile::Bulk] {
                    assert_eq!(
                        search(&keywords, text, profile),
                        naive(&keywords, text),
                        "len {len} shift {shift} {profile:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn both_searchers_find_what_brute_force_finds_on_random_cases() {
        let mut rng = crate::rules::examples::Rng::seeded(7);
        let alphabet = b"abAB-_";
        let pick = |rng: &mut crate::rules::examples::Rng, len: usize| -> String {
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())] as char)
                .collect()
        };
        for case in 0..300 {
            let keywords: Vec<String> = (0..1 + rng.below(8))
                .map(|_| {
                    let len = 1 + rng.below(6);
                    pick(&mut rng, len)
                })
                .collect();
            let len = rng.below(3000);
            let text = pick(&mut rng, len);
            let as_str: Vec<&str> = keywords.iter().map(String::as_str).collect();
            let expected = naive(&as_str, text.as_bytes());
            for profile in [Profile::Hook, Profile::Bulk] {
                assert_eq!(
                    search(&as_str, text.as_bytes(), profile),
                    expected,
                    "{profile:?}, case {case}"
                );
            }
        }
    }

    #[test]
    fn a_keyword_at_the_very_end_is_found() {
        let mut text = vec![b'.'; 5000];
        text.extend_from_slice(b"xyzzy-long-keyword");
        for profile in [Profile::Hook, Profile::Bulk] {
            assert_eq!(search(&["xyzzy-long-keyword"], &text, profile), [(5000, 0)]);
        }
    }
}
