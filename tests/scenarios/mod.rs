/*!
The reliability scenarios: situations real repositories get into, one
throwaway repository each, driving the real `git` with the hook put in
place by `keyguard install`. Each test checks the exit status of
`git commit` and where HEAD is, that the report names the right rule at the
right `path:line:col`, and that the whole secret never appears in the output.

Only what the other modules do not already cover is here (linked worktrees,
index versions, pure renames, temporary indexes, ... live in `hook.rs`,
`config.rs`, `cli.rs` and `encoding.rs`).
*/

use crate::util::TempRepo;

// Every way a commit happens: amend, merges, cherry-pick, rebase, revert,
// `--separate-git-dir`, submodules, sparse checkout, subfolders, a global
// `core.hooksPath`, detached HEAD.
mod commit_paths;
// Renames, copies, modes and symlinks.
mod renames_and_modes;
// User git configuration that must not change the result.
mod user_config;
// Content shapes: empty, mixed line ends, one 5 MB line, a 60 MB file, 3000
// files, odd file names.
mod content_shapes;
// Faults fail closed, with a message that says what to do.
mod faults;
// A scan never writes, whatever the repository's state and the scan's mode.
mod never_writes;
// Property tests over generated text (the library, not the binary).
mod property;
// Keys in base64, and changes read with their committed context.
mod encoded_and_in_place;

/// `GH = "<token>"` and a newline: the token sits at column 7.
fn key_line(token: &str) -> String {
    format!("GH = \"{token}\"\n")
}

/// Commands that may open an editor: accept the prepared message as is.
const NO_EDITOR: &[(&str, &str)] = &[("GIT_EDITOR", "true")];

/// A repository with the hook and `x = 1` in `app.py` committed, then a key
/// staged on its second line (at 2:7). Returns the repository and the key.
fn repo_with_a_key_staged_over_a_commit(test: &str) -> (TempRepo, String) {
    let repo = TempRepo::with_hook();
    repo.seed(&[("app.py", b"x = 1\n")]);
    let token = crate::util::Keys::for_test(test).github();
    repo.stage("app.py", format!("x = 1\n{}", key_line(&token)));
    (repo, token)
}

/// The object file of `spec` (e.g. `:app.py`, the staged blob) in the loose
/// object store.
fn loose_object_path(repo: &TempRepo, spec: &str) -> std::path::PathBuf {
    let id = repo.git(&["rev-parse", spec]).trim().to_string();
    repo.path(&format!(".git/objects/{}/{}", &id[..2], &id[2..]))
}
