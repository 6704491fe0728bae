//! The subcommands, one module each, each `run(&Settings) -> Result<Outcome>`,
//! and the [`Context`] they share: the repository, opened once.

pub mod agent_hook;
pub mod agent_install;
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
    let mut command = completion_command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "keyguard", &mut script);
    write_stdout(&script).context("cannot write the completion script")?;
    Ok(Outcome::Clean)
}

/// The options each subcommand reads of the global ones (clap accepts them
/// everywhere; completion offers them only where they do something).
const GLOBALS_FOR: &[(&str, &[&str])] = &[
    ("install", &["color", "no_color"]),
    ("uninstall", &["color", "no_color"]),
    ("init", &["color", "no_color"]),
    ("rules", &["config", "color", "no_color"]),
    ("baseline", &["config", "baseline", "color", "no_color"]),
    ("completions", &[]),
    ("man", &[]),
];

/// The command line as completion should offer it: no hidden option (the
/// shim's `--hook-protocol`, `--timings`, ...; clap_complete would list
/// them), and under each subcommand only the global options it reads.
fn completion_command() -> clap::Command {
    let full = <crate::cli::Cli as clap::CommandFactory>::command();
    let globals: Vec<&clap::Arg> = full
        .get_arguments()
        .filter(|a| a.is_global_set() && !a.is_hide_set())
        .collect();
    let mut out = clap::Command::new("keyguard")
        .about(full.get_about().cloned().unwrap_or_default())
        .version(crate::cli::VERSION)
        .args_conflicts_with_subcommands(true);
    for arg in full.get_arguments().filter(|a| !a.is_hide_set()) {
        out = out.arg(arg.clone().global(false));
    }
    for sub in full.get_subcommands() {
        let reads = GLOBALS_FOR
            .iter()
            .find(|(name, _)| *name == sub.get_name())
            .map_or(&[][..], |(_, ids)| *ids);
        let mut sub = sub.clone();
        for arg in globals
            .iter()
            .filter(|a| reads.contains(&a.get_id().as_str()))
        {
            sub = sub.arg((*arg).clone().global(false));
        }
        out = out.subcommand(sub);
    }
    out
}

/// `keyguard man`: one page. clap_mangen's own subcommand section points
/// to a `keyguard-install(1)` page per subcommand, which do not exist: the
/// subcommands are described here instead, each with its own flags, and the
/// sections a man page needs follow (exit status, environment, files, how
/// to suppress a finding).
pub fn man() -> Result<Outcome> {
    let command = <crate::cli::Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    page.extend_from_slice(man_commands(&command).as_bytes());
    page.extend_from_slice(MAN_SECTIONS.as_bytes());
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    write_stdout(&page).context("cannot write the man page")?;
    Ok(Outcome::Clean)
}

/// roff text, with `-` and `\` escaped.
fn roff(text: &str) -> String {
    text.replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\(aq")
}

/// The COMMANDS section: each subcommand, what it does, and the flags of
/// its own (not the global ones, listed under OPTIONS).
fn man_commands(command: &clap::Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let own: Vec<&clap::Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .collect();
        let mut usage = format!("\\fBkeyguard {}\\fR", sub.get_name());
        for arg in &own {
            match arg.get_long() {
                Some(long) => usage.push_str(&format!(" [\\fB\\-\\-{}\\fR]", roff(long))),
                None => usage.push_str(&format!(
                    " \\fI{}\\fR",
                    roff(arg.get_id().as_str()).to_uppercase()
                )),
            }
        }
        for nested in sub.get_subcommands().filter(|s| s.get_name() != "help") {
            usage.push_str(&format!(" [\\fB{}\\fR]", roff(nested.get_name())));
        }
        out.push_str(&format!(".TP\n{usage}\n"));
        if let Some(about) = sub.get_about() {
            out.push_str(&format!("{}\n", roff(&about.to_string())));
        }
        for arg in own {
            let name = match arg.get_long() {
                Some(long) => format!("\\-\\-{}", roff(long)),
                None => roff(arg.get_id().as_str()).to_uppercase(),
            };
            let help = arg
                .get_help()
                .map(|h| roff(&h.to_string()))
                .unwrap_or_default();
            out.push_str(&format!(".RS\n.TP\n\\fB{name}\\fR\n{help}\n.RE\n"));
        }
    }
    out
}

const MAN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Nothing was found.
.TP
\fB1\fR
Secrets were found: the commit or push is blocked.
.TP
\fB2\fR
The scan could not be done (not a repository, a bad configuration, an unreadable object), or the command line is wrong. A scan that did not complete never exits 0.
.SH ENVIRONMENT
.TP
\fBNO_COLOR\fR
Set and not empty: no colour (unless \fB\-\-color always\fR).
.TP
\fBCLICOLOR_FORCE\fR
Set, not empty and not 0: colour even when the output is not a terminal.
.TP
\fBKEYGUARD_BIN\fR
Read by the installed hooks: the keyguard binary they run, instead of the one \fBkeyguard install\fR recorded.
.TP
\fBKEYGUARD_FINGERPRINT_KEY\fR
The key of the report fingerprints of \fB\-\-format json\fR and \fBsarif\fR (a CI secret); see README.
.TP
\fBPRE_COMMIT\fR, \fBGIT_INDEX_FILE\fR
Both set (the pre\-commit framework at commit time): file names given to keyguard mean the staged scan.
.SH FILES
.TP
\fI.keyguard.toml\fR
The configuration, at the root of the repository (or \fB\-\-config\fR \fIFILE\fR).
.TP
\fI.keyguard\-baseline.json\fR
Accepted findings (\fBkeyguard baseline\fR), at the root of the repository (or \fB\-\-baseline\fR \fIFILE\fR).
.TP
\fI$GIT_DIR/hooks/pre\-commit\fR, \fIpre\-merge\-commit\fR, \fIpre\-applypatch\fR, \fIpre\-push\fR
The hooks \fBkeyguard install\fR writes (in the folder git uses for hooks); a hook that was there before is kept as \fIHOOK.keyguard\-chained\fR and run first.
.SH "SUPPRESSING A FINDING"
A false positive on one line: add \fBkeyguard:allow\fR in a comment on that line (\fBgitleaks:allow\fR and \fBpragma: allowlist secret\fR work too). Whole files, values or rules: \fBallow.paths\fR, \fBallow.values\fR and \fBdisabled_rules\fR in \fI.keyguard.toml\fR. Findings that are already committed: \fBkeyguard baseline\fR. Skipping the hook for one commit: \fBgit commit \-\-no\-verify\fR (\fBSKIP=keyguard git commit\fR under the pre\-commit framework); a key that was ever pushed must be rotated.
"#;

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

/// Whether `err` is a write to a pipe whose reader is gone (directly, or
/// inside serde_json's error for a JSON or SARIF report).
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}
