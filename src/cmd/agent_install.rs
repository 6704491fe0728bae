//! `keyguard install --agent NAME [--global]` / `uninstall --agent NAME`:
//! keyguard's hook in a coding agent's settings file (the merging is
//! `agent::settings_file`; this picks the file, the command line and says
//! what each agent cannot guarantee).
//!
//! The binary: a project's file is committed and shared, so its hook finds
//! `keyguard` on PATH, and says so and blocks (exit 2) when it is missing;
//! the user's own file names this binary by its absolute path.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

use super::Context;
use crate::agent::settings_file::{self, EntryOptions, Scope, CLAUDE_ON_FAILURE_VERSION};
use crate::agent::Agent;
use crate::messages::Message;
use crate::settings::Settings;
use crate::Outcome;

pub fn install(settings: &Settings, agent: Agent, global: bool) -> Result<Outcome> {
    let path = settings_path(settings, agent, global)?;
    let binary = if global {
        Some(std::env::current_exe().context("cannot tell where the keyguard binary is")?)
    } else {
        None
    };
    // A project's file is shared: its message names the file as the team
    // sees it, from the project root.
    let project = project_root()?;
    let shown = path.strip_prefix(&project).unwrap_or(&path);
    let command = settings_file::command_line(agent, binary.as_deref(), shown);
    let options = EntryOptions {
        claude_on_failure_block: agent == Agent::Claude && claude_reads_on_failure(),
    };
    let (document, changed) =
        settings_file::add(settings_file::load(&path)?, agent, &command, options)
            .with_context(|| format!("{} left unchanged", path.display()))?;
    if changed {
        write(&path, &settings_file::render(&document)?)?;
    }
    settings.say(&Message::AgentInstalled {
        agent,
        path: &path,
        changed,
    });
    for note in notes(agent, options) {
        settings.say(&Message::AgentNote(note));
    }
    Ok(Outcome::Clean)
}

pub fn uninstall(settings: &Settings, agent: Agent, global: bool) -> Result<Outcome> {
    let path = settings_path(settings, agent, global)?;
    let changed = match settings_file::load(&path)? {
        Some(mut document) => {
            let changed = settings_file::remove(&mut document, agent);
            if changed && settings_file::is_left_empty(&document) {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            } else if changed {
                write(&path, &settings_file::render(&document)?)?;
            }
            changed
        }
        None => false,
    };
    settings.say(&Message::AgentUninstalled {
        agent,
        path: &path,
        changed,
    });
    Ok(Outcome::Clean)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    // The folder of a symlinked file exists; only a new file's may not.
    if std::fs::symlink_metadata(path).is_err() {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
    }
    crate::atomic_write::write_atomic(path, bytes)
}

/// The agent's project file (at the repository root, else here), or the
/// user's with `--global`.
fn settings_path(settings: &Settings, agent: Agent, global: bool) -> Result<PathBuf> {
    let homes = &settings.agent_homes;
    if global {
        let own_home = match agent {
            Agent::Codex => homes.codex_home.clone(),
            Agent::Copilot => homes.copilot_home.clone(),
            _ => None,
        };
        let folder = match own_home {
            Some(folder) => folder,
            None => homes
                .home
                .as_ref()
                .context("HOME is not set: cannot find the user's settings")?
                .join(settings_file::user_folder(agent)),
        };
        return Ok(settings_file::location(agent, Scope::User(&folder)));
    }
    Ok(settings_file::location(
        agent,
        Scope::Project(&project_root()?),
    ))
}

/// The repository's root, else the current folder.
fn project_root() -> Result<PathBuf> {
    match Context::open_if_any().and_then(|c| c.root().map(Path::to_path_buf)) {
        Some(root) => Ok(root),
        None => std::env::current_dir().context("cannot tell the current folder"),
    }
}

/// Whether the `claude` on PATH is 2.1.295 or later, which reads
/// `"onFailure": "block"`. An older one may reject a key it does not know,
/// so the key is written only when the version is known.
fn claude_reads_on_failure() -> bool {
    let Ok(output) = Command::new("claude").arg("--version").output() else {
        return false;
    };
    settings_file::parse_version(&String::from_utf8_lossy(&output.stdout))
        .is_some_and(|version| version >= CLAUDE_ON_FAILURE_VERSION)
}

/// What the agent cannot guarantee, said at install time (README has it
/// all).
fn notes(agent: Agent, options: EntryOptions) -> Vec<&'static str> {
    match agent {
        Agent::Claude if options.claude_on_failure_block => {
            vec!["the hook has \"onFailure\": \"block\": if keyguard cannot run, Claude Code blocks the action"]
        }
        Agent::Claude => vec![
            "Claude Code before 2.1.295 lets an action through when a hook times out (the entry \
             turns keyguard's other failures into blocks); with 2.1.295 or later on PATH, run \
             this again to add \"onFailure\": \"block\"",
        ],
        Agent::Gemini => vec![
            "Gemini CLI lets an action through when a hook times out (30 s); the entry turns \
             any other failure of keyguard into a block",
        ],
        Agent::Codex => vec![
            "Codex runs a new or changed hook only after you trust it: open Codex, run /hooks \
             and trust keyguard's entry, or it is skipped without a word",
            "Codex lets an action through when a hook times out (30 s); the entry turns any \
             other failure of keyguard into a block",
        ],
        Agent::Copilot => vec![
            "Copilot CLI cannot block a prompt: only tool calls are checked",
            "Copilot CLI lets a tool call through when its hook times out (30 s)",
        ],
        Agent::Cursor => vec![
            "each entry has \"failClosed\": true: if keyguard cannot run, Cursor blocks the action",
        ],
    }
}
