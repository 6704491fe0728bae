//! `keyguard install --agent NAME [--global]` and `uninstall --agent NAME`
//! on settings files the user already has: every other setting and hook
//! kept in its order, keyguard's entry appended, twice changes nothing,
//! uninstall gives the file back, comments and symlinks respected; and the
//! installed command line run as the agent runs it.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::util::{isolated_command, keyguard_bin, path_without_keyguard, Keys, Run, TempRepo};

fn keyguard(repo: &TempRepo, args: &[&str]) -> Run {
    let mut cmd = isolated_command(keyguard_bin(), &repo.home);
    cmd.args(args).current_dir(&repo.root);
    Run::of(cmd)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The settings file each agent reads in a project, with a setting and a
/// hook of the user's already in it.
fn existing(agent: &str) -> (&'static str, Value) {
    match agent {
        "claude" => (
            ".claude/settings.json",
            json!({"permissions": {"allow": ["Bash(npm test)"]},
                   "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./my-guard.sh"}]}]},
                   "model": "opus"}),
        ),
        "gemini" => (
            ".gemini/settings.json",
            json!({"theme": "GitHub", "hooks": {"BeforeTool": [{"matcher": "write_file", "hooks": [{"type": "command", "command": "./lint.sh"}]}]}}),
        ),
        "codex" => (
            ".codex/hooks.json",
            json!({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./policy.sh"}]}]}}),
        ),
        "copilot" => (
            ".github/hooks/keyguard.json",
            json!({"version": 1, "hooks": {"sessionStart": [{"type": "command", "bash": "echo start"}]}}),
        ),
        "cursor" => (
            ".cursor/hooks.json",
            json!({"version": 1, "hooks": {"afterFileEdit": [{"command": "./format.sh"}], "beforeShellExecution": [{"command": "./audit.sh"}]}}),
        ),
        _ => unreachable!(),
    }
}

#[test]
fn install_merges_into_each_agents_settings_and_uninstall_restores_them() {
    for agent in ["claude", "gemini", "codex", "copilot", "cursor"] {
        let repo = TempRepo::new();
        let (rel, before) = existing(agent);
        let text = serde_json::to_string_pretty(&before).unwrap();
        repo.write(rel, &text);
        let run = keyguard(&repo, &["install", "--agent", agent]);
        run.assert_success();
        let after = read_json(&repo.path(rel));
        // Every key the user had is still there, first, in order.
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let before_keys = keys(&before);
        let after_keys = keys(&after);
        assert_eq!(
            &after_keys[..before_keys.len()],
            &before_keys[..],
            "{agent}"
        );
        let rendered = std::fs::read_to_string(repo.path(rel)).unwrap();
        let marker = format!("agent-hook --agent {agent}");
        assert!(rendered.contains(&marker), "{agent}: {rendered}");
        // The user's own hooks come before keyguard's (Codex trusts by position).
        for theirs in ["my-guard.sh", "lint.sh", "policy.sh", "audit.sh"] {
            if let Some(at) = rendered.find(theirs) {
                assert!(at < rendered.find(&marker).unwrap(), "{agent}: {rendered}");
            }
        }
        if agent == "cursor" {
            assert_eq!(
                rendered.matches("\"failClosed\": true").count(),
                5,
                "{rendered}"
            );
        }
        if agent == "codex" {
            run.assert_stderr_contains("trust");
        }
        // Twice changes nothing.
        keyguard(&repo, &["install", "--agent", agent]).assert_success();
        assert_eq!(
            std::fs::read_to_string(repo.path(rel)).unwrap(),
            rendered,
            "{agent}"
        );
        // Uninstall gives back exactly the user's document.
        keyguard(&repo, &["uninstall", "--agent", agent]).assert_success();
        assert_eq!(read_json(&repo.path(rel)), before, "{agent}");
    }
}

#[test]
fn a_file_keyguard_created_is_removed_again_and_global_uses_the_users_folder() {
    let repo = TempRepo::new();
    keyguard(&repo, &["install", "--agent", "copilot", "--global"]).assert_success();
    let user_file = repo.home.join(".copilot/hooks/keyguard.json");
    let document = read_json(&user_file);
    assert_eq!(document["version"], 1);
    let command = document["hooks"]["preToolUse"][0]["bash"].as_str().unwrap();
    assert!(
        command.contains(&keyguard_bin().display().to_string()),
        "{command}"
    );
    keyguard(&repo, &["uninstall", "--agent", "copilot", "--global"]).assert_success();
    assert!(!user_file.exists());
    keyguard(&repo, &["install", "--agent", "claude"]).assert_success();
    keyguard(&repo, &["uninstall", "--agent", "claude"]).assert_success();
    assert!(!repo.path(".claude/settings.json").exists());
}

#[test]
fn json_with_comments_is_refused_and_left_as_it_was() {
    let repo = TempRepo::new();
    let text = "{\n  // the theme I like\n  \"theme\": \"GitHub\",\n}\n";
    repo.write(".gemini/settings.json", text);
    let run = keyguard(&repo, &["install", "--agent", "gemini"]);
    run.assert_code(2).assert_stderr_contains("cannot parse");
    assert_eq!(
        std::fs::read_to_string(repo.path(".gemini/settings.json")).unwrap(),
        text
    );
    repo.write(".codex/hooks.json", "{\"hooks\": [1]}\n");
    keyguard(&repo, &["install", "--agent", "codex"]).assert_code(2);
    assert_eq!(
        std::fs::read(repo.path(".codex/hooks.json")).unwrap(),
        b"{\"hooks\": [1]}\n"
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_settings_file_is_written_through_and_stays_a_link() {
    let repo = TempRepo::new();
    let dotfiles = repo.base().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("claude.json"), "{\"model\": \"opus\"}").unwrap();
    std::fs::create_dir_all(repo.home.join(".claude")).unwrap();
    let link = repo.home.join(".claude/settings.json");
    std::os::unix::fs::symlink(dotfiles.join("claude.json"), &link).unwrap();
    keyguard(&repo, &["install", "--agent", "claude", "--global"]).assert_success();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let document = read_json(&dotfiles.join("claude.json"));
    assert_eq!(document["model"], "opus");
    assert!(document["hooks"]["PreToolUse"].is_array());
}

/// Runs an installed command line as the agent does (`sh -c`), with the
/// event on stdin and `path` as PATH.
fn run_installed(repo: &TempRepo, command: &str, path: &str, event: &Value) -> Run {
    let mut cmd = isolated_command("sh", &repo.home);
    cmd.args(["-c", command])
        .current_dir(&repo.root)
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The shim exits without reading when keyguard is missing.
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes());
    Run::from_output(
        format!("sh -c {command}"),
        child.wait_with_output().unwrap(),
    )
}

#[test]
fn the_installed_project_hook_blocks_and_a_teammate_without_keyguard_is_told_and_blocked() {
    let repo = TempRepo::new();
    keyguard(&repo, &["install", "--agent", "claude"]).assert_success();
    let document = read_json(&repo.path(".claude/settings.json"));
    let hook = &document["hooks"]["PreToolUse"][0]["hooks"][0];
    assert_eq!(document["hooks"]["PreToolUse"][0]["matcher"], "*");
    let command = hook["command"].as_str().unwrap();
    let key = Keys::for_test("installed").github();
    let event = json!({
        "session_id": "s", "transcript_path": "/tmp/t.jsonl", "cwd": repo.root.display().to_string(),
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Write",
        "tool_input": {"file_path": repo.path("a.py").display().to_string(), "content": format!("T = \"{key}\"\n")},
        "tool_use_id": "toolu_1"
    });
    let bin_dir = keyguard_bin().parent().unwrap().display().to_string();
    let with = format!("{bin_dir}:{}", path_without_keyguard());
    run_installed(&repo, command, &with, &event)
        .assert_code(2)
        .assert_no_leak(&key)
        .assert_stderr_contains("github-token");
    let missing = run_installed(&repo, command, &path_without_keyguard(), &event);
    missing
        .assert_code(2)
        .assert_stderr_contains("keyguard is not installed");
    assert!(
        missing.stderr.contains(".claude/settings.json")
            && !missing.stderr.contains(&repo.root.display().to_string()),
        "the shared file names itself from the project root: {}",
        missing.dump()
    );
    // Another program named keyguard, or a keyguard that crashes, is a
    // block too, in every agent (not only those with a fail-closed option).
    let fake = repo.base().join("fake-bin");
    std::fs::create_dir_all(&fake).unwrap();
    for (body, what) in [
        ("exit 0", "exit 0"),
        ("exit 1", "exit 1"),
        ("kill -9 $$", "exit 137"),
    ] {
        let program = fake.join("keyguard");
        std::fs::write(&program, format!("#!/bin/sh\n{body}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path = format!("{}:{}", fake.display(), path_without_keyguard());
        run_installed(&repo, command, &path, &event)
            .assert_code(2)
            .assert_stderr_contains(&format!("keyguard did not answer ({what})"));
    }
    // A clean event through the installed entry is allowed.
    let mut clean = event.clone();
    clean["tool_input"]["content"] = json!("import os\n");
    run_installed(&repo, command, &with, &clean).assert_code(0);
}

#[test]
fn claude_gets_on_failure_block_only_from_a_version_that_reads_it() {
    for (version, expected) in [
        ("2.1.300 (Claude Code)", true),
        ("2.1.200 (Claude Code)", false),
    ] {
        let repo = TempRepo::new();
        let bin = repo.base().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let claude = bin.join("claude");
        std::fs::write(&claude, format!("#!/bin/sh\necho '{version}'\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut cmd = isolated_command(keyguard_bin(), &repo.home);
        cmd.args(["install", "--agent", "claude"])
            .current_dir(&repo.root)
            .env(
                "PATH",
                format!("{}:{}", bin.display(), path_without_keyguard()),
            );
        Run::of(cmd).assert_success();
        let document = read_json(&repo.path(".claude/settings.json"));
        let hook = &document["hooks"]["PreToolUse"][0]["hooks"][0];
        assert_eq!(
            hook.get("onFailure") == Some(&json!("block")),
            expected,
            "{version}: {document}"
        );
    }
}
