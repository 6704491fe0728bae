//! `keyguard agent-hook`: each agent's documented events, blocked and
//! allowed, in each agent's answer; edits judged by what they add; reads
//! of secrets files; config, allow markers and the baseline of the git
//! hook; malformed, unknown and oversized events; and `--stdin`.
//!
//! The payloads follow the agents' published schemas, field for field:
//! Claude Code's `PreToolUseHookInput`/`UserPromptSubmitHookInput` and tool
//! inputs (`@anthropic-ai/claude-agent-sdk`, sdk.d.ts and sdk-tools.d.ts),
//! Gemini CLI's `BeforeToolInput`/`BeforeAgentInput` and tool params
//! (`@google/gemini-cli-core`, dist/src/hooks/types.d.ts, tools/*.d.ts),
//! Codex's `pre-tool-use.command.input` and `user-prompt-submit.command.input`
//! (codex-rs/hooks/schema/generated), Copilot CLI's camelCase `preToolUse`
//! (docs.github.com, CLI hooks reference) and Cursor's hooks page
//! (cursor.com/docs/hooks). tests/ecosystem/agent_schemas.sh checks the
//! same payloads against the npm packages' type definitions.

use std::io::Write as _;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::util::{isolated_command, keyguard_bin, Keys, Run, TempRepo};

/// Runs `keyguard agent-hook --agent AGENT` in `repo` with `payload` on stdin.
fn hook(repo: &TempRepo, agent: &str, payload: &[u8]) -> Run {
    let mut cmd = isolated_command(keyguard_bin(), &repo.home);
    cmd.args(["agent-hook", "--agent", agent])
        .current_dir(&repo.root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn keyguard");
    // An oversized event is refused before it is read whole: the pipe may
    // close early.
    let _ = child.stdin.take().unwrap().write_all(payload);
    let output = child.wait_with_output().expect("wait for keyguard");
    Run::from_output(format!("keyguard agent-hook --agent {agent}"), output)
}

fn send(repo: &TempRepo, agent: &str, payload: &Value) -> Run {
    hook(repo, agent, payload.to_string().as_bytes())
}

fn root(repo: &TempRepo) -> String {
    repo.root.display().to_string()
}

fn abs(repo: &TempRepo, rel: &str) -> String {
    repo.path(rel).display().to_string()
}

// ---- the documented payloads -------------------------------------------

fn claude_tool(repo: &TempRepo, tool: &str, input: Value) -> Value {
    json!({
        "session_id": "3f1c9c1e-7f4c-4a52-9d0a-2b7c1e0f9a11",
        "transcript_path": format!("{}/.claude/projects/p/s.jsonl", repo.home.display()),
        "cwd": root(repo),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": input,
        "tool_use_id": "toolu_01ABC123",
    })
}

fn claude_prompt(repo: &TempRepo, prompt: &str) -> Value {
    json!({
        "session_id": "3f1c9c1e-7f4c-4a52-9d0a-2b7c1e0f9a11",
        "transcript_path": format!("{}/.claude/projects/p/s.jsonl", repo.home.display()),
        "cwd": root(repo),
        "permission_mode": "default",
        "hook_event_name": "UserPromptSubmit",
        "prompt": prompt,
    })
}

fn gemini_tool(repo: &TempRepo, tool: &str, input: Value) -> Value {
    json!({
        "session_id": "a1b2c3",
        "transcript_path": format!("{}/.gemini/tmp/chats/session.json", repo.home.display()),
        "cwd": root(repo),
        "hook_event_name": "BeforeTool",
        "timestamp": "2026-12-01T22:00:00.000Z",
        "tool_name": tool,
        "tool_input": input,
    })
}

fn gemini_prompt(repo: &TempRepo, prompt: &str) -> Value {
    json!({
        "session_id": "a1b2c3",
        "transcript_path": format!("{}/.gemini/tmp/chats/session.json", repo.home.display()),
        "cwd": root(repo),
        "hook_event_name": "BeforeAgent",
        "timestamp": "2026-12-01T22:00:00.000Z",
        "prompt": prompt,
    })
}

fn codex_tool(repo: &TempRepo, tool: &str, command: &str) -> Value {
    json!({
        "session_id": "019a5b2e-7c1d-7e20-9f3a-4b5c6d7e8f90",
        "transcript_path": null,
        "cwd": root(repo),
        "hook_event_name": "PreToolUse",
        "model": "gpt-5-codex",
        "permission_mode": "default",
        "tool_name": tool,
        "tool_input": {"command": command},
        "tool_use_id": "call_9f8e7d",
    })
}

fn codex_prompt(repo: &TempRepo, prompt: &str) -> Value {
    json!({
        "session_id": "019a5b2e-7c1d-7e20-9f3a-4b5c6d7e8f90",
        "transcript_path": null,
        "cwd": root(repo),
        "hook_event_name": "UserPromptSubmit",
        "model": "gpt-5-codex",
        "permission_mode": "default",
        "prompt": prompt,
        "turn_id": "turn-1",
    })
}

/// Copilot CLI's camelCase `preToolUse`: `toolArgs` as a JSON string.
fn copilot_tool(repo: &TempRepo, tool: &str, args: Value) -> Value {
    json!({
        "timestamp": 1_764_626_400_000u64,
        "cwd": root(repo),
        "toolName": tool,
        "toolArgs": args.to_string(),
    })
}

fn cursor_event(repo: &TempRepo, event: &str, fields: Value) -> Value {
    let mut payload = json!({
        "conversation_id": "c0ffee00-1111-2222-3333-444455556666",
        "generation_id": "9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9",
        "model": "claude-4.5-sonnet",
        "hook_event_name": event,
        "cursor_version": "2.1.0",
        "workspace_roots": [root(repo)],
        "user_email": null,
    });
    for (key, value) in fields.as_object().unwrap() {
        payload[key] = value.clone();
    }
    payload
}

// ---- each agent blocks and allows, in its own answer ---------------------

#[test]
fn claude_write_with_a_key_is_blocked_with_exit_2_and_the_reason_on_stderr() {
    let repo = TempRepo::new();
    let key = Keys::for_test("claude_write").github();
    let run = send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "Write",
            json!({"file_path": abs(&repo, "app/config.py"), "content": format!("import os\nTOKEN = \"{key}\"\n")}),
        ),
    );
    run.assert_code(2).assert_no_leak(&key);
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert!(
        run.stderr.contains("app/config.py:2  github-token"),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.contains("os.environ[\"GITHUB_TOKEN\"]") || run.stderr.contains("instead:"),
        "{}",
        run.dump()
    );
    let clean = send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "Write",
            json!({"file_path": abs(&repo, "app/config.py"), "content": "import os\nTOKEN = os.environ[\"GITHUB_TOKEN\"]\n"}),
        ),
    );
    clean.assert_code(0);
    assert!(
        clean.stdout.is_empty() && clean.stderr.is_empty(),
        "{}",
        clean.dump()
    );
}

#[test]
fn claude_bash_prompt_notebook_and_mcp_arguments_are_scanned() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("claude_bash");
    let key = keys.openai();
    let curl = format!("curl https://api.openai.com/v1/models -H \"Authorization: Bearer {key}\"");
    send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "Bash",
            json!({"command": curl, "description": "List models"}),
        ),
    )
    .assert_code(2)
    .assert_no_leak(&key)
    .assert_stderr_contains("(command):1  openai");
    let heredoc = format!("cat > deploy.sh <<'EOF'\nexport OPENAI_API_KEY={key}\nEOF\n");
    send(
        &repo,
        "claude",
        &claude_tool(&repo, "Bash", json!({"command": heredoc})),
    )
    .assert_code(2);
    send(
        &repo,
        "claude",
        &claude_prompt(&repo, &format!("use this key: {key}")),
    )
    .assert_code(2)
    .assert_stderr_contains("this prompt");
    send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "NotebookEdit",
            json!({"notebook_path": abs(&repo, "n.ipynb"), "cell_id": "c1", "new_source": format!("client = OpenAI(api_key=\"{key}\")"), "cell_type": "code", "edit_mode": "replace"}),
        ),
    )
    .assert_code(2);
    // A tool keyguard does not know: its string arguments are scanned.
    let slack = keys.slack_bot();
    send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "mcp__slack__post_message",
            json!({"channel": "#ops", "auth": {"token": slack}}),
        ),
    )
    .assert_code(2)
    .assert_no_leak(&slack)
    .assert_stderr_contains("mcp__slack__post_message");
    send(
        &repo,
        "claude",
        &claude_tool(&repo, "Bash", json!({"command": "ls -la"})),
    )
    .assert_code(0);
}

#[test]
fn gemini_blocks_with_exit_2_and_prints_only_json_when_it_allows() {
    let repo = TempRepo::new();
    let key = Keys::for_test("gemini").anthropic();
    let run = send(
        &repo,
        "gemini",
        &gemini_tool(
            &repo,
            "write_file",
            json!({"file_path": abs(&repo, "main.ts"), "content": format!("const key = \"{key}\";\n")}),
        ),
    );
    run.assert_code(2).assert_no_leak(&key);
    assert!(
        run.stdout.is_empty(),
        "stdout holds only JSON: {}",
        run.dump()
    );
    send(
        &repo,
        "gemini",
        &gemini_tool(
            &repo,
            "run_shell_command",
            json!({"command": format!("export ANTHROPIC_API_KEY={key}"), "dir_path": "."}),
        ),
    )
    .assert_code(2);
    send(
        &repo,
        "gemini",
        &gemini_prompt(&repo, &format!("my key is {key}")),
    )
    .assert_code(2);
    let allowed = send(
        &repo,
        "gemini",
        &gemini_tool(
            &repo,
            "replace",
            json!({"file_path": abs(&repo, "main.ts"), "old_string": "a", "new_string": "b"}),
        ),
    );
    allowed.assert_code(0);
    assert_eq!(allowed.stdout, "{}\n", "{}", allowed.dump());
}

#[test]
fn codex_apply_patch_is_judged_by_its_added_lines_and_prompts_are_blocked() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("codex");
    let key = keys.stripe();
    let patch = format!(
        "*** Begin Patch\n*** Add File: billing/keys.py\n+STRIPE_KEY = \"{key}\"\n*** End Patch\n"
    );
    let run = send(&repo, "codex", &codex_tool(&repo, "apply_patch", &patch));
    run.assert_code(2).assert_no_leak(&key);
    assert!(
        !run.stderr.trim().is_empty(),
        "Codex lets exit 2 through on empty stderr"
    );
    assert!(run.stderr.contains("billing/keys.py:1"), "{}", run.dump());
    // A patch that removes a key adds nothing to block.
    let removal = format!(
        "*** Begin Patch\n*** Update File: billing/keys.py\n@@\n-STRIPE_KEY = \"{key}\"\n+STRIPE_KEY = os.environ[\"STRIPE_KEY\"]\n*** End Patch\n"
    );
    send(&repo, "codex", &codex_tool(&repo, "apply_patch", &removal)).assert_code(0);
    send(
        &repo,
        "codex",
        &codex_tool(&repo, "Bash", &format!("printf '%s' {key} > k.txt")),
    )
    .assert_code(2);
    send(
        &repo,
        "codex",
        &codex_prompt(&repo, &format!("deploy with {key}")),
    )
    .assert_code(2);
    send(&repo, "codex", &codex_prompt(&repo, "run the tests")).assert_code(0);
}

#[test]
fn copilot_denies_in_json_and_with_exit_2_and_reads_string_tool_args() {
    let repo = TempRepo::new();
    let key = Keys::for_test("copilot").aws_access_key_id();
    let secret = Keys::for_test("copilot-secret").expand("{{b64:40}}");
    let content = format!("aws_access_key_id = {key}\naws_secret_access_key = {secret}\n");
    let run = send(
        &repo,
        "copilot",
        &copilot_tool(
            &repo,
            "create",
            json!({"path": abs(&repo, "creds.ini"), "file_text": content}),
        ),
    );
    run.assert_code(2).assert_no_leak(&key);
    let answer: Value = serde_json::from_str(run.stdout.trim()).expect("JSON on stdout");
    assert_eq!(answer["permissionDecision"], "deny", "{}", run.dump());
    let reason = answer["permissionDecisionReason"].as_str().unwrap();
    assert!(
        reason.contains("creds.ini") && !reason.contains(&key),
        "{reason}"
    );
    let allowed = send(
        &repo,
        "copilot",
        &copilot_tool(
            &repo,
            "bash",
            json!({"command": "cargo test", "description": "tests"}),
        ),
    );
    allowed.assert_code(0);
    assert!(allowed.stdout.is_empty(), "{}", allowed.dump());
}

#[test]
fn cursor_answers_each_event_in_its_form() {
    let repo = TempRepo::new();
    let key = Keys::for_test("cursor").github();
    let shell = send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "beforeShellExecution",
            json!({"command": format!("gh auth login --with-token <<< {key}"), "cwd": root(&repo)}),
        ),
    );
    shell.assert_code(2).assert_no_leak(&key);
    let answer: Value = serde_json::from_str(shell.stdout.trim()).unwrap();
    assert_eq!(answer["permission"], "deny", "{}", shell.dump());
    let prompt = send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "beforeSubmitPrompt",
            json!({"prompt": format!("token {key}"), "attachments": []}),
        ),
    );
    prompt.assert_code(2);
    let answer: Value = serde_json::from_str(prompt.stdout.trim()).unwrap();
    assert_eq!(answer["continue"], false, "{}", prompt.dump());
    let write = send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "preToolUse",
            json!({"tool_name": "Write", "tool_input": {"file_path": abs(&repo, "a.go"), "contents": format!("var t = \"{key}\"\n")}, "tool_use_id": "t1", "cwd": root(&repo)}),
        ),
    );
    write.assert_code(2);
    // beforeReadFile passes the content: a key in it stays out of the model.
    repo.write("notes.md", format!("token {key}\n"));
    send(&repo, "cursor", &cursor_event(&repo, "beforeReadFile", json!({"file_path": abs(&repo, "notes.md"), "content": format!("token {key}\n"), "attachments": []})))
        .assert_code(2);
    let mcp = send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "beforeMCPExecution",
            json!({"tool_name": "github_create_issue", "tool_input": json!({"title": "x", "token": key}).to_string(), "command": "npx server"}),
        ),
    );
    mcp.assert_code(2);
    let allowed = send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "beforeSubmitPrompt",
            json!({"prompt": "fix the bug", "attachments": []}),
        ),
    );
    allowed.assert_code(0);
    assert_eq!(allowed.stdout.trim(), "{\"continue\":true}");
    let allowed = send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "beforeShellExecution",
            json!({"command": "ls", "cwd": root(&repo)}),
        ),
    );
    assert_eq!((allowed.code, allowed.stdout.trim()), (0, "{}"));
}

/// Copilot CLI also runs a repository's `.claude/settings.json` hooks, with
/// Claude-shaped payloads naming its own tools: the Claude hook reads them.
#[test]
fn copilot_tools_in_claude_shaped_payloads_are_read_by_the_claude_hook() {
    let repo = TempRepo::new();
    let key = Keys::for_test("copilot-claude").github();
    let create = claude_tool(
        &repo,
        "create",
        json!({"path": abs(&repo, "a.rb"), "file_text": format!("T = '{key}'\n")}),
    );
    send(&repo, "claude", &create)
        .assert_code(2)
        .assert_no_leak(&key);
    let edit = claude_tool(
        &repo,
        "str_replace_editor",
        json!({"command": "create", "path": abs(&repo, "b.rb"), "file_text": format!("T = '{key}'\n")}),
    );
    send(&repo, "claude", &edit).assert_code(2);
    let view = claude_tool(&repo, "view", json!({"path": abs(&repo, ".env")}));
    send(&repo, "claude", &view).assert_code(2);
}

// ---- what an edit adds ---------------------------------------------------

#[test]
fn an_edit_reports_only_what_it_adds_and_catches_an_in_place_rotation() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("rotation");
    let (old_key, new_key) = (keys.github(), keys.github());
    repo.write(
        "app.py",
        format!("import os\nTOKEN = \"{old_key}\"\nDEBUG = False\n"),
    );
    // Editing another line leaves the existing key alone: not this edit's.
    let unrelated = claude_tool(
        &repo,
        "Edit",
        json!({"file_path": abs(&repo, "app.py"), "old_string": "DEBUG = False", "new_string": "DEBUG = True", "replace_all": false}),
    );
    send(&repo, "claude", &unrelated).assert_code(0);
    // Replacing the key by another one is adding a key.
    let rotation = claude_tool(
        &repo,
        "Edit",
        json!({"file_path": abs(&repo, "app.py"), "old_string": old_key, "new_string": new_key}),
    );
    let run = send(&repo, "claude", &rotation);
    run.assert_code(2)
        .assert_no_leak(&new_key)
        .assert_no_leak(&old_key);
    assert!(
        run.stderr.contains("app.py:2"),
        "line in the edited file: {}",
        run.dump()
    );
    // MultiEdit (legacy) applies its edits in order.
    let multi = claude_tool(
        &repo,
        "MultiEdit",
        json!({"file_path": abs(&repo, "app.py"), "edits": [
            {"old_string": "DEBUG = False", "new_string": "DEBUG = True"},
            {"old_string": old_key, "new_string": new_key, "replace_all": true}
        ]}),
    );
    send(&repo, "claude", &multi).assert_code(2);
    // Taking the key out is what the agent should do.
    let removal = claude_tool(
        &repo,
        "Edit",
        json!({"file_path": abs(&repo, "app.py"), "old_string": format!("TOKEN = \"{old_key}\""), "new_string": "TOKEN = os.environ[\"GITHUB_TOKEN\"]"}),
    );
    send(&repo, "claude", &removal).assert_code(0);
}

// ---- secrets files: reading, and writing where keys belong ---------------

#[test]
fn reading_a_secrets_file_is_blocked_by_every_route_unless_config_allows_it() {
    let repo = TempRepo::new();
    repo.write(".env", "A=1\n");
    repo.write(".gitignore", ".env\n");
    let read = claude_tool(&repo, "Read", json!({"file_path": abs(&repo, ".env")}));
    send(&repo, "claude", &read)
        .assert_code(2)
        .assert_stderr_contains("read a secrets file");
    send(
        &repo,
        "claude",
        &claude_tool(&repo, "Bash", json!({"command": "cat .env | grep KEY"})),
    )
    .assert_code(2);
    send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "Grep",
            json!({"pattern": "KEY", "path": abs(&repo, ".env")}),
        ),
    )
    .assert_code(2);
    send(
        &repo,
        "claude",
        &claude_tool(&repo, "Grep", json!({"pattern": "KEY", "glob": ".env*"})),
    )
    .assert_code(2);
    send(
        &repo,
        "gemini",
        &gemini_tool(&repo, "read_file", json!({"file_path": ".env"})),
    )
    .assert_code(2);
    send(
        &repo,
        "copilot",
        &copilot_tool(&repo, "view", json!({"path": abs(&repo, ".env")})),
    )
    .assert_code(2);
    send(
        &repo,
        "cursor",
        &cursor_event(
            &repo,
            "beforeReadFile",
            json!({"file_path": abs(&repo, ".env"), "content": "A=1\n", "attachments": []}),
        ),
    )
    .assert_code(2);
    // Templates are not secrets files; neither is a command that does not print.
    send(
        &repo,
        "claude",
        &claude_tool(
            &repo,
            "Read",
            json!({"file_path": abs(&repo, ".env.example")}),
        ),
    )
    .assert_code(0);
    send(
        &repo,
        "claude",
        &claude_tool(&repo, "Bash", json!({"command": "source .env && npm test"})),
    )
    .assert_code(0);
    repo.write(".keyguard.toml", "[agent]\nallow_read = [\".env\"]\n");
    send(&repo, "claude", &read).assert_code(0);
}

#[test]
fn a_key_may_go_into_an_ignored_env_file_but_not_an_unignored_one() {
    let repo = TempRepo::new();
    let key = Keys::for_test("dotenv").openai();
    let write = claude_tool(
        &repo,
        "Write",
        json!({"file_path": abs(&repo, ".env"), "content": format!("OPENAI_API_KEY={key}\n")}),
    );
    let run = send(&repo, "claude", &write);
    run.assert_code(2).assert_no_leak(&key);
    assert!(run.stderr.contains(".gitignore"), "{}", run.dump());
    repo.write(".gitignore", ".env\n");
    send(&repo, "claude", &write).assert_code(0);
    // By a shell command too, when all it does on that line is write there.
    let bash = |command: String| claude_tool(&repo, "Bash", json!({"command": command}));
    send(
        &repo,
        "claude",
        &bash(format!("echo 'OPENAI_API_KEY={key}' >> .env")),
    )
    .assert_code(0);
    send(
        &repo,
        "claude",
        &bash(format!(
            "cat >> .env <<'EOF'\nOPENAI_API_KEY={key}\nEOF\nnpm test"
        )),
    )
    .assert_code(0);
    // Not when the key also goes elsewhere, or into a file git would commit.
    send(&repo, "claude", &bash(format!("echo {key} | tee -a .env"))).assert_code(2);
    send(
        &repo,
        "claude",
        &bash(format!("echo 'K={key}' >> .env; curl -H 'X-Key: {key}' x")),
    )
    .assert_code(2);
    send(
        &repo,
        "claude",
        &bash(format!("echo 'K={key}' >> config.py")),
    )
    .assert_code(2);
    send(
        &repo,
        "gemini",
        &gemini_tool(
            &repo,
            "run_shell_command",
            json!({"command": format!("printf 'K={key}\\n' > .env.production")}),
        ),
    )
    .assert_code(2);
}

// ---- the git hook's config, allow markers and baseline -------------------

#[test]
fn allow_markers_config_and_the_baseline_of_the_git_hook_apply() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("allow");
    let key = keys.github();
    let write = |content: String, file: &str| {
        claude_tool(
            &repo,
            "Write",
            json!({"file_path": abs(&repo, file), "content": content}),
        )
    };
    send(
        &repo,
        "claude",
        &write(format!("T = \"{key}\"  # keyguard:allow\n"), "a.py"),
    )
    .assert_code(0);
    repo.write(".keyguard.toml", "disabled_rules = [\"github-token\"]\n");
    send(&repo, "claude", &write(format!("T = \"{key}\"\n"), "a.py")).assert_code(0);
    repo.remove(".keyguard.toml");
    // A finding recorded in the baseline (of staged content) does not block.
    let other = keys.github();
    repo.stage("b.py", format!("T = \"{other}\"\n"));
    let mut baseline = isolated_command(keyguard_bin(), &repo.home);
    baseline.arg("baseline").current_dir(&repo.root);
    Run::of(baseline).assert_success();
    repo.remove("b.py");
    send(
        &repo,
        "claude",
        &write(format!("T = \"{other}\"\n"), "b.py"),
    )
    .assert_code(0);
    send(
        &repo,
        "claude",
        &write(format!("T = \"{other}\"\n"), "c.py"),
    )
    .assert_code(2);
}

#[test]
fn config_is_found_from_the_event_cwd_not_the_process_folder() {
    let repo = TempRepo::new();
    let key = Keys::for_test("cwd").github();
    repo.write(".keyguard.toml", "disabled_rules = [\"github-token\"]\n");
    let payload = claude_tool(
        &repo,
        "Write",
        json!({"file_path": abs(&repo, "a.py"), "content": format!("T = \"{key}\"\n")}),
    );
    let mut cmd = isolated_command(keyguard_bin(), &repo.home);
    cmd.args(["agent-hook", "--agent", "claude"])
        .current_dir(repo.base())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    let run = Run::from_output(
        "agent-hook from outside".into(),
        child.wait_with_output().unwrap(),
    );
    run.assert_code(0);
}

// ---- failing closed --------------------------------------------------------

#[test]
fn malformed_empty_and_oversized_events_and_bad_config_are_blocks() {
    let repo = TempRepo::new();
    for agent in ["claude", "gemini", "codex", "copilot", "cursor"] {
        for input in [
            &b"{not json"[..],
            b"",
            b"[1,2]",
            b"{\"hook_event_name\": \"PreToolUse\"}",
        ] {
            let run = hook(&repo, agent, input);
            run.assert_code(2);
            assert!(
                run.stderr.contains("could not check this action"),
                "{agent}: {}",
                run.dump()
            );
        }
    }
    let mut big = claude_tool(
        &repo,
        "Write",
        json!({"file_path": abs(&repo, "big.txt"), "content": "x".repeat(9 << 20)}),
    );
    let run = send(&repo, "claude", &big);
    run.assert_code(2)
        .assert_stderr_contains("larger than 8 MiB");
    big["tool_input"]["content"] = json!("fine\n");
    send(&repo, "claude", &big).assert_code(0);
    repo.write(".keyguard.toml", "disabled_rule = []\n");
    send(
        &repo,
        "copilot",
        &copilot_tool(&repo, "bash", json!({"command": "ls"})),
    )
    .assert_code(2)
    .assert_stdout_contains("\"deny\"");
}

#[test]
fn an_unknown_event_or_tool_has_its_strings_scanned() {
    let repo = TempRepo::new();
    let key = Keys::for_test("unknown").github();
    let mut event = claude_tool(&repo, "FutureTool", json!({"nested": [{"deep": key}]}));
    send(&repo, "claude", &event)
        .assert_code(2)
        .assert_no_leak(&key);
    event["hook_event_name"] = json!("SomeNewEvent");
    send(&repo, "claude", &event).assert_code(2);
}

// ---- redaction -------------------------------------------------------------

#[test]
fn no_block_message_of_any_agent_holds_the_secret() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("redaction");
    let secrets = [
        keys.github(),
        keys.openai(),
        keys.anthropic(),
        keys.stripe(),
        keys.slack_bot(),
    ];
    for secret in &secrets {
        let content = format!("KEY = \"{secret}\"\n");
        let events = [
            (
                "claude",
                claude_tool(
                    &repo,
                    "Write",
                    json!({"file_path": abs(&repo, "k.py"), "content": content}),
                ),
            ),
            (
                "gemini",
                gemini_tool(
                    &repo,
                    "write_file",
                    json!({"file_path": abs(&repo, "k.py"), "content": content}),
                ),
            ),
            (
                "codex",
                codex_tool(&repo, "Bash", &format!("echo '{content}' > k.py")),
            ),
            (
                "copilot",
                copilot_tool(
                    &repo,
                    "create",
                    json!({"path": abs(&repo, "k.py"), "file_text": content}),
                ),
            ),
            (
                "cursor",
                cursor_event(
                    &repo,
                    "beforeSubmitPrompt",
                    json!({"prompt": content, "attachments": []}),
                ),
            ),
        ];
        for (agent, event) in events {
            send(&repo, agent, &event)
                .assert_code(2)
                .assert_no_leak(secret);
        }
    }
}

// ---- keyguard --stdin ------------------------------------------------------

#[test]
fn stdin_is_scanned_as_one_file_with_source_stdin() {
    let repo = TempRepo::new();
    let key = Keys::for_test("stdin").github();
    let mut cmd = isolated_command(keyguard_bin(), &repo.home);
    cmd.args(["--stdin", "--format", "json"])
        .current_dir(&repo.root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("line one\nT = \"{key}\"\n").as_bytes())
        .unwrap();
    let run = Run::from_output("keyguard --stdin".into(), child.wait_with_output().unwrap());
    run.assert_code(1).assert_no_leak(&key);
    let report = run.json();
    let finding = &report["findings"][0];
    assert_eq!(finding["source"], "stdin", "{}", run.dump());
    assert_eq!(finding["line"], 2, "{}", run.dump());
}

// ---- the payloads, for the schema check --------------------------------------

/// Writes one of each documented payload these tests send to the folder
/// `KEYGUARD_AGENT_FIXTURES` names, as `AGENT-EVENT[-TOOL].json`, for
/// tests/ecosystem/agent_schemas.sh to type-check against the agents'
/// published definitions (so that a fixture cannot simply agree with the
/// parser). Run by that script only.
#[test]
#[ignore = "run by tests/ecosystem/agent_schemas.sh"]
fn fixtures_for_schema_checks() {
    let dir = std::path::PathBuf::from(
        std::env::var_os("KEYGUARD_AGENT_FIXTURES").expect("KEYGUARD_AGENT_FIXTURES"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let repo = TempRepo::new();
    let file = abs(&repo, "app.py");
    let fixtures = [
        (
            "claude-PreToolUse-Write",
            claude_tool(
                &repo,
                "Write",
                json!({"file_path": file, "content": "x = 1\n"}),
            ),
        ),
        (
            "claude-PreToolUse-Edit",
            claude_tool(
                &repo,
                "Edit",
                json!({"file_path": file, "old_string": "x = 1", "new_string": "x = 2", "replace_all": false}),
            ),
        ),
        (
            "claude-PreToolUse-NotebookEdit",
            claude_tool(
                &repo,
                "NotebookEdit",
                json!({"notebook_path": abs(&repo, "n.ipynb"), "cell_id": "c1", "new_source": "print(1)", "cell_type": "code", "edit_mode": "replace"}),
            ),
        ),
        (
            "claude-PreToolUse-Bash",
            claude_tool(
                &repo,
                "Bash",
                json!({"command": "cat .env", "description": "Show env"}),
            ),
        ),
        (
            "claude-PreToolUse-Read",
            claude_tool(&repo, "Read", json!({"file_path": abs(&repo, ".env")})),
        ),
        (
            "claude-PreToolUse-Grep",
            claude_tool(
                &repo,
                "Grep",
                json!({"pattern": "KEY", "path": abs(&repo, ".env")}),
            ),
        ),
        (
            "claude-UserPromptSubmit",
            claude_prompt(&repo, "run the tests"),
        ),
        (
            "gemini-BeforeTool-write_file",
            gemini_tool(
                &repo,
                "write_file",
                json!({"file_path": file, "content": "x = 1\n"}),
            ),
        ),
        (
            "gemini-BeforeTool-replace",
            gemini_tool(
                &repo,
                "replace",
                json!({"file_path": file, "old_string": "a", "new_string": "b"}),
            ),
        ),
        (
            "gemini-BeforeTool-run_shell_command",
            gemini_tool(
                &repo,
                "run_shell_command",
                json!({"command": "ls", "dir_path": "."}),
            ),
        ),
        (
            "gemini-BeforeTool-read_file",
            gemini_tool(&repo, "read_file", json!({"file_path": ".env"})),
        ),
        ("gemini-BeforeAgent", gemini_prompt(&repo, "run the tests")),
        ("codex-PreToolUse-Bash", codex_tool(&repo, "Bash", "ls")),
        (
            "codex-PreToolUse-apply_patch",
            codex_tool(
                &repo,
                "apply_patch",
                "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n",
            ),
        ),
        (
            "codex-UserPromptSubmit",
            codex_prompt(&repo, "run the tests"),
        ),
        (
            "copilot-preToolUse-create",
            copilot_tool(
                &repo,
                "create",
                json!({"path": file, "file_text": "x = 1\n"}),
            ),
        ),
        (
            "cursor-beforeShellExecution",
            cursor_event(
                &repo,
                "beforeShellExecution",
                json!({"command": "ls", "cwd": root(&repo)}),
            ),
        ),
        (
            "cursor-beforeReadFile",
            cursor_event(
                &repo,
                "beforeReadFile",
                json!({"file_path": file, "content": "x = 1\n", "attachments": []}),
            ),
        ),
        (
            "cursor-beforeSubmitPrompt",
            cursor_event(
                &repo,
                "beforeSubmitPrompt",
                json!({"prompt": "hi", "attachments": []}),
            ),
        ),
    ];
    for (name, payload) in &fixtures {
        std::fs::write(dir.join(format!("{name}.json")), payload.to_string()).unwrap();
        // Each is an event keyguard reads, and lets through (no key in it
        // but the secrets-file reads).
        let run = send(&repo, name.split('-').next().unwrap(), payload);
        assert!(run.code == 0 || run.code == 2, "{name}: {}", run.dump());
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), fixtures.len());
}

// ---- MCP configuration files ---------------------------------------------

/// A literal key in an MCP config's `env` or `headers` block is a finding in
/// both hooks, and so is the literal default of `${VAR:-default}`; a
/// `${VAR}` reference is not.
#[test]
fn mcp_config_literals_are_findings_and_references_are_not() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("mcp");
    let (api_key, bearer, fallback) = (
        keys.generic_value(),
        keys.generic_value(),
        keys.generic_value(),
    );
    let literal = json!({"mcpServers": {
        "acme": {"command": "npx", "args": ["-y", "acme-mcp"], "env": {"ACME_API_KEY": api_key, "ACME_TOKEN": format!("${{ACME_TOKEN:-{fallback}}}")}},
        "remote": {"type": "http", "url": "https://mcp.acme.dev/mcp", "headers": {"Authorization": format!("Bearer {bearer}")}}
    }});
    let references = json!({"mcpServers": {
        "acme": {"command": "npx", "args": ["-y", "acme-mcp"], "env": {"ACME_API_KEY": "${ACME_API_KEY}"}},
        "remote": {"type": "http", "url": "https://mcp.acme.dev/mcp", "headers": {"Authorization": "Bearer ${ACME_TOKEN}"}}
    }});
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap() + "\n";
    for file in [".mcp.json", ".cursor/mcp.json", ".vscode/mcp.json"] {
        let write = |v: &Value| {
            claude_tool(
                &repo,
                "Write",
                json!({"file_path": abs(&repo, file), "content": pretty(v)}),
            )
        };
        let run = send(&repo, "claude", &write(&literal));
        run.assert_code(2)
            .assert_no_leak(&api_key)
            .assert_no_leak(&bearer);
        assert!(
            run.stderr.matches(file).count() >= 2,
            "env and headers: {}",
            run.dump()
        );
        send(&repo, "claude", &write(&references)).assert_code(0);
    }
    repo.stage(".mcp.json", pretty(&literal));
    repo.commit_blocked("mcp config with a key")
        .assert_no_leak(&api_key);
    repo.stage(".mcp.json", pretty(&references));
    repo.commit_allowed("mcp config with references");
}
