//! The command line as the user types it (clap derive), and nothing else:
//! resolving it against the environment and the config is `settings.rs`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::install::Hook;
use crate::report::Format;

/// `keyguard --version`: the version and where the build came from (the
/// commit of a git checkout, a crates.io package, or a source build without
/// git; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KEYGUARD_BUILD_SOURCE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "keyguard",
    version = VERSION,
    about = "Stops API keys and other credentials from entering a git repository.",
    long_about = "Stops API keys and other credentials from entering a git repository.\n\n\
        Run with no arguments (as the pre-commit hook does) to scan the lines the next commit adds.",
    after_help = "Examples:\n  \
        keyguard                 scan what is staged (what the hook runs)\n  \
        keyguard --all           scan every tracked and untracked, non-ignored file\n  \
        keyguard --history origin/main..HEAD   scan the lines those commits added\n  \
        keyguard src/ .env       scan these files and folders as they are on disk\n  \
        keyguard install         install the commit hooks (pre-commit, pre-merge-commit, pre-applypatch)\n  \
        keyguard rules           list the built-in rules\n  \
        keyguard init            add .env and key files to .gitignore, write .keyguard.toml\n  \
        keyguard baseline        accept today's findings (hashes only) so they stop blocking\n  \
        keyguard completions bash > /etc/bash_completion.d/keyguard\n  \
        keyguard man > /usr/local/share/man/man1/keyguard.1\n\n\
        Exit status: 0 nothing found, 1 secrets found, 2 the scan could not be done.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Scan what is staged for the next commit (the default).
    #[arg(long, conflicts_with_all = ["all", "paths"])]
    pub staged: bool,

    /// Scan every tracked file and every untracked file that is not ignored, as on disk.
    #[arg(long, conflicts_with_all = ["paths", "history"])]
    pub all: bool,

    /// Scan the lines each commit added: all of HEAD's history, or a range (origin/main..HEAD).
    #[arg(long, value_name = "RANGE", num_args = 0..=1, default_missing_value = "", conflicts_with = "paths")]
    pub history: Option<String>,

    /// Run as git's pre-push hook: REMOTE [URL] as arguments, pushed refs on stdin.
    #[arg(long, hide = true, num_args = 1..=2, value_names = ["REMOTE", "URL"], conflicts_with_all = ["all", "paths", "history"])]
    pub pre_push: Option<Vec<String>>,

    /// Run as git's HOOK hook: scan what the commit being made adds (for a
    /// merge, only what it adds relative to every parent).
    #[arg(long, hide = true, value_enum, value_name = "HOOK", conflicts_with_all = ["all", "paths", "history", "pre_push"])]
    pub hook: Option<Hook>,

    /// Answer in the shim's protocol: exit 10 nothing found, 11 secrets
    /// found, 12 could not scan (so that the shim can tell keyguard from
    /// another program of the same name).
    #[arg(long, hide = true, value_name = "VERSION", value_parser = clap::value_parser!(u8).range(1..=1))]
    pub hook_protocol: Option<u8>,

    /// Files and folders to scan as they are on disk.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human", global = true)]
    pub format: Format,

    /// Configuration file (default: .keyguard.toml at the repository root, if present).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Baseline of accepted findings (default: .keyguard-baseline.json at the repository root, if present).
    #[arg(long, value_name = "FILE", global = true)]
    pub baseline: Option<PathBuf>,

    /// When to colour the output: auto colours a stream only when it is a
    /// terminal (NO_COLOR turns that off, CLICOLOR_FORCE on).
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: clap::ColorChoice,

    /// Never colour the output (the same as --color never).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Print nothing when nothing is found.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also say which configuration was used and what it turned off.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Show where the run's time goes, phase by phase, on stderr
    /// (KEYGUARD_TIMING set in the environment does the same).
    #[arg(long, hide = true, global = true)]
    pub timings: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Put the keyguard shim into this repository's pre-commit, pre-merge-commit and pre-applypatch hooks (keeping any existing hook).
    Install {
        /// Rewrite the shim even if it is up to date; move aside a second foreign hook.
        #[arg(long)]
        force: bool,
        /// Also install a pre-push hook that scans the commits being pushed.
        #[arg(long)]
        pre_push: bool,
    },
    /// Take out every hook keyguard installed (pre-push too), restoring the hooks they had chained.
    Uninstall {
        /// Also say so when there is no keyguard pre-push hook (it is removed either way).
        #[arg(long)]
        pre_push: bool,
    },
    /// List the rules in force: id and description (`rules check` checks them).
    Rules {
        #[command(subcommand)]
        action: Option<RulesAction>,
    },
    /// Write a starter .keyguard.toml, add the protective lines to .gitignore, and a .env.example for an existing .env.
    Init,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from this command line.
    Man,
    /// Record the current findings (of `--all`) in .keyguard-baseline.json, so that they stop blocking.
    Baseline {
        /// Also drop entries whose secret is no longer found.
        #[arg(long)]
        prune: bool,
    },
}

/// A lone argument that is no file on disk but looks like a mistyped
/// subcommand (`keyguard instal`) or `version`: clap's usage error, with a
/// suggestion, instead of a scan of a path that does not exist. A file of
/// that name is still scanned.
pub fn mistyped_subcommand(cli: &Cli) -> Option<clap::Error> {
    let [path] = cli.paths.as_slice() else {
        return None;
    };
    if cli.command.is_some() || path.exists() {
        return None;
    }
    let typed = path.to_str()?;
    let mut command = <Cli as clap::CommandFactory>::command();
    let suggestion = if typed == "version" {
        "--version".to_string()
    } else {
        command
            .get_subcommands()
            .map(|sub| sub.get_name())
            .filter(|name| strsim::damerau_levenshtein(typed, name) <= 2)
            .min_by_key(|name| strsim::damerau_levenshtein(typed, name))?
            .to_string()
    };
    Some(command.error(
        clap::error::ErrorKind::InvalidSubcommand,
        format!(
            "unrecognized subcommand '{typed}' (and no file of that name to scan)\n\n  \
             tip: did you mean '{suggestion}'?"
        ),
    ))
}

/// What `keyguard rules` does besides listing.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Check rules (built-in, or a config file's): ids, capture groups, examples match, negative examples do not.
    Check {
        /// A configuration or rule file holding `[[rules]]` (default: the built-in rules).
        file: Option<PathBuf>,
    },
}
