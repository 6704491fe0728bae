//! History: the lines each commit added, for `--history` and the pre-push
//! hook. Commits are read in parallel, one repository handle per worker
//! (git2 handles are not shared between threads), and each (old blob, new
//! blob) pair is diffed once however many commits carry it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use git2::{DiffFindOptions, DiffOptions, Oid, Repository, Sort};

use super::blobs::BlobReader;
use super::delta::FileBlobs;
use super::staged::changed_files;
use super::Repo;

/// What `keyguard --history` and the pre-push hook walk.
pub struct History {
    git_dir: PathBuf,
    blobs: BlobReader,
    /// Commit ids, newest first.
    commits: Vec<Oid>,
    seen_pairs: Mutex<HashSet<(Oid, Oid)>>,
}

/// One worker's view of the repository.
pub struct CommitReader<'h> {
    history: &'h History,
    repo: Repository,
}

/// The refs one `git push` updates, as git passes them to a pre-push hook
/// on stdin: `<local ref> <local sha> <remote ref> <remote sha>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_sha: String,
    pub remote_sha: String,
}

impl PushedRef {
    /// Parses the hook's stdin; blank lines are skipped.
    pub fn parse_lines(input: &str) -> Result<Vec<PushedRef>> {
        input
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                match fields.as_slice() {
                    [_, local_sha, _, remote_sha] => Ok(PushedRef {
                        local_sha: local_sha.to_string(),
                        remote_sha: remote_sha.to_string(),
                    }),
                    _ => bail!("unexpected pre-push input line: {line:?}"),
                }
            })
            .collect()
    }
}

fn is_zero_sha(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

impl Repo {
    /// Commits of `range`: `A..B`, `A...B`, a single revision (its whole
    /// ancestry), or all of HEAD's history when `None`.
    pub fn history(&self, range: Option<&str>) -> Result<History> {
        let mut walk = self.repo.revwalk().context("cannot walk history")?;
        walk.set_sorting(Sort::TOPOLOGICAL)
            .context("cannot walk history")?;
        match range {
            Some(range) if range.contains("..") => walk
                .push_range(range)
                .map_err(|e| anyhow!("bad revision range `{range}`: {}", e.message()))?,
            Some(rev) => {
                let object = self
                    .repo
                    .revparse_single(rev)
                    .map_err(|e| anyhow!("unknown revision `{rev}`: {}", e.message()))?;
                walk.push(object.peel_to_commit()?.id())?;
            }
            None => {
                if self.head_tree()?.is_none() {
                    return Ok(self.history_of(Vec::new()));
                }
                walk.push_head().context("cannot walk from HEAD")?;
            }
        }
        let commits = walk
            .collect::<Result<Vec<_>, _>>()
            .context("cannot walk history")?;
        Ok(self.history_of(commits))
    }

    /// The commits a push sends: for each updated ref, those reachable from
    /// the new tip and not from the remote's old tip (or, for a new branch,
    /// not from any ref of `remote`).
    pub fn pushed_history(&self, remote: &str, refs: &[PushedRef]) -> Result<History> {
        let mut commits = Vec::new();
        let mut seen = HashSet::new();
        for pushed in refs {
            if is_zero_sha(&pushed.local_sha) {
                continue; // deleting a remote branch sends nothing
            }
            let mut walk = self.repo.revwalk()?;
            walk.set_sorting(Sort::TOPOLOGICAL)?;
            let local = Oid::from_str(&pushed.local_sha)
                .with_context(|| format!("bad sha in pre-push input: {}", pushed.local_sha))?;
            walk.push(local)?;
            let remote_tip = Oid::from_str(&pushed.remote_sha)
                .ok()
                .filter(|_| !is_zero_sha(&pushed.remote_sha));
            match remote_tip.filter(|id| self.repo.find_commit(*id).is_ok()) {
                Some(id) => walk.hide(id)?,
                // A new branch, or a remote tip we don't have: send only what
                // no ref of that remote already has.
                None => {
                    let _ = walk.hide_glob(&format!("refs/remotes/{remote}/*"));
                }
            }
            for id in walk {
                let id = id?;
                if seen.insert(id) {
                    commits.push(id);
                }
            }
        }
        Ok(self.history_of(commits))
    }

    fn history_of(&self, commits: Vec<Oid>) -> History {
        History {
            git_dir: self.repo.path().to_path_buf(),
            blobs: self.blobs.clone(),
            commits,
            seen_pairs: Mutex::new(HashSet::new()),
        }
    }
}

impl History {
    pub fn len(&self) -> usize {
        self.commits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// Commit ids (hex), newest first.
    pub fn commit_ids(&self) -> Vec<String> {
        self.commits.iter().map(Oid::to_string).collect()
    }

    /// A handle for one worker thread.
    pub fn reader(&self) -> Result<CommitReader<'_>> {
        let repo = Repository::open(&self.git_dir)
            .with_context(|| format!("cannot open {}", self.git_dir.display()))?;
        Ok(CommitReader {
            history: self,
            repo,
        })
    }
}

impl CommitReader<'_> {
    /// The files commit `id` added or changed, compared with its first
    /// parent (the empty tree for a root commit). Merge commits are skipped:
    /// what they bring in was added, and scanned, in the merged commits.
    pub fn changes(&self, id: &str) -> Result<Vec<FileBlobs>> {
        let oid = Oid::from_str(id)?;
        let commit = self
            .repo
            .find_commit(oid)
            .with_context(|| format!("cannot read commit {id}"))?;
        if commit.parent_count() > 1 {
            return Ok(Vec::new());
        }
        let tree = commit
            .tree()
            .with_context(|| format!("cannot read the tree of {id}"))?;
        let parent_tree = match commit.parent(0) {
            Ok(parent) => Some(
                parent
                    .tree()
                    .with_context(|| format!("cannot read the parent of {id}"))?,
            ),
            Err(_) => None,
        };
        let mut options = DiffOptions::new();
        options
            .include_typechange(true)
            .ignore_submodules(true)
            .context_lines(0);
        let mut diff = self
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))
            .with_context(|| format!("cannot diff commit {id}"))?;
        diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
        changed_files(
            &self.repo,
            &self.history.blobs,
            &diff,
            Some(&self.history.seen_pairs),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pre_push_input() {
        let zeros = "0".repeat(40);
        let a = "a".repeat(40);
        let input = format!("refs/heads/main {a} refs/heads/main {zeros}\n\n");
        assert_eq!(
            PushedRef::parse_lines(&input).unwrap(),
            [PushedRef {
                local_sha: a,
                remote_sha: zeros
            }]
        );
        assert!(PushedRef::parse_lines("garbage").is_err());
    }
}
