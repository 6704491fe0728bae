/*!
`keyguard install` and `keyguard uninstall`: the shim lands where git looks
for hooks (`core.hooksPath` included), a hook that was already there is kept
and run first, installing twice changes nothing, uninstalling restores the
old hook byte for byte, and a shim that cannot find the binary blocks the
commit instead of letting it through.
*/

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{keyguard_bin, path_without_keyguard, Keys, Stream, TempRepo};

/// A foreign hook that appends `foreign` to `marker` and exits with `code`.
/// It deliberately has odd bytes (a comment in UTF-8, no final newline) so a
/// byte-for-byte restore is meaningful.
fn foreign_hook(marker: &Path, code: i32) -> Vec<u8> {
    format!(
        "#!/bin/sh\n# team hook — checks formatting\necho foreign >> '{}'\nexit {code}",
        marker.display()
    )
    .into_bytes()
}

fn write_hook(path: &Path, bytes: &[u8], mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A wrapper around the real binary that first appends `keyguard` to
/// `marker`, so a test can see the order in which hooks ran.
fn logging_keyguard(repo: &TempRepo, marker: &Path) -> String {
    let wrapper = repo.base().join("keyguard-logging");
    let script = format!(
        "#!/bin/sh\necho keyguard >> '{}'\nexec '{}' \"$@\"\n",
        marker.display(),
        keyguard_bin().display()
    );
    write_hook(&wrapper, script.as_bytes(), 0o755);
    wrapper.display().to_string()
}

#[test]
fn install_writes_an_executable_shim_with_the_binary_path() {
    let repo = TempRepo::new();
    let run = repo.install();
    let hook = repo.root.join(".git/hooks/pre-commit");
    assert!(hook.exists(), "no hook\n{}", run.dump());
    assert_eq!(mode_of(&hook) & 0o111, 0o111, "the shim is not executable");
    let shim = fs::read_to_string(&hook).unwrap();
    assert!(shim.starts_with("#!/bin/sh"), "{shim}");
    assert!(
        shim.contains(&keyguard_bin().display().to_string()),
        "the shim does not name the binary:\n{shim}"
    );
    run.assert_stderr_contains("installed");
}

#[test]
fn existing_hook_is_chained_run_first_and_restored_on_uninstall() {
    let repo = TempRepo::new();
    let marker = repo.base().join("marker");
    let hook = repo.hooks_dir().join("pre-commit");
    let original = foreign_hook(&marker, 0);
    write_hook(&hook, &original, 0o750);

    let first = repo.install();
    first.assert_stderr_contains("installed");
    let after_first = fs::read(&hook).unwrap();
    assert_ne!(
        after_first, original,
        "install left the foreign hook in place of the shim"
    );
    let mut listing_after_first: Vec<_> = fs::read_dir(repo.hooks_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    listing_after_first.sort();

    // Installing again changes nothing at all.
    let second = repo.install();
    assert_eq!(
        fs::read(&hook).unwrap(),
        after_first,
        "second install changed the shim\n{}",
        second.dump()
    );
    let mut listing_after_second: Vec<_> = fs::read_dir(repo.hooks_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    listing_after_second.sort();
    assert_eq!(
        listing_after_first, listing_after_second,
        "second install added or removed files"
    );

    // A clean commit: the foreign hook runs, then keyguard.
    let wrapper = logging_keyguard(&repo, &marker);
    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    let mut cmd = repo.git_command(&["commit", "-m", "clean"]);
    cmd.env("KEYGUARD_BIN", &wrapper);
    let run = crate::util::Run::of(cmd);
    run.assert_success();
    assert_eq!(fs::read_to_string(&marker).unwrap(), "foreign\nkeyguard\n");

    // A key: both run, keyguard blocks.
    let token = Keys::for_test("chained").github();
    repo.write("app.py", format!("x = 1\nGH = \"{token}\"\n"));
    repo.add(&["app.py"]);
    let mut cmd = repo.git_command(&["commit", "-m", "key"]);
    cmd.env("KEYGUARD_BIN", &wrapper);
    let run = crate::util::Run::of(cmd);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 2, 7, "github-token", &token);
    assert_eq!(
        fs::read_to_string(&marker).unwrap(),
        "foreign\nkeyguard\nforeign\nkeyguard\n"
    );
    assert_eq!(repo.commit_count(), 1);

    // Uninstall puts the original back, bytes and mode.
    let run = repo.keyguard(&["uninstall"]);
    run.assert_success();
    assert_eq!(
        fs::read(&hook).unwrap(),
        original,
        "uninstall did not restore the hook byte for byte"
    );
    assert_eq!(mode_of(&hook), 0o750);
    let mut listing: Vec<_> = fs::read_dir(repo.hooks_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    listing.retain(|n| !n.to_string_lossy().ends_with(".sample"));
    assert_eq!(listing, ["pre-commit"], "uninstall left files behind");

    // And keyguard no longer runs: only the foreign hook does.
    fs::write(&marker, "").unwrap();
    let run = repo.commit("key, unguarded", &[]);
    run.assert_success();
    assert_eq!(fs::read_to_string(&marker).unwrap(), "foreign\n");
}

#[test]
fn a_failing_chained_hook_still_blocks_the_commit() {
    let repo = TempRepo::new();
    let marker = repo.base().join("marker");
    let hook = repo.hooks_dir().join("pre-commit");
    write_hook(&hook, &foreign_hook(&marker, 3), 0o755);
    repo.install();

    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    let run = repo.commit("clean but the other hook fails", &[]);
    run.assert_failure();
    assert_eq!(fs::read_to_string(&marker).unwrap(), "foreign\n");
    assert!(repo.head_is_unborn());
}

#[test]
fn uninstall_without_a_previous_hook_removes_the_shim() {
    let repo = TempRepo::new();
    repo.install();
    let hook = repo.hooks_dir().join("pre-commit");
    assert!(hook.exists());
    repo.keyguard(&["uninstall"]).assert_success();
    assert!(!hook.exists(), "the shim is still there");

    let token = Keys::for_test("uninstalled").github();
    repo.write("app.py", format!("GH = \"{token}\"\n"));
    repo.add(&["app.py"]);
    repo.commit("no hook any more", &[]).assert_success();

    // Uninstalling again is harmless.
    repo.keyguard(&["uninstall"]).assert_success();
}

#[test]
fn install_honours_core_hooks_path() {
    let repo = TempRepo::new();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    repo.install();
    assert!(
        repo.path(".githooks/pre-commit").exists(),
        "the shim is not in core.hooksPath"
    );
    assert!(
        !repo.path(".git/hooks/pre-commit").exists(),
        "the shim went to .git/hooks"
    );

    let token = Keys::for_test("hooks_path").github();
    repo.write("app.py", format!("GH = \"{token}\"\n"));
    repo.add(&["app.py"]);
    let run = repo.commit("key", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 1, 7, "github-token", &token);
}

#[test]
fn install_from_a_subdirectory_uses_the_repository_hooks_folder() {
    let repo = TempRepo::new();
    fs::create_dir_all(repo.path("src/deep")).unwrap();
    let mut cmd = repo.keyguard_command(&["install"]);
    cmd.current_dir(repo.path("src/deep"));
    crate::util::Run::of(cmd).assert_success();
    assert!(repo.path(".git/hooks/pre-commit").exists());
    assert!(!repo.path("src/deep/.git").exists());
}

#[test]
fn install_outside_a_repository_fails_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::util::isolated_command(keyguard_bin(), dir.path());
    cmd.current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .arg("install");
    let run = crate::util::Run::of(cmd);
    run.assert_code(2);
    run.assert_stderr_contains("not inside a git repository");
}

// ---- scenario 10: the shim cannot find the binary -----------------------------

#[test]
fn shim_pointing_at_a_missing_binary_blocks_the_commit() {
    let repo = TempRepo::with_hook();
    let hook = repo.hooks_dir().join("pre-commit");
    let shim = fs::read_to_string(&hook).unwrap();
    let bin = keyguard_bin().display().to_string();
    assert!(shim.contains(&bin));
    fs::write(&hook, shim.replace(&bin, "/nonexistent/keyguard")).unwrap();

    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    let mut cmd = repo.git_command(&["commit", "-m", "clean"]);
    cmd.env("PATH", path_without_keyguard());
    let run = crate::util::Run::of(cmd);
    run.assert_failure();
    run.assert_stderr_contains("cannot find the keyguard binary");
    run.assert_stderr_contains("/nonexistent/keyguard");
    assert!(repo.head_is_unborn(), "a commit went through unscanned");
}

#[test]
fn shim_with_keyguard_bin_set_to_a_missing_file_and_none_on_path_blocks() {
    let repo = TempRepo::with_hook();
    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    let mut cmd = repo.git_command(&["commit", "-m", "clean"]);
    cmd.env("PATH", path_without_keyguard())
        .env("KEYGUARD_BIN", "/nonexistent/keyguard");
    let run = crate::util::Run::of(cmd);
    run.assert_failure();
    run.assert_stderr_contains("cannot find the keyguard binary");
    assert!(repo.head_is_unborn(), "a commit went through unscanned");
}

#[test]
fn a_symlinked_hook_is_chained_and_restored_as_the_same_symlink() {
    let repo = TempRepo::new();
    let marker = repo.base().join("marker");
    write_hook(
        &repo.path("scripts/pre-commit"),
        &foreign_hook(&marker, 0),
        0o755,
    );
    let hook = repo.hooks_dir().join("pre-commit");
    let target = Path::new("../../scripts/pre-commit");
    std::os::unix::fs::symlink(target, &hook).unwrap();

    repo.install();
    assert!(
        !fs::symlink_metadata(&hook)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the shim should replace the link"
    );
    repo.write("app.py", "x = 1\n");
    repo.add(&["app.py"]);
    repo.commit("clean", &[]).assert_success();
    assert_eq!(
        fs::read_to_string(&marker).unwrap(),
        "foreign\n",
        "the linked hook did not run"
    );

    repo.keyguard(&["uninstall"]).assert_success();
    assert_eq!(
        fs::read_link(&hook).unwrap(),
        target,
        "the symlink was not restored as it was"
    );
}
