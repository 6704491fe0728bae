//! In a large repository (an index over 1 MB) git itself compares the index
//! with HEAD (`git diff-index --cached`, which skips unchanged folders via
//! the cache-tree). `KEYGUARD_LARGE_INDEX_BYTES=0` takes that path in these
//! small repositories, so both paths answer the same questions.

use crate::util::{Keys, Run, TempRepo};

fn commit_via_git_path(repo: &TempRepo, args: &[&str]) -> Run {
    let mut cmd = repo.git_command(args);
    cmd.env("KEYGUARD_LARGE_INDEX_BYTES", "0");
    Run::of(cmd)
}

fn line(token: &str) -> String {
    format!("TOKEN = \"{token}\"\n")
}

#[test]
fn the_git_comparison_path_blocks_keys_and_scans_only_added_lines() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("large_index/basics");
    repo.write("app.py", "a = 1\nb = 2\n");
    repo.write("docs/old.md", "one\ntwo\nthree\nfour\n");
    repo.git(&["add", "-A"]);
    commit_via_git_path(&repo, &["commit", "-m", "init"]).assert_code(0);

    // A key added in the middle of a file: blocked at its line and column.
    let token = keys.stripe();
    repo.write("app.py", format!("a = 1\n{}b = 2\n", line(&token)));
    repo.git(&["add", "app.py"]);
    let run = commit_via_git_path(&repo, &["commit", "-m", "key"]);
    run.assert_code(1);
    run.assert_stderr_contains("app.py:2:10  stripe-secret-key");
    run.assert_no_leak(&token);

    // Fixed on disk but still staged: the index is what counts.
    repo.write("app.py", "a = 1\nb = 2\nc = 3\n");
    commit_via_git_path(&repo, &["commit", "-m", "still staged"]).assert_code(1);

    // `git commit -a` (a temporary index): the fix is what gets committed.
    commit_via_git_path(&repo, &["commit", "-a", "-m", "fixed"]).assert_code(0);

    // A rename with one new line adds only that line.
    repo.git(&["mv", "docs/old.md", "docs/new.md"]);
    repo.write("docs/new.md", "one\ntwo\nthree\nfour\nfive\n");
    repo.git(&["add", "-A"]);
    let mut cmd = repo.keyguard_command(&["--format", "json"]);
    cmd.env("KEYGUARD_LARGE_INDEX_BYTES", "0");
    let run = Run::of(cmd);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["stats"]["files_scanned"], 1, "{doc:#}");
    assert_eq!(
        doc["stats"]["bytes_scanned"], 5,
        "only `five\\n` is added: {doc:#}"
    );
}

#[test]
fn the_git_comparison_path_skips_deletions_symlinks_and_binary_files() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("large_index/kinds");
    let token = keys.stripe();
    repo.write("gone.py", line(&token));
    repo.git(&["add", "-A"]);
    commit_via_git_path(&repo, &["commit", "--no-verify", "-m", "old key"]).assert_code(0);

    repo.git(&["rm", "-q", "gone.py"]);
    repo.write(
        "blob.bin",
        [0u8, 1, 2, 3]
            .iter()
            .chain(line(&keys.stripe()).as_bytes())
            .copied()
            .collect::<Vec<u8>>(),
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", repo.path("link")).unwrap();
    repo.git(&["add", "-A"]);
    let mut cmd = repo.keyguard_command(&["--format", "json"]);
    cmd.env("KEYGUARD_LARGE_INDEX_BYTES", "0");
    let run = Run::of(cmd);
    run.assert_code(0);
    assert_eq!(run.json()["stats"]["binary_skipped"], 1);
}
