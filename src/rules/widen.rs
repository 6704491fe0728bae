//! A cheap stand-in for a rule's regex, to rule out lines before paying for
//! the real one (the hook profile only).
//!
//! Counted repetitions set the cost of compiling a regex: `[A-Za-z0-9_-]{10,4000}`
//! becomes four thousand NFA states, and the JWT rule took 2 ms to compile.
//! The hook scans a few lines; when one holds a keyword, compiling the
//! rule can cost more than everything else the hook does. Widening every
//! large `{m,n}` to `{m,}` gives a regex that matches wherever the original
//! does (and more), and compiles in a small fraction of the time. A line it
//! does not match cannot match the rule. The rewrite works on the parsed
//! pattern (regex-syntax's HIR), so escapes and classes need no care.
//! `benches/detector.rs` (`widen/*`) measures what it saves.
//!
//! Walking the HIR costs about as much as compiling the widened regex, so
//! the built-in rules are widened when the crate is built (build.rs shares
//! this file) and only a user's rules at run time. This file uses nothing
//! but regex-syntax, for that reason.

use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// Below this many optional copies, a repetition is left as it is.
const WORTH_WIDENING: u32 = 8;

/// Below this many optional copies in all, the widened regex compiles
/// barely faster than the rule's own (measured on the generic rule: 100
/// copies, 120 µs against 140 µs): the rule's own is built instead.
const WORTH_A_SECOND_REGEX: u64 = 150;

/// `pattern` parsed, with each large counted repetition `{m,n}` (lazy or
/// not) widened to `{m,}`, or `None` when widening would not save enough
/// to pay for compiling a second regex (or the pattern does not parse).
pub fn widen_counted_repetitions(pattern: &str) -> Option<Hir> {
    widen_if_it_removes(pattern, WORTH_A_SECOND_REGEX)
}

/// `pattern` widened, when that drops at least `worth` optional copies.
fn widen_if_it_removes(pattern: &str, worth: u64) -> Option<Hir> {
    let hir = parse(pattern)?;
    let mut removed = 0u64;
    let wide = widen(&hir, &mut removed);
    (removed >= worth).then_some(wide)
}

/// The widened pattern, as regex text, anchored to start on the first line
/// for a multi-line rule as the rule's own is; `None` when the rule is not
/// worth widening.
pub fn widened_pattern(pattern: &str, multiline: bool) -> Option<String> {
    widened_pattern_removing(pattern, multiline, WORTH_A_SECOND_REGEX)
}

/// The widened pattern for bulk scans, whenever any repetition is widened.
/// There the question is not compile time but the lazy DFA: counted
/// repetitions multiply its states (the generic rule's `{0,40}?` name,
/// `{0,30}` suffix and type), its cache fills, and the search falls back
/// to the PikeVM. Its widened form stays small and runs as a DFA; on the
/// real Python tree of benches/realcode the generic rule's 280,000 keyword
/// lines took 6.7 s through the rule's regex and 0.28 s through the widened
/// one first, then the rule's own on the 11% that passed.
pub fn widened_pattern_for_bulk(pattern: &str, multiline: bool) -> Option<String> {
    widened_pattern_removing(pattern, multiline, u64::from(WORTH_WIDENING))
}

fn widened_pattern_removing(pattern: &str, multiline: bool, worth: u64) -> Option<String> {
    let anchored;
    let pattern = match multiline {
        true => {
            anchored = format!("^[^\\n]*?(?:{pattern})");
            anchored.as_str()
        }
        false => pattern,
    };
    widen_if_it_removes(pattern, worth).map(|wide| wide.to_string())
}

/// Whether every match of `pattern` sets the capture group `name` (the
/// group is on every path through the pattern); `false` when it does not
/// parse.
pub fn group_in_every_match(pattern: &str, name: &str) -> bool {
    parse(pattern).is_some_and(|hir| always_sets(&hir, name))
}

/// The longest match `pattern` can make, in bytes, if it is bounded (no
/// `*`, `+` or open `{m,}`).
pub fn longest_match(pattern: &str) -> Option<usize> {
    parse(pattern)?.properties().maximum_len()
}

/// `pattern` parsed with the syntax every rule is parsed with
/// (`rules::compile::syntax`: bytes, ASCII classes), if it parses.
pub fn parse(pattern: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()
}

fn always_sets(hir: &Hir, name: &str) -> bool {
    match hir.kind() {
        HirKind::Capture(cap) => cap.name.as_deref() == Some(name) || always_sets(&cap.sub, name),
        HirKind::Concat(subs) => subs.iter().any(|s| always_sets(s, name)),
        HirKind::Alternation(subs) => subs.iter().all(|s| always_sets(s, name)),
        HirKind::Repetition(rep) => rep.min > 0 && always_sets(&rep.sub, name),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => false,
    }
}

/// `hir` with its large counted repetitions unbounded; `removed` adds up
/// the optional copies dropped.
fn widen(hir: &Hir, removed: &mut u64) -> Hir {
    match hir.kind() {
        HirKind::Repetition(rep) => {
            let sub = Box::new(widen(&rep.sub, removed));
            let max = match rep.max {
                Some(max) if max - rep.min >= WORTH_WIDENING => {
                    *removed += u64::from(max - rep.min);
                    None
                }
                max => max,
            };
            Hir::repetition(Repetition {
                min: rep.min,
                max,
                greedy: rep.greedy,
                sub,
            })
        }
        HirKind::Capture(cap) => Hir::capture(Capture {
            index: cap.index,
            name: cap.name.clone(),
            sub: Box::new(widen(&cap.sub, removed)),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(|s| widen(s, removed)).collect()),
        HirKind::Alternation(subs) => {
            Hir::alternation(subs.iter().map(|s| widen(s, removed)).collect())
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => hir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widened_regex(pattern: &str, multiline: bool) -> Option<regex_automata::meta::Regex> {
        widened_pattern(pattern, multiline).map(|p| super::super::compile::compile_widened(&p))
    }

    fn wide_matches(pattern: &str, haystack: &str) -> bool {
        widened_regex(pattern, false)
            .expect("worth widening")
            .is_match(haystack.as_bytes())
    }

    #[test]
    fn widens_large_counted_repetitions_only() {
        let long = format!("eyJ{}.xxxyy", "a".repeat(600));
        assert!(wide_matches(r"eyJ[A-Za-z0-9_-]{10,500}\.x{3}y{2,4}", &long));
        // The small counted repetitions stay bounded.
        assert!(!wide_matches(
            r"eyJ[A-Za-z0-9_-]{10,500}\.x{3}y{2,4}",
            "eyJaaaaaaaaaaaa.xxyy"
        ));
        assert!(wide_matches("[a-z]{0,100}?tok{0,60}", &"tokkk".repeat(40)));
        assert!(widen_counted_repetitions("ghp_[A-Za-z0-9]{36}").is_none());
        // Too little saved in all: not worth compiling a second regex.
        assert!(widen_counted_repetitions("[a-z]{0,40}?tok{0,60}").is_none());
    }

    #[test]
    fn leaves_escapes_and_classes_alone() {
        assert!(widen_counted_repetitions(r"\{10,500\}").is_none());
        assert!(widen_counted_repetitions(r"[{]10,500}").is_none());
        assert!(wide_matches(r"[]{]{0,199}", "]{"));
        assert!(wide_matches(r"[^]x]{1,600}", "abc"));
        assert!(wide_matches(r"\x{7B}a{0,500}", "{aa"));
        assert!(widen_counted_repetitions("é{0,200}").is_some());
    }

    #[test]
    fn a_group_is_in_every_match_only_when_every_path_sets_it() {
        let every = |pattern| group_in_every_match(pattern, "name");
        assert!(every("x(?P<name>a+)y"));
        assert!(every("(?:(?P<name>a)b)+"));
        assert!(every("(?:a|b)c(?P<outer>(?P<name>f))"));
        assert!(!every("(?P<name>a)?b"));
        assert!(!every("(?P<name>a)|b"));
        assert!(!every("(?P<name>a)*"));
        assert!(!every("(?P<other>a)"));
        assert!(group_in_every_match(
            &crate::rules::builtin_specs()
                .iter()
                .find(|s| s.id == "generic-secret-assignment")
                .unwrap()
                .regex,
            "name"
        ));
    }

    #[test]
    fn a_multiline_rule_is_anchored_to_its_first_line() {
        let wide = widened_regex("BEGIN[A-Z]{0,500}", true).expect("worth widening");
        assert!(wide.is_match(b"x BEGINAB"));
        assert!(!wide.is_match(b"x\nBEGINAB"));
    }

    #[test]
    fn every_built_in_rule_widens_to_a_regex_that_matches_its_examples() {
        let mut rng = crate::rules::examples::Rng::seeded(7);
        for spec in crate::rules::builtin_specs() {
            let Some(wide) = widened_regex(&spec.regex, false) else {
                continue;
            };
            let strict = crate::rules::compile_regex(&spec.regex).unwrap();
            for template in spec.examples.iter().chain(spec.negative_examples.iter()) {
                let example = crate::rules::examples::expand(template, &mut rng).unwrap();
                if strict.is_match(example.as_bytes()) {
                    assert!(
                        wide.is_match(example.as_bytes()),
                        "{}: the widened regex misses an example the rule matches",
                        spec.id
                    );
                }
            }
        }
    }

    #[test]
    fn the_built_in_rules_were_widened_at_build_time_as_now() {
        let specs = crate::rules::builtin_specs();
        assert_eq!(specs.len(), crate::rules::BUILTIN_WIDENED.len());
        for (spec, built) in specs.iter().zip(crate::rules::BUILTIN_WIDENED) {
            assert_eq!(
                widened_pattern(&spec.regex, spec.multiline).as_deref(),
                *built,
                "rule {}",
                spec.id
            );
        }
    }
}
