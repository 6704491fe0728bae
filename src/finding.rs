//! Findings: what the report shows and the exit code counts.

use anyhow::Result;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::text::quote_name;

/// The rule id reports give a [`FindingKind::SecretFile`] finding.
pub const SECRET_FILE_RULE_ID: &str = "secret-file";

/// Where the scanned content came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The index, about to be committed.
    Staged,
    /// A file as it is on disk.
    Worktree,
    /// A commit in history, by id (hex).
    Commit(String),
    /// Text read from standard input.
    Stdin,
}

impl Origin {
    /// The report's name for it: the JSON `source` field.
    pub fn label(&self) -> &'static str {
        match self {
            Origin::Staged => "staged",
            Origin::Worktree => "worktree",
            Origin::Commit(_) => "commit",
            Origin::Stdin => "stdin",
        }
    }

    /// The commit id, for a finding in history.
    pub fn commit(&self) -> Option<&str> {
        match self {
            Origin::Commit(id) => Some(id),
            _ => None,
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// A rule matched: `secret` stays in memory, and every output goes
    /// through [`Finding::redacted`].
    Secret {
        secret: String,
        /// Environment variable to suggest in the hint.
        env_var: Option<String>,
    },
    /// The file's name marks it as a secrets file, whatever it holds.
    SecretFile {
        /// The secret-file glob the name matched.
        pattern: String,
        /// The repository-relative path it matched: what fingerprints and
        /// the baseline hash, wherever the scan was started from.
        repo_path: String,
    },
}

/// One reported secret, or one secrets file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub description: String,
    pub path: String,
    pub line: u32,
    pub column: usize,
    pub kind: FindingKind,
    pub origin: Origin,
}

impl Finding {
    /// A finding about a file's name (`repo_path`, repository-relative),
    /// reported as `display` at its first line under [`SECRET_FILE_RULE_ID`].
    pub fn secret_file(repo_path: &str, display: &str, pattern: &str, origin: Origin) -> Finding {
        Finding {
            rule_id: SECRET_FILE_RULE_ID.to_string(),
            description: format!("Secrets file (name matches `{pattern}`)"),
            path: display.to_string(),
            line: 1,
            column: 1,
            kind: FindingKind::SecretFile {
                pattern: pattern.to_string(),
                repo_path: repo_path.to_string(),
            },
            origin,
        }
    }

    pub fn is_secret_file(&self) -> bool {
        matches!(self.kind, FindingKind::SecretFile { .. })
    }

    /// What the finding is about, as fingerprints and the baseline hash
    /// it: the secret, or a secrets file's repository-relative path. Never
    /// printed.
    pub fn matched_text(&self) -> &str {
        match &self.kind {
            FindingKind::Secret { secret, .. } => secret,
            FindingKind::SecretFile { repo_path, .. } => repo_path,
        }
    }

    /// Environment variable to suggest in the hint.
    pub fn env_var(&self) -> Option<&str> {
        match &self.kind {
            FindingKind::Secret { env_var, .. } => env_var.as_deref(),
            FindingKind::SecretFile { .. } => None,
        }
    }

    pub fn redacted(&self) -> String {
        match &self.kind {
            FindingKind::Secret { secret, .. } => redact(secret),
            FindingKind::SecretFile { .. } => {
                "(the whole file: its name marks it as a secrets file)".to_string()
            }
        }
    }

    /// A stable identifier of this finding that does not reveal the secret:
    /// a truncated HMAC-SHA-256 over rule, path and secret, keyed by `key`.
    /// Unkeyed, a short password would come back from a few hundred
    /// guesses by anyone holding the report. Never used to match the
    /// baseline, which has its own salted, iterated HMAC.
    pub fn fingerprint(&self, key: &FingerprintKey) -> String {
        let secret = self.matched_text();
        let mut message =
            Vec::with_capacity(self.rule_id.len() + self.path.len() + secret.len() + 3);
        for part in [&self.rule_id, &self.path, secret] {
            message.extend_from_slice(part.as_bytes());
            message.push(0);
        }
        hex(&hmac_sha256(&key.key, &message)[..16])
    }
}

/// Counters for the summary line and the JSON `stats`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_skipped: u64,
    /// Files not scanned because `allow.paths` matches them.
    pub allowed_skipped: u64,
    /// For a scan of commits (`--history`, pre-push): how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits_scanned: Option<u64>,
    pub duration_ms: u64,
}

/// The result of a scan: findings, counters, and what could not be read
/// (which makes the scan incomplete).
#[derive(Debug, Default)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub errors: Vec<ScanError>,
}

/// Something a scan could not read; the scan goes on without it, and is
/// then incomplete.
#[derive(Debug)]
pub enum ScanError {
    /// A file on disk.
    Read {
        /// How reports name the file.
        path: String,
        source: std::io::Error,
    },
    /// A commit of history.
    Commit { id: String, error: anyhow::Error },
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Names come from the repository: escaped in the message.
            ScanError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", quote_name(path))
            }
            // The error names the commit already.
            ScanError::Commit { error, .. } => write!(f, "{error:#}"),
        }
    }
}

impl std::error::Error for ScanError {}

/// The key of report fingerprints, resolved once per run. Its bytes are
/// never printed (no `Debug`, no `Display`).
#[derive(Clone)]
pub struct FingerprintKey {
    key: [u8; 32],
    origin: KeyOrigin,
}

/// Where a [`FingerprintKey`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `KEYGUARD_FINGERPRINT_KEY` (a CI secret).
    Environment,
    /// The repository's first commit: the same in every full clone.
    Repository,
    /// Random, for this run only: nothing stable and unguessable to derive
    /// a key from (no commit yet, a shallow clone, no repository).
    Ephemeral,
}

impl FingerprintKey {
    /// The environment variable holding a user-supplied key.
    pub const ENV_VAR: &'static str = "KEYGUARD_FINGERPRINT_KEY";

    /// The key for this run: the user's (`KEYGUARD_FINGERPRINT_KEY`, read
    /// with the settings) when there is one, else one derived from
    /// `root_commit()` (HEAD's first-parent root commit, when there is a
    /// full history), else a random one.
    pub fn resolve(
        user_key: Option<&[u8]>,
        root_commit: impl FnOnce() -> Option<String>,
    ) -> Result<FingerprintKey> {
        if let Some(secret) = user_key.filter(|k| !k.is_empty()) {
            return Ok(Self::derive(KeyOrigin::Environment, secret));
        }
        match root_commit() {
            Some(id) => Ok(Self::derive(KeyOrigin::Repository, id.as_bytes())),
            None => Self::ephemeral(),
        }
    }

    /// A random key for this run only.
    pub fn ephemeral() -> Result<FingerprintKey> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| anyhow::anyhow!("cannot get random bytes from the OS: {e}"))?;
        Ok(FingerprintKey {
            key,
            origin: KeyOrigin::Ephemeral,
        })
    }

    /// Each origin hashes its material under its own label, so that a
    /// user key equal to a commit id does not give the repository's key.
    fn derive(origin: KeyOrigin, material: &[u8]) -> FingerprintKey {
        let label = match origin {
            KeyOrigin::Environment => "keyguard report fingerprint key: environment",
            KeyOrigin::Repository => "keyguard report fingerprint key: root commit",
            KeyOrigin::Ephemeral => "keyguard report fingerprint key: random",
        };
        FingerprintKey {
            key: hmac_sha256(label.as_bytes(), material),
            origin,
        }
    }

    pub fn origin(&self) -> KeyOrigin {
        self.origin
    }
}

/// HMAC-SHA-256 (RFC 2104), shared by report fingerprints and the baseline.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Shows at most the first four characters (fewer for short secrets, none
/// for very short ones) and the length: enough to recognise a key's kind,
/// never enough to use it.
pub fn redact(secret: &str) -> String {
    let length = secret.chars().count();
    let shown = match length {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let prefix: String = secret.chars().take(shown).collect();
    format!("{prefix}…(redacted, {length} chars)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_much() {
        assert_eq!(
            redact("abcdefghijklmnopqrstuvwxyz"),
            "abcd…(redacted, 26 chars)"
        );
        assert_eq!(redact("hunter22x"), "hu…(redacted, 9 chars)");
        assert_eq!(redact("pw1"), "…(redacted, 3 chars)");
    }

    fn finding() -> Finding {
        Finding {
            rule_id: "r".into(),
            description: "d".into(),
            path: "p".into(),
            line: 1,
            column: 1,
            kind: FindingKind::Secret {
                secret: ["s3cr3t", "value"].join("-"),
                env_var: None,
            },
            origin: Origin::Staged,
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn fingerprint_is_stable_keyed_and_not_a_plain_hash() {
        use sha2::Digest;
        let f = finding();
        let root = || Some("0123456789abcdef0123456789abcdef01234567".to_string());
        let key = FingerprintKey::derive(KeyOrigin::Repository, root().unwrap().as_bytes());
        assert_eq!(f.fingerprint(&key), f.clone().fingerprint(&key));
        assert_eq!(f.fingerprint(&key).len(), 32);
        assert!(!f.fingerprint(&key).contains("s3cr3t"));

        let other = FingerprintKey::derive(KeyOrigin::Environment, root().unwrap().as_bytes());
        assert_ne!(f.fingerprint(&key), f.fingerprint(&other));
        let random = FingerprintKey::ephemeral().unwrap();
        assert_ne!(f.fingerprint(&random), f.fingerprint(&key));

        // What the first round printed: SHA-256 of rule, path and secret.
        let mut plain = sha2::Sha256::new();
        for part in ["r", "p", f.matched_text()] {
            plain.update(part.as_bytes());
            plain.update([0u8]);
        }
        let plain = hex(&plain.finalize()[..16]);
        for key in [&key, &other, &random] {
            assert_ne!(f.fingerprint(key), plain);
        }
    }
}
