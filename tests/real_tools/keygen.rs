//! Keys made by ssh-keygen, openssl, gpg, age-keygen, wg and puttygen are
//! blocked, and their public halves go through.

use super::*;
use crate::util::TempRepo;

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
    shop.self_signed(&["rsa:2048"], "k.pem", "c.pem", "/CN=keyguard test");
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
    shop.self_signed(&["rsa:2048"], "k.pem", "cert.pem", "/CN=keyguard test");
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
    // Public material under a private label, as tests paste "fake keys for
    // the regex": an RSAPublicKey, a SubjectPublicKeyInfo, a certificate.
    shop.run(
        "openssl",
        &[
            "rsa",
            "-in",
            "k.pem",
            "-RSAPublicKey_out",
            "-out",
            "rsapub.pem",
        ],
    );
    let relabel = |file: &str, label: &str| {
        let text = shop.read(file);
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(|l| format!("{l}\n"))
            .collect();
        let (begin, end) = (
            ["-----BEGIN ", label, "-----"],
            ["-----END ", label, "-----"],
        );
        format!("{}\n{body}{}\n", begin.concat(), end.concat())
    };
    for (file, label) in [
        ("rsapub.pem", "RSA PRIVATE KEY"),
        ("pub.pem", "PRIVATE KEY"),
        ("cert.pem", "PRIVATE KEY"),
    ] {
        assert_allowed(&format!("tests/fake_{file}"), &relabel(file, label));
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

// ---- edited in place -------------------------------------------------------

/// Rotating a key in place: the `BEGIN`/`END` lines are committed, and the
/// commit changes only the body between them. The added lines hold no
/// `BEGIN` marker; the hook reads the committed lines before them.
#[test]
fn a_private_key_rotated_in_place_is_blocked() {
    if !have("openssl") {
        return;
    }
    let shop = Workshop::new();
    shop.run(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "old.pem"],
    );
    shop.run(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "new.pem"],
    );
    let (old, new) = (shop.read("old.pem"), shop.read("new.pem"));
    let body = |pem: &str| pem.lines().nth(1).expect("a body line").to_string();
    assert_ne!(body(&old), body(&new), "two keys");

    let repo = TempRepo::with_hook();
    // Committed before the hook (as `--no-verify` or an older tool would).
    let template = format!("# deploy key\n{old}");
    repo.seed(&[("deploy/key.pem.txt", template.as_bytes())]);
    let rotated = template.replace(&body(&old), &body(&new));
    repo.stage("deploy/key.pem.txt", &rotated);
    let run = repo.commit_blocked("rotate the deploy key");
    run.assert_no_leak(&body(&new));
    run.assert_stderr_contains("deploy/key.pem.txt:3:1  private-key");
}

/// A key made by `openssl genpkey` and one by `ssh-keygen`, each with its
/// `BEGIN`/`END` lines and the body between them, for the in-place tests.
fn in_place_keys(shop: &Workshop) -> Vec<(&'static str, String)> {
    let mut keys = Vec::new();
    if have("openssl") {
        shop.run(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "rsa.pem",
            ],
        );
        keys.push(("deploy/rsa.pem.txt", shop.read("rsa.pem")));
    }
    if have("ssh-keygen") {
        keys.push((
            "deploy/ci_ed25519.txt",
            ssh_keygen(shop, "ed25519", "", &[]).0,
        ));
    }
    keys
}

/// A key body pasted into a committed template: the `BEGIN` and `END`
/// lines are committed, the body between them is all the commit adds.
#[test]
fn a_key_body_pasted_into_a_committed_template_is_blocked() {
    let shop = Workshop::new();
    for (path, key) in in_place_keys(&shop) {
        let lines: Vec<&str> = key.lines().collect();
        let (begin, end) = (lines[0], lines[lines.len() - 1]);
        let body = lines[1..lines.len() - 1].join("\n");
        let template = |body: &str| {
            format!("# Paste the deploy key between the markers.\n{begin}\n{body}{end}\n")
        };
        let repo = TempRepo::with_hook();
        repo.seed(&[(path, template("").as_bytes())]);
        repo.stage(path, template(&format!("{body}\n")));
        let run = repo.commit_blocked("paste the key");
        run.assert_stderr_contains(&format!("{path}:3:1  private-key"))
            .assert_no_leak(lines[1]);
    }
}

/// A key already committed (before the hook, as `--no-verify` or an older
/// tool would) is not reported when the change only adds lines right
/// before its `BEGIN` line and right after its `END` line.
#[test]
fn a_committed_key_untouched_by_the_change_is_not_reported() {
    let shop = Workshop::new();
    for (path, key) in in_place_keys(&shop) {
        let repo = TempRepo::with_hook();
        repo.seed(&[(path, format!("# deploy key\n{key}").as_bytes())]);
        repo.stage(
            path,
            format!("# deploy key\n# rotated yearly\n{key}# owner: ops\n"),
        );
        repo.commit_allowed("notes around the committed key");
    }
}

/// A PEM key base64-encoded into Go test code, as real operators do: the
/// encoded text holds no `BEGIN` marker; decoded, it does.
#[test]
fn a_base64_encoded_openssl_key_is_blocked() {
    if !have("openssl") {
        return;
    }
    let shop = Workshop::new();
    shop.run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "k.pem",
        ],
    );
    let encoded = keyguard::decode::encode_base64(shop.read("k.pem").as_bytes());
    let code = format!("package tls\n\nconst testKey = \"{encoded}\"\n");
    let repo = TempRepo::with_hook();
    repo.stage("pkg/tls/key_test.go", &code);
    let run = repo.commit_blocked("test key");
    run.assert_no_leak(&encoded);
    run.assert_stderr_contains(
        "pkg/tls/key_test.go:3:18  private-key  base64 of Private key block",
    );
}
