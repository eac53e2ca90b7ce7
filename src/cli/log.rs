//! `[LEVEL] message` lines on stderr, filtered by `-L/--log-level`.

use crate::sanitize::escape_controls;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// The name `-L/--log-level` takes.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    /// One whole stderr line, `[LEVEL] message\n`. Messages quote names,
    /// URLs and server text, so control characters and bidi overrides in
    /// them are escaped: no log line can write to the terminal (OSC 52,
    /// cursor moves), reorder itself, or forge a second line.
    pub fn line(self, message: &str) -> String {
        format!("[{}] {}\n", self.label(), escape_controls(message))
    }

    /// [`Level::line`] in the style of `contree auth`'s messages (issue 20
    /// item 3): no label twice (`[WARNING] Warning: ...`), and a first word
    /// in lower case (the core words errors for every face) starts with a
    /// capital.
    pub fn styled_line(self, message: &str) -> String {
        self.line(&capitalized(strip_label(message, self.label())))
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }
}

/// `message` without a leading `Label:` that repeats the level's label.
fn strip_label<'m>(message: &'m str, label: &str) -> &'m str {
    match message.split_once(": ") {
        Some((head, rest)) if head.eq_ignore_ascii_case(label) => rest,
        _ => message,
    }
}

/// The first letter in upper case when the first word is a plain lower-case
/// word (`profile 'x' does not exist`); paths, flags and names stay as they are.
fn capitalized(message: &str) -> std::borrow::Cow<'_, str> {
    let word = message.split(' ').next().unwrap_or("");
    if word.len() > 1 && word.bytes().all(|b| b.is_ascii_lowercase()) {
        let mut out = message.to_string();
        out[..1].make_ascii_uppercase();
        return out.into();
    }
    message.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_is_one_line_with_controls_escaped() {
        let message = "profile 'x': error: HTTP 401: \u{1b}]52;c;QQ==\u{7}\u{202e}\n[INFO] forged";
        let line = Level::Error.line(message);
        assert_eq!(
            line,
            "[ERROR] profile 'x': error: HTTP 401: \\x1b]52;c;QQ==\\x07\\u202e\\x0a[INFO] forged\n"
        );
        assert!(
            !line
                .trim_end_matches('\n')
                .chars()
                .any(crate::sanitize::is_unsafe)
        );
        assert_eq!(Level::Info.line("plain"), "[INFO] plain\n");
    }

    /// Issue 20 item 3: one style, whoever wrote the message.
    #[test]
    fn every_line_starts_with_a_capital_and_no_label_is_doubled() {
        assert_eq!(
            Level::Error.styled_line("profile 'nope' does not exist"),
            "[ERROR] Profile 'nope' does not exist\n"
        );
        assert_eq!(
            Level::Warning.styled_line("Warning: token is valid"),
            "[WARNING] Token is valid\n"
        );
        assert_eq!(
            Level::Error.styled_line("Error: cannot read"),
            "[ERROR] Cannot read\n"
        );
        for kept in [
            "/h/auth.ini: line 3: bad",
            "--check: 1 of 2",
            "auth.ini was created",
            "Saved",
        ] {
            assert_eq!(Level::Info.styled_line(kept), format!("[INFO] {kept}\n"));
        }
        assert_eq!(
            Level::Error.styled_line("x\u{1b}[2J"),
            "[ERROR] x\\x1b[2J\n"
        );
    }
}
