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
}
