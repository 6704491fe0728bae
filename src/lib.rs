//! keyguard: a pre-commit hook that stops API keys from being committed.
//!
//! The modules, in the order data flows through them: the command line
//! resolved once (`cli`, `settings`, `config`) → what to read (`git`, the
//! staged diff, or files on disk: `source`) → added lines (`lines`, `text`,
//! `decode`) → detector (`rules`, `detect`, `policy`) → findings (`scan`,
//! `finding`) →
//! baseline filter (`baseline`) → report (`report`, `messages`) → exit code
//! (`main.rs`). The subcommands that drive it are in `cmd`.

// The command line and what it resolves to.
pub mod cli;
pub mod config;
pub mod settings;
// Reading: the repository and the files on disk.
pub mod git;
pub mod progress;
pub mod repo_file;
pub mod source;
// Text: what a change adds, decoded.
pub mod decode;
pub mod lines;
pub mod text;
// Detecting.
pub mod detect;
pub mod policy;
pub mod rules;
// Findings, and the baseline that accepts some of them.
pub mod baseline;
pub mod finding;
pub mod scan;
// Saying it.
pub mod messages;
pub mod report;
// The commands, and the files they write.
pub mod agent;
pub mod atomic_write;
pub mod cmd;
pub mod init;
pub mod install;

use anyhow::Result;

use crate::settings::{Command, Settings};

/// How a run ended; `main` turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
    /// Part of the scan could not be done (an unreadable file).
    Incomplete,
    /// The agent hook's answer, in the agent's own exit code (0 lets the
    /// action go ahead, 2 blocks it): see `agent::response`.
    AgentAnswer(u8),
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Incomplete => 2,
            Outcome::AgentAnswer(code) => code,
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
            (_, Outcome::AgentAnswer(code)) => code,
        }
    }
}

/// Runs the command `settings` name.
pub fn run(settings: &Settings) -> Result<Outcome> {
    match &settings.command {
        Command::Scan(scan) => cmd::scan::run(settings, scan),
        Command::Install { force, pre_push } => cmd::install::install(settings, *force, *pre_push),
        Command::Uninstall { pre_push } => cmd::install::uninstall(settings, *pre_push),
        Command::InstallAgent { agent, global } => {
            cmd::agent_install::install(settings, *agent, *global)
        }
        Command::UninstallAgent { agent, global } => {
            cmd::agent_install::uninstall(settings, *agent, *global)
        }
        Command::AgentHook { agent, protocol } => {
            Ok(cmd::agent_hook::run(settings, *agent, *protocol))
        }
        Command::Rules => cmd::rules::list(settings),
        Command::RulesCheck(file) => {
            cmd::rules::check_file(file.as_deref(), &mut std::io::stdout().lock())
        }
        Command::Init => cmd::init::run(settings),
        Command::Baseline { prune, history } => {
            cmd::baseline::run(settings, *prune, history.as_ref().map(Option::as_deref))
        }
        Command::Completions(shell) => cmd::completions(*shell),
        Command::Man => cmd::man(),
    }
}

/// Reports a run that failed on stderr: the error chain on one line, with
/// control characters escaped (a file name must not forge a line).
pub fn report_error(settings: &Settings, err: &anyhow::Error) {
    let message = text::escape_message(&format!("{err:#}"));
    settings.say(&messages::Message::Fatal(&message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_keep_the_contract() {
        let all = [Outcome::Clean, Outcome::Findings, Outcome::Incomplete];
        let plain: Vec<u8> = all.iter().map(|o| o.exit_code()).collect();
        assert_eq!(plain, [0, 1, 2]);
        let shim: Vec<u8> = all.iter().map(|o| o.exit_code_for(Some(1))).collect();
        assert_eq!(shim, [10, 11, 12]);
    }
}
