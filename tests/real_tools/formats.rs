//! What application frameworks, kubectl and credential stores write is
//! blocked, and so are the documented files no tool writes offline (built
//! here by hand from their formats).

use std::path::Path;

use keyguard::decode::encode_base64;

use super::*;
use crate::util::{Keys, TempRepo};

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
    shop.self_signed(
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "client.key",
        "client.crt",
        "/CN=deployer",
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
            "protocol=https\nhost=git.acme-corp.dev\nusername=deploy\npassword={password}\n\n"
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
    assert!(text.contains("@git.acme-corp.dev"), "git's store format");
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
