//! History: the lines each commit added, for `--history` and the pre-push
//! hook. Commits are read in parallel, one repository handle per worker
//! (git2 handles are not shared between threads). A merge adds what its
//! result holds that no parent had (see [`super::merge`]), like any other
//! commit's lines.
//!
//! A push sends the commits reachable from a pushed id and from neither a
//! remote-tracking ref nor the remote's old id of any pushed ref
//! (`git rev-list NEW... --not --remotes OLD...`). Nothing here contacts
//! the remote: a hook gets no network, and what the remote already has is
//! known well enough from the tracking refs and the ids git passes.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use git2::{Object, ObjectType, Oid, Repository};

use super::blobs::{load_changed_files, BlobReader, ChangedBlobs};
use super::delta::{added_lines_options, with_renames, ContentKey, FileDelta};
use super::merge::keep_what_the_merge_adds;
use super::{parse_id, Repo};

/// What `keyguard --history` and the pre-push hook walk.
pub struct History {
    git_dir: PathBuf,
    blobs: BlobReader,
    /// Commit ids, newest first, then the blobs and trees of `tagged`.
    ids: Vec<Oid>,
    /// Blobs and trees that a pushed ref names directly (a tag of a blob),
    /// with the ref's name: scanned whole, as files named after the ref.
    tagged: HashMap<Oid, String>,
}

/// One worker's view of the repository.
pub struct CommitReader<'h> {
    history: &'h History,
    repo: Repository,
}

/// One file a commit adds or changes: read, or answered for without
/// reading by the caller's `known` (see [`CommitReader::changes`]).
pub enum CommitFile<T> {
    Known {
        path: String,
        old_path: Option<String>,
        answer: T,
    },
    Read {
        key: ContentKey,
        blobs: ChangedBlobs,
    },
}

/// One ref a `git push` updates, as git passes it to a pre-push hook on
/// stdin: `<local ref> <local id> <remote ref> <remote id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    /// What the push sends from, as the user named it (`refs/heads/main`,
    /// `HEAD`, `(delete)`).
    pub local_ref: String,
    pub local_id: String,
    /// What the remote has now; all zeros for a ref the remote does not
    /// have.
    pub remote_id: String,
}

impl PushedRef {
    /// Parses the hook's stdin; blank lines are skipped.
    pub fn parse_lines(input: &str) -> Result<Vec<PushedRef>> {
        input
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                // From the right: the ids and the remote ref hold no space.
                let fields: Vec<&str> = line.trim_end().rsplitn(4, ' ').collect();
                match fields.as_slice() {
                    [remote_id, _, local_id, local_ref]
                        if is_hex(local_id) && is_hex(remote_id) =>
                    {
                        Ok(PushedRef {
                            local_ref: local_ref.to_string(),
                            local_id: local_id.to_string(),
                            remote_id: remote_id.to_string(),
                        })
                    }
                    _ => bail!(
                        "unexpected pre-push input line: {:?}",
                        line.escape_debug().to_string()
                    ),
                }
            })
            .collect()
    }

    /// A deletion sends nothing.
    fn deletes(&self) -> bool {
        is_zero_id(&self.local_id)
    }
}

fn is_hex(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Git's null id: 40 zeros, or 64 in a SHA-256 repository.
fn is_zero_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b == b'0')
}

impl Repo {
    /// Commits of `range`, as `git log` takes it (`A..B`, `A...B`, a single
    /// revision and its ancestry), or all of HEAD's history when `None`.
    /// Listed by git (`git rev-list`), which reads refs in every backend.
    pub fn history(&self, range: Option<&str>) -> Result<History> {
        let commits = match range {
            Some(range) if range.starts_with('-') => {
                bail!("bad revision range `{range}`: a range cannot start with `-`")
            }
            Some(range) => self
                .rev_list(&[range])
                .with_context(|| format!("bad revision range `{range}`"))?,
            None => match self.head_commit()? {
                Some(head) => self
                    .rev_list(&[&head.to_string()])
                    .context("cannot walk from HEAD")?,
                None => Vec::new(),
            },
        };
        Ok(self.history_of(commits, HashMap::new()))
    }

    /// What a push sends (see the module's documentation): for each pushed
    /// ref that is not a deletion, the commits reachable from its new id
    /// and from no remote-tracking ref nor any remote id given that this
    /// repository knows; a pushed blob or tree (a tag of one), whole.
    pub fn pushed_history(&self, refs: &[PushedRef]) -> Result<History> {
        let mut revs = Vec::new();
        let mut tagged = HashMap::new();
        for pushed in refs.iter().filter(|p| !p.deletes()) {
            let object = self.pushed_object(&pushed.local_id).with_context(|| {
                format!(
                    "cannot read what the push sends for {:?}",
                    pushed.local_ref.escape_debug().to_string()
                )
            })?;
            match object.kind() {
                Some(ObjectType::Commit) => revs.push(object.id().to_string()),
                Some(ObjectType::Blob | ObjectType::Tree) => {
                    tagged.insert(object.id(), pushed.local_ref.clone());
                }
                _ => {}
            }
        }
        if revs.is_empty() {
            return Ok(self.history_of(Vec::new(), tagged));
        }
        // What the remote is known to have: every remote-tracking ref (a
        // push by URL names no remote), and the old ids git passes that
        // this repository has (someone else may have pushed them).
        revs.extend(["--not".to_string(), "--remotes".to_string()]);
        for pushed in refs.iter().filter(|p| !is_zero_id(&p.remote_id)) {
            if let Ok(object) = self.pushed_object(&pushed.remote_id) {
                if object.kind() == Some(ObjectType::Commit) {
                    revs.push(object.id().to_string());
                }
            }
        }
        let revs: Vec<&str> = revs.iter().map(String::as_str).collect();
        let commits = self
            .rev_list(&revs)
            .context("cannot list the pushed commits")?;
        Ok(self.history_of(commits, tagged))
    }

    /// The object `hex` names, tags peeled: a commit, tree or blob.
    fn pushed_object(&self, hex: &str) -> Result<Object<'_>> {
        let id = parse_id(hex)?;
        let mut object = self
            .repo
            .find_object(id, None)
            .map_err(|e| anyhow!("object {hex} is not in this repository: {}", e.message()))?;
        while object.kind() == Some(ObjectType::Tag) {
            object = object
                .peel(ObjectType::Any)
                .map_err(|e| anyhow!("cannot read the tag {hex}: {}", e.message()))?;
        }
        Ok(object)
    }

    fn history_of(&self, commits: Vec<Oid>, tagged: HashMap<Oid, String>) -> History {
        let mut ids = commits;
        let mut objects: Vec<Oid> = tagged.keys().copied().collect();
        objects.sort();
        ids.extend(objects);
        History {
            git_dir: self.repo.path().to_path_buf(),
            blobs: self.blobs.clone(),
            ids,
            tagged,
        }
    }
}

impl History {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Commit ids (hex), newest first, then the ids of pushed blobs and
    /// trees.
    pub fn commit_ids(&self) -> Vec<String> {
        self.ids.iter().map(Oid::to_string).collect()
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
    /// The files commit `id` adds or changes, compared with its first
    /// parent (the empty tree for a root commit) and, for a merge, with
    /// every other parent. `known` answers for a file without reading it
    /// (a path never scanned, a content already scanned), given its path,
    /// the path it was renamed from and its [`ContentKey`]; every other
    /// file is read.
    pub fn changes<T>(
        &self,
        id: &str,
        known: impl Fn(&str, Option<&str>, &ContentKey) -> Option<T>,
    ) -> Result<Vec<CommitFile<T>>> {
        let oid = parse_id(id)?;
        let deltas = match self.history.tagged.get(&oid) {
            Some(name) => self.tagged_deltas(oid, name)?,
            None => self.commit_deltas(oid)?,
        };
        let mut files = Vec::new();
        let mut to_read = Vec::new();
        let mut keys = Vec::new();
        for delta in deltas.into_iter().filter(FileDelta::may_add_lines) {
            let key = delta.content_key();
            match known(&delta.new_path, delta.old_path.as_deref(), &key) {
                Some(answer) => files.push(CommitFile::Known {
                    path: delta.new_path,
                    old_path: delta.old_path,
                    answer,
                }),
                None => {
                    to_read.push(delta);
                    keys.push(key);
                }
            }
        }
        let read = load_changed_files(&self.history.blobs, &self.repo, to_read, |blobs| blobs)?;
        files.extend(
            keys.into_iter()
                .zip(read)
                .map(|(key, blobs)| CommitFile::Read { key, blobs }),
        );
        Ok(files)
    }

    fn commit_deltas(&self, id: Oid) -> Result<Vec<FileDelta>> {
        let commit = self
            .repo
            .find_commit(id)
            .with_context(|| format!("cannot read commit {id}"))?;
        let tree = commit
            .tree()
            .with_context(|| format!("cannot read the tree of {id}"))?;
        let parent_trees = commit
            .parents()
            .map(|parent| {
                parent
                    .tree()
                    .with_context(|| format!("cannot read the parent {} of {id}", parent.id()))
            })
            .collect::<Result<Vec<_>>>()?;
        // libgit2's diff only where renames may have to be found.
        let walked = super::tree_diff::changed_files(&self.repo, parent_trees.first(), &tree)
            .with_context(|| format!("cannot diff commit {id}"))?;
        let mut deltas = match walked {
            Some(deltas) => deltas,
            None => {
                let diff = with_renames(|| {
                    let mut options = added_lines_options();
                    self.repo
                        .diff_tree_to_tree(parent_trees.first(), Some(&tree), Some(&mut options))
                        .with_context(|| format!("cannot diff commit {id}"))
                })?;
                FileDelta::from_diff(&diff)
            }
        };
        if let Some(other_parents) = parent_trees.get(1..).filter(|others| !others.is_empty()) {
            keep_what_the_merge_adds(&mut deltas, other_parents);
        }
        Ok(deltas)
    }

    /// A pushed blob as one new file named after its ref; a pushed tree as
    /// a root commit of it.
    fn tagged_deltas(&self, id: Oid, name: &str) -> Result<Vec<FileDelta>> {
        let object = self
            .repo
            .find_object(id, None)
            .with_context(|| format!("cannot read the object {id} of {name}"))?;
        match object.kind() {
            Some(ObjectType::Blob) => Ok(vec![FileDelta::whole(name.to_string(), id, None)]),
            Some(ObjectType::Tree) => {
                let tree = object.peel_to_tree()?;
                let mut options = added_lines_options();
                let diff = self
                    .repo
                    .diff_tree_to_tree(None, Some(&tree), Some(&mut options))
                    .with_context(|| format!("cannot read the tree {id} of {name}"))?;
                Ok(FileDelta::from_diff(&diff))
            }
            _ => Ok(Vec::new()),
        }
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
                local_ref: "refs/heads/main".into(),
                local_id: a.clone(),
                remote_id: zeros.clone(),
            }]
        );
        let deletion = format!("(delete) {zeros} refs/heads/gone {a}\n");
        assert!(PushedRef::parse_lines(&deletion).unwrap()[0].deletes());
        // SHA-256 ids are 64 digits; the null id is 64 zeros.
        let long_zeros = "0".repeat(64);
        let long = format!("(delete) {long_zeros} refs/heads/gone {}\n", "b".repeat(64));
        assert!(PushedRef::parse_lines(&long).unwrap()[0].deletes());
        assert!(PushedRef::parse_lines("garbage").is_err());
        assert!(PushedRef::parse_lines(&format!("main {a} main not-an-id")).is_err());
    }
}
