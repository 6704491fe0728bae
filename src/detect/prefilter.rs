//! The keyword stage: which rules may match on which lines.
//!
//! One keyword searcher over every rule's keywords (see [`keywords`]) finds
//! the lines worth running a rule's regex on; rules without keywords run
//! on every line.
//!
//! [`keywords`]: super::keywords

use std::collections::HashMap;
use std::sync::OnceLock;

use super::keywords::KeywordSearch;
use crate::decode::{escaped_line_starts, Encoding};
use crate::rules::{Profile, Rule, Text};

/// The pseudo rule indices, after every real rule's, of a line worth
/// decoding in one encoding (see `Detector::scan_decoded`): one that holds
/// a provider keyword in base64 or hex, or a percent or string escape.
const DECODERS: [Encoding; 4] = [
    Encoding::Base64,
    Encoding::Hex,
    Encoding::Percent,
    Encoding::StringEscapes,
];
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

/// Keywords shorter than this are not looked for in base64: their encoded
/// form is too short to be rare in base64 text.
const MIN_ENCODED_KEYWORD: usize = 4;

/// Rule keywords, deduplicated and lower-cased, and the rules each came
/// from; the profile's searcher is built on first use, so that a commit
/// that adds nothing scannable never pays for it.
pub struct Prefilter {
    /// Lower-cased keywords, one per searcher pattern.
    patterns: Vec<Text>,
    /// For each keyword pattern, the rules that listed it.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every line.
    unfiltered_rules: Vec<usize>,
    profile: Profile,
    search: OnceLock<KeywordSearch>,
}

impl Prefilter {
    pub fn new(rules: &[Rule], profile: Profile) -> Prefilter {
        let mut patterns: Vec<Text> = Vec::new();
        let mut pattern_index: HashMap<Text, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut unfiltered_rules = Vec::new();
        let mut add = |keyword: Text, index: usize| {
            // Built-in keywords are mostly lower case already: borrowed,
            // not copied.
            let keyword = match keyword.bytes().any(|b| b.is_ascii_uppercase()) {
                true => Text::Owned(keyword.to_ascii_lowercase()),
                false => keyword,
            };
            match pattern_index.get(&keyword) {
                Some(&i) if keyword_rules[i].contains(&index) => {}
                Some(&i) => keyword_rules[i].push(index),
                None => {
                    pattern_index.insert(keyword.clone(), patterns.len());
                    patterns.push(keyword);
                    keyword_rules.push(vec![index]);
                }
            }
        };
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                unfiltered_rules.push(index);
            }
            for keyword in rule.keywords.iter() {
                add(keyword.clone(), index);
                // A provider's key, base64- or hex-encoded (a Kubernetes
                // Secret's data, a config blob): its keyword is in the
                // encoding too.
                if !rule.generic && keyword.len() >= MIN_ENCODED_KEYWORD {
                    for encoding in [Encoding::Base64, Encoding::Hex] {
                        for encoded in encoding.keyword_forms(keyword.as_bytes()) {
                            add(Text::Owned(encoded), decoder_index(encoding));
                        }
                    }
                }
            }
        }
        Prefilter {
            patterns,
            keyword_rules,
            unfiltered_rules,
            profile,
            search: OnceLock::new(),
        }
    }

    /// (line start offset, rule index) pairs worth running a regex on,
    /// sorted, without duplicates.
    pub fn candidates(&self, rules: &[Rule], bytes: &[u8]) -> Vec<(usize, usize)> {
        self.counted_candidates(rules, bytes).0
    }

    /// [`Prefilter::candidates`], and how many keyword hits they came from.
    pub fn counted_candidates(&self, rules: &[Rule], bytes: &[u8]) -> (Vec<(usize, usize)>, usize) {
        let mut candidates = Vec::new();
        let search = self.search.get_or_init(|| {
            let patterns: Vec<&[u8]> = self.patterns.iter().map(|p| p.as_bytes()).collect();
            KeywordSearch::new(&patterns, self.profile)
        });
        // Hits in order of position, so that each line start is found by
        // searching back only as far as the previous hit: a long line
        // without newlines (minified code) is not searched back once per
        // keyword hit.
        let mut hits: Vec<(usize, usize)> = Vec::new();
        search.for_each_match(bytes, |start, pattern| hits.push((start, pattern)));
        hits.sort_unstable();
        let keyword_hits = hits.len();
        let (mut line_start, mut searched_to) = (0, 0);
        for (start, pattern) in hits {
            if let Some(i) = memchr::memrchr(b'\n', &bytes[searched_to..start]) {
                line_start = searched_to + i + 1;
            }
            searched_to = start;
            let hit = &bytes[start..start + self.patterns[pattern].len()];
            for &rule in &self.keyword_rules[pattern] {
                if decoder(rule).is_some() {
                    candidates.push((line_start, rule));
                    continue;
                }
                // A case-sensitive rule can only match where its keyword
                // appears as written (`AKIA`, not `akia`).
                let rule_ref = &rules[rule];
                if rule_ref.case_sensitive_keywords
                    && !rule_ref.keywords.iter().any(|k| k.as_bytes() == hit)
                {
                    continue;
                }
                candidates.push((line_start, rule));
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
        (candidates, keyword_hits)
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
