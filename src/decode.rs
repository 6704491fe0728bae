//! Decoding encoded text: the fields that formats store base64-encoded,
//! and the general decoder for credentials written encoded anywhere.
//!
//! Some files hold their secret encoded in a known field: a Kubernetes
//! Secret's `data:` values, Docker's `auths.*.auth` and `.npmrc`'s `_auth`
//! (base64 of `user:password`). A rule names the field's encoding
//! (`decode = "..."` in its TOML) and the detector judges what is inside,
//! never the encoded text: base64 of a random password is not itself
//! obviously random, and base64 of `admin:admin` looks random enough.
//!
//! Anywhere else, a key may be written in one of four [`Encoding`]s: base64
//! and hex hide it whole (only a token is decoded), percent-encoding and
//! JSON/JS string escapes hide a few characters of it (the whole line is
//! decoded, names and delimiters survive). The detector decides which lines
//! are worth decoding from the keyword prefilter (see
//! [`Encoding::keyword_forms`] and [`escaped_line_starts`]).
//!
//! This is the one decoding module. It only sees text, and returns text or
//! nothing: decoded bytes that are binary (hashes, certificates in DER,
//! images) are dropped.

use serde::Deserialize;

/// How a rule's secret is encoded (`decode = "..."` in a rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decoding {
    /// One base64 value (standard or URL-safe alphabet, padding optional).
    Base64,
    /// Base64 of `user:password`; the password is what is judged.
    Base64UserPassword,
    /// A run of YAML `name: base64` entries, as under a Kubernetes Secret's
    /// `data:`; the secret starts at the first value, whose name the rule
    /// captures as `name`.
    Base64YamlValues,
}

impl Decoding {
    /// The decoded values in `secret`, each with the name it is stored
    /// under (`first_name` for the first, or for a single value). Values that
    /// are not base64 or decode to binary are left out.
    pub fn values<'a>(self, secret: &'a [u8], first_name: Option<&'a [u8]>) -> Vec<Decoded<'a>> {
        match self {
            Decoding::Base64 => text_of(secret)
                .map(|value| Decoded {
                    name: first_name,
                    value,
                })
                .into_iter()
                .collect(),
            Decoding::Base64UserPassword => text_of(secret)
                .and_then(|pair| {
                    let colon = pair.iter().position(|&b| b == b':')?;
                    Some(Decoded {
                        name: Some(b"password"),
                        value: pair[colon + 1..].to_vec(),
                    })
                })
                .filter(|d| !d.value.is_empty())
                .into_iter()
                .collect(),
            Decoding::Base64YamlValues => yaml_values(secret, first_name),
        }
    }
}

/// A decoded value and the field name it was stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub name: Option<&'a [u8]>,
    pub value: Vec<u8>,
}

fn yaml_values<'a>(secret: &'a [u8], first_name: Option<&'a [u8]>) -> Vec<Decoded<'a>> {
    let mut out = Vec::new();
    let mut name = first_name;
    for token in secret
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        if let Some(key) = token.strip_suffix(b":") {
            name = Some(key);
        } else if let Some(value) = text_of(token) {
            out.push(Decoded { name, value });
        }
    }
    out
}

/// Base64-decodes `encoded` and keeps the result only if it is text.
fn text_of(encoded: &[u8]) -> Option<Vec<u8>> {
    let bytes = base64(encoded)?;
    is_text(&bytes).then_some(bytes)
}

/// Printable UTF-8, allowing tabs and line breaks (a PEM block is text).
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

/// Decodes base64 in the standard or the URL-safe alphabet, with or
/// without `=` padding. `None` when `encoded` is not base64.
pub fn base64(encoded: &[u8]) -> Option<Vec<u8>> {
    let body = match encoded.iter().rposition(|&b| b != b'=') {
        Some(last) => &encoded[..=last],
        None => return None,
    };
    let padding = encoded.len() - body.len();
    if padding > 2 || body.len() % 4 == 1 || (padding > 0 && (body.len() + padding) % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &b in body {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The text that `keyword` becomes inside base64, at each of the three
/// byte alignments it can have in the encoded value: only the characters
/// that depend on the keyword alone (the ones at its edges mix in the bytes
/// around it). Both alphabets where they differ; at least 4 characters.
pub fn base64_forms(keyword: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(keyword);
        let encoded = encode_base64(&bytes);
        // Character i covers bits [6i, 6i + 6); the keyword bits
        // [8 offset, 8 (offset + len)).
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + keyword.len()) / 6;
        if end < first + 4 {
            continue;
        }
        let stable = &encoded[first..end];
        forms.push(stable.to_string());
        if stable.contains(['+', '/']) {
            forms.push(stable.replace('+', "-").replace('/', "_"));
        }
    }
    forms
}

/// Standard base64 with padding (rule examples and tests build encoded
/// fields with it).
pub fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            out.push(match i <= chunk.len() {
                true => ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char,
                false => '=',
            });
        }
    }
    out
}

/// An encoding a credential may be written in anywhere in a file, undone
/// by the detector before its rules run again (`Detector::scan_decoded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Base64, standard or URL-safe: a Kubernetes Secret's data, a blob in
    /// code.
    Base64,
    /// Hex of text (an even-length run of hex digits).
    Hex,
    /// `%XX` escapes: a URL's userinfo or query, a form body.
    Percent,
    /// JSON/JS string escapes that change a key's characters: `\uXXXX`
    /// (`\u0073k-...`) and `\/` (an AWS secret as PHP's `json_encode` writes
    /// it).
    StringEscapes,
}

/// The shortest base64 or hex token decoded: 12 bytes of base64, 8 of hex,
/// less than any provider key.
const MIN_ENCODED_TOKEN: usize = 16;

impl Encoding {
    /// What a finding's description calls it: "hex of OpenAI API key".
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent-encoding",
            Encoding::StringEscapes => "string escapes",
        }
    }

    /// Whether decoding keeps the text around the secret (names, quotes,
    /// delimiters): then the whole line is decoded and every rule, loose
    /// `name = value` ones too, judges it. Base64 and hex turn a token into
    /// text with no name around it: only provider rules judge that.
    pub fn is_transparent(self) -> bool {
        matches!(self, Encoding::Percent | Encoding::StringEscapes)
    }

    /// The byte ranges of `line` worth decoding: for base64 and hex, runs
    /// of the alphabet long enough to hold a key; for the transparent
    /// encodings, the text around the escapes that may hide a credential's
    /// characters (the whole line, unless it is long).
    pub fn tokens(self, line: &[u8]) -> Vec<(usize, usize)> {
        match self {
            Encoding::Base64 => base64_tokens(line),
            Encoding::Hex => hex_tokens(line),
            Encoding::Percent | Encoding::StringEscapes => escape_windows(self, line),
        }
    }

    /// Decodes `token`. For base64 and hex, `None` unless the token is
    /// wholly that encoding and decodes to text. For the transparent
    /// encodings, `None` unless at least one escape was undone; the result
    /// keeps, for each decoded byte, the offset in `token` it came from
    /// (see [`Decoded::origin`]).
    pub fn decode(self, token: &[u8]) -> Option<DecodedText> {
        let (bytes, origins) = match self {
            Encoding::Base64 => (base64(token)?, None),
            Encoding::Hex => (hex(token)?, None),
            Encoding::Percent => unescape(token, percent_escape)?,
            Encoding::StringEscapes => unescape(token, string_escape)?,
        };
        let text = String::from_utf8(bytes)
            .ok()
            .filter(|t| is_text(t.as_bytes()))?;
        Some(DecodedText { text, origins })
    }

    /// The text `keyword` becomes in this encoding, as the keyword search
    /// looks for it on a line worth decoding: base64 in each alignment and
    /// alphabet, hex. None for the transparent encodings: a line holding
    /// one of their escapes is worth decoding ([`escaped_line_starts`]).
    pub fn keyword_forms(self, keyword: &[u8]) -> Vec<String> {
        match self {
            Encoding::Base64 => base64_forms(keyword),
            // Hex is byte-aligned, and the search ignores case, so upper-
            // case hex is found too. The first four bytes only: eight hex
            // digits are rare enough in any text, and the bulk searcher's
            // automaton grows with every character of every pattern.
            Encoding::Hex => vec![encode_hex(&keyword[..keyword.len().min(4)])],
            Encoding::Percent | Encoding::StringEscapes => Vec::new(),
        }
    }
}

/// Text decoded from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedText {
    pub text: String,
    /// For a transparent encoding, the offset in the token of each byte of
    /// `text`, and one past the end: a secret found in the decoded line is
    /// reported where it is written.
    origins: Option<Vec<usize>>,
}

impl DecodedText {
    /// The token range that `range` of the decoded text came from (`None`
    /// for base64 and hex, where the whole token is the origin).
    pub fn origin(&self, range: (usize, usize)) -> Option<(usize, usize)> {
        let origins = self.origins.as_ref()?;
        Some((origins[range.0], origins[range.1]))
    }
}

/// The bytes of either base64 alphabet.
const BASE64_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    table
};

fn is_base64(b: u8) -> bool {
    BASE64_BYTES[usize::from(b)]
}

/// The runs of the base64 alphabet (either alphabet) at least as long as
/// the shortest token decoded that may be base64 or hex of text
/// ([`may_encode_text`]), in order: every token of `text` that decodes to
/// text lies inside one, and so does every encoded keyword that could lead
/// to a decoded secret.
///
/// Every 64 bytes become a bit mask of the bytes in the alphabet (16 at a
/// time with SSE2 on x86-64), and a run of 16 set bits is found with four
/// shifts: a block without one, most of any code, costs a few instructions.
/// Looking at the bytes one by one cost about 1.5 ns a byte, more than the
/// keyword search itself.
pub fn encoded_runs(text: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = long_alphabet_runs(text);
    runs.retain(|&(start, end)| may_encode_text(&text[start..end]));
    runs
}

/// The runs of the base64 alphabet at least [`MIN_ENCODED_TOKEN`] long.
fn long_alphabet_runs(text: &[u8]) -> Vec<(usize, usize)> {
    const _: () = assert!(MIN_ENCODED_TOKEN == 16, "the shifts below find runs of 16");
    let masks: Vec<u64> = text.chunks(64).map(alphabet_mask).collect();
    let mask_at = |block: usize| masks.get(block).copied().unwrap_or(0);
    let mut runs = Vec::new();
    // Every byte before `covered` is in a run already found, or not in one.
    let mut covered = 0;
    for block in 0..masks.len() {
        let base = block * 64;
        if covered >= base + 64 {
            continue;
        }
        let pair = u128::from(mask_at(block)) | u128::from(mask_at(block + 1)) << 64;
        // Bit i of `long`: bits i..i + 16 of `pair` are all set.
        let mut long = pair & pair >> 1;
        long &= long >> 2;
        long &= long >> 4;
        long &= long >> 8;
        let mut starts = long as u64;
        if covered > base {
            starts &= u64::MAX << (covered - base);
        }
        while starts != 0 {
            // The lowest start past what is covered is where a run begins:
            // a run that began earlier would have covered it.
            let start = base + starts.trailing_zeros() as usize;
            let mut end = start;
            loop {
                let ones = (mask_at(end / 64) >> (end % 64)).trailing_ones() as usize;
                end += ones;
                if end % 64 != 0 || ones == 0 {
                    break;
                }
            }
            runs.push((start, end));
            covered = end;
            starts = match end - base {
                gone if gone >= 64 => 0,
                gone => starts & u64::MAX << gone,
            };
        }
    }
    runs
}

/// Bit i set when `block[i]` is in the base64 alphabet (bits past the end
/// of a short last block clear).
fn alphabet_mask(block: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if block.len() == 64 {
        return (0..4).fold(0, |mask, i| {
            let lanes: &[u8; 16] = block[16 * i..16 * (i + 1)].try_into().expect("16 bytes");
            mask | u64::from(sse2::alphabet_mask16(lanes)) << (16 * i)
        });
    }
    block
        .iter()
        .enumerate()
        .fold(0, |mask, (i, &b)| mask | u64::from(is_base64(b)) << i)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::*;

    /// The alphabet test of 16 bytes at once. SSE2 is part of x86-64, so
    /// it is always there.
    pub fn alphabet_mask16(bytes: &[u8; 16]) -> u16 {
        // SAFETY: SSE2 is in every x86-64 CPU; the load is unaligned and
        // reads the 16 bytes of `bytes`.
        unsafe {
            let v = _mm_loadu_si128(bytes.as_ptr().cast());
            // An unsigned range test with signed compares: lo maps to -128.
            let in_range = |x: __m128i, lo: u8, hi: u8| {
                let shifted = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
                _mm_cmplt_epi8(shifted, _mm_set1_epi8((i32::from(hi - lo) + 1 - 128) as i8))
            };
            let letters = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z');
            let digits = in_range(v, b'0', b'9');
            let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let signs = _mm_or_si128(
                _mm_or_si128(is(b'+'), is(b'/')),
                _mm_or_si128(is(b'-'), is(b'_')),
            );
            let all = _mm_or_si128(_mm_or_si128(letters, digits), signs);
            _mm_movemask_epi8(all) as u16
        }
    }
}

/// The run of [`encoded_runs`] that holds `text[start..end]`, if it is one.
pub fn encoded_run_around(text: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    if !text[start..end].iter().all(|&b| is_base64(b)) {
        return None;
    }
    let mut run = (start, end);
    while run.0 > 0 && is_base64(text[run.0 - 1]) {
        run.0 -= 1;
    }
    while run.1 < text.len() && is_base64(text[run.1]) {
        run.1 += 1;
    }
    (run.1 - run.0 >= MIN_ENCODED_TOKEN && may_encode_text(&text[run.0..run.1])).then_some(run)
}

/// Whether `run`, read from its start as the decoders read it, may be
/// base64 or hex of text: each four-character group of base64 starts with
/// the top six bits of a byte, below 32 (`A`-`f`) for ASCII; each pair of
/// hex digits of printable ASCII starts with 2-7. One group or pair in
/// four may fail (the bytes of UTF-8 characters, a tab). Identifiers,
/// paths and the encoding of binary (hashes, images) fail within a few
/// groups.
pub fn may_encode_text(run: &[u8]) -> bool {
    let leads_text = |step: usize, leads: fn(u8) -> bool| {
        let allowed = run.len() / step / 4;
        run.iter()
            .step_by(step)
            .filter(|&&b| !leads(b))
            .nth(allowed)
            .is_none()
    };
    leads_text(4, |b| matches!(b, b'A'..=b'Z' | b'a'..=b'f'))
        || (run.iter().all(u8::is_ascii_hexdigit) && leads_text(2, |b| matches!(b, b'2'..=b'7')))
}

/// The runs of base64 characters (either alphabet, with up to two `=`)
/// long enough to hold a key, as byte ranges of `line`.
fn base64_tokens(line: &[u8]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if !is_base64(line[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && is_base64(line[i]) {
            i += 1;
        }
        let mut end = i;
        while end < line.len() && end - i < 2 && line[end] == b'=' {
            end += 1;
        }
        if end - start >= MIN_ENCODED_TOKEN {
            tokens.push((start, end));
        }
        i = end.max(i);
    }
    tokens
}

/// The even-length runs of hex digits long enough to hold a key, not
/// inside a longer word (`deadbeef` in an identifier is not hex).
fn hex_tokens(line: &[u8]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if !line[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < line.len() && line[i].is_ascii_hexdigit() {
            i += 1;
        }
        let in_word = |at: Option<&u8>| at.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        // `0x` starts hex; any other letter before it makes it a word.
        let prefixed = start >= 2 && &line[start - 2..start] == b"0x";
        let len = i - start;
        if len >= MIN_ENCODED_TOKEN
            && len % 2 == 0
            && (prefixed || !in_word(start.checked_sub(1).and_then(|s| line.get(s))))
            && !in_word(line.get(i))
        {
            tokens.push((start, i));
        }
    }
    tokens
}

/// Decodes hex (either case). `None` when `encoded` is not hex.
pub fn hex(encoded: &[u8]) -> Option<Vec<u8>> {
    if encoded.len() % 2 != 0 {
        return None;
    }
    encoded
        .chunks(2)
        .map(|pair| Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?))
        .collect()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Lower-case hex (tests and keyword forms build encoded text with it).
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An escape at the start of `rest`: its length and what it decodes to.
/// Only escapes that change nothing about the line's shape are undone:
/// never to a line break or another control character.
type Escape = fn(rest: &[u8]) -> Option<(usize, char)>;

/// `%XX`, to a printable character. A `+` stays `+`: keys use it, and
/// only form bodies mean a space by it.
fn percent_escape(rest: &[u8]) -> Option<(usize, char)> {
    let byte_at = |i: usize| match rest.get(i * 3..i * 3 + 3)? {
        [b'%', hi, lo] => Some(hex_digit(*hi)? << 4 | hex_digit(*lo)?),
        _ => None,
    };
    let first = byte_at(0)?;
    // A character beyond ASCII is its UTF-8 bytes, each escaped (`%C3%A4`).
    let len = match first {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let bytes: Vec<u8> = (0..len).map(byte_at).collect::<Option<_>>()?;
    let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
    (!c.is_control()).then_some((len * 3, c))
}

/// `\uXXXX` (a surrogate pair as two), `\/`. A `\\` is its own escape, so
/// that `\\u0073` stays as written; `\"`, `\n` and the like stay as
/// written, and so does a `\u` escape of a quote, a backslash or a control
/// character: the string's shape is kept.
fn string_escape(rest: &[u8]) -> Option<(usize, char)> {
    let unit = |at: usize| -> Option<u32> {
        let digits = rest.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    match rest {
        [b'\\', b'/', ..] => Some((2, '/')),
        [b'\\', b'u', ..] => {
            let first = unit(2)?;
            let (len, code) = match first {
                0xD800..=0xDBFF => match rest.get(6..8) {
                    Some(b"\\u") => {
                        let low = unit(8).filter(|l| (0xDC00..=0xDFFF).contains(l))?;
                        (12, 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))
                    }
                    _ => return None,
                },
                _ => (6, first),
            };
            let c = char::from_u32(code)?;
            (!c.is_control() && !matches!(c, '"' | '\'' | '\\' | '`')).then_some((len, c))
        }
        _ => None,
    }
}

/// `token` with its `escape`s undone, and each output byte's offset in
/// `token`; `None` if nothing was undone. A `\\` pair is copied whole, so
/// that an escaped backslash does not start an escape.
fn unescape(token: &[u8], escape: Escape) -> Option<(Vec<u8>, Option<Vec<usize>>)> {
    let mut out = Vec::with_capacity(token.len());
    let mut origins = Vec::with_capacity(token.len() + 1);
    let mut undone = false;
    let mut i = 0;
    while i < token.len() {
        if let Some((len, c)) = escape(&token[i..]) {
            let mut utf8 = [0u8; 4];
            for &b in c.encode_utf8(&mut utf8).as_bytes() {
                out.push(b);
                origins.push(i);
            }
            undone = true;
            i += len;
            continue;
        }
        let copied = match &token[i..] {
            [b'\\', b'\\', ..] => 2,
            _ => 1,
        };
        out.extend_from_slice(&token[i..i + copied]);
        origins.extend(i..i + copied);
        i += copied;
    }
    origins.push(token.len());
    undone.then_some((out, Some(origins)))
}

/// The escape at `text[at]` (a `%` or a `\`), if it is one whose
/// character may be part of a credential or of the syntax around one
/// (`://`, `user:pass@`): its encoding and length. An escaped space, quote,
/// bracket or accented letter hides nothing a rule looks for, and minified
/// code and source maps are full of them.
fn hiding_escape(text: &[u8], at: usize) -> Option<(Encoding, usize)> {
    let (encoding, (len, c)) = match text[at] {
        b'%' => (Encoding::Percent, percent_escape(&text[at..])?),
        _ => (Encoding::StringEscapes, string_escape(&text[at..])?),
    };
    (c.is_ascii_alphanumeric() || "+/=-_.~:@%".contains(c)).then_some((encoding, len))
}

/// How far around an escape a long line is decoded: more than any rule
/// reads on one line around a secret (a URL's user, password and host; a
/// name and its value).
const ESCAPE_WINDOW: usize = 512;

/// The ranges of `line` around its escapes in `encoding` that may hide a
/// credential ([`hiding_escape`]), `ESCAPE_WINDOW` bytes each side,
/// merged, at character boundaries. On a short line, the whole line.
fn escape_windows(encoding: Encoding, line: &[u8]) -> Vec<(usize, usize)> {
    let boundary = |mut i: usize, forward: bool| {
        // A UTF-8 continuation byte is 0b10xx_xxxx.
        while i > 0 && i < line.len() && line[i] & 0xC0 == 0x80 {
            i = if forward { i + 1 } else { i - 1 };
        }
        i
    };
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for at in memchr::memchr2_iter(b'%', b'\\', line) {
        let Some((found, len)) = hiding_escape(line, at) else {
            continue;
        };
        if found != encoding {
            continue;
        }
        let start = boundary(at.saturating_sub(ESCAPE_WINDOW), false);
        let end = boundary((at + len + ESCAPE_WINDOW).min(line.len()), true);
        match windows.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => windows.push((start, end)),
        }
    }
    windows
}

/// The start offsets of the lines of `text` that hold a percent or string
/// escape that may hide a credential ([`hiding_escape`]), in order, each
/// once per encoding. A `%` or `\` not followed by such an escape (`100%`,
/// `\n`, `%20`) is not one, so prose and code cost a byte comparison or
/// two per such character.
pub fn escaped_line_starts(text: &[u8]) -> Vec<(usize, Encoding)> {
    let mut lines: Vec<(usize, Encoding)> = Vec::new();
    let (mut line_start, mut searched_to) = (0, 0);
    for at in memchr::memchr2_iter(b'%', b'\\', text) {
        let Some((encoding, _)) = hiding_escape(text, at) else {
            continue;
        };
        if let Some(i) = memchr::memrchr(b'\n', &text[searched_to..at]) {
            line_start = searched_to + i + 1;
        }
        searched_to = at;
        // Line starts only grow: a line's entries are the last ones.
        let seen = lines
            .iter()
            .rev()
            .take_while(|(start, _)| *start == line_start)
            .any(|&(_, e)| e == encoding);
        if !seen {
            lines.push((line_start, encoding));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_in_both_alphabets_with_and_without_padding() {
        assert_eq!(base64(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64(b"YQ==").unwrap(), b"a");
        assert_eq!(base64(b"YQ").unwrap(), b"a");
        assert_eq!(base64(b"-_-_").unwrap(), base64(b"+/+/").unwrap());
        assert!(base64(b"YQ=").is_none());
        assert!(base64(b"Y").is_none());
        assert!(base64(b"a b").is_none());
        assert!(base64(b"===").is_none());
    }

    #[test]
    fn encoding_round_trips() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let encoded = encode_base64(&bytes);
            assert_eq!(encoded.len() % 4, 0);
            if len > 0 {
                assert_eq!(base64(encoded.as_bytes()).unwrap(), bytes, "{len}");
            }
        }
        assert_eq!(encode_base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    /// The runs of the alphabet at least [`MIN_ENCODED_TOKEN`] long, found
    /// byte by byte: what the block masks must agree with.
    fn long_runs_byte_by_byte(text: &[u8]) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let start = i;
            while i < text.len() && is_base64(text[i]) {
                i += 1;
            }
            if i - start >= MIN_ENCODED_TOKEN {
                runs.push((start, i));
            }
            i = i.max(start + 1);
        }
        runs
    }

    #[test]
    fn encoded_runs_are_every_long_run_of_the_alphabet() {
        let mut rng = crate::rules::examples::Rng::seeded(11);
        let pieces = ["a", "Zz9", "+/", "-_", " ", "\n", "=", ".", "\"", "é"];
        for case in 0..2000 {
            let text: String = (0..rng.below(200))
                .map(|_| {
                    let piece = pieces[rng.below(pieces.len())];
                    piece.repeat(1 + rng.below(6))
                })
                .collect();
            let bytes = text.as_bytes();
            let mut expected = long_runs_byte_by_byte(bytes);
            expected.retain(|&(start, end)| may_encode_text(&bytes[start..end]));
            assert_eq!(encoded_runs(bytes), expected, "case {case}");
        }
    }

    /// Every byte value, at every place in the 64-byte blocks: the masks
    /// agree with the byte test, and the runs with a byte-by-byte search.
    #[test]
    fn encoded_runs_match_a_byte_by_byte_search_on_any_bytes() {
        let mut rng = crate::rules::examples::Rng::seeded(5);
        let all: Vec<u8> = (0..=255u8).collect();
        for chunk in all.chunks(64) {
            let expected = chunk
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &b)| m | u64::from(is_base64(b)) << i);
            assert_eq!(alphabet_mask(chunk), expected);
        }
        let alphabet = b"aZ09+/-_";
        for case in 0..3000 {
            let len = rng.below(400);
            let text: Vec<u8> = (0..len)
                .map(|_| match rng.below(10) {
                    0 => rng.below(256) as u8,
                    _ => alphabet[rng.below(alphabet.len())],
                })
                .collect();
            let expected = long_runs_byte_by_byte(&text);
            assert_eq!(long_alphabet_runs(&text), expected, "case {case}");
            let gated: Vec<_> = expected
                .into_iter()
                .filter(|&(s, e)| may_encode_text(&text[s..e]))
                .collect();
            assert_eq!(encoded_runs(&text), gated, "case {case}");
        }
    }

    /// Base64 and hex of text pass, in every alignment of what they hold;
    /// code's long words, paths and the base64 of hashes do not.
    #[test]
    fn only_runs_that_may_encode_text_are_searched() {
        let texts = [
            "sk_live_0123456789abcdefghij",
            "apiVersion: v1\nkind: Secret\n",
            "user:hunter2-and-more",
            "Grüße aus Köln, with a token ghp_abc",
        ];
        for text in texts {
            for pad in ["", "a", "ab"] {
                let plain = format!("{pad}{text}");
                let base64 = encode_base64(plain.as_bytes());
                let url_safe = base64.replace('+', "-").replace('/', "_");
                let body = url_safe.trim_end_matches('=');
                assert!(may_encode_text(body.as_bytes()), "base64 of {plain:?}");
                assert!(
                    may_encode_text(encode_hex(plain.as_bytes()).as_bytes()),
                    "hex of {plain:?}"
                );
                let upper = encode_hex(plain.as_bytes()).to_ascii_uppercase();
                assert!(may_encode_text(upper.as_bytes()), "HEX of {plain:?}");
            }
        }
        let mut rng = crate::rules::examples::Rng::seeded(3);
        let digest: Vec<u8> = (0..64).map(|_| rng.below(256) as u8).collect();
        let not_text = [
            "some_long_function_name_here".to_string(),
            "getPasswordDataAPIClient".to_string(),
            "src/detect/keyword_table/mod.rs".to_string(),
            "node_modules/@aws-sdk/client-s3/dist".to_string(),
            encode_base64(&digest).trim_end_matches('=').to_string(),
            encode_hex(&digest),
        ];
        for run in &not_text {
            assert!(!may_encode_text(run.as_bytes()), "{run}");
        }
    }

    #[test]
    fn base64_forms_are_found_in_every_alignment() {
        let keyword = b"sk_live_";
        let forms = base64_forms(keyword);
        for before in ["", "a", "ab"] {
            for after in ["", "x", "xy", "xyz"] {
                let text = [before.as_bytes(), keyword, after.as_bytes()].concat();
                let encoded = encode_base64(&text);
                assert!(
                    forms.iter().any(|f| encoded.contains(f.as_str())),
                    "{before:?} {after:?}: {encoded} {forms:?}"
                );
            }
        }
        assert!(base64_forms(b"ab").is_empty(), "too short to be rare");
    }

    fn decoded(encoding: Encoding, token: &str) -> Option<String> {
        encoding.decode(token.as_bytes()).map(|d| d.text)
    }

    #[test]
    fn hex_decodes_text_only() {
        assert_eq!(hex(b"4a6b").unwrap(), b"Jk");
        assert_eq!(hex(b"4A6B").unwrap(), b"Jk");
        assert!(hex(b"4a6").is_none());
        assert!(hex(b"4g").is_none());
        let text = encode_hex(b"token: abc");
        assert_eq!(decoded(Encoding::Hex, &text).unwrap(), "token: abc");
        // A SHA-256 digest is hex of bytes, not of text.
        let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert!(decoded(Encoding::Hex, digest).is_none());
    }

    #[test]
    fn hex_tokens_are_even_runs_outside_words() {
        let line = format!(
            "a = {} b = {}0 c = x{}",
            "ab".repeat(8),
            "cd".repeat(8),
            "ef".repeat(8)
        );
        let tokens = hex_tokens(line.as_bytes());
        assert_eq!(tokens.len(), 1, "{tokens:?}");
        assert_eq!(&line[tokens[0].0..tokens[0].1], "ab".repeat(8));
        assert!(hex_tokens(b"deadbeef").is_empty(), "too short");
        assert_eq!(
            hex_tokens(format!("0x{}", "ab".repeat(8)).as_bytes()),
            [(2, 18)]
        );
    }

    #[test]
    fn percent_escapes_are_undone_except_into_controls() {
        assert_eq!(
            decoded(Encoding::Percent, "a%2Fb%2bc%3D%3D").unwrap(),
            "a/b+c=="
        );
        // A `+` is a key's own character; `%0A` stays: one line stays one.
        assert_eq!(
            decoded(Encoding::Percent, "a+b%0Ac%41").unwrap(),
            "a+b%0AcA"
        );
        assert!(decoded(Encoding::Percent, "100% sure, %zz").is_none());
        assert!(decoded(Encoding::Percent, "no escape").is_none());
        // Double encoding comes out once decoded: the next depth undoes the rest.
        assert_eq!(decoded(Encoding::Percent, "%252F").unwrap(), "%2F");
        // UTF-8 escaped byte by byte is one character; a broken sequence
        // and an escaped C1 control stay as written.
        assert_eq!(decoded(Encoding::Percent, "p%C3%A4ss%2F").unwrap(), "päss/");
        assert_eq!(decoded(Encoding::Percent, "a%C3b%2F").unwrap(), "a%C3b/");
        assert_eq!(
            decoded(Encoding::Percent, "a%C2%85b%2F").unwrap(),
            "a%C2%85b/"
        );
    }

    #[test]
    fn string_escapes_keep_the_strings_shape() {
        let escapes = Encoding::StringEscapes;
        assert_eq!(
            decoded(escapes, r#""\u0073k-x\/y""#).unwrap(),
            r#""sk-x/y""#
        );
        // An escaped backslash starts no escape; quotes, controls and line
        // breaks stay escaped.
        assert_eq!(decoded(escapes, r"\\u0073 \/").unwrap(), r"\\u0073 /");
        assert_eq!(
            decoded(escapes, r#"\u0022\u000a\n\"\u0041"#).unwrap(),
            r#"\u0022\u000a\n\"A"#
        );
        // A surrogate pair is one character; half of one is left alone.
        assert_eq!(decoded(escapes, r"\ud83d\ude00").unwrap(), "\u{1f600}");
        assert!(decoded(escapes, r"\ud83d x").is_none());
        assert!(decoded(escapes, r"\n\t\u12").is_none());
    }

    #[test]
    fn transparent_decodings_know_where_each_byte_was_written() {
        let token = "k=a%2Fb";
        let d = Encoding::Percent.decode(token.as_bytes()).unwrap();
        assert_eq!(d.text, "k=a/b");
        assert_eq!(d.origin((2, 5)), Some((2, 7)));
        assert_eq!(d.origin((3, 4)), Some((3, 6)));
        let b64 = Encoding::Base64
            .decode(encode_base64(b"some text").as_bytes())
            .unwrap();
        assert_eq!((b64.text.as_str(), b64.origin((0, 1))), ("some text", None));
    }

    #[test]
    fn escaped_lines_are_found_once_each_and_only_with_a_real_escape() {
        let text = "printf(\"%d%%\\n\") 100% %20\nurl=a%2Fb%2Fc\nplain \\u00e9\n\"\\/\" and %41\n";
        let lines = escaped_line_starts(text.as_bytes());
        let line_of = |start: usize| &text[start..start + 4];
        let found: Vec<(&str, Encoding)> = lines.iter().map(|&(s, e)| (line_of(s), e)).collect();
        assert_eq!(
            found,
            [
                ("url=", Encoding::Percent),
                ("\"\\/\"", Encoding::StringEscapes),
                ("\"\\/\"", Encoding::Percent)
            ]
        );
    }

    #[test]
    fn long_lines_are_decoded_around_their_escapes_only() {
        let far = "x".repeat(2 * ESCAPE_WINDOW);
        let near = "x".repeat(ESCAPE_WINDOW);
        let line = format!("{far}a%2Fb{near}c%2Fd{far}e%20f{far}");
        let windows = escape_windows(Encoding::Percent, line.as_bytes());
        let first = far.len() + 1;
        let second = first + 5 + ESCAPE_WINDOW;
        assert_eq!(
            windows,
            [(first - ESCAPE_WINDOW, second + 3 + ESCAPE_WINDOW)],
            "two windows that meet are one; `%20` opens none"
        );
        assert!(escape_windows(Encoding::StringEscapes, line.as_bytes()).is_empty());
        let short = "k=a%2Fb";
        assert_eq!(
            escape_windows(Encoding::Percent, short.as_bytes()),
            [(0, 7)]
        );
        // Windows end at character boundaries.
        let accents = format!(
            "{}a%2Fb{}",
            "é".repeat(ESCAPE_WINDOW),
            "é".repeat(ESCAPE_WINDOW)
        );
        for (start, end) in escape_windows(Encoding::Percent, accents.as_bytes()) {
            assert!(accents.is_char_boundary(start) && accents.is_char_boundary(end));
        }
    }

    #[test]
    fn hex_forms_are_the_keywords_bytes() {
        assert_eq!(Encoding::Hex.keyword_forms(b"AKIA"), ["414b4941"]);
        assert_eq!(Encoding::Hex.keyword_forms(b"AKIAXY"), ["414b4941"]);
        let text = encode_hex(b"id: AKIAXYZ");
        assert!(Encoding::Hex
            .keyword_forms(b"AKIA")
            .iter()
            .all(|f| text.contains(f.as_str())));
        assert!(Encoding::Percent.keyword_forms(b"AKIA").is_empty());
    }

    #[test]
    fn user_password_yields_the_password() {
        let values = Decoding::Base64UserPassword.values(b"ZGVwbG95Omh1bnRlcjI=", None);
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].value, b"hunter2");
        assert!(Decoding::Base64UserPassword
            .values(b"bm8tY29sb24=", None)
            .is_empty());
    }

    #[test]
    fn yaml_values_carry_their_names_and_drop_binary() {
        // `db-password: hunter2`, then `blob:` holding bytes that are not text.
        let block = b"aHVudGVyMg==\n  blob: AAECAw==\n  user: YWRtaW4=";
        let values = Decoding::Base64YamlValues.values(block, Some(b"db-password"));
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].name, Some(&b"db-password"[..]));
        assert_eq!(values[0].value, b"hunter2");
        assert_eq!(values[1].name, Some(&b"user"[..]));
        assert_eq!(values[1].value, b"admin");
    }

    #[test]
    fn names_round_trip() {
        use serde::de::{value::StrDeserializer, IntoDeserializer};
        let from_name = |name: &str| {
            let name: StrDeserializer<'_, serde::de::value::Error> = name.into_deserializer();
            Decoding::deserialize(name).ok()
        };
        for name in ["base64", "base64-user-password", "base64-yaml-values"] {
            assert!(from_name(name).is_some(), "{name}");
        }
        assert!(from_name("rot13").is_none());
    }
}
