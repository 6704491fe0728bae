//! Everything that touches git. No git2 type leaves this module: callers
//! get owned paths and text.

pub mod committed;
mod delta;
pub mod history;
mod index_diff;
pub mod index_file;
pub mod merge;
pub mod staged;
pub mod tracked;

use std::path::{Path, PathBuf};

pub use delta::FileBlobs;

use anyhow::{anyhow, bail, Context, Result};
use git2::{ErrorCode, Repository, Tree};

/// An open repository, found the way git finds it for a hook.
pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// Opens the repository from the environment: `GIT_DIR`, `GIT_WORK_TREE`
    /// and the current directory, as git sets them for hooks.
    pub fn open_from_env() -> Result<Repo> {
        // Reading an object need not re-hash it to check its id: keyguard
        // only reads what git wrote, and SHA-1 (with collision detection)
        // was a quarter of the time of a large staged scan.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::open_from_env().map_err(|e| {
            anyhow!(
                "not inside a git repository ({}).\n\
                 Run keyguard from inside a repository, or scan files directly with `keyguard PATH...`",
                e.message()
            )
        })?;
        Ok(Repo { repo })
    }

    /// The working tree root, if the repository has one.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// Would git ignore this (repository-relative) path?
    pub fn is_ignored(&self, path: &str) -> bool {
        self.repo
            .status_should_ignore(Path::new(path))
            .unwrap_or(false)
    }

    /// The `.git` directory (or the worktree's private git dir).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The tree of HEAD, or `None` before the first commit.
    fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        match self.repo.head() {
            Ok(head) => {
                let tree = head
                    .peel_to_tree()
                    .context("cannot read the tree of HEAD")?;
                Ok(Some(tree))
            }
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => {
                Ok(None)
            }
            Err(e) => Err(anyhow!("cannot resolve HEAD: {}", e.message())),
        }
    }

    /// The index git is about to commit: `GIT_INDEX_FILE` when git set it
    /// (`git commit -a`, `git commit <paths>` use a temporary index),
    /// otherwise the repository's own index. Opened read-only: nothing here
    /// writes it back.
    ///
    /// libgit2 cannot read every index git writes (a split index, a sparse
    /// index); then the entries are asked of git itself.
    fn index_to_commit(&self) -> Result<git2::Index> {
        let opened = match std::env::var_os("GIT_INDEX_FILE").filter(|p| !p.is_empty()) {
            Some(path) => {
                let path = PathBuf::from(path);
                if !path.exists() {
                    return Err(anyhow!(
                        "GIT_INDEX_FILE points to {}, which does not exist; unset it or run keyguard from a git hook",
                        path.display()
                    ));
                }
                git2::Index::open(&path)
            }
            None => self.repo.index(),
        };
        let libgit2_error = match opened {
            Ok(index) => return Ok(index),
            Err(e) => e,
        };
        self.index_from_git_cli().map_err(|cli_error| {
            anyhow!(
                "cannot read the index of {} ({}; git ls-files: {cli_error:#}). If another git command is running, \
                 wait for it; if the index is corrupt, `rm .git/index && git reset` rebuilds it from HEAD \
                 (staged changes are then unstaged, not lost)",
                self.repo.path().display(),
                libgit2_error.message()
            )
        })
    }

    /// Runs the `git` on PATH at the working tree root (it inherits
    /// `GIT_DIR` and `GIT_INDEX_FILE`), without locks or standard input, and
    /// returns its standard output; a failure carries git's message.
    fn git_output(&self, args: &[&str]) -> Result<Vec<u8>> {
        let mut command = std::process::Command::new("git");
        command
            .args(args)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(std::process::Stdio::null());
        if let Some(workdir) = self.repo.workdir() {
            command.current_dir(workdir);
        }
        let output = command.output().context("cannot run git")?;
        if !output.status.success() {
            bail!(
                "git {} failed: {}",
                args[0],
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output.stdout)
    }

    /// The commit id `rev` names, if it names one here.
    pub fn resolve_commit(&self, rev: &str) -> Option<String> {
        let object = self.repo.revparse_single(rev).ok()?;
        Some(object.peel_to_commit().ok()?.id().to_string())
    }

    /// An in-memory index built from `git ls-files --stage -z`, which reads
    /// whatever index format the installed git writes (and honours
    /// `GIT_INDEX_FILE`).
    fn index_from_git_cli(&self) -> Result<git2::Index> {
        let stdout = self.git_output(&["ls-files", "--stage", "-z"])?;
        let mut index = git2::Index::new()?;
        for record in stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let entry = parse_stage_record(record).with_context(|| {
                format!(
                    "unexpected git ls-files output: {}",
                    String::from_utf8_lossy(record)
                )
            })?;
            if let Some(entry) = entry {
                index.add(&entry)?;
            }
        }
        Ok(index)
    }
}

/// One `<mode> <object> <stage>\t<path>` record; `None` for conflict
/// stages, which cannot be committed anyway.
fn parse_stage_record(record: &[u8]) -> Result<Option<git2::IndexEntry>> {
    let tab = record.iter().position(|&b| b == b'\t').context("no tab")?;
    let header = std::str::from_utf8(&record[..tab])?;
    let mut fields = header.split(' ');
    let (Some(mode), Some(id), Some(stage)) = (fields.next(), fields.next(), fields.next()) else {
        bail!("missing fields");
    };
    if stage != "0" {
        return Ok(None);
    }
    let path = record[tab + 1..].to_vec();
    let time = git2::IndexTime::new(0, 0);
    Ok(Some(git2::IndexEntry {
        ctime: time,
        mtime: time,
        dev: 0,
        ino: 0,
        mode: u32::from_str_radix(mode, 8)?,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: git2::Oid::from_str(id)?,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path,
    }))
}

fn read_blob(repo: &Repository, id: git2::Oid, path: &str) -> Result<Vec<u8>> {
    if let Some(content) = read_loose_blob(repo, id) {
        return Ok(content);
    }
    let blob = repo.find_blob(id).map_err(|e| {
        anyhow!(
            "cannot read the content of {path} (object {id}: {}). \
             The object store may be damaged: try `git fsck`",
            e.message()
        )
    })?;
    Ok(blob.content().to_vec())
}

/// A blob stored as a loose object, read from its file and inflated
/// straight into a buffer of its size. `git add` writes every staged blob
/// this way, so a large staged change is mostly loose objects; zlib-rs
/// inflates them faster than libgit2's bundled zlib, with one copy fewer.
/// `None` sends the read to libgit2: no such file (a packed object, an
/// alternate object store), or anything unexpected in it, which libgit2
/// then reports in its own words.
fn read_loose_blob(repo: &Repository, id: git2::Oid) -> Option<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    if std::env::var_os("GIT_OBJECT_DIRECTORY").is_some() {
        return None;
    }
    let hex = id.to_string();
    let file = repo
        .commondir()
        .join("objects")
        .join(&hex[..2])
        .join(&hex[2..]);
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

/// A path from git (bytes) as text for reports; non-UTF-8 bytes are replaced.
fn path_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_blobs_read_directly_match_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let large: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for content in [&b""[..], b"one line\n", b"x", &large] {
            let id = repo.blob(content).unwrap();
            assert_eq!(read_blob(&repo, id, "f").unwrap(), content);
            // Written loose by libgit2: read without it (an empty blob may
            // go either way).
            if !content.is_empty() {
                assert_eq!(read_loose_blob(&repo, id).as_deref(), Some(content));
            }
        }
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
        assert_eq!(read_loose_blob(&repo, id), None);
        let err = read_blob(&repo, id, "f.txt").unwrap_err().to_string();
        assert!(err.contains("cannot read the content of f.txt"), "{err}");
    }
}
