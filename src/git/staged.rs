//! The staged change: what the next commit adds compared with HEAD.
//!
//! Content comes from index blobs, never from the working tree; the blobs
//! are handed over as bytes, and [`crate::lines`] finds the added lines.

use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, FileMode};

use std::collections::HashSet;
use std::sync::Mutex;

use git2::{Oid, Repository, Tree};
use rayon::prelude::*;

use super::delta::{FileBlobs, FileDelta};
use super::{path_text, read_blob, Repo};

/// An index this large (bytes; about 10,000 entries) is compared with HEAD
/// by git itself (unless HEAD is unborn: then there is no tree to skip), which skips unchanged folders through the index's
/// cache-tree; libgit2 walks every entry and every tree instead (tens of
/// milliseconds in a 30,000-file repository).
const LARGE_INDEX: u64 = 1 << 20;

/// The staged change once compared with HEAD: which files it adds or
/// changes, before any of them is read.
pub struct StagedChange<'r> {
    pub(super) repo: &'r Repository,
    pub(super) deltas: Vec<FileDelta>,
}

impl StagedChange<'_> {
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

    /// Reads every file, on every core when there are many.
    pub fn read(self) -> Result<Vec<FileBlobs>> {
        load_changed_files(self.repo, self.deltas, None, |file| file)
    }

    /// Reads every file and hands each to `each` on the thread that read
    /// it, as soon as it is read: a large change is then never held whole,
    /// and reading and scanning share the cores without waiting for each
    /// other.
    pub fn read_each<T: Send>(self, each: impl Fn(FileBlobs) -> T + Sync + Send) -> Result<Vec<T>> {
        load_changed_files(self.repo, self.deltas, None, each)
    }
}

/// Counted for a staged file whose size the comparison did not give.
const UNKNOWN_FILE_SIZE: u64 = 16 * 1024;

impl Repo {
    /// Compares the index with HEAD: the files the next commit adds or
    /// changes, not read yet. Deletions add nothing and are left out; so
    /// are submodules and symlinks, whose "content" is a commit id or a
    /// path.
    pub fn staged_change(&self) -> Result<StagedChange<'_>> {
        let deltas = self.staged_deltas()?;
        Ok(StagedChange {
            repo: &self.repo,
            deltas,
        })
    }

    fn staged_deltas(&self) -> Result<Vec<FileDelta>> {
        let head_tree = self.head_tree()?;
        if let Some(deltas) = self.staged_deltas_from_cache_tree(head_tree.as_ref()) {
            note_comparison("the index file and its cache-tree");
            return Ok(deltas);
        }
        if self.index_size() > Self::large_index_threshold() && head_tree.is_some() {
            if let Ok(deltas) = self.staged_deltas_from_git_cli() {
                note_comparison("git diff-index");
                return Ok(deltas);
            }
            // No usable git on PATH: libgit2 gives the same answer, slower.
        }
        let index = self.index_to_commit()?;
        let mut options = DiffOptions::new();
        options
            .include_typechange(true)
            .ignore_submodules(true)
            .context_lines(0);
        let mut diff = self
            .repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))
            .context("cannot compare the index with HEAD")?;
        // Exact and near renames: a moved file adds only what changed in it.
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))
            .context("cannot detect renamed files")?;
        note_comparison("libgit2");
        // `git add -N` entries are placeholders that a commit leaves out.
        let intent_to_add: HashSet<String> = index
            .iter()
            .filter(|e| e.flags_extended & INDEX_ENTRY_INTENT_TO_ADD != 0)
            .map(|e| path_text(&e.path))
            .collect();
        let mut deltas = diff_deltas(&diff);
        deltas.retain(|d| !intent_to_add.contains(&d.new_path));
        Ok(deltas)
    }

    /// The index size from which git compares it with HEAD;
    /// `KEYGUARD_LARGE_INDEX_BYTES` overrides it (tests use 0 to take
    /// git's path in small repositories).
    fn large_index_threshold() -> u64 {
        std::env::var("KEYGUARD_LARGE_INDEX_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(LARGE_INDEX)
    }

    fn index_size(&self) -> u64 {
        std::fs::metadata(self.index_path()).map_or(0, |m| m.len())
    }

    /// The index file git is about to commit (see `index_to_commit`).
    fn index_path(&self) -> std::path::PathBuf {
        std::env::var_os("GIT_INDEX_FILE")
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| self.repo.path().join("index"))
    }

    /// The staged change read straight from the index file, skipping
    /// folders its cache-tree marks as unchanged (see `index_diff`).
    /// `None` when that cannot answer (renames, a split or sparse index, a
    /// corrupt file; or `KEYGUARD_NO_CACHE_TREE` is set, for tests): the
    /// paths below then answer, and report errors.
    fn staged_deltas_from_cache_tree(&self, head: Option<&Tree<'_>>) -> Option<Vec<FileDelta>> {
        if std::env::var_os("KEYGUARD_NO_CACHE_TREE").is_some() {
            return None;
        }
        let file = std::fs::File::open(self.index_path()).ok()?;
        // Mapped, not read: a large index is then parsed without copying it.
        // SAFETY: git never rewrites an index in place (it writes a new
        // file and renames it over the old one), so the mapping cannot
        // change or shrink under us.
        let bytes = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        super::index_diff::staged_deltas(&self.repo, &bytes, head)
            .map_err(|why| {
                note_comparison(&format!(
                    "something else: the index file could not answer ({why})"
                ))
            })
            .ok()
    }

    /// `git diff-index --cached --raw -z -M HEAD`: git's own comparison of
    /// the index (`GIT_INDEX_FILE` is inherited) with HEAD. The plumbing
    /// command reads no user diff settings (external tools, colour,
    /// prefixes) and starts faster than `git diff`; no locks are taken.
    fn staged_deltas_from_git_cli(&self) -> Result<Vec<FileDelta>> {
        let raw = self.git_output(&[
            "diff-index",
            "--cached",
            "--raw",
            "-z",
            "-M",
            "--no-abbrev",
            "--ignore-submodules=all",
            // `git add -N` placeholders are not part of the commit.
            "--ita-invisible-in-index",
            "HEAD",
        ])?;
        parse_raw_diff(&raw)
    }
}

/// `KEYGUARD_TIMING`: which of the three ways compared the index with HEAD
/// (the tests check that the fast one is taken when it can be).
fn note_comparison(how: &str) {
    if std::env::var_os("KEYGUARD_TIMING").is_some() {
        eprintln!("keyguard: timing: index compared with HEAD through {how}");
    }
}

/// Parses `git diff --raw -z` records:
/// `:<old mode> <new mode> <old id> <new id> <status>\0<path>\0`, with a
/// second path for renames and copies (`R100\0<old>\0<new>\0`).
fn parse_raw_diff(raw: &[u8]) -> Result<Vec<FileDelta>> {
    let mut fields = raw.split(|&b| b == 0);
    let mut deltas = Vec::new();
    while let Some(header) = fields.next() {
        if header.is_empty() {
            continue;
        }
        let header = std::str::from_utf8(header).context("unexpected git diff output")?;
        let parts: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
        let [_old_mode, new_mode, old_id, new_id, status] = parts.as_slice() else {
            anyhow::bail!("unexpected git diff record: {header}");
        };
        let first = fields.next().context("git diff record without a path")?;
        let (old_path, path) = if status.starts_with('R') || status.starts_with('C') {
            let second = fields.next().context("git diff rename without a target")?;
            (Some(path_text(first)), path_text(second))
        } else {
            (None, path_text(first))
        };
        let is_blob = matches!(*new_mode, "100644" | "100755");
        if status.starts_with('D') || !is_blob {
            continue;
        }
        let old_id = Oid::from_str(old_id)?;
        let old_is_blob =
            !old_id.is_zero() && matches!(parts[0].trim_start_matches(':'), "100644" | "100755");
        deltas.push(FileDelta {
            new_id: Oid::from_str(new_id)?,
            new_path: path,
            old_id: old_is_blob.then_some(old_id),
            old_path,
            size_hint: None,
            other_parents: Vec::new(),
        });
    }
    Ok(deltas)
}

/// The files a diff adds or changes, with their added lines. Deletions add
/// nothing and are left out; so are submodules and symlinks, whose
/// "content" is a commit id or a path. With `seen`, a (old blob, new blob)
/// pair already diffed elsewhere (a cherry-pick, a rebased copy) is skipped.
pub(super) fn changed_files(
    repo: &Repository,
    diff: &git2::Diff<'_>,
    seen: Option<&Mutex<HashSet<(Oid, Oid)>>>,
) -> Result<Vec<FileBlobs>> {
    load_changed_files(repo, diff_deltas(diff), seen, |file| file)
}

/// libgit2's `GIT_INDEX_ENTRY_INTENT_TO_ADD` extended flag.
const INDEX_ENTRY_INTENT_TO_ADD: u16 = 1 << 13;

/// The added and changed blobs of a diff, before loading.
fn diff_deltas(diff: &git2::Diff<'_>) -> Vec<FileDelta> {
    let mut deltas = Vec::new();
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) {
            continue;
        }
        let new = delta.new_file();
        if !matches!(new.mode(), FileMode::Blob | FileMode::BlobExecutable) {
            continue;
        }
        let old = delta.old_file();
        let old_is_blob =
            matches!(old.mode(), FileMode::Blob | FileMode::BlobExecutable) && !old.id().is_zero();
        let path = path_text(new.path_bytes().unwrap_or_default());
        let old_path = old
            .path_bytes()
            .map(path_text)
            .filter(|p| matches!(delta.status(), Delta::Renamed | Delta::Copied) && *p != path);
        deltas.push(FileDelta {
            new_id: new.id(),
            new_path: path,
            old_id: old_is_blob.then(|| old.id()),
            old_path,
            size_hint: Some(new.size()),
            other_parents: Vec::new(),
        });
    }
    deltas
}

/// Reads both sides of each delta, keeps the added lines, and hands each
/// file to `each`.
fn load_changed_files<T: Send>(
    repo: &Repository,
    deltas: Vec<FileDelta>,
    seen: Option<&Mutex<HashSet<(Oid, Oid)>>>,
    each: impl Fn(FileBlobs) -> T + Sync + Send,
) -> Result<Vec<T>> {
    // A mode change (same blob at the same path) adds no line. A rename
    // without changes is kept: the scanner reads the whole file when it
    // left an allowed path.
    let deltas = deltas
        .into_iter()
        .filter(|d| d.old_path.is_some() || d.old_id != Some(d.new_id));
    let deltas: Vec<FileDelta> = match seen {
        Some(seen) => deltas
            .into_iter()
            .filter(|d| {
                let pair = (d.old_id.unwrap_or(Oid::ZERO_SHA1), d.new_id);
                seen.lock().unwrap_or_else(|e| e.into_inner()).insert(pair)
            })
            .collect(),
        None => deltas.collect(),
    };
    if deltas.len() < PARALLEL_LOAD_FILES {
        return deltas
            .into_iter()
            .map(|delta| load_changed_file(repo, delta).map(&each))
            .collect();
    }
    // Many files (a large staged change): read and diff them on every core.
    // git2 handles are not shared between threads: each worker thread
    // opens its own, once (opening costs more than reading a small file).
    let git_dir = repo.path().to_path_buf();
    let handles: Vec<Mutex<Option<Repository>>> = (0..rayon::current_num_threads())
        .map(|_| Mutex::new(None))
        .collect();
    deltas
        .into_par_iter()
        .map(|delta| {
            let slot = rayon::current_thread_index().unwrap_or(0) % handles.len();
            let mut handle = handles[slot].lock().unwrap_or_else(|e| e.into_inner());
            if handle.is_none() {
                let opened = Repository::open(&git_dir).map_err(|e| {
                    anyhow::anyhow!("cannot open {}: {}", git_dir.display(), e.message())
                })?;
                *handle = Some(opened);
            }
            let worker = handle.as_ref().expect("opened above");
            let file = load_changed_file(worker, delta)?;
            // Scanning needs no handle: let the next file on this thread
            // wait for nothing.
            drop(handle);
            Ok(each(file))
        })
        .collect()
}

/// From this many changed files on, they are loaded in parallel.
const PARALLEL_LOAD_FILES: usize = 16;

fn load_changed_file(repo: &Repository, delta: FileDelta) -> Result<FileBlobs> {
    let path = delta.new_path;
    let new = read_blob(repo, delta.new_id, &path)?;
    let old = match delta.old_id {
        Some(id) => Some(read_blob(repo, id, &path)?),
        None => None,
    };
    let other_parents = delta
        .other_parents
        .iter()
        .map(|id| id.map(|id| read_blob(repo, id, &path)).transpose())
        .collect::<Result<_>>()?;
    Ok(FileBlobs {
        path,
        old_path: delta.old_path,
        new,
        old,
        other_parents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_diff_records() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let zero = "0".repeat(40);
        let raw = format!(
            ":100644 100644 {a} {b} M\0src/x.py\0:000000 100644 {zero} {b} A\0new file.txt\0\
             :100644 100644 {a} {b} R087\0old.py\0moved.py\0:100644 000000 {a} {zero} D\0gone.py\0\
             :120000 120000 {a} {b} M\0link\0"
        );
        let deltas = parse_raw_diff(raw.as_bytes()).unwrap();
        let summary: Vec<(&str, Option<&str>, bool)> = deltas
            .iter()
            .map(|d| {
                (
                    d.new_path.as_str(),
                    d.old_path.as_deref(),
                    d.old_id.is_some(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("src/x.py", None, true),
                ("new file.txt", None, false),
                ("moved.py", Some("old.py"), true)
            ]
        );
    }
}
