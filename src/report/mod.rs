//! Turning a scan report into output. Writers take any `Write`, so tests
//! render into a `Vec<u8>`; none of them decides the exit code.

pub mod agent;
pub mod human;
pub mod json;
pub mod sarif;

use std::io::Write;

use anyhow::Result;

use crate::finding::FingerprintKey;
use crate::finding::ScanReport;
use crate::install::Hook;

/// Output formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// How the human report should look.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: bool,
    pub quiet: bool,
    /// The scan runs as this hook: findings add the "the commit was
    /// blocked" help.
    pub blocking: Option<Hook>,
    /// Run by the pre-commit framework: the help names `SKIP=keyguard`.
    pub pre_commit_framework: bool,
    /// The terminal's width, to wrap hints at; `None` (not a terminal): one
    /// line each, for logs and tools.
    pub wrap_width: Option<usize>,
}

pub fn write_report<W: Write>(
    format: Format,
    report: &ScanReport,
    style: HumanStyle,
    fingerprints: &FingerprintKey,
    out: &mut W,
) -> Result<()> {
    match format {
        Format::Human => human::write(report, style, out),
        Format::Json => json::write(report, fingerprints, out),
        Format::Sarif => sarif::write(report, fingerprints, out),
    }
}
