//! Baselines: findings someone has reviewed and accepted, which stop
//! blocking. The file holds hashes, never secrets: each entry's fingerprint
//! is an iterated, salted HMAC-SHA-256 of the secret, with a random salt
//! stored in the file, so that a short password in a baseline cannot be
//! looked up in a precomputed table, and each guess costs thousands of
//! hashes. Line numbers are not part of an entry: a secret that moves
//! within its file keeps matching.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::{hex, hmac_sha256, Finding};

pub const BASELINE_FILE_NAME: &str = ".keyguard-baseline.json";
const BASELINE_FORMAT_VERSION: u32 = 1;
/// Rounds of HMAC per fingerprint: about a millisecond each, so a baseline
/// of a hundred findings costs a tenth of a second, and every password guess
/// an attacker makes costs the same.
const HMAC_ROUNDS: u32 = 2_000;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    /// Hex; random per baseline.
    pub salt: String,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub file: String,
    pub fingerprint: String,
}

impl Baseline {
    pub fn new() -> Baseline {
        Baseline {
            version: BASELINE_FORMAT_VERSION,
            salt: random_salt(),
            findings: Vec::new(),
        }
    }

    /// Reads a baseline as an untrusted repository file (see
    /// `repo_file`): a link may lead anywhere inside the folder that holds
    /// it (the repository root, for the default file), never outside; a
    /// FIFO or device is refused; at most 16 MiB (some 100,000 entries) is
    /// read. A parse error shows no value from the file.
    pub fn load(path: &Path) -> Result<Baseline> {
        use crate::repo_file::{parse_error, read_text, Kind, Origin};
        const KIND: Kind = Kind {
            name: "baseline",
            max_bytes: 16 << 20,
        };
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        let text = read_text(path, KIND, Origin::Repository { root: folder })?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
            let full = e.to_string();
            let location = format!(" at line {} column {}", e.line(), e.column());
            let message = full.strip_suffix(&location).unwrap_or(&full);
            anyhow::anyhow!(
                "invalid baseline: {}; delete it and run `keyguard baseline` again",
                parse_error(path, &text, e.line(), e.column().max(1), message)
            )
        })?;
        if baseline.version != BASELINE_FORMAT_VERSION {
            bail!(
                "baseline {} has version {}, this keyguard reads version {BASELINE_FORMAT_VERSION}",
                path.display(),
                baseline.version
            );
        }
        Ok(baseline)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        // Atomically: a full disk once left 16 KB of broken JSON here.
        crate::atomic_write::write_atomic(path, text.as_bytes()).context("cannot save the baseline")
    }

    /// The entry a finding would have in this baseline.
    pub fn entry_for(&self, finding: &Finding) -> BaselineEntry {
        BaselineEntry {
            rule_id: finding.rule_id.clone(),
            file: finding.path.clone(),
            fingerprint: self.fingerprint(&finding.rule_id, finding.matched_text()),
        }
    }

    fn fingerprint(&self, rule_id: &str, secret: &str) -> String {
        let mut digest = hmac_sha256(
            self.salt.as_bytes(),
            format!("{rule_id}\0{secret}").as_bytes(),
        );
        for _ in 1..HMAC_ROUNDS {
            digest = hmac_sha256(self.salt.as_bytes(), &digest);
        }
        hex(&digest)
    }

    /// Removes from `findings` those listed here; returns how many.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        let known: HashSet<&BaselineEntry> = self.findings.iter().collect();
        let before = findings.len();
        findings.retain(|f| !known.contains(&self.entry_for(f)));
        before - findings.len()
    }

    /// Adds entries for `findings` not already listed; with `prune`, also
    /// drops entries that no current finding matches. Returns (added, pruned).
    pub fn update(&mut self, findings: &[Finding], prune: bool) -> (usize, usize) {
        let current: Vec<BaselineEntry> = findings.iter().map(|f| self.entry_for(f)).collect();
        let before = self.findings.len();
        if prune {
            let current_set: HashSet<&BaselineEntry> = current.iter().collect();
            self.findings.retain(|e| current_set.contains(e));
        }
        let pruned = before - self.findings.len();
        let mut added = 0;
        for entry in current {
            if !self.findings.contains(&entry) {
                self.findings.push(entry);
                added += 1;
            }
        }
        self.findings.sort_by(|a, b| {
            (&a.file, &a.rule_id, &a.fingerprint).cmp(&(&b.file, &b.rule_id, &b.fingerprint))
        });
        (added, pruned)
    }
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline::new()
    }
}

/// The baseline file to use: `explicit`, else the default file at the root
/// when it exists.
pub fn locate(explicit: Option<&Path>, root: Option<&Path>) -> Option<PathBuf> {
    match (explicit, root) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(root)) => Some(root.join(BASELINE_FILE_NAME)).filter(|p| p.exists()),
        (None, None) => None,
    }
}

/// 16 random bytes, hex: from the OS's generator where it answers, else
/// from the clock, process and address-space layout hashed together (a
/// salt must be unique, not secret).
fn random_salt() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let seed = format!(
            "{:?}{}{:p}",
            std::time::SystemTime::now(),
            std::process::id(),
            &bytes
        );
        bytes.copy_from_slice(&Sha256::digest(seed.as_bytes())[..16]);
    }
    hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingKind, Origin};

    fn finding(path: &str, line: u32, secret: &str) -> Finding {
        Finding {
            rule_id: "r".into(),
            description: "d".into(),
            path: path.into(),
            line,
            column: 1,
            kind: FindingKind::Secret {
                secret: secret.into(),
                env_var: None,
            },
            origin: Origin::Worktree,
        }
    }

    #[test]
    fn fingerprints_of_existing_baselines_are_unchanged() {
        // Computed independently (Python's hmac module): baselines written
        // by earlier versions keep matching.
        let mut baseline = Baseline::new();
        baseline.salt = "00112233445566778899aabbccddeeff".to_string();
        let secret = ["hunter2", "hunter2"].concat();
        assert_eq!(
            baseline.fingerprint("aws-access-key-id", &secret),
            "85937f09ce1d515864b24b9c20e7b9be3945a203a49c6f9153a3331f9942149c"
        );
    }

    #[test]
    fn report_fingerprints_never_match_baseline_entries() {
        use crate::finding::FingerprintKey;
        let f = finding("f", 1, &["pass", "word", "1"].concat());
        let baseline = Baseline::new();
        let entry = baseline.entry_for(&f);
        let mut listing_the_report_fingerprint = Baseline::new();
        listing_the_report_fingerprint.findings.push(BaselineEntry {
            fingerprint: f.fingerprint(&FingerprintKey::ephemeral().unwrap()),
            ..entry
        });
        let mut findings = vec![f];
        assert_eq!(listing_the_report_fingerprint.filter(&mut findings), 0);
    }

    #[test]
    fn moved_lines_keep_matching_and_pruning_drops_fixed_ones() {
        let secret_a = ["aa", "bb", "cc", "dd"].concat();
        let secret_b = ["ee", "ff", "gg", "hh"].concat();
        let mut baseline = Baseline::new();
        assert_eq!(
            baseline.update(
                &[finding("f", 3, &secret_a), finding("f", 9, &secret_b)],
                false
            ),
            (2, 0)
        );

        let mut later = vec![finding("f", 30, &secret_a), finding("g", 1, &secret_a)];
        assert_eq!(baseline.filter(&mut later), 1);
        assert_eq!(later[0].path, "g", "same secret in another file is new");

        assert_eq!(
            baseline.update(&[finding("f", 30, &secret_a)], true),
            (0, 1)
        );
        assert_eq!(baseline.findings.len(), 1);
    }

    #[test]
    fn entries_hold_no_secret_and_depend_on_the_salt() {
        let secret = ["pass", "word", "1"].concat();
        let a = Baseline::new();
        let b = Baseline::new();
        let entry = a.entry_for(&finding("f", 1, &secret));
        assert!(!serde_json::to_string(&a).unwrap().contains(&secret));
        assert!(!entry.fingerprint.contains(&secret));
        assert_ne!(
            entry.fingerprint,
            b.entry_for(&finding("f", 1, &secret)).fingerprint
        );
        assert_ne!(a.salt, b.salt);
    }
}
