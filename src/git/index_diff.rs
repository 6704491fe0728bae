//! The index compared with HEAD, the way git compares them for
//! `git diff --cached`: a folder whose cache-tree id equals HEAD's tree id
//! is unchanged and skipped without reading it. Only the folders on the
//! path to a staged change are read from HEAD, so a small commit costs
//! the same in a 50-file and a 50,000-file repository.
//!
//! The answer is the list of added and modified files; anything this fast
//! path does not handle (renames, which need similarity detection; index
//! features it cannot read) is declined with the reason, and `staged.rs`
//! falls back to libgit2.

use std::ops::Range;

use git2::{ObjectFormat, ObjectType, Oid, Repository, Tree, TreeEntry};

use super::delta::FileDelta;
use super::index_file::{self, CacheNode, Entry, IndexFile, Unsupported};

/// The files the index adds or changes compared with `head` (`None`: an
/// unborn branch), or why this fast path cannot answer.
pub(super) fn staged_deltas(
    repo: &Repository,
    index_bytes: &[u8],
    head: Option<&Tree<'_>>,
) -> Result<Vec<FileDelta>, Unsupported> {
    // The index records no hash algorithm: its entries hold 32-byte ids in
    // a SHA-256 repository, and the parser reads 20.
    if repo.object_format() != ObjectFormat::Sha1 {
        return Err(Unsupported("an index of SHA-256 object ids"));
    }
    let index = index_file::parse(index_bytes)?;
    // Intent-to-add entries are left out of `entries`, so the cache-tree's
    // entry counts no longer match them: compare every folder instead.
    let cache_tree = if index.had_intent_to_add {
        None
    } else {
        index.cache_tree()
    };
    let mut walk = Walk {
        repo,
        index: &index,
        deltas: Vec::new(),
        added_files: 0,
        deleted_something: false,
    };
    walk.folder(
        0,
        0..index.entries.len(),
        cache_tree,
        head.map(HeadFolder::Read),
    )
    .map_err(|_| Unsupported("a tree of HEAD cannot be read"))?;
    // A file deleted in one place and added in another may be a rename,
    // whose unchanged lines must not count as added: that needs git's
    // similarity detection.
    if walk.deleted_something && walk.added_files > 0 {
        return Err(Unsupported("files deleted and added: perhaps renamed"));
    }
    Ok(walk.deltas)
}

/// A folder of HEAD: its tree, or only its id until the walk needs to
/// look inside (a folder the cache-tree shows unchanged never is: of a
/// one-file commit's 110 folders compared, 2 are read, not 110).
enum HeadFolder<'t, 'r> {
    Read(&'t Tree<'r>),
    Id(Oid),
}

impl HeadFolder<'_, '_> {
    fn id(&self) -> Oid {
        match self {
            HeadFolder::Read(tree) => tree.id(),
            HeadFolder::Id(id) => *id,
        }
    }
}

struct Walk<'a> {
    repo: &'a Repository,
    index: &'a IndexFile<'a>,
    deltas: Vec<FileDelta>,
    /// Files with nothing at their path in HEAD.
    added_files: usize,
    /// Something in HEAD that the index no longer has at that path.
    deleted_something: bool,
}

impl Walk<'_> {
    /// Compares the index entries `range`, which all start with the same
    /// `prefix_len` bytes (a folder's path and `/`, or nothing for the
    /// root), with that folder's tree in HEAD.
    fn folder(
        &mut self,
        prefix_len: usize,
        range: Range<usize>,
        cache: Option<CacheNode<'_>>,
        head: Option<HeadFolder<'_, '_>>,
    ) -> Result<(), git2::Error> {
        if let (Some(cache), Some(head)) = (cache, &head) {
            if cache.id() == Some(head.id().as_bytes()) && cache.entry_count() == range.len() {
                return Ok(());
            }
        }
        let read;
        let head = match head {
            Some(HeadFolder::Read(tree)) => Some(tree),
            Some(HeadFolder::Id(id)) => {
                read = self.repo.find_tree(id)?;
                Some(&read)
            }
            None => None,
        };
        let index = self.index;
        let entries = &index.entries;
        let mut head_names_seen = 0;
        let mut i = range.start;
        while i < range.end {
            let path = index.path(&entries[i]);
            let rest = &path[prefix_len..];
            let head_entry = |name: &[u8]| head.and_then(|tree| tree.get_name_bytes(name));
            if let Some(slash) = memchr::memchr(b'/', rest) {
                let name = &rest[..slash];
                let child_prefix = &path[..prefix_len + slash + 1];
                let end = i + entries[i..range.end]
                    .partition_point(|e| index.path(e).starts_with(child_prefix));
                let subtree = match head_entry(name) {
                    Some(entry) => {
                        head_names_seen += 1;
                        if entry.kind() == Some(ObjectType::Tree) {
                            Some(HeadFolder::Id(entry.id()))
                        } else {
                            // A file replaced by a folder of the same name.
                            self.deleted_something = true;
                            None
                        }
                    }
                    None => None,
                };
                let child_cache = cache.and_then(|c| c.child(name));
                self.folder(prefix_len + slash + 1, i..end, child_cache, subtree)?;
                i = end;
            } else {
                let entry = head_entry(rest);
                if entry.is_some() {
                    head_names_seen += 1;
                }
                self.file(&entries[i], path, entry);
                i += 1;
            }
        }
        if head.is_some_and(|tree| head_names_seen < tree.len()) {
            self.deleted_something = true;
        }
        Ok(())
    }

    fn file(&mut self, entry: &Entry, path: &[u8], head: Option<TreeEntry<'_>>) {
        let head_blob = head
            .as_ref()
            .filter(|h| is_blob_mode(h.filemode() as u32))
            .map(TreeEntry::id);
        match &head {
            None => self.added_files += 1,
            Some(h) if h.kind() == Some(ObjectType::Tree) => {
                // A folder replaced by a file of the same name.
                self.deleted_something = true;
                self.added_files += 1;
            }
            Some(_) => {}
        }
        // Symlinks and submodules hold a path or a commit id, not text.
        if !is_blob_mode(self.index.mode(entry)) {
            return;
        }
        let new_id = Oid::from_bytes(&self.index.id(entry)).expect("20-byte id");
        if head_blob == Some(new_id) {
            return; // same content (perhaps a new mode): nothing added
        }
        self.deltas.push(FileDelta {
            new_id,
            new_path: super::path_text(path),
            old_id: head_blob,
            old_path: None,
            size_hint: Some(u64::from(self.index.size(entry))),
            other_parents: Vec::new(),
        });
    }
}

/// Regular and executable files (git also reads old group-writable modes).
fn is_blob_mode(mode: u32) -> bool {
    mode >> 12 == 0o10
}
