//! An agent's hook event, as JSON, turned into what the action would do:
//! write a file, run a command, send text, or read a file. Pure: nothing
//! here reads the disk (`cmd::agent_hook` rebuilds edited files).
//!
//! Field names follow each agent's documented payloads (see the module
//! docs of `agent`): Claude Code's tool inputs are typed in the Agent
//! SDK's `sdk-tools.d.ts` (`FileWriteInput`, `FileEditInput`,
//! `NotebookEditInput`, `BashInput`, `FileReadInput`, `GrepInput`),
//! Gemini CLI's in `@google/gemini-cli-core` (`WriteFileToolParams`,
//! `EditToolParams`, `ShellToolParams`, `ReadFileToolParams`,
//! `GrepToolParams`), Copilot CLI's in its hooks reference (`create`,
//! `edit`, `view`, `str_replace_editor`), Cursor's in its hooks page.
//! A tool keyguard does not know is not skipped: every string in its
//! arguments is scanned.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::patch::{self, PatchChange};

/// One event, reduced to what keyguard judges.
#[derive(Debug, Default, PartialEq)]
pub struct Event {
    /// The event's name as the agent sent it (`PreToolUse`,
    /// `beforeSubmitPrompt`): some agents answer differently per event.
    pub name: String,
    /// The tool, for a tool event.
    pub tool: Option<String>,
    /// Where the agent works: config and baseline are found from here.
    pub cwd: Option<String>,
    pub actions: Vec<Action>,
}

/// What an action would do with text or a file.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// The file at `path` would change.
    Write { path: String, content: Write },
    /// A shell command would run: scanned as text, and the files it names
    /// judged (`agent::shell`).
    Command { text: String },
    /// Text sent somewhere: a prompt, an MCP tool's or unknown tool's
    /// argument. `label` names it in reports.
    Text { label: String, text: String },
    /// A file would be read into the agent's context.
    Read { path: String },
    /// A search over files whose names match `glob` (`Grep`'s `glob`).
    ReadGlob { glob: String },
    /// A file being read, with its content (Cursor's `beforeReadFile`).
    ReadContent { path: String, content: String },
}

/// How a write changes a file.
#[derive(Debug, PartialEq)]
pub enum Write {
    /// The whole file as it will be.
    Whole(String),
    /// Replacements of `old` by `new` in the file as it is (all of them
    /// when `all`), applied in order.
    Edits(Vec<Edit>),
    /// Only the added text is known (a notebook cell, a patch hunk).
    Added(String),
}

#[derive(Debug, PartialEq)]
pub struct Edit {
    pub old: String,
    pub new: String,
    pub all: bool,
}

/// Parses one event. The agents' payloads differ in their field names,
/// never in what a name means, so one parser reads them all.
pub fn parse(bytes: &[u8]) -> Result<Event> {
    let value: Value = serde_json::from_slice(bytes).context("the hook event is not valid JSON")?;
    let Value::Object(object) = &value else {
        bail!("the hook event is not a JSON object");
    };
    let field = |name: &str| object.get(name).and_then(Value::as_str);
    // Copilot CLI's camelCase events carry no event name: a tool call has
    // `toolName`, a prompt has `prompt`.
    let name = match field("hook_event_name").or_else(|| field("hookEventName")) {
        Some(name) => name.to_string(),
        None if object.contains_key("toolName") => "preToolUse".to_string(),
        None if object.contains_key("prompt") => "userPromptSubmitted".to_string(),
        None => bail!("the hook event has no hook_event_name"),
    };
    let cwd = field("cwd").map(str::to_string).or_else(|| {
        object
            .get("workspace_roots")
            .and_then(Value::as_array)
            .and_then(|roots| roots.first())
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let mut event = Event {
        name,
        cwd,
        ..Event::default()
    };
    match event.name.to_ascii_lowercase().as_str() {
        "pretooluse" | "beforetool" | "beforemcpexecution" => {
            let tool = field("tool_name")
                .or_else(|| field("toolName"))
                .context("the tool event has no tool name")?
                .to_string();
            let input = object
                .get("tool_input")
                .or_else(|| object.get("toolArgs"))
                .cloned()
                .unwrap_or(Value::Null);
            event.actions = tool_actions(&tool, arguments(input));
            event.tool = Some(tool);
        }
        "userpromptsubmit" | "beforeagent" | "beforesubmitprompt" | "userpromptsubmitted" => {
            let prompt = field("prompt").context("the prompt event has no prompt")?;
            event.actions.push(Action::Text {
                label: "(prompt)".into(),
                text: prompt.to_string(),
            });
        }
        "beforeshellexecution" => {
            let command = field("command").context("the shell event has no command")?;
            event.actions.push(Action::Command {
                text: command.to_string(),
            });
        }
        "beforereadfile" => {
            let path = field("file_path").context("the read event has no file_path")?;
            event.actions.push(Action::ReadContent {
                path: path.to_string(),
                content: field("content").unwrap_or_default().to_string(),
            });
        }
        // An event keyguard does not know: every string in it is scanned.
        _ => push_leaves(&value, "", &mut event.actions, &format!("({})", event.name)),
    }
    Ok(event)
}

/// A tool's arguments: Copilot CLI and Cursor's MCP events may send them
/// as a JSON string; one that is not JSON stays a string, and is scanned.
fn arguments(input: Value) -> Value {
    match input {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    }
}

/// The first string among `names` in `input`.
fn text<'a>(input: &'a Value, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| input.get(*name)?.as_str())
}

const PATH_FIELDS: &[&str] = &[
    "file_path",
    "path",
    "filePath",
    "notebook_path",
    "absolute_path",
    "target_file",
];
const CONTENT_FIELDS: &[&str] = &["content", "contents", "file_text", "text"];
const OLD_FIELDS: &[&str] = &["old_string", "old_str"];
const NEW_FIELDS: &[&str] = &["new_string", "new_str"];
const ALL_FIELDS: &[&str] = &["replace_all", "allow_multiple"];
const COMMAND_FIELDS: &[&str] = &["command", "cmd"];

/// What the tool `name` would do with `input`.
fn tool_actions(name: &str, input: Value) -> Vec<Action> {
    let mut actions = Vec::new();
    // The fields a known tool's handling consumed, and those it must not
    // scan (the text an edit removes): every other string is still scanned.
    let mut consumed: Vec<&str> = Vec::new();
    let lower = name.to_ascii_lowercase();
    let path = text(&input, PATH_FIELDS).map(str::to_string);
    match (lower.as_str(), path) {
        ("write" | "write_file" | "create", Some(path)) => {
            if let Some(content) = text(&input, CONTENT_FIELDS) {
                actions.push(Action::Write {
                    path,
                    content: Write::Whole(content.to_string()),
                });
                consumed.extend(PATH_FIELDS.iter().chain(CONTENT_FIELDS));
            }
        }
        ("edit" | "replace" | "strreplace" | "str_replace" | "search_replace", Some(path)) => {
            if let Some(edit) = edit(&input) {
                actions.push(Action::Write {
                    path,
                    content: Write::Edits(vec![edit]),
                });
                consumed.extend(PATH_FIELDS.iter().chain(OLD_FIELDS).chain(NEW_FIELDS));
            }
        }
        ("multiedit", Some(path)) => {
            let edits: Vec<Edit> = input
                .get("edits")
                .and_then(Value::as_array)
                .map(|edits| edits.iter().filter_map(edit).collect())
                .unwrap_or_default();
            actions.push(Action::Write {
                path,
                content: Write::Edits(edits),
            });
            consumed.extend(PATH_FIELDS.iter().chain(&["edits"]));
        }
        ("notebookedit", Some(path)) => {
            if let Some(source) = text(&input, &["new_source"]) {
                actions.push(Action::Write {
                    path,
                    content: Write::Added(source.to_string()),
                });
                consumed.extend(PATH_FIELDS.iter().chain(&["new_source"]));
            }
        }
        ("str_replace_editor" | "str_replace_based_edit_tool", Some(path)) => {
            let write = match text(&input, &["command"]) {
                Some("create") => text(&input, &["file_text"]).map(|t| Write::Whole(t.into())),
                Some("str_replace") => edit(&input).map(|e| Write::Edits(vec![e])),
                Some("insert") => text(&input, NEW_FIELDS).map(|t| Write::Added(t.into())),
                Some("view") => {
                    actions.push(Action::Read { path: path.clone() });
                    None
                }
                _ => None,
            };
            if let Some(content) = write {
                actions.push(Action::Write { path, content });
            }
            consumed.extend(
                PATH_FIELDS
                    .iter()
                    .chain(&["command", "file_text"])
                    .chain(OLD_FIELDS)
                    .chain(NEW_FIELDS),
            );
        }
        ("apply_patch" | "applypatch", _) => {
            let body = match &input {
                Value::String(body) => Some(body.as_str()),
                _ => text(&input, &["command", "input", "patch"]),
            };
            if let Some(files) = body.and_then(|body| patch::parse(body).ok()) {
                for file in files {
                    let content = match file.change {
                        PatchChange::Add(text) => Write::Whole(text),
                        PatchChange::Update { added } => Write::Added(added),
                        PatchChange::Delete => continue,
                    };
                    actions.push(Action::Write {
                        path: file.path,
                        content,
                    });
                }
                consumed.extend(["command", "input", "patch"]);
            }
        }
        (
            "bash" | "shell" | "run_shell_command" | "powershell" | "exec_command" | "local_shell"
            | "terminal",
            _,
        ) => {
            let command = match input.get("command").or_else(|| input.get("cmd")) {
                Some(Value::String(command)) => Some(command.clone()),
                // Codex's older shell tool: the argv, as an array.
                Some(Value::Array(argv)) => Some(
                    argv.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            };
            if let Some(text) = command {
                actions.push(Action::Command { text });
                consumed.extend(COMMAND_FIELDS);
            }
        }
        ("read" | "read_file" | "view" | "readfile", Some(path)) => {
            actions.push(Action::Read { path });
            consumed.extend(PATH_FIELDS);
        }
        ("read_many_files", _) => {
            for pattern in string_list(&input, "include") {
                actions.push(Action::ReadGlob { glob: pattern });
            }
            consumed.push("include");
        }
        ("grep" | "search_file_content" | "grep_search" | "ripgrep", path) => {
            if let Some(path) = path.or_else(|| text(&input, &["dir_path"]).map(str::to_string)) {
                actions.push(Action::Read { path });
            }
            for glob in ["glob", "include_pattern", "include"] {
                if let Some(glob) = text(&input, &[glob]) {
                    actions.push(Action::ReadGlob { glob: glob.into() });
                }
            }
            consumed.extend(
                PATH_FIELDS
                    .iter()
                    .chain(&["dir_path", "glob", "include_pattern"]),
            );
        }
        _ => {}
    }
    consumed.extend(OLD_FIELDS.iter().chain(ALL_FIELDS));
    if actions.is_empty() {
        // Not a tool keyguard knows, or not in a shape it knows: scan
        // every string, including what an edit would remove.
        consumed.clear();
    }
    let label = format!("({name} argument)");
    match &input {
        Value::Object(fields) => {
            for (key, value) in fields {
                if !consumed.contains(&key.as_str()) {
                    push_leaves(value, key, &mut actions, &label);
                }
            }
        }
        other => push_leaves(other, "", &mut actions, &label),
    }
    actions
}

fn edit(input: &Value) -> Option<Edit> {
    Some(Edit {
        old: text(input, OLD_FIELDS).unwrap_or_default().to_string(),
        new: text(input, NEW_FIELDS)?.to_string(),
        all: ALL_FIELDS
            .iter()
            .any(|name| input.get(*name).and_then(Value::as_bool) == Some(true)),
    })
}

fn string_list(input: &Value, name: &str) -> Vec<String> {
    match input.get(name) {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Every string under `value`, each as one `key: value` text (the key
/// gives rules their context, as in `Authorization: Bearer …`).
fn push_leaves(value: &Value, key: &str, actions: &mut Vec<Action>, label: &str) {
    match value {
        Value::String(text) if !text.is_empty() => actions.push(Action::Text {
            label: label.to_string(),
            text: if key.is_empty() {
                text.clone()
            } else {
                format!("{key}: {text}")
            },
        }),
        Value::Array(items) => {
            for item in items {
                push_leaves(item, key, actions, label);
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                push_leaves(item, name, actions, label);
            }
        }
        _ => {}
    }
}
