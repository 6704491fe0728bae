/*!
No sequence of `keyguard install`, `install --force` and `uninstall` loses a
hook keyguard did not write: every such sequence of up to five steps, and
longer random ones, with another hook manager writing over the shim in
between; and one sequence end to end through the binary and `git commit`.
*/

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{Keys, TempRepo};

fn write_hook(path: &Path, bytes: &[u8], mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A foreign hook that appends `foreign` to `marker`.
fn foreign_hook(marker: &Path) -> Vec<u8> {
    format!(
        "#!/bin/sh
echo foreign >> '{}'
",
        marker.display()
    )
    .into_bytes()
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Install,
    InstallForce,
    Uninstall,
    /// Another hook manager writes its own pre-commit hook over ours (as
    /// `pre-commit install` or husky would). It never writes over a foreign
    /// hook: losing that would be its fault, not keyguard's.
    ToolWrites,
}

const OPS: [Op; 4] = [Op::Install, Op::InstallForce, Op::Uninstall, Op::ToolWrites];

/// Every file in `hooks`, by content.
fn contents(hooks: &Path) -> Vec<Vec<u8>> {
    fs::read_dir(hooks)
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect()
}

/// Runs `ops` on a hooks folder that starts with the user's own pre-commit
/// hook, and checks after each step that every hook keyguard did not write
/// is still there; a final uninstall must put the latest of them in place.
fn check_sequence(ops: &[Op]) {
    use keyguard::install::{install, uninstall, Hook};
    let dir = tempfile::tempdir().unwrap();
    let hooks = dir.path().join("hooks");
    let hook = hooks.join("pre-commit");
    let bin = Path::new("/opt/keyguard/bin/keyguard");
    let original = b"#!/bin/sh\n# the user's own hook\nexit 0".to_vec();
    write_hook(&hook, &original, 0o755);
    let mut foreign = vec![original];
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Install => {
                let _ = install(&hooks, Hook::PreCommit, bin, false); // may refuse
            }
            Op::InstallForce => {
                install(&hooks, Hook::PreCommit, bin, true)
                    .unwrap_or_else(|e| panic!("{ops:?} step {step}: {e:#}"));
            }
            Op::Uninstall => {
                uninstall(&hooks, Hook::PreCommit)
                    .unwrap_or_else(|e| panic!("{ops:?} step {step}: {e:#}"));
            }
            Op::ToolWrites => {
                let current = fs::read(&hook).ok();
                if current.as_ref().is_none_or(|c| !foreign.contains(c)) {
                    let text = format!("#!/bin/sh\n# tool hook {step}\nexit 0\n").into_bytes();
                    write_hook(&hook, &text, 0o755);
                    foreign.push(text);
                }
            }
        }
        let now = contents(&hooks);
        for text in &foreign {
            assert!(
                now.contains(text),
                "after {:?} a hook keyguard did not write is gone:\n{}",
                &ops[..=step],
                String::from_utf8_lossy(text)
            );
        }
    }
    uninstall(&hooks, Hook::PreCommit).unwrap();
    uninstall(&hooks, Hook::PreCommit).unwrap();
    let latest = foreign.last().unwrap();
    assert_eq!(
        fs::read(&hook).ok().as_ref(),
        Some(latest),
        "after {ops:?} and uninstall, the user's hook is not back in place"
    );
    for text in &foreign {
        assert!(
            contents(&hooks).contains(text),
            "after {ops:?} and uninstall"
        );
    }
}

#[test]
fn no_sequence_of_install_force_and_uninstall_loses_a_foreign_hook() {
    // Every sequence of up to five steps...
    let mut sequences: Vec<Vec<Op>> = vec![Vec::new()];
    let mut checked = 0;
    for _ in 0..5 {
        sequences = sequences
            .iter()
            .flat_map(|s| {
                OPS.iter().map(move |op| {
                    let mut next = s.clone();
                    next.push(*op);
                    next
                })
            })
            .collect();
        for ops in &sequences {
            check_sequence(ops);
            checked += 1;
        }
    }
    assert_eq!(checked, 4 + 16 + 64 + 256 + 1024);
    // ...and longer random ones (seeded from the test's name: reproducible).
    let mut keys = Keys::for_test("install_sequences/random");
    for _ in 0..200 {
        let ops: Vec<Op> = (0..16).map(|_| OPS[keys.below(OPS.len())]).collect();
        check_sequence(&ops);
    }
}

#[test]
fn install_force_twice_keeps_both_earlier_hooks_and_the_commit_runs_the_latest() {
    let repo = TempRepo::new();
    let marker = repo.base().join("marker");
    let hook = repo.hooks_dir().join("pre-commit");
    let first = foreign_hook(&marker);
    write_hook(&hook, &first, 0o755);
    repo.install();
    let second = b"#!/bin/sh\n# second tool\nexit 0\n".to_vec();
    write_hook(&hook, &second, 0o755);
    repo.keyguard(&["install", "--force"]).assert_success();
    let third = format!("#!/bin/sh\necho third >> '{}'\n", marker.display()).into_bytes();
    write_hook(&hook, &third, 0o755);
    repo.keyguard(&["install"]).assert_code(2);
    assert_eq!(
        fs::read(&hook).unwrap(),
        third,
        "a refused install changed the hook"
    );
    repo.keyguard(&["install", "--force"]).assert_success();

    let all = contents(&repo.hooks_dir());
    for (name, text) in [("first", &first), ("second", &second), ("third", &third)] {
        assert!(all.contains(text), "the {name} hook is lost");
    }
    repo.stage("app.py", "x = 1\n");
    repo.commit_allowed("clean");
    assert_eq!(fs::read_to_string(&marker).unwrap(), "third\n");
    repo.keyguard(&["uninstall"]).assert_success();
    assert_eq!(fs::read(&hook).unwrap(), third);
}
