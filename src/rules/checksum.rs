//! Offline checksums that some token formats carry. A match whose checksum
//! does not verify is a made-up or mistyped token, not a credential.
//!
//! GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens end
//! in six base62 characters holding the CRC-32 of the 30 random characters
//! before them: see
//! <https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/>.

use serde::Deserialize;

/// Base62 in the order GitHub and npm use (digits, upper, lower).
const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of the base62-encoded CRC-32 suffix.
const CHECKSUM_LEN: usize = 6;
/// Length of the random part the checksum covers.
const RANDOM_LEN: usize = 30;

/// Checksum schemes a rule can ask for (`checksum = "..."` in TOML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// `<prefix>_` + 30 base62 + base62(CRC-32 of those 30), 6 characters.
    Base62Crc32,
    /// The first body line of a private key block: its DER is not a public
    /// key or a certificate (see `der.rs`).
    PrivateKeyBody,
}

impl Checksum {
    /// Does `secret` carry a valid checksum?
    pub fn verifies(self, secret: &[u8]) -> bool {
        match self {
            Checksum::Base62Crc32 => verifies_base62_crc32(secret),
            Checksum::PrivateKeyBody => super::der::may_be_private_key(secret),
        }
    }
}

fn verifies_base62_crc32(secret: &[u8]) -> bool {
    if secret.len() < RANDOM_LEN + CHECKSUM_LEN {
        return false;
    }
    let (body, check) = secret.split_at(secret.len() - CHECKSUM_LEN);
    let random = &body[body.len() - RANDOM_LEN..];
    base62_crc32(random).as_bytes() == check
}

/// The 6-character base62 CRC-32 of `random`, zero-padded.
pub fn base62_crc32(random: &[u8]) -> String {
    let mut n = crc32(random);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62_DIGITS[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 digits are ASCII")
}

/// CRC-32 (IEEE 802.3, as in zlib), bitwise: tokens are short.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base62_round_trip_on_generated_tokens() {
        let random = "a".repeat(29) + "B";
        let token = format!("ghp_{random}{}", base62_crc32(random.as_bytes()));
        assert!(Checksum::Base62Crc32.verifies(token.as_bytes()));
        let mut broken = token.clone().into_bytes();
        broken[10] = if broken[10] == b'x' { b'y' } else { b'x' };
        assert!(!Checksum::Base62Crc32.verifies(&broken));
        assert!(!Checksum::Base62Crc32.verifies(b"ghp_short"));
    }
}
