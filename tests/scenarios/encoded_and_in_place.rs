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

/// `encodeURIComponent`: everything but the unreserved characters (RFC
/// 3986 section 2.3) as `%XX`.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hex(text: &str) -> String {
    keyguard::decode::encode_hex(text.as_bytes())
}

/// An AWS secret access key with a `/` and a `+` in it, as real ones often
/// have: the characters that JSON and URL encoders escape.
fn aws_secret(keys: &mut Keys) -> String {
    keys.expand("{{b62:18}}/{{b62:10}}+{{b62:10}}")
}

/// The files of `encoded_files` and what the hook and `--all` report on
/// each: path, line, column, rule, description.
struct Encoded {
    path: &'static str,
    contents: String,
    found: String,
    secret: String,
}

/// One file per encoding and per nesting: hex of an OpenAI key (upper-case
/// hex too), a `\u`-escaped key prefix and a `\/`-escaped AWS secret in
/// JSON, a percent-encoded secret in a form body, a connection URL
/// percent-encoded into a query parameter, and a base64 value
/// percent-encoded into a URL.
fn encoded_files(keys: &mut Keys) -> Vec<Encoded> {
    let (openai, stripe) = (keys.openai(), keys.stripe());
    let (key_id, secret) = (keys.aws_access_key_id(), aws_secret(keys));
    let password = keys.expand("{{b62:20}}");
    // A base64 value with a `+` or `/` inside, which percent-encoding
    // escapes: base64 of ASCII has one where a `?`, `>` or `~` ends a
    // 3-byte group, so the note is indented until its `?` does.
    let blob_key = keys.stripe();
    let blob = ["", " ", "  "]
        .iter()
        .map(|indent| {
            b64(&format!(
                "token: {blob_key}\n{indent}# rotate? see the runbook\n"
            ))
        })
        .find(|blob| blob.contains(['+', '/']))
        .expect("one indent puts the ? at the end of a group");
    let url = format!("postgres://app:{password}@db.internal:5432/orders");
    vec![
        Encoded {
            path: "fixtures/blob.txt",
            contents: format!("payload = \"{}\"\n", hex(&openai)),
            found: "fixtures/blob.txt:1:12  openai-api-key  hex of OpenAI".into(),
            secret: openai.clone(),
        },
        Encoded {
            path: "fixtures/upper.txt",
            contents: format!("STRIPE={}\n", hex(&stripe).to_uppercase()),
            found: "fixtures/upper.txt:1:8  stripe-secret-key  hex of Stripe".into(),
            secret: stripe.clone(),
        },
        Encoded {
            path: "web/config.json",
            contents: format!("{{\"openai\": \"\\u0073{}\"}}\n", &openai[1..]),
            found: "web/config.json:1:13  openai-api-key  string escapes of OpenAI".into(),
            secret: openai.clone(),
        },
        Encoded {
            path: "web/aws.json",
            contents: format!(
                "{{\"AccessKeyId\": \"{key_id}\", \"SecretAccessKey\": \"{}\"}}\n",
                secret.replace('/', "\\/")
            ),
            found: "web/aws.json:1:61  aws-secret-access-key-paired  string escapes of AWS secret"
                .into(),
            secret: secret.clone(),
        },
        Encoded {
            path: "ops/token-request.txt",
            contents: format!(
                "grant_type=client_credentials&client_id=billing&client_secret={}\n",
                percent(&secret)
            ),
            found: "ops/token-request.txt:1:63  generic-secret-assignment  percent-encoding of"
                .into(),
            secret: secret.clone(),
        },
        Encoded {
            path: "ops/redirect.txt",
            contents: format!("https://sso.acme.dev/login?next={}\n", percent(&url)),
            found:
                "ops/redirect.txt:1:56  url-embedded-password  percent-encoding of Connection URL"
                    .into(),
            secret: password,
        },
        Encoded {
            path: "ops/callback.txt",
            contents: format!("https://app.acme.dev/cb?state={}\n", percent(&blob)),
            found: "ops/callback.txt:1:31  stripe-secret-key  percent-encoding of base64 of Stripe"
                .into(),
            secret: blob_key,
        },
    ]
}

/// Each encoding, and base64 under percent-encoding, is blocked by the
/// hook and reported by `--all`, at the encoded text, without the secret.
#[test]
fn hex_percent_and_string_escaped_keys_are_blocked_and_found_by_all() {
    let repo = TempRepo::with_hook();
    let files = encoded_files(&mut Keys::for_test("encoded/each-encoding"));
    for file in &files {
        repo.stage(file.path, &file.contents);
    }
    let run = repo.commit_blocked("encoded keys");
    for file in &files {
        run.assert_stderr_contains(&file.found)
            .assert_no_leak(&file.secret);
    }
    let all = repo.keyguard(&["--all"]);
    all.assert_code(1);
    for file in &files {
        all.assert_stdout_contains(&file.found)
            .assert_no_leak(&file.secret);
    }
}

/// Hex of English, of a `user:password` dummy and of a digest; escapes in
/// prose, printf formats and URLs; a lock file's scoped-package URLs and
/// `sha512-` integrity values: none is a finding, in the hook or `--all`.
#[test]
fn hex_and_escapes_of_text_dummies_and_hashes_are_not_findings() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("encoded/hex-negatives");
    let digest: Vec<u8> = (0..32).map(|_| keys.below(256) as u8).collect();
    let lines = [
        format!("note = \"{}\"", hex("this secret token is only a sentence")),
        format!("auth = \"{}\"", hex("admin:admin")),
        format!("auth: {}", hex("user:password")),
        format!("sha256 = \"{}\"", keyguard::decode::encode_hex(&digest)),
        format!(
            "icon = \"{}\"",
            keyguard::decode::encode_hex(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
        ),
        "printf(\"%2d%% done\\n\", pct); width: 100%;".into(),
        format!(
            "docs = \"https://example.com/search?q={}\"",
            percent("my secret password")
        ),
        "\"title\": \"Caf\\u00e9 \\/ Bar\", \"password\": \"\\u003cchange-me\\u003e\"".into(),
    ];
    repo.stage("notes.txt", lines.join("\n") + "\n");
    // A SHA-512 digest is 64 bytes of binary.
    let lock: String = (0..200)
        .map(|i| {
            let sha512: Vec<u8> = (0..64).map(|_| keys.below(256) as u8).collect();
            format!(
                "    \"node_modules/@scope/pkg{i}\": {{\n      \"resolved\": \"https://registry.npmjs.org/@scope%2fpkg{i}/-/pkg{i}-1.0.{i}.tgz\",\n      \"integrity\": \"sha512-{}\"\n    }},\n",
                keyguard::decode::encode_base64(&sha512)
            )
        })
        .collect();
    repo.stage(
        "package-lock.json",
        format!("{{\n  \"packages\": {{\n{lock}  }}\n}}\n"),
    );
    repo.commit_allowed("text that only looks encoded");
    repo.keyguard(&["--all"]).assert_success();
}

/// An AWS access key ID (or a Twilio account SID) added above the secret
/// it pairs with, which is already committed: the hook, and `--history`,
/// read the committed lines after the change too. A line added after a
/// committed pair touches neither, and passes.
#[test]
fn an_id_added_above_its_committed_secret_is_blocked() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("edited-in-place/pairs");
    let (key_id, secret) = (keys.aws_access_key_id(), aws_secret(&mut keys));
    let (sid, token) = (keys.expand("AC{{hex:32}}"), keys.expand("{{hex:32}}"));
    let credentials = |id_line: &str| {
        format!("[default]\nregion = eu-west-1\n{id_line}aws_secret_access_key = {secret}\n")
    };
    let env = |sid_line: &str| format!("APP_ENV=staging\n{sid_line}TWILIO_AUTH_TOKEN={token}\n");
    repo.seed(&[
        ("deploy/credentials", credentials("").as_bytes()),
        ("deploy/twilio.env", env("").as_bytes()),
    ]);
    repo.stage(
        "deploy/credentials",
        credentials(&format!("aws_access_key_id = {key_id}\n")),
    );
    repo.stage(
        "deploy/twilio.env",
        env(&format!("TWILIO_ACCOUNT_SID={sid}\n")),
    );
    let run = repo.commit_blocked("add the key id");
    run.assert_stderr_contains("deploy/credentials:4:25  aws-secret-access-key-paired")
        .assert_stderr_contains("deploy/twilio.env:3:19  twilio-auth-token-paired")
        .assert_no_leak(&secret)
        .assert_no_leak(&token);

    // Committed anyway: `--history` reads each commit the same way.
    repo.commit_no_verify("the pairs");
    repo.keyguard(&["--history"])
        .assert_code(1)
        .assert_stdout_contains("deploy/credentials:4:25  aws-secret-access-key-paired")
        .assert_stdout_contains("deploy/twilio.env:3:19  twilio-auth-token-paired");

    // Then a line right after each committed pair.
    repo.stage(
        "deploy/credentials",
        credentials(&format!("aws_access_key_id = {key_id}\n")) + "output = json\n",
    );
    repo.stage(
        "deploy/twilio.env",
        env(&format!("TWILIO_ACCOUNT_SID={sid}\n")) + "LOG_LEVEL=info\n",
    );
    repo.commit_allowed("an unrelated line after each pair");
}

/// Terraform: the `default =` added inside a `variable` block whose other
/// lines are committed (description, type, sensitive, as Terraform's docs
/// write them). Changing the description of a committed variable that has
/// a default does not touch its secret.
#[test]
fn a_terraform_default_added_inside_its_committed_variable_is_blocked() {
    let repo = TempRepo::with_hook();
    let value = Keys::for_test("edited-in-place/terraform").expand("{{b62:24}}");
    let variable = |description: &str, default: &str| {
        format!(
            "variable \"db_password\" {{\n  description = \"{description}\"\n  type        = string\n  sensitive   = true\n{default}}}\n"
        )
    };
    repo.seed(&[(
        "infra/variables.tf",
        variable("Database password", "").as_bytes(),
    )]);
    let with_default = format!("  default     = \"{value}\"\n");
    repo.stage(
        "infra/variables.tf",
        variable("Database password", &with_default),
    );
    repo.commit_blocked("a default")
        .assert_stderr_contains("infra/variables.tf:5:18  terraform-variable-secret")
        .assert_no_leak(&value);

    repo.commit_no_verify("the default");
    repo.stage(
        "infra/variables.tf",
        variable("Password of the orders database", &with_default),
    );
    repo.commit_allowed("a better description");
}
