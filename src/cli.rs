//! The command line as the user types it (clap derive), and nothing else:
//! resolving it against the environment and the config is `settings.rs`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::agent::Agent;
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
        keyguard baseline --history   also accept the keys that only history holds\n  \
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
    #[arg(long, hide = true, num_args = 1..=2, value_names = ["REMOTE", "URL"], conflicts_with_all = ["all", "paths", "history", "stdin"])]
    pub pre_push: Option<Vec<String>>,

    /// Run as git's HOOK hook: scan what the commit being made adds (for a
    /// merge, only what it adds relative to every parent).
    #[arg(long, hide = true, value_enum, value_name = "HOOK", conflicts_with_all = ["all", "paths", "history", "pre_push", "stdin"])]
    pub hook: Option<Hook>,

    /// Answer in the shim's protocol: exit 10 nothing found, 11 secrets
    /// found, 12 could not scan (so that the shim can tell keyguard from
    /// another program of the same name).
    #[arg(long, hide = true, value_name = "VERSION", value_parser = clap::value_parser!(u8).range(1..=1))]
    pub hook_protocol: Option<u8>,

    /// Scan standard input as one file (a prompt, a pipeline, an editor buffer).
    // Its conflicts with the hidden --pre-push and --hook are written on
    // those: completion drops hidden options, and a conflict naming one
    // would then name nothing.
    #[arg(long, conflicts_with_all = ["all", "paths", "history"])]
    pub stdin: bool,

    /// Files and folders to scan as they are on disk.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub global: GlobalArgs,
}

impl Cli {
    /// This process's command line. The shim's own invocation
    /// (`--hook-protocol=1 --hook=pre-commit`, hooks/shim) is read without
    /// clap: building clap's parser, every subcommand's arguments included,
    /// was a quarter of the hook's start-up (callgrind). A test checks that
    /// both readings agree; any other command line goes to clap.
    pub fn from_env() -> Cli {
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        Cli::shim_invocation(&args).unwrap_or_else(Cli::parse)
    }

    fn shim_invocation(args: &[OsString]) -> Option<Cli> {
        let [protocol, hook] = args else {
            return None;
        };
        if protocol != "--hook-protocol=1" {
            return None;
        }
        let hook = match hook.to_str()?.strip_prefix("--hook=")? {
            "pre-commit" => Hook::PreCommit,
            "pre-merge-commit" => Hook::PreMergeCommit,
            "pre-applypatch" => Hook::PreApplypatch,
            _ => return None,
        };
        Some(Cli {
            command: None,
            staged: false,
            all: false,
            history: None,
            pre_push: None,
            hook: Some(hook),
            hook_protocol: Some(1),
            stdin: false,
            paths: Vec::new(),
            global: GlobalArgs {
                format: Format::Human,
                config: None,
                baseline: None,
                color: clap::ColorChoice::Auto,
                no_color: false,
                quiet: false,
                verbose: false,
                timings: false,
            },
        })
    }
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
        #[arg(long, conflicts_with = "agent")]
        force: bool,
        /// Also install a pre-push hook that scans the commits being pushed.
        #[arg(long, conflicts_with = "agent")]
        pre_push: bool,
        #[command(flatten)]
        agent: AgentTarget,
    },
    /// Take out every hook keyguard installed (pre-push too), restoring the hooks they had chained.
    Uninstall {
        /// Also say so when there is no keyguard pre-push hook (it is removed either way).
        #[arg(long, conflicts_with = "agent")]
        pre_push: bool,
        #[command(flatten)]
        agent: AgentTarget,
    },
    /// The hook a coding agent runs before a tool acts: one event as JSON on stdin.
    AgentHook {
        /// The agent whose event this is, and whose answer it expects.
        #[arg(long, value_enum)]
        agent: Agent,
        /// Answer in the installed entry's protocol: exit 10 to allow, 12
        /// to block (the entry turns them into the agent's 0 and 2, and
        /// anything else, a crash or another program, into a block).
        #[arg(long, hide = true, value_name = "VERSION", value_parser = clap::value_parser!(u8).range(1..=1))]
        protocol: Option<u8>,
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
    /// Record the current findings in committed and staged content in .keyguard-baseline.json, so that they stop blocking.
    Baseline {
        /// Also drop entries whose secret is no longer found: in committed
        /// or staged content, and with --history in that history too
        /// (without it, the entries of keys only history holds are dropped).
        #[arg(long)]
        prune: bool,
        /// Also record the findings that exist only in history: all of
        /// HEAD's history, or a range (origin/main..HEAD).
        #[arg(long, value_name = "RANGE", num_args = 0..=1, default_missing_value = "")]
        history: Option<String>,
    },
}

/// `install --agent NAME [--global]`: a coding agent's settings instead of git's hooks.
#[derive(Debug, clap::Args)]
pub struct AgentTarget {
    /// Install into this coding agent's settings (agent-hook) instead of git's hooks.
    #[arg(long, value_enum)]
    pub agent: Option<Agent>,
    /// With --agent: the user's settings (all projects) instead of this project's.
    #[arg(long, requires = "agent")]
    pub global: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// The shim's invocations read the same without clap as with it.
    #[test]
    fn the_shim_invocation_reads_as_clap_reads_it() {
        for hook in ["pre-commit", "pre-merge-commit", "pre-applypatch"] {
            let args = ["--hook-protocol=1".to_string(), format!("--hook={hook}")];
            let fast = Cli::shim_invocation(&os(&[&args[0], &args[1]])).expect("the shim's form");
            let clap = Cli::try_parse_from(std::iter::once("keyguard".to_string()).chain(args))
                .expect("clap reads it");
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{hook}");
        }
    }

    /// Every other command line is clap's, errors included.
    #[test]
    fn any_other_command_line_goes_to_clap() {
        for args in [
            &[][..],
            &["--hook-protocol=1"],
            &["--hook-protocol=2", "--hook=pre-commit"],
            &["--hook-protocol=1", "--hook=pre-push"],
            &["--hook-protocol=1", "--hook", "pre-commit"],
            &["--hook=pre-commit", "--hook-protocol=1"],
            &["--hook-protocol=1", "--hook=pre-commit", "--all"],
            &["--hook-protocol=1", "--hook=Pre-Commit"],
        ] {
            assert!(Cli::shim_invocation(&os(args)).is_none(), "{args:?}");
        }
    }
}
