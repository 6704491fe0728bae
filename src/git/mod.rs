//! Everything that touches git. No git2 type leaves this module: callers
//! get owned paths and text.

pub mod history;
pub mod staged;
pub mod tracked;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use git2::{ErrorCode, Repository, Tree};

/// An open repository, found the way git finds it for a hook.
pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// Opens the repository from the environment: `GIT_DIR`, `GIT_WORK_TREE`
    /// and the current directory, as git sets them for hooks.
    pub fn open_from_env() -> Result<Repo> {
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
        self.repo.status_should_ignore(Path::new(path)).unwrap_or(false)
    }

    /// The `.git` directory (or the worktree's private git dir).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The tree of HEAD, or `None` before the first commit.
    fn head_tree(&self) -> Result<Option<Tree<'_>>> {
        match self.repo.head() {
            Ok(head) => {
                let tree = head.peel_to_tree().context("cannot read the tree of HEAD")?;
                Ok(Some(tree))
            }
            Err(e) if e.code() == ErrorCode::UnbornBranch || e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(anyhow!("cannot resolve HEAD: {}", e.message())),
        }
    }

    /// The index git is about to commit: `GIT_INDEX_FILE` when git set it
    /// (`git commit -a`, `git commit <paths>` use a temporary index),
    /// otherwise the repository's own index. Opened read-only: nothing here
    /// writes it back.
    fn index_to_commit(&self) -> Result<git2::Index> {
        if let Some(path) = std::env::var_os("GIT_INDEX_FILE").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            if !path.exists() {
                return Err(anyhow!(
                    "GIT_INDEX_FILE points to {}, which does not exist; unset it or run keyguard from a git hook",
                    path.display()
                ));
            }
            return git2::Index::open(&path)
                .with_context(|| format!("cannot read the index file {}", path.display()));
        }
        self.repo.index().map_err(|e| {
            anyhow!(
                "cannot read the index of {} ({}). If another git command is running, wait for it; \
                 if the index is corrupt, `git reset` rebuilds it from HEAD",
                self.repo.path().display(),
                e.message()
            )
        })
    }

}

fn read_blob(repo: &Repository, id: git2::Oid, path: &str) -> Result<Vec<u8>> {
    let blob = repo.find_blob(id).map_err(|e| {
        anyhow!(
            "cannot read the content of {path} (object {id}: {}). \
             The object store may be damaged: try `git fsck`",
            e.message()
        )
    })?;
    Ok(blob.content().to_vec())
}

/// A path from git (bytes) as text for reports; non-UTF-8 bytes are replaced.
fn path_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
