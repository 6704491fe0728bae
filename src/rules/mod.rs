//! Rules: what a credential looks like, kept as data.
//!
//! A [`RuleSpec`] is a rule as written, in the built-in files under `rules/`
//! or in a user's `.keyguard.toml` (one schema for both). [`Rule`] is the
//! compiled form the detector runs.

pub mod examples;

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::detect::checksum::Checksum;

/// Compiled regexes larger than this are refused, so that a user rule cannot
/// make every commit slow.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// The built-in rule files, one per family, embedded at compile time.
const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("rules/ai.toml", include_str!("../../rules/ai.toml")),
    ("rules/cloud.toml", include_str!("../../rules/cloud.toml")),
    ("rules/source-hosting.toml", include_str!("../../rules/source-hosting.toml")),
    ("rules/services.toml", include_str!("../../rules/services.toml")),
    ("rules/keys.toml", include_str!("../../rules/keys.toml")),
    ("rules/generic.toml", include_str!("../../rules/generic.toml")),
    ("rules/registries.toml", include_str!("../../rules/registries.toml")),
    ("rules/ci.toml", include_str!("../../rules/ci.toml")),
    ("rules/hosting.toml", include_str!("../../rules/hosting.toml")),
    ("rules/payments.toml", include_str!("../../rules/payments.toml")),
    ("rules/messaging.toml", include_str!("../../rules/messaging.toml")),
    ("rules/monitoring.toml", include_str!("../../rules/monitoring.toml")),
    ("rules/identity.toml", include_str!("../../rules/identity.toml")),
    ("rules/databases.toml", include_str!("../../rules/databases.toml")),
    ("rules/productivity.toml", include_str!("../../rules/productivity.toml")),
];

/// One rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier, lowercase words joined by `-`.
    pub id: String,
    /// One line saying what the rule finds.
    pub description: String,
    /// The pattern. The secret is the group named `secret` (or the first
    /// matching group whose name starts with `secret`), else the first
    /// group, else the whole match.
    pub regex: String,
    /// Literals, at least one of which must occur (ASCII case-insensitive)
    /// before the regex runs. A rule without keywords runs on every line.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy, in bits per character, of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Regexes: a secret matching any of them is not reported.
    #[serde(default)]
    pub allow: Vec<String>,
    /// An offline checksum the secret must carry (`base62-crc32`).
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// Treat this as a loose `name = value` rule: the value must also look
    /// random and not like a placeholder, identifier or variable look-up.
    #[serde(default)]
    pub generic: bool,
    /// The match may run past the end of the line it starts on (PEM blocks).
    #[serde(default)]
    pub multiline: bool,
    /// The environment variable people usually load this credential from,
    /// used in the hint.
    #[serde(default)]
    pub env_var: Option<String>,
    /// Lines that must be found. `{{...}}` templates are filled in with
    /// random characters at test time (see [`examples`]), so that the rule
    /// files never hold anything key-shaped themselves.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Lines that must not be found.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Where the format is documented.
    #[serde(default)]
    pub references: Vec<String>,
}

/// The top level of a rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

/// A rule ready to run. Its regexes are compiled on first use: a commit
/// that touches one line should not pay for building 150 automata.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub entropy: Option<f64>,
    pub checksum: Option<Checksum>,
    pub generic: bool,
    pub multiline: bool,
    pub env_var: Option<String>,
    pattern: String,
    allow_patterns: Vec<String>,
    compiled: OnceLock<CompiledRule>,
}

/// The parts of a rule that cost time to build.
#[derive(Debug)]
pub struct CompiledRule {
    pub regex: Regex,
    /// Capture groups that may hold the secret, in order; the first that
    /// took part in a match is the secret (0 = the whole match).
    pub secret_groups: Vec<usize>,
    pub allow: Vec<Regex>,
}

impl Rule {
    /// The compiled regexes, built on first call. Rules are validated when
    /// loaded ([`RuleSpec::compile`]) or by the built-in rule tests, so
    /// building cannot fail here.
    pub fn compiled(&self) -> &CompiledRule {
        self.compiled.get_or_init(|| {
            build(&self.id, &self.pattern, &self.allow_patterns)
                .unwrap_or_else(|e| panic!("rule `{}` was validated but does not compile: {e:#}", self.id))
        })
    }
}

fn build(id: &str, pattern: &str, allow: &[String]) -> Result<CompiledRule> {
    let regex = compile_regex(pattern).with_context(|| format!("rule `{id}`: invalid regex"))?;
    // `secret`, or alternatives `secret_quoted`, `secret_bare`, ...: one
    // regex can find the value in several syntaxes.
    let named: Vec<usize> = regex
        .capture_names()
        .enumerate()
        .filter(|(_, name)| name.is_some_and(|n| n.starts_with("secret")))
        .map(|(i, _)| i)
        .collect();
    let secret_groups = match named.is_empty() {
        false => named,
        true if regex.captures_len() > 1 => vec![1],
        true => vec![0],
    };
    let allow = allow
        .iter()
        .map(|a| compile_regex(a))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("rule `{id}`: invalid allow regex"))?;
    Ok(CompiledRule { regex, secret_groups, allow })
}

impl RuleSpec {
    /// Checks and compiles the rule now, naming it in every error (for
    /// rules from a user's configuration).
    pub fn compile(&self) -> Result<Rule> {
        let rule = self.compile_lazily()?;
        let compiled = build(&self.id, &self.regex, &self.allow)?;
        rule.compiled.set(compiled).expect("fresh rule");
        Ok(rule)
    }

    /// Checks the rule's shape but leaves its regexes to be compiled on
    /// first use (for the built-in rules, which the test suite compiles).
    pub fn compile_lazily(&self) -> Result<Rule> {
        check_id(&self.id)?;
        if self.keywords.iter().any(|k| k.is_empty()) {
            bail!("rule `{}`: keywords must not be empty strings", self.id);
        }
        Ok(Rule {
            id: self.id.clone(),
            description: self.description.clone(),
            keywords: self.keywords.clone(),
            entropy: self.entropy,
            checksum: self.checksum,
            generic: self.generic,
            multiline: self.multiline,
            env_var: self.env_var.clone(),
            pattern: self.regex.clone(),
            allow_patterns: self.allow.clone(),
            compiled: OnceLock::new(),
        })
    }
}

/// Compiles a pattern the way every rule and allow-list regex is compiled:
/// over bytes, with ASCII classes, with a bounded size.
///
/// Keys are ASCII. Unicode classes (`\w`, `\s`, case folding) would make
/// every automaton many times larger and slower to build and run, for no
/// gain in what is found.
pub fn compile_regex(pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if !ok {
        bail!("rule id `{id}` must be lowercase letters, digits and `-`");
    }
    Ok(())
}

/// Parses rule specs from a TOML document holding `[[rules]]` tables.
pub fn parse_rule_file(name: &str, text: &str) -> Result<Vec<RuleSpec>> {
    let file: RuleFile = toml::from_str(text).with_context(|| format!("in {name}"))?;
    Ok(file.rules)
}

/// Every built-in rule, as written.
pub fn builtin_specs() -> Vec<RuleSpec> {
    BUILTIN_RULE_FILES
        .iter()
        .flat_map(|(name, text)| {
            parse_rule_file(name, text)
                .unwrap_or_else(|e| panic!("built-in rule file is invalid: {e:#}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_every_rule_compiles() {
        let specs = builtin_specs();
        let mut seen = HashSet::new();
        for spec in &specs {
            assert!(seen.insert(spec.id.clone()), "rule id {} is not unique", spec.id);
            spec.compile().unwrap();
            assert!(!spec.keywords.is_empty(), "rule {} has no keywords", spec.id);
            assert!(!spec.examples.is_empty(), "rule {} has no examples", spec.id);
            assert!(!spec.negative_examples.is_empty(), "rule {} has no negative examples", spec.id);
        }
    }

    /// Every example of every rule is found by that rule, and no negative
    /// example is found by it. Examples are expanded with fresh random
    /// bodies several times, so a rule cannot pass by luck of one draw.
    #[test]
    fn every_rule_matches_its_examples_and_not_its_negatives() {
        let specs = builtin_specs();
        let detector = Detector::new(specs.iter().map(|s| s.compile().unwrap()).collect());
        let mut rng = examples::Rng::seeded(0x6b65_7967_7561_7264);
        let mut failures = Vec::new();
        for spec in &specs {
            for _round in 0..5 {
                for example in &spec.examples {
                    let line = examples::expand(example, &mut rng).unwrap();
                    let ids = detector.rule_ids_found_in(&line);
                    if !ids.iter().any(|id| id == &spec.id) {
                        failures.push(format!("{}: example not found: {example}", spec.id));
                    }
                }
                for negative in &spec.negative_examples {
                    let line = examples::expand(negative, &mut rng).unwrap();
                    if detector.rule_ids_found_in(&line).iter().any(|id| id == &spec.id) {
                        failures.push(format!("{}: negative example found: {negative}", spec.id));
                    }
                }
            }
        }
        failures.dedup();
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    /// The rule files themselves hold nothing a rule would report, so the
    /// repository stays clean under its own hook.
    #[test]
    fn rule_files_hold_no_literal_secrets() {
        let detector = Detector::new(builtin_specs().iter().map(|s| s.compile().unwrap()).collect());
        for (name, text) in BUILTIN_RULE_FILES {
            for (i, line) in text.lines().enumerate() {
                let ids = detector.rule_ids_found_in(line);
                assert!(ids.is_empty(), "{name}:{} is reported by {ids:?}", i + 1);
            }
        }
    }

    #[test]
    fn bad_regex_names_the_rule() {
        let spec: RuleSpec = toml::from_str("id='my-rule'\ndescription='d'\nregex='(unclosed'").unwrap();
        let err = format!("{:#}", spec.compile().unwrap_err());
        assert!(err.contains("my-rule"), "{err}");
    }

    #[test]
    fn secret_group_prefers_the_named_group() {
        let spec: RuleSpec =
            toml::from_str("id='r'\ndescription='d'\nregex='(a)(?P<secret>b)'").unwrap();
        assert_eq!(spec.compile().unwrap().compiled().secret_groups, [2]);
    }
}
