//! Files on disk: the PATH arguments and `--all` walked into files, and
//! each file read into chunks of text. A file larger than
//! [`LargeFiles::threshold`] is read block by block, so that memory stays
//! bounded whatever its size: each chunk ends at a line end (or, inside a
//! line longer than a block, anywhere between two characters), and starts
//! with the last [`LargeFiles::overlap`] bytes of the chunk before it, so
//! that a secret across a cut (a PEM block) is whole in one of the two.

use std::cell::RefCell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::Chunk;
use crate::detect::profile;
use crate::finding::{Origin, ScanError};
use crate::text::{decode, decode_text_owned, is_binary, Decoded};

/// Files larger than this are read block by block.
const LARGE_FILE: u64 = 32 << 20;
const LARGE_FILE_BLOCK: usize = 8 << 20;
/// What each chunk repeats of the one before: as far as a multi-line rule
/// may match past the start of its first line (`detect::MULTILINE_WINDOW`).
const LARGE_FILE_OVERLAP: usize = 64 << 10;

/// When a file on disk is read block by block, and how large a block is.
#[derive(Debug, Clone, Copy)]
pub struct LargeFiles {
    /// Files larger than this many bytes are read block by block.
    pub threshold: u64,
    /// Bytes read at a time.
    pub block: usize,
    /// Each chunk starts with the line holding the byte this far before the
    /// end of the chunk before it, so that anything that starts in the last
    /// `overlap` bytes of a chunk is read again whole in the next one. The
    /// repeat is cut to `2 * overlap` bytes inside a very long line.
    pub overlap: usize,
}

impl Default for LargeFiles {
    fn default() -> LargeFiles {
        LargeFiles {
            threshold: LARGE_FILE,
            block: LARGE_FILE_BLOCK,
            overlap: LARGE_FILE_OVERLAP,
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
        return read_blocks(&mut reader, &file.display, large, each).map_err(cannot_read);
    }
    READ_BUFFER.with_borrow_mut(|bytes| {
        let started = profile::enabled().then(Instant::now);
        bytes.clear();
        bytes.reserve(metadata.len() as usize);
        let mut reader = std::fs::File::open(path).map_err(cannot_read)?;
        reader.read_to_end(bytes).map_err(cannot_read)?;
        let read = profile::enabled().then(Instant::now);
        let decoded = decode(bytes);
        profile::file_read(
            bytes.len(),
            started,
            read,
            profile::enabled().then(Instant::now),
        );
        let contents = match decoded {
            Decoded::Binary => Contents::Binary,
            Decoded::Text(text) => {
                each(chunk(&file.display, 1, &text));
                Contents::Text
            }
        };
        if bytes.capacity() > KEPT_READ_BUFFER {
            *bytes = Vec::new();
        }
        Ok(contents)
    })
}

thread_local! {
    /// Each scanning thread reads its files into one buffer: a fresh
    /// allocation per file paid page faults for every large one.
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A read buffer grown larger than this (by a rare large file) is given
/// back rather than kept for the thread's next files.
const KEPT_READ_BUFFER: usize = 4 << 20;

fn chunk<'a>(path: &'a str, first_line: u32, text: &'a str) -> Chunk<'a> {
    Chunk {
        path,
        origin: &Origin::Worktree,
        first_line,
        text,
        repeated: 0,
    }
}

/// Reads a file too large to hold whole, block by block (see
/// [`LargeFiles`]). Text or binary is decided once, from the file's start,
/// as for a small file: every later block of a text file is text whatever
/// bytes it holds, and a read error fails the file (the scan is then
/// incomplete) instead of dropping what is left of it.
pub fn read_blocks(
    reader: &mut dyn Read,
    path: &str,
    large: LargeFiles,
    each: &mut dyn FnMut(Chunk<'_>),
) -> std::io::Result<Contents> {
    let block_len = large.block;
    assert!(block_len > 0, "a block holds at least one byte");
    // `pending` holds `repeated` bytes already handed over (the overlap),
    // then bytes not yet handed over; `line` is the line it starts on.
    let mut pending: Vec<u8> = Vec::new();
    let mut repeated = 0usize;
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
        if at_end && pending.len() == repeated && repeated > 0 {
            return Ok(Contents::Text); // the last chunk ended the file
        }
        let cut = if at_end {
            pending.len()
        } else {
            match memchr::memrchr(b'\n', &pending[repeated..]) {
                Some(i) => repeated + i + 1,
                // Inside a line longer than a block: cut it between two
                // characters, so memory stays bounded.
                None => utf8_boundary(&pending),
            }
        };
        let rest = pending.split_off(cut);
        let overlap_start = if at_end {
            cut
        } else {
            overlap_start(&pending, large.overlap)
        };
        let mut next = Vec::with_capacity(cut - overlap_start + rest.len() + block_len);
        next.extend_from_slice(&pending[overlap_start..]);
        next.extend_from_slice(&rest);
        let lines_before_next =
            memchr::memchr_iter(b'\n', &pending[..overlap_start]).count() as u32;
        let text = decode_text_owned(std::mem::replace(&mut pending, next));
        each(Chunk {
            repeated,
            ..chunk(path, line, &text)
        });
        if at_end {
            return Ok(Contents::Text);
        }
        line += lines_before_next;
        repeated = cut - overlap_start;
    }
}

/// Where the next chunk starts in `block` (the chunk just handed over): at
/// the start of the line holding the byte `overlap` bytes before its end,
/// or, when that line starts more than `2 * overlap` bytes before the end,
/// `overlap` bytes before the end (between two characters).
fn overlap_start(block: &[u8], overlap: usize) -> usize {
    let len = block.len();
    let Some(from) = len.checked_sub(overlap) else {
        return 0;
    };
    let earliest = len.saturating_sub(2 * overlap);
    match memchr::memrchr(b'\n', &block[earliest..from]) {
        Some(i) => earliest + i + 1,
        None if earliest == 0 => 0,
        None => {
            let mut start = from;
            // Step forward past UTF-8 continuation bytes.
            while start < len && block[start] & 0xC0 == 0x80 {
                start += 1;
            }
            start
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

    /// Read in 256-byte blocks, each chunk repeating 40 bytes or more.
    const SMALL: LargeFiles = LargeFiles {
        threshold: 0,
        block: 256,
        overlap: 40,
    };

    /// The chunks of `bytes` read in `large` blocks: (first line, text,
    /// bytes repeated from the chunk before).
    fn chunks_of(bytes: &[u8], large: LargeFiles) -> (Contents, Vec<(u32, String, usize)>) {
        let mut got = Vec::new();
        let contents = read_blocks(&mut &bytes[..], "f", large, &mut |c| {
            got.push((c.first_line, c.text.to_string(), c.repeated))
        })
        .unwrap();
        (contents, got)
    }

    fn chunks(bytes: &[u8]) -> (Contents, Vec<(u32, String)>) {
        let (contents, got) = chunks_of(bytes, SMALL);
        (contents, got.into_iter().map(|(l, t, _)| (l, t)).collect())
    }

    /// Each chunk is the text from where it starts; each repeats the end
    /// of the one before and knows the line it starts on; the chunks, less
    /// what they repeat, are the text once over.
    fn assert_chunks_cover(text: &str, got: &[(u32, String, usize)]) {
        let mut end_before = 0;
        for (first, chunk, repeated) in got {
            let start = end_before - repeated.min(&end_before);
            assert_eq!(start + repeated, end_before);
            assert_eq!(&text[start..start + chunk.len()], chunk);
            assert_eq!(*first, text[..start].matches('\n').count() as u32 + 1);
            end_before = start + chunk.len();
        }
        assert_eq!(end_before, text.len());
    }

    #[test]
    fn blocks_end_at_line_ends_overlap_by_whole_lines_and_know_their_first_line() {
        let text: String = (0..60)
            .map(|i| format!("line {i:04} of the text\n"))
            .collect();
        let (contents, got) = chunks_of(text.as_bytes(), SMALL);
        assert_eq!(contents, Contents::Text);
        assert!(got.len() > 3);
        assert_chunks_cover(&text, &got);
        assert_eq!(got[0].2, 0);
        for (first, block, repeated) in &got[1..] {
            assert!(block.ends_with('\n'));
            // The line holding the byte 40 before the end, and what follows.
            assert!((40..40 + 22).contains(repeated), "{repeated}");
            assert!(block[..*repeated].ends_with('\n'));
            assert!(*first > 1);
        }
    }

    #[test]
    fn a_line_longer_than_a_block_is_cut_between_characters_and_overlapped() {
        let text = format!("start\n{}\nend\n", "é😀x".repeat(300));
        let (contents, got) = chunks_of(text.as_bytes(), SMALL);
        assert_eq!(contents, Contents::Text);
        assert!(got.len() > 4);
        assert_chunks_cover(&text, &got);
        for (_, block, repeated) in &got {
            // One block, the leftover of the one before, and the overlap.
            assert!(block.len() <= 2 * 256 + 2 * 40, "{}", block.len());
            assert!(*repeated <= 2 * 40);
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
