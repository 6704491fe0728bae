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

/// A random-looking value: not identifier-like, and either mixing letters
/// and digits or reading unnaturally.
pub fn looks_random(value: &[u8]) -> bool {
    if is_identifier_like(value) {
        return false;
    }
    let (natural, pairs) = naturalness(value);
    let has_digit = value.iter().any(u8::is_ascii_digit);
    let has_letter = value.iter().any(u8::is_ascii_alphabetic);
    (has_digit && has_letter)
        || (pairs >= 6 && natural < 0.45)
        || (!has_letter && value.len() >= 16)
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
}
