/*!
Merges and `git am`, through the hooks `keyguard install` puts in by
default. A merge commit is judged by the lines it adds relative to every
parent (the `++` lines of a combined diff): what a branch brings was added
by that branch's own commits (pre-push and `--history` catch those), while
an evil merge or a conflict resolution that writes a key is blocked, in
`git merge` (pre-merge-commit, merged commits in `GITHEAD_*`) and in the
`git commit` that concludes a conflicted merge (pre-commit, MERGE_HEAD).
*/

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{keyguard_bin, Keys, Run, Stream, TempRepo};

fn key_line(token: &str) -> String {
    format!("GH = \"{token}\"\n")
}

fn head(repo: &TempRepo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

fn parent_count(repo: &TempRepo) -> usize {
    repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
        .split_whitespace()
        .count()
        - 1
}

fn write_script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Commits `files` on a new branch `name` made from `main`, bypassing the
/// hook (a key planted with --no-verify), and goes back to `main`.
fn branch(repo: &TempRepo, name: &str, files: &[(&str, &str)]) {
    repo.git(&["checkout", "-q", "-b", name, "main"]);
    for (path, text) in files {
        repo.stage(path, text);
    }
    repo.commit_no_verify(name);
    repo.git(&["checkout", "-q", "main"]);
}

/// `git` with `env` added.
fn git_env(repo: &TempRepo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = repo.git_command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::of(cmd)
}

/// A wrapper around the real binary that logs its arguments to `log`,
/// so a passing test can show that keyguard did run, and as which hook.
fn logging_keyguard(repo: &TempRepo, log: &Path) -> String {
    let wrapper = repo.base().join("keyguard-logging");
    write_script(
        &wrapper,
        &format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            keyguard_bin().display()
        ),
    );
    wrapper.display().to_string()
}

/// main: `app.py` (three lines) and README.md committed, hooks installed.
fn repo_with_app() -> TempRepo {
    let repo = TempRepo::with_hook();
    repo.seed(&[
        ("app.py", b"a = 0\nb = 0\nc = 0\n"),
        ("README.md", b"# project\n"),
    ]);
    repo
}

#[test]
fn an_auto_merge_that_adds_nothing_new_passes_though_the_branch_brought_a_key() {
    let repo = repo_with_app();
    let token = Keys::for_test("merges/auto_brings_key").github();
    // The branch adds a key to app.py and a key file; main edits another
    // line of app.py: the merge result differs from both parents there.
    branch(
        &repo,
        "feature",
        &[
            (
                "app.py",
                &format!("a = 0\nb = 0\nc = 0\n{}", key_line(&token)),
            ),
            ("settings.py", &key_line(&token)),
        ],
    );
    repo.stage("app.py", "a = 1\nb = 0\nc = 0\n");
    repo.commit_no_verify("main moves on");

    let log = repo.base().join("log");
    let wrapper = logging_keyguard(&repo, &log);
    let run = git_env(
        &repo,
        &["merge", "--no-edit", "feature"],
        &[("KEYGUARD_BIN", &wrapper)],
    );
    run.assert_success();
    run.assert_no_leak(&token);
    assert_eq!(parent_count(&repo), 2, "no merge commit\n{}", run.dump());
    assert_eq!(
        repo.show_head("app.py"),
        format!("a = 1\nb = 0\nc = 0\n{}", key_line(&token))
    );
    assert!(
        fs::read_to_string(&log)
            .unwrap()
            .contains("--hook=pre-merge-commit"),
        "keyguard did not run as the pre-merge-commit hook"
    );
    // The branch's own commit is what the history scan reports.
    let run = repo.keyguard(&["--history"]);
    run.assert_code(1);
    run.assert_stdout_contains("settings.py:1:7  github-token");
}

#[test]
fn an_evil_auto_merge_is_blocked_by_pre_merge_commit() {
    let repo = repo_with_app();
    branch(&repo, "feature", &[("app.py", "a = 0\nb = 0\nc = 2\n")]);
    repo.stage("app.py", "a = 1\nb = 0\nc = 0\n");
    repo.commit_no_verify("main moves on");
    let before = head(&repo);

    // A merge driver that merges cleanly and slips in a line neither side
    // has: the merge commit itself adds it, without any conflict.
    let token = Keys::for_test("merges/evil_auto").github();
    let driver = repo.base().join("evil-driver");
    write_script(
        &driver,
        &format!(
            "#!/bin/sh\ngit merge-file \"$2\" \"$1\" \"$3\" || exit 1\nprintf '%s\\n' '{}' >> \"$2\"\n",
            key_line(&token).trim_end()
        ),
    );
    repo.git(&[
        "config",
        "merge.evil.driver",
        &format!("'{}' %O %A %B", driver.display()),
    ]);
    repo.write(".git/info/attributes", "app.py merge=evil\n");

    let run = repo.git_run(&["merge", "--no-edit", "feature"]);
    run.assert_failure();
    run.assert_human_finding(Stream::Stderr, "app.py", 4, 7, "github-token", &token);
    run.assert_stderr_contains("1 finding");
    assert_eq!(head(&repo), before, "the evil merge commit was made");
}

#[test]
fn a_conflicted_merge_concluded_by_commit_blocks_only_what_the_resolution_adds() {
    let repo = repo_with_app();
    let theirs_token = Keys::for_test("merges/conflict_theirs").github();
    branch(
        &repo,
        "feature",
        &[(
            "app.py",
            &format!("a = 0\n{}c = 0\n", key_line(&theirs_token)),
        )],
    );
    repo.stage("app.py", "a = 0\nb = 2\nc = 0\n");
    repo.commit_no_verify("main moves on");
    let before = head(&repo);

    let run = repo.git_run(&["merge", "feature"]);
    run.assert_code(1);
    assert!(run.stdout.contains("CONFLICT"), "{}", run.dump());
    assert!(repo.path(".git/MERGE_HEAD").exists());

    // A resolution that writes a key of its own: blocked.
    let new_token = Keys::for_test("merges/conflict_new").github();
    repo.stage(
        "app.py",
        format!("a = 0\nb = 2\n{}c = 0\n", key_line(&new_token)),
    );
    let run = repo.commit_blocked("merge feature");
    run.assert_human_finding(Stream::Stderr, "app.py", 3, 7, "github-token", &new_token);
    run.assert_stderr_contains("1 finding");
    assert_eq!(head(&repo), before);

    // Taking the branch's side adds nothing relative to it: the commit
    // goes through as a two-parent merge.
    repo.stage(
        "app.py",
        format!("a = 0\n{}c = 0\n", key_line(&theirs_token)),
    );
    let run = repo.commit_allowed("merge feature");
    run.assert_no_leak(&theirs_token);
    assert_eq!(parent_count(&repo), 2);
}

#[test]
fn an_octopus_merge_is_judged_against_all_its_parents() {
    let repo = repo_with_app();
    let token = Keys::for_test("merges/octopus").github();
    branch(&repo, "b1", &[("k1.py", &key_line(&token))]);
    branch(&repo, "b2", &[("f2.py", "two = 2\n")]);
    repo.stage("README.md", "# project\n\nmain moves on\n");
    repo.commit_no_verify("main moves on");
    let before = head(&repo);

    let run = repo.git_run(&["merge", "--no-edit", "b1", "b2"]);
    run.assert_success();
    run.assert_no_leak(&token);
    assert_eq!(parent_count(&repo), 3, "no octopus merge\n{}", run.dump());

    // The same octopus, with the user's own pre-merge-commit hook (chained
    // by the shim) adding a file with a key to the merge result.
    repo.git(&["reset", "-q", "--hard", &before]);
    let evil = Keys::for_test("merges/octopus_evil").github();
    write_script(
        &repo.hooks_dir().join("pre-merge-commit.keyguard-chained"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' '{}' > evil.py && git add evil.py\n",
            key_line(&evil).trim_end()
        ),
    );
    let run = repo.git_run(&["merge", "--no-edit", "b1", "b2"]);
    run.assert_failure();
    run.assert_human_finding(Stream::Stderr, "evil.py", 1, 7, "github-token", &evil);
    run.assert_stderr_contains("1 finding");
    run.assert_no_leak(&token);
    assert_eq!(head(&repo), before, "the octopus merge commit was made");
}

#[test]
fn git_am_of_a_patch_that_adds_a_key_is_blocked_by_pre_applypatch() {
    let repo = repo_with_app();
    let token = Keys::for_test("merges/am").github();
    branch(&repo, "clean", &[("notes.py", "n = 1\n")]);
    branch(&repo, "keyed", &[("keys.py", &key_line(&token))]);
    let patches = repo.base().join("patches");
    for name in ["clean", "keyed"] {
        repo.git(&[
            "format-patch",
            "-q",
            "-1",
            name,
            "-o",
            patches.join(name).to_str().unwrap(),
        ]);
    }
    let patch = |name: &str| {
        let dir = patches.join(name);
        let file = fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
        file.display().to_string()
    };
    let before = head(&repo);

    let run = repo.git_run(&["am", "-q", &patch("keyed")]);
    run.assert_failure();
    run.assert_human_finding(Stream::Stderr, "keys.py", 1, 7, "github-token", &token);
    assert_eq!(head(&repo), before, "git am committed the key");
    repo.git(&["am", "--abort"]);

    repo.git(&["am", "-q", &patch("clean")]);
    assert_eq!(repo.commit_count(), 2);
    assert_eq!(repo.show_head("notes.py"), "n = 1\n");
}
