//! Findings: what the report shows and the exit code counts.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where the scanned content came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The index, about to be committed.
    Staged,
    /// A file as it is on disk.
    Worktree,
    /// A commit in history.
    Commit,
}

/// One reported secret. `secret` stays in memory: every output goes through
/// [`Finding::redacted`].
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub description: String,
    pub path: String,
    pub line: u32,
    pub column: usize,
    pub secret: String,
    pub source: Source,
    pub commit: Option<String>,
    /// Environment variable to suggest in the hint.
    pub env_var: Option<String>,
    /// The finding is about the file's name, not a line in it.
    pub is_secret_file: bool,
}

impl Finding {
    pub fn redacted(&self) -> String {
        if self.is_secret_file {
            return "(the whole file: its name marks it as a secrets file)".to_string();
        }
        redact(&self.secret)
    }

    /// A stable identifier of this finding that does not reveal the secret:
    /// a truncated SHA-256 over rule, path and secret.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.rule_id.as_str(),
            self.path.as_str(),
            self.secret.as_str(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hasher.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
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

    #[test]
    fn fingerprint_is_stable_and_hides_the_secret() {
        let f = Finding {
            rule_id: "r".into(),
            description: "d".into(),
            path: "p".into(),
            line: 1,
            column: 1,
            secret: ["s3cr3t", "value"].join("-"),
            source: Source::Staged,
            commit: None,
            env_var: None,
            is_secret_file: false,
        };
        assert_eq!(f.fingerprint(), f.clone().fingerprint());
        assert_eq!(f.fingerprint().len(), 32);
        assert!(!f.fingerprint().contains("s3cr3t"));
    }
}
