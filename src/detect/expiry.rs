//! Credentials that carry their own expiry: a JSON Web Token's `exp`
//! claim (RFC 7519 section 4.1.4). A token past its expiry grants nothing,
//! whichever rule found it: the tokens in documentation, changelogs and API
//! examples expired long ago, while a token pasted from a live session has
//! not.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Is `secret` a JWT (`header.payload.signature`) whose payload's `exp`
/// is before `now`? A token without a readable `exp` has not expired.
pub fn is_expired_jwt(secret: &[u8], now: u64) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !header.starts_with(b"eyJ") || !payload.starts_with(b"eyJ") {
        return false;
    }
    let Some(json) = crate::decode::base64(payload) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&json) else {
        return false;
    };
    // NumericDate may be fractional (RFC 7519 section 2).
    claims
        .get("exp")
        .and_then(serde_json::Value::as_f64)
        .is_some_and(|exp| exp >= 0.0 && (exp as u64) < now)
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
