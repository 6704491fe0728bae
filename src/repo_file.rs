//! Reading files a repository controls (`.keyguard.toml`, the baseline)
//! without letting their content make keyguard leak or hang.
//!
//! A cloned repository can ship such a file as a symlink to
//! `/proc/self/environ` (a CI job's tokens), as a FIFO (a read that never
//! returns) or as a link to `/dev/zero` (a read that never ends). So: a
//! symlink is followed only when it resolves inside the repository; only a
//! regular file is opened, and that is checked before the open (which is
//! non-blocking on unix) and again on the open file; at most a bound is
//! read, counted while reading (`/proc` files stat as 0 bytes). A parse
//! error names the file, line and column, and shows no more of the file
//! than a key name and a redacted excerpt (see [`parse_error`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::finding::redact;
use crate::text::{escape_control, quote_name};

/// Who named the file, which decides where a symlink may lead.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// Found in the repository (whose working tree is `root`): a symlink
    /// must resolve to a file inside `root`.
    Repository { root: &'a Path },
    /// Named by the user on the command line: followed wherever it leads,
    /// but it must still be a regular file of bounded size.
    User,
}

/// A repository file to read: what to call it in messages, and how many
/// bytes it may hold.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// "configuration file", "baseline".
    pub name: &'static str,
    pub max_bytes: u64,
}

/// Reads `path` as UTF-8 text, refusing what the module documentation
/// lists. Every refusal says what to do; none prints the file's content.
pub fn read_text(path: &Path, kind: Kind, origin: Origin) -> Result<String> {
    let shown = quote_name(&path.to_string_lossy()).into_owned();
    let refuse = |why: &str| -> anyhow::Error {
        anyhow::anyhow!("refusing to read the {} {shown}: {why}", kind.name)
    };
    let link = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read the {} {shown}", kind.name))?;
    // What is opened: for a link inside the repository, the file it
    // resolves to, so that the checked target is the one read.
    let mut target = path.to_path_buf();
    if link.file_type().is_symlink() {
        if let Origin::Repository { root } = origin {
            target = resolve_inside(path, root).map_err(|why| refuse(&why))?;
        }
    }
    let metadata = std::fs::metadata(&target)
        .with_context(|| format!("cannot read the {} {shown}", kind.name))?;
    if !metadata.is_file() {
        return Err(refuse(&format!(
            "it is {}, not a regular file; replace it with a regular file",
            describe_type(&metadata)
        )));
    }
    let file = open_nonblocking(&target, matches!(origin, Origin::Repository { .. }))
        .with_context(|| format!("cannot read the {} {shown}", kind.name))?;
    // Checked again on what was opened: the path may have changed since.
    let opened = file
        .metadata()
        .with_context(|| format!("cannot read the {} {shown}", kind.name))?;
    if !opened.is_file() {
        return Err(refuse(&format!(
            "it is {}, not a regular file; replace it with a regular file",
            describe_type(&opened)
        )));
    }
    let mut bytes = Vec::new();
    file.take(kind.max_bytes + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the {} {shown}", kind.name))?;
    if bytes.len() as u64 > kind.max_bytes {
        return Err(refuse(&format!(
            "it is larger than {}, the most keyguard reads from a {}; \
             if it really is one, make it smaller",
            human_size(kind.max_bytes),
            kind.name
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| refuse("it is not UTF-8 text; save it as UTF-8 (without NUL bytes)"))
}

/// The file a symlink at `path` resolves to, when that is inside `root`.
fn resolve_inside(path: &Path, root: &Path) -> Result<PathBuf, String> {
    let outside = "it is a symbolic link to a file outside the repository, which keyguard \
                   does not follow (a cloned repository could point it at any file on this \
                   machine); replace the link with a regular file, or name the file with \
                   a command-line flag";
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve the repository root: {e}"))?;
    let target = path.canonicalize().map_err(|_| {
        "it is a symbolic link that leads nowhere; replace it with a regular file".to_string()
    })?;
    if target.starts_with(&root) && target != root {
        Ok(target)
    } else {
        Err(outside.to_string())
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path, no_follow: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // A FIFO swapped in after the check must not block the open, and a
    // resolved repository file must not have become a link since.
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if no_follow {
        flags |= libc::O_NOFOLLOW;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path, _no_follow: bool) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn describe_type(metadata: &std::fs::Metadata) -> &'static str {
    let kind = metadata.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

fn human_size(bytes: u64) -> String {
    if bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// A parse error in `text` (read from `file`) at `line` and `column`
/// (1-based), as `file:line:column: message (excerpt)`. The parser's own
/// message can quote values from the file (`invalid type: string "…"`):
/// every double-quoted part is redacted, and a back-quoted part is kept only
/// when it looks like a key name. The excerpt is the line with its value
/// redacted. Control characters are escaped throughout.
pub fn parse_error(file: &Path, text: &str, line: usize, column: usize, message: &str) -> String {
    let source_line = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let mut out = format!(
        "{}:{line}:{column}: {}",
        quote_name(&file.to_string_lossy()),
        escape_control(&sanitize_message(message, line_key(source_line)))
    );
    if let Some(excerpt) = redacted_excerpt(source_line) {
        out.push_str(&format!(
            " (the line, redacted: `{}`)",
            escape_control(&excerpt)
        ));
    }
    out
}

/// The 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Could this be a key name (`disabled_rules`, `allow.paths`)? Anything
/// else in a message is treated as a value and redacted.
fn is_key_like(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The key a `key = value` (or `"key": value`) line sets, if key-like.
fn line_key(line: &str) -> Option<&str> {
    let split = line.find(['=', ':'])?;
    let key = line[..split].trim().trim_matches(|c| c == '"' || c == '\'');
    is_key_like(key).then_some(key)
}

/// `message` with every `"…"` part redacted, and every `` `…` `` part too
/// unless it is grammar (`=`), the key of the line in error (`unknown field
/// `x``) or a name after "expected" (the schema's, not the file's): a
/// back-quoted value (`unknown variant `…``) is a value from the file.
fn sanitize_message(message: &str, line_key: Option<&str>) -> String {
    let schema_from = message.find("expected").unwrap_or(message.len());
    let mut out = String::with_capacity(message.len());
    let mut chars = message.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '"' && c != '`' {
            out.push(c);
            continue;
        }
        let mut inner = String::new();
        let mut escaped = false;
        let mut closed = false;
        for (_, next) in chars.by_ref() {
            if escaped {
                escaped = false;
            } else if next == '\\' && c == '"' {
                escaped = true;
            } else if next == c {
                closed = true;
                break;
            }
            inner.push(next);
        }
        out.push(c);
        // Grammar (`=`, `"`) and key names are kept: neither is a secret.
        let kept = inner.chars().count() <= 3
            || Some(inner.as_str()) == line_key
            || (at > schema_from && is_key_like(&inner));
        if c == '`' && kept {
            out.push_str(&inner);
        } else {
            out.push_str(&redact(&inner));
        }
        if closed {
            out.push(c);
        }
    }
    out
}

/// The line with anything after a key-like `key =` / `"key":` redacted;
/// a table header (`[allow]`) as it is; anything else redacted whole.
fn redacted_excerpt(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let header = line.trim_start_matches('[').trim_end_matches(']');
    if line.starts_with('[') && is_key_like(header) {
        return Some(line.to_string());
    }
    if let Some(split) = line.find(['=', ':']) {
        let key = line[..split].trim();
        let bare = key.trim_matches(|c| c == '"' || c == '\'');
        if is_key_like(bare) {
            let value = line[split + 1..].trim();
            let separator = &line[split..=split];
            return Some(match value {
                "" => format!("{key} {separator}"),
                value => format!("{key} {separator} {}", redact(value)),
            });
        }
    }
    Some(redact(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_key_names_and_redact_values() {
        let value = ["hunter", "2hunter2x"].concat();
        let message = format!("invalid type: string \"{value}\", expected a sequence");
        let clean = sanitize_message(&message, Some("paths"));
        assert!(!clean.contains(&value), "{clean}");
        assert!(clean.starts_with("invalid type: string \"hu…"), "{clean}");
        assert_eq!(
            sanitize_message(
                "unknown field `path`, expected `paths` or `values`",
                Some("path")
            ),
            "unknown field `path`, expected `paths` or `values`"
        );
        let variant = sanitize_message(&format!("unknown variant `{value}`, expected `a`"), None);
        assert!(!variant.contains(&value), "{variant}");
        assert!(!sanitize_message(&format!("bad \"{value}"), None).contains(&value));
        assert_eq!(
            sanitize_message("expected `\"`, `=`", None),
            "expected `\"`, `=`"
        );
        assert!(!sanitize_message(&format!("s \"a\\\"{value}\""), None).contains(&value));
        assert_eq!(line_key("  \"version\": 1"), Some("version"));
    }

    #[test]
    fn excerpts_show_keys_never_values() {
        let value = ["abcd", "efgh", "ijkl", "mnop"].concat();
        let line = format!("  token = \"{value}");
        let excerpt = redacted_excerpt(&line).unwrap();
        assert_eq!(excerpt, "token = \"abc…(redacted, 17 chars)");
        assert_eq!(redacted_excerpt("[allow]").unwrap(), "[allow]");
        assert!(!redacted_excerpt(&format!("{value}{value}x = 1"))
            .unwrap()
            .contains(&value));
        assert_eq!(redacted_excerpt("   "), None);
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        assert_eq!(line_and_column("a\nbé c", 6), (2, 4));
        assert_eq!(line_and_column("abc", 0), (1, 1));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }
}
