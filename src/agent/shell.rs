//! The files a shell command names: those whose content it would read
//! (`cat .env`, `grep KEY .env`, `< id_rsa`) and those it would write
//! (`> out`, `>> .env`, `tee file`), and which lines of the command each
//! simple command spans. The command's text itself is scanned by the
//! detector like any other text; this tells which named files a
//! secrets-file name would make a read to block, and where a secret on a
//! line goes (`echo KEY=… >> .env` puts it in `.env`).
//!
//! A small POSIX-shell word splitter, not a shell: quotes and backslashes
//! are honoured, heredoc bodies are skipped (they are content, scanned as
//! text, and belong to the command that opened them), and `$(…)`,
//! backticks, pipes and `;`/`&&`/`||` start new commands. A word it cannot
//! place is judged as a read: a false block says what to allow, a missed
//! read says nothing.

use std::ops::RangeInclusive;

/// The files a command names, as written (unquoted).
#[derive(Debug, Default, PartialEq)]
pub struct NamedFiles {
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    /// Each simple command, in order.
    pub commands: Vec<SimpleCommand>,
}

/// One simple command (`echo A=1 >> .env`): what runs, what it writes,
/// and the lines of the command text it spans, heredoc bodies included.
#[derive(Debug, PartialEq)]
pub struct SimpleCommand {
    /// The program's name (`cat`, not `/bin/cat`), after `sudo` and
    /// variable assignments; empty when there is none.
    pub program: String,
    pub writes: Vec<String>,
    pub lines: RangeInclusive<u32>,
}

/// Programs that only copy their arguments or a heredoc into the files
/// they write: a secret on their lines goes where the redirection says.
pub const FILE_WRITERS: &[&str] = &["echo", "printf", "cat", "tee"];

impl NamedFiles {
    /// The simple commands on `line` of the command text.
    pub fn commands_on(&self, line: u32) -> impl Iterator<Item = &SimpleCommand> {
        self.commands
            .iter()
            .filter(move |command| command.lines.contains(&line))
    }
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
    /// The heredoc bodies opened on the line before end here: they belong
    /// to the command that opened them.
    HeredocEnd,
}

/// One simple command being read.
#[derive(Default)]
struct Pending {
    words: Vec<String>,
    writes: Vec<String>,
    lines: Option<(u32, u32)>,
}

/// The files `command` would read or write.
pub fn named_files(command: &str) -> NamedFiles {
    let mut files = NamedFiles::default();
    let mut pending = Pending::default();
    let mut next_is = None::<bool>; // Some(true): write target; Some(false): read target
    let flush = |pending: &mut Pending, files: &mut NamedFiles| {
        let Pending {
            words,
            writes,
            lines,
        } = std::mem::take(pending);
        if let Some((first, last)) = lines {
            let (program, tee_writes) = judge_command(words, files);
            let mut writes = writes;
            writes.extend(tee_writes);
            files.writes.extend(writes.iter().cloned());
            files.commands.push(SimpleCommand {
                program,
                writes,
                lines: first..=last,
            });
        }
    };
    for (token, line) in tokenize(command) {
        if !matches!(token, Token::Separator | Token::HeredocEnd) {
            let (first, _) = pending.lines.unwrap_or((line, line));
            pending.lines = Some((first, line));
        }
        match token {
            Token::Word(word) => match next_is.take() {
                Some(true) => pending.writes.push(word),
                Some(false) => files.reads.push(word),
                None => pending.words.push(word),
            },
            Token::RedirectOut => next_is = Some(true),
            Token::RedirectIn => next_is = Some(false),
            Token::Separator => flush(&mut pending, &mut files),
            Token::HeredocEnd => {
                if let Some(opener) = files.commands.last_mut() {
                    opener.lines = *opener.lines.start()..=line;
                }
            }
        }
    }
    flush(&mut pending, &mut files);
    files
}

/// Sorts one simple command's words into reads; returns its program and
/// the files it writes by argument (`tee`'s).
fn judge_command(words: Vec<String>, files: &mut NamedFiles) -> (String, Vec<String>) {
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
    let mut writes = Vec::new();
    let Some(program) = words.next() else {
        return (String::new(), writes);
    };
    let name = program.rsplit('/').next().unwrap_or(&program).to_string();
    if NOT_READING.contains(&name.as_str()) {
        return (name, writes);
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
            writes.push(value);
        } else {
            files.reads.push(value);
        }
    }
    (name, writes)
}

/// The characters of a command, counting lines (1-based) as it goes.
struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
}

impl Cursor<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.next();
        if c == Some('\n') {
            self.line += 1;
        }
        c
    }

    fn peek(&mut self) -> Option<&char> {
        self.chars.peek()
    }
}

/// The tokens of `command`, each with the line it ends on.
fn tokenize(command: &str) -> Vec<(Token, u32)> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    let mut chars = Cursor {
        chars: command.chars().peekable(),
        line: 1,
    };
    let end_word = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<(Token, u32)>, line| {
        if *in_word {
            tokens.push((Token::Word(std::mem::take(word)), line));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        let line = chars.line;
        match c {
            '\'' => {
                in_word = true;
                while let Some(c) = chars.next() {
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
            ' ' | '\t' => end_word(&mut word, &mut in_word, &mut tokens, line),
            '\n' => {
                end_word(&mut word, &mut in_word, &mut tokens, line - 1);
                tokens.push((Token::Separator, line - 1));
                // The bodies of the heredocs opened on this line.
                if heredocs.is_empty() {
                    continue;
                }
                for (delimiter, strip_tabs) in heredocs.drain(..) {
                    let mut body_line = String::new();
                    loop {
                        match chars.next() {
                            None => break,
                            Some('\n') => {
                                let candidate = if strip_tabs {
                                    body_line.trim_start_matches('\t')
                                } else {
                                    &body_line
                                };
                                if candidate == delimiter {
                                    break;
                                }
                                body_line.clear();
                            }
                            Some(c) => body_line.push(c),
                        }
                    }
                }
                // The delimiter's line, whether or not a newline ended it.
                let last = if command.ends_with('\n') || chars.peek().is_some() {
                    chars.line - 1
                } else {
                    chars.line
                };
                tokens.push((Token::HeredocEnd, last));
            }
            '|' | ';' | '&' | '(' | ')' | '`' => {
                // `&>` writes, and so does `>&`: handled with `>` below.
                if c == '&' && chars.peek() == Some(&'>') {
                    end_word(&mut word, &mut in_word, &mut tokens, line);
                    chars.next();
                    if chars.peek() == Some(&'>') {
                        chars.next();
                    }
                    tokens.push((Token::RedirectOut, line));
                    continue;
                }
                end_word(&mut word, &mut in_word, &mut tokens, line);
                tokens.push((Token::Separator, line));
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                end_word(&mut word, &mut in_word, &mut tokens, line);
                tokens.push((Token::Separator, line));
            }
            '>' => {
                // `2>`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                end_word(&mut word, &mut in_word, &mut tokens, line);
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
                tokens.push((Token::RedirectOut, line));
            }
            '<' => {
                end_word(&mut word, &mut in_word, &mut tokens, line);
                match chars.peek() {
                    Some('<') => {
                        chars.next();
                        // `<<<` is a here-string: its word is content.
                        if chars.peek() == Some(&'<') {
                            chars.next();
                            heredoc_delimiter(&mut chars);
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
                    _ => tokens.push((Token::RedirectIn, line)),
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut tokens, chars.line);
    tokens
}

/// The word after `<<` (or `<<<`): blanks skipped, quotes removed.
fn heredoc_delimiter(chars: &mut Cursor) -> String {
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
    fn each_simple_command_knows_its_lines_and_writes() {
        let command = "cd app && echo A=1 >> .env\ncat > .env.local <<EOF\nB=2\nC=3\nEOF\ncurl -s x | tee out";
        let files = named_files(command);
        let commands: Vec<(&str, Vec<&str>, (u32, u32))> = files
            .commands
            .iter()
            .map(|c| {
                let writes = c.writes.iter().map(String::as_str).collect();
                (
                    c.program.as_str(),
                    writes,
                    (*c.lines.start(), *c.lines.end()),
                )
            })
            .collect();
        assert_eq!(
            commands,
            [
                ("cd", vec![], (1, 1)),
                ("echo", vec![".env"], (1, 1)),
                ("cat", vec![".env.local"], (2, 5)),
                ("curl", vec![], (6, 6)),
                ("tee", vec!["out"], (6, 6)),
            ]
        );
        let files = named_files(command);
        assert_eq!(
            files
                .commands_on(4)
                .map(|c| c.program.as_str())
                .collect::<Vec<_>>(),
            ["cat"]
        );
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
