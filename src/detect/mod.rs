//! The detector: text in, matches out.
//!
//! The hot path runs the cheapest stage first. One keyword search over
//! every rule's keywords ([`prefilter`]) finds which rules can possibly
//! match and on which lines; only those rules' regexes run, and only on
//! those lines. Matches then pass the rule's checks and the allow lists
//! ([`verify`]), and loose rules give way to specific ones ([`generic`]).
//! The detector never sees a repository or a file system: only text.
//!
//! A detector is built once for a [`Profile`], chosen by the caller, and
//! never changes: the profile alone picks the engines of every stage.

pub mod allowlist;
pub mod entropy;
pub mod expiry;
pub mod generic;
pub mod keywords;
pub mod prefilter;
pub mod profile;
pub mod randomness;
pub mod verify;

use std::sync::Arc;

pub use crate::rules::Profile;
use crate::rules::{Rule, RuleSet};
use prefilter::Prefilter;

/// How far past its first line a multi-line rule (a PEM block) may match.
const MULTILINE_WINDOW: usize = 64 * 1024;

/// How many encodings deep a secret is looked for: base64 of a key, and
/// base64 of a file that holds one in base64 (a Kubernetes Secret's data
/// holding a Docker config). Deeper nesting is not written by hand.
const MAX_DECODE_DEPTH: u8 = 2;

/// The shortest base64 token decoded: 12 bytes, less than any provider key.
const MIN_ENCODED_TOKEN: usize = 16;

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
    /// Byte range of the secret within the scanned text (for a decoded
    /// secret, of the encoded token).
    pub span: (usize, usize),
    /// How the secret was encoded where it was found (`base64`), if it was.
    pub encoding: Option<&'static str>,
}

/// Compiled rules plus the keyword prefilter over them, for one profile.
pub struct Detector {
    /// Shared with the detectors of other profiles ([`Detector::with_profile`]),
    /// so that each rule's regexes are compiled once per process.
    rules: Arc<RuleSet>,
    profile: Profile,
    prefilter: Prefilter,
    /// When this detector was built, in Unix seconds: a token that states an
    /// earlier expiry is not reported (see [`expiry`]).
    now: u64,
}

impl Detector {
    pub fn new(rules: RuleSet, profile: Profile) -> Detector {
        Detector::shared(Arc::new(rules), profile)
    }

    fn shared(rules: Arc<RuleSet>, profile: Profile) -> Detector {
        Detector {
            prefilter: Prefilter::new(&rules.rules, profile),
            rules,
            profile,
            now: expiry::now(),
        }
    }

    /// The same rules tuned for `profile`: for a caller that learns, once
    /// it has read the index, that a staged change is large enough for the
    /// bulk engines.
    pub fn with_profile(&self, profile: Profile) -> Detector {
        Detector::shared(Arc::clone(&self.rules), profile)
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules.rules
    }

    pub fn rule_set(&self) -> &RuleSet {
        &self.rules
    }

    /// Scans `text`, whose first line is line `first_line` of its file,
    /// appending matches to `out` in the order of their position.
    pub fn scan_into(&self, text: &str, first_line: u32, out: &mut Vec<Match>) {
        self.scan_at_depth(text, first_line, 0, out);
    }

    /// [`Detector::scan_into`] for text that is already `depth` encodings
    /// deep.
    fn scan_at_depth(&self, text: &str, first_line: u32, depth: u8, out: &mut Vec<Match>) {
        let bytes = text.as_bytes();
        let first_new = out.len();
        let mut profile = profile::ChunkProfile::start();
        let since = profile.clock();
        let (candidates, keyword_hits) = self.prefilter.counted_candidates(self.rules(), bytes);
        profile.scanned(bytes.len(), keyword_hits, candidates.len(), since);
        if candidates.is_empty() {
            return;
        }

        // Line numbers advance monotonically with the sorted candidates, so
        // newlines are counted once over the whole chunk.
        let mut counted_to = 0usize;
        let mut line_no = first_line;
        let mut skip_line_start = usize::MAX;
        let mut current_line = (usize::MAX, 0);
        let mut vetoed: Vec<(usize, usize)> = Vec::new();
        for &(line_start, rule_index) in &candidates {
            line_no += memchr::memchr_iter(b'\n', &bytes[counted_to..line_start]).count() as u32;
            counted_to = line_start;
            if line_start == skip_line_start {
                continue;
            }
            // Each rule's candidates on a line share its end and its allow
            // check: a long line (minified code) is searched once, not once
            // per rule.
            if line_start != current_line.0 {
                let end = memchr::memchr(b'\n', &bytes[line_start..])
                    .map_or(bytes.len(), |i| line_start + i);
                current_line = (line_start, end);
                if allowlist::has_inline_allow(&bytes[line_start..end]) {
                    skip_line_start = line_start;
                    continue;
                }
            }
            let line_end = current_line.1;
            let line = &bytes[line_start..line_end];
            if rule_index == prefilter::DECODE {
                if depth < MAX_DECODE_DEPTH {
                    let since = profile.clock();
                    let line_text = &text[line_start..line_end];
                    self.scan_decoded(line_text, line_start, line_no, depth, out);
                    profile.decoded(since);
                }
                continue;
            }
            let rule = &self.rules()[rule_index];
            let haystack = if rule.multiline {
                &bytes[line_start..bytes.len().min(line_start + MULTILINE_WINDOW)]
            } else {
                line
            };
            // A loose `name = value` rule reports only on a line of code
            // (`generic::is_literal`): on a longer one (minified code, data)
            // none of its matches would be kept.
            if rule.generic
                && !rule.multiline
                && line.len() > generic::MAX_CODE_LINE
                && rule.names_every_match()
            {
                continue;
            }
            let (since, found_before, mut regex_matches) = (profile.clock(), out.len(), 0);
            // Rule a line out with the widened regex first (see
            // `rules::widen`): in the hook, before compiling the rule's own;
            // in bulk, where the rule's own would leave the lazy DFA.
            let may_match = match self.profile {
                Profile::Hook => rule.may_match(haystack),
                Profile::Bulk => rule.may_match_in_bulk(haystack),
            };
            if !may_match {
                profile.regex_ran(rule_index, haystack.len(), 0, 0, since);
                continue;
            }
            let compiled = rule.compiled(self.profile);
            for caps in compiled.regex.captures_iter(haystack) {
                regex_matches += 1;
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
                let whole_text = &haystack[whole.range()];
                if rule
                    .allow_match_regexes()
                    .iter()
                    .any(|a| a.is_match(whole_text))
                {
                    continue;
                }
                let name = caps.get_group_by_name("name");
                // A loose `name = value` rule: the value must be written out.
                if rule.generic && !rule.multiline && name.is_some() {
                    let site = generic::ValueSite {
                        line,
                        name: name.map(|n| (n.start, n.end)),
                        value: (secret.start, secret.end),
                    };
                    if !generic::is_literal(&site) {
                        continue;
                    }
                }
                if !self.is_reportable(rule, secret_bytes, name.map(|n| &haystack[n.range()])) {
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
                    encoding: None,
                });
            }
            let reported = (out.len() - found_before) as u64;
            profile.regex_ran(rule_index, haystack.len(), regex_matches, reported, since);
        }
        self.drop_generic_overlaps(out, first_new, &vetoed);
    }

    /// Decodes the base64 tokens of `line` (which starts at `line_start` of
    /// the scanned text and is line `line_no`) and reports the provider
    /// secrets inside each, at the token. Tokens that decode to binary
    /// (hashes, images) are dropped before any rule runs.
    fn scan_decoded(
        &self,
        line: &str,
        line_start: usize,
        line_no: u32,
        depth: u8,
        out: &mut Vec<Match>,
    ) {
        for (start, end) in base64_tokens(line.as_bytes()) {
            let Some(decoded) = crate::decode::base64(&line.as_bytes()[start..end]) else {
                continue;
            };
            if !crate::decode::is_text(&decoded) {
                continue;
            }
            let Ok(decoded) = String::from_utf8(decoded) else {
                continue;
            };
            let mut inner = Vec::new();
            self.scan_at_depth(&decoded, 1, depth + 1, &mut inner);
            let column = crate::text::column_of(line, start);
            out.extend(
                inner
                    .into_iter()
                    .filter(|m| !self.rules()[m.rule].generic)
                    .map(|m| Match {
                        rule: m.rule,
                        line: line_no,
                        column,
                        secret: m.secret,
                        span: (line_start + start, line_start + end),
                        encoding: Some("base64"),
                    }),
            );
        }
    }

    /// The ids of the rules that report something in `text` (the rule
    /// example tests use it).
    pub fn rule_ids_found_in(&self, text: &str) -> Vec<String> {
        let mut found = Vec::new();
        self.scan_into(text, 1, &mut found);
        found
            .into_iter()
            .map(|m| self.rules()[m.rule].id.to_string())
            .collect()
    }
}

/// The runs of base64 characters (either alphabet, with up to two `=`)
/// long enough to hold a key, as byte ranges of `line`.
fn base64_tokens(line: &[u8]) -> Vec<(usize, usize)> {
    let is_base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if !is_base64(line[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && is_base64(line[i]) {
            i += 1;
        }
        let mut end = i;
        while end < line.len() && end - i < 2 && line[end] == b'=' {
            end += 1;
        }
        if end - start >= MIN_ENCODED_TOKEN {
            tokens.push((start, end));
        }
        i = end.max(i);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector_for(toml_rules: &str, profile: Profile) -> Detector {
        let specs = crate::rules::parse_rule_file("test", toml_rules).unwrap();
        Detector::new(RuleSet::from_specs(&specs).unwrap(), profile)
    }

    fn detector(toml_rules: &str) -> Detector {
        detector_for(toml_rules, Profile::Bulk)
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
    fn the_hook_profile_finds_what_the_bulk_profile_finds() {
        let text = format!("a\nTOY_x toy_{} # toy_\n", "ab12cd34");
        let mut hook = Vec::new();
        detector_for(TOY, Profile::Hook).scan_into(&text, 1, &mut hook);
        let mut bulk = Vec::new();
        let bulk_detector = detector(TOY);
        bulk_detector.scan_into(&text, 1, &mut bulk);
        assert_eq!(hook, bulk);
        assert_eq!(hook.len(), 1);
        let mut shared = Vec::new();
        bulk_detector
            .with_profile(Profile::Hook)
            .scan_into(&text, 1, &mut shared);
        assert_eq!(shared, bulk);
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
