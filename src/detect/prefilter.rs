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
use crate::rules::{Profile, Rule, Text};

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
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                unfiltered_rules.push(index);
            }
            for keyword in rule.keywords.iter() {
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
        let mut candidates = Vec::new();
        let search = self.search.get_or_init(|| {
            let patterns: Vec<&[u8]> = self.patterns.iter().map(|p| p.as_bytes()).collect();
            KeywordSearch::new(&patterns, self.profile)
        });
        search.for_each_match(bytes, |start, pattern| {
            let hit = &bytes[start..start + self.patterns[pattern].len()];
            let line_start = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
            for &rule in &self.keyword_rules[pattern] {
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
        });
        if !self.unfiltered_rules.is_empty() {
            let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
            for line_start in starts.filter(|&s| s < bytes.len()) {
                candidates.extend(self.unfiltered_rules.iter().map(|&rule| (line_start, rule)));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }
}
