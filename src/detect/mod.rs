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
pub mod generic;
pub mod jwt;
pub mod keyword_table;
pub mod keywords;
pub mod prefilter;
pub mod profile;
pub mod randomness;
pub mod signed_url;
pub mod verify;

use std::sync::Arc;

use crate::decode::Encoding;
use crate::rules::checksum::Checksum;
pub use crate::rules::Profile;
use crate::rules::{Rule, RuleSet};
use prefilter::Prefilter;

/// How far past its first line a multi-line rule (a PEM block) may match.
const MULTILINE_WINDOW: usize = 64 * 1024;

/// How many encodings deep a secret is looked for: base64 of a key, and
/// base64 of a file that holds one encoded again (a Kubernetes Secret's
/// data holding a Docker config, a percent-encoded base64 blob in a URL).
/// Deeper nesting is not written by hand, and each level multiplies the
/// work on the lines that reach it.
pub(crate) const MAX_DECODE_DEPTH: u8 = 2;

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
    /// Byte range of the secret within the scanned text (for a secret
    /// decoded from a base64 or hex token, of the token).
    pub span: (usize, usize),
    /// Byte range of all the text the rule read to find it (a key ID and
    /// its secret on the next line; the encoded token).
    pub extent: (usize, usize),
    /// How the secret was encoded where it was found, outermost first
    /// (base64 of percent-encoding); empty if written as is.
    pub encodings: Vec<Encoding>,
}

/// Compiled rules plus the keyword prefilter over them, for one profile.
pub struct Detector {
    /// Shared with the detectors of other profiles ([`Detector::with_profile`]),
    /// so that each rule's regexes are compiled once per process.
    rules: Arc<RuleSet>,
    profile: Profile,
    prefilter: Prefilter,
    /// When this detector was built, in Unix seconds: a token that states an
    /// earlier expiry is not reported (see [`jwt`]).
    now: u64,
    /// Search long lines around the keywords only ([`searched_ranges`]);
    /// tests turn it off to compare with whole-line searches.
    window_long_lines: bool,
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
            now: jwt::now(),
            window_long_lines: true,
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
        self.scan_at_depth(text, first_line, 0, None, out);
    }

    /// [`Detector::scan_into`] for text read around a change: only matches
    /// that touch the byte range `changed` are kept (see [`touches`]). They are
    /// chosen before a loose rule gives way to a specific one, so that a
    /// committed secret's own match does not hide the pair that a changed
    /// line completes (a key ID added above its committed secret).
    pub fn scan_touching(
        &self,
        text: &str,
        first_line: u32,
        changed: (usize, usize),
        out: &mut Vec<Match>,
    ) {
        self.scan_at_depth(text, first_line, 0, Some(changed), out);
    }

    /// [`Detector::scan_into`] for text that is already `depth` encodings
    /// deep, keeping only what touches `changed` if given.
    fn scan_at_depth(
        &self,
        text: &str,
        first_line: u32,
        depth: u8,
        changed: Option<(usize, usize)>,
        out: &mut Vec<Match>,
    ) {
        let bytes = text.as_bytes();
        let first_new = out.len();
        let mut profile = profile::ChunkProfile::start();
        let since = profile.clock();
        let prefilter::Candidates {
            lines: candidates,
            long_line_hits,
            keyword_hits,
        } = self.prefilter.counted_candidates(self.rules(), bytes);
        profile.scanned(bytes.len(), keyword_hits, candidates.len(), since);
        if candidates.is_empty() {
            return;
        }
        let mut long_line_hits = long_line_hits.as_slice();

        // Line numbers advance monotonically with the sorted candidates, so
        // newlines are counted once over the whole chunk.
        let mut counted_to = 0usize;
        let mut line_no = first_line;
        let mut skip_line_start = usize::MAX;
        // The line being read, (start, end).
        let mut current_line = (usize::MAX, 0);
        let mut vetoed: Vec<(usize, usize)> = Vec::new();
        // Where the matches of the current line start in `out`: a decoded
        // line's matches replace some of them (see `scan_decoded`).
        let mut line_matches = out.len();
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
                line_matches = out.len();
                if allowlist::has_inline_allow(&bytes[line_start..end]) {
                    skip_line_start = line_start;
                    continue;
                }
            }
            let line_end = current_line.1;
            let line = &bytes[line_start..line_end];
            if let Some(encoding) = prefilter::decoder(rule_index) {
                if depth < MAX_DECODE_DEPTH {
                    let since = profile.clock();
                    let line = DecodedLine {
                        text: &text[line_start..line_end],
                        start: line_start,
                        line_no,
                        matches_from: line_matches,
                    };
                    self.scan_decoded(encoding, &line, depth, out);
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
            let ranges = match rule.multiline {
                true => std::iter::once(0..haystack.len()).collect(),
                false => {
                    let hits = this_rules_hits(&mut long_line_hits, line_start, rule_index);
                    let hits = if self.window_long_lines { hits } else { &[] };
                    searched_ranges(rule, line.len(), line_start, hits)
                }
            };
            let searched = ranges.iter().map(|range| range.len()).sum();
            // Rule a range out with the widened regex first (see
            // `rules::widen`): in the hook, before compiling the rule's own;
            // in bulk, where the rule's own would leave the lazy DFA.
            let may_match = |range: &std::ops::Range<usize>| match self.profile {
                Profile::Hook => rule.may_match(haystack, range.clone()),
                Profile::Bulk => rule.may_match_in_bulk(haystack, range.clone()),
            };
            let compiled = || rule.compiled(self.profile);
            let matches = ranges.into_iter().filter(may_match).flat_map(|range| {
                let input = regex_automata::Input::new(haystack).range(range);
                compiled().regex.captures_iter(input)
            });
            for caps in matches {
                regex_matches += 1;
                let whole = caps.get_match().expect("a reported match has group 0");
                if whole.start() > line.len() {
                    break; // starts on a later line: found from that line (a multi-line rule searches one range)
                }
                let Some(secret) = compiled()
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
                        preceding: &bytes[..line_start],
                        line,
                        name: name.map(|n| (n.start, n.end)),
                        value: (secret.start, secret.end),
                    };
                    if !generic::is_literal(&site) {
                        continue;
                    }
                }
                let name = name.map(|n| &haystack[n.range()]);
                // A key block is judged whole, not by its first line alone:
                // one cut short or overlong is a parser's test, not a key.
                let broken_key_block = rule.checksum == Some(Checksum::PrivateKeyBody)
                    && crate::rules::der::is_broken_block(&haystack[secret.start..]);
                if broken_key_block
                    || signed_url::is_expired(haystack, secret.range(), self.now)
                    || allowlist::is_introduced_as_example(&haystack[..whole.start()])
                    || !self.is_reportable(rule, secret_bytes, name, depth)
                {
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
                    extent: (line_start + whole.start(), line_start + whole.end()),
                    encodings: Vec::new(),
                });
            }
            let reported = (out.len() - found_before) as u64;
            profile.regex_ran(rule_index, searched, regex_matches, reported, since);
        }
        if let Some(changed) = changed {
            let mut index = 0;
            out.retain(|m| {
                index += 1;
                index <= first_new || touches(m, changed)
            });
        }
        self.drop_generic_overlaps(out, first_new, &vetoed);
    }

    /// Decodes `line` in `encoding` and reports what the rules find in the
    /// decoded text.
    ///
    /// Base64 and hex: each token alone, judged by the provider rules only
    /// (no name is left around it), reported at the token. Tokens that
    /// decode to binary (hashes, images) are dropped before any rule runs.
    ///
    /// Percent and string escapes: the whole line, judged by every rule,
    /// reported where the secret is written. What the rule read there is
    /// written unchanged was the plain pass's to judge; where it held an
    /// escape, the decoded match replaces the plain pass's match of the same
    /// rule (the rule judged the decoded value).
    fn scan_decoded(
        &self,
        encoding: Encoding,
        line: &DecodedLine<'_>,
        depth: u8,
        out: &mut Vec<Match>,
    ) {
        let bytes = line.text.as_bytes();
        for (start, end) in encoding.tokens(bytes) {
            let Some(decoded) = encoding.decode(&bytes[start..end]) else {
                continue;
            };
            let mut inner = Vec::new();
            self.scan_at_depth(&decoded.text, line.line_no, depth + 1, None, &mut inner);
            for m in inner {
                let (span, extent) = match (decoded.origin(m.span), decoded.origin(m.extent)) {
                    (Some(span), Some(extent)) => {
                        let read = &decoded.text.as_bytes()[m.extent.0..m.extent.1];
                        if read == &bytes[start + extent.0..start + extent.1] {
                            continue;
                        }
                        (
                            (start + span.0, start + span.1),
                            (start + extent.0, start + extent.1),
                        )
                    }
                    _ if self.rules()[m.rule].generic => continue,
                    _ => ((start, end), (start, end)),
                };
                let at = |range: (usize, usize)| (line.start + range.0, line.start + range.1);
                let (span, extent) = (at(span), at(extent));
                if encoding.is_transparent() {
                    let overlaps = |other: &Match| other.span.0 < span.1 && span.0 < other.span.1;
                    let mut index = 0;
                    out.retain(|other| {
                        index += 1;
                        index <= line.matches_from || other.rule != m.rule || !overlaps(other)
                    });
                }
                let mut boundary = span.0 - line.start;
                while !line.text.is_char_boundary(boundary) {
                    boundary -= 1;
                }
                let mut encodings = vec![encoding];
                encodings.extend(m.encodings);
                out.push(Match {
                    rule: m.rule,
                    line: line.line_no,
                    column: crate::text::column_of(line.text, boundary),
                    secret: m.secret,
                    span,
                    extent,
                    encodings,
                });
            }
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

/// The keyword hits of `rule` on the long line at `line_start`, taken off
/// the front of `hits` (sorted by line, rule and position; the caller asks
/// in that order).
fn this_rules_hits<'a>(
    hits: &mut &'a [prefilter::LongLineHit],
    line_start: usize,
    rule: usize,
) -> &'a [prefilter::LongLineHit] {
    let key = |h: &prefilter::LongLineHit| (h.line_start, h.rule);
    let skip = hits.partition_point(|h| key(h) < (line_start, rule));
    let rest = &hits[skip..];
    let len = rest.partition_point(|h| key(h) == (line_start, rule));
    let (these, after) = rest.split_at(len);
    *hits = after;
    these
}

/// Where on a line a rule's regex runs: the whole line, or on a line longer
/// than a line of code (a minified bundle, a data blob, megabytes long),
/// the text around the rule's keywords. There a keyword names the provider
/// only within [`generic::MAX_CODE_LINE`] bytes of the match, as it would
/// on a line of code, and a match is no longer than a line of code either
/// (a regex without a bound, `\s*`, `.+?`, is bounded so): the regex runs
/// from that far before each keyword to that far after, widened by its
/// longest match, the windows that overlap merged.
fn searched_ranges(
    rule: &Rule,
    line_len: usize,
    line_start: usize,
    hits: &[prefilter::LongLineHit],
) -> Vec<std::ops::Range<usize>> {
    if hits.is_empty() {
        return std::iter::once(0..line_len).collect();
    }
    let longest = rule
        .longest_match()
        .map_or(generic::MAX_CODE_LINE, |l| l.min(generic::MAX_CODE_LINE));
    let reach = longest + generic::MAX_CODE_LINE;
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for hit in hits {
        let start = (hit.hit.start - line_start).saturating_sub(reach);
        let end = (hit.hit.end - line_start + reach).min(line_len);
        match ranges.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => ranges.push(start..end),
        }
    }
    ranges
}

/// Whether a change to the byte range `changed` touches the secret of `m`:
/// it changes the secret itself, or the line its match starts on (an access
/// key ID added above the committed secret it pairs with). A line changed
/// between a committed name and its committed value touches neither.
fn touches(m: &Match, changed: (usize, usize)) -> bool {
    let overlaps = m.span.0 < changed.1 && changed.0 < m.span.1;
    overlaps || (changed.0..changed.1).contains(&m.extent.0)
}

/// A line of scanned text worth decoding.
struct DecodedLine<'a> {
    text: &'a str,
    /// Byte offset of the line in the scanned text.
    start: usize,
    line_no: u32,
    /// Index in the output of the line's first match.
    matches_from: usize,
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

    /// A provider's prefix before words is an example someone wrote; the
    /// same prefix before a random body is a key.
    #[test]
    fn a_token_prefix_before_words_is_not_a_key() {
        let d = detector(
            r#"
            [[rules]]
            id = "toy-token"
            description = "toy token"
            regex = '\b(?P<secret>toy_[a-z_-]{16,40})\b'
            keywords = ["toy_"]
        "#,
        );
        assert!(d
            .rule_ids_found_in("t = 'toy_python-gitlab-token_'")
            .is_empty());
        let mut rng = crate::rules::examples::Rng::seeded(3);
        let body = crate::rules::examples::expand("{{lower:24}}", &mut rng).unwrap();
        assert_eq!(
            d.rule_ids_found_in(&format!("t = 'toy_{body}'")),
            ["toy-token"]
        );
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

    /// Text that holds no keyword of any built-in rule and cannot be part
    /// of a credential: what a minified line is padded with below.
    fn keyword_free_filler(rng: &mut crate::rules::examples::Rng, len: usize) -> String {
        const PUNCTUATION: &[u8] = b"(){};,.=+ ";
        (0..len)
            .map(|_| PUNCTUATION[rng.below(PUNCTUATION.len())] as char)
            .collect()
    }

    /// A minified bundle's line, megabytes long: each rule's regex runs
    /// near its keywords only, and finds there what a search of the whole
    /// line finds. Every built-in example whose rule's keyword it holds,
    /// alone on a long line at a random place, the filler around it longer
    /// or shorter than the search reaches.
    #[test]
    fn a_long_line_is_searched_around_its_keywords_with_the_same_findings() {
        use crate::rules::examples::{expand, Rng};
        let windowed = Detector::new(RuleSet::builtin().unwrap(), Profile::Bulk);
        let mut whole = Detector::new(RuleSet::builtin().unwrap(), Profile::Bulk);
        whole.window_long_lines = false;
        let mut rng = Rng::seeded(11);
        let (mut lines, mut found) = (0, 0);
        for spec in crate::rules::BUILTIN_RULES.iter().filter(|r| !r.multiline) {
            for template in spec.examples.iter() {
                let example = expand(template, &mut rng).unwrap();
                let lower = example.to_ascii_lowercase();
                if example.contains('\n')
                    || !spec
                        .keywords
                        .iter()
                        .any(|k| lower.contains(&k.to_ascii_lowercase()))
                {
                    continue;
                }
                let before = rng.below(12_000);
                let after = 4_200 + rng.below(12_000);
                let line = format!(
                    "x\n{}{example}{}\ny\n",
                    keyword_free_filler(&mut rng, before),
                    keyword_free_filler(&mut rng, after)
                );
                let (mut a, mut b) = (Vec::new(), Vec::new());
                windowed.scan_into(&line, 1, &mut a);
                whole.scan_into(&line, 1, &mut b);
                assert_eq!(a, b, "rule {}, {before} bytes before", spec.id);
                lines += 1;
                found += a.len();
            }
        }
        assert!(lines > 100 && found > 50, "{lines} lines, {found} findings");
    }

    /// On a line longer than a line of code, a keyword names the provider
    /// within `MAX_CODE_LINE` bytes of the match, not megabytes away; the
    /// bytes just outside a window still decide `\b`.
    #[test]
    fn on_a_long_line_a_keyword_counts_near_the_match() {
        let d = detector(
            "[[rules]]\nid='tk'\ndescription='d'\nregex='\\b(tk[0-9a-f]{8})\\b'\nkeywords=['toyco']\n",
        );
        let key = ["tk12", "34ab", "cd"].concat();
        let found = |gap: usize, before_key: &str| {
            let (pad, filler) = (" ".repeat(gap), " ".repeat(9000));
            let line = format!("{filler}{before_key}{key}{pad}toyco{filler}\n");
            let mut out = Vec::new();
            d.scan_into(&line, 1, &mut out);
            out.len()
        };
        assert_eq!(found(100, " "), 1);
        assert_eq!(found(20_000, " "), 0);
        // The window around the keyword starts `MAX_CODE_LINE` + the
        // longest match (10) before it: a key right there is found, one a
        // byte farther is not, and one glued to a letter just outside the
        // window is not a word, as on the whole line.
        let edge = generic::MAX_CODE_LINE;
        assert_eq!(found(edge, " "), 1);
        assert_eq!(found(edge, "a"), 0);
        assert_eq!(found(edge + 1, " "), 0);
        // A short line: the keyword anywhere on it.
        let mut out = Vec::new();
        d.scan_into(&format!("toyco{} {key}\n", " ".repeat(3000)), 1, &mut out);
        assert_eq!(out.len(), 1);
    }

    /// A documented example is no rule's finding: python-gitlab's docs
    /// token under the GitLab rule, beside a token of the same shape.
    #[test]
    fn documented_examples_are_no_rules_finding() {
        use crate::rules::examples::{alphabet, random_string, Rng};
        let d = Detector::new(RuleSet::builtin().unwrap(), Profile::Bulk);
        let found = |token: &str| {
            let mut out = Vec::new();
            d.scan_into(
                &format!("gq = gitlab.GraphQL(token='{token}')\n"),
                1,
                &mut out,
            );
            out.iter()
                .map(|m| d.rules()[m.rule].id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            found(&["glpat-", "JVNSESs8", "EwWRx5yDxM5q"].concat()),
            [""; 0]
        );
        let body = random_string(alphabet("b62").unwrap(), 20, &mut Rng::seeded(5));
        assert_eq!(found(&format!("glpat-{body}")), ["gitlab-token"]);
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

    fn b64(text: &str) -> String {
        crate::decode::encode_base64(text.as_bytes())
    }

    /// Each encoding counts towards the bound: base64 under percent-encoding
    /// is found, the same percent-encoded twice is not.
    #[test]
    fn decoding_stops_at_the_depth_bound() {
        let key = ["toy", "ab12cd34"].join("_");
        let encoded = b64(&key);
        assert!(encoded.starts_with('d'), "{encoded}");
        let d = detector(TOY);
        let found = |text: &str| {
            let mut out = Vec::new();
            d.scan_into(text, 1, &mut out);
            out.into_iter().map(|m| m.encodings).collect::<Vec<_>>()
        };
        // `%64` is `d`: the base64 token appears once the line is decoded.
        let once = format!("u = %64{}", &encoded[1..]);
        assert_eq!(found(&once), [vec![Encoding::Percent, Encoding::Base64]]);
        let twice = format!("u = %2564{}", &encoded[1..]);
        assert!(found(&twice).is_empty());
    }

    /// A hex token, a percent-encoded line and a string-escaped one, each
    /// reported where it is written, with what was inside.
    #[test]
    fn each_encoding_is_decoded_and_reported_where_written() {
        let key = ["toy", "ab12cd34"].join("_");
        let d = detector(TOY);
        let report = |text: &str| {
            let mut out = Vec::new();
            d.scan_into(text, 1, &mut out);
            out.iter()
                .map(|m| (m.column, m.secret.clone(), m.encodings.clone()))
                .collect::<Vec<_>>()
        };
        let hex = crate::decode::encode_hex(key.as_bytes());
        let secret = key[4..].to_string();
        assert_eq!(
            report(&format!("v = {hex}")),
            [(5, secret.clone(), vec![Encoding::Hex])]
        );
        let escaped = format!("s = \"\\u0074{}\"", &key[1..]);
        assert_eq!(
            report(&escaped),
            [(15, secret.clone(), vec![Encoding::StringEscapes])]
        );
        let percent = format!("u = a%20b {}%5F{}", &key[..3], &key[4..]);
        assert_eq!(
            report(&percent),
            [(17, secret.clone(), vec![Encoding::Percent])]
        );
        // An escape elsewhere on the line: the key is written out, and the
        // plain pass alone reports it.
        assert_eq!(report(&format!("a%20b {key}")), [(11, secret, vec![])]);
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
