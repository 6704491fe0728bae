//! The checks a regex match must pass to be reported: entropy floor,
//! length, checksum, allow lists, and for loose rules the look of a
//! credential; for an encoded field, the decoded value is judged.

use super::{allowlist, entropy, generic, jwt, Detector, MAX_DECODE_DEPTH};
use crate::rules::Rule;

impl Detector {
    /// Whether `secret`, found by `rule` under the field name `name` in
    /// text already `depth` encodings deep, is reported.
    pub(super) fn is_reportable(
        &self,
        rule: &Rule,
        secret: &[u8],
        name: Option<&[u8]>,
        depth: u8,
    ) -> bool {
        let Some(decoding) = rule.decode else {
            return self.is_reportable_value(rule, secret, name);
        };
        // An encoded field: what is inside decides. A value another rule
        // recognises (a PEM key, a provider token) is reported; otherwise
        // the value must look like a credential under its field's name, and
        // not like one made up at a keyboard (`1234567890abcdef…`).
        decoding.values(secret, name).iter().any(|decoded| {
            let Ok(text) = std::str::from_utf8(&decoded.value) else {
                return false;
            };
            // The field's value is one more encoding deep: at the bound,
            // only this rule's own checks judge it.
            let mut inner = Vec::new();
            if depth < MAX_DECODE_DEPTH {
                self.scan_at_depth(text, 1, depth + 1, None, &mut inner);
            }
            inner.iter().any(|m| !self.rules()[m.rule].generic)
                || (self.is_reportable_value(rule, &decoded.value, decoded.name)
                    && !generic::is_made_up(&decoded.value)
                    && allowlist::looks_like_credential(&decoded.value, decoded.name))
        })
    }

    fn is_reportable_value(&self, rule: &Rule, secret: &[u8], name: Option<&[u8]>) -> bool {
        if secret.is_empty()
            || allowlist::is_obvious_placeholder(secret)
            || jwt::is_expired_jwt(secret, self.now)
            || jwt::is_signed_with_a_published_key(secret)
            || generic::is_documented_example(secret)
        {
            return false;
        }
        if let Some(floor) = rule.entropy {
            if entropy::shannon(secret) < floor {
                return false;
            }
        }
        if rule.max_len.is_some_and(|max| secret.len() > max) {
            return false;
        }
        if rule.checksum.is_some_and(|c| !c.verifies(secret)) {
            return false;
        }
        if rule
            .allow_regexes()
            .iter()
            .chain(&self.rule_set().allowed_values)
            .any(|a| a.is_match(secret))
        {
            return false;
        }
        // A provider's prefix before words (`glpat-python-gitlab-token_`):
        // an example a person wrote, not a key the provider issued.
        if !rule.generic
            && self
                .token_body(secret)
                .is_some_and(super::randomness::is_made_of_words)
        {
            return false;
        }
        // A chosen password: need not look generated, only not made up.
        if rule.password
            && (generic::is_known_non_secret(secret)
                || !allowlist::looks_like_chosen_password(secret))
        {
            return false;
        }
        if rule.generic {
            if name.is_some_and(allowlist::is_non_secret_name) {
                return false;
            }
            if let Some(inner) = generic::value_of_quoted_line(secret) {
                return self.is_reportable_value(rule, inner, name);
            }
            if generic::is_known_non_secret(secret)
                || !allowlist::looks_like_credential(secret, name)
                || self.has_provider_prefix(secret)
                || generic::is_jose_shaped(secret)
            {
                return false;
            }
        }
        true
    }

    /// Does the value start with a provider's token prefix (`sk_live_`,
    /// `ghp_`, `glpat-`)? Then that provider's rule decides: where it did
    /// not report the value (too short, a bad checksum), a loose rule must
    /// not report it either.
    fn has_provider_prefix(&self, secret: &[u8]) -> bool {
        self.token_body(secret).is_some()
    }

    /// What follows the longest provider token prefix the value starts
    /// with, if it starts with one.
    fn token_body<'s>(&self, secret: &'s [u8]) -> Option<&'s [u8]> {
        let is_token_prefix = |k: &str| k.len() >= 3 && (k.ends_with('_') || k.ends_with('-'));
        self.rules()
            .iter()
            .filter(|r| !r.generic)
            .flat_map(|r| r.keywords.iter())
            .filter(|k| is_token_prefix(k) && secret.starts_with(k.as_bytes()))
            .map(|k| k.len())
            .max()
            .map(|len| &secret[len..])
    }
}
