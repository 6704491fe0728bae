/*!
`.keyguard.toml` at the repository root: turning rules off, allowing paths
and values, adding rules and secret-file names, and what happens when the
file is wrong (the commit is blocked, `keyguard` exits 2, and the message
names the file and what is wrong in it).
*/

use crate::util::{position_of, Keys, Stream, TempRepo};

/// A repository with the hook and `config` as `.keyguard.toml` (on disk,
/// not staged: the config is read from the working tree).
fn repo_with_config(config: &str) -> TempRepo {
    let repo = TempRepo::with_hook();
    repo.write(".keyguard.toml", config);
    repo
}

#[test]
fn disabled_rules_are_not_reported() {
    let repo = repo_with_config("disabled_rules = [\"github-token\"]\n");
    let mut keys = Keys::for_test("disabled_rules");
    let token = keys.github();
    repo.write("gh.py", format!("GH = \"{token}\"\n"));
    repo.add(&["gh.py", ".keyguard.toml"]);
    let run = repo.commit_allowed("github allowed");
    run.assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 1);

    // The other rules still apply.
    let stripe = keys.stripe();
    repo.stage("pay.py", format!("STRIPE = \"{stripe}\"\n"));
    let run = repo.commit_blocked("stripe");
    run.assert_human_finding(
        Stream::Stderr,
        "pay.py",
        1,
        11,
        "stripe-secret-key",
        &stripe,
    );
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn allowed_paths_are_not_scanned() {
    let repo = repo_with_config("[allow]\npaths = [\"fixtures/**\"]\n");
    let mut keys = Keys::for_test("allow_paths");
    let (in_fixture, in_src) = (keys.github(), keys.github());
    repo.write("fixtures/tokens.py", format!("GH = \"{in_fixture}\"\n"));
    repo.write("src/app.py", format!("GH = \"{in_src}\"\n"));
    repo.add(&["fixtures/tokens.py", "src/app.py"]);

    let run = repo.commit_blocked("both");
    run.assert_human_finding(Stream::Stderr, "src/app.py", 1, 7, "github-token", &in_src);
    run.assert_output_lacks("fixtures/");
    run.assert_no_leak(&in_fixture);

    repo.git(&["rm", "-q", "--cached", "src/app.py"]);
    let run = repo.commit_allowed("fixture only");
    run.assert_no_leak(&in_fixture);
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn allowed_values_are_not_reported() {
    let repo = repo_with_config("[allow]\nvalues = ['^sk_live_TESTONLY']\n");
    let mut keys = Keys::for_test("allow_values");
    let allowed = format!("sk_live_TESTONLY{}", keys.expand("{{b62:24}}"));
    let other = keys.stripe();
    repo.stage("pay.py", format!("TEST = \"{allowed}\"\n"));
    let run = repo.commit_allowed("test key");
    run.assert_no_leak(&allowed);
    assert_eq!(repo.commit_count(), 1);

    repo.stage(
        "pay.py",
        format!("TEST = \"{allowed}\"\nLIVE = \"{other}\"\n"),
    );
    let run = repo.commit_blocked("live key");
    run.assert_human_finding(Stream::Stderr, "pay.py", 2, 9, "stripe-secret-key", &other);
    assert_eq!(repo.commit_count(), 1);
}

const ACME_RULE: &str = r#"
[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
regex = '\b(?P<secret>acme_[A-Za-z0-9]{32})\b'
keywords = ["acme_"]
entropy = 3.0
env_var = "ACME_TOKEN"
"#;

#[test]
fn a_custom_rule_blocks_like_a_built_in_one() {
    let repo = repo_with_config(ACME_RULE);
    let token = Keys::for_test("custom_rule").expand("acme_{{b62:32}}");
    let content = format!("import os\nACME = \"{token}\"\n");
    repo.stage("client.py", &content);

    let run = repo.commit_blocked("acme");
    let (line, col) = position_of(&content, &token);
    run.assert_human_finding(
        Stream::Stderr,
        "client.py",
        line,
        col,
        "acme-internal-token",
        &token,
    );
    run.assert_stderr_contains("ACME internal API token");
    run.assert_stderr_contains("os.environ[\"ACME_TOKEN\"]");
    assert!(repo.head_is_unborn());

    // `keyguard rules` lists it; JSON reports it; an inline marker allows it.
    repo.keyguard(&["rules"])
        .assert_success()
        .assert_stdout_contains("acme-internal-token");
    let json = repo.keyguard(&["--format", "json"]).assert_code(1).json();
    assert_eq!(json["findings"][0]["rule_id"], "acme-internal-token");
    repo.stage(
        "client.py",
        format!("import os\nACME = \"{token}\"  # keyguard:allow\n"),
    );
    repo.commit_allowed("allowed");
}

#[test]
fn a_custom_rule_can_be_disabled_too() {
    let repo = repo_with_config(&format!(
        "disabled_rules = [\"acme-internal-token\"]\n{ACME_RULE}"
    ));
    let token = Keys::for_test("custom_rule_disabled").expand("acme_{{b62:32}}");
    repo.stage("client.py", format!("ACME = \"{token}\"\n"));
    repo.commit_allowed("acme").assert_no_leak(&token);
}

#[test]
fn secret_files_extra_and_allow() {
    let config =
        "[secret_files]\nextra = [\"deploy/*.secrets.yml\"]\nallow = [\"fixtures/.env.test\"]\n";

    let repo = repo_with_config(config);
    repo.stage("deploy/prod.secrets.yml", "db: {}\n");
    let run = repo.commit_blocked("extra");
    run.assert_stderr_contains("deploy/prod.secrets.yml:1:1  secret-file");
    assert!(repo.head_is_unborn());

    let repo = repo_with_config(config);
    repo.stage("fixtures/.env.test", "DEBUG=1\n");
    repo.commit_allowed("allowed");
    assert_eq!(repo.commit_count(), 1);

    // The built-in names still apply next to `extra`.
    let repo = repo_with_config(config);
    repo.stage(".env", "DEBUG=1\n");
    repo.commit_blocked("builtin")
        .assert_stderr_contains(".env:1:1  secret-file");
}

// ---- invalid configuration ---------------------------------------------------

/// A repository whose config is broken, with a clean file staged: the
/// commit must still be blocked, and `keyguard` must exit 2. Returns the
/// two runs (commit, keyguard) for message checks.
fn broken_config_runs(config: &str) -> (TempRepo, crate::util::Run, crate::util::Run) {
    let repo = repo_with_config(config);
    repo.stage("app.py", "x = 1\n");
    let commit = repo.commit_blocked("clean");
    assert!(
        repo.head_is_unborn(),
        "a commit went through with a broken config"
    );
    let scan = repo.keyguard(&[]);
    scan.assert_code(2);
    (repo, commit, scan)
}

#[test]
fn unknown_config_key_is_an_error_naming_file_line_and_key() {
    let (repo, commit, scan) =
        broken_config_runs("# keyguard\n\ndisabled_rule = [\"github-token\"]\n");
    let file = repo.path(".keyguard.toml").display().to_string();
    for run in [&commit, &scan] {
        run.assert_stderr_contains(".keyguard.toml:3:1: unknown field `disabled_rule`");
    }
    scan.assert_stderr_contains(&format!("{file}:3:1"));
}

#[test]
fn unknown_key_in_a_table_is_an_error() {
    let (_repo, commit, scan) = broken_config_runs("[allow]\npath = [\"fixtures/**\"]\n");
    for run in [&commit, &scan] {
        run.assert_stderr_contains(".keyguard.toml:2:1: unknown field `path`");
    }
}

#[test]
fn malformed_toml_is_an_error_naming_file_and_line() {
    let (_repo, commit, scan) =
        broken_config_runs("disabled_rules = []\n[allow]\npaths = \"unterminated\n");
    for run in [&commit, &scan] {
        run.assert_stderr_contains(".keyguard.toml:3:");
        run.assert_stderr_contains("(the line, redacted: `paths = ");
    }
}

#[test]
fn bad_rule_regex_is_an_error_naming_file_and_rule() {
    let config = "[[rules]]\nid = \"broken-rule\"\ndescription = \"d\"\nregex = '(unclosed'\nkeywords = [\"x\"]\n";
    let (_repo, commit, scan) = broken_config_runs(config);
    for run in [&commit, &scan] {
        run.assert_stderr_contains(".keyguard.toml");
        run.assert_stderr_contains("broken-rule");
    }
}

#[test]
fn bad_allow_value_regex_is_an_error() {
    let (_repo, commit, scan) = broken_config_runs("[allow]\nvalues = ['[unclosed']\n");
    for run in [&commit, &scan] {
        // The file, the line and the parser's reason; not the pattern (no
        // value from a configuration file is printed).
        run.assert_stderr_contains(".keyguard.toml:2:");
        run.assert_stderr_contains("allow.values: invalid regex: unclosed character class");
    }
}

#[test]
fn missing_explicit_config_file_is_an_error() {
    let repo = TempRepo::new();
    repo.keyguard(&["--config", "nope.toml"])
        .assert_code(2)
        .assert_stderr_contains("nope.toml");
}

// ---- where allow-list paths apply --------------------------------------------

#[test]
fn a_file_moved_out_of_an_allowed_path_is_scanned_in_full() {
    let repo = repo_with_config("[allow]\npaths = [\"fixtures/**\"]\n");
    let token = Keys::for_test("moved_out_of_allowed").github();
    repo.seed(&[(
        "fixtures/tokens.py",
        format!("x = 1\nGH = \"{token}\"\n").as_bytes(),
    )]);
    // A pure rename adds no lines, but the key is now outside the allowed path.
    repo.git(&["mv", "fixtures/tokens.py", "tokens.py"]);

    let run = repo.commit_blocked("move");
    run.assert_human_finding(Stream::Stderr, "tokens.py", 2, 7, "github-token", &token);
    assert_eq!(repo.commit_count(), 1);
}

/// config.example.toml: "globs relative to the repository root. A glob
/// without `/` matches at any depth; a leading `/` anchors it at the root."
/// So `fixtures/**` is the root's fixtures folder, not every folder of that
/// name: an allow list must not be wider than it reads.
#[test]
fn an_allowed_path_with_a_slash_is_relative_to_the_root() {
    let repo = repo_with_config("[allow]\npaths = [\"fixtures/**\"]\n");
    let mut keys = Keys::for_test("allow_path_depth");
    let (top, nested) = (keys.github(), keys.github());
    repo.write("fixtures/a.py", format!("GH = \"{top}\"\n"));
    repo.write("app/fixtures/b.py", format!("GH = \"{nested}\"\n"));
    repo.add(&["fixtures/a.py", "app/fixtures/b.py"]);

    let run = repo.commit_blocked("fixtures");
    run.assert_human_finding(
        Stream::Stderr,
        "app/fixtures/b.py",
        1,
        7,
        "github-token",
        &nested,
    );
    run.assert_output_lacks("fixtures/a.py:");
    run.assert_no_leak(&top);
}

/// `keyguard PATH` run from a subdirectory: the allow list is written
/// relative to the repository root, so it must be applied to
/// root-relative paths, wherever the command is run from.
#[test]
fn allowed_paths_apply_to_path_scans_run_from_a_subdirectory() {
    let repo = repo_with_config("[allow]\npaths = [\"fixtures/**\"]\n");
    let token = Keys::for_test("allow_paths_subdir").github();
    repo.write("fixtures/tokens.py", format!("GH = \"{token}\"\n"));

    // From the root: allowed.
    repo.keyguard(&["fixtures"])
        .assert_code(0)
        .assert_no_leak(&token);
    // From inside the folder: the same file, the same answer.
    let mut cmd = repo.keyguard_command(&["."]);
    cmd.current_dir(repo.path("fixtures"));
    let run = crate::util::Run::of(cmd);
    run.assert_no_leak(&token);
    run.assert_code(0);
}

/// A rule id that is no rule (a typo) must not pass for a disabled rule:
/// the commit is blocked with exit 2, naming the line, and `--verbose` never
/// gets to claim the rule is off.
#[test]
fn an_unknown_rule_in_disabled_rules_blocks_with_its_line() {
    let repo = repo_with_config("disabled_rules = [\"github-tokn\"]\n");
    repo.stage("app.py", "x = 1\n");
    let run = repo.keyguard(&["-v"]);
    run.assert_code(2)
        .assert_stderr_contains(".keyguard.toml:1:")
        .assert_stderr_contains("there is no rule github-tokn")
        .assert_output_lacks("rules disabled by configuration");
}

/// `config.example.toml` copied as it is: every rule still reports, and
/// nothing is let through (its examples are comments).
#[test]
fn the_example_config_copied_as_is_turns_nothing_off() {
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml"),
    )
    .unwrap();
    let repo = repo_with_config(&example);
    let mut keys = Keys::for_test("example_config");
    let stripe = keys.stripe();
    repo.stage("tests/fixtures/pay.py", format!("STRIPE = \"{stripe}\"\n"));
    let run = repo.keyguard(&[]);
    run.assert_code(1)
        .assert_stderr_contains("tests/fixtures/pay.py")
        .assert_no_leak(&stripe);
}
