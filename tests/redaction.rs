//! No output format ever holds a full secret: every example of every
//! built-in rule is scanned, and the human, JSON and SARIF reports (and the
//! baseline file) are searched for the secret each finding names.

use std::fs;

use keyguard::baseline::Baseline;
use keyguard::report::{write_report, Format, HumanStyle};
use keyguard::rules::builtin_specs;
use keyguard::scan::Scanner;
use keyguard::source::disk::DiskFile;

use crate::util::Keys;

#[test]
fn no_format_prints_a_full_secret_for_any_rule_example() {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Keys::for_test("redaction/every_rule_example");
    let mut files = Vec::new();
    for (index, spec) in builtin_specs().iter().enumerate() {
        for (example_index, example) in spec.examples.iter().enumerate() {
            let name = format!("r{index}_{example_index}.txt");
            fs::write(dir.path().join(&name), keys.expand(example)).unwrap();
            files.push(DiskFile::in_repo(dir.path(), name));
        }
    }
    let scanner =
        Scanner::from_config(&Default::default(), keyguard::detect::Profile::Bulk).unwrap();
    let report = scanner.scan_files(&files, &keyguard::progress::Progress::hidden());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // Every rule example is found, so every rule's secrets are checked.
    assert!(
        report.findings.len() >= files.len(),
        "{} findings for {} examples",
        report.findings.len(),
        files.len()
    );

    let style = HumanStyle {
        color: false,
        quiet: false,
        blocking: Some(keyguard::install::Hook::PreCommit),
        pre_commit_framework: false,
        wrap_width: None,
    };
    let mut outputs = Vec::new();
    for format in [Format::Human, Format::Json, Format::Sarif] {
        let mut out = Vec::new();
        let key = keyguard::finding::FingerprintKey::ephemeral().unwrap();
        write_report(format, &report, style, &key, &mut out).unwrap();
        outputs.push((format!("{format:?}"), String::from_utf8(out).unwrap()));
    }
    let mut baseline = Baseline::new();
    baseline.update(&report.findings, false);
    outputs.push((
        "baseline".to_string(),
        serde_json::to_string(&baseline).unwrap(),
    ));

    let mut leaks = Vec::new();
    for finding in &report.findings {
        // Secrets shorter than this are redacted too, but can occur in
        // the output by coincidence (a path, a rule id).
        if finding.is_secret_file() || finding.matched_text().chars().count() < 8 {
            continue;
        }
        for (format, text) in &outputs {
            if text.contains(finding.matched_text()) {
                leaks.push(format!("{format}: {} in {}", finding.rule_id, finding.path));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "full secrets printed:\n{}",
        leaks.join("\n")
    );
}
