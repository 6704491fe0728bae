//! The files a shell command names: those whose content it would read
//! (`cat .env`, `grep KEY .env`, `< id_rsa`) and those it would write
//! (`> out`, `>> .env`, `tee file`). The command's text itself is scanned by
//! the detector like any other text; this only tells which named files a
//! secrets-file name would make a read to block.
//!
//! A small POSIX-shell word splitter, not a shell: quotes and backslashes
//! are honoured, heredoc bodies are skipped (they are content, scanned as
//! text), and `$(…)`, backticks, pipes and `;`/`&&`/`||` start new
//! commands. A word it cannot place is judged as a read: a false block
//! says what to allow, a missed read says nothing.

/// The files a command names, as written (unquoted).
#[derive(Debug, Default, PartialEq)]
pub struct NamedFiles {
    pub reads: Vec<String>,
    pub writes: Vec<String>,
}

/// Commands that take file names without printing their content: their
/// arguments are not reads. (`source .env` loads it into the shell's
/// environment, which the agent does not see unless another command
/// prints it.)
const NOT_READING: &[&str] = &[
    "rm", "rmdir", "touch", "ls", "stat", "chmod", "chown", "mkdir", "test", "[", "echo", "printf",
    "cd", "which", "mv", "ln", "git", "source", ".", "export", "unset", "true", "false",
];

/// Words that run the next word as the command.
const PREFIXES: &[&str] = &[
    "sudo", "env", "command", "exec", "time", "nohup", "nice", "xargs",
];

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    /// `>`, `>>`, `&>`, `2>`, `>|`: the next word is written.
    RedirectOut,
    /// `<`: the next word is read.
    RedirectIn,
    /// `|`, `;`, `&`, `&&`, `||`, `(`, `)`, `$(`, a backtick, a newline.
    Separator,
}

/// The files `command` would read or write.
pub fn named_files(command: &str) -> NamedFiles {
    let mut files = NamedFiles::default();
    let mut words: Vec<String> = Vec::new();
    let mut next_is = None::<bool>; // Some(true): write target; Some(false): read target
    let tokens = tokenize(command);
    let flush = |words: &mut Vec<String>, files: &mut NamedFiles| {
        judge_command(std::mem::take(words), files);
    };
    for token in tokens {
        match token {
            Token::Word(word) => match next_is.take() {
                Some(true) => files.writes.push(word),
                Some(false) => files.reads.push(word),
                None => words.push(word),
            },
            Token::RedirectOut => next_is = Some(true),
            Token::RedirectIn => next_is = Some(false),
            Token::Separator => flush(&mut words, &mut files),
        }
    }
    flush(&mut words, &mut files);
    files
}

/// Sorts one simple command's words into reads and writes.
fn judge_command(words: Vec<String>, files: &mut NamedFiles) {
    let mut words = words.into_iter().peekable();
    // Variable assignments and prefixes (`FOO=1 sudo cat x`) come first.
    while let Some(word) = words.peek() {
        let is_assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if is_assignment || PREFIXES.contains(&word.as_str()) {
            words.next();
        } else {
            break;
        }
    }
    let Some(program) = words.next() else {
        return;
    };
    let name = program.rsplit('/').next().unwrap_or(&program);
    if NOT_READING.contains(&name) {
        return;
    }
    let is_tee = name == "tee";
    for word in words {
        // `--env-file=.env`: the value is the file.
        let value = match word.strip_prefix('-') {
            Some(option) => match option.split_once('=') {
                Some((_, value)) => value.to_string(),
                None => continue,
            },
            None => word,
        };
        if is_tee {
            files.writes.push(value);
        } else {
            files.reads.push(value);
        }
    }
}

fn tokenize(command: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    let mut chars = command.chars().peekable();
    let end_word = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(next) = chars.next() {
                                word.push(next);
                            }
                        }
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    if next != '\n' {
                        in_word = true;
                        word.push(next);
                    }
                }
            }
            ' ' | '\t' => end_word(&mut word, &mut in_word, &mut tokens),
            '\n' => {
                end_word(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Separator);
                // The bodies of the heredocs opened on this line.
                for (delimiter, strip_tabs) in heredocs.drain(..) {
                    let mut line = String::new();
                    loop {
                        match chars.next() {
                            None => break,
                            Some('\n') => {
                                let candidate = if strip_tabs {
                                    line.trim_start_matches('\t')
                                } else {
                                    &line
                                };
                                if candidate == delimiter {
                                    break;
                                }
                                line.clear();
                            }
                            Some(c) => line.push(c),
                        }
                    }
                }
            }
            '|' | ';' | '&' | '(' | ')' | '`' => {
                // `&>` writes, and so does `>&`: handled with `>` below.
                if c == '&' && chars.peek() == Some(&'>') {
                    end_word(&mut word, &mut in_word, &mut tokens);
                    chars.next();
                    if chars.peek() == Some(&'>') {
                        chars.next();
                    }
                    tokens.push(Token::RedirectOut);
                    continue;
                }
                end_word(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Separator);
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                end_word(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Separator);
            }
            '>' => {
                // `2>`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                end_word(&mut word, &mut in_word, &mut tokens);
                match chars.peek() {
                    Some('>') | Some('|') => {
                        chars.next();
                    }
                    // `>&2`: a descriptor, not a file.
                    Some('&') => {
                        chars.next();
                        while chars
                            .peek()
                            .is_some_and(|c| c.is_ascii_digit() || *c == '-')
                        {
                            chars.next();
                        }
                        continue;
                    }
                    // `>(…)`: process substitution.
                    Some('(') => continue,
                    _ => {}
                }
                tokens.push(Token::RedirectOut);
            }
            '<' => {
                end_word(&mut word, &mut in_word, &mut tokens);
                match chars.peek() {
                    Some('<') => {
                        chars.next();
                        // `<<<` is a here-string: its word is content.
                        if chars.peek() == Some(&'<') {
                            chars.next();
                            skip_word(&mut chars);
                            continue;
                        }
                        let strip_tabs = chars.peek() == Some(&'-');
                        if strip_tabs {
                            chars.next();
                        }
                        let delimiter = heredoc_delimiter(&mut chars);
                        heredocs.push((delimiter, strip_tabs));
                    }
                    Some('(') => continue,
                    _ => tokens.push(Token::RedirectIn),
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut tokens);
    tokens
}

/// Skips blanks, then one word (quotes removed).
fn skip_word(chars: &mut std::iter::Peekable<std::str::Chars>) {
    heredoc_delimiter(chars);
}

/// The delimiter after `<<`: blanks skipped, quotes removed.
fn heredoc_delimiter(chars: &mut std::iter::Peekable<std::str::Chars>) -> String {
    while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
        chars.next();
    }
    let mut delimiter = String::new();
    while let Some(&c) = chars.peek() {
        match c {
            '\'' | '"' | '\\' => {
                chars.next();
            }
            ' ' | '\t' | '\n' | ';' | '|' | '&' | '>' | '<' | ')' => break,
            _ => {
                delimiter.push(c);
                chars.next();
            }
        }
    }
    delimiter
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(command: &str) -> Vec<String> {
        named_files(command).reads
    }

    fn writes(command: &str) -> Vec<String> {
        named_files(command).writes
    }

    #[test]
    fn reading_commands_read_their_arguments() {
        assert_eq!(reads("cat .env"), [".env"]);
        assert_eq!(reads("grep -n KEY 'config/.env'"), ["KEY", "config/.env"]);
        assert_eq!(
            reads("sudo FOO=1 cat ~/.ssh/id_rsa | head -1"),
            ["~/.ssh/id_rsa"]
        );
        assert_eq!(
            reads("docker run --env-file=.env img"),
            ["run", ".env", "img"]
        );
        assert_eq!(reads("echo $(cat .env)"), [".env"]);
        assert_eq!(reads("wc -l < .env"), [".env"]);
    }

    #[test]
    fn commands_that_do_not_print_content_read_nothing() {
        assert!(reads("rm -f .env && ls -la .env").is_empty());
        assert!(reads("source .env; git add .env").is_empty());
    }

    #[test]
    fn redirections_and_tee_are_writes() {
        assert_eq!(writes("echo A=1 >> .env"), [".env"]);
        assert_eq!(
            writes("printf x > out.txt 2>/dev/null"),
            ["out.txt", "/dev/null"]
        );
        assert_eq!(writes("echo x | tee -a .env"), [".env"]);
        assert!(reads("echo x | tee -a .env").is_empty());
        assert!(writes("echo x >&2").is_empty());
    }

    #[test]
    fn heredoc_bodies_are_content_not_file_names() {
        let command = "cat > config.py <<'EOF'\nopen('.env')\nid_rsa\nEOF\ncat notes.txt";
        let files = named_files(command);
        assert_eq!(files.writes, ["config.py"]);
        assert_eq!(files.reads, ["notes.txt"]);
        let tabs = "cat <<-END > a\n\tx .env\n\tEND\n";
        assert_eq!(named_files(tabs).reads, Vec::<String>::new());
    }
}
