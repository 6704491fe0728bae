//! Example templates: fake keys built at run time.
//!
//! Rule examples and tests never spell out a key. They write a template such
//! as `ghp_{{b62:36}}`, and [`expand`] fills each `{{alphabet:length}}` with
//! random characters. `{{b62crc:30}}` is 30 random base62 characters and
//! their 6-character base62 CRC-32, as GitHub and npm tokens end.
//! `{{glroutable:PREFIX}}`, `{{azcask:88}}` (or `84`) and `{{azid:SIGNATURE}}`
//! are whole GitLab routable tokens and Azure keys with valid checksums.
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
        } else if let Some(token) = checksummed_token(kind, arg, rng) {
            // A whole token whose checksum covers more than a random run
            // (GitLab's covers the prefix, Azure's the decoded bytes).
            out.push_str(&token.with_context(|| format!("in example `{template}`"))?);
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

/// `n` random bytes.
fn random_bytes(n: usize, rng: &mut Rng) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// The tokens of the templates `{{glroutable:PREFIX}}` (a GitLab routable
/// token with that prefix), `{{azcask:88}}` / `{{azcask:84}}` (an Azure
/// common annotated key, long or short form) and `{{azid:SIGNATURE}}` (an
/// Azure identifiable key of that provider), each with a valid checksum;
/// `None` for other kinds.
fn checksummed_token(kind: &str, arg: &str, rng: &mut Rng) -> Option<Result<String>> {
    use super::checksum;
    Some(match kind {
        "glroutable" => {
            // Random bytes, the routing payload (`c:` cell, `o:` owner in
            // base 36) and its length, as GitLab's generator lays them out.
            let owner = random_string(alphabet("lownum").expect("known"), 4, rng);
            let payload = format!("c:1\no:{owner}");
            let mut raw = random_bytes(16, rng);
            raw.extend_from_slice(payload.as_bytes());
            raw.push(payload.len() as u8);
            let encoded = crate::decode::encode_base64(&raw)
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_");
            let body = format!("{arg}{encoded}.01.{:0>2}", base36(encoded.len()));
            let crc = checksum::gitlab_routable_crc(body.as_bytes());
            Ok(format!("{body}{crc}"))
        }
        "azcask" => azure_cask(arg, rng),
        "azid" => {
            let Ok(signature) = <&[u8; 4]>::try_from(arg.as_bytes()) else {
                return Some(Err(anyhow::anyhow!(
                    "an Azure signature has 4 characters, not `{arg}`"
                )));
            };
            checksum::azure_identifiable_key(signature, &random_bytes(64, rng))
                .with_context(|| format!("no Azure identifiable key has the signature `{arg}`"))
        }
        _ => return None,
    })
}

/// `n` in lowercase base 36.
fn base36(mut n: usize) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 {
        out.push(digits[n % 36]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

/// An Azure common annotated key of `length` 88 or 84: 52 random base62
/// characters, the `JQQJ99` signature, a date, zeroed reserved fields, a
/// random provider signature and the checksum. Keys whose checksum encodes
/// with `+` or `/` are drawn again, as the reference generator does.
fn azure_cask(length: &str, rng: &mut Rng) -> Result<String> {
    let length: usize = match length {
        "88" => 88,
        "84" => 84,
        _ => bail!("an Azure common annotated key has 88 or 84 characters, not `{length}`"),
    };
    let b62 = alphabet("b62").expect("known");
    loop {
        let signature = format!(
            "{}{}",
            random_string(alphabet("upper").expect("known"), 1, rng),
            random_string(b62, 3, rng)
        );
        let first_80 = format!(
            "{}{}{}{signature}",
            random_string(b62, 52, rng),
            concat!("JQQJ", "99", "CB"),
            "A".repeat(16)
        );
        let checksum = super::checksum::azure_cask_checksum_text(first_80.as_bytes())
            .context("the first 80 characters are base64")?;
        if !checksum[..6].bytes().all(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let key = format!("{first_80}{checksum}");
        return Ok(key[..length].to_string());
    }
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
