//! Writing a file keyguard owns (the baseline, `.gitignore` and
//! `.env.example` from `init`) so that a failure never leaves it
//! half-written: the bytes go to a temporary file in the same folder, which
//! is flushed to disk and then renamed over the target. A full disk once cut
//! a `.gitignore` from 7,490 to 4,096 bytes when it was rewritten in place;
//! with a rename, the old file stays whole until the new one is complete.
//!
//! A target that is a symlink (dotfile setups) is written through: the link
//! is followed and the file it points to is replaced, next to itself, so
//! the link stays a link.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{anyhow, Result};

/// Links followed before giving up, as Linux's `ELOOP` limit.
const MAX_SYMLINKS: usize = 40;

/// Temporary names tried before giving up: each is unique to this process
/// and call, so a collision means a leftover or a hostile file.
const TEMP_NAME_ATTEMPTS: u32 = 100;

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Replaces the content of `path` with `bytes`, or leaves it as it was.
/// An existing file keeps its permission bits; a new file gets the usual
/// ones (0666 less the umask). The error says the file was left unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the writing done by `write` (tests inject a
/// failing writer: a full disk cannot be made on demand, even as root).
fn write_atomic_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> Result<()> {
    let unchanged = |what: &str, err: io::Error| {
        anyhow!(
            "cannot write {}: {what}: {err}; {} left unchanged",
            path.display(),
            path.display()
        )
    };
    let target = resolve_symlinks(path).map_err(|e| unchanged("cannot follow its symlink", e))?;
    let existing = match fs::metadata(&target) {
        Ok(metadata) if metadata.is_file() => Some(metadata.permissions()),
        Ok(_) => {
            return Err(unchanged(
                "not a regular file",
                io::Error::other(format!("{} is a folder or a device", target.display())),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(unchanged("cannot inspect it", e)),
    };
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| unchanged("no file name", io::Error::other("the path ends in `..`")))?;

    let (mut file, temp) = create_temp(&folder, &name.to_string_lossy())
        .map_err(|e| unchanged("cannot create a temporary file next to it", e))?;
    let mut guard = RemoveOnDrop(Some(temp.clone()));
    if let Some(permissions) = existing {
        file.set_permissions(permissions)
            .map_err(|e| unchanged("cannot keep its permissions", e))?;
    }
    write(&mut file).map_err(|e| unchanged("writing failed", e))?;
    file.sync_all()
        .map_err(|e| unchanged("cannot flush it to disk", e))?;
    drop(file);
    fs::rename(&temp, &target)
        .map_err(|e| unchanged("cannot rename the new file into place", e))?;
    guard.0 = None;
    // The rename is durable once the folder is flushed; the new content is
    // already in place, so this error does not say "unchanged".
    File::open(&folder)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| {
            anyhow!(
                "wrote {}, but cannot flush its folder {} to disk: {e}",
                path.display(),
                folder.display()
            )
        })
}

/// The file `path` names once every symlink is followed; `path` itself when
/// it is not a link. A dangling link gives the missing file it points to.
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                // A relative link is relative to the folder holding it; the
                // OS resolves any `..` in the joined path the same way.
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// A new file in `folder`, named after `name`, that did not exist before.
fn create_temp(folder: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    let mut last_error = None;
    for _ in 0..TEMP_NAME_ATTEMPTS {
        let count = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = folder.join(format!(
            ".{name}.keyguard-{}-{count}.tmp",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Removes the temporary file unless it was renamed into place.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_new_and_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        write_atomic(&path, b"one\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one\n");
        write_atomic(&path, b"two\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two\n");
        assert_eq!(names_in(dir.path()), ["f.txt"], "no temporary file is left");
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn a_chain_of_symlinks_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let real = dir.path().join("dotfiles/real");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("dotfiles/middle")).unwrap();
        std::os::unix::fs::symlink("dotfiles/middle", dir.path().join("link")).unwrap();
        write_atomic(&dir.path().join("link"), b"new").unwrap();
        assert!(fs::symlink_metadata(dir.path().join("link"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(names_in(&dir.path().join("dotfiles")), ["middle", "real"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        fs::write(&path, "the old content\n").unwrap();
        // A disk that fills up half way through the new content.
        let err = write_atomic_with(&path, |file| {
            file.write_all(b"{\"half\": ")?;
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "No space left on device",
            ))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("left unchanged"), "{err}");
        assert!(err.contains("No space left on device"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"the old content\n");
        assert_eq!(names_in(dir.path()), ["baseline.json"]);
    }

    #[test]
    fn a_folder_in_the_way_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "kept").unwrap();
        let err = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(
            err.contains("not a regular file") && err.contains("left unchanged"),
            "{err}"
        );
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"kept");
    }

    #[test]
    fn a_missing_folder_fails_without_creating_anything() {
        let dir = tempfile::tempdir().unwrap();
        // The folder is a file: as root too, nothing can be created in it.
        fs::write(dir.path().join("file"), "kept").unwrap();
        let err = write_atomic(&dir.path().join("file/child"), b"x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("left unchanged"), "{err}");
        assert_eq!(names_in(dir.path()), ["file"]);
    }
}
