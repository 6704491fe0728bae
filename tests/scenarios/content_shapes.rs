//! Content shapes: empty files, a last line without a newline, mixed line
//! ends, one 5 MB line, a 60 MB file, 3000 files, a large change read in
//! parallel, and odd file names.

use super::key_line;
use crate::util::{Keys, Stream, TempRepo};

#[test]
fn empty_files_are_fine_next_to_a_key() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/empty").github();
    repo.seed(&[("was_key.py", key_line(&token).as_bytes())]);

    // A new empty file, and a file with a committed key emptied.
    repo.stage("empty.py", "");
    repo.stage("was_key.py", "");
    repo.commit_allowed("empties").assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 2);

    // An emptied file next to a new key still blocks on the key.
    let other = Keys::for_test("scenario/empty/other").github();
    repo.stage("empty.py", key_line(&other));
    repo.stage("also_empty.txt", "");
    repo.commit_blocked("key").assert_human_finding(
        Stream::Stderr,
        "empty.py",
        1,
        7,
        "github-token",
        &other,
    );
}

/// A key committed as the last line without a newline; appending a line
/// after it changes only the line's terminator, not its text. git's diff
/// shows that line as removed and re-added, but the key is not new: the
/// commit adds `y = 2`, and only that should be scanned (SPEC: unchanged
/// context never produces a finding).
#[test]
fn appending_after_a_committed_key_on_a_last_line_without_newline_is_allowed() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/append_after_no_eol").github();
    let committed = format!("x = 1\nGH = \"{token}\"");
    repo.seed(&[("app.py", committed.as_bytes())]);

    repo.stage("app.py", format!("{committed}\ny = 2\n"));
    repo.commit_allowed("append").assert_no_leak(&token);
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn mixed_crlf_and_lf_line_ends_report_the_right_line() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/mixed_eol");
    let (first, second) = (keys.github(), keys.github());
    // LF lines, then the key on a CRLF line.
    let content = format!("a = 1\nb = 2\nc = 3\r\nGH = \"{first}\"\r\nd = 4\n");
    repo.stage("mixed.py", &content);
    repo.commit_blocked("mixed").assert_human_finding(
        Stream::Stderr,
        "mixed.py",
        4,
        7,
        "github-token",
        &first,
    );

    // Committed, then a key inserted after CRLF lines: its own line only.
    repo.commit_no_verify("mixed, unguarded");
    let edited = content.replace(
        "d = 4\n",
        &format!("d = 4\r\ne = 5\r\n  X = \"{second}\"\n"),
    );
    repo.stage("mixed.py", &edited);
    repo.commit_blocked("more")
        .assert_human_finding(Stream::Stderr, "mixed.py", 7, 8, "github-token", &second)
        .assert_output_lacks("mixed.py:4:")
        .assert_no_leak(&first);
}

/// A minified bundle: one 5 MB line with a key near its end.
#[test]
fn a_single_5_mb_line_with_a_key_near_its_end() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/minified");
    let token = keys.github();
    let alphabet = b"abcdefghij;,(){}=+ ";
    let mut line: String = (0..5 * 1024 * 1024)
        .map(|_| alphabet[keys.below(alphabet.len())] as char)
        .collect();
    let col = line.len() + "var t=\"".len() + 1;
    line.push_str(&format!("var t=\"{token}\";{}\n", "x".repeat(200)));
    repo.stage("dist/app.min.js", &line);

    repo.commit_blocked("bundle").assert_human_finding(
        Stream::Stderr,
        "dist/app.min.js",
        1,
        col,
        "github-token",
        &token,
    );
    assert!(repo.head_is_unborn());
}

/// A 60 MB staged text file with the key on its last line.
#[test]
fn a_60_mb_file_with_a_key_on_the_last_line() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/huge").github();
    let mut text = String::with_capacity(61 * 1024 * 1024);
    let mut lines = 0usize;
    while text.len() < 60 * 1024 * 1024 {
        text.push_str(&format!(
            "const value_{lines} = compute(alpha, beta, gamma) + {lines}; // filler\n"
        ));
        lines += 1;
    }
    text.push_str(&key_line(&token));
    repo.stage("data/huge.js", &text);
    drop(text);

    repo.commit_blocked("huge").assert_human_finding(
        Stream::Stderr,
        "data/huge.js",
        lines + 1,
        7,
        "github-token",
        &token,
    );
    assert!(repo.head_is_unborn());
}

#[test]
fn three_thousand_staged_files_with_one_key() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/3000").github();
    let chosen = 2087;
    for i in 0..3000 {
        let path = format!("pkg{:02}/mod{i:04}.py", i / 100);
        let mut content = format!("# module {i}\nVALUE = {i}\n");
        if i == chosen {
            content.push_str(&key_line(&token));
        }
        repo.write(&path, content);
    }
    repo.git(&["add", "-A"]);
    repo.commit_blocked("many")
        .assert_human_finding(
            Stream::Stderr,
            &format!("pkg20/mod{chosen:04}.py"),
            3,
            7,
            "github-token",
            &token,
        )
        .assert_stderr_contains("1 finding in 3000 files scanned");
    assert!(repo.head_is_unborn());
}

/// A staged change large enough (over 1 MB in 16+ files) to be read and
/// scanned in one parallel pass: keys in a new file and in lines appended
/// to committed files are found on the right lines, and nothing else is.
#[test]
fn a_large_staged_change_is_scanned_while_it_is_read() {
    let repo = TempRepo::with_hook();
    let filler = |i: usize, lines: usize| -> String {
        (0..lines)
            .map(|n| format!("value_{i}_{n} = compute({n}, {i})  # ordinary code\n"))
            .collect()
    };
    for i in 0..20 {
        repo.write(&format!("old/mod{i:02}.py"), filler(i, 300));
    }
    repo.git(&["add", "-A"]);
    repo.commit_no_verify("base");
    let mut keys = Keys::for_test("scenario/large-change");
    let in_new_file = keys.github();
    let appended = keys.github();
    for i in 0..30 {
        let mut content = filler(100 + i, 1_000);
        if i == 17 {
            content.push_str(&key_line(&in_new_file));
        }
        repo.write(&format!("new/mod{i:02}.py"), content);
    }
    for i in 0..20 {
        let mut content = filler(i, 300) + &filler(200 + i, 200);
        if i == 9 {
            content.push_str(&key_line(&appended));
        }
        repo.write(&format!("old/mod{i:02}.py"), content);
    }
    repo.git(&["add", "-A"]);
    repo.commit_blocked("large")
        .assert_human_finding(
            Stream::Stderr,
            "new/mod17.py",
            1_001,
            7,
            "github-token",
            &in_new_file,
        )
        .assert_human_finding(
            Stream::Stderr,
            "old/mod09.py",
            501,
            7,
            "github-token",
            &appended,
        )
        .assert_stderr_contains("2 findings in 50 files scanned");
}

/// Names hooks.rs does not cover (it has spaces and accents): quotes, a
/// leading dash, a tab, a backslash, and a newline. Each is found, and the
/// JSON report gives the exact name.
#[test]
fn odd_file_names_are_found_with_the_right_path() {
    let names = [
        "say \"hi\".py",
        "it's.py",
        "-rf.py",
        "--help.py",
        "tab\there.py",
        "back\\slash.py",
        "line\nbreak.py",
    ];
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/odd_names");
    let tokens: Vec<String> = names.iter().map(|_| keys.github()).collect();
    for (name, token) in names.iter().zip(&tokens) {
        repo.write(name, key_line(token));
    }
    repo.git(&["add", "-A"]);

    let run = repo.commit_blocked("odd names");
    for (name, token) in names.iter().zip(&tokens) {
        run.assert_no_leak(token);
        if !name.contains('\n') && !name.contains('\t') {
            run.assert_human_finding(Stream::Stderr, name, 1, 7, "github-token", token);
        }
    }
    run.assert_stderr_contains(&format!("{} findings", names.len()));

    let doc = repo.keyguard(&["--format", "json"]).assert_code(1).json();
    let mut found: Vec<(String, u64, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    let mut expected: Vec<(String, u64, u64)> =
        names.iter().map(|n| (n.to_string(), 1, 7)).collect();
    expected.sort();
    assert_eq!(found, expected, "{doc:#}");
}

/// A newline in a file name must not let the name forge a line of the human
/// report: git itself C-quotes such names (`"line\nbreak.py"`). What is
/// checked: no report line starts with the part after the newline.
#[test]
fn a_newline_in_a_file_name_cannot_forge_a_report_line() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("scenario/newline_name").github();
    let name = "innocent.py:1:1  all-clear  nothing here\nbreak.py";
    repo.write(name, key_line(&token));
    repo.git(&["add", "-A"]);
    let run = repo.commit_blocked("newline");
    run.assert_no_leak(&token);
    let forged: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("innocent.py:1:1") || l.starts_with("break.py:"))
        .collect();
    assert!(
        forged.is_empty(),
        "the file name broke the report into forged lines: {forged:?}\n{}",
        run.dump()
    );
}

/// An API described by example (OpenAPI, AWS's `*.examples.json` and
/// `examples-1.json`): its
/// `password:` values are made up for the reader, so the loose rules skip
/// the file; a provider's key in it still blocks, and the same loose value
/// in ordinary code still does.
#[test]
fn api_example_files_skip_loose_rules_but_not_provider_keys() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("scenario/api-examples");
    let made_up = keys.generic_value();
    let spec = format!("components:\n  examples:\n    login:\n      password: \"{made_up}\"\n");
    repo.stage("api/openapi.yaml", &spec);
    repo.stage(
        "apis/iam-2010-05-08.examples.json",
        format!("{{\"Password\": \"{made_up}\"}}\n"),
    );
    repo.stage(
        "botocore/data/iam/2010-05-08/examples-1.json",
        format!("{{\"NewPassword\": \"{made_up}\"}}\n"),
    );
    repo.commit_allowed("api docs").assert_no_leak(&made_up);

    let token = keys.github();
    repo.stage(
        "api/openapi.yaml",
        format!("{spec}    token: \"{token}\"\n"),
    );
    repo.commit_blocked("a real token in the docs")
        .assert_human_finding(
            Stream::Stderr,
            "api/openapi.yaml",
            5,
            13,
            "github-token",
            &token,
        );

    repo.stage("api/openapi.yaml", &spec);
    repo.stage("src/login.py", format!("password = \"{made_up}\"\n"));
    let run = repo.commit_blocked("the same value in code");
    run.assert_stderr_contains("src/login.py:1:13");
}
