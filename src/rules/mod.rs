//! Rules: what a credential looks like, kept as data.
//!
//! A [`RuleSpec`] is a rule as written, in the built-in files under `rules/`
//! or in a user's `.keyguard.toml` (one schema for both, [`spec`]). [`Rule`]
//! is the form the detector runs ([`compile`]), and a [`RuleSet`] the rules
//! of one run, built-in and the user's merged.

pub mod builtin;
pub mod checksum;
pub mod compile;
pub mod der;
pub mod examples;
pub mod required_run;
pub mod spec;
pub mod widen;

use anyhow::{Context, Result};
use regex::bytes::Regex;

pub use builtin::{
    builtin_specs, parse_rule_file, BUILTIN_REQUIRED_RUNS, BUILTIN_RULES, BUILTIN_RULE_FILES,
    BUILTIN_WIDENED,
};
pub use compile::{compile_regex, regex_build_stats, CompiledRule, Profile, Rule};
pub use spec::{RuleSpec, Text};

/// The rules of one run, and the values never reported whatever the rule.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Secrets matching any of these are never reported (`[allow] values`).
    pub allowed_values: Vec<Regex>,
}

impl RuleSet {
    /// The built-in rules, their regexes left to be compiled on first use.
    pub fn builtin() -> Result<RuleSet> {
        RuleSet::new(&[], &[], &[])
    }

    /// The built-in rules with a configuration's applied: `user` rules
    /// added (replacing a built-in of the same id), `disabled` ids removed,
    /// `allowed_values` regexes never reported. Built-in rules are compiled
    /// on first use (the test suite compiles them all); the user's now, so
    /// that a bad one fails the load.
    pub fn new(
        user: &[RuleSpec],
        disabled: &[String],
        allowed_values: &[String],
    ) -> Result<RuleSet> {
        let builtin = BUILTIN_RULES
            .iter()
            .enumerate()
            .filter(|(_, b)| !user.iter().any(|u| u.id == b.id))
            .map(|(index, _)| Ok(Rule::builtin(index)));
        // Sized up front: a rule is large (its lazily built regexes), and
        // growing the vector by doubling copied them all seven times, a
        // seventh of the hook's start-up (callgrind).
        let mut rules = Vec::with_capacity(BUILTIN_RULES.len() + user.len());
        for rule in builtin.chain(user.iter().map(Rule::compiled_now)) {
            let rule = rule?;
            if !disabled.iter().any(|d| *d == rule.id) {
                rules.push(rule);
            }
        }
        let allowed_values = allowed_values
            .iter()
            .map(|v| {
                compile_regex(v).with_context(|| format!("[allow] values: invalid regex `{v}`"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RuleSet {
            rules,
            allowed_values,
        })
    }

    /// The given rules alone, each compiled now (tests, fuzzing, and
    /// `keyguard rules check` on a file).
    pub fn from_specs(specs: &[RuleSpec]) -> Result<RuleSet> {
        Ok(RuleSet {
            rules: specs
                .iter()
                .map(Rule::compiled_now)
                .collect::<Result<_>>()?,
            allowed_values: Vec::new(),
        })
    }
}
