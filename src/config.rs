//! `.keyguard.toml`: what a repository adds to or turns off in the defaults.
//!
//! Unknown keys are errors, not silently ignored: a misspelt `disabled_rule`
//! must not leave someone believing a rule is off (or on).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::rules::RuleSpec;

/// The file name looked for at the repository root.
pub const CONFIG_FILE_NAME: &str = ".keyguard.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Built-in (or custom) rule ids to turn off.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    #[serde(default)]
    pub allow: AllowConfig,
    #[serde(default)]
    pub secret_files: SecretFilesConfig,
    /// Extra rules, in the same schema as the built-in ones. A rule with the
    /// id of a built-in rule replaces it.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// Globs (relative to the repository root) of files never scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes: a secret matching one is never reported.
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFilesConfig {
    /// Replaces the built-in list of secret-file globs when set.
    #[serde(default)]
    pub patterns: Option<Vec<String>>,
    /// Added to the list (built-in or `patterns`).
    #[serde(default)]
    pub extra: Vec<String>,
    /// Globs of files that may be committed even though their name matches.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// Where the configuration came from, for `--verbose`.
#[derive(Debug)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    pub fn parse(text: &str, origin: &Path) -> Result<Config> {
        toml::from_str(text)
            .with_context(|| format!("invalid configuration in {}", origin.display()))
    }
}

/// Loads `explicit` (which must exist) or else `.keyguard.toml` in `root`
/// when present, else the defaults.
pub fn load(explicit: Option<&Path>, root: Option<&Path>) -> Result<LoadedConfig> {
    let path = match (explicit, root) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(root)) => Some(root.join(CONFIG_FILE_NAME)).filter(|p| p.exists()),
        (None, None) => None,
    };
    let Some(path) = path else {
        return Ok(LoadedConfig {
            config: Config::default(),
            path: None,
        });
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    let config = Config::parse(&text, &path)?;
    Ok(LoadedConfig {
        config,
        path: Some(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_every_rule_in_it_compiles() {
        let text = include_str!("../config.example.toml");
        let config = Config::parse(text, Path::new("config.example.toml")).unwrap();
        assert!(!config.rules.is_empty());
        for rule in &config.rules {
            rule.compile().unwrap();
        }
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = Config::parse(
            "disabled_rules = []\n\n[allow]\npath = ['x']\n",
            Path::new("/r/.keyguard.toml"),
        )
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("/r/.keyguard.toml"), "{msg}");
        assert!(msg.contains("line 4"), "{msg}");
        assert!(msg.contains("path"), "{msg}");
    }

    #[test]
    fn empty_config_is_default() {
        let config = Config::parse("", Path::new("x")).unwrap();
        assert!(config.disabled_rules.is_empty() && config.rules.is_empty());
    }
}
