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

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use git2::{Oid, Tree};

use super::staged::{added_lines, AddedLines, ChangedContent, ChangedFile, StagedChange};
use super::{read_blob, Repo};
use crate::text::{decode, Decoded};

/// The other parents' versions of each file that the merge result changes
/// relative to HEAD, in the order of the parents. `None` for a parent
/// without the file or with a binary one: every line of the result is then
/// added relative to that parent.
pub struct OtherParents {
    files: HashMap<String, Vec<Option<String>>>,
}

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
        let mut files = HashMap::new();
        let mut kept = Vec::new();
        for delta in change.deltas {
            let ids: Vec<Option<Oid>> = trees
                .iter()
                .map(|tree| blob_in(tree, &delta.new_path, delta.old_path.as_deref()))
                .collect();
            // Exactly as one parent has it: nothing added relative to that
            // parent, so nothing the merge itself adds.
            if ids.contains(&Some(delta.new_id)) {
                continue;
            }
            let texts = ids
                .iter()
                .map(|id| match id {
                    Some(id) => match decode(&read_blob(&self.repo, *id, &delta.new_path)?) {
                        Decoded::Text(text) => Ok(Some(text.into_owned())),
                        Decoded::Binary => Ok(None),
                    },
                    None => Ok(None),
                })
                .collect::<Result<Vec<_>>>()?;
            files.insert(delta.new_path.clone(), texts);
            kept.push(delta);
        }
        change.deltas = kept;
        change.merge = Some(OtherParents { files });
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
            for (name, _) in std::env::vars_os() {
                if let Some(hex) = name.to_str().and_then(|n| n.strip_prefix("GITHEAD_")) {
                    heads.push(
                        self.merged_commit(hex)
                            .context("in the GITHEAD_* variables git merge sets")?,
                    );
                }
            }
            heads.sort(); // the environment's order is arbitrary
        }
        let head = self.repo.head().ok().and_then(|h| h.target());
        heads.retain(|id| Some(*id) != head);
        heads.dedup();
        Ok(heads)
    }

    fn merged_commit(&self, hex: &str) -> Result<Oid> {
        Oid::from_str(hex)
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

/// The blob a parent's tree holds at `path`, or (when the merge result
/// renamed the file relative to HEAD) at the path it came from.
fn blob_in(tree: &Tree<'_>, path: &str, old_path: Option<&str>) -> Option<Oid> {
    let entry = tree
        .get_path(Path::new(path))
        .ok()
        .or_else(|| tree.get_path(Path::new(old_path?)).ok())?;
    matches!(entry.filemode(), 0o100644 | 0o100755).then(|| entry.id())
}

/// Keeps, of a file's lines added relative to HEAD, those also added
/// relative to every other parent of the merge.
pub(super) fn restrict(merge: Option<&OtherParents>, mut file: ChangedFile) -> ChangedFile {
    let Some(parents) = merge.and_then(|m| m.files.get(&file.path)) else {
        return file;
    };
    if let ChangedContent::Text { text, added } = &mut file.content {
        for parent in parents.iter().flatten() {
            if added.is_empty() {
                break;
            }
            *added = intersect(text, added, &added_lines(parent, text));
        }
    }
    file
}

/// The lines of `new` added relative to every one of `parents` (`None`: a
/// parent without the file, or with a binary one): what a merge commit
/// adds. With no parent (a root commit), every line.
pub fn added_to_every_parent(new: &str, parents: &[Option<&str>]) -> Vec<AddedLines> {
    let mut added = if new.is_empty() {
        Vec::new()
    } else {
        vec![AddedLines {
            first_line: 1,
            start: 0,
            end: new.len(),
        }]
    };
    for parent in parents.iter().flatten() {
        if added.is_empty() {
            break;
        }
        added = intersect(new, &added, &added_lines(parent, new));
    }
    added
}

/// The lines in both `a` and `b`: sorted runs of whole lines of `text`.
fn intersect(text: &str, a: &[AddedLines], b: &[AddedLines]) -> Vec<AddedLines> {
    debug_assert!(a.iter().chain(b).all(|r| r.end <= text.len()));
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        // The later-starting run starts the overlap, and knows its line.
        let later = if a[i].start >= b[j].start {
            &a[i]
        } else {
            &b[j]
        };
        let end = a[i].end.min(b[j].end);
        if later.start < end {
            out.push(AddedLines {
                first_line: later.first_line,
                start: later.start,
                end,
            });
        }
        if a[i].end <= b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(new: &str, parents: &[Option<&str>]) -> Vec<(u32, String)> {
        added_to_every_parent(new, parents)
            .into_iter()
            .map(|r| (r.first_line, new[r.start..r.end].to_string()))
            .collect()
    }

    #[test]
    fn a_line_from_one_side_is_not_added_by_the_merge() {
        // Both sides edited a base of "a b c".
        let ours = "a\nOURS\nb\nc\n";
        let theirs = "a\nb\nc\nTHEIRS\n";
        let result = "a\nOURS\nb\nc\nTHEIRS\n";
        assert_eq!(added(result, &[Some(ours), Some(theirs)]), []);
    }

    #[test]
    fn an_evil_line_is_added_relative_to_every_parent() {
        let ours = "a\nOURS\nb\n";
        let theirs = "a\nb\nTHEIRS\n";
        let result = "a\nOURS\nEVIL\nb\nTHEIRS\n";
        assert_eq!(
            added(result, &[Some(ours), Some(theirs)]),
            [(3, "EVIL\n".into())]
        );
    }

    #[test]
    fn a_conflict_resolution_with_new_text_is_added() {
        let ours = "x = 1\n";
        let theirs = "x = 2\n";
        assert_eq!(
            added("x = 3\n", &[Some(ours), Some(theirs)]),
            [(1, "x = 3\n".into())]
        );
        assert_eq!(added("x = 2\n", &[Some(ours), Some(theirs)]), []);
    }

    #[test]
    fn octopus_and_missing_files() {
        let result = "one\ntwo\nthree\nfour\n";
        let parents = [Some("one\n"), Some("two\n"), None, Some("three\n")];
        assert_eq!(added(result, &parents), [(4, "four\n".into())]);
        assert_eq!(added(result, &[None]), [(1, result.into())]);
        assert_eq!(added(result, &[]), [(1, result.into())]);
        assert_eq!(added("", &[None]), []);
    }

    #[test]
    fn intersect_splits_runs_at_the_right_lines() {
        let text = "l1\nl2\nl3\nl4\nl5\n";
        let run = |first: u32, last: u32| AddedLines {
            first_line: first,
            start: 3 * (first as usize - 1),
            end: 3 * last as usize,
        };
        let a = [run(1, 3), run(5, 5)];
        let b = [run(2, 2), run(3, 5)];
        assert_eq!(intersect(text, &a, &b), [run(2, 2), run(3, 3), run(5, 5)]);
        assert_eq!(intersect(text, &a, &[]), []);
    }
}
