//! The leaf of `git/`: what a comparison (the index with HEAD, a commit
//! with its parent, a merge with every parent) finds changed, before and
//! after its blobs are read. Every other module of `git/` uses these
//! types; this one uses none of them.

use anyhow::{Context, Result};
use git2::{Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, Oid};

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
    /// When the change concludes a merge: the file in each parent other
    /// than the first (`None`: no such file there, or not a regular file).
    pub(super) other_parents: Vec<Option<Oid>>,
}

impl FileDelta {
    /// A file compared with nothing: every line of it is added.
    pub(super) fn whole(new_path: String, new_id: Oid, size_hint: Option<u64>) -> FileDelta {
        FileDelta {
            new_id,
            new_path,
            old_id: None,
            old_path: None,
            size_hint,
            other_parents: Vec::new(),
        }
    }

    /// What this file's added lines depend on (see [`ContentKey`]).
    pub(super) fn content_key(&self) -> ContentKey {
        ContentKey {
            new: self.new_id,
            old: self.old_id,
            other_parents: self.other_parents.clone().into_boxed_slice(),
        }
    }

    /// Whether the change can add a line: a mode change (the same blob at
    /// the same path) cannot. A rename without changes is kept: the scanner
    /// reads the whole file when it left an allowed path.
    pub(super) fn may_add_lines(&self) -> bool {
        self.old_path.is_some() || self.old_id != Some(self.new_id)
    }

    /// The added and changed blobs of a libgit2 diff. Deletions add
    /// nothing and are left out; so are submodules and symlinks, whose
    /// "content" is a commit id or a path.
    pub(super) fn from_diff(diff: &git2::Diff<'_>) -> Vec<FileDelta> {
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
            let old_is_blob = matches!(old.mode(), FileMode::Blob | FileMode::BlobExecutable)
                && !old.id().is_zero();
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
}

/// What a changed file's added lines depend on, and nothing else: its blob,
/// the blob it replaces, and for a merge its blob in each other parent.
/// Two files with the same key (a cherry-pick, a rebased copy, a copy to
/// another path) have the same added lines whatever their paths, so the
/// history scan diffs and scans each key once; what a path decides (the
/// allow-list, secret-file names) is applied to every path anew.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContentKey {
    new: Oid,
    old: Option<Oid>,
    other_parents: Box<[Option<Oid>]>,
}

/// A path from git (bytes) as text for reports; non-UTF-8 bytes are replaced.
pub(super) fn path_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A changed file's blobs as git stores them, read but not decoded:
/// [`crate::lines`] turns them into added lines.
#[derive(Debug)]
pub struct FileBlobs {
    /// Path in the repository, `/`-separated.
    pub path: String,
    /// The path it was renamed or copied from, if any.
    pub old_path: Option<String>,
    /// The file as the change leaves it.
    pub new: Vec<u8>,
    /// The file it replaces; `None` for a new file.
    pub old: Option<Vec<u8>>,
    /// A merge's other parents' versions of the file, in parent order
    /// (`None`: no such file there). Empty outside merges.
    pub other_parents: Vec<Option<Vec<u8>>>,
}

/// How every diff keyguard asks libgit2 for is made: type changes as
/// changes, submodules skipped, no context lines (only added lines count).
pub(super) fn added_lines_options() -> DiffOptions {
    let mut options = DiffOptions::new();
    options
        .include_typechange(true)
        .ignore_submodules(true)
        .context_lines(0);
    options
}

/// The diff `make` makes, with exact and near renames found (a moved file
/// adds only what changed in it). Finding them reads the blobs of deleted
/// files; where one is missing (a partial clone never fetched a file
/// outside its sparse cone), the diff is made again without renames, and
/// each moved file counts as added whole: more is scanned, never less.
pub(super) fn with_renames<'r>(
    make: impl Fn() -> Result<git2::Diff<'r>>,
) -> Result<git2::Diff<'r>> {
    let mut diff = make()?;
    match diff.find_similar(Some(DiffFindOptions::new().renames(true))) {
        Ok(()) => Ok(diff),
        Err(e) if e.code() == ErrorCode::NotFound => make(),
        Err(e) => Err(e).context("cannot detect renamed files"),
    }
}
