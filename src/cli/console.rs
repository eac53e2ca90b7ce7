//! The streams of one run and what every subcommand does with them: log
//! lines and secret prompts on stderr, data and plain prompts on stdout.

use std::io::{BufRead, Write};

use super::log::Level;
use crate::output::Format;

/// The streams of one run, as the host handed them over.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub stdout_is_terminal: bool,
}

/// A question for the person at the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt<'p> {
    /// Shown on stdout; the answer may be echoed.
    Line(&'p str),
    /// Shown on stderr, and the only stderr text without a trailing newline:
    /// that is how the launcher knows to switch terminal echo off (a
    /// component cannot) while the answer is typed. Log lines always end
    /// with a newline.
    Secret(&'p str),
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
            let _ = self.io.stderr.write_all(level.line(message).as_bytes());
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

    /// A line from stdin after the prompt; `None` at end of input.
    pub fn ask(&mut self, prompt: Prompt<'_>) -> Option<String> {
        let (stream, text): (&mut dyn Write, _) = match prompt {
            Prompt::Line(text) => (self.io.stdout, text),
            Prompt::Secret(text) => (self.io.stderr, text.trim_end_matches('\n')),
        };
        let _ = stream.write_all(text.as_bytes());
        let _ = stream.flush();
        let mut line = String::new();
        match self.io.stdin.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    }

    /// The reference's `ask(title, "y", "n", default="n")`: true only for
    /// y/Y; an empty line or the end of input means no.
    pub fn confirm(&mut self, title: &str) -> bool {
        loop {
            let Some(answer) = self.ask(Prompt::Line(&format!("{title} [y/N] "))) else {
                return false;
            };
            match answer.trim().to_lowercase().as_str() {
                "y" => return true,
                "" | "n" => return false,
                _ => self.print("Please answer one of: y, n\n"),
            }
        }
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
