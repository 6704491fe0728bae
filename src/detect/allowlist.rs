//! Reasons not to report a match: inline markers, placeholders, and (for
//! the loose `name = value` rules) values that are not random enough to be
//! a credential.

/// Markers that suppress every finding on their line. `gitleaks:allow` and
/// detect-secrets' pragma are honoured so people can move over unchanged.
const INLINE_ALLOW_MARKERS: &[&str] = &["keyguard:allow", "gitleaks:allow", "pragma: allowlist secret"];

/// Lower-case fragments that mark a value as a stand-in, not a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx", "****", "...", "…", "your", "example", "sample", "changeme", "change_me", "change-me",
    "placeholder", "dummy", "redacted", "replace", "insert", "fake", "password", "passwd",
    "secret", "todo", "fixme", "null", "none", "undefined", "foobar", "lorem", "notreal",
    "not-a-real", "not_a_real", "mock", "<", ">", "${", "{{", "$(", "%(", "#{",
];

/// Suffixes of a variable name that say its value is not the secret itself
/// (`secret_name`, `token_url`, `password_length`, ...).
const NON_SECRET_NAME_SUFFIXES: &[&str] = &[
    "name", "id", "ids", "type", "file", "path", "dir", "url", "uri", "length", "len", "size",
    "count", "header", "field", "prefix", "format", "ttl", "expiry", "expires", "endpoint",
    "version", "mode", "policy", "ref", "arn", "env", "var", "key_id", "hash", "label",
];

/// Does this line carry an inline allow marker?
pub fn has_inline_allow(line: &[u8]) -> bool {
    INLINE_ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
}

/// Values that any rule should skip: long runs of one character and the
/// documented "EXAMPLE" keys. Random key bodies essentially never hit these.
pub fn is_obvious_placeholder(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    let has_long_run = lower.windows(6).any(|w| w.iter().all(|&b| b == w[0]) && !w[0].is_ascii_digit())
        || lower.windows(10).any(|w| w.iter().all(|&b| b == w[0]));
    has_long_run
        || memchr::memmem::find(&lower, b"example").is_some()
        || memchr::memmem::find(&lower, b"xxxx").is_some()
}

/// For loose `name = value` rules: does the name say the value is not a
/// secret (an id, a file name, a URL, a length)?
pub fn is_non_secret_name(name: &[u8]) -> bool {
    let end = name.iter().rposition(|b| b.is_ascii_alphanumeric()).map_or(0, |i| i + 1);
    let name = &name[..end];
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

/// For loose `name = value` rules: could `value` be a real credential?
/// Rejects placeholders, variable and environment look-ups, identifiers,
/// words, paths and values without the mix of characters keys have.
pub fn looks_like_credential(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return false;
    }
    // Variable look-ups and code: `$VAR`, `os.environ[..]`, `getenv(..)`, `cfg.token`.
    if value.starts_with(b"$") || value.starts_with(b"%") || value.contains(&b'(') || value.contains(&b'[') {
        return false;
    }
    if is_dotted_identifier(value) {
        return false;
    }
    // Paths and plain URLs.
    if value.starts_with(b"/") || value.starts_with(b"./") || value.starts_with(b"../") || value.starts_with(b"~/") || value.contains(&b'\\') {
        return false;
    }
    if lower.starts_with(b"http://") || lower.starts_with(b"https://") {
        return false;
    }
    let has_lower = value.iter().any(u8::is_ascii_lowercase);
    let has_upper = value.iter().any(u8::is_ascii_uppercase);
    let has_digit = value.iter().any(u8::is_ascii_digit);
    let has_symbol = value.iter().any(|b| !b.is_ascii_alphanumeric());
    let classes = [has_lower, has_upper, has_digit, has_symbol].iter().filter(|&&c| c).count();
    if classes < 2 {
        return false;
    }
    has_digit || value.len() >= 20
}

/// `foo.bar_baz.qux`, `this.token`, `SOME_CONSTANT`, `snake_case_name`:
/// code that names a value rather than a value.
fn is_dotted_identifier(value: &[u8]) -> bool {
    let segments_ok = value.split(|&b| b == b'.' || b == b'-' || b == b'_' || b == b':').all(|seg| {
        !seg.is_empty()
            && (seg.iter().all(|b| b.is_ascii_lowercase())
                || seg.iter().all(|b| b.is_ascii_uppercase())
                || (seg[0].is_ascii_alphabetic()
                    && seg.iter().all(u8::is_ascii_alphabetic)))
    });
    segments_ok && !value.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "your-key-here", "xxxxxxxxxxxx", "<API_KEY>", "${API_KEY}", "changeme123",
            "os.environ['KEY']", "process.env.TOKEN", "settings.api_token", "getenv(\"X\")",
            "/var/run/secrets/token", "https://example.org/token", "MY_API_TOKEN",
            "someLongIdentifierName", "{{ .Values.password }}",
        ] {
            assert!(!looks_like_credential(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn random_values_are_credentials() {
        for value in ["a8Fk2mQ9zX7pL3vB", "9f86d081884c7d659a2feaa0c55ad015", "Tr0ub4dor&3x!"] {
            assert!(looks_like_credential(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn name_suffixes() {
        assert!(is_non_secret_name(b"secret_name"));
        assert!(is_non_secret_name(b"tokenUrl"));
        assert!(is_non_secret_name(b"PASSWORD_LENGTH"));
        assert!(!is_non_secret_name(b"api_key"));
        assert!(!is_non_secret_name(b"client_secret"));
        assert!(!is_non_secret_name(b"DB_PASSWORD"));
    }

    #[test]
    fn obvious_placeholders() {
        assert!(is_obvious_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_obvious_placeholder(b"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        let random_token = format!("ghp_{}1234", "a8Fk2mQ9zX7pL3vB".repeat(2));
        assert!(!is_obvious_placeholder(random_token.as_bytes()));
    }
}
