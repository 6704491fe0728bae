//! Where a scan's time goes inside the detector (`--timings`): bytes read
//! and decoded, keyword hits, the lines that reach each rule's regex and
//! the time spent there, base64 tokens decoded.
//!
//! Off unless [`enable`] is called: the hot path then tests one relaxed
//! atomic per chunk and per regex run, and takes no clock. When on, each
//! chunk counts into its own [`ChunkProfile`] and adds it to the process
//! totals once, under a lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
static TOTALS: Mutex<Option<Totals>> = Mutex::new(None);

/// Starts counting, for the rest of the process.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The cost of one rule's regex.
#[derive(Debug, Default, Clone, Copy)]
pub struct RuleCost {
    /// Lines (or multi-line windows) the regex ran on.
    pub runs: u64,
    /// Bytes it ran over.
    pub bytes: u64,
    pub nanos: u64,
    /// Matches of the regex, before the rule's checks.
    pub matches: u64,
    /// Matches that became findings.
    pub reported: u64,
}

/// Counts over the whole process.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    /// Files read from disk (whole, not block by block), their bytes, and
    /// the time to read them and to decode them into text.
    pub files_read: u64,
    pub bytes_read: u64,
    pub read_nanos: u64,
    pub decode_nanos: u64,
    /// Text handed to the detector (decoded tokens included).
    pub chunks: u64,
    pub bytes_scanned: u64,
    /// The keyword stage: searcher hits, (line, rule) candidates, time.
    pub keyword_hits: u64,
    pub candidates: u64,
    pub prefilter_nanos: u64,
    /// Lines holding a provider keyword in base64, and the time spent
    /// decoding their tokens and scanning what they hold (that scan is
    /// counted again as chunks of its own).
    pub decode_lines: u64,
    pub decoded_nanos: u64,
    pub rules: HashMap<usize, RuleCost>,
}

/// One chunk's counts: `None` when profiling is off.
pub struct ChunkProfile(Option<Box<Totals>>);

impl ChunkProfile {
    pub fn start() -> ChunkProfile {
        ChunkProfile(enabled().then(Box::default))
    }

    /// A clock reading, only when profiling.
    pub fn clock(&self) -> Option<Instant> {
        self.0.as_ref().map(|_| Instant::now())
    }

    pub fn scanned(
        &mut self,
        bytes: usize,
        keyword_hits: usize,
        candidates: usize,
        since: Option<Instant>,
    ) {
        if let (Some(t), Some(since)) = (self.0.as_mut(), since) {
            t.chunks += 1;
            t.bytes_scanned += bytes as u64;
            t.keyword_hits += keyword_hits as u64;
            t.candidates += candidates as u64;
            t.prefilter_nanos += since.elapsed().as_nanos() as u64;
        }
    }

    pub fn regex_ran(
        &mut self,
        rule: usize,
        bytes: usize,
        matches: u64,
        reported: u64,
        since: Option<Instant>,
    ) {
        if let (Some(t), Some(since)) = (self.0.as_mut(), since) {
            let cost = t.rules.entry(rule).or_default();
            cost.runs += 1;
            cost.bytes += bytes as u64;
            cost.nanos += since.elapsed().as_nanos() as u64;
            cost.matches += matches;
            cost.reported += reported;
        }
    }

    pub fn decoded(&mut self, since: Option<Instant>) {
        if let (Some(t), Some(since)) = (self.0.as_mut(), since) {
            t.decode_lines += 1;
            t.decoded_nanos += since.elapsed().as_nanos() as u64;
        }
    }
}

impl Drop for ChunkProfile {
    fn drop(&mut self) {
        if let Some(chunk) = self.0.take() {
            add(|t| t.merge(&chunk));
        }
    }
}

/// A file read from disk: its size, and when reading it started, ended,
/// and decoding it into text ended (the clock is read only while
/// profiling).
pub fn file_read(
    bytes: usize,
    started: Option<Instant>,
    read: Option<Instant>,
    decoded: Option<Instant>,
) {
    if let (Some(started), Some(read), Some(decoded)) = (started, read, decoded) {
        add(|t| {
            t.files_read += 1;
            t.bytes_read += bytes as u64;
            t.read_nanos += (read - started).as_nanos() as u64;
            t.decode_nanos += (decoded - read).as_nanos() as u64;
        });
    }
}

fn add(update: impl FnOnce(&mut Totals)) {
    let mut totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    update(totals.get_or_insert_with(Totals::default));
}

/// The counts so far.
pub fn totals() -> Totals {
    let totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    totals.clone().unwrap_or_default()
}

impl Totals {
    fn merge(&mut self, other: &Totals) {
        self.files_read += other.files_read;
        self.bytes_read += other.bytes_read;
        self.read_nanos += other.read_nanos;
        self.decode_nanos += other.decode_nanos;
        self.chunks += other.chunks;
        self.bytes_scanned += other.bytes_scanned;
        self.keyword_hits += other.keyword_hits;
        self.candidates += other.candidates;
        self.prefilter_nanos += other.prefilter_nanos;
        self.decode_lines += other.decode_lines;
        self.decoded_nanos += other.decoded_nanos;
        for (&rule, cost) in &other.rules {
            let mine = self.rules.entry(rule).or_default();
            mine.runs += cost.runs;
            mine.bytes += cost.bytes;
            mine.nanos += cost.nanos;
            mine.matches += cost.matches;
            mine.reported += cost.reported;
        }
    }

    /// The report, one line each; `rule_id` names a rule index. Times are
    /// summed over threads (CPU time, not wall time).
    pub fn lines(&self, rule_id: impl Fn(usize) -> String) -> Vec<String> {
        let mb = |bytes: u64| bytes as f64 / 1e6;
        let ms = |nanos: u64| nanos as f64 / 1e6;
        let per_mb = |n: u64| n as f64 / mb(self.bytes_scanned).max(1e-9);
        let regex_nanos: u64 = self.rules.values().map(|c| c.nanos).sum();
        let regex_runs: u64 = self.rules.values().map(|c| c.runs).sum();
        let mut lines = vec![
            format!(
                "read {} files, {:.1} MB: read {:.0} ms, decode to text {:.0} ms",
                self.files_read,
                mb(self.bytes_read),
                ms(self.read_nanos),
                ms(self.decode_nanos)
            ),
            format!(
                "detector: {} chunks, {:.1} MB; keyword stage {:.0} ms (prefilter, includes nothing else): \
                 {} hits ({:.0}/MB), {} line-rule candidates ({:.0}/MB)",
                self.chunks,
                mb(self.bytes_scanned),
                ms(self.prefilter_nanos),
                self.keyword_hits,
                per_mb(self.keyword_hits),
                self.candidates,
                per_mb(self.candidates)
            ),
            format!(
                "regexes: {} runs ({:.0}/MB), {:.0} ms; base64 decoding: {} lines, {:.0} ms",
                regex_runs,
                per_mb(regex_runs),
                ms(regex_nanos),
                self.decode_lines,
                ms(self.decoded_nanos)
            ),
        ];
        let mut rules: Vec<(&usize, &RuleCost)> = self.rules.iter().collect();
        rules.sort_by_key(|(_, cost)| std::cmp::Reverse(cost.nanos));
        for (&rule, cost) in rules.into_iter().take(25) {
            lines.push(format!(
                "  rule {}: {} runs ({:.1}/MB), {:.1} MB, {:.1} ms, {} regex matches, {} reported",
                rule_id(rule),
                cost.runs,
                per_mb(cost.runs),
                mb(cost.bytes),
                ms(cost.nanos),
                cost.matches,
                cost.reported
            ));
        }
        lines
    }
}
