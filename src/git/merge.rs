//! Merge commits. What a merge adds is what its result holds that no parent
//! had: the `++` lines of `git diff --cc`, where a line counts as added only
//! if it is added relative to every parent. What one side brings was added,
//! and scanned, in that side's own commits; an evil merge or a conflict
//! resolution that writes something new is the merge's own.
//!
//! For the commit being made, the first parent is HEAD; git names the
//! others in `.git/MERGE_HEAD` when `git commit` concludes a merge, and only
//! in `GITHEAD_<id>` environment variables while `git merge` runs its
//! pre-merge-commit hook (MERGE_HEAD is written after it).
//!
//! This module finds the parents and, for each changed file, its blob in
//! each of them, for the commit being made and for the merges of history
//! ([`super::history`]); [`crate::lines`] keeps the lines added relative to
//! all.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use git2::{Oid, Tree};

use super::delta::FileDelta;
use super::staged::StagedChange;
use super::Repo;

impl Repo {
    /// What the next commit adds: the staged change, and when that commit
    /// concludes a merge, only the lines added relative to every parent.
    /// `pre_merge_commit`: run from git's pre-merge-commit hook, where the
    /// merged commits are in `GITHEAD_*` variables.
    pub fn next_commit_change(&self, pre_merge_commit: bool) -> Result<StagedChange<'_>> {
        let mut change = self.staged_change()?;
        let heads = self.merge_heads(pre_merge_commit)?;
        if heads.is_empty() {
            return Ok(change);
        }
        let trees = heads
            .iter()
            .map(|id| {
                self.repo
                    .find_commit(*id)
                    .and_then(|commit| commit.tree())
                    .map_err(|e| {
                        anyhow!(
                            "cannot read the tree of merged commit {id}: {}",
                            e.message()
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        keep_what_the_merge_adds(&mut change.deltas, &trees);
        Ok(change)
    }

    /// The parents other than HEAD of the commit being made, if it
    /// concludes a merge: MERGE_HEAD's lines, or (from the pre-merge-commit
    /// hook, before git writes MERGE_HEAD) the `GITHEAD_<id>` variables.
    fn merge_heads(&self, pre_merge_commit: bool) -> Result<Vec<Oid>> {
        let path = self.git_dir().join("MERGE_HEAD");
        let mut heads = Vec::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    heads.push(
                        self.merged_commit(line)
                            .with_context(|| format!("in {}", path.display()))?,
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()));
            }
        }
        if pre_merge_commit && heads.is_empty() {
            for hex in &self.githead_names {
                heads.push(
                    self.merged_commit(hex)
                        .context("in the GITHEAD_* variables git merge sets")?,
                );
            }
            heads.sort(); // the environment's order is arbitrary
        }
        let head = self.head_commit()?;
        heads.retain(|id| Some(*id) != head);
        heads.dedup();
        Ok(heads)
    }

    fn merged_commit(&self, hex: &str) -> Result<Oid> {
        super::parse_id(hex)
            .ok()
            .and_then(|id| self.repo.find_commit(id).ok())
            .map(|commit| commit.id())
            .ok_or_else(|| {
                anyhow!(
                    "the merged commit {:?} is not a commit in this repository",
                    hex.escape_debug().to_string()
                )
            })
    }
}

/// Keeps the files of a merge's diff with its first parent that the merge
/// itself adds to, each with its blob in every other parent (whose trees
/// are `other_parents`): a file exactly as one parent has it adds nothing
/// relative to that parent, so nothing the merge adds. [`crate::lines`]
/// then keeps the lines added relative to all of them. The one computation
/// of a merge's additions, for the commit being made and for history.
pub(super) fn keep_what_the_merge_adds(deltas: &mut Vec<FileDelta>, other_parents: &[Tree<'_>]) {
    deltas.retain_mut(|delta| {
        let ids: Vec<Option<Oid>> = other_parents
            .iter()
            .map(|tree| blob_in(tree, &delta.new_path, delta.old_path.as_deref()))
            .collect();
        if ids.contains(&Some(delta.new_id)) {
            return false;
        }
        delta.other_parents = ids;
        true
    });
}

/// The blob a parent's tree holds at `path`, or (when the merge result
/// renamed the file relative to HEAD) at the path it came from.
fn blob_in(tree: &Tree<'_>, path: &str, old_path: Option<&str>) -> Option<Oid> {
    let entry = tree
        .get_path(Path::new(path))
        .ok()
        .or_else(|| tree.get_path(Path::new(old_path?)).ok())?;
    matches!(entry.filemode(), 0o100644 | 0o100755).then(|| entry.id())
}
