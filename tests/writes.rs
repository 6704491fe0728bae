//! What keyguard writes and what it accepts: the baseline records only
//! committed or staged content, every file keyguard writes is replaced
//! atomically (symlinks written through, modes kept, a failed write leaves
//! the old file whole), report fingerprints are keyed, and `init`'s
//! `.env.example` holds names only.

use std::fs;
use std::path::Path;

use crate::util::{isolated_command, keyguard_bin, Keys, Run, TempRepo};

fn baseline_text(repo: &TempRepo) -> String {
    String::from_utf8(repo.read(".keyguard-baseline.json")).unwrap()
}

/// Files in `dir` that look like a temporary file left by a write.
fn leftover_temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("keyguard-") && name.ends_with(".tmp"))
        .collect()
}

/// keyguard with `args`, in `dir`, under a file size limit of `kib` KiB
/// (`ulimit -f`): writing past it fails with EFBIG, as a full disk would,
/// and unlike permission bits it binds root too.
fn keyguard_with_file_size_limit(repo: &TempRepo, kib: u32, args: &[&str]) -> Run {
    let mut cmd = isolated_command("bash", &repo.home);
    cmd.current_dir(&repo.root)
        .arg("-c")
        // Ignored, SIGXFSZ stays ignored across exec: the write fails
        // instead of killing the process.
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(keyguard_bin())
        .args(args);
    Run::of(cmd)
}

// ---- Item 4: the baseline accepts only what is committed or staged ------------

#[test]
fn baseline_ignores_untracked_files_so_committing_them_later_is_blocked() {
    let repo = TempRepo::with_hook();
    repo.seed(&[("README.md", b"# app\n")]);
    let mut keys = Keys::for_test("writes/baseline-untracked");
    let live = keys.stripe();
    let token = keys.github();
    // Neither is ignored: `--all` would list both.
    repo.write(".env", format!("STRIPE_SECRET_KEY={live}\n"));
    repo.write("scripts/deploy.py", format!("TOKEN = \"{token}\"\n"));
    repo.keyguard(&["--all"]).assert_code(1);

    repo.keyguard(&["baseline"]).assert_code(0);
    let baseline = baseline_text(&repo);
    assert!(
        !baseline.contains(".env") && !baseline.contains("deploy.py"),
        "untracked files were accepted:\n{baseline}"
    );

    repo.add(&[".env", "scripts/deploy.py"]);
    let run = repo.commit_blocked("add config");
    run.assert_no_leak(&live).assert_no_leak(&token);
    run.assert_stderr_contains("scripts/deploy.py");
    assert_eq!(repo.commit_count(), 1, "{}", run.dump());
}

#[test]
fn baseline_accepts_committed_and_staged_content_but_not_unstaged_edits() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("writes/baseline-committed");
    let committed = keys.stripe();
    let staged = keys.github();
    let unstaged = keys.slack_bot();
    repo.seed(&[(
        "legacy.py",
        format!("STRIPE = \"{committed}\"\n").as_bytes(),
    )]);
    repo.stage("client.py", format!("GH = \"{staged}\"\n"));
    // An edit on disk only: the baseline must record the committed content.
    repo.write(
        "legacy.py",
        format!("STRIPE = \"{committed}\"\nSLACK = \"{unstaged}\"\n"),
    );

    repo.keyguard(&["baseline"]).assert_code(0);
    let baseline = baseline_text(&repo);
    assert_eq!(
        baseline.matches("\"rule_id\"").count(),
        2,
        "the committed and the staged key, not the unstaged one:\n{baseline}"
    );

    // The staged key is accepted: its commit goes through.
    repo.commit_allowed("client");
    // The committed key, re-added on a changed line, no longer blocks.
    let renamed = format!("STRIPE_KEY = \"{committed}\"\n");
    repo.stage("legacy.py", &renamed);
    repo.write("legacy.py", format!("{renamed}SLACK = \"{unstaged}\"\n"));
    repo.commit_allowed("rename the variable");
    assert_eq!(repo.show_head("legacy.py"), renamed);

    // The unstaged key was never accepted: staging it blocks.
    repo.add(&["legacy.py"]);
    let run = repo.commit_blocked("slack");
    run.assert_no_leak(&unstaged);
}

// ---- Item 6: files keyguard writes are written atomically ---------------------

#[cfg(unix)]
#[test]
fn init_writes_through_a_symlinked_gitignore() {
    let repo = TempRepo::new();
    let dotfiles = repo.base().join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::write(dotfiles.join("gitignore"), "target/\n").unwrap();
    let link = Path::new("../dotfiles/gitignore");
    std::os::unix::fs::symlink(link, repo.path(".gitignore")).unwrap();

    repo.keyguard(&["init"]).assert_code(0);
    let metadata = fs::symlink_metadata(repo.path(".gitignore")).unwrap();
    assert!(
        metadata.file_type().is_symlink(),
        "replaced by a regular file"
    );
    assert_eq!(fs::read_link(repo.path(".gitignore")).unwrap(), link);
    let target = fs::read_to_string(dotfiles.join("gitignore")).unwrap();
    assert!(target.starts_with("target/\n"), "{target}");
    assert!(target.lines().any(|l| l == ".env"), "{target}");
    assert!(leftover_temp_files(&dotfiles).is_empty());
    assert!(leftover_temp_files(&repo.root).is_empty());
}

#[cfg(unix)]
#[test]
fn rewriting_the_baseline_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("writes/baseline-mode");
    repo.seed(&[("a.py", format!("K = \"{}\"\n", keys.stripe()).as_bytes())]);
    repo.keyguard(&["baseline"]).assert_code(0);
    let path = repo.path(".keyguard-baseline.json");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let before = baseline_text(&repo);

    repo.seed(&[("b.py", format!("K = \"{}\"\n", keys.stripe()).as_bytes())]);
    repo.keyguard(&["baseline"]).assert_code(0);
    assert_ne!(
        baseline_text(&repo),
        before,
        "the baseline was not rewritten"
    );
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
}

#[test]
fn a_failed_gitignore_write_leaves_the_old_file_byte_identical() {
    let repo = TempRepo::new();
    // The file: 7,490 bytes, cut to 4,096 when rewritten in place.
    let mut old = String::new();
    let mut n = 0;
    while old.len() < 7_490 - 20 {
        old.push_str(&format!("build/output-{n:05}/\n"));
        n += 1;
    }
    while old.len() < 7_490 {
        old.push('#');
    }
    old.push('\n');
    repo.write(".gitignore", &old);

    let run = keyguard_with_file_size_limit(&repo, 4, &["init"]);
    run.assert_code(2);
    run.assert_stderr_contains(".gitignore left unchanged");
    assert_eq!(repo.read(".gitignore"), old.as_bytes());
    assert!(
        leftover_temp_files(&repo.root).is_empty(),
        "{:?}",
        leftover_temp_files(&repo.root)
    );

    // With room to write, the same command succeeds.
    repo.keyguard(&["init"]).assert_code(0);
    let new = String::from_utf8(repo.read(".gitignore")).unwrap();
    assert!(new.starts_with(&old) && new.contains("\n.env\n"), "{new}");
}

#[test]
fn a_failed_baseline_write_leaves_the_old_baseline_byte_identical() {
    let repo = TempRepo::new();
    let mut keys = Keys::for_test("writes/baseline-full-disk");
    let lines: String = (0..12)
        .map(|i| format!("K{i} = \"{}\"\n", keys.stripe()))
        .collect();
    repo.seed(&[("keys.py", lines.as_bytes())]);
    repo.keyguard(&["baseline"]).assert_code(0);
    let old = repo.read(".keyguard-baseline.json");
    assert!(old.len() > 2048, "{} bytes", old.len());

    repo.seed(&[("more.py", format!("K = \"{}\"\n", keys.stripe()).as_bytes())]);
    let run = keyguard_with_file_size_limit(&repo, 1, &["baseline"]);
    run.assert_code(2);
    run.assert_stderr_contains(".keyguard-baseline.json left unchanged");
    assert_eq!(repo.read(".keyguard-baseline.json"), old);
    assert!(leftover_temp_files(&repo.root).is_empty());
    // Still a valid baseline: the accepted findings keep passing.
    repo.write("keys.py", format!("# moved\n{lines}"));
    repo.keyguard(&["keys.py"]).assert_code(0);
}

// ---- Item 8: report fingerprints are keyed ------------------------------------

/// `keyguard --all --format FORMAT` in `dir`, with `KEYGUARD_FINGERPRINT_KEY`
/// set to `key` (or unset).
fn report_in(dir: &Path, home: &Path, format: &str, key: Option<&str>) -> Run {
    let mut cmd = isolated_command(keyguard_bin(), home);
    cmd.current_dir(dir).args(["--all", "--format", format]);
    match key {
        Some(key) => cmd.env("KEYGUARD_FINGERPRINT_KEY", key),
        None => cmd.env_remove("KEYGUARD_FINGERPRINT_KEY"),
    };
    Run::of(cmd)
}

fn json_fingerprint(run: &Run) -> String {
    run.assert_code(1);
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc:#}");
    findings[0]["fingerprint"].as_str().unwrap().to_string()
}

fn clone(repo: &TempRepo, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let target = repo.base().join(name);
    let source = format!("file://{}", repo.root.display());
    let mut args = vec!["clone", "-q"];
    args.extend_from_slice(extra);
    args.extend([source.as_str(), target.to_str().unwrap()]);
    repo.git(&args);
    target
}

#[test]
fn fingerprints_are_keyed_and_stable_across_fresh_clones() {
    use sha2::{Digest, Sha256};
    let repo = TempRepo::new();
    let token = Keys::for_test("writes/fingerprints").github();
    repo.seed(&[("README.md", b"# app\n")]);
    repo.seed(&[("app.py", format!("GH = \"{token}\"\n").as_bytes())]);

    let first = clone(&repo, "clone-1", &[]);
    let second = clone(&repo, "clone-2", &[]);
    let a = json_fingerprint(&report_in(&first, &repo.home, "json", None));
    let b = json_fingerprint(&report_in(&second, &repo.home, "json", None));
    assert_eq!(a, b, "fresh clones disagree");
    assert_eq!(a.len(), 32);

    // SARIF carries the same value.
    let sarif = report_in(&first, &repo.home, "sarif", None);
    sarif.assert_code(1);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(
        doc["runs"][0]["results"][0]["partialFingerprints"]["keyguardFingerprint/v2"],
        a.as_str()
    );

    // A key of one's own replaces the default, and keys differ.
    let ours = json_fingerprint(&report_in(&first, &repo.home, "json", Some("ci-secret-1")));
    let theirs = json_fingerprint(&report_in(&second, &repo.home, "json", Some("ci-secret-2")));
    let ours_again = json_fingerprint(&report_in(&second, &repo.home, "json", Some("ci-secret-1")));
    assert_eq!(ours, ours_again);
    assert_ne!(ours, theirs);
    assert_ne!(ours, a);

    // Not the unkeyed hash the first round printed, which a few guesses undo.
    let mut plain = Sha256::new();
    for part in ["github-token", "app.py", token.as_str()] {
        plain.update(part.as_bytes());
        plain.update([0u8]);
    }
    let plain: String = plain.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for fingerprint in [&a, &ours, &theirs] {
        assert_ne!(*fingerprint, plain);
    }
}

#[test]
fn without_a_full_history_fingerprints_are_keyed_for_one_run_only() {
    let repo = TempRepo::new();
    let token = Keys::for_test("writes/fingerprints-shallow").github();
    repo.seed(&[("README.md", b"# app\n")]);
    repo.seed(&[("app.py", format!("GH = \"{token}\"\n").as_bytes())]);
    // A shallow clone's oldest commit is only where the clone was cut: it
    // is no stable key, and a constant one could be reversed.
    let shallow = clone(&repo, "shallow", &["--depth", "1"]);
    let first = report_in(&shallow, &repo.home, "json", None);
    first.assert_stderr_contains("KEYGUARD_FINGERPRINT_KEY");
    let second = report_in(&shallow, &repo.home, "json", None);
    assert_ne!(json_fingerprint(&first), json_fingerprint(&second));
    // The user's key makes them stable again.
    let keyed = |_| json_fingerprint(&report_in(&shallow, &repo.home, "json", Some("k")));
    assert_eq!(keyed(1), keyed(2));
}

// ---- Item 9: init writes names only --------------------------------------------

#[test]
fn init_writes_names_only_for_comments_multi_line_values_and_export() {
    let repo = TempRepo::with_hook();
    let mut keys = Keys::for_test("writes/init-names");
    let commented = keys.stripe();
    let exported = keys.github();
    let (pem, pem_first_line) = keys.pem_block();
    // Base64 lines with `=` padding, as PEM bodies end: each looks like
    // `NAME=` to a line-by-line reader.
    let padded = ["MIIEowIBAAKCAQEAx4Gd2ZkYmQ", "9Xb3J0aGxlc3M="].concat();
    let pem = pem.replacen('\n', &format!("\n{padded}\n"), 1);
    let env = format!(
        "# payments: old key {commented}\n\
         #STRIPE_OLD={commented}\n\
         STRIPE_SECRET_KEY=\n\
         export GITHUB_TOKEN={exported}\n\
         TLS_KEY=\"{pem}\"\n\
         DEBUG=1\n"
    );
    repo.write(".env", &env);

    repo.keyguard(&["init"]).assert_code(0);
    let example = String::from_utf8(repo.read(".env.example")).unwrap();
    assert_eq!(
        example,
        "# STRIPE_OLD=\nSTRIPE_SECRET_KEY=\nexport GITHUB_TOKEN=\nTLS_KEY=\nDEBUG=\n"
    );
    for secret in [&commented, &exported, &pem_first_line, &padded] {
        assert!(!example.contains(secret.as_str()), "{example}");
    }
    // The template commits cleanly.
    repo.add(&[".env.example"]);
    repo.commit_allowed("env template");
}
