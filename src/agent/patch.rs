//! Codex's `apply_patch` envelope: which files a patch adds, updates or
//! deletes, and the lines it adds. The format, as Codex documents it for
//! its `apply_patch` tool (`codex-rs/apply-patch`):
//!
//! ```text
//! *** Begin Patch
//! *** Add File: path          every line of the new file starts with +
//! *** Update File: path       hunks: @@ headers, ' ' context, - removed, + added
//! *** Move to: new/path       (optional, after Update File)
//! *** Delete File: path
//! *** End Patch
//! ```

use anyhow::{bail, Result};

/// One file a patch touches.
#[derive(Debug, PartialEq)]
pub struct PatchedFile {
    /// Where the file will be (the `Move to:` path of a moved file).
    pub path: String,
    pub change: PatchChange,
}

#[derive(Debug, PartialEq)]
pub enum PatchChange {
    /// A new file, whole.
    Add(String),
    /// An existing file: the lines the patch adds, joined.
    Update {
        added: String,
    },
    Delete,
}

/// Parses `body`; anything but a patch envelope is an error (the caller
/// then scans the text as it is).
pub fn parse(body: &str) -> Result<Vec<PatchedFile>> {
    let mut lines = body
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    // `apply_patch` may come as a shell heredoc: start at the envelope.
    if !lines.any(|line| line.trim() == "*** Begin Patch") {
        bail!("not an apply_patch envelope: no `*** Begin Patch` line");
    }
    let mut files: Vec<PatchedFile> = Vec::new();
    for line in lines {
        if line.trim() == "*** End Patch" {
            return Ok(files);
        }
        if let Some(path) = line.strip_prefix("*** Add File: ") {
            files.push(PatchedFile {
                path: path.trim().to_string(),
                change: PatchChange::Add(String::new()),
            });
        } else if let Some(path) = line.strip_prefix("*** Update File: ") {
            files.push(PatchedFile {
                path: path.trim().to_string(),
                change: PatchChange::Update {
                    added: String::new(),
                },
            });
        } else if let Some(path) = line.strip_prefix("*** Delete File: ") {
            files.push(PatchedFile {
                path: path.trim().to_string(),
                change: PatchChange::Delete,
            });
        } else if let Some(path) = line.strip_prefix("*** Move to: ") {
            if let Some(file) = files.last_mut() {
                file.path = path.trim().to_string();
            }
        } else if let Some(added) = line.strip_prefix('+') {
            match files.last_mut().map(|file| &mut file.change) {
                Some(PatchChange::Add(text)) | Some(PatchChange::Update { added: text }) => {
                    text.push_str(added);
                    text.push('\n');
                }
                _ => bail!("a `+` line outside an Add File or Update File section"),
            }
        }
    }
    bail!("the apply_patch envelope has no `*** End Patch` line")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_per_file_and_moves_and_deletes() {
        let body = "*** Begin Patch\n\
            *** Add File: app/new.py\n\
            +import os\n\
            +KEY = os.environ['KEY']\n\
            *** Update File: app/old.py\n\
            *** Move to: app/moved.py\n\
            @@ def main():\n \
            context line\n\
            -removed = 1\n\
            +added = 2\n\
            *** Delete File: app/gone.py\n\
            *** End Patch\n";
        let files = parse(body).unwrap();
        assert_eq!(
            files,
            [
                PatchedFile {
                    path: "app/new.py".into(),
                    change: PatchChange::Add("import os\nKEY = os.environ['KEY']\n".into()),
                },
                PatchedFile {
                    path: "app/moved.py".into(),
                    change: PatchChange::Update {
                        added: "added = 2\n".into()
                    },
                },
                PatchedFile {
                    path: "app/gone.py".into(),
                    change: PatchChange::Delete,
                },
            ]
        );
    }

    #[test]
    fn a_heredoc_around_the_envelope_is_skipped_and_a_cut_one_is_an_error() {
        let shell =
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\nEOF\n";
        assert_eq!(parse(shell).unwrap().len(), 1);
        assert!(parse("*** Begin Patch\n*** Add File: a.txt\n+x\n").is_err());
        assert!(parse("echo hello").is_err());
    }
}
