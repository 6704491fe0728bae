/*!
Repository content cannot make keyguard leak, hang or skip: a
`.keyguard.toml` or baseline that is a symlink out of the repository, a FIFO,
a device or too large is refused (exit 2) without printing any of it; parse
errors name file:line:column and redact values; names and descriptions from
the repository are printed with control characters escaped; and a large text
file is scanned to its end whatever bytes its later blocks hold.
*/

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Keys, Run, TempRepo};

/// Runs `cmd`, killing it if it has not finished in `limit`, so that a
/// regression (a read that blocks) fails the test instead of hanging it.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Run {
    let what = format!("{cmd:?}");
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn keyguard");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still ran after {limit:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from_output(what, child.wait_with_output().expect("output"))
}

fn keyguard_bounded(repo: &TempRepo, args: &[&str]) -> Run {
    run_with_timeout(repo.keyguard_command(args), Duration::from_secs(60))
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A clean file staged, so that a scan has something to do.
fn repo_with_clean_change() -> TempRepo {
    let repo = TempRepo::with_hook();
    repo.stage("app.py", "x = 1\n");
    repo
}

// ---- item 5: nothing in a large text file is dropped -----------------------

/// A 34 MB text file (read in 8 MB blocks) whose every line after the first
/// megabyte starts with a NUL, so that every later block has a NUL in its
/// first 8,000 bytes, with a key in the third block. Returns the key's line.
fn write_large_text_with_nuls(path: &Path, key: &str) -> usize {
    let filler = "\0 log line with a NUL first, then text to fill the file\n";
    let mut bytes = "plain text line\n".repeat(65_536).into_bytes(); // 1 MiB
    let mut lines = 65_536;
    while bytes.len() < (20 << 20) {
        bytes.extend_from_slice(filler.as_bytes());
        lines += 1;
    }
    bytes.extend_from_slice(format!("\0 token = \"{key}\"\n").as_bytes());
    let key_line = lines + 1;
    while bytes.len() < (34 << 20) {
        bytes.extend_from_slice(filler.as_bytes());
    }
    std::fs::write(path, &bytes).expect("write the large file");
    key_line
}

#[test]
fn a_nul_in_a_later_block_of_a_large_text_file_does_not_hide_a_key() {
    let repo = TempRepo::new();
    let key = Keys::for_test("large_text_with_nuls").github();
    let line = write_large_text_with_nuls(&repo.path("big.log"), &key);
    for args in [&["--all"][..], &["big.log"][..]] {
        let run = keyguard_bounded(&repo, args);
        run.assert_code(1);
        run.assert_stdout_contains(&format!("big.log:{line}:12  github-token"));
        run.assert_stdout_contains("in 1 file scanned");
        run.assert_no_leak(&key);
    }
}

// ---- item 7: the config and baseline are read as hostile files -------------

/// A file outside the repository holding a fake secret built now, and the
/// secret. Its lines are also valid-looking TOML/JSON keys, so that any
/// echo of them would show.
fn outside_file(repo: &TempRepo, name: &str) -> (std::path::PathBuf, String) {
    let secret = Keys::for_test(name).github();
    let path = repo.base().join(name);
    std::fs::write(&path, format!("leaked_marker = \"{secret}\n")).unwrap();
    (path, secret)
}

#[test]
fn a_config_linked_outside_the_repository_is_refused_without_printing_it() {
    let repo = repo_with_clean_change();
    let (outside, secret) = outside_file(&repo, "outside.toml");
    symlink(&outside, repo.path(".keyguard.toml"));
    for run in [keyguard_bounded(&repo, &[]), repo.commit("x", &[])] {
        run.assert_code(if run.what.contains("commit") { 1 } else { 2 });
        run.assert_stderr_contains("symbolic link to a file outside the repository");
        run.assert_stderr_contains("replace the link with a regular file");
        run.assert_no_leak(&secret);
        run.assert_output_lacks("leaked_marker");
        run.assert_output_lacks(&secret[..8]);
    }
    assert!(repo.head_is_unborn(), "a commit went through");
}

#[test]
#[cfg(target_os = "linux")]
fn a_config_linked_to_proc_environ_does_not_print_the_environment() {
    let repo = repo_with_clean_change();
    let secret = Keys::for_test("proc_environ").github();
    symlink("/proc/self/environ", repo.path(".keyguard.toml"));
    let mut cmd = repo.keyguard_command(&[]);
    cmd.env("CI_DEPLOY_TOKEN", &secret);
    let run = run_with_timeout(cmd, Duration::from_secs(60));
    run.assert_code(2);
    run.assert_stderr_contains("outside the repository");
    run.assert_no_leak(&secret);
    run.assert_output_lacks("CI_DEPLOY_TOKEN");
    run.assert_output_lacks("HOME=");
}

#[test]
fn a_config_linked_to_dev_zero_is_refused() {
    let repo = repo_with_clean_change();
    symlink("/dev/zero", repo.path(".keyguard.toml"));
    keyguard_bounded(&repo, &[])
        .assert_code(2)
        .assert_stderr_contains("outside the repository");
    // Named by the user, it may be anywhere, but it is still no regular file.
    keyguard_bounded(&repo, &["--config", "/dev/zero"])
        .assert_code(2)
        .assert_stderr_contains("it is a device, not a regular file");
}

#[test]
fn a_fifo_config_or_baseline_is_refused_without_blocking() {
    let repo = repo_with_clean_change();
    mkfifo(&repo.path(".keyguard.toml"));
    for args in [&[][..], &["--all"][..]] {
        keyguard_bounded(&repo, args)
            .assert_code(2)
            .assert_stderr_contains("it is a FIFO (named pipe), not a regular file");
    }
    // The same FIFO reached through a link inside the repository, or named
    // on the command line.
    std::fs::rename(repo.path(".keyguard.toml"), repo.path("pipe")).unwrap();
    symlink("pipe", repo.path(".keyguard.toml"));
    keyguard_bounded(&repo, &[])
        .assert_code(2)
        .assert_stderr_contains("FIFO");
    std::fs::remove_file(repo.path(".keyguard.toml")).unwrap();
    keyguard_bounded(&repo, &["--config", "pipe"])
        .assert_code(2)
        .assert_stderr_contains("FIFO");
    mkfifo(&repo.path(".keyguard-baseline.json"));
    keyguard_bounded(&repo, &[])
        .assert_code(2)
        .assert_stderr_contains("refusing to read the baseline")
        .assert_stderr_contains("FIFO");
}

#[test]
fn an_oversize_config_is_refused() {
    let repo = repo_with_clean_change();
    let comment = format!("# {}\n", "x".repeat(1022));
    repo.write(".keyguard.toml", comment.repeat(1025));
    keyguard_bounded(&repo, &[])
        .assert_code(2)
        .assert_stderr_contains("larger than 1 MiB");
    repo.commit_blocked("x");
    assert!(repo.head_is_unborn());
}

#[test]
fn a_config_linked_inside_the_repository_is_followed() {
    let repo = repo_with_clean_change();
    let token = Keys::for_test("linked_inside").github();
    repo.write("ci/keyguard.toml", "disabled_rules = [\"github-token\"]\n");
    symlink("ci/keyguard.toml", repo.path(".keyguard.toml"));
    repo.stage("gh.py", format!("GH = \"{token}\"\n"));
    repo.commit_allowed("allowed by the linked config");
}

#[test]
fn config_parse_errors_name_the_line_never_the_secret() {
    let repo = repo_with_clean_change();
    let secret = Keys::for_test("syntax_error").github();
    // A syntax error (unterminated array) and a type error, each on a line
    // holding the secret.
    for (config, at) in [
        (format!("# x\ndisabled_rules = [\"{secret}\"\n"), ":2:"),
        (
            format!("[allow]\n\npaths = \"{secret}\"\n"),
            ":3:9: invalid type",
        ),
    ] {
        repo.write(".keyguard.toml", &config);
        for run in [keyguard_bounded(&repo, &[]), repo.commit("x", &[])] {
            run.assert_failure();
            run.assert_stderr_contains(&format!(".keyguard.toml{at}"));
            run.assert_stderr_contains("(the line, redacted: ");
            run.assert_no_leak(&secret);
            run.assert_output_lacks(&secret[..8]);
        }
    }
    assert!(repo.head_is_unborn());
}

#[test]
fn a_baseline_linked_outside_or_broken_prints_none_of_it() {
    let repo = repo_with_clean_change();
    let (outside, secret) = outside_file(&repo, "outside.json");
    symlink(&outside, repo.path(".keyguard-baseline.json"));
    keyguard_bounded(&repo, &[])
        .assert_code(2)
        .assert_stderr_contains("refusing to read the baseline")
        .assert_stderr_contains("outside the repository")
        .assert_no_leak(&secret)
        .assert_output_lacks("leaked_marker");

    std::fs::remove_file(repo.path(".keyguard-baseline.json")).unwrap();
    let broken = format!("{{\n  \"version\": \"{secret}\",\n  \"salt\": \"00\"\n}}\n");
    repo.write(".keyguard-baseline.json", broken);
    keyguard_bounded(&repo, &[])
        .assert_code(2)
        .assert_stderr_contains(".keyguard-baseline.json:2:")
        .assert_stderr_contains("invalid type: string \"ghp_…")
        .assert_stderr_contains("delete it and run `keyguard baseline` again")
        .assert_no_leak(&secret)
        .assert_output_lacks(&secret[..8]);
}

// ---- item 7: repository strings are printed escaped -----------------------

#[test]
fn a_file_name_with_control_characters_is_escaped_in_a_cannot_read_error() {
    let repo = TempRepo::new();
    // A tracked path under a regular file cannot be opened (ENOTDIR), even
    // by root: the scan is incomplete and the message names it.
    repo.write("plain.txt", "x\n");
    let blob = repo.git(&["hash-object", "-w", "plain.txt"]);
    let name = "plain.txt/evil\x1b[31m\nFORGED LINE";
    let cacheinfo = format!("100644,{},{name}", blob.trim());
    repo.git(&["update-index", "--add", "--cacheinfo", &cacheinfo]);
    for format in ["human", "json"] {
        let run = keyguard_bounded(&repo, &["--all", "--format", format]);
        run.assert_code(2);
        run.assert_output_lacks("\x1b");
        run.assert_output_lacks("\nFORGED LINE");
        assert!(
            run.all_output()
                .contains("cannot read \"plain.txt/evil\\x1b[31m\\nFORGED LINE\""),
            "{}",
            run.dump()
        );
    }
}

#[test]
fn rule_descriptions_and_names_from_the_config_are_escaped() {
    let repo = TempRepo::new();
    let config = "[[rules]]\nid = \"team-token\"\n\
                  description = \"Team token\\u001b]0;owned\\u0007\\nFORGED LINE\"\n\
                  regex = 'tmtk_(?P<secret>[0-9a-f]{24})'\nkeywords = [\"tmtk_\"]\n";
    repo.write(".keyguard.toml", config);
    let token = format!("tmtk_{}", "0123456789abcdef01234567");
    repo.write("app.py", format!("T = \"{token}\"\n"));
    let escaped = "Team token\\x1b]0;owned\\x07\\nFORGED LINE";
    for args in [&["app.py"][..], &["rules"][..]] {
        let run = keyguard_bounded(&repo, args);
        run.assert_output_lacks("\x1b");
        run.assert_output_lacks("\x07");
        run.assert_output_lacks("\nFORGED LINE");
        run.assert_stdout_contains(escaped);
    }
    keyguard_bounded(&repo, &["app.py"])
        .assert_code(1)
        .assert_stdout_contains("app.py:1:11  team-token");

    // An id or glob holding a control character is refused, named by field.
    repo.write(
        ".keyguard.toml",
        "disabled_rules = [\"ok\", \"bad\\u001b[2J\"]\n",
    );
    keyguard_bounded(&repo, &["app.py"])
        .assert_code(2)
        .assert_stderr_contains("disabled_rules[1] holds a control character")
        .assert_output_lacks("\x1b");
}
