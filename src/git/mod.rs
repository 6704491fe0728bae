//! Everything that touches git. No git2 type leaves this module: callers
//! get owned paths and text.

mod blobs;
pub mod committed;
mod delta;
pub mod history;
mod index_diff;
pub mod index_file;
pub mod merge;
pub mod staged;
pub mod tracked;
mod tree_diff;

use std::path::{Path, PathBuf};

use blobs::BlobReader;
pub use blobs::{BlobStream, ChangedBlobs, StreamedBlobs};
use delta::path_text;
pub use delta::{ContentKey, FileBlobs};
pub use staged::Comparison;

use anyhow::{anyhow, bail, Context, Result};
use git2::{ErrorCode, Oid, Repository, Tree};

/// An open repository, found the way git finds it for a hook.
pub struct Repo {
    repo: Repository,
    /// The index git is about to commit (see [`resolve_index_file`]).
    index_file: PathBuf,
    /// Whether `index_file` was named (`GIT_INDEX_FILE`, or by the caller)
    /// rather than the repository's own.
    index_file_named: bool,
    blobs: BlobReader,
    /// The first way of comparing the index with HEAD that is tried; the
    /// later ones are its fallbacks.
    first_comparison: Comparison,
    /// The `<id>` of each `GITHEAD_<id>` variable: the commits `git merge`
    /// is merging, named only this way while its pre-merge-commit hook runs.
    githead_names: Vec<String>,
    /// Who reads HEAD: libgit2, or git where libgit2 cannot.
    refs: RefStore,
}

/// Where HEAD is read. libgit2 1.9 reads the files backend only: told to
/// open a reftable repository (`extensions.refStorage = reftable`), it
/// reads objects and the index as usual but sees HEAD as the unborn stub
/// `refs/heads/.invalid` that git leaves in the `HEAD` file there, so no
/// libgit2 ref read may be used in one. Every other ref keyguard needs is
/// read by git in both (`git rev-list`, `git rev-parse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefStore {
    Libgit2,
    Git,
}

/// Lets libgit2 open a reftable repository (see [`RefStore`]). libgit2
/// keeps the list in a process-wide static: set once, before any open.
fn allow_reftable() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: called before any repository is opened, from one thread
        // (`Once`); nothing else in keyguard sets extensions.
        let _ = unsafe { git2::opts::set_extensions(&["refstorage"]) };
    });
}

/// What libgit2 keeps of the objects it reads: trees up to 1 MB and blobs
/// up to 256 KB (by default it keeps trees of up to 4 KB and no blob, so a
/// history scan read and inflated the same root tree for every commit and
/// each blob twice, as one commit's new and its child's old file), within
/// 64 MB for all (256 MB by default: the memory a scan may take is bounded
/// below that). Process-wide, so set once, before any thread starts.
fn tune_object_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: called from `Repo::open*`, on the main thread before a
        // scan starts its threads; nothing else in keyguard sets these.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20);
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Blob, 256 << 10);
            let _ = git2::opts::set_cache_max_size(64 << 20);
        }
    });
}

/// An object id as git prints it: 40 hex digits (SHA-1) or 64 (SHA-256).
pub(crate) fn parse_id(hex: &str) -> Result<Oid> {
    let format = if hex.len() == 64 {
        git2::ObjectFormat::Sha256
    } else {
        git2::ObjectFormat::Sha1
    };
    Oid::from_str_ext(hex, format).map_err(|e| {
        anyhow!(
            "{:?} is not an object id: {}",
            hex.escape_debug().to_string(),
            e.message()
        )
    })
}

/// Why libgit2 would not open a repository: a format it does not read
/// (an extension it lacks), or no repository at all.
fn open_error(e: &git2::Error) -> anyhow::Error {
    let message = e.message();
    if message.contains("object format") || message.contains("extension") {
        anyhow!(
            "unsupported repository format ({message}).\n\
             keyguard reads SHA-1 and SHA-256 repositories with the files or the reftable ref backend; \
             this one needs a format its git library (libgit2) does not read. \
             Scan files directly with `keyguard PATH...`"
        )
    } else {
        anyhow!(
            "not inside a git repository ({message}).\n\
             Run keyguard from inside a repository, or scan files directly with `keyguard PATH...`"
        )
    }
}

impl Repo {
    /// Opens the repository from the environment: `GIT_DIR`, `GIT_WORK_TREE`,
    /// `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY` and the current directory,
    /// as git sets them for hooks, and the `GITHEAD_*` names of a merge
    /// being made. The only place in `git/` that reads the environment.
    pub fn open_from_env() -> Result<Repo> {
        // Reading an object need not re-hash it to check its id: keyguard
        // only reads what git wrote, and SHA-1 (with collision detection)
        // was a quarter of the time of a large staged scan.
        git2::opts::strict_hash_verification(false);
        allow_reftable();
        tune_object_cache();
        let repo = Repository::open_from_env().map_err(|e| open_error(&e))?;
        let index_file = std::env::var_os("GIT_INDEX_FILE")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        // Another object directory: its loose objects are libgit2's to find.
        let own_objects = std::env::var_os("GIT_OBJECT_DIRECTORY").is_none();
        let githead_names = std::env::vars_os()
            .filter_map(|(name, _)| Some(name.to_str()?.strip_prefix("GITHEAD_")?.to_string()))
            .collect();
        let mut opened = Repo::with(repo, index_file, own_objects, Comparison::CacheTree);
        opened.githead_names = githead_names;
        Ok(opened)
    }

    /// Opens the repository at `path`, with the index `index_file` (or its
    /// own), comparing the index with HEAD from `first_comparison` on: the
    /// tests force each fallback this way.
    pub fn open(
        path: &Path,
        index_file: Option<PathBuf>,
        first_comparison: Comparison,
    ) -> Result<Repo> {
        allow_reftable();
        tune_object_cache();
        let repo = Repository::open(path)
            .map_err(|e| open_error(&e).context(format!("cannot open {}", path.display())))?;
        Ok(Repo::with(repo, index_file, true, first_comparison))
    }

    fn with(
        repo: Repository,
        index_file: Option<PathBuf>,
        own_objects: bool,
        first_comparison: Comparison,
    ) -> Repo {
        let blobs = BlobReader::new(
            own_objects.then(|| repo.commondir().join("objects")),
            repo.path().to_path_buf(),
        );
        let reftable = repo
            .config()
            .and_then(|config| config.get_string("extensions.refstorage"))
            .is_ok_and(|backend| backend.eq_ignore_ascii_case("reftable"));
        Repo {
            refs: if reftable {
                RefStore::Git
            } else {
                RefStore::Libgit2
            },
            index_file_named: index_file.is_some(),
            index_file: resolve_index_file(&repo, index_file),
            blobs,
            first_comparison,
            githead_names: Vec::new(),
            repo,
        }
    }

    /// Streams blobs of `bytes` or more instead of reading them whole (by
    /// default 32 MB): tests cover the streamed path with small files.
    pub fn stream_blobs_from(&mut self, bytes: u64) {
        self.blobs.stream_from = bytes;
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

    /// The commit HEAD points at, or `None` before the first commit.
    fn head_commit(&self) -> Result<Option<Oid>> {
        match self.refs {
            RefStore::Git => self.rev_parse("HEAD^{commit}"),
            RefStore::Libgit2 => match self.repo.head() {
                Ok(head) => {
                    let commit = head
                        .peel_to_commit()
                        .map_err(|e| anyhow!("cannot read the commit at HEAD: {}", e.message()))?;
                    Ok(Some(commit.id()))
                }
                Err(e)
                    if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound =>
                {
                    Ok(None)
                }
                Err(e) => Err(anyhow!("cannot resolve HEAD: {}", e.message())),
            },
        }
    }

    /// The tree of HEAD, or `None` before the first commit.
    fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        let Some(id) = self.head_commit()? else {
            return Ok(None);
        };
        let tree = self
            .repo
            .find_commit(id)
            .and_then(|commit| commit.tree())
            .map_err(|e| anyhow!("cannot read the tree of HEAD: {}", e.message()))?;
        Ok(Some(tree))
    }

    /// The object `rev` names, resolved by git (`git rev-parse --verify`),
    /// or `None` when it names none.
    fn rev_parse(&self, rev: &str) -> Result<Option<Oid>> {
        if rev.starts_with('-') {
            return Ok(None); // an option, not a revision
        }
        let output = self
            .git_command(&["rev-parse", "-q", "--verify", rev])
            .env("GIT_DIR", self.repo.path())
            .output()
            .context("cannot run git")?;
        match output.status.code() {
            Some(0) => {}
            // `--verify -q`: exit 1, quietly, for a name that names nothing.
            Some(1) => return Ok(None),
            _ => bail!(
                "git rev-parse failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let id = parse_id(text.trim()).context("unexpected git rev-parse output")?;
        Ok(Some(id))
    }

    /// `git rev-list --topo-order ARGS`: commit ids, newest first.
    fn rev_list(&self, args: &[&str]) -> Result<Vec<Oid>> {
        let mut command = self.git_command(&[&["rev-list", "--topo-order"], args].concat());
        let output = command
            .env("GIT_DIR", self.repo.path())
            .output()
            .context("cannot run git")?;
        if !output.status.success() {
            bail!(
                "git rev-list failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| parse_id(line).context("unexpected git rev-list output"))
            .collect()
    }

    /// The index git is about to commit, opened read-only (nothing here
    /// writes it back), and which reader read it: libgit2, or (for what it
    /// cannot read: a split index, a sparse index) git itself.
    fn index_to_commit(&self) -> Result<(git2::Index, Comparison)> {
        let opened = if self.index_file_named {
            if !self.index_file.exists() {
                return Err(anyhow!(
                    "GIT_INDEX_FILE points to {}, which does not exist; unset it or run keyguard from a git hook",
                    self.index_file.display()
                ));
            }
            git2::Index::open_ext(&self.index_file, self.repo.object_format())
        } else {
            self.repo.index()
        };
        let libgit2_error = match opened {
            Ok(index) => return Ok((index, Comparison::Libgit2)),
            Err(e) => e,
        };
        let index = self.index_from_git_cli().map_err(|cli_error| {
            anyhow!(
                "cannot read the index of {} ({}; git ls-files: {cli_error:#}). If another git command is running, \
                 wait for it; if the index is corrupt, `rm .git/index && git reset` rebuilds it from HEAD \
                 (staged changes are then unstaged, not lost)",
                self.repo.path().display(),
                libgit2_error.message()
            )
        })?;
        Ok((index, Comparison::GitLsFiles))
    }

    /// The `git` on PATH at the working tree root (it inherits `GIT_DIR`,
    /// and is given the index resolved at open), without locks, standard
    /// input or fetching (a partial clone's missing objects stay missing:
    /// a scan must not need the network).
    fn git_command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new("git");
        command
            .args(args)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_NO_LAZY_FETCH", "1")
            .env("GIT_INDEX_FILE", &self.index_file)
            .stdin(std::process::Stdio::null());
        if let Some(workdir) = self.repo.workdir() {
            command.current_dir(workdir);
        }
        command
    }

    /// Runs [`git_command`](Self::git_command) and returns its standard
    /// output; a failure carries git's message.
    fn git_output(&self, args: &[&str]) -> Result<Vec<u8>> {
        let output = self.git_command(args).output().context("cannot run git")?;
        if !output.status.success() {
            bail!(
                "git {} failed: {}",
                args[0],
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output.stdout)
    }

    /// The id of the object `rev` names, if it names one here.
    pub fn resolve(&self, rev: &str) -> Result<Option<String>> {
        Ok(self.rev_parse(rev)?.map(|id| id.to_string()))
    }

    /// The fallback index reader: an in-memory index built from
    /// `git ls-files --stage -z`, which reads whatever index format the
    /// installed git writes (split and sparse indexes, which libgit2
    /// rejects).
    fn index_from_git_cli(&self) -> Result<git2::Index> {
        let stdout = self.git_output(&["ls-files", "--stage", "-z"])?;
        let mut index = git2::Index::new_ext(self.repo.object_format())?;
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
        id: parse_id(id)?,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path,
    }))
}

/// The one resolver of the index to commit: `index_file` when named
/// (`GIT_INDEX_FILE`: `git commit -a` and `git commit <paths>` use a
/// temporary index), made absolute because git runs at the working tree
/// root; else the repository's own index.
fn resolve_index_file(repo: &Repository, index_file: Option<PathBuf>) -> PathBuf {
    match index_file {
        Some(path) => std::path::absolute(&path).unwrap_or(path),
        None => repo.path().join("index"),
    }
}
