//! Running the real `git` and the cargo-built `keyguard` with the
//! environment isolated from the user's ([`isolated_command`]), and what a
//! finished process did ([`Run`]), with the assertions the tests share.
//!
//! Every process gets its own `HOME`, no global or system git
//! configuration, and none of the `GIT_*` variables a parent git process may
//! have set (the suite can itself be run from a hook).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    // Set by the pre-commit framework for its hooks.
    "PRE_COMMIT",
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
