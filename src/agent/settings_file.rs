//! Each agent's settings file, and keyguard's entry in it, for `keyguard
//! install --agent` / `uninstall --agent`. The file is the user's: every
//! other key and hook stays, in its order; keyguard's entry is appended
//! (Codex trusts hooks by position, so nothing before it may move); a file
//! that is not plain JSON (comments, trailing commas) is refused, never
//! rewritten; the new file is written atomically, through a symlink.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use super::Agent;

/// JSON that keeps its objects' key order (serde_json's `Map` sorts keys
/// unless its `preserve_order` feature is on, which would reorder the
/// SARIF report too).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(fields) => fields.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn remove(&mut self, key: &str) {
        if let Json::Object(fields) = self {
            fields.retain(|(k, _)| k != key);
        }
    }

    fn is_empty_object(&self) -> bool {
        matches!(self, Json::Object(fields) if fields.is_empty())
    }

    /// The value at `key`, inserted (at the end) as `empty` when missing.
    fn entry(&mut self, key: &str, empty: Json) -> &mut Json {
        let Json::Object(fields) = self else {
            unreachable!("entry() is called on objects only");
        };
        let index = match fields.iter().position(|(k, _)| k == key) {
            Some(index) => index,
            None => {
                fields.push((key.to_string(), empty));
                fields.len() - 1
            }
        };
        &mut fields[index].1
    }
}

fn object(fields: &[(&str, Json)]) -> Json {
    Json::Object(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn string(text: &str) -> Json {
    Json::String(text.to_string())
}

fn number(n: u64) -> Json {
    Json::Number(n.into())
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Json, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> std::result::Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> std::result::Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> std::result::Result<Json, E> {
                serde_json::Number::from_f64(n)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("a number JSON cannot hold"))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Json, E> {
                Ok(Json::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Json, E> {
                Ok(Json::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Json, A::Error> {
                let mut fields = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    fields.push((key, value));
                }
                Ok(Json::Object(fields))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// Whose settings: a project's (its root), or the user's (the agent's own
/// folder: `~/.claude`, `$CODEX_HOME`, ...).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Project(&'a Path),
    User(&'a Path),
}

/// The file `agent` reads hooks from, in `scope`.
pub fn location(agent: Agent, scope: Scope) -> PathBuf {
    match (agent, scope) {
        (Agent::Claude, Scope::Project(root)) => root.join(".claude/settings.json"),
        (Agent::Claude, Scope::User(folder)) => folder.join("settings.json"),
        (Agent::Gemini, Scope::Project(root)) => root.join(".gemini/settings.json"),
        (Agent::Gemini, Scope::User(folder)) => folder.join("settings.json"),
        (Agent::Codex, Scope::Project(root)) => root.join(".codex/hooks.json"),
        (Agent::Codex, Scope::User(folder)) => folder.join("hooks.json"),
        // Copilot CLI reads every `*.json` there: keyguard's is its own file.
        (Agent::Copilot, Scope::Project(root)) => root.join(".github/hooks/keyguard.json"),
        (Agent::Copilot, Scope::User(folder)) => folder.join("hooks/keyguard.json"),
        (Agent::Cursor, Scope::Project(root)) => root.join(".cursor/hooks.json"),
        (Agent::Cursor, Scope::User(folder)) => folder.join("hooks.json"),
    }
}

/// The folder each agent keeps its user settings in, under the user's home.
pub fn user_folder(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude => ".claude",
        Agent::Gemini => ".gemini",
        Agent::Codex => ".codex",
        Agent::Copilot => ".copilot",
        Agent::Cursor => ".cursor",
    }
}

/// The events keyguard's entry is added to, per agent.
pub fn events(agent: Agent) -> &'static [&'static str] {
    match agent {
        Agent::Claude | Agent::Codex => &["PreToolUse", "UserPromptSubmit"],
        Agent::Gemini => &["BeforeTool", "BeforeAgent"],
        // Copilot CLI cannot block a prompt (`userPromptSubmitted`).
        Agent::Copilot => &["preToolUse"],
        Agent::Cursor => &[
            "preToolUse",
            "beforeShellExecution",
            "beforeReadFile",
            "beforeMCPExecution",
            "beforeSubmitPrompt",
        ],
    }
}

/// What marks an entry as keyguard's: the hook's own command line.
pub fn marker(agent: Agent) -> String {
    format!("agent-hook --agent {}", agent.name())
}

/// The shell command an entry runs. `binary` is where keyguard is (the
/// user's own settings), or `None` to find `keyguard` on PATH (a project
/// file, shared with teammates whose keyguard is elsewhere). keyguard
/// answers in its own exit codes (`--protocol 1`: 10 allow, 12 block), which
/// the command turns into the agent's 0 and 2; anything else (keyguard
/// missing, killed, or another program of that name) exits 2 with a
/// message. Every agent reads exit 2 as a block, so a teammate without
/// keyguard is told and blocked, never silently let through, and a crash
/// blocks even in the agents that let a failed hook through (Gemini CLI,
/// Codex). Only a timeout is left to the agent.
pub fn command_line(agent: Agent, binary: Option<&Path>, settings_file: &Path) -> String {
    let file = settings_file
        .display()
        .to_string()
        .replace(['"', '\\', '$', '`'], "_");
    let program = match binary {
        Some(binary) => shell_quote(&binary.to_string_lossy()),
        None => "keyguard".to_string(),
    };
    format!(
        "command -v {program} >/dev/null 2>&1 || {{ echo \"keyguard is not installed, so this \
         action is blocked. Install keyguard, or remove its hook from {file}.\" >&2; exit 2; }}; \
         {program} {} --protocol 1; rc=$?; [ $rc -eq {allow} ] && exit 0; [ $rc -eq {block} ] && exit 2; \
         echo \"keyguard did not answer (exit $rc), so this action is blocked.\" >&2; exit 2",
        marker(agent),
        allow = crate::cmd::agent_hook::PROTOCOL_ALLOW,
        block = crate::cmd::agent_hook::PROTOCOL_BLOCK,
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Options for the entry that depend on the agent's version.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryOptions {
    /// Claude Code 2.1.295 and later read `"onFailure": "block"`.
    pub claude_on_failure_block: bool,
}

/// The seconds an agent waits for keyguard before giving up; keyguard
/// answers in milliseconds, and bounds its input (`MAX_EVENT_BYTES`).
const TIMEOUT_SECONDS: u64 = 30;

/// keyguard's entry in the list of one event.
fn entry(agent: Agent, event: &str, command: &str, options: EntryOptions) -> Json {
    let command_hook = |timeout: Json| {
        let mut fields = vec![
            ("type", string("command")),
            ("command", string(command)),
            ("timeout", timeout),
        ];
        if agent == Agent::Claude && options.claude_on_failure_block {
            fields.push(("onFailure", string("block")));
        }
        object(&fields)
    };
    match agent {
        Agent::Claude => {
            let hook = command_hook(number(TIMEOUT_SECONDS));
            if event == "PreToolUse" {
                object(&[("matcher", string("*")), ("hooks", Json::Array(vec![hook]))])
            } else {
                object(&[("hooks", Json::Array(vec![hook]))])
            }
        }
        Agent::Gemini => {
            let hook = object(&[
                ("name", string("keyguard")),
                ("type", string("command")),
                ("command", string(command)),
                ("timeout", number(TIMEOUT_SECONDS * 1000)),
            ]);
            if event == "BeforeTool" {
                object(&[
                    ("matcher", string(".*")),
                    ("hooks", Json::Array(vec![hook])),
                ])
            } else {
                object(&[("hooks", Json::Array(vec![hook]))])
            }
        }
        // Codex reads a matcher group without `matcher` as matching every
        // tool, and `timeout` in seconds (codex-rs/hooks/src/engine/config.rs).
        Agent::Codex => object(&[(
            "hooks",
            Json::Array(vec![command_hook(number(TIMEOUT_SECONDS))]),
        )]),
        Agent::Copilot => object(&[
            ("type", string("command")),
            ("bash", string(command)),
            ("timeoutSec", number(TIMEOUT_SECONDS)),
        ]),
        Agent::Cursor => object(&[
            ("command", string(command)),
            ("failClosed", Json::Bool(true)),
        ]),
    }
}

/// Does `value` hold keyguard's command for `agent` anywhere?
fn is_ours(value: &Json, marker: &str) -> bool {
    match value {
        Json::String(s) => s.contains(marker),
        Json::Array(items) => items.iter().any(|item| is_ours(item, marker)),
        Json::Object(fields) => fields.iter().any(|(_, v)| is_ours(v, marker)),
        _ => false,
    }
}

/// Reads `path` as a settings document; a missing file is an empty one.
pub fn load(path: &Path) -> Result<Option<Json>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let document: Json = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "cannot parse {} as plain JSON (line {}, column {}: {}); keyguard does not \
             rewrite a settings file it cannot parse, so that no comment or setting is lost. \
             Add keyguard's hook by hand, or remove the comments first",
            path.display(),
            e.line(),
            e.column(),
            error_kind(&e)
        )
    })?;
    if !matches!(document, Json::Object(_)) {
        bail!(
            "{} does not hold a JSON object; left unchanged",
            path.display()
        );
    }
    Ok(Some(document))
}

/// The kind of a parse error, without the text serde_json may quote from
/// the file (a settings file can hold a token).
fn error_kind(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Syntax => "not JSON (comments and trailing commas are not)",
        serde_json::error::Category::Eof => "the file ends early",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "unreadable",
    }
}

/// Adds keyguard's entry for `agent` to `document` (a new one when
/// `None`); returns the document and whether it changed (`false`: the
/// entry was already there).
pub fn add(
    document: Option<Json>,
    agent: Agent,
    command: &str,
    options: EntryOptions,
) -> Result<(Json, bool)> {
    let mut document = document.unwrap_or_else(|| Json::Object(Vec::new()));
    let changed = add_to(&mut document, agent, command, options)?;
    Ok((document, changed))
}

fn add_to(document: &mut Json, agent: Agent, command: &str, options: EntryOptions) -> Result<bool> {
    let marker = marker(agent);
    if matches!(agent, Agent::Copilot | Agent::Cursor) && document.get("version").is_none() {
        // Both formats start with their version; a new file gets it first.
        if let Json::Object(fields) = document {
            fields.insert(0, ("version".to_string(), number(1)));
        }
    }
    let hooks = document.entry("hooks", Json::Object(Vec::new()));
    if !matches!(hooks, Json::Object(_)) {
        bail!("its \"hooks\" is not a JSON object");
    }
    let mut changed = false;
    for event in events(agent) {
        let list = hooks.entry(event, Json::Array(Vec::new()));
        let Json::Array(items) = list else {
            bail!("its \"hooks\".\"{event}\" is not a JSON array");
        };
        if items.iter().any(|item| is_ours(item, &marker)) {
            continue;
        }
        items.push(entry(agent, event, command, options));
        changed = true;
    }
    Ok(changed)
}

/// Takes keyguard's entries for `agent` out of `document`, and any list or
/// object that held only them; `false` when there were none.
pub fn remove(document: &mut Json, agent: Agent) -> bool {
    let marker = marker(agent);
    let Some(hooks) = document.get_mut("hooks") else {
        return false;
    };
    let mut changed = false;
    for event in events(agent) {
        let Some(Json::Array(items)) = hooks.get_mut(event) else {
            continue;
        };
        let before = items.len();
        for item in items.iter_mut() {
            // A matcher group the user also put hooks in: take ours only.
            if let Some(Json::Array(inner)) = item.get_mut("hooks") {
                if inner.len() > 1 {
                    let before = inner.len();
                    inner.retain(|hook| !is_ours(hook, &marker));
                    changed |= inner.len() != before;
                }
            }
        }
        items.retain(|item| !is_ours(item, &marker));
        changed |= items.len() != before;
        if items.is_empty() {
            hooks.remove(event);
        }
    }
    if hooks.is_empty_object() {
        document.remove("hooks");
    }
    changed
}

/// Whether `document`, after [`remove`], holds nothing of the user's: the
/// file keyguard created can go.
pub fn is_left_empty(document: &Json) -> bool {
    match document {
        Json::Object(fields) => fields
            .iter()
            .all(|(key, value)| key == "version" && matches!(value, Json::Number(_))),
        _ => false,
    }
}

/// The document as written back: two-space indents, a final newline.
pub fn render(document: &Json) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(document).context("cannot render the settings")?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The Claude Code version `claude --version` printed ("2.1.300 (Claude
/// Code)"), as numbers.
pub fn parse_version(output: &str) -> Option<(u64, u64, u64)> {
    let word = output.split_whitespace().next()?;
    let mut parts = word.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// The first Claude Code that reads `"onFailure": "block"` (its hooks
/// reference: "Requires Claude Code v2.1.295 or later").
pub const CLAUDE_ON_FAILURE_VERSION: (u64, u64, u64) = (2, 1, 295);

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    fn text(document: &Json) -> String {
        String::from_utf8(render(document).unwrap()).unwrap()
    }

    #[test]
    fn order_and_other_hooks_are_kept_and_ours_is_appended() {
        let before = r#"{"z": 1, "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}], "Stop": []}, "a": [1.5, null, true]}"#;
        let command = "kg agent-hook --agent claude";
        let (after, changed) = add(
            Some(parse(before)),
            Agent::Claude,
            command,
            EntryOptions::default(),
        )
        .unwrap();
        assert!(changed);
        let Json::Object(fields) = &after else {
            panic!()
        };
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "hooks", "a"]);
        let rendered = text(&after);
        let mine = rendered.find("\"mine\"").unwrap();
        let ours = rendered.find("kg agent-hook").unwrap();
        assert!(mine < ours, "appended after the user's hook:\n{rendered}");
        assert!(rendered.contains("1.5"), "{rendered}");
        // Twice changes nothing.
        let (again, changed) = add(
            Some(after.clone()),
            Agent::Claude,
            command,
            EntryOptions::default(),
        )
        .unwrap();
        assert!(!changed);
        assert_eq!(again, after);
        // And uninstall gives back the original document.
        let mut removed = after;
        assert!(remove(&mut removed, Agent::Claude));
        assert_eq!(removed, parse(before));
    }

    #[test]
    fn a_new_cursor_file_starts_with_its_version_and_leaves_nothing_when_removed() {
        let (mut document, _) = add(
            None,
            Agent::Cursor,
            "x agent-hook --agent cursor",
            EntryOptions::default(),
        )
        .unwrap();
        let rendered = text(&document);
        assert!(rendered.starts_with("{\n  \"version\": 1,"), "{rendered}");
        assert_eq!(
            rendered.matches("\"failClosed\": true").count(),
            5,
            "{rendered}"
        );
        assert!(remove(&mut document, Agent::Cursor));
        assert!(is_left_empty(&document));
    }

    #[test]
    fn a_shared_group_keeps_the_users_hook() {
        let mut document = parse(
            r#"{"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"command": "mine"}, {"command": "k agent-hook --agent claude"}]}]}}"#,
        );
        assert!(remove(&mut document, Agent::Claude));
        assert_eq!(
            document,
            parse(
                r#"{"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"command": "mine"}]}]}}"#
            )
        );
    }

    #[test]
    fn comments_are_refused_with_a_message_that_quotes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{\n  // my token: hunter2\n  \"a\": 1\n}\n").unwrap();
        let err = format!("{:#}", load(&path).unwrap_err());
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        std::fs::write(&path, "[1]").unwrap();
        assert!(load(&path).is_err());
    }

    #[test]
    fn claude_versions() {
        assert_eq!(parse_version("2.1.300 (Claude Code)\n"), Some((2, 1, 300)));
        assert!(parse_version("2.1.300 (Claude Code)").unwrap() >= CLAUDE_ON_FAILURE_VERSION);
        assert!(parse_version("2.1.29").unwrap() < CLAUDE_ON_FAILURE_VERSION);
        assert_eq!(parse_version("claude"), None);
    }
}
