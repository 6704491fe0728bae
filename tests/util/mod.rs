/*!
Shared helpers for the integration tests:

- [`run`]: the real `git` and the cargo-built `keyguard` with the
  environment isolated from the user's, and what a process did ([`Run`]);
- [`repo`]: a throwaway repository ([`TempRepo`]) and the scenario steps
  (`stage`, `commit_blocked`, `commit_allowed`);
- [`keys`]: fake keys and random choices from one seeded generator ([`Keys`]);
- [`snapshot`]: every file of a test's sandbox, to show a scan wrote nothing.

Nothing here reads the user's configuration, and nothing writes outside
the temporary directory.
*/

#![allow(dead_code)] // not every test module uses every helper
#![allow(unused_imports)] // nor every re-export

pub mod keys;
pub mod repo;
pub mod run;
pub mod snapshot;

pub use keys::Keys;
pub use repo::TempRepo;
pub use run::{isolated_command, keyguard_bin, path_without_keyguard, redacted, Run, Stream};
pub use snapshot::Snapshot;

/// 1-based (line, column in characters) of the first occurrence of
/// `needle` in `text`.
#[track_caller]
pub fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}
