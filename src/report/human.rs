//! The human report: one block per finding, a summary, and what to do.

use std::io::Write;

use anyhow::Result;
use owo_colors::OwoColorize;

use super::HumanStyle;
use crate::finding::Finding;
use crate::finding::ScanReport;
use crate::install::Hook;
use crate::messages::{self, Message};

pub fn write<W: Write>(report: &ScanReport, style: HumanStyle, out: &mut W) -> Result<()> {
    let paint = Painter(style.color);
    for finding in &report.findings {
        let path = quote_path(&finding.path);
        let location = match finding.origin.commit() {
            Some(commit) => format!(
                "{} {path}:{}:{}",
                &commit[..commit.len().min(12)],
                finding.line,
                finding.column
            ),
            None => format!("{path}:{}:{}", finding.line, finding.column),
        };
        writeln!(
            out,
            "{}  {}  {}",
            paint.bold(&location),
            paint.red(&finding.rule_id),
            finding.description
        )?;
        writeln!(out, "    {}", paint.yellow(&finding.redacted()))?;
        let hint = hint(finding);
        let lines = wrap(
            &hint,
            style
                .wrap_width
                .map(|w| w.saturating_sub(HINT_INDENT.len())),
        );
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                writeln!(out, "    {} {line}", paint.dim("hint:"))?;
            } else {
                writeln!(out, "{HINT_INDENT}{line}")?;
            }
        }
    }
    for error in &report.errors {
        writeln!(out, "{} {error}", paint.red("error:"))?;
    }
    let stats = &report.stats;
    let has_findings = !report.findings.is_empty();
    if style.quiet && !has_findings && report.errors.is_empty() {
        return Ok(());
    }
    if !style.quiet {
        let mut skipped = String::new();
        if stats.binary_skipped > 0 {
            skipped.push_str(&format!(", {} binary skipped", stats.binary_skipped));
        }
        if stats.allowed_skipped > 0 {
            skipped.push_str(&format!(
                ", {} skipped by allow.paths",
                stats.allowed_skipped
            ));
        }
        let files = format!(
            "{} file{}",
            stats.files_scanned,
            plural(stats.files_scanned)
        );
        let scanned = match stats.commits_scanned {
            Some(commits) => format!("{commits} commit{} ({files})", plural(commits)),
            None => files,
        };
        let staged_scan = style.blocking.is_some_and(|hook| hook != Hook::PrePush);
        let nothing_read = stats.files_scanned + stats.binary_skipped + stats.allowed_skipped == 0;
        let summary = if staged_scan && nothing_read && report.errors.is_empty() {
            format!(
                "keyguard: 0 findings: nothing staged adds a line to scan ({} ms). \
                 Stage changes with `git add`, or scan every file with `keyguard --all`.",
                stats.duration_ms
            )
        } else {
            format!(
                "keyguard: {} finding{} in {scanned} scanned{skipped} ({} ms)",
                report.findings.len(),
                plural(report.findings.len() as u64),
                stats.duration_ms
            )
        };
        if has_findings {
            writeln!(out, "\n{}", paint.red(&summary))?;
        } else {
            writeln!(out, "{}", paint.green(&summary))?;
        }
    }
    if let Some(hook) = style.blocking.filter(|_| has_findings) {
        let message = Message::Blocked {
            hook,
            pre_commit_framework: style.pre_commit_framework,
        };
        messages::write(&message, out, style.color)?;
    }
    Ok(())
}

/// A path, unchanged unless it holds a control character; then quoted as
/// git quotes it (see [`crate::text::quote_name`]), so that a file name
/// cannot forge or break a line of the report.
pub(crate) fn quote_path(path: &str) -> String {
    crate::text::quote_name(path).into_owned()
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Where a hint's text starts: after `    hint: `.
const HINT_INDENT: &str = "          ";

/// `text` in lines of at most `width` characters, broken only at spaces
/// outside back-quotes, so that a command (`git rm --cached .env`) is never
/// split across lines; a piece longer than `width` gets a line of its own.
/// No width: one line.
fn wrap(text: &str, width: Option<usize>) -> Vec<String> {
    let Some(width) = width.filter(|&w| w >= 20) else {
        return vec![text.to_string()];
    };
    // Pieces: runs between the spaces that are outside back-quotes.
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '`' => quoted = !quoted,
            ' ' if !quoted => {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    let mut lines = Vec::new();
    let mut line = String::new();
    for piece in pieces.into_iter().filter(|p| !p.is_empty()) {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + piece.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(piece);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// What to do about this finding, in the idiom of the file's language.
pub(crate) fn hint(finding: &Finding) -> String {
    if finding.is_secret_file() {
        return format!(
            "keep this file out of git: `git rm --cached {0}` (it stays on disk), add it to .gitignore, \
             and commit a template (e.g. .env.example) with empty values instead",
            quote_path(&finding.path)
        );
    }
    let var = finding.env_var().unwrap_or("SECRET");
    let lookup = env_lookup(&finding.path, var);
    format!("load it from the environment ({lookup}) and, if it was ever pushed, rotate it")
}

pub(crate) fn env_lookup(path: &str, var: &str) -> String {
    let extension = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "py" | "ipynb" => format!("os.environ[\"{var}\"]"),
        "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" => format!("process.env.{var}"),
        "go" => format!("os.Getenv(\"{var}\")"),
        "rb" => format!("ENV[\"{var}\"]"),
        "rs" => format!("std::env::var(\"{var}\")"),
        "java" | "kt" | "scala" => format!("System.getenv(\"{var}\")"),
        "cs" => format!("Environment.GetEnvironmentVariable(\"{var}\")"),
        "php" => format!("getenv('{var}')"),
        "sh" | "bash" | "zsh" | "yml" | "yaml" | "toml" | "tf" => format!("${{{var}}}"),
        _ => format!("${var}"),
    }
}

/// Applies colour only when enabled, so the same code renders both.
struct Painter(bool);

impl Painter {
    fn bold(&self, s: &str) -> String {
        if self.0 {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }
    fn red(&self, s: &str) -> String {
        if self.0 {
            s.red().to_string()
        } else {
            s.to_string()
        }
    }
    fn green(&self, s: &str) -> String {
        if self.0 {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }
    fn yellow(&self, s: &str) -> String {
        if self.0 {
            s.yellow().to_string()
        } else {
            s.to_string()
        }
    }
    fn dim(&self, s: &str) -> String {
        if self.0 {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_control_characters_are_quoted() {
        assert_eq!(quote_path("a b.py"), "a b.py");
        assert_eq!(quote_path("x\ny.py"), "\"x\\ny.py\"");
    }

    #[test]
    fn hints_wrap_at_the_width_without_splitting_a_command() {
        let text = "keep this file out of git: `git rm --cached config/.env` (it stays on disk), \
                    add it to .gitignore, and commit a template (e.g. .env.example) with empty \
                    values instead";
        for width in [20, 30, 44, 60, 80] {
            let lines = wrap(text, Some(width));
            assert_eq!(lines.join(" "), text, "width {width}: text lost or changed");
            for line in &lines {
                let ticks = line.matches('`').count();
                assert_eq!(ticks % 2, 0, "width {width}: a command split: {line:?}");
                assert!(
                    line.chars().count() <= width || !line.contains(' ') || line.starts_with('`'),
                    "width {width}: {line:?} is too long"
                );
            }
        }
        assert_eq!(
            wrap(text, None),
            vec![text.to_string()],
            "no terminal: one line"
        );
        assert!(wrap(text, Some(44))
            .iter()
            .any(|l| l.contains("`git rm --cached config/.env`")));
    }

    #[test]
    fn hints_speak_the_file_language() {
        assert_eq!(
            env_lookup("app/main.py", "OPENAI_API_KEY"),
            "os.environ[\"OPENAI_API_KEY\"]"
        );
        assert_eq!(env_lookup("index.ts", "X"), "process.env.X");
        assert_eq!(env_lookup("Makefile", "X"), "$X");
    }
}
