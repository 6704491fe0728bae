//! `--format sarif`: SARIF 2.1.0 for code-scanning dashboards (GitHub code
//! scanning, GitLab, Azure DevOps). Locations, rule metadata and
//! `partialFingerprints` let a dashboard track a finding across commits.
//! Messages carry the redacted secret only.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use serde_json::{json, Value};

use crate::finding::FingerprintKey;
use crate::finding::ScanReport;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn write<W: Write>(report: &ScanReport, key: &FingerprintKey, out: &mut W) -> Result<()> {
    // Rules that have results, in a stable order; results point at them by index.
    let mut rules: BTreeMap<&str, &str> = BTreeMap::new();
    for finding in &report.findings {
        rules
            .entry(&finding.rule_id)
            .or_insert(&finding.description);
    }
    let rule_index: BTreeMap<&str, usize> =
        rules.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|(id, description)| {
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": description},
                "fullDescription": {"text": format!("{description}: a credential that must not be committed.")},
                "help": {"text": "Remove the secret from the file and load it from the environment; if it was ever pushed, rotate it."},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "secrets"], "precision": "high", "security-severity": "8.0"}
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule_id,
                "ruleIndex": rule_index[f.rule_id.as_str()],
                "level": "error",
                "message": {"text": format!("{}: {}", f.description, f.redacted())},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_path(&f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": f.line.max(1), "startColumn": f.column.max(1)}
                    }
                }],
                "partialFingerprints": {"keyguardFingerprint/v2": f.fingerprint(key)}
            });
            if let Some(commit) = f.origin.commit() {
                result["properties"] = json!({"commit": commit});
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keyguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/keyguard/keyguard",
                "rules": rules_json
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// A relative path as a URI reference: `/`-separated, with the characters
/// that URIs reserve percent-encoded.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_are_encoded() {
        assert_eq!(uri_path("src/a b#c.py"), "src/a%20b%23c.py");
        assert_eq!(uri_path("dir/é"), "dir/%C3%A9");
    }
}
