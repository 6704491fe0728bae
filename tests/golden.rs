//! Golden files: the exact output of one fixed staged scan in each format
//! (`tests/golden/{human,json,sarif}.out`), so that a change in the output
//! is seen whole, not through substrings. The repository is built at run
//! time from seeded key templates; the run's duration and the tool version
//! are normalised; fingerprints are stable because the test sets
//! `KEYGUARD_FINGERPRINT_KEY`; the output goes to a pipe, so it has no
//! colour (escape codes are stripped all the same, so that a forced colour
//! shows as a diff in the text, not in invisible bytes).
//!
//! `KEYGUARD_BLESS=1 cargo test --test integration golden` rewrites the
//! files after a deliberate change; review the diff before committing it.

use std::path::PathBuf;

use crate::util::{Keys, Run, TempRepo};

/// A fixed key for the report fingerprints: not a secret, just stable.
const FINGERPRINT_KEY: &str = "keyguard golden files";

/// The fixed repository: three keys in three languages and a secret file,
/// staged for the first commit.
fn fixed_repo() -> TempRepo {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("golden");
    let github = keys.github();
    let stripe = keys.stripe();
    let aws = keys.aws_access_key_id();
    repo.write(
        "app.py",
        format!("import os\n\nGITHUB_TOKEN = \"{github}\"\n"),
    );
    repo.write(
        "web/pay.js",
        format!("// payments\nconst stripe = require('stripe')('{stripe}');\n"),
    );
    repo.write(
        "deploy/env.sh",
        format!("#!/bin/sh\nexport AWS_ACCESS_KEY_ID={aws}\n"),
    );
    repo.write(".env", "DEBUG=1\n");
    repo.write("README.md", "nothing to see\n");
    repo.add(&["app.py", "web/pay.js", "deploy/env.sh", ".env", "README.md"]);
    repo
}

fn scan(repo: &TempRepo, args: &[&str]) -> Run {
    let mut cmd = repo.keyguard_command(args);
    cmd.env("KEYGUARD_FINGERPRINT_KEY", FINGERPRINT_KEY);
    let run = Run::of(cmd);
    run.assert_code(1);
    run
}

/// Durations, the version and colour out; everything else as written.
fn normalise(text: &str) -> String {
    let text = strip_ansi(text);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&normalise_line(line));
    }
    out
}

fn normalise_line(line: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let line = line.replace(
        &format!("\"version\": \"{version}\""),
        "\"version\": \"<version>\"",
    );
    // The human summary ends "(12 ms)"; JSON has "duration_ms": 12.
    if let Some(start) = line.rfind(" (") {
        if let Some(rest) = line[start + 2..].strip_suffix(" ms)\n") {
            if rest.bytes().all(|b| b.is_ascii_digit()) {
                return format!("{} (<ms> ms)\n", &line[..start]);
            }
        }
    }
    if let Some((key, _)) = line.split_once("\"duration_ms\": ") {
        return format!("{key}\"duration_ms\": 0\n");
    }
    line
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Compares `actual` with the golden file `name`, byte for byte, or
/// rewrites it under `KEYGUARD_BLESS=1`.
#[track_caller]
fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.out"));
    if std::env::var_os("KEYGUARD_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); KEYGUARD_BLESS=1 writes it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from this run, first at line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             --- actual ---\n{actual}--------------\n\
             (KEYGUARD_BLESS=1 rewrites the file after a deliberate change)",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first),
        );
    }
}

#[test]
fn human_report_of_a_blocked_commit() {
    let repo = fixed_repo();
    let run = scan(&repo, &[]);
    assert_eq!(run.stdout, "", "the hook's report goes to stderr");
    assert_golden("human", &normalise(&run.stderr));
}

#[test]
fn json_report() {
    let repo = fixed_repo();
    let run = scan(&repo, &["--format", "json"]);
    assert_golden("json", &normalise(&run.stdout));
}

#[test]
fn sarif_report() {
    let repo = fixed_repo();
    let run = scan(&repo, &["--format", "sarif"]);
    assert_golden("sarif", &normalise(&run.stdout));
}

#[test]
fn normalising_keeps_everything_but_durations() {
    assert_eq!(
        normalise("\u{1b}[31mkeyguard: 3 findings in 5 files scanned (17 ms)\u{1b}[0m\n"),
        "keyguard: 3 findings in 5 files scanned (<ms> ms)\n"
    );
    assert_eq!(
        normalise("    \"duration_ms\": 4\n"),
        "    \"duration_ms\": 0\n"
    );
    assert_eq!(normalise("app.py:3:17 (a ms)\n"), "app.py:3:17 (a ms)\n");
}
