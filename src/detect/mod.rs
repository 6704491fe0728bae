//! The detector: text in, matches out.
//!
//! The hot path runs the cheapest stage first. One Aho-Corasick automaton
//! over every rule's keywords finds which rules can possibly match and on
//! which lines; only those rules' regexes run, and only on those lines.
//! Matches then pass the rule's entropy floor and the allow lists.
//! The detector never sees a repository or a file system: only text.

pub mod allowlist;
pub mod checksum;
pub mod entropy;
pub mod keywords;
pub mod randomness;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::Regex;

use crate::rules::{Engine, Rule, Text};
use keywords::{KeywordDfa, PairIndex};

/// Inputs up to this size (in small-input mode) are prefiltered keyword by
/// keyword instead of building the automaton.
const SMALL_INPUT: usize = 4096;

/// A scan of more than this many bytes builds a DFA whatever the mode: it
/// costs a millisecond or two and then runs several times faster.
const LARGE_INPUT: usize = 1 << 20;

/// Lines up to this long are run by the regex engine that builds fastest
/// (a backtracker, which keeps its bounded memory for lines this short).
const SHORT_HAYSTACK: usize = 4096;

/// How far past its first line a multi-line rule (a PEM block) may match.
const MULTILINE_WINDOW: usize = 64 * 1024;

/// The keyword prefilter, built for the amount of text expected.
enum KeywordSearch {
    /// Builds in microseconds: the hook's few lines.
    Nfa(AhoCorasick),
    /// Builds in half a millisecond, then runs fastest.
    Lanes(Box<KeywordDfa>),
}

/// A secret found in a chunk of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index into [`Detector::rules`].
    pub rule: usize,
    /// 1-based line number (in the file the chunk came from).
    pub line: u32,
    /// 1-based column, in characters.
    pub column: usize,
    /// The secret itself. Never printed: see `finding::redact`.
    pub secret: String,
    /// Byte range of the secret within the scanned text.
    pub span: (usize, usize),
}

/// Compiled rules plus the keyword prefilter over them.
pub struct Detector {
    rules: Vec<Rule>,
    /// Lower-cased keywords, one per automaton pattern.
    patterns: Vec<Text>,
    /// Built on first use: a commit that adds nothing scannable never pays.
    keywords: OnceLock<KeywordSearch>,
    /// The keyword search for a few lines (the hook), built on first use.
    pair_index: OnceLock<PairIndex>,
    /// Tuned for the hook's few lines: keywords found by a byte-pair index
    /// or an NFA that builds in microseconds, short lines run by a regex
    /// engine that builds fast. Otherwise a DFA over the keywords and lazy
    /// DFAs for the rules, slower to build and fastest to run.
    small_inputs: bool,
    /// How much text is about to be scanned, when known: a large staged
    /// change is worth a DFA even in small-input mode.
    expected_bytes: AtomicUsize,
    /// For each keyword pattern, the rules that listed it.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every line.
    unfiltered_rules: Vec<usize>,
    /// Secrets matching any of these are never reported (from config).
    allowed_values: Vec<Regex>,
}

impl Detector {
    pub fn new(rules: Vec<Rule>) -> Detector {
        Detector::with_allowed_values(rules, Vec::new())
    }

    pub fn with_allowed_values(rules: Vec<Rule>, allowed_values: Vec<Regex>) -> Detector {
        let mut patterns: Vec<Text> = Vec::new();
        let mut pattern_index: HashMap<Text, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut unfiltered_rules = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                unfiltered_rules.push(index);
            }
            for keyword in &rule.keywords {
                // Built-in keywords are mostly lower case already: borrowed,
                // not copied.
                let keyword = match keyword.bytes().any(|b| b.is_ascii_uppercase()) {
                    true => Text::Owned(keyword.to_ascii_lowercase()),
                    false => keyword.clone(),
                };
                match pattern_index.get(&keyword) {
                    Some(&i) => keyword_rules[i].push(index),
                    None => {
                        pattern_index.insert(keyword.clone(), patterns.len());
                        patterns.push(keyword);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        Detector {
            rules,
            patterns,
            keywords: OnceLock::new(),
            pair_index: OnceLock::new(),
            small_inputs: false,
            expected_bytes: AtomicUsize::new(0),
            keyword_rules,
            unfiltered_rules,
            allowed_values,
        }
    }

    /// Tunes the detector for a few lines of input (the hook): cheap to
    /// start, rather than fastest per megabyte.
    pub fn for_small_inputs(mut self) -> Detector {
        self.small_inputs = true;
        self
    }

    /// Tells the detector how much text the coming scan holds, so that it
    /// can pick the automaton that pays off for that much.
    pub fn expect_bytes(&self, bytes: usize) {
        self.expected_bytes.store(bytes, Ordering::Relaxed);
    }

    fn automaton(&self) -> &KeywordSearch {
        self.keywords.get_or_init(|| {
            let large = self.expected_bytes.load(Ordering::Relaxed) > LARGE_INPUT;
            if large || !self.small_inputs {
                return KeywordSearch::Lanes(Box::new(KeywordDfa::new(&self.patterns)));
            }
            let nfa = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                .build(self.patterns.iter().map(|p| p.as_bytes()))
                .expect("keyword automaton is small and always builds");
            KeywordSearch::Nfa(nfa)
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Scans `text`, whose first line is line `first_line` of its file,
    /// appending matches to `out` in the order of their position.
    pub fn scan_into(&self, text: &str, first_line: u32, out: &mut Vec<Match>) {
        let bytes = text.as_bytes();
        let first_new = out.len();
        let mut candidates = self.candidates(bytes);
        if candidates.is_empty() {
            return;
        }
        candidates.sort_unstable();
        candidates.dedup();

        // Line numbers advance monotonically with the sorted candidates, so
        // newlines are counted once over the whole chunk.
        let mut counted_to = 0usize;
        let mut line_no = first_line;
        let mut skip_line_start = usize::MAX;
        let mut vetoed: Vec<(usize, usize)> = Vec::new();
        let widen_first =
            self.small_inputs && self.expected_bytes.load(Ordering::Relaxed) <= LARGE_INPUT;
        for &(line_start, rule_index) in &candidates {
            line_no += memchr::memchr_iter(b'\n', &bytes[counted_to..line_start]).count() as u32;
            counted_to = line_start;
            if line_start == skip_line_start {
                continue;
            }
            let line_end =
                memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
            let line = &bytes[line_start..line_end];
            if allowlist::has_inline_allow(line) {
                skip_line_start = line_start;
                continue;
            }
            let rule = &self.rules[rule_index];
            let haystack = if rule.multiline {
                &bytes[line_start..bytes.len().min(line_start + MULTILINE_WINDOW)]
            } else {
                line
            };
            // Staged lines: an NFA engine that builds fast runs a short line
            // about as fast as a lazy DFA would. Long lines (minified code)
            // and full scans are worth the DFA's build.
            let short = self.small_inputs && haystack.len() <= SHORT_HAYSTACK;
            // The hook's few lines: rule a line out with the widened regex
            // before compiling the rule's own (see `rules::widen`).
            if short && widen_first && !rule.may_match(haystack) {
                continue;
            }
            let compiled = rule.compiled(match short {
                true => Engine::QuickToBuild,
                false => Engine::FastToRun,
            });
            for caps in compiled.regex.captures_iter(haystack) {
                let whole = caps.get_match().expect("a reported match has group 0");
                if whole.start() > line.len() {
                    break; // starts on a later line: found from that line
                }
                let Some(secret) = compiled
                    .secret_groups
                    .iter()
                    .find_map(|&g| caps.get_group(g))
                else {
                    continue;
                };
                let secret_bytes = &haystack[secret.range()];
                if !self.is_reportable(
                    rule,
                    secret_bytes,
                    caps.get_group_by_name("name").map(|n| &haystack[n.range()]),
                ) {
                    // A value a specific rule recognised and then rejected
                    // (bad checksum, documented example) is not a secret for
                    // the generic rules either.
                    if !rule.generic {
                        vetoed.push((line_start + secret.start, line_start + secret.end));
                    }
                    continue;
                }
                // The secret may start on a later line than the match (the
                // body of a PEM block): report the line and column it starts on.
                let secret_start = line_start + secret.start;
                let extra_lines =
                    memchr::memchr_iter(b'\n', &bytes[line_start..secret_start]).count();
                let secret_line_start = memchr::memrchr(b'\n', &bytes[line_start..secret_start])
                    .map_or(line_start, |i| line_start + i + 1);
                // Regexes run over bytes of a &str; a match can only split a
                // character if a user pattern matches raw bytes, so step back
                // to a boundary rather than panic.
                let mut boundary = secret_start;
                while !text.is_char_boundary(boundary) {
                    boundary -= 1;
                }
                out.push(Match {
                    rule: rule_index,
                    line: line_no + extra_lines as u32,
                    column: crate::text::column_of(
                        &text[secret_line_start..],
                        boundary - secret_line_start,
                    ),
                    secret: String::from_utf8_lossy(secret_bytes).into_owned(),
                    span: (line_start + secret.start, line_start + secret.end),
                });
            }
        }
        self.drop_generic_overlaps(out, first_new, &vetoed);
    }

    /// Where a specific rule and a loose `name = value` rule report the same
    /// secret, keep only the specific one: it names the provider. Where a
    /// specific rule rejected the value (`vetoed`), drop the generic match.
    fn drop_generic_overlaps(
        &self,
        out: &mut Vec<Match>,
        first_new: usize,
        vetoed: &[(usize, usize)],
    ) {
        let new = &out[first_new..];
        let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
        let overlaps_specific = |m: &Match| {
            new.iter()
                .any(|other| !self.rules[other.rule].generic && overlaps(other.span, m.span))
                || vetoed.iter().any(|&span| overlaps(span, m.span))
        };
        let keep: Vec<bool> = new
            .iter()
            .map(|m| !(self.rules[m.rule].generic && overlaps_specific(m)))
            .collect();
        let mut index = 0;
        out.retain(|_| {
            let kept = index < first_new || keep[index - first_new];
            index += 1;
            kept
        });
    }

    /// (line start offset, rule index) pairs worth running a regex on.
    fn candidates(&self, bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut candidates = Vec::new();
        let mut push = |start: usize, pattern: usize| {
            let hit = &bytes[start..start + self.patterns[pattern].len()];
            let line_start = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
            for &rule in &self.keyword_rules[pattern] {
                // A case-sensitive rule can only match where its keyword
                // appears as written (`AKIA`, not `akia`).
                let rule_ref = &self.rules[rule];
                if rule_ref.case_sensitive_keywords
                    && !rule_ref.keywords.iter().any(|k| k.as_bytes() == hit)
                {
                    continue;
                }
                candidates.push((line_start, rule));
            }
        };
        let is_small = self.small_inputs
            && self.keywords.get().is_none()
            && bytes.len() <= SMALL_INPUT
            && self.expected_bytes.load(Ordering::Relaxed) <= LARGE_INPUT;
        if is_small {
            // A few lines from the hook: the byte-pair index is built and
            // searched before an automaton would be built.
            let lower = bytes.to_ascii_lowercase();
            let index = self
                .pair_index
                .get_or_init(|| PairIndex::new(&self.patterns));
            index.for_each_match(&self.patterns, &lower, &mut push);
        } else {
            match self.automaton() {
                KeywordSearch::Nfa(nfa) => {
                    for hit in nfa.find_overlapping_iter(bytes) {
                        push(hit.start(), hit.pattern().as_usize());
                    }
                }
                KeywordSearch::Lanes(dfa) => dfa.for_each_match(bytes, push),
            }
        }
        if !self.unfiltered_rules.is_empty() {
            let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
            for line_start in starts.filter(|&s| s < bytes.len()) {
                candidates.extend(self.unfiltered_rules.iter().map(|&rule| (line_start, rule)));
            }
        }
        candidates
    }

    fn is_reportable(&self, rule: &Rule, secret: &[u8], name: Option<&[u8]>) -> bool {
        let Some(decoding) = rule.decode else {
            return self.is_reportable_value(rule, secret, name);
        };
        // An encoded field: what is inside decides. A value another rule
        // recognises (a PEM key, a provider token) is reported; otherwise
        // the value must look like a credential under its field's name.
        decoding.values(secret, name).iter().any(|decoded| {
            let Ok(text) = std::str::from_utf8(&decoded.value) else {
                return false;
            };
            let mut inner = Vec::new();
            self.scan_into(text, 1, &mut inner);
            inner.iter().any(|m| !self.rules[m.rule].generic)
                || (self.is_reportable_value(rule, &decoded.value, decoded.name)
                    && allowlist::looks_like_credential(&decoded.value, decoded.name))
        })
    }

    fn is_reportable_value(&self, rule: &Rule, secret: &[u8], name: Option<&[u8]>) -> bool {
        if secret.is_empty() || allowlist::is_obvious_placeholder(secret) {
            return false;
        }
        if let Some(floor) = rule.entropy {
            if entropy::shannon(secret) < floor {
                return false;
            }
        }
        if rule.max_len.is_some_and(|max| secret.len() > max) {
            return false;
        }
        if rule.checksum.is_some_and(|c| !c.verifies(secret)) {
            return false;
        }
        if rule
            .allow_regexes()
            .iter()
            .chain(&self.allowed_values)
            .any(|a| a.is_match(secret))
        {
            return false;
        }
        if rule.generic {
            if name.is_some_and(allowlist::is_non_secret_name) {
                return false;
            }
            if !allowlist::looks_like_credential(secret, name) {
                return false;
            }
        }
        true
    }

    /// The ids of the rules that report something in `text` (the rule
    /// example tests use it).
    pub fn rule_ids_found_in(&self, text: &str) -> Vec<String> {
        let mut found = Vec::new();
        self.scan_into(text, 1, &mut found);
        found
            .into_iter()
            .map(|m| self.rules[m.rule].id.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSpec;

    fn detector(toml_rules: &str) -> Detector {
        let specs = crate::rules::parse_rule_file("test", toml_rules).unwrap();
        Detector::new(
            specs
                .iter()
                .map(RuleSpec::compile)
                .collect::<anyhow::Result<_>>()
                .unwrap(),
        )
    }

    const TOY: &str = r#"
        [[rules]]
        id = "toy"
        description = "toy token"
        regex = '\btoy_([a-z0-9]{8})\b'
        keywords = ["toy_"]
    "#;

    #[test]
    fn reports_line_and_column_in_characters() {
        let d = detector(TOY);
        let mut out = Vec::new();
        d.scan_into("first\né = \"toy_ab12cd34\"\n", 10, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].line, out[0].column), (11, 10));
        assert_eq!(out[0].secret, ["ab12", "cd34"].concat());
    }

    #[test]
    fn max_len_drops_longer_secrets() {
        let d = detector(
            r#"
            [[rules]]
            id = "quoted"
            description = "quoted value"
            regex = 'tok = "(?P<secret>[a-z0-9]{8,})"'
            keywords = ["tok"]
            max_len = 12
        "#,
        );
        let value = |len: usize| "ab12".repeat(len / 4);
        assert_eq!(
            d.rule_ids_found_in(&format!("tok = \"{}\"", value(12))),
            ["quoted"]
        );
        assert!(d
            .rule_ids_found_in(&format!("tok = \"{}\"", value(16)))
            .is_empty());
    }

    #[test]
    fn keyword_is_case_insensitive_but_regex_decides() {
        let d = detector(TOY);
        assert!(d.rule_ids_found_in("TOY_ab12cd34").is_empty());
        assert_eq!(
            d.rule_ids_found_in("x toy_ab12cd34 y toy_ff12cd34"),
            ["toy", "toy"]
        );
    }

    #[test]
    fn inline_allow_suppresses_only_its_line() {
        let d = detector(TOY);
        let mut out = Vec::new();
        d.scan_into("toy_ab12cd34 # keyguard:allow\ntoy_ab12cd35\n", 1, &mut out);
        assert_eq!(out.iter().map(|m| m.line).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn small_input_prefilter_finds_what_the_automaton_finds() {
        let text = format!("a\nTOY_x toy_{} # toy_\n", "ab12cd34");
        let mut direct = Vec::new();
        detector(TOY)
            .for_small_inputs()
            .scan_into(&text, 1, &mut direct);
        let mut automaton = Vec::new();
        detector(TOY).scan_into(&text, 1, &mut automaton);
        assert_eq!(direct, automaton);
        assert_eq!(direct.len(), 1);
    }

    #[test]
    fn rules_without_keywords_run_everywhere() {
        let d = detector("[[rules]]\nid='nokw'\ndescription='d'\nregex='zz([0-9]{4})'\n");
        let mut out = Vec::new();
        d.scan_into("a\nzz1234\n\nzz9876", 1, &mut out);
        assert_eq!(out.iter().map(|m| m.line).collect::<Vec<_>>(), [2, 4]);
    }

    #[test]
    fn entropy_floor_applies() {
        let d = detector(
            "[[rules]]\nid='e'\ndescription='d'\nregex='k_([a-z0-9]{8})'\nkeywords=['k_']\nentropy=2.5\n",
        );
        assert!(d.rule_ids_found_in("k_abababab").is_empty());
        assert_eq!(d.rule_ids_found_in("k_a1b2c3d4"), ["e"]);
    }

    #[test]
    fn specific_rule_wins_over_generic_on_the_same_secret() {
        let d = detector(
            "[[rules]]\nid='specific'\ndescription='d'\nregex='tk_[a-z0-9]{8}'\nkeywords=['tk_']\n\
             [[rules]]\nid='loose'\ndescription='d'\nregex='token = (\\S+)'\nkeywords=['token']\ngeneric=true\n",
        );
        assert_eq!(
            d.rule_ids_found_in(&format!("token = tk_{}", "a1b2c3d4")),
            ["specific"]
        );
    }
}
