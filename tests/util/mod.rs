/*!
Shared helpers for the integration tests: a throwaway git repository
([`TempRepo`]), a way to run the real `git` and the cargo-built `keyguard`
with the environment isolated from the user's ([`Run`]), and fake keys built
at run time ([`Keys`]).

Every git and keyguard process gets its own `HOME`, no global or system git
configuration, and none of the `GIT_*` variables a parent git process may
have set (the suite can itself be run from a hook). Nothing here reads the
user's configuration, and nothing writes outside the temporary directory.

Fake keys are never spelt out in this source: they are generated from
templates such as `ghp_{{b62crc:30}}`, so that `keyguard --all` on this
repository stays clean.
*/

#![allow(dead_code)] // not every test module uses every helper

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use keyguard::rules::examples::{expand, Rng};
use tempfile::TempDir;

/// The binary under test, built by cargo for this test run.
pub fn keyguard_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keyguard"))
}

/// Variables a parent git process (a hook running `cargo test`) or the
/// user's shell may have set, which would point our commands at another
/// repository, index or configuration, or change keyguard's behaviour.
const INHERITED_VARS_TO_REMOVE: &[&str] = &[
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_CEILING_DIRECTORIES",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_TRACE",
    "KEYGUARD_BIN",
    "NO_COLOR",
    "CLICOLOR_FORCE",
    "CLICOLOR",
];

/// A command with the isolated environment: `HOME` set to `home`, no
/// global or system git config, no inherited `GIT_*` pointers.
pub fn isolated_command(program: impl AsRef<OsStr>, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in INHERITED_VARS_TO_REMOVE {
        cmd.env_remove(var);
    }
    // No TERM at all: colour must be decided by whether the stream is a
    // terminal, not by `TERM=dumb` happening to be set.
    cmd.env_remove("TERM");
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

/// What a finished process did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for failure messages.
    pub what: String,
}

impl Run {
    pub fn from_output(what: String, output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            what,
        }
    }

    /// Runs `cmd`, capturing stdout and stderr.
    pub fn of(mut cmd: Command) -> Run {
        let what = describe(&cmd);
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        Run::from_output(what, output)
    }

    /// Both streams, for checks that do not care which one a line went to.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// A readable dump for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "command: {}\nexit code: {}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub fn assert_code(&self, expected: i32) -> &Run {
        assert_eq!(self.code, expected, "unexpected exit code\n{}", self.dump());
        self
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Run {
        self.assert_code(0)
    }

    /// A failed `git commit` (the hook said no).
    #[track_caller]
    pub fn assert_failure(&self) -> &Run {
        assert_ne!(self.code, 0, "expected a failure\n{}", self.dump());
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn assert_output_lacks(&self, needle: &str) -> &Run {
        assert!(
            !self.all_output().contains(needle),
            "output contains {needle:?}\n{}",
            self.dump()
        );
        self
    }

    /// The full secret appears in neither stream.
    #[track_caller]
    pub fn assert_no_leak(&self, secret: &str) -> &Run {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "the full secret was printed\n{}",
            self.dump().replace(secret, "<<THE SECRET>>")
        );
        self
    }

    /// The human report (on `stream`) names `rule` at `path:line:col`, shows
    /// the redacted preview, and never the whole secret.
    #[track_caller]
    pub fn assert_human_finding(
        &self,
        stream: Stream,
        path: &str,
        line: usize,
        col: usize,
        rule: &str,
        secret: &str,
    ) -> &Run {
        let text = match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        };
        let location = format!("{path}:{line}:{col}  {rule}");
        assert!(
            text.contains(&location),
            "{stream:?} lacks {location:?}\n{}",
            self.dump().replace(secret, "<<THE SECRET>>")
        );
        let preview = redacted(secret);
        assert!(
            text.contains(&preview),
            "{stream:?} lacks the preview {preview:?}\n{}",
            self.dump().replace(secret, "<<THE SECRET>>")
        );
        self.assert_no_leak(secret)
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.dump()))
    }
}

/// Which output stream a check reads.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let _ = write!(text, " {}", arg.to_string_lossy());
    }
    text
}

/// What the report shows instead of a secret of 16 characters or more
/// (SPEC: "sk-p…(redacted, 164 chars)"). Written out here rather than taken
/// from the library, so the test pins the contract.
pub fn redacted(secret: &str) -> String {
    let length = secret.chars().count();
    assert!(length >= 16, "helper only covers secrets of 16+ characters");
    let prefix: String = secret.chars().take(4).collect();
    format!("{prefix}…(redacted, {length} chars)")
}

/// 1-based (line, column in characters) of the first occurrence of
/// `needle` in `text`.
#[track_caller]
pub fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

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
        repo.git(&["init", "-q", "-b", "main"]);
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

/// Fake credentials, generated from templates at run time. The generator
/// is seeded from the test's name so every run of a test sees the same
/// keys (reproducible failures), while no key is written in the source.
pub struct Keys {
    rng: Rng,
}

impl Keys {
    pub fn for_test(name: &str) -> Keys {
        // FNV-1a: a stable seed from the test name.
        let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            seed ^= u64::from(b);
            seed = seed.wrapping_mul(0x0100_0000_01b3);
        }
        Keys {
            rng: Rng::seeded(seed),
        }
    }

    /// Expands a `{{alphabet:length}}` template.
    pub fn expand(&mut self, template: &str) -> String {
        expand(template, &mut self.rng).expect("valid template")
    }

    /// A GitHub personal access token, with a valid checksum.
    pub fn github(&mut self) -> String {
        self.expand(&["ghp", "{{b62crc:30}}"].join("_"))
    }

    /// An OpenAI project key (carries the `T3BlbkFJ` marker).
    pub fn openai(&mut self) -> String {
        let marker = ["T3Blb", "kFJ"].concat();
        self.expand(&format!(
            "sk-proj-{{{{b64url:74}}}}{marker}{{{{b64url:74}}}}"
        ))
    }

    pub fn anthropic(&mut self) -> String {
        self.expand(&["sk-ant", "api03-{{b64url:93}}AA"].join("-"))
    }

    pub fn aws_access_key_id(&mut self) -> String {
        self.expand(&["AK", "IA{{upper:16}}"].concat())
    }

    pub fn stripe(&mut self) -> String {
        self.expand(&["sk", "live", "{{b62:24}}"].join("_"))
    }

    pub fn slack_bot(&mut self) -> String {
        self.expand(&["xo", "xb-{{digits:12}}-{{digits:13}}-{{b62:24}}"].concat())
    }

    /// A random value for a `api_key = "..."` assignment.
    pub fn generic_value(&mut self) -> String {
        self.expand("{{b62:32}}")
    }

    /// A PEM private key block (header, two body lines, footer), and the
    /// body's first line (what the rule reports as the secret starts with).
    pub fn pem_block(&mut self) -> (String, String) {
        let header = ["-----BEGIN RSA", "PRIVATE KEY-----"].join(" ");
        let footer = ["-----END RSA", "PRIVATE KEY-----"].join(" ");
        let first = self.expand("{{b64:64}}");
        let second = self.expand("{{b64:64}}");
        (format!("{header}\n{first}\n{second}\n{footer}\n"), first)
    }
}

/// Builds a `PATH` from the current one without any folder that holds a
/// `keyguard` executable, so the shim cannot fall back to one.
pub fn path_without_keyguard() -> String {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&current)
        .filter(|dir| !dir.join("keyguard").exists())
        .collect();
    std::env::join_paths(kept)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}
