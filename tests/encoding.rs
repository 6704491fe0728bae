/*!
Text in the encodings people's tools write: UTF-16 with a BOM (Windows
editors, PowerShell), Latin-1, CRLF line ends, UTF-8 with a BOM. A key in
any of them is found, at the right line and column (columns count
characters, not bytes). A binary file is skipped, and counted as skipped.
*/

use crate::util::{Keys, Stream, TempRepo};

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

fn utf16be_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    bytes
}

/// Stages `bytes` at `path` and checks the commit is blocked by a GitHub
/// token at `line:col`.
#[track_caller]
fn assert_blocked_at(path: &str, bytes: &[u8], token: &str, line: usize, col: usize) {
    let repo = TempRepo::with_hook();
    repo.stage(path, bytes);
    let run = repo.commit_blocked("add");
    run.assert_human_finding(Stream::Stderr, path, line, col, "github-token", token);
    assert!(repo.head_is_unborn());
}

#[test]
fn utf16le_with_bom_is_scanned_as_text() {
    let token = Keys::for_test("utf16le").github();
    let text = format!("# réglages\r\nname = \"café\"\r\n  GH = \"{token}\"\r\n");
    assert_blocked_at("settings.ps1", &utf16le_with_bom(&text), &token, 3, 9);
}

#[test]
fn utf16be_with_bom_is_scanned_as_text() {
    let token = Keys::for_test("utf16be").github();
    let text = format!("first\nGH = \"{token}\"\n");
    assert_blocked_at("settings.txt", &utf16be_with_bom(&text), &token, 2, 7);
}

#[test]
fn utf16_file_gets_only_its_added_lines_scanned() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("utf16_added_lines");
    let (old, new) = (keys.github(), keys.github());
    let before = format!("a = 1\nOLD = \"{old}\"\n");
    repo.seed(&[("conf.txt", &utf16le_with_bom(&before))]);
    repo.stage(
        "conf.txt",
        utf16le_with_bom(&format!("{before}b = 2\nNEW = \"{new}\"\n")),
    );

    let run = repo.commit_blocked("more");
    run.assert_human_finding(Stream::Stderr, "conf.txt", 4, 8, "github-token", &new);
    run.assert_output_lacks("conf.txt:2:");
    run.assert_no_leak(&old);
    run.assert_stderr_contains("1 finding");
}

#[test]
fn latin1_file_is_scanned_and_columns_count_characters() {
    let token = Keys::for_test("latin1").github();
    // Built through a Rust string, then narrowed to one byte per character.
    let text = format!("# caf\u{e9} cr\u{e8}me\nok = 1\n\u{e9}t\u{e9} = \"{token}\"\n");
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1"))
        .collect();
    assert!(
        std::str::from_utf8(&latin1).is_err(),
        "the fixture must not be valid UTF-8"
    );
    // `été = "` is 7 characters (9 bytes in UTF-8, 7 in Latin-1).
    assert_blocked_at("notes.txt", &latin1, &token, 3, 8);
}

#[test]
fn crlf_file_reports_the_right_line() {
    let token = Keys::for_test("crlf").github();
    let text = format!("a = 1\r\nb = 2\r\n\r\nGH = \"{token}\"\r\nc = 3\r\n");
    assert_blocked_at("win.py", text.as_bytes(), &token, 4, 7);
}

#[test]
fn utf8_bom_does_not_shift_the_column() {
    let mut keys = Keys::for_test("utf8_bom");
    let (first, second) = (keys.github(), keys.github());
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(format!("GH = \"{first}\"\nX = \"{second}\"\n").as_bytes());

    let repo = TempRepo::with_hook();
    repo.stage("bom.py", &bytes);
    let run = repo.commit_blocked("add");
    run.assert_human_finding(Stream::Stderr, "bom.py", 1, 7, "github-token", &first);
    run.assert_human_finding(Stream::Stderr, "bom.py", 2, 6, "github-token", &second);
}

#[test]
fn binary_file_is_skipped_and_counted() {
    let repo = TempRepo::with_hook();
    let token = Keys::for_test("binary").github();
    let mut blob = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    blob.extend_from_slice(format!("GH = \"{token}\"\n").as_bytes());
    blob.extend_from_slice(&[0, 1, 2, 3, 255]);
    repo.write("img/logo.png", &blob);
    repo.write("README.md", "# logo\n");
    repo.add(&["img/logo.png", "README.md"]);

    let doc = repo.keyguard(&["--format", "json"]).assert_code(0).json();
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0), "{doc:#}");
    assert_eq!(doc["stats"]["binary_skipped"], 1, "{doc:#}");
    assert_eq!(doc["stats"]["files_scanned"], 1, "{doc:#}");

    // Same on disk with --all.
    let doc = repo
        .keyguard(&["--all", "--format", "json"])
        .assert_code(0)
        .json();
    assert_eq!(doc["stats"]["binary_skipped"], 1, "{doc:#}");

    let run = repo.commit_allowed("logo");
    run.assert_no_leak(&token);
    run.assert_stderr_contains("1 binary skipped");
}
