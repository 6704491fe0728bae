//! A scan never writes: not the index (bytes or modification time), not
//! the object store, not the hooks, nothing in the working tree or `HOME`,
//! whatever state the repository is in and whichever way it is scanned.

use std::fs;

use super::{key_line, loose_object_path};
use crate::util::snapshot::{age_index, Snapshot};
use crate::util::{Keys, TempRepo};

/// Every way of scanning, each of which must leave `repo` as it was: the
/// staged scans exit `staged_code`, the working-tree scans (`--all`, a
/// PATH) exit `disk_code`.
#[track_caller]
fn assert_no_scan_writes(repo: &TempRepo, staged_code: i32, disk_code: i32) {
    age_index(repo);
    let before = Snapshot::of(repo);
    for (args, code) in [
        (&[][..], staged_code),
        (&["--staged", "--format", "json"][..], staged_code),
        (&["--format", "sarif"][..], staged_code),
        (&["-q"][..], staged_code),
        (&["--all"][..], disk_code),
        (&["."][..], disk_code),
    ] {
        repo.keyguard(args).assert_code(code);
        before.assert_unchanged(repo, &format!("keyguard {args:?}"));
    }
}

#[test]
fn no_scan_writes_in_an_empty_repository() {
    // Unborn HEAD, nothing staged.
    assert_no_scan_writes(&TempRepo::with_hook(), 0, 0);
}

#[test]
fn no_scan_writes_with_a_clean_change_staged_and_the_disk_differing() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("a.py", b"x = 1\n")]);
    repo.stage("a.py", "x = 2\n");
    repo.write("a.py", "x = 3\n");
    repo.write("untracked.py", "y = 1\n");
    assert_no_scan_writes(&repo, 0, 0);
}

#[test]
fn no_scan_writes_with_a_finding() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("never_writes").github();
    repo.seed(&[("a.py", b"x = 1\n")]);
    repo.stage("a.py", "x = 2\n");
    repo.stage("b.py", key_line(&token));
    repo.write("a.py", "x = 3\n"); // disk differs from the index
    repo.write("untracked.py", "y = 1\n");
    assert_no_scan_writes(&repo, 1, 1);
}

#[test]
fn no_scan_writes_with_a_config_error() {
    let repo = TempRepo::with_hook();
    repo.write(".keyguard.toml", "disabled_rule = [\"github-token\"]\n");
    repo.stage("a.py", "x = 1\n");
    assert_no_scan_writes(&repo, 2, 2);
}

#[test]
fn no_scan_writes_with_a_missing_object() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("a.py", b"x = 1\n")]);
    repo.stage("a.py", "x = 2\n");
    fs::remove_file(loose_object_path(&repo, ":a.py")).unwrap();
    assert_no_scan_writes(&repo, 2, 0);
}
