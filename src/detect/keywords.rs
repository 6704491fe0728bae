//! Finding every keyword occurrence: in a large text, fast
//! ([`KeywordDfa`]); in a few lines, with next to no set-up ([`PairIndex`]).
//!
//! A DFA walk is bound by latency, not throughput: each step's table load
//! waits on the previous step's result, about five cycles per byte. No
//! literal prefilter helps with hundreds of case-insensitive keywords, some
//! as common as `key`. So the text is cut into lanes that the same DFA walks
//! in lockstep: the lanes' loads do not depend on each other and overlap in
//! the CPU. On the benchmark's 400 MB tree the full scan went from 1.04 s
//! to 0.71 s (hyperfine, on the tree benches/perf/run.py builds).

/// Lanes walked in lockstep, each lane's state in a register: four
/// overlapped the loads enough here (x86-64); more were not tried.
const LANES: usize = 4;

/// Shorter texts are walked as one lane: cutting them gains nothing.
const MIN_LANE: usize = 256;

/// No transition yet (while the trie is built).
const NONE: u32 = u32::MAX;

/// A case-insensitive Aho-Corasick DFA over the keywords, walked in lanes.
///
/// Built here rather than taken from the aho-corasick crate: the hot loop
/// needs the table, the byte classes and four lanes' states in registers,
/// and a dense table straight from the trie builds in a fraction of a
/// millisecond, while a large staged change's threads wait for it.
pub struct KeywordDfa {
    /// Byte to column. Bytes in no keyword share class 0; a letter and its
    /// other case share one.
    classes: [u8; 256],
    /// `trans[state + class]`: states are premultiplied by the number of
    /// classes.
    trans: Vec<u32>,
    start: u32,
    /// States below this are match states: one comparison per byte.
    match_below: u32,
    /// For each match state (not premultiplied), the keywords ending there.
    matches: Vec<Vec<u32>>,
    keyword_lens: Vec<usize>,
    stride: u32,
    max_len: usize,
}

impl KeywordDfa {
    /// `keywords` are matched ASCII-case-insensitively.
    pub fn new<K: AsRef<str>>(keywords: &[K]) -> KeywordDfa {
        let mut classes = [0u8; 256];
        let mut stride = 1usize;
        for byte in keywords.iter().flat_map(|k| k.as_ref().bytes()) {
            let byte = byte.to_ascii_lowercase();
            if classes[byte as usize] == 0 {
                let class = u8::try_from(stride).expect("keyword bytes fit in 255 classes");
                classes[byte as usize] = class;
                classes[byte.to_ascii_uppercase() as usize] = class;
                stride += 1;
            }
        }

        // The trie, with each state's own keywords.
        let mut trans = vec![NONE; stride];
        let mut outputs: Vec<Vec<u32>> = vec![Vec::new()];
        for (index, keyword) in keywords.iter().enumerate() {
            let mut state = 0;
            for byte in keyword.as_ref().bytes() {
                let at = state * stride + classes[byte as usize] as usize;
                if trans[at] == NONE {
                    trans[at] = outputs.len() as u32;
                    trans.extend(std::iter::repeat_n(NONE, stride));
                    outputs.push(Vec::new());
                }
                state = trans[at] as usize;
            }
            outputs[state].push(index as u32);
        }

        // Breadth first, every missing transition becomes the failure
        // state's (complete by then: it is shallower), and each state
        // inherits its failure state's keywords.
        let states = outputs.len();
        let mut fail = vec![0u32; states];
        let mut queue = std::collections::VecDeque::new();
        for to in &mut trans[..stride] {
            match *to {
                NONE => *to = 0,
                child => queue.push_back(child),
            }
        }
        while let Some(state) = queue.pop_front() {
            let state = state as usize;
            for class in 0..stride {
                let at = state * stride + class;
                let fallback = trans[fail[state] as usize * stride + class];
                match trans[at] {
                    NONE => trans[at] = fallback,
                    child => {
                        fail[child as usize] = fallback;
                        let inherited = outputs[fallback as usize].clone();
                        outputs[child as usize].extend(inherited);
                        queue.push_back(child);
                    }
                }
            }
        }

        // Renumber: match states first, premultiplied.
        let mut order: Vec<u32> = (0..states as u32).collect();
        order.sort_by_key(|&s| outputs[s as usize].is_empty());
        let mut new_id = vec![0u32; states];
        for (new, &old) in order.iter().enumerate() {
            new_id[old as usize] = (new * stride) as u32;
        }
        let mut table = Vec::with_capacity(trans.len());
        for &old in &order {
            let row = &trans[old as usize * stride..(old as usize + 1) * stride];
            table.extend(row.iter().map(|&to| new_id[to as usize]));
        }
        let match_states = outputs.iter().filter(|o| !o.is_empty()).count();
        let matches = order[..match_states]
            .iter()
            .map(|&old| std::mem::take(&mut outputs[old as usize]))
            .collect();
        let keyword_lens: Vec<usize> = keywords.iter().map(|k| k.as_ref().len()).collect();
        KeywordDfa {
            classes,
            trans: table,
            start: new_id[0],
            match_below: (match_states * stride) as u32,
            matches,
            max_len: keyword_lens.iter().copied().max().unwrap_or(0),
            keyword_lens,
            stride: stride as u32,
        }
    }

    /// Calls `found(start, keyword_index)` for every occurrence of every
    /// keyword in `text`, overlapping ones included, in no particular order.
    pub fn for_each_match(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        if text.len() < LANES * MIN_LANE || self.max_len == 0 {
            self.walk(text, 0, text.len(), self.start, 0, &mut found);
            return;
        }
        let lane_len = text.len() / LANES;
        let (trans, classes, match_below) = (&self.trans[..], &self.classes, self.match_below);
        let step =
            |state: u32, byte: u8| trans[(state + u32::from(classes[byte as usize])) as usize];
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
            if (s0 < match_below) | (s1 < match_below) | (s2 < match_below) | (s3 < match_below) {
                for (lane, state) in [s0, s1, s2, s3].into_iter().enumerate() {
                    if state < match_below {
                        let end = lane * lane_len + i + 1;
                        self.report(state, end, lane * lane_len, &mut found);
                    }
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
                false => ((own_end + self.max_len - 1).min(text.len()), own_end),
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
        mut state: u32,
        report_from: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        for (offset, &byte) in text[from..].iter().enumerate() {
            state = self.trans[(state + u32::from(self.classes[byte as usize])) as usize];
            if state < self.match_below {
                let end = from + offset + 1;
                self.report(state, end, report_from, &mut |start, pattern| {
                    if start < report_before {
                        found(start, pattern)
                    }
                });
            }
        }
    }

    /// Reports the keywords that end at `end` in match state `state`,
    /// skipping those that start before `report_from` (another lane's).
    #[cold]
    #[inline(never)]
    fn report(
        &self,
        state: u32,
        end: usize,
        report_from: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        for &keyword in &self.matches[(state / self.stride) as usize] {
            let start = end - self.keyword_lens[keyword as usize];
            if start >= report_from {
                found(start, keyword as usize);
            }
        }
    }
}

/// Keywords by their first two bytes: for the hook's few lines, where
/// building any automaton (or a SIMD searcher per keyword, hundreds of
/// them) costs more than the search. Each position's byte pair is looked up
/// in a bitset; the rare hit is checked against the keywords with that pair.
pub struct PairIndex {
    /// Bit `a << 8 | b` is set when a keyword starts with bytes `a`, `b`.
    pairs: Vec<u64>,
    /// (first two bytes, keyword index), sorted.
    by_pair: Vec<(u16, u32)>,
    /// Keywords one byte long (only a configuration file can write one).
    single: Vec<(u8, u32)>,
}

impl PairIndex {
    /// `keywords` must be lower case (ASCII); the searched text is too.
    pub fn new<K: AsRef<str>>(keywords: &[K]) -> PairIndex {
        let mut pairs = vec![0u64; 1 << 10];
        let mut by_pair = Vec::new();
        let mut single = Vec::new();
        for (index, keyword) in keywords.iter().enumerate() {
            match *keyword.as_ref().as_bytes() {
                [] => {}
                [only] => single.push((only, index as u32)),
                [a, b, ..] => {
                    let pair = u16::from(a) << 8 | u16::from(b);
                    pairs[usize::from(pair >> 6)] |= 1 << (pair & 63);
                    by_pair.push((pair, index as u32));
                }
            }
        }
        by_pair.sort_unstable();
        PairIndex {
            pairs,
            by_pair,
            single,
        }
    }

    /// Calls `found(start, keyword_index)` for every occurrence of every
    /// keyword in `lower` (lower-cased text), overlapping ones included.
    pub fn for_each_match<K: AsRef<str>>(
        &self,
        keywords: &[K],
        lower: &[u8],
        mut found: impl FnMut(usize, usize),
    ) {
        for (start, window) in lower.windows(2).enumerate() {
            let pair = u16::from(window[0]) << 8 | u16::from(window[1]);
            if self.pairs[usize::from(pair >> 6)] & (1 << (pair & 63)) == 0 {
                continue;
            }
            let first = self.by_pair.partition_point(|&(p, _)| p < pair);
            for &(_, keyword) in self.by_pair[first..].iter().take_while(|(p, _)| *p == pair) {
                if lower[start..].starts_with(keywords[keyword as usize].as_ref().as_bytes()) {
                    found(start, keyword as usize);
                }
            }
        }
        for &(byte, keyword) in &self.single {
            for start in memchr::memchr_iter(byte, lower) {
                found(start, keyword as usize);
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

    fn lanes(keywords: &[&str], text: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        KeywordDfa::new(keywords).for_each_match(text, |s, k| out.push((s, k)));
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
                assert_eq!(
                    lanes(&keywords, text),
                    naive(&keywords, text),
                    "len {len} shift {shift}"
                );
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
            assert_eq!(
                lanes(&as_str, text.as_bytes()),
                expected,
                "lanes, case {case}"
            );
            // The pair index takes lower-case keywords and lower-cased text.
            let lower: Vec<String> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
            let mut found = Vec::new();
            PairIndex::new(&lower).for_each_match(
                &lower,
                text.to_ascii_lowercase().as_bytes(),
                |s, k| found.push((s, k)),
            );
            found.sort_unstable();
            assert_eq!(found, expected, "pair index, case {case}");
        }
    }

    #[test]
    fn a_keyword_at_the_very_end_is_found() {
        let mut text = vec![b'.'; 5000];
        text.extend_from_slice(b"xyzzy-long-keyword");
        assert_eq!(lanes(&["xyzzy-long-keyword"], &text), [(5000, 0)]);
    }
}
