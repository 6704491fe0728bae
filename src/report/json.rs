//! `--format json`: the versioned machine-readable report, one document
//! per run (its shape is pinned by `tests/golden/json.out`).

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::finding::{FingerprintKey, ScanReport, Stats};

/// Bumped when a field changes meaning or disappears; adding fields is not
/// a breaking change.
pub const JSON_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    stats: &'a Stats,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    description: &'a str,
    file: &'a str,
    line: u32,
    column: usize,
    /// Redacted: never the full secret.
    secret: String,
    fingerprint: String,
    source: &'static str,
    commit: Option<&'a str>,
}

pub fn write<W: Write>(report: &ScanReport, key: &FingerprintKey, out: &mut W) -> Result<()> {
    let findings = report
        .findings
        .iter()
        .map(|f| JsonFinding {
            rule_id: &f.rule_id,
            description: &f.description,
            file: &f.path,
            line: f.line,
            column: f.column,
            secret: f.redacted(),
            fingerprint: f.fingerprint(key),
            source: f.origin.label(),
            commit: f.origin.commit(),
        })
        .collect();
    let doc = JsonReport {
        version: JSON_FORMAT_VERSION,
        findings,
        stats: &report.stats,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}
