//! What the body of a private key block holds, read from its first line.
//!
//! A block labelled `PRIVATE KEY` is a key only when its body is one. The
//! DER inside says so in its first bytes: every private key format starts
//! with a small version number (PKCS #1, PKCS #8, SEC 1 and DSA keys with
//! `INTEGER 0` or `1`), or is encrypted (an encrypted PKCS #8 key names a
//! PKCS #5 or #12 scheme; a legacy encrypted body is noise). A public key
//! starts with its modulus or its algorithm, a certificate with its
//! `tbsCertificate`: tests and docs paste those under a private label
//! ("fake keys for the regex"). Only what is surely not a private key is
//! rejected, so a body that is not DER at all (OpenSSH, PGP, encrypted)
//! passes.

/// The DER a private key block's body starts with is not a public key or a
/// certificate. `body` is the block's first body line, base64.
pub fn may_be_private_key(body: &[u8]) -> bool {
    let usable = body.len() / 4 * 4;
    crate::decode::base64(&body[..usable.min(64)])
        .is_none_or(|der| opening(&der) != Opening::PublicKeyOrCertificate)
}

/// What the first bytes of a DER structure say it is.
#[derive(Debug, PartialEq, Eq)]
enum Opening {
    /// A small version number first: PKCS #1, PKCS #8, SEC 1, DSA keys.
    Version,
    /// An encrypted PKCS #8 key: the PKCS #5 or #12 scheme it names.
    Encryption,
    /// A modulus (RSAPublicKey), an algorithm (SubjectPublicKeyInfo), or a
    /// `tbsCertificate` (`[0]` version or a serial number).
    PublicKeyOrCertificate,
    /// Anything else, or too little to tell.
    Unknown,
}

fn opening(der: &[u8]) -> Opening {
    if der.first() != Some(&SEQUENCE) {
        return Opening::Unknown;
    }
    let Some(first) = contents_start(der, 0) else {
        return Opening::Unknown;
    };
    match der.get(first) {
        // A version is one byte; a modulus (RSAPublicKey) is many.
        Some(&INTEGER) if der.get(first + 1).is_some_and(|&len| len <= 4) => Opening::Version,
        Some(&INTEGER) => Opening::PublicKeyOrCertificate,
        Some(&SEQUENCE) => match contents_start(der, first).map(|inner| (inner, der.get(inner))) {
            Some((inner, Some(&OID))) => {
                let encrypted = der
                    .get(inner + 2..)
                    .is_some_and(|oid| oid.starts_with(PKCS5) || oid.starts_with(PKCS12_PBE));
                if encrypted {
                    Opening::Encryption
                } else {
                    Opening::PublicKeyOrCertificate
                }
            }
            Some((_, Some(&EXPLICIT_0 | &INTEGER))) => Opening::PublicKeyOrCertificate,
            _ => Opening::Unknown,
        },
        _ => Opening::Unknown,
    }
}

/// Is the block whose body starts `body` (the text from its first body
/// line on) whole, DER-shaped, and yet not one DER element: cut to a
/// snippet (a test's first lines of a key), or holding more than its DER
/// claims? Such
/// a block opens nothing: no tool reads it as a key. Only a plain block is
/// judged, lines of base64 alone up to the END line: one in quoted, escaped
/// or commented lines, one whose END line is not in `body`, and a body
/// that does not start as a key's DER does (a version, or an algorithm) is
/// given the benefit of the doubt.
pub fn is_broken_block(body: &[u8]) -> bool {
    const LONGEST: usize = 64 * 1024;
    let mut base64 = Vec::new();
    for line in body.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.starts_with(b"-----END ") {
            let Some(der) = crate::decode::base64(&base64) else {
                return false;
            };
            let Some((contents, len)) = length_field(&der, 0) else {
                return false;
            };
            let opens_like_a_key =
                der[0] == SEQUENCE && matches!(der.get(contents), Some(&INTEGER | &SEQUENCE));
            // Cut to under half of its length: a snippet. A key missing a
            // line or two still gives most of itself away, and is reported.
            return opens_like_a_key
                && (der.len() > contents + len || der.len() * 2 < contents + len);
        }
        let is_base64 = !line.is_empty()
            && line
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if !is_base64 || base64.len() + line.len() > LONGEST {
            return false;
        }
        base64.extend_from_slice(line);
    }
    false
}

/// Is `der` one whole DER structure, every element's length accounted for
/// down to its leaves, that does not open as a private key does: a
/// protocol message, a certificate or a public key, hex- or base64-encoded
/// in a test (SPNEGO's `oRQwEqAD…`, a Kerberos message's `3036a00d…`)? A
/// random value is one by chance about once in a million draws (the outer
/// length alone matches once in 256), so a generated key is never taken
/// for one. A private key, whole, opens with its version (PKCS #1, PKCS #8,
/// SEC 1, DSA) or names its encryption (PKCS #5, #12): that is reported.
pub fn is_structure_not_a_key(der: &[u8]) -> bool {
    const SHORTEST: usize = 16;
    let constructed = |tag: u8| tag & 0x20 != 0 && tag & 0x1f != 0x1f;
    if der.len() < SHORTEST || !constructed(der[0]) || !fills_exactly(der, 0) {
        return false;
    }
    !matches!(opening(der), Opening::Version | Opening::Encryption)
}

/// Do the DER elements in `der` fill it exactly, each constructed one's
/// contents filled by its own elements in turn? `depth` bounds the nesting.
fn fills_exactly(der: &[u8], depth: u8) -> bool {
    const DEEPEST: u8 = 16;
    if depth > DEEPEST {
        return false;
    }
    let mut at = 0;
    while at < der.len() {
        let tag = der[at];
        // High tag numbers (`0x1f`) and the indefinite length are not DER.
        if tag & 0x1f == 0x1f {
            return false;
        }
        let Some((start, len)) = length_field(der, at) else {
            return false;
        };
        let Some(contents) = start.checked_add(len).and_then(|end| der.get(start..end)) else {
            return false;
        };
        if tag & 0x20 != 0 && !fills_exactly(contents, depth + 1) {
            return false;
        }
        at = start + len;
    }
    true
}

const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const EXPLICIT_0: u8 = 0xa0;
/// 1.2.840.113549.1.5 (PKCS #5: PBES2, PBKDF2), DER-encoded.
const PKCS5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
/// 1.2.840.113549.1.12 (PKCS #12 password-based encryption).
const PKCS12_PBE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c];

/// Where the contents of the element whose tag is at `at` start.
fn contents_start(der: &[u8], at: usize) -> Option<usize> {
    length_field(der, at).map(|(start, _)| start)
}

/// Where the contents of the element whose tag is at `at` start, and the
/// length its header declares for them (short or long form, up to 4 bytes).
fn length_field(der: &[u8], at: usize) -> Option<(usize, usize)> {
    match *der.get(at + 1)? {
        short @ 0..=0x7f => Some((at + 2, usize::from(short))),
        long @ 0x81..=0x84 => {
            let start = at + 2 + usize::from(long - 0x80);
            let bytes = der.get(at + 2..start)?;
            Some((
                start,
                bytes.iter().fold(0usize, |n, &b| n << 8 | usize::from(b)),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::encode_base64;

    /// A DER element: `tag`, a short or long length, `contents`.
    fn element(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match contents.len() {
            n @ 0..=0x7f => out.push(n as u8),
            n @ 0x80..=0xff => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(contents);
        out
    }

    #[test]
    fn a_whole_message_is_a_structure_and_a_key_is_not() {
        // A Kerberos-like message: SEQUENCE { [0] OCTET STRING, [1] SEQUENCE { [0] INTEGER } }.
        let message = element(
            SEQUENCE,
            &[
                element(EXPLICIT_0, &element(0x04, b"newpassword")),
                element(
                    0xa1,
                    &element(SEQUENCE, &element(EXPLICIT_0, &element(INTEGER, &[1]))),
                ),
            ]
            .concat(),
        );
        assert!(is_structure_not_a_key(&message));
        // A public key: SEQUENCE { SEQUENCE { OID rsaEncryption }, BIT STRING }.
        let rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        let public = element(
            SEQUENCE,
            &[
                element(SEQUENCE, &element(OID, &rsa)),
                element(0x03, &[0; 40]),
            ]
            .concat(),
        );
        assert!(is_structure_not_a_key(&public));
        // A private key opens with its version: reported.
        let private = element(
            SEQUENCE,
            &[
                element(INTEGER, &[0]),
                element(INTEGER, &[0x5a; 64]),
                element(INTEGER, &[3]),
            ]
            .concat(),
        );
        assert!(!is_structure_not_a_key(&private));
        // Cut short, or one byte more: not one whole structure.
        assert!(!is_structure_not_a_key(&message[..message.len() - 1]));
        assert!(!is_structure_not_a_key(
            &[message.as_slice(), &[0]].concat()
        ));
    }

    #[test]
    fn random_bytes_are_not_a_structure() {
        let mut rng = crate::rules::examples::Rng::seeded(0xde5);
        let mut found = 0;
        for _ in 0..100_000 {
            let len = 16 + (rng.next_u64() % 48) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            found += usize::from(is_structure_not_a_key(&bytes));
        }
        assert!(found <= 1, "{found} of 100,000 random values parsed as DER");
    }

    /// The first 48 bytes of a body, as its first base64 line.
    fn line(der: &[u8]) -> Vec<u8> {
        let mut bytes = der.to_vec();
        bytes.resize(48, 0x5a);
        encode_base64(&bytes).into_bytes()
    }

    #[test]
    fn private_key_structures_may_be_keys() {
        // PKCS #1 RSA, PKCS #8, SEC 1 EC: a one-byte version first.
        assert!(may_be_private_key(&line(&[
            0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02
        ])));
        assert!(may_be_private_key(&line(&[
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05
        ])));
        assert!(may_be_private_key(&line(&[
            0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20
        ])));
        // Encrypted PKCS #8: PBES2 (1.2.840.113549.1.5.13).
        let mut pbes2 = vec![0x30, 0x82, 0x05, 0x0e, 0x30, 0x40, 0x06, 0x09];
        pbes2.extend_from_slice(PKCS5);
        pbes2.push(0x0d);
        assert!(may_be_private_key(&line(&pbes2)));
        // Not DER: an OpenSSH body, or noise.
        assert!(may_be_private_key(
            b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
        ));
        assert!(may_be_private_key(b"not base64 at all!"));
    }

    #[test]
    fn public_keys_and_certificates_are_not() {
        // RSAPublicKey: the modulus first.
        assert!(!may_be_private_key(&line(&[
            0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01
        ])));
        // SubjectPublicKeyInfo with rsaEncryption (1.2.840.113549.1.1.1).
        let spki = [
            0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
            0x01, 0x01, 0x01,
        ];
        assert!(!may_be_private_key(&line(&spki)));
        // A certificate: tbsCertificate starts with `[0]` (its version).
        let cert = [
            0x30, 0x82, 0x03, 0x00, 0x30, 0x82, 0x02, 0x00, 0xa0, 0x03, 0x02, 0x01,
        ];
        assert!(!may_be_private_key(&line(&cert)));
    }

    /// A PKCS #8-shaped element of `contents` bytes (a version first), with
    /// `declared` as its outer length, as a PEM body of 64-character lines
    /// followed by the END line.
    fn block(contents: usize, declared: usize) -> String {
        let mut der = vec![
            0x30,
            0x82,
            (declared >> 8) as u8,
            declared as u8,
            0x02,
            0x01,
            0x00,
        ];
        der.extend((0..contents - 3).map(|i| (i * 7 + 3) as u8));
        let body = encode_base64(&der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!("{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
    }

    /// A whole block is judged by its length; one cut short or claiming more
    /// is broken. What cannot be judged whole is left alone.
    #[test]
    fn a_cut_or_overlong_block_is_broken_and_a_whole_one_is_not() {
        assert!(!is_broken_block(block(1200, 1200).as_bytes()));
        assert!(is_broken_block(block(300, 1200).as_bytes())); // the first lines of a key
        assert!(is_broken_block(block(1200, 600).as_bytes())); // more than it claims
                                                               // A key with its last line lost still gives most of itself away.
        assert!(!is_broken_block(block(1150, 1200).as_bytes()));
        // The END line may carry the string's closing quote.
        let quoted_end = block(300, 1200).replace("KEY-----\n", "KEY-----\"\"\"\n");
        assert!(is_broken_block(quoted_end.as_bytes()));
        // Not judged: no END line in view, lines in quotes or escapes, a
        // body that does not open as a key's DER does.
        let whole = block(300, 1200);
        let no_end = &whole[..whole.find("-----END").unwrap()];
        assert!(!is_broken_block(no_end.as_bytes()));
        let quoted: String = whole.lines().map(|l| format!("\"{l}\"\n")).collect();
        assert!(!is_broken_block(quoted.as_bytes()));
        let escaped = whole.replace('\n', "\\n");
        assert!(!is_broken_block(escaped.as_bytes()));
        let openssh = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n";
        assert!(!is_broken_block(openssh.as_bytes()));
    }
}
