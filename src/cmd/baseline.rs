//! `keyguard baseline [--prune] [--history [RANGE]]`: accept today's
//! findings in committed and staged content, and with `--history` those
//! that exist only in history (a key committed long ago and deleted since,
//! which the pre-push hook and `--history` still see), so that they stop
//! blocking.

use anyhow::Result;

use super::Context;
use crate::baseline::{Baseline, BASELINE_FILE_NAME};
use crate::finding::ScanReport;
use crate::messages::Message;
use crate::progress::Progress;
use crate::settings::Settings;
use crate::Outcome;

/// `history`: `None` without `--history`, else the range (`None`: HEAD's
/// history).
pub fn run(settings: &Settings, prune: bool, history: Option<Option<&str>>) -> Result<Outcome> {
    let context = Context::open()?;
    let root = context.require_worktree("keyguard baseline")?;
    let (_, scanner) = super::load_scanner(settings, Some(root), crate::detect::Profile::Bulk)?;
    let repo = context.repo();
    // Only what is committed or staged: an untracked `.env` accepted here
    // would pass silently once committed.
    let mut report = scanner.scan_staged(repo.committed_and_staged()?)?;
    if let Some(range) = history {
        let commits = repo.history(range)?;
        let progress = Progress::start("commits", commits.len(), settings.progress);
        let in_history = scanner.scan_history(&commits, &progress);
        merge(&mut report, in_history);
    }
    if !report.errors.is_empty() {
        anyhow::bail!(
            "cannot write a baseline from an incomplete scan: {}",
            report
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let path = settings
        .baseline
        .clone()
        .unwrap_or_else(|| root.join(BASELINE_FILE_NAME));
    let mut baseline = if path.exists() {
        Baseline::load(&path)?
    } else {
        Baseline::new()
    };
    let (added, pruned) = baseline.update(&report.findings, prune);
    baseline.save(&path)?;
    settings.say(&Message::BaselineWritten {
        path: &path,
        total: baseline.findings.len(),
        added,
        pruned,
    });
    Ok(Outcome::Clean)
}

fn merge(report: &mut ScanReport, other: ScanReport) {
    report.findings.extend(other.findings);
    report.errors.extend(other.errors);
}
