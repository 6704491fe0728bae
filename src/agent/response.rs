//! The answer in each agent's documented form (see the `agent` module
//! docs for the pages): an exit code, what goes to stdout and what to
//! stderr. A block is exit 2 everywhere, since every agent reads exit 2 as
//! a block (Copilot CLI reads any non-zero exit so); the JSON some agents
//! also read carries the reason where they show it.

use serde_json::json;

use super::Agent;

/// What keyguard decided about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Blocked, with the reason the agent shows (already redacted).
    Block(String),
}

/// What the process writes and how it exits.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub exit_code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// The exit code every agent reads as "block".
pub const BLOCK_EXIT_CODE: u8 = 2;

/// `agent`'s answer to `event` (its `hook_event_name`, or `None` when the
/// event could not be read).
pub fn answer(agent: Agent, event: Option<&str>, verdict: &Verdict) -> Answer {
    let is_prompt = event.is_some_and(|name| name.eq_ignore_ascii_case("beforeSubmitPrompt"));
    match verdict {
        Verdict::Allow => Answer {
            exit_code: 0,
            stdout: match agent {
                // Gemini CLI parses stdout as JSON on exit 0; Cursor
                // expects JSON from every hook.
                Agent::Gemini => "{}\n".into(),
                Agent::Cursor if is_prompt => "{\"continue\":true}\n".into(),
                Agent::Cursor => "{}\n".into(),
                Agent::Claude | Agent::Codex | Agent::Copilot => String::new(),
            },
            stderr: String::new(),
        },
        Verdict::Block(reason) => {
            // Codex lets exit 2 through when stderr is empty.
            let reason = if reason.trim().is_empty() {
                "keyguard blocked this action".to_string()
            } else {
                reason.trim_end().to_string()
            };
            let stdout = match agent {
                Agent::Copilot => json!({
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                })
                .to_string(),
                Agent::Cursor if is_prompt => json!({
                    "continue": false,
                    "user_message": reason,
                })
                .to_string(),
                Agent::Cursor => json!({
                    "permission": "deny",
                    "user_message": reason,
                    "agent_message": reason,
                })
                .to_string(),
                // Claude Code and Codex read no JSON on exit 2; Gemini CLI
                // takes stderr as the reason.
                Agent::Claude | Agent::Codex | Agent::Gemini => String::new(),
            };
            Answer {
                exit_code: BLOCK_EXIT_CODE,
                stdout: if stdout.is_empty() {
                    stdout
                } else {
                    stdout + "\n"
                },
                stderr: reason + "\n",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_is_exit_2_with_a_non_empty_reason() {
        for agent in Agent::ALL {
            for event in [None, Some("PreToolUse"), Some("beforeSubmitPrompt")] {
                let answer = answer(agent, event, &Verdict::Block(String::new()));
                assert_eq!(answer.exit_code, 2, "{agent:?}");
                assert!(!answer.stderr.trim().is_empty(), "{agent:?}");
            }
        }
    }

    #[test]
    fn json_answers_are_the_documented_ones() {
        let deny = answer(Agent::Copilot, None, &Verdict::Block("no".into()));
        let value: serde_json::Value = serde_json::from_str(&deny.stdout).unwrap();
        assert_eq!(value["permissionDecision"], "deny");
        assert_eq!(value["permissionDecisionReason"], "no");
        let prompt = answer(
            Agent::Cursor,
            Some("beforeSubmitPrompt"),
            &Verdict::Block("no".into()),
        );
        let value: serde_json::Value = serde_json::from_str(&prompt.stdout).unwrap();
        assert_eq!(value["continue"], false);
        let allow = answer(Agent::Gemini, Some("BeforeTool"), &Verdict::Allow);
        assert_eq!((allow.exit_code, allow.stdout.as_str()), (0, "{}\n"));
        assert!(answer(Agent::Claude, None, &Verdict::Allow)
            .stdout
            .is_empty());
    }
}
