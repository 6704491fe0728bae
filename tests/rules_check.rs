//! `keyguard rules check [FILE]`: the built-in rules pass; a user's file
//! with problems gets one line per problem and exit 1, never the example's
//! text; a file that cannot be read or parsed exits 2.

use crate::util::TempRepo;

#[test]
fn the_built_in_rules_pass() {
    let repo = TempRepo::new();
    let run = repo.keyguard(&["rules", "check"]);
    run.assert_success();
    assert!(
        run.stdout.contains("built-in rules: ") && run.stdout.contains("no problems"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_good_user_rule_file_passes() {
    let repo = TempRepo::new();
    repo.write(
        ".keyguard.toml",
        r#"
[[rules]]
id = "acme-token"
description = "Acme API token"
regex = '\bacme_(?P<secret>[a-z0-9]{24})\b'
keywords = ["acme_"]
examples = ['ACME_TOKEN = "acme_{{lownum:24}}"']
negative_examples = ['ACME_TOKEN = "acme_short"']
"#,
    );
    let run = repo.keyguard(&["rules", "check", ".keyguard.toml"]);
    run.assert_success();
    assert!(
        run.stdout.contains("1 rule(s) checked, no problems"),
        "{}",
        run.dump()
    );
}

#[test]
fn each_problem_is_one_line_without_the_example() {
    let repo = TempRepo::new();
    // A literal example (a user may paste a real key): it must not be printed.
    let literal = ["acme_", "q8w7e6r5t4y3u2i1o0p9a8s7"].concat();
    repo.write(
        "rules.toml",
        format!(
            r#"
[[rules]]
id = "Acme"
description = "bad id"
regex = 'acme_([a-z0-9]{{24}})'

[[rules]]
id = "acme-digits"
description = "expects digits"
regex = '\bacme_(?P<secret>[0-9]{{24}})\b'
keywords = ["acme_"]
examples = ['token = "{literal}"']
negative_examples = ['acme_{{{{digits:24}}}}']
"#
        ),
    );
    let run = repo.keyguard(&["rules", "check", "rules.toml"]);
    run.assert_code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "rules.toml: rule `Acme`: rule id `Acme` must be lowercase letters, digits and `-`",
            "rules.toml: rule `acme-digits`: example 1 is not found (Bulk)",
            "rules.toml: rule `acme-digits`: negative example 1 is found (Bulk)",
            "rules.toml: rule `acme-digits`: example 1 is not found (Hook)",
            "rules.toml: rule `acme-digits`: negative example 1 is found (Hook)",
        ],
        "{}",
        run.dump()
    );
    assert!(!run.all_output().contains(&literal[5..]), "{}", run.dump());
}

#[test]
fn an_unreadable_or_unparsable_file_exits_2() {
    let repo = TempRepo::new();
    let run = repo.keyguard(&["rules", "check", "missing.toml"]);
    run.assert_code(2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.dump());
    repo.write("broken.toml", "[[rules]]\nid = \n");
    let run = repo.keyguard(&["rules", "check", "broken.toml"]);
    run.assert_code(2);
    assert!(run.stderr.contains("broken.toml"), "{}", run.dump());
}
