//! `keyguard init`: guard `.env` from the start, as API-key guides advise.
//! Writes a starter `.keyguard.toml`, adds the protective lines to
//! `.gitignore`, and writes a `.env.example` holding the variable names of an
//! existing `.env` with empty values (never the values, never its comments).
//! Nothing that exists is overwritten; running it twice changes nothing.
//! Each file is written atomically (`atomic_write`): a failure leaves the
//! old `.gitignore` whole.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::atomic_write::write_atomic;
use crate::config::CONFIG_FILE_NAME;

/// The lines `.gitignore` should hold, in order.
pub const PROTECTIVE_GITIGNORE_LINES: &[&str] = &[
    ".env",
    ".env.*",
    "!.env.example",
    "*.key",
    "config/secrets.json",
    "**/private/*.json",
];

const STARTER_CONFIG: &str = r#"# keyguard configuration. keyguard works without it; every key is optional.
# config.example.toml in keyguard's repository documents each one.

# Rule ids to turn off (`keyguard rules` lists them).
disabled_rules = []

[allow]
# Files never scanned (globs from the repository root).
paths = []
# Regexes: secrets matching one are never reported.
values = []

[secret_files]
# More file names that block a commit whatever they hold.
extra = []
# File names that may be committed after all.
allow = []
"#;

/// What `init` did, one line each.
pub fn run(root: &Path) -> Result<Vec<String>> {
    let mut done = Vec::new();

    let config = root.join(CONFIG_FILE_NAME);
    if exists(&config) {
        done.push(format!("{CONFIG_FILE_NAME} already exists; left as it is"));
    } else {
        write_atomic(&config, STARTER_CONFIG.as_bytes())?;
        done.push(format!("wrote {CONFIG_FILE_NAME}"));
    }

    let gitignore = root.join(".gitignore");
    let existing = match fs::read_to_string(&gitignore) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", gitignore.display())),
    };
    let present: Vec<&str> = existing.lines().map(str::trim).collect();
    let missing: Vec<&str> = PROTECTIVE_GITIGNORE_LINES
        .iter()
        .copied()
        .filter(|line| !present.contains(line))
        .collect();
    if missing.is_empty() {
        done.push(".gitignore already keeps secrets out".to_string());
    } else {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str("# Keep secrets out of git (added by keyguard init)\n");
        for line in &missing {
            text.push_str(line);
            text.push('\n');
        }
        write_atomic(&gitignore, text.as_bytes())?;
        done.push(format!("added to .gitignore: {}", missing.join(" ")));
    }

    let env = root.join(".env");
    let example = root.join(".env.example");
    if env.is_file() && !exists(&example) {
        let text = fs::read(&env).with_context(|| format!("cannot read {}", env.display()))?;
        write_atomic(
            &example,
            env_template(&String::from_utf8_lossy(&text)).as_bytes(),
        )?;
        done.push("wrote .env.example with the names from .env and empty values".to_string());
    }
    Ok(done)
}

/// A file, folder or symlink (even a dangling one) is there: `init` does
/// not create the file a dangling link points to, wherever that is.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// `.env` text reduced to its variable names: `NAME=value` and
/// `export NAME=value` become `NAME=` and `export NAME=`, a commented-out
/// assignment becomes `# NAME=`, and blank lines stay. Every other line is
/// dropped: other comments (`# old key: ...` may hold a live one) and the
/// continuation lines of a quoted value spanning lines (a PEM key), whose
/// base64 can look like `NAME=` itself.
pub fn env_template(env: &str) -> String {
    let mut out = String::with_capacity(env.len().min(1 << 16));
    // Inside a quoted value that spans lines: its quote character.
    let mut open_quote: Option<char> = None;
    for line in env.lines() {
        if let Some(quote) = open_quote {
            if closing_quote(line, quote).is_some() {
                open_quote = None;
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            out.push('\n');
            continue;
        }
        let (commented, statement) = match trimmed.strip_prefix('#') {
            Some(comment) => (true, comment.trim_start()),
            None => (false, trimmed),
        };
        let Some(assignment) = Assignment::parse(statement) else {
            continue;
        };
        // A commented-out value may span lines too: skip them all.
        open_quote = assignment.unclosed_quote;
        if commented {
            out.push_str("# ");
        }
        if assignment.export {
            out.push_str("export ");
        }
        out.push_str(assignment.name);
        out.push_str("=\n");
    }
    out
}

/// One `[export ]NAME=value` line, as far as a template needs it.
struct Assignment<'a> {
    export: bool,
    name: &'a str,
    /// The value opens a quote this line does not close.
    unclosed_quote: Option<char>,
}

impl Assignment<'_> {
    fn parse(line: &str) -> Option<Assignment<'_>> {
        let (export, rest) = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => (true, rest.trim_start()),
            _ => (false, line),
        };
        let (name, value) = rest.split_once('=')?;
        let name = name.trim_end();
        if !is_variable_name(name) {
            return None;
        }
        let value = value.trim_start();
        let unclosed_quote = value
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))
            .filter(|&quote| closing_quote(&value[1..], quote).is_none());
        Some(Assignment {
            export,
            name,
            unclosed_quote,
        })
    }
}

/// A dotenv variable name: a letter or `_`, then letters, digits, `_` or
/// `.`. A name that looks like base64 (long, with upper and lower case and
/// digits, no `_`) is refused too: it is a line of key material that slipped
/// past the quote tracking (an unquoted or broken multi-line value).
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let looks_like_base64 = name.len() >= 24
        && !name.contains('_')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().any(|c| c.is_ascii_digit());
    starts_well && rest_ok && !looks_like_base64
}

/// Where `quote` closes in `text` (a backslash escapes it inside `"`, as
/// dotenv parsers read double-quoted values).
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_keeps_names_only() {
        let value = ["s3", "cr3t", "v4lue"].concat();
        let env = format!(
            "# database\nDB_URL={value}\nexport TOKEN = {value}\n\nEMPTY=\n# note: {value}\n"
        );
        let template = env_template(&env);
        assert_eq!(template, "DB_URL=\nexport TOKEN=\n\nEMPTY=\n");
        assert!(!template.contains(&value));
    }

    #[test]
    fn commented_out_assignments_keep_their_name_only() {
        let value = ["sk_li", "ve_", "0123456789abcdef"].concat();
        let env = format!("#OLD_KEY={value}\n  # export NEXT_KEY=\"{value}\" # rotate\nA=1\n");
        assert_eq!(env_template(&env), "# OLD_KEY=\n# export NEXT_KEY=\nA=\n");
    }

    #[test]
    fn multi_line_values_are_skipped_whole() {
        // Base64 lines whose `=` padding makes them look like assignments.
        let body = [
            "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WG",
            "eKLs1Pt8Qu=",
        ]
        .concat();
        let last = ["KLs1Pt8QuKJHGfedcba", "0123456789ABCDEFGHijk=="].concat();
        for quote in ['"', '\'', '`'] {
            let env = format!(
                "KEY={quote}-----BEGIN RSA PRIVATE KEY-----\n{body}\n{last}\n-----END RSA PRIVATE KEY-----{quote}\nAFTER=1\n"
            );
            assert_eq!(env_template(&env), "KEY=\nAFTER=\n", "quote {quote}");
        }
        // An escaped quote does not close a double-quoted value.
        let env = format!("KEY=\"a\\\"\nb{body}\nc\"\nAFTER=1\n");
        assert_eq!(env_template(&env), "KEY=\nAFTER=\n");
        // One that never closes takes the rest of the file with it.
        assert_eq!(
            env_template(&format!("A=1\nKEY=\"x\n{body}\nB=2\n")),
            "A=\nKEY=\n"
        );
        // Key material outside quotes is still not a name.
        assert_eq!(env_template(&format!("{body}\n")), "");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_env_example_link_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".env"), "A=1\n").unwrap();
        let outside = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&outside, dir.path().join(".env.example")).unwrap();
        run(dir.path()).unwrap();
        assert!(
            !outside.exists(),
            "init created the file a dangling link points to"
        );
    }

    #[test]
    fn init_is_idempotent_and_keeps_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".gitignore"), "target\n.env").unwrap();
        fs::write(dir.path().join(".env"), "A=1\n").unwrap();
        run(dir.path()).unwrap();
        let first = fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert!(first.starts_with("target\n.env\n"));
        assert_eq!(first.matches(".env\n").count(), 1, "{first}");
        assert!(first.contains("!.env.example\n"));
        assert_eq!(
            fs::read_to_string(dir.path().join(".env.example")).unwrap(),
            "A=\n"
        );
        run(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            first
        );
    }
}
