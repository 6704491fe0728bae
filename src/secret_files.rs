//! Files whose name alone marks them as secrets (`.env`, `id_rsa`, `*.key`):
//! staging one blocks the commit whatever it holds.

use crate::glob::PathGlobs;
use anyhow::{Context, Result};

use crate::config::SecretFilesConfig;

/// The built-in list, following what API-key guides tell people to keep
/// out of git. Globs follow `.gitignore`: see [`glob_set`].
pub const DEFAULT_SECRET_FILES: &[&str] = &[
    ".env",
    ".env.*",
    "*.key",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "*.p12",
    "*.pfx",
    // Not `.netrc`: SPEC lists it among the credential configs committed
    // without secrets, whose content the `netrc-password` rule reads.
    ".git-credentials",
    "**/config/secrets.json",
    "**/private/*.json",
];

/// Templates people are told to commit instead; their lines are still scanned.
pub const DEFAULT_TEMPLATE_FILES: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    ".env.*.example",
    ".env.*.sample",
    ".env.*.template",
    ".env.*.dist",
];

/// Compiled secret-file globs and their exceptions.
pub struct SecretFiles {
    patterns: Vec<String>,
    secret: PathGlobs,
    exempt: PathGlobs,
}

impl SecretFiles {
    pub fn from_config(config: &SecretFilesConfig) -> Result<SecretFiles> {
        let mut patterns: Vec<String> = match &config.patterns {
            Some(patterns) => patterns.clone(),
            None => DEFAULT_SECRET_FILES.iter().map(|s| s.to_string()).collect(),
        };
        patterns.extend(config.extra.iter().cloned());
        let exempt: Vec<String> = DEFAULT_TEMPLATE_FILES
            .iter()
            .map(|s| s.to_string())
            .chain(config.allow.iter().cloned())
            .collect();
        Ok(SecretFiles {
            secret: glob_set(&patterns).context("in [secret_files]")?,
            exempt: glob_set(&exempt).context("in [secret_files] allow")?,
            patterns,
        })
    }

    /// The pattern that marks `path` (repository-relative, `/`-separated)
    /// as a secrets file, if any.
    pub fn matching_pattern(&self, path: &str) -> Option<&str> {
        if self.exempt.is_match(path) {
            return None;
        }
        self.secret
            .first_match(path)
            .map(|i| self.patterns[i].as_str())
    }
}

/// Compiles path globs the way every path list in the config is compiled,
/// with `.gitignore`'s rules (see [`crate::glob`]). An allow list must not be
/// wider than it reads.
pub fn glob_set(patterns: &[String]) -> Result<PathGlobs> {
    PathGlobs::new(patterns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> SecretFiles {
        SecretFiles::from_config(&SecretFilesConfig::default()).unwrap()
    }

    #[test]
    fn env_files_and_keys_are_secret() {
        let s = defaults();
        for path in [
            ".env",
            "app/.env",
            ".env.local",
            ".env.production",
            "certs/server.key",
            "home/.ssh/id_rsa",
            "config/secrets.json",
            "svc/config/secrets.json",
            "a/private/x.json",
        ] {
            assert!(s.matching_pattern(path).is_some(), "{path}");
        }
    }

    #[test]
    fn templates_and_lookalikes_are_not() {
        let s = defaults();
        for path in [
            ".env.example",
            "web/.env.sample",
            ".env.template",
            ".env.dist",
            ".env.local.example",
            "environment.ts",
            "src/env.rs",
            "keys.rs",
            "config/secrets.json.example",
            "private/deep/x.json",
            "id_rsa.pub",
            "monkey.txt",
        ] {
            assert_eq!(s.matching_pattern(path), None, "{path}");
        }
    }

    #[test]
    fn globs_follow_gitignore_anchoring() {
        let set = glob_set(&["fixtures/**".into(), "*.snap".into(), "vendor/".into()]).unwrap();
        assert!(set.is_match("fixtures/a/b.py"));
        assert!(!set.is_match("app/fixtures/b.py"));
        assert!(set.is_match("deep/x.snap"));
        assert!(set.is_match("a/vendor/lib.js"));
        assert!(!set.is_match("vendored.js"));
    }

    #[test]
    fn config_replaces_extends_and_allows() {
        let config = SecretFilesConfig {
            patterns: Some(vec!["*.secret".into()]),
            extra: vec!["/deploy/creds.yml".into()],
            allow: vec!["fixtures/*.secret".into()],
        };
        let s = SecretFiles::from_config(&config).unwrap();
        assert!(s.matching_pattern(".env").is_none());
        assert!(s.matching_pattern("a/b.secret").is_some());
        assert!(s.matching_pattern("deploy/creds.yml").is_some());
        assert!(s.matching_pattern("x/deploy/creds.yml").is_none());
        assert!(
            s.matching_pattern("app/fixtures/b.secret").is_some(),
            "a glob with / is anchored"
        );
        assert!(s.matching_pattern("fixtures/b.secret").is_none());
    }
}
