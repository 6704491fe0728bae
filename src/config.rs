//! `.keyguard.toml`: what a repository adds to or turns off in the defaults.
//!
//! Unknown keys are errors, not silently ignored: a misspelt `disabled_rule`
//! must not leave someone believing a rule is off (or on).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde::Deserialize;

use crate::repo_file::{self, Origin};
use crate::rules::RuleSpec;
use crate::text::{escape_control, quote_name};

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
    /// The agent hook (`keyguard agent-hook`).
    #[serde(default)]
    pub agent: AgentConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Globs of secrets files a coding agent may read all the same.
    #[serde(default)]
    pub allow_read: Vec<String>,
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

/// The most bytes read from a configuration file: hundreds of rules fit in
/// a fraction of it; it stops a link to an endless file (`/dev/zero`).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

pub const CONFIG_KIND: repo_file::Kind = repo_file::Kind {
    name: "configuration file",
    max_bytes: MAX_CONFIG_BYTES,
};

impl Config {
    /// Parses `text`, read from `origin`. An error names the file, line,
    /// column and key, never a value from it (see [`repo_file::parse_error`]).
    pub fn parse(text: &str, origin: &Path) -> Result<Config> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| repo_file::line_and_column(text, span.start));
            anyhow!(
                "invalid configuration: {}",
                repo_file::parse_error(origin, text, line, column, e.message())
            )
        })?;
        config.check_names().map_err(|field| {
            anyhow!(
                "invalid configuration in {}: {field} holds a control character; remove it",
                quote_name(&origin.to_string_lossy())
            )
        })?;
        check_ids_and_regexes(&config, text, origin)?;
        // Descriptions are shown in every report: escaped once, here.
        for rule in &mut config.rules {
            rule.description = escape_control(&rule.description).into_owned().into();
        }
        Ok(config)
    }

    /// The first name (rule id, glob, variable name) holding a control
    /// character, as `field[index]`: such a name is never meant, and would
    /// be printed by `--verbose` and in reports.
    fn check_names(&self) -> std::result::Result<(), String> {
        let lists: [(&str, &[String]); 6] = [
            ("disabled_rules", &self.disabled_rules),
            ("allow.paths", &self.allow.paths),
            (
                "secret_files.patterns",
                self.secret_files.patterns.as_deref().unwrap_or_default(),
            ),
            ("secret_files.extra", &self.secret_files.extra),
            ("secret_files.allow", &self.secret_files.allow),
            ("agent.allow_read", &self.agent.allow_read),
        ];
        for (field, values) in lists {
            if let Some(i) = values.iter().position(|v| has_control(v)) {
                return Err(format!("{field}[{i}]"));
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if has_control(&rule.id) {
                return Err(format!("rules[{i}].id"));
            }
            if rule.env_var.as_deref().is_some_and(has_control) {
                return Err(format!("rules[{i}].env_var"));
            }
        }
        Ok(())
    }
}

/// Where the values checked after parsing sit in the file: the same keys
/// again, with their spans (every other key is ignored here).
#[derive(Deserialize)]
struct Spans {
    #[serde(default)]
    disabled_rules: Vec<toml::Spanned<String>>,
    #[serde(default)]
    allow: AllowSpans,
    #[serde(default)]
    rules: Vec<RuleSpans>,
}

#[derive(Default, Deserialize)]
struct AllowSpans {
    #[serde(default)]
    values: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize)]
struct RuleSpans {
    regex: Option<toml::Spanned<String>>,
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
}

/// Errors that name the line: a `disabled_rules` id that is no rule (else
/// `--verbose` would claim a rule is off that never existed, and a typo
/// would leave the rule on), and a regex that does not parse, with the
/// parser's reason and where in the pattern. Never the pattern itself: as
/// for parse errors, no value from the file is printed.
fn check_ids_and_regexes(config: &Config, text: &str, origin: &Path) -> Result<()> {
    let Ok(spans) = toml::from_str::<Spans>(text) else {
        return Ok(()); // the typed parse accepted it; nothing to point at
    };
    let error_at = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = repo_file::line_and_column(text, span.start);
        anyhow!(
            "invalid configuration: {}",
            repo_file::parse_error(origin, text, line, column, &message)
        )
    };
    let builtin = crate::rules::builtin_specs().iter().map(|r| r.id.as_ref());
    let custom = config.rules.iter().map(|r| r.id.as_ref());
    let known: std::collections::HashSet<&str> = builtin.chain(custom).collect();
    for id in &spans.disabled_rules {
        if known.contains(id.get_ref().as_str()) {
            continue;
        }
        let name = if is_rule_id(id.get_ref()) {
            id.get_ref().as_str()
        } else {
            "that id"
        };
        let message = if id.get_ref() == crate::finding::SECRET_FILE_RULE_ID {
            "disabled_rules: secret-file is not a rule that can be disabled; \
             use [secret_files] allow (or patterns) to let a file name through"
                .to_string()
        } else {
            format!("disabled_rules: there is no rule {name} (`keyguard rules` lists the rule ids)")
        };
        return Err(error_at(id.span(), message));
    }
    let regexes = spans
        .allow
        .values
        .iter()
        .map(|v| ("allow.values".to_string(), v))
        .chain(spans.rules.iter().enumerate().flat_map(|(i, rule)| {
            let id = config.rules.get(i).map_or("", |r| r.id.as_ref());
            let regex = rule
                .regex
                .iter()
                .map(move |r| (format!("rules[{i}] ({id}) regex"), r));
            let allow = rule
                .allow
                .iter()
                .map(move |a| (format!("rules[{i}] ({id}) allow"), a));
            regex.chain(allow)
        }));
    for (key, pattern) in regexes {
        if let Some(reason) = regex_error(pattern.get_ref()) {
            return Err(error_at(
                pattern.span(),
                format!("{key}: invalid regex: {reason}"),
            ));
        }
    }
    Ok(())
}

/// Why regex-syntax (the parser under the `regex` crate; bytes mode, as
/// rules match bytes) rejects `pattern`, and where: its reason and the
/// character it points at, never the pattern.
fn regex_error(pattern: &str) -> Option<String> {
    let err = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .err()?;
    let (reason, offset) = match &err {
        regex_syntax::Error::Parse(e) => (e.kind().to_string(), e.span().start.offset),
        regex_syntax::Error::Translate(e) => (e.kind().to_string(), e.span().start.offset),
        other => (other.to_string(), 0),
    };
    let at = pattern[..offset.min(pattern.len())].chars().count() + 1;
    Some(format!("{reason} (at character {at} of the pattern)"))
}

fn is_rule_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn has_control(text: &str) -> bool {
    matches!(escape_control(text), std::borrow::Cow::Owned(_))
}

/// Loads `explicit` (which must exist) or else `.keyguard.toml` in `root`
/// when present, else the defaults. The file in `root` comes with the
/// repository, so it is read as [`repo_file`] reads untrusted files: a link
/// leaving the repository, a FIFO or device, or a file over
/// [`MAX_CONFIG_BYTES`] is refused. `explicit` was chosen by the user and
/// may be anywhere, but is still only read if it is a regular file within
/// the bound.
pub fn load(explicit: Option<&Path>, root: Option<&Path>) -> Result<LoadedConfig> {
    let found = match (explicit, root) {
        (Some(path), _) => Some((path.to_path_buf(), Origin::User)),
        (None, Some(root)) => {
            let path = root.join(CONFIG_FILE_NAME);
            // A link that leads nowhere is a config that cannot be read,
            // not a missing one: only "no such entry" means no config.
            match std::fs::symlink_metadata(&path) {
                Ok(_) => Some((path, Origin::Repository { root })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "cannot read the configuration file {}",
                            quote_name(&path.to_string_lossy())
                        )
                    })
                }
            }
        }
        (None, None) => None,
    };
    let Some((path, origin)) = found else {
        return Ok(LoadedConfig {
            config: Config::default(),
            path: None,
        });
    };
    let text = repo_file::read_text(&path, CONFIG_KIND, origin)?;
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
            crate::rules::Rule::compiled_now(rule).unwrap();
        }
    }

    /// Copied as it is, the example turns no rule off and lets nothing
    /// through: its examples are in comments.
    #[test]
    fn example_config_disables_nothing_and_allows_nothing() {
        let text = include_str!("../config.example.toml");
        let config = Config::parse(text, Path::new("config.example.toml")).unwrap();
        assert!(config.disabled_rules.is_empty());
        assert!(config.allow.paths.is_empty() && config.allow.values.is_empty());
        assert!(config.secret_files.allow.is_empty());
        assert!(config.secret_files.patterns.is_none());
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = Config::parse(
            "disabled_rules = []\n\n[allow]\npath = ['x']\n",
            Path::new("/r/.keyguard.toml"),
        )
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("/r/.keyguard.toml:4:1: "), "{msg}");
        assert!(msg.contains("unknown field `path`"), "{msg}");
    }

    #[test]
    fn an_unknown_disabled_rule_is_an_error_naming_it_and_its_line() {
        let err = Config::parse(
            "# comment\ndisabled_rules = [\"aws-access-key-id\", \"no-such-rule\"]\n",
            Path::new("/r/.keyguard.toml"),
        )
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("/r/.keyguard.toml:2:"), "{msg}");
        assert!(msg.contains("there is no rule no-such-rule"), "{msg}");
        let custom = "disabled_rules = [\"acme\"]\n[[rules]]\nid = \"acme\"\n\
                      description = \"x\"\nregex = 'acme_[a-z]{8}'\n";
        Config::parse(custom, Path::new("x")).expect("a custom rule's id can be disabled");
        let err =
            Config::parse("disabled_rules = [\"secret-file\"]\n", Path::new("x")).unwrap_err();
        assert!(
            format!("{err:#}").contains("[secret_files] allow"),
            "{err:#}"
        );
    }

    #[test]
    fn an_invalid_regex_gives_the_reason_and_the_line_not_the_pattern() {
        let text = "[[rules]]\nid = \"acme\"\ndescription = \"x\"\n\
                    regex = '(?P<secret>acme_[A-Z'\nkeywords = [\"acme_\"]\n";
        let msg = format!(
            "{:#}",
            Config::parse(text, Path::new("/r/.keyguard.toml")).unwrap_err()
        );
        assert!(msg.contains("/r/.keyguard.toml:4:"), "{msg}");
        assert!(
            msg.contains("rules[0] (acme) regex: invalid regex: unclosed character class"),
            "{msg}"
        );
        assert!(!msg.contains("acme_[A-Z"), "the pattern is printed: {msg}");
        let text = "[allow]\nvalues = ['^ok$', 'a(b']\n";
        let msg = format!("{:#}", Config::parse(text, Path::new("x")).unwrap_err());
        assert!(
            msg.contains("x:2:") && msg.contains("allow.values: invalid regex: unclosed group"),
            "{msg}"
        );
    }

    #[test]
    fn empty_config_is_default() {
        let config = Config::parse("", Path::new("x")).unwrap();
        assert!(config.disabled_rules.is_empty() && config.rules.is_empty());
    }
}
