//! Encoded and edited-in-place credentials: a provider's key in base64 is
//! decoded and found at the encoded token; a change inside committed
//! context (a manifest's `value:` under its `- name:`) is read with that
//! context; what only looks encoded (text, dummies, hashes) is not a finding.

use crate::util::{Keys, Stream, TempRepo};

fn b64(text: &str) -> String {
    keyguard::decode::encode_base64(text.as_bytes())
}

/// A Kubernetes Secret's `data:` holding an OpenAI key, and a Stripe key
/// base64-encoded under a name that says nothing.
#[test]
fn base64_of_provider_keys_is_blocked_at_the_encoded_token() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("encoded/providers");
    let (openai, stripe) = (keys.openai(), keys.stripe());
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  OPENAI_API_KEY: {}\n",
        b64(&openai)
    );
    repo.stage("k8s/secret.yaml", &secret);
    repo.stage("app/settings.py", format!("BLOB = \"{}\"\n", b64(&stripe)));
    let run = repo.commit_blocked("encoded keys");
    run.assert_no_leak(&openai).assert_no_leak(&stripe);
    run.assert_no_leak(&b64(&openai));
    run.assert_stderr_contains("k8s/secret.yaml:6:19  openai-api-key  base64 of OpenAI");
    run.assert_stderr_contains("app/settings.py:1:9  stripe-secret-key  base64 of Stripe");
}

/// Base64 of English, of a `user:password` dummy, of a hash and of an
/// image's bytes passes; an allow marker on an encoded key's line applies.
#[test]
fn base64_of_text_dummies_and_hashes_is_not_a_finding() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("encoded/negatives");
    let hash = keyguard::decode::encode_base64(&[
        0x9f, 0x12, 0xee, 0x01, 0x7a, 0xc3, 0x55, 0x80, 0x11, 0x42, 0xfe, 0x00, 0x33, 0x81, 0x9a,
        0x07,
    ]);
    let lines = [
        format!("secret: {}", b64("this secret is secure, trust me")),
        format!("\"auth\": \"{}\"", b64("test:test")),
        format!("\"integrity\": \"sha512-{hash}{hash}\""),
        format!(
            "icon = \"{}\"",
            keyguard::decode::encode_base64(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10")
        ),
        format!("BLOB = \"{}\"  # keyguard:allow", b64(&keys.stripe())),
    ];
    repo.stage("data.yaml", lines.join("\n") + "\n");
    repo.commit_allowed("encoded text");
}

/// HTTP Basic credentials: base64 of `user:password`, judged by what is
/// inside.
#[test]
fn basic_authorization_headers_are_judged_by_their_password() {
    let repo = TempRepo::with_hook();
    let password = Keys::for_test("encoded/basic").expand("{{b62:20}}");
    let header = b64(&format!("deploy:{password}"));
    repo.stage(
        "ops/call.sh",
        format!("curl -H \"Authorization: Basic {header}\" https://api.acme.dev/jobs\n"),
    );
    repo.commit_blocked("basic auth").assert_human_finding(
        Stream::Stderr,
        "ops/call.sh",
        1,
        31,
        "http-basic-authorization",
        &header,
    );
    repo.stage(
        "ops/call.sh",
        format!(
            "curl -H \"Authorization: Basic {}\" http://localhost:8080\n",
            b64("admin:admin")
        ),
    );
    repo.commit_allowed("a dummy");
}

/// A Kubernetes manifest whose committed `- name: API_TOKEN` gets a new
/// `value:`: the name is context, the value is what the commit adds.
#[test]
fn a_manifest_value_changed_under_its_committed_name_is_blocked() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("edited-in-place/manifest");
    let (old, new) = (keys.generic_value(), keys.generic_value());
    let manifest = |value: &str| {
        format!(
            "env:\n  - name: LOG_LEVEL\n    value: info\n  - name: API_TOKEN\n    value: \"{value}\"\n"
        )
    };
    repo.seed(&[("k8s/deploy.yaml", manifest(&old).as_bytes())]);
    repo.stage("k8s/deploy.yaml", manifest(&new));
    let run = repo.commit_blocked("new token");
    run.assert_no_leak(&new);
    run.assert_stderr_contains("k8s/deploy.yaml:5:13  generic-secret-env-pair");
    // The committed lines around it are context: a change elsewhere in the
    // file reports nothing about them.
    repo.stage("k8s/deploy.yaml", manifest(&old).replace("info", "debug"));
    repo.commit_allowed("log level").assert_no_leak(&old);
}
