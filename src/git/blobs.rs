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
//!
//! A blob of [`STREAM_BLOBS_FROM`] bytes or more is not read here at all:
//! it is handed over as a [`BlobStream`], read block by block when it is
//! scanned, so that a 1 GB file costs blocks of memory, not gigabytes. A
//! loose one is inflated from its file; any other is streamed by
//! `git cat-file blob`, told that such a blob is big
//! (`core.bigFileThreshold`), so that it streams a packed blob that is not
//! a delta (`git add` stores a file above 512 MB that way, and a blob with
//! no similar one to be a delta of is stored whole too); a delta it
//! rebuilds in memory, as libgit2 would.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use anyhow::{anyhow, Context as _, Result};
use git2::{ErrorCode, Oid, Repository};
use rayon::prelude::*;

use super::delta::{FileBlobs, FileDelta};

/// Blobs of this many bytes or more are streamed, not read whole (the
/// size from which files on disk are read block by block, too).
pub(super) const STREAM_BLOBS_FROM: u64 = 32 << 20;

/// Reads blobs: loose objects directly, everything else through libgit2.
#[derive(Clone, Debug)]
pub(super) struct BlobReader {
    /// Where loose objects are; `None` sends every read to libgit2 (git
    /// named another object directory with `GIT_OBJECT_DIRECTORY`).
    objects: Option<PathBuf>,
    /// The repository, for `git cat-file` to stream what is not loose.
    git_dir: PathBuf,
    /// Blobs of this size or more are streamed (see [`STREAM_BLOBS_FROM`]).
    pub(super) stream_from: u64,
    /// Which of the 256 folders of loose objects exist, listed at the first
    /// object not found loose: in a packed repository, a history scan then
    /// asks the file system nothing for each blob.
    loose_folders: std::sync::Arc<std::sync::OnceLock<[bool; 256]>>,
}

impl BlobReader {
    /// Loose objects read from `objects`, or (`None`) none: libgit2 reads
    /// everything.
    pub(super) fn new(objects: Option<PathBuf>, git_dir: PathBuf) -> BlobReader {
        BlobReader {
            objects,
            git_dir,
            stream_from: STREAM_BLOBS_FROM,
            loose_folders: Default::default(),
        }
    }

    /// Where the loose object `id` would be; `None` when it cannot be there
    /// (no loose objects read, or its folder is known not to exist).
    fn loose_path(&self, id: Oid) -> Option<PathBuf> {
        let objects = self.objects.as_ref()?;
        if let Some(folders) = self.loose_folders.get() {
            if !folders[usize::from(id.as_bytes()[0])] {
                return None;
            }
        }
        let hex = id.to_string();
        Some(objects.join(&hex[..2]).join(&hex[2..]))
    }

    /// Notes that an object was not found loose: the folders of loose
    /// objects are listed, once.
    fn not_loose(&self) {
        let Some(objects) = self.objects.as_ref() else {
            return;
        };
        self.loose_folders.get_or_init(|| {
            // Unreadable: every folder may exist, as before the listing.
            let mut folders = [true; 256];
            if let Ok(entries) = std::fs::read_dir(objects) {
                folders = [false; 256];
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if let (2, Ok(byte)) = (name.len(), u8::from_str_radix(&name, 16)) {
                        folders[usize::from(byte)] = true;
                    }
                }
            }
            folders
        });
    }

    /// The size of the blob `id` from its header, without reading it;
    /// `None` when the object store does not hold it.
    fn size(&self, repo: &Repository, id: Oid) -> Option<u64> {
        if let Some((size, _)) = self.open_loose(id) {
            return Some(size);
        }
        let odb = repo.odb().ok()?;
        odb.read_header(id).ok().map(|(size, _)| size as u64)
    }

    /// A loose object's inflating reader, past its header, and its size.
    fn open_loose(
        &self,
        id: Oid,
    ) -> Option<(
        u64,
        flate2::read::ZlibDecoder<std::io::BufReader<std::fs::File>>,
    )> {
        let Ok(file) = std::fs::File::open(self.loose_path(id)?) else {
            self.not_loose();
            return None;
        };
        let mut inflate =
            flate2::read::ZlibDecoder::new(std::io::BufReader::with_capacity(64 * 1024, file));
        // The header, "blob <size>\0", then the content.
        let mut header = Vec::with_capacity(32);
        let mut byte = [0u8; 1];
        while header.len() < 32 {
            inflate.read_exact(&mut byte).ok()?;
            if byte[0] == 0 {
                let size = std::str::from_utf8(header.strip_prefix(b"blob ")?)
                    .ok()?
                    .parse()
                    .ok()?;
                return Some((size, inflate));
            }
            header.push(byte[0]);
        }
        None
    }

    /// The blob `id` as a stream: inflated from its loose object, else
    /// from `git cat-file blob` (see the module's documentation).
    fn open_stream(&self, id: Oid, path: &str) -> Result<Box<dyn Read + Send>> {
        if let Some((_, inflate)) = self.open_loose(id) {
            return Ok(Box::new(inflate));
        }
        let mut child = Command::new("git")
            .arg("--git-dir")
            .arg(&self.git_dir)
            // git maps packs in windows of 1 GB by default, every page of
            // which it reads counts as its memory: small windows, few kept.
            .args([
                "-c",
                "core.packedGitWindowSize=16m",
                "-c",
                "core.packedGitLimit=64m",
            ])
            // git streams a packed blob only above this size (512 MB by
            // default) and reads a smaller one whole first.
            .arg("-c")
            .arg(format!("core.bigFileThreshold={}", self.stream_from))
            .args(["cat-file", "blob", &id.to_string()])
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_NO_LAZY_FETCH", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run git to read the content of {path}"))?;
        let stdout = child.stdout.take().expect("piped above");
        Ok(Box::new(GitOutput {
            child,
            stdout,
            what: format!("the content of {path} (object {id})"),
        }))
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
        let Ok(compressed) = std::fs::read(self.loose_path(id)?) else {
            self.not_loose();
            return None;
        };
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

/// `git cat-file blob`'s output, read until git exits; git's failure (a
/// missing or damaged object) is a read error with its message.
struct GitOutput {
    child: Child,
    stdout: ChildStdout,
    what: String,
}

impl Read for GitOutput {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stdout.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let status = self.child.wait()?;
            if !status.success() {
                let mut message = String::new();
                if let Some(stderr) = self.child.stderr.as_mut() {
                    let _ = stderr.take(4096).read_to_string(&mut message);
                }
                return Err(std::io::Error::other(format!(
                    "git cat-file could not read {} ({status}): {}",
                    self.what,
                    message.trim()
                )));
            }
        }
        Ok(n)
    }
}

impl Drop for GitOutput {
    fn drop(&mut self) {
        // Stopped early (a binary file is not read past its start): git
        // is not left writing into a pipe nobody reads.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One blob too large to hold, opened when it is read (see the module's
/// documentation).
pub struct BlobStream {
    id: Oid,
    /// Its size, from its header.
    pub size: u64,
    reader: BlobReader,
    path: String,
}

impl BlobStream {
    /// The blob from its start, block by block.
    pub fn open(&self) -> Result<Box<dyn Read + Send>> {
        self.reader.open_stream(self.id, &self.path)
    }

    /// The blob whole, for what cannot be streamed.
    pub fn read_whole(&self) -> Result<Vec<u8>> {
        let mut content = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0));
        self.open()?
            .read_to_end(&mut content)
            .with_context(|| format!("cannot read the content of {}", self.path))?;
        Ok(content)
    }
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStream({}, {} bytes)", self.id, self.size)
    }
}

/// A changed file whose new blob is too large to hold: both sides as
/// streams. (A merge's file is read whole: its other parents' versions
/// decide what it adds.)
#[derive(Debug)]
pub struct StreamedBlobs {
    pub path: String,
    pub old_path: Option<String>,
    pub new: BlobStream,
    /// The blob it replaces, when the object store holds it.
    pub old: Option<BlobStream>,
}

/// A changed file's blobs: read, or (a large file) to be streamed.
#[derive(Debug)]
pub enum ChangedBlobs {
    Read(FileBlobs),
    /// Boxed: far rarer, and larger.
    Streamed(Box<StreamedBlobs>),
}

/// Reads the blobs of each delta and hands each file to `each`, on every
/// core when there are many, in the order of `deltas`. A change that adds
/// no line (a mode change) is left out.
pub(super) fn load_changed_files<T: Send>(
    reader: &BlobReader,
    repo: &Repository,
    deltas: Vec<FileDelta>,
    each: impl Fn(ChangedBlobs) -> T + Sync + Send,
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
) -> Result<ChangedBlobs> {
    // The size git recorded settles most files; a large or unknown one is
    // asked of its header. (The index keeps the low 32 bits of a file's
    // size: a file of 4 GB and more may look small there.)
    let maybe_large = delta.other_parents.is_empty()
        && delta
            .size_hint
            .is_none_or(|size| size == 0 || size >= reader.stream_from / 2);
    if maybe_large {
        if let Some(size) = reader.size(repo, delta.new_id) {
            if size >= reader.stream_from {
                let stream = |id: Oid, size: u64| BlobStream {
                    id,
                    size,
                    reader: reader.clone(),
                    path: delta.new_path.clone(),
                };
                let old = delta
                    .old_id
                    .and_then(|id| Some(stream(id, reader.size(repo, id)?)));
                return Ok(ChangedBlobs::Streamed(Box::new(StreamedBlobs {
                    new: stream(delta.new_id, size),
                    old,
                    path: delta.new_path,
                    old_path: delta.old_path,
                })));
            }
        }
    }
    Ok(ChangedBlobs::Read(read_changed_file(reader, repo, delta)?))
}

fn read_changed_file(
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
        BlobReader::new(Some(repo.path().join("objects")), repo.path().to_path_buf())
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
        let fallback_only = BlobReader::new(None, repo.path().to_path_buf());
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
