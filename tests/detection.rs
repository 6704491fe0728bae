/*!
What the hook blocks, family by family: one fake key of each common kind,
the placeholders people write instead of keys, and files whose name alone
marks them as secrets.

Every key is generated at run time (`util::Keys`); each case gets its own
repository and checks the rule id, `path:line:col`, the redacted preview,
and that the full key is printed nowhere.
*/

use crate::util::{position_of, Keys, Stream, TempRepo};

/// Commits `content` at `path` through the hook and checks it is blocked by
/// `rule`, reported where `secret` starts.
#[track_caller]
fn assert_commit_blocked(path: &str, content: &str, secret: &str, rule: &str) {
    let repo = TempRepo::with_hook();
    repo.stage(path, content);
    let run = repo.commit_blocked("add");
    let (line, col) = position_of(content, secret);
    run.assert_human_finding(Stream::Stderr, path, line, col, rule, secret);
    run.assert_stderr_contains("The commit was blocked");
    assert!(repo.head_is_unborn());
}

// ---- scenario 2: one key of each kind ----------------------------------------

#[test]
fn openai_project_key_is_blocked() {
    let key = Keys::for_test("openai").openai();
    let content = format!("from openai import OpenAI\n\nclient = OpenAI(api_key=\"{key}\")\n");
    assert_commit_blocked("app/llm.py", &content, &key, "openai-api-key");
}

#[test]
fn anthropic_key_is_blocked() {
    let key = Keys::for_test("anthropic").anthropic();
    let content = format!("import anthropic\nclient = anthropic.Anthropic(api_key=\"{key}\")\n");
    assert_commit_blocked("app/claude.py", &content, &key, "anthropic-api-key");
}

#[test]
fn aws_access_key_id_is_blocked() {
    let key = Keys::for_test("aws").aws_access_key_id();
    let content = format!("[default]\nregion = eu-west-1\naws_access_key_id = {key}\n");
    assert_commit_blocked("deploy/aws.ini", &content, &key, "aws-access-key-id");
}

#[test]
fn stripe_live_key_is_blocked() {
    let key = Keys::for_test("stripe").stripe();
    let content = format!("const Stripe = require('stripe');\nconst stripe = Stripe('{key}');\n");
    assert_commit_blocked("web/pay.js", &content, &key, "stripe-secret-key");
}

#[test]
fn slack_bot_token_is_blocked() {
    let key = Keys::for_test("slack").slack_bot();
    let content = format!("slack:\n  bot_token: {key}\n");
    assert_commit_blocked("config/slack.yml", &content, &key, "slack-token");
}

#[test]
fn private_key_block_is_blocked() {
    let (block, first_body_line) = Keys::for_test("pem").pem_block();
    let content = format!("DEPLOY_KEY = \"\"\"\n{block}\"\"\"\n");
    let repo = TempRepo::with_hook();
    repo.stage("deploy/keys.py", &content);

    let run = repo.commit_blocked("add");
    // The block starts on line 2 (the BEGIN line); its body on line 3.
    // Either is a fair place to point at.
    let at_header = run.stderr.contains("deploy/keys.py:2:");
    let at_body = run.stderr.contains("deploy/keys.py:3:1 ");
    assert!(
        at_header || at_body,
        "finding not at the key block\n{}",
        run.dump()
    );
    run.assert_stderr_contains("private-key");
    for line in block.lines().filter(|l| !l.starts_with("-----")) {
        run.assert_no_leak(line);
    }
    run.assert_no_leak(&first_body_line);
    assert!(repo.head_is_unborn());
}

#[test]
fn generic_api_key_assignment_is_blocked() {
    let value = Keys::for_test("generic").generic_value();
    let content = format!("settings = {{}}\napi_key = \"{value}\"\n");
    assert_commit_blocked(
        "app/settings.py",
        &content,
        &value,
        "generic-secret-assignment",
    );
}

#[test]
fn placeholders_and_environment_lookups_are_allowed() {
    let repo = TempRepo::with_hook();
    let content = "import os\n\
                   api_key = \"your-key-here\"\n\
                   API_KEY = \"${API_KEY}\"\n\
                   api_key = os.environ[\"X\"]\n\
                   token = os.getenv(\"GITHUB_TOKEN\")\n";
    repo.stage("app/settings.py", content);

    let run = repo.commit_allowed("placeholders");
    run.assert_stderr_contains("0 findings");
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn several_keys_in_one_commit_are_all_reported() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("several");
    let (github, stripe, aws) = (keys.github(), keys.stripe(), keys.aws_access_key_id());
    let a = format!("GITHUB = \"{github}\"\n");
    let b = format!("x = 1\nSTRIPE = \"{stripe}\"\nAWS = \"{aws}\"\n");
    repo.write("a.py", &a);
    repo.write("b/b.py", &b);
    repo.add(&["a.py", "b/b.py"]);

    let run = repo.commit_blocked("many");
    run.assert_human_finding(Stream::Stderr, "a.py", 1, 11, "github-token", &github);
    run.assert_human_finding(
        Stream::Stderr,
        "b/b.py",
        2,
        11,
        "stripe-secret-key",
        &stripe,
    );
    run.assert_human_finding(Stream::Stderr, "b/b.py", 3, 8, "aws-access-key-id", &aws);
    run.assert_stderr_contains("3 findings");
}

// ---- scenario 6: secret files by name ------------------------------------------

#[test]
fn secret_files_are_blocked_whatever_they_hold() {
    let cases: &[(&str, &str)] = &[
        (".env", "DEBUG=true\n"),
        (".env.local", "DEBUG=true\n"),
        ("config/secrets.json", "{}\n"),
        ("id_rsa", "not really a key\n"),
        ("server.key", "not really a key\n"),
        ("services/api/.env", "PORT=8080\n"),
    ];
    for (path, content) in cases {
        let repo = TempRepo::with_hook();
        repo.write("README.md", "# project\n");
        repo.write(path, content);
        repo.add(&["README.md", path]);

        let run = repo.commit_blocked("add");
        run.assert_stderr_contains(&format!("{path}:1:1  secret-file"));
        run.assert_output_lacks("README.md:");
        assert!(repo.head_is_unborn(), "{path} was committed");
    }
}

#[test]
fn a_secret_file_committed_with_the_rest_blocks_the_whole_commit() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    repo.write("app.py", "x = 2\n");
    repo.write(".env", "");
    repo.add(&["app.py", ".env"]);

    let run = repo.commit_blocked("add");
    run.assert_stderr_contains(".env:1:1  secret-file");
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn env_example_with_empty_values_is_allowed() {
    let repo = TempRepo::with_hook();
    repo.stage(
        ".env.example",
        "OPENAI_API_KEY=\nDATABASE_URL=\nDEBUG=false\n",
    );

    let run = repo.commit_allowed("template");
    run.assert_output_lacks("secret-file");
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn env_example_holding_a_real_looking_key_is_blocked_by_the_key_rule() {
    let key = Keys::for_test("env_example_key").stripe();
    let content = format!("DEBUG=false\nSTRIPE_SECRET_KEY={key}\n");
    let repo = TempRepo::with_hook();
    repo.stage(".env.example", &content);

    let run = repo.commit_blocked("template");
    run.assert_human_finding(
        Stream::Stderr,
        ".env.example",
        2,
        19,
        "stripe-secret-key",
        &key,
    );
    run.assert_output_lacks("secret-file");
    assert!(repo.head_is_unborn());
}

/// `keyguard PATH` from a subdirectory must still recognise a secrets file
/// whose pattern has a folder in it (`config/secrets.json`).
#[test]
fn secret_file_names_are_recognised_in_path_scans_from_a_subdirectory() {
    let repo = TempRepo::new();
    repo.write("config/secrets.json", "{}\n");
    repo.keyguard(&["config/secrets.json"])
        .assert_code(1)
        .assert_stdout_contains("secret-file");

    let mut cmd = repo.keyguard_command(&["secrets.json"]);
    cmd.current_dir(repo.path("config"));
    let run = crate::util::Run::of(cmd);
    run.assert_code(1);
    run.assert_stdout_contains("secret-file");
}
