//! The streams of one run and what every subcommand does with them: data
//! on stdout; log lines and every prompt on stderr (as `getpass` does), so
//! that stdout stays data even when a question is asked.

use std::io::{BufRead, Write};

use super::log::Level;
use crate::output::Format;

/// The streams of one run, as the host handed them over.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
    /// Whether a person may be typing (then what they type shows, unless
    /// the host hides it).
    pub stdin_is_terminal: bool,
}

/// The token prompt. The launcher switches echo off after a stderr write
/// that ends with exactly this text (no other prompt does).
pub const SECRET_PROMPT: &str = "Token: ";

/// A question for the person at the terminal, shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt<'p> {
    /// The answer may be echoed.
    Line(&'p str),
    /// [`SECRET_PROMPT`]: the launcher switches terminal echo off (a
    /// component cannot) after a stderr write that ends with it.
    Secret(&'p str),
}

/// The answer to a yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Standard input ended before an answer.
    Ended,
}

/// Exit codes (usage errors exit 2 through clap).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILURE: i32 = 1;

pub struct Console<'io, 'a> {
    io: &'io mut Io<'a>,
    level: Level,
    pub format: Format,
}

impl<'io, 'a> Console<'io, 'a> {
    pub fn new(io: &'io mut Io<'a>, level: Level, format: Format) -> Self {
        Console { io, level, format }
    }

    /// A `[LEVEL] message` line on stderr, when the level lets it through.
    pub fn log(&mut self, level: Level, message: &str) {
        if level >= self.level {
            let _ = self
                .io
                .stderr
                .write_all(level.styled_line(message).as_bytes());
        }
    }

    /// Logs an error and returns the failure exit code.
    pub fn fail(&mut self, message: &str) -> i32 {
        self.log(Level::Error, message);
        EXIT_FAILURE
    }

    /// Data, on stdout.
    pub fn print(&mut self, text: &str) {
        let _ = self.io.stdout.write_all(text.as_bytes());
    }

    /// A note for people that must not mix with data on stdout.
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.io.stderr, "{text}");
    }

    pub fn stdout_is_terminal(&self) -> bool {
        self.io.stdout_is_terminal
    }

    pub fn stdin_is_terminal(&self) -> bool {
        self.io.stdin_is_terminal
    }

    /// A line from stdin after the prompt; `None` at end of input.
    pub fn ask(&mut self, prompt: Prompt<'_>) -> Option<String> {
        let text = match prompt {
            Prompt::Line(text) | Prompt::Secret(text) => text.trim_end_matches('\n'),
        };
        // Names in a prompt come from files and flags: no control reaches
        // the terminal.
        let text = crate::sanitize::escape_controls(text);
        let _ = self.io.stdout.flush();
        let _ = self.io.stderr.write_all(text.as_bytes());
        let _ = self.io.stderr.flush();
        let mut line = String::new();
        let answer = match self.io.stdin.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => line.trim_end_matches(['\n', '\r']).to_string(),
        };
        // On a terminal the typed Enter ends the prompt's line; an answer
        // from a pipe shows nothing, so the line is ended here and the next
        // log line starts on a line of its own.
        if !self.io.stdin_is_terminal {
            let _ = self.io.stderr.write_all(b"\n");
        }
        Some(answer)
    }

    /// The reference's `ask(title, "y", "n", default="n")`: yes only for
    /// y/Y; an empty line means no; the end of input is said apart.
    pub fn confirm(&mut self, title: &str) -> Answer {
        loop {
            let Some(answer) = self.ask(Prompt::Line(&format!("{title} [y/N] "))) else {
                // The prompt's line was never ended.
                self.note("");
                return Answer::Ended;
            };
            match answer.trim().to_lowercase().as_str() {
                "y" => return Answer::Yes,
                "" | "n" => return Answer::No,
                _ => self.note("Please answer one of: y, n"),
            }
        }
    }

    /// A yes/no question that `-y/--force` answers: `Ok(())` for yes; else
    /// says `Aborted.` (and, at the end of input, that the flag answers it)
    /// and returns the exit code.
    pub fn confirm_or_abort(&mut self, title: &str, what: &str) -> Result<(), i32> {
        match self.confirm(title) {
            Answer::Yes => Ok(()),
            Answer::No => {
                self.note("Aborted.");
                Err(EXIT_FAILURE)
            }
            Answer::Ended => Err(self.fail(&format!(
                "Aborted. Standard input ended at the '{title}' question: pass -y/--force to {what} without asking"
            ))),
        }
    }

    /// The one line for a prompt that met the end of input: which flag or
    /// variable gives the value instead.
    pub fn ended_at(&mut self, prompt: &str, instead: &str) -> i32 {
        self.note("");
        self.fail(&format!(
            "Standard input ended at the '{}' prompt: {instead}",
            prompt.trim_end().trim_end_matches(':')
        ))
    }

    /// All of stdin (for `--token-stdin`); `None` when it is not UTF-8.
    pub fn read_stdin(&mut self) -> Option<String> {
        let mut text = String::new();
        self.io.stdin.read_to_string(&mut text).ok().map(|_| text)
    }

    pub fn flush(&mut self) {
        let _ = self.io.stdout.flush();
        let _ = self.io.stderr.flush();
    }
}
