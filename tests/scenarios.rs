/*!
The reliability scenarios: a table of situations real repositories get into,
one throwaway repository each, driving the real `git` with the hook put in
place by `keyguard install`. Each test checks the exit status of
`git commit`, that the report names the right rule at the right
`path:line:col`, and that the whole secret never appears in the output.

Only what the other modules do not already cover is here (linked worktrees,
index versions, pure renames, temporary indexes, ... live in `hook.rs`,
`config.rs`, `cli.rs` and `encoding.rs`).

  A. every way a commit happens: amend, merges, cherry-pick, rebase, revert,
     `--separate-git-dir`, submodules, sparse checkout, subfolders, a global
     `core.hooksPath`, detached HEAD;
  B. renames, copies, modes and symlinks;
  C. user git configuration that must not change the result;
  D. content shapes: empty, mixed line ends, one 5 MB line, a 60 MB file,
     3000 files, odd file names;
  E. faults fail closed, with a message that says what to do;
  F. a scan never writes to the repository;
  G. a property test over generated text (the library, not the binary).
*/

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use keyguard::config::Config;
use keyguard::rules::examples::{expand, Rng};
use keyguard::scan::{DiskFile, Scanner};

use crate::util::{position_of, Keys, Run, Stream, TempRepo};

// ---- helpers ---------------------------------------------------------------------

/// `GH = "<token>"` and a newline: the token sits at column 7.
fn key_line(token: &str) -> String {
    format!("GH = \"{token}\"\n")
}

/// git in `dir` (rather than the repository root), isolated like the rest.
fn git_in(repo: &TempRepo, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = repo.git_command(args);
    cmd.current_dir(dir);
    Run::of(cmd)
}

/// git in the root with extra environment variables.
fn git_env(repo: &TempRepo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = repo.git_command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::of(cmd)
}

/// Commands that may open an editor: accept the prepared message as is.
const NO_EDITOR: &[(&str, &str)] = &[("GIT_EDITOR", "true")];

fn head(repo: &TempRepo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// A repository with the hook, `file` committed as `base`, a branch
/// `feature` whose one commit (made with --no-verify) sets `file` to
/// `on_feature`, and `main` one commit further with `file` set to `on_main`.
/// Returns with `main` checked out.
fn diverged(file: &str, base: &str, on_feature: &str, on_main: &str) -> TempRepo {
    let repo = TempRepo::with_hook();
    repo.seed(&[(file, base.as_bytes()), ("README.md", b"# project\n")]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(file, on_feature);
    repo.add(&[file]);
    repo.commit_no_verify("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(file, on_main);
    repo.write("README.md", "# project\n\nmain moves on\n");
    repo.add(&[file, "README.md"]);
    repo.commit_no_verify("main moves on");
    repo
}

// ==== A. every way a commit happens ===================================================

#[test]
fn a_amend_that_adds_a_key_is_blocked_and_head_is_unchanged() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let before = head(&repo);
    let token = Keys::for_test("scenario/amend_adds").github();
    let content = format!("x = 1\n{}", key_line(&token));

    // Staged, then `--amend`.
    repo.write("app.py", &content);
    repo.add(&["app.py"]);
    let run = repo.commit("amended", &["--amend"]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(head(&repo), before, "the blocked amend replaced HEAD");

    // On disk only, then `--amend -a` (a temporary index).
    repo.git(&["reset", "-q"]);
    let run = repo.commit("amended", &["--amend", "-a"]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(head(&repo), before);
    assert_eq!(repo.show_head("app.py"), "x = 1\n");
}

/// The hook compares the index with HEAD, and when amending HEAD is the
/// commit being replaced: a key that commit already added (with
/// --no-verify) is not added again, so rewording it is allowed. The pre-push
/// hook and `keyguard --history` are what catch such a commit.
#[test]
fn a_amending_only_the_message_is_allowed_even_when_head_holds_a_key() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("scenario/amend_message").github();
    repo.write("app.py", format!("x = 1\n{}", key_line(&token)));
    repo.add(&["app.py"]);
    repo.commit_no_verify("key, unguarded");

    let run = repo.commit("a better message", &["--amend"]);
    run.assert_success();
    run.assert_no_leak(&token);
    run.assert_output_lacks("github-token");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim(),
        "a better message"
    );
    assert_eq!(repo.commit_count(), 2);

    // The key is still in history, and the history scan says so.
    let run = repo.keyguard(&["--history"]);
    run.assert_code(1);
    run.assert_no_leak(&token);
    run.assert_stdout_contains("app.py:2:7  github-token");
}

/// A merge that git stops before committing (`--no-commit`, or a conflict)
/// is concluded by `git commit`, which runs pre-commit. A merge adds only the
/// lines that are new relative to every parent (the `++` lines of a combined
/// diff): a key that the other branch committed with --no-verify is that
/// branch's commit's, not the merge's, and pre-push and `--history` are what
/// catch it. A line the merge itself adds is blocked (tests/merges.rs).
#[test]
fn a_concluding_a_merge_that_brings_a_key_from_the_other_branch_passes() {
    let token = Keys::for_test("scenario/merge_brings_key").github();
    let on_feature = format!("x = 1\ny = 2\n{}", key_line(&token));
    // main changes only README.md: the merge is clean, and a real one.
    let repo = diverged("settings.py", "x = 1\n", &on_feature, "x = 1\n");

    repo.git(&["merge", "--no-ff", "--no-commit", "feature"]);
    assert!(repo.path(".git/MERGE_HEAD").exists());
    let run = repo.commit("merge feature", &[]);
    run.assert_success();
    run.assert_no_leak(&token);
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split_whitespace()
            .count(),
        3
    );
    // The key is in the history, and the history scan says so.
    let run = repo.keyguard(&["--history"]);
    run.assert_code(1);
    run.assert_stdout_contains("settings.py:3:7  github-token");
}

#[test]
fn a_merge_conflict_resolved_with_a_key_is_blocked() {
    let repo = diverged(
        "app.py",
        "a = 0\nb = 0\n",
        "a = 1\nb = 0\n",
        "a = 2\nb = 0\n",
    );
    let before = head(&repo);
    let run = repo.git_run(&["merge", "feature"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("CONFLICT"),
        "expected a conflict\n{}",
        run.dump()
    );

    let token = Keys::for_test("scenario/merge_conflict").github();
    let resolved = format!("a = 2\n{}b = 0\n", key_line(&token));
    repo.write("app.py", &resolved);
    repo.add(&["app.py"]);
    let run = git_env(&repo, &["commit", "--no-edit"], NO_EDITOR);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(head(&repo), before);

    repo.write("app.py", "a = 3\nb = 0\n");
    repo.add(&["app.py"]);
    git_env(&repo, &["commit", "--no-edit"], NO_EDITOR).assert_success();
    assert_ne!(head(&repo), before);
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
        let before = head(&repo);
        let run = repo.git_run(&["cherry-pick", "feature"]);
        assert_ne!(run.code, 0, "expected a conflict\n{}", run.dump());

        repo.write("f.py", format!("a = 3\n{}", key_line(&token)));
        repo.add(&["f.py"]);
        let run = git_env(&repo, conclude, NO_EDITOR);
        run.assert_failure();
        run.assert_human_finding(Stream::Stderr, "f.py", 2, 7, "github-token", &token);
        assert_eq!(head(&repo), before, "`git {conclude:?}` committed the key");
    }
}

/// Reverting the commit that removed a key puts the key back: concluded
/// with `git commit`, the hook sees it as added.
#[test]
fn a_reverting_the_removal_of_a_key_is_blocked_when_concluded_with_commit() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/revert").github();
    repo.seed(&[("app.py", format!("x = 1\n{}", key_line(&token)).as_bytes())]);
    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    repo.commit("remove the key", &[]).assert_success();
    let before = head(&repo);

    repo.git(&["revert", "--no-commit", "HEAD"]);
    let run = git_env(&repo, &["commit", "--no-edit"], NO_EDITOR);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(head(&repo), before);
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
    let run = git_env(&repo, &["rebase", "main"], NO_EDITOR);
    assert_ne!(
        run.code,
        0,
        "expected the rebase to stop on a conflict\n{}",
        run.dump()
    );
    let stopped_at = head(&repo);
    repo.write("f.py", &with_key);
    repo.add(&["f.py"]);
    let run = git_env(&repo, &["commit", "--no-edit"], NO_EDITOR);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "f.py", 2, 7, "github-token", &token);
    assert_eq!(head(&repo), stopped_at);

    // `git rebase --continue` with the same resolution.
    let run = git_env(&repo, &["rebase", "--continue"], NO_EDITOR);
    run.assert_no_leak(&token);
    if run.code == 0 {
        // git committed without pre-commit: the history scan must report it.
        assert_eq!(repo.show_head("f.py"), with_key);
        let scan = repo.keyguard(&["--history", "main..HEAD"]);
        scan.assert_code(1);
        scan.assert_stdout_contains("f.py:2:7  github-token");
        scan.assert_no_leak(&token);
    } else {
        run.assert_human_finding(Stream::Stderr, "f.py", 2, 7, "github-token", &token);
        assert_eq!(head(&repo), stopped_at);
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
    repo.write("key.py", key_line(&token));
    repo.add(&["key.py"]);
    let run = repo.commit("key", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "key.py", 1, 7, "github-token", &token);
    assert_eq!(repo.commit_count(), 1);

    repo.git(&["rm", "-q", "--cached", "key.py"]);
    repo.write("clean.py", "y = 2\n");
    repo.add(&["clean.py"]);
    repo.commit("clean", &[]).assert_success();
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
        git_in(&repo, &origin, args).assert_success();
    }
    fs::write(origin.join("lib.py"), "def f():\n    return 1\n").unwrap();
    git_in(&repo, &origin, &["add", "lib.py"]).assert_success();
    git_in(&repo, &origin, &["commit", "-q", "-m", "lib"]).assert_success();

    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        origin.to_str().unwrap(),
        "lib",
    ]);
    let run = repo.commit("add the submodule", &[]);
    run.assert_success();
    assert_eq!(repo.commit_count(), 2);

    // A key committed inside the submodule, then the gitlink bumped.
    let token = Keys::for_test("scenario/submodule").github();
    let sub = repo.path("lib");
    git_in(&repo, &sub, &["config", "user.name", "Sub"]).assert_success();
    git_in(
        &repo,
        &sub,
        &["config", "user.email", "sub@example.invalid"],
    )
    .assert_success();
    fs::write(sub.join("settings.py"), key_line(&token)).unwrap();
    git_in(&repo, &sub, &["add", "settings.py"]).assert_success();
    git_in(
        &repo,
        &sub,
        &["commit", "-q", "--no-verify", "-m", "key in the submodule"],
    )
    .assert_success();
    repo.add(&["lib"]);
    let run = repo.commit("bump lib", &[]);
    run.assert_success();
    run.assert_no_leak(&token);
    run.assert_output_lacks("settings.py");
    assert_eq!(repo.commit_count(), 3);

    // The superproject's own files are still scanned with a submodule around.
    let other = Keys::for_test("scenario/submodule/super").github();
    repo.write("config.py", key_line(&other));
    repo.add(&["config.py"]);
    let run = repo.commit("key in the superproject", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "config.py", 1, 7, "github-token", &other);
    run.assert_no_leak(&token);
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

    repo.write("a/clean.py", "z = 1\n");
    repo.add(&["a/clean.py"]);
    repo.commit("clean", &[]).assert_success();
    assert_eq!(repo.commit_count(), 2);

    let mut keys = Keys::for_test("scenario/sparse_no_cone");
    let (inside, outside) = (keys.github(), keys.github());
    repo.write("a/key.py", key_line(&inside));
    repo.add(&["a/key.py"]);
    // Outside the patterns: git needs --sparse to stage it.
    repo.write("b/key.py", format!("y = 2\n{}", key_line(&outside)));
    repo.git(&["add", "--sparse", "--", "b/key.py"]);
    let run = repo.commit("keys", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "a/key.py", 1, 7, "github-token", &inside);
    run.assert_human_finding(Stream::Stderr, "b/key.py", 2, 7, "github-token", &outside);
    run.assert_stderr_contains("2 findings");
    run.assert_output_lacks("b/other.py");
    assert_eq!(repo.commit_count(), 2);
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
    git_in(&repo, &deep, &["add", "app.py", "../../fixtures/tokens.py"]).assert_success();

    let run = git_in(&repo, &deep, &["commit", "-m", "from deep"]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stderr,
        "src/deep/app.py",
        1,
        7,
        "github-token",
        &in_src,
    );
    run.assert_output_lacks("fixtures/");
    run.assert_no_leak(&in_fixture);
    run.assert_stderr_contains("1 finding");

    // A pathspec relative to the subfolder (a temporary index).
    let run = git_in(&repo, &deep, &["commit", "-m", "only app", "app.py"]);
    run.assert_code(1);
    run.assert_human_finding(
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
    repo.write("key.py", key_line(&token));
    repo.add(&["key.py"]);
    let run = git_env(&repo, &["commit", "-m", "key"], &env);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "key.py", 1, 7, "github-token", &token);
    assert_eq!(repo.commit_count(), 1);

    repo.git(&["rm", "-q", "--cached", "key.py"]);
    repo.write("clean.py", "y = 1\n");
    repo.add(&["clean.py"]);
    git_env(&repo, &["commit", "-m", "clean"], &env).assert_success();
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn a_detached_head_commits_are_scanned() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    repo.write("app.py", "x = 2\n");
    repo.add(&["app.py"]);
    repo.commit("second", &[]).assert_success();
    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let detached_at = head(&repo);

    let token = Keys::for_test("scenario/detached").github();
    repo.write("app.py", format!("x = 1\n{}", key_line(&token)));
    repo.add(&["app.py"]);
    let run = repo.commit("key", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(head(&repo), detached_at);

    repo.write("app.py", "x = 3\n");
    repo.add(&["app.py"]);
    repo.commit("clean", &[]).assert_success();
    assert_ne!(head(&repo), detached_at);
    assert_ne!(
        repo.git_run(&["symbolic-ref", "-q", "HEAD"]).code,
        0,
        "HEAD should still be detached"
    );
}

// ==== B. renames, copies, modes, symlinks ==============================================

/// Ten lines with a key at line 2, committed with --no-verify.
fn committed_key_file(repo: &TempRepo, path: &str, token: &str) -> String {
    let mut content = format!("x = 1\n{}", key_line(token));
    for i in 3..=10 {
        content.push_str(&format!("line_{i} = {i}\n"));
    }
    repo.seed(&[(path, content.as_bytes())]);
    content
}

#[test]
fn b_rename_plus_one_new_line_scans_only_that_line() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/rename_plus_line");
    let (old, new) = (keys.github(), keys.github());
    let content = committed_key_file(&repo, "settings.py", &old);

    // Renamed with a clean line added: allowed.
    repo.git(&["mv", "settings.py", "config.py"]);
    repo.write("config.py", format!("{content}extra = 1\n"));
    repo.add(&["config.py"]);
    let run = repo.commit("rename and a line", &[]);
    run.assert_success();
    run.assert_no_leak(&old);
    assert_eq!(repo.commit_count(), 2);

    // Renamed again with a new key: only the new line is reported.
    fs::create_dir_all(repo.path("app")).unwrap();
    repo.git(&["mv", "config.py", "app/config.py"]);
    let edited = format!("{content}extra = 1\n{}", key_line(&new));
    repo.write("app/config.py", &edited);
    repo.add(&["app/config.py"]);
    let run = repo.commit("rename and a key", &[]);
    run.assert_code(1);
    assert_eq!(position_of(&edited, &new), (12, 7));
    run.assert_human_finding(Stream::Stderr, "app/config.py", 12, 7, "github-token", &new);
    run.assert_output_lacks("app/config.py:2:");
    run.assert_no_leak(&old);
    run.assert_stderr_contains("1 finding");
}

#[test]
fn b_mode_only_change_is_allowed() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/chmod").github();
    committed_key_file(&repo, "run.sh", &token);
    let path = repo.path("run.sh");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    repo.add(&["run.sh"]);
    assert!(repo
        .git(&["diff", "--cached", "--summary"])
        .contains("mode change 100644 => 100755"));

    let run = repo.commit("make it executable", &[]);
    run.assert_success();
    run.assert_no_leak(&token);
    run.assert_output_lacks("github-token");
    assert_eq!(repo.commit_count(), 2);
}

/// A symlink's blob is its target path. keyguard does not follow it: not
/// in the staged scan, and not in `--all`.
#[test]
fn b_symlink_to_a_key_file_outside_the_repository_is_not_followed() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/symlink").github();
    let outside = repo.base().join("outside/secrets.py");
    fs::create_dir_all(outside.parent().unwrap()).unwrap();
    fs::write(&outside, key_line(&token)).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path("linked.py")).unwrap();
    repo.add(&["linked.py"]);
    assert!(repo
        .git(&["ls-files", "-s", "linked.py"])
        .starts_with("120000 "));

    let run = repo.commit("a link", &[]);
    run.assert_success();
    run.assert_no_leak(&token);
    run.assert_output_lacks("github-token");
    assert_eq!(repo.commit_count(), 1);

    let run = repo.keyguard(&["--all"]);
    run.assert_code(0);
    run.assert_no_leak(&token);
}

/// config.rs covers a pure rename out of an allowed folder. Here the move
/// comes with an edit (a near rename, which git still pairs), and a copy
/// (a new file): both land in `src/` and the old key is reported.
#[test]
fn b_rename_laundering_out_of_an_allowed_path_is_blocked() {
    let repo = TempRepo::with_hook();
    repo.write(".keyguard.toml", "[allow]\npaths = [\"fixtures/**\"]\n");
    repo.add(&[".keyguard.toml"]);
    let token = Keys::for_test("scenario/laundering").github();
    committed_key_file(&repo, "fixtures/tokens.py", &token);

    // Moved with one clean line added.
    fs::create_dir_all(repo.path("src")).unwrap();
    repo.git(&["mv", "fixtures/tokens.py", "src/tokens.py"]);
    let content = String::from_utf8(repo.read("src/tokens.py")).unwrap();
    repo.write("src/tokens.py", format!("{content}more = 1\n"));
    repo.add(&["src/tokens.py"]);
    let run = repo.commit("move into src", &[]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stderr,
        "src/tokens.py",
        2,
        7,
        "github-token",
        &token,
    );
    assert_eq!(repo.commit_count(), 1);

    // Copied instead of moved.
    repo.git(&["reset", "-q", "--hard"]);
    fs::create_dir_all(repo.path("src")).unwrap();
    fs::copy(repo.path("fixtures/tokens.py"), repo.path("src/copy.py")).unwrap();
    repo.add(&["src/copy.py"]);
    let run = repo.commit("copy into src", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "src/copy.py", 2, 7, "github-token", &token);
    run.assert_output_lacks("fixtures/");
    assert_eq!(repo.commit_count(), 1);
}

// ==== C. user git configuration that must not change the result ==========================

/// In a repository configured with `settings`, a clean commit passes and a
/// key is blocked at the right place.
#[track_caller]
fn assert_config_does_not_matter(test: &str, settings: &[(&str, &str)], path: &str, crlf: bool) {
    let repo = TempRepo::with_hook();
    for (key, value) in settings {
        repo.git(&["config", key, value]);
    }
    let eol = if crlf { "\r\n" } else { "\n" };
    repo.seed(&[("base.py", format!("x = 1{eol}").as_bytes())]);

    repo.write(path, format!("import os{eol}{eol}y = 2{eol}"));
    repo.add(&[path]);
    let run = repo.commit("clean", &[]);
    run.assert_success();
    assert_eq!(
        repo.commit_count(),
        2,
        "{settings:?}: the clean commit did not go through"
    );

    let token = Keys::for_test(test).github();
    repo.write(
        path,
        format!("import os{eol}{eol}y = 2{eol}z = 3{eol}  GH = \"{token}\"{eol}"),
    );
    repo.add(&[path]);
    let run = repo.commit("key", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, path, 5, 9, "github-token", &token);
    run.assert_stderr_contains("1 finding");
    assert_eq!(repo.commit_count(), 2, "{settings:?}: the key went through");
}

#[test]
fn c_color_ui_always() {
    assert_config_does_not_matter(
        "scenario/color_ui",
        &[("color.ui", "always"), ("color.diff", "always")],
        "app.py",
        false,
    );
}

#[test]
fn c_diff_noprefix() {
    assert_config_does_not_matter(
        "scenario/noprefix",
        &[("diff.noprefix", "true")],
        "app.py",
        false,
    );
}

#[test]
fn c_diff_external_false() {
    assert_config_does_not_matter(
        "scenario/diff_external",
        &[("diff.external", "/bin/false")],
        "app.py",
        false,
    );
}

#[test]
fn c_diff_mnemonic_prefix() {
    assert_config_does_not_matter(
        "scenario/mnemonic",
        &[("diff.mnemonicPrefix", "true")],
        "app.py",
        false,
    );
}

#[test]
fn c_other_diff_settings() {
    assert_config_does_not_matter(
        "scenario/diff_settings",
        &[
            ("diff.algorithm", "patience"),
            ("diff.renames", "false"),
            ("diff.context", "0"),
            ("core.bigFileThreshold", "1k"),
        ],
        "app.py",
        false,
    );
}

/// `core.autocrlf=true` with a CRLF file: git stores LF (and warns on
/// stderr); the line and column are those of the staged file.
#[test]
fn c_core_autocrlf_with_a_crlf_file() {
    assert_config_does_not_matter(
        "scenario/autocrlf",
        &[("core.autocrlf", "true")],
        "win.py",
        true,
    );
}

/// git quotes such a name (`"donn\303\251es/..."`) in its own output; the
/// report shows it as it is.
#[test]
fn c_core_quote_path_with_a_unicode_name() {
    assert_config_does_not_matter(
        "scenario/quotepath",
        &[("core.quotePath", "true")],
        "données/clé ü.py",
        false,
    );
}

// ==== D. content shapes ==================================================================

#[test]
fn d_empty_files_are_fine_next_to_a_key() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/empty").github();
    repo.seed(&[("was_key.py", key_line(&token).as_bytes())]);

    // A new empty file, and a file with a committed key emptied.
    repo.write("empty.py", "");
    repo.write("was_key.py", "");
    repo.add(&["empty.py", "was_key.py"]);
    let run = repo.commit("empties", &[]);
    run.assert_success();
    run.assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 2);

    // An emptied file next to a new key still blocks on the key.
    let other = Keys::for_test("scenario/empty/other").github();
    repo.write("empty.py", key_line(&other));
    repo.write("also_empty.txt", "");
    repo.add(&["empty.py", "also_empty.txt"]);
    let run = repo.commit("key", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "empty.py", 1, 7, "github-token", &other);
}

/// A key committed as the last line without a newline; appending a line
/// after it changes only the line's terminator, not its text. git's diff
/// shows that line as removed and re-added, but the key is not new: the
/// commit adds `y = 2`, and only that should be scanned (SPEC: unchanged
/// context never produces a finding).
#[test]
fn d_appending_after_a_committed_key_on_a_last_line_without_newline_is_allowed() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/append_after_no_eol").github();
    let committed = format!("x = 1\nGH = \"{token}\"");
    repo.seed(&[("app.py", committed.as_bytes())]);

    repo.write("app.py", format!("{committed}\ny = 2\n"));
    repo.add(&["app.py"]);
    let run = repo.commit("append", &[]);
    run.assert_no_leak(&token);
    run.assert_success();
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn d_mixed_crlf_and_lf_line_ends_report_the_right_line() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/mixed_eol");
    let (first, second) = (keys.github(), keys.github());
    // LF lines, then the key on a CRLF line.
    let content = format!("a = 1\nb = 2\nc = 3\r\nGH = \"{first}\"\r\nd = 4\n");
    repo.write("mixed.py", &content);
    repo.add(&["mixed.py"]);
    let run = repo.commit("mixed", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "mixed.py", 4, 7, "github-token", &first);

    // Committed, then a key inserted after CRLF lines: its own line only.
    repo.commit_no_verify("mixed, unguarded");
    let edited = content.replace(
        "d = 4\n",
        &format!("d = 4\r\ne = 5\r\n  X = \"{second}\"\n"),
    );
    repo.write("mixed.py", &edited);
    repo.add(&["mixed.py"]);
    let run = repo.commit("more", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "mixed.py", 7, 8, "github-token", &second);
    run.assert_output_lacks("mixed.py:4:");
    run.assert_no_leak(&first);
}

/// A minified bundle: one 5 MB line with a key near its end.
#[test]
fn d_a_single_5_mb_line_with_a_key_near_its_end() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/minified").github();
    let mut rng = Rng::seeded(5);
    let alphabet = b"abcdefghij;,(){}=+ ";
    let mut line: String = (0..5 * 1024 * 1024)
        .map(|_| alphabet[rng.below(alphabet.len())] as char)
        .collect();
    let col = line.len() + "var t=\"".len() + 1;
    line.push_str(&format!("var t=\"{token}\";{}\n", "x".repeat(200)));
    repo.write("dist/app.min.js", &line);
    repo.add(&["dist/app.min.js"]);

    let run = repo.commit("bundle", &[]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stderr,
        "dist/app.min.js",
        1,
        col,
        "github-token",
        &token,
    );
    assert!(repo.head_is_unborn());
}

/// A 60 MB staged text file with the key on its last line.
#[test]
fn d_a_60_mb_file_with_a_key_on_the_last_line() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/huge").github();
    let mut text = String::with_capacity(61 * 1024 * 1024);
    let mut lines = 0usize;
    while text.len() < 60 * 1024 * 1024 {
        text.push_str(&format!(
            "const value_{lines} = compute(alpha, beta, gamma) + {lines}; // filler\n"
        ));
        lines += 1;
    }
    text.push_str(&key_line(&token));
    repo.write("data/huge.js", &text);
    drop(text);
    repo.add(&["data/huge.js"]);

    let run = repo.commit("huge", &[]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stderr,
        "data/huge.js",
        lines + 1,
        7,
        "github-token",
        &token,
    );
    assert!(repo.head_is_unborn());
}

#[test]
fn d_3000_staged_files_with_one_key() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/3000").github();
    let chosen = 2087;
    for i in 0..3000 {
        let path = format!("pkg{:02}/mod{i:04}.py", i / 100);
        let mut content = format!("# module {i}\nVALUE = {i}\n");
        if i == chosen {
            content.push_str(&key_line(&token));
        }
        repo.write(&path, content);
    }
    repo.git(&["add", "-A"]);
    let run = repo.commit("many", &[]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stderr,
        &format!("pkg20/mod{chosen:04}.py"),
        3,
        7,
        "github-token",
        &token,
    );
    run.assert_stderr_contains("1 finding in 3000 files scanned");
    assert!(repo.head_is_unborn());
}

/// A staged change large enough (over 1 MB in 16+ files) to be read and
/// scanned in one parallel pass: keys in a new file and in lines appended
/// to committed files are found on the right lines, and nothing else is.
#[test]
fn d_large_staged_change_is_scanned_while_it_is_read() {
    let repo = TempRepo::with_hook();
    let filler = |i: usize, lines: usize| -> String {
        (0..lines)
            .map(|n| format!("value_{i}_{n} = compute({n}, {i})  # ordinary code\n"))
            .collect()
    };
    for i in 0..20 {
        repo.write(&format!("old/mod{i:02}.py"), filler(i, 300));
    }
    repo.git(&["add", "-A"]);
    repo.commit_no_verify("base");
    let mut keys = Keys::for_test("scenario/large-change");
    let in_new_file = keys.github();
    let appended = keys.github();
    for i in 0..30 {
        let mut content = filler(100 + i, 1_000);
        if i == 17 {
            content.push_str(&key_line(&in_new_file));
        }
        repo.write(&format!("new/mod{i:02}.py"), content);
    }
    for i in 0..20 {
        let mut content = filler(i, 300) + &filler(200 + i, 200);
        if i == 9 {
            content.push_str(&key_line(&appended));
        }
        repo.write(&format!("old/mod{i:02}.py"), content);
    }
    repo.git(&["add", "-A"]);
    let run = repo.commit("large", &[]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stderr,
        "new/mod17.py",
        1_001,
        7,
        "github-token",
        &in_new_file,
    );
    run.assert_human_finding(
        Stream::Stderr,
        "old/mod09.py",
        501,
        7,
        "github-token",
        &appended,
    );
    run.assert_stderr_contains("2 findings in 50 files scanned");
}

/// Names hooks.rs does not cover (it has spaces and accents): quotes, a
/// leading dash, a tab, a backslash, and a newline. Each is found, and the
/// JSON report gives the exact name.
#[test]
fn d_odd_file_names_are_found_with_the_right_path() {
    let names = [
        "say \"hi\".py",
        "it's.py",
        "-rf.py",
        "--help.py",
        "tab\there.py",
        "back\\slash.py",
        "line\nbreak.py",
    ];
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/odd_names");
    let tokens: Vec<String> = names.iter().map(|_| keys.github()).collect();
    for (name, token) in names.iter().zip(&tokens) {
        repo.write(name, key_line(token));
    }
    repo.git(&["add", "-A"]);

    let run = repo.commit("odd names", &[]);
    run.assert_code(1);
    for (name, token) in names.iter().zip(&tokens) {
        run.assert_no_leak(token);
        if !name.contains('\n') && !name.contains('\t') {
            run.assert_human_finding(Stream::Stderr, name, 1, 7, "github-token", token);
        }
    }
    run.assert_stderr_contains(&format!("{} findings", names.len()));

    let doc = repo.keyguard(&["--format", "json"]).assert_code(1).json();
    let mut found: Vec<(String, u64, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, u64, u64)> =
        names.iter().map(|n| (n.to_string(), 1, 7)).collect();
    expected.sort();
    assert_eq!(found, expected, "{doc:#}");
}

/// A newline in a file name must not let the name forge a line of the human
/// report: git itself C-quotes such names (`"line\nbreak.py"`). What is
/// checked: no report line starts with the part after the newline.
#[test]
fn d_a_newline_in_a_file_name_cannot_forge_a_report_line() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/newline_name").github();
    let name = "innocent.py:1:1  all-clear  nothing here\nbreak.py";
    repo.write(name, key_line(&token));
    repo.git(&["add", "-A"]);
    let run = repo.commit("newline", &[]);
    run.assert_code(1);
    run.assert_no_leak(&token);
    let forged: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("innocent.py:1:1") || l.starts_with("break.py:"))
        .collect();
    assert!(
        forged.is_empty(),
        "the file name broke the report into forged lines: {forged:?}\n{}",
        run.dump()
    );
}

// ==== E. faults fail closed ===============================================================

/// A repository with a key staged over a clean first commit.
fn repo_with_staged_key(test: &str) -> (TempRepo, String) {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test(test).github();
    repo.write("app.py", format!("x = 1\n{}", key_line(&token)));
    repo.add(&["app.py"]);
    (repo, token)
}

#[test]
fn e_a_corrupt_index_exits_2_and_says_how_to_fix_it() {
    let (repo, token) = repo_with_staged_key("scenario/corrupt_index");
    let index = repo.path(".git/index");
    let mut garbage = b"DIRC\0\0\0\x02\0\0\0\x05".to_vec();
    garbage.extend((0..200u32).map(|i| (i * 37 % 251) as u8));
    fs::write(&index, &garbage).unwrap();

    let run = repo.keyguard(&[]);
    run.assert_code(2);
    run.assert_stderr_contains("index");
    run.assert_stderr_contains("git reset");
    run.assert_no_leak(&token);
    assert_eq!(
        fs::read(&index).unwrap(),
        garbage,
        "keyguard changed the corrupt index"
    );

    // Plain text in place of the index: the same.
    fs::write(&index, "not an index at all\n").unwrap();
    repo.keyguard(&[])
        .assert_code(2)
        .assert_stderr_contains("index");

    let run = repo.commit("on a corrupt index", &[]);
    run.assert_failure();
    assert_eq!(repo.commit_count(), 1);
}

/// `index.lock` means another git command is writing the index. git itself
/// refuses to commit; a scan only reads, so it works and leaves the lock
/// alone (and does not take it).
#[test]
fn e_an_index_lock_does_not_stop_a_read_only_scan() {
    let (repo, token) = repo_with_staged_key("scenario/index_lock");
    let lock = repo.path(".git/index.lock");
    fs::write(&lock, b"in progress").unwrap();

    let run = repo.keyguard(&[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(
        fs::read(&lock).unwrap(),
        b"in progress",
        "keyguard touched index.lock"
    );

    let run = repo.commit("while locked", &[]);
    run.assert_failure();
    run.assert_stderr_contains("index.lock");
    run.assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 1);
    assert!(lock.exists());

    fs::remove_file(&lock).unwrap();
    let run = repo.commit("unlocked", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
}

fn loose_object_path(repo: &TempRepo, spec: &str) -> PathBuf {
    let id = repo.git(&["rev-parse", spec]).trim().to_string();
    repo.path(&format!(".git/objects/{}/{}", &id[..2], &id[2..]))
}

#[test]
fn e_a_missing_staged_object_exits_2_and_blocks_the_commit() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    repo.write("app.py", "x = 2\n");
    repo.add(&["app.py"]);
    let object = loose_object_path(&repo, ":app.py");
    fs::remove_file(&object).unwrap();

    let run = repo.keyguard(&[]);
    run.assert_code(2);
    run.assert_stderr_contains("app.py");
    run.assert_stderr_contains("git fsck");
    run.assert_output_lacks("0 findings");

    let run = repo.commit("missing object", &[]);
    run.assert_failure();
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn e_an_unreadable_config_exits_2_and_blocks_the_commit() {
    // A folder where the file should be: unreadable even for root.
    let repo = TempRepo::with_hook();
    fs::create_dir_all(repo.path(".keyguard.toml/oops")).unwrap();
    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    let run = repo.keyguard(&[]);
    run.assert_code(2);
    run.assert_stderr_contains(".keyguard.toml");
    let run = repo.commit("config is a folder", &[]);
    run.assert_failure();
    run.assert_stderr_contains(".keyguard.toml");
    assert!(repo.head_is_unborn());

    // A file without read permission.
    let repo = TempRepo::with_hook();
    repo.write(".keyguard.toml", "disabled_rules = [\"github-token\"]\n");
    let config = repo.path(".keyguard.toml");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&config).is_ok() {
        // Root (or CAP_DAC_OVERRIDE) reads it anyway: nothing to test.
        eprintln!(
            "running with privileges that ignore file modes: skipping the unreadable-config check"
        );
        fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
        return;
    }
    let token = Keys::for_test("scenario/unreadable_config").github();
    repo.write("app.py", key_line(&token));
    repo.add(&["app.py"]);

    let run = repo.keyguard(&[]);
    run.assert_code(2);
    run.assert_stderr_contains(".keyguard.toml");
    let run = repo.commit("config unreadable", &[]);
    run.assert_failure();
    run.assert_stderr_contains(".keyguard.toml");
    run.assert_no_leak(&token);
    assert!(repo.head_is_unborn());
    fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn e_a_keyguard_killed_by_a_signal_blocks_the_commit() {
    let repo = TempRepo::with_hook();
    let killer = repo.base().join("killed-keyguard");
    fs::write(&killer, "#!/bin/sh\nkill -9 $$\n").unwrap();
    fs::set_permissions(&killer, fs::Permissions::from_mode(0o755)).unwrap();
    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);

    let run = git_env(
        &repo,
        &["commit", "-m", "clean, but the scanner dies"],
        &[("KEYGUARD_BIN", killer.to_str().unwrap())],
    );
    run.assert_failure();
    assert!(
        repo.head_is_unborn(),
        "a commit went through with the scanner killed"
    );

    // The same commit with the real binary goes through: the setup is sound.
    repo.commit("clean", &[]).assert_success();
    assert_eq!(repo.commit_count(), 1);
}

// ==== F. a scan never writes ===============================================================

/// What must not change: the index (bytes and mtime), what `git status`
/// says, the object store's listing and the hooks folder's contents.
#[derive(Debug, PartialEq)]
struct RepoState {
    index: Option<(Vec<u8>, SystemTime)>,
    status: String,
    objects: Vec<(PathBuf, u64)>,
    hooks: BTreeMap<PathBuf, (Vec<u8>, u32)>,
}

fn list_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

fn repo_state(repo: &TempRepo) -> RepoState {
    let index_path = repo.path(".git/index");
    let index = fs::read(&index_path).ok().map(|bytes| {
        (
            bytes,
            fs::metadata(&index_path).unwrap().modified().unwrap(),
        )
    });
    // GIT_OPTIONAL_LOCKS=0: `git status` itself must not refresh the index.
    let status = git_env(
        repo,
        &["status", "--porcelain=v1", "--untracked-files=all"],
        &[("GIT_OPTIONAL_LOCKS", "0")],
    );
    let objects = list_files(&repo.path(".git/objects"))
        .into_iter()
        .map(|p| {
            let len = fs::metadata(&p).unwrap().len();
            (p, len)
        })
        .collect();
    let hooks = list_files(&repo.hooks_dir())
        .into_iter()
        .map(|p| {
            let meta = fs::metadata(&p).unwrap();
            let content = fs::read(&p).unwrap();
            (p, (content, meta.permissions().mode()))
        })
        .collect();
    RepoState {
        index,
        status: format!("{}{}", status.code, status.stdout),
        objects,
        hooks,
    }
}

#[track_caller]
fn assert_scans_never_write(label: &str, repo: &TempRepo, expected_code: i32) {
    let index = repo.path(".git/index");
    if index.exists() {
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_200_000_000);
        fs::File::options()
            .write(true)
            .open(&index)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
    let before = repo_state(repo);
    for args in [
        &[][..],
        &["--staged", "--format", "json"][..],
        &["--format", "sarif"][..],
        &["-q"][..],
    ] {
        let run = repo.keyguard(args);
        run.assert_code(expected_code);
        let after = repo_state(repo);
        assert!(after == before, "{label}: keyguard {args:?} changed the repository\nbefore: {before:#?}\nafter: {after:#?}");
    }
    // `--all` scans the working tree: same promise.
    repo.keyguard(&["--all"]);
    assert!(
        repo_state(repo) == before,
        "{label}: keyguard --all changed the repository"
    );
}

#[test]
fn f_scans_never_write_in_clean_finding_and_failing_repositories() {
    // Unborn HEAD, nothing staged.
    let repo = TempRepo::with_hook();
    assert_scans_never_write("empty", &repo, 0);

    // Clean change staged, disk differs from the index.
    let repo = TempRepo::with_hook();
    repo.seed(&[("a.py", b"x = 1\n")]);
    repo.write("a.py", "x = 2\n");
    repo.add(&["a.py"]);
    repo.write("a.py", "x = 3\n");
    repo.write("untracked.py", "y = 1\n");
    assert_scans_never_write("clean", &repo, 0);

    // A finding.
    let (repo, _) = repo_with_staged_key("scenario/never_writes/finding");
    assert_scans_never_write("finding", &repo, 1);

    // A config error.
    let repo = TempRepo::with_hook();
    repo.write(".keyguard.toml", "disabled_rule = [\"github-token\"]\n");
    repo.write("a.py", "x = 1\n");
    repo.add(&["a.py"]);
    assert_scans_never_write("bad config", &repo, 2);

    // A missing object.
    let repo = TempRepo::with_hook();
    repo.seed(&[("a.py", b"x = 1\n")]);
    repo.write("a.py", "x = 2\n");
    repo.add(&["a.py"]);
    fs::remove_file(loose_object_path(&repo, ":a.py")).unwrap();
    assert_scans_never_write("missing object", &repo, 2);
}

// ==== G. property: a key anywhere in generated text is found where it is =====================

fn github_token(rng: &mut Rng) -> String {
    expand(&["ghp", "{{b62crc:30}}"].join("_"), rng).unwrap()
}

/// A random printable ASCII line, without `"` (so the key's quotes are the
/// only ones around it).
fn random_line(rng: &mut Rng) -> String {
    let len = rng.below(90);
    (0..len)
        .map(|_| {
            let c = (0x20 + rng.below(0x5f)) as u8 as char;
            if c == '"' {
                '\''
            } else {
                c
            }
        })
        .collect()
}

fn random_eol(rng: &mut Rng) -> &'static str {
    if rng.below(2) == 0 {
        "\n"
    } else {
        "\r\n"
    }
}

/// Text of random lines with random line ends, and the key inserted in one
/// of them: returns (text, the key's 1-based line and column).
fn text_with_key(rng: &mut Rng, token: &str, final_eol: bool) -> (String, usize, usize) {
    let lines = 1 + rng.below(40);
    let key_at = rng.below(lines);
    let mut text = String::new();
    let mut position = (0, 0);
    for i in 0..lines {
        if i == key_at {
            let prefix = random_line(rng);
            position = (i + 1, prefix.chars().count() + 3);
            text.push_str(&format!("{prefix} \"{token}\" {}", random_line(rng)));
        } else {
            text.push_str(&random_line(rng));
        }
        if i + 1 < lines || final_eol {
            text.push_str(random_eol(rng));
        }
    }
    (text, position.0, position.1)
}

/// `keyguard PATH` (through the library): 200 generated files, each with one
/// key, each found at its line and column, and nothing else found.
#[test]
fn g_property_a_key_in_generated_text_is_found_at_its_line_and_column() {
    let scanner =
        Scanner::from_config(&Config::default(), keyguard::detect::Profile::Bulk).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::seeded(0x6b65_7967_7561_7264);
    let mut expected = BTreeMap::new();
    let mut files = Vec::new();
    for i in 0..200 {
        let token = github_token(&mut rng);
        let final_eol = rng.below(3) != 0;
        let (text, line, col) = text_with_key(&mut rng, &token, final_eol);
        let name = format!("case{i:03}.txt");
        let path = dir.path().join(&name);
        fs::write(&path, &text).unwrap();
        expected.insert(name.clone(), (line, col, token));
        files.push(DiskFile {
            display: name.clone(),
            path,
            repo_path: name,
        });
    }
    let report = scanner.scan_files(&files, &keyguard::progress::Progress::hidden());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.stats.files_scanned, 200);

    let mut by_file: BTreeMap<&str, Vec<(u32, usize, &str)>> = BTreeMap::new();
    for f in &report.findings {
        by_file
            .entry(f.path.as_str())
            .or_default()
            .push((f.line, f.column, f.rule_id.as_str()));
    }
    for (name, (line, col, _)) in &expected {
        let got = by_file.get(name.as_str()).cloned().unwrap_or_default();
        assert!(
            got.contains(&(*line as u32, *col, "github-token")),
            "{name}: key at {line}:{col} not found; findings: {got:?}\n{}",
            fs::read_to_string(dir.path().join(name))
                .unwrap()
                .replace(&expected[name].2, "<<KEY>>")
        );
        assert!(
            got.iter().all(|(l, _, _)| *l as usize == *line),
            "{name}: findings on other lines: {got:?}"
        );
    }
}

/// The staged path: the added lines of an edit that inserts a key line
/// into generated text are exactly that line, and the detector, fed those
/// lines with their first line number, reports the key where it is in the
/// new text.
#[test]
fn g_property_an_inserted_key_line_is_the_only_added_line_and_is_found_there() {
    use keyguard::git::staged::added_lines;
    let scanner =
        Scanner::from_config(&Config::default(), keyguard::detect::Profile::Bulk).unwrap();
    let detector = scanner.detector();
    let mut rng = Rng::seeded(0x0add_ed11_4e55);
    for case in 0..200 {
        let token = github_token(&mut rng);
        // The old text always ends its last line: appending after a line
        // without a newline changes that line too (see the D scenario).
        let lines = 1 + rng.below(40);
        let mut old_lines: Vec<String> = (0..lines)
            .map(|_| format!("{}{}", random_line(&mut rng), random_eol(&mut rng)))
            .collect();
        // Make lines distinct so the diff has one answer.
        for (i, l) in old_lines.iter_mut().enumerate() {
            l.insert_str(0, &format!("{i}:"));
        }
        let at = rng.below(lines + 1);
        let prefix = random_line(&mut rng);
        let inserted = format!("{prefix} \"{token}\" tail{}", random_eol(&mut rng));
        let old: String = old_lines.concat();
        let mut new_lines = old_lines.clone();
        new_lines.insert(at, inserted.clone());
        let new: String = new_lines.concat();

        let runs = added_lines(&old, &new);
        assert_eq!(runs.len(), 1, "case {case}: {runs:?}");
        let run = &runs[0];
        assert_eq!(run.first_line as usize, at + 1, "case {case}");
        assert_eq!(&new[run.start..run.end], inserted, "case {case}");

        let mut matches = Vec::new();
        detector.scan_into(&new[run.start..run.end], run.first_line, &mut matches);
        let found: Vec<(u32, usize, &str)> = matches
            .iter()
            .map(|m| (m.line, m.column, detector.rules()[m.rule].id.as_ref()))
            .collect();
        assert!(
            found.contains(&((at + 1) as u32, prefix.chars().count() + 3, "github-token")),
            "case {case}: {found:?}"
        );
    }
}
