//! `keyguard rules`: lists the rules in force, id and description; and
//! `keyguard rules check [FILE]`, which checks rules as the test suite checks
//! the built-in ones, so that users can check their own `.keyguard.toml`.
//!
//! For each rule: a well-formed, unique id; a regex (and allow regexes) that
//! compiles, with a capture group for the secret; every example found by the
//! rule, with the secret it captures holding the example's random part
//! (the `{{...}}` expansion, see `rules::examples`); no negative example
//! found. Examples run in every [`Profile`]. A problem is one line naming
//! the rule and the example by its number, never the example's text, which
//! in a user's file may be a real key.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::config::{Config, CONFIG_KIND};
use crate::detect::{Detector, Match, Profile};
use crate::repo_file::{read_text, Origin as FileOrigin};
use crate::rules::examples::{expand_with_parts, Rng};
use crate::rules::{builtin_specs, Rule, RuleSet, RuleSpec};
use crate::settings::Settings;
use crate::Outcome;

/// Each example is expanded this many times with fresh random parts, so
/// that a rule cannot pass by the luck of one draw. The generator is seeded:
/// the check is repeatable.
const ROUNDS: usize = 5;

/// FNV-1a, 64 bits: a stable seed from a rule id.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What is wrong with one rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    pub rule: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule `{}`: {}", self.rule, self.message)
    }
}

/// `keyguard rules`: the rules in force (the configuration applied).
pub fn list(settings: &Settings) -> Result<Outcome> {
    let context = super::Context::open_if_any();
    let (_, scanner) = super::load_scanner(
        settings,
        context.as_ref().and_then(super::Context::root),
        Profile::Bulk,
    )?;
    let mut out = std::io::stdout().lock();
    let rules = scanner.detector().rules();
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut write = || -> Result<()> {
        for rule in rules {
            writeln!(out, "{:width$}  {}", rule.id, rule.description)?;
        }
        let secret_file = "File whose name marks it as a secrets file (.env, id_rsa, *.key, ...)";
        writeln!(out, "{:width$}  {secret_file}", "secret-file")?;
        out.flush()?;
        Ok(())
    };
    super::ignore_closed_pipe(write())?;
    Ok(Outcome::Clean)
}

/// `keyguard rules check [FILE]`: the built-in rules, or the `[[rules]]`
/// of a configuration file. Problems go to stdout, one a line; an
/// unreadable or unparsable file is an error (exit 2).
pub fn check_file(file: Option<&Path>, out: &mut impl Write) -> Result<Outcome> {
    let (source, problems, count) = match file {
        Some(path) => {
            // Named on the command line: followed wherever it leads, but
            // still a regular file of bounded size.
            let text = read_text(path, CONFIG_KIND, FileOrigin::User)?;
            let config = Config::parse(&text, path)?;
            (
                path.display().to_string(),
                check(&config.rules),
                config.rules.len(),
            )
        }
        None => (
            "built-in rules".to_string(),
            check(builtin_specs()),
            builtin_specs().len(),
        ),
    };
    for problem in &problems {
        writeln!(out, "{source}: {problem}")?;
    }
    match problems.is_empty() {
        true => {
            writeln!(out, "{source}: {count} rule(s) checked, no problems")?;
            Ok(Outcome::Clean)
        }
        false => Ok(Outcome::Findings),
    }
}

/// Every problem of every rule in `specs`, checked together (as they would
/// be loaded), in order.
pub fn check(specs: &[RuleSpec]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |rule: &str, message: String| {
        problems.push(Problem {
            rule: rule.to_string(),
            message,
        })
    };
    let mut seen = HashSet::new();
    let mut rules = Vec::new();
    let mut checked = Vec::new();
    for spec in specs {
        if !seen.insert(spec.id.as_ref()) {
            problem(&spec.id, "the id is not unique".to_string());
        }
        match Rule::compiled_now(spec) {
            Ok(rule) => {
                if rule.compiled(Profile::Bulk).secret_groups == [0] {
                    problem(
                        &spec.id,
                        "the regex has no capture group for the secret".into(),
                    );
                }
                rules.push(rule);
                checked.push(spec);
            }
            // The error names the rule already.
            Err(e) => problem(
                &spec.id,
                format!("{e:#}")
                    .trim_start_matches(&format!("rule `{}`: ", spec.id))
                    .to_string(),
            ),
        }
    }
    let bulk = Detector::new(
        RuleSet {
            rules,
            allowed_values: Vec::new(),
        },
        Profile::Bulk,
    );
    let hook = bulk.with_profile(Profile::Hook);
    for detector in [&bulk, &hook] {
        for spec in &checked {
            // One generator per rule, seeded from its id: a rule's draws do
            // not depend on which rules failed, nor on the rules and
            // examples added before it.
            let mut rng = Rng::seeded(0x6b65_7967_7561_7264 ^ fnv1a(spec.id.as_bytes()));
            for _round in 0..ROUNDS {
                check_examples(spec, detector, &mut rng, &mut problems);
            }
        }
    }
    // The same problem seen in several rounds or both profiles is one line.
    let mut unique = HashSet::new();
    problems.retain(|p| unique.insert(p.clone()));
    problems
}

/// One round of the examples and negative examples of one rule, through
/// `detector`.
fn check_examples(
    spec: &RuleSpec,
    detector: &Detector,
    rng: &mut Rng,
    problems: &mut Vec<Problem>,
) {
    let profile = detector.profile();
    let mut problem = |message: String| {
        problems.push(Problem {
            rule: spec.id.to_string(),
            message,
        })
    };
    let mut found = Vec::new();
    let by_this_rule = |m: &&Match| detector.rules()[m.rule].id == spec.id;
    for (n, template) in spec.examples.iter().enumerate() {
        let (line, parts) = match expand_with_parts(template, rng) {
            Ok(expanded) => expanded,
            Err(e) => {
                problem(format!("example {}: {e:#}", n + 1));
                continue;
            }
        };
        found.clear();
        detector.scan_into(&line, 1, &mut found);
        let mut secrets = found.iter().filter(by_this_rule).peekable();
        if secrets.peek().is_none() {
            problem(format!("example {} is not found ({profile:?})", n + 1));
            continue;
        }
        // The secret holds a random part (`ghp_` and its random body), or
        // lies inside one (the last 40 characters of a longer token).
        let is_random_part = |m: &Match| {
            let (start, end) = m.span;
            parts
                .iter()
                .any(|p| (start <= p.start && p.end <= end) || (p.start <= start && end <= p.end))
        };
        if !parts.is_empty() && !secrets.any(is_random_part) {
            problem(format!(
                "example {}: the captured secret is not the example's random part",
                n + 1
            ));
        }
    }
    for (n, template) in spec.negative_examples.iter().enumerate() {
        let line = match expand_with_parts(template, rng) {
            Ok((line, _)) => line,
            Err(e) => {
                problem(format!("negative example {}: {e:#}", n + 1));
                continue;
            }
        };
        found.clear();
        detector.scan_into(&line, 1, &mut found);
        if found.iter().any(|m| by_this_rule(&m)) {
            problem(format!("negative example {} is found ({profile:?})", n + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(text: &str) -> Vec<RuleSpec> {
        crate::rules::parse_rule_file("test", text).unwrap()
    }

    /// Every built-in rule passes, in every profile: the rule files'
    /// examples are the detector's tests.
    #[test]
    fn every_built_in_rule_passes_the_check() {
        let problems: Vec<String> = check(builtin_specs())
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }

    #[test]
    fn finds_each_kind_of_problem() {
        let problems = check(&specs(
            r#"
            [[rules]]
            id = "Bad_Id"
            description = "d"
            regex = 'x(a)'
            [[rules]]
            id = "twice"
            description = "d"
            regex = 'tw_([a-z]{8})'
            keywords = ["tw_"]
            examples = ["tw_{{lower:8}}"]
            [[rules]]
            id = "twice"
            description = "d"
            regex = 'tw_[a-z]{8}'
            [[rules]]
            id = "broken"
            description = "d"
            regex = '(unclosed'
            [[rules]]
            id = "misses"
            description = "d"
            regex = 'ms_([0-9]{8})'
            keywords = ["ms_"]
            examples = ["ms_{{lower:8}}"]
            negative_examples = ["ms_{{digits:8}}"]
            [[rules]]
            id = "too-little"
            description = "d"
            regex = '(tl_)[a-z]{8}'
            keywords = ["tl_"]
            examples = ["tl_{{lower:8}}"]
            "#,
        ));
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
        assert!(has("rule `Bad_Id`: rule id `Bad_Id` must be"), "{lines:#?}");
        assert!(has("rule `twice`: the id is not unique"), "{lines:#?}");
        assert!(
            has("rule `twice`: the regex has no capture group"),
            "{lines:#?}"
        );
        assert!(has("rule `broken`: invalid regex"), "{lines:#?}");
        assert!(
            has("rule `misses`: example 1 is not found (Bulk)"),
            "{lines:#?}"
        );
        assert!(
            has("rule `misses`: negative example 1 is found"),
            "{lines:#?}"
        );
        assert!(
            has("rule `too-little`: example 1: the captured secret is not the example's random part"),
            "{lines:#?}"
        );
        assert!(!has("rule `twice`: example"), "{lines:#?}");
    }

    #[test]
    fn a_good_rule_has_no_problems() {
        let problems = check(&specs(
            r#"
            [[rules]]
            id = "toy"
            description = "toy token"
            regex = '\btoy_([a-z0-9]{8})\b'
            keywords = ["toy_"]
            examples = ['key = "toy_{{lownum:8}}"']
            negative_examples = ["toy_short"]
            "#,
        ));
        assert!(problems.is_empty(), "{problems:?}");
    }
}
