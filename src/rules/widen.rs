//! A cheap stand-in for a rule's regex, to rule out lines before paying for
//! the real one.
//!
//! Counted repetitions set the cost of compiling a regex: `[A-Za-z0-9_-]{10,4000}`
//! becomes four thousand NFA states, and the JWT rule took 2 ms to compile.
//! The hook scans a few lines; when one holds a keyword, compiling the
//! rule can cost more than everything else the hook does. Widening every
//! `{m,n}` to `{m,}` gives a regex that matches wherever the original does
//! (and more), and compiles in a small fraction of the time. A line it
//! does not match cannot match the rule.

/// `pattern` with each counted repetition `{m,n}` (and lazy `{m,n}?`)
/// widened to `{m,}`, or `None` when widening would not save enough to pay
/// for compiling a second regex.
///
/// Works on the pattern text: escapes (`\{`, `\x{7B}`) and character
/// classes (`[{]`) are skipped, so only real repetition operators change.
pub fn widen_counted_repetitions(pattern: &str) -> Option<String> {
    /// Below this many optional copies, a repetition is left as it is.
    const WORTH_WIDENING: u64 = 8;
    /// Below this many optional copies in all, the widened regex compiles
    /// barely faster than the rule's own (measured on the generic rule:
    /// 100 copies, 120 µs against 140 µs): the rule's own is built instead.
    const WORTH_A_SECOND_REGEX: u64 = 150;
    let bytes = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut removed_copies = 0u64;
    let mut class_depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                // An escape: copy it whole (`\x{..}` and `\u{..}` included).
                let len = escape_len(&bytes[i..]);
                out.push_str(&pattern[i..i + len]);
                i += len;
                continue;
            }
            b'[' => {
                class_depth += 1;
                out.push('[');
                i += 1;
                // A `]` first in a class (after an optional `^`) is literal.
                if bytes.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if bytes.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            b']' if class_depth > 0 => class_depth -= 1,
            b'{' if class_depth == 0 => {
                if let Some((min, max, len)) = counted_repetition(&bytes[i..]) {
                    if max.saturating_sub(min) >= WORTH_WIDENING {
                        out.push_str(&format!("{{{min},}}"));
                        removed_copies += max - min;
                    } else {
                        out.push_str(&pattern[i..i + len]);
                    }
                    i += len;
                    continue;
                }
            }
            _ => {}
        }
        // Copy one character (patterns may hold UTF-8 literals).
        let len = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + len]);
        i += len;
    }
    (removed_copies >= WORTH_A_SECOND_REGEX).then_some(out)
}

/// Length of the escape at the start of `bytes` (which starts with `\`).
fn escape_len(bytes: &[u8]) -> usize {
    match bytes.get(1) {
        None => 1,
        Some(b'x' | b'u' | b'U' | b'p' | b'P') if bytes.get(2) == Some(&b'{') => bytes
            .iter()
            .position(|&b| b == b'}')
            .map_or(bytes.len(), |end| end + 1),
        Some(&c) => 1 + utf8_len(c),
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// `{m,n}` at the start of `bytes`: (m, n, length of the text).
fn counted_repetition(bytes: &[u8]) -> Option<(u64, u64, usize)> {
    let end = bytes.iter().position(|&b| b == b'}')?;
    let inner = std::str::from_utf8(&bytes[1..end]).ok()?;
    let (min, max) = inner.split_once(',')?;
    let min: u64 = min.trim().parse().ok()?;
    let max: u64 = max.trim().parse().ok()?;
    Some((min, max, end + 1))
}

#[cfg(test)]
mod tests {
    use super::widen_counted_repetitions as widen;

    #[test]
    fn widens_large_counted_repetitions_only() {
        assert_eq!(
            widen("eyJ[A-Za-z0-9_-]{10,500}\\.x{3}y{2,4}").as_deref(),
            Some("eyJ[A-Za-z0-9_-]{10,}\\.x{3}y{2,4}")
        );
        assert_eq!(
            widen("[a-z]{0,100}?tok{0,60}").as_deref(),
            Some("[a-z]{0,}?tok{0,}")
        );
        assert_eq!(widen("ghp_[A-Za-z0-9]{36}"), None);
        // Too little saved in all: not worth compiling a second regex.
        assert_eq!(widen("[a-z]{0,40}?tok{0,60}"), None);
    }

    #[test]
    fn leaves_escapes_and_classes_alone() {
        assert_eq!(widen(r"\{10,500\}"), None);
        assert_eq!(widen(r"[{]10,500}"), None);
        assert_eq!(widen(r"[]{]{0,199}").as_deref(), Some(r"[]{]{0,}"));
        assert_eq!(widen(r"[^]x]{1,600}").as_deref(), Some(r"[^]x]{1,}"));
        assert_eq!(widen(r"\x{7B}a{0,500}").as_deref(), Some(r"\x{7B}a{0,}"));
        assert_eq!(widen("é{0,200}").as_deref(), Some("é{0,}"));
    }

    #[test]
    fn every_built_in_rule_widens_to_a_regex_that_matches_its_examples() {
        let mut rng = crate::rules::examples::Rng::seeded(7);
        for spec in crate::rules::builtin_specs() {
            let Some(wide) = widen(&spec.regex) else {
                continue;
            };
            let wide = crate::rules::compile_regex(&wide)
                .unwrap_or_else(|e| panic!("{}: widened regex does not compile: {e}", spec.id));
            let strict = crate::rules::compile_regex(&spec.regex).unwrap();
            for template in spec.examples.iter().chain(&spec.negative_examples) {
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
}
