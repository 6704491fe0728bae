//! Loose `name = value` rules: what makes their value a credential rather
//! than code or data, and, where a specific rule reports the same secret,
//! the specific rule's name kept.
//!
//! A loose rule's value counts only when it is a literal — a quoted string,
//! a config scalar, a header value — not an expression (a struct literal,
//! pointer, call, identifier, concatenation, interpolation, cast), not prose
//! (translations, messages), and not a value that is public or derived
//! (password hashes, public keys, ARNs, base64 of text). One lexical
//! classifier serves every file type: it reads the characters around the
//! name and the value, never a parser's view of one language.

use super::{Detector, Match};

impl Detector {
    /// Where a specific rule and a loose `name = value` rule report the same
    /// secret, keep only the specific one: it names the provider. Likewise
    /// a rule for an encoded field gives way to the key decoded from it. Where a
    /// specific rule rejected the value (`vetoed`), drop the generic match.
    /// Only `out[first_new..]` is considered.
    pub(super) fn drop_generic_overlaps(
        &self,
        out: &mut Vec<Match>,
        first_new: usize,
        vetoed: &[(usize, usize)],
    ) {
        let rules = self.rules();
        let new = &out[first_new..];
        let overlaps = |a: (usize, usize), b: (usize, usize)| a.0 < b.1 && b.0 < a.1;
        let overlaps_specific = |m: &Match| {
            new.iter()
                .any(|other| !rules[other.rule].generic && overlaps(other.span, m.span))
                || vetoed.iter().any(|&span| overlaps(span, m.span))
        };
        // A field rule that only says "an encoded value" (a Secret's data)
        // gives way to the provider key decoded from the same token.
        let overlaps_decoded = |m: &Match| {
            new.iter()
                .any(|other| !other.encodings.is_empty() && overlaps(other.span, m.span))
        };
        let keep: Vec<bool> = new
            .iter()
            .map(|m| {
                let rule = &rules[m.rule];
                let loose_twin = rule.generic && overlaps_specific(m);
                let encoded_twin =
                    rule.decode.is_some() && m.encodings.is_empty() && overlaps_decoded(m);
                !(loose_twin || encoded_twin)
            })
            .collect();
        let mut index = 0;
        out.retain(|_| {
            let kept = index < first_new || keep[index - first_new];
            index += 1;
            kept
        });
    }
}

/// Lines longer than this are minified bundles or source maps: loose rules
/// skip them (provider rules, which need no context, still run).
pub const MAX_CODE_LINE: usize = 4096;

/// Where a loose rule's value sits: the line, and the byte ranges of the
/// name and the value within it.
pub struct ValueSite<'a> {
    /// The text before the line (context: a doctest's prompt above it).
    pub preceding: &'a [u8],
    pub line: &'a [u8],
    pub name: Option<(usize, usize)>,
    pub value: (usize, usize),
}

/// Is the value a literal (a quoted string, a config scalar, a header
/// value), rather than an expression that computes one? One lexical
/// classifier for every file type: it reads only the characters around the
/// name and the value, the same in Go, Python, JavaScript, YAML or `.env`.
pub fn is_literal(site: &ValueSite<'_>) -> bool {
    let line = site.line;
    if line.len() > MAX_CODE_LINE {
        return false;
    }
    let (start, end) = site.value;
    let value = &line[start..end];
    if is_doc_comment(line)
        || is_doctest(site.preceding, line)
        || is_in_docstring(site.preceding, &line[..start])
    {
        return false;
    }
    if let Some((name_start, name_end)) = site.name {
        if !is_whole_key(line, name_start, name_end) || is_badge_token(line, name_start) {
            return false;
        }
        // A pair (`set("x-api-key", "…")`) is a header only with a quoted
        // name that a header could have, as a call's first argument:
        // `out.secret, "…"` is two arguments, `patch("stripe.api_key", "…")`
        // names an attribute (header names are words joined by `-`, never a
        // dotted path), and `{"secret", "…"}` is a row of a table (a test
        // vector's input and its expected output), as is `("password",
        // "…")`: a tuple's parenthesis follows no callee.
        let between = &line[name_end..start.saturating_sub(1).max(name_end)];
        let is_pair = between.contains(&b',') && !between.iter().any(|b| matches!(b, b'=' | b':'));
        let opens_call = line[..name_start.saturating_sub(1)]
            .trim_ascii_end()
            .strip_suffix(b"(")
            .and_then(|callee| callee.last())
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b')' | b']' | b'>'));
        if is_pair
            && (!matches!(line.get(name_end), Some(b'"' | b'\'' | b'`'))
                || line[name_start..name_end].contains(&b'.')
                || !opens_call)
        {
            return false;
        }
    }
    let opening = start.checked_sub(1).map(|i| line[i]);
    // The closing quote, escaped too: `\"value\"` inside a JSON string.
    let closing_at = |q: u8| match line.get(end) {
        Some(&b) if b == q => Some(end),
        Some(b'\\') if line.get(end + 1) == Some(&q) => Some(end + 1),
        _ => None,
    };
    let quote = opening
        .filter(|q| matches!(q, b'"' | b'\'' | b'`'))
        .and_then(|q| closing_at(q).map(|at| (q, at)));
    match quote {
        Some((q, close)) => {
            is_plain_string(value, q) && !continues_expression(&line[close + 1..]) && {
                let before = line[..start - 1].trim_ascii_end();
                // `f"…{x}…"`, `$"…"`, `"a" + "b"`: built, not written.
                !(before.ends_with(b"+")
                    || (is_interpolating_prefix(before) && value.contains(&b'{')))
            }
        }
        None => is_bare_scalar(value, &line[end..]),
    }
}

/// A documentation comment (`// …`, `/* …`, ` * …`, `<!-- …`, or `#`
/// followed by an indented example): loose values there are examples.
/// A commented-out assignment (`# API_KEY=…`) is not skipped.
fn is_doc_comment(line: &[u8]) -> bool {
    let line = line.trim_ascii_start();
    line.starts_with(b"//")
        || line.starts_with(b"/*")
        || line.starts_with(b"* ")
        || line == b"*"
        || line.starts_with(b"<!--")
        || line.starts_with(b"#  ")
}

/// A Python doctest (`>>> session.fetch_token(url)`) or the output printed
/// under it, up to the blank line that ends the example: documentation,
/// its values made up for the reader. Looks back at most a screenful.
fn is_doctest(preceding: &[u8], line: &[u8]) -> bool {
    const LOOKBACK_LINES: usize = 40;
    let is_prompt = |l: &[u8]| {
        let l = l.trim_ascii_start();
        l.starts_with(b">>> ") || l == b">>>"
    };
    if is_prompt(line) {
        return true;
    }
    if memchr::memmem::find(recent(preceding), b">>>").is_none() {
        return false; // the common case, found in one vector search
    }
    for above in lines_above(preceding, LOOKBACK_LINES) {
        if is_prompt(above) {
            return true;
        }
        if above.trim_ascii().is_empty() {
            return false;
        }
    }
    false
}

/// The end of `preceding` that the look-backs read: a screenful of lines
/// is well within it, unless lines are very long, when the check only
/// says "no docstring here" sooner.
fn recent(preceding: &[u8]) -> &[u8] {
    const LOOKBACK_BYTES: usize = 16 * 1024;
    &preceding[preceding.len().saturating_sub(LOOKBACK_BYTES)..]
}

/// The lines of `preceding`, the nearest first, at most `max` of them
/// (found with memrchr: this runs for every loose candidate).
fn lines_above(preceding: &[u8], max: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(preceding.strip_suffix(b"\n").unwrap_or(preceding));
    std::iter::from_fn(move || {
        let text = rest?;
        Some(match memchr::memrchr(b'\n', text) {
            Some(i) => {
                rest = Some(&text[..i]);
                &text[i + 1..]
            }
            None => {
                rest = None;
                text
            }
        })
    })
    .take(max)
}

/// Inside a Python docstring: the nearest triple quote above (within a
/// screenful) opens a bare string right under a `def`/`class` header or at
/// the top of the file. Documentation: its values
/// are examples (`access_token=sdf2…   # Body`). A string assigned to a
/// name (`KEY = """…`) is data, and is read.
fn is_in_docstring(preceding: &[u8], line_before_value: &[u8]) -> bool {
    const LOOKBACK_LINES: usize = 80;
    // Per line, without building a searcher: this runs for every loose
    // candidate, over up to 80 lines each.
    let triple = |l: &[u8]| {
        let (mut count, mut from) = (0, 0);
        while let Some(found) = memchr::memchr2(b'"', b'\'', &l[from..]) {
            let at = from + found;
            let q = l[at];
            if l.get(at + 1) == Some(&q) && l.get(at + 2) == Some(&q) {
                count += 1;
                from = at + 3;
            } else {
                from = at + 1;
            }
        }
        count
    };
    if triple(line_before_value) > 0 {
        return false; // opened or closed on this line: not a block docstring
    }
    let recent = recent(preceding);
    if memchr::memmem::find(recent, b"\"\"\"").is_none()
        && memchr::memmem::find(recent, b"'''").is_none()
    {
        return false; // the common case, found in two vector searches
    }
    let mut lines = lines_above(preceding, usize::MAX);
    let Some(opener) = lines.by_ref().take(LOOKBACK_LINES).find(|l| triple(l) > 0) else {
        return false;
    };
    let opener = opener.trim_ascii();
    // The opener line holds one triple quote, with at most a string prefix
    // (`r"""`) before it: a bare string that starts and stays open.
    let quote_at = opener
        .windows(3)
        .position(|w| w == b"\"\"\"" || w == b"'''")
        .expect("the line holds a triple quote");
    let bare = opener[..quote_at]
        .iter()
        .all(|b| matches!(b.to_ascii_lowercase(), b'r' | b'u' | b'b'))
        && quote_at <= 2;
    if !bare || triple(opener) != 1 {
        return false;
    }
    // Under a header (the last line of a signature: `def f(x):`,
    // `) -> None:`, `class A:`), or first in the file (after comments). A
    // closing quote alone on its line looks the same, under text.
    match lines.find(|l| {
        let l = l.trim_ascii();
        !l.is_empty() && !l.starts_with(b"#")
    }) {
        Some(header) => {
            let header = header.trim_ascii();
            header.ends_with(b":")
                && (header.starts_with(b"def ")
                    || header.starts_with(b"async def ")
                    || header.starts_with(b"class ")
                    || header.contains(&b')'))
        }
        None => true,
    }
}

/// `…/badge.svg?token=…`: a badge token, public by design (Codecov).
fn is_badge_token(line: &[u8], name_start: usize) -> bool {
    name_start > 0
        && matches!(line[name_start - 1], b'?' | b'&')
        && memchr::memmem::find(&line.to_ascii_lowercase(), b"badge").is_some()
}

/// A name that is the whole key: `"password": …` or `password = …`, not
/// the last word of a sentence in a string (`"…without a password.": …`,
/// `{"Set Password", …}`), nor the last part of a path (`/etc/passwd: …`,
/// a file and what was said about it).
fn is_whole_key(line: &[u8], start: usize, end: usize) -> bool {
    if start > 0 && line[start - 1] == b'/' {
        return false;
    }
    let after = line.get(end).copied();
    let closes = after.filter(|b| matches!(b, b'"' | b'\'' | b'`'));
    match closes {
        Some(q) => start > 0 && (line[start - 1] == q || line[start - 1] == b'\\'),
        None => true,
    }
}

/// After a closing quote: anything that makes the string part of a larger
/// expression (`+ x`, `.format(…)`, `% args`, `[0]`, another literal).
fn continues_expression(after: &[u8]) -> bool {
    let after = after.trim_ascii_start();
    // A quote next: adjacent literals (`"eyJ…" ".eyJ…"`), joined by the
    // compiler (Python, C), so the value is a piece.
    matches!(
        after.first(),
        Some(b'+' | b'.' | b'%' | b'[' | b'*' | b'"' | b'\'')
    ) && !after.starts_with(b"...")
}

/// `f"` / `rf"` (Python), `$"` (C#), `s"` (Scala): strings that interpolate.
fn is_interpolating_prefix(before: &[u8]) -> bool {
    let word_start = before
        .iter()
        .rposition(|b| !b.is_ascii_alphabetic() && *b != b'$')
        .map_or(0, |i| i + 1);
    let prefix = &before[word_start..];
    !prefix.is_empty()
        && prefix.len() <= 2
        && prefix
            .iter()
            .all(|b| matches!(b.to_ascii_lowercase(), b'f' | b'r' | b'$' | b's'))
}

/// A quoted value that is written out, not assembled, and not prose.
fn is_plain_string(value: &[u8], quote: u8) -> bool {
    const INTERPOLATIONS: &[&[u8]] = &[b"${", b"#{", b"{{", b"%s", b"%d", b"%(", b"{}", b"{0}"];
    if INTERPOLATIONS
        .iter()
        .any(|i| memchr::memmem::find(value, i).is_some())
    {
        return false;
    }
    if quote == b'`' && value.contains(&b'$') {
        return false;
    }
    !is_prose(value) && !is_markup(value)
}

/// Words, not a key: a translation, a message, a sentence, bytes written
/// as hex pairs. Keys are one token; a passphrase of plain words is the
/// one credential this lets through.
fn is_prose(value: &[u8]) -> bool {
    if value.iter().any(|b| !b.is_ascii()) {
        return true; // letters of other scripts: a translated string
    }
    let words: Vec<&[u8]> = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words.len() >= 3
        || (words.len() == 2
            && words.iter().all(|w| {
                w.iter()
                    .all(|b| b.is_ascii_alphabetic() || b.is_ascii_punctuation())
            }))
}

/// HTML or XML markup (highlighted code in rendered docs).
fn is_markup(value: &[u8]) -> bool {
    value.contains(&b'<') && value.contains(&b'>')
}

/// An unquoted value is a literal where a config format puts one: alone up
/// to the end of the line or a comment (`.env`, YAML, INI). Followed by
/// more code (`credProvider,`, `&cobra.Command{`), it is an expression.
fn is_bare_scalar(value: &[u8], after: &[u8]) -> bool {
    let after = after.trim_ascii_start();
    let ends_line = after.is_empty() || after.starts_with(b"#") || after.starts_with(b"//");
    if !ends_line {
        return false;
    }
    // A reference, pointer, cast, negation or collection, not a value.
    if matches!(value.first(), Some(b'&' | b'*' | b'(' | b'!' | b'[' | b'{')) {
        return false;
    }
    !super::allowlist::is_call(value)
}

/// Made up at a keyboard: a sequence or a repeated piece, or the marks of
/// typing (`randomness::is_typed_by_hand`). For values found decoded (a
/// Basic header's password, a Kubernetes Secret's field).
pub fn is_made_up(value: &[u8]) -> bool {
    is_patterned(value) || super::randomness::is_typed_by_hand(value)
}

/// Values that are not credentials whatever their name: published hashes
/// and public keys, identifiers that only look random, and base64 of text.
pub fn is_known_non_secret(value: &[u8]) -> bool {
    is_code(value)
        || is_file_name(value)
        || is_unsigned_jwt(value)
        || is_made_up(value)
        || reads_as_words(value)
        || is_password_hash(value)
        || is_ssh_public_key(value)
        || is_resource_name_or_time(value)
        || is_documented_example(value)
        || encodes_text(value)
        || encodes_a_structure(value)
        || is_nested_assignment(value)
        || is_regex(value)
}

/// A DER structure that is not a private key, hex- or base64-encoded
/// (`3036a00d…`, SPNEGO's `Negotiate oRQw…`): a protocol message, a
/// certificate or a public key in a test, not a credential (see
/// `rules::der::is_structure_not_a_key`).
fn encodes_a_structure(value: &[u8]) -> bool {
    let value = without_auth_scheme(value);
    let is_hex = value.len() % 2 == 0 && value.iter().all(u8::is_ascii_hexdigit);
    let der = if is_hex {
        crate::decode::hex(value)
    } else {
        crate::decode::base64(value)
    };
    der.is_some_and(|der| crate::rules::der::is_structure_not_a_key(&der))
}

/// A regular expression (`([a-zA-Z0-9-_]+)`, `^\d{4}$`): what a secret
/// looks like, not one. A character range in brackets, a class escape or
/// a group opener; no key encoding writes `[` or `\`, and a password
/// typed with `[a-z` in it is rarer than the patterns that match one.
fn is_regex(value: &[u8]) -> bool {
    let range = value.windows(4).any(|w| {
        w[0] == b'['
            && w[1].is_ascii_alphanumeric()
            && w[2] == b'-'
            && w[3].is_ascii_alphanumeric()
            && w[1] < w[3]
    });
    let class_escape = value
        .windows(2)
        .any(|w| w[0] == b'\\' && matches!(w[1], b'd' | b'w' | b's' | b'D' | b'W' | b'S' | b'b'));
    range || class_escape || memchr::memmem::find(value, b"(?:").is_some()
}

/// A value that is itself an assignment (`UUID=6a38…`, `LABEL=data`): a
/// query or a filter in a variable named for a token, not a key. Base64
/// holds `=` only at its end; a generated password opens with four capitals
/// and `=` about once in 20,000 draws.
fn is_nested_assignment(value: &[u8]) -> bool {
    let head = value.iter().take_while(|b| b.is_ascii_uppercase()).count();
    head >= 4 && value.get(head) == Some(&b'=') && value.len() > head + 1 && value[head + 1] != b'='
}

/// The value inside a header or YAML line quoted whole (`"token:
/// k8s-aws-v1.…"`, a test's expected output): a name, a colon and a space
/// open it, which no key encoding writes and almost no password begins
/// with. What follows the name is the value to judge.
pub fn value_of_quoted_line(value: &[u8]) -> Option<&[u8]> {
    let name = value
        .iter()
        .take_while(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-'))
        .count();
    let rest = value.get(name..)?.strip_prefix(b": ")?;
    (name >= 2 && rest.first().is_some_and(|b| !b.is_ascii_whitespace())).then_some(rest)
}

/// Code quoted as data (test tables, docs): a reference, pointer, cast or
/// concatenation (`&corev1.LocalObjectReference{`, `(*Client)(nil)`,
/// `+cmd.Dir`), or a dotted path of words (`utils.getSafeProp(`).
fn is_code(value: &[u8]) -> bool {
    // A quote that closes a string, then concatenation (`".addcslashes($F,`,
    // `' + user + '`): the value is built by the code around it.
    if matches!(value.first(), Some(b'"' | b'\'' | b'`'))
        && matches!(
            value
                .get(1..)
                .map(<[u8]>::trim_ascii_start)
                .and_then(<[u8]>::first),
            Some(b'.' | b'+')
        )
    {
        return true;
    }
    // Between two strings, the code that joins them (`".base64_encode($k)."`,
    // `" + user.name + "`): a value that opens and closes with the join
    // operator, a call or variable between. Base64 holds no `(`, `$` or space.
    let trimmed = value.trim_ascii();
    if trimmed.len() > 2
        && matches!(trimmed.first(), Some(b'.' | b'+'))
        && matches!(trimmed.last(), Some(b'.' | b'+'))
        && trimmed.iter().any(|b| matches!(b, b'(' | b'$' | b' '))
    {
        return true;
    }
    // After a sigil, code names something: `&corev1.X{`, `(*Client)(nil)`.
    // Base64 starts with `+` or `/` in one key of 32: not code.
    let sigils = value
        .iter()
        .take_while(|b| matches!(b, b'&' | b'*' | b'(' | b'+' | b'!'))
        .count();
    let rest = &value[sigils..];
    let path_len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
        .count();
    let path = &rest[..path_len];
    // Each segment a name: an identifier, or letters only (`httpflags`).
    let names_something = !path.is_empty()
        && path.split(|&b| b == b'.').all(|segment| {
            !segment.is_empty()
                && (super::randomness::is_identifier_like(segment)
                    || segment.iter().all(u8::is_ascii_alphabetic))
        });
    if sigils > 0 {
        // What follows the name is punctuation and more names: `)(nil)`.
        return names_something
            && rest[path_len..]
                .split(|b| !b.is_ascii_alphanumeric() && *b != b'_')
                .all(|word| word.is_empty() || super::randomness::is_identifier_like(word));
    }
    let tail = &rest[path_len..];
    path.contains(&b'.') && names_something && tail.iter().all(|b| b"({[;,".contains(b))
}

/// `client.json`, `server.pem`: a file that may hold a key, not the key.
fn is_file_name(value: &[u8]) -> bool {
    const EXTENSIONS: &[&[u8]] = &[
        b".json", b".pem", b".key", b".crt", b".cer", b".txt", b".yaml", b".yml", b".p12", b".pfx",
        b".jks", b".der", b".csv", b".xml", b".env", b".conf", b".ini", b".toml",
    ];
    let lower = value.to_ascii_lowercase();
    EXTENSIONS
        .iter()
        .any(|e| lower.ends_with(e) && lower.len() > e.len())
}

/// Dot-separated base64url segments, one of them a JSON object (`eyJ`,
/// base64 of `{"`): a JWT, JWS or JWE, well formed or not, or a JOSE
/// header cut from one (`eyJhbGci`, base64 of `{"alg"`). The `jwt` rule
/// judges those (a header, claims, a signature); a loose rule must not
/// report what it rejected, nor the broken tokens of a parser's tests. A
/// JWE under direct encryption has an empty second segment (RFC 7516
/// section 7.1: no encrypted key). Other JSON in base64, alone (a service
/// account's key file), is not JOSE.
pub fn is_jose_shaped(value: &[u8]) -> bool {
    let mut count = 0;
    let mut has_json = false;
    let mut empty_key = false;
    for segment in value.split(|&b| b == b'.') {
        count += 1;
        if segment.is_empty() && count == 2 {
            empty_key = true;
            continue;
        }
        if segment.is_empty()
            || !segment
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        {
            return false;
        }
        has_json |= segment.starts_with(b"eyJ");
    }
    let shaped = match count {
        1 => value.starts_with(b"eyJhbGci"),
        4 | 5 => true,
        2 | 3 => !empty_key,
        _ => false,
    };
    shaped && has_json
}

/// A JWT without a signature (`alg: none`, or the signature cut off):
/// nothing in it proves anything.
fn is_unsigned_jwt(value: &[u8]) -> bool {
    value.starts_with(b"eyJ") && value.ends_with(b".")
}

/// Made by a person at a keyboard, not a generator: an alphabet or digit
/// run (`abcdefghij`, `Rc56789efgh`), or a shorter piece repeated
/// (`gPFE…gPFE…`).
fn is_patterned(value: &[u8]) -> bool {
    const RUN: usize = 6;
    let lower = value.to_ascii_lowercase();
    let ascends = |seq: &[u8]| {
        seq.windows(RUN)
            .any(|w| w.windows(2).all(|p| p[1] == p[0] + 1))
    };
    // Also interleaved: the letters of `a1B2c3D4e5F6` run `abcdef`.
    let letters: Vec<u8> = lower
        .iter()
        .copied()
        .filter(u8::is_ascii_alphabetic)
        .collect();
    let digits: Vec<u8> = lower.iter().copied().filter(u8::is_ascii_digit).collect();
    let ascending =
        super::randomness::has_straight(value) || (ascends(&letters) && ascends(&digits));
    let repeated = (4..=value.len() / 2).any(|period| {
        value.len() % period == 0 && value.chunks(period).all(|c| c == &value[..period])
    });
    ascending || repeated
}

/// Words under their disguise: `s00pers3cret`, `conta1n3rize14`,
/// `This-is-my-test-99!` read as English once digits stand for the
/// letters they resemble. Generated keys do not.
fn reads_as_words(value: &[u8]) -> bool {
    // Letters carry the words; digits only stand in for a few. Hex (six
    // letters, ten digits) read through the substitutions spells too often.
    let letters = value.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let digits = value.iter().filter(|b| b.is_ascii_digit()).count();
    if letters <= digits || value.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let plain = super::randomness::unleet(value);
    let (natural, pairs) = super::randomness::naturalness(&plain);
    pairs >= 6 && natural >= 0.6 && is_cased_like_words(value)
}

/// Capitals where a person puts them: none, all, or only at the start of
/// a word (`This-is`, `MySecretPass`). A generator scatters them
/// (`RizEyZdiGSog`): without this, one random 12-character password in 30
/// read as words in disguise.
fn is_cased_like_words(value: &[u8]) -> bool {
    // `@` and `$` stand for letters inside a word (`P@ssW0rd`).
    let in_word = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'$');
    value.split(|b| !in_word(b)).all(|word| {
        let letters = || word.iter().filter(|b| b.is_ascii_alphabetic());
        if letters().all(u8::is_ascii_uppercase) || letters().all(u8::is_ascii_lowercase) {
            return true;
        }
        word.iter().enumerate().all(|(i, b)| {
            if !b.is_ascii_uppercase() {
                return true;
            }
            // `I` and `A` are words of one letter: `iWishIWereCool`.
            let one_letter_word = |at: usize| {
                matches!(word[at], b'I' | b'A')
                    && (at == 0 || !word[at - 1].is_ascii_uppercase())
                    && word.get(at + 1).is_some_and(u8::is_ascii_uppercase)
                    && word.get(at + 2).is_some_and(u8::is_ascii_lowercase)
            };
            if one_letter_word(i) {
                return true;
            }
            // A digit may stand for a letter (`S3cret`).
            let next_lower = word
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_lowercase() || b"013457@$".contains(b));
            let word_start = i == 0 || !word[i - 1].is_ascii_uppercase() || one_letter_word(i - 1);
            word_start && next_lower
        })
    })
}

/// A stored password hash (LDAP `{SSHA}`, crypt `$6$`, bcrypt, argon2,
/// Django's `pbkdf2_sha256$`, MySQL's `*` and 40 hex digits): what a server keeps instead of the secret.
fn is_password_hash(value: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"{SSHA}",
        b"{SHA}",
        b"{SSHA256}",
        b"{SSHA512}",
        b"{CRYPT}",
        b"{MD5}",
        b"{SMD5}",
        b"{PBKDF2",
        b"{ARGON2}",
        b"$1$",
        b"$2a$",
        b"$2b$",
        b"$2y$",
        b"$5$",
        b"$6$",
        b"$y$",
        b"$argon2",
        b"$scrypt$",
        b"$pbkdf2",
        b"pbkdf2_sha256$",
        b"pbkdf2_sha1$",
        b"argon2$",
        b"bcrypt$",
        b"bcrypt_sha256$",
        b"md5$",
        b"sha1$",
        b"unsalted_md5$",
        b"unsalted_sha1$",
        b"crypt$",
        b"scrypt$",
    ];
    // MySQL's `mysql_native_password`: `*` and the SHA-1 of the SHA-1.
    let mysql_native =
        value.len() == 41 && value[0] == b'*' && value[1..].iter().all(u8::is_ascii_hexdigit);
    mysql_native || PREFIXES.iter().any(|p| value.starts_with(p))
}

/// The base64 body of an OpenSSH public key (`AAAAC3NzaC1lZDI1NTE5…`):
/// the key type's length and name, encoded.
fn is_ssh_public_key(value: &[u8]) -> bool {
    value.starts_with(b"AAAA") && matches!(value.get(4..8), Some(b"B3Nz" | b"C3Nz" | b"E2Vj"))
}

/// An AWS ARN, a URN (`urn:oid:2.5.4.35`) or an ISO 8601 time:
/// structured, public, not generated.
fn is_resource_name_or_time(value: &[u8]) -> bool {
    let is_time = value.len() >= 11
        && value[..4].iter().all(u8::is_ascii_digit)
        && value[4] == b'-'
        && value[7] == b'-'
        && value[10] == b'T';
    value.starts_with(b"arn:")
        || value
            .get(..4)
            .is_some_and(|s| s.eq_ignore_ascii_case(b"urn:"))
        || is_time
}

/// Tokens the OAuth and ACME RFCs publish as examples (RFC 5849 sections
/// 1.2 and 3.5.1, RFC 6749 sections 4.1-5.1 and 7.1, RFC 6750 section 1.3,
/// RFC 8555 section 8), alone or joined by dots, and the
/// keys vendors publish for anyone to use: the storage emulator's, MinIO's
/// public playground's, the test key in Stripe's API reference, the token
/// in python-gitlab's documentation, the session token of AWS's signing
/// test suite, GIPHY's public beta key. Copied into countless tests and docs,
/// they open nothing private: no rule reports them.
pub(super) fn is_documented_example(value: &[u8]) -> bool {
    const RFC_EXAMPLES: &[&[u8]] = &[
        // RFC 5849 section 3.5.1 (the Authorization header example).
        b"0685bd9184jfhq22",
        b"ad180jjd733klru7",
        // RFC 6749 section 7.1 (the MAC token type's example id).
        b"h480djs93hd8",
        b"2YotnFZFEjr1zCsicMWpAA",
        b"tGzv3JOkF0XG5Qx2TlKWIA",
        b"SplxlOBeZQQYbYS6WxSbIA",
        b"mF_9.B5f-4.1JqM",
        b"dpf43f3p2l4k3l03",
        b"kd94hf93k423kf44",
        b"hh5s93j4hdidpola",
        b"hdhd0244k9j7ao03",
        b"hfdp7dh39dks9884",
        b"hdk48Djdsa",
        b"nnch734d00sl2jdk",
        b"pfkkdhi9sl3r4s00",
        b"kkk9d7dh3k39sjv7",
        b"9djdj82h48djs9d2",
        b"vF9dft4qmT",
        // RFC 8555 sections 8.1, 8.3 and 8.4: ACME challenge tokens and the
        // account key thumbprint of a key authorization (`token.thumbprint`).
        b"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
        b"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
        b"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI",
    ];
    // The Azure Storage emulator's (Azurite's) one account key, published
    // in Microsoft's documentation and built into every Azure SDK.
    const AZURITE_ACCOUNT_KEY: &str = concat!(
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
        "/K1SZFPTOtr/KBHBeksoGMGw=="
    );
    // The access and secret key of MinIO's public playground server
    // (`play.min.io`), printed in MinIO's quickstart documentation.
    const MINIO_PLAY_KEYS: [&str; 2] = [
        concat!("Q3AM3UQ867", "SPQQA43P2F"),
        concat!("zuf+tfteSlswRu7BJ86w", "ekitnifILbZam1KYY3TG"),
    ];
    // The secret test key shown in Stripe's API reference to every reader.
    const STRIPE_DOCS_TEST_KEY: &str = concat!("sk_", "test_", "BQokikJOvBiI2HlWgH4olfQ2");
    // The private token of python-gitlab's documentation (since its first
    // releases, bare and later as a `glpat-` token), copied into the
    // tutorials and scripts that start from it.
    const PYTHON_GITLAB_DOCS_TOKEN: &str = concat!("JVNSESs8", "EwWRx5yDxM5q");
    // The session token of AWS's Signature Version 4 test suite
    // (`get-vanilla-with-session-token`), vendored by every SDK that signs.
    const SIGV4_SUITE_SESSION_TOKEN: &str = concat!(
        "6e86291e8372ff2a2260956d9b8aae1d",
        "763fbf315fa00fa31553b73ebf194267"
    );
    // GIPHY's public beta key, which its API documentation gave everyone to
    // try the API with before it issued keys of their own.
    const GIPHY_PUBLIC_BETA_KEY: &str = concat!("dc6zaTOx", "FJmzC");
    let python_gitlab =
        value.strip_prefix(b"glpat-").unwrap_or(value) == PYTHON_GITLAB_DOCS_TOKEN.as_bytes();
    python_gitlab
        || value == SIGV4_SUITE_SESSION_TOKEN.as_bytes()
        || value == GIPHY_PUBLIC_BETA_KEY.as_bytes()
        || RFC_EXAMPLES.contains(&value)
        || value
            .split(|&b| b == b'.')
            .all(|part| RFC_EXAMPLES.contains(&part))
        || value == AZURITE_ACCOUNT_KEY.as_bytes()
        || MINIO_PLAY_KEYS.iter().any(|k| value == k.as_bytes())
        || value == STRIPE_DOCS_TEST_KEY.as_bytes()
}

/// The credentials of an Authorization value, its scheme (`Basic`,
/// `Negotiate`) taken off: the scheme is not part of the credential.
fn without_auth_scheme(value: &[u8]) -> &[u8] {
    [&b"basic "[..], b"negotiate "]
        .iter()
        .find_map(|scheme| strip_prefix_ignore_case(value, scheme))
        .map_or(value, <[u8]>::trim_ascii_start)
}

fn strip_prefix_ignore_case<'a>(value: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (value.len() > prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &value[prefix.len()..])
}

/// Lowercase letters from a few keys struck at random (`slkfjhadlfkj…`):
/// a person filling a field. Random lowercase letters use most of the
/// alphabet in 24 characters; a hand on the home row keeps to ten keys.
fn is_keyboard_mash(text: &[u8]) -> bool {
    if text.len() < 24 || !text.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let mut seen = [false; 26];
    for &b in text {
        seen[usize::from(b - b'a')] = true;
    }
    seen.iter().filter(|&&s| s).count() <= 10
}

/// Base64 whose content is text a person wrote: a sentence (`this is not
/// a real value`), an identifier (`mysteriousPaginationToken`, with the
/// newline `echo` adds), a sequence (`0123456701234567`), or a dummy
/// `user:password` pair (`test:test`, also as a header value, `Basic
/// bWU6cGFzcw==`), or an address without a query. A generated key decodes
/// to bytes.
fn encodes_text(value: &[u8]) -> bool {
    let unschemed = without_auth_scheme(value);
    if unschemed.len() < value.len() {
        return encodes_text(unschemed);
    }
    // Pieces joined by `|` (a cookie of several fields): each is judged.
    if value.contains(&b'|') {
        return value.split(|&b| b == b'|').all(encodes_text);
    }
    // A kind, then a dot (EKS's `k8s-aws-v1.`): the rest is the encoding.
    if let Some(dot) = value.iter().position(|&b| b == b'.') {
        let (kind, rest) = (&value[..dot], &value[dot + 1..]);
        let names_a_kind = (2..=16).contains(&kind.len())
            && kind
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        return names_a_kind && !rest.contains(&b'.') && encodes_text(rest);
    }
    if value.len() < 8
        || !value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=-_".contains(b))
    {
        return false;
    }
    let Some(mut decoded) = crate::decode::base64(value) else {
        return false;
    };
    while decoded.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        decoded.pop();
    }
    if decoded.len() < 4 || !decoded.iter().all(|b| (0x20..0x7f).contains(b)) {
        return false;
    }
    if is_patterned(&decoded) {
        return true;
    }
    if decoded.contains(&b' ') {
        return is_prose(&decoded) || super::randomness::naturalness(&decoded).0 >= 0.5;
    }
    if is_keyboard_mash(&decoded) {
        return true;
    }
    // A plain address: no query, so no signature or token in it.
    let lower = decoded.to_ascii_lowercase();
    if (lower.starts_with(b"http://") || lower.starts_with(b"https://")) && !lower.contains(&b'?') {
        return true;
    }
    if let Some(colon) = decoded.iter().position(|&b| b == b':') {
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        // A word for a user and, for a password, nothing a person would
        // choose either (`test:test`, `AWS:8787…-auth-token`).
        let wordlike = |w: &[u8]| !w.is_empty() && w.iter().all(|b| b.is_ascii_alphabetic());
        return wordlike(user)
            && (password.is_empty()
                || wordlike(password)
                || is_known_non_secret(password)
                || !super::allowlist::looks_like_credential(password, Some(b"password")));
    }
    super::randomness::is_identifier_like(&decoded)
}

#[cfg(test)]
mod tests;
