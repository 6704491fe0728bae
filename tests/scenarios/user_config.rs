//! User git configuration that must not change the result: colour, diff
//! prefixes, an external diff tool, diff algorithms, `core.autocrlf`,
//! `core.quotePath`.

use crate::util::{Keys, Stream, TempRepo};

/// In a repository configured with `settings`, a clean commit passes and a
/// key is blocked at the right place.
#[track_caller]
fn assert_config_does_not_matter(test: &str, settings: &[(&str, &str)], path: &str, crlf: bool) {
    let repo = TempRepo::with_hook();
    for (key, value) in settings {
        repo.git(&["config", key, value]);
    }
    let eol = if crlf { "\r\n" } else { "\n" };
    repo.seed(&[("base.py", format!("x = 1{eol}").as_bytes())]);

    repo.stage(path, format!("import os{eol}{eol}y = 2{eol}"));
    repo.commit_allowed("clean");
    assert_eq!(
        repo.commit_count(),
        2,
        "{settings:?}: the clean commit did not go through"
    );

    let token = Keys::for_test(test).github();
    repo.stage(
        path,
        format!("import os{eol}{eol}y = 2{eol}z = 3{eol}  GH = \"{token}\"{eol}"),
    );
    repo.commit_blocked("key")
        .assert_human_finding(Stream::Stderr, path, 5, 9, "github-token", &token)
        .assert_stderr_contains("1 finding");
}

#[test]
fn color_ui_always() {
    assert_config_does_not_matter(
        "scenario/color_ui",
        &[("color.ui", "always"), ("color.diff", "always")],
        "app.py",
        false,
    );
}

#[test]
fn diff_noprefix() {
    assert_config_does_not_matter(
        "scenario/noprefix",
        &[("diff.noprefix", "true")],
        "app.py",
        false,
    );
}

#[test]
fn diff_external_false() {
    assert_config_does_not_matter(
        "scenario/diff_external",
        &[("diff.external", "/bin/false")],
        "app.py",
        false,
    );
}

#[test]
fn diff_mnemonic_prefix() {
    assert_config_does_not_matter(
        "scenario/mnemonic",
        &[("diff.mnemonicPrefix", "true")],
        "app.py",
        false,
    );
}

#[test]
fn other_diff_settings() {
    assert_config_does_not_matter(
        "scenario/diff_settings",
        &[
            ("diff.algorithm", "patience"),
            ("diff.renames", "false"),
            ("diff.context", "0"),
            ("core.bigFileThreshold", "1k"),
        ],
        "app.py",
        false,
    );
}

/// `core.autocrlf=true` with a CRLF file: git stores LF (and warns on
/// stderr); the line and column are those of the staged file.
#[test]
fn core_autocrlf_with_a_crlf_file() {
    assert_config_does_not_matter(
        "scenario/autocrlf",
        &[("core.autocrlf", "true")],
        "win.py",
        true,
    );
}

/// git quotes such a name (`"donn\303\251es/..."`) in its own output; the
/// report shows it as it is.
#[test]
fn core_quote_path_with_a_unicode_name() {
    assert_config_does_not_matter(
        "scenario/quotepath",
        &[("core.quotePath", "true")],
        "données/clé ü.py",
        false,
    );
}
