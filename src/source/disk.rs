//! Files on disk: the PATH arguments and `--all` walked into files, and
//! each file read into chunks of text. A file larger than
//! [`LargeFiles::threshold`] is read block by block, each block ending at a
//! line end, so that memory stays bounded whatever its size.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Chunk;
use crate::finding::{Origin, ScanError};
use crate::text::{decode, decode_text_owned, is_binary, Decoded};

/// Files larger than this are read block by block.
const LARGE_FILE: u64 = 32 << 20;
const LARGE_FILE_BLOCK: usize = 8 << 20;
/// A line longer than this many blocks is cut, so that a file without line
/// ends cannot make a block grow without bound.
const LONG_LINE_BLOCKS: usize = 4;

/// When a file on disk is read block by block, and how large a block is.
#[derive(Debug, Clone, Copy)]
pub struct LargeFiles {
    /// Files larger than this many bytes are read block by block.
    pub threshold: u64,
    /// Bytes read at a time.
    pub block: usize,
}

impl Default for LargeFiles {
    fn default() -> LargeFiles {
        LargeFiles {
            threshold: LARGE_FILE,
            block: LARGE_FILE_BLOCK,
        }
    }
}

/// A file to read from disk.
#[derive(Debug, Clone)]
pub struct DiskFile {
    /// How reports name it (as the user typed it, or repository-relative).
    pub display: String,
    /// Where to read it.
    pub path: PathBuf,
    /// Repository-relative, `/`-separated: what allow lists and secret-file
    /// names are matched against, wherever the scan was started from.
    pub repo_path: String,
}

impl DiskFile {
    /// A file named by its repository-relative path under `root`.
    pub fn in_repo(root: &Path, repo_path: String) -> DiskFile {
        DiskFile {
            display: repo_path.clone(),
            path: root.join(&repo_path),
            repo_path,
        }
    }
}

/// What a file turned out to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// Not there (tracked but deleted on disk), or not a regular file
    /// (symlinks are not followed; folders are submodules).
    Nothing,
    Binary,
    /// Text, handed over in chunks.
    Text,
}

/// Reads `file` and hands its text to `each`, in one chunk or (for a large
/// file) block by block.
pub fn read(
    file: &DiskFile,
    large: LargeFiles,
    each: &mut dyn FnMut(Chunk<'_>),
) -> Result<Contents, ScanError> {
    let path = file.path.as_path();
    let cannot_read = |source: std::io::Error| ScanError::Read {
        path: file.display.clone(),
        source,
    };
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        // Tracked but deleted on disk: nothing there to leak.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Nothing),
        Err(e) => return Err(cannot_read(e)),
    };
    if !metadata.is_file() {
        return Ok(Contents::Nothing);
    }
    if metadata.len() > large.threshold {
        let mut reader = std::fs::File::open(path).map_err(cannot_read)?;
        return read_blocks(&mut reader, &file.display, large.block, each).map_err(cannot_read);
    }
    let bytes = std::fs::read(path).map_err(cannot_read)?;
    Ok(match decode(&bytes) {
        Decoded::Binary => Contents::Binary,
        Decoded::Text(text) => {
            each(chunk(&file.display, 1, &text));
            Contents::Text
        }
    })
}

fn chunk<'a>(path: &'a str, first_line: u32, text: &'a str) -> Chunk<'a> {
    Chunk {
        path,
        origin: &Origin::Worktree,
        first_line,
        text,
    }
}

/// Reads a file too large to hold whole, block by block, each block
/// ending at a line end. Text or binary is decided once, from the file's
/// start, as for a small file: every later block of a text file is text
/// whatever bytes it holds, and a read error fails the file (the scan is
/// then incomplete) instead of dropping what is left of it.
pub fn read_blocks(
    reader: &mut dyn Read,
    path: &str,
    block_len: usize,
    each: &mut dyn FnMut(Chunk<'_>),
) -> std::io::Result<Contents> {
    assert!(block_len > 0, "a block holds at least one byte");
    let mut pending: Vec<u8> = Vec::new();
    let mut line = 1u32;
    let mut first = true;
    loop {
        let at_end = read_block(reader, &mut pending, block_len)? < block_len;
        if first {
            first = false;
            // UTF-16 cannot be cut at a byte `\n`: read it whole.
            if pending.starts_with(b"\xFF\xFE") || pending.starts_with(b"\xFE\xFF") {
                reader.read_to_end(&mut pending)?;
                if let Decoded::Text(text) = decode(&pending) {
                    each(chunk(path, 1, &text));
                    return Ok(Contents::Text);
                }
                return Ok(Contents::Nothing);
            }
            if is_binary(&pending) {
                return Ok(Contents::Binary);
            }
            if pending.starts_with(b"\xEF\xBB\xBF") {
                pending.drain(..3);
            }
        }
        let cut = if at_end {
            pending.len()
        } else {
            match memchr::memrchr(b'\n', &pending) {
                Some(i) => i + 1,
                // One very long line: cut it (at a character boundary)
                // once it fills a few blocks, so memory stays bounded.
                None if pending.len() >= LONG_LINE_BLOCKS * block_len => utf8_boundary(&pending),
                None => continue,
            }
        };
        let rest = pending.split_off(cut);
        let block = std::mem::replace(&mut pending, rest);
        let lines_in_block = memchr::memchr_iter(b'\n', &block).count() as u32;
        let text = decode_text_owned(block);
        each(chunk(path, line, &text));
        line += lines_in_block;
        if at_end {
            return Ok(Contents::Text);
        }
    }
}

/// Appends up to `len` bytes from `reader` to `buffer`, fewer only at the
/// end of the input; returns how many.
fn read_block(reader: &mut dyn Read, buffer: &mut Vec<u8>, len: usize) -> std::io::Result<usize> {
    let start = buffer.len();
    buffer.resize(start + len, 0);
    let mut filled = 0;
    while filled < len {
        match reader.read(&mut buffer[start + filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buffer.truncate(start + filled);
    Ok(filled)
}

/// Where to cut `bytes` so as not to split a UTF-8 character at its end.
fn utf8_boundary(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // The last character starts at most 3 bytes before the end.
    for back in 1..=len.min(4) {
        let byte = bytes[len - back];
        if byte & 0xC0 == 0x80 {
            continue; // a continuation byte
        }
        let width = match byte {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if back >= width { len } else { len - back };
    }
    len
}

/// Expands PATH arguments into files: folders are walked, honouring
/// `.gitignore`, skipping `.git`, but including hidden files such as `.env`.
/// With `root` (the repository's working tree), each file also gets its
/// path relative to the root, so the configuration applies the same from
/// any folder.
pub fn files_under(paths: &[PathBuf], root: Option<&Path>) -> Result<Vec<DiskFile>> {
    let root = root.and_then(|r| r.canonicalize().ok());
    let disk_file = |path: &Path| {
        let display = display_path(path);
        let repo_path = root
            .as_ref()
            .and_then(|root| {
                let absolute = path.canonicalize().ok()?;
                let relative = absolute.strip_prefix(root).ok()?;
                Some(display_path(relative))
            })
            .unwrap_or_else(|| display.clone());
        DiskFile {
            display,
            path: path.to_path_buf(),
            repo_path,
        }
    };
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).with_context(|| format!("cannot scan {}", path.display()))?;
        if metadata.is_file() {
            files.push(disk_file(path));
            continue;
        }
        let walker = ignore::WalkBuilder::new(path)
            .hidden(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            let entry = entry.with_context(|| format!("cannot walk {}", path.display()))?;
            if entry.file_type().is_some_and(|t| t.is_file()) {
                files.push(disk_file(entry.path()));
            }
        }
    }
    Ok(files)
}

fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunks of `bytes` read in 256-byte blocks: (first line, text).
    fn chunks(bytes: &[u8]) -> (Contents, Vec<(u32, String)>) {
        let mut got = Vec::new();
        let contents = read_blocks(&mut &bytes[..], "f", 256, &mut |c| {
            got.push((c.first_line, c.text.to_string()))
        })
        .unwrap();
        (contents, got)
    }

    #[test]
    fn blocks_end_at_line_ends_and_know_their_first_line() {
        let text = "0123456789abcdef\n".repeat(40);
        let (contents, got) = chunks(text.as_bytes());
        assert_eq!(contents, Contents::Text);
        assert!(got.len() > 1);
        assert_eq!(
            got.iter().map(|(_, t)| t.as_str()).collect::<String>(),
            text
        );
        let mut line = 1;
        for (first, block) in &got {
            assert_eq!(*first, line);
            assert!(block.ends_with('\n'));
            line += block.matches('\n').count() as u32;
        }
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_utf16_read_whole() {
        let (_, got) = chunks(b"\xEF\xBB\xBFkey = 1\n");
        assert_eq!(got, [(1, "key = 1\n".to_string())]);
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "a\nb\n"
                    .repeat(100)
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let (contents, got) = chunks(&utf16);
        assert_eq!(contents, Contents::Text);
        assert_eq!(got, [(1, "a\nb\n".repeat(100))]);
    }

    #[test]
    fn cuts_keep_utf8_characters_whole() {
        assert_eq!(utf8_boundary(b"ab"), 2);
        assert_eq!(utf8_boundary("aé".as_bytes()), 3);
        assert_eq!(utf8_boundary(&"aé".as_bytes()[..2]), 1);
        assert_eq!(utf8_boundary(&"a😀".as_bytes()[..4]), 1);
        assert_eq!(utf8_boundary(b""), 0);
    }
}
