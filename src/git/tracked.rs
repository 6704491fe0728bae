//! The file list for `keyguard --all`: tracked files plus untracked files
//! that are not ignored, i.e. everything git tracks or would track.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use git2::{Status, StatusOptions};

use super::{path_text, Repo};

/// Git's mode bits for a symlink and a submodule (gitlink).
const MODE_SYMLINK: u32 = 0o120000;
const MODE_GITLINK: u32 = 0o160000;

impl Repo {
    /// Repository-relative paths, sorted. Symlinks and submodules are
    /// listed by git but skipped when read (they are not regular files).
    pub fn tracked_and_untracked_files(&self) -> Result<Vec<String>> {
        // One `git ls-files -co` is the fastest listing there is (git's
        // untracked cache, fsmonitor); libgit2 is the fallback where no git
        // is on PATH.
        if let Ok(paths) = self.ls_files(&["--cached", "--others", "--exclude-standard"]) {
            let unique: BTreeSet<String> = paths.into_iter().collect();
            return Ok(unique.into_iter().collect());
        }
        let (index, _) = self.index_to_commit()?;
        let mut paths = BTreeSet::new();
        for entry in index.iter() {
            if entry.mode == MODE_SYMLINK || entry.mode == MODE_GITLINK {
                continue;
            }
            paths.insert(path_text(&entry.path));
        }
        let mut options = StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(|e| anyhow!("cannot list untracked files: {}", e.message()))?;
        for entry in statuses.iter() {
            if entry.status().contains(Status::WT_NEW) {
                paths.insert(path_text(entry.path_bytes()));
            }
        }
        Ok(paths.into_iter().collect())
    }

    /// `git ls-files -z` with `args`, run at the working tree root.
    fn ls_files(&self, args: &[&str]) -> Result<Vec<String>> {
        let output = self.git_output(&[&["ls-files", "-z"], args].concat())?;
        Ok(output
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(path_text)
            .collect())
    }
}
