//! What keyguard writes and what it accepts: the baseline records only
//! committed or staged content, every file keyguard writes is replaced
//! atomically (symlinks written through, modes kept, a failed write leaves
//! the old file whole), and `init`'s `.env.example` holds names only.

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
    let run = repo.commit("add config", &[]);
    run.assert_code(1);
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
    repo.write("client.py", format!("GH = \"{staged}\"\n"));
    repo.add(&["client.py"]);
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
    repo.commit("client", &[]).assert_code(0);
    // The committed key, re-added on a changed line, no longer blocks.
    let renamed = format!("STRIPE_KEY = \"{committed}\"\n");
    repo.write("legacy.py", &renamed);
    repo.add(&["legacy.py"]);
    repo.write("legacy.py", format!("{renamed}SLACK = \"{unstaged}\"\n"));
    repo.commit("rename the variable", &[]).assert_code(0);
    assert_eq!(repo.show_head("legacy.py"), renamed);

    // The unstaged key was never accepted: staging it blocks.
    repo.add(&["legacy.py"]);
    let run = repo.commit("slack", &[]);
    run.assert_code(1);
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
    repo.commit("env template", &[]).assert_code(0);
}
