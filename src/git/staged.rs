//! The staged change: what the next commit adds compared with HEAD.
//!
//! Content comes from index blobs, never from the working tree. Both sides
//! are decoded to text first, so that a UTF-16 file diffs line by line like
//! any other, and then only the added lines are kept.

use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Patch};

use std::collections::HashSet;
use std::sync::Mutex;

use git2::{Oid, Repository};

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

impl Repo {
    /// Every file the next commit adds or changes, with its added lines.
    /// Deletions add nothing and are left out; so are submodules and
    /// symlinks, whose "content" is a commit id or a path.
    pub fn staged_files(&self) -> Result<Vec<ChangedFile>> {
        let index = self.index_to_commit()?;
        let head_tree = self.head_tree()?;
        let mut options = DiffOptions::new();
        options.include_typechange(true).ignore_submodules(true).context_lines(0);
        let mut diff = self
            .repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))
            .context("cannot compare the index with HEAD")?;
        // Exact and near renames: a moved file adds only what changed in it.
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))
            .context("cannot detect renamed files")?;

        changed_files(&self.repo, &diff, None)
    }
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
    let mut files = Vec::new();
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
        let old_is_blob = matches!(old.mode(), FileMode::Blob | FileMode::BlobExecutable) && !old.id().is_zero();
        if let Some(seen) = seen {
            let pair = (if old_is_blob { old.id() } else { Oid::ZERO_SHA1 }, new.id());
            if !seen.lock().unwrap_or_else(|e| e.into_inner()).insert(pair) {
                continue;
            }
        }
        let path = path_text(new.path_bytes().unwrap_or_default());
        let old_path = old
            .path_bytes()
            .map(path_text)
            .filter(|p| matches!(delta.status(), Delta::Renamed | Delta::Copied) && *p != path);

        let new_bytes = read_blob(repo, new.id(), &path)?;
        let old_bytes = if old_is_blob { Some(read_blob(repo, old.id(), &path)?) } else { None };
        let content = added_content(old_bytes.as_deref(), new_bytes)
            .with_context(|| format!("cannot diff {path}"))?;
        files.push(ChangedFile { path, old_path, content });
    }
    Ok(files)
}

/// Decodes both sides and finds the added lines of `new`.
fn added_content(old: Option<&[u8]>, new: Vec<u8>) -> Result<ChangedContent> {
    let Some(text) = decode_owned(new) else {
        return Ok(ChangedContent::Binary);
    };
    let old_text = match old.map(decode) {
        Some(Decoded::Text(old_text)) => old_text,
        // New file, or binary turned text: every line is added.
        None | Some(Decoded::Binary) => {
            let added = if text.is_empty() {
                Vec::new()
            } else {
                vec![AddedLines { first_line: 1, start: 0, end: text.len() }]
            };
            return Ok(ChangedContent::Text { text, added });
        }
    };
    let added = added_lines(&old_text, &text)?;
    Ok(ChangedContent::Text { text, added })
}

/// Runs of lines present in `new` but not in `old`, per git's diff.
pub fn added_lines(old: &str, new: &str) -> Result<Vec<AddedLines>> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', new.as_bytes()).map(|i| i + 1))
        .filter(|&s| s < new.len())
        .collect();
    let line_end = |line: usize| line_starts.get(line).copied().unwrap_or(new.len());

    // A last line without a newline that gains one (text appended after
    // it) is not a new line; neither is a line whose only change is its
    // line ending (CRLF to LF) or trailing whitespace. Both sides are
    // compared with a final newline and line ends ignored.
    fn with_newline(text: &str) -> std::borrow::Cow<'_, str> {
        if text.is_empty() || text.ends_with('\n') {
            return std::borrow::Cow::Borrowed(text);
        }
        std::borrow::Cow::Owned(format!("{text}\n"))
    }
    let (old_text, new_text) = (with_newline(old), with_newline(new));
    let mut options = DiffOptions::new();
    options.context_lines(0).force_text(true).ignore_whitespace_eol(true);
    let patch = Patch::from_buffers(old_text.as_bytes(), None, new_text.as_bytes(), None, Some(&mut options))
        .context("diff failed")?;
    let mut runs: Vec<AddedLines> = Vec::new();
    for hunk_index in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(hunk_index)?;
        if hunk.new_lines() == 0 {
            continue; // a pure deletion
        }
        let first = hunk.new_start() as usize; // 1-based
        let last = first + hunk.new_lines() as usize - 1;
        if first == 0 || first > line_starts.len() {
            continue;
        }
        let last = last.min(line_starts.len());
        runs.push(AddedLines {
            first_line: first as u32,
            start: line_starts[first - 1],
            end: line_end(last),
        });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(old: &str, new: &str) -> Vec<(u32, String)> {
        added_lines(old, new)
            .unwrap()
            .into_iter()
            .map(|r| (r.first_line, new[r.start..r.end].to_string()))
            .collect()
    }

    #[test]
    fn only_added_lines_with_new_line_numbers() {
        assert_eq!(added("a\nb\nc\n", "a\nX\nb\nc\nY\n"), [(2, "X\n".into()), (5, "Y\n".into())]);
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
        assert_eq!(added("x = 1\nkey", "x = 1\nkey\ny = 2\n"), [(3, "y = 2\n".into())]);
        assert_eq!(added("a\r\nb\r\n", "a\nb\n"), []);
    }

    #[test]
    fn crlf_lines() {
        assert_eq!(added("a\r\nb\r\n", "a\r\nnew\r\nb\r\n"), [(2, "new\r\n".into())]);
    }

    #[test]
    fn binary_new_side() {
        assert!(matches!(added_content(None, b"\0\x01\x02".to_vec()).unwrap(), ChangedContent::Binary));
    }
}
