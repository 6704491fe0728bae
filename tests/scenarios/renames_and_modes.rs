//! Renames, copies, mode changes and symlinks: only what a commit really
//! adds is scanned, a symlink is not followed, and moving a key out of an
//! allowed folder does not launder it.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::key_line;
use crate::util::{position_of, Keys, Stream, TempRepo};

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
fn a_rename_plus_one_new_line_scans_only_that_line() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/rename_plus_line");
    let (old, new) = (keys.github(), keys.github());
    let content = committed_key_file(&repo, "settings.py", &old);

    // Renamed with a clean line added: allowed.
    repo.git(&["mv", "settings.py", "config.py"]);
    repo.stage("config.py", format!("{content}extra = 1\n"));
    repo.commit_allowed("rename and a line")
        .assert_no_leak(&old);
    assert_eq!(repo.commit_count(), 2);

    // Renamed again with a new key: only the new line is reported.
    fs::create_dir_all(repo.path("app")).unwrap();
    repo.git(&["mv", "config.py", "app/config.py"]);
    let edited = format!("{content}extra = 1\n{}", key_line(&new));
    repo.stage("app/config.py", &edited);
    let run = repo.commit_blocked("rename and a key");
    assert_eq!(position_of(&edited, &new), (12, 7));
    run.assert_human_finding(Stream::Stderr, "app/config.py", 12, 7, "github-token", &new)
        .assert_output_lacks("app/config.py:2:")
        .assert_no_leak(&old)
        .assert_stderr_contains("1 finding");
}

#[test]
fn a_mode_only_change_is_allowed() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/chmod").github();
    committed_key_file(&repo, "run.sh", &token);
    let path = repo.path("run.sh");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    repo.add(&["run.sh"]);
    assert!(repo
        .git(&["diff", "--cached", "--summary"])
        .contains("mode change 100644 => 100755"));

    repo.commit_allowed("make it executable")
        .assert_no_leak(&token)
        .assert_output_lacks("github-token");
    assert_eq!(repo.commit_count(), 2);
}

/// A symlink's blob is its target path. keyguard does not follow it: not
/// in the staged scan, and not in `--all`.
#[test]
fn a_symlink_to_a_key_file_outside_the_repository_is_not_followed() {
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

    repo.commit_allowed("a link")
        .assert_no_leak(&token)
        .assert_output_lacks("github-token");
    assert_eq!(repo.commit_count(), 1);

    repo.keyguard(&["--all"])
        .assert_code(0)
        .assert_no_leak(&token);
}

/// config.rs covers a pure rename out of an allowed folder. Here the move
/// comes with an edit (a near rename, which git still pairs), and a copy
/// (a new file): both land in `src/` and the old key is reported.
#[test]
fn rename_laundering_out_of_an_allowed_path_is_blocked() {
    let repo = TempRepo::with_hook();
    repo.stage(".keyguard.toml", "[allow]\npaths = [\"fixtures/**\"]\n");
    let token = Keys::for_test("scenario/laundering").github();
    committed_key_file(&repo, "fixtures/tokens.py", &token);

    // Moved with one clean line added.
    fs::create_dir_all(repo.path("src")).unwrap();
    repo.git(&["mv", "fixtures/tokens.py", "src/tokens.py"]);
    let content = String::from_utf8(repo.read("src/tokens.py")).unwrap();
    repo.stage("src/tokens.py", format!("{content}more = 1\n"));
    repo.commit_blocked("move into src").assert_human_finding(
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
    repo.commit_blocked("copy into src")
        .assert_human_finding(Stream::Stderr, "src/copy.py", 2, 7, "github-token", &token)
        .assert_output_lacks("fixtures/");
}
