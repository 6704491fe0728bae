//! From a rule as written ([`RuleSpec`]) to a rule ready to run ([`Rule`]):
//! the one converter, and the regex builds, each made on first use.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::Input;

use super::checksum::Checksum;
use super::required_run::{self, RequiredRun};
use super::spec::{RuleSpec, Text, Texts};
use super::widen;
use crate::decode::Decoding;

/// Compiled regexes larger than this are refused, so that a user rule cannot
/// make every commit slow.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// What a scan is tuned for, chosen once by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// A few lines (the hook): engines that build in microseconds. Rule
    /// regexes are NFAs run by a backtracker or the PikeVM, lines are
    /// first ruled out by the widened regex (see [`widen`]), and keywords
    /// are found by an NFA that needs no DFA build.
    Hook,
    /// Full scans and history, or a large staged change: engines that are
    /// slower to build and fastest per megabyte (lazy DFAs for the rules,
    /// a keyword DFA walked in lanes).
    Bulk,
}

/// A rule ready to run. Its regexes are compiled on first use: a commit
/// that touches one line should not pay for building 150 automata.
#[derive(Debug)]
pub struct Rule {
    pub id: Text,
    pub description: Text,
    pub keywords: Texts,
    pub entropy: Option<f64>,
    pub max_len: Option<usize>,
    pub checksum: Option<Checksum>,
    pub decode: Option<Decoding>,
    pub generic: bool,
    pub password: bool,
    pub multiline: bool,
    pub env_var: Option<Text>,
    /// Whether the regex matches its keywords case-sensitively, worked out
    /// on first use (see [`Rule::case_sensitive_keywords`]).
    case_sensitive_keywords: OnceLock<bool>,
    /// Its place in `BUILTIN_RULES`, for a built-in rule: build.rs worked
    /// out its share of the keyword table there.
    pub builtin: Option<usize>,
    pattern: Text,
    allow_patterns: Texts,
    allow_match_patterns: Texts,
    /// One build per profile, each made on first use.
    hook: OnceLock<CompiledRule>,
    bulk: OnceLock<CompiledRule>,
    /// The allow regexes, built on first use, once for both profiles.
    allowed: OnceLock<Vec<Regex>>,
    /// The allow-match regexes, likewise.
    allowed_matches: OnceLock<Vec<Regex>>,
    /// The widened pattern: written by build.rs for a built-in rule, else
    /// worked out from the pattern on first use.
    widened_pattern: WidenedPattern,
    /// The widened prefilter (see [`widen`]), built on first use; `None`
    /// inside when the pattern has nothing worth widening.
    widened: OnceLock<Option<regex_automata::meta::Regex>>,
    /// The widened prefilter of bulk scans (see
    /// [`widen::widened_pattern_for_bulk`]), built on first use.
    bulk_widened: OnceLock<Option<regex_automata::meta::Regex>>,
    /// Whether every match sets the `name` group, worked out on first use.
    names_every_match: OnceLock<bool>,
    /// The longest match the regex can make, if bounded, worked out on
    /// first use.
    longest_match: OnceLock<Option<usize>>,
    /// The run of bytes every match holds (see [`required_run`]): written
    /// by build.rs for a built-in rule, else worked out on first use.
    required_run: OnceLock<Option<RequiredRun>>,
}

/// Where a rule's widened pattern comes from.
#[derive(Debug, Clone, Copy)]
enum WidenedPattern {
    /// A user's rule: widened on first use.
    FromPattern,
    /// A built-in rule, widened when the crate was built.
    Built(Option<&'static str>),
}

/// The parts of a rule that cost time to build.
#[derive(Debug)]
pub struct CompiledRule {
    pub regex: regex_automata::meta::Regex,
    /// Capture groups that may hold the secret, in order; the first that
    /// took part in a match is the secret (0 = the whole match).
    pub secret_groups: Vec<usize>,
}

impl Rule {
    /// The rule, ready to run, its regexes left to be compiled on first use
    /// (the built-in rules, which the test suite compiles). Built-in text
    /// stays borrowed from the statics.
    pub fn new(spec: &RuleSpec) -> Result<Rule> {
        if let Some(problem) = spec.shape_error() {
            anyhow::bail!(problem);
        }
        Ok(Rule::unchecked(spec, WidenedPattern::FromPattern, None))
    }

    /// Built-in rule `index`, with the widened pattern and the required run
    /// build.rs worked out for it. build.rs already checked its shape: the
    /// hook does not again.
    pub fn builtin(index: usize) -> Rule {
        let spec = &super::BUILTIN_RULES[index];
        let widened = WidenedPattern::Built(super::BUILTIN_WIDENED[index]);
        let rule = Rule::unchecked(spec, widened, Some(index));
        rule.required_run
            .set(super::BUILTIN_REQUIRED_RUNS[index])
            .expect("fresh rule");
        rule
    }

    fn unchecked(spec: &RuleSpec, widened_pattern: WidenedPattern, builtin: Option<usize>) -> Rule {
        Rule {
            id: spec.id.clone(),
            description: spec.description.clone(),
            keywords: spec.keywords.clone(),
            entropy: spec.entropy,
            max_len: spec.max_len,
            checksum: spec.checksum,
            decode: spec.decode,
            generic: spec.generic,
            password: spec.password,
            multiline: spec.multiline,
            env_var: spec.env_var.clone(),
            case_sensitive_keywords: OnceLock::new(),
            builtin,
            pattern: spec.regex.clone(),
            allow_patterns: spec.allow.clone(),
            allow_match_patterns: spec.allow_match.clone(),
            hook: OnceLock::new(),
            bulk: OnceLock::new(),
            allowed: OnceLock::new(),
            allowed_matches: OnceLock::new(),
            widened_pattern,
            widened: OnceLock::new(),
            bulk_widened: OnceLock::new(),
            names_every_match: OnceLock::new(),
            longest_match: OnceLock::new(),
            required_run: OnceLock::new(),
        }
    }

    /// The rule with every regex checked and compiled now, naming the rule
    /// in every error (a user's rules, so that a bad one fails the load).
    pub fn compiled_now(spec: &RuleSpec) -> Result<Rule> {
        let rule = Rule::new(spec)?;
        if spec.multiline {
            // Checked as written: wrapped for anchoring (see `build`), a
            // broken pattern such as `a)|(b` would compile.
            compile_rule_regex(&spec.regex, Profile::Hook)
                .with_context(|| format!("rule `{}`: invalid regex", spec.id))?;
        }
        let compiled = build(&spec.id, &spec.regex, spec.multiline, Profile::Bulk)?;
        rule.bulk.set(compiled).expect("fresh rule");
        let allowed = build_allow(&spec.id, &spec.allow)?;
        rule.allowed.set(allowed).expect("fresh rule");
        let allowed_matches = build_allow(&spec.id, &spec.allow_match)?;
        rule.allowed_matches
            .set(allowed_matches)
            .expect("fresh rule");
        Ok(rule)
    }

    /// A case-sensitive regex that spells out each of its keywords can only
    /// match where a keyword appears exactly as written, so its keywords
    /// need only be looked for as written. Worked out on first use: the
    /// string searches over every rule were a tenth of the hook's start.
    pub fn case_sensitive_keywords(&self) -> bool {
        *self.case_sensitive_keywords.get_or_init(|| {
            !self.pattern.contains("(?i")
                && self
                    .keywords
                    .iter()
                    .all(|k| self.pattern.contains(k.as_ref()))
        })
    }

    /// The regexes compiled for `profile`, built on first call. Rules are
    /// validated when loaded ([`Rule::compiled_now`]) or by the built-in
    /// rule tests, so building cannot fail here.
    pub fn compiled(&self, profile: Profile) -> &CompiledRule {
        let slot = match profile {
            Profile::Hook => &self.hook,
            Profile::Bulk => &self.bulk,
        };
        slot.get_or_init(|| {
            let _timed = RegexBuildTimer::start();
            build(&self.id, &self.pattern, self.multiline, profile).unwrap_or_else(|e| {
                panic!(
                    "rule `{}` was validated but does not compile: {e:#}",
                    self.id
                )
            })
        })
    }

    /// Secrets matching one of these are not reported by this rule.
    pub fn allow_regexes(&self) -> &[Regex] {
        self.built_allow(&self.allowed, &self.allow_patterns)
    }

    /// Whole matches in which one of these is found are not reported.
    pub fn allow_match_regexes(&self) -> &[Regex] {
        self.built_allow(&self.allowed_matches, &self.allow_match_patterns)
    }

    fn built_allow<'a>(&self, slot: &'a OnceLock<Vec<Regex>>, patterns: &[Text]) -> &'a [Regex] {
        slot.get_or_init(|| {
            build_allow(&self.id, patterns).unwrap_or_else(|e| {
                panic!(
                    "rule `{}` was validated but does not compile: {e:#}",
                    self.id
                )
            })
        })
    }

    /// Whether the rule's regex may match `haystack`: `false` only when the
    /// run every match holds is missing, or the widened regex (which
    /// matches a superset) does not match. For a few lines, this is far
    /// cheaper than compiling the rule's own regex.
    /// Only matches inside `range` count; the bytes around it are context
    /// (for `^`, `\b`).
    pub fn may_match(&self, haystack: &[u8], range: Range<usize>) -> bool {
        let required = self
            .required_run
            .get_or_init(|| required_run::required_run(&self.pattern));
        if required.is_some_and(|run| !run.found_in(&haystack[range.clone()])) {
            return false;
        }
        let widened = self.widened.get_or_init(|| {
            let _timed = RegexBuildTimer::start();
            match self.widened_pattern {
                WidenedPattern::Built(pattern) => pattern.map(compile_widened),
                WidenedPattern::FromPattern => {
                    widen::widened_pattern(&self.pattern, self.multiline)
                        .map(|p| compile_widened(&p))
                }
            }
        });
        widened
            .as_ref()
            .is_none_or(|regex| regex.is_match(Input::new(haystack).range(range)))
    }

    /// Whether every match of the regex sets its `name` group.
    pub fn names_every_match(&self) -> bool {
        *self
            .names_every_match
            .get_or_init(|| widen::group_in_every_match(&self.pattern, "name"))
    }

    /// The longest match of the regex in bytes, if it is bounded.
    pub fn longest_match(&self) -> Option<usize> {
        *self
            .longest_match
            .get_or_init(|| widen::longest_match(&self.pattern))
    }

    /// [`Rule::may_match`] for bulk scans: a widened regex run as a DFA.
    pub fn may_match_in_bulk(&self, haystack: &[u8], range: Range<usize>) -> bool {
        let widened = self.bulk_widened.get_or_init(|| {
            let _timed = RegexBuildTimer::start();
            widen::widened_pattern_for_bulk(&self.pattern, self.multiline).map(|p| {
                compile_rule_regex(&p, Profile::Bulk)
                    .expect("a widened valid pattern compiles as the pattern did")
            })
        });
        // Without a widened form, the rule's own regex answers alone: most
        // keyword lines hold no match, and `is_match` needs no capture
        // slots and stops at the first match state.
        let input = Input::new(haystack).range(range);
        match widened {
            Some(regex) => regex.is_match(input),
            None => self.compiled(Profile::Bulk).regex.is_match(input),
        }
    }
}

static REGEX_BUILDS: AtomicU64 = AtomicU64::new(0);
static REGEX_BUILD_NANOS: AtomicU64 = AtomicU64::new(0);

/// How many rules compiled their regexes on first use, and the time it
/// took (for the timing breakdown).
pub fn regex_build_stats() -> (u64, Duration) {
    (
        REGEX_BUILDS.load(Ordering::Relaxed),
        Duration::from_nanos(REGEX_BUILD_NANOS.load(Ordering::Relaxed)),
    )
}

struct RegexBuildTimer(Instant);

impl RegexBuildTimer {
    fn start() -> RegexBuildTimer {
        RegexBuildTimer(Instant::now())
    }
}

impl Drop for RegexBuildTimer {
    fn drop(&mut self) {
        REGEX_BUILDS.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX);
        REGEX_BUILD_NANOS.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The regex syntax every rule is parsed with: over bytes, ASCII classes.
pub(super) fn syntax() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false)
}

/// A rule's regex, matched like every other (see [`compile_regex`]), built
/// for `profile`.
fn compile_rule_regex(pattern: &str, profile: Profile) -> Result<regex_automata::meta::Regex> {
    use regex_automata::meta;
    let config = meta::Config::new()
        .utf8_empty(false)
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .onepass_size_limit(Some(REGEX_SIZE_LIMIT))
        .dfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(REGEX_SIZE_LIMIT);
    let config = match profile {
        // The one-pass DFA only speeds up capture groups, which are read
        // once per match: not worth a fifth of the build time.
        Profile::Bulk => config.onepass(false),
        // A line or two per run: literal prefilters (up to a third of the
        // build time of the generic rules) would not pay for themselves.
        Profile::Hook => config
            .hybrid(false)
            .dfa(false)
            .onepass(false)
            .auto_prefilter(false),
    };
    meta::Builder::new()
        .syntax(syntax())
        .configure(config)
        .build(pattern)
        .map_err(|e| anyhow!("{e}"))
}

/// A regex that only answers "is there a match", built for compile speed:
/// an NFA run by the PikeVM, no DFAs.
pub(super) fn prefilter_config() -> regex_automata::meta::Config {
    use regex_automata::{meta, nfa::thompson::WhichCaptures};
    meta::Config::new()
        .which_captures(WhichCaptures::Implicit)
        .utf8_empty(false)
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid(false)
        .onepass(false)
        .auto_prefilter(false)
        .backtrack(true)
}

/// A widened pattern (see [`widen`]), compiled for speed of compiling.
pub(super) fn compile_widened(pattern: &str) -> regex_automata::meta::Regex {
    regex_automata::meta::Builder::new()
        .syntax(syntax())
        .configure(prefilter_config())
        .build(pattern)
        .expect("a widened pattern is printed from a parsed one and parses again")
}

fn build(id: &str, pattern: &str, multiline: bool, profile: Profile) -> Result<CompiledRule> {
    // The detector runs a multi-line rule from the start of a line with a
    // keyword hit, over the text that follows. Anchoring the match to start
    // on that line keeps the search from scanning ahead through the window
    // for a match that belongs to some later line.
    let anchored;
    let pattern = if multiline {
        anchored = format!("^[^\\n]*?(?:{pattern})");
        anchored.as_str()
    } else {
        pattern
    };
    let regex = compile_rule_regex(pattern, profile)
        .with_context(|| format!("rule `{id}`: invalid regex"))?;
    Ok(CompiledRule {
        secret_groups: secret_groups(&regex),
        regex,
    })
}

/// `secret`, or alternatives `secret_quoted`, `secret_bare`, ...: one
/// regex can find the value in several syntaxes. Else the first group,
/// else the whole match.
fn secret_groups(regex: &regex_automata::meta::Regex) -> Vec<usize> {
    let info = regex.group_info();
    let pattern = regex_automata::PatternID::ZERO;
    let named: Vec<usize> = info
        .pattern_names(pattern)
        .enumerate()
        .filter(|(_, name)| name.is_some_and(|n| n.starts_with("secret")))
        .map(|(i, _)| i)
        .collect();
    match named.is_empty() {
        false => named,
        true if info.group_len(pattern) > 1 => vec![1],
        true => vec![0],
    }
}

/// A rule's allow regexes, compiled.
fn build_allow(id: &str, allow: &[Text]) -> Result<Vec<Regex>> {
    allow
        .iter()
        .map(|a| compile_regex(a))
        .collect::<Result<Vec<_>>>()
        .with_context(|| format!("rule `{id}`: invalid allow regex"))
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
        .map_err(|e| anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> RuleSpec {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn bad_regex_names_the_rule() {
        let spec = spec("id='my-rule'\ndescription='d'\nregex='(unclosed'");
        let err = format!("{:#}", Rule::compiled_now(&spec).unwrap_err());
        assert!(err.contains("my-rule"), "{err}");
    }

    #[test]
    fn a_bad_allow_regex_fails_the_rule_when_loaded() {
        let spec = spec("id='r'\ndescription='d'\nregex='x(a)'\nallow=['(']");
        let err = format!("{:#}", Rule::compiled_now(&spec).unwrap_err());
        assert!(err.contains("rule `r`: invalid allow regex"), "{err}");
    }

    #[test]
    fn secret_group_prefers_the_named_group() {
        let spec = spec("id='r'\ndescription='d'\nregex='(a)(?P<secret>b)'");
        let rule = Rule::compiled_now(&spec).unwrap();
        assert_eq!(rule.compiled(Profile::Bulk).secret_groups, [2]);
        assert_eq!(rule.compiled(Profile::Hook).secret_groups, [2]);
    }
}
