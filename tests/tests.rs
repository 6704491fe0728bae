/*!
The integration tests: one test binary (`cargo test --test integration`)
that drives the real `git` and the cargo-built `keyguard` in throwaway
repositories. Each test builds its own repository; none reads the user's
git configuration or touches this repository.

Fake keys are generated at run time (see `util::Keys`) so that this folder
stays clean under keyguard's own scan.
*/

// Helpers: TempRepo and its scenario steps, Run, Keys, Snapshot.
mod util;

// The hook end to end: what `git commit` lets through and what it blocks,
// which index is scanned, which lines count.
mod hook;
// Each family of credential, placeholders, and secret files by name.
mod detection;
// `.keyguard.toml`: allow lists, disabled and custom rules, config errors.
mod config;
// `keyguard install` / `uninstall`, chaining a foreign hook, a missing binary.
mod install;
// `keyguard agent-hook`: each coding agent's events and answers, `--stdin`.
mod agent_hook;
// `keyguard install --agent`: each agent's settings file, merged and restored.
mod agent_install;
// The command line: exit codes, JSON, `--all`, PATH arguments, colour.
mod cli;
// Text in UTF-16, Latin-1, CRLF, UTF-8 with BOM; binary files.
mod encoding;
// The reliability scenarios, by theme (tests/scenarios/): every way a commit
// happens, renames and modes, user git config, content shapes, faults, a
// scan never writes, and property tests.
mod scenarios;
// Every output format, for every rule's examples, holds no full secret.
mod redaction;
// The exact human, JSON and SARIF output of one fixed scan.
mod golden;
// Adopting keyguard: init, baselines, the .env warning, --verbose.
mod team;
// The three ways of comparing the index with HEAD give the same answers.
mod comparison_paths;
// Credentials made by the real tools (ssh-keygen, openssl, gpg, ...), and
// the documented files no tool writes offline.
mod real_tools;
// `--history` and pre-push: merges, a content met twice, exact push ranges,
// the pre-commit framework's pre-push, accepted history, partial clones.
mod history;
// Merges (auto, conflicted, octopus, evil) and `git am`, through the default hooks.
mod merges;
// No sequence of install, install --force and uninstall loses a foreign hook.
mod install_sequences;
// Hostile repository content: linked, FIFO, endless or oversize config and
// baseline files; redacted parse errors; escaped names; large-file blocks.
mod untrusted;
// What keyguard writes and accepts: baseline input, atomic writes, keyed
// fingerprints, `.env.example` names only.
mod writes;
// `keyguard rules check`: the built-in rules pass, a user's problems are one line each.
mod rules_check;
