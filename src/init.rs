//! `keyguard init`: guard `.env` from the start, as API-key guides advise.
//! Writes a starter `.keyguard.toml`, adds the protective lines to
//! `.gitignore`, and writes a `.env.example` holding the variable names of an
//! existing `.env` with empty values (never the values). Nothing that exists
//! is overwritten; running it twice changes nothing.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

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
    if config.exists() {
        done.push(format!("{CONFIG_FILE_NAME} already exists; left as it is"));
    } else {
        fs::write(&config, STARTER_CONFIG)
            .with_context(|| format!("cannot write {}", config.display()))?;
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
        fs::write(&gitignore, text)
            .with_context(|| format!("cannot write {}", gitignore.display()))?;
        done.push(format!("added to .gitignore: {}", missing.join(" ")));
    }

    let env = root.join(".env");
    let example = root.join(".env.example");
    if env.is_file() && !example.exists() {
        let text = fs::read(&env).with_context(|| format!("cannot read {}", env.display()))?;
        fs::write(&example, env_template(&String::from_utf8_lossy(&text)))
            .with_context(|| format!("cannot write {}", example.display()))?;
        done.push("wrote .env.example with the names from .env and empty values".to_string());
    }
    Ok(done)
}

/// `.env` text with every value removed: comments and blank lines stay,
/// `KEY=value` and `export KEY=value` become `KEY=` and `export KEY=`.
pub fn env_template(env: &str) -> String {
    let mut out = String::with_capacity(env.len());
    for line in env.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            out.push_str(line);
        } else if let Some((name, _value)) = line.split_once('=') {
            out.push_str(name.trim_end());
            out.push('=');
        }
        // A line that is neither a comment nor an assignment is dropped:
        // it may be a value continued from the line before.
        else {
            continue;
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_keeps_names_and_comments_only() {
        let value = ["s3", "cr3t", "v4lue"].concat();
        let env = format!("# database\nDB_URL={value}\nexport TOKEN = {value}\n\nEMPTY=\n");
        let template = env_template(&env);
        assert_eq!(template, "# database\nDB_URL=\nexport TOKEN=\n\nEMPTY=\n");
        assert!(!template.contains(&value));
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
