//! keyguard: a pre-commit hook that stops API keys from being committed.
//!
//! The modules, in the order data flows through them:
//! staged diff or files on disk (`git`, `text`) → detector (`rules`,
//! `detect`, `secret_files`) → findings (`finding`, `scan`) → report
//! (`report`) → exit code (`main.rs`).

pub mod atomic_write;
pub mod baseline;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod decode;
pub mod detect;
pub mod finding;
pub mod git;
pub mod glob;
pub mod init;
pub mod install;
pub mod progress;
pub mod repo_file;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secret_files;
pub mod text;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::LoadedConfig;
use crate::git::Repo;
use crate::report::{Format, HumanStyle};
use crate::scan::{ScanReport, Scanner};

/// How a run ended; `main` turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
    /// Part of the scan could not be done (an unreadable file).
    Incomplete,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Incomplete => 2,
        }
    }

    /// The exit code, in the shim's protocol when it asked for one
    /// (`--hook-protocol`): codes only keyguard gives, so that the shim
    /// can tell its answer from another program's.
    pub fn exit_code_for(self, hook_protocol: Option<u8>) -> u8 {
        match (hook_protocol, self) {
            (None, _) => self.exit_code(),
            (Some(_), Outcome::Clean) => install::PROTOCOL_CLEAN,
            (Some(_), Outcome::Findings) => install::PROTOCOL_FINDINGS,
            (Some(_), Outcome::Incomplete) => install::PROTOCOL_INCOMPLETE,
        }
    }
}

/// What to scan.
enum Target {
    /// What the next commit adds; from the pre-merge-commit hook, the
    /// merged commits are in `GITHEAD_*` variables.
    Staged {
        pre_merge_commit: bool,
    },
    All,
    Paths(Vec<PathBuf>),
    History(Option<String>),
    /// The commits a `git push` is about to send (pre-push hook).
    PrePush {
        remote: String,
    },
}

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Some(Command::Install { force, pre_push }) => cmd_install(force, pre_push),
        Some(Command::Uninstall { pre_push }) => cmd_uninstall(pre_push),
        Some(Command::Rules { action: None }) => cmd_rules(&cli.global),
        Some(Command::Rules {
            action: Some(cli::RulesAction::Check { file }),
        }) => cmd::rules::run(file.as_deref(), &mut std::io::stdout().lock()),
        Some(Command::Init) => cmd_init(),
        Some(Command::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "keyguard", &mut std::io::stdout());
            Ok(Outcome::Clean)
        }
        Some(Command::Man) => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .context("cannot write the man page")?;
            Ok(Outcome::Clean)
        }
        Some(Command::Baseline { prune }) => cmd_baseline(prune, &cli.global),
        None => {
            let target = if let Some(args) = cli.pre_push {
                Target::PrePush {
                    remote: args.first().cloned().unwrap_or_default(),
                }
            } else if let Some(range) = cli.history {
                Target::History(Some(range).filter(|r| !r.is_empty()))
            } else if cli.all {
                Target::All
            } else if !cli.paths.is_empty() {
                Target::Paths(cli.paths)
            } else {
                Target::Staged {
                    pre_merge_commit: cli.hook == Some(cli::HookKind::PreMergeCommit),
                }
            };
            cmd_scan(target, &cli.global)
        }
    }
}

/// `KEYGUARD_TIMING=1`: where a run's time goes, phase by phase, on stderr.
struct PhaseTimer {
    enabled: bool,
    last: std::time::Instant,
}

impl PhaseTimer {
    fn new() -> PhaseTimer {
        PhaseTimer {
            enabled: std::env::var_os("KEYGUARD_TIMING").is_some(),
            last: std::time::Instant::now(),
        }
    }

    fn mark(&mut self, phase: &str) {
        if self.enabled {
            let now = std::time::Instant::now();
            eprintln!(
                "keyguard: timing: {phase}: {} µs",
                (now - self.last).as_micros()
            );
            self.last = now;
        }
    }

    /// Rule regexes are compiled on first use, inside the scan phases.
    fn note_regex_builds(&self) {
        if self.enabled {
            let (count, time) = rules::regex_build_stats();
            eprintln!(
                "keyguard: timing: (of which compiling {count} rule regexes: {} µs)",
                time.as_micros()
            );
        }
    }
}

fn cmd_scan(target: Target, global: &GlobalArgs) -> Result<Outcome> {
    let mut timer = PhaseTimer::new();
    // Scanning paths works outside a repository; staged and --all do not.
    let repo = match &target {
        Target::Paths(_) => Repo::open_from_env().ok(),
        _ => Some(Repo::open_from_env()?),
    };
    timer.mark("open repository");
    let root = repo
        .as_ref()
        .and_then(|r| r.workdir())
        .map(Path::to_path_buf);
    let loaded = config::load(global.config.as_deref(), root.as_deref())?;
    if global.verbose {
        describe_config(&loaded);
    }
    // The hook's few added lines: engines quick to build (a large staged
    // change switches to the bulk ones once its size is known, in scan.rs).
    let profile = match target {
        Target::Staged { .. } => detect::Profile::Hook,
        _ => detect::Profile::Bulk,
    };
    let scanner =
        Scanner::from_config(&loaded.config, profile).with_context(|| match &loaded.path {
            Some(path) => format!("invalid configuration in {}", path.display()),
            None => "invalid built-in configuration".to_string(),
        })?;
    timer.mark("load configuration and rules");

    if let (Some(repo), Target::Staged { .. } | Target::All) = (&repo, &target) {
        warn_about_unignored_env(repo);
    }
    timer.mark(".env check");

    timer.mark("baseline");
    let blocking = match target {
        Target::Staged { .. } => Some("commit"),
        Target::PrePush { .. } => Some("push"),
        _ => None,
    };
    let mut report = match target {
        Target::Staged { pre_merge_commit } => {
            let staged = repo
                .as_ref()
                .expect("opened above")
                .next_commit_change(pre_merge_commit)?;
            timer.mark("compare the index with HEAD");
            scanner.scan_staged(staged)?
        }
        Target::All => {
            let repo = repo.as_ref().expect("opened above");
            let root = root
                .as_ref()
                .context("--all needs a working tree; this repository is bare")?;
            let files: Vec<scan::DiskFile> = repo
                .tracked_and_untracked_files()?
                .into_iter()
                .map(|p| scan::DiskFile::in_repo(root, p))
                .collect();
            timer.mark("list files");
            let progress = progress::Progress::start("files", files.len(), shows_progress(global));
            scanner.scan_files(&files, &progress)
        }
        Target::Paths(paths) => {
            let files = scan::files_under(&paths, root.as_deref())?;
            let progress = progress::Progress::start("files", files.len(), shows_progress(global));
            scanner.scan_files(&files, &progress)
        }
        Target::History(range) => {
            let repo = repo.as_ref().expect("opened above");
            let history = match (range, pre_commit_push_range(repo)) {
                // The pre-commit framework's pre-push stage names the pushed
                // range in its environment: scan exactly that, not HEAD.
                (None, Some((remote, pushed))) => repo.pushed_history(&remote, &[pushed])?,
                (range, _) => repo.history(range.as_deref())?,
            };
            let progress =
                progress::Progress::start("commits", history.len(), shows_progress(global));
            scanner.scan_history(&history, &progress)?
        }
        Target::PrePush { remote } => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                .context("cannot read the pushed refs from standard input")?;
            let refs = git::history::PushedRef::parse_lines(&input)?;
            let history = repo
                .as_ref()
                .expect("opened above")
                .pushed_history(&remote, &refs)?;
            scanner.scan_history(&history, &progress::Progress::hidden())?
        }
    };
    timer.mark("read and scan");
    timer.note_regex_builds();
    let baseline_path = baseline::locate(global.baseline.as_deref(), root.as_deref());
    if let Some(path) = &baseline_path {
        let accepted = baseline::Baseline::load(path)?.filter(&mut report.findings);
        if global.verbose {
            eprintln!(
                "keyguard: {accepted} finding(s) accepted by the baseline {}",
                path.display()
            );
        }
    }
    // A reader that stops early (`keyguard --all | head`) is not a failed
    // scan: the outcome stands.
    if let Err(err) = emit(&report, global, blocking, repo.as_ref()) {
        if !is_broken_pipe(&err) {
            return Err(err);
        }
    }
    timer.mark("report");
    Ok(if !report.errors.is_empty() {
        Outcome::Incomplete
    } else if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// `PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF`, which the pre-commit
/// framework sets for its pre-push stage, as a pushed ref.
fn pre_commit_push_range(repo: &Repo) -> Option<(String, git::history::PushedRef)> {
    let to = std::env::var("PRE_COMMIT_TO_REF")
        .ok()
        .filter(|s| !s.is_empty())?;
    let from = std::env::var("PRE_COMMIT_FROM_REF").unwrap_or_default();
    let remote = std::env::var("PRE_COMMIT_REMOTE_NAME").unwrap_or_else(|_| "origin".to_string());
    let resolve = |rev: &str| repo.resolve_commit(rev).unwrap_or_else(|| "0".repeat(40));
    let pushed = git::history::PushedRef {
        local_sha: resolve(&to),
        remote_sha: resolve(&from),
    };
    Some((remote, pushed))
}

/// A progress line only where a person watches: stderr on a terminal,
/// not quiet.
fn shows_progress(global: &GlobalArgs) -> bool {
    !global.quiet
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// Writes the report: JSON and SARIF to stdout; the human report to stderr for the
/// hook (git shows hook stderr) and to stdout for manual scans.
fn emit(
    report: &ScanReport,
    global: &GlobalArgs,
    blocking: Option<&'static str>,
    repo: Option<&Repo>,
) -> Result<()> {
    match global.format {
        Format::Json | Format::Sarif => {
            let fingerprints = report_fingerprint_key(report, repo)?;
            let mut out = std::io::stdout().lock();
            report::write_report(
                global.format,
                report,
                human_style(global, false, None),
                &fingerprints,
                &mut out,
            )?;
            for error in &report.errors {
                eprintln!("keyguard: error: {error}");
            }
            out.flush()?;
        }
        Format::Human if blocking.is_some() => {
            let style = human_style(global, std::io::stderr().is_terminal(), blocking);
            let unused = finding::FingerprintKey::ephemeral()?;
            report::write_report(
                Format::Human,
                report,
                style,
                &unused,
                &mut std::io::stderr().lock(),
            )?;
        }
        Format::Human => {
            let style = human_style(global, std::io::stdout().is_terminal(), None);
            let mut out = std::io::stdout().lock();
            let unused = finding::FingerprintKey::ephemeral()?;
            report::write_report(Format::Human, report, style, &unused, &mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// The key of the report's fingerprints (see `FingerprintKey::resolve`);
/// a note when they will not be stable across runs.
fn report_fingerprint_key(
    report: &ScanReport,
    repo: Option<&Repo>,
) -> Result<finding::FingerprintKey> {
    if report.findings.is_empty() {
        return finding::FingerprintKey::ephemeral();
    }
    let key = finding::FingerprintKey::resolve(|| repo?.first_root_commit().ok().flatten())?;
    if key.origin() == finding::KeyOrigin::Ephemeral {
        eprintln!(
            "keyguard: note: fingerprints are keyed for this run only (no commit, a shallow clone, or no repository); set {} for stable ones",
            finding::FingerprintKey::ENV_VAR
        );
    }
    Ok(key)
}

fn human_style(
    global: &GlobalArgs,
    is_terminal: bool,
    blocking: Option<&'static str>,
) -> HumanStyle {
    HumanStyle {
        color: use_color(global, is_terminal),
        quiet: global.quiet,
        blocking,
    }
}

/// Colour only on a terminal, never with `--no-color`, `NO_COLOR` (set to
/// anything) or `TERM=dumb`; `CLICOLOR_FORCE` turns it on anyway.
fn use_color(global: &GlobalArgs, is_terminal: bool) -> bool {
    if global.no_color || std::env::var_os("NO_COLOR").is_some() {
        return false;
    }
    if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    is_terminal && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// `--verbose`: say which configuration is in force and what it turns off,
/// so a reviewer can see what a repository disabled.
fn describe_config(loaded: &LoadedConfig) {
    let config = &loaded.config;
    match &loaded.path {
        Some(path) => eprintln!("keyguard: configuration: {}", path.display()),
        None => eprintln!("keyguard: configuration: built-in defaults (no .keyguard.toml)"),
    }
    if !config.disabled_rules.is_empty() {
        eprintln!(
            "keyguard: rules disabled by configuration: {}",
            config.disabled_rules.join(", ")
        );
    }
    if !config.allow.paths.is_empty() {
        eprintln!(
            "keyguard: paths never scanned: {}",
            config.allow.paths.join(", ")
        );
    }
    if !config.allow.values.is_empty() {
        eprintln!(
            "keyguard: values allowed by regex: {}",
            text::escape_control(&config.allow.values.join(", "))
        );
    }
    if config.secret_files.patterns.is_some() {
        eprintln!("keyguard: the built-in secret-file list is replaced by configuration");
    }
    if !config.secret_files.allow.is_empty() {
        eprintln!(
            "keyguard: secret files allowed: {}",
            config.secret_files.allow.join(", ")
        );
    }
    if !config.rules.is_empty() {
        let ids: Vec<&str> = config.rules.iter().map(|r| r.id.as_ref()).collect();
        eprintln!("keyguard: custom rules: {}", ids.join(", "));
    }
}

/// Warns, without blocking, when a `.env` at the root of the working tree is
/// not ignored: one `git add .` away from a leak.
fn warn_about_unignored_env(repo: &Repo) {
    if let Some(root) = repo.workdir() {
        if root.join(".env").is_file() && !repo.is_ignored(".env") {
            eprintln!(
                "keyguard: warning: .env is not ignored by git; add it to .gitignore (`keyguard init` does)"
            );
        }
    }
}

fn cmd_init() -> Result<Outcome> {
    let repo = Repo::open_from_env()?;
    let root = repo
        .workdir()
        .context("keyguard init needs a working tree; this repository is bare")?;
    for line in init::run(root)? {
        eprintln!("keyguard: {line}");
    }
    Ok(Outcome::Clean)
}

fn cmd_baseline(prune: bool, global: &GlobalArgs) -> Result<Outcome> {
    let repo = Repo::open_from_env()?;
    let root = repo
        .workdir()
        .context("keyguard baseline needs a working tree; this repository is bare")?;
    let loaded = config::load(global.config.as_deref(), Some(root))?;
    let scanner = Scanner::from_config(&loaded.config, detect::Profile::Bulk)?;
    // Only what is committed or staged: an untracked `.env` accepted here
    // would pass silently once committed.
    let report = scanner.scan_staged(repo.committed_and_staged()?)?;
    if !report.errors.is_empty() {
        anyhow::bail!(
            "cannot write a baseline from an incomplete scan: {}",
            report.errors.join("; ")
        );
    }
    let path = global
        .baseline
        .clone()
        .unwrap_or_else(|| root.join(baseline::BASELINE_FILE_NAME));
    let mut baseline = if path.exists() {
        baseline::Baseline::load(&path)?
    } else {
        baseline::Baseline::new()
    };
    let (added, pruned) = baseline.update(&report.findings, prune);
    baseline.save(&path)?;
    eprintln!(
        "keyguard: {} holds {} accepted finding(s): {added} added, {pruned} pruned",
        path.display(),
        baseline.findings.len()
    );
    Ok(Outcome::Clean)
}

fn cmd_rules(global: &GlobalArgs) -> Result<Outcome> {
    let root = Repo::open_from_env()
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf));
    let loaded = config::load(global.config.as_deref(), root.as_deref())?;
    let scanner = Scanner::from_config(&loaded.config, detect::Profile::Bulk)?;
    let mut out = std::io::stdout().lock();
    let rules = scanner.detector().rules();
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in rules {
        writeln!(out, "{:width$}  {}", rule.id, rule.description)?;
    }
    let secret_file = "File whose name marks it as a secrets file (.env, id_rsa, *.key, ...)";
    writeln!(out, "{:width$}  {secret_file}", "secret-file")?;
    Ok(Outcome::Clean)
}

fn cmd_install(force: bool, pre_push: bool) -> Result<Outcome> {
    let hooks = install::hooks_dir()?;
    let binary = std::env::current_exe().context("cannot tell where the keyguard binary is")?;
    for kind in install::COMMIT_HOOKS {
        install_hook(&hooks, kind, &binary, force)?;
    }
    if pre_push {
        install_hook(&hooks, install::Hook::PrePush, &binary, force)?;
    }
    Ok(Outcome::Clean)
}

fn install_hook(hooks: &Path, kind: install::Hook, binary: &Path, force: bool) -> Result<()> {
    let message = match install::install(hooks, kind, binary, force)? {
        install::Installed::New { hook } => format!(
            "installed the {} hook at {}",
            kind.file_name(),
            hook.display()
        ),
        install::Installed::Chained { hook, previous } => format!(
            "installed the {} hook at {}; the hook that was there runs first, from {}",
            kind.file_name(),
            hook.display(),
            previous.display()
        ),
        install::Installed::Updated { hook } => format!(
            "updated the {} hook at {}",
            kind.file_name(),
            hook.display()
        ),
        install::Installed::AlreadyInstalled { hook } => {
            format!(
                "the {} hook is already installed at {}; nothing changed",
                kind.file_name(),
                hook.display()
            )
        }
    };
    eprintln!("keyguard: {message}");
    Ok(())
}

fn cmd_uninstall(pre_push: bool) -> Result<Outcome> {
    let hooks = install::hooks_dir()?;
    for kind in install::COMMIT_HOOKS {
        uninstall_hook(&hooks, kind)?;
    }
    if pre_push {
        uninstall_hook(&hooks, install::Hook::PrePush)?;
    }
    Ok(Outcome::Clean)
}

fn uninstall_hook(hooks: &Path, kind: install::Hook) -> Result<()> {
    let message = match install::uninstall(hooks, kind)? {
        install::Uninstalled::Removed { hook } => {
            format!("removed the {} hook {}", kind.file_name(), hook.display())
        }
        install::Uninstalled::Restored { hook } => {
            format!(
                "removed keyguard and restored the previous hook at {}",
                hook.display()
            )
        }
        install::Uninstalled::NotInstalled { hook } => {
            format!(
                "keyguard is not installed at {}; nothing changed",
                hook.display()
            )
        }
    };
    eprintln!("keyguard: {message}");
    Ok(())
}
