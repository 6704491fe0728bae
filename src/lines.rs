//! The added-lines stage: a changed file's old and new blobs, decoded to
//! text, diffed, and kept only where lines were added.
//!
//! Both sides are decoded first, so that a UTF-16 file diffs line by line
//! like any other. For a merge, a line counts as added only if it is added
//! relative to every parent (the `++` lines of `git diff --cc`): what one
//! side brings was added, and scanned, in that side's own commits.

use std::io::Read;

use anyhow::{Context as _, Result};
use imara_diff::{Algorithm, Diff, InternedInput, TokenSource};

use crate::git::{BlobStream, ChangedBlobs, FileBlobs, StreamedBlobs};
use crate::text::{decode, decode_owned, is_binary, Decoded};

/// One file that a change (the staged index, a commit) adds or modifies.
#[derive(Debug)]
pub struct ChangedFile {
    /// Path in the repository, `/`-separated.
    pub path: String,
    /// The path it was renamed or copied from, if any.
    pub old_path: Option<String>,
    pub content: ChangedContent,
}

impl ChangedFile {
    /// Decodes both sides of `blobs` and finds the added lines of the new
    /// one (relative to every parent, for a merge).
    pub fn from_blobs(blobs: FileBlobs) -> ChangedFile {
        let FileBlobs {
            path,
            old_path,
            new,
            old,
            other_parents,
        } = blobs;
        let mut content = added_content(old.as_deref(), new);
        if let ChangedContent::Text { text, added } = &mut content {
            for parent in other_parents.iter().flatten() {
                if added.is_empty() {
                    break;
                }
                // A binary parent: every line is added relative to it.
                if let Decoded::Text(parent) = decode(parent) {
                    *added = intersect(text, added, &added_lines(&parent, text));
                }
            }
        }
        ChangedFile {
            path,
            old_path,
            content,
        }
    }

    /// A changed file as git hands it over: read whole ([`Self::from_blobs`]),
    /// or too large to hold. A large file that is new, or that only grew at
    /// its end (a log, a data file appended to), is streamed: its added
    /// lines, with up to `context_lines` lines before them, are read block
    /// by block when it is scanned. Any other change to a large file (and
    /// a renamed one) needs both sides whole to be diffed, and is read
    /// whole.
    pub fn from_changed(blobs: ChangedBlobs, context_lines: u32) -> Result<ChangedFile> {
        let blobs = match blobs {
            ChangedBlobs::Read(blobs) => return Ok(ChangedFile::from_blobs(blobs)),
            ChangedBlobs::Streamed(blobs) => blobs,
        };
        let StreamedBlobs {
            path,
            old_path,
            new,
            old,
        } = *blobs;
        let read_whole = |new: &BlobStream, old: Option<&BlobStream>| -> Result<ChangedContent> {
            let old = old.map(BlobStream::read_whole).transpose()?;
            Ok(added_content(old.as_deref(), new.read_whole()?))
        };
        // A renamed file may have to be scanned whole (it left an allowed
        // path): only a file that stayed where it was is streamed from the
        // end of its old content.
        let content = match old.as_ref().filter(|old| old.size > 0) {
            None => ChangedContent::Streamed(AddedStream {
                first_line: 1,
                first_added_line: 1,
                context_len: 0,
                added_size: new.size,
                reader: std::sync::Mutex::new(new.open()?),
            }),
            Some(old) if old_path.is_some() => read_whole(&new, Some(old))?,
            Some(old) => match appended(old, &new, context_lines)
                .with_context(|| format!("cannot read the content of {path}"))?
            {
                Some(content) => content,
                None => read_whole(&new, Some(old))?,
            },
        };
        Ok(ChangedFile {
            path,
            old_path,
            content,
        })
    }

    /// Bytes of added text (0 for binary files; about that many for a
    /// streamed one).
    pub fn added_len(&self) -> usize {
        match &self.content {
            ChangedContent::Binary => 0,
            ChangedContent::Text { added, .. } => added.iter().map(|run| run.end - run.start).sum(),
            ChangedContent::Streamed(stream) => {
                usize::try_from(stream.added_size).unwrap_or(usize::MAX)
            }
        }
    }
}

#[derive(Debug)]
pub enum ChangedContent {
    Binary,
    Text {
        /// The whole new file, decoded.
        text: String,
        /// Runs of added lines: (first line number, byte range in `text`).
        added: Vec<AddedLines>,
    },
    /// A large file's added lines, to be read block by block.
    Streamed(AddedStream),
}

/// The added end of a large file, as a stream of its bytes (not decoded):
/// up to a few unchanged lines of context, then every added line.
pub struct AddedStream {
    /// The line number of the first line `reader` gives.
    pub first_line: u32,
    /// The first added line; those before it are context.
    pub first_added_line: u32,
    /// Bytes of context at the start of `reader`.
    pub context_len: usize,
    /// About how many bytes are added.
    pub added_size: u64,
    /// Read once, by whoever scans it (behind a lock so that a changed
    /// file can be shared between the threads of a scan).
    pub reader: std::sync::Mutex<Box<dyn Read + Send>>,
}

impl std::fmt::Debug for AddedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddedStream")
            .field("first_line", &self.first_line)
            .field("first_added_line", &self.first_added_line)
            .field("context_len", &self.context_len)
            .field("added_size", &self.added_size)
            .finish_non_exhaustive()
    }
}

/// Blocks in which the two sides of a large file are compared.
const COMPARE_BLOCK: usize = 1 << 20;

/// The most context kept before a streamed run: lines are short, and one
/// that is not needs no more of itself to show what surrounds the change.
const MAX_STREAMED_CONTEXT: usize = 64 * 1024;

/// How many leading bytes decide that a file is binary (as in `text`).
const SNIFF_LEN: usize = 8000;

/// When `new` is `old` with lines added at its end, the added lines as a
/// stream (or `Binary`); `None` for any other change, and for what a block
/// reader would judge differently from the whole file (UTF-16, a NUL
/// early in the added part): those are diffed whole. The diff of a file
/// that only grew at its end adds exactly the lines after the old ones.
fn appended(
    old: &BlobStream,
    new: &BlobStream,
    context_lines: u32,
) -> Result<Option<ChangedContent>> {
    if new.size < old.size {
        return Ok(None);
    }
    let (mut old_reader, mut new_reader) = (old.open()?, new.open()?);
    let (mut a, mut b) = (vec![0u8; COMPARE_BLOCK], vec![0u8; COMPARE_BLOCK]);
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut tail: Vec<u8> = Vec::new();
    let mut lines = 0u32;
    let mut last_byte = None;
    loop {
        let n = read_full(&mut old_reader, &mut a)?;
        if n == 0 {
            break;
        }
        if read_full(&mut new_reader, &mut b[..n])? < n || a[..n] != b[..n] {
            return Ok(None);
        }
        let block = &a[..n];
        head.extend_from_slice(&block[..block.len().min(SNIFF_LEN - head.len())]);
        lines += memchr::memchr_iter(b'\n', block).count() as u32;
        last_byte = block.last().copied();
        keep_last_lines(&mut tail, block, context_lines);
    }
    let mut peek = vec![0u8; SNIFF_LEN];
    let peeked = read_full(&mut new_reader, &mut peek)?;
    peek.truncate(peeked);
    // The last old line must be whole in `new` too: ended by its newline,
    // or by the first byte added.
    if last_byte != Some(b'\n') {
        if peek.first() != Some(&b'\n') {
            return Ok(None);
        }
        peek.remove(0);
        lines += 1;
        keep_last_lines(&mut tail, b"\n", context_lines);
    }
    let missing = SNIFF_LEN - head.len();
    head.extend_from_slice(&peek[..peek.len().min(missing)]);
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Ok(None);
    }
    if is_binary(&head) {
        return Ok(Some(ChangedContent::Binary));
    }
    if peek.is_empty() {
        // Nothing added.
        return Ok(Some(ChangedContent::Text {
            text: String::new(),
            added: Vec::new(),
        }));
    }
    // A block reader judges its input by its start: context and the first
    // added bytes must read as the text they are in the whole file.
    let mut start = tail.clone();
    start.extend_from_slice(&peek);
    if is_binary(&start)
        || [&b"\xFF\xFE"[..], b"\xFE\xFF", b"\xEF\xBB\xBF"]
            .iter()
            .any(|bom| start.starts_with(bom))
    {
        return Ok(None);
    }
    let context_lines_kept = memchr::memchr_iter(b'\n', &tail).count() as u32;
    let context_len = tail.len();
    Ok(Some(ChangedContent::Streamed(AddedStream {
        first_line: lines + 1 - context_lines_kept,
        first_added_line: lines + 1,
        context_len,
        added_size: new.size - old.size,
        reader: std::sync::Mutex::new(Box::new(std::io::Cursor::new(start).chain(new_reader))),
    })))
}

/// Appends `block` to `tail` and keeps only its last `lines` whole lines
/// (at most [`MAX_STREAMED_CONTEXT`] bytes of them, from a line start).
fn keep_last_lines(tail: &mut Vec<u8>, block: &[u8], lines: u32) {
    if lines == 0 {
        return;
    }
    // Only the end of a large block can hold the lines kept.
    let from = block.len().saturating_sub(MAX_STREAMED_CONTEXT);
    let mid_line = from > 0 && block[from - 1] != b'\n';
    if from > 0 {
        tail.clear();
    }
    tail.extend_from_slice(&block[from..]);
    // The last byte is the newline ending the last line, if any.
    let body = &tail[..tail.len().saturating_sub(1)];
    let mut cut = match memchr::memrchr_iter(b'\n', body).nth(lines as usize - 1) {
        Some(i) => i + 1,
        // Cut inside a line: keep from the next line start.
        None if mid_line => memchr::memchr(b'\n', body).map_or(tail.len(), |i| i + 1),
        None => 0,
    };
    if tail.len() - cut > MAX_STREAMED_CONTEXT {
        let over = tail.len() - MAX_STREAMED_CONTEXT;
        cut = memchr::memchr(b'\n', &tail[over..]).map_or(tail.len(), |i| over + i + 1);
    }
    tail.drain(..cut);
}

/// Fills `buf` from `reader`, short only at the end of the input.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A run of consecutive added lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLines {
    pub first_line: u32,
    pub start: usize,
    pub end: usize,
}

/// A run of added lines with the unchanged lines read around it: what a
/// rule that spans lines needs to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithContext {
    /// Line number of the first line read.
    pub first_line: u32,
    /// Byte range read, in the file's text.
    pub start: usize,
    pub end: usize,
}

impl AddedLines {
    /// The run read with up to `before` unchanged lines before it and
    /// `after` after it. A key rotated in place adds a new body under a
    /// `BEGIN` line that is already committed; a manifest's new `value:`
    /// sits under its committed `- name:`; an access key ID added above
    /// its committed secret needs the line after. The rules need those
    /// lines to see the secret.
    pub fn with_context(&self, text: &str, before: u32, after: u32) -> WithContext {
        let bytes = text.as_bytes();
        let mut start = self.start;
        let mut first_line = self.first_line;
        while first_line > 1 && self.first_line - first_line < before && start > 0 {
            // `start - 1` is the newline that ends the line before.
            start = memchr::memrchr(b'\n', &bytes[..start - 1]).map_or(0, |i| i + 1);
            first_line -= 1;
        }
        // A run ends after its last line's newline (or at the end of text).
        let mut end = self.end;
        for _ in 0..after {
            if end >= bytes.len() {
                break;
            }
            end = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i + 1);
        }
        WithContext {
            first_line,
            start,
            end,
        }
    }
}

/// Every line of `text` as one run (none for an empty text).
fn all_lines(text: &str) -> Vec<AddedLines> {
    if text.is_empty() {
        return Vec::new();
    }
    vec![AddedLines {
        first_line: 1,
        start: 0,
        end: text.len(),
    }]
}

/// Decodes both sides and finds the added lines of `new`.
fn added_content(old: Option<&[u8]>, new: Vec<u8>) -> ChangedContent {
    let Some(text) = decode_owned(new) else {
        return ChangedContent::Binary;
    };
    let added = match old.map(decode) {
        Some(Decoded::Text(old_text)) => added_lines(&old_text, &text),
        // New file, or binary turned text: every line is added.
        None | Some(Decoded::Binary) => all_lines(&text),
    };
    ChangedContent::Text { text, added }
}

/// Runs of lines present in `new` but not in `old`.
///
/// Lines are compared without their line ending and trailing whitespace,
/// as `git diff --ignore-space-at-eol` does: a line whose only change is
/// CRLF to LF, or a last line that gains a final newline, is not added.
/// The diff is imara-diff's histogram diff (git's `--histogram`): several
/// times faster than libgit2's patch, which also hashed both buffers.
pub fn added_lines(old: &str, new: &str) -> Vec<AddedLines> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', new.as_bytes()).map(|i| i + 1))
        .filter(|&s| s < new.len())
        .collect();
    let line_end = |line: usize| line_starts.get(line).copied().unwrap_or(new.len());

    let input = InternedInput::new(ComparableLines(old), ComparableLines(new));
    let diff = Diff::compute(Algorithm::Histogram, &input);
    diff.hunks()
        .filter(|hunk| !hunk.after.is_empty())
        .map(|hunk| {
            let (first, last) = (hunk.after.start as usize, hunk.after.end as usize - 1);
            AddedLines {
                first_line: hunk.after.start + 1,
                start: line_starts[first],
                end: line_end(last + 1),
            }
        })
        .collect()
}

/// The lines of `new` added relative to every one of `parents` (`None`: a
/// parent without the file, or with a binary one): what a merge commit
/// adds. With no parent (a root commit), every line.
pub fn added_to_every_parent(new: &str, parents: &[Option<&str>]) -> Vec<AddedLines> {
    let mut added = all_lines(new);
    for parent in parents.iter().flatten() {
        if added.is_empty() {
            break;
        }
        added = intersect(new, &added, &added_lines(parent, new));
    }
    added
}

/// The lines in both `a` and `b`: sorted runs of whole lines of `text`.
fn intersect(text: &str, a: &[AddedLines], b: &[AddedLines]) -> Vec<AddedLines> {
    debug_assert!(a.iter().chain(b).all(|r| r.end <= text.len()));
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        // The later-starting run starts the overlap, and knows its line.
        let later = if a[i].start >= b[j].start {
            &a[i]
        } else {
            &b[j]
        };
        let end = a[i].end.min(b[j].end);
        if later.start < end {
            out.push(AddedLines {
                first_line: later.first_line,
                start: later.start,
                end,
            });
        }
        if a[i].end <= b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// A text's lines as the diff compares them: without the line ending and
/// trailing spaces and tabs. One token per entry of `added_lines`'
/// `line_starts`.
struct ComparableLines<'a>(&'a str);

impl<'a> TokenSource for ComparableLines<'a> {
    type Token = &'a str;
    type Tokenizer = LinesOf<'a>;

    fn tokenize(&self) -> Self::Tokenizer {
        LinesOf {
            text: self.0,
            newlines: memchr::memchr_iter(b'\n', self.0.as_bytes()),
            start: 0,
        }
    }

    fn estimate_tokens(&self) -> u32 {
        u32::try_from(memchr::memchr_iter(b'\n', self.0.as_bytes()).count() + 1).unwrap_or(u32::MAX)
    }
}

/// A text's comparable lines, found with SIMD memchr (str's own line
/// splitting showed up in profiles of large staged changes).
struct LinesOf<'a> {
    text: &'a str,
    newlines: memchr::Memchr<'a>,
    start: usize,
}

impl<'a> Iterator for LinesOf<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let end = match self.newlines.next() {
            Some(newline) => newline + 1,
            None if self.start < self.text.len() => self.text.len(),
            None => return None,
        };
        let line = &self.text[self.start..end];
        self.start = end;
        Some(line.trim_end_matches(['\n', '\r', ' ', '\t']))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(old: &str, new: &str) -> Vec<(u32, String)> {
        added_lines(old, new)
            .into_iter()
            .map(|r| (r.first_line, new[r.start..r.end].to_string()))
            .collect()
    }

    #[test]
    fn a_file_that_only_grew_adds_the_lines_after_its_old_ones_even_when_they_repeat() {
        // What `appended` assumes of the diff of a large file that grew.
        for (old, tail) in [
            ("a\nb\n", "a\nb\n"),
            ("x\n", "x\nx\ny\n"),
            ("p\nq\nq\n", "q\n"),
        ] {
            let new = format!("{old}{tail}");
            let first = old.lines().count() as u32 + 1;
            assert_eq!(
                added(old, &new),
                [(first, tail.to_string())],
                "{old:?} + {tail:?}"
            );
        }
    }

    #[test]
    fn the_context_kept_before_a_streamed_run_is_whole_lines() {
        let mut tail = Vec::new();
        keep_last_lines(&mut tail, b"one\ntwo\nthr", 2);
        keep_last_lines(&mut tail, b"ee\nfour\n", 2);
        assert_eq!(tail, b"three\nfour\n");
        // A block larger than the context kept: cut at a line start.
        let mut tail = Vec::new();
        let long = format!("{}\nlast\n", "x".repeat(MAX_STREAMED_CONTEXT + 10));
        keep_last_lines(&mut tail, long.as_bytes(), 4);
        assert_eq!(tail, b"last\n");
    }

    fn merge_added(new: &str, parents: &[Option<&str>]) -> Vec<(u32, String)> {
        added_to_every_parent(new, parents)
            .into_iter()
            .map(|r| (r.first_line, new[r.start..r.end].to_string()))
            .collect()
    }

    #[test]
    fn only_added_lines_with_new_line_numbers() {
        assert_eq!(
            added("a\nb\nc\n", "a\nX\nb\nc\nY\n"),
            [(2, "X\n".into()), (5, "Y\n".into())]
        );
    }

    #[test]
    fn removed_lines_add_nothing() {
        assert!(added("a\nsecret\nc\n", "a\nc\n").is_empty());
    }

    #[test]
    fn changed_line_and_missing_final_newline() {
        assert_eq!(added("a\nb", "a\nB"), [(2, "B".into())]);
    }

    #[test]
    fn appending_after_a_last_line_without_newline_adds_only_the_new_lines() {
        assert_eq!(
            added("x = 1\nkey", "x = 1\nkey\ny = 2\n"),
            [(3, "y = 2\n".into())]
        );
        assert_eq!(added("a\r\nb\r\n", "a\nb\n"), []);
    }

    #[test]
    fn crlf_lines() {
        assert_eq!(
            added("a\r\nb\r\n", "a\r\nnew\r\nb\r\n"),
            [(2, "new\r\n".into())]
        );
    }

    #[test]
    fn binary_new_side() {
        assert!(matches!(
            added_content(None, b"\0\x01\x02".to_vec()),
            ChangedContent::Binary
        ));
    }

    #[test]
    fn a_line_from_one_side_is_not_added_by_the_merge() {
        // Both sides edited a base of "a b c".
        let ours = "a\nOURS\nb\nc\n";
        let theirs = "a\nb\nc\nTHEIRS\n";
        let result = "a\nOURS\nb\nc\nTHEIRS\n";
        assert_eq!(merge_added(result, &[Some(ours), Some(theirs)]), []);
    }

    #[test]
    fn an_evil_line_is_added_relative_to_every_parent() {
        let ours = "a\nOURS\nb\n";
        let theirs = "a\nb\nTHEIRS\n";
        let result = "a\nOURS\nEVIL\nb\nTHEIRS\n";
        assert_eq!(
            merge_added(result, &[Some(ours), Some(theirs)]),
            [(3, "EVIL\n".into())]
        );
    }

    #[test]
    fn a_conflict_resolution_with_new_text_is_added() {
        let ours = "x = 1\n";
        let theirs = "x = 2\n";
        assert_eq!(
            merge_added("x = 3\n", &[Some(ours), Some(theirs)]),
            [(1, "x = 3\n".into())]
        );
        assert_eq!(merge_added("x = 2\n", &[Some(ours), Some(theirs)]), []);
    }

    #[test]
    fn octopus_and_missing_files() {
        let result = "one\ntwo\nthree\nfour\n";
        let parents = [Some("one\n"), Some("two\n"), None, Some("three\n")];
        assert_eq!(merge_added(result, &parents), [(4, "four\n".into())]);
        assert_eq!(merge_added(result, &[None]), [(1, result.into())]);
        assert_eq!(merge_added(result, &[]), [(1, result.into())]);
        assert_eq!(merge_added("", &[None]), []);
    }

    #[test]
    fn blobs_of_a_merge_keep_only_lines_added_to_every_parent() {
        let blobs = FileBlobs {
            path: "f".into(),
            old_path: None,
            new: b"a\nOURS\nEVIL\nb\nTHEIRS\n".to_vec(),
            old: Some(b"a\nOURS\nb\n".to_vec()),
            other_parents: vec![Some(b"a\nb\nTHEIRS\n".to_vec()), None, Some(vec![0, 1])],
        };
        let file = ChangedFile::from_blobs(blobs);
        let ChangedContent::Text { text, added } = &file.content else {
            panic!("text expected");
        };
        let runs: Vec<&str> = added.iter().map(|r| &text[r.start..r.end]).collect();
        assert_eq!(runs, ["EVIL\n"]);
    }

    #[test]
    fn context_is_whole_lines_before_and_after_the_run() {
        let text = "l1\nl2\nl3\nl4\nl5\nl6";
        let run = &added_lines("l1\nl2\nl6", text)[0];
        assert_eq!(&text[run.start..run.end], "l3\nl4\nl5\n");
        let read = |before, after| {
            let c = run.with_context(text, before, after);
            (c.first_line, &text[c.start..c.end])
        };
        assert_eq!(read(0, 0), (3, "l3\nl4\nl5\n"));
        assert_eq!(read(1, 1), (2, "l2\nl3\nl4\nl5\nl6"));
        assert_eq!(read(9, 9), (1, text));
        let last = AddedLines {
            first_line: 6,
            start: text.len() - 2,
            end: text.len(),
        };
        assert_eq!(last.with_context(text, 0, 3).end, text.len());
    }

    #[test]
    fn intersect_splits_runs_at_the_right_lines() {
        let text = "l1\nl2\nl3\nl4\nl5\n";
        let run = |first: u32, last: u32| AddedLines {
            first_line: first,
            start: 3 * (first as usize - 1),
            end: 3 * last as usize,
        };
        let a = [run(1, 3), run(5, 5)];
        let b = [run(2, 2), run(3, 5)];
        assert_eq!(intersect(text, &a, &b), [run(2, 2), run(3, 3), run(5, 5)]);
        assert_eq!(intersect(text, &a, &[]), []);
    }
}
