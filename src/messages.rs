//! Every message keyguard says to the user outside the report itself
//! (errors, warnings, notes, `--verbose` and `--timings` lines, what
//! install and baseline did) and the help a blocked hook prints: one enum,
//! one renderer. Commands build a [`Message`] and hand it to
//! [`Settings::say`](crate::settings::Settings::say); nothing else prints.

use std::fmt::Display;
use std::io::{self, Write};
use std::path::Path;

use owo_colors::OwoColorize;

use crate::agent::Agent;
use crate::config::LoadedConfig;
use crate::finding::FingerprintKey;
use crate::install::{Hook, Installed, Uninstalled};
use crate::policy::CodeKind;
use crate::text::{escape_control, quote_name};

/// A user-facing message. Each renders as one or more lines that start
/// with `keyguard: ` (but [`Message::Blocked`], part of the report).
pub enum Message<'a> {
    /// The run failed: the error chain, already escaped.
    Fatal(&'a str),
    /// A part of the scan that could not be done (the run exits 2).
    ScanError(&'a dyn Display),
    /// A `.env` at the root that git does not ignore.
    UnignoredEnv,
    /// Fingerprints that will differ on the next run.
    EphemeralFingerprints,
    /// After a full or PATH scan: how many findings sit in test or vendored
    /// folders, and a path-scoped way to accept them.
    TestAndVendored {
        total: usize,
        /// (kind, folder, findings there), most findings first.
        folders: &'a [(CodeKind, String, usize)],
    },
    /// `--verbose`: the configuration in force and what it turns off.
    Configuration(&'a LoadedConfig),
    /// `--verbose`: how many findings the baseline accepted.
    BaselineAccepted {
        accepted: usize,
        path: &'a Path,
    },
    /// `keyguard baseline` wrote the file.
    BaselineWritten {
        path: &'a Path,
        total: usize,
        added: usize,
        pruned: usize,
    },
    /// One thing `keyguard init` did or left alone.
    Init(&'a str),
    Installed {
        hook: Hook,
        what: &'a Installed,
    },
    Uninstalled {
        hook: Hook,
        what: &'a Uninstalled,
    },
    /// `--timings`: one phase.
    Timing {
        phase: &'a str,
        micros: u128,
    },
    /// `--timings`: which way the index was compared with HEAD.
    Comparison {
        how: String,
    },
    /// `--timings`: the rule regexes compiled during the scan phases.
    RegexBuilds {
        count: u64,
        micros: u128,
    },
    /// `--timings`: one line of the detector's profile (`detect::profile`).
    DetectorProfile(&'a str),
    /// The help after a report that blocks a commit or push.
    Blocked {
        hook: Hook,
        /// Run by the pre-commit framework, which skips one hook by id.
        pre_commit_framework: bool,
    },
    /// `install --agent`: the settings file, and whether it changed.
    AgentInstalled {
        agent: Agent,
        path: &'a Path,
        changed: bool,
    },
    /// `uninstall --agent`.
    AgentUninstalled {
        agent: Agent,
        path: &'a Path,
        changed: bool,
    },
    /// What an agent cannot guarantee, said when its hook is installed.
    AgentNote(&'a str),
}

/// Writes `message` to `out`, coloured when `color` is on.
pub fn write(message: &Message, out: &mut dyn Write, color: bool) -> io::Result<()> {
    match message {
        Message::Fatal(text) => writeln!(out, "keyguard: error: {text}"),
        Message::ScanError(error) => writeln!(out, "keyguard: error: {error}"),
        Message::UnignoredEnv => writeln!(
            out,
            "keyguard: warning: .env is not ignored by git; add it to .gitignore (`keyguard init` does)"
        ),
        Message::EphemeralFingerprints => writeln!(
            out,
            "keyguard: note: fingerprints are keyed for this run only (no commit, a shallow clone, or no repository); set {} for stable ones",
            FingerprintKey::ENV_VAR
        ),
        Message::TestAndVendored { total, folders } => write_test_and_vendored(*total, folders, out),
        Message::Configuration(loaded) => write_configuration(loaded, out),
        Message::BaselineAccepted { accepted, path } => writeln!(
            out,
            "keyguard: {accepted} finding(s) accepted by the baseline {}",
            path.display()
        ),
        Message::BaselineWritten {
            path,
            total,
            added,
            pruned,
        } => writeln!(
            out,
            "keyguard: {} holds {total} accepted finding(s): {added} added, {pruned} pruned",
            path.display()
        ),
        Message::Init(line) => writeln!(out, "keyguard: {line}"),
        Message::Installed { hook, what } => write_installed(*hook, what, out),
        Message::Uninstalled { hook, what } => write_uninstalled(*hook, what, out),
        Message::Timing { phase, micros } => {
            writeln!(out, "keyguard: timing: {phase}: {micros} µs")
        }
        Message::Comparison { how } => {
            writeln!(out, "keyguard: timing: index compared with HEAD through {how}")
        }
        Message::DetectorProfile(line) => writeln!(out, "keyguard: timing: {line}"),
        Message::RegexBuilds { count, micros } => writeln!(
            out,
            "keyguard: timing: (of which compiling {count} rule regexes: {micros} µs)"
        ),
        Message::Blocked {
            hook,
            pre_commit_framework,
        } => write_blocked(*hook, *pre_commit_framework, out, color),
        Message::AgentInstalled {
            agent,
            path,
            changed,
        } => writeln!(
            out,
            "keyguard: {} {}'s hook in {}",
            if *changed { "added" } else { "already had" },
            agent.display_name(),
            path.display()
        ),
        Message::AgentUninstalled {
            agent,
            path,
            changed,
        } => writeln!(
            out,
            "keyguard: {} {}'s hook {} {}",
            if *changed { "removed" } else { "found no" },
            agent.display_name(),
            if *changed { "from" } else { "in" },
            path.display()
        ),
        Message::AgentNote(text) => writeln!(out, "keyguard: note: {text}"),
    }
}

fn write_configuration(loaded: &LoadedConfig, out: &mut dyn Write) -> io::Result<()> {
    let config = &loaded.config;
    match &loaded.path {
        Some(path) => writeln!(out, "keyguard: configuration: {}", path.display())?,
        None => writeln!(
            out,
            "keyguard: configuration: built-in defaults (no .keyguard.toml)"
        )?,
    }
    if !config.disabled_rules.is_empty() {
        writeln!(
            out,
            "keyguard: rules disabled by configuration: {}",
            config.disabled_rules.join(", ")
        )?;
    }
    if !config.allow.paths.is_empty() {
        writeln!(
            out,
            "keyguard: paths never scanned: {}",
            config.allow.paths.join(", ")
        )?;
    }
    if !config.allow.values.is_empty() {
        writeln!(
            out,
            "keyguard: values allowed by regex: {}",
            escape_control(&config.allow.values.join(", "))
        )?;
    }
    if config.secret_files.patterns.is_some() {
        writeln!(
            out,
            "keyguard: the built-in secret-file list is replaced by configuration"
        )?;
    }
    if !config.secret_files.allow.is_empty() {
        writeln!(
            out,
            "keyguard: secret files allowed: {}",
            config.secret_files.allow.join(", ")
        )?;
    }
    if !config.rules.is_empty() {
        let ids: Vec<&str> = config.rules.iter().map(|r| r.id.as_ref()).collect();
        writeln!(out, "keyguard: custom rules: {}", ids.join(", "))?;
    }
    Ok(())
}

fn write_installed(kind: Hook, what: &Installed, out: &mut dyn Write) -> io::Result<()> {
    let name = kind.file_name();
    match what {
        Installed::New { hook } => {
            writeln!(
                out,
                "keyguard: installed the {name} hook at {}",
                hook.display()
            )
        }
        Installed::Chained {
            hook,
            previous,
            retired,
        } => {
            if let Some(backup) = retired {
                writeln!(
                    out,
                    "keyguard: kept the earlier {name} hook as {}; it no longer runs",
                    backup.display()
                )?;
            }
            writeln!(
                out,
                "keyguard: installed the {name} hook at {}; the hook that was there runs first, from {}",
                hook.display(),
                previous.display()
            )
        }
        Installed::Updated { hook } => {
            writeln!(
                out,
                "keyguard: updated the {name} hook at {}",
                hook.display()
            )
        }
        Installed::AlreadyInstalled { hook } => writeln!(
            out,
            "keyguard: the {name} hook is already installed at {}; nothing changed",
            hook.display()
        ),
    }
}

fn write_uninstalled(kind: Hook, what: &Uninstalled, out: &mut dyn Write) -> io::Result<()> {
    match what {
        Uninstalled::Removed { hook } => writeln!(
            out,
            "keyguard: removed the {} hook {}",
            kind.file_name(),
            hook.display()
        ),
        Uninstalled::Restored { hook } => writeln!(
            out,
            "keyguard: removed keyguard and restored the previous hook at {}",
            hook.display()
        ),
        Uninstalled::NotInstalled { hook } => writeln!(
            out,
            "keyguard: keyguard is not installed at {}; nothing changed",
            hook.display()
        ),
    }
}

/// How to go on after a blocked commit or push.
fn write_blocked(
    hook: Hook,
    pre_commit_framework: bool,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let action = hook.action();
    let headline = if hook == Hook::PrePush {
        "The push was blocked: the commits it would send add the secrets above.".to_string()
    } else {
        format!("The {action} was blocked: it would add the secrets above.")
    };
    if color {
        writeln!(out, "{}", headline.bold())?;
    } else {
        writeln!(out, "{headline}")?;
    }
    if hook == Hook::PrePush {
        // The secret is in commits already made: editing the file now
        // leaves it in them, and they are what the push sends.
        writeln!(out, "  - Rotate the secret at its provider if it was ever shared: rewriting history does not make it secret again.")?;
        writeln!(out, "  - Take it out of the commits that add it (each finding names its commit): `git commit --amend` for the last")?;
        writeln!(out, "    one, `git rebase -i <remote branch>` and edit the others; a new commit that deletes it still sends the old one.")?;
        writeln!(out, "  - Reviewed and accepted (a revoked key, a test fixture)? Record it: keyguard baseline --history <remote branch>..")?;
        writeln!(out, "    and commit .keyguard-baseline.json (hashes only).")?;
    } else {
        writeln!(out, "  - Take the secret out of the file (load it from the environment), then `git add` the file again,")?;
        writeln!(out, "    or unstage the file: git restore --staged <file>")?;
        writeln!(out, "  - If the secret was ever pushed or shared, rotate it: deleting it does not make it secret again.")?;
    }
    writeln!(out, "  - Not a secret? Add `keyguard:allow` in a comment on that line, or allow it in .keyguard.toml.")?;
    if pre_commit_framework {
        // The framework's own switch skips keyguard and keeps its other hooks.
        writeln!(
            out,
            "  - To {action} anyway (not recommended): SKIP=keyguard git {action}"
        )
    } else {
        writeln!(
            out,
            "  - To {action} anyway (not recommended): git {action} --no-verify"
        )
    }
}

/// The folders are shown at most this many at a time.
const MAX_FOLDERS_SHOWN: usize = 8;

fn write_test_and_vendored(
    total: usize,
    folders: &[(CodeKind, String, usize)],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let inside: usize = folders.iter().map(|(_, _, n)| n).sum();
    writeln!(
        out,
        "keyguard: {inside} of {total} finding(s) are in test or vendored code:"
    )?;
    let shown = &folders[..folders.len().min(MAX_FOLDERS_SHOWN)];
    let width = shown.iter().map(|(_, f, _)| f.len()).max().unwrap_or(0);
    for (kind, folder, count) in shown {
        let kind = match kind {
            CodeKind::Test => "test code",
            CodeKind::Vendored => "vendored",
        };
        writeln!(out, "    {:width$}  {count} ({kind})", quote_name(folder))?;
    }
    if folders.len() > shown.len() {
        writeln!(
            out,
            "    ... and {} more folder(s)",
            folders.len() - shown.len()
        )?;
    }
    writeln!(
        out,
        "keyguard: if these are fixtures or a vendor's examples, not live keys, accept them by path in .keyguard.toml, folder by folder:"
    )?;
    let paths: Vec<String> = shown
        .iter()
        .map(|(_, folder, _)| format!("{:?}", quote_name(folder)))
        .collect();
    writeln!(out, "    [allow]\n    paths = [{}]", paths.join(", "))?;
    writeln!(
        out,
        "keyguard: a real key is leaked wherever it sits, test code included: rotate it at the provider first."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(message: &Message, color: bool) -> String {
        let mut out = Vec::new();
        write(message, &mut out, color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn blocked_help_names_the_git_command() {
        let push = render(
            &Message::Blocked {
                hook: Hook::PrePush,
                pre_commit_framework: false,
            },
            false,
        );
        assert!(push.starts_with("The push was blocked"), "{push}");
        assert!(push.ends_with("git push --no-verify\n"), "{push}");
        // The secret is in commits: the help is about them, not the file.
        for advice in ["Rotate", "git rebase -i", "keyguard baseline --history"] {
            assert!(push.contains(advice), "{advice}: {push}");
        }
        assert!(!push.contains("git restore --staged"), "{push}");
        let merge = render(
            &Message::Blocked {
                hook: Hook::PreMergeCommit,
                pre_commit_framework: false,
            },
            false,
        );
        assert!(merge.contains("git commit --no-verify"), "{merge}");
        let framework = render(
            &Message::Blocked {
                hook: Hook::PreCommit,
                pre_commit_framework: true,
            },
            false,
        );
        assert!(
            framework.ends_with("SKIP=keyguard git commit\n"),
            "{framework}"
        );
        assert!(!framework.contains("--no-verify"), "{framework}");
    }

    #[test]
    fn colour_only_when_asked() {
        let blocked = Message::Blocked {
            hook: Hook::PreCommit,
            pre_commit_framework: false,
        };
        assert!(!render(&blocked, false).contains('\u{1b}'));
        assert!(render(&blocked, true).contains('\u{1b}'));
    }

    #[test]
    fn a_retired_hook_is_named_before_the_install() {
        let what = Installed::Chained {
            hook: "h/pre-commit".into(),
            previous: "h/pre-commit.keyguard-chained".into(),
            retired: Some("h/pre-commit.keyguard-chained.bak".into()),
        };
        let text = render(
            &Message::Installed {
                hook: Hook::PreCommit,
                what: &what,
            },
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0]
            .contains("kept the earlier pre-commit hook as h/pre-commit.keyguard-chained.bak"));
        assert!(lines[1].starts_with("keyguard: installed the pre-commit hook at h/pre-commit;"));
    }
}
