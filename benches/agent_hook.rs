//! What the agent hook costs per event, against a process start: for each
//! agent, one allowed and one blocked event (documented payloads, a Write
//! or shell command in a fresh repository), timed as the agent runs the
//! hook (a new process, the event on stdin), interleaved with `keyguard
//! --version` in the same run, and one allowed event through the entry
//! `install --agent claude` writes (`sh -c`, as the agent runs it). It
//! prints each median and its ratio to `--version`'s; the bound is
//! an allowed event within 3×. Wall-clock time is what the agent waits;
//! CPU time is shown beside it, as the machine's other load moves the wall
//! clock far more than it moves the CPU time.
//!
//!     cargo bench --bench agent_hook               # 40 rounds
//!     cargo bench --bench agent_hook -- --quick    # 8 rounds
//!
//! A measurement, not a test: it exits 0 whatever the numbers. Keys are
//! built at run time from the rules' example templates.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keyguard::agent::{settings_file, Agent};
use keyguard::rules::examples::{expand, Rng};
use serde_json::{json, Value};

const KEYGUARD: &str = env!("CARGO_BIN_EXE_keyguard");

/// One timed case: the program, its arguments and what goes on stdin.
struct Case {
    name: String,
    program: String,
    args: Vec<String>,
    stdin: Vec<u8>,
    /// The exit code the case must give (a wrong one voids the number).
    expected_code: i32,
}

/// The CPU time (user and system) of the children waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// Wall-clock time (what the agent waits) and CPU time (less sensitive to
/// the machine's other load) of one run.
fn time_once(case: &Case, dir: &Path) -> (Duration, Duration) {
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut child = Command::new(&case.program)
        .args(&case.args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run keyguard");
    let _ = child.stdin.take().expect("stdin").write_all(&case.stdin);
    let status = child.wait().expect("wait for keyguard");
    let elapsed = started.elapsed();
    let cpu = children_cpu() - cpu_before;
    assert_eq!(
        status.code(),
        Some(case.expected_code),
        "{}: unexpected exit code",
        case.name
    );
    (elapsed, cpu)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The documented event of `agent` writing `content` into `file`.
fn write_event(agent: &str, root: &Path, file: &str, content: &str) -> Value {
    let cwd = root.display().to_string();
    let path = root.join(file).display().to_string();
    match agent {
        "claude" => json!({
            "session_id": "s", "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
            "permission_mode": "default", "hook_event_name": "PreToolUse",
            "tool_name": "Write", "tool_input": {"file_path": path, "content": content},
            "tool_use_id": "toolu_1"
        }),
        "gemini" => json!({
            "session_id": "s", "transcript_path": "/tmp/t.json", "cwd": cwd,
            "hook_event_name": "BeforeTool", "timestamp": "2026-12-01T00:00:00Z",
            "tool_name": "write_file", "tool_input": {"file_path": path, "content": content}
        }),
        "codex" => json!({
            "session_id": "s", "transcript_path": null, "cwd": cwd,
            "hook_event_name": "PreToolUse", "model": "gpt-5-codex", "permission_mode": "default",
            "tool_name": "apply_patch", "tool_use_id": "call_1",
            "tool_input": {"command": format!(
                "*** Begin Patch\n*** Add File: {file}\n{}*** End Patch\n",
                content.lines().map(|l| format!("+{l}\n")).collect::<String>()
            )}
        }),
        "copilot" => json!({
            "timestamp": 1_764_547_200_000u64, "cwd": cwd, "toolName": "create",
            "toolArgs": json!({"path": path, "file_text": content}).to_string()
        }),
        "cursor" => json!({
            "conversation_id": "c", "generation_id": "g", "hook_event_name": "preToolUse",
            "workspace_roots": [cwd], "tool_name": "Write", "cwd": cwd, "tool_use_id": "t",
            "tool_input": {"file_path": path, "contents": content}
        }),
        _ => unreachable!(),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 8 } else { 40 };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&root)
        .status()
        .expect("git");
    assert!(git.success(), "git init");
    std::fs::write(root.join("app.py"), "import os\n\ndef main():\n    pass\n").unwrap();

    let token = expand(&["ghp", "{{b62crc:30}}"].join("_"), &mut Rng::seeded(17)).unwrap();
    let clean = "import os\n\nTOKEN = os.environ[\"GITHUB_TOKEN\"]\n\ndef main():\n    pass\n";
    let leaked = format!("import os\n\nTOKEN = \"{token}\"\n\ndef main():\n    pass\n");

    let mut cases = vec![Case {
        name: "keyguard --version".into(),
        program: KEYGUARD.into(),
        args: vec!["--version".into()],
        stdin: Vec::new(),
        expected_code: 0,
    }];
    for agent in ["claude", "gemini", "codex", "copilot", "cursor"] {
        for (what, content, code) in [("allowed", clean, 0), ("blocked", leaked.as_str(), 2)] {
            cases.push(Case {
                name: format!("{agent} {what}"),
                program: KEYGUARD.into(),
                args: vec!["agent-hook".into(), "--agent".into(), agent.into()],
                stdin: write_event(agent, &root, "app.py", content)
                    .to_string()
                    .into_bytes(),
                expected_code: code,
            });
        }
    }

    // The agent runs the installed entry through a shell: that too, for one
    // agent (the shell's start is part of what the agent waits for).
    let entry = settings_file::command_line(
        Agent::Claude,
        Some(Path::new(KEYGUARD)),
        Path::new(".claude/settings.json"),
    );
    cases.push(Case {
        name: "claude allowed, entry".into(),
        program: "sh".into(),
        args: vec!["-c".into(), entry],
        stdin: write_event("claude", &root, "app.py", clean)
            .to_string()
            .into_bytes(),
        expected_code: 0,
    });

    // Interleaved rounds: a slower moment of the machine weighs on every
    // case alike, and the ratio stays fair.
    let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (i, case) in cases.iter().enumerate() {
            let (w, c) = time_once(case, &root);
            wall[i].push(w);
            cpu[i].push(c);
        }
    }
    let wall: Vec<f64> = wall.iter_mut().map(|t| median(t).as_secs_f64()).collect();
    let cpu: Vec<f64> = cpu.iter_mut().map(|t| median(t).as_secs_f64()).collect();
    println!("agent hook, {rounds} rounds, medians and their ratio to `keyguard --version`:");
    println!(
        "  {:<24} {:>9} {:>6}   {:>9} {:>6}",
        "", "wall", "", "cpu", ""
    );
    for (i, case) in cases.iter().enumerate() {
        println!(
            "  {:<24} {:>6.2} ms {:>5.2}x   {:>6.2} ms {:>5.2}x",
            case.name,
            wall[i] * 1000.0,
            wall[i] / wall[0],
            cpu[i] * 1000.0,
            cpu[i] / cpu[0]
        );
    }
    let worst = |times: &[f64]| {
        cases
            .iter()
            .zip(times)
            .filter(|(case, _)| case.name.contains("allowed"))
            .map(|(_, t)| t / times[0])
            .fold(0.0, f64::max)
    };
    for (what, times) in [("wall", &wall), ("cpu", &cpu)] {
        let ratio = worst(times);
        println!(
            "slowest allowed event, {what}: {ratio:.2}x process start (bound: 3x) {}",
            if ratio <= 3.0 { "within" } else { "OVER" }
        );
    }
}
