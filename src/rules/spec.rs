//! The rule schema: one rule as written in TOML, in the built-in files
//! under `rules/` or in a user's `.keyguard.toml`.
//!
//! build.rs includes this file (`#[path]`) and deserializes the built-in
//! rule files with these very types, so a rule the schema rejects fails the
//! build, naming its file and id. Text fields are `Cow<'static, _>` so that
//! build.rs can write the built-in rules out as statics of this same type
//! (no TOML parsed at run time) while user rules own their text.

use std::borrow::Cow;

use serde::Deserialize;

use super::checksum::Checksum;
use crate::decode::Decoding;

/// Text of a rule: borrowed from the built-in statics, owned for rules
/// from a configuration file.
pub type Text = Cow<'static, str>;

/// A list of texts, borrowed or owned like [`Text`].
pub type Texts = Cow<'static, [Text]>;

/// One rule as written in TOML.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier, lowercase words joined by `-`.
    pub id: Text,
    /// One line saying what the rule finds.
    pub description: Text,
    /// The pattern. The secret is the group named `secret` (or the first
    /// matching group whose name starts with `secret`), else the first
    /// group, else the whole match.
    pub regex: Text,
    /// Literals, at least one of which must occur (ASCII case-insensitive)
    /// before the regex runs. A rule without keywords runs on every line.
    #[serde(default)]
    pub keywords: Texts,
    /// Minimum Shannon entropy, in bits per character, of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Longest secret reported, in bytes. Cheaper than a counted upper
    /// bound in the regex: `[^"]{8,}"` plus `max_len = 200` finds what
    /// `[^"]{8,200}"` finds, and compiles to a tenth of the NFA.
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Regexes: a secret matching any of them is not reported.
    #[serde(default)]
    pub allow: Texts,
    /// Regexes over the whole match, the secret with its context: a match
    /// in which any of them is found is not reported (a connection URL to
    /// a documentation host such as `db.example.com`).
    #[serde(default)]
    pub allow_match: Texts,
    /// An offline checksum the secret must carry (`base62-crc32`).
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// How the secret is encoded in its field (`base64`,
    /// `base64-user-password`, `base64-yaml-values`): the checks then judge
    /// the decoded value (see [`crate::decode`]).
    #[serde(default)]
    pub decode: Option<Decoding>,
    /// Treat this as a loose `name = value` rule: the value must also look
    /// random and not like a placeholder, identifier or variable look-up.
    #[serde(default)]
    pub generic: bool,
    /// The secret is a password a person chose (a connection URL's): it
    /// need not look generated, but is judged like a loose rule's value
    /// under a password's name (not words in disguise, an identifier, a
    /// stock or hand-typed dummy).
    #[serde(default)]
    pub password: bool,
    /// The match may run past the end of the line it starts on (PEM blocks).
    #[serde(default)]
    pub multiline: bool,
    /// The environment variable people usually load this credential from,
    /// used in the hint.
    #[serde(default)]
    pub env_var: Option<Text>,
    /// Lines that must be found. `{{...}}` templates are filled in with
    /// random characters at test time (see `rules::examples`), so that the
    /// rule files never hold anything key-shaped themselves.
    #[serde(default)]
    pub examples: Texts,
    /// Lines that must not be found.
    #[serde(default)]
    pub negative_examples: Texts,
    /// Where the format is documented.
    #[serde(default)]
    pub references: Texts,
}

/// The top level of a rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

impl RuleSpec {
    /// What is wrong with the rule's shape (its id and keywords), checked
    /// without compiling anything: at build time for the built-in rules,
    /// at load time for a user's.
    pub fn shape_error(&self) -> Option<String> {
        let id = &self.id;
        let well_formed = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !well_formed {
            return Some(format!(
                "rule id `{id}` must be lowercase letters, digits and `-`"
            ));
        }
        if self.keywords.iter().any(|k| k.is_empty()) {
            return Some(format!("rule `{id}`: keywords must not be empty strings"));
        }
        None
    }
}
