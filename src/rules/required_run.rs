//! The cheapest stand-in for a rule's regex: a run of bytes that every
//! match must contain, such as the 40 hex digits of `[a-f0-9]{40}`.
//!
//! In the hook, a line with a rule's keyword compiled the rule's regex and
//! ran it; on keyword-dense code (`stripe_api_key = os.environ[...]`) that
//! was most of the hook's time, and almost never a match: the keyword is
//! there, the key is not. Whether a line holds `min` bytes in a row from a
//! class is one pass over it with a table lookup per byte, and needs no
//! regex at all. The run is worked out from the parsed pattern
//! (regex-syntax's HIR), for the built-in rules when the crate is built
//! (build.rs shares this file, so it uses nothing but regex-syntax).

use regex_syntax::hir::{Class, Hir, HirKind};

/// At least `min` bytes in a row, each in `class` (a 256-bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredRun {
    pub class: [u64; 4],
    pub min: u32,
}

/// A run that rules out less than this (in bits, see [`RequiredRun::bits`])
/// is not worth a pass over the line.
const WORTH_CHECKING_BITS: f64 = 2.0;

impl RequiredRun {
    /// Whether `haystack` holds the run. A match of the rule's regex in
    /// `haystack` implies it.
    pub fn found_in(&self, haystack: &[u8]) -> bool {
        let mut run = 0u32;
        for &byte in haystack {
            if self.has(byte) {
                run += 1;
                if run >= self.min {
                    return true;
                }
            } else {
                run = 0;
            }
        }
        false
    }

    fn has(&self, byte: u8) -> bool {
        self.class[usize::from(byte >> 6)] >> (byte & 63) & 1 == 1
    }

    /// How unlikely the run is in text, in bits: `min` printable ASCII
    /// characters, each drawn from the class with the chance of its share
    /// of the 95 printable ones. A class of every printable byte rules out
    /// nothing.
    fn bits(&self) -> f64 {
        let printable = (0x20u8..=0x7e).filter(|&b| self.has(b)).count();
        match printable {
            0 => f64::from(self.min) * 8.0,
            n => f64::from(self.min) * (95.0 / n as f64).log2(),
        }
    }

    /// Runs of one or the other: the union of the classes, the shorter
    /// length.
    fn either(self, other: RequiredRun) -> RequiredRun {
        let mut class = self.class;
        for (word, theirs) in class.iter_mut().zip(other.class) {
            *word |= theirs;
        }
        RequiredRun {
            class,
            min: self.min.min(other.min),
        }
    }

    /// The run that rules out more.
    fn stronger(self, other: RequiredRun) -> RequiredRun {
        match other.bits() > self.bits() {
            true => other,
            false => self,
        }
    }
}

/// The run every match of `pattern` contains, when one is worth checking;
/// `None` when there is none (or the pattern does not parse).
pub fn required_run(pattern: &str) -> Option<RequiredRun> {
    let hir = super::widen::parse(pattern)?;
    run_in(&hir).filter(|run| run.bits() >= WORTH_CHECKING_BITS)
}

/// A run that every match of `hir` contains.
fn run_in(hir: &Hir) -> Option<RequiredRun> {
    match hir.kind() {
        HirKind::Repetition(rep) if rep.min == 0 => None,
        HirKind::Repetition(rep) => match byte_class(&rep.sub) {
            // `min` copies of a one-byte class, side by side.
            Some(class) => Some(RequiredRun {
                class,
                min: rep.min,
            }),
            None => run_in(&rep.sub),
        },
        HirKind::Class(_) => byte_class(hir).map(|class| RequiredRun { class, min: 1 }),
        HirKind::Capture(cap) => run_in(&cap.sub),
        HirKind::Concat(subs) => subs.iter().filter_map(run_in).reduce(RequiredRun::stronger),
        // Every branch must hold a run for the alternation to.
        HirKind::Alternation(subs) => subs
            .iter()
            .map(run_in)
            .reduce(|a, b| Some(a?.either(b?)))
            .flatten(),
        // A keyword or a separator: the keyword stage looks for those.
        HirKind::Empty | HirKind::Literal(_) | HirKind::Look(_) => None,
    }
}

/// The bytes `hir` matches when it matches exactly one byte.
fn byte_class(hir: &Hir) -> Option<[u64; 4]> {
    let mut class = [0u64; 4];
    let mut add = |lo: u8, hi: u8| {
        for byte in lo..=hi {
            class[usize::from(byte >> 6)] |= 1 << (byte & 63);
        }
    };
    match hir.kind() {
        HirKind::Class(Class::Bytes(bytes)) => {
            bytes.iter().for_each(|r| add(r.start(), r.end()));
        }
        // Only ASCII ranges are one byte each.
        HirKind::Class(Class::Unicode(chars)) => {
            for range in chars.iter() {
                let (lo, hi) = (
                    u8::try_from(range.start()).ok()?,
                    u8::try_from(range.end()).ok()?,
                );
                if hi > 0x7f {
                    return None;
                }
                add(lo, hi);
            }
        }
        HirKind::Literal(literal) if literal.0.len() == 1 => add(literal.0[0], literal.0[0]),
        HirKind::Capture(cap) => return byte_class(&cap.sub),
        _ => return None,
    }
    Some(class)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pattern: &str) -> RequiredRun {
        required_run(pattern).expect("a run worth checking")
    }

    #[test]
    fn finds_the_longest_counted_class() {
        let hex = run(r"(?i)deepgram.{0,20}['\x22]([a-f0-9]{40})['\x22]");
        assert_eq!(hex.min, 40);
        assert!(hex.found_in(format!("key = \"{}\"", "0a".repeat(20)).as_bytes()));
        assert!(!hex.found_in(b"deepgram_api_key = os.environ.get(\"DEEPGRAM_API_KEY\")"));
        // A run cut short by another byte does not count.
        assert!(!hex.found_in(format!("{}x{}", "a".repeat(39), "b".repeat(39)).as_bytes()));
    }

    #[test]
    fn an_alternation_needs_a_run_in_every_branch() {
        let either = run("(?:[0-9]{30}|[A-Z]{20})");
        assert_eq!(either.min, 20);
        assert!(either.found_in("A".repeat(20).as_bytes()));
        assert!(either.found_in("1".repeat(20).as_bytes()));
        assert!(required_run("(?:[0-9]{30}|abc)").is_none());
    }

    #[test]
    fn optional_and_unparsable_parts_require_nothing() {
        assert!(required_run("x(?:[0-9]{30})?").is_none());
        assert!(required_run("[0-9]{0,30}").is_none());
        assert!(required_run("(unclosed").is_none());
        // Any printable byte: a run of them rules out nothing worth a pass.
        assert!(required_run("(?s:.){4}").is_none());
        // A repeated group still requires what one copy does.
        assert_eq!(run("(?:-[a-f0-9]{12}){2}").min, 12);
    }

    /// Randomized: on many small patterns and haystacks, a match of the
    /// pattern always comes with its run.
    #[test]
    fn a_match_always_holds_the_run() {
        let mut rng = crate::rules::examples::Rng::seeded(11);
        let pieces = [
            "[a-f0-9]{6}",
            "[A-Z]{3,}",
            "x",
            "(?:ab|[0-9]{4})",
            "[a-z0-9]{2,5}",
            "_",
            "(?i:k[e3]y){2}",
            "(?P<secret>[A-Za-z0-9]{5})",
            "\\d{3}",
            "[^a-z]{4}",
        ];
        let alphabet = b"abcdefxyzABCXYZ0123456789_-k3 ";
        let mut checked = 0;
        for _ in 0..400 {
            let pattern: String = (0..1 + rng.below(4))
                .map(|_| pieces[rng.below(pieces.len())])
                .collect();
            let Some(required) = required_run(&pattern) else {
                continue;
            };
            let regex = crate::rules::compile_regex(&pattern).unwrap();
            for _ in 0..200 {
                let haystack: Vec<u8> = (0..rng.below(24))
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect();
                if regex.is_match(&haystack) {
                    checked += 1;
                    assert!(
                        required.found_in(&haystack),
                        "{pattern:?} matches {:?} without its run",
                        String::from_utf8_lossy(&haystack)
                    );
                }
            }
        }
        assert!(checked > 1000, "too few matches to say anything: {checked}");
    }

    #[test]
    fn every_built_in_rule_example_holds_its_run() {
        let mut rng = crate::rules::examples::Rng::seeded(7);
        for spec in crate::rules::builtin_specs() {
            let Some(required) = required_run(&spec.regex) else {
                continue;
            };
            let strict = crate::rules::compile_regex(&spec.regex).unwrap();
            for template in spec.examples.iter().chain(spec.negative_examples.iter()) {
                let example = crate::rules::examples::expand(template, &mut rng).unwrap();
                if strict.is_match(example.as_bytes()) {
                    assert!(
                        required.found_in(example.as_bytes()),
                        "{}: an example the rule matches lacks the rule's run",
                        spec.id
                    );
                }
            }
        }
    }

    #[test]
    fn the_built_in_runs_were_worked_out_at_build_time_as_now() {
        let specs = crate::rules::builtin_specs();
        assert_eq!(specs.len(), crate::rules::BUILTIN_REQUIRED_RUNS.len());
        for (spec, built) in specs.iter().zip(crate::rules::BUILTIN_REQUIRED_RUNS) {
            assert_eq!(required_run(&spec.regex), *built, "rule {}", spec.id);
        }
        let with_a_run = crate::rules::BUILTIN_REQUIRED_RUNS
            .iter()
            .filter(|r| r.is_some())
            .count();
        assert!(
            with_a_run * 2 > specs.len(),
            "{with_a_run} of {}",
            specs.len()
        );
    }
}
