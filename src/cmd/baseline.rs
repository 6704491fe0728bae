//! `keyguard baseline [--prune]`: accept today's findings in committed and
//! staged content, so that they stop blocking.

use anyhow::Result;

use super::Context;
use crate::baseline::{Baseline, BASELINE_FILE_NAME};
use crate::messages::Message;
use crate::settings::Settings;
use crate::Outcome;

pub fn run(settings: &Settings, prune: bool) -> Result<Outcome> {
    let context = Context::open()?;
    let root = context.require_worktree("keyguard baseline")?;
    let (_, scanner) = super::load_scanner(settings, Some(root), crate::detect::Profile::Bulk)?;
    // Only what is committed or staged: an untracked `.env` accepted here
    // would pass silently once committed.
    let report = scanner.scan_staged(context.repo().committed_and_staged()?)?;
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
