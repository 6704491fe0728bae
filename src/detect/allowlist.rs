//! Reasons not to report a match: inline markers, placeholders, and (for
//! the loose `name = value` rules) values that are not random enough to be
//! a credential.

use std::sync::LazyLock;

use super::randomness;

/// Markers that suppress every finding on their line. `gitleaks:allow` and
/// detect-secrets' pragma are honoured so people can move over unchanged.
const INLINE_ALLOW_MARKERS: &[&str] = &[
    "keyguard:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Lower-case fragments that mark a value as a stand-in, not a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "****",
    "...",
    "…",
    "your",
    "example",
    "sample",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "dummy",
    "redacted",
    "replace",
    "insert",
    "fake",
    "password",
    "passwd",
    "secret",
    "todo",
    "fixme",
    "null",
    "none",
    "undefined",
    "foobar",
    "lorem",
    "notreal",
    "not-a-real",
    "not_a_real",
    "mock",
    "<",
    ">",
    "${",
    "{{",
    "$(",
    "%(",
    "#{",
];

/// Suffixes of a variable name that say its value is not the secret itself
/// (`secret_name`, `token_url`, `password_length`, ...).
const NON_SECRET_NAME_SUFFIXES: &[&str] = &[
    "name",
    "id",
    "ids",
    "type",
    "file",
    "path",
    "dir",
    "url",
    "uri",
    "length",
    "len",
    "size",
    "count",
    "header",
    "field",
    "prefix",
    "format",
    "ttl",
    "expiry",
    "expires",
    "endpoint",
    "version",
    "mode",
    "policy",
    "ref",
    "arn",
    "env",
    "var",
    "key_id",
    "keyid",
    "hash",
    "label",
    "public",
    "digest",
    "fingerprint",
    "checksum",
    // What kind of secret, not the secret: `password_algorithm = 'md5-crypt'`,
    // `SECRET_ID_PATTERN = "([a-z…]+)"`.
    "algorithm",
    "algo",
    "scheme",
    "method",
    "pattern",
    "regex",
    "regexp",
];

/// Searchers for the markers, built once: building one costs more than
/// searching a line.
static INLINE_ALLOW_FINDERS: LazyLock<Vec<memchr::memmem::Finder<'static>>> = LazyLock::new(|| {
    INLINE_ALLOW_MARKERS
        .iter()
        .map(|m| memchr::memmem::Finder::new(m.as_bytes()))
        .collect()
});

/// Does this line carry an inline allow marker?
pub fn has_inline_allow(line: &[u8]) -> bool {
    // Every marker contains `allow`: one cheap search rules most lines out.
    static ALLOW: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"allow"));
    ALLOW.find(line).is_some() && INLINE_ALLOW_FINDERS.iter().any(|f| f.find(line).is_some())
}

/// Is a value that follows `before` (the text before it on its line)
/// introduced as an example (`e.g.: dO29Q~…`, `for example, AKIA…`)? Those
/// words before a value say what it is; nobody introduces their own key so.
/// Only the words right before the value count, up to a few signs.
pub fn is_introduced_as_example(before: &[u8]) -> bool {
    const MARKERS: [&[u8]; 5] = [b"e.g.", b"e.g", b"eg.", b"for example", b"for instance"];
    // Spaces and up to three signs between the words and the value.
    let (mut end, mut signs) = (before.len(), 0);
    while let Some(&b) = end.checked_sub(1).and_then(|i| before.get(i)) {
        if b.is_ascii_whitespace() {
            end -= 1;
        } else if signs < 3 && matches!(b, b':' | b',' | b'(' | b'"' | b'\'' | b'`') {
            (end, signs) = (end - 1, signs + 1);
        } else {
            break;
        }
    }
    let words = &before[..end];
    MARKERS.iter().any(|marker| {
        words.len() >= marker.len()
            && words[words.len() - marker.len()..].eq_ignore_ascii_case(marker)
            && (words.len() == marker.len()
                || !words[words.len() - marker.len() - 1].is_ascii_alphanumeric())
    })
}

/// Values that any rule should skip: masks (`xxxx`, `****`, `0000`) that
/// make up at least half of the value, and the documented "EXAMPLE" keys.
///
/// The mask is judged by how much of the value it covers, never by its mere
/// presence: real structured credentials hold runs too. Every OpenSSH
/// private key body starts `b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB`
/// (length fields of zero bytes encode as runs of `A`), and DER, protobuf and
/// JSON-derived bodies do the same; a run of six letters rejected all of
/// them. A uniformly random key never has half of itself in runs.
pub fn is_obvious_placeholder(secret: &[u8]) -> bool {
    // Seven given letters: by chance once in 10^10 characters of base64,
    // while AWS's documented session tokens carry `EXAMPLE` in 400.
    if contains_ignore_case(secret, b"example") {
        return true;
    }
    // Six or more `x` or `*` in a row mask the rest of a key
    // (`AIza…0MPHXXXXXXXXXX`): by chance once in 10^9 characters of base64.
    let masks_a_tail = secret
        .chunk_by(|a, b| a == b)
        .any(|run| run.len() >= 6 && matches!(run[0], b'x' | b'X' | b'*'));
    masks_a_tail || (masked_len(secret) * 2 >= secret.len() && !secret.is_empty())
}

/// How many bytes of `value` sit in runs of four or more of one character
/// (case-insensitive): the `xxxx`, `****` and `0000` of a masked key.
fn masked_len(value: &[u8]) -> usize {
    const MIN_RUN: usize = 4;
    let mut masked = 0;
    let mut run = 0;
    for (i, &b) in value.iter().enumerate() {
        if i > 0 && value[i - 1].eq_ignore_ascii_case(&b) {
            run += 1;
        } else {
            run = 1;
        }
        if run == MIN_RUN {
            masked += MIN_RUN;
        } else if run > MIN_RUN {
            masked += 1;
        }
    }
    masked
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// For loose `name = value` rules: does the name say the value is not a
/// secret (an id, a file name, a URL, a length)?
pub fn is_non_secret_name(name: &[u8]) -> bool {
    let end = name
        .iter()
        .rposition(|b| b.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let name = without_numbered_tail(&name[..end]);
    // `_token`, exactly: the CSRF field of Laravel's and Symfony's forms,
    // sent with every page.
    if name == b"_token" {
        return true;
    }
    // `sign-key-sha3-384`, `content_md5`: a digest of something, public.
    let lower = name.to_ascii_lowercase();
    let names_a_digest = lower
        .windows(4)
        .any(|w| w.starts_with(b"sha") && w[3].is_ascii_digit())
        || memchr::memmem::find(&lower, b"md5").is_some();
    // `public_key`, `publishableKey`: published on purpose. `key_hash`,
    // `certFingerprint`: a digest, public. `wrappedKey`, `ciphertext`:
    // opens nothing without the key that wrapped it. Not `encrypted`: code
    // that ships an encrypted secret ships the way to open it too (rclone's
    // `rcloneEncryptedClientSecret`, obscured under a key in its source).
    const NOT_THE_SECRET: &[&[u8]] = &[
        b"public",
        b"publishable",
        b"hash",
        b"hashed",
        b"digest",
        b"checksum",
        b"fingerprint",
        b"thumbprint",
        b"wrapped",
        b"ciphertext",
    ];
    let words: Vec<&[u8]> = name
        .split(|b| !b.is_ascii_alphanumeric())
        .flat_map(camel_words)
        .collect();
    // `encrypted_key` (JWE, RFC 7516), `EncryptedKey` (XML Encryption): a
    // content key wrapped for its recipient, not the content's secret.
    let names_a_wrapped_key = matches!(
        words[..],
        [.., encrypted, key] if encrypted.eq_ignore_ascii_case(b"encrypted") && key.eq_ignore_ascii_case(b"key")
    );
    let names_not_the_secret = names_a_wrapped_key
        || words
            .iter()
            .any(|w| NOT_THE_SECRET.iter().any(|n| w.eq_ignore_ascii_case(n)));
    if names_a_digest || names_not_the_secret || names_a_handle(&lower) {
        return true;
    }
    NON_SECRET_NAME_SUFFIXES.iter().any(|suffix| {
        let Some(start) = name.len().checked_sub(suffix.len()) else {
            return false;
        };
        if !name[start..].eq_ignore_ascii_case(suffix.as_bytes()) {
            return false;
        }
        // The suffix must be a word of its own: `token_url`, `tokenUrl`,
        // `TOKEN_URL`, not the tail of a longer word (`paid`).
        start == 0
            || !name[start - 1].is_ascii_alphanumeric()
            || (name[start].is_ascii_uppercase() && name[start - 1].is_ascii_lowercase())
            || suffix.len() >= 4
    })
}

/// A name without the numbers that count its copies or its section
/// (`JWE_Encrypted_Key_5_7_3`, `client_secret_2`): what is left says what
/// the value is. A number joined to a word (`sha256`, `key2`) stays.
fn without_numbered_tail(name: &[u8]) -> &[u8] {
    let mut name = name;
    while let Some(sep) = name.iter().rposition(|b| matches!(b, b'_' | b'-' | b'.')) {
        let tail = &name[sep + 1..];
        if sep == 0 || tail.is_empty() || !tail.iter().all(u8::is_ascii_digit) {
            break;
        }
        name = &name[..sep];
    }
    name
}

/// Names of values that travel in the open: pagination, idempotency and
/// concurrency tokens (`NextToken`, `ClientToken`, `version_token`), CSRF
/// and domain-verification
/// tokens, lookup and cache keys (`instance-key`, `result_key`,
/// `cached_token_key`), salts. Compared without separators.
fn names_a_handle(lower: &[u8]) -> bool {
    const HANDLES: &[&[u8]] = &[
        b"nexttoken",
        b"continuationtoken",
        b"pagetoken",
        b"paginationtoken",
        b"clienttoken",
        // AWS's idempotency parameter (`ClientRequestToken`).
        b"clientrequesttoken",
        b"idempotencytoken",
        b"synctoken",
        // Optimistic concurrency: a record's version, echoed back on update
        // (a payment's `version_token`, `ConcurrencyToken`, `changeToken`).
        b"versiontoken",
        b"concurrencytoken",
        b"changetoken",
        b"inputtoken",
        b"outputtoken",
        b"termtoken",
        b"csrftoken",
        b"authenticitytoken",
        b"resultkey",
        b"limitkey",
        b"cachekey",
        b"instancekey",
        b"objectkey",
        b"partitionkey",
        b"sortkey",
        b"primarykey",
        b"foreignkey",
        b"idempotencykey",
        b"websocketkey",
        b"websocketaccept",
        // Domain-verification tokens are published in a DNS TXT record.
        b"verificationtoken",
        b"salt",
    ];
    let squashed = squashed(lower);
    // Whatever a cache is keyed by (`cached_token_key`, `tokenCacheKey`)
    // is a digest of something, looked up, never sent.
    HANDLES.iter().any(|h| squashed.ends_with(h))
        || memchr::memmem::find(&squashed, b"cache").is_some()
}

/// The words of a camelCase name (`publishableKey` -> `publishable`, `Key`).
fn camel_words(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut words = Vec::new();
    for i in 1..=name.len() {
        if i == name.len() || (name[i].is_ascii_uppercase() && name[i - 1].is_ascii_lowercase()) {
            words.push(&name[start..i]);
            start = i;
        }
    }
    words.into_iter()
}

/// Names that hold a password: people choose those, so they need not look
/// generated, only not like a placeholder or an identifier.
fn is_password_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [&b"passw"[..], b"pwd", b"passwd"]
        .iter()
        .any(|p| memchr::memmem::find(&lower, p).is_some())
}

/// A placeholder, or a look-up or code that stands for the value: `$VAR`,
/// `%VAR%`, `getenv(..)`, `ENV[..]`.
fn is_stand_in(value: &[u8]) -> bool {
    has_placeholder_word(value)
        || starts_with_stand_in_word(value)
        || is_hex_with_a_word_typed_in(value)
        || value.starts_with(b"$")
        || value.starts_with(b"%")
        || is_call(value)
}

/// Words that open a value someone made up for a test or an example
/// (`test123TMM^&`, `abc123@ %`, `foo/bar`, `pass[`, `user "3;,?`), when the
/// value starts with the word and the word ends there. A generated value
/// starts so about once in 30,000 draws (three given letters, then not a
/// letter); these words are too common inside real keys to be placeholders
/// anywhere else (`sk_test_`).
const STAND_IN_OPENERS: &[&[u8]] = &[
    b"test", b"abc", b"foo", b"bar", b"baz", b"pass", b"pwd", b"user", b"admin", b"demo", b"guest",
    b"qwerty", b"letmein",
];

fn starts_with_stand_in_word(value: &[u8]) -> bool {
    let letters = value.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    // Hex opens with `abc` once in 4,096: hex is judged as hex.
    letters < value.len()
        && !value.iter().all(u8::is_ascii_hexdigit)
        && STAND_IN_OPENERS
            .iter()
            .any(|w| value[..letters].eq_ignore_ascii_case(w))
}

/// Hex with a stand-in word typed into it (`20foox66c637…`): a digest
/// edited by hand for a test. A word with a letter beyond `f` never
/// appears in hex; the rest must be hex, 16 digits or more.
fn is_hex_with_a_word_typed_in(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    STAND_IN_OPENERS.iter().any(|word| {
        word.iter().any(|b| !b.is_ascii_hexdigit())
            && memchr::memmem::find(&lower, word).is_some_and(|at| {
                let rest = [&lower[..at], &lower[at + word.len()..]].concat();
                let outside = rest.iter().filter(|b| !b.is_ascii_hexdigit()).count();
                rest.len() - outside >= 16 && outside <= 2
            })
    })
}

/// Does the value hold a placeholder word, written plainly, in leetspeak
/// (`P@ssW0rd!`, `sup3rs3cr3t`), or with some letters swapped for digits
/// or signs (`pa33w0rd`)?
fn has_placeholder_word(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    let plain = randomness::unleet(value);
    PLACEHOLDER_WORDS.iter().any(|w| {
        memchr::memmem::find(&lower, w.as_bytes()).is_some()
            || (w.bytes().all(|b| b.is_ascii_alphabetic())
                && (memchr::memmem::find(&plain, w.as_bytes()).is_some()
                    || has_disguised_word(&lower, w.as_bytes())))
    })
}

/// `word` (six letters or more) in `lower` with fewer than half of its
/// letters swapped for non-letters, each in its own place: `pa33w0rd` is
/// `password`. Four given letters in place, the rest not letters, come by
/// chance about once in 10^7 windows of a generated value.
fn has_disguised_word(lower: &[u8], word: &[u8]) -> bool {
    word.len() >= 6
        && lower.windows(word.len()).any(|window| {
            let mut same = 0;
            let fits = window.iter().zip(word).all(|(&got, &want)| {
                same += usize::from(got == want);
                got == want || !got.is_ascii_alphabetic()
            });
            fits && same * 2 > word.len()
        })
}

/// For a password a person chose (a connection URL's): not a placeholder
/// or a look-up, and not a name made of words (`MySecret`, `salt-passwd`,
/// `password12345`). Unlike a loose rule's value it need not mix kinds of
/// character: random letters alone are a password.
///
/// Judged as written once escapes are undone (`foo%2Fbar` is `foo/bar`,
/// `\u2163` is one character): what is too short then is a test's.
pub fn looks_like_chosen_password(value: &[u8]) -> bool {
    use crate::decode::Encoding;
    let mut plain = value.to_vec();
    for encoding in [Encoding::Percent, Encoding::StringEscapes] {
        if let Some(decoded) = encoding.decode(&plain) {
            plain = decoded.text.into_bytes();
        }
    }
    const SHORTEST: usize = 6;
    if String::from_utf8_lossy(&plain).chars().count() < SHORTEST {
        return false;
    }
    // `pässword` is the word with an accent: a URL parser's test of
    // non-ASCII input, judged as the word.
    let plain = fold_accents(&plain);
    let made_of_words =
        randomness::is_identifier_like(&plain) && randomness::naturalness(&plain).0 >= 0.5;
    !(is_stand_in(&plain) || made_of_words || names_a_credential(&plain))
}

/// Latin letters with diacritics (U+00C0 to U+00FF) read as their base
/// letters; other bytes unchanged. Text that is not UTF-8 is kept as is.
fn fold_accents(value: &[u8]) -> Vec<u8> {
    // One base letter per code point from U+00C0; `\0` keeps the character.
    const BASES: &[u8; 64] =
        b"AAAAAAACEEEEIIIIDNOOOOO\0OUUUUY\0saaaaaaaceeeeiiiidnooooo\0ouuuuy\0y";
    let Ok(text) = std::str::from_utf8(value) else {
        return value.to_vec();
    };
    let mut folded = Vec::with_capacity(value.len());
    for c in text.chars() {
        let base = u32::from(c)
            .checked_sub(0xC0)
            .and_then(|i| BASES.get(i as usize))
            .filter(|&&b| b != 0);
        match base {
            Some(&b) => folded.push(b),
            None => folded.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    folded
}

/// For loose `name = value` rules: could `value` be a real credential?
/// Rejects placeholders, variable and environment look-ups, code,
/// identifiers, words, paths and URLs; what remains must look generated
/// (see [`randomness`]), except under a password-like name.
pub fn looks_like_credential(value: &[u8], name: Option<&[u8]>) -> bool {
    if is_stand_in(value) {
        return false;
    }
    // Paths and plain URLs. A leading `/` alone is not a path: one base64
    // key in 64 starts with it.
    if is_absolute_path(value)
        || value.starts_with(b"./")
        || value.starts_with(b"../")
        || value.starts_with(b"~/")
        || value.contains(&b'\\')
    {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with(b"http://") || lower.starts_with(b"https://") {
        return false;
    }
    let classes = [
        value.iter().any(u8::is_ascii_lowercase),
        value.iter().any(u8::is_ascii_uppercase),
        value.iter().any(u8::is_ascii_digit),
        // `_`, `-`, `.` and spaces join words; they don't make a value
        // more password-like (`hunter 2`).
        value
            .iter()
            .any(|b| !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'-' | b'.' | b' ')),
    ]
    .iter()
    .filter(|&&c| c)
    .count();
    // The variable itself (`c.debugtoken = debugtoken`): code, not a value.
    if name.is_some_and(|name| value.len() >= 4 && squashed(name).ends_with(&squashed(value))) {
        return false;
    }
    let is_password = name.is_some_and(is_password_name);
    // A password mixing three kinds of character is one, however wordy
    // (`Summer2024!`); anything else must not read like an identifier.
    if is_uuid(value)
        || randomness::is_label(value)
        || (randomness::is_identifier_like(value) && !(is_password && classes >= 3))
    {
        return false;
    }
    // Code, not a value: another variable (`token_idx1: token_idx1_backwards`)
    // or a number (`ERROR_KEY_DOES_NOT_EXIST: WIN32_ERROR = 3758096900u32`).
    if names_a_credential(value) {
        return false;
    }
    // Digits alone are a number (a big integer in a test, an account
    // number): generated secrets use letters too, and a password of digits
    // alone mixes too few kinds of character to count (below).
    if is_number_literal(value) {
        return false;
    }
    // `cache_key`, `idempotency_key`, `sort_key`: a name that says "key"
    // but not what for holds hashes and composite keys far more often than
    // credentials; only a plain generated value counts there.
    if name.is_some_and(is_vague_key_name)
        && (value.iter().all(u8::is_ascii_hexdigit) || value.contains(&b':') || value.len() < 16)
    {
        return false;
    }
    if is_password {
        return classes >= 2;
    }
    // Base64's own signs (`+`, `/`) in a length no encoding makes (four
    // characters to three bytes: never one over a multiple of four): typed
    // to look like a key (`cOuDdkfjxxnv+`), not encoded. People choose
    // passwords of any length (above).
    let claims_base64 = value.iter().any(|b| matches!(b, b'+' | b'/'))
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if claims_base64 && crate::decode::base64(value).is_none() {
        return false;
    }
    // A machine makes a token or key of 64 bits or more (16 hex digits, 11
    // of base62); shorter, it was made up for a test or a spec's example
    // (`SlAV32hkKG`, `ya29-s3kr3t`). Under a name that says "key" but not
    // what for, a value needs more to stand out from the identifiers such
    // names hold (`tenant_key`). People choose passwords: those may be
    // shorter (above).
    // An OAuth server must make its tokens guessable with a chance of at
    // most 2^-128 (RFC 6749 section 10.10): a refresh token, a word only
    // OAuth uses, holding fewer bits was written for a test.
    let fewest_bits = if name.is_some_and(is_vague_key_name) {
        96.0
    } else if name.is_some_and(names_a_refresh_token) {
        128.0
    } else {
        64.0
    };
    randomness::strength_bits(value) >= fewest_bits && randomness::looks_random(value)
}

/// `/usr/local/share`, `/api/v1/token`: a path whose segments are words.
fn is_absolute_path(value: &[u8]) -> bool {
    value.starts_with(b"/")
        && value[1..]
            .split(|&b| b == b'/')
            .filter(|segment| !segment.is_empty())
            .all(|segment| {
                segment
                    .split(|b| matches!(b, b'.' | b'-' | b'_'))
                    .all(|word| word.is_empty() || randomness::is_identifier_like(word))
            })
}

/// An identifier made of words, one of them a credential word
/// (`token_idx1_backwards`, `api_key_from_env`, `ldap-pwd`,
/// `my-n8n-api-key`): a variable or a label that holds the secret, or a
/// placeholder that names it, not the secret. Kebab-case counts only when
/// every part is letters, or lowercase letters and digits: base64url keys
/// hold `-` too, and mixed case.
fn names_a_credential(value: &[u8]) -> bool {
    const WORDS: [&[u8]; 9] = [
        b"token",
        b"secret",
        b"key",
        b"password",
        b"passwd",
        b"pwd",
        b"credential",
        b"credentials",
        b"apikey",
    ];
    let parts = || value.split(|b| matches!(b, b'_' | b'.' | b'-'));
    let kebab_words = value.contains(&b'-')
        && parts().all(|part| {
            !part.is_empty()
                && (part.iter().all(u8::is_ascii_alphabetic)
                    || part
                        .iter()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        });
    (value.contains(&b'_') || kebab_words)
        && parts().any(|part| WORDS.iter().any(|w| part.eq_ignore_ascii_case(w)))
}

/// A number as code writes it: optional `-`, decimal digits or a `0x`,
/// `0o`, `0b` prefixed run, `_` separators, an optional type suffix (Rust,
/// C, JavaScript BigInt).
fn is_number_literal(value: &[u8]) -> bool {
    const SUFFIXES: [&[u8]; 20] = [
        b"u8", b"u16", b"u32", b"u64", b"u128", b"usize", b"i8", b"i16", b"i32", b"i64", b"i128",
        b"isize", b"f32", b"f64", b"u", b"l", b"ul", b"ull", b"ll", b"n",
    ];
    let value = value.strip_prefix(b"-").unwrap_or(value);
    let (body, radix) = match value {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', b'o' | b'O', rest @ ..] => (rest, 8),
        [b'0', b'b' | b'B', rest @ ..] => (rest, 2),
        _ => (value, 10),
    };
    let prefixed = radix != 10;
    let is_digit = |b: &u8| *b == b'_' || char::from(*b).is_digit(radix);
    let digits = body.iter().take_while(|b| is_digit(b)).count();
    if digits == 0 || !body[0].is_ascii_alphanumeric() {
        return false;
    }
    // Wider than a u128 is not a number a program computes with: a
    // `0x…` of 64 hex digits is a key (an Ethereum private key is one).
    if prefixed && digits > 32 {
        return false;
    }
    let suffix = &body[digits..];
    let suffix = suffix.strip_prefix(b"_").unwrap_or(suffix);
    suffix.is_empty() || SUFFIXES.iter().any(|s| suffix.eq_ignore_ascii_case(s))
}

/// `8-4-4-4-12` hex: an identifier (request ids, idempotency keys), which
/// the generic rules leave to provider rules that know their context.
fn is_uuid(value: &[u8]) -> bool {
    value.len() == 36
        && value.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `refresh_token`, `refreshToken`, `REFRESH-TOKEN`.
fn names_a_refresh_token(name: &[u8]) -> bool {
    memchr::memmem::find(&squashed(name), b"refreshtoken").is_some()
}

/// Letters and digits alone, lower-cased: a name however it is cased and
/// joined (`refresh_token`, `refreshToken`, `REFRESH-TOKEN`).
fn squashed(text: &[u8]) -> Vec<u8> {
    text.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// A name whose only credential word is a bare `key` (`cache_key`).
fn is_vague_key_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    let strong = [
        &b"api"[..],
        b"secret",
        b"private",
        b"access",
        b"auth",
        b"token",
        b"passw",
        b"pwd",
        b"credential",
        b"client",
        b"signing",
        b"encryption",
        b"master",
        b"service",
        b"license",
    ];
    !strong
        .iter()
        .any(|w| memchr::memmem::find(&lower, w).is_some())
}

/// `name(...)` or `name[...]`: a call or an index, i.e. code.
pub(super) fn is_call(value: &[u8]) -> bool {
    let head = value
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'!'))
        .count();
    let opens = matches!(value.get(head), Some(b'(' | b'['));
    // A call runs to the end of the value; a key with a `(` in it goes on.
    let closes = value.ends_with(b")")
        || value.ends_with(b"]")
        || value.ends_with(b"(")
        || value.ends_with(b"[");
    head > 0 && opens && closes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_a_word_typed_in_is_made_up() {
        let hex = "66c637a29c3982469a3fe8d1982d002c4a";
        assert!(is_stand_in(format!("20foox{hex}").as_bytes()));
        assert!(is_stand_in(format!("{hex}test").as_bytes()));
        // Hex alone, a word hex can spell, and a region tag stay.
        assert!(!is_stand_in(hex.as_bytes()));
        assert!(!is_stand_in(format!("abc{hex}").as_bytes()));
        assert!(!is_stand_in(format!("eu01xx{hex}").as_bytes()));
    }

    #[test]
    fn a_value_introduced_as_an_example() {
        for before in [
            "    e.g.: ",
            "The client secret, e.g. ",
            "(for example, `",
            "For instance: \"",
            "eg. ",
        ] {
            assert!(is_introduced_as_example(before.as_bytes()), "{before}");
        }
        for before in [
            "",
            "client_secret = ",
            "the key (e.g. from the vault) is ",
            "see the example: ",
            "peg. ",
            "e.g.: a, b, c, d, ",
        ] {
            assert!(!is_introduced_as_example(before.as_bytes()), "{before}");
        }
    }

    #[test]
    fn inline_markers() {
        assert!(has_inline_allow(b"key = 'abc' # keyguard:allow"));
        assert!(has_inline_allow(b"key = 'abc' // gitleaks:allow"));
        assert!(has_inline_allow(b"key = 'abc' # pragma: allowlist secret"));
        assert!(!has_inline_allow(b"key = 'abc'"));
    }

    #[test]
    fn placeholders_and_lookups_are_not_credentials() {
        for value in [
            "your-key-here",
            "xxxxxxxxxxxx",
            "<API_KEY>",
            "${API_KEY}",
            "changeme123",
            "os.environ['KEY']",
            "process.env.TOKEN",
            "settings.api_token",
            "getenv(\"X\")",
            "/var/run/secrets/token",
            "https://example.org/token",
            "MY_API_TOKEN",
            "someLongIdentifierName",
            "{{ .Values.password }}",
            // Leetspeak of a placeholder word.
            "P@ssW0rd!",
            "N3wP@ssw0rd2",
            "sup3rs3cr3T!",
        ] {
            assert!(
                !looks_like_credential(value.as_bytes(), Some(b"api_key")),
                "{value}"
            );
        }
    }

    /// Values a person made up for a test: opened by a stand-in word, a
    /// placeholder word with letters swapped for signs, a label of words.
    #[test]
    fn made_up_values_are_not_credentials() {
        for value in [
            "test123TMM^&",
            "abc123@ %",
            "pass%5B%7F",
            "user \"3;,?:@=&/",
            "03#pa33w0rd",
            "ldap-pwd",
        ] {
            assert!(
                !looks_like_credential(value.as_bytes(), Some(b"password")),
                "{value}"
            );
        }
        // Hex that opens with `abc` is still hex; `Test` inside is a word.
        assert!(looks_like_credential(
            b"abc3934a012cf342e876071c8ee202de",
            Some(b"secret")
        ));
        assert!(looks_like_credential(b"q8WtestZ2r7KfP3x", Some(b"api_key")));
    }

    /// A token or key a machine made holds 64 bits or more; a shorter one
    /// was made up. Passwords, chosen by people, may be short.
    #[test]
    fn short_tokens_are_made_up_and_short_passwords_are_not() {
        for (value, name) in [
            ("Zq81pVw3Kd", "access_token"),
            ("hx40amrq7tz", "token"),
            ("qd58-vb3lt9", "refresh_token"),
            ("kwuzomplaxe", "client_secret"),
        ] {
            assert!(
                !looks_like_credential(value.as_bytes(), Some(name.as_bytes())),
                "{value}"
            );
        }
        assert!(looks_like_credential(b"Zq81pVw3Kd", Some(b"password")));
        // Base64's signs in a length no encoding has: typed, not encoded.
        assert!(!looks_like_credential(
            b"hPqWzmvkdRtL+",
            Some(b"client_secret")
        ));
        assert!(looks_like_credential(
            b"hPqWzmvkdRtaL+w=",
            Some(b"client_secret")
        ));
        assert!(looks_like_credential(b"hPqWzmvkdRtL+", Some(b"password")));
        // 16 hex digits are 64 bits: a key.
        assert!(looks_like_credential(b"9c04e7b15fa2d683", Some(b"api_key")));
        // Under a name that says only "key", 16 characters are an
        // identifier's length; 24 of base62 stand out.
        assert!(!looks_like_credential(
            b"604172b93mkw851e",
            Some(b"tenant_key")
        ));
        assert!(looks_like_credential(
            b"Hq3ZrT8wLm2Kx9PvNc4YbJ7d",
            Some(b"tenant_key")
        ));
        // A refresh token holds 128 bits (RFC 6749 section 10.10): 85 bits
        // under that name were typed for a test, under another a key.
        assert!(!looks_like_credential(
            b"1/0/q.dg284kmpv0",
            Some(b"refresh_token")
        ));
        assert!(looks_like_credential(
            b"1/0/q.dg284kmpv0",
            Some(b"api_token")
        ));
        assert!(looks_like_credential(
            b"9c04e7b15fa2d683e2b1d0c4a7f31e95",
            Some(b"refreshToken")
        ));
    }

    /// A connection URL's password is judged once its escapes are undone.
    #[test]
    fn chosen_passwords_are_judged_decoded() {
        for value in [
            "foo%2Fbar",
            "\\u2163",
            "I\\u00adX",
            "ldap-pwd",
            "p%C3%A4ssword",
        ] {
            assert!(!looks_like_chosen_password(value.as_bytes()), "{value}");
        }
        assert!(looks_like_chosen_password(b"Tq7vLmZp%2FRwXsKd"));
        // Accents do not make a random password a word.
        assert!(looks_like_chosen_password("Tq7vLmZpRwXsKdé".as_bytes()));
    }

    #[test]
    fn keyed_ids_cache_keys_and_verification_tokens_are_not_secrets() {
        for name in [
            "s3.keyid",
            "cached_token_key",
            "VerificationToken",
            "version_token",
            "ConcurrencyToken",
        ] {
            assert!(is_non_secret_name(name.as_bytes()), "{name}");
        }
        // A token that opens something is still a secret.
        for name in ["access_token", "session_token", "versioned_api_token"] {
            assert!(!is_non_secret_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn numbers_and_variables_are_not_credentials() {
        for value in ["3758096900u32", "0xC0210014_u32", "-42i64", "0x8007_0005"] {
            assert!(
                !looks_like_credential(value.as_bytes(), Some(b"api_token")),
                "{value}"
            );
        }
        assert!(!looks_like_credential(
            b"218169630",
            Some(b"OID_REMOVE_KEY")
        ));
        assert!(!looks_like_credential(
            b"token_idx1_backwards",
            Some(b"token_idx1")
        ));
        assert!(!looks_like_credential(
            b"api_key_from_env",
            Some(b"api_key")
        ));
        // A placeholder that names the key (`my-n8n-api-key`); base64url
        // of mixed case holding `-key-` stays a key.
        assert!(!looks_like_credential(b"my-n8n-api-key", Some(b"apiKey")));
        assert!(looks_like_credential(
            b"Xq7-key-Lm2ZpRxVs9KdT4bYnEw8",
            Some(b"apiKey")
        ));
        // A big integer under a key's name is a number.
        assert!(!looks_like_credential(
            b"94761803665136558137557783047955027733968423115106677159790289642479432803037",
            Some(b"private_key_value")
        ));
        // Hex without `0x` may well be a key.
        assert!(
            !is_number_literal(b"deadbeefcafe0123"),
            "hex without a prefix is not a number literal"
        );
        assert!(is_number_literal(b"48213977"));
    }

    #[test]
    fn a_masked_tail_is_a_placeholder() {
        let head = "Q7wLm2ZpRxVs9KdT4bYnE";
        assert!(is_obvious_placeholder(
            format!("{head}{}", "X".repeat(8)).as_bytes()
        ));
        assert!(is_obvious_placeholder(
            format!("{head}{}", "*".repeat(6)).as_bytes()
        ));
        assert!(!is_obvious_placeholder(format!("{head}xxxxx").as_bytes()));
        // Zero bytes in base64 are runs of `A`: structure, not a mask.
        assert!(!is_obvious_placeholder(
            format!("{head}AAAAAAAA{head}").as_bytes()
        ));
    }

    #[test]
    fn public_names_handles_and_the_variable_itself_are_not_credentials() {
        for name in [
            "public_key",
            "publishableKey",
            "STRIPE_PUBLISHABLE_KEY",
            "Sec-WebSocket-Key",
            "header_key_hash_value",
            "certFingerprint",
            "wrappedKey",
            "encrypted_key",
            "EncryptedKey",
        ] {
            assert!(is_non_secret_name(name.as_bytes()), "{name}");
        }
        for name in [
            "api_key",
            "private_key",
            "publicationToken",
            "hashicorp_token",
            "unwrapped_key",
            "rcloneEncryptedClientSecret",
        ] {
            assert!(!is_non_secret_name(name.as_bytes()), "{name}");
        }
        assert!(!looks_like_credential(
            b"appcheckv1betadebugtoken",
            Some(b"c.appcheckv1betadebugtoken")
        ));
        assert!(!looks_like_credential(
            b"env_var_sak",
            Some(b"SECRET_ACCESS_KEY")
        ));
    }

    #[test]
    fn chosen_passwords_are_judged_as_chosen() {
        for made_up in [
            "MySecret",
            "svc-passwd",
            "password12345",
            "super_secret",
            "${DB_PASS}",
        ] {
            assert!(!looks_like_chosen_password(made_up.as_bytes()), "{made_up}");
        }
        // Letters alone, drawn at random, are a password.
        for chosen in ["QWmZTRKPVdHxaLBnYcUe", "Tq7vLmZpRwXsKd", "hKq2!Zr8$mWx"] {
            assert!(looks_like_chosen_password(chosen.as_bytes()), "{chosen}");
        }
    }

    #[test]
    fn random_values_are_credentials() {
        for value in ["a8Fk2mQ9zX7pL3vB", "9f86d081884c7d659a2feaa0c55ad015"] {
            assert!(
                looks_like_credential(value.as_bytes(), Some(b"api_key")),
                "{value}"
            );
        }
        assert!(looks_like_credential(
            b"Tr0ub4dor&3x!",
            Some(b"DB_PASSWORD")
        ));
        assert!(!looks_like_credential(b"Troubadour", Some(b"DB_PASSWORD")));
    }

    #[test]
    fn name_suffixes() {
        assert!(is_non_secret_name(b"secret_name"));
        assert!(is_non_secret_name(b"tokenUrl"));
        assert!(is_non_secret_name(b"PASSWORD_LENGTH"));
        assert!(!is_non_secret_name(b"api_key"));
        assert!(!is_non_secret_name(b"client_secret"));
        assert!(!is_non_secret_name(b"DB_PASSWORD"));
        // Numbers that count copies or sections are not what the name says.
        assert!(is_non_secret_name(b"JWE_Encrypted_Key_5_7_3"));
        assert!(is_non_secret_name(b"secret_name_2"));
        assert!(!is_non_secret_name(b"client_secret_2"));
        assert!(!is_non_secret_name(b"api_key2"));
        assert!(!is_non_secret_name(b"token_1_2"));
        // The kind of secret, not the secret.
        assert!(is_non_secret_name(b"password_algorithm"));
        assert!(is_non_secret_name(b"GCP_SECRET_ID_PATTERN"));
        assert!(is_non_secret_name(b"tokenRegex"));
        assert!(!is_non_secret_name(b"secret_methodology_key"));
        for handle in [
            &b"NextToken"[..],
            b"ClientToken",
            b"instance-key",
            b"result_key",
            b"sign-key-sha3-384",
            b"password_default_salt",
            b"hashed_password",
            b"ClientRequestToken",
            b"_token",
        ] {
            assert!(
                is_non_secret_name(handle),
                "{}",
                String::from_utf8_lossy(handle)
            );
        }
    }

    #[test]
    fn obvious_placeholders() {
        assert!(is_obvious_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_obvious_placeholder(
            b"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        ));
        assert!(is_obvious_placeholder(
            b"sk-proj-abc1XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
        ));
        assert!(is_obvious_placeholder(
            b"0000000000000000000000000000000000000000"
        ));
        let random_token = format!("ghp_{}1234", "a8Fk2mQ9zX7pL3vB".repeat(2));
        assert!(!is_obvious_placeholder(random_token.as_bytes()));
    }

    /// The first body line of every OpenSSH private key: the fixed magic,
    /// then zero-length fields that encode as runs of `A`.
    #[test]
    fn structured_key_bodies_are_not_placeholders() {
        let openssh = b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
        assert!(!is_obvious_placeholder(openssh));
        // `xxxx` in a long random body is not a mask.
        let long = format!("{}xXxX{}", "Q2h1bmtz".repeat(10), "bW9yZQ".repeat(4));
        assert!(!is_obvious_placeholder(long.as_bytes()));
    }

    /// Whatever runs a value holds, if at least half of it lies outside
    /// them it is not called a placeholder.
    #[test]
    fn runs_under_half_the_value_never_make_a_placeholder() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for _ in 0..2000 {
            let len = 30 + (next() % 200) as usize;
            let mut value: Vec<u8> = (0..len).map(|_| alphabet[(next() % 64) as usize]).collect();
            // Runs of `A` covering just under half of the value.
            let mut budget = len / 2 - 9;
            while budget >= 4 {
                let run = 4 + (next() as usize % (budget - 3));
                let at = next() as usize % (len - run);
                value[at..at + run].fill(b'A');
                budget -= run;
            }
            assert!(masked_len(&value) >= 4, "the test placed a run");
            assert!(
                !is_obvious_placeholder(&value),
                "runs under half of a {len}-byte value made a placeholder"
            );
        }
    }
}
