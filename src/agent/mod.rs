//! The agent hook: the same guard as the git hook, run by a coding agent
//! before a tool writes a file, runs a command, calls an MCP tool or sends
//! a prompt. Data flows as in the git hook: the agent's JSON event →
//! what the action would write, run, send or read (`event`, with `shell`
//! and `patch` for commands and patches) → the scanner, config, allow-list
//! and baseline of the repository (`cmd::agent_hook`) → the agent's own
//! answer (`response`). `settings_file` merges the hook into each agent's
//! settings for `keyguard install --agent`.
//!
//! Each agent's contract, as documented (checked December 2026):
//! - Claude Code, <https://code.claude.com/docs/en/hooks>: `PreToolUse`
//!   and `UserPromptSubmit` on stdin; exit 2 blocks, stderr is the reason;
//!   any other non-zero exit lets the action through unless the entry sets
//!   `"onFailure": "block"` (Claude Code 2.1.295 and later).
//! - Gemini CLI, <https://geminicli.com/docs/hooks/reference>: `BeforeTool`
//!   and `BeforeAgent`; exit 2 blocks with stderr as the reason; stdout
//!   holds only JSON; other exit codes are warnings.
//! - Codex CLI, <https://developers.openai.com/codex/hooks> and the
//!   generated schemas in `codex-rs/hooks/schema/generated/`: `PreToolUse`
//!   (`tool_input.command` holds the shell command or the `apply_patch`
//!   body) and `UserPromptSubmit`; exit 2 with non-empty stderr blocks.
//! - GitHub Copilot CLI,
//!   <https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference>:
//!   `preToolUse` with `toolName` and `toolArgs` (an object, or the same as
//!   a JSON string); `{"permissionDecision": "deny"}` on stdout or any
//!   non-zero exit denies; prompts cannot be blocked.
//! - Cursor, <https://cursor.com/docs/hooks>: `preToolUse`,
//!   `beforeShellExecution`, `beforeReadFile` (with the file's content),
//!   `beforeMCPExecution`, `beforeSubmitPrompt`; exit 2 denies; an entry
//!   with `"failClosed": true` also denies when the hook fails.

pub mod event;
pub mod patch;
pub mod response;
pub mod settings_file;
pub mod shell;

/// The coding agents keyguard answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    /// Anthropic's Claude Code.
    Claude,
    /// Google's Gemini CLI.
    Gemini,
    /// OpenAI's Codex CLI.
    Codex,
    /// GitHub Copilot CLI.
    Copilot,
    /// Cursor (the editor's agent).
    Cursor,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::Claude,
        Agent::Gemini,
        Agent::Codex,
        Agent::Copilot,
        Agent::Cursor,
    ];

    /// The name `--agent` takes.
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Gemini => "gemini",
            Agent::Codex => "codex",
            Agent::Copilot => "copilot",
            Agent::Cursor => "cursor",
        }
    }

    /// The product's name, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Gemini => "Gemini CLI",
            Agent::Codex => "Codex CLI",
            Agent::Copilot => "GitHub Copilot CLI",
            Agent::Cursor => "Cursor",
        }
    }
}

/// The most bytes of one event read from standard input. The largest
/// documented payload is a whole file an agent writes or reads; 8 MiB
/// scans in well under a second (benches/agent_hook.rs), inside the
/// shortest hook timeout keyguard installs (30 s). A larger event is
/// refused, and refusing is the agent's block.
pub const MAX_EVENT_BYTES: usize = 8 << 20;
