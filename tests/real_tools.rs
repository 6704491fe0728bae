/*!
Credentials made by the programs that make them, staged through the real
hook: what `ssh-keygen`, `openssl`, `gpg`, `age-keygen`, `wg`, `puttygen`,
`kubectl`, `git credential-store`, `aws configure`, Django and the JWT and
macaroon libraries write is blocked, and their public halves go through.

Random bodies in the right alphabet are not real keys: a real OpenSSH body
starts with a fixed magic and holds runs of `A`, and the first round's rules
missed every one of them. So these tests never hand-write a key the tool
would have made. Where no tool exists for a file (`.netrc`, `.pgpass`,
Docker's `config.json`, ...) the test builds it from the documented format
and says so.

A program that is missing skips its test with a `SKIPPED` line on stderr;
with `KEYGUARD_REAL_TOOLS=require` (set by `./test.sh`, which installs
them) a missing program fails the test instead.
*/

use std::path::{Path, PathBuf};
use std::process::Command;

use keyguard::decode::encode_base64;

use crate::util::{Keys, Run, TempRepo};

/// The environment variable that turns a missing program into a failure.
const REQUIRE_VAR: &str = "KEYGUARD_REAL_TOOLS";

/// A scratch folder for a tool's output, outside any repository.
struct Workshop {
    dir: tempfile::TempDir,
}

impl Workshop {
    fn new() -> Workshop {
        Workshop {
            dir: tempfile::Builder::new()
                .prefix("keyguard-tools-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_else(|e| panic!("the tool wrote no readable {name}: {e}"))
    }

    /// Runs `program args` in the workshop and returns its stdout; panics
    /// with the tool's own words when it fails.
    #[track_caller]
    fn run(&self, program: &str, args: &[&str]) -> String {
        self.run_with(program, args, &[])
    }

    #[track_caller]
    fn run_with(&self, program: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(self.dir.path());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let run = Run::of(cmd);
        assert_eq!(run.code, 0, "the tool failed\n{}", run.dump());
        run.stdout
    }
}

/// Is `program` here? If not, says so (or fails, when tools are required).
#[track_caller]
fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    missing_unless(found, program)
}

/// Is the Python module importable? (Django, jwt, pymacaroons.)
#[track_caller]
fn have_python_module(module: &str) -> bool {
    let found = have("python3")
        && Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|out| out.status.success());
    missing_unless(found, &format!("python3 module {module}"))
}

#[track_caller]
fn missing_unless(found: bool, what: &str) -> bool {
    if !found {
        let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "require");
        assert!(
            !required,
            "{what} is missing: run ./test.sh, which installs it"
        );
        eprintln!("SKIPPED: {what} is not installed (./test.sh installs it)");
    }
    found
}

/// Stages `content` at `path` and commits through the hook: blocked with
/// exit 1 by `rule`, and no line of the credential printed whole.
#[track_caller]
fn assert_blocked(path: &str, content: &str, rule: &str) {
    let repo = TempRepo::with_hook();
    repo.stage(path, content);
    let run = repo.commit_blocked("add a credential");
    assert!(
        run.stderr.contains(&format!("  {rule}  ")),
        "not reported by `{rule}`\n{}",
        run.dump()
    );
    for line in content.lines().map(str::trim).filter(|l| l.len() >= 24) {
        if !line.starts_with("-----") {
            run.assert_no_leak(line);
        }
    }
    assert!(repo.head_is_unborn(), "the commit went through");
}

/// Stages `content` at `path` and commits through the hook: it goes through.
#[track_caller]
fn assert_allowed(path: &str, content: &str) {
    let repo = TempRepo::with_hook();
    repo.stage(path, content);
    repo.commit_allowed("add a public file");
    assert_eq!(repo.commit_count(), 1);
}

/// The file indented under a YAML block scalar (`key: |`).
fn in_yaml_block(name: &str, text: &str) -> String {
    let mut yaml = format!("deploy:\n  {name}: |\n");
    for line in text.lines() {
        yaml.push_str("    ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    yaml
}

/// The file as one JSON string, newlines written as `\n`.
fn in_json_string(name: &str, text: &str) -> String {
    serde_json::json!({ name: text }).to_string()
}

// ---- ssh-keygen -----------------------------------------------------------

/// `ssh-keygen -t TYPE [-m PEM] -N PASSPHRASE`: the private file and the
/// `.pub` beside it.
fn ssh_keygen(shop: &Workshop, kind: &str, passphrase: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "-q",
        "-t",
        kind,
        "-N",
        passphrase,
        "-C",
        "ci@example.invalid",
        "-f",
        "key",
    ];
    args.extend_from_slice(extra);
    shop.run("ssh-keygen", &args);
    (shop.read("key"), shop.read("key.pub"))
}

#[test]
fn ssh_keygen_openssh_keys_are_blocked_under_any_name() {
    if !have("ssh-keygen") {
        return;
    }
    for (kind, passphrase) in [
        ("ed25519", ""),
        ("rsa", ""),
        ("ecdsa", ""),
        ("ed25519", "correct horse"),
    ] {
        let shop = Workshop::new();
        let (private, public) = ssh_keygen(&shop, kind, passphrase, &[]);
        assert!(
            private.contains("OPENSSH PRIVATE KEY"),
            "ssh-keygen's default format"
        );
        assert_blocked("deploy/deploy_key", &private, "private-key");
        assert_blocked("keys/ci", &private, "private-key");
        assert_allowed("keys/ci.pub", &public);
    }
}

#[test]
fn ssh_keygen_pem_keys_are_blocked() {
    if !have("ssh-keygen") {
        return;
    }
    for kind in ["rsa", "ecdsa", "ed25519"] {
        let shop = Workshop::new();
        let (private, _) = ssh_keygen(&shop, kind, "", &["-m", "PEM"]);
        assert_blocked("keys/ci", &private, "private-key");
    }
}

#[test]
fn ssh_keys_in_yaml_and_json_strings_are_blocked() {
    if !have("ssh-keygen") {
        return;
    }
    let shop = Workshop::new();
    let (private, _) = ssh_keygen(&shop, "ed25519", "", &[]);
    assert_blocked(
        "deploy/values.yaml",
        &in_yaml_block("ssh_key", &private),
        "private-key",
    );
    assert_blocked(
        "deploy/key.json",
        &in_json_string("ssh_key", &private),
        "private-key",
    );
}

#[test]
fn ssh_public_material_goes_through() {
    if !have("ssh-keygen") {
        return;
    }
    let shop = Workshop::new();
    let (_, public) = ssh_keygen(&shop, "ed25519", "", &[]);
    let (_, rsa_public) = ssh_keygen(&Workshop::new(), "rsa", "", &[]);
    assert_allowed(".ssh/authorized_keys", &format!("{public}{rsa_public}"));
    // known_hosts, plain and as `ssh-keygen -H` hashes it.
    let key = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let known = format!("git.example.invalid {key}\n10.0.0.7 {key}\n");
    assert_allowed(".ssh/known_hosts", &known);
    std::fs::write(shop.path("known_hosts"), &known).unwrap();
    shop.run("ssh-keygen", &["-q", "-H", "-f", "known_hosts"]);
    assert_allowed("ops/known_hosts", &shop.read("known_hosts"));
}

// ---- openssl --------------------------------------------------------------

#[test]
fn openssl_private_keys_are_blocked() {
    if !have("openssl") {
        return;
    }
    let shop = Workshop::new();
    let made: &[(&str, &[&str])] = &[
        (
            "rsa.pem",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "rsa.pem",
            ],
        ),
        (
            "ec.pem",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ec.pem",
            ],
        ),
        (
            "ed.pem",
            &["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"],
        ),
        (
            "trad.pem",
            &["genrsa", "-traditional", "-out", "trad.pem", "2048"],
        ),
        // EC PARAMETERS come first, then the EC PRIVATE KEY block.
        (
            "ecparam.pem",
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-out",
                "ecparam.pem",
            ],
        ),
        (
            "enc.pem",
            &[
                "pkcs8",
                "-topk8",
                "-in",
                "rsa.pem",
                "-passout",
                "pass:not-a-real-passphrase",
                "-out",
                "enc.pem",
            ],
        ),
    ];
    for (file, args) in made {
        shop.run("openssl", args);
        let text = shop.read(file);
        assert!(
            text.contains("PRIVATE KEY-----"),
            "{file} holds a private key block"
        );
        assert_blocked(&format!("certs/{file}"), &text, "private-key");
    }
    assert!(shop
        .read("ecparam.pem")
        .starts_with("-----BEGIN EC PARAMETERS-----"));
}

#[test]
fn openssl_pkcs12_bundles_are_blocked_by_name() {
    if !have("openssl") {
        return;
    }
    let shop = Workshop::new();
    shop.run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-subj",
            "/CN=keyguard test",
            "-days",
            "2",
        ],
    );
    shop.run(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:bundle-pass",
            "-out",
            "b.p12",
        ],
    );
    let bundle = std::fs::read(shop.path("b.p12")).unwrap();
    for name in ["certs/client.p12", "certs/client.pfx"] {
        let repo = TempRepo::with_hook();
        std::fs::create_dir_all(repo.path("certs")).unwrap();
        std::fs::write(repo.path(name), &bundle).unwrap();
        repo.add(&[name]);
        repo.commit_blocked("add a bundle")
            .assert_stderr_contains("secret-file");
        assert!(repo.head_is_unborn());
    }
}

#[test]
fn openssl_public_material_goes_through() {
    if !have("openssl") {
        return;
    }
    let shop = Workshop::new();
    shop.run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=keyguard test",
            "-days",
            "2",
        ],
    );
    shop.run(
        "openssl",
        &[
            "req",
            "-new",
            "-key",
            "k.pem",
            "-out",
            "req.csr",
            "-subj",
            "/CN=keyguard test",
        ],
    );
    shop.run(
        "openssl",
        &["pkey", "-in", "k.pem", "-pubout", "-out", "pub.pem"],
    );
    shop.run(
        "openssl",
        &["dhparam", "-dsaparam", "-out", "dh.pem", "1024"],
    );
    for file in ["cert.pem", "req.csr", "pub.pem", "dh.pem"] {
        assert_allowed(&format!("certs/{file}"), &shop.read(file));
    }
}

// ---- gpg, age, WireGuard, PuTTY --------------------------------------------

#[test]
fn gpg_secret_key_export_is_blocked_and_public_export_goes_through() {
    if !have("gpg") {
        return;
    }
    let shop = Workshop::new();
    let home = shop.path("gnupg");
    std::fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let home = home.to_str().unwrap();
    let gpg = |args: &[&str]| {
        let mut all = vec![
            "--homedir",
            home,
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ];
        all.extend_from_slice(args);
        shop.run("gpg", &all)
    };
    gpg(&[
        "--quick-generate-key",
        "Keyguard Test <kg@example.invalid>",
        "ed25519",
        "sign",
        "never",
    ]);
    let secret = gpg(&["--armor", "--export-secret-keys"]);
    let public = gpg(&["--armor", "--export"]);
    assert!(secret.contains("PGP PRIVATE KEY BLOCK"));
    assert_blocked("keys/signing.asc", &secret, "private-key");
    assert_allowed("keys/signing.pub.asc", &public);
}

#[test]
fn age_identity_is_blocked_and_recipient_goes_through() {
    if !have("age-keygen") {
        return;
    }
    let shop = Workshop::new();
    shop.run("age-keygen", &["-o", "identity.txt"]);
    let identity = shop.read("identity.txt");
    assert_blocked("secrets/identity.txt", &identity, "age-secret-key");
    let recipient = shop.run("age-keygen", &["-y", "identity.txt"]);
    assert_allowed(
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {recipient}"),
    );
}

#[test]
fn wireguard_private_and_preshared_keys_are_blocked() {
    if !have("wg") {
        return;
    }
    let shop = Workshop::new();
    let private = shop.run("wg", &["genkey"]);
    let psk = shop.run("wg", &["genpsk"]);
    let public = wg_pubkey(private.trim());
    let interface = format!(
        "[Interface]\nAddress = 10.8.0.2/24\nPrivateKey = {}\n\n[Peer]\nPublicKey = {}\nEndpoint = vpn.example.invalid:51820\n",
        private.trim(),
        public
    );
    assert_blocked("vpn/wg0.conf", &interface, "wireguard-private-key");
    let preshared = format!(
        "[Peer]\nPublicKey = {}\nPresharedKey = {}\nAllowedIPs = 10.8.0.0/24\n",
        public,
        psk.trim()
    );
    assert_blocked("vpn/peer.conf", &preshared, "wireguard-preshared-key");
    let peers: String = (0..3)
        .map(|_| {
            let key = Command::new("wg").arg("genkey").output().unwrap().stdout;
            let public = wg_pubkey(String::from_utf8(key).unwrap().trim());
            format!("[Peer]\nPublicKey = {public}\nAllowedIPs = 10.8.0.0/24\n\n")
        })
        .collect();
    assert_allowed("vpn/peers.conf", &peers);
}

/// `wg pubkey`, which reads the private key on stdin.
fn wg_pubkey(private: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("wg")
        .arg("pubkey")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("wg pubkey");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{private}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn puttygen_keys_are_blocked_under_any_name() {
    if !have("puttygen") {
        return;
    }
    for (kind, bits) in [
        ("ed25519", None),
        ("rsa", Some("2048")),
        ("rsa", Some("4096")),
        ("ecdsa", Some("256")),
    ] {
        let shop = Workshop::new();
        let mut args = vec![
            "-q",
            "-t",
            kind,
            "-o",
            "key.ppk",
            "--new-passphrase",
            "/dev/null",
        ];
        if let Some(bits) = bits {
            args.extend_from_slice(&["-b", bits]);
        }
        shop.run("puttygen", &args);
        let ppk = shop.read("key.ppk");
        assert_blocked("ops/key.ppk", &ppk, "putty-private-key");
        assert_blocked("ops/jumphost", &ppk, "putty-private-key");
    }
}

// ---- application frameworks and tokens ------------------------------------

#[test]
fn django_startproject_secret_key_is_blocked() {
    if !have_python_module("django") {
        return;
    }
    let shop = Workshop::new();
    shop.run("python3", &["-m", "django", "startproject", "mysite"]);
    let settings = shop.read("mysite/mysite/settings.py");
    assert!(settings.contains("SECRET_KEY = "));
    assert_blocked("mysite/settings.py", &settings, "django-secret-key");
}

#[test]
fn jwt_signed_by_pyjwt_is_blocked() {
    if !have_python_module("jwt") {
        return;
    }
    let shop = Workshop::new();
    let token = shop.run(
        "python3",
        &["-c", "import jwt, secrets, time; print(jwt.encode({'sub': 'svc-deploy', 'iat': int(time.time()), 'scope': 'repo:write'}, secrets.token_bytes(32), algorithm='HS256'))"],
    );
    let token = token.trim();
    assert_blocked(
        "tests/fixtures/session.txt",
        &format!("SESSION_TOKEN={token}\n"),
        "jwt",
    );
}

#[test]
fn pypirc_with_a_macaroon_token_is_blocked() {
    if !have_python_module("pymacaroons") {
        return;
    }
    // PyPI's upload tokens are `pypi-` and a version-2 macaroon serialised
    // by pymacaroons, located at pypi.org (PyPI's own token code).
    let shop = Workshop::new();
    let token = shop.run(
        "python3",
        &["-c", "import secrets, json, pymacaroons; m = pymacaroons.Macaroon(location='pypi.org', identifier=json.dumps({'version': 1, 'permissions': 'user'}), key=secrets.token_bytes(32), version=pymacaroons.MACAROON_V2); m.add_first_party_caveat(json.dumps({'version': 1, 'permissions': {'projects': ['demo']}})); print('pypi-' + m.serialize())"],
    );
    let pypirc = format!(
        "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {}\n",
        token.trim()
    );
    assert_blocked(".pypirc", &pypirc, "pypi-upload-token");
}

// ---- kubectl --------------------------------------------------------------

#[test]
fn kubectl_generic_secret_manifest_is_blocked() {
    if !have("kubectl") {
        return;
    }
    let shop = Workshop::new();
    let password = Keys::for_test("kubectl-secret").expand("{{b62:24}}");
    let literal = format!("--from-literal=db-password={password}");
    let manifest = shop.run(
        "kubectl",
        &[
            "create",
            "secret",
            "generic",
            "app-db",
            &literal,
            "--dry-run=client",
            "-o",
            "yaml",
        ],
    );
    assert!(manifest.contains("kind: Secret"));
    assert_blocked("deploy/db-secret.yaml", &manifest, "kubernetes-secret-data");
    let run = {
        let repo = TempRepo::new();
        repo.write("s.yaml", &manifest);
        repo.keyguard(&["s.yaml"])
    };
    run.assert_no_leak(&password);
}

#[test]
fn kubeconfig_with_an_embedded_client_key_is_blocked() {
    if !(have("kubectl") && have("openssl")) {
        return;
    }
    let shop = Workshop::new();
    shop.run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "client.key",
            "-out",
            "client.crt",
            "-subj",
            "/CN=deployer",
            "-days",
            "2",
        ],
    );
    let kubeconfig = shop.path("kubeconfig");
    let kubectl = |args: &[&str]| shop.run_with("kubectl", args, &[("KUBECONFIG", &kubeconfig)]);
    kubectl(&[
        "config",
        "set-cluster",
        "prod",
        "--server=https://k8s.example.invalid:6443",
    ]);
    kubectl(&[
        "config",
        "set-credentials",
        "deployer",
        "--client-key=client.key",
        "--client-certificate=client.crt",
        "--embed-certs=true",
    ]);
    kubectl(&[
        "config",
        "set-context",
        "prod",
        "--cluster=prod",
        "--user=deployer",
    ]);
    let text = shop.read("kubeconfig");
    assert!(text.contains("client-key-data: "));
    assert_blocked("ops/kubeconfig.yaml", &text, "kubeconfig-client-key");
}

// ---- credential stores ----------------------------------------------------

#[test]
fn git_credential_store_file_is_blocked() {
    let shop = Workshop::new();
    let store = shop.path("git-credentials");
    let password = Keys::for_test("git-credential-store").expand("{{b62:20}}");
    let helper = format!("credential.helper=store --file={}", store.display());
    let mut cmd = Command::new("git");
    cmd.args(["-c", &helper, "credential", "approve"])
        .current_dir(shop.dir.path())
        .stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("git credential approve");
    {
        use std::io::Write;
        let request = format!(
            "protocol=https\nhost=git.example.invalid\nusername=deploy\npassword={password}\n\n"
        );
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.as_bytes())
            .unwrap();
    }
    assert!(child.wait().unwrap().success());
    let text = shop.read("git-credentials");
    assert!(text.contains("@git.example.invalid"), "git's store format");
    // Under its own name it is a secrets file; elsewhere, its line is found.
    let repo = TempRepo::with_hook();
    repo.stage(".git-credentials", &text);
    repo.commit_blocked("add").assert_no_leak(&password);
    assert_blocked("ops/credentials.txt", &text, "url-embedded-password");
}

#[test]
fn aws_configure_credentials_file_is_blocked() {
    if !have("aws") {
        return;
    }
    let shop = Workshop::new();
    let mut keys = Keys::for_test("aws-configure");
    let key_id = keys.aws_access_key_id();
    let secret = keys
        .expand("{{b64:40}}")
        .replace('+', "k")
        .replace('/', "Q");
    let file = shop.path("credentials");
    let config = shop.path("config");
    let env: &[(&str, &Path)] = &[
        ("AWS_SHARED_CREDENTIALS_FILE", &file),
        ("AWS_CONFIG_FILE", &config),
    ];
    shop.run_with(
        "aws",
        &["configure", "set", "aws_access_key_id", &key_id],
        env,
    );
    shop.run_with(
        "aws",
        &["configure", "set", "aws_secret_access_key", &secret],
        env,
    );
    let text = shop.read("credentials");
    assert!(text.contains("[default]"));
    assert_blocked("ops/aws/credentials", &text, "aws-secret-access-key");
}

// ---- built by hand from the documented formats -----------------------------
// No tool writes these offline; each follows its format's documentation.

/// Docker's `config.json` as `docker login` writes it: `auths.<registry>.auth`
/// is base64 of `user:password`.
#[test]
fn docker_config_auth_is_blocked_hand_built() {
    let password = Keys::for_test("docker-auth").expand("{{b62:22}}");
    let auth = encode_base64(format!("deploy:{password}").as_bytes());
    let config = format!(
        "{{\n\t\"auths\": {{\n\t\t\"registry.example.invalid\": {{\n\t\t\t\"auth\": \"{auth}\"\n\t\t}}\n\t}}\n}}\n"
    );
    assert_blocked(".docker/config.json", &config, "docker-config-auth");
    // A credential helper instead of a stored password goes through.
    assert_allowed(
        "ci/docker/config.json",
        "{\n\t\"auths\": {\n\t\t\"registry.example.invalid\": {}\n\t},\n\t\"credsStore\": \"desktop\"\n}\n",
    );
}

/// `.npmrc`: `_authToken` (npm's token) and `_auth` (base64 of
/// `user:password`), per npm's configuration docs.
#[test]
fn npmrc_auth_lines_are_blocked_hand_built() {
    let mut keys = Keys::for_test("npmrc");
    let token = keys.expand("{{b64url:36}}");
    assert_blocked(
        ".npmrc",
        &format!("//registry.npmjs.org/:_authToken={token}\n"),
        "npm-auth-token-config",
    );
    let password = keys.expand("{{b62:20}}");
    let auth = encode_base64(format!("ci:{password}").as_bytes());
    assert_blocked(
        ".npmrc",
        &format!("registry=https://npm.example.invalid/\n//npm.example.invalid/:_auth={auth}\n"),
        "npmrc-basic-auth",
    );
    assert_allowed(".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n");
}

/// `.netrc` (`machine … login … password …`) and `.pgpass`
/// (`host:port:database:user:password`).
#[test]
fn netrc_and_pgpass_lines_are_blocked_hand_built() {
    let mut keys = Keys::for_test("netrc-pgpass");
    let password = keys.expand("{{b62:18}}");
    assert_blocked(
        ".netrc",
        &format!("machine api.example.invalid\n  login deploy\n  password {password}\n"),
        "netrc-password",
    );
    assert_blocked(
        "ci/netrc-one-line",
        &format!("machine api.example.invalid login deploy password {password}\n"),
        "netrc-password",
    );
    let password = keys.expand("{{b62:18}}");
    assert_blocked(
        "ops/pgpass",
        &format!("db.example.invalid:5432:app:app_user:{password}\n"),
        "pgpass-password",
    );
    assert_allowed(
        "ops/pgpass.example",
        "hostname:port:database:username:password\n",
    );
}

/// A GCP service-account key file holds an RSA key (made here by openssl)
/// as a JSON string with `\n` escapes.
#[test]
fn gcp_service_account_json_is_blocked_hand_built() {
    if !have("openssl") {
        return;
    }
    let shop = Workshop::new();
    shop.run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "sa.pem",
        ],
    );
    let key = shop.read("sa.pem");
    let mut ids = Keys::for_test("gcp-sa");
    let account = serde_json::json!({
        "type": "service_account",
        "project_id": "keyguard-test",
        "private_key_id": ids.expand("{{hex:40}}"),
        "private_key": key,
        "client_email": "deployer@keyguard-test.iam.gserviceaccount.com",
        "client_id": ids.expand("{{digits:21}}"),
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    let text = serde_json::to_string_pretty(&account).unwrap();
    assert_blocked("ops/service-account.json", &text, "private-key");
}

/// `terraform.tfstate` stores resource attributes in plain JSON, passwords
/// included.
#[test]
fn terraform_state_password_is_blocked_hand_built() {
    let password = Keys::for_test("tfstate").expand("{{b62:24}}");
    let state = serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.0",
        "resources": [{
            "mode": "managed",
            "type": "aws_db_instance",
            "name": "main",
            "instances": [{"attributes": {"username": "app", "password": password, "port": 5432}}]
        }]
    });
    let text = serde_json::to_string_pretty(&state).unwrap();
    let repo = TempRepo::with_hook();
    repo.stage("infra/terraform.tfstate", &text);
    repo.commit_blocked("add").assert_no_leak(&password);
    assert!(repo.head_is_unborn());
}

/// Rails' `config/master.key`: 32 hex characters, the whole file.
#[test]
fn rails_master_key_is_blocked_hand_built() {
    let key = Keys::for_test("rails").expand("{{hex:32}}");
    let repo = TempRepo::with_hook();
    repo.stage("config/master.key", &key);
    repo.commit_blocked("add")
        .assert_stderr_contains("secret-file")
        .assert_no_leak(&key);
    assert!(repo.head_is_unborn());
}
