//! Fake credentials and random choices, from the library's generator
//! seeded from the test's name ([`Keys`]): one RNG for the whole suite, so
//! every run of a test sees the same keys and the same choices.
//!
//! Fake keys are never spelt out in this source: they are generated from
//! templates such as `ghp_{{b62crc:30}}`, so that `keyguard --all` on this
//! repository stays clean.

use keyguard::rules::examples::{expand, Rng};

/// Fake credentials, generated from templates at run time. The generator
/// is seeded from the test's name so every run of a test sees the same
/// keys (reproducible failures), while no key is written in the source.
pub struct Keys {
    rng: Rng,
}

impl Keys {
    pub fn for_test(name: &str) -> Keys {
        // FNV-1a: a stable seed from the test name.
        let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            seed ^= u64::from(b);
            seed = seed.wrapping_mul(0x0100_0000_01b3);
        }
        Keys {
            rng: Rng::seeded(seed),
        }
    }

    /// A number in `0..n`, for the tests' own random choices.
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.below(n)
    }

    /// Expands a `{{alphabet:length}}` template.
    pub fn expand(&mut self, template: &str) -> String {
        expand(template, &mut self.rng).expect("valid template")
    }

    /// A GitHub personal access token, with a valid checksum.
    pub fn github(&mut self) -> String {
        self.expand(&["ghp", "{{b62crc:30}}"].join("_"))
    }

    /// An OpenAI project key (carries the `T3BlbkFJ` marker).
    pub fn openai(&mut self) -> String {
        let marker = ["T3Blb", "kFJ"].concat();
        self.expand(&format!(
            "sk-proj-{{{{b64url:74}}}}{marker}{{{{b64url:74}}}}"
        ))
    }

    pub fn anthropic(&mut self) -> String {
        self.expand(&["sk-ant", "api03-{{b64url:93}}AA"].join("-"))
    }

    pub fn aws_access_key_id(&mut self) -> String {
        self.expand(&["AK", "IA{{upper:16}}"].concat())
    }

    pub fn stripe(&mut self) -> String {
        self.expand(&["sk", "live", "{{b62:24}}"].join("_"))
    }

    pub fn slack_bot(&mut self) -> String {
        self.expand(&["xo", "xb-{{digits:12}}-{{digits:13}}-{{b62:24}}"].concat())
    }

    /// A random value for a `api_key = "..."` assignment.
    pub fn generic_value(&mut self) -> String {
        self.expand("{{b62:32}}")
    }

    /// A PEM private key block (header, two body lines, footer), and the
    /// body's first line (what the rule reports as the secret starts with).
    pub fn pem_block(&mut self) -> (String, String) {
        let header = ["-----BEGIN RSA", "PRIVATE KEY-----"].join(" ");
        let footer = ["-----END RSA", "PRIVATE KEY-----"].join(" ");
        // A PKCS #1 body starts as its DER does (SEQUENCE, version 0,
        // modulus); a body no key starts with is not reported. It is as
        // long as its DER says (1,191 bytes, 1,588 characters): a block cut
        // to a snippet is a parser's test, not a key.
        let first = self.expand("{{lit:MIIEowIBAAKCAQEA}}{{b64:48}}");
        let mut lines = vec![first.clone()];
        lines.extend((0..23).map(|_| self.expand("{{b64:64}}")));
        lines.push(self.expand("{{b64:52}}"));
        (format!("{header}\n{}\n{footer}\n", lines.join("\n")), first)
    }
}
