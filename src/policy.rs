//! Path policy: which files are never scanned (`[allow] paths`), which
//! names alone mark a file as secret (`.env`, `id_rsa`, `*.key`), and the
//! rename rule. Every path list is a set of `.gitignore`-style globs
//! matched with globset against repository-relative, `/`-separated paths.

use anyhow::{Context, Result};
use globset::{Glob, GlobBuilder, GlobMatcher};
use std::sync::OnceLock;

use crate::config::{Config, SecretFilesConfig};

/// The built-in list, following what API-key guides tell people to keep
/// out of git. Globs follow `.gitignore`: see [`PathGlobs`].
pub const DEFAULT_SECRET_FILES: &[&str] = &[
    ".env",
    ".env.*",
    "*.key",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "*.p12",
    "*.pfx",
    // Not `.netrc`: SPEC lists it among the credential configs committed
    // without secrets, whose content the `netrc-password` rule reads.
    ".git-credentials",
    "**/config/secrets.json",
    "**/private/*.json",
];

/// Templates people are told to commit instead; their lines are still scanned.
pub const DEFAULT_TEMPLATE_FILES: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    ".env.*.example",
    ".env.*.sample",
    ".env.*.template",
    ".env.*.dist",
];

/// Files written for people to read, not for a program to load its
/// settings from. Loose `name = value` rules skip them; provider rules,
/// which recognise a real key by its format, still read them.
/// - API examples: AWS's `*.examples.json` (JavaScript SDK) and
///   `examples-1.json` (botocore), OpenAPI (Swagger) descriptions, whose
///   `example:` values are made up for the reader.
/// - reStructuredText, the source of Sphinx documentation (and the
///   `*.rst.txt` copies Sphinx publishes beside its HTML): `SECRET_KEY =
///   '…'` there is an example for the reader to replace.
/// - Translations (gettext catalogues, XLIFF, `*.lang` tables, the usual
///   locale folders): `'password' => 'Wachtwoord'` is a word in another
///   language.
/// - `docs_src/`: the code a documentation site shows and runs as its
///   examples, by its folder's name (`SECRET_KEY = "…"` in a tutorial).
///
/// Markdown is not among them: READMEs are where a project's own setup
/// commands, with their real tokens, get pasted.
pub const READER_FILES: [&str; 21] = [
    "*.rst",
    "*.rst.txt",
    "*.examples.json",
    "examples-[0-9].json",
    "swagger.json",
    "swagger.yaml",
    "swagger.yml",
    "openapi.json",
    "openapi.yaml",
    "openapi.yml",
    "*.po",
    "*.pot",
    "*.xlf",
    "*.xliff",
    "*.lang",
    "locale/",
    "locales/",
    "i18n/",
    "l10n/",
    "translations/",
    "docs_src/",
];

/// The path rules of one configuration.
pub struct PathPolicy {
    allowed: PathGlobs,
    secret_files: SecretFiles,
    reader_files: PathGlobs,
}

impl PathPolicy {
    pub fn from_config(config: &Config) -> Result<PathPolicy> {
        Ok(PathPolicy {
            allowed: PathGlobs::new(&config.allow.paths).context("in [allow] paths")?,
            secret_files: SecretFiles::from_config(&config.secret_files)?,
            reader_files: PathGlobs::with_built_in(&READER_FILES, &[])?,
        })
    }

    /// Is `path` written for people to read, not loaded by a program (see
    /// [`READER_FILES`])?
    pub fn is_for_readers(&self, path: &str) -> bool {
        self.reader_files.is_match(path)
    }

    /// Is `path` on the allow-list, never scanned?
    pub fn is_allowed(&self, path: &str) -> bool {
        self.allowed.is_match(path)
    }

    /// The pattern that marks `path` as a secrets file, if any.
    pub fn secret_file_pattern(&self, path: &str) -> Option<&str> {
        self.secret_files.matching_pattern(path)
    }

    /// The rename rule: a file moved out of an allowed path is new to the
    /// scan, so all of it is checked, not only its added lines; otherwise a
    /// rename could launder a secret.
    pub fn scans_whole(&self, old_path: Option<&str>) -> bool {
        old_path.is_some_and(|old| self.is_allowed(old))
    }
}

/// Compiled secret-file globs and their exceptions.
pub struct SecretFiles {
    patterns: Vec<String>,
    secret: PathGlobs,
    exempt: PathGlobs,
}

impl SecretFiles {
    pub fn from_config(config: &SecretFilesConfig) -> Result<SecretFiles> {
        let (built_in, user): (&[&str], Vec<String>) = match &config.patterns {
            Some(patterns) => (&[], patterns.clone()),
            None => (DEFAULT_SECRET_FILES, Vec::new()),
        };
        let user: Vec<String> = user
            .into_iter()
            .chain(config.extra.iter().cloned())
            .collect();
        Ok(SecretFiles {
            secret: PathGlobs::with_built_in(built_in, &user).context("in [secret_files]")?,
            exempt: PathGlobs::with_built_in(DEFAULT_TEMPLATE_FILES, &config.allow)
                .context("in [secret_files] allow")?,
            patterns: built_in.iter().map(|s| s.to_string()).chain(user).collect(),
        })
    }

    /// The pattern that marks `path` (repository-relative, `/`-separated)
    /// as a secrets file, if any.
    pub fn matching_pattern(&self, path: &str) -> Option<&str> {
        if self.exempt.is_match(path) {
            return None;
        }
        self.secret
            .first_match(path)
            .map(|i| self.patterns[i].as_str())
    }
}

/// A list of path globs with `.gitignore`'s anchoring (see [`anchor`]):
/// an allow list must not be wider than it reads.
///
/// A user's glob is parsed when loaded (so a bad one fails the run); a
/// built-in one is not (a test parses them all). Each is compiled only when
/// a path could match it: a path must hold the glob's longest literal
/// piece. Parsing and compiling the built-in secret-file globs at every
/// start took a fifth, then an eighth, of the hook's instructions
/// (callgrind, one small staged file), for paths that almost never match.
pub struct PathGlobs {
    globs: Vec<LazyGlob>,
}

struct LazyGlob {
    /// The glob as globset reads it, anchored.
    anchored: String,
    /// Every path the glob matches contains this (checked against the path
    /// with a leading `/`, since `**/` also matches at the root).
    required: String,
    matcher: OnceLock<GlobMatcher>,
}

impl LazyGlob {
    fn new(pattern: &str) -> LazyGlob {
        let anchored = anchor(pattern);
        LazyGlob {
            required: longest_literal(&anchored),
            anchored,
            matcher: OnceLock::new(),
        }
    }

    fn is_match(&self, path: &str) -> bool {
        self.matcher
            .get_or_init(|| {
                parse(&self.anchored)
                    .expect("user globs are parsed when loaded, built-in ones by a test")
                    .compile_matcher()
            })
            .is_match(path)
    }
}

fn parse(anchored: &str) -> std::result::Result<Glob, globset::Error> {
    GlobBuilder::new(anchored).literal_separator(true).build()
}

impl PathGlobs {
    /// A user's globs, each parsed now.
    pub fn new(patterns: &[String]) -> Result<PathGlobs> {
        PathGlobs::with_built_in(&[], patterns)
    }

    /// Built-in globs (not parsed) followed by a user's (parsed now).
    pub fn with_built_in(built_in: &[&str], user: &[String]) -> Result<PathGlobs> {
        for pattern in user {
            parse(&anchor(pattern)).with_context(|| format!("invalid path glob `{pattern}`"))?;
        }
        let globs = built_in
            .iter()
            .copied()
            .chain(user.iter().map(String::as_str))
            .map(LazyGlob::new)
            .collect();
        Ok(PathGlobs { globs })
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.first_match(path).is_some()
    }

    /// The index of the first pattern (in the order given) matching `path`.
    pub fn first_match(&self, path: &str) -> Option<usize> {
        let rooted = format!("/{path}");
        self.globs
            .iter()
            .position(|g| rooted.contains(g.required.as_str()) && g.is_match(path))
    }
}

/// The longest run of literal characters in a glob, outside `{…}`
/// alternations (whose branches are not all required): a necessary part of
/// every path the glob matches.
fn longest_literal(glob: &str) -> String {
    let mut longest = "";
    let mut depth = 0usize; // inside `{…}`
    let mut in_class = false; // inside `[…]`
    let mut piece_start = 0;
    let mut escaped = false;
    for (i, c) in glob.char_indices() {
        let literal = !in_class
            && depth == 0
            && (escaped || !matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\'));
        if !literal {
            if glob[piece_start..i].len() > longest.len() {
                longest = &glob[piece_start..i];
            }
            piece_start = i + c.len_utf8();
        }
        if !escaped {
            match c {
                '[' if !in_class => in_class = true,
                ']' if in_class => in_class = false,
                '{' if !in_class => depth += 1,
                '}' if !in_class => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        escaped = !escaped && c == '\\';
    }
    if !in_class && depth == 0 && glob[piece_start..].len() > longest.len() {
        longest = &glob[piece_start..];
    }
    // An escaped character is kept with its backslash: then nothing is
    // required rather than the wrong thing.
    if longest.contains('\\') {
        return String::new();
    }
    longest.to_string()
}

/// `.gitignore` anchoring: a glob without a `/` (other than a trailing one)
/// matches at any depth; one with a `/` in it is relative to the root; a
/// leading `/` anchors explicitly; a trailing `/` means the whole folder.
fn anchor(pattern: &str) -> String {
    let (body, is_folder) = match pattern.strip_suffix('/') {
        Some(body) => (body, true),
        None => (pattern, false),
    };
    let mut anchored = if let Some(rest) = body.strip_prefix('/') {
        rest.to_string()
    } else if body.contains('/') {
        body.to_string()
    } else {
        format!("**/{body}")
    };
    if is_folder {
        anchored.push_str("/**");
    }
    anchored
}

/// Folder names that hold test data or code written elsewhere: findings
/// there are often fixtures or a vendor's examples, and the report says so.
const TEST_OR_VENDORED_DIRS: &[(&str, CodeKind)] = &[
    ("test", CodeKind::Test),
    ("tests", CodeKind::Test),
    ("testdata", CodeKind::Test),
    ("fixtures", CodeKind::Test),
    ("__tests__", CodeKind::Test),
    ("spec", CodeKind::Test),
    ("vendor", CodeKind::Vendored),
    ("node_modules", CodeKind::Vendored),
    ("third_party", CodeKind::Vendored),
];

/// Test code, or code vendored from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Test,
    Vendored,
}

/// Whether `path` lies under a test or vendored folder, and that folder
/// (`pkg/x/testdata/`): the narrowest path-scoped `allow.paths` entry that
/// would accept it. The outermost such folder wins, so `vendor/a/tests/k`
/// is vendored code under `vendor/`.
pub fn test_or_vendored(path: &str) -> Option<(CodeKind, &str)> {
    let mut end = 0;
    for component in path.split('/') {
        end += component.len() + 1;
        if end > path.len() {
            return None; // the last component is the file itself
        }
        if let Some((_, kind)) = TEST_OR_VENDORED_DIRS
            .iter()
            .find(|(dir, _)| *dir == component)
        {
            return Some((*kind, &path[..end]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> PathGlobs {
        PathGlobs::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn defaults() -> SecretFiles {
        SecretFiles::from_config(&SecretFilesConfig::default()).unwrap()
    }

    /// Built-in globs are not parsed when loaded: this is where a bad one
    /// would fail.
    #[test]
    fn every_built_in_glob_parses() {
        for list in [DEFAULT_SECRET_FILES, DEFAULT_TEMPLATE_FILES, &READER_FILES] {
            for pattern in list {
                assert!(parse(&anchor(pattern)).is_ok(), "{pattern}");
            }
        }
    }

    #[test]
    fn a_bad_user_glob_fails_when_loaded() {
        let err = PathGlobs::with_built_in(DEFAULT_SECRET_FILES, &["a/[b".to_string()])
            .err()
            .expect("an unclosed class is an error");
        assert!(format!("{err:#}").contains("a/[b"), "{err:#}");
    }

    /// Documentation sources, API examples and translations skip the
    /// loose rules; Markdown and code do not.
    #[test]
    fn reader_files() {
        let examples = globs(&READER_FILES);
        for path in [
            "docs/config.rst",
            "README.rst",
            "html/_sources/config.rst.txt",
            "apis/s3-2006-03-01.examples.json",
            "api/openapi.yaml",
            "languages/nl.lang",
            "po/de.po",
            "config/locales/en.yml",
            "src/i18n/fr.json",
            "Resources/translations/security.de.xlf",
            "docs_src/security/tutorial004.py",
        ] {
            assert!(examples.is_match(path), "{path}");
        }
        for path in [
            "README.md",
            "docs/setup.md",
            "config.py",
            "notes.rst.py",
            "config/locale.py",
            "app/language.go",
        ] {
            assert!(!examples.is_match(path), "{path}");
        }
    }

    #[test]
    fn gitignore_anchoring() {
        let g = globs(&["fixtures/**", "*.snap", "vendor/", "/top.txt", ".env.*"]);
        assert!(g.is_match("fixtures/a/b.py"));
        assert!(!g.is_match("app/fixtures/b.py"));
        assert!(g.is_match("deep/x.snap"));
        assert!(g.is_match("x.snap"));
        assert!(g.is_match("a/vendor/lib.js"));
        assert!(g.is_match("vendor/lib.js"));
        assert!(!g.is_match("vendored.js"));
        assert!(g.is_match("top.txt"));
        assert!(!g.is_match("a/top.txt"));
        assert!(g.is_match("web/.env.local"));
        assert!(!g.is_match("web/.env"));
    }

    #[test]
    fn star_stays_in_one_folder() {
        let g = globs(&["src/*.rs", "a/**/z.txt", "?.md"]);
        assert!(g.is_match("src/lib.rs"));
        assert!(!g.is_match("src/git/mod.rs"));
        assert!(g.is_match("a/z.txt"));
        assert!(g.is_match("a/b/c/z.txt"));
        assert!(g.is_match("x/a.md"));
        assert!(!g.is_match("ab.md"));
    }

    #[test]
    fn fancy_globs_and_the_first_pattern_matching() {
        let g = globs(&["*.{pem,key}", "id_[rd]sa"]);
        assert!(g.is_match("certs/a.pem"));
        assert!(g.is_match("b.key"));
        assert!(g.is_match("home/id_rsa"));
        assert!(!g.is_match("id_ecdsa"));
        assert_eq!(
            globs(&["*.py", "*.{pem,key}"]).first_match("a.key"),
            Some(1)
        );
        assert_eq!(globs(&["*.key", "b.*"]).first_match("b.key"), Some(0));
        assert_eq!(globs(&["*.py"]).first_match("b.key"), None);
    }

    /// The anchoring agrees with git's own `.gitignore` matching, as the
    /// `ignore` crate implements it, on every pattern and path below.
    #[test]
    fn agrees_with_gitignore_matching() {
        let patterns = [
            "fixtures/**",
            "*.snap",
            "vendor/",
            "/top.txt",
            ".env.*",
            "src/*.rs",
            "a/**/z.txt",
            "?.md",
            "id_[rd]sa",
            "**/config/secrets.json",
            "**/private/*.json",
            "docs/*/notes",
        ];
        let paths = [
            "fixtures/a/b.py",
            "app/fixtures/b.py",
            "deep/x.snap",
            "x.snap",
            "a/vendor/lib.js",
            "vendor/lib.js",
            "vendored.js",
            "top.txt",
            "a/top.txt",
            "web/.env.local",
            "web/.env",
            "src/lib.rs",
            "src/git/mod.rs",
            "a/z.txt",
            "a/b/c/z.txt",
            "x/a.md",
            "ab.md",
            "home/id_rsa",
            "id_dsa",
            "id_ecdsa",
            "config/secrets.json",
            "svc/config/secrets.json",
            "a/private/x.json",
            "private/deep/x.json",
            "docs/a/notes",
            "docs/a/b/notes",
        ];
        for pattern in patterns {
            let ours = globs(&[pattern]);
            let mut builder = ignore::gitignore::GitignoreBuilder::new("");
            builder.add_line(None, pattern).unwrap();
            let git = builder.build().unwrap();
            for path in paths {
                assert_eq!(
                    ours.is_match(path),
                    git.matched_path_or_any_parents(path, false).is_ignore(),
                    "`{pattern}` on {path}"
                );
            }
        }
    }

    #[test]
    fn env_files_and_keys_are_secret() {
        let s = defaults();
        for path in [
            ".env",
            "app/.env",
            ".env.local",
            ".env.production",
            "certs/server.key",
            "home/.ssh/id_rsa",
            "config/secrets.json",
            "svc/config/secrets.json",
            "a/private/x.json",
        ] {
            assert!(s.matching_pattern(path).is_some(), "{path}");
        }
    }

    #[test]
    fn templates_and_lookalikes_are_not() {
        let s = defaults();
        for path in [
            ".env.example",
            "web/.env.sample",
            ".env.template",
            ".env.dist",
            ".env.local.example",
            "environment.ts",
            "src/env.rs",
            "keys.rs",
            "config/secrets.json.example",
            "private/deep/x.json",
            "id_rsa.pub",
            "monkey.txt",
        ] {
            assert_eq!(s.matching_pattern(path), None, "{path}");
        }
    }

    #[test]
    fn config_replaces_extends_and_allows() {
        let config = SecretFilesConfig {
            patterns: Some(vec!["*.secret".into()]),
            extra: vec!["/deploy/creds.yml".into()],
            allow: vec!["fixtures/*.secret".into()],
        };
        let s = SecretFiles::from_config(&config).unwrap();
        assert!(s.matching_pattern(".env").is_none());
        assert_eq!(s.matching_pattern("a/b.secret"), Some("*.secret"));
        assert!(s.matching_pattern("deploy/creds.yml").is_some());
        assert!(s.matching_pattern("x/deploy/creds.yml").is_none());
        assert!(
            s.matching_pattern("app/fixtures/b.secret").is_some(),
            "a glob with / is anchored"
        );
        assert!(s.matching_pattern("fixtures/b.secret").is_none());
    }

    #[test]
    fn a_file_moved_out_of_an_allowed_path_is_scanned_whole() {
        let mut config = Config::default();
        config.allow.paths = vec!["fixtures/".into()];
        let policy = PathPolicy::from_config(&config).unwrap();
        assert!(policy.is_allowed("fixtures/keys.txt"));
        assert!(policy.scans_whole(Some("fixtures/keys.txt")));
        assert!(!policy.scans_whole(Some("src/keys.txt")));
        assert!(!policy.scans_whole(None));
    }

    #[test]
    fn test_and_vendored_folders_give_their_prefix() {
        assert_eq!(
            test_or_vendored("pkg/x/testdata/key.pem"),
            Some((CodeKind::Test, "pkg/x/testdata/"))
        );
        assert_eq!(
            test_or_vendored("vendor/github.com/a/tests/k.go"),
            Some((CodeKind::Vendored, "vendor/"))
        );
        assert_eq!(test_or_vendored("src/tests.rs"), None);
        assert_eq!(test_or_vendored("tests"), None);
        assert_eq!(test_or_vendored("src/contest/a.py"), None);
    }

    #[test]
    fn the_required_literal_is_in_every_match() {
        assert_eq!(longest_literal("**/.env.*"), "/.env.");
        assert_eq!(longest_literal("**/private/*.json"), "/private/");
        assert_eq!(
            longest_literal("src/[abc]x/{one,two}/file.txt"),
            "/file.txt"
        );
        assert_eq!(longest_literal("**/*"), "/");
        assert_eq!(longest_literal("a\\*b"), "*b");
        // Differential: the lazily compiled globs agree with globset's set.
        let patterns: Vec<String> = [
            "*.key",
            ".env",
            ".env.*",
            "**/private/*.json",
            "config/secrets.json",
            "vendor/",
            "/docs/*.md",
            "a/**/b",
            "src/[ab]*.rs",
            "{x,y}.pem",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        let lazy = PathGlobs::new(&patterns).unwrap();
        let mut set = globset::GlobSetBuilder::new();
        for p in &patterns {
            set.add(
                GlobBuilder::new(&anchor(p))
                    .literal_separator(true)
                    .build()
                    .unwrap(),
            );
        }
        let set = set.build().unwrap();
        for path in [
            "a.key",
            "x/a.key",
            ".env",
            "app/.env",
            "app/.env.prod",
            "private/a.json",
            "x/private/a.json",
            "config/secrets.json",
            "x/config/secrets.json",
            "vendor/a.go",
            "docs/a.md",
            "x/docs/a.md",
            "a/b",
            "a/x/y/b",
            "src/a1.rs",
            "src/c.rs",
            "x.pem",
            "z/y.pem",
            "README.md",
        ] {
            assert_eq!(
                lazy.first_match(path),
                set.matches(path).into_iter().min(),
                "{path}"
            );
        }
    }
}
