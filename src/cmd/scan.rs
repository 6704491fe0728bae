//! The scan (no subcommand): read the target, scan it, drop what the
//! baseline accepts, write the report, and say how it ended.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, Result};

use super::Context;
use crate::finding::ScanReport;
use crate::finding::{FingerprintKey, KeyOrigin};
use crate::git::history::PushedRef;
use crate::messages::Message;
use crate::policy::{self, CodeKind};
use crate::progress::Progress;
use crate::report::{self, Format, HumanStyle};
use crate::scan::Scanner;
use crate::settings::{PreCommitPush, Scan, Settings, Stream, Target};
use crate::source::disk::{self, DiskFile};
use crate::{baseline, rules, Outcome};

pub fn run(settings: &Settings, scan: &Scan) -> Result<Outcome> {
    let mut timer = PhaseTimer::new(settings);
    if settings.timings {
        crate::detect::profile::enable();
    }
    // Scanning paths works outside a repository; everything else does not.
    let context = match &scan.target {
        Target::Paths(_) | Target::Stdin => Context::open_if_any(),
        _ => Some(Context::open()?),
    };
    timer.mark("open repository");
    let root = context.as_ref().and_then(Context::root);
    let (loaded, scanner) = super::load_scanner(settings, root, scan.profile)?;
    if settings.is_verbose() {
        settings.say(&Message::Configuration(&loaded));
    }
    timer.mark("load configuration and rules");

    if let (Some(context), Target::Staged { .. } | Target::All) = (&context, &scan.target) {
        warn_about_unignored_env(settings, context);
    }
    timer.mark(".env check");
    timer.mark("baseline");

    let mut report = match (&context, &scan.target) {
        (_, Target::Stdin) => scan_stdin(&scanner)?,
        (Some(context), _) => scan_in_repo(settings, scan, context, &scanner, &mut timer)?,
        (None, _) => scan_paths(settings, &scan.target, None, &scanner)?,
    };
    timer.mark("read and scan");
    timer.note_regex_builds();
    timer.note_detector_profile(scanner.detector());

    if let Some(path) = baseline::locate(settings.baseline.as_deref(), root) {
        let accepted = baseline::Baseline::load(&path)?.filter(&mut report.findings);
        if settings.is_verbose() {
            settings.say(&Message::BaselineAccepted {
                accepted,
                path: &path,
            });
        }
    }
    // A reader that stops early (`keyguard --all | head`) is not a failed
    // scan: the outcome stands.
    if let Err(err) = emit(settings, &scan.target, &report, context.as_ref()) {
        if !super::is_closed_pipe(&err) {
            return Err(err);
        }
    }
    timer.mark("report");
    if settings.format == Format::Human
        && !settings.is_quiet()
        && matches!(scan.target, Target::All | Target::Paths(_))
    {
        note_test_and_vendored(settings, &report);
    }
    Ok(if !report.errors.is_empty() {
        Outcome::Incomplete
    } else if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// Findings in test or vendored folders, counted per folder, so that people
/// can accept fixtures by path instead of everything at once.
fn note_test_and_vendored(settings: &Settings, report: &ScanReport) {
    let mut folders: Vec<(CodeKind, String, usize)> = Vec::new();
    for finding in &report.findings {
        let Some((kind, folder)) = policy::test_or_vendored(&finding.path) else {
            continue;
        };
        match folders.iter_mut().find(|(_, f, _)| f == folder) {
            Some((_, _, count)) => *count += 1,
            None => folders.push((kind, folder.to_string(), 1)),
        }
    }
    if folders.is_empty() {
        return;
    }
    folders.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    settings.say(&Message::TestAndVendored {
        total: report.findings.len(),
        folders: &folders,
    });
}

/// Every read from the repository a scan makes, in one place.
fn scan_in_repo(
    settings: &Settings,
    scan: &Scan,
    context: &Context,
    scanner: &Scanner,
    timer: &mut PhaseTimer,
) -> Result<ScanReport> {
    let repo = context.repo();
    match &scan.target {
        Target::Staged { hook } => {
            let staged = repo.next_commit_change(*hook == crate::install::Hook::PreMergeCommit)?;
            timer.mark("compare the index with HEAD");
            if settings.timings {
                settings.say(&Message::Comparison {
                    how: staged.comparison().to_string(),
                });
            }
            scanner.scan_staged(staged)
        }
        Target::All => {
            let root = context.require_worktree("--all")?;
            let files: Vec<DiskFile> = repo
                .tracked_and_untracked_files()?
                .into_iter()
                .map(|p| DiskFile::in_repo(root, p))
                .collect();
            timer.mark("list files");
            let progress = Progress::start("files", files.len(), settings.progress);
            Ok(scanner.scan_files(&files, &progress))
        }
        Target::Paths(_) => scan_paths(settings, &scan.target, context.root(), scanner),
        Target::Stdin => scan_stdin(scanner),
        Target::History(range) => {
            let history = match (range, &scan.pre_commit_push) {
                // The pre-commit framework's pre-push stage names the pushed
                // ref in its environment: scan what that push sends, not HEAD.
                (None, Some(push)) => {
                    repo.pushed_history(&[pre_commit_pushed_ref(context, push)?])?
                }
                (range, _) => repo.history(range.as_deref())?,
            };
            let progress = Progress::start("commits", history.len(), settings.progress);
            Ok(scanner.scan_history(&history, &progress))
        }
        Target::PrePush => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                .context("cannot read the pushed refs from standard input")?;
            let refs = PushedRef::parse_lines(&input)?;
            let history = repo.pushed_history(&refs)?;
            Ok(scanner.scan_history(&history, &Progress::hidden()))
        }
    }
}

/// `keyguard PATH...`: the files on disk, in a repository or not.
fn scan_paths(
    settings: &Settings,
    target: &Target,
    root: Option<&Path>,
    scanner: &Scanner,
) -> Result<ScanReport> {
    let Target::Paths(paths) = target else {
        // Only a PATH scan runs outside a repository (see `run`).
        anyhow::bail!("this scan needs a git repository");
    };
    let files = disk::files_under(paths, root)?;
    let progress = Progress::start("files", files.len(), settings.progress);
    Ok(scanner.scan_files(&files, &progress))
}

/// The name reports give standard input (`--stdin`).
pub const STDIN_PATH: &str = "(stdin)";

/// `keyguard --stdin`: standard input, scanned as one file. Bytes that are
/// not UTF-8 are decoded as a file's would be (UTF-16 with BOM, Latin-1).
fn scan_stdin(scanner: &Scanner) -> Result<ScanReport> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
        .context("cannot read standard input")?;
    let text = match crate::text::decode(&bytes) {
        crate::text::Decoded::Text(text) => text,
        crate::text::Decoded::Binary => {
            anyhow::bail!("standard input is binary, not text: nothing was scanned")
        }
    };
    Ok(scanner.scan_text(STDIN_PATH, &text, &crate::finding::Origin::Stdin))
}

/// The ref the pre-commit framework names as a pushed ref: its
/// `PRE_COMMIT_TO_REF`, or (when it found no range: the push holds a root
/// commit) the local ref it names; the remote's id when it gave one. A
/// revision that does not resolve is an error: scanning nothing would pass
/// the push unchecked.
fn pre_commit_pushed_ref(context: &Context, push: &PreCommitPush) -> Result<PushedRef> {
    let resolve = |rev: &str| {
        context.repo().resolve(rev)?.with_context(|| {
            format!(
                "the pre-commit framework names {:?} as pushed, which is not in this repository",
                rev.escape_debug().to_string()
            )
        })
    };
    let local_ref = push.to.as_deref().or(push.local_branch.as_deref());
    let Some(local_ref) = local_ref else {
        anyhow::bail!("the pre-commit framework named no pushed ref");
    };
    let remote_id = match push.from.as_deref().filter(|from| !from.is_empty()) {
        Some(from) => resolve(from)?,
        None => "0".repeat(40),
    };
    Ok(PushedRef {
        local_ref: local_ref.to_string(),
        local_id: resolve(local_ref)?,
        remote_id,
    })
}

/// Warns, without blocking, when a `.env` at the root of the working tree is
/// not ignored: one `git add .` away from a leak.
fn warn_about_unignored_env(settings: &Settings, context: &Context) {
    if let Some(root) = context.root() {
        if root.join(".env").is_file() && !context.repo().is_ignored(".env") {
            settings.say(&Message::UnignoredEnv);
        }
    }
}

/// Writes the report to its stream (see [`Settings::report_stream`]); for
/// JSON and SARIF, the scan's errors follow on stderr.
fn emit(
    settings: &Settings,
    target: &Target,
    report: &ScanReport,
    context: Option<&Context>,
) -> Result<()> {
    let stream = settings.report_stream(target);
    let style = HumanStyle {
        color: settings.format == Format::Human && settings.color.on(stream),
        quiet: settings.is_quiet(),
        blocking: target.blocks(),
        pre_commit_framework: settings.pre_commit_framework,
        wrap_width: settings.wrap_width.on(stream),
    };
    let fingerprints = match settings.format {
        Format::Json | Format::Sarif => report_fingerprint_key(settings, report, context)?,
        Format::Human => FingerprintKey::ephemeral()?,
    };
    match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            report::write_report(settings.format, report, style, &fingerprints, &mut out)?;
            if settings.format != Format::Human {
                for error in &report.errors {
                    settings.say(&Message::ScanError(error));
                }
            }
            out.flush()?;
        }
        Stream::Stderr => {
            let mut out = std::io::stderr().lock();
            report::write_report(settings.format, report, style, &fingerprints, &mut out)?;
        }
    }
    Ok(())
}

/// The key of the report's fingerprints (see `FingerprintKey::resolve`);
/// a note when they will not be stable across runs.
fn report_fingerprint_key(
    settings: &Settings,
    report: &ScanReport,
    context: Option<&Context>,
) -> Result<FingerprintKey> {
    if report.findings.is_empty() {
        return FingerprintKey::ephemeral();
    }
    let user_key = settings
        .fingerprint_key
        .as_ref()
        .map(|k| k.as_encoded_bytes());
    let key = FingerprintKey::resolve(user_key, || {
        context?.repo().first_root_commit().ok().flatten()
    })?;
    if key.origin() == KeyOrigin::Ephemeral {
        settings.say(&Message::EphemeralFingerprints);
    }
    Ok(key)
}

/// `--timings`: where a run's time goes, phase by phase, on stderr.
struct PhaseTimer<'a> {
    settings: &'a Settings,
    last: Instant,
}

impl<'a> PhaseTimer<'a> {
    fn new(settings: &'a Settings) -> PhaseTimer<'a> {
        PhaseTimer {
            settings,
            last: Instant::now(),
        }
    }

    fn mark(&mut self, phase: &str) {
        if self.settings.timings {
            let now = Instant::now();
            self.settings.say(&Message::Timing {
                phase,
                micros: (now - self.last).as_micros(),
            });
            self.last = now;
        }
    }

    /// Where the detector's time went (see `detect::profile`).
    fn note_detector_profile(&self, detector: &crate::detect::Detector) {
        if self.settings.timings {
            let rule_id = |rule: usize| match detector.rules().get(rule) {
                Some(rule) => rule.id.to_string(),
                None => "?".to_string(),
            };
            for line in crate::detect::profile::totals().lines(rule_id) {
                self.settings.say(&Message::DetectorProfile(&line));
            }
        }
    }

    /// Rule regexes are compiled on first use, inside the scan phases.
    fn note_regex_builds(&self) {
        if self.settings.timings {
            let (count, time) = rules::regex_build_stats();
            self.settings.say(&Message::RegexBuilds {
                count,
                micros: time.as_micros(),
            });
        }
    }
}
