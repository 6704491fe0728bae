/*!
`keyguard --history` and the pre-push hook, the cover for every commit the
pre-commit hook never saw (`--no-verify`, rebase picks, commits made
elsewhere), with real git and real pushes to a bare repository: merge
commits are scanned; a content met twice is judged at each path; a push
scans exactly what it sends and contacts nobody; the pre-commit
framework's pre-push stage gets the same range; keys that only history
holds can be accepted; SHA-256 and reftable repositories work; partial
clones are scanned without fetching.
*/

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::util::{Keys, Run, TempRepo};

fn key_line(token: &str) -> String {
    format!("GH = \"{token}\"\n")
}

fn rev(repo: &TempRepo, rev: &str) -> String {
    repo.git(&["rev-parse", rev]).trim().to_string()
}

/// (commit, file, rule) of each finding of a `--format json` run.
fn found(run: &Run) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["commit"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn finding(commit: &str, file: &str, rule: &str) -> (String, String, String) {
    (commit.to_string(), file.to_string(), rule.to_string())
}

/// `keyguard --history [RANGE] --format json`, which must exit `code`.
#[track_caller]
fn history(repo: &TempRepo, range: &[&str], code: i32) -> Run {
    let mut args = vec!["--history"];
    args.extend_from_slice(range);
    args.extend_from_slice(&["--format", "json"]);
    let run = repo.keyguard(&args);
    run.assert_code(code);
    run
}

/// A bare repository beside `repo`, added as `origin`, with `main` pushed
/// (no hook runs yet); returns its path.
fn with_origin(repo: &TempRepo) -> String {
    let remote = repo.base().join("origin.git").display().to_string();
    let format = repo.git(&["rev-parse", "--show-object-format"]);
    let format = format!("--object-format={}", format.trim());
    repo.git(&["init", "-q", "--bare", &format, &remote]);
    repo.git(&["remote", "add", "origin", &remote]);
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    remote
}

/// `git push ARGS` through the installed pre-push hook.
fn push(repo: &TempRepo, args: &[&str]) -> Run {
    let mut all = vec!["push", "-q"];
    all.extend_from_slice(args);
    repo.git_run(&all)
}

/// The pre-push hook's keyguard run directly: `--pre-push REMOTE URL`,
/// `lines` on standard input, as git passes them.
fn pre_push(repo: &TempRepo, remote: &str, url: &str, lines: &[String]) -> Run {
    let mut cmd = repo.keyguard_command(&["--pre-push", remote, url]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("keyguard runs");
    let mut input = lines.join("\n");
    input.push('\n');
    // A keyguard that fails before reading its input closes the pipe.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    Run::from_output(
        "keyguard --pre-push".into(),
        child.wait_with_output().unwrap(),
    )
}

fn zeros() -> String {
    "0".repeat(40)
}

/// Commits `files` on a new branch `name` made from `from`, bypassing the
/// hooks, and goes back to `main`.
fn branch(repo: &TempRepo, name: &str, from: &str, files: &[(&str, &str)]) -> String {
    repo.git(&["checkout", "-q", "-b", name, from]);
    for (path, text) in files {
        repo.stage(path, text);
    }
    repo.commit_no_verify(name);
    let id = rev(repo, "HEAD");
    repo.git(&["checkout", "-q", "main"]);
    id
}

// 1. Merge commits --------------------------------------------------------

/// A conflict resolution that writes a key (an "evil merge") is the
/// merge's own addition: `--history` names the merge, and the push that
/// would send it is blocked.
#[test]
fn a_key_written_while_resolving_a_merge_is_found_by_history_and_push() {
    let repo = TempRepo::new();
    repo.keyguard(&["install", "--pre-push"]).assert_success();
    repo.seed(&[("app.py", b"a = 0\nb = 0\n")]);
    with_origin(&repo);
    branch(&repo, "side", "main", &[("app.py", "a = 1\nb = 0\n")]);
    repo.stage("app.py", "a = 2\nb = 0\n");
    repo.commit_no_verify("ours");
    assert_ne!(repo.git_run(&["merge", "-q", "side"]).code, 0, "a conflict");
    let token = Keys::for_test("evil_merge").github();
    repo.stage("app.py", format!("a = 3\n{}b = 0\n", key_line(&token)));
    repo.commit_no_verify("merge side");
    let merge = rev(&repo, "HEAD");

    let run = history(&repo, &["origin/main..HEAD"], 1);
    assert_eq!(found(&run), [finding(&merge, "app.py", "github-token")]);
    run.assert_no_leak(&token);
    history(&repo, &[], 1);

    let before = rev(&repo, "origin/main");
    let run = push(&repo, &["origin", "main"]);
    run.assert_failure();
    run.assert_stderr_contains("app.py:2:7  github-token");
    run.assert_stderr_contains("The push was blocked");
    // The secret is in commits: rotate, rewrite them, or accept them.
    run.assert_stderr_contains("Rotate the secret");
    run.assert_stderr_contains("git rebase -i");
    run.assert_stderr_contains("keyguard baseline --history");
    run.assert_no_leak(&token);
    repo.git(&["fetch", "-q", "origin"]);
    assert_eq!(
        rev(&repo, "origin/main"),
        before,
        "nothing reached the remote"
    );
}

/// A key a branch brings was added, and is reported, in that branch's own
/// commit; the merge that brings it adds nothing of its own. A private key
/// that only the merge adds is found whole, over its lines.
#[test]
fn a_merge_reports_only_what_no_parent_had_over_several_lines() {
    let repo = TempRepo::new();
    repo.seed(&[("app.py", b"a = 0\n"), ("notes.txt", b"n\n")]);
    let mut keys = Keys::for_test("merge_lines");
    let token = keys.github();
    let side = branch(
        &repo,
        "side",
        "main",
        &[("lib.py", key_line(&token).as_str())],
    );
    repo.stage("notes.txt", "n\nm\n");
    repo.commit_no_verify("ours");
    repo.git(&["merge", "-q", "--no-verify", "--no-edit", "side"]);
    let clean_merge = rev(&repo, "HEAD");
    assert_eq!(
        found(&history(&repo, &[], 1)),
        [finding(&side, "lib.py", "github-token")]
    );
    history(&repo, &[&format!("{side}..{clean_merge}")], 0);

    // An evil merge without a conflict: `--no-commit`, then a new file.
    let (pem, _) = keys.pem_block();
    branch(&repo, "side2", "main~1", &[("other.txt", "o\n")]);
    repo.git(&["merge", "-q", "--no-verify", "--no-commit", "side2"]);
    repo.stage("deploy/id.pem.txt", format!("key:\n{pem}"));
    repo.commit_no_verify("merge side2");
    let evil = rev(&repo, "HEAD");
    assert_eq!(
        found(&history(&repo, &["HEAD~1..HEAD"], 1)),
        [finding(&evil, "deploy/id.pem.txt", "private-key")]
    );
}

// 2. A content met twice is judged at each path ---------------------------

/// The same blob at an allowed and at a scanned path, in one commit or in
/// two: the copy out of the allowed folder is reported.
#[test]
fn a_copy_of_an_allowed_file_to_a_scanned_path_is_reported() {
    let repo = TempRepo::new();
    repo.seed(&[(".keyguard.toml", b"[allow]\npaths = [\"docs/**\"]\n")]);
    let token = Keys::for_test("copy_out_of_docs").github();
    let text = format!("# example\n{}", key_line(&token));
    repo.stage("docs/example.py", &text);
    repo.stage("src/example.py", &text);
    repo.commit_no_verify("docs and a copy");
    let together = rev(&repo, "HEAD");
    repo.stage("docs/later.py", &text);
    repo.commit_no_verify("docs");
    repo.stage("src/later.py", &text);
    repo.commit_no_verify("copy");
    let copy = rev(&repo, "HEAD");
    let mut expected = vec![
        finding(&together, "src/example.py", "github-token"),
        finding(&copy, "src/later.py", "github-token"),
    ];
    expected.sort();
    assert_eq!(found(&history(&repo, &[], 1)), expected);
}

/// A `.env` whose blob another file already has is still a secrets file,
/// in the same commit or a later one.
#[test]
fn a_secret_file_whose_content_another_file_has_is_reported_by_name() {
    let repo = TempRepo::new();
    repo.stage("aaa.txt", "PORT=8080\n");
    repo.stage("app/.env", "PORT=8080\n");
    repo.commit_no_verify("env");
    let together = rev(&repo, "HEAD");
    repo.stage("web/.env", "PORT=8080\n");
    repo.commit_no_verify("env");
    let later = rev(&repo, "HEAD");
    let mut expected = vec![
        finding(&together, "app/.env", "secret-file"),
        finding(&later, "web/.env", "secret-file"),
    ];
    expected.sort();
    assert_eq!(found(&history(&repo, &[], 1)), expected);
}

/// A cherry-picked key: each commit that adds it reports it.
#[test]
fn a_cherry_picked_key_is_reported_in_each_commit_that_adds_it() {
    let repo = TempRepo::new();
    repo.seed(&[("app.py", b"a = 0\n")]);
    let token = Keys::for_test("cherry_pick").github();
    let original = branch(
        &repo,
        "feature",
        "main",
        &[("lib.py", key_line(&token).as_str())],
    );
    repo.stage("app.py", "a = 1\n");
    repo.commit_no_verify("main moves on");
    repo.git(&["cherry-pick", &original]);
    let picked = rev(&repo, "HEAD");
    assert_ne!(picked, original);
    repo.git(&["merge", "-q", "--no-verify", "--no-edit", "feature"]);
    let mut expected = vec![
        finding(&original, "lib.py", "github-token"),
        finding(&picked, "lib.py", "github-token"),
    ];
    expected.sort();
    assert_eq!(found(&history(&repo, &[], 1)), expected);
}

// 3. Exact push ranges ------------------------------------------------------

/// A repository whose remote already has a key (pushed with --no-verify
/// long ago), with the pre-push hook installed.
fn repo_with_an_old_key_on_the_remote() -> (TempRepo, String) {
    let repo = TempRepo::new();
    repo.seed(&[("app.py", b"a = 0\n")]);
    let remote = with_origin(&repo);
    let old = Keys::for_test("old_key_on_remote").github();
    repo.stage("old.py", key_line(&old));
    repo.commit_no_verify("old key");
    repo.git(&["push", "-q", "--no-verify", "origin", "main"]);
    repo.keyguard(&["install", "--pre-push"]).assert_success();
    (repo, remote)
}

/// What is on the remote already is not scanned again, by name or by URL
/// (a push by URL names no remote, so every tracking ref counts); a key in
/// what the push sends blocks it, in any of the refs pushed together.
#[test]
fn a_push_scans_the_commits_it_sends_and_no_others() {
    let (repo, remote) = repo_with_an_old_key_on_the_remote();
    repo.stage("app.py", "a = 1\n");
    repo.commit_no_verify("clean");
    push(&repo, &["origin", "main"]).assert_success();

    branch(&repo, "feature", "main", &[("f.py", "f = 1\n")]);
    push(&repo, &[&remote, "feature"]).assert_success();

    let token = Keys::for_test("push_by_url").github();
    branch(
        &repo,
        "leaky",
        "main",
        &[("l.py", key_line(&token).as_str())],
    );
    let run = push(&repo, &[&remote, "leaky"]);
    run.assert_failure();
    run.assert_stderr_contains("l.py:1:7  github-token");
    run.assert_output_lacks("old.py");

    // Two refs in one push: the key is in the second.
    branch(&repo, "more", "main", &[("m.py", "m = 1\n")]);
    let run = push(&repo, &["origin", "more", "leaky"]);
    run.assert_failure();
    run.assert_stderr_contains("l.py:1:7  github-token");
    let listed = repo.git(&["ls-remote", "--heads", &remote]);
    assert!(!listed.contains("refs/heads/leaky"), "{listed}");
}

/// The hook works from what git passes and the local refs only: a remote
/// that cannot be reached, and a remote id this repository never saw, do
/// not matter.
#[test]
fn the_pre_push_scan_needs_no_remote() {
    let (repo, _) = repo_with_an_old_key_on_the_remote();
    let nowhere = repo.base().join("no-such-remote.git").display().to_string();
    repo.stage("app.py", "a = 1\n");
    repo.commit_no_verify("clean");
    let clean = rev(&repo, "HEAD");
    let unknown_remote_id = "1234567890abcdef1234567890abcdef12345678".to_string();
    for remote_id in [
        rev(&repo, "origin/main"),
        unknown_remote_id.clone(),
        zeros(),
    ] {
        let line = format!("refs/heads/main {clean} refs/heads/main {remote_id}");
        pre_push(&repo, "gone", &nowhere, &[line]).assert_success();
    }
    let token = Keys::for_test("no_remote").github();
    repo.stage("k.py", key_line(&token));
    repo.commit_no_verify("key");
    let leaky = rev(&repo, "HEAD");
    let line = format!("refs/heads/main {leaky} refs/heads/main {unknown_remote_id}");
    let run = pre_push(&repo, "gone", &nowhere, &[line]);
    run.assert_code(1);
    run.assert_stderr_contains("k.py:1:7  github-token");
    run.assert_output_lacks("old.py");
}

/// A tag of a blob or a tree is scanned as that object: a key in it blocks
/// (exit 1), a clean one passes, and neither is a scan error (exit 2).
#[test]
fn a_pushed_tag_of_a_blob_or_a_tree_is_scanned_as_that_object() {
    let (repo, _) = repo_with_an_old_key_on_the_remote();
    let token = Keys::for_test("tagged_blob").github();
    let outside = repo.base().join("loose.txt");
    std::fs::write(&outside, key_line(&token)).unwrap();
    let outside = outside.display().to_string();
    let key_blob = repo
        .git(&["hash-object", "-w", &outside])
        .trim()
        .to_string();
    std::fs::write(repo.base().join("loose.txt"), "clean\n").unwrap();
    let clean_blob = repo
        .git(&["hash-object", "-w", &outside])
        .trim()
        .to_string();
    repo.git(&["tag", "key-blob", &key_blob]);
    repo.git(&[
        "tag",
        "-a",
        "-m",
        "annotated",
        "key-blob-annotated",
        &key_blob,
    ]);
    repo.git(&["tag", "clean-blob", &clean_blob]);
    repo.git(&["tag", "clean-tree", "HEAD~1^{tree}"]);
    let key_tree = {
        repo.stage("tree/k.py", key_line(&token));
        let tree = repo.git(&["write-tree"]).trim().to_string();
        repo.git(&["reset", "-q"]);
        tree
    };
    repo.git(&["tag", "key-tree", &key_tree]);

    for (tag, code) in [
        ("key-blob", 1),
        ("key-blob-annotated", 1),
        ("key-tree", 1),
        ("clean-blob", 0),
        ("clean-tree", 0),
    ] {
        let id = rev(&repo, &format!("refs/tags/{tag}"));
        let line = format!("refs/tags/{tag} {id} refs/tags/{tag} {}", zeros());
        let run = pre_push(&repo, "origin", "unused", &[line]);
        run.assert_code(code);
        run.assert_no_leak(&token);
    }
    let run = push(&repo, &["origin", "key-blob"]);
    run.assert_failure();
    run.assert_stderr_contains("refs/tags/key-blob");
    push(&repo, &["origin", "clean-tree", "clean-blob"]).assert_success();
}

/// Deleting a remote branch sends nothing, so nothing is scanned, whatever
/// the branch held.
#[test]
fn deleting_a_remote_branch_scans_nothing() {
    let (repo, _) = repo_with_an_old_key_on_the_remote();
    let token = Keys::for_test("deleted_branch").github();
    let leaky = branch(
        &repo,
        "leaky",
        "main",
        &[("l.py", key_line(&token).as_str())],
    );
    repo.git(&["push", "-q", "--no-verify", "origin", "leaky"]);
    push(&repo, &["origin", ":leaky"]).assert_success();
    let line = format!("(delete) {} refs/heads/leaky {leaky}", zeros());
    let run = pre_push(&repo, "origin", "unused", &[line]);
    run.assert_success();
    run.assert_output_lacks("github-token");
}

// 4. The pre-commit framework's pre-push -----------------------------------

/// `keyguard --history` as the pre-commit framework runs it at pre-push,
/// with the variables it sets: only the refs when the push holds a root
/// commit, the range otherwise.
fn framework_history(repo: &TempRepo, vars: &[(&str, &str)]) -> Run {
    let mut cmd = repo.keyguard_command(&["--history", "--format", "json"]);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    Run::of(cmd)
}

#[test]
fn the_pre_commit_frameworks_pre_push_scans_the_pushed_ref_not_head() {
    let (repo, remote) = repo_with_an_old_key_on_the_remote();
    let token = Keys::for_test("framework_orphan").github();
    repo.git(&["checkout", "-q", "--orphan", "fresh"]);
    repo.git(&["rm", "-q", "-r", "--cached", "."]);
    repo.stage("fresh.py", key_line(&token));
    repo.commit_no_verify("orphan with a key");
    let fresh = rev(&repo, "HEAD");
    repo.git(&["checkout", "-q", "-f", "main"]);
    repo.git(&["checkout", "-q", "--orphan", "tidy"]);
    repo.git(&["rm", "-q", "-r", "--cached", "."]);
    repo.stage("tidy.py", "t = 1\n");
    repo.commit_no_verify("clean orphan");
    repo.git(&["checkout", "-q", "-f", "main"]);

    // No range: the framework found that the push holds a root commit.
    let refs_only = |branch: &str| {
        let local = format!("refs/heads/{branch}");
        framework_history(
            &repo,
            &[
                ("PRE_COMMIT_LOCAL_BRANCH", local.as_str()),
                ("PRE_COMMIT_REMOTE_BRANCH", local.as_str()),
                ("PRE_COMMIT_REMOTE_NAME", "origin"),
                ("PRE_COMMIT_REMOTE_URL", remote.as_str()),
            ],
        )
    };
    let run = refs_only("fresh");
    run.assert_code(1);
    assert_eq!(found(&run), [finding(&fresh, "fresh.py", "github-token")]);
    // HEAD's history holds the old key, already on the remote: not this push.
    refs_only("tidy").assert_success();

    // A range: the remote's id and the pushed one.
    repo.stage("app.py", "a = 2\n");
    repo.commit_no_verify("clean");
    let old_tip = rev(&repo, "origin/main");
    let range = |to: &str| {
        framework_history(
            &repo,
            &[
                ("PRE_COMMIT_FROM_REF", old_tip.as_str()),
                ("PRE_COMMIT_TO_REF", to),
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
                ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main"),
                ("PRE_COMMIT_REMOTE_NAME", "origin"),
                ("PRE_COMMIT_REMOTE_URL", remote.as_str()),
            ],
        )
    };
    range(&rev(&repo, "HEAD")).assert_success();
    let run = range(&fresh);
    run.assert_code(1);
    assert_eq!(found(&run), [finding(&fresh, "fresh.py", "github-token")]);
    // A pushed revision that is not here cannot be scanned: never exit 0.
    let run = range("no-such-revision");
    run.assert_code(2);
    run.assert_stderr_contains("not in this repository");
}

// 5. Keys that only history holds --------------------------------------------

#[test]
fn keys_only_history_holds_can_be_accepted_and_a_rotated_one_cannot() {
    let repo = TempRepo::new();
    repo.seed(&[("app.py", b"a = 0\n")]);
    let mut keys = Keys::for_test("history_baseline");
    let old = keys.github();
    repo.stage("config.py", key_line(&old));
    repo.commit_no_verify("key");
    let added = rev(&repo, "HEAD");
    repo.stage("config.py", "TOKEN = os.environ[\"GH\"]\n");
    repo.commit_no_verify("take the key out");
    assert_eq!(
        found(&history(&repo, &[], 1)),
        [finding(&added, "config.py", "github-token")]
    );

    // Today's content is clean: the plain baseline accepts nothing.
    repo.keyguard(&["baseline"])
        .assert_success()
        .assert_stderr_contains("0 accepted finding(s)");
    history(&repo, &[], 1);
    repo.keyguard(&["baseline", "--history"])
        .assert_success()
        .assert_stderr_contains("1 accepted finding(s): 1 added");
    history(&repo, &[], 0);
    let baseline = String::from_utf8(repo.read(".keyguard-baseline.json")).unwrap();
    assert!(!baseline.contains(&old), "the baseline holds hashes only");
    // Pruning against history keeps it: history still holds the key.
    repo.keyguard(&["baseline", "--history", "--prune"])
        .assert_success()
        .assert_stderr_contains("0 pruned");
    history(&repo, &[], 0);

    // The key rotated at the same path, and that one leaked too.
    let new = keys.github();
    repo.stage("config.py", key_line(&new));
    repo.commit_no_verify("rotated key");
    let rotated = rev(&repo, "HEAD");
    let run = history(&repo, &[], 1);
    assert_eq!(
        found(&run),
        [finding(&rotated, "config.py", "github-token")]
    );
    run.assert_no_leak(&new);
}

// 6. Repository formats -------------------------------------------------------

/// The hook, `--history`, `--all` and a real push, in a repository made by
/// `git init INIT_ARGS`. In a reftable repository libgit2 sees HEAD as the
/// stub `refs/heads/.invalid`: were any ref read by libgit2 there, the
/// first commit below (a change to a file that already holds a key) would
/// fail or count the old key as added.
fn scenario_in_format(init_args: &[&str], name: &str) {
    let repo = TempRepo::init(init_args);
    repo.keyguard(&["install", "--pre-push"]).assert_success();
    let mut keys = Keys::for_test(name);
    let old = keys.github();
    repo.seed(&[("app.py", format!("a = 0\n{}", key_line(&old)).as_bytes())]);
    let seeded = rev(&repo, "HEAD");
    with_origin(&repo);
    repo.stage("app.py", format!("a = 1\n{}", key_line(&old)));
    repo.commit_allowed("clean change");
    push(&repo, &["origin", "main"]).assert_success();

    let new = keys.github();
    repo.stage("new.py", key_line(&new));
    repo.commit_blocked("key")
        .assert_stderr_contains("new.py:1:7  github-token");
    repo.commit_no_verify("key past the hook");
    let leaked = rev(&repo, "HEAD");
    let mut both = vec![
        finding(&leaked, "new.py", "github-token"),
        finding(&seeded, "app.py", "github-token"),
    ];
    both.sort();
    assert_eq!(found(&history(&repo, &[], 1)), both);
    assert_eq!(
        found(&history(&repo, &["origin/main..HEAD"], 1)),
        [finding(&leaked, "new.py", "github-token")]
    );
    repo.keyguard(&["--all"]).assert_code(1);
    let run = push(&repo, &["origin", "main"]);
    run.assert_failure();
    run.assert_stderr_contains("new.py:1:7  github-token");
    run.assert_output_lacks("app.py");
    // A deletion's null id is as long as the format's ids.
    let zeros = "0".repeat(leaked.len());
    let line = format!("(delete) {zeros} refs/heads/old {leaked}");
    pre_push(&repo, "origin", "unused", &[line]).assert_success();
    let line = format!("refs/heads/main {leaked} refs/heads/main {zeros}");
    pre_push(&repo, "origin", "unused", &[line]).assert_code(1);
}

#[test]
fn a_reftable_repository_is_scanned_with_its_refs_read_by_git() {
    let repo = TempRepo::init(&["--ref-format=reftable"]);
    assert_eq!(
        repo.git(&["rev-parse", "--show-ref-format"]).trim(),
        "reftable"
    );
    scenario_in_format(&["--ref-format=reftable"], "reftable");
}

#[test]
fn a_sha256_repository_is_scanned_like_any_other() {
    let repo = TempRepo::init(&["--object-format=sha256"]);
    assert_eq!(
        repo.git(&["rev-parse", "--show-object-format"]).trim(),
        "sha256"
    );
    // keyguard's own index reader reads 20-byte ids: libgit2 answers here.
    repo.stage("a.txt", "a\n");
    repo.keyguard(&["--staged", "--timings"])
        .assert_success()
        .assert_stderr_contains("index compared with HEAD through libgit2");
    scenario_in_format(&["--object-format=sha256"], "sha256");
    scenario_in_format(
        &["--object-format=sha256", "--ref-format=reftable"],
        "sha256 reftable",
    );
}

/// A repository format keyguard's git library cannot read (here an
/// extension git does not know either) is said to be one, exit 2, and the
/// commit is blocked: never "not inside a git repository".
#[test]
fn an_unknown_repository_format_is_named_as_such() {
    let repo = TempRepo::new();
    repo.keyguard(&["install"]).assert_success();
    repo.stage("app.py", "a = 1\n");
    repo.git(&["config", "core.repositoryformatversion", "1"]);
    repo.git(&["config", "extensions.keyguardTestFormat", "true"]);
    for args in [&["--staged"][..], &["--all"], &["--history"]] {
        let run = repo.keyguard(args);
        run.assert_code(2);
        run.assert_stderr_contains("unsupported repository format");
        run.assert_output_lacks("not inside a git repository");
    }
}

// 7. Partial clones -------------------------------------------------------------

/// A blobless clone of `source` (which allows filters) at `dir`, with an
/// identity; `sparse`: only `in/` checked out.
fn blobless_clone(source: &TempRepo, dir: &Path, sparse: bool) -> PathBuf {
    source.git(&["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", source.root.display());
    let mut args = vec!["clone", "-q", "--filter=blob:none", "--no-local"];
    if sparse {
        args.push("--sparse");
    }
    let dir_text = dir.display().to_string();
    args.extend_from_slice(&[&url, &dir_text]);
    source.git(&args);
    for (name, value) in [
        ("user.name", "Keyguard Test"),
        ("user.email", "keyguard-test@example.invalid"),
        ("commit.gpgsign", "false"),
    ] {
        source
            .git_in(dir, &["config", name, value])
            .assert_success();
    }
    if sparse {
        source
            .git_in(dir, &["sparse-checkout", "set", "in"])
            .assert_success();
    }
    dir.to_path_buf()
}

/// Whether the clone at `dir` holds `object`, asked without fetching.
fn holds(repo: &TempRepo, dir: &Path, object: &str) -> bool {
    let mut cmd = repo.git_command(&["cat-file", "-e", object]);
    cmd.current_dir(dir).env("GIT_NO_LAZY_FETCH", "1");
    Run::of(cmd).code == 0
}

fn keyguard_in(repo: &TempRepo, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = repo.keyguard_command(args);
    cmd.current_dir(dir);
    Run::of(cmd)
}

/// Deleting a file outside a sparse, blobless clone's cone while adding
/// one: finding renames would compare the two, but the deleted file's
/// blob was never fetched, and the commit needs nothing of it.
#[test]
fn a_sparse_blobless_clone_commits_the_deletion_of_a_file_it_never_fetched() {
    let source = TempRepo::new();
    source.seed(&[
        ("in/a.txt", b"a\n"),
        ("out/b.txt", b"b\n"),
        ("out/c.txt", b"c\n"),
    ]);
    let out_blob = rev(&source, "HEAD:out/b.txt");
    let clone = blobless_clone(&source, &source.base().join("clone"), true);
    assert!(!holds(&source, &clone, &out_blob), "never fetched");
    keyguard_in(&source, &clone, &["install"]).assert_success();
    let git = |args: &[&str]| source.git_in(&clone, args);

    git(&["rm", "-q", "--sparse", "out/b.txt"]).assert_success();
    std::fs::write(clone.join("in/new.txt"), "new\n").unwrap();
    git(&["add", "in/new.txt"]).assert_success();
    git(&["commit", "-q", "-m", "drop b, add new"]).assert_success();
    // A key staged beside such a deletion is still found.
    let token = Keys::for_test("sparse_clone").github();
    git(&["rm", "-q", "--sparse", "out/c.txt"]).assert_success();
    std::fs::write(clone.join("in/key.txt"), key_line(&token)).unwrap();
    git(&["add", "in/key.txt"]).assert_success();
    let run = git(&["commit", "-q", "-m", "key"]);
    run.assert_code(1);
    run.assert_stderr_contains("in/key.txt:1:7  github-token");
    assert!(!holds(&source, &clone, &out_blob), "still not fetched");
}

/// A commit whose old blob a blobless clone never fetched: its new blob is
/// scanned whole (a key on a line the commit did not add is reported),
/// never an error, and nothing is fetched.
#[test]
fn a_missing_old_blob_scans_the_new_one_whole() {
    let source = TempRepo::new();
    let token = Keys::for_test("missing_old_blob").github();
    source.stage("app.py", key_line(&token));
    source.commit_no_verify("key");
    let old_blob = rev(&source, "HEAD:app.py");
    source.stage("app.py", format!("{}y = 2\n", key_line(&token)));
    source.commit_no_verify("more");
    let latest = rev(&source, "HEAD");
    // Where the old blob is there, the commit adds only `y = 2`.
    history(&source, &["HEAD~1..HEAD"], 0);

    let clone = blobless_clone(&source, &source.base().join("clone"), false);
    assert!(!holds(&source, &clone, &old_blob), "never fetched");
    let run = keyguard_in(
        &source,
        &clone,
        &["--history", "HEAD~1..HEAD", "--format", "json"],
    );
    run.assert_code(1);
    assert_eq!(found(&run), [finding(&latest, "app.py", "github-token")]);
    assert!(!holds(&source, &clone, &old_blob), "still not fetched");
}
