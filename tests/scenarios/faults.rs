//! Faults fail closed, with a message that says what to do: a corrupt
//! index, a held `index.lock`, a missing object, an unreadable config, and
//! a scanner killed by a signal.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{key_line, loose_object_path, repo_with_a_key_staged_over_a_commit};
use crate::util::{Keys, Stream, TempRepo};

#[test]
fn a_corrupt_index_exits_2_and_says_how_to_fix_it() {
    let (repo, token) = repo_with_a_key_staged_over_a_commit("scenario/corrupt_index");
    let index = repo.path(".git/index");
    let mut garbage = b"DIRC\0\0\0\x02\0\0\0\x05".to_vec();
    garbage.extend((0..200u32).map(|i| (i * 37 % 251) as u8));
    fs::write(&index, &garbage).unwrap();

    repo.keyguard(&[])
        .assert_code(2)
        .assert_stderr_contains("index")
        .assert_stderr_contains("git reset")
        .assert_no_leak(&token);
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

    // git itself refuses (it cannot read the index either), so not exit 1.
    repo.commit("on a corrupt index", &[]).assert_failure();
    assert_eq!(repo.commit_count(), 1);
}

/// An index whose entries are out of order (two swapped, the checksum made
/// right again, as a buggy tool or a forged file would leave it): the fast
/// index reader refuses it rather than search entries that are not sorted,
/// and the scan still blocks the staged key, never exits 0.
#[test]
fn an_unsorted_index_never_passes_a_staged_key() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]);
    let token = Keys::for_test("scenario/unsorted_index").github();
    repo.stage("b.py", format!("y = 2\n{}", key_line(&token)));
    let index_path = repo.path(".git/index");
    let mut index = fs::read(&index_path).unwrap();
    // Version 2 entries: 62 bytes, the path, 1 to 8 NULs to a multiple of 8.
    let entry_len = |at: usize| {
        let name = u16::from_be_bytes([index[at + 60], index[at + 61]]) as usize & 0xfff;
        (62 + name + 8) & !7
    };
    assert_eq!(&index[..8], b"DIRC\0\0\0\x02");
    let (first, second) = (12, 12 + entry_len(12));
    assert_eq!(entry_len(first), entry_len(second), "same-length names");
    let len = entry_len(first);
    let (a, b) = (
        index[first..second].to_vec(),
        index[second..second + len].to_vec(),
    );
    assert_eq!(&a[62..66], b"a.py");
    index[first..second].copy_from_slice(&b);
    index[second..second + len].copy_from_slice(&a);
    let body = index.len() - 20;
    let checksum = sha1(&index[..body]);
    index[body..].copy_from_slice(&checksum);
    fs::write(&index_path, &index).unwrap();

    let run = repo.keyguard(&[]);
    assert!(
        [1, 2].contains(&run.code),
        "an unsorted index must block (1) or fail (2)\n{}",
        run.dump()
    );
    run.assert_no_leak(&token);
}

/// SHA-1 of `bytes` by `sha1sum` (an index file's trailer), hex-decoded.
fn sha1(bytes: &[u8]) -> [u8; 20] {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha1sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha1sum");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    let hex = String::from_utf8(output.stdout).unwrap();
    let mut id = [0u8; 20];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    id
}

/// `index.lock` means another git command is writing the index. git itself
/// refuses to commit; a scan only reads, so it works and leaves the lock
/// alone (and does not take it).
#[test]
fn an_index_lock_does_not_stop_a_read_only_scan() {
    let (repo, token) = repo_with_a_key_staged_over_a_commit("scenario/index_lock");
    let lock = repo.path(".git/index.lock");
    fs::write(&lock, b"in progress").unwrap();

    repo.keyguard(&[]).assert_code(1).assert_human_finding(
        Stream::Stderr,
        "app.py",
        2,
        7,
        "github-token",
        &token,
    );
    assert_eq!(
        fs::read(&lock).unwrap(),
        b"in progress",
        "keyguard touched index.lock"
    );

    repo.commit("while locked", &[])
        .assert_failure()
        .assert_stderr_contains("index.lock")
        .assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 1);
    assert!(lock.exists());

    fs::remove_file(&lock).unwrap();
    repo.commit_blocked("unlocked").assert_human_finding(
        Stream::Stderr,
        "app.py",
        2,
        7,
        "github-token",
        &token,
    );
}

#[test]
fn a_missing_staged_object_exits_2_and_blocks_the_commit() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    repo.stage("app.py", "x = 2\n");
    let object = loose_object_path(&repo, ":app.py");
    fs::remove_file(&object).unwrap();

    repo.keyguard(&[])
        .assert_code(2)
        .assert_stderr_contains("app.py")
        .assert_stderr_contains("git fsck")
        .assert_output_lacks("0 findings");

    repo.commit_blocked("missing object");
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn an_unreadable_config_exits_2_and_blocks_the_commit() {
    // A folder where the file should be: unreadable even for root.
    let repo = TempRepo::with_hook();
    fs::create_dir_all(repo.path(".keyguard.toml/oops")).unwrap();
    repo.stage("app.py", "x = 1\n");
    repo.keyguard(&[])
        .assert_code(2)
        .assert_stderr_contains(".keyguard.toml");
    repo.commit_blocked("config is a folder")
        .assert_stderr_contains(".keyguard.toml");
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
    repo.stage("app.py", key_line(&token));

    repo.keyguard(&[])
        .assert_code(2)
        .assert_stderr_contains(".keyguard.toml");
    repo.commit_blocked("config unreadable")
        .assert_stderr_contains(".keyguard.toml")
        .assert_no_leak(&token);
    assert!(repo.head_is_unborn());
    fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn a_keyguard_killed_by_a_signal_blocks_the_commit() {
    let repo = TempRepo::with_hook();
    let killer = repo.base().join("killed-keyguard");
    fs::write(&killer, "#!/bin/sh\nkill -9 $$\n").unwrap();
    fs::set_permissions(&killer, fs::Permissions::from_mode(0o755)).unwrap();
    repo.stage("app.py", "x = 1\n");

    repo.blocked(|repo| {
        repo.git_env(
            &["commit", "-m", "clean, but the scanner dies"],
            &[("KEYGUARD_BIN", killer.to_str().unwrap())],
        )
    });
    assert!(
        repo.head_is_unborn(),
        "a commit went through with the scanner killed"
    );

    // The same commit with the real binary goes through: the setup is sound.
    repo.commit_allowed("clean");
    assert_eq!(repo.commit_count(), 1);
}
