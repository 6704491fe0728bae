//! keyguard: a pre-commit hook that stops API keys from being committed.
//!
//! The modules, in the order data flows through them:
//! staged diff or files on disk (`git`, `text`) → detector (`rules`,
//! `detect`, `secret_files`) → findings (`finding`, `scan`) → report
//! (`report`) → exit code (`main.rs`).

pub mod cli;
pub mod config;
pub mod git;
pub mod text;
pub mod rules;
pub mod detect;
pub mod secret_files;
pub mod finding;
pub mod scan;
pub mod report;
pub mod install;

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
}

/// What to scan.
enum Target {
    Staged,
    All,
    Paths(Vec<PathBuf>),
}

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Some(Command::Install { force }) => cmd_install(force),
        Some(Command::Uninstall) => cmd_uninstall(),
        Some(Command::Rules) => cmd_rules(&cli.global),
        None => {
            let target = if cli.all {
                Target::All
            } else if !cli.paths.is_empty() {
                Target::Paths(cli.paths)
            } else {
                Target::Staged
            };
            cmd_scan(target, &cli.global)
        }
    }
}

fn cmd_scan(target: Target, global: &GlobalArgs) -> Result<Outcome> {
    // Scanning paths works outside a repository; staged and --all do not.
    let repo = match &target {
        Target::Paths(_) => Repo::open_from_env().ok(),
        Target::Staged | Target::All => Some(Repo::open_from_env()?),
    };
    let root = repo.as_ref().and_then(|r| r.workdir()).map(Path::to_path_buf);
    let loaded = config::load(global.config.as_deref(), root.as_deref())?;
    if global.verbose {
        describe_config(&loaded);
    }
    let scanner = Scanner::from_config(&loaded.config).with_context(|| match &loaded.path {
        Some(path) => format!("invalid configuration in {}", path.display()),
        None => "invalid built-in configuration".to_string(),
    })?;

    let is_hook = matches!(target, Target::Staged);
    let report = match target {
        Target::Staged => scanner.scan_staged(repo.as_ref().expect("opened above"))?,
        Target::All => {
            let repo = repo.as_ref().expect("opened above");
            let root = root.as_ref().context("--all needs a working tree; this repository is bare")?;
            let files: Vec<(String, PathBuf)> = repo
                .tracked_and_untracked_files()?
                .into_iter()
                .map(|p| {
                    let on_disk = root.join(&p);
                    (p, on_disk)
                })
                .collect();
            scanner.scan_files(&files)
        }
        Target::Paths(paths) => scanner.scan_files(&scan::files_under(&paths)?),
    };
    emit(&report, global, is_hook)?;
    Ok(if !report.errors.is_empty() {
        Outcome::Incomplete
    } else if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// Writes the report: JSON to stdout; the human report to stderr for the
/// hook (git shows hook stderr) and to stdout for manual scans.
fn emit(report: &ScanReport, global: &GlobalArgs, is_hook: bool) -> Result<()> {
    match global.format {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            report::write_report(Format::Json, report, human_style(global, false, false), &mut out)?;
            for error in &report.errors {
                eprintln!("keyguard: error: {error}");
            }
            out.flush()?;
        }
        Format::Human if is_hook => {
            let style = human_style(global, std::io::stderr().is_terminal(), true);
            report::write_report(Format::Human, report, style, &mut std::io::stderr().lock())?;
        }
        Format::Human => {
            let style = human_style(global, std::io::stdout().is_terminal(), false);
            let mut out = std::io::stdout().lock();
            report::write_report(Format::Human, report, style, &mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

fn human_style(global: &GlobalArgs, is_terminal: bool, is_hook: bool) -> HumanStyle {
    HumanStyle { color: use_color(global, is_terminal), quiet: global.quiet, is_hook }
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
        eprintln!("keyguard: rules disabled by configuration: {}", config.disabled_rules.join(", "));
    }
    if !config.allow.paths.is_empty() {
        eprintln!("keyguard: paths never scanned: {}", config.allow.paths.join(", "));
    }
    if !config.allow.values.is_empty() {
        eprintln!("keyguard: values allowed by regex: {}", config.allow.values.join(", "));
    }
    if config.secret_files.patterns.is_some() {
        eprintln!("keyguard: the built-in secret-file list is replaced by configuration");
    }
    if !config.secret_files.allow.is_empty() {
        eprintln!("keyguard: secret files allowed: {}", config.secret_files.allow.join(", "));
    }
    if !config.rules.is_empty() {
        let ids: Vec<&str> = config.rules.iter().map(|r| r.id.as_str()).collect();
        eprintln!("keyguard: custom rules: {}", ids.join(", "));
    }
}

fn cmd_rules(global: &GlobalArgs) -> Result<Outcome> {
    let root = Repo::open_from_env().ok().and_then(|r| r.workdir().map(Path::to_path_buf));
    let loaded = config::load(global.config.as_deref(), root.as_deref())?;
    let scanner = Scanner::from_config(&loaded.config)?;
    let mut out = std::io::stdout().lock();
    let rules = scanner.detector().rules();
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in rules {
        writeln!(out, "{:width$}  {}", rule.id, rule.description)?;
    }
    writeln!(out, "{:width$}  {}", "secret-file", "File whose name marks it as a secrets file (.env, id_rsa, *.key, ...)")?;
    Ok(Outcome::Clean)
}

fn cmd_install(force: bool) -> Result<Outcome> {
    let hooks = install::hooks_dir()?;
    let binary = std::env::current_exe().context("cannot tell where the keyguard binary is")?;
    let message = match install::install(&hooks, &binary, force)? {
        install::Installed::New { hook } => format!("installed the pre-commit hook at {}", hook.display()),
        install::Installed::Chained { hook, previous } => format!(
            "installed the pre-commit hook at {}; the hook that was there runs first, from {}",
            hook.display(),
            previous.display()
        ),
        install::Installed::Updated { hook } => format!("updated the pre-commit hook at {}", hook.display()),
        install::Installed::AlreadyInstalled { hook } => {
            format!("already installed at {}; nothing changed", hook.display())
        }
    };
    eprintln!("keyguard: {message}");
    Ok(Outcome::Clean)
}

fn cmd_uninstall() -> Result<Outcome> {
    let hooks = install::hooks_dir()?;
    let message = match install::uninstall(&hooks)? {
        install::Uninstalled::Removed { hook } => format!("removed the pre-commit hook {}", hook.display()),
        install::Uninstalled::Restored { hook } => {
            format!("removed keyguard and restored the previous hook at {}", hook.display())
        }
        install::Uninstalled::NotInstalled { hook } => {
            format!("keyguard is not installed at {}; nothing changed", hook.display())
        }
    };
    eprintln!("keyguard: {message}");
    Ok(Outcome::Clean)
}
