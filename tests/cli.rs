/*!
The command line as a contract: exit codes (0 clean, 1 findings, 2 could
not scan), the JSON report's fields, what `--all` and `keyguard PATH` read,
and plain output when the stream is not a terminal or `NO_COLOR` is set.
(That a scan writes nothing is in `scenarios/never_writes.rs`.)
*/

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{
    isolated_command, keyguard_bin, position_of, redacted, Keys, Run, Stream, TempRepo,
};

/// `keyguard args` in a fresh folder that is not inside any repository.
fn keyguard_outside_repo(args: &[&str], setup: impl FnOnce(&Path)) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    setup(&dir_path);
    let mut cmd = isolated_command(keyguard_bin(), &dir_path);
    cmd.current_dir(&dir_path)
        .env("GIT_CEILING_DIRECTORIES", dir_path.parent().unwrap())
        .args(args);
    Run::of(cmd)
}

// ---- exit codes ---------------------------------------------------------------

#[test]
fn outside_a_repository_the_staged_scan_exits_2_with_a_helpful_message() {
    for args in [&[][..], &["--staged"][..], &["--all"][..]] {
        let run = keyguard_outside_repo(args, |_| {});
        run.assert_code(2);
        run.assert_stderr_contains("not inside a git repository");
        // It says what to do instead.
        run.assert_stderr_contains("keyguard PATH");
    }
}

#[test]
fn a_bad_flag_exits_2() {
    let repo = TempRepo::new();
    repo.keyguard(&["--no-such-flag"]).assert_code(2);
    repo.keyguard(&["--format", "xml"]).assert_code(2);
}

#[test]
fn clean_exits_0_and_findings_exit_1() {
    let repo = TempRepo::new();
    repo.keyguard(&[]).assert_code(0);
    repo.stage("a.py", "x = 1\n");
    repo.keyguard(&[])
        .assert_code(0)
        .assert_stderr_contains("0 findings");
    let token = Keys::for_test("exit_codes").github();
    repo.stage("b.py", format!("GH = \"{token}\"\n"));
    let run = repo.keyguard(&[]);
    run.assert_code(1);
    run.assert_no_leak(&token);
}

/// `--version` names where the build came from: this checkout's commit
/// when the crate is built at the root of a git working tree (as here), else
/// a crates.io package or a source build without git (build.rs).
#[test]
fn version_names_the_commit_of_the_checkout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
    };
    let run = keyguard_outside_repo(&["--version"], |_| {});
    run.assert_success();
    let line = run.stdout.trim().to_string();
    let version = env!("CARGO_PKG_VERSION");
    let toplevel = git(&["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    if toplevel.is_some_and(|top| top.canonicalize().unwrap() == root.canonicalize().unwrap()) {
        let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap();
        assert_eq!(line, format!("keyguard {version} (commit {commit})"));
    } else {
        assert!(
            line.starts_with(&format!("keyguard {version} (")) && !line.contains("(commit "),
            "{line}"
        );
    }
}

#[test]
fn a_mistyped_subcommand_is_a_usage_error_with_a_suggestion() {
    for (typed, suggestion) in [
        ("instal", "'install'"),
        ("unistall", "'uninstall'"),
        ("rule", "'rules'"),
        ("version", "'--version'"),
    ] {
        let run = keyguard_outside_repo(&[typed], |_| {});
        run.assert_code(2)
            .assert_stderr_contains(&format!("did you mean {suggestion}"))
            .assert_output_lacks("cannot scan");
    }
    // A file of that name is what the user meant: it is scanned.
    keyguard_outside_repo(&["instal"], |dir| {
        fs::write(dir.join("instal"), "nothing here\n").unwrap();
    })
    .assert_success();
}

/// `keyguard X | head -1`: a reader that closes the pipe early. Here the
/// pipe's read end is closed before keyguard starts, so its first write
/// fails for certain.
#[cfg(unix)]
#[test]
fn a_closed_stdout_is_neither_a_panic_nor_an_error() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let closed_pipe = || {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        drop(unsafe { OwnedFd::from_raw_fd(fds[0]) });
        std::process::Stdio::from(unsafe { OwnedFd::from_raw_fd(fds[1]) })
    };
    let repo = TempRepo::new();
    let token = Keys::for_test("closed_pipe").github();
    repo.write("app.py", format!("GH = \"{token}\"\n"));
    for (args, expected) in [
        (&["completions", "fish"][..], 0),
        (&["completions", "bash"][..], 0),
        (&["rules"][..], 0),
        (&["man"][..], 0),
        (&["--all"][..], 1),
        (&["--all", "--format", "json"][..], 1),
    ] {
        let mut cmd = repo.keyguard_command(args);
        cmd.stdout(closed_pipe());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn version_and_help_exit_0() {
    let repo = TempRepo::new();
    repo.keyguard(&["--version"])
        .assert_success()
        .assert_stdout_contains("keyguard");
    repo.keyguard(&["--help"])
        .assert_success()
        .assert_stdout_contains("--all");
}

// ---- JSON ---------------------------------------------------------------------

#[test]
fn json_report_has_the_spec_fields_and_a_redacted_secret() {
    let repo = TempRepo::new();
    // A first commit: report fingerprints are keyed by it (before one, by a
    // key for the run only).
    repo.seed(&[("README.md", b"# app\n")]);
    let token = Keys::for_test("json").github();
    let content = format!("import os\n\n    GH = \"{token}\"\n");
    repo.write("src/app.py", &content);
    repo.write("src/clean.py", "x = 1\n");
    repo.add(&["src/app.py", "src/clean.py"]);

    let run = repo.keyguard(&["--format", "json"]);
    run.assert_code(1);
    run.assert_no_leak(&token);
    let doc = run.json();
    assert_eq!(doc["version"], 1, "{doc:#}");

    let findings = doc["findings"].as_array().expect("findings is an array");
    assert_eq!(findings.len(), 1, "{doc:#}");
    let f = &findings[0];
    let (line, col) = position_of(&content, &token);
    assert_eq!(f["rule_id"], "github-token");
    assert!(
        f["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{f:#}"
    );
    assert_eq!(f["file"], "src/app.py");
    assert_eq!(f["line"], line as u64);
    assert_eq!(f["column"], col as u64);
    assert_eq!(f["secret"], redacted(&token).as_str());
    let fingerprint = f["fingerprint"].as_str().expect("fingerprint is a string");
    assert!(
        !fingerprint.is_empty() && !fingerprint.contains(&token[4..]),
        "{fingerprint}"
    );
    assert_eq!(f["source"], "staged");
    assert!(f["commit"].is_null(), "{f:#}");

    let stats = &doc["stats"];
    for field in [
        "files_scanned",
        "bytes_scanned",
        "binary_skipped",
        "duration_ms",
    ] {
        assert!(
            stats[field].is_u64(),
            "stats.{field} is not a count: {stats:#}"
        );
    }
    assert_eq!(stats["files_scanned"], 2);
    assert_eq!(stats["binary_skipped"], 0);
    assert!(
        stats["bytes_scanned"].as_u64().unwrap() >= content.len() as u64,
        "{stats:#}"
    );

    // Stable: the same finding has the same fingerprint on the next run.
    let again = repo.keyguard(&["--format", "json"]).json();
    assert_eq!(again["findings"][0]["fingerprint"], f["fingerprint"]);
}

#[test]
fn json_report_when_clean_is_valid_and_empty() {
    let repo = TempRepo::new();
    repo.stage("a.py", "x = 1\n");
    let doc = repo.keyguard(&["--format", "json"]).assert_code(0).json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(doc["stats"]["files_scanned"], 1);
}

#[test]
fn json_report_names_a_secret_file_without_its_content() {
    let repo = TempRepo::new();
    repo.stage(".env", "DEBUG=1\n");
    let doc = repo.keyguard(&["--format", "json"]).assert_code(1).json();
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "secret-file");
    assert_eq!(f["file"], ".env");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(1), Some(1))
    );
}

// ---- --all --------------------------------------------------------------------

#[test]
fn all_scans_tracked_and_untracked_files_on_disk_but_not_ignored_ones() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("all");
    let [committed, modified, staged, untracked, ignored] = std::array::from_fn(|_| keys.github());
    repo.seed(&[
        ("committed.py", format!("GH = \"{committed}\"\n").as_bytes()),
        ("modified.py", b"x = 1\n"),
        (".gitignore", b"ignored.py\nbuild/\n"),
    ]);
    // Tracked and clean in HEAD, with a key on disk only.
    repo.write("modified.py", format!("x = 1\nGH = \"{modified}\"\n"));
    repo.stage("staged.py", format!("GH = \"{staged}\"\n"));
    repo.write("sub/untracked.py", format!("GH = \"{untracked}\"\n"));
    repo.write("ignored.py", format!("GH = \"{ignored}\"\n"));
    repo.write("build/out.py", format!("GH = \"{ignored}\"\n"));

    let run = repo.keyguard(&["--all"]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stdout,
        "committed.py",
        1,
        7,
        "github-token",
        &committed,
    );
    run.assert_human_finding(
        Stream::Stdout,
        "modified.py",
        2,
        7,
        "github-token",
        &modified,
    );
    run.assert_human_finding(Stream::Stdout, "staged.py", 1, 7, "github-token", &staged);
    run.assert_human_finding(
        Stream::Stdout,
        "sub/untracked.py",
        1,
        7,
        "github-token",
        &untracked,
    );
    run.assert_output_lacks("ignored.py");
    run.assert_output_lacks("build/out.py");
    run.assert_no_leak(&ignored);

    let doc = repo
        .keyguard(&["--all", "--format", "json"])
        .assert_code(1)
        .json();
    let findings = doc["findings"].as_array().unwrap();
    let files: Vec<&str> = findings
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "committed.py",
            "modified.py",
            "staged.py",
            "sub/untracked.py"
        ],
        "{doc:#}"
    );
    assert!(
        findings.iter().all(|f| f["source"] == "worktree"),
        "{doc:#}"
    );
}

#[test]
fn all_in_a_clean_repository_exits_0() {
    let repo = TempRepo::new();
    repo.seed(&[("a.py", b"x = 1\n")]);
    repo.write("b.py", "y = 2\n");
    repo.keyguard(&["--all"])
        .assert_code(0)
        .assert_stdout_contains("0 findings in 2 files");
}

// ---- PATH arguments -----------------------------------------------------------

#[test]
fn path_arguments_scan_files_and_folders_on_disk() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("paths");
    let (in_dir, in_file, elsewhere) = (keys.github(), keys.stripe(), keys.github());
    repo.write("dir/nested/a.py", format!("x = 1\nGH = \"{in_dir}\"\n"));
    repo.write("one.py", format!("STRIPE = \"{in_file}\"\n"));
    repo.write("other/b.py", format!("GH = \"{elsewhere}\"\n"));

    let run = repo.keyguard(&["dir", "one.py"]);
    run.assert_code(1);
    run.assert_human_finding(
        Stream::Stdout,
        "dir/nested/a.py",
        2,
        7,
        "github-token",
        &in_dir,
    );
    run.assert_human_finding(
        Stream::Stdout,
        "one.py",
        1,
        11,
        "stripe-secret-key",
        &in_file,
    );
    run.assert_output_lacks("other/b.py");
    run.assert_no_leak(&elsewhere);

    repo.keyguard(&["other"]).assert_code(1);
    repo.write("clean/c.py", "x = 1\n");
    repo.keyguard(&["clean"]).assert_code(0);
    repo.keyguard(&["does-not-exist"])
        .assert_code(2)
        .assert_stderr_contains("does-not-exist");
}

#[test]
fn path_arguments_work_outside_a_repository() {
    let token = Keys::for_test("paths_outside").github();
    let run = keyguard_outside_repo(&["--format", "json", "project"], |dir| {
        fs::create_dir_all(dir.join("project/src")).unwrap();
        fs::write(
            dir.join("project/src/app.py"),
            format!("GH = \"{token}\"\n"),
        )
        .unwrap();
        fs::write(dir.join("project/.env"), "DEBUG=1\n").unwrap();
    });
    run.assert_code(1);
    run.assert_no_leak(&token);
    let doc = run.json();
    let mut found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("project/.env".to_string(), "secret-file".to_string()),
            ("project/src/app.py".to_string(), "github-token".to_string())
        ],
        "{doc:#}"
    );
}

// ---- colour -------------------------------------------------------------------

fn has_ansi(text: &str) -> bool {
    text.contains('\u{1b}')
}

/// A repository with a staged key and the same file on disk, so both the
/// staged scan (report on stderr) and `--all` (report on stdout) find it.
fn repo_with_a_key_staged_and_on_disk(test: &str) -> (TempRepo, String) {
    let repo = TempRepo::new();
    let token = Keys::for_test(test).github();
    repo.stage("app.py", format!("GH = \"{token}\"\n"));
    (repo, token)
}

#[test]
fn output_to_a_pipe_has_no_ansi_escapes() {
    let (repo, _) = repo_with_a_key_staged_and_on_disk("no_ansi_pipe");
    for args in [
        &[][..],
        &["--all"][..],
        &["app.py"][..],
        &["--format", "json"][..],
    ] {
        let run = repo.keyguard(args);
        run.assert_code(1);
        assert!(
            !has_ansi(&run.stdout) && !has_ansi(&run.stderr),
            "escape codes in {args:?}\n{}",
            run.dump()
        );
    }
    // Even when something forces colour, NO_COLOR wins.
    let mut cmd = repo.keyguard_command(&["--all"]);
    cmd.env("NO_COLOR", "1").env("CLICOLOR_FORCE", "1");
    let run = Run::of(cmd);
    run.assert_code(1);
    assert!(
        !has_ansi(&run.all_output()),
        "escape codes with NO_COLOR\n{}",
        run.dump()
    );
    // An empty NO_COLOR is not set (no-color.org: "present and not an
    // empty string"): CLICOLOR_FORCE still colours.
    let mut cmd = repo.keyguard_command(&["--all"]);
    cmd.env("NO_COLOR", "").env("CLICOLOR_FORCE", "1");
    let run = Run::of(cmd);
    run.assert_code(1);
    assert!(
        has_ansi(&run.stdout),
        "an empty NO_COLOR turned colour off\n{}",
        run.dump()
    );
}

/// Runs keyguard under a pseudo-terminal with `script(1)`, when it exists.
fn keyguard_on_a_terminal(repo: &TempRepo, args: &str, env: &[(&str, &str)]) -> Option<Run> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    let command = format!("'{}' {args}", keyguard_bin().display());
    let mut cmd = isolated_command(script, &repo.home);
    cmd.current_dir(&repo.root).env("TERM", "xterm").args([
        "-q",
        "-e",
        "-c",
        &command,
        "/dev/null",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Some(Run::of(cmd))
}

#[test]
fn on_a_terminal_no_color_and_the_flag_turn_colour_off() {
    let (repo, token) = repo_with_a_key_staged_and_on_disk("no_ansi_tty");
    let Some(coloured) = keyguard_on_a_terminal(&repo, "--all", &[]) else {
        eprintln!("script(1) is not installed: skipping the terminal half of this test");
        return;
    };
    coloured.assert_code(1);
    coloured.assert_no_leak(&token);
    assert!(
        has_ansi(&coloured.stdout),
        "no colour on a terminal (is the pty working?)\n{}",
        coloured.dump()
    );

    let run = keyguard_on_a_terminal(&repo, "--all", &[("NO_COLOR", "1")]).unwrap();
    run.assert_code(1);
    run.assert_stdout_contains("app.py:1:7");
    assert!(
        !has_ansi(&run.stdout),
        "colour despite NO_COLOR\n{}",
        run.dump()
    );

    let run = keyguard_on_a_terminal(&repo, "--all --no-color", &[]).unwrap();
    run.assert_code(1);
    assert!(
        !has_ansi(&run.stdout),
        "colour despite --no-color\n{}",
        run.dump()
    );
}

#[test]
fn quiet_prints_nothing_when_clean_but_still_reports_findings() {
    let repo = TempRepo::new();
    repo.stage("a.py", "x = 1\n");
    let run = repo.keyguard(&["-q"]);
    run.assert_code(0);
    assert_eq!(
        run.all_output(),
        "",
        "quiet printed something\n{}",
        run.dump()
    );

    let token = Keys::for_test("quiet").github();
    repo.stage("b.py", format!("GH = \"{token}\"\n"));
    repo.keyguard(&["-q"]).assert_code(1).assert_human_finding(
        Stream::Stderr,
        "b.py",
        1,
        7,
        "github-token",
        &token,
    );
}

// ---- completions and man page ---------------------------------------------------

#[test]
fn completions_are_valid_shell_and_the_man_page_is_roff() {
    let run = keyguard_outside_repo(&["completions", "bash"], |_| {});
    run.assert_code(0);
    assert!(run.stdout.contains("_keyguard()"), "{}", run.stdout);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("keyguard.bash");
    fs::write(&script, &run.stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = keyguard_outside_repo(&["completions", shell], |_| {});
        run.assert_code(0);
        assert!(run.stdout.contains("keyguard"), "{shell}");
    }

    let man = keyguard_outside_repo(&["man"], |_| {});
    man.assert_code(0);
    assert!(man.stdout.contains(".TH keyguard 1"), "{}", man.stdout);
    for flag in ["--all", "--history", "--format", "--baseline"] {
        assert!(
            man.stdout.contains(&flag.replace('-', "\\-")),
            "man page lacks {flag}"
        );
    }
}

// ---- summaries ----------------------------------------------------------------

#[test]
fn summaries_say_what_was_and_was_not_scanned() {
    let repo = TempRepo::new();
    repo.seed(&[("README.md", b"# app\n")]);
    // Nothing staged: said so, with the way to scan everything.
    repo.keyguard(&[])
        .assert_success()
        .assert_stderr_contains("nothing staged adds a line to scan")
        .assert_stderr_contains("keyguard --all");
    // A path skipped by allow.paths is counted, not silently dropped.
    repo.write(".keyguard.toml", "[allow]\npaths = [\"vendor/**\"]\n");
    repo.write("vendor/lib.js", "var x = 1;\n");
    repo.write("app.py", "x = 1\n");
    repo.keyguard(&["vendor", "app.py"])
        .assert_success()
        .assert_stdout_contains("0 findings in 1 file scanned, 1 skipped by allow.paths");
    // --history counts commits as well as files.
    repo.add(&["vendor/lib.js", "app.py", ".keyguard.toml"]);
    repo.commit_no_verify("second");
    repo.keyguard(&["--history"])
        .assert_success()
        .assert_stdout_contains("0 findings in 2 commits (");
    let json = repo.keyguard(&["--history", "--format", "json"]).json();
    assert_eq!(json["stats"]["commits_scanned"], 2, "{json}");
    assert_eq!(json["stats"]["allowed_skipped"], 1, "{json}");
}

/// One man page: no `keyguard-install(1)`-style references to pages that do
/// not exist; the sections a man page needs; each subcommand with its own
/// flags. groff, where installed, reads it without a warning.
#[test]
fn the_man_page_stands_alone_with_its_sections() {
    let run = keyguard_outside_repo(&["man"], |_| {});
    run.assert_success();
    let page = &run.stdout;
    for missing_page in ["keyguard\\-install(1)", "keyguard\\-help(1)", "(1)\n"] {
        assert!(!page.contains(missing_page), "refers to {missing_page}");
    }
    for section in [
        ".SH COMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"SUPPRESSING A FINDING\"",
    ] {
        assert!(page.contains(section), "no {section}");
    }
    for name in [
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "KEYGUARD_BIN",
        "keyguard:allow",
        ".keyguard.toml",
    ] {
        assert!(page.contains(name), "{name} is not mentioned");
    }
    assert!(
        page.contains("\\fBkeyguard install\\fR [\\fB\\-\\-force\\fR] [\\fB\\-\\-pre\\-push\\fR]")
    );
    assert!(
        !page.contains("hook\\-protocol"),
        "a hidden flag is in the man page"
    );
    if let Ok(groff) = std::process::Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write as _;
        let mut groff = groff;
        groff
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let out = groff.wait_with_output().unwrap();
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.is_empty(),
            "groff: {warnings}"
        );
    }
}

/// On a terminal, hints wrap to its width (COLUMNS here) under the hint's
/// indent, and a command in back-quotes stays on one line; piped, each hint
/// is one line.
#[test]
fn on_a_terminal_hints_wrap_without_splitting_a_command() {
    let repo = TempRepo::new();
    repo.stage("config/.env", "API_TOKEN=\n");
    let Some(run) = keyguard_on_a_terminal(&repo, "--all --no-color", &[("COLUMNS", "52")]) else {
        eprintln!("script(1) is not installed: skipping this test");
        return;
    };
    run.assert_code(1);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let hint = lines
        .iter()
        .position(|l| l.starts_with("    hint: "))
        .unwrap_or_else(|| panic!("no hint\n{}", run.dump()));
    let wrapped: Vec<&str> = lines[hint + 1..]
        .iter()
        .take_while(|l| l.starts_with("          ") && !l.trim().is_empty())
        .copied()
        .collect();
    assert!(
        !wrapped.is_empty(),
        "the hint was not wrapped\n{}",
        run.dump()
    );
    for line in std::iter::once(&lines[hint]).chain(&wrapped) {
        assert!(
            line.chars().count() <= 52 || line.trim_start().starts_with('`'),
            "{line:?} is wider than 52 columns"
        );
    }
    let hint_text = std::iter::once(lines[hint])
        .chain(wrapped.iter().copied())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        hint_text.contains("`git rm --cached config/.env`"),
        "{hint_text}"
    );

    let piped = repo.keyguard(&["--all"]);
    let hint_lines = piped
        .stdout
        .lines()
        .filter(|l| l.starts_with("    hint: "))
        .count();
    assert_eq!(hint_lines, 1);
    assert!(piped
        .stdout
        .contains("`git rm --cached config/.env` (it stays on disk), add it"));
}

/// Completion offers no hidden option (the shim's `--hook-protocol`,
/// `--hook`, `--timings`, the top-level `--pre-push`), and under a
/// subcommand only the options it reads.
#[test]
fn completion_offers_no_hidden_option_and_only_a_subcommands_own() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = keyguard_outside_repo(&["completions", shell], |_| {});
        run.assert_success();
        for hidden in ["hook-protocol", "timings", "Run as git"] {
            assert!(!run.stdout.contains(hidden), "{shell}: offers {hidden}");
        }
        assert!(
            run.stdout.contains("history"),
            "{shell}: lost the visible options"
        );
    }
    let fish = keyguard_outside_repo(&["completions", "fish"], |_| {}).stdout;
    let under = |sub: &str| -> Vec<String> {
        let marker = format!("__fish_keyguard_using_subcommand {sub}\"");
        fish.lines()
            .filter(|l| l.contains(&marker))
            .filter_map(|l| l.split(" -l ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next().map(str::to_string))
            .collect()
    };
    assert_eq!(under("man"), ["help"]);
    assert_eq!(
        under("install"),
        ["agent", "color", "force", "pre-push", "global", "no-color", "help"]
    );
    assert!(under("baseline").contains(&"config".to_string()));
    assert!(!under("baseline").contains(&"format".to_string()));
}
