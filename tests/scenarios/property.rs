//! Property tests over generated text, through the library rather than the
//! binary: a key anywhere in random lines with random line ends is found at
//! its line and column, and an inserted key line is the only added line.

use std::collections::BTreeMap;
use std::fs;

use keyguard::config::Config;
use keyguard::scan::Scanner;
use keyguard::source::disk::DiskFile;

use crate::util::Keys;

/// A random printable ASCII line, without `"` (so the key's quotes are the
/// only ones around it).
fn random_line(keys: &mut Keys) -> String {
    let len = keys.below(90);
    (0..len)
        .map(|_| {
            let c = (0x20 + keys.below(0x5f)) as u8 as char;
            if c == '"' {
                '\''
            } else {
                c
            }
        })
        .collect()
}

fn random_eol(keys: &mut Keys) -> &'static str {
    if keys.below(2) == 0 {
        "\n"
    } else {
        "\r\n"
    }
}

/// Text of random lines with random line ends, and the key inserted in one
/// of them: returns (text, the key's 1-based line and column).
fn text_with_key(keys: &mut Keys, token: &str, final_eol: bool) -> (String, usize, usize) {
    let lines = 1 + keys.below(40);
    let key_at = keys.below(lines);
    let mut text = String::new();
    let mut position = (0, 0);
    for i in 0..lines {
        if i == key_at {
            let prefix = random_line(keys);
            position = (i + 1, prefix.chars().count() + 3);
            text.push_str(&format!("{prefix} \"{token}\" {}", random_line(keys)));
        } else {
            text.push_str(&random_line(keys));
        }
        if i + 1 < lines || final_eol {
            text.push_str(random_eol(keys));
        }
    }
    (text, position.0, position.1)
}

/// `keyguard PATH` (through the library): 200 generated files, each with one
/// key, each found at its line and column, and nothing else found.
#[test]
fn a_key_in_generated_text_is_found_at_its_line_and_column() {
    let scanner =
        Scanner::from_config(&Config::default(), keyguard::detect::Profile::Bulk).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Keys::for_test("scenario/property/generated_text");
    let mut expected = BTreeMap::new();
    let mut files = Vec::new();
    for i in 0..200 {
        let token = keys.github();
        let final_eol = keys.below(3) != 0;
        let (text, line, col) = text_with_key(&mut keys, &token, final_eol);
        let name = format!("case{i:03}.txt");
        let path = dir.path().join(&name);
        fs::write(&path, &text).unwrap();
        expected.insert(name.clone(), (line, col, token));
        files.push(DiskFile {
            display: name.clone(),
            path,
            repo_path: name,
        });
    }
    let report = scanner.scan_files(&files, &keyguard::progress::Progress::hidden());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.stats.files_scanned, 200);

    let mut by_file: BTreeMap<&str, Vec<(u32, usize, &str)>> = BTreeMap::new();
    for f in &report.findings {
        by_file
            .entry(f.path.as_str())
            .or_default()
            .push((f.line, f.column, f.rule_id.as_str()));
    }
    for (name, (line, col, _)) in &expected {
        let got = by_file.get(name.as_str()).cloned().unwrap_or_default();
        assert!(
            got.contains(&(*line as u32, *col, "github-token")),
            "{name}: key at {line}:{col} not found; findings: {got:?}\n{}",
            fs::read_to_string(dir.path().join(name))
                .unwrap()
                .replace(&expected[name].2, "<<KEY>>")
        );
        assert!(
            got.iter().all(|(l, _, _)| *l as usize == *line),
            "{name}: findings on other lines: {got:?}"
        );
    }
}

/// The staged path: the added lines of an edit that inserts a key line
/// into generated text are exactly that line, and the detector, fed those
/// lines with their first line number, reports the key where it is in the
/// new text.
#[test]
fn an_inserted_key_line_is_the_only_added_line_and_is_found_there() {
    use keyguard::lines::added_lines;
    let scanner =
        Scanner::from_config(&Config::default(), keyguard::detect::Profile::Bulk).unwrap();
    let detector = scanner.detector();
    let mut keys = Keys::for_test("scenario/property/inserted_line");
    for case in 0..200 {
        let token = keys.github();
        // The old text always ends its last line: appending after a line
        // without a newline changes that line too (see content_shapes.rs).
        let lines = 1 + keys.below(40);
        let mut old_lines: Vec<String> = (0..lines)
            .map(|_| format!("{}{}", random_line(&mut keys), random_eol(&mut keys)))
            .collect();
        // Make lines distinct so the diff has one answer.
        for (i, l) in old_lines.iter_mut().enumerate() {
            l.insert_str(0, &format!("{i}:"));
        }
        let at = keys.below(lines + 1);
        let prefix = random_line(&mut keys);
        let inserted = format!("{prefix} \"{token}\" tail{}", random_eol(&mut keys));
        let old: String = old_lines.concat();
        let mut new_lines = old_lines.clone();
        new_lines.insert(at, inserted.clone());
        let new: String = new_lines.concat();

        let runs = added_lines(&old, &new);
        assert_eq!(runs.len(), 1, "case {case}: {runs:?}");
        let run = &runs[0];
        assert_eq!(run.first_line as usize, at + 1, "case {case}");
        assert_eq!(&new[run.start..run.end], inserted, "case {case}");

        let mut matches = Vec::new();
        detector.scan_into(&new[run.start..run.end], run.first_line, &mut matches);
        let found: Vec<(u32, usize, &str)> = matches
            .iter()
            .map(|m| (m.line, m.column, detector.rules()[m.rule].id.as_ref()))
            .collect();
        assert!(
            found.contains(&((at + 1) as u32, prefix.chars().count() + 3, "github-token")),
            "case {case}: {found:?}"
        );
    }
}
