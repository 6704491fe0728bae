//! `keyguard agent-hook --agent NAME`: one coding-agent event on stdin →
//! what the action would write, run, send or read (`agent::event`) → the
//! same scanner, config, allow-list and baseline as the git hook, found
//! from the event's `cwd` → the agent's own answer (`agent::response`).
//!
//! It fails closed: bad JSON, an oversized event, a config it cannot read,
//! any error and any panic become the agent's block response, so that a
//! check that could not be made never lets the action through.

use std::io::{Read, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::agent::event::{self, Action, Edit, Event, Write};
use crate::agent::response::{self, Verdict};
use crate::agent::{shell, Agent, MAX_EVENT_BYTES};
use crate::baseline;
use crate::detect::Profile;
use crate::finding::{Finding, Origin};
use crate::git::{Comparison, FileBlobs, Repo};
use crate::lines::ChangedFile;
use crate::policy::PathGlobs;
use crate::report::agent::reason;
use crate::scan::Scanner;
use crate::settings::Settings;
use crate::text::escape_message;
use crate::Outcome;

/// Reads the event, decides, answers; never fails (see the module docs).
/// With `protocol`, the exit code is the installed entry's (10 allow, 12
/// block), which only keyguard gives: see `settings_file::command_line`.
pub fn run(settings: &Settings, agent: Agent, protocol: bool) -> Outcome {
    let (event_name, verdict) = guarded(|event_name| {
        let input = read_event(&mut std::io::stdin().lock())?;
        decide(settings, &input, event_name)
    });
    let answer = response::answer(agent, event_name.as_deref(), &verdict);
    // The agent reads the exit code first; an answer it cannot read in
    // full still blocks.
    let _ = std::io::stdout().lock().write_all(answer.stdout.as_bytes());
    let _ = std::io::stderr().lock().write_all(answer.stderr.as_bytes());
    Outcome::AgentAnswer(match (protocol, answer.exit_code) {
        (false, code) => code,
        (true, 0) => PROTOCOL_ALLOW,
        (true, _) => PROTOCOL_BLOCK,
    })
}

/// The installed entry's exit codes: keyguard's own, so that the entry can
/// tell its answer from a crash or from another program named `keyguard`.
pub const PROTOCOL_ALLOW: u8 = 10;
pub const PROTOCOL_BLOCK: u8 = 12;

/// Runs `decide`, turning its errors and panics into blocks; returns the
/// event's name, when `decide` got that far, and the verdict.
fn guarded(
    decide: impl FnOnce(&mut Option<String>) -> Result<Verdict>,
) -> (Option<String>, Verdict) {
    let mut event_name = None;
    // A panic's default message could quote the text being scanned (a
    // slice out of bounds prints the string): none is printed.
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let decided = panic::catch_unwind(AssertUnwindSafe(|| decide(&mut event_name)));
    panic::set_hook(previous_hook);
    let verdict = match decided {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(err)) => Verdict::Block(format!(
            "keyguard could not check this action, so it is blocked: {}",
            escape_message(&format!("{err:#}"))
        )),
        Err(_) => Verdict::Block(
            "keyguard failed while checking this action, so it is blocked \
             (a bug in keyguard: please report it)"
                .to_string(),
        ),
    };
    (event_name, verdict)
}

/// At most [`MAX_EVENT_BYTES`] from `input`; more is an error.
fn read_event(input: &mut dyn Read) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input
        .take(MAX_EVENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the hook event from standard input")?;
    if bytes.len() > MAX_EVENT_BYTES {
        bail!(
            "the hook event is larger than {} MiB, the most keyguard scans in one event",
            MAX_EVENT_BYTES >> 20
        );
    }
    Ok(bytes)
}

/// The verdict on one event; `event_name` is set as soon as it is known,
/// for the agents whose answer depends on it.
fn decide(settings: &Settings, input: &[u8], event_name: &mut Option<String>) -> Result<Verdict> {
    let event = event::parse(input)?;
    *event_name = Some(event.name.clone());
    let place = Place::of(&event);
    let (loaded, scanner) = super::load_scanner(settings, place.root.as_deref(), Profile::Hook)?;
    let allow_read =
        PathGlobs::new(&loaded.config.agent.allow_read).context("in [agent] allow_read")?;
    let judge = Judge {
        place: &place,
        scanner: &scanner,
        allow_read: &allow_read,
    };

    let mut changes: Vec<ChangedFile> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut reads: Vec<Finding> = Vec::new();
    for action in &event.actions {
        match action {
            Action::Write { path, content } => {
                if let Some(change) = judge.change(path, content) {
                    changes.push(change);
                }
            }
            Action::Command { text } => {
                let named = shell::named_files(text);
                findings.extend(
                    judge
                        .text("(command)", text)
                        .into_iter()
                        .filter(|finding| !judge.goes_where_keys_belong(&named, finding.line)),
                );
                reads.extend(named.reads.iter().filter_map(|word| judge.read(word)));
            }
            Action::Text { label, text } => findings.extend(judge.text(label, text)),
            Action::Read { path } => reads.extend(judge.read(path)),
            Action::ReadGlob { glob } => reads.extend(judge.read_glob(glob)),
            Action::ReadContent { path, content } => {
                reads.extend(judge.read(path));
                let repo_path = place.repo_path(path);
                if !scanner.policy().is_allowed(&repo_path) {
                    findings.extend(judge.text(&repo_path, content));
                }
            }
        }
    }
    findings.extend(scanner.scan_changes(&changes, &Origin::Worktree).findings);
    if let Some(path) = baseline::locate(settings.baseline.as_deref(), place.root.as_deref()) {
        baseline::Baseline::load(&path)?.filter(&mut findings);
    }
    if findings.is_empty() && reads.is_empty() {
        return Ok(Verdict::Allow);
    }
    let what = match &event.tool {
        Some(tool) => format!("this {} call", escape_message(tool)),
        None if event
            .actions
            .iter()
            .any(|a| matches!(a, Action::Text { label, .. } if label == "(prompt)")) =>
        {
            "this prompt".to_string()
        }
        None => format!("this {} event", escape_message(&event.name)),
    };
    Ok(Verdict::Block(reason(&what, &findings, &reads)))
}

/// Where the event happens: its working folder, and the repository that
/// holds it, whose config and baseline apply.
struct Place {
    cwd: PathBuf,
    root: Option<PathBuf>,
    repo: Option<Repo>,
}

impl Place {
    fn of(event: &Event) -> Place {
        let process_cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let cwd = match &event.cwd {
            Some(cwd) if Path::new(cwd).is_dir() => PathBuf::from(cwd),
            _ => process_cwd,
        };
        // The working folder's repository; else that of the first file
        // the event names.
        let first_file = event.actions.iter().find_map(|action| match action {
            Action::Write { path, .. }
            | Action::Read { path }
            | Action::ReadContent { path, .. } => Some(absolute(&cwd, path)),
            _ => None,
        });
        let root = find_root(&cwd).or_else(|| find_root(first_file?.parent()?));
        let repo = root
            .as_deref()
            .and_then(|root| Repo::open(root, None, Comparison::CacheTree).ok());
        Place { cwd, root, repo }
    }

    /// `path` as the policy and the baseline see it: relative to the
    /// repository root, `/`-separated; a path outside it as written, less a
    /// leading `/` or `~/` (names without a `/` still match at any depth).
    fn repo_path(&self, path: &str) -> String {
        let absolute = absolute(&self.cwd, path);
        if let Some(relative) = self
            .root
            .as_deref()
            .and_then(|root| absolute.strip_prefix(root).ok())
        {
            return relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
        }
        let path = path.strip_prefix("~/").unwrap_or(path);
        path.trim_start_matches("./")
            .trim_start_matches('/')
            .to_string()
    }

    fn is_ignored(&self, repo_path: &str) -> bool {
        self.repo
            .as_ref()
            .is_some_and(|repo| repo.is_ignored(repo_path))
    }
}

fn absolute(cwd: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// The nearest folder at or above `start` that holds a `.git`.
fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Judges the parts of one event against one repository's rules.
struct Judge<'a> {
    place: &'a Place,
    scanner: &'a Scanner,
    allow_read: &'a PathGlobs,
}

impl Judge<'_> {
    /// Findings in `text`, reported as `label`.
    fn text(&self, label: &str, text: &str) -> Vec<Finding> {
        self.scanner
            .scan_text(label, text, &Origin::Worktree)
            .findings
    }

    /// Whether every simple command on `line` of a shell command only
    /// copies text into secrets files git ignores (`echo KEY=… >> .env`, a
    /// heredoc into `.env.local`): a secret there goes where keys belong. A
    /// pipe, a substitution or another command on the line keeps it a
    /// finding.
    fn goes_where_keys_belong(&self, named: &shell::NamedFiles, line: u32) -> bool {
        let mut commands = named.commands_on(line).peekable();
        commands.peek().is_some()
            && commands.all(|command| {
                shell::FILE_WRITERS.contains(&command.program.as_str())
                    && !command.writes.is_empty()
                    && command
                        .writes
                        .iter()
                        .all(|file| self.is_ignored_secrets_file(file))
            })
    }

    fn is_ignored_secrets_file(&self, path: &str) -> bool {
        let repo_path = self.place.repo_path(path);
        self.scanner
            .policy()
            .secret_file_pattern(&repo_path)
            .is_some()
            && self.place.is_ignored(&repo_path)
    }

    /// A finding when `path` names a secrets file that config does not
    /// let an agent read.
    fn read(&self, path: &str) -> Option<Finding> {
        let repo_path = self.place.repo_path(path);
        let pattern = self.scanner.policy().secret_file_pattern(&repo_path)?;
        if self.allow_read.is_match(&repo_path) {
            return None;
        }
        Some(Finding::secret_file(
            &repo_path,
            &repo_path,
            pattern,
            Origin::Worktree,
        ))
    }

    /// A search over names matching `glob` reads a secrets file when the
    /// glob, its wildcards dropped, names one (`.env*`, `**/*.key`).
    fn read_glob(&self, glob: &str) -> Option<Finding> {
        let literal: String = glob
            .chars()
            .filter(|c| !matches!(c, '*' | '?' | '[' | ']' | '{' | '}'))
            .collect();
        self.read(&literal)
    }

    /// The file `path` as the write leaves it, against the file as it is:
    /// only what the write adds is scanned. `None` for a secrets file git
    /// ignores, where keys belong.
    fn change(&self, path: &str, content: &Write) -> Option<ChangedFile> {
        let repo_path = self.place.repo_path(path);
        if self
            .scanner
            .policy()
            .secret_file_pattern(&repo_path)
            .is_some()
            && self.place.is_ignored(&repo_path)
        {
            return None;
        }
        let current = read_current(&absolute(&self.place.cwd, path));
        let (old, new) = match content {
            Write::Whole(text) => (current, text.clone()),
            Write::Edits(edits) => {
                match current.as_deref().and_then(|text| apply_edits(text, edits)) {
                    Some(after) => (current, after),
                    // The file is not there, or the edit does not apply to
                    // it as it is: scan what the edit would insert.
                    None => (None, joined_new_text(edits)),
                }
            }
            Write::Added(text) => (None, text.clone()),
        };
        Some(ChangedFile::from_blobs(FileBlobs {
            path: repo_path,
            old_path: None,
            new: new.into_bytes(),
            old: old.map(String::into_bytes),
            other_parents: Vec::new(),
        }))
    }
}

/// The file as it is on disk, when it is a readable text file within the
/// event bound.
fn read_current(path: &Path) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_EVENT_BYTES as u64 {
        return None;
    }
    String::from_utf8(std::fs::read(path).ok()?).ok()
}

/// `current` with `edits` applied in order, as the agents apply them; `None`
/// when one does not apply.
fn apply_edits(current: &str, edits: &[Edit]) -> Option<String> {
    let mut text = current.to_string();
    for edit in edits {
        if edit.old.is_empty() {
            if !text.is_empty() {
                return None;
            }
            text.clone_from(&edit.new);
            continue;
        }
        if !text.contains(&edit.old) {
            return None;
        }
        text = if edit.all {
            text.replace(&edit.old, &edit.new)
        } else {
            text.replacen(&edit.old, &edit.new, 1)
        };
    }
    Some(text)
}

fn joined_new_text(edits: &[Edit]) -> String {
    edits
        .iter()
        .map(|edit| edit.new.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(old: &str, new: &str, all: bool) -> Edit {
        Edit {
            old: old.into(),
            new: new.into(),
            all,
        }
    }

    #[test]
    fn edits_apply_in_order_once_or_everywhere() {
        let text = "a = 1\nb = 1\n";
        assert_eq!(
            apply_edits(text, &[edit("1", "2", false)]).unwrap(),
            "a = 2\nb = 1\n"
        );
        assert_eq!(
            apply_edits(text, &[edit("1", "2", true), edit("b", "c", false)]).unwrap(),
            "a = 2\nc = 2\n"
        );
        assert_eq!(apply_edits(text, &[edit("zzz", "2", false)]), None);
        assert_eq!(
            apply_edits("", &[edit("", "new\n", false)]).unwrap(),
            "new\n"
        );
    }

    #[test]
    fn a_panic_and_an_error_are_blocks_that_quote_nothing() {
        let (name, verdict) = guarded(|name| {
            *name = Some("beforeSubmitPrompt".into());
            let text = "SECRET-VALUE";
            // A panic whose message quotes the text it was slicing.
            let _ = &text[..(text.len() + usize::from(name.is_some()))];
            Ok(Verdict::Allow)
        });
        assert_eq!(name.as_deref(), Some("beforeSubmitPrompt"));
        let Verdict::Block(reason) = verdict else {
            panic!("a panic must block");
        };
        assert!(
            reason.contains("failed while checking") && !reason.contains("SECRET"),
            "{reason}"
        );
        let (_, verdict) = guarded(|_| Err(anyhow::anyhow!("config broken")));
        assert_eq!(
            verdict,
            Verdict::Block(
                "keyguard could not check this action, so it is blocked: config broken".into()
            )
        );
    }

    #[test]
    fn an_oversized_event_is_refused() {
        let big = vec![b' '; MAX_EVENT_BYTES + 1];
        let err = read_event(&mut &big[..]).unwrap_err();
        assert!(err.to_string().contains("larger than 8 MiB"), "{err}");
        assert_eq!(read_event(&mut &b"{}"[..]).unwrap(), b"{}");
    }
}
