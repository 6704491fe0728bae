//! What a team adopting keyguard meets first: `keyguard init` guarding
//! `.env`, a baseline for the findings it already has, and the warning when
//! a `.env` is not ignored.

use std::fs;

use crate::util::{Keys, TempRepo};

#[test]
fn baseline_accepts_todays_findings_keeps_blocking_new_ones_and_prunes() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("team/baseline");
    let old = keys.stripe();
    // Committed before keyguard was adopted.
    repo.seed(&[("legacy.py", format!("STRIPE = \"{old}\"\n").as_bytes())]);
    repo.keyguard(&["--all"]).assert_code(1);

    repo.keyguard(&["baseline"]).assert_code(0);
    let baseline = String::from_utf8(repo.read(".keyguard-baseline.json")).unwrap();
    assert!(!baseline.contains(&old), "the baseline holds the secret");
    assert!(
        baseline.contains("stripe-secret-key") && baseline.contains("\"salt\""),
        "{baseline}"
    );
    repo.keyguard(&["--all"]).assert_code(0);

    // The accepted secret moves down a line: still accepted.
    repo.write("legacy.py", format!("# moved\nSTRIPE = \"{old}\"\n"));
    repo.keyguard(&["--all"]).assert_code(0);

    // A new secret still blocks, staged or not.
    let new = keys.stripe();
    repo.write("new.py", format!("KEY = \"{new}\"\n"));
    repo.git(&["add", "new.py"]);
    let run = repo.keyguard(&[]);
    run.assert_code(1);
    run.assert_no_leak(&new);

    // Once the old secret is gone, --prune drops its entry.
    repo.remove("new.py");
    repo.git(&["rm", "-q", "--cached", "new.py"]);
    repo.stage("legacy.py", "STRIPE = os.environ[\"STRIPE\"]\n");
    repo.commit_allowed("load the key from the environment");
    repo.keyguard(&["baseline", "--prune"]).assert_code(0);
    let pruned = String::from_utf8(repo.read(".keyguard-baseline.json")).unwrap();
    assert!(!pruned.contains("stripe-secret-key"), "{pruned}");
}

#[test]
fn init_guards_env_files_and_writes_a_template_without_values() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("team/init");
    let value = keys.stripe();
    repo.write(
        ".env",
        format!("# payments\nSTRIPE_SECRET_KEY={value}\nDEBUG=1\n"),
    );
    repo.write(".gitignore", "target/\n");

    // Before init: a warning, not a block, that .env is one `git add .` away.
    let run = repo.keyguard(&[]);
    run.assert_code(0);
    run.assert_stderr_contains(".env is not ignored");

    repo.keyguard(&["init"]).assert_code(0);
    let gitignore = String::from_utf8(repo.read(".gitignore")).unwrap();
    for line in [
        ".env",
        ".env.*",
        "!.env.example",
        "*.key",
        "config/secrets.json",
        "**/private/*.json",
    ] {
        assert!(
            gitignore.lines().any(|l| l == line),
            "{line} missing from:\n{gitignore}"
        );
    }
    assert!(gitignore.starts_with("target/\n"));
    let example = String::from_utf8(repo.read(".env.example")).unwrap();
    // Comments are dropped: one may hold a key.
    assert_eq!(example, "STRIPE_SECRET_KEY=\nDEBUG=\n");
    assert!(repo.path(".keyguard.toml").exists());

    // After init: ignored, so no warning; and a second init changes nothing.
    let run = repo.keyguard(&[]);
    run.assert_code(0);
    assert!(
        !run.stderr.contains(".env is not ignored"),
        "{}",
        run.stderr
    );
    let before = fs::read(repo.path(".gitignore")).unwrap();
    repo.keyguard(&["init"]).assert_code(0);
    assert_eq!(fs::read(repo.path(".gitignore")).unwrap(), before);
}

#[test]
fn verbose_says_what_the_configuration_turns_off() {
    let repo = TempRepo::new();
    repo.write(
        ".keyguard.toml",
        "disabled_rules = [\"generic-secret-assignment\"]\n[allow]\npaths = [\"fixtures/**\"]\n",
    );
    let run = repo.keyguard(&["--verbose"]);
    run.assert_code(0);
    run.assert_stderr_contains("rules disabled by configuration: generic-secret-assignment");
    run.assert_stderr_contains("paths never scanned: fixtures/**");
}

/// Findings in test or vendored folders are counted per folder, with the
/// path-scoped `allow.paths` lines that accept them; never everything at once.
#[test]
fn full_scan_says_which_findings_are_in_test_or_vendored_code() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("team/where-you-stand");
    let (fixture, vendored, real) = (keys.stripe(), keys.github(), keys.stripe());
    repo.seed(&[
        (
            "tests/fixtures/payments.py",
            format!("KEY = \"{fixture}\"\n").as_bytes(),
        ),
        (
            "vendor/sdk/client.go",
            format!("var token = \"{vendored}\"\n").as_bytes(),
        ),
        ("src/app.py", format!("STRIPE = \"{real}\"\n").as_bytes()),
    ]);
    let run = repo.keyguard(&["--all"]);
    run.assert_code(1)
        .assert_stderr_contains("2 of 3 finding(s) are in test or vendored code")
        .assert_stderr_contains("paths = [\"tests/\", \"vendor/\"]")
        .assert_stderr_contains("rotate it at the provider");
    assert!(!run.stderr.contains("\"src/"), "{}", run.dump());

    // The suggested lines accept exactly those folders: the key in src/ stays.
    repo.write(
        ".keyguard.toml",
        "[allow]\npaths = [\"tests/\", \"vendor/\"]\n",
    );
    let run = repo.keyguard(&["--all"]);
    run.assert_code(1).assert_stdout_contains("src/app.py:1:");
    assert!(!run.stderr.contains("test or vendored"), "{}", run.dump());

    // The hook's report says nothing of the kind: it is about one commit.
    repo.write(".keyguard.toml", "");
    repo.stage("tests/more.py", format!("KEY = \"{fixture}\"\n"));
    let run = repo.keyguard(&["--staged"]);
    run.assert_code(1);
    assert!(!run.stderr.contains("test or vendored"), "{}", run.dump());
}
