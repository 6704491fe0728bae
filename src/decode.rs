//! Decoding the fields that formats store base64-encoded.
//!
//! Some files hold their secret encoded in a known field: a Kubernetes
//! Secret's `data:` values, Docker's `auths.*.auth` and `.npmrc`'s `_auth`
//! (base64 of `user:password`). A rule names the field's encoding
//! (`decode = "..."` in its TOML) and the detector judges what is inside,
//! never the encoded text: base64 of a random password is not itself
//! obviously random, and base64 of `admin:admin` looks random enough.
//!
//! This is the one decoding module: the general decoder for encoded
//! credentials builds on it. It only sees text, and returns text or nothing:
//! decoded bytes that are binary (hashes, certificates in DER) are dropped.

use serde::Deserialize;

/// How a rule's secret is encoded (`decode = "..."` in a rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decoding {
    /// One base64 value (standard or URL-safe alphabet, padding optional).
    Base64,
    /// Base64 of `user:password`; the password is what is judged.
    Base64UserPassword,
    /// A run of YAML `name: base64` entries, as under a Kubernetes Secret's
    /// `data:`; the secret starts at the first value, whose name the rule
    /// captures as `name`.
    Base64YamlValues,
}

impl Decoding {
    /// The decoded values in `secret`, each with the name it is stored
    /// under (`first_name` for the first, or for a single value). Values that
    /// are not base64 or decode to binary are left out.
    pub fn values<'a>(self, secret: &'a [u8], first_name: Option<&'a [u8]>) -> Vec<Decoded<'a>> {
        match self {
            Decoding::Base64 => text_of(secret)
                .map(|value| Decoded {
                    name: first_name,
                    value,
                })
                .into_iter()
                .collect(),
            Decoding::Base64UserPassword => text_of(secret)
                .and_then(|pair| {
                    let colon = pair.iter().position(|&b| b == b':')?;
                    Some(Decoded {
                        name: Some(b"password"),
                        value: pair[colon + 1..].to_vec(),
                    })
                })
                .filter(|d| !d.value.is_empty())
                .into_iter()
                .collect(),
            Decoding::Base64YamlValues => yaml_values(secret, first_name),
        }
    }
}

/// A decoded value and the field name it was stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub name: Option<&'a [u8]>,
    pub value: Vec<u8>,
}

fn yaml_values<'a>(secret: &'a [u8], first_name: Option<&'a [u8]>) -> Vec<Decoded<'a>> {
    let mut out = Vec::new();
    let mut name = first_name;
    for token in secret
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        if let Some(key) = token.strip_suffix(b":") {
            name = Some(key);
        } else if let Some(value) = text_of(token) {
            out.push(Decoded { name, value });
        }
    }
    out
}

/// Base64-decodes `encoded` and keeps the result only if it is text.
fn text_of(encoded: &[u8]) -> Option<Vec<u8>> {
    let bytes = base64(encoded)?;
    is_text(&bytes).then_some(bytes)
}

/// Printable UTF-8, allowing tabs and line breaks (a PEM block is text).
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

/// Decodes base64 in the standard or the URL-safe alphabet, with or
/// without `=` padding. `None` when `encoded` is not base64.
pub fn base64(encoded: &[u8]) -> Option<Vec<u8>> {
    let body = match encoded.iter().rposition(|&b| b != b'=') {
        Some(last) => &encoded[..=last],
        None => return None,
    };
    let padding = encoded.len() - body.len();
    if padding > 2 || body.len() % 4 == 1 || (padding > 0 && (body.len() + padding) % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &b in body {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// The text that `keyword` becomes inside base64, at each of the three
/// byte alignments it can have in the encoded value: only the characters
/// that depend on the keyword alone (the ones at its edges mix in the bytes
/// around it). Both alphabets where they differ; at least 4 characters.
pub fn base64_forms(keyword: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(keyword);
        let encoded = encode_base64(&bytes);
        // Character i covers bits [6i, 6i + 6); the keyword bits
        // [8 offset, 8 (offset + len)).
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + keyword.len()) / 6;
        if end < first + 4 {
            continue;
        }
        let stable = &encoded[first..end];
        forms.push(stable.to_string());
        if stable.contains(['+', '/']) {
            forms.push(stable.replace('+', "-").replace('/', "_"));
        }
    }
    forms
}

/// Standard base64 with padding (rule examples and tests build encoded
/// fields with it).
pub fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            out.push(match i <= chunk.len() {
                true => ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char,
                false => '=',
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_in_both_alphabets_with_and_without_padding() {
        assert_eq!(base64(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64(b"YQ==").unwrap(), b"a");
        assert_eq!(base64(b"YQ").unwrap(), b"a");
        assert_eq!(base64(b"-_-_").unwrap(), base64(b"+/+/").unwrap());
        assert!(base64(b"YQ=").is_none());
        assert!(base64(b"Y").is_none());
        assert!(base64(b"a b").is_none());
        assert!(base64(b"===").is_none());
    }

    #[test]
    fn encoding_round_trips() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let encoded = encode_base64(&bytes);
            assert_eq!(encoded.len() % 4, 0);
            if len > 0 {
                assert_eq!(base64(encoded.as_bytes()).unwrap(), bytes, "{len}");
            }
        }
        assert_eq!(encode_base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn base64_forms_are_found_in_every_alignment() {
        let keyword = b"sk_live_";
        let forms = base64_forms(keyword);
        for before in ["", "a", "ab"] {
            for after in ["", "x", "xy", "xyz"] {
                let text = [before.as_bytes(), keyword, after.as_bytes()].concat();
                let encoded = encode_base64(&text);
                assert!(
                    forms.iter().any(|f| encoded.contains(f.as_str())),
                    "{before:?} {after:?}: {encoded} {forms:?}"
                );
            }
        }
        assert!(base64_forms(b"ab").is_empty(), "too short to be rare");
    }

    #[test]
    fn user_password_yields_the_password() {
        let values = Decoding::Base64UserPassword.values(b"ZGVwbG95Omh1bnRlcjI=", None);
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].value, b"hunter2");
        assert!(Decoding::Base64UserPassword
            .values(b"bm8tY29sb24=", None)
            .is_empty());
    }

    #[test]
    fn yaml_values_carry_their_names_and_drop_binary() {
        // `db-password: hunter2`, then `blob:` holding bytes that are not text.
        let block = b"aHVudGVyMg==\n  blob: AAECAw==\n  user: YWRtaW4=";
        let values = Decoding::Base64YamlValues.values(block, Some(b"db-password"));
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].name, Some(&b"db-password"[..]));
        assert_eq!(values[0].value, b"hunter2");
        assert_eq!(values[1].name, Some(&b"user"[..]));
        assert_eq!(values[1].value, b"admin");
    }

    #[test]
    fn names_round_trip() {
        use serde::de::{value::StrDeserializer, IntoDeserializer};
        let from_name = |name: &str| {
            let name: StrDeserializer<'_, serde::de::value::Error> = name.into_deserializer();
            Decoding::deserialize(name).ok()
        };
        for name in ["base64", "base64-user-password", "base64-yaml-values"] {
            assert!(from_name(name).is_some(), "{name}");
        }
        assert!(from_name("rot13").is_none());
    }
}
