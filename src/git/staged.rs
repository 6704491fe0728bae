//! The staged change: what the next commit adds compared with HEAD.
//!
//! Content comes from index blobs, never from the working tree. Both sides
//! are decoded to text first, so that a UTF-16 file diffs line by line like
//! any other, and then only the added lines are kept.

use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, FileMode};
use imara_diff::{Algorithm, Diff, InternedInput, TokenSource};

use std::collections::HashSet;
use std::sync::Mutex;

use git2::{Oid, Repository, Tree};
use rayon::prelude::*;

use super::{path_text, read_blob, Repo};
use crate::text::{decode, decode_owned, Decoded};

/// One file that a change (the staged index, a commit) adds or modifies.
#[derive(Debug)]
pub struct ChangedFile {
    /// Path in the repository, `/`-separated.
    pub path: String,
    /// The path it was renamed or copied from, if any.
    pub old_path: Option<String>,
    pub content: ChangedContent,
}

impl ChangedFile {
    /// Bytes of added text (0 for binary files).
    pub fn added_len(&self) -> usize {
        match &self.content {
            ChangedContent::Binary => 0,
            ChangedContent::Text { added, .. } => added.iter().map(|run| run.end - run.start).sum(),
        }
    }
}

#[derive(Debug)]
pub enum ChangedContent {
    Binary,
    Text {
        /// The whole staged file, decoded.
        text: String,
        /// Runs of added lines: (first line number, byte range in `text`).
        added: Vec<AddedLines>,
    },
}

/// A run of consecutive added lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLines {
    pub first_line: u32,
    pub start: usize,
    pub end: usize,
}

/// An index this large (bytes; about 10,000 entries) is compared with HEAD
/// by git itself (unless HEAD is unborn: then there is no tree to skip), which skips unchanged folders through the index's
/// cache-tree; libgit2 walks every entry and every tree instead (tens of
/// milliseconds in a 30,000-file repository).
const LARGE_INDEX: u64 = 1 << 20;

/// One file a change adds or modifies: blob ids and paths, before loading.
pub(super) struct FileDelta {
    pub(super) new_id: Oid,
    pub(super) new_path: String,
    /// The blob it replaces (same path, or the rename/copy source).
    pub(super) old_id: Option<Oid>,
    /// Set when the file was renamed or copied from another path.
    pub(super) old_path: Option<String>,
    /// The new file's size, when the comparison gave it.
    pub(super) size_hint: Option<u64>,
}

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
    pub fn read(self) -> Result<Vec<ChangedFile>> {
        load_changed_files(self.repo, self.deltas, None, |file| file)
    }

    /// Reads every file and hands each to `each` on the thread that read
    /// it, as soon as it is read: a large change is then never held whole,
    /// and reading and scanning share the cores without waiting for each
    /// other.
    pub fn read_each<T: Send>(
        self,
        each: impl Fn(ChangedFile) -> T + Sync + Send,
    ) -> Result<Vec<T>> {
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
) -> Result<Vec<ChangedFile>> {
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
    each: impl Fn(ChangedFile) -> T + Sync + Send,
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

fn load_changed_file(repo: &Repository, delta: FileDelta) -> Result<ChangedFile> {
    let path = delta.new_path;
    let new_bytes = read_blob(repo, delta.new_id, &path)?;
    let old_bytes = match delta.old_id {
        Some(id) => Some(read_blob(repo, id, &path)?),
        None => None,
    };
    let content = added_content(old_bytes.as_deref(), new_bytes);
    Ok(ChangedFile {
        path,
        old_path: delta.old_path,
        content,
    })
}

/// Decodes both sides and finds the added lines of `new`.
fn added_content(old: Option<&[u8]>, new: Vec<u8>) -> ChangedContent {
    let Some(text) = decode_owned(new) else {
        return ChangedContent::Binary;
    };
    let old_text = match old.map(decode) {
        Some(Decoded::Text(old_text)) => old_text,
        // New file, or binary turned text: every line is added.
        None | Some(Decoded::Binary) => {
            let added = if text.is_empty() {
                Vec::new()
            } else {
                vec![AddedLines {
                    first_line: 1,
                    start: 0,
                    end: text.len(),
                }]
            };
            return ChangedContent::Text { text, added };
        }
    };
    let added = added_lines(&old_text, &text);
    ChangedContent::Text { text, added }
}

/// Runs of lines present in `new` but not in `old`.
///
/// Lines are compared without their line ending and trailing whitespace,
/// as `git diff --ignore-space-at-eol` does: a line whose only change is
/// CRLF to LF, or a last line that gains a final newline, is not added.
/// The diff is imara-diff's histogram diff (git's `--histogram`): several
/// times faster than libgit2's patch, which also hashed both buffers.
pub fn added_lines(old: &str, new: &str) -> Vec<AddedLines> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', new.as_bytes()).map(|i| i + 1))
        .filter(|&s| s < new.len())
        .collect();
    let line_end = |line: usize| line_starts.get(line).copied().unwrap_or(new.len());

    let input = InternedInput::new(ComparableLines(old), ComparableLines(new));
    let diff = Diff::compute(Algorithm::Histogram, &input);
    diff.hunks()
        .filter(|hunk| !hunk.after.is_empty())
        .map(|hunk| {
            let (first, last) = (hunk.after.start as usize, hunk.after.end as usize - 1);
            AddedLines {
                first_line: hunk.after.start + 1,
                start: line_starts[first],
                end: line_end(last + 1),
            }
        })
        .collect()
}

/// A text's lines as the diff compares them: without the line ending and
/// trailing spaces and tabs. One token per entry of `added_lines`'
/// `line_starts`.
struct ComparableLines<'a>(&'a str);

impl<'a> TokenSource for ComparableLines<'a> {
    type Token = &'a str;
    type Tokenizer = LinesOf<'a>;

    fn tokenize(&self) -> Self::Tokenizer {
        LinesOf {
            text: self.0,
            newlines: memchr::memchr_iter(b'\n', self.0.as_bytes()),
            start: 0,
        }
    }

    fn estimate_tokens(&self) -> u32 {
        u32::try_from(memchr::memchr_iter(b'\n', self.0.as_bytes()).count() + 1).unwrap_or(u32::MAX)
    }
}

/// A text's comparable lines, found with SIMD memchr (str's own line
/// splitting showed up in profiles of large staged changes).
struct LinesOf<'a> {
    text: &'a str,
    newlines: memchr::Memchr<'a>,
    start: usize,
}

impl<'a> Iterator for LinesOf<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let end = match self.newlines.next() {
            Some(newline) => newline + 1,
            None if self.start < self.text.len() => self.text.len(),
            None => return None,
        };
        let line = &self.text[self.start..end];
        self.start = end;
        Some(line.trim_end_matches(['\n', '\r', ' ', '\t']))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(old: &str, new: &str) -> Vec<(u32, String)> {
        added_lines(old, new)
            .into_iter()
            .map(|r| (r.first_line, new[r.start..r.end].to_string()))
            .collect()
    }

    #[test]
    fn only_added_lines_with_new_line_numbers() {
        assert_eq!(
            added("a\nb\nc\n", "a\nX\nb\nc\nY\n"),
            [(2, "X\n".into()), (5, "Y\n".into())]
        );
    }

    #[test]
    fn removed_lines_add_nothing() {
        assert!(added("a\nsecret\nc\n", "a\nc\n").is_empty());
    }

    #[test]
    fn changed_line_and_missing_final_newline() {
        assert_eq!(added("a\nb", "a\nB"), [(2, "B".into())]);
    }

    #[test]
    fn appending_after_a_last_line_without_newline_adds_only_the_new_lines() {
        assert_eq!(
            added("x = 1\nkey", "x = 1\nkey\ny = 2\n"),
            [(3, "y = 2\n".into())]
        );
        assert_eq!(added("a\r\nb\r\n", "a\nb\n"), []);
    }

    #[test]
    fn crlf_lines() {
        assert_eq!(
            added("a\r\nb\r\n", "a\r\nnew\r\nb\r\n"),
            [(2, "new\r\n".into())]
        );
    }

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

    #[test]
    fn binary_new_side() {
        assert!(matches!(
            added_content(None, b"\0\x01\x02".to_vec()),
            ChangedContent::Binary
        ));
    }
}
