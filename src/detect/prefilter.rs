//! The keyword stage: which rules may match on which lines.
//!
//! One keyword searcher over every rule's keywords (see [`keywords`]) finds
//! the lines worth running a rule's regex on; rules without keywords run
//! on every line.
//!
//! [`keywords`]: super::keywords

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::generic::MAX_CODE_LINE;
use super::keyword_table::{KeywordTable, KeywordTables, DECODERS};
use super::keywords::LaneDfa;
use crate::decode::{encoded_run_around, encoded_runs, escaped_line_starts, Encoding};
use crate::rules::{Profile, Rule, BUILTIN_RULES};

include!(concat!(env!("OUT_DIR"), "/builtin_keywords.rs"));

/// The pseudo rule indices, after every real rule's, of a line worth
/// decoding in one encoding (see `Detector::scan_decoded`): one that holds
/// a provider keyword in base64 or hex, or a percent or string escape.
const FIRST_DECODER: usize = usize::MAX - (DECODERS.len() - 1);

/// The encoding a candidate's pseudo rule index stands for, if it is one.
pub fn decoder(candidate: usize) -> Option<Encoding> {
    DECODERS.get(candidate.checked_sub(FIRST_DECODER)?).copied()
}

fn decoder_index(encoding: Encoding) -> usize {
    FIRST_DECODER
        + DECODERS
            .iter()
            .position(|&e| e == encoding)
            .expect("listed")
}

/// The keyword table of a rule set, and the rules each keyword came from;
/// the bulk profile's searcher is built on first use, so that a scan that
/// reads nothing never pays for it.
pub struct Prefilter {
    /// build.rs's tables when every rule is a built-in one, else built now.
    tables: Cow<'static, KeywordTables>,
    /// With build.rs's table and some built-in rules left out (`disable`):
    /// for each built-in rule, its index in the rule set, if there.
    rule_of_builtin: Option<Vec<Option<usize>>>,
    /// Rules without keywords: they run on every line.
    unfiltered_rules: Vec<usize>,
    /// Bulk scans' automaton over the plain keywords and then the encoded
    /// forms, built on another thread once a scan has searched half of
    /// [`SMALL_SCAN`]; until it is there, the small one and the encoded
    /// table search (see [`Prefilter::keyword_hits`]).
    lanes: Arc<OnceLock<LaneDfa>>,
    /// Whether that thread was started.
    building: AtomicBool,
    /// Bulk scans' automaton over the plain keywords alone, built on
    /// first use (in about 2 ms), for the plain keywords until `lanes` is
    /// there.
    plain_lanes: OnceLock<LaneDfa>,
    /// Bytes searched so far: past [`SMALL_SCAN`], a bulk scan waits for
    /// `lanes`.
    searched: AtomicUsize,
    bulk: bool,
    /// Bulk scans: for each plain keyword that only case-sensitive rules
    /// list, the spellings they list (see [`Prefilter::spelled_out_hit`]);
    /// worked out on first use.
    spellings: OnceLock<Spellings>,
}

/// For each plain keyword, the spellings its rules list when all of them
/// are case-sensitive, else `None`.
type Spellings = Vec<Option<Vec<Box<[u8]>>>>;

/// A bulk scan this small never waits for the automaton over the encoded
/// forms (built on another thread meanwhile): its plain keywords are found
/// by the small automaton, its encoded forms by the table inside the runs
/// that may be encoded text. Finding those runs costs a few tenths of a ns
/// a byte (more in trees of long identifiers, Go's), the large automaton's
/// build 17 ms: past 16 MB the large one costs less. A push of a few
/// commits, a small tree or a large staged change never waits.
const SMALL_SCAN: usize = 16 << 20;

impl Prefilter {
    pub fn new(rules: &[Rule], profile: Profile) -> Prefilter {
        let unfiltered_rules = (0..rules.len())
            .filter(|&i| rules[i].keywords.is_empty())
            .collect();
        let builtin: Option<Vec<usize>> = rules.iter().map(|r| r.builtin).collect();
        let (tables, rule_of_builtin) = match builtin {
            Some(indices) if indices.windows(2).all(|w| w[0] < w[1]) => {
                let remap = (indices.len() != BUILTIN_RULES.len()).then(|| {
                    let mut remap = vec![None; BUILTIN_RULES.len()];
                    for (rule, &builtin) in indices.iter().enumerate() {
                        remap[builtin] = Some(rule);
                    }
                    remap
                });
                (Cow::Borrowed(&BUILTIN_KEYWORD_TABLES), remap)
            }
            _ => {
                let tables =
                    KeywordTables::build(rules.iter().map(|r| (&r.keywords[..], r.generic)));
                (Cow::Owned(tables), None)
            }
        };
        let bulk = profile == Profile::Bulk;
        Prefilter {
            tables,
            rule_of_builtin,
            unfiltered_rules,
            lanes: Arc::new(OnceLock::new()),
            building: AtomicBool::new(false),
            plain_lanes: OnceLock::new(),
            searched: AtomicUsize::new(0),
            bulk,
            spellings: OnceLock::new(),
        }
    }

    /// The plain keyword hit at `start`, if it can start a candidate at
    /// all: a keyword only case-sensitive rules list (`AC`, a Twilio
    /// account's prefix) counts only as one of them spells it. Found case-insensitively
    /// (`ac` in every `back` and `each`), it was most of a JavaScript
    /// tree's hits; ruled out here, such a hit is never kept and sorted.
    /// [`Prefilter::counted_candidates`] checks each rule again.
    fn spelled_out_hit(
        &self,
        rules: &[Rule],
        bytes: &[u8],
        start: usize,
        keyword: usize,
    ) -> Option<Hit> {
        let spellings = self.spellings.get_or_init(|| {
            let table = &self.tables.plain;
            (0..table.len())
                .map(|keyword| {
                    let mut spellings: Vec<Box<[u8]>> = Vec::new();
                    for &slot in table.slots(keyword) {
                        let Some(rule) = self.candidate_of(slot) else {
                            continue;
                        };
                        let rule = &rules[rule];
                        if !rule.case_sensitive_keywords() {
                            return None;
                        }
                        spellings.extend(
                            (rule.keywords.iter())
                                .map(|k| k.as_bytes())
                                .filter(|k| k.eq_ignore_ascii_case(table.keyword(keyword)))
                                .map(Box::from),
                        );
                    }
                    Some(spellings)
                })
                .collect()
        });
        let hit = &bytes[start..start + self.tables.plain.keyword(keyword).len()];
        spellings[keyword]
            .as_ref()
            .is_none_or(|spellings| spellings.iter().any(|s| **s == *hit))
            .then(|| Hit::plain(start, keyword))
    }

    /// The rule (or decoder pseudo rule) index of a table slot, if that
    /// rule is in the set.
    fn candidate_of(&self, slot: u32) -> Option<usize> {
        if let Some(encoding) = KeywordTable::decoder(slot) {
            return Some(decoder_index(encoding));
        }
        match &self.rule_of_builtin {
            Some(remap) => remap[slot as usize],
            None => Some(slot as usize),
        }
    }

    /// Every keyword hit in `bytes`, in order of position: the plain
    /// keywords anywhere, the encoded forms inside the runs that may be
    /// base64 or hex of text (the decoders would find nothing elsewhere).
    /// The large automaton finds both at once, once it is built; before,
    /// the hook's tables or a bulk scan's small automaton find the plain
    /// keywords, and the encoded table searches those runs. Either way the
    /// hits are the same.
    fn keyword_hits(&self, rules: &[Rule], bytes: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        let lanes = self.lanes.get().or_else(|| {
            let searched = self.searched.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
            // A hook's prefilter has no automaton to wait for.
            if !self.bulk {
                return None;
            }
            if searched > SMALL_SCAN / 2 && !self.building.swap(true, Ordering::Relaxed) {
                self.start_building();
            }
            (searched > SMALL_SCAN).then(|| self.lanes.get_or_init(|| self.automaton()))
        });
        match lanes {
            Some(lanes) => {
                let plain = self.tables.plain.len();
                let mut run = (0, 0);
                lanes.for_each_match(bytes, |start, keyword| match keyword.checked_sub(plain) {
                    None => hits.extend(self.spelled_out_hit(rules, bytes, start, keyword)),
                    Some(encoded) => {
                        if !(run.0 <= start && start < run.1) {
                            let end = start + self.tables.encoded.keyword(encoded).len();
                            run = encoded_run_around(bytes, start, end).unwrap_or((start, start));
                        }
                        if run.0 <= start && start < run.1 {
                            hits.push(Hit::encoded(start, encoded));
                        }
                    }
                });
            }
            None => {
                let table = &self.tables.plain;
                match self.bulk {
                    true => self
                        .plain_lanes
                        .get_or_init(|| LaneDfa::new(&table.keywords().collect::<Vec<_>>()))
                        .for_each_match(bytes, |start, keyword| {
                            hits.extend(self.spelled_out_hit(rules, bytes, start, keyword))
                        }),
                    false => table.for_each_match(bytes, |start, keyword| {
                        hits.push(Hit::plain(start, keyword))
                    }),
                }
                for (start, end) in encoded_runs(bytes) {
                    self.tables
                        .encoded
                        .for_each_match(&bytes[start..end], |at, keyword| {
                            hits.push(Hit::encoded(start + at, keyword))
                        });
                }
            }
        }
        hits.sort_unstable();
        hits
    }

    /// Starts building the large automaton on another thread: about 17 ms
    /// (the encoded forms are thousands of patterns), while this scan goes
    /// on with the small one. A thread that cannot start leaves the build
    /// to the first search that waits for it.
    fn start_building(&self) {
        let keywords: Vec<Vec<u8>> = (self.tables.plain.keywords())
            .chain(self.tables.encoded.keywords())
            .map(<[u8]>::to_vec)
            .collect();
        let lanes = Arc::clone(&self.lanes);
        let _ = std::thread::Builder::new()
            .name("keyword automaton".into())
            .spawn(move || {
                lanes.get_or_init(|| LaneDfa::new(&keywords));
            });
    }

    /// The automaton over the plain keywords and then the encoded forms.
    fn automaton(&self) -> LaneDfa {
        let keywords: Vec<&[u8]> = (self.tables.plain.keywords())
            .chain(self.tables.encoded.keywords())
            .collect();
        LaneDfa::new(&keywords)
    }

    /// Waits for the automaton (tests compare what it finds with the
    /// tables').
    #[cfg(test)]
    fn with_automaton(self) -> Prefilter {
        self.lanes.get_or_init(|| self.automaton());
        self
    }

    /// (line start offset, rule index) pairs worth running a regex on,
    /// sorted, without duplicates.
    pub fn candidates(&self, rules: &[Rule], bytes: &[u8]) -> Vec<(usize, usize)> {
        self.counted_candidates(rules, bytes).lines
    }

    /// [`Prefilter::candidates`], where each rule's keywords are on the
    /// lines longer than a line of code, and how many keyword hits there
    /// were.
    pub fn counted_candidates(&self, rules: &[Rule], bytes: &[u8]) -> Candidates {
        let mut candidates = Vec::new();
        let mut long_line_hits: Vec<LongLineHit> = Vec::new();
        // For each rule, its last entry in `long_line_hits`: hits of a rule
        // within `MAX_CODE_LINE` of each other are one entry (see
        // `LongLineHit`), so a megabyte line dense in `key` keeps a few.
        let mut last_long_hit: Vec<usize> = Vec::new();
        // Hits in order of position, so that each line start is found by
        // searching back only as far as the previous hit: a long line
        // without newlines (minified code) is not searched back once per
        // keyword hit.
        let hits = self.keyword_hits(rules, bytes);
        let keyword_hits = hits.len();
        let (mut line_start, mut searched_to) = (0, 0);
        let mut long_line = (usize::MAX, false);
        for Hit {
            start,
            encoded,
            keyword,
        } in hits
        {
            if let Some(i) = memchr::memrchr(b'\n', &bytes[searched_to..start]) {
                line_start = searched_to + i + 1;
            }
            searched_to = start;
            if long_line.0 != line_start {
                long_line = (line_start, is_long_line(&bytes[line_start..]));
            }
            let table = match encoded {
                true => &self.tables.encoded,
                false => &self.tables.plain,
            };
            let hit = &bytes[start..start + table.keyword(keyword).len()];
            for &slot in table.slots(keyword) {
                let Some(rule) = self.candidate_of(slot) else {
                    continue;
                };
                if decoder(rule).is_some() {
                    candidates.push((line_start, rule));
                    continue;
                }
                // A case-sensitive rule can only match where its keyword
                // appears as written (`AKIA`, not `akia`).
                let rule_ref = &rules[rule];
                if rule_ref.case_sensitive_keywords()
                    && !rule_ref.keywords.iter().any(|k| k.as_bytes() == hit)
                {
                    continue;
                }
                candidates.push((line_start, rule));
                if long_line.1 {
                    if last_long_hit.is_empty() {
                        last_long_hit = vec![usize::MAX; rules.len()];
                    }
                    let end = start + hit.len();
                    match long_line_hits.get_mut(last_long_hit[rule]) {
                        Some(last)
                            if last.line_start == line_start
                                && start <= last.hit.end + MAX_CODE_LINE =>
                        {
                            last.hit.end = last.hit.end.max(end);
                        }
                        _ => {
                            last_long_hit[rule] = long_line_hits.len();
                            long_line_hits.push(LongLineHit {
                                line_start,
                                rule,
                                hit: start..end,
                            });
                        }
                    }
                }
            }
        }
        // Percent and string escapes are looked for themselves: what they
        // hide may be a keyword's own characters (`\u0073k-`).
        candidates.extend(
            escaped_line_starts(bytes)
                .into_iter()
                .map(|(line_start, encoding)| (line_start, decoder_index(encoding))),
        );
        if !self.unfiltered_rules.is_empty() {
            let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
            for line_start in starts.filter(|&s| s < bytes.len()) {
                candidates.extend(self.unfiltered_rules.iter().map(|&rule| (line_start, rule)));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        long_line_hits.sort_unstable_by_key(|h| (h.line_start, h.rule, h.hit.start));
        Candidates {
            lines: candidates,
            long_line_hits,
            keyword_hits,
        }
    }
}

/// What the keyword stage hands the regexes.
pub struct Candidates {
    /// (line start offset, rule index) pairs worth running a regex on,
    /// sorted, without duplicates.
    pub lines: Vec<(usize, usize)>,
    /// On lines longer than [`MAX_CODE_LINE`]: each keyword hit of each
    /// rule, sorted by line, rule and position.
    pub long_line_hits: Vec<LongLineHit>,
    /// Hits of the keyword searcher.
    pub keyword_hits: usize,
}

/// A rule's keywords found in `hit` on the long line starting at
/// `line_start`: one hit, or several no more than [`MAX_CODE_LINE`] apart
/// (the text the detector searches around each of them then joins up
/// anyway: it reaches farther than that from each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongLineHit {
    pub line_start: usize,
    pub rule: usize,
    pub hit: std::ops::Range<usize>,
}

/// Whether the line `rest` starts with is longer than [`MAX_CODE_LINE`]
/// (minified code, data); searches at most that far.
fn is_long_line(rest: &[u8]) -> bool {
    rest.len() > MAX_CODE_LINE && memchr::memchr(b'\n', &rest[..=MAX_CODE_LINE]).is_none()
}

/// A keyword found at `start`: keyword `keyword` of the plain or the
/// encoded table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    start: usize,
    encoded: bool,
    keyword: usize,
}

impl Hit {
    fn plain(start: usize, keyword: usize) -> Hit {
        Hit {
            start,
            encoded: false,
            keyword,
        }
    }

    fn encoded(start: usize, keyword: usize) -> Hit {
        Hit {
            start,
            encoded: true,
            keyword,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rule_file, RuleSet};

    /// Hits come from the lanes out of order; each candidate still names
    /// the start of the line its hit is on.
    #[test]
    fn candidates_name_the_line_of_each_hit_in_every_profile() {
        let specs = parse_rule_file(
            "test",
            "[[rules]]\nid='a'\ndescription='d'\nregex='aa(x)'\nkeywords=['aa']\n\
             [[rules]]\nid='b'\ndescription='d'\nregex='bb(x)'\nkeywords=['bb']\n",
        )
        .unwrap();
        let rules = RuleSet::from_specs(&specs).unwrap().rules;
        let mut text = String::new();
        let mut expected = Vec::new();
        for i in 0..300 {
            let line_start = text.len();
            let line = match i % 3 {
                0 => format!("{i} aa .. bb ..\n"),
                1 => format!("{i} nothing here\n"),
                _ => format!("{i} bb\n"),
            };
            if i % 3 == 0 {
                expected.extend([(line_start, 0), (line_start, 1)]);
            } else if i % 3 == 2 {
                expected.push((line_start, 1));
            }
            text.push_str(&line);
        }
        for profile in [Profile::Hook, Profile::Bulk] {
            let prefilter = Prefilter::new(&rules, profile);
            assert_eq!(
                prefilter.candidates(&rules, text.as_bytes()),
                expected,
                "{profile:?}"
            );
        }
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use crate::decode::encode_base64;
    use crate::rules::RuleSet;

    /// build.rs's static is what the table code gives for the built-in
    /// rules today (the build script and the crate share that code, but a
    /// stale OUT_DIR or a change to one side would show here).
    #[test]
    fn the_built_in_keyword_tables_are_the_ones_the_rules_give() {
        let built =
            KeywordTables::build(BUILTIN_RULES.iter().map(|r| (&r.keywords[..], r.generic)));
        assert_eq!(built, BUILTIN_KEYWORD_TABLES);
        let (plain, encoded) = (
            &BUILTIN_KEYWORD_TABLES.plain,
            &BUILTIN_KEYWORD_TABLES.encoded,
        );
        assert!(
            encoded.len() > 1000 && plain.len() > 300,
            "{} {}",
            plain.len(),
            encoded.len()
        );
    }

    /// A text with every built-in keyword, as written and base64-encoded
    /// at each alignment, one per line.
    fn every_keyword() -> String {
        let mut text = String::new();
        for rule in BUILTIN_RULES {
            for keyword in rule.keywords.iter() {
                text.push_str(&format!("x = {keyword}0123456789\n"));
                for pad in ["", "a", "ab"] {
                    let encoded = encode_base64(format!("{pad}{keyword}0123456789").as_bytes());
                    text.push_str(&format!("data: {encoded}\n"));
                }
            }
        }
        text
    }

    /// Bulk scans drop a hit of a keyword that only case-sensitive rules
    /// list when it is not spelled as they spell it (`ac` for `AC`), before
    /// hits are kept and sorted; the hook's search keeps every hit and
    /// checks each rule. Both give the same candidates.
    #[test]
    fn hits_ruled_out_by_their_spelling_lose_no_candidate() {
        let set = RuleSet::builtin().unwrap();
        let mut text = String::new();
        for rule in BUILTIN_RULES {
            for keyword in rule.keywords.iter() {
                let keyword = keyword.to_string();
                for form in [
                    keyword.clone(),
                    keyword.to_ascii_lowercase(),
                    keyword.to_ascii_uppercase(),
                ] {
                    text.push_str(&format!("x = {form}0123456789abcdef\n"));
                }
            }
        }
        let hook = Prefilter::new(&set.rules, Profile::Hook);
        let expected = hook.counted_candidates(&set.rules, text.as_bytes());
        for bulk in [
            Prefilter::new(&set.rules, Profile::Bulk),
            Prefilter::new(&set.rules, Profile::Bulk).with_automaton(),
        ] {
            let found = bulk.counted_candidates(&set.rules, text.as_bytes());
            assert_eq!(found.lines, expected.lines);
            assert!(
                found.keyword_hits < expected.keyword_hits,
                "{} {}",
                found.keyword_hits,
                expected.keyword_hits
            );
        }
    }

    /// Rule sets without some built-in rules read build.rs's table through
    /// a remapping, rule sets with a user's rule build their own: both give
    /// the candidates a table built for the same rules gives.
    #[test]
    fn every_rule_set_finds_the_candidates_of_its_own_rules() {
        let text = every_keyword();
        let disabled: Vec<String> = BUILTIN_RULES
            .iter()
            .step_by(3)
            .map(|r| r.id.to_string())
            .collect();
        let user = crate::rules::parse_rule_file(
            "test",
            "[[rules]]\nid='mine'\ndescription='d'\nregex='zq(x)'\nkeywords=['zq', 'Token']\n",
        )
        .unwrap();
        for (user, disabled) in [
            (&[][..], &disabled[..]),
            (&user[..], &[][..]),
            (&[][..], &[][..]),
        ] {
            let set = RuleSet::new(user, disabled, &[]).unwrap();
            // The same rules as user rules: never build.rs's table.
            let specs: Vec<_> = BUILTIN_RULES
                .iter()
                .filter(|r| set.rules.iter().any(|s| s.id == r.id))
                .chain(user.iter())
                .cloned()
                .collect();
            let unmapped: Vec<Rule> = specs.iter().map(|s| Rule::new(s).unwrap()).collect();
            for profile in [Profile::Hook, Profile::Bulk] {
                let ours = Prefilter::new(&set.rules, profile);
                let automaton = Prefilter::new(&set.rules, profile).with_automaton();
                let with_automaton = automaton.candidates(&set.rules, text.as_bytes());
                assert_eq!(
                    matches!(ours.tables, Cow::Borrowed(_)),
                    user.is_empty(),
                    "build.rs's table serves the built-in rules alone"
                );
                let theirs = Prefilter::new(&unmapped, profile);
                assert!(matches!(theirs.tables, Cow::Owned(_)));
                let found = ours.candidates(&set.rules, text.as_bytes());
                let expected = theirs.candidates(&unmapped, text.as_bytes());
                assert!(found.len() > 1000, "{profile:?}: {}", found.len());
                // build.rs's table still lists the encoded keywords of the
                // rules left out: a line is decoded that need not be, and
                // nothing else differs.
                let rules_only = |c: &[(usize, usize)]| -> Vec<(usize, usize)> {
                    c.iter()
                        .copied()
                        .filter(|&(_, r)| decoder(r).is_none())
                        .collect()
                };
                assert_eq!(rules_only(&found), rules_only(&expected), "{profile:?}");
                let missing = expected.iter().filter(|c| !found.contains(c)).count();
                assert_eq!(missing, 0, "{profile:?}: decoder candidates missing");
                assert_eq!(with_automaton, found, "{profile:?}: the automaton's hits");
                if disabled.is_empty() {
                    assert_eq!(found.len(), expected.len(), "{profile:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod switch_tests {
    use super::*;
    use crate::rules::RuleSet;

    /// A bulk scan begins with the small automaton and the encoded table,
    /// and past its small share goes on with the large automaton: what it
    /// finds all along is what the hook's tables find.
    #[test]
    fn a_long_bulk_scan_finds_what_the_tables_find() {
        let set = RuleSet::builtin().unwrap();
        let mut text = String::new();
        for rule in BUILTIN_RULES {
            for keyword in rule.keywords.iter() {
                text.push_str(&format!("x = {keyword}0123456789\n"));
                let encoded =
                    crate::decode::encode_base64(format!("{keyword}0123456789").as_bytes());
                text.push_str(&format!("data: {encoded}\n"));
            }
        }
        let hook = Prefilter::new(&set.rules, Profile::Hook);
        let bulk = Prefilter::new(&set.rules, Profile::Bulk);
        let chunks = SMALL_SCAN / text.len() + 3;
        let expected = hook.candidates(&set.rules, text.as_bytes());
        for chunk in 0..chunks {
            assert_eq!(
                bulk.candidates(&set.rules, text.as_bytes()),
                expected,
                "chunk {chunk}"
            );
        }
        assert!(
            bulk.plain_lanes.get().is_some(),
            "it began with the small automaton"
        );
        assert!(
            bulk.lanes.get().is_some(),
            "the bulk scan waited for its automaton"
        );
        assert!(hook.lanes.get().is_none(), "the hook never builds one");
    }
}
