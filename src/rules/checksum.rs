//! Offline checksums that some token formats carry. A match whose checksum
//! does not verify is a made-up or mistyped token, not a credential.
//!
//! Each scheme follows its provider's published description:
//!
//! - GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens
//!   end in six base62 characters holding the CRC-32 of the 30 random
//!   characters before them:
//!   <https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/>.
//! - GitLab routable tokens end in seven base-36 characters holding the
//!   CRC-32 of everything before them, prefix included (GitLab's
//!   `Authn::TokenField::Generator::RoutableToken`, and the routable-tokens
//!   design document in GitLab's handbook).
//! - Azure keys from Microsoft's public reference implementation,
//!   microsoft/security-utilities: common annotated security keys (CASK,
//!   `JQQJ9` at characters 52–56) and identifiable keys (a provider
//!   signature at a fixed offset) carry a Marvin32 checksum of the decoded
//!   key, with seeds published in its `IdentifiableMetadata`.

use serde::Deserialize;

/// Base62 in the order GitHub, npm and Microsoft's Base62 use (digits,
/// upper, lower).
const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Length of the base62-encoded CRC-32 suffix.
const CHECKSUM_LEN: usize = 6;
/// Length of the random part the checksum covers.
const RANDOM_LEN: usize = 30;
/// Length of the base-36 CRC-32 that ends a GitLab routable token
/// (`CRC_BYTES = 7`: 36^7 > 2^32).
const GITLAB_CRC_LEN: usize = 7;

/// Checksum schemes a rule can ask for (`checksum = "..."` in TOML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// `<prefix>_` + 30 base62 + base62(CRC-32 of those 30), 6 characters.
    Base62Crc32,
    /// The first body line of a private key block: its DER is not a public
    /// key or a certificate (see `der.rs`).
    PrivateKeyBody,
    /// GitLab routable token: `<prefix><base64url payload>.<version>.<len>`
    /// + base36(CRC-32 of all that), 7 characters, zero-padded.
    GitlabRoutableCrc32,
    /// Azure common annotated security key (84 or 88 characters): Marvin32
    /// of the first 60 decoded bytes, seeded with `Default0`.
    AzureCaskMarvin32,
    /// Azure identifiable key: the last 4 decoded bytes are the Marvin32 of
    /// the bytes before them, with a seed of the provider signature's.
    AzureIdentifiableMarvin32,
}

impl Checksum {
    /// Does `secret` carry a valid checksum?
    pub fn verifies(self, secret: &[u8]) -> bool {
        match self {
            Checksum::Base62Crc32 => verifies_base62_crc32(secret),
            Checksum::PrivateKeyBody => super::der::may_be_private_key(secret),
            Checksum::GitlabRoutableCrc32 => verifies_gitlab_routable(secret),
            Checksum::AzureCaskMarvin32 => verifies_azure_cask(secret),
            Checksum::AzureIdentifiableMarvin32 => verifies_azure_identifiable(secret),
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

fn verifies_gitlab_routable(secret: &[u8]) -> bool {
    if secret.len() <= GITLAB_CRC_LEN {
        return false;
    }
    let (body, check) = secret.split_at(secret.len() - GITLAB_CRC_LEN);
    gitlab_routable_crc(body).as_bytes() == check
}

/// The 7-character base-36 CRC-32 GitLab appends to a routable token's
/// `body` (Ruby's `Zlib.crc32(body).to_s(36).rjust(7, '0')`: lowercase).
pub fn gitlab_routable_crc(body: &[u8]) -> String {
    const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = crc32(body);
    let mut out = [b'0'; GITLAB_CRC_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE36[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out.to_vec()).expect("base36 digits are ASCII")
}

/// Marvin32 (Microsoft's SymCrypt `marvin32.c`, as ported in .NET's
/// `Marvin.cs`): the 64-bit state `(p1 << 32) | p0` after the input.
pub fn marvin64(seed: u64, data: &[u8]) -> u64 {
    fn block(p0: &mut u32, p1: &mut u32) {
        *p1 ^= *p0;
        *p0 = p0.rotate_left(20);
        *p0 = p0.wrapping_add(*p1);
        *p1 = p1.rotate_left(9);
        *p1 ^= *p0;
        *p0 = p0.rotate_left(27);
        *p0 = p0.wrapping_add(*p1);
        *p1 = p1.rotate_left(19);
    }
    let mut p0 = seed as u32;
    let mut p1 = (seed >> 32) as u32;
    let mut words = data.chunks_exact(4);
    for word in &mut words {
        let w = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        p0 = p0.wrapping_add(w);
        block(&mut p0, &mut p1);
    }
    // The tail (0–3 bytes) is closed by a 0x80 byte, little-endian.
    let tail = words.remainder();
    let mut last = 0x80u32 << (8 * tail.len());
    for (i, &b) in tail.iter().enumerate() {
        last |= u32::from(b) << (8 * i);
    }
    p0 = p0.wrapping_add(last);
    block(&mut p0, &mut p1);
    block(&mut p0, &mut p1);
    (u64::from(p1) << 32) | u64::from(p0)
}

/// Marvin32 folded to 32 bits, as the key formats store it
/// (`ComputeHash32`: high half XOR low half).
pub fn marvin32(seed: u64, data: &[u8]) -> u32 {
    let h = marvin64(seed, data);
    (h >> 32) as u32 ^ h as u32
}

/// The seed of an 8-character, digit-ending name (`ComputeHisV1ChecksumSeed`:
/// its ASCII bytes reversed, read as a little-endian u64).
const fn his_v1_seed(name: &[u8; 8]) -> u64 {
    u64::from_be_bytes(*name)
}

/// The seed of common annotated keys (`VersionTwoChecksumSeed`).
pub const CASK_SEED: u64 = his_v1_seed(b"Default0");

/// Offset of the `D` that marks a derived common annotated key.
const CASK_KIND_OFFSET: usize = 57;
/// Characters the checksum covers (60 bytes).
const CASK_CHECKED_CHARS: usize = 80;

fn verifies_azure_cask(secret: &[u8]) -> bool {
    let checked_len = match secret.len() {
        88 if secret.ends_with(b"==") => 6,
        84 => 4,
        _ => return false,
    };
    let Some(bytes) = crate::decode::base64(&secret[..CASK_CHECKED_CHARS]) else {
        return false;
    };
    let checksum = marvin32(CASK_SEED, &bytes);
    let written = &secret[CASK_CHECKED_CHARS..CASK_CHECKED_CHARS + checked_len];
    match (secret.len(), secret[CASK_KIND_OFFSET]) {
        // A derived key's short form ends in the base62 of the checksum
        // (`ComputeDerivedCommonAnnotatedKey`), not its base64.
        (84, b'D') => base62_of_u32_be(checksum).as_bytes().starts_with(written),
        // `JQQJ9H` keys: the reference implementation documents the shape
        // but not how their checksum is written, so the shape decides.
        (_, b'H') => true,
        _ => crate::decode::encode_base64(&checksum.to_le_bytes())
            .as_bytes()
            .starts_with(written),
    }
}

/// The base62 of `n`'s four big-endian bytes, leading zero bytes kept as
/// `0` digits: the Base62.Net encoding Microsoft's reference uses for an
/// `int`.
fn base62_of_u32_be(n: u32) -> String {
    let bytes = n.to_be_bytes();
    let leading_zeros = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut digits = Vec::new();
    let mut rest = u64::from(n);
    while rest > 0 {
        digits.push(BASE62_DIGITS[(rest % 62) as usize]);
        rest /= 62;
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    let mut out = "0".repeat(leading_zeros);
    out.extend(digits.iter().rev().map(|&d| d as char));
    out
}

/// One family of Azure identifiable keys.
struct IdentifiableFamily {
    /// Length of the encoded key.
    len: usize,
    /// Offset of the 4-character signature in the encoded key.
    at: usize,
    signature: &'static [u8; 4],
    /// The seeds its provider uses, each an 8-character name, as
    /// `IdentifiableMetadata` lists them.
    seeds: &'static [&'static [u8; 8]],
}

/// Shorthand for the table below.
const fn family(
    len: usize,
    at: usize,
    signature: &'static [u8; 4],
    seeds: &'static [&'static [u8; 8]],
) -> IdentifiableFamily {
    IdentifiableFamily {
        len,
        at,
        signature,
        seeds,
    }
}

/// The identifiable key families.
const IDENTIFIABLE_KEYS: &[IdentifiableFamily] = &[
    // 64-byte keys, 88 characters.
    family(88, 76, b"+ASt", &[b"Default0"]),
    family(88, 76, b"+ABa", &[b"AbAcct00"]),
    family(88, 76, b"+AMC", &[b"Classic0"]),
    family(
        88,
        76,
        b"ACDb",
        &[
            b"SysAll00",
            b"Resour00",
            b"MastRO00",
            b"SystRO00",
            b"Encryp00",
            b"MastRW00",
            b"SystRW00",
        ],
    ),
    family(
        88,
        76,
        b"APIM",
        &[b"Tenant00", b"IoTHub00", b"Gatewy00", b"GitKey00"],
    ),
    // 32-byte keys, 44 characters.
    family(44, 33, b"AIoT", &[b"IoTHub00", b"DpsKey00", b"Device00"]),
    family(44, 33, b"+ASb", MESSAGING_SEEDS),
    family(44, 33, b"+AEh", MESSAGING_SEEDS),
    family(44, 33, b"+ARm", MESSAGING_SEEDS),
    // 39-byte keys, 52 characters.
    family(52, 42, b"+ACR", &[b"ACRDflt0"]),
    family(52, 42, b"AzSe", &[b"Query000", b"PAdmin00"]),
    // 40-byte keys, URL-safe, 56 characters.
    family(56, 44, b"AzFu", &[b"Functi00", b"System00", b"Master00"]),
];

/// Service Bus, Event Hubs and Relay: send, listen, manage, system and
/// unknown keys.
const MESSAGING_SEEDS: &[&[u8; 8]] = &[
    b"Send0000",
    b"Listen00",
    b"Manage00",
    b"System00",
    b"Unknown0",
];

fn verifies_azure_identifiable(secret: &[u8]) -> bool {
    let Some(seeds) = IDENTIFIABLE_KEYS
        .iter()
        .find(|f| secret.len() == f.len && secret.get(f.at..f.at + 4) == Some(&f.signature[..]))
        .map(|f| f.seeds)
    else {
        return false;
    };
    let Some(bytes) = crate::decode::base64(secret) else {
        return false;
    };
    let Some(split) = bytes.len().checked_sub(4) else {
        return false;
    };
    let (body, written) = bytes.split_at(split);
    let written = u32::from_le_bytes([written[0], written[1], written[2], written[3]]);
    seeds
        .iter()
        .any(|name| marvin32(his_v1_seed(name), body) == written)
}

/// Builds an identifiable key of the family with `signature` from random
/// bytes, as the reference implementation does
/// (`GenerateKeyWithAppendedSignatureAndChecksum`): for rule examples.
pub fn azure_identifiable_key(signature: &[u8; 4], random: &[u8]) -> Option<String> {
    let f = IDENTIFIABLE_KEYS
        .iter()
        .find(|f| f.signature == signature)?;
    let (len, at, seeds) = (f.len, f.at, f.seeds);
    let byte_len = match len {
        88 => 64,
        44 => 32,
        52 => 39,
        _ => 40,
    };
    // Place the signature in the encoded text, then read the bytes back:
    // the 6-bit alignment is the reference's, whatever the length.
    let mut text: Vec<u8> = crate::decode::encode_base64(&random[..byte_len]).into_bytes();
    text[at..at + 4].copy_from_slice(signature);
    // Where the signature does not end on a byte boundary, the bits after
    // it up to the checksum are zero (the reference masks them): the
    // `[A-P]` or `[A-D]` character that follows it in 44 and 52 character
    // keys.
    if len == 44 || len == 52 {
        text[at + 4] = b'A';
    }
    let mut bytes = crate::decode::base64(&text)?;
    let split = bytes.len() - 4;
    let checksum = marvin32(his_v1_seed(seeds[0]), &bytes[..split]);
    bytes[split..].copy_from_slice(&checksum.to_le_bytes());
    let mut key = crate::decode::encode_base64(&bytes);
    if len == 52 {
        key.truncate(52);
    }
    if len == 56 {
        key = key.replace('+', "-").replace('/', "_");
    }
    Some(key)
}

/// The checksum of a common annotated key's first 80 characters, as the
/// characters that follow them in the 88-character form (`XXXXXX==`).
pub fn azure_cask_checksum_text(first_80: &[u8]) -> Option<String> {
    let bytes = crate::decode::base64(first_80)?;
    Some(crate::decode::encode_base64(
        &marvin32(CASK_SEED, &bytes).to_le_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `secret` with the byte at `at` changed: a mistyped token.
    fn corrupted(secret: &[u8], at: usize) -> Vec<u8> {
        let mut broken = secret.to_vec();
        broken[at] = if broken[at] == b'x' { b'y' } else { b'x' };
        broken
    }

    #[test]
    fn crc32_known_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base62_crc32_known_value_and_a_corrupted_token() {
        // Python's zlib.crc32 of the random part, in GitHub's base62.
        let random = "a".repeat(29) + "B";
        assert_eq!(base62_crc32(random.as_bytes()), "3gxJX1");
        let token = format!("ghp_{random}3gxJX1");
        assert!(Checksum::Base62Crc32.verifies(token.as_bytes()));
        assert!(!Checksum::Base62Crc32.verifies(&corrupted(token.as_bytes(), 10)));
        assert!(!Checksum::Base62Crc32.verifies(b"ghp_short"));
    }

    #[test]
    fn gitlab_routable_known_value_and_a_corrupted_token() {
        // Bytes 0..16 as the random part, `c:1\no:2a` as the routing
        // payload and its length; the CRC computed with Python's zlib.
        let body = concat!("glpat", "-AAECAwQFBgcICQoLDA0OD2M6MQpvOjJhCA", ".01.0y");
        assert_eq!(gitlab_routable_crc(body.as_bytes()), "07r1z9c");
        let token = format!("{body}07r1z9c");
        assert!(Checksum::GitlabRoutableCrc32.verifies(token.as_bytes()));
        assert!(!Checksum::GitlabRoutableCrc32.verifies(&corrupted(token.as_bytes(), 12)));
        // The prefix is covered too: another prefix, another checksum.
        let other = token.replacen("glpat", "gldt", 1);
        assert!(!Checksum::GitlabRoutableCrc32.verifies(other.as_bytes()));
        assert!(!Checksum::GitlabRoutableCrc32.verifies(b"0000000"));
    }

    #[test]
    fn marvin_matches_the_published_test_vectors() {
        // .NET's MarvinTests and SymCrypt's self-test vectors.
        const SEED_1: u64 = 0x004F_B61A_001B_DBCC;
        const SEED_2: u64 = 0x804F_B61A_001B_DBCC;
        let cases: &[(u64, &[u8], u64)] = &[
            (SEED_1, b"", 0x30ED_35C1_00CD_3C7D),
            (SEED_1, &[0xAF], 0x48E7_3FC7_7D75_DDC1),
            (SEED_1, &[0xE7, 0x0F], 0xB5F6_E1FC_485D_BFF8),
            (SEED_1, &[0x37, 0xF4, 0x95], 0xF0B0_7C78_9B8C_F7E8),
            (SEED_1, &[0x86, 0x42, 0xDC, 0x59], 0x7008_F2E8_7E9C_F556),
            (
                SEED_1,
                &[0x15, 0x3F, 0xB7, 0x98, 0x26],
                0xE6C0_8C6D_A2AF_A997,
            ),
            (
                SEED_1,
                &[0x09, 0x32, 0xE6, 0x24, 0x6C, 0x47],
                0x6F04_BF1A_5EA2_4060,
            ),
            (
                SEED_1,
                &[0xAB, 0x42, 0x7E, 0xA8, 0xD1, 0x0F, 0xC7],
                0xE118_47E4_F067_8C41,
            ),
            (SEED_2, b"", 0x10A9_D5D3_996F_D65D),
            (SEED_2, &[0xAF], 0x6820_1F91_960E_BF91),
            (SEED_2, &[0xE7, 0x0F], 0x64B5_8163_1F6A_B378),
            (SEED_2, &[0x37, 0xF4, 0x95], 0xE1F2_DFA6_E513_1408),
            (SEED_2, &[0x86, 0x42, 0xDC, 0x59], 0x3628_9D96_54FB_49F6),
            (
                SEED_2,
                &[0x15, 0x3F, 0xB7, 0x98, 0x26],
                0x0A06_114B_1346_4DBD,
            ),
        ];
        for &(seed, data, expected) in cases {
            assert_eq!(
                marvin64(seed, data),
                expected,
                "seed {seed:#x}, {data:02x?}"
            );
        }
        assert_eq!(
            CASK_SEED, 0x4465_6661_756C_7430,
            "the published Default0 seed"
        );
    }

    #[test]
    fn azure_cask_known_value_and_corrupted_keys() {
        let first_80 = format!(
            "{}{}{}{}",
            "A".repeat(26) + &"b".repeat(26),
            concat!("JQQJ", "99", "CL"),
            "0".repeat(16),
            "TEST"
        );
        // Marvin32 of the 60 decoded bytes, computed with a Python port
        // checked against the published vectors.
        assert_eq!(
            azure_cask_checksum_text(first_80.as_bytes()).unwrap(),
            "ksc5aA=="
        );
        let long = format!("{first_80}ksc5aA==");
        let short = format!("{first_80}ksc5");
        assert!(Checksum::AzureCaskMarvin32.verifies(long.as_bytes()));
        assert!(Checksum::AzureCaskMarvin32.verifies(short.as_bytes()));
        for key in [&long, &short] {
            assert!(!Checksum::AzureCaskMarvin32.verifies(&corrupted(key.as_bytes(), 3)));
            assert!(!Checksum::AzureCaskMarvin32.verifies(&corrupted(key.as_bytes(), 81)));
        }
        assert!(!Checksum::AzureCaskMarvin32.verifies(&long.as_bytes()[..86]));
    }

    #[test]
    fn base62_of_an_int_keeps_leading_zero_bytes() {
        assert_eq!(base62_of_u32_be(61), "000z");
        assert_eq!(base62_of_u32_be(62), "00010");
        assert_eq!(base62_of_u32_be(u32::MAX), "4gfFC3");
    }

    #[test]
    fn azure_identifiable_keys_of_every_family_and_corrupted_ones() {
        let random: Vec<u8> = (0u8..64).map(|b| b.wrapping_mul(37) ^ 0x5A).collect();
        for &IdentifiableFamily {
            len, at, signature, ..
        } in IDENTIFIABLE_KEYS
        {
            let key = azure_identifiable_key(signature, &random).unwrap();
            assert_eq!(key.len(), len, "{}", String::from_utf8_lossy(signature));
            assert_eq!(&key.as_bytes()[at..at + 4], signature);
            assert!(Checksum::AzureIdentifiableMarvin32.verifies(key.as_bytes()));
            assert!(!Checksum::AzureIdentifiableMarvin32.verifies(&corrupted(key.as_bytes(), 5)));
        }
        // A random 88-character base64 string with a signature but no
        // checksum is not a key.
        let mut fake = vec![b'Q'; 86];
        fake[76..80].copy_from_slice(b"+ASt");
        fake.extend_from_slice(b"==");
        assert!(!Checksum::AzureIdentifiableMarvin32.verifies(&fake));
    }

    /// Marvin32 (`Default0` seed) of bytes 0..57 and `+ASt`, from the
    /// Python port checked against the published vectors.
    const AZURE_STORAGE_KNOWN: u32 = 0xE0A9_9763;

    #[test]
    fn azure_storage_key_known_value() {
        // Bytes 0..57 then the +ASt signature bytes; the checksum computed
        // with the Python port: a key built without this crate's generator.
        let mut bytes: Vec<u8> = (0u8..57).collect();
        bytes.extend_from_slice(&crate::decode::base64(b"+ASt").unwrap());
        let checksum = marvin32(his_v1_seed(b"Default0"), &bytes);
        assert_eq!(checksum, AZURE_STORAGE_KNOWN);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        let key = crate::decode::encode_base64(&bytes);
        assert!(Checksum::AzureIdentifiableMarvin32.verifies(key.as_bytes()));
    }
}
