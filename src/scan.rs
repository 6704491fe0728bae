//! The scan: where the inputs (staged diff, files on disk) meet the detector
//! and become findings.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::config::Config;
use crate::detect::{Detector, Match, Profile};
use crate::finding::{Finding, Source};
use crate::git::history::History;
use crate::git::staged::{ChangedContent, ChangedFile, StagedChange};
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::secret_files::{glob_set, SecretFiles};
use crate::text::{decode, is_binary, quote_name, Decoded};

/// Files larger than this are read block by block (see
/// `Scanner::scan_large_file`), so that memory stays bounded.
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

/// A staged change read in parallel and about this large is scanned while
/// it is read: see [`Scanner::scan_staged`].
const LARGE_STAGED_CHANGE: usize = 1 << 20;

/// Counters for the summary line and the JSON `stats`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_skipped: u64,
    pub duration_ms: u64,
}

/// The result of a scan: findings, counters, and files that could not be
/// read (which make the scan incomplete).
#[derive(Debug, Default)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    pub errors: Vec<String>,
}

/// Rules, secret-file names and path allow-list, ready to scan.
pub struct Scanner {
    detector: Detector,
    secret_files: SecretFiles,
    allowed_paths: crate::glob::PathGlobs,
    large_file: LargeFiles,
}

/// What one file contributes.
#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    scanned_bytes: u64,
    binary: bool,
    scanned: bool,
}

impl Scanner {
    /// Built-in rules with the config applied: user rules added (replacing
    /// a built-in of the same id), disabled rules removed.
    pub fn from_config(config: &Config, profile: Profile) -> Result<Scanner> {
        let rules = RuleSet::new(&config.rules, &config.disabled_rules, &config.allow.values)?;
        Ok(Scanner {
            detector: Detector::new(rules, profile),
            secret_files: SecretFiles::from_config(&config.secret_files)?,
            allowed_paths: glob_set(&config.allow.paths).context("in [allow] paths")?,
            large_file: LargeFiles::default(),
        })
    }

    /// Reads files on disk block by block from another size on (tests use
    /// small blocks to cover many of them quickly).
    pub fn with_large_files(mut self, large_file: LargeFiles) -> Scanner {
        assert!(large_file.block > 0, "a block holds at least one byte");
        self.large_file = large_file;
        self
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Reads and scans what the next commit adds.
    pub fn scan_staged(&self, staged: StagedChange) -> Result<ScanReport> {
        let started = Instant::now();
        // A large change: each file is scanned on the core that read it, as
        // soon as it is read, instead of reading everything first.
        let size_hint = staged.size_hint();
        if staged.reads_in_parallel() && size_hint > LARGE_STAGED_CHANGE {
            let detector = self.detector_for(size_hint);
            let detector = detector.as_ref().unwrap_or(&self.detector);
            let scan =
                |file: &ChangedFile| self.scan_changed_file(detector, file, Source::Staged, None);
            let results = staged.read_each(|file| scan(&file))?;
            return Ok(assemble(results, Vec::new(), started));
        }
        let files = staged.read()?;
        let added_bytes: usize = files.iter().map(ChangedFile::added_len).sum();
        let detector = self.detector_for(added_bytes);
        let detector = detector.as_ref().unwrap_or(&self.detector);
        let scan =
            |file: &ChangedFile| self.scan_changed_file(detector, file, Source::Staged, None);
        // Starting the thread pool costs more than scanning a few files.
        let results: Vec<FileResult> = if files.len() <= 4 && added_bytes < 256 * 1024 {
            files.iter().map(scan).collect()
        } else {
            files.par_iter().map(scan).collect()
        };
        Ok(assemble(results, Vec::new(), started))
    }

    /// The profile for a staged change of `bytes`, chosen once the index is
    /// read: a large change is worth the bulk engines' build (`None`: this
    /// scanner's own detector fits).
    fn detector_for(&self, bytes: usize) -> Option<Detector> {
        let large = bytes > LARGE_STAGED_CHANGE && self.detector.profile() == Profile::Hook;
        large.then(|| self.detector.with_profile(Profile::Bulk))
    }

    /// Scans the lines each commit of `history` added, commits in parallel.
    pub fn scan_history(&self, history: &History, progress: &Progress) -> Result<ScanReport> {
        let started = Instant::now();
        let ids = history.commit_ids();
        let per_commit: Vec<Result<Vec<FileResult>>> = ids
            .par_iter()
            .map_init(
                || history.reader(),
                |reader, id| {
                    let reader = reader.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let files = reader.changes(id)?;
                    progress.inc();
                    Ok(files
                        .iter()
                        .map(|f| {
                            self.scan_changed_file(&self.detector, f, Source::Commit, Some(id))
                        })
                        .collect())
                },
            )
            .collect();
        let mut results = Vec::new();
        for commit in per_commit {
            results.extend(commit?);
        }
        Ok(assemble(results, Vec::new(), started))
    }

    fn scan_changed_file(
        &self,
        detector: &Detector,
        file: &ChangedFile,
        source: Source,
        commit: Option<&str>,
    ) -> FileResult {
        let mut result = FileResult::default();
        if self.allowed_paths.is_match(&file.path) {
            return result;
        }
        self.check_file_name(&file.path, source, &mut result);
        match &file.content {
            ChangedContent::Binary => result.binary = true,
            ChangedContent::Text { text, added } => {
                result.scanned = true;
                // A file moved out of an allowed path is new to the scan: all
                // of it is checked, so a rename cannot launder a secret.
                let moved_in = file
                    .old_path
                    .as_deref()
                    .is_some_and(|old| self.allowed_paths.is_match(old));
                if moved_in {
                    self.scan_text(detector, &file.path, text, 1, source, &mut result);
                } else {
                    for run in added {
                        self.scan_text(
                            detector,
                            &file.path,
                            &text[run.start..run.end],
                            run.first_line,
                            source,
                            &mut result,
                        );
                    }
                }
            }
        }
        if let Some(commit) = commit {
            for finding in &mut result.findings {
                finding.commit = Some(commit.to_string());
            }
        }
        result
    }

    /// Scans files on disk.
    pub fn scan_files(&self, files: &[DiskFile], progress: &Progress) -> ScanReport {
        let started = Instant::now();
        let outcomes: Vec<Result<FileResult, String>> = files
            .par_iter()
            .filter(|file| !self.allowed_paths.is_match(&file.repo_path))
            .map(|file| {
                let outcome = self.scan_file_on_disk(file);
                progress.inc();
                outcome
            })
            .collect();
        let mut results = Vec::with_capacity(outcomes.len());
        let mut errors = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(result) => results.push(result),
                Err(e) => errors.push(e),
            }
        }
        assemble(results, errors, started)
    }

    fn scan_file_on_disk(&self, file: &DiskFile) -> Result<FileResult, String> {
        let (display, path) = (file.display.as_str(), file.path.as_path());
        let mut result = FileResult::default();
        let metadata = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            // Tracked but deleted on disk: nothing there to leak.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(result),
            Err(e) => return Err(format!("cannot read {}: {e}", quote_name(display))),
        };
        if !metadata.is_file() {
            return Ok(result); // symlinks are not followed; folders are submodules
        }
        if self
            .secret_files
            .matching_pattern(&file.repo_path)
            .is_some()
        {
            self.check_file_name(&file.repo_path, Source::Worktree, &mut result);
            if let Some(finding) = result.findings.last_mut() {
                finding.path = display.to_string();
            }
        }
        // Names come from the repository: escaped in the message.
        let cannot_read = |e: std::io::Error| format!("cannot read {}: {e}", quote_name(display));
        if metadata.len() > self.large_file.threshold {
            let mut reader = std::fs::File::open(path).map_err(cannot_read)?;
            return self
                .scan_large_file(display, &mut reader, result)
                .map_err(cannot_read);
        }
        let bytes = std::fs::read(path).map_err(cannot_read)?;
        match decode(&bytes) {
            Decoded::Binary => result.binary = true,
            Decoded::Text(text) => {
                result.scanned = true;
                self.scan_text(
                    &self.detector,
                    display,
                    &text,
                    1,
                    Source::Worktree,
                    &mut result,
                );
            }
        }
        Ok(result)
    }

    /// Scans a file too large to hold whole, block by block, each block
    /// ending at a line end, so memory stays bounded whatever its size.
    /// Text or binary is decided once, from the file's start, as for a small
    /// file: every later block of a text file is scanned as text whatever
    /// bytes it holds, and a read error fails the file (the scan is then
    /// incomplete) instead of dropping what is left of it.
    fn scan_large_file(
        &self,
        display: &str,
        reader: &mut dyn std::io::Read,
        mut result: FileResult,
    ) -> std::io::Result<FileResult> {
        let block_len = self.large_file.block;
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
                        result.scanned = true;
                        self.scan_text(
                            &self.detector,
                            display,
                            &text,
                            1,
                            Source::Worktree,
                            &mut result,
                        );
                    }
                    return Ok(result);
                }
                if is_binary(&pending) {
                    result.binary = true;
                    return Ok(result);
                }
                result.scanned = true;
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
                    None if pending.len() >= LONG_LINE_BLOCKS * block_len => {
                        utf8_boundary(&pending)
                    }
                    None => continue,
                }
            };
            let rest = pending.split_off(cut);
            let chunk = std::mem::replace(&mut pending, rest);
            let lines_in_chunk = memchr::memchr_iter(b'\n', &chunk).count() as u32;
            let text = crate::text::decode_text_owned(chunk);
            self.scan_text(
                &self.detector,
                display,
                &text,
                line,
                Source::Worktree,
                &mut result,
            );
            line += lines_in_chunk;
            if at_end {
                return Ok(result);
            }
        }
    }

    fn check_file_name(&self, path: &str, source: Source, result: &mut FileResult) {
        if let Some(pattern) = self.secret_files.matching_pattern(path) {
            result.findings.push(Finding {
                rule_id: "secret-file".to_string(),
                description: format!("Secrets file (name matches `{pattern}`)"),
                path: path.to_string(),
                line: 1,
                column: 1,
                secret: path.to_string(),
                source,
                commit: None,
                env_var: None,
                is_secret_file: true,
            });
        }
    }

    fn scan_text(
        &self,
        detector: &Detector,
        path: &str,
        text: &str,
        first_line: u32,
        source: Source,
        result: &mut FileResult,
    ) {
        result.scanned_bytes += text.len() as u64;
        let mut matches: Vec<Match> = Vec::new();
        detector.scan_into(text, first_line, &mut matches);
        let rules = detector.rules();
        result.findings.extend(matches.into_iter().map(|m| {
            let rule = &rules[m.rule];
            Finding {
                rule_id: rule.id.to_string(),
                description: rule.description.to_string(),
                path: path.to_string(),
                line: m.line,
                column: m.column,
                secret: m.secret,
                source,
                commit: None,
                env_var: rule.env_var.as_deref().map(str::to_string),
                is_secret_file: false,
            }
        }));
    }
}

/// Appends up to `len` bytes from `reader` to `buffer`, fewer only at the
/// end of the input; returns how many.
fn read_block(
    reader: &mut dyn std::io::Read,
    buffer: &mut Vec<u8>,
    len: usize,
) -> std::io::Result<usize> {
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

fn assemble(results: Vec<FileResult>, errors: Vec<String>, started: Instant) -> ScanReport {
    let mut report = ScanReport {
        errors,
        ..ScanReport::default()
    };
    for result in results {
        report.stats.files_scanned += u64::from(result.scanned);
        report.stats.binary_skipped += u64::from(result.binary);
        report.stats.bytes_scanned += result.scanned_bytes;
        report.findings.extend(result.findings);
    }
    report.findings.sort_by(|a, b| {
        (&a.commit, &a.path, a.line, a.column, &a.rule_id)
            .cmp(&(&b.commit, &b.path, b.line, b.column, &b.rule_id))
    });
    // Two rules may report the same secret at the same place: keep one.
    report.findings.dedup_by(|b, a| {
        a.commit == b.commit && a.path == b.path && a.line == b.line && a.secret == b.secret
    });
    report.stats.duration_ms = started.elapsed().as_millis() as u64;
    report
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
    use crate::rules::examples::{expand, Rng};

    fn token(seed: u64) -> String {
        expand(&["ghp", "{{b62crc:30}}"].join("_"), &mut Rng::seeded(seed)).unwrap()
    }

    /// A scanner reading anything over 1 KB in 256-byte blocks.
    fn small_block_scanner() -> Scanner {
        Scanner::from_config(&Config::default(), Profile::Bulk)
            .unwrap()
            .with_large_files(LargeFiles {
                threshold: 1024,
                block: 256,
            })
    }

    fn scan(bytes: &[u8]) -> std::io::Result<FileResult> {
        small_block_scanner().scan_large_file("f", &mut &bytes[..], FileResult::default())
    }

    /// Text lines, then `later` from past the first block on.
    fn text_then(later: &[u8]) -> Vec<u8> {
        let mut bytes = "text line\n".repeat(60).into_bytes();
        bytes.extend_from_slice(later);
        bytes.extend_from_slice("more text\n".repeat(200).as_bytes());
        bytes
    }

    #[test]
    fn a_later_block_holding_nul_is_scanned_as_text() {
        let key = token(1);
        let result = scan(&text_then(format!("\0\0\0\nGH = \"{key}\"\n").as_bytes())).unwrap();
        assert!(result.scanned && !result.binary);
        let secrets: Vec<_> = result
            .findings
            .iter()
            .map(|f| (&f.secret, f.line))
            .collect();
        assert_eq!(secrets, [(&key, 62)]);
    }

    #[test]
    fn a_file_that_starts_binary_is_binary_whole() {
        let key = token(2);
        let mut bytes = b"\x89PNG\0\0\n".to_vec();
        bytes.extend_from_slice(&text_then(format!("GH = \"{key}\"\n").as_bytes()));
        let result = scan(&bytes).unwrap();
        assert!(result.binary && !result.scanned && result.findings.is_empty());
    }

    #[test]
    fn a_line_longer_than_a_few_blocks_is_cut_and_scanned() {
        let key = token(3);
        let long = format!("{}GH = \"{key}\"{}", "é".repeat(700), "x".repeat(2000));
        let result = scan(&text_then(long.as_bytes())).unwrap();
        assert_eq!(result.findings.len(), 1, "{:?}", result.findings);
    }

    #[test]
    fn a_block_that_cannot_be_read_fails_the_file() {
        struct FailsLater(usize);
        impl std::io::Read for FailsLater {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("device gone"));
                }
                let n = buf.len().min(self.0).min(100);
                buf[..n].fill(b'\n');
                self.0 -= n;
                Ok(n)
            }
        }
        let result =
            small_block_scanner().scan_large_file("f", &mut FailsLater(600), FileResult::default());
        assert_eq!(result.err().unwrap().to_string(), "device gone");
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
