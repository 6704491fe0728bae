//! Example templates: fake keys built at run time.
//!
//! Rule examples and tests never spell out a key. They write a template such
//! as `ghp_{{b62:36}}`, and [`expand`] fills each `{{alphabet:length}}` with
//! random characters. `{{b62crc:30}}` is 30 random base62 characters and
//! their 6-character base62 CRC-32, as GitHub and npm tokens end.
//! `{{lit:TEXT}}` inserts TEXT unchanged, which lets a
//! file mention a marker (a PEM header, say) without containing it.

use std::ops::Range;

use anyhow::{bail, Context, Result};

/// A small deterministic generator (SplitMix64): tests are repeatable and
/// need no extra crate.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(seed: u64) -> Self {
        Rng(seed)
    }

    /// Seeded from the clock, for tests that want a fresh key each run.
    pub fn from_time() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x1234_5678);
        Rng(nanos ^ u64::from(std::process::id()) << 32)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The characters each alphabet name stands for.
pub fn alphabet(name: &str) -> Option<&'static str> {
    Some(match name {
        "b62" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b64" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "b64url" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        "hex" => "0123456789abcdef",
        "HEX" => "0123456789ABCDEF",
        "upper" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "lower" => "abcdefghijklmnopqrstuvwxyz",
        "digits" => "0123456789",
        "upnum" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "lownum" => "abcdefghijklmnopqrstuvwxyz0123456789",
        _ => return None,
    })
}

/// `length` random characters from `alphabet`, with at least one digit and
/// one letter when the alphabet has both, since real keys almost always do
/// and rules may rely on it.
pub fn random_string(alphabet: &str, length: usize, rng: &mut Rng) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    loop {
        let s: String = (0..length).map(|_| chars[rng.below(chars.len())]).collect();
        let needs_mix = length >= 8
            && chars.iter().any(char::is_ascii_digit)
            && chars.iter().any(char::is_ascii_alphabetic);
        if !needs_mix
            || (s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(|c| c.is_ascii_alphabetic()))
        {
            return s;
        }
    }
}

/// Fills every `{{...}}` in `template`.
pub fn expand(template: &str, rng: &mut Rng) -> Result<String> {
    expand_with_parts(template, rng).map(|(text, _)| text)
}

/// Fills every `{{...}}` in `template`, and says where the random parts
/// (every template but `{{lit:...}}`) ended up: what a rule should capture.
pub fn expand_with_parts(template: &str, rng: &mut Rng) -> Result<(String, Vec<Range<usize>>)> {
    let mut parts = Vec::new();
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .with_context(|| format!("unclosed {{{{ in example `{template}`"))?;
        // Only `{{word:arg}}` is a template; anything else (a GitHub
        // Actions `${{ secrets.X }}`, say) is ordinary text.
        let Some((kind, arg)) = after[..end].split_once(':').filter(|(kind, _)| {
            !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphanumeric())
        }) else {
            out.push_str(&rest[start..start + 2 + end + 2]);
            rest = &after[end + 2..];
            continue;
        };
        let part_start = out.len();
        if kind == "lit" {
            out.push_str(arg);
        } else if let Some(prefix) = match kind {
            "b64text" => Some(""),
            "b64pass" => Some("deploy:"),
            _ => None,
        } {
            // Base64 of random base62 text (of `deploy:` and a random
            // password): an encoded field whose content is a credential.
            let length: usize = arg
                .parse()
                .with_context(|| format!("bad length `{arg}` in example `{template}`"))?;
            let random = random_string(alphabet("b62").expect("known"), length, rng);
            out.push_str(&crate::decode::encode_base64(
                format!("{prefix}{random}").as_bytes(),
            ));
        } else if kind == "b62crc" {
            // 30 random base62 characters and their CRC-32 (GitHub, npm).
            let length: usize = arg
                .parse()
                .with_context(|| format!("bad length `{arg}` in example `{template}`"))?;
            let random = random_string(alphabet("b62").expect("known"), length, rng);
            out.push_str(&random);
            out.push_str(&super::checksum::base62_crc32(random.as_bytes()));
        } else {
            let Some(chars) = alphabet(kind) else {
                bail!("unknown alphabet `{kind}` in example `{template}`");
            };
            let length: usize = arg
                .parse()
                .with_context(|| format!("bad length `{arg}` in example `{template}`"))?;
            out.push_str(&random_string(chars, length, rng));
        }
        if kind != "lit" {
            parts.push(part_start..out.len());
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok((out, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_alphabets_and_literals() {
        let mut rng = Rng::seeded(1);
        let s = expand("ab_{{hex:8}}-{{lit:X}}", &mut rng).unwrap();
        assert!(s.starts_with("ab_"), "{s}");
        assert_eq!(s.len(), 3 + 8 + 2);
        assert!(s[3..11].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(s.ends_with("-X"));
    }

    #[test]
    fn says_where_the_random_parts_are() {
        let mut rng = Rng::seeded(1);
        let (s, parts) =
            expand_with_parts("a{{lit:B}}c_{{hex:8}}-{{b62crc:30}}", &mut rng).unwrap();
        assert_eq!(parts, [4..12, 13..49]);
        assert_eq!(&s[..4], "aBc_");
        assert_eq!(s.len(), 49);
    }

    #[test]
    fn rejects_bad_templates() {
        let mut rng = Rng::seeded(1);
        assert!(expand("{{nope:3}}", &mut rng).is_err());
        assert!(expand("{{hex:x}}", &mut rng).is_err());
        assert!(expand("{{hex:3", &mut rng).is_err());
        assert_eq!(
            expand("${{ secrets.TOKEN }}", &mut rng).unwrap(),
            "${{ secrets.TOKEN }}"
        );
    }
}
