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
    repo.stage("app.py", "x = 1\n");
    let mut cmd = repo.git_command(&["commit", "-m", "clean"]);
    cmd.env("KEYGUARD_BIN", &wrapper);
    let run = crate::util::Run::of(cmd);
    run.assert_success();
    assert_eq!(fs::read_to_string(&marker).unwrap(), "foreign\nkeyguard\n");

    // A key: both run, keyguard blocks.
    let token = Keys::for_test("chained").github();
    repo.stage("app.py", format!("x = 1\nGH = \"{token}\"\n"));
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
    repo.commit_allowed("key, unguarded");
    assert_eq!(fs::read_to_string(&marker).unwrap(), "foreign\n");
}

#[test]
fn a_failing_chained_hook_still_blocks_the_commit() {
    let repo = TempRepo::new();
    let marker = repo.base().join("marker");
    let hook = repo.hooks_dir().join("pre-commit");
    write_hook(&hook, &foreign_hook(&marker, 3), 0o755);
    repo.install();

    repo.stage("app.py", "x = 1\n");
    repo.commit_blocked("clean but the other hook fails");
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
    repo.stage("app.py", format!("GH = \"{token}\"\n"));
    repo.commit_allowed("no hook any more");

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
    repo.stage("app.py", format!("GH = \"{token}\"\n"));
    let run = repo.commit_blocked("key");
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

    repo.stage("app.py", "x = 1\n");
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
    repo.stage("app.py", "x = 1\n");
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
    repo.stage("app.py", "x = 1\n");
    repo.commit_allowed("clean");
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

// ---- every commit hook, and the shim's protocol -------------------------------

/// The hooks `keyguard install` puts in by default.
const COMMIT_HOOKS: [&str; 3] = ["pre-commit", "pre-merge-commit", "pre-applypatch"];

#[test]
fn install_puts_in_every_commit_hook_chained_and_uninstall_restores_them() {
    let repo = TempRepo::new();
    let marker = repo.base().join("marker");
    let merge_hook = repo.hooks_dir().join("pre-merge-commit");
    let original = foreign_hook(&marker, 0);
    write_hook(&merge_hook, &original, 0o700);

    let run = repo.install();
    for name in COMMIT_HOOKS {
        let shim = fs::read_to_string(repo.hooks_dir().join(name)).unwrap();
        assert!(
            shim.contains(&format!("hook={name}\n")),
            "{name} is not keyguard's shim for {name}\n{}",
            run.dump()
        );
    }
    assert!(!repo.hooks_dir().join("pre-push").exists());
    assert_eq!(
        fs::read(repo.hooks_dir().join("pre-merge-commit.keyguard-chained")).unwrap(),
        original
    );
    run.assert_stderr_contains("pre-merge-commit.keyguard-chained");

    repo.keyguard(&["uninstall"]).assert_success();
    assert_eq!(fs::read(&merge_hook).unwrap(), original);
    assert_eq!(mode_of(&merge_hook), 0o700);
    for name in ["pre-commit", "pre-applypatch"] {
        assert!(!repo.hooks_dir().join(name).exists(), "{name} left behind");
    }
    assert!(!repo
        .hooks_dir()
        .join("pre-merge-commit.keyguard-chained")
        .exists());
}

#[test]
fn a_shim_of_the_previous_version_is_updated_in_place_not_chained() {
    let repo = TempRepo::new();
    let bin = keyguard_bin().display().to_string();
    for (name, old) in [
        ("pre-commit", include_str!("../hooks/v1/pre-commit")),
        ("pre-push", include_str!("../hooks/v1/pre-push")),
    ] {
        write_hook(
            &repo.hooks_dir().join(name),
            old.replace("@KEYGUARD_BIN@", &bin).as_bytes(),
            0o755,
        );
    }
    let run = repo.keyguard(&["install", "--pre-push"]);
    run.assert_success();
    for name in ["pre-commit", "pre-push"] {
        assert!(
            !repo
                .hooks_dir()
                .join(format!("{name}.keyguard-chained"))
                .exists(),
            "the old {name} shim was chained as a foreign hook\n{}",
            run.dump()
        );
        let shim = fs::read_to_string(repo.hooks_dir().join(name)).unwrap();
        assert!(shim.contains("--hook-protocol=1"), "{name} not updated");
    }
}

#[test]
fn an_edited_shim_is_somebody_elses_hook_and_is_kept() {
    let repo = TempRepo::with_hook();
    let hook = repo.hooks_dir().join("pre-commit");
    let edited = format!(
        "{}\n# my own addition\n",
        fs::read_to_string(&hook).unwrap()
    );
    fs::write(&hook, &edited).unwrap();
    repo.keyguard(&["install", "--force"]).assert_success();
    assert_eq!(
        fs::read_to_string(repo.hooks_dir().join("pre-commit.keyguard-chained")).unwrap(),
        edited
    );
    repo.keyguard(&["uninstall"]).assert_success();
    assert_eq!(fs::read_to_string(&hook).unwrap(), edited);
}

/// A program named keyguard that is not keyguard: the crates.io crate of
/// that name is a placeholder that prints this and exits 0.
fn impostor(dir: &Path) -> std::path::PathBuf {
    fs::create_dir_all(dir).unwrap();
    let path = dir.join("keyguard");
    write_hook(&path, b"#!/bin/sh\necho 'Hello, world!'\nexit 0\n", 0o755);
    path
}

/// Runs the installed `hook` directly, as git would, from the repository root.
fn run_hook(repo: &TempRepo, hook: &str, env: &[(&str, &str)]) -> crate::util::Run {
    let mut cmd = crate::util::isolated_command(repo.hooks_dir().join(hook), &repo.home);
    cmd.current_dir(&repo.root);
    for (k, v) in env {
        cmd.env(k, v);
    }
    crate::util::Run::of(cmd)
}

#[test]
fn an_impostor_at_keyguard_bin_blocks_the_commit_with_exit_2() {
    let repo = TempRepo::with_hook();
    let fake = impostor(&repo.base().join("fake"));
    let fake = fake.to_str().unwrap();
    repo.stage("app.py", "x = 1\n");
    for hook in COMMIT_HOOKS {
        let run = run_hook(&repo, hook, &[("KEYGUARD_BIN", fake)]);
        run.assert_code(2);
        run.assert_stderr_contains("did not answer as keyguard does (exit 0)");
        run.assert_stderr_contains(fake);
    }
    let mut cmd = repo.git_command(&["commit", "-m", "clean"]);
    cmd.env("KEYGUARD_BIN", fake);
    let run = crate::util::Run::of(cmd);
    run.assert_failure();
    run.assert_stderr_contains("the commit is blocked");
    assert!(
        repo.head_is_unborn(),
        "the impostor's exit 0 let a commit in"
    );
}

#[test]
fn an_impostor_on_path_blocks_the_commit_with_exit_2() {
    let repo = TempRepo::with_hook();
    // The path the shim was written with is gone: it falls back to PATH.
    let hook = repo.hooks_dir().join("pre-commit");
    let bin = keyguard_bin().display().to_string();
    let shim = fs::read_to_string(&hook).unwrap();
    fs::write(&hook, shim.replace(&bin, "/nonexistent/keyguard")).unwrap();
    let fake_dir = repo.base().join("fake-bin");
    impostor(&fake_dir);
    let path = format!("{}:{}", fake_dir.display(), path_without_keyguard());

    repo.stage("app.py", "x = 1\n");
    let run = run_hook(&repo, "pre-commit", &[("PATH", &path)]);
    run.assert_code(2);
    run.assert_stderr_contains("not keyguard");
    let mut cmd = repo.git_command(&["commit", "-m", "clean"]);
    cmd.env("PATH", &path);
    crate::util::Run::of(cmd).assert_failure();
    assert!(repo.head_is_unborn());
}

#[test]
fn a_missing_binary_exits_2_and_the_real_binary_answers_0_or_1() {
    let repo = TempRepo::new();
    repo.keyguard(&["install", "--pre-push"]).assert_success();
    let path = path_without_keyguard();
    repo.stage("app.py", "x = 1\n");
    for hook in COMMIT_HOOKS.iter().chain(&["pre-push"]) {
        let run = run_hook(
            &repo,
            hook,
            &[("KEYGUARD_BIN", "/nonexistent/keyguard"), ("PATH", &path)],
        );
        run.assert_code(2);
        run.assert_stderr_contains("cannot find the keyguard binary");
    }
    run_hook(&repo, "pre-commit", &[]).assert_code(0);
    let token = Keys::for_test("protocol_real").github();
    repo.stage("app.py", format!("GH = \"{token}\"\n"));
    let run = run_hook(&repo, "pre-commit", &[]);
    run.assert_code(1);
    run.assert_human_finding(Stream::Stderr, "app.py", 1, 7, "github-token", &token);
    // A scan that cannot be done answers 2, not 1.
    repo.write(".keyguard.toml", "this is = = not toml\n");
    run_hook(&repo, "pre-commit", &[]).assert_code(2);
}

#[test]
fn an_impostor_blocks_the_push() {
    let repo = TempRepo::new();
    repo.keyguard(&["install", "--pre-push"]).assert_success();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let remote = repo.base().join("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    let fake = impostor(&repo.base().join("fake"));
    let mut cmd = repo.git_command(&["push", "-q", "origin", "main"]);
    cmd.env("KEYGUARD_BIN", &fake);
    let run = crate::util::Run::of(cmd);
    run.assert_failure();
    run.assert_stderr_contains("the push is blocked");
    // The real binary lets the clean push through.
    repo.git(&["push", "-q", "origin", "main"]);
}

#[test]
fn protocol_exit_codes_only_when_the_shim_asks() {
    // Outside the protocol, the exit codes stay 0/1/2 for scripts and CI.
    let repo = TempRepo::new();
    repo.keyguard(&["--staged"]).assert_code(0);
    repo.keyguard(&["--staged", "--hook-protocol=1"])
        .assert_code(10);
    repo.keyguard(&["--hook=pre-commit", "--hook-protocol=1"])
        .assert_code(10);
    repo.keyguard(&["--staged", "--hook-protocol=9"])
        .assert_code(2);
}

/// `keyguard uninstall` takes out every hook keyguard put in, the pre-push
/// hook of `install --pre-push` too, and leaves a foreign pre-push alone.
#[test]
fn uninstall_removes_every_hook_keyguard_installed() {
    let repo = TempRepo::new();
    repo.keyguard(&["install", "--pre-push"]).assert_success();
    let hooks = repo.hooks_dir();
    for hook in [
        "pre-commit",
        "pre-merge-commit",
        "pre-applypatch",
        "pre-push",
    ] {
        assert!(hooks.join(hook).exists(), "{hook} was not installed");
    }
    repo.keyguard(&["uninstall"])
        .assert_success()
        .assert_stderr_contains("removed the pre-push hook");
    for hook in [
        "pre-commit",
        "pre-merge-commit",
        "pre-applypatch",
        "pre-push",
    ] {
        assert!(!hooks.join(hook).exists(), "{hook} is still there");
    }
    // Somebody else's pre-push hook is not keyguard's to remove, nor to
    // mention when pre-push was not asked for.
    std::fs::write(hooks.join("pre-push"), "#!/bin/sh\nexit 0\n").unwrap();
    repo.install();
    let run = repo.keyguard(&["uninstall"]);
    run.assert_success().assert_output_lacks("pre-push");
    assert!(
        hooks.join("pre-push").exists(),
        "a foreign pre-push hook was removed"
    );
}
