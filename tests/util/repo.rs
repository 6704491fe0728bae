//! A throwaway git repository with its own `HOME` ([`TempRepo`]), and the
//! steps a scenario is written in: stage a file, commit through the hook
//! and expect it blocked or allowed.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::run::{isolated_command, keyguard_bin, Run};

/// A throwaway repository with its own `HOME`, removed when dropped.
pub struct TempRepo {
    _dir: TempDir,
    /// The working tree root.
    pub root: PathBuf,
    /// `HOME` for every command run here.
    pub home: PathBuf,
}

impl TempRepo {
    /// `git init` on branch `main`, with a fixed identity and no signing.
    pub fn new() -> TempRepo {
        TempRepo::init(&[])
    }

    /// [`TempRepo::new`] with more `git init` arguments
    /// (`--ref-format=reftable`, `--object-format=sha256`).
    pub fn init(init_args: &[&str]) -> TempRepo {
        let dir = tempfile::Builder::new()
            .prefix("keyguard-it-")
            .tempdir()
            .expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let root = base.join("repo");
        let home = base.join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let repo = TempRepo {
            _dir: dir,
            root,
            home,
        };
        repo.git(&[&["init", "-q", "-b", "main"], init_args].concat());
        repo.git(&["config", "user.name", "Keyguard Test"]);
        repo.git(&["config", "user.email", "keyguard-test@example.invalid"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["config", "core.autocrlf", "false"]);
        repo
    }

    /// A new repository with the keyguard hook installed.
    pub fn with_hook() -> TempRepo {
        let repo = TempRepo::new();
        repo.install();
        repo
    }

    /// The temporary directory holding `repo/` and `home/`; a place for
    /// files outside the repository.
    pub fn base(&self) -> &Path {
        self.root.parent().expect("repo has a parent")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `contents` at `rel`, creating folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path(rel)).unwrap();
    }

    /// A git command in the repository root, isolated.
    pub fn git_command(&self, args: &[&str]) -> Command {
        let mut cmd = isolated_command("git", &self.home);
        cmd.current_dir(&self.root).args(args);
        cmd
    }

    /// Runs git, asserting success; returns stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        let run = Run::of(self.git_command(args));
        run.assert_success();
        run.stdout
    }

    /// Runs git whatever the outcome.
    pub fn git_run(&self, args: &[&str]) -> Run {
        Run::of(self.git_command(args))
    }

    #[track_caller]
    pub fn add(&self, paths: &[&str]) {
        let mut args = vec!["add", "--"];
        args.extend_from_slice(paths);
        self.git(&args);
    }

    /// `git commit -m msg` plus `extra` arguments, through the hook.
    pub fn commit(&self, msg: &str, extra: &[&str]) -> Run {
        let mut args = vec!["commit", "-m", msg];
        args.extend_from_slice(extra);
        self.git_run(&args)
    }

    /// git in `dir` (rather than the repository root), whatever the outcome.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.git_command(args);
        cmd.current_dir(dir);
        Run::of(cmd)
    }

    /// git in the root with extra environment variables, whatever the outcome.
    pub fn git_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.git_command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::of(cmd)
    }

    /// Writes `contents` at `path` (creating folders) and stages it.
    #[track_caller]
    pub fn stage(&self, path: &str, contents: impl AsRef<[u8]>) {
        self.write(path, contents);
        self.add(&[path]);
    }

    /// The commit HEAD points at, or `None` while HEAD is unborn.
    pub fn head(&self) -> Option<String> {
        let run = self.git_run(&["rev-parse", "-q", "--verify", "HEAD"]);
        (run.code == 0).then(|| run.stdout.trim().to_string())
    }

    /// Runs `action` (a command that would commit through the hook) and
    /// asserts that the hook said no: git exits 1 and HEAD has not moved.
    #[track_caller]
    pub fn blocked(&self, action: impl FnOnce(&TempRepo) -> Run) -> Run {
        let before = self.head();
        let run = action(self);
        run.assert_code(1);
        assert_eq!(
            self.head(),
            before,
            "HEAD moved although the commit was refused\n{}",
            run.dump()
        );
        run
    }

    /// Runs `action` (a command that commits through the hook) and asserts
    /// that it went through: exit 0 and HEAD at a new commit.
    #[track_caller]
    pub fn allowed(&self, action: impl FnOnce(&TempRepo) -> Run) -> Run {
        let before = self.head();
        let run = action(self);
        run.assert_success();
        let after = self.head();
        assert!(
            after.is_some() && after != before,
            "HEAD did not move to a new commit\n{}",
            run.dump()
        );
        run
    }

    /// `git commit -m msg` through the hook, which must block it.
    #[track_caller]
    pub fn commit_blocked(&self, msg: &str) -> Run {
        self.blocked(|repo| repo.commit(msg, &[]))
    }

    /// `git commit -m msg` plus `extra`, through the hook, which must block it.
    #[track_caller]
    pub fn commit_blocked_with(&self, msg: &str, extra: &[&str]) -> Run {
        self.blocked(|repo| repo.commit(msg, extra))
    }

    /// `git commit -m msg` through the hook, which must let it through.
    #[track_caller]
    pub fn commit_allowed(&self, msg: &str) -> Run {
        self.allowed(|repo| repo.commit(msg, &[]))
    }

    /// `git commit -m msg` plus `extra`, through the hook, which must let it
    /// through.
    #[track_caller]
    pub fn commit_allowed_with(&self, msg: &str, extra: &[&str]) -> Run {
        self.allowed(|repo| repo.commit(msg, extra))
    }

    /// Commits what is staged, bypassing any hook (to plant a key in HEAD).
    #[track_caller]
    pub fn commit_no_verify(&self, msg: &str) {
        self.git(&["commit", "-q", "--no-verify", "-m", msg]);
    }

    /// Writes, stages and commits files without running the hook.
    #[track_caller]
    pub fn seed(&self, files: &[(&str, &[u8])]) {
        for (path, contents) in files {
            self.write(path, contents);
            self.add(&[path]);
        }
        self.commit_no_verify("seed");
    }

    /// Is HEAD still unborn (no commit yet)?
    pub fn head_is_unborn(&self) -> bool {
        self.git_run(&["rev-parse", "-q", "--verify", "HEAD"]).code != 0
    }

    /// The number of commits reachable from HEAD (0 when unborn).
    pub fn commit_count(&self) -> usize {
        if self.head_is_unborn() {
            return 0;
        }
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }

    /// The committed content of `path` at HEAD.
    #[track_caller]
    pub fn show_head(&self, path: &str) -> String {
        self.git(&["show", &format!("HEAD:{path}")])
    }

    /// The staged content of `path` (index stage 0).
    #[track_caller]
    pub fn show_index(&self, path: &str) -> String {
        self.git(&["show", &format!(":{path}")])
    }

    /// A keyguard command in the repository root, isolated.
    pub fn keyguard_command(&self, args: &[&str]) -> Command {
        let mut cmd = isolated_command(keyguard_bin(), &self.home);
        cmd.current_dir(&self.root).args(args);
        cmd
    }

    pub fn keyguard(&self, args: &[&str]) -> Run {
        Run::of(self.keyguard_command(args))
    }

    /// `keyguard install` in the repository, with the cargo-built binary.
    #[track_caller]
    pub fn install(&self) -> Run {
        let run = self.keyguard(&["install"]);
        run.assert_success();
        run
    }

    /// The hooks folder git uses here, absolute.
    pub fn hooks_dir(&self) -> PathBuf {
        let out = self.git(&["rev-parse", "--git-path", "hooks"]);
        let path = PathBuf::from(out.trim_end());
        if path.is_absolute() {
            path
        } else {
            self.root.join(path)
        }
    }
}
