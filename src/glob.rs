//! Path globs, `.gitignore`-style, matched without compiling anything.
//!
//! globset builds regexes for most globs, which costs the hook a third of a
//! millisecond on every commit for a dozen secret-file names. The globs
//! people write here are simple (`*`, `?`, `**`, literals), so they are
//! matched directly; anything fancier (`[...]`, `{a,b}`) goes to globset.

use anyhow::{Context, Result};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A list of globs, each anchored as [`anchor`] describes.
pub struct PathGlobs {
    /// Simple globs, anchored, with the longest literal run each requires
    /// (a cheap test that rules most paths out before matching) and the
    /// index of the pattern they came from.
    simple: Vec<(Vec<Token>, Vec<u8>, usize)>,
    /// The rest, compiled by globset, and their pattern indexes.
    complex: Option<(GlobSet, Vec<usize>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(u8),
    /// `?`: one byte other than `/`.
    One,
    /// `*`: any run of bytes without `/`.
    Star,
    /// `**/`: zero or more whole folders.
    AnyFolders,
    /// `/**` at the end: everything below.
    AnyBelow,
}

impl PathGlobs {
    pub fn new(patterns: &[String]) -> Result<PathGlobs> {
        let mut simple = Vec::new();
        let mut complex_builder = GlobSetBuilder::new();
        let mut complex_indexes = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let anchored = anchor(pattern);
            if anchored
                .bytes()
                .any(|b| matches!(b, b'[' | b']' | b'{' | b'}' | b'\\'))
            {
                let glob = GlobBuilder::new(&anchored)
                    .literal_separator(true)
                    .build()
                    .with_context(|| format!("invalid path glob `{pattern}`"))?;
                complex_builder.add(glob);
                complex_indexes.push(index);
            } else {
                let tokens = tokenize(&anchored);
                let required = longest_literal(&tokens);
                simple.push((tokens, required, index));
            }
        }
        let complex = if complex_indexes.is_empty() {
            None
        } else {
            Some((
                complex_builder
                    .build()
                    .context("cannot compile path globs")?,
                complex_indexes,
            ))
        };
        Ok(PathGlobs { simple, complex })
    }

    pub fn is_match(&self, path: &str) -> bool {
        self.first_match(path).is_some()
    }

    /// The index of the first pattern (in the order given) matching `path`.
    pub fn first_match(&self, path: &str) -> Option<usize> {
        let bytes = path.as_bytes();
        let simple = self
            .simple
            .iter()
            .find(|(tokens, required, _)| {
                (required.is_empty() || memchr::memmem::find(bytes, required).is_some())
                    && matches(tokens, bytes)
            })
            .map(|(_, _, i)| *i);
        let complex = self
            .complex
            .as_ref()
            .and_then(|(set, indexes)| set.matches(path).first().map(|&i| indexes[i]));
        match (simple, complex) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
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

fn tokenize(glob: &str) -> Vec<Token> {
    let bytes = glob.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"**/") && (i == 0 || bytes[i - 1] == b'/') {
            tokens.push(Token::AnyFolders);
            i += 3;
        } else if &bytes[i..] == b"/**" {
            tokens.push(Token::AnyBelow);
            i += 3;
        } else if bytes[i..].starts_with(b"**") {
            // `**` elsewhere behaves like `*` in gitignore.
            tokens.push(Token::Star);
            i += 2;
        } else {
            tokens.push(match bytes[i] {
                b'*' => Token::Star,
                b'?' => Token::One,
                b => Token::Literal(b),
            });
            i += 1;
        }
    }
    tokens
}

/// The longest run of literal bytes in a glob: every match contains it.
fn longest_literal(tokens: &[Token]) -> Vec<u8> {
    let mut best = Vec::new();
    let mut run = Vec::new();
    for token in tokens {
        match token {
            Token::Literal(b) => run.push(*b),
            _ => {
                if run.len() > best.len() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
        }
    }
    if run.len() > best.len() {
        best = run;
    }
    best
}

/// Backtracking match; paths and globs are short.
fn matches(tokens: &[Token], path: &[u8]) -> bool {
    match tokens.split_first() {
        None => path.is_empty(),
        Some((Token::Literal(b), rest)) => path.first() == Some(b) && matches(rest, &path[1..]),
        Some((Token::One, rest)) => {
            path.first().is_some_and(|&b| b != b'/') && matches(rest, &path[1..])
        }
        Some((Token::Star, rest)) => {
            let run = path.iter().take_while(|&&b| b != b'/').count();
            (0..=run).any(|n| matches(rest, &path[n..]))
        }
        Some((Token::AnyFolders, rest)) => {
            // Zero folders, or skip through each `/` in turn.
            matches(rest, path)
                || path
                    .iter()
                    .enumerate()
                    .any(|(i, &b)| b == b'/' && matches(rest, &path[i + 1..]))
        }
        Some((Token::AnyBelow, rest)) => {
            debug_assert!(rest.is_empty());
            path.is_empty() || path.first() == Some(&b'/')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> PathGlobs {
        PathGlobs::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
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
    fn agrees_with_globset_on_fancy_globs() {
        let g = globs(&["*.{pem,key}", "id_[rd]sa"]);
        assert!(g.is_match("certs/a.pem"));
        assert!(g.is_match("b.key"));
        assert!(g.is_match("home/id_rsa"));
        assert!(!g.is_match("id_ecdsa"));
        assert_eq!(
            globs(&["*.py", "*.{pem,key}"]).first_match("a.key"),
            Some(1)
        );
    }
}
