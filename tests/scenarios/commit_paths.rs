//! Every way a commit happens runs the hook on what that commit adds:
//! amend, merges, cherry-pick, rebase, revert, `--separate-git-dir`,
//! submodules, sparse checkout, subfolders, a global `core.hooksPath` and a
//! detached HEAD.

use std::fs;

use super::{key_line, NO_EDITOR};
use crate::util::{Keys, Run, Stream, TempRepo};

/// A repository with the hook, `file` committed as `base`, a branch
/// `feature` whose one commit (made with --no-verify) sets `file` to
/// `on_feature`, and `main` one commit further with `file` set to `on_main`.
/// Returns with `main` checked out.
fn diverged(file: &str, base: &str, on_feature: &str, on_main: &str) -> TempRepo {
    let repo = TempRepo::with_hook();
    repo.seed(&[(file, base.as_bytes()), ("README.md", b"# project\n")]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.stage(file, on_feature);
    repo.commit_no_verify("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(file, on_main);
    repo.write("README.md", "# project\n\nmain moves on\n");
    repo.add(&[file, "README.md"]);
    repo.commit_no_verify("main moves on");
    repo
}

#[test]
fn an_amend_that_adds_a_key_is_blocked_and_head_is_unchanged() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("scenario/amend_adds").github();

    // Staged, then `--amend`.
    repo.stage("app.py", format!("x = 1\n{}", key_line(&token)));
    repo.commit_blocked_with("amended", &["--amend"])
        .assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);

    // On disk only, then `--amend -a` (a temporary index).
    repo.git(&["reset", "-q"]);
    repo.commit_blocked_with("amended", &["--amend", "-a"])
        .assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(repo.show_head("app.py"), "x = 1\n");
}

/// The hook compares the index with HEAD, and when amending HEAD is the
/// commit being replaced: a key that commit already added (with
/// --no-verify) is not added again, so rewording it is allowed. The pre-push
/// hook and `keyguard --history` are what catch such a commit.
#[test]
fn amending_only_the_message_is_allowed_even_when_head_holds_a_key() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("scenario/amend_message").github();
    repo.stage("app.py", format!("x = 1\n{}", key_line(&token)));
    repo.commit_no_verify("key, unguarded");

    repo.commit_allowed_with("a better message", &["--amend"])
        .assert_no_leak(&token)
        .assert_output_lacks("github-token");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim(),
        "a better message"
    );
    assert_eq!(repo.commit_count(), 2);

    // The key is still in history, and the history scan says so.
    repo.keyguard(&["--history"])
        .assert_code(1)
        .assert_no_leak(&token)
        .assert_stdout_contains("app.py:2:7  github-token");
}

/// A merge that git stops before committing (`--no-commit`, or a conflict)
/// is concluded by `git commit`, which runs pre-commit. A merge adds only the
/// lines that are new relative to every parent (the `++` lines of a combined
/// diff): a key that the other branch committed with --no-verify is that
/// branch's commit's, not the merge's, and pre-push and `--history` are what
/// catch it. A line the merge itself adds is blocked (tests/merges.rs).
#[test]
fn concluding_a_merge_that_brings_a_key_from_the_other_branch_passes() {
    let token = Keys::for_test("scenario/merge_brings_key").github();
    let on_feature = format!("x = 1\ny = 2\n{}", key_line(&token));
    // main changes only README.md: the merge is clean, and a real one.
    let repo = diverged("settings.py", "x = 1\n", &on_feature, "x = 1\n");

    repo.git(&["merge", "--no-ff", "--no-commit", "feature"]);
    assert!(repo.path(".git/MERGE_HEAD").exists());
    repo.commit_allowed("merge feature").assert_no_leak(&token);
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split_whitespace()
            .count(),
        3
    );
    // The key is in the history, and the history scan says so.
    repo.keyguard(&["--history"])
        .assert_code(1)
        .assert_stdout_contains("settings.py:3:7  github-token");
}

#[test]
fn a_merge_conflict_resolved_with_a_key_is_blocked() {
    let repo = diverged(
        "app.py",
        "a = 0\nb = 0\n",
        "a = 1\nb = 0\n",
        "a = 2\nb = 0\n",
    );
    let run = repo.git_run(&["merge", "feature"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("CONFLICT"),
        "expected a conflict\n{}",
        run.dump()
    );

    let token = Keys::for_test("scenario/merge_conflict").github();
    repo.stage("app.py", format!("a = 2\n{}b = 0\n", key_line(&token)));
    repo.blocked(|repo| repo.git_env(&["commit", "--no-edit"], NO_EDITOR))
        .assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);

    repo.stage("app.py", "a = 3\nb = 0\n");
    repo.allowed(|repo| repo.git_env(&["commit", "--no-edit"], NO_EDITOR));
}

/// `git cherry-pick` commits without running pre-commit when it applies
/// cleanly; when it stops on a conflict, the user concludes it with
/// `git commit` or `git cherry-pick --continue`, and both run pre-commit
/// (observed with git 2.47: the sequencer's commit for a picked commit is
/// verified).
#[test]
fn a_cherry_pick_stopped_by_a_conflict_is_scanned_when_concluded() {
    for conclude in [
        &["commit", "--no-edit"][..],
        &["cherry-pick", "--continue"][..],
    ] {
        let token = Keys::for_test("scenario/cherry_pick").github();
        let repo = diverged(
            "f.py",
            "a = 1\n",
            &format!("a = 2\n{}", key_line(&token)),
            "a = 3\n",
        );
        let before = repo.head();
        let run = repo.git_run(&["cherry-pick", "feature"]);
        assert_ne!(run.code, 0, "expected a conflict\n{}", run.dump());

        repo.stage("f.py", format!("a = 3\n{}", key_line(&token)));
        let run = repo.git_env(conclude, NO_EDITOR);
        run.assert_failure();
        run.assert_human_finding(Stream::Stderr, "f.py", 2, 7, "github-token", &token);
        assert_eq!(repo.head(), before, "`git {conclude:?}` committed the key");
    }
}

/// Reverting the commit that removed a key puts the key back: concluded
/// with `git commit`, the hook sees it as added.
#[test]
fn reverting_the_removal_of_a_key_is_blocked_when_concluded_with_commit() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/revert").github();
    repo.seed(&[("app.py", format!("x = 1\n{}", key_line(&token)).as_bytes())]);
    repo.stage("app.py", "x = 1\n");
    repo.commit_allowed("remove the key");

    repo.git(&["revert", "--no-commit", "HEAD"]);
    repo.blocked(|repo| repo.git_env(&["commit", "--no-edit"], NO_EDITOR))
        .assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
}

/// A rebase that stops on a conflict: `git commit` runs pre-commit and is
/// blocked. `git rebase --continue` does not run pre-commit (observed with
/// git 2.47: the sequencer commits rebase picks unverified), so the key
/// goes in; what catches it then is `keyguard --history` (and the pre-push
/// hook). The test accepts either behaviour of git, but not a silent miss.
#[test]
fn a_rebase_stopped_by_a_conflict_blocks_git_commit_and_history_catches_continue() {
    let token = Keys::for_test("scenario/rebase").github();
    let with_key = format!("a = 3\n{}", key_line(&token));

    // `git commit` while the rebase is stopped.
    let repo = diverged(
        "f.py",
        "a = 1\n",
        &format!("a = 2\n{}", key_line(&token)),
        "a = 3\n",
    );
    repo.git(&["checkout", "-q", "feature"]);
    let run = repo.git_env(&["rebase", "main"], NO_EDITOR);
    assert_ne!(
        run.code,
        0,
        "expected the rebase to stop on a conflict\n{}",
        run.dump()
    );
    let stopped_at = repo.head();
    repo.stage("f.py", &with_key);
    repo.blocked(|repo| repo.git_env(&["commit", "--no-edit"], NO_EDITOR))
        .assert_human_finding(Stream::Stderr, "f.py", 2, 7, "github-token", &token);

    // `git rebase --continue` with the same resolution.
    let run = repo.git_env(&["rebase", "--continue"], NO_EDITOR);
    run.assert_no_leak(&token);
    if run.code == 0 {
        // git committed without pre-commit: the history scan must report it.
        assert_eq!(repo.show_head("f.py"), with_key);
        repo.keyguard(&["--history", "main..HEAD"])
            .assert_code(1)
            .assert_stdout_contains("f.py:2:7  github-token")
            .assert_no_leak(&token);
    } else {
        run.assert_human_finding(Stream::Stderr, "f.py", 2, 7, "github-token", &token);
        assert_eq!(repo.head(), stopped_at);
    }
}

#[test]
fn a_separate_git_dir_repository_is_protected() {
    let repo = TempRepo::new();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let git_dir = repo.base().join("elsewhere.git");
    repo.git(&[
        "init",
        "-q",
        "--separate-git-dir",
        git_dir.to_str().unwrap(),
    ]);
    assert!(repo.path(".git").is_file(), ".git should now be a gitfile");
    repo.install();
    assert!(
        git_dir.join("hooks/pre-commit").exists(),
        "the shim is not in the separate git dir"
    );

    let token = Keys::for_test("scenario/separate_git_dir").github();
    repo.stage("key.py", key_line(&token));
    repo.commit_blocked("key").assert_human_finding(
        Stream::Stderr,
        "key.py",
        1,
        7,
        "github-token",
        &token,
    );

    repo.git(&["rm", "-q", "--cached", "key.py"]);
    repo.stage("clean.py", "y = 2\n");
    repo.commit_allowed("clean");
    assert_eq!(repo.commit_count(), 2);
}

/// A submodule is a gitlink in the superproject: changing it adds no lines,
/// and the files of the submodule's own repository are not the
/// superproject's commit. A key committed inside the submodule does not
/// block (nor appear in) the superproject's commit; a key in the
/// superproject's own files still does.
#[test]
fn a_submodule_gitlink_adds_no_lines_and_the_superproject_is_still_scanned() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let origin = repo.base().join("lib-origin");
    fs::create_dir_all(&origin).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.name", "Sub"],
        &["config", "user.email", "sub@example.invalid"],
    ] {
        repo.git_in(&origin, args).assert_success();
    }
    fs::write(origin.join("lib.py"), "def f():\n    return 1\n").unwrap();
    repo.git_in(&origin, &["add", "lib.py"]).assert_success();
    repo.git_in(&origin, &["commit", "-q", "-m", "lib"])
        .assert_success();

    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        origin.to_str().unwrap(),
        "lib",
    ]);
    repo.commit_allowed("add the submodule");
    assert_eq!(repo.commit_count(), 2);

    // A key committed inside the submodule, then the gitlink bumped.
    let token = Keys::for_test("scenario/submodule").github();
    let sub = repo.path("lib");
    repo.git_in(&sub, &["config", "user.name", "Sub"])
        .assert_success();
    repo.git_in(&sub, &["config", "user.email", "sub@example.invalid"])
        .assert_success();
    fs::write(sub.join("settings.py"), key_line(&token)).unwrap();
    repo.git_in(&sub, &["add", "settings.py"]).assert_success();
    repo.git_in(
        &sub,
        &["commit", "-q", "--no-verify", "-m", "key in the submodule"],
    )
    .assert_success();
    repo.add(&["lib"]);
    repo.commit_allowed("bump lib")
        .assert_no_leak(&token)
        .assert_output_lacks("settings.py");
    assert_eq!(repo.commit_count(), 3);

    // The superproject's own files are still scanned with a submodule around.
    let other = Keys::for_test("scenario/submodule/super").github();
    repo.stage("config.py", key_line(&other));
    repo.commit_blocked("key in the superproject")
        .assert_human_finding(Stream::Stderr, "config.py", 1, 7, "github-token", &other)
        .assert_no_leak(&token);
}

/// Non-cone sparse checkout without a sparse index: entries outside the
/// patterns carry the skip-worktree bit and are not on disk. They are
/// unchanged, not deleted, and a key staged outside the patterns is read
/// from its blob like any other.
#[test]
fn a_sparse_checkout_non_cone_without_sparse_index() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("a/app.py", b"x = 1\n"), ("b/other.py", b"y = 1\n")]);
    repo.git(&["sparse-checkout", "set", "--no-cone", "/a/"]);
    assert!(
        !repo.path("b/other.py").exists(),
        "b/ should be outside the sparse checkout"
    );
    assert_ne!(
        repo.git_run(&["config", "--get", "index.sparse"])
            .stdout
            .trim(),
        "true"
    );

    repo.stage("a/clean.py", "z = 1\n");
    repo.commit_allowed("clean");
    assert_eq!(repo.commit_count(), 2);

    let mut keys = Keys::for_test("scenario/sparse_no_cone");
    let (inside, outside) = (keys.github(), keys.github());
    repo.stage("a/key.py", key_line(&inside));
    // Outside the patterns: git needs --sparse to stage it.
    repo.write("b/key.py", format!("y = 2\n{}", key_line(&outside)));
    repo.git(&["add", "--sparse", "--", "b/key.py"]);
    repo.commit_blocked("keys")
        .assert_human_finding(Stream::Stderr, "a/key.py", 1, 7, "github-token", &inside)
        .assert_human_finding(Stream::Stderr, "b/key.py", 2, 7, "github-token", &outside)
        .assert_stderr_contains("2 findings")
        .assert_output_lacks("b/other.py");
}

/// `git commit` run from a subfolder: paths are reported from the root, and
/// `.keyguard.toml` is found at the root (git runs hooks there).
#[test]
fn a_commit_from_a_subfolder_reports_root_relative_paths_and_uses_the_root_config() {
    let repo = TempRepo::with_hook();
    repo.seed(&[
        (".keyguard.toml", b"[allow]\npaths = [\"fixtures/**\"]\n"),
        ("src/deep/mod.py", b"x = 1\n"),
    ]);
    let deep = repo.path("src/deep");
    let mut keys = Keys::for_test("scenario/subfolder");
    let (in_src, in_fixture) = (keys.github(), keys.github());
    fs::write(deep.join("app.py"), key_line(&in_src)).unwrap();
    repo.write("fixtures/tokens.py", key_line(&in_fixture));
    repo.git_in(&deep, &["add", "app.py", "../../fixtures/tokens.py"])
        .assert_success();

    repo.blocked(|repo| repo.git_in(&deep, &["commit", "-m", "from deep"]))
        .assert_human_finding(
            Stream::Stderr,
            "src/deep/app.py",
            1,
            7,
            "github-token",
            &in_src,
        )
        .assert_output_lacks("fixtures/")
        .assert_no_leak(&in_fixture)
        .assert_stderr_contains("1 finding");

    // A pathspec relative to the subfolder (a temporary index).
    repo.blocked(|repo| repo.git_in(&deep, &["commit", "-m", "only app", "app.py"]))
        .assert_human_finding(
            Stream::Stderr,
            "src/deep/app.py",
            1,
            7,
            "github-token",
            &in_src,
        );
    assert_eq!(repo.commit_count(), 1);
}

/// `core.hooksPath` set in the user's global configuration (here the test's
/// own `GIT_CONFIG_GLOBAL` file): `keyguard install` puts the shim there,
/// and commits in the repository run it.
#[test]
fn a_global_core_hooks_path_is_honoured_by_install_and_commit() {
    let repo = TempRepo::new();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let hooks = repo.base().join("global-hooks");
    let global = repo.home.join("global.gitconfig");
    fs::write(
        &global,
        format!("[core]\n\thooksPath = {}\n", hooks.display()),
    )
    .unwrap();
    let global = global.to_str().unwrap().to_string();
    let env = [("GIT_CONFIG_GLOBAL", global.as_str())];

    let mut cmd = repo.keyguard_command(&["install"]);
    cmd.env("GIT_CONFIG_GLOBAL", &global);
    Run::of(cmd).assert_success();
    assert!(
        hooks.join("pre-commit").exists(),
        "the shim is not in the global hooks path"
    );
    assert!(
        !repo.path(".git/hooks/pre-commit").exists(),
        "the shim went to .git/hooks"
    );

    let token = Keys::for_test("scenario/global_hooks_path").github();
    repo.stage("key.py", key_line(&token));
    repo.blocked(|repo| repo.git_env(&["commit", "-m", "key"], &env))
        .assert_human_finding(Stream::Stderr, "key.py", 1, 7, "github-token", &token);

    repo.git(&["rm", "-q", "--cached", "key.py"]);
    repo.stage("clean.py", "y = 1\n");
    repo.allowed(|repo| repo.git_env(&["commit", "-m", "clean"], &env));
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn commits_on_a_detached_head_are_scanned() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    repo.stage("app.py", "x = 2\n");
    repo.commit_allowed("second");
    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);

    let token = Keys::for_test("scenario/detached").github();
    repo.stage("app.py", format!("x = 1\n{}", key_line(&token)));
    repo.commit_blocked("key").assert_human_finding(
        Stream::Stderr,
        "app.py",
        2,
        7,
        "github-token",
        &token,
    );

    repo.stage("app.py", "x = 3\n");
    repo.commit_allowed("clean");
    assert_ne!(
        repo.git_run(&["symbolic-ref", "-q", "HEAD"]).code,
        0,
        "HEAD should still be detached"
    );
}
