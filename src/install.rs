//! `keyguard install` / `keyguard uninstall`: the shims in the hooks folder.
//!
//! A hook that is already there and is not ours is never overwritten: it is
//! moved aside to `<hook>.keyguard-chained` and the shim runs it first.
//! Uninstalling moves it back. Both are idempotent, and no sequence of them
//! loses a hook keyguard did not write: a hook in the way of another is
//! kept under a backup name that is never reused.
//!
//! The shim asks the binary for the hook protocol (`--hook-protocol 1`),
//! and only the exit codes below count as keyguard's answer.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};

const CHAINED_SUFFIX: &str = ".keyguard-chained";

/// `--hook-protocol 1`: exit codes no unrelated program gives by accident,
/// so that the shim can tell keyguard's answer from an impostor's exit 0.
pub const PROTOCOL_CLEAN: u8 = 10;
pub const PROTOCOL_FINDINGS: u8 = 11;
pub const PROTOCOL_INCOMPLETE: u8 = 12;

/// The shim, one script for every hook: `@HOOK@` is the hook's name and
/// `@KEYGUARD_BIN@` the binary's path.
const SHIM: &str = include_str!("../hooks/shim");
/// Shims earlier versions wrote, recognised so that they are updated in
/// place rather than chained as somebody else's hook.
const OLD_SHIMS: &[(Hook, &str)] = &[
    (Hook::PreCommit, include_str!("../hooks/v1/pre-commit")),
    (Hook::PrePush, include_str!("../hooks/v1/pre-push")),
];

/// The hooks keyguard can install, and the hook a run is answering
/// (`--hook`, which names only the commit hooks: pre-push has its own flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Hook {
    /// Scans what is staged, on every commit.
    PreCommit,
    /// Scans what an automatic `git merge` commits.
    PreMergeCommit,
    /// Scans what `git am` commits, patch by patch.
    PreApplypatch,
    /// Scans the commits being pushed.
    #[value(skip)]
    PrePush,
}

/// What `keyguard install` puts in by default: every hook through which git
/// creates a commit from the index.
pub const COMMIT_HOOKS: [Hook; 3] = [Hook::PreCommit, Hook::PreMergeCommit, Hook::PreApplypatch];

impl Hook {
    pub fn file_name(self) -> &'static str {
        match self {
            Hook::PreCommit => "pre-commit",
            Hook::PreMergeCommit => "pre-merge-commit",
            Hook::PreApplypatch => "pre-applypatch",
            Hook::PrePush => "pre-push",
        }
    }

    /// What the hook guards: the git command a blocked run stops.
    pub fn action(self) -> &'static str {
        match self {
            Hook::PrePush => "push",
            Hook::PreCommit | Hook::PreMergeCommit | Hook::PreApplypatch => "commit",
        }
    }

    /// The shim for this hook, with `@KEYGUARD_BIN@` still in it.
    fn template(self) -> String {
        SHIM.replace("@HOOK@", self.file_name())
    }
}

/// What `install` did, for the message.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    New {
        hook: PathBuf,
    },
    /// A foreign hook was there and now runs first, from `previous`;
    /// `retired` holds the hook that was chained before it, which no
    /// longer runs (`--force`).
    Chained {
        hook: PathBuf,
        previous: PathBuf,
        retired: Option<PathBuf>,
    },
    Updated {
        hook: PathBuf,
    },
    AlreadyInstalled {
        hook: PathBuf,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Uninstalled {
    Removed { hook: PathBuf },
    Restored { hook: PathBuf },
    NotInstalled { hook: PathBuf },
}

/// The hooks folder git uses here: `core.hooksPath` and linked worktrees
/// are resolved by git itself.
pub fn hooks_dir() -> Result<PathBuf> {
    let output = Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .env("GIT_NO_LAZY_FETCH", "1")
        .output()
        .context("cannot run `git` to find the hooks folder; is git installed?")?;
    if !output.status.success() {
        bail!(
            "not inside a git repository ({}); run `keyguard install` from inside the repository to protect",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let path =
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim_end_matches(['\n', '\r']));
    Ok(if path.is_absolute() {
        path
    } else {
        std::env::current_dir()?.join(path)
    })
}

/// The shim text for the binary at `binary`.
pub fn shim_for(hook: Hook, binary: &Path) -> String {
    // Quote for sh: the path goes inside ${KEYGUARD_BIN:-...}, which does
    // word splitting on nothing but does need special characters escaped.
    let escaped: String = binary
        .to_string_lossy()
        .chars()
        .flat_map(|c| match c {
            '\\' | '"' | '$' | '`' | '}' | ' ' | '\'' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    hook.template().replace("@KEYGUARD_BIN@", &escaped)
}

/// Is the file at `path` a shim keyguard wrote for `kind`, byte for byte
/// (this version's or an earlier one's, for any binary path)? A shim
/// someone edited is theirs now, and is chained rather than overwritten.
fn is_our_shim(path: &Path, kind: Hook) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    // The path as written, from the line that names it.
    let Some(binary) = text.lines().find_map(|line| {
        line.strip_prefix("keyguard_bin=${KEYGUARD_BIN:-")?
            .strip_suffix('}')
    }) else {
        return false;
    };
    std::iter::once(kind.template())
        .chain(
            OLD_SHIMS
                .iter()
                .filter(|(old_kind, _)| *old_kind == kind)
                .map(|(_, old)| old.to_string()),
        )
        .any(|template| template.replace("@KEYGUARD_BIN@", binary) == text)
}

fn chained_path(hooks: &Path, kind: Hook) -> PathBuf {
    hooks.join(format!("{}{CHAINED_SUFFIX}", kind.file_name()))
}

/// A name for a backup of the chained hook that nothing holds yet:
/// `<hook>.keyguard-chained.bak`, then `.bak.2`, `.bak.3`, ...
fn free_backup_path(hooks: &Path, kind: Hook) -> PathBuf {
    let base = format!("{}{CHAINED_SUFFIX}.bak", kind.file_name());
    (1..)
        .map(|n| match n {
            1 => hooks.join(&base),
            n => hooks.join(format!("{base}.{n}")),
        })
        .find(|p| p.symlink_metadata().is_err())
        .expect("some backup name is free")
}

/// Puts the shim into `hooks`, chaining whatever hook was there.
pub fn install(hooks: &Path, kind: Hook, binary: &Path, force: bool) -> Result<Installed> {
    fs::create_dir_all(hooks)
        .with_context(|| format!("cannot create the hooks folder {}", hooks.display()))?;
    let hook = hooks.join(kind.file_name());
    let shim = shim_for(kind, binary);
    let exists = hook.symlink_metadata().is_ok();

    if exists && is_our_shim(&hook, kind) {
        let current = fs::read_to_string(&hook).unwrap_or_default();
        if current == shim && !force {
            return Ok(Installed::AlreadyInstalled { hook });
        }
        write_executable(&hook, &shim)?;
        return Ok(Installed::Updated { hook });
    }

    if exists {
        let chained = chained_path(hooks, kind);
        let mut retired = None;
        if chained.symlink_metadata().is_ok() {
            let backup = free_backup_path(hooks, kind);
            if !force {
                bail!(
                    "{} is not keyguard's, and {} already holds an earlier hook. \
                     Merge them by hand, or rerun with --force to keep the earlier one as {}",
                    hook.display(),
                    chained.display(),
                    backup.display()
                );
            }
            // Never over an existing backup: that would lose a hook.
            fs::rename(&chained, &backup).with_context(|| {
                format!("cannot move {} to {}", chained.display(), backup.display())
            })?;
            retired = Some(backup);
        }
        // Should this fail, the message names where the earlier hook went.
        let kept = |e: anyhow::Error| match &retired {
            Some(backup) => e.context(format!("the earlier hook was kept as {}", backup.display())),
            None => e,
        };
        fs::rename(&hook, &chained)
            .with_context(|| format!("cannot move the existing hook {} aside", hook.display()))
            .map_err(kept)?;
        if let Err(e) = write_executable(&hook, &shim) {
            // Put the user's hook back rather than leave them with neither.
            let _ = fs::rename(&chained, &hook);
            return Err(kept(e));
        }
        return Ok(Installed::Chained {
            hook,
            previous: chained,
            retired,
        });
    }

    write_executable(&hook, &shim)?;
    Ok(Installed::New { hook })
}

/// Takes the shim out, restoring a chained hook.
pub fn uninstall(hooks: &Path, kind: Hook) -> Result<Uninstalled> {
    let hook = hooks.join(kind.file_name());
    let chained = chained_path(hooks, kind);
    let ours = is_our_shim(&hook, kind);
    if !ours && hook.symlink_metadata().is_ok() {
        // Somebody else's hook is in place: leave it, and the chained one.
        return Ok(Uninstalled::NotInstalled { hook });
    }
    if ours {
        fs::remove_file(&hook).with_context(|| format!("cannot remove {}", hook.display()))?;
    }
    if chained.symlink_metadata().is_ok() {
        fs::rename(&chained, &hook).with_context(|| {
            format!("cannot restore {} to {}", chained.display(), hook.display())
        })?;
        return Ok(Uninstalled::Restored { hook });
    }
    if ours {
        Ok(Uninstalled::Removed { hook })
    } else {
        Ok(Uninstalled::NotInstalled { hook })
    }
}

/// Writes through a temporary file, synced, and a rename, so a hook is
/// never left half-written, even on a full disk or a crash.
fn write_executable(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent folder", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.keyguard-tmp"));
    let written = (|| -> std::io::Result<()> {
        let mut file = fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o755))?;
        }
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", temp.display()));
    }
    fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))?;
    // The rename itself reaches the disk with the folder.
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_twice_changes_nothing_and_uninstall_restores() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join("hooks");
        fs::create_dir_all(&hooks).unwrap();
        fs::write(hooks.join("pre-commit"), "#!/bin/sh\necho theirs\n").unwrap();
        let bin = Path::new("/opt/key guard/bin/keyguard");

        let first = install(&hooks, Hook::PreCommit, bin, false).unwrap();
        assert!(matches!(first, Installed::Chained { .. }), "{first:?}");
        let after_first = fs::read_to_string(hooks.join("pre-commit")).unwrap();
        assert!(after_first.contains("/opt/key\\ guard/bin/keyguard"));
        assert_eq!(
            fs::read_to_string(chained_path(&hooks, Hook::PreCommit)).unwrap(),
            "#!/bin/sh\necho theirs\n"
        );

        let second = install(&hooks, Hook::PreCommit, bin, false).unwrap();
        assert!(
            matches!(second, Installed::AlreadyInstalled { .. }),
            "{second:?}"
        );
        assert_eq!(
            fs::read_to_string(hooks.join("pre-commit")).unwrap(),
            after_first
        );

        assert!(matches!(
            uninstall(&hooks, Hook::PreCommit).unwrap(),
            Uninstalled::Restored { .. }
        ));
        assert_eq!(
            fs::read_to_string(hooks.join("pre-commit")).unwrap(),
            "#!/bin/sh\necho theirs\n"
        );
        assert!(!chained_path(&hooks, Hook::PreCommit).exists());
        assert!(matches!(
            uninstall(&hooks, Hook::PreCommit).unwrap(),
            Uninstalled::NotInstalled { .. }
        ));
    }

    #[test]
    fn refuses_to_overwrite_two_foreign_hooks() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path();
        fs::write(hooks.join("pre-commit"), "new foreign").unwrap();
        fs::write(chained_path(hooks, Hook::PreCommit), "old foreign").unwrap();
        assert!(install(hooks, Hook::PreCommit, Path::new("/bin/keyguard"), false).is_err());
        assert_eq!(
            fs::read_to_string(hooks.join("pre-commit")).unwrap(),
            "new foreign"
        );
        assert_eq!(
            fs::read_to_string(chained_path(hooks, Hook::PreCommit)).unwrap(),
            "old foreign"
        );
    }
}
