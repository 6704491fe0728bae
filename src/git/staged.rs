//! The staged change: what the next commit adds compared with HEAD.
//!
//! Content comes from index blobs, never from the working tree; the blobs
//! are handed over as bytes, and [`crate::lines`] finds the added lines.
//!
//! One comparison for speed and fallbacks for what it cannot read, tried
//! in this order (see [`Comparison`]):
//! 1. the index file read directly, skipping the folders its cache-tree
//!    marks unchanged (`index_diff`): a small commit costs the same in a
//!    50-file and a 50,000-file repository, where libgit2 walks every entry
//!    and every tree (tens of milliseconds at 30,000 files);
//! 2. libgit2's diff, for what the first declines: renames, which need
//!    similarity detection, and index features it does not parse;
//! 3. libgit2's diff against an index rebuilt from `git ls-files --stage`,
//!    for split and sparse indexes, which libgit2 rejects.

use std::collections::HashSet;

use anyhow::{Context, Result};
use git2::{Repository, Tree};

use super::blobs::{load_changed_files, BlobReader, ChangedBlobs, PARALLEL_LOAD_FILES};
use super::delta::{added_lines_options, with_renames, FileDelta};
use super::{path_text, Repo};

/// How the index was compared with HEAD, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Comparison {
    /// The main path: the index file and its cache-tree.
    CacheTree,
    /// The fallback for what the cache-tree walk declines: libgit2's diff
    /// of HEAD with the index libgit2 reads.
    Libgit2,
    /// The fallback for an index libgit2 cannot read (split, sparse):
    /// libgit2's diff with an index rebuilt from `git ls-files --stage`.
    GitLsFiles,
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Comparison::CacheTree => "the index file and its cache-tree",
            Comparison::Libgit2 => "libgit2",
            Comparison::GitLsFiles => "an index rebuilt by git ls-files",
        })
    }
}

/// The staged change once compared with HEAD: which files it adds or
/// changes, before any of them is read.
pub struct StagedChange<'r> {
    pub(super) repo: &'r Repository,
    pub(super) blobs: &'r BlobReader,
    pub(super) deltas: Vec<FileDelta>,
    /// Which way the index was compared with HEAD.
    pub(super) comparison: Comparison,
}

impl StagedChange<'_> {
    /// Which way the index was compared with HEAD (for `--timing` and the
    /// tests that check the fast way is taken when it can be).
    pub fn comparison(&self) -> Comparison {
        self.comparison
    }

    /// Whether [`read`](Self::read) and [`read_each`](Self::read_each)
    /// spread the files over every core.
    pub fn reads_in_parallel(&self) -> bool {
        self.deltas.len() >= PARALLEL_LOAD_FILES
    }

    /// About how many bytes the staged files hold: the sizes git recorded
    /// in the index where known, a guess per file elsewhere. The added
    /// lines are at most this much.
    pub fn size_hint(&self) -> usize {
        self.deltas
            .iter()
            .map(|d| d.size_hint.unwrap_or(UNKNOWN_FILE_SIZE) as usize)
            .sum()
    }

    /// Reads every file, on every core when there are many (a large one
    /// is left to be streamed).
    pub fn read(self) -> Result<Vec<ChangedBlobs>> {
        load_changed_files(self.blobs, self.repo, self.deltas, |file| file)
    }

    /// Reads every file and hands each to `each` on the thread that read
    /// it, as soon as it is read: a large change is then never held whole,
    /// and reading and scanning share the cores without waiting for each
    /// other.
    pub fn read_each<T: Send>(
        self,
        each: impl Fn(ChangedBlobs) -> T + Sync + Send,
    ) -> Result<Vec<T>> {
        load_changed_files(self.blobs, self.repo, self.deltas, each)
    }
}

/// Counted for a staged file whose size the comparison did not give.
const UNKNOWN_FILE_SIZE: u64 = 16 * 1024;

/// libgit2's `GIT_INDEX_ENTRY_INTENT_TO_ADD` extended flag.
const INDEX_ENTRY_INTENT_TO_ADD: u16 = 1 << 13;

impl Repo {
    /// Compares the index with HEAD: the files the next commit adds or
    /// changes, not read yet. Deletions add nothing and are left out; so
    /// are submodules and symlinks, whose "content" is a commit id or a
    /// path.
    pub fn staged_change(&self) -> Result<StagedChange<'_>> {
        let (deltas, comparison) = self.staged_deltas()?;
        Ok(StagedChange {
            repo: &self.repo,
            blobs: &self.blobs,
            deltas,
            comparison,
        })
    }

    /// The first comparison of [`Comparison`]'s order, from the one the
    /// repository was opened with, that can answer.
    fn staged_deltas(&self) -> Result<(Vec<FileDelta>, Comparison)> {
        let head_tree = self.head_tree()?;
        if self.first_comparison == Comparison::CacheTree {
            if let Some(deltas) = self.staged_deltas_from_cache_tree(head_tree.as_ref()) {
                return Ok((deltas, Comparison::CacheTree));
            }
        }
        let (index, comparison) = if self.first_comparison == Comparison::GitLsFiles {
            (self.index_from_git_cli()?, Comparison::GitLsFiles)
        } else {
            self.index_to_commit()?
        };
        let diff = with_renames(|| {
            let mut options = added_lines_options();
            self.repo
                .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))
                .context("cannot compare the index with HEAD")
        })?;
        // `git add -N` entries are placeholders that a commit leaves out.
        let intent_to_add: HashSet<String> = index
            .iter()
            .filter(|e| e.flags_extended & INDEX_ENTRY_INTENT_TO_ADD != 0)
            .map(|e| path_text(&e.path))
            .collect();
        let mut deltas = FileDelta::from_diff(&diff);
        deltas.retain(|d| !intent_to_add.contains(&d.new_path));
        Ok((deltas, comparison))
    }

    /// The staged change read straight from the index file, skipping
    /// folders its cache-tree marks as unchanged (see `index_diff`).
    /// `None` when that cannot answer (renames, a split or sparse index, a
    /// corrupt file): the fallbacks then answer, and report errors.
    fn staged_deltas_from_cache_tree(&self, head: Option<&Tree<'_>>) -> Option<Vec<FileDelta>> {
        let file = std::fs::File::open(&self.index_file).ok()?;
        // Mapped, not read: a large index is then parsed without copying it.
        // SAFETY: git never rewrites an index in place (it writes a new
        // file and renames it over the old one), so the mapping cannot
        // change or shrink under us.
        let bytes = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        super::index_diff::staged_deltas(&self.repo, &bytes, head).ok()
    }
}
