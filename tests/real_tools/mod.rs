/*!
Credentials made by the programs that make them, staged through the real
hook: what `ssh-keygen`, `openssl`, `gpg`, `age-keygen`, `wg`, `puttygen`,
`kubectl`, `git credential-store`, `aws configure`, Django and the JWT and
macaroon libraries write is blocked, and their public halves go through.

Random bodies in the right alphabet are not real keys: a real OpenSSH body
starts with a fixed magic and holds runs of `A`, and the first round's rules
missed every one of them. So these tests never hand-write a key the tool
would have made. Where no tool exists for a file (`.netrc`, `.pgpass`,
Docker's `config.json`, ...) the test builds it from the documented format
and says so.

A program that is missing skips its test with a `SKIPPED` line on stderr;
with `KEYGUARD_REAL_TOOLS=require` (set by `./test.sh`, which installs
them) a missing program fails the test instead.
*/

// ssh-keygen, openssl, gpg, age-keygen, wg and puttygen.
mod keygen;
// What frameworks, kubectl and credential stores write, and the documented
// files no tool writes offline.
mod formats;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Run, TempRepo};

/// The environment variable that turns a missing program into a failure.
pub(super) const REQUIRE_VAR: &str = "KEYGUARD_REAL_TOOLS";

/// A scratch folder for a tool's output, outside any repository.
pub(super) struct Workshop {
    dir: tempfile::TempDir,
}

impl Workshop {
    pub(super) fn new() -> Workshop {
        Workshop {
            dir: tempfile::Builder::new()
                .prefix("keyguard-tools-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(super) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_else(|e| panic!("the tool wrote no readable {name}: {e}"))
    }

    /// Runs `program args` in the workshop and returns its stdout; panics
    /// with the tool's own words when it fails.
    #[track_caller]
    pub(super) fn run(&self, program: &str, args: &[&str]) -> String {
        self.run_with(program, args, &[])
    }

    #[track_caller]
    /// `openssl req -x509`: a new key (`newkey`, e.g. `rsa:2048`, with
    /// extra `-pkeyopt`s) written to `key`, and a self-signed certificate
    /// for it written to `cert`.
    pub(super) fn self_signed(&self, newkey: &[&str], key: &str, cert: &str, subject: &str) {
        let mut args = vec!["req", "-x509", "-newkey"];
        args.extend_from_slice(newkey);
        args.extend_from_slice(&[
            "-nodes", "-keyout", key, "-out", cert, "-subj", subject, "-days", "2",
        ]);
        self.run("openssl", &args);
    }

    pub(super) fn run_with(&self, program: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(self.dir.path());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let run = Run::of(cmd);
        assert_eq!(run.code, 0, "the tool failed\n{}", run.dump());
        run.stdout
    }
}

/// Is `program` here? If not, says so (or fails, when tools are required).
#[track_caller]
pub(super) fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    missing_unless(found, program)
}

/// Is the Python module importable? (Django, jwt, pymacaroons.)
#[track_caller]
pub(super) fn have_python_module(module: &str) -> bool {
    let found = have("python3")
        && Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|out| out.status.success());
    missing_unless(found, &format!("python3 module {module}"))
}

#[track_caller]
pub(super) fn missing_unless(found: bool, what: &str) -> bool {
    if !found {
        let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "require");
        assert!(
            !required,
            "{what} is missing: run ./test.sh, which installs it"
        );
        eprintln!("SKIPPED: {what} is not installed (./test.sh installs it)");
    }
    found
}

/// Stages `content` at `path` and commits through the hook: blocked with
/// exit 1 by `rule`, and no line of the credential printed whole.
#[track_caller]
pub(super) fn assert_blocked(path: &str, content: &str, rule: &str) {
    let repo = TempRepo::with_hook();
    repo.stage(path, content);
    let run = repo.commit_blocked("add a credential");
    assert!(
        run.stderr.contains(&format!("  {rule}  ")),
        "not reported by `{rule}`\n{}",
        run.dump()
    );
    for line in content.lines().map(str::trim).filter(|l| l.len() >= 24) {
        if !line.starts_with("-----") {
            run.assert_no_leak(line);
        }
    }
    assert!(repo.head_is_unborn(), "the commit went through");
}

/// Stages `content` at `path` and commits through the hook: it goes through.
#[track_caller]
pub(super) fn assert_allowed(path: &str, content: &str) {
    let repo = TempRepo::with_hook();
    repo.stage(path, content);
    repo.commit_allowed("add a public file");
    assert_eq!(repo.commit_count(), 1);
}

/// The file indented under a YAML block scalar (`key: |`).
pub(super) fn in_yaml_block(name: &str, text: &str) -> String {
    let mut yaml = format!("deploy:\n  {name}: |\n");
    for line in text.lines() {
        yaml.push_str("    ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    yaml
}

/// The file as one JSON string, newlines written as `\n`.
pub(super) fn in_json_string(name: &str, text: &str) -> String {
    serde_json::json!({ name: text }).to_string()
}
