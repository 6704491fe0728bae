/*!
The pre-commit hook end to end: `git commit` in a repository where
`keyguard install` put the shim.

What is scanned is what the commit adds: the added lines of the index git
is about to commit (a temporary index for `git commit -a` and
`git commit <paths>`), compared with HEAD or, before the first commit, with
nothing. Removed lines, unchanged lines and what sits only on disk never
block.
*/

use crate::util::{position_of, Keys, Stream, TempRepo};

// ---- scenario 1: the first commit ------------------------------------------

#[test]
fn first_commit_with_a_github_token_is_blocked_and_head_stays_unborn() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("first_commit_github").github();
    let content = format!("import os\n\n# client settings\nGITHUB = \"{token}\"\n");
    repo.stage("app/client.py", &content);

    let run = repo.commit_blocked("add client");
    let (line, col) = position_of(&content, &token);
    assert_eq!((line, col), (4, 11));
    run.assert_human_finding(
        Stream::Stderr,
        "app/client.py",
        line,
        col,
        "github-token",
        &token,
    );
    run.assert_stderr_contains("1 finding");

    assert!(
        repo.head_is_unborn(),
        "a blocked first commit must not create HEAD"
    );
    // Nothing was lost: the file is still staged as it was.
    assert_eq!(repo.show_index("app/client.py"), content);
}

#[test]
fn first_commit_of_a_clean_file_goes_ahead() {
    let repo = TempRepo::with_hook();
    repo.stage(
        "app/client.py",
        "import os\n\nTOKEN = os.environ[\"GITHUB_TOKEN\"]\n",
    );

    let run = repo.commit_allowed("add client");
    run.assert_stderr_contains("0 findings");
    assert_eq!(repo.commit_count(), 1);
}

// ---- scenario 3: only added lines count ------------------------------------

/// A key already in HEAD (committed with --no-verify before keyguard knew).
fn repo_with_committed_key(test: &str) -> (TempRepo, String, String) {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test(test).github();
    let content = format!("A = 1\nGITHUB = \"{token}\"\nB = 2\n");
    repo.seed(&[("settings.py", content.as_bytes())]);
    assert_eq!(repo.commit_count(), 1);
    (repo, token, content)
}

#[test]
fn editing_another_line_of_a_file_with_a_committed_key_is_allowed() {
    let (repo, token, content) = repo_with_committed_key("edit_other_line");
    repo.stage("settings.py", content.replace("B = 2", "B = 3"));

    let run = repo.commit_allowed("change B");
    run.assert_no_leak(&token);
    run.assert_output_lacks("github-token");
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn deleting_the_line_that_holds_a_committed_key_is_allowed() {
    let (repo, token, _) = repo_with_committed_key("delete_key_line");
    repo.stage("settings.py", "A = 1\nB = 2\n");

    let run = repo.commit_allowed("remove the key");
    run.assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn renaming_a_file_with_a_committed_key_is_allowed() {
    let (repo, token, _) = repo_with_committed_key("rename_key_file");
    repo.git(&["mv", "settings.py", "config.py"]);

    let run = repo.commit_allowed("rename");
    run.assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn a_new_key_below_a_committed_one_is_reported_at_its_own_line() {
    let (repo, old_token, content) = repo_with_committed_key("new_key_below");
    let new_token = Keys::for_test("new_key_below/second").github();
    assert_ne!(old_token, new_token);
    let edited = format!("{content}C = 3\n\nOTHER = \"{new_token}\"\n");
    repo.stage("settings.py", &edited);

    let run = repo.commit_blocked("add another");
    run.assert_human_finding(
        Stream::Stderr,
        "settings.py",
        6,
        10,
        "github-token",
        &new_token,
    );
    assert_eq!(position_of(&edited, &new_token), (6, 10));
    // The committed key is not added by this commit: not reported.
    run.assert_output_lacks("settings.py:2:");
    run.assert_no_leak(&old_token);
    run.assert_stderr_contains("1 finding");
    assert_eq!(repo.commit_count(), 1);
}

// ---- scenario 4: the index, not the disk -------------------------------------

#[test]
fn a_key_only_on_disk_and_not_staged_does_not_block() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("key_only_on_disk").github();
    // Stage a clean change, then put a key on disk only (as after `git add -p`).
    repo.stage("app.py", "x = 2\n");
    repo.write("app.py", format!("x = 2\nGITHUB = \"{token}\"\n"));

    let run = repo.commit_allowed("x is 2");
    run.assert_no_leak(&token);
    assert_eq!(repo.show_head("app.py"), "x = 2\n");
}

#[test]
fn a_staged_key_removed_from_disk_but_not_restaged_still_blocks() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("staged_then_removed").github();
    let staged = format!("x = 1\n\nGITHUB = \"{token}\"\n");
    repo.stage("app.py", &staged);
    // The working file no longer has the key, but the index still does.
    repo.write("app.py", "x = 1\n");

    let run = repo.commit_blocked("oops");
    let (line, col) = position_of(&staged, &token);
    run.assert_human_finding(Stream::Stderr, "app.py", line, col, "github-token", &token);
    assert_eq!(repo.commit_count(), 1);
}

// ---- scenario 5: commits from a temporary index ------------------------------

#[test]
fn commit_all_scans_the_tracked_changes_it_stages() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("commit_all").github();
    // On disk only: `git commit -a` stages it into a temporary index.
    repo.write("app.py", format!("x = 1\nGITHUB = \"{token}\"\n"));

    let run = repo.commit_blocked_with("all", &["-a"]);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 11, "github-token", &token);
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn commit_all_leaves_out_untracked_files() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = Keys::for_test("commit_all_untracked").github();
    repo.write("app.py", "x = 2\n");
    // Not tracked, so `-a` does not commit it.
    repo.write("scratch.py", format!("GITHUB = \"{token}\"\n"));

    let run = repo.commit_allowed_with("all", &["-a"]);
    run.assert_no_leak(&token);
    assert_eq!(repo.show_head("app.py"), "x = 2\n");
}

#[test]
fn commit_with_a_pathspec_scans_that_path() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n"), ("other.py", b"y = 1\n")]);
    let token = Keys::for_test("commit_pathspec").github();
    repo.write("app.py", format!("x = 1\nGITHUB = \"{token}\"\n"));

    for extra in [
        &["app.py"][..],
        &["--only", "app.py"][..],
        &["-o", "--", "app.py"][..],
    ] {
        let run = repo.commit_blocked_with("paths", extra);
        run.assert_human_finding(Stream::Stderr, "app.py", 2, 11, "github-token", &token);
        assert_eq!(repo.commit_count(), 1, "git commit {extra:?} went through");
    }
}

#[test]
fn commit_with_a_pathspec_ignores_a_key_staged_in_another_file() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("secret.py", b"a = 1\n"), ("other.py", b"y = 1\n")]);
    let token = Keys::for_test("pathspec_other_file").github();
    let with_key = format!("a = 1\nGITHUB = \"{token}\"\n");
    repo.stage("secret.py", &with_key);
    repo.write("other.py", "y = 2\n");

    // `git commit other.py` commits other.py alone, from a temporary index
    // holding HEAD plus other.py: the staged key is not part of it.
    let run = repo.commit_allowed_with("only other", &["other.py"]);
    run.assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 2);
    assert_eq!(repo.show_head("other.py"), "y = 2\n");
    assert_eq!(repo.show_head("secret.py"), "a = 1\n");
    // The key is still staged, and the next plain commit is blocked.
    assert_eq!(repo.show_index("secret.py"), with_key);
    let run = repo.commit_blocked("the rest");
    run.assert_human_finding(Stream::Stderr, "secret.py", 2, 11, "github-token", &token);
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn commit_include_adds_to_the_index_and_so_scans_the_staged_key() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("secret.py", b"a = 1\n"), ("other.py", b"y = 1\n")]);
    let token = Keys::for_test("commit_include").github();
    repo.stage("secret.py", format!("a = 1\nGITHUB = \"{token}\"\n"));
    repo.write("other.py", "y = 2\n");

    let run = repo.commit_blocked_with("include", &["--include", "other.py"]);
    run.assert_human_finding(Stream::Stderr, "secret.py", 2, 11, "github-token", &token);
    assert_eq!(repo.commit_count(), 1);
}

// ---- scenario 7: inline allow markers ----------------------------------------

#[test]
fn inline_allow_markers_let_a_key_through() {
    for (i, marker) in [
        "# keyguard:allow",
        "// gitleaks:allow",
        "# pragma: allowlist secret",
    ]
    .iter()
    .enumerate()
    {
        let repo = TempRepo::with_hook();
        let token = Keys::for_test(&format!("inline_allow/{i}")).github();
        repo.stage(
            "fixture.txt",
            format!("header\nGITHUB = \"{token}\"  {marker}\n"),
        );

        let run = repo.commit_allowed("allowed");
        run.assert_no_leak(&token);
        assert_eq!(
            repo.commit_count(),
            1,
            "marker {marker:?} did not allow the line"
        );
    }
}

#[test]
fn an_inline_allow_marker_covers_only_its_own_line() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("inline_allow_one_line");
    let (allowed, reported) = (keys.github(), keys.github());
    let content = format!("A = \"{allowed}\"  # keyguard:allow\nB = \"{reported}\"\n");
    repo.stage("fixture.py", &content);

    let run = repo.commit_blocked("half allowed");
    run.assert_human_finding(
        Stream::Stderr,
        "fixture.py",
        2,
        6,
        "github-token",
        &reported,
    );
    run.assert_output_lacks("fixture.py:1:");
    run.assert_no_leak(&allowed);
    assert!(repo.head_is_unborn());
}

// ---- paths, file shapes and repository layouts -------------------------------

#[test]
fn unusual_file_names_are_reported_as_they_are() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("unusual_names").github();
    let path = "my dir/naïve file.py";
    repo.stage(path, format!("GH = \"{token}\"\n"));

    let run = repo.commit_blocked("odd name");
    run.assert_human_finding(Stream::Stderr, path, 1, 7, "github-token", &token);
}

#[test]
fn a_key_on_a_last_line_without_a_newline_is_found() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1")]);
    let token = Keys::for_test("no_final_newline").github();
    repo.stage("app.py", format!("x = 1\nGH = \"{token}\""));

    let run = repo.commit_blocked("no newline");
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
}

#[test]
fn untracking_a_committed_env_file_is_allowed() {
    let repo = TempRepo::with_hook();
    repo.seed(&[(".env", b"DEBUG=1\n"), ("app.py", b"x = 1\n")]);
    // The fix people are told to make: stop tracking it, ignore it.
    repo.git(&["rm", "-q", "--cached", ".env"]);
    repo.stage(".gitignore", ".env\n");

    let run = repo.commit_allowed("stop tracking .env");
    run.assert_output_lacks("secret-file");
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn a_commit_in_a_linked_worktree_is_scanned() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let worktree = repo.base().join("wt");
    repo.git(&["worktree", "add", "-q", worktree.to_str().unwrap()]);
    let token = Keys::for_test("worktree").github();
    std::fs::write(worktree.join("wt.py"), format!("GH = \"{token}\"\n")).unwrap();

    let in_worktree = |args: &[&str]| repo.git_in(&worktree, args);
    in_worktree(&["add", "wt.py"]).assert_success();
    let run = in_worktree(&["commit", "-m", "from the worktree"]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "wt.py", 1, 7, "github-token", &token);
    assert_eq!(
        in_worktree(&["rev-list", "--count", "HEAD"]).stdout.trim(),
        "1"
    );
}

// ---- index formats git may write ---------------------------------------------
//
// `git commit` hands the hook whatever index git wrote. Git writes version 4
// (`feature.manyFiles`), split indexes (`core.splitIndex`) and sparse
// indexes (`sparse-checkout --sparse-index`); the hook must read each, or at
// least not make every commit impossible.

/// Stages a clean file and then a key in a repository configured by
/// `configure`, and checks the clean commit goes through and the key is
/// blocked.
#[track_caller]
fn assert_hook_works_with(test: &str, configure: impl Fn(&TempRepo)) {
    let repo = TempRepo::with_hook();
    repo.seed(&[("a/app.py", b"x = 1\n"), ("b/other.py", b"y = 1\n")]);
    configure(&repo);

    repo.stage("a/clean.py", "z = 1\n");
    repo.commit_allowed("clean");
    assert_eq!(repo.commit_count(), 2);

    let token = Keys::for_test(test).github();
    repo.stage("a/key.py", format!("GH = \"{token}\"\n"));
    let run = repo.commit_blocked("key");
    run.assert_human_finding(Stream::Stderr, "a/key.py", 1, 7, "github-token", &token);
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn index_version_4_is_read() {
    assert_hook_works_with("index_v4", |repo| {
        repo.git(&["config", "index.version", "4"]);
        repo.git(&["update-index", "--index-version", "4"]);
        repo.git(&["config", "core.untrackedCache", "true"]);
        repo.git(&["update-index", "--untracked-cache"]);
    });
}

#[test]
fn split_index_is_read() {
    assert_hook_works_with("split_index", |repo| {
        repo.git(&["config", "core.splitIndex", "true"]);
        repo.git(&["update-index", "--split-index"]);
    });
}

#[test]
fn sparse_index_is_read() {
    assert_hook_works_with("sparse_index", |repo| {
        repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "a"]);
    });
}

// ---- under the pre-commit framework ------------------------------------------

/// The framework passes the names of the staged files; at commit time
/// (`PRE_COMMIT=1` from the framework, `GIT_INDEX_FILE` from git) keyguard
/// answers as its own hook does: what the commit adds, with the help that
/// names `SKIP=keyguard`. Without `GIT_INDEX_FILE` (`pre-commit run --files`)
/// the files are scanned whole.
#[test]
fn under_the_framework_at_commit_time_file_names_mean_the_staged_scan() {
    let repo = TempRepo::new();
    let token = Keys::for_test("framework_staged").github();
    repo.seed(&[("app.py", format!("GH = \"{token}\"\n").as_bytes())]);
    repo.stage("app.py", format!("GH = \"{token}\"\nTIMEOUT = 30\n"));
    let index = repo.git(&["rev-parse", "--git-path", "index"]);
    let committing = [("PRE_COMMIT", "1"), ("GIT_INDEX_FILE", index.trim())];

    let mut cmd = repo.keyguard_command(&["app.py"]);
    cmd.envs(committing);
    let run = crate::util::Run::of(cmd);
    run.assert_code(0);

    let mut cmd = repo.keyguard_command(&["app.py"]);
    cmd.env("PRE_COMMIT", "1");
    let run = crate::util::Run::of(cmd);
    run.assert_code(1).assert_no_leak(&token);

    repo.stage("new.py", format!("TOKEN = \"{token}\"\n"));
    let mut cmd = repo.keyguard_command(&["new.py"]);
    cmd.envs(committing);
    let run = crate::util::Run::of(cmd);
    run.assert_code(1)
        .assert_no_leak(&token)
        .assert_stderr_contains("SKIP=keyguard git commit");
}

/// The hint for a secrets file that is already tracked must untrack it:
/// `git restore --staged .env` would only unstage the change and leave the
/// file in the repository. The command it names does what it says.
#[test]
fn the_hint_for_a_tracked_env_file_untracks_it() {
    let repo = TempRepo::new();
    repo.seed(&[("README.md", b"# app\n"), (".env", b"DEBUG=1\n")]);
    repo.stage(".env", "DEBUG=0\n");
    let run = repo.keyguard(&[]);
    run.assert_code(1)
        .assert_stderr_contains("`git rm --cached .env`");
    repo.git(&["rm", "-q", "--cached", ".env"]);
    assert_eq!(repo.git(&["ls-files", ".env"]).trim(), "", "still tracked");
    assert!(repo.path(".env").exists(), "the file stays on disk");
    repo.keyguard(&[]).assert_code(0);
}
