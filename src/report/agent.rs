//! The reason an agent hook gives when it blocks: short, because the agent
//! shows it to the model and the user. Per finding: the rule, where, the
//! redacted secret, what to do instead; then how to allow a false positive.

use std::fmt::Write as _;

use super::human::{hint, quote_path};
use crate::finding::Finding;

/// Findings shown before the rest are only counted: a reason the agent
/// truncates helps no one.
const MAX_SHOWN: usize = 5;

/// The reason for blocking `findings` (what the action would write, run
/// or send) and `reads` (secrets files it would read), from `what`
/// ("this Write", "this prompt").
pub fn reason(what: &str, findings: &[Finding], reads: &[Finding]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "keyguard blocked {what}: {}.",
        match (findings.is_empty(), reads.is_empty()) {
            (false, true) => "it would put a secret where it does not belong",
            (true, false) => "it would read a secrets file",
            _ => "it would put a secret where it does not belong and read a secrets file",
        }
    );
    for finding in findings.iter().chain(reads).take(MAX_SHOWN) {
        if reads.iter().any(|read| std::ptr::eq(read, finding)) {
            let _ = writeln!(
                out,
                "- {}  {}\n  instead: do not read it; use the values from the environment, \
                 or ask the user for the one you need",
                quote_path(&finding.path),
                finding.description
            );
            continue;
        }
        let _ = writeln!(
            out,
            "- {}:{}  {}  {}",
            quote_path(&finding.path),
            finding.line,
            finding.rule_id,
            finding.description
        );
        let _ = writeln!(out, "  {}", finding.redacted());
        let _ = writeln!(out, "  instead: {}", instead(finding));
    }
    let total = findings.len() + reads.len();
    if total > MAX_SHOWN {
        let _ = writeln!(out, "- and {} more", total - MAX_SHOWN);
    }
    let _ = writeln!(
        out,
        "Not a secret? Add `keyguard:allow` in a comment on that line, or allow it in \
         .keyguard.toml ([allow] values or paths; [agent] allow_read for reads)."
    );
    out
}

/// What to write instead of the secret.
fn instead(finding: &Finding) -> String {
    if finding.is_secret_file() {
        return format!(
            "add {} to .gitignore first (keys belong in an ignored file), \
             or write a template (.env.example) with empty values",
            quote_path(&finding.path)
        );
    }
    hint(finding)
}
