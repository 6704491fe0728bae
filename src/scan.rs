//! The scan: chunks of text, read in parallel, through the detector, into
//! findings. The inputs come from `git` (the staged change, history, via
//! [`crate::lines`]) and [`crate::source::disk`]; which paths are scanned
//! and which names are secret comes from [`crate::policy`]. What cannot be
//! read is collected as a typed [`ScanError`], and the scan goes on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use rayon::prelude::*;

use crate::config::Config;
use crate::detect::{Detector, Match, Profile};
use crate::finding::{Finding, FindingKind, Origin, ScanError, ScanReport};
use crate::git::history::{CommitFile, CommitReader, History};
use crate::git::staged::StagedChange;
use crate::git::ContentKey;
use crate::lines::{AddedLines, ChangedContent, ChangedFile};
use crate::policy::PathPolicy;
use crate::progress::Progress;
use crate::rules::RuleSet;
use crate::source::disk::{self, Contents, DiskFile, LargeFiles};
use crate::source::Chunk;

/// A staged change read in parallel and about this large is scanned while
/// it is read: see [`Scanner::scan_staged`].
const LARGE_STAGED_CHANGE: usize = 1 << 20;

/// Rules, secret-file names and path allow-list, ready to scan.
pub struct Scanner {
    detector: Detector,
    policy: PathPolicy,
    large_files: LargeFiles,
}

/// What the detector found in one content (a changed file's added lines,
/// or a chunk on disk), before a path is given to it.
#[derive(Default)]
struct ContentScan {
    matches: Vec<Match>,
    scanned_bytes: u64,
    binary: bool,
    scanned: bool,
}

/// What one file contributes.
#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    scanned_bytes: u64,
    binary: bool,
    scanned: bool,
    /// Not scanned: `allow.paths` matches it.
    allowed: bool,
}

/// Unchanged lines read before each run of added lines (see
/// [`Scanner::detect_added`]): enough for a PEM `BEGIN` line and its
/// headers, a `- name:` above a `value:`, a Terraform `variable` line above
/// its description, type and `sensitive` and the `default` being added.
const CONTEXT_BEFORE: u32 = 6;

/// Unchanged lines read after each run: the paired rules (an AWS key ID
/// or a Twilio SID, then its secret) look up to three lines on.
const CONTEXT_AFTER: u32 = 4;

/// Commits a history scan hands a worker at a time: enough neighbours for
/// a reader's cache to serve a commit's old files from its parent's new
/// ones, few enough that two threads share the work evenly.
const HISTORY_RUN: usize = 16;

impl Scanner {
    /// Built-in rules with the config applied: user rules added (replacing
    /// a built-in of the same id), disabled rules removed.
    pub fn from_config(config: &Config, profile: Profile) -> Result<Scanner> {
        let rules = RuleSet::new(&config.rules, &config.disabled_rules, &config.allow.values)?;
        Ok(Scanner {
            detector: Detector::new(rules, profile),
            policy: PathPolicy::from_config(config)?,
            large_files: LargeFiles::default(),
        })
    }

    /// Reads files on disk block by block from another size on (tests use
    /// small blocks to cover many of them quickly).
    pub fn with_large_files(mut self, large_files: LargeFiles) -> Scanner {
        assert!(large_files.block > 0, "a block holds at least one byte");
        self.large_files = large_files;
        self
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The path rules in force: secret-file names and the allow-list.
    pub fn policy(&self) -> &PathPolicy {
        &self.policy
    }

    /// Scans changes that are not in git yet, under `origin`: what a coding
    /// agent is about to write (`agent::event`). Only added lines count, as
    /// for a staged change.
    pub fn scan_changes(&self, files: &[ChangedFile], origin: &Origin) -> ScanReport {
        let started = Instant::now();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for file in files {
            match self.scan_changed_file(&self.detector, file, origin) {
                Ok(result) => results.push(result),
                Err(e) => errors.push(ScanError::Read {
                    path: file.path.clone(),
                    source: std::io::Error::other(format!("{e:#}")),
                }),
            }
        }
        assemble(results, errors, started)
    }

    /// Scans `text` whole, reported as `path` (standard input, a command
    /// an agent will run, a prompt): no file name is judged, only the text.
    /// A large text is worth the bulk engines' build, as a large staged
    /// change is.
    pub fn scan_text(&self, path: &str, text: &str, origin: &Origin) -> ScanReport {
        let started = Instant::now();
        let detector = self.detector_for(text.len());
        let detector = detector.as_ref().unwrap_or(&self.detector);
        let mut result = FileResult {
            scanned: true,
            ..FileResult::default()
        };
        let chunk = Chunk {
            path,
            origin,
            first_line: 1,
            text,
            repeated: 0,
        };
        self.scan_chunk(detector, chunk, &mut result);
        assemble(vec![result], Vec::new(), started)
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
            let results = staged.read_each(|file| {
                let file = ChangedFile::from_changed(file, CONTEXT_BEFORE)?;
                self.scan_changed_file(detector, &file, &Origin::Staged)
            })?;
            let results = results.into_iter().collect::<Result<_>>()?;
            return Ok(assemble(results, Vec::new(), started));
        }
        let files: Vec<ChangedFile> = staged
            .read()?
            .into_iter()
            .map(|file| ChangedFile::from_changed(file, CONTEXT_BEFORE))
            .collect::<Result<_>>()?;
        let added_bytes: usize = files.iter().map(ChangedFile::added_len).sum();
        let detector = self.detector_for(added_bytes);
        let detector = detector.as_ref().unwrap_or(&self.detector);
        let scan = |file: &ChangedFile| self.scan_changed_file(detector, file, &Origin::Staged);
        // Starting the thread pool costs more than scanning a few files.
        let results: Vec<FileResult> = if files.len() <= 4 && added_bytes < 256 * 1024 {
            files.iter().map(scan).collect::<Result<_>>()?
        } else {
            files.par_iter().map(scan).collect::<Result<_>>()?
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
    /// A commit that cannot be read is reported, and the others scanned.
    ///
    /// A content met again (a cherry-pick, a rebased copy, a file copied
    /// to another path) is not read, diffed or scanned again: what the
    /// detector found in it is kept by its [`ContentKey`]. Only that is
    /// kept: the allow-list and the secret-file names are applied to each
    /// path, and each commit that adds a secret reports it.
    pub fn scan_history(&self, history: &History, progress: &Progress) -> ScanReport {
        let started = Instant::now();
        let ids = history.commit_ids();
        let scanned: Mutex<HashMap<(ContentKey, bool), Arc<ContentScan>>> = Mutex::default();
        let lookup = |key: &(ContentKey, bool)| {
            let cache = scanned.lock().unwrap_or_else(|e| e.into_inner());
            cache.get(key).cloned()
        };
        // Each thread keeps its reader (a repository handle, with its object
        // cache and the pack's delta bases) from one run of commits to the
        // next, taken from and given back to `readers`; rayon's `map_init`
        // opened one for every piece it split the list into (40 for 2,100
        // commits), each cold. Runs of neighbouring commits, which share
        // blobs (a commit's new file is its child's old one), go to one
        // reader.
        let readers: Mutex<Vec<CommitReader<'_>>> = Mutex::default();
        let scan_commit = |reader: &Result<CommitReader<'_>>, id: &String| {
            let origin = Origin::Commit(id.clone());
            let files = match reader {
                // `None` for an allowed path: nothing to read.
                Ok(reader) => reader.changes(id, |path, old_path, key| {
                    if self.policy.is_allowed(path) {
                        return Some(None);
                    }
                    let whole = self.policy.scans_whole(old_path);
                    lookup(&(key.clone(), whole)).map(Some)
                }),
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            }
            .map_err(|error| ScanError::Commit {
                id: id.clone(),
                error,
            })?;
            progress.inc();
            files
                .into_iter()
                .map(|file| match file {
                    CommitFile::Known {
                        path,
                        answer: Some(content),
                        ..
                    } => Ok(self.judge(&path, &origin, &content)),
                    // An allowed path: counted, never read.
                    CommitFile::Known { answer: None, .. } => Ok(FileResult {
                        allowed: true,
                        ..FileResult::default()
                    }),
                    CommitFile::Read { key, blobs } => {
                        let failed = |error| ScanError::Commit {
                            id: id.clone(),
                            error,
                        };
                        let file =
                            ChangedFile::from_changed(blobs, CONTEXT_BEFORE).map_err(failed)?;
                        let whole = self.policy.scans_whole(file.old_path.as_deref());
                        let content = Arc::new(
                            self.scan_content(&self.detector, &file.content, whole)
                                .map_err(failed)?,
                        );
                        let result = self.judge(&file.path, &origin, &content);
                        scanned
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert((key, whole), content);
                        Ok(result)
                    }
                })
                .collect::<Result<Vec<FileResult>, ScanError>>()
        };
        let per_commit: Vec<Result<Vec<FileResult>, ScanError>> = ids
            .par_chunks(HISTORY_RUN)
            .flat_map_iter(|run| {
                let taken = readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let reader = taken.map_or_else(|| history.reader(), Ok);
                let results: Vec<_> = run.iter().map(|id| scan_commit(&reader, id)).collect();
                if let Ok(reader) = reader {
                    readers
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(reader);
                }
                results
            })
            .collect();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for commit in per_commit {
            match commit {
                Ok(files) => results.extend(files),
                Err(e) => errors.push(e),
            }
        }
        let mut report = assemble(results, errors, started);
        report.stats.commits_scanned = Some(ids.len() as u64);
        report
    }

    fn scan_changed_file(
        &self,
        detector: &Detector,
        file: &ChangedFile,
        origin: &Origin,
    ) -> Result<FileResult> {
        if self.policy.is_allowed(&file.path) {
            return Ok(FileResult {
                allowed: true,
                ..FileResult::default()
            });
        }
        let whole = self.policy.scans_whole(file.old_path.as_deref());
        let content = self.scan_content(detector, &file.content, whole)?;
        Ok(self.judge(&file.path, origin, &content))
    }

    /// What the detector finds in a changed file's added lines (`whole`:
    /// in all of it), whatever the file's path. Only a streamed file can
    /// fail: reading it is part of scanning it.
    fn scan_content(
        &self,
        detector: &Detector,
        content: &ChangedContent,
        whole: bool,
    ) -> Result<ContentScan> {
        let mut scan = ContentScan::default();
        match content {
            ChangedContent::Binary => scan.binary = true,
            ChangedContent::Text { text, added } => {
                scan.scanned = true;
                if whole {
                    self.detect(detector, 1, text, None, &mut scan);
                } else {
                    for run in added {
                        self.detect_added(detector, text, run, &mut scan);
                    }
                }
            }
            // Streamed from the middle only when not renamed (see
            // `ChangedFile::from_changed`): `whole` then never applies.
            ChangedContent::Streamed(stream) => {
                self.detect_streamed(detector, stream, &mut scan)?
            }
        }
        Ok(scan)
    }

    /// A large file's added lines, block by block, as files on disk are
    /// read ([`disk::read_blocks`]): memory stays a few blocks whatever the
    /// file's size. The context lines before them are read with them, as
    /// [`Self::detect_added`] reads them, and likewise only what starts on
    /// an added line is kept.
    fn detect_streamed(
        &self,
        detector: &Detector,
        stream: &crate::lines::AddedStream,
        content: &mut ContentScan,
    ) -> Result<()> {
        let mut reader = stream.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut repeated = 0u64;
        let read = disk::read_blocks(&mut *reader, "", self.large_files, &mut |chunk| {
            let before = content.matches.len();
            let first_line = stream.first_line + (chunk.first_line - 1);
            self.detect(detector, first_line, chunk.text, None, content);
            repeated += chunk.repeated as u64;
            // A match in the bytes repeated from the chunk before (the
            // overlap) was kept then: keep it once.
            let (kept, new) = content.matches.split_at(before);
            let fresh: Vec<bool> = new
                .iter()
                .map(|m| {
                    m.line >= stream.first_added_line
                        && !kept
                            .iter()
                            .any(|k| (k.line, k.column, k.rule) == (m.line, m.column, m.rule))
                })
                .collect();
            let mut index = 0;
            content.matches.retain(|_| {
                index += 1;
                index <= before || fresh[index - before - 1]
            });
        })?;
        match read {
            Contents::Binary => content.binary = true,
            Contents::Text => {
                content.scanned = true;
                content.scanned_bytes = content
                    .scanned_bytes
                    .saturating_sub(stream.context_len as u64 + repeated);
            }
            Contents::Nothing => {}
        }
        Ok(())
    }

    /// The verdict on a scanned content at `path`: the secret-file name
    /// first, then what the detector found there.
    fn judge(&self, path: &str, origin: &Origin, content: &ContentScan) -> FileResult {
        let mut result = FileResult {
            scanned_bytes: content.scanned_bytes,
            binary: content.binary,
            scanned: content.scanned,
            allowed: false,
            findings: Vec::new(),
        };
        self.check_file_name(path, path, origin, &mut result);
        self.found(path, origin, content.matches.iter().cloned(), &mut result);
        result
    }

    /// Scans files on disk.
    pub fn scan_files(&self, files: &[DiskFile], progress: &Progress) -> ScanReport {
        let started = Instant::now();
        let outcomes: Vec<Result<FileResult, ScanError>> = files
            .par_iter()
            .map(|file| {
                let outcome = if self.policy.is_allowed(&file.repo_path) {
                    Ok(FileResult {
                        allowed: true,
                        ..FileResult::default()
                    })
                } else {
                    self.scan_disk_file(file)
                };
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

    fn scan_disk_file(&self, file: &DiskFile) -> Result<FileResult, ScanError> {
        let mut result = FileResult::default();
        let contents = disk::read(file, self.large_files, &mut |chunk| {
            self.scan_chunk(&self.detector, chunk, &mut result)
        })?;
        if contents != Contents::Nothing {
            self.check_file_name(
                &file.repo_path,
                &file.display,
                &Origin::Worktree,
                &mut result,
            );
        }
        result.note(contents);
        Ok(result)
    }

    /// A finding, first in the file's list, when `path`'s name marks it as
    /// a secrets file; reported under `display`.
    fn check_file_name(&self, path: &str, display: &str, origin: &Origin, result: &mut FileResult) {
        if let Some(pattern) = self.policy.secret_file_pattern(path) {
            let finding = Finding::secret_file(path, display, pattern, origin.clone());
            result.findings.insert(0, finding);
        }
    }

    /// A chunk of a file on disk, scanned into `result`.
    fn scan_chunk(&self, detector: &Detector, chunk: Chunk<'_>, result: &mut FileResult) {
        let mut content = ContentScan::default();
        self.detect(detector, chunk.first_line, chunk.text, None, &mut content);
        // A secret found in the repeated bytes is found again: `assemble`
        // drops the second finding like any duplicate.
        result.scanned_bytes += content.scanned_bytes.saturating_sub(chunk.repeated as u64);
        self.found(
            chunk.path,
            chunk.origin,
            content.matches.into_iter(),
            result,
        );
    }

    /// A run of added lines of `text`, read with the committed lines
    /// around it: a rule then sees what surrounds the change (a rotated key
    /// body under its committed `BEGIN` line, a new `value:` under its
    /// `- name:`, a key ID added above its committed secret). Only what
    /// touches an added line is kept: the context is committed, and a
    /// committed secret the change does not touch was judged when it was
    /// added.
    fn detect_added(
        &self,
        detector: &Detector,
        text: &str,
        run: &AddedLines,
        content: &mut ContentScan,
    ) {
        let read = run.with_context(text, CONTEXT_BEFORE, CONTEXT_AFTER);
        // The added lines, as offsets in the text read.
        let added = (run.start - read.start, run.end - read.start);
        let read_text = &text[read.start..read.end];
        self.detect(detector, read.first_line, read_text, Some(added), content);
        // Bytes scanned counts what the commit adds, not the context.
        content.scanned_bytes -= (read_text.len() - (run.end - run.start)) as u64;
    }

    /// The one place the detector is called: text, the line it starts at,
    /// and the range a change touched (`None`: all of it), never a path.
    fn detect(
        &self,
        detector: &Detector,
        first_line: u32,
        text: &str,
        changed: Option<(usize, usize)>,
        content: &mut ContentScan,
    ) {
        content.scanned_bytes += text.len() as u64;
        match changed {
            Some(changed) => {
                detector.scan_touching(text, first_line, changed, &mut content.matches)
            }
            None => detector.scan_into(text, first_line, &mut content.matches),
        }
    }

    /// The findings of `matches` in the file `path`.
    fn found(
        &self,
        path: &str,
        origin: &Origin,
        matches: impl Iterator<Item = Match>,
        result: &mut FileResult,
    ) {
        let rules = self.detector.rules();
        // Files for readers (API examples, documentation, translations):
        // made-up values and words under credential names, so only the
        // rules that know a format apply.
        let loose = !self.policy.is_for_readers(path);
        let applies = |m: &Match| loose || !rules[m.rule].generic;
        result.findings.extend(matches.filter(applies).map(|m| {
            let rule = &rules[m.rule];
            // "base64 of percent-encoding of OpenAI API key": what was
            // inside, outermost first.
            let description = m
                .encodings
                .iter()
                .rev()
                .fold(rule.description.to_string(), |inner, encoding| {
                    format!("{} of {inner}", encoding.name())
                });
            Finding {
                rule_id: rule.id.to_string(),
                description,
                path: path.to_string(),
                line: m.line,
                column: m.column,
                kind: FindingKind::Secret {
                    secret: m.secret,
                    env_var: rule.env_var.as_deref().map(str::to_string),
                },
                origin: origin.clone(),
            }
        }));
    }
}

impl FileResult {
    fn note(&mut self, contents: Contents) {
        match contents {
            Contents::Nothing => {}
            Contents::Binary => self.binary = true,
            Contents::Text => self.scanned = true,
        }
    }
}

fn assemble(results: Vec<FileResult>, errors: Vec<ScanError>, started: Instant) -> ScanReport {
    let mut report = ScanReport {
        errors,
        ..ScanReport::default()
    };
    for result in results {
        report.stats.files_scanned += u64::from(result.scanned);
        report.stats.binary_skipped += u64::from(result.binary);
        report.stats.allowed_skipped += u64::from(result.allowed);
        report.stats.bytes_scanned += result.scanned_bytes;
        report.findings.extend(result.findings);
    }
    report.findings.sort_by(|a, b| {
        (a.origin.commit(), &a.path, a.line, a.column, &a.rule_id).cmp(&(
            b.origin.commit(),
            &b.path,
            b.line,
            b.column,
            &b.rule_id,
        ))
    });
    // Two rules may report the same secret at the same place: keep one.
    report.findings.dedup_by(|b, a| {
        a.origin.commit() == b.origin.commit()
            && a.path == b.path
            && a.line == b.line
            && a.matched_text() == b.matched_text()
    });
    report.stats.duration_ms = started.elapsed().as_millis() as u64;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::examples::{expand, Rng};

    fn token(seed: u64) -> String {
        expand(&["ghp", "{{b62crc:30}}"].join("_"), &mut Rng::seeded(seed)).unwrap()
    }

    fn scanner() -> Scanner {
        Scanner::from_config(&Config::default(), Profile::Bulk).unwrap()
    }

    /// 256-byte blocks, each chunk repeating the last 128 bytes or more of
    /// the one before.
    const SMALL_BLOCKS: LargeFiles = LargeFiles {
        threshold: 0,
        block: 256,
        overlap: 128,
    };

    /// `reader` read as a large file in 256-byte blocks and scanned.
    fn scan_blocks(reader: &mut dyn std::io::Read) -> std::io::Result<FileResult> {
        scan_in_blocks(&scanner(), reader, SMALL_BLOCKS)
    }

    fn scan_in_blocks(
        scanner: &Scanner,
        reader: &mut dyn std::io::Read,
        large: LargeFiles,
    ) -> std::io::Result<FileResult> {
        let mut result = FileResult::default();
        let contents = disk::read_blocks(reader, "f", large, &mut |chunk| {
            scanner.scan_chunk(&scanner.detector, chunk, &mut result)
        })?;
        result.note(contents);
        // As a scan assembles its report: a secret in the repeated part of
        // two chunks is reported once.
        let findings = std::mem::take(&mut result.findings);
        let scanned = FileResult {
            findings,
            ..FileResult::default()
        };
        result.findings = assemble(vec![scanned], Vec::new(), Instant::now()).findings;
        Ok(result)
    }

    /// What `tool args...` prints, made at test time in a fresh folder
    /// (`{dir}` in an argument names it); `None` when the tool is missing.
    fn made_by(tool: &str, args: &[&str], output_file: Option<&str>) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let dir_text = dir.path().to_str().unwrap();
        let args: Vec<String> = args.iter().map(|a| a.replace("{dir}", dir_text)).collect();
        let output = match std::process::Command::new(tool).args(&args).output() {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("{tool}: {e}"),
        };
        assert!(output.status.success(), "{tool} {args:?}: {output:?}");
        Some(match output_file {
            Some(file) => std::fs::read_to_string(dir.path().join(file)).unwrap(),
            None => String::from_utf8(output.stdout).unwrap(),
        })
    }

    /// A private key made by a real tool, in a file read in blocks smaller
    /// than the key, at every position from wholly before a cut to wholly
    /// after it: found once, where a scan of the whole file finds it.
    #[test]
    fn a_private_key_across_a_block_boundary_is_found_once() {
        let keys = [
            made_by(
                "openssl",
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                ],
                None,
            ),
            made_by(
                "ssh-keygen",
                &[
                    "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", "{dir}/id",
                ],
                Some("id"),
            ),
        ];
        let large = LargeFiles {
            threshold: 0,
            block: 256,
            overlap: 2048,
        };
        let scanner = scanner();
        let mut tried = 0;
        for key in keys.into_iter().flatten() {
            assert!(key.len() > large.block && key.len() < large.overlap);
            let filler = |n: usize| "let x = 1;\n".repeat(n);
            // From a cut just after the key to one just before it.
            let cuts_inside_the_key = (0..=key.len() / 11 + 1).map(|n| filler(30 + n));
            for before in cuts_inside_the_key {
                let text = format!("{before}{key}{}", filler(300));
                let place = |findings: &[Finding]| -> Vec<(String, u32, usize, String)> {
                    let place = |f: &Finding| {
                        let secret = f.matched_text().to_string();
                        (f.rule_id.clone(), f.line, f.column, secret)
                    };
                    findings.iter().map(place).collect()
                };
                let whole = place(&scanner.scan_text("f", &text, &Origin::Worktree).findings);
                assert_eq!(whole.len(), 1, "one finding in the whole file");
                assert_eq!(whole[0].0, "private-key");
                let result = scan_in_blocks(&scanner, &mut text.as_bytes(), large).unwrap();
                let in_blocks = place(&result.findings);
                assert!(in_blocks == whole, "key at byte {}", before.len());
                assert_eq!(result.scanned_bytes, text.len() as u64);
                tried += 1;
            }
        }
        if tried == 0 {
            eprintln!("neither openssl nor ssh-keygen is installed: nothing to test");
        }
    }

    fn scan(bytes: &[u8]) -> std::io::Result<FileResult> {
        scan_blocks(&mut &bytes[..])
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
            .map(|f| (f.matched_text(), f.line))
            .collect();
        assert_eq!(secrets, [(key.as_str(), 62)]);
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
        let result = scan_blocks(&mut FailsLater(600));
        assert_eq!(result.err().unwrap().to_string(), "device gone");
    }

    #[test]
    fn an_unreadable_file_is_a_typed_error_naming_it_and_the_rest_is_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let key = token(4);
        std::fs::write(dir.path().join("a.txt"), format!("GH = \"{key}\"\n")).unwrap();
        // A folder where a file is expected cannot be read as one.
        let folder = DiskFile {
            display: "b\u{1b}.txt".into(),
            path: dir.path().join("missing-dir").join("b.txt"),
            repo_path: "b.txt".into(),
        };
        std::fs::write(dir.path().join("missing-dir"), "a file, not a folder").unwrap();
        let files = [DiskFile::in_repo(dir.path(), "a.txt".into()), folder];
        let report = scanner().scan_files(&files, &Progress::hidden());
        assert_eq!(report.findings.len(), 1);
        let [ScanError::Read { path, .. }] = report.errors.as_slice() else {
            panic!("one read error expected: {:?}", report.errors);
        };
        assert_eq!(path, "b\u{1b}.txt");
        assert!(
            report.errors[0]
                .to_string()
                .starts_with("cannot read \"b\\x1b.txt\": "),
            "{}",
            report.errors[0]
        );
    }

    #[test]
    fn a_secret_file_is_reported_by_name_first_and_its_lines_scanned() {
        let key = token(5);
        let file = ChangedFile::from_blobs(crate::git::FileBlobs {
            path: "app/.env".into(),
            old_path: None,
            new: format!("GH = \"{key}\"\n").into_bytes(),
            old: None,
            other_parents: Vec::new(),
        });
        let scanner = scanner();
        let result = scanner
            .scan_changed_file(&scanner.detector, &file, &Origin::Commit("c0ffee".into()))
            .unwrap();
        let kinds: Vec<(&str, bool, Option<&str>)> = result
            .findings
            .iter()
            .map(|f| (f.rule_id.as_str(), f.is_secret_file(), f.origin.commit()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("secret-file", true, Some("c0ffee")),
                ("github-token", false, Some("c0ffee"))
            ]
        );
        assert_eq!(result.findings[0].matched_text(), "app/.env");
    }

    /// Runs git in `dir`, asserting success; returns stdout.
    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[test]
    fn a_commit_that_cannot_be_read_is_a_typed_error_and_the_others_are_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let key = token(6);
        std::fs::write(root.join("a.py"), format!("GH = \"{key}\"\n")).unwrap();
        git(root, &["add", "a.py"]);
        git(root, &["commit", "-q", "--no-verify", "-m", "key"]);
        std::fs::write(root.join("b.py"), "x = 1\n").unwrap();
        git(root, &["add", "b.py"]);
        git(root, &["commit", "-q", "--no-verify", "-m", "broken"]);
        let broken = git(root, &["rev-parse", "HEAD"]).trim().to_string();
        let blob = git(root, &["rev-parse", "HEAD:b.py"]).trim().to_string();
        std::fs::remove_file(root.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();

        let repo = crate::git::Repo::open(root, None, crate::git::Comparison::CacheTree).unwrap();
        let history = repo.history(None).unwrap();
        let report = scanner().scan_history(&history, &Progress::hidden());
        let found: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.path.as_str(), f.matched_text()))
            .collect();
        assert_eq!(found, [("a.py", key.as_str())]);
        let [ScanError::Commit { id, .. }] = report.errors.as_slice() else {
            panic!("one commit error expected: {:?}", report.errors);
        };
        assert_eq!(id, &broken);
        assert!(
            report.errors[0].to_string().contains("b.py"),
            "{}",
            report.errors[0]
        );
    }

    /// What a scan found: (path, line, column, secret) of each finding,
    /// and the bytes scanned.
    type Found = (Vec<(String, u32, usize, String)>, u64);

    fn found_in(report: &ScanReport) -> Found {
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let found = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.path.clone(),
                    f.line,
                    f.column,
                    f.matched_text().to_string(),
                )
            })
            .collect();
        (found, report.stats.bytes_scanned)
    }

    /// The staged change and the history of `root`, scanned with blobs
    /// read whole and with blobs from 64 KiB on streamed in 4 KiB blocks.
    fn scanned_whole_and_streamed(root: &std::path::Path) -> [[Found; 2]; 2] {
        let scanner = scanner().with_large_files(LargeFiles {
            threshold: 64 * 1024,
            block: 4096,
            overlap: 1024,
        });
        [u64::MAX, 64 * 1024].map(|stream_from| {
            let mut repo =
                crate::git::Repo::open(root, None, crate::git::Comparison::CacheTree).unwrap();
            repo.stream_blobs_from(stream_from);
            let staged = scanner.scan_staged(repo.staged_change().unwrap()).unwrap();
            let history = scanner.scan_history(&repo.history(None).unwrap(), &Progress::hidden());
            [found_in(&staged), found_in(&history)]
        })
    }

    /// How each staged file of `root` is handed over when blobs from
    /// 64 KiB on are streamed: (path, streamed by git/, streamed by lines).
    fn staged_ways(root: &std::path::Path) -> Vec<(String, bool, bool)> {
        let mut repo =
            crate::git::Repo::open(root, None, crate::git::Comparison::CacheTree).unwrap();
        repo.stream_blobs_from(64 * 1024);
        let change = repo.staged_change().unwrap();
        change
            .read()
            .unwrap()
            .into_iter()
            .map(|blobs| {
                let from_git = matches!(blobs, crate::git::ChangedBlobs::Streamed(_));
                let file = ChangedFile::from_changed(blobs, CONTEXT_BEFORE).unwrap();
                let streamed = matches!(file.content, ChangedContent::Streamed(_));
                (file.path, from_git, streamed)
            })
            .collect()
    }

    #[test]
    fn a_large_file_that_grew_or_is_new_is_streamed_and_finds_what_reading_it_whole_finds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        // ~200 KiB of text, committed; then lines appended, the last one
        // with a key, and a new large file with a key at its end.
        let body: String = (0..4000)
            .map(|i| format!("let value_{i} = compute({i});\n"))
            .collect();
        std::fs::write(root.join("big.rs"), &body).unwrap();
        git(root, &["add", "big.rs"]);
        git(root, &["commit", "-q", "--no-verify", "-m", "big"]);
        let (grown, fresh) = (token(7), token(8));
        let appended = format!("{body}{}GH = \"{grown}\"\n", "let more = 1;\n".repeat(300));
        std::fs::write(root.join("big.rs"), &appended).unwrap();
        std::fs::write(root.join("new.rs"), format!("{body}GH = \"{fresh}\"\n")).unwrap();
        git(root, &["add", "big.rs", "new.rs"]);
        for packed in [false, true] {
            if packed {
                // Packed objects are streamed by `git cat-file`.
                git(root, &["repack", "-a", "-d", "-q"]);
                git(root, &["prune-packed"]);
            }
            let both_streamed = [
                ("big.rs".to_string(), true, true),
                ("new.rs".to_string(), true, true),
            ];
            assert_eq!(staged_ways(root), both_streamed);
            let [whole, streamed] = scanned_whole_and_streamed(root);
            assert_eq!(whole, streamed, "packed: {packed}");
            let staged: Vec<_> = whole[0]
                .0
                .iter()
                .map(|(p, l, _, s)| (p.as_str(), *l, s.as_str()))
                .collect();
            assert_eq!(
                staged,
                [
                    ("big.rs", 4301, grown.as_str()),
                    ("new.rs", 4001, fresh.as_str())
                ]
            );
        }
        git(root, &["commit", "-q", "--no-verify", "-m", "grown"]);
        let [whole, streamed] = scanned_whole_and_streamed(root);
        assert_eq!(whole[1], streamed[1]);
        assert_eq!(whole[1].0.len(), 2, "{:?}", whole[1]);
    }

    #[test]
    fn a_large_file_changed_in_the_middle_is_read_whole_and_only_added_lines_count() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let old_key = token(9);
        let lines: Vec<String> = (0..4000)
            .map(|i| format!("let value_{i} = compute({i});\n"))
            .collect();
        let mut old = lines.clone();
        old[10] = format!("GH = \"{old_key}\"\n");
        std::fs::write(root.join("big.rs"), old.concat()).unwrap();
        git(root, &["add", "big.rs"]);
        git(root, &["commit", "-q", "--no-verify", "-m", "big"]);
        let new_key = token(10);
        let mut new = old.clone();
        new[2000] = format!("GH = \"{new_key}\"\n");
        // The old last line loses its newline's company: not a plain append.
        new.push("tail without newline".into());
        std::fs::write(root.join("big.rs"), new.concat()).unwrap();
        git(root, &["add", "big.rs"]);
        assert_eq!(staged_ways(root), [("big.rs".to_string(), true, false)]);
        let [whole, streamed] = scanned_whole_and_streamed(root);
        assert_eq!(whole, streamed);
        let staged: Vec<_> = whole[0]
            .0
            .iter()
            .map(|(_, l, _, s)| (*l, s.as_str()))
            .collect();
        assert_eq!(staged, [(2001, new_key.as_str())]);
    }

    #[test]
    fn a_secret_file_on_disk_is_shown_as_typed_and_hashed_by_its_repository_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/.env"), "A=1\n").unwrap();
        let file = DiskFile {
            display: ".env".into(),
            path: dir.path().join("app/.env"),
            repo_path: "app/.env".into(),
        };
        let report = scanner().scan_files(&[file], &Progress::hidden());
        let [finding] = report.findings.as_slice() else {
            panic!("one finding expected: {:?}", report.findings);
        };
        assert!(finding.is_secret_file());
        assert_eq!(
            (finding.path.as_str(), finding.matched_text()),
            (".env", "app/.env")
        );
        assert_eq!(finding.origin, Origin::Worktree);
    }
}
