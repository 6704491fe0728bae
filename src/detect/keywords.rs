//! Finding every keyword occurrence, ASCII case-insensitively, overlapping
//! ones included, in bulk scans. (The hook's search needs no automaton:
//! see [`KeywordTable::for_each_match`].)
//!
//! [`KeywordTable::for_each_match`]: super::keyword_table::KeywordTable::for_each_match
//!
//! aho-corasick's DFA walked in lanes. A DFA walk is bound
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
use aho_corasick::{Anchored, MatchKind, StartKind};

/// Lanes walked in lockstep, each lane's state in a register: four
/// overlapped the loads enough here (x86-64); more were not tried.
const LANES: usize = 4;

/// Shorter texts are walked as one lane: cutting them gains nothing.
const MIN_LANE: usize = 256;

/// aho-corasick's DFA, walked in [`LANES`] lanes.
pub struct LaneDfa {
    dfa: DFA,
    start: aho_corasick::automaton::StateID,
}

impl LaneDfa {
    pub fn new<K: AsRef<[u8]>>(keywords: &[K]) -> LaneDfa {
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

    /// Calls `found(start, keyword_index)` for every occurrence of every
    /// keyword in `text`, overlapping ones included, in no particular order.
    pub fn for_each_match(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
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
    use crate::detect::keyword_table::KeywordTables;
    use crate::rules::Profile;

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

    /// Every (start, keyword) pair found by the profile's search: the
    /// hook's over the keyword table, the bulk scans' lanes over the
    /// table's keywords (deduplicated, so a hit names each keyword it is).
    fn search(keywords: &[&str], text: &[u8], profile: Profile) -> Vec<(usize, usize)> {
        let rules: Vec<[&str; 1]> = keywords.iter().map(|&k| [k]).collect();
        let table = KeywordTables::build(rules.iter().map(|k| (&k[..], true))).plain;
        let mut out = Vec::new();
        let mut found = |start: usize, k: usize| {
            out.extend(table.slots(k).iter().map(|&rule| (start, rule as usize)))
        };
        match profile {
            Profile::Hook => table.for_each_match(text, &mut found),
            Profile::Bulk => {
                let bytes: Vec<&[u8]> = table.keywords().collect();
                LaneDfa::new(&bytes).for_each_match(text, &mut found)
            }
        }
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
