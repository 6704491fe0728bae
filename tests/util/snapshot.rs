//! A snapshot of every file in a test's sandbox (the repository, its git
//! folder, its hooks and the test's `HOME`): content, mode and modification
//! time, plus what `git status` says. Taken before and after a scan, it
//! shows that the scan wrote nothing.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::TempRepo;

/// What one file looked like.
#[derive(Debug, PartialEq)]
struct FileState {
    modified: SystemTime,
    mode: u32,
    content: Vec<u8>,
}

/// Every file under the sandbox, and `git status`.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    files: BTreeMap<PathBuf, FileState>,
    status: String,
}

impl Snapshot {
    /// Takes the snapshot. The index's modification time is put in the
    /// past first (see [`age_index`]), so that a rewrite within the same
    /// second still shows.
    pub fn of(repo: &TempRepo) -> Snapshot {
        // GIT_OPTIONAL_LOCKS=0: `git status` itself must not refresh the index.
        let status = repo.git_env(
            &["status", "--porcelain=v1", "--untracked-files=all"],
            &[("GIT_OPTIONAL_LOCKS", "0")],
        );
        Snapshot {
            files: files_under(repo.base()),
            status: format!("{}{}", status.code, status.stdout),
        }
    }

    /// Asserts that nothing changed since `self` was taken; `what` names the
    /// command that ran in between.
    #[track_caller]
    pub fn assert_unchanged(&self, repo: &TempRepo, what: &str) {
        let now = Snapshot::of(repo);
        let changed: Vec<&PathBuf> = self
            .files
            .keys()
            .chain(now.files.keys())
            .filter(|p| self.files.get(*p) != now.files.get(*p))
            .collect();
        assert!(changed.is_empty(), "{what} wrote to: {changed:?}");
        assert_eq!(
            self.status, now.status,
            "{what} changed what `git status` says"
        );
    }
}

/// Puts the index's modification time in the past, so that any rewrite of
/// the index (even with the same bytes, in the same second) shows.
pub fn age_index(repo: &TempRepo) {
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
}

/// Every file (not folder) under `root`, keyed by its path from `root`.
fn files_under(root: &Path) -> BTreeMap<PathBuf, FileState> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            // Not following links: a link is a file here, its target elsewhere.
            let meta = fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.insert(
                    entry.path().strip_prefix(root).unwrap().to_path_buf(),
                    FileState {
                        modified: meta.modified().unwrap(),
                        mode: meta.permissions().mode(),
                        content: fs::read(entry.path()).unwrap_or_default(),
                    },
                );
            }
        }
    }
    out
}
