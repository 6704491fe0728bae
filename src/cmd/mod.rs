//! The subcommands, one module each, each `run(&Settings) -> Result<Outcome>`,
//! and the [`Context`] they share: the repository, opened once.

pub mod baseline;
pub mod init;
pub mod install;
pub mod rules;
pub mod scan;

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::config::{self, LoadedConfig};
use crate::detect::Profile;
use crate::git::Repo;
use crate::scan::Scanner;
use crate::settings::Settings;
use crate::Outcome;

/// The repository a command works in: the one git's environment names
/// (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`), opened once.
pub struct Context {
    repo: Repo,
}

impl Context {
    pub fn open() -> Result<Context> {
        Ok(Context {
            repo: Repo::open_from_env()?,
        })
    }

    /// For the commands that also work outside a repository (scanning
    /// paths, listing rules).
    pub fn open_if_any() -> Option<Context> {
        Context::open().ok()
    }

    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// The root of the working tree, if the repository has one.
    pub fn root(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The root of the working tree, which `what` ("keyguard init") needs.
    pub fn require_worktree(&self, what: &str) -> Result<&Path> {
        self.root()
            .with_context(|| format!("{what} needs a working tree; this repository is bare"))
    }
}

/// The configuration in force under `root` and the scanner built from it,
/// tuned for `profile`.
pub fn load_scanner(
    settings: &Settings,
    root: Option<&Path>,
    profile: Profile,
) -> Result<(LoadedConfig, Scanner)> {
    let loaded = config::load(settings.config.as_deref(), root)?;
    let scanner =
        Scanner::from_config(&loaded.config, profile).with_context(|| match &loaded.path {
            Some(path) => format!("invalid configuration in {}", path.display()),
            None => "invalid built-in configuration".to_string(),
        })?;
    Ok((loaded, scanner))
}

/// `keyguard completions SHELL`. (Generated into memory first:
/// clap_complete panics on a failed write.)
pub fn completions(shell: clap_complete::Shell) -> Result<Outcome> {
    let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "keyguard", &mut script);
    write_stdout(&script).context("cannot write the completion script")?;
    Ok(Outcome::Clean)
}

/// `keyguard man`.
pub fn man() -> Result<Outcome> {
    let command = <crate::cli::Cli as clap::CommandFactory>::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    write_stdout(&page).context("cannot write the man page")?;
    Ok(Outcome::Clean)
}

/// Writes `bytes` to stdout; a reader that closed the pipe is not an error.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    ignore_closed_pipe(
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(anyhow::Error::from),
    )
}

/// A reader that stopped reading (`keyguard rules | head -1`) has what it
/// wanted: the write that found the pipe closed is not an error.
pub fn ignore_closed_pipe(result: Result<()>) -> Result<()> {
    match result {
        Err(err) if is_closed_pipe(&err) => Ok(()),
        other => other,
    }
}

fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
