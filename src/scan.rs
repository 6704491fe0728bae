//! The scan: where the inputs (staged diff, files on disk) meet the detector
//! and become findings.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::config::Config;
use crate::detect::{Detector, Match};
use crate::finding::{Finding, Source};
use crate::git::history::History;
use crate::git::staged::{ChangedContent, ChangedFile, StagedChange};
use crate::progress::Progress;
use crate::rules::{compile_regex, RuleSpec, BUILTIN_RULES};
use crate::secret_files::{glob_set, SecretFiles};
use crate::text::{decode, is_binary, Decoded};

/// Files larger than this are read block by block (see
/// `Scanner::scan_large_file`), so that memory stays bounded.
const LARGE_FILE: u64 = 32 << 20;
const LARGE_FILE_BLOCK: usize = 8 << 20;

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
    pub fn from_config(config: &Config) -> Result<Scanner> {
        // Built-in rules are compiled on first use (the test suite compiles
        // them all); user rules now, so that a bad one fails the scan.
        let builtin = BUILTIN_RULES
            .iter()
            .filter(|b| !config.rules.iter().any(|user| user.id == b.id))
            .map(|b| Ok(b.to_rule()));
        let user = config.rules.iter().map(RuleSpec::compile);
        let rules = builtin
            .chain(user)
            .filter(|rule| {
                rule.as_ref()
                    .map_or(true, |r| !config.disabled_rules.iter().any(|d| *d == r.id))
            })
            .collect::<Result<Vec<_>>>()?;
        let allowed_values = config
            .allow
            .values
            .iter()
            .map(|v| {
                compile_regex(v).with_context(|| format!("[allow] values: invalid regex `{v}`"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Scanner {
            detector: Detector::with_allowed_values(rules, allowed_values),
            secret_files: SecretFiles::from_config(&config.secret_files)?,
            allowed_paths: glob_set(&config.allow.paths).context("in [allow] paths")?,
        })
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Tunes the scanner for the hook's few added lines (see
    /// [`Detector::for_small_inputs`]).
    pub fn for_small_inputs(mut self) -> Scanner {
        self.detector = self.detector.for_small_inputs();
        self
    }

    /// Reads and scans what the next commit adds.
    pub fn scan_staged(&self, staged: StagedChange) -> Result<ScanReport> {
        let started = Instant::now();
        let scan = |file: &ChangedFile| self.scan_changed_file(file, Source::Staged, None);
        // A large change: each file is scanned on the core that read it, as
        // soon as it is read, instead of reading everything first.
        let size_hint = staged.size_hint();
        if staged.reads_in_parallel() && size_hint > LARGE_STAGED_CHANGE {
            self.detector.expect_bytes(size_hint);
            let results = staged.read_each(|file| scan(&file))?;
            return Ok(assemble(results, Vec::new(), started));
        }
        let files = staged.read()?;
        let added_bytes: usize = files.iter().map(ChangedFile::added_len).sum();
        self.detector.expect_bytes(added_bytes);
        // Starting the thread pool costs more than scanning a few files.
        let results: Vec<FileResult> = if files.len() <= 4 && added_bytes < 256 * 1024 {
            files.iter().map(scan).collect()
        } else {
            files.par_iter().map(scan).collect()
        };
        Ok(assemble(results, Vec::new(), started))
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
                        .map(|f| self.scan_changed_file(f, Source::Commit, Some(id)))
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
                    self.scan_text(&file.path, text, 1, source, &mut result);
                } else {
                    for run in added {
                        self.scan_text(
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
            Err(e) => return Err(format!("cannot read {display}: {e}")),
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
        if metadata.len() > LARGE_FILE {
            return self
                .scan_large_file(display, path, result)
                .map_err(|e| format!("cannot read {display}: {e}"));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {display}: {e}"))?;
        match decode(&bytes) {
            Decoded::Binary => result.binary = true,
            Decoded::Text(text) => {
                result.scanned = true;
                self.scan_text(display, &text, 1, Source::Worktree, &mut result);
            }
        }
        Ok(result)
    }

    /// Scans a file too large to hold whole, block by block, each block
    /// ending at a line end, so memory stays bounded whatever its size.
    fn scan_large_file(
        &self,
        display: &str,
        path: &Path,
        mut result: FileResult,
    ) -> std::io::Result<FileResult> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let mut block = vec![0u8; LARGE_FILE_BLOCK];
        let mut pending: Vec<u8> = Vec::new();
        let mut line = 1u32;
        let mut first = true;
        loop {
            let read = file.read(&mut block)?;
            let at_end = read == 0;
            if first {
                first = false;
                // UTF-16 cannot be cut at a byte `\n`: read it whole.
                if block[..read].starts_with(b"\xFF\xFE")
                    || block[..read].starts_with(b"\xFE\xFF")
                    || is_binary(&block[..read])
                {
                    drop(block);
                    let bytes = std::fs::read(path)?;
                    match decode(&bytes) {
                        Decoded::Binary => result.binary = true,
                        Decoded::Text(text) => {
                            result.scanned = true;
                            self.scan_text(display, &text, 1, Source::Worktree, &mut result);
                        }
                    }
                    return Ok(result);
                }
                result.scanned = true;
            }
            pending.extend_from_slice(&block[..read]);
            let cut = if at_end {
                pending.len()
            } else {
                match memchr::memrchr(b'\n', &pending) {
                    Some(i) => i + 1,
                    None => continue, // one very long line: keep reading
                }
            };
            let rest = pending.split_off(cut);
            let chunk = std::mem::replace(&mut pending, rest);
            let lines_in_chunk = memchr::memchr_iter(b'\n', &chunk).count() as u32;
            if let Some(text) = crate::text::decode_owned(chunk) {
                self.scan_text(display, &text, line, Source::Worktree, &mut result);
            }
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
        path: &str,
        text: &str,
        first_line: u32,
        source: Source,
        result: &mut FileResult,
    ) {
        result.scanned_bytes += text.len() as u64;
        let mut matches: Vec<Match> = Vec::new();
        self.detector.scan_into(text, first_line, &mut matches);
        let rules = self.detector.rules();
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
