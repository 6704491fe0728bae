//! keyguard compares the staged index with HEAD one way for speed, with
//! fallbacks for what it cannot read: the index file and its cache-tree
//! (the usual, fast way); libgit2's diff, for what that declines (renames);
//! and libgit2's diff of an index rebuilt by `git ls-files --stage`, for
//! indexes libgit2 rejects (split, sparse). Each scenario here runs through
//! all three, forced through `Repo::open`'s first comparison; a randomized
//! test checks that the three give the same report for random histories
//! and staged changes.

use std::path::PathBuf;

use keyguard::config::Config;
use keyguard::git::{Comparison, Repo};
use keyguard::scan::Scanner;

use crate::util::{Keys, TempRepo};

const ALL: [Comparison; 3] = [
    Comparison::CacheTree,
    Comparison::Libgit2,
    Comparison::GitLsFiles,
];

/// What one scan of the staged change reported, and which way ran.
#[derive(Debug, PartialEq)]
struct Scan {
    comparison: Comparison,
    /// (path, line, column, rule id, secret)
    findings: Vec<(String, u32, usize, String, String)>,
    /// (files scanned, bytes scanned, binary files skipped)
    stats: (u64, u64, u64),
}

/// Scans what the next commit adds, comparing from `first` on, with the
/// index `index` (the repository's own when `None`).
fn scan_via(first: Comparison, repo: &TempRepo, index: Option<PathBuf>) -> Scan {
    let opened = Repo::open(&repo.path(""), index, first).unwrap();
    let change = opened.next_commit_change(false).unwrap();
    let comparison = change.comparison();
    let report = Scanner::from_config(&Config::default(), keyguard::detect::Profile::Hook)
        .unwrap()
        .scan_staged(change)
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    Scan {
        comparison,
        findings: report
            .findings
            .iter()
            .map(|f| {
                let secret = f.matched_text().to_string();
                (f.path.clone(), f.line, f.column, f.rule_id.clone(), secret)
            })
            .collect(),
        stats: (
            report.stats.files_scanned,
            report.stats.bytes_scanned,
            report.stats.binary_skipped,
        ),
    }
}

/// A temporary index holding the tracked files as they are on disk, the
/// way `git commit -a` makes one for its hook.
fn commit_all_index(repo: &TempRepo) -> PathBuf {
    let index = repo.path(".git/keyguard-test-index");
    std::fs::copy(repo.path(".git/index"), &index).unwrap();
    let mut add = repo.git_command(&["add", "-u"]);
    add.env("GIT_INDEX_FILE", &index);
    assert!(add.status().unwrap().success());
    index
}

fn line(token: &str) -> String {
    format!("TOKEN = \"{token}\"\n")
}

#[test]
fn every_comparison_blocks_keys_and_scans_only_added_lines() {
    for how in ALL {
        blocks_keys_and_scans_only_added_lines(how);
    }
}

fn blocks_keys_and_scans_only_added_lines(how: Comparison) {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("large_index/basics");
    repo.write("app.py", "a = 1\nb = 2\n");
    repo.write("docs/old.md", "one\ntwo\nthree\nfour\n");
    repo.git(&["add", "-A"]);
    repo.git_run(&["commit", "-m", "init"]).assert_code(0);

    // A key added in the middle of a file: blocked at its line and column.
    let token = keys.stripe();
    repo.write("app.py", format!("a = 1\n{}b = 2\n", line(&token)));
    repo.git(&["add", "app.py"]);
    let run = repo.git_run(&["commit", "-m", "key"]);
    run.assert_code(1);
    run.assert_stderr_contains("app.py:2:10  stripe-secret-key");
    run.assert_no_leak(&token);
    let scan = scan_via(how, &repo, None);
    assert_eq!(scan.comparison, how);
    let found: Vec<_> = scan
        .findings
        .iter()
        .map(|(path, line, column, rule, _)| (path.as_str(), *line, *column, rule.as_str()))
        .collect();
    assert_eq!(found, [("app.py", 2, 10, "stripe-secret-key")], "{how:?}");

    // Fixed on disk but still staged: the index is what counts.
    repo.write("app.py", "a = 1\nb = 2\nc = 3\n");
    assert_eq!(scan_via(how, &repo, None).findings.len(), 1, "{how:?}");
    repo.git_run(&["commit", "-m", "still staged"])
        .assert_code(1);

    // `git commit -a` (a temporary index): the fix is what gets committed.
    let temporary = scan_via(how, &repo, Some(commit_all_index(&repo)));
    assert_eq!(temporary.findings, [], "{how:?}");
    repo.git_run(&["commit", "-a", "-m", "fixed"])
        .assert_code(0);

    // A rename with one new line adds only that line.
    repo.git(&["mv", "docs/old.md", "docs/new.md"]);
    repo.write("docs/new.md", "one\ntwo\nthree\nfour\nfive\n");
    repo.git(&["add", "-A"]);
    let scan = scan_via(how, &repo, None);
    assert_eq!(scan.findings, []);
    assert_eq!(scan.stats.0, 1, "{how:?}: {scan:?}");
    assert_eq!(
        scan.stats.1, 5,
        "only `five\\n` is added ({how:?}): {scan:?}"
    );
}

#[test]
fn every_comparison_skips_deletions_symlinks_and_binary_files() {
    for how in ALL {
        skips_deletions_symlinks_and_binary_files(how);
    }
}

fn skips_deletions_symlinks_and_binary_files(how: Comparison) {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("large_index/kinds");
    let token = keys.stripe();
    repo.write("gone.py", line(&token));
    repo.git(&["add", "-A"]);
    repo.git_run(&["commit", "--no-verify", "-m", "old key"])
        .assert_code(0);

    repo.git(&["rm", "-q", "gone.py"]);
    repo.write(
        "blob.bin",
        [0u8, 1, 2, 3]
            .iter()
            .chain(line(&keys.stripe()).as_bytes())
            .copied()
            .collect::<Vec<u8>>(),
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/hostname", repo.path("link")).unwrap();
    repo.git(&["add", "-A"]);
    let scan = scan_via(how, &repo, None);
    assert_eq!(scan.findings, [], "{how:?}");
    assert_eq!(scan.stats.2, 1, "{how:?}");
    // A deletion next to additions may be a rename: the fast way hands
    // that to git's similarity detection.
    let expected = match how {
        Comparison::CacheTree => Comparison::Libgit2,
        forced => forced,
    };
    assert_eq!(scan.comparison, expected);
}

/// A random history and a random staged change: the three comparisons
/// report the same findings and the same added bytes. The fast way is
/// taken whenever nothing was deleted next to an addition (a possible
/// rename).
#[test]
fn random_staged_changes_get_the_same_report_from_every_comparison() {
    let mut fast_taken = 0;
    for case in 0..40u64 {
        let mut keys = Keys::for_test(&format!("comparison_paths/random/{case}"));
        let mut rng = SmallRng(case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let repo = TempRepo::new();
        let mut files = Vec::new();
        for i in 0..rng.below(25) + 5 {
            let path = random_path(&mut rng, i);
            if files.iter().any(|f: &String| conflicts(f, &path)) {
                continue;
            }
            repo.write(&path, random_text(&mut rng, &mut keys, 6));
            files.push(path);
        }
        repo.git(&["add", "-A"]);
        repo.commit_no_verify("base");
        if case % 3 == 1 {
            // Version 4 compresses each path against the one before.
            repo.git(&["update-index", "--index-version", "4"]);
        }
        if rng.below(3) == 0 {
            // A second commit, then back to the first with the index kept:
            // the cache-tree then describes trees HEAD does not have.
            let victim = files[rng.below(files.len())].clone();
            repo.write(&victim, random_text(&mut rng, &mut keys, 3));
            repo.git(&["add", "-A"]);
            repo.commit_no_verify("second");
            repo.git(&["reset", "-q", "--soft", "HEAD~1"]);
        }
        let mut deleted = false;
        let mut added = false;
        let mut intent_to_add = false;
        for _ in 0..rng.below(6) + 1 {
            if files.is_empty() {
                break;
            }
            let picked = rng.below(files.len());
            let pick = files[picked].clone();
            match rng.below(9) {
                0 | 1 => {
                    let mut text = String::from_utf8(repo.read(&pick)).unwrap_or_default();
                    let at = text.len() / 2;
                    let at = text[..at].rfind('\n').map_or(0, |i| i + 1);
                    text.insert_str(at, &random_text(&mut rng, &mut keys, 2));
                    repo.write(&pick, text);
                    repo.git(&["add", &pick]);
                }
                2 => {
                    let path = random_path(&mut rng, 100 + files.len());
                    if !files.iter().any(|f| conflicts(f, &path)) {
                        repo.write(&path, random_text(&mut rng, &mut keys, 4));
                        repo.git(&["add", &path]);
                        files.push(path);
                        added = true;
                    }
                }
                3 => {
                    repo.git(&["rm", "-q", "-f", "--cached", &pick]);
                    files.swap_remove(picked);
                    deleted = true;
                }
                4 => {
                    let to = format!("{pick}.moved");
                    if !files.iter().any(|f| conflicts(f, &to)) {
                        repo.git(&["mv", &pick, &to]);
                        files[picked] = to;
                        deleted = true;
                        added = true;
                    }
                }
                5 => {
                    repo.git(&["update-index", "--chmod=+x", &pick]);
                }
                6 => {
                    let path = random_path(&mut rng, 200 + files.len());
                    if !files.iter().any(|f| conflicts(f, &path)) {
                        repo.write(&path, random_text(&mut rng, &mut keys, 3));
                        // Left out of `files`: staging it later would make it
                        // an addition this bookkeeping does not see.
                        repo.git(&["add", "-N", &path]);
                        intent_to_add = true;
                    }
                }
                7 => {
                    #[cfg(unix)]
                    {
                        repo.remove(&pick);
                        std::os::unix::fs::symlink("target-of-link", repo.path(&pick)).unwrap();
                        repo.git(&["add", &pick]);
                        files.swap_remove(picked);
                    }
                }
                _ => {
                    // Edited on disk but not staged: must not count.
                    repo.write(&pick, random_text(&mut rng, &mut keys, 3));
                }
            }
        }

        let scans: Vec<Scan> = ALL
            .into_iter()
            .map(|how| scan_via(how, &repo, None))
            .collect();
        let fast = &scans[0];
        for scan in &scans[1..] {
            assert_eq!(
                scan.findings, fast.findings,
                "case {case}: {:?} and the cache-tree comparison disagree",
                scan.comparison
            );
            assert_eq!(scan.stats.1, fast.stats.1, "case {case}: {scan:?} {fast:?}");
            // `git ls-files --stage` does not mark a `git add -N`
            // placeholder: the rebuilt index counts it as one empty file.
            if !(intent_to_add && scan.comparison == Comparison::GitLsFiles) {
                assert_eq!(scan.stats, fast.stats, "case {case}: {scan:?} {fast:?}");
            }
        }
        if !(deleted && added) {
            assert_eq!(
                fast.comparison,
                Comparison::CacheTree,
                "case {case}: the cache-tree comparison was not taken"
            );
            fast_taken += 1;
        }
    }
    assert!(
        fast_taken >= 12,
        "the fast comparison ran in only {fast_taken} cases"
    );
}

/// Whether two paths cannot both be files (one is a folder of the other).
fn conflicts(a: &str, b: &str) -> bool {
    a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
}

fn random_path(rng: &mut SmallRng, n: usize) -> String {
    // `a-b`, `a.b` and `a` sort around `a/` in ways that test the order of
    // index entries against the order of tree entries.
    const DIRS: [&str; 7] = ["src", "src/app", "src/app/deep", "docs", "a", "a.b", "a-b"];
    match rng.below(4) {
        0 => format!("file{n}.txt"),
        _ => format!("{}/file{n}.py", DIRS[rng.below(DIRS.len())]),
    }
}

/// Lines of text; now and then one holds a key.
fn random_text(rng: &mut SmallRng, keys: &mut Keys, lines: usize) -> String {
    (0..rng.below(lines) + 1)
        .map(|i| match rng.below(5) {
            0 => format!("TOKEN = \"{}\"\n", keys.stripe()),
            _ => format!("value_{i} = {}\n", rng.below(1_000_000)),
        })
        .collect()
}

/// xorshift64: the tests' own choices, reproducible from the case number.
struct SmallRng(u64);

impl SmallRng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
