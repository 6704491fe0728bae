//! What the repository holds, as opposed to the working tree: every file of
//! HEAD's tree and of the index, whole, for `keyguard baseline`, which must
//! accept nothing that exists only on disk (an untracked `.env`, an
//! unstaged edit); and the root commit that keys report fingerprints.

use std::collections::HashSet;

use anyhow::{anyhow, Result};
use git2::{Oid, TreeWalkMode, TreeWalkResult};

use super::delta::FileDelta;
use super::staged::StagedChange;
use super::{path_text, Repo};

/// Git's modes for a regular and an executable file: the only entries
/// whose content is text someone wrote (symlinks hold a path, submodules a
/// commit id).
const BLOB_MODES: [u32; 2] = [0o100644, 0o100755];

/// libgit2's `GIT_INDEX_ENTRY_INTENT_TO_ADD`: a `git add -N` placeholder.
const INTENT_TO_ADD: u16 = 1 << 13;

impl Repo {
    /// Every file of HEAD's tree and every file staged in the index (the
    /// one git is about to commit), each read whole, as a change that adds
    /// all of its lines. A file whose staged content differs from HEAD's is
    /// listed twice, once per content; unstaged edits and untracked files
    /// are not listed.
    pub fn committed_and_staged(&self) -> Result<StagedChange<'_>> {
        let mut seen: HashSet<(String, Oid)> = HashSet::new();
        let mut deltas = Vec::new();
        let mut add = |path: String, id: Oid, size: Option<u64>| {
            if seen.insert((path.clone(), id)) {
                deltas.push(FileDelta::whole(path, id, size));
            }
        };
        if let Some(tree) = self.head_tree()? {
            tree.walk(TreeWalkMode::PreOrder, |folder, entry| {
                if BLOB_MODES.contains(&(entry.filemode() as u32)) {
                    add(
                        format!("{folder}{}", path_text(entry.name_bytes())),
                        entry.id(),
                        None,
                    );
                }
                TreeWalkResult::Ok
            })
            .map_err(|e| anyhow!("cannot read the tree of HEAD: {}", e.message()))?;
        }
        let (index, comparison) = self.index_to_commit()?;
        for entry in index.iter() {
            let stage = (entry.flags >> 12) & 0x3;
            if stage != 0
                || entry.flags_extended & INTENT_TO_ADD != 0
                || !BLOB_MODES.contains(&entry.mode)
            {
                continue;
            }
            add(
                path_text(&entry.path),
                entry.id,
                Some(u64::from(entry.file_size)),
            );
        }
        Ok(StagedChange {
            repo: &self.repo,
            blobs: &self.blobs,
            deltas,
            comparison,
        })
    }

    /// The first commit of HEAD's first-parent history: the same in every
    /// full clone, and unknown to a reader who has only a report. `None`
    /// before the first commit, and in a shallow clone, whose oldest commit
    /// is only where the clone was cut. Merging an unrelated history adds a
    /// second parent, so it does not change this commit.
    pub fn first_root_commit(&self) -> Result<Option<String>> {
        if self.repo.is_shallow() {
            return Ok(None);
        }
        let Some(head) = self.head_commit()? else {
            return Ok(None);
        };
        let mut commit = self
            .repo
            .find_commit(head)
            .map_err(|e| anyhow!("cannot read the commit at HEAD: {}", e.message()))?;
        while commit.parent_count() > 0 {
            commit = commit
                .parent(0)
                .map_err(|e| anyhow!("cannot read a parent of {}: {}", commit.id(), e.message()))?;
        }
        Ok(Some(commit.id().to_string()))
    }
}
