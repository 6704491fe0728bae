//! Reading blobs, and the blobs of a change in parallel.
//!
//! One reader for speed and one fallback for what it cannot read:
//! - [`BlobReader::read_loose`], the main path: `git add` writes every
//!   staged blob as a loose object, so a large staged change is mostly
//!   loose objects; zlib-rs inflates them faster than libgit2's bundled
//!   zlib, with one copy fewer. A loose object is one zlib stream, so this
//!   reader is also the one that can later inflate a very large staged file
//!   block by block with bounded memory.
//! - [`read_with_libgit2`], the fallback: packed objects and alternate
//!   object stores, which the loose reader does not read. libgit2 cannot
//!   stream a packed blob: it returns it whole.
//!
//! A blob missing from the object store (a partial clone that never fetched
//! it) is an error naming the object; nothing here fetches.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use git2::{ErrorCode, Oid, Repository};
use rayon::prelude::*;

use super::delta::{FileBlobs, FileDelta};

/// Reads blobs: loose objects directly, everything else through libgit2.
#[derive(Clone, Debug)]
pub(super) struct BlobReader {
    /// Where loose objects are; `None` sends every read to libgit2 (git
    /// named another object directory with `GIT_OBJECT_DIRECTORY`).
    objects: Option<PathBuf>,
}

impl BlobReader {
    /// Loose objects read from `objects`, or (`None`) none: libgit2 reads
    /// everything.
    pub(super) fn new(objects: Option<PathBuf>) -> BlobReader {
        BlobReader { objects }
    }

    /// The blob `id` (for the file `path`, named in errors).
    pub(super) fn read(&self, repo: &Repository, id: Oid, path: &str) -> Result<Vec<u8>> {
        if let Some(content) = self.read_loose(id) {
            return Ok(content);
        }
        read_with_libgit2(repo, id, path)
    }

    /// The blob `id`, or `None` when the object store does not hold it.
    pub(super) fn read_if_present(
        &self,
        repo: &Repository,
        id: Oid,
        path: &str,
    ) -> Result<Option<Vec<u8>>> {
        if let Some(content) = self.read_loose(id) {
            return Ok(Some(content));
        }
        match repo.find_blob(id) {
            Ok(blob) => Ok(Some(blob.content().to_vec())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(blob_error(&e, id, path)),
        }
    }

    /// A blob stored as a loose object, read from its file and inflated
    /// straight into a buffer of its size. `None` sends the read to the
    /// fallback: no such file (a packed object, an alternate object store),
    /// or anything unexpected in it, which libgit2 then reports in its own
    /// words.
    pub(super) fn read_loose(&self, id: Oid) -> Option<Vec<u8>> {
        use flate2::{Decompress, FlushDecompress, Status};
        let hex = id.to_string();
        let file = self.objects.as_ref()?.join(&hex[..2]).join(&hex[2..]);
        let compressed = std::fs::read(file).ok()?;
        let mut inflate = Decompress::new(true);
        // The header, "blob <size>\0", then the content.
        let mut header = [0u8; 32];
        inflate
            .decompress(&compressed, &mut header, FlushDecompress::None)
            .ok()?;
        let produced = inflate.total_out() as usize;
        let end = header[..produced].iter().position(|&b| b == 0)?;
        let size: usize = std::str::from_utf8(header[..end].strip_prefix(b"blob ")?)
            .ok()?
            .parse()
            .ok()?;
        let mut content = Vec::with_capacity(size);
        content.extend_from_slice(&header[end + 1..produced]);
        if content.len() > size {
            return None;
        }
        let consumed = inflate.total_in() as usize;
        let status = inflate
            .decompress_vec(
                &compressed[consumed..],
                &mut content,
                FlushDecompress::Finish,
            )
            .ok()?;
        (status == Status::StreamEnd && content.len() == size).then_some(content)
    }
}

/// The fallback reader: any object libgit2 can find (packs, alternates).
pub(super) fn read_with_libgit2(repo: &Repository, id: Oid, path: &str) -> Result<Vec<u8>> {
    let blob = repo.find_blob(id).map_err(|e| blob_error(&e, id, path))?;
    Ok(blob.content().to_vec())
}

/// What to say when libgit2 cannot read the blob `id` of `path`.
fn blob_error(e: &git2::Error, id: Oid, path: &str) -> anyhow::Error {
    let hint = if e.code() == ErrorCode::NotFound {
        "The object is missing: the object store may be damaged (try `git fsck`), \
         or this partial clone never fetched it"
    } else {
        "The object store may be damaged: try `git fsck`"
    };
    anyhow!(
        "cannot read the content of {path} (object {id}: {}). {hint}",
        e.message()
    )
}

/// Reads the blobs of each delta and hands each file to `each`, on every
/// core when there are many, in the order of `deltas`. A change that adds
/// no line (a mode change) is left out.
pub(super) fn load_changed_files<T: Send>(
    reader: &BlobReader,
    repo: &Repository,
    deltas: Vec<FileDelta>,
    each: impl Fn(FileBlobs) -> T + Sync + Send,
) -> Result<Vec<T>> {
    let deltas: Vec<FileDelta> = deltas
        .into_iter()
        .filter(FileDelta::may_add_lines)
        .collect();
    if deltas.len() < PARALLEL_LOAD_FILES {
        return deltas
            .into_iter()
            .map(|delta| load_changed_file(reader, repo, delta).map(&each))
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
            let file = load_changed_file(reader, worker, delta)?;
            // Scanning needs no handle: let the next file on this thread
            // wait for nothing.
            drop(handle);
            Ok(each(file))
        })
        .collect()
}

/// From this many changed files on, they are loaded in parallel.
pub(super) const PARALLEL_LOAD_FILES: usize = 16;

fn load_changed_file(
    reader: &BlobReader,
    repo: &Repository,
    delta: FileDelta,
) -> Result<FileBlobs> {
    let path = delta.new_path;
    let new = reader.read(repo, delta.new_id, &path)?;
    // A blob the change replaces may be missing where the new one is not
    // (a partial clone never fetched it): every line is then added
    // relative to it, which scans more, never less.
    let old = match delta.old_id {
        Some(id) => reader.read_if_present(repo, id, &path)?,
        None => None,
    };
    let other_parents = delta
        .other_parents
        .iter()
        .map(|id| match id {
            Some(id) => reader.read_if_present(repo, *id, &path),
            None => Ok(None),
        })
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

    fn reader(repo: &Repository) -> BlobReader {
        BlobReader::new(Some(repo.path().join("objects")))
    }

    #[test]
    fn loose_blobs_read_directly_match_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let large: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for content in [&b""[..], b"one line\n", b"x", &large] {
            let id = repo.blob(content).unwrap();
            assert_eq!(reader(&repo).read(&repo, id, "f").unwrap(), content);
            assert_eq!(read_with_libgit2(&repo, id, "f").unwrap(), content);
            // Written loose by libgit2: read without it (an empty blob may
            // go either way).
            if !content.is_empty() {
                assert_eq!(reader(&repo).read_loose(id).as_deref(), Some(content));
            }
        }
    }

    #[test]
    fn without_a_loose_object_directory_the_fallback_reads() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let id = repo.blob(b"packed or elsewhere\n").unwrap();
        let fallback_only = BlobReader::new(None);
        assert_eq!(fallback_only.read_loose(id), None);
        assert_eq!(
            fallback_only.read(&repo, id, "f").unwrap(),
            b"packed or elsewhere\n"
        );
    }

    #[test]
    fn a_damaged_loose_object_goes_to_libgit2_and_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let id = repo.blob(b"some content\n").unwrap();
        let hex = id.to_string();
        let file = repo.path().join("objects").join(&hex[..2]).join(&hex[2..]);
        let mut perms = std::fs::metadata(&file).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&file, perms).unwrap();
        std::fs::write(&file, b"not zlib at all").unwrap();
        assert_eq!(reader(&repo).read_loose(id), None);
        let err = reader(&repo)
            .read(&repo, id, "f.txt")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read the content of f.txt"), "{err}");
    }

    #[test]
    fn a_missing_blob_is_an_error_naming_it_and_is_not_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let id = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
        let err = reader(&repo)
            .read(&repo, id, "old.txt")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("old.txt") && err.contains("partial clone"),
            "{err}"
        );
    }
}
