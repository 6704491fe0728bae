//! JSON Web Tokens that grant nothing, whichever rule found them.
//!
//! - A token past its `exp` claim (RFC 7519 section 4.1.4): the tokens in
//!   documentation, changelogs and API examples expired long ago, while a
//!   token pasted from a live session has not.
//! - A token signed with HMAC under a key everyone knows (`secret`,
//!   jwt.io's `your-256-bit-secret`): anyone can mint one, so it proves
//!   nothing; it is how tutorials and READMEs show a token.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Is `secret` a JWT (`header.payload.signature`) whose payload's `exp`
/// is before `now`? A token without a readable `exp` has not expired.
pub fn is_expired_jwt(secret: &[u8], now: u64) -> bool {
    let Some((_, payload)) = header_and_payload(secret) else {
        return false;
    };
    // NumericDate may be fractional (RFC 7519 section 2).
    json_of(payload)
        .and_then(|claims| claims.get("exp").and_then(serde_json::Value::as_f64))
        .is_some_and(|exp| exp >= 0.0 && (exp as u64) < now)
}

/// The first two segments of a JWT-looking `secret`, each a JSON object's
/// base64 (`eyJ`).
fn header_and_payload(secret: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut parts = secret.split(|&b| b == b'.');
    let (header, payload) = (parts.next()?, parts.next()?);
    (header.starts_with(b"eyJ") && payload.starts_with(b"eyJ")).then_some((header, payload))
}

/// A segment's JSON, if it decodes to JSON.
fn json_of(segment: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(&crate::decode::base64(segment)?).ok()
}

/// Keys that documentation signs its example tokens with: the libraries'
/// READMEs (`secret`, `shhhhh`, `key`), jwt.io's debugger defaults
/// (`your-256-bit-secret` and kin), and the words tutorials use.
const PUBLISHED_HMAC_KEYS: &[&[u8]] = &[
    b"secret",
    b"your-256-bit-secret",
    b"your-384-bit-secret",
    b"your-512-bit-secret",
    b"shhhhh",
    b"key",
    b"password",
    b"test",
    b"mysecret",
    b"secretkey",
    b"secret-key",
    b"changeme",
];

/// Is `secret` a JWT whose HS256/384/512 signature verifies under one of
/// [`PUBLISHED_HMAC_KEYS`]?
pub fn is_signed_with_a_published_key(secret: &[u8]) -> bool {
    let Some((header, payload)) = header_and_payload(secret) else {
        return false;
    };
    let mut rest = secret[header.len() + 1 + payload.len()..].split(|&b| b == b'.');
    let (Some(b""), Some(signature), None) = (rest.next(), rest.next(), rest.next()) else {
        return false; // not exactly three segments
    };
    let (Some(header_json), Some(signature)) = (json_of(header), crate::decode::base64(signature))
    else {
        return false;
    };
    let signed = &secret[..header.len() + 1 + payload.len()];
    let verifies = |key: &[u8]| match header_json.get("alg").and_then(|a| a.as_str()) {
        Some("HS256") => mac::<Hmac<Sha256>>(key, signed, &signature),
        Some("HS384") => mac::<Hmac<Sha384>>(key, signed, &signature),
        Some("HS512") => mac::<Hmac<Sha512>>(key, signed, &signature),
        _ => false,
    };
    PUBLISHED_HMAC_KEYS.iter().any(|key| verifies(key))
}

fn mac<M: Mac + KeyInit>(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::encode_base64;

    fn jwt(claims: &str) -> String {
        let url_safe = |s: &str| {
            encode_base64(s.as_bytes())
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_")
        };
        let header = url_safe(r#"{"alg":"HS256","typ":"JWT"}"#);
        // A signature's worth of characters; its bytes are not checked.
        format!("{header}.{}.{}", url_safe(claims), "Qk".repeat(22))
    }

    #[test]
    fn a_token_past_its_exp_has_expired() {
        let now = 1_800_000_000;
        assert!(is_expired_jwt(
            jwt(r#"{"sub":"a","exp":1572006964}"#).as_bytes(),
            now
        ));
        assert!(is_expired_jwt(
            jwt(r#"{"exp":1572006964.5}"#).as_bytes(),
            now
        ));
    }

    #[test]
    fn a_token_before_its_exp_or_without_one_has_not() {
        let now = 1_800_000_000;
        assert!(!is_expired_jwt(
            jwt(r#"{"exp":1900000000}"#).as_bytes(),
            now
        ));
        assert!(!is_expired_jwt(
            jwt(r#"{"sub":"svc","role":"service_role"}"#).as_bytes(),
            now
        ));
        assert!(!is_expired_jwt(jwt(r#"{"exp":"soon"}"#).as_bytes(), now));
        assert!(!is_expired_jwt(jwt(r#"{"exp":-5}"#).as_bytes(), now));
    }

    /// A token signed as a tutorial signs it is minted by anyone; the same
    /// claims under another key, or unsigned, are not.
    #[test]
    fn a_token_signed_with_a_published_key_grants_nothing() {
        let signed_with = |key: &[u8], alg: &str| {
            let url_safe = |b: &[u8]| {
                encode_base64(b)
                    .trim_end_matches('=')
                    .replace('+', "-")
                    .replace('/', "_")
            };
            let signed = format!(
                "{}.{}",
                url_safe(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()),
                url_safe(br#"{"sub":"1","name":"a"}"#)
            );
            let signature = match alg {
                "HS256" => hmac_of::<Hmac<Sha256>>(key, signed.as_bytes()),
                _ => hmac_of::<Hmac<Sha512>>(key, signed.as_bytes()),
            };
            format!("{signed}.{}", url_safe(&signature))
        };
        fn hmac_of<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            let mut mac = <M as KeyInit>::new_from_slice(key).unwrap();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        assert!(is_signed_with_a_published_key(
            signed_with(b"secret", "HS256").as_bytes()
        ));
        assert!(is_signed_with_a_published_key(
            signed_with(b"your-512-bit-secret", "HS512").as_bytes()
        ));
        let private_key = crate::rules::examples::expand(
            "{{b62:32}}",
            &mut crate::rules::examples::Rng::seeded(3),
        )
        .unwrap();
        assert!(!is_signed_with_a_published_key(
            signed_with(private_key.as_bytes(), "HS256").as_bytes()
        ));
        // The header names HS512, the signature is HS256's: not verified.
        let mislabeled = signed_with(b"secret", "HS256").replacen("IUzI1Ni", "IUzUxMi", 1);
        assert!(!is_signed_with_a_published_key(mislabeled.as_bytes()));
        assert!(!is_signed_with_a_published_key(
            b"eyJhbGciOiJIUzI1NiJ9.eyJ9.x.y"
        ));
    }

    #[test]
    fn what_is_not_a_jwt_has_not_expired() {
        assert!(!is_expired_jwt(b"ghp_abc.def", 1_800_000_000));
        assert!(!is_expired_jwt(b"eyJhbGciOiJIUzI1NiJ9", 1_800_000_000));
        assert!(!is_expired_jwt(
            b"eyJhbGciOiJIUzI1NiJ9.eyJ!!!.sig",
            1_800_000_000
        ));
    }
}
