//! What a run needs to know, resolved once from the command line and the
//! environment (terminals, `NO_COLOR`, `PRE_COMMIT_*`, `KEYGUARD_TIMING`).
//! Nothing past this module reads the process environment to decide how
//! keyguard behaves; the configuration file is loaded by `cmd::Context`
//! once the repository root is known.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::agent::Agent;
use crate::cli::{self, Cli};
use crate::finding::FingerprintKey;
use crate::install::Hook;
use crate::messages::{self, Message};
use crate::report::Format;

/// The resolved run: what to do, and how to say it.
#[derive(Debug)]
pub struct Settings {
    pub command: Command,
    pub format: Format,
    /// `--config`: else `.keyguard.toml` at the repository root, if present.
    pub config: Option<PathBuf>,
    /// `--baseline`: else `.keyguard-baseline.json` at the root, if present.
    pub baseline: Option<PathBuf>,
    pub verbosity: Verbosity,
    pub color: Colors,
    /// A progress line on stderr: only where a person watches.
    pub progress: bool,
    /// `--timings`: the phase breakdown on stderr.
    pub timings: bool,
    /// `--hook-protocol`: answer with the shim's exit codes.
    pub hook_protocol: Option<u8>,
    /// Run by the pre-commit framework: a blocked commit's help also names
    /// `SKIP=keyguard`.
    pub pre_commit_framework: bool,
    /// `KEYGUARD_FINGERPRINT_KEY`, set and not empty: the key of the
    /// report's fingerprints (a CI secret).
    pub fingerprint_key: Option<OsString>,
    /// Where the human report wraps its hints: the terminal's width, for a
    /// stream that is a terminal.
    pub wrap_width: Colors<Option<usize>>,
    /// Where the coding agents keep their user settings (`install --agent
    /// NAME --global`).
    pub agent_homes: AgentHomes,
}

/// The folders `install --agent --global` writes in: `HOME`, and the
/// agents' own overrides (`CODEX_HOME`, `COPILOT_HOME`).
#[derive(Debug, Clone, Default)]
pub struct AgentHomes {
    pub home: Option<PathBuf>,
    pub codex_home: Option<PathBuf>,
    pub copilot_home: Option<PathBuf>,
}

/// The subcommand, or the scan.
#[derive(Debug)]
pub enum Command {
    Scan(Scan),
    Install {
        force: bool,
        pre_push: bool,
    },
    Uninstall {
        pre_push: bool,
    },
    /// `install --agent NAME [--global]`.
    InstallAgent {
        agent: Agent,
        global: bool,
    },
    /// `uninstall --agent NAME [--global]`.
    UninstallAgent {
        agent: Agent,
        global: bool,
    },
    /// `agent-hook --agent NAME [--protocol 1]`.
    AgentHook {
        agent: Agent,
        protocol: bool,
    },
    Rules,
    /// `keyguard rules check [FILE]`.
    RulesCheck(Option<PathBuf>),
    Init,
    Completions(clap_complete::Shell),
    Man,
    Baseline {
        prune: bool,
        /// `--history [RANGE]`: also what history holds (`None` inside:
        /// HEAD's history).
        history: Option<Option<String>>,
    },
}

/// A scan: what to read, and how the detector is tuned for it.
#[derive(Debug)]
pub struct Scan {
    pub target: Target,
    pub profile: Profile,
    /// The range the pre-commit framework names for its pre-push stage
    /// (`PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF`), for `--history`.
    pub pre_commit_push: Option<PreCommitPush>,
}

/// What to scan.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// What the commit being made adds, for this hook (pre-commit when run
    /// by hand); for pre-merge-commit, relative to every merged parent.
    Staged {
        hook: Hook,
    },
    All,
    Paths(Vec<PathBuf>),
    /// Standard input, as one file (`--stdin`).
    Stdin,
    /// HEAD's history, or a revision range.
    History(Option<String>),
    /// The commits a `git push` is about to send (pre-push hook).
    PrePush,
}

impl Target {
    /// The hook whose git command this scan can block; the human report
    /// then goes to stderr (git shows a hook's stderr) with the help that
    /// says how to go on.
    pub fn blocks(&self) -> Option<Hook> {
        match self {
            Target::Staged { hook } => Some(*hook),
            Target::PrePush => Some(Hook::PrePush),
            Target::All | Target::Paths(_) | Target::Stdin | Target::History(_) => None,
        }
    }
}

/// How the detector is tuned, chosen here once per run: the hook reads a
/// few small files and must start fast; everything else reads many and must
/// run fast.
pub use crate::detect::Profile;

/// The pushed ref the pre-commit framework names for its pre-push stage,
/// as revisions still to resolve in the repository. It names a range
/// (`from`, `to`) when it found one; for a push that holds a root commit
/// (a first push, an orphan branch, a push by URL) only the local ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreCommitPush {
    /// `PRE_COMMIT_FROM_REF`: the remote's id.
    pub from: Option<String>,
    /// `PRE_COMMIT_TO_REF`: the pushed id.
    pub to: Option<String>,
    /// `PRE_COMMIT_LOCAL_BRANCH`: the pushed local ref.
    pub local_branch: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// `--quiet`: nothing when nothing is found.
    Quiet,
    Normal,
    /// `--verbose`: also the configuration in force, the baseline's effect.
    Verbose,
}

/// A standard output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A setting for each stream: whether to colour it, how wide it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colors<T = bool> {
    pub stdout: T,
    pub stderr: T,
}

impl<T: Copy> Colors<T> {
    pub fn on(self, stream: Stream) -> T {
        match stream {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }
}

/// The parts of the process environment that change how keyguard runs,
/// read in one place (tests build one by hand).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    /// The terminal's width in columns (`COLUMNS`, else the terminal's own
    /// size), when there is a terminal.
    pub terminal_width: Option<usize>,
    /// `NO_COLOR`, set and not empty (no-color.org).
    pub no_color: bool,
    /// `CLICOLOR_FORCE`, set, not empty and not `0` (bixense.com/clicolors).
    pub clicolor_force: bool,
    /// `TERM=dumb`: a terminal that shows escape codes as text.
    pub dumb_terminal: bool,
    /// `KEYGUARD_TIMING` set: the same as `--timings`.
    pub timing: bool,
    pub pre_commit_from_ref: Option<String>,
    pub pre_commit_to_ref: Option<String>,
    pub pre_commit_local_branch: Option<String>,
    pub pre_commit_remote_name: Option<String>,
    /// `KEYGUARD_FINGERPRINT_KEY`, when set and not empty.
    pub fingerprint_key: Option<OsString>,
    pub agent_homes: AgentHomes,
    /// `PRE_COMMIT=1`: run as a hook of the pre-commit framework, which
    /// sets it for its hooks.
    pub pre_commit_framework: bool,
    /// `GIT_INDEX_FILE` set: git sets it for the hooks it runs while making
    /// a commit (and only for those).
    pub git_index_file: bool,
    /// `GITHEAD_<id>` variables: git merge is running its pre-merge-commit hook.
    pub merging: bool,
}

impl Environment {
    /// Run by the pre-commit framework from a hook git runs while making a
    /// commit.
    fn framework_commit_hook(&self) -> bool {
        self.pre_commit_framework && self.git_index_file
    }

    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var_os(name);
        let text = |name: &str| std::env::var(name).ok();
        let non_empty = |v: Option<OsString>| v.is_some_and(|v| !v.is_empty());
        Environment {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            terminal_width: text("COLUMNS")
                .and_then(|c| c.trim().parse().ok())
                .filter(|&c: &usize| c > 0)
                .or_else(terminal_columns),
            no_color: non_empty(var("NO_COLOR")),
            clicolor_force: var("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0"),
            dumb_terminal: var("TERM").is_some_and(|t| t == "dumb"),
            timing: var("KEYGUARD_TIMING").is_some(),
            pre_commit_from_ref: text("PRE_COMMIT_FROM_REF"),
            pre_commit_to_ref: text("PRE_COMMIT_TO_REF"),
            pre_commit_local_branch: text("PRE_COMMIT_LOCAL_BRANCH"),
            pre_commit_remote_name: text("PRE_COMMIT_REMOTE_NAME"),
            fingerprint_key: var(FingerprintKey::ENV_VAR).filter(|v| !v.is_empty()),
            agent_homes: AgentHomes {
                home: var("HOME").filter(|v| !v.is_empty()).map(PathBuf::from),
                codex_home: var("CODEX_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from),
                copilot_home: var("COPILOT_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from),
            },
            pre_commit_framework: var("PRE_COMMIT").is_some_and(|v| v == "1"),
            git_index_file: non_empty(var("GIT_INDEX_FILE")),
            merging: std::env::vars_os()
                .any(|(name, _)| name.to_string_lossy().starts_with("GITHEAD_")),
        }
    }
}

impl Settings {
    /// Resolves the command line against this process's environment.
    pub fn resolve(cli: Cli) -> Settings {
        Settings::resolve_in(cli, &Environment::from_process())
    }

    pub fn resolve_in(cli: Cli, env: &Environment) -> Settings {
        let global = cli.global;
        let verbosity = if global.quiet {
            Verbosity::Quiet
        } else if global.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        let choice = if global.no_color {
            clap::ColorChoice::Never
        } else {
            global.color
        };
        let command = match cli.command {
            Some(cli::Command::Install {
                agent:
                    cli::AgentTarget {
                        agent: Some(agent),
                        global,
                    },
                ..
            }) => Command::InstallAgent { agent, global },
            Some(cli::Command::Install {
                force, pre_push, ..
            }) => Command::Install { force, pre_push },
            Some(cli::Command::Uninstall {
                agent:
                    cli::AgentTarget {
                        agent: Some(agent),
                        global,
                    },
                ..
            }) => Command::UninstallAgent { agent, global },
            Some(cli::Command::Uninstall { pre_push, .. }) => Command::Uninstall { pre_push },
            Some(cli::Command::AgentHook { agent, protocol }) => Command::AgentHook {
                agent,
                protocol: protocol.is_some(),
            },
            Some(cli::Command::Rules { action: None }) => Command::Rules,
            Some(cli::Command::Rules {
                action: Some(cli::RulesAction::Check { file }),
            }) => Command::RulesCheck(file.clone()),
            Some(cli::Command::Init) => Command::Init,
            Some(cli::Command::Completions { shell }) => Command::Completions(shell),
            Some(cli::Command::Man) => Command::Man,
            Some(cli::Command::Baseline { prune, history }) => Command::Baseline {
                prune,
                history: history.map(|range| Some(range).filter(|r| !r.is_empty())),
            },
            None => {
                // The remote's name and URL that git passes are not needed:
                // what the remote has is read from the pushed lines and the
                // remote-tracking refs, whatever the remote is called.
                let target = if cli.pre_push.is_some() {
                    Target::PrePush
                } else if let Some(range) = cli.history {
                    Target::History(Some(range).filter(|r| !r.is_empty()))
                } else if cli.all {
                    Target::All
                } else if cli.stdin {
                    Target::Stdin
                } else if !cli.paths.is_empty() && !env.framework_commit_hook() {
                    Target::Paths(cli.paths)
                } else {
                    // The framework passes the staged files' names, but at
                    // commit time the answer must be the native hook's: what
                    // the commit adds, with its guidance.
                    let default_hook = if env.merging {
                        Hook::PreMergeCommit
                    } else {
                        Hook::PreCommit
                    };
                    Target::Staged {
                        hook: cli.hook.unwrap_or(default_hook),
                    }
                };
                // Standard input is most often a prompt or a buffer: small,
                // like a staged change (a large one switches, see
                // `Scanner::scan_text`).
                let profile = match target {
                    Target::Staged { .. } | Target::Stdin => Profile::Hook,
                    _ => Profile::Bulk,
                };
                Command::Scan(Scan {
                    target,
                    profile,
                    pre_commit_push: pre_commit_push(env),
                })
            }
        };
        Settings {
            command,
            format: global.format,
            config: global.config,
            baseline: global.baseline,
            verbosity,
            color: Colors {
                stdout: use_color(choice, env.stdout_is_terminal, env),
                stderr: use_color(choice, env.stderr_is_terminal, env),
            },
            progress: verbosity != Verbosity::Quiet && env.stderr_is_terminal && !env.dumb_terminal,
            timings: global.timings || env.timing,
            hook_protocol: cli.hook_protocol,
            pre_commit_framework: env.pre_commit_framework,
            fingerprint_key: env.fingerprint_key.clone(),
            agent_homes: env.agent_homes.clone(),
            wrap_width: Colors {
                stdout: env.terminal_width.filter(|_| env.stdout_is_terminal),
                stderr: env.terminal_width.filter(|_| env.stderr_is_terminal),
            },
        }
    }

    pub fn is_quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// Says `message` on stderr, coloured as stderr is. A message that
    /// cannot be written (stderr closed) is dropped: the outcome stands.
    pub fn say(&self, message: &Message) {
        let _ = messages::write(message, &mut std::io::stderr().lock(), self.color.stderr);
    }

    /// Where a scan's report goes: JSON and SARIF to stdout; the human
    /// report to stderr for a hook (git shows hook stderr), else stdout.
    pub fn report_stream(&self, target: &Target) -> Stream {
        match (self.format, target.blocks()) {
            (Format::Human, Some(_)) => Stream::Stderr,
            _ => Stream::Stdout,
        }
    }
}

/// `--color` for one stream. The environment only tunes `auto`: `NO_COLOR`
/// turns it off, then `CLICOLOR_FORCE` on; else colour on a terminal that
/// is not `TERM=dumb`. (anstream's `AutoStream::choice` would also turn it
/// off when `TERM` is unset, which a terminal under `env -i` is: the
/// SPEC's `auto` is "the stream is a terminal".)
fn use_color(choice: clap::ColorChoice, is_terminal: bool, env: &Environment) -> bool {
    match choice {
        clap::ColorChoice::Always => true,
        clap::ColorChoice::Never => false,
        clap::ColorChoice::Auto if env.no_color => false,
        clap::ColorChoice::Auto if env.clicolor_force => true,
        clap::ColorChoice::Auto => is_terminal && !env.dumb_terminal,
    }
}

/// The width of the terminal on stderr or stdout (TIOCGWINSZ), if either is one.
#[cfg(unix)]
fn terminal_columns() -> Option<usize> {
    [libc::STDERR_FILENO, libc::STDOUT_FILENO]
        .into_iter()
        .find_map(|fd| {
            // SAFETY: TIOCGWINSZ only writes a winsize into the struct given.
            let mut size: libc::winsize = unsafe { std::mem::zeroed() };
            let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
            (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
        })
}

#[cfg(not(unix))]
fn terminal_columns() -> Option<usize> {
    None
}

/// The pre-commit framework's pushed ref, when it runs a pre-push stage:
/// it sets `PRE_COMMIT_TO_REF` when it found a range, and always (with the
/// remote's name) `PRE_COMMIT_LOCAL_BRANCH`.
fn pre_commit_push(env: &Environment) -> Option<PreCommitPush> {
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let to = non_empty(&env.pre_commit_to_ref);
    let local_branch = non_empty(&env.pre_commit_local_branch)
        .filter(|_| non_empty(&env.pre_commit_remote_name).is_some());
    if to.is_none() && local_branch.is_none() {
        return None;
    }
    Some(PreCommitPush {
        from: non_empty(&env.pre_commit_from_ref),
        to,
        local_branch,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn resolve(args: &[&str], env: &Environment) -> Settings {
        let cli = Cli::try_parse_from(std::iter::once("keyguard").chain(args.iter().copied()))
            .expect("valid command line");
        Settings::resolve_in(cli, env)
    }

    fn terminal() -> Environment {
        Environment {
            stdout_is_terminal: true,
            stderr_is_terminal: true,
            ..Environment::default()
        }
    }

    #[test]
    fn auto_colours_terminals_only() {
        let settings = resolve(&[], &terminal());
        assert_eq!(
            settings.color,
            Colors {
                stdout: true,
                stderr: true
            }
        );
        let piped = Environment {
            stderr_is_terminal: true,
            ..Environment::default()
        };
        let settings = resolve(&[], &piped);
        assert!(!settings.color.stdout && settings.color.stderr);
    }

    #[test]
    fn the_environment_tunes_auto_only() {
        let no_color = Environment {
            no_color: true,
            clicolor_force: true,
            ..terminal()
        };
        assert!(!resolve(&[], &no_color).color.stdout, "NO_COLOR wins");
        assert!(resolve(&["--color", "always"], &no_color).color.stdout);
        let forced = Environment {
            clicolor_force: true,
            ..Environment::default()
        };
        assert!(resolve(&[], &forced).color.stdout);
        let dumb = Environment {
            dumb_terminal: true,
            ..terminal()
        };
        assert!(!resolve(&[], &dumb).color.stderr);
        assert!(!resolve(&[], &dumb).progress);
    }

    #[test]
    fn no_color_flag_beats_everything() {
        let forced = Environment {
            clicolor_force: true,
            ..terminal()
        };
        for args in [
            &["--no-color"][..],
            &["--no-color", "--color", "always"][..],
        ] {
            let settings = resolve(args, &forced);
            assert!(!settings.color.stdout && !settings.color.stderr, "{args:?}");
        }
        assert!(!resolve(&["--color", "never"], &forced).color.stdout);
    }

    #[test]
    fn targets_and_the_hooks_they_block() {
        let env = Environment::default();
        let scan = |args: &[&str]| match resolve(args, &env).command {
            Command::Scan(scan) => scan,
            other => panic!("{other:?}"),
        };
        let staged = scan(&[]);
        assert_eq!(
            staged.target,
            Target::Staged {
                hook: Hook::PreCommit
            }
        );
        assert_eq!(staged.profile, Profile::Hook);
        assert_eq!(
            scan(&["--hook", "pre-merge-commit"]).target.blocks(),
            Some(Hook::PreMergeCommit)
        );
        let push = scan(&["--pre-push", "origin", "url"]);
        assert_eq!(push.target.blocks(), Some(Hook::PrePush));
        assert_eq!(push.profile, Profile::Bulk);
        assert_eq!(scan(&["--history"]).target, Target::History(None));
        assert_eq!(scan(&["--all"]).target.blocks(), None);
        assert!(Cli::try_parse_from(["keyguard", "--hook", "pre-push"]).is_err());
    }

    #[test]
    fn the_human_report_of_a_hook_goes_to_stderr() {
        let env = Environment::default();
        let settings = resolve(&[], &env);
        let Command::Scan(scan) = &settings.command else {
            unreachable!()
        };
        assert_eq!(settings.report_stream(&scan.target), Stream::Stderr);
        let settings = resolve(&["--format", "json"], &env);
        assert_eq!(settings.report_stream(&scan.target), Stream::Stdout);
        assert_eq!(
            settings.report_stream(&Target::All),
            Stream::Stdout,
            "a manual scan reports on stdout"
        );
    }

    #[test]
    fn pre_commit_framework_push_needs_a_to_ref_or_a_local_branch() {
        let mut env = Environment {
            pre_commit_from_ref: Some("abc".into()),
            ..Environment::default()
        };
        assert_eq!(pre_commit_push(&env), None);
        env.pre_commit_to_ref = Some("def".into());
        assert_eq!(
            pre_commit_push(&env),
            Some(PreCommitPush {
                from: Some("abc".into()),
                to: Some("def".into()),
                local_branch: None,
            })
        );
        // A push holding a root commit: no range, only the refs.
        let env = Environment {
            pre_commit_local_branch: Some("refs/heads/main".into()),
            pre_commit_remote_name: Some("origin".into()),
            ..Environment::default()
        };
        assert_eq!(
            pre_commit_push(&env),
            Some(PreCommitPush {
                from: None,
                to: None,
                local_branch: Some("refs/heads/main".into()),
            })
        );
        // The framework sets the local branch only with the remote's name.
        let env = Environment {
            pre_commit_local_branch: Some("refs/heads/main".into()),
            ..Environment::default()
        };
        assert_eq!(pre_commit_push(&env), None);
    }

    #[test]
    fn under_the_framework_at_commit_time_files_mean_the_staged_scan() {
        let scan = |args: &[&str], env: &Environment| match resolve(args, env).command {
            Command::Scan(scan) => scan.target,
            other => panic!("{other:?}"),
        };
        let by_hand = Environment::default();
        assert_eq!(
            scan(&["a.py"], &by_hand),
            Target::Paths(vec!["a.py".into()]),
            "`pre-commit run --files` and a plain path scan read the files whole"
        );
        let framework_by_hand = Environment {
            pre_commit_framework: true,
            ..Environment::default()
        };
        assert_eq!(
            scan(&["a.py"], &framework_by_hand),
            Target::Paths(vec!["a.py".into()]),
            "`pre-commit run` outside a commit: no GIT_INDEX_FILE"
        );
        let committing = Environment {
            git_index_file: true,
            ..framework_by_hand
        };
        assert_eq!(
            scan(&["a.py", "b.py"], &committing),
            Target::Staged {
                hook: Hook::PreCommit
            }
        );
        let merging = Environment {
            merging: true,
            ..committing
        };
        assert_eq!(
            scan(&["a.py"], &merging),
            Target::Staged {
                hook: Hook::PreMergeCommit
            }
        );
        assert_eq!(
            scan(&["--all"], &merging),
            Target::All,
            "an explicit target is kept"
        );
    }

    #[test]
    fn timings_by_flag_or_environment() {
        assert!(!resolve(&[], &Environment::default()).timings);
        assert!(resolve(&["--timings"], &Environment::default()).timings);
        let env = Environment {
            timing: true,
            ..Environment::default()
        };
        assert!(resolve(&[], &env).timings);
    }
}
