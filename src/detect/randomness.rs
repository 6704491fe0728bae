//! Does a string read like words, or like noise?
//!
//! Shannon entropy counts how many distinct characters a string uses, not
//! whether they form words: `SuperSecretPassword42` and `aB3dE9fGh2K` score
//! alike. Two cheaper signals separate generated keys from the identifiers,
//! words and paths that fill source code far better:
//!
//! - **word shape** ([`is_identifier_like`]): code splits into word pieces
//!   at `_`, `.`, `-`, `::` and camelCase humps, and each piece is a word with
//!   at most a short number (`colon2`, `u32`, `INET6`). A random string
//!   breaks into pieces that mix letters and digits at random.
//! - **naturalness** ([`naturalness`]): the share of adjacent letter pairs
//!   that are among the most common English bigrams. Words and identifiers
//!   score about 0.6 and up; uniformly random letters about 0.2.
//!
//! `cargo run --release --example randomness` compares them with entropy
//! on generated keys against the tokens of real code.

/// The most frequent letter pairs in English text and identifiers.
const COMMON_BIGRAMS: &[&[u8; 2]] = &[
    b"th", b"he", b"in", b"er", b"an", b"re", b"on", b"at", b"en", b"nd", b"ti", b"es", b"or",
    b"te", b"of", b"ed", b"is", b"it", b"al", b"ar", b"st", b"to", b"nt", b"ng", b"se", b"ha",
    b"as", b"ou", b"io", b"le", b"ve", b"co", b"me", b"de", b"hi", b"ri", b"ro", b"ic", b"ne",
    b"ea", b"ra", b"ce", b"li", b"ch", b"ll", b"be", b"ma", b"si", b"om", b"ur", b"ca", b"el",
    b"ta", b"la", b"ns", b"di", b"fo", b"ho", b"pe", b"ec", b"pr", b"no", b"ct", b"us", b"ac",
    b"ot", b"il", b"tr", b"ly", b"nc", b"et", b"ut", b"ss", b"so", b"rs", b"un", b"lo", b"wa",
    b"ge", b"ie", b"wh", b"ee", b"wi", b"em", b"ad", b"ol", b"rt", b"po", b"we", b"na", b"ul",
    b"ni", b"ts", b"mo", b"ow", b"pa", b"im", b"mi", b"ai", b"sh", b"ir", b"su", b"id", b"os",
    b"iv", b"ia", b"am", b"fi", b"ci", b"vi", b"pl", b"ig", b"tu", b"ev", b"ke", b"ey", b"ok",
    b"ex", b"ue", b"ag", b"ap", b"ab", b"ty", b"up", b"ry", b"mp",
];

/// Share of adjacent letter pairs (case-folded, within runs of letters)
/// that are common English bigrams, and how many pairs there were.
pub fn naturalness(value: &[u8]) -> (f64, usize) {
    let mut pairs = 0usize;
    let mut common = 0usize;
    for window in value.windows(2) {
        let (a, b) = (window[0], window[1]);
        if !(a.is_ascii_alphabetic() && b.is_ascii_alphabetic()) {
            continue;
        }
        pairs += 1;
        let pair = [a.to_ascii_lowercase(), b.to_ascii_lowercase()];
        if COMMON_BIGRAMS.iter().any(|bigram| **bigram == pair) {
            common += 1;
        }
    }
    if pairs == 0 {
        return (0.0, 0);
    }
    (common as f64 / pairs as f64, pairs)
}

/// Lower case, with the digits and signs people type for letters read as
/// those letters (`P@ssW0rd` -> `password`).
pub fn unleet(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .map(|b| match b.to_ascii_lowercase() {
            b'0' => b'o',
            b'1' => b'i',
            b'3' => b'e',
            b'4' => b'a',
            b'5' => b's',
            b'7' => b't',
            b'@' => b'a',
            b'$' => b's',
            other => other,
        })
        .collect()
}

/// Splits an identifier into its word pieces: at symbols and at camelCase
/// humps (`getHTTPResponse2` → `get`, `HTTP`, `Response2`).
fn word_pieces(value: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 0..value.len() {
        let b = value[i];
        if !b.is_ascii_alphanumeric() {
            if start < i {
                pieces.push(&value[start..i]);
            }
            start = i + 1;
            continue;
        }
        let hump = i > start
            && b.is_ascii_uppercase()
            && (value[i - 1].is_ascii_lowercase()
                || value[i - 1].is_ascii_digit()
                || (value[i - 1].is_ascii_uppercase()
                    && value.get(i + 1).is_some_and(u8::is_ascii_lowercase)));
        if hump {
            pieces.push(&value[start..i]);
            start = i;
        }
    }
    if start < value.len() {
        pieces.push(&value[start..]);
    }
    pieces
}

/// Letters in a word piece from which it must also read naturally.
const LONG_PIECE: usize = 8;

/// A piece of an identifier: letters with at most a short trailing number
/// (`colon2`, `u32`, `INET6`, `SHA256`, `ED25519`), or a number on its own;
/// and if it is long, letters that read like words, since a random
/// lowercase key is one long "piece" too.
fn is_wordish(piece: &[u8]) -> bool {
    let letters = piece.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = &piece[letters..];
    if !digits.iter().all(u8::is_ascii_digit) {
        return false; // letters after digits: `a8f3`, `B3d`
    }
    if letters == 0 {
        return digits.len() <= 8;
    }
    digits.len() <= 5 && (letters < LONG_PIECE || naturalness(&piece[..letters]).0 >= 0.4)
}

/// Is `value` built like an identifier, a constant name, a dotted path or a
/// sentence, rather than generated? Every word piece must be word-shaped.
/// Abbreviations (`bpki`, `setpwd`, `req`) are short pieces and pass.
pub fn is_identifier_like(value: &[u8]) -> bool {
    if is_camel_case_of_words(value) {
        return true;
    }
    let pieces = word_pieces(value);
    if pieces.is_empty() || !pieces.iter().all(|p| is_wordish(p)) {
        return false;
    }
    // Random mixed case also splits into word-shaped pieces, but with the
    // marks of noise: stray single letters (`D`, `P`), several all-caps runs
    // among lowercase (`SHLB4` .. `OX`), digits in several pieces, short
    // pieces whose letters don't read as words (`Zf`, `Jwa`, `Re7`).
    let is_noisy = |segment: &[u8]| {
        let pieces = word_pieces(segment);
        let has_lower = segment.iter().any(u8::is_ascii_lowercase);
        let has_upper = segment.iter().any(u8::is_ascii_uppercase);
        let single_letters = pieces
            .iter()
            .filter(|p| p.len() == 1 && p[0].is_ascii_alphabetic())
            .count();
        let caps_runs = pieces
            .iter()
            .filter(|p| p.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2)
            .count();
        let pieces_with_digits = pieces
            .iter()
            .filter(|p| p.iter().any(u8::is_ascii_digit) && p.iter().any(u8::is_ascii_alphabetic))
            .count();
        single_letters >= 2
            || (has_lower && caps_runs >= 2)
            || (has_lower && has_upper && pieces_with_digits >= 2)
    };
    // Judged per separator-delimited segment: `pseudo_AF_KEY` is three
    // tidy segments, not one noisy one.
    if value.split(|b| !b.is_ascii_alphanumeric()).any(is_noisy) {
        return false;
    }
    let mean_piece = pieces.iter().map(|p| p.len()).sum::<usize>() as f64 / pieces.len() as f64;
    let (natural, pairs) = naturalness(value);
    let reads_naturally = pairs < 4 || natural >= 0.35;
    pieces.len() == 1 || reads_naturally || (mean_piece >= 3.5 && natural >= 0.22)
}

/// A camelCase name of three words or more, letters alone, each word a
/// capital and lowercase letters after the first (`getPublicDashboard`,
/// `UpdateAccessPolicy`), reading somewhat like English: an operation's or
/// a type's name. Compound words (`dashboard`) read less naturally than
/// words, so each need not on its own ([`is_wordish`]); the shape does the
/// work: a uniform draw of letters and digits has it about once in a
/// million (see the randomized test).
fn is_camel_case_of_words(value: &[u8]) -> bool {
    if !value.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let pieces = word_pieces(value);
    let shaped = |piece: &&[u8]| piece.len() >= 3 && piece[1..].iter().all(u8::is_ascii_lowercase);
    pieces.len() >= 3 && pieces.iter().all(shaped) && naturalness(value).0 >= 0.35
}

/// Words a person wrote (`python-gitlab-token_`, `yourAccessTokenHere`):
/// two or more, built like an identifier, capitals only where camelCase
/// puts them, and reading like English, which a random body of this
/// length never does (see the randomized test).
pub fn is_made_of_words(value: &[u8]) -> bool {
    let camel_capitals = value.iter().enumerate().all(|(i, b)| {
        !b.is_ascii_uppercase()
            || (value.get(i + 1).is_some_and(u8::is_ascii_lowercase)
                && (i == 0 || !value[i - 1].is_ascii_uppercase()))
    });
    // Two words at least: one long run of letters reads as English by
    // chance once in some 25,000 random lowercase bodies.
    let words = word_pieces(value).iter().filter(|p| p.len() >= 3).count();
    let (natural, pairs) = naturalness(value);
    camel_capitals && words >= 2 && pairs >= 8 && natural >= 0.6 && is_identifier_like(value)
}

/// A label in kebab-case or snake_case (`md5-crypt`, `ldap-pwd`,
/// `aes128_gcm`): lowercase word pieces, abbreviations and short numbers
/// among them, joined by `-` or `_`. A generator's pieces put letters after
/// digits (`a1b2-c3d4`) or run long without reading as words.
pub fn is_label(value: &[u8]) -> bool {
    value.iter().any(|b| matches!(b, b'-' | b'_'))
        && value
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
        && value.split(|b| matches!(b, b'-' | b'_')).all(|piece| {
            !piece.is_empty() && piece.iter().any(u8::is_ascii_lowercase) && is_wordish(piece)
        })
}

/// A random-looking value: not identifier-like, and either mixing letters
/// and digits or reading unnaturally.
pub fn looks_random(value: &[u8]) -> bool {
    // snake_case or kebab-case of lowercase letters (`env_var_sak`), or a
    // constant's name (`AWS_PAYMENT_CRYPTOGRAPHY`): a name, however its
    // pieces read. No key alphabet writes `_` between capitals alone.
    let separators = value.iter().filter(|b| matches!(b, b'_' | b'-')).count();
    let cased_name = separators >= 2
        && value
            .iter()
            .all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'-'));
    if is_label(value) {
        return false;
    }
    let constant_name = separators >= 1
        && value.split(|&b| b == b'_').all(|segment| {
            segment.first().is_some_and(u8::is_ascii_uppercase)
                && segment
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
    if cased_name || constant_name || is_identifier_like(value) {
        return false;
    }
    let (natural, pairs) = naturalness(value);
    let has_digit = value.iter().any(u8::is_ascii_digit);
    let has_letter = value.iter().any(u8::is_ascii_alphabetic);
    (has_digit && has_letter)
        || (pairs >= 6 && natural < 0.45)
        || (!has_letter && value.len() >= 16)
}

/// Could a generator have written this? Statistics of the characters that
/// a uniform generator makes vanishingly rare (each test below fires on
/// fewer than one random value in 10,000), but a person inventing a
/// "random" value at a keyboard produces all the time:
///
/// - letters from one region of the keyboard: the home row
///   (`askfjh234as9sd8`), or one hand (`wFGEwgregeqw3435gDger`);
/// - the same three characters again and again (`GDE43t43REG…t34qT43t4`);
/// - letters and digits alternating too regularly, or in two blocks
///   (`d8b4c2e1f07a4c3e…`, the shape of an invented hex string);
/// - a long run of one character (`…VYzzzzzzzzzyAK…`);
/// - hex that spells (`…deadc62…beef…cafe…`).
pub fn is_typed_by_hand(value: &[u8]) -> bool {
    const ONE_IN: f64 = 1e-4;
    let letters: Vec<u8> = value
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .map(u8::to_ascii_lowercase)
        .collect();
    // Hex letters (`a`-`f`) all sit under the left hand: no evidence there.
    let hex_letters = letters.iter().all(|b| (b'a'..=b'f').contains(b));
    let one_region = !hex_letters
        && KEYBOARD_REGIONS.iter().any(|region| {
            let share = region.len() as f64 / 26.0;
            let inside = letters.iter().filter(|b| region.contains(b)).count();
            let longest = longest_run(&letters, |b| region.contains(b));
            letters.len() >= 8
                && (binomial_tail(letters.len(), inside, share) < ONE_IN
                    // Three regions, each its run: one in 10,000 in all.
                    || run_chance(letters.len(), longest, share) < ONE_IN / 3.0)
        });
    // Base64 of text or of binary structure (JSON, DER, length fields)
    // repeats itself by construction: only the keyboard tells there.
    let structured = encodes_structure(value);
    one_region
        || (!structured
            && (repeats_too_often(value, ONE_IN / 10.0)
                || alternates_unevenly(value)
                || has_long_run(value, ONE_IN / 10.0)))
        || spells_in_hex(value)
}

/// The fewest bits a generator could have put into this value: its length
/// times the bits of a character of the alphabet it draws from. A key made
/// by a machine holds 64 or more (16 hex digits, 11 of base62).
pub fn strength_bits(value: &[u8]) -> f64 {
    value.len() as f64 * alphabet_size(value).log2()
}

/// Percent-encoding, or base64 whose bytes are mostly printable text or
/// hold zero bytes: an encoding of something structured, whose characters
/// are not drawn one by one.
fn encodes_structure(value: &[u8]) -> bool {
    // Percent-escapes (`%2F%3D`) repeat `%` and a digit by construction:
    // two or more undone shorten the value by four bytes or more.
    let unescaped = crate::decode::Encoding::Percent.decode(value);
    if unescaped.is_some_and(|d| d.text.len() + 4 <= value.len()) {
        return true;
    }
    let Some(decoded) = crate::decode::base64(value) else {
        return false;
    };
    let printable = decoded
        .iter()
        .filter(|b| (0x20..0x7f).contains(*b) || matches!(b, b'\n' | b'\t'))
        .count();
    let zeros = decoded.iter().filter(|&&b| b == 0).count();
    decoded.len() >= 6 && (printable * 10 >= decoded.len() * 9 || zeros >= 2)
}

/// Letters of one part of a QWERTY keyboard: the home row, each hand.
const KEYBOARD_REGIONS: [&[u8]; 3] = [b"asdfghjkl", b"qwertasdfgzxcvb", b"yuiophjklnm"];

/// The longest run of `letters` in a row for which `inside` holds.
fn longest_run(letters: &[u8], inside: impl Fn(&u8) -> bool) -> usize {
    let (mut longest, mut current) = (0, 0);
    for b in letters {
        current = if inside(b) { current + 1 } else { 0 };
        longest = longest.max(current);
    }
    longest
}

/// An upper bound on the chance that `n` draws, each inside with chance
/// `p`, hold a run of `run` inside in a row (a union bound over where the
/// run starts: at the first draw, or after one outside).
fn run_chance(n: usize, run: usize, p: f64) -> f64 {
    if run == 0 || run > n {
        return 1.0;
    }
    let starts = (n - run) as f64;
    p.powi(run as i32) * (1.0 + starts * (1.0 - p))
}

/// P(X >= k) for X ~ Binomial(n, p).
fn binomial_tail(n: usize, k: usize, p: f64) -> f64 {
    let mut total = 0.0;
    let mut choose = 1.0; // C(n, i), built up as i grows
    for i in 0..=n {
        if i > 0 {
            choose = choose * (n + 1 - i) as f64 / i as f64;
        }
        if i >= k {
            total += choose * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32);
        }
    }
    total
}

/// How many characters a generator of this value would draw from: the
/// classes it uses (hex counts as 16).
fn alphabet_size(value: &[u8]) -> f64 {
    if value.iter().all(u8::is_ascii_hexdigit) {
        return 16.0;
    }
    let lower = value.iter().any(u8::is_ascii_lowercase);
    let upper = value.iter().any(u8::is_ascii_uppercase);
    let digit = value.iter().any(u8::is_ascii_digit);
    let other = value.iter().any(|b| !b.is_ascii_alphanumeric());
    (26.0 * f64::from(u8::from(lower))
        + 26.0 * f64::from(u8::from(upper))
        + 10.0 * f64::from(u8::from(digit))
        + 4.0 * f64::from(u8::from(other)))
    .max(10.0)
}

/// Pairs of non-overlapping places holding the same three characters,
/// against the Poisson expectation for uniform draws.
fn repeats_too_often(value: &[u8], one_in: f64) -> bool {
    if value.len() < 9 {
        return false;
    }
    let triples: Vec<&[u8]> = value.windows(3).collect();
    let mut places = 0usize;
    let mut repeats = 0u32;
    for i in 0..triples.len() {
        for j in i + 3..triples.len() {
            places += 1;
            repeats += u32::from(triples[i] == triples[j]);
        }
    }
    let expected = places as f64 / alphabet_size(value).powi(3);
    poisson_tail(expected, repeats) < one_in
}

/// P(X >= k) for X ~ Poisson(mean).
fn poisson_tail(mean: f64, k: u32) -> f64 {
    let mut term = (-mean).exp(); // P(X = 0)
    let mut below = 0.0;
    for i in 0..k {
        below += term;
        term *= mean / f64::from(i + 1);
    }
    (1.0 - below).max(0.0).max(term)
}

/// The Wald-Wolfowitz runs test on letters against digits: far more
/// changes between them than chance gives, or far fewer (`abcdef123456`).
fn alternates_unevenly(value: &[u8]) -> bool {
    let kinds: Vec<bool> = value
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::is_ascii_digit)
        .collect();
    let digits = kinds.iter().filter(|&&d| d).count() as f64;
    let letters = kinds.len() as f64 - digits;
    if kinds.len() < 16 || digits < 4.0 || letters < 4.0 {
        return false;
    }
    let n = kinds.len() as f64;
    let runs = 1.0 + kinds.windows(2).filter(|w| w[0] != w[1]).count() as f64;
    let mean = 2.0 * letters * digits / n + 1.0;
    let variance = 2.0 * letters * digits * (2.0 * letters * digits - n) / (n * n * (n - 1.0));
    // |z| > 4.4: about one in 100,000 of uniform draws.
    ((runs - mean) / variance.sqrt()).abs() > 4.4
}

/// One character repeated longer than uniform draws of this alphabet
/// would repeat it.
fn has_long_run(value: &[u8], one_in: f64) -> bool {
    // Runs of `A` and `0` are zero bytes in base64 and hex: structure.
    let longest = value
        .chunk_by(|a, b| a == b)
        .filter(|run| !matches!(run[0], b'A' | b'0' | b'='))
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    longest >= 3 && value.len() as f64 * alphabet_size(value).powi(1 - longest as i32) < one_in
}

/// Digits or letters counting up or down by one (`56789`, `eFgH`, `9876`)
/// longer than uniform draws of this alphabet would make (fewer than one
/// in 100,000): `n` such characters in a row come once in
/// `alphabet^(n-1)` places, each way. A person typed them. Strict, since
/// a password a person chose for real holds `1234` often enough.
///
/// Hex is also read as the bytes it writes: bytes counting
/// (`000102030405…`, `0f0e0d0c…`) are a test's made-up key or token.
pub fn has_straight(value: &[u8]) -> bool {
    const ONE_IN: f64 = 1e-5;
    let lower = value.to_ascii_lowercase();
    let same_class = |a: u8, b: u8| {
        (a.is_ascii_digit() && b.is_ascii_digit())
            || (a.is_ascii_lowercase() && b.is_ascii_lowercase())
    };
    let longest = longest_straight(&lower, same_class);
    let rare = |longest: usize, places: usize, alphabet: f64| {
        longest >= 4 && 2.0 * places as f64 * alphabet.powi(1 - longest as i32) < ONE_IN
    };
    rare(longest, value.len(), alphabet_size(value))
        || crate::decode::hex(value)
            .is_some_and(|bytes| rare(longest_straight(&bytes, |_, _| true), bytes.len(), 256.0))
}

/// The longest run of `seq` counting up or down by one, each neighbour
/// pair also `alike`.
fn longest_straight(seq: &[u8], alike: impl Fn(u8, u8) -> bool) -> usize {
    let mut longest = 1;
    for step in [1i16, -1] {
        let mut run = 1;
        for pair in seq.windows(2) {
            let follows =
                alike(pair[0], pair[1]) && i16::from(pair[1]) - i16::from(pair[0]) == step;
            run = if follows { run + 1 } else { 1 };
            longest = longest.max(run);
        }
    }
    longest
}

/// Hex that holds two or more of the words hex can spell.
fn spells_in_hex(value: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"dead", b"beef", b"cafe", b"babe", b"face", b"fade", b"feed", b"deaf", b"bead", b"c0de",
        b"f00d", b"d00d", b"c0ffee", b"b00b", b"0ff1ce", b"decade", b"facade",
    ];
    if value.len() < 16 || !value.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let spelled: usize = WORDS
        .iter()
        .map(|w| memchr::memmem::find_iter(&lower, w).count())
        .sum();
    spelled >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_words_are_not_random() {
        for value in [
            "SuperSecretPassword42",
            "_bindgen_ty_7",
            "colon2_token",
            "crate::__u32",
            "getHTTPResponse2",
            "IFLA_INET6_TOKEN",
            "RecursiveZeroOrMore",
            "node.colon2_token",
            "prod-db-credentials-2024",
            "my_application_secret_name",
            "ObjectIdentifier",
            "bpki-ct-setpwd-req",
            "default_val",
            "LIBSSH2_KNOWNHOST_KEY_ED25519",
            "NL80211_KEY_DEFAULT_BEACON",
            "id-skd-glKey",
            "uddiv3BusinessKey",
            "pkcs-9-at-pkcs15Token",
            "crate::__u32",
            "pseudo_AF_KEY",
        ] {
            assert!(is_identifier_like(value.as_bytes()), "{value}");
            assert!(!looks_random(value.as_bytes()), "{value}");
        }
        // A constant's name, whatever its words, and a kebab-case label.
        for value in [
            "AWS_PAYMENT_CRYPTOGRAPHY",
            "X509_V_FLAG_CRL_CHECK",
            "md5-crypt",
            "aes128_gcm",
        ] {
            assert!(!looks_random(value.as_bytes()), "{value}");
        }
        for value in ["a1b2-c3d4", "e3b0c442-98fc", "qzxjvkwpfb-mhtrd"] {
            assert!(!is_label(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn generated_keys_are_random() {
        for value in [
            "aB3dE9fGh2Kq7LmN",
            "9f86d081884c7d659a2feaa0c55ad015",
            "qwhfkzpxmvtrbgcj",
            "x7Rt_2mQp-Zk9aLw",
            "kP4x/Q7+zR2mW9vB",
            "zxcvqwrtplkjhgfd",
            "HETCPFI7SDzLGGYfXlqHQ",
            "Zf#JwaXCTG80LRe7",
        ] {
            assert!(looks_random(value.as_bytes()), "{value}");
        }
    }

    /// Random strings of the alphabets keys use are almost never mistaken
    /// for identifiers (measured over many draws, fixed seed).
    #[test]
    fn random_strings_rarely_look_like_identifiers() {
        use crate::rules::examples::{alphabet, random_string, Rng};
        let mut rng = Rng::seeded(7);
        for (name, length, max_rate) in [
            ("b62", 12, 0.08),
            ("b62", 16, 0.02),
            ("b62", 24, 0.01),
            ("b64url", 32, 0.01),
            ("hex", 32, 0.001),
        ] {
            let draws = 5000;
            let identifier_like = (0..draws)
                .filter(|_| {
                    is_identifier_like(
                        random_string(alphabet(name).unwrap(), length, &mut rng).as_bytes(),
                    )
                })
                .count();
            let rate = identifier_like as f64 / draws as f64;
            assert!(rate <= max_rate, "{name}:{length}: {rate}");
        }
    }

    #[test]
    fn naturalness_separates_words_from_noise() {
        assert!(naturalness(b"interpretation").0 > 0.6);
        assert!(naturalness(b"qzxjvkwpfybgmh").0 < 0.2);
    }
    #[test]
    fn values_typed_by_hand_are_told_apart() {
        for value in [
            "askfjh234as9sd8",
            "askdjghsdfjkghWupUjasdflkdfklgjsdfjajkghs",
            "wFGEwgregeqw3435gDger",
            "GDE43t43REGTrkilg43934t34qT43t4dgegerGEgg",
            "asdff7896asdh789",
            "d8b4c2e1f07a4c3e8a1b5d0a9c7f3e42b6d9a1c4f8e2b7d0a3c6e9f1b4d7a0c3",
            "ECrDNoq1VYzzzzzzzzzyAK7TwZNtPnkqatqZZZZ",
            "e3b68aa711e6deadc62d5b76355674beef7cc3116062ddbacafe5f7e465bfdc9",
            "abcdefghijkl123456789012",
            // A run along the home row in the middle of other keys.
            "QEKjfhdakkdjfhwi~",
        ] {
            assert!(is_typed_by_hand(value.as_bytes()), "{value}");
        }
        for value in [
            "aB3dE9fGh2Kq7LmN",
            "9f86d081884c7d659a2feaa0c55ad015",
            "x7Rt_2mQp-Zk9aLw",
            "HETCPFI7SDzLGGYfXlqHQ",
            // Encoded structure repeats itself, but is not typed.
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
            "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            "FwoGZXIvYXdzEBYaDHhBTEVaQlVrcnRzTiLEAVGNtX",
        ] {
            assert!(!is_typed_by_hand(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn words_are_told_from_random_bodies() {
        for words in [
            "python-gitlab-token_",
            "yourAccessTokenHere",
            "my_deploy_token_for_ci",
        ] {
            assert!(is_made_of_words(words.as_bytes()), "{words}");
        }
        for short in ["ab_cd", "Token"] {
            assert!(!is_made_of_words(short.as_bytes()), "{short}");
        }
        let alphabets = ["b62", "b64url", "hex", "lower", "lownum", "upnum"];
        for (name, worded) in taken_from_draws(29, &alphabets, 50_000, (16, 48), is_made_of_words) {
            assert!(worded.is_empty(), "{name}: {worded:?}");
        }
    }

    /// Uniform draws from the alphabets keys use (named as in
    /// `rules::examples`), `count` of each, their lengths from `shortest`
    /// to `shortest + spread - 1` in turn; for each alphabet, the draws
    /// `taken` picks out.
    fn taken_from_draws<'a>(
        seed: u64,
        alphabets: &[&'a str],
        count: usize,
        (shortest, spread): (usize, usize),
        taken: impl Fn(&[u8]) -> bool,
    ) -> Vec<(&'a str, Vec<String>)> {
        use crate::rules::examples::{alphabet, random_string, Rng};
        let mut rng = Rng::seeded(seed);
        let drawn_from = |name: &'a str, rng: &mut Rng| {
            let chars = alphabet(name).expect("an alphabet of rules::examples");
            let taken = (0..count)
                .map(|i| random_string(chars, shortest + i % spread, rng))
                .filter(|v| taken(v.as_bytes()))
                .collect();
            (name, taken)
        };
        alphabets
            .iter()
            .map(|name| drawn_from(name, &mut rng))
            .collect()
    }

    /// Operation and type names in camelCase are names, compound words
    /// and all; uniform draws of the alphabets keys use almost never are.
    #[test]
    fn camel_case_names_are_identifiers_and_random_draws_are_not() {
        for name in [
            "getPublicDashboard",
            "updatePublicDashboard",
            "UpdateAccessPolicy",
        ] {
            assert!(is_identifier_like(name.as_bytes()), "{name}");
        }
        for value in ["getPublicDashboard2", "getPDashboard", "gtPubDashboard"] {
            assert!(!is_camel_case_of_words(value.as_bytes()), "{value}");
        }
        let alphabets = ["b62", "b64url", "lower", "upnum", "lownum"];
        let taken: usize =
            taken_from_draws(17, &alphabets, 20_000, (12, 29), is_camel_case_of_words)
                .iter()
                .map(|(_, taken)| taken.len())
                .sum();
        assert!(taken <= 1, "{taken} of 100,000 draws");
    }

    /// Each test of [`is_typed_by_hand`] is set to fire on fewer than one
    /// uniform draw in 10,000; all together, measured over many draws of
    /// the alphabets keys use (fixed seed), under 1 in 1,000.
    #[test]
    fn random_strings_are_rarely_taken_for_typed() {
        for typed in [
            "tR7k23456",
            "Lp8vutsrq",
            "wq2MnOpQ",
            "000102030405060708090a0b0c0d0e0f",
            "0f0e0d0c0b0a09080706050403020100",
        ] {
            assert!(has_straight(typed.as_bytes()), "{typed}");
        }
        // Four in a row in a chosen password: kept.
        assert!(!has_straight(b"MyDog1234!"));
        // Runs of four that chance makes: in 40 of base62, in 16 hex digits.
        for drawn in [
            "X7d3Abcd9QpLm2Rz8TwYk4Nv6HsJe1Uf5GiOa0Cb",
            "9e0a1234c7d4e5f6",
        ] {
            assert!(!has_straight(drawn.as_bytes()), "{drawn}");
        }
        let draws = 20_000;
        let alphabets = ["b62", "hex", "HEX", "b64url", "lower", "upnum", "lownum"];
        let typed_or_straight = |v: &[u8]| is_typed_by_hand(v) || has_straight(v);
        for (name, typed) in taken_from_draws(11, &alphabets, draws, (10, 55), typed_or_straight) {
            assert!(
                typed.len() * 1000 <= draws,
                "{name}: {} of {draws}, e.g. {:?}",
                typed.len(),
                &typed[..typed.len().min(6)]
            );
        }
    }
}
