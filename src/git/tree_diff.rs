//! A commit's tree compared with its parent's, the way `git diff-tree -r`
//! compares them: a folder whose id is the same on both sides is unchanged
//! and skipped without reading it. The answer is the list of added and
//! modified files, as `FileDelta::from_diff` gives it from libgit2's diff,
//! which costs several times more per commit (a generic iterator over both
//! trees, and a check of every configuration file for changes).
//!
//! A change that deletes something and adds something may be a rename,
//! whose unchanged lines must not count as added: that needs libgit2's
//! similarity detection, and this walk declines it (`None`), as
//! `index_diff` does for the staged change.

use std::cmp::Ordering;

use git2::{ObjectType, Repository, Tree, TreeEntry};

use super::delta::FileDelta;

/// The files `new` adds or changes compared with `old` (`None`: a root
/// commit), or `None` when something is deleted and something added.
pub(super) fn changed_files(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
) -> Result<Option<Vec<FileDelta>>, git2::Error> {
    let mut walk = Walk {
        repo,
        path: Vec::new(),
        deltas: Vec::new(),
        added_something: false,
        deleted_something: false,
    };
    walk.folder(old, Some(new))?;
    if walk.deleted_something && walk.added_something {
        return Ok(None);
    }
    Ok(Some(walk.deltas))
}

struct Walk<'r> {
    repo: &'r Repository,
    /// The folder being compared: its path and `/`, or nothing at the root.
    path: Vec<u8>,
    deltas: Vec<FileDelta>,
    /// A path that only the new side has.
    added_something: bool,
    /// A path that only the old side has.
    deleted_something: bool,
}

impl Walk<'_> {
    /// Compares two versions of the folder at `self.path` (`None`: no such
    /// folder on that side), entry by entry in git's tree order.
    fn folder(
        &mut self,
        old: Option<&Tree<'_>>,
        new: Option<&Tree<'_>>,
    ) -> Result<(), git2::Error> {
        if let (Some(old), Some(new)) = (old, new) {
            if old.id() == new.id() {
                return Ok(());
            }
        }
        let mut olds = old.into_iter().flat_map(Tree::iter).peekable();
        let mut news = new.into_iter().flat_map(Tree::iter).peekable();
        loop {
            let order = match (olds.peek(), news.peek()) {
                (None, None) => return Ok(()),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(o), Some(n)) => tree_order(o, n),
            };
            match order {
                Ordering::Less => {
                    // A file or folder that went: it adds no line.
                    olds.next();
                    self.deleted_something = true;
                }
                Ordering::Greater => {
                    let added = news.next().expect("peeked");
                    self.added_something = true;
                    self.entry(None, &added)?;
                }
                Ordering::Equal => {
                    let (before, after) =
                        (olds.next().expect("peeked"), news.next().expect("peeked"));
                    self.entry(Some(&before), &after)?;
                }
            }
        }
    }

    /// One entry of the new side, and the entry of the same name and kind
    /// (folder or not) on the old side, if any.
    fn entry(
        &mut self,
        old: Option<&TreeEntry<'_>>,
        new: &TreeEntry<'_>,
    ) -> Result<(), git2::Error> {
        let name = new.name_bytes();
        if is_tree(new) {
            let old_tree = match old {
                Some(old) if old.id() == new.id() => return Ok(()),
                Some(old) => Some(self.repo.find_tree(old.id())?),
                None => None,
            };
            let new_tree = self.repo.find_tree(new.id())?;
            let depth = self.path.len();
            self.path.extend_from_slice(name);
            self.path.push(b'/');
            let compared = self.folder(old_tree.as_ref(), Some(&new_tree));
            self.path.truncate(depth);
            return compared;
        }
        // Symlinks and submodules hold a path or a commit id, not text.
        if !is_blob_mode(new.filemode()) {
            return Ok(());
        }
        // A symlink or submodule turned file: every line is added.
        let old_blob = old
            .filter(|o| is_blob_mode(o.filemode()))
            .map(TreeEntry::id);
        if old_blob == Some(new.id()) {
            return Ok(()); // same content (perhaps a new mode): nothing added
        }
        let mut path = self.path.clone();
        path.extend_from_slice(name);
        self.deltas.push(FileDelta {
            new_id: new.id(),
            new_path: super::path_text(&path),
            old_id: old_blob,
            old_path: None,
            size_hint: None,
            other_parents: Vec::new(),
        });
        Ok(())
    }
}

fn is_tree(entry: &TreeEntry<'_>) -> bool {
    entry.kind() == Some(ObjectType::Tree)
}

/// Regular and executable files (git also reads old group-writable modes).
fn is_blob_mode(mode: i32) -> bool {
    mode >> 12 == 0o10
}

/// git's order of tree entries: by name, a folder's name read as if it
/// ended in `/`. A file and a folder of the same name are two entries.
fn tree_order(a: &TreeEntry<'_>, b: &TreeEntry<'_>) -> Ordering {
    let (a_name, b_name) = (a.name_bytes(), b.name_bytes());
    let common = a_name.len().min(b_name.len());
    match a_name[..common].cmp(&b_name[..common]) {
        Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], entry: &TreeEntry<'_>| match name.get(common) {
        Some(&byte) => byte,
        None if is_tree(entry) => b'/',
        None => 0,
    };
    next(a_name, a).cmp(&next(b_name, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::delta::added_lines_options;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// (path, new id, old id) of each file, as the walk and as libgit2's
    /// diff (without renames) give them.
    fn both_ways(repo: &Repository, rev: &str) -> (Option<Vec<String>>, Vec<String>) {
        let commit = repo.revparse_single(rev).unwrap().peel_to_commit().unwrap();
        let tree = commit.tree().unwrap();
        let parent = commit.parent(0).ok().map(|p| p.tree().unwrap());
        let show = |deltas: Vec<FileDelta>| {
            deltas
                .iter()
                .filter(|d| d.may_add_lines())
                .map(|d| format!("{} {} {:?}", d.new_path, d.new_id, d.old_id))
                .collect::<Vec<_>>()
        };
        let walked = changed_files(repo, parent.as_ref(), &tree)
            .unwrap()
            .map(show);
        let mut options = added_lines_options();
        let diff = repo
            .diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut options))
            .unwrap();
        (walked, show(FileDelta::from_diff(&diff)))
    }

    #[test]
    fn the_walk_finds_what_libgit2s_diff_finds_and_declines_possible_renames() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let commit = |message: &str| {
            git(root, &["add", "-A"]);
            git(
                root,
                &[
                    "commit",
                    "-q",
                    "--no-verify",
                    "--allow-empty",
                    "-m",
                    message,
                ],
            );
        };
        // Names that sort differently as files and as folders.
        for path in [
            "a.rs",
            "a/b.rs",
            "a-b/c.rs",
            "a0",
            "z/deep/er/file.txt",
            "same/x",
        ] {
            write(path, &format!("first {path}\n"));
        }
        commit("root");
        write("a/b.rs", "changed\n");
        write("a/new.rs", "new\n");
        write("z/deep/er/file.txt", "deeper change\n");
        commit("changes and a new file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = root.join("a0");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::symlink("a.rs", root.join("link")).unwrap();
        }
        commit("a mode change and a symlink");
        #[cfg(unix)]
        {
            std::fs::remove_file(root.join("link")).unwrap();
            write("link", "a file now\n");
        }
        write("only-added/x.txt", "x\n");
        commit("a symlink turned file, a new folder");
        let repo = Repository::open(root).unwrap();
        for rev in ["HEAD~3", "HEAD~2", "HEAD~1", "HEAD"] {
            let (walked, libgit2) = both_ways(&repo, rev);
            assert_eq!(walked, Some(libgit2), "{rev}");
        }
        // Deleted and added: perhaps a rename, left to libgit2.
        std::fs::rename(root.join("same/x"), root.join("moved")).unwrap();
        commit("a move");
        assert_eq!(both_ways(&repo, "HEAD").0, None);
        // Only deleted: nothing added, nothing to find.
        std::fs::remove_file(root.join("a.rs")).unwrap();
        commit("a deletion");
        assert_eq!(both_ways(&repo, "HEAD"), (Some(Vec::new()), Vec::new()));
    }
}
